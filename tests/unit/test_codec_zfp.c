/* test_codec_zfp.c — the zfp and numcodecs.zfpy array→bytes codecs (src/codec/codec_zfp.c):
 * configurations, reversible round trips of every supported type and 0-4 dimensions, the lossy
 * modes' bounds, the zfpy header checks, the v2 compressor spelling, and corrupt input. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "../api/check.h"
#include "codec/codec.h"
#include "codec/codec_numeric.h"

extern const zarrc_codec_type zarrc__codec_zfp, zarrc__codec_zfpy;

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

static int make(zarrc__codec *c, const zarrc_codec_type *t, const char *json, int format, const zarrc_repr *in)
{
    json_object *cfg = NULL;
    if (json && zarrc__json_parse(&cfg, json, strlen(json), "test config") != ZARRC_OK) {
        fprintf(stderr, "bad test JSON %s\n", json);
        exit(2);
    }
    int rc = zarrc__codec_init(c, t, cfg, format, in, 0);
    json_object_put(cfg);
    return rc;
}

static char *spelling(const zarrc__codec *c, int format)
{
    json_object *o = NULL;
    if (zarrc__codec_to_json(&o, c, format) != ZARRC_OK)
        return NULL;
    char *s = zarrc__json_dump(o, false);
    json_object_put(o);
    return s;
}

/* Deterministic values that fit each type and vary smoothly (zfp compresses them well). */
static void fill_data(const zarrc_repr *r, uint8_t *p, size_t n)
{
    zarrc__num k = zarrc__num_of(&r->dtype);
    for (size_t i = 0; i < n; i++) {
        double x = 50 * sin((double)i / 7) + (double)(check_rnd() % 5);
        zarrc__val v;
        if (zarrc__num_is_float(k))
            v = zarrc__val_f(x * 1.37);
        else if (k == ZARRC__NUM_U8 || k == ZARRC__NUM_U16 || k == ZARRC__NUM_U32 || k == ZARRC__NUM_U64) {
            v.cls = ZARRC__VAL_UINT;
            v.u = (uint64_t)(x + 60) * (k == ZARRC__NUM_U8 ? 1 : 1000);
            if (i == 3 && k != ZARRC__NUM_U32 && k != ZARRC__NUM_U64)
                v.u = k == ZARRC__NUM_U8 ? 255 : 65535; /* the extremes survive promotion */
        } else {
            v.cls = ZARRC__VAL_INT;
            v.i = (int64_t)x * (k == ZARRC__NUM_I8 ? 1 : 1000);
            if (i == 3)
                v.i = k == ZARRC__NUM_I8 ? -128 : k == ZARRC__NUM_I16 ? -32768 : v.i;
        }
        zarrc__num_store(k, p + i * zarrc__num_size(k), v);
    }
}

