/*
 * cli_hierarchy.c — hierarchy verbs of the zarrc tool: tree, hierarchy create, consolidate
 * and attrs. Uses only the public API (zarrc.h).
 *
 * NODE arguments name the node itself (the store is opened there). Verbs that change metadata
 * also look at the parent directories of a filesystem NODE that are groups of the same
 * hierarchy, so that consolidated metadata above NODE is reported stale (or updated).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_common.h"
#include "cli_verbs.h"
#include "cli_hierarchy.h"

/* ------------------------------------------------------------------------------------------ */
/* Help texts                                                                                  */
/* ------------------------------------------------------------------------------------------ */

const char cli_tree_usage[] = "zarrc tree NODE [--depth N] [--json] [--no-consolidated]";
const char cli_tree_summary[] =
    "Show the hierarchy below the group at NODE: groups, and arrays with shape and data type.\n"
    "Consolidated metadata is used when the group has it (no further reads).";
const char cli_tree_help[] =
    "Options:\n"
    "  --depth N           show N levels below NODE (default: all; 0 = NODE only)\n"
    "  --json              print nested JSON: {name, node_type, zarr_format, shape, data_type,\n"
    "                      children}\n"
    "  --no-consolidated   ignore consolidated metadata and list the store\n"
    "\nExamples:\n"
    "  zarrc tree data.zarr\n"
    "  zarrc tree data.zarr --depth 1 --json\n";

const char cli_hierarchy_usage[] =
    "zarrc hierarchy create ROOT SPEC.json [--overwrite [--force]] [--format 2|3]\n"
    "                       [--update-consolidated] [--json] [--quiet]";
const char cli_hierarchy_summary[] =
    "Create a whole hierarchy in one call from SPEC.json, a JSON object mapping relative paths\n"
    "to metadata documents ({\"\": root, \"a/b\": ..., ...}); SPEC.json may be '-' (stdin).";
const char cli_hierarchy_help[] =
    "A metadata document is a v3 zarr.json document, or a v2 .zarray/.zgroup document with an\n"
    "optional \"attributes\" member (what goes into .zattrs). Groups implied by the paths are\n"
    "created; existing groups there are kept. Everything is validated before anything is\n"
    "written; a listed node that exists and differs is refused (nothing is written) unless\n"
    "--overwrite is given.\n"
    "\nOptions:\n"
    "  --overwrite             replace listed nodes that exist (arrays lose their chunks);\n"
    "                          files below a replaced node that belong to no node refuse it\n"
    "  --force                 with --overwrite: delete such files too\n"
    "  --format 2|3            require this format (default: as the documents say)\n"
    "  --update-consolidated   update consolidated metadata of enclosing groups (default:\n"
    "                          warn that it is stale)\n"
    "  --json                  print the report as JSON\n"
    "  --quiet                 no progress line (it is shown only on a terminal anyway)\n"
    "\nExample:\n"
    "  echo '{\"\": {\"zarr_format\": 2}, \"g/x\": {\"zarr_format\": 2, \"shape\": [4],\n"
    "        \"chunks\": [2], \"dtype\": \"<i4\", \"compressor\": null, \"fill_value\": 0,\n"
    "        \"filters\": null, \"order\": \"C\"}}' | zarrc hierarchy create out.zarr -\n";

const char cli_consolidate_usage[] = "zarrc consolidate NODE [--check] [--json] [--quiet]";
const char cli_consolidate_summary[] =
    "Write consolidated metadata for the group at NODE (v2 .zmetadata, v3 inline\n"
    "consolidated_metadata in zarr.json), as zarr-python writes it.";
const char cli_consolidate_help[] =
    "Options:\n"
    "  --check   write nothing; report where the consolidated copy differs from the stored\n"
    "            documents (exit 1 if it is stale or missing)\n"
    "  --json    machine-readable output\n"
    "  --quiet   no progress line (it is shown only on a terminal anyway)\n"
    "\nExamples:\n"
    "  zarrc consolidate data.zarr\n"
    "  zarrc consolidate --check data.zarr\n";

const char cli_attrs_usage[] =
    "zarrc attrs NODE [--set JSON | --merge JSON] [--update-consolidated]";
