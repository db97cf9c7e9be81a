/*
 * test_limits.c — resource bounds on bad input, through the public API only:
 *  - decompression bombs through codecs whose output size is not known in advance
 *    ([bytes, gzip, zstd], v3 vlen-utf8, v2 "|O") stop at the per-chunk limit, with an error
 *    naming the chunk and the limit, and peak RSS stays near the limit (measured with VmHWM);
 *  - metadata amplification: item sizes and chunk sizes over the documented limits are refused
 *    naming the field, without allocating what they claim;
 *  - sharding with exploding inner chunk counts, huge codec lists;
 *  - JSON nesting: 40-deep attributes (v2 .zattrs and v3 zarr.json) are read, deeper than
 *    ZARRC_MAX_JSON_DEPTH is refused as such; a corrupt .zattrs does not stop reads;
 *  - zarrc_set_max_chunk_bytes / ZARRC_MAX_CHUNK_BYTES.
 */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <zarrc.h>
#include <zarrc_plugin.h> /* zarrc_dtype_parse */

#include "check.h"

#define MiB ((size_t)1 << 20)

/* ---- peak RSS (VmHWM), reset through /proc/self/clear_refs ---- */

static long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':')
            v = atol(line + n + 1);
    if (f)
        fclose(f);
    return v;
}

/* Start a measurement: reset the peak to the current RSS; returns the RSS (KiB). */
static long peak_begin(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
    return status_kb("VmRSS");
}

/* Peak RSS growth (MiB) since peak_begin. */
static long peak_mib(long base_kb) { return (status_kb("VmHWM") - base_kb) / 1024; }

/* AddressSanitizer maps one shadow byte per 8 bytes of every allocation it poisons: a lazily
 * zeroed 2 GiB fill element costs 256 MiB of shadow there, none in a normal build. */
#if defined(__SANITIZE_ADDRESS__)
#define SHADOW_MIB(mib) ((mib) / 8)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SHADOW_MIB(mib) ((mib) / 8)
#endif
#endif
#ifndef SHADOW_MIB
#define SHADOW_MIB(mib) 0
#endif

/* ---- helpers ---- */

static zarrc_store *mem_store(void)
{
    zarrc_store *s = NULL;
    if (zarrc_store_open(&s, "memory://", 0)) {
        fprintf(stderr, "cannot open a memory store: %s\n", zarrc_error_last());
        exit(2);
    }
    return s;
}

static void put_text(zarrc_store *s, const char *key, const char *text)
{
    CHECK_OK(zarrc_store_set(s, key, text, strlen(text)));
}

/* A zstd bomb made by the library itself: `copies` concatenated zstd frames of `frame` zero
 * bytes each (a frame of zeros compresses to well under 1 KiB). *n receives its size. */
static uint8_t *zstd_bomb(size_t *n, size_t frame, int copies)
{
    zarrc_store *s = mem_store();
    zarrc_array *a = NULL;
    int64_t shape = (int64_t)frame;
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "uint8";
    o.ndim = 1;
    o.shape = &shape;
    o.fill_value = "1"; /* zeros are not the fill value: the chunk is stored */
    o.codecs = "[\"bytes\", {\"name\": \"zstd\", \"configuration\": {\"level\": 1, \"checksum\": false}}]";
    uint8_t *zeros = calloc(frame, 1), *bomb = NULL;
    void *one = NULL;
    size_t one_n = 0;
    CHECK_OK(zarrc_array_create(&a, s, "z", &o));
    int64_t start = 0;
    CHECK_OK(zarrc_array_write(a, &start, &shape, NULL, zeros, frame));
    CHECK_OK(zarrc_store_get(&one, &one_n, s, "z/c/0"));
    if (one && one_n) {
        bomb = malloc(one_n * (size_t)copies);
        for (int i = 0; i < copies; i++)
            memcpy(bomb + (size_t)i * one_n, one, one_n);
    }
    *n = one_n * (size_t)copies;
    zarrc_free(one);
    free(zeros);
    zarrc_array_free(a);
    zarrc_store_free(s);
    if (!bomb) {
        fprintf(stderr, "could not make a zstd bomb\n");
        exit(2);
    }
    return bomb;
}

/* ---- decompression bombs ---- */

/* 256 frames of 16 MiB: 4 GiB of zeros in about 150 KB. */
#define BOMB_FRAME (16 * MiB)
#define BOMB_COPIES 256
#define TEST_LIMIT (64 * MiB)
#define LIMIT_MESSAGE "codec 'zstd': decoded data exceeds the limit of 67108864 bytes per chunk (raise it with " \
                      "ZARRC_MAX_CHUNK_BYTES or zarrc_set_max_chunk_bytes)"

/* Peak RSS growth is measured from one baseline before the first bomb (the engine keeps its
 * per-thread scratch buffers between reads, so separate baselines would hide that). */
