/* dtype.c — the data type table, both spellings, and fill value JSON. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "dtype.h"

typedef struct core_type {
    const char *name;
    zarrc_dtype_kind kind;
    size_t size;
    char v2kind;
} core_type;

static const core_type core_types[] = {
    {"bool", ZARRC_DTYPE_BOOL, 1, 'b'},       {"int8", ZARRC_DTYPE_INT, 1, 'i'},
    {"int16", ZARRC_DTYPE_INT, 2, 'i'},       {"int32", ZARRC_DTYPE_INT, 4, 'i'},
    {"int64", ZARRC_DTYPE_INT, 8, 'i'},       {"uint8", ZARRC_DTYPE_UINT, 1, 'u'},
    {"uint16", ZARRC_DTYPE_UINT, 2, 'u'},     {"uint32", ZARRC_DTYPE_UINT, 4, 'u'},
    {"uint64", ZARRC_DTYPE_UINT, 8, 'u'},     {"float16", ZARRC_DTYPE_FLOAT, 2, 'f'},   {"bfloat16", ZARRC_DTYPE_FLOAT, 2, 0},
    {"float32", ZARRC_DTYPE_FLOAT, 4, 'f'},   {"float64", ZARRC_DTYPE_FLOAT, 8, 'f'},
    {"complex64", ZARRC_DTYPE_COMPLEX, 8, 'c'}, {"complex128", ZARRC_DTYPE_COMPLEX, 16, 'c'},
    {"complex_float32", ZARRC_DTYPE_COMPLEX, 8, 'c'},
    {"complex_float64", ZARRC_DTYPE_COMPLEX, 16, 'c'},
    /* zarr-extensions types without a v2 spelling (v2kind 0): one byte per element in
     * memory (sub-byte integers sign- or zero-extended, small floats as their raw code) */
    {"int2", ZARRC_DTYPE_INT, 1, 0},          {"uint2", ZARRC_DTYPE_UINT, 1, 0},
    {"int4", ZARRC_DTYPE_INT, 1, 0},          {"uint4", ZARRC_DTYPE_UINT, 1, 0},
    {"float8_e4m3", ZARRC_DTYPE_FLOAT, 1, 0}, {"float8_e5m2", ZARRC_DTYPE_FLOAT, 1, 0},
    {"float8_e3m4", ZARRC_DTYPE_FLOAT, 1, 0}, {"float8_e4m3fnuz", ZARRC_DTYPE_FLOAT, 1, 0},
    {"float8_e4m3b11fnuz", ZARRC_DTYPE_FLOAT, 1, 0}, {"float8_e5m2fnuz", ZARRC_DTYPE_FLOAT, 1, 0},
    {"float8_e8m0fnu", ZARRC_DTYPE_FLOAT, 1, 0}, {"float6_e2m3fn", ZARRC_DTYPE_FLOAT, 1, 0},
    {"float6_e3m2fn", ZARRC_DTYPE_FLOAT, 1, 0}, {"float4_e2m1fn", ZARRC_DTYPE_FLOAT, 1, 0},
    {"complex_float16", ZARRC_DTYPE_COMPLEX, 4, 0}, {"complex_bfloat16", ZARRC_DTYPE_COMPLEX, 4, 0},
    {"complex_float8_e4m3", ZARRC_DTYPE_COMPLEX, 2, 0}, {"complex_float8_e5m2", ZARRC_DTYPE_COMPLEX, 2, 0},
    {"complex_float8_e3m4", ZARRC_DTYPE_COMPLEX, 2, 0}, {"complex_float8_e4m3fnuz", ZARRC_DTYPE_COMPLEX, 2, 0},
    {"complex_float8_e4m3b11fnuz", ZARRC_DTYPE_COMPLEX, 2, 0},
    {"complex_float8_e5m2fnuz", ZARRC_DTYPE_COMPLEX, 2, 0},
    {"complex_float8_e8m0fnu", ZARRC_DTYPE_COMPLEX, 2, 0},
    {"complex_float6_e2m3fn", ZARRC_DTYPE_COMPLEX, 2, 0}, {"complex_float6_e3m2fn", ZARRC_DTYPE_COMPLEX, 2, 0},
    {"complex_float4_e2m1fn", ZARRC_DTYPE_COMPLEX, 2, 0},
};

unsigned zarrc__dtype_subbyte_bits(const zarrc_dtype_info *dt)
{
    if (dt->kind == ZARRC_DTYPE_INT || dt->kind == ZARRC_DTYPE_UINT) {
        const char *n = dt->name + (dt->name[0] == 'u');
        return !strcmp(n, "int2") ? 2u : !strcmp(n, "int4") ? 4u : 0u;
    }
    if (dt->kind == ZARRC_DTYPE_FLOAT || dt->kind == ZARRC_DTYPE_COMPLEX) {
        const zarrc__minifloat *f = zarrc__minifloat_find(dt->name);
        return f && zarrc__minifloat_bits(f) < 8 ? zarrc__minifloat_bits(f) : 0u;
    }
    return 0;
}

/* True for INT/UINT/FLOAT/COMPLEX types that v2 (NumPy typestrs) cannot spell. */
static bool no_v2_spelling(const zarrc_dtype_info *dt)
{
    for (size_t i = 0; i < sizeof core_types / sizeof *core_types; i++)
        if (!strcmp(core_types[i].name, dt->name))
            return core_types[i].v2kind == 0;
    return false;
}

static const char *const time_units[] = {"Y", "M", "W", "D", "h", "m", "s", "ms", "us", "μs",
                                         "ns", "ps", "fs", "as", "generic", NULL};

static void set_name(zarrc_dtype_info *dt, const char *name)
{
    snprintf(dt->name, sizeof dt->name, "%s", name);
}

static void init(zarrc_dtype_info *dt, zarrc_dtype_kind kind, size_t size, const char *name)
{
    memset(dt, 0, sizeof *dt);
    dt->kind = kind;
    dt->item_size = size;
    dt->scale_factor = 1;
    set_name(dt, name);
}

static bool valid_unit(const char *u)
{
    for (int i = 0; time_units[i]; i++)
        if (!strcmp(u, time_units[i]))
            return true;
    return false;
}

/* Item sizes over the documented limits are refused before anything is allocated for them
 * (a fill value, a chunk). `bytes` UINT64_MAX = too large to count. */
static int item_too_large(const char *spelling, uint64_t bytes, uint64_t limit)
{
    if (bytes == UINT64_MAX)
        return zarrc_error_set(ZARRC_EDTYPE, "data type '%s': item size exceeds the limit of %llu bytes",
                               spelling, (unsigned long long)limit);
    return zarrc_error_set(ZARRC_EDTYPE, "data type '%s': item size %llu exceeds the limit of %llu bytes",
                           spelling, (unsigned long long)bytes, (unsigned long long)limit);
}

