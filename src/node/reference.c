/*
 * reference.c — references and links between nodes, as hdmf-zarr (NWB) writes them
 * (../shared/spec/extensions.md §5.1; hdmf-zarr 0.14 backend.py):
 *
 *   links        group attribute `_LINKS: [{"name", "source": ".", "path": "/target"}]`
 *                (legacy v2: `zarr_link`, same entries);
 *   attributes   `{"_REFERENCE": {"source": ".", "path": "/x"}}` (legacy v2:
 *                `{"zarr_dtype": "object", "value": {"source", "path", ...}}`);
 *   datasets     an array with attribute `_DTYPE: "object_reference"` whose elements are
 *                target paths (v3 `string`; hdmf-zarr also accepts the JSON text of a
 *                reference object there) — legacy v2: `zarr_dtype: "object"` with numcodecs
 *                object-codec elements `{"source", "path", "object_id", "source_object_id"}`;
 *   compounds    a v3 `struct` array whose `_REFERENCE_FIELDS` lists the fields holding
 *                target paths (hdmf-zarr writes them as fixed_length_utf32).
 *
 * A reference's "path" is relative to the root of the store named by "source" ("." = this
 * store). Sources leaving the store are refused unless the caller allows external locations
 * (ZARRC_OPEN_ALLOW_EXTERNAL, the rule stored views follow).
 *
 * Struct fields are read without the struct data type: the array is opened from its document
 * with the data type replaced by raw records of the same size (`r<bits>`), and the field's
 * bytes are located from the field list. zarrc's struct support replaces this when it lands.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hierarchy.h"
#include "node.h"
#include "../store/store.h"

#define REF_DTYPE_VALUE "object_reference"
/* Nesting of {"_REFERENCE": ...} / {"zarr_dtype": "object", "value": ...} wrappers accepted. */
#define REF_MAX_WRAP 4

static json_object *member(const json_object *o, const char *k)
{
    json_object *v = NULL;
    if (o && json_object_is_type((json_object *)o, json_type_object))
        json_object_object_get_ex((json_object *)o, k, &v);
    return v;
}

