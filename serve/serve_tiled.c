/*
 * serve_tiled.c — Face 1 of `zarrc serve`: the subset of tiled's HTTP protocol that the tiled
 * Python client uses for arrays and containers (../shared/spec/tiled-api.md):
 *   GET /api/v1/                             About (no authentication needed)
 *   GET|POST|DELETE /api/v1/metadata/{path}  node description, create a child, delete
 *   GET|PUT /api/v1/array/full/{path}        whole array or ?slice= (raw C-order bytes)
 *   GET|PUT /api/v1/array/block/{path}       one chunk: ?block=i,j[&slice=]
 *   PATCH /api/v1/array/full/{path}          ?offset=&shape=&extend= (zarrc_array_write_at)
 *   GET /api/v1/search/{path}                children, paged: page[offset], page[limit]
 * Groups are containers, arrays are arrays, Zarr attributes are tiled metadata. Every node is
 * opened per request, so a request sees what other writers (other processes too) stored.
 */
#include "serve.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_NDIM 64
#define MAX_CHUNK_ENTRIES 1000000
#define DEFAULT_PAGE 100
#define MAX_PAGE 1000


/* ---- links and descriptions ---- */

/* Append the percent-encoded path to buf (returns 0, -1 if it does not fit). */
static int encode_path(char *buf, size_t cap, const char *path)
{
    size_t w = strlen(buf);
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                    *p == '_' || *p == '.' || *p == '~' || *p == '/';
        if (w + 4 >= cap)
            return -1;
        if (plain)
            buf[w++] = (char)*p;
        else {
            buf[w++] = '%';
            buf[w++] = hex[*p >> 4];
            buf[w++] = hex[*p & 15];
        }
    }
    buf[w] = 0;
    return 0;
}

static json_object *mklink(serve_req *r, const char *route, const char *path, const char *suffix)
{
    size_t cap = strlen(r->base) + strlen(route) + 3 * strlen(path) + strlen(suffix) + 16;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    snprintf(buf, cap, "%s/api/v1/%s", r->base, route);
    encode_path(buf, cap, path);
    strcat(buf, suffix);
    json_object *o = json_object_new_string(buf);
    free(buf);
    return o;
}

/* "No such entry: ['g', 'x']" as tiled says it. */
static void not_found(serve_req *r, const char *path)
{
    char msg[900];
    size_t w = (size_t)snprintf(msg, sizeof msg, "No such entry: [");
    const char *p = path;
    int first = 1;
    while (*p && w + 8 < sizeof msg) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        w += (size_t)snprintf(msg + w, sizeof msg - w, "%s'%.*s'", first ? "" : ", ", (int)(len > 200 ? 200 : len), p);
        first = 0;
        p += len;
        if (*p == '/')
            p++;
    }
    if (w + 2 < sizeof msg)
        snprintf(msg + w, sizeof msg - w, "]");
    serve_reply_error(r, 404, "%s", msg);
}

