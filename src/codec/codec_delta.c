/* codec_delta.c — numcodecs `delta`: first element, then differences of neighbours (in C order
 * of the chunk), computed in `dtype` arithmetic and cast to `astype`. */
#include <stdlib.h>

#include "codec_numeric.h"

typedef struct delta_state {
    zarrc_dtype_info dtype, astype;
    zarrc__num dk, ak;
} delta_state;

static int delta_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    if (!init->input)
        return zarrc_error_set(ZARRC_EINVAL, "needs the chunk's data type");
    if (config && zarrc_json_typeof(config) != ZARRC_JSON_OBJECT)
        return zarrc_error_set(ZARRC_EINVAL, "configuration must be an object");
    delta_state *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    int rc;
    if ((rc = zarrc__config_dtype(config, "dtype", &init->input->dtype, &s->dtype)) ||
        (rc = zarrc__config_num(&s->dtype, "dtype", init->input, &s->dk)) ||
        (rc = zarrc__config_dtype(config, "astype", &s->dtype, &s->astype)) ||
        (rc = zarrc__config_num(&s->astype, "astype", NULL, &s->ak))) {
        free(s);
        return rc;
    }
    if (init->output)
        init->output->dtype = s->astype;
    *state = s;
    return ZARRC_OK;
}

static void delta_destroy(void *state) { free(state); }

static int delta_to_json(const void *state, int format, zarrc_json *config)
{
    const delta_state *s = state;
    int rc = zarrc__config_put_dtype(config, "dtype", &s->dtype);
    return rc ? rc : zarrc__config_put_dtype(config, "astype", &s->astype);
}

/* a - b in the arithmetic of kind k (integers wrap; bool is "not equal", as numpy.diff). */
static zarrc__val sub(zarrc__num k, zarrc__val a, zarrc__val b)
{
    if (k == ZARRC__NUM_BOOL) {
        a.i = a.i != b.i;
        return a;
    }
    if (zarrc__num_is_float(k))
        return zarrc__val_f(zarrc__num_round(k, a.f - b.f));
    a.u -= b.u; /* int and uint share the bits; the store wraps to the width */
    return zarrc__num_cast(k, a);
}

/* a + b likewise (bool addition is logical or, as numpy.cumsum into a bool array). */
static zarrc__val add(zarrc__num k, zarrc__val a, zarrc__val b)
{
    if (k == ZARRC__NUM_BOOL) {
        a.i = a.i || b.i;
        return a;
    }
    if (zarrc__num_is_float(k))
        return zarrc__val_f(zarrc__num_round(k, a.f + b.f));
    a.u += b.u;
    return zarrc__num_cast(k, a);
}

static int delta_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                        size_t in_size, zarrc_buf *out)
{
    const delta_state *s = state;
    size_t n, ds = s->dtype.item_size, as = s->astype.item_size;
    int rc = zarrc__filter_begin(call, in_size, ds, as, false, out, &n);
    if (rc)
        return rc;
    zarrc__val prev = {0};
    for (size_t i = 0; i < n; i++) {
        zarrc__val cur = zarrc__num_load(s->dk, in + i * ds);
        zarrc__num_store(s->ak, out->data + i * as, i == 0 ? cur : sub(s->dk, cur, prev));
        prev = cur;
    }
    out->size = n * as;
    return ZARRC_OK;
}

static int delta_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                        size_t in_size, zarrc_buf *out)
{
    const delta_state *s = state;
    size_t n, ds = s->dtype.item_size, as = s->astype.item_size;
    int rc = zarrc__filter_begin(call, in_size, as, ds, true, out, &n);
    if (rc)
        return rc;
    zarrc__val acc = {0};
    for (size_t i = 0; i < n; i++) {
        zarrc__val d = zarrc__num_cast(s->dk, zarrc__num_load(s->ak, in + i * as));
        acc = i == 0 ? d : add(s->dk, acc, d);
        zarrc__num_store(s->dk, out->data + i * ds, acc);
    }
    out->size = n * ds;
    return ZARRC_OK;
}

const zarrc_codec_type zarrc__codec_delta = {
    ZARRC_CODEC_TYPE_VERSION, "numcodecs.delta", "delta", NULL, ZARRC_CODEC_ARRAY_TO_ARRAY,
    delta_create, delta_destroy, delta_to_json, delta_encode, delta_decode,
};
