/* cli_view.c — `zarrc view concat|stack|create|show` and opening views (view nodes and .json
 * spec files) wherever the CLI takes an array NODE. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

int cli_allow_external;

static unsigned open_flags(void) { return cli_allow_external ? ZARRC_OPEN_ALLOW_EXTERNAL : 0; }

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (n < cap - 1)
            break;
        char *nb = realloc(b, cap * 2);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    if (b)
        b[n] = 0;
    fclose(f);
    return b;
}

/* Directory part of a path ("." if none); malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static int is_node_dir(const char *dir)
{
    char buf[PATH_MAX + 16];
    struct stat st;
    static const char *const names[] = {"zarr.json", ".zgroup", ".zarray"};
    for (int i = 0; i < 3; i++) {
        snprintf(buf, sizeof buf, "%s/%s", dir, names[i]);
        if (stat(buf, &st) == 0)
            return 1;
    }
    return 0;
}

/* The root of the hierarchy holding filesystem node `real` (an absolute real path): the
 * top-most ancestor directory that is a Zarr group, else the node's parent. *rel = the
 * node's path below it. Both malloc'd. */
static int hierarchy_root(char **root, char **rel, const char *real)
{
    char *cur = dir_of(real);
    if (!cur)
        return -1;
    for (;;) {
        if (!strcmp(cur, "/"))
            break;
        char *up = dir_of(cur);
        if (!up || !is_node_dir(up)) {
            free(up);
            break;
        }
        free(cur);
        cur = up;
    }
    size_t n = strlen(cur);
    *root = cur;
    *rel = strdup(real + (n == 1 ? 1 : n + 1));
    return *rel ? 0 : -1;
}

int cli_is_spec_file(const char *node)
{
    const char *fs = !strncmp(node, "file://", 7) ? node + 7 : strstr(node, "://") ? NULL : node;
    struct stat sb;
    return fs && ends_with(fs, ".json") && stat(fs, &sb) == 0 && S_ISREG(sb.st_mode);
}

