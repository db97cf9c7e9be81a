/* codec_object.c — numcodecs' object codecs `json2` and `msgpack2` for v2 object (|O) arrays
 * whose elements are JSON values. In memory each element is its JSON text (zarrc_vlen).
 *
 * Both store the chunk as numcodecs does (numcodecs/json.py, msgpacks.py): one list of the
 * chunk's elements (nested lists for N-d chunks, row-major), followed by the NumPy type string
 * "|O" and the chunk shape; a 0-d chunk is [x, "|O", []]. json2 writes Python's JSON dialect
 * (NaN, Infinity and -Infinity as bare tokens); msgpack2 writes MessagePack with str for text
 * and float64 for floats. This file has its own small MessagePack reader and writer for the
 * JSON data model: nil, bool, integers, floats, str, array, map with str keys. bin and ext
 * values have no JSON form and are refused by name.
 *
 * pickle is refused in the registry (registry.c): it is Python-only and unpickling runs code.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "codec_numeric.h"

/* Nesting allowed inside one element (JSON or MessagePack), and the JSON parser's depth for a
 * whole chunk (elements plus the chunk's own nesting). */
#define OBJ_MAX_DEPTH 128

typedef struct obj_state {
    bool msgpack;
} obj_state;

static int obj_create(void **state, const zarrc_json *config, const zarrc_codec_init *init, bool msgpack)
{
    *state = NULL;
    if (!init->input || !(init->input->dtype.kind == ZARRC_DTYPE_OBJECT && !zarrc__dtype_object_arrays(&init->input->dtype)))
        return zarrc_error_set(ZARRC_EINVAL, "needs a v2 object (|O) array of JSON values, not '%s'",
                               init->input ? init->input->dtype.name : "?");
    if (msgpack) {
        /* Options that change the bytes: only numcodecs' defaults are understood. */
        json_object *v = NULL;
        if (json_object_object_get_ex(ZJ(config), "use_single_float", &v) && json_object_get_boolean(v))
            return zarrc_error_set(ZARRC_EUNSUPPORTED, "use_single_float: true is not supported");
        if (json_object_object_get_ex(ZJ(config), "raw", &v) && json_object_get_boolean(v))
            return zarrc_error_set(ZARRC_EUNSUPPORTED, "raw: true (strings as bytes) is not supported");
        if (json_object_object_get_ex(ZJ(config), "use_bin_type", &v) && !json_object_get_boolean(v))
            return zarrc_error_set(ZARRC_EUNSUPPORTED, "use_bin_type: false is not supported");
    } else {
        json_object *v = NULL;
        if (json_object_object_get_ex(ZJ(config), "encoding", &v) && strcmp(json_object_get_string(v), "utf-8") &&
            strcmp(json_object_get_string(v), "utf8"))
            return zarrc_error_set(ZARRC_EUNSUPPORTED, "text encoding '%s' is not supported (utf-8 is)",
                                   json_object_get_string(v));
    }
    obj_state *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    s->msgpack = msgpack;
    *state = s;
    return ZARRC_OK;
}

static int json2_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    return obj_create(state, config, init, false);
}

static int msgpack2_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    return obj_create(state, config, init, true);
}

static void obj_destroy(void *state) { free(state); }

static int json2_to_json(const void *state, int format, zarrc_json *config)
{
    (void)state;
    (void)format;
    /* numcodecs' JSON() defaults, as it writes them */
    json_object *c = ZJ(config), *sep = json_object_new_array();
    json_object_object_add(c, "allow_nan", json_object_new_boolean(1));
    json_object_object_add(c, "check_circular", json_object_new_boolean(1));
    json_object_object_add(c, "encoding", json_object_new_string("utf-8"));
    json_object_object_add(c, "ensure_ascii", json_object_new_boolean(1));
    json_object_object_add(c, "indent", NULL);
    json_object_array_add(sep, json_object_new_string(","));
    json_object_array_add(sep, json_object_new_string(":"));
    json_object_object_add(c, "separators", sep);
    json_object_object_add(c, "skipkeys", json_object_new_boolean(0));
    json_object_object_add(c, "sort_keys", json_object_new_boolean(1));
    json_object_object_add(c, "strict", json_object_new_boolean(1));
    return ZARRC_OK;
}

static int msgpack2_to_json(const void *state, int format, zarrc_json *config)
{
    (void)state;
    (void)format;
    json_object *c = ZJ(config);
    json_object_object_add(c, "raw", json_object_new_boolean(0));
    json_object_object_add(c, "use_single_float", json_object_new_boolean(0));
    json_object_object_add(c, "use_bin_type", json_object_new_boolean(1));
    return ZARRC_OK;
}

