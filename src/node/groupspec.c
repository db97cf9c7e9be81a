/*
 * groupspec.c — pydantic-zarr's hierarchy model (GroupSpec / ArraySpec JSON, extensions.md
 * §5.2) in and out: a node's own metadata document plus, for groups, "members" (name → node).
 *
 * Out (zarrc_hierarchy_spec): the documents as stored, completed with the members
 * pydantic-zarr 0.10 always writes (v3 arrays: attributes, storage_transformers,
 * dimension_names; v2: attributes, order, filters, dimension_separator, compressor), keys in
 * its order, so that the text equals `GroupSpec.from_zarr(group).model_dump_json()` as JSON.
 * In (zarrc_hierarchy_create): the nested form, and pydantic-zarr's flat form (`to_flat()`:
 * keys "" and "/a/b", groups with "members": null) are turned into the flat
 * {"relative/path": document} form before validation.
 */
#include <stdlib.h>
#include <string.h>

#include "hierarchy.h"
#include "node.h"

/* Deepest nesting of members accepted in a nested spec (as deep as JSON is read). */
#define SPEC_MAX_DEPTH 256

static json_object *member(const json_object *o, const char *k)
{
    json_object *v = NULL;
    if (o && json_object_is_type((json_object *)o, json_type_object))
        json_object_object_get_ex((json_object *)o, k, &v);
    return v;
}

static bool has_member(const json_object *o, const char *k)
{
    return o && json_object_is_type((json_object *)o, json_type_object) &&
           json_object_object_get_ex((json_object *)o, k, NULL);
}

/* Add a copy of doc[k], or `def` (taken) when it is absent. */
static int put(json_object *out, const json_object *doc, const char *k, json_object *def)
{
    json_object *v = member(doc, k);
    if (v) {
        json_object_put(def);
        v = zarrc__json_deep_copy(v);
        if (!v)
            return ZARRC_ENOMEM;
    } else
        v = def;
    return json_object_object_add(out, k, v) ? ZARRC_ENOMEM : ZARRC_OK;
}

static int spec_node(json_object **out, zarrc_store *s, const char *path, int depth, int level);

typedef struct member_walk {
    zarrc_store *s;
    const char *path;
    int depth, level;
    json_object *members;
    int rc;
} member_walk;

static int member_cb(void *ctx, const zarrc_child_info *c)
{
    member_walk *w = ctx;
    char *p = *w->path ? zarrc__sprintf("%s/%s", w->path, c->name) : zarrc__strdup(c->name);
    if (!p)
        return w->rc = ZARRC_ENOMEM;
    json_object *m = NULL;
    int rc = spec_node(&m, w->s, p, w->depth, w->level + 1);
    free(p);
    if (rc == ZARRC_OK && json_object_object_add(w->members, c->name, m))
        rc = ZARRC_ENOMEM;
    return w->rc = rc;
}

static int spec_node(json_object **out, zarrc_store *s, const char *path, int depth, int level)
{
    *out = NULL;
    if (level > SPEC_MAX_DEPTH)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "'%s': hierarchy deeper than %d levels", path, SPEC_MAX_DEPTH);
    zarrc_node_kind kind;
    int format;
    json_object *doc = NULL, *attrs = NULL;
    int rc = zarrc__node_find(&kind, &format, &doc, s, path);
    if (rc == ZARRC_ENOTFOUND)
        return zarrc__node_not_found(s, path, "node");
    if (rc)
        return zarrc__error_context(rc, "'%s': ", zarrc__node_display(s, path));
    if (format == 2) {
        char *key = zarrc__node_key(path, ".zattrs");
        rc = key ? zarrc__node_read_json(&attrs, s, key) : ZARRC_ENOMEM;
        free(key);
        if (rc == ZARRC_ENOTFOUND) {
            zarrc__error_clear();
            rc = ZARRC_OK;
        }
        if (rc) {
            json_object_put(doc);
            return zarrc__error_context(rc, "'%s': .zattrs: ", zarrc__node_display(s, path));
        }
    } else {
        json_object *a = member(doc, "attributes");
        attrs = a ? json_object_get(a) : NULL;
    }
    json_object *o = json_object_new_object();
    if (!o)
        rc = ZARRC_ENOMEM;
    if (rc == ZARRC_OK)
        rc = json_object_object_add(o, "zarr_format", json_object_new_int(format)) ? ZARRC_ENOMEM : ZARRC_OK;
    if (rc == ZARRC_OK && format == 3)
        rc = json_object_object_add(o, "node_type", json_object_new_string(kind == ZARRC_NODE_ARRAY ? "array" : "group"))
                 ? ZARRC_ENOMEM : ZARRC_OK;
    if (rc == ZARRC_OK) {
        json_object *a = attrs ? zarrc__json_deep_copy(attrs) : json_object_new_object();
        rc = !a || json_object_object_add(o, "attributes", a) ? ZARRC_ENOMEM : ZARRC_OK;
    }
    if (rc == ZARRC_OK && kind == ZARRC_NODE_ARRAY && format == 3) {
        static const char *const keys[] = {"shape", "data_type", "chunk_grid", "chunk_key_encoding", "fill_value", "codecs"};
        for (size_t i = 0; rc == ZARRC_OK && i < sizeof keys / sizeof *keys; i++)
            rc = put(o, doc, keys[i], NULL);
        if (rc == ZARRC_OK)
            rc = put(o, doc, "storage_transformers", json_object_new_array());
        if (rc == ZARRC_OK)
            rc = put(o, doc, "dimension_names", NULL);
    } else if (rc == ZARRC_OK && kind == ZARRC_NODE_ARRAY) {
        static const char *const keys[] = {"shape", "chunks", "dtype", "fill_value"};
        for (size_t i = 0; rc == ZARRC_OK && i < sizeof keys / sizeof *keys; i++)
            rc = put(o, doc, keys[i], NULL);
        if (rc == ZARRC_OK)
            rc = put(o, doc, "order", json_object_new_string("C"));
        if (rc == ZARRC_OK)
            rc = put(o, doc, "filters", NULL);
        if (rc == ZARRC_OK)
            rc = put(o, doc, "dimension_separator", json_object_new_string("."));
        if (rc == ZARRC_OK)
            rc = put(o, doc, "compressor", NULL);
    } else if (rc == ZARRC_OK) {
        if (depth >= 0 && level >= depth)
            rc = json_object_object_add(o, "members", NULL) ? ZARRC_ENOMEM : ZARRC_OK;
        else {
            member_walk w = {s, path, depth, level, json_object_new_object(), ZARRC_OK};
            if (!w.members)
                rc = ZARRC_ENOMEM;
            else {
                rc = zarrc_group_list(s, path, member_cb, &w);
                if (w.rc)
                    rc = w.rc;
                if (json_object_object_add(o, "members", w.members) && rc == ZARRC_OK)
                    rc = ZARRC_ENOMEM;
            }
        }
    }
    json_object_put(doc);
    json_object_put(attrs);
    if (rc) {
        json_object_put(o);
        return rc;
    }
    *out = o;
    return ZARRC_OK;
}

