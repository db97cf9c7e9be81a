/*
 * cli_common.c — what every verb of the zarrc tool shares: error reporting, JSON parsing and
 * printing, escaped names, usage errors and option parsing against a verb's usage text,
 * opening NODE arguments (nodes, stored views, .json view specs), checks before creating a
 * node, and the warning about stale consolidated metadata above a changed node. No verb lives
 * here; this file calls only the public API and cli_args.c (see cli_common.h for the layers).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_common.h"

/* ------------------------------------------------------------------------------------------ */
/* Errors and JSON helpers                                                                     */
/* ------------------------------------------------------------------------------------------ */

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("zarrc: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_EXIT_FAIL;
}

int cli_fail_lib(int code, const char *fmt, ...)
{
    const char *msg = zarrc_error_last();
    char saved[2048];
    snprintf(saved, sizeof saved, "%s", msg && *msg ? msg : zarrc_strerror(code));
    va_list ap;
    fflush(stdout);
    fputs("zarrc: ", stderr);
    if (fmt) {
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs(": ", stderr);
    }
    fprintf(stderr, "%s\n", saved);
    return CLI_EXIT_FAIL;
}

int cli_json_parse(json_object **out, const char *text, char *err, size_t errlen)
{
    *out = NULL;
    size_t len = strlen(text);
    json_tokener *tok = json_tokener_new_ex(ZARRC_MAX_JSON_DEPTH + 1); /* as deep as the library reads */
    if (!tok) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    /* Include the terminating NUL so that a bare top-level number or literal completes. */
    json_object *o = json_tokener_parse_ex(tok, text, (int)len + 1);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (e != json_tokener_success) {
        snprintf(err, errlen, "invalid JSON: %s at offset %zu", json_tokener_error_desc(e),
                 end > len ? len : end);
        json_object_put(o);
        return -1;
    }
    for (size_t i = end; i < len; i++)
        if (!isspace((unsigned char)text[i])) {
            snprintf(err, errlen, "invalid JSON: unexpected data at offset %zu", i);
            json_object_put(o);
            return -1;
        }
    *out = o;
    return 0;
}

/* Parse a library-produced JSON text; on failure keep it as a JSON string. */
json_object *cli_json_from_text(const char *text)
{
    json_object *o;
    char err[128];
    if (!text)
        return NULL;
    if (cli_json_parse(&o, text, err, sizeof err))
        return json_object_new_string(text);
    return o;
}

const char *cli_json_compact(json_object *o)
{
    return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Indented JSON (2 spaces, "key": value; lists of scalars on one line). */
void cli_json_print(FILE *out, json_object *o, int indent)
{
    if (json_object_is_type(o, json_type_object)) {
        if (json_object_object_length(o) == 0) {
            fputs("{}", out);
            return;
        }
        fputs("{\n", out);
        int first = 1;
        json_object_object_foreach(o, key, val) {
            json_object *k = json_object_new_string(key);
            fprintf(out, "%s%*s%s: ", first ? "" : ",\n", indent + 2, "", cli_json_compact(k));
            json_object_put(k);
            cli_json_print(out, val, indent + 2);
            first = 0;
        }
        fprintf(out, "\n%*s}", indent, "");
        return;
    }
    if (json_object_is_type(o, json_type_array)) {
        size_t n = json_object_array_length(o);
        int flat = 1;
        for (size_t i = 0; i < n && flat; i++) {
            json_object *e = json_object_array_get_idx(o, i);
            flat = !json_object_is_type(e, json_type_object) &&
                   !json_object_is_type(e, json_type_array);
        }
        fputc('[', out);
        for (size_t i = 0; i < n; i++) {
            if (flat) {
                fputs(i ? ", " : "", out);
            } else {
                fprintf(out, "%s\n%*s", i ? "," : "", indent + 2, "");
            }
            cli_json_print(out, json_object_array_get_idx(o, i), indent + 2);
        }
        if (!flat && n)
            fprintf(out, "\n%*s", indent, "");
        fputc(']', out);
        return;
    }
    fputs(cli_json_compact(o), out);
}

void cli_json_println(json_object *o)
{
    cli_json_print(stdout, o, 0);
    fputc('\n', stdout);
}

/* A JSON value for display: strings without quotes, everything else compact. */
const char *cli_json_display(json_object *o)
{
    return json_object_is_type(o, json_type_string) ? json_object_get_string(o) : cli_json_compact(o);
}

char *cli_escape_name(const char *name)
{
    size_t n = strlen(name);
    char *out = malloc(n * 4 + 1); /* every byte at most "\xHH" */
    if (!out)
        return NULL;
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p == '\n')
            o += sprintf(o, "\\n");
        else if (*p == '\t')
            o += sprintf(o, "\\t");
        else if (*p == '\\')
            o += sprintf(o, "\\\\");
        else if (*p < 0x20 || *p == 0x7f)
            o += sprintf(o, "\\x%02x", *p);
        else
            *o++ = (char)*p; /* UTF-8 passes through */
    }
    *o = 0;
    return out;
}

