/* test_small_types.c — zarr-extensions sub-byte integers, 8/6/4-bit floats and complex
 * variants: decoding and encoding of the small floats (with a vector file from ml_dtypes as
 * argv[1]: every code decoded, every value, tie and overflow encoded — see
 * tests/small_types/gen_vectors.py), the types' spellings, fill values, and the bytes codec's
 * handling of the unused upper bits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../api/check.h"
#include "codec/codec.h"
#include "dtype/dtype.h"

extern const zarrc_codec_type zarrc__codec_bytes, zarrc__codec_packbits_v3;

static double from_bits(uint64_t b)
{
    double d;
    memcpy(&d, &b, 8);
    return d;
}

static uint64_t to_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

/* ---- vectors from ml_dtypes ---- */

static int run_vectors(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 2;
    }
    char type[40], line[160];
    long nd = 0, ne = 0, nrt = 0;
    while (fgets(line, sizeof line, f)) {
        char val[40], in[40];
        unsigned code;
        if (sscanf(line, "E %39s %39s %u", type, in, &code) == 3) {
            double x = from_bits(strtoull(in, NULL, 16));
            uint8_t got = 0;
            int rc = zarrc_small_float_encode(type, x, &got);
            CHECK_MSG(rc == ZARRC_OK && got == code, "%s encode %.17g (0x%s): got 0x%02x, ml_dtypes 0x%02x",
                      type, x, in, got, code);
            ne++;
            continue;
        }
        if (sscanf(line, "D %39s %u %39s", type, &code, val) != 3)
            continue;
        nd++;
        double v = 0, want = !strcmp(val, "nan") ? NAN : from_bits(strtoull(val, NULL, 16));
        CHECK_OK(zarrc_small_float_decode(type, (uint8_t)code, &v));
        CHECK_MSG(isnan(want) ? isnan(v) : to_bits(v) == to_bits(want),
                  "%s decode 0x%02x: got %.17g, ml_dtypes %.17g", type, code, v, want);
        if (isnan(v))
            continue;
        /* every non-NaN code encodes back to itself, and so does its shortest text */
        uint8_t back = 0;
        char txt[40];
        CHECK_MSG(!zarrc_small_float_encode(type, v, &back) && back == code, "%s 0x%02x round trip gave 0x%02x",
                  type, code, back);
        CHECK_OK(zarrc_small_float_format(type, (uint8_t)code, txt, sizeof txt));
        double t = isinf(v) ? v : strtod(txt, NULL);
        CHECK_MSG(!zarrc_small_float_encode(type, t, &back) && back == code,
                  "%s 0x%02x: text '%s' reads back as 0x%02x", type, code, txt, back);
        nrt++;
    }
    fclose(f);
    printf("vectors: %ld decoded, %ld encoded, %ld round trips (text included)\n", nd, ne, nrt);
    CHECK(nd >= 1900 && ne >= 5000);
    return 0;
}

/* ---- constants from the READMEs ---- */

