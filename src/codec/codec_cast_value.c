/* codec_cast_value.c — the zarr-extensions `cast_value` array→array codec (ZE:codecs/cast_value/
 * README.md; spec digest extensions.md §6.1): converts each element's numerical value to
 * `data_type` (and back on decode), in the README's order:
 *   1. a `scalar_map` entry for the value (first pair wins; NaN keys match any NaN);
 *   2. a value the target holds exactly is kept;
 *   3. otherwise it is rounded per `rounding` (default nearest-even), then a value outside the
 *      target's range is handled per `out_of_range`: absent = error, "clamp" = the nearest finite
 *      extreme (±infinity for targets that have it), "wrap" = modulo 2^bits (integer targets).
 * NaN passes between types that have it; NaN or an infinity into a type without it is an error
 * (unless mapped); signed zero is kept where the target has one.
 *
 * Types (both sides): int2/int4/int8..int64, uint2/uint4/uint8..uint64, float16, bfloat16,
 * float32, float64, numpy.datetime64/timedelta64 (as int64), and the 8/6/4-bit floats except
 * float8_e8m0fnu (refused: no zero or sign,
 * its rounding is not settled here). Values are computed in long double (x86-64's 64-bit
 * significand holds every source value exactly, 64-bit integers included), so each conversion
 * rounds once.
 */
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "codec_numeric.h"
#include "../dtype/dtype.h"

#if LDBL_MANT_DIG < 64
#error "cast_value needs a long double of at least 64 significand bits (x86-64)"
#endif

typedef enum { T_INT, T_UINT, T_IEEE, T_MINI } tclass;

/* One side's type. */
typedef struct side {
    zarrc_dtype_info dt;
    tclass cls;
    unsigned bits;            /* integers: value bits (2, 4, 8..64) */
    size_t size;              /* bytes per element */
    /* IEEE binary formats (float16, bfloat16, float32, float64) */
    int p, emin;              /* significand bits incl. the implicit one; smallest normal exponent */
    long double max;          /* largest finite value */
    /* small floats */
    const zarrc__minifloat *mf;
    int nvals;                /* finite non-negative values, ascending, with their codes */
    long double vals[128];
    uint8_t codes[128];
} side;

typedef enum { R_EVEN, R_ZERO, R_POS, R_NEG, R_AWAY } rmode;

typedef struct mapent {
    bool is_nan;
    long double key;          /* value of the key (input side) */
    uint8_t out[8];           /* the mapped element (output side's bytes) */
} mapent;

typedef struct cv_state {
    side a, t;                /* array (decoded) side, target (encoded) side */
    rmode rounding;
    int oor;                  /* 0 none, 1 clamp, 2 wrap */
    json_object *dtype_json, *rounding_json, *oor_json, *map_json; /* as given, for to_json */
    mapent *enc, *dec;
    size_t nenc, ndec;
} cv_state;

static void cv_destroy(void *state)
{
    cv_state *s = state;
    if (!s)
        return;
    json_object_put(s->dtype_json);
    json_object_put(s->rounding_json);
    json_object_put(s->oor_json);
    json_object_put(s->map_json);
    free(s->enc);
    free(s->dec);
    free(s);
}

