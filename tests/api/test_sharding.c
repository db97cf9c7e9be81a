/* API tests for sharded arrays: round trips, request counts, partial writes, corruption. */
#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#include "counting.h"
#include "zarrc.h"

static const char *inner_zstd =
    "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[4,4],"
    "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"zstd\",\"configuration\":{\"level\":1}}],"
    "\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}],"
    "\"index_location\":\"%s\"}}]";

/* A 2-d array h x w of shards sh x sw (fill: JSON, NULL = the type's default). */
static zarrc_array *make_fill(zarrc_store *s, const char *path, const char *codecs, const char *dtype,
                              int64_t h, int64_t w, int64_t sh, int64_t sw, const char *fill)
{
    int64_t shape[2] = {h, w}, chunks[2] = {sh, sw};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = dtype;
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    o.codecs = codecs;
    o.fill_value = fill;
    o.flags = ZARRC_OVERWRITE;
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, s, path, &o));
    return a;
}

static zarrc_array *make(zarrc_store *s, const char *path, const char *codecs, const char *dtype,
                         int64_t h, int64_t w, int64_t sh, int64_t sw)
{
    return make_fill(s, path, codecs, dtype, h, w, sh, sw, NULL);
}

/* 18x13 int32 with 8x8 shards of 4x4 inner chunks (ragged everywhere), both index locations. */
static void test_roundtrip(const char *loc)
{
    char codecs[1024];
    snprintf(codecs, sizeof codecs, inner_zstd, loc);
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    zarrc_array *a = make(s, "arr", codecs, "int32", 18, 13, 8, 8);
    if (!a)
        return;
    int32_t all[18 * 13], got[18 * 13];
    for (int i = 0; i < 18 * 13; i++)
        all[i] = (i % 7 == 0) ? 0 : i; /* zeros (the fill) scattered: some inner chunks stay empty */
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 4; k++)
            all[i * 13 + k] = 0; /* inner chunk (0,0) entirely fill: must be omitted */
    int64_t z[2] = {0, 0}, shape[2] = {18, 13};
    CHECK_OK(zarrc_array_write(a, z, shape, NULL, all, sizeof all));
    memset(got, 0xff, sizeof got);
    CHECK_OK(zarrc_array_read(a, z, shape, NULL, got, sizeof got));
    CHECK(!memcmp(all, got, sizeof all));
    /* Strided read across shard boundaries. */
    int64_t st[2] = {1, 2}, cnt2[2] = {6, 4}, step[2] = {3, 3};
    int32_t sub[24];
    CHECK_OK(zarrc_array_read(a, st, cnt2, step, sub, sizeof sub));
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < 4; k++)
            CHECK(sub[i * 4 + k] == all[(1 + 3 * i) * 13 + 2 + 3 * k]);
    /* Partial write spanning shards, then everything reads back. */
    int64_t pst[2] = {5, 6}, pc[2] = {7, 5};
    int32_t patch[35];
    for (int i = 0; i < 35; i++)
        patch[i] = 1000 + i;
    CHECK_OK(zarrc_array_write(a, pst, pc, NULL, patch, sizeof patch));
    for (int i = 0; i < 7; i++)
        for (int k = 0; k < 5; k++)
            all[(5 + i) * 13 + 6 + k] = patch[i * 5 + k];
    zarrc_array_free(a);
    CHECK_OK(zarrc_array_open(&a, s, "arr"));
    if (a) {
        CHECK_OK(zarrc_array_read(a, z, shape, NULL, got, sizeof got));
        CHECK(!memcmp(all, got, sizeof all));
        /* Writing the fill everywhere erases every shard. */
        memset(all, 0, sizeof all);
        CHECK_OK(zarrc_array_write(a, z, shape, NULL, all, sizeof all));
        void *d;
        size_t n;
        CHECK(zarrc_store_get(&d, &n, s, "arr/c/0/0") == ZARRC_ENOTFOUND);
        CHECK(zarrc_store_get(&d, &n, s, "arr/c/2/1") == ZARRC_ENOTFOUND);
        zarrc_array_free(a);
    }
    zarrc_store_free(s);
}