/* ---- JSON text of one element ---- */

/* Parse exactly one JSON value from text[0..len) (surrounding whitespace allowed); empty text
 * is null. */
static int parse_text(json_object **out, const uint8_t *text, size_t len, size_t elem)
{
    *out = NULL; /* json-c's null */
    if (len == 0)
        return ZARRC_OK; /* an empty element (edge chunk padding, an unset zarrc_vlen item) is null */
    if (len >= INT_MAX)
        return zarrc_error_set(ZARRC_EINVAL, "element %zu: JSON text of %zu bytes is too long", elem, len);
    /* A terminated copy: elements lie back to back, and a number needs its end seen. */
    char *buf = zarrc__malloc(len + 1);
    json_tokener *tok = buf ? json_tokener_new_ex(OBJ_MAX_DEPTH) : NULL;
    if (!tok) {
        free(buf);
        return zarrc__enomem();
    }
    if (len)
        memcpy(buf, text, len);
    buf[len] = 0;
    size_t bad_len;
    const char *bad = zarrc_json_find_wide_integer(buf, len, &bad_len);
    if (bad) {
        int rc = zarrc_error_set(ZARRC_EINVAL, "element %zu: the integer %.*s%s does not fit 64 bits", elem,
                                 (int)(bad_len < 40 ? bad_len : 40), bad, bad_len > 40 ? "..." : "");
        json_tokener_free(tok);
        free(buf);
        return rc;
    }
    json_object *o = json_tokener_parse_ex(tok, buf, (int)len + 1);
    enum json_tokener_error err = json_tokener_get_error(tok);
    size_t used = (size_t)json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    while (err == json_tokener_success && used < len && strchr(" \t\r\n", buf[used]))
        used++;
    int rc = ZARRC_OK;
    if (err != json_tokener_success || used < len || memchr(buf, 0, len))
        rc = zarrc_error_set(ZARRC_EINVAL, "element %zu is not one JSON value (%s): %.60s%s", elem,
                             err != json_tokener_success ? json_tokener_error_desc(err) : "text after it",
                             buf, len > 60 ? "..." : "");
    free(buf);
    if (rc) {
        json_object_put(o);
        return rc;
    }
    *out = o;
    return ZARRC_OK;
}

static const char *to_text(json_object *o)
{
    return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Element i of a chunk (the vrefs may be unaligned). */
static zarrc_vref elem_at(const uint8_t *in, size_t i)
{
    zarrc_vref v;
    memcpy(&v, in + i * sizeof v, sizeof v);
    return v;
}

static int check_input(const zarrc_codec_call *call, size_t in_size, size_t *count)
{
    int rc = zarrc__repr_count(call->decoded, count);
    if (rc)
        return rc;
    if (in_size % sizeof(zarrc_vref) || in_size / sizeof(zarrc_vref) != *count)
        return zarrc_error_set(ZARRC_EINVAL, "expected %zu elements, got %zu bytes", *count, in_size);
    return ZARRC_OK;
}

/* ---- json2 ---- */

/* Nested lists of the chunk's shape from element k on (row-major); returns the list. */
static int json2_build(json_object **out, const zarrc_repr *r, int d, const uint8_t *in, size_t *k)
{
    if (d == r->ndim) {
        zarrc_vref v = elem_at(in, *k);
        int rc = parse_text(out, v.ptr, (size_t)v.len, *k);
        (*k)++;
        return rc;
    }
    json_object *list = json_object_new_array_ext((int)(r->shape[d] < INT_MAX ? r->shape[d] : 0));
    if (!list)
        return zarrc__enomem();
    for (int64_t i = 0; i < r->shape[d]; i++) {
        json_object *e;
        int rc = json2_build(&e, r, d + 1, in, k);
        if (rc) {
            json_object_put(list);
            return rc;
        }
        json_object_array_add(list, e);
    }
    *out = list;
    return ZARRC_OK;
}

static json_object *shape_json(const zarrc_repr *r)
{
    json_object *s = json_object_new_array();
    for (int d = 0; s && d < r->ndim; d++)
        json_object_array_add(s, json_object_new_int64(r->shape[d]));
    return s;
}

static int json2_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                        size_t in_size, zarrc_buf *out)
{
    (void)state;
    size_t count, k = 0;
    int rc = check_input(call, in_size, &count);
    if (rc)
        return rc;
    json_object *items;
    if ((rc = json2_build(&items, call->decoded, 0, in, &k)))
        return rc;
    if (call->decoded->ndim == 0) { /* 0-d: [x, "|O", []] */
        json_object *l = json_object_new_array();
        json_object_array_add(l, items);
        items = l;
    }
    json_object_array_add(items, json_object_new_string("|O"));
    json_object_array_add(items, shape_json(call->decoded));
    const char *txt = to_text(items);
    rc = txt ? zarrc__buf_append(out, txt, strlen(txt)) : zarrc__enomem();
    json_object_put(items);
    return rc;
}

