/* codec_reshape.c — the zarr-extensions `reshape` array→array codec and zarrs' `zarrs.squeeze`
 * (drops the dimensions of size 1). Neither moves an element: C order is kept, only the shape
 * the next codec sees changes (ZE:codecs/reshape/README.md; zarrs' squeeze has an empty
 * configuration). */
#include <stdlib.h>

#include "codec_numeric.h"

/* One entry of reshape's "shape": a size, -1 (inferred), or a list of input dimensions. */
typedef struct entry {
    int64_t size;     /* > 0 explicit, -1 inferred, 0 input_dims */
    int ndims;
    int dims[ZARRC_MAX_DIMS];
} entry;

typedef struct reshape_state {
    bool squeeze;
    int n;
    entry e[ZARRC_MAX_DIMS];
} reshape_state;

static int parse_shape(reshape_state *s, const zarrc_json *config, const zarrc_repr *in, zarrc_repr *outr)
{
    const zarrc_json *sh = zarrc_json_member(config, "shape");
    if (!sh || zarrc_json_typeof(sh) != ZARRC_JSON_ARRAY)
        return zarrc_error_set(ZARRC_EINVAL, "'shape' must be a list");
    size_t n = zarrc_json_length(sh);
    if (n == 0 || n > ZARRC_MAX_DIMS)
        return zarrc_error_set(ZARRC_EINVAL, "'shape' must have 1 to %d entries, not %zu", ZARRC_MAX_DIMS, n);
    s->n = (int)n;
    int64_t out[ZARRC_MAX_DIMS];
    int inferred = -1, last_dim = -1;
    size_t total_in = 1, known = 1;
    for (int i = 0; i < in->ndim; i++)
        if (!zarrc__mul_size(total_in, (size_t)in->shape[i], &total_in))
            return zarrc_error_set(ZARRC_EINVAL, "chunk is too large");
    for (size_t i = 0; i < n; i++) {
        const zarrc_json *v = zarrc_json_at(sh, i);
        entry *e = &s->e[i];
        int64_t x;
        if (zarrc_json_typeof(v) == ZARRC_JSON_ARRAY) {
            size_t k = zarrc_json_length(v);
            if (k > (size_t)in->ndim)
                return zarrc_error_set(ZARRC_EINVAL, "'shape' entry %zu names more dimensions than the %d "
                                       "of the input", i, in->ndim);
            e->size = 0;
            e->ndims = (int)k;
            size_t p = 1;
            for (size_t j = 0; j < k; j++) {
                if (zarrc_json_int(zarrc_json_at(v, j), &x) || x < 0 || x >= in->ndim)
                    return zarrc_error_set(ZARRC_EINVAL, "'shape' entry %zu: input dimension %zu is not in "
                                           "0..%d", i, j, in->ndim - 1);
                if (x <= last_dim)
                    return zarrc_error_set(ZARRC_EINVAL, "'shape': input dimensions must increase strictly "
                                           "(a reshape never transposes)");
                last_dim = (int)x;
                e->dims[j] = (int)x;
                p *= (size_t)in->shape[x]; /* <= total_in: no overflow */
            }
            out[i] = (int64_t)p;
        } else if (!zarrc_json_int(v, &x) && (x > 0 || x == -1)) {
            e->size = x;
            if (x == -1) {
                if (inferred >= 0)
                    return zarrc_error_set(ZARRC_EINVAL, "'shape' has more than one -1");
                inferred = (int)i;
                continue;
            }
            out[i] = x;
        } else
            return zarrc_error_set(ZARRC_EINVAL, "'shape' entry %zu must be a positive integer, -1 or a list "
                                   "of input dimensions", i);
        if (!zarrc__mul_size(known, (size_t)out[i], &known))
            return zarrc_error_set(ZARRC_EINVAL, "'shape' is too large");
    }
    if (inferred >= 0) {
        if (known == 0 || total_in % known)
            return zarrc_error_set(ZARRC_EINVAL, "'shape': no size for the -1 makes %zu elements", total_in);
        out[inferred] = (int64_t)(total_in / known);
        known = total_in;
    }
    if (known != total_in)
        return zarrc_error_set(ZARRC_EINVAL, "'shape' holds %zu elements, the chunk %zu", known, total_in);
    /* input_dims entries must line up with the raveled input */
    for (int i = 0; i < s->n; i++) {
        const entry *e = &s->e[i];
        if (e->size != 0 || e->ndims == 0)
            continue;
        size_t before_b = 1, after_b = 1, before_a = 1, after_a = 1;
        for (int j = 0; j < i; j++) before_b *= (size_t)out[j];
        for (int j = i + 1; j < s->n; j++) after_b *= (size_t)out[j];
        for (int j = 0; j < e->dims[0]; j++) before_a *= (size_t)in->shape[j];
        for (int j = e->dims[e->ndims - 1] + 1; j < in->ndim; j++) after_a *= (size_t)in->shape[j];
        if (before_b != before_a || after_b != after_a)
            return zarrc_error_set(ZARRC_EINVAL, "'shape' entry %d: its input dimensions do not line up with "
                                   "the output dimensions before and after it", i);
    }
    if (outr) {
        outr->ndim = s->n;
        for (int i = 0; i < s->n; i++)
            outr->shape[i] = out[i];
    }
    return ZARRC_OK;
}

