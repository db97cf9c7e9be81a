/* codec_zfp.c — the `zfp` array→bytes codec as zarrs writes it (ZE:codecs/zfp/README.md; zarrs'
 * array_to_bytes/zfp) and `numcodecs.zfpy` / v2 "zfpy" as numcodecs' Zfpy writes it, both on
 * libzfp (Debian libzfp-dev).
 *
 * Shared by both: a chunk of shape [nw, nz, ny, nx] (1 to 4 dimensions; 0-d = [1]) is one zfp
 * field, x fastest (C order). int32/int64/float32/float64 are zfp's own types; int8/int16/uint8/
 * uint16 are promoted to int32 and demoted back with zfp's utility functions (int N bits: x <<
 * (31 - N); uint: (x - 2^(N-1)) << (31 - N); demotion clamps), uint32/uint64 are clamped to
 * int32/int64 max on encode and to 0 below on decode, datetime/timedelta are int64 — exactly
 * what zarrs does. Other types are refused.
 *
 * The difference is the stream: `zfp` has no header (the configuration gives the mode; fixed
 * rate is set as zarrs does, for 3 dimensions whatever the chunk's), `zfpy` starts with zfp's full
 * header (magic, field, mode) as zfpy.compress_numpy(write_header=True) writes it, with the rate
 * set for the chunk's own dimensionality and no scalar type, as zfpy does. A zfpy stream's header
 * must name the chunk's shape and zfp type.
 *
 * libzfp's bit stream reader does not check the end of its buffer: decoding copies the input
 * into a zero-padded buffer of at least zfp_stream_maximum_size() — the most a decoder with these
 * parameters reads, whatever the bits are — plus slack, so corrupt or truncated input decodes to
 * garbage or an error but never reads outside memory.
 */
#include <math.h>
#include <stdlib.h>
#include <zfp.h>

#include "codec_numeric.h"

typedef struct zfp_state {
    bool zfpy;           /* numcodecs.zfpy: header, numcodecs configuration */
    zfp_mode mode;       /* effective mode */
    double rate, tolerance;
    unsigned precision, minbits, maxbits, maxprec;
    int minexp;
    /* zfpy: the numcodecs configuration members as given */
    int64_t npy_mode, npy_precision;
    double npy_tolerance, npy_rate;
    zarrc__num k;        /* element kind in the array */
    zfp_type zt;         /* zfp's scalar type */
} zfp_state;

static void zfp_destroy(void *state) { free(state); }

static int config_uint(const zarrc_json *config, const char *key, unsigned *out)
{
    const zarrc_json *v = zarrc_json_member(config, key);
    int64_t x;
    if (!v || zarrc_json_int(v, &x) || x < 0 || x > UINT32_MAX)
        return zarrc_error_set(ZARRC_EINVAL, "'%s' must be an unsigned 32-bit integer", key);
    *out = (unsigned)x;
    return ZARRC_OK;
}

static int config_number(const zarrc_json *config, const char *key, double *out)
{
    const zarrc_json *v = zarrc_json_member(config, key);
    if (!v || zarrc_json_double(v, out) || !isfinite(*out))
        return zarrc_error_set(ZARRC_EINVAL, "'%s' must be a finite number", key);
    return ZARRC_OK;
}

static int check_members(const zarrc_json *config, const char *const *allowed)
{
    json_object_object_foreach((json_object *)config, key, val) {
        (void)val;
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = !strcmp(*a, key);
        if (!ok)
            return zarrc_error_set(ZARRC_EINVAL, "unknown configuration member '%s'", key);
    }
    return ZARRC_OK;
}