/* v2 typestr: [<>|=]kind size [ '[' [N] unit ']' ] */
static int parse_typestr(zarrc_dtype_info *dt, const char *s)
{
    const char *orig = s;
    bool big = false, no_order = *s == '|';
    if (*s == '<' || *s == '|' || *s == '=')
        s++;
    else if (*s == '>') {
        big = true;
        s++;
    }
    char kind = *s++;
    if (!kind)
        goto bad;
    if (kind == 'O') {
        if (*s)
            goto bad;
        init(dt, ZARRC_DTYPE_STRING, 0, "string");
        return ZARRC_OK;
    }
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (end != s && errno == ERANGE && n > 0 && !*end && strchr("SUV", kind))
        return item_too_large(orig, UINT64_MAX, kind == 'V' ? ZARRC_MAX_RAW_ITEM_SIZE : ZARRC_MAX_ITEM_SIZE);
    if (end == s || n <= 0 || errno)
        goto bad;
    s = end;
    /* '|' (no byte order) only suits types whose items are single bytes or byte strings. */
    if (no_order && n > 1 && strchr("iufcmMU", kind))
        return zarrc_error_set(ZARRC_EDTYPE, "data type '%s' needs a byte order ('<' or '>')", orig);
    if (kind == 'M' || kind == 'm') {
        /* "<M8[10ms]", or "<M8" without brackets: numpy's generic unit (no unit yet), which has
         * no bracketed spelling. */
        if (n != 8 || (*s && *s != '['))
            goto bad;
        long scale = 1;
        const char *unit = "generic";
        size_t unit_len = strlen(unit);
        if (*s) {
            s++;
            if (isdigit((unsigned char)*s)) {
                scale = strtol(s, &end, 10);
                if (scale <= 0 || scale > 2147483647L)
                    goto bad;
                s = end;
            }
            const char *close = strchr(s, ']');
            if (!close || close[1] || (size_t)(close - s) >= sizeof dt->unit || !strncmp(s, "generic]", 8))
                goto bad;
            unit = s;
            unit_len = (size_t)(close - s);
        }
        init(dt, kind == 'M' ? ZARRC_DTYPE_DATETIME : ZARRC_DTYPE_TIMEDELTA, 8,
             kind == 'M' ? "numpy.datetime64" : "numpy.timedelta64");
        memcpy(dt->unit, unit, unit_len);
        dt->unit[unit_len] = '\0';
        if (!strcmp(dt->unit, "μs"))
            strcpy(dt->unit, "us");
        if (!valid_unit(dt->unit))
            goto bad;
        dt->scale_factor = scale;
        dt->big_endian = big;
        return ZARRC_OK;
    }
    if (*s)
        goto bad;
    switch (kind) {
    case 'S':
        if ((unsigned long)n > ZARRC_MAX_ITEM_SIZE)
            return item_too_large(orig, (uint64_t)n, ZARRC_MAX_ITEM_SIZE);
        init(dt, ZARRC_DTYPE_FIXED_BYTES, (size_t)n, "null_terminated_bytes");
        return ZARRC_OK;
    case 'V': {
        char name[32];
        if (n > ZARRC_MAX_RAW_ITEM_SIZE)
            return item_too_large(orig, (uint64_t)n, ZARRC_MAX_RAW_ITEM_SIZE);
        snprintf(name, sizeof name, "r%ld", n * 8);
        init(dt, ZARRC_DTYPE_RAW, (size_t)n, name);
        return ZARRC_OK;
    }
    case 'U':
        if ((unsigned long)n > ZARRC_MAX_ITEM_SIZE / 4)
            return item_too_large(orig, (unsigned long)n <= UINT64_MAX / 4 ? (uint64_t)n * 4 : UINT64_MAX,
                                  ZARRC_MAX_ITEM_SIZE);
        init(dt, ZARRC_DTYPE_UTF32, (size_t)n * 4, "fixed_length_utf32");
        dt->big_endian = big;
        return ZARRC_OK;
    default:
        for (size_t i = 0; i < sizeof core_types / sizeof *core_types; i++) {
            const core_type *c = &core_types[i];
            if (c->v2kind == kind && c->size == (size_t)n && strncmp(c->name, "complex_", 8)) {
                init(dt, c->kind, c->size, c->name);
                dt->big_endian = c->size > 1 && big;
                return ZARRC_OK;
            }
        }
    }
bad:
    return zarrc_error_set(ZARRC_EDTYPE, "unknown data type '%s'", orig);
}

static int length_bytes(const json_object *cfg, const char *name, int64_t *n, int64_t multiple,
                        int64_t limit)
{
    json_object *v;
    bool is_u;
    uint64_t u;
    if (!json_object_object_get_ex(cfg, "length_bytes", &v) ||
        zarrc__json_get_integer(v, n, &u, &is_u) || (!is_u && *n <= 0) || (!is_u && *n % multiple))
        return zarrc_error_set(ZARRC_EDTYPE, "data type '%s': 'length_bytes' must be a positive "
                               "multiple of %lld", name, (long long)multiple);
    if (is_u || *n > limit)
        return zarrc_error_set(ZARRC_EDTYPE, "data type '%s': 'length_bytes' %llu exceeds the limit of %lld "
                               "bytes", name, is_u ? (unsigned long long)u : (unsigned long long)*n,
                               (long long)limit);
    return ZARRC_OK;
}

static int parse_v3_object(zarrc_dtype_info *dt, const char *name, const json_object *cfg)
{
    if (!strcmp(name, "numpy.datetime64") || !strcmp(name, "numpy.timedelta64")) {
        json_object *u, *sf;
        init(dt, name[6] == 'd' ? ZARRC_DTYPE_DATETIME : ZARRC_DTYPE_TIMEDELTA, 8, name);
        if (!json_object_object_get_ex(cfg, "unit", &u) || !json_object_is_type(u, json_type_string) ||
            !valid_unit(json_object_get_string(u)) ||
            strlen(json_object_get_string(u)) >= sizeof dt->unit)
            return zarrc_error_set(ZARRC_EDTYPE, "data type '%s': missing or invalid 'unit'", name);
        snprintf(dt->unit, sizeof dt->unit, "%s", json_object_get_string(u));
        if (!strcmp(dt->unit, "μs"))
            strcpy(dt->unit, "us");
        if (json_object_object_get_ex(cfg, "scale_factor", &sf)) {
            int64_t n;
            uint64_t uu;
            bool is_u;
            if (zarrc__json_get_integer(sf, &n, &uu, &is_u) || is_u || n < 1 || n > 2147483647)
                return zarrc_error_set(ZARRC_EDTYPE, "data type '%s': invalid 'scale_factor'", name);
            dt->scale_factor = n;
        }
        return ZARRC_OK;
    }
    int64_t n;
    if (!strcmp(name, "fixed_length_utf32")) {
        if (length_bytes(cfg, name, &n, 4, ZARRC_MAX_ITEM_SIZE))
            return ZARRC_EDTYPE;
        init(dt, ZARRC_DTYPE_UTF32, (size_t)n, name);
        return ZARRC_OK;
    }
    if (!strcmp(name, "null_terminated_bytes") || !strcmp(name, "fixed_length_bytes")) {
        if (length_bytes(cfg, name, &n, 1, ZARRC_MAX_ITEM_SIZE))
            return ZARRC_EDTYPE;
        init(dt, ZARRC_DTYPE_FIXED_BYTES, (size_t)n, "null_terminated_bytes");
        return ZARRC_OK;
    }
    if (!strcmp(name, "raw_bytes")) {
        /* zarr-python's spelling of raw bits; kept as given (zarr-python cannot read r<N>) */
        if (length_bytes(cfg, name, &n, 1, ZARRC_MAX_RAW_ITEM_SIZE))
            return ZARRC_EDTYPE;
        init(dt, ZARRC_DTYPE_RAW, (size_t)n, name);
        return ZARRC_OK;
    }
    return zarrc_error_set(ZARRC_EUNSUPPORTED, "unsupported data type '%s'", name);
}

