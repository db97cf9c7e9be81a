/* API tests: no data destroyed by misuse. Copies onto or into themselves are refused by
 * canonical store locations; overwrite and delete remove only what belongs to the node
 * (ZARRC_FORCE for the rest) and erase chunks before metadata, checked against a store that
 * fails its Nth erase; pending creation, commit and resumed copies; copies of huge sparse
 * grids and of nodes with long paths; messages name the opened store; no v3 null fill values
 * or '__' names are written; a killed writer's longer lock file leaves no stale bytes. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "wrap_store.h"

/* ---- a store that fails its Nth erase ("fault://", over an inner memory store) ------------ */

WRAP_STORE_FORWARDERS(fw, fault_inner)
static long fault_erases, fault_at; /* fault_at = 0: never fail */

static int fs_erase_(void *state, const char *key)
{
    (void)state;
    if (fault_at && ++fault_erases == fault_at)
        return zarrc_error_set(ZARRC_EIO, "injected failure of erase %ld ('%s')", fault_at, key);
    return fw_erase(state, key);
}

typedef struct names {
    char **v;
    int n;
} names;

static int collect_all(void *ctx, const char *name, int is_prefix)
{
    names *l = ctx;
    if (is_prefix)
        return 0;
    l->v = realloc(l->v, (size_t)(l->n + 1) * sizeof *l->v);
    l->v[l->n++] = strdup(name);
    return 0;
}

static int cmp_desc(const void *a, const void *b) { return strcmp(*(char *const *)b, *(char *const *)a); }

/* Like many backends: removes one key after the other, here in reverse order, so that
 * "zarr.json" goes before "c/..." — a crash between them is what the node layer must survive. */
static int fs_erase_prefix_(void *state, const char *prefix)
{
    names l = {NULL, 0};
    int rc = zarrc_store_list(fault_inner, prefix, collect_all, &l);
    if (l.n > 1)
        qsort(l.v, (size_t)l.n, sizeof *l.v, cmp_desc);
    for (int i = 0; i < l.n; i++) {
        if (rc == 0) {
            rc = fs_erase_(state, l.v[i]);
            if (rc == ZARRC_ENOTFOUND)
                rc = 0;
        }
        free(l.v[i]);
    }
    free(l.v);
    return rc;
}

static const zarrc_store_type fault_store = {
    ZARRC_STORE_TYPE_VERSION, "fault", ZARRC_STORE_CAP_RANGE | ZARRC_STORE_CAP_LIST_DIR | ZARRC_STORE_CAP_WRITE,
    fw_open, fw_close, fw_get, NULL, fw_set, NULL, fs_erase_, fs_erase_prefix_, fw_list, fw_list_dir, fw_size,
    NULL,
};

/* ---- helpers ------------------------------------------------------------------------------ */

static zarrc_array *make(zarrc_store *s, const char *path, const char *dtype, int ndim, const int64_t *shape,
                         const int64_t *chunks, unsigned flags)
{
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = dtype;
    o.ndim = ndim;
    o.shape = shape;
    o.chunks = chunks;
    o.flags = flags;
    zarrc_array *a = NULL;
    int rc = zarrc_array_create(&a, s, path, &o);
    CHECK_MSG(rc == 0, "create '%s' (%s)", path, dtype);
    return a;
}

static int has_key(zarrc_store *s, const char *key)
{
    uint64_t n;
    return zarrc_store_size(&n, s, key) == ZARRC_OK;
}

static void put(zarrc_store *s, const char *key, const char *text) { CHECK_OK(zarrc_store_set(s, key, text, strlen(text))); }

/* ---- 1. copies onto or into themselves ---------------------------------------------------- */

