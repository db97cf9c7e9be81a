/* test_codecs_array.c — the array-side codecs: bytes, transpose, vlen-*, delta,
 * fixedscaleoffset, quantize, bitround, astype, packbits, shuffle. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "../api/check.h"
#include "codec/codec.h"
#include "codec/codec_numeric.h"

extern const zarrc_codec_type zarrc__codec_bytes, zarrc__codec_transpose, zarrc__codec_delta,
    zarrc__codec_shuffle, zarrc__codec_fixedscaleoffset, zarrc__codec_quantize,
    zarrc__codec_bitround, zarrc__codec_astype, zarrc__codec_packbits, zarrc__codec_vlen_utf8,
    zarrc__codec_vlen_bytes, zarrc__codec_packbits_v3, zarrc__codec_reshape, zarrc__codec_squeeze,
    zarrc__codec_scale_offset, zarrc__codec_vlen_v2;


/* ---- helpers ---- */


static zarrc_repr repr(const char *dtype, int ndim, ...)
{
    zarrc_repr r;
    memset(&r, 0, sizeof r);
    if (zarrc_dtype_parse(&r.dtype, dtype) != ZARRC_OK) {
        fprintf(stderr, "bad dtype %s\n", dtype);
        exit(2);
    }
    r.ndim = ndim;
    va_list ap;
    va_start(ap, ndim);
    for (int i = 0; i < ndim; i++)
        r.shape[i] = va_arg(ap, int64_t);
    va_end(ap);
    return r;
}

static size_t nelem(const zarrc_repr *r)
{
    size_t n = 1;
    for (int i = 0; i < r->ndim; i++)
        n *= (size_t)r->shape[i];
    return n;
}

/* Create a codec from JSON text (NULL = no configuration). Returns the status. */
static int make(zarrc__codec *c, const zarrc_codec_type *t, const char *json, int format,
                const zarrc_repr *in, int big_endian)
{
    json_object *cfg = NULL;
    if (json && zarrc__json_parse(&cfg, json, strlen(json), "test config") != ZARRC_OK) {
        fprintf(stderr, "bad test JSON %s\n", json);
        exit(2);
    }
    int rc = zarrc__codec_init(c, t, cfg, format, in, big_endian);
    json_object_put(cfg);
    return rc;
}

