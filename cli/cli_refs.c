/*
 * cli_refs.c — links and references (hdmf-zarr / NWB convention) in the zarrc tool: the
 * `refs` verb, the annotations `tree` and `info` print, and `tree --spec` (pydantic-zarr
 * GroupSpec JSON). Uses only the public API (zarrc.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_common.h"
#include "cli_refs.h"

const char cli_refs_usage[] = "zarrc refs NODE [-r] [--allow-external] [--json] [--max N]\n"
                              "       zarrc refs GROUP --link NAME=/TARGET";
const char cli_refs_summary[] =
    "List the links and references NODE declares, each resolved to its target: group links\n"
    "(_LINKS), references in attributes ({\"_REFERENCE\": ...}), the elements of reference\n"
    "datasets (_DTYPE \"object_reference\") and the reference fields of compound datasets\n"
    "(_REFERENCE_FIELDS), as hdmf-zarr (NWB) writes them; legacy v2 forms too. Exits 1 when\n"
    "a reference does not resolve.";
const char cli_refs_help[] =
    "Options:\n"
    "  -r, --recursive    also every node below NODE\n"
    "  --allow-external   resolve references into other stores (default: refused)\n"
    "  --json             one JSON list of {node, kind, name, index, field, target,\n"
    "                     target_type, error}\n"
    "  --max N            resolve at most N elements per reference dataset (default 100000)\n"
    "  --link NAME=/TARGET  add (or replace) the link NAME of the group GROUP, pointing at\n"
    "                     /TARGET of the same file (a _LINKS entry, as hdmf-zarr writes it)\n"
    "\nExamples:\n"
    "  zarrc refs file.nwb.zarr -r\n"
    "  zarrc refs file.nwb.zarr/acquisition/ts2 --json\n";

const char *cli_refs_kind_name(zarrc_node_kind k)
{
    return k == ZARRC_NODE_ARRAY ? "array" : k == ZARRC_NODE_GROUP ? "group" : "unresolved";
}

static const char *kind_word(zarrc_ref_kind k)
{
    switch (k) {
    case ZARRC_REF_LINK: return "link";
    case ZARRC_REF_ATTRIBUTE: return "attribute";
    case ZARRC_REF_ARRAY: return "element";
    case ZARRC_REF_FIELD: return "field";
    default: return "error";
    }
}

void cli_refs_free(cli_ref_list *l)
{
    for (size_t i = 0; l && i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].target);
        free(l->v[i].error);
    }
    if (l) {
        free(l->v);
        memset(l, 0, sizeof *l);
    }
}

static cli_ref *push(cli_ref_list *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        cli_ref *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    cli_ref *r = &l->v[l->n++];
    memset(r, 0, sizeof *r);
    return r;
}

/* "/path", or "SOURCE:/path" for another store. */
static char *target_text(const zarrc_node_ref *t)
{
    size_t n = strlen(t->path) + (t->external ? strlen(t->source) + 1 : 0) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s/%s", t->external ? t->source : "", t->external ? ":" : "", t->path);
    return s;
}

/* Fill r's target or error from a resolve result. Returns 0 or -1 (out of memory). */
static int record(cli_ref *r, int rc, zarrc_node_ref *t)
{
    if (rc == ZARRC_OK) {
        r->target = target_text(t);
        r->target_kind = t->kind;
        zarrc_node_ref_clear(t);
        return r->target ? 0 : -1;
    }
    r->error = strdup(zarrc_error_last()[0] ? zarrc_error_last() : zarrc_strerror(rc));
    return r->error ? 0 : -1;
}

typedef struct collect_ctx {
    cli_ref_list *l;
    zarrc_store *st;
    unsigned flags;
    int oom;
} collect_ctx;

