/* codec_transpose.c — the v3 core `transpose` codec: permute the axes of a chunk. Also how a
 * v2 `order: "F"` is expressed (order = [n-1, ..., 0]). */
#include <stdlib.h>

#include "codec_numeric.h"

typedef struct transpose_state {
    int ndim;
    int order[ZARRC_MAX_DIMS];
    int inverse[ZARRC_MAX_DIMS];
} transpose_state;

static int parse_order(transpose_state *s, const zarrc_json *config, int ndim)
{
    const zarrc_json *o = zarrc_json_member(config, "order");
    s->ndim = ndim;
    if (!o || zarrc_json_typeof(o) == ZARRC_JSON_NULL)
        return zarrc_error_set(ZARRC_EINVAL, "missing 'order'");
    const char *str = zarrc_json_string(o);
    if (str) {
        /* Legacy spellings, no longer valid in new metadata but still readable. */
        if (strcmp(str, "C") && strcmp(str, "F"))
            return zarrc_error_set(ZARRC_EINVAL, "'order' must be a list of axes, \"C\" or \"F\"; "
                                   "got \"%s\"", str);
        for (int i = 0; i < ndim; i++)
            s->order[i] = str[0] == 'C' ? i : ndim - 1 - i;
    } else {
        if (zarrc_json_typeof(o) != ZARRC_JSON_ARRAY)
            return zarrc_error_set(ZARRC_EINVAL, "'order' must be a list of axes");
        size_t n = zarrc_json_length(o);
        if (n != (size_t)ndim)
            return zarrc_error_set(ZARRC_EINVAL, "'order' has %zu entries but the chunk has %d "
                                   "dimensions", n, ndim);
        bool seen[ZARRC_MAX_DIMS] = {false};
        for (size_t i = 0; i < n; i++) {
            int64_t v;
            if (zarrc_json_int(zarrc_json_at(o, i), &v))
                return zarrc_error_set(ZARRC_EINVAL, "'order' entry %zu is not an integer", i);
            if (v < 0 || v >= ndim)
                return zarrc_error_set(ZARRC_EINVAL, "'order' entry %zu (%lld) is outside 0..%d",
                                       i, (long long)v, ndim - 1);
            if (seen[v])
                return zarrc_error_set(ZARRC_EINVAL, "'order' is not a permutation: axis %lld "
                                       "appears twice", (long long)v);
            seen[v] = true;
            s->order[i] = (int)v;
        }
    }
    for (int i = 0; i < ndim; i++)
        s->inverse[s->order[i]] = i;
    return ZARRC_OK;
}

static int transpose_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    if (!init->input)
        return zarrc_error_set(ZARRC_EINVAL, "needs the chunk's shape");
    if (zarrc_json_typeof(config) != ZARRC_JSON_OBJECT)
        return zarrc_error_set(ZARRC_EINVAL, "missing 'order'");
    transpose_state *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    int rc = parse_order(s, config, init->input->ndim);
    if (rc) {
        free(s);
        return rc;
    }
    if (init->output)
        for (int i = 0; i < s->ndim; i++)
            init->output->shape[i] = init->input->shape[s->order[i]];
    *state = s;
    return ZARRC_OK;
}

static void transpose_destroy(void *state) { free(state); }

static int transpose_to_json(const void *state, int format, zarrc_json *config)
{
    const transpose_state *s = state;
    if (format != 3)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "transpose has no v2 spelling");
    json_object *arr = json_object_new_array();
    if (!arr)
        return zarrc__enomem();
    for (int i = 0; i < s->ndim; i++)
        json_object_array_add(arr, json_object_new_int(s->order[i]));
    json_object_object_add(ZJ(config), "order", arr);
    return ZARRC_OK;
}

/* ---- the copy kernel ---- */

/* out[i*os0 + j] = in[i*s0 + j*s1] for i < n0, j < n1 (strides in elements), in tiles so that
 * both sides stay in cache. One copy of the loop per common element size lets memcpy inline. */
