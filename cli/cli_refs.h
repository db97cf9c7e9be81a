/*
 * cli_refs.h — links and references in the zarrc tool (cli_refs.c): the `refs` verb and the
 * helpers `tree` and `info` use to show links and references (hdmf-zarr / NWB convention).
 */
#ifndef ZARRC_CLI_REFS_H
#define ZARRC_CLI_REFS_H

#include <stdio.h>

#include <json-c/json.h>

#include "zarrc.h"
#include "cli_common.h"

/** One link or reference a node declares, resolved when possible. */
typedef struct cli_ref {
    zarrc_ref_kind kind; /* 0: the node's references could not be read (error says why) */
    char *name;          /* link / attribute / field name; NULL for reference datasets */
    char *target;        /* "/path" (prefixed with "SOURCE:" when external), or NULL */
    zarrc_node_kind target_kind; /* 0 when unresolved */
    char *error;         /* why it did not resolve, or NULL */
} cli_ref;

typedef struct cli_ref_list {
    cli_ref *v;
    size_t n, cap;
} cli_ref_list;

/** The links and attribute references of the node at `path` of `st`, resolved (flags:
 *  ZARRC_OPEN_ALLOW_EXTERNAL), plus the reference-dataset / reference-field markers (not
 *  resolved element by element). Problems are recorded in the entries, never fatal; returns
 *  0, or CLI_EXIT_FAIL when out of memory (message printed). */
int cli_refs_collect(cli_ref_list *out, zarrc_store *st, const char *path, unsigned flags);
void cli_refs_free(cli_ref_list *l);

/** Print "  key -> /target" annotations for the non-link entries (no newline). */
void cli_refs_print_suffix(FILE *f, const cli_ref_list *l);

/** Add "references" (non-link entries) to the JSON object `o` when there are any. */
void cli_refs_add_json(json_object *o, const cli_ref_list *l);

/** A JSON object for a link entry: {name, node_type: "link", target, target_type, error?}. */
json_object *cli_refs_link_json(const cli_ref *r);

/** Kind name: "array", "group" or "unresolved". */
const char *cli_refs_kind_name(zarrc_node_kind k);

/** `zarrc refs NODE [-r] [--allow-external] [--json] [--max N]`: every link and reference,
 *  resolved; exit 1 when one does not resolve. */
int cli_cmd_refs(const cli_verb *v, int argc, char **argv);
extern const char cli_refs_usage[], cli_refs_summary[], cli_refs_help[];

/** Open the store of NODE's file: at the topmost directory above NODE that is a group of the
 *  same hierarchy (references are relative to that root); *path = NODE's path in it (new
 *  string), with `store_flags` (ZARRC_STORE_READONLY). URLs are opened as they are. Returns 0 or CLI_EXIT_FAIL (message printed). */
int cli_refs_open_root(zarrc_store **st, char **path, const char *node, unsigned store_flags);

/** `zarrc cp -r` for an array zarrc cannot decode (unsupported data type or codec): copy its
 *  keys as they are stored (chunks first, metadata last) from spath of sst to dpath of dst;
 *  `format` 0 or the source's (a conversion is refused), flags ZARRC_OVERWRITE / ZARRC_FORCE.
 *  Returns 0 or CLI_EXIT_FAIL (message printed); prints a note on stderr. */
int cli_copy_verbatim(zarrc_store *sst, const char *spath, zarrc_store *dst, const char *dpath, const char *label,
                      int format, unsigned flags);

/** `zarrc info`: add "links" and "references" to the info JSON `o`, or (o NULL) print
 *  "link:" and "references:" lines. Silent when NODE's references cannot be read. */
void cli_refs_info(json_object *o, const char *node);

/** `zarrc tree --spec`: print the GroupSpec JSON of NODE (depth < 0: all levels). */
int cli_refs_print_spec(const char *node, int depth);

#endif
