/*
 * cli.h — shared declarations of the zarrc command-line tool. The tool uses only the public
 * header zarrc.h (plus json-c for its own JSON handling).
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

/* ---- errors (zarrc.c) ---- */

/** Print "zarrc: <message>" on stderr; returns CLI_EXIT_FAIL. */
int cli_fail(const char *fmt, ...) CLI_PRINTF(1, 2);
/** Print "zarrc: <context>: <library error>" on stderr; returns CLI_EXIT_FAIL. */
int cli_fail_lib(int code, const char *fmt, ...) CLI_PRINTF(2, 3);

/* ---- JSON helpers (zarrc.c) ---- */

/** Parse a complete JSON text strictly (bare NaN/Infinity tolerated). On failure writes a
 *  message to err and returns -1. *out may be NULL for a JSON null. */
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
    int64_t start, stop, step;
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
    int64_t *start, *count, *step;
    int out_ndim;
    int64_t *out_shape;
    int64_t nelem;
} cli_box;

/** Resolve `sel` (may be NULL = everything) for an array of the given shape, numpy style.
 *  Returns 0, or -1 with a message naming the dimension. */
int cli_select_resolve(cli_box *box, const cli_selection *sel, int ndim, const int64_t *shape,
                       char *err, size_t errlen);
void cli_box_free(cli_box *box);

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

/** True for string and bytes (zarrc_vlen) types. */
int cli_dtype_is_vlen(const zarrc_dtype_info *dt);

/** Release buffers of a zarrc_vlen filled by cli_data_read_json. */
void cli_vlen_release(zarrc_vlen *v);

/* ---- number text (cli_data.c) ---- */

/** Shortest round-trip text of a float of `width` bytes (2, 4 or 8) at p, laid out like
 *  Python's repr ("0.1", "1e-07", "1.0"); NaN/Infinity as the strings "NaN", "Infinity",
 *  "-Infinity" including the quotes. buf must hold 40 bytes. */
void cli_format_float(char *buf, const void *p, int width);

/** IEEE half <-> double. */

/* ---- views (cli_view.c) ---- */

/** Set by --allow-external (any verb): views may refer to locations outside their hierarchy. */
extern int cli_allow_external;
/** Open an array NODE: a node (a stored view is opened inside its hierarchy so that its
 *  relative layer locations resolve) or a view spec file ending in .json. Prints the error. */
int cli_open_array(zarrc_store **st, zarrc_array **arr, const char *node, unsigned store_flags);
/** Whether NODE is a view spec file: a regular file whose name ends in .json (a directory
 *  named x.json is a node). */
int cli_is_spec_file(const char *node);
/** `zarrc info` of a view (node or .json spec). */
int cli_view_info(const char *node, int as_json);
/** `zarrc view concat|stack|create|show`. */
int cli_cmd_view(int argc, char **argv);

#endif
