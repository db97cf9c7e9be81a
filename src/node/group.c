/* group.c — groups: create and list children. */
#include <stdlib.h>

#include "hierarchy.h"
#include "node.h"

int zarrc_group_create(zarrc_store *store, const char *path, int format, const char *attributes_json,
                       unsigned flags)
{
    zarrc__error_clear();
    char *p;
    json_object *attrs = NULL;
    int rc = zarrc__node_path(&p, path);
    if (rc)
        return rc;
    if (format != 2 && format != 3)
        rc = zarrc_error_set(ZARRC_EINVAL, "format must be 2 or 3 (got %d)", format);
    if (rc == ZARRC_OK && attributes_json) {
        rc = zarrc__json_parse(&attrs, attributes_json, strlen(attributes_json), "attributes");
        if (rc == ZARRC_OK && !json_object_is_type(attrs, json_type_object))
            rc = zarrc_error_set(ZARRC_EINVAL, "attributes must be a JSON object");
    }
    zarrc_node_kind kind;
    int fmt;
    json_object *ex = NULL;
    bool keep = false;
    if (rc == ZARRC_OK)
        rc = zarrc__node_check_name(p, format);
    if (rc == ZARRC_OK) {
        rc = zarrc__node_find(&kind, &fmt, &ex, store, p);
        if (rc == ZARRC_OK && (flags & ZARRC_RESUME) && kind == ZARRC_NODE_GROUP && fmt == format) {
            /* An identical group is kept as it is. */
            char *stored = NULL;
            rc = zarrc_node_attributes(&stored, store, p);
            json_object *sa = NULL;
            if (rc == ZARRC_OK)
                rc = zarrc__json_parse(&sa, stored, strlen(stored), "attributes");
            keep = rc == ZARRC_OK && (attrs ? zarrc__json_equal(sa, attrs, NULL)
                                            : json_object_object_length(sa) == 0);
            json_object_put(sa);
            free(stored);
        }
        if (rc == ZARRC_OK && keep)
            ;
        else if (rc == ZARRC_OK && !(flags & ZARRC_OVERWRITE))
            rc = zarrc_error_set(ZARRC_EEXISTS, "a%s %s already exists at '%s'%s", kind == ZARRC_NODE_ARRAY ? "n" : "",
                                 kind == ZARRC_NODE_ARRAY ? "array" : "group", zarrc__node_display(store, p),
                                 flags & ZARRC_RESUME ? " with other attributes or format" : "");
        else if (rc == ZARRC_OK)
            rc = zarrc__node_erase(store, p, flags, NULL);
        else if (rc == ZARRC_ENOTFOUND) {
            zarrc__error_clear();
            json_object *rec = NULL;
            rc = zarrc__pending_read(&rec, store, p);
            json_object_put(rec);
            if (rc == ZARRC_OK && !(flags & ZARRC_OVERWRITE))
                rc = zarrc_error_set(ZARRC_EEXISTS, "an incomplete array is at '%s' (an interrupted copy or "
                                     "creation): resume or overwrite it", zarrc__node_display(store, p));
            else if (rc == ZARRC_OK) /* replace the incomplete array */
                rc = zarrc__node_erase(store, p, flags, NULL);
            else if (rc == ZARRC_ENOTFOUND) {
                zarrc__error_clear();
                rc = ZARRC_OK;
            }
        }
    }
    json_object_put(ex);
    if (rc == ZARRC_OK && !keep)
        rc = zarrc__node_make_parents(store, p, format);
    if (rc == ZARRC_OK && !keep)
        rc = zarrc__group_write(store, p, format, attrs);
    if (rc)
        zarrc__error_context(rc, "create group '%s': ", zarrc__node_display(store, p));
    json_object_put(attrs);
    free(p);
    return rc;
}

typedef struct names {
    char **v;
    size_t n, cap;
    int format; /* of the group: its reserved names are not children */
} names;

static int collect(void *ctx, const char *name, int is_prefix)
{
    names *l = ctx;
    if (!is_prefix || zarrc__node_reserved_name(l->format, name, strlen(name)))
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **v = zarrc__realloc(l->v, cap * sizeof *v);
        if (!v)
            return ZARRC_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = zarrc__strdup(name)))
        return ZARRC_ENOMEM;
    l->n++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Describe one child from its metadata document; ZARRC_ENOTFOUND if it is not a node. */
static int describe(zarrc_store *s, const char *path, const char *name, zarrc_child_cb cb, void *ctx)
{
    char *child = zarrc__path_join(path, name);
    if (!child)
        return ZARRC_ENOMEM;
    zarrc_node_kind kind;
    int format;
    json_object *doc = NULL;
    int rc = zarrc__node_find(&kind, &format, &doc, s, child);
    if (rc == ZARRC_OK)
        rc = zarrc__child_report(name, child, kind, format, doc, cb, ctx);
    json_object_put(doc);
    free(child);
    return rc;
}

int zarrc_group_list(zarrc_store *store, const char *path, zarrc_child_cb cb, void *ctx)
{
    zarrc__error_clear();
    char *p;
    int rc = zarrc__node_path(&p, path);
    if (rc)
        return rc;
    zarrc_node_kind kind;
    int format;
    rc = zarrc__node_find(&kind, &format, NULL, store, p);
    if (rc == ZARRC_ENOTFOUND)
        rc = zarrc_error_set(rc, "no group at '%s'", zarrc__node_display(store, p));
    else if (rc == ZARRC_OK && kind != ZARRC_NODE_GROUP)
        rc = zarrc_error_set(ZARRC_EINVAL, "'%s' is an array, not a group", zarrc__node_display(store, p));
    names l = {0};
    l.format = format;
    if (rc == ZARRC_OK) {
        char *prefix = *p ? zarrc__sprintf("%s/", p) : zarrc__strdup("");
        rc = prefix ? zarrc__store_list_dir(store, prefix, collect, &l) : ZARRC_ENOMEM;
        free(prefix);
    }
    if (rc == ZARRC_OK && l.n > 1)
        qsort(l.v, l.n, sizeof *l.v, cmp_names);
    for (size_t i = 0; i < l.n; i++) {
        if (rc == ZARRC_OK) {
            rc = describe(store, p, l.v[i], cb, ctx);
            if (rc == ZARRC_ENOTFOUND) { /* a plain directory (chunks, etc.), not a node */
                zarrc__error_clear();
                rc = ZARRC_OK;
            }
        }
        free(l.v[i]);
    }
    free(l.v);
    free(p);
    return rc;
}