void cli_print_name(FILE *out, const char *name)
{
    char *e = cli_escape_name(name);
    fputs(e ? e : name, out);
    free(e);
}

/* ------------------------------------------------------------------------------------------ */
/* Verbs, help and option parsing                                                             */
/* ------------------------------------------------------------------------------------------ */

const char cli_tool_usage[] = "zarrc VERB NODE [OPTIONS]\n"
                              "       zarrc help [VERB] | zarrc VERB --help | zarrc --help | zarrc --version";

void cli_print_verb_help(const cli_verb *v, FILE *out)
{
    fprintf(out, "usage: %s\n\n%s\n\n%s", v->usage, v->summary, v->help);
}

int cli_usage_error(const cli_verb *v, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "zarrc: %s%s", v ? v->name : "", v ? ": " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (v)
        fprintf(stderr, "\nusage: %s\nTry 'zarrc help %s' for more information.\n", v->usage,
                v->name);
    else
        fprintf(stderr, "\nusage: %s\nTry 'zarrc --help' for more information.\n", cli_tool_usage);
    return CLI_EXIT_USAGE;
}

typedef cli_opt cli_opt;

#define CLI_HELP_SHOWN (-1)

/* Parse the arguments after the verb (cli_parse_args): options anywhere, exactly `npos`
 * positional arguments (named `what` in messages). Returns 0, CLI_EXIT_USAGE (message
 * printed) or CLI_HELP_SHOWN (help printed). */
int cli_parse_positionals(const cli_verb *v, int argc, char **argv, const cli_opt *specs,
                             const char **pos, int npos, const char *what)
{
    char err[512];
    int rc = cli_parse_args(argc, argv, specs, pos, npos, what, err, sizeof err);
    if (rc == CLI_ARGS_HELP) {
        cli_print_verb_help(v, stdout);
        return CLI_HELP_SHOWN;
    }
    return rc ? cli_usage_error(v, "%s", err) : 0;
}

/* The common case: options and exactly one NODE. */
int cli_parse_node(const cli_verb *v, int argc, char **argv, const cli_opt *specs,
                      const char **node)
{
    *node = NULL;
    return cli_parse_positionals(v, argc, argv, specs, node, 1, "NODE");
}

/* ------------------------------------------------------------------------------------------ */
/* Nodes                                                                                       */
/* ------------------------------------------------------------------------------------------ */

int cli_open_store(zarrc_store **st, const char *node, unsigned flags)
{
    int rc = zarrc_store_open(st, node, flags);
    if (rc)
        return cli_fail_lib(rc, "opening '%s'", node);
    return 0;
}

