/*
 * cli_stats.c — the verb `zarrc du`: bytes stored per node and in total (the scan is
 * cli_scan.c). Uses only the public API.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cli_verbs.h"

/* ------------------------------------------------------------------------------------------ */
/* du                                                                                          */
/* ------------------------------------------------------------------------------------------ */

static const char *kind_name(const cli_scan_node *n)
{
    return n->kind == ZARRC_NODE_ARRAY ? "array" : n->kind == ZARRC_NODE_GROUP ? "group" : "unreadable";
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(((const cli_scan_node *)a)->path, ((const cli_scan_node *)b)->path);
}

int cli_cmd_du(int argc, char **argv, const char *usage)
{
    const char *node = NULL;
    int recursive = 0, recursive_long = 0, as_json = 0;
    const cli_opt specs[] = {
        {"-r", NULL, &recursive}, {"--recursive", NULL, &recursive_long}, {"--json", NULL, &as_json},
        {NULL, NULL, NULL},
    };
    char err[512];
    int rc = cli_parse_args(argc, argv, specs, &node, 1, "NODE", err, sizeof err);
    if (rc == CLI_ARGS_HELP)
        return CLI_ARGS_HELP;
    if (rc) {
        fprintf(stderr, "zarrc: du: %s\nusage: %s\nTry 'zarrc help du' for more information.\n", err, usage);
        return CLI_EXIT_USAGE;
    }
    recursive |= recursive_long;
    zarrc_store *st;
    if ((rc = zarrc_store_open(&st, node, ZARRC_STORE_READONLY)))
        return cli_fail_lib(rc, "opening '%s'", node);
    zarrc_node_kind kind;
    int format;
    if ((rc = zarrc_node_probe(&kind, &format, st, ""))) {
        zarrc_store_free(st);
        return rc == ZARRC_ENOTFOUND ? cli_fail("'%s' is not a Zarr node (no zarr.json, .zarray or .zgroup there)", node)
                                     : cli_fail_lib(rc, "reading '%s'", node);
    }
    cli_scan s;
    if (cli_scan_store(&s, st, node)) {
        zarrc_store_free(st);
        return CLI_EXIT_FAIL;
    }
    qsort(s.nodes, (size_t)s.nnodes, sizeof *s.nodes, cmp_path); /* the root ("") first */
    char h[32];
    if (as_json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "node", json_object_new_string(node));
        json_object_object_add(o, "bytes", json_object_new_int64((int64_t)s.bytes));
        if (recursive) {
            json_object *list = json_object_new_array();
            for (int i = 0; i < s.nnodes; i++) {
                json_object *e = json_object_new_object();
                json_object_object_add(e, "path", json_object_new_string(s.nodes[i].path));
                json_object_object_add(e, "node_type", json_object_new_string(kind_name(&s.nodes[i])));
                json_object_object_add(e, "bytes", json_object_new_int64((int64_t)s.nodes[i].bytes));
                json_object_array_add(list, e);
            }
            json_object_object_add(o, "nodes", list);
        }
        fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE), stdout);
        fputc('\n', stdout);
        json_object_put(o);
    } else {
        if (recursive)
            for (int i = 0; i < s.nnodes; i++) {
                cli_format_bytes(h, sizeof h, s.nodes[i].bytes);
                printf("%10s  %-5s  ", h, kind_name(&s.nodes[i]));
                cli_print_name(stdout, *s.nodes[i].path ? s.nodes[i].path : ".");
                fputc('\n', stdout);
            }
        cli_format_bytes(h, sizeof h, s.bytes);
        printf("%10s  %s  ", h, recursive ? "total" : kind_name(&s.nodes[0]));
        cli_print_name(stdout, node);
        fputc('\n', stdout);
    }
    cli_scan_free(&s);
    zarrc_store_free(st);
    return CLI_EXIT_OK;
}

static int cmd_du(const cli_verb *v, int argc, char **argv)
{
    return cli_verb_run_fn(v, argc, argv, cli_cmd_du);
}

/* ------------------------------------------------------------------------------------------ */
/* The verbs (entries of the verb table in zarrc.c, cli_verbs.h)                              */
/* ------------------------------------------------------------------------------------------ */

const cli_verb cli_verb_du = {"du", cmd_du, "zarrc du NODE [-r] [--json]",
     "Show the bytes stored by NODE and everything below it (metadata and chunks). With -r,\n"
     "one line per node (its own keys) and the total.",
     "Options:\n"
     "  -r, --recursive   one line per node below NODE, then the total\n"
     "  --json            print {\"node\", \"bytes\"} (with -r also \"nodes\": [{\"path\",\n"
     "                    \"node_type\", \"bytes\"}]), exact byte counts\n"
     "\nExamples:\n"
     "  zarrc du data\n"
     "  zarrc du -r data --json\n",
     "bytes stored per node and in total"};