static const char *member_string(const json_object *o, const char *k)
{
    json_object *v = member(o, k);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* Whether `v` is a reference value in one of the object forms (without validating it fully). */
static bool is_ref_object(const json_object *v)
{
    if (!json_object_is_type((json_object *)v, json_type_object))
        return false;
    if (member(v, "_REFERENCE"))
        return true;
    const char *zd = member_string(v, "zarr_dtype");
    return zd && !strcmp(zd, "object") && member(v, "value");
}

typedef struct parsed_ref {
    char *source, *path, *object_id;
} parsed_ref;

static void parsed_clear(parsed_ref *r)
{
    free(r->source);
    free(r->path);
    free(r->object_id);
    memset(r, 0, sizeof *r);
}

static int parse_value(parsed_ref *r, const json_object *v, int depth);

/* A path text: "/a/b", "a/b", "/" or "" (the root). */
static int parse_path(parsed_ref *r, const char *text)
{
    if (strlen(text) > 4096 * 4)
        return zarrc_error_set(ZARRC_EINVAL, "reference path is too long (%zu bytes)", strlen(text));
    int rc = zarrc__node_path(&r->path, text);
    if (rc)
        return zarrc__error_context(rc, "reference path '%.200s': ", text);
    if (!r->source && !(r->source = zarrc__strdup(".")))
        return ZARRC_ENOMEM;
    return ZARRC_OK;
}

static int parse_string(parsed_ref *r, const char *s, size_t len, int depth)
{
    if (strlen(s) != len)
        return zarrc_error_set(ZARRC_EINVAL, "reference contains a NUL character");
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    if (i < len && s[i] == '{') { /* the JSON text of a reference object (hdmf-zarr reads it) */
        json_object *o = NULL;
        int rc = zarrc__json_parse(&o, s, len, "reference");
        if (rc)
            return rc;
        rc = parse_value(r, o, depth + 1);
        json_object_put(o);
        return rc;
    }
    return parse_path(r, s);
}

static int parse_value(parsed_ref *r, const json_object *v, int depth)
{
    if (depth > REF_MAX_WRAP)
        return zarrc_error_set(ZARRC_EINVAL, "reference is nested too deeply");
    if (json_object_is_type((json_object *)v, json_type_string))
        return parse_string(r, json_object_get_string((json_object *)v),
                            (size_t)json_object_get_string_len(v), depth);
    if (!json_object_is_type((json_object *)v, json_type_object))
        return zarrc_error_set(ZARRC_EINVAL, "not a reference (expected a path string or an object)");
    json_object *w = member(v, "_REFERENCE");
    if (w)
        return parse_value(r, w, depth + 1);
    const char *zd = member_string(v, "zarr_dtype");
    if (zd) {
        if (strcmp(zd, "object"))
            return zarrc_error_set(ZARRC_EINVAL, "not a reference (zarr_dtype '%.40s')", zd);
        json_object *val = member(v, "value");
        if (!val)
            return zarrc_error_set(ZARRC_EINVAL, "reference: 'value' is missing");
        return parse_value(r, val, depth + 1);
    }
    json_object *p = member(v, "path"), *src = member(v, "source"), *oid = member(v, "object_id");
    if (!json_object_is_type(p, json_type_string))
        return zarrc_error_set(ZARRC_EINVAL, "reference: 'path' is missing or not a string");
    if (src && !json_object_is_type(src, json_type_string))
        return zarrc_error_set(ZARRC_EINVAL, "reference: 'source' is not a string");
    if (oid && !json_object_is_type(oid, json_type_string) && !json_object_is_type(oid, json_type_null))
        return zarrc_error_set(ZARRC_EINVAL, "reference: 'object_id' is not a string");
    const char *s = src ? json_object_get_string(src) : ".";
    if (strlen(s) != (size_t)json_object_get_string_len(src ? src : p) && src)
        return zarrc_error_set(ZARRC_EINVAL, "reference: 'source' contains a NUL character");
    if (!(r->source = zarrc__strdup(*s ? s : ".")))
        return ZARRC_ENOMEM;
    if (json_object_is_type(oid, json_type_string) && !(r->object_id = zarrc__strdup(json_object_get_string(oid))))
        return ZARRC_ENOMEM;
    const char *ps = json_object_get_string(p);
    if (strlen(ps) != (size_t)json_object_get_string_len(p))
        return zarrc_error_set(ZARRC_EINVAL, "reference: 'path' contains a NUL character");
    return parse_path(r, ps);
}

static int parse_text(parsed_ref *r, const char *text)
{
    memset(r, 0, sizeof *r);
    if (!text)
        return zarrc_error_set(ZARRC_EINVAL, "reference is NULL");
    json_object *o = NULL;
    int rc = zarrc__json_parse(&o, text, strlen(text), "reference");
    if (rc == ZARRC_OK)
        rc = parse_value(r, o, 0);
    json_object_put(o);
    if (rc)
        parsed_clear(r);
    return rc;
}

int zarrc_ref_parse(char **source, char **path, char **object_id, const char *ref_json)
{
    zarrc__error_clear();
    parsed_ref r;
    int rc = parse_text(&r, ref_json);
    if (rc)
        return rc;
    if (source) {
        *source = r.source;
        r.source = NULL;
    }
    if (path) {
        *path = r.path;
        r.path = NULL;
    }
    if (object_id) {
        *object_id = r.object_id;
        r.object_id = NULL;
    }
    parsed_clear(&r);
    return ZARRC_OK;
}

void zarrc_node_ref_clear(zarrc_node_ref *ref)
{
    if (!ref)
        return;
    zarrc__store_unref(ref->store);
    free(ref->path);
    free(ref->source);
    free(ref->object_id);
    memset(ref, 0, sizeof *ref);
}

static bool is_same_source(const char *s)
{
    return !*s || !strcmp(s, ".") || !strcmp(s, "./");
}

static bool has_scheme(const char *s)
{
    const char *c = strstr(s, "://");
    if (!c || c == s)
        return false;
    for (const char *p = s; p < c; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '+' ||
              *p == '-' || *p == '.'))
            return false;
    return true;
}

/* Root directory of a filesystem store (realpath), or NULL (not a directory store). */
static char *fs_root_of(zarrc_store *s)
{
    const char *u = s->url;
    if (!strncmp(u, "file://", 7))
        u += 7;
    else if (has_scheme(u))
        return NULL;
    return realpath(u, NULL);
}

