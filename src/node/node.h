/*
 * node.h — shared helpers of the node layer: node paths and reading metadata documents.
 */
#ifndef ZARRC_NODE_H
#define ZARRC_NODE_H

#include "../io/io.h"

/** An open array (shared by the node layer's files). */
struct zarrc_array {
    zarrc_store *store;
    char *path;   /* normalized node path ("" = root) */
    char *prefix; /* key prefix: "" or "path/" */
    zarrc__array_meta meta;
    zarrc__pipeline *pipeline; /* NULL when the codecs cannot be used: see pipeline_err */
    zarrc__error_saved pipeline_err;
    zarrc__error_saved attrs_err; /* v2: why .zattrs could not be read (code 0 = it could);
                                     data access never depends on it */
    json_object *doc;          /* the stored metadata document */
    bool write_empty;
    zarrc__index_cache *index_cache; /* sharded arrays: decoded shard indexes */
};

/** The engine's view of an array. */
ZARRC_HIDDEN zarrc__io_array zarrc__array_io(const zarrc_array *a);
/** ZARRC_OK if the array's codecs are usable, else the saved reason (with context). */
ZARRC_HIDDEN int zarrc__array_need_pipeline(const zarrc_array *a);

/** Normalize a node path: '\' → '/', strip leading/trailing '/', collapse runs of '/';
 *  "." or ".." segments are ZARRC_EINVAL. Result malloc'd ("" for the root). */
ZARRC_HIDDEN int zarrc__node_path(char **out, const char *path);
/** Key of `name` under node `path` ("zarr.json" at the root). malloc'd. */
ZARRC_HIDDEN char *zarrc__node_key(const char *path, const char *name);
/** Read and parse a JSON document; ZARRC_ENOTFOUND (without a message) if the key is missing. */
ZARRC_HIDDEN int zarrc__node_read_json(json_object **out, zarrc_store *s, const char *key);
/** Serialize and store a JSON document (pretty, trailing newline). */
ZARRC_HIDDEN int zarrc__node_write_json(zarrc_store *s, const char *key, json_object *doc);
/** What is at `path`: kind and format, or ZARRC_ENOTFOUND. `doc` (optional) receives the
 *  parsed metadata document (v3 zarr.json, v2 .zarray or .zgroup). */
ZARRC_HIDDEN int zarrc__node_find(zarrc_node_kind *kind, int *format, json_object **doc,
                                  zarrc_store *s, const char *path);
/** Create missing ancestor groups of `path` (excluding path itself) in `format`; an ancestor
 *  that is an array is ZARRC_ECONFLICT. */
ZARRC_HIDDEN int zarrc__node_make_parents(zarrc_store *s, const char *path, int format);
/** Hand one child to a listing callback: for arrays, shape and data type come from its metadata
 *  document `doc` (parsing may take references in it: pass a private copy of a shared one).
 *  `where` names the child in errors. */
ZARRC_HIDDEN int zarrc__child_report(const char *name, const char *where, zarrc_node_kind kind, int format,
                                     const json_object *doc, zarrc_child_cb cb, void *ctx);
/** Erase every key of the node at `path` (everything in the store for the root). */
ZARRC_HIDDEN int zarrc__node_erase(zarrc_store *s, const char *path);
/** Store a group document at `path` (v3 zarr.json or v2 .zgroup + .zattrs). */
ZARRC_HIDDEN int zarrc__group_write(zarrc_store *s, const char *path, int format, const json_object *attrs);

#endif
