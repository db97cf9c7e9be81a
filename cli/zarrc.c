/*
 * zarrc.c — the zarrc command-line tool: verb dispatch, option parsing, help, and the verbs
 * create, info, get, put, ls and rm. Uses only the public API (zarrc.h).
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

#include "cli.h"
#include "cli_hierarchy.h"
#include "cli_refs.h"

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
static json_object *json_from_text(const char *text)
{
    json_object *o;
    char err[128];
    if (!text)
        return NULL;
    if (cli_json_parse(&o, text, err, sizeof err))
        return json_object_new_string(text);
    return o;
}

static const char *json_compact(json_object *o)
{
    return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Indented JSON (2 spaces, "key": value; lists of scalars on one line). */
static void json_print(FILE *out, json_object *o, int indent)
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
            fprintf(out, "%s%*s%s: ", first ? "" : ",\n", indent + 2, "", json_compact(k));
            json_object_put(k);
            json_print(out, val, indent + 2);
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
            json_print(out, json_object_array_get_idx(o, i), indent + 2);
        }
        if (!flat && n)
            fprintf(out, "\n%*s", indent, "");
        fputc(']', out);
        return;
    }
    fputs(json_compact(o), out);
}

static void json_println(json_object *o)
{
    json_print(stdout, o, 0);
    fputc('\n', stdout);
}

/* A JSON value for display: strings without quotes, everything else compact. */
static const char *json_display(json_object *o)
{
    return json_object_is_type(o, json_type_string) ? json_object_get_string(o) : json_compact(o);
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
/* Verbs, help and option parsing                                                              */
/* ------------------------------------------------------------------------------------------ */

typedef struct verb {
    const char *name;
    int (*run)(const struct verb *v, int argc, char **argv);
    const char *usage;
    const char *summary;
    const char *help;
} verb;

static const verb *find_verb(const char *name);

static void print_verb_help(const verb *v, FILE *out)
{
    fprintf(out, "usage: %s\n\n%s\n\n%s", v->usage, v->summary, v->help);
}

static int usage_error(const verb *v, const char *fmt, ...) CLI_PRINTF(2, 3);

static int usage_error(const verb *v, const char *fmt, ...)
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
        fputs("\nusage: zarrc VERB [OPTIONS] NODE\nTry 'zarrc --help' for more information.\n",
              stderr);
    return CLI_EXIT_USAGE;
}

typedef cli_opt opt_spec;

#define OPT_HELP_SHOWN (-1)

/* Parse the arguments after the verb (cli_parse_args): options anywhere, exactly `npos`
 * positional arguments (named `what` in messages). Returns 0, CLI_EXIT_USAGE (message
 * printed) or OPT_HELP_SHOWN (help printed). */
static int parse_positionals(const verb *v, int argc, char **argv, const opt_spec *specs,
                             const char **pos, int npos, const char *what)
{
    char err[512];
    int rc = cli_parse_args(argc, argv, specs, pos, npos, what, err, sizeof err);
    if (rc == CLI_ARGS_HELP) {
        print_verb_help(v, stdout);
        return OPT_HELP_SHOWN;
    }
    return rc ? usage_error(v, "%s", err) : 0;
}

/* The common case: options and exactly one NODE. */
static int parse_args(const verb *v, int argc, char **argv, const opt_spec *specs,
                      const char **node)
{
    *node = NULL;
    return parse_positionals(v, argc, argv, specs, node, 1, "NODE");
}

/* ------------------------------------------------------------------------------------------ */
/* Nodes                                                                                       */
/* ------------------------------------------------------------------------------------------ */

static int open_store(zarrc_store **st, const char *node, unsigned flags)
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

static int open_node(zarrc_store **st, zarrc_node_kind *kind, int *format, const char *node,
                     unsigned flags)
{
    if (open_store(st, node, flags))
        return CLI_EXIT_FAIL;
    int rc = zarrc_node_probe(kind, format, *st, "");
    return rc ? cli_probe_error(st, node, rc) : 0;
}

static int open_array_node(zarrc_store **st, zarrc_array **arr, const char *node,
                           unsigned flags)
{
    return cli_open_array(st, arr, node, flags) ? CLI_EXIT_FAIL : 0;
}

/* The filesystem path of a NODE argument (plain path or file:// URL), or NULL for other URLs. */
static const char *node_fs_path(const char *node)
{
    if (!strncmp(node, "file://", 7))
        return node + 7;
    if (strstr(node, "://"))
        return NULL;
    return node;
}

/* A library failure; when keys that belong to no node refused an overwrite or delete, say how
 * to delete them anyway. */
static int fail_erase(int rc, const char *what, const char *node)
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
static int check_new_node(const char *node, int format)
{
    const char *fs = node_fs_path(node);
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
/* create                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* Parse a dimension list option (cli_parse_dims). Returns 0 or CLI_EXIT_FAIL (message printed). */
static int parse_dims(const char *opt, const char *text, int64_t **out, int *n, int min_value)
{
    char err[256];
    return cli_parse_dims(opt, text, out, n, min_value, err, sizeof err) ? cli_fail("%s", err) : 0;
}

/* Check an option's JSON text and its type. Returns 0 or CLI_EXIT_FAIL. */
static int check_json_option(const char *opt, const char *text, int want_obj, int want_list,
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
static const char *normalize_fill(const char *text)
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
typedef struct made_dirs {
    char **paths;
    int n;
} made_dirs;

static void record_missing_dirs(made_dirs *m, const char *node)
{
    memset(m, 0, sizeof *m);
    const char *p = node_fs_path(node);
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

static void remove_made_dirs(made_dirs *m, int do_remove)
{
    for (int i = 0; i < m->n; i++) {
        if (do_remove)
            rmdir(m->paths[i]); /* only succeeds if empty: never removes written data */
        free(m->paths[i]);
    }
    free(m->paths);
    memset(m, 0, sizeof *m);
}

static int cmd_create(const verb *v, int argc, char **argv)
{
    const char *node, *format_s = NULL, *dtype = NULL, *shape_s = NULL, *chunks_s = NULL,
                      *fill = NULL, *codecs = NULL, *compressor = NULL, *filters = NULL,
                      *order_s = NULL, *sep_s = NULL, *attrs = NULL, *dimnames_s = NULL;
    int overwrite = 0, group = 0, force = 0;
    const opt_spec specs[] = {
        {"--format", &format_s, NULL},      {"--dtype", &dtype, NULL},
        {"--shape", &shape_s, NULL},        {"--chunks", &chunks_s, NULL},
        {"--fill-value", &fill, NULL},      {"--codecs", &codecs, NULL},
        {"--compressor", &compressor, NULL}, {"--filters", &filters, NULL},
        {"--order", &order_s, NULL},        {"--separator", &sep_s, NULL},
        {"--attrs", &attrs, NULL},          {"--dimension-names", &dimnames_s, NULL},
        {"--overwrite", NULL, &overwrite},  {"--group", NULL, &group},
        {"--force", NULL, &force},          {NULL, NULL, NULL},
    };
    int rc = parse_args(v, argc, argv, specs, &node);
    if (rc)
        return rc == OPT_HELP_SHOWN ? CLI_EXIT_OK : rc;
    if (force && !overwrite)
        return usage_error(v, "--force needs --overwrite");
    unsigned cflags = (overwrite ? ZARRC_OVERWRITE : 0) | (force ? ZARRC_FORCE : 0);

    int format = 3;
    if (format_s) {
        if (strcmp(format_s, "2") && strcmp(format_s, "3"))
            return usage_error(v, "--format must be 2 or 3, not '%s'", format_s);
        format = format_s[0] - '0';
    }
    char order = 'C', sep = 0;
    if (order_s) {
        if (strcmp(order_s, "C") && strcmp(order_s, "F"))
            return usage_error(v, "--order must be C or F, not '%s'", order_s);
        order = order_s[0];
    }
    if (sep_s) {
        if (strcmp(sep_s, "/") && strcmp(sep_s, "."))
            return usage_error(v, "--separator must be '/' or '.', not '%s'", sep_s);
        sep = sep_s[0];
    }
    if (group) {
        const char *array_only[][2] = {
            {"--dtype", dtype},         {"--shape", shape_s},      {"--chunks", chunks_s},
            {"--fill-value", fill},     {"--codecs", codecs},      {"--compressor", compressor},
            {"--filters", filters},     {"--order", order_s},      {"--separator", sep_s},
            {"--dimension-names", dimnames_s},
        };
        for (size_t i = 0; i < sizeof array_only / sizeof array_only[0]; i++)
            if (array_only[i][1])
                return usage_error(v, "%s cannot be used with --group", array_only[i][0]);
    } else {
        if (!dtype)
            return usage_error(v, "missing --dtype (or --group to make a group)");
        if (!shape_s)
            return usage_error(v, "missing --shape");
        if (codecs && (compressor || filters))
            return usage_error(v, "--codecs cannot be combined with --compressor/--filters");
    }
    if (check_json_option("--attrs", attrs, 1, 0, 0) || check_new_node(node, format))
        return CLI_EXIT_FAIL;

    made_dirs made;
    zarrc_store *st = NULL;
    if (group) {
        record_missing_dirs(&made, node);
        if (open_store(&st, node, ZARRC_STORE_CREATE)) {
            remove_made_dirs(&made, 1);
            return CLI_EXIT_FAIL;
        }
        rc = zarrc_group_create(st, "", format, attrs, cflags);
        zarrc_store_free(st);
        remove_made_dirs(&made, rc != 0);
        if (rc)
            return fail_erase(rc, "creating group", node);
        cli_warn_consolidated(node);
        return CLI_EXIT_OK;
    }

    int64_t *shape = NULL, *chunks = NULL;
    int ndim = 0, nchunks = 0;
    const char **dimnames = NULL;
    json_object *dn_json = NULL;
    int result = CLI_EXIT_FAIL;
    if (parse_dims("--shape", shape_s, &shape, &ndim, 0))
        goto done;
    if (chunks_s) {
        if (parse_dims("--chunks", chunks_s, &chunks, &nchunks, 1))
            goto done;
        if (nchunks != ndim) {
            cli_fail("--chunks has %d dimension%s but --shape has %d", nchunks,
                     nchunks == 1 ? "" : "s", ndim);
            goto done;
        }
    }
    if (fill)
        fill = normalize_fill(fill);
    if (check_json_option("--fill-value", fill, 0, 0, 1) ||
        check_json_option("--codecs", codecs, 0, 1, 0) ||
        check_json_option("--compressor", compressor, 1, 0, 1) ||
        check_json_option("--filters", filters, 0, 1, 1))
        goto done;
    if (dimnames_s) {
        dimnames = calloc((size_t)(ndim ? ndim : 1), sizeof *dimnames);
        if (!dimnames) {
            cli_fail("out of memory");
            goto done;
        }
        char err[256];
        int count = 0;
        const char *t = dimnames_s;
        while (isspace((unsigned char)*t))
            t++;
        if (*t == '[') {
            if (cli_json_parse(&dn_json, dimnames_s, err, sizeof err)) {
                cli_fail("--dimension-names: %s", err);
                goto done;
            }
            count = (int)json_object_array_length(dn_json);
            for (int i = 0; i < count && i < ndim; i++) {
                json_object *e = json_object_array_get_idx(dn_json, (size_t)i);
                if (e && !json_object_is_type(e, json_type_string)) {
                    cli_fail("--dimension-names: entry %d must be a string or null", i);
                    goto done;
                }
                dimnames[i] = e ? json_object_get_string(e) : NULL;
            }
        } else if (*t) {
            /* "a,b,,d": split in place on a copy kept alive in dn_json. */
            dn_json = json_object_new_string(dimnames_s);
            char *copy = (char *)json_object_get_string(dn_json);
            for (char *s = copy;; count++) {
                char *c = strchr(s, ',');
                if (c)
                    *c = 0;
                if (count < ndim)
                    dimnames[count] = *s ? s : NULL;
                if (!c) {
                    count++;
                    break;
                }
                s = c + 1;
            }
        }
        if (count != ndim) {
            cli_fail("--dimension-names has %d name%s but the array has %d dimension%s", count,
                     count == 1 ? "" : "s", ndim, ndim == 1 ? "" : "s");
            goto done;
        }
    }

    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.format = format;
    o.dtype = dtype;
    o.ndim = ndim;
    o.shape = shape;
    o.chunks = chunks;
    o.fill_value = fill;
    o.codecs = codecs;
    o.compressor = compressor;
    o.filters = filters;
    o.order = order;
    o.separator = sep;
    o.attributes = attrs;
    o.dimension_names = dimnames;
    o.flags = cflags;

    record_missing_dirs(&made, node);
    if (open_store(&st, node, ZARRC_STORE_CREATE)) {
        remove_made_dirs(&made, 1);
        goto done;
    }
    zarrc_array *arr = NULL;
    rc = zarrc_array_create(&arr, st, "", &o);
    if (rc)
        fail_erase(rc, "creating array", node);
    zarrc_array_free(arr);
    zarrc_store_free(st);
    remove_made_dirs(&made, rc != 0);
    if (!rc) {
        cli_warn_consolidated(node); /* a parent's consolidated copy no longer lists it */
        result = CLI_EXIT_OK;
    }
done:
    free(shape);
    free(chunks);
    free(dimnames);
    json_object_put(dn_json);
    return result;
}

/* ------------------------------------------------------------------------------------------ */
/* info                                                                                        */
/* ------------------------------------------------------------------------------------------ */

static json_object *dims_json(const int64_t *v, int n)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < n; i++)
        json_object_array_add(a, json_object_new_int64(v[i]));
    return a;
}

/* The v3 spelling of a data type, from its description. */
static json_object *dtype_v3_json(const zarrc_dtype_info *dt)
{
    if (dt->kind == ZARRC_DTYPE_DATETIME || dt->kind == ZARRC_DTYPE_TIMEDELTA ||
        dt->kind == ZARRC_DTYPE_UTF32 || dt->kind == ZARRC_DTYPE_FIXED_BYTES) {
        json_object *o = json_object_new_object(), *cfg = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(dt->name));
        if (dt->kind == ZARRC_DTYPE_DATETIME || dt->kind == ZARRC_DTYPE_TIMEDELTA) {
            json_object_object_add(cfg, "unit", json_object_new_string(dt->unit));
            json_object_object_add(cfg, "scale_factor", json_object_new_int64(dt->scale_factor));
        } else {
            json_object_object_add(cfg, "length_bytes",
                                   json_object_new_int64((int64_t)dt->item_size));
        }
        json_object_object_add(o, "configuration", cfg);
        return o;
    }
    return json_object_new_string(dt->name);
}