const char cli_attrs_summary[] =
    "Print the attributes of the node at NODE, or replace (--set) or merge-update (--merge)\n"
    "them first.";
const char cli_attrs_help[] =
    "Options:\n"
    "  --set JSON              replace the attributes by this JSON object\n"
    "  --merge JSON            set these members, keep the others\n"
    "  --update-consolidated   update consolidated metadata that includes the node (default:\n"
    "                          warn that it is stale)\n"
    "\nExamples:\n"
    "  zarrc attrs data.zarr/temp\n"
    "  zarrc attrs data.zarr/temp --merge '{\"units\": \"K\"}'\n";

/* ------------------------------------------------------------------------------------------ */
/* Arguments                                                                                   */
/* ------------------------------------------------------------------------------------------ */

typedef cli_opt hopt;

static int usage(const char *verb, const char *use, const char *fmt, ...) CLI_PRINTF(3, 4);

static int usage(const char *verb, const char *use, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "zarrc: %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: %s\nTry 'zarrc help %s' for more information.\n", use, verb);
    return CLI_EXIT_USAGE;
}

#define HELP_SHOWN (-1)

/* Options anywhere, `npos` positional arguments (cli_parse_args). Returns 0, CLI_EXIT_USAGE
 * (message printed) or HELP_SHOWN (help printed). */
static int parse(int argc, char **argv, const hopt *opts, const char **pos, int npos,
                 const char *use, const char *summary, const char *help)
{
    char err[512];
    int rc = cli_parse_args(argc, argv, opts, pos, npos, npos == 1 ? "NODE" : "ROOT and SPEC", err, sizeof err);
    if (rc == CLI_ARGS_HELP) {
        printf("usage: %s\n\n%s\n\n%s", use, summary, help);
        return HELP_SHOWN;
    }
    return rc ? usage(argv[0], use, "%s", err) : 0;
}

static const char *json_text(json_object *o, int pretty)
{
    return json_object_to_json_string_ext(
        o, (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN) |
               JSON_C_TO_STRING_NOSLASHESCAPE);
}

static json_object *dims_json(const int64_t *v, int n)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < n; i++)
        json_object_array_add(a, json_object_new_int64(v[i]));
    return a;
}

static int read_all(char **out, const char *file)
{
    FILE *f = strcmp(file, "-") ? fopen(file, "rb") : stdin;
    if (!f)
        return cli_fail("cannot open '%s': %s", file, strerror(errno));
    size_t n = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            break;
        if (n + 1 >= cap) {
            char *b = realloc(buf, cap *= 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    int err = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf)
        return cli_fail("out of memory reading '%s'", file);
    if (err) {
        free(buf);
        return cli_fail("cannot read '%s'", file);
    }
    buf[n] = 0;
    *out = buf;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* tree                                                                                        */
/* ------------------------------------------------------------------------------------------ */

typedef struct child {
    char *name;
    zarrc_node_kind kind;
    int format, ndim;
    int64_t *shape;
    char *dtype;
    int is_view;
} child;

typedef struct child_list {
    child *v;
    size_t n, cap;
} child_list;

static int add_child(void *ctx, const zarrc_child_info *c)
{
    child_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        child *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return ZARRC_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    child *d = &l->v[l->n];
    memset(d, 0, sizeof *d);
    d->name = strdup(c->name);
    d->kind = c->kind;
    d->is_view = c->is_view;
    d->format = c->format;
    d->ndim = c->ndim;
    d->dtype = strdup(c->dtype ? c->dtype : "");
    d->shape = malloc((size_t)(c->ndim ? c->ndim : 1) * sizeof *d->shape);
    if (!d->name || !d->dtype || !d->shape) {
        free(d->name);
        free(d->dtype);
        free(d->shape);
        return ZARRC_ENOMEM;
    }
    for (int i = 0; i < c->ndim; i++)
        d->shape[i] = c->shape[i];
    l->n++;
    return 0;
}

static void free_children(child_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].dtype);
        free(l->v[i].shape);
    }
    free(l->v);
}

typedef struct tree_ctx {
    int max_depth; /* -1 = all */
    int as_json;
    char *prefix;       /* the drawing in front of this level's lines (grows with the depth) */
    size_t plen, pcap;
    const char *node;
} tree_ctx;

