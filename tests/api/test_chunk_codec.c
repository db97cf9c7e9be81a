/* API tests for the chunk codecs without the store (zarrc_array_chunk_decode / _encode /
 * _is_fill / zarrc_array_chunks_*): against what zarrc_array_write stored and
 * zarrc_array_read reads, edge chunks, shards, v2, batches, threads, corrupt input. */
#include <pthread.h>
#include <stdint.h>

#include "check.h"
#include "zarrc.h"

static zarrc_array *make(zarrc_store *s, const char *path, int format, const char *codecs, const char *compressor,
                         const char *dtype, int64_t h, int64_t w, int64_t ch, int64_t cw)
{
    int64_t shape[2] = {h, w}, chunks[2] = {ch, cw};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.format = format;
    o.dtype = dtype;
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    o.codecs = codecs;
    o.compressor = compressor;
    o.fill_value = "7";
    o.flags = ZARRC_OVERWRITE;
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, s, path, &o));
    return a;
}

static char *chunk_key(char *buf, size_t n, int format, const char *path, int64_t i, int64_t k)
{
    if (format == 3)
        snprintf(buf, n, "%s/c/%lld/%lld", path, (long long)i, (long long)k);
    else
        snprintf(buf, n, "%s/%lld.%lld", path, (long long)i, (long long)k);
    return buf;
}

/* Every chunk of a 19x13 int32 array (4x5 chunks, ragged edges) written by zarrc_array_write:
 * decode(stored) equals the region read back (padding = fill), encode(decode) decodes back,
 * encoded bytes put in the store read back through zarrc_array_read, batches agree. */
