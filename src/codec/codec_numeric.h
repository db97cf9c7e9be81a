/*
 * codec_numeric.h — helpers shared by the array-side codecs: element counts, size checks,
 * dtype options in configurations, and NumPy-compatible element conversion.
 *
 * Numeric filters (delta, fixedscaleoffset, quantize, astype, bitround) work on elements of a
 * small set of machine kinds. A value is loaded exactly (integers as 64-bit, floats as double)
 * and stored with NumPy's C-style casting: integers wrap, float -> int truncates like x86
 * (out-of-range gives the "integer indefinite" value), float -> float rounds to nearest even.
 */
#ifndef ZARRC_CODEC_NUMERIC_H
#define ZARRC_CODEC_NUMERIC_H

#include "codec.h"

/* ---- representations ---- */

/** Number of elements of a representation (1 for 0-d); ZARRC_EINVAL on overflow. */
ZARRC_HIDDEN int zarrc__repr_count(const zarrc_repr *r, size_t *n);
/** Bytes of a representation (count * element size); ZARRC_EINVAL on overflow. */
ZARRC_HIDDEN int zarrc__repr_bytes(const zarrc_repr *r, size_t *n);
/** Check that a call's input holds exactly `expected` bytes: ZARRC_ECORRUPT when decoding
 *  ("expected N bytes, got M"), ZARRC_EINVAL when encoding. */
ZARRC_HIDDEN int zarrc__check_size(size_t got, size_t expected, bool decoding);

/** Start an element-wise filter call: *n = element count of call->decoded; the input must
 *  hold n elements of `in_es` bytes (else ZARRC_ECORRUPT when decoding, ZARRC_EINVAL when
 *  encoding) and `out` gets room for n elements of `out_es` bytes. */
ZARRC_HIDDEN int zarrc__filter_begin(const zarrc_codec_call *call, size_t in_size, size_t in_es, size_t out_es,
                                     bool decoding, zarrc_buf *out, size_t *n);

/* ---- numeric kinds ---- */

typedef enum zarrc__num {
    ZARRC__NUM_NONE = 0,
    ZARRC__NUM_BOOL,
    ZARRC__NUM_I8, ZARRC__NUM_I16, ZARRC__NUM_I32, ZARRC__NUM_I64,
    ZARRC__NUM_U8, ZARRC__NUM_U16, ZARRC__NUM_U32, ZARRC__NUM_U64,
    ZARRC__NUM_F16, ZARRC__NUM_F32, ZARRC__NUM_F64
} zarrc__num;

/** Kind of a data type: bool, int, uint, float; datetime/timedelta count as int64. Anything
 *  else (complex, strings, raw) is ZARRC__NUM_NONE. */
ZARRC_HIDDEN zarrc__num zarrc__num_of(const zarrc_dtype_info *dt);
ZARRC_HIDDEN size_t zarrc__num_size(zarrc__num k);
static inline bool zarrc__num_is_float(zarrc__num k)
{
    return k >= ZARRC__NUM_F16 && k <= ZARRC__NUM_F64;
}
static inline bool zarrc__num_is_signed(zarrc__num k)
{
    return k >= ZARRC__NUM_I8 && k <= ZARRC__NUM_I64;
}

/** One loaded element. `cls` says which member holds it. */
typedef enum { ZARRC__VAL_INT, ZARRC__VAL_UINT, ZARRC__VAL_FLOAT } zarrc__val_cls;
typedef struct zarrc__val {
    zarrc__val_cls cls;
    union {
        int64_t i;
        uint64_t u;
        double f;
    };
} zarrc__val;

/** Load element `p` (native order) of kind k. Bool loads as an int 0/1. */
ZARRC_HIDDEN zarrc__val zarrc__num_load(zarrc__num k, const void *p);
/** Store v into element `p` of kind k with NumPy C-style casting. */
ZARRC_HIDDEN void zarrc__num_store(zarrc__num k, void *p, zarrc__val v);
/** v cast to kind k and loaded back (e.g. wrap an integer to the width of k). */
ZARRC_HIDDEN zarrc__val zarrc__num_cast(zarrc__num k, zarrc__val v);
/** Value as double (C conversion). */
ZARRC_HIDDEN double zarrc__val_double(zarrc__val v);
static inline zarrc__val zarrc__val_f(double f)
{
    zarrc__val v;
    v.cls = ZARRC__VAL_FLOAT;
    v.f = f;
    return v;
}
/** Round x to the precision of float kind k (identity for F64 and non-float kinds). Doing
 *  each +,-,*,/ in double and rounding the result equals doing it in float32 / float16. */
ZARRC_HIDDEN double zarrc__num_round(zarrc__num k, double x);
/** Convert n elements of kind sk at src to kind dk at dst (NumPy astype). */
ZARRC_HIDDEN void zarrc__num_convert(zarrc__num dk, void *dst, zarrc__num sk, const void *src,
                                     size_t n);

/** IEEE binary16 from double, rounding once to nearest even (no detour through float). */

/* ---- configuration helpers ---- */

/** Optional dtype member `key` of a configuration: absent or null gives *dflt (if dflt is
 *  NULL the member is required). ZARRC_EINVAL naming the key if it is not a known type. */
ZARRC_HIDDEN int zarrc__config_dtype(const zarrc_json *cfg, const char *key,
                                     const zarrc_dtype_info *dflt, zarrc_dtype_info *out);
/** Write a dtype member as a NumPy typestr ("<i4"). */
ZARRC_HIDDEN int zarrc__config_put_dtype(zarrc_json *cfg, const char *key, const zarrc_dtype_info *dt);
/** The numeric kind of a filter's dtype option, checking that its element size equals that
 *  of the representation the codec sees (numcodecs views the chunk as this dtype).
 *  ZARRC_EINVAL naming `key` on mismatch or a non-numeric type. */
ZARRC_HIDDEN int zarrc__config_num(const zarrc_dtype_info *dt, const char *key,
                                   const zarrc_repr *input, zarrc__num *out);

#endif
