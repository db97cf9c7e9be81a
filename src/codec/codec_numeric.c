/* codec_numeric.c — shared helpers of the array-side codecs (see codec_numeric.h). */
#include <math.h>

#include "codec_numeric.h"

/* ---- representations ---- */

int zarrc__repr_count(const zarrc_repr *r, size_t *n)
{
    size_t c = 1;
    if (r->ndim < 0 || r->ndim > ZARRC_MAX_DIMS)
        return zarrc_error_set(ZARRC_EINVAL, "invalid number of dimensions %d", r->ndim);
    for (int i = 0; i < r->ndim; i++) {
        if (r->shape[i] < 0 || (uint64_t)r->shape[i] > SIZE_MAX ||
            !zarrc__mul_size(c, (size_t)r->shape[i], &c))
            return zarrc_error_set(ZARRC_EINVAL, "invalid or too large chunk shape");
    }
    *n = c;
    return ZARRC_OK;
}

int zarrc__repr_bytes(const zarrc_repr *r, size_t *n)
{
    size_t c;
    int rc = zarrc__repr_count(r, &c);
    if (rc)
        return rc;
    if (!zarrc__mul_size(c, zarrc_dtype_elem_size(&r->dtype), n))
        return zarrc_error_set(ZARRC_EINVAL, "chunk of %zu elements is too large", c);
    return ZARRC_OK;
}

int zarrc__filter_begin(const zarrc_codec_call *call, size_t in_size, size_t in_es, size_t out_es,
                        bool decoding, zarrc_buf *out, size_t *n)
{
    size_t a, b;
    int rc = zarrc__repr_count(call->decoded, n);
    if (rc)
        return rc;
    if (!zarrc__mul_size(*n, in_es, &a) || !zarrc__mul_size(*n, out_es, &b))
        return zarrc_error_set(ZARRC_EINVAL, "chunk of %zu elements is too large", *n);
    if ((rc = zarrc__check_size(in_size, a, decoding)))
        return rc;
    return zarrc_buf_reserve(out, b);
}

int zarrc__check_size(size_t got, size_t expected, bool decoding)
{
    if (got == expected)
        return ZARRC_OK;
    return zarrc_error_set(decoding ? ZARRC_ECORRUPT : ZARRC_EINVAL, "expected %zu bytes, got %zu",
                           expected, got);
}

/* ---- numeric kinds ---- */

zarrc__num zarrc__num_of(const zarrc_dtype_info *dt)
{
    if (zarrc__dtype_subbyte_bits(dt)) /* int2/int4...: arithmetic could leave the range */
        return ZARRC__NUM_NONE;
    switch (dt->kind) {
    case ZARRC_DTYPE_BOOL:
        return dt->item_size == 1 ? ZARRC__NUM_BOOL : ZARRC__NUM_NONE;
    case ZARRC_DTYPE_INT:
        switch (dt->item_size) {
        case 1: return ZARRC__NUM_I8;
        case 2: return ZARRC__NUM_I16;
        case 4: return ZARRC__NUM_I32;
        case 8: return ZARRC__NUM_I64;
        }
        break;
    case ZARRC_DTYPE_UINT:
        switch (dt->item_size) {
        case 1: return ZARRC__NUM_U8;
        case 2: return ZARRC__NUM_U16;
        case 4: return ZARRC__NUM_U32;
        case 8: return ZARRC__NUM_U64;
        }
        break;
    case ZARRC_DTYPE_FLOAT:
        switch (dt->item_size) {
        case 2: return ZARRC__NUM_F16;
        case 4: return ZARRC__NUM_F32;
        case 8: return ZARRC__NUM_F64;
        }
        break;
    case ZARRC_DTYPE_DATETIME:
    case ZARRC_DTYPE_TIMEDELTA:
        return dt->item_size == 8 ? ZARRC__NUM_I64 : ZARRC__NUM_NONE;
    default:
        break;
    }
    return ZARRC__NUM_NONE;
}

size_t zarrc__num_size(zarrc__num k)
{
    switch (k) {
    case ZARRC__NUM_BOOL: case ZARRC__NUM_I8: case ZARRC__NUM_U8: return 1;
    case ZARRC__NUM_I16: case ZARRC__NUM_U16: case ZARRC__NUM_F16: return 2;
    case ZARRC__NUM_I32: case ZARRC__NUM_U32: case ZARRC__NUM_F32: return 4;
    case ZARRC__NUM_I64: case ZARRC__NUM_U64: case ZARRC__NUM_F64: return 8;
    default: return 0;
    }
}