/* The chunk's element lists, one nesting level per dimension, into v. */
static int json2_collect(zarrc__vitems *v, json_object *o, const zarrc_repr *r, int d)
{
    if (d == r->ndim) {
        const char *txt = to_text(o);
        if (!txt)
            return zarrc__enomem();
        int rc = zarrc__vitems_append(v, txt, strlen(txt));
        return rc ? rc : zarrc__vitems_next(v);
    }
    if (!json_object_is_type(o, json_type_array) || json_object_array_length(o) != (size_t)r->shape[d])
        return zarrc_error_set(ZARRC_ECORRUPT, "dimension %d: expected a list of %lld elements", d,
                               (long long)r->shape[d]);
    for (size_t i = 0; i < json_object_array_length(o); i++) {
        int rc = json2_collect(v, json_object_array_get_idx(o, i), r, d + 1);
        if (rc)
            return rc;
    }
    return ZARRC_OK;
}

/* The stored shape: the elements nest by it. Its product must be the chunk's element count,
 * but not its dimensions: for order F zarr-python 2 stores the chunk's logical shape while
 * zarrc's codec sees the transposed chunk; both read the elements as the flat row-major list
 * (zarr-python 2 reshapes exactly that way). */
static int stored_shape(zarrc_repr *rs, const zarrc_repr *r, size_t count, int ndim, const int64_t *dims)
{
    *rs = *r;
    rs->ndim = ndim;
    size_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (dims[d] < 0 || (dims[d] && n > SIZE_MAX / (size_t)dims[d]))
            return zarrc_error_set(ZARRC_ECORRUPT, "the chunk's stored shape is invalid");
        n *= (size_t)dims[d];
        rs->shape[d] = dims[d];
    }
    if (n != count)
        return zarrc_error_set(ZARRC_ECORRUPT, "the chunk's stored shape holds %zu elements, expected %zu", n, count);
    return ZARRC_OK;
}

/* The "|O" and shape that end a json2 chunk. */
static int json2_trailer(zarrc_repr *rs, const zarrc_repr *r, size_t count, json_object *dt, json_object *shape)
{
    const char *dts = json_object_is_type(dt, json_type_string) ? json_object_get_string(dt) : NULL;
    if (!dts || strcmp(dts, "|O"))
        return zarrc_error_set(ZARRC_ECORRUPT, "the chunk's type is %s%.40s%s, expected \"|O\"", dts ? "\"" : "",
                               dts ? dts : "missing", dts ? "\"" : "");
    size_t nd = json_object_is_type(shape, json_type_array) ? json_object_array_length(shape) : SIZE_MAX;
    if (nd > ZARRC_MAX_DIMS)
        return zarrc_error_set(ZARRC_ECORRUPT, "the chunk's shape is not a list of at most %d integers", ZARRC_MAX_DIMS);
    int64_t dims[ZARRC_MAX_DIMS];
    for (size_t d = 0; d < nd; d++) {
        json_object *e = json_object_array_get_idx(shape, d);
        if (!json_object_is_type(e, json_type_int))
            return zarrc_error_set(ZARRC_ECORRUPT, "the chunk's shape is not a list of integers");
        dims[d] = json_object_get_int64(e);
    }
    return stored_shape(rs, r, count, (int)nd, dims);
}

