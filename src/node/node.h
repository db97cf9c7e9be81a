/*
 * node.h — shared helpers of the node layer: node paths and reading metadata documents.
 */
#ifndef ZARRC_NODE_H
#define ZARRC_NODE_H

#include <pthread.h>

#include "../io/io.h"

/** An open array (shared by the node layer's files). */
struct zarrc_array {
    zarrc_store *store;
    char *path;   /* normalized node path ("" = root) */
    const char *name; /* the node in messages: path, or the store URL for the root (borrowed) */
    char *prefix; /* key prefix: "" or "path/" */
    zarrc__array_meta meta;
    zarrc__pipeline *pipeline; /* NULL when the codecs cannot be used: see pipeline_err */
    zarrc__error_saved pipeline_err;
    zarrc__error_saved attrs_err; /* v2: why .zattrs could not be read (code 0 = it could);
                                     data access never depends on it */
    json_object *doc;          /* the stored metadata document */
    bool write_empty;
    zarrc__index_cache *index_cache; /* sharded arrays: decoded shard indexes */
    json_object *pending;      /* ZARRC_CREATE_PENDING: the pending record until committed */
    bool resumed;              /* created with ZARRC_RESUME over an earlier attempt */
    struct zarrc__view *view;  /* a virtual array (src/view/): reads and writes go there */
    pthread_mutex_t shape_lock; /* guards meta.shape and doc while resize/extend/append refresh
                                   them (extend.c); reads and writes take a snapshot under it */
    zarrc__pipe_cache *pipes;   /* rectilinear grids: pipelines per chunk shape (NULL otherwise) */
    zarrc__edge_run **retired;  /* rectilinear grids: edge runs replaced by a refresh, freed with
                                   the handle (snapshots taken before may still point at them) */
    size_t nretired;
};

/** zarrc's internal files: basenames starting with this (temp files, locks, pending records). */
#define ZARRC__INTERNAL_MARK ".zarrc-"
/** The record of an array created with ZARRC_CREATE_PENDING, next to where its metadata goes:
 *  {"zarrc_pending": 1, "zarr_format": F, "metadata": {...}, "attributes": {...} (v2),
 *   "source": {...} (set by a copy)}. */
#define ZARRC__PENDING_NAME ".zarrc-pending.json"

/** The engine's view of an array. */
ZARRC_HIDDEN zarrc__io_array zarrc__array_io(const zarrc_array *a);
/** A copy of the handle's metadata taken under its shape lock (shallow: the JSON members stay
 *  the handle's; only the shape ever changes after opening). */
ZARRC_HIDDEN void zarrc__array_snapshot(zarrc_array *a, zarrc__array_meta *m);
/** A grow session (extend.c): the array's grow lock held over several blocks stored beyond the
 *  published shape, which grows only on zarrc__grow_session_publish (data first, then shape).
 *  begin sets *out to NULL with ZARRC_OK when the store has no per-key locks (callers then use
 *  zarrc_array_write_at). Blocks of one session must not share a chunk. end releases the lock;
 *  blocks not yet published are left to the next grower's sweep. One thread per session. */
typedef struct zarrc__grow_session zarrc__grow_session;
ZARRC_HIDDEN int zarrc__grow_session_begin(zarrc_array *a, zarrc__grow_session **out);
ZARRC_HIDDEN int zarrc__grow_session_write(zarrc__grow_session *gs, const int64_t *start, const int64_t *shape,
                                           const void *data, size_t size);
/** As zarrc__grow_session_write, the block's source in pieces along dimension 0 (regular grids):
 *  its indices [k * piece_rows, (k + 1) * piece_rows) at pieces[k] (zarrc__io_array.pieces);
 *  start[0] and piece_rows must be multiples of the chunk (shard) extent along dimension 0, so
 *  that every chunk lies inside one piece, and the type fixed-size (else ZARRC_EINVAL). */
ZARRC_HIDDEN int zarrc__grow_session_write_pieces(zarrc__grow_session *gs, const int64_t *start, const int64_t *shape,
                                                  const uint8_t *const *pieces, int64_t piece_rows, size_t size);
/** zarrc_array_write_at(..., ZARRC_EXTEND) of the block [start, start + shape) (every dimension
 *  given), its source in pieces as for zarrc__grow_session_write_pieces (same conditions). */
ZARRC_HIDDEN int zarrc__array_write_at_pieces(zarrc_array *a, const int64_t *start, const int64_t *shape,
                                              const uint8_t *const *pieces, int64_t piece_rows, size_t size);
ZARRC_HIDDEN int zarrc__grow_session_publish(zarrc__grow_session *gs);
ZARRC_HIDDEN void zarrc__grow_session_end(zarrc__grow_session *gs);
/** ZARRC_OK if the array's codecs are usable, else the saved reason (with context). */
ZARRC_HIDDEN int zarrc__array_need_pipeline(const zarrc_array *a);

