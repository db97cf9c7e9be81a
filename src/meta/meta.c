/* meta.c — parse and emit array metadata documents (v2 .zarray, v3 zarr.json). */
#include <stdio.h>
#include <stdlib.h>

#include "meta.h"

void zarrc__meta_clear(zarrc__array_meta *m)
{
    if (m->owns_runs)
        for (int d = 0; d < m->ndim; d++)
            free(m->runs[d]);
    zarrc__fill_clear(&m->fill);
    json_object_put(m->codecs);
    json_object_put(m->filters);
    json_object_put(m->compressor);
    json_object_put(m->attributes);
    json_object_put(m->dimension_names);
    json_object_put(m->extra);
    memset(m, 0, sizeof *m);
}

zarrc_vref zarrc__meta_fill_vref(const zarrc__array_meta *m)
{
    if (zarrc__dtype_object_arrays(&m->dtype))
        return (zarrc_vref){NULL, 0}; /* typed arrays: missing elements are empty */
    if (zarrc__dtype_is_optional_vlen(&m->dtype)) /* content + mask byte */
        return m->fill.bytes && m->fill.size && m->fill.bytes[m->fill.size - 1]
                   ? (zarrc_vref){m->fill.bytes, m->fill.size - 1}
                   : zarrc__vref_missing();
    if (m->dtype.kind == ZARRC_DTYPE_OBJECT && (m->fill.is_null || !m->fill.size))
        return (zarrc_vref){(const uint8_t *)"null", 4}; /* JSON texts: null */
    return (zarrc_vref){m->fill.bytes, m->fill.size};
}

const void *zarrc__meta_fill_element(zarrc__array_meta *m)
{
    if (zarrc__dtype_is_vlen(&m->dtype)) {
        m->fill_ref = zarrc__meta_fill_vref(m);
        return &m->fill_ref;
    }
    return m->fill.is_null ? NULL : m->fill.bytes;
}

static json_object *member(const json_object *o, const char *key)
{
    json_object *v = NULL;
    json_object_object_get_ex((json_object *)o, key, &v);
    return v;
}

static bool has(const json_object *o, const char *key)
{
    return json_object_object_get_ex((json_object *)o, key, NULL);
}

static int parse_dims(int64_t *out, int *ndim, const json_object *v, const char *what, bool allow_zero)
{
    if (!json_object_is_type((json_object *)v, json_type_array))
        return zarrc_error_set(ZARRC_EINVAL, "'%s' must be a list of integers", what);
    size_t n = json_object_array_length(v);
    if (n > ZARRC_MAX_DIMS)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "'%s' has %zu dimensions (at most %d supported)",
                               what, n, ZARRC_MAX_DIMS);
    for (size_t i = 0; i < n; i++) {
        int64_t x;
        if (zarrc_json_int(ZJC(json_object_array_get_idx(v, i)), &x) || x < 0 || (!allow_zero && x == 0))
            return zarrc_error_set(ZARRC_EINVAL, "'%s'[%zu] must be a%s integer", what, i,
                                   allow_zero ? " non-negative" : " positive");
        out[i] = x;
    }
    *ndim = (int)n;
    return ZARRC_OK;
}

/* Extension object: a name string, or {"name", "configuration"?, "must_understand"?}. */
static int ext_object(const json_object *v, const char *what, const char **name,
                      const json_object **config, bool *must_understand)
{
    *config = NULL;
    *must_understand = true;
    if (json_object_is_type((json_object *)v, json_type_string)) {
        *name = json_object_get_string((json_object *)v);
        return ZARRC_OK;
    }
    json_object *n = member(v, "name");
    if (!json_object_is_type((json_object *)v, json_type_object) || !json_object_is_type(n, json_type_string))
        return zarrc_error_set(ZARRC_EINVAL, "'%s' must be a name or an object with a 'name'", what);
    *name = json_object_get_string(n);
    json_object *c = member(v, "configuration"), *mu = member(v, "must_understand");
    if (c && !json_object_is_type(c, json_type_object))
        return zarrc_error_set(ZARRC_EINVAL, "'%s' configuration must be an object", what);
    if (mu) {
        if (!json_object_is_type(mu, json_type_boolean))
            return zarrc_error_set(ZARRC_EINVAL, "'%s' must_understand must be a boolean", what);
        *must_understand = json_object_get_boolean(mu);
    }
    *config = c;
    return ZARRC_OK;
}

