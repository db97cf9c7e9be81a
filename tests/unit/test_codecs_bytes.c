/*
 * test_codecs_bytes.c — the bytes→bytes codecs: blosc, gzip, zlib, zstd, lz4, bz2, lzma and the
 * checksum codecs. Round trips for every option and edge size, exact byte layouts from the
 * specs, corrupt and truncated inputs (must be ZARRC_ECORRUPT, never a crash), and the v2 / v3
 * JSON spellings.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "../api/check.h"
#include "codec/codec.h"


/* ---- helpers ---- */


/* Semi-compressible test data: small integers with some noise. */
static uint8_t *make_data(size_t n, int kind)
{
    uint8_t *d = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        switch (kind) {
        case 0: d[i] = (uint8_t)((uint32_t)(check_rnd() >> 16)); break;                  /* random */
        case 1: d[i] = (uint8_t)((i / 8) * 7 + (i % 3)); break; /* compressible */
        default: d[i] = 0; break;                               /* zeros */
        }
    }
    return d;
}

static json_object *parse(const char *text)
{
    json_object *o = NULL;
    if (zarrc__json_parse(&o, text, strlen(text), "test") != ZARRC_OK) {
        printf("bad test JSON: %s\n", text);
        exit(2);
    }
    return o;
}

static zarrc_repr repr_of(const char *dtype, int64_t n)
{
    zarrc_repr r;
    memset(&r, 0, sizeof r);
    if (zarrc_dtype_parse(&r.dtype, dtype) != ZARRC_OK) {
        printf("bad dtype %s\n", dtype);
        exit(2);
    }
    r.ndim = 1;
    r.shape[0] = n;
    return r;
}

/* Create a codec from a v2 config ({"id":..}) or, for format 3, a name and configuration. */
static int make_codec(zarrc__codec *c, int format, const char *name, const char *config,
                      const char *dtype)
{
    json_object *cfg = config ? parse(config) : NULL;
    const zarrc_codec_type *t;
    if (format == 2) {
        json_object *id = NULL;
        json_object_object_get_ex(cfg, "id", &id);
        t = zarrc__codec_find_v2(json_object_get_string(id));
    } else
        t = zarrc__codec_find_v3(name);
    if (!t) {
        json_object_put(cfg);
        memset(c, 0, sizeof *c);
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "codec %s not found", name ? name : config);
    }
    zarrc_repr r = repr_of(dtype ? dtype : "|u1", 1000);
    int rc = zarrc__codec_init(c, t, cfg, format, &r, 0);
    json_object_put(cfg);
    return rc;
}

static bool json_same(json_object *a, const char *expected)
{
    json_object *e = parse(expected);
    bool same = json_object_equal(a, e);
    json_object_put(e);
    return same;
}

static void check_json(const zarrc__codec *c, int format, const char *expected)
{
    json_object *j = NULL;
    int rc = zarrc__codec_to_json(&j, c, format);
    CHECK_MSG(rc == ZARRC_OK, "to_json v%d of %s", format, c->type->name);
    if (rc == ZARRC_OK) {
        CHECK_MSG(json_same(j, expected), "v%d JSON of %s: got %s, want %s", format, c->type->name,
              json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN), expected);
        json_object_put(j);
    }
}

/* Encode `data`, decode it back three ways (known size, unknown size, into a borrowed buffer
 * of exactly the right size) and compare. Returns the encoding (caller frees) in *enc. */
static void roundtrip(const zarrc__codec *c, const uint8_t *data, size_t n, zarrc_buf *enc,
                      const char *what)
{
    zarrc_buf e = ZARRC_BUF_INIT, d = ZARRC_BUF_INIT;
    int rc = zarrc__codec_encode(c, data, n, &e);
    CHECK_MSG(rc == ZARRC_OK, "%s: encode %zu bytes", what, n);
    if (rc) {
        zarrc_buf_release(&e);
        return;
    }
    rc = zarrc__codec_decode(c, e.data, e.size, n, 0, &d);
    CHECK_MSG(rc == ZARRC_OK && d.size == n && (n == 0 || !memcmp(d.data, data, n)),
          "%s: decode (known size) of %zu bytes: rc %d size %zu", what, n, rc, d.size);
    d.size = 0;
    rc = zarrc__codec_decode(c, e.data, e.size, 0, 0, &d);
    CHECK_MSG(rc == ZARRC_OK && d.size == n && (n == 0 || !memcmp(d.data, data, n)),
          "%s: decode (unknown size) of %zu bytes: rc %d size %zu", what, n, rc, d.size);
    zarrc_buf_release(&d);
    if (n > 0) {
        uint8_t *dst = malloc(n);
        zarrc_buf b = {dst, 0, n, 1};
        rc = zarrc__codec_decode(c, e.data, e.size, n, 0, &b);
        CHECK_MSG(rc == ZARRC_OK && b.size == n && b.data == dst && !memcmp(dst, data, n),
              "%s: decode into borrowed buffer of %zu bytes: rc %d", what, n, rc);
        /* A destination one byte short must fail cleanly. */
        if (n > 1) {
            zarrc_buf small = {dst, 0, n - 1, 1};
            rc = zarrc__codec_decode(c, e.data, e.size, n - 1, 0, &small);
            CHECK_MSG(rc == ZARRC_ECORRUPT, "%s: decode with too small expected size: rc %d", what,
                  rc);
        }
        free(dst);
    }
    if (enc)
        *enc = e;
    else
        zarrc_buf_release(&e);
}

/* Truncations of a valid encoding must be ECORRUPT (with known and unknown size); random byte
 * corruption must be OK or ECORRUPT, never a crash or an unexpected code. */
static void corruptions(const zarrc__codec *c, const uint8_t *data, size_t n, int rounds,
                        bool truncation_always_detected, const char *what)
{
    zarrc_buf e = ZARRC_BUF_INIT, d = ZARRC_BUF_INIT;
    if (zarrc__codec_encode(c, data, n, &e) != ZARRC_OK) {
        CHECK_MSG(0, "%s: encode for corruption test", what);
        return;
    }
    size_t cuts[] = {0, 1, 3, 4, 5, 12, 15, 16, 17, e.size / 2, e.size - 5, e.size - 4,
                     e.size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        if (cuts[i] >= e.size)
            continue;
        int rc = zarrc__codec_decode(c, e.data, cuts[i], n, 0, &d);
        CHECK_MSG(rc == ZARRC_ECORRUPT, "%s: truncated to %zu of %zu bytes (known size): rc %d", what,
              cuts[i], e.size, rc);
        rc = zarrc__codec_decode(c, e.data, cuts[i], 0, 0, &d);
        if (truncation_always_detected)
            CHECK_MSG(rc == ZARRC_ECORRUPT, "%s: truncated to %zu of %zu bytes (unknown size): rc %d",
                  what, cuts[i], e.size, rc);
        else
            CHECK_MSG(rc == ZARRC_ECORRUPT || (rc == ZARRC_OK && d.size != n),
                  "%s: truncated to %zu (unknown size): rc %d", what, cuts[i], rc);
    }
    uint8_t *m = malloc(e.size);
    for (int r = 0; r < rounds; r++) {
        memcpy(m, e.data, e.size);
        int flips = 1 + (int)(((uint32_t)(check_rnd() >> 16)) % 4);
        for (int f = 0; f < flips; f++)
            m[((uint32_t)(check_rnd() >> 16)) % e.size] ^= (uint8_t)(1u << (((uint32_t)(check_rnd() >> 16)) % 8));
        int rc = zarrc__codec_decode(c, m, e.size, n, 0, &d);
        CHECK_MSG(rc == ZARRC_OK || rc == ZARRC_ECORRUPT, "%s: corrupted (known size): rc %d", what,
              rc);
        rc = zarrc__codec_decode(c, m, e.size, 0, 0, &d);
        CHECK_MSG(rc == ZARRC_OK || rc == ZARRC_ECORRUPT || rc == ZARRC_EUNSUPPORTED,
              "%s: corrupted (unknown size): rc %d", what, rc);
    }
    free(m);
    zarrc_buf_release(&e);
    zarrc_buf_release(&d);
}

