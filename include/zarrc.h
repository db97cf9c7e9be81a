/*
 * zarrc.h — the public API of libzarrc, a Zarr (format v2 and v3) library in C.
 *
 * Conventions (see docs/api.md for the long form):
 *  - Every fallible call returns int: ZARRC_OK (0) or a negative ZARRC_E* code. On failure a
 *    one-line message with context is available from zarrc_error_last() in the calling thread.
 *    Each fallible call clears the last error on entry.
 *  - Objects returned through `T **out` belong to the caller and are released with the matching
 *    zarrc_*_free(), which accepts NULL. Memory returned as `char **` / `void **` is released
 *    with zarrc_free(). Pointers returned as function results are borrowed; each function says
 *    what invalidates them.
 *  - Shapes, coordinates and strides are int64_t; in-memory byte sizes are size_t.
 *  - Data exchanged with the library is in native byte order and C (row-major) order of the
 *    selection. Variable-length types (string, bytes, registered variable-length
 *    types) are exchanged as zarrc_vlen.
 *  - Threads: a store allows concurrent calls; an array handle allows concurrent reads and
 *    concurrent writes to different chunks. Handles may be freed in any order.
 *
 * This header is C99 and C++ clean.
 */
#ifndef ZARRC_H
#define ZARRC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define ZARRC_API
#elif defined(__GNUC__)
#define ZARRC_API __attribute__((visibility("default")))
#else
#define ZARRC_API
#endif

#define ZARRC_VERSION_MAJOR 0
#define ZARRC_VERSION_MINOR 1
#define ZARRC_VERSION_PATCH 0
#define ZARRC_VERSION_STRING "0.1.0"

/** The library's version string (static storage). */
ZARRC_API const char *zarrc_version(void);

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/** Result codes. Append-only: values are never renumbered. */
enum zarrc_status {
    ZARRC_OK = 0,
    ZARRC_ENOMEM = -1,       /**< out of memory */
    ZARRC_EINVAL = -2,       /**< invalid argument or malformed input (metadata, JSON, selection) */
    ZARRC_ENOTFOUND = -3,    /**< key or node does not exist */
    ZARRC_EEXISTS = -4,      /**< node already exists (create without ZARRC_OVERWRITE) */
    ZARRC_EIO = -5,          /**< store I/O failure */
    ZARRC_ECORRUPT = -6,     /**< stored data is corrupt (decoder error, checksum, wrong size) */
    ZARRC_EUNSUPPORTED = -7, /**< valid but not supported (unknown codec, extension, feature) */
    ZARRC_EBOUNDS = -8,      /**< selection outside the array */
    ZARRC_EDTYPE = -9,       /**< data type problem (unknown type, fill value not encodable) */
    ZARRC_ECONFLICT = -10,   /**< conflicting nodes or concurrent modification */
    ZARRC_EREADONLY = -11,   /**< the store or handle is read-only */
    ZARRC_EAUTH = -12,       /**< authentication or permission failure */
    ZARRC_EINTERNAL = -13    /**< a bug in zarrc: please report it */
};

/** Static description of a status code, e.g. "not found". Never NULL. */
ZARRC_API const char *zarrc_strerror(int code);

/** Message of the last error raised in this thread ("" if none). Borrowed: valid until the
 *  next zarrc call in this thread. */
ZARRC_API const char *zarrc_error_last(void);

/** Code of the last error raised in this thread (ZARRC_OK if none). */
ZARRC_API int zarrc_error_code(void);

/** Release memory returned by the library (strings, buffers). Accepts NULL. */
ZARRC_API void zarrc_free(void *p);

/* ------------------------------------------------------------------------------------------ */
/* Library-wide settings                                                                       */
/* ------------------------------------------------------------------------------------------ */

/** Number of worker threads of the shared pool used by reads and writes. 0 restores the
 *  default (the ZARRC_NUM_THREADS environment variable, else the number of cores). Call it
 *  while no read or write is running. */
ZARRC_API int zarrc_set_num_threads(int n);

/** Current number of worker threads (resolving the default). */
ZARRC_API int zarrc_get_num_threads(void);

/** Requests in flight at once to stores whose requests have latency (remote stores; their
 *  store type sets ZARRC_STORE_CAP_LATENCY), independent of the number of CPU threads. 0
 *  restores the default (the ZARRC_IO_CONCURRENCY environment variable, else 16 or the number
 *  of threads if larger). Local stores do I/O on the CPU threads. Call it while no read or
 *  write is running. */
ZARRC_API int zarrc_set_io_concurrency(int n);

/** Current store I/O concurrency (resolving the default). */
ZARRC_API int zarrc_get_io_concurrency(void);

/* Resource limits on what metadata and stored data may make the library allocate (see "Limits"
 * in docs/api.md). */

/** Default of zarrc_set_max_chunk_bytes: 2 GiB, the most one blosc or lz4 chunk can hold. */
#define ZARRC_DEFAULT_MAX_CHUNK_BYTES ((uint64_t)1 << 31)

/** Largest item size of a fixed-size data type in bytes (NumPy's limit): `|S`, `<U`
 *  (4 bytes per character), `null_terminated_bytes`, `fixed_length_utf32`. */
#define ZARRC_MAX_ITEM_SIZE 2147483647

/** Largest item size of the raw types (`r<N>`, `raw_bytes`, v2 `|V`) in bytes: their v3 fill
 *  value lists every byte. */
#define ZARRC_MAX_RAW_ITEM_SIZE (1 << 21)

/** Deepest nesting of JSON arrays and objects in a document the library reads. */
#define ZARRC_MAX_JSON_DEPTH 1000

/** Most codecs in one pipeline (v3 "codecs", v2 filters + compressor). */
#define ZARRC_MAX_CODECS 128

/** Per-chunk limit on decoded data, in bytes. Opening or creating an array whose chunk (or,
 *  for a sharded array, inner chunk or shard index) takes more memory than this fails with
 *  ZARRC_EUNSUPPORTED naming the chunk shape; at read time, a codec whose output size is not
 *  known in advance (variable-length data, any bytes-to-bytes codec before the last one) stops
 *  with ZARRC_ECORRUPT as soon as its output would pass it. 0 restores the default (the
 *  ZARRC_MAX_CHUNK_BYTES environment variable, a byte count with an optional K, M, G or T
 *  binary suffix, else ZARRC_DEFAULT_MAX_CHUNK_BYTES); the environment is read on first use
 *  and by this call with 0. Takes effect for decodes started after the call and for arrays
 *  opened after it. */
ZARRC_API int zarrc_set_max_chunk_bytes(uint64_t n);

/** The current per-chunk limit (resolving the default). */
ZARRC_API uint64_t zarrc_get_max_chunk_bytes(void);

/* ------------------------------------------------------------------------------------------ */
/* Stores                                                                                      */
/* ------------------------------------------------------------------------------------------ */

typedef struct zarrc_store zarrc_store;

/** Flags for zarrc_store_open. */
#define ZARRC_STORE_READONLY 0x1u /**< refuse every modification with ZARRC_EREADONLY */
#define ZARRC_STORE_CREATE 0x2u   /**< create the root directory if missing (filesystem) */
#define ZARRC_STORE_DURABLE 0x4u  /**< every write (chunks too) is durable when its call returns:
                                       on the filesystem the file and its directory are fsynced.
                                       Metadata documents are always written durably. */
#define ZARRC_STORE_CONTAINED 0x8u /**< filesystem: every key must stay inside the root: a key
                                       whose path passes through a symbolic link leading out of
                                       the root is refused (ZARRC_EAUTH) for reads, writes,
                                       erasures and listings (links inside the root work). For
                                       servers exposing a directory (zarrc serve). */

/** Open a store by URL: a plain path or `file://PATH` (directory store), or `memory://` (a
 *  new, empty in-memory store). The handle is thread-safe.
 *  Errors: ZARRC_EINVAL (unknown scheme), ZARRC_ENOTFOUND (missing directory without
 *  ZARRC_STORE_CREATE), ZARRC_EIO. */
ZARRC_API int zarrc_store_open(zarrc_store **out, const char *url, unsigned flags);

/** Release a store handle. Arrays and groups opened on it keep it alive until they are freed.
 *  Accepts NULL. */
ZARRC_API void zarrc_store_free(zarrc_store *store);

/** Read the whole value of `key` into a new buffer (*data, released with zarrc_free; may be
 *  NULL when *size is 0). ZARRC_ENOTFOUND if the key does not exist. */
ZARRC_API int zarrc_store_get(void **data, size_t *size, zarrc_store *store, const char *key);

/** Read `length` bytes at `offset` of `key`. offset < 0 reads the last -offset bytes (a suffix;
 *  `length` is ignored); length < 0 reads to the end. A range past the end is clipped. */
ZARRC_API int zarrc_store_get_range(void **data, size_t *size, zarrc_store *store,
                                    const char *key, int64_t offset, int64_t length);

/** Store `size` bytes under `key`, atomically replacing any old value. */
ZARRC_API int zarrc_store_set(zarrc_store *store, const char *key, const void *data, size_t size);

/** Make every value written through this handle so far durable (survives a power loss): on
 *  the filesystem this is syncfs(2) of the store's file system. Without ZARRC_STORE_DURABLE,
 *  chunk data becomes durable at the latest on this call; a crash of the process alone never
 *  loses a completed write. Stores without the notion (memory) return ZARRC_OK. */
ZARRC_API int zarrc_store_flush(zarrc_store *store);

/** The version token of `key`: an opaque text (at most ZARRC_STORE_VERSION_MAX - 1 = 127
 *  characters) that changes whenever the key's value is replaced, written to `version` (of
 *  `size` bytes, 128 suffice). ZARRC_ENOTFOUND if the key is missing, ZARRC_EUNSUPPORTED if the
 *  store has no version tokens, ZARRC_EINVAL if `size` is too small. */
ZARRC_API int zarrc_store_version(char *version, size_t size, zarrc_store *store, const char *key);

/** Remove `key`. ZARRC_ENOTFOUND if it did not exist. */
ZARRC_API int zarrc_store_erase(zarrc_store *store, const char *key);

/** Remove every key that starts with `prefix` ("" = everything). Missing keys are fine. */
ZARRC_API int zarrc_store_erase_prefix(zarrc_store *store, const char *prefix);

/** Size in bytes of the value of `key` (ZARRC_ENOTFOUND if missing). */
ZARRC_API int zarrc_store_size(uint64_t *size, zarrc_store *store, const char *key);

/** Callback for listings: return 0 to continue, non-zero to stop (that value is returned by
 *  the listing call). `name` is borrowed for the duration of the call. */
typedef int (*zarrc_list_cb)(void *ctx, const char *name, int is_prefix);

/** Call `cb` for every key starting with `prefix` (full keys, is_prefix = 0), in no particular
 *  order. */
