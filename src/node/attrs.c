/* attrs.c — replacing and merge-updating node attributes (v2 .zattrs, v3 zarr.json). */
#include <stdlib.h>

#include "hierarchy.h"


/* The new attributes: `given` itself (replace) or `old` updated with `given`'s members. */
static json_object *combine(const json_object *old, const json_object *given, bool merge)
{
    if (!merge || !old)
        return zarrc__json_deep_copy(given);
    json_object *r = zarrc__json_deep_copy(old);
    if (!r)
        return NULL;
    json_object_object_foreach((json_object *)given, k, v)
        json_object_object_add(r, k, zarrc__json_deep_copy(v));
    return r;
}

/* One attribute change as a read-modify-write of the document that holds the attributes (v3
 * zarr.json, v2 .zattrs), so that concurrent changes of one node never lose each other. */
typedef struct attrs_update {
    int format;
    const char *key;
    const json_object *given;
    bool merge;
} attrs_update;

static int update_attrs(void *ctx, const zarrc_buf *cur, zarrc_buf *out, int can_erase, zarrc__update_action *act)
{
    attrs_update *u = ctx;
    json_object *doc = NULL, *old = NULL, *attrs = NULL;
    int rc = ZARRC_OK;
    if (cur && (rc = zarrc__json_parse(&doc, (const char *)cur->data, cur->size, u->key)))
        return rc;
    if (u->format == 3) {
        if (!doc || !json_object_is_type(doc, json_type_object))
            rc = doc ? zarrc_error_set(ZARRC_EINVAL, "%s: not a JSON object", u->key)
                     : zarrc_error_set(ZARRC_ENOTFOUND, "%s disappeared", u->key);
        else {
            json_object_object_get_ex(doc, "attributes", &old);
            if (old && !json_object_is_type(old, json_type_object))
                old = NULL; /* replaced by a valid object */
            if (!(attrs = combine(old, u->given, u->merge)))
                rc = ZARRC_ENOMEM;
            else {
                json_object_object_add(doc, "attributes", attrs);
                *act = ZARRC_UPDATE_SET;
                rc = zarrc__node_doc_text(out, doc);
            }
        }
        json_object_put(doc);
        return rc;
    }
    if (doc && !json_object_is_type(doc, json_type_object))
        rc = zarrc_error_set(ZARRC_EINVAL, "%s: attributes must be a JSON object", u->key);
    else if (!(attrs = combine(doc, u->given, u->merge)))
        rc = ZARRC_ENOMEM;
    else if (json_object_object_length(attrs) == 0 && (can_erase || !doc))
        /* {} is the same as no .zattrs: do not leave an empty file behind. */
        *act = doc ? ZARRC_UPDATE_ERASE : ZARRC_UPDATE_NONE;
    else {
        *act = ZARRC_UPDATE_SET;
        rc = zarrc__node_doc_text(out, attrs);
    }
    json_object_put(doc);
    json_object_put(attrs);
    return rc;
}

static int set_attrs(zarrc_store *store, const char *p, const json_object *given, bool merge)
{
    zarrc_node_kind kind;
    int format;
    int rc = zarrc__node_find(&kind, &format, NULL, store, p);
    if (rc == ZARRC_ENOTFOUND)
        return zarrc_error_set(rc, "no array or group at '%s'", zarrc__node_display(store, p));
    if (rc)
        return rc;
    char *key = zarrc__node_key(p, format == 3 ? "zarr.json" : ".zattrs");
    if (!key)
        return ZARRC_ENOMEM;
    attrs_update u = {format, key, given, merge};
    rc = zarrc__store_update(store, key, ZARRC_UPDATE_DURABLE, update_attrs, &u);
    free(key);
    return rc;
}

int zarrc_node_set_attributes(zarrc_store *store, const char *path, const char *json,
                              unsigned flags, zarrc_stale_list *stale)
{
    zarrc__error_clear();
    char *p;
    json_object *given = NULL;
    int rc = zarrc__node_path(&p, path);
    if (rc)
        return rc;
    if (!json)
        rc = zarrc_error_set(ZARRC_EINVAL, "no attributes given");
    else if ((rc = zarrc__json_parse(&given, json, strlen(json), "attributes")) == ZARRC_OK &&
             !json_object_is_type(given, json_type_object))
        rc = zarrc_error_set(ZARRC_EINVAL, "attributes must be a JSON object");
    if (rc == ZARRC_OK)
        rc = set_attrs(store, p, given, (flags & ZARRC_ATTRS_MERGE) != 0);
    zarrc_stale_list found = {0};
    if (rc == ZARRC_OK)
        rc = zarrc__consolidated_after_change(store, p, (flags & ZARRC_UPDATE_CONSOLIDATED) != 0,
                                              false, stale ? &found : NULL);
    if (rc == ZARRC_OK && stale) {
        zarrc_stale_list_clear(stale);
        *stale = found;
    } else
        zarrc_stale_list_clear(&found);
    if (rc)
        zarrc__error_context(rc, "set attributes of '%s': ", zarrc__node_display(store, p));
    json_object_put(given);
    free(p);
    return rc;
}