static int parse_v3_name(zarrc_dtype_info *dt, const char *name)
{
    for (size_t i = 0; i < sizeof core_types / sizeof *core_types; i++)
        if (!strcmp(core_types[i].name, name)) {
            init(dt, core_types[i].kind, core_types[i].size, core_types[i].name);
            if (!strcmp(name, "complex_float32")) set_name(dt, "complex64");
            if (!strcmp(name, "complex_float64")) set_name(dt, "complex128");
            return ZARRC_OK;
        }
    if (!strcmp(name, "string")) {
        init(dt, ZARRC_DTYPE_STRING, 0, "string");
        return ZARRC_OK;
    }
    if (!strcmp(name, "bytes") || !strcmp(name, "variable_length_bytes")) {
        init(dt, ZARRC_DTYPE_VBYTES, 0, "bytes");
        return ZARRC_OK;
    }
    if (name[0] == 'r' && isdigit((unsigned char)name[1])) {
        char *end;
        errno = 0;
        long bits = strtol(name + 1, &end, 10);
        if (!*end && (errno == ERANGE || (bits > 0 && bits / 8 > ZARRC_MAX_RAW_ITEM_SIZE)))
            return item_too_large(name, errno == ERANGE ? UINT64_MAX : (uint64_t)bits / 8,
                                  ZARRC_MAX_RAW_ITEM_SIZE);
        if (!*end && bits > 0 && bits % 8 == 0) {
            init(dt, ZARRC_DTYPE_RAW, (size_t)bits / 8, name);
            return ZARRC_OK;
        }
        return zarrc_error_set(ZARRC_EDTYPE, "invalid raw data type '%s' (bits must be a positive "
                               "multiple of 8)", name);
    }
    return ZARRC_ENOTFOUND;
}

int zarrc__dtype_from_json(zarrc_dtype_info *dt, const json_object *v)
{
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string((json_object *)v);
        int rc = parse_v3_name(dt, s);
        if (rc != ZARRC_ENOTFOUND)
            return rc;
        if ((rc = zarrc__user_from_json(dt, s, NULL, false)) != ZARRC_ENOTFOUND ||
            (rc = zarrc__user_from_json(dt, s, NULL, true)) != ZARRC_ENOTFOUND)
            return rc;
        if (strchr("<>|=", s[0]) && s[0])
            return parse_typestr(dt, s);
        if (!strcmp(s, "numpy.datetime64") || !strcmp(s, "numpy.timedelta64") ||
            !strcmp(s, "fixed_length_utf32") || !strcmp(s, "null_terminated_bytes") ||
            !strcmp(s, "raw_bytes"))
            return zarrc_error_set(ZARRC_EDTYPE, "data type '%s' needs a configuration", s);
        return zarrc_error_set(ZARRC_EDTYPE, "unknown data type '%s'", s);
    }
    if (json_object_is_type(v, json_type_object)) {
        json_object *name, *cfg = NULL, *mu;
        if (!json_object_object_get_ex(v, "name", &name) || !json_object_is_type(name, json_type_string))
            return zarrc_error_set(ZARRC_EDTYPE, "data type object without a 'name'");
        if (json_object_object_get_ex(v, "must_understand", &mu))
            return zarrc_error_set(ZARRC_EDTYPE, "'must_understand' is not allowed on data_type");
        json_object_object_get_ex(v, "configuration", &cfg);
        if (cfg && !json_object_is_type(cfg, json_type_object))
            return zarrc_error_set(ZARRC_EDTYPE, "data type 'configuration' must be an object");
        const char *n = json_object_get_string(name);
        if (!strcmp(n, "struct") || !strcmp(n, "structured"))
            return zarrc__struct_from_json_v3(dt, n, cfg);
        if (zarrc__dtype_is_optional_name(n))
            return zarrc__optional_from_json_v3(dt, cfg);
        int rc = parse_v3_name(dt, n);
        if (rc != ZARRC_ENOTFOUND) {
            if (rc == ZARRC_OK && cfg && json_object_object_length(cfg) > 0)
                return zarrc_error_set(ZARRC_EDTYPE, "data type '%s' takes no configuration", n);
            return rc;
        }
        if ((rc = zarrc__user_from_json(dt, n, cfg, false)) != ZARRC_ENOTFOUND)
            return rc;
        return parse_v3_object(dt, n, cfg);
    }
    if (json_object_is_type(v, json_type_array))
        return zarrc__struct_from_json_v2(dt, v);
    return zarrc_error_set(ZARRC_EDTYPE, "data type must be a string or an object");
}

int zarrc_dtype_parse(zarrc_dtype_info *out, const char *spelling)
{
    zarrc__error_clear();
    json_object *j = NULL;
    int rc;
    while (*spelling == ' ')
        spelling++;
    if (*spelling == '{' || *spelling == '"' || *spelling == '[') {
        if ((rc = zarrc__json_parse(&j, spelling, strlen(spelling), "data type"))) {
            char msg[1024]; /* a copy: formatting the last error into itself overlaps */
            snprintf(msg, sizeof msg, "%s", zarrc_error_last());
            return zarrc_error_set(ZARRC_EDTYPE, "%s", msg);
        }
    } else
        j = json_object_new_string(spelling);
    rc = zarrc__dtype_from_json(out, j);
    json_object_put(j);
    return rc;
}

json_object *zarrc__dtype_to_json_v3(const zarrc_dtype_info *dt)
{
    json_object *o, *cfg;
    switch (dt->kind) {
    case ZARRC_DTYPE_STRUCT:
        return zarrc__struct_to_json_v3(dt->fields);
    case ZARRC_DTYPE_OPTIONAL:
        return zarrc__optional_to_json_v3(dt);
    case ZARRC_DTYPE_USER:
        return zarrc__user_to_json_v3(dt);
    case ZARRC_DTYPE_DATETIME:
    case ZARRC_DTYPE_TIMEDELTA:
        o = json_object_new_object();
        cfg = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(dt->name));
        json_object_object_add(cfg, "unit", json_object_new_string(dt->unit));
        json_object_object_add(cfg, "scale_factor", json_object_new_int64(dt->scale_factor));
        json_object_object_add(o, "configuration", cfg);
        return o;
    case ZARRC_DTYPE_RAW:
        if (strcmp(dt->name, "raw_bytes"))
            return json_object_new_string(dt->name);
        /* zarr-python's raw_bytes carries its length like the byte strings */
        /* fallthrough */
    case ZARRC_DTYPE_UTF32:
    case ZARRC_DTYPE_FIXED_BYTES:
        o = json_object_new_object();
        cfg = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(dt->name));
        json_object_object_add(cfg, "length_bytes", json_object_new_int64((int64_t)dt->item_size));
        json_object_object_add(o, "configuration", cfg);
        return o;
    default:
        return json_object_new_string(dt->name);
    }
}

