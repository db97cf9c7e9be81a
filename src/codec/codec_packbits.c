/* codec_packbits.c — numcodecs `packbits`: a bool chunk of n elements becomes 1 + ceil(n/8)
 * bytes: the number of padding bits, then the bits MSB-first (NumPy packbits order). */
#include "codec_numeric.h"

static int packbits_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    *state = NULL;
    if (!init->input)
        return zarrc_error_set(ZARRC_EINVAL, "needs the chunk's data type");
    const zarrc_dtype_info *dt = &init->input->dtype;
    /* numcodecs views the chunk as bool; 1-byte integers are read as zero / non-zero. */
    if (!(dt->kind == ZARRC_DTYPE_BOOL ||
          ((dt->kind == ZARRC_DTYPE_INT || dt->kind == ZARRC_DTYPE_UINT) && dt->item_size == 1)))
        return zarrc_error_set(ZARRC_EINVAL, "only bool data is supported, not '%s'", dt->name);
    size_t n;
    int rc = zarrc__repr_count(init->input, &n);
    if (rc)
        return rc;
    if (init->output) {
        zarrc_dtype_info u8;
        if ((rc = zarrc_dtype_parse(&u8, "uint8")))
            return rc;
        init->output->dtype = u8;
        init->output->ndim = 1;
        init->output->shape[0] = (int64_t)(1 + n / 8 + (n % 8 != 0));
    }
    return ZARRC_OK;
}

static void packbits_destroy(void *state) { (void)state; }

static int packbits_to_json(const void *state, int format, zarrc_json *config)
{
    return ZARRC_OK;
}

static int packbits_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                           size_t in_size, zarrc_buf *out)
{
    size_t n;
    int rc = zarrc__repr_count(call->decoded, &n);
    if (rc || (rc = zarrc__check_size(in_size, n, false)))
        return rc;
    size_t nbytes = 1 + n / 8 + (n % 8 != 0);
    if ((rc = zarrc_buf_reserve(out, nbytes)))
        return rc;
    uint8_t *o = out->data;
    o[0] = (uint8_t)((8 - n % 8) % 8);
    memset(o + 1, 0, nbytes - 1);
    for (size_t i = 0; i < n; i++)
        if (in[i])
            o[1 + i / 8] |= (uint8_t)(0x80u >> (i % 8));
    out->size = nbytes;
    return ZARRC_OK;
}

static int packbits_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                           size_t in_size, zarrc_buf *out)
{
    size_t n;
    int rc = zarrc__repr_count(call->decoded, &n);
    if (rc || (rc = zarrc__check_size(in_size, 1 + n / 8 + (n % 8 != 0), true)))
        return rc;
    if (in[0] != (8 - n % 8) % 8)
        return zarrc_error_set(ZARRC_ECORRUPT, "%u padding bits recorded, expected %u for %zu "
                               "elements", (unsigned)in[0], (unsigned)((8 - n % 8) % 8), n);
    if ((rc = zarrc_buf_reserve(out, n)))
        return rc;
    for (size_t i = 0; i < n; i++)
        out->data[i] = (in[1 + i / 8] >> (7 - i % 8)) & 1;
    out->size = n;
    return ZARRC_OK;
}

const zarrc_codec_type zarrc__codec_packbits = {
    ZARRC_CODEC_TYPE_VERSION, "numcodecs.packbits", "packbits", NULL, ZARRC_CODEC_ARRAY_TO_ARRAY,
    packbits_create, packbits_destroy, packbits_to_json, packbits_encode, packbits_decode,
};