static bool has(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

/* to_json in `format`, compact text; returns malloc'd text or NULL. */
static char *spelling(const zarrc__codec *c, int format)
{
    json_object *o = NULL;
    if (zarrc__codec_to_json(&o, c, format) != ZARRC_OK)
        return NULL;
    char *s = zarrc__json_dump(o, false);
    json_object_put(o);
    return s;
}

static void check_spelling(const zarrc__codec *c, int format, const char *want, int line)
{
    char *s = spelling(c, format);
    check_count++;
    if (!s || strcmp(s, want)) {
        check_failures++;
        fprintf(stderr, "%s:%d: FAIL: v%d JSON %s, want %s [%s]\n", __FILE__, line, format,
                s ? s : "(error)", want, zarrc_error_last());
    }
    free(s);
}
#define SPELLING(c, f, want) check_spelling(c, f, want, __LINE__)

static void hex(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = '\0';
}

/* Encode then decode; checks the round trip is exact. Returns the encoded size. */
static size_t round_trip(const zarrc__codec *c, const void *data, size_t size, const char *what)
{
    zarrc_buf enc = ZARRC_BUF_INIT, dec = ZARRC_BUF_INIT;
    int rc = zarrc__codec_encode(c, data, size, &enc);
    CHECK_MSG(rc == ZARRC_OK, "%s: encode", what);
    size_t n = enc.size;
    if (rc == ZARRC_OK) {
        rc = zarrc__codec_decode(c, enc.data, enc.size, size, 0, &dec);
        CHECK_MSG(rc == ZARRC_OK, "%s: decode", what);
        CHECK_MSG(rc != ZARRC_OK || (dec.size == size && (!size || !memcmp(dec.data, data, size))),
              "%s: round trip differs (%zu bytes vs %zu)", what, dec.size, size);
    }
    zarrc_buf_release(&enc);
    zarrc_buf_release(&dec);
    return n;
}

/* ---- bytes ---- */

static void test_bytes(void)
{
    bool host_big = zarrc__host_big_endian();
    zarrc__codec c;
    zarrc_buf out = ZARRC_BUF_INIT;
    char h[256];

    /* int16 [2,3] big endian: each element's two bytes swapped on a little-endian host. */
    zarrc_repr r = repr("int16", 2, (int64_t)2, (int64_t)3);
    int16_t v[6] = {1, 2, 0x0102, -1, -2, 0x7f00};
    CHECK_MSG(make(&c, &zarrc__codec_bytes, "{\"endian\":\"big\"}", 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)v, sizeof v, &out) == ZARRC_OK, "encode");
    hex(h, out.data, out.size);
    CHECK_MSG(!strcmp(h, "000100020102fffffffe7f00"), "big-endian bytes %s", h);
    SPELLING(&c, 3, "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}");
    CHECK_MSG(zarrc__codec_to_json(&(json_object *){NULL}, &c, 2) == ZARRC_EUNSUPPORTED, "no v2");
    round_trip(&c, v, sizeof v, "bytes int16 big");
    /* Decode into a borrowed destination of exactly the right size. */
    int16_t back[6] = {0};
    zarrc_buf dst = {(uint8_t *)back, 0, sizeof back, 1};
    CHECK_MSG(zarrc__codec_decode(&c, out.data, out.size, sizeof back, 0, &dst) == ZARRC_OK &&
              !memcmp(back, v, sizeof v), "borrowed decode");
    /* Wrong sizes are corrupt data. */
    CHECK_MSG(zarrc__codec_decode(&c, out.data, 10, 12, 0, &out) == ZARRC_ECORRUPT, "short input");
    CHECK_MSG(has(zarrc_error_last(), "expected 12 bytes, got 10"), "message");
    CHECK_MSG(zarrc__codec_decode(&c, (const uint8_t *)"0123456789abcd", 14, 12, 0, &out) == ZARRC_ECORRUPT,
          "long input");
    zarrc__codec_fini(&c);

    /* little endian: bytes equal memory on a little-endian host. */
    CHECK_MSG(make(&c, &zarrc__codec_bytes, "{\"endian\":\"little\"}", 3, &r, 1) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)v, sizeof v, &out) == ZARRC_OK, "encode");
    hex(h, out.data, out.size);
    CHECK_MSG(!strcmp(h, "010002000201fffffeff007f"), "little-endian bytes %s", h);
    SPELLING(&c, 3, "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}");
    zarrc__codec_fini(&c);

    /* No configuration (the v2 path): the pipeline's byte order decides. */
    CHECK_MSG(make(&c, &zarrc__codec_bytes, NULL, 3, &r, 1) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)v, sizeof v, &out) == ZARRC_OK, "encode");
    CHECK_MSG(out.data[0] == 0x00 && out.data[1] == 0x01, "v2 big endian from init");
    SPELLING(&c, 3, "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}");
    zarrc__codec_fini(&c);

    /* float64 big. */
    r = repr("float64", 1, (int64_t)2);
    double d[2] = {1.0, -2.5};
    CHECK_MSG(make(&c, &zarrc__codec_bytes, "{\"endian\":\"big\"}", 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)d, sizeof d, &out) == ZARRC_OK, "encode");
    hex(h, out.data, out.size);
    CHECK_MSG(!strcmp(h, "3ff0000000000000c004000000000000"), "float64 big %s", h);
    round_trip(&c, d, sizeof d, "float64 big");
    zarrc__codec_fini(&c);

    /* complex64 big: real and imaginary parts swapped separately. */
    r = repr("complex64", 1, (int64_t)1);
    float cf[2] = {1.0f, -2.0f};
    CHECK_MSG(make(&c, &zarrc__codec_bytes, "{\"endian\":\"big\"}", 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)cf, sizeof cf, &out) == ZARRC_OK, "encode");
    hex(h, out.data, out.size);
    CHECK_MSG(!strcmp(h, "3f800000c0000000"), "complex64 big %s", h);
    round_trip(&c, cf, sizeof cf, "complex64 big");
    zarrc__codec_fini(&c);

    /* UTF-32 <U2 big: each 4-byte code unit swapped. */
    r = repr("<U2", 1, (int64_t)1);
    uint32_t u[2] = {0x41, 0x1F600};
    CHECK_MSG(make(&c, &zarrc__codec_bytes, "{\"endian\":\"big\"}", 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)u, sizeof u, &out) == ZARRC_OK, "encode");
    hex(h, out.data, out.size);
    CHECK_MSG(!strcmp(h, "000000410001f600"), "UTF-32 big %s", h);
    zarrc__codec_fini(&c);

    /* 1-byte types: no configuration written; raw bytes types never swapped. */
    r = repr("uint8", 1, (int64_t)3);
    CHECK_MSG(make(&c, &zarrc__codec_bytes, "{\"endian\":\"big\"}", 3, &r, 0) == ZARRC_OK, "create");
    SPELLING(&c, 3, "{\"name\":\"bytes\"}");
    round_trip(&c, "abc", 3, "uint8");
    zarrc__codec_fini(&c);
    r = repr("r16", 1, (int64_t)2);
    CHECK_MSG(make(&c, &zarrc__codec_bytes, "{\"endian\":\"big\"}", 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (const uint8_t *)"abcd", 4, &out) == ZARRC_OK &&
              !memcmp(out.data, "abcd", 4), "raw not swapped");
    zarrc__codec_fini(&c);

    /* 0-d, 1-element and empty chunks. */
    int64_t x = 0x0102030405060708;
    r = repr("int64", 0);
    CHECK_MSG(make(&c, &zarrc__codec_bytes, "{\"endian\":\"big\"}", 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)&x, 8, &out) == ZARRC_OK && out.size == 8 &&
              out.data[0] == 1 && out.data[7] == 8, "0-d big");
    round_trip(&c, &x, 8, "0-d");
    zarrc__codec_fini(&c);
    r = repr("int64", 2, (int64_t)3, (int64_t)0);
    CHECK_MSG(make(&c, &zarrc__codec_bytes, "{\"endian\":\"big\"}", 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(round_trip(&c, "", 0, "empty") == 0, "empty encodes to nothing");
    CHECK_MSG(zarrc__codec_decode(&c, (const uint8_t *)"x", 1, 0, 0, &out) == ZARRC_ECORRUPT, "empty+1");
    zarrc__codec_fini(&c);

    /* Invalid configurations. */
    r = repr("int32", 1, (int64_t)2);
    CHECK_MSG(make(&c, &zarrc__codec_bytes, "{\"endian\":\"middle\"}", 3, &r, 0) == ZARRC_EINVAL &&
              has(zarrc_error_last(), "endian") && has(zarrc_error_last(), "codec 'bytes'"),
          "bad endian");
    CHECK_MSG(make(&c, &zarrc__codec_bytes, "{\"endian\":3}", 3, &r, 0) == ZARRC_EINVAL &&
              has(zarrc_error_last(), "endian"), "endian not a string");
    r = repr("string", 1, (int64_t)2);
    CHECK_MSG(make(&c, &zarrc__codec_bytes, "{\"endian\":\"little\"}", 3, &r, 0) == ZARRC_EINVAL &&
              has(zarrc_error_last(), "vlen"), "vlen dtype refused");
    (void)host_big;
    zarrc_buf_release(&out);
}

/* ---- transpose ---- */

/* Naive reference: B[p] = A[q] with p[i] = q[order[i]]. */
static void naive_transpose(uint8_t *b, const uint8_t *a, int n, const int64_t *ashape,
                            const int *order, size_t es)
{
    int64_t bshape[ZARRC_MAX_DIMS], p[ZARRC_MAX_DIMS] = {0}, q[ZARRC_MAX_DIMS];
    size_t total = 1;
    for (int i = 0; i < n; i++) {
        bshape[i] = ashape[order[i]];
        total *= (size_t)ashape[i];
    }
    for (size_t k = 0; k < total; k++) {
        for (int i = 0; i < n; i++)
            q[order[i]] = p[i];
        size_t off = 0;
        for (int j = 0; j < n; j++)
            off = off * (size_t)ashape[j] + (size_t)q[j];
        memcpy(b + k * es, a + off * es, es);
        for (int i = n - 1; i >= 0; i--) {
            if (++p[i] < bshape[i])
                break;
            p[i] = 0;
        }
    }
}

static bool next_perm(int *a, int n)
{
    int i = n - 2;
    while (i >= 0 && a[i] >= a[i + 1])
        i--;
    if (i < 0)
        return false;
    int j = n - 1;
    while (a[j] <= a[i])
        j--;
    int t = a[i]; a[i] = a[j]; a[j] = t;
    for (int l = i + 1, r = n - 1; l < r; l++, r--) {
        t = a[l]; a[l] = a[r]; a[r] = t;
    }
    return true;
}

static void transpose_case(const char *dtype, int n, const int64_t *shape, const int *order)
{
    zarrc_repr r = repr(dtype, 0);
    r.ndim = n;
    memcpy(r.shape, shape, (size_t)n * sizeof *shape);
    char cfg[256] = "{\"order\":[";
    for (int i = 0; i < n; i++)
        sprintf(cfg + strlen(cfg), "%s%d", i ? "," : "", order[i]);
    strcat(cfg, "]}");
    zarrc__codec c;
    if (make(&c, &zarrc__codec_transpose, cfg, 3, &r, 0) != ZARRC_OK) {
        CHECK_MSG(0, "create %s", cfg);
        return;
    }
    for (int i = 0; i < n; i++)
        CHECK_MSG(c.out.shape[i] == shape[order[i]], "encoded shape %d", i);
    size_t es = zarrc_dtype_elem_size(&r.dtype), total = nelem(&r) * es;
    uint8_t *a = malloc(total + 1), *want = malloc(total + 1);
    for (size_t i = 0; i < total; i++)
        a[i] = (uint8_t)check_rnd();
    naive_transpose(want, a, n, shape, order, es);
    zarrc_buf enc = ZARRC_BUF_INIT, dec = ZARRC_BUF_INIT;
    CHECK_MSG(zarrc__codec_encode(&c, a, total, &enc) == ZARRC_OK, "encode");
    CHECK_MSG(enc.size == total && (!total || !memcmp(enc.data, want, total)),
          "transpose %s of %s differs from the reference", cfg, dtype);
    CHECK_MSG(zarrc__codec_decode(&c, enc.data, enc.size, total, 0, &dec) == ZARRC_OK, "decode");
    CHECK_MSG(dec.size == total && (!total || !memcmp(dec.data, a, total)), "inverse %s", cfg);
    zarrc_buf_release(&enc);
    zarrc_buf_release(&dec);
    free(a);
    free(want);
    zarrc__codec_fini(&c);
}

static void test_transpose(void)
{
    /* Every permutation of 3-D and 4-D chunks, for element sizes 1, 2, 3, 4, 8, 16 (vref). */
    const char *dtypes[] = {"uint8", "int16", "r24", "float32", "float64", "string"};
    const int64_t shapes3[][3] = {{3, 4, 5}, {1, 7, 2}, {6, 1, 1}, {2, 3, 1}, {5, 0, 2}};
    const int64_t shapes4[][4] = {{2, 3, 4, 5}, {3, 1, 2, 4}, {1, 5, 1, 3}};
    for (size_t d = 0; d < sizeof dtypes / sizeof *dtypes; d++) {
        for (size_t s = 0; s < sizeof shapes3 / sizeof *shapes3; s++) {
            int order[3] = {0, 1, 2};
            do
                transpose_case(dtypes[d], 3, shapes3[s], order);
            while (next_perm(order, 3));
        }
        for (size_t s = 0; s < sizeof shapes4 / sizeof *shapes4; s++) {
            int order[4] = {0, 1, 2, 3};
            do
                transpose_case(dtypes[d], 4, shapes4[s], order);
            while (next_perm(order, 4));
        }
    }
    /* 2-D larger than a tile, odd sizes; 5-D; 1-D and 0-d identities. */
    int o2[2] = {1, 0}, o1[1] = {0}, o5[5] = {4, 2, 0, 3, 1};
    const int64_t s2[2] = {67, 45}, s5[5] = {2, 3, 4, 3, 2}, s1[1] = {9};
    transpose_case("int32", 2, s2, o2);
    transpose_case("complex128", 2, s2, o2);
    transpose_case("r40", 2, s2, o2);
    transpose_case("uint16", 5, s5, o5);
    transpose_case("int8", 1, s1, o1);
    transpose_case("float64", 0, s1, o1);

    zarrc__codec c;
    zarrc_repr r = repr("int16", 3, (int64_t)2, (int64_t)3, (int64_t)4);
    CHECK_MSG(make(&c, &zarrc__codec_transpose, "{\"order\":[2,0,1]}", 3, &r, 0) == ZARRC_OK, "c");
    SPELLING(&c, 3, "{\"name\":\"transpose\",\"configuration\":{\"order\":[2,0,1]}}");
    CHECK_MSG(c.out.shape[0] == 4 && c.out.shape[1] == 2 && c.out.shape[2] == 3, "encoded shape");
    CHECK_MSG(zarrc__codec_decode(&c, (const uint8_t *)"abc", 3, 48, 0, &(zarrc_buf)ZARRC_BUF_INIT) ==
              ZARRC_ECORRUPT, "wrong size decode");
    zarrc__codec_fini(&c);
    /* Legacy string orders. */
    CHECK_MSG(make(&c, &zarrc__codec_transpose, "{\"order\":\"F\"}", 3, &r, 0) == ZARRC_OK, "F");
    SPELLING(&c, 3, "{\"name\":\"transpose\",\"configuration\":{\"order\":[2,1,0]}}");
    zarrc__codec_fini(&c);
    CHECK_MSG(make(&c, &zarrc__codec_transpose, "{\"order\":\"C\"}", 3, &r, 0) == ZARRC_OK, "C");
    SPELLING(&c, 3, "{\"name\":\"transpose\",\"configuration\":{\"order\":[0,1,2]}}");
    zarrc__codec_fini(&c);
    /* Invalid orders. */
    struct { const char *cfg, *msg; } bad[] = {
        {"{\"order\":[0,0,1]}", "twice"},
        {"{\"order\":[0,1]}", "has 2 entries but the chunk has 3"},
        {"{\"order\":[0,1,3]}", "outside 0..2"},
        {"{\"order\":[0,1,-1]}", "outside"},
        {"{\"order\":[0,1,1.5]}", "not an integer"},
        {"{\"order\":\"X\"}", "\"X\""},
        {"{\"order\":5}", "list of axes"},
        {"{}", "missing 'order'"},
        {NULL, "missing 'order'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_MSG(make(&c, &zarrc__codec_transpose, bad[i].cfg, 3, &r, 0) == ZARRC_EINVAL &&
                  has(zarrc_error_last(), bad[i].msg), "invalid order %s", bad[i].cfg);
}

/* ---- vlen-utf8 / vlen-bytes ---- */

static void test_vlen(void)
{
    zarrc__codec c;
    zarrc_buf enc = ZARRC_BUF_INIT, dec = ZARRC_BUF_INIT;
    char h[256];
    zarrc_repr r = repr("string", 1, (int64_t)3);
    zarrc_vref items[3] = {{(const uint8_t *)"foo", 3}, {NULL, 0},
                           {(const uint8_t *)"h\xc3\xa9llo", 6}};
    CHECK_MSG(make(&c, &zarrc__codec_vlen_utf8, NULL, 3, &r, 0) == ZARRC_OK, "create");
    SPELLING(&c, 3, "{\"name\":\"vlen-utf8\"}");
    SPELLING(&c, 2, "{\"id\":\"vlen-utf8\"}");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)items, sizeof items, &enc) == ZARRC_OK, "encode");
    hex(h, enc.data, enc.size);
    CHECK_MSG(!strcmp(h, "0300000003000000666f6f000000000600000068c3a96c6c6f"), "layout %s", h);
    CHECK_MSG(zarrc__codec_decode(&c, enc.data, enc.size, 0, 0, &dec) == ZARRC_OK &&
              dec.size == sizeof items, "decode");
    zarrc_vref got[3];
    memcpy(got, dec.data, sizeof got);
    for (int i = 0; i < 3; i++) {
        CHECK_MSG(got[i].len == items[i].len && (!got[i].len || !memcmp(got[i].ptr, items[i].ptr,
                                                                    got[i].len)), "item %d", i);
        CHECK_MSG(got[i].ptr >= enc.data && got[i].ptr + got[i].len <= enc.data + enc.size,
              "item %d points into the input", i);
    }
    /* Corrupt inputs. */
    uint8_t bad[32];
    memcpy(bad, enc.data, enc.size);
    bad[0] = 4;
    CHECK_MSG(zarrc__codec_decode(&c, bad, enc.size, 0, 0, &dec) == ZARRC_ECORRUPT &&
              has(zarrc_error_last(), "4 elements, expected 3"), "count mismatch");
    CHECK_MSG(zarrc__codec_decode(&c, enc.data, enc.size - 1, 0, 0, &dec) == ZARRC_ECORRUPT &&
              has(zarrc_error_last(), "element 2 claims 6 bytes but only 5 remain"), "truncated");
    CHECK_MSG(zarrc__codec_decode(&c, enc.data, 17, 0, 0, &dec) == ZARRC_ECORRUPT &&
              has(zarrc_error_last(), "length of element 2"), "truncated length");
    CHECK_MSG(zarrc__codec_decode(&c, enc.data, 3, 0, 0, &dec) == ZARRC_ECORRUPT &&
              has(zarrc_error_last(), "header"), "no header");
    memcpy(bad, enc.data, enc.size);
    bad[4] = 0xff, bad[5] = 0xff, bad[6] = 0xff, bad[7] = 0xff;
    CHECK_MSG(zarrc__codec_decode(&c, bad, enc.size, 0, 0, &dec) == ZARRC_ECORRUPT &&
              has(zarrc_error_last(), "element 0 claims 4294967295"), "huge length");
    /* Wrong number of vrefs on encode; a vref without data. */
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)items, 2 * sizeof *items, &enc) == ZARRC_EINVAL,
          "encode count");
    zarrc_vref nul[3] = {{NULL, 2}, {NULL, 0}, {NULL, 0}};
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)nul, sizeof nul, &enc) == ZARRC_EINVAL, "NULL ptr");
    zarrc__codec_fini(&c);

    /* vlen-bytes: binary content with NUL bytes, 2-D, 0-d and empty chunks. */
    r = repr("bytes", 2, (int64_t)2, (int64_t)2);
    zarrc_vref bin[4] = {{(const uint8_t *)"\0\1\2", 3}, {(const uint8_t *)"", 0},
                         {(const uint8_t *)"\xff", 1}, {(const uint8_t *)"zz\0", 3}};
    CHECK_MSG(make(&c, &zarrc__codec_vlen_bytes, "{\"id\":\"vlen-bytes\"}", 2, &r, 0) == ZARRC_OK,
          "create");
    SPELLING(&c, 2, "{\"id\":\"vlen-bytes\"}");
    SPELLING(&c, 3, "{\"name\":\"vlen-bytes\"}");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)bin, sizeof bin, &enc) == ZARRC_OK &&
              enc.size == 4 + 16 + 7, "encode size %zu", enc.size);
    CHECK_MSG(zarrc__codec_decode(&c, enc.data, enc.size, 0, 0, &dec) == ZARRC_OK, "decode");
    memcpy(got, dec.data, 3 * sizeof *got);
    CHECK_MSG(got[0].len == 3 && !memcmp(got[0].ptr, "\0\1\2", 3) && got[1].len == 0 &&
              got[2].len == 1 && got[2].ptr[0] == 0xff, "binary items");
    zarrc__codec_fini(&c);
    r = repr("bytes", 1, (int64_t)0);
    CHECK_MSG(make(&c, &zarrc__codec_vlen_bytes, NULL, 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)"", 0, &enc) == ZARRC_OK && enc.size == 4 &&
              !memcmp(enc.data, "\0\0\0\0", 4), "empty chunk");
    CHECK_MSG(zarrc__codec_decode(&c, enc.data, enc.size, 0, 0, &dec) == ZARRC_OK && dec.size == 0, "d");
    zarrc__codec_fini(&c);
    r = repr("string", 0);
    CHECK_MSG(make(&c, &zarrc__codec_vlen_utf8, NULL, 3, &r, 0) == ZARRC_OK, "create 0-d");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)items, sizeof *items, &enc) == ZARRC_OK &&
              enc.size == 11, "0-d encode");
    CHECK_MSG(zarrc__codec_decode(&c, enc.data, enc.size, 0, 0, &dec) == ZARRC_OK &&
              dec.size == sizeof(zarrc_vref), "0-d decode");
    zarrc__codec_fini(&c);
    /* Fixed-size types are refused. */
    r = repr("int32", 1, (int64_t)3);
    CHECK_MSG(make(&c, &zarrc__codec_vlen_utf8, NULL, 3, &r, 0) == ZARRC_EINVAL &&
              has(zarrc_error_last(), "int32"), "int32 refused");
    zarrc_buf_release(&enc);
    zarrc_buf_release(&dec);
}

