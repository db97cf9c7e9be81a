/*
 * cli_common.h — what the verb files of the zarrc tool share (cli_common.c): the verb
 * description, usage errors and option parsing against it, JSON printing, opening NODE
 * arguments, checks before creating a node and the stale-consolidated-metadata warning. It
 * includes cli.h (the helper layer); see there for the direction calls go in.
 */
#ifndef ZARRC_CLI_COMMON_H
#define ZARRC_CLI_COMMON_H

#include "cli.h"

/* ---- verbs ---- */

/** One verb of the tool: an entry of the verb table in zarrc.c, defined in the verb's file. */
typedef struct cli_verb {
    const char *name;                                        /* "create" */
    int (*run)(const struct cli_verb *v, int argc, char **argv); /* argv[0] is the verb */
    const char *usage;   /* synopsis line(s), starting with "zarrc VERB" */
    const char *summary; /* what it does (paragraph of `zarrc VERB --help`) */
    const char *help;    /* options and examples */
    const char *brief;   /* one line for `zarrc --help` */
} cli_verb;

/** Returned by the parsers below when --help was given and the verb's help was printed. */
#define CLI_HELP_SHOWN (-1)

/** The tool's own synopsis (after "usage: "), as in `zarrc --help` and usage errors. */
extern const char cli_tool_usage[];

/** Print the verb's help ("usage: ...", summary, options) to out. */
void cli_print_verb_help(const cli_verb *v, FILE *out);
/** Print "zarrc: VERB: <message>", the verb's usage and a hint on stderr (v NULL: the tool's
 *  usage); returns CLI_EXIT_USAGE. */
int cli_usage_error(const cli_verb *v, const char *fmt, ...) CLI_PRINTF(2, 3);
/** Parse the arguments after the verb (cli_parse_args): options anywhere, exactly `npos`
 *  positional arguments (named `what` in messages). Returns 0, CLI_EXIT_USAGE (message
 *  printed) or CLI_HELP_SHOWN (help printed). */
int cli_parse_positionals(const cli_verb *v, int argc, char **argv, const cli_opt *specs, const char **pos,
                          int npos, const char *what);
/** The common case: options and exactly one NODE. */
int cli_parse_node(const cli_verb *v, int argc, char **argv, const cli_opt *specs, const char **node);

/* ---- JSON output ---- */

/** Parse a library-produced JSON text; on failure keep it as a JSON string (new reference;
 *  NULL for NULL text). */
json_object *cli_json_from_text(const char *text);
/** Compact text of o (owned by o). */
const char *cli_json_compact(json_object *o);
/** Indented JSON (2 spaces, "key": value; lists of scalars on one line). */
void cli_json_print(FILE *out, json_object *o, int indent);
/** cli_json_print to stdout and a newline. */
void cli_json_println(json_object *o);
/** A JSON value for display: strings without quotes, everything else compact. */
const char *cli_json_display(json_object *o);
/** A JSON list of n integers (new reference). */
json_object *cli_dims_json(const int64_t *v, int n);

/* ---- nodes ---- */

/** Open the store at NODE. Returns 0 or CLI_EXIT_FAIL (message printed). */
int cli_open_store(zarrc_store **st, const char *node, unsigned flags);
/** Open the store at NODE and find what is there. Returns 0 or CLI_EXIT_FAIL (printed). */
int cli_open_node(zarrc_store **st, zarrc_node_kind *kind, int *format, const char *node, unsigned flags);
/** cli_open_array, returning 0 or CLI_EXIT_FAIL. */
int cli_open_array_node(zarrc_store **st, zarrc_array **arr, const char *node, unsigned flags);
/** The filesystem path of a NODE argument (plain path or file:// URL), or NULL for other URLs. */
const char *cli_node_fs_path(const char *node);
/** A library failure; when keys that belong to no node refused an overwrite or delete, say how
 *  to delete them anyway. Returns CLI_EXIT_FAIL. */
int cli_fail_erase(int rc, const char *what, const char *node);
/** Where a new node may go: never below an array, and in format 3 never under a name starting
 *  with "__" inside a group. Returns 0 or CLI_EXIT_FAIL (message printed). */
int cli_check_new_node(const char *node, int format);

/** Directories a create would make (the missing tail of the path), deepest first, so that a
 *  refused create can remove them again. */
typedef struct cli_made_dirs {
    char **paths;
    int n;
} cli_made_dirs;
void cli_record_missing_dirs(cli_made_dirs *m, const char *node);
/** Free the record; with do_remove, rmdir the directories first (only empty ones go). */
void cli_remove_made_dirs(cli_made_dirs *m, int do_remove);

/* ---- option values ---- */

/** Parse a dimension list option (cli_parse_dims). Returns 0 or CLI_EXIT_FAIL (printed). */
int cli_parse_dims_opt(const char *opt, const char *text, int64_t **out, int *n, int min_value);
/** Parse a chunk shape option: "N,..." or "[N,...]" (regular: *out malloc'd, *rect NULL) or a rectilinear
 *  grid as zarr-extensions' JSON chunk_shapes, "[[2,3,5],[[4,2]],10]" (per dimension a list of
 *  edges and [edge, count] runs, or a bare edge; at least one list): *rect = text, *out NULL.
 *  *n = dimensions.
 *  Returns 0 or CLI_EXIT_FAIL (printed). */
int cli_parse_grid_opt(const char *opt, const char *text, int64_t **out, int *n, const char **rect);
/** Check an option's JSON text and its type. Returns 0 or CLI_EXIT_FAIL (printed). */
int cli_check_json_option(const char *opt, const char *text, int want_obj, int want_list, int allow_null);
/** Bare NaN/Infinity are accepted for --fill-value as a convenience: the quoted spelling. */
const char *cli_normalize_fill(const char *text);

/* ---- view spec files and stored views ---- */

/** ZARRC_OPEN_ALLOW_EXTERNAL when --allow-external was given, else 0. */
unsigned cli_view_open_flags(void);
int cli_ends_with(const char *s, const char *suffix);
/** The whole file as a NUL-terminated string (malloc'd), NULL with errno set. */
char *cli_read_file(const char *path);
/** The directory of a path (malloc'd). */
char *cli_dir_of(const char *path);
/** The root of the hierarchy holding the real path `real`, and its path inside it. */
int cli_hierarchy_root(char **root, char **rel, const char *real);

/* ---- the enclosing hierarchy and its consolidated metadata ---- */

/** The store to open for NODE and the node's path in it: for a filesystem NODE, the topmost
 *  parent directory such that every directory between it and NODE is a group of `format`
 *  (0 = the format of the first parent group). Otherwise NODE itself and "". Returns 0 or -1
 *  (out of memory). */
int cli_enclosing(char **store_loc, char **rel, const char *node, int format);
/** Warn on stderr that each group of l (paths in store_loc) has stale consolidated metadata. */
void cli_warn_stale(const char *store_loc, const zarrc_stale_list *l, int update_hint);
/** After a metadata change at NODE (create, resize, ...): print a warning on stderr for each
 *  enclosing group (NODE's parent directories that are groups of the same hierarchy) whose
 *  consolidated metadata is now stale. Returns the number of such groups (never fails: a
 *  problem while looking is ignored). */
int cli_warn_consolidated(const char *node);

#endif