/* The zarrs spelling: "mode" is a string. */
static int parse_zfp(zfp_state *s, const zarrc_json *config)
{
    const char *mode = NULL;
    if (!config || zarrc_json_typeof(config) != ZARRC_JSON_OBJECT ||
        !(mode = zarrc_json_string(zarrc_json_member(config, "mode"))))
        return zarrc_error_set(ZARRC_EINVAL, "configuration must be an object with a string 'mode' "
                               "(\"fixed_rate\", \"fixed_precision\", \"fixed_accuracy\", \"reversible\" "
                               "or \"expert\")");
    int rc;
    if (!strcmp(mode, "reversible")) {
        s->mode = zfp_mode_reversible;
        return check_members(config, (const char *const[]){"mode", NULL});
    }
    if (!strcmp(mode, "fixed_rate")) {
        s->mode = zfp_mode_fixed_rate;
        if ((rc = check_members(config, (const char *const[]){"mode", "rate", NULL})) ||
            (rc = config_number(config, "rate", &s->rate)))
            return rc;
        if (!(s->rate > 0))
            return zarrc_error_set(ZARRC_EINVAL, "'rate' must be positive");
        return ZARRC_OK;
    }
    if (!strcmp(mode, "fixed_precision")) {
        s->mode = zfp_mode_fixed_precision;
        if ((rc = check_members(config, (const char *const[]){"mode", "precision", NULL})))
            return rc;
        return config_uint(config, "precision", &s->precision);
    }
    if (!strcmp(mode, "fixed_accuracy")) {
        s->mode = zfp_mode_fixed_accuracy;
        if ((rc = check_members(config, (const char *const[]){"mode", "tolerance", NULL})) ||
            (rc = config_number(config, "tolerance", &s->tolerance)))
            return rc;
        if (s->tolerance < 0)
            return zarrc_error_set(ZARRC_EINVAL, "'tolerance' must not be negative");
        return ZARRC_OK;
    }
    if (!strcmp(mode, "expert")) {
        s->mode = zfp_mode_expert;
        int64_t minexp;
        if ((rc = check_members(config, (const char *const[]){"mode", "minbits", "maxbits", "maxprec",
                                                              "minexp", NULL})) ||
            (rc = config_uint(config, "minbits", &s->minbits)) ||
            (rc = config_uint(config, "maxbits", &s->maxbits)) ||
            (rc = config_uint(config, "maxprec", &s->maxprec)))
            return rc;
        if (zarrc_json_int(zarrc_json_member(config, "minexp"), &minexp) || minexp < INT32_MIN ||
            minexp > INT32_MAX)
            return zarrc_error_set(ZARRC_EINVAL, "'minexp' must be a signed 32-bit integer");
        s->minexp = (int)minexp;
        zfp_stream *z = zfp_stream_open(NULL);
        if (!z)
            return ZARRC_ENOMEM;
        zfp_bool ok = zfp_stream_set_params(z, s->minbits, s->maxbits, s->maxprec, s->minexp);
        zfp_stream_close(z);
        if (ok && s->zt != zfp_type_int32 && s->zt != zfp_type_int64 && s->maxbits < (s->zt == zfp_type_float ? 9u : 12u))
            return zarrc_error_set(ZARRC_EINVAL, "'maxbits' must be at least %u for %s data (zfp's block "
                                   "exponent)", s->zt == zfp_type_float ? 9u : 12u,
                                   s->zt == zfp_type_float ? "float32" : "float64");
        if (!ok)
            return zarrc_error_set(ZARRC_EINVAL, "expert parameters minbits %u, maxbits %u, maxprec %u, "
                                   "minexp %d are not valid for zfp", s->minbits, s->maxbits, s->maxprec,
                                   s->minexp);
        return ZARRC_OK;
    }
    return zarrc_error_set(ZARRC_EINVAL, "unknown 'mode' \"%s\" (\"fixed_rate\", \"fixed_precision\", "
                           "\"fixed_accuracy\", \"reversible\" or \"expert\")", mode);
}

/* The numcodecs spelling: "mode" 2 (rate), 3 (precision), 4 (accuracy), 5 (reversible) with
 * -1 for unused parameters. As in numcodecs' Zfpy, only the mode's own parameter is passed to
 * zfpy.compress_numpy, which falls back to reversible when it is negative. */
