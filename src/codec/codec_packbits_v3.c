/* codec_packbits_v3.c — the zarr-extensions `packbits` array→bytes codec (not numcodecs'
 * bool-only `packbits`, which is codec_packbits.c): each component of each element keeps its
 * bits first_bit..last_bit, packed into one bit sequence, least significant bit first, element
 * after element (real part before imaginary part). `padding_encoding` "first_byte"/"last_byte"
 * adds a byte holding the number of padding bits; "none" (default) adds nothing.
 * (ZE:codecs/packbits/README.md; the older draft spellings "start_byte"/"end_byte" are read.) */
#include <stdio.h>
#include <stdlib.h>

#include "codec_numeric.h"
#include "../dtype/dtype.h"

enum { PAD_NONE, PAD_FIRST, PAD_LAST };

typedef struct pb_state {
    int padding;
    unsigned first_bit, last_bit, nbits; /* nbits = N: bits per component of the type */
    bool first_given, last_given;
    bool is_signed;
    size_t comp_size, ncomp;             /* bytes per component in memory, components per element */
    char dtype[32];
} pb_state;

/* N for a type: bool 1, sub-byte types their width, other numeric types 8 x component bytes. */
static int type_bits(const zarrc_dtype_info *dt, unsigned *n, size_t *ncomp, size_t *comp)
{
    *ncomp = dt->kind == ZARRC_DTYPE_COMPLEX ? 2 : 1;
    *comp = dt->item_size / *ncomp;
    switch (dt->kind) {
    case ZARRC_DTYPE_BOOL: *n = 1; return ZARRC_OK;
    case ZARRC_DTYPE_INT: case ZARRC_DTYPE_UINT: case ZARRC_DTYPE_FLOAT: case ZARRC_DTYPE_COMPLEX:
        if (*comp != 1 && *comp != 2 && *comp != 4 && *comp != 8)
            break;
        *n = zarrc__dtype_subbyte_bits(dt) ? zarrc__dtype_subbyte_bits(dt) : (unsigned)(8 * *comp);
        return ZARRC_OK;
    default:
        break;
    }
    return zarrc_error_set(ZARRC_EINVAL, "data type '%s' is not supported (bool, integer, "
                           "floating or complex types only)", dt->name);
}

static int opt_bit(const zarrc_json *config, const char *key, unsigned *out, bool *given)
{
    const zarrc_json *v = zarrc_json_member(config, key);
    int64_t x;
    *given = false;
    if (!v || zarrc_json_typeof(v) == ZARRC_JSON_NULL)
        return ZARRC_OK;
    if (zarrc_json_int(v, &x) || x < 0 || x > 63)
        return zarrc_error_set(ZARRC_EINVAL, "'%s' must be null or an integer in [0, 63]", key);
    *out = (unsigned)x;
    *given = true;
    return ZARRC_OK;
}

static int pb_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    *state = NULL;
    if (!init->input)
        return zarrc_error_set(ZARRC_EINVAL, "needs the chunk's data type");
    const zarrc_dtype_info *dt = &init->input->dtype;
    unsigned n = 0;
    size_t ncomp, comp;
    int rc = type_bits(dt, &n, &ncomp, &comp);
    if (rc)
        return rc;
    if (config && zarrc_json_typeof(config) != ZARRC_JSON_OBJECT)
        return zarrc_error_set(ZARRC_EINVAL, "configuration must be an object");
    const char *pad = NULL;
    const zarrc_json *pv = zarrc_json_member(config, "padding_encoding");
    if (pv && zarrc_json_typeof(pv) != ZARRC_JSON_NULL && zarrc_json_opt_string(config, "padding_encoding", NULL, &pad))
        return ZARRC_EINVAL;
    int padding = PAD_NONE;
    if (pad && (!strcmp(pad, "first_byte") || !strcmp(pad, "start_byte")))
        padding = PAD_FIRST;
    else if (pad && (!strcmp(pad, "last_byte") || !strcmp(pad, "end_byte")))
        padding = PAD_LAST;
    else if (pad && strcmp(pad, "none"))
        return zarrc_error_set(ZARRC_EINVAL, "'padding_encoding' must be \"none\", \"first_byte\" or "
                               "\"last_byte\", got \"%s\"", pad);
    pb_state s = {padding, 0, n - 1, n, false, false, dt->kind == ZARRC_DTYPE_INT, comp, ncomp, ""};
    unsigned first = 0, last = n - 1;
    if ((rc = opt_bit(config, "first_bit", &first, &s.first_given)) ||
        (rc = opt_bit(config, "last_bit", &last, &s.last_given)))
        return rc;
    if (last < first || last >= n)
        return zarrc_error_set(ZARRC_EINVAL, "need first_bit <= last_bit < %u (the bits of '%s'), got "
                               "%u and %u", n, dt->name, first, last);
    s.first_bit = first;
    s.last_bit = last;
    snprintf(s.dtype, sizeof s.dtype, "%s", dt->name);
    pb_state *p = zarrc__malloc(sizeof *p);
    if (!p)
        return ZARRC_ENOMEM;
    *p = s;
    *state = p;
    return ZARRC_OK;
}