static const char *last_segment(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static json_object *ancestors(const char *path)
{
    json_object *a = json_object_new_array();
    const char *p = path;
    for (;;) {
        const char *e = strchr(p, '/');
        if (!e)
            break;
        json_object_array_add(a, json_object_new_string_len(p, (int)(e - p)));
        p = e + 1;
    }
    return a;
}

/* Byte order of the stored data: v2 from the dtype; v3 from the array->bytes codec (the
 * handle's dtype does not carry the v3 bytes codec's endian), looking inside sharding. */
static int codecs_big_endian(json_object *codecs, int depth)
{
    if (!json_object_is_type(codecs, json_type_array) || depth > 4)
        return 0;
    for (size_t i = 0; i < json_object_array_length(codecs); i++) {
        json_object *c = json_object_array_get_idx(codecs, i), *name, *conf, *v;
        if (!json_object_object_get_ex(c, "name", &name) || !json_object_is_type(name, json_type_string))
            continue;
        const char *n = json_object_get_string(name);
        if (!json_object_object_get_ex(c, "configuration", &conf))
            conf = NULL;
        if (strcmp(n, "bytes") == 0)
            return conf && json_object_object_get_ex(conf, "endian", &v) && json_object_is_type(v, json_type_string) &&
                   strcmp(json_object_get_string(v), "big") == 0;
        if (strcmp(n, "sharding_indexed") == 0 && conf && json_object_object_get_ex(conf, "codecs", &v))
            return codecs_big_endian(v, depth + 1);
    }
    return 0;
}

static int array_big_endian(zarrc_array *a)
{
    const zarrc_dtype_info *dt = zarrc_array_dtype(a);
    if (zarrc_array_format(a) != 3 || dt->big_endian)
        return dt->big_endian;
    char *text = NULL;
    int big = 0;
    if (zarrc_array_json(&text, a, ZARRC_JSON_CODECS_V3) == 0 && text) {
        json_object *c = json_tokener_parse(text);
        big = codecs_big_endian(c, 0);
        json_object_put(c);
    }
    zarrc_free(text);
    return big;
}

/* The tiled array structure of an open array, or NULL with a reply set. */
/* The chunk edges of one dimension, in order and clipped to the extent: a regular grid's
 * chunk size repeated, or a rectilinear grid's runs (zarrc_array_chunk_runs). */
typedef struct dim_edges {
    int64_t left;      /* elements of the extent not yet covered */
    int64_t edge;      /* regular: the chunk size */
    int64_t *runs;     /* rectilinear: (edge, count) pairs; NULL when regular */
    size_t nruns, run; /* runs, the current one */
    int64_t used;      /* chunks taken from the current run */
} dim_edges;

static int dim_edges_start(dim_edges *it, zarrc_array *a, int d)
{
    memset(it, 0, sizeof *it);
    it->left = zarrc_array_shape(a)[d];
    it->edge = zarrc_array_chunks(a)[d] > 0 ? zarrc_array_chunks(a)[d] : 1;
    size_t n = 0;
    if (zarrc_array_chunk_runs(a, d, NULL, 0, &n) || n == 0)
        return 0;
    if (n > SIZE_MAX / (2 * sizeof(int64_t)) || !(it->runs = malloc(n * 2 * sizeof(int64_t))))
        return -1;
    if (zarrc_array_chunk_runs(a, d, it->runs, n, &it->nruns) || it->nruns != n) {
        free(it->runs);
        it->runs = NULL; /* changed meanwhile: fall back to the largest edge */
    }
    return 0;
}

/* The next edge (> 0), or 0 at the end of the extent. */
static int64_t dim_edges_next(dim_edges *it)
{
    if (it->left <= 0)
        return 0;
    int64_t e = it->edge;
    if (it->runs) {
        while (it->run < it->nruns && it->used >= it->runs[2 * it->run + 1]) {
            it->run++;
            it->used = 0;
        }
        if (it->run < it->nruns) {
            e = it->runs[2 * it->run];
            it->used++;
        } else
            e = it->left; /* the edges end before the extent (not written by zarrc): one last chunk */
    }
    if (e > it->left)
        e = it->left;
    it->left -= e;
    return e;
}

static void dim_edges_end(dim_edges *it)
{
    free(it->runs);
    it->runs = NULL;
}

static json_object *array_structure(serve_req *r, zarrc_array *a)
{
    zarrc_dtype_info dt_copy = *zarrc_array_dtype(a);
    dt_copy.big_endian = array_big_endian(a);
    const zarrc_dtype_info *dt = &dt_copy;
    json_object *dto = serve_dtype_to_tiled(dt);
    if (!dto) {
        serve_reply_error(r, 422, "data type '%s' has no tiled spelling (variable-length types are not served)",
                          dt->name);
        return NULL;
    }
    int nd = zarrc_array_ndim(a);
    const int64_t *shape = zarrc_array_shape(a);
    int64_t entries = 0;
    json_object *ch = json_object_new_array(), *sh = json_object_new_array();
    for (int d = 0; d < nd; d++) {
        json_object *l = json_object_new_array();
        json_object_array_add(ch, l);
        json_object_array_add(sh, json_object_new_int64(shape[d]));
        if (shape[d] == 0) {
            json_object_array_add(l, json_object_new_int64(0));
            continue;
        }
        dim_edges it;
        if (dim_edges_start(&it, a, d)) {
            json_object_put(dto);
            json_object_put(ch);
            json_object_put(sh);
            serve_reply_lib(r, ZARRC_ENOMEM, "chunk grid");
            return NULL;
        }
        for (int64_t e; (e = dim_edges_next(&it)) > 0;)
            if (++entries > MAX_CHUNK_ENTRIES) {
                dim_edges_end(&it);
                json_object_put(dto);
                json_object_put(ch);
                json_object_put(sh);
                serve_reply_error(r, 400, "the array has more than %d chunks along its dimensions: too many to list",
                                  MAX_CHUNK_ENTRIES);
                return NULL;
            } else
                json_object_array_add(l, json_object_new_int64(e));
        dim_edges_end(&it);
    }
    json_object *s = json_object_new_object();
    json_object_object_add(s, "data_type", dto);
    json_object_object_add(s, "chunks", ch);
    json_object_object_add(s, "shape", sh);
    /* dims from the v3 dimension_names (null unless every dimension has a name). */
    json_object *dims = NULL;
    char *meta = NULL;
    if (zarrc_array_json(&meta, a, ZARRC_JSON_METADATA) == 0 && meta) {
        json_object *m = json_tokener_parse(meta), *dn;
        if (m && json_object_object_get_ex(m, "dimension_names", &dn) && json_object_is_type(dn, json_type_array) &&
            (int)json_object_array_length(dn) == nd && nd > 0) {
            int all = 1;
            for (int d = 0; d < nd; d++)
                if (!json_object_is_type(json_object_array_get_idx(dn, (size_t)d), json_type_string))
                    all = 0;
            if (all)
                dims = json_object_get(dn);
        }
        json_object_put(m);
    }
    zarrc_free(meta);
    json_object_object_add(s, "dims", dims);
    json_object_object_add(s, "resizable", json_object_new_boolean(0));
    return s;
}

static json_object *attributes_of(zarrc_store *st, const char *path, zarrc_array *a)
{
    char *text = NULL;
    int rc = a ? zarrc_array_json(&text, a, ZARRC_JSON_ATTRIBUTES) : zarrc_node_attributes(&text, st, path);
    json_object *o = rc == 0 && text ? json_tokener_parse(text) : NULL;
    zarrc_free(text);
    if (!o || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = json_object_new_object();
    }
    return o;
}

static int count_cb(void *ctx, const zarrc_child_info *c)
{
    (void)c;
    (*(int64_t *)ctx)++;
    return 0;
}

/* The tiled item for the node at `path`: a group (a == NULL) or an open array. With brief,
 * only id, structure_family and links (search results asked for no fields). NULL with a reply
 * set on failure. */
static json_object *node_item(serve_req *r, const char *path, zarrc_array *a, int brief)
{
    zarrc_store *st = serve_store(r);
    json_object *item = json_object_new_object(), *attrs = json_object_new_object(), *links = json_object_new_object();
    json_object_object_add(item, "id", json_object_new_string(last_segment(path)));
    json_object_object_add(attrs, "ancestors", ancestors(path));
    json_object_object_add(attrs, "structure_family", json_object_new_string(a ? "array" : "container"));
    json_object_object_add(attrs, "specs", json_object_new_array());
    if (!brief) {
        json_object_object_add(attrs, "metadata", attributes_of(st, path, a));
        if (a) {
            json_object *s = array_structure(r, a);
            if (!s) {
                json_object_put(item);
                json_object_put(attrs);
                json_object_put(links);
                return NULL;
            }
            json_object_object_add(attrs, "structure", s);
        } else {
            int64_t n = 0;
            zarrc_group_list(st, path, count_cb, &n);
            json_object *s = json_object_new_object();
            json_object_object_add(s, "contents", NULL);
            json_object_object_add(s, "count", json_object_new_int64(n));
            json_object_object_add(attrs, "structure", s);
        }
    } else {
        json_object_object_add(attrs, "metadata", json_object_new_object());
        json_object_object_add(attrs, "structure", NULL);
    }
    json_object_object_add(attrs, "access_blob", json_object_new_object());
    json_object_object_add(attrs, "sorting", NULL);
    json_object_object_add(attrs, "data_sources", NULL);
    json_object_object_add(item, "attributes", attrs);
    json_object_object_add(links, "self", mklink(r, "metadata/", path, ""));
    if (a) {
        int nd = zarrc_array_ndim(a);
        size_t cap = 8 + (size_t)nd * 8;
        char *tmpl = malloc(cap);
        if (tmpl) {
            size_t w = (size_t)snprintf(tmpl, cap, "?block=");
            for (int d = 0; d < nd; d++)
                w += (size_t)snprintf(tmpl + w, cap - w, "%s{%d}", d ? "," : "", d);
            json_object_object_add(links, "block", mklink(r, "array/block/", path, tmpl));
            free(tmpl);
        }
        json_object_object_add(links, "full", mklink(r, "array/full/", path, ""));
    } else {
        json_object_object_add(links, "search", mklink(r, "search/", path, ""));
        json_object_object_add(links, "full", mklink(r, "container/full/", path, ""));
    }
    json_object_object_add(item, "links", links);
    json_object_object_add(item, "meta", NULL);
    return item;
}

/* Find the node at `path`: *a is an open array, or NULL for a group (the root counts as a group
 * even without metadata). Returns 0, or -1 with a reply set. */
static int open_node(serve_req *r, const char *path, zarrc_array **a)
{
    *a = NULL;
    if (serve_path_inside(r, path)) {
        not_found(r, path);
        return -1;
    }
    zarrc_node_kind kind;
    int format;
    int rc = zarrc_node_probe(&kind, &format, serve_store(r), path);
    if (rc == ZARRC_ENOTFOUND && !*path)
        return 0;
    if (rc == ZARRC_ENOTFOUND) {
        not_found(r, path);
        return -1;
    }
    if (rc) {
        serve_reply_lib(r, rc, *path ? path : "/");
        return -1;
    }
    if (kind == ZARRC_NODE_GROUP)
        return 0;
    rc = zarrc_array_open(a, serve_store(r), path);
    if (rc) {
        serve_reply_lib(r, rc, path);
        return -1;
    }
    return 0;
}

/* Open `path` as a container for a request that needs one (`write`: the request writes): 0 when
 * it is a group (or the empty root); -1 once a reply has been sent — not found, an error, or
 * `status` with "`path` is an array<why>" when it is an array. */
static int open_container(serve_req *r, const char *path, int write, int status, const char *why)
{
    if (serve_require(r, write))
        return -1;
    zarrc_array *a;
    if (open_node(r, path, &a))
        return -1;
    if (a) {
        zarrc_array_free(a);
        serve_reply_error(r, status, "'%s' is an array%s", path, why);
        return -1;
    }
    return 0;
}

void serve_tiled_about(serve_req *r)
{
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        serve_reply_error(r, 405, "Method Not Allowed");
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "api_version", json_object_new_int(0));
    json_object_object_add(o, "library_version", json_object_new_string("0.2.1"));
    json_object *formats = json_object_new_object(), *fa = json_object_new_array();
    json_object_array_add(fa, json_object_new_string("application/octet-stream"));
    json_object_object_add(formats, "array", fa);
    json_object_object_add(formats, "container", json_object_new_array());
    json_object_object_add(o, "formats", formats);
    json_object_object_add(o, "aliases", json_object_new_object());
    json_object_object_add(o, "queries", json_object_new_array());
    json_object *auth = json_object_new_object();
    json_object_object_add(auth, "required", json_object_new_boolean(!serve_public(r)));
    json_object_object_add(auth, "providers", json_object_new_array());
    json_object_object_add(auth, "links", NULL);
    json_object_object_add(o, "authentication", auth);
    json_object *links = json_object_new_object();
    char buf[400];
    snprintf(buf, sizeof buf, "%s/api/v1", r->base);
    json_object_object_add(links, "self", json_object_new_string(buf));
    snprintf(buf, sizeof buf, "%s/api/v1/docs", r->base);
    json_object_object_add(links, "documentation", json_object_new_string(buf));
    json_object_object_add(o, "links", links);
    json_object *meta = json_object_new_object();
    json_object_object_add(meta, "root_path", json_object_new_string(""));
    json_object_object_add(o, "meta", meta);
    serve_reply_json(r, 200, o);
}