static int parse_zfpy(zfp_state *s, const zarrc_json *config)
{
    if (config && zarrc_json_typeof(config) != ZARRC_JSON_OBJECT)
        return zarrc_error_set(ZARRC_EINVAL, "configuration must be an object");
    int rc;
    if ((rc = check_members(config, (const char *const[]){"id", "mode", "tolerance", "rate", "precision",
                                                          "compression_kwargs", NULL})) ||
        (rc = zarrc_json_opt_int(config, "mode", 4, &s->npy_mode)) ||
        (rc = zarrc_json_opt_double(config, "tolerance", -1, &s->npy_tolerance)) ||
        (rc = zarrc_json_opt_double(config, "rate", -1, &s->npy_rate)) ||
        (rc = zarrc_json_opt_int(config, "precision", -1, &s->npy_precision)))
        return rc;
    const zarrc_json *kw = zarrc_json_member(config, "compression_kwargs");
    if (kw && zarrc_json_typeof(kw) != ZARRC_JSON_OBJECT && zarrc_json_typeof(kw) != ZARRC_JSON_NULL)
        return zarrc_error_set(ZARRC_EINVAL, "'compression_kwargs' must be an object");
    if (!isfinite(s->npy_tolerance) || !isfinite(s->npy_rate) || s->npy_precision > UINT32_MAX)
        return zarrc_error_set(ZARRC_EINVAL, "'tolerance', 'rate' and 'precision' must be finite numbers");
    s->mode = zfp_mode_reversible;
    switch (s->npy_mode) {
    case 2:
        if (s->npy_rate >= 0) {
            s->mode = zfp_mode_fixed_rate;
            s->rate = s->npy_rate;
        }
        break;
    case 3:
        if (s->npy_precision >= 0) {
            s->mode = zfp_mode_fixed_precision;
            s->precision = (unsigned)s->npy_precision;
        }
        break;
    case 4:
        if (s->npy_tolerance >= 0) {
            s->mode = zfp_mode_fixed_accuracy;
            s->tolerance = s->npy_tolerance;
        }
        break;
    case 5:
        break;
    default:
        return zarrc_error_set(ZARRC_EINVAL, "'mode' must be 2 (fixed rate), 3 (fixed precision), 4 (fixed "
                               "accuracy) or 5 (reversible), not %lld", (long long)s->npy_mode);
    }
    return ZARRC_OK;
}

static int zfp_create_common(void **state, const zarrc_json *config, const zarrc_codec_init *init, bool zfpy)
{
    *state = NULL;
    if (!init->input)
        return zarrc_error_set(ZARRC_EINVAL, "needs the chunk's data type");
    const zarrc_repr *in = init->input;
    zarrc__num k = zarrc__num_of(&in->dtype);
    zfp_type zt = zfp_type_none;
    switch (k) {
    case ZARRC__NUM_I8: case ZARRC__NUM_I16: case ZARRC__NUM_I32:
    case ZARRC__NUM_U8: case ZARRC__NUM_U16: case ZARRC__NUM_U32:
        zt = zfp_type_int32;
        break;
    case ZARRC__NUM_I64: case ZARRC__NUM_U64:
        zt = zfp_type_int64;
        break;
    case ZARRC__NUM_F32:
        zt = zfp_type_float;
        break;
    case ZARRC__NUM_F64:
        zt = zfp_type_double;
        break;
    default:
        break;
    }
    if (zt == zfp_type_none)
        return zarrc_error_set(ZARRC_EINVAL, "data type '%s' is not supported (int8 to int64, uint8 to "
                               "uint64, float32, float64, numpy.datetime64/timedelta64)", in->dtype.name);
    if (in->ndim > 4)
        return zarrc_error_set(ZARRC_EINVAL, "chunks of %d dimensions are not supported (zfp has 1 to 4; "
                               "put zarrs.squeeze or reshape before it)", in->ndim);
    zfp_state *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    s->zfpy = zfpy;
    s->k = k;
    s->zt = zt;
    int rc = zfpy ? parse_zfpy(s, config) : parse_zfp(s, config);
    if (!rc && s->mode == zfp_mode_fixed_accuracy && (zt == zfp_type_int32 || zt == zfp_type_int64))
        rc = zarrc_error_set(ZARRC_EINVAL, "fixed accuracy mode needs a floating-point data type, not '%s'",
                             in->dtype.name);
    if (rc) {
        free(s);
        return rc;
    }
    *state = s;
    return ZARRC_OK;
}

static int zfp_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    return zfp_create_common(state, config, init, false);
}

static int zfpy_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    return zfp_create_common(state, config, init, true);
}