ZARRC_API int zarrc_store_list(zarrc_store *store, const char *prefix, zarrc_list_cb cb, void *ctx);

/** Call `cb` for the direct children of `prefix` (which is "" or ends with '/'): keys with no
 *  further '/' (is_prefix = 0) and child prefixes (the name without trailing '/', is_prefix =
 *  1). `name` is relative to `prefix`. */
ZARRC_API int zarrc_store_list_dir(zarrc_store *store, const char *prefix, zarrc_list_cb cb,
                                   void *ctx);

/** Whether read-modify-writes of one key (partial chunk writes, shards, metadata updates) by
 *  several threads and processes at once lose no update on this store: 1 for per-key locks
 *  (filesystem, memory) or compare-and-swap (S3 servers with conditional writes), 0 when only
 *  one writer per key is safe (an S3 server that ignores or refuses conditional writes, such
 *  as Swift's s3api; plugin stores without put/get_versioned or lock). Thread-safe; no error. */
ZARRC_API int zarrc_store_multi_writer_safe(const zarrc_store *store);

/* ------------------------------------------------------------------------------------------ */
/* Data types                                                                                  */
/* ------------------------------------------------------------------------------------------ */

typedef enum zarrc_dtype_kind {
    ZARRC_DTYPE_BOOL = 1,
    ZARRC_DTYPE_INT,         /**< int8..int64 */
    ZARRC_DTYPE_UINT,        /**< uint8..uint64 */
    ZARRC_DTYPE_FLOAT,       /**< float16, float32, float64 */
    ZARRC_DTYPE_COMPLEX,     /**< complex64, complex128 */
    ZARRC_DTYPE_RAW,         /**< v3 r<N>, v2 |V<n>: opaque fixed-size bytes */
    ZARRC_DTYPE_FIXED_BYTES, /**< v2 |S<n>, v3 null_terminated_bytes */
    ZARRC_DTYPE_UTF32,       /**< v2 <U<n>, v3 fixed_length_utf32: n code points, native order */
    ZARRC_DTYPE_DATETIME,    /**< numpy.datetime64 (int64) */
    ZARRC_DTYPE_TIMEDELTA,   /**< numpy.timedelta64 (int64) */
    ZARRC_DTYPE_STRING,      /**< variable-length UTF-8 (zarrc_vlen) */
    ZARRC_DTYPE_VBYTES,      /**< variable-length bytes (zarrc_vlen) */
    ZARRC_DTYPE_STRUCT = 20, /**< a record of named fields (v2 structured dtype, v3 "struct");
                                  see zarrc_dtype_field_count */
    ZARRC_DTYPE_USER = 21,   /**< a data type registered at run time (zarrc_plugin.h) */
    /** zarrs' experimental nullable type ("zarrs.optional", docs/compatibility.md): each element
     *  in memory is the inner element (`inner->item_size` bytes, native order) followed by one
     *  mask byte, 1 = present, 0 = missing (the inner bytes of a missing element are zero) —
     *  zarrs' own in-memory layout. item_size = inner->item_size + 1. The inner type is any
     *  fixed-size type, including another optional one, or string / bytes: then the type is
     *  variable-length (item_size 0) and reads and writes take a zarrc_vlen whose `mask`
     *  marks the missing items (the same inner element + mask layout, column-wise). Other
     *  inner types (object, optional string) are refused (ZARRC_EUNSUPPORTED). */
    ZARRC_DTYPE_OPTIONAL = 22,
    /** numpy object elements: a v2 "|O" array whose object codec is json2, msgpack2 or
     *  vlen-array (zarrc_vlen; see zarrc_array_object_item). `unit` is "json" when each
     *  element is a JSON text (json2, msgpack2) and "array" when it is the bytes of a 1-D
     *  typed array in native byte order (vlen-array). */
    ZARRC_DTYPE_OBJECT = 23
} zarrc_dtype_kind;

/** The field table of a STRUCT data type: opaque, immutable, shared by every copy of the
 *  zarrc_dtype_info that refers to it. It lives until the process exits (the library interns
 *  each distinct record layout once), so copies of a zarrc_dtype_info never dangle. */
typedef struct zarrc_dtype_fields zarrc_dtype_fields;

/** Description of a data type (a plain value: copy it freely). For UTF32, item_size is
 *  4 * code points; for RAW and FIXED_BYTES the byte length; for STRUCT the sum of the field
 *  sizes (packed, no padding: NumPy's packed layout). */
typedef struct zarrc_dtype_info {
    zarrc_dtype_kind kind;
    size_t item_size;      /**< bytes per element in memory; 0 for variable-length types */
    char name[32];         /**< v3 name: "int16", "r24", "string", "numpy.datetime64", ... */
    char unit[8];          /**< datetime/timedelta unit ("s", "ns", ...); object: "json" or
                                "array"; else "" */
    int64_t scale_factor;  /**< datetime/timedelta unit multiplier, else 1 */
    int big_endian;        /**< byte order on storage (v2 dtype or v3 bytes codec); for a v2
                                STRUCT each field carries its own (zarrc_field_info) */
    const zarrc_dtype_fields *fields; /**< STRUCT: the fields (see above); else NULL */
    const void *user;      /**< USER: the registered zarrc_dtype_type (zarrc_plugin.h); else NULL */
    const struct zarrc_dtype_info *inner; /**< OPTIONAL: the inner type (interned: lives until
                                               the process exits); else NULL */
} zarrc_dtype_info;

/** One field of a STRUCT data type (zarrc_dtype_field). Pointers are borrowed from the field
 *  table and live as long as the process. */
typedef struct zarrc_field_info {
    const char *name;       /**< the field's name (non-empty, unique among its siblings) */
    size_t offset;          /**< byte offset of the field inside one record */
    size_t size;            /**< bytes the field takes: dtype.item_size * prod(shape) */
    zarrc_dtype_info dtype; /**< type of one element of the field (may be a STRUCT itself);
                                 big_endian is the field's v2 byte order */
    int ndim;               /**< dimensions of a sub-array field (v2 only), 0 for a scalar */
    const int64_t *shape;   /**< ndim extents (NULL when ndim is 0) */
} zarrc_field_info;

/** The inner type of an OPTIONAL data type (zarrs' experimental "zarrs.optional") into *out
 *  (a copy; its own `inner` is set for nested optional types). Errors: ZARRC_EINVAL (not an
 *  OPTIONAL type). Thread-safe. */
ZARRC_API int zarrc_dtype_optional_inner(zarrc_dtype_info *out, const zarrc_dtype_info *dt);

/** Number of fields of a STRUCT data type (0 for every other type). Thread-safe. */
ZARRC_API size_t zarrc_dtype_field_count(const zarrc_dtype_info *dt);

/** Field `index` (declaration order) of a STRUCT data type into *out.
 *  Errors: ZARRC_EINVAL (not a STRUCT, index out of range). Thread-safe. */
ZARRC_API int zarrc_dtype_field(zarrc_field_info *out, const zarrc_dtype_info *dt, size_t index);

/** Find a field by name: a top-level field name, or a path through nested records joined by
 *  '.' ("pos.x"; an exact top-level name wins over a path). *out describes the field with
 *  `offset` relative to the start of the outer record. Errors: ZARRC_EINVAL (not a STRUCT),
 *  ZARRC_ENOTFOUND naming the field. Thread-safe. */
ZARRC_API int zarrc_dtype_field_find(zarrc_field_info *out, const zarrc_dtype_info *dt, const char *name);

/** One element of type `dt` (item_size bytes at `elem`, native order) as a JSON text (new
 *  string, zarrc_free), in the v3 fill-value encoding of the type: a record is an object
 *  {"field": value, ...} with nested records nested and sub-array fields as flat lists of
 *  their elements in C order. Thread-safe. Errors: ZARRC_EDTYPE (variable-length types, a
 *  registered type without a to_json hook), ZARRC_ENOMEM. */
ZARRC_API int zarrc_dtype_value_to_json(char **json, const zarrc_dtype_info *dt, const void *elem);

/** The inverse: parse a JSON text (the forms fill values accept, e.g. {"t": 1, "v": "NaN"} for
 *  a record; a field left out of a record object takes its default, zeros) into item_size
 *  bytes at `elem`, native order. Thread-safe. Errors: ZARRC_EINVAL (malformed JSON),
 *  ZARRC_EDTYPE naming the field whose value the type cannot represent. */
ZARRC_API int zarrc_dtype_value_from_json(void *elem, const zarrc_dtype_info *dt, const char *json);

/** The first integer literal of the JSON text `text` (n bytes; outside strings) that does not
 *  fit 64 bits — below INT64_MIN or above UINT64_MAX — or NULL when every integer fits. On a
 *  hit *len is the literal's length. zarrc's JSON reader saturates such numbers, so a caller
 *  parsing user JSON for element values checks the text first to refuse them rather than store
 *  a wrong value (zarrc does so for object elements). Pure function, thread-safe. */
ZARRC_API const char *zarrc_json_find_wide_integer(const char *text, size_t n, size_t *len);

/** A variable-length column: `count` items, item i is data[offsets[i] .. offsets[i+1]).
 *  offsets has count + 1 entries, offsets[0] == 0. Strings are UTF-8 without terminators.
 *  Reads fill one in (the library allocates offsets, data and mask; release with
 *  zarrc_vlen_clear); writes take one the caller owns (initialize it with {0}). */
typedef struct zarrc_vlen {
    int64_t count;
    uint64_t *offsets;
    uint8_t *data;
    size_t size; /**< bytes in data (== offsets[count]) */
    /** Optional string/bytes arrays (zarrs.optional, ZARRC_DTYPE_OPTIONAL with item_size 0)
     *  only: `count` bytes, 1 = item present, 0 = missing (null; its item is empty). Reads of
     *  such arrays always set it; writes read it when not NULL (NULL = every item present) and
     *  refuse a missing item that has bytes. Reads of other types set it to NULL; their writes
     *  ignore it. */
    uint8_t *mask;
} zarrc_vlen;

/** Release what a read put into `v` and zero it. Accepts NULL. */
ZARRC_API void zarrc_vlen_clear(zarrc_vlen *v);

/* ------------------------------------------------------------------------------------------ */
/* Nodes                                                                                       */
/* ------------------------------------------------------------------------------------------ */

typedef enum zarrc_node_kind { ZARRC_NODE_ARRAY = 1, ZARRC_NODE_GROUP = 2 } zarrc_node_kind;

/** Create flags. */
#define ZARRC_OVERWRITE 0x1u /**< replace an existing node (what belongs to it is erased first) */
/** With ZARRC_OVERWRITE, and for zarrc_node_delete_flags: also delete keys below the node that
 *  belong to no Zarr node (without it they make the call fail before anything is deleted). */