/* Append one level's drawing to the prefix. Returns 0 or CLI_EXIT_FAIL. */
static int tree_push(tree_ctx *t, const char *s)
{
    size_t n = strlen(s);
    if (t->plen + n >= t->pcap) {
        size_t cap = (t->plen + n) * 2 + 64;
        char *p = realloc(t->prefix, cap);
        if (!p)
            return cli_fail("out of memory");
        t->prefix = p;
        t->pcap = cap;
    }
    memcpy(t->prefix + t->plen, s, n);
    t->plen += n;
    return 0;
}

static void print_array_line(const child *c)
{
    printf("%s  %s  shape=[", c->name, c->is_view ? "view" : "array");
    for (int d = 0; d < c->ndim; d++)
        printf("%s%lld", d ? "," : "", (long long)c->shape[d]);
    printf("] dtype=%s\n", c->dtype);
}

/* A failure of the library, naming the CLI option when the library's message points at
 * bypassing consolidated metadata. */
static int tree_fail(int rc, const char *what, const char *name)
{
    if (!strstr(zarrc_error_last(), "without consolidated metadata"))
        return cli_fail_lib(rc, "%s '%s'", what, name);
    return cli_fail("%s '%s': %s; --no-consolidated does that", what, name, zarrc_error_last());
}

/* Print (or build into `into`, a JSON list) the children of `g`, recursively. */
static int tree_level(tree_ctx *t, zarrc_group *g, int depth, json_object *into)
{
    if (t->max_depth >= 0 && depth >= t->max_depth)
        return 0;
    child_list l = {0};
    int rc = zarrc_group_children(g, add_child, &l);
    if (rc) {
        free_children(&l);
        return tree_fail(rc, "listing", t->node);
    }
    size_t plen = t->plen;
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        const child *c = &l.v[i];
        int last = i + 1 == l.n;
        json_object *o = NULL;
        if (t->as_json) {
            o = json_object_new_object();
            json_object_object_add(o, "name", json_object_new_string(c->name));
            json_object_object_add(o, "node_type", json_object_new_string(
                                                       c->kind == ZARRC_NODE_ARRAY ? (c->is_view ? "view" : "array")
                                                                                   : "group"));
            json_object_object_add(o, "zarr_format", json_object_new_int(c->format));
            if (c->kind == ZARRC_NODE_ARRAY) {
                json_object_object_add(o, "shape", dims_json(c->shape, c->ndim));
                json_object_object_add(o, "data_type", json_object_new_string(c->dtype));
            }
            json_object_array_add(into, o);
        } else {
            printf("%.*s%s", (int)t->plen, t->prefix ? t->prefix : "", last ? "└── " : "├── ");
            if (c->kind == ZARRC_NODE_ARRAY)
                print_array_line(c);
            else
                printf("%s  group\n", c->name);
        }
        if (c->kind != ZARRC_NODE_GROUP)
            continue;
        zarrc_group *sub = NULL;
        int lrc = zarrc_group_open_group(&sub, g, c->name);
        if (lrc) {
            rc = tree_fail(lrc, "opening group", c->name);
            break;
        }
        json_object *kids = NULL;
        if (o && (t->max_depth < 0 || depth + 1 < t->max_depth)) {
            kids = json_object_new_array();
            json_object_object_add(o, "children", kids);
        }
        rc = t->as_json ? 0 : tree_push(t, last ? "    " : "│   ");
        if (rc == 0)
            rc = tree_level(t, sub, depth + 1, kids);
        t->plen = plen;
        zarrc_group_free(sub);
    }
    free_children(&l);
    return rc;
}