/* Random box writes against an in-memory model: partly covered inner chunks over stored and
 * missing ones, ragged (padded) edge shards, fill-only inner chunks, whole shards — with the
 * encoded inner chunk buffers reused from one write (and round) to the next, bytes-only inner
 * codecs (gathered straight into the encoded buffer) and compressed ones. The memory store
 * gets each shard joined into one buffer, the filesystem store as pieces (putv); inner chunks
 * of 1x1 make 64 of them per 8x8 shard, plus the index: more than one pwritev. */
static void test_random_writes(const char *url, const char *inner, int inner_side, const char *loc, int threads)
{
    char codecs[512];
    snprintf(codecs, sizeof codecs,
             "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[%d,%d],"
             "\"codecs\":%s,\"index_codecs\":[\"bytes\",\"crc32c\"],\"index_location\":\"%s\"}}]",
             inner_side, inner_side, inner, loc);
    int old = zarrc_get_num_threads();
    zarrc_set_num_threads(threads);
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, url, 0));
    enum { H = 37, W = 29 };
    zarrc_array *a = make(s, "r", codecs, "uint16", H, W, 8, 8);
    if (!a) {
        zarrc_store_free(s);
        zarrc_set_num_threads(old);
        return;
    }
    static uint16_t model[H * W], got[H * W], box[H * W];
    memset(model, 0, sizeof model);
    uint32_t seed = 12345;
    for (int it = 0; it < 300; it++) {
        seed = seed * 1103515245u + 12345u;
        int64_t st[2] = {(seed >> 8) % H, (seed >> 16) % W};
        seed = seed * 1103515245u + 12345u;
        int64_t cnt[2] = {1 + (seed >> 8) % (H - st[0]), 1 + (seed >> 16) % (W - st[1])};
        if (it % 50 == 0) { /* the whole array now and then */
            st[0] = st[1] = 0;
            cnt[0] = H;
            cnt[1] = W;
        }
        bool zeros = it % 7 == 3; /* fill: inner chunks become empty */
        for (int64_t i = 0; i < cnt[0]; i++)
            for (int64_t k = 0; k < cnt[1]; k++) {
                uint16_t v = zeros ? 0 : (uint16_t)(it * 131 + i * 7 + k + 1);
                box[i * cnt[1] + k] = v;
                model[(st[0] + i) * W + st[1] + k] = v;
            }
        CHECK_OK(zarrc_array_write(a, st, cnt, NULL, box, (size_t)(cnt[0] * cnt[1]) * 2));
        if (it % 10 == 9 || it % 50 == 0) {
            int64_t z[2] = {0, 0}, shape[2] = {H, W};
            memset(got, 0xff, sizeof got);
            CHECK_OK(zarrc_array_read(a, z, shape, NULL, got, sizeof got));
            CHECK_MSG(!memcmp(model, got, sizeof got), "%s, %s, inner %d, index at %s, %d threads: contents "
                      "differ after write %d", url, inner, inner_side, loc, threads, it);
        }
    }
    zarrc_array_free(a);
    zarrc_store_free(s);
    zarrc_set_num_threads(old);
}

/* The spec's worked example: uint8 [4,4] shard, inner [2,2], only inner chunk (0,1) present. */
static void test_spec_bytes(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    const char *codecs = "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2,2],"
                         "\"codecs\":[\"bytes\"],\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":"
                         "{\"endian\":\"little\"}},\"crc32c\"],\"index_location\":\"end\"}}]";
    zarrc_array *a = make(s, "", codecs, "uint8", 4, 4, 4, 4);
    if (!a)
        return;
    uint8_t v[4] = {1, 2, 3, 4};
    int64_t st[2] = {0, 2}, c[2] = {2, 2};
    CHECK_OK(zarrc_array_write(a, st, c, NULL, v, 4));
    void *d = NULL;
    size_t n = 0;
    CHECK_OK(zarrc_store_get(&d, &n, s, "c/0/0"));
    static const uint8_t crc[4] = {0x33, 0x17, 0x27, 0xb5};
    CHECK(n == 72);
    if (n == 72) {
        const uint8_t *b = d;
        CHECK(!memcmp(b, v, 4));
        CHECK(b[4] == 0xff && b[20] == 0 && b[28] == 4);
        CHECK(!memcmp(b + 68, crc, 4));
    }
    zarrc_free(d);
    zarrc_array_free(a);
    zarrc_store_free(s);
}