static int collect_cb(void *ctx, const zarrc_ref_info *info)
{
    collect_ctx *c = ctx;
    cli_ref *r = push(c->l);
    if (!r || (info->name && !(r->name = strdup(info->name)))) {
        c->oom = 1;
        return 1;
    }
    r->kind = info->kind;
    if (info->json) {
        zarrc_node_ref t = {0};
        int rc = zarrc_node_resolve(&t, c->st, info->json, c->flags);
        if (record(r, rc, &t)) {
            c->oom = 1;
            return 1;
        }
    }
    return 0;
}

int cli_refs_collect(cli_ref_list *out, zarrc_store *st, const char *path, unsigned flags)
{
    memset(out, 0, sizeof *out);
    collect_ctx c = {out, st, flags, 0};
    int rc = zarrc_node_references(st, path, collect_cb, &c);
    if (c.oom)
        return cli_fail("out of memory");
    if (rc) {
        cli_ref *r = push(out);
        if (!r || !(r->error = strdup(zarrc_error_last())))
            return cli_fail("out of memory");
    }
    return 0;
}

void cli_refs_print_suffix(FILE *f, const cli_ref_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const cli_ref *r = &l->v[i];
        switch (r->kind) {
        case ZARRC_REF_LINK: break;
        case ZARRC_REF_ATTRIBUTE:
            if (r->target)
                fprintf(f, "  @%s -> %s", r->name, r->target);
            else
                fprintf(f, "  @%s -> (unresolved: %s)", r->name, r->error ? r->error : "?");
            break;
        case ZARRC_REF_ARRAY: fputs("  [object references]", f); break;
        case ZARRC_REF_FIELD: fprintf(f, "  [reference field %s]", r->name); break;
        default: fprintf(f, "  (references unreadable: %s)", r->error ? r->error : "?"); break;
        }
    }
}

void cli_refs_add_json(json_object *o, const cli_ref_list *l)
{
    json_object *a = NULL;
    for (size_t i = 0; i < l->n; i++) {
        const cli_ref *r = &l->v[i];
        if (r->kind == ZARRC_REF_LINK)
            continue;
        if (!a)
            a = json_object_new_array();
        json_object *e = json_object_new_object();
        json_object_object_add(e, "kind", json_object_new_string(kind_word(r->kind)));
        if (r->kind == ZARRC_REF_ARRAY)
            json_object_object_add(e, "kind", json_object_new_string("dataset"));
        if (r->name)
            json_object_object_add(e, "name", json_object_new_string(r->name));
        if (r->target) {
            json_object_object_add(e, "target", json_object_new_string(r->target));
            json_object_object_add(e, "target_type", json_object_new_string(cli_refs_kind_name(r->target_kind)));
        }
        if (r->error)
            json_object_object_add(e, "error", json_object_new_string(r->error));
        json_object_array_add(a, e);
    }
    if (a)
        json_object_object_add(o, "references", a);
}

json_object *cli_refs_link_json(const cli_ref *r)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "name", json_object_new_string(r->name ? r->name : ""));
    json_object_object_add(e, "node_type", json_object_new_string("link"));
    json_object_object_add(e, "target", r->target ? json_object_new_string(r->target) : NULL);
    json_object_object_add(e, "target_type", json_object_new_string(cli_refs_kind_name(r->target_kind)));
    if (r->error)
        json_object_object_add(e, "error", json_object_new_string(r->error));
    return e;
}

/* ---- the file's root ---- */

/* Whether the directory holds a group (v3 or v2), as the library parses its metadata. */
static int is_group_dir(const char *dir)
{
    zarrc_store *st = NULL;
    zarrc_node_kind kind = 0;
    int format = 0, group = zarrc_store_open(&st, dir, ZARRC_STORE_READONLY) == ZARRC_OK &&
                            zarrc_node_probe(&kind, &format, st, "") == ZARRC_OK && kind == ZARRC_NODE_GROUP;
    zarrc_store_free(st);
    return group;
}