int cli_cmd_tree(int argc, char **argv)
{
    const char *node, *depth_s = NULL;
    int as_json = 0, no_cons = 0;
    hopt opts[] = {{"--depth", &depth_s, NULL}, {"--json", NULL, &as_json},
                   {"--no-consolidated", NULL, &no_cons}, {NULL, NULL, NULL}};
    int rc = parse(argc, argv, opts, &node, 1, cli_tree_usage, cli_tree_summary, cli_tree_help);
    if (rc)
        return rc == HELP_SHOWN ? CLI_EXIT_OK : rc;
    tree_ctx t;
    memset(&t, 0, sizeof t);
    t.max_depth = -1;
    t.as_json = as_json;
    t.node = node;
    if (depth_s) {
        char *end;
        errno = 0;
        long d = strtol(depth_s, &end, 10);
        if (errno || *end || end == depth_s || d < 0 || d > INT_MAX)
            return usage(argv[0], cli_tree_usage, "--depth must be a non-negative integer (got '%s')",
                         depth_s);
        t.max_depth = (int)d;
    }
    zarrc_store *st = NULL;
    zarrc_node_kind kind;
    int format;
    if ((rc = zarrc_store_open(&st, node, ZARRC_STORE_READONLY)))
        return cli_fail_lib(rc, "opening '%s'", node);
    rc = zarrc_node_probe(&kind, &format, st, "");
    if (rc) {
        zarrc_store_free(st);
        if (rc == ZARRC_ENOTFOUND)
            return cli_fail("'%s' is not a Zarr node (no zarr.json, .zarray or .zgroup there)", node);
        return cli_fail_lib(rc, "reading '%s'", node);
    }
    if (kind == ZARRC_NODE_ARRAY) { /* a tree of one */
        zarrc_array *a = NULL;
        if ((rc = zarrc_array_open(&a, st, ""))) {
            zarrc_store_free(st);
            return cli_fail_lib(rc, "opening array '%s'", node);
        }
        child c = {(char *)node, kind, format, zarrc_array_ndim(a), (int64_t *)zarrc_array_shape(a),
                   (char *)zarrc_array_dtype(a)->name, zarrc_array_is_view(a)};
        if (as_json) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "name", json_object_new_string(""));
            json_object_object_add(o, "node_type", json_object_new_string("array"));
            json_object_object_add(o, "zarr_format", json_object_new_int(format));
            json_object_object_add(o, "shape", dims_json(c.shape, c.ndim));
            json_object_object_add(o, "data_type", json_object_new_string(c.dtype));
            printf("%s\n", json_text(o, 1));
            json_object_put(o);
        } else
            print_array_line(&c);
        zarrc_array_free(a);
        zarrc_store_free(st);
        return CLI_EXIT_OK;
    }
    zarrc_group *g = NULL;
    rc = zarrc_group_open(&g, st, "", no_cons ? ZARRC_OPEN_NO_CONSOLIDATED : 0);
    zarrc_store_free(st);
    if (rc)
        return tree_fail(rc, "opening group", node);
    json_object *top = NULL, *kids = NULL;
    if (as_json) {
        top = json_object_new_object();
        json_object_object_add(top, "name", json_object_new_string(""));
        json_object_object_add(top, "node_type", json_object_new_string("group"));
        json_object_object_add(top, "zarr_format", json_object_new_int(format));
        json_object_object_add(top, "consolidated", json_object_new_boolean(zarrc_group_is_consolidated(g)));
        if (t.max_depth != 0) {
            kids = json_object_new_array();
            json_object_object_add(top, "children", kids);
        }
    } else
        printf("%s  group (v%d%s)\n", node, format, zarrc_group_is_consolidated(g) ? ", consolidated" : "");
    rc = tree_level(&t, g, 0, kids);
    free(t.prefix);
    if (rc == 0 && as_json)
        printf("%s\n", json_text(top, 1));
    json_object_put(top);
    zarrc_group_free(g);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* hierarchy create                                                                            */
/* ------------------------------------------------------------------------------------------ */

static const char *state_name(zarrc_hnode_state s)
{
    switch (s) {
    case ZARRC_HNODE_WRITTEN: return "written";
    case ZARRC_HNODE_EXISTING: return "existing";
    case ZARRC_HNODE_FAILED: return "failed";
    default: return "not written";
    }
}

/* The format the spec's documents declare (first document with a zarr_format), or 0. */
static int spec_format(const char *text)
{
    json_object *spec = NULL;
    char err[64];
    cli_json_parse(&spec, text, err, sizeof err); /* as deep as the library reads */
    int f = 0;
    if (json_object_is_type(spec, json_type_object)) {
        json_object_object_foreach(spec, k, v) {
            (void)k;
            json_object *zf;
            if (json_object_object_get_ex(v, "zarr_format", &zf) && json_object_is_type(zf, json_type_int)) {
                f = json_object_get_int(zf);
                break;
            }
        }
    }
    json_object_put(spec);
    return f == 2 || f == 3 ? f : 0;
}