int zarrc_dtype_v2_string(char *buf, size_t n, const zarrc_dtype_info *dt)
{
    char order = dt->big_endian ? '>' : '<';
    switch (dt->kind) {
    case ZARRC_DTYPE_BOOL: snprintf(buf, n, "|b1"); break;
    case ZARRC_DTYPE_INT:
    case ZARRC_DTYPE_UINT:
    case ZARRC_DTYPE_FLOAT:
    case ZARRC_DTYPE_COMPLEX: {
        if (no_v2_spelling(dt))
            return zarrc_error_set(ZARRC_EDTYPE, "data type '%s' has no v2 spelling", dt->name);
        char k = dt->kind == ZARRC_DTYPE_INT ? 'i' : dt->kind == ZARRC_DTYPE_UINT ? 'u'
                 : dt->kind == ZARRC_DTYPE_FLOAT ? 'f' : 'c';
        snprintf(buf, n, "%c%c%zu", dt->item_size == 1 ? '|' : order, k, dt->item_size);
        break;
    }
    case ZARRC_DTYPE_RAW: snprintf(buf, n, "|V%zu", dt->item_size); break;
    case ZARRC_DTYPE_FIXED_BYTES: snprintf(buf, n, "|S%zu", dt->item_size); break;
    case ZARRC_DTYPE_UTF32: snprintf(buf, n, "%cU%zu", order, dt->item_size / 4); break;
    case ZARRC_DTYPE_DATETIME:
    case ZARRC_DTYPE_TIMEDELTA:
        if (!strcmp(dt->unit, "generic"))
            snprintf(buf, n, "%c%c8", order, dt->kind == ZARRC_DTYPE_DATETIME ? 'M' : 'm');
        else if (dt->scale_factor != 1)
            snprintf(buf, n, "%c%c8[%lld%s]", order, dt->kind == ZARRC_DTYPE_DATETIME ? 'M' : 'm',
                     (long long)dt->scale_factor, dt->unit);
        else
            snprintf(buf, n, "%c%c8[%s]", order, dt->kind == ZARRC_DTYPE_DATETIME ? 'M' : 'm', dt->unit);
        break;
    case ZARRC_DTYPE_STRING:
    case ZARRC_DTYPE_VBYTES:
    case ZARRC_DTYPE_OBJECT: snprintf(buf, n, "|O"); break;
    case ZARRC_DTYPE_STRUCT:
        return zarrc_error_set(ZARRC_EDTYPE, "a struct data type has no v2 typestr (v2 spells it as a "
                               "JSON list of fields)");
    case ZARRC_DTYPE_USER:
        if (!zarrc__user_v2_name(dt))
            return zarrc_error_set(ZARRC_EDTYPE, "data type '%s' has no v2 spelling", dt->name);
        if (strlen(zarrc__user_v2_name(dt)) >= n)
            return zarrc_error_set(ZARRC_EINVAL, "buffer too small for the v2 spelling of '%s'", dt->name);
        snprintf(buf, n, "%s", zarrc__user_v2_name(dt));
        break;
    default: return zarrc_error_set(ZARRC_EDTYPE, "data type '%s' has no v2 spelling", dt->name);
    }
    return ZARRC_OK;
}

size_t zarrc_dtype_elem_size(const zarrc_dtype_info *dt)
{
    return zarrc__dtype_is_vlen(dt) ? sizeof(zarrc_vref) : dt->item_size;
}