static void test_against_engine(int format, const char *codecs, const char *compressor, int64_t ch, int64_t cw)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    zarrc_array *a = make(s, "t", format, codecs, compressor, "int32", 19, 13, ch, cw);
    if (!a) {
        zarrc_store_free(s);
        return;
    }
    int32_t all[19 * 13];
    for (int i = 0; i < 19 * 13; i++)
        all[i] = (int32_t)(check_rnd() % 1000) - 500;
    int64_t z[2] = {0, 0}, shape[2] = {19, 13};
    CHECK_OK(zarrc_array_write(a, z, shape, NULL, all, sizeof all));
    size_t cb = 0;
    CHECK_OK(zarrc_array_chunk_size(&cb, a));
    CHECK(cb == (size_t)(ch * cw) * sizeof(int32_t));
    int64_t gi = (19 + ch - 1) / ch, gk = (13 + cw - 1) / cw, nch = gi * gk;
    int32_t *dec = malloc(cb), *dec2 = malloc(cb * (size_t)nch);
    void **stored = calloc((size_t)nch, sizeof *stored);
    size_t *ssz = calloc((size_t)nch, sizeof *ssz);
    int64_t (*coords)[2] = calloc((size_t)nch, sizeof *coords);
    zarrc_chunk_item *items = calloc((size_t)nch, sizeof *items);
    char key[64];
    for (int64_t i = 0; i < gi; i++)
        for (int64_t k = 0; k < gk; k++) {
            int64_t c[2] = {i, k}, idx = i * gk + k;
            CHECK_OK(zarrc_store_get(&stored[idx], &ssz[idx], s, chunk_key(key, sizeof key, format, "t", i, k)));
            CHECK_OK(zarrc_array_chunk_decode(a, c, stored[idx], ssz[idx], dec, cb));
            int bad = 0;
            for (int64_t y = 0; y < ch; y++)
                for (int64_t x = 0; x < cw; x++) {
                    int64_t gy = i * ch + y, gx = k * cw + x;
                    int32_t want = gy < 19 && gx < 13 ? all[gy * 13 + gx] : 7; /* padding: the fill */
                    bad += dec[y * cw + x] != want;
                }
            CHECK_MSG(bad == 0, "format %d chunk %lld,%lld: %d elements differ", format, (long long)i,
                      (long long)k, bad);
            CHECK(zarrc_array_chunk_is_fill(a, dec, cb) == 0);
            /* encode → decode round trip; the encoding is readable by the engine */
            void *enc = NULL;
            size_t esz = 0;
            CHECK_OK(zarrc_array_chunk_encode(&enc, &esz, a, c, dec, cb));
            CHECK(enc != NULL);
            if (enc) {
                memset(dec2, 0, cb);
                CHECK_OK(zarrc_array_chunk_decode(a, c, enc, esz, dec2, cb));
                CHECK(!memcmp(dec, dec2, cb));
                CHECK_OK(zarrc_store_set(s, key, enc, esz));
            }
            zarrc_free(enc);
            coords[idx][0] = i;
            coords[idx][1] = k;
            items[idx] = (zarrc_chunk_item){coords[idx], stored[idx], ssz[idx], dec2 + idx * (int64_t)(cb / 4), cb, -99};
        }
    int32_t back[19 * 13];
    CHECK_OK(zarrc_array_read(a, z, shape, NULL, back, sizeof back));
    CHECK(!memcmp(all, back, sizeof all));
    /* batch decode equals single decodes */
    CHECK_OK(zarrc_array_chunks_decode(a, items, (size_t)nch));
    for (int64_t idx = 0; idx < nch; idx++) {
        CHECK(items[idx].status == ZARRC_OK);
        CHECK_OK(zarrc_array_chunk_decode(a, coords[idx], stored[idx], ssz[idx], dec, cb));
        CHECK(!memcmp(dec, dec2 + idx * (int64_t)(cb / 4), cb));
    }
    /* batch encode, then batch decode of its output */
    zarrc_chunk_item *enc_items = calloc((size_t)nch, sizeof *enc_items);
    int32_t *dec3 = malloc(cb * (size_t)nch);
    for (int64_t idx = 0; idx < nch; idx++)
        enc_items[idx] = (zarrc_chunk_item){coords[idx], NULL, 0, dec2 + idx * (int64_t)(cb / 4), cb, -99};
    CHECK_OK(zarrc_array_chunks_encode(a, enc_items, (size_t)nch));
    for (int64_t idx = 0; idx < nch; idx++) {
        CHECK(enc_items[idx].status == ZARRC_OK && enc_items[idx].encoded);
        items[idx].encoded = enc_items[idx].encoded;
        items[idx].encoded_size = enc_items[idx].encoded_size;
        items[idx].decoded = dec3 + idx * (int64_t)(cb / 4);
    }
    CHECK_OK(zarrc_array_chunks_decode(a, items, (size_t)nch));
    CHECK(!memcmp(dec2, dec3, cb * (size_t)nch));
    for (int64_t idx = 0; idx < nch; idx++) {
        zarrc_free(enc_items[idx].encoded);
        zarrc_free(stored[idx]);
    }
    free(enc_items);
    free(dec3);
    free(items);
    free(coords);
    free(ssz);
    free(stored);
    free(dec2);
    free(dec);
    zarrc_array_free(a);
    zarrc_store_free(s);
}

/* All-fill chunks: not encoded unless write_empty_chunks; is_fill says so. */
static void test_fill(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    zarrc_array *a = make(s, "f", 3, "[\"bytes\",\"zstd\"]", NULL, "int32", 8, 8, 4, 4);
    if (!a) {
        zarrc_store_free(s);
        return;
    }
    int32_t c[16];
    for (int i = 0; i < 16; i++)
        c[i] = 7;
    int64_t at[2] = {1, 1};
    CHECK(zarrc_array_chunk_is_fill(a, c, sizeof c) == 1);
    void *enc = (void *)1;
    size_t esz = 99;
    CHECK_OK(zarrc_array_chunk_encode(&enc, &esz, a, at, c, sizeof c));
    CHECK(enc == NULL && esz == 0);
    zarrc_array_set_write_empty_chunks(a, 1);
    CHECK_OK(zarrc_array_chunk_encode(&enc, &esz, a, at, c, sizeof c));
    CHECK(enc != NULL && esz > 0);
    zarrc_free(enc);
    c[15] = 8;
    CHECK(zarrc_array_chunk_is_fill(a, c, sizeof c) == 0);
    /* a difference first, or in one byte of a middle element, is found too */
    c[15] = 7;
    c[0] = 8;
    CHECK(zarrc_array_chunk_is_fill(a, c, sizeof c) == 0);
    c[0] = 7;
    ((uint8_t *)&c[7])[2] = 1;
    CHECK(zarrc_array_chunk_is_fill(a, c, sizeof c) == 0);
    c[7] = 7;
    CHECK(zarrc_array_chunk_is_fill(a, c, sizeof c) == 1);
    c[15] = 8;
    CHECK_ERR(zarrc_array_chunk_is_fill(a, c, 8), ZARRC_EINVAL, "expected 64");
    zarrc_array_free(a);
    zarrc_store_free(s);
}