static void sizes_roundtrip(const zarrc__codec *c, const char *what)
{
    static const size_t sizes[] = {0, 1, 2, 3, 7, 8, 100, 127, 128, 129, 1000, 4099, 65536,
                                   200003};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        for (int kind = 0; kind < 3; kind++) {
            uint8_t *d = make_data(sizes[i], kind);
            char label[160];
            snprintf(label, sizeof label, "%s [%zu bytes, kind %d]", what, sizes[i], kind);
            roundtrip(c, d, sizes[i], NULL, label);
            free(d);
        }
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Bit-at-a-time CRC-32C reference. */
static uint32_t crc32c_ref(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
}

static bool error_mentions(const char *needle)
{
    return strstr(zarrc_error_last(), needle) != NULL;
}

/* ---- checksums ---- */

static void test_checksums(void)
{
    zarrc__codec c;
    zarrc_buf e = ZARRC_BUF_INIT, d = ZARRC_BUF_INIT;
    const uint8_t *check = (const uint8_t *)"123456789";

    /* crc32c: core v3 name and v2 id; appended LE. */
    CHECK_MSG(make_codec(&c, 3, "crc32c", NULL, NULL) == ZARRC_OK, "crc32c v3");
    CHECK_MSG(zarrc__codec_encode(&c, check, 9, &e) == ZARRC_OK && e.size == 13 &&
              le32(e.data + 9) == 0xE3069283u && !memcmp(e.data, check, 9),
          "crc32c of 123456789 is 0xE3069283, appended");
    CHECK_MSG(zarrc__codec_encode(&c, (const uint8_t *)"hello", 5, &e) == ZARRC_OK &&
              e.size == 9 && !memcmp(e.data + 5, "\x4c\xbb\x71\x9a", 4),
          "crc32c of hello is stored 4cbb719a");
    CHECK_MSG(zarrc__codec_encode(&c, check, 0, &e) == ZARRC_OK && e.size == 4 && le32(e.data) == 0,
          "crc32c of empty input is 0");
    check_json(&c, 3, "{\"name\":\"crc32c\"}");
    check_json(&c, 2, "{\"id\":\"crc32c\"}");
    /* Against a bitwise reference at many lengths and alignments (hardware and table paths). */
    uint8_t *big = make_data(70000, 0);
    bool all_ok = true;
    for (size_t off = 0; off < 9 && all_ok; off++)
        for (size_t len = 0; len < 300 && all_ok; len += 1 + len / 7) {
            if (zarrc__codec_encode(&c, big + off, len, &e) != ZARRC_OK ||
                le32(e.data + len) != crc32c_ref(big + off, len))
                all_ok = false;
        }
    CHECK_MSG(all_ok, "crc32c matches the bitwise reference at all offsets/lengths");
    CHECK_MSG(zarrc__codec_encode(&c, big + 3, 69990, &e) == ZARRC_OK &&
              le32(e.data + 69990) == crc32c_ref(big + 3, 69990),
          "crc32c of 69990 bytes");
    free(big);
    sizes_roundtrip(&c, "crc32c");
    /* Corruption: mismatch message, short input. */
    CHECK_MSG(zarrc__codec_encode(&c, check, 9, &e) == ZARRC_OK, "encode");
    e.data[2] ^= 1;
    CHECK_MSG(zarrc__codec_decode(&c, e.data, e.size, 0, 0, &d) == ZARRC_ECORRUPT &&
              error_mentions("checksum mismatch: stored 0xE3069283, computed 0x"),
          "crc32c mismatch reports stored and computed values");
    CHECK_MSG(zarrc__codec_decode(&c, e.data, 3, 0, 0, &d) == ZARRC_ECORRUPT, "crc32c: 3 bytes");
    CHECK_MSG(zarrc__codec_decode(&c, e.data, 0, 0, 0, &d) == ZARRC_ECORRUPT, "crc32c: 0 bytes");
    uint8_t *data = make_data(5000, 1);
    corruptions(&c, data, 5000, 50, true, "crc32c");
    zarrc__codec_fini(&c);

    /* numcodecs.crc32c alias, location start. */
    CHECK_MSG(make_codec(&c, 3, "numcodecs.crc32c", "{\"location\":\"start\"}", NULL) == ZARRC_OK,
          "numcodecs.crc32c with location start");
    CHECK_MSG(zarrc__codec_encode(&c, check, 9, &e) == ZARRC_OK && le32(e.data) == 0xE3069283u &&
              !memcmp(e.data + 4, check, 9), "crc32c at start");
    check_json(&c, 2, "{\"id\":\"crc32c\",\"location\":\"start\"}");
    check_json(&c, 3, "{\"name\":\"crc32c\",\"configuration\":{\"location\":\"start\"}}");
    sizes_roundtrip(&c, "crc32c@start");
    zarrc__codec_fini(&c);

    /* crc32: zlib CRC-32, prepended by default. */
    CHECK_MSG(make_codec(&c, 2, NULL, "{\"id\":\"crc32\"}", NULL) == ZARRC_OK, "crc32 v2");
    CHECK_MSG(zarrc__codec_encode(&c, check, 9, &e) == ZARRC_OK && e.size == 13 &&
              le32(e.data) == 0xCBF43926u && !memcmp(e.data + 4, check, 9),
          "crc32 of 123456789 is 0xCBF43926, prepended");
    check_json(&c, 2, "{\"id\":\"crc32\"}");
    check_json(&c, 3, "{\"name\":\"numcodecs.crc32\",\"configuration\":{}}"); /* zarr-python 3 needs it */
    sizes_roundtrip(&c, "crc32");
    corruptions(&c, data, 5000, 50, true, "crc32");
    zarrc__codec_fini(&c);
    CHECK_MSG(make_codec(&c, 3, "numcodecs.crc32", "{\"location\":\"end\"}", NULL) == ZARRC_OK,
          "crc32 v3 location end");
    CHECK_MSG(zarrc__codec_encode(&c, check, 9, &e) == ZARRC_OK && le32(e.data + 9) == 0xCBF43926u,
          "crc32 at end");
    check_json(&c, 2, "{\"id\":\"crc32\",\"location\":\"end\"}");
    zarrc__codec_fini(&c);
    CHECK_MSG(make_codec(&c, 2, NULL, "{\"id\":\"crc32\",\"location\":\"middle\"}", NULL) ==
              ZARRC_EINVAL, "crc32 location middle is invalid");

    /* adler32: prepended. */
    CHECK_MSG(make_codec(&c, 2, NULL, "{\"id\":\"adler32\"}", NULL) == ZARRC_OK, "adler32 v2");
    CHECK_MSG(zarrc__codec_encode(&c, check, 9, &e) == ZARRC_OK && le32(e.data) == 0x091E01DEu &&
              !memcmp(e.data + 4, check, 9), "adler32 of 123456789 is 0x091E01DE, prepended");
    CHECK_MSG(zarrc__codec_encode(&c, check, 0, &e) == ZARRC_OK && le32(e.data) == 1,
          "adler32 of empty input is 1");
    check_json(&c, 3, "{\"name\":\"numcodecs.adler32\",\"configuration\":{}}"); /* zarr-python 3 needs it */
    sizes_roundtrip(&c, "adler32");
    corruptions(&c, data, 5000, 50, true, "adler32");
    zarrc__codec_fini(&c);

    /* fletcher32: appended; HDF5 algorithm over big-endian 16-bit words. */
    CHECK_MSG(make_codec(&c, 2, NULL, "{\"id\":\"fletcher32\"}", NULL) == ZARRC_OK, "fletcher32");
    /* "ab" = one word 0x6162: sum1 = 0x6162, sum2 = 0x6162. */
    CHECK_MSG(zarrc__codec_encode(&c, (const uint8_t *)"ab", 2, &e) == ZARRC_OK &&
              le32(e.data + 2) == 0x61626162u, "fletcher32 of 'ab'");
    /* "abc": odd byte is the high byte of a last word 0x6300. */
    CHECK_MSG(zarrc__codec_encode(&c, (const uint8_t *)"abc", 3, &e) == ZARRC_OK &&
              le32(e.data + 3) == 0x25C5C462u, /* sum2 0x6162 + 0xC462 folded: 0x25C5 */
          "fletcher32 of 'abc'");
    check_json(&c, 3, "{\"name\":\"numcodecs.fletcher32\",\"configuration\":{}}"); /* zarr-python 3 needs it */
    sizes_roundtrip(&c, "fletcher32");
    corruptions(&c, data, 5000, 50, true, "fletcher32");
    zarrc__codec_fini(&c);
    free(data);
    zarrc_buf_release(&e);
    zarrc_buf_release(&d);
}

/* numcodecs-written fletcher32 chunks from the zarrs fixtures (v3 float32 and v2 uint16). */
static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc(len > 0 ? (size_t)len : 1);
    *n = fread(d, 1, (size_t)len, f);
    fclose(f);
    return d;
}