static int json2_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                        size_t in_size, zarrc_buf *out)
{
    (void)state;
    const zarrc_repr *r = call->decoded;
    size_t count;
    int rc = zarrc__repr_count(r, &count);
    if (rc)
        return rc;
    if (in_size > INT_MAX)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "a JSON chunk of %zu bytes is too large", in_size);
    size_t bad_len;
    const char *bad = zarrc_json_find_wide_integer((const char *)in, in_size, &bad_len);
    if (bad) /* Python writes any integer; json-c would saturate it: refuse, never read it wrong */
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "the integer %.*s%s does not fit 64 bits",
                               (int)(bad_len < 40 ? bad_len : 40), bad, bad_len > 40 ? "..." : "");
    json_tokener *tok = json_tokener_new_ex(OBJ_MAX_DEPTH + ZARRC_MAX_DIMS + 1);
    if (!tok)
        return zarrc__enomem();
    json_object *doc = json_tokener_parse_ex(tok, (const char *)in, (int)in_size);
    enum json_tokener_error err = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (err != json_tokener_success) {
        json_object_put(doc);
        return zarrc_error_set(ZARRC_ECORRUPT, "not a JSON chunk: %s", json_tokener_error_desc(err));
    }
    size_t n = json_object_is_type(doc, json_type_array) ? json_object_array_length(doc) : 0;
    zarrc_repr rs;
    if (n < 3) {
        json_object_put(doc);
        return zarrc_error_set(ZARRC_ECORRUPT, "expected a JSON list of the elements, \"|O\" and the shape");
    }
    rc = json2_trailer(&rs, r, count, json_object_array_get_idx(doc, n - 2), json_object_array_get_idx(doc, n - 1));
    size_t want = rs.ndim == 0 ? 1 : (size_t)rs.shape[0];
    if (rc == ZARRC_OK && n != want + 2)
        rc = zarrc_error_set(ZARRC_ECORRUPT, "expected a JSON list of %zu elements, \"|O\" and the shape", want);
    zarrc__vitems v;
    if (rc == ZARRC_OK && (rc = zarrc__vitems_init(&v, count, call->max_size)) == ZARRC_OK) {
        /* The outer list holds the first dimension: drop the trailer and walk it. */
        json_object_array_del_idx(doc, n - 2, 2);
        rc = rs.ndim == 0 ? json2_collect(&v, json_object_array_get_idx(doc, 0), &rs, 0)
                          : json2_collect(&v, doc, &rs, 0);
        if (rc == ZARRC_OK)
            rc = zarrc__vitems_finish(&v, out);
        zarrc__vitems_free(&v);
    }
    json_object_put(doc);
    return rc;
}

/* ---- MessagePack ---- */

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* A header: one tag byte then an n-byte big-endian value. */
static int mp_head(zarrc_buf *o, uint8_t tag, uint64_t v, int n)
{
    uint8_t b[9];
    b[0] = tag;
    put_be(b + 1, v, n);
    return zarrc__buf_append(o, b, (size_t)n + 1);
}

/* An unsigned integer in its smallest form. */
static int mp_uint(zarrc_buf *o, uint64_t u)
{
    if (u < 128) return mp_head(o, (uint8_t)u, 0, 0);
    if (u <= 0xff) return mp_head(o, 0xcc, u, 1);
    if (u <= 0xffff) return mp_head(o, 0xcd, u, 2);
    if (u <= 0xffffffffu) return mp_head(o, 0xce, u, 4);
    return mp_head(o, 0xcf, u, 8);
}

/* Container or string header: fix form below `fixmax`, else the 8 (strings only), 16 or
 * 32-bit form whose tags are t8, t8+1, t8+2. */
static int mp_len(zarrc_buf *o, uint8_t fix, size_t fixmax, uint8_t t8, bool has8, size_t len)
{
    if (len < fixmax)
        return mp_head(o, (uint8_t)(fix | len), 0, 0);
    if (has8 && len <= 0xff)
        return mp_head(o, t8, len, 1);
    if (len <= 0xffff)
        return mp_head(o, (uint8_t)(has8 ? t8 + 1 : t8), len, 2);
    if (len <= 0xffffffffu)
        return mp_head(o, (uint8_t)(has8 ? t8 + 2 : t8 + 1), len, 4);
    return zarrc_error_set(ZARRC_EINVAL, "a value of %zu items or bytes is too large for MessagePack", len);
}

static int mp_str(zarrc_buf *o, const char *s, size_t len)
{
    int rc = mp_len(o, 0xa0, 32, 0xd9, true, len);
    return rc ? rc : zarrc__buf_append(o, s, len);
}

