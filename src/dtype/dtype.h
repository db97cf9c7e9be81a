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

/** True for registered variable-length user types (ZARRC_DTYPE_VARIABLE_LENGTH): kind USER
 *  with a registered type and item size 0 (an unknown type has no `user`). */
static inline bool zarrc__dtype_is_user_vlen(const zarrc_dtype_info *dt)
{
    return dt->kind == ZARRC_DTYPE_USER && dt->user && dt->item_size == 0;
}

/** True for an optional type (zarrs.optional) whose inner type is string or bytes: its
 *  elements are zarrc_vref like the inner type's, a missing one is zarrc__vref_missing(). */
static inline bool zarrc__dtype_is_optional_vlen(const zarrc_dtype_info *dt)
{
    return dt->kind == ZARRC_DTYPE_OPTIONAL && dt->inner &&
           (dt->inner->kind == ZARRC_DTYPE_STRING || dt->inner->kind == ZARRC_DTYPE_VBYTES);
}

/** True for types whose elements are zarrc_vref in array representations. */
static inline bool zarrc__dtype_is_vlen(const zarrc_dtype_info *dt)
{
    return dt->kind == ZARRC_DTYPE_STRING || dt->kind == ZARRC_DTYPE_VBYTES ||
           dt->kind == ZARRC_DTYPE_OBJECT || zarrc__dtype_is_user_vlen(dt) || zarrc__dtype_is_optional_vlen(dt);
}

/** Byte-string elements the vlen-bytes family of codecs (vlen-bytes, vlen-utf8, zarrs.vlen,
 *  zarrs.vlen_v2) can store: string, bytes and variable-length user types. */
static inline bool zarrc__dtype_is_byte_strings(const zarrc_dtype_info *dt)
{
    return dt->kind == ZARRC_DTYPE_STRING || dt->kind == ZARRC_DTYPE_VBYTES || zarrc__dtype_is_user_vlen(dt);
}

/** The marker byte a missing element's vref points at (vlen.c; never read or written). */
ZARRC_HIDDEN extern const uint8_t zarrc__vref_missing_mark[1];

/** A missing element of an optional variable-length type in array representations: empty
 *  (len 0, so code unaware of it sees ""), told apart from a present "" by its pointer. */
static inline zarrc_vref zarrc__vref_missing(void)
{
    return (zarrc_vref){zarrc__vref_missing_mark, 0};
}