#define ZARRC_FORCE 0x1000u
/** zarrc_array_create / zarrc_array_create_json: write the metadata as a pending record, so
 *  that the array is not visible (open, probe and listings do not see it) until
 *  zarrc_array_commit() — or a successful zarrc_array_copy() into it — writes the real
 *  metadata document. A crash in between leaves no array whose missing chunks read as fill. */
#define ZARRC_CREATE_PENDING 0x2000u
/** With ZARRC_CREATE_PENDING: continue an earlier attempt. A pending record equal to the one
 *  these options produce is kept with the chunks written so far (nothing is erased), and a
 *  copy into the handle skips destination chunks that are already stored; an array already
 *  committed with equal metadata is opened as it is. A pending record that differs is
 *  ZARRC_ECONFLICT. Without an earlier attempt the array is created as usual. For
 *  zarrc_group_create: an existing group with the same format and attributes is kept. */
#define ZARRC_RESUME 0x4000u

/** Find what is stored at `path` ("" = the store's root): its kind and format (2 or 3). v3
 *  `zarr.json` is looked for first. ZARRC_ENOTFOUND if no node is there. */
ZARRC_API int zarrc_node_probe(zarrc_node_kind *kind, int *format, zarrc_store *store,
                               const char *path);

/** Delete the node at `path` and everything that belongs to it: its metadata documents, the
 *  chunk keys of its own grid, its child nodes recursively and zarrc's internal files
 *  (basenames starting with ".zarrc-"). Chunks are deleted first and metadata last, so an
 *  interrupted delete leaves the node with fewer chunks, never chunks without metadata. Any
 *  other key below the node makes the call fail with ZARRC_ECONFLICT, naming the first few,
 *  before anything is deleted. An incomplete array (ZARRC_CREATE_PENDING, not committed) is
 *  deleted too. ZARRC_ENOTFOUND if nothing is there. Same as zarrc_node_delete_flags(store,
 *  path, 0). */
ZARRC_API int zarrc_node_delete(zarrc_store *store, const char *path);

/** As zarrc_node_delete; with ZARRC_FORCE in `flags` keys that belong to no node are deleted
 *  too (still data first, metadata last). */
ZARRC_API int zarrc_node_delete_flags(zarrc_store *store, const char *path, unsigned flags);

/** How two node locations relate (zarrc_node_overlap). */
enum zarrc_overlap {
    ZARRC_OVERLAP_NONE = 0, /**< disjoint */
    ZARRC_OVERLAP_SAME,     /**< the same node */
    ZARRC_OVERLAP_A_IN_B,   /**< node A is below node B */
    ZARRC_OVERLAP_B_IN_A    /**< node B is below node A */
};

/** Compare the node at `path_a` of store `a` with the node at `path_b` of store `b` by the
 *  stores' canonical locations (the filesystem store: the real path of its root, symlinks and
 *  ".." resolved; each memory:// store is its own; stores of plugins without a canonical hook:
 *  their URLs) plus the node paths. Tells whether a copy or move from one to the other would
 *  read what it overwrites. *relation is one of enum zarrc_overlap. Symlinks inside a store
 *  below its root are not resolved. */
ZARRC_API int zarrc_node_overlap(int *relation, zarrc_store *a, const char *path_a, zarrc_store *b,
                                 const char *path_b);

/** One child of a group, as reported by zarrc_group_list. All pointers are borrowed for the
 *  duration of the callback. For groups, ndim is 0 and shape/dtype NULL. */
typedef struct zarrc_child_info {
    const char *name;
    zarrc_node_kind kind;
    int format;
    int ndim;
    const int64_t *shape;
    const char *dtype; /**< v3 data type name */
    int is_view;       /**< 1 for a stored view (an array node carrying a view spec) */
} zarrc_child_info;

typedef int (*zarrc_child_cb)(void *ctx, const zarrc_child_info *child);

/** List the children of the group at `path` in name order, using the store's delimiter
 *  listing. A child whose metadata cannot be parsed is skipped only if it is not a node. */
ZARRC_API int zarrc_group_list(zarrc_store *store, const char *path, zarrc_child_cb cb, void *ctx);

/** Create a group at `path` (format 2 or 3) with optional attributes (a JSON object text or
 *  NULL). Missing ancestor groups are created. ZARRC_EEXISTS if a node exists there and
 *  ZARRC_OVERWRITE is not given. */
ZARRC_API int zarrc_group_create(zarrc_store *store, const char *path, int format,
                                 const char *attributes_json, unsigned flags);

/** The attributes of the node at `path` as a JSON object text (new string, zarrc_free). */
ZARRC_API int zarrc_node_attributes(char **json, zarrc_store *store, const char *path);

/* ------------------------------------------------------------------------------------------ */
/* Arrays                                                                                      */
/* ------------------------------------------------------------------------------------------ */

typedef struct zarrc_array zarrc_array;

/** Options for zarrc_array_create. Initialise with ZARRC_ARRAY_OPTIONS_INIT, then set what
 *  you need. JSON members are texts, in either format's spelling. */
typedef struct zarrc_array_options {
    unsigned version;        /**< ZARRC_ARRAY_OPTIONS_VERSION */
    int format;              /**< 2 or 3 (default 3) */
    const char *dtype;       /**< "int16", "<i2", ">f4", "string", "|S7", "<M8[ns]", or a v3
                                  data type JSON object; v2 spellings set the byte order */
    int ndim;
    const int64_t *shape;    /**< ndim entries */
    const int64_t *chunks;   /**< ndim entries; NULL = one chunk for the whole array */
    const char *fill_value;  /**< JSON; NULL = the type's default (0, false, "", ...) */
    const char *codecs;      /**< JSON list of codecs in either spelling; NULL = default */
    const char *compressor;  /**< v2 style compressor object or "null" (alternative to codecs) */
    const char *filters;     /**< v2 style filter list (alternative to codecs) */
    char order;              /**< 'C' (default) or 'F' */
    char separator;          /**< chunk key separator '/' or '.'; 0 = the format's default */
    const char *attributes;  /**< JSON object or NULL */
    const char *const *dimension_names; /**< NULL or ndim entries (NULL entry = unnamed) */
    unsigned flags;          /**< ZARRC_OVERWRITE */
    /** (version >= 2) NULL, or a rectilinear chunk grid (v3 only): the JSON `chunk_shapes` of
     *  zarr-extensions' "rectilinear" grid, one entry per dimension: a bare edge (regular along
     *  it) or a list of edges and [edge, count] runs summing to at least the extent, e.g.
     *  "[[2,3,5],[[4,2]]]". It replaces `chunks` (which must then be NULL). */
    const char *chunk_shapes;
} zarrc_array_options;

/* Version 1 (no chunk_shapes) is still accepted. */
#define ZARRC_ARRAY_OPTIONS_VERSION 2
#define ZARRC_ARRAY_OPTIONS_INIT                                                               \
    { ZARRC_ARRAY_OPTIONS_VERSION, 3, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, 'C', 0,     \
      NULL, NULL, 0, NULL }

/** Create an array at `path` ("" = the store's root) and write its metadata (and missing
 *  ancestor groups). The options are validated completely, including the fill value and the
 *  codec pipeline, before anything is written. On success *out is an open handle.
 *  Errors: ZARRC_EINVAL, ZARRC_EDTYPE, ZARRC_EUNSUPPORTED (e.g. a pipeline v2 cannot express,
 *  with the reason), ZARRC_EEXISTS, store errors. */
ZARRC_API int zarrc_array_create(zarrc_array **out, zarrc_store *store, const char *path,
                                 const zarrc_array_options *options);

/** Create an array from a complete metadata document: a v3 zarr.json text, or a v2 .zarray
 *  text (optionally with an "attributes" member that goes into .zattrs). */
ZARRC_API int zarrc_array_create_json(zarrc_array **out, zarrc_store *store, const char *path,
                                      const char *metadata_json, unsigned flags);

/** Make an array created with ZARRC_CREATE_PENDING visible: write its metadata (v2: .zattrs,
 *  then .zarray) and remove the pending record. A no-op for other arrays. */
ZARRC_API int zarrc_array_commit(zarrc_array *array);

/** Open the array at `path`. Opening never lists chunks. An unknown codec, or a chunk larger
 *  than the per-chunk limit (zarrc_set_max_chunk_bytes), does not prevent opening (metadata
 *  can be inspected); reading or writing data then fails naming the codec or the chunk shape.
 *  Neither does a v2 `.zattrs` that cannot be read or parsed: data access never depends on
 *  it, and ZARRC_JSON_ATTRIBUTES reports the problem. Unknown required v3 extensions and data
 *  types over the item size limits are refused with ZARRC_EUNSUPPORTED / ZARRC_EDTYPE. */
ZARRC_API int zarrc_array_open(zarrc_array **out, zarrc_store *store, const char *path);

/** Flag of zarrc_array_open_flags / zarrc_view_open / zarrc_view_create: let a view's layers
 *  refer to locations outside the view's store (absolute paths elsewhere, other URLs, ".."
 *  above the store's root). Without it such references fail with ZARRC_EAUTH, so that a view
 *  cannot make zarrc read files its user did not mean to expose. */
#define ZARRC_OPEN_ALLOW_EXTERNAL 0x8000u

/** zarrc_array_open with flags (ZARRC_OPEN_ALLOW_EXTERNAL for stored views). */
ZARRC_API int zarrc_array_open_flags(zarrc_array **out, zarrc_store *store, const char *path, unsigned flags);

/** Open a virtual array (view) from a JSON spec: tensorstore's "stack" driver subset (layers
 *  "zarr"/"zarr3" on the "file" kvstore, "array" inline data, nested "stack"; index transforms
 *  with constant, single-input-dimension and index-array output maps) plus zarrc's additions
 *  ("fill_value", "fill" layers, the short forms {"concatenate"|"stack": {"axis", "arrays"}},
 *  "dimension_names", "attributes"); see docs/views.md. Relative layer locations resolve
 *  against `base_path` in `base_store`. Layers whose domain the spec gives are opened on first
 *  read (no I/O at open); others are opened here. The handle works with every array call
 *  (read, write-through for one-to-one transforms, zarrc_array_json, copy as source). Its
 *  shape is the view domain's extent; index 0 is the domain's inclusive_min. Thread-safe as
 *  any array handle. Errors: ZARRC_EINVAL (spec, transform, rank), ZARRC_EBOUNDS (a layer
 *  transform leaving the layer's domain), ZARRC_EDTYPE, ZARRC_EUNSUPPORTED, ZARRC_EAUTH
 *  (external reference), errors opening layers (naming the layer). */
ZARRC_API int zarrc_view_open(zarrc_array **out, const char *spec_json, zarrc_store *base_store,
                              const char *base_path, unsigned flags);

