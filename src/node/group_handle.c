/*
 * group_handle.c — group handles: open a group once (with its consolidated metadata, when it
 * has some), then open descendants and list children from that copy without store reads.
 */
#include <stdlib.h>

#include "hierarchy.h"

struct zarrc_group {
    zarrc_store *store;
    char *path;         /* store path */
    int format;
    unsigned flags;
    json_object *attrs; /* attributes as of opening (owned) */
    zarrc__cmeta *cm;   /* consolidated copy in use, or NULL */
    char *cm_rel;       /* this group's path relative to the copy's group */
};


static int new_handle(zarrc_group **out, zarrc_store *store, const char *path, int format,
                      unsigned flags, const json_object *attrs, zarrc__cmeta *cm, const char *cm_rel)
{
    zarrc_group *g = zarrc__calloc(1, sizeof *g);
    if (!g)
        return ZARRC_ENOMEM;
    g->path = zarrc__strdup(path);
    g->cm_rel = zarrc__strdup(cm_rel ? cm_rel : "");
    g->attrs = attrs ? zarrc__json_deep_copy(attrs) : json_object_new_object();
    if (!g->path || !g->cm_rel || !g->attrs) {
        free(g->path);
        free(g->cm_rel);
        json_object_put(g->attrs);
        free(g);
        return zarrc__enomem();
    }
    g->store = zarrc__store_ref(store);
    g->format = format;
    g->flags = flags;
    g->cm = zarrc__cmeta_ref(cm);
    *out = g;
    return ZARRC_OK;
}

/* Attributes of a node's metadata (v3: the document's member; v2: the .zattrs object). */
static const json_object *node_attrs(const zarrc__mnode *n)
{
    if (n->format == 2)
        return n->attrs;
    json_object *a = NULL;
    json_object_object_get_ex(n->doc, "attributes", &a);
    return a;
}

static int open_from_store(zarrc_group **out, zarrc_store *store, const char *p, unsigned flags)
{
    zarrc_node_kind kind;
    int format;
    int rc = zarrc__node_find(&kind, &format, NULL, store, p);
    if (rc == ZARRC_ENOTFOUND)
        return zarrc_error_set(rc, "no group at '%s'", zarrc__node_display(store, p));
    if (rc)
        return rc;
    if (kind != ZARRC_NODE_GROUP)
        return zarrc_error_set(ZARRC_EINVAL, "'%s' is an array, not a group", zarrc__node_display(store, p));
    zarrc__mnode n;
    rc = zarrc__mnode_read(&n, store, p, format);
    if (rc == ZARRC_ENOTFOUND)
        rc = zarrc_error_set(rc, "no group at '%s'", zarrc__node_display(store, p));
    if (rc)
        return rc;
    if (format == 3)
        rc = zarrc__meta_check_group_v3(n.doc);
    zarrc__cmeta *cm = NULL;
    if (rc == ZARRC_OK && !(flags & ZARRC_OPEN_NO_CONSOLIDATED)) {
        rc = zarrc__cmeta_load(&cm, store, p, format, n.doc);
        if (rc == ZARRC_ENOTFOUND) {
            zarrc__error_clear();
            rc = ZARRC_OK;
        } else if (rc)
            zarrc__error_context(rc, "(open the group without consolidated metadata to ignore it) ");
    }
    if (rc == ZARRC_OK)
        rc = new_handle(out, store, p, format, flags, node_attrs(&n), cm, "");
    zarrc__cmeta_unref(cm);
    zarrc__mnode_clear(&n);
    return rc;
}

int zarrc_group_open(zarrc_group **out, zarrc_store *store, const char *path, unsigned flags)
{
    zarrc__error_clear();
    *out = NULL;
    char *p;
    int rc = zarrc__node_path(&p, path);
    if (rc)
        return rc;
    rc = open_from_store(out, store, p, flags);
    if (rc)
        zarrc__error_context(rc, "group '%s': ", zarrc__node_display(store, p));
    free(p);
    return rc;
}

void zarrc_group_free(zarrc_group *g)
{
    if (!g)
        return;
    zarrc__store_unref(g->store);
    zarrc__cmeta_unref(g->cm);
    json_object_put(g->attrs);
    free(g->path);
    free(g->cm_rel);
    free(g);
}

int zarrc_group_format(const zarrc_group *g) { return g->format; }
const char *zarrc_group_path(const zarrc_group *g) { return g->path; }
int zarrc_group_is_consolidated(const zarrc_group *g) { return g->cm != NULL; }

int zarrc_group_attributes(char **json, const zarrc_group *g)
{
    zarrc__error_clear();
    *json = zarrc__json_dump(g->attrs, false);
    return *json ? ZARRC_OK : ZARRC_ENOMEM;
}

/* Resolve `relpath` below the group: normalized relative path, store path and (with a copy)
 * the path relative to the copy's group. */
static int resolve(const zarrc_group *g, const char *relpath, char **rel, char **full, char **cmrel)
{
    *rel = *full = *cmrel = NULL;
    int rc = zarrc__node_path(rel, relpath);
    if (rc)
        return rc;
    *full = zarrc__node_join(g->path, *rel);
    *cmrel = zarrc__node_join(g->cm_rel, *rel);
    if (!*full || !*cmrel) {
        free(*rel);
        free(*full);
        free(*cmrel);
        *rel = *full = *cmrel = NULL;
        return ZARRC_ENOMEM;
    }
    return ZARRC_OK;
}