/* One part of an array's description as JSON (NULL object + message on failure). */
static int array_part(json_object **out, zarrc_array *arr, zarrc_json_part part,
                      const char *node, const char *what)
{
    char *text = NULL;
    int rc = zarrc_array_json(&text, arr, part);
    *out = NULL;
    if (rc) {
        cli_fail_lib(rc, "reading %s of '%s'", what, node);
        return rc;
    }
    *out = json_from_text(text);
    zarrc_free(text);
    return 0;
}

/* A v2 array whose codecs zarrc does not know still has an info page: its v3 spelling is
 * shown as null (the stored v2 spelling is shown as it is). */
static int codecs_unknown(int format)
{
    if (format != 2 || zarrc_error_code() != ZARRC_EUNSUPPORTED)
        return 0;
    fprintf(stderr, "zarrc: note: %s\n", zarrc_error_last());
    return 1;
}

static void print_dims(const char *label, const int64_t *dims, int ndim)
{
    printf("%-14s[", label);
    for (int d = 0; d < ndim; d++)
        printf("%s%lld", d ? ", " : "", (long long)dims[d]);
    printf("]\n");
}

/* Storage statistics as JSON (exact numbers). */
static json_object *stats_json(const cli_array_stats_t *s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "stored_bytes", json_object_new_int64((int64_t)s->stored_bytes));
    json_object_object_add(o, "chunk_bytes", json_object_new_int64((int64_t)s->chunk_bytes));
    json_object_object_add(o, "decoded_bytes",
                           s->decoded_bytes >= 0 ? json_object_new_int64(s->decoded_bytes) : NULL);
    json_object_object_add(o, "ratio", s->decoded_bytes >= 0 && s->stored_bytes
                                           ? json_object_new_double((double)s->decoded_bytes / (double)s->stored_bytes)
                                           : NULL);
    json_object_object_add(o, s->sharded ? "shards_initialized" : "chunks_initialized",
                           json_object_new_int64(s->chunks_initialized));
    json_object_object_add(o, s->sharded ? "shards_total" : "chunks_total",
                           s->chunks_total >= 0 ? json_object_new_int64(s->chunks_total) : NULL);
    return o;
}

static void print_stats(const cli_array_stats_t *s)
{
    char h[32];
    cli_format_bytes(h, sizeof h, s->stored_bytes);
    printf("%-14s%s (%llu bytes)\n", "stored:", h, (unsigned long long)s->stored_bytes);
    if (s->decoded_bytes >= 0) {
        cli_format_bytes(h, sizeof h, (uint64_t)s->decoded_bytes);
        printf("%-14s%s (%lld bytes)\n", "decoded:", h, (long long)s->decoded_bytes);
        if (s->stored_bytes)
            printf("%-14s%.2f\n", "ratio:", (double)s->decoded_bytes / (double)s->stored_bytes);
    }
    printf("%-14s%lld / ", "initialized:", (long long)s->chunks_initialized);
    if (s->chunks_total >= 0)
        printf("%lld %s\n", (long long)s->chunks_total, s->sharded ? "shards" : "chunks");
    else
        printf("more than 2^63 %s\n", s->sharded ? "shards" : "chunks");
}

static int info_array(zarrc_store *st, const char *node, int as_json, int no_stats)
{
    zarrc_array *arr;
    int rc = zarrc_array_open_flags(&arr, st, "", cli_allow_external ? ZARRC_OPEN_ALLOW_EXTERNAL : 0);
    if (rc == ZARRC_EAUTH || (rc == 0 && zarrc_array_is_view(arr))) {
        zarrc_array_free(arr);
        return cli_view_info(node, as_json);
    }
    if (rc)
        return cli_fail_lib(rc, "opening array '%s'", node);
    int format = zarrc_array_format(arr), ndim = zarrc_array_ndim(arr);
    const zarrc_dtype_info *dt = zarrc_array_dtype(arr);
    json_object *dtype_fmt = NULL, *fill = NULL, *codecs = NULL, *codecs2 = NULL, *attrs = NULL,
                *meta = NULL;
    int result = CLI_EXIT_FAIL;
    if (array_part(&dtype_fmt, arr, ZARRC_JSON_DTYPE, node, "the data type") ||
        array_part(&fill, arr, ZARRC_JSON_FILL_VALUE, node, "the fill value") ||
        (array_part(&codecs, arr, ZARRC_JSON_CODECS_V3, node, "the codecs") &&
         !codecs_unknown(format)) ||
        (format == 2 && array_part(&codecs2, arr, ZARRC_JSON_CODECS_V2, node, "the v2 codecs")) ||
        array_part(&attrs, arr, ZARRC_JSON_ATTRIBUTES, node, "the attributes") ||
        array_part(&meta, arr, ZARRC_JSON_METADATA, node, "the metadata"))
        goto done;
    cli_array_stats_t stats;
    if (!no_stats && cli_array_stats(&stats, st, arr, node))
        goto done;
    json_object *dtype3 = format == 3 ? json_object_get(dtype_fmt) : dtype_v3_json(dt);
    if (as_json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "node_type", json_object_new_string("array"));
        json_object_object_add(o, "zarr_format", json_object_new_int(format));
        json_object_object_add(o, "shape", dims_json(zarrc_array_shape(arr), ndim));
        json_object_object_add(o, "chunks", dims_json(zarrc_array_chunks(arr), ndim));
        if (zarrc_array_inner_chunks(arr))
            json_object_object_add(o, "inner_chunks", dims_json(zarrc_array_inner_chunks(arr), ndim));
        json_object_object_add(o, "data_type", dtype3);
        if (format == 2)
            json_object_object_add(o, "data_type_v2", json_object_get(dtype_fmt));
        json_object_object_add(o, "fill_value", json_object_get(fill));
        json_object_object_add(o, "codecs", json_object_get(codecs));
        if (format == 2)
            json_object_object_add(o, "codecs_v2", json_object_get(codecs2));
        json_object_object_add(o, "attributes", json_object_get(attrs));
        json_object_object_add(o, "metadata", json_object_get(meta));
        if (!no_stats)
            json_object_object_add(o, "stats", stats_json(&stats));
        cli_refs_info(o, node);
        json_println(o);
        json_object_put(o);
    } else {
        const int64_t *shape = zarrc_array_shape(arr), *chunks = zarrc_array_chunks(arr);
        printf("%-14s%s\n", "node:", node);
        printf("%-14s%s\n", "node type:", "array");
        printf("%-14s%d\n", "zarr format:", format);
        print_dims("shape:", shape, ndim);
        if (zarrc_array_inner_chunks(arr)) {
            print_dims("shards:", chunks, ndim);
            print_dims("inner chunks:", zarrc_array_inner_chunks(arr), ndim);
        } else
            print_dims("chunks:", chunks, ndim);
        printf("%-14s%s", "data type:", json_display(dtype3));
        if (format == 2)
            printf("  (v2: %s)", json_compact(dtype_fmt));
        printf("\n%-14s%s\n", "fill value:", json_compact(fill));
        printf("%-14s%s\n", "codecs:", json_compact(codecs));
        if (format == 2)
            printf("%-14s%s\n", "codecs (v2):", json_compact(codecs2));
        if (!no_stats)
            print_stats(&stats);
        printf("%-14s%s\n", "attributes:", json_compact(attrs));
        cli_refs_info(NULL, node);
        fputs("metadata:\n", stdout);
        json_println(meta);
        json_object_put(dtype3);
    }
    result = CLI_EXIT_OK;
done:
    json_object_put(dtype_fmt);
    json_object_put(fill);
    json_object_put(codecs);
    json_object_put(codecs2);
    json_object_put(attrs);
    json_object_put(meta);
    zarrc_array_free(arr);
    return result;
}