static void read_bomb(const char *what, zarrc_array *a, int vlen, long base, const char *needle)
{
    int64_t start = 0, count = zarrc_array_shape(a)[0];
    int rc;
    if (vlen) {
        zarrc_vlen v;
        memset(&v, 0, sizeof v);
        rc = zarrc_array_read(a, &start, &count, NULL, &v, sizeof v);
        zarrc_vlen_clear(&v);
    } else {
        uint8_t buf[1024];
        rc = zarrc_array_read(a, &start, &count, NULL, buf, (size_t)count);
    }
    long peak = peak_mib(base);
    printf("%s: peak RSS growth %ld MiB (limit %zu MiB), error: %s\n", what, peak, TEST_LIMIT / MiB,
           zarrc_error_last());
    CHECK_MSG(rc == ZARRC_ECORRUPT, "%s: rc %d", what, rc);
    CHECK_MSG(strstr(zarrc_error_last(), needle) != NULL, "%s", what);
    CHECK_MSG(strstr(zarrc_error_last(), "chunk '") != NULL, "%s: the chunk is named", what);
    /* The decoder's buffer grows to the limit, not to the 4 GiB the data expands to. */
    CHECK_MSG(peak < (long)(3 * TEST_LIMIT / MiB), "%s: peak RSS growth %ld MiB", what, peak);
}

static void test_bombs(void)
{
    size_t n;
    uint8_t *bomb = zstd_bomb(&n, BOMB_FRAME, BOMB_COPIES);
    printf("zstd bomb: %zu bytes expanding to %zu MiB\n", n, BOMB_FRAME / MiB * BOMB_COPIES);
    CHECK(n < 512 * 1024);
    CHECK_OK(zarrc_set_max_chunk_bytes(TEST_LIMIT));
    zarrc_store *s = mem_store();
    zarrc_array *a = NULL;
    int64_t shape = 1024;

    /* A bytes-to-bytes codec before the last one: zstd's output feeds gzip. */
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "uint8";
    o.ndim = 1;
    o.shape = &shape;
    o.codecs = "[\"bytes\", {\"name\": \"gzip\", \"configuration\": {\"level\": 1}}, \"zstd\"]";
    CHECK_OK(zarrc_array_create(&a, s, "g", &o));
    CHECK_OK(zarrc_store_set(s, "g/c/0", bomb, n));
    long base = peak_begin();
    if (a)
        read_bomb("[bytes, gzip, zstd]", a, 0, base, "codec 'zstd': decoded data exceeds the 1050624 bytes a "
                  "chunk of this array can hold at this stage"); /* 2 * 1024 + 1 MiB */
    zarrc_array_free(a);

    /* v3 variable-length strings: the zstd stage has no known decoded size. */
    zarrc_array_options v = ZARRC_ARRAY_OPTIONS_INIT;
    shape = 4;
    v.dtype = "string";
    v.ndim = 1;
    v.shape = &shape;
    v.codecs = "[\"vlen-utf8\", \"zstd\"]";
    CHECK_OK(zarrc_array_create(&a, s, "v3s", &v));
    CHECK_OK(zarrc_store_set(s, "v3s/c/0", bomb, n));
    if (a)
        read_bomb("v3 string [vlen-utf8, zstd]", a, 1, base, LIMIT_MESSAGE);
    zarrc_array_free(a);

    /* v2 object array ("|O" with the vlen-bytes filter) compressed with zstd. */
    put_text(s, "v2o/.zarray",
             "{\"zarr_format\": 2, \"shape\": [4], \"chunks\": [4], \"dtype\": \"|O\", \"compressor\": "
             "{\"id\": \"zstd\", \"level\": 1}, \"fill_value\": null, \"order\": \"C\", \"filters\": "
             "[{\"id\": \"vlen-bytes\"}]}");
    CHECK_OK(zarrc_store_set(s, "v2o/0", bomb, n));
    CHECK_OK(zarrc_array_open(&a, s, "v2o"));
    if (a)
        read_bomb("v2 |O [vlen-bytes] + zstd", a, 1, base, LIMIT_MESSAGE);
    zarrc_array_free(a);

    /* Legitimate data at the limit still decodes: a chunk of exactly the limit, random (so
     * gzip's output is larger than the chunk and larger than the limit) through
     * [bytes, gzip, crc32c, zstd]; and a vlen chunk whose encoding is just under the limit. */
    CHECK_OK(zarrc_set_max_chunk_bytes(MiB));
    int64_t full = (int64_t)MiB, start = 0;
    o.shape = &full;
    o.codecs = "[\"bytes\", {\"name\": \"gzip\", \"configuration\": {\"level\": 1}}, \"crc32c\", \"zstd\"]";
    uint8_t *data = malloc(MiB), *back = malloc(MiB);
    for (size_t i = 0; i < MiB; i++)
        data[i] = (uint8_t)check_rnd();
    CHECK_OK(zarrc_array_create(&a, s, "edge", &o));
    if (a) {
        CHECK_OK(zarrc_array_write(a, &start, &full, NULL, data, MiB));
        CHECK_OK(zarrc_array_read(a, &start, &full, NULL, back, MiB));
        CHECK(!memcmp(data, back, MiB));
        void *stored = NULL;
        size_t stored_n = 0;
        CHECK_OK(zarrc_store_get(&stored, &stored_n, s, "edge/c/0"));
        CHECK_MSG(stored_n > MiB, "random data grew to %zu bytes", stored_n);
        zarrc_free(stored);
    }
    zarrc_array_free(a);
    a = NULL;
    int64_t four = 4;
    v.shape = &four;
    CHECK_OK(zarrc_array_create(&a, s, "vedge", &v));
    if (a) {
        /* 4 strings: 4 + 4 * 4 bytes of lengths, the rest text, MiB in total once encoded. */
        size_t text = MiB - 20;
        uint64_t offsets[5] = {0, text / 4, text / 2, 3 * (text / 4), text};
        zarrc_vlen in = {4, offsets, data, text}, out;
        for (size_t i = 0; i < text; i++)
            data[i] = (uint8_t)('a' + i % 26);
        memset(&out, 0, sizeof out);
        CHECK_OK(zarrc_array_write(a, &start, &four, NULL, &in, sizeof in));
        CHECK_OK(zarrc_array_read(a, &start, &four, NULL, &out, sizeof out));
        CHECK(out.size == text && out.data && !memcmp(out.data, data, text));
        zarrc_vlen_clear(&out);
    }
    zarrc_array_free(a);
    free(data);
    free(back);
    CHECK_OK(zarrc_set_max_chunk_bytes(0));
    free(bomb);
    zarrc_store_free(s);
}

