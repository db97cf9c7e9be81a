/* array.c — array handles: open, create (validated before anything is written), read, write. */
#include <stdio.h>
#include <stdlib.h>

#include "hierarchy.h"
#include "node.h"
#include "../view/view.h"

/* Shard indexes kept per open array (bytes). */
#define INDEX_CACHE_BYTES (16u << 20)

static zarrc_repr chunk_repr(zarrc__array_meta *m)
{
    zarrc_repr r;
    memset(&r, 0, sizeof r);
    r.dtype = m->dtype;
    r.ndim = m->ndim;
    for (int d = 0; d < m->ndim; d++)
        r.shape[d] = m->chunks[d];
    r.fill = zarrc__meta_fill_element(m);
    return r;
}

/* Build the codec pipeline of parsed metadata. */
static int build_pipeline(zarrc__pipeline **p, zarrc__array_meta *m)
{
    if (zarrc__dtype_is_unknown(&m->dtype))
        return zarrc_error_set(ZARRC_EDTYPE, "unknown data type '%s' (register it with zarrc_dtype_register "
                               "to read or write this array)", m->dtype.name);
    zarrc_repr r = chunk_repr(m);
    if (m->format == 3)
        return zarrc__pipeline_from_v3(p, m->codecs, &r);
    return zarrc__pipeline_from_v2(p, m->filters, m->compressor, m->order, &r);
}

/* Parse a document (v3 zarr.json or v2 .zarray + attributes) into metadata. */
static int parse_doc(zarrc__array_meta *m, const json_object *doc, int format, const json_object *attrs)
{
    return format == 3 ? zarrc__meta_parse_v3(m, doc) : zarrc__meta_parse_v2(m, doc, attrs);
}

/* A handle for a parsed document (taken over: freed on failure). Unknown or unusable codecs
 * do not prevent this: data access reports them. */
static int array_new(zarrc_array **out, zarrc_store *store, const char *path, json_object *doc, int format,
                     const json_object *attrs)
{
    zarrc_array *a = zarrc__calloc(1, sizeof *a);
    if (!a) {
        json_object_put(doc);
        return ZARRC_ENOMEM;
    }
    a->doc = doc;
    pthread_mutex_init(&a->shape_lock, NULL);
    int rc = parse_doc(&a->meta, doc, format, attrs);
    if (rc == ZARRC_OK) {
        a->path = zarrc__strdup(path);
        a->prefix = *path ? zarrc__sprintf("%s/", path) : zarrc__strdup("");
        if (!a->path || !a->prefix)
            rc = ZARRC_ENOMEM;
    }
    if (rc) {
        zarrc__meta_clear(&a->meta);
        json_object_put(a->doc);
        free(a->path);
        free(a->prefix);
        pthread_mutex_destroy(&a->shape_lock);
        free(a);
        return rc;
    }
    if ((rc = build_pipeline(&a->pipeline, &a->meta)) != ZARRC_OK) {
        zarrc__error_save(&a->pipeline_err, rc == ZARRC_EDTYPE ? ZARRC_EDTYPE : ZARRC_EUNSUPPORTED);
        zarrc__error_clear();
    }
    if (a->pipeline && zarrc__pipeline_shard_spec(a->pipeline))
        a->index_cache = zarrc__index_cache_new(INDEX_CACHE_BYTES); /* best effort: NULL = no cache */
    if (a->meta.rectilinear)
        a->pipes = zarrc__pipe_cache_new(); /* best effort: NULL = pipelines built per call */
    a->store = zarrc__store_ref(store);
    a->name = zarrc__node_display(a->store, a->path);
    *out = a;
    return ZARRC_OK;
}

static int open_at(zarrc_array **out, zarrc_store *store, const char *path, const zarrc__view_chain *chain,
                   unsigned flags)
{
    zarrc_node_kind kind;
    int format, rc;
    json_object *doc = NULL, *attrs = NULL;
    rc = zarrc__node_find(&kind, &format, &doc, store, path);
    if (rc == ZARRC_ENOTFOUND)
        return zarrc__node_not_found(store, path, "array");
    if (rc)
        return rc;
    if (kind != ZARRC_NODE_ARRAY) {
        json_object_put(doc);
        return zarrc_error_set(ZARRC_EINVAL, "'%s' is a group, not an array", zarrc__node_display(store, path));
    }
    json_object *vm = NULL;
    if (format == 3 && json_object_object_get_ex(doc, ZARRC__VIEW_MEMBER, &vm)) {
        rc = zarrc__view_open_stored(out, store, path, doc, chain, flags);
        json_object_put(doc);
        return rc;
    }
    /* v2 attributes live in their own document: reading data must not depend on it, so an
     * unreadable or malformed .zattrs is reported by the attributes accessor, not by open. */
    zarrc__error_saved attrs_err = {ZARRC_OK, ""};
    if (format == 2) {
        char *key = zarrc__node_key(path, ".zattrs");
        if (!key) {
            json_object_put(doc);
            return ZARRC_ENOMEM;
        }
        rc = zarrc__node_read_json(&attrs, store, key);
        if (rc == ZARRC_OK && !json_object_is_type(attrs, json_type_object))
            rc = zarrc_error_set(ZARRC_EINVAL, "%s: attributes must be a JSON object", key);
        free(key);
        if (rc && rc != ZARRC_ENOTFOUND)
            zarrc__error_save(&attrs_err, rc);
        if (rc) {
            json_object_put(attrs);
            attrs = NULL;
            zarrc__error_clear();
        }
    }
    rc = array_new(out, store, path, doc, format, attrs);
    json_object_put(attrs);
    if (rc == ZARRC_OK)
        (*out)->attrs_err = attrs_err;
    return rc;
}

