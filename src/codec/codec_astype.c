/* codec_astype.c — numcodecs `astype`: convert elements from `decode_dtype` to `encode_dtype`
 * (and back on decode) with NumPy's C-style conversion. */
#include <stdlib.h>

#include "codec_numeric.h"

typedef struct astype_state {
    zarrc_dtype_info encode_dtype, decode_dtype;
    zarrc__num ek, dk;
} astype_state;

static int astype_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    if (!init->input)
        return zarrc_error_set(ZARRC_EINVAL, "needs the chunk's data type");
    if (config && zarrc_json_typeof(config) != ZARRC_JSON_OBJECT)
        return zarrc_error_set(ZARRC_EINVAL, "configuration must be an object");
    astype_state *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    int rc;
    if ((rc = zarrc__config_dtype(config, "encode_dtype", NULL, &s->encode_dtype)) ||
        (rc = zarrc__config_num(&s->encode_dtype, "encode_dtype", NULL, &s->ek)) ||
        (rc = zarrc__config_dtype(config, "decode_dtype", &init->input->dtype, &s->decode_dtype)) ||
        (rc = zarrc__config_num(&s->decode_dtype, "decode_dtype", init->input, &s->dk))) {
        free(s);
        return rc;
    }
    if (init->output)
        init->output->dtype = s->encode_dtype;
    *state = s;
    return ZARRC_OK;
}

static void astype_destroy(void *state) { free(state); }

static int astype_to_json(const void *state, int format, zarrc_json *config)
{
    const astype_state *s = state;
    int rc = zarrc__config_put_dtype(config, "encode_dtype", &s->encode_dtype);
    return rc ? rc : zarrc__config_put_dtype(config, "decode_dtype", &s->decode_dtype);
}

static int run(const astype_state *s, const zarrc_codec_call *call, const uint8_t *in,
               size_t in_size, zarrc_buf *out, bool decoding)
{
    size_t n, ds = s->decode_dtype.item_size, es = s->encode_dtype.item_size;
    size_t is = decoding ? es : ds, os = decoding ? ds : es;
    int rc = zarrc__filter_begin(call, in_size, is, os, decoding, out, &n);
    if (rc)
        return rc;
    if (decoding)
        zarrc__num_convert(s->dk, out->data, s->ek, in, n);
    else
        zarrc__num_convert(s->ek, out->data, s->dk, in, n);
    out->size = n * os;
    return ZARRC_OK;
}

static int astype_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                         size_t in_size, zarrc_buf *out)
{
    return run(state, call, in, in_size, out, false);
}

static int astype_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                         size_t in_size, zarrc_buf *out)
{
    return run(state, call, in, in_size, out, true);
}

const zarrc_codec_type zarrc__codec_astype = {
    ZARRC_CODEC_TYPE_VERSION, "numcodecs.astype", "astype", NULL, ZARRC_CODEC_ARRAY_TO_ARRAY,
    astype_create, astype_destroy, astype_to_json, astype_encode, astype_decode,
};
