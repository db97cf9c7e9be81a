/* node.c — node paths, metadata document I/O, probing and ancestors. */
#include <stdlib.h>

#include "node.h"

int zarrc__node_path(char **out, const char *path)
{
    size_t n = strlen(path ? path : "");
    char *p = zarrc__malloc(n + 1), *o = p;
    if (!p)
        return ZARRC_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char c = path[i] == '\\' ? '/' : path[i];
        if (c == '/' && (o == p || o[-1] == '/'))
            continue;
        *o++ = c;
    }
    while (o > p && o[-1] == '/')
        o--;
    *o = '\0';
    for (char *s = p; *s;) {
        char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.')) {
            free(p);
            return zarrc_error_set(ZARRC_EINVAL, "invalid node path '%s' ('.' and '..' are not allowed)", path);
        }
        s += len + (e != NULL);
    }
    *out = p;
    return ZARRC_OK;
}

char *zarrc__node_key(const char *path, const char *name) { return zarrc__path_join(path, name); }

const char *zarrc__node_display(const zarrc_store *s, const char *path) { return *path ? path : s->url; }

int zarrc__node_check_name(const char *path, int format)
{
    for (const char *seg = path; *seg;) {
        const char *e = strchr(seg, '/');
        size_t len = e ? (size_t)(e - seg) : strlen(seg);
        if (zarrc__node_reserved_name(format, seg, len))
            return zarrc_error_set(ZARRC_EINVAL, "'%.*s': v3 names starting with '__' are reserved", (int)len, seg);
        seg += len + (e != NULL);
    }
    return ZARRC_OK;
}

int zarrc__pending_read(json_object **rec, zarrc_store *s, const char *path)
{
    *rec = NULL;
    char *key = zarrc__node_key(path, ZARRC__PENDING_NAME);
    if (!key)
        return ZARRC_ENOMEM;
    json_object *r = NULL, *v = NULL, *zf = NULL, *md = NULL;
    int rc = zarrc__node_read_json(&r, s, key);
    if (rc == ZARRC_OK) {
        json_object_object_get_ex(r, "zarrc_pending", &v);
        json_object_object_get_ex(r, "zarr_format", &zf);
        json_object_object_get_ex(r, "metadata", &md);
        int f = json_object_is_type(zf, json_type_int) ? json_object_get_int(zf) : 0;
        if (!json_object_is_type(v, json_type_int) || json_object_get_int(v) != 1 || (f != 2 && f != 3) ||
            !json_object_is_type(md, json_type_object))
            rc = zarrc_error_set(ZARRC_ECORRUPT, "'%s' is not a pending array record of this version", key);
    } else if (rc != ZARRC_ENOTFOUND)
        zarrc__error_context(rc, "%s: ", key);
    free(key);
    if (rc == ZARRC_OK)
        *rec = r;
    else
        json_object_put(r);
    return rc;
}

int zarrc__node_not_found(zarrc_store *s, const char *path, const char *what)
{
    json_object *rec = NULL;
    int rc = zarrc__pending_read(&rec, s, path);
    json_object_put(rec);
    if (rc == ZARRC_ENOTFOUND)
        return zarrc_error_set(ZARRC_ENOTFOUND, "no %s at '%s'", what, zarrc__node_display(s, path));
    return zarrc_error_set(ZARRC_ENOTFOUND, "no %s at '%s': an incomplete array is there (an interrupted copy "
                           "or creation: resume or overwrite it)", what, zarrc__node_display(s, path));
}

int zarrc__node_read_json(json_object **out, zarrc_store *s, const char *key)
{
    zarrc_buf b = ZARRC_BUF_INIT;
    int rc = zarrc__store_get(s, key, 0, -1, &b);
    if (rc == ZARRC_OK) {
        rc = zarrc__json_parse(out, (const char *)b.data, b.size, key);
        if (rc == ZARRC_OK && !*out)
            rc = zarrc_error_set(ZARRC_EINVAL, "%s: document is null", key);
    }
    zarrc_buf_release(&b);
    return rc;
}

int zarrc__node_doc_text(zarrc_buf *out, json_object *doc)
{
    char *text = zarrc__json_dump(doc, true);
    if (!text)
        return ZARRC_ENOMEM;
    out->size = 0;
    int rc = zarrc__buf_append(out, text, strlen(text));
    if (rc == ZARRC_OK)
        rc = zarrc__buf_append(out, "\n", 1);
    free(text);
    return rc;
}