/* ---- delta ---- */

static void test_delta(void)
{
    zarrc__codec c;
    zarrc_buf enc = ZARRC_BUF_INIT, dec = ZARRC_BUF_INIT;
    zarrc_repr r = repr("int16", 1, (int64_t)4);
    int16_t v[4] = {32767, -32768, 0, 5};
    CHECK_MSG(make(&c, &zarrc__codec_delta, "{\"id\":\"delta\",\"dtype\":\"<i2\"}", 2, &r, 0) ==
              ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)v, sizeof v, &enc) == ZARRC_OK, "encode");
    int16_t e[4];
    memcpy(e, enc.data, sizeof e);
    CHECK_MSG(e[0] == 32767 && e[1] == 1 && e[2] == -32768 && e[3] == 5, "int16 wraps: %d %d %d %d",
          e[0], e[1], e[2], e[3]);
    round_trip(&c, v, sizeof v, "delta int16");
    SPELLING(&c, 2, "{\"dtype\":\"<i2\",\"astype\":\"<i2\",\"id\":\"delta\"}");
    SPELLING(&c, 3, "{\"name\":\"numcodecs.delta\",\"configuration\":{\"dtype\":\"<i2\","
                    "\"astype\":\"<i2\"}}");
    zarrc__codec_fini(&c);

    /* uint8 -> int16: differences wrap in uint8, then cast. */
    r = repr("uint8", 2, (int64_t)1, (int64_t)3);
    uint8_t u[3] = {10, 5, 255};
    CHECK_MSG(make(&c, &zarrc__codec_delta, "{\"dtype\":\"|u1\",\"astype\":\"<i2\"}", 3, &r, 0) ==
              ZARRC_OK, "create");
    CHECK_MSG(!strcmp(c.out.dtype.name, "int16") && c.out.ndim == 2 && c.out.shape[1] == 3,
          "encoded repr %s", c.out.dtype.name);
    CHECK_MSG(zarrc__codec_encode(&c, u, 3, &enc) == ZARRC_OK && enc.size == 6, "encode");
    memcpy(e, enc.data, 6);
    CHECK_MSG(e[0] == 10 && e[1] == 251 && e[2] == 250, "u1 diffs %d %d %d", e[0], e[1], e[2]);
    round_trip(&c, u, 3, "delta u1->i2");
    zarrc__codec_fini(&c);

    /* int32 random, several shapes incl. 0-d, 1 element, empty. */
    const int64_t lens[] = {1000, 1, 0};
    for (size_t k = 0; k < 3; k++) {
        r = repr("int32", 1, lens[k]);
        CHECK_MSG(make(&c, &zarrc__codec_delta, "{\"dtype\":\"<i4\"}", 3, &r, 0) == ZARRC_OK, "c");
        int32_t *a = malloc(4000);
        for (int i = 0; i < 1000; i++)
            a[i] = (int32_t)check_rnd();
        round_trip(&c, a, (size_t)lens[k] * 4, "delta int32");
        free(a);
        zarrc__codec_fini(&c);
    }
    r = repr("int64", 0);
    CHECK_MSG(make(&c, &zarrc__codec_delta, "{\"dtype\":\"<i8\"}", 3, &r, 0) == ZARRC_OK, "0-d");
    int64_t one = -77;
    round_trip(&c, &one, 8, "delta 0-d");
    zarrc__codec_fini(&c);

    /* float32: differences in float32 arithmetic. */
    r = repr("float32", 1, (int64_t)4);
    float f[4] = {1.5f, 0.1f, 1e8f, -3.0f};
    CHECK_MSG(make(&c, &zarrc__codec_delta, "{\"dtype\":\"<f4\",\"astype\":\"<f4\"}", 3, &r, 0) ==
              ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)f, sizeof f, &enc) == ZARRC_OK, "encode");
    float fe[4];
    memcpy(fe, enc.data, sizeof fe);
    volatile float a1 = 0.1f, a0 = 1.5f, a2 = 1e8f;
    CHECK_MSG(fe[0] == 1.5f && fe[1] == (float)(a1 - a0) && fe[2] == (float)(a2 - a1),
          "float32 diffs");
    zarrc__codec_fini(&c);

    /* bool: numpy.diff is "not equal", numpy.cumsum into bool is "or" (not a round trip). */
    r = repr("bool", 1, (int64_t)5);
    uint8_t b[5] = {1, 1, 0, 0, 1};
    CHECK_MSG(make(&c, &zarrc__codec_delta, "{\"dtype\":\"|b1\"}", 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, b, 5, &enc) == ZARRC_OK && !memcmp(enc.data, "\1\0\1\0\1", 5),
          "bool encode");
    CHECK_MSG(zarrc__codec_decode(&c, enc.data, 5, 5, 0, &dec) == ZARRC_OK &&
              !memcmp(dec.data, "\1\1\1\1\1", 5), "bool decode");
    zarrc__codec_fini(&c);

    /* Invalid configurations. */
    r = repr("int32", 1, (int64_t)4);
    CHECK_MSG(make(&c, &zarrc__codec_delta, "{\"dtype\":\"<i2\"}", 3, &r, 0) == ZARRC_EINVAL &&
              has(zarrc_error_last(), "does not match"), "size mismatch");
    CHECK_MSG(make(&c, &zarrc__codec_delta, "{\"dtype\":\"<q9\"}", 3, &r, 0) == ZARRC_EINVAL &&
              has(zarrc_error_last(), "unknown data type '<q9'"), "unknown dtype");
    CHECK_MSG(make(&c, &zarrc__codec_delta, "{\"dtype\":4}", 3, &r, 0) == ZARRC_EINVAL &&
              has(zarrc_error_last(), "'dtype'"), "dtype not a string");
    CHECK_MSG(make(&c, &zarrc__codec_delta, "{\"dtype\":\"<i4\",\"astype\":\"|S4\"}", 3, &r, 0) ==
              ZARRC_EINVAL && has(zarrc_error_last(), "astype"), "astype not numeric");
    /* Corrupt sizes. */
    CHECK_MSG(make(&c, &zarrc__codec_delta, NULL, 3, &r, 0) == ZARRC_OK, "defaults");
    CHECK_MSG(zarrc__codec_decode(&c, enc.data, 15, 16, 0, &dec) == ZARRC_ECORRUPT, "short");
    zarrc__codec_fini(&c);
    zarrc_buf_release(&enc);
    zarrc_buf_release(&dec);
}