static void print_report(const zarrc_hierarchy_report *r, int as_json, int rc)
{
    if (as_json) {
        json_object *o = json_object_new_object(), *nodes = json_object_new_array();
        json_object_object_add(o, "ok", json_object_new_boolean(rc == 0));
        json_object_object_add(o, "written", json_object_new_int64((int64_t)r->written));
        for (size_t i = 0; i < r->count; i++) {
            const zarrc_hnode *n = &r->nodes[i];
            if (!n->relpath) /* ancestors of ROOT are outside NODE */
                continue;
            json_object *e = json_object_new_object();
            json_object_object_add(e, "path", json_object_new_string(n->relpath));
            json_object_object_add(e, "node_type", json_object_new_string(
                                                       n->kind == ZARRC_NODE_ARRAY ? "array" : "group"));
            json_object_object_add(e, "zarr_format", json_object_new_int(n->format));
            json_object_object_add(e, "implied", json_object_new_boolean(n->implied));
            json_object_object_add(e, "replaced", json_object_new_boolean(n->replaced));
            json_object_object_add(e, "state", json_object_new_string(state_name(n->state)));
            if (n->status)
                json_object_object_add(e, "error", json_object_new_string(zarrc_strerror(n->status)));
            json_object_array_add(nodes, e);
        }
        json_object_object_add(o, "nodes", nodes);
        json_object *stale = json_object_new_array();
        for (size_t i = 0; i < r->stale.count; i++)
            json_object_array_add(stale, json_object_new_string(r->stale.paths[i]));
        json_object_object_add(o, "stale_consolidated", stale);
        printf("%s\n", json_text(o, 1));
        json_object_put(o);
        return;
    }
    size_t existing = 0, implied = 0;
    for (size_t i = 0; i < r->count; i++) {
        existing += r->nodes[i].state == ZARRC_HNODE_EXISTING && r->nodes[i].relpath;
        implied += r->nodes[i].implied && r->nodes[i].state == ZARRC_HNODE_WRITTEN;
    }
    if (rc == 0) {
        printf("%zu nodes written (%zu implied groups), %zu existing nodes kept\n", r->written, implied,
               existing);
        return;
    }
    if (r->written == 0)
        return;
    fprintf(stderr, "zarrc: %zu nodes were written before the failure:\n", r->written);
    for (size_t i = 0; i < r->count; i++)
        if (r->nodes[i].state == ZARRC_HNODE_WRITTEN)
            fprintf(stderr, "  %s\n", r->nodes[i].relpath ? (*r->nodes[i].relpath ? r->nodes[i].relpath : ".")
                                                          : r->nodes[i].path);
}

/* Progress of a batch on a terminal: nodes done (called one node at a time). */
typedef struct hier_progress {
    cli_progress p;
    uint64_t done;
} hier_progress;

static int on_hnode(void *ctx, const zarrc_hnode *node)
{
    hier_progress *hp = ctx;
    (void)node;
    cli_progress_update(&hp->p, ++hp->done, 0);
    return 0;
}

/* Consolidation's progress: nodes found after each level of the hierarchy. */
static int on_level(void *ctx, uint64_t done, uint64_t total)
{
    hier_progress *hp = ctx;
    (void)total;
    cli_progress_update(&hp->p, done, 0);
    return 0;
}

