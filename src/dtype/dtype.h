/*
 * dtype.h — data types: parse either format's spelling, emit each format's spelling, and the
 * fill value's JSON encoding in both directions.
 */
#ifndef ZARRC_DTYPE_H
#define ZARRC_DTYPE_H

#include "../core/core.h"

/** Parse a data type from JSON (v3 name string or object, or a v2 typestr). For a v2 "|O" the
 *  kind is ZARRC_DTYPE_STRING; the caller refines it from the object codec. */
ZARRC_HIDDEN int zarrc__dtype_from_json(zarrc_dtype_info *out, const json_object *v);

/** v3 data_type JSON (string or extension object). NULL on allocation failure. */
ZARRC_HIDDEN json_object *zarrc__dtype_to_json_v3(const zarrc_dtype_info *dt);

/** True for types whose elements are zarrc_vref in array representations. */
static inline bool zarrc__dtype_is_vlen(const zarrc_dtype_info *dt)
{
    return dt->kind == ZARRC_DTYPE_STRING || dt->kind == ZARRC_DTYPE_VBYTES ||
           dt->kind == ZARRC_DTYPE_OBJECT;
}

/** An object codec refines a v2 "|O" data type (parsed as a string): json2 and msgpack2 make
 *  it an object array of JSON texts, vlen-array one of typed arrays (codec `id`, or a v3
 *  "numcodecs.<id>" name). Returns true if it changed `dt`; other codecs leave it alone. */
ZARRC_HIDDEN bool zarrc__dtype_object_codec(zarrc_dtype_info *dt, const char *codec);

/** True for object arrays whose elements are typed arrays (vlen-array): their fill element is
 *  the empty array whatever the stored fill value (a JSON text for the others). */
static inline bool zarrc__dtype_object_arrays(const zarrc_dtype_info *dt)
{
    return dt->kind == ZARRC_DTYPE_OBJECT && !strcmp(dt->unit, "array");
}

/** Size in bytes of one byte-order unit of the type (1 = order does not matter). */
ZARRC_HIDDEN size_t zarrc__dtype_swap_width(const zarrc_dtype_info *dt);

/** A fill value: one element in native order (fixed-size types), or the content bytes of a
 *  variable-length element. `is_null` is the v2 "no fill value" (reads as zero bytes). */
typedef struct zarrc__fill {
    bool is_null;
    uint8_t *bytes;
    size_t size;
} zarrc__fill;

/** Decode fill value JSON for `dt` as written in `format` (lenient forms accepted). A JSON
 *  null is the default of the type in v3... except where the caller forbids it.
 *  ZARRC_EDTYPE with a message naming the value and type when it cannot be represented. */
ZARRC_HIDDEN int zarrc__fill_parse(zarrc__fill *out, const zarrc_dtype_info *dt, const json_object *v,
                                   int format);
/** The default fill of a type (zeros, false, ""). */
ZARRC_HIDDEN int zarrc__fill_default(zarrc__fill *out, const zarrc_dtype_info *dt);
/** JSON encoding of a fill value for `format` (NULL on allocation failure). */
ZARRC_HIDDEN json_object *zarrc__fill_to_json(const zarrc__fill *f, const zarrc_dtype_info *dt, int format);
ZARRC_HIDDEN void zarrc__fill_clear(zarrc__fill *f);
ZARRC_HIDDEN int zarrc__fill_copy(zarrc__fill *dst, const zarrc__fill *src);

/** JSON for one floating value of `size` bytes (2, 4, 8) with v3 rules (NaN payloads as hex
 *  when `hex_nan`). Shared by fill values and data output. */
ZARRC_HIDDEN json_object *zarrc__float_to_json(const void *p, size_t size, bool hex_nan);

/** UTF-8 <-> UTF-32 (code points as uint32 native). utf8_to_utf32 fails with ZARRC_EINVAL on
 *  invalid UTF-8 or more than `max` code points; the output is zero-padded to max. */
ZARRC_HIDDEN int zarrc__utf8_to_utf32(uint32_t *out, size_t max, const char *s, size_t len);
/** malloc'd UTF-8 of up to n code points, stopping at the first U+0000. */
ZARRC_HIDDEN char *zarrc__utf32_to_utf8(const uint32_t *cp, size_t n, size_t *len);

/* ---- 8/6/4-bit floats (minifloat.c) ---- */

/** One small float format (float8_*, float6_*, float4_*); opaque. */
typedef struct zarrc__minifloat zarrc__minifloat;
/** The format of a small float type or of the components of its complex variant
 *  ("complex_float8_e4m3"); NULL for other names. */
ZARRC_HIDDEN const zarrc__minifloat *zarrc__minifloat_find(const char *name);
ZARRC_HIDDEN const char *zarrc__minifloat_name(const zarrc__minifloat *f);
/** Bits of the code (8, 6 or 4); one byte holds it in memory, upper bits zero. */
ZARRC_HIDDEN unsigned zarrc__minifloat_bits(const zarrc__minifloat *f);
ZARRC_HIDDEN bool zarrc__minifloat_has_nan(const zarrc__minifloat *f);
ZARRC_HIDDEN bool zarrc__minifloat_has_inf(const zarrc__minifloat *f);
/** The code the READMEs give for "NaN" (0 when the type has none). */
ZARRC_HIDDEN uint8_t zarrc__minifloat_nan(const zarrc__minifloat *f);
/** False when a byte has bits set above the code's width. */
ZARRC_HIDDEN bool zarrc__minifloat_valid(const zarrc__minifloat *f, uint8_t b);
/** Exact value of a code (bits above the width ignored). */
ZARRC_HIDDEN double zarrc__minifloat_to_double(const zarrc__minifloat *f, uint8_t b);
/** Round to nearest (ties to even; E8M0 ties up); overflow gives infinity (IEEE-like types),
 *  NaN (fnuz, e8m0) or the largest value (float6/float4), as ml_dtypes does. ZARRC_EINVAL
 *  (no message) for NaN or an infinity on a type with neither. */
ZARRC_HIDDEN int zarrc__minifloat_from_double(const zarrc__minifloat *f, double d, uint8_t *out);
/** False for a finite number that rounds past the largest value (or, float8_e8m0fnu, is <= 0):
 *  a fill value or CLI input the type cannot hold, refused rather than saturated or made NaN. */
ZARRC_HIDDEN bool zarrc__minifloat_in_range(const zarrc__minifloat *f, double d);
/** Shortest decimal text converting back to the same code, or "NaN"/"Infinity"/"-Infinity";
 *  buf holds >= 32 bytes. */
ZARRC_HIDDEN void zarrc__minifloat_format(char *buf, size_t n, const zarrc__minifloat *f, uint8_t b);

/** Bits used per component in memory for sub-byte types (int2/uint2: 2, int4/uint4: 4,
 *  float6_*: 6, float4_*: 4, their complex variants likewise); 0 for every other type. */
ZARRC_HIDDEN unsigned zarrc__dtype_subbyte_bits(const zarrc_dtype_info *dt);

#endif
