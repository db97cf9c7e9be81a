/*
 * codec_lz4.c — numcodecs "lz4": a u32 little-endian uncompressed size followed by one raw LZ4
 * block (no LZ4 frame).
 */
#include <stdlib.h>

#include <lz4.h>

#include "codec.h"

typedef struct lz4_state {
    int64_t acceleration; /* as configured */
} lz4_state;

static int lz4_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    int64_t accel;
    int rc = zarrc_json_opt_int(config, "acceleration", 1, &accel);
    if (rc)
        return rc;
    if (accel > INT32_MAX || accel < INT32_MIN)
        return zarrc_error_set(ZARRC_EINVAL, "'acceleration' %lld is out of range",
                               (long long)accel);
    lz4_state *s = zarrc__malloc(sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    s->acceleration = accel;
    *state = s;
    return ZARRC_OK;
}

static void lz4_destroy(void *state) { free(state); }

static int lz4_to_json(const void *state, int format, zarrc_json *config)
{
    const lz4_state *s = state;
    return zarrc_json_put_int(config, "acceleration", s->acceleration);
}

static int lz4_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                      size_t in_size, zarrc_buf *out)
{
    const lz4_state *s = state;
    if (in_size > LZ4_MAX_INPUT_SIZE)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "lz4 cannot compress %zu bytes (limit %d)",
                               in_size, LZ4_MAX_INPUT_SIZE);
    int bound = LZ4_compressBound((int)in_size);
    int rc = zarrc_buf_reserve(out, 4 + (size_t)bound);
    if (rc)
        return rc;
    /* numcodecs replaces acceleration <= 0 by 1. */
    int accel = s->acceleration <= 0 ? 1 : (int)s->acceleration;
    static const char empty[1] = {0};
    int n = LZ4_compress_fast(in_size ? (const char *)in : empty, (char *)out->data + 4,
                              (int)in_size, bound, accel);
    if (n <= 0)
        return zarrc_error_set(ZARRC_EINTERNAL, "lz4 compression failed");
    out->data[0] = (uint8_t)in_size;
    out->data[1] = (uint8_t)(in_size >> 8);
    out->data[2] = (uint8_t)(in_size >> 16);
    out->data[3] = (uint8_t)(in_size >> 24);
    out->size = 4 + (size_t)n;
    return ZARRC_OK;
}

static int lz4_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                      size_t in_size, zarrc_buf *out)
{
    if (in_size < 4)
        return zarrc_error_set(ZARRC_ECORRUPT, "lz4 data of %zu bytes lacks its 4-byte size "
                               "header", in_size);
    size_t n = (size_t)in[0] | (size_t)in[1] << 8 | (size_t)in[2] << 16 | (size_t)in[3] << 24;
    size_t clen = in_size - 4;
    if (call->decoded_size && n != call->decoded_size)
        return zarrc_error_set(ZARRC_ECORRUPT, "lz4 header says %zu bytes, expected %zu", n,
                               call->decoded_size);
    if (n > call->max_size)
        return zarrc__codec_limit_error(call->max_size);
    /* An LZ4 block expands at most ~255x: reject sizes the input cannot hold before
     * allocating. */
    if (n > LZ4_MAX_INPUT_SIZE || clen > INT32_MAX || n > clen * 255 + 16)
        return zarrc_error_set(ZARRC_ECORRUPT, "lz4 header gives an impossible size %zu for %zu "
                               "compressed bytes", n, clen);
    char dummy;
    char *dst = &dummy;
    if (n) {
        int rc = zarrc_buf_reserve(out, n);
        if (rc)
            return rc;
        dst = (char *)out->data;
    }
    int got = LZ4_decompress_safe((const char *)in + 4, dst, (int)clen, (int)n);
    if (got < 0 || (size_t)got != n)
        return zarrc_error_set(ZARRC_ECORRUPT, "invalid lz4 data (decoded %d of %zu bytes)", got,
                               n);
    out->size = n;
    return ZARRC_OK;
}

const zarrc_codec_type zarrc__codec_lz4 = {
    ZARRC_CODEC_TYPE_VERSION, "numcodecs.lz4", "lz4", NULL, ZARRC_CODEC_BYTES_TO_BYTES,
    lz4_create, lz4_destroy, lz4_to_json, lz4_encode, lz4_decode,
};
