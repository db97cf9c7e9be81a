/* cli_view.c — `zarrc view concat|stack|create|show` and opening views (view nodes and .json
 * spec files) wherever the CLI takes an array NODE. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_common.h"
#include "cli_verbs.h"

/* The location of `target` relative to directory `base` (both real absolute paths). */
static char *relative_to(const char *base, const char *target)
{
    size_t common = 0, i = 0;
    for (; base[i] && base[i] == target[i]; i++)
        if (base[i] == '/')
            common = i;
    if (!base[i] && (target[i] == '/' || !target[i]))
        common = i;
    else if (!strcmp(base, "/"))
        common = 0;
    int ups = 0;
    for (const char *p = base + common; *p; p++)
        if (*p == '/')
            ups++;
    const char *rest = target + common;
    if (*rest == '/')
        rest++;
    size_t n = (size_t)ups * 3 + strlen(rest) + 2;
    char *out = malloc(n);
    if (!out)
        return NULL;
    out[0] = 0;
    for (int k = 0; k < ups; k++)
        strcat(out, "../");
    strcat(out, rest);
    size_t l = strlen(out);
    if (l && out[l - 1] == '/')
        out[l - 1] = 0;
    if (!*out)
        strcpy(out, ".");
    return out;
}

static void view_usage(FILE *f)
{
    fputs("usage: zarrc view concat --axis N A B ... -o OUT [--fill-value JSON] [--overwrite]\n"
          "       zarrc view stack --axis N A B ... -o OUT [--fill-value JSON] [--overwrite]\n"
          "       zarrc view create OUT SPEC.json [--overwrite]\n"
          "       zarrc view show NODE\n\n"
          "Build a virtual array (view) over arrays, without copying data. OUT is a node (a view\n"
          "node: zarr.json with the spec in its 'zarrc_view' member) or a file ending in .json (the\n"
          "spec itself). Layer locations are stored relative to OUT. Every array NODE argument\n"
          "(get, put, info) may be a view node or a .json spec; --allow-external (any verb) lets\n"
          "views refer to locations outside their hierarchy. See docs/views.md.\n",
          f);
}

/* Write a view (spec text) to OUT: a .json file (spec with the short forms expanded) or a node. */
static int write_view(const char *out, const char *spec, int overwrite)
{
    struct stat sb;
    if (cli_ends_with(out, ".json")) {
        if (!overwrite && stat(out, &sb) == 0)
            return cli_fail("'%s' exists (use --overwrite to replace it)", out);
        char *dir = cli_dir_of(out);
        zarrc_store *st = NULL;
        zarrc_array *a = NULL;
        char *full = NULL;
        int rc = dir ? zarrc_store_open(&st, dir, 0) : ZARRC_ENOMEM;
        if (rc == 0)
            rc = zarrc_view_open(&a, spec, st, "", cli_view_open_flags());
        if (rc == 0)
            rc = zarrc_view_spec(&full, a);
        free(dir);
        if (rc) {
            zarrc_array_free(a);
            zarrc_store_free(st);
            return cli_fail_lib(rc, "view '%s'", out);
        }
        FILE *f = fopen(out, "wb");
        int bad = !f || fputs(full, f) < 0 || fputc('\n', f) < 0;
        if (f && fclose(f))
            bad = 1;
        zarrc_free(full);
        zarrc_array_free(a);
        zarrc_store_free(st);
        return bad ? cli_fail("writing '%s': %s", out, strerror(errno)) : 0;
    }
    /* A node: inside the hierarchy that holds its parent directory. */
    char *pdir = cli_dir_of(out), *preal = pdir ? realpath(pdir, NULL) : NULL, *root = NULL, *rel = NULL;
    const char *base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
    char *real = preal ? malloc(strlen(preal) + strlen(base) + 2) : NULL;
    if (!real) {
        free(pdir);
        free(preal);
        return cli_fail("'%s': the parent directory does not exist", out);
    }
    sprintf(real, "%s/%s", strcmp(preal, "/") ? preal : "", base);
    zarrc_store *st = NULL;
    int rc = cli_hierarchy_root(&root, &rel, real) ? ZARRC_ENOMEM : zarrc_store_open(&st, root, 0);
    if (rc == 0)
        rc = zarrc_view_create(NULL, st, rel, spec, (overwrite ? ZARRC_OVERWRITE : 0) | cli_view_open_flags());
    free(pdir);
    free(preal);
    free(real);
    free(root);
    free(rel);
    zarrc_store_free(st);
    return rc ? cli_fail_lib(rc, "creating view '%s'", out) : 0;
}