static int side_init(side *sd, const zarrc_dtype_info *dt, const char *what)
{
    memset(sd, 0, sizeof *sd);
    sd->dt = *dt;
    sd->size = dt->item_size;
    const char *n = dt->name;
    unsigned sub = zarrc__dtype_subbyte_bits(dt);
    if (dt->kind == ZARRC_DTYPE_DATETIME || dt->kind == ZARRC_DTYPE_TIMEDELTA) {
        sd->cls = T_INT; /* int64 counts of the unit (NaT is the most negative one) */
        sd->bits = 64;
        return ZARRC_OK;
    }
    if ((dt->kind == ZARRC_DTYPE_INT || dt->kind == ZARRC_DTYPE_UINT) && dt->item_size <= 8 &&
        (sub || !strncmp(n, "int", 3) || !strncmp(n, "uint", 4))) {
        sd->cls = dt->kind == ZARRC_DTYPE_INT ? T_INT : T_UINT;
        sd->bits = sub ? sub : (unsigned)(8 * dt->item_size);
        return ZARRC_OK;
    }
    if (dt->kind == ZARRC_DTYPE_FLOAT) {
        if (!strcmp(n, "float16") || !strcmp(n, "bfloat16") || !strcmp(n, "float32") || !strcmp(n, "float64")) {
            sd->cls = T_IEEE;
            if (!strcmp(n, "float16")) {
                sd->p = 11; sd->emin = -14; sd->max = 65504.0L;
            } else if (!strcmp(n, "bfloat16")) {
                sd->p = 8; sd->emin = -126; sd->max = ldexpl(255.0L, 120);
            } else if (!strcmp(n, "float32")) {
                sd->p = 24; sd->emin = -126; sd->max = FLT_MAX;
            } else {
                sd->p = 53; sd->emin = -1022; sd->max = DBL_MAX;
            }
            return ZARRC_OK;
        }
        const zarrc__minifloat *mf = zarrc__minifloat_find(n);
        if (mf && strcmp(n, "float8_e8m0fnu")) {
            sd->cls = T_MINI;
            sd->mf = mf;
            unsigned width = zarrc__minifloat_bits(mf);
            /* the finite non-negative values in ascending order (each code once; +0 first) */
            for (unsigned c = 0; c < (1u << width); c++) {
                double v = zarrc__minifloat_to_double(mf, (uint8_t)c);
                if (!isfinite(v) || v < 0 || signbit(v) || sd->nvals >= 128)
                    continue;
                int at = sd->nvals++;
                while (at > 0 && sd->vals[at - 1] > v) {
                    sd->vals[at] = sd->vals[at - 1];
                    sd->codes[at] = sd->codes[at - 1];
                    at--;
                }
                sd->vals[at] = v;
                sd->codes[at] = (uint8_t)c;
            }
            sd->max = sd->vals[sd->nvals - 1];
            return ZARRC_OK;
        }
    }
    return zarrc_error_set(ZARRC_EINVAL, "%s data type '%s' is not supported (integers, float16, bfloat16, "
                           "float32, float64 and the 8/6/4-bit floats but float8_e8m0fnu)", what, n);
}

/* ---- loading an element ---- */

typedef struct num {
    bool is_int;      /* exact integer in i (integer types) */
    __int128 i;
    long double f;    /* float types (NaN, infinities, signed zero included) */
} num;

static num load(const side *sd, const uint8_t *p)
{
    num v = {0};
    switch (sd->cls) {
    case T_INT: {
        v.is_int = true;
        int64_t x = 0;
        switch (sd->size) {
        case 1: { int8_t y; memcpy(&y, p, 1); x = y; } break;
        case 2: { int16_t y; memcpy(&y, p, 2); x = y; } break;
        case 4: { int32_t y; memcpy(&y, p, 4); x = y; } break;
        default: memcpy(&x, p, 8); break;
        }
        v.i = x;
        break;
    }
    case T_UINT: {
        v.is_int = true;
        uint64_t x = 0;
        switch (sd->size) {
        case 1: x = p[0]; break;
        case 2: { uint16_t y; memcpy(&y, p, 2); x = y; } break;
        case 4: { uint32_t y; memcpy(&y, p, 4); x = y; } break;
        default: memcpy(&x, p, 8); break;
        }
        v.i = x;
        break;
    }
    case T_IEEE:
        if (sd->p == 11) {
            uint16_t h;
            memcpy(&h, p, 2);
            v.f = zarrc_half_to_double(h);
        } else if (sd->p == 8) {
            uint16_t h;
            memcpy(&h, p, 2);
            uint32_t w = (uint32_t)h << 16;
            float f;
            memcpy(&f, &w, 4);
            v.f = f;
        } else if (sd->p == 24) {
            float f;
            memcpy(&f, p, 4);
            v.f = f;
        } else {
            double d;
            memcpy(&d, p, 8);
            v.f = d;
        }
        break;
    case T_MINI:
        v.f = zarrc__minifloat_to_double(sd->mf, p[0]);
        break;
    }
    return v;
}

static long double as_ld(num v) { return v.is_int ? (long double)v.i : v.f; }

/* ---- storing ---- */

static void store_int(const side *sd, uint8_t *p, __int128 x)
{
    switch (sd->size) {
    case 1: { int8_t y = (int8_t)(uint8_t)x; memcpy(p, &y, 1); } break;
    case 2: { uint16_t y = (uint16_t)x; memcpy(p, &y, 2); } break;
    case 4: { uint32_t y = (uint32_t)x; memcpy(p, &y, 4); } break;
    default: { uint64_t y = (uint64_t)x; memcpy(p, &y, 8); } break;
    }
}