static int info_group(zarrc_store *st, const char *node, int format, int as_json)
{
    char *attrs_text = NULL;
    int rc = zarrc_node_attributes(&attrs_text, st, "");
    if (rc)
        return cli_fail_lib(rc, "reading the attributes of '%s'", node);
    void *data = NULL;
    size_t size = 0;
    const char *key = format == 3 ? "zarr.json" : ".zgroup";
    rc = zarrc_store_get(&data, &size, st, key);
    if (rc) {
        zarrc_free(attrs_text);
        return cli_fail_lib(rc, "reading '%s' of '%s'", key, node);
    }
    char *text = malloc(size + 1);
    if (!text) {
        zarrc_free(data);
        zarrc_free(attrs_text);
        return cli_fail("out of memory");
    }
    if (size)
        memcpy(text, data, size);
    text[size] = 0;
    zarrc_free(data);
    json_object *attrs = json_from_text(attrs_text), *meta = json_from_text(text);
    zarrc_free(attrs_text);
    free(text);
    if (as_json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "node_type", json_object_new_string("group"));
        json_object_object_add(o, "zarr_format", json_object_new_int(format));
        json_object_object_add(o, "attributes", attrs);
        json_object_object_add(o, "metadata", meta);
        cli_refs_info(o, node);
        json_println(o);
        json_object_put(o);
    } else {
        printf("%-14s%s\n", "node:", node);
        printf("%-14s%s\n", "node type:", "group");
        printf("%-14s%d\n", "zarr format:", format);
        printf("%-14s%s\n", "attributes:", json_compact(attrs));
        cli_refs_info(NULL, node);
        fputs("metadata:\n", stdout);
        json_println(meta);
        json_object_put(attrs);
        json_object_put(meta);
    }
    return CLI_EXIT_OK;
}