static int not_in_copy(const zarrc_group *g, const char *full, const char *what)
{
    return zarrc_error_set(ZARRC_ENOTFOUND,
                           "no %s at '%s' in the consolidated metadata of group '%s' (it may be "
                           "stale: open the group without consolidated metadata to read the store)",
                           what, zarrc__node_display(g->store, full), zarrc__node_display(g->store, g->path));
}

int zarrc_group_open_array(zarrc_array **out, zarrc_group *g, const char *relpath)
{
    zarrc__error_clear();
    *out = NULL;
    char *rel, *full, *cmrel;
    int rc = resolve(g, relpath, &rel, &full, &cmrel);
    if (rc)
        return rc;
    if (!g->cm) {
        rc = zarrc_array_open(out, g->store, full);
    } else {
        const zarrc__mnode *n = zarrc__cmeta_find(g->cm, cmrel);
        if (!*rel)
            rc = zarrc_error_set(ZARRC_EINVAL, "'%s' is a group, not an array", zarrc__node_display(g->store, full));
        else if (!n)
            rc = not_in_copy(g, full, "array");
        else if (n->kind != ZARRC_NODE_ARRAY)
            rc = zarrc_error_set(ZARRC_EINVAL, "'%s' is a group, not an array", zarrc__node_display(g->store, full));
        else
            rc = zarrc__array_open_doc(out, g->store, full, n->doc, n->format, n->attrs);
        if (rc)
            zarrc__error_context(rc, "array '%s': ", zarrc__node_display(g->store, full));
    }
    free(rel);
    free(full);
    free(cmrel);
    return rc;
}

int zarrc_group_open_group(zarrc_group **out, zarrc_group *g, const char *relpath)
{
    zarrc__error_clear();
    *out = NULL;
    char *rel, *full, *cmrel;
    int rc = resolve(g, relpath, &rel, &full, &cmrel);
    if (rc)
        return rc;
    if (!*rel) {
        rc = new_handle(out, g->store, g->path, g->format, g->flags, g->attrs, g->cm, g->cm_rel);
    } else if (!g->cm) {
        rc = open_from_store(out, g->store, full, g->flags);
    } else {
        const zarrc__mnode *n = zarrc__cmeta_find(g->cm, cmrel);
        if (!n)
            rc = not_in_copy(g, full, "group");
        else if (n->kind != ZARRC_NODE_GROUP)
            rc = zarrc_error_set(ZARRC_EINVAL, "'%s' is an array, not a group", zarrc__node_display(g->store, full));
        else
            rc = new_handle(out, g->store, full, n->format, g->flags, node_attrs(n), g->cm, cmrel);
    }
    if (rc)
        zarrc__error_context(rc, "group '%s': ", zarrc__node_display(g->store, full));
    free(rel);
    free(full);
    free(cmrel);
    return rc;
}

int zarrc_group_children(zarrc_group *g, zarrc_child_cb cb, void *ctx)
{
    zarrc__error_clear();
    if (!g->cm)
        return zarrc_group_list(g->store, g->path, cb, ctx);
    /* Direct children in the copy: entries "<cm_rel>/<name>" without a further '/'. The copy
     * is sorted by path, so they appear in name order except that "a/b" sorts between "a"
     * and "a0": collect and sort the names. */
    size_t nc = 0;
    const zarrc__mnode **kids = zarrc__malloc((g->cm->n ? g->cm->n : 1) * sizeof *kids);
    if (!kids)
        return ZARRC_ENOMEM;
    for (size_t i = 0; i < g->cm->n; i++) {
        const char *rel = zarrc__path_below(g->cm->nodes[i].path, g->cm_rel);
        if (rel && *rel && !strchr(rel, '/'))
            kids[nc++] = &g->cm->nodes[i];
    }
    int rc = ZARRC_OK;
    size_t skip = *g->cm_rel ? strlen(g->cm_rel) + 1 : 0;
    /* Sort by name: insertion sort keeps it simple (children lists are short). */
    for (size_t i = 1; i < nc; i++) {
        const zarrc__mnode *k = kids[i];
        size_t j = i;
        while (j > 0 && strcmp(kids[j - 1]->path + skip, k->path + skip) > 0) {
            kids[j] = kids[j - 1];
            j--;
        }
        kids[j] = k;
    }
    for (size_t i = 0; rc == ZARRC_OK && i < nc; i++) {
        const zarrc__mnode *n = kids[i];
        /* Parse a private copy: the shared copy's reference counts must not change. */
        json_object *doc = n->kind == ZARRC_NODE_ARRAY ? zarrc__json_deep_copy(n->doc) : NULL;
        rc = n->kind == ZARRC_NODE_ARRAY && !doc
                 ? ZARRC_ENOMEM
                 : zarrc__child_report(n->path + skip, n->path, n->kind, n->format, doc, cb, ctx);
        json_object_put(doc);
    }
    free(kids);
    return rc;
}