/* A value the IEEE target holds exactly (rounded already), NaN or an infinity. */
static void store_ieee(const side *sd, uint8_t *p, long double x)
{
    if (sd->p == 11) {
        uint16_t h = zarrc_double_to_half((double)x);
        memcpy(p, &h, 2);
    } else if (sd->p == 8) {
        float f = isnan(x) ? NAN : (float)x;
        uint32_t w;
        memcpy(&w, &f, 4);
        uint16_t h = isnan(x) ? 0x7fc0 : (uint16_t)(w >> 16);
        memcpy(p, &h, 2);
    } else if (sd->p == 24) {
        float f = (float)x;
        memcpy(p, &f, 4);
    } else {
        double d = (double)x;
        memcpy(p, &d, 8);
    }
}

/* ---- rounding ---- */

static long double round_int(long double x, rmode m)
{
    switch (m) {
    case R_ZERO: return truncl(x);
    case R_POS: return ceill(x);
    case R_NEG: return floorl(x);
    case R_AWAY: return roundl(x);
    default: {
        long double r = roundl(x); /* ties away; fix ties to even */
        if (fabsl(x - truncl(x)) == 0.5L && fmodl(r, 2.0L) != 0)
            r -= copysignl(1.0L, x);
        return r;
    }
    }
}

/* x rounded to an IEEE format's precision (exponent unbounded above, subnormal below). */
static long double round_ieee(const side *sd, long double x, rmode m)
{
    if (x == 0 || !isfinite(x))
        return x;
    int e = ilogbl(x);
    if (e < sd->emin)
        e = sd->emin;
    int q = e - (sd->p - 1);
    long double r = ldexpl(round_int(ldexpl(x, -q), m), q);
    return r == 0 ? copysignl(0.0L, x) : r;
}

/* |x| (finite, > 0) rounded among a small float's values: index of the result in vals, or
 * nvals when it rounds past the largest value (out of range). */
static int round_mini(const side *sd, long double ax, bool neg, rmode m)
{
    int n = sd->nvals, hi = 0;
    while (hi < n && sd->vals[hi] < ax)
        hi++;
    if (hi < n && sd->vals[hi] == ax)
        return hi;
    /* the next value past the largest, as the format's exponent would continue */
    long double up = hi < n ? sd->vals[hi] : sd->vals[n - 1] + (sd->vals[n - 1] - sd->vals[n - 2]);
    long double lo = sd->vals[hi - 1]; /* hi >= 1: vals[0] is 0 < ax */
    bool toward_up; /* toward larger magnitude */
    switch (m) {
    case R_ZERO: toward_up = false; break;
    case R_POS: toward_up = !neg; break;
    case R_NEG: toward_up = neg; break;
    default: {
        long double dl = ax - lo, du = up - ax;
        if (dl != du)
            toward_up = du < dl;
        else if (m == R_AWAY)
            toward_up = true;
        else /* ties to the even code; past the largest value the continuation is even */
            toward_up = hi >= n ? true : (sd->codes[hi] & 1) == 0;
    }
    }
    return toward_up ? hi : hi - 1;
}

/* ---- one element ---- */