/* ---- metadata ---- */

static void get_metadata(serve_req *r, const char *path)
{
    if (serve_require(r, 0))
        return;
    zarrc_array *a;
    if (open_node(r, path, &a))
        return;
    json_object *item = node_item(r, path, a, 0);
    zarrc_array_free(a);
    if (!item)
        return;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "data", item);
    json_object_object_add(o, "error", NULL);
    json_object_object_add(o, "links", NULL);
    json_object_object_add(o, "meta", json_object_new_object());
    serve_reply_json(r, 200, o);
}

static int valid_key(const char *k, char *err, size_t errlen)
{
    size_t n = strlen(k);
    if (n == 0 || n > 255) {
        snprintf(err, errlen, "the key must have 1 to 255 characters");
        return 0;
    }
    if (strcmp(k, ".") == 0 || strcmp(k, "..") == 0 || strncmp(k, ".zarrc-", 7) == 0 || strcmp(k, "zarr.json") == 0 ||
        k[0] == '.') {
        snprintf(err, errlen, "the key '%s' is reserved", k);
        return 0;
    }
    for (const unsigned char *p = (const unsigned char *)k; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\') {
            snprintf(err, errlen, "the key must not contain '/', '\\' or control characters");
            return 0;
        }
    return 1;
}

/* One dimension's chunk list → the regular chunk size, or -1 if irregular. */
static int64_t regular_chunk(json_object *list, int64_t extent, char *err, size_t errlen, int d)
{
    if (!json_object_is_type(list, json_type_array)) {
        snprintf(err, errlen, "chunks[%d] must be a list of integers", d);
        return -1;
    }
    size_t n = json_object_array_length(list);
    int64_t first = 0, sum = 0;
    int irregular = 0, zero = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(list, i);
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
            snprintf(err, errlen, "chunks[%d][%zu] must be a non-negative integer", d, i);
            return -1;
        }
        int64_t c = json_object_get_int64(v);
        if (i == 0)
            first = c;
        else if ((i + 1 < n && c != first) || (i + 1 == n && c > first))
            irregular = 1;
        if (c == 0 && extent > 0)
            zero = 1;
        if (c > INT64_MAX - sum) {
            snprintf(err, errlen, "chunks[%d] overflows", d);
            return -1;
        }
        sum += c;
    }
    if (sum != extent) {
        snprintf(err, errlen, "chunks[%d] sums to %" PRId64 ", the shape is %" PRId64, d, sum, extent);
        return -1;
    }
    if (zero && (irregular || n > 1)) {
        snprintf(err, errlen, "chunks[%d] has an empty chunk in a dimension of extent %" PRId64, d, extent);
        return -1;
    }
    return irregular ? 0 : first > 0 ? first : 1;
}

/* The v3 rectilinear chunk_grid for the declared chunks (tiled's per-dimension edge lists):
 * a dimension whose edges are regular stays a bare edge, the others are run-length lists
 * [[edge, count], ...] — the form zarr-python 3.4 writes. */
static json_object *rectilinear_grid(json_object *chunks, int nd, const int64_t *chk)
{
    json_object *shapes = json_object_new_array();
    for (int d = 0; d < nd; d++) {
        json_object *list = json_object_array_get_idx(chunks, (size_t)d);
        if (chk[d] > 0) {
            json_object_array_add(shapes, json_object_new_int64(chk[d]));
            continue;
        }
        json_object *runs = json_object_new_array();
        size_t n = json_object_array_length(list);
        for (size_t i = 0; i < n;) {
            int64_t e = json_object_get_int64(json_object_array_get_idx(list, i));
            size_t j = i + 1;
            while (j < n && json_object_get_int64(json_object_array_get_idx(list, j)) == e)
                j++;
            if (j - i > 1) {
                json_object *run = json_object_new_array();
                json_object_array_add(run, json_object_new_int64(e));
                json_object_array_add(run, json_object_new_int64((int64_t)(j - i)));
                json_object_array_add(runs, run);
            } else
                json_object_array_add(runs, json_object_new_int64(e));
            i = j;
        }
        json_object_array_add(shapes, runs);
    }
    json_object *g = json_object_new_object(), *c = json_object_new_object();
    json_object_object_add(c, "kind", json_object_new_string("inline"));
    json_object_object_add(c, "chunk_shapes", shapes);
    json_object_object_add(g, "name", json_object_new_string("rectilinear"));
    json_object_object_add(g, "configuration", c);
    return g;
}