/* Request and decode counts through the counting store and codec. */
static void test_costs(void)
{
    CHECK_OK(zarrc_store_register(&counting_store));
    CHECK_OK(zarrc_codec_register(&counting_codec));
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "count://", 0));
    const char *codecs = "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[4,4],"
                         "\"codecs\":[\"bytes\",{\"name\":\"test.count\"}],\"index_location\":\"end\"}}]";
    zarrc_array *a = make(s, "a", codecs, "uint16", 16, 16, 16, 16);
    if (!a)
        return;
    uint16_t all[256], got[16];
    for (int i = 0; i < 256; i++)
        all[i] = (uint16_t)(i + 1);
    int64_t z[2] = {0, 0}, shape[2] = {16, 16};
    CHECK_OK(zarrc_array_write(a, z, shape, NULL, all, sizeof all));
    zarrc_array_free(a);
    CHECK_OK(zarrc_array_open(&a, s, "a"));
    if (!a)
        return;
    /* One inner chunk: index (suffix) + that chunk = 2 requests, 16*16+4 + 32 bytes. */
    counters_reset();
    int64_t st[2] = {4, 8}, c[2] = {4, 4};
    CHECK_OK(zarrc_array_read(a, st, c, NULL, got, sizeof got));
    CHECK(cnt.gets == 2);
    CHECK(cnt.bytes_read <= 16 * 16 + 4 + 32);
    CHECK(got[0] == all[4 * 16 + 8] && got[15] == all[7 * 16 + 11]);
    /* Same shard again: the index is cached, 1 request. */
    counters_reset();
    int64_t st2[2] = {12, 0};
    CHECK_OK(zarrc_array_read(a, st2, c, NULL, got, sizeof got));
    CHECK(cnt.gets == 1);
    /* Two version queries: one validates the cached index, one after the data arrived checks
     * that the shard was not replaced in between (else the read is retried: no torn reads). */
    CHECK(cnt.versions == 2);
    CHECK(got[0] == all[12 * 16]);
    /* Another writer (a second handle: as another process would) rewrites the shard with a
     * different layout — rows 0..7 become fill, so their inner chunks are dropped and the
     * others move: the first handle's cached index is stale and must not be used. */
    {
        zarrc_array *other = NULL;
        CHECK_OK(zarrc_array_open(&other, s, "a"));
        uint16_t zeros[128] = {0};
        int64_t half[2] = {8, 16};
        if (other)
            CHECK_OK(zarrc_array_write(other, z, half, NULL, zeros, sizeof zeros));
        zarrc_array_free(other);
        memset(got, 0xff, sizeof got);
        CHECK_OK(zarrc_array_read(a, st2, c, NULL, got, sizeof got));
        CHECK_MSG(got[0] == all[12 * 16] && got[15] == all[15 * 16 + 3], "stale shard index served: got %u",
                  got[0]);
        int64_t st3[2] = {4, 0};
        CHECK_OK(zarrc_array_read(a, st3, c, NULL, got, sizeof got));
        CHECK(got[0] == 0 && got[15] == 0);
        /* Put the original data back for the checks below. */
        CHECK_OK(zarrc_array_write(a, z, shape, NULL, all, sizeof all));
    }
    /* Partial shard write: decodes only the touched inner chunk (one, partly covered), copies the
     * other 15 as they are, writes the shard once. */
    counters_reset();
    uint16_t two[2] = {9, 9};
    int64_t wst[2] = {1, 1}, wc[2] = {1, 2};
    CHECK_OK(zarrc_array_write(a, wst, wc, NULL, two, sizeof two));
    CHECK(cnt.decodes == 1);
    CHECK(cnt.encodes == 1);
    CHECK(cnt.sets == 1);
    all[1 * 16 + 1] = all[1 * 16 + 2] = 9;
    uint16_t back[256];
    CHECK_OK(zarrc_array_read(a, z, shape, NULL, back, sizeof back));
    CHECK(!memcmp(back, all, sizeof all));
    zarrc_array_free(a);
    zarrc_store_free(s);
}

