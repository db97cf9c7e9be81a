/*
 * hierarchy.h — internal interface of the hierarchy layer: group handles, consolidated
 * metadata (read, write, patch) and the array entry points it needs from array.c.
 */
#ifndef ZARRC_HIERARCHY_H
#define ZARRC_HIERARCHY_H

#include <stdlib.h>

#include "node.h"

/* qsort / bsearch that accept an empty (possibly NULL) array. */
static inline void zarrc__sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

static inline void *zarrc__search(const void *key, const void *base, size_t n, size_t size,
                                  int (*cmp)(const void *, const void *))
{
    return n ? bsearch(key, base, n, size, cmp) : NULL;
}

/* ---- from array.c (end of file) ---- */

/** Open an array from a metadata document already in memory (no store reads). `doc` is
 *  copied; `attrs` (v2 .zattrs, may be NULL) is copied by the parser. */
ZARRC_HIDDEN int zarrc__array_open_doc(zarrc_array **out, zarrc_store *store, const char *path,
                                       const json_object *doc, int format, const json_object *attrs);
/** Validate an array document exactly as creation does (metadata + codec pipeline). */
ZARRC_HIDDEN int zarrc__array_validate_doc(const json_object *doc, int format, const json_object *attrs);

/* ---- one node's metadata (consolidated.c) ---- */

typedef struct zarrc__mnode {
    char *path;           /* relative to the consolidated group, or a store path (see use) */
    zarrc_node_kind kind;
    int format;
    json_object *doc;     /* v3 zarr.json, v2 .zarray / .zgroup (owned) */
    json_object *attrs;   /* v2 .zattrs object or NULL when absent (owned) */
} zarrc__mnode;

ZARRC_HIDDEN void zarrc__mnode_clear(zarrc__mnode *n);

/** Read the stored metadata of the node at store path `path` in `format` (v2: .zarray or
 *  .zgroup, and .zattrs). ZARRC_ENOTFOUND (no message) when no node of that format is there. */
ZARRC_HIDDEN int zarrc__mnode_read(zarrc__mnode *n, zarrc_store *s, const char *path, int format);

/** A parsed consolidated copy: nodes sorted by relative path (the group itself excluded).
 *  Shared read-only between group handles (reference counted). */
typedef struct zarrc__cmeta {
    int refs; /* atomic */
    int format;
    size_t n;
    zarrc__mnode *nodes;
} zarrc__cmeta;

ZARRC_HIDDEN zarrc__cmeta *zarrc__cmeta_ref(zarrc__cmeta *c);
ZARRC_HIDDEN void zarrc__cmeta_unref(zarrc__cmeta *c);
/** Node at relative path `rel` or NULL. */
ZARRC_HIDDEN const zarrc__mnode *zarrc__cmeta_find(const zarrc__cmeta *c, const char *rel);

/** Load the consolidated copy of the group at `path` whose group document is `doc` (v3: from
 *  its consolidated_metadata member; v2: reads `.zmetadata`). ZARRC_ENOTFOUND (no message)
 *  when the group has none; ZARRC_EINVAL when it is malformed. */
ZARRC_HIDDEN int zarrc__cmeta_load(zarrc__cmeta **out, zarrc_store *s, const char *path, int format,
                                   const json_object *doc);

/** Whether the group at `path` (document `doc`) holds consolidated metadata (v2: one size
 *  probe of .zmetadata). */
ZARRC_HIDDEN int zarrc__cmeta_present(bool *present, zarrc_store *s, const char *path, int format,
                                      const json_object *doc);

/** Rewrite the consolidated copy of group `holder` (store path, `format`): remove the entries
 *  at and below each of `erased` (store paths), then set the entries of `updates` (nodes with
 *  store paths, all below `holder`, or the holder itself for its v2 .zattrs). */
ZARRC_HIDDEN int zarrc__cmeta_patch(zarrc_store *s, const char *holder, int format,
                                    const zarrc__mnode *updates, size_t nupdates,
                                    char *const *erased, size_t nerased);

/** After a metadata change at store path `p`: with `update`, refresh the entries of `p` (and
 *  of its subtree when `subtree`) in every consolidated copy that includes it; otherwise add
 *  the groups holding such copies to `stale` (nothing is read when `stale` is NULL). */
ZARRC_HIDDEN int zarrc__consolidated_after_change(zarrc_store *s, const char *p, bool update,
                                                  bool subtree, zarrc_stale_list *stale);

/** Append a copy of `path` to a stale list (no duplicates). */
ZARRC_HIDDEN int zarrc__stale_add(zarrc_stale_list *l, const char *path);

/** JSON equality with numbers compared by value (0 == 0.0); members named `ignore` (may be
 *  NULL) are skipped at the top level of objects. */
ZARRC_HIDDEN bool zarrc__json_equal(const json_object *a, const json_object *b, const char *ignore);

/** Join two node paths, either of which may be "" (malloc'd; NULL when out of memory). */
ZARRC_HIDDEN char *zarrc__node_join(const char *a, const char *b);

/** Relative path of store path `path` below `base` ("" when equal), or NULL if not below. */
ZARRC_HIDDEN const char *zarrc__path_below(const char *path, const char *base);

/** groupspec.c: a pydantic-zarr GroupSpec (nested: a node document with "members") or its flat
 *  form (keys "/a/b", documents with "members": null) as zarrc's flat hierarchy spec (a new
 *  object in *out), or *out = NULL when `spec` is already in zarrc's flat form. */
ZARRC_HIDDEN int zarrc__groupspec_normalize(json_object **out, const json_object *spec);

#endif