/* Group handles with consolidated metadata open arrays from documents already in memory
 * (declared in hierarchy.h). The copy is private: json-c reference counts are not atomic. */
int zarrc__array_open_doc(zarrc_array **out, zarrc_store *store, const char *path, const json_object *doc,
                          int format, const json_object *attrs)
{
    json_object *vm = NULL;
    if (format == 3 && json_object_object_get_ex((json_object *)doc, ZARRC__VIEW_MEMBER, &vm))
        return zarrc__view_open_stored(out, store, path, doc, NULL, 0);
    json_object *copy = zarrc__json_deep_copy(doc);
    return copy ? array_new(out, store, path, copy, format, attrs) : ZARRC_ENOMEM;
}

int zarrc__array_open_chain(zarrc_array **out, zarrc_store *store, const char *path, const zarrc__view_chain *chain,
                            unsigned flags)
{
    *out = NULL;
    return open_at(out, store, path, chain, flags);
}

int zarrc_array_open(zarrc_array **out, zarrc_store *store, const char *path)
{
    return zarrc_array_open_flags(out, store, path, 0);
}

int zarrc_array_open_flags(zarrc_array **out, zarrc_store *store, const char *path, unsigned flags)
{
    zarrc__error_clear();
    *out = NULL;
    char *p;
    int rc = zarrc__node_path(&p, path);
    if (rc)
        return rc;
    rc = open_at(out, store, p, NULL, flags);
    if (rc)
        zarrc__error_context(rc, "array '%s': ", zarrc__node_display(store, p));
    free(p);
    return rc;
}

void zarrc_array_free(zarrc_array *a)
{
    if (!a)
        return;
    zarrc__view_free(a->view);
    zarrc__index_cache_free(a->index_cache);
    zarrc__pipe_cache_free(a->pipes);
    for (size_t i = 0; i < a->nretired; i++)
        free(a->retired[i]);
    free(a->retired);
    json_object_put(a->pending);
    zarrc__pipeline_free(a->pipeline);
    zarrc__meta_clear(&a->meta);
    json_object_put(a->doc);
    zarrc__store_unref(a->store);
    free(a->path);
    free(a->prefix);
    pthread_mutex_destroy(&a->shape_lock);
    free(a);
}

/* ------------------------------------------------------------------------------------------ */
/* Creation                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static bool empty_object(const json_object *o)
{
    return !o || (json_object_is_type((json_object *)o, json_type_object) &&
                  json_object_object_length((json_object *)o) == 0);
}

/* Whether two array documents (v2: with their attributes) are the same. */
static bool same_array(const json_object *doc_a, const json_object *attrs_a, const json_object *doc_b,
                       const json_object *attrs_b)
{
    return zarrc__json_equal(doc_a, doc_b, NULL) &&
           ((empty_object(attrs_a) && empty_object(attrs_b)) || zarrc__json_equal(attrs_a, attrs_b, NULL));
}

static int found_chunk_key(void *ctx, const char *name, int is_prefix)
{
    const void *const *c = ctx; /* {metadata, prefix} */
    size_t pl = strlen(c[1]);
    return !is_prefix && !strncmp(name, c[1], pl) && zarrc__node_parse_chunk_key(c[0], name + pl, NULL);
}

/* A plain create refuses a location that holds chunk keys of the new array's grid without
 * metadata (left by a crash, or by other software): they would be read as the new data. */
static int check_no_chunks(zarrc_store *store, const char *path, const zarrc__array_meta *m)
{
    char *prefix = *path ? zarrc__sprintf("%s/", path) : zarrc__strdup("");
    if (!prefix)
        return ZARRC_ENOMEM;
    const void *ctx[2] = {m, prefix};
    int rc = zarrc__store_list(store, prefix, found_chunk_key, ctx);
    free(prefix);
    if (rc == ZARRC_EUNSUPPORTED) { /* cannot list: nothing to check */
        zarrc__error_clear();
        return ZARRC_OK;
    }
    if (rc == 1)
        return zarrc_error_set(ZARRC_ECONFLICT, "'%s' holds chunk keys of the new array's grid but no metadata "
                               "(left by an interrupted operation?): they would be read as its data (overwrite "
                               "removes them)", zarrc__node_display(store, path));
    return rc;
}

/* What write_array did. */
enum { WROTE_NEW, KEPT_PENDING, KEPT_COMPLETE };

/* Prepare the location of a validated array document (conflicts, an earlier attempt to resume,
 * ancestors, the old node erased data first, metadata last) and write the document — v2:
 * attributes before .zarray, which makes the node exist — or, with ZARRC_CREATE_PENDING, the
 * pending record (*rec). `m` is the parsed new metadata. */
