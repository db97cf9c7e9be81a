/* json.c — the thin wrapper over json-c used by every layer and by plugins. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core.h"

int zarrc__json_parse(json_object **out, const char *text, size_t len, const char *what)
{
    /* json-c's default depth (32) refuses real documents (attributes nested 30-40 deep); a
     * bound remains because freeing and printing a value recurse once per level. json-c
     * counts the innermost value as a level too. */
    json_tokener *tok = json_tokener_new_ex(ZARRC_MAX_JSON_DEPTH + 1);
    if (!tok)
        return zarrc__enomem();
    json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error err = json_tokener_get_error(tok);
    if (!o && err == json_tokener_continue) {
        /* A bare number may still be waiting for more digits: end the input. */
        o = json_tokener_parse_ex(tok, "", 1);
        err = json_tokener_get_error(tok);
        len = 0; /* the first call consumed all the text: nothing trailing to check */
    }
    size_t off = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!o && err == json_tokener_success && len > 0) {
        /* A bare "null" document parses to NULL successfully. */
        *out = NULL;
        return ZARRC_OK;
    }
    if (err == json_tokener_error_depth) {
        json_object_put(o);
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "%s: JSON nesting deeper than %d levels at byte %zu", what,
                               ZARRC_MAX_JSON_DEPTH, off);
    }
    if (err != json_tokener_success) {
        json_object_put(o);
        return zarrc_error_set(ZARRC_EINVAL, "%s: malformed JSON at byte %zu: %s", what, off,
                               json_tokener_error_desc(err));
    }
    /* Trailing non-space text is an error. */
    for (size_t i = off; i < len; i++) {
        char c = text[i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t' && c != '\0') {
            json_object_put(o);
            return zarrc_error_set(ZARRC_EINVAL, "%s: malformed JSON: trailing text at byte %zu",
                                   what, i);
        }
    }
    *out = o;
    return ZARRC_OK;
}

/* Escape every non-ASCII character as \uXXXX (surrogate pairs above U+FFFF). json-c emits
 * non-ASCII bytes only inside strings, so this is safe byte-wise. Python 2-era readers
 * (zarr-python 2) decode metadata as ASCII. */
static char *ascii_escape(const char *s)
{
    size_t extra = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p >= 0x80)
            extra += 12;
    char *out = zarrc__malloc(strlen(s) + extra + 1), *o = out;
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x80) {
            *o++ = (char)*p++;
            continue;
        }
        uint32_t c = *p;
        int more = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 0;
        c &= more ? 0x3fu >> more : 0;
        p++;
        for (int k = 0; k < more && (*p & 0xc0) == 0x80; k++)
            c = c << 6 | (*p++ & 0x3f);
        if (c >= 0x10000) {
            c -= 0x10000;
            o += sprintf(o, "\\u%04x\\u%04x", 0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
        } else
            o += sprintf(o, "\\u%04x", c ? c : 0xfffd);
    }
    *o = '\0';
    return out;
}

char *zarrc__json_dump(json_object *o, bool pretty)
{
    int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
                (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN);
    const char *s = json_object_to_json_string_ext(o, flags);
    return ascii_escape(s ? s : "null");
}

json_object *zarrc__json_new_double(double d)
{
    char buf[32];
    zarrc__fmt_double(buf, d);
    return json_object_new_double_s(d, buf);
}

int zarrc__json_get_integer(const json_object *o, int64_t *i, uint64_t *u, bool *is_unsigned)
{
    *is_unsigned = false;
    if (json_object_is_type(o, json_type_int)) {
        int64_t v = json_object_get_int64(o);
        if (v == INT64_MAX) {
            uint64_t w = json_object_get_uint64(o);
            if (w > (uint64_t)INT64_MAX) {
                *is_unsigned = true;
                *u = w;
                *i = INT64_MAX;
                return ZARRC_OK;
            }
        }
        *i = v;
        *u = (uint64_t)v;
        return ZARRC_OK;
    }
    if (json_object_is_type(o, json_type_double)) {
        double d = json_object_get_double(o);
        if (isfinite(d) && d == floor(d) && d >= -9223372036854775808.0 &&
            d < 9223372036854775808.0) {
            *i = (int64_t)d;
            *u = (uint64_t)*i;
            return ZARRC_OK;
        }
        if (isfinite(d) && d == floor(d) && d >= 0 && d < 18446744073709551616.0) {
            *is_unsigned = true;
            *u = (uint64_t)d;
            *i = INT64_MAX;
            return ZARRC_OK;
        }
    }
    return ZARRC_EINVAL;
}