static void test_config(void)
{
    zarrc__codec c;
    zarrc_repr f64 = repr("float64", 2, (int64_t)8, (int64_t)8), i32 = repr("int32", 1, (int64_t)10);
    struct { const char *json; const char *want; } good[] = {
        {"{\"mode\":\"reversible\"}", "{\"name\":\"zfp\",\"configuration\":{\"mode\":\"reversible\"}}"},
        {"{\"mode\":\"fixed_rate\",\"rate\":10.5}", "{\"name\":\"zfp\",\"configuration\":{\"mode\":\"fixed_rate\",\"rate\":10.5}}"},
        {"{\"mode\":\"fixed_precision\",\"precision\":19}", "{\"name\":\"zfp\",\"configuration\":{\"mode\":\"fixed_precision\",\"precision\":19}}"},
        {"{\"mode\":\"fixed_accuracy\",\"tolerance\":0.05}", "{\"name\":\"zfp\",\"configuration\":{\"mode\":\"fixed_accuracy\",\"tolerance\":0.05}}"},
        {"{\"mode\":\"expert\",\"minbits\":1,\"maxbits\":13,\"maxprec\":19,\"minexp\":-2}",
         "{\"name\":\"zfp\",\"configuration\":{\"mode\":\"expert\",\"minbits\":1,\"maxbits\":13,\"maxprec\":19,\"minexp\":-2}}"},
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        CHECK_OK(make(&c, &zarrc__codec_zfp, good[i].json, 3, &f64));
        char *s = spelling(&c, 3);
        CHECK_MSG(s && !strcmp(s, good[i].want), "zfp spelling %s", s ? s : "(null)");
        free(s);
        CHECK(spelling(&c, 2) == NULL); /* zfp has no v2 id */
        zarrc__codec_fini(&c);
    }
    CHECK_ERR(make(&c, &zarrc__codec_zfp, "{\"mode\":\"lossless\"}", 3, &f64), ZARRC_EINVAL, "unknown 'mode'");
    CHECK_ERR(make(&c, &zarrc__codec_zfp, NULL, 3, &f64), ZARRC_EINVAL, "'mode'");
    CHECK_ERR(make(&c, &zarrc__codec_zfp, "{\"mode\":\"fixed_rate\"}", 3, &f64), ZARRC_EINVAL, "'rate'");
    CHECK_ERR(make(&c, &zarrc__codec_zfp, "{\"mode\":\"fixed_rate\",\"rate\":0}", 3, &f64), ZARRC_EINVAL, "positive");
    CHECK_ERR(make(&c, &zarrc__codec_zfp, "{\"mode\":\"fixed_precision\",\"precision\":-1}", 3, &f64), ZARRC_EINVAL,
              "'precision'");
    CHECK_ERR(make(&c, &zarrc__codec_zfp, "{\"mode\":\"reversible\",\"write_header\":true}", 3, &f64), ZARRC_EINVAL,
              "'write_header'");
    CHECK_ERR(make(&c, &zarrc__codec_zfp, "{\"mode\":\"expert\",\"minbits\":20,\"maxbits\":10,\"maxprec\":19,\"minexp\":-2}",
                   3, &f64), ZARRC_EINVAL, "not valid for zfp");
    CHECK_ERR(make(&c, &zarrc__codec_zfp, "{\"mode\":\"fixed_accuracy\",\"tolerance\":0.1}", 3, &i32), ZARRC_EINVAL,
              "floating-point");
    zarrc_repr h = repr("float16", 1, (int64_t)4), b = repr("bool", 1, (int64_t)4),
               d5 = repr("float32", 5, (int64_t)2, (int64_t)2, (int64_t)2, (int64_t)2, (int64_t)2);
    CHECK_ERR(make(&c, &zarrc__codec_zfp, "{\"mode\":\"reversible\"}", 3, &h), ZARRC_EINVAL, "'float16' is not supported");
    CHECK_ERR(make(&c, &zarrc__codec_zfp, "{\"mode\":\"reversible\"}", 3, &b), ZARRC_EINVAL, "'bool' is not supported");
    CHECK_ERR(make(&c, &zarrc__codec_zfp, "{\"mode\":\"reversible\"}", 3, &d5), ZARRC_EINVAL, "zarrs.squeeze");

    /* numcodecs spelling: v2 object with "id", v3 configuration; -1 = unused */
    CHECK_OK(make(&c, &zarrc__codec_zfpy, "{\"id\":\"zfpy\",\"mode\":4,\"compression_kwargs\":{\"tolerance\":0.01},"
                  "\"tolerance\":0.01,\"rate\":-1,\"precision\":-1}", 2, &f64));
    char *s = spelling(&c, 2);
    CHECK_MSG(s && !strcmp(s, "{\"mode\":4,\"tolerance\":0.01,\"rate\":-1.0,\"precision\":-1,\"id\":\"zfpy\"}"), "%s", s);
    free(s);
    s = spelling(&c, 3);
    CHECK_MSG(s && !strcmp(s, "{\"name\":\"numcodecs.zfpy\",\"configuration\":{\"mode\":4,\"tolerance\":0.01,"
                           "\"rate\":-1.0,\"precision\":-1}}"), "%s", s);
    free(s);
    zarrc__codec_fini(&c);
    CHECK_ERR(make(&c, &zarrc__codec_zfpy, "{\"mode\":1}", 3, &f64), ZARRC_EINVAL, "'mode' must be 2");
    CHECK(zarrc__codec_find_v3("numcodecs.zfpy") == &zarrc__codec_zfpy);
    CHECK(zarrc__codec_find_v2("zfpy") == &zarrc__codec_zfpy);
    CHECK(zarrc__codec_find_v3("zfp") == &zarrc__codec_zfp);
    CHECK(zarrc__codec_find_v3("zarrs.zfp") == &zarrc__codec_zfp);
}

