/*
 * cli_verbs.h — the verbs of the zarrc tool, each defined in the file of its family; zarrc.c
 * lists them in its verb table. A new verb: its own file defining a cli_verb, a line here and
 * an entry in the table.
 */
#ifndef ZARRC_CLI_VERBS_H
#define ZARRC_CLI_VERBS_H

#include "cli_common.h"

extern const cli_verb cli_verb_create, cli_verb_info, cli_verb_resize; /* cli_array.c */
extern const cli_verb cli_verb_get, cli_verb_put, cli_verb_append;     /* cli_io.c */
extern const cli_verb cli_verb_ls, cli_verb_rm, cli_verb_cp;           /* cli_node.c */
extern const cli_verb cli_verb_tree, cli_verb_hierarchy, cli_verb_consolidate,
    cli_verb_attrs;                                                    /* cli_hierarchy.c */
extern const cli_verb cli_verb_view;                                   /* cli_view.c */
extern const cli_verb cli_verb_verify;                                 /* cli_verify.c */
extern const cli_verb cli_verb_du;                                     /* cli_stats.c */
extern const cli_verb cli_verb_help;                                   /* zarrc.c */

#endif