/* Which store a source names: *target = a new reference to `store` or a newly opened store. */
static int resolve_source(zarrc_store **target, int *external, zarrc_store *store, const char *source,
                          unsigned flags, const char *what)
{
    *target = NULL;
    *external = 0;
    if (is_same_source(source)) {
        *target = zarrc__store_ref(store);
        return ZARRC_OK;
    }
    bool allow = (flags & ZARRC_OPEN_ALLOW_EXTERNAL) != 0;
    char *loc = NULL;
    if (has_scheme(source) && strncmp(source, "file://", 7)) {
        if (!(loc = zarrc__strdup(source)))
            return ZARRC_ENOMEM;
    } else {
        const char *p = !strncmp(source, "file://", 7) ? source + 7 : source;
        char *root = fs_root_of(store);
        if (!root && !allow)
            return zarrc_error_set(ZARRC_EAUTH, "%s: source '%.200s' leaves the store (external references need "
                                   "ZARRC_OPEN_ALLOW_EXTERNAL / --allow-external)", what, source);
        if (!root)
            return zarrc_error_set(ZARRC_EUNSUPPORTED, "%s: source '%.200s' is relative to a store that is not a "
                                   "directory", what, source);
        char *joined = p[0] == '/' ? zarrc__strdup(p) : zarrc__sprintf("%s/%s", root, p);
        if (!joined) {
            free(root);
            return ZARRC_ENOMEM;
        }
        char *real = realpath(joined, NULL);
        if (real && !strcmp(real, root)) { /* comes back into this store */
            free(real);
            free(joined);
            free(root);
            *target = zarrc__store_ref(store);
            return ZARRC_OK;
        }
        free(root);
        free(real);
        loc = joined;
    }
    if (!allow) {
        int rc = zarrc_error_set(ZARRC_EAUTH, "%s: source '%.200s' leaves the store (external references need "
                                 "ZARRC_OPEN_ALLOW_EXTERNAL / --allow-external)", what, source);
        free(loc);
        return rc;
    }
    int rc = zarrc_store_open(target, loc, ZARRC_STORE_READONLY);
    free(loc);
    if (rc)
        return zarrc__error_context(rc, "%s: source '%.200s': ", what, source);
    *external = 1;
    return ZARRC_OK;
}

/* Resolve a parsed reference; `r`'s strings move into `out` on success. */
static int resolve_parsed(zarrc_node_ref *out, zarrc_store *store, parsed_ref *r, unsigned flags, const char *what)
{
    zarrc_node_ref res;
    memset(&res, 0, sizeof res);
    int rc = resolve_source(&res.store, &res.external, store, r->source, flags, what);
    if (rc)
        return rc;
    rc = zarrc__node_find(&res.kind, &res.format, NULL, res.store, r->path);
    if (rc == ZARRC_ENOTFOUND) {
        zarrc__error_clear();
        rc = zarrc_error_set(ZARRC_ENOTFOUND, "%s: target '/%.200s'%s%s%s does not exist", what, r->path,
                             res.external ? " in '" : "", res.external ? r->source : "", res.external ? "'" : "");
    } else if (rc)
        rc = zarrc__error_context(rc, "%s: target '/%.200s': ", what, r->path);
    if (rc) {
        zarrc__store_unref(res.store);
        return rc;
    }
    res.path = r->path;
    res.source = r->source;
    res.object_id = r->object_id;
    memset(r, 0, sizeof *r);
    *out = res;
    return ZARRC_OK;
}

int zarrc_node_resolve(zarrc_node_ref *out, zarrc_store *store, const char *ref_json, unsigned flags)
{
    zarrc__error_clear();
    if (!out || !store)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_node_resolve: NULL argument");
    parsed_ref r;
    int rc = parse_text(&r, ref_json);
    if (rc == ZARRC_OK) {
        rc = resolve_parsed(out, store, &r, flags, "reference");
        parsed_clear(&r);
    }
    return rc;
}

/* ---- reference datasets ---- */

/* The attributes of a node document (v3 member, v2 .zattrs). New reference or NULL. */
static int node_attrs(json_object **attrs, zarrc_store *store, const char *path, int format, json_object *doc)
{
    *attrs = NULL;
    if (format == 3) {
        json_object *a = member(doc, "attributes");
        *attrs = a ? json_object_get(a) : json_object_new_object();
        return *attrs ? ZARRC_OK : ZARRC_ENOMEM;
    }
    char *key = zarrc__node_key(path, ".zattrs");
    if (!key)
        return ZARRC_ENOMEM;
    int rc = zarrc__node_read_json(attrs, store, key);
    free(key);
    if (rc == ZARRC_ENOTFOUND) {
        zarrc__error_clear();
        *attrs = json_object_new_object();
        return *attrs ? ZARRC_OK : ZARRC_ENOMEM;
    }
    return rc;
}