/* Sharded array: a chunk is a whole shard; shards with omitted (fill) inner chunks decode. */
static void test_shard(void)
{
    const char *codecs =
        "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2,3],"
        "\"codecs\":[\"bytes\",{\"name\":\"zstd\",\"configuration\":{\"level\":1}}],"
        "\"index_codecs\":[\"bytes\",\"crc32c\"]}}]";
    test_against_engine(3, codecs, NULL, 4, 6);
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    zarrc_array *a = make(s, "sh", 3, codecs, NULL, "int32", 8, 12, 4, 6);
    if (!a) {
        zarrc_store_free(s);
        return;
    }
    int32_t shard[24];
    for (int i = 0; i < 24; i++)
        shard[i] = i < 12 ? 7 : i; /* the first two inner rows of chunks are fill */
    int64_t at[2] = {1, 0};
    void *enc = NULL;
    size_t esz = 0;
    CHECK_OK(zarrc_array_chunk_encode(&enc, &esz, a, at, shard, sizeof shard));
    int32_t back[24];
    CHECK_OK(zarrc_array_chunk_decode(a, at, enc, esz, back, sizeof back));
    CHECK(!memcmp(shard, back, sizeof shard));
    /* stored and read back through the engine */
    CHECK_OK(zarrc_store_set(s, "sh/c/1/0", enc, esz));
    int64_t st[2] = {4, 0}, cnt[2] = {4, 6};
    memset(back, 0, sizeof back);
    CHECK_OK(zarrc_array_read(a, st, cnt, NULL, back, sizeof back));
    CHECK(!memcmp(shard, back, sizeof shard));
    zarrc_free(enc);
    zarrc_array_free(a);
    zarrc_store_free(s);
}

