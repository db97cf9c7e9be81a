/*
 * cli.h — the helper layer of the zarrc command-line tool: errors, names, syntax, selections,
 * conversions, streaming, progress and store scans. The tool uses only the public header
 * zarrc.h (plus json-c for its own JSON handling).
 *
 * Calls go one way (checked by the test cli.layering):
 *   zarrc.c (main, verb table, help)
 *     -> verb files: cli_array.c, cli_io.c, cli_node.c, cli_hierarchy.c, cli_view.c,
 *        cli_verify.c, cli_stats.c (each defines its cli_verb objects, cli_verbs.h)
 *     -> helpers: cli_common.c (cli_common.h), cli_scan.c, cli_npy.c, cli_data.c,
 *        cli_progress.c, cli_select.c, cli_args.c (this header)
 * No verb file calls another verb file or zarrc.c; helpers never call verb files.
 */
#ifndef ZARRC_CLI_H
#define ZARRC_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "zarrc.h"

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* Exit statuses (the contract: 0 success, 1 operation failed, 2 usage error). */
enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

/* ---- errors (cli_common.c) ---- */

/** Print "zarrc: <message>" on stderr; returns CLI_EXIT_FAIL. */
int cli_fail(const char *fmt, ...) CLI_PRINTF(1, 2);
/** Print "zarrc: <context>: <library error>" on stderr; returns CLI_EXIT_FAIL. */
int cli_fail_lib(int code, const char *fmt, ...) CLI_PRINTF(2, 3);

/* ---- JSON helpers (cli_common.c, cli_data.c) ---- */

/** Parse a complete JSON text strictly (bare NaN/Infinity tolerated). On failure writes a
 *  message to err and returns -1. *out may be NULL for a JSON null. */
/* Byte order of raw data (cli_data.c): whether this host is little-endian; the bytes of one
 * byte-order unit of `dt` (1 = order does not matter; complex: each part); reverse the bytes of
 * every `width`-byte unit of p[0..nbytes). */
int cli_host_little_endian(void);
size_t cli_swap_width(const zarrc_dtype_info *dt);
void cli_swap_units(uint8_t *p, size_t nbytes, size_t width);
/* The message (and exit status 1) for a zarrc_node_probe of `node` that failed with `rc`:
 * "not a Zarr node" (mentioning an incomplete copy there) or the library's error. Frees *st. */
int cli_probe_error(zarrc_store **st, const char *node, int rc);
int cli_json_parse(json_object **out, const char *text, char *err, size_t errlen);

/* ---- command-line syntax (cli_args.c): parsing only, messages into err ---- */

/** An option of a verb: a switch (`flag` set to 1 when given) or an option with a value
 *  (`value` set to the text, given as "--name VALUE" or "--name=VALUE"). */
typedef struct cli_opt {
    const char *name;   /* "--dtype" */
    const char **value; /* options with a value */
    int *flag;          /* switches */
} cli_opt;

#define CLI_ARGS_HELP (-1)

/** Parse the arguments after the verb (argv[0] is the verb): options anywhere (`opts` ends
 *  with a NULL name), "--" ends them, and exactly `npos` positional arguments (named `what` in
 *  messages, e.g. "NODE") into pos. Returns 0, CLI_ARGS_HELP if --help or -h comes before any
 *  "--", or CLI_EXIT_USAGE with a message in err. */
int cli_parse_args(int argc, char **argv, const cli_opt *opts, const char **pos, int npos, const char *what,
                   char *err, size_t errlen);

/** cli_parse_args for a verb taking between at_least and at_most positional arguments (pos
 *  holds at_most entries); *npos receives how many were given. "unexpected argument" beyond
 *  at_most, "missing WHAT" below at_least. */
int cli_parse_args_list(int argc, char **argv, const cli_opt *opts, const char **pos, int at_least, int at_most,
                        int *npos, const char *what, char *err, size_t errlen);

enum { CLI_INT_OK = 0, CLI_INT_SYNTAX = -1, CLI_INT_RANGE = -2 };

/** Parse [s, e) as a decimal int64: an optional sign and digits, nothing else. Returns
 *  CLI_INT_OK, CLI_INT_SYNTAX or CLI_INT_RANGE (beyond int64; *v unchanged). */
int cli_parse_int64(const char *s, const char *e, int64_t *v);