static bool is_ref_dataset(const json_object *attrs)
{
    const char *d = member_string(attrs, "_DTYPE");
    if (d && !strcmp(d, REF_DTYPE_VALUE))
        return true;
    d = member_string(attrs, "zarr_dtype");
    return d && !strcmp(d, "object");
}

/* Flat index → coordinates (C order); ZARRC_EBOUNDS outside the shape. */
static int unravel(int64_t *coord, const int64_t *shape, int ndim, int64_t index, const char *where)
{
    if (index < 0)
        return zarrc_error_set(ZARRC_EBOUNDS, "%s: element %lld is negative", where, (long long)index);
    int64_t rest = index;
    for (int d = ndim - 1; d >= 0; d--) {
        if (shape[d] <= 0)
            return zarrc_error_set(ZARRC_EBOUNDS, "%s: element %lld of an empty array", where, (long long)index);
        coord[d] = rest % shape[d];
        rest /= shape[d];
    }
    if (rest != 0)
        return zarrc_error_set(ZARRC_EBOUNDS, "%s: element %lld is past the end", where, (long long)index);
    return ZARRC_OK;
}

/* Element `index` of an opened array read into `buf` (item_size bytes) or, for
 * variable-length types, as a new NUL-terminated string in *text. */
static int read_element(zarrc_array *a, int64_t index, void *buf, size_t item, char **text, const char *where)
{
    int nd = zarrc_array_ndim(a);
    const int64_t *shape = zarrc_array_shape(a);
    int64_t *coord = zarrc__calloc((size_t)(nd ? nd : 1) * 2, sizeof *coord);
    if (!coord)
        return ZARRC_ENOMEM;
    int64_t *count = coord + (nd ? nd : 1);
    int rc = ZARRC_OK;
    int64_t total = zarrc_array_size(a);
    if (index < 0 || (total >= 0 && index >= total))
        rc = zarrc_error_set(ZARRC_EBOUNDS, "%s: element %lld is outside the array (%lld elements)", where,
                             (long long)index, (long long)total);
    else
        rc = unravel(coord, shape, nd, index, where);
    for (int d = 0; d < nd; d++)
        count[d] = 1;
    if (rc == ZARRC_OK) {
        if (text) {
            zarrc_vlen v;
            memset(&v, 0, sizeof v);
            rc = zarrc_array_read(a, coord, count, NULL, &v, sizeof v);
            if (rc == ZARRC_OK) {
                size_t n = (size_t)(v.offsets[1] - v.offsets[0]);
                *text = zarrc__malloc(n + 1);
                if (*text) {
                    if (n)
                        memcpy(*text, v.data + v.offsets[0], n);
                    (*text)[n] = 0;
                } else
                    rc = ZARRC_ENOMEM;
            }
            zarrc_vlen_clear(&v);
        } else
            rc = zarrc_array_read(a, coord, count, NULL, buf, item);
        if (rc)
            rc = zarrc__error_context(rc, "%s: element %lld: ", where, (long long)index);
    }
    free(coord);
    return rc;
}