static int parse_attributes(zarrc__array_meta *m, const json_object *a)
{
    if (a && !json_object_is_type((json_object *)a, json_type_object))
        return zarrc_error_set(ZARRC_EINVAL, "'attributes' must be an object");
    m->attributes = a ? zarrc__json_deep_copy(a) : json_object_new_object();
    return m->attributes ? ZARRC_OK : zarrc__enomem();
}

/* A chunk's byte size must be representable (metadata can declare absurd chunk shapes); the
 * codec pipeline then holds it to the per-chunk limit. `field` names the chunk shape. */
static int check_chunk_size(const zarrc__array_meta *m, const char *field)
{
    size_t n = zarrc_dtype_elem_size(&m->dtype);
    for (int d = 0; d < m->ndim; d++)
        if (__builtin_mul_overflow(n, (size_t)m->chunks[d], &n) || n > (SIZE_MAX >> 2))
            return zarrc_error_set(ZARRC_EINVAL, "%s: a chunk is too large (its size in bytes overflows)", field);
    return ZARRC_OK;
}

int zarrc__meta_check_chunk_size(const zarrc__array_meta *m)
{
    return check_chunk_size(m, m->format == 2 ? "chunks" : "chunk_shape");
}

/* An edge or run count of a rectilinear grid: an integer >= 1. */
static int edge_int(const json_object *v, int d, const char *what, int64_t *out)
{
    if (!json_object_is_type((json_object *)v, json_type_int) || zarrc_json_int(ZJC(v), out) || *out < 1)
        return zarrc_error_set(ZARRC_EINVAL, "chunk_grid.chunk_shapes[%d]: %s must be an integer >= 1", d, what);
    return ZARRC_OK;
}

/* Add `count` edges of `size` to dimension d's runs (merging with an equal last run). */
static int add_run(zarrc__array_meta *m, int d, size_t *cap, int64_t size, int64_t count, int64_t *sum)
{
    size_t n = m->nruns[d];
    zarrc__edge_run *r = m->runs[d];
    int64_t add;
    if (__builtin_mul_overflow(size, count, &add) || __builtin_add_overflow(*sum, add, sum))
        return zarrc_error_set(ZARRC_EINVAL, "chunk_grid.chunk_shapes[%d]: the edges sum past 2^63", d);
    if (n && r[n - 1].size == size) {
        if (__builtin_add_overflow(r[n - 1].count, count, &r[n - 1].count))
            return zarrc_error_set(ZARRC_EINVAL, "chunk_grid.chunk_shapes[%d]: too many edges", d);
        return ZARRC_OK;
    }
    if (n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        zarrc__edge_run *g = zarrc__realloc(r, nc * sizeof *g);
        if (!g)
            return ZARRC_ENOMEM;
        m->runs[d] = r = g;
        *cap = nc;
    }
    int64_t c0 = n ? r[n - 1].chunk0 + r[n - 1].count : 0;
    r[n] = (zarrc__edge_run){size, count, c0, *sum - add};
    m->nruns[d] = n + 1;
    return ZARRC_OK;
}

int64_t zarrc__meta_edge_sum(const zarrc__array_meta *m, int d)
{
    const zarrc__edge_run *r = &m->runs[d][m->nruns[d] - 1];
    return r->index0 + r->size * r->count;
}

int zarrc__meta_grid_grow(zarrc__array_meta *m, int d, int64_t extent)
{
    int64_t sum = zarrc__meta_edge_sum(m, d), edge = extent - sum;
    if (extent <= sum)
        return ZARRC_OK;
    size_t cap = m->nruns[d]; /* add_run grows the allocation */
    int rc = add_run(m, d, &cap, edge, 1, &sum);
    if (rc == ZARRC_OK && edge > m->chunks[d])
        m->chunks[d] = edge;
    return rc;
}

/* configuration of a "rectilinear" chunk grid (zarr-extensions chunk-grids/rectilinear):
 * {"kind": "inline", "chunk_shapes": [per dimension: a bare edge m (repeated to cover the
 * extent: regular along it), or a list of edges and [edge, count] pairs]}; the edges of a
 * list must sum to at least the extent. */
