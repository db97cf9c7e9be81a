/* API tests: zarrc_array_copy (convert, rechunk, raw re-keying, progress, errors) and the
 * engine's determinism: 1 thread and N threads store identical bytes. */
#include <stdint.h>

#include "check.h"
#include "zarrc.h"

typedef struct kv {
    char keys[512][64];
    int n;
} kv;

static int collect(void *ctx, const char *name, int is_prefix)
{
    kv *k = ctx;
    if (!is_prefix && k->n < 512)
        snprintf(k->keys[k->n++], 64, "%s", name);
    return 0;
}

static zarrc_array *make(zarrc_store *s, const char *path, int format, const char *codecs, int64_t c0,
                         int64_t c1)
{
    int64_t shape[2] = {40, 33}, chunks[2] = {c0, c1};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.format = format;
    o.dtype = "float32";
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    o.codecs = codecs;
    o.fill_value = "\"NaN\"";
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, s, path, &o));
    return a;
}

static float data[40 * 33];

/* Write the same data with `threads` threads; return the store. */
static zarrc_store *write_with(int threads, const char *codecs, int64_t c0, int64_t c1)
{
    zarrc_set_num_threads(threads);
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    zarrc_array *a = make(s, "x", 3, codecs, c0, c1);
    int64_t z[2] = {0, 0}, sh[2] = {40, 33};
    if (a)
        CHECK_OK(zarrc_array_write(a, z, sh, NULL, data, sizeof data));
    zarrc_array_free(a);
    return s;
}

static void test_determinism(const char *codecs, int64_t c0, int64_t c1)
{
    zarrc_store *one = write_with(1, codecs, c0, c1), *many = write_with(4, codecs, c0, c1);
    kv k1 = {0}, k2 = {0};
    CHECK_OK(zarrc_store_list(one, "", collect, &k1));
    CHECK_OK(zarrc_store_list(many, "", collect, &k2));
    CHECK(k1.n == k2.n && k1.n >= 1);
    for (int i = 0; i < k1.n; i++) {
        void *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        CHECK_OK(zarrc_store_get(&a, &na, one, k1.keys[i]));
        int rc = zarrc_store_get(&b, &nb, many, k1.keys[i]);
        CHECK(rc == ZARRC_OK && na == nb && (na == 0 || !memcmp(a, b, na)));
        zarrc_free(a);
        zarrc_free(b);
    }
    zarrc_store_free(one);
    zarrc_store_free(many);
    zarrc_set_num_threads(0);
}

static int calls;
static int progress(void *ctx, uint64_t done, uint64_t total)
{
    (void)ctx;
    calls++;
    CHECK(done <= total);
    return 0;
}

static int cancel(void *ctx, uint64_t done, uint64_t total)
{
    (void)ctx;
    (void)total;
    return done >= 4;
}

static void test_copy(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    zarrc_array *src = make(s, "src", 2, "[{\"id\":\"zlib\",\"level\":2}]", 8, 8);
    if (!src)
        return;
    int64_t z[2] = {0, 0}, sh[2] = {40, 33};
    CHECK_OK(zarrc_array_write(src, z, sh, NULL, data, sizeof data));
    /* Rechunk + recompress + convert to v3. */
    zarrc_array *d1 = make(s, "d1", 3, "[\"bytes\",{\"name\":\"zstd\"}]", 16, 11);
    zarrc_copy_options co = ZARRC_COPY_OPTIONS_INIT;
    co.progress = progress;
    zarrc_copy_stats st;
    CHECK_OK(zarrc_array_copy(d1, src, &co, &st));
    CHECK(st.units == 3 * 3 && st.bytes == sizeof data && !st.raw && calls > 0);
    float got[40 * 33];
    CHECK_OK(zarrc_array_read(d1, z, sh, NULL, got, sizeof got));
    CHECK(!memcmp(got, data, sizeof got));
    /* Same chunks and codecs, other format: stored bytes are re-keyed, not decoded. */
    zarrc_array *d2 = make(s, "d2", 3, "[\"bytes\",{\"name\":\"numcodecs.zlib\",\"configuration\":{\"level\":2}}]", 8, 8);
    CHECK_OK(zarrc_array_copy(d2, src, NULL, &st));
    CHECK(st.raw == 1);
    void *a = NULL, *b = NULL;
    size_t na, nb;
    CHECK_OK(zarrc_store_get(&a, &na, s, "src/1.2"));
    CHECK_OK(zarrc_store_get(&b, &nb, s, "d2/c/1/2"));
    CHECK(na == nb && !memcmp(a, b, na));
    zarrc_free(a);
    zarrc_free(b);
    memset(got, 0, sizeof got);
    CHECK_OK(zarrc_array_read(d2, z, sh, NULL, got, sizeof got));
    CHECK(!memcmp(got, data, sizeof got));
    /* Cancelled copies stop with an error. */
    co.progress = cancel;
    zarrc_set_num_threads(1);
    CHECK_ERR(zarrc_array_copy(d1, src, &co, &st), ZARRC_ECONFLICT, "cancelled");
    zarrc_set_num_threads(0);
    /* Mismatched shapes are refused. */
    int64_t shape[1] = {5};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "float32";
    o.ndim = 1;
    o.shape = shape;
    zarrc_array *bad = NULL;
    CHECK_OK(zarrc_array_create(&bad, s, "bad", &o));
    CHECK_ERR(zarrc_array_copy(bad, src, NULL, NULL), ZARRC_EINVAL, "shapes differ");
    zarrc_array_free(bad);
    zarrc_array_free(d1);
    zarrc_array_free(d2);
    zarrc_array_free(src);
    zarrc_store_free(s);
}

int main(void)
{
    for (int i = 0; i < 40 * 33; i++)
        data[i] = (i % 11 == 0) ? 0.0f : (float)i * 0.25f;
    for (int i = 0; i < 7; i++)
        for (int k = 0; k < 5; k++) {
            uint32_t nan = 0x7fc00000u;
            memcpy(&data[i * 33 + k], &nan, 4); /* one chunk entirely fill: not stored */
        }
    const char *zstd = "[\"bytes\",{\"name\":\"zstd\",\"configuration\":{\"level\":3}}]";
    const char *blosc = "[\"bytes\",{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\",\"clevel\":5,"
                        "\"shuffle\":\"shuffle\",\"typesize\":4,\"blocksize\":256}}]";
    test_determinism(zstd, 7, 5);
    test_determinism(blosc, 7, 5);
    /* One chunk: the write runs inline and hands the codec the idle cores. */
    test_determinism(zstd, 40, 33);
    test_determinism(blosc, 40, 33);
    test_determinism("[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[7,1],\"codecs\":"
                     "[\"bytes\",{\"name\":\"gzip\"}],\"index_codecs\":[\"bytes\",\"crc32c\"]}}]", 7, 5);
    test_copy();
    return check_report("api.copy_threads");
}