/* ---- fixedscaleoffset ---- */

static void test_fixedscaleoffset(void)
{
    zarrc__codec c;
    zarrc_buf enc = ZARRC_BUF_INIT, dec = ZARRC_BUF_INIT;
    zarrc_repr r = repr("float64", 1, (int64_t)6);
    double x[6] = {1000.0, 1000.25, 1000.75, 1000.5, 1001.5, 1012.4};
    const char *cfg = "{\"id\":\"fixedscaleoffset\",\"scale\":10,\"offset\":1000,"
                      "\"dtype\":\"<f8\",\"astype\":\"|u1\"}";
    CHECK_MSG(make(&c, &zarrc__codec_fixedscaleoffset, cfg, 2, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(!strcmp(c.out.dtype.name, "uint8"), "encoded dtype %s", c.out.dtype.name);
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)x, sizeof x, &enc) == ZARRC_OK && enc.size == 6, "e");
    /* round half to even: 2.5 -> 2, 7.5 -> 8. */
    CHECK_MSG(!memcmp(enc.data, "\0\2\x08\5\x0f\x7c", 6), "encoded %d %d %d %d %d %d", enc.data[0],
          enc.data[1], enc.data[2], enc.data[3], enc.data[4], enc.data[5]);
    CHECK_MSG(zarrc__codec_decode(&c, enc.data, 6, 48, 0, &dec) == ZARRC_OK && dec.size == 48, "d");
    double y[6];
    memcpy(y, dec.data, sizeof y);
    CHECK_MSG(y[1] == 2.0 / 10 + 1000 && y[5] == 124.0 / 10 + 1000, "decoded %.17g %.17g", y[1], y[5]);
    SPELLING(&c, 2, "{\"scale\":10,\"offset\":1000,\"dtype\":\"<f8\",\"astype\":\"|u1\","
                    "\"id\":\"fixedscaleoffset\"}");
    SPELLING(&c, 3, "{\"name\":\"numcodecs.fixedscaleoffset\",\"configuration\":{\"scale\":10,"
                    "\"offset\":1000,\"dtype\":\"<f8\",\"astype\":\"|u1\"}}");
    zarrc__codec_fini(&c);

    /* int8 wraps like a C cast: 130 -> -126; -0.5 rounds to -0 -> 0. */
    r = repr("float64", 1, (int64_t)2);
    double w[2] = {1013.0, 999.95};
    CHECK_MSG(make(&c, &zarrc__codec_fixedscaleoffset,
               "{\"scale\":10,\"offset\":1000,\"dtype\":\"<f8\",\"astype\":\"|i1\"}", 3, &r,
               0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)w, sizeof w, &enc) == ZARRC_OK &&
              (int8_t)enc.data[0] == -126 && enc.data[1] == 0, "i1 wrap %d %d",
          (int8_t)enc.data[0], (int8_t)enc.data[1]);
    zarrc__codec_fini(&c);

    /* float32 astype: decode arithmetic in float32 (NumPy keeps the array's float type). */
    r = repr("float32", 1, (int64_t)64);
    CHECK_MSG(make(&c, &zarrc__codec_fixedscaleoffset,
               "{\"scale\":3,\"offset\":1000.1,\"dtype\":\"<f4\",\"astype\":\"<f4\"}", 3, &r,
               0) == ZARRC_OK, "create");
    float in[64];
    for (int i = 0; i < 64; i++)
        in[i] = (float)(i * 7 + 1);
    CHECK_MSG(zarrc__codec_decode(&c, (uint8_t *)in, sizeof in, sizeof in, 0, &dec) == ZARRC_OK, "d");
    int differs = 0, wrong = 0;
    for (int i = 0; i < 64; i++) {
        volatile float q = in[i], s3 = 3.0f, off = (float)1000.1;
        volatile float want = q / s3;
        want = want + off;
        float got;
        memcpy(&got, dec.data + 4 * i, 4);
        wrong += got != want;
        differs += (float)(in[i] / 3.0 + 1000.1) != want;
    }
    CHECK_MSG(wrong == 0, "%d float32 decodes differ from float32 arithmetic", wrong);
    CHECK_MSG(differs > 0, "test data does not tell float32 from float64 arithmetic");
    zarrc__codec_fini(&c);

    /* Invalid configurations. */
    r = repr("float64", 1, (int64_t)2);
    CHECK_MSG(make(&c, &zarrc__codec_fixedscaleoffset, "{\"scale\":\"x\"}", 3, &r, 0) == ZARRC_EINVAL
              && has(zarrc_error_last(), "'scale'"), "scale string");
    CHECK_MSG(make(&c, &zarrc__codec_fixedscaleoffset, "{\"scale\":0}", 3, &r, 0) == ZARRC_EINVAL &&
              has(zarrc_error_last(), "'scale'"), "scale 0");
    CHECK_MSG(make(&c, &zarrc__codec_fixedscaleoffset, "{\"scale\":1,\"dtype\":\"<f4\"}", 3, &r, 0) ==
              ZARRC_EINVAL && has(zarrc_error_last(), "does not match"), "dtype mismatch");
    CHECK_MSG(make(&c, &zarrc__codec_fixedscaleoffset, "{\"scale\":1,\"astype\":\"nope\"}", 3, &r,
               0) == ZARRC_EINVAL && has(zarrc_error_last(), "astype"), "astype unknown");
    zarrc_buf_release(&enc);
    zarrc_buf_release(&dec);
}