static int run(const zarrc__codec *c, const uint8_t *in, size_t n, zarrc_buf *enc, zarrc_buf *dec, size_t dsize)
{
    enc->size = dec->size = 0;
    int rc = zarrc__codec_encode(c, in, n, enc);
    return rc ? rc : zarrc__codec_decode(c, enc->data, enc->size, dsize, dsize, dec);
}

/* Reversible mode round-trips every supported type exactly, in 0 to 4 dimensions. */
static void test_reversible(void)
{
    const char *types[] = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                           "float32", "float64", "numpy.datetime64"};
    zarrc_repr shapes[5];
    for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
        const char *dt = !strcmp(types[t], "numpy.datetime64")
                             ? "{\"name\":\"numpy.datetime64\",\"configuration\":{\"unit\":\"s\",\"scale_factor\":1}}"
                             : types[t];
        shapes[0] = repr(dt, 0);
        shapes[1] = repr(dt, 1, (int64_t)37);
        shapes[2] = repr(dt, 2, (int64_t)5, (int64_t)9);
        shapes[3] = repr(dt, 3, (int64_t)3, (int64_t)4, (int64_t)6);
        shapes[4] = repr(dt, 4, (int64_t)2, (int64_t)3, (int64_t)5, (int64_t)4);
        for (int d = 0; d < 5; d++) {
            for (int hdr = 0; hdr < 2; hdr++) {
                zarrc__codec c;
                const zarrc_repr *r = &shapes[d];
                if (make(&c, hdr ? &zarrc__codec_zfpy : &zarrc__codec_zfp,
                         hdr ? "{\"mode\":5}" : "{\"mode\":\"reversible\"}", 3, r) != ZARRC_OK) {
                    CHECK_MSG(0, "create %s %dd", types[t], d);
                    continue;
                }
                size_t n = nelem(r), es = r->dtype.item_size;
                uint8_t *in = malloc(n * es);
                fill_data(r, in, n);
                zarrc_buf enc = ZARRC_BUF_INIT, dec = ZARRC_BUF_INIT;
                int rc = run(&c, in, n * es, &enc, &dec, n * es);
                CHECK_MSG(rc == 0 && dec.size == n * es && !memcmp(dec.data, in, n * es), "%s %dd %s reversible",
                          types[t], d, hdr ? "zfpy" : "zfp");
                /* zfpy streams start with zfp's magic "zfp" + codec version; zfp ones do not */
                if (hdr)
                    CHECK_MSG(enc.size > 12 && !memcmp(enc.data, "zfp", 3), "%s header", types[t]);
                zarrc_buf_release(&enc);
                zarrc_buf_release(&dec);
                free(in);
                zarrc__codec_fini(&c);
            }
        }
    }
}

