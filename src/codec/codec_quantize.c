/* codec_quantize.c — numcodecs `quantize` (lossy): keep enough binary digits for `digits`
 * decimal digits after the point (round half to even), then cast to `astype`. Decoding only
 * casts back to `dtype`. */
#include <math.h>
#include <stdlib.h>

#include "codec_numeric.h"

typedef struct quantize_state {
    int64_t digits;
    double scale; /* 2^bits */
    zarrc_dtype_info dtype, astype;
    zarrc__num dk, ak;
} quantize_state;

/* The scale numcodecs computes, step by step with the same floating-point operations. */
static double quantize_scale(int64_t digits)
{
    double precision = pow(10.0, (double)-digits);
    double e = log10(precision);
    e = e < 0 ? floor(e) : ceil(e);
    double bits = ceil(log(pow(10.0, -e)) / log(2.0));
    return pow(2.0, bits);
}

static int quantize_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    if (!init->input)
        return zarrc_error_set(ZARRC_EINVAL, "needs the chunk's data type");
    if (zarrc_json_typeof(config) != ZARRC_JSON_OBJECT)
        return zarrc_error_set(ZARRC_EINVAL, "missing 'digits'");
    const zarrc_json *dj = zarrc_json_member(config, "digits");
    int64_t digits;
    if (!dj || zarrc_json_typeof(dj) == ZARRC_JSON_NULL)
        return zarrc_error_set(ZARRC_EINVAL, "missing 'digits'");
    if (zarrc_json_int(dj, &digits) || digits < -300 || digits > 300)
        return zarrc_error_set(ZARRC_EINVAL, "'digits' must be an integer in -300..300");
    quantize_state *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    s->digits = digits;
    s->scale = quantize_scale(digits);
    int rc;
    if ((rc = zarrc__config_dtype(config, "dtype", &init->input->dtype, &s->dtype)) ||
        (rc = zarrc__config_num(&s->dtype, "dtype", init->input, &s->dk)) ||
        (rc = zarrc__config_dtype(config, "astype", &s->dtype, &s->astype)) ||
        (rc = zarrc__config_num(&s->astype, "astype", NULL, &s->ak))) {
        free(s);
        return rc;
    }
    if (!zarrc__num_is_float(s->dk) || !zarrc__num_is_float(s->ak)) {
        free(s);
        return zarrc_error_set(ZARRC_EINVAL, "only floating-point data types are supported");
    }
    if (init->output)
        init->output->dtype = s->astype;
    *state = s;
    return ZARRC_OK;
}

static void quantize_destroy(void *state) { free(state); }

static int quantize_to_json(const void *state, int format, zarrc_json *config)
{
    const quantize_state *s = state;
    int rc;
    if ((rc = zarrc_json_put_int(config, "digits", s->digits)) ||
        (rc = zarrc__config_put_dtype(config, "dtype", &s->dtype)))
        return rc;
    return zarrc__config_put_dtype(config, "astype", &s->astype);
}

static int quantize_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                           size_t in_size, zarrc_buf *out)
{
    const quantize_state *s = state;
    size_t n, ds = s->dtype.item_size, as = s->astype.item_size;
    int rc = zarrc__filter_begin(call, in_size, ds, as, false, out, &n);
    if (rc)
        return rc;
    /* NumPy: scale * arr in the array's type (the scale may overflow float16 to inf). */
    double sc = zarrc__num_round(s->dk, s->scale);
    for (size_t i = 0; i < n; i++) {
        double x = zarrc__num_load(s->dk, in + i * ds).f;
        double y = nearbyint(zarrc__num_round(s->dk, sc * x));
        y = zarrc__num_round(s->dk, y / sc);
        zarrc__num_store(s->ak, out->data + i * as, zarrc__val_f(y));
    }
    out->size = n * as;
    return ZARRC_OK;
}

static int quantize_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                           size_t in_size, zarrc_buf *out)
{
    const quantize_state *s = state;
    size_t n, ds = s->dtype.item_size, as = s->astype.item_size;
    int rc = zarrc__filter_begin(call, in_size, as, ds, true, out, &n);
    if (rc)
        return rc;
    zarrc__num_convert(s->dk, out->data, s->ak, in, n);
    out->size = n * ds;
    return ZARRC_OK;
}

const zarrc_codec_type zarrc__codec_quantize = {
    ZARRC_CODEC_TYPE_VERSION, "numcodecs.quantize", "quantize", NULL, ZARRC_CODEC_ARRAY_TO_ARRAY,
    quantize_create, quantize_destroy, quantize_to_json, quantize_encode, quantize_decode,
};