/* Open the store at NODE and find what is there. */
int cli_probe_error(zarrc_store **st, const char *node, int rc)
{
    int incomplete = rc == ZARRC_ENOTFOUND && strstr(zarrc_error_last(), "incomplete array") != NULL;
    zarrc_store_free(*st);
    *st = NULL;
    if (rc == ZARRC_ENOTFOUND)
        return cli_fail("'%s' is not a Zarr node (no zarr.json, .zarray or .zgroup there)%s", node,
                        incomplete ? ": an incomplete copy is there ('zarrc cp --resume' continues it, "
                                     "'zarrc rm' deletes it)" : "");
    return cli_fail_lib(rc, "reading '%s'", node);
}

int cli_open_node(zarrc_store **st, zarrc_node_kind *kind, int *format, const char *node,
                     unsigned flags)
{
    if (cli_open_store(st, node, flags))
        return CLI_EXIT_FAIL;
    int rc = zarrc_node_probe(kind, format, *st, "");
    return rc ? cli_probe_error(st, node, rc) : 0;
}

int cli_open_array_node(zarrc_store **st, zarrc_array **arr, const char *node,
                           unsigned flags)
{
    return cli_open_array(st, arr, node, flags) ? CLI_EXIT_FAIL : 0;
}

/* The filesystem path of a NODE argument (plain path or file:// URL), or NULL for other URLs. */
const char *cli_node_fs_path(const char *node)
{
    if (!strncmp(node, "file://", 7))
        return node + 7;
    if (strstr(node, "://"))
        return NULL;
    return node;
}

/* A library failure; when keys that belong to no node refused an overwrite or delete, say how
 * to delete them anyway. */
int cli_fail_erase(int rc, const char *what, const char *node)
{
    if (rc == ZARRC_ECONFLICT && strstr(zarrc_error_last(), "belong to a Zarr node"))
        return cli_fail("%s '%s': %s (--force deletes them too)", what, node, zarrc_error_last());
    return cli_fail_lib(rc, "%s '%s'", what, node);
}

/* The real path of the deepest existing ancestor directory of the filesystem path `fs`
 * (excluding fs itself), or NULL. */
static char *existing_parent(const char *fs)
{
    char *p = strdup(fs);
    char *real = NULL;
    while (p && !real) {
        size_t len = strlen(p);
        while (len > 1 && p[len - 1] == '/')
            p[--len] = 0;
        char *slash = strrchr(p, '/');
        if (!slash) {
            real = realpath(".", NULL);
            break;
        }
        if (slash == p)
            slash[1] = 0;
        else
            *slash = 0;
        real = realpath(p, NULL);
        if (!strcmp(p, "/"))
            break;
    }
    free(p);
    return real;
}

/* Where a new node may go: never below an array (an array's directory, its chunk directories,
 * ...), and in format 3 never under a name starting with "__" inside a group (reserved). The
 * store is opened at the node, so the library cannot see its ancestors: look at them here. */