/* Create an array whose grid is rectilinear: the document zarrc makes for the same options
 * with a regular grid (built in a memory store, so nothing is written on failure), with the
 * declared edges as its chunk_grid, created in one step. */
static int create_rectilinear(zarrc_array **out, zarrc_store *store, const char *path, const zarrc_array_options *ao,
                              json_object *chunks)
{
    int nd = ao->ndim;
    int64_t tmpchunks[MAX_NDIM];
    for (int d = 0; d < nd; d++) {
        tmpchunks[d] = ao->chunks[d];
        if (tmpchunks[d] <= 0) { /* irregular: any edge will do for the template */
            json_object *list = json_object_array_get_idx(chunks, (size_t)d);
            tmpchunks[d] = json_object_get_int64(json_object_array_get_idx(list, 0));
        }
    }
    zarrc_array_options o = *ao;
    o.chunks = tmpchunks;
    zarrc_store *mem = NULL;
    zarrc_array *tmp = NULL;
    char *doc = NULL;
    int rc = zarrc_store_open(&mem, "memory://", 0);
    if (rc == ZARRC_OK)
        rc = zarrc_array_create(&tmp, mem, "a", &o);
    if (rc == ZARRC_OK)
        rc = zarrc_array_json(&doc, tmp, ZARRC_JSON_METADATA);
    zarrc_array_free(tmp);
    zarrc_store_free(mem);
    if (rc)
        return rc;
    json_object *m = json_tokener_parse(doc);
    zarrc_free(doc);
    if (!m)
        return ZARRC_ENOMEM;
    json_object_object_add(m, "chunk_grid", rectilinear_grid(chunks, nd, ao->chunks));
    rc = zarrc_array_create_json(out, store, path, json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN), 0);
    json_object_put(m);
    return rc;
}