int cli_cmd_hierarchy(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: %s\n\n%s\n\n%s", cli_hierarchy_usage, cli_hierarchy_summary, cli_hierarchy_help);
        return CLI_EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "create"))
        return usage(argv[0], cli_hierarchy_usage, argc < 2 ? "missing sub-command (create)"
                                                            : "unknown sub-command '%s'", argv[1]);
    const char *pos[2], *format_s = NULL;
    int overwrite = 0, update = 0, as_json = 0, force = 0, quiet = 0;
    hopt opts[] = {{"--overwrite", NULL, &overwrite}, {"--force", NULL, &force}, {"--format", &format_s, NULL},
                   {"--update-consolidated", NULL, &update}, {"--json", NULL, &as_json},
                   {"--quiet", NULL, &quiet}, {NULL, NULL, NULL}};
    argv[1] = argv[0]; /* "hierarchy create ..." parses like a verb with two arguments */
    int rc = parse(argc - 1, argv + 1, opts, pos, 2, cli_hierarchy_usage, cli_hierarchy_summary,
                   cli_hierarchy_help);
    if (rc)
        return rc == HELP_SHOWN ? CLI_EXIT_OK : rc;
    zarrc_hierarchy_options o = ZARRC_HIERARCHY_OPTIONS_INIT;
    if (format_s) {
        if (strcmp(format_s, "2") && strcmp(format_s, "3"))
            return usage(argv[0], cli_hierarchy_usage, "--format must be 2 or 3 (got '%s')", format_s);
        o.format = atoi(format_s);
    }
    if (force && !overwrite)
        return usage(argv[0], cli_hierarchy_usage, "--force needs --overwrite");
    o.flags = (overwrite ? ZARRC_OVERWRITE : 0) | (force ? ZARRC_FORCE : 0) | (update ? ZARRC_UPDATE_CONSOLIDATED : 0);
    char *spec = NULL;
    if (read_all(&spec, pos[1]))
        return CLI_EXIT_FAIL;
    char *loc = NULL, *rel = NULL;
    if (cli_enclosing(&loc, &rel, pos[0], o.format ? o.format : spec_format(spec))) {
        free(spec);
        return cli_fail("out of memory");
    }
    /* Directories the store opening creates are removed again if nothing gets written. */
    char *made = NULL; /* the directory to remove; made_len: its topmost new ancestor */
    size_t made_len = 0;
    const char *fs = cli_node_fs_path(loc);
    struct stat sb;
    if (fs && stat(fs, &sb) != 0 && (made = strdup(fs))) {
        made_len = strlen(made);
        for (;;) { /* climb while the parent does not exist either */
            char *slash = made_len ? memrchr(made, '/', made_len) : NULL;
            if (!slash || slash == made)
                break;
            char save = *slash;
            *slash = 0;
            int missing = stat(made, &sb) != 0;
            *slash = save;
            if (!missing)
                break;
            made_len = (size_t)(slash - made);
        }
    }
    zarrc_store *st = NULL;
    rc = zarrc_store_open(&st, loc, ZARRC_STORE_CREATE);
    if (rc) {
        rc = cli_fail_lib(rc, "opening '%s'", loc);
    } else {
        zarrc_hierarchy_report *r = NULL;
        hier_progress hp = {{0}, 0};
        cli_progress_start(&hp.p, "hierarchy create", "nodes", 0, quiet || as_json);
        if (hp.p.enabled) {
            o.on_node = on_hnode;
            o.ctx = &hp;
        }
        int hrc = zarrc_hierarchy_create(&r, st, rel, spec, &o);
        cli_progress_end(&hp.p);
        if (hrc) {
            rc = cli_fail_lib(hrc, "hierarchy create '%s'", pos[0]);
            if (r)
                print_report(r, as_json, hrc);
            if (made && (!r || r->written == 0)) /* empty directories only: rmdir refuses others */
                for (char *slash; rmdir(made) == 0 && strlen(made) > made_len &&
                                  (slash = strrchr(made, '/')) && slash != made;)
                    *slash = 0;
        } else {
            print_report(r, as_json, 0);
            cli_warn_stale(loc, &r->stale, 1);
        }
        zarrc_hierarchy_report_free(r);
        zarrc_store_free(st);
    }
    free(made);
    free(loc);
    free(rel);
    free(spec);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* consolidate                                                                                 */
/* ------------------------------------------------------------------------------------------ */

typedef struct diff_out {
    int as_json;
    json_object *list;
} diff_out;

static int on_diff(void *ctx, const char *rel, zarrc_consolidated_diff kind, const char *what)
{
    diff_out *d = ctx;
    static const char *const kinds[] = {"", "missing", "extra", "different"};
    if (d->as_json) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "path", json_object_new_string(rel));
        json_object_object_add(e, "kind", json_object_new_string(kinds[kind]));
        json_object_object_add(e, "what", json_object_new_string(what));
        json_object_array_add(d->list, e);
    } else
        printf("stale: %s: %s\n", *rel ? rel : ".", what);
    return 0;
}