size_t zarrc__dtype_swap_width(const zarrc_dtype_info *dt)
{
    switch (dt->kind) {
    case ZARRC_DTYPE_COMPLEX: return dt->item_size / 2;
    case ZARRC_DTYPE_UTF32: return 4;
    case ZARRC_DTYPE_INT: case ZARRC_DTYPE_UINT: case ZARRC_DTYPE_FLOAT:
    case ZARRC_DTYPE_DATETIME: case ZARRC_DTYPE_TIMEDELTA: return dt->item_size;
    case ZARRC_DTYPE_USER: return zarrc__user_swap_width(dt);
    default: return 1;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* UTF-8 / UTF-32                                                                              */
/* ------------------------------------------------------------------------------------------ */

int zarrc__utf8_to_utf32(uint32_t *out, size_t max, const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s, *e = p + len;
    size_t n = 0;
    while (p < e) {
        uint32_t c = *p++;
        int extra = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
        if (extra < 0 || e - p < extra)
            return zarrc_error_set(ZARRC_EINVAL, "invalid UTF-8 text");
        if (extra)
            c &= 0x3fu >> extra;
        for (int k = 0; k < extra; k++) {
            if ((*p & 0xc0) != 0x80)
                return zarrc_error_set(ZARRC_EINVAL, "invalid UTF-8 text");
            c = c << 6 | (*p++ & 0x3f);
        }
        if (n >= max)
            return zarrc_error_set(ZARRC_EINVAL, "text longer than %zu characters", max);
        out[n++] = c;
    }
    while (n < max)
        out[n++] = 0;
    return ZARRC_OK;
}

char *zarrc__utf32_to_utf8(const uint32_t *cp, size_t n, size_t *len)
{
    char *out = zarrc__malloc(n * 4 + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n && cp[i]; i++) {
        uint32_t c = cp[i];
        if (c < 0x80)
            *o++ = (char)c;
        else if (c < 0x800) {
            *o++ = (char)(0xc0 | c >> 6);
            *o++ = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            *o++ = (char)(0xe0 | c >> 12);
            *o++ = (char)(0x80 | ((c >> 6) & 0x3f));
            *o++ = (char)(0x80 | (c & 0x3f));
        } else {
            *o++ = (char)(0xf0 | (c >> 18 & 0x7));
            *o++ = (char)(0x80 | ((c >> 12) & 0x3f));
            *o++ = (char)(0x80 | ((c >> 6) & 0x3f));
            *o++ = (char)(0x80 | (c & 0x3f));
        }
    }
    *o = '\0';
    if (len)
        *len = (size_t)(o - out);
    return out;
}

/* ------------------------------------------------------------------------------------------ */
/* Fill values                                                                                 */
/* ------------------------------------------------------------------------------------------ */

void zarrc__fill_clear(zarrc__fill *f)
{
    free(f->bytes);
    memset(f, 0, sizeof *f);
}

int zarrc__fill_copy(zarrc__fill *dst, const zarrc__fill *src)
{
    *dst = *src;
    dst->bytes = zarrc__malloc(src->size);
    if (!dst->bytes)
        return ZARRC_ENOMEM;
    if (src->size)
        memcpy(dst->bytes, src->bytes, src->size);
    return ZARRC_OK;
}

int zarrc__fill_default(zarrc__fill *f, const zarrc_dtype_info *dt)
{
    memset(f, 0, sizeof *f);
    /* optional string/bytes: one mask byte 0 (missing); other variable-length types: "" */
    f->size = zarrc__dtype_is_optional_vlen(dt) ? 1 : zarrc__dtype_is_vlen(dt) ? 0 : dt->item_size;
    f->bytes = zarrc__calloc(1, f->size);
    return f->bytes ? ZARRC_OK : ZARRC_ENOMEM;
}

static int bad_fill(const json_object *v, const zarrc_dtype_info *dt, const char *why)
{
    const char *txt = v ? json_object_to_json_string_ext((json_object *)v, JSON_C_TO_STRING_PLAIN) : "null";
    return zarrc_error_set(ZARRC_EDTYPE, "fill_value %.200s is not valid for data type '%s'%s%s", txt,
                           dt->name, why ? ": " : "", why ? why : "");
}

static int parse_hex_bits(const char *s, size_t size, uint64_t *bits)
{
    size_t n = strlen(s + 2);
    if (n == 0 || n > 2 * size)
        return ZARRC_EINVAL;
    uint64_t v = 0;
    for (size_t i = 2; s[i]; i++) {
        int c = tolower((unsigned char)s[i]), d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else return ZARRC_EINVAL;
        v = v << 4 | (uint64_t)d;
    }
    *bits = v;
    return ZARRC_OK;
}

/* Float encodings: their byte size, except 3 = bfloat16 (2 bytes) and 1 = a small float
 * (8/6/4 bits, format from the type name). */
enum { MINI = 1, F16 = 2, BF16 = 3, F32 = 4, F64 = 8 };

/* Encoding of one component of a FLOAT or COMPLEX type of component size `size`. */
static int float_code(const zarrc_dtype_info *dt, size_t size)
{
    return (!strcmp(dt->name, "bfloat16") || !strcmp(dt->name, "complex_bfloat16")) ? BF16 : (int)size;
}

static json_object *mini_to_json(const zarrc__minifloat *mf, uint8_t b, bool hex_nan)
{
    char buf[40];
    double d = zarrc__minifloat_to_double(mf, b);
    if (isnan(d)) {
        if (hex_nan && b != zarrc__minifloat_nan(mf)) {
            snprintf(buf, sizeof buf, "0x%02x", b);
            return json_object_new_string(buf);
        }
        return json_object_new_string("NaN");
    }
    if (isinf(d))
        return json_object_new_string(d > 0 ? "Infinity" : "-Infinity");
    /* metadata carries the exact value (shortest double text): any reader's rounding gets
     * the same code back; the CLI shows the shortest text of the small type instead */
    zarrc__fmt_double(buf, d);
    return json_object_new_double_s(d, buf);
}

/* One small float from fill JSON: a number (rounded to nearest), "NaN"/"Infinity"/"-Infinity"
 * where the type has them, or "0x.." of the raw code. */
static int parse_mini(uint8_t *p, const zarrc__minifloat *mf, const json_object *v)
{
    if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
        double d;
        if (zarrc_json_double(ZJC(v), &d) || !zarrc__minifloat_in_range(mf, d))
            return ZARRC_EINVAL;
        return zarrc__minifloat_from_double(mf, d, p);
    }
    if (!json_object_is_type(v, json_type_string))
        return ZARRC_EINVAL;
    const char *s = json_object_get_string((json_object *)v);
    if (!strcmp(s, "NaN")) {
        if (!zarrc__minifloat_has_nan(mf))
            return ZARRC_EINVAL;
        *p = zarrc__minifloat_nan(mf);
        return ZARRC_OK;
    }
    if (!strcmp(s, "Infinity") || !strcmp(s, "-Infinity")) {
        if (!zarrc__minifloat_has_inf(mf))
            return ZARRC_EINVAL;
        return zarrc__minifloat_from_double(mf, s[0] == '-' ? -INFINITY : INFINITY, p);
    }
    uint64_t bits;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && !parse_hex_bits(s, 1, &bits) &&
        zarrc__minifloat_valid(mf, (uint8_t)bits)) {
        *p = (uint8_t)bits;
        return ZARRC_OK;
    }
    return ZARRC_EINVAL;
}

static uint16_t double_to_bf16(double d)
{
    float f = (float)d;
    uint32_t b;
    memcpy(&b, &f, 4);
    if ((b & 0x7fffffff) > 0x7f800000)
        return (uint16_t)((b >> 16) | 0x40); /* NaN stays NaN */
    b += 0x7fff + ((b >> 16) & 1);          /* round to nearest even */
    return (uint16_t)(b >> 16);
}

static double bf16_to_double(uint16_t h)
{
    uint32_t b = (uint32_t)h << 16;
    float f;
    memcpy(&f, &b, 4);
    return f;
}

static void store_float(void *p, size_t size, double d)
{
    if (size == BF16) {
        uint16_t h = double_to_bf16(d);
        memcpy(p, &h, 2);
    } else if (size == 2) {
        uint16_t h = zarrc_double_to_half(d);
        memcpy(p, &h, 2);
    } else if (size == 4) {
        float f = (float)d;
        memcpy(p, &f, 4);
    } else
        memcpy(p, &d, 8);
}

static void store_canonical_nan(void *p, size_t size, bool neg)
{
    if (size == BF16) {
        uint16_t h = neg ? 0xffc0 : 0x7fc0;
        memcpy(p, &h, 2);
    } else if (size == 2) {
        uint16_t h = neg ? 0xfe00 : 0x7e00;
        memcpy(p, &h, 2);
    } else if (size == 4) {
        uint32_t b = neg ? 0xffc00000u : 0x7fc00000u;
        memcpy(p, &b, 4);
    } else {
        uint64_t b = neg ? 0xfff8000000000000ull : 0x7ff8000000000000ull;
        memcpy(p, &b, 8);
    }
}

/* One float component (encoding `size`, see float_code) at p. */
static int parse_float(void *p, size_t size, const json_object *v, int format)
{
    if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
        double d;
        if (zarrc_json_double(ZJC(v), &d))
            return ZARRC_EINVAL;
        if (isnan(d)) {
            store_canonical_nan(p, size, false);
            return ZARRC_OK;
        }
        store_float(p, size, d);
        return ZARRC_OK;
    }
    if (!json_object_is_type(v, json_type_string))
        return ZARRC_EINVAL;
    const char *s = json_object_get_string((json_object *)v);
    if (!strcmp(s, "NaN")) {
        store_canonical_nan(p, size, false);
        return ZARRC_OK;
    }
    if (!strcmp(s, "Infinity") || !strcmp(s, "-Infinity")) {
        store_float(p, size, s[0] == '-' ? -INFINITY : INFINITY);
        return ZARRC_OK;
    }
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        uint64_t bits;
        if (parse_hex_bits(s, size == BF16 ? 2 : size, &bits))
            return ZARRC_EINVAL;
        if (size == 2 || size == BF16) { uint16_t b = (uint16_t)bits; memcpy(p, &b, 2); }
        else if (size == 4) { uint32_t b = (uint32_t)bits; memcpy(p, &b, 4); }
        else memcpy(p, &bits, 8);
        return ZARRC_OK;
    }
    /* Numeric strings: accepted in v2 (zarr-python wrote them), not in v3. */
    if (format != 2)
        return ZARRC_EINVAL;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end || isnan(d))
        return ZARRC_EINVAL;
    store_float(p, size, d);
    return ZARRC_OK;
}

