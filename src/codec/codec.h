/*
 * codec.h — the codec registry and the codec pipeline: one model for both formats.
 *
 * A pipeline is the v3 codec list: array→array codecs, exactly one array→bytes codec, then
 * bytes→bytes codecs. A v2 array's order + filters + dtype byte order + compressor is parsed
 * into the same list (order F = transpose [n-1..0]; array filters before the array→bytes codec;
 * the dtype's byte order is the `bytes` codec; byte filters and the compressor after it), and
 * emitted back from it when the pipeline can be expressed in v2.
 */
#ifndef ZARRC_CODEC_H
#define ZARRC_CODEC_H

#include "../core/core.h"
#include "../dtype/dtype.h"

/* ---- registry ---- */

/** Find a codec type by its v3 name (name, alias, or "numcodecs.<v2 id>"); NULL if unknown. */
ZARRC_HIDDEN const zarrc_codec_type *zarrc__codec_find_v3(const char *name);
/** Why a codec zarrc knows of is not supported (pcodec, gdeflate, zfp, ...); NULL for others. */
ZARRC_HIDDEN const char *zarrc__codec_unsupported_reason(const char *name);
/** Find a codec type by its v2 (numcodecs) id; NULL if unknown. */
ZARRC_HIDDEN const zarrc_codec_type *zarrc__codec_find_v2(const char *id);

/* ---- the per-chunk limit (zarrc_set_max_chunk_bytes) ---- */

/** zarrc_get_max_chunk_bytes() as a size_t. */
ZARRC_HIDDEN size_t zarrc__max_chunk_bytes(void);
/** ZARRC_ECORRUPT: a decoder's output would pass `limit` (call->max_size when the decoded
 *  size is unknown); the message names the limit and, when it is the per-chunk limit, how to
 *  raise it. */
ZARRC_HIDDEN int zarrc__codec_limit_error(size_t limit);

/* ---- one codec instance ---- */

typedef struct zarrc__codec {
    const zarrc_codec_type *type;
    void *state;
    zarrc_repr in;  /**< decoded-side array representation (bytes→bytes: last array repr) */
    zarrc_repr out; /**< encoded-side array representation (array→array only) */
} zarrc__codec;

/** Create a codec instance from its configuration (`config` in `format` spelling: the whole
 *  numcodecs object for 2, the "configuration" object or NULL for 3). `input` is the
 *  decoded-side representation. Errors are prefixed with "codec 'name': ". */
ZARRC_HIDDEN int zarrc__codec_init(zarrc__codec *c, const zarrc_codec_type *type,
                                   const json_object *config, int format, const zarrc_repr *input,
                                   int big_endian);
ZARRC_HIDDEN void zarrc__codec_fini(zarrc__codec *c);
/** The codec's JSON in `format` spelling ({"id":..} or {"name":..,"configuration":..}). */
ZARRC_HIDDEN int zarrc__codec_to_json(json_object **out, const zarrc__codec *c, int format);
/** Encode / decode through this one codec (out->size reset to 0 first). A decode produces
 *  exactly `decoded_size` bytes if that is not 0, and never more than `max_size` (0: the
 *  decoded size if known, else the per-chunk limit). */
ZARRC_HIDDEN int zarrc__codec_encode(const zarrc__codec *c, const uint8_t *in, size_t n, zarrc_buf *out);
ZARRC_HIDDEN int zarrc__codec_decode(const zarrc__codec *c, const uint8_t *in, size_t n,
                                     size_t decoded_size, size_t max_size, zarrc_buf *out);

/* ---- pipelines ---- */

typedef struct zarrc__pipeline {
    size_t n;
    zarrc__codec *codecs;
    size_t a2b;            /**< index of the array→bytes codec */
    zarrc_repr chunk;      /**< decoded representation of a chunk: chunk shape + array dtype */
    bool identity_layout;  /**< no array→array codec: the a2b codec sees the chunk as is */
    size_t fixed_size;     /**< bytes `bytes` encodes a chunk to; 0 for vlen types and other a2b codecs */
    bool bytes_only;       /**< the pipeline is just `bytes` ... */
    bool bytes_big_endian; /**< ... in this byte order */
    bool a2b_noop;         /**< the array→bytes codec is `bytes` in native order: a no-op the
                                pipeline skips (compressors work on the array's bytes) */
    bool passthrough;      /**< stored bytes are the chunk's bytes (bytes only, native order) */
    bool v2_no_compressor; /**< v2 spelling: every bytes→bytes codec is a filter (the user's
                                or the stored document's "compressor": null) */
    bool validate;         /**< elements go through the user type's validate hook on encode and
                                decode (variable-length user types; not for a sharding codec,
                                whose inner pipeline validates) */
} zarrc__pipeline;

