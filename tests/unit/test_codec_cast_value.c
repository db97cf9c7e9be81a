/* test_codec_cast_value.c — the zarr-extensions cast_value codec (src/codec/codec_cast_value.c):
 * the README's examples (128.0 -> int8 per out_of_range, int16 wrapping), every rounding mode,
 * NaN / infinity / signed zero rules, scalar_map, the fill value round-trip check, small floats
 * against zarrc's ml_dtypes-checked nearest-even conversion, and the configuration's spelling. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../api/check.h"
#include "codec/codec.h"
#include "codec/codec_numeric.h"
#include "dtype/dtype.h"

extern const zarrc_codec_type zarrc__codec_cast_value;

static int make(zarrc__codec *c, const char *dtype, const char *json, const void *fill)
{
    zarrc_repr r;
    memset(&r, 0, sizeof r);
    if (zarrc_dtype_parse(&r.dtype, dtype)) {
        fprintf(stderr, "bad dtype %s\n", dtype);
        exit(2);
    }
    r.ndim = 1;
    r.shape[0] = 1;
    r.fill = fill;
    json_object *cfg = NULL;
    if (zarrc__json_parse(&cfg, json, strlen(json), "test")) {
        fprintf(stderr, "bad JSON %s\n", json);
        exit(2);
    }
    int rc = zarrc__codec_init(c, &zarrc__codec_cast_value, cfg, 3, &r, 0);
    json_object_put(cfg);
    return rc;
}

/* Encode one element (in: bytes of the array type); returns the status, output in out. */
static int enc1(const zarrc__codec *c, const void *in, size_t is, void *out, size_t os)
{
    zarrc_buf b = ZARRC_BUF_INIT;
    int rc = zarrc__codec_encode(c, in, is, &b);
    if (!rc && b.size == os)
        memcpy(out, b.data, os);
    else if (!rc)
        rc = -999;
    zarrc_buf_release(&b);
    return rc;
}

static int dec1(const zarrc__codec *c, const void *in, size_t is, void *out, size_t os)
{
    zarrc_buf b = ZARRC_BUF_INIT;
    int rc = zarrc__codec_decode(c, in, is, os, os, &b);
    if (!rc && b.size == os)
        memcpy(out, b.data, os);
    else if (!rc)
        rc = -999;
    zarrc_buf_release(&b);
    return rc;
}

static void test_readme(void)
{
    zarrc__codec c;
    double x = 128.0;
    int8_t o = 0;
    CHECK_OK(make(&c, "float64", "{\"data_type\":\"int8\"}", NULL));
    CHECK_ERR(enc1(&c, &x, 8, &o, 1), ZARRC_EINVAL, "outside the range of int8");
    zarrc__codec_fini(&c);
    CHECK_OK(make(&c, "float64", "{\"data_type\":\"int8\",\"out_of_range\":\"clamp\"}", NULL));
    CHECK(enc1(&c, &x, 8, &o, 1) == 0 && o == 127);
    zarrc__codec_fini(&c);
    CHECK_OK(make(&c, "float64", "{\"data_type\":\"int8\",\"out_of_range\":\"wrap\"}", NULL));
    CHECK(enc1(&c, &x, 8, &o, 1) == 0 && o == -128);
    x = 1000.7; /* towards nearest 1001 = 0x3e9 -> 0xe9 = -23 */
    CHECK(enc1(&c, &x, 8, &o, 1) == 0 && o == -23);
    zarrc__codec_fini(&c);
    int32_t in[3] = {32768, 32769, -32769};
    int16_t want[3] = {-32768, -32767, 32767};
    CHECK_OK(make(&c, "int32", "{\"data_type\":\"int16\",\"out_of_range\":\"wrap\"}", NULL));
    for (int i = 0; i < 3; i++) {
        int16_t got = 0;
        CHECK_MSG(enc1(&c, &in[i], 4, &got, 2) == 0 && got == want[i], "wrap %d -> %d", in[i], got);
    }
    zarrc__codec_fini(&c);
    /* the README's NumPy-compatibility example */
    CHECK_OK(make(&c, "float64", "{\"data_type\":\"uint8\",\"rounding\":\"towards-zero\",\"out_of_range\":\"wrap\","
                  "\"scalar_map\":{\"encode\":[[\"NaN\",0],[\"+Infinity\",0],[\"-Infinity\",0]]}}", NULL));
    double v[5] = {NAN, INFINITY, -INFINITY, 257.9, -1.5};
    uint8_t w[5] = {0, 0, 0, 1, 255};
    for (int i = 0; i < 5; i++) {
        uint8_t got = 7;
        CHECK_MSG(enc1(&c, &v[i], 8, &got, 1) == 0 && got == w[i], "numpy example %g -> %u", v[i], got);
    }
    zarrc__codec_fini(&c);
}