static int write_array(int *how, json_object **rec, zarrc_store *store, const char *path, int format,
                       json_object *doc, const json_object *attrs_v2, unsigned flags, const zarrc__array_meta *m)
{
    bool overwrite = (flags & ZARRC_OVERWRITE) != 0, pending = (flags & ZARRC_CREATE_PENDING) != 0,
         resume = pending && (flags & ZARRC_RESUME);
    const char *name = zarrc__node_display(store, path);
    zarrc_node_kind kind;
    int fmt;
    json_object *ex = NULL, *ex_attrs = NULL, *md = NULL, *at = NULL;
    *how = WROTE_NEW;
    *rec = NULL;
    int rc = zarrc__node_find(&kind, &fmt, &ex, store, path);
    if (rc == ZARRC_OK) {
        if (resume && kind == ZARRC_NODE_ARRAY && fmt == format && fmt == 2) {
            char *akey = zarrc__node_key(path, ".zattrs");
            rc = akey ? zarrc__node_read_json(&ex_attrs, store, akey) : ZARRC_ENOMEM;
            free(akey);
            if (rc == ZARRC_ENOTFOUND)
                rc = ZARRC_OK;
        }
        if (rc == ZARRC_OK && resume && kind == ZARRC_NODE_ARRAY && fmt == format &&
            same_array(ex, ex_attrs, doc, attrs_v2))
            *how = KEPT_COMPLETE;
        else if (rc == ZARRC_OK && !overwrite)
            rc = zarrc_error_set(ZARRC_EEXISTS, "a%s %s already exists at '%s'%s (use overwrite to replace it)",
                                 kind == ZARRC_NODE_ARRAY ? "n" : "", kind == ZARRC_NODE_ARRAY ? "array" : "group",
                                 name, resume ? " with other metadata" : "");
    } else if (rc == ZARRC_ENOTFOUND) {
        zarrc__error_clear();
        rc = zarrc__pending_read(rec, store, path);
        if (rc == ZARRC_OK) {
            json_object_object_get_ex(*rec, "metadata", &md);
            json_object_object_get_ex(*rec, "attributes", &at);
            if (resume && same_array(md, at, doc, attrs_v2))
                *how = KEPT_PENDING;
            else if (resume && !overwrite)
                rc = zarrc_error_set(ZARRC_ECONFLICT, "the incomplete array at '%s' was started with other "
                                     "metadata: it cannot be resumed with these parameters (overwrite it instead)", name);
            else if (!overwrite)
                rc = zarrc_error_set(ZARRC_EEXISTS, "an incomplete array is at '%s' (an interrupted copy or "
                                     "creation): resume or overwrite it", name);
        } else if (rc == ZARRC_ENOTFOUND) {
            zarrc__error_clear();
            rc = overwrite ? ZARRC_OK : check_no_chunks(store, path, m);
        }
    }
    json_object_put(ex);
    json_object_put(ex_attrs);
    if (rc || *how != WROTE_NEW)
        return rc;
    json_object_put(*rec);
    *rec = NULL;
    if ((rc = zarrc__node_make_parents(store, path, format)))
        return rc;
    /* Old chunks must not be misread through the new metadata. */
    if (overwrite && (rc = zarrc__node_erase(store, path, flags, m)))
        return rc;
    if (pending) {
        json_object *r = json_object_new_object();
        json_object_object_add(r, "zarrc_pending", json_object_new_int(1));
        json_object_object_add(r, "zarr_format", json_object_new_int(format));
        json_object_object_add(r, "metadata", zarrc__json_deep_copy(doc));
        if (format == 2 && !empty_object(attrs_v2))
            json_object_object_add(r, "attributes", zarrc__json_deep_copy(attrs_v2));
        char *key = zarrc__node_key(path, ZARRC__PENDING_NAME);
        rc = key ? zarrc__node_write_json(store, key, r) : ZARRC_ENOMEM;
        free(key);
        if (rc == ZARRC_OK)
            *rec = r;
        else
            json_object_put(r);
        return rc;
    }
    if (format == 2)
        return zarrc__node_write_v2(store, path, ".zarray", doc, attrs_v2);
    char *key = zarrc__node_key(path, "zarr.json");
    rc = key ? zarrc__node_write_json(store, key, doc) : ZARRC_ENOMEM;
    free(key);
    return rc;
}

int zarrc_array_commit(zarrc_array *a)
{
    zarrc__error_clear();
    if (!a->pending)
        return ZARRC_OK;
    json_object *attrs = NULL;
    int rc = ZARRC_OK;
    json_object_object_get_ex(a->pending, "attributes", &attrs);
    char *key = NULL;
    if (a->meta.format == 2)
        rc = zarrc__node_write_v2(a->store, a->path, ".zarray", a->doc, attrs);
    else {
        key = zarrc__node_key(a->path, "zarr.json");
        rc = key ? zarrc__node_write_json(a->store, key, a->doc) : ZARRC_ENOMEM;
        free(key);
    }
    key = zarrc__node_key(a->path, ZARRC__PENDING_NAME);
    if (rc == ZARRC_OK)
        rc = key ? zarrc__store_erase(a->store, key) : ZARRC_ENOMEM;
    free(key);
    if (rc == ZARRC_ENOTFOUND) {
        zarrc__error_clear();
        rc = ZARRC_OK;
    }
    if (rc)
        return zarrc__error_context(rc, "commit array '%s': ", a->name);
    json_object_put(a->pending);
    a->pending = NULL;
    return ZARRC_OK;
}