/** Parse a v3 "codecs" list for chunks of representation `chunk`. Unknown codecs are
 *  ZARRC_EUNSUPPORTED naming the codec; codecs with must_understand:false are skipped. */
ZARRC_HIDDEN int zarrc__pipeline_from_v3(zarrc__pipeline **out, const json_object *codecs,
                                         const zarrc_repr *chunk);
/** Parse a v2 order/filters/compressor triple (chunk->dtype.big_endian = dtype byte order). */
ZARRC_HIDDEN int zarrc__pipeline_from_v2(zarrc__pipeline **out, const json_object *filters,
                                         const json_object *compressor, char order,
                                         const zarrc_repr *chunk);
/** A codec list given by a user in either spelling (v2 objects with "id" and v3 objects or
 *  names may be mixed) for a chunk; `order` 'F' prepends a reversing transpose. */
ZARRC_HIDDEN int zarrc__pipeline_from_any(zarrc__pipeline **out, const json_object *codecs,
                                          char order, const zarrc_repr *chunk);
ZARRC_HIDDEN void zarrc__pipeline_free(zarrc__pipeline *p);
/** v3 codecs list. */
ZARRC_HIDDEN int zarrc__pipeline_to_v3(json_object **out, const zarrc__pipeline *p);
/** v2 spelling: filters (list or NULL), compressor (object or NULL), order, dtype byte order.
 *  ZARRC_EUNSUPPORTED with the reason when v2 cannot express the pipeline. */
ZARRC_HIDDEN int zarrc__pipeline_to_v2(const zarrc__pipeline *p, json_object **filters,
                                       json_object **compressor, char *order, bool *big_endian);

/** Per-thread reusable scratch buffers for pipeline runs. */
typedef struct zarrc__scratch {
    zarrc_buf a, b;
} zarrc__scratch;
ZARRC_HIDDEN void zarrc__scratch_release(zarrc__scratch *s);

/** Encode one chunk (decoded representation `p->chunk`, contiguous C order) into `out`.
 *  `*result` points at the encoded bytes: out->data, or the input when no codec changes it. */
ZARRC_HIDDEN int zarrc__pipeline_encode(const zarrc__pipeline *p, const uint8_t *chunk, size_t size,
                                        zarrc__scratch *s, zarrc_buf *out);
/** Decode one stored chunk into `out` (exactly the chunk's bytes; `out` may be a borrowed
 *  destination). For vlen types, the vrefs in `out` point into `keep`, which the caller
 *  releases after use. Size mismatches are ZARRC_ECORRUPT. */
ZARRC_HIDDEN int zarrc__pipeline_decode(const zarrc__pipeline *p, const uint8_t *in, size_t n,
                                        zarrc__scratch *s, zarrc_buf *out, zarrc_buf *keep);

/** Decoded chunks of this pipeline can be produced in pieces (native `bytes` + one
 *  bytes→bytes codec with decode_stream, no array→array codec). */
ZARRC_HIDDEN bool zarrc__pipeline_can_stream(const zarrc__pipeline *p);
/** Decode a stored chunk as a sequence of pieces of the chunk's bytes (C order) handed to
 *  `sink`; see zarrc_codec_type.decode_stream. */
ZARRC_HIDDEN int zarrc__pipeline_decode_stream(const zarrc__pipeline *p, const uint8_t *in, size_t n,
                                               int (*sink)(void *ctx, const uint8_t *piece, size_t len),
                                               void *ctx);

/** True if the pipeline is just the `bytes` codec (then *big_endian is its byte order). */
ZARRC_HIDDEN bool zarrc__pipeline_bytes_only(const zarrc__pipeline *p, bool *big_endian);

/** True if every element of a contiguous buffer of `nelem` elements of representation `r`
 *  equals its fill value (bitwise; variable-length items by content). */
ZARRC_HIDDEN bool zarrc__repr_is_fill(const zarrc_repr *r, const uint8_t *data, size_t nelem);

/* ---- variable-length decoders that make new element bytes (codec_vlen.c) ---- */