/** Store a view as a node at `path`: a zarr.json with shape, data_type, fill_value,
 *  dimension_names, attributes and the spec in the "zarrc_view" member (must_understand:
 *  true, so readers that do not know it refuse the node). The spec is validated by opening it
 *  (relative locations resolve against `path` itself: "../a" is a sibling). An existing node is
 *  ZARRC_EEXISTS unless flags has ZARRC_OVERWRITE. `out` (may be NULL) receives a handle. */
ZARRC_API int zarrc_view_create(zarrc_array **out, zarrc_store *store, const char *path,
                                const char *spec_json, unsigned flags);

/** 1 if the handle is a view, else 0. */
ZARRC_API int zarrc_array_is_view(const zarrc_array *array);

/** The spec of a view handle (short forms expanded) as JSON text (new string, zarrc_free).
 *  ZARRC_EINVAL for a stored array. */
ZARRC_API int zarrc_view_spec(char **json, const zarrc_array *array);

/** Release an array handle. Accepts NULL. */
ZARRC_API void zarrc_array_free(zarrc_array *array);

/** Format of the array's metadata: 2 or 3. */
ZARRC_API int zarrc_array_format(const zarrc_array *array);

/** Number of dimensions (0 for a scalar). */
ZARRC_API int zarrc_array_ndim(const zarrc_array *array);

/** Shape (ndim entries). Borrowed: valid until the handle is freed. */
ZARRC_API const int64_t *zarrc_array_shape(const zarrc_array *array);

/** Chunk shape (ndim entries). Borrowed: valid until the handle is freed. */
ZARRC_API const int64_t *zarrc_array_chunks(const zarrc_array *array);

/** Inner chunk shape (ndim entries) of a sharded array — one whose codecs are exactly
 *  [sharding_indexed]; zarrc_array_chunks() is then the shard shape — or NULL when the array is
 *  not sharded that way. Borrowed: valid until the handle is freed. */
ZARRC_API const int64_t *zarrc_array_inner_chunks(const zarrc_array *array);

/** The chunk edges of a rectilinear chunk grid (zarr-extensions "rectilinear") along `dim`,
 *  run-length encoded: *nruns receives the number of runs; the first min(nruns, cap) runs go
 *  to `runs` as pairs (edge, count), in order. A regular grid, or a dimension of a rectilinear
 *  grid given as one bare edge (zarrc_array_chunks()[dim] repeated), gives *nruns = 0. For a
 *  rectilinear grid zarrc_array_chunks() holds the largest edge of each dimension.
 *  Threads: safe against concurrent shape changes through the same handle (a consistent
 *  copy). Errors: ZARRC_EINVAL (dim out of range, NULL nruns, runs NULL with cap > 0). */
ZARRC_API int zarrc_array_chunk_runs(const zarrc_array *array, int dim, int64_t *runs, size_t cap,
                                     size_t *nruns);

/** Data type description. Borrowed: valid until the handle is freed. */
ZARRC_API const zarrc_dtype_info *zarrc_array_dtype(const zarrc_array *array);

/** The element type of an object array whose elements are typed arrays (ZARRC_DTYPE_OBJECT
 *  with unit "array": numcodecs vlen-array): each element read or written is a zarrc_vlen item
 *  whose bytes are a whole number of `item` elements in native byte order (item->big_endian
 *  is the order on storage). Thread-safe on a shared handle; `item` is written only on
 *  success. Errors: ZARRC_EINVAL when the array is not such an object array; the codec's error
 *  (such as ZARRC_EUNSUPPORTED) when the array's codecs cannot be used. */
ZARRC_API int zarrc_array_object_item(const zarrc_array *array, zarrc_dtype_info *item);

/** Total number of elements (product of the shape), or -1 if it exceeds INT64_MAX (shapes
 *  such as [2^62, 2^62] are valid metadata). */
ZARRC_API int64_t zarrc_array_size(const zarrc_array *array);

/** Which JSON a zarrc_array_json call returns. */
typedef enum zarrc_json_part {
    ZARRC_JSON_METADATA = 1,  /**< the stored metadata document, as stored */
    ZARRC_JSON_CODECS_V3,     /**< the codec pipeline in v3 spelling */
    ZARRC_JSON_CODECS_V2,     /**< {"filters":..,"compressor":..,"order":..,"dtype":..} or
                                   ZARRC_EUNSUPPORTED when v2 cannot express the pipeline */
    ZARRC_JSON_FILL_VALUE,    /**< the fill value, JSON-encoded for the array's format */
    ZARRC_JSON_ATTRIBUTES,    /**< the attributes object (fails with the saved error when
                                   a v2 `.zattrs` could not be read at open) */
    ZARRC_JSON_DTYPE          /**< the data type in the array's format's spelling */
} zarrc_json_part;

/** A JSON text describing part of the array (new string, release with zarrc_free). */
ZARRC_API int zarrc_array_json(char **json, const zarrc_array *array, zarrc_json_part part);

/** Read a strided box: for each dimension d the indices start[d] + k*step[d] for k in
 *  [0, count[d]). `step` may be NULL (all 1); steps must be >= 1. Every index must lie inside
 *  the array (any int64 values are checked without overflow: a start, count or step that
 *  reaches past the end is ZARRC_EBOUNDS naming the dimension, a step below 1 ZARRC_EINVAL; a
 *  count of 1 never steps, so any step is fine there), and the box's byte size must fit in
 *  int64 and size_t (else ZARRC_EBOUNDS). The result goes to `out` in
 *  C order, native byte order: out_size must be prod(count) * item_size. For variable-length
 *  types `out` is a zarrc_vlen * (out_size = sizeof(zarrc_vlen)) that receives new buffers.
 *  Missing chunks read as the fill value. Runs on the shared pool; the reported error is that
 *  of the lowest failing chunk (C order), independent of the thread count. The pages of an
 *  output of 64 MiB or more are faulted in up front, in parallel on the pool
 *  (madvise MADV_POPULATE_WRITE: nothing is written, present pages are skipped; the memory
 *  policy of the buffer is left as the caller set it); ZARRC_NO_POPULATE=1 turns that off.
 *  An output larger than a core's L2 cache (at least 1 MiB) is written with streaming
 *  (non-temporal) stores wherever a row covers whole 64-byte lines, so that it does not pass
 *  through the cache: give such outputs 64-byte alignment (aligned_alloc(64, ...)); malloc's large blocks start 16
 *  bytes past a page, which leaves partial lines at the ends of short rows
 *  (ZARRC_NO_STREAM_STORES=1 turns this off).
 *  Errors: ZARRC_EBOUNDS, ZARRC_EINVAL (size mismatch), ZARRC_ECORRUPT, ZARRC_EUNSUPPORTED,
 *  store errors. */
ZARRC_API int zarrc_array_read(zarrc_array *array, const int64_t *start, const int64_t *count,
                               const int64_t *step, void *out, size_t out_size);

/** Write a strided box (same conventions as zarrc_array_read; for variable-length types `in`
 *  is a const zarrc_vlen * with prod(count) items). Partially covered chunks are
 *  read-modified-written. A chunk that ends up equal to the fill value is erased instead of
 *  stored unless zarrc_array_set_write_empty_chunks(array, 1). Each chunk is replaced
 *  atomically; on error, chunks before the failing one may have been written. */
ZARRC_API int zarrc_array_write(zarrc_array *array, const int64_t *start, const int64_t *count,
                                const int64_t *step, const void *in, size_t in_size);

/** Read one field of the records of a strided box (conventions of zarrc_array_read): `field`
 *  names a field of the array's STRUCT data type as zarrc_dtype_field_find does ("t", or
 *  "pos.x" for a nested record). `out` receives prod(count) values of the field, packed (each
 *  the field's `size` bytes: a sub-array field gives its elements in C order; a nested record
 *  its packed bytes), native byte order: out_size must be prod(count) * field size. Whole
 *  records are read underneath, a slab of at most 64 MiB of records at a time.
 *  Errors: ZARRC_EINVAL (not a struct array, size mismatch), ZARRC_ENOTFOUND (no such field),
 *  and those of zarrc_array_read. */
ZARRC_API int zarrc_array_read_field(zarrc_array *array, const char *field, const int64_t *start,
                                     const int64_t *count, const int64_t *step, void *out,
                                     size_t out_size);

/** Write one field of the records of a strided box from `in` (packed values of the field, as
 *  zarrc_array_read_field gives them); the other fields keep their stored values (missing
 *  chunks: the fill value's). This reads the records of the box, replaces the field and writes
 *  them back, a slab at a time: it is not atomic against concurrent writers of the same
 *  elements (writes of other fields of the same records may be lost; serialize them).
 *  Errors: as zarrc_array_read_field, and those of zarrc_array_write. */
ZARRC_API int zarrc_array_write_field(zarrc_array *array, const char *field, const int64_t *start,
                                      const int64_t *count, const int64_t *step, const void *in,
                                      size_t in_size);

/** Store chunks equal to the fill value (1) or erase them (0, the default). */
ZARRC_API void zarrc_array_set_write_empty_chunks(zarrc_array *array, int enable);

/* ---- chunk codecs without the store (docs/api.md, "Chunk codecs") ----------------------------
 * For callers that move the stored bytes themselves (another Zarr library's store, a network
 * protocol): the array's codec pipeline applied to one chunk, or to a batch on the shared pool.
 * "Chunk" is a chunk of the chunk grid: for a sharded array a whole shard (the
 * sharding_indexed codec is part of the pipeline). The decoded chunk is the whole chunk (edge
 * chunks too: they are stored padded to the full chunk shape), C order, native byte order,
 * zarrc_array_chunk_size() bytes. Only regular chunk grids and fixed-size data types
 * (variable-length types: ZARRC_EDTYPE; rectilinear grids and views: ZARRC_EUNSUPPORTED).
 * The store of the handle is never touched: an array opened from a metadata document in a
 * `memory://` store serves as a pure codec. All these calls only read the handle: they are
 * thread-safe on one shared handle, concurrently with reads and writes. Errors name the array
 * and the chunk key: "array 't': chunk 't/c/0/3': codec 'zstd': ...". Corrupt or truncated
 * stored bytes are ZARRC_ECORRUPT, never a crash. */

/** Bytes of one decoded chunk (*nbytes): prod(chunk shape) * item size.
 *  Errors: ZARRC_EDTYPE, ZARRC_EUNSUPPORTED as above; the saved codec error of the handle. */
ZARRC_API int zarrc_array_chunk_size(size_t *nbytes, const zarrc_array *array);

/** Decode the stored bytes `data` (`size` bytes, borrowed) of the chunk at `coords` (ndim chunk
 *  coordinates, each inside the grid: else ZARRC_EBOUNDS) into `out` (out_size must be
 *  zarrc_array_chunk_size(): else ZARRC_EINVAL). A missing chunk is not decoded: the caller
 *  fills it (zarrc_array_json(ZARRC_JSON_FILL_VALUE)). Errors: ZARRC_ECORRUPT, ZARRC_EINVAL,
 *  ZARRC_EBOUNDS, ZARRC_EDTYPE, ZARRC_EUNSUPPORTED, ZARRC_ENOMEM. */