/* Corrupt shards give errors naming the shard and the problem. */
static void test_corrupt(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    const char *codecs = "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2,2],"
                         "\"codecs\":[\"bytes\"],\"index_codecs\":[\"bytes\",\"crc32c\"]}}]";
    zarrc_array *a = make(s, "x", codecs, "uint8", 4, 4, 4, 4);
    if (!a)
        return;
    uint8_t v[16], got[16];
    for (int i = 0; i < 16; i++)
        v[i] = (uint8_t)(i + 1);
    int64_t z[2] = {0, 0}, sh[2] = {4, 4};
    CHECK_OK(zarrc_array_write(a, z, sh, NULL, v, 16));
    void *d = NULL;
    size_t n = 0;
    CHECK_OK(zarrc_store_get(&d, &n, s, "x/c/0/0"));
    uint8_t *b = d, shard[200];
    memcpy(shard, b, n);
    zarrc_free(d);
    /* Bad checksum. */
    shard[n - 1] ^= 0xff;
    CHECK_OK(zarrc_store_set(s, "x/c/0/0", shard, n));
    zarrc_array_free(a);
    CHECK_OK(zarrc_array_open(&a, s, "x"));
    CHECK_ERR(zarrc_array_read(a, z, sh, NULL, got, 16), ZARRC_ECORRUPT, "shard 'x/c/0/0'");
    CHECK(strstr(zarrc_error_last(), "crc32c") || strstr(zarrc_error_last(), "checksum"));
    /* Truncated shard (shorter than its index). */
    CHECK_OK(zarrc_store_set(s, "x/c/0/0", shard, 10));
    zarrc_array_free(a);
    CHECK_OK(zarrc_array_open(&a, s, "x"));
    CHECK_ERR(zarrc_array_read(a, z, sh, NULL, got, 16), ZARRC_ECORRUPT, "shorter than its index");
    zarrc_array_free(a);
    zarrc_store_free(s);
}

/* A read of many shards (each thread then reads whole shards one after another, their fetched
 * bytes reused from shard to shard): shards of very different sizes, missing shards and
 * inner chunks (fill), ragged edges, strided reads, every thread count; then a corrupt inner
 * chunk is an error naming its shard and inner chunk. */
