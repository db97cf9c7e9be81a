/* codec_scale_offset.c — the zarr-extensions `scale_offset` array→array codec: encode
 * (x - offset) * scale, decode x / scale + offset, in the input data type's own arithmetic
 * (ZE:codecs/scale_offset/README.md; semantics as zarr-python 3.4 implements them, spec digest
 * extensions.md §6.2): integers exactly, a result outside the type — or, decoding, a quotient
 * that is not whole — is an error, never a wrap; floats in their precision (float16/32 rounded
 * after each operation). `offset`/`scale` are fill-value JSON of the input type (defaults 0 / 1;
 * scale 0 refused); the output type is the input type. */
#include <math.h>
#include <stdlib.h>

#include "codec_numeric.h"
#include "../dtype/dtype.h"

typedef struct so_state {
    zarrc__num k;
    zarrc_dtype_info dt;
    zarrc__fill offset, scale; /* as given (kept for to_json) */
    bool offset_given, scale_given;
    zarrc__val off, sc;
} so_state;

static void so_destroy(void *state)
{
    so_state *s = state;
    if (!s)
        return;
    zarrc__fill_clear(&s->offset);
    zarrc__fill_clear(&s->scale);
    free(s);
}

static int get_param(so_state *s, const zarrc_json *config, const char *key, zarrc__fill *f, bool *given,
                     zarrc__val *v, int dflt)
{
    const zarrc_json *j = zarrc_json_member(config, key);
    *given = j && zarrc_json_typeof(j) != ZARRC_JSON_NULL;
    int rc = *given ? zarrc__fill_parse(f, &s->dt, (const json_object *)j, 3) : zarrc__fill_default(f, &s->dt);
    if (rc)
        return zarrc_error_set(ZARRC_EINVAL, "'%s': %s", key, zarrc_error_last());
    if (!*given)
        zarrc__num_store(s->k, f->bytes, zarrc__val_f((double)dflt));
    *v = zarrc__num_load(s->k, f->bytes);
    return ZARRC_OK;
}

static int so_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    *state = NULL;
    if (!init->input)
        return zarrc_error_set(ZARRC_EINVAL, "needs the chunk's data type");
    if (config && zarrc_json_typeof(config) != ZARRC_JSON_OBJECT)
        return zarrc_error_set(ZARRC_EINVAL, "configuration must be an object");
    const zarrc_dtype_info *dt = &init->input->dtype;
    zarrc__num k = zarrc__num_of(dt);
    if (k == ZARRC__NUM_NONE || k == ZARRC__NUM_BOOL || !strcmp(dt->name, "bfloat16") ||
        dt->kind == ZARRC_DTYPE_DATETIME || dt->kind == ZARRC_DTYPE_TIMEDELTA)
        return zarrc_error_set(ZARRC_EINVAL, "data type '%s' is not supported (integer types of 8 to 64 "
                               "bits, float16, float32, float64)", dt->name);
    if (config) {
        json_object_object_foreach((json_object *)config, key, val) {
            (void)val;
            if (strcmp(key, "offset") && strcmp(key, "scale"))
                return zarrc_error_set(ZARRC_EINVAL, "unknown configuration member '%s'", key);
        }
    }
    so_state *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    s->k = k;
    s->dt = *dt;
    int rc;
    if ((rc = get_param(s, config, "offset", &s->offset, &s->offset_given, &s->off, 0)) ||
        (rc = get_param(s, config, "scale", &s->scale, &s->scale_given, &s->sc, 1))) {
        so_destroy(s);
        return rc;
    }
    bool zero = zarrc__num_is_float(k) ? s->sc.f == 0 : s->sc.cls == ZARRC__VAL_UINT ? s->sc.u == 0 : s->sc.i == 0;
    if (zero) {
        so_destroy(s);
        return zarrc_error_set(ZARRC_EINVAL, "'scale' must not be 0");
    }
    *state = s;
    return ZARRC_OK;
}