/* ---- metadata amplification ---- */

static void open_fails(zarrc_store *s, const char *path, int code, const char *needle)
{
    zarrc_array *a = NULL;
    long base = peak_begin();
    CHECK_ERR(zarrc_array_open(&a, s, path), code, needle);
    long peak = peak_mib(base);
    CHECK_MSG(peak < 64, "open '%s' grew RSS by %ld MiB", path, peak);
    zarrc_array_free(a);
}

static void v2_doc(zarrc_store *s, const char *path, const char *dtype, const char *shape, const char *fill)
{
    char key[256], doc[1024];
    snprintf(key, sizeof key, "%s/.zarray", path);
    snprintf(doc, sizeof doc,
             "{\"zarr_format\": 2, \"shape\": %s, \"chunks\": %s, \"dtype\": \"%s\", \"compressor\": null, "
             "\"fill_value\": %s, \"order\": \"C\", \"filters\": null}", shape, shape, dtype, fill);
    put_text(s, key, doc);
}

static void v3_doc(zarrc_store *s, const char *path, const char *dtype, const char *shape, const char *fill,
                   const char *codecs)
{
    char key[256], doc[2048];
    snprintf(key, sizeof key, "%s/zarr.json", path);
    snprintf(doc, sizeof doc,
             "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": %s, \"data_type\": %s, "
             "\"chunk_grid\": {\"name\": \"regular\", \"configuration\": {\"chunk_shape\": %s}}, "
             "\"chunk_key_encoding\": {\"name\": \"default\"}, \"fill_value\": %s, \"codecs\": %s}",
             shape, dtype, shape, fill, codecs);
    put_text(s, key, doc);
}