static void test_fletcher32_fixtures(void)
{
    const char *shared = getenv("ZARRC_SHARED");
    char path[1024];
    size_t n;
    if (!shared) {
        printf("SKIP: ../shared not found (fletcher32 fixtures)\n");
        return;
    }
    zarrc__codec c;
    zarrc_buf d = ZARRC_BUF_INIT;
    CHECK_MSG(make_codec(&c, 3, "numcodecs.fletcher32", "{}", "<f4") == ZARRC_OK, "fletcher32 v3");
    snprintf(path, sizeof path, "%s/fixtures/zarrs/zarrs/tests/data/v3_zarr_python/"
             "array_fletcher32.zarr/c/1/0", shared);
    uint8_t *in = read_file(path, &n);
    if (!in) {
        printf("SKIP: %s not found\n", path);
    } else {
        /* chunk (1,0) of float32 arange(100) as 10x10 in 5x5 chunks: rows 5-9, cols 0-4. */
        float want[25];
        for (int r = 0; r < 5; r++)
            for (int k = 0; k < 5; k++)
                want[r * 5 + k] = (float)((r + 5) * 10 + k);
        int rc = zarrc__codec_decode(&c, in, n, sizeof want, 0, &d);
        CHECK_MSG(rc == ZARRC_OK && d.size == sizeof want && !memcmp(d.data, want, sizeof want),
              "numcodecs fletcher32 v3 chunk decodes (rc %d)", rc);
        free(in);
    }
    zarrc__codec_fini(&c);
    CHECK_MSG(make_codec(&c, 2, NULL, "{\"id\":\"fletcher32\"}", "<u2") == ZARRC_OK, "fletcher32");
    snprintf(path, sizeof path, "%s/fixtures/zarrs/zarrs/tests/data/zarr_python_compat/"
             "fletcher32.zarr/0.1", shared);
    in = read_file(path, &n);
    if (!in) {
        printf("SKIP: %s not found\n", path);
    } else {
        /* chunk (0,1) of uint16 arange(10000) as 100x100 in 50x50 chunks. */
        uint16_t want[2500];
        for (int r = 0; r < 50; r++)
            for (int k = 0; k < 50; k++)
                want[r * 50 + k] = (uint16_t)(r * 100 + 50 + k);
        int rc = zarrc__codec_decode(&c, in, n, sizeof want, 0, &d);
        CHECK_MSG(rc == ZARRC_OK && d.size == sizeof want && !memcmp(d.data, want, sizeof want),
              "numcodecs fletcher32 v2 chunk decodes (rc %d)", rc);
        /* Re-encoding reproduces the stored bytes exactly. */
        zarrc_buf e = ZARRC_BUF_INIT;
        CHECK_MSG(zarrc__codec_encode(&c, (const uint8_t *)want, sizeof want, &e) == ZARRC_OK &&
                  e.size == n && !memcmp(e.data, in, n), "fletcher32 re-encodes identically");
        zarrc_buf_release(&e);
        free(in);
    }
    zarrc__codec_fini(&c);
    zarrc_buf_release(&d);
}

/* ---- blosc ---- */