static void test_lossy(void)
{
    zarrc_repr r = repr("float64", 3, (int64_t)8, (int64_t)8, (int64_t)8);
    size_t n = nelem(&r);
    double *in = malloc(n * 8);
    for (size_t i = 0; i < n; i++)
        in[i] = sin((double)i / 10) * 100;
    zarrc__codec c;
    zarrc_buf enc = ZARRC_BUF_INIT, dec = ZARRC_BUF_INIT;
    /* fixed accuracy: every value within the tolerance */
    CHECK_OK(make(&c, &zarrc__codec_zfp, "{\"mode\":\"fixed_accuracy\",\"tolerance\":0.01}", 3, &r));
    CHECK_OK(run(&c, (uint8_t *)in, n * 8, &enc, &dec, n * 8));
    double worst = 0;
    for (size_t i = 0; i < n && dec.size == n * 8; i++)
        worst = fmax(worst, fabs(((double *)dec.data)[i] - in[i]));
    CHECK_MSG(dec.size == n * 8 && worst <= 0.01 && worst > 0, "fixed_accuracy error %g", worst);
    CHECK(enc.size < n * 8 / 2);
    zarrc__codec_fini(&c);
    /* fixed rate: zarrs sets the rate for 3 dimensions: 8 blocks x rate 4 x 64 values = 2048 bits */
    CHECK_OK(make(&c, &zarrc__codec_zfp, "{\"mode\":\"fixed_rate\",\"rate\":4}", 3, &r));
    CHECK_OK(run(&c, (uint8_t *)in, n * 8, &enc, &dec, n * 8));
    CHECK_MSG(enc.size == 8 * 4 * 64 / 8, "fixed_rate size %zu", enc.size);
    zarrc__codec_fini(&c);
    /* fixed precision and expert decode to the chunk's size */
    CHECK_OK(make(&c, &zarrc__codec_zfp, "{\"mode\":\"fixed_precision\",\"precision\":12}", 3, &r));
    CHECK_OK(run(&c, (uint8_t *)in, n * 8, &enc, &dec, n * 8));
    CHECK(dec.size == n * 8 && fabs(((double *)dec.data)[100] - in[100]) < 1);
    zarrc__codec_fini(&c);
    CHECK_OK(make(&c, &zarrc__codec_zfp, "{\"mode\":\"expert\",\"minbits\":1,\"maxbits\":2000,\"maxprec\":20,\"minexp\":-10}",
                  3, &r));
    CHECK_OK(run(&c, (uint8_t *)in, n * 8, &enc, &dec, n * 8));
    CHECK(dec.size == n * 8 && fabs(((double *)dec.data)[100] - in[100]) < 0.01);
    zarrc__codec_fini(&c);
    zarrc_buf_release(&enc);
    zarrc_buf_release(&dec);
    free(in);
}

/* A zfpy stream names its field: another shape or type is refused; truncated or random input
 * never reads outside memory (the sanitizer build checks), and the size is always the chunk's. */
static void test_corrupt(void)
{
    zarrc_repr r = repr("float32", 2, (int64_t)6, (int64_t)7), other = repr("float32", 2, (int64_t)7, (int64_t)6),
               ints = repr("int32", 2, (int64_t)6, (int64_t)7);
    size_t n = nelem(&r);
    float in[42];
    for (size_t i = 0; i < n; i++)
        in[i] = (float)i * 0.5f;
    zarrc__codec c, c2, c3;
    zarrc_buf enc = ZARRC_BUF_INIT, dec = ZARRC_BUF_INIT;
    CHECK_OK(make(&c, &zarrc__codec_zfpy, "{\"mode\":3,\"precision\":16}", 3, &r));
    CHECK_OK(make(&c2, &zarrc__codec_zfpy, "{\"mode\":3,\"precision\":16}", 3, &other));
    CHECK_OK(make(&c3, &zarrc__codec_zfpy, "{\"mode\":3,\"precision\":16}", 3, &ints));
    CHECK_OK(zarrc__codec_encode(&c, (uint8_t *)in, sizeof in, &enc));
    CHECK_ERR(zarrc__codec_decode(&c2, enc.data, enc.size, sizeof in, sizeof in, &dec), ZARRC_ECORRUPT,
              "the zfp header describes a float field of 7x6");
    CHECK_ERR(zarrc__codec_decode(&c3, enc.data, enc.size, sizeof in, sizeof in, &dec), ZARRC_ECORRUPT,
              "the chunk is int32");
    CHECK_ERR(zarrc__codec_decode(&c, (const uint8_t *)"nonsense", 8, sizeof in, sizeof in, &dec), ZARRC_ECORRUPT,
              "not a zfp stream");
    int ok = 0;
    for (size_t cut = 0; cut <= enc.size; cut++) {
        dec.size = 0;
        int rc = zarrc__codec_decode(&c, enc.data, cut, sizeof in, sizeof in, &dec);
        ok += rc == 0 && dec.size == sizeof in;
        CHECK(rc == 0 || rc == ZARRC_ECORRUPT);
    }
    CHECK(ok > 0);
    uint8_t junk[300];
    zarrc__codec nz;
    CHECK_OK(make(&nz, &zarrc__codec_zfp, "{\"mode\":\"reversible\"}", 3, &r));
    for (int round = 0; round < 200; round++) {
        size_t len = check_rnd() % sizeof junk;
        for (size_t i = 0; i < len; i++)
            junk[i] = (uint8_t)check_rnd();
        if (round % 2 == 0 && len >= 8)
            memcpy(junk, enc.data, 8); /* a valid header, then garbage */
        dec.size = 0;
        int rc = zarrc__codec_decode(round % 2 ? &nz : &c, junk, len, sizeof in, sizeof in, &dec);
        CHECK(rc == 0 ? dec.size == sizeof in : rc == ZARRC_ECORRUPT);
    }
    zarrc__codec_fini(&nz);
    zarrc__codec_fini(&c);
    zarrc__codec_fini(&c2);
    zarrc__codec_fini(&c3);
    zarrc_buf_release(&enc);
    zarrc_buf_release(&dec);
}

