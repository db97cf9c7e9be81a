/* codec_fixedscaleoffset.c — numcodecs `fixedscaleoffset`: encode round_half_even((x - offset)
 * * scale) cast to `astype`; decode y / scale + offset cast to `dtype`.
 *
 * Precision follows NumPy (v2.md §10.9): the Python scalars offset/scale take the array's float
 * type, so float inputs are computed in their own precision; integer inputs in float64. */
#include <math.h>
#include <stdlib.h>

#include "codec_numeric.h"

typedef struct number {
    double d;
    bool is_int; /* written back as an integer */
    int64_t i;
} number;

typedef struct fso_state {
    number scale, offset;
    zarrc_dtype_info dtype, astype;
    zarrc__num dk, ak;
} fso_state;

static int get_number(const zarrc_json *cfg, const char *key, double dflt, number *out)
{
    const zarrc_json *v = zarrc_json_member(cfg, key);
    out->is_int = false;
    if (!v || zarrc_json_typeof(v) == ZARRC_JSON_NULL) {
        out->d = dflt;
        out->is_int = true;
        out->i = (int64_t)dflt;
        return ZARRC_OK;
    }
    if (zarrc_json_typeof(v) == ZARRC_JSON_INT && zarrc_json_int(v, &out->i) == ZARRC_OK) {
        out->is_int = true;
        out->d = (double)out->i;
        return ZARRC_OK;
    }
    if (zarrc_json_double(v, &out->d) != ZARRC_OK || !isfinite(out->d))
        return zarrc_error_set(ZARRC_EINVAL, "'%s' must be a finite number", key);
    return ZARRC_OK;
}

static int fso_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    if (!init->input)
        return zarrc_error_set(ZARRC_EINVAL, "needs the chunk's data type");
    if (config && zarrc_json_typeof(config) != ZARRC_JSON_OBJECT)
        return zarrc_error_set(ZARRC_EINVAL, "configuration must be an object");
    fso_state *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    int rc;
    if ((rc = get_number(config, "scale", 1, &s->scale)) ||
        (rc = get_number(config, "offset", 0, &s->offset)) ||
        (rc = zarrc__config_dtype(config, "dtype", &init->input->dtype, &s->dtype)) ||
        (rc = zarrc__config_num(&s->dtype, "dtype", init->input, &s->dk)) ||
        (rc = zarrc__config_dtype(config, "astype", &s->dtype, &s->astype)) ||
        (rc = zarrc__config_num(&s->astype, "astype", NULL, &s->ak))) {
        free(s);
        return rc;
    }
    if (s->scale.d == 0) {
        free(s);
        return zarrc_error_set(ZARRC_EINVAL, "'scale' must not be 0");
    }
    if (init->output)
        init->output->dtype = s->astype;
    *state = s;
    return ZARRC_OK;
}

static void fso_destroy(void *state) { free(state); }

static int put_number(zarrc_json *cfg, const char *key, const number *n)
{
    return n->is_int ? zarrc_json_put_int(cfg, key, n->i) : zarrc_json_put_double(cfg, key, n->d);
}

static int fso_to_json(const void *state, int format, zarrc_json *config)
{
    const fso_state *s = state;
    int rc;
    if ((rc = put_number(config, "scale", &s->scale)) ||
        (rc = put_number(config, "offset", &s->offset)) ||
        (rc = zarrc__config_put_dtype(config, "dtype", &s->dtype)))
        return rc;
    return zarrc__config_put_dtype(config, "astype", &s->astype);
}

static int fso_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                      size_t in_size, zarrc_buf *out)
{
    const fso_state *s = state;
    size_t n, ds = s->dtype.item_size, as = s->astype.item_size;
    int rc = zarrc__filter_begin(call, in_size, ds, as, false, out, &n);
    if (rc)
        return rc;
    zarrc__num k = zarrc__num_is_float(s->dk) ? s->dk : ZARRC__NUM_F64;
    double off = zarrc__num_round(k, s->offset.d), sc = zarrc__num_round(k, s->scale.d);
    for (size_t i = 0; i < n; i++) {
        double x = zarrc__val_double(zarrc__num_load(s->dk, in + i * ds));
        double y = zarrc__num_round(k, zarrc__num_round(k, x - off) * sc);
        zarrc__num_store(s->ak, out->data + i * as, zarrc__val_f(nearbyint(y)));
    }
    out->size = n * as;
    return ZARRC_OK;
}

static int fso_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                      size_t in_size, zarrc_buf *out)
{
    const fso_state *s = state;
    size_t n, ds = s->dtype.item_size, as = s->astype.item_size;
    int rc = zarrc__filter_begin(call, in_size, as, ds, true, out, &n);
    if (rc)
        return rc;
    zarrc__num k = zarrc__num_is_float(s->ak) ? s->ak : ZARRC__NUM_F64;
    double off = zarrc__num_round(k, s->offset.d), sc = zarrc__num_round(k, s->scale.d);
    for (size_t i = 0; i < n; i++) {
        double y = zarrc__val_double(zarrc__num_load(s->ak, in + i * as));
        y = zarrc__num_round(k, zarrc__num_round(k, y / sc) + off);
        zarrc__num_store(s->dk, out->data + i * ds, zarrc__val_f(y));
    }
    out->size = n * ds;
    return ZARRC_OK;
}

const zarrc_codec_type zarrc__codec_fixedscaleoffset = {
    ZARRC_CODEC_TYPE_VERSION, "numcodecs.fixedscaleoffset", "fixedscaleoffset", NULL,
    ZARRC_CODEC_ARRAY_TO_ARRAY, fso_create, fso_destroy, fso_to_json, fso_encode, fso_decode,
};