int zarrc__node_write_json(zarrc_store *s, const char *key, json_object *doc)
{
    zarrc_buf b = ZARRC_BUF_INIT;
    int rc = zarrc__node_doc_text(&b, doc);
    /* Metadata documents are always written durably (fsync before and after the rename). */
    if (rc == ZARRC_OK)
        rc = zarrc__store_set_durable(s, key, b.data, b.size);
    zarrc_buf_release(&b);
    return rc;
}

static int read_node_doc(json_object **doc, zarrc_store *s, const char *path, const char *name)
{
    char *key = zarrc__node_key(path, name);
    if (!key)
        return ZARRC_ENOMEM;
    int rc = zarrc__node_read_json(doc, s, key);
    free(key);
    return rc;
}

int zarrc__node_find(zarrc_node_kind *kind, int *format, json_object **doc_out, zarrc_store *s,
                     const char *path)
{
    json_object *doc = NULL;
    int rc = read_node_doc(&doc, s, path, "zarr.json");
    if (rc == ZARRC_OK) {
        json_object *nt = NULL, *zf = NULL;
        json_object_object_get_ex(doc, "node_type", &nt);
        json_object_object_get_ex(doc, "zarr_format", &zf);
        const char *t = json_object_is_type(nt, json_type_string) ? json_object_get_string(nt) : "";
        if (!json_object_is_type(zf, json_type_int) || json_object_get_int(zf) != 3)
            rc = zarrc_error_set(ZARRC_EINVAL, "zarr.json: 'zarr_format' must be 3");
        else if (!strcmp(t, "array"))
            *kind = ZARRC_NODE_ARRAY;
        else if (!strcmp(t, "group"))
            *kind = ZARRC_NODE_GROUP;
        else
            rc = zarrc_error_set(ZARRC_EINVAL, "zarr.json: 'node_type' must be \"array\" or \"group\"");
        *format = 3;
    } else if (rc == ZARRC_ENOTFOUND) {
        rc = read_node_doc(&doc, s, path, ".zarray");
        *kind = ZARRC_NODE_ARRAY;
        if (rc == ZARRC_ENOTFOUND) {
            rc = read_node_doc(&doc, s, path, ".zgroup");
            *kind = ZARRC_NODE_GROUP;
        }
        *format = 2;
    }
    if (rc == ZARRC_OK && doc_out)
        *doc_out = doc;
    else
        json_object_put(doc);
    return rc;
}

/* A child array whose metadata zarrc cannot use (an unsupported data type or extension) is still
 * listed — as `info` still opens it — with the shape and the data type name its document
 * gives ("struct", a registered name, or "?"), so that listing a hierarchy never fails on it. */
static int report_unsupported(const char *name, const char *where, int format, const json_object *doc,
                              zarrc_child_cb cb, void *ctx, int why)
{
    json_object *sh = NULL, *dt = NULL, *nm = NULL;
    json_object_object_get_ex((json_object *)doc, "shape", &sh);
    json_object_object_get_ex((json_object *)doc, format == 3 ? "data_type" : "dtype", &dt);
    if (!json_object_is_type(sh, json_type_array) || json_object_array_length(sh) > ZARRC_MAX_DIMS)
        return zarrc__error_context(why, "array '%s': ", where);
    int nd = (int)json_object_array_length(sh);
    int64_t shape[ZARRC_MAX_DIMS];
    for (int d = 0; d < nd; d++) {
        json_object *e = json_object_array_get_idx(sh, (size_t)d);
        if (!json_object_is_type(e, json_type_int) || json_object_get_int64(e) < 0)
            return zarrc__error_context(why, "array '%s': ", where);
        shape[d] = json_object_get_int64(e);
    }
    const char *dn = "?";
    if (json_object_is_type(dt, json_type_string))
        dn = json_object_get_string(dt);
    else if (json_object_is_type(dt, json_type_object) && json_object_object_get_ex(dt, "name", &nm) &&
             json_object_is_type(nm, json_type_string))
        dn = json_object_get_string(nm);
    else if (json_object_is_type(dt, json_type_array))
        dn = "structured";
    zarrc__error_clear();
    zarrc_child_info info = {name, ZARRC_NODE_ARRAY, format, nd, shape, dn, 0};
    return cb(ctx, &info);
}