static int zfp_to_json(const void *state, int format, zarrc_json *config)
{
    const zfp_state *s = state;
    if (s->zfpy) {
        /* numcodecs' get_config: mode and the three parameters (-1 = unused) */
        int rc;
        if ((rc = zarrc_json_put_int(config, "mode", s->npy_mode)) ||
            (rc = zarrc_json_put_double(config, "tolerance", s->npy_tolerance)) ||
            (rc = zarrc_json_put_double(config, "rate", s->npy_rate)) ||
            (rc = zarrc_json_put_int(config, "precision", s->npy_precision)))
            return rc;
        return ZARRC_OK;
    }
    if (format != 3)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "zfp has no v2 spelling (numcodecs.zfpy is the v2 codec)");
    switch (s->mode) {
    case zfp_mode_reversible:
        return zarrc_json_put_string(config, "mode", "reversible");
    case zfp_mode_fixed_rate:
        zarrc_json_put_string(config, "mode", "fixed_rate");
        return zarrc_json_put_double(config, "rate", s->rate);
    case zfp_mode_fixed_precision:
        zarrc_json_put_string(config, "mode", "fixed_precision");
        return zarrc_json_put_uint(config, "precision", s->precision);
    case zfp_mode_fixed_accuracy:
        zarrc_json_put_string(config, "mode", "fixed_accuracy");
        return zarrc_json_put_double(config, "tolerance", s->tolerance);
    default:
        zarrc_json_put_string(config, "mode", "expert");
        zarrc_json_put_uint(config, "minbits", s->minbits);
        zarrc_json_put_uint(config, "maxbits", s->maxbits);
        zarrc_json_put_uint(config, "maxprec", s->maxprec);
        return zarrc_json_put_int(config, "minexp", s->minexp);
    }
}

/* A zfp field over `data` for the chunk's shape (C order: the last dimension is x). */
static zfp_field *make_field(const zfp_state *s, const zarrc_repr *r, void *data)
{
    size_t d[4] = {1, 0, 0, 0};
    int nd = r->ndim ? r->ndim : 1;
    for (int i = 0; i < r->ndim; i++)
        d[i] = (size_t)r->shape[r->ndim - 1 - i];
    switch (nd) {
    case 1: return zfp_field_1d(data, s->zt, d[0]);
    case 2: return zfp_field_2d(data, s->zt, d[0], d[1]);
    case 3: return zfp_field_3d(data, s->zt, d[0], d[1], d[2]);
    default: return zfp_field_4d(data, s->zt, d[0], d[1], d[2], d[3]);
    }
}

/* Open a zfp stream with the configured mode (not used for zfpy decoding: the header says). */
static zfp_stream *open_stream(const zfp_state *s, int ndim)
{
    zfp_stream *z = zfp_stream_open(NULL);
    if (!z)
        return NULL;
    switch (s->mode) {
    case zfp_mode_fixed_rate:
        if (s->zfpy) /* zfpy passes no type (so no minimum for floats): see min_maxbits */
            zfp_stream_set_rate(z, s->rate, s->zt, (unsigned)(ndim ? ndim : 1), zfp_false);
        else
            zfp_stream_set_rate(z, s->rate, s->zt, 3, zfp_false);
        break;
    case zfp_mode_fixed_precision:
        zfp_stream_set_precision(z, s->precision);
        break;
    case zfp_mode_fixed_accuracy:
        zfp_stream_set_accuracy(z, s->tolerance);
        break;
    case zfp_mode_expert:
        zfp_stream_set_params(z, s->minbits, s->maxbits, s->maxprec, s->minexp);
        break;
    default:
        zfp_stream_set_reversible(z);
        break;
    }
    return z;
}

/* libzfp's float block coder subtracts the exponent bits (1 + 8 for float, 1 + 11 for double)
 * from maxbits unchecked: a smaller maxbits — from a configuration or a zfpy header — wraps the
 * budget around and the coder runs past any buffer (zfpy itself crashes on such rates). */
static bool maxbits_ok(const zfp_stream *z, zfp_type t)
{
    unsigned need = t == zfp_type_float ? 9 : t == zfp_type_double ? 12 : 0;
    return z->maxbits >= need;
}

static size_t zsize(zfp_type t) { return t == zfp_type_int32 || t == zfp_type_float ? 4 : 8; }