static int convert(const cv_state *s, const side *from, const side *to, const mapent *map, size_t nmap,
                   const uint8_t *in, uint8_t *out, size_t i, bool decoding)
{
    int bad = decoding ? ZARRC_ECORRUPT : ZARRC_EINVAL;
    num v = load(from, in);
    for (size_t k = 0; k < nmap; k++) {
        bool hit = map[k].is_nan ? (!v.is_int && isnan(v.f)) : (as_ld(v) == map[k].key);
        if (hit) {
            memcpy(out, map[k].out, to->size);
            return ZARRC_OK;
        }
    }
    long double x = as_ld(v);
    if (to->cls == T_INT || to->cls == T_UINT) {
        if (isnan(x) || isinf(x))
            return zarrc_error_set(bad, "element %zu: %s cannot be cast to %s (map it in scalar_map)", i,
                                   isnan(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity", to->dt.name);
        __int128 lo = to->cls == T_INT ? -((__int128)1 << (to->bits - 1)) : 0;
        __int128 hi = to->cls == T_INT ? ((__int128)1 << (to->bits - 1)) - 1 : ((__int128)1 << to->bits) - 1;
        __int128 r;
        if (v.is_int)
            r = v.i;
        else {
            long double rx = round_int(x, s->rounding);
            if (rx > (long double)hi || rx < (long double)lo) {
                if (s->oor == 1) {
                    store_int(to, out, rx > 0 ? hi : lo);
                    return ZARRC_OK;
                }
                if (s->oor == 2) { /* modulo 2^bits of the exact integer value */
                    long double m = ldexpl(1.0L, (int)to->bits), w = fmodl(rx, m);
                    if (w < 0)
                        w += m;
                    r = (__int128)w;
                    if (to->cls == T_INT && r > hi)
                        r -= (__int128)1 << to->bits;
                    store_int(to, out, r);
                    return ZARRC_OK;
                }
                return zarrc_error_set(bad, "element %zu: %Lg is outside the range of %s (no out_of_range)", i,
                                       rx, to->dt.name);
            }
            r = (__int128)rx;
        }
        if (r < lo || r > hi) {
            if (s->oor == 1)
                r = r < lo ? lo : hi;
            else if (s->oor == 2) {
                __int128 m = (__int128)1 << to->bits;
                r = ((r % m) + m) % m;
                if (to->cls == T_INT && r > hi)
                    r -= m;
            } else
                return zarrc_error_set(bad, "element %zu: %lld is outside the range of %s (no out_of_range)", i,
                                       (long long)r, to->dt.name);
        }
        store_int(to, out, r);
        return ZARRC_OK;
    }
    bool has_nan = to->cls == T_IEEE || zarrc__minifloat_has_nan(to->mf);
    bool has_inf = to->cls == T_IEEE || zarrc__minifloat_has_inf(to->mf);
    if (isnan(x) && !has_nan)
        return zarrc_error_set(bad, "element %zu: NaN cannot be cast to %s (map it in scalar_map)", i, to->dt.name);
    if (isinf(x) && !has_inf)
        return zarrc_error_set(bad, "element %zu: %s cannot be cast to %s (map it in scalar_map)", i,
                               x > 0 ? "Infinity" : "-Infinity", to->dt.name);
    if (to->cls == T_IEEE) {
        long double r = round_ieee(to, x, s->rounding);
        if (isfinite(r) && fabsl(r) > to->max) {
            if (s->oor != 1)
                return zarrc_error_set(bad, "element %zu: %Lg is outside the range of %s (no out_of_range)", i, x,
                                       to->dt.name);
            r = copysignl(INFINITY, r); /* clamp: the target has infinities */
        }
        store_ieee(to, out, r);
        return ZARRC_OK;
    }
    /* small floats */
    if (isnan(x)) {
        out[0] = zarrc__minifloat_nan(to->mf);
        return ZARRC_OK;
    }
    uint8_t sign = (uint8_t)(1u << (zarrc__minifloat_bits(to->mf) - 1));
    bool nz = zarrc__minifloat_has_nan(to->mf) && zarrc__minifloat_nan(to->mf) == sign; /* fnuz: no -0 */
    if (isinf(x)) {
        uint8_t c = 0;
        zarrc__minifloat_from_double(to->mf, (double)x, &c);
        out[0] = c;
        return ZARRC_OK;
    }
    bool neg = signbit(x);
    int k = x == 0 ? 0 : round_mini(to, fabsl(x), neg, s->rounding);
    if (k >= to->nvals) {
        if (s->oor != 1)
            return zarrc_error_set(bad, "element %zu: %Lg is outside the range of %s (no out_of_range)", i, x,
                                   to->dt.name);
        if (has_inf) {
            zarrc__minifloat_from_double(to->mf, neg ? -INFINITY : INFINITY, out);
            return ZARRC_OK;
        }
        k = to->nvals - 1;
    }
    uint8_t c = to->codes[k];
    if (neg && !(nz && to->vals[k] == 0))
        c |= sign;
    out[0] = c;
    return ZARRC_OK;
}

/* ---- configuration ---- */

/* One fill-value JSON of `sd` into bytes (the spec's "+Infinity" accepted for "Infinity"). */
static int parse_scalar(const side *sd, const json_object *j, uint8_t *out, const char *what)
{
    json_object *tmp = NULL;
    const char *str = json_object_is_type((json_object *)j, json_type_string) ? json_object_get_string((json_object *)j) : NULL;
    if (str && !strcmp(str, "+Infinity"))
        j = tmp = json_object_new_string("Infinity");
    zarrc__fill f = {0};
    int rc = zarrc__fill_parse(&f, &sd->dt, j, 3);
    json_object_put(tmp);
    if (rc)
        return zarrc__error_context(ZARRC_EINVAL, "%s: ", what);
    if (f.is_null || f.size != sd->size) {
        zarrc__fill_clear(&f);
        return zarrc_error_set(ZARRC_EINVAL, "%s: not a %s value", what, sd->dt.name);
    }
    memcpy(out, f.bytes, sd->size);
    zarrc__fill_clear(&f);
    return ZARRC_OK;
}

static int parse_map(const json_object *list, const side *in, const side *out, mapent **ents, size_t *n,
                     const char *which)
{
    if (!json_object_is_type((json_object *)list, json_type_array))
        return zarrc_error_set(ZARRC_EINVAL, "'scalar_map.%s' must be a list of [input, output] pairs", which);
    size_t len = json_object_array_length(list);
    if (len && !(*ents = zarrc__calloc(len, sizeof **ents)))
        return ZARRC_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        json_object *pr = json_object_array_get_idx(list, i);
        if (!json_object_is_type(pr, json_type_array) || json_object_array_length(pr) != 2)
            return zarrc_error_set(ZARRC_EINVAL, "'scalar_map.%s' entry %zu must be an [input, output] pair", which, i);
        uint8_t key[8];
        char what[64];
        snprintf(what, sizeof what, "'scalar_map.%s' entry %zu input", which, i);
        int rc = parse_scalar(in, json_object_array_get_idx(pr, 0), key, what);
        if (rc)
            return rc;
        snprintf(what, sizeof what, "'scalar_map.%s' entry %zu output", which, i);
        if ((rc = parse_scalar(out, json_object_array_get_idx(pr, 1), (*ents)[i].out, what)))
            return rc;
        num k = load(in, key);
        (*ents)[i].is_nan = !k.is_int && isnan(k.f);
        (*ents)[i].key = as_ld(k);
    }
    *n = len;
    return ZARRC_OK;
}

static int cv_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    *state = NULL;
    if (!init->input)
        return zarrc_error_set(ZARRC_EINVAL, "needs the chunk's data type");
    if (!config || zarrc_json_typeof(config) != ZARRC_JSON_OBJECT)
        return zarrc_error_set(ZARRC_EINVAL, "configuration must be an object with 'data_type'");
    json_object *cfg = (json_object *)config, *dt = NULL, *rnd = NULL, *oor = NULL, *map = NULL;
    json_object_object_foreach(cfg, key, val) {
        (void)val;
        if (strcmp(key, "data_type") && strcmp(key, "rounding") && strcmp(key, "out_of_range") &&
            strcmp(key, "scalar_map"))
            return zarrc_error_set(ZARRC_EINVAL, "unknown configuration member '%s'", key);
    }
    json_object_object_get_ex(cfg, "data_type", &dt);
    json_object_object_get_ex(cfg, "rounding", &rnd);
    json_object_object_get_ex(cfg, "out_of_range", &oor);
    json_object_object_get_ex(cfg, "scalar_map", &map);
    if (!dt)
        return zarrc_error_set(ZARRC_EINVAL, "'data_type' is required");
    cv_state *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    zarrc_dtype_info target;
    int rc = zarrc__dtype_from_json(&target, dt);
    if (rc)
        rc = zarrc__error_context(ZARRC_EINVAL, "'data_type': ");
    if (!rc)
        rc = side_init(&s->a, &init->input->dtype, "array");
    if (!rc)
        rc = side_init(&s->t, &target, "'data_type'");
    static const char *const rnames[] = {"nearest-even", "towards-zero", "towards-positive", "towards-negative",
                                         "nearest-away"};
    s->rounding = R_EVEN;
    if (!rc && rnd) {
        const char *r = json_object_is_type(rnd, json_type_string) ? json_object_get_string(rnd) : "";
        int k = -1;
        for (int i = 0; i < 5; i++)
            if (!strcmp(r, rnames[i]))
                k = i;
        if (k < 0)
            rc = zarrc_error_set(ZARRC_EINVAL, "'rounding' must be one of \"nearest-even\", \"towards-zero\", "
                                 "\"towards-positive\", \"towards-negative\", \"nearest-away\"");
        s->rounding = (rmode)(k < 0 ? 0 : k);
    }
    if (!rc && oor) {
        const char *o = json_object_is_type(oor, json_type_string) ? json_object_get_string(oor) : "";
        s->oor = !strcmp(o, "clamp") ? 1 : !strcmp(o, "wrap") ? 2 : -1;
        if (s->oor < 0)
            rc = zarrc_error_set(ZARRC_EINVAL, "'out_of_range' must be \"clamp\" or \"wrap\"");
        /* wrap is for integer targets; decoding into a float array type never wraps either */
        else if (s->oor == 2 && s->t.cls != T_INT && s->t.cls != T_UINT)
            rc = zarrc_error_set(ZARRC_EINVAL, "'out_of_range' \"wrap\" needs an integer 'data_type', not '%s'",
                                 s->t.dt.name);
    }
    if (!rc && map) {
        json_object *e = NULL, *d = NULL;
        if (!json_object_is_type(map, json_type_object))
            rc = zarrc_error_set(ZARRC_EINVAL, "'scalar_map' must be an object");
        else {
            json_object_object_foreach(map, key, val) {
                (void)val;
                if (strcmp(key, "encode") && strcmp(key, "decode"))
                    rc = zarrc_error_set(ZARRC_EINVAL, "unknown 'scalar_map' member '%s'", key);
            }
        }
        json_object_object_get_ex(map, "encode", &e);
        json_object_object_get_ex(map, "decode", &d);
        if (!rc && e)
            rc = parse_map(e, &s->a, &s->t, &s->enc, &s->nenc, "encode");
        if (!rc && d)
            rc = parse_map(d, &s->t, &s->a, &s->dec, &s->ndec, "decode");
    }
    /* the fill value must survive encode + decode */
    if (!rc && init->input->fill) {
        uint8_t e[8], back[8];
        const uint8_t *f = init->input->fill;
        rc = convert(s, &s->a, &s->t, s->enc, s->nenc, f, e, 0, false);
        if (!rc)
            rc = convert(s, &s->t, &s->a, s->dec, s->ndec, e, back, 0, true);
        if (rc)
            rc = zarrc__error_context(ZARRC_EINVAL, "the fill value cannot be cast: ");
        else {
            num x = load(&s->a, f), y = load(&s->a, back);
            bool same = (!x.is_int && isnan(x.f)) ? (!y.is_int && isnan(y.f)) : as_ld(x) == as_ld(y);
            if (!same)
                rc = zarrc_error_set(ZARRC_EINVAL, "the fill value does not survive the cast to %s and back",
                                     s->t.dt.name);
        }
    }
    if (rc) {
        cv_destroy(s);
        return rc;
    }
    s->dtype_json = json_object_get(dt);
    s->rounding_json = json_object_get(rnd);
    s->oor_json = json_object_get(oor);
    s->map_json = json_object_get(map);
    if (init->output)
        init->output->dtype = target;
    *state = s;
    return ZARRC_OK;
}