static int so_to_json(const void *state, int format, zarrc_json *config)
{
    const so_state *s = state;
    if (format != 3)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "scale_offset has no v2 spelling (use numcodecs.fixedscaleoffset)");
    if (s->offset_given)
        json_object_object_add(ZJ(config), "offset", zarrc__fill_to_json(&s->offset, &s->dt, 3));
    if (s->scale_given)
        json_object_object_add(ZJ(config), "scale", zarrc__fill_to_json(&s->scale, &s->dt, 3));
    return ZARRC_OK;
}

/* Integer range of kind k as __int128 bounds. */
static void int_range(zarrc__num k, __int128 *lo, __int128 *hi)
{
    size_t bits = 8 * zarrc__num_size(k);
    bool is_signed = k == ZARRC__NUM_I8 || k == ZARRC__NUM_I16 || k == ZARRC__NUM_I32 || k == ZARRC__NUM_I64;
    if (is_signed) {
        *hi = ((__int128)1 << (bits - 1)) - 1;
        *lo = -*hi - 1;
    } else {
        *lo = 0;
        *hi = ((__int128)1 << bits) - 1;
    }
}

static __int128 to_i128(zarrc__val v) { return v.cls == ZARRC__VAL_UINT ? (__int128)v.u : (__int128)v.i; }

static int run(const so_state *s, const zarrc_codec_call *call, const uint8_t *in, size_t in_size, zarrc_buf *out,
               bool decoding)
{
    size_t n, es = zarrc__num_size(s->k);
    int rc = zarrc__filter_begin(call, in_size, es, es, decoding, out, &n);
    if (rc)
        return rc;
    uint8_t *o = out->data;
    if (zarrc__num_is_float(s->k)) {
        double off = s->off.f, sc = s->sc.f;
        for (size_t i = 0; i < n; i++) {
            double x = zarrc__num_load(s->k, in + i * es).f, y;
            if (decoding)
                y = zarrc__num_round(s->k, zarrc__num_round(s->k, x / sc) + off);
            else
                y = zarrc__num_round(s->k, zarrc__num_round(s->k, x - off) * sc);
            zarrc__num_store(s->k, o + i * es, zarrc__val_f(y));
        }
    } else {
        __int128 lo, hi, off = to_i128(s->off), sc = to_i128(s->sc);
        int_range(s->k, &lo, &hi);
        for (size_t i = 0; i < n; i++) {
            __int128 x = to_i128(zarrc__num_load(s->k, in + i * es)), y;
            if (decoding) {
                if (x % sc)
                    return zarrc_error_set(ZARRC_ECORRUPT, "element %zu: %lld is not a multiple of the scale",
                                           i, (long long)x);
                y = x / sc + off;
            } else
                y = (x - off) * sc; /* |x - off| < 2^65, |sc| < 2^64: fits in 128 bits */
            if (y < lo || y > hi)
                return zarrc_error_set(decoding ? ZARRC_ECORRUPT : ZARRC_EINVAL,
                                       "element %zu: the result is outside the range of %s", i, s->dt.name);
            zarrc__val v;
            memset(&v, 0, sizeof v);
            if (y < 0) {
                v.cls = ZARRC__VAL_INT;
                v.i = (int64_t)y;
            } else {
                v.cls = ZARRC__VAL_UINT;
                v.u = (uint64_t)y;
            }
            zarrc__num_store(s->k, o + i * es, v);
        }
    }
    out->size = n * es;
    return ZARRC_OK;
}

static int so_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t in_size,
                     zarrc_buf *out)
{
    return run(state, call, in, in_size, out, false);
}

static int so_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t in_size,
                     zarrc_buf *out)
{
    return run(state, call, in, in_size, out, true);
}

const zarrc_codec_type zarrc__codec_scale_offset = {
    ZARRC_CODEC_TYPE_VERSION, "scale_offset", NULL, NULL, ZARRC_CODEC_ARRAY_TO_ARRAY,
    so_create, so_destroy, so_to_json, so_encode, so_decode,
};