static void post_metadata(serve_req *r, const char *parent)
{
    if (open_container(r, parent, 1, 405, ": nodes are created in containers"))
        return;
    char err[400];
    struct json_tokener *tok = json_tokener_new_ex(ZARRC_MAX_JSON_DEPTH > 200 ? 200 : ZARRC_MAX_JSON_DEPTH);
    json_object *body = tok ? json_tokener_parse_ex(tok, (const char *)(r->body ? r->body : (uint8_t *)""),
                                                    (int)(r->body_len > INT32_MAX ? INT32_MAX : r->body_len))
                            : NULL;
    int complete = tok && json_tokener_get_error(tok) == json_tokener_success &&
                   json_tokener_get_parse_end(tok) == r->body_len;
    json_tokener_free(tok);
    if (!body || !complete || !json_object_is_type(body, json_type_object)) {
        json_object_put(body);
        serve_reply_error(r, 422, "the body must be a JSON object");
        return;
    }
    json_object *v;
    const char *family = json_object_object_get_ex(body, "structure_family", &v) && json_object_is_type(v, json_type_string)
                             ? json_object_get_string(v)
                             : NULL;
    char genkey[40];
    const char *key = NULL;
    if (json_object_object_get_ex(body, "id", &v) && v) {
        if (!json_object_is_type(v, json_type_string)) {
            json_object_put(body);
            serve_reply_error(r, 422, "id must be a string");
            return;
        }
        key = json_object_get_string(v);
    } else {
        static atomic_uint counter;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(genkey, sizeof genkey, "%08lx%04x", (unsigned long)(ts.tv_nsec ^ ts.tv_sec), atomic_fetch_add(&counter, 1) & 0xffff);
        key = genkey;
    }
    if (!valid_key(key, err, sizeof err)) {
        json_object_put(body);
        serve_reply_error(r, 422, "%s", err);
        return;
    }
    json_object *metadata = NULL;
    if (json_object_object_get_ex(body, "metadata", &v) && v) {
        if (!json_object_is_type(v, json_type_object)) {
            json_object_put(body);
            serve_reply_error(r, 422, "metadata must be an object");
            return;
        }
        metadata = v;
    }
    const char *attrs = metadata ? json_object_to_json_string_ext(metadata, JSON_C_TO_STRING_PLAIN) : "{}";
    size_t plen = strlen(parent), klen = strlen(key);
    char *path = malloc(plen + klen + 2);
    if (!path) {
        json_object_put(body);
        serve_reply_error(r, 507, "out of memory");
        return;
    }
    snprintf(path, plen + klen + 2, "%s%s%s", parent, plen ? "/" : "", key);
    json_object *resp = json_object_new_object(), *links = json_object_new_object();
    json_object_object_add(resp, "id", json_object_new_string(key));
    json_object_object_add(links, "self", mklink(r, "metadata/", path, ""));

    if (!family || strcmp(family, "container") == 0) {
        int rc = zarrc_group_create(serve_store(r), path, 3, attrs, 0);
        if (rc) {
            if (rc == ZARRC_EEXISTS)
                serve_reply_error(r, 409, "/%s", path);
            else
                serve_reply_lib(r, rc, path);
            goto done;
        }
        json_object_object_add(links, "search", mklink(r, "search/", path, ""));
        json_object_object_add(links, "full", mklink(r, "container/full/", path, ""));
    } else if (strcmp(family, "array") == 0) {
        json_object *ds, *src, *structure;
        if (!json_object_object_get_ex(body, "data_sources", &ds) || !json_object_is_type(ds, json_type_array) ||
            json_object_array_length(ds) != 1 || !(src = json_object_array_get_idx(ds, 0)) ||
            !json_object_object_get_ex(src, "structure", &structure) ||
            !json_object_is_type(structure, json_type_object)) {
            serve_reply_error(r, 422, "an array needs data_sources: [{\"structure\": {...}}]");
            goto done;
        }
        json_object *dt, *shape, *chunks, *dims = NULL;
        char dtype[64];
        if (!json_object_object_get_ex(structure, "data_type", &dt) ||
            serve_dtype_from_tiled(dtype, sizeof dtype, dt, err, sizeof err)) {
            serve_reply_error(r, 422, "structure.data_type: %s", json_object_object_get_ex(structure, "data_type", &dt) ? err : "missing");
            goto done;
        }
        if (!json_object_object_get_ex(structure, "shape", &shape) || !json_object_is_type(shape, json_type_array) ||
            json_object_array_length(shape) > MAX_NDIM) {
            serve_reply_error(r, 422, "structure.shape must be a list of at most %d integers", MAX_NDIM);
            goto done;
        }
        int nd = (int)json_object_array_length(shape);
        if (!json_object_object_get_ex(structure, "chunks", &chunks) || !json_object_is_type(chunks, json_type_array) ||
            (int)json_object_array_length(chunks) != nd) {
            serve_reply_error(r, 422, "structure.chunks must have one list per dimension (%d)", nd);
            goto done;
        }
        json_object_object_get_ex(structure, "dims", &dims);
        if (dims && (!json_object_is_type(dims, json_type_array) || (int)json_object_array_length(dims) != nd)) {
            serve_reply_error(r, 422, "structure.dims must be null or one name per dimension (%d)", nd);
            goto done;
        }
        int64_t shp[MAX_NDIM], chk[MAX_NDIM];
        int irregular = 0; /* some dimension's declared chunks differ: a rectilinear grid */
        const char *names[MAX_NDIM];
        for (int d = 0; d < nd; d++) {
            json_object *sv = json_object_array_get_idx(shape, (size_t)d);
            if (!json_object_is_type(sv, json_type_int) || json_object_get_int64(sv) < 0) {
                serve_reply_error(r, 422, "structure.shape[%d] must be a non-negative integer", d);
                goto done;
            }
            shp[d] = json_object_get_int64(sv);
            chk[d] = regular_chunk(json_object_array_get_idx(chunks, (size_t)d), shp[d], err, sizeof err, d);
            irregular |= chk[d] == 0;
            if (chk[d] < 0) {
                serve_reply_error(r, 422, "structure.%s", err);
                goto done;
            }
            names[d] = NULL;
            if (dims) {
                json_object *dn = json_object_array_get_idx(dims, (size_t)d);
                if (!json_object_is_type(dn, json_type_string)) {
                    serve_reply_error(r, 422, "structure.dims[%d] must be a string", d);
                    goto done;
                }
                names[d] = json_object_get_string(dn);
            }
        }
        /* A dimension of extent 0 carries no chunk size ([[0]] or []): give it about 1 MiB of
         * elements given the other chunk extents, so that extending it later (PATCH) does not
         * write one chunk per element. */
        {
            size_t item = 1;
            const char *digits = dtype + strcspn(dtype, "0123456789");
            if (*digits)
                item = (size_t)strtoul(digits, NULL, 10);
            if (dtype[1] == 'U')
                item *= 4;
            if (item == 0)
                item = 1;
            for (int d = 0; d < nd; d++) {
                if (shp[d] != 0)
                    continue;
                int64_t other = 1;
                for (int e = 0; e < nd; e++)
                    if (e != d && shp[e] != 0 && other < (int64_t)1 << 40)
                        other *= chk[e] > 0 ? chk[e] : 1;
                int64_t c = (int64_t)((1u << 20) / item) / (other > 0 ? other : 1);
                chk[d] = c > 0 ? c : 1;
            }
        }
        zarrc_array_options ao = ZARRC_ARRAY_OPTIONS_INIT;
        ao.format = 3;
        ao.dtype = dtype;
        ao.ndim = nd;
        ao.shape = shp;
        ao.chunks = chk;
        ao.attributes = attrs;
        ao.dimension_names = dims ? names : NULL;
        zarrc_array *na = NULL;
        int rc = irregular ? create_rectilinear(&na, serve_store(r), path, &ao, chunks)
                           : zarrc_array_create(&na, serve_store(r), path, &ao);
        if (rc) {
            if (rc == ZARRC_EEXISTS)
                serve_reply_error(r, 409, "/%s", path);
            else
                serve_reply_lib(r, rc, path);
            goto done;
        }
        char tmpl[8 + MAX_NDIM * 8];
        size_t w = (size_t)snprintf(tmpl, sizeof tmpl, "?block=");
        for (int d = 0; d < nd; d++)
            w += (size_t)snprintf(tmpl + w, sizeof tmpl - w, "%s{%d}", d ? "," : "", d);
        json_object_object_add(links, "block", mklink(r, "array/block/", path, tmpl));
        json_object_object_add(links, "full", mklink(r, "array/full/", path, ""));
        zarrc_array_free(na);
        json_object_object_add(resp, "data_sources", json_object_get(ds));
    } else {
        serve_reply_error(r, 422, "structure_family '%s' is not supported (array and container are)", family);
        goto done;
    }
    json_object_object_add(resp, "links", links);
    links = NULL;
    json_object_object_add(resp, "metadata", metadata ? json_object_get(metadata) : json_object_new_object());
    serve_reply_json(r, 200, resp);
    resp = NULL;
done:
    json_object_put(links);
    json_object_put(resp);
    json_object_put(body);
    free(path);
}

static void delete_metadata(serve_req *r, const char *path)
{
    if (serve_require(r, 1))
        return;
    if (!*path) {
        serve_reply_error(r, 405, "the root cannot be deleted");
        return;
    }
    if (serve_path_inside(r, path)) {
        not_found(r, path);
        return;
    }
    int rc = zarrc_node_delete_flags(serve_store(r), path, ZARRC_FORCE);
    if (rc == ZARRC_ENOTFOUND)
        not_found(r, path);
    else if (rc)
        serve_reply_lib(r, rc, path);
    else
        serve_reply_json(r, 200, NULL);
}

/* ---- search ---- */

typedef struct child_list {
    char **names;
    int *is_array;
    size_t n, cap;
    int failed;
} child_list;

static int collect_cb(void *ctx, const zarrc_child_info *c)
{
    child_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **nn = realloc(l->names, cap * sizeof *nn);
        if (!nn) {
            l->failed = 1;
            return 1;
        }
        l->names = nn;
        int *na = realloc(l->is_array, cap * sizeof *na);
        if (!na) {
            l->failed = 1;
            return 1;
        }
        l->is_array = na;
        l->cap = cap;
    }
    l->names[l->n] = strdup(c->name);
    if (!l->names[l->n]) {
        l->failed = 1;
        return 1;
    }
    l->is_array[l->n] = c->kind == ZARRC_NODE_ARRAY;
    l->n++;
    return 0;
}

static int parse_page_param(serve_req *r, const char *name, int64_t dflt, int64_t *out)
{
    const char *v = serve_query(r, name);
    *out = dflt;
    if (!v)
        return 0;
    int64_t *vals;
    int n;
    char err[200];
    if (serve_parse_uint_list(&vals, &n, v, 1, name, err, sizeof err) || n != 1) {
        free(vals);
        serve_reply_error(r, 422, "%s must be a non-negative integer", name);
        return -1;
    }
    *out = vals[0];
    free(vals);
    return 0;
}