/* x86 cvttsd2si: truncation, the "integer indefinite" value when out of range or NaN. */
static int64_t trunc_i64(double d)
{
    if (d >= -0x1p63 && d < 0x1p63)
        return (int64_t)d;
    return INT64_MIN;
}

static int32_t trunc_i32(double d)
{
    if (d > -2147483649.0 && d < 2147483648.0)
        return (int32_t)d;
    return INT32_MIN;
}

static uint64_t trunc_u64(double d)
{
    if (d >= 0x1p63) /* what compilers emit: convert d - 2^63 and flip the top bit */
        return (uint64_t)trunc_i64(d - 0x1p63) ^ (UINT64_C(1) << 63);
    return (uint64_t)trunc_i64(d);
}

zarrc__val zarrc__num_load(zarrc__num k, const void *p)
{
    zarrc__val v;
    v.cls = ZARRC__VAL_INT;
    switch (k) {
    case ZARRC__NUM_BOOL: v.i = *(const uint8_t *)p != 0; break;
    case ZARRC__NUM_I8: v.i = *(const int8_t *)p; break;
    case ZARRC__NUM_I16: { int16_t x; memcpy(&x, p, 2); v.i = x; break; }
    case ZARRC__NUM_I32: { int32_t x; memcpy(&x, p, 4); v.i = x; break; }
    case ZARRC__NUM_I64: memcpy(&v.i, p, 8); break;
    case ZARRC__NUM_U8: v.cls = ZARRC__VAL_UINT; v.u = *(const uint8_t *)p; break;
    case ZARRC__NUM_U16: { uint16_t x; memcpy(&x, p, 2); v.cls = ZARRC__VAL_UINT; v.u = x; break; }
    case ZARRC__NUM_U32: { uint32_t x; memcpy(&x, p, 4); v.cls = ZARRC__VAL_UINT; v.u = x; break; }
    case ZARRC__NUM_U64: v.cls = ZARRC__VAL_UINT; memcpy(&v.u, p, 8); break;
    case ZARRC__NUM_F16: {
        uint16_t h;
        memcpy(&h, p, 2);
        v.cls = ZARRC__VAL_FLOAT;
        v.f = zarrc_half_to_double(h);
        break;
    }
    case ZARRC__NUM_F32: { float x; memcpy(&x, p, 4); v.cls = ZARRC__VAL_FLOAT; v.f = x; break; }
    case ZARRC__NUM_F64: v.cls = ZARRC__VAL_FLOAT; memcpy(&v.f, p, 8); break;
    default: v.i = 0; break;
    }
    return v;
}

double zarrc__val_double(zarrc__val v)
{
    switch (v.cls) {
    case ZARRC__VAL_INT: return (double)v.i;
    case ZARRC__VAL_UINT: return (double)v.u;
    default: return v.f;
    }
}

/* Integer bits of a value for an integer target of the given size (two's complement). */
static uint64_t int_bits(zarrc__val v, size_t size)
{
    switch (v.cls) {
    case ZARRC__VAL_INT: return (uint64_t)v.i;
    case ZARRC__VAL_UINT: return v.u;
    default: break;
    }
    if (size <= 2)
        return (uint64_t)(int64_t)trunc_i32(v.f);
    return (uint64_t)trunc_i64(v.f);
}