static int parse_rectilinear(zarrc__array_meta *m, const json_object *cfg)
{
    json_object *kind = member(cfg, "kind"), *cs = member(cfg, "chunk_shapes");
    if (!json_object_is_type(kind, json_type_string) || strcmp(json_object_get_string(kind), "inline"))
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "chunk_grid rectilinear: kind must be \"inline\" (got %s)",
                               kind ? json_object_to_json_string(kind) : "nothing");
    if (!json_object_is_type(cs, json_type_array) || (int)json_object_array_length(cs) != m->ndim)
        return zarrc_error_set(ZARRC_EINVAL, "chunk_grid rectilinear: chunk_shapes must be a list of %d entries "
                               "(one per dimension)", m->ndim);
    m->rectilinear = true;
    m->owns_runs = true;
    for (int d = 0; d < m->ndim; d++) {
        json_object *e = json_object_array_get_idx(cs, (size_t)d);
        int rc;
        if (!json_object_is_type(e, json_type_array)) {
            if ((rc = edge_int(e, d, "a bare edge", &m->chunks[d])))
                return rc;
            continue;
        }
        size_t n = json_object_array_length(e), cap = 0;
        int64_t sum = 0, max = 0;
        if (n == 0)
            return zarrc_error_set(ZARRC_EINVAL, "chunk_grid.chunk_shapes[%d] is an empty list", d);
        for (size_t i = 0; i < n; i++) {
            json_object *v = json_object_array_get_idx(e, i);
            int64_t size, count = 1;
            if (json_object_is_type(v, json_type_array)) {
                if (json_object_array_length(v) != 2)
                    return zarrc_error_set(ZARRC_EINVAL, "chunk_grid.chunk_shapes[%d][%zu]: a run must be "
                                           "[edge, count]", d, i);
                if ((rc = edge_int(json_object_array_get_idx(v, 0), d, "a run's edge", &size)) ||
                    (rc = edge_int(json_object_array_get_idx(v, 1), d, "a run's count", &count)))
                    return rc;
            } else if ((rc = edge_int(v, d, "an edge", &size)))
                return rc;
            if ((rc = add_run(m, d, &cap, size, count, &sum)))
                return rc;
            if (size > max)
                max = size;
        }
        if (sum < m->shape[d])
            return zarrc_error_set(ZARRC_EINVAL, "chunk_grid.chunk_shapes[%d]: the edges sum to %lld, less than the "
                                   "extent %lld", d, (long long)sum, (long long)m->shape[d]);
        m->chunks[d] = max;
    }
    return ZARRC_OK;
}

int zarrc__meta_set_rectilinear(zarrc__array_meta *m, const json_object *chunk_shapes)
{
    json_object *cfg = json_object_new_object();
    if (!cfg)
        return ZARRC_ENOMEM;
    json_object_object_add(cfg, "kind", json_object_new_string("inline"));
    json_object_object_add(cfg, "chunk_shapes", json_object_get((json_object *)chunk_shapes));
    int rc = parse_rectilinear(m, cfg);
    json_object_put(cfg);
    return rc;
}

json_object *zarrc__meta_grid_json(const zarrc__array_meta *m)
{
    json_object *cs = json_object_new_array();
    for (int d = 0; d < m->ndim; d++) {
        if (!m->runs[d]) {
            json_object_array_add(cs, json_object_new_int64(m->chunks[d]));
            continue;
        }
        json_object *l = json_object_new_array();
        bool repeats = false;
        for (size_t i = 0; i < m->nruns[d]; i++)
            repeats |= m->runs[d][i].count > 1;
        for (size_t i = 0; i < m->nruns[d]; i++) {
            const zarrc__edge_run *r = &m->runs[d][i];
            if (r->count > 1) {
                json_object *p = json_object_new_array();
                json_object_array_add(p, json_object_new_int64(r->size));
                json_object_array_add(p, json_object_new_int64(r->count));
                json_object_array_add(l, p);
            } else
                json_object_array_add(l, json_object_new_int64(r->size));
        }
        (void)repeats; /* runs of one are bare either way: the plain list when nothing repeats */
        json_object_array_add(cs, l);
    }
    json_object *grid = json_object_new_object(), *cfg = json_object_new_object();
    json_object_object_add(grid, "name", json_object_new_string("rectilinear"));
    json_object_object_add(cfg, "kind", json_object_new_string("inline"));
    json_object_object_add(cfg, "chunk_shapes", cs);
    json_object_object_add(grid, "configuration", cfg);
    return grid;
}