int cli_cmd_consolidate(int argc, char **argv)
{
    const char *node;
    int check = 0, as_json = 0;
    int quiet = 0;
    hopt opts[] = {{"--check", NULL, &check}, {"--json", NULL, &as_json}, {"--quiet", NULL, &quiet},
                   {NULL, NULL, NULL}};
    int rc = parse(argc, argv, opts, &node, 1, cli_consolidate_usage, cli_consolidate_summary,
                   cli_consolidate_help);
    if (rc)
        return rc == HELP_SHOWN ? CLI_EXIT_OK : rc;
    zarrc_store *st = NULL;
    if ((rc = zarrc_store_open(&st, node, check ? ZARRC_STORE_READONLY : 0)))
        return cli_fail_lib(rc, "opening '%s'", node);
    zarrc_node_kind kind;
    int format = 0;
    rc = zarrc_node_probe(&kind, &format, st, "");
    if (rc == ZARRC_ENOTFOUND)
        rc = cli_fail("'%s' is not a Zarr node (no zarr.json, .zarray or .zgroup there)", node);
    else if (rc)
        rc = cli_fail_lib(rc, "reading '%s'", node);
    else if (kind != ZARRC_NODE_GROUP)
        rc = cli_fail("'%s' is an array, not a group", node);
    if (rc) {
        zarrc_store_free(st);
        return rc;
    }
    if (check) {
        diff_out d = {as_json, as_json ? json_object_new_array() : NULL};
        size_t n = 0;
        int crc = zarrc_consolidated_check(st, "", on_diff, &d, &n);
        if (crc == ZARRC_ENOTFOUND)
            rc = cli_fail("'%s' has no consolidated metadata", node);
        else if (crc)
            rc = cli_fail_lib(crc, "checking '%s'", node);
        else {
            if (as_json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "up_to_date", json_object_new_boolean(n == 0));
                json_object_object_add(o, "differences", json_object_get(d.list));
                printf("%s\n", json_text(o, 1));
                json_object_put(o);
            } else if (n == 0)
                printf("%s: consolidated metadata is up to date\n", node);
            if (n)
                rc = cli_fail("the consolidated metadata of '%s' is stale (%zu difference%s; run "
                              "'zarrc consolidate %s')", node, n, n == 1 ? "" : "s", node);
        }
        json_object_put(d.list);
    } else {
        size_t n = 0;
        hier_progress hp = {{0}, 0};
        cli_progress_start(&hp.p, "consolidate", "nodes", 0, quiet || as_json);
        int crc = zarrc_consolidate_progress(st, "", &n, hp.p.enabled ? on_level : NULL, &hp);
        cli_progress_end(&hp.p);
        if (crc)
            rc = cli_fail_lib(crc, "consolidating '%s'", node);
        else if (as_json) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "nodes", json_object_new_int64((int64_t)n));
            json_object_object_add(o, "key", json_object_new_string(format == 2 ? ".zmetadata" : "zarr.json"));
            printf("%s\n", json_text(o, 1));
            json_object_put(o);
        } else
            printf("%s: consolidated the metadata of %zu node%s into %s\n", node, n, n == 1 ? "" : "s",
                   format == 2 ? ".zmetadata" : "zarr.json");
    }
    zarrc_store_free(st);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* attrs                                                                                       */
/* ------------------------------------------------------------------------------------------ */