ZARRC_API int zarrc_array_chunk_decode(zarrc_array *array, const int64_t *coords, const void *data,
                                       size_t size, void *out, size_t out_size);

/** Encode the decoded chunk `in` (in_size = zarrc_array_chunk_size()) at `coords` into a new
 *  buffer (*data, *size; release with zarrc_free). If the chunk equals the fill value and the
 *  handle does not write empty chunks (zarrc_array_set_write_empty_chunks), nothing is encoded:
 *  *data = NULL, *size = 0 and ZARRC_OK — the caller erases the stored chunk instead (that is
 *  what zarrc_array_write does). On error *data is NULL. Errors: as zarrc_array_chunk_decode
 *  (ZARRC_EINVAL for values a codec cannot represent). */
ZARRC_API int zarrc_array_chunk_encode(void **data, size_t *size, zarrc_array *array,
                                       const int64_t *coords, const void *in, size_t in_size);

/** 1 if every element of the decoded chunk `in` (in_size = zarrc_array_chunk_size()) equals the
 *  array's fill value (bitwise), 0 if not (also for a v2 array without a fill value, whose
 *  chunks are always stored), negative on error (as zarrc_array_chunk_size, ZARRC_EINVAL). */
ZARRC_API int zarrc_array_chunk_is_fill(const zarrc_array *array, const void *in, size_t in_size);

/** Status of a batch item the call did not get to (a lower-index item failed first). */
#define ZARRC_CHUNK_NOT_RUN 1

/** One chunk of zarrc_array_chunks_decode / zarrc_array_chunks_encode. */
typedef struct zarrc_chunk_item {
    const int64_t *coords; /**< chunk coordinates (ndim entries) */
    void *encoded;         /**< stored bytes: the decode input (read only, borrowed), or the
                                encode output (new buffer the caller releases with zarrc_free;
                                NULL when the chunk equals the fill value and is not encoded) */
    size_t encoded_size;
    void *decoded;         /**< the decoded chunk: decode output / encode input (borrowed) */
    size_t decoded_size;   /**< zarrc_array_chunk_size() */
    int status;            /**< set by the call: ZARRC_OK, the item's error code, or
                                ZARRC_CHUNK_NOT_RUN */
} zarrc_chunk_item;

/** Decode n items on the shared pool (as zarrc_array_chunk_decode each). Returns ZARRC_OK or
 *  the error of the lowest-index failing item (its message in this thread); items after it
 *  may be left ZARRC_CHUNK_NOT_RUN. Thread-safe on a shared handle. */
ZARRC_API int zarrc_array_chunks_decode(zarrc_array *array, zarrc_chunk_item *items, size_t n);

/** Encode n items on the shared pool (as zarrc_array_chunk_encode each; an item's encoded
 *  output is NULL when its chunk is skipped as fill). On error every encoded output of the
 *  batch is released and set to NULL, and the lowest failing item's error is returned. */
ZARRC_API int zarrc_array_chunks_encode(zarrc_array *array, zarrc_chunk_item *items, size_t n);

/* ---- extendable arrays (docs/api.md, "Extendable arrays") --------------------------------- */

/** zarrc_array_write_at: grow the array to fit the block (shape = max(current, offset + block
 *  shape) per dimension; never shrinks). Shares the flag namespace of ZARRC_OVERWRITE. */
#define ZARRC_EXTEND 0x10000u

/** Set the array's shape to `new_shape` (ndim entries, each >= 0), growing or shrinking any
 *  dimension. Shrinking first erases the stored chunks that lie wholly outside the new bounds
 *  and writes the fill value into the part of edge chunks outside them (so a later grow reads
 *  the fill value there, never stale data), then stores the new shape. The chunks are found by
 *  listing the array's keys: the cost is proportional to the chunks stored, never to the
 *  number of chunks the shape declares (a store that cannot list gets the removed region's
 *  chunks enumerated instead). Growing only rewrites the metadata document. The document is
 *  changed by a serialized read-modify-write (see docs/api.md); the handle's shape is
 *  refreshed. Resize sets the shape: a concurrent extend by another writer may be undone by it
 *  (use ZARRC_EXTEND / zarrc_array_append to grow concurrently). A kill during a shrink leaves
 *  the old shape with part of the removed region reading as fill. Consolidated copies of the
 *  metadata become stale (zarrc_consolidated_holders).
 *  Threads: serialize with other calls on the same handle that read its shape accessors.
 *  Errors: ZARRC_EINVAL (negative size, uncommitted pending array), ZARRC_ECONFLICT (the stored
 *  array was replaced by one with other chunks or data type), store errors. */
ZARRC_API int zarrc_array_resize(zarrc_array *array, const int64_t *new_shape);

/** Write a block of `shape` (ndim entries) at `offset` (`noffset` <= ndim entries, missing
 *  trailing ones are 0): `data` as for zarrc_array_write with a box of count = shape (C order,
 *  native byte order, size = prod(shape) * item size; a const zarrc_vlen * for
 *  variable-length types). Without ZARRC_EXTEND the block must fit the array's current stored
 *  shape (read from the store, so another writer's extension counts), else ZARRC_EBOUNDS with a
 *  message naming the block and the current shape. With ZARRC_EXTEND the shape first becomes
 *  max(current, offset + shape) per dimension through a serialized read-modify-write of the
 *  metadata document (concurrent extends converge to the maximum), then the block is written;
 *  regions between blocks read as the fill value. Observers may see the new shape before the
 *  data (reading fill there). If the data write fails, the part of the block outside the old
 *  shape is cleared back to fill and the old shape restored — only if the stored shape is
 *  still the one this call set (nobody grew it since). A kill -9 leaves the old or the new
 *  shape, each chunk whole. A wrong block size, rank or type fails with ZARRC_EINVAL before
 *  anything is written. Threads: concurrent calls on one handle or on many are safe; each
 *  chunk is read-modified-written under the store's per-key concurrency control. */
ZARRC_API int zarrc_array_write_at(zarrc_array *array, const int64_t *offset, int noffset,
                                   const int64_t *shape, const void *data, size_t size,
                                   unsigned flags);

/** Append a block of `shape` (ndim entries) along `axis`: the block lands at the array's
 *  extent along `axis` at the moment of the call (0 along the other axes), reserved inside the
 *  same serialized read-modify-write that grows the shape (extent + shape[axis] along `axis`,
 *  max(current, shape) along the others), so concurrent appenders never get the same region.
 *  `*start` (may be NULL) receives where the block landed along `axis`. Data, failure and
 *  crash behaviour as zarrc_array_write_at with ZARRC_EXTEND (a failed append restores the
 *  shape only if nobody appended since; otherwise its region reads as fill). */
ZARRC_API int zarrc_array_append(zarrc_array *array, int axis, const int64_t *shape,
                                 const void *data, size_t size, int64_t *start);

/** zarrc_array_append_flags: on an array with a rectilinear chunk grid (an edge list along
 *  `axis`), the appended block becomes a chunk of its own — one new edge of exactly
 *  shape[axis] (appending 3 then 1 gives edges [..., 3, 1]; the layout tiled reports). The
 *  edges must end at the extent before the append (else ZARRC_EINVAL). */
#define ZARRC_APPEND_NEW_CHUNK 0x20000u

/** zarrc_array_append with flags (0 or ZARRC_APPEND_NEW_CHUNK). Without the flag, a
 *  rectilinear grid whose edges do not cover the grown extent gets one new edge reaching it
 *  (so an append past the edges also adds a chunk of the block's length when the edges ended
 *  at the extent; one that starts inside the last chunk fills it first). ZARRC_EINVAL for the
 *  flag on a regular grid or unknown flags; otherwise as zarrc_array_append. */
ZARRC_API int zarrc_array_append_flags(zarrc_array *array, int axis, const int64_t *shape,
                                       const void *data, size_t size, unsigned flags, int64_t *start);

/* ---- streaming append writer (docs/api.md, "Streaming writer") ---------------------------- */

/** A streaming writer: frames arriving in order along one axis of an array are gathered into
 *  whole chunks (whole shards for sharded arrays) and each complete slab of chunks is written,
 *  encoded in parallel on the shared pool, by the stream's writer thread while the caller goes
 *  on appending. Opaque; see zarrc_stream_open. */
typedef struct zarrc_stream zarrc_stream;

/** Options of zarrc_stream_open (initialise with ZARRC_STREAM_OPTIONS_INIT). */
typedef struct zarrc_stream_options {
    /** The axis frames are appended along (default 0). */
    int axis;
    /** Bytes of the queue of slabs (a slab = one chunk's — or shard's — extent along `axis`
     *  times the array's full extent along the other axes). At least two slabs are always
     *  used; 0 picks the default: 64 MiB, or 2 slabs per pool thread when that is more, at
     *  most 256 MiB (and never fewer than 2 slabs). Full slabs waiting together are written as
     *  one block with one shape update: a bigger queue means fewer metadata writes when the
     *  store is slower than the producer. */
    size_t queue_bytes;
    /** Where the first frame lands along `axis`; -1 (the default) = the array's current extent
     *  along it. Must be a multiple of the chunk (shard) extent along `axis`, so that slabs
     *  are whole chunks. */
    int64_t start;
} zarrc_stream_options;

#define ZARRC_STREAM_OPTIONS_INIT {0, 0, -1}

/** Open a streaming writer on `array` (which must outlive the stream; use it for nothing else
 *  while the stream is open except reads). Frames are C-order blocks spanning the array's
 *  whole current extent along every axis but `axis` (native byte order, fixed-size data types
 *  only). The stream keeps a ring of slabs (opts->queue_bytes): zarrc_stream_append copies
 *  into the slab being filled; a full slab is handed to the writer thread, which grows the
 *  array's shape and writes the slab through zarrc_array_write_at(ZARRC_EXTEND) — the same
 *  safe, serialized extend path (concurrent readers see the old or the new shape, a kill -9
 *  leaves a consistent array; on lock stores the grown shape is published every 100 ms and when
 *  the writer has been idle that long, not after every slab; see docs/api.md). Consecutive full slabs waiting together are
 *  written as one block. Memory: the queue plus what the pool's threads encode at a time
 *  (zarrc_stream_estimate_memory). `opts` may be NULL (defaults). *out is set to NULL on
 *  failure. Errors: ZARRC_EINVAL (bad axis, start, an array with a zero extent off the axis,
 *  a pending array), ZARRC_EUNSUPPORTED (variable-length data types, views), ZARRC_ENOMEM. */
ZARRC_API int zarrc_stream_open(zarrc_stream **out, zarrc_array *array, const zarrc_stream_options *opts);