static int cmd_info(const verb *v, int argc, char **argv)
{
    const char *node;
    int as_json = 0, no_stats = 0;
    const opt_spec specs[] = {{"--json", NULL, &as_json}, {"--no-stats", NULL, &no_stats}, {NULL, NULL, NULL}};
    int rc = parse_args(v, argc, argv, specs, &node);
    if (rc)
        return rc == OPT_HELP_SHOWN ? CLI_EXIT_OK : rc;
    zarrc_store *st;
    zarrc_node_kind kind;
    int format;
    if (cli_is_spec_file(node))
        return cli_view_info(node, as_json);
    if (open_node(&st, &kind, &format, node, ZARRC_STORE_READONLY))
        return CLI_EXIT_FAIL;
    rc = kind == ZARRC_NODE_ARRAY ? info_array(st, node, as_json, no_stats)
                                  : info_group(st, node, format, as_json);
    zarrc_store_free(st);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* get / put                                                                                   */
/* ------------------------------------------------------------------------------------------ */

static int parse_selection(const verb *v, cli_selection *sel, const char *text)
{
    char err[256];
    if (cli_select_parse(sel, text ? text : "", err, sizeof err))
        return usage_error(v, "--select: %s", err);
    return 0;
}

static int resolve_selection(cli_box *box, const cli_selection *sel, zarrc_array *arr,
                             const char *node)
{
    char err[256];
    if (cli_select_resolve(box, sel, zarrc_array_ndim(arr), zarrc_array_shape(arr), err,
                           sizeof err))
        return cli_fail("'%s': selection out of bounds: %s", node, err);
    return 0;
}

/* Bytes of a fixed-size buffer for n elements, or 0 with a message when they exceed what the
 * library can address (int64 and size_t). */
static size_t buffer_size(const zarrc_dtype_info *dt, int64_t n, const char *node)
{
    uint64_t limit = SIZE_MAX < INT64_MAX ? SIZE_MAX : INT64_MAX;
    if (n > 0 && dt->item_size && (uint64_t)n > limit / dt->item_size) {
        cli_fail("'%s': selection of %lld elements is too large", node, (long long)n);
        return 0;
    }
    return (size_t)n * dt->item_size;
}

static int cmd_get(const verb *v, int argc, char **argv)
{
    const char *node, *select = NULL, *npy = NULL;
    int as_json = 0, as_raw = 0, quiet = 0;
    const opt_spec specs[] = {
        {"--select", &select, NULL}, {"--json", NULL, &as_json}, {"--raw", NULL, &as_raw},
        {"--npy", &npy, NULL},       {"--quiet", NULL, &quiet}, {NULL, NULL, NULL},
    };
    int rc = parse_args(v, argc, argv, specs, &node);
    if (rc)
        return rc == OPT_HELP_SHOWN ? CLI_EXIT_OK : rc;
    if (as_json + as_raw + (npy != NULL) > 1)
        return usage_error(v, "--json, --raw and --npy are mutually exclusive");
    if ((as_raw || (npy && !strcmp(npy, "-"))) && isatty(STDOUT_FILENO))
        return cli_fail("get --raw: refusing to write binary data to a terminal (redirect the output: "
                        "'> FILE' or '| ...')");
    cli_selection sel;
    if (parse_selection(v, &sel, select))
        return CLI_EXIT_USAGE;
    zarrc_store *st;
    zarrc_array *arr;
    if (open_array_node(&st, &arr, node, ZARRC_STORE_READONLY)) {
        cli_select_free(&sel);
        return CLI_EXIT_FAIL;
    }
    const zarrc_dtype_info *dt = zarrc_array_dtype(arr);
    int vlen = cli_dtype_is_vlen(dt), result = CLI_EXIT_FAIL;
    cli_box box;
    void *buf = NULL;
    zarrc_vlen vl = {0};
    if (resolve_selection(&box, &sel, arr, node))
        goto out;
    if ((as_raw || npy) && vlen) {
        cli_fail("'%s': %s needs a fixed-size data type, '%s' is variable-length (use --json)",
                 node, as_raw ? "--raw" : "--npy", dt->name);
        goto fail;
    }
    size_t nbytes = vlen ? 0 : buffer_size(dt, box.nelem, node);
    if (!vlen && box.nelem > 0 && !nbytes)
        goto fail;
    if (as_raw || npy) { /* streamed: bounded memory whatever the selection's size */
        FILE *out = stdout;
        if (npy && strcmp(npy, "-") && !(out = fopen(npy, "wb"))) {
            cli_fail("cannot create '%s': %s", npy, strerror(errno));
            goto fail;
        }
        rc = cli_stream_get(out, npy != NULL, arr, &box, node, quiet);
        if (out != stdout && fclose(out) && !rc)
            rc = cli_fail("writing '%s': %s", npy, strerror(errno));
        if (!rc && (fflush(stdout) || ferror(stdout)))
            rc = cli_fail("writing the output: %s", strerror(errno));
        if (!rc)
            result = CLI_EXIT_OK;
        goto fail;
    }
    if (!vlen) {
        buf = malloc(nbytes ? nbytes : 1);
        if (!buf) {
            cli_fail("'%s': cannot allocate %zu bytes for the selection", node, nbytes);
            goto fail;
        }
    }
    if (vlen && !cli_box_is_simple(&box)) {
        cli_fail("'%s': index lists and negative steps are not supported for variable-length types "
                 "('%s')", node, dt->name);
        goto fail;
    }
    if (box.nelem > 0) {
        rc = vlen ? zarrc_array_read(arr, box.start, box.count, box.step, &vl, sizeof vl)
                  : cli_box_io(arr, &box, -1, 0, 0, buf, nbytes, 0);
        if (rc) {
            cli_fail_lib(rc, "reading '%s'", node);
            goto fail;
        }
    }
    if (as_raw)
        rc = cli_data_print_raw(stdout, dt, buf, box.nelem);
    else
        rc = cli_data_print_json(stdout, dt, vlen ? (void *)&vl : buf, box.nelem, box.out_ndim,
                                 box.out_shape);
    if (!rc && (fflush(stdout) || ferror(stdout)))
        rc = cli_fail("writing the output: %s", strerror(errno));
    if (!rc)
        result = CLI_EXIT_OK;
fail:
    cli_box_free(&box);
out:
    zarrc_vlen_clear(&vl);
    free(buf);
    cli_select_free(&sel);
    zarrc_array_free(arr);
    zarrc_store_free(st);
    return result;
}

/* ---- blocks: put --offset, append ---------------------------------------------------------- */

/* The shape of a JSON block: the "shape" member of an object, else the nesting of the lists
 * (complex [re, im] pairs count as values when the type is complex). */
static int json_block_shape(const char *text, const zarrc_dtype_info *dt, int64_t *shape, int *ndim, int max)
{
    json_object *o;
    char err[256];
    if (cli_json_parse(&o, text, err, sizeof err))
        return cli_fail("%s", err);
    json_object *sh = NULL, *d = o;
    int rc = 0;
    *ndim = 0;
    if (json_object_is_type(o, json_type_object)) {
        if (json_object_object_get_ex(o, "shape", &sh) && json_object_is_type(sh, json_type_array)) {
            size_t n = json_object_array_length(sh);
            if ((int)n > max)
                rc = cli_fail("the block's \"shape\" has %zu dimensions, the array %d", n, max);
            for (size_t i = 0; !rc && i < n; i++) {
                json_object *e = json_object_array_get_idx(sh, i);
                if (!json_object_is_type(e, json_type_int) || json_object_get_int64(e) < 0)
                    rc = cli_fail("the block's \"shape\" must list sizes >= 0");
                else
                    shape[(*ndim)++] = json_object_get_int64(e);
            }
            json_object_put(o);
            return rc;
        }
        json_object_object_get_ex(o, "data", &d);
    }
    int complex_kind = dt->kind == ZARRC_DTYPE_COMPLEX;
    while (json_object_is_type(d, json_type_array)) {
        size_t n = json_object_array_length(d);
        json_object *first = n ? json_object_array_get_idx(d, 0) : NULL;
        if (complex_kind && n == 2 && !json_object_is_type(first, json_type_array) && *ndim > 0)
            break; /* an [re, im] value */
        if (*ndim == max) {
            rc = cli_fail("the block's lists are nested deeper than the array's %d dimensions", max);
            break;
        }
        shape[(*ndim)++] = (int64_t)n;
        if (!n)
            break;
        d = first;
    }
    json_object_put(o);
    return rc;
}

static char *slurp(FILE *in, const char *name, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t k = fread(b + n, 1, cap - n - 1, in);
        n += k;
        if (k == 0)
            break;
        if (cap - n - 1 == 0) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    if (!b) {
        cli_fail("'%s': out of memory reading the input", name);
        return NULL;
    }
    if (ferror(in)) {
        free(b);
        cli_fail("reading '%s': %s", name, strerror(errno));
        return NULL;
    }
    b[n] = 0;
    *len = n;
    return b;
}

/* put NODE --offset O [--extend] [--shape S] (axis < 0), or append NODE --axis A [--shape S]. */
static int put_block(const verb *v, const char *node, const char *offset_s, int axis, const char *shape_s,
                     const char *json_src, const char *raw_src, int extend, int write_empty)
{
    zarrc_store *st = NULL;
    zarrc_array *arr = NULL;
    FILE *in = NULL, *mem = NULL;
    void *buf = NULL;
    char *text = NULL;
    int64_t *offset = NULL, *shape_opt = NULL, shape[64]; /* >= ZARRC_MAX_DIMS (32): ranks are checked */
    int noffset = 0, nshape = 0, ndim = 0, result = CLI_EXIT_FAIL;
    zarrc_vlen vl = {0};
    int have_vl = 0;
    if (raw_src && !shape_s)
        return usage_error(v, "--raw needs --shape (the block's shape)");
    if (offset_s && parse_dims("--offset", offset_s, &offset, &noffset, 0))
        return CLI_EXIT_FAIL;
    if (shape_s && parse_dims("--shape", shape_s, &shape_opt, &nshape, 0)) {
        free(offset);
        return CLI_EXIT_FAIL;
    }
    if (open_array_node(&st, &arr, node, 0))
        goto done;
    zarrc_array_set_write_empty_chunks(arr, write_empty);
    const zarrc_dtype_info *dt = zarrc_array_dtype(arr);
    int rank = zarrc_array_ndim(arr), vlen = cli_dtype_is_vlen(dt);
    if (noffset > rank) {
        cli_fail("'%s': --offset has %d entries, the array has %d dimensions", node, noffset, rank);
        goto done;
    }
    if (axis >= rank) {
        cli_fail("'%s': --axis %d is not a dimension of the array (it has %d)", node, axis, rank);
        goto done;
    }
    if (raw_src && vlen) {
        cli_fail("'%s': --raw needs a fixed-size data type, '%s' is variable-length (use --json)", node, dt->name);
        goto done;
    }
    const char *src = json_src ? json_src : raw_src;
    const char *src_name = strcmp(src, "-") ? src : "<stdin>";
    if (!strcmp(src, "-"))
        in = stdin;
    else if (!(in = fopen(src, "rb"))) {
        cli_fail("cannot open '%s': %s", src, strerror(errno));
        goto done;
    }
    size_t len = 0;
    if (json_src && !(text = slurp(in, src_name, &len)))
        goto done;
    if (shape_opt) {
        if (nshape != rank) {
            cli_fail("'%s': --shape has %d dimension%s, the array has %d", node, nshape, nshape == 1 ? "" : "s",
                     rank);
            goto done;
        }
        ndim = nshape; /* at most ZARRC_MAX_DIMS, which fits `shape` */
        memcpy(shape, shape_opt, sizeof(int64_t) * (size_t)nshape);
    } else if (json_block_shape(text, dt, shape, &ndim, rank))
        goto done;
    if (ndim == 1 && rank > 1 && !shape_opt) {
        cli_fail("'%s': a flat JSON list gives no block shape for a %d-d array: nest the lists or give --shape",
                 node, rank);
        goto done;
    }
    if (ndim != rank) {
        cli_fail("'%s': the block has %d dimensions, the array %d", node, ndim, rank);
        goto done;
    }
    int64_t nelem = 1;
    for (int d = 0; d < ndim; d++)
        if (__builtin_mul_overflow(nelem, shape[d], &nelem)) {
            cli_fail("'%s': the block's shape is too large", node);
            goto done;
        }
    size_t nbytes = vlen ? 0 : buffer_size(dt, nelem, node);
    if (!vlen && nelem > 0 && !nbytes)
        goto done;
    if (!vlen && !(buf = calloc(1, nbytes ? nbytes : 1))) {
        cli_fail("'%s': cannot allocate %zu bytes for the block", node, nbytes);
        goto done;
    }
    if (json_src) {
        if (!(mem = fmemopen(text, len ? len : 1, "rb"))) {
            cli_fail("'%s': %s", src_name, strerror(errno));
            goto done;
        }
        if (cli_data_read_json(mem, src_name, dt, vlen ? (void *)&vl : buf, nelem, ndim, shape))
            goto done;
        have_vl = vlen;
    } else if (cli_data_read_raw(in, src_name, dt, buf, nelem))
        goto done;
    int rc;
    const void *data = vlen ? (const void *)&vl : buf;
    size_t size = vlen ? sizeof vl : nbytes;
    if (axis >= 0) {
        int64_t start;
        rc = zarrc_array_append(arr, axis, shape, data, size, &start);
    } else
        rc = zarrc_array_write_at(arr, offset, noffset, shape, data, size, extend ? ZARRC_EXTEND : 0);
    if (rc) {
        cli_fail_lib(rc, "writing '%s'", node);
        goto done;
    }
    cli_warn_consolidated(node);
    result = CLI_EXIT_OK;
done:
    if (mem)
        fclose(mem);
    if (in && in != stdin)
        fclose(in);
    if (have_vl)
        cli_vlen_release(&vl);
    free(text);
    free(buf);
    free(offset);
    free(shape_opt);
    zarrc_array_free(arr);
    zarrc_store_free(st);
    return result;
}

static int cmd_append(const verb *v, int argc, char **argv)
{
    const char *node, *json_src = NULL, *raw_src = NULL, *axis_s = NULL, *shape_s = NULL;
    int write_empty = 0;
    const opt_spec specs[] = {
        {"--axis", &axis_s, NULL}, {"--json", &json_src, NULL}, {"--raw", &raw_src, NULL},
        {"--shape", &shape_s, NULL}, {"--write-empty-chunks", NULL, &write_empty}, {NULL, NULL, NULL},
    };
    int rc = parse_args(v, argc, argv, specs, &node);
    if (rc)
        return rc == OPT_HELP_SHOWN ? CLI_EXIT_OK : rc;
    if (json_src && raw_src)
        return usage_error(v, "--json and --raw are mutually exclusive");
    if (!json_src && !raw_src)
        return usage_error(v, "missing --json FILE or --raw FILE (FILE may be '-' for stdin)");
    int64_t *ax = NULL;
    int nax = 0;
    if (!axis_s)
        axis_s = "0";
    if (parse_dims("--axis", axis_s, &ax, &nax, 0))
        return CLI_EXIT_FAIL;
    if (nax != 1 || ax[0] > 64) {
        free(ax);
        return usage_error(v, "--axis takes one dimension number");
    }
    int axis = (int)ax[0];
    free(ax);
    return put_block(v, node, NULL, axis, shape_s, json_src, raw_src, 0, write_empty);
}

static int cmd_resize(const verb *v, int argc, char **argv)
{
    const char *node, *shape_s = NULL;
    const opt_spec specs[] = {{"--shape", &shape_s, NULL}, {NULL, NULL, NULL}};
    int rc = parse_args(v, argc, argv, specs, &node);
    if (rc)
        return rc == OPT_HELP_SHOWN ? CLI_EXIT_OK : rc;
    if (!shape_s)
        return usage_error(v, "missing --shape");
    int64_t *shape = NULL;
    int n = 0;
    if (parse_dims("--shape", shape_s, &shape, &n, 0))
        return CLI_EXIT_FAIL;
    zarrc_store *st = NULL;
    zarrc_array *arr = NULL;
    int result = CLI_EXIT_FAIL;
    if (open_array_node(&st, &arr, node, 0))
        goto done;
    if (n != zarrc_array_ndim(arr)) {
        cli_fail("'%s': --shape has %d dimension%s, the array has %d", node, n, n == 1 ? "" : "s",
                 zarrc_array_ndim(arr));
        goto done;
    }
    if ((rc = zarrc_array_resize(arr, shape))) {
        cli_fail_lib(rc, "resizing '%s'", node);
        goto done;
    }
    cli_warn_consolidated(node);
    result = CLI_EXIT_OK;
done:
    free(shape);
    zarrc_array_free(arr);
    zarrc_store_free(st);
    return result;
}

static int cmd_put(const verb *v, int argc, char **argv)
{
    const char *node, *select = NULL, *json_src = NULL, *raw_src = NULL, *npy_src = NULL, *value = NULL;
    const char *offset_s = NULL, *shape_s = NULL;
    int write_empty = 0, quiet = 0, extend = 0;
    const opt_spec specs[] = {
        {"--select", &select, NULL}, {"--json", &json_src, NULL}, {"--raw", &raw_src, NULL},
        {"--npy", &npy_src, NULL},   {"--value", &value, NULL}, {"--write-empty-chunks", NULL, &write_empty},
        {"--quiet", NULL, &quiet},   {"--offset", &offset_s, NULL}, {"--extend", NULL, &extend},
        {"--shape", &shape_s, NULL}, {NULL, NULL, NULL},
    };
    int rc = parse_args(v, argc, argv, specs, &node);
    if (rc)
        return rc == OPT_HELP_SHOWN ? CLI_EXIT_OK : rc;
    if ((json_src != NULL) + (raw_src != NULL) + (npy_src != NULL) + (value != NULL) > 1)
        return usage_error(v, "--json, --raw, --npy and --value are mutually exclusive");
    if (!json_src && !raw_src && !npy_src && !value)
        return usage_error(v, "missing --json FILE, --raw FILE, --npy FILE (FILE may be '-' for stdin) or "
                              "--value V");
    if (offset_s && select)
        return usage_error(v, "--offset and --select are mutually exclusive");
    if (!offset_s && (extend || shape_s))
        return usage_error(v, "--extend and --shape go with --offset");
    if (offset_s && (npy_src || value))
        return usage_error(v, "--offset takes the block from --json or --raw");
    if (offset_s)
        return put_block(v, node, offset_s, -1, shape_s, json_src, raw_src, extend, write_empty);
    cli_selection sel;
    if (parse_selection(v, &sel, select))
        return CLI_EXIT_USAGE;
    const char *src = json_src ? json_src : raw_src ? raw_src : npy_src ? npy_src : "--value";
    zarrc_store *st = NULL;
    zarrc_array *arr = NULL;
    FILE *in = NULL;
    void *buf = NULL;
    zarrc_vlen vl = {0};
    cli_box box = {0};
    int result = CLI_EXIT_FAIL, have_box = 0;
    if (open_array_node(&st, &arr, node, 0))
        goto done;
    zarrc_array_set_write_empty_chunks(arr, write_empty);
    const zarrc_dtype_info *dt = zarrc_array_dtype(arr);
    int vlen = cli_dtype_is_vlen(dt);
    if (resolve_selection(&box, &sel, arr, node))
        goto done;
    have_box = 1;
    if ((raw_src || npy_src) && vlen) {
        cli_fail("'%s': %s needs a fixed-size data type, '%s' is variable-length (use --json)",
                 node, raw_src ? "--raw" : "--npy", dt->name);
        goto done;
    }
    size_t nbytes = vlen ? 0 : buffer_size(dt, box.nelem, node);
    if (!vlen && box.nelem > 0 && !nbytes)
        goto done;
    if (vlen && !cli_box_is_simple(&box)) {
        cli_fail("'%s': index lists and negative steps are not supported for variable-length types "
                 "('%s')", node, dt->name);
        goto done;
    }
    if (value) { /* a scalar broadcast over the selection */
        if (!cli_stream_fill(arr, &box, normalize_fill(value), node, quiet))
            result = CLI_EXIT_OK;
        goto done;
    }
    if (raw_src || npy_src) { /* streamed: bounded memory whatever the selection's size */
        if (!strcmp(src, "-"))
            in = stdin;
        else if (!(in = fopen(src, "rb"))) {
            cli_fail("cannot open '%s': %s", src, strerror(errno));
            goto done;
        }
        if (!cli_stream_put(in, strcmp(src, "-") ? src : "<stdin>", npy_src != NULL, arr, &box, node, quiet))
            result = CLI_EXIT_OK;
        goto done;
    }
    if (!vlen && !(buf = calloc(1, nbytes ? nbytes : 1))) {
        cli_fail("'%s': cannot allocate %zu bytes for the selection", node, nbytes);
        goto done;
    }
    if (!strcmp(src, "-")) {
        in = stdin;
    } else if (!(in = fopen(src, "rb"))) {
        cli_fail("cannot open '%s': %s", src, strerror(errno));
        goto done;
    }
    const char *src_name = strcmp(src, "-") ? src : "<stdin>";
    rc = json_src ? cli_data_read_json(in, src_name, dt, vlen ? (void *)&vl : buf, box.nelem, box.out_ndim,
                                       box.out_shape)
                  : cli_data_read_raw(in, src_name, dt, buf, box.nelem);
    if (rc)
        goto done;
    if (box.nelem > 0) {
        rc = vlen ? zarrc_array_write(arr, box.start, box.count, box.step, &vl, sizeof vl)
                  : cli_box_io(arr, &box, -1, 0, 0, buf, nbytes, 1);
        if (rc) {
            cli_fail_lib(rc, "writing '%s'", node);
            goto done;
        }
    }
    result = CLI_EXIT_OK;
done:
    if (in && in != stdin)
        fclose(in);
    cli_vlen_release(&vl);
    free(buf);
    if (have_box)
        cli_box_free(&box);
    cli_select_free(&sel);
    zarrc_array_free(arr);
    zarrc_store_free(st);
    return result;
}

/* ------------------------------------------------------------------------------------------ */
/* ls / rm                                                                                     */
/* ------------------------------------------------------------------------------------------ */

typedef struct ls_row {
    char *name; /* escaped */
    char *rest;
} ls_row;

typedef struct ls_ctx {
    int as_json;
    json_object *list;
    ls_row *rows;
    size_t n, cap;
    int oom;
} ls_ctx;

static int ls_child(void *vctx, const zarrc_child_info *c)
{
    ls_ctx *ctx = vctx;
    if (ctx->as_json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(c->name));
        const char *type = c->kind == ZARRC_NODE_ARRAY ? (c->is_view ? "view" : "array") : "group";
        json_object_object_add(o, "node_type", json_object_new_string(type));
        json_object_object_add(o, "zarr_format", json_object_new_int(c->format));
        if (c->kind == ZARRC_NODE_ARRAY) {
            json_object_object_add(o, "shape", dims_json(c->shape, c->ndim));
            json_object_object_add(o, "data_type",
                                   json_object_new_string(c->dtype ? c->dtype : ""));
        }
        json_object_array_add(ctx->list, o);
        return 0;
    }
    /* Text rows are printed at the end, with the name column as wide as the longest name. */
    if (ctx->n == ctx->cap) {
        size_t cap = ctx->cap ? ctx->cap * 2 : 32;
        ls_row *r = realloc(ctx->rows, cap * sizeof *r);
        if (!r) {
            ctx->oom = 1;
            return ZARRC_ENOMEM;
        }
        ctx->rows = r;
        ctx->cap = cap;
    }
    char *rest = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&rest, &len);
    if (!m) {
        ctx->oom = 1;
        return ZARRC_ENOMEM;
    }
    if (c->kind != ZARRC_NODE_ARRAY) {
        fputs("group", m);
    } else {
        fprintf(m, "%s  shape=[", c->is_view ? "view" : "array");
        for (int d = 0; d < c->ndim; d++)
            fprintf(m, "%s%lld", d ? "," : "", (long long)c->shape[d]);
        fputs("] dtype=", m);
        cli_print_name(m, c->dtype ? c->dtype : "?");
    }
    fclose(m);
    char *name = cli_escape_name(c->name);
    if (!name || !rest) {
        free(name);
        free(rest);
        ctx->oom = 1;
        return ZARRC_ENOMEM;
    }
    ctx->rows[ctx->n].name = name;
    ctx->rows[ctx->n++].rest = rest;
    return 0;
}

