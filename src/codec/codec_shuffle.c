/* codec_shuffle.c — numcodecs `shuffle` (not blosc's): byte b of element i goes to
 * out[b * count + i]. */
#include <stdlib.h>

#include "codec_numeric.h"

typedef struct shuffle_state {
    int64_t elementsize;
} shuffle_state;

static int shuffle_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    if (config && zarrc_json_typeof(config) != ZARRC_JSON_OBJECT)
        return zarrc_error_set(ZARRC_EINVAL, "configuration must be an object");
    /* zarr-python fills elementsize from the data type; numcodecs' own default is 4. */
    int64_t dflt = 4;
    if (init->input && init->input->dtype.item_size > 0)
        dflt = (int64_t)init->input->dtype.item_size;
    int64_t es;
    if (zarrc_json_opt_int(config, "elementsize", dflt, &es))
        return ZARRC_EINVAL;
    if (es < 0 || es > (1 << 30))
        return zarrc_error_set(ZARRC_EINVAL, "'elementsize' must be in 0..2^30, got %lld",
                               (long long)es);
    shuffle_state *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    s->elementsize = es;
    *state = s;
    return ZARRC_OK;
}

static void shuffle_destroy(void *state) { free(state); }

static int shuffle_to_json(const void *state, int format, zarrc_json *config)
{
    const shuffle_state *s = state;
    return zarrc_json_put_int(config, "elementsize", s->elementsize);
}

#define DEFINE_SHUFFLE(NAME, ES)                                                               \
    static void NAME(uint8_t *out, const uint8_t *in, size_t count, size_t es, bool un)        \
    {                                                                                          \
        (void)es;                                                                              \
        if (!un) {                                                                             \
            for (size_t i = 0; i < count; i++)                                                 \
                for (size_t b = 0; b < (ES); b++)                                              \
                    out[b * count + i] = in[i * (ES) + b];                                     \
        } else {                                                                               \
            for (size_t i = 0; i < count; i++)                                                 \
                for (size_t b = 0; b < (ES); b++)                                              \
                    out[i * (ES) + b] = in[b * count + i];                                     \
        }                                                                                      \
    }

DEFINE_SHUFFLE(shuffle_2, 2)
DEFINE_SHUFFLE(shuffle_4, 4)
DEFINE_SHUFFLE(shuffle_8, 8)
DEFINE_SHUFFLE(shuffle_any, es)

static int run(const shuffle_state *s, const uint8_t *in, size_t in_size, zarrc_buf *out,
               bool un)
{
    size_t es = (size_t)s->elementsize;
    int rc = zarrc_buf_reserve(out, in_size);
    if (rc)
        return rc;
    if (es > 1 && in_size % es)
        return zarrc_error_set(un ? ZARRC_ECORRUPT : ZARRC_EINVAL, "%zu bytes are not a multiple "
                               "of the element size %zu", in_size, es);
    out->size = in_size;
    if (!in_size)
        return ZARRC_OK;
    if (es <= 1) {
        memcpy(out->data, in, in_size);
        return ZARRC_OK;
    }
    size_t count = in_size / es;
    switch (es) {
    case 2: shuffle_2(out->data, in, count, es, un); break;
    case 4: shuffle_4(out->data, in, count, es, un); break;
    case 8: shuffle_8(out->data, in, count, es, un); break;
    default: shuffle_any(out->data, in, count, es, un); break;
    }
    return ZARRC_OK;
}

static int shuffle_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                          size_t in_size, zarrc_buf *out)
{
    return run(state, in, in_size, out, false);
}

static int shuffle_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                          size_t in_size, zarrc_buf *out)
{
    if (call->decoded_size && call->decoded_size != in_size)
        return zarrc_error_set(ZARRC_ECORRUPT, "expected %zu bytes, got %zu", call->decoded_size,
                               in_size);
    if (in_size > call->max_size)
        return zarrc__codec_limit_error(call->max_size);
    return run(state, in, in_size, out, true);
}

const zarrc_codec_type zarrc__codec_shuffle = {
    ZARRC_CODEC_TYPE_VERSION, "numcodecs.shuffle", "shuffle", NULL, ZARRC_CODEC_BYTES_TO_BYTES,
    shuffle_create, shuffle_destroy, shuffle_to_json, shuffle_encode, shuffle_decode,
};