static int cv_to_json(const void *state, int format, zarrc_json *config)
{
    const cv_state *s = state;
    if (format != 3)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "cast_value has no v2 spelling (use numcodecs.astype)");
    json_object *c = ZJ(config);
    json_object *dt = zarrc__dtype_to_json_v3(&s->t.dt);
    if (!dt)
        return ZARRC_ENOMEM;
    json_object_object_add(c, "data_type", dt);
    if (s->rounding_json)
        json_object_object_add(c, "rounding", json_object_get(s->rounding_json));
    if (s->oor_json)
        json_object_object_add(c, "out_of_range", json_object_get(s->oor_json));
    if (s->map_json)
        json_object_object_add(c, "scalar_map", json_object_get(s->map_json));
    return ZARRC_OK;
}

static int run(const cv_state *s, const zarrc_codec_call *call, const uint8_t *in, size_t in_size, zarrc_buf *out,
               bool decoding)
{
    const side *from = decoding ? &s->t : &s->a, *to = decoding ? &s->a : &s->t;
    size_t n;
    int rc = zarrc__filter_begin(call, in_size, from->size, to->size, decoding, out, &n);
    if (rc)
        return rc;
    const mapent *map = decoding ? s->dec : s->enc;
    size_t nmap = decoding ? s->ndec : s->nenc;
    for (size_t i = 0; i < n; i++)
        if ((rc = convert(s, from, to, map, nmap, in + i * from->size, out->data + i * to->size, i, decoding)))
            return rc;
    out->size = n * to->size;
    return ZARRC_OK;
}

static int cv_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t in_size,
                     zarrc_buf *out)
{
    return run(state, call, in, in_size, out, false);
}

static int cv_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t in_size,
                     zarrc_buf *out)
{
    return run(state, call, in, in_size, out, true);
}

const zarrc_codec_type zarrc__codec_cast_value = {
    ZARRC_CODEC_TYPE_VERSION, "cast_value", NULL, NULL, ZARRC_CODEC_ARRAY_TO_ARRAY,
    cv_create, cv_destroy, cv_to_json, cv_encode, cv_decode,
};