static void test_many_shards(void)
{
    enum { H = 40, W = 36 };
    char codecs[1024];
    snprintf(codecs, sizeof codecs, inner_zstd, "end");
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    int64_t shape[2] = {H, W};
    zarrc_array *a = make_fill(s, "m", codecs, "int32", H, W, 8, 8, "-7");
    if (!a)
        return;
    static int32_t all[H * W], got[H * W];
    uint32_t x = 12345;
    for (int i = 0; i < H; i++)
        for (int k = 0; k < W; k++) {
            int sr = i / 8, sc = k / 8;
            x = x * 1664525u + 1013904223u;
            /* odd shards random (large encoded), even ones constant runs (small) */
            all[i * W + k] = (sr + sc) % 2 ? (int32_t)(x >> 1) : sr * 100 + sc;
        }
    int64_t z[2] = {0, 0};
    CHECK_OK(zarrc_array_write(a, z, shape, NULL, all, sizeof all));
    /* Shards (1,1) and (4,2) removed (read as fill); inner chunk (0,1) of shard (2,3) all fill. */
    CHECK_OK(zarrc_store_erase(s, "m/c/1/1"));
    CHECK_OK(zarrc_store_erase(s, "m/c/4/2"));
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 8; k++) {
            all[(8 + i) * W + 8 + k] = -7;
            all[(32 + i) * W + 16 + k] = -7;
        }
    int32_t fillblk[16];
    for (int i = 0; i < 16; i++)
        fillblk[i] = -7;
    int64_t fst[2] = {16, 28}, fc[2] = {4, 4};
    CHECK_OK(zarrc_array_write(a, fst, fc, NULL, fillblk, sizeof fillblk));
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 4; k++)
            all[(16 + i) * W + 28 + k] = -7;
    for (int threads = 1; threads <= 3; threads++) {
        CHECK_OK(zarrc_set_num_threads(threads));
        memset(got, 0x55, sizeof got);
        CHECK_OK(zarrc_array_read(a, z, shape, NULL, got, sizeof got));
        CHECK(!memcmp(all, got, sizeof all));
        int64_t st[2] = {1, 3}, cnt[2] = {13, 11}, step[2] = {3, 3};
        int32_t sub[13 * 11];
        CHECK_OK(zarrc_array_read(a, st, cnt, step, sub, sizeof sub));
        int bad = 0;
        for (int i = 0; i < 13; i++)
            for (int k = 0; k < 11; k++)
                bad += sub[i * 11 + k] != all[(1 + 3 * i) * W + 3 + 3 * k];
        CHECK(bad == 0);
    }
    /* Corrupt the inner chunk stored first in shard (3,0): the magic number of its zstd frame. */
    void *d = NULL;
    size_t n = 0;
    CHECK_OK(zarrc_store_get(&d, &n, s, "m/c/3/0"));
    if (d && n > 8) {
        uint8_t *b = d;
        for (size_t i = 0; i < 4; i++)
            b[i] ^= 0x5a;
        CHECK_OK(zarrc_store_set(s, "m/c/3/0", b, n));
    }
    zarrc_free(d);
    for (int threads = 1; threads <= 3; threads++) {
        CHECK_OK(zarrc_set_num_threads(threads));
        CHECK(zarrc_array_read(a, z, shape, NULL, got, sizeof got) != ZARRC_OK);
        CHECK(strstr(zarrc_error_last(), "shard 'm/c/3/0'") && strstr(zarrc_error_last(), "inner chunk"));
    }
    CHECK_OK(zarrc_set_num_threads(0));
    zarrc_array_free(a);
    zarrc_store_free(s);
}

/* An index (without a checksum) whose entries claim terabytes: an error naming the shard, never
 * an allocation of the claimed size — in a read of one shard and in one of many. */
static void test_index_claims(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    const char *codecs = "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2,2],"
                         "\"codecs\":[\"bytes\",{\"name\":\"zstd\"}],\"index_codecs\":[{\"name\":\"bytes\","
                         "\"configuration\":{\"endian\":\"little\"}}]}}]";
    zarrc_array *a = make(s, "h", codecs, "uint8", 16, 16, 4, 4);
    if (!a)
        return;
    uint8_t v[256], got[256];
    for (int i = 0; i < 256; i++)
        v[i] = (uint8_t)(i * 7 + 1);
    int64_t z[2] = {0, 0}, sh[2] = {16, 16}, one[2] = {4, 8}, four[2] = {4, 4};
    CHECK_OK(zarrc_array_write(a, z, sh, NULL, v, sizeof v));
    void *d = NULL;
    size_t n = 0;
    CHECK_OK(zarrc_store_get(&d, &n, s, "h/c/1/2"));
    CHECK(n > 4 * 16); /* 4 zstd frames, then the index: 4 (offset, length) pairs */
    if (d && n > 4 * 16) {
        uint8_t *b = d;
        /* The last stored inner chunk's length, then the first one's offset, set to 2^40 (neither
         * overlaps another entry: only the shard's size can refute them). */
        const size_t fields[2] = {n - 64 + 16 * 3 + 8, n - 64};
        for (int k = 0; k < 2; k++) {
            uint8_t saved[8];
            memcpy(saved, b + fields[k], 8);
            memset(b + fields[k], 0, 8);
            b[fields[k] + 5] = 0x01;
            CHECK_OK(zarrc_store_set(s, "h/c/1/2", b, n));
            for (int threads = 1; threads <= 2; threads++) {
                CHECK_OK(zarrc_set_num_threads(threads));
                CHECK_ERR(zarrc_array_read(a, z, sh, NULL, got, sizeof got), ZARRC_ECORRUPT, "shard 'h/c/1/2'");
                CHECK_ERR(zarrc_array_read(a, one, four, NULL, got, 16), ZARRC_ECORRUPT, "past the end");
            }
            memcpy(b + fields[k], saved, 8);
        }
    }
    zarrc_free(d);
    CHECK_OK(zarrc_set_num_threads(0));
    zarrc_array_free(a);
    zarrc_store_free(s);
}

