/*
 * zarrc_plugin.h — the extension interface of libzarrc: codecs and stores.
 *
 * Built-in codecs and stores register through exactly these structs. A plugin fills a static
 * zarrc_codec_type / zarrc_store_type and calls zarrc_codec_register / zarrc_store_register
 * once (before the first array that uses it is opened).
 *
 * Data handed to codecs:
 *  - array representations are contiguous, C order, native byte order; a variable-length
 *    element is a zarrc_vref (pointer + length) whose bytes live elsewhere;
 *  - byte representations are plain byte strings.
 *
 * This header is C99 and C++ clean.
 */
#ifndef ZARRC_PLUGIN_H
#define ZARRC_PLUGIN_H

#include <stdarg.h>
#include "zarrc.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest number of dimensions an array may have. */
#define ZARRC_MAX_DIMS 32

/* ------------------------------------------------------------------------------------------ */
/* Errors, buffers                                                                             */
/* ------------------------------------------------------------------------------------------ */

/** Raise an error in this thread: sets the last error to `code` with a printf-style message
 *  and returns `code`, so that `return zarrc_error_set(ZARRC_ECORRUPT, "...");` reads well. */
ZARRC_API int zarrc_error_set(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/** A growable byte buffer. `borrowed` buffers point at memory the buffer does not own (for
 *  example the caller's destination): they are never reallocated or freed. */
typedef struct zarrc_buf {
    uint8_t *data;
    size_t size;     /**< bytes in use */
    size_t capacity; /**< bytes available at data */
    int borrowed;
} zarrc_buf;

#define ZARRC_BUF_INIT { NULL, 0, 0, 0 }

/** Make room for at least `n` bytes (size is unchanged). A borrowed buffer that is too small
 *  fails with ZARRC_ECORRUPT ("more data than the destination holds"); otherwise ZARRC_ENOMEM
 *  on allocation failure. */
ZARRC_API int zarrc_buf_reserve(zarrc_buf *buf, size_t n);

/** Release an owned buffer's memory and reset it to empty. Accepts NULL. */
ZARRC_API void zarrc_buf_release(zarrc_buf *buf);

/** One variable-length element in an array representation (string or bytes). */
typedef struct zarrc_vref {
    const uint8_t *ptr;
    uint64_t len;
} zarrc_vref;

/* ------------------------------------------------------------------------------------------ */
/* JSON access for configurations (a thin, borrowed view of the library's JSON values)         */
/* ------------------------------------------------------------------------------------------ */

typedef struct zarrc_json zarrc_json;

typedef enum zarrc_json_type {
    ZARRC_JSON_NULL = 0, ZARRC_JSON_BOOL, ZARRC_JSON_INT, ZARRC_JSON_DOUBLE, ZARRC_JSON_STRING,
    ZARRC_JSON_ARRAY, ZARRC_JSON_OBJECT
} zarrc_json_type;

/** Type of a value (NULL counts as ZARRC_JSON_NULL). */
ZARRC_API zarrc_json_type zarrc_json_typeof(const zarrc_json *v);
/** Member `key` of an object (borrowed), or NULL if absent or `obj` is not an object. */
ZARRC_API const zarrc_json *zarrc_json_member(const zarrc_json *obj, const char *key);
/** Length of an array value (0 for anything else) and its element i (borrowed). */
ZARRC_API size_t zarrc_json_length(const zarrc_json *arr);
ZARRC_API const zarrc_json *zarrc_json_at(const zarrc_json *arr, size_t i);
/** Exact integer value; ZARRC_EINVAL if not an integer (integral doubles are accepted). */
ZARRC_API int zarrc_json_int(const zarrc_json *v, int64_t *out);
/** Numeric value as double (integers accepted); ZARRC_EINVAL otherwise. */
ZARRC_API int zarrc_json_double(const zarrc_json *v, double *out);
/** String value (borrowed) or NULL if not a string. */
ZARRC_API const char *zarrc_json_string(const zarrc_json *v);

/** Optional members of a configuration object: absent or null gives `dflt`; a member of the
 *  wrong type fails with ZARRC_EINVAL naming `key`. */
ZARRC_API int zarrc_json_opt_int(const zarrc_json *obj, const char *key, int64_t dflt, int64_t *out);
ZARRC_API int zarrc_json_opt_double(const zarrc_json *obj, const char *key, double dflt, double *out);
ZARRC_API int zarrc_json_opt_bool(const zarrc_json *obj, const char *key, int dflt, int *out);
ZARRC_API int zarrc_json_opt_string(const zarrc_json *obj, const char *key, const char *dflt,
                                    const char **out);

/** Builders for to_json hooks: set member `key` of the object `obj` (replacing it). */
ZARRC_API int zarrc_json_put_int(zarrc_json *obj, const char *key, int64_t v);
ZARRC_API int zarrc_json_put_uint(zarrc_json *obj, const char *key, uint64_t v);
ZARRC_API int zarrc_json_put_double(zarrc_json *obj, const char *key, double v);
ZARRC_API int zarrc_json_put_bool(zarrc_json *obj, const char *key, int v);
ZARRC_API int zarrc_json_put_string(zarrc_json *obj, const char *key, const char *v);
ZARRC_API int zarrc_json_put_null(zarrc_json *obj, const char *key);
/** Set member `key` to a deep copy of `v`. */
ZARRC_API int zarrc_json_put_copy(zarrc_json *obj, const char *key, const zarrc_json *v);

/* ------------------------------------------------------------------------------------------ */
/* Data types                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/** Parse a data type in either spelling: a v3 name ("int16", "r24", "string"), a v2 typestr
 *  ("<i2", ">f4", "|S7", "<U3", "<M8[10s]"), or a v3 JSON object text. ZARRC_EDTYPE if unknown. */
ZARRC_API int zarrc_dtype_parse(zarrc_dtype_info *out, const char *spelling);

/** The v2 typestr of a data type ("<i2"; byte order from big_endian) into buf (>= 32 bytes).
 *  ZARRC_EDTYPE for types v2 cannot express. */
ZARRC_API int zarrc_dtype_v2_string(char *buf, size_t bufsize, const zarrc_dtype_info *dt);

/** Bytes one element takes in an array representation: item_size, or sizeof(zarrc_vref) for
 *  variable-length types. */
ZARRC_API size_t zarrc_dtype_elem_size(const zarrc_dtype_info *dt);

/** IEEE binary16 conversions (round to nearest even). */
ZARRC_API double zarrc_half_to_double(uint16_t h);
ZARRC_API uint16_t zarrc_double_to_half(double d);

/** The 8-, 6- and 4-bit floating types of zarr-extensions (`type` is "float8_e4m3",
 *  "float8_e5m2", "float8_e3m4", "float8_e4m3fnuz", "float8_e4m3b11fnuz", "float8_e5m2fnuz",
 *  "float8_e8m0fnu", "float6_e2m3fn", "float6_e3m2fn", "float4_e2m1fn", or a "complex_" variant,
 *  meaning its component type). Elements are one byte each in memory: the raw code, low bits
 *  used. Thread-safe, no allocation; ZARRC_EDTYPE (with a message) for another type name.
 *  decode: the exact value of a code (upper bits beyond the width ignored). */
ZARRC_API int zarrc_small_float_decode(const char *type, uint8_t byte, double *value);
/** Round `value` to the nearest code (ties to even; float8_e8m0fnu ties up). Overflow gives
 *  infinity for types that have it, NaN for fnuz/e8m0 types, the largest value for float6/float4
 *  (the behaviour of ml_dtypes). ZARRC_EINVAL for NaN or an infinity on float6/float4. */
ZARRC_API int zarrc_small_float_encode(const char *type, double value, uint8_t *byte);
/** The shortest decimal text that encodes back to `byte` ("0.1", "-240.0", "1e-05"), or "NaN",
 *  "Infinity", "-Infinity", into buf (bufsize >= 32, else ZARRC_EINVAL). */
ZARRC_API int zarrc_small_float_format(const char *type, uint8_t byte, char *buf, size_t bufsize);

/* ---- user-defined data types ------------------------------------------------------------- */

/** A data type registered at run time (kind ZARRC_DTYPE_USER).
 *
 *  Fixed size (the default): elements are item_size bytes in memory (native order); on storage
 *  the default array->bytes codec (usually "bytes") applies the byte order to every
 *  `swap_width`-byte word.
 *
 *  Variable length (version 2, flags ZARRC_DTYPE_VARIABLE_LENGTH): every element is a byte
 *  string of any length, and in array representations a zarrc_vref, exactly as for the core
 *  "bytes" type: reads and writes exchange zarrc_vlen columns, and sharding, views, copies and
 *  appends treat the type like bytes. item_size is 0, the default array->bytes codec is
 *  "vlen-bytes" (numcodecs' vlen-bytes filter in v2), the fill hooks are vfill_from_json /
 *  vfill_to_json, and an optional `validate` hook checks every element written and read.
 *
 *  Each distinct configuration of a type is parsed once and kept until the process exits
 *  (zarrc_dtype_info.user points at it), so a zarrc_dtype_info stays a plain value. Hooks must
 *  be thread-safe (they run on the library's worker threads) and must not call back into array
 *  or store functions. A version-1 struct (without the members after fill_to_json) is still
 *  accepted and means a fixed-size type. */
typedef struct zarrc_dtype_type {
    unsigned version;             /**< ZARRC_DTYPE_TYPE_VERSION (1 or 2) */
    const char *name;             /**< v3 data_type name ("example.point3"); at most 31 bytes */
    const char *const *v2_names;  /**< NULL-terminated v2 "dtype" strings meaning this type (the
                                       first is written), or NULL: no v2 spelling */
    size_t item_size;             /**< bytes per element when parse_config is NULL (> 0); 0 for
                                       a variable-length type */
    size_t swap_width;            /**< byte-order unit: 1 (none), 2, 4 or 8; item_size must be a
                                       multiple of it. Variable length: 0 or 1 */
    const char *default_codec;    /**< v3 name of the array->bytes codec used when the metadata
                                       lists none (v2 arrays, or codecs without one); NULL =
                                       "bytes" (fixed size) or "vlen-bytes" (variable length) */
    /** Optional: parse the v3 "configuration" object (NULL when absent) into *state and set
     *  *item_size (variable length: leave it 0); reject a bad configuration with ZARRC_EDTYPE
     *  (zarrc_error_set). */
    int (*parse_config)(void **state, size_t *item_size, const zarrc_json *config);
    /** Optional (required with parse_config): write the configuration's members into the empty
     *  object `config` (the v3 spelling becomes {"name", "configuration"}). */
    int (*config_to_json)(const void *state, zarrc_json *config);
    /** Optional: release a state made by parse_config (never called for states in use). */
    void (*free_config)(void *state);
    /** Fixed size, required: decode a fill value (any JSON value; `format` 2 or 3) into
     *  item_size bytes at `elem`. A value the type cannot encode must fail with ZARRC_EDTYPE:
     *  array creation is then refused before anything is written. Unused (NULL) for
     *  variable-length types. */
    int (*fill_from_json)(const void *state, const zarrc_json *value, int format, void *elem);
    /** Fixed size, required: append the JSON text of the value at `elem` for `format` to `out`
     *  (e.g. "[1.5,0,2]"); it must decode back to the same bytes with fill_from_json. Unused
     *  (NULL) for variable-length types. */
    int (*fill_to_json)(const void *state, const void *elem, int format, zarrc_buf *out);

    /* ---- version 2 members: a version-1 struct ends above ---- */

    unsigned flags;               /**< ZARRC_DTYPE_VARIABLE_LENGTH, or 0 */
    /** Variable length, required: decode a fill value (any JSON value, never null: a null fill
     *  value is the empty element) into the element's bytes, appended to `out` (out->size is 0
     *  on entry). A value the type cannot encode must fail with ZARRC_EDTYPE: array creation
     *  is then refused before anything is written. */
    int (*vfill_from_json)(const void *state, const zarrc_json *value, int format, zarrc_buf *out);
    /** Variable length, required: append the JSON text of the element `bytes` (`len` bytes) for
     *  `format` to `out`; it must decode back to the same bytes with vfill_from_json. */
    int (*vfill_to_json)(const void *state, const uint8_t *bytes, size_t len, int format,
                         zarrc_buf *out);
    /** Variable length, optional: check one element's bytes. A malformed element fails with
     *  ZARRC_EDTYPE and a message (zarrc_error_set); the library adds the element's index in
     *  its chunk and the chunk's key. Called for every element of every chunk written (before
     *  anything of that chunk is stored), of every chunk read, and for the fill value. NULL:
     *  every byte string is an element. */
    int (*validate)(const void *state, const uint8_t *bytes, size_t len);
} zarrc_dtype_type;

#define ZARRC_DTYPE_TYPE_VERSION 2

/** zarrc_dtype_type.flags: elements are variable-length byte strings (zarrc_vref). */
#define ZARRC_DTYPE_VARIABLE_LENGTH 0x1u

/** Register a data type (the struct must outlive the library's use of it). Core names and
 *  the struct types cannot be replaced; a later registration of the same user name replaces
 *  the earlier one for arrays opened afterwards (the fixed/variable-length form must stay the
 *  same: ZARRC_EINVAL otherwise). Thread-safe. Errors: ZARRC_EINVAL (version, missing hooks,
 *  bad sizes, hooks of the other form, a core name), ZARRC_EUNSUPPORTED (item_size 0 without
 *  ZARRC_DTYPE_VARIABLE_LENGTH). */
ZARRC_API int zarrc_dtype_register(const zarrc_dtype_type *type);

/* ------------------------------------------------------------------------------------------ */
/* Codecs                                                                                      */
/* ------------------------------------------------------------------------------------------ */

typedef enum zarrc_codec_kind {
    ZARRC_CODEC_ARRAY_TO_ARRAY = 1,
    ZARRC_CODEC_ARRAY_TO_BYTES = 2,
    ZARRC_CODEC_BYTES_TO_BYTES = 3
} zarrc_codec_kind;

/** An array representation: data type, shape and fill value of one chunk at some pipeline
 *  stage. `fill` points at one element of this representation (native order; a zarrc_vref for
 *  variable-length types) or is NULL for all-zero bytes. It is borrowed and stays valid while
 *  the codec instance exists. Array→array codecs that change the data type reset it to NULL. */
typedef struct zarrc_repr {
    zarrc_dtype_info dtype;
    int ndim;
    int64_t shape[ZARRC_MAX_DIMS];
    const void *fill;
} zarrc_repr;

/** What a codec is told when it is created. */
typedef struct zarrc_codec_init {
    int format;              /**< spelling of `config`: 2 (numcodecs object incl. "id") or 3
                                  (the "configuration" object; may be NULL) */
    const zarrc_repr *input; /**< array→array / array→bytes: the decoded-side representation.
                                  bytes→bytes: the last array representation of the pipeline
                                  (e.g. for blosc's typesize); may be NULL when unknown */
    zarrc_repr *output;      /**< array→array only: the codec sets the encoded representation
                                  (pre-filled with a copy of *input) */
    int big_endian;          /**< array→bytes: byte order requested by the pipeline (v2 dtype)
                                  when the configuration does not say */
} zarrc_codec_init;

/** What a codec is told on each encode/decode call. */
typedef struct zarrc_codec_call {
    const zarrc_repr *decoded; /**< decoded-side array representation (NULL for bytes→bytes) */
    const zarrc_repr *encoded; /**< encoded-side array representation (array→array only) */
    size_t decoded_size;       /**< bytes→bytes decode: expected output size, 0 if unknown */
    size_t max_size;           /**< decode: the most output allowed (decoded_size when known,
                                    else the per-chunk limit, zarrc_get_max_chunk_bytes()).
                                    A decoder must stop with ZARRC_ECORRUPT as soon as its
                                    output would pass it, and must check sizes declared in
                                    its input's headers against it before allocating */
} zarrc_codec_call;

typedef struct zarrc_codec_type {
    unsigned version;           /**< ZARRC_CODEC_TYPE_VERSION */
    const char *name;           /**< v3 name ("zstd", "numcodecs.lz4", "bytes", ...) */
    const char *v2_id;          /**< numcodecs id, or NULL if the codec has no v2 spelling */
    const char *const *aliases; /**< NULL-terminated other v3 names, or NULL */
    zarrc_codec_kind kind;

    /** Parse and validate `config`; on success *state is the codec instance (may stay NULL). */
    int (*create)(void **state, const zarrc_json *config, const zarrc_codec_init *init);
    void (*destroy)(void *state);
    /** Write the configuration members (without "id"/"name") for `format` into the empty
     *  object `config`. ZARRC_EUNSUPPORTED if the format cannot express this instance. */
    int (*to_json)(const void *state, int format, zarrc_json *config);
    /** Append the encoded form of `in` to `out` (out->size is 0 on entry). */
    int (*encode)(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                  size_t in_size, zarrc_buf *out);
    /** Decode `in` into `out` (out->size is 0 on entry; out may be a borrowed destination of
     *  exactly the expected size). Corrupt input fails with ZARRC_ECORRUPT. For array→bytes
     *  codecs of variable-length types, the zarrc_vref elements may point into `in`, which
     *  the caller keeps alive. */
    int (*decode)(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                  size_t in_size, zarrc_buf *out);
    /** Optional, bytes→bytes: decode `in` as a sequence of pieces handed to `sink` in order
     *  (each piece is valid during that call only), so that callers can place decoded data
     *  while it is still in cache. The pieces must add up to call->decoded_size exactly
     *  (ZARRC_ECORRUPT otherwise); a non-zero return of `sink` stops and is returned. */
    int (*decode_stream)(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                         size_t in_size, int (*sink)(void *ctx, const uint8_t *piece, size_t len),
                         void *ctx);
} zarrc_codec_type;

#define ZARRC_CODEC_TYPE_VERSION 1

/** Register a codec type (the struct must outlive the library's use of it). A later
 *  registration of the same name replaces the earlier one. Thread-safe. */
ZARRC_API int zarrc_codec_register(const zarrc_codec_type *type);

/* ------------------------------------------------------------------------------------------ */
/* Stores                                                                                      */
/* ------------------------------------------------------------------------------------------ */

#define ZARRC_STORE_CAP_RANGE 0x1u     /**< efficient range reads */
#define ZARRC_STORE_CAP_LIST_DIR 0x2u  /**< efficient delimiter listing */
#define ZARRC_STORE_CAP_WRITE 0x4u     /**< supports modification */
#define ZARRC_STORE_CAP_SET_IF 0x8u    /**< conditional set */
#define ZARRC_STORE_CAP_LATENCY 0x10u  /**< requests have latency (remote stores): the library
                                            keeps up to zarrc_get_io_concurrency() of them in
                                            flight, from its I/O pool */

/** Conditions for set_if. */
#define ZARRC_SET_IF_ABSENT 0x1u

/** Bytes a version token may take, including its terminating NUL. A version token is an opaque
 *  text that changes whenever a key's value is replaced (a file's identity and modification time,
 *  an object's ETag, a generation counter). */
#define ZARRC_STORE_VERSION_MAX 128

/** Flags of zarrc_store_type.put. */
#define ZARRC_PUT_IF_ABSENT 0x1u /**< store only if the key does not exist (else ZARRC_EEXISTS) */
#define ZARRC_PUT_IF_MATCH 0x2u  /**< store only if the key's version equals `if_version` (else
                                      ZARRC_ECONFLICT; a missing key does not match) */