int cli_open_array(zarrc_store **st, zarrc_array **arr, const char *node, unsigned store_flags)
{
    *st = NULL;
    *arr = NULL;
    const char *fs = !strncmp(node, "file://", 7) ? node + 7 : strstr(node, "://") ? NULL : node;
    if (cli_is_spec_file(node)) {
        char *text = read_file(fs), *dir = dir_of(fs);
        if (!text || !dir) {
            free(text);
            free(dir);
            return cli_fail("cannot read '%s': %s", fs, strerror(errno));
        }
        int rc = zarrc_store_open(st, dir, store_flags);
        if (rc == 0)
            rc = zarrc_view_open(arr, text, *st, "", open_flags());
        free(text);
        free(dir);
        if (rc) {
            zarrc_store_free(*st);
            *st = NULL;
            return cli_fail_lib(rc, "opening view spec '%s'", fs);
        }
        return 0;
    }
    int rc = zarrc_store_open(st, node, store_flags);
    if (rc)
        return cli_fail_lib(rc, "opening '%s'", node);
    zarrc_node_kind kind;
    int format;
    rc = zarrc_node_probe(&kind, &format, *st, "");
    if (rc == 0 && kind != ZARRC_NODE_ARRAY) {
        zarrc_store_free(*st);
        *st = NULL;
        return cli_fail("'%s' is a group, not an array", node);
    }
    if (rc)
        return cli_probe_error(st, node, rc);
    if (rc == 0)
        rc = zarrc_array_open_flags(arr, *st, "", open_flags());
    if (rc == ZARRC_EAUTH && fs) {
        /* A stored view refers to its siblings: open it inside its hierarchy. */
        char *real = realpath(fs, NULL), *root = NULL, *rel = NULL;
        if (real && hierarchy_root(&root, &rel, real) == 0) {
            zarrc_store *st2;
            if (zarrc_store_open(&st2, root, store_flags) == 0) {
                if (zarrc_array_open_flags(arr, st2, rel, open_flags()) == 0) {
                    zarrc_store_free(*st);
                    *st = st2;
                    rc = 0;
                } else {
                    rc = zarrc_error_code();
                    zarrc_store_free(st2);
                }
            }
        }
        free(real);
        free(root);
        free(rel);
    }
    if (rc) {
        zarrc_store_free(*st);
        *st = NULL;
        return cli_fail_lib(rc, "opening array '%s'", node);
    }
    cli_object_note(*arr);
    return 0;
}

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
    if (ends_with(out, ".json")) {
        if (!overwrite && stat(out, &sb) == 0)
            return cli_fail("'%s' exists (use --overwrite to replace it)", out);
        char *dir = dir_of(out);
        zarrc_store *st = NULL;
        zarrc_array *a = NULL;
        char *full = NULL;
        int rc = dir ? zarrc_store_open(&st, dir, 0) : ZARRC_ENOMEM;
        if (rc == 0)
            rc = zarrc_view_open(&a, spec, st, "", open_flags());
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
    char *pdir = dir_of(out), *preal = pdir ? realpath(pdir, NULL) : NULL, *root = NULL, *rel = NULL;
    const char *base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
    char *real = preal ? malloc(strlen(preal) + strlen(base) + 2) : NULL;
    if (!real) {
        free(pdir);
        free(preal);
        return cli_fail("'%s': the parent directory does not exist", out);
    }
    sprintf(real, "%s/%s", strcmp(preal, "/") ? preal : "", base);
    zarrc_store *st = NULL;
    int rc = hierarchy_root(&root, &rel, real) ? ZARRC_ENOMEM : zarrc_store_open(&st, root, 0);
    if (rc == 0)
        rc = zarrc_view_create(NULL, st, rel, spec, (overwrite ? ZARRC_OVERWRITE : 0) | open_flags());
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
    char *bdir = ends_with(out, ".json") ? dir_of(out) : strdup(out), *breal = NULL;
    if (bdir) {
        char *p = dir_of(bdir);
        char *pr = p ? realpath(p, NULL) : NULL;
        const char *leaf = strrchr(bdir, '/') ? strrchr(bdir, '/') + 1 : bdir;
        if (ends_with(out, ".json"))
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
        char *text = read_file(pos[1]);
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

int cli_view_info(const char *node, int as_json)
{
    zarrc_store *st;
    zarrc_array *a;
    if (cli_open_array(&st, &a, node, ZARRC_STORE_READONLY))
        return CLI_EXIT_FAIL;
    char *spec = NULL, *fill = NULL, *attrs = NULL, *dtype = NULL;
    int rc = zarrc_view_spec(&spec, a);
    if (!rc)
        rc = zarrc_array_json(&fill, a, ZARRC_JSON_FILL_VALUE);
    if (!rc)
        rc = zarrc_array_json(&attrs, a, ZARRC_JSON_ATTRIBUTES);
    if (!rc)
        rc = zarrc_array_json(&dtype, a, ZARRC_JSON_DTYPE);
    if (rc) {
        cli_fail_lib(rc, "'%s'", node);
    } else {
        int nd = zarrc_array_ndim(a);
        const int64_t *sh = zarrc_array_shape(a);
        json_object *o = json_object_new_object(), *shape = json_object_new_array(),
                    *sp = json_tokener_parse(spec), *layers = NULL;
        for (int d = 0; d < nd; d++)
            json_object_array_add(shape, json_object_new_int64(sh[d]));
        json_object_object_get_ex(sp, "layers", &layers);
        if (as_json) {
            json_object_object_add(o, "node_type", json_object_new_string("view"));
            json_object_object_add(o, "shape", shape);
            json_object_object_add(o, "data_type", json_tokener_parse(dtype));
            json_object_object_add(o, "fill_value", json_tokener_parse(fill));
            json_object_object_add(o, "attributes", json_tokener_parse(attrs));
            json_object_object_add(o, "layers", json_object_new_int((int)json_object_array_length(layers)));
            json_object_object_add(o, "spec", json_object_get(sp));
            printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
        } else {
            printf("%-14s%s\n", "node:", node);
            printf("%-14s%s\n", "node type:", "view (virtual array)");
            printf("%-14s%s\n", "shape:", json_object_to_json_string_ext(shape, JSON_C_TO_STRING_PLAIN));
            printf("%-14s%s\n", "data type:", dtype);
            printf("%-14s%s\n", "fill value:", fill);
            printf("%-14s%d\n", "layers:", (int)json_object_array_length(layers));
            printf("%-14s%s\n", "attributes:", attrs);
            printf("spec:\n%s\n", spec);
            json_object_put(shape);
        }
        json_object_put(sp);
        json_object_put(o);
    }
    zarrc_free(spec);
    zarrc_free(fill);
    zarrc_free(attrs);
    zarrc_free(dtype);
    zarrc_array_free(a);
    zarrc_store_free(st);
    return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