static int parse_int(void *p, const zarrc_dtype_info *dt, const json_object *v, int format)
{
    int64_t i;
    uint64_t u;
    bool is_u;
    json_object *tmp = NULL;
    if (json_object_is_type(v, json_type_string)) {
        /* Lenient: "0" style strings; datetimes: "NaT". */
        const char *s = json_object_get_string((json_object *)v);
        if ((dt->kind == ZARRC_DTYPE_DATETIME || dt->kind == ZARRC_DTYPE_TIMEDELTA) && !strcmp(s, "NaT")) {
            i = INT64_MIN;
            memcpy(p, &i, 8);
            return ZARRC_OK;
        }
        tmp = format == 2 ? json_tokener_parse(s) : NULL; /* "0" style strings: v2 only */
        if (!tmp)
            return ZARRC_EINVAL;
        v = tmp;
    }
    int rc = zarrc__json_get_integer(v, &i, &u, &is_u);
    json_object_put(tmp);
    if (rc)
        return ZARRC_EINVAL;
    size_t sz = dt->item_size;
    if (dt->kind == ZARRC_DTYPE_UINT) {
        if (!is_u && i < 0)
            return ZARRC_EINVAL;
        if (sz < 8 && u >> (8 * sz))
            return ZARRC_EINVAL;
        uint8_t b8 = (uint8_t)u; uint16_t b16 = (uint16_t)u; uint32_t b32 = (uint32_t)u;
        if (sz == 1) memcpy(p, &b8, 1); else if (sz == 2) memcpy(p, &b16, 2);
        else if (sz == 4) memcpy(p, &b32, 4); else memcpy(p, &u, 8);
        return ZARRC_OK;
    }
    if (is_u)
        return ZARRC_EINVAL;
    if (sz < 8) {
        int64_t lim = (int64_t)1 << (8 * sz - 1);
        if (i < -lim || i >= lim)
            return ZARRC_EINVAL;
    }
    int8_t b8 = (int8_t)i; int16_t b16 = (int16_t)i; int32_t b32 = (int32_t)i;
    if (sz == 1) memcpy(p, &b8, 1); else if (sz == 2) memcpy(p, &b16, 2);
    else if (sz == 4) memcpy(p, &b32, 4); else memcpy(p, &i, 8);
    return ZARRC_OK;
}

/* Bytes given as base64 text or as a list of byte values. */
static int parse_byte_list(uint8_t **out, size_t *n, const json_object *v)
{
    if (json_object_is_type(v, json_type_string))
        return zarrc__base64_decode(out, n, json_object_get_string((json_object *)v));
    if (!json_object_is_type(v, json_type_array))
        return ZARRC_EINVAL;
    size_t len = json_object_array_length(v);
    uint8_t *b = zarrc__malloc(len);
    if (!b)
        return ZARRC_ENOMEM;
    for (size_t k = 0; k < len; k++) {
        json_object *e = json_object_array_get_idx(v, k);
        int64_t x;
        if (zarrc_json_int(ZJC(e), &x) || x < 0 || x > 255) {
            free(b);
            return ZARRC_EINVAL;
        }
        b[k] = (uint8_t)x;
    }
    *out = b;
    *n = len;
    return ZARRC_OK;
}

int zarrc__fill_parse(zarrc__fill *f, const zarrc_dtype_info *dt, const json_object *v, int format)
{
    int rc = zarrc__fill_default(f, dt);
    if (rc)
        return rc;
    if (!v) {
        /* v2: "no fill value" — reads as zero bytes. v3 requires a value, but zarrita writes
         * null; it is read leniently as the type's default. */
        f->is_null = format == 2;
        return ZARRC_OK;
    }
    uint8_t *p = f->bytes;
    switch (dt->kind) {
    case ZARRC_DTYPE_STRUCT:
        if ((rc = zarrc__struct_fill_parse(p, dt, v, format))) {
            zarrc__fill_clear(f);
            return rc;
        }
        return ZARRC_OK;
    case ZARRC_DTYPE_USER:
        if (zarrc__dtype_is_user_vlen(dt)) {
            if ((rc = zarrc__user_vfill_parse(f, dt, v, format))) {
                zarrc__fill_clear(f);
                return rc;
            }
            return ZARRC_OK;
        }
        if ((rc = zarrc__user_fill_parse(p, dt, v, format))) {
            zarrc__fill_clear(f);
            return rc;
        }
        return ZARRC_OK;
    case ZARRC_DTYPE_OPTIONAL:
        if ((rc = zarrc__optional_fill_parse(f, dt, v, format))) {
            zarrc__fill_clear(f);
            return rc;
        }
        return ZARRC_OK;
    case ZARRC_DTYPE_BOOL:
        if (json_object_is_type(v, json_type_boolean))
            p[0] = (uint8_t)json_object_get_boolean(v);
        else if (format == 2 && json_object_is_type(v, json_type_int) &&
                 (json_object_get_int64(v) == 0 || json_object_get_int64(v) == 1))
            p[0] = (uint8_t)json_object_get_int64(v);
        else
            goto bad;
        return ZARRC_OK;
    case ZARRC_DTYPE_INT:
    case ZARRC_DTYPE_UINT:
    case ZARRC_DTYPE_DATETIME:
    case ZARRC_DTYPE_TIMEDELTA:
        if (parse_int(p, dt, v, format))
            goto bad;
        if (zarrc__dtype_subbyte_bits(dt)) { /* int2 [-2, 1], uint2 [0, 3], int4 [-8, 7], uint4 [0, 15] */
            unsigned bits = zarrc__dtype_subbyte_bits(dt);
            int x = dt->kind == ZARRC_DTYPE_INT ? (int)(int8_t)p[0] : (int)p[0];
            int lo = dt->kind == ZARRC_DTYPE_INT ? -(1 << (bits - 1)) : 0;
            int hi = dt->kind == ZARRC_DTYPE_INT ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
            if (x < lo || x > hi)
                goto bad;
        }
        return ZARRC_OK;
    case ZARRC_DTYPE_FLOAT:
        if (dt->item_size == 1) {
            if (parse_mini(p, zarrc__minifloat_find(dt->name), v))
                goto bad;
            return ZARRC_OK;
        }
        if (parse_float(p, (size_t)float_code(dt, dt->item_size), v, format))
            goto bad;
        return ZARRC_OK;
    case ZARRC_DTYPE_COMPLEX: {
        size_t w = dt->item_size / 2, code = (size_t)float_code(dt, w);
        if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) != 2)
            goto bad;
        for (size_t k = 0; k < 2; k++) {
            json_object *c = json_object_array_get_idx(v, k);
            if (w == 1 ? parse_mini(p + k, zarrc__minifloat_find(dt->name), c)
                       : parse_float(p + k * w, code, c, format))
                goto bad;
        }
        return ZARRC_OK;
    }
    case ZARRC_DTYPE_RAW:
    case ZARRC_DTYPE_FIXED_BYTES: {
        uint8_t *b;
        size_t n;
        if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 0)
            return ZARRC_OK; /* zarr-python 2 wrote 0 for "zero" */
        if (parse_byte_list(&b, &n, v))
            goto bad;
        /* S: up to one item's bytes, zero-padded (zarr-python writes b"ab" for |S5 as "YWI=");
         * V / r<N>: exactly one item's bytes. "" (zero bytes) is all zeros for both. */
        if (n > dt->item_size || (dt->kind == ZARRC_DTYPE_RAW && n != dt->item_size && n != 0)) {
            free(b);
            return bad_fill(v, dt, "wrong number of bytes");
        }
        memcpy(p, b, n);
        free(b);
        return ZARRC_OK;
    }
    case ZARRC_DTYPE_UTF32: {
        if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 0)
            return ZARRC_OK;
        if (!json_object_is_type(v, json_type_string))
            goto bad;
        /* Into the zeroed (malloc-aligned) element, writing only as many code points as the
         * text can have: work and memory touched follow the document, not the item size. */
        size_t len = (size_t)json_object_get_string_len((json_object *)v), max = dt->item_size / 4;
        rc = zarrc__utf8_to_utf32((uint32_t *)(void *)p, len < max ? len : max,
                                  json_object_get_string((json_object *)v), len);
        if (rc) {
            char why[256]; /* a copy: bad_fill overwrites the last error */
            snprintf(why, sizeof why, "%s", zarrc_error_last());
            return bad_fill(v, dt, why);
        }
        return ZARRC_OK;
    }
    case ZARRC_DTYPE_STRING:
        if (json_object_is_type(v, json_type_string)) {
            free(f->bytes);
            f->size = (size_t)json_object_get_string_len((json_object *)v);
            f->bytes = zarrc__malloc(f->size);
            if (!f->bytes)
                return ZARRC_ENOMEM;
            memcpy(f->bytes, json_object_get_string((json_object *)v), f->size);
            return ZARRC_OK;
        }
        if (format == 2 && json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 0)
            return ZARRC_OK;
        goto bad;
    case ZARRC_DTYPE_OBJECT: {
        /* numpy object fill: any JSON value, kept as its text (zarr-python 2 stores it
         * verbatim). Elements that are typed arrays take the empty array as fill (see
         * zarrc__dtype_object_arrays), so only null, 0 (zarr-python 2's default) and []
         * are accepted for them. */
        if (zarrc__dtype_object_arrays(dt) &&
            !(json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 0) &&
            !(json_object_is_type(v, json_type_array) && json_object_array_length(v) == 0))
            return bad_fill(v, dt, "an object array of typed arrays (vlen-array) reads missing "
                            "elements as empty arrays; only null, 0 or [] can be its fill value");
        const char *txt = json_object_to_json_string_ext((json_object *)v, JSON_C_TO_STRING_PLAIN |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!txt)
            return zarrc__enomem();
        free(f->bytes);
        f->size = strlen(txt);
        f->bytes = zarrc__malloc(f->size + 1);
        if (!f->bytes)
            return ZARRC_ENOMEM;
        memcpy(f->bytes, txt, f->size + 1);
        return ZARRC_OK;
    }
    case ZARRC_DTYPE_VBYTES: {
        uint8_t *b;
        size_t n;
        if (format == 2 && json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 0)
            return ZARRC_OK;
        if (parse_byte_list(&b, &n, v))
            goto bad;
        free(f->bytes);
        f->bytes = b;
        f->size = n;
        return ZARRC_OK;
    }
    }