/* Validate a complete document to be written exactly as open would (metadata + codec
 * pipeline); zarrc never writes a v3 null fill value (readers are lenient about it). The
 * parsed metadata goes to `keep` (may be NULL; cleared by the caller on success). */
static int validate_doc(const json_object *doc, int format, const json_object *attrs, zarrc__array_meta *keep)
{
    zarrc__array_meta m;
    int rc = parse_doc(&m, doc, format, attrs);
    if (rc)
        return rc;
    json_object *fv = NULL;
    if (format == 3 && m.dtype.kind != ZARRC_DTYPE_OPTIONAL && /* optional: null = missing */
        (m.fill.is_null || (json_object_object_get_ex((json_object *)doc, "fill_value", &fv) && !fv)))
        rc = zarrc_error_set(ZARRC_EDTYPE, "v3 arrays need a fill value (null is not allowed)");
    zarrc__pipeline *p = NULL;
    if (rc == ZARRC_OK)
        rc = build_pipeline(&p, &m);
    zarrc__pipeline_free(p);
    if (rc == ZARRC_OK && keep)
        *keep = m;
    else
        zarrc__meta_clear(&m);
    return rc;
}

int zarrc__array_validate_doc(const json_object *doc, int format, const json_object *attrs)
{
    return validate_doc(doc, format, attrs, NULL);
}

static int parse_json_opt(json_object **out, const char *text, const char *what)
{
    *out = NULL;
    if (!text)
        return ZARRC_OK;
    return zarrc__json_parse(out, text, strlen(text), what);
}

