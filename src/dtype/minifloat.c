/* minifloat.c — the 8-, 6- and 4-bit floating types of zarr-extensions (float8_*, float6_*,
 * float4_*): exact decoding of every code, round-to-nearest conversion from double with the
 * overflow rules of ml_dtypes (the reference the registry's READMEs name), and the shortest
 * decimal text that converts back to the same code. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "dtype.h"

/* Finite-only styles differ in where NaN lives. */
enum {
    MF_IEEE = 1, /* largest exponent: infinities (mantissa 0) and NaNs */
    MF_FNUZ,     /* no infinity, no negative zero, NaN = 0x80 */
    MF_FN,       /* no infinity, no NaN (float6/float4): overflow saturates */
    MF_E8M0,     /* unsigned exponent only; 0xff = NaN, no zero */
};

struct zarrc__minifloat {
    const char *name;
    int ebits, mbits, bias, style;
};

static const zarrc__minifloat formats[] = {
    {"float8_e4m3", 4, 3, 7, MF_IEEE},         {"float8_e5m2", 5, 2, 15, MF_IEEE},
    {"float8_e3m4", 3, 4, 3, MF_IEEE},         {"float8_e4m3fnuz", 4, 3, 8, MF_FNUZ},
    {"float8_e4m3b11fnuz", 4, 3, 11, MF_FNUZ}, {"float8_e5m2fnuz", 5, 2, 16, MF_FNUZ},
    {"float8_e8m0fnu", 8, 0, 127, MF_E8M0},    {"float6_e2m3fn", 2, 3, 1, MF_FN},
    {"float6_e3m2fn", 3, 2, 3, MF_FN},         {"float4_e2m1fn", 2, 1, 1, MF_FN},
};

const zarrc__minifloat *zarrc__minifloat_find(const char *name)
{
    if (!strncmp(name, "complex_", 8))
        name += 8;
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
        if (!strcmp(formats[i].name, name))
            return &formats[i];
    return NULL;
}

const char *zarrc__minifloat_name(const zarrc__minifloat *f) { return f->name; }

unsigned zarrc__minifloat_bits(const zarrc__minifloat *f)
{
    return f->style == MF_E8M0 ? 8u : (unsigned)(1 + f->ebits + f->mbits);
}

bool zarrc__minifloat_has_nan(const zarrc__minifloat *f) { return f->style != MF_FN; }
bool zarrc__minifloat_has_inf(const zarrc__minifloat *f) { return f->style == MF_IEEE; }

uint8_t zarrc__minifloat_nan(const zarrc__minifloat *f)
{
    switch (f->style) {
    case MF_IEEE: /* exponent all ones, top mantissa bit: 0x7c, 0x7e, 0x78 */
        return (uint8_t)((((1u << f->ebits) - 1) << f->mbits) | (1u << (f->mbits - 1)));
    case MF_FNUZ: return 0x80;
    case MF_E8M0: return 0xff;
    default: return 0;
    }
}

bool zarrc__minifloat_valid(const zarrc__minifloat *f, uint8_t b)
{
    return zarrc__minifloat_bits(f) == 8 || (b >> zarrc__minifloat_bits(f)) == 0;
}

double zarrc__minifloat_to_double(const zarrc__minifloat *f, uint8_t b)
{
    unsigned bits = zarrc__minifloat_bits(f);
    if (bits < 8)
        b &= (uint8_t)((1u << bits) - 1); /* the upper bits are ignored */
    if (f->style == MF_E8M0)
        return b == 0xff ? NAN : ldexp(1.0, (int)b - 127);
    if (f->style == MF_FNUZ && b == 0x80)
        return NAN;
    bool neg = (b >> (bits - 1)) & 1;
    unsigned emask = (1u << f->ebits) - 1, e = (b >> f->mbits) & emask, m = b & ((1u << f->mbits) - 1);
    double v;
    if (f->style == MF_IEEE && e == emask)
        v = m ? NAN : INFINITY;
    else if (e == 0)
        v = ldexp((double)m, 1 - f->bias - f->mbits);
    else
        v = ldexp((double)(m | (1u << f->mbits)), (int)e - f->bias - f->mbits);
    return neg ? -v : v;
}

/* Number of non-negative finite codes; codes 0 .. n-1 increase in value. */
static unsigned positive_codes(const zarrc__minifloat *f)
{
    unsigned bits = zarrc__minifloat_bits(f);
    switch (f->style) {
    case MF_IEEE: return ((1u << f->ebits) - 1) << f->mbits;
    case MF_E8M0: return 255;
    default: return 1u << (bits - 1);
    }
}

