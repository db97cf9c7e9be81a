/* Unit tests: filesystem and memory stores, and the pool's deterministic error reporting. */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../api/check.h"
#include "store/store.h"

typedef struct names {
    char buf[4096];
} names;

static int collect(void *ctx, const char *name, int is_prefix)
{
    names *n = ctx;
    strcat(n->buf, name);
    strcat(n->buf, is_prefix ? "/;" : ";");
    return 0;
}

static bool has_name(const names *n, const char *item)
{
    char want[512];
    snprintf(want, sizeof want, "%s;", item);
    return strstr(n->buf, want) != NULL;
}

/* A value of 8 MiB or more is read in parts on the pool by the filesystem store: whole and
 * ranged reads, on 1 to 3 threads, give the stored bytes. */
static void test_large_value(zarrc_store *s)
{
    size_t big = ((size_t)9 << 20) + 12345;
    uint8_t *v = malloc(big);
    CHECK(v != NULL);
    if (!v)
        return;
    for (size_t i = 0; i < big; i++)
        v[i] = (uint8_t)(i * 2654435761u >> 13);
    CHECK_OK(zarrc_store_set(s, "big/value", v, big));
    for (int threads = 1; threads <= 3; threads++) {
        zarrc_set_num_threads(threads);
        void *d;
        size_t n;
        CHECK_OK(zarrc_store_get(&d, &n, s, "big/value"));
        CHECK_MSG(n == big && d && !memcmp(d, v, big), "whole large value on %d threads", threads);
        zarrc_free(d);
        CHECK_OK(zarrc_store_get_range(&d, &n, s, "big/value", 777, (int64_t)big - 1000));
        CHECK_MSG(n == big - 1000 && d && !memcmp(d, v + 777, n), "range of a large value on %d threads", threads);
        zarrc_free(d);
        CHECK_OK(zarrc_store_get_range(&d, &n, s, "big/value", -((int64_t)8 << 20) - 5, 0));
        CHECK_MSG(n == ((size_t)8 << 20) + 5 && d && !memcmp(d, v + big - n, n), "suffix on %d threads", threads);
        zarrc_free(d);
    }
    zarrc_set_num_threads(0);
    CHECK_OK(zarrc_store_erase(s, "big/value"));
    free(v);
}

static void test_store(const char *url)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, url, ZARRC_STORE_CREATE));
    if (!s)
        return;
    void *d;
    size_t n;
    CHECK(zarrc_store_get(&d, &n, s, "a/b") == ZARRC_ENOTFOUND);
    CHECK_OK(zarrc_store_set(s, "a/b", "0123456789", 10));
    CHECK_OK(zarrc_store_set(s, "a/c/d", "x", 1));
    CHECK_OK(zarrc_store_set(s, "a/c/e", "", 0));
    CHECK_OK(zarrc_store_set(s, "top", "t", 1));
    CHECK_OK(zarrc_store_get(&d, &n, s, "a/b"));
    CHECK(n == 10 && !memcmp(d, "0123456789", 10));
    zarrc_free(d);
    CHECK_OK(zarrc_store_get_range(&d, &n, s, "a/b", 2, 3));
    CHECK(n == 3 && !memcmp(d, "234", 3));
    zarrc_free(d);
    CHECK_OK(zarrc_store_get_range(&d, &n, s, "a/b", -4, 0));
    CHECK(n == 4 && !memcmp(d, "6789", 4));
    zarrc_free(d);
    CHECK_OK(zarrc_store_get_range(&d, &n, s, "a/b", 8, 100)); /* clipped */
    CHECK(n == 2);
    zarrc_free(d);
    CHECK_OK(zarrc_store_get(&d, &n, s, "a/c/e"));
    CHECK(n == 0);
    zarrc_free(d);
    uint64_t sz;
    CHECK_OK(zarrc_store_size(&sz, s, "a/b"));
    CHECK(sz == 10);
    /* Replace is whole. */
    CHECK_OK(zarrc_store_set(s, "a/b", "new", 3));
    CHECK_OK(zarrc_store_get(&d, &n, s, "a/b"));
    CHECK(n == 3 && !memcmp(d, "new", 3));
    zarrc_free(d);
    /* Conditional set. */
    CHECK(zarrc__store_set_if_absent(s, "a/b", "z", 1) == ZARRC_EEXISTS);
    CHECK_OK(zarrc__store_set_if_absent(s, "a/new", "z", 1));
    /* Listings. */
    names all = {""}, dir = {""}, sub = {""};
    CHECK_OK(zarrc_store_list(s, "a/", collect, &all));
    CHECK(has_name(&all, "a/b") && has_name(&all, "a/c/d") && has_name(&all, "a/c/e") && !strstr(all.buf, "top"));
    CHECK_OK(zarrc_store_list_dir(s, "", collect, &dir));
    CHECK(has_name(&dir, "a/") && has_name(&dir, "top") && !strstr(dir.buf, "zarrc-tmp"));
    CHECK_OK(zarrc_store_list_dir(s, "a/", collect, &sub));
    CHECK(has_name(&sub, "b") && has_name(&sub, "c/") && has_name(&sub, "new"));
    /* Keys may not escape the root. */
    if (!strncmp(url, "file", 4)) {
        CHECK_ERR(zarrc_store_set(s, "../evil", "x", 1), ZARRC_EINVAL, "invalid key");
        CHECK_ERR(zarrc_store_set(s, "a/./b", "x", 1), ZARRC_EINVAL, "invalid key");
        CHECK_ERR(zarrc_store_set(s, "/abs", "x", 1), ZARRC_EINVAL, "invalid key");
    }
    /* Erase and erase_prefix. */
    CHECK_OK(zarrc_store_erase(s, "a/c/d"));
    CHECK(zarrc_store_erase(s, "a/c/d") == ZARRC_ENOTFOUND);
    CHECK_OK(zarrc_store_erase_prefix(s, "a/"));
    CHECK(zarrc_store_get(&d, &n, s, "a/c/e") == ZARRC_ENOTFOUND);
    CHECK_OK(zarrc_store_get(&d, &n, s, "top"));
    zarrc_free(d);
    test_large_value(s);
    zarrc_store_free(s);
}

static int fail_at(void *ctx, size_t i)
{
    const size_t *bad = ctx;
    if (i == bad[0] || i == bad[1])
        return zarrc_error_set(ZARRC_ECORRUPT, "task %zu failed", i);
    return ZARRC_OK;
}

static int count_task(void *ctx, size_t i)
{
    __atomic_add_fetch((size_t *)ctx, i + 1, __ATOMIC_RELAXED);
    return ZARRC_OK;
}

static void test_pool(void)
{
    for (int threads = 1; threads <= 4; threads++) {
        zarrc_set_num_threads(threads);
        size_t sum = 0;
        CHECK_OK(zarrc__pool_run(1000, count_task, &sum));
        CHECK(sum == 1000 * 1001 / 2);
        size_t bad[2] = {700, 37};
        for (int rep = 0; rep < 20; rep++) {
            int rc = zarrc__pool_run(1000, fail_at, bad);
            CHECK(rc == ZARRC_ECORRUPT && !strcmp(zarrc_error_last(), "task 37 failed"));
        }
    }
    zarrc_set_num_threads(0);
}

int main(void)
{
    char dir[4096];
    const char *tmp = getenv("ZARRC_TEST_TMP");
    snprintf(dir, sizeof dir, "file://%s/store_test_%d", tmp ? tmp : "/tmp", (int)getpid());
    test_store(dir);
    test_store("memory://");
    test_pool();
    return check_report("unit.store_pool");
}