static void test_blosc(void)
{
    zarrc__codec c;
    zarrc_buf e = ZARRC_BUF_INIT, d = ZARRC_BUF_INIT;

    /* v2.md §10.1 example 1: two float32 1.0, 2.0 -> memcpyed chunk. */
    CHECK_MSG(make_codec(&c, 2, NULL,
                     "{\"id\":\"blosc\",\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":1,"
                     "\"blocksize\":0}", "<f4") == ZARRC_OK, "blosc v2");
    const float two[2] = {1.0f, 2.0f};
    static const uint8_t ex1[] = {0x02, 0x01, 0x33, 0x04, 0x08, 0, 0, 0, 0x08, 0, 0, 0, 0x18, 0,
                                  0,    0,    0,    0,    0x80, 0x3f, 0, 0, 0, 0x40};
    CHECK_MSG(zarrc__codec_encode(&c, (const uint8_t *)two, 8, &e) == ZARRC_OK &&
              e.size == sizeof ex1 && !memcmp(e.data, ex1, sizeof ex1),
          "blosc example 1 bytes (got %zu bytes, flags 0x%02x)", e.size,
          e.size > 2 ? e.data[2] : 0);
    CHECK_MSG(zarrc__codec_decode(&c, ex1, sizeof ex1, 8, 0, &d) == ZARRC_OK && d.size == 8 &&
              !memcmp(d.data, two, 8), "blosc example 1 decodes");
    /* Example 2: 65536 zero bytes, typesize 4. */
    uint8_t *zeros = calloc(65536, 1);
    static const uint8_t hdr2[] = {0x02, 0x01, 0x21, 0x04, 0x00, 0x00, 0x01, 0x00,
                                   0x00, 0x00, 0x01, 0x00, 0x50, 0x01, 0x00, 0x00};
    CHECK_MSG(zarrc__codec_encode(&c, zeros, 65536, &e) == ZARRC_OK && e.size == 0x150 &&
              !memcmp(e.data, hdr2, 16) && le32(e.data + 16) == 0x14 && le32(e.data + 20) == 75,
          "blosc example 2 header, bstarts and first split size");
    CHECK_MSG(zarrc__codec_decode(&c, e.data, e.size, 65536, 0, &d) == ZARRC_OK && d.size == 65536 &&
              !memcmp(d.data, zeros, 65536), "blosc example 2 decodes");
    free(zeros);
    check_json(&c, 2, "{\"id\":\"blosc\",\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":1,"
                      "\"blocksize\":0}");
    check_json(&c, 3, "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\",\"clevel\":5,"
                      "\"shuffle\":\"shuffle\",\"typesize\":4,\"blocksize\":0}}");
    zarrc__codec_fini(&c);

    /* Every compressor x shuffle x a few levels and block sizes. */
    static const char *const cnames[] = {"blosclz", "lz4", "lz4hc", "zlib", "zstd", "snappy"};
    static const char *const shuffles[] = {"noshuffle", "shuffle", "bitshuffle"};
    char cfg[256], label[128];
    uint8_t *data = make_data(50000, 1);
    for (int ci = 0; ci < 6; ci++)
        for (int si = 0; si < 3; si++)
            for (int level = 0; level <= 9; level += 4) {
                snprintf(cfg, sizeof cfg, "{\"cname\":\"%s\",\"clevel\":%d,\"shuffle\":\"%s\","
                         "\"typesize\":%d,\"blocksize\":%d}", cnames[ci], level, shuffles[si],
                         si == 2 ? 1 : 8, level == 4 ? 256 : 0);
                snprintf(label, sizeof label, "blosc %s", cfg);
                int rc = make_codec(&c, 3, "blosc", cfg, NULL);
                CHECK_MSG(rc == ZARRC_OK, "%s", label);
                if (rc)
                    continue;
                roundtrip(&c, data, 50000, NULL, label);
                roundtrip(&c, data, 0, NULL, label);
                roundtrip(&c, data, 1, NULL, label);
                roundtrip(&c, data, 333, NULL, label);
                zarrc__codec_fini(&c);
            }
    /* A bitshuffled chunk says so in its flags; typesize comes from the v3 config. */
    CHECK_MSG(make_codec(&c, 3, "blosc", "{\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":\"bitshuffle\","
                     "\"typesize\":2,\"blocksize\":0}", "<f8") == ZARRC_OK, "blosc bitshuffle");
    CHECK_MSG(zarrc__codec_encode(&c, data, 50000, &e) == ZARRC_OK && (e.data[2] & 0x04) &&
              !(e.data[2] & 0x01) && e.data[3] == 2, "bitshuffle flag and typesize 2 in header");
    sizes_roundtrip(&c, "blosc bitshuffle");
    corruptions(&c, data, 50000, 300, true, "blosc lz4 bitshuffle");
    zarrc__codec_fini(&c);

    /* v2: typesize from the dtype; shuffle -1 = bit shuffle for 1-byte items. */
    CHECK_MSG(make_codec(&c, 2, NULL, "{\"id\":\"blosc\",\"cname\":\"zstd\",\"clevel\":3,"
                     "\"shuffle\":-1,\"blocksize\":0}", "|u1") == ZARRC_OK, "blosc auto");
    CHECK_MSG(zarrc__codec_encode(&c, data, 50000, &e) == ZARRC_OK && (e.data[2] & 0x04) &&
              e.data[3] == 1 && (e.data[2] >> 5) == 4, "auto shuffle for u1 is bitshuffle, zstd");
    check_json(&c, 2, "{\"id\":\"blosc\",\"cname\":\"zstd\",\"clevel\":3,\"shuffle\":-1,"
                      "\"blocksize\":0}");
    check_json(&c, 3, "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"zstd\",\"clevel\":3,"
                      "\"shuffle\":\"bitshuffle\",\"typesize\":1,\"blocksize\":0}}");
    corruptions(&c, data, 50000, 300, true, "blosc zstd");
    zarrc__codec_fini(&c);
    CHECK_MSG(make_codec(&c, 2, NULL, "{\"id\":\"blosc\",\"cname\":\"lz4\",\"clevel\":5,"
                     "\"shuffle\":-1,\"blocksize\":0}", "<i8") == ZARRC_OK, "blosc auto i8");
    CHECK_MSG(zarrc__codec_encode(&c, data, 50000, &e) == ZARRC_OK && (e.data[2] & 0x01) &&
              !(e.data[2] & 0x04) && e.data[3] == 8, "auto shuffle for i8 is byte shuffle");
    check_json(&c, 3, "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\",\"clevel\":5,"
                      "\"shuffle\":\"shuffle\",\"typesize\":8,\"blocksize\":0}}");
    zarrc__codec_fini(&c);
    /* v2 shuffle 0 / 2 <-> v3 strings; v3 accepts an integer shuffle too (numcodecs wrapper). */
    CHECK_MSG(make_codec(&c, 3, "numcodecs.blosc", "{\"cname\":\"blosclz\",\"clevel\":1,"
                     "\"shuffle\":2,\"blocksize\":0}", "<i4") == ZARRC_OK, "numcodecs.blosc");
    check_json(&c, 2, "{\"id\":\"blosc\",\"cname\":\"blosclz\",\"clevel\":1,\"shuffle\":2,"
                      "\"blocksize\":0}");
    check_json(&c, 3, "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"blosclz\",\"clevel\":1,"
                      "\"shuffle\":\"bitshuffle\",\"typesize\":4,\"blocksize\":0}}");
    zarrc__codec_fini(&c);
    CHECK_MSG(make_codec(&c, 3, "blosc", "{\"cname\":\"lz4\",\"clevel\":1,\"shuffle\":\"noshuffle\","
                     "\"typesize\":4,\"blocksize\":0}", NULL) == ZARRC_OK, "noshuffle");
    check_json(&c, 2, "{\"id\":\"blosc\",\"cname\":\"lz4\",\"clevel\":1,\"shuffle\":0,"
                      "\"blocksize\":0}");
    zarrc__codec_fini(&c);
    /* Defaults (v3 with no configuration): lz4, clevel 5, shuffle, typesize of the dtype. */
    CHECK_MSG(make_codec(&c, 3, "blosc", NULL, "<u2") == ZARRC_OK, "blosc defaults");
    check_json(&c, 3, "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\",\"clevel\":5,"
                      "\"shuffle\":\"shuffle\",\"typesize\":2,\"blocksize\":0}}");
    zarrc__codec_fini(&c);

    /* Invalid configurations. */
    CHECK_MSG(make_codec(&c, 3, "blosc", "{\"cname\":\"lzx\"}", NULL) == ZARRC_EINVAL, "bad cname");
    CHECK_MSG(make_codec(&c, 3, "blosc", "{\"clevel\":10}", NULL) == ZARRC_EINVAL, "clevel 10");
    CHECK_MSG(make_codec(&c, 3, "blosc", "{\"shuffle\":\"byte\"}", NULL) == ZARRC_EINVAL,
          "bad shuffle");
    CHECK_MSG(make_codec(&c, 2, NULL, "{\"id\":\"blosc\",\"shuffle\":3}", NULL) == ZARRC_EINVAL,
          "shuffle 3");
    CHECK_MSG(make_codec(&c, 3, "blosc", "{\"typesize\":0}", NULL) == ZARRC_EINVAL, "typesize 0");
    CHECK_MSG(make_codec(&c, 3, "blosc", "{\"clevel\":\"5\"}", NULL) == ZARRC_EINVAL,
          "clevel as a string");

    /* Corrupt headers. */
    CHECK_MSG(make_codec(&c, 3, "blosc", NULL, "<f4") == ZARRC_OK, "blosc");
    CHECK_MSG(zarrc__codec_encode(&c, data, 4096, &e) == ZARRC_OK, "encode");
    uint8_t *m = malloc(e.size);
    memcpy(m, e.data, e.size);
    m[4] ^= 0x10; /* nbytes */
    CHECK_MSG(zarrc__codec_decode(&c, m, e.size, 4096, 0, &d) == ZARRC_ECORRUPT,
          "nbytes differing from the expected size");
    memcpy(m, e.data, e.size);
    m[0] = 7; /* version */
    CHECK_MSG(zarrc__codec_decode(&c, m, e.size, 0, 0, &d) == ZARRC_ECORRUPT, "bad version");
    memcpy(m, e.data, e.size);
    m[12] = 0xff; /* cbytes beyond the input */
    CHECK_MSG(zarrc__codec_decode(&c, m, e.size, 0, 0, &d) == ZARRC_ECORRUPT, "cbytes too large");
    memcpy(m, e.data, e.size);
    m[7] = 0x7f; /* nbytes ~2 GiB in a small buffer: refused before allocating */
    CHECK_MSG(zarrc__codec_decode(&c, m, e.size, 0, 0, &d) == ZARRC_ECORRUPT, "huge nbytes");
    free(m);
    corruptions(&c, data, 4096, 300, true, "blosc lz4");
    zarrc__codec_fini(&c);
    free(data);
    zarrc_buf_release(&e);
    zarrc_buf_release(&d);
}

/* ---- gzip / zlib ---- */