/* Display width of UTF-8 text (code points; escaped names hold no control characters). */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void ls_print_rows(ls_ctx *ctx)
{
    size_t width = 0;
    for (size_t i = 0; i < ctx->n; i++)
        if (text_width(ctx->rows[i].name) > width)
            width = text_width(ctx->rows[i].name);
    for (size_t i = 0; i < ctx->n; i++) {
        fputs(ctx->rows[i].name, stdout);
        printf("%*s  %s\n", (int)(width - text_width(ctx->rows[i].name)), "", ctx->rows[i].rest);
    }
}

static void ls_free_rows(ls_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n; i++) {
        free(ctx->rows[i].name);
        free(ctx->rows[i].rest);
    }
    free(ctx->rows);
}

static int cmd_ls(const verb *v, int argc, char **argv)
{
    const char *node;
    int as_json = 0;
    const opt_spec specs[] = {{"--json", NULL, &as_json}, {NULL, NULL, NULL}};
    int rc = parse_args(v, argc, argv, specs, &node);
    if (rc)
        return rc == OPT_HELP_SHOWN ? CLI_EXIT_OK : rc;
    zarrc_store *st;
    zarrc_node_kind kind;
    int format;
    if (open_node(&st, &kind, &format, node, ZARRC_STORE_READONLY))
        return CLI_EXIT_FAIL;
    if (kind != ZARRC_NODE_GROUP) {
        zarrc_store_free(st);
        return cli_fail("'%s' is an array, not a group", node);
    }
    ls_ctx ctx = {as_json, as_json ? json_object_new_array() : NULL, NULL, 0, 0, 0};
    rc = zarrc_group_list(st, "", ls_child, &ctx);
    zarrc_store_free(st);
    if (rc) {
        json_object_put(ctx.list);
        ls_free_rows(&ctx);
        return ctx.oom ? cli_fail("listing '%s': out of memory", node) : cli_fail_lib(rc, "listing '%s'", node);
    }
    if (as_json)
        json_println(ctx.list);
    else
        ls_print_rows(&ctx);
    ls_free_rows(&ctx);
    json_object_put(ctx.list);
    return CLI_EXIT_OK;
}