int zarrc__child_report(const char *name, const char *where, zarrc_node_kind kind, int format,
                        const json_object *doc, zarrc_child_cb cb, void *ctx)
{
    zarrc_child_info info = {name, kind, format, 0, NULL, NULL, 0};
    if (kind != ZARRC_NODE_ARRAY)
        return cb(ctx, &info);
    json_object *vm = NULL;
    info.is_view = format == 3 && json_object_object_get_ex((json_object *)doc, "zarrc_view", &vm); /* src/view/ */
    zarrc__array_meta m;
    int rc = format == 3 ? zarrc__meta_parse_v3(&m, doc) : zarrc__meta_parse_v2(&m, doc, NULL);
    if (rc == ZARRC_EUNSUPPORTED || rc == ZARRC_EDTYPE)
        return report_unsupported(name, where, format, doc, cb, ctx, rc);
    if (rc)
        return zarrc__error_context(rc, "array '%s': ", where);
    info.ndim = m.ndim;
    info.shape = m.shape;
    info.dtype = m.dtype.name;
    rc = cb(ctx, &info);
    zarrc__meta_clear(&m);
    return rc;
}

int zarrc__group_write(zarrc_store *s, const char *path, int format, const json_object *attrs)
{
    json_object *doc = json_object_new_object();
    int rc;
    json_object_object_add(doc, "zarr_format", json_object_new_int(format));
    if (format == 3) {
        json_object_object_add(doc, "node_type", json_object_new_string("group"));
        json_object_object_add(doc, "attributes", attrs ? zarrc__json_deep_copy(attrs) : json_object_new_object());
        char *key = zarrc__node_key(path, "zarr.json");
        rc = key ? zarrc__node_write_json(s, key, doc) : ZARRC_ENOMEM;
        free(key);
    } else
        rc = zarrc__node_write_v2(s, path, ".zgroup", doc, attrs);
    json_object_put(doc);
    return rc;
}

int zarrc__node_write_v2(zarrc_store *s, const char *path, const char *name, json_object *doc,
                         const json_object *attrs)
{
    char *akey = zarrc__node_key(path, ".zattrs"), *key = zarrc__node_key(path, name);
    bool with_attrs = attrs && json_object_object_length((json_object *)attrs) > 0;
    int rc = akey && key ? ZARRC_OK : ZARRC_ENOMEM;
    if (rc == ZARRC_OK && with_attrs)
        rc = zarrc__node_write_json(s, akey, (json_object *)attrs);
    else if (rc == ZARRC_OK && (rc = zarrc__store_erase(s, akey)) == ZARRC_ENOTFOUND) {
        zarrc__error_clear();
        rc = ZARRC_OK;
    }
    if (rc == ZARRC_OK && (rc = zarrc__node_write_json(s, key, doc)) && with_attrs) {
        zarrc__error_saved e;
        zarrc__error_save(&e, rc);
        zarrc__store_erase(s, akey);
        zarrc__error_restore(&e);
    }
    free(akey);
    free(key);
    return rc;
}

int zarrc__node_make_parents(zarrc_store *s, const char *path, int format)
{
    size_t n = strlen(path);
    char *p = zarrc__malloc(n + 1);
    if (!p)
        return ZARRC_ENOMEM;
    int rc = ZARRC_OK;
    /* Ancestors from the root down: "", "a", "a/b" for path "a/b/c". */
    for (size_t i = 0; rc == ZARRC_OK && i <= n; i++) {
        if (i != 0 && path[i] != '/' && path[i] != '\0')
            continue;
        if (i == n)
            break;
        memcpy(p, path, i);
        p[i] = '\0';
        zarrc_node_kind kind;
        int fmt;
        rc = zarrc__node_find(&kind, &fmt, NULL, s, p);
        if (rc == ZARRC_ENOTFOUND) {
            zarrc__error_clear();
            rc = zarrc__group_write(s, p, format, NULL);
        } else if (rc == ZARRC_OK && kind == ZARRC_NODE_ARRAY)
            rc = zarrc_error_set(ZARRC_ECONFLICT, "cannot create a node under array '%s'", p);
    }
    free(p);
    return rc;
}

/* ---- public node functions ---- */

int zarrc_node_probe(zarrc_node_kind *kind, int *format, zarrc_store *store, const char *path)
{
    zarrc__error_clear();
    char *p;
    int rc = zarrc__node_path(&p, path);
    if (rc)
        return rc;
    rc = zarrc__node_find(kind, format, NULL, store, p);
    if (rc == ZARRC_ENOTFOUND)
        zarrc__node_not_found(store, p, "array or group");
    free(p);
    return rc;
}