int zarrc__minifloat_from_double(const zarrc__minifloat *f, double d, uint8_t *out)
{
    unsigned bits = zarrc__minifloat_bits(f);
    uint8_t sign = f->style == MF_E8M0 ? 0 : (uint8_t)(1u << (bits - 1));
    if (isnan(d)) {
        if (f->style == MF_FN)
            return ZARRC_EINVAL;
        *out = zarrc__minifloat_nan(f);
        if (f->style == MF_IEEE && signbit(d))
            *out |= sign;
        return ZARRC_OK;
    }
    bool neg = signbit(d) != 0;
    double a = fabs(d);
    if (f->style == MF_E8M0 && (neg || a == 0 || isinf(a))) {
        *out = 0xff; /* no sign, zero or infinity: NaN (as ml_dtypes) */
        return ZARRC_OK;
    }
    if (isinf(a) && f->style != MF_IEEE) {
        if (f->style == MF_FN)
            return ZARRC_EINVAL;
        *out = f->style == MF_FNUZ ? 0x80 : 0xff;
        return ZARRC_OK;
    }
    unsigned n = positive_codes(f), code;
    double max = zarrc__minifloat_to_double(f, (uint8_t)(n - 1));
    bool overflow = false;
    if (a >= max) {
        /* the next value the format would have past its largest one */
        double next = f->style == MF_E8M0 ? 2 * max : 2 * max - zarrc__minifloat_to_double(f, (uint8_t)(n - 2));
        double mid = (max + next) / 2;
        /* ties go to the even code; the largest code is odd except for E8M0 (ties up) */
        overflow = a > mid || (a == mid && ((n - 1) & 1 || f->style == MF_E8M0));
        code = n - 1;
    } else if (a < zarrc__minifloat_to_double(f, 0)) {
        code = 0; /* only E8M0 has a smallest value above zero */
    } else {
        unsigned lo = 0, hi = n - 1; /* value(lo) <= a < value(hi) */
        while (hi - lo > 1) {
            unsigned m = (lo + hi) / 2;
            if (zarrc__minifloat_to_double(f, (uint8_t)m) <= a)
                lo = m;
            else
                hi = m;
        }
        double vl = zarrc__minifloat_to_double(f, (uint8_t)lo), vh = zarrc__minifloat_to_double(f, (uint8_t)hi);
        double mid = vl + (vh - vl) / 2;
        if (a < mid)
            code = lo;
        else if (a > mid)
            code = hi;
        else
            code = f->style == MF_E8M0 ? hi : (lo & 1) ? hi : lo;
    }
    if (overflow) {
        switch (f->style) {
        case MF_IEEE: code = ((1u << f->ebits) - 1) << f->mbits; break; /* infinity */
        case MF_FNUZ: *out = 0x80; return ZARRC_OK;
        case MF_E8M0: *out = 0xff; return ZARRC_OK;
        default: break; /* MF_FN saturates */
        }
    }
    if (neg && !(f->style == MF_FNUZ && code == 0))
        code |= sign;
    *out = (uint8_t)code;
    return ZARRC_OK;
}

static double max_finite(const zarrc__minifloat *f)
{
    return zarrc__minifloat_to_double(f, (uint8_t)(positive_codes(f) - 1));
}

bool zarrc__minifloat_in_range(const zarrc__minifloat *f, double d)
{
    if (!isfinite(d))
        return true; /* NaN / infinities: the caller decides */
    double max = max_finite(f), a = fabs(d);
    if (f->style == MF_E8M0 && (d <= 0))
        return false;
    if (a <= max)
        return true;
    unsigned n = positive_codes(f);
    double next = f->style == MF_E8M0 ? 2 * max : 2 * max - zarrc__minifloat_to_double(f, (uint8_t)(n - 2));
    return a < (max + next) / 2; /* rounds to the largest value, not past it */
}

void zarrc__minifloat_format(char *buf, size_t n, const zarrc__minifloat *f, uint8_t b)
{
    (void)n; /* >= 32 by contract (zarrc__fmt_double's need) */
    double d = zarrc__minifloat_to_double(f, b);
    if (isnan(d)) {
        snprintf(buf, n, "NaN");
        return;
    }
    if (isinf(d)) {
        snprintf(buf, n, d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    /* the fewest significant digits that convert back to the same code, laid out as the
     * shortest double text of that decimal (so 0.1 and 1e-05 look like Python's repr) */
    uint8_t want = b, got;
    if (zarrc__minifloat_bits(f) < 8)
        want &= (uint8_t)((1u << zarrc__minifloat_bits(f)) - 1);
    for (int p = 1; p <= 17; p++) {
        char tmp[40];
        snprintf(tmp, sizeof tmp, "%.*g", p, d);
        double back = strtod(tmp, NULL);
        /* and within the range: float6/float4 saturate, so "-8" would give -7.5's code */
        if (fabs(back) <= max_finite(f) && zarrc__minifloat_from_double(f, back, &got) == ZARRC_OK &&
            got == want) {
            zarrc__fmt_double(buf, back);
            return;
        }
    }
    zarrc__fmt_double(buf, d);
}

/* ---- public wrappers ---- */

static const zarrc__minifloat *public_find(const char *type)
{
    const zarrc__minifloat *f = type ? zarrc__minifloat_find(type) : NULL;
    if (!f)
        zarrc_error_set(ZARRC_EDTYPE, "'%s' is not an 8-, 6- or 4-bit floating data type",
                        type ? type : "(null)");
    return f;
}

int zarrc_small_float_decode(const char *type, uint8_t byte, double *value)
{
    const zarrc__minifloat *f = public_find(type);
    if (!f)
        return ZARRC_EDTYPE;
    *value = zarrc__minifloat_to_double(f, byte);
    return ZARRC_OK;
}

int zarrc_small_float_encode(const char *type, double value, uint8_t *byte)
{
    const zarrc__minifloat *f = public_find(type);
    if (!f)
        return ZARRC_EDTYPE;
    if (zarrc__minifloat_from_double(f, value, byte))
        return zarrc_error_set(ZARRC_EINVAL, "%s cannot represent %s", f->name,
                               isnan(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
    return ZARRC_OK;
}

int zarrc_small_float_format(const char *type, uint8_t byte, char *buf, size_t bufsize)
{
    const zarrc__minifloat *f = public_find(type);
    if (!f)
        return ZARRC_EDTYPE;
    if (bufsize < 32)
        return zarrc_error_set(ZARRC_EINVAL, "buffer too small (32 bytes needed)");
    zarrc__minifloat_format(buf, bufsize, f, byte);
    return ZARRC_OK;
}