static void pb_destroy(void *state) { free(state); }

static int pb_to_json(const void *state, int format, zarrc_json *config)
{
    const pb_state *s = state;
    int rc;
    if (format != 3)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "the packbits (zarr-extensions) codec has no v2 spelling");
    if ((rc = zarrc_json_put_string(config, "padding_encoding", s->padding == PAD_FIRST ? "first_byte"
                                    : s->padding == PAD_LAST ? "last_byte" : "none")))
        return rc;
    if (s->first_given && (rc = zarrc_json_put_uint(config, "first_bit", s->first_bit)))
        return rc;
    if (s->last_given && (rc = zarrc_json_put_uint(config, "last_bit", s->last_bit)))
        return rc;
    return ZARRC_OK;
}

/* Bits in the packed sequence and bytes of the encoded chunk (padding byte included). */
static int sizes(const pb_state *s, const zarrc_codec_call *call, size_t *ncomp_total, size_t *nbytes,
                 unsigned *padbits)
{
    size_t n, bits;
    int rc = zarrc__repr_count(call->decoded, &n);
    if (rc)
        return rc;
    unsigned b = s->last_bit - s->first_bit + 1;
    if (!zarrc__mul_size(n, s->ncomp, ncomp_total) || !zarrc__mul_size(*ncomp_total, b, &bits) ||
        bits > SIZE_MAX - 8)
        return zarrc_error_set(ZARRC_EINVAL, "chunk is too large");
    *nbytes = bits / 8 + (bits % 8 != 0) + (s->padding != PAD_NONE);
    *padbits = (unsigned)((8 - bits % 8) % 8);
    return ZARRC_OK;
}

static uint64_t load(const uint8_t *p, size_t size)
{
    uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64 = 0;
    switch (size) {
    case 1: memcpy(&u8, p, 1); return u8;
    case 2: memcpy(&u16, p, 2); return u16;
    case 4: memcpy(&u32, p, 4); return u32;
    default: memcpy(&u64, p, 8); return u64;
    }
}

static void store(uint8_t *p, size_t size, uint64_t v)
{
    uint8_t u8 = (uint8_t)v; uint16_t u16 = (uint16_t)v; uint32_t u32 = (uint32_t)v;
    switch (size) {
    case 1: memcpy(p, &u8, 1); break;
    case 2: memcpy(p, &u16, 2); break;
    case 4: memcpy(p, &u32, 4); break;
    default: memcpy(p, &v, 8); break;
    }
}