/** Append a frame of `size` bytes: any whole number of hyperslabs (one index along the axis
 *  each: the product of the other extents times the item size), spanning chunk boundaries as
 *  it likes; `size` 0 is a no-op. The bytes are copied (the caller keeps `frame`). Blocks
 *  (back-pressure) while the queue is full. Returns the writer thread's first error once one
 *  happened (every later call and zarrc_stream_close return it too); slabs that were being
 *  written when it happened may or may not be stored, the array stays consistent.
 *  Threads: one producer at a time per stream. Errors: ZARRC_EINVAL (size not a whole number
 *  of hyperslabs), store and codec errors of the writer, ZARRC_EBOUNDS (the axis overflows). */
ZARRC_API int zarrc_stream_append(zarrc_stream *stream, const void *frame, size_t size);

/** Called by a stream when it no longer reads a lent frame (zarrc_stream_append_lent): `ctx`
 *  and `frame` as given to that call. From the stream's writer thread, from inside
 *  zarrc_stream_append_lent, or from zarrc_stream_close; never while a stream lock is held, so
 *  it may do anything except call into the same stream. */
typedef void (*zarrc_stream_release_fn)(void *ctx, const void *frame);

/** Append a frame as zarrc_stream_append does, without copying it when it can: the stream may
 *  read `frame` until it calls release(ctx, frame), exactly once for every call that returns
 *  ZARRC_OK (from the writer thread once the frame's data is written, from inside this call
 *  when it copied the frame or the writer was already done with it, or from
 *  zarrc_stream_close when a stream error stopped the writer first). Until then the caller
 *  must neither change nor free the frame. A failing call retains nothing and does not call
 *  release (the frame may be reused at once; indices of it queued before the failure may or
 *  may not be stored, as with zarrc_stream_append).
 *  Which frames are lent: a frame that starts on a slab boundary (a chunk — or shard —
 *  boundary along the axis, or the stream's start) and holds whole slabs is written from the
 *  caller's memory — along axis 0 (or when every axis before it has extent 1) any number of
 *  whole slabs, the rest of the frame copied; along other axes only a frame of exactly one
 *  slab. Any other frame is copied into the queue like zarrc_stream_append's, and released
 *  before the call returns. With chunks of one index along the axis every frame of one index
 *  is lent. (A queue of very many tiny slabs — lending state for all of them above a 16th of
 *  the queue and 64 KiB, i.e. slabs under ~1.4 KiB — keeps none: every frame is copied.)
 *  Lent slabs take their place in the queue (opts->queue_bytes counts them as if they were
 *  copied): the call blocks while the queue is full. Lent slabs waiting together are written
 *  as one block like queued slabs (along axis 0 wherever they are in memory; along other
 *  axes only when they lie one after another in memory — otherwise one slab at a time).
 *  Ordering, the shape updates and the crash guarantees are
 *  those of zarrc_stream_append; both calls may be mixed in one stream.
 *  Threads: one producer at a time per stream (release may run on the writer thread).
 *  Errors: ZARRC_EINVAL (NULL release, or as zarrc_stream_append), the writer's errors,
 *  ZARRC_EBOUNDS. */
ZARRC_API int zarrc_stream_append_lent(zarrc_stream *stream, const void *frame, size_t size,
                                       zarrc_stream_release_fn release, void *ctx);

/** Flush and release: the partly filled last slab is written (the shape then ends exactly at
 *  the last appended index), the writer thread joined, the lent frames it had not released
 *  yet released (after an error), the stream freed (also on error).
 *  Accepts NULL. Returns ZARRC_OK or the first error of the stream's life. */
ZARRC_API int zarrc_stream_close(zarrc_stream *stream);

/** Indices appended so far along the stream's axis (queued or written). */
ZARRC_API int64_t zarrc_stream_appended(const zarrc_stream *stream);

/** Upper bound, in bytes, of the memory a stream with these options takes: its queue of slabs
 *  plus, for every pool thread, a chunk's decoded and encoded buffers (sharded arrays: plus
 *  the inner chunk buffers the writer keeps between writes, at most two shards' bytes and at
 *  most 64 MiB). `opts` may be NULL.
 *  Errors: as zarrc_stream_open's argument checks; ZARRC_EBOUNDS if the size overflows. */
ZARRC_API int zarrc_stream_estimate_memory(const zarrc_array *array, const zarrc_stream_options *opts,
                                           size_t *bytes);

/* ------------------------------------------------------------------------------------------ */
/* Copying                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/** Progress callback: `done` of `total` units (destination chunks or shards). Return non-zero
 *  to cancel (the copy then fails with ZARRC_ECONFLICT "cancelled"). Called from the thread
 *  that started the copy. */
typedef int (*zarrc_progress_cb)(void *ctx, uint64_t done, uint64_t total);

/** Options for zarrc_array_copy (initialise with ZARRC_COPY_OPTIONS_INIT). */
typedef struct zarrc_copy_options {
    unsigned version;           /**< ZARRC_COPY_OPTIONS_VERSION */
    zarrc_progress_cb progress; /**< or NULL */
    void *progress_ctx;
    int allow_raw;              /**< copy stored chunk bytes without decoding when both arrays
                                     encode chunks identically (default 1) */
} zarrc_copy_options;

#define ZARRC_COPY_OPTIONS_VERSION 1
#define ZARRC_COPY_OPTIONS_INIT { ZARRC_COPY_OPTIONS_VERSION, NULL, NULL, 1 }

/** What a copy did. */
typedef struct zarrc_copy_stats {
    uint64_t units;        /**< destination chunks (or shards) processed */
    uint64_t bytes;        /**< decoded bytes copied (element data) */
    int raw;               /**< 1 if chunks were copied as stored bytes (re-keying only) */
} zarrc_copy_stats;

/** Copy every element of `src` into `dst`, which must have the same shape and data type (any
 *  format, chunking or codecs: this converts, recompresses and rechunks). Works through the
 *  destination's chunks (or shards) in bounded batches on the shared pool, so memory stays at
 *  a few chunks per thread whatever the array size. Chunks that end up equal to the fill
 *  value are not stored. `options` and `stats` may be NULL.
 *  Errors: ZARRC_EINVAL (shape or type mismatch), ZARRC_ECONFLICT (cancelled), read/write
 *  errors of either array. */
ZARRC_API int zarrc_array_copy(zarrc_array *dst, zarrc_array *src, const zarrc_copy_options *options,
                               zarrc_copy_stats *stats);

/* ========================================================================================== */
/* Groups and hierarchies (group handles, attributes, batch creation, consolidated metadata)   */
/* ========================================================================================== */

/* Flag bits of this section (they share one namespace with ZARRC_OVERWRITE). */
#define ZARRC_OPEN_NO_CONSOLIDATED 0x100u /**< zarrc_group_open: ignore consolidated metadata */
#define ZARRC_ATTRS_MERGE 0x200u          /**< set_attributes: update members, keep the others */
#define ZARRC_UPDATE_CONSOLIDATED 0x400u  /**< rewrite consolidated copies a change makes stale */

/** Store paths of groups whose consolidated metadata a change left stale (not updated).
 *  Initialize it zeroed (`zarrc_stale_list l = {0};`): the calls below clear it before
 *  filling it. Release with zarrc_stale_list_clear. */
typedef struct zarrc_stale_list {
    size_t count;
    char **paths; /**< count store paths ("" = the store's root) */
} zarrc_stale_list;

/** Release what a call put into `list` and zero it. Accepts NULL. */
ZARRC_API void zarrc_stale_list_clear(zarrc_stale_list *list);

typedef struct zarrc_group zarrc_group;

/** Open the group at `path` ("" = the store's root). If the group holds consolidated metadata
 *  (v2 `.zmetadata` next to its `.zgroup`, v3 inline `consolidated_metadata` in its
 *  `zarr.json`) and `flags` lacks ZARRC_OPEN_NO_CONSOLIDATED, its descendants are then opened
 *  from that copy with no further store reads; the copy is trusted as it is (a node missing
 *  from it is ZARRC_ENOTFOUND). Handles are independent: use one per thread or serialize.
 *  Errors: ZARRC_ENOTFOUND, ZARRC_EINVAL ('path' is an array; malformed documents, including
 *  malformed consolidated metadata), ZARRC_EUNSUPPORTED, store errors. */
ZARRC_API int zarrc_group_open(zarrc_group **out, zarrc_store *store, const char *path,
                               unsigned flags);

/** Release a group handle (never deletes data). Accepts NULL. */
ZARRC_API void zarrc_group_free(zarrc_group *group);

/** Format of the group: 2 or 3. */
ZARRC_API int zarrc_group_format(const zarrc_group *group);

/** Store path of the group ("" = root). Borrowed: valid until the handle is freed. */
ZARRC_API const char *zarrc_group_path(const zarrc_group *group);

/** 1 if the handle answers from consolidated metadata (its own or an ancestor's), else 0. */
ZARRC_API int zarrc_group_is_consolidated(const zarrc_group *group);

/** The group's attributes as a JSON object text (new string, zarrc_free), as of opening. */
ZARRC_API int zarrc_group_attributes(char **json, const zarrc_group *group);

/** Open the array at `relpath` below the group ("a/b" or "b"). With consolidated metadata the
 *  handle is built from the copy without reading the store; otherwise as zarrc_array_open. */
ZARRC_API int zarrc_group_open_array(zarrc_array **out, zarrc_group *group, const char *relpath);

/** Open the group at `relpath` below `group` ("" = the same group again). Consolidated
 *  metadata in use by `group` is shared with the new handle (no store reads). */
ZARRC_API int zarrc_group_open_group(zarrc_group **out, zarrc_group *group, const char *relpath);

/** Call `cb` for each child of the group in name order (as zarrc_group_list). From consolidated
 *  metadata when the handle uses it, else by listing the store. A non-zero return of `cb`
 *  stops the listing and is returned. */
ZARRC_API int zarrc_group_children(zarrc_group *group, zarrc_child_cb cb, void *ctx);

/** Replace (default) or merge-update (ZARRC_ATTRS_MERGE: the top-level members of `json` are
 *  set, the others kept, like Python's dict.update) the attributes of the node at `path`.
 *  `json` is a JSON object text. v3 rewrites `zarr.json` (other members are kept verbatim,
 *  including consolidated metadata); v2 rewrites `.zattrs` (removed when the result is {}).
 *  Consolidated copies that include this node's metadata are rewritten when flags has
 *  ZARRC_UPDATE_CONSOLIDATED; otherwise their groups are listed in `stale` (may be NULL; it
 *  is filled on success only). Not atomic against concurrent writers of the same node.
 *  Errors: ZARRC_EINVAL (not an object), ZARRC_ENOTFOUND, ZARRC_EREADONLY, store errors. */
ZARRC_API int zarrc_node_set_attributes(zarrc_store *store, const char *path, const char *json,
                                        unsigned flags, zarrc_stale_list *stale);