int zarrc__meta_parse_v3(zarrc__array_meta *m, const json_object *doc)
{
    memset(m, 0, sizeof *m);
    m->format = 3;
    m->order = 'C';
    int rc;
    const char *name;
    const json_object *cfg;
    bool mu;
    if (!json_object_is_type((json_object *)doc, json_type_object))
        return zarrc_error_set(ZARRC_EINVAL, "metadata must be a JSON object");
    json_object *zf = member(doc, "zarr_format"), *nt = member(doc, "node_type");
    int64_t fmt;
    if (!zf || zarrc_json_int(ZJC(zf), &fmt) || fmt != 3)
        return zarrc_error_set(ZARRC_EINVAL, "'zarr_format' must be 3");
    if (!json_object_is_type(nt, json_type_string) || strcmp(json_object_get_string(nt), "array"))
        return zarrc_error_set(ZARRC_EINVAL, "'node_type' must be \"array\"");

    static const char *const required[] = {"shape", "data_type", "chunk_grid", "chunk_key_encoding",
                                           "fill_value", "codecs"};
    for (size_t i = 0; i < 6; i++)
        if (!has(doc, required[i]))
            return zarrc_error_set(ZARRC_EINVAL, "missing required member '%s'", required[i]);

    if ((rc = parse_dims(m->shape, &m->ndim, member(doc, "shape"), "shape", true)))
        goto fail;
    if ((rc = zarrc__dtype_from_json(&m->dtype, member(doc, "data_type")))) {
        /* A name nothing knows: the array still opens (its metadata can be inspected); its
         * codecs cannot be built, so reads and writes fail naming the type. */
        const char *msg = zarrc_error_last();
        if (strncmp(msg, "unknown data type '", 19) && strncmp(msg, "unsupported data type '", 23)) {
            zarrc__error_context(rc, "data_type: ");
            goto fail;
        }
        zarrc__error_clear();
        zarrc__dtype_unknown(&m->dtype, member(doc, "data_type"));
    }
    if (json_object_is_type(member(doc, "data_type"), json_type_string) &&
        strchr("<>|", json_object_get_string(member(doc, "data_type"))[0])) {
        rc = zarrc_error_set(ZARRC_EDTYPE, "'%s' is a v2 data type, not valid in v3",
                             json_object_get_string(member(doc, "data_type")));
        goto fail;
    }

    /* chunk_grid */
    if ((rc = ext_object(member(doc, "chunk_grid"), "chunk_grid", &name, &cfg, &mu)))
        goto fail;
    if (!mu) {
        rc = zarrc_error_set(ZARRC_EINVAL, "'must_understand' is not allowed on chunk_grid");
        goto fail;
    }
    if (!strcmp(name, "rectilinear")) {
        if ((rc = parse_rectilinear(m, cfg)))
            goto fail;
    } else if (strcmp(name, "regular")) {
        rc = zarrc_error_set(ZARRC_EUNSUPPORTED, "unsupported chunk grid '%s'", name);
        goto fail;
    }
    int cnd = m->ndim;
    if (!m->rectilinear)
    if ((rc = parse_dims(m->chunks, &cnd, member(cfg, "chunk_shape"), "chunk_grid.chunk_shape", true)))
            goto fail;
    if (cnd != m->ndim) {
        rc = zarrc_error_set(ZARRC_EINVAL, "chunk_shape has %d dimensions but shape has %d", cnd, m->ndim);
        goto fail;
    }
    for (int d = 0; d < m->ndim; d++)
        if (m->chunks[d] == 0 && m->shape[d] != 0) {
            rc = zarrc_error_set(ZARRC_EINVAL, "chunk_shape[%d] is 0", d);
            goto fail;
        } else if (m->chunks[d] == 0)
            m->chunks[d] = 1;

    /* chunk_key_encoding (also the legacy flat {"name","separator"} form) */
    const json_object *cke = member(doc, "chunk_key_encoding");
    if ((rc = ext_object(cke, "chunk_key_encoding", &name, &cfg, &mu)))
        goto fail;
    if (!mu) {
        rc = zarrc_error_set(ZARRC_EINVAL, "'must_understand' is not allowed on chunk_key_encoding");
        goto fail;
    }
    if (!strcmp(name, "default"))
        m->key_c_prefix = true;
    else if (strcmp(name, "v2")) {
        rc = zarrc_error_set(ZARRC_EUNSUPPORTED, "unsupported chunk key encoding '%s'", name);
        goto fail;
    }
    json_object *sep = member(cfg, "separator");
    if (!sep && json_object_is_type((json_object *)cke, json_type_object))
        sep = member(cke, "separator");
    m->separator = m->key_c_prefix ? '/' : '.';
    if (sep) {
        const char *s = json_object_get_string(sep);
        if (!json_object_is_type(sep, json_type_string) || (strcmp(s, "/") && strcmp(s, "."))) {
            rc = zarrc_error_set(ZARRC_EINVAL, "chunk key separator must be \"/\" or \".\"");
            goto fail;
        }
        m->separator = s[0];
    }

    if ((rc = check_chunk_size(m, "chunk_shape")))
        goto fail;
    /* fill_value (kept as stored for an unknown type) */
    if (zarrc__dtype_is_unknown(&m->dtype))
        rc = zarrc__fill_default(&m->fill, &m->dtype);
    else
        rc = zarrc__fill_parse(&m->fill, &m->dtype, member(doc, "fill_value"), 3);
    if (rc)
        goto fail;

    /* codecs */
    json_object *codecs = member(doc, "codecs");
    /* An empty list is invalid v3, but zarrita writes it for "no codecs": read as plain bytes
     * (docs/compatibility.md). */
    if (!json_object_is_type(codecs, json_type_array)) {
        rc = zarrc_error_set(ZARRC_EINVAL, "'codecs' must be a list");
        goto fail;
    }
    m->codecs = json_object_get(codecs);

    if ((rc = parse_attributes(m, member(doc, "attributes"))))
        goto fail;

    json_object *dn = member(doc, "dimension_names");
    if (dn) {
        if (!json_object_is_type(dn, json_type_array) || (int)json_object_array_length(dn) != m->ndim) {
            rc = zarrc_error_set(ZARRC_EINVAL, "'dimension_names' must be a list of %d names", m->ndim);
            goto fail;
        }
        for (int d = 0; d < m->ndim; d++) {
            json_object *e = json_object_array_get_idx(dn, (size_t)d);
            if (e && !json_object_is_type(e, json_type_string)) {
                rc = zarrc_error_set(ZARRC_EINVAL, "dimension_names[%d] must be a string or null", d);
                goto fail;
            }
        }
        m->dimension_names = json_object_get(dn);
    }

    json_object *st = member(doc, "storage_transformers");
    if (st) {
        if (!json_object_is_type(st, json_type_array)) {
            rc = zarrc_error_set(ZARRC_EINVAL, "'storage_transformers' must be a list");
            goto fail;
        }
        for (size_t i = 0; i < json_object_array_length(st); i++) {
            if ((rc = ext_object(json_object_array_get_idx(st, i), "storage_transformers", &name, &cfg, &mu)))
                goto fail;
            if (mu) {
                rc = zarrc_error_set(ZARRC_EUNSUPPORTED, "unsupported storage transformer '%s'", name);
                goto fail;
            }
        }
    }

    /* Any other member must be an object that says must_understand: false. */
    json_object_object_foreach((json_object *)doc, key, val) {
        static const char *const known[] = {"zarr_format", "node_type", "shape", "data_type",
                                            "chunk_grid", "chunk_key_encoding", "fill_value",
                                            "codecs", "attributes", "dimension_names",
                                            "storage_transformers",
                                            /* views (src/view/): array opens route such nodes
                                               to the view layer; listings read shape and type */
                                            "zarrc_view", NULL};
        bool is_known = false;
        for (int i = 0; known[i]; i++)
            is_known |= !strcmp(key, known[i]);
        if (is_known)
            continue;
        json_object *mu_v = member(val, "must_understand");
        if (!json_object_is_type(val, json_type_object) || !json_object_is_type(mu_v, json_type_boolean) ||
            json_object_get_boolean(mu_v)) {
            rc = zarrc_error_set(ZARRC_EUNSUPPORTED, "unknown metadata member '%s' (required extension)", key);
            goto fail;
        }
        if (!m->extra)
            m->extra = json_object_new_object();
        json_object_object_add(m->extra, key, json_object_get(val));
    }
    return ZARRC_OK;
fail:
    zarrc__meta_clear(m);
    return rc;
}

