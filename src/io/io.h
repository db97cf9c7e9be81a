/*
 * io.h — the I/O engine: a region read or write becomes one task per touched chunk, run on
 * the shared pool. A fully covered chunk whose layout matches the destination is decoded
 * straight into the caller's buffer; others are decoded into per-thread scratch and copied.
 */
#ifndef ZARRC_IO_H
#define ZARRC_IO_H

#include "../codec/codec.h"
#include "../meta/meta.h"
#include "../store/store.h"

/** Decoded shard indexes of one array, bounded in bytes (LRU). Thread-safe. */
typedef struct zarrc__index_cache zarrc__index_cache;
ZARRC_HIDDEN zarrc__index_cache *zarrc__index_cache_new(size_t max_bytes);
ZARRC_HIDDEN void zarrc__index_cache_free(zarrc__index_cache *c);
/** Copy a cached index (n uint64 values) out; false if not cached. */
/** A cached index, only if it was read from the shard's current `version` (NULL: never). */
ZARRC_HIDDEN bool zarrc__index_cache_get(zarrc__index_cache *c, const char *key, const char *version,
                                         uint64_t *entries, size_t n);
/** Remember an index read from the shard at `version` (taken before the read; NULL: not cached). */
ZARRC_HIDDEN void zarrc__index_cache_put(zarrc__index_cache *c, const char *key, const char *version,
                                         const uint64_t *entries, size_t n);
ZARRC_HIDDEN void zarrc__index_cache_drop(zarrc__index_cache *c, const char *key);

/** Codec pipelines of a rectilinear array, one per chunk shape met (bounded; built from the
 *  array's codecs for that shape). Thread-safe. */
typedef struct zarrc__pipe_cache zarrc__pipe_cache;
ZARRC_HIDDEN zarrc__pipe_cache *zarrc__pipe_cache_new(void);
ZARRC_HIDDEN void zarrc__pipe_cache_free(zarrc__pipe_cache *c);

/** What the engine needs to know about an array (owned by the node layer). */
typedef struct zarrc__io_array {
    zarrc_store *store;
    const char *prefix;   /* key prefix of the array: "" or "path/" */
    const char *name;     /* for error messages */
    const zarrc__array_meta *meta;
    const zarrc__pipeline *pipeline;
    bool write_empty;
    zarrc__index_cache *index_cache; /* sharded arrays; may be NULL */
    zarrc__pipe_cache *pipes;        /* rectilinear arrays: pipelines per chunk shape; may be NULL */
    /* Writes of regular grids, or NULL: chunks (shards) that start at or beyond own_from[d] in
     * some dimension d belong to this writer alone (the node layer holds the array's grow lock
     * and own_from is the published shape, extend.c): whole values are stored there without
     * the per-key lock. */
    const int64_t *own_from;
    /* Writes of regular grids, or NULL: the source box comes in pieces along dimension 0 — its
     * indices [k * piece_rows, (k + 1) * piece_rows) are at pieces[k], each laid out as that
     * part of the C-order box (the write's `in` is then only checked for its size). Every chunk
     * (shard) the write touches must lie inside one piece along dimension 0. */
    const uint8_t *const *pieces;
    int64_t piece_rows;
} zarrc__io_array;

ZARRC_HIDDEN int zarrc__io_read(const zarrc__io_array *a, const int64_t *start, const int64_t *count,
                                const int64_t *step, void *out, size_t out_size);
/** Read a box of a fixed-size, unsharded array into `out` laid out with byte strides
 *  `dstride` (any sign; out points at element [0,...,0]). */
ZARRC_HIDDEN int zarrc__io_read_strided(const zarrc__io_array *a, const int64_t *start, const int64_t *count,
                                        const int64_t *step, void *out, const int64_t *dstride);
ZARRC_HIDDEN int zarrc__io_write(const zarrc__io_array *a, const int64_t *start, const int64_t *count,
                                 const int64_t *step, const void *in, size_t in_size);

/* ---- chunk codecs without the store (io_codec.c; zarrc_array_chunk_* in zarrc.h) ---- */
/** Bytes of one decoded chunk; ZARRC_EUNSUPPORTED (rectilinear grid) or ZARRC_EDTYPE (vlen). */
ZARRC_HIDDEN int zarrc__io_chunk_size(const zarrc__io_array *a, size_t *nbytes);
/** Decode the stored bytes of the chunk at `coords` into `out` (exactly one chunk). */
ZARRC_HIDDEN int zarrc__io_chunk_decode(const zarrc__io_array *a, const int64_t *coords, const void *in, size_t n,
                                        void *out, size_t out_size);
/** Encode one chunk into a new malloc'd buffer; *data NULL when it is all fill and
 *  a->write_empty is false. */
ZARRC_HIDDEN int zarrc__io_chunk_encode(const zarrc__io_array *a, const int64_t *coords, const void *in,
                                        size_t in_size, void **data, size_t *size);
/** The chunk (in_size bytes, checked by the caller) equals the fill value. */
ZARRC_HIDDEN bool zarrc__io_chunk_is_fill(const zarrc__io_array *a, const void *in, size_t in_size);
/** Decode or encode a batch on the shared pool (zarrc_array_chunks_decode / _encode). */
ZARRC_HIDDEN int zarrc__io_chunks_run(const zarrc__io_array *a, zarrc_chunk_item *items, size_t n, bool encode);

#endif