/* ---- batch creation ---------------------------------------------------------------------- */

/** Final state of one node of a batch. */
typedef enum zarrc_hnode_state {
    ZARRC_HNODE_PENDING = 0, /**< nothing written (refused, or the call stopped first) */
    ZARRC_HNODE_WRITTEN,     /**< its metadata was written */
    ZARRC_HNODE_EXISTING,    /**< accepted as it was: an existing group where an implied group
                                  is needed, or a listed node identical to what is stored */
    ZARRC_HNODE_FAILED       /**< writing it failed (status says why) */
} zarrc_hnode_state;

/** One node of a batch. Strings are borrowed from the report (or, in callbacks, for the
 *  duration of the call). */
typedef struct zarrc_hnode {
    const char *path;    /**< store path ("" = the store's root) */
    const char *relpath; /**< path relative to the batch root; NULL for implied ancestors of
                              the root */
    zarrc_node_kind kind;
    int format;
    int implied;         /**< 1: not listed, a group needed by a listed node */
    int replaced;        /**< 1: an existing node was removed first (ZARRC_OVERWRITE) */
    zarrc_hnode_state state;
    int status;          /**< ZARRC_OK, or the error of this node (conflict, failure) */
} zarrc_hnode;

/** Called once per node as it is done (written, accepted, or failed), from the pool's
 *  threads but never concurrently. Return 0 to continue; non-zero stops the batch (nodes not
 *  yet started stay PENDING) and is returned by the call. */
typedef int (*zarrc_hnode_cb)(void *ctx, const zarrc_hnode *node);

/** What a batch did. Nodes are listed parents first (by depth, then path). */
typedef struct zarrc_hierarchy_report {
    size_t count;
    zarrc_hnode *nodes;
    size_t written;         /**< nodes in state ZARRC_HNODE_WRITTEN */
    zarrc_stale_list stale; /**< consolidated groups the batch made stale (not updated) */
} zarrc_hierarchy_report;

/** Release a report. Accepts NULL. */
ZARRC_API void zarrc_hierarchy_report_free(zarrc_hierarchy_report *report);

typedef struct zarrc_hierarchy_options {
    unsigned version;   /**< ZARRC_HIERARCHY_OPTIONS_VERSION */
    unsigned flags;     /**< ZARRC_OVERWRITE, ZARRC_UPDATE_CONSOLIDATED */
    int format;         /**< 0: as the documents say (all must agree); 2 or 3: required */
    zarrc_hnode_cb on_node; /**< optional progress callback */
    void *ctx;
} zarrc_hierarchy_options;

#define ZARRC_HIERARCHY_OPTIONS_VERSION 1
#define ZARRC_HIERARCHY_OPTIONS_INIT { ZARRC_HIERARCHY_OPTIONS_VERSION, 0, 0, NULL, NULL }

/** One listed node of a batch: a relative path ("" = the batch root) and its metadata
 *  document (JSON text): a v3 `zarr.json` document, or a v2 `.zarray` / `.zgroup` document
 *  with an optional "attributes" member (what goes into `.zattrs`). A v2 document with a
 *  "shape" member is an array, otherwise a group. */
typedef struct zarrc_hierarchy_entry {
    const char *path;
    const char *metadata;
} zarrc_hierarchy_entry;

/** Create a whole hierarchy under `root` (a store path) in one call.
 *  1. Validation, before anything is read or written: relative paths ("", or names joined by
 *     single '/'; no '.', '..', empty or absolute paths; no metadata key names), duplicates,
 *     documents (arrays are validated as zarrc_array_create_json would, codecs included), one
 *     format for all, and no node below a listed array. Error: ZARRC_EINVAL (or
 *     ZARRC_EUNSUPPORTED / ZARRC_EDTYPE from a document) naming the offending paths.
 *  2. Groups implied by the paths (every ancestor up to the store's root) are added unless
 *     listed. Existing nodes are probed: an existing group of the same format stands for an
 *     implied group; an existing array (or other format) there is ZARRC_ECONFLICT. A listed
 *     node that exists and differs from its document (kind, format, metadata or attributes)
 *     is ZARRC_EEXISTS unless flags has ZARRC_OVERWRITE; an identical one is kept. On any
 *     conflict nothing is written and the message lists the paths (the report has them all).
 *  3. With ZARRC_OVERWRITE, replaced arrays and nodes replaced by arrays are erased with
 *     everything below them first (no stale chunks survive); a group replacing a group
 *     keeps its children (only its own metadata keys, incl. v2 `.zmetadata`, are replaced).
 *  4. Documents are written concurrently on the shared pool; a failure stops the batch:
 *     the error names the node, and the report says which nodes were written.
 *  Consolidated metadata of existing groups above written nodes is updated with
 *  ZARRC_UPDATE_CONSOLIDATED, else reported in report->stale.
 *  `report` (may be NULL) receives a report whenever the call got past argument checks,
 *  on failure too (after a validation failure it lists the entries as given, all PENDING);
 *  release it with zarrc_hierarchy_report_free. `options` may be NULL. Threads: the store's
 *  rules; the call itself may run concurrently with others. */
ZARRC_API int zarrc_hierarchy_create_entries(zarrc_hierarchy_report **report, zarrc_store *store,
                                             const char *root,
                                             const zarrc_hierarchy_entry *entries, size_t n,
                                             const zarrc_hierarchy_options *options);

/** As zarrc_hierarchy_create_entries, with the nodes given as one JSON object text
 *  {"<relative path>": <metadata document>, ...} — or as a pydantic-zarr GroupSpec: the nested
 *  form (the root's document with "members": {name: node}; "members": null or absent = no
 *  children) or its flat form (keys "" and "/a/b"), which are turned into this form first. A malformed text, or a member name given
 *  twice, is refused with ZARRC_EINVAL before a report exists (*report stays NULL). */
ZARRC_API int zarrc_hierarchy_create(zarrc_hierarchy_report **report, zarrc_store *store,
                                     const char *root, const char *spec_json,
                                     const zarrc_hierarchy_options *options);

/** The node at `path` as pydantic-zarr's hierarchy model (GroupSpec / ArraySpec JSON, as
 *  `GroupSpec.from_zarr(group).model_dump_json()` of pydantic-zarr 0.10 gives it): the node's
 *  metadata document completed with the members pydantic-zarr always writes (v3 arrays:
 *  attributes, storage_transformers, dimension_names; v2 arrays: attributes, order, filters,
 *  dimension_separator, compressor; v2 attributes from `.zattrs`) and, for groups,
 *  "members": {name: node, ...} — or null below `depth` levels (depth < 0: all levels). A new
 *  string (zarrc_free). zarrc_hierarchy_create accepts this nested form back (as well as
 *  pydantic-zarr's flat form with "/a/b" keys). Reads the store (not consolidated metadata).
 *  Errors: ZARRC_ENOTFOUND, malformed documents, store errors. Thread-safe. */
ZARRC_API int zarrc_hierarchy_spec(char **json, zarrc_store *store, const char *path, int depth);

/* ---- consolidated metadata ------------------------------------------------------------- */

/** Write consolidated metadata for the group at `path`, covering every node of the group's
 *  format reachable below it, as zarr-python writes it: v2 `.zmetadata`
 *  ({"metadata": {".zgroup": ..., "a/.zarray": ..., ...}, "zarr_consolidated_format": 1});
 *  v3 `consolidated_metadata` (kind "inline", entries keyed by relative path, ordered by
 *  depth then name; descendant groups carry an empty consolidated map) inside the group's
 *  `zarr.json`. Reads run concurrently on the shared pool, one level at a time.
 *  `count` (may be NULL) receives the number of nodes recorded (the group itself excluded). */
ZARRC_API int zarrc_consolidate(zarrc_store *store, const char *path, size_t *count);

/** As zarrc_consolidate, calling `progress(progress_ctx, done, 0)` (may be NULL) from the
 *  calling thread after each level of the hierarchy has been read, with `done` the nodes found
 *  so far (the total is not known in advance: 0). A non-zero return cancels: nothing is
 *  written and the call fails with ZARRC_ECONFLICT "cancelled". Errors: as zarrc_consolidate. */
ZARRC_API int zarrc_consolidate_progress(zarrc_store *store, const char *path, size_t *count,
                                         zarrc_progress_cb progress, void *progress_ctx);

/** Kinds of difference between a consolidated copy and the stored documents. */
typedef enum zarrc_consolidated_diff {
    ZARRC_CONSOLIDATED_MISSING = 1, /**< the node is stored but not in the copy */
    ZARRC_CONSOLIDATED_EXTRA,       /**< the copy has a node that is no longer stored */
    ZARRC_CONSOLIDATED_DIFFERENT    /**< the copy's metadata or attributes differ */
} zarrc_consolidated_diff;

/** One difference: `relpath` (relative to the consolidated group, "" = the group itself),
 *  `what` a short description ("attributes differ", ...). Strings borrowed for the call. */
typedef int (*zarrc_consolidated_diff_cb)(void *ctx, const char *relpath,
                                          zarrc_consolidated_diff kind, const char *what);

/** Compare the consolidated metadata of the group at `path` with the documents stored below
 *  it. `cb` (may be NULL) is called for each difference (in path order); `ndiff` (may be
 *  NULL) receives their number: 0 means the copy is up to date. Numbers compare by value
 *  (0 equals 0.0); the empty consolidated maps of descendant groups are ignored.
 *  ZARRC_ENOTFOUND if the group has no consolidated metadata. */
ZARRC_API int zarrc_consolidated_check(zarrc_store *store, const char *path,
                                       zarrc_consolidated_diff_cb cb, void *ctx, size_t *ndiff);

/** Groups whose consolidated metadata includes the metadata of the node at `path` (its
 *  ancestors of the same format holding consolidated metadata, and for v2 the node itself
 *  when it holds `.zmetadata`, which includes its own `.zattrs`), into `out` (cleared first).
 *  Use it after other metadata changes (array creation, resize) to learn what is now stale.
 *  Costs one read per ancestor. */
ZARRC_API int zarrc_consolidated_holders(zarrc_stale_list *out, zarrc_store *store,
                                         const char *path);

/** Bring the entries for the node at `path` (and, when it is gone, its whole subtree) up to
 *  date in every consolidated copy that includes it (see zarrc_consolidated_holders), from
 *  the documents stored now. */
ZARRC_API int zarrc_consolidated_update(zarrc_store *store, const char *path);

/* ------------------------------------------------------------------------------------------ */
/* References and links (the hdmf-zarr / NWB convention; docs/api.md, "References and links") */
/* ------------------------------------------------------------------------------------------ */

/** A resolved reference: where its target is. Initialize it zeroed; zarrc_node_resolve fills
 *  it on success only; release with zarrc_node_ref_clear. */