bad:
    zarrc__fill_clear(f);
    return bad_fill(v, dt, NULL);
}

json_object *zarrc__float_to_json(const void *p, size_t size, bool hex_nan)
{
    double d;
    uint64_t bits = 0;
    bool canonical = false;
    if (size == 2) {
        uint16_t h;
        memcpy(&h, p, 2);
        d = zarrc_half_to_double(h);
        bits = h;
        canonical = h == 0x7e00;
    } else if (size == 4) {
        float f;
        uint32_t b;
        memcpy(&f, p, 4);
        memcpy(&b, p, 4);
        d = f;
        bits = b;
        canonical = b == 0x7fc00000u;
    } else {
        memcpy(&d, p, 8);
        memcpy(&bits, p, 8);
        canonical = bits == 0x7ff8000000000000ull;
    }
    if (isnan(d)) {
        if (hex_nan && !canonical) {
            char buf[40];
            snprintf(buf, sizeof buf, "0x%0*llx", (int)(2 * size), (unsigned long long)bits);
            return json_object_new_string(buf);
        }
        return json_object_new_string("NaN");
    }
    if (isinf(d))
        return json_object_new_string(d > 0 ? "Infinity" : "-Infinity");
    char buf[32];
    if (size == 4)
        zarrc__fmt_float(buf, (float)d);
    else
        zarrc__fmt_double(buf, d);
    return json_object_new_double_s(d, buf);
}

static json_object *bf16_to_json(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    double d = bf16_to_double(h);
    if (isnan(d) && h != 0x7fc0) {
        char buf[16];
        snprintf(buf, sizeof buf, "0x%04x", h);
        return json_object_new_string(buf);
    }
    if (isnan(d))
        return json_object_new_string("NaN");
    float f = (float)d;
    return zarrc__float_to_json(&f, 4, false);
}