static void test_item_sizes(void)
{
    zarrc_store *s = mem_store();
    /* Item sizes: refused at open, naming the field and the limit. */
    v2_doc(s, "s2g", "|S2147483648", "[4]", "\"\"");
    open_fails(s, "s2g", ZARRC_EDTYPE, "dtype: data type '|S2147483648': item size 2147483648 exceeds the "
                                       "limit of 2147483647 bytes");
    v2_doc(s, "s99", "|S99999999999", "[4]", "\"\"");
    open_fails(s, "s99", ZARRC_EDTYPE, "item size 99999999999 exceeds the limit of 2147483647 bytes");
    v2_doc(s, "shuge", "|S99999999999999999999999", "[4]", "\"\"");
    open_fails(s, "shuge", ZARRC_EDTYPE, "item size exceeds the limit of 2147483647 bytes");
    v2_doc(s, "u", "<U999999999", "[4]", "\"\"");
    open_fails(s, "u", ZARRC_EDTYPE, "item size 3999999996 exceeds the limit of 2147483647 bytes");
    v2_doc(s, "v", "|V3000000", "[4]", "\"\"");
    open_fails(s, "v", ZARRC_EDTYPE, "item size 3000000 exceeds the limit of 2097152 bytes");
    v3_doc(s, "ntb", "{\"name\": \"null_terminated_bytes\", \"configuration\": {\"length_bytes\": 99999999999}}",
           "[4]", "\"\"", "[\"bytes\"]");
    open_fails(s, "ntb", ZARRC_EDTYPE, "data_type: data type 'null_terminated_bytes': 'length_bytes' 99999999999 "
                                       "exceeds the limit of 2147483647 bytes");
    v3_doc(s, "utf", "{\"name\": \"fixed_length_utf32\", \"configuration\": {\"length_bytes\": 4294967296}}",
           "[4]", "\"\"", "[\"bytes\"]");
    open_fails(s, "utf", ZARRC_EDTYPE, "'length_bytes' 4294967296 exceeds the limit of 2147483647 bytes");
    v3_doc(s, "raw", "{\"name\": \"raw_bytes\", \"configuration\": {\"length_bytes\": 3000000}}", "[4]", "\"\"",
           "[\"bytes\"]");
    open_fails(s, "raw", ZARRC_EDTYPE, "'length_bytes' 3000000 exceeds the limit of 2097152 bytes");
    v3_doc(s, "r", "\"r99999999992\"", "[4]", "[]", "[\"bytes\"]");
    open_fails(s, "r", ZARRC_EDTYPE, "data_type: data type 'r99999999992': item size 12499999999 exceeds the "
                                     "limit of 2097152 bytes");
    v3_doc(s, "rhuge", "\"r999999999999999999999999\"", "[4]", "[]", "[\"bytes\"]");
    open_fails(s, "rhuge", ZARRC_EDTYPE, "exceeds the limit of 2097152 bytes");

    /* The public dtype parser applies the same limits. */
    zarrc_dtype_info dt;
    CHECK_ERR(zarrc_dtype_parse(&dt, "|S99999999999"), ZARRC_EDTYPE, "item size 99999999999 exceeds");
    CHECK_OK(zarrc_dtype_parse(&dt, "|S2147483647"));
    CHECK(dt.item_size == 2147483647u);

    /* At the item size limit the type is accepted, and neither open nor the fill value costs
     * memory proportional to the item size. */
    v3_doc(s, "utfmax", "{\"name\": \"fixed_length_utf32\", \"configuration\": {\"length_bytes\": 2147483644}}",
           "[1]", "\"abc\"", "[\"bytes\"]");
    zarrc_array *a = NULL;
    long base = peak_begin();
    CHECK_OK(zarrc_array_open(&a, s, "utfmax"));
    char *fill = NULL;
    if (a)
        CHECK_OK(zarrc_array_json(&fill, a, ZARRC_JSON_FILL_VALUE));
    long peak = peak_mib(base);
    CHECK_MSG(fill && !strcmp(fill, "\"abc\""), "fill %s", fill ? fill : "(null)");
    CHECK_MSG(peak < 64 + SHADOW_MIB(2048), "fixed_length_utf32 of 2 GiB items: open grew RSS by %ld MiB", peak);
    zarrc_free(fill);
    zarrc_array_free(a);
    zarrc_store_free(s);
}