static void test_constants(void)
{
    static const struct { const char *type; unsigned nan; double max; } t[] = {
        {"float8_e4m3", 0x7c, 240},        {"float8_e5m2", 0x7e, 57344}, {"float8_e3m4", 0x78, 15.5},
        {"float8_e4m3fnuz", 0x80, 240},    {"float8_e4m3b11fnuz", 0x80, 30},
        {"float8_e5m2fnuz", 0x80, 57344},  {"float8_e8m0fnu", 0xff, 0x1p127},
        {"float6_e2m3fn", 0, 7.5},         {"float6_e3m2fn", 0, 28}, {"float4_e2m1fn", 0, 6},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        const zarrc__minifloat *f = zarrc__minifloat_find(t[i].type);
        CHECK(f != NULL);
        if (!f)
            continue;
        CHECK_MSG(zarrc__minifloat_nan(f) == t[i].nan, "%s NaN code", t[i].type);
        double mx = 0;
        for (unsigned c = 0; c < (1u << zarrc__minifloat_bits(f)); c++) {
            double v = zarrc__minifloat_to_double(f, (uint8_t)c);
            if (isfinite(v) && v > mx)
                mx = v;
        }
        CHECK_MSG(mx == t[i].max, "%s max %g", t[i].type, mx);
        uint8_t b;
        CHECK_MSG((zarrc_small_float_encode(t[i].type, NAN, &b) == ZARRC_OK) == (t[i].nan != 0), "%s NaN", t[i].type);
    }
    static const double e2m1[16] = {0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6};
    for (unsigned c = 0; c < 16; c++) {
        double v;
        CHECK_OK(zarrc_small_float_decode("float4_e2m1fn", (uint8_t)c, &v));
        CHECK_MSG(to_bits(v) == to_bits(e2m1[c]), "float4 0x%x = %g", c, v);
        CHECK_OK(zarrc_small_float_decode("float4_e2m1fn", (uint8_t)(c | 0xf0), &v)); /* upper bits ignored */
        CHECK(to_bits(v) == to_bits(e2m1[c]));
    }
    double v;
    CHECK_OK(zarrc_small_float_decode("float8_e8m0fnu", 127, &v));
    CHECK(v == 1.0);
    CHECK_OK(zarrc_small_float_decode("complex_float8_e5m2", 0x3c, &v)); /* component type */
    CHECK(v == 1.0);
    CHECK_ERR(zarrc_small_float_decode("float16", 0, &v), ZARRC_EDTYPE, "float16");
    uint8_t b;
    CHECK_ERR(zarrc_small_float_encode("float6_e2m3fn", INFINITY, &b), ZARRC_EINVAL, "Infinity");
    char txt[40];
    CHECK_OK(zarrc_small_float_format("float8_e4m3", 0x38, txt, sizeof txt));
    CHECK(!strcmp(txt, "1.0") || !strcmp(txt, "1"));
    CHECK_OK(zarrc_small_float_format("float8_e5m2", 0x2e, txt, sizeof txt)); /* 0.09375 -> "0.09" */
    CHECK_MSG(strtod(txt, NULL) != 0.09375 && strlen(txt) <= 4, "shortest text '%s'", txt);
    CHECK_OK(zarrc_small_float_format("float6_e2m3fn", 0x3f, txt, sizeof txt)); /* not "-8": saturation */
    CHECK_MSG(!strcmp(txt, "-7.5"), "float6 min '%s'", txt);
    CHECK_OK(zarrc_small_float_format("float8_e5m2", 0x7b, txt, sizeof txt));
    CHECK_MSG(!strcmp(txt, "5.7e+04"), "e5m2 max '%s'", txt);
    CHECK_ERR(zarrc_small_float_format("float8_e5m2", 0, txt, 8), ZARRC_EINVAL, "buffer");
}

/* ---- spellings and fill values ---- */

static char *fill_text(const char *dtype, const char *json, int *rc_out)
{
    zarrc_dtype_info dt;
    zarrc__fill f;
    json_object *v = json_tokener_parse(json);
    *rc_out = zarrc_dtype_parse(&dt, dtype);
    if (*rc_out)
        return NULL;
    *rc_out = zarrc__fill_parse(&f, &dt, v, 3);
    json_object_put(v);
    if (*rc_out)
        return NULL;
    json_object *o = zarrc__fill_to_json(&f, &dt, 3);
    char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    zarrc__fill_clear(&f);
    return s;
}

static void fill_is(const char *dtype, const char *json, const char *want, int line)
{
    int rc;
    char *s = fill_text(dtype, json, &rc);
    check_count++;
    if (!s || strcmp(s, want)) {
        check_failures++;
        fprintf(stderr, "%s:%d: fill %s of %s: got %s (rc %d: %s), want %s\n", __FILE__, line, json, dtype,
                s ? s : "(error)", rc, zarrc_error_last(), want);
    }
    free(s);
}
#define FILL_IS(d, j, w) fill_is(d, j, w, __LINE__)

static void fill_bad(const char *dtype, const char *json, int line)
{
    int rc;
    char *s = fill_text(dtype, json, &rc);
    check_count++;
    if (s || rc != ZARRC_EDTYPE || !strstr(zarrc_error_last(), dtype)) {
        check_failures++;
        fprintf(stderr, "%s:%d: fill %s of %s accepted (%s) or wrong error %d '%s'\n", __FILE__, line, json,
                dtype, s ? s : "", rc, zarrc_error_last());
    }
    free(s);
}
#define FILL_BAD(d, j) fill_bad(d, j, __LINE__)