/** Parse a dimension list "100,200" (optionally in [] or (); "" or [] is 0-d) into a new
 *  array (*out, free it; NULL for 0-d) of *n values, each >= min_value. Returns 0, or -1 with
 *  a message naming the option `opt` and the dimension in err. */
int cli_parse_dims(const char *opt, const char *text, int64_t **out, int *n, int min_value, char *err,
                   size_t errlen);

/* ---- selections (cli_select.c) ---- */

typedef struct cli_sel_dim {
    int is_index;   /* a single integer: picks one index and drops the axis */
    int has_start, has_stop;
    int64_t start, stop, step; /* step != 0; negative steps go from start down */
    int is_ellipsis;           /* "...": as many ':' as the array needs */
    int is_list;               /* "[i, j, ...]": these indices, in this order (orthogonal) */
    int64_t *list, nlist;
} cli_sel_dim;

typedef struct cli_selection {
    int ndim;
    cli_sel_dim *dims;
} cli_selection;

/** Parse SEL text (syntax only). Returns 0, or -1 with a message in err. */
int cli_select_parse(cli_selection *sel, const char *text, char *err, size_t errlen);
void cli_select_free(cli_selection *sel);

/** A selection resolved against an array shape: the box passed to zarrc_array_read/write and
 *  the shape of the result (sliced axes only). Arrays have `ndim` entries (at least 1). */
typedef struct cli_box {
    int ndim;
    int64_t *start, *count, *step; /* step may be negative (start is then the highest index) */
    int64_t **list;                /* per dimension: the indices of an index list, or NULL */
    int out_ndim;
    int64_t *out_shape;
    int64_t nelem;
} cli_box;

/** Resolve `sel` (may be NULL = everything) for an array of the given shape, numpy style.
 *  Returns 0, or -1 with a message naming the dimension. */
int cli_select_resolve(cli_box *box, const cli_selection *sel, int ndim, const int64_t *shape,
                       char *err, size_t errlen);
void cli_box_free(cli_box *box);

/** Array index of position j (0 <= j < count[d]) of dimension d of the box. */
int64_t cli_box_index(const cli_box *b, int d, int64_t j);

/** True when zarrc_array_read/write take the box as it is (positive steps, no lists). */
int cli_box_is_simple(const cli_box *b);

/** Read (write = 0) or write the part of the box whose positions along `axis` are [first,
 *  first + rows) (axis -1: the whole box) into/from `buf` (C order of that part, native
 *  order, nbytes = its elements × item size; fixed-size types). Negative steps and index
 *  lists are split into runs of one positive step, each read or written with one library
 *  call. Returns a ZARRC_* code (library message set). */
int cli_box_io(zarrc_array *arr, const cli_box *b, int axis, int64_t first, int64_t rows, void *buf,
               size_t nbytes, int write);

/* ---- data conversion (cli_data.c) ---- */

/** Print {"shape":[...],"dtype":"...","data":[...]} for `n` elements in `data` (a buffer of
 *  n * item_size bytes in native order, or a zarrc_vlen * for variable-length types). */
int cli_data_print_json(FILE *out, const zarrc_dtype_info *dt, const void *data, int64_t n,
                        int out_ndim, const int64_t *out_shape);

/** Write C-order little-endian bytes of n fixed-size elements. */
int cli_data_print_raw(FILE *out, const zarrc_dtype_info *dt, const void *data, int64_t n);

/** Read JSON data (a list, or an object with a "data" member) from `in` into `data` (n *
 *  item_size bytes, or a zarrc_vlen * that receives malloc'd buffers for variable-length
 *  types). The list is flat (n values) or nested with exactly the selection's shape
 *  `out_shape` (out_ndim entries; complex [re, im] pairs are values); ragged or differently
 *  shaped nesting is refused naming both shapes. `src` names the input in messages. Returns 0
 *  or CLI_EXIT_FAIL (message printed). */
int cli_data_read_json(FILE *in, const char *src, const zarrc_dtype_info *dt, void *data,
                       int64_t n, int out_ndim, const int64_t *out_shape);

/** Read exactly n * item_size little-endian bytes. Returns 0 or CLI_EXIT_FAIL. */
int cli_data_read_raw(FILE *in, const char *src, const zarrc_dtype_info *dt, void *data,
                      int64_t n);