static void test_chunk_sizes(void)
{
    zarrc_store *s = mem_store();
    zarrc_array *a = NULL;

    /* |S2147483647 x [4]: each item is allowed, the 8 GiB chunk is not. Open still works (the
     * metadata can be inspected); data access names the chunk shape and the limit. */
    v2_doc(s, "s", "|S2147483647", "[4]", "\"\"");
    long base = peak_begin();
    CHECK_OK(zarrc_array_open(&a, s, "s"));
    if (a) {
        int64_t start = 0, count = 4;
        char out[16];
        CHECK_ERR(zarrc_array_read(a, &start, &count, NULL, out, sizeof out), ZARRC_EUNSUPPORTED,
                  "chunks [4]: a chunk of 8589934588 bytes exceeds the limit of 2147483648 bytes per chunk");
        char *json = NULL;
        CHECK_OK(zarrc_array_json(&json, a, ZARRC_JSON_FILL_VALUE));
        zarrc_free(json);
    }
    long peak = peak_mib(base);
    CHECK_MSG(peak < 64 + SHADOW_MIB(2048), "|S2147483647 x 4: RSS grew by %ld MiB", peak);
    zarrc_array_free(a);
    a = NULL;

    /* v3: the same through chunk_shape. */
    v3_doc(s, "big3", "\"uint8\"", "[4294967296]", "0", "[\"bytes\"]");
    CHECK_OK(zarrc_array_open(&a, s, "big3"));
    if (a) {
        int64_t start = 0, count = 1;
        uint8_t out[1];
        CHECK_ERR(zarrc_array_read(a, &start, &count, NULL, out, 1), ZARRC_EUNSUPPORTED,
                  "chunk_shape [4294967296]: a chunk of 4294967296 bytes exceeds the limit");
    }
    zarrc_array_free(a);
    a = NULL;

    /* Create refuses such chunks before writing anything. */
    int64_t shape = (int64_t)1 << 32;
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "uint8";
    o.ndim = 1;
    o.shape = &shape;
    CHECK_ERR(zarrc_array_create(&a, s, "c", &o), ZARRC_EUNSUPPORTED,
              "chunks [4294967296]: a chunk of 4294967296 bytes exceeds the limit of 2147483648 bytes");
    zarrc_node_kind kind;
    int format;
    CHECK(zarrc_node_probe(&kind, &format, s, "c") == ZARRC_ENOTFOUND);

    /* The limit is configurable: lower it and a 2 MiB chunk is refused, restore and it is
     * accepted. Intermediate array representations count too (astype widens 8 times). */
    int64_t two = 2 * (int64_t)MiB;
    o.shape = &two;
    CHECK_OK(zarrc_set_max_chunk_bytes(MiB));
    CHECK(zarrc_get_max_chunk_bytes() == MiB);
    CHECK_ERR(zarrc_array_create(&a, s, "c", &o), ZARRC_EUNSUPPORTED, "a chunk of 2097152 bytes exceeds the limit "
                                                                      "of 1048576 bytes");
    int64_t half = (int64_t)MiB / 2;
    o.shape = &half;
    o.codecs = "[{\"id\": \"astype\", \"encode_dtype\": \"<f8\", \"decode_dtype\": \"|u1\"}, \"bytes\"]";
    CHECK_ERR(zarrc_array_create(&a, s, "c", &o), ZARRC_EUNSUPPORTED, "a chunk of 4194304 bytes exceeds");
    o.codecs = NULL;
    CHECK_OK(zarrc_array_create(&a, s, "c", &o));
    zarrc_array_free(a);
    a = NULL;
    CHECK_OK(zarrc_set_max_chunk_bytes(0));
    o.shape = &two;
    CHECK_OK(zarrc_array_create(&a, s, "c2", &o));
    zarrc_array_free(a);
    a = NULL;

    /* Variable-length chunks count their in-memory element references (16 bytes each). */
    CHECK_OK(zarrc_set_max_chunk_bytes(MiB));
    int64_t n = (int64_t)MiB / 16 + 1;
    zarrc_array_options v = ZARRC_ARRAY_OPTIONS_INIT;
    v.dtype = "string";
    v.ndim = 1;
    v.shape = &n;
    CHECK_ERR(zarrc_array_create(&a, s, "vs", &v), ZARRC_EUNSUPPORTED, "exceeds the limit of 1048576 bytes");
    CHECK_OK(zarrc_set_max_chunk_bytes(0));
    zarrc_store_free(s);
}