void zarrc__num_store(zarrc__num k, void *p, zarrc__val v)
{
    switch (k) {
    case ZARRC__NUM_BOOL:
        *(uint8_t *)p = v.cls == ZARRC__VAL_FLOAT ? v.f != 0 : v.u != 0;
        break;
    case ZARRC__NUM_I8:
    case ZARRC__NUM_U8:
        *(uint8_t *)p = (uint8_t)int_bits(v, 1);
        break;
    case ZARRC__NUM_I16:
    case ZARRC__NUM_U16: {
        uint16_t x = (uint16_t)int_bits(v, 2);
        memcpy(p, &x, 2);
        break;
    }
    case ZARRC__NUM_I32: {
        uint32_t x = v.cls == ZARRC__VAL_FLOAT ? (uint32_t)trunc_i32(v.f) : (uint32_t)int_bits(v, 4);
        memcpy(p, &x, 4);
        break;
    }
    case ZARRC__NUM_U32: {
        uint32_t x = (uint32_t)int_bits(v, 4);
        memcpy(p, &x, 4);
        break;
    }
    case ZARRC__NUM_I64: {
        uint64_t x = int_bits(v, 8);
        memcpy(p, &x, 8);
        break;
    }
    case ZARRC__NUM_U64: {
        uint64_t x = v.cls == ZARRC__VAL_FLOAT ? trunc_u64(v.f) : int_bits(v, 8);
        memcpy(p, &x, 8);
        break;
    }
    case ZARRC__NUM_F16: {
        uint16_t h = zarrc_double_to_half(zarrc__val_double(v));
        memcpy(p, &h, 2);
        break;
    }
    case ZARRC__NUM_F32: {
        /* Convert integers directly: int64 -> double -> float could round twice. */
        float f = v.cls == ZARRC__VAL_INT ? (float)v.i : v.cls == ZARRC__VAL_UINT ? (float)v.u
                                                                                  : (float)v.f;
        memcpy(p, &f, 4);
        break;
    }
    case ZARRC__NUM_F64: {
        double d = zarrc__val_double(v);
        memcpy(p, &d, 8);
        break;
    }
    default:
        break;
    }
}

zarrc__val zarrc__num_cast(zarrc__num k, zarrc__val v)
{
    uint8_t tmp[8];
    zarrc__num_store(k, tmp, v);
    return zarrc__num_load(k, tmp);
}

double zarrc__num_round(zarrc__num k, double x)
{
    switch (k) {
    case ZARRC__NUM_F32: return (double)(float)x;
    case ZARRC__NUM_F16: return zarrc_half_to_double(zarrc_double_to_half(x));
    default: return x;
    }
}

void zarrc__num_convert(zarrc__num dk, void *dst, zarrc__num sk, const void *src, size_t n)
{
    size_t ds = zarrc__num_size(dk), ss = zarrc__num_size(sk);
    if (dk == sk) {
        if (n)
            memmove(dst, src, n * ds);
        return;
    }
    uint8_t *d = dst;
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++)
        zarrc__num_store(dk, d + i * ds, zarrc__num_load(sk, s + i * ss));
}

/* ---- configuration helpers ---- */

int zarrc__config_dtype(const zarrc_json *cfg, const char *key, const zarrc_dtype_info *dflt,
                        zarrc_dtype_info *out)
{
    const zarrc_json *v = zarrc_json_member(cfg, key);
    if (!v || zarrc_json_typeof(v) == ZARRC_JSON_NULL) {
        if (!dflt)
            return zarrc_error_set(ZARRC_EINVAL, "missing '%s'", key);
        *out = *dflt;
        return ZARRC_OK;
    }
    const char *s = zarrc_json_string(v);
    if (!s)
        return zarrc_error_set(ZARRC_EINVAL, "'%s' must be a data type string", key);
    if (zarrc_dtype_parse(out, s) != ZARRC_OK)
        return zarrc_error_set(ZARRC_EINVAL, "'%s': unknown data type '%s'", key, s);
    return ZARRC_OK;
}

int zarrc__config_put_dtype(zarrc_json *cfg, const char *key, const zarrc_dtype_info *dt)
{
    char buf[64];
    int rc = zarrc_dtype_v2_string(buf, sizeof buf, dt);
    if (rc)
        return rc;
    return zarrc_json_put_string(cfg, key, buf);
}

int zarrc__config_num(const zarrc_dtype_info *dt, const char *key, const zarrc_repr *input,
                      zarrc__num *out)
{
    zarrc__num k = zarrc__num_of(dt);
    if (k == ZARRC__NUM_NONE)
        return zarrc_error_set(ZARRC_EINVAL, "'%s': data type '%s' is not supported (bool, "
                               "integer or float expected)", key, dt->name);
    if (input && zarrc_dtype_elem_size(&input->dtype) != dt->item_size)
        return zarrc_error_set(ZARRC_EINVAL, "'%s' (%s) does not match the chunk data type '%s'",
                               key, dt->name, input->dtype.name);
    *out = k;
    return ZARRC_OK;
}