static int create(void **state, const zarrc_json *config, const zarrc_codec_init *init, bool squeeze)
{
    *state = NULL;
    if (!init->input)
        return zarrc_error_set(ZARRC_EINVAL, "needs the chunk's shape");
    if (config && zarrc_json_typeof(config) != ZARRC_JSON_OBJECT)
        return zarrc_error_set(ZARRC_EINVAL, "configuration must be an object");
    reshape_state *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    s->squeeze = squeeze;
    int rc = ZARRC_OK;
    if (squeeze) {
        if (config && zarrc_json_length(config) > 0)
            rc = zarrc_error_set(ZARRC_EINVAL, "zarrs.squeeze takes an empty configuration");
        else if (init->output) {
            int k = 0;
            for (int i = 0; i < init->input->ndim; i++)
                if (init->input->shape[i] != 1)
                    init->output->shape[k++] = init->input->shape[i];
            init->output->ndim = k;
        }
    } else
        rc = parse_shape(s, config, init->input, init->output);
    if (rc) {
        free(s);
        return rc;
    }
    *state = s;
    return ZARRC_OK;
}

static int reshape_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    return create(state, config, init, false);
}

static int squeeze_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    return create(state, config, init, true);
}

static void reshape_destroy(void *state) { free(state); }

static int reshape_to_json(const void *state, int format, zarrc_json *config)
{
    const reshape_state *s = state;
    if (format != 3)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "%s has no v2 spelling", s->squeeze ? "zarrs.squeeze" : "reshape");
    if (s->squeeze)
        return ZARRC_OK;
    json_object *arr = json_object_new_array();
    if (!arr)
        return zarrc__enomem();
    for (int i = 0; i < s->n; i++) {
        const entry *e = &s->e[i];
        json_object *v;
        if (e->size) {
            v = json_object_new_int64(e->size);
        } else {
            v = json_object_new_array();
            for (int j = 0; v && j < e->ndims; j++)
                json_object_array_add(v, json_object_new_int(e->dims[j]));
        }
        if (!v || json_object_array_add(arr, v)) {
            json_object_put(v);
            json_object_put(arr);
            return zarrc__enomem();
        }
    }
    json_object_object_add(ZJ(config), "shape", arr);
    return ZARRC_OK;
}

/* The elements keep their order: a checked copy. */
static int copy(const zarrc_codec_call *call, const uint8_t *in, size_t in_size, zarrc_buf *out, bool decoding)
{
    size_t expected;
    int rc = zarrc__repr_bytes(call->decoded, &expected);
    if (rc || (rc = zarrc__check_size(in_size, expected, decoding)) || (rc = zarrc_buf_reserve(out, in_size)))
        return rc;
    if (in_size && out->data != in)
        memcpy(out->data, in, in_size);
    out->size = in_size;
    return ZARRC_OK;
}

static int reshape_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t in_size,
                          zarrc_buf *out)
{
    (void)state;
    return copy(call, in, in_size, out, false);
}

static int reshape_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t in_size,
                          zarrc_buf *out)
{
    (void)state;
    return copy(call, in, in_size, out, true);
}

const zarrc_codec_type zarrc__codec_reshape = {
    ZARRC_CODEC_TYPE_VERSION, "reshape", NULL, NULL, ZARRC_CODEC_ARRAY_TO_ARRAY,
    reshape_create, reshape_destroy, reshape_to_json, reshape_encode, reshape_decode,
};

const zarrc_codec_type zarrc__codec_squeeze = {
    ZARRC_CODEC_TYPE_VERSION, "zarrs.squeeze", NULL, NULL, ZARRC_CODEC_ARRAY_TO_ARRAY,
    squeeze_create, reshape_destroy, reshape_to_json, reshape_encode, reshape_decode,
};