static void test_sharding_bounds(void)
{
    zarrc_store *s = mem_store();
    zarrc_array *a = NULL;
    /* 2^40 inner chunks per shard: the index alone would be 16 TiB. */
    v3_doc(s, "sh", "\"uint8\"", "[1099511627776]", "0",
           "[{\"name\": \"sharding_indexed\", \"configuration\": {\"chunk_shape\": [1], \"codecs\": [\"bytes\"]}}]");
    long base = peak_begin();
    CHECK_OK(zarrc_array_open(&a, s, "sh"));
    if (a) {
        int64_t start = 0, count = 1;
        uint8_t out[1];
        CHECK_ERR(zarrc_array_read(a, &start, &count, NULL, out, 1), ZARRC_EUNSUPPORTED,
                  "chunk_shape: the index of 1099511627776 inner chunks per shard (16 bytes each) exceeds the "
                  "limit of 2147483648 bytes");
    }
    zarrc_array_free(a);
    a = NULL;
    /* An index within the limit (2^26 inner chunks: 1 GiB) costs nothing at open. */
    v3_doc(s, "sh2", "\"uint8\"", "[67108864]", "0",
           "[{\"name\": \"sharding_indexed\", \"configuration\": {\"chunk_shape\": [1], \"codecs\": [\"bytes\"]}}]");
    CHECK_OK(zarrc_array_open(&a, s, "sh2"));
    CHECK(a && zarrc_array_inner_chunks(a) && zarrc_array_inner_chunks(a)[0] == 1);
    long peak = peak_mib(base);
    CHECK_MSG(peak < 64, "opening sharded arrays grew RSS by %ld MiB", peak);
    zarrc_array_free(a);
    a = NULL;

    /* Overflowing shard shapes (and so inner chunk counts). */
    v3_doc(s, "sh3", "\"uint8\"", "[4294967296, 4294967296, 4294967296]", "0",
           "[{\"name\": \"sharding_indexed\", \"configuration\": {\"chunk_shape\": [1, 1, 1], \"codecs\": [\"bytes\"]}}]");
    CHECK_ERR(zarrc_array_open(&a, s, "sh3"), ZARRC_EINVAL,
              "chunk_shape: a chunk is too large (its size in bytes overflows)");

    /* Large shards of small inner chunks stay fine: the limit bounds what is decoded at once
     * (inner chunks), not the shard. With a 1 MiB limit: 4 MiB shards of 64 KiB inner chunks. */
    CHECK_OK(zarrc_set_max_chunk_bytes(MiB));
    int64_t shape = 8 * (int64_t)MiB, shard = 4 * (int64_t)MiB;
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "uint8";
    o.ndim = 1;
    o.shape = &shape;
    o.chunks = &shard;
    o.codecs = "[{\"name\": \"sharding_indexed\", \"configuration\": {\"chunk_shape\": [65536], "
               "\"codecs\": [\"bytes\", \"zstd\"]}}]";
    CHECK_OK(zarrc_array_create(&a, s, "ok", &o));
    uint8_t *data = malloc((size_t)shape), *back = malloc((size_t)shape);
    for (int64_t i = 0; i < shape; i++)
        data[i] = (uint8_t)(i * 7 + i / 1000);
    if (a) {
        int64_t start = 0;
        CHECK_OK(zarrc_array_write(a, &start, &shape, NULL, data, (size_t)shape));
        CHECK_OK(zarrc_array_read(a, &start, &shape, NULL, back, (size_t)shape));
        CHECK(!memcmp(data, back, (size_t)shape));
    }
    zarrc_array_free(a);
    a = NULL;
    /* Inner chunks over the limit are refused, naming the sharding configuration. */
    o.codecs = "[{\"name\": \"sharding_indexed\", \"configuration\": {\"chunk_shape\": [2097152], "
               "\"codecs\": [\"bytes\"]}}]";
    CHECK_ERR(zarrc_array_create(&a, s, "bad", &o), ZARRC_EUNSUPPORTED,
              "codec 'sharding_indexed': inner codecs: chunk_shape [2097152]: a chunk of 2097152 bytes exceeds");
    /* Sharding that is not the only codec decodes whole shards: the shard is bounded then. */
    o.codecs = "[{\"name\": \"transpose\", \"configuration\": {\"order\": [0]}}, {\"name\": \"sharding_indexed\", "
               "\"configuration\": {\"chunk_shape\": [65536], \"codecs\": [\"bytes\"]}}]";
    CHECK_ERR(zarrc_array_create(&a, s, "bad", &o), ZARRC_EUNSUPPORTED,
              "chunks [4194304]: a chunk of 4194304 bytes exceeds the limit of 1048576 bytes");
    CHECK_OK(zarrc_set_max_chunk_bytes(0));
    free(data);
    free(back);
    zarrc_store_free(s);
}

static void test_codec_count(void)
{
    zarrc_store *s = mem_store();
    size_t n = 200000, len = 0;
    char *codecs = malloc(n * 12 + 32);
    len += (size_t)sprintf(codecs, "[\"bytes\"");
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(codecs + len, ", \"crc32c\"");
    sprintf(codecs + len, "]");
    /* v3_doc's buffer is small: write the long document by hand. */
    size_t dn = strlen(codecs) + 512;
    char *doc = malloc(dn);
    snprintf(doc, dn,
             "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [4], \"data_type\": \"uint8\", "
             "\"chunk_grid\": {\"name\": \"regular\", \"configuration\": {\"chunk_shape\": [4]}}, "
             "\"chunk_key_encoding\": {\"name\": \"default\"}, \"fill_value\": 0, \"codecs\": %s}", codecs);
    put_text(s, "many/zarr.json", doc);
    zarrc_array *a = NULL;
    long base = peak_begin();
    CHECK_OK(zarrc_array_open(&a, s, "many"));
    if (a) {
        int64_t start = 0, count = 4;
        uint8_t out[4];
        CHECK_ERR(zarrc_array_read(a, &start, &count, NULL, out, 4), ZARRC_EUNSUPPORTED,
                  "more than 128 codecs in one pipeline");
    }
    long peak = peak_mib(base);
    printf("200000 codecs: RSS grew by %ld MiB\n", peak);
    CHECK_MSG(peak < 200, "a long codec list grew RSS by %ld MiB", peak);
    zarrc_array_free(a);
    free(doc);
    free(codecs);
    zarrc_store_free(s);
}

/* ---- JSON nesting ---- */

/* {"a": {"a": ... {"a": 1} ...}} with `depth` objects. */
static char *nested(int depth)
{
    char *t = malloc((size_t)depth * 6 + 8), *p = t;
    for (int i = 0; i < depth; i++)
        p += sprintf(p, "{\"a\":");
    p += sprintf(p, "1");
    for (int i = 0; i < depth; i++)
        *p++ = '}';
    *p = '\0';
    return t;
}