/* zarrita.js fixture: v2 <f4 with fixedscaleoffset(offset 1000, scale 10, astype <i2). */
static void test_fixedscaleoffset_fixture(void)
{
    const char *shared = getenv("ZARRC_SHARED");
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/zarrita.js/fixtures/v2/data.zarr/"
             "1d.contiguous.fixedscaleoffset.f4/0", shared ? shared : "/nonexistent");
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        printf("SKIP: fixedscaleoffset fixture: %s not found\n", path);
        return;
    }
    uint8_t raw[64];
    size_t n = fread(raw, 1, sizeof raw, fp);
    fclose(fp);
    zarrc__codec c;
    zarrc_repr r = repr("float32", 1, (int64_t)4);
    zarrc_buf dec = ZARRC_BUF_INIT;
    CHECK_MSG(make(&c, &zarrc__codec_fixedscaleoffset, "{\"astype\":\"<i2\",\"dtype\":\"<f4\","
               "\"id\":\"fixedscaleoffset\",\"offset\":1000,\"scale\":10}", 2, &r, 0) == ZARRC_OK,
          "create");
    CHECK_MSG(zarrc__codec_decode(&c, raw, n, 16, 0, &dec) == ZARRC_OK && dec.size == 16, "decode");
    float got[4];
    const double want[4] = {1000.0, 1000.0999755859375, 1000.2000122070312, 1000.2999877929688};
    memcpy(got, dec.data, sizeof got);
    for (int i = 0; i < 4; i++)
        CHECK_MSG(got[i] == (float)want[i], "element %d: %.9g", i, got[i]);
    zarrc__codec_fini(&c);
    zarrc_buf_release(&dec);
}

/* ---- quantize ---- */

static void test_quantize(void)
{
    zarrc__codec c;
    zarrc_buf enc = ZARRC_BUF_INIT, dec = ZARRC_BUF_INIT;
    zarrc_repr r = repr("float64", 1, (int64_t)3);
    double x[3] = {0.1, 1.23456, -7.96875};
    /* digits 1: scale 2^4; 0.1*16 = 1.6 -> 2 -> 0.125; 19.75 -> 20 -> 1.25; -127.5 -> -128. */
    CHECK_MSG(make(&c, &zarrc__codec_quantize,
               "{\"id\":\"quantize\",\"digits\":1,\"dtype\":\"<f8\",\"astype\":\"<f4\"}", 2, &r,
               0) == ZARRC_OK, "create");
    CHECK_MSG(!strcmp(c.out.dtype.name, "float32"), "encoded dtype");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)x, sizeof x, &enc) == ZARRC_OK && enc.size == 12,
          "encode");
    float q[3];
    memcpy(q, enc.data, sizeof q);
    CHECK_MSG(q[0] == 0.125f && q[1] == 1.25f && q[2] == -8.0f, "quantized %g %g %g", q[0], q[1], q[2]);
    CHECK_MSG(zarrc__codec_decode(&c, enc.data, enc.size, 24, 0, &dec) == ZARRC_OK, "decode");
    double y[3];
    memcpy(y, dec.data, sizeof y);
    CHECK_MSG(y[0] == 0.125 && y[1] == 1.25 && y[2] == -8.0, "decoded");
    SPELLING(&c, 2, "{\"digits\":1,\"dtype\":\"<f8\",\"astype\":\"<f4\",\"id\":\"quantize\"}");
    zarrc__codec_fini(&c);
    /* digits -1: scale 2^-3; 13/8 = 1.625 -> 2 -> 16. */
    r = repr("float32", 0);
    float v = 13.0f;
    CHECK_MSG(make(&c, &zarrc__codec_quantize, "{\"digits\":-1}", 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)&v, 4, &enc) == ZARRC_OK, "encode");
    memcpy(&v, enc.data, 4);
    CHECK_MSG(v == 16.0f, "digits -1: %g", v);
    zarrc__codec_fini(&c);
    r = repr("int32", 1, (int64_t)3);
    CHECK_MSG(make(&c, &zarrc__codec_quantize, "{\"digits\":2}", 3, &r, 0) == ZARRC_EINVAL &&
              has(zarrc_error_last(), "floating"), "ints refused");
    r = repr("float64", 1, (int64_t)3);
    CHECK_MSG(make(&c, &zarrc__codec_quantize, "{\"dtype\":\"<f8\"}", 3, &r, 0) == ZARRC_EINVAL &&
              has(zarrc_error_last(), "'digits'"), "digits missing");
    zarrc_buf_release(&enc);
    zarrc_buf_release(&dec);
}

/* ---- bitround ---- */