static void test_types(void)
{
    static const struct { const char *name; zarrc_dtype_kind kind; size_t size; unsigned bits; } t[] = {
        {"int2", ZARRC_DTYPE_INT, 1, 2}, {"uint2", ZARRC_DTYPE_UINT, 1, 2}, {"int4", ZARRC_DTYPE_INT, 1, 4},
        {"uint4", ZARRC_DTYPE_UINT, 1, 4}, {"float8_e4m3", ZARRC_DTYPE_FLOAT, 1, 0},
        {"float8_e8m0fnu", ZARRC_DTYPE_FLOAT, 1, 0}, {"float6_e3m2fn", ZARRC_DTYPE_FLOAT, 1, 6},
        {"float4_e2m1fn", ZARRC_DTYPE_FLOAT, 1, 4}, {"complex_float16", ZARRC_DTYPE_COMPLEX, 4, 0},
        {"complex_bfloat16", ZARRC_DTYPE_COMPLEX, 4, 0}, {"complex_float8_e4m3b11fnuz", ZARRC_DTYPE_COMPLEX, 2, 0},
        {"complex_float6_e2m3fn", ZARRC_DTYPE_COMPLEX, 2, 6}, {"complex_float4_e2m1fn", ZARRC_DTYPE_COMPLEX, 2, 4},
        {"complex_float32", ZARRC_DTYPE_COMPLEX, 8, 0}, {"complex_float64", ZARRC_DTYPE_COMPLEX, 16, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        zarrc_dtype_info dt;
        char v2[32];
        CHECK_OK(zarrc_dtype_parse(&dt, t[i].name));
        CHECK_MSG(dt.kind == t[i].kind && dt.item_size == t[i].size && zarrc__dtype_subbyte_bits(&dt) == t[i].bits,
                  "%s: kind %d size %zu bits %u", t[i].name, dt.kind, dt.item_size, zarrc__dtype_subbyte_bits(&dt));
        json_object *j = zarrc__dtype_to_json_v3(&dt);
        const char *want = !strcmp(t[i].name, "complex_float32") ? "complex64"
                           : !strcmp(t[i].name, "complex_float64") ? "complex128" : t[i].name;
        CHECK_MSG(j && !strcmp(json_object_get_string(j), want), "%s spelled %s", t[i].name,
                  j ? json_object_get_string(j) : "(null)");
        json_object_put(j);
        if (t[i].size < 8)
            CHECK_ERR(zarrc_dtype_v2_string(v2, sizeof v2, &dt), ZARRC_EDTYPE, "no v2 spelling");
    }
    FILL_IS("int4", "-8", "-8");
    FILL_IS("int4", "7", "7");
    FILL_BAD("int4", "8");
    FILL_BAD("int4", "1.5");
    FILL_IS("int2", "-2", "-2");
    FILL_BAD("int2", "2");
    FILL_IS("uint2", "3", "3");
    FILL_BAD("uint2", "4");
    FILL_IS("uint4", "15", "15");
    FILL_BAD("uint4", "-1");
    FILL_IS("float8_e4m3", "\"NaN\"", "\"NaN\"");
    FILL_IS("float8_e4m3", "\"0x7d\"", "\"0x7d\""); /* another NaN keeps its code */
    FILL_IS("float8_e4m3", "\"0x38\"", "1.0");
    FILL_IS("float8_e4m3", "\"-Infinity\"", "\"-Infinity\"");
    FILL_IS("float8_e4m3", "0.1", "0.1015625");
    FILL_IS("float8_e5m2", "-57344", "-57344.0");
    FILL_IS("float8_e4m3fnuz", "\"NaN\"", "\"NaN\"");
    FILL_BAD("float8_e4m3fnuz", "\"Infinity\"");
    FILL_BAD("float8_e8m0fnu", "\"-Infinity\"");
    FILL_IS("float8_e8m0fnu", "0.25", "0.25");
    FILL_IS("float8_e8m0fnu", "\"0x00\"", "5.877471754111438e-39"); /* exact value in metadata */
    FILL_IS("float8_e8m0fnu", "\"0xff\"", "\"NaN\"");
    FILL_BAD("float6_e2m3fn", "\"NaN\"");
    FILL_BAD("float6_e2m3fn", "\"0x40\""); /* bits above the 6 */
    FILL_IS("float6_e2m3fn", "\"0x3f\"", "-7.5");
    FILL_IS("float4_e2m1fn", "-6", "-6.0");
    FILL_IS("float4_e2m1fn", "6.9", "6.0");  /* rounds to the largest value */
    FILL_BAD("float4_e2m1fn", "7");         /* a tie past it: would saturate */
    FILL_BAD("float8_e4m3", "1000");        /* would be infinity */
    FILL_BAD("float8_e4m3fnuz", "1000");    /* would be NaN */
    FILL_BAD("float8_e8m0fnu", "0");        /* no zero */
    FILL_IS("float8_e5m2", "60000", "57344.0");
    FILL_BAD("float4_e2m1fn", "\"Infinity\"");
    FILL_BAD("float8_e4m3", "\"0x100\"");
    FILL_BAD("float8_e4m3", "\"1.5\"");
    FILL_IS("complex_float16", "[0.5, \"NaN\"]", "[0.5,\"NaN\"]");
    FILL_IS("complex_bfloat16", "[1.5, \"0x7fc1\"]", "[1.5,\"0x7fc1\"]");
    FILL_IS("complex_bfloat16", "[3.140625, -2]", "[3.140625,-2.0]");
    FILL_IS("complex_float8_e4m3", "[1, \"NaN\"]", "[1.0,\"NaN\"]");
    FILL_IS("complex_float4_e2m1fn", "[-0.5, 6]", "[-0.5,6.0]");
    FILL_BAD("complex_float6_e3m2fn", "[1, \"NaN\"]");
    FILL_BAD("complex_float8_e4m3", "[1]");

    /* complex_bfloat16 stores bfloat16 parts, not float16 ones */
    zarrc_dtype_info dt;
    zarrc__fill f;
    json_object *v = json_tokener_parse("[1.5, -2]");
    CHECK_OK(zarrc_dtype_parse(&dt, "complex_bfloat16"));
    CHECK_OK(zarrc__fill_parse(&f, &dt, v, 3));
    uint16_t h[2];
    memcpy(h, f.bytes, 4);
    CHECK_MSG(h[0] == 0x3fc0 && h[1] == 0xc000, "bf16 parts %04x %04x", h[0], h[1]);
    zarrc__fill_clear(&f);
    json_object_put(v);
}

/* ---- the bytes codec and the unused upper bits ---- */

static void bytes_case(const char *dtype, const uint8_t *in, const uint8_t *want, size_t n, int line)
{
    zarrc_repr r;
    memset(&r, 0, sizeof r);
    if (zarrc_dtype_parse(&r.dtype, dtype))
        exit(2);
    r.ndim = 1;
    r.shape[0] = (int64_t)(n / r.dtype.item_size);
    zarrc__codec c;
    zarrc_buf out = ZARRC_BUF_INIT, enc = ZARRC_BUF_INIT;
    CHECK_OK(zarrc__codec_init(&c, &zarrc__codec_bytes, NULL, 3, &r, 0));
    int rc = zarrc__codec_decode(&c, in, n, n, 0, &out);
    check_count++;
    if (rc || out.size != n || memcmp(out.data, want, n)) {
        check_failures++;
        fprintf(stderr, "%s:%d: bytes decode of %s differs (rc %d)\n", __FILE__, line, dtype, rc);
    }
    /* the normalized bytes encode back unchanged */
    CHECK_OK(zarrc__codec_encode(&c, want, n, &enc));
    CHECK(enc.size == n && !memcmp(enc.data, want, n));
    zarrc_buf_release(&out);
    zarrc_buf_release(&enc);
    zarrc__codec_fini(&c);
}

static void test_bytes_codec(void)
{
    const uint8_t i4_in[] = {0x0f, 0xf7, 0x08, 0x37, 0x80}, i4[] = {0xff, 0x07, 0xf8, 0x07, 0x00};
    const uint8_t u4_in[] = {0xf3, 0x0f, 0x10}, u4[] = {0x03, 0x0f, 0x00};
    const uint8_t i2_in[] = {0x03, 0xfe, 0x01, 0x42}, i2[] = {0xff, 0xfe, 0x01, 0x02 | 0xfc};
    const uint8_t f6_in[] = {0xff, 0x40, 0x1f}, f6[] = {0x3f, 0x00, 0x1f};
    const uint8_t c4_in[] = {0xf1, 0x2e}, c4[] = {0x01, 0x0e};
    const uint8_t f8[] = {0xff, 0x00, 0x7c};
    bytes_case("int4", i4_in, i4, sizeof i4, __LINE__);
    bytes_case("uint4", u4_in, u4, sizeof u4, __LINE__);
    bytes_case("int2", i2_in, i2, sizeof i2, __LINE__);
    bytes_case("float6_e2m3fn", f6_in, f6, sizeof f6, __LINE__);
    bytes_case("complex_float4_e2m1fn", c4_in, c4, sizeof c4, __LINE__);
    bytes_case("float8_e4m3", f8, f8, sizeof f8, __LINE__);

    /* values that do not fit are refused on encode, naming the element and type */
    zarrc_repr r;
    memset(&r, 0, sizeof r);
    CHECK_OK(zarrc_dtype_parse(&r.dtype, "int4"));
    r.ndim = 1;
    r.shape[0] = 2;
    zarrc__codec c;
    zarrc_buf enc = ZARRC_BUF_INIT;
    const uint8_t bad[] = {0x07, 0x08};
    CHECK_OK(zarrc__codec_init(&c, &zarrc__codec_bytes, NULL, 3, &r, 0));
    CHECK_ERR(zarrc__codec_encode(&c, bad, 2, &enc), ZARRC_EINVAL, "element 1: byte 0x08 is not a valid int4");
    zarrc_buf_release(&enc);
    zarrc__codec_fini(&c);
}

/* ---- packbits (zarr-extensions) ---- */

static int pb_make(zarrc__codec *c, const char *dtype, int64_t n, const char *cfg)
{
    zarrc_repr r;
    memset(&r, 0, sizeof r);
    if (zarrc_dtype_parse(&r.dtype, dtype))
        exit(2);
    r.ndim = 1;
    r.shape[0] = n;
    json_object *j = cfg ? json_tokener_parse(cfg) : NULL;
    int rc = zarrc__codec_init(c, &zarrc__codec_packbits_v3, j, 3, &r, 0);
    json_object_put(j);
    return rc;
}

/* Encode `in` (n elements of dtype) and compare with `want`; decode back to `back` (NULL = in). */
static void pb_case(const char *dtype, const char *cfg, const void *in, size_t in_size, int64_t n,
                    const uint8_t *want, size_t want_size, const void *back, int line)
{
    zarrc__codec c;
    zarrc_buf enc = ZARRC_BUF_INIT, dec = ZARRC_BUF_INIT;
    check_count++;
    if (pb_make(&c, dtype, n, cfg)) {
        check_failures++;
        fprintf(stderr, "%s:%d: packbits %s %s: %s\n", __FILE__, line, dtype, cfg ? cfg : "", zarrc_error_last());
        return;
    }
    int rc = zarrc__codec_encode(&c, in, in_size, &enc);
    check_count++;
    if (rc || enc.size != want_size || memcmp(enc.data, want, want_size)) {
        check_failures++;
        fprintf(stderr, "%s:%d: packbits %s encode: rc %d, %zu bytes:", __FILE__, line, dtype, rc, enc.size);
        for (size_t i = 0; i < enc.size; i++)
            fprintf(stderr, " %02x", enc.data[i]);
        fprintf(stderr, " [%s]\n", zarrc_error_last());
    }
    rc = zarrc__codec_decode(&c, want, want_size, in_size, 0, &dec);
    CHECK_MSG(rc == ZARRC_OK && dec.size == in_size && !memcmp(dec.data, back ? back : in, in_size),
              "line %d: packbits %s decode", line, dtype);
    zarrc_buf_release(&enc);
    zarrc_buf_release(&dec);
    zarrc__codec_fini(&c);
}
#define PB(dt, cfg, in, n, want, back) pb_case(dt, cfg, in, sizeof in, n, want, sizeof want, back, __LINE__)

static void test_packbits(void)
{
    const uint8_t i4[] = {0x01, 0xff, 0x07}, i4_p[] = {0xf1, 0x07}, i4_f[] = {0x04, 0xf1, 0x07};
    PB("int4", NULL, i4, 3, i4_p, NULL);
    PB("int4", "{\"padding_encoding\":\"first_byte\"}", i4, 3, i4_f, NULL);
    const uint8_t bl[] = {1, 0, 1, 1, 0, 0, 0, 0, 1}, bl_l[] = {0x0d, 0x01, 0x07};
    PB("bool", "{\"padding_encoding\":\"last_byte\"}", bl, 9, bl_l, NULL);
    const uint8_t u2[] = {3, 0, 1, 2}, u2_p[] = {0x93};
    PB("uint2", "{\"padding_encoding\":\"none\"}", u2, 4, u2_p, NULL);
    const uint8_t f6[] = {0x3f, 0x01}, f6_p[] = {0x7f, 0x00};
    PB("float6_e2m3fn", NULL, f6, 2, f6_p, NULL);
    const uint8_t c4[] = {0x01, 0x02}, c4_p[] = {0x21};
    PB("complex_float4_e2m1fn", NULL, c4, 1, c4_p, NULL);
    const uint16_t u16[] = {0x0ab0, 0x1234}, u16_back[] = {0x0ab0, 0x0230};
    const uint8_t u16_p[] = {0xab, 0x23};
    PB("uint16", "{\"first_bit\":4,\"last_bit\":11}", u16, 2, u16_p, u16_back);
    const int16_t s16[] = {-2, 5};
    const uint8_t s16_p[] = {0xfe, 0x05};
    PB("int16", "{\"first_bit\":null,\"last_bit\":7}", s16, 2, s16_p, NULL);
    const int8_t s8[] = {-4, 3}; /* int8 bits 2..3 of -4 (0b11111100) = 0b11 -> sign-extended -4 */
    const uint8_t s8_p[] = {0x03 | (0x00 << 2)};
    const int8_t s8_back[] = {-4, 0};
    PB("int8", "{\"first_bit\":2,\"last_bit\":3}", s8, 2, s8_p, s8_back);
    const double f64[] = {1.5, -2.0};
    uint8_t f64_p[16];
    memcpy(f64_p, f64, 16);
    if (zarrc__host_big_endian()) /* the packed form is little-endian */
        for (int k = 0; k < 2; k++)
            for (int a = 0; a < 4; a++) {
                uint8_t t = f64_p[8 * k + a];
                f64_p[8 * k + a] = f64_p[8 * k + 7 - a];
                f64_p[8 * k + 7 - a] = t;
            }
    PB("float64", NULL, f64, 2, f64_p, NULL);

    /* corrupt input and bad configurations */
    zarrc__codec c;
    zarrc_buf out = ZARRC_BUF_INIT;
    const uint8_t wrong_pad[] = {0x05, 0xf1, 0x07};
    CHECK_OK(pb_make(&c, "int4", 3, "{\"padding_encoding\":\"first_byte\"}"));
    CHECK_ERR(zarrc__codec_decode(&c, wrong_pad, 3, 3, 0, &out), ZARRC_ECORRUPT, "padding bits");
    CHECK_ERR(zarrc__codec_decode(&c, wrong_pad, 2, 3, 0, &out), ZARRC_ECORRUPT, "expected 3");
    const uint8_t bad4[] = {0x01, 0x08, 0x00};
    CHECK_ERR(zarrc__codec_encode(&c, bad4, 3, &out), ZARRC_EINVAL, "element 1");
    zarrc__codec_fini(&c);
    zarrc_buf_release(&out);
    CHECK_ERR(pb_make(&c, "int4", 3, "{\"last_bit\":4}"), ZARRC_EINVAL, "last_bit");
    CHECK_ERR(pb_make(&c, "int4", 3, "{\"first_bit\":3,\"last_bit\":2}"), ZARRC_EINVAL, "first_bit");
    CHECK_ERR(pb_make(&c, "int4", 3, "{\"padding_encoding\":\"middle\"}"), ZARRC_EINVAL, "padding_encoding");
    CHECK_ERR(pb_make(&c, "string", 3, NULL), ZARRC_EINVAL, "not supported");
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        int rc = run_vectors(argv[1]);
        if (rc)
            return rc;
    } else {
        test_constants();
        test_types();
        test_bytes_codec();
        test_packbits();
    }
    return check_report(argc > 1 ? "unit.small_types (ml_dtypes vectors)" : "unit.small_types");
}