int cli_check_new_node(const char *node, int format)
{
    const char *fs = cli_node_fs_path(node);
    if (!fs || !*fs)
        return 0;
    char *dir = existing_parent(fs);
    int result = 0, level = 0;
    for (char *slash; dir && !result; level++) {
        zarrc_store *st = NULL;
        zarrc_node_kind kind;
        int fmt;
        if (zarrc_store_open(&st, dir, ZARRC_STORE_READONLY) == ZARRC_OK &&
            zarrc_node_probe(&kind, &fmt, st, "") == ZARRC_OK) {
            if (kind == ZARRC_NODE_ARRAY)
                result = cli_fail("cannot create '%s': it would be below the array '%s' (a node below an "
                                  "array is not allowed)", node, dir);
            else if (level == 0 && format == 3) {
                char *copy = strdup(fs);
                size_t len = copy ? strlen(copy) : 0;
                while (len > 1 && copy[len - 1] == '/')
                    copy[--len] = 0;
                const char *base = copy ? strrchr(copy, '/') : NULL;
                base = base ? base + 1 : copy;
                if (base && base[0] == '_' && base[1] == '_')
                    result = cli_fail("cannot create '%s' in group '%s': v3 names starting with '__' are "
                                      "reserved", node, dir);
                free(copy);
            }
        }
        zarrc_store_free(st);
        slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            break;
        *slash = 0;
    }
    free(dir);
    return result ? CLI_EXIT_FAIL : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Views wherever an array NODE is taken                                                      */
/* ------------------------------------------------------------------------------------------ */

int cli_allow_external;

unsigned cli_view_open_flags(void) { return cli_allow_external ? ZARRC_OPEN_ALLOW_EXTERNAL : 0; }

int cli_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

char *cli_read_file(const char *path)
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
char *cli_dir_of(const char *path)
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
int cli_hierarchy_root(char **root, char **rel, const char *real)
{
    char *cur = cli_dir_of(real);
    if (!cur)
        return -1;
    for (;;) {
        if (!strcmp(cur, "/"))
            break;
        char *up = cli_dir_of(cur);
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
    return fs && cli_ends_with(fs, ".json") && stat(fs, &sb) == 0 && S_ISREG(sb.st_mode);
}

int cli_open_array(zarrc_store **st, zarrc_array **arr, const char *node, unsigned store_flags)
{
    *st = NULL;
    *arr = NULL;
    const char *fs = !strncmp(node, "file://", 7) ? node + 7 : strstr(node, "://") ? NULL : node;
    if (cli_is_spec_file(node)) {
        char *text = cli_read_file(fs), *dir = cli_dir_of(fs);
        if (!text || !dir) {
            free(text);
            free(dir);
            return cli_fail("cannot read '%s': %s", fs, strerror(errno));
        }
        int rc = zarrc_store_open(st, dir, store_flags);
        if (rc == 0)
            rc = zarrc_view_open(arr, text, *st, "", cli_view_open_flags());
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
        rc = zarrc_array_open_flags(arr, *st, "", cli_view_open_flags());
    if (rc == ZARRC_EAUTH && fs) {
        /* A stored view refers to its siblings: open it inside its hierarchy. */
        char *real = realpath(fs, NULL), *root = NULL, *rel = NULL;
        if (real && cli_hierarchy_root(&root, &rel, real) == 0) {
            zarrc_store *st2;
            if (zarrc_store_open(&st2, root, store_flags) == 0) {
                if (zarrc_array_open_flags(arr, st2, rel, cli_view_open_flags()) == 0) {
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
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Option values                                                                              */
/* ------------------------------------------------------------------------------------------ */

/* Parse a dimension list option (cli_parse_dims). Returns 0 or CLI_EXIT_FAIL (message printed). */
int cli_parse_dims_opt(const char *opt, const char *text, int64_t **out, int *n, int min_value)
{
    char err[256];
    return cli_parse_dims(opt, text, out, n, min_value, err, sizeof err) ? cli_fail("%s", err) : 0;
}

int cli_parse_grid_opt(const char *opt, const char *text, int64_t **out, int *n, const char **rect)
{
    const char *t = text;
    *out = NULL;
    *rect = NULL;
    while (isspace((unsigned char)*t))
        t++;
    /* "[2,3]" is the bracketed regular form (all bare edges would mean the same grid): only a
     * list inside the list makes the grid rectilinear. */
    if (*t != '[' || !strchr(t + 1, '['))
        return cli_parse_dims_opt(opt, text, out, n, 1);
    json_object *o = NULL;
    char err[256];
    if (cli_json_parse(&o, text, err, sizeof err))
        return cli_fail("%s: %s", opt, err);
    int ok = json_object_is_type(o, json_type_array) && json_object_array_length(o) > 0;
    *n = ok ? (int)json_object_array_length(o) : 0;
    json_object_put(o); /* the library checks the edges and runs */
    if (!ok)
        return cli_fail("%s: a rectilinear grid is a JSON list with one entry per dimension "
                        "(a bare edge or a list of edges and [edge, count] runs)", opt);
    *rect = text;
    return 0;
}

/* Check an option's JSON text and its type. Returns 0 or CLI_EXIT_FAIL. */
int cli_check_json_option(const char *opt, const char *text, int want_obj, int want_list,
                             int allow_null)
{
    json_object *o;
    char err[256];
    if (!text)
        return 0;
    if (cli_json_parse(&o, text, err, sizeof err))
        return cli_fail("%s: %s", opt, err);
    int ok = 1;
    if (!o)
        ok = allow_null || (!want_obj && !want_list);
    else if (want_obj || want_list)
        ok = (want_obj && json_object_is_type(o, json_type_object)) ||
             (want_list && json_object_is_type(o, json_type_array));
    json_object_put(o);
    if (!ok)
        return cli_fail("%s: expected a JSON %s%s", opt,
                        want_obj && want_list ? "object or list"
                        : want_obj            ? "object"
                                              : "list",
                        allow_null ? " or null" : "");
    return 0;
}

/* Bare NaN/Infinity are accepted for --fill-value as a convenience: quote them. */
const char *cli_normalize_fill(const char *text)
{
    static const char *const special[][2] = {
        {"NaN", "\"NaN\""},           {"nan", "\"NaN\""},        {"Infinity", "\"Infinity\""},
        {"inf", "\"Infinity\""},      {"+Infinity", "\"Infinity\""},
        {"-Infinity", "\"-Infinity\""}, {"-inf", "\"-Infinity\""},
    };
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        if (!strcmp(text, special[i][0]))
            return special[i][1];
    return text;
}

/* Directories a create would make (the missing tail of the path), deepest first, so that a
 * refused create can remove them again. */
void cli_record_missing_dirs(cli_made_dirs *m, const char *node)
{
    memset(m, 0, sizeof *m);
    const char *p = cli_node_fs_path(node);
    if (!p || !*p)
        return;
    char *path = strdup(p);
    struct stat sb;
    while (path && *path && stat(path, &sb) != 0 && errno == ENOENT) {
        char **np = realloc(m->paths, (size_t)(m->n + 1) * sizeof *np);
        char *dup = strdup(path);
        if (!np || !dup) {
            free(dup);
            if (np)
                m->paths = np;
            break;
        }
        m->paths = np;
        m->paths[m->n++] = dup;
        size_t len = strlen(path);
        while (len > 1 && path[len - 1] == '/')
            path[--len] = 0;
        char *slash = strrchr(path, '/');
        if (!slash)
            break;
        if (slash == path)
            slash[1] = 0;
        else
            *slash = 0;
    }
    free(path);
}

void cli_remove_made_dirs(cli_made_dirs *m, int do_remove)
{
    for (int i = 0; i < m->n; i++) {
        if (do_remove)
            rmdir(m->paths[i]); /* only succeeds if empty: never removes written data */
        free(m->paths[i]);
    }
    free(m->paths);
    memset(m, 0, sizeof *m);
}

json_object *cli_dims_json(const int64_t *v, int n)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < n; i++)
        json_object_array_add(a, json_object_new_int64(v[i]));
    return a;
}

/* The v3 spelling of a data type, from its description. */
/* ------------------------------------------------------------------------------------------ */
/* Human units                                                                                 */
/* ------------------------------------------------------------------------------------------ */

void cli_format_bytes(char *buf, size_t len, uint64_t n)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (n < 1024) {
        snprintf(buf, len, "%llu B", (unsigned long long)n);
        return;
    }
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 6) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, "%.1f %s", v, units[u]);
}

/* ------------------------------------------------------------------------------------------ */
/* The enclosing hierarchy of a filesystem NODE                                                */
/* ------------------------------------------------------------------------------------------ */

/* Format of the group stored in directory `dir` (0 if it is not a group). */
static int dir_group_format(const char *dir)
{
    zarrc_store *st = NULL;
    zarrc_node_kind kind;
    int format = 0;
    if (zarrc_store_open(&st, dir, ZARRC_STORE_READONLY))
        return 0;
    if (zarrc_node_probe(&kind, &format, st, "") || kind != ZARRC_NODE_GROUP)
        format = 0;
    zarrc_store_free(st);
    return format;
}

/* The store to open for NODE and the node's path in it: for a filesystem NODE, the topmost
 * parent directory such that every directory between it and NODE is a group of `format`
 * (0 = the format of the first parent group). Otherwise NODE itself and "". */
int cli_enclosing(char **store_loc, char **rel, const char *node, int format)
{
    const char *fs = cli_node_fs_path(node);
    *store_loc = *rel = NULL;
    char *abs = NULL;
    if (fs) {
        char *copy = strdup(fs);
        if (!copy)
            return -1;
        size_t len = strlen(copy);
        while (len > 1 && copy[len - 1] == '/')
            copy[--len] = 0;
        abs = realpath(copy, NULL);
        if (!abs) { /* NODE may not exist yet: resolve its parent */
            char *slash = strrchr(copy, '/');
            const char *base = slash ? slash + 1 : copy;
            char *pdir = slash ? (slash == copy ? strdup("/") : strndup(copy, (size_t)(slash - copy)))
                               : strdup(".");
            char *rp = pdir ? realpath(pdir, NULL) : NULL;
            if (rp && strcmp(base, ".") && strcmp(base, "..") &&
                (abs = malloc(strlen(rp) + strlen(base) + 2)))
                sprintf(abs, "%s/%s", strcmp(rp, "/") ? rp : "", base);
            free(rp);
            free(pdir);
        }
        free(copy);
    }
    if (!abs) {
        *store_loc = strdup(node);
        *rel = strdup("");
        return *store_loc && *rel ? 0 : -1;
    }
    char *top = abs, *r = strdup("");
    for (int level = 0; r && level < 64; level++) {
        char *slash = strrchr(top, '/');
        if (!slash || slash == top) /* never climb to "/" */
            break;
        char *parent = strndup(top, (size_t)(slash - top));
        int f = parent ? dir_group_format(parent) : 0;
        if (!f || (format && f != format)) {
            free(parent);
            break;
        }
        format = f;
        char *nr = *r ? malloc(strlen(slash + 1) + strlen(r) + 2) : strdup(slash + 1);
        if (nr && *r)
            sprintf(nr, "%s/%s", slash + 1, r);
        free(r);
        r = nr;
        free(top);
        top = parent;
    }
    if (!r) {
        free(top);
        return -1;
    }
    *store_loc = top;
    *rel = r;
    return 0;
}

/* A store path of the enclosing store, as the user would name it. */
static void print_group_name(FILE *f, const char *store_loc, const char *path)
{
    if (*path)
        fprintf(f, "%s/%s", store_loc, path);
    else
        fputs(store_loc, f);
}

void cli_warn_stale(const char *store_loc, const zarrc_stale_list *l, int update_hint)
{
    for (size_t i = 0; i < l->count; i++) {
        fflush(stdout);
        fputs("zarrc: warning: the consolidated metadata of group '", stderr);
        print_group_name(stderr, store_loc, l->paths[i]);
        fputs("' is now stale (run 'zarrc consolidate ", stderr);
        print_group_name(stderr, store_loc, l->paths[i]);
        fputs(update_hint ? "', or pass --update-consolidated)\n" : "')\n", stderr);
    }
}

int cli_warn_consolidated(const char *node)
{
    char *loc, *rel;
    int n = 0;
    if (cli_enclosing(&loc, &rel, node, 0))
        return 0;
    zarrc_store *st = NULL;
    zarrc_stale_list l = {0};
    if (zarrc_store_open(&st, loc, ZARRC_STORE_READONLY) == ZARRC_OK &&
        zarrc_consolidated_holders(&l, st, rel) == ZARRC_OK) {
        cli_warn_stale(loc, &l, 0);
        n = (int)l.count;
    }
    zarrc_stale_list_clear(&l);
    zarrc_store_free(st);
    free(loc);
    free(rel);
    return n;
}