int cli_cmd_attrs(int argc, char **argv)
{
    const char *node, *set = NULL, *merge = NULL;
    int update = 0;
    hopt opts[] = {{"--set", &set, NULL}, {"--merge", &merge, NULL},
                   {"--update-consolidated", NULL, &update}, {NULL, NULL, NULL}};
    int rc = parse(argc, argv, opts, &node, 1, cli_attrs_usage, cli_attrs_summary, cli_attrs_help);
    if (rc)
        return rc == HELP_SHOWN ? CLI_EXIT_OK : rc;
    if (set && merge)
        return usage(argv[0], cli_attrs_usage, "give --set or --merge, not both");
    if (update && !set && !merge)
        return usage(argv[0], cli_attrs_usage, "--update-consolidated needs --set or --merge");
    const char *given = set ? set : merge;
    char err[256];
    json_object *parsed = NULL;
    if (given && (cli_json_parse(&parsed, given, err, sizeof err) ||
                  !json_object_is_type(parsed, json_type_object))) {
        json_object_put(parsed);
        return usage(argv[0], cli_attrs_usage, "%s must be a JSON object%s%s", set ? "--set" : "--merge",
                     parsed ? "" : ": ", parsed ? "" : err);
    }
    json_object_put(parsed);
    char *loc = NULL, *rel = NULL;
    if (given) {
        zarrc_store *probe = NULL;
        zarrc_node_kind kind;
        int format = 0;
        if (zarrc_store_open(&probe, node, ZARRC_STORE_READONLY) == ZARRC_OK &&
            zarrc_node_probe(&kind, &format, probe, "") != ZARRC_OK)
            format = 0;
        zarrc_store_free(probe);
        if (cli_enclosing(&loc, &rel, node, format))
            return cli_fail("out of memory");
    } else if (!(loc = strdup(node)) || !(rel = strdup(""))) {
        free(loc);
        return cli_fail("out of memory");
    }
    zarrc_store *st = NULL;
    if ((rc = zarrc_store_open(&st, loc, given ? 0 : ZARRC_STORE_READONLY))) {
        rc = cli_fail_lib(rc, "opening '%s'", loc);
        goto done;
    }
    if (given) {
        zarrc_stale_list stale = {0};
        unsigned flags = (merge ? ZARRC_ATTRS_MERGE : 0) | (update ? ZARRC_UPDATE_CONSOLIDATED : 0);
        int arc = zarrc_node_set_attributes(st, rel, given, flags, &stale);
        if (arc) {
            rc = cli_fail_lib(arc, "setting the attributes of '%s'", node);
            goto done;
        }
        cli_warn_stale(loc, &stale, 1);
        zarrc_stale_list_clear(&stale);
    }
    char *json = NULL;
    int arc = zarrc_node_attributes(&json, st, rel);
    if (arc) {
        rc = arc == ZARRC_ENOTFOUND ? cli_fail("'%s' is not a Zarr node (no zarr.json, .zarray or .zgroup "
                                               "there)", node)
                                    : cli_fail_lib(arc, "reading the attributes of '%s'", node);
        goto done;
    }
    json_object *o = NULL;
    char perr[64];
    cli_json_parse(&o, json, perr, sizeof perr);
    printf("%s\n", o ? json_text(o, 1) : json);
    json_object_put(o);
    zarrc_free(json);
done:
    zarrc_store_free(st);
    free(loc);
    free(rel);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* The verb table entries (cli_verbs.h)                                                       */
/* ------------------------------------------------------------------------------------------ */

static int cmd_tree(const cli_verb *v, int argc, char **argv)
{
    (void)v;
    return cli_cmd_tree(argc, argv);
}

static int cmd_hierarchy(const cli_verb *v, int argc, char **argv)
{
    (void)v;
    return cli_cmd_hierarchy(argc, argv);
}

static int cmd_consolidate(const cli_verb *v, int argc, char **argv)
{
    (void)v;
    return cli_cmd_consolidate(argc, argv);
}

static int cmd_attrs(const cli_verb *v, int argc, char **argv)
{
    (void)v;
    return cli_cmd_attrs(argc, argv);
}

/* ------------------------------------------------------------------------------------------ */
/* The verbs (entries of the verb table in zarrc.c, cli_verbs.h)                              */
/* ------------------------------------------------------------------------------------------ */

const cli_verb cli_verb_tree = {"tree", cmd_tree, cli_tree_usage, cli_tree_summary, cli_tree_help,
     "show the hierarchy below a group"};

const cli_verb cli_verb_hierarchy = {"hierarchy", cmd_hierarchy, cli_hierarchy_usage, cli_hierarchy_summary, cli_hierarchy_help,
     "create a whole hierarchy from a JSON spec"};

const cli_verb cli_verb_consolidate = {"consolidate", cmd_consolidate, cli_consolidate_usage, cli_consolidate_summary,
     cli_consolidate_help,
     "write or check consolidated metadata"};

const cli_verb cli_verb_attrs = {"attrs", cmd_attrs, cli_attrs_usage, cli_attrs_summary, cli_attrs_help,
     "print, replace or merge-update attributes"};