static int attr_depth(const char *json)
{
    int d = 0, max = 0;
    for (const char *p = json; *p; p++) {
        d += *p == '{' || *p == '[';
        d -= *p == '}' || *p == ']';
        max = d > max ? d : max;
    }
    return max;
}

static void test_json_depth(void)
{
    zarrc_store *s = mem_store();
    char *attrs40 = nested(40), *deep = nested(ZARRC_MAX_JSON_DEPTH + 1);
    size_t n = strlen(deep) + 1024;
    char *doc = malloc(n);

    /* v2: 40-deep .zattrs next to a plain .zarray. */
    v2_doc(s, "v2", "<i4", "[2]", "0");
    put_text(s, "v2/.zattrs", attrs40);
    zarrc_array *a = NULL;
    char *json = NULL;
    CHECK_OK(zarrc_array_open(&a, s, "v2"));
    if (a) {
        CHECK_OK(zarrc_array_json(&json, a, ZARRC_JSON_ATTRIBUTES));
        CHECK_MSG(json && attr_depth(json) == 40, "v2 attributes: %s", json ? json : "(null)");
        zarrc_free(json);
        json = NULL;
    }
    zarrc_array_free(a);
    a = NULL;
    CHECK_OK(zarrc_node_attributes(&json, s, "v2"));
    CHECK(json && attr_depth(json) == 40);
    zarrc_free(json);
    json = NULL;

    /* v3: 40-deep attributes inside zarr.json (41 levels in the document). */
    snprintf(doc, n,
             "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [2], \"data_type\": \"int32\", "
             "\"chunk_grid\": {\"name\": \"regular\", \"configuration\": {\"chunk_shape\": [2]}}, "
             "\"chunk_key_encoding\": {\"name\": \"default\"}, \"fill_value\": 0, \"codecs\": [\"bytes\"], "
             "\"attributes\": %s}", attrs40);
    put_text(s, "v3/zarr.json", doc);
    CHECK_OK(zarrc_array_open(&a, s, "v3"));
    if (a) {
        CHECK_OK(zarrc_array_json(&json, a, ZARRC_JSON_ATTRIBUTES));
        CHECK_MSG(json && attr_depth(json) == 40, "v3 attributes: %s", json ? json : "(null)");
        zarrc_free(json);
        json = NULL;
    }
    zarrc_array_free(a);
    a = NULL;
    /* Groups and attribute updates take them too. */
    CHECK_OK(zarrc_group_create(s, "g", 3, attrs40, 0));
    CHECK_OK(zarrc_node_attributes(&json, s, "g"));
    CHECK(json && attr_depth(json) == 40);
    zarrc_free(json);
    json = NULL;

    /* Exactly ZARRC_MAX_JSON_DEPTH levels are read; one more is refused as too deep, not as
     * malformed. */
    char *at_limit = nested(ZARRC_MAX_JSON_DEPTH);
    put_text(s, "v2/.zattrs", at_limit);
    CHECK_OK(zarrc_node_attributes(&json, s, "v2"));
    CHECK(json && attr_depth(json) == ZARRC_MAX_JSON_DEPTH);
    zarrc_free(json);
    json = NULL;
    put_text(s, "v2/.zattrs", deep);
    CHECK_ERR(zarrc_node_attributes(&json, s, "v2"), ZARRC_EUNSUPPORTED,
              "v2/.zattrs: JSON nesting deeper than 1000 levels");
    CHECK_ERR(zarrc_group_create(s, "g3", 3, deep, 0), ZARRC_EUNSUPPORTED, "JSON nesting deeper than 1000 levels");
    snprintf(doc, n,
             "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [2], \"data_type\": \"int32\", "
             "\"chunk_grid\": {\"name\": \"regular\", \"configuration\": {\"chunk_shape\": [2]}}, "
             "\"chunk_key_encoding\": {\"name\": \"default\"}, \"fill_value\": 0, \"codecs\": [\"bytes\"], "
             "\"attributes\": %s}", deep);
    put_text(s, "v3deep/zarr.json", doc);
    CHECK_ERR(zarrc_array_open(&a, s, "v3deep"), ZARRC_EUNSUPPORTED, "v3deep/zarr.json: JSON nesting deeper than "
                                                                     "1000 levels");
    CHECK(!strstr(zarrc_error_last(), "malformed"));
    free(at_limit);
    free(doc);
    free(deep);
    free(attrs40);
    zarrc_store_free(s);
}