static int cmd_short(int argc, char **argv, const char *form)
{
    const char *axis_s = "0", *out = NULL, *fill = NULL;
    int overwrite = 0, help = 0;
    int64_t axis;
    char **arrays = calloc((size_t)argc + 1, sizeof *arrays);
    int n = 0;
    if (!arrays)
        return cli_fail("out of memory");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--axis") && i + 1 < argc)
            axis_s = argv[++i];
        else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(a, "--fill-value") && i + 1 < argc)
            fill = argv[++i];
        else if (!strcmp(a, "--overwrite"))
            overwrite = 1;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            help = 1;
        else if (a[0] == '-' && a[1]) {
            free(arrays);
            fprintf(stderr, "zarrc: view %s: unknown option '%s'\n", form, a);
            return CLI_EXIT_USAGE;
        } else
            arrays[n++] = argv[i];
    }
    if (help) {
        free(arrays);
        view_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!out || n < 1 || cli_parse_int64(axis_s, axis_s + strlen(axis_s), &axis)) {
        free(arrays);
        fprintf(stderr, "zarrc: view %s: needs --axis N, at least one array and -o OUT\n", form);
        return CLI_EXIT_USAGE;
    }
    /* Locations relative to the view: its directory for a .json, the node itself otherwise. */
    char *bdir = cli_ends_with(out, ".json") ? cli_dir_of(out) : strdup(out), *breal = NULL;
    if (bdir) {
        char *p = cli_dir_of(bdir);
        char *pr = p ? realpath(p, NULL) : NULL;
        const char *leaf = strrchr(bdir, '/') ? strrchr(bdir, '/') + 1 : bdir;
        if (cli_ends_with(out, ".json"))
            breal = realpath(bdir, NULL);
        else if (pr && (breal = malloc(strlen(pr) + strlen(leaf) + 2)))
            sprintf(breal, "%s/%s", strcmp(pr, "/") ? pr : "", leaf);
        free(p);
        free(pr);
    }
    free(bdir);
    if (!breal) {
        free(arrays);
        return cli_fail("'%s': the output's directory does not exist", out);
    }
    json_object *spec = json_object_new_object(), *body = json_object_new_object(), *list = json_object_new_array();
    json_object_object_add(body, "axis", json_object_new_int64(axis));
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        char *r = realpath(arrays[i], NULL), *rel = r ? relative_to(breal, r) : NULL;
        if (!rel)
            rc = cli_fail("'%s': %s", arrays[i], strerror(errno));
        else
            json_object_array_add(list, json_object_new_string(rel));
        free(r);
        free(rel);
    }
    json_object_object_add(body, "arrays", list);
    json_object_object_add(spec, form, body);
    if (fill && !rc) {
        char err[256];
        json_object *fv = NULL;
        if (cli_json_parse(&fv, fill, err, sizeof err)) {
            rc = cli_fail("--fill-value: %s", err);
        } else
            json_object_object_add(spec, "fill_value", fv);
    }
    if (!rc)
        rc = write_view(out, json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN), overwrite);
    json_object_put(spec);
    free(breal);
    free(arrays);
    return rc;
}

int cli_cmd_view(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        view_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "concat"))
        return cmd_short(argc - 1, argv + 1, "concatenate");
    if (!strcmp(sub, "stack"))
        return cmd_short(argc - 1, argv + 1, "stack");
    if (!strcmp(sub, "create")) {
        int overwrite = 0;
        const char *pos[2] = {NULL, NULL};
        int np = 0;
        for (int i = 2; i < argc; i++) {
            if (!strcmp(argv[i], "--overwrite"))
                overwrite = 1;
            else if (np < 2)
                pos[np++] = argv[i];
            else
                np = 3;
        }
        if (np != 2) {
            fputs("zarrc: view create: needs OUT and SPEC.json\n", stderr);
            return CLI_EXIT_USAGE;
        }
        char *text = cli_read_file(pos[1]);
        if (!text)
            return cli_fail("cannot read '%s': %s", pos[1], strerror(errno));
        int rc = write_view(pos[0], text, overwrite);
        free(text);
        return rc;
    }
    if (!strcmp(sub, "show")) {
        if (argc != 3) {
            fputs("zarrc: view show: needs NODE\n", stderr);
            return CLI_EXIT_USAGE;
        }
        zarrc_store *st;
        zarrc_array *a;
        if (cli_open_array(&st, &a, argv[2], ZARRC_STORE_READONLY))
            return CLI_EXIT_FAIL;
        char *spec = NULL;
        int rc = zarrc_view_spec(&spec, a);
        if (rc == 0)
            printf("%s\n", spec);
        zarrc_free(spec);
        zarrc_array_free(a);
        zarrc_store_free(st);
        return rc ? cli_fail_lib(rc, "'%s'", argv[2]) : 0;
    }
    fprintf(stderr, "zarrc: view: unknown action '%s' (concat, stack, create, show)\n", sub);
    return CLI_EXIT_USAGE;
}

static int cmd_view(const cli_verb *v, int argc, char **argv)
{
    (void)v;
    return cli_cmd_view(argc, argv);
}

/* ------------------------------------------------------------------------------------------ */
/* The verbs (entries of the verb table in zarrc.c, cli_verbs.h)                              */
/* ------------------------------------------------------------------------------------------ */

const cli_verb cli_verb_view = {"view", cmd_view, "zarrc view concat|stack|create|show ...",
     "Virtual arrays (views) over other arrays, without copying data.",
     "  zarrc view concat --axis N A B ... -o OUT [--fill-value JSON] [--overwrite]\n"
     "  zarrc view stack --axis N A B ... -o OUT [--fill-value JSON] [--overwrite]\n"
     "  zarrc view create OUT SPEC.json [--overwrite]\n"
     "  zarrc view show NODE\n"
     "OUT is a view node or a .json spec file. --allow-external (any verb) lets views refer\n"
     "to locations outside their hierarchy. See docs/views.md.\n",
     "virtual arrays: concatenate, stack, create from a spec, show"};
