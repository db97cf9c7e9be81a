/* cli_object.c — JSON in and out for object arrays (ZARRC_DTYPE_OBJECT): numcodecs json2 and
 * msgpack2 elements are JSON values, printed and read as themselves; vlen-array elements are
 * 1-D typed arrays, printed and read as lists of numbers. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "zarrc_plugin.h" /* half-float conversions */

/* The element type of a vlen-array object array into *item (NULL: JSON elements). */
static int item_of(zarrc_array *arr, zarrc_dtype_info *item, const zarrc_dtype_info **out)
{
    const zarrc_dtype_info *dt = zarrc_array_dtype(arr);
    *out = NULL;
    if (strcmp(dt->unit, "array"))
        return 0;
    int rc = zarrc_array_object_item(arr, item);
    if (rc)
        return cli_fail_lib(rc, "the element type of the object array");
    *out = item;
    return 0;
}

/* ---- output ---- */

static void put_number(FILE *out, const zarrc_dtype_info *it, const uint8_t *p)
{
    char buf[48];
    size_t w = it->item_size;
    switch (it->kind) {
    case ZARRC_DTYPE_BOOL: fputs(*p ? "true" : "false", out); return;
    case ZARRC_DTYPE_INT: {
        int64_t v = w == 1 ? *(const int8_t *)p : 0;
        if (w == 2) { int16_t x; memcpy(&x, p, 2); v = x; }
        if (w == 4) { int32_t x; memcpy(&x, p, 4); v = x; }
        if (w == 8) memcpy(&v, p, 8);
        fprintf(out, "%" PRId64, v);
        return;
    }
    case ZARRC_DTYPE_UINT: {
        uint64_t v = w == 1 ? *p : 0;
        if (w == 2) { uint16_t x; memcpy(&x, p, 2); v = x; }
        if (w == 4) { uint32_t x; memcpy(&x, p, 4); v = x; }
        if (w == 8) memcpy(&v, p, 8);
        fprintf(out, "%" PRIu64, v);
        return;
    }
    case ZARRC_DTYPE_FLOAT:
        cli_format_float(buf, p, (int)w);
        fputs(buf, out);
        return;
    case ZARRC_DTYPE_COMPLEX:
        cli_format_float(buf, p, (int)w / 2);
        fprintf(out, "[%s,", buf);
        cli_format_float(buf, p + w / 2, (int)w / 2);
        fprintf(out, "%s]", buf);
        return;
    default: fputs("null", out); return;
    }
}

int cli_object_print_json(FILE *out, zarrc_array *arr, const zarrc_vlen *v, int64_t n, int out_ndim,
                          const int64_t *out_shape)
{
    zarrc_dtype_info item;
    const zarrc_dtype_info *it;
    if (item_of(arr, &item, &it))
        return CLI_EXIT_FAIL;
    if (n > 0 && (v->count != n || !v->offsets || v->offsets[0] != 0 || v->offsets[n] > v->size))
        return cli_fail("internal error: malformed variable-length result");
    fputs("{\"shape\":[", out);
    for (int d = 0; d < out_ndim; d++)
        fprintf(out, "%s%lld", d ? "," : "", (long long)out_shape[d]);
    fprintf(out, "],\"dtype\":\"object\",\"data\":[");
    for (int64_t i = 0; i < n; i++) {
        uint64_t a = v->offsets[i], b = v->offsets[i + 1];
        if (b < a || b > v->size)
            return cli_fail("internal error: malformed variable-length offsets");
        if (i)
            fputc(',', out);
        if (!it) { /* a JSON text, as the library decoded it */
            if (b == a)
                fputs("null", out);
            else if (fwrite(v->data + a, 1, (size_t)(b - a), out) != (size_t)(b - a))
                return cli_fail("writing the output: %s", strerror(errno));
            continue;
        }
        fputc('[', out);
        for (uint64_t k = a; k + it->item_size <= b; k += it->item_size) {
            if (k > a)
                fputc(',', out);
            put_number(out, it, v->data + k);
        }
        fputc(']', out);
    }
    fputs("]}\n", out);
    return 0;
}

/* ---- input ---- */

typedef struct obuf {
    uint8_t *p;
    size_t n, cap;
} obuf;

static int ob_add(obuf *b, const void *p, size_t n)
{
    if (n > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->n < n) {
            if (cap > SIZE_MAX / 2)
                return -1;
            cap *= 2;
        }
        uint8_t *q = realloc(b->p, cap);
        if (!q)
            return -1;
        b->p = q;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    return 0;
}