static void search(serve_req *r, const char *path)
{
    if (open_container(r, path, 0, 404, ", not a container"))
        return;
    int64_t offset, limit;
    if (parse_page_param(r, "page[offset]", 0, &offset) || parse_page_param(r, "page[limit]", DEFAULT_PAGE, &limit))
        return;
    if (limit > MAX_PAGE)
        limit = MAX_PAGE;
    child_list l = {0};
    int rc = zarrc_group_list(serve_store(r), path, collect_cb, &l);
    if (rc == ZARRC_ENOTFOUND && !*path)
        rc = 0;
    if (rc || l.failed) {
        serve_reply_lib(r, rc ? rc : ZARRC_ENOMEM, *path ? path : "/");
        goto out;
    }
    const char *fields = serve_query(r, "fields");
    int brief = fields != NULL && !strstr(fields, "structure") && !strstr(fields, "metadata");
    const char *only = serve_query(r, "filter[lookup][condition][key]");
    json_object *data = json_object_new_array();
    int64_t count = (int64_t)l.n;
    for (size_t i = 0; i < l.n; i++) {
        if (only && strcmp(only, l.names[i]) != 0)
            continue;
        if (!only && ((int64_t)i < offset || (int64_t)i >= offset + limit))
            continue;
        size_t plen = strlen(path);
        char *cp = malloc(plen + strlen(l.names[i]) + 2);
        if (!cp)
            continue;
        sprintf(cp, "%s%s%s", path, plen ? "/" : "", l.names[i]);
        zarrc_array *ca = NULL;
        if (l.is_array[i] && !brief && zarrc_array_open(&ca, serve_store(r), cp) != 0) {
            free(cp);
            continue; /* unreadable child: not listed */
        }
        json_object *item;
        if (brief) {
            item = node_item(r, cp, NULL, 1);
            json_object *attrs;
            if (item && json_object_object_get_ex(item, "attributes", &attrs))
                json_object_object_add(attrs, "structure_family",
                                       json_object_new_string(l.is_array[i] ? "array" : "container"));
        } else {
            item = node_item(r, cp, ca, 0);
        }
        zarrc_array_free(ca);
        free(cp);
        if (item)
            json_object_array_add(data, item);
        else
            r->status = 200; /* a child without a tiled spelling is skipped */
    }
    if (only)
        count = (int64_t)json_object_array_length(data);
    json_object *o = json_object_new_object(), *links = json_object_new_object(), *meta = json_object_new_object();
    json_object_object_add(o, "data", data);
    json_object_object_add(o, "error", NULL);
    char q[128];
    json_object_object_add(links, "self", mklink(r, "search/", path, ""));
    if (!only && offset + limit < count) {
        snprintf(q, sizeof q, "?page[offset]=%" PRId64 "&page[limit]=%" PRId64, offset + limit, limit);
        json_object_object_add(links, "next", mklink(r, "search/", path, q));
    } else {
        json_object_object_add(links, "next", NULL);
    }
    json_object_object_add(o, "links", links);
    json_object_object_add(meta, "count", json_object_new_int64(count));
    json_object_object_add(o, "meta", meta);
    serve_reply_json(r, 200, o);
out:
    for (size_t i = 0; i < l.n; i++)
        free(l.names[i]);
    free(l.names);
    free(l.is_array);
}

/* ---- array data ---- */

/* The region (start/count per dimension) of block `blk` or of the whole array. */
static int block_region(serve_req *r, zarrc_array *a, int64_t *start, int64_t *count)
{
    int nd = zarrc_array_ndim(a);
    const int64_t *shape = zarrc_array_shape(a);
    const char *b = serve_query(r, "block");
    if (!b) {
        serve_reply_error(r, 422, "the block parameter is required (block=i,j,...)");
        return -1;
    }
    int64_t *blk;
    int n;
    char err[256];
    if (serve_parse_uint_list(&blk, &n, b, MAX_NDIM, "block", err, sizeof err)) {
        serve_reply_error(r, 422, "%s", err);
        return -1;
    }
    if (n != nd) {
        free(blk);
        serve_reply_error(r, 422, "block has %d indices, the array %d dimensions", n, nd);
        return -1;
    }
    for (int d = 0; d < nd; d++) {
        if (shape[d] == 0) {
            if (blk[d] > 0) {
                serve_reply_error(r, 422, "block index %" PRId64 " is out of range for dimension %d (1 block)", blk[d], d);
                free(blk);
                return -1;
            }
            start[d] = count[d] = 0;
            continue;
        }
        dim_edges it;
        if (dim_edges_start(&it, a, d)) {
            free(blk);
            serve_reply_lib(r, ZARRC_ENOMEM, "chunk grid");
            return -1;
        }
        int64_t pos = 0, e = 0, k = 0;
        if (!it.runs) { /* regular: no walk */
            int64_t nblocks = shape[d] / it.edge + (shape[d] % it.edge != 0);
            if (blk[d] < nblocks) {
                pos = blk[d] * it.edge;
                e = shape[d] - pos < it.edge ? shape[d] - pos : it.edge;
            }
            k = nblocks;
        } else {
            for (; (e = dim_edges_next(&it)) > 0; k++, pos += e)
                if (k == blk[d])
                    break;
        }
        dim_edges_end(&it);
        if (e <= 0) {
            serve_reply_error(r, 422, "block index %" PRId64 " is out of range for dimension %d (%" PRId64 " blocks)",
                              blk[d], d, k);
            free(blk);
            return -1;
        }
        start[d] = pos;
        count[d] = e;
    }
    free(blk);
    return 0;
}

/* Apply ?slice= to the region: fills the resolved box (first index absolute). */
static int apply_slice(serve_req *r, int nd, const int64_t *rstart, const int64_t *rcount, serve_box *box, int write)
{
    const char *s = serve_query(r, "slice");
    serve_slice_dim *dims = NULL;
    int ndims = 0;
    char err[256];
    if (s && serve_parse_slice(&dims, &ndims, s, MAX_NDIM, err, sizeof err)) {
        serve_reply_error(r, 422, "slice: %s", err);
        return -1;
    }
    if (serve_box_resolve(box, dims, ndims, nd, rcount, err, sizeof err)) {
        free(dims);
        serve_reply_error(r, 400, "slice: %s", err);
        return -1;
    }
    free(dims);
    for (int d = 0; d < nd; d++) {
        if (write && box->step[d] != 1) {
            serve_box_free(box);
            serve_reply_error(r, 422, "slice: writes take no steps (dimension %d)", d);
            return -1;
        }
        box->first[d] += rstart[d];
    }
    return 0;
}