/* v2: numcodecs' zfpy is the "compressor" (it sees the chunk as an array). */
static void test_v2_pipeline(void)
{
    zarrc_repr r = repr("float64", 2, (int64_t)4, (int64_t)5);
    json_object *comp = NULL, *filters = NULL, *comp_out = NULL;
    const char *txt = "{\"id\":\"zfpy\",\"mode\":4,\"tolerance\":0.5,\"rate\":-1,\"precision\":-1}";
    CHECK_OK(zarrc__json_parse(&comp, txt, strlen(txt), "test"));
    zarrc__pipeline *p = NULL;
    CHECK_OK(zarrc__pipeline_from_v2(&p, NULL, comp, 'C', &r));
    if (p) {
        CHECK(p->n == 1 && p->codecs[p->a2b].type == &zarrc__codec_zfpy);
        char order;
        bool be;
        CHECK_OK(zarrc__pipeline_to_v2(p, &filters, &comp_out, &order, &be));
        char *s = comp_out ? zarrc__json_dump(comp_out, false) : NULL;
        CHECK_MSG(!filters && s && strstr(s, "\"id\":\"zfpy\""), "v2 compressor %s", s ? s : "(none)");
        free(s);
        double in[20], out[20];
        for (int i = 0; i < 20; i++)
            in[i] = i * 3.25;
        zarrc__scratch sc = {ZARRC_BUF_INIT, ZARRC_BUF_INIT};
        zarrc_buf enc = ZARRC_BUF_INIT, keep = ZARRC_BUF_INIT, dst = {(uint8_t *)out, 0, sizeof out, 1};
        CHECK_OK(zarrc__pipeline_encode(p, (uint8_t *)in, sizeof in, &sc, &enc));
        CHECK_OK(zarrc__pipeline_decode(p, enc.data, enc.size, &sc, &dst, &keep));
        double worst = 0;
        for (int i = 0; i < 20; i++)
            worst = fmax(worst, fabs(out[i] - in[i]));
        CHECK_MSG(worst <= 0.5, "zfpy v2 error %g", worst);
        zarrc_buf_release(&enc);
        zarrc_buf_release(&keep);
        zarrc__scratch_release(&sc);
        zarrc__pipeline_free(p);
    }
    json_object_put(comp);
    json_object_put(comp_out);
    json_object_put(filters);
}

int main(void)
{
    test_config();
    test_reversible();
    test_lossy();
    test_corrupt();
    test_v2_pipeline();
    return check_report("unit.codec_zfp");
}
