/*
 * zarrc.c — the zarrc command-line tool: main(), the global options (--help, --version,
 * --allow-external), the verb table and help dispatch. Each verb lives in the file of its
 * family (cli_verbs.h); a new verb is one entry in the table below plus its own file. Uses only
 * the public API (zarrc.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "cli_verbs.h"

static int cmd_help(const cli_verb *v, int argc, char **argv);

const cli_verb cli_verb_help = {"help", cmd_help, "zarrc help [VERB]", "Show help for zarrc or one of its verbs.", "",
                                 "show help for a verb"};

/* The verbs, in the order of `zarrc --help`. */
static const cli_verb *const verbs[] = {
    &cli_verb_create,    &cli_verb_info,        &cli_verb_get,   &cli_verb_put,  &cli_verb_append,
    &cli_verb_resize,    &cli_verb_ls,          &cli_verb_rm,    &cli_verb_cp,   &cli_verb_tree,
    &cli_verb_hierarchy, &cli_verb_consolidate, &cli_verb_attrs, &cli_verb_view, &cli_verb_verify,
    &cli_verb_du,        &cli_verb_help,
};

static const cli_verb *find_verb(const char *name)
{
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(verbs[i]->name, name))
            return verbs[i];
    return NULL;
}

static void print_main_help(FILE *out)
{
    fputs("zarrc - inspect and edit Zarr (format 2 and 3) arrays and groups\n"
          "\n"
          "usage: zarrc VERB NODE [OPTIONS]\n"
          "       zarrc help [VERB] | zarrc VERB --help | zarrc --help | zarrc --version\n"
          "\nVerbs:\n",
          out);
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(out, "  %-12s %s\n", verbs[i]->name, verbs[i]->brief);
    fputs("\nNODE is the node itself (the directory holding zarr.json, or .zarray/.zgroup), as\n"
          "a filesystem path or a file:// URL.\n"
          "\nExit status: 0 success, 1 the operation failed (message on stderr), 2 usage error.\n"
          "\nExamples:\n"
          "  zarrc create /tmp/a --dtype int32 --shape 4,4 --chunks 2,2\n"
          "  echo '[[1,2,3,4],[5,6,7,8]]' | zarrc put /tmp/a --select 0:2 --json -\n"
          "  zarrc get /tmp/a --select 1,::2\n"
          "  zarrc info /tmp/a\n"
          "\nSee 'zarrc help VERB' for the options of each verb.\n",
          out);
}

static int cmd_help(const cli_verb *v, int argc, char **argv)
{
    if (argc > 2)
        return cli_usage_error(v, "too many arguments");
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        print_main_help(stdout);
        return CLI_EXIT_OK;
    }
    const cli_verb *w = find_verb(argv[1]);
    if (!w)
        return cli_usage_error(v, "unknown verb '%s'", argv[1]);
    cli_print_verb_help(w, stdout);
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("zarrc: missing VERB\nusage: zarrc VERB [OPTIONS] NODE\n\nVerbs:\n", stderr);
        for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
            fprintf(stderr, "  %s\n", verbs[i]->usage);
        fputs("\nTry 'zarrc --help' or 'zarrc help VERB' for more information.\n", stderr);
        return CLI_EXIT_USAGE;
    }
    const char *a = argv[1];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
        if (argc > 2)
            return cli_usage_error(NULL, "%s takes no operands (got '%s'; try 'zarrc help %s')", a, argv[2], argv[2]);
        print_main_help(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
        if (argc > 2)
            return cli_usage_error(NULL, "%s takes no operands (got '%s')", a, argv[2]);
        printf("zarrc %s (libzarrc %s)\n", ZARRC_VERSION_STRING, zarrc_version());
        return CLI_EXIT_OK;
    }
    const cli_verb *v = find_verb(a);
    if (!v) {
        if (a[0] == '-')
            return cli_usage_error(NULL, "unknown option '%s'", a);
        return cli_usage_error(NULL, "unknown verb '%s'", a);
    }
    /* --allow-external is accepted by every verb (before any "--"). */
    for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--allow-external")) {
            cli_allow_external = 1;
            memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof *argv);
            argc--;
            i--;
        }
    static char outbuf[1 << 16];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    int rc = v->run(v, argc - 1, argv + 1);
    if (fflush(stdout) && rc == CLI_EXIT_OK)
        rc = cli_fail("writing the output: %s", strerror(errno));
    return rc;
}