static void test_rounding(void)
{
    const char *modes[] = {"nearest-even", "towards-zero", "towards-positive", "towards-negative", "nearest-away"};
    double xs[] = {2.5, -2.5, 3.5, 2.4, -2.6};
    int8_t want[5][5] = {{2, -2, 4, 2, -3}, {2, -2, 3, 2, -2}, {3, -2, 4, 3, -2}, {2, -3, 3, 2, -3}, {3, -3, 4, 2, -3}};
    for (int m = 0; m < 5; m++) {
        char cfg[128];
        snprintf(cfg, sizeof cfg, "{\"data_type\":\"int8\",\"rounding\":\"%s\"}", modes[m]);
        zarrc__codec c;
        CHECK_OK(make(&c, "float64", cfg, NULL));
        for (int i = 0; i < 5; i++) {
            int8_t got = 99;
            CHECK_MSG(enc1(&c, &xs[i], 8, &got, 1) == 0 && got == want[m][i], "%s %g -> %d", modes[m], xs[i], got);
        }
        zarrc__codec_fini(&c);
        /* float64 -> float32 at a tie (1 + 2^-24) and just above it */
        snprintf(cfg, sizeof cfg, "{\"data_type\":\"float32\",\"rounding\":\"%s\"}", modes[m]);
        CHECK_OK(make(&c, "float64", cfg, NULL));
        double t[2] = {1 + ldexp(1, -24), -(1 + ldexp(1, -24))};
        float up = 1 + ldexpf(1, -23);
        float f32want[5][2] = {{1, -1}, {1, -1}, {up, -1}, {1, -up}, {up, -up}};
        for (int i = 0; i < 2; i++) {
            float got = 0;
            CHECK_MSG(enc1(&c, &t[i], 8, &got, 4) == 0 && got == f32want[m][i], "%s f32 %.17g -> %.9g", modes[m],
                      t[i], got);
        }
        zarrc__codec_fini(&c);
    }
    /* int64 -> float32 exactly once rounded; uint64 max -> float64 */
    zarrc__codec c;
    CHECK_OK(make(&c, "int64", "{\"data_type\":\"float32\",\"rounding\":\"towards-zero\"}", NULL));
    int64_t big = (1LL << 40) + 1;
    float f = 0;
    CHECK(enc1(&c, &big, 8, &f, 4) == 0 && f == ldexpf(1, 40));
    zarrc__codec_fini(&c);
    CHECK_OK(make(&c, "uint64", "{\"data_type\":\"float64\"}", NULL));
    uint64_t um = UINT64_MAX;
    double d = 0;
    CHECK(enc1(&c, &um, 8, &d, 8) == 0 && d == ldexp(1, 64));
    /* decode: float64 -> uint64 out of range without out_of_range is corrupt data */
    CHECK_ERR(dec1(&c, &d, 8, &um, 8), ZARRC_ECORRUPT, "outside the range of uint64");
    zarrc__codec_fini(&c);
}