static void test_bitround(void)
{
    zarrc__codec c;
    zarrc_buf enc = ZARRC_BUF_INIT;
    zarrc_repr r = repr("float32", 1, (int64_t)6);
    float f[6] = {0.0f, 1.23456789f, -8.3587192834f, 98765.43210f, NAN, INFINITY};
    CHECK_MSG(make(&c, &zarrc__codec_bitround, "{\"keepbits\":3}", 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)f, sizeof f, &enc) == ZARRC_OK, "encode");
    float g[6];
    memcpy(g, enc.data, sizeof g);
    CHECK_MSG(g[0] == 0 && g[1] == 1.25f && g[2] == -8.0f && g[3] == 98304.0f && isnan(g[4]) &&
              g[5] == INFINITY, "float32 rounded %g %g %g %g", g[0], g[1], g[2], g[3]);
    round_trip(&c, g, sizeof g, "bitround idempotent on decode");
    /* written as zarr-python 3 names it ("bitround" is read too) */
    SPELLING(&c, 3, "{\"name\":\"numcodecs.bitround\",\"configuration\":{\"keepbits\":3}}");
    SPELLING(&c, 2, "{\"keepbits\":3,\"id\":\"bitround\"}");
    zarrc__codec_fini(&c);

    /* Integers: keep bits from the most significant set bit (saturating). */
    r = repr("uint8", 1, (int64_t)6);
    uint8_t u[6] = {11, 100, 123, 209, 255, 0};
    CHECK_MSG(make(&c, &zarrc__codec_bitround, "{\"keepbits\":3}", 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, u, 6, &enc) == ZARRC_OK &&
              !memcmp(enc.data, "\x0c\x60\x80\xe0\xe0\0", 6), "uint8 %d %d %d %d %d", enc.data[0],
          enc.data[1], enc.data[2], enc.data[3], enc.data[4]);
    zarrc__codec_fini(&c);
    r = repr("uint32", 1, (int64_t)7);
    uint32_t u32[7] = {0, 1024, 1280, 1664, 1685, 123145182, 4294967295u};
    const uint32_t want32[7] = {0, 1024, 1280, 1536, 1792, 117440512, 3758096384u};
    CHECK_MSG(make(&c, &zarrc__codec_bitround, "{\"keepbits\":3}", 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)u32, sizeof u32, &enc) == ZARRC_OK &&
              !memcmp(enc.data, want32, sizeof want32), "uint32");
    zarrc__codec_fini(&c);

    /* float64 keepbits = mantissa bits is identity; complex64 rounds each part. */
    r = repr("float64", 1, (int64_t)1);
    double d = 0.1;
    CHECK_MSG(make(&c, &zarrc__codec_bitround, "{\"keepbits\":52}", 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)&d, 8, &enc) == ZARRC_OK &&
              !memcmp(enc.data, &d, 8), "identity");
    zarrc__codec_fini(&c);
    r = repr("complex64", 0);
    float cx[2] = {1.23456789f, -8.3587192834f};
    CHECK_MSG(make(&c, &zarrc__codec_bitround, "{\"keepbits\":3}", 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)cx, 8, &enc) == ZARRC_OK, "encode");
    memcpy(cx, enc.data, 8);
    CHECK_MSG(cx[0] == 1.25f && cx[1] == -8.0f, "complex parts %g %g", cx[0], cx[1]);
    zarrc__codec_fini(&c);
    /* float16 keepbits 2: 1.3 (0x3d33) -> 1.25 (0x3d00). */
    r = repr("float16", 1, (int64_t)1);
    uint16_t hf = 0x3d33;
    CHECK_MSG(make(&c, &zarrc__codec_bitround, "{\"keepbits\":2}", 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)&hf, 2, &enc) == ZARRC_OK, "encode");
    memcpy(&hf, enc.data, 2);
    CHECK_MSG(hf == 0x3d00, "float16 %04x", hf);
    zarrc__codec_fini(&c);

    r = repr("float32", 1, (int64_t)1);
    CHECK_MSG(make(&c, &zarrc__codec_bitround, "{\"keepbits\":24}", 3, &r, 0) == ZARRC_EINVAL &&
              has(zarrc_error_last(), "23 mantissa bits"), "too many keepbits");
    CHECK_MSG(make(&c, &zarrc__codec_bitround, "{\"keepbits\":-1}", 3, &r, 0) == ZARRC_EINVAL &&
              has(zarrc_error_last(), "keepbits"), "negative keepbits");
    CHECK_MSG(make(&c, &zarrc__codec_bitround, "{}", 3, &r, 0) == ZARRC_EINVAL &&
              has(zarrc_error_last(), "missing 'keepbits'"), "missing keepbits");
    r = repr("bool", 1, (int64_t)1);
    CHECK_MSG(make(&c, &zarrc__codec_bitround, "{\"keepbits\":1}", 3, &r, 0) == ZARRC_EINVAL &&
              has(zarrc_error_last(), "bool"), "bool refused");
    zarrc_buf_release(&enc);
}

/* ---- astype ---- */

static void test_astype(void)
{
    zarrc__codec c;
    zarrc_buf enc = ZARRC_BUF_INIT, dec = ZARRC_BUF_INIT;
    zarrc_repr r = repr("int32", 1, (int64_t)3);
    int32_t v[3] = {70000, -1, 32767};
    CHECK_MSG(make(&c, &zarrc__codec_astype,
               "{\"id\":\"astype\",\"encode_dtype\":\"<i2\",\"decode_dtype\":\"<i4\"}", 2, &r,
               0) == ZARRC_OK, "create");
    CHECK_MSG(!strcmp(c.out.dtype.name, "int16"), "encoded dtype");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)v, sizeof v, &enc) == ZARRC_OK && enc.size == 6, "e");
    int16_t e[3];
    memcpy(e, enc.data, 6);
    CHECK_MSG(e[0] == 4464 && e[1] == -1 && e[2] == 32767, "narrowing wraps %d", e[0]);
    CHECK_MSG(zarrc__codec_decode(&c, enc.data, 6, 12, 0, &dec) == ZARRC_OK && dec.size == 12, "d");
    int32_t back[3];
    memcpy(back, dec.data, 12);
    CHECK_MSG(back[0] == 4464 && back[1] == -1 && back[2] == 32767, "widening");
    SPELLING(&c, 2, "{\"encode_dtype\":\"<i2\",\"decode_dtype\":\"<i4\",\"id\":\"astype\"}");
    SPELLING(&c, 3, "{\"name\":\"numcodecs.astype\",\"configuration\":{\"encode_dtype\":\"<i2\","
                    "\"decode_dtype\":\"<i4\"}}");
    zarrc__codec_fini(&c);

    /* float64 -> float32 rounds; float -> int truncates, out of range wraps like C on x86. */
    r = repr("float64", 1, (int64_t)4);
    double d[4] = {0.1, 2.7, -2.7, 1e30};
    CHECK_MSG(make(&c, &zarrc__codec_astype, "{\"encode_dtype\":\"<f4\"}", 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)d, sizeof d, &enc) == ZARRC_OK, "encode");
    float f[4];
    memcpy(f, enc.data, 16);
    CHECK_MSG(f[0] == 0.1f && f[1] == 2.7f && f[3] == 1e30f, "float32 values");
    zarrc__codec_fini(&c);
    CHECK_MSG(make(&c, &zarrc__codec_astype, "{\"encode_dtype\":\"<i4\"}", 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)d, sizeof d, &enc) == ZARRC_OK, "encode");
    int32_t iv[4];
    memcpy(iv, enc.data, 16);
    CHECK_MSG(iv[1] == 2 && iv[2] == -2 && iv[3] == INT32_MIN, "truncation %d %d %d", iv[1], iv[2],
          iv[3]);
    zarrc__codec_fini(&c);
    /* float64 -> float16 rounds once (1 + 2^-11 + 2^-40 is above the midpoint: up). */
    r = repr("float64", 1, (int64_t)2);
    double h[2] = {1.0 + 0x1p-11 + 0x1p-40, 65520.0};
    CHECK_MSG(make(&c, &zarrc__codec_astype, "{\"encode_dtype\":\"<f2\"}", 3, &r, 0) == ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (uint8_t *)h, sizeof h, &enc) == ZARRC_OK, "encode");
    uint16_t hv[2];
    memcpy(hv, enc.data, 4);
    CHECK_MSG(hv[0] == 0x3c01 && hv[1] == 0x7c00, "float16 %04x %04x", hv[0], hv[1]);
    zarrc__codec_fini(&c);

    r = repr("float64", 1, (int64_t)4);
    CHECK_MSG(make(&c, &zarrc__codec_astype, "{\"decode_dtype\":\"<f8\"}", 3, &r, 0) == ZARRC_EINVAL
              && has(zarrc_error_last(), "missing 'encode_dtype'"), "encode_dtype required");
    CHECK_MSG(make(&c, &zarrc__codec_astype, "{\"encode_dtype\":\"<f4\",\"decode_dtype\":\"<f4\"}", 3,
               &r, 0) == ZARRC_EINVAL && has(zarrc_error_last(), "does not match"), "mismatch");
    zarrc_buf_release(&enc);
    zarrc_buf_release(&dec);
}

