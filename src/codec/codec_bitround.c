/* codec_bitround.c — `bitround` (numcodecs BitRound; v3 registered codec): keep `keepbits`
 * mantissa bits of floats (complex: each part), rounding half to even; for integers (v3
 * extension) keep `keepbits` bits from the most significant set bit. Decoding is identity. */
#include <stdlib.h>

#include "codec_numeric.h"

typedef struct bitround_state {
    int64_t keepbits;
    unsigned width;    /* bits of one rounded unit (a float, a complex part, an integer) */
    int mantissa;      /* mantissa bits of floats; 0 for integers */
} bitround_state;

static int bitround_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    if (!init->input)
        return zarrc_error_set(ZARRC_EINVAL, "needs the chunk's data type");
    if (zarrc_json_typeof(config) != ZARRC_JSON_OBJECT)
        return zarrc_error_set(ZARRC_EINVAL, "missing 'keepbits'");
    const zarrc_json *kj = zarrc_json_member(config, "keepbits");
    int64_t keep;
    if (!kj || zarrc_json_typeof(kj) == ZARRC_JSON_NULL)
        return zarrc_error_set(ZARRC_EINVAL, "missing 'keepbits'");
    if (zarrc_json_int(kj, &keep) || keep < 0)
        return zarrc_error_set(ZARRC_EINVAL, "'keepbits' must be a non-negative integer");
    const zarrc_dtype_info *dt = &init->input->dtype;
    unsigned width = 0;
    int mantissa = 0;
    size_t unit = dt->kind == ZARRC_DTYPE_COMPLEX ? dt->item_size / 2 : dt->item_size;
    switch (dt->kind) {
    case ZARRC_DTYPE_FLOAT:
    case ZARRC_DTYPE_COMPLEX:
        mantissa = strstr(dt->name, "bfloat16") ? 7 : unit == 2 ? 10 : unit == 4 ? 23 : unit == 8 ? 52 : 0;
        if (mantissa)
            width = (unsigned)unit * 8;
        break;
    case ZARRC_DTYPE_INT:
    case ZARRC_DTYPE_UINT:
        if (unit == 1 || unit == 2 || unit == 4 || unit == 8)
            width = (unsigned)unit * 8;
        break;
    default:
        break;
    }
    if (!width)
        return zarrc_error_set(ZARRC_EINVAL, "data type '%s' is not supported (float, complex "
                               "or integer expected)", dt->name);
    if (mantissa && keep > mantissa)
        return zarrc_error_set(ZARRC_EINVAL, "'keepbits' (%lld) exceeds the %d mantissa bits of "
                               "%s", (long long)keep, mantissa, dt->name);
    bitround_state *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    s->keepbits = keep;
    s->width = width;
    s->mantissa = mantissa;
    *state = s;
    return ZARRC_OK;
}

static void bitround_destroy(void *state) { free(state); }

static int bitround_to_json(const void *state, int format, zarrc_json *config)
{
    const bitround_state *s = state;
    return zarrc_json_put_int(config, "keepbits", s->keepbits);
}

static uint64_t load_unit(const uint8_t *p, unsigned width)
{
    switch (width) {
    case 8: return *p;
    case 16: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 32: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
}

static void store_unit(uint8_t *p, unsigned width, uint64_t x)
{
    switch (width) {
    case 8: *p = (uint8_t)x; break;
    case 16: { uint16_t v = (uint16_t)x; memcpy(p, &v, 2); break; }
    case 32: { uint32_t v = (uint32_t)x; memcpy(p, &v, 4); break; }
    default: memcpy(p, &x, 8); break;
    }
}

/* Round away the low `maskbits` bits of b, half to even. `saturate`: clamp at all-ones instead
 * of wrapping (integers); floats wrap like numcodecs' signed arithmetic. */
static uint64_t round_bits(uint64_t b, unsigned maskbits, unsigned width, bool saturate)
{
    uint64_t all = width == 64 ? UINT64_MAX : (UINT64_C(1) << width) - 1;
    if (maskbits == 0)
        return b;
    if (maskbits >= width)
        return 0;
    uint64_t mask = (all << maskbits) & all;
    uint64_t inc = ((b >> maskbits) & 1) + ((UINT64_C(1) << (maskbits - 1)) - 1);
    uint64_t sum = b + inc;
    if (saturate && (sum > all || sum < b))
        sum = all;
    return sum & mask;
}

static int bitround_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                           size_t in_size, zarrc_buf *out)
{
    const bitround_state *s = state;
    size_t total;
    int rc = zarrc__repr_bytes(call->decoded, &total);
    if (rc || (rc = zarrc__check_size(in_size, total, false)) ||
        (rc = zarrc_buf_reserve(out, total)))
        return rc;
    unsigned w = s->width, ub = w / 8;
    size_t n = total / ub;
    for (size_t i = 0; i < n; i++) {
        uint64_t b = load_unit(in + i * ub, w);
        if (s->mantissa) {
            /* NaN payloads are kept: rounding them could carry into the sign bit. */
            uint64_t expmask = ((UINT64_C(1) << (w - 1 - s->mantissa)) - 1) << s->mantissa;
            uint64_t manmask = (UINT64_C(1) << s->mantissa) - 1;
            if (!((b & expmask) == expmask && (b & manmask)))
                b = round_bits(b, (unsigned)(s->mantissa - s->keepbits), w, false);
        } else {
            unsigned nbits = b ? 64 - (unsigned)__builtin_clzll(b) : 0;
            if ((uint64_t)s->keepbits < nbits)
                b = round_bits(b, nbits - (unsigned)s->keepbits, w, true);
        }
        store_unit(out->data + i * ub, w, b);
    }
    out->size = total;
    return ZARRC_OK;
}

static int bitround_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                           size_t in_size, zarrc_buf *out)
{
    size_t total;
    int rc = zarrc__repr_bytes(call->decoded, &total);
    if (rc || (rc = zarrc__check_size(in_size, total, true)) ||
        (rc = zarrc_buf_reserve(out, total)))
        return rc;
    if (total && out->data != in)
        memcpy(out->data, in, total);
    out->size = total;
    return ZARRC_OK;
}

/* Written as "numcodecs.bitround": zarr-python 3 knows only that name (zarrita both). */
static const char *const bitround_aliases[] = {"bitround", NULL};

const zarrc_codec_type zarrc__codec_bitround = {
    ZARRC_CODEC_TYPE_VERSION, "numcodecs.bitround", "bitround", bitround_aliases, ZARRC_CODEC_ARRAY_TO_ARRAY,
    bitround_create, bitround_destroy, bitround_to_json, bitround_encode, bitround_decode,
};