static void test_deflate(void)
{
    zarrc__codec c;
    zarrc_buf e = ZARRC_BUF_INIT, e2 = ZARRC_BUF_INIT, d = ZARRC_BUF_INIT;
    uint8_t *data = make_data(30000, 1);
    char cfg[128], label[64];

    for (int level = -1; level <= 9; level++) {
        snprintf(cfg, sizeof cfg, "{\"level\":%d}", level);
        snprintf(label, sizeof label, "gzip level %d", level);
        CHECK_MSG(make_codec(&c, 3, "gzip", cfg, NULL) == ZARRC_OK, "%s", label);
        sizes_roundtrip(&c, label);
        zarrc__codec_fini(&c);
        snprintf(label, sizeof label, "zlib level %d", level);
        CHECK_MSG(make_codec(&c, 3, "numcodecs.zlib", cfg, NULL) == ZARRC_OK, "%s", label);
        sizes_roundtrip(&c, label);
        zarrc__codec_fini(&c);
    }

    /* gzip: RFC 1952 member with CRC-32 and ISIZE trailer. */
    CHECK_MSG(make_codec(&c, 2, NULL, "{\"id\":\"gzip\",\"level\":1}", NULL) == ZARRC_OK, "gzip");
    check_json(&c, 2, "{\"id\":\"gzip\",\"level\":1}");
    check_json(&c, 3, "{\"name\":\"gzip\",\"configuration\":{\"level\":1}}");
    CHECK_MSG(zarrc__codec_encode(&c, data, 30000, &e) == ZARRC_OK && e.size > 18 &&
              e.data[0] == 0x1f && e.data[1] == 0x8b && e.data[2] == 8 &&
              le32(e.data + e.size - 8) == (uint32_t)crc32(0, data, 30000) &&
              le32(e.data + e.size - 4) == 30000, "gzip header 1f 8b 08 and CRC/ISIZE trailer");
    /* Python's gzip module can read it: the member decodes with zlib in gzip mode. */
    {
        uint8_t *out = malloc(30000);
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        inflateInit2(&zs, 15 + 16);
        zs.next_in = e.data;
        zs.avail_in = (uInt)e.size;
        zs.next_out = out;
        zs.avail_out = 30000;
        int zr = inflate(&zs, Z_FINISH);
        CHECK_MSG(zr == Z_STREAM_END && zs.total_out == 30000 && !memcmp(out, data, 30000),
              "gzip output readable by zlib gzip mode");
        inflateEnd(&zs);
        free(out);
    }
    /* Two members concatenated, plus trailing zero padding. */
    CHECK_MSG(zarrc__codec_encode(&c, data + 1000, 5000, &e2) == ZARRC_OK, "encode");
    size_t cat_n = e.size + e2.size + 8;
    uint8_t *cat = calloc(cat_n, 1);
    memcpy(cat, e.data, e.size);
    memcpy(cat + e.size, e2.data, e2.size);
    uint8_t *want = malloc(35000);
    memcpy(want, data, 30000);
    memcpy(want + 30000, data + 1000, 5000);
    CHECK_MSG(zarrc__codec_decode(&c, cat, e.size + e2.size, 35000, 0, &d) == ZARRC_OK &&
              d.size == 35000 && !memcmp(d.data, want, 35000), "two gzip members (known size)");
    CHECK_MSG(zarrc__codec_decode(&c, cat, cat_n, 0, 0, &d) == ZARRC_OK && d.size == 35000 &&
              !memcmp(d.data, want, 35000), "two gzip members + padding (unknown size)");
    CHECK_MSG(zarrc__codec_decode(&c, cat, cat_n, 35000, 0, &d) == ZARRC_OK && d.size == 35000,
          "two gzip members + padding (known size)");
    cat[cat_n - 3] = 0x55;
    CHECK_MSG(zarrc__codec_decode(&c, cat, cat_n, 35000, 0, &d) == ZARRC_ECORRUPT,
          "garbage after the last member (known size)");
    CHECK_MSG(zarrc__codec_decode(&c, cat, cat_n, 0, 0, &d) == ZARRC_ECORRUPT,
          "garbage after the last member (unknown size)");
    free(cat);
    free(want);
    /* Optional header fields: FNAME + FCOMMENT + FEXTRA. */
    {
        static const uint8_t extra[] = {0x06, 0x00, 'A', 'B', 0x02, 0x00, 'x', 'y'};
        const char *fname = "chunk.bin", *comment = "zarr";
        size_t n = e.size + sizeof extra + strlen(fname) + 1 + strlen(comment) + 1;
        uint8_t *g = malloc(n), *p = g;
        memcpy(p, e.data, 10);
        p[3] = 0x04 | 0x08 | 0x10;
        p += 10;
        memcpy(p, extra, sizeof extra);
        p += sizeof extra;
        memcpy(p, fname, strlen(fname) + 1);
        p += strlen(fname) + 1;
        memcpy(p, comment, strlen(comment) + 1);
        p += strlen(comment) + 1;
        memcpy(p, e.data + 10, e.size - 10);
        CHECK_MSG(zarrc__codec_decode(&c, g, n, 30000, 0, &d) == ZARRC_OK && d.size == 30000 &&
                  !memcmp(d.data, data, 30000), "gzip with FEXTRA/FNAME/FCOMMENT (known)");
        CHECK_MSG(zarrc__codec_decode(&c, g, n, 0, 0, &d) == ZARRC_OK && d.size == 30000 &&
                  !memcmp(d.data, data, 30000), "gzip with FEXTRA/FNAME/FCOMMENT (unknown)");
        free(g);
    }
    /* A zlib stream handed to gzip is tolerated (auto-detect). */
    {
        uLongf zn = compressBound(30000);
        uint8_t *z = malloc(zn);
        compress2(z, &zn, data, 30000, 6);
        CHECK_MSG(zarrc__codec_decode(&c, z, zn, 30000, 0, &d) == ZARRC_OK && d.size == 30000 &&
                  !memcmp(d.data, data, 30000), "zlib stream through gzip (known)");
        CHECK_MSG(zarrc__codec_decode(&c, z, zn, 0, 0, &d) == ZARRC_OK && d.size == 30000,
              "zlib stream through gzip (unknown)");
        free(z);
    }
    /* CRC mismatch in the trailer. */
    memcpy(e2.data, e.data, e.size);
    e2.size = e.size;
    e2.data[e.size - 8] ^= 1;
    CHECK_MSG(zarrc__codec_decode(&c, e2.data, e2.size, 30000, 0, &d) == ZARRC_ECORRUPT,
          "gzip CRC mismatch (known)");
    CHECK_MSG(zarrc__codec_decode(&c, e2.data, e2.size, 0, 0, &d) == ZARRC_ECORRUPT,
          "gzip CRC mismatch (unknown)");
    corruptions(&c, data, 30000, 200, true, "gzip");
    zarrc__codec_fini(&c);
    CHECK_MSG(make_codec(&c, 3, "gzip", "{\"level\":10}", NULL) == ZARRC_EINVAL, "gzip level 10");
    CHECK_MSG(make_codec(&c, 2, NULL, "{\"id\":\"gzip\",\"level\":-1}", NULL) == ZARRC_OK, "gzip -1");
    check_json(&c, 2, "{\"id\":\"gzip\",\"level\":-1}");
    check_json(&c, 3, "{\"name\":\"gzip\",\"configuration\":{\"level\":6}}");
    zarrc__codec_fini(&c);

    /* zlib: RFC 1950 header and big-endian Adler-32 trailer. */
    static const uint8_t flg[10] = {0x01, 0x01, 0x5e, 0x5e, 0x5e, 0x5e, 0x9c, 0xda, 0xda, 0xda};
    for (int level = 0; level <= 9; level++) {
        snprintf(cfg, sizeof cfg, "{\"id\":\"zlib\",\"level\":%d}", level);
        CHECK_MSG(make_codec(&c, 2, NULL, cfg, NULL) == ZARRC_OK, "zlib");
        uint32_t a = (uint32_t)adler32(1, data, 30000);
        /* FLEVEL is only a hint: libdeflate reports level 7 as "default" (9c). */
        CHECK_MSG(zarrc__codec_encode(&c, data, 30000, &e) == ZARRC_OK && e.data[0] == 0x78 &&
                  (e.data[1] == flg[level] || level == 7) &&
                  ((e.data[0] << 8) | e.data[1]) % 31 == 0 &&
                  e.data[e.size - 4] == (uint8_t)(a >> 24) && e.data[e.size - 1] == (uint8_t)a,
              "zlib level %d header 78 %02x and Adler-32 trailer", level, flg[level]);
        uLongf un = 30000;
        uint8_t *u = malloc(30000);
        CHECK_MSG(uncompress(u, &un, e.data, e.size) == Z_OK && un == 30000 &&
                  !memcmp(u, data, 30000), "zlib output readable by zlib uncompress");
        free(u);
        if (level == 1) {
            check_json(&c, 2, "{\"id\":\"zlib\",\"level\":1}");
            check_json(&c, 3, "{\"name\":\"numcodecs.zlib\",\"configuration\":{\"level\":1}}");
            corruptions(&c, data, 30000, 200, true, "zlib");
        }
        zarrc__codec_fini(&c);
    }
    CHECK_MSG(make_codec(&c, 3, "numcodecs.zlib", NULL, NULL) == ZARRC_OK, "zlib defaults");
    check_json(&c, 3, "{\"name\":\"numcodecs.zlib\",\"configuration\":{\"level\":1}}");
    zarrc__codec_fini(&c);
    free(data);
    zarrc_buf_release(&e);
    zarrc_buf_release(&e2);
    zarrc_buf_release(&d);
}

/* ---- zstd ---- */