json_object *zarrc__json_deep_copy(const json_object *o)
{
    json_object *c = NULL;
    if (!o)
        return NULL;
    if (json_object_deep_copy((json_object *)o, &c, NULL) != 0) {
        zarrc__enomem();
        return NULL;
    }
    return c;
}

/* ---- public accessors (zarrc_plugin.h) ---- */

zarrc_json_type zarrc_json_typeof(const zarrc_json *v)
{
    switch (json_object_get_type(ZJ(v))) {
    case json_type_boolean: return ZARRC_JSON_BOOL;
    case json_type_int: return ZARRC_JSON_INT;
    case json_type_double: return ZARRC_JSON_DOUBLE;
    case json_type_string: return ZARRC_JSON_STRING;
    case json_type_array: return ZARRC_JSON_ARRAY;
    case json_type_object: return ZARRC_JSON_OBJECT;
    default: return ZARRC_JSON_NULL;
    }
}

const zarrc_json *zarrc_json_member(const zarrc_json *obj, const char *key)
{
    json_object *v = NULL;
    if (!json_object_is_type(ZJ(obj), json_type_object))
        return NULL;
    if (!json_object_object_get_ex(ZJ(obj), key, &v))
        return NULL;
    return ZJC(v);
}

size_t zarrc_json_length(const zarrc_json *arr)
{
    return json_object_is_type(ZJ(arr), json_type_array) ? json_object_array_length(ZJ(arr)) : 0;
}

const zarrc_json *zarrc_json_at(const zarrc_json *arr, size_t i)
{
    if (i >= zarrc_json_length(arr))
        return NULL;
    return ZJC(json_object_array_get_idx(ZJ(arr), i));
}

int zarrc_json_int(const zarrc_json *v, int64_t *out)
{
    int64_t i;
    uint64_t u;
    bool is_u;
    if (zarrc__json_get_integer(ZJ(v), &i, &u, &is_u) != ZARRC_OK || is_u)
        return ZARRC_EINVAL;
    *out = i;
    return ZARRC_OK;
}

int zarrc_json_double(const zarrc_json *v, double *out)
{
    if (json_object_is_type(ZJ(v), json_type_int) || json_object_is_type(ZJ(v), json_type_double)) {
        int64_t i;
        uint64_t u;
        bool is_u;
        if (json_object_is_type(ZJ(v), json_type_int) &&
            zarrc__json_get_integer(ZJ(v), &i, &u, &is_u) == ZARRC_OK)
            *out = is_u ? (double)u : (double)i;
        else
            *out = json_object_get_double(ZJ(v));
        return ZARRC_OK;
    }
    return ZARRC_EINVAL;
}

const char *zarrc_json_string(const zarrc_json *v)
{
    return json_object_is_type(ZJ(v), json_type_string) ? json_object_get_string(ZJ(v)) : NULL;
}

static const zarrc_json *opt_member(const zarrc_json *obj, const char *key)
{
    const zarrc_json *v = zarrc_json_member(obj, key);
    return zarrc_json_typeof(v) == ZARRC_JSON_NULL ? NULL : v;
}

int zarrc_json_opt_int(const zarrc_json *obj, const char *key, int64_t dflt, int64_t *out)
{
    const zarrc_json *v = opt_member(obj, key);
    if (!v) {
        *out = dflt;
        return ZARRC_OK;
    }
    if (zarrc_json_int(v, out) != ZARRC_OK)
        return zarrc_error_set(ZARRC_EINVAL, "'%s' must be an integer", key);
    return ZARRC_OK;
}