/* One number of a typed element into `dst` (item type `it`); a message on failure. */
static const char *to_item(const zarrc_dtype_info *it, json_object *e, uint8_t *dst)
{
    size_t w = it->item_size;
    enum json_type t = json_object_get_type(e);
    if (it->kind == ZARRC_DTYPE_BOOL) {
        if (t != json_type_boolean)
            return "is not true or false";
        *dst = (uint8_t)json_object_get_boolean(e);
        return NULL;
    }
    if (it->kind == ZARRC_DTYPE_INT || it->kind == ZARRC_DTYPE_UINT) {
        if (t != json_type_int)
            return "is not an integer";
        errno = 0;
        int64_t s = json_object_get_int64(e);
        uint64_t u = s == INT64_MAX ? json_object_get_uint64(e) : (uint64_t)s;
        int bits = (int)(8 * w);
        if (it->kind == ZARRC_DTYPE_INT) {
            int64_t lo = bits == 64 ? INT64_MIN : -(INT64_C(1) << (bits - 1));
            int64_t hi = bits == 64 ? INT64_MAX : (INT64_C(1) << (bits - 1)) - 1;
            if (s < lo || s > hi || (s == INT64_MAX && u > (uint64_t)INT64_MAX))
                return "is out of range for the element type";
            u = (uint64_t)s;
        } else if (s < 0 || (bits < 64 && u >> bits))
            return "is out of range for the element type";
        for (size_t k = 0; k < w; k++) /* little-endian bytes, then native order */
            dst[k] = (uint8_t)(u >> (8 * k));
        const uint16_t one = 1;
        if (*(const uint8_t *)&one == 0)
            for (size_t a = 0, b = w - 1; a < b; a++, b--) {
                uint8_t tmp = dst[a];
                dst[a] = dst[b];
                dst[b] = tmp;
            }
        return NULL;
    }
    if (it->kind == ZARRC_DTYPE_FLOAT || it->kind == ZARRC_DTYPE_COMPLEX) {
        size_t cw = it->kind == ZARRC_DTYPE_COMPLEX ? w / 2 : w;
        json_object *parts[2] = {e, NULL};
        int np = 1;
        if (it->kind == ZARRC_DTYPE_COMPLEX) {
            if (t != json_type_array || json_object_array_length(e) != 2)
                return "is not a complex [re, im] pair";
            parts[0] = json_object_array_get_idx(e, 0);
            parts[1] = json_object_array_get_idx(e, 1);
            np = 2;
        }
        for (int k = 0; k < np; k++) {
            double d;
            enum json_type pt = json_object_get_type(parts[k]);
            if (pt == json_type_int || pt == json_type_double)
                d = json_object_get_double(parts[k]);
            else if (pt == json_type_string && !strcmp(json_object_get_string(parts[k]), "NaN"))
                d = NAN;
            else if (pt == json_type_string && !strcmp(json_object_get_string(parts[k]), "Infinity"))
                d = INFINITY;
            else if (pt == json_type_string && !strcmp(json_object_get_string(parts[k]), "-Infinity"))
                d = -INFINITY;
            else
                return "is not a number";
            uint8_t *q = dst + (size_t)k * cw;
            if (cw == 8)
                memcpy(q, &d, 8);
            else if (cw == 4) {
                float f = (float)d;
                memcpy(q, &f, 4);
            } else if (cw == 2) {
                uint16_t h = zarrc_double_to_half(d);
                memcpy(q, &h, 2);
            } else
                return "has an unsupported float width";
        }
        return NULL;
    }
    return "cannot be converted: unsupported element type";
}

/* Element `k` of the input (its JSON value `e`) appended to the data. */
static int add_element(obuf *data, uint64_t *offsets, int64_t k, json_object *e, const zarrc_dtype_info *it,
                       const char *src)
{
    if (!it) {
        const char *txt = json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!txt || ob_add(data, txt, strlen(txt)))
            return cli_fail("out of memory");
    } else if (e) { /* null: an empty array, as numcodecs writes None */
        if (!json_object_is_type(e, json_type_array))
            return cli_fail("%s: value #%lld is not a list of '%s' values", src, (long long)k, it->name);
        uint8_t tmp[16];
        for (size_t i = 0; i < json_object_array_length(e); i++) {
            const char *why = to_item(it, json_object_array_get_idx(e, i), tmp);
            if (why)
                return cli_fail("%s: value #%lld, item %zu %s ('%s')", src, (long long)k, i, why, it->name);
            if (ob_add(data, tmp, it->item_size))
                return cli_fail("out of memory");
        }
    }
    offsets[k + 1] = data->n;
    return 0;
}