static void test_zstd(void)
{
    zarrc__codec c;
    zarrc_buf e = ZARRC_BUF_INIT, d = ZARRC_BUF_INIT;
    uint8_t *data = make_data(100000, 1);
    char cfg[128], label[64];
    static const int levels[] = {-5, 0, 1, 3, 19, 22, 100};
    for (size_t i = 0; i < sizeof levels / sizeof *levels; i++)
        for (int ck = 0; ck < 2; ck++) {
            snprintf(cfg, sizeof cfg, "{\"level\":%d,\"checksum\":%s}", levels[i],
                     ck ? "true" : "false");
            snprintf(label, sizeof label, "zstd %s", cfg);
            CHECK_MSG(make_codec(&c, 3, "zstd", cfg, NULL) == ZARRC_OK, "%s", label);
            if (levels[i] > 3) /* high levels are slow: fewer sizes */
                roundtrip(&c, data, 20000, NULL, label);
            else
                sizes_roundtrip(&c, label);
            CHECK_MSG(zarrc__codec_encode(&c, data, 1000, &e) == ZARRC_OK &&
                      !memcmp(e.data, "\x28\xb5\x2f\xfd", 4) &&
                      ((e.data[4] & 0x04) != 0) == (ck != 0),
                  "%s: frame magic and checksum flag", label);
            zarrc__codec_fini(&c);
        }
    CHECK_MSG(make_codec(&c, 3, "zstd", "{\"level\":1,\"checksum\":true}", NULL) == ZARRC_OK, "zstd");
    check_json(&c, 3, "{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":true}}");
    check_json(&c, 2, "{\"id\":\"zstd\",\"level\":1,\"checksum\":true}");
    corruptions(&c, data, 50000, 200, true, "zstd checksum");
    zarrc__codec_fini(&c);
    CHECK_MSG(make_codec(&c, 2, NULL, "{\"id\":\"zstd\",\"level\":0}", NULL) == ZARRC_OK, "zstd v2");
    check_json(&c, 3, "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}");
    check_json(&c, 2, "{\"id\":\"zstd\",\"level\":0}");
    corruptions(&c, data, 50000, 200, true, "zstd");

    /* Frames without a content size (streaming writer) and concatenated frames. */
    {
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0);
        size_t cap = ZSTD_compressBound(100000) * 2 + 64;
        uint8_t *f = malloc(cap);
        ZSTD_outBuffer ob = {f, cap, 0};
        ZSTD_inBuffer ib = {data, 60000, 0};
        size_t r = ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_end);
        CHECK_MSG(r == 0 && ZSTD_getFrameContentSize(f, ob.pos) == ZSTD_CONTENTSIZE_UNKNOWN,
              "made a frame without content size");
        size_t first = ob.pos;
        CHECK_MSG(zarrc__codec_decode(&c, f, first, 60000, 0, &d) == ZARRC_OK && d.size == 60000 &&
                  !memcmp(d.data, data, 60000), "frame without content size (known)");
        CHECK_MSG(zarrc__codec_decode(&c, f, first, 0, 0, &d) == ZARRC_OK && d.size == 60000 &&
                  !memcmp(d.data, data, 60000), "frame without content size (unknown)");
        CHECK_MSG(zarrc__codec_decode(&c, f, first, 59999, 0, &d) == ZARRC_ECORRUPT,
              "frame without content size, wrong expected size");
        /* Append a second frame (with content size). */
        size_t second = ZSTD_compress(f + first, cap - first, data + 60000, 40000, 3);
        CHECK_MSG(!ZSTD_isError(second), "second frame");
        CHECK_MSG(zarrc__codec_decode(&c, f, first + second, 100000, 0, &d) == ZARRC_OK &&
                  d.size == 100000 && !memcmp(d.data, data, 100000), "two frames (known)");
        CHECK_MSG(zarrc__codec_decode(&c, f, first + second, 0, 0, &d) == ZARRC_OK &&
                  d.size == 100000 && !memcmp(d.data, data, 100000), "two frames (unknown)");
        CHECK_MSG(zarrc__codec_decode(&c, f, first + second - 1, 0, 0, &d) == ZARRC_ECORRUPT,
              "two frames, truncated");
        ZSTD_freeCCtx(cc);
        free(f);
    }
    /* A frame header declaring a huge content size over a tiny body is not trusted. */
    {
        uint8_t f[64];
        size_t n = ZSTD_compress(f, sizeof f, "abc", 3, 1);
        CHECK_MSG(!ZSTD_isError(n) && ZSTD_getFrameContentSize(f, n) == 3, "small frame");
        CHECK_MSG(zarrc__codec_decode(&c, f, n, 1u << 30, 0, &d) == ZARRC_ECORRUPT,
              "expected size far beyond the frame content");
        d.size = 0;
    }
    CHECK_MSG(zarrc__codec_decode(&c, (const uint8_t *)"", 0, 0, 0, &d) == ZARRC_ECORRUPT,
          "empty input");
    zarrc__codec_fini(&c);
    CHECK_MSG(make_codec(&c, 3, "zstd", "{\"level\":1,\"checksum\":1}", NULL) == ZARRC_EINVAL,
          "checksum must be a bool");
    free(data);
    zarrc_buf_release(&e);
    zarrc_buf_release(&d);
}

/* ---- lz4 ---- */

static void test_lz4(void)
{
    zarrc__codec c;
    zarrc_buf e = ZARRC_BUF_INIT, d = ZARRC_BUF_INIT;
    uint8_t *data = make_data(100000, 1);
    static const int accel[] = {-1, 0, 1, 10, 1000000};
    char cfg[128], label[64];
    for (size_t i = 0; i < sizeof accel / sizeof *accel; i++) {
        snprintf(cfg, sizeof cfg, "{\"id\":\"lz4\",\"acceleration\":%d}", accel[i]);
        snprintf(label, sizeof label, "lz4 acceleration %d", accel[i]);
        CHECK_MSG(make_codec(&c, 2, NULL, cfg, NULL) == ZARRC_OK, "%s", label);
        sizes_roundtrip(&c, label);
        zarrc__codec_fini(&c);
    }
    CHECK_MSG(make_codec(&c, 3, "numcodecs.lz4", NULL, NULL) == ZARRC_OK, "lz4 v3 defaults");
    check_json(&c, 3, "{\"name\":\"numcodecs.lz4\",\"configuration\":{\"acceleration\":1}}");
    check_json(&c, 2, "{\"id\":\"lz4\",\"acceleration\":1}");
    /* numcodecs framing: u32le size + raw LZ4 block. */
    CHECK_MSG(zarrc__codec_encode(&c, data, 70000, &e) == ZARRC_OK && le32(e.data) == 70000,
          "lz4 size prefix");
    {
        uint8_t *out = malloc(70000);
        int got = LZ4_decompress_safe((const char *)e.data + 4, (char *)out, (int)e.size - 4,
                                      70000);
        CHECK_MSG(got == 70000 && !memcmp(out, data, 70000), "payload is a raw LZ4 block");
        free(out);
        /* And a block made by liblz4 directly decodes through the codec. */
        int bound = LZ4_compressBound(5000);
        uint8_t *blk = malloc(4 + (size_t)bound);
        int n = LZ4_compress_default((const char *)data, (char *)blk + 4, 5000, bound);
        blk[0] = 0x88, blk[1] = 0x13, blk[2] = 0, blk[3] = 0;
        CHECK_MSG(zarrc__codec_decode(&c, blk, 4 + (size_t)n, 0, 0, &d) == ZARRC_OK && d.size == 5000 &&
                  !memcmp(d.data, data, 5000), "liblz4 block with numcodecs framing decodes");
        blk[0] = 0x89; /* claims 5001 bytes */
        CHECK_MSG(zarrc__codec_decode(&c, blk, 4 + (size_t)n, 0, 0, &d) == ZARRC_ECORRUPT,
              "size prefix one too large");
        blk[0] = 0x88;
        blk[3] = 0x40; /* 1 GiB from a few bytes: impossible ratio, refused before allocating */
        CHECK_MSG(zarrc__codec_decode(&c, blk, 4 + (size_t)n, 0, 0, &d) == ZARRC_ECORRUPT,
              "implausible size prefix");
        free(blk);
    }
    /* Empty input encodes as size 0 + an empty block and decodes back. */
    CHECK_MSG(zarrc__codec_encode(&c, data, 0, &e) == ZARRC_OK && e.size == 5 && le32(e.data) == 0,
          "lz4 empty");
    CHECK_MSG(zarrc__codec_decode(&c, e.data, 3, 0, 0, &d) == ZARRC_ECORRUPT, "lz4 3 bytes");
    corruptions(&c, data, 20000, 300, true, "lz4");
    zarrc__codec_fini(&c);
    free(data);
    zarrc_buf_release(&e);
    zarrc_buf_release(&d);
}