static void test_special(void)
{
    zarrc__codec c;
    double nan = NAN, nz = -0.0, big = 65520;
    uint16_t h = 0;
    CHECK_OK(make(&c, "float64", "{\"data_type\":\"float16\"}", NULL));
    CHECK(enc1(&c, &nan, 8, &h, 2) == 0 && (h & 0x7c00) == 0x7c00 && (h & 0x3ff));
    CHECK(enc1(&c, &nz, 8, &h, 2) == 0 && h == 0x8000);
    CHECK_ERR(enc1(&c, &big, 8, &h, 2), ZARRC_EINVAL, "outside the range of float16");
    zarrc__codec_fini(&c);
    CHECK_OK(make(&c, "float64", "{\"data_type\":\"float16\",\"out_of_range\":\"clamp\"}", NULL));
    CHECK(enc1(&c, &big, 8, &h, 2) == 0 && h == 0x7c00); /* clamp: float16 has infinity */
    zarrc__codec_fini(&c);
    CHECK_OK(make(&c, "float64", "{\"data_type\":\"float16\",\"rounding\":\"towards-zero\"}", NULL));
    CHECK(enc1(&c, &big, 8, &h, 2) == 0 && h == 0x7bff); /* 65504 */
    zarrc__codec_fini(&c);
    int8_t o;
    CHECK_OK(make(&c, "float64", "{\"data_type\":\"int8\",\"out_of_range\":\"clamp\"}", NULL));
    CHECK_ERR(enc1(&c, &nan, 8, &o, 1), ZARRC_EINVAL, "NaN cannot be cast to int8");
    zarrc__codec_fini(&c);
    /* scalar_map both ways; first pair wins */
    CHECK_OK(make(&c, "float32", "{\"data_type\":\"uint8\",\"scalar_map\":{\"encode\":[[\"NaN\",0],[\"NaN\",9]],"
                  "\"decode\":[[0,\"NaN\"]]}}", NULL));
    float fn = NAN, back = 0;
    uint8_t u = 5;
    CHECK(enc1(&c, &fn, 4, &u, 1) == 0 && u == 0);
    CHECK(dec1(&c, &u, 1, &back, 4) == 0 && isnan(back));
    u = 200;
    CHECK(dec1(&c, &u, 1, &back, 4) == 0 && back == 200);
    zarrc__codec_fini(&c);
    /* small floats: float6/float4 have no NaN; fnuz has no -0 */
    CHECK_OK(make(&c, "float32", "{\"data_type\":\"float4_e2m1fn\"}", NULL));
    CHECK_ERR(enc1(&c, &fn, 4, &u, 1), ZARRC_EINVAL, "NaN cannot be cast to float4_e2m1fn");
    zarrc__codec_fini(&c);
    CHECK_OK(make(&c, "float64", "{\"data_type\":\"float8_e4m3fnuz\"}", NULL));
    CHECK(enc1(&c, &nz, 8, &u, 1) == 0 && u == 0);
    CHECK(enc1(&c, &nan, 8, &u, 1) == 0 && u == 0x80);
    zarrc__codec_fini(&c);
    /* configuration errors */
    CHECK_ERR(make(&c, "float64", "{\"data_type\":\"float32\",\"out_of_range\":\"wrap\"}", NULL), ZARRC_EINVAL,
              "integer 'data_type'");
    CHECK_ERR(make(&c, "float64", "{\"data_type\":\"int8\",\"rounding\":\"up\"}", NULL), ZARRC_EINVAL, "'rounding'");
    CHECK_ERR(make(&c, "float64", "{\"data_type\":\"int8\",\"extra\":1}", NULL), ZARRC_EINVAL, "'extra'");
    CHECK_ERR(make(&c, "float64", "{}", NULL), ZARRC_EINVAL, "'data_type' is required");
    CHECK_ERR(make(&c, "float64", "{\"data_type\":\"float8_e8m0fnu\"}", NULL), ZARRC_EINVAL, "float8_e8m0fnu");
    CHECK_ERR(make(&c, "string", "{\"data_type\":\"int8\"}", NULL), ZARRC_EINVAL, "'string' is not supported");
    double half = 0.5, one = 1;
    CHECK_ERR(make(&c, "float64", "{\"data_type\":\"int8\"}", &half), ZARRC_EINVAL, "fill value does not survive");
    CHECK_OK(make(&c, "float64", "{\"data_type\":\"int8\"}", &one));
    zarrc__codec_fini(&c);
    CHECK_ERR(make(&c, "float64", "{\"data_type\":\"int8\"}", &nan), ZARRC_EINVAL, "fill value cannot be cast");
    /* spelling: as given, optional members absent when absent */
    CHECK_OK(make(&c, "float64", "{\"data_type\":\"uint8\",\"out_of_range\":\"clamp\"}", NULL));
    json_object *j = NULL;
    CHECK_OK(zarrc__codec_to_json(&j, &c, 3));
    char *s = j ? zarrc__json_dump(j, false) : NULL;
    CHECK_MSG(s && !strcmp(s, "{\"name\":\"cast_value\",\"configuration\":{\"data_type\":\"uint8\",\"out_of_range\":"
                           "\"clamp\"}}"), "%s", s ? s : "(null)");
    free(s);
    json_object_put(j);
    CHECK(zarrc__codec_to_json(&j, &c, 2) == ZARRC_EUNSUPPORTED);
    zarrc__codec_fini(&c);
}

/* Nearest-even casts into each small float equal zarrc's own (ml_dtypes-checked) rounding. */
static void test_small_floats(void)
{
    const char *types[] = {"float8_e4m3", "float8_e5m2", "float8_e3m4", "float8_e4m3fnuz", "float8_e4m3b11fnuz",
                           "float8_e5m2fnuz", "float6_e2m3fn", "float6_e3m2fn", "float4_e2m1fn"};
    for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
        char cfg[96];
        snprintf(cfg, sizeof cfg, "{\"data_type\":\"%s\"}", types[t]);
        zarrc__codec c;
        CHECK_OK(make(&c, "float64", cfg, NULL));
        int bad = 0, n = 0;
        for (int i = 0; i < 4000; i++) {
            double x = ldexp((double)(check_rnd() % 100000) / 100000.0 * 2 - 1, (int)(check_rnd() % 24) - 12);
            if (i < 256) { /* every code's value exactly, and the midpoints to its neighbour */
                double v;
                if (zarrc_small_float_decode(types[t], (uint8_t)i, &v) || !isfinite(v))
                    continue;
                x = v;
            }
            uint8_t want, got = 0;
            if (!zarrc__minifloat_in_range(zarrc__minifloat_find(types[t]), x))
                continue;
            if (zarrc_small_float_encode(types[t], x, &want))
                continue;
            n++;
            if (enc1(&c, &x, 8, &got, 1) != 0 || (got != want && !(x == 0 && (got & 0x7f) == 0 && (want & 0x7f) == 0)))
                bad++;
        }
        CHECK_MSG(bad == 0 && n > 500, "%s: %d of %d nearest-even casts differ", types[t], bad, n);
        /* decode back: the exact value of each code */
        uint8_t code = 0x21;
        double back = 0, v;
        zarrc_small_float_decode(types[t], code, &v);
        CHECK(dec1(&c, &code, 1, &back, 8) == 0 && back == v);
        zarrc__codec_fini(&c);
    }
}

int main(void)
{
    test_readme();
    test_rounding();
    test_special();
    test_small_floats();
    return check_report("unit.codec_cast_value");
}