int zarrc__meta_parse_v2(zarrc__array_meta *m, const json_object *doc, const json_object *attrs)
{
    memset(m, 0, sizeof *m);
    m->format = 2;
    int rc;
    if (!json_object_is_type((json_object *)doc, json_type_object))
        return zarrc_error_set(ZARRC_EINVAL, ".zarray must be a JSON object");
    int64_t fmt;
    json_object *zf = member(doc, "zarr_format");
    if (!zf || zarrc_json_int(ZJC(zf), &fmt) || fmt != 2)
        return zarrc_error_set(ZARRC_EINVAL, "'zarr_format' must be 2");
    static const char *const required[] = {"shape", "chunks", "dtype", "compressor", "fill_value",
                                           "order", "filters"};
    for (size_t i = 0; i < 7; i++)
        if (!has(doc, required[i]))
            return zarrc_error_set(ZARRC_EINVAL, "missing required member '%s'", required[i]);
    if ((rc = parse_dims(m->shape, &m->ndim, member(doc, "shape"), "shape", true)))
        goto fail;
    int cnd;
    if ((rc = parse_dims(m->chunks, &cnd, member(doc, "chunks"), "chunks", true)))
        goto fail;
    if (cnd != m->ndim) {
        rc = zarrc_error_set(ZARRC_EINVAL, "'chunks' has %d dimensions but 'shape' has %d", cnd, m->ndim);
        goto fail;
    }
    for (int d = 0; d < m->ndim; d++)
        if (m->chunks[d] == 0 && m->shape[d] != 0) {
            rc = zarrc_error_set(ZARRC_EINVAL, "chunks[%d] is 0", d);
            goto fail;
        } else if (m->chunks[d] == 0)
            m->chunks[d] = 1;
    json_object *dt = member(doc, "dtype");
    if (!json_object_is_type(dt, json_type_string) && !json_object_is_type(dt, json_type_array)) {
        rc = zarrc_error_set(ZARRC_EDTYPE, "'dtype' must be a string or a list of fields");
        goto fail;
    }
    if ((rc = zarrc__dtype_from_json(&m->dtype, dt))) {
        /* A name that is no v2 typestr and no registered type's v2 spelling: the array opens
         * for its metadata, reads and writes fail naming the type (as in v3). */
        if (!json_object_is_type(dt, json_type_string) || strchr("<>|", json_object_get_string(dt)[0]) ||
            strncmp(zarrc_error_last(), "unknown data type '", 19)) {
            zarrc__error_context(rc, "dtype: ");
            goto fail;
        }
        zarrc__error_clear();
        rc = ZARRC_OK;
        zarrc__dtype_unknown(&m->dtype, dt);
    }
    if (json_object_is_type(dt, json_type_string) && !strchr("<>|", json_object_get_string(dt)[0]) &&
        m->dtype.kind != ZARRC_DTYPE_USER) {
        rc = zarrc_error_set(ZARRC_EDTYPE, "'%s' is not a v2 data type", json_object_get_string(dt));
        goto fail;
    }
    json_object *comp = member(doc, "compressor"), *filters = member(doc, "filters");
    if (comp && (!json_object_is_type(comp, json_type_object) ||
                 !json_object_is_type(member(comp, "id"), json_type_string))) {
        rc = zarrc_error_set(ZARRC_EINVAL, "'compressor' must be null or an object with an 'id'");
        goto fail;
    }
    if (filters && !json_object_is_type(filters, json_type_array)) {
        rc = zarrc_error_set(ZARRC_EINVAL, "'filters' must be null or a list");
        goto fail;
    }
    for (size_t i = 0; filters && i < json_object_array_length(filters); i++) {
        json_object *f = json_object_array_get_idx(filters, i);
        if (!json_object_is_type(f, json_type_object) || !json_object_is_type(member(f, "id"), json_type_string)) {
            rc = zarrc_error_set(ZARRC_EINVAL, "filters[%zu] must be an object with an 'id'", i);
            goto fail;
        }
        /* The object codec decides what "|O" holds. */
        if (m->dtype.kind == ZARRC_DTYPE_STRING && !strcmp(json_object_get_string(member(f, "id")), "vlen-bytes")) {
            m->dtype.kind = ZARRC_DTYPE_VBYTES;
            snprintf(m->dtype.name, sizeof m->dtype.name, "bytes");
        }
        zarrc__dtype_object_codec(&m->dtype, json_object_get_string(member(f, "id")));
    }
    if (filters && json_object_array_length(filters) == 0)
        filters = NULL; /* [] is non-conformant; read as null */
    m->compressor = comp ? json_object_get(comp) : NULL;
    m->filters = filters ? json_object_get(filters) : NULL;
    json_object *order = member(doc, "order");
    const char *os = json_object_is_type(order, json_type_string) ? json_object_get_string(order) : "";
    if (strcmp(os, "C") && strcmp(os, "F")) {
        rc = zarrc_error_set(ZARRC_EINVAL, "'order' must be \"C\" or \"F\"");
        goto fail;
    }
    m->order = os[0];
    m->separator = '.';
    json_object *sep = member(doc, "dimension_separator");
    if (sep) {
        const char *s = json_object_get_string(sep);
        if (!json_object_is_type(sep, json_type_string) || (strcmp(s, "/") && strcmp(s, "."))) {
            rc = zarrc_error_set(ZARRC_EINVAL, "'dimension_separator' must be \"/\" or \".\"");
            goto fail;
        }
        m->separator = s[0];
    }
    if ((rc = check_chunk_size(m, "chunks")))
        goto fail;
    if ((rc = zarrc__dtype_is_unknown(&m->dtype) ? zarrc__fill_default(&m->fill, &m->dtype)
                                                  : zarrc__fill_parse(&m->fill, &m->dtype, member(doc, "fill_value"), 2)))
        goto fail;
    if ((rc = parse_attributes(m, attrs)))
        goto fail;
    return ZARRC_OK;
fail:
    zarrc__meta_clear(m);
    return rc;
}