static void test_identity(void)
{
    const char *base = getenv("ZARRC_TEST_TMP");
    char dir[PATH_MAX], p1[PATH_MAX + 32], p2[PATH_MAX + 32], link[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/misuse_identity_%ld", base ? base : "/tmp", (long)getpid());
    mkdir(base ? base : "/tmp", 0777);
    mkdir(dir, 0777);
    snprintf(p1, sizeof p1, "%s/a", dir);
    snprintf(p2, sizeof p2, "%s/a/../a/", dir);
    snprintf(link, sizeof link, "%s/link", dir);
    zarrc_store *s1, *s2, *s3, *sd, *m1, *m2;
    CHECK_OK(zarrc_store_open(&s1, p1, ZARRC_STORE_CREATE));
    CHECK_OK(zarrc_store_open(&s2, p2, 0));
    CHECK(symlink(p1, link) == 0);
    CHECK_OK(zarrc_store_open(&s3, link, 0));
    CHECK_OK(zarrc_store_open(&sd, dir, 0));
    int rel = -1;
    CHECK_OK(zarrc_node_overlap(&rel, s1, "", s2, ""));
    CHECK(rel == ZARRC_OVERLAP_SAME);
    CHECK_OK(zarrc_node_overlap(&rel, s1, "", s3, ""));
    CHECK(rel == ZARRC_OVERLAP_SAME);
    CHECK_OK(zarrc_node_overlap(&rel, sd, "a", s3, "/"));
    CHECK(rel == ZARRC_OVERLAP_SAME);
    CHECK_OK(zarrc_node_overlap(&rel, s1, "", sd, "a/copy"));
    CHECK(rel == ZARRC_OVERLAP_B_IN_A);
    CHECK_OK(zarrc_node_overlap(&rel, sd, "a/copy/x", s3, ""));
    CHECK(rel == ZARRC_OVERLAP_A_IN_B);
    CHECK_OK(zarrc_node_overlap(&rel, sd, "ab", s1, ""));
    CHECK(rel == ZARRC_OVERLAP_NONE);
    CHECK_OK(zarrc_store_open(&m1, "memory://", 0));
    CHECK_OK(zarrc_store_open(&m2, "memory://", 0));
    CHECK_OK(zarrc_node_overlap(&rel, m1, "", m2, ""));
    CHECK(rel == ZARRC_OVERLAP_NONE);
    CHECK_OK(zarrc_node_overlap(&rel, m1, "g", m1, "g/x"));
    CHECK(rel == ZARRC_OVERLAP_B_IN_A);

    /* zarrc_array_copy refuses a copy onto itself through another handle; the data stays. */
    int64_t shape[1] = {6}, chunks[1] = {2};
    zarrc_array *a = make(s1, "", "int32", 1, shape, chunks, 0), *b = NULL;
    int32_t v[6] = {1, 2, 3, 4, 5, 6}, w[6] = {0};
    int64_t st[1] = {0}, cn[1] = {6};
    CHECK_OK(zarrc_array_write(a, st, cn, NULL, v, sizeof v));
    CHECK_OK(zarrc_array_open(&b, s3, ""));
    CHECK_ERR(zarrc_array_copy(b, a, NULL, NULL), ZARRC_EINVAL, "the same array");
    CHECK_OK(zarrc_array_read(a, st, cn, NULL, w, sizeof w));
    CHECK(!memcmp(v, w, sizeof v));
    zarrc_array_free(a);
    zarrc_array_free(b);
    zarrc_store_free(s1);
    zarrc_store_free(s2);
    zarrc_store_free(s3);
    zarrc_store_free(m1);
    zarrc_store_free(m2);
    CHECK_OK(zarrc_node_delete(sd, "a"));
    unlink(link);
    zarrc_store_free(sd);
    rmdir(dir);
}

/* ---- 2. what belongs to a node ------------------------------------------------------------ */

static void test_foreign(void)
{
    zarrc_store *s;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    int64_t shape[1] = {4}, chunks[1] = {2}, st[1] = {0}, cn[1] = {4};
    int32_t v[4] = {7, 8, 9, 10};
    CHECK_OK(zarrc_group_create(s, "g", 3, NULL, 0));
    zarrc_array *a = make(s, "g/a", "int32", 1, shape, chunks, 0);
    CHECK_OK(zarrc_array_write(a, st, cn, NULL, v, sizeof v));
    zarrc_array_free(a);
    put(s, "g/notes.txt", "mine");
    put(s, "g/dir/x", "mine too");
    put(s, "g/.zarrc-lock", "");               /* zarrc's own files belong */
    put(s, "g/a/c/.zarrc-tmp.1.2", "partial");
    CHECK_ERR(zarrc_node_delete(s, "g"), ZARRC_ECONFLICT, "g/notes.txt");
    CHECK(strstr(zarrc_error_last(), "g/dir/x") && strstr(zarrc_error_last(), "nothing was deleted"));
    CHECK(has_key(s, "g/zarr.json") && has_key(s, "g/a/zarr.json") && has_key(s, "g/a/c/0") &&
          has_key(s, "g/notes.txt"));
    /* Overwriting the group's array is fine: nothing foreign below it. */
    a = make(s, "g/a", "int16", 1, shape, chunks, ZARRC_OVERWRITE);
    zarrc_array_free(a);
    CHECK(!has_key(s, "g/a/c/0") && !has_key(s, "g/a/c/.zarrc-tmp.1.2") && has_key(s, "g/notes.txt"));
    /* A stray file inside an array's chunk directory refuses an overwrite. */
    put(s, "g/a/c/README", "x");
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "int8";
    o.ndim = 1;
    o.shape = shape;
    o.flags = ZARRC_OVERWRITE;
    CHECK_ERR(zarrc_array_create(NULL, s, "g/a", &o), ZARRC_ECONFLICT, "g/a/c/README");
    CHECK(has_key(s, "g/a/zarr.json") && has_key(s, "g/a/c/README"));
    CHECK_OK(zarrc_node_delete_flags(s, "g", ZARRC_FORCE));
    CHECK(!has_key(s, "g/zarr.json") && !has_key(s, "g/notes.txt") && !has_key(s, "g/dir/x") &&
          !has_key(s, "g/a/c/README") && !has_key(s, "g/.zarrc-lock"));

    /* A directory with a thesis and no metadata is not wiped by an overwrite. */
    put(s, "t/thesis.tex", "\\documentclass{article}");
    CHECK_ERR(zarrc_array_create(NULL, s, "t", &o), ZARRC_ECONFLICT, "t/thesis.tex");
    CHECK_OK(zarrc_group_create(s, "t2/x", 3, NULL, 0)); /* unrelated: fine */
    CHECK(has_key(s, "t/thesis.tex") && !has_key(s, "t/zarr.json"));
    o.flags = ZARRC_OVERWRITE | ZARRC_FORCE;
    CHECK_OK(zarrc_array_create(NULL, s, "t", &o));
    CHECK(!has_key(s, "t/thesis.tex") && has_key(s, "t/zarr.json"));

    /* Leftover chunk keys without metadata: a plain create refuses, an overwrite removes them. */
    put(s, "l/c/1", "old bytes");
    o.flags = 0;
    CHECK_ERR(zarrc_array_create(NULL, s, "l", &o), ZARRC_ECONFLICT, "chunk keys");
    CHECK(!has_key(s, "l/zarr.json"));
    o.flags = ZARRC_OVERWRITE;
    CHECK_OK(zarrc_array_create(NULL, s, "l", &o));
    CHECK(!has_key(s, "l/c/1"));
    /* Deleting what is not a node. */
    CHECK_ERR(zarrc_node_delete(s, "nothing"), ZARRC_ENOTFOUND, "nothing");
    zarrc_store_free(s);
}

/* ---- 3. interrupted overwrites never expose old chunks through new metadata ---------------- */

static void test_erase_order(void)
{
    CHECK_OK(zarrc_store_register(&fault_store));
    int64_t shape[1] = {64}, chunks[1] = {4}, st[1] = {0}, cn[1] = {64};
    int32_t old[64];
    for (int i = 0; i < 64; i++)
        old[i] = 0x41424344 + i;
    int done = 0;
    for (long n = 1; n < 100 && !done; n++) {
        zarrc_store *s;
        CHECK_OK(zarrc_store_open(&s, "fault://", 0));
        fault_at = 0;
        zarrc_array *a = make(s, "x", "int32", 1, shape, chunks, 0);
        CHECK_OK(zarrc_array_write(a, st, cn, NULL, old, sizeof old));
        zarrc_array_free(a);
        fault_erases = 0;
        fault_at = n; /* the "crash": the Nth erase fails, nothing after it happens */
        zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
        o.dtype = "float32";
        o.ndim = 1;
        o.shape = shape;
        o.chunks = chunks;
        o.flags = ZARRC_OVERWRITE;
        int rc = zarrc_array_create(NULL, s, "x", &o);
        fault_at = 0;
        if (rc == ZARRC_OK)
            done = 1;
        else
            CHECK_MSG(rc == ZARRC_EIO && strstr(zarrc_error_last(), "injected"), "n=%ld: rc %d", n, rc);
        /* Whatever is stored now: the old array (each chunk old or fill), or nothing. */
        zarrc_array *b = NULL;
        rc = zarrc_array_open(&b, s, "x");
        if (rc == ZARRC_OK && !done) {
            int32_t got[64];
            CHECK(!strcmp(zarrc_array_dtype(b)->name, "int32"));
            CHECK_OK(zarrc_array_read(b, st, cn, NULL, got, sizeof got));
            for (int i = 0; i < 64; i++)
                CHECK_MSG(got[i] == old[i] || got[i] == 0, "n=%ld: element %d is %d", n, i, got[i]);
        } else
            CHECK_MSG(rc == ZARRC_ENOTFOUND || (done && rc == ZARRC_OK), "n=%ld: open rc %d", n, rc);
        zarrc_array_free(b);
        /* A later plain create with another type never serves the old bytes. */
        o.flags = 0;
        rc = done ? ZARRC_OK : zarrc_array_create(NULL, s, "x", &o);
        CHECK_MSG(rc == ZARRC_OK || rc == ZARRC_EEXISTS || rc == ZARRC_ECONFLICT, "n=%ld: create rc %d", n, rc);
        if (rc == ZARRC_OK) {
            float f[64];
            CHECK_OK(zarrc_array_open(&b, s, "x"));
            CHECK(!strcmp(zarrc_array_dtype(b)->name, "float32"));
            CHECK_OK(zarrc_array_read(b, st, cn, NULL, f, sizeof f));
            for (int i = 0; i < 64; i++)
                CHECK_MSG(f[i] == 0.0f, "n=%ld: element %d of the new array is %g (old bytes)", n, i, (double)f[i]);
            zarrc_array_free(b);
        }
        zarrc_store_free(s);
    }
    CHECK_MSG(done, "the overwrite never succeeded");
}

/* ---- 4. pending creation, commit, resumed copies ------------------------------------------ */

static int cancel_after_first(void *ctx, uint64_t done, uint64_t total)
{
    (void)ctx;
    (void)total;
    return done >= 2;
}

static int count_children(void *ctx, const zarrc_child_info *c)
{
    (void)c;
    ++*(int *)ctx;
    return 0;
}

static void test_pending(void)
{
    zarrc_store *s;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    int64_t shape[1] = {20}, chunks[1] = {2}, st[1] = {0}, cn[1] = {20};
    int32_t v[20], w[20];
    for (int i = 0; i < 20; i++)
        v[i] = 100 + i;
    zarrc_array *src = make(s, "src", "int32", 1, shape, chunks, 0), *other = make(s, "other", "int32", 1, shape, chunks, 0);
    CHECK_OK(zarrc_array_write(src, st, cn, NULL, v, sizeof v));
    CHECK_OK(zarrc_array_write(other, st, cn, NULL, v, sizeof v));

    zarrc_set_num_threads(1);
    zarrc_array *dst = make(s, "dst", "int32", 1, shape, chunks, ZARRC_CREATE_PENDING);
    zarrc_node_kind kind;
    int fmt, n = 0;
    CHECK_ERR(zarrc_node_probe(&kind, &fmt, s, "dst"), ZARRC_ENOTFOUND, "incomplete");
    zarrc_array *tmp = NULL;
    CHECK_ERR(zarrc_array_open(&tmp, s, "dst"), ZARRC_ENOTFOUND, "incomplete");
    CHECK_OK(zarrc_group_create(s, "", 3, NULL, ZARRC_RESUME)); /* the root group, for listing */
    CHECK_OK(zarrc_group_list(s, "", count_children, &n));
    CHECK(n == 2); /* src and other; not the incomplete dst */
    zarrc_copy_options co = ZARRC_COPY_OPTIONS_INIT;
    co.progress = cancel_after_first;
    CHECK_ERR(zarrc_array_copy(dst, src, &co, NULL), ZARRC_ECONFLICT, "cancelled");
    zarrc_array_free(dst);
    CHECK(has_key(s, "dst/c/0") && !has_key(s, "dst/zarr.json")); /* interrupted: still invisible */
    CHECK_ERR(zarrc_array_open(&tmp, s, "dst"), ZARRC_ENOTFOUND, "incomplete");
    /* A plain create there refuses; a resume with other parameters too. */
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "int32";
    o.ndim = 1;
    o.shape = shape;
    o.chunks = chunks;
    CHECK_ERR(zarrc_array_create(NULL, s, "dst", &o), ZARRC_EEXISTS, "incomplete");
    int64_t other_chunks[1] = {4};
    o.chunks = other_chunks;
    o.flags = ZARRC_CREATE_PENDING | ZARRC_RESUME;
    CHECK_ERR(zarrc_array_create(NULL, s, "dst", &o), ZARRC_ECONFLICT, "other metadata");
    CHECK(has_key(s, "dst/c/0"));
    /* The same parameters resume; another source is refused. */
    o.chunks = chunks;
    CHECK_OK(zarrc_array_create(&dst, s, "dst", &o));
    CHECK_ERR(zarrc_array_copy(dst, other, NULL, NULL), ZARRC_ECONFLICT, "another source");
    zarrc_copy_stats stats;
    CHECK_OK(zarrc_array_copy(dst, src, NULL, &stats));
    CHECK_MSG(stats.bytes == (20 - 4) * 4, "resumed copy copied %llu bytes", (unsigned long long)stats.bytes);
    zarrc_array_free(dst);
    CHECK(has_key(s, "dst/zarr.json") && !has_key(s, "dst/.zarrc-pending.json"));
    CHECK_OK(zarrc_array_open(&tmp, s, "dst"));
    CHECK_OK(zarrc_array_read(tmp, st, cn, NULL, w, sizeof w));
    CHECK(!memcmp(v, w, sizeof v));
    zarrc_array_free(tmp);
    /* Resuming a complete copy opens it as it is. */
    CHECK_OK(zarrc_array_create(&dst, s, "dst", &o));
    CHECK_OK(zarrc_array_copy(dst, src, NULL, &stats));
    CHECK(stats.bytes == 0);
    zarrc_array_free(dst);
    /* An explicit commit; a pending array can be deleted. */
    o.flags = ZARRC_CREATE_PENDING;
    CHECK_OK(zarrc_array_create(&dst, s, "p2", &o));
    CHECK_OK(zarrc_array_commit(dst));
    CHECK_OK(zarrc_node_probe(&kind, &fmt, s, "p2"));
    zarrc_array_free(dst);
    CHECK_OK(zarrc_array_create(&dst, s, "p3", &o));
    zarrc_array_free(dst);
    CHECK_OK(zarrc_node_delete(s, "p3"));
    CHECK(!has_key(s, "p3/.zarrc-pending.json"));
    zarrc_set_num_threads(0);
    zarrc_array_free(src);
    zarrc_array_free(other);
    zarrc_store_free(s);
}

/* ---- 5. huge sparse grids and long paths -------------------------------------------------- */

static void test_sparse_copy(void)
{
    zarrc_store *s;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    const int64_t big = (int64_t)1 << 62;
    int64_t shape1[1] = {big}, ch1[1] = {1};
    zarrc_array *a = make(s, "a", "int8", 1, shape1, ch1, 0), *b = make(s, "b", "int8", 1, shape1, ch1, 0);
    int64_t at[3] = {5, (int64_t)1 << 40, big - 1}, one[1] = {1};
    for (int i = 0; i < 3; i++) {
        int8_t x = (int8_t)(i + 1);
        CHECK_OK(zarrc_array_write(a, &at[i], one, NULL, &x, 1));
    }
    int64_t stale[1] = {77};
    int8_t x = 9;
    CHECK_OK(zarrc_array_write(b, stale, one, NULL, &x, 1)); /* fill in the source: erased by the copy */
    zarrc_copy_stats stats;
    CHECK_OK(zarrc_array_copy(b, a, NULL, &stats));
    CHECK_MSG(stats.units == 4, "1-D: %llu units", (unsigned long long)stats.units);
    for (int i = 0; i < 3; i++) {
        CHECK_OK(zarrc_array_read(b, &at[i], one, NULL, &x, 1));
        CHECK(x == i + 1);
    }
    CHECK_OK(zarrc_array_read(b, stale, one, NULL, &x, 1));
    CHECK(x == 0);
    zarrc_array_free(a);
    zarrc_array_free(b);

    /* 2-D [2^62, 2^62] with chunks [1, 1] (the unit count overflows 64 bits), rechunked. */
    int64_t shape2[2] = {big, big}, ch2[2] = {1, 1}, ch2b[2] = {2, 2}, one2[2] = {1, 1};
    a = make(s, "a2", "int16", 2, shape2, ch2, 0);
    b = make(s, "b2", "int16", 2, shape2, ch2b, 0);
    int64_t pts[2][2] = {{1, 2}, {big - 1, 7}};
    for (int i = 0; i < 2; i++) {
        int16_t y = (int16_t)(1000 + i);
        CHECK_OK(zarrc_array_write(a, pts[i], one2, NULL, &y, 2));
    }
    CHECK_OK(zarrc_array_copy(b, a, NULL, &stats));
    CHECK_MSG(stats.units == 2, "2-D: %llu units", (unsigned long long)stats.units);
    for (int i = 0; i < 2; i++) {
        int16_t y = 0;
        CHECK_OK(zarrc_array_read(b, pts[i], one2, NULL, &y, 2));
        CHECK(y == 1000 + i);
    }
    zarrc_array_free(a);
    zarrc_array_free(b);
    zarrc_store_free(s);
}

static void test_long_paths(void)
{
    zarrc_store *s;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    char sp[15 * 201 + 8], dp[15 * 201 + 8];
    size_t n = 0;
    for (int i = 0; i < 15; i++) {
        memset(sp + n, 'a' + i, 200);
        n += 200;
        sp[n++] = '/';
    }
    memcpy(sp + n, "src", 4);
    memcpy(dp, sp, n);
    memcpy(dp + n, "dst", 4);
    int64_t shape[1] = {4}, chunks[1] = {2};
    zarrc_array *a = make(s, sp, "uint8", 1, shape, chunks, 0), *b = make(s, dp, "uint8", 1, shape, chunks, 0);
    /* Chunks stored directly (the engine's own key buffers are another change). */
    char key[sizeof sp + 8];
    snprintf(key, sizeof key, "%s/c/1", sp);
    CHECK_OK(zarrc_store_set(s, key, "\x05\x06", 2));
    zarrc_copy_stats stats;
    CHECK_OK(zarrc_array_copy(b, a, NULL, &stats));
    CHECK(stats.raw == 1);
    snprintf(key, sizeof key, "%s/c/1", dp);
    void *d = NULL;
    size_t len = 0;
    CHECK_OK(zarrc_store_get(&d, &len, s, key));
    CHECK(len == 2 && d && !memcmp(d, "\x05\x06", 2));
    zarrc_free(d);
    zarrc_array_free(a);
    zarrc_array_free(b);
    zarrc_store_free(s);
}

/* ---- 6. messages, names and fill values --------------------------------------------------- */

static void test_names(void)
{
    zarrc_store *s;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    zarrc_array *a = NULL;
    CHECK_ERR(zarrc_array_open(&a, s, ""), ZARRC_ENOTFOUND, "'memory://'");
    CHECK(!strstr(zarrc_error_last(), "'/'"));
    CHECK_ERR(zarrc_group_create(s, "g/__x", 3, NULL, 0), ZARRC_EINVAL, "reserved");
    CHECK_OK(zarrc_group_create(s, "v2/__x", 2, NULL, 0)); /* v2 reserves nothing */
    int64_t shape[1] = {3};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "int8";
    o.ndim = 1;
    o.shape = shape;
    CHECK_ERR(zarrc_array_create(NULL, s, "__a", &o), ZARRC_EINVAL, "reserved");
    /* A '__' child written by someone else is no child in listings nor in consolidated metadata. */
    CHECK_OK(zarrc_group_create(s, "g", 3, NULL, 0));
    CHECK_OK(zarrc_group_create(s, "g/b", 3, NULL, 0));
    put(s, "g/__y/zarr.json", "{\"zarr_format\":3,\"node_type\":\"group\",\"attributes\":{}}");
    int n = 0;
    size_t count = 0;
    CHECK_OK(zarrc_group_list(s, "g", count_children, &n));
    CHECK_OK(zarrc_consolidate(s, "g", &count));
    CHECK_MSG(n == 1 && count == 1, "ls sees %d, consolidate %zu", n, count);
    /* zarrc never writes a v3 null fill value. */
    const char *doc = "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[2],\"data_type\":\"int32\","
                      "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2]}},"
                      "\"chunk_key_encoding\":{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}},"
                      "\"fill_value\":null,\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}],"
                      "\"attributes\":{}}";
    CHECK_ERR(zarrc_array_create_json(NULL, s, "nf", doc, 0), ZARRC_EDTYPE, "null");
    CHECK(!has_key(s, "nf/zarr.json"));
    char spec[1024];
    snprintf(spec, sizeof spec, "{\"x\": %s}", doc);
    zarrc_hierarchy_report *r = NULL;
    CHECK(zarrc_hierarchy_create(&r, s, "h", spec, NULL) != ZARRC_OK);
    CHECK(!has_key(s, "h/x/zarr.json"));
    zarrc_hierarchy_report_free(r);
    zarrc_store_free(s);
}

/* ---- 7. a lock file left by a killed writer, longer than the new value -------------------- */

/* The next writer of the key writes its value into that file and renames it onto the key:
 * the stale bytes beyond the new value must not survive (the file is cut to the value's size,
 * not truncated to zero before writing, which on ext4 would start writeback on close). */
static void test_stale_lock(void)
{
    const char *base = getenv("ZARRC_TEST_TMP");
    char dir[PATH_MAX], cdir[PATH_MAX + 32], lock[PATH_MAX + 64], chunk[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/misuse_stale_lock_%ld", base ? base : "/tmp", (long)getpid());
    mkdir(base ? base : "/tmp", 0777);
    zarrc_store *s;
    CHECK_OK(zarrc_store_open(&s, dir, ZARRC_STORE_CREATE));
    int64_t shape[1] = {8}, chunks[1] = {4}, st[1] = {0}, cn[1] = {8};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "int32";
    o.ndim = 1;
    o.shape = shape;
    o.chunks = chunks;
    o.codecs = "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]"; /* 16-byte chunks */
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, s, "a", &o));
    snprintf(cdir, sizeof cdir, "%s/a/c", dir);
    mkdir(cdir, 0777);
    snprintf(lock, sizeof lock, "%s/.zarrc-lock.0", cdir);
    snprintf(chunk, sizeof chunk, "%s/0", cdir);
    FILE *f = fopen(lock, "wb");
    CHECK(f != NULL);
    for (int i = 0; f && i < 1000; i++)
        fputc('x', f);
    if (f)
        fclose(f);
    int32_t v[8] = {1, 2, 3, 4, 5, 6, 7, 8}, w[8] = {0};
    CHECK_OK(zarrc_array_write(a, st, cn, NULL, v, sizeof v));
    struct stat sb;
    CHECK(stat(chunk, &sb) == 0 && sb.st_size == 16);
    CHECK(stat(lock, &sb) != 0); /* renamed onto the key */
    CHECK_OK(zarrc_array_read(a, st, cn, NULL, w, sizeof w));
    CHECK(!memcmp(v, w, sizeof v));
    /* And a rewrite of the same chunk (its lock file is fresh and empty now) is exact too. */
    int32_t u[4] = {9, 9, 9, 9};
    int64_t cn4[1] = {4};
    CHECK_OK(zarrc_array_write(a, st, cn4, NULL, u, sizeof u));
    CHECK(stat(chunk, &sb) == 0 && sb.st_size == 16);
    CHECK_OK(zarrc_array_read(a, st, cn, NULL, w, sizeof w));
    CHECK(w[0] == 9 && w[3] == 9 && w[4] == 5 && w[7] == 8);
    zarrc_array_free(a);
    CHECK_OK(zarrc_node_delete(s, "a"));
    zarrc_store_free(s);
    rmdir(dir);
}

int main(void)
{
    alarm(120); /* a copy that walks a 2^62 grid must fail, not hang */
    test_identity();
    test_foreign();
    test_erase_order();
    test_pending();
    test_sparse_copy();
    test_long_paths();
    test_names();
    test_stale_lock();
    return check_report("test_misuse");
}