/* Array elements -> zfp's scalars (promotion), into `dst` of n scalars. */
static void promote(const zfp_state *s, const uint8_t *in, void *dst, size_t n)
{
    int32_t *d32 = dst;
    int64_t *d64 = dst;
    for (size_t i = 0; i < n; i++) {
        switch (s->k) {
        case ZARRC__NUM_I8: { int8_t v; memcpy(&v, in + i, 1); d32[i] = (int32_t)v * (1 << 23); } break;
        case ZARRC__NUM_U8: d32[i] = ((int32_t)in[i] - 0x80) * (1 << 23); break;
        case ZARRC__NUM_I16: { int16_t v; memcpy(&v, in + 2 * i, 2); d32[i] = (int32_t)v * (1 << 15); } break;
        case ZARRC__NUM_U16: { uint16_t v; memcpy(&v, in + 2 * i, 2); d32[i] = ((int32_t)v - 0x8000) * (1 << 15); } break;
        case ZARRC__NUM_U32: { uint32_t v; memcpy(&v, in + 4 * i, 4); d32[i] = v > INT32_MAX ? INT32_MAX : (int32_t)v; } break;
        case ZARRC__NUM_U64: { uint64_t v; memcpy(&v, in + 8 * i, 8); d64[i] = v > INT64_MAX ? INT64_MAX : (int64_t)v; } break;
        default: break;
        }
    }
}

static int32_t clamp32(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* zfp's scalars -> array elements (demotion). */
static void demote(const zfp_state *s, const void *src, uint8_t *out, size_t n)
{
    const int32_t *s32 = src;
    const int64_t *s64 = src;
    for (size_t i = 0; i < n; i++) {
        switch (s->k) {
        case ZARRC__NUM_I8: { int8_t v = (int8_t)clamp32(s32[i] >> 23, -0x80, 0x7f); memcpy(out + i, &v, 1); } break;
        case ZARRC__NUM_U8: out[i] = (uint8_t)clamp32((s32[i] >> 23) + 0x80, 0, 0xff); break;
        case ZARRC__NUM_I16: { int16_t v = (int16_t)clamp32(s32[i] >> 15, -0x8000, 0x7fff); memcpy(out + 2 * i, &v, 2); } break;
        case ZARRC__NUM_U16: { uint16_t v = (uint16_t)clamp32((s32[i] >> 15) + 0x8000, 0, 0xffff); memcpy(out + 2 * i, &v, 2); } break;
        case ZARRC__NUM_U32: { uint32_t v = s32[i] < 0 ? 0 : (uint32_t)s32[i]; memcpy(out + 4 * i, &v, 4); } break;
        case ZARRC__NUM_U64: { uint64_t v = s64[i] < 0 ? 0 : (uint64_t)s64[i]; memcpy(out + 8 * i, &v, 8); } break;
        default: break;
        }
    }
}

static bool native(const zfp_state *s)
{
    return s->k == ZARRC__NUM_I32 || s->k == ZARRC__NUM_I64 || s->k == ZARRC__NUM_F32 || s->k == ZARRC__NUM_F64;
}

static int zfp_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t in_size,
                      zarrc_buf *out)
{
    const zfp_state *s = state;
    const zarrc_repr *r = call->decoded;
    size_t n, es = zarrc__num_size(s->k), zs = zsize(s->zt), bytes;
    int rc = zarrc__repr_count(r, &n);
    if (rc)
        return rc;
    if (!zarrc__mul_size(n, es, &bytes) || (rc = zarrc__check_size(in_size, bytes, false)))
        return rc ? rc : zarrc_error_set(ZARRC_EINVAL, "chunk is too large");
    if (n == 0)
        return zarrc_error_set(ZARRC_EINVAL, "zfp cannot encode an empty chunk");
    void *scalars = (void *)in, *tmp = NULL;
    if (!native(s)) {
        if (!(tmp = zarrc__calloc(n, zs)))
            return ZARRC_ENOMEM;
        promote(s, in, tmp, n);
        scalars = tmp;
    }
    zfp_field *f = make_field(s, r, scalars);
    zfp_stream *z = open_stream(s, r->ndim);
    bitstream *bs = NULL;
    rc = ZARRC_ENOMEM;
    if (!f || !z)
        goto done;
    if (!maxbits_ok(z, s->zt)) {
        rc = zarrc_error_set(ZARRC_EINVAL, "the rate is too small for %s data (zfp needs %s bits per block)",
                             s->zt == zfp_type_float ? "float32" : "float64", s->zt == zfp_type_float ? "9" : "12");
        goto done;
    }
    size_t max = zfp_stream_maximum_size(z, f);
    if (max == 0 || max > SIZE_MAX - 8) {
        rc = zarrc_error_set(ZARRC_EINVAL, "zfp cannot compress this chunk");
        goto done;
    }
    max = (max + 7) & ~(size_t)7;
    if ((rc = zarrc_buf_reserve(out, max)))
        goto done;
    memset(out->data, 0, max);
    if (!(bs = stream_open(out->data, max))) {
        rc = ZARRC_ENOMEM;
        goto done;
    }
    zfp_stream_set_bit_stream(z, bs);
    zfp_stream_rewind(z);
    if (s->zfpy && !zfp_write_header(z, f, ZFP_HEADER_FULL)) {
        rc = zarrc_error_set(ZARRC_EINVAL, "zfp could not write its header");
        goto done;
    }
    size_t got = zfp_compress(z, f);
    if (!got) {
        rc = zarrc_error_set(ZARRC_EINVAL, "zfp compression failed");
        goto done;
    }
    /* zfp flushes whole stream words; Debian's libzfp uses 32-bit words, zfpy's and zarrs'
     * bundled builds 64-bit ones: the same bytes on little-endian hosts but for the padding.
     * Pad to 64 bits (zeros) to store what they store. */
    out->size = (got + 7) & ~(size_t)7;
    rc = ZARRC_OK;
done:
    if (bs)
        stream_close(bs);
    if (z)
        zfp_stream_close(z);
    if (f)
        zfp_field_free(f);
    free(tmp);
    return rc;
}