/* Build the metadata document for options (no I/O). */
static int options_doc(json_object **doc_out, json_object **attrs_out, const zarrc_array_options *o)
{
    zarrc__array_meta m;
    memset(&m, 0, sizeof m);
    json_object *fill = NULL, *codecs = NULL, *compressor = NULL, *filters = NULL;
    zarrc__pipeline *p = NULL;
    int rc = ZARRC_OK;
    *doc_out = *attrs_out = NULL;

    if (o->version != 1 && o->version != ZARRC_ARRAY_OPTIONS_VERSION)
        return zarrc_error_set(ZARRC_EINVAL, "unknown options version %u", o->version);
    const char *chunk_shapes = o->version >= 2 ? o->chunk_shapes : NULL;
    if (chunk_shapes && o->chunks)
        return zarrc_error_set(ZARRC_EINVAL, "give either chunks or chunk_shapes (a rectilinear grid), not both");
    if (chunk_shapes && o->format != 3)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "rectilinear chunk grids (chunk_shapes) exist only in Zarr v3");
    if (o->format != 2 && o->format != 3)
        return zarrc_error_set(ZARRC_EINVAL, "format must be 2 or 3 (got %d)", o->format);
    if (o->ndim < 0 || o->ndim > ZARRC_MAX_DIMS || (o->ndim > 0 && !o->shape))
        return zarrc_error_set(ZARRC_EINVAL, "invalid number of dimensions %d", o->ndim);
    if (!o->dtype)
        return zarrc_error_set(ZARRC_EDTYPE, "no data type given");
    m.format = o->format;
    m.ndim = o->ndim;
    for (int d = 0; d < o->ndim; d++) {
        if (o->shape[d] < 0)
            return zarrc_error_set(ZARRC_EINVAL, "shape[%d] is negative (%lld)", d, (long long)o->shape[d]);
        m.shape[d] = o->shape[d];
        m.chunks[d] = o->chunks ? o->chunks[d] : (o->shape[d] > 0 ? o->shape[d] : 1);
        if (m.chunks[d] < 1)
            return zarrc_error_set(ZARRC_EINVAL, "chunks[%d] must be >= 1 (got %lld)", d, (long long)m.chunks[d]);
    }
    if (chunk_shapes) {
        json_object *cs = NULL;
        if ((rc = parse_json_opt(&cs, chunk_shapes, "chunk_shapes")) == ZARRC_OK)
            rc = zarrc__meta_set_rectilinear(&m, cs);
        json_object_put(cs);
        if (rc) {
            zarrc__meta_clear(&m);
            return rc;
        }
    }
    if ((rc = zarrc_dtype_parse(&m.dtype, o->dtype)) || (rc = zarrc__meta_check_chunk_size(&m))) {
        zarrc__meta_clear(&m);
        return rc;
    }
    if (o->order != 'C' && o->order != 'F' && o->order != 0) {
        rc = zarrc_error_set(ZARRC_EINVAL, "order must be 'C' or 'F'");
        goto done;
    }
    if (o->separator && o->separator != '/' && o->separator != '.') {
        rc = zarrc_error_set(ZARRC_EINVAL, "separator must be '/' or '.'");
        goto done;
    }
    m.key_c_prefix = o->format == 3;
    m.separator = o->separator ? o->separator : (o->format == 3 ? '/' : '.');
    m.order = o->order ? o->order : 'C';

    if ((rc = parse_json_opt(&codecs, o->codecs, "codecs")) ||
        (rc = parse_json_opt(&compressor, o->compressor, "compressor")) ||
        (rc = parse_json_opt(&filters, o->filters, "filters")))
        goto done;
    /* An object codec (json2, msgpack2, vlen-array) makes a "|O" type an object array. */
    for (int list = 0; list < 2; list++) {
        json_object *l = list ? filters : codecs;
        for (size_t i = 0; json_object_is_type(l, json_type_array) && i < json_object_array_length(l); i++) {
            json_object *e = json_object_array_get_idx(l, i), *id = NULL;
            if (!json_object_object_get_ex(e, "id", &id))
                json_object_object_get_ex(e, "name", &id);
            const char *name = json_object_get_string(json_object_is_type(e, json_type_string) ? e : id);
            /* v3 numcodecs.vlen-array is zarrs' spelling for string and bytes arrays */
            if (o->format == 2 || !name || !strstr(name, "vlen-array"))
                zarrc__dtype_object_codec(&m.dtype, name);
        }
    }
    if (m.dtype.kind == ZARRC_DTYPE_OBJECT && o->format == 3) {
        rc = zarrc_error_set(ZARRC_EUNSUPPORTED, "object arrays (json2, msgpack2, vlen-array) exist only in "
                             "Zarr v2: no implementation reads a v3 object data type (zarr-python 3 refuses "
                             "numpy object arrays other than strings and bytes)");
        goto done;
    }
    if ((rc = parse_json_opt(&fill, o->fill_value, "fill value")))
        goto done;
    if (o->fill_value && !fill && o->format == 3 && m.dtype.kind != ZARRC_DTYPE_OPTIONAL) {
        rc = zarrc_error_set(ZARRC_EDTYPE, "v3 arrays need a fill value (null is not allowed)");
        goto done;
    }
    if (o->fill_value)
        rc = zarrc__fill_parse(&m.fill, &m.dtype, fill, o->format);
    else
        rc = zarrc__fill_default(&m.fill, &m.dtype);
    if (rc)
        goto done;

    if (o->codecs && (o->compressor || o->filters)) {
        rc = zarrc_error_set(ZARRC_EINVAL, "give either codecs or compressor/filters, not both");
        goto done;
    }
    if (!o->codecs) {
        /* v2 style pieces (or the defaults) become one codec list. */
        codecs = json_object_new_array();
        if (filters) {
            if (!json_object_is_type(filters, json_type_array)) {
                rc = zarrc_error_set(ZARRC_EINVAL, "filters must be a JSON list");
                goto done;
            }
            for (size_t i = 0; i < json_object_array_length(filters); i++)
                json_object_array_add(codecs, json_object_get(json_object_array_get_idx(filters, i)));
        }
        if (compressor)
            json_object_array_add(codecs, json_object_get(compressor));
        else if (!o->compressor) {
            /* Defaults as the reference implementations write them. */
            const char *dflt = o->format == 3 ? "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}"
                                              : "{\"id\":\"blosc\",\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":1,\"blocksize\":0}";
            json_object_array_add(codecs, json_tokener_parse(dflt));
        }
    }
    zarrc_repr r = chunk_repr(&m);
    if ((rc = zarrc__pipeline_from_any(&p, codecs, m.order, &r)))
        goto done;
    if (o->compressor && !compressor)
        p->v2_no_compressor = true; /* an explicit "compressor": null keeps byte filters filters */

    if ((rc = parse_json_opt(&m.attributes, o->attributes, "attributes")))
        goto done;
    if (m.attributes && !json_object_is_type(m.attributes, json_type_object)) {
        rc = zarrc_error_set(ZARRC_EINVAL, "attributes must be a JSON object");
        goto done;
    }
    if (!m.attributes)
        m.attributes = json_object_new_object();
    if (o->dimension_names) {
        json_object *dn = json_object_new_array();
        for (int d = 0; d < o->ndim; d++)
            json_object_array_add(dn, o->dimension_names[d] ? json_object_new_string(o->dimension_names[d]) : NULL);
        if (o->format == 3)
            m.dimension_names = dn;
        else /* v2 has no dimension names: use the xarray convention */
            json_object_object_add(m.attributes, "_ARRAY_DIMENSIONS", dn);
    }

    if (o->format == 3) {
        json_object *list;
        if (m.dtype.kind == ZARRC_DTYPE_STRUCT && zarrc__struct_has_subarray(m.dtype.fields)) {
            rc = zarrc_error_set(ZARRC_EUNSUPPORTED, "v3 'struct' has no sub-array fields (use format 2)");
            goto done;
        }
        if ((rc = zarrc__pipeline_to_v3(&list, p)))
            goto done;
        *doc_out = zarrc__meta_emit_v3(&m, list);
    } else {
        json_object *f, *c, *dtj = NULL;
        char order;
        bool big;
        /* types v2 cannot spell (bfloat16, int4, float8_*, ...) are refused here, by name */
        if ((rc = zarrc__dtype_to_json_v2(&dtj, &m.dtype, false)))
            goto done;
        json_object_put(dtj);
        if ((rc = zarrc__pipeline_to_v2(p, &f, &c, &order, &big)))
            goto done;
        *doc_out = zarrc__meta_emit_v2(&m, f, c, order, big);
        *attrs_out = json_object_get(m.attributes);
    }
done:
    json_object_put(fill);
    json_object_put(codecs);
    json_object_put(compressor);
    json_object_put(filters);
    zarrc__pipeline_free(p);
    zarrc__meta_clear(&m);
    return rc;
}

