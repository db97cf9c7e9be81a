/*
 * serve_parse.c — the parsers of `zarrc serve` for untrusted text: URL paths, integer lists,
 * tiled slices, Range headers, API key lines and tiled dtype objects. No I/O; every allocation
 * is bounded by the input's length. Driven by tests/fuzz/fuzz_serve.c.
 */
#include "serve.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int serve_path_normalize(char **out, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    size_t n = strlen(path);
    char *res = malloc(n + 1);
    if (!res) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t w = 0;
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t)(p - s);
        if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.')) {
            snprintf(err, errlen, "path segment '%.*s' is not allowed", (int)len, s);
            free(res);
            return -1;
        }
        if (len >= 7 && memcmp(s, ".zarrc-", 7) == 0) {
            snprintf(err, errlen, "internal file '%.*s' is not served", (int)(len > 64 ? 64 : len), s);
            free(res);
            return -1;
        }
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c < 0x20 || c == 0x7f || c == '\\') {
                snprintf(err, errlen, "path contains a control character or backslash");
                free(res);
                return -1;
            }
            if (c == '%' && i + 2 < len && s[i + 1] == '2' && (s[i + 2] == 'e' || s[i + 2] == 'E')) {
                snprintf(err, errlen, "path contains an encoded '.'");
                free(res);
                return -1;
            }
        }
        if (w)
            res[w++] = '/';
        memcpy(res + w, s, len);
        w += len;
    }
    res[w] = 0;
    *out = res;
    return 0;
}

/* Parse [s, e) as a decimal int64 with an optional '-' (allow_neg). */
static int parse_int(const char *s, const char *e, int allow_neg, int64_t *v)
{
    int neg = 0;
    if (s < e && (*s == '-' || *s == '+')) {
        if (*s == '-') {
            if (!allow_neg)
                return -1;
            neg = 1;
        }
        s++;
    }
    if (s == e)
        return -1;
    uint64_t acc = 0;
    for (; s < e; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (acc > (UINT64_MAX - d) / 10)
            return -2;
        acc = acc * 10 + d;
        if (acc > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
            return -2;
    }
    if (neg)
        *v = acc == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)acc;
    else
        *v = (int64_t)acc;
    return 0;
}

/* The number of comma-separated items of a non-empty text, or -1 when there are more than max. */
static int comma_items(const char *text, int max)
{
    int count = 1;
    for (const char *p = text; *p; p++)
        if (*p == ',' && ++count > max)
            return -1;
    return count;
}

int serve_parse_uint_list(int64_t **out, int *n, const char *text, int max_items, const char *what,
                          char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (!*text)
        return 0;
    int count = comma_items(text, max_items);
    if (count < 0) {
        snprintf(err, errlen, "'%s' has more than %d entries", what, max_items);
        return -1;
    }
    int64_t *v = malloc(sizeof *v * (size_t)count);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *p = text;
    for (int i = 0; i < count; i++) {
        const char *e = strchr(p, ',');
        if (!e)
            e = p + strlen(p);
        int rc = parse_int(p, e, 0, &v[i]);
        if (rc) {
            snprintf(err, errlen, "'%s' entry %d ('%.*s') is %s", what, i, (int)((e - p) > 40 ? 40 : (e - p)), p,
                     rc == -2 ? "too large" : "not a non-negative integer");
            free(v);
            return -1;
        }
        p = *e ? e + 1 : e;
    }
    *out = v;
    *n = count;
    return 0;
}