/** json2, msgpack2, vlen-array, zarrs.vlen and zarrs.optional (on a variable-length type) decode
 *  into element bytes of their own: their output holds the vrefs (out->size bytes) followed,
 *  beyond out->size, by the bytes those vrefs point into. The pipeline decodes them into its
 *  `keep` buffer when the codec's input type is variable-length. */
ZARRC_HIDDEN bool zarrc__codec_decodes_owned(const zarrc_codec_type *t);

/** The element type of a vlen-array codec on an object array (false for other codecs). */
ZARRC_HIDDEN bool zarrc__codec_object_item(const zarrc__codec *c, zarrc_dtype_info *item);

/** Builder of such an output: items appended one after another, at most `max` bytes in all
 *  (vrefs included; ZARRC_ECORRUPT past it). */
typedef struct zarrc__vitems {
    zarrc_buf data;  /**< element bytes */
    uint64_t *ends;  /**< end offset in data of each finished item */
    size_t n, count, max;
} zarrc__vitems;
ZARRC_HIDDEN int zarrc__vitems_init(zarrc__vitems *v, size_t count, size_t max);
/** Append bytes to the current item. */
ZARRC_HIDDEN int zarrc__vitems_append(zarrc__vitems *v, const void *p, size_t len);
/** Finish the current item (ZARRC_ECORRUPT when there are already `count`). */
ZARRC_HIDDEN int zarrc__vitems_next(zarrc__vitems *v);
/** All `count` items done: write vrefs + bytes into `out` (ZARRC_ECORRUPT if fewer). */
ZARRC_HIDDEN int zarrc__vitems_finish(zarrc__vitems *v, zarrc_buf *out);
ZARRC_HIDDEN void zarrc__vitems_free(zarrc__vitems *v);

/* ---- sharding (codec_sharding.c) ---- */

/** A parsed sharding_indexed configuration. Inner chunk i (C order over per_shard) of a shard
 *  is described by index entries[2i] (offset) and entries[2i+1] (nbytes); both 2^64-1 = empty. */
typedef struct zarrc__shard_spec {
    int ndim;
    int64_t shard[ZARRC_MAX_DIMS];     /* shard shape */
    int64_t inner[ZARRC_MAX_DIMS];     /* inner chunk shape */
    int64_t per_shard[ZARRC_MAX_DIMS]; /* inner chunks per shard along each dimension */
    size_t n_inner;
    zarrc__pipeline *inner_codecs;
    zarrc__pipeline *index_codecs;
    bool index_at_end;
    size_t index_size;                 /* encoded index bytes */
} zarrc__shard_spec;

#define ZARRC_SHARD_EMPTY UINT64_MAX

/** The sharding configuration when `p` is exactly [sharding_indexed] (the engine's fast path),
 *  else NULL. */
ZARRC_HIDDEN const zarrc__shard_spec *zarrc__pipeline_shard_spec(const zarrc__pipeline *p);
/** Decode and validate an encoded index into entries (2 * n_inner values). `shard_size` is
 *  the size of the whole shard value if known (0 otherwise), for bounds checks. */
ZARRC_HIDDEN int zarrc__shard_index_decode(const zarrc__shard_spec *s, const uint8_t *bytes, size_t n,
                                           uint64_t shard_size, uint64_t *entries);
/** Lay out a shard of encoded inner chunks (parts[i].ptr NULL = empty) without copying them:
 *  inner chunks in C order, index at the configured end. Sets entries (2 * n_inner) to the
 *  new index, encodes it into *index (empty on entry), and lists the shard's bytes in order as
 *  *npieces pieces (`pieces` has room for n_inner + 1) pointing into parts and *index. */
ZARRC_HIDDEN int zarrc__shard_layout(const zarrc__shard_spec *s, const zarrc_vref *parts, uint64_t *entries,
                                     zarrc_buf *index, zarrc_vref *pieces, size_t *npieces);
/** zarrc__shard_layout, joined into one value in out. */
ZARRC_HIDDEN int zarrc__shard_assemble(const zarrc__shard_spec *s, const zarrc_vref *parts, zarrc_buf *out,
                                       uint64_t *entries);
/** Describe inner chunk i as "(a, b, c)" into buf. */
ZARRC_HIDDEN void zarrc__shard_inner_name(const zarrc__shard_spec *s, size_t i, char *buf, size_t n);

#endif