/* ---- object arrays (cli_object.c) ---- */

/** get --json for an object array (ZARRC_DTYPE_OBJECT), like cli_data_print_json: elements
 *  as JSON values (json2, msgpack2) or lists of numbers (vlen-array). */
int cli_object_print_json(FILE *out, zarrc_array *arr, const zarrc_vlen *v, int64_t n, int out_ndim,
                          const int64_t *out_shape);
/** put --json for an object array, like cli_data_read_json: a flat list of n values or lists
 *  nested with the selection's shape (null = an empty typed array); `v` receives malloc'd
 *  buffers (cli_vlen_release). Returns 0 or CLI_EXIT_FAIL (message printed). */
int cli_object_read_json(FILE *in, const char *src, zarrc_array *arr, zarrc_vlen *v, int64_t n, int out_ndim,
                         const int64_t *out_shape);

/** True for string, bytes and object (zarrc_vlen) types. */
int cli_dtype_is_vlen(const zarrc_dtype_info *dt);
int cli_dtype_is_optional_vlen(const zarrc_dtype_info *dt); /* zarrs.optional of string/bytes */

/** Release buffers of a zarrc_vlen filled by cli_data_read_json. */
void cli_vlen_release(zarrc_vlen *v);

/* ---- number text (cli_data.c) ---- */

/** Shortest round-trip text of a float of `width` bytes (2, 4 or 8) at p, laid out like
 *  Python's repr ("0.1", "1e-07", "1.0"); NaN/Infinity as the strings "NaN", "Infinity",
 *  "-Infinity" including the quotes. buf must hold 40 bytes. */
void cli_format_float(char *buf, const void *p, int width);

/* ---- names on a terminal (cli_common.c) ---- */

/** Print a node or key name with control characters, backslashes and invalid bytes escaped
 *  (\n, \t, \\, \xHH), so that one name is always one line. */
void cli_print_name(FILE *out, const char *name);
/** The escaped text of a name (malloc'd, NULL when out of memory). */
char *cli_escape_name(const char *name);

/** "1.5 KiB" (IEC units, one decimal; bytes below 1024 exactly: "12 B") (cli_common.c). */
void cli_format_bytes(char *buf, size_t len, uint64_t n);

/* ---- store scans, chunk grids, statistics (cli_scan.c) ---- */

/** The chunk grid of an array (outer chunks, i.e. shards for sharded arrays) and the names of
 *  its chunk keys. shape/chunks are borrowed from the array. */
#define CLI_GRID_MAXD 32 /* ZARRC_MAX_DIMS or more */
typedef struct cli_grid {
    int ndim, format;
    const int64_t *shape, *chunks;
    int64_t *nchunks; /* chunks per dimension */
    int64_t total;    /* chunks in the grid, -1 beyond int64 */
    int v2_names;     /* "1.2" instead of "c/1/2" */
    char sep;
    int64_t *runs[CLI_GRID_MAXD]; /* rectilinear edge lists: (edge, count) pairs, or NULL */
    size_t nruns[CLI_GRID_MAXD];
} cli_grid;

/** Where chunk `coord` starts along dimension d and its length inside the extent. */
void cli_grid_span(const cli_grid *g, int d, int64_t coord, int64_t *start, int64_t *count);

/** Fill `g` for an open array. Returns 0 or CLI_EXIT_FAIL (message printed). */
int cli_grid_init(cli_grid *g, zarrc_array *arr);
void cli_grid_free(cli_grid *g);

/** Parse a key relative to the array's directory as a chunk key: 0 (coords filled, ndim
 *  entries), -2 a chunk name outside the grid, -1 not a chunk name. */
int cli_grid_parse_key(const cli_grid *g, const char *rel, int64_t *coords);

/** True for a metadata document name (zarr.json, .zarray, .zgroup, .zattrs, .zmetadata). */
int cli_key_is_metadata(const char *key);

typedef struct cli_scan_key {
    char *key;
    uint64_t size;
    int node; /* index into nodes of the deepest node above the key */
} cli_scan_key;

typedef struct cli_scan_node {
    char *path;          /* relative to the scanned root; "" for the root */
    zarrc_node_kind kind; /* 0 when the metadata could not be read (error says why) */
    int format;
    char *error;
    uint64_t bytes;      /* the node's own keys (metadata, chunks, strays) */
} cli_scan_node;