/* A corrupt v2 .zattrs does not stop reads; the attributes accessor reports it. */
static void test_corrupt_zattrs(void)
{
    static const char *const bad[] = {"{\"a\": ", "[1, 2]", "{\"x\": 1} trailing", NULL};
    static const char *const why[] = {"malformed JSON", "attributes must be a JSON object", "trailing text"};
    zarrc_store *s = mem_store();
    for (int i = 0; bad[i]; i++) {
        zarrc_store_erase_prefix(s, "");
        v2_doc(s, "a", "<i4", "[2]", "0");
        int32_t vals[2] = {7, -9}, back[2] = {0, 0};
        zarrc_array *a = NULL;
        CHECK_OK(zarrc_array_open(&a, s, "a"));
        int64_t start = 0, count = 2;
        if (a)
            CHECK_OK(zarrc_array_write(a, &start, &count, NULL, vals, sizeof vals));
        zarrc_array_free(a);
        a = NULL;
        put_text(s, "a/.zattrs", bad[i]);
        CHECK_OK(zarrc_array_open(&a, s, "a"));
        if (!a)
            continue;
        CHECK_OK(zarrc_array_read(a, &start, &count, NULL, back, sizeof back));
        CHECK(back[0] == 7 && back[1] == -9);
        char *json = NULL;
        CHECK_OK(zarrc_array_json(&json, a, ZARRC_JSON_METADATA));
        zarrc_free(json);
        json = NULL;
        CHECK_ERR(zarrc_array_json(&json, a, ZARRC_JSON_ATTRIBUTES), ZARRC_EINVAL, why[i]);
        CHECK_MSG(strstr(zarrc_error_last(), "array 'a': ") && strstr(zarrc_error_last(), "a/.zattrs"), "names "
                  "the node and the document");
        CHECK(json == NULL);
        zarrc_array_free(a);
    }
    zarrc_store_free(s);
}

/* ---- the setting itself ---- */

static void test_setting(void)
{
    /* The environment is read on first use (this is the first call of the process). */
    setenv("ZARRC_MAX_CHUNK_BYTES", "3M", 1);
    CHECK(zarrc_get_max_chunk_bytes() == 3 * MiB);
    setenv("ZARRC_MAX_CHUNK_BYTES", "12345", 1);
    CHECK(zarrc_get_max_chunk_bytes() == 3 * MiB); /* not re-read on every use */
    /* ... and by zarrc_set_max_chunk_bytes(0). */
    static const struct {
        const char *env;
        uint64_t want;
    } cases[] = {
        {"12345", 12345}, {"4GiB", (uint64_t)4 << 30}, {"2k", 2048}, {"5MB", 5 * MiB}, {"1T", (uint64_t)1 << 40},
        {"lots", ZARRC_DEFAULT_MAX_CHUNK_BYTES}, {"5X", ZARRC_DEFAULT_MAX_CHUNK_BYTES},
        {"99999999999T", ZARRC_DEFAULT_MAX_CHUNK_BYTES}, {"0", ZARRC_DEFAULT_MAX_CHUNK_BYTES},
        {"", ZARRC_DEFAULT_MAX_CHUNK_BYTES},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        setenv("ZARRC_MAX_CHUNK_BYTES", cases[i].env, 1);
        CHECK_OK(zarrc_set_max_chunk_bytes(0));
        CHECK_MSG(zarrc_get_max_chunk_bytes() == cases[i].want, "ZARRC_MAX_CHUNK_BYTES=%s gave %llu", cases[i].env,
                  (unsigned long long)zarrc_get_max_chunk_bytes());
    }
    unsetenv("ZARRC_MAX_CHUNK_BYTES");
    CHECK_OK(zarrc_set_max_chunk_bytes(0));
    CHECK(zarrc_get_max_chunk_bytes() == ZARRC_DEFAULT_MAX_CHUNK_BYTES);
    CHECK(ZARRC_DEFAULT_MAX_CHUNK_BYTES == (uint64_t)2147483648u);
    /* The API setting wins over the environment. */
    setenv("ZARRC_MAX_CHUNK_BYTES", "1K", 1);
    CHECK_OK(zarrc_set_max_chunk_bytes(5000));
    CHECK(zarrc_get_max_chunk_bytes() == 5000);
    CHECK_OK(zarrc_set_max_chunk_bytes(0));
    CHECK(zarrc_get_max_chunk_bytes() == 1024);
    /* The environment's limit applies to creation like the API's. */
    zarrc_store *s = mem_store();
    zarrc_array *a = NULL;
    int64_t shape = 2048;
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "uint8";
    o.ndim = 1;
    o.shape = &shape;
    CHECK_ERR(zarrc_array_create(&a, s, "x", &o), ZARRC_EUNSUPPORTED, "exceeds the limit of 1024 bytes");
    unsetenv("ZARRC_MAX_CHUNK_BYTES");
    CHECK_OK(zarrc_set_max_chunk_bytes(0));
    CHECK_OK(zarrc_array_create(&a, s, "x", &o));
    zarrc_array_free(a);
    zarrc_store_free(s);
}

int main(void)
{
    test_setting();
    test_bombs();
    test_item_sizes();
    test_chunk_sizes();
    test_sharding_bounds();
    test_codec_count();
    test_json_depth();
    test_corrupt_zattrs();
    return check_report("test_limits");
}
