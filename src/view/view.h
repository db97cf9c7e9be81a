/*
 * view.h — virtual arrays (views): a tensorstore-style `stack` of layers, each placed in the
 * view's index domain by an index transform. A view is an ordinary zarrc_array handle whose
 * `view` member is set; the node layer hands reads, writes and frees to this module.
 */
#ifndef ZARRC_VIEW_H
#define ZARRC_VIEW_H

#include "../node/node.h"

typedef struct zarrc__view zarrc__view;

/** The member of a stored view's zarr.json that carries the spec:
 *  "zarrc_view": {"must_understand": true, "spec": {...}}. */
#define ZARRC__VIEW_MEMBER "zarrc_view"
/** How deep views may nest (inline stacks and stored views together). */
#define ZARRC__VIEW_MAX_DEPTH 32

/** The chain of stored views being opened (for cycle detection): "url|path" strings. */
typedef struct zarrc__view_chain {
    size_t n;
    char **items;
} zarrc__view_chain;

/** Open the stored view at (store, path) whose zarr.json is `doc` (borrowed); `chain` lists
 *  the stored views that lead here. */
ZARRC_HIDDEN int zarrc__view_open_stored(zarrc_array **out, zarrc_store *store, const char *path,
                                         const json_object *doc, const zarrc__view_chain *chain, unsigned flags);
/** Reads/writes of a view handle (same conventions as zarrc_array_read/write). */
ZARRC_HIDDEN int zarrc__view_read(zarrc_array *a, const int64_t *start, const int64_t *count, const int64_t *step,
                                  void *out, size_t out_size);
ZARRC_HIDDEN int zarrc__view_write(zarrc_array *a, const int64_t *start, const int64_t *count, const int64_t *step,
                                   const void *in, size_t in_size);
ZARRC_HIDDEN void zarrc__view_free(zarrc__view *v);
/** The view's spec as JSON text (new reference). */
ZARRC_HIDDEN json_object *zarrc__view_spec(const zarrc__view *v);

/** (array.c) Open an array or stored view at a normalized path, continuing `chain`. */
ZARRC_HIDDEN int zarrc__array_open_chain(zarrc_array **out, zarrc_store *store, const char *path,
                                         const zarrc__view_chain *chain, unsigned flags);

#endif