/* The elements of a nested list of the selection's shape, row-major. */
static int walk(obuf *data, uint64_t *offsets, int64_t *k, json_object *o, int d, int ndim, const int64_t *shape,
                const zarrc_dtype_info *it, const char *src)
{
    if (d == ndim)
        return add_element(data, offsets, (*k)++, o, it, src);
    if (!json_object_is_type(o, json_type_array) || json_object_array_length(o) != (size_t)shape[d])
        return cli_fail("%s: expected a list of %lld values at nesting level %d (the selection's shape)", src,
                        (long long)shape[d], d + 1);
    for (size_t i = 0; i < json_object_array_length(o); i++)
        if (walk(data, offsets, k, json_object_array_get_idx(o, i), d + 1, ndim, shape, it, src))
            return -1;
    return 0;
}

int cli_object_read_json(FILE *in, const char *src, zarrc_array *arr, zarrc_vlen *v, int64_t n, int out_ndim,
                         const int64_t *out_shape)
{
    zarrc_dtype_info item;
    const zarrc_dtype_info *it;
    memset(v, 0, sizeof *v);
    if (item_of(arr, &item, &it))
        return CLI_EXIT_FAIL;
    obuf text = {0}, data = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, in)) > 0)
        if (ob_add(&text, chunk, got)) {
            free(text.p);
            return cli_fail("out of memory");
        }
    if (ferror(in)) {
        free(text.p);
        return cli_fail("%s: read error: %s", src, strerror(errno));
    }
    size_t bad_len;
    const char *bad = zarrc_json_find_wide_integer((const char *)text.p, text.n, &bad_len);
    if (bad) {
        cli_fail("%s: the integer %.*s%s does not fit 64 bits", src, (int)(bad_len < 40 ? bad_len : 40), bad,
                 bad_len > 40 ? "..." : "");
        free(text.p);
        return CLI_EXIT_FAIL;
    }
    json_tokener *tok = json_tokener_new_ex(256);
    json_object *doc = NULL;
    enum json_tokener_error err = json_tokener_error_size;
    if (tok && text.n <= (size_t)INT32_MAX) {
        doc = json_tokener_parse_ex(tok, text.n ? (const char *)text.p : "", (int)text.n);
        err = json_tokener_get_error(tok);
        if (err == json_tokener_continue) {
            doc = json_tokener_parse_ex(tok, "", 1);
            err = json_tokener_get_error(tok);
        }
    }
    json_tokener_free(tok);
    free(text.p);
    if (err != json_tokener_success) {
        json_object_put(doc);
        return cli_fail("%s: not valid JSON (%s)", src, json_tokener_error_desc(err));
    }
    json_object *list = doc, *d = NULL;
    if (json_object_is_type(doc, json_type_object) && json_object_object_get_ex(doc, "data", &d))
        list = d;
    int rc = 0;
    v->offsets = calloc((size_t)n + 1, sizeof *v->offsets);
    if (!v->offsets)
        rc = cli_fail("out of memory");
    else if (!json_object_is_type(list, json_type_array))
        rc = cli_fail("%s: expected a list of values (or an object with a \"data\" list)", src);
    else {
        size_t len = json_object_array_length(list);
        int64_t k = 0;
        /* A flat list of every element, or lists nested with the selection's shape. */
        bool flat = out_ndim <= 1 || ((int64_t)len == n && n != out_shape[0]);
        if (flat && (int64_t)len != n)
            rc = cli_fail("%s: expected %lld values, got %zu", src, (long long)n, len);
        for (size_t i = 0; flat && !rc && i < len; i++)
            rc = add_element(&data, v->offsets, k++, json_object_array_get_idx(list, i), it, src);
        if (!flat)
            rc = walk(&data, v->offsets, &k, list, 0, out_ndim, out_shape, it, src);
    }
    json_object_put(doc);
    if (rc) {
        free(v->offsets);
        free(data.p);
        memset(v, 0, sizeof *v);
        return CLI_EXIT_FAIL;
    }
    v->count = n;
    v->data = data.p ? data.p : malloc(1);
    v->size = data.n;
    return 0;
}
