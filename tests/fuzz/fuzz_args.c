/*
 * Fuzz target: the command line. The input is split at NUL bytes into an argument vector for
 * one verb (byte 0 picks the verb's option table and positional count: those of get, put,
 * create, cp, tree, hierarchy create); it goes through the parser every verb uses
 * (cli_parse_args), and the option values the verbs parse further go through theirs
 * (dimension lists, selections resolved against a fixed shape). No verb runs. The parser must
 * never read outside argv, crash, or accept what it reports as an error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int which = data[0] % 6;
    /* argv: the verb, then the input's NUL-separated pieces */
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data + 1, size - 1);
    copy[size - 1] = 0;
    static const char *const verbs[] = {"get", "put", "create", "cp", "tree", "hierarchy"};
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    argv[argc++] = (char *)verbs[which];
    for (char *s = copy; s < copy + size - 1 && argc < MAX_ARGS; s += strlen(s) + 1)
        argv[argc++] = s;
    argv[argc] = NULL;

    const char *select = NULL, *json = NULL, *raw = NULL, *dtype = NULL, *shape = NULL, *chunks = NULL,
               *shards = NULL, *format = NULL, *codecs = NULL, *depth = NULL;
    int f1 = 0, f2 = 0, f3 = 0, f4 = 0;
    const cli_opt get_opts[] = {{"--select", &select, NULL}, {"--json", NULL, &f1}, {"--raw", NULL, &f2},
                                {NULL, NULL, NULL}};
    const cli_opt put_opts[] = {{"--select", &select, NULL}, {"--json", &json, NULL}, {"--raw", &raw, NULL},
                                {NULL, NULL, NULL}};
    const cli_opt create_opts[] = {{"--dtype", &dtype, NULL}, {"--shape", &shape, NULL},
                                   {"--chunks", &chunks, NULL}, {"--format", &format, NULL},
                                   {"--overwrite", NULL, &f1}, {"--group", NULL, &f2}, {NULL, NULL, NULL}};
    const cli_opt cp_opts[] = {{"--format", &format, NULL}, {"--codecs", &codecs, NULL},
                               {"--chunks", &chunks, NULL}, {"--shards", &shards, NULL},
                               {"-r", NULL, &f1},           {"--recursive", NULL, &f1},
                               {"--overwrite", NULL, &f2},  {"--json", NULL, &f3},
                               {"--no-raw", NULL, &f4},     {NULL, NULL, NULL}};
    const cli_opt tree_opts[] = {{"--depth", &depth, NULL}, {"--json", NULL, &f1},
                                 {"--no-consolidated", NULL, &f2}, {NULL, NULL, NULL}};
    const cli_opt hier_opts[] = {{"--overwrite", NULL, &f1}, {"--format", &format, NULL},
                                 {"--update-consolidated", NULL, &f2}, {"--json", NULL, &f3},
                                 {NULL, NULL, NULL}};
    const cli_opt *const tables[] = {get_opts, put_opts, create_opts, cp_opts, tree_opts, hier_opts};
    int npos = which == 3 || which == 5 ? 2 : 1;
    const char *pos[2] = {NULL, NULL};
    char err[512];
    err[0] = 0;
    int rc = cli_parse_args(argc, argv, tables[which], pos, npos, npos == 1 ? "NODE" : "SRC and DST", err,
                            sizeof err);
    check(rc == 0 || rc == CLI_ARGS_HELP || rc == CLI_EXIT_USAGE);
    check(rc != CLI_EXIT_USAGE || err[0]); /* a refusal says why */
    if (rc == 0) {
        /* accepted: every positional is a non-empty argument of the vector */
        for (int i = 0; i < npos; i++) {
            int found = 0;
            for (int k = 1; k < argc; k++)
                found |= pos[i] == argv[k];
            check(found && pos[i][0]);
        }
        const char *dims[] = {shape, chunks, shards};
        for (int i = 0; i < 3; i++) {
            int64_t *v = NULL;
            int n = -1;
            if (dims[i] && cli_parse_dims("--shape", dims[i], &v, &n, i ? 1 : 0, err, sizeof err) == 0) {
                check(n >= 0 && (n == 0) == (v == NULL));
                for (int d = 0; d < n; d++)
                    check(v[d] >= (i ? 1 : 0));
            }
            free(v);
        }
        if (select) {
            static const int64_t fixed[3] = {7, 1, INT64_MAX};
            cli_selection sel;
            if (cli_select_parse(&sel, select, err, sizeof err) == 0) {
                cli_box box;
                if (cli_select_resolve(&box, &sel, 3, fixed, err, sizeof err) == 0)
                    cli_box_free(&box);
                cli_select_free(&sel);
            }
        }
    }
    free(copy);
    return 0;
}