/* Bytes a decoder with stream z's parameters may read for field f, with slack for word reads. */
static bool read_bound(zfp_stream *z, const zfp_field *f, size_t n_in, size_t blocks, size_t *out)
{
    size_t max = zfp_stream_maximum_size(z, f), slack;
    if (max < n_in)
        max = n_in;
    return zarrc__mul_size(blocks, 8, &slack) && slack <= SIZE_MAX - 256 - max && ((*out = max + slack + 256), true);
}

static size_t block_count(const zarrc_repr *r)
{
    size_t b = 1;
    for (int i = 0; i < r->ndim; i++)
        b *= ((size_t)r->shape[i] + 3) / 4; /* <= the element count: no overflow */
    return b;
}

static int zfp_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t in_size,
                      zarrc_buf *out)
{
    const zfp_state *s = state;
    const zarrc_repr *r = call->decoded;
    size_t n, es = zarrc__num_size(s->k), zs = zsize(s->zt), bytes, scal;
    int rc = zarrc__repr_count(r, &n);
    if (rc)
        return rc;
    if (!zarrc__mul_size(n, es, &bytes) || !zarrc__mul_size(n, zs, &scal))
        return zarrc_error_set(ZARRC_EINVAL, "chunk is too large");
    if (n == 0)
        return zarrc_error_set(ZARRC_ECORRUPT, "zfp cannot decode an empty chunk");
    if ((rc = zarrc_buf_reserve(out, bytes)))
        return rc;
    void *tmp = NULL, *pad = NULL, *dst = out->data;
    zfp_field *f = make_field(s, r, NULL), *hf = NULL;
    zfp_stream *z = NULL;
    bitstream *bs = NULL;
    size_t padn = 0, blocks = block_count(r);
    rc = ZARRC_ENOMEM;
    if (!f)
        goto done;
    if (s->zfpy) {
        /* Read the header from a copy padded for it, check it, then size the real buffer. */
        if (in_size > SIZE_MAX - 256)
            goto done;
        padn = in_size + 256;
        if (!(pad = zarrc__calloc(1, padn)) || !(hf = zfp_field_alloc()) || !(z = zfp_stream_open(NULL)))
            goto done;
        if (in_size)
            memcpy(pad, in, in_size);
        if (!(bs = stream_open(pad, padn)))
            goto done;
        zfp_stream_set_bit_stream(z, bs);
        zfp_stream_rewind(z);
        if (!zfp_read_header(z, hf, ZFP_HEADER_FULL)) {
            rc = zarrc_error_set(ZARRC_ECORRUPT, "not a zfp stream with a full header");
            goto done;
        }
        size_t hd[4] = {hf->nx, hf->ny, hf->nz, hf->nw};
        size_t fd[4] = {f->nx, f->ny, f->nz, f->nw};
        if (hf->type != s->zt || memcmp(hd, fd, sizeof hd)) {
            rc = zarrc_error_set(ZARRC_ECORRUPT, "the zfp header describes a %s field of %zux%zux%zux%zu, "
                                 "the chunk is %s of %zux%zux%zux%zu (x, y, z, w)",
                                 hf->type == zfp_type_int32 ? "int32" : hf->type == zfp_type_int64 ? "int64" :
                                 hf->type == zfp_type_float ? "float" : hf->type == zfp_type_double ? "double" :
                                 "untyped", hf->nx, hf->ny, hf->nz, hf->nw,
                                 s->zt == zfp_type_int32 ? "int32" : s->zt == zfp_type_int64 ? "int64" :
                                 s->zt == zfp_type_float ? "float" : "double", fd[0], fd[1], fd[2], fd[3]);
            goto done;
        }
    } else if (!(z = open_stream(s, r->ndim)))
        goto done;
    if (!maxbits_ok(z, s->zt)) {
        rc = zarrc_error_set(ZARRC_ECORRUPT, "the zfp stream's maxbits %u is too small for %s data", z->maxbits,
                             s->zt == zfp_type_float ? "float32" : "float64");
        goto done;
    }
    size_t need;
    if (!read_bound(z, f, in_size, blocks, &need) || need > zarrc__max_chunk_bytes() + (size_t)16 * blocks + 4096) {
        rc = zarrc_error_set(ZARRC_ECORRUPT, "the zfp stream's parameters allow more compressed data than the "
                             "per-chunk limit");
        goto done;
    }
    if (need > padn) {
        if (bs)
            stream_close(bs);
        bs = NULL;
        free(pad);
        padn = need;
        if (!(pad = zarrc__calloc(1, padn)))
            goto done;
        if (in_size)
            memcpy(pad, in, in_size);
    }
    if (!bs && !(bs = stream_open(pad, padn)))
        goto done;
    zfp_stream_set_bit_stream(z, bs);
    zfp_stream_rewind(z);
    if (s->zfpy && !zfp_read_header(z, hf, ZFP_HEADER_FULL)) {
        rc = zarrc_error_set(ZARRC_ECORRUPT, "not a zfp stream with a full header");
        goto done;
    }
    if (!native(s)) {
        if (!(tmp = zarrc__malloc(scal)))
            goto done;
        dst = tmp;
    }
    zfp_field_set_pointer(f, dst);
    if (!zfp_decompress(z, f)) {
        rc = zarrc_error_set(ZARRC_ECORRUPT, "zfp decompression failed");
        goto done;
    }
    if (tmp)
        demote(s, tmp, out->data, n);
    out->size = bytes;
    rc = ZARRC_OK;
done:
    if (bs)
        stream_close(bs);
    if (z)
        zfp_stream_close(z);
    if (f)
        zfp_field_free(f);
    if (hf)
        zfp_field_free(hf);
    free(pad);
    free(tmp);
    return rc;
}

static const char *const zfp_aliases[] = {"zarrs.zfp", "https://codec.zarrs.dev/array_to_bytes/zfp", NULL};
static const char *const zfpy_aliases[] = {"https://codec.zarrs.dev/array_to_bytes/zfpy", NULL};

const zarrc_codec_type zarrc__codec_zfp = {
    ZARRC_CODEC_TYPE_VERSION, "zfp", NULL, zfp_aliases, ZARRC_CODEC_ARRAY_TO_BYTES,
    zfp_create, zfp_destroy, zfp_to_json, zfp_encode, zfp_decode,
};

/* v3 name "numcodecs.zfpy" comes from the registry's "numcodecs.<v2 id>" rule. */
const zarrc_codec_type zarrc__codec_zfpy = {
    ZARRC_CODEC_TYPE_VERSION, "numcodecs.zfpy", "zfpy", zfpy_aliases, ZARRC_CODEC_ARRAY_TO_BYTES,
    zfpy_create, zfp_destroy, zfp_to_json, zfp_encode, zfp_decode,
};