#define ZARRC_PUT_DURABLE 0x4u   /**< the value (and its name) survive a power loss once the call
                                      returns (fsync of the file and its directory) */

/** One request of a batch get: key and range as for get; results go to out / status. */
typedef struct zarrc_get_request {
    const char *key;
    int64_t offset; /**< 0 with length -1 = whole value; < 0 = suffix of -offset bytes */
    int64_t length;
    zarrc_buf *out;
    int status;     /**< ZARRC_OK, ZARRC_ENOTFOUND, or an error */
} zarrc_get_request;

typedef struct zarrc_store_type {
    unsigned version; /**< ZARRC_STORE_TYPE_VERSION */
    const char *scheme; /**< URL scheme, e.g. "file", "memory" */
    unsigned caps;
    int (*open)(void **state, const char *location, unsigned flags);
    void (*close)(void *state);
    /** Read a value or a range of it into out (out->size = 0 on entry); ENOTFOUND if missing. */
    int (*get)(void *state, const char *key, int64_t offset, int64_t length, zarrc_buf *out);
    /** Optional batch read; NULL = the library loops over get. */
    int (*get_many)(void *state, zarrc_get_request *reqs, size_t n);
    int (*set)(void *state, const char *key, const void *data, size_t size);
    /** Optional conditional set: ZARRC_EEXISTS when ZARRC_SET_IF_ABSENT and the key exists. */
    int (*set_if)(void *state, const char *key, const void *data, size_t size, unsigned cond);
    int (*erase)(void *state, const char *key);
    int (*erase_prefix)(void *state, const char *prefix);
    int (*list)(void *state, const char *prefix, zarrc_list_cb cb, void *ctx);
    int (*list_dir)(void *state, const char *prefix, zarrc_list_cb cb, void *ctx);
    int (*size)(void *state, const char *key, uint64_t *size);

    /* ---- version 2 members: all optional (NULL); a version-1 struct ends above ---- */

    /** Store a value with conditions and durability (ZARRC_PUT_* flags). When present the
     *  library uses it instead of set / set_if. ZARRC_EEXISTS (IF_ABSENT) or ZARRC_ECONFLICT
     *  (IF_MATCH) when the condition does not hold; then nothing is stored. */
    int (*put)(void *state, const char *key, const void *data, size_t size, unsigned flags,
               const char *if_version);
    /** Read the whole value and its version token (into version[ZARRC_STORE_VERSION_MAX]) as
     *  one consistent snapshot. ZARRC_ENOTFOUND if missing. */
    int (*get_versioned)(void *state, const char *key, zarrc_buf *out, char *version);
    /** The version token of a key without reading its value (ZARRC_ENOTFOUND if missing). */
    int (*version_of)(void *state, const char *key, char *version);
    /** Take an exclusive lock on `key` that excludes other holders of the same key's lock in
     *  this and other processes (blocking); *lock receives what unlock needs. Keys may share a
     *  lock (striping): hold one lock at a time. */
    int (*lock)(void *state, const char *key, void **lock);
    void (*unlock)(void *state, void *lock);
    /** Make everything stored so far through this handle durable (e.g. syncfs). */
    int (*flush)(void *state);
    /** Optional (version 2): a new malloc'd string that names the stored data itself, so that two handles
     *  on the same data give the same string and handles on different data different ones
     *  (the filesystem store: the real path of its root; the memory store: an id of the store
     *  instance). Keys below it are taken to extend it with '/' + key. NULL = the library
     *  compares store URLs instead. Used to refuse copies of a node onto or into itself. */
    char *(*canonical)(void *state);

    /* ---- version 3 members: all optional (NULL); a version-2 struct ends above ---- */

    /** Store the value made of `nparts` pieces, one after the other (a shard written from its
     *  inner chunks and index without first copying them together), exactly as `put` stores
     *  their concatenation: same flags, conditions, errors and atomicity. The pieces are the
     *  caller's and only read during the call; a piece may have length 0. NULL = the library
     *  joins the pieces into one buffer and calls `put` (or `set`). */
    int (*putv)(void *state, const char *key, const zarrc_vref *parts, size_t nparts, unsigned flags,
                const char *if_version);

    /* ---- version 4 members: all optional (NULL); a version-3 struct ends above ---- */

    /** Read a whole value as one snapshot (one version of it, as `get` does) in consecutive
     *  pieces: each piece is read into `buf` (`cap` bytes, the caller's scratch) and handed to
     *  `sink` with the value's total size in bytes, known before the first piece; a value of 0
     *  bytes gives one call with len 0. A non-zero return of `sink` stops the read and is
     *  returned. ZARRC_ENOTFOUND if the key is missing (sink not called). The library uses it to
     *  place large uncompressed chunks while each piece is in cache, instead of reading the
     *  whole value into memory first. NULL = the library reads such chunks whole with `get`. */
    int (*get_pieces)(void *state, const char *key, uint8_t *buf, size_t cap,
                      int (*sink)(void *ctx, uint64_t total, const uint8_t *piece, size_t len), void *ctx);
} zarrc_store_type;

#define ZARRC_STORE_TYPE_VERSION 4

/** Register a store type for its URL scheme. Thread-safe. */
ZARRC_API int zarrc_store_register(const zarrc_store_type *type);

#ifdef __cplusplus
}
#endif
#endif /* ZARRC_PLUGIN_H */