int serve_parse_slice(serve_slice_dim **dims, int *ndims, const char *text, int max_dims, char *err,
                      size_t errlen)
{
    *dims = NULL;
    *ndims = 0;
    if (!*text)
        return 0;
    int count = comma_items(text, max_dims);
    if (count < 0) {
        snprintf(err, errlen, "slice has more than %d dimensions", max_dims);
        return -1;
    }
    serve_slice_dim *d = calloc((size_t)count, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *p = text;
    for (int i = 0; i < count; i++) {
        const char *e = strchr(p, ',');
        if (!e)
            e = p + strlen(p);
        /* Split at ':' (at most two). */
        const char *parts[3] = {p, NULL, NULL}, *ends[3] = {e, NULL, NULL};
        int nparts = 1;
        for (const char *q = p; q < e; q++) {
            if (*q == ':') {
                if (nparts == 3) {
                    snprintf(err, errlen, "slice dimension %d has more than two ':'", i);
                    free(d);
                    return -1;
                }
                ends[nparts - 1] = q;
                parts[nparts] = q + 1;
                ends[nparts] = e;
                nparts++;
            }
        }
        int64_t vals[3] = {0, 0, 0};
        int has[3] = {0, 0, 0};
        for (int k = 0; k < nparts; k++) {
            const char *s = parts[k], *t = ends[k];
            while (s < t && *s == ' ')
                s++;
            while (t > s && t[-1] == ' ')
                t--;
            if (s == t)
                continue;
            int rc = parse_int(s, t, 1, &vals[k]);
            if (rc) {
                snprintf(err, errlen, "slice dimension %d: '%.*s' is %s", i, (int)((t - s) > 40 ? 40 : (t - s)), s,
                         rc == -2 ? "out of range" : "not an integer");
                free(d);
                return -1;
            }
            has[k] = 1;
        }
        if (nparts == 1) {
            if (!has[0]) {
                snprintf(err, errlen, "slice dimension %d is empty", i);
                free(d);
                return -1;
            }
            d[i].is_index = 1;
            d[i].start = vals[0];
            d[i].has_start = 1;
        } else {
            d[i].has_start = has[0];
            d[i].start = vals[0];
            d[i].has_stop = has[1];
            d[i].stop = vals[1];
            d[i].has_step = has[2];
            d[i].step = has[2] ? vals[2] : 1;
            if (d[i].has_step && d[i].step == 0) {
                snprintf(err, errlen, "slice dimension %d: step must not be zero", i);
                free(d);
                return -1;
            }
            if (d[i].step == INT64_MIN) {
                snprintf(err, errlen, "slice dimension %d: step out of range", i);
                free(d);
                return -1;
            }
        }
        p = *e ? e + 1 : e;
    }
    *dims = d;
    *ndims = count;
    return 0;
}

void serve_box_free(serve_box *box)
{
    if (!box)
        return;
    free(box->first);
    free(box->step);
    free(box->count);
    free(box->keep);
    memset(box, 0, sizeof *box);
}

int serve_box_resolve(serve_box *box, const serve_slice_dim *dims, int ndims, int ndim,
                      const int64_t *shape, char *err, size_t errlen)
{
    memset(box, 0, sizeof *box);
    if (ndims > ndim) {
        snprintf(err, errlen, "slice has %d dimensions, the array %d", ndims, ndim);
        return -1;
    }
    size_t n = ndim > 0 ? (size_t)ndim : 1;
    box->ndim = ndim;
    box->first = calloc(n, sizeof(int64_t));
    box->step = calloc(n, sizeof(int64_t));
    box->count = calloc(n, sizeof(int64_t));
    box->keep = calloc(n, sizeof(int));
    if (!box->first || !box->step || !box->count || !box->keep) {
        serve_box_free(box);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int d = 0; d < ndim; d++) {
        int64_t len = shape[d];
        if (d >= ndims) {
            box->first[d] = 0;
            box->step[d] = 1;
            box->count[d] = len;
            box->keep[d] = 1;
            continue;
        }
        const serve_slice_dim *s = &dims[d];
        if (s->is_index) {
            int64_t i = s->start;
            if (i < 0 && i >= -len)
                i += len;
            if (i < 0 || i >= len) {
                snprintf(err, errlen, "index %" PRId64 " is out of bounds for dimension %d of size %" PRId64, s->start,
                         d, len);
                serve_box_free(box);
                return -1;
            }
            box->first[d] = i;
            box->step[d] = 1;
            box->count[d] = 1;
            box->keep[d] = 0;
            continue;
        }
        int64_t step = s->has_step ? s->step : 1;
        int64_t start, stop;
        /* numpy's PySlice_AdjustIndices, without overflow (|values| are clipped first). */
        if (step > 0) {
            if (!s->has_start)
                start = 0;
            else if (s->start < 0)
                start = s->start < -len ? 0 : s->start + len;
            else
                start = s->start > len ? len : s->start;
            if (!s->has_stop)
                stop = len;
            else if (s->stop < 0)
                stop = s->stop < -len ? 0 : s->stop + len;
            else
                stop = s->stop > len ? len : s->stop;
            int64_t cnt = stop > start ? (stop - start - 1) / step + 1 : 0;
            box->first[d] = start;
            box->count[d] = cnt;
        } else {
            if (!s->has_start)
                start = len - 1;
            else if (s->start < 0)
                start = s->start < -len ? -1 : s->start + len;
            else
                start = s->start >= len ? len - 1 : s->start;
            if (!s->has_stop)
                stop = -1;
            else if (s->stop < 0)
                stop = s->stop < -len ? -1 : s->stop + len;
            else
                stop = s->stop >= len ? len - 1 : s->stop;
            int64_t cnt = start > stop ? (start - stop - 1) / (-step) + 1 : 0;
            box->first[d] = cnt ? start : 0;
            box->count[d] = cnt;
        }
        box->step[d] = step;
        box->keep[d] = 1;
    }
    return 0;
}

int serve_parse_range(const char *header, uint64_t size, uint64_t *first, uint64_t *last)
{
    if (!header)
        return 0;
    while (*header == ' ')
        header++;
    if (strncmp(header, "bytes=", 6) != 0)
        return 0;
    const char *p = header + 6;
    while (*p == ' ')
        p++;
    if (strchr(p, ','))
        return 0; /* several ranges: serve the whole value (allowed by RFC 9110) */
    const char *dash = strchr(p, '-');
    if (!dash)
        return 0;
    const char *e = dash + strlen(dash);
    while (e > dash + 1 && e[-1] == ' ')
        e--;
    int64_t a = 0, b = 0;
    int has_a = dash > p, has_b = e > dash + 1;
    if (has_a && parse_int(p, dash, 0, &a))
        return 0;
    if (has_b && parse_int(dash + 1, e, 0, &b))
        return 0;
    if (!has_a && !has_b)
        return 0;
    if (!has_a) { /* suffix: the last b bytes */
        if (b == 0 || size == 0)
            return -1;
        *first = (uint64_t)b >= size ? 0 : size - (uint64_t)b;
        *last = size - 1;
        return 1;
    }
    if (has_b && b < a)
        return 0; /* syntactically invalid: ignore the header */
    if ((uint64_t)a >= size)
        return -1;
    *first = (uint64_t)a;
    *last = has_b && (uint64_t)b < size - 1 ? (uint64_t)b : size - 1;
    return 1;
}

int serve_parse_key_line(const char *line, char *key, size_t keylen, int *rw, char *err, size_t errlen)
{
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p || *p == '#' || *p == '\n' || *p == '\r')
        return 0;
    const char *ks = p;
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    size_t klen = (size_t)(p - ks);
    if (klen == 0 || (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')) {
        snprintf(err, errlen, "the key must match \\w+");
        return -1;
    }
    if (klen + 1 > keylen) {
        snprintf(err, errlen, "the key is longer than %zu characters", keylen - 1);
        return -1;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    const char *as = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
        p++;
    size_t alen = (size_t)(p - as);
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p && *p != '#') {
        snprintf(err, errlen, "unexpected text after the access level");
        return -1;
    }
    if (alen == 2 && memcmp(as, "rw", 2) == 0)
        *rw = 1;
    else if (alen == 2 && memcmp(as, "ro", 2) == 0)
        *rw = 0;
    else {
        snprintf(err, errlen, "the access level must be 'rw' or 'ro'");
        return -1;
    }
    memcpy(key, ks, klen);
    key[klen] = 0;
    return 1;
}

size_t serve_swap_width(const zarrc_dtype_info *dt)
{
    switch (dt->kind) {
    case ZARRC_DTYPE_INT:
    case ZARRC_DTYPE_UINT:
    case ZARRC_DTYPE_FLOAT:
    case ZARRC_DTYPE_DATETIME:
    case ZARRC_DTYPE_TIMEDELTA:
        return dt->item_size;
    case ZARRC_DTYPE_COMPLEX:
        return dt->item_size / 2;
    case ZARRC_DTYPE_UTF32:
        return 4;
    default:
        return 1;
    }
}

void serve_swap(uint8_t *p, size_t n, size_t width)
{
    if (width <= 1)
        return;
    for (size_t i = 0; i + width <= n; i += width)
        for (size_t a = 0, b = width - 1; a < b; a++, b--) {
            uint8_t t = p[i + a];
            p[i + a] = p[i + b];
            p[i + b] = t;
        }
}

static const char *json_str(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

int serve_dtype_from_tiled(char *out, size_t outlen, json_object *dt, char *err, size_t errlen)
{
    if (!dt || !json_object_is_type(dt, json_type_object)) {
        snprintf(err, errlen, "data_type must be an object");
        return -1;
    }
    json_object *v;
    if (json_object_object_get_ex(dt, "fields", &v)) {
        snprintf(err, errlen, "structured data types are not supported");
        return -1;
    }
    const char *kind = json_str(dt, "kind"), *endian = json_str(dt, "endianness");
    if (!kind || strlen(kind) != 1 || !strchr("biufcmMSUV", kind[0])) {
        snprintf(err, errlen, "data_type.kind must be one of b i u f c m M S U V");
        return -1;
    }
    if (!json_object_object_get_ex(dt, "itemsize", &v) || !json_object_is_type(v, json_type_int)) {
        snprintf(err, errlen, "data_type.itemsize must be an integer");
        return -1;
    }
    int64_t itemsize = json_object_get_int64(v);
    if (itemsize < 1 || itemsize > (1 << 20)) {
        snprintf(err, errlen, "data_type.itemsize %" PRId64 " is out of range", itemsize);
        return -1;
    }
    char order = '<';
    if (endian && strcmp(endian, "big") == 0)
        order = '>';
    else if (endian && strcmp(endian, "little") != 0 && strcmp(endian, "not_applicable") != 0) {
        snprintf(err, errlen, "data_type.endianness must be little, big or not_applicable");
        return -1;
    }
    switch (kind[0]) {
    case 'b':
        if (itemsize != 1)
            goto bad_size;
        snprintf(out, outlen, "|b1");
        return 0;
    case 'i':
    case 'u':
        if (itemsize != 1 && itemsize != 2 && itemsize != 4 && itemsize != 8)
            goto bad_size;
        snprintf(out, outlen, "%c%c%d", itemsize == 1 ? '|' : order, kind[0], (int)itemsize);
        return 0;
    case 'f':
        if (itemsize != 2 && itemsize != 4 && itemsize != 8)
            goto bad_size;
        snprintf(out, outlen, "%cf%d", order, (int)itemsize);
        return 0;
    case 'c':
        if (itemsize != 8 && itemsize != 16)
            goto bad_size;
        snprintf(out, outlen, "%cc%d", order, (int)itemsize);
        return 0;
    case 'm':
    case 'M': {
        if (itemsize != 8)
            goto bad_size;
        const char *units = json_str(dt, "dt_units");
        if (!units || !*units) {
            snprintf(err, errlen, "data_type.dt_units is required for kind %c", kind[0]);
            return -1;
        }
        for (const char *q = units; *q; q++)
            if (!isalnum((unsigned char)*q) && *q != '[' && *q != ']') {
                snprintf(err, errlen, "data_type.dt_units is malformed");
                return -1;
            }
        if (strlen(units) > 12) {
            snprintf(err, errlen, "data_type.dt_units is malformed");
            return -1;
        }
        snprintf(out, outlen, "%c%c8%s", order, kind[0], units);
        return 0;
    }
    case 'S':
        snprintf(out, outlen, "|S%d", (int)itemsize);
        return 0;
    case 'V':
        snprintf(out, outlen, "|V%d", (int)itemsize);
        return 0;
    case 'U':
        if (itemsize % 4)
            goto bad_size;
        snprintf(out, outlen, "%cU%d", order, (int)(itemsize / 4));
        return 0;
    }
bad_size:
    snprintf(err, errlen, "data_type.itemsize %" PRId64 " is not valid for kind %c", itemsize, kind[0]);
    return -1;
}

json_object *serve_dtype_to_tiled(const zarrc_dtype_info *dt)
{
    const char *kind = NULL;
    int byte_order_matters = 1;
    switch (dt->kind) {
    case ZARRC_DTYPE_BOOL: kind = "b"; byte_order_matters = 0; break;
    case ZARRC_DTYPE_INT: kind = "i"; break;
    case ZARRC_DTYPE_UINT: kind = "u"; break;
    case ZARRC_DTYPE_FLOAT: kind = "f"; break;
    case ZARRC_DTYPE_COMPLEX: kind = "c"; break;
    case ZARRC_DTYPE_RAW: kind = "V"; byte_order_matters = 0; break;
    case ZARRC_DTYPE_FIXED_BYTES: kind = "S"; byte_order_matters = 0; break;
    case ZARRC_DTYPE_UTF32: kind = "U"; break;
    case ZARRC_DTYPE_DATETIME: kind = "M"; break;
    case ZARRC_DTYPE_TIMEDELTA: kind = "m"; break;
    default: return NULL;
    }
    if (dt->item_size == 1)
        byte_order_matters = 0;
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_add(o, "endianness",
                           json_object_new_string(!byte_order_matters ? "not_applicable"
                                                  : dt->big_endian    ? "big"
                                                                      : "little"));
    json_object_object_add(o, "kind", json_object_new_string(kind));
    json_object_object_add(o, "itemsize", json_object_new_int64((int64_t)dt->item_size));
    if (dt->kind == ZARRC_DTYPE_DATETIME || dt->kind == ZARRC_DTYPE_TIMEDELTA) {
        char units[40];
        if (dt->scale_factor != 1)
            snprintf(units, sizeof units, "[%" PRId64 "%s]", dt->scale_factor, dt->unit);
        else
            snprintf(units, sizeof units, "[%s]", dt->unit);
        json_object_object_add(o, "dt_units", json_object_new_string(units));
    } else {
        json_object_object_add(o, "dt_units", NULL);
    }
    return o;
}