static void test_strings(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    const char *codecs = "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[1,2],"
                         "\"codecs\":[\"vlen-utf8\",{\"name\":\"zstd\",\"configuration\":{\"level\":1}}],"
                         "\"index_codecs\":[\"bytes\",\"crc32c\"]}}]";
    int64_t shape[2] = {3, 3}, chunks[2] = {2, 4};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "string";
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    o.codecs = codecs;
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, s, "s", &o));
    if (!a)
        return;
    const char *txt = "abcdefghi";
    uint64_t offs[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    zarrc_vlen in = {9, offs, (uint8_t *)txt, 9}, got = {0};
    int64_t z[2] = {0, 0};
    CHECK_OK(zarrc_array_write(a, z, shape, NULL, &in, sizeof in));
    CHECK_OK(zarrc_array_read(a, z, shape, NULL, &got, sizeof got));
    CHECK(got.count == 9 && got.size == 9 && !memcmp(got.data, txt, 9));
    zarrc_vlen_clear(&got);
    zarrc_array_free(a);
    zarrc_store_free(s);
}

/* A transpose before sharding_indexed: the whole-shard codec path (not the engine's fast path). */
static void test_outer_transpose(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    const char *codecs = "[{\"name\":\"transpose\",\"configuration\":{\"order\":[1,0]}},"
                         "{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[3,4],"
                         "\"codecs\":[\"bytes\",{\"name\":\"gzip\"}],\"index_codecs\":[\"bytes\",\"crc32c\"]}}]";
    zarrc_array *a = make(s, "t", codecs, "int16", 13, 11, 8, 6);
    if (!a)
        return;
    CHECK(zarrc_array_inner_chunks(a) == NULL); /* not the plain sharded layout */
    int16_t all[13 * 11], got[13 * 11];
    for (int i = 0; i < 13 * 11; i++)
        all[i] = (int16_t)(i * 3 - 100);
    int64_t z[2] = {0, 0}, shape[2] = {13, 11};
    CHECK_OK(zarrc_array_write(a, z, shape, NULL, all, sizeof all));
    CHECK_OK(zarrc_array_read(a, z, shape, NULL, got, sizeof got));
    CHECK(!memcmp(all, got, sizeof all));
    int64_t st[2] = {3, 2}, c[2] = {5, 5};
    int16_t sub[25];
    CHECK_OK(zarrc_array_read(a, st, c, NULL, sub, sizeof sub));
    CHECK(sub[0] == all[3 * 11 + 2] && sub[24] == all[7 * 11 + 6]);
    zarrc_array_free(a);
    zarrc_store_free(s);
}

/* Inner chunks that are whole rows of the array ([2, 12] inside shards [4, 12]) are contiguous
 * runs of a full-width write: encoded straight from the caller's buffer. The stored shards
 * (zstd is deterministic) must equal those built row by row (each row a partial inner chunk:
 * the gather / read-modify-write path), contents must read back, and the edge shard and inner
 * chunk (11 rows: shard 2 holds 3, its second inner chunk 1) take the padded path. All-fill
 * inner chunks are left out of the index the same way on both paths. */