int zarrc_node_delete_flags(zarrc_store *store, const char *path, unsigned flags)
{
    zarrc__error_clear();
    char *p;
    int rc = zarrc__node_path(&p, path);
    if (rc)
        return rc;
    zarrc_node_kind kind;
    int fmt;
    json_object *rec = NULL;
    rc = zarrc__node_find(&kind, &fmt, NULL, store, p);
    if (rc == ZARRC_ENOTFOUND) {
        zarrc__error_clear();
        rc = zarrc__pending_read(&rec, store, p); /* an incomplete array is deleted too */
        if (rc == ZARRC_ENOTFOUND)
            zarrc_error_set(rc, "no array or group at '%s'", zarrc__node_display(store, p));
        json_object_put(rec);
    }
    if (rc == ZARRC_OK)
        rc = zarrc__node_erase(store, p, flags, NULL);
    if (rc && rc != ZARRC_ENOTFOUND)
        zarrc__error_context(rc, "delete '%s': ", zarrc__node_display(store, p));
    free(p);
    return rc;
}

int zarrc_node_delete(zarrc_store *store, const char *path) { return zarrc_node_delete_flags(store, path, 0); }

int zarrc__node_relation(int *relation, zarrc_store *a, const char *pa, zarrc_store *b, const char *pb)
{
    *relation = ZARRC_OVERLAP_NONE;
    char *ca = zarrc__store_canonical(a), *cb = zarrc__store_canonical(b), *la = NULL, *lb = NULL;
    int rc = ca && cb ? ZARRC_OK : ZARRC_ENOMEM;
    if (rc == ZARRC_OK) {
        /* location + '/' + path, without doubling a trailing '/' (the filesystem root). */
        size_t na = strlen(ca), nb = strlen(cb);
        la = zarrc__sprintf("%s%s%s", ca, *pa && (!na || ca[na - 1] != '/') ? "/" : "", pa);
        lb = zarrc__sprintf("%s%s%s", cb, *pb && (!nb || cb[nb - 1] != '/') ? "/" : "", pb);
        if (!la || !lb)
            rc = ZARRC_ENOMEM;
    }
    if (rc == ZARRC_OK) {
        size_t na = strlen(la), nb = strlen(lb);
        if (!strcmp(la, lb))
            *relation = ZARRC_OVERLAP_SAME;
        else if (nb > na && !strncmp(la, lb, na) && (lb[na] == '/' || (na && la[na - 1] == '/')))
            *relation = ZARRC_OVERLAP_B_IN_A;
        else if (na > nb && !strncmp(la, lb, nb) && (la[nb] == '/' || (nb && lb[nb - 1] == '/')))
            *relation = ZARRC_OVERLAP_A_IN_B;
    }
    free(ca);
    free(cb);
    free(la);
    free(lb);
    return rc;
}

int zarrc_node_overlap(int *relation, zarrc_store *a, const char *path_a, zarrc_store *b, const char *path_b)
{
    zarrc__error_clear();
    *relation = ZARRC_OVERLAP_NONE;
    char *pa = NULL, *pb = NULL;
    int rc = zarrc__node_path(&pa, path_a);
    if (rc == ZARRC_OK)
        rc = zarrc__node_path(&pb, path_b);
    if (rc == ZARRC_OK)
        rc = zarrc__node_relation(relation, a, pa, b, pb);
    free(pa);
    free(pb);
    return rc;
}

int zarrc_node_attributes(char **json, zarrc_store *store, const char *path)
{
    zarrc__error_clear();
    char *p;
    int rc = zarrc__node_path(&p, path);
    if (rc)
        return rc;
    zarrc_node_kind kind;
    int fmt;
    json_object *doc = NULL, *attrs = NULL;
    rc = zarrc__node_find(&kind, &fmt, &doc, store, p);
    if (rc == ZARRC_ENOTFOUND)
        zarrc__node_not_found(store, p, "array or group");
    if (rc == ZARRC_OK && fmt == 3) {
        json_object_object_get_ex(doc, "attributes", &attrs);
        attrs = attrs ? json_object_get(attrs) : json_object_new_object();
    } else if (rc == ZARRC_OK) {
        char *key = zarrc__node_key(p, ".zattrs");
        rc = key ? zarrc__node_read_json(&attrs, store, key) : ZARRC_ENOMEM;
        if (rc == ZARRC_ENOTFOUND) {
            rc = ZARRC_OK;
            attrs = json_object_new_object();
        }
        free(key);
    }
    if (rc == ZARRC_OK)
        *json = zarrc__json_dump(attrs, false);
    json_object_put(attrs);
    json_object_put(doc);
    free(p);
    return rc;
}