typedef struct zarrc_node_ref {
    zarrc_store *store;   /**< the store holding the target: the caller's store (one more
                               reference to the same handle) or, for an allowed external
                               source, a store opened read-only */
    char *path;           /**< store path of the target ("" = the root) */
    zarrc_node_kind kind; /**< what the target is */
    int format;           /**< its format, 2 or 3 */
    int external;         /**< 1 if the target is in another store than the caller's */
    char *source;         /**< the reference's "source" as written ("." = the same store) */
    char *object_id;      /**< its "object_id" when it has one (legacy form), else NULL */
} zarrc_node_ref;

/** Release what zarrc_node_resolve put into `ref` (the store reference included) and zero
 *  it. Accepts NULL. */
ZARRC_API void zarrc_node_ref_clear(zarrc_node_ref *ref);

/** Parse a reference without touching any store: `ref_json` is one of the forms hdmf-zarr
 *  writes — a JSON string (a reference array's element: a path "/a/b", or the JSON text of one
 *  of the objects below), `{"_REFERENCE": {"source": ".", "path": "/a/b"}}` (an attribute),
 *  a `_LINKS` entry `{"name": ..., "source": ..., "path": ...}`, the legacy v2 element
 *  `{"source", "path", "object_id", "source_object_id"}`, or the legacy attribute
 *  `{"zarr_dtype": "object", "value": {...}}`. *source ("." when absent), *path (normalized:
 *  no leading '/', "" = the root of the source) and *object_id (NULL when absent) are new
 *  strings (zarrc_free); any of the three out-pointers may be NULL. Errors: ZARRC_EINVAL (not
 *  a reference, malformed JSON, a path with "." or ".." segments), ZARRC_ENOMEM. Thread-safe. */
ZARRC_API int zarrc_ref_parse(char **source, char **path, char **object_id, const char *ref_json);

/** Resolve a reference (any form zarrc_ref_parse accepts) found in `store` to its target
 *  node: its "path" is relative to the root of the store named by "source", which is "." (or
 *  absent) for the same store, else a location relative to the store's root directory or a
 *  URL. A source leaving `store` fails with ZARRC_EAUTH unless `flags` has
 *  ZARRC_OPEN_ALLOW_EXTERNAL (the rule stored views follow); a source that comes back into
 *  the store's own directory counts as the same store. The target must exist: ZARRC_ENOTFOUND
 *  names it otherwise. Errors also: ZARRC_EINVAL (zarrc_ref_parse), ZARRC_EUNSUPPORTED (a
 *  relative external source of a store that is not a directory), store errors. Thread-safe. */
ZARRC_API int zarrc_node_resolve(zarrc_node_ref *out, zarrc_store *store, const char *ref_json,
                                 unsigned flags);

/** Resolve element `index` (flat C-order index) of the reference dataset at `array_path`: an
 *  array marked `_DTYPE: "object_reference"` (v3 `string` elements holding paths or reference
 *  JSON; a v2 array of any string type, or the legacy v2 "|O" array with the json2 or msgpack2
 *  object codec whose elements are reference objects), or — with `field` set — the field `field` of a v3
 *  `struct` array listing it in `_REFERENCE_FIELDS` (fields of fixed-size numeric,
 *  fixed_length_utf32 and null_terminated_bytes types are located without zarrc's struct
 *  support: the chunk is read as raw records). `field` must be NULL for plain reference
 *  arrays. Errors: ZARRC_EINVAL (not a reference dataset, unknown field), ZARRC_EBOUNDS
 *  (index), ZARRC_EDTYPE (elements of another type, e.g. vlen-array), errors of
 *  zarrc_node_resolve naming the element. */
ZARRC_API int zarrc_node_resolve_element(zarrc_node_ref *out, zarrc_store *store,
                                         const char *array_path, int64_t index, const char *field,
                                         unsigned flags);

/** What a node says about references (zarrc_node_references). */
typedef enum zarrc_ref_kind {
    ZARRC_REF_LINK = 1,  /**< a `_LINKS` (or legacy `zarr_link`) entry of a group */
    ZARRC_REF_ATTRIBUTE, /**< an attribute whose value is a reference */
    ZARRC_REF_ARRAY,     /**< the node is a reference dataset (`_DTYPE: "object_reference"`,
                              legacy `zarr_dtype: "object"`) */
    ZARRC_REF_FIELD      /**< a struct field listed in `_REFERENCE_FIELDS` */
} zarrc_ref_kind;

/** One reference of a node, borrowed for the duration of the callback. */
typedef struct zarrc_ref_info {
    zarrc_ref_kind kind;
    const char *name; /**< link name, attribute name or field name; NULL for ZARRC_REF_ARRAY */
    const char *json; /**< the reference as JSON text (links, attributes); NULL otherwise */
} zarrc_ref_info;

typedef int (*zarrc_ref_cb)(void *ctx, const zarrc_ref_info *ref);

/** Call `cb` for each link and reference the node at `path` declares in its attributes (links
 *  in order, then attributes in their order, then the node itself / its fields). A non-zero
 *  return of `cb` stops and is returned. Malformed entries (a `_LINKS` that is not a list of
 *  references) fail with ZARRC_EINVAL naming the node. */
ZARRC_API int zarrc_node_references(zarrc_store *store, const char *path, zarrc_ref_cb cb, void *ctx);

/** Add a link named `name` to the group at `group_path`, pointing at `target_path` (a store
 *  path of the same store) in the hdmf-zarr convention: an entry {"name", "source": ".",
 *  "path": "/<target>"} of the group's `_LINKS` attribute (an entry of the same name is
 *  replaced). The target must exist. The attributes document is rewritten as
 *  zarrc_node_set_attributes does (same concurrency caveat). Errors: ZARRC_EINVAL (name,
 *  paths, not a group), ZARRC_ENOTFOUND, ZARRC_EREADONLY, store errors. */
ZARRC_API int zarrc_node_link_add(zarrc_store *store, const char *group_path, const char *name,
                                  const char *target_path);

/* ------------------------------------------------------------------------------------------ */
/* Records onto hierarchies (docs/api.md, "Records and hierarchies")                           */
/* ------------------------------------------------------------------------------------------ */

/** The context a record type's callbacks receive: the group of the instance being written or
 *  read (store + path) and the session (which instances are already stored where). Borrowed
 *  for the duration of the callback. */
typedef struct zarrc_record_ctx zarrc_record_ctx;

/** How a user type maps its instances onto a group: attributes, child arrays, child groups
 *  (other instances, possibly of other types) and references to instances stored elsewhere.
 *  `serialize` writes `instance` into the context's group through the zarrc_record_* calls
 *  below; `deserialize` builds a new instance from it (*instance); `free_instance` releases one
 *  (may be NULL). Callbacks return ZARRC_OK or a negative code (raise a message with their
 *  own words if they like: the call adds the node's path). */
typedef struct zarrc_record_type {
    unsigned version; /**< ZARRC_RECORD_TYPE_VERSION */
    const char *name; /**< stored as the group attribute "zarrc_record_type" and checked on read */
    int (*serialize)(zarrc_record_ctx *ctx, const void *instance, void *user);
    int (*deserialize)(void **instance, zarrc_record_ctx *ctx, void *user);
    void (*free_instance)(void *instance, void *user);
    void *user;
} zarrc_record_type;

#define ZARRC_RECORD_TYPE_VERSION 1

/** Write `instance` as a group at `path` (format 3) through type->serialize. Child instances
 *  written with zarrc_record_write_child that were already written in this call (the same
 *  pointer) are not copied again: a link in the hdmf-zarr convention (`_LINKS`) points at the
 *  first copy. ZARRC_OVERWRITE in `flags` replaces an existing node. Errors: ZARRC_EEXISTS,
 *  the callbacks' errors (with the path), store errors. Not atomic: a failure leaves what was
 *  written. */
ZARRC_API int zarrc_record_write(zarrc_store *store, const char *path, const zarrc_record_type *type,
                                 const void *instance, unsigned flags);

/** The instances one zarrc_record_read built (each once, however often it is referenced). */
typedef struct zarrc_record_set zarrc_record_set;

/** Read the group at `path` back through type->deserialize into a new set (*out) whose root
 *  instance is zarrc_record_set_root(*out). Links (and children read twice) give the same
 *  instance pointer: shared instances stay shared. Errors: ZARRC_ENOTFOUND, ZARRC_EDTYPE (the
 *  group was written by another record type), the callbacks' errors, store errors. */
ZARRC_API int zarrc_record_read(zarrc_record_set **out, zarrc_store *store, const char *path,
                                const zarrc_record_type *type);

/** The root instance of a set. Borrowed: valid until zarrc_record_set_free. */
ZARRC_API void *zarrc_record_set_root(const zarrc_record_set *set);

/** Release every instance of the set (free_instance of its type, once each). Accepts NULL. */
ZARRC_API void zarrc_record_set_free(zarrc_record_set *set);

/** The store and the store path of the context's group (borrowed, for the callback). */
ZARRC_API zarrc_store *zarrc_record_store(const zarrc_record_ctx *ctx);
ZARRC_API const char *zarrc_record_path(const zarrc_record_ctx *ctx);

/** serialize: set attribute `name` of the group to the JSON text `json` (written when the
 *  callback returns). */
ZARRC_API int zarrc_record_set_attr(zarrc_record_ctx *ctx, const char *name, const char *json);

/** deserialize: attribute `name` of the group as JSON text (new string, zarrc_free);
 *  ZARRC_ENOTFOUND if absent. */
ZARRC_API int zarrc_record_get_attr(char **json, zarrc_record_ctx *ctx, const char *name);

/** serialize: create the child array `name` with `options` (format forced to 3; shape etc. as
 *  given) and write all of `data` (size bytes, as zarrc_array_write of the whole array). */
ZARRC_API int zarrc_record_write_array(zarrc_record_ctx *ctx, const char *name,
                                       const zarrc_array_options *options, const void *data,
                                       size_t size);

/** deserialize: open the child array `name` (a new handle: zarrc_array_free). */
ZARRC_API int zarrc_record_open_array(zarrc_array **out, zarrc_record_ctx *ctx, const char *name);

/** serialize: store `instance` (of `type`) as the child group `name` — or, if this write
 *  already stored that instance, as a link `name` to where it is. */
ZARRC_API int zarrc_record_write_child(zarrc_record_ctx *ctx, const char *name,
                                       const zarrc_record_type *type, const void *instance);

/** deserialize: the instance stored as child `name` (a group, or a link to one), built once
 *  per stored group. Borrowed: owned by the set being read. ZARRC_ENOTFOUND if there is no
 *  such child. */
ZARRC_API int zarrc_record_read_child(void **instance, zarrc_record_ctx *ctx, const char *name,
                                      const zarrc_record_type *type);

#ifdef __cplusplus
}
#endif
#endif /* ZARRC_H */