#define DEFINE_KERNEL2(NAME, ES, TILE)                                                         \
    static void NAME(uint8_t *out, const uint8_t *in, size_t n0, size_t n1, size_t os0,        \
                     size_t s0, size_t s1, size_t es)                                          \
    {                                                                                          \
        (void)es;                                                                              \
        for (size_t i0 = 0; i0 < n0; i0 += (TILE)) {                                           \
            size_t e0 = n0 - i0 < (TILE) ? n0 : i0 + (TILE);                                   \
            for (size_t j0 = 0; j0 < n1; j0 += (TILE)) {                                       \
                size_t e1 = n1 - j0 < (TILE) ? n1 : j0 + (TILE);                               \
                for (size_t i = i0; i < e0; i++) {                                             \
                    uint8_t *o = out + (i * os0 + j0) * (ES);                                  \
                    const uint8_t *p = in + (i * s0 + j0 * s1) * (ES);                         \
                    for (size_t j = j0; j < e1; j++, o += (ES), p += s1 * (ES))                \
                        memcpy(o, p, (ES));                                                    \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    }

DEFINE_KERNEL2(kernel2_1, 1, 64)
DEFINE_KERNEL2(kernel2_2, 2, 32)
DEFINE_KERNEL2(kernel2_4, 4, 32)
DEFINE_KERNEL2(kernel2_8, 8, 16)
DEFINE_KERNEL2(kernel2_16, 16, 16)
DEFINE_KERNEL2(kernel2_any, es, 16)

static void kernel2(uint8_t *out, const uint8_t *in, size_t n0, size_t n1, size_t os0, size_t s0,
                    size_t s1, size_t es)
{
    if (s1 == 1) { /* rows are contiguous in the input too */
        for (size_t i = 0; i < n0; i++)
            memcpy(out + i * os0 * es, in + i * s0 * es, n1 * es);
        return;
    }
    switch (es) {
    case 1: kernel2_1(out, in, n0, n1, os0, s0, s1, es); break;
    case 2: kernel2_2(out, in, n0, n1, os0, s0, s1, es); break;
    case 4: kernel2_4(out, in, n0, n1, os0, s0, s1, es); break;
    case 8: kernel2_8(out, in, n0, n1, os0, s0, s1, es); break;
    case 16: kernel2_16(out, in, n0, n1, os0, s0, s1, es); break;
    default: kernel2_any(out, in, n0, n1, os0, s0, s1, es); break;
    }
}

/* Fill `out` in C order over dims (shape[i], input stride[i] in elements). */
static void gather(uint8_t *out, const uint8_t *in, int n, size_t *shape, size_t *stride,
                   size_t es)
{
    /* Drop unit dims and merge neighbours that are contiguous in the input as well. */
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (shape[i] == 1)
            continue;
        if (m > 0 && stride[m - 1] == stride[i] * shape[i]) {
            shape[m - 1] *= shape[i];
            stride[m - 1] = stride[i];
            continue;
        }
        shape[m] = shape[i];
        stride[m] = stride[i];
        m++;
    }
    if (m == 0) {
        memcpy(out, in, es);
        return;
    }
    if (m == 1) {
        if (stride[0] == 1)
            memcpy(out, in, shape[0] * es);
        else
            kernel2(out, in, 1, shape[0], 0, 0, stride[0], es);
        return;
    }
    size_t ostride[ZARRC_MAX_DIMS], acc = 1;
    for (int i = m - 1; i >= 0; i--) {
        ostride[i] = acc;
        acc *= shape[i];
    }
    /* Tile the output's last dim against the dim that is closest to contiguous in the input;
     * an odometer walks the others. */
    int k = 0;
    for (int i = 1; i < m - 1; i++)
        if (stride[i] < stride[k])
            k = i;
    int outer[ZARRC_MAX_DIMS], no = 0;
    for (int i = 0; i < m - 1; i++)
        if (i != k)
            outer[no++] = i;
    size_t idx[ZARRC_MAX_DIMS] = {0}, ioff = 0, ooff = 0;
    for (;;) {
        kernel2(out + ooff * es, in + ioff * es, shape[k], shape[m - 1], ostride[k], stride[k],
                stride[m - 1], es);
        int d = no - 1;
        for (; d >= 0; d--) {
            int a = outer[d];
            ioff += stride[a];
            ooff += ostride[a];
            if (++idx[d] < shape[a])
                break;
            ioff -= stride[a] * shape[a];
            ooff -= ostride[a] * shape[a];
            idx[d] = 0;
        }
        if (d < 0)
            return;
    }
}

static int run(const transpose_state *s, const zarrc_codec_call *call, const uint8_t *in,
               size_t in_size, zarrc_buf *out, bool decoding)
{
    const zarrc_repr *a = call->decoded;
    if (a->ndim != s->ndim)
        return zarrc_error_set(ZARRC_EINTERNAL, "chunk has %d dimensions, codec was made for %d",
                               a->ndim, s->ndim);
    size_t total, count;
    int rc = zarrc__repr_bytes(a, &total);
    if (rc || (rc = zarrc__repr_count(a, &count)))
        return rc;
    if ((rc = zarrc__check_size(in_size, total, decoding)))
        return rc;
    if ((rc = zarrc_buf_reserve(out, total)))
        return rc;
    out->size = total;
    if (count == 0)
        return ZARRC_OK;
    size_t es = zarrc_dtype_elem_size(&a->dtype);
    int n = s->ndim;
    size_t astride[ZARRC_MAX_DIMS], bshape[ZARRC_MAX_DIMS], bstride[ZARRC_MAX_DIMS];
    size_t shape[ZARRC_MAX_DIMS], stride[ZARRC_MAX_DIMS];
    size_t acc = 1;
    for (int j = n - 1; j >= 0; j--) {
        astride[j] = acc;
        acc *= (size_t)a->shape[j];
    }
    for (int i = 0; i < n; i++)
        bshape[i] = (size_t)a->shape[s->order[i]];
    acc = 1;
    for (int i = n - 1; i >= 0; i--) {
        bstride[i] = acc;
        acc *= bshape[i];
    }
    for (int i = 0; i < n; i++) {
        if (!decoding) { /* out = B: out dim i reads A's axis order[i] */
            shape[i] = bshape[i];
            stride[i] = astride[s->order[i]];
        } else { /* out = A: A's axis j is B's axis inverse[j] */
            shape[i] = (size_t)a->shape[i];
            stride[i] = bstride[s->inverse[i]];
        }
    }
    gather(out->data, in, n, shape, stride, es);
    return ZARRC_OK;
}

static int transpose_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                            size_t in_size, zarrc_buf *out)
{
    return run(state, call, in, in_size, out, false);
}

static int transpose_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                            size_t in_size, zarrc_buf *out)
{
    return run(state, call, in, in_size, out, true);
}

const zarrc_codec_type zarrc__codec_transpose = {
    ZARRC_CODEC_TYPE_VERSION, "transpose", NULL, NULL, ZARRC_CODEC_ARRAY_TO_ARRAY,
    transpose_create, transpose_destroy, transpose_to_json, transpose_encode, transpose_decode,
};