int cli_refs_open_root(zarrc_store **st, char **path, const char *node, unsigned store_flags)
{
    *st = NULL;
    *path = NULL;
    char *real = strstr(node, "://") ? NULL : realpath(node, NULL);
    char *root = real ? strdup(real) : NULL;
    if (real && !root) {
        free(real);
        return cli_fail("out of memory");
    }
    /* Walk up while the parent directory is a group of the hierarchy. */
    while (root) {
        char *slash = strrchr(root, '/');
        if (!slash || slash == root)
            break;
        *slash = 0;
        if (!is_group_dir(root)) {
            *slash = '/';
            break;
        }
    }
    const char *rel = root ? real + strlen(root) : "";
    while (*rel == '/')
        rel++;
    int rc = zarrc_store_open(st, root ? root : node, store_flags);
    if (rc == ZARRC_OK && !(*path = strdup(rel))) {
        zarrc_store_free(*st);
        *st = NULL;
        rc = ZARRC_ENOMEM;
    }
    free(root);
    free(real);
    return rc ? cli_fail_lib(rc, "opening '%s'", node) : 0;
}

/* ---- refs ---- */

typedef struct refs_run {
    zarrc_store *st;
    unsigned flags;
    int as_json;
    int64_t max;
    json_object *out;
    size_t total, bad;
    int oom;
} refs_run;

static void emit(refs_run *w, const char *node, const char *kind, const char *name, int64_t index,
                 const char *field, const char *target, zarrc_node_kind tk, const char *error)
{
    w->total++;
    if (error)
        w->bad++;
    if (w->as_json) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "node", json_object_new_string(node));
        json_object_object_add(e, "kind", json_object_new_string(kind));
        json_object_object_add(e, "name", name ? json_object_new_string(name) : NULL);
        json_object_object_add(e, "index", index >= 0 ? json_object_new_int64(index) : NULL);
        json_object_object_add(e, "field", field ? json_object_new_string(field) : NULL);
        json_object_object_add(e, "target", target ? json_object_new_string(target) : NULL);
        json_object_object_add(e, "target_type", json_object_new_string(cli_refs_kind_name(tk)));
        if (error)
            json_object_object_add(e, "error", json_object_new_string(error));
        json_object_array_add(w->out, e);
        return;
    }
    printf("%s", node);
    if (index >= 0)
        printf("[%lld]", (long long)index);
    if (field)
        printf(".%s", field);
    if (name && !field)
        printf("  %s %s", kind, name);
    if (target)
        printf("  -> %s  (%s)\n", target, cli_refs_kind_name(tk));
    else
        printf("  -> unresolved: %s\n", error ? error : "?");
}

/* Each element of a reference dataset (field NULL) or reference field, until the end. */
static void refs_elements(refs_run *w, const char *path, const char *disp, const char *field)
{
    for (int64_t i = 0; i < w->max; i++) {
        zarrc_node_ref t = {0};
        int rc = zarrc_node_resolve_element(&t, w->st, path, i, field, w->flags);
        if (rc == ZARRC_EBOUNDS)
            return;
        if (rc) {
            emit(w, disp, field ? "field" : "element", NULL, i, field, NULL, 0, zarrc_error_last());
            if (rc != ZARRC_ENOTFOUND && rc != ZARRC_EAUTH && rc != ZARRC_EINVAL)
                return; /* the dataset itself is unreadable: one message is enough */
            continue;
        }
        char *tt = target_text(&t);
        emit(w, disp, field ? "field" : "element", NULL, i, field, tt, t.kind, tt ? NULL : "out of memory");
        free(tt);
        zarrc_node_ref_clear(&t);
    }
}

static int refs_node(refs_run *w, const char *path, int recursive);

/* A growable list of owned strings, filled from store listings. */
typedef struct name_list {
    char **v;
    size_t n, cap;
} name_list;

static int name_list_push(name_list *l, const char *name)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return ZARRC_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(name)))
        return ZARRC_ENOMEM;
    l->n++;
    return 0;
}