int zarrc_hierarchy_spec(char **json, zarrc_store *store, const char *path, int depth)
{
    zarrc__error_clear();
    if (!json || !store || !path)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_hierarchy_spec: NULL argument");
    *json = NULL;
    char *p = NULL;
    int rc = zarrc__node_path(&p, path);
    if (rc)
        return rc;
    json_object *o = NULL;
    rc = spec_node(&o, store, p, depth, 0);
    free(p);
    if (rc)
        return rc;
    *json = zarrc__json_dump(o, false);
    json_object_put(o);
    return *json ? ZARRC_OK : ZARRC_ENOMEM;
}

/* ---- in: nested and pydantic-flat forms → the flat form ---- */

static int flatten(json_object *flat, const json_object *node, const char *path, int level)
{
    if (level > SPEC_MAX_DEPTH)
        return zarrc_error_set(ZARRC_EINVAL, "hierarchy spec: members nested deeper than %d levels", SPEC_MAX_DEPTH);
    if (!json_object_is_type((json_object *)node, json_type_object))
        return zarrc_error_set(ZARRC_EINVAL, "hierarchy spec: node '%s' is not a JSON object", path);
    json_object *doc = json_object_new_object();
    if (!doc)
        return ZARRC_ENOMEM;
    json_object_object_foreach((json_object *)node, k, v) {
        if (!strcmp(k, "members"))
            continue;
        json_object *c = zarrc__json_deep_copy(v);
        if ((!c && v) || json_object_object_add(doc, k, c)) {
            json_object_put(doc);
            return ZARRC_ENOMEM;
        }
    }
    if (json_object_object_add(flat, path, doc))
        return ZARRC_ENOMEM;
    json_object *m = member(node, "members");
    if (!m || json_object_is_type(m, json_type_null))
        return ZARRC_OK;
    if (!json_object_is_type(m, json_type_object))
        return zarrc_error_set(ZARRC_EINVAL, "hierarchy spec: 'members' of '%s' must be an object or null", path);
    json_object_object_foreach(m, name, child) {
        if (!*name || strchr(name, '/'))
            return zarrc_error_set(ZARRC_EINVAL, "hierarchy spec: member name '%.100s' of '%s' must be non-empty "
                                   "without '/'", name, path);
        char *cp = *path ? zarrc__sprintf("%s/%s", path, name) : zarrc__strdup(name);
        if (!cp)
            return ZARRC_ENOMEM;
        int rc = flatten(flat, child, cp, level + 1);
        free(cp);
        if (rc)
            return rc;
    }
    return ZARRC_OK;
}

int zarrc__groupspec_normalize(json_object **out, const json_object *spec)
{
    *out = NULL;
    json_object *zf = member(spec, "zarr_format");
    bool nested = zf && json_object_is_type(zf, json_type_int);
    bool pflat = false;
    if (!nested) {
        json_object_object_foreach((json_object *)spec, k0, v0) {
            (void)k0;
            if (has_member(v0, "members")) /* pydantic-zarr's to_flat() gives groups "members": null */
                pflat = true;
        }
    }
    if (!nested && !pflat)
        return ZARRC_OK;
    json_object *flat = json_object_new_object();
    if (!flat)
        return ZARRC_ENOMEM;
    int rc = ZARRC_OK;
    if (nested)
        rc = flatten(flat, spec, "", 0);
    else {
        json_object_object_foreach((json_object *)spec, k, v) {
            const char *p = k[0] == '/' ? k + 1 : k;
            if (member(v, "members") && !json_object_is_type(member(v, "members"), json_type_null)) {
                rc = zarrc_error_set(ZARRC_EINVAL, "hierarchy spec: flat entry '%s' has members (give either the "
                                     "flat or the nested form)", k);
                break;
            }
            if (member(flat, p)) {
                rc = zarrc_error_set(ZARRC_EINVAL, "hierarchy spec: '%s' is given twice", p);
                break;
            }
            if ((rc = flatten(flat, v, p, 0)))
                break;
        }
    }
    if (rc) {
        json_object_put(flat);
        return rc;
    }
    *out = flat;
    return ZARRC_OK;
}