static json_object *dims_json(const int64_t *d, int n)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < n; i++)
        json_object_array_add(a, json_object_new_int64(d[i]));
    return a;
}

json_object *zarrc__meta_emit_v3(const zarrc__array_meta *m, json_object *codecs)
{
    json_object *o = json_object_new_object(), *cfg;
    json_object_object_add(o, "shape", dims_json(m->shape, m->ndim));
    json_object_object_add(o, "data_type", zarrc__dtype_to_json_v3(&m->dtype));
    json_object *grid;
    if (m->rectilinear)
        grid = zarrc__meta_grid_json(m);
    else {
        grid = json_object_new_object();
        json_object_object_add(grid, "name", json_object_new_string("regular"));
        cfg = json_object_new_object();
        json_object_object_add(cfg, "chunk_shape", dims_json(m->chunks, m->ndim));
        json_object_object_add(grid, "configuration", cfg);
    }
    json_object_object_add(o, "chunk_grid", grid);
    json_object *cke = json_object_new_object();
    json_object_object_add(cke, "name", json_object_new_string(m->key_c_prefix ? "default" : "v2"));
    cfg = json_object_new_object();
    char sep[2] = {m->separator, 0};
    json_object_object_add(cfg, "separator", json_object_new_string(sep));
    json_object_object_add(cke, "configuration", cfg);
    json_object_object_add(o, "chunk_key_encoding", cke);
    json_object *fill = zarrc__fill_to_json(&m->fill, &m->dtype, 3);
    json_object_object_add(o, "fill_value", fill);
    json_object_object_add(o, "codecs", codecs);
    json_object_object_add(o, "attributes", m->attributes ? json_object_get(m->attributes) : json_object_new_object());
    if (m->dimension_names)
        json_object_object_add(o, "dimension_names", json_object_get(m->dimension_names));
    json_object_object_add(o, "zarr_format", json_object_new_int(3));
    json_object_object_add(o, "node_type", json_object_new_string("array"));
    json_object_object_add(o, "storage_transformers", json_object_new_array());
    if (m->extra) {
        json_object_object_foreach(m->extra, k, v) json_object_object_add(o, k, json_object_get(v));
    }
    return o;
}