/* ---- packbits ---- */

static void test_packbits(void)
{
    zarrc__codec c;
    zarrc_buf enc = ZARRC_BUF_INIT, dec = ZARRC_BUF_INIT;
    zarrc_repr r = repr("bool", 2, (int64_t)2, (int64_t)5);
    uint8_t b[10] = {1, 0, 1, 1, 0, 0, 0, 1, 1, 1};
    CHECK_MSG(make(&c, &zarrc__codec_packbits, "{\"id\":\"packbits\"}", 2, &r, 0) == ZARRC_OK, "c");
    CHECK_MSG(c.out.ndim == 1 && c.out.shape[0] == 3 && !strcmp(c.out.dtype.name, "uint8"),
          "encoded repr");
    CHECK_MSG(zarrc__codec_encode(&c, b, 10, &enc) == ZARRC_OK && enc.size == 3 &&
              !memcmp(enc.data, "\x06\xb1\xc0", 3), "packed %02x %02x %02x", enc.data[0],
          enc.data[1], enc.data[2]);
    round_trip(&c, b, 10, "packbits");
    SPELLING(&c, 2, "{\"id\":\"packbits\"}");
    /* zarr-python 3 needs the (empty) configuration of numcodecs.* codecs */
    SPELLING(&c, 3, "{\"name\":\"numcodecs.packbits\",\"configuration\":{}}");
    CHECK_MSG(zarrc__codec_decode(&c, (const uint8_t *)"\x05\xb1\xc0", 3, 10, 0, &dec) ==
              ZARRC_ECORRUPT && has(zarrc_error_last(), "padding"), "bad padding");
    CHECK_MSG(zarrc__codec_decode(&c, (const uint8_t *)"\x06\xb1", 2, 10, 0, &dec) == ZARRC_ECORRUPT,
          "short");
    zarrc__codec_fini(&c);
    /* Exact multiple of 8, 0-d, empty. */
    r = repr("bool", 1, (int64_t)8);
    CHECK_MSG(make(&c, &zarrc__codec_packbits, NULL, 3, &r, 0) == ZARRC_OK, "c");
    CHECK_MSG(zarrc__codec_encode(&c, b, 8, &enc) == ZARRC_OK && enc.size == 2 &&
              !memcmp(enc.data, "\x00\xb1", 2), "8 bits");
    zarrc__codec_fini(&c);
    r = repr("bool", 0);
    CHECK_MSG(make(&c, &zarrc__codec_packbits, NULL, 3, &r, 0) == ZARRC_OK, "c");
    CHECK_MSG(zarrc__codec_encode(&c, b, 1, &enc) == ZARRC_OK && enc.size == 2 &&
              !memcmp(enc.data, "\x07\x80", 2), "0-d");
    round_trip(&c, b, 1, "packbits 0-d");
    zarrc__codec_fini(&c);
    r = repr("bool", 1, (int64_t)0);
    CHECK_MSG(make(&c, &zarrc__codec_packbits, NULL, 3, &r, 0) == ZARRC_OK, "c");
    CHECK_MSG(zarrc__codec_encode(&c, b, 0, &enc) == ZARRC_OK && enc.size == 1 && enc.data[0] == 0,
          "empty");
    round_trip(&c, b, 0, "packbits empty");
    zarrc__codec_fini(&c);
    r = repr("int32", 1, (int64_t)3);
    CHECK_MSG(make(&c, &zarrc__codec_packbits, NULL, 3, &r, 0) == ZARRC_EINVAL &&
              has(zarrc_error_last(), "bool"), "int32 refused");
    zarrc_buf_release(&enc);
    zarrc_buf_release(&dec);
}

/* ---- shuffle ---- */

static void test_shuffle(void)
{
    zarrc__codec c;
    zarrc_buf enc = ZARRC_BUF_INIT;
    CHECK_MSG(make(&c, &zarrc__codec_shuffle, "{\"id\":\"shuffle\",\"elementsize\":4}", 2, NULL, 0) ==
              ZARRC_OK, "create");
    CHECK_MSG(zarrc__codec_encode(&c, (const uint8_t *)"01234567", 8, &enc) == ZARRC_OK &&
              enc.size == 8 && !memcmp(enc.data, "04152637", 8), "shuffled %.8s", enc.data);
    round_trip(&c, "01234567", 8, "shuffle 4");
    SPELLING(&c, 2, "{\"elementsize\":4,\"id\":\"shuffle\"}");
    SPELLING(&c, 3, "{\"name\":\"numcodecs.shuffle\",\"configuration\":{\"elementsize\":4}}");
    CHECK_MSG(zarrc__codec_encode(&c, (const uint8_t *)"0123456", 7, &enc) == ZARRC_EINVAL &&
              has(zarrc_error_last(), "multiple"), "not a multiple");
    CHECK_MSG(zarrc__codec_decode(&c, (const uint8_t *)"0123456", 7, 0, 0, &enc) == ZARRC_ECORRUPT,
          "corrupt");
    zarrc__codec_fini(&c);
    /* Default from the chunk's data type. */
    zarrc_repr r = repr("int16", 1, (int64_t)3);
    CHECK_MSG(make(&c, &zarrc__codec_shuffle, NULL, 3, &r, 0) == ZARRC_OK, "create");
    SPELLING(&c, 3, "{\"name\":\"numcodecs.shuffle\",\"configuration\":{\"elementsize\":2}}");
    CHECK_MSG(zarrc__codec_encode(&c, (const uint8_t *)"aAbBcC", 6, &enc) == ZARRC_OK &&
              !memcmp(enc.data, "abcABC", 6), "elementsize 2");
    zarrc__codec_fini(&c);
    /* Random round trips for several element sizes; 0 and 1 are identity. */
    uint8_t data[1680];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)check_rnd();
    const int sizes[] = {0, 1, 2, 3, 4, 5, 8, 12, 16};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        char cfg[64];
        snprintf(cfg, sizeof cfg, "{\"elementsize\":%d}", sizes[k]);
        CHECK_MSG(make(&c, &zarrc__codec_shuffle, cfg, 3, NULL, 0) == ZARRC_OK, "%s", cfg);
        round_trip(&c, data, sizeof data, cfg);
        round_trip(&c, data, 0, cfg);
        CHECK_MSG(zarrc__codec_encode(&c, data, 240, &enc) == ZARRC_OK &&
                  (sizes[k] > 1) == (memcmp(enc.data, data, 240) != 0), "changes data iff es>1");
        zarrc__codec_fini(&c);
    }
    CHECK_MSG(make(&c, &zarrc__codec_shuffle, "{\"elementsize\":-1}", 3, NULL, 0) == ZARRC_EINVAL &&
              has(zarrc_error_last(), "elementsize"), "negative");
    CHECK_MSG(make(&c, &zarrc__codec_shuffle, "{\"elementsize\":\"4\"}", 3, NULL, 0) == ZARRC_EINVAL &&
              has(zarrc_error_last(), "elementsize"), "string");
    zarrc_buf_release(&enc);
}

/* ---- every lossless codec over several dtypes and shapes ---- */