/* MessagePack of a JSON value, as Python's msgpack packs what json.loads gives. */
static int mp_write(zarrc_buf *o, json_object *v, int depth)
{
    if (depth > OBJ_MAX_DEPTH)
        return zarrc_error_set(ZARRC_EINVAL, "nested more than %d levels deep", OBJ_MAX_DEPTH);
    int rc = ZARRC_OK;
    switch (json_object_get_type(v)) {
    case json_type_null: return mp_head(o, 0xc0, 0, 0);
    case json_type_boolean: return mp_head(o, json_object_get_boolean(v) ? 0xc3 : 0xc2, 0, 0);
    case json_type_int: {
        int64_t i = json_object_get_int64(v);
        if (i == INT64_MAX) /* json-c saturates: it may hold a larger unsigned value */
            return mp_uint(o, json_object_get_uint64(v));
        if (i >= 0)
            return mp_uint(o, (uint64_t)i);
        if (i >= -32) return mp_head(o, (uint8_t)(int8_t)i, 0, 0);
        if (i >= INT8_MIN) return mp_head(o, 0xd0, (uint64_t)i & 0xff, 1);
        if (i >= INT16_MIN) return mp_head(o, 0xd1, (uint64_t)i & 0xffff, 2);
        if (i >= INT32_MIN) return mp_head(o, 0xd2, (uint64_t)i & 0xffffffffu, 4);
        return mp_head(o, 0xd3, (uint64_t)i, 8);
    }
    case json_type_double: {
        double d = json_object_get_double(v);
        uint64_t bits;
        memcpy(&bits, &d, 8);
        return mp_head(o, 0xcb, bits, 8);
    }
    case json_type_string:
        return mp_str(o, json_object_get_string(v), (size_t)json_object_get_string_len(v));
    case json_type_array: {
        size_t n = json_object_array_length(v);
        if ((rc = mp_len(o, 0x90, 16, 0xdc, false, n)))
            return rc;
        for (size_t i = 0; i < n && !rc; i++)
            rc = mp_write(o, json_object_array_get_idx(v, i), depth + 1);
        return rc;
    }
    case json_type_object: {
        if ((rc = mp_len(o, 0x80, 16, 0xde, false, (size_t)json_object_object_length(v))))
            return rc;
        json_object_object_foreach(v, key, val) {
            if ((rc = mp_str(o, key, strlen(key))) || (rc = mp_write(o, val, depth + 1)))
                return rc;
        }
        return ZARRC_OK;
    }
    }
    return zarrc_error_set(ZARRC_EINVAL, "unexpected JSON value");
}

/* Nested arrays of the chunk's shape around its elements, row-major from element *k. */
static int mp_build(zarrc_buf *o, const zarrc_repr *r, int d, const uint8_t *in, size_t *k)
{
    if (d == r->ndim) {
        zarrc_vref e = elem_at(in, *k);
        json_object *v;
        int rc = parse_text(&v, e.ptr, (size_t)e.len, *k);
        if (rc == ZARRC_OK && (rc = mp_write(o, v, 0)))
            rc = zarrc__error_context(rc, "element %zu: ", *k);
        json_object_put(v);
        (*k)++;
        return rc;
    }
    int rc = ZARRC_OK;
    /* The outermost list also holds the trailer ("|O" and the shape). */
    if (d > 0 && (rc = mp_len(o, 0x90, 16, 0xdc, false, (size_t)r->shape[d])))
        return rc;
    for (int64_t i = 0; i < r->shape[d] && !rc; i++)
        rc = mp_build(o, r, d + 1, in, k);
    return rc;
}

static int msgpack2_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                           size_t in_size, zarrc_buf *out)
{
    (void)state;
    const zarrc_repr *r = call->decoded;
    size_t count, k = 0;
    int rc = check_input(call, in_size, &count);
    if (rc)
        return rc;
    size_t outer = r->ndim == 0 ? 1 : (size_t)r->shape[0];
    if ((rc = mp_len(out, 0x90, 16, 0xdc, false, outer + 2)))
        return rc;
    rc = mp_build(out, r, 0, in, &k); /* 0-d: the one element */
    if (rc || (rc = mp_str(out, "|O", 2)) || (rc = mp_len(out, 0x90, 16, 0xdc, false, (size_t)r->ndim)))
        return rc;
    for (int d = 0; d < r->ndim && !rc; d++)
        rc = mp_uint(out, (uint64_t)r->shape[d]);
    return rc;
}

/* A MessagePack reader over in[0..n). */
typedef struct mp_reader {
    const uint8_t *p;
    size_t n, pos;
} mp_reader;

static int mp_need(mp_reader *m, size_t k)
{
    if (m->n - m->pos < k)
        return zarrc_error_set(ZARRC_ECORRUPT, "MessagePack data end at offset %zu (%zu more bytes needed)",
                               m->pos, k);
    return ZARRC_OK;
}

/* Read a header: kind 'a' array, 'm' map, 's' str, 'i' int, 'u' uint, 'f' float32, 'd' float64,
 * 'n' nil, 't' true, 'F' false, 'b' bin, 'x' ext; *len = count, length or value bits. */