static int cmd_rm(const verb *v, int argc, char **argv)
{
    const char *node;
    int force = 0;
    const opt_spec specs[] = {{"--force", NULL, &force}, {NULL, NULL, NULL}};
    int rc = parse_args(v, argc, argv, specs, &node);
    if (rc)
        return rc == OPT_HELP_SHOWN ? CLI_EXIT_OK : rc;
    unsigned flags = force ? ZARRC_FORCE : 0;
    const char *fs = node_fs_path(node);
    zarrc_store *st;
    zarrc_node_kind kind;
    int format;
    if (!fs) {
        /* Another store URL: the node is the store's root. */
        if (open_node(&st, &kind, &format, node, 0))
            return CLI_EXIT_FAIL;
        rc = zarrc_node_delete_flags(st, "", flags);
        zarrc_store_free(st);
        return rc ? fail_erase(rc, "deleting", node) : CLI_EXIT_OK;
    }
    /* Resolve the parent directory but not the node's own name (a symlink stays a name). */
    char *copy = strdup(fs);
    if (!copy)
        return cli_fail("out of memory");
    size_t len = strlen(copy);
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = 0;
    /* Deletion never follows a symbolic link: the link's target may be anybody's data. */
    struct stat sb;
    if (lstat(copy, &sb) == 0 && S_ISLNK(sb.st_mode)) {
        free(copy);
        return cli_fail("'%s' is a symbolic link: refusing to delete through it (nothing deleted; remove "
                        "the link itself with the system's rm, or name the node's real path)", node);
    }
    char *base = strrchr(copy, '/');
    const char *dir = base ? (base == copy ? "/" : copy) : ".";
    if (base)
        *base++ = 0;
    else
        base = copy;
    char *real = NULL;
    if (!strcmp(base, ".") || !strcmp(base, "..") || !strcmp(base, "") || !strcmp(base, "/")) {
        real = realpath(fs, NULL);
    } else {
        char *rdir = realpath(dir, NULL);
        if (rdir && (real = malloc(strlen(rdir) + strlen(base) + 2)))
            sprintf(real, "%s/%s", strcmp(rdir, "/") ? rdir : "", base);
        free(rdir);
    }
    free(copy);
    if (!real || lstat(real, &sb)) {
        int e = errno;
        free(real);
        return cli_fail("'%s' is not a Zarr node: %s", node, strerror(e));
    }
    if (!S_ISDIR(sb.st_mode)) {
        free(real);
        return cli_fail("'%s' is not a Zarr node (not a directory)", node);
    }
    char *slash = strrchr(real, '/');
    if (!slash || !slash[1]) {
        free(real);
        return cli_fail("refusing to delete '%s' (the root directory)", node);
    }
    *slash = 0;
    const char *parent = real[0] ? real : "/", *name = slash + 1;
    int result = CLI_EXIT_FAIL;
    if (open_store(&st, parent, 0))
        goto done;
    rc = zarrc_node_delete_flags(st, name, flags);
    if (rc == ZARRC_ENOTFOUND) {
        cli_fail("'%s' is not a Zarr node (no zarr.json, .zarray or .zgroup there); "
                 "nothing deleted", node);
    } else if (rc) {
        fail_erase(rc, "deleting", node);
    } else {
        *slash = '/';
        if (rmdir(real) && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
            cli_fail("'%s': deleted the node but could not remove the directory: %s", node,
                     strerror(errno));
        else
            result = CLI_EXIT_OK;
    }
    zarrc_store_free(st);
done:
    free(real);
    return result;
}

/* ------------------------------------------------------------------------------------------ */
/* cp                                                                                          */
/* ------------------------------------------------------------------------------------------ */

typedef struct cp_opts {
    int format;                /* 0 = keep the source's */
    const char *codecs;        /* --codecs */
    const int64_t *chunks;     /* --chunks (inner chunks with --shards) */
    const int64_t *shards;     /* --shards */
    int nchunks, nshards;
    unsigned flags;            /* ZARRC_OVERWRITE, ZARRC_FORCE, ZARRC_RESUME */
    int progress;              /* draw a progress line on stderr */
    int no_raw;                /* always decode and re-encode */
    zarrc_copy_stats total;
} cp_opts;


static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The copy's progress (cli_progress.c): chunks done of the total, rate, ETA. */
static int draw_progress(void *ctx, uint64_t done, uint64_t total)
{
    cli_progress *p = ctx;
    p->total_units = total;
    cli_progress_update(p, done, 0);
    return 0;
}

/* A JSON part of the source array as text (new string), or NULL with a message printed. */
static char *array_text(zarrc_array *a, zarrc_json_part part, const char *node, const char *what)
{
    char *text = NULL;
    int rc = zarrc_array_json(&text, a, part);
    if (rc) {
        cli_fail_lib(rc, "reading %s of '%s'", what, node);
        return NULL;
    }
    return text;
}

/* The destination codecs: --codecs, else the source's (v3 spelling); with --shards wrapped in
 * sharding_indexed around inner chunks of --chunks (or the source's chunks). */
static char *cp_codecs(const cp_opts *o, const char *src_codecs)
{
    const char *inner = o->codecs ? o->codecs : src_codecs;
    if (!o->shards)
        return strdup(inner);
    size_t n = strlen(inner) + 512 + 24 * (size_t)o->nshards;
    char *out = malloc(n), *p = out;
    if (!out)
        return NULL;
    p += snprintf(p, n, "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[");
    for (int d = 0; d < o->nchunks; d++)
        p += snprintf(p, n - (size_t)(p - out), "%s%lld", d ? "," : "", (long long)o->chunks[d]);
    snprintf(p, n - (size_t)(p - out), "],\"codecs\":%s,\"index_codecs\":[{\"name\":\"bytes\","
             "\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}],"
             "\"index_location\":\"end\"}}]", inner);
    return out;
}

/* Default codecs of a view's copy (a view has none of its own). */
static const char *VIEW_COPY_CODECS =
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
    "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}]";

/* Copy the array `src` (taken over) to dpath in dst_st. */
static int cp_array_from(zarrc_array *src, zarrc_store *dst_st, const char *dpath, const char *label, cp_opts *o)
{
    zarrc_array *dst = NULL;
    char *dtype = NULL, *fill = NULL, *codecs = NULL, *attrs = NULL, *meta = NULL, *dcodecs = NULL;
    int result = CLI_EXIT_FAIL, rc, is_view = zarrc_array_is_view(src);
    int64_t vchunks[32];
    int ndim = zarrc_array_ndim(src), format = o->format ? o->format : zarrc_array_format(src);
    if ((o->chunks && o->nchunks != ndim) || (o->shards && o->nshards != ndim)) {
        cli_fail("'%s' has %d dimensions: --chunks/--shards must give as many", label, ndim);
        goto done;
    }
    if (!(dtype = array_text(src, ZARRC_JSON_DTYPE, label, "the data type")) ||
        !(fill = array_text(src, ZARRC_JSON_FILL_VALUE, label, "the fill value")) ||
        !(codecs = is_view ? strdup(VIEW_COPY_CODECS) : array_text(src, ZARRC_JSON_CODECS_V3, label, "the codecs")) ||
        !(attrs = array_text(src, ZARRC_JSON_ATTRIBUTES, label, "the attributes")) ||
        !(meta = array_text(src, ZARRC_JSON_METADATA, label, "the metadata")))
        goto done;
    if (!(dcodecs = cp_codecs(o, codecs))) {
        cli_fail("out of memory");
        goto done;
    }
    /* Dimension names travel with v3 metadata. */
    json_object *doc = json_from_text(meta), *dn = NULL;
    const char **names = NULL;
    if (json_object_object_get_ex(doc, "dimension_names", &dn) && json_object_is_type(dn, json_type_array) &&
        (int)json_object_array_length(dn) == ndim && (names = calloc((size_t)ndim + 1, sizeof *names)))
        for (int d = 0; d < ndim; d++) {
            json_object *e = json_object_array_get_idx(dn, (size_t)d);
            names[d] = e ? json_object_get_string(e) : NULL;
        }
    zarrc_array_options ao = ZARRC_ARRAY_OPTIONS_INIT;
    ao.format = format;
    ao.dtype = dtype;
    ao.ndim = ndim;
    ao.shape = zarrc_array_shape(src);
    ao.chunks = o->shards ? o->shards : o->chunks ? o->chunks : zarrc_array_chunks(src);
    if (is_view && !o->chunks && !o->shards) {
        /* A view's one "chunk" is its whole domain: halve the largest extents down to 1 Mi elements. */
        const int64_t *sh = zarrc_array_shape(src);
        for (int d = 0; d < ndim; d++)
            vchunks[d] = sh[d] > 0 ? sh[d] : 1;
        for (;;) {
            double n = 1;
            int big = 0;
            for (int d = 0; d < ndim; d++) {
                n *= (double)vchunks[d];
                if (vchunks[d] > vchunks[big])
                    big = d;
            }
            if (n <= 1048576.0 || vchunks[big] == 1)
                break;
            vchunks[big] = (vchunks[big] + 1) / 2;
        }
        ao.chunks = vchunks;
    }
    ao.fill_value = strcmp(fill, "null") ? fill : NULL; /* v2 "no fill value": the type's zero */
    ao.codecs = dcodecs;
    ao.attributes = attrs;
    ao.dimension_names = names;
    ao.flags = o->flags | ZARRC_CREATE_PENDING; /* visible once complete */
    rc = zarrc_array_create(&dst, dst_st, dpath, &ao);
    free(names);
    json_object_put(doc);
    if (rc) {
        if (rc == ZARRC_ECONFLICT && (o->flags & ZARRC_RESUME))
            cli_fail("creating the copy of '%s': %s (different --format, --codecs, --chunks or --shards, or "
                     "another source)", label, zarrc_error_last());
        else
            fail_erase(rc, "creating the copy of", label);
        goto done;
    }
    cli_progress pc;
    cli_progress_start(&pc, label, "chunks", 0, !o->progress);
    zarrc_copy_options co = ZARRC_COPY_OPTIONS_INIT;
    co.allow_raw = !o->no_raw;
    if (pc.enabled) {
        co.progress = draw_progress;
        co.progress_ctx = &pc;
    }
    zarrc_copy_stats stats;
    rc = zarrc_array_copy(dst, src, &co, &stats);
    cli_progress_end(&pc);
    if (rc) {
        cli_fail_lib(rc, "copying '%s'", label);
        goto done;
    }
    o->total.units += stats.units;
    o->total.bytes += stats.bytes;
    o->total.raw = o->total.raw || stats.raw;
    result = CLI_EXIT_OK;
done:
    free(dtype);
    free(fill);
    free(codecs);
    free(attrs);
    free(meta);
    free(dcodecs);
    zarrc_array_free(src);
    zarrc_array_free(dst);
    return result;
}

static int cp_array(zarrc_store *sst, const char *spath, zarrc_store *dst_st, const char *dpath,
                    const char *label, cp_opts *o)
{
    zarrc_array *src = NULL;
    int rc = zarrc_array_open_flags(&src, sst, spath, cli_allow_external ? ZARRC_OPEN_ALLOW_EXTERNAL : 0);
    /* An array zarrc cannot decode (an unsupported data type or codec) is copied key by key
     * when nothing is to be converted (cli_refs.c). */
    if ((rc == ZARRC_EUNSUPPORTED || rc == ZARRC_EDTYPE) && !o->codecs && !o->chunks && !o->shards &&
        !(o->flags & ZARRC_RESUME))
        return cli_copy_verbatim(sst, spath, dst_st, dpath, label, o->format, o->flags);
    if (rc)
        return cli_fail_lib(rc, "opening array '%s'", label);
    return cp_array_from(src, dst_st, dpath, label, o);
}

typedef struct cp_walk {
    zarrc_store *sst, *dst;
    const char *spath, *dpath, *label;
    cp_opts *o;
    int result;
} cp_walk;

static int cp_node(zarrc_store *sst, const char *spath, zarrc_store *dst, const char *dpath,
                   const char *label, cp_opts *o, int recursive);

static int cp_child(void *ctx, const zarrc_child_info *c)
{
    cp_walk *w = ctx;
    size_t n = strlen(w->spath) + strlen(w->dpath) + strlen(w->label) + 3 * strlen(c->name) + 8;
    char *buf = malloc(n);
    if (!buf)
        return cli_fail("out of memory");
    char *sp = buf, *dp = sp + strlen(w->spath) + strlen(c->name) + 2,
         *lb = dp + strlen(w->dpath) + strlen(c->name) + 2;
    sprintf(sp, "%s%s%s", w->spath, *w->spath ? "/" : "", c->name);
    sprintf(dp, "%s%s%s", w->dpath, *w->dpath ? "/" : "", c->name);
    sprintf(lb, "%s/%s", w->label, c->name);
    w->result = cp_node(w->sst, sp, w->dst, dp, lb, w->o, 1);
    free(buf);
    return w->result; /* stop at the first failure */
}

static int cp_node(zarrc_store *sst, const char *spath, zarrc_store *dst, const char *dpath,
                   const char *label, cp_opts *o, int recursive)
{
    zarrc_node_kind kind;
    int format, rc = zarrc_node_probe(&kind, &format, sst, spath);
    if (rc)
        return cli_fail_lib(rc, "reading '%s'", label);
    if (kind == ZARRC_NODE_ARRAY)
        return cp_array(sst, spath, dst, dpath, label, o);
    if (!recursive)
        return cli_fail("'%s' is a group: use -r to copy a hierarchy", label);
    char *attrs = NULL;
    if ((rc = zarrc_node_attributes(&attrs, sst, spath)))
        return cli_fail_lib(rc, "reading the attributes of '%s'", label);
    rc = zarrc_group_create(dst, dpath, o->format ? o->format : format, attrs, o->flags);
    zarrc_free(attrs);
    if (rc)
        return fail_erase(rc, "creating the copy of group", label);
    cp_walk w = {sst, dst, spath, dpath, label, o, CLI_EXIT_OK};
    rc = zarrc_group_list(sst, spath, cp_child, &w);
    if (w.result)
        return w.result;
    return rc ? cli_fail_lib(rc, "listing '%s'", label) : CLI_EXIT_OK;
}

static int cmd_cp(const verb *v, int argc, char **argv)
{
    const char *pos[2] = {NULL, NULL}, *format_s = NULL, *codecs = NULL, *chunks_s = NULL,
               *shards_s = NULL;
    int recursive = 0, overwrite = 0, as_json = 0, quiet = 0, no_raw = 0, force = 0, resume = 0;
    const opt_spec specs[] = {
        {"--format", &format_s, NULL}, {"--codecs", &codecs, NULL},  {"--chunks", &chunks_s, NULL},
        {"--shards", &shards_s, NULL}, {"-r", NULL, &recursive},     {"--recursive", NULL, &recursive},
        {"--overwrite", NULL, &overwrite}, {"--json", NULL, &as_json}, {"--quiet", NULL, &quiet},
        {"--no-raw", NULL, &no_raw},      {"--force", NULL, &force},   {"--resume", NULL, &resume},
        {NULL, NULL, NULL},
    };
    int rc = parse_positionals(v, argc, argv, specs, pos, 2, "SRC and DST");
    if (rc)
        return rc == OPT_HELP_SHOWN ? CLI_EXIT_OK : rc;
    if (force && !overwrite)
        return usage_error(v, "--force needs --overwrite");
    if (resume && overwrite)
        return usage_error(v, "--resume and --overwrite are mutually exclusive");
    cp_opts o;
    memset(&o, 0, sizeof o);
    if (format_s) {
        if (strcmp(format_s, "2") && strcmp(format_s, "3"))
            return usage_error(v, "--format must be 2 or 3, not '%s'", format_s);
        o.format = format_s[0] - '0';
    }
    if (check_json_option("--codecs", codecs, 0, 1, 0))
        return CLI_EXIT_FAIL;
    int64_t *chunks = NULL, *shards = NULL;
    if ((chunks_s && parse_dims("--chunks", chunks_s, &chunks, &o.nchunks, 1)) ||
        (shards_s && parse_dims("--shards", shards_s, &shards, &o.nshards, 1))) {
        free(chunks);
        return CLI_EXIT_FAIL;
    }
    o.codecs = codecs;
    o.chunks = chunks;
    o.shards = shards;
    o.flags = (overwrite ? ZARRC_OVERWRITE : 0) | (force ? ZARRC_FORCE : 0) | (resume ? ZARRC_RESUME : 0);
    o.no_raw = no_raw;
    o.progress = !as_json && !quiet && isatty(STDERR_FILENO);
    int result = CLI_EXIT_FAIL;
    zarrc_store *sst = NULL, *dst = NULL;
    double t0 = now_seconds();
    if (shards && !chunks) {
        result = cli_fail("--shards needs --chunks (the inner chunk shape)");
        goto done;
    }
    zarrc_node_kind kind;
    int format, relation;
    made_dirs made = {NULL, 0};
    if (cli_is_spec_file(pos[0])) {
        /* A view spec file: materialize it (the view reads its layers wherever they are). */
        zarrc_array *src = NULL;
        if (cli_open_array(&sst, &src, pos[0], ZARRC_STORE_READONLY) || check_new_node(pos[1], o.format ? o.format : 3)) {
            zarrc_array_free(src);
            goto done;
        }
        record_missing_dirs(&made, pos[1]);
        if (open_store(&dst, pos[1], ZARRC_STORE_CREATE)) {
            zarrc_array_free(src);
            remove_made_dirs(&made, 1);
            goto done;
        }
        result = cp_array_from(src, dst, "", pos[0], &o);
        zarrc_store_free(dst);
        dst = NULL;
        remove_made_dirs(&made, result != CLI_EXIT_OK);
        goto report;
    }
    if (open_store(&sst, pos[0], ZARRC_STORE_READONLY))
        goto done;
    if ((rc = zarrc_node_probe(&kind, &format, sst, ""))) {
        result = cli_fail_lib(rc, "reading '%s'", pos[0]);
        goto done;
    }
    if (check_new_node(pos[1], o.format ? o.format : format))
        goto done;
    record_missing_dirs(&made, pos[1]);
    if (open_store(&dst, pos[1], ZARRC_STORE_CREATE)) {
        remove_made_dirs(&made, 1);
        goto done;
    }
    /* A copy onto or into itself would read what it overwrites: refused before anything. */
    if ((rc = zarrc_node_overlap(&relation, sst, "", dst, ""))) {
        result = cli_fail_lib(rc, "comparing '%s' and '%s'", pos[0], pos[1]);
    } else if (relation != ZARRC_OVERLAP_NONE) {
        result = cli_fail("'%s' and '%s' are %s: refusing to copy (nothing changed)", pos[0], pos[1],
                          relation == ZARRC_OVERLAP_SAME ? "the same node"
                          : relation == ZARRC_OVERLAP_B_IN_A ? "nested (the destination is inside the source)"
                                                             : "nested (the source is inside the destination)");
    } else if (kind == ZARRC_NODE_ARRAY) {
        /* Opened as the other verbs open arrays: a stored view inside its hierarchy. */
        zarrc_store *vst = NULL;
        zarrc_array *src = NULL;
        if (cli_open_array(&vst, &src, pos[0], ZARRC_STORE_READONLY) == 0)
            result = cp_array_from(src, dst, "", pos[0], &o);
        zarrc_store_free(vst);
    } else
        result = cp_node(sst, "", dst, "", pos[0], &o, recursive);
    zarrc_store_free(dst);
    dst = NULL;
    remove_made_dirs(&made, result != CLI_EXIT_OK); /* rmdir: only directories left empty */
report:
    if (result == CLI_EXIT_OK && as_json) {
        json_object *r = json_object_new_object();
        json_object_object_add(r, "bytes", json_object_new_int64((int64_t)o.total.bytes));
        json_object_object_add(r, "chunks", json_object_new_int64((int64_t)o.total.units));
        json_object_object_add(r, "seconds", json_object_new_double(now_seconds() - t0));
        json_object_object_add(r, "raw", json_object_new_boolean(o.total.raw));
        json_println(r);
        json_object_put(r);
    }
done:
    zarrc_store_free(sst);
    zarrc_store_free(dst);
    free(chunks);
    free(shards);
    return result;
}

/* ------------------------------------------------------------------------------------------ */
/* help and main                                                                               */
/* ------------------------------------------------------------------------------------------ */

static int cmd_help(const verb *v, int argc, char **argv);

/* Hierarchy verbs (cli_hierarchy.c). */
static int cmd_tree(const verb *v, int argc, char **argv)
{
    (void)v;
    return cli_cmd_tree(argc, argv);
}

static int cmd_refs(const verb *v, int argc, char **argv)
{
    (void)v;
    return cli_cmd_refs(argc, argv);
}

static int cmd_hierarchy(const verb *v, int argc, char **argv)
{
    (void)v;
    return cli_cmd_hierarchy(argc, argv);
}

static int cmd_consolidate(const verb *v, int argc, char **argv)
{
    (void)v;
    return cli_cmd_consolidate(argc, argv);
}

static int cmd_view(const verb *v, int argc, char **argv)
{
    (void)v;
    return cli_cmd_view(argc, argv);
}

static int cmd_attrs(const verb *v, int argc, char **argv)
{
    (void)v;
    return cli_cmd_attrs(argc, argv);
}

static int run_file_verb(const verb *v, int argc, char **argv, int (*fn)(int, char **, const char *))
{
    int rc = fn(argc, argv, v->usage);
    if (rc == CLI_ARGS_HELP) {
        print_verb_help(v, stdout);
        return CLI_EXIT_OK;
    }
    return rc;
}

static int cmd_verify(const verb *v, int argc, char **argv)
{
    return run_file_verb(v, argc, argv, cli_cmd_verify);
}

static int cmd_du(const verb *v, int argc, char **argv)
{
    return run_file_verb(v, argc, argv, cli_cmd_du);
}

static const verb verbs[] = {
    {"create", cmd_create,
     "zarrc create NODE --dtype T --shape N,... [--chunks N,...] [--format 2|3]\n"
     "                  [--fill-value JSON] [--codecs JSON | --compressor JSON --filters JSON]\n"
     "                  [--order C|F] [--separator /|.] [--attrs JSON]\n"
     "                  [--dimension-names a,b,...] [--overwrite [--force]]\n"
     "       zarrc create NODE --group [--format 2|3] [--attrs JSON] [--overwrite [--force]]",
     "Create an array (or, with --group, a group) at NODE. Missing directories are made; a\n"
     "refused create writes nothing. Nodes below an array, and v3 names starting with '__' in a\n"
     "group, are refused.",
     "Options:\n"
     "  --format 2|3          Zarr format (default 3)\n"
     "  --dtype T             data type in either spelling: int16 or <i2, float32 or >f4, bool,\n"
     "                        complex64, r16, |S5, <U3, <M8[ns], string, bytes, or a v3 JSON\n"
     "                        data type object\n"
     "  --shape N,...         array shape (\"\" or [] for a 0-d array)\n"
     "  --chunks N,...        chunk shape (default: one chunk holding the whole array)\n"
     "  --fill-value JSON     fill value, e.g. 0, 1.5, \"NaN\", true (default: the type's zero)\n"
     "  --codecs JSON         codec list in v3 or v2 (numcodecs) spelling\n"
     "  --compressor JSON     v2-style compressor object or null\n"
     "  --filters JSON        v2-style filter list or null\n"
     "  --order C|F           memory order of chunks (default C)\n"
     "  --separator /|.       chunk key separator (default: '/' for v3, '.' for v2)\n"
     "  --attrs JSON          attributes (a JSON object)\n"
     "  --dimension-names L   comma-separated names (empty = unnamed) or a JSON list\n"
     "  --overwrite           replace an existing node (its chunks go first, its metadata last);\n"
     "                        files below it that belong to no node refuse it (nothing deleted)\n"
     "  --force               with --overwrite: delete those files too\n"
     "  --group               create a group instead of an array\n"
     "\nExamples:\n"
     "  zarrc create data/temp --dtype float32 --shape 100,200 --chunks 10,20\n"
     "  zarrc create data/v2 --format 2 --dtype '<i2' --shape 1000 --chunks 100 \\\n"
     "        --compressor '{\"id\":\"zstd\",\"level\":3}' --fill-value -1\n"
     "  zarrc create data/z --dtype uint8 --shape 64,64 --chunks 32,32 \\\n"
     "        --codecs '[{\"name\":\"bytes\"},\n"
     "                   {\"name\":\"gzip\",\"configuration\":{\"level\":5}}]'\n"
     "  zarrc create data --group --attrs '{\"title\":\"demo\"}'\n"},
    {"info", cmd_info, "zarrc info NODE [--json]",
     "Show what is stored at NODE: node type, format, shape, chunks, data type, fill value,\n"
     "codecs (v3 spelling and, for v2 nodes, v2 spelling), attributes and the stored metadata.",
     "Options:\n"
     "  --json   print one JSON object with the members node_type, zarr_format, shape, chunks,\n"
     "           data_type, data_type_v2 (v2), fill_value, codecs, codecs_v2 (v2), attributes,\n"
     "           metadata (groups: node_type, zarr_format, attributes, metadata)\n"
     "\nExamples:\n"
     "  zarrc info data/temp\n"
     "  zarrc info data/temp --json\n"},
    {"get", cmd_get, "zarrc get NODE [--select SEL] [--json | --raw | --npy FILE] [--quiet]",
     "Read array data (the whole array, or the selection SEL).",
     "Options:\n"
     "  --select SEL   numpy-style selection, one entry per dimension separated by commas:\n"
     "                 i (one index; the axis is dropped), a:b, a:b:s, :, ::s, ::-1 (negative\n"
     "                 steps), [i,j,...] (an index list; lists apply per axis, like\n"
     "                 zarr-python's oindex), ... (as many ':' as needed); negative indices\n"
     "                 count from the end; missing trailing dimensions mean ':'\n"
     "  --json         print {\"shape\":[...],\"dtype\":\"<v3 name>\",\"data\":[...]}, the\n"
     "                 data flat in C order (the default)\n"
     "  --raw          write the selection's bytes, C order, little-endian (fixed-size types);\n"
     "                 refused on a terminal. Streamed: memory stays at about one chunk row\n"
     "  --npy FILE     write a NumPy .npy file (FILE '-' = stdout), streamed like --raw\n"
     "  --quiet        no progress line (it is shown only on a terminal anyway)\n"
     "\nExamples:\n"
     "  zarrc get data/temp --select 0:10,5\n"
     "  zarrc get data/temp --select ::2,-3: --raw > part.bin\n"},
    {"put", cmd_put,
     "zarrc put NODE [--select SEL | --offset O [--extend] [--shape S]]\n"
     "               (--json FILE | --raw FILE | --npy FILE | --value V) [--write-empty-chunks] [--quiet]",
     "Write array data into the whole array or the selection SEL. FILE may be '-' (stdin).",
     "Options:\n"
     "  --select SEL   selection as for 'get'\n"
     "  --json FILE    a JSON list of values (or an object with a \"data\" list, as printed by\n"
     "                 'get --json'): flat, with as many values as the selection, or nested\n"
     "                 with exactly the selection's shape\n"
     "  --raw FILE     exactly size * item-size bytes, C order, little-endian (streamed)\n"
     "  --npy FILE     a NumPy .npy file whose dtype and shape match the selection (streamed;\n"
     "                 either byte order, C order)\n"
     "  --value V      one JSON value written into every element of the selection\n"
     "  --offset O     write a block at offset O (N,...; missing trailing entries are 0) instead\n"
     "                 of a selection (with --json or --raw); the block's shape is --shape, else\n"
     "                 the nesting of the JSON lists or the \"shape\" member of a JSON object. A\n"
     "                 block that does not fit fails (exit 1) naming the array's current shape\n"
     "  --extend       with --offset: grow the array to max(shape, offset + block shape)\n"
     "  --shape S      the block's shape (N,...; required with --raw)\n"
     "  --quiet        no progress line (it is shown only on a terminal anyway)\n"
     "  --write-empty-chunks\n"
     "                 store chunks whose every element equals the fill value (by default\n"
     "                 they are not stored, and a stored one is erased)\n"
     "\nExamples:\n"
     "  echo '[1, 2, 3]' | zarrc put data/v --select 0:3 --json -\n"
     "  zarrc get a --json | zarrc put b --json -\n"
     "  echo '[[1, 2], [3, 4]]' | zarrc put data/m --offset 7,0 --extend --json -\n"},
    {"append", cmd_append,
     "zarrc append NODE [--axis A] (--json FILE | --raw FILE) [--shape S] [--write-empty-chunks]",
     "Append a block along axis A (default 0): it lands at the array's current extent there,\n"
     "which grows by the block's size (other axes grow to the block's size if smaller).\n"
     "Concurrent appenders never land in the same place.",
     "Options:\n"
     "  --axis A       the axis to append along (default 0)\n"
     "  --json FILE    the block as nested JSON lists (or an object with \"data\" and \"shape\")\n"
     "  --raw FILE     the block's bytes, C order, little-endian (needs --shape)\n"
     "  --shape S      the block's shape (N,...)\n"
     "\nExamples:\n"
     "  echo '[[1, 2, 3]]' | zarrc append data/m --axis 0 --json -\n"},
    {"resize", cmd_resize, "zarrc resize NODE --shape N,...",
     "Set the array's shape: grow or shrink any dimension. Shrinking erases the chunks outside\n"
     "the new shape and resets the cut part of edge chunks to the fill value, so a later grow\n"
     "reads the fill value there. Costs what is stored, not what the shape declares.",
     "Options:\n"
     "  --shape N,...  the new shape (one entry per dimension, each >= 0)\n"
     "\nExamples:\n"
     "  zarrc resize data/temp --shape 100,200\n"},
    {"ls", cmd_ls, "zarrc ls NODE [--json]",
     "List the children of the group at NODE, one per line:\n"
     "  name  array  shape=[..] dtype=..\n"
     "  name  group",
     "Options:\n"
     "  --json   print a JSON list of {name, node_type, zarr_format, shape, data_type}\n"
     "\nExample:\n"
     "  zarrc ls data\n"},
    {"rm", cmd_rm, "zarrc rm NODE [--force]",
     "Delete the array or group at NODE: its metadata, chunks and child nodes (chunks first,\n"
     "metadata last), and its directory. A path that is not a Zarr node is refused, and so is\n"
     "a symbolic link (deletion never follows one); nothing is deleted then.",
     "Options:\n"
     "  --force   also delete files below the node that belong to no node (without it they\n"
     "            refuse the deletion, and nothing is deleted)\n"
     "\nExample:\n"
     "  zarrc rm data/temp\n"},
    {"cp", cmd_cp,
     "zarrc cp SRC DST [--format 2|3] [--codecs JSON] [--chunks N,...] [--shards N,...]\n"
     "                [-r] [--overwrite [--force] | --resume] [--no-raw] [--json] [--quiet]",
     "Copy the array at SRC to DST (or, with -r, a whole hierarchy), converting the format,\n"
     "recompressing or rechunking on the way. Memory stays at a few chunks per thread whatever\n"
     "the array size. When nothing about the stored chunks changes (e.g. v2 -> v3 with the same\n"
     "codecs and chunks) the stored chunk bytes are copied without decoding. SRC and DST that\n"
     "are the same node or nested are refused. Each array's metadata is written when its copy\n"
     "is complete: a killed copy leaves an incomplete array that --resume continues.",
     "Options:\n"
     "  --format 2|3      format of the copy (default: the source's)\n"
     "  --codecs JSON     codec list of the copy, either spelling (default: the source's)\n"
     "  --chunks N,...    chunk shape of the copy (with --shards: the inner chunk shape)\n"
     "  --shards N,...    shard shape: the copy is sharded (v3), inner chunks use --codecs\n"
     "  -r, --recursive   copy a group and everything below it\n"
     "  --overwrite       replace existing nodes at DST (as create --overwrite)\n"
     "  --force           with --overwrite: also delete files that belong to no node\n"
     "  --resume          continue an interrupted copy with the same SRC, DST and options\n"
     "                    (stored chunks are kept; other options or another SRC are refused)\n"
     "  --no-raw          always decode and re-encode (no stored-bytes copy)\n"
     "  --json            print {\"bytes\", \"chunks\", \"seconds\", \"raw\"} when done\n"
     "  --quiet           no progress line (it is shown only on a terminal anyway)\n"
     "\nExamples:\n"
     "  zarrc cp data/v2array data/v3array --format 3\n"
     "  zarrc cp a b --codecs '[{\"name\":\"bytes\"},{\"name\":\"zstd\",\"configuration\":{\"level\":5}}]'\n"
     "  zarrc cp a b --chunks 64,64 --shards 512,512\n"
     "  zarrc cp -r dataset.zarr copy.zarr --format 3\n"},
    {"tree", cmd_tree, cli_tree_usage, cli_tree_summary, cli_tree_help},
    {"refs", cmd_refs, cli_refs_usage, cli_refs_summary, cli_refs_help},
    {"hierarchy", cmd_hierarchy, cli_hierarchy_usage, cli_hierarchy_summary, cli_hierarchy_help},
    {"consolidate", cmd_consolidate, cli_consolidate_usage, cli_consolidate_summary,
     cli_consolidate_help},
    {"attrs", cmd_attrs, cli_attrs_usage, cli_attrs_summary, cli_attrs_help},
    {"view", cmd_view, "zarrc view concat|stack|create|show ...",
     "Virtual arrays (views) over other arrays, without copying data.",
     "  zarrc view concat --axis N A B ... -o OUT [--fill-value JSON] [--overwrite]\n"
     "  zarrc view stack --axis N A B ... -o OUT [--fill-value JSON] [--overwrite]\n"
     "  zarrc view create OUT SPEC.json [--overwrite]\n"
     "  zarrc view show NODE\n"
     "OUT is a view node or a .json spec file. --allow-external (any verb) lets views refer\n"
     "to locations outside their hierarchy. See docs/views.md.\n"},
    {"verify", cmd_verify, "zarrc verify NODE [-r] [--repair [--yes]] [--json] [--quiet]",
     "Check the node at NODE (with -r: everything below it too): decode every stored chunk\n"
     "(checksums included) and report corrupt chunks, orphan keys (outside the chunk grid, not\n"
     "chunk names, or in a group), leftover temp and lock files of killed writers, interrupted\n"
     "copies (.zarrc-pending.json), unreadable metadata and metadata other implementations\n"
     "reject (v3 \"fill_value\": null; a v2 zstd codec with a \"checksum\" member, which\n"
     "tensorstore refuses, zarr-python#2647). Exit status 0 when nothing is wrong (or all of it\n"
     "was repaired), 1 when problems remain.",
     "Options:\n"
     "  -r, --recursive   check every node below NODE too\n"
     "  --repair          remove the reported temp files and orphan keys (nothing else: corrupt\n"
     "                    chunks and metadata are left for you), after a y/N question on stdin\n"
     "  --yes             with --repair: do not ask\n"
     "  --json            print {\"node\", \"arrays\", \"groups\", \"chunks_checked\", \"problems\":\n"
     "                    [{\"kind\", \"key\", \"message\", \"removable\"}], \"repaired\": [keys]}\n"
     "  --quiet           no progress line (it is shown only on a terminal anyway)\n"
     "\nProblem kinds: corrupt_chunk, orphan_key, temp_file, pending_copy, bad_metadata,\n"
     "peer_incompatible.\n"
     "\nExamples:\n"
     "  zarrc verify data/temp\n"
     "  zarrc verify -r data --repair --yes\n"},
    {"du", cmd_du, "zarrc du NODE [-r] [--json]",
     "Show the bytes stored by NODE and everything below it (metadata and chunks). With -r,\n"
     "one line per node (its own keys) and the total.",
     "Options:\n"
     "  -r, --recursive   one line per node below NODE, then the total\n"
     "  --json            print {\"node\", \"bytes\"} (with -r also \"nodes\": [{\"path\",\n"
     "                    \"node_type\", \"bytes\"}]), exact byte counts\n"
     "\nExamples:\n"
     "  zarrc du data\n"
     "  zarrc du -r data --json\n"},
    {"help", cmd_help, "zarrc help [VERB]", "Show help for zarrc or one of its verbs.", ""},
};

static const verb *find_verb(const char *name)
{
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(verbs[i].name, name))
            return &verbs[i];
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
    static const char *const brief[][2] = {
        {"create", "create an array or a group"},
        {"info", "show the metadata and storage statistics of an array or group"},
        {"get", "read array data as JSON or raw bytes"},
        {"put", "write array data from JSON or raw bytes"},
        {"append", "append a block along an axis"},
        {"resize", "change an array's shape"},
        {"ls", "list the children of a group"},
        {"rm", "delete an array or group"},
        {"cp", "copy an array or hierarchy (convert, recompress, rechunk)"},
        {"tree", "show the hierarchy below a group"},
        {"refs", "list and resolve links and references (hdmf-zarr / NWB)"},
        {"hierarchy", "create a whole hierarchy from a JSON spec"},
        {"consolidate", "write or check consolidated metadata"},
        {"attrs", "print, replace or merge-update attributes"},
        {"view", "virtual arrays: concatenate, stack, create from a spec, show"},
        {"verify", "check every chunk and file of a node; repair leftovers"},
        {"du", "bytes stored per node and in total"},
        {"help", "show help for a verb"},
    };
    for (size_t i = 0; i < sizeof brief / sizeof brief[0]; i++)
        fprintf(out, "  %-12s %s\n", brief[i][0], brief[i][1]);
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

static int cmd_help(const verb *v, int argc, char **argv)
{
    if (argc > 2)
        return usage_error(v, "too many arguments");
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        print_main_help(stdout);
        return CLI_EXIT_OK;
    }
    const verb *w = find_verb(argv[1]);
    if (!w)
        return usage_error(v, "unknown verb '%s'", argv[1]);
    print_verb_help(w, stdout);
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("zarrc: missing VERB\nusage: zarrc VERB [OPTIONS] NODE\n\nVerbs:\n", stderr);
        for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
            fprintf(stderr, "  %s\n", verbs[i].usage);
        fputs("\nTry 'zarrc --help' or 'zarrc help VERB' for more information.\n", stderr);
        return CLI_EXIT_USAGE;
    }
    const char *a = argv[1];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
        if (argc > 2)
            return usage_error(NULL, "%s takes no operands (got '%s'; try 'zarrc help %s')", a, argv[2], argv[2]);
        print_main_help(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
        if (argc > 2)
            return usage_error(NULL, "%s takes no operands (got '%s')", a, argv[2]);
        printf("zarrc %s (libzarrc %s)\n", ZARRC_VERSION_STRING, zarrc_version());
        return CLI_EXIT_OK;
    }
    const verb *v = find_verb(a);
    if (!v) {
        if (a[0] == '-')
            return usage_error(NULL, "unknown option '%s'", a);
        return usage_error(NULL, "unknown verb '%s'", a);
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