static inline bool zarrc__vref_is_missing(const zarrc_vref *v)
{
    return v->ptr == zarrc__vref_missing_mark;
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

/** Pack n variable-length elements (refs, borrowed) into *v: one new buffer and n + 1 offsets
 *  (vlen.c). Returns ZARRC_OK or ZARRC_ENOMEM (*v cleared). Thread-safe (no shared state). */
ZARRC_HIDDEN int zarrc__vlen_pack(zarrc_vlen *v, const zarrc_vref *refs, int64_t n);
/** Like zarrc__vlen_pack, and also sets v->mask (n bytes, 1 present, 0 missing: the
 *  zarrc__vref_missing elements, packed as empty items) for optional variable-length types. */
ZARRC_HIDDEN int zarrc__vlen_pack_mask(zarrc_vlen *v, const zarrc_vref *refs, int64_t n);
/** The n elements of *v as a new array of zarrc_vref pointing into v's buffer (free it;
 *  v must outlive it), after checking that v holds n values with consistent offsets.
 *  ZARRC_EINVAL with a message otherwise, ZARRC_ENOMEM. */
ZARRC_HIDDEN int zarrc__vlen_refs(zarrc_vref **out, const zarrc_vlen *v, int64_t n);
/** Like zarrc__vlen_refs for an optional variable-length type: item i with v->mask[i] == 0 is
 *  zarrc__vref_missing() (its bytes, which must be empty, are not read); mask NULL = all present.
 *  ZARRC_EINVAL when a missing item has bytes (they would be lost). */
ZARRC_HIDDEN int zarrc__vlen_refs_mask(zarrc_vref **out, const zarrc_vlen *v, int64_t n);

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

/** The v2 "dtype" value: a typestr string, or the field list of a struct (byte order: the
 *  fields' own, big_endian forcing '>' on multi-byte ones). ZARRC_EDTYPE if v2 cannot spell it. */
ZARRC_HIDDEN int zarrc__dtype_to_json_v2(json_object **out, const zarrc_dtype_info *dt, bool big_endian);
/** Same type (byte order aside): name, size, and for structs the fields. */
ZARRC_HIDDEN bool zarrc__dtype_equal(const zarrc_dtype_info *a, const zarrc_dtype_info *b);

/* ---- user-defined data types (dtype_user.c) ---- */

typedef struct zarrc__user_inst zarrc__user_inst;
/** A registered type named `name` (v3 name, or with v2 one of its v2 spellings) with
 *  configuration `cfg` (may be NULL); ZARRC_ENOTFOUND (no error set) if none is registered. */
ZARRC_HIDDEN int zarrc__user_from_json(zarrc_dtype_info *dt, const char *name, const json_object *cfg, bool v2);
ZARRC_HIDDEN json_object *zarrc__user_to_json_v3(const zarrc_dtype_info *dt);
ZARRC_HIDDEN const char *zarrc__user_v2_name(const zarrc_dtype_info *dt);
ZARRC_HIDDEN size_t zarrc__user_swap_width(const zarrc_dtype_info *dt);
/** v3 name of the type's default array->bytes codec. */
ZARRC_HIDDEN const char *zarrc__user_default_codec(const zarrc_dtype_info *dt);
ZARRC_HIDDEN int zarrc__user_fill_parse(uint8_t *p, const zarrc_dtype_info *dt, const json_object *v, int format);
ZARRC_HIDDEN json_object *zarrc__user_fill_to_json(const uint8_t *p, const zarrc_dtype_info *dt, int format);
/** Variable-length user types: the fill value's bytes through vfill_from_json (and validate)
 *  into f (null: the empty element); ZARRC_EDTYPE naming the value and type. */
ZARRC_HIDDEN int zarrc__user_vfill_parse(zarrc__fill *f, const zarrc_dtype_info *dt, const json_object *v, int format);
ZARRC_HIDDEN json_object *zarrc__user_vfill_to_json(const uint8_t *p, size_t n, const zarrc_dtype_info *dt,
                                                   int format);
/** True for a variable-length user type with a validate hook. */
ZARRC_HIDDEN bool zarrc__user_has_validate(const zarrc_dtype_info *dt);
/** Run the type's validate hook on n elements: ZARRC_EDTYPE naming the first bad element's
 *  index (the caller adds the chunk); ZARRC_OK for other types or without a hook. Elements
 *  equal to `fill` (the array's fill element; NULL = the empty element) are not checked: a
 *  fill value was checked when parsed, and a null one (the empty element) is the type's
 *  default, which partially written chunks must be able to hold. */
ZARRC_HIDDEN int zarrc__user_validate(const zarrc_dtype_info *dt, const zarrc_vref *elems, size_t n,
                                      const zarrc_vref *fill);
/** True for the names of built-in types (int8, float8_e4m3, r16, string, ...). */
ZARRC_HIDDEN bool zarrc__dtype_is_core_name(const char *name);
/** An unknown data type (kind USER, no registered type, item size 0): arrays with it open for
 *  their metadata; building their codecs fails with a message naming it. */
ZARRC_HIDDEN void zarrc__dtype_unknown(zarrc_dtype_info *dt, const json_object *v);
static inline bool zarrc__dtype_is_unknown(const zarrc_dtype_info *dt)
{
    return dt->kind == ZARRC_DTYPE_USER && !dt->user;
}

/* ---- zarrs' optional type (dtype_optional.c) ---- */

/** "zarrs.optional" or zarrs' earlier "optional". */
ZARRC_HIDDEN bool zarrc__dtype_is_optional_name(const char *name);
/** Parse the configuration {"name", "configuration"} of an optional type (inner interned).
 *  ZARRC_EDTYPE / ZARRC_EUNSUPPORTED (variable-length inner) with a message. */
ZARRC_HIDDEN int zarrc__optional_from_json_v3(zarrc_dtype_info *dt, const json_object *cfg);
ZARRC_HIDDEN json_object *zarrc__optional_to_json_v3(const zarrc_dtype_info *dt);
/** Fill value null (missing) or [inner] into *f (already holding the type's default): for a
 *  fixed-size inner type item_size bytes (inner element + mask byte); for a string or bytes
 *  inner type the content bytes followed by one mask byte (size = content + 1). */
ZARRC_HIDDEN int zarrc__optional_fill_parse(zarrc__fill *f, const zarrc_dtype_info *dt, const json_object *v,
                                            int format);
/** NULL (JSON null) for a missing value, else [inner]; NULL also on allocation failure (check
 *  zarrc__optional_fill_is_null). */
ZARRC_HIDDEN json_object *zarrc__optional_fill_to_json(const zarrc__fill *f, const zarrc_dtype_info *dt, int format);
ZARRC_HIDDEN bool zarrc__optional_fill_is_null(const zarrc__fill *f, const zarrc_dtype_info *dt);

/* ---- records (dtype_struct.c) ---- */

/** Parse a field table into an owned tree (free with zarrc__struct_free): the v2 list form,
 *  or a v3 "struct"/"structured" configuration. ZARRC_EDTYPE with a message naming the field. */
ZARRC_HIDDEN int zarrc__struct_parse_v2(zarrc_dtype_fields **out, const json_object *list);
ZARRC_HIDDEN int zarrc__struct_parse_v3(zarrc_dtype_fields **out, const char *name, const json_object *cfg);
ZARRC_HIDDEN void zarrc__struct_free(zarrc_dtype_fields *t);
/** Intern an owned tree (consumed, also on failure) into the shared table. */
ZARRC_HIDDEN int zarrc__struct_intern(const zarrc_dtype_fields **out, zarrc_dtype_fields *t);
/** Parse and intern: a STRUCT zarrc_dtype_info. */
ZARRC_HIDDEN int zarrc__struct_from_json_v2(zarrc_dtype_info *dt, const json_object *list);
ZARRC_HIDDEN int zarrc__struct_from_json_v3(zarrc_dtype_info *dt, const char *name, const json_object *cfg);
ZARRC_HIDDEN json_object *zarrc__struct_to_json_v3(const zarrc_dtype_fields *t);
ZARRC_HIDDEN int zarrc__struct_to_json_v2(json_object **out, const zarrc_dtype_fields *t, bool big);
/** True if a field (at any depth) is a sub-array (v3 cannot spell those). */
ZARRC_HIDDEN bool zarrc__struct_has_subarray(const zarrc_dtype_fields *t);
/** Between native order and storage order: `order` -1 = each field's own (v2), 0 = little,
 *  1 = big for every multi-byte word (v3 bytes codec). Its own inverse. */
ZARRC_HIDDEN void zarrc__struct_swap(const zarrc_dtype_fields *t, uint8_t *data, size_t nelem, int order);
/** The fields' common (v2) byte order: 0 little, 1 big, -1 mixed, -2 no multi-byte word. */
ZARRC_HIDDEN int zarrc__struct_field_order(const zarrc_dtype_fields *t);
ZARRC_HIDDEN bool zarrc__struct_needs_swap(const zarrc_dtype_fields *t, int order);
ZARRC_HIDDEN int zarrc__struct_fill_parse(uint8_t *p, const zarrc_dtype_info *dt, const json_object *v, int format);
ZARRC_HIDDEN json_object *zarrc__struct_fill_to_json(const uint8_t *p, const zarrc_dtype_info *dt, int format);
ZARRC_HIDDEN bool zarrc__struct_equal(const zarrc_dtype_info *a, const zarrc_dtype_info *b);

#endif