static void test_contiguous_inner(void)
{
    static const char *codecs =
        "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2,12],"
        "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"zstd\","
        "\"configuration\":{\"level\":1,\"checksum\":false}}],"
        "\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}]}}]";
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    int64_t h = 11, w = 12;
    zarrc_array *a = make(s, "whole", codecs, "int32", h, w, 4, 12), *b = make(s, "rows", codecs, "int32", h, w, 4, 12);
    if (!a || !b)
        return;
    int32_t v[11 * 12], got[11 * 12];
    for (int i = 0; i < h * w; i++)
        v[i] = i / w == 2 || i / w == 3 ? 0 : i * 7 + 1; /* rows 2-3: one all-fill inner chunk */
    int64_t z[2] = {0, 0}, sh[2] = {h, w};
    CHECK_OK(zarrc_array_write(a, z, sh, NULL, v, sizeof v));
    for (int64_t r = 0; r < h; r++) {
        int64_t o[2] = {r, 0}, c[2] = {1, w};
        CHECK_OK(zarrc_array_write(b, o, c, NULL, v + r * w, (size_t)w * sizeof *v));
    }
    CHECK_OK(zarrc_array_read(a, z, sh, NULL, got, sizeof got));
    CHECK_MSG(!memcmp(got, v, sizeof v), "contiguous inner chunks: contents differ");
    for (int k = 0; k < 3; k++) {
        char ka[32], kb[32];
        snprintf(ka, sizeof ka, "whole/c/%d/0", k);
        snprintf(kb, sizeof kb, "rows/c/%d/0", k);
        void *da = NULL, *db = NULL;
        size_t na = 0, nb = 0;
        CHECK_OK(zarrc_store_get(&da, &na, s, ka));
        CHECK_OK(zarrc_store_get(&db, &nb, s, kb));
        CHECK_MSG(da && db && na == nb && !memcmp(da, db, na), "shard %d: %zu vs %zu bytes or different bytes", k,
                  na, nb);
        zarrc_free(da);
        zarrc_free(db);
    }
    /* A write of whole inner chunks inside an existing shard keeps its other inner chunk. */
    int32_t two[2 * 12];
    for (int i = 0; i < 2 * 12; i++)
        two[i] = -i - 5;
    int64_t o4[2] = {4, 0}, c2[2] = {2, w};
    CHECK_OK(zarrc_array_write(a, o4, c2, NULL, two, sizeof two));
    memcpy(v + 4 * w, two, sizeof two);
    CHECK_OK(zarrc_array_read(a, z, sh, NULL, got, sizeof got));
    CHECK_MSG(!memcmp(got, v, sizeof v), "contiguous inner chunks: contents differ after a second write");
    zarrc_array_free(a);
    zarrc_array_free(b);
    zarrc_store_free(s);
}

int main(void)
{
    test_contiguous_inner();
    test_outer_transpose();
    test_roundtrip("end");
    test_roundtrip("start");
    test_spec_bytes();
    test_costs();
    test_corrupt();
    test_many_shards();
    test_index_claims();
    test_strings();
    const char *zstd1 = "[\"bytes\",{\"name\":\"zstd\",\"configuration\":{\"level\":1}}]";
    test_random_writes("memory://", "[\"bytes\"]", 4, "end", 1);
    test_random_writes("memory://", "[\"bytes\"]", 4, "end", 3);
    test_random_writes("memory://", zstd1, 4, "end", 3);
    const char *tmp = getenv("ZARRC_TEST_TMP");
    char url[600], cmd[700];
    snprintf(url, sizeof url, "file://%s/sharding", tmp ? tmp : "testtmp");
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", url + 7, url + 7);
    CHECK(system(cmd) == 0);
    test_random_writes(url, "[\"bytes\"]", 4, "end", 3);
    test_random_writes(url, "[\"bytes\"]", 1, "end", 3);
    test_random_writes(url, "[\"bytes\"]", 1, "start", 1);
    test_random_writes(url, zstd1, 1, "start", 3);
    return check_report("api.sharding");
}