int zarrc_json_opt_double(const zarrc_json *obj, const char *key, double dflt, double *out)
{
    const zarrc_json *v = opt_member(obj, key);
    if (!v) {
        *out = dflt;
        return ZARRC_OK;
    }
    if (zarrc_json_double(v, out) != ZARRC_OK)
        return zarrc_error_set(ZARRC_EINVAL, "'%s' must be a number", key);
    return ZARRC_OK;
}

int zarrc_json_opt_bool(const zarrc_json *obj, const char *key, int dflt, int *out)
{
    const zarrc_json *v = opt_member(obj, key);
    if (!v) {
        *out = dflt;
        return ZARRC_OK;
    }
    if (!json_object_is_type(ZJ(v), json_type_boolean))
        return zarrc_error_set(ZARRC_EINVAL, "'%s' must be true or false", key);
    *out = json_object_get_boolean(ZJ(v));
    return ZARRC_OK;
}

int zarrc_json_opt_string(const zarrc_json *obj, const char *key, const char *dflt,
                          const char **out)
{
    const zarrc_json *v = opt_member(obj, key);
    if (!v) {
        *out = dflt;
        return ZARRC_OK;
    }
    if (!(*out = zarrc_json_string(v)))
        return zarrc_error_set(ZARRC_EINVAL, "'%s' must be a string", key);
    return ZARRC_OK;
}

static int put(zarrc_json *obj, const char *key, json_object *v)
{
    if (!v)
        return zarrc__enomem();
    if (json_object_object_add(ZJ(obj), key, v) != 0) {
        json_object_put(v);
        return zarrc_error_set(ZARRC_EINVAL, "cannot set '%s': not a JSON object", key);
    }
    return ZARRC_OK;
}

int zarrc_json_put_int(zarrc_json *obj, const char *key, int64_t v)
{
    return put(obj, key, json_object_new_int64(v));
}

int zarrc_json_put_uint(zarrc_json *obj, const char *key, uint64_t v)
{
    return put(obj, key, json_object_new_uint64(v));
}

int zarrc_json_put_double(zarrc_json *obj, const char *key, double v)
{
    if (!isfinite(v))
        return put(obj, key, json_object_new_string(isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity"));
    return put(obj, key, zarrc__json_new_double(v));
}

int zarrc_json_put_bool(zarrc_json *obj, const char *key, int v)
{
    return put(obj, key, json_object_new_boolean(v != 0));
}

int zarrc_json_put_string(zarrc_json *obj, const char *key, const char *v)
{
    return put(obj, key, json_object_new_string(v));
}

int zarrc_json_put_null(zarrc_json *obj, const char *key)
{
    if (json_object_object_add(ZJ(obj), key, NULL) != 0)
        return zarrc_error_set(ZARRC_EINVAL, "cannot set '%s': not a JSON object", key);
    return ZARRC_OK;
}

int zarrc_json_put_copy(zarrc_json *obj, const char *key, const zarrc_json *v)
{
    if (!v)
        return zarrc_json_put_null(obj, key);
    return put(obj, key, zarrc__json_deep_copy(ZJ(v)));
}

/* json-c saturates integers beyond 64 bits; callers that must not read such a number wrong find
 * it in the text first. */
const char *zarrc_json_find_wide_integer(const char *t, size_t n, size_t *len)
{
    bool str = false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                str = false;
            continue;
        }
        if (c == '"') {
            str = true;
            continue;
        }
        if (!(c == '-' || (c >= '0' && c <= '9')) || (i && ((t[i - 1] >= '0' && t[i - 1] <= '9') ||
                                                           strchr(".eE+-", t[i - 1]))))
            continue;
        size_t j = i + (c == '-');
        while (j < n && t[j] >= '0' && t[j] <= '9')
            j++;
        size_t digits = j - i - (c == '-');
        bool integer = j >= n || !strchr(".eE", t[j]);
        if (integer && digits >= 19) {
            /* compare with 9223372036854775808 (negative) or 18446744073709551615 */
            const char *lim = c == '-' ? "9223372036854775808" : "18446744073709551615";
            size_t ll = strlen(lim);
            const char *d = t + i + (c == '-');
            if (digits > ll || (digits == ll && memcmp(d, lim, ll) > 0)) {
                *len = j - i;
                return t + i;
            }
        }
        i = j - 1;
    }
    return NULL;
}