/* Reverse axis `axis` of a C-order buffer with per-dimension counts `cnt`. */
static int reverse_axis(uint8_t *buf, int nd, const int64_t *cnt, int axis, size_t item)
{
    size_t outer = 1, inner = item;
    for (int d = 0; d < axis; d++)
        outer *= (size_t)cnt[d];
    for (int d = axis + 1; d < nd; d++)
        inner *= (size_t)cnt[d];
    size_t len = (size_t)cnt[axis];
    uint8_t *tmp = malloc(inner ? inner : 1);
    if (!tmp)
        return -1;
    for (size_t o = 0; o < outer; o++) {
        uint8_t *base = buf + o * len * inner;
        for (size_t i = 0, j = len ? len - 1 : 0; i < j; i++, j--) {
            memcpy(tmp, base + i * inner, inner);
            memcpy(base + i * inner, base + j * inner, inner);
            memcpy(base + j * inner, tmp, inner);
        }
    }
    free(tmp);
    return 0;
}

/* Byte size of prod(count) items of `item` bytes, or -1 on overflow / over the limit. */
static int box_bytes(serve_req *r, int nd, const int64_t *count, size_t item, size_t *out)
{
    uint64_t n = item;
    for (int d = 0; d < nd; d++) {
        if (count[d] == 0) {
            *out = 0;
            return 0;
        }
        if ((uint64_t)count[d] > UINT64_MAX / n) {
            n = UINT64_MAX;
            break;
        }
        n *= (uint64_t)count[d];
    }
    if (n > serve_max_body(r) || n > SIZE_MAX) {
        return -1;
    }
    *out = (size_t)n;
    return 0;
}

static int check_format(serve_req *r)
{
    const char *f = serve_query(r, "format");
    if (f && strcmp(f, "application/octet-stream") != 0 && strcmp(f, "octet-stream") != 0) {
        serve_reply_error(r, 406, "format '%s' is not supported (application/octet-stream is)", f);
        return -1;
    }
    return 0;
}

static int check_expected_shape(serve_req *r, const serve_box *box)
{
    const char *es = serve_query(r, "expected_shape");
    if (!es)
        return 0;
    int64_t *v = NULL;
    int n = 0;
    char err[256];
    if (strcmp(es, "scalar") != 0 && serve_parse_uint_list(&v, &n, es, MAX_NDIM, "expected_shape", err, sizeof err)) {
        serve_reply_error(r, 422, "%s", err);
        return -1;
    }
    int k = 0, ok = 1;
    for (int d = 0; d < box->ndim; d++) {
        if (!box->keep[d])
            continue;
        if (k >= n || v[k] != box->count[d])
            ok = 0;
        k++;
    }
    if (k != n)
        ok = 0;
    free(v);
    if (!ok) {
        serve_reply_error(r, 422, "expected_shape %s does not match the shape of the result", es);
        return -1;
    }
    return 0;
}

/* The common start of the data routes: the key's rights (and, for reads, the format), then
 * the node, which must be an array tiled can carry (at most MAX_NDIM dimensions, a fixed-size
 * type). Returns the open array, or NULL after replying. */
static zarrc_array *open_data_array(serve_req *r, const char *path, int write)
{
    if (serve_require(r, write) || (!write && check_format(r)))
        return NULL;
    zarrc_array *a;
    if (open_node(r, path, &a))
        return NULL;
    if (!a) {
        serve_reply_error(r, write ? 405 : 404, "'%s' is a container, not an array", path);
        return NULL;
    }
    const zarrc_dtype_info *dt = zarrc_array_dtype(a);
    if (zarrc_array_ndim(a) > MAX_NDIM)
        serve_reply_error(r, 422, "arrays of more than %d dimensions are not served", MAX_NDIM);
    else if (dt->item_size == 0)
        serve_reply_error(r, 422, "data type '%s' has no tiled spelling (variable-length types are not served)",
                          dt->name);
    else
        return a;
    zarrc_array_free(a);
    return NULL;
}

/* The region a block or full route addresses before ?slice= applies. */
static int data_region(serve_req *r, zarrc_array *a, int block, int64_t *start, int64_t *count)
{
    if (block)
        return block_region(r, a, start, count);
    for (int d = 0; d < zarrc_array_ndim(a); d++) {
        start[d] = 0;
        count[d] = zarrc_array_shape(a)[d];
    }
    return 0;
}

/* Open the array of a data route and resolve the box it addresses (the block or whole array,
 * then ?slice=); NULL once a reply has been sent. The caller frees the box and the array. */
static zarrc_array *open_data_box(serve_req *r, const char *path, int block, int write, serve_box *box)
{
    zarrc_array *a = open_data_array(r, path, write);
    if (!a)
        return NULL;
    int64_t rstart[MAX_NDIM] = {0}, rcount[MAX_NDIM] = {0};
    if (data_region(r, a, block, rstart, rcount) ||
        apply_slice(r, zarrc_array_ndim(a), rstart, rcount, box, write)) {
        serve_box_free(box);
        zarrc_array_free(a);
        return NULL;
    }
    return a;
}

static void read_data(serve_req *r, const char *path, int block)
{
    serve_box box = {0};
    zarrc_array *a = open_data_box(r, path, block, 0, &box);
    if (!a)
        return;
    const zarrc_dtype_info *dt = zarrc_array_dtype(a);
    int nd = zarrc_array_ndim(a);
    uint8_t *buf = NULL;
    if (check_expected_shape(r, &box))
        goto out;
    size_t nbytes;
    if (box_bytes(r, nd, box.count, dt->item_size, &nbytes)) {
        serve_reply_error(r, 400, "the response would exceed the limit of %llu bytes: request a slice",
                          (unsigned long long)serve_max_body(r));
        goto out;
    }
    buf = malloc(nbytes ? nbytes : 1);
    if (!buf) {
        serve_reply_error(r, 507, "out of memory for %zu bytes", nbytes);
        goto out;
    }
    if (nbytes) {
        int64_t st[MAX_NDIM], stp[MAX_NDIM];
        for (int d = 0; d < nd; d++) {
            if (box.step[d] > 0) {
                st[d] = box.first[d];
                stp[d] = box.step[d];
            } else { /* read ascending, reverse below */
                st[d] = box.first[d] + (box.count[d] - 1) * box.step[d];
                stp[d] = -box.step[d];
            }
            if (box.count[d] == 1)
                stp[d] = 1;
        }
        int rc = zarrc_array_read(a, st, box.count, stp, buf, nbytes);
        if (rc) {
            serve_reply_lib(r, rc, path);
            goto out;
        }
        for (int d = 0; d < nd; d++)
            if (box.step[d] < 0 && box.count[d] > 1 && reverse_axis(buf, nd, box.count, d, dt->item_size)) {
                serve_reply_error(r, 507, "out of memory");
                goto out;
            }
        if (array_big_endian(a))
            serve_swap(buf, nbytes, serve_swap_width(dt));
    }
    serve_reply_bytes(r, 200, "application/octet-stream", buf, nbytes, free);
    buf = NULL;
out:
    free(buf);
    serve_box_free(&box);
    zarrc_array_free(a);
}