static int create_common(zarrc_array **out, zarrc_store *store, const char *path, json_object *doc,
                         int format, json_object *attrs, unsigned flags)
{
    zarrc__array_meta m;
    int how, rc = zarrc__node_check_name(path, format);
    json_object *rec = NULL;
    if (rc == ZARRC_OK && (rc = validate_doc(doc, format, attrs, &m)) == ZARRC_OK) {
        rc = write_array(&how, &rec, store, path, format, doc, attrs, flags, &m);
        zarrc__meta_clear(&m);
    }
    if (rc == ZARRC_OK && out) {
        if (rec) { /* not visible in the store yet: a handle from the document */
            json_object *copy = zarrc__json_deep_copy(doc);
            rc = copy ? array_new(out, store, path, copy, format, attrs) : ZARRC_ENOMEM;
            if (rc == ZARRC_OK) {
                (*out)->pending = rec;
                rec = NULL;
            }
        } else
            rc = open_at(out, store, path, NULL, 0);
        if (rc == ZARRC_OK)
            (*out)->resumed = how != WROTE_NEW;
    }
    json_object_put(rec);
    return rc;
}

int zarrc_array_create(zarrc_array **out, zarrc_store *store, const char *path, const zarrc_array_options *o)
{
    zarrc__error_clear();
    if (out)
        *out = NULL;
    char *p;
    int rc = zarrc__node_path(&p, path);
    if (rc)
        return rc;
    json_object *doc = NULL, *attrs = NULL;
    rc = o ? options_doc(&doc, &attrs, o) : zarrc_error_set(ZARRC_EINVAL, "no options given");
    if (rc == ZARRC_OK)
        rc = create_common(out, store, p, doc, o->format, attrs, o->flags);
    if (rc)
        zarrc__error_context(rc, "create array '%s': ", zarrc__node_display(store, p));
    json_object_put(doc);
    json_object_put(attrs);
    free(p);
    return rc;
}

