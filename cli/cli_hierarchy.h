/*
 * cli_hierarchy.h — the hierarchy verbs of the zarrc tool (cli_hierarchy.c): tree,
 * hierarchy create, consolidate, attrs. Each takes the arguments after `zarrc`, argv[0]
 * being the verb, and returns the exit status (0, 1 failure, 2 usage error).
 */
#ifndef ZARRC_CLI_HIERARCHY_H
#define ZARRC_CLI_HIERARCHY_H

int cli_cmd_tree(int argc, char **argv);
int cli_cmd_hierarchy(int argc, char **argv);
int cli_cmd_consolidate(int argc, char **argv);
int cli_cmd_attrs(int argc, char **argv);

/* Help texts for the verb table: usage line(s), summary, and the option help. */
extern const char cli_tree_usage[], cli_tree_summary[], cli_tree_help[];
extern const char cli_hierarchy_usage[], cli_hierarchy_summary[], cli_hierarchy_help[];
extern const char cli_consolidate_usage[], cli_consolidate_summary[], cli_consolidate_help[];
extern const char cli_attrs_usage[], cli_attrs_summary[], cli_attrs_help[];

#endif