/* ---- bz2 ---- */

static void test_bz2(void)
{
    zarrc__codec c;
    zarrc_buf e = ZARRC_BUF_INIT, e2 = ZARRC_BUF_INIT, d = ZARRC_BUF_INIT;
    uint8_t *data = make_data(120000, 1);
    for (int level = 1; level <= 9; level += 4) {
        char cfg[64], label[32];
        snprintf(cfg, sizeof cfg, "{\"level\":%d}", level);
        snprintf(label, sizeof label, "bz2 level %d", level);
        CHECK_MSG(make_codec(&c, 3, "numcodecs.bz2", cfg, NULL) == ZARRC_OK, "%s", label);
        sizes_roundtrip(&c, label);
        CHECK_MSG(zarrc__codec_encode(&c, data, 1000, &e) == ZARRC_OK && !memcmp(e.data, "BZh", 3) &&
                  e.data[3] == '0' + level, "bz2 magic BZh%d", level);
        zarrc__codec_fini(&c);
    }
    CHECK_MSG(make_codec(&c, 2, NULL, "{\"id\":\"bz2\",\"level\":1}", NULL) == ZARRC_OK, "bz2");
    check_json(&c, 2, "{\"id\":\"bz2\",\"level\":1}");
    check_json(&c, 3, "{\"name\":\"numcodecs.bz2\",\"configuration\":{\"level\":1}}");
    /* Concatenated streams. */
    CHECK_MSG(zarrc__codec_encode(&c, data, 70000, &e) == ZARRC_OK, "encode");
    CHECK_MSG(zarrc__codec_encode(&c, data + 70000, 50000, &e2) == ZARRC_OK, "encode");
    uint8_t *cat = malloc(e.size + e2.size);
    memcpy(cat, e.data, e.size);
    memcpy(cat + e.size, e2.data, e2.size);
    CHECK_MSG(zarrc__codec_decode(&c, cat, e.size + e2.size, 120000, 0, &d) == ZARRC_OK &&
              d.size == 120000 && !memcmp(d.data, data, 120000), "two bz2 streams (known)");
    CHECK_MSG(zarrc__codec_decode(&c, cat, e.size + e2.size, 0, 0, &d) == ZARRC_OK &&
              d.size == 120000 && !memcmp(d.data, data, 120000), "two bz2 streams (unknown)");
    CHECK_MSG(zarrc__codec_decode(&c, cat, e.size + 3, 0, 0, &d) == ZARRC_ECORRUPT,
          "garbage after a bz2 stream");
    CHECK_MSG(zarrc__codec_decode(&c, cat, e.size, 69999, 0, &d) == ZARRC_ECORRUPT,
          "bz2 more data than expected");
    /* A stream written by libbz2's one-shot API decodes too. */
    {
        unsigned int n = 200000;
        char *b = malloc(n);
        CHECK_MSG(BZ2_bzBuffToBuffCompress(b, &n, (char *)data, 120000, 9, 0, 0) == BZ_OK, "bz2");
        CHECK_MSG(zarrc__codec_decode(&c, (uint8_t *)b, n, 120000, 0, &d) == ZARRC_OK &&
                  d.size == 120000 && !memcmp(d.data, data, 120000), "libbz2 stream decodes");
        free(b);
    }
    free(cat);
    corruptions(&c, data, 20000, 150, true, "bz2");
    zarrc__codec_fini(&c);
    CHECK_MSG(make_codec(&c, 3, "numcodecs.bz2", "{\"level\":0}", NULL) == ZARRC_EINVAL, "level 0");
    free(data);
    zarrc_buf_release(&e);
    zarrc_buf_release(&e2);
    zarrc_buf_release(&d);
}

/* ---- lzma ---- */