/** Normalize a node path: '\' → '/', strip leading/trailing '/', collapse runs of '/';
 *  "." or ".." segments are ZARRC_EINVAL. Result malloc'd ("" for the root). */
ZARRC_HIDDEN int zarrc__node_path(char **out, const char *path);
/** Key of `name` under node `path` ("zarr.json" at the root). malloc'd. */
ZARRC_HIDDEN char *zarrc__node_key(const char *path, const char *name);
/** Read and parse a JSON document; ZARRC_ENOTFOUND (without a message) if the key is missing. */
ZARRC_HIDDEN int zarrc__node_read_json(json_object **out, zarrc_store *s, const char *key);
/** A metadata document's stored text (pretty, trailing newline) into `out`. */
ZARRC_HIDDEN int zarrc__node_doc_text(zarrc_buf *out, json_object *doc);
/** Serialize and store a JSON document (pretty, trailing newline), durably. */
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
/** The node at `path` as messages name it: the path, or for the root the store's URL (what
 *  the user opened). Borrowed from its arguments. */
ZARRC_HIDDEN const char *zarrc__node_display(const zarrc_store *s, const char *path);
/** ZARRC_EINVAL if a segment of `path` is a reserved name in `format` (v3: "__..."). */
ZARRC_HIDDEN int zarrc__node_check_name(const char *path, int format);
/** ZARRC_ENOTFOUND "no <what> at '<node>'", saying so when an incomplete (pending) array is there. */
ZARRC_HIDDEN int zarrc__node_not_found(zarrc_store *s, const char *path, const char *what);
/** Read the pending record at `path` (ZARRC_ENOTFOUND without a message if there is none;
 *  ZARRC_ECORRUPT if it is malformed). */
ZARRC_HIDDEN int zarrc__pending_read(json_object **rec, zarrc_store *s, const char *path);

/** zarrc_node_overlap for normalized paths. */
ZARRC_HIDDEN int zarrc__node_relation(int *relation, zarrc_store *a, const char *pa, zarrc_store *b, const char *pb);

/* ---- what belongs to a node (erase.c) ---- */

/** One of the metadata document names (zarr.json, .zarray, .zgroup, .zattrs, .zmetadata). */
ZARRC_HIDDEN bool zarrc__node_meta_name(const char *s, size_t len);
/** Whether a key's basename is one of zarrc's internal files (ZARRC__INTERNAL_MARK). */
ZARRC_HIDDEN bool zarrc__node_internal_key(const char *key);
/** Whether `name` (len bytes) is reserved in `format`: v3 names starting with "__". */
ZARRC_HIDDEN bool zarrc__node_reserved_name(int format, const char *name, size_t len);
/** Whether `key` (relative to the array's prefix) is a chunk key of the array's chunk key
 *  encoding; the chunk coordinates go to idx (may be NULL). Only canonical decimals parse. */
ZARRC_HIDDEN bool zarrc__node_parse_chunk_key(const zarrc__array_meta *m, const char *key, int64_t *idx);

typedef struct zarrc__erase_plan zarrc__erase_plan;
/** Plan the removal of the node at `path` with everything that belongs to it (the whole store
 *  for the root): list and classify its keys. Keys that belong to no node fail the plan with
 *  ZARRC_ECONFLICT naming the first few, unless flags has ZARRC_FORCE. `chunks_of` (may be
 *  NULL): when `path` is not a node, the metadata of the array about to replace it, whose
 *  chunk keys then count as belonging. Nothing is modified. */
ZARRC_HIDDEN int zarrc__erase_plan_make(zarrc__erase_plan **out, zarrc_store *s, const char *path, unsigned flags,
                                        const zarrc__array_meta *chunks_of);
/** Carry a plan out: data keys first, metadata last (the node's main document at the very end),
 *  then the prefix (internal files listings hide, empty directories). */
ZARRC_HIDDEN int zarrc__erase_plan_run(zarrc__erase_plan *p);
ZARRC_HIDDEN void zarrc__erase_plan_free(zarrc__erase_plan *p);
/** Plan and run. */
ZARRC_HIDDEN int zarrc__node_erase(zarrc_store *s, const char *path, unsigned flags,
                                   const zarrc__array_meta *chunks_of);
/** Store the documents of a v2 node at `path`: `.zattrs` (when `attrs` is a non-empty object),
 *  then `name` (".zarray" / ".zgroup"), the document that makes the node exist, last. Without
 *  attributes a `.zattrs` left there (by an interrupted write) is erased first, so the new
 *  node cannot inherit it; when writing `name` fails, the `.zattrs` just written is erased
 *  again (best effort), so that a failed creation leaves no attributes without a node. */
ZARRC_HIDDEN int zarrc__node_write_v2(zarrc_store *s, const char *path, const char *name, json_object *doc,
                                      const json_object *attrs);
/** Store a group document at `path` (v3 zarr.json or v2 .zgroup + .zattrs). */
ZARRC_HIDDEN int zarrc__group_write(zarrc_store *s, const char *path, int format, const json_object *attrs);

#endif