json_object *zarrc__meta_emit_v2(const zarrc__array_meta *m, json_object *filters,
                                 json_object *compressor, char order, bool big_endian)
{
    json_object *o = json_object_new_object();
    json_object *dtj = NULL;
    zarrc__dtype_to_json_v2(&dtj, &m->dtype, big_endian); /* spellable: checked by the caller */
    char sep[2] = {m->separator, 0}, ord[2] = {order, 0};
    /* Keys sorted, as zarr-python 2 writes them. */
    json_object_object_add(o, "chunks", dims_json(m->chunks, m->ndim));
    json_object_object_add(o, "compressor", compressor);
    json_object_object_add(o, "dimension_separator", json_object_new_string(sep));
    json_object_object_add(o, "dtype", dtj);
    json_object_object_add(o, "fill_value", zarrc__fill_to_json(&m->fill, &m->dtype, 2));
    json_object_object_add(o, "filters", filters);
    json_object_object_add(o, "order", json_object_new_string(ord));
    json_object_object_add(o, "shape", dims_json(m->shape, m->ndim));
    json_object_object_add(o, "zarr_format", json_object_new_int(2));
    return o;
}

int zarrc__meta_check_group_v3(const json_object *doc)
{
    if (!json_object_is_type((json_object *)doc, json_type_object))
        return zarrc_error_set(ZARRC_EINVAL, "metadata must be a JSON object");
    json_object *a = member(doc, "attributes");
    if (a && !json_object_is_type(a, json_type_object))
        return zarrc_error_set(ZARRC_EINVAL, "'attributes' must be an object");
    json_object_object_foreach((json_object *)doc, key, val) {
        if (!strcmp(key, "zarr_format") || !strcmp(key, "node_type") || !strcmp(key, "attributes") ||
            !strcmp(key, "consolidated_metadata"))
            continue;
        json_object *mu = member(val, "must_understand");
        if (!json_object_is_type(val, json_type_object) || !json_object_is_type(mu, json_type_boolean) ||
            json_object_get_boolean(mu))
            return zarrc_error_set(ZARRC_EUNSUPPORTED, "unknown metadata member '%s' (required extension)", key);
    }
    return ZARRC_OK;
}

