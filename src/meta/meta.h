/*
 * meta.h — array and group metadata: parse a stored document into a validated struct and emit
 * documents in either format. Codec lists stay JSON here; the codec layer turns them into a
 * pipeline (meta does not depend on codecs).
 */
#ifndef ZARRC_META_H
#define ZARRC_META_H

#include "../core/core.h"
#include "../dtype/dtype.h"

/** A run of `count` equal chunk edges of `size` along one dimension of a rectilinear grid,
 *  starting at chunk `chunk0` and array index `index0`. */
typedef struct zarrc__edge_run {
    int64_t size, count, chunk0, index0;
} zarrc__edge_run;

typedef struct zarrc__array_meta {
    int format; /* 2 or 3 */
    int ndim;
    int64_t shape[ZARRC_MAX_DIMS];
    int64_t chunks[ZARRC_MAX_DIMS];
    zarrc_dtype_info dtype;
    zarrc__fill fill;
    zarrc_vref fill_ref;    /* variable-length types: the fill element as a vref into fill */
    bool key_c_prefix;      /* v3 "default" chunk key encoding ("c" + sep + indices) */
    char separator;         /* '/' or '.' */
    json_object *codecs;    /* v3: the "codecs" list (owned) */
    json_object *filters;   /* v2: filters list or NULL (owned) */
    json_object *compressor;/* v2: compressor object or NULL (owned) */
    char order;             /* v2: 'C' or 'F' */
    json_object *attributes;      /* object (owned, never NULL after parse) */
    json_object *dimension_names; /* list or NULL (owned) */
    json_object *extra;     /* v3 members kept verbatim (must_understand:false ones), or NULL */
    /* v3 "rectilinear" chunk grid: per dimension the runs of its explicit edge list (maximal
     * runs, at most one per JSON element: bounded by the document), or NULL for a dimension
     * given as one bare edge (regular along it). chunks[d] is then the largest edge of d
     * (buffer and size checks). The runs are owned by the parsed metadata when owns_runs. */
    bool rectilinear;
    bool owns_runs;
    zarrc__edge_run *runs[ZARRC_MAX_DIMS];
    size_t nruns[ZARRC_MAX_DIMS];
    /* Added to chunk coordinates when keys are built: the engine runs a rectilinear region as
     * regular blocks whose chunk coordinates start at a run's first chunk. 0 otherwise. */
    int64_t chunk_origin[ZARRC_MAX_DIMS];
} zarrc__array_meta;

/** The sum of the edges along rectilinear dimension d (runs[d] != NULL). */
ZARRC_HIDDEN int64_t zarrc__meta_edge_sum(const zarrc__array_meta *m, int d);
/** The chunk_shapes JSON of a rectilinear grid (bare ints for regular dimensions; explicit
 *  lists RLE-compressed as zarr-python writes them: [v, n] for runs of two or more, bare
 *  singletons, the plain list when no run repeats). */
/* Make m's grid the rectilinear grid of `chunk_shapes` (the extension's JSON list; m->ndim and
 * m->shape set): m owns the runs (zarrc__meta_clear frees them); chunks = the largest edges. */
ZARRC_HIDDEN int zarrc__meta_set_rectilinear(zarrc__array_meta *m, const json_object *chunk_shapes);
ZARRC_HIDDEN json_object *zarrc__meta_grid_json(const zarrc__array_meta *m);
/** Append edges to rectilinear dimension d of a metadata that owns its runs so that the edge
 *  sum reaches `extent` (one new edge of extent - sum; nothing when the sum already covers
 *  it). ZARRC_ENOMEM. */
ZARRC_HIDDEN int zarrc__meta_grid_grow(zarrc__array_meta *m, int d, int64_t extent);

/** A chunk's byte size (product of the chunk shape times the in-memory element size) must be
 *  representable with room to spare (at most SIZE_MAX / 4): metadata and create options can
 *  declare absurd chunk shapes. ZARRC_EINVAL otherwise. The parsers check it; so must anyone
 *  building a codec pipeline from a chunk shape that was not parsed. */
ZARRC_HIDDEN int zarrc__meta_check_chunk_size(const zarrc__array_meta *m);

/** Parse a v3 zarr.json array document (already parsed JSON). `where` names the node in errors. */
ZARRC_HIDDEN int zarrc__meta_parse_v3(zarrc__array_meta *m, const json_object *doc);
/** Parse a v2 .zarray document; `attrs` is the .zattrs object or NULL. */
ZARRC_HIDDEN int zarrc__meta_parse_v2(zarrc__array_meta *m, const json_object *zarray, const json_object *attrs);
ZARRC_HIDDEN void zarrc__meta_clear(zarrc__array_meta *m);
/** One fill element in array representation (native order; a zarrc_vref for variable-length
 *  types), or NULL for zeros (v2 null fill). Valid while `m` is. */
ZARRC_HIDDEN const void *zarrc__meta_fill_element(zarrc__array_meta *m);

/** The fill element of a variable-length type as a vref (valid while `m` is): the fill's
 *  bytes; for object arrays "null" (JSON elements, null fill) or empty (typed arrays). */
ZARRC_HIDDEN zarrc_vref zarrc__meta_fill_vref(const zarrc__array_meta *m);

/** v3 document: codecs list given (the pipeline's v3 spelling); takes ownership of `codecs`. */
ZARRC_HIDDEN json_object *zarrc__meta_emit_v3(const zarrc__array_meta *m, json_object *codecs);
/** v2 .zarray document (without attributes) from the pipeline's v2 spelling (ownership of
 *  filters/compressor taken); `big_endian` is the dtype byte order. */
ZARRC_HIDDEN json_object *zarrc__meta_emit_v2(const zarrc__array_meta *m, json_object *filters,
                                              json_object *compressor, char order, bool big_endian);

/** Validate a v3 group document; ZARRC_EUNSUPPORTED for unknown required members. */
ZARRC_HIDDEN int zarrc__meta_check_group_v3(const json_object *doc);

/** Bytes a chunk key relative to the array prefix can take, with its NUL (each coordinate is
 *  at most 20 digits and a sign, plus a separator; "c" or "0"). */
#define ZARRC_CHUNK_KEY_MAX (24 * ZARRC_MAX_DIMS + 4)

/** Chunk key (relative to the array prefix) for chunk coordinates `idx`, into buf (n >=
 *  ZARRC_CHUNK_KEY_MAX bytes). */
ZARRC_HIDDEN size_t zarrc__meta_chunk_key(const zarrc__array_meta *m, const int64_t *idx, char *buf, size_t n);

/** The store key of chunk `idx`: `prefix` (the array's key prefix, "" or "path/", of any
 *  length) followed by the chunk key, NUL-terminated, replacing the content of `key` (grown
 *  as needed, so a buffer reused across chunks stops allocating). Returns the key, or NULL
 *  with ZARRC_ENOMEM set. */
ZARRC_HIDDEN const char *zarrc__meta_chunk_store_key(zarrc_buf *key, const zarrc__array_meta *m, const char *prefix,
                                                     const int64_t *idx);

#endif