/* Bad arguments and corrupt input: errors name the array and the chunk; never a crash. */
static void test_errors(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    zarrc_array *a = make(s, "e", 3, "[\"bytes\",\"zstd\",\"crc32c\"]", NULL, "int32", 10, 10, 4, 4);
    if (!a) {
        zarrc_store_free(s);
        return;
    }
    int32_t c[16], out[16];
    for (int i = 0; i < 16; i++)
        c[i] = i * 1000;
    int64_t at[2] = {2, 1}, off[2] = {3, 0}, neg[2] = {0, -1};
    void *enc = NULL;
    size_t esz = 0;
    CHECK_OK(zarrc_array_chunk_encode(&enc, &esz, a, at, c, sizeof c));
    CHECK_ERR(zarrc_array_chunk_decode(a, off, enc, esz, out, sizeof out), ZARRC_EBOUNDS, "outside the grid");
    CHECK_ERR(zarrc_array_chunk_decode(a, neg, enc, esz, out, sizeof out), ZARRC_EBOUNDS, "dimension 1");
    CHECK_ERR(zarrc_array_chunk_decode(a, at, enc, esz, out, 60), ZARRC_EINVAL, "chunk 'e/c/2/1'");
    CHECK_ERR(zarrc_array_chunk_decode(a, at, enc, 0, out, sizeof out), ZARRC_ECORRUPT, "array 'e': chunk 'e/c/2/1'");
    CHECK_ERR(zarrc_array_chunk_decode(a, NULL, enc, esz, out, sizeof out), ZARRC_EINVAL, "coordinates");
    /* every truncation and every single-byte flip fails cleanly (crc32c catches flips) */
    uint8_t *bad = malloc(esz);
    int truncs_ok = 0, flips_ok = 0;
    for (size_t n = 0; n < esz; n++) {
        int rc = zarrc_array_chunk_decode(a, at, enc, n, out, sizeof out);
        truncs_ok += rc == ZARRC_ECORRUPT && strstr(zarrc_error_last(), "chunk 'e/c/2/1'") != NULL;
    }
    for (size_t n = 0; n < esz; n++) {
        memcpy(bad, enc, esz);
        bad[n] ^= 0x5a;
        int rc = zarrc_array_chunk_decode(a, at, bad, esz, out, sizeof out);
        flips_ok += rc == ZARRC_ECORRUPT;
    }
    CHECK_MSG(truncs_ok == (int)esz, "%d of %zu truncations were ZARRC_ECORRUPT", truncs_ok, esz);
    CHECK_MSG(flips_ok == (int)esz, "%d of %zu flips were ZARRC_ECORRUPT", flips_ok, esz);
    /* a batch with a corrupt item in the middle: its error, lower items done */
    int64_t cs[3][2] = {{0, 0}, {2, 1}, {1, 1}};
    int32_t outs[3][16];
    memcpy(bad, enc, esz);
    bad[esz / 2] ^= 1;
    zarrc_chunk_item items[3] = {{cs[0], enc, esz, outs[0], sizeof outs[0], 0},
                                 {cs[1], bad, esz, outs[1], sizeof outs[1], 0},
                                 {cs[2], enc, esz, outs[2], sizeof outs[2], 0}};
    CHECK_ERR(zarrc_array_chunks_decode(a, items, 3), ZARRC_ECORRUPT, "chunk 'e/c/2/1'");
    CHECK(items[0].status == ZARRC_OK && !memcmp(outs[0], c, sizeof c));
    CHECK(items[1].status == ZARRC_ECORRUPT);
    CHECK(items[2].status == ZARRC_OK || items[2].status == ZARRC_CHUNK_NOT_RUN);
    /* encode batch failure releases the outputs */
    zarrc_chunk_item ei[2] = {{cs[0], NULL, 0, c, sizeof c, 0}, {off, NULL, 0, c, sizeof c, 0}};
    CHECK_ERR(zarrc_array_chunks_encode(a, ei, 2), ZARRC_EBOUNDS, "outside the grid");
    CHECK(ei[0].encoded == NULL && ei[1].encoded == NULL);
    free(bad);
    zarrc_free(enc);
    zarrc_array_free(a);

    /* variable-length types are not chunk codecs */
    int64_t shape[1] = {4}, chunks[1] = {2};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "string";
    o.ndim = 1;
    o.shape = shape;
    o.chunks = chunks;
    CHECK_OK(zarrc_array_create(&a, s, "str", &o));
    size_t cb = 1;
    CHECK_ERR(zarrc_array_chunk_size(&cb, a), ZARRC_EDTYPE, "fixed-size");
    CHECK(cb == 0);
    zarrc_array_free(a);
    zarrc_store_free(s);
}

/* Many threads decode and encode through one shared handle. */
typedef struct tctx {
    zarrc_array *a;
    const void *enc;
    size_t esz;
    const int32_t *want;
    int bad;
} tctx;

static void *worker(void *p)
{
    tctx *t = p;
    int64_t at[2] = {0, 0};
    int32_t out[64];
    for (int r = 0; r < 200; r++) {
        if (zarrc_array_chunk_decode(t->a, at, t->enc, t->esz, out, sizeof out) || memcmp(out, t->want, sizeof out))
            t->bad++;
        void *e = NULL;
        size_t n = 0;
        if (zarrc_array_chunk_encode(&e, &n, t->a, at, t->want, sizeof out) || !e)
            t->bad++;
        zarrc_free(e);
    }
    return NULL;
}

