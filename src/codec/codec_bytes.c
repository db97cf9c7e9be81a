/* codec_bytes.c — the v3 core `bytes` codec (formerly `endian`): fixed-size elements in a
 * chosen byte order. Also the v2 path's array->bytes step (byte order of the v2 dtype). */
#include <stdio.h>
#include <stdlib.h>

#include "codec_numeric.h"

typedef struct bytes_state {
    bool big_endian;
    bool explicit_endian; /* the configuration named it */
    size_t item_size;
    size_t swap_width;    /* 1 = nothing to swap */
    unsigned bits;        /* sub-byte types (int4, float6_e2m3fn, ...): bits used per byte */
    bool is_signed;       /* ... sign-extended in memory (int2, int4) */
    const zarrc_dtype_fields *fields; /* struct: swapped field by field */
    int order;            /* struct: -1 = each field's own (v2), 0 little, 1 big */
    char dtype[32];
} bytes_state;

/* Sub-byte types take one byte per component: on decode the upper bits are ignored (the
 * READMEs leave them arbitrary) and the value sign- or zero-extended; on encode a byte whose
 * value does not fit is refused rather than silently cut. */
static int subbyte_fix(const bytes_state *s, uint8_t *p, size_t n, bool decoding)
{
    uint8_t mask = (uint8_t)((1u << s->bits) - 1), sign = (uint8_t)(1u << (s->bits - 1));
    for (size_t i = 0; i < n; i++) {
        uint8_t v = p[i] & mask;
        if (s->is_signed && (v & sign))
            v |= (uint8_t)~mask;
        if (!decoding && v != p[i])
            return zarrc_error_set(ZARRC_EINVAL, "element %zu: byte 0x%02x is not a valid %s value",
                                   i, p[i], s->dtype);
        p[i] = v;
    }
    return ZARRC_OK;
}

static int bytes_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    if (!init->input)
        return zarrc_error_set(ZARRC_EINVAL, "needs the chunk's data type");
    const zarrc_dtype_info *dt = &init->input->dtype;
    if (zarrc__dtype_is_vlen(dt))
        return zarrc_error_set(ZARRC_EINVAL, "data type '%s' has variable-length elements: use "
                               "vlen-utf8 or vlen-bytes instead", dt->name);
    if (dt->item_size == 0)
        return zarrc_error_set(ZARRC_EINVAL, "data type '%s' has no fixed size", dt->name);
    if (dt->kind == ZARRC_DTYPE_OPTIONAL)
        return zarrc_error_set(ZARRC_EINVAL, "data type 'zarrs.optional' needs the zarrs.optional codec "
                               "(mask and present values), not bytes");
    const char *endian = NULL;
    if (init->format == 3 && config) {
        if (zarrc_json_typeof(config) != ZARRC_JSON_OBJECT)
            return zarrc_error_set(ZARRC_EINVAL, "configuration must be an object");
        if (zarrc_json_opt_string(config, "endian", NULL, &endian))
            return ZARRC_EINVAL;
        if (endian && strcmp(endian, "little") && strcmp(endian, "big"))
            return zarrc_error_set(ZARRC_EINVAL, "'endian' must be \"little\" or \"big\", got "
                                   "\"%s\"", endian);
    }
    bytes_state *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    s->explicit_endian = endian != NULL;
    s->big_endian = endian ? !strcmp(endian, "big") : init->big_endian != 0;
    s->item_size = dt->item_size;
    s->swap_width = zarrc__dtype_swap_width(dt);
    s->bits = zarrc__dtype_subbyte_bits(dt);
    s->is_signed = dt->kind == ZARRC_DTYPE_INT;
    snprintf(s->dtype, sizeof s->dtype, "%s", dt->name);
    if (s->big_endian == zarrc__host_big_endian())
        s->swap_width = 1;
    if (dt->kind == ZARRC_DTYPE_STRUCT) {
        s->fields = dt->fields;
        s->order = endian ? s->big_endian : -1;
        s->swap_width = 1;
    }
    *state = s;
    return ZARRC_OK;
}

static void bytes_destroy(void *state) { free(state); }

static int bytes_to_json(const void *state, int format, zarrc_json *config)
{
    const bytes_state *s = state;
    if (format != 3)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "the bytes codec has no v2 spelling");
    if (s->item_size == 1)
        return ZARRC_OK; /* byte order is meaningless: zarr-python writes no configuration */
    if (s->fields && s->order < 0) {
        /* one byte order for every multi-byte field, as the fields say (v2 -> v3) */
        int ord = zarrc__struct_field_order(s->fields);
        if (ord == -2)
            return ZARRC_OK; /* every field single-byte */
        if (ord < 0)
            return zarrc_error_set(ZARRC_EUNSUPPORTED, "the struct's fields have mixed byte orders, which v3's "
                                   "bytes codec cannot express");
        return zarrc_json_put_string(config, "endian", ord ? "big" : "little");
    }
    return zarrc_json_put_string(config, "endian", s->big_endian ? "big" : "little");
}

/* Copy n bytes of elements and put them into the other byte order if needed. */
static int copy_swap(const bytes_state *s, const zarrc_codec_call *call, const uint8_t *in,
                     size_t in_size, zarrc_buf *out, bool decoding)
{
    size_t expected;
    int rc = zarrc__repr_count(call->decoded, &expected);
    if (rc)
        return rc;
    if (!zarrc__mul_size(expected, s->item_size, &expected))
        return zarrc_error_set(ZARRC_EINVAL, "chunk is too large");
    if ((rc = zarrc__check_size(in_size, expected, decoding)))
        return rc;
    if ((rc = zarrc_buf_reserve(out, in_size)))
        return rc;
    if (in_size && out->data != in)
        memcpy(out->data, in, in_size);
    if (s->swap_width > 1)
        zarrc__byteswap(out->data, in_size / s->swap_width, s->swap_width);
    if (s->fields)
        zarrc__struct_swap(s->fields, out->data, in_size / s->item_size, s->order);
    if (s->bits && (rc = subbyte_fix(s, out->data, in_size, decoding)))
        return rc;
    out->size = in_size;
    return ZARRC_OK;
}

static int bytes_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                        size_t in_size, zarrc_buf *out)
{
    return copy_swap(state, call, in, in_size, out, false);
}

static int bytes_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                        size_t in_size, zarrc_buf *out)
{
    return copy_swap(state, call, in, in_size, out, true);
}

static const char *const bytes_aliases[] = {"endian", NULL};

const zarrc_codec_type zarrc__codec_bytes = {
    ZARRC_CODEC_TYPE_VERSION, "bytes", NULL, bytes_aliases, ZARRC_CODEC_ARRAY_TO_BYTES,
    bytes_create, bytes_destroy, bytes_to_json, bytes_encode, bytes_decode,
};