json_object *zarrc__fill_to_json(const zarrc__fill *f, const zarrc_dtype_info *dt, int format)
{
    const uint8_t *p = f->bytes;
    if (f->is_null)
        return NULL;
    switch (dt->kind) {
    case ZARRC_DTYPE_STRUCT:
        return zarrc__struct_fill_to_json(p, dt, format);
    case ZARRC_DTYPE_USER:
        if (zarrc__dtype_is_user_vlen(dt))
            return zarrc__user_vfill_to_json(p, f->size, dt, format);
        return zarrc__user_fill_to_json(p, dt, format);
    case ZARRC_DTYPE_OPTIONAL:
        return zarrc__optional_fill_to_json(f, dt, format);
    case ZARRC_DTYPE_BOOL:
        return json_object_new_boolean(p[0] != 0);
    case ZARRC_DTYPE_INT:
    case ZARRC_DTYPE_DATETIME:
    case ZARRC_DTYPE_TIMEDELTA: {
        int64_t v = 0;
        if (dt->item_size == 1) { int8_t x; memcpy(&x, p, 1); v = x; }
        else if (dt->item_size == 2) { int16_t x; memcpy(&x, p, 2); v = x; }
        else if (dt->item_size == 4) { int32_t x; memcpy(&x, p, 4); v = x; }
        else memcpy(&v, p, 8);
        return json_object_new_int64(v);
    }
    case ZARRC_DTYPE_UINT: {
        uint64_t v = 0;
        if (dt->item_size == 1) v = p[0];
        else if (dt->item_size == 2) { uint16_t x; memcpy(&x, p, 2); v = x; }
        else if (dt->item_size == 4) { uint32_t x; memcpy(&x, p, 4); v = x; }
        else memcpy(&v, p, 8);
        return json_object_new_uint64(v);
    }
    case ZARRC_DTYPE_FLOAT:
        if (dt->item_size == 1)
            return mini_to_json(zarrc__minifloat_find(dt->name), p[0], format == 3);
        if (float_code(dt, dt->item_size) == BF16)
            return bf16_to_json(p);
        return zarrc__float_to_json(p, dt->item_size, format == 3);
    case ZARRC_DTYPE_COMPLEX: {
        size_t w = dt->item_size / 2;
        int code = float_code(dt, w);
        json_object *a = json_object_new_array();
        for (size_t k = 0; a && k < 2; k++)
            json_object_array_add(a, w == 1 ? mini_to_json(zarrc__minifloat_find(dt->name), p[k], format == 3)
                                     : code == BF16 ? bf16_to_json(p + 2 * k)
                                     : zarrc__float_to_json(p + k * w, w, format == 3));
        return a;
    }
    case ZARRC_DTYPE_RAW:
        if (format == 3 && strcmp(dt->name, "raw_bytes")) { /* r<N>: a list of byte values;
                                                               raw_bytes: Base64 (zarr-python) */
            json_object *a = json_object_new_array();
            for (size_t i = 0; i < dt->item_size; i++)
                json_object_array_add(a, json_object_new_int(p[i]));
            return a;
        }
        /* fallthrough */
    case ZARRC_DTYPE_FIXED_BYTES:
    case ZARRC_DTYPE_VBYTES: {
        /* S items are null-terminated: written without trailing NULs, as NumPy gives them. */
        size_t n = f->size;
        while (dt->kind == ZARRC_DTYPE_FIXED_BYTES && n > 0 && p[n - 1] == 0)
            n--;
        char *s = zarrc__base64_encode(p, n);
        json_object *o = s ? json_object_new_string(s) : NULL;
        free(s);
        return o;
    }
    case ZARRC_DTYPE_UTF32: {
        /* Up to the first U+0000 only (f->bytes is malloc-aligned): the cost follows the text,
         * not the item size. */
        size_t n = 0, max = dt->item_size / 4;
        const uint32_t *cp = (const uint32_t *)(const void *)p;
        while (n < max && cp[n])
            n++;
        char *s = zarrc__utf32_to_utf8(cp, n, NULL);
        json_object *o = s ? json_object_new_string(s) : NULL;
        free(s);
        return o;
    }
    case ZARRC_DTYPE_STRING:
        return json_object_new_string_len((const char *)p, (int)f->size);
    case ZARRC_DTYPE_OBJECT: /* the JSON text parse kept (NUL-terminated) */
        return json_tokener_parse((const char *)p);
    }
    return NULL;
}

int zarrc__dtype_to_json_v2(json_object **out, const zarrc_dtype_info *dt, bool big_endian)
{
    *out = NULL;
    if (dt->kind == ZARRC_DTYPE_STRUCT)
        return zarrc__struct_to_json_v2(out, dt->fields, big_endian);
    char typestr[64];
    zarrc_dtype_info d = *dt;
    d.big_endian = big_endian;
    int rc = zarrc_dtype_v2_string(typestr, sizeof typestr, &d);
    if (rc)
        return rc;
    *out = json_object_new_string(typestr);
    return *out ? ZARRC_OK : zarrc__enomem();
}

bool zarrc__dtype_equal(const zarrc_dtype_info *a, const zarrc_dtype_info *b)
{
    if (a->kind != b->kind || a->item_size != b->item_size || strcmp(a->name, b->name))
        return false;
    if (a->kind == ZARRC_DTYPE_STRUCT)
        return zarrc__struct_equal(a, b);
    if (a->kind == ZARRC_DTYPE_USER)
        return a->user == b->user;
    if (a->kind == ZARRC_DTYPE_OPTIONAL)
        return a->inner == b->inner; /* interned */
    return true;
}

int zarrc_dtype_value_to_json(char **json, const zarrc_dtype_info *dt, const void *elem)
{
    zarrc__error_clear();
    if (!json || !dt || !elem)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_dtype_value_to_json: NULL argument");
    *json = NULL;
    if (zarrc__dtype_is_vlen(dt) || dt->item_size == 0)
        return zarrc_error_set(ZARRC_EDTYPE, "data type '%s' has no fixed-size elements", dt->name);
    zarrc__fill f = {false, zarrc__malloc(dt->item_size), dt->item_size}; /* aligned copy */
    if (!f.bytes)
        return ZARRC_ENOMEM;
    memcpy(f.bytes, elem, dt->item_size);
    json_object *o = zarrc__fill_to_json(&f, dt, 3);
    bool null_value = zarrc__optional_fill_is_null(&f, dt);
    free(f.bytes);
    if (!o && null_value) {
        *json = zarrc__strdup("null");
        return *json ? ZARRC_OK : ZARRC_ENOMEM;
    }
    if (!o)
        return zarrc_error_code() ? zarrc_error_code() : zarrc_error_set(ZARRC_EDTYPE, "data type '%s': value has "
                                                                         "no JSON encoding", dt->name);
    *json = zarrc__json_dump(o, false);
    json_object_put(o);
    return *json ? ZARRC_OK : ZARRC_ENOMEM;
}

int zarrc_dtype_value_from_json(void *elem, const zarrc_dtype_info *dt, const char *json)
{
    zarrc__error_clear();
    if (!elem || !dt || !json)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_dtype_value_from_json: NULL argument");
    if (zarrc__dtype_is_vlen(dt) || dt->item_size == 0)
        return zarrc_error_set(ZARRC_EDTYPE, "data type '%s' has no fixed-size elements", dt->name);
    json_object *j;
    int rc = zarrc__json_parse(&j, json, strlen(json), "value");
    if (rc)
        return rc;
    zarrc__fill f;
    rc = zarrc__fill_parse(&f, dt, j, 3);
    json_object_put(j);
    if (rc)
        return rc;
    memcpy(elem, f.bytes, dt->item_size);
    zarrc__fill_clear(&f);
    return ZARRC_OK;
}

bool zarrc__dtype_is_core_name(const char *name)
{
    zarrc_dtype_info dt;
    int rc = parse_v3_name(&dt, name);
    zarrc__error_clear();
    return rc != ZARRC_ENOTFOUND;
}

void zarrc__dtype_unknown(zarrc_dtype_info *dt, const json_object *v)
{
    json_object *nm = NULL;
    const char *name = "?";
    if (json_object_is_type((json_object *)v, json_type_string))
        name = json_object_get_string((json_object *)v);
    else if (json_object_object_get_ex(v, "name", &nm) && json_object_is_type(nm, json_type_string))
        name = json_object_get_string(nm);
    init(dt, ZARRC_DTYPE_USER, 0, name);
}

bool zarrc__dtype_object_codec(zarrc_dtype_info *dt, const char *codec)
{
    if (!codec || dt->kind != ZARRC_DTYPE_STRING)
        return false;
    if (!strncmp(codec, "numcodecs.", 10))
        codec += 10;
    const char *unit = !strcmp(codec, "json2") || !strcmp(codec, "msgpack2") ? "json"
                     : !strcmp(codec, "vlen-array") ? "array" : NULL;
    if (!unit)
        return false;
    dt->kind = ZARRC_DTYPE_OBJECT;
    snprintf(dt->name, sizeof dt->name, "object");
    snprintf(dt->unit, sizeof dt->unit, "%s", unit);
    return true;
}