size_t zarrc__meta_chunk_key(const zarrc__array_meta *m, const int64_t *idx, char *buf, size_t n)
{
    size_t len = 0;
    if (m->key_c_prefix) {
        buf[len++] = 'c';
        for (int d = 0; d < m->ndim; d++)
            len += (size_t)snprintf(buf + len, n - len, "%c%lld", m->separator,
                                    (long long)(idx[d] + m->chunk_origin[d]));
    } else if (m->ndim == 0) {
        buf[len++] = '0';
    } else {
        for (int d = 0; d < m->ndim; d++) {
            if (d)
                buf[len++] = m->separator;
            len += (size_t)snprintf(buf + len, n - len, "%lld", (long long)(idx[d] + m->chunk_origin[d]));
        }
    }
    buf[len] = '\0';
    return len;
}

const char *zarrc__meta_chunk_store_key(zarrc_buf *key, const zarrc__array_meta *m, const char *prefix,
                                        const int64_t *idx)
{
    size_t pl = strlen(prefix);
    if (pl > SIZE_MAX - ZARRC_CHUNK_KEY_MAX) {
        zarrc__enomem();
        return NULL;
    }
    if (zarrc_buf_reserve(key, pl + ZARRC_CHUNK_KEY_MAX))
        return NULL;
    memcpy(key->data, prefix, pl);
    key->size = pl + zarrc__meta_chunk_key(m, idx, (char *)key->data + pl, ZARRC_CHUNK_KEY_MAX);
    return (const char *)key->data;
}