static int mp_read_head(mp_reader *m, char *kind, uint64_t *len)
{
    int rc = mp_need(m, 1);
    if (rc)
        return rc;
    uint8_t t = m->p[m->pos++];
    int w = 0;
    if (t <= 0x7f) { *kind = 'u'; *len = t; return ZARRC_OK; }
    if (t >= 0xe0) { *kind = 'i'; *len = (uint64_t)(int64_t)(int8_t)t; return ZARRC_OK; }
    if ((t & 0xf0) == 0x80) { *kind = 'm'; *len = t & 0x0f; return ZARRC_OK; }
    if ((t & 0xf0) == 0x90) { *kind = 'a'; *len = t & 0x0f; return ZARRC_OK; }
    if ((t & 0xe0) == 0xa0) { *kind = 's'; *len = t & 0x1f; return ZARRC_OK; }
    switch (t) {
    case 0xc0: *kind = 'n'; *len = 0; return ZARRC_OK;
    case 0xc2: *kind = 'F'; *len = 0; return ZARRC_OK;
    case 0xc3: *kind = 't'; *len = 0; return ZARRC_OK;
    case 0xc4: case 0xc5: case 0xc6: *kind = 'b'; w = 1 << (t - 0xc4); break;
    case 0xc7: case 0xc8: case 0xc9: case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
        *kind = 'x'; *len = 0; return ZARRC_OK;
    case 0xca: *kind = 'f'; w = 4; break;
    case 0xcb: *kind = 'd'; w = 8; break;
    case 0xcc: case 0xcd: case 0xce: case 0xcf: *kind = 'u'; w = 1 << (t - 0xcc); break;
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: *kind = 'i'; w = 1 << (t - 0xd0); break;
    case 0xd9: case 0xda: case 0xdb: *kind = 's'; w = 1 << (t - 0xd9); break;
    case 0xdc: case 0xdd: *kind = 'a'; w = 2 << (t - 0xdc); break;
    case 0xde: case 0xdf: *kind = 'm'; w = 2 << (t - 0xde); break;
    default: return zarrc_error_set(ZARRC_ECORRUPT, "MessagePack byte 0x%02x (offset %zu) is not a valid tag", t,
                                    m->pos - 1);
    }
    if ((rc = mp_need(m, (size_t)w)))
        return rc;
    uint64_t v = get_be(m->p + m->pos, w);
    m->pos += (size_t)w;
    if (*kind == 'i' && w < 8) { /* sign-extend */
        int shift = 64 - 8 * w;
        v = (uint64_t)((int64_t)(v << shift) >> shift);
    }
    *len = v;
    return ZARRC_OK;
}

static int put_text(zarrc__vitems *v, const char *s)
{
    return zarrc__vitems_append(v, s, strlen(s));
}

/* Shortest text that reads back as the same double, with a ".0" when it would read as an
 * integer (as Python's repr writes floats); NaN/Infinity as Python's json does. */
static void format_double(char *buf, size_t n, double d)
{
    if (isnan(d)) { snprintf(buf, n, "NaN"); return; }
    if (isinf(d)) { snprintf(buf, n, d > 0 ? "Infinity" : "-Infinity"); return; }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    if (!strpbrk(buf, ".eE"))
        snprintf(buf + strlen(buf), n - strlen(buf), ".0");
}

/* A JSON string of MessagePack str bytes (validated UTF-8; escapes for '"', '\\' and controls). */
static int put_json_string(zarrc__vitems *v, const uint8_t *s, size_t len)
{
    int rc = zarrc__vitems_append(v, "\"", 1);
    size_t i = 0;
    while (rc == ZARRC_OK && i < len) {
        uint8_t c = s[i];
        size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        bool ok = k && k <= len - i && !(k == 2 && c < 0xc2);
        for (size_t j = 1; ok && j < k; j++)
            ok = (s[i + j] & 0xc0) == 0x80;
        if (ok && k == 3) {
            uint32_t cp = (uint32_t)(c & 0x0f) << 12 | (uint32_t)(s[i + 1] & 0x3f) << 6 | (s[i + 2] & 0x3f);
            ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
        } else if (ok && k == 4) {
            uint32_t cp = (uint32_t)(c & 0x07) << 18 | (uint32_t)(s[i + 1] & 0x3f) << 12 |
                          (uint32_t)(s[i + 2] & 0x3f) << 6 | (s[i + 3] & 0x3f);
            ok = cp >= 0x10000 && cp <= 0x10ffff;
        }
        if (!ok)
            return zarrc_error_set(ZARRC_ECORRUPT, "a MessagePack string is not valid UTF-8");
        char esc[8];
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof esc, "\\%c", c), rc = put_text(v, esc);
        else if (c < 0x20)
            snprintf(esc, sizeof esc, "\\u%04x", c), rc = put_text(v, esc);
        else
            rc = zarrc__vitems_append(v, s + i, k);
        i += k;
    }
    return rc ? rc : zarrc__vitems_append(v, "\"", 1);
}