int zarrc_array_create_json(zarrc_array **out, zarrc_store *store, const char *path, const char *text,
                            unsigned flags)
{
    zarrc__error_clear();
    if (out)
        *out = NULL;
    char *p;
    int rc = zarrc__node_path(&p, path);
    if (rc)
        return rc;
    json_object *doc = NULL, *attrs = NULL, *zf = NULL;
    rc = zarrc__json_parse(&doc, text, strlen(text), "metadata document");
    int format = 0;
    if (rc == ZARRC_OK) {
        json_object_object_get_ex(doc, "zarr_format", &zf);
        format = json_object_is_type(zf, json_type_int) ? json_object_get_int(zf) : 0;
        if (format != 2 && format != 3)
            rc = zarrc_error_set(ZARRC_EINVAL, "'zarr_format' must be 2 or 3");
    }
    if (rc == ZARRC_OK && format == 2 && json_object_object_get_ex(doc, "attributes", &attrs)) {
        json_object_get(attrs);
        json_object_object_del(doc, "attributes");
        if (!json_object_is_type(attrs, json_type_object))
            rc = zarrc_error_set(ZARRC_EINVAL, "'attributes' must be an object");
    }
    if (rc == ZARRC_OK)
        rc = create_common(out, store, p, doc, format, attrs, flags);
    if (rc)
        zarrc__error_context(rc, "create array '%s': ", zarrc__node_display(store, p));
    json_object_put(doc);
    json_object_put(attrs);
    free(p);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Accessors and data                                                                          */
/* ------------------------------------------------------------------------------------------ */

int zarrc_array_format(const zarrc_array *a) { return a->meta.format; }
int zarrc_array_ndim(const zarrc_array *a) { return a->meta.ndim; }
const int64_t *zarrc_array_shape(const zarrc_array *a) { return a->meta.shape; }
const int64_t *zarrc_array_chunks(const zarrc_array *a) { return a->meta.chunks; }
const zarrc_dtype_info *zarrc_array_dtype(const zarrc_array *a) { return &a->meta.dtype; }

int zarrc_array_chunk_runs(const zarrc_array *a, int dim, int64_t *runs, size_t cap, size_t *nruns)
{
    zarrc__error_clear();
    if (!a || !nruns || (cap && !runs) || dim < 0 || dim >= a->meta.ndim)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_array_chunk_runs: bad argument (dimension %d)", dim);
    pthread_mutex_lock((pthread_mutex_t *)&a->shape_lock);
    const zarrc__edge_run *r = a->meta.rectilinear ? a->meta.runs[dim] : NULL;
    size_t n = r ? a->meta.nruns[dim] : 0;
    /* Runs are maximal (the parser and growth merge equal neighbours). */
    size_t k = n;
    for (size_t i = 0; runs && i < n && i < cap; i++) {
        runs[2 * i] = r[i].size;
        runs[2 * i + 1] = r[i].count;
    }
    pthread_mutex_unlock((pthread_mutex_t *)&a->shape_lock);
    *nruns = k;
    return ZARRC_OK;
}

int zarrc_array_object_item(const zarrc_array *a, zarrc_dtype_info *item)
{
    zarrc__error_clear();
    if (!a || !item || !zarrc__dtype_object_arrays(&a->meta.dtype))
        return zarrc_error_set(ZARRC_EINVAL, "not an object array of typed arrays (vlen-array)");
    int rc = zarrc__array_need_pipeline(a);
    if (rc)
        return rc;
    if (!zarrc__codec_object_item(&a->pipeline->codecs[a->pipeline->a2b], item))
        return zarrc_error_set(ZARRC_EINVAL, "array '%s' has no vlen-array codec", a->name);
    return ZARRC_OK;
}

const int64_t *zarrc_array_inner_chunks(const zarrc_array *a)
{
    const zarrc__shard_spec *s = a->pipeline ? zarrc__pipeline_shard_spec(a->pipeline) : NULL;
    return s ? s->inner : NULL;
}

int64_t zarrc_array_size(const zarrc_array *a)
{
    int64_t n = 1;
    for (int d = 0; d < a->meta.ndim; d++)
        if (a->meta.shape[d] == 0)
            return 0;
    for (int d = 0; d < a->meta.ndim; d++)
        if (__builtin_mul_overflow(n, a->meta.shape[d], &n))
            return -1;
    return n;
}

void zarrc_array_set_write_empty_chunks(zarrc_array *a, int enable) { a->write_empty = enable != 0; }

int zarrc__array_need_pipeline(const zarrc_array *a)
{
    if (a->pipeline)
        return ZARRC_OK;
    zarrc__error_restore(&a->pipeline_err);
    return zarrc__error_context(a->pipeline_err.code, "array '%s': ", a->name);
}

int zarrc_array_json(char **json, const zarrc_array *a, zarrc_json_part part)
{
    zarrc__error_clear();
    json_object *o = NULL;
    int rc = ZARRC_OK;
    *json = NULL;
    switch (part) {
    case ZARRC_JSON_METADATA:
        o = json_object_get(a->doc);
        break;
    case ZARRC_JSON_CODECS_V3:
        if (a->view)
            rc = zarrc__array_need_pipeline(a);
        else if (a->meta.format == 3)
            o = json_object_get(a->meta.codecs);
        else if (!(rc = zarrc__array_need_pipeline(a)))
            rc = zarrc__pipeline_to_v3(&o, a->pipeline);
        break;
    case ZARRC_JSON_CODECS_V2: {
        json_object *f = NULL, *c = NULL;
        char order;
        bool big;
        if (a->meta.format == 2) {
            /* As stored: needs no codec to be known. */
            f = a->meta.filters ? json_object_get(a->meta.filters) : NULL;
            c = a->meta.compressor ? json_object_get(a->meta.compressor) : NULL;
            order = a->meta.order;
            big = a->meta.dtype.big_endian;
        } else if ((rc = zarrc__array_need_pipeline(a)) || (rc = zarrc__pipeline_to_v2(a->pipeline, &f, &c, &order, &big)))
            break;
        zarrc__array_meta m = a->meta;
        m.dtype.big_endian = big;
        char ord[2] = {order, 0};
        json_object *dtj = NULL;
        if (zarrc__dtype_is_unknown(&m.dtype) && a->meta.format == 2) { /* as stored */
            json_object_object_get_ex(a->doc, "dtype", &dtj);
            dtj = json_object_get(dtj);
        } else if ((rc = zarrc__dtype_to_json_v2(&dtj, &m.dtype, big))) {
            json_object_put(f);
            json_object_put(c);
            break;
        }
        o = json_object_new_object();
        json_object_object_add(o, "filters", f);
        json_object_object_add(o, "compressor", c);
        json_object_object_add(o, "order", json_object_new_string(ord));
        json_object_object_add(o, "dtype", dtj);
        break;
    }
    case ZARRC_JSON_FILL_VALUE:
        if (zarrc__dtype_is_unknown(&a->meta.dtype)) { /* as stored: nothing can decode it */
            json_object *fv = NULL;
            json_object_object_get_ex(a->doc, "fill_value", &fv);
            o = fv ? json_object_get(fv) : NULL;
            break;
        }
        o = zarrc__fill_to_json(&a->meta.fill, &a->meta.dtype, a->meta.format);
        if (!o && !a->meta.fill.is_null && !zarrc__optional_fill_is_null(&a->meta.fill, &a->meta.dtype))
            rc = ZARRC_ENOMEM;
        break;
    case ZARRC_JSON_ATTRIBUTES:
        if (a->attrs_err.code) {
            zarrc__error_restore(&a->attrs_err);
            rc = zarrc__error_context(a->attrs_err.code, "array '%s': ", a->name);
        } else
            o = json_object_get(a->meta.attributes);
        break;
    case ZARRC_JSON_DTYPE:
        if (zarrc__dtype_is_unknown(&a->meta.dtype)) { /* as stored */
            json_object *d = NULL;
            json_object_object_get_ex(a->doc, a->meta.format == 3 ? "data_type" : "dtype", &d);
            o = d ? json_object_get(d) : NULL;
        } else if (a->meta.format == 3)
            o = zarrc__dtype_to_json_v3(&a->meta.dtype);
        else
            rc = zarrc__dtype_to_json_v2(&o, &a->meta.dtype, a->meta.dtype.big_endian);
        break;
    default:
        rc = zarrc_error_set(ZARRC_EINVAL, "unknown JSON part %d", (int)part);
    }
    if (rc == ZARRC_OK) {
        *json = o ? zarrc__json_dump(o, false) : zarrc__strdup("null");
        if (!*json)
            rc = ZARRC_ENOMEM;
    }
    json_object_put(o);
    return rc;
}

zarrc__io_array zarrc__array_io(const zarrc_array *a)
{
    zarrc__io_array io = {a->store, a->prefix, a->name, &a->meta, a->pipeline, a->write_empty,
                          a->index_cache, a->pipes};
    return io;
}

int zarrc_array_read(zarrc_array *a, const int64_t *start, const int64_t *count, const int64_t *step,
                     void *out, size_t out_size)
{
    zarrc__error_clear();
    if (a->meta.ndim > 0 && (!start || !count))
        return zarrc_error_set(ZARRC_EINVAL, "array '%s': start and count are required", a->name);
    if (a->view)
        return zarrc__view_read(a, start, count, step, out, out_size);
    int rc = zarrc__array_need_pipeline(a);
    if (rc)
        return rc;
    zarrc__array_meta snap; /* the shape may change under us (extend.c) */
    zarrc__array_snapshot(a, &snap);
    zarrc__io_array io = zarrc__array_io(a);
    io.meta = &snap;
    return zarrc__io_read(&io, start, count, step, out, out_size);
}

int zarrc_array_write(zarrc_array *a, const int64_t *start, const int64_t *count, const int64_t *step,
                      const void *in, size_t in_size)
{
    zarrc__error_clear();
    if (a->meta.ndim > 0 && (!start || !count))
        return zarrc_error_set(ZARRC_EINVAL, "array '%s': start and count are required", a->name);
    if (a->view)
        return zarrc__view_write(a, start, count, step, in, in_size);
    int rc = zarrc__array_need_pipeline(a);
    if (rc)
        return rc;
    zarrc__array_meta snap;
    zarrc__array_snapshot(a, &snap);
    zarrc__io_array io = zarrc__array_io(a);
    io.meta = &snap;
    return zarrc__io_write(&io, start, count, step, in, in_size);
}

/* ---- chunk codecs without the store (zarrc.h, "chunk codecs"; the work is in io_codec.c) ---- */

/* The engine's view of a handle usable as a chunk codec (a snapshot of its metadata in *snap). */
static int codec_io(zarrc_array *a, zarrc__array_meta *snap, zarrc__io_array *io)
{
    if (a->view)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "array '%s': a view has no chunks of its own", a->name);
    int rc = zarrc__array_need_pipeline(a);
    if (rc)
        return rc;
    zarrc__array_snapshot(a, snap);
    *io = zarrc__array_io(a);
    io->meta = snap;
    return ZARRC_OK;
}

