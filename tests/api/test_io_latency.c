/* API tests: stores whose requests have latency (ZARRC_STORE_CAP_LATENCY) get many requests in
 * flight from the I/O pool, independent of the CPU threads; results stay exact. */
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "wrap_store.h"

static int in_flight, peak, fail_key_set;
static char fail_key[64];

static void enter(void)
{
    int now = __atomic_add_fetch(&in_flight, 1, __ATOMIC_SEQ_CST);
    int p = __atomic_load_n(&peak, __ATOMIC_SEQ_CST);
    while (now > p && !__atomic_compare_exchange_n(&peak, &p, now, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        ;
    struct timespec ts = {0, 20 * 1000 * 1000}; /* 20 ms: a remote round trip */
    nanosleep(&ts, NULL);
}

static void leave(void) { __atomic_sub_fetch(&in_flight, 1, __ATOMIC_SEQ_CST); }

WRAP_STORE_FORWARDERS(w, inner)

static int l_get(void *state, const char *key, int64_t off, int64_t len, zarrc_buf *out)
{
    int is_chunk = strstr(key, "/c/") != NULL;
    if (is_chunk)
        enter();
    int rc = fail_key_set && !strcmp(key, fail_key) ? zarrc_error_set(ZARRC_EIO, "simulated network failure")
                                                    : w_get(state, key, off, len, out);
    if (is_chunk)
        leave();
    return rc;
}

static int l_set(void *state, const char *key, const void *data, size_t n)
{
    int is_chunk = strstr(key, "/c/") != NULL;
    if (is_chunk)
        enter();
    int rc = w_set(state, key, data, n);
    if (is_chunk)
        leave();
    return rc;
}

static const zarrc_store_type latency_store = {
    ZARRC_STORE_TYPE_VERSION, "lat",
    ZARRC_STORE_CAP_RANGE | ZARRC_STORE_CAP_LIST_DIR | ZARRC_STORE_CAP_WRITE | ZARRC_STORE_CAP_LATENCY,
    w_open, w_close, l_get, NULL, l_set, NULL, w_erase, w_erase_prefix, w_list, w_list_dir, w_size,
};

static void check_array(zarrc_store *s, const char *path, const char *codecs)
{
    int64_t shape[2] = {32, 40}, chunks[2] = {8, 10}; /* 16 chunks (or shards) */
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "int32";
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    o.codecs = codecs;
    o.fill_value = "-5";
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, s, path, &o));
    if (!a)
        return;
    static int32_t all[32 * 40], got[32 * 40];
    for (int i = 0; i < 32 * 40; i++)
        all[i] = i * 7 - 100;
    int64_t z[2] = {0, 0};
    peak = 0;
    CHECK_OK(zarrc_array_write(a, z, shape, NULL, all, sizeof all));
    CHECK(peak >= 3); /* stores overlap although there is one CPU thread */
    peak = 0;
    CHECK_OK(zarrc_array_read(a, z, shape, NULL, got, sizeof got));
    CHECK(peak >= 3);
    CHECK(!memcmp(all, got, sizeof all));
    /* A partial write across chunks: old values fetched in a batch, merged, stored. */
    int64_t st[2] = {5, 7}, c[2] = {20, 25};
    static int32_t patch[20 * 25];
    for (int i = 0; i < 20 * 25; i++)
        patch[i] = 9000 + i;
    CHECK_OK(zarrc_array_write(a, st, c, NULL, patch, sizeof patch));
    for (int r = 0; r < 20; r++)
        for (int k = 0; k < 25; k++)
            all[(5 + r) * 40 + 7 + k] = patch[r * 25 + k];
    memset(got, 0, sizeof got);
    CHECK_OK(zarrc_array_read(a, z, shape, NULL, got, sizeof got));
    CHECK(!memcmp(all, got, sizeof all));
    /* A failing request is reported with its chunk, whatever the timing. */
    snprintf(fail_key, sizeof fail_key, "%s/c/2/1", path);
    fail_key_set = 1;
    CHECK_ERR(zarrc_array_read(a, z, shape, NULL, got, sizeof got), ZARRC_EIO, "simulated network failure");
    CHECK(strstr(zarrc_error_last(), "c/2/1") != NULL);
    fail_key_set = 0;
    zarrc_array_free(a);
}

int main(void)
{
    CHECK_OK(zarrc_store_register(&latency_store));
    zarrc_set_num_threads(1);
    zarrc_set_io_concurrency(8);
    CHECK(zarrc_get_num_threads() == 1 && zarrc_get_io_concurrency() == 8);
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "lat://", 0));
    if (!s)
        return check_report("api.io_latency");
    check_array(s, "plain", "[\"bytes\",{\"name\":\"zstd\"}]");
    check_array(s, "raw", "[\"bytes\"]");
    check_array(s, "sharded", "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[4,5],"
                              "\"codecs\":[\"bytes\",{\"name\":\"gzip\"}],\"index_codecs\":[\"bytes\",\"crc32c\"]}}]");
    zarrc_store_free(s);
    zarrc_set_num_threads(0);
    zarrc_set_io_concurrency(0);
    return check_report("api.io_latency");
}