static void write_data(serve_req *r, const char *path, int block)
{
    serve_box box = {0};
    zarrc_array *a = open_data_box(r, path, block, 1, &box);
    if (!a)
        return;
    const zarrc_dtype_info *dt = zarrc_array_dtype(a);
    int nd = zarrc_array_ndim(a);
    size_t nbytes;
    if (box_bytes(r, nd, box.count, dt->item_size, &nbytes) || nbytes != r->body_len) {
        serve_reply_error(r, 422, "the body has %zu bytes; the %s needs %s", r->body_len, block ? "block" : "array",
                          "prod(shape) * itemsize bytes");
        goto out;
    }
    if (nbytes) {
        if (array_big_endian(a))
            serve_swap(r->body, nbytes, serve_swap_width(dt));
        int rc = zarrc_array_write(a, box.first, box.count, NULL, r->body, nbytes);
        if (rc) {
            serve_reply_lib(r, rc, path);
            goto out;
        }
    }
    serve_reply_json(r, 200, NULL);
out:
    serve_box_free(&box);
    zarrc_array_free(a);
}

static void patch_data(serve_req *r, const char *path)
{
    zarrc_array *a = open_data_array(r, path, 1);
    if (!a)
        return;
    const zarrc_dtype_info *dt = zarrc_array_dtype(a);
    int nd = zarrc_array_ndim(a);
    int64_t *off = NULL, *shp = NULL;
    int noff = 0, nshp = 0;
    char err[256];
    const char *os = serve_query(r, "offset"), *ss = serve_query(r, "shape"), *ex = serve_query(r, "extend");
    int extend = 0;
    if (!os || !*os || !ss || !*ss) {
        serve_reply_error(r, 422, "offset and shape are required (comma lists of non-negative integers)");
        goto out;
    }
    if (ex) {
        if (strcmp(ex, "true") == 0 || strcmp(ex, "True") == 0 || strcmp(ex, "1") == 0)
            extend = 1;
        else if (strcmp(ex, "false") != 0 && strcmp(ex, "False") != 0 && strcmp(ex, "0") != 0) {
            serve_reply_error(r, 422, "extend must be true or false");
            goto out;
        }
    }
    if (serve_parse_uint_list(&off, &noff, os, MAX_NDIM, "offset", err, sizeof err) ||
        serve_parse_uint_list(&shp, &nshp, ss, MAX_NDIM, "shape", err, sizeof err)) {
        serve_reply_error(r, 422, "%s", err);
        goto out;
    }
    if (nshp != nd || noff > nd) {
        serve_reply_error(r, 422, "shape has %d entries and offset %d; the array has %d dimensions", nshp, noff, nd);
        goto out;
    }
    for (int d = 0; d < noff; d++)
        if (off[d] > INT64_MAX - shp[d]) {
            serve_reply_error(r, 422, "offset + shape overflows in dimension %d", d);
            goto out;
        }
    size_t nbytes;
    if (box_bytes(r, nd, shp, dt->item_size, &nbytes) || nbytes != r->body_len) {
        serve_reply_error(r, 422, "the body has %zu bytes; shape %s of %zu-byte items needs a different size",
                          r->body_len, ss, dt->item_size);
        goto out;
    }
    if (array_big_endian(a))
        serve_swap(r->body, nbytes, serve_swap_width(dt));
    int rc = zarrc_array_write_at(a, off, noff, shp, r->body ? r->body : (uint8_t *)"", nbytes, extend ? ZARRC_EXTEND : 0);
    if (rc == ZARRC_EBOUNDS && !extend) {
        /* tiled's message: "Slice ... does not fit within current array shape (4, 2, 2). Use ?extend=true ..." */
        zarrc_array *cur = NULL;
        const int64_t *cs = zarrc_array_shape(a);
        if (zarrc_array_open(&cur, serve_store(r), path) == 0)
            cs = zarrc_array_shape(cur);
        char sl[600], sh[600];
        size_t w = 0, v = 0;
        for (int d = 0; d < nd && w + 60 < sizeof sl && v + 30 < sizeof sh; d++) {
            int64_t o = d < noff ? off[d] : 0;
            w += (size_t)snprintf(sl + w, sizeof sl - w, "%s%" PRId64 ":%" PRId64, d ? ", " : "", o, o + shp[d]);
            v += (size_t)snprintf(sh + v, sizeof sh - v, "%s%" PRId64, d ? ", " : "", cs[d]);
        }
        sl[w] = sh[v] = 0;
        serve_reply_error(r, 409,
                          "Slice (%s) does not fit within current array shape (%s%s). Use ?extend=true to extend the "
                          "array dimensions to fit.",
                          sl, sh, nd == 1 ? "," : "");
        zarrc_array_free(cur);
        goto out;
    }
    if (rc) {
        serve_reply_lib(r, rc, path);
        goto out;
    }
    zarrc_array *now = NULL;
    rc = zarrc_array_open(&now, serve_store(r), path);
    if (rc) {
        serve_reply_lib(r, rc, path);
        goto out;
    }
    json_object *s = array_structure(r, now);
    zarrc_array_free(now);
    if (s)
        serve_reply_json(r, 200, s);
out:
    free(off);
    free(shp);
    zarrc_array_free(a);
}

void serve_tiled_route(serve_req *r, const char *rest)
{
    static const struct {
        const char *prefix;
        int kind;
    } routes[] = {{"metadata", 1}, {"array/full", 2}, {"array/block", 3}, {"search", 4}};
    int kind = 0;
    const char *tail = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        size_t n = strlen(routes[i].prefix);
        if (strncmp(rest, routes[i].prefix, n) == 0 && (rest[n] == '/' || rest[n] == 0)) {
            kind = routes[i].kind;
            tail = rest + n;
            break;
        }
    }
    if (!kind) {
        serve_reply_error(r, 404, "Not Found");
        return;
    }
    char *path = NULL, err[256];
    if (serve_path_normalize(&path, tail, err, sizeof err)) {
        serve_reply_error(r, 400, "bad path: %s", err);
        return;
    }
    const char *m = r->method;
    int get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    if (kind == 1 && get)
        get_metadata(r, path);
    else if (kind == 1 && strcmp(m, "POST") == 0)
        post_metadata(r, path);
    else if (kind == 1 && strcmp(m, "DELETE") == 0)
        delete_metadata(r, path);
    else if (kind == 2 && get)
        read_data(r, path, 0);
    else if (kind == 2 && strcmp(m, "PUT") == 0)
        write_data(r, path, 0);
    else if (kind == 2 && strcmp(m, "PATCH") == 0)
        patch_data(r, path);
    else if (kind == 3 && get)
        read_data(r, path, 1);
    else if (kind == 3 && strcmp(m, "PUT") == 0)
        write_data(r, path, 1);
    else if (kind == 4 && get)
        search(r, path);
    else
        serve_reply_error(r, 405, "Method Not Allowed");
    free(path);
}