static int pb_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t in_size,
                     zarrc_buf *out)
{
    const pb_state *s = state;
    size_t total, nbytes;
    unsigned padbits, b = s->last_bit - s->first_bit + 1;
    int rc = sizes(s, call, &total, &nbytes, &padbits);
    size_t expect;
    if (rc)
        return rc;
    if (!zarrc__mul_size(total, s->comp_size, &expect))
        return zarrc_error_set(ZARRC_EINVAL, "chunk is too large");
    if ((rc = zarrc__check_size(in_size, expect, false)) || (rc = zarrc_buf_reserve(out, nbytes)))
        return rc;
    uint8_t *o = out->data;
    memset(o, 0, nbytes);
    uint8_t *bits = o + (s->padding == PAD_FIRST);
    uint64_t nmask = s->nbits == 64 ? UINT64_MAX : (UINT64_C(1) << s->nbits) - 1;
    uint64_t bmask = b == 64 ? UINT64_MAX : (UINT64_C(1) << b) - 1;
    size_t pos = 0;
    for (size_t i = 0; i < total; i++) {
        uint64_t v = load(in + i * s->comp_size, s->comp_size);
        if (s->nbits < 8 * s->comp_size) { /* sub-byte and bool: the value must fit its N bits */
            uint64_t x = v & nmask;
            if (s->is_signed && (x >> (s->nbits - 1)) & 1)
                x |= ~nmask & ((UINT64_C(1) << (8 * s->comp_size)) - 1);
            if (x != v)
                return zarrc_error_set(ZARRC_EINVAL, "element %zu: byte 0x%02x is not a valid %s value",
                                       i / s->ncomp, (unsigned)v, s->dtype);
        }
        v = (v >> s->first_bit) & bmask;
        for (unsigned k = 0; k < b; k++, pos++)
            if ((v >> k) & 1)
                bits[pos / 8] |= (uint8_t)(1u << (pos % 8));
    }
    if (s->padding == PAD_FIRST)
        o[0] = (uint8_t)padbits;
    else if (s->padding == PAD_LAST)
        o[nbytes - 1] = (uint8_t)padbits;
    out->size = nbytes;
    return ZARRC_OK;
}

static int pb_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t in_size,
                     zarrc_buf *out)
{
    const pb_state *s = state;
    size_t total, nbytes, outsize;
    unsigned padbits, b = s->last_bit - s->first_bit + 1;
    int rc = sizes(s, call, &total, &nbytes, &padbits);
    if (rc)
        return rc;
    if (in_size != nbytes)
        return zarrc_error_set(ZARRC_ECORRUPT, "packed chunk has %zu bytes, expected %zu", in_size, nbytes);
    if (s->padding != PAD_NONE) {
        uint8_t rec = s->padding == PAD_FIRST ? in[0] : in[nbytes - 1];
        if (rec != padbits)
            return zarrc_error_set(ZARRC_ECORRUPT, "%u padding bits recorded, expected %u", (unsigned)rec, padbits);
    }
    if (!zarrc__mul_size(total, s->comp_size, &outsize))
        return zarrc_error_set(ZARRC_ECORRUPT, "chunk is too large");
    if (call->max_size && outsize > call->max_size)
        return zarrc_error_set(ZARRC_ECORRUPT, "decoded chunk (%zu bytes) exceeds the limit of %zu",
                               outsize, call->max_size);
    if ((rc = zarrc_buf_reserve(out, outsize)))
        return rc;
    const uint8_t *bits = in + (s->padding == PAD_FIRST);
    size_t pos = 0;
    uint64_t width_mask = 8 * s->comp_size == 64 ? UINT64_MAX : (UINT64_C(1) << (8 * s->comp_size)) - 1;
    for (size_t i = 0; i < total; i++) {
        uint64_t v = 0;
        for (unsigned k = 0; k < b; k++, pos++)
            v |= (uint64_t)((bits[pos / 8] >> (pos % 8)) & 1) << k;
        v <<= s->first_bit;
        /* signed integers: sign-extend from last_bit through the component's memory bytes */
        if (s->is_signed && (v >> s->last_bit) & 1 && s->last_bit < 63)
            v |= ~((UINT64_C(1) << (s->last_bit + 1)) - 1);
        store(out->data + i * s->comp_size, s->comp_size, v & width_mask);
    }
    out->size = outsize;
    return ZARRC_OK;
}

const zarrc_codec_type zarrc__codec_packbits_v3 = {
    ZARRC_CODEC_TYPE_VERSION, "packbits", NULL, NULL, ZARRC_CODEC_ARRAY_TO_BYTES,
    pb_create, pb_destroy, pb_to_json, pb_encode, pb_decode,
};