/* One MessagePack value as JSON text appended to the current item. */
static int mp_to_json(mp_reader *m, zarrc__vitems *v, int depth)
{
    if (depth > OBJ_MAX_DEPTH)
        return zarrc_error_set(ZARRC_ECORRUPT, "MessagePack value nested more than %d levels deep", OBJ_MAX_DEPTH);
    char kind, buf[40];
    uint64_t len;
    int rc = mp_read_head(m, &kind, &len);
    if (rc)
        return rc;
    switch (kind) {
    case 'n': return put_text(v, "null");
    case 't': return put_text(v, "true");
    case 'F': return put_text(v, "false");
    case 'u': snprintf(buf, sizeof buf, "%llu", (unsigned long long)len); return put_text(v, buf);
    case 'i': snprintf(buf, sizeof buf, "%lld", (long long)(int64_t)len); return put_text(v, buf);
    case 'f': {
        uint32_t b = (uint32_t)len;
        float f;
        memcpy(&f, &b, 4);
        format_double(buf, sizeof buf, (double)f);
        return put_text(v, buf);
    }
    case 'd': {
        double d;
        memcpy(&d, &len, 8);
        format_double(buf, sizeof buf, d);
        return put_text(v, buf);
    }
    case 's':
        if ((rc = mp_need(m, len > SIZE_MAX ? SIZE_MAX : (size_t)len)))
            return rc;
        rc = put_json_string(v, m->p + m->pos, (size_t)len);
        m->pos += (size_t)len;
        return rc;
    case 'b': return zarrc_error_set(ZARRC_EUNSUPPORTED, "a MessagePack bin (bytes) value has no JSON form");
    case 'x': return zarrc_error_set(ZARRC_EUNSUPPORTED, "a MessagePack ext value has no JSON form");
    case 'a':
    case 'm': {
        /* every item takes at least one byte: a count past the data is corrupt */
        uint64_t items = kind == 'm' ? len * 2 : len;
        if ((kind == 'm' && len > SIZE_MAX / 2) || items > m->n - m->pos)
            return zarrc_error_set(ZARRC_ECORRUPT, "MessagePack %s of %llu items in %zu remaining bytes",
                                   kind == 'm' ? "map" : "array", (unsigned long long)len, m->n - m->pos);
        if ((rc = put_text(v, kind == 'm' ? "{" : "[")))
            return rc;
        for (uint64_t i = 0; i < len && !rc; i++) {
            if (i)
                rc = put_text(v, ",");
            if (!rc && kind == 'm') {
                size_t at = m->pos;
                char kk;
                uint64_t klen;
                if ((rc = mp_read_head(m, &kk, &klen)))
                    break;
                m->pos = at;
                if (kk != 's')
                    return zarrc_error_set(ZARRC_EUNSUPPORTED, "a MessagePack map key that is not a string "
                                           "has no JSON form");
                if (!(rc = mp_to_json(m, v, depth + 1)))
                    rc = put_text(v, ":");
            }
            if (!rc)
                rc = mp_to_json(m, v, depth + 1);
        }
        return rc ? rc : put_text(v, kind == 'm' ? "}" : "]");
    }
    }
    return zarrc_error_set(ZARRC_ECORRUPT, "unexpected MessagePack value");
}

/* An array header of exactly `want` items. */
static int mp_expect_array(mp_reader *m, uint64_t want, const char *what)
{
    char kind;
    uint64_t len;
    int rc = mp_read_head(m, &kind, &len);
    if (rc)
        return rc;
    if (kind != 'a' || len != want)
        return zarrc_error_set(ZARRC_ECORRUPT, "%s: expected a MessagePack array of %llu items", what,
                               (unsigned long long)want);
    return ZARRC_OK;
}

static int mp_collect(mp_reader *m, zarrc__vitems *v, const zarrc_repr *r, int d)
{
    if (d == r->ndim) {
        int rc = mp_to_json(m, v, 0);
        return rc ? zarrc__error_context(rc, "element %zu: ", v->n) : zarrc__vitems_next(v);
    }
    int rc = d > 0 ? mp_expect_array(m, (uint64_t)r->shape[d], "a nested list of the chunk") : ZARRC_OK;
    for (int64_t i = 0; i < r->shape[d] && !rc; i++)
        rc = mp_collect(m, v, r, d + 1);
    return rc;
}