/** Every listed key below a store's root, with sizes, and the nodes they belong to (nodes
 *  sorted deepest first). */
typedef struct cli_scan {
    cli_scan_key *keys;
    size_t nkeys, cap;
    cli_scan_node *nodes;
    int nnodes;
    uint64_t bytes;
} cli_scan;

/** Scan the store (label names it in messages). Returns 0 or CLI_EXIT_FAIL (printed). */
int cli_scan_store(cli_scan *s, zarrc_store *st, const char *label);
void cli_scan_free(cli_scan *s);
/** Index of the deepest node (nodes sorted deepest first) holding `key`. */
int cli_scan_node_of(const cli_scan *s, const char *key);

typedef struct cli_array_stats_t {
    uint64_t stored_bytes; /* every key of the array: metadata and chunks (as zarr-python's nbytes_stored) */
    uint64_t chunk_bytes;  /* the chunk (or shard) keys alone */
    int64_t decoded_bytes; /* size * item size; -1 for variable-length types */
    int64_t chunks_initialized, chunks_total; /* total -1 beyond int64 */
    int sharded;
} cli_array_stats_t;

/** Storage statistics of the array `arr` at the root of `st`. Returns 0 or CLI_EXIT_FAIL. */
int cli_array_stats(cli_array_stats_t *out, zarrc_store *st, zarrc_array *arr, const char *label);

/* ---- streaming binary I/O (cli_npy.c) ---- */

/** The NumPy dtype string of a fixed-size type, little-endian ("<i4", "|b1", "<M8[ns]").
 *  Returns 0, or -1 for types NumPy has no fixed-size equivalent of. */
int cli_npy_descr(char *buf, size_t len, const zarrc_dtype_info *dt);

/** Write the selection `box` of `arr` to `out` as little-endian C-order bytes (with a .npy
 *  header when `npy`), reading slabs of whole chunk rows: memory is one slab (about 16 MiB,
 *  at least one chunk row) plus what the library decodes. The caller has checked that the
 *  selection's byte size fits size_t. Returns 0 or CLI_EXIT_FAIL (message printed). */
int cli_stream_get(FILE *out, int npy, zarrc_array *arr, const cli_box *box, const char *node, int quiet);

/** Read the selection's data from `in` (raw little-endian bytes, or a .npy file whose dtype
 *  and shape must match) and write it slab by slab. `src` names the input. Returns 0 or
 *  CLI_EXIT_FAIL; on a short input the slabs before it have been written (said so). */
int cli_stream_put(FILE *in, const char *src, int npy, zarrc_array *arr, const cli_box *box, const char *node,
                   int quiet);

/** Write one value (JSON text, converted as put --json converts values) into every element
 *  of the selection, slab by slab. Returns 0 or CLI_EXIT_FAIL (message printed). */
int cli_stream_fill(zarrc_array *arr, const cli_box *box, const char *value, const char *node, int quiet);

/* ---- progress on a terminal (cli_progress.c) ---- */

typedef struct cli_progress {
    int enabled;
    const char *label, *unit;
    double started, last;
    uint64_t total_units, total_bytes;
} cli_progress;

/** Set up a progress line on stderr: enabled only when stderr is a terminal and !quiet. */
void cli_progress_start(cli_progress *p, const char *label, const char *unit, uint64_t total_units, int quiet);
/** Redraw (at most 10 times a second): units and bytes done, MB/s, ETA. */
void cli_progress_update(cli_progress *p, uint64_t units, uint64_t bytes);
/** Erase the line. */
void cli_progress_end(cli_progress *p);
/** Seconds since an arbitrary start (monotonic). */
double cli_now(void);


/* ---- views (opening: cli_common.c; the verb: cli_view.c) ---- */

/** Set by --allow-external (any verb): views may refer to locations outside their hierarchy. */
extern int cli_allow_external;
/** Open an array NODE: a node (a stored view is opened inside its hierarchy so that its
 *  relative layer locations resolve) or a view spec file ending in .json. Prints the error. */
int cli_open_array(zarrc_store **st, zarrc_array **arr, const char *node, unsigned store_flags);
/** Whether NODE is a view spec file: a regular file whose name ends in .json (a directory
 *  named x.json is a node). */
int cli_is_spec_file(const char *node);

#endif