static void test_threads(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    zarrc_array *a = make(s, "th", 3, "[\"bytes\",{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\",\"clevel\":5,"
                          "\"shuffle\":\"shuffle\",\"typesize\":4,\"blocksize\":0}}]", NULL, "int32", 16, 16, 8, 8);
    if (!a) {
        zarrc_store_free(s);
        return;
    }
    int32_t c[64];
    for (int i = 0; i < 64; i++)
        c[i] = i * i;
    int64_t at[2] = {0, 0};
    void *enc = NULL;
    size_t esz = 0;
    CHECK_OK(zarrc_array_chunk_encode(&enc, &esz, a, at, c, sizeof c));
    pthread_t th[4];
    tctx t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (tctx){a, enc, esz, c, 0};
        pthread_create(&th[i], NULL, worker, &t[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_MSG(t[i].bad == 0, "thread %d: %d failures", i, t[i].bad);
    }
    zarrc_free(enc);
    zarrc_array_free(a);
    zarrc_store_free(s);
}

/* A 0-d array (coordinates may be NULL) and a v2 array without a fill value (every chunk is
 * stored: never "all fill"). */
static void test_scalar_and_null_fill(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "float64";
    o.ndim = 0;
    o.codecs = "[\"bytes\",\"zstd\"]";
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, s, "scalar", &o));
    double v = 2.5, back = 0;
    size_t cb = 0;
    void *enc = NULL;
    size_t esz = 0;
    if (a) {
        CHECK_OK(zarrc_array_chunk_size(&cb, a));
        CHECK(cb == sizeof(double));
        CHECK_OK(zarrc_array_chunk_encode(&enc, &esz, a, NULL, &v, sizeof v));
        CHECK_OK(zarrc_array_chunk_decode(a, NULL, enc, esz, &back, sizeof back));
        CHECK(back == 2.5);
        zarrc_free(enc);
        zarrc_array_free(a);
    }
    int64_t shape[1] = {6}, chunks[1] = {3};
    zarrc_array_options o2 = ZARRC_ARRAY_OPTIONS_INIT;
    o2.format = 2;
    o2.dtype = "<i2";
    o2.ndim = 1;
    o2.shape = shape;
    o2.chunks = chunks;
    o2.fill_value = "null";
    CHECK_OK(zarrc_array_create(&a, s, "nofill", &o2));
    if (a) {
        int16_t z[3] = {0, 0, 0}, got[3] = {1, 1, 1};
        int64_t at[1] = {1};
        CHECK(zarrc_array_chunk_is_fill(a, z, sizeof z) == 0);
        enc = NULL;
        CHECK_OK(zarrc_array_chunk_encode(&enc, &esz, a, at, z, sizeof z));
        CHECK(enc != NULL); /* stored even though all zeros */
        CHECK_OK(zarrc_array_chunk_decode(a, at, enc, esz, got, sizeof got));
        CHECK(!memcmp(got, z, sizeof z));
        zarrc_free(enc);
        zarrc_array_free(a);
    }
    zarrc_store_free(s);
}

int main(void)
{
    test_against_engine(3, "[\"bytes\",\"zstd\"]", NULL, 4, 5);
    test_against_engine(3, "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}]", NULL, 5, 4);
    test_against_engine(3, "[{\"name\":\"transpose\",\"configuration\":{\"order\":[1,0]}},\"bytes\",\"gzip\"]", NULL, 4, 5);
    test_against_engine(2, NULL, "{\"id\":\"zlib\",\"level\":1}", 4, 5);
    test_against_engine(2, NULL, "null", 4, 5);
    test_fill();
    test_shard();
    test_errors();
    test_threads();
    test_scalar_and_null_fill();
    printf("%d checks, %d failures\n", check_count, check_failures);
    return check_failures != 0;
}