static void test_lzma(void)
{
    zarrc__codec c, auto_c;
    zarrc_buf e = ZARRC_BUF_INIT, d = ZARRC_BUF_INIT;
    uint8_t *data = make_data(60000, 1);
    CHECK_MSG(make_codec(&auto_c, 2, NULL, "{\"id\":\"lzma\",\"format\":0,\"check\":-1,"
                     "\"preset\":null,\"filters\":null}", NULL) == ZARRC_OK, "lzma auto");
    static const char *const cfgs[] = {
        "{\"id\":\"lzma\",\"format\":1,\"check\":-1,\"preset\":null,\"filters\":null}",
        "{\"id\":\"lzma\",\"format\":1,\"check\":0,\"preset\":1,\"filters\":null}",
        "{\"id\":\"lzma\",\"format\":1,\"check\":1,\"preset\":9,\"filters\":null}",
        "{\"id\":\"lzma\",\"format\":1,\"check\":10,\"preset\":2147483651,\"filters\":null}",
        "{\"id\":\"lzma\",\"format\":1,\"check\":4,\"preset\":null,"
        "\"filters\":[{\"id\":3,\"dist\":4},{\"id\":33,\"preset\":1}]}",
        "{\"id\":\"lzma\",\"format\":2,\"check\":-1,\"preset\":3,\"filters\":null}",
        "{\"id\":\"lzma\",\"format\":2,\"check\":-1,\"preset\":null,"
        "\"filters\":[{\"id\":4611686018427387905,\"dict_size\":65536,\"lc\":3,\"lp\":0,"
        "\"pb\":2}]}",
        "{\"id\":\"lzma\",\"format\":3,\"check\":-1,\"preset\":null,"
        "\"filters\":[{\"id\":33,\"preset\":1}]}",
        "{\"id\":\"lzma\",\"format\":3,\"check\":-1,\"preset\":null,"
        "\"filters\":[{\"id\":3,\"dist\":2},{\"id\":4611686018427387905,\"preset\":6,"
        "\"mode\":1,\"nice_len\":32,\"mf\":4,\"depth\":0}]}",
        "{\"id\":\"lzma\",\"format\":3,\"check\":-1,\"preset\":null,"
        "\"filters\":[{\"id\":4,\"start_offset\":0},{\"id\":33,\"dict_size\":1048576}]}",
    };
    for (size_t i = 0; i < sizeof cfgs / sizeof *cfgs; i++) {
        int rc = make_codec(&c, 2, NULL, cfgs[i], NULL);
        CHECK_MSG(rc == ZARRC_OK, "lzma %s", cfgs[i]);
        if (rc)
            continue;
        static const size_t sizes[] = {0, 1, 7, 1000, 60000};
        for (size_t k = 0; k < 5; k++)
            roundtrip(&c, data, sizes[k], NULL, cfgs[i]);
        /* to_json gives back what was configured. */
        check_json(&c, 2, cfgs[i]);
        CHECK_MSG(zarrc__codec_encode(&c, data, 5000, &e) == ZARRC_OK, "encode");
        int fmt = strstr(cfgs[i], "\"format\":")[9] - '0';
        if (fmt == 1)
            CHECK_MSG(!memcmp(e.data, "\xfd" "7zXZ\0", 6), "xz magic");
        if (fmt == 1 || fmt == 2) {
            int rc2 = zarrc__codec_decode(&auto_c, e.data, e.size, 5000, 0, &d);
            CHECK_MSG(rc2 == ZARRC_OK && d.size == 5000 && !memcmp(d.data, data, 5000),
                  "format 0 (auto) decodes %s", cfgs[i]);
        }
        if (i == 0 || i == 5 || i == 7)
            corruptions(&c, data, 20000, 100, fmt != 3, cfgs[i]);
        zarrc__codec_fini(&c);
    }
    /* Concatenated .xz streams. */
    CHECK_MSG(make_codec(&c, 2, NULL, cfgs[0], NULL) == ZARRC_OK, "lzma");
    {
        zarrc_buf e2 = ZARRC_BUF_INIT;
        CHECK_MSG(zarrc__codec_encode(&c, data, 30000, &e) == ZARRC_OK &&
                  zarrc__codec_encode(&c, data + 30000, 30000, &e2) == ZARRC_OK, "encode");
        uint8_t *cat = malloc(e.size + e2.size);
        memcpy(cat, e.data, e.size);
        memcpy(cat + e.size, e2.data, e2.size);
        CHECK_MSG(zarrc__codec_decode(&c, cat, e.size + e2.size, 60000, 0, &d) == ZARRC_OK &&
                  d.size == 60000 && !memcmp(d.data, data, 60000), "two xz streams");
        CHECK_MSG(zarrc__codec_decode(&c, cat, e.size + e2.size, 0, 0, &d) == ZARRC_OK &&
                  d.size == 60000, "two xz streams (unknown size)");
        free(cat);
        zarrc_buf_release(&e2);
    }
    check_json(&c, 3, "{\"name\":\"numcodecs.lzma\",\"configuration\":{\"format\":1,"
                      "\"check\":-1,\"preset\":null,\"filters\":null}}");
    zarrc__codec_fini(&c);
    CHECK_MSG(make_codec(&c, 3, "numcodecs.lzma", NULL, NULL) == ZARRC_OK, "lzma v3 defaults");
    check_json(&c, 2, "{\"id\":\"lzma\",\"format\":1,\"check\":-1,\"preset\":null,"
                      "\"filters\":null}");
    zarrc__codec_fini(&c);
    /* The auto codec cannot encode. */
    CHECK_MSG(zarrc__codec_encode(&auto_c, data, 10, &e) == ZARRC_EINVAL, "format 0 encode");
    zarrc__codec_fini(&auto_c);
    /* Invalid configurations. */
    static const char *const bad[] = {
        "{\"id\":\"lzma\",\"format\":3,\"filters\":null}",
        "{\"id\":\"lzma\",\"format\":1,\"preset\":6,\"filters\":[{\"id\":33}]}",
        "{\"id\":\"lzma\",\"format\":2,\"check\":1}",
        "{\"id\":\"lzma\",\"format\":5}",
        "{\"id\":\"lzma\",\"check\":2}",
        "{\"id\":\"lzma\",\"preset\":10}",
        "{\"id\":\"lzma\",\"format\":2,\"filters\":[{\"id\":33}]}",
        "{\"id\":\"lzma\",\"format\":3,\"filters\":[{\"id\":33,\"dist\":2}]}",
        "{\"id\":\"lzma\",\"format\":3,\"filters\":[{\"id\":33,\"colour\":2}]}",
        "{\"id\":\"lzma\",\"format\":3,\"filters\":[{\"id\":3}]}",
        "{\"id\":\"lzma\",\"format\":3,\"filters\":[{\"id\":33,\"lc\":9}]}",
        "{\"id\":\"lzma\",\"format\":3,\"filters\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_MSG(make_codec(&c, 2, NULL, bad[i], NULL) == ZARRC_EINVAL, "invalid lzma %s", bad[i]);
    CHECK_MSG(make_codec(&c, 2, NULL, "{\"id\":\"lzma\",\"format\":3,\"filters\":[{\"id\":99}]}",
                     NULL) == ZARRC_EUNSUPPORTED, "unknown lzma filter id");
    free(data);
    zarrc_buf_release(&e);
    zarrc_buf_release(&d);
}

/* ---- lookup, spelling and threads ---- */

static void test_registry(void)
{
    static const struct {
        const char *v3, *v2, *canonical;
    } names[] = {
        {"blosc", "blosc", "blosc"},
        {"numcodecs.blosc", "blosc", "blosc"},
        {"gzip", "gzip", "gzip"},
        {"numcodecs.gzip", "gzip", "gzip"},
        {"numcodecs.zlib", "zlib", "numcodecs.zlib"},
        {"zstd", "zstd", "zstd"},
        {"numcodecs.zstd", "zstd", "zstd"},
        {"numcodecs.lz4", "lz4", "numcodecs.lz4"},
        {"numcodecs.bz2", "bz2", "numcodecs.bz2"},
        {"numcodecs.lzma", "lzma", "numcodecs.lzma"},
        {"crc32c", "crc32c", "crc32c"},
        {"numcodecs.crc32c", "crc32c", "crc32c"},
        {"numcodecs.crc32", "crc32", "numcodecs.crc32"},
        {"numcodecs.adler32", "adler32", "numcodecs.adler32"},
        {"numcodecs.fletcher32", "fletcher32", "numcodecs.fletcher32"},
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const zarrc_codec_type *a = zarrc__codec_find_v3(names[i].v3);
        const zarrc_codec_type *b = zarrc__codec_find_v2(names[i].v2);
        CHECK_MSG(a && a == b && !strcmp(a->name, names[i].canonical) &&
                  a->kind == ZARRC_CODEC_BYTES_TO_BYTES,
              "lookup %s / %s", names[i].v3, names[i].v2);
        /* Default configuration; empty input given as NULL encodes and decodes back; an empty
         * encoded input is corrupt. */
        zarrc__codec c;
        zarrc_buf e = ZARRC_BUF_INIT, d = ZARRC_BUF_INIT;
        CHECK_MSG(make_codec(&c, 3, names[i].v3, NULL, "<i4") == ZARRC_OK, "%s defaults",
              names[i].v3);
        CHECK_MSG(zarrc__codec_encode(&c, NULL, 0, &e) == ZARRC_OK && e.size > 0,
              "%s: encode NULL/0", names[i].v3);
        CHECK_MSG(zarrc__codec_decode(&c, e.data, e.size, 0, 0, &d) == ZARRC_OK && d.size == 0,
              "%s: decode empty", names[i].v3);
        CHECK_MSG(zarrc__codec_decode(&c, NULL, 0, 0, 0, &d) == ZARRC_ECORRUPT,
              "%s: decode NULL/0 (unknown size)", names[i].v3);
        CHECK_MSG(zarrc__codec_decode(&c, NULL, 0, 16, 0, &d) == ZARRC_ECORRUPT,
              "%s: decode NULL/0 (known size)", names[i].v3);
        zarrc__codec_fini(&c);
        zarrc_buf_release(&e);
        zarrc_buf_release(&d);
    }
}

typedef struct thread_arg {
    const zarrc__codec *c;
    const uint8_t *data;
    size_t n;
    int bad;
} thread_arg;

static void *thread_main(void *p)
{
    thread_arg *a = p;
    zarrc_buf e = ZARRC_BUF_INIT, d = ZARRC_BUF_INIT;
    for (int i = 0; i < 30; i++) {
        size_t n = a->n - (size_t)i * 97;
        if (zarrc__codec_encode(a->c, a->data + i, n, &e) ||
            zarrc__codec_decode(a->c, e.data, e.size, n, 0, &d) || d.size != n ||
            memcmp(d.data, a->data + i, n))
            a->bad++;
    }
    zarrc_buf_release(&e);
    zarrc_buf_release(&d);
    return NULL;
}

static void test_threads(void)
{
    static const char *const cfgs[] = {
        "{\"id\":\"blosc\",\"cname\":\"zstd\",\"clevel\":5,\"shuffle\":1,\"blocksize\":0}",
        "{\"id\":\"blosc\",\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":2,\"blocksize\":0}",
        "{\"id\":\"crc32c\"}", "{\"id\":\"zstd\",\"level\":3}", "{\"id\":\"gzip\",\"level\":5}",
    };
    uint8_t *data = make_data(40000, 1);
    for (size_t k = 0; k < sizeof cfgs / sizeof *cfgs; k++) {
        zarrc__codec c;
        CHECK_MSG(make_codec(&c, 2, NULL, cfgs[k], "<i4") == ZARRC_OK, "%s", cfgs[k]);
        pthread_t th[4];
        thread_arg args[4];
        for (int i = 0; i < 4; i++) {
            args[i] = (thread_arg){&c, data, 30000, 0};
            pthread_create(&th[i], NULL, thread_main, &args[i]);
        }
        int bad = 0;
        for (int i = 0; i < 4; i++) {
            pthread_join(th[i], NULL);
            bad += args[i].bad;
        }
        CHECK_MSG(bad == 0, "%s from 4 threads: %d failures", cfgs[k], bad);
        zarrc__codec_fini(&c);
    }
    free(data);
}

int main(void)
{
    test_registry();
    test_checksums();
    test_fletcher32_fixtures();
    test_blosc();
    test_deflate();
    test_zstd();
    test_lz4();
    test_bz2();
    test_lzma();
    test_threads();
    return check_report("unit.codecs_bytes");
}