int zarrc_array_chunk_size(size_t *nbytes, const zarrc_array *a)
{
    zarrc__error_clear();
    *nbytes = 0;
    if (a->view)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "array '%s': a view has no chunks of its own", a->name);
    int rc = zarrc__array_need_pipeline(a);
    if (rc)
        return rc;
    zarrc__io_array io = zarrc__array_io(a); /* the chunk shape never changes: no snapshot */
    return zarrc__io_chunk_size(&io, nbytes);
}

int zarrc_array_chunk_decode(zarrc_array *a, const int64_t *coords, const void *data, size_t size, void *out,
                             size_t out_size)
{
    zarrc__error_clear();
    zarrc__array_meta snap;
    zarrc__io_array io;
    int rc = codec_io(a, &snap, &io);
    return rc ? rc : zarrc__io_chunk_decode(&io, coords, data, size, out, out_size);
}

int zarrc_array_chunk_encode(void **data, size_t *size, zarrc_array *a, const int64_t *coords, const void *in,
                             size_t in_size)
{
    zarrc__error_clear();
    *data = NULL;
    *size = 0;
    zarrc__array_meta snap;
    zarrc__io_array io;
    int rc = codec_io(a, &snap, &io);
    return rc ? rc : zarrc__io_chunk_encode(&io, coords, in, in_size, data, size);
}

int zarrc_array_chunk_is_fill(const zarrc_array *a, const void *in, size_t in_size)
{
    size_t want = 0;
    int rc = zarrc_array_chunk_size(&want, a);
    if (rc)
        return rc;
    if (in_size != want || (!in && in_size))
        return zarrc_error_set(ZARRC_EINVAL, "array '%s': chunk buffer of %zu bytes, expected %zu", a->name,
                               in_size, want);
    zarrc__io_array io = zarrc__array_io(a);
    return zarrc__io_chunk_is_fill(&io, in, in_size) ? 1 : 0;
}

int zarrc_array_chunks_decode(zarrc_array *a, zarrc_chunk_item *items, size_t n)
{
    zarrc__error_clear();
    zarrc__array_meta snap;
    zarrc__io_array io;
    int rc = codec_io(a, &snap, &io);
    return rc ? rc : zarrc__io_chunks_run(&io, items, n, false);
}

int zarrc_array_chunks_encode(zarrc_array *a, zarrc_chunk_item *items, size_t n)
{
    zarrc__error_clear();
    zarrc__array_meta snap;
    zarrc__io_array io;
    int rc = codec_io(a, &snap, &io);
    return rc ? rc : zarrc__io_chunks_run(&io, items, n, true);
}