/* Skip one value (bounded nesting; every item takes at least one byte). */
static int mp_skip(mp_reader *m, int depth)
{
    if (depth > OBJ_MAX_DEPTH + ZARRC_MAX_DIMS)
        return zarrc_error_set(ZARRC_ECORRUPT, "MessagePack value nested more than %d levels deep", OBJ_MAX_DEPTH);
    char kind;
    uint64_t len;
    int rc = mp_read_head(m, &kind, &len);
    if (rc)
        return rc;
    if (kind == 's' || kind == 'b') {
        if ((rc = mp_need(m, len > SIZE_MAX ? SIZE_MAX : (size_t)len)))
            return rc;
        m->pos += (size_t)len;
        return ZARRC_OK;
    }
    if (kind == 'x')
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "a MessagePack ext value has no JSON form");
    if (kind != 'a' && kind != 'm')
        return ZARRC_OK;
    if ((kind == 'm' && len > SIZE_MAX / 2) || (kind == 'm' ? 2 * len : len) > m->n - m->pos)
        return zarrc_error_set(ZARRC_ECORRUPT, "MessagePack %s of %llu items in %zu remaining bytes",
                               kind == 'm' ? "map" : "array", (unsigned long long)len, m->n - m->pos);
    for (uint64_t i = 0; i < (kind == 'm' ? 2 * len : len) && !rc; i++)
        rc = mp_skip(m, depth + 1);
    return rc;
}

/* The "|O" and stored shape that end a msgpack2 chunk (after its `items` elements). */
static int mp_trailer(mp_reader *m, uint64_t items, zarrc_repr *rs, const zarrc_repr *r, size_t count)
{
    int rc = ZARRC_OK;
    for (uint64_t i = 0; i < items && !rc; i++)
        rc = mp_skip(m, 1);
    char kind;
    uint64_t len;
    if (rc == ZARRC_OK && (rc = mp_read_head(m, &kind, &len)) == ZARRC_OK) {
        if (kind != 's' || len != 2 || mp_need(m, 2) || memcmp(m->p + m->pos, "|O", 2))
            return zarrc_error_set(ZARRC_ECORRUPT, "the chunk's type is not \"|O\"");
        m->pos += 2;
    }
    if (rc == ZARRC_OK && (rc = mp_read_head(m, &kind, &len)) == ZARRC_OK && (kind != 'a' || len > ZARRC_MAX_DIMS))
        rc = zarrc_error_set(ZARRC_ECORRUPT, "the chunk's shape is not a list of at most %d integers", ZARRC_MAX_DIMS);
    int64_t dims[ZARRC_MAX_DIMS];
    int nd = rc ? 0 : (int)len;
    for (int d = 0; rc == ZARRC_OK && d < nd; d++) {
        uint64_t x;
        if ((rc = mp_read_head(m, &kind, &x)) == ZARRC_OK && (kind != 'u' || x > (uint64_t)INT64_MAX))
            rc = zarrc_error_set(ZARRC_ECORRUPT, "the chunk's shape is not a list of integers");
        dims[d] = (int64_t)x;
    }
    return rc ? rc : stored_shape(rs, r, count, nd, dims);
}

static int msgpack2_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                           size_t in_size, zarrc_buf *out)
{
    (void)state;
    const zarrc_repr *r = call->decoded;
    size_t count;
    int rc = zarrc__repr_count(r, &count);
    if (rc)
        return rc;
    /* First pass: the stored shape at the end says how the elements nest. */
    mp_reader m = {in, in_size, 0};
    char kind;
    uint64_t top;
    zarrc_repr rs;
    if ((rc = mp_read_head(&m, &kind, &top)))
        return rc;
    if (kind != 'a' || top < 3)
        return zarrc_error_set(ZARRC_ECORRUPT, "expected a MessagePack list of the elements, \"|O\" and the shape");
    if ((rc = mp_trailer(&m, top - 2, &rs, r, count)))
        return rc;
    if (top - 2 != (rs.ndim == 0 ? 1 : (uint64_t)rs.shape[0]))
        return zarrc_error_set(ZARRC_ECORRUPT, "the chunk's list does not match its stored shape");
    zarrc__vitems v;
    if ((rc = zarrc__vitems_init(&v, count, call->max_size)))
        return rc;
    m.pos = 0;
    if ((rc = mp_read_head(&m, &kind, &top)) == ZARRC_OK)
        rc = mp_collect(&m, &v, &rs, 0);
    if (rc == ZARRC_OK)
        rc = zarrc__vitems_finish(&v, out);
    zarrc__vitems_free(&v);
    return rc;
}

const zarrc_codec_type zarrc__codec_json2 = {
    ZARRC_CODEC_TYPE_VERSION, "numcodecs.json2", "json2", NULL, ZARRC_CODEC_ARRAY_TO_BYTES,
    json2_create, obj_destroy, json2_to_json, json2_encode, json2_decode,
};

const zarrc_codec_type zarrc__codec_msgpack2 = {
    ZARRC_CODEC_TYPE_VERSION, "numcodecs.msgpack2", "msgpack2", NULL, ZARRC_CODEC_ARRAY_TO_BYTES,
    msgpack2_create, obj_destroy, msgpack2_to_json, msgpack2_encode, msgpack2_decode,
};