static void test_shapes(void)
{
    struct { const zarrc_codec_type *t; const char *cfg; const char *dtype; } cases[] = {
        {&zarrc__codec_bytes, "{\"endian\":\"big\"}", "int32"},
        {&zarrc__codec_bytes, "{\"endian\":\"big\"}", "complex128"},
        {&zarrc__codec_bytes, "{\"endian\":\"little\"}", "uint16"},
        {&zarrc__codec_bytes, NULL, "r24"},
        {&zarrc__codec_delta, "{\"dtype\":\"<u2\"}", "uint16"},
        {&zarrc__codec_delta, "{\"dtype\":\"<i8\"}", "int64"},
        {&zarrc__codec_delta, "{\"dtype\":\"<u4\",\"astype\":\"<u8\"}", "uint32"},
        {&zarrc__codec_astype, "{\"encode_dtype\":\"<i8\",\"decode_dtype\":\"<i2\"}", "int16"},
        {&zarrc__codec_astype, "{\"encode_dtype\":\"<f8\",\"decode_dtype\":\"<f4\"}", "float32"},
        {&zarrc__codec_astype, "{\"encode_dtype\":\"<f8\",\"decode_dtype\":\"<i4\"}", "int32"},
        {&zarrc__codec_fixedscaleoffset, "{\"scale\":1,\"offset\":0,\"astype\":\"<i4\"}", "int16"},
        {&zarrc__codec_shuffle, NULL, "float64"},
        {&zarrc__codec_transpose, "{\"order\":\"F\"}", "int16"},
        {&zarrc__codec_bitround, "{\"keepbits\":52}", "float64"},
    };
    const int64_t shapes[][4] = {{0}, {1, 1}, {1, 0}, {1, 17}, {2, 0, 3}, {2, 5, 3}, {3, 1, 7, 2}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
            zarrc_repr r = repr(cases[k].dtype, 0);
            r.ndim = (int)shapes[s][0];
            for (int i = 0; i < r.ndim; i++)
                r.shape[i] = shapes[s][1 + i];
            zarrc__codec c;
            char what[160];
            snprintf(what, sizeof what, "%s %s %s shape #%zu", cases[k].t->name,
                     cases[k].cfg ? cases[k].cfg : "-", cases[k].dtype, s);
            if (make(&c, cases[k].t, cases[k].cfg, 3, &r, 0) != ZARRC_OK) {
                CHECK_MSG(0, "create %s", what);
                continue;
            }
            size_t size = nelem(&r) * r.dtype.item_size;
            uint8_t *data = malloc(size + 1);
            for (size_t i = 0; i < size; i++)
                data[i] = (uint8_t)check_rnd();
            if (r.dtype.kind == ZARRC_DTYPE_FLOAT || r.dtype.kind == ZARRC_DTYPE_COMPLEX) {
                /* NaN payloads need not survive conversions: use ordinary numbers. */
                for (size_t i = 0; i < size / 4; i++) {
                    float x = (float)(check_rnd() % 100000) / 8;
                    if (r.dtype.item_size == 4)
                        memcpy(data + 4 * i, &x, 4);
                    else if (i % 2 == 0) {
                        double y = x;
                        memcpy(data + 4 * i, &y, 8);
                    }
                }
            }
            round_trip(&c, data, size, what);
            free(data);
            zarrc__codec_fini(&c);
        }
    }
}

/* ---- numeric helpers ---- */

static void test_numeric(void)
{
    /* double -> half against a brute-force nearest-even search over all finite halves. */
    int bad = 0;
    for (uint32_t i = 0; i < 20000; i++) {
        double d = ldexp((double)(check_rnd() >> 11), -(int)(check_rnd() % 70)) * ((check_rnd() & 1) ? -1 : 1);
        uint16_t h = zarrc_double_to_half(d);
        if (fabs(d) >= 65520.0) {
            bad += (h & 0x7fff) != 0x7c00;
            continue;
        }
        double got = zarrc_half_to_double(h), err = fabs(got - d);
        /* neighbours must not be closer */
        for (int delta = -1; delta <= 1; delta += 2) {
            uint16_t n = (uint16_t)(h + delta);
            if ((n & 0x7c00) == 0x7c00 || ((h ^ n) & 0x8000))
                continue;
            double e2 = fabs(zarrc_half_to_double(n) - d);
            if (e2 < err || (e2 == err && (h & 1)))
                bad++;
        }
    }
    CHECK_MSG(bad == 0, "%d double->half conversions are not nearest-even", bad);
    CHECK_MSG(zarrc_double_to_half(65504.0) == 0x7bff && zarrc_double_to_half(65519.99) == 0x7bff &&
              zarrc_double_to_half(0x1p-25) == 0 && zarrc_double_to_half(0x1.0000001p-25) == 1 &&
              zarrc_double_to_half(-0.0) == 0x8000 && zarrc_double_to_half(0x1p-14) == 0x0400,
          "half edge cases");
    /* Casting rules. */
    uint8_t buf[8];
    zarrc__num_store(ZARRC__NUM_U8, buf, zarrc__val_f(-1.0));
    CHECK_MSG(buf[0] == 255, "-1.0 -> u8 %d", buf[0]);
    zarrc__num_store(ZARRC__NUM_I64, buf, zarrc__val_f(NAN));
    int64_t i64;
    memcpy(&i64, buf, 8);
    CHECK_MSG(i64 == INT64_MIN, "NaN -> i8");
    zarrc__num_store(ZARRC__NUM_U64, buf, zarrc__val_f(0x1p63 + 4096));
    uint64_t u64;
    memcpy(&u64, buf, 8);
    CHECK_MSG(u64 == (UINT64_C(1) << 63) + 4096, "large -> u64");
    zarrc__num_store(ZARRC__NUM_BOOL, buf, zarrc__val_f(0.5));
    CHECK_MSG(buf[0] == 1, "0.5 -> bool");
    zarrc__val v = {ZARRC__VAL_INT, {.i = (INT64_C(1) << 60) + 1}};
    zarrc__num_store(ZARRC__NUM_F32, buf, v);
    float f;
    memcpy(&f, buf, 4);
    CHECK_MSG(f == 0x1p60f, "int64 -> float32");
}

/* ---- registry names ---- */

static void test_registry(void)
{
    struct { const char *name; bool v3; const zarrc_codec_type *want; } names[] = {
        {"bytes", true, &zarrc__codec_bytes}, {"endian", true, &zarrc__codec_bytes},
        {"transpose", true, &zarrc__codec_transpose},
        {"numcodecs.delta", true, &zarrc__codec_delta}, {"delta", false, &zarrc__codec_delta},
        {"numcodecs.fixedscaleoffset", true, &zarrc__codec_fixedscaleoffset},
        {"fixedscaleoffset", false, &zarrc__codec_fixedscaleoffset},
        {"numcodecs.quantize", true, &zarrc__codec_quantize},
        {"bitround", true, &zarrc__codec_bitround},
        {"numcodecs.bitround", true, &zarrc__codec_bitround},
        {"bitround", false, &zarrc__codec_bitround},
        {"numcodecs.astype", true, &zarrc__codec_astype}, {"astype", false, &zarrc__codec_astype},
        {"numcodecs.packbits", true, &zarrc__codec_packbits},
        {"packbits", false, &zarrc__codec_packbits},
        {"numcodecs.shuffle", true, &zarrc__codec_shuffle},
        {"shuffle", false, &zarrc__codec_shuffle},
        {"vlen-utf8", true, &zarrc__codec_vlen_utf8}, {"vlen-utf8", false, &zarrc__codec_vlen_utf8},
        {"vlen-bytes", true, &zarrc__codec_vlen_bytes},
        {"vlen-bytes", false, &zarrc__codec_vlen_bytes},
        {"packbits", true, &zarrc__codec_packbits_v3}, /* zarr-extensions' packbits: another layout */
        {"reshape", true, &zarrc__codec_reshape}, {"zarrs.squeeze", true, &zarrc__codec_squeeze},
        {"scale_offset", true, &zarrc__codec_scale_offset}, {"zarrs.vlen_v2", true, &zarrc__codec_vlen_v2},
        {"scale_offset", false, NULL}, {"reshape", false, NULL},
    };
    /* known but unsupported codecs carry their reason (docs/compatibility.md) */
    CHECK(zarrc__codec_unsupported_reason("numcodecs.pcodec") && strstr(zarrc__codec_unsupported_reason("numcodecs.pcodec"), "pco"));
    CHECK(zarrc__codec_unsupported_reason("zarrs.gdeflate") != NULL);
    CHECK(zarrc__codec_unsupported_reason("numcodecs.zfpy") == NULL); /* built in now (codec_zfp.c) */
    CHECK(zarrc__codec_unsupported_reason("nonesuch") == NULL);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const zarrc_codec_type *t = names[i].v3 ? zarrc__codec_find_v3(names[i].name)
                                                : zarrc__codec_find_v2(names[i].name);
        CHECK_MSG(t == names[i].want, "lookup %s (v%d)", names[i].name, names[i].v3 ? 3 : 2);
    }
}

int main(void)
{
    test_numeric();
    test_bytes();
    test_transpose();
    test_vlen();
    test_delta();
    test_fixedscaleoffset();
    test_fixedscaleoffset_fixture();
    test_quantize();
    test_bitround();
    test_astype();
    test_packbits();
    test_shuffle();
    test_shapes();
    test_registry();
    return check_report("unit.codecs_array");
}