/* A fixed-size string element (UTF-32 code points or bytes, NUL-padded) as UTF-8. */
static int utf32_to_text(char **out, const uint8_t *p, size_t n, bool big_endian, const char *where)
{
    size_t cps = n / 4;
    char *s = zarrc__malloc(cps * 4 + 1);
    if (!s)
        return ZARRC_ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < cps; i++) {
        const uint8_t *b = p + 4 * i;
        uint32_t c = big_endian ? ((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3])
                                : ((uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0]);
        if (c == 0)
            break;
        if (c < 0x80)
            s[o++] = (char)c;
        else if (c < 0x800) {
            s[o++] = (char)(0xC0 | (c >> 6));
            s[o++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000 && (c < 0xD800 || c > 0xDFFF)) {
            s[o++] = (char)(0xE0 | (c >> 12));
            s[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            s[o++] = (char)(0x80 | (c & 0x3F));
        } else if (c >= 0x10000 && c <= 0x10FFFF) {
            s[o++] = (char)(0xF0 | (c >> 18));
            s[o++] = (char)(0x80 | ((c >> 12) & 0x3F));
            s[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            s[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            free(s);
            return zarrc_error_set(ZARRC_ECORRUPT, "%s: invalid code point U+%X", where, (unsigned)c);
        }
    }
    s[o] = 0;
    *out = s;
    return ZARRC_OK;
}

/* Size in bytes of a struct field's v3 data type, and whether it is text (1: UTF-32, 2: bytes). */
static int field_size(size_t *size, int *text, const json_object *dt, const char *where)
{
    static const struct {
        const char *name;
        size_t size;
    } fixed[] = {{"bool", 1},     {"int8", 1},    {"uint8", 1},   {"int16", 2},   {"uint16", 2},
                 {"int32", 4},    {"uint32", 4},  {"int64", 8},   {"uint64", 8},  {"float16", 2},
                 {"float32", 4},  {"float64", 8}, {"complex64", 8}, {"complex128", 16}};
    *text = 0;
    const char *name = json_object_is_type((json_object *)dt, json_type_string) ? json_object_get_string((json_object *)dt)
                                                                                : member_string(dt, "name");
    if (!name)
        return zarrc_error_set(ZARRC_EINVAL, "%s: a struct field has no data type", where);
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        if (!strcmp(name, fixed[i].name)) {
            *size = fixed[i].size;
            return ZARRC_OK;
        }
    if (!strcmp(name, "fixed_length_utf32") || !strcmp(name, "null_terminated_bytes") || !strcmp(name, "raw_bytes")) {
        json_object *lb = member(member(dt, "configuration"), "length_bytes");
        int64_t n;
        uint64_t u;
        bool isu;
        if (!lb || zarrc__json_get_integer(lb, &n, &u, &isu) || isu || n < 0 || n > ZARRC_MAX_RAW_ITEM_SIZE)
            return zarrc_error_set(ZARRC_EINVAL, "%s: field type '%s' needs a valid length_bytes", where, name);
        *size = (size_t)n;
        *text = !strcmp(name, "fixed_length_utf32") ? 1 : !strcmp(name, "null_terminated_bytes") ? 2 : 0;
        return ZARRC_OK;
    }
    return zarrc_error_set(ZARRC_EUNSUPPORTED, "%s: struct field type '%.60s' is not supported here (needs zarrc's "
                           "struct data type support)", where, name);
}

/* The text of field `field` of element `index` of a v3 struct array, read as raw records. */
static int read_struct_field(char **text, zarrc_store *store, const char *path, json_object *doc, int64_t index,
                             const char *field, const char *where)
{
    json_object *dt = member(doc, "data_type");
    const char *dn = member_string(dt, "name");
    json_object *fields = member(member(dt, "configuration"), "fields");
    if (!dn || strcmp(dn, "struct") || !json_object_is_type(fields, json_type_array))
        return zarrc_error_set(ZARRC_EINVAL, "%s: field '%.100s' given but the array is not a struct array", where,
                               field);
    size_t off = 0, total = 0, fsize = 0;
    int ftext = -1;
    size_t nf = json_object_array_length(fields);
    for (size_t i = 0; i < nf; i++) {
        json_object *f = json_object_array_get_idx(fields, i);
        const char *fname = member_string(f, "name");
        size_t sz = 0;
        int t = 0;
        int rc = field_size(&sz, &t, member(f, "data_type"), where);
        if (rc)
            return rc;
        if (!fname)
            return zarrc_error_set(ZARRC_EINVAL, "%s: a struct field has no name", where);
        if (!strcmp(fname, field)) {
            off = total;
            fsize = sz;
            ftext = t;
        }
        if (total > (size_t)ZARRC_MAX_RAW_ITEM_SIZE - sz)
            return zarrc_error_set(ZARRC_EUNSUPPORTED, "%s: struct records are too large", where);
        total += sz;
    }
    if (ftext < 0)
        return zarrc_error_set(ZARRC_EINVAL, "%s: the struct has no field '%.100s'", where, field);
    if (ftext == 0)
        return zarrc_error_set(ZARRC_EINVAL, "%s: field '%.100s' does not hold text", where, field);
    if (total == 0)
        return zarrc_error_set(ZARRC_EINVAL, "%s: empty struct", where);
    /* Big-endian bytes codec: the UTF-32 code points are stored big-endian. */
    bool big = false;
    json_object *codecs = member(doc, "codecs");
    for (size_t i = 0; json_object_is_type(codecs, json_type_array) && i < json_object_array_length(codecs); i++) {
        json_object *c = json_object_array_get_idx(codecs, i);
        const char *cn = member_string(c, "name");
        if (cn && !strcmp(cn, "bytes")) {
            const char *e = member_string(member(c, "configuration"), "endian");
            big = e && !strcmp(e, "big");
        }
    }
    json_object *raw = zarrc__json_deep_copy(doc);
    if (!raw)
        return ZARRC_ENOMEM;
    char rname[32];
    snprintf(rname, sizeof rname, "r%zu", total * 8);
    json_object *fill = json_object_new_array_ext((int)total);
    json_object *nm = json_object_new_string(rname);
    int rc = fill && nm ? ZARRC_OK : ZARRC_ENOMEM;
    for (size_t i = 0; rc == ZARRC_OK && i < total; i++)
        if (json_object_array_add(fill, json_object_new_int(0)))
            rc = ZARRC_ENOMEM;
    if (rc == ZARRC_OK) {
        json_object_object_add(raw, "data_type", nm);
        json_object_object_add(raw, "fill_value", fill);
        nm = fill = NULL;
    }
    json_object_put(nm);
    json_object_put(fill);
    zarrc_array *a = NULL;
    if (rc == ZARRC_OK)
        rc = zarrc__array_open_doc(&a, store, path, raw, 3, NULL);
    json_object_put(raw);
    if (rc)
        return zarrc__error_context(rc, "%s: ", where);
    uint8_t *rec = zarrc__malloc(total);
    rc = rec ? read_element(a, index, rec, total, NULL, where) : ZARRC_ENOMEM;
    if (rc == ZARRC_OK) {
        if (ftext == 1)
            rc = utf32_to_text(text, rec + off, fsize, big, where);
        else {
            size_t n = strnlen((const char *)rec + off, fsize);
            *text = zarrc__malloc(n + 1);
            if (*text) {
                memcpy(*text, rec + off, n);
                (*text)[n] = 0;
            } else
                rc = ZARRC_ENOMEM;
        }
    }
    free(rec);
    zarrc_array_free(a);
    return rc;
}

static bool listed_field(const json_object *attrs, const char *field)
{
    json_object *rf = member(attrs, "_REFERENCE_FIELDS");
    if (!json_object_is_type(rf, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(rf); i++) {
        json_object *f = json_object_array_get_idx(rf, i);
        if (json_object_is_type(f, json_type_string) && !strcmp(json_object_get_string(f), field))
            return true;
    }
    return false;
}

int zarrc_node_resolve_element(zarrc_node_ref *out, zarrc_store *store, const char *array_path, int64_t index,
                               const char *field, unsigned flags)
{
    zarrc__error_clear();
    if (!out || !store || !array_path)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_node_resolve_element: NULL argument");
    char *path = NULL, *where = NULL, *text = NULL;
    json_object *doc = NULL, *attrs = NULL;
    zarrc_node_kind kind;
    int format;
    int rc = zarrc__node_path(&path, array_path);
    if (rc)
        return rc;
    const char *disp = zarrc__node_display(store, path);
    where = field ? zarrc__sprintf("'%s' field '%.100s'", disp, field) : zarrc__sprintf("'%s'", disp);
    if (!where) {
        rc = ZARRC_ENOMEM;
        goto done;
    }
    rc = zarrc__node_find(&kind, &format, &doc, store, path);
    if (rc == ZARRC_ENOTFOUND)
        rc = zarrc__node_not_found(store, path, "array");
    if (rc)
        goto done;
    if (kind != ZARRC_NODE_ARRAY) {
        rc = zarrc_error_set(ZARRC_EINVAL, "%s is a group, not a reference dataset", where);
        goto done;
    }
    if ((rc = node_attrs(&attrs, store, path, format, doc)))
        goto done;
    if (field) {
        if (!listed_field(attrs, field)) {
            rc = zarrc_error_set(ZARRC_EINVAL, "%s is not listed in the array's _REFERENCE_FIELDS", where);
            goto done;
        }
        if (format != 3) {
            rc = zarrc_error_set(ZARRC_EUNSUPPORTED, "%s: reference fields of v2 compound arrays need zarrc's "
                                 "struct data type support", where);
            goto done;
        }
        rc = read_struct_field(&text, store, path, doc, index, field, where);
    } else {
        if (!is_ref_dataset(attrs)) {
            rc = zarrc_error_set(ZARRC_EINVAL, "%s is not a reference dataset (no _DTYPE \"object_reference\"%s)",
                                 where, member(attrs, "_REFERENCE_FIELDS") ? "; give one of its _REFERENCE_FIELDS" : "");
            goto done;
        }
        zarrc_array *a = NULL;
        rc = zarrc_array_open(&a, store, path);
        if (rc == ZARRC_OK) {
            const zarrc_dtype_info *dt = zarrc_array_dtype(a);
            if (dt->kind == ZARRC_DTYPE_STRING || dt->kind == ZARRC_DTYPE_VBYTES ||
                (dt->kind == ZARRC_DTYPE_OBJECT && !strcmp(dt->unit, "json")))
                /* legacy v2 "|O" arrays (json2 / msgpack2): each element is the JSON text of
                 * a reference object, decoded through the object codec */
                rc = read_element(a, index, NULL, 0, &text, where);
            else if (dt->kind == ZARRC_DTYPE_UTF32 || dt->kind == ZARRC_DTYPE_FIXED_BYTES) {
                uint8_t *b = zarrc__malloc(dt->item_size ? dt->item_size : 1);
                rc = b ? read_element(a, index, b, dt->item_size, NULL, where) : ZARRC_ENOMEM;
                if (rc == ZARRC_OK && dt->kind == ZARRC_DTYPE_UTF32)
                    rc = utf32_to_text(&text, b, dt->item_size, zarrc__host_big_endian(), where);
                else if (rc == ZARRC_OK) {
                    size_t n = strnlen((const char *)b, dt->item_size);
                    if ((text = zarrc__malloc(n + 1))) {
                        memcpy(text, b, n);
                        text[n] = 0;
                    } else
                        rc = ZARRC_ENOMEM;
                }
                free(b);
            } else
                rc = zarrc_error_set(ZARRC_EDTYPE, "%s: a reference dataset of type '%s' (expected strings or "
                                     "json2/msgpack2 objects)", where, dt->name);
        } else
            rc = zarrc__error_context(rc, "%s: ", where);
        zarrc_array_free(a);
    }
    if (rc)
        goto done;
    char *ew = zarrc__sprintf("%s element %lld", where, (long long)index);
    if (!ew) {
        rc = ZARRC_ENOMEM;
        goto done;
    }
    parsed_ref r;
    memset(&r, 0, sizeof r);
    rc = parse_string(&r, text, strlen(text), 0);
    if (rc)
        rc = zarrc__error_context(rc, "%s: ", ew);
    else
        rc = resolve_parsed(out, store, &r, flags, ew);
    parsed_clear(&r);
    free(ew);
done:
    json_object_put(doc);
    json_object_put(attrs);
    free(text);
    free(where);
    free(path);
    return rc;
}

/* ---- listing ---- */

int zarrc_node_references(zarrc_store *store, const char *path, zarrc_ref_cb cb, void *ctx)
{
    zarrc__error_clear();
    if (!store || !path || !cb)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_node_references: NULL argument");
    char *p = NULL;
    json_object *doc = NULL, *attrs = NULL;
    zarrc_node_kind kind;
    int format;
    int rc = zarrc__node_path(&p, path);
    if (rc)
        return rc;
    const char *disp = zarrc__node_display(store, p);
    rc = zarrc__node_find(&kind, &format, &doc, store, p);
    if (rc == ZARRC_ENOTFOUND)
        rc = zarrc__node_not_found(store, p, "node");
    if (rc == ZARRC_OK)
        rc = node_attrs(&attrs, store, p, format, doc);
    if (rc)
        goto done;
    const char *link_keys[] = {"_LINKS", "zarr_link"};
    for (int k = 0; k < 2 && rc == ZARRC_OK; k++) {
        json_object *links = member(attrs, link_keys[k]);
        if (!links)
            continue;
        if (!json_object_is_type(links, json_type_array)) {
            rc = zarrc_error_set(ZARRC_EINVAL, "'%s': attribute %s is not a list", disp, link_keys[k]);
            break;
        }
        for (size_t i = 0; i < json_object_array_length(links) && rc == ZARRC_OK; i++) {
            json_object *l = json_object_array_get_idx(links, i);
            const char *name = member_string(l, "name");
            if (!name || !json_object_is_type(member(l, "path"), json_type_string)) {
                rc = zarrc_error_set(ZARRC_EINVAL, "'%s': %s entry %zu is not a link {name, source, path}", disp,
                                     link_keys[k], i);
                break;
            }
            zarrc_ref_info info = {ZARRC_REF_LINK, name, json_object_to_json_string_ext(l, JSON_C_TO_STRING_PLAIN)};
            rc = cb(ctx, &info);
        }
    }
    if (rc)
        goto done;
    json_object_object_foreach(attrs, key, val)
    {
        if (is_ref_object(val)) {
            zarrc_ref_info info = {ZARRC_REF_ATTRIBUTE, key, json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN)};
            if ((rc = cb(ctx, &info)))
                goto done;
        }
    }
    if (kind == ZARRC_NODE_ARRAY) {
        if (is_ref_dataset(attrs)) {
            zarrc_ref_info info = {ZARRC_REF_ARRAY, NULL, NULL};
            if ((rc = cb(ctx, &info)))
                goto done;
        }
        json_object *rf = member(attrs, "_REFERENCE_FIELDS");
        for (size_t i = 0; json_object_is_type(rf, json_type_array) && i < json_object_array_length(rf); i++) {
            json_object *f = json_object_array_get_idx(rf, i);
            if (!json_object_is_type(f, json_type_string))
                continue;
            zarrc_ref_info info = {ZARRC_REF_FIELD, json_object_get_string(f), NULL};
            if ((rc = cb(ctx, &info)))
                goto done;
        }
    }
done:
    json_object_put(doc);
    json_object_put(attrs);
    free(p);
    return rc;
}

/* ---- writing links ---- */

int zarrc_node_link_add(zarrc_store *store, const char *group_path, const char *name, const char *target_path)
{
    zarrc__error_clear();
    if (!store || !group_path || !name || !target_path)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_node_link_add: NULL argument");
    if (!*name || strchr(name, '/'))
        return zarrc_error_set(ZARRC_EINVAL, "link name '%.100s' must be non-empty without '/'", name);
    char *gp = NULL, *tp = NULL, *text = NULL;
    json_object *doc = NULL, *attrs = NULL, *upd = NULL;
    zarrc_node_kind kind, tkind;
    int format, tformat;
    int rc = zarrc__node_path(&gp, group_path);
    if (rc == ZARRC_OK)
        rc = zarrc__node_path(&tp, target_path);
    if (rc)
        goto done;
    rc = zarrc__node_find(&kind, &format, &doc, store, gp);
    if (rc == ZARRC_ENOTFOUND)
        rc = zarrc__node_not_found(store, gp, "group");
    if (rc)
        goto done;
    if (kind != ZARRC_NODE_GROUP) {
        rc = zarrc_error_set(ZARRC_EINVAL, "'%s' is an array: links belong to groups", zarrc__node_display(store, gp));
        goto done;
    }
    rc = zarrc__node_find(&tkind, &tformat, NULL, store, tp);
    if (rc == ZARRC_ENOTFOUND) {
        zarrc__error_clear();
        rc = zarrc_error_set(ZARRC_ENOTFOUND, "link '%s': target '/%s' does not exist", name, tp);
    }
    if (rc || (rc = node_attrs(&attrs, store, gp, format, doc)))
        goto done;
    json_object *old = member(attrs, "_LINKS");
    if (old && !json_object_is_type(old, json_type_array)) {
        rc = zarrc_error_set(ZARRC_EINVAL, "'%s': attribute _LINKS is not a list", zarrc__node_display(store, gp));
        goto done;
    }
    json_object *links = json_object_new_array();
    json_object *entry = json_object_new_object();
    char *slash = zarrc__sprintf("/%s", tp);
    upd = json_object_new_object();
    if (!links || !entry || !slash || !upd) {
        json_object_put(links);
        json_object_put(entry);
        free(slash);
        rc = ZARRC_ENOMEM;
        goto done;
    }
    for (size_t i = 0; old && i < json_object_array_length(old); i++) {
        json_object *l = json_object_array_get_idx(old, i);
        const char *n = member_string(l, "name");
        if (!n || strcmp(n, name))
            json_object_array_add(links, json_object_get(l));
    }
    json_object_object_add(entry, "source", json_object_new_string("."));
    json_object_object_add(entry, "path", json_object_new_string(slash));
    json_object_object_add(entry, "name", json_object_new_string(name));
    free(slash);
    json_object_array_add(links, entry);
    json_object_object_add(upd, "_LINKS", links);
    text = zarrc__json_dump(upd, false);
    if (!text) {
        rc = ZARRC_ENOMEM;
        goto done;
    }
    rc = zarrc_node_set_attributes(store, gp, text, ZARRC_ATTRS_MERGE | ZARRC_UPDATE_CONSOLIDATED, NULL);
done:
    json_object_put(doc);
    json_object_put(attrs);
    json_object_put(upd);
    free(text);
    free(gp);
    free(tp);
    return rc;
}