/* zarrc_list_cb: child prefixes only. */
static int add_name(void *ctx, const char *name, int is_prefix)
{
    return is_prefix ? name_list_push(ctx, name) : 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int refs_node(refs_run *w, const char *path, int recursive)
{
    size_t dl = strlen(path) + 2;
    char *disp = malloc(dl);
    if (!disp)
        return cli_fail("out of memory");
    snprintf(disp, dl, "/%s", path);
    cli_ref_list l;
    if (cli_refs_collect(&l, w->st, path, w->flags)) {
        free(disp);
        return CLI_EXIT_FAIL;
    }
    zarrc_node_kind kind = 0;
    int format;
    int prc = zarrc_node_probe(&kind, &format, w->st, path);
    for (size_t i = 0; i < l.n; i++) {
        const cli_ref *r = &l.v[i];
        if (r->kind == ZARRC_REF_ARRAY)
            refs_elements(w, path, disp, NULL);
        else if (r->kind == ZARRC_REF_FIELD)
            refs_elements(w, path, disp, r->name);
        else
            emit(w, disp, kind_word(r->kind), r->name, -1, NULL, r->target, r->target_kind, r->error);
    }
    cli_refs_free(&l);
    int rc = CLI_EXIT_OK;
    if (recursive && prc == ZARRC_OK && kind == ZARRC_NODE_GROUP) {
        /* Children found from the store's listing: any child directory that is a node. */
        name_list names = {0};
        size_t pl = strlen(path);
        char *prefix = malloc(pl + 2);
        int lrc = prefix ? ZARRC_OK : ZARRC_ENOMEM;
        if (prefix) {
            snprintf(prefix, pl + 2, "%s%s", path, pl ? "/" : "");
            lrc = zarrc_store_list_dir(w->st, prefix, add_name, &names);
        }
        if (lrc)
            rc = cli_fail_lib(lrc, "listing '%s'", disp);
        else if (names.n) /* qsort's base must not be NULL, even for no elements */
            qsort(names.v, names.n, sizeof *names.v, cmp_str);
        for (size_t i = 0; rc == CLI_EXIT_OK && i < names.n; i++) {
            size_t cl = pl + strlen(names.v[i]) + 2;
            char *cp = malloc(cl);
            if (!cp) {
                rc = cli_fail("out of memory");
                break;
            }
            snprintf(cp, cl, "%s%s%s", path, pl ? "/" : "", names.v[i]);
            zarrc_node_kind ck;
            int cf;
            if (zarrc_node_probe(&ck, &cf, w->st, cp) == ZARRC_OK)
                rc = refs_node(w, cp, 1);
            free(cp);
        }
        for (size_t i = 0; i < names.n; i++)
            free(names.v[i]);
        free(names.v);
        free(prefix);
    }
    free(disp);
    return rc;
}

int cli_cmd_refs(const cli_verb *v, int argc, char **argv)
{
    const char *node = NULL, *max_s = NULL, *link = NULL;
    int recursive = 0, allow = 0, as_json = 0;
    cli_opt opts[] = {{"-r", NULL, &recursive},     {"--recursive", NULL, &recursive},
                      {"--allow-external", NULL, &allow}, {"--json", NULL, &as_json},
                      {"--max", &max_s, NULL},      {"--link", &link, NULL},
                      {NULL, NULL, NULL}};
    int rc = cli_parse_node(v, argc, argv, opts, &node);
    if (rc)
        return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
    refs_run w;
    memset(&w, 0, sizeof w);
    w.max = 100000;
    if (max_s) {
        int64_t m;
        if (cli_parse_int64(max_s, max_s + strlen(max_s), &m) || m < 0)
            return cli_usage_error(v, "--max must be a non-negative integer (got '%s')", max_s);
        w.max = m;
    }
    w.flags = allow || cli_allow_external ? ZARRC_OPEN_ALLOW_EXTERNAL : 0;
    w.as_json = as_json;
    /* References are relative to the root of their file: the store is opened at the topmost
     * group enclosing NODE (its parent directories that are groups), NODE is a path in it. */
    char *start = NULL;
    if (cli_refs_open_root(&w.st, &start, node, link ? 0 : ZARRC_STORE_READONLY))
        return CLI_EXIT_FAIL;
    zarrc_node_kind kind;
    int format;
    if ((rc = zarrc_node_probe(&kind, &format, w.st, start))) {
        zarrc_store_free(w.st);
        free(start);
        if (rc == ZARRC_ENOTFOUND)
            return cli_fail("'%s' is not a Zarr node (no zarr.json, .zarray or .zgroup there)", node);
        return cli_fail_lib(rc, "reading '%s'", node);
    }
    if (link) {
        const char *eq = strchr(link, '=');
        char *name = eq ? strndup(link, (size_t)(eq - link)) : NULL;
        zarrc_store *wst = NULL;
        if (!eq || !name || !*name) {
            free(name);
            zarrc_store_free(w.st);
            free(start);
            return cli_usage_error(v, "--link wants NAME=/TARGET (got '%s')", link);
        }
        (void)wst;
        rc = zarrc_node_link_add(w.st, start, name, eq + 1);
        int res = rc ? cli_fail_lib(rc, "adding link '%s' to '%s'", name, node) : CLI_EXIT_OK;
        free(name);
        zarrc_store_free(w.st);
        free(start);
        return res;
    }
    if (as_json)
        w.out = json_object_new_array();
    rc = refs_node(&w, start, recursive);
    free(start);
    if (rc == CLI_EXIT_OK && as_json)
        printf("%s\n", json_object_to_json_string_ext(w.out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(w.out);
    zarrc_store_free(w.st);
    if (rc == CLI_EXIT_OK && w.bad)
        rc = cli_fail("%zu of %zu references of '%s' do not resolve", w.bad, w.total, node);
    return rc;
}

/* ---- cp -r: arrays zarrc cannot decode ---- */

/* zarrc_list_cb: keys only. */
static int add_key(void *ctx, const char *name, int is_prefix)
{
    return is_prefix ? 0 : name_list_push(ctx, name);
}

static int is_meta_key(const char *key, size_t plen)
{
    const char *b = key + plen;
    return !strcmp(b, "zarr.json") || !strcmp(b, ".zarray") || !strcmp(b, ".zattrs");
}

static int copy_key(zarrc_store *sst, const char *skey, zarrc_store *dst, const char *dkey)
{
    void *data = NULL;
    size_t size = 0;
    int rc = zarrc_store_get(&data, &size, sst, skey);
    if (rc == ZARRC_OK)
        rc = zarrc_store_set(dst, dkey, data, size);
    zarrc_free(data);
    return rc;
}

int cli_copy_verbatim(zarrc_store *sst, const char *spath, zarrc_store *dst, const char *dpath, const char *label,
                      int format, unsigned flags)
{
    zarrc_node_kind kind;
    int sformat, rc = zarrc_node_probe(&kind, &sformat, sst, spath);
    if (rc)
        return cli_fail_lib(rc, "reading '%s'", label);
    if (format && format != sformat) {
        zarrc_array *a = NULL;
        rc = zarrc_array_open(&a, sst, spath); /* for the library's message */
        zarrc_array_free(a);
        return cli_fail_lib(rc ? rc : ZARRC_EUNSUPPORTED, "'%s' cannot be converted to v%d", label, format);
    }
    zarrc_node_kind dk;
    int df;
    if (zarrc_node_probe(&dk, &df, dst, dpath) == ZARRC_OK) {
        if (!(flags & ZARRC_OVERWRITE))
            return cli_fail("'%s': the destination exists (use --overwrite)", label);
        if ((rc = zarrc_node_delete_flags(dst, dpath, flags & ZARRC_FORCE)))
            return cli_fail_lib(rc, "replacing the copy of '%s'", label);
    }
    size_t sl = strlen(spath), dl = strlen(dpath);
    char *prefix = malloc(sl + 2);
    if (!prefix)
        return cli_fail("out of memory");
    snprintf(prefix, sl + 2, "%s%s", spath, sl ? "/" : "");
    name_list keys = {0};
    rc = zarrc_store_list(sst, prefix, add_key, &keys);
    int result = rc ? cli_fail_lib(rc, "listing '%s'", label) : CLI_EXIT_OK;
    size_t plen = strlen(prefix);
    /* Chunks first, metadata last: an interrupted copy leaves no node without its chunks. */
    for (int pass = 0; pass < 2 && result == CLI_EXIT_OK; pass++)
        for (size_t i = 0; i < keys.n && result == CLI_EXIT_OK; i++) {
            const char *k = keys.v[i];
            if (strncmp(k, prefix, plen) || is_meta_key(k, plen) != pass)
                continue;
            size_t n = dl + strlen(k + plen) + 2;
            char *dk2 = malloc(n);
            if (!dk2) {
                result = cli_fail("out of memory");
                break;
            }
            snprintf(dk2, n, "%s%s%s", dpath, dl ? "/" : "", k + plen);
            if ((rc = copy_key(sst, k, dst, dk2)))
                result = cli_fail_lib(rc, "copying '%s' of '%s'", k + plen, label);
            free(dk2);
        }
    for (size_t i = 0; i < keys.n; i++)
        free(keys.v[i]);
    free(keys.v);
    free(prefix);
    if (result == CLI_EXIT_OK)
        fprintf(stderr, "zarrc: note: '%s': copied byte for byte (zarrc cannot decode its data type or codecs)\n",
                label);
    return result;
}

/* ---- info ---- */

void cli_refs_info(json_object *o, const char *node)
{
    zarrc_store *st = NULL;
    char *path = NULL;
    cli_ref_list l = {0};
    if (cli_refs_open_root(&st, &path, node, ZARRC_STORE_READONLY) || cli_refs_collect(&l, st, path, 0)) {
        zarrc_store_free(st);
        free(path);
        return;
    }
    if (o) {
        json_object *links = NULL;
        for (size_t i = 0; i < l.n; i++)
            if (l.v[i].kind == ZARRC_REF_LINK) {
                if (!links)
                    links = json_object_new_array();
                json_object_array_add(links, cli_refs_link_json(&l.v[i]));
            }
        if (links)
            json_object_object_add(o, "links", links);
        cli_refs_add_json(o, &l);
    } else {
        for (size_t i = 0; i < l.n; i++) {
            const cli_ref *r = &l.v[i];
            if (r->kind != ZARRC_REF_LINK)
                continue;
            printf("%-14s%s -> ", "link:", r->name);
            if (r->target)
                printf("%s  (%s)\n", r->target, cli_refs_kind_name(r->target_kind));
            else
                printf("unresolved: %s\n", r->error ? r->error : "?");
        }
        size_t other = l.n - (size_t)0;
        for (size_t i = 0; i < l.n; i++)
            other -= l.v[i].kind == ZARRC_REF_LINK;
        if (other) {
            printf("%-14s", "references:");
            cli_refs_print_suffix(stdout, &l);
            printf("  (zarrc refs %s lists every target)\n", node);
        }
    }
    cli_refs_free(&l);
    zarrc_store_free(st);
    free(path);
}

/* ---- tree --spec ---- */

int cli_refs_print_spec(const char *node, int depth)
{
    zarrc_store *st = NULL;
    int rc = zarrc_store_open(&st, node, ZARRC_STORE_READONLY);
    if (rc)
        return cli_fail_lib(rc, "opening '%s'", node);
    char *json = NULL;
    rc = zarrc_hierarchy_spec(&json, st, "", depth);
    zarrc_store_free(st);
    if (rc)
        return cli_fail_lib(rc, "GroupSpec of '%s'", node);
    printf("%s\n", json);
    zarrc_free(json);
    return CLI_EXIT_OK;
}
