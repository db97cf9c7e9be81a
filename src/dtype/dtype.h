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
    return dt->kind == ZARRC_DTYPE_STRING || dt->kind == ZARRC_DTYPE_VBYTES;
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

#endif
