/*
 * hierarchy.c — batch creation of a whole hierarchy from a flat map of relative path →
 * metadata document. Everything is validated before the store is touched, existing nodes are
 * probed concurrently, conflicts refuse the whole batch, and the documents are written
 * concurrently on the shared pool (parents first in index order).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "hierarchy.h"

/* ------------------------------------------------------------------------------------------ */
/* Problem lists: one error message naming many paths                                          */
/* ------------------------------------------------------------------------------------------ */

#define PROBLEM_TEXT 760

typedef struct problems {
    int code;     /* code of the first problem */
    size_t n;     /* number of problems */
    size_t shown; /* problems that fit into text */
    char text[PROBLEM_TEXT];
    size_t len;
} problems;

static void problem(problems *p, int code, const char *fmt, ...) ZARRC_PRINTF(3, 4);

/* Add one problem to the list. Problems that do not fit are counted ("and N more"), except
 * the first, which is always shown (cut short with "..." if it is longer than the text). */
static void problem(problems *p, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (p->n++ == 0)
        p->code = code;
    if (len < 0)
        return;
    const char *sep = p->shown ? "; " : "";
    size_t need = strlen(sep) + (size_t)len, room = sizeof p->text - p->len;
    if (need >= room && p->shown)
        return;
    memcpy(p->text + p->len, sep, strlen(sep));
    p->len += strlen(sep);
    va_start(ap, fmt);
    vsnprintf(p->text + p->len, sizeof p->text - p->len, fmt, ap);
    va_end(ap);
    if (need >= room) { /* the first problem, longer than the whole text */
        p->len = sizeof p->text - 1;
        memcpy(p->text + p->len - 3, "...", 3);
    } else
        p->len += (size_t)len;
    p->shown++;
}

static int raise_problems(const problems *p, const char *what, const char *hint)
{
    if (p->n > p->shown)
        return zarrc_error_set(p->code, "%s: %s; and %zu more%s", what, p->text, p->n - p->shown, hint);
    return zarrc_error_set(p->code, "%s: %s%s", what, p->text, hint);
}

/* ------------------------------------------------------------------------------------------ */
/* The plan                                                                                    */
/* ------------------------------------------------------------------------------------------ */

typedef struct hnode {
    zarrc_hnode pub;      /* path / relpath point at the strings below */
    char *path;           /* store path */
    char *relpath;        /* relative to the batch root, or NULL */
    json_object *doc;     /* document to write (v2: without "attributes") */
    json_object *attrs;   /* v2 attributes (NULL or non-empty object) */
    /* what the store holds there */
    bool exists;
    zarrc_node_kind ex_kind;
    int ex_format;
    json_object *ex_doc, *ex_attrs;
    bool ex_consolidated;
    /* probing: a node can only exist if its name is a prefix listed under its parent */
    struct hnode *parent;
    bool has_children;
    bool may_exist;
    char **kids;          /* sorted child prefix names listed under this node (probing) */
    size_t nkids;
    /* what to do */
    bool write;           /* write the document */
    bool erase_prefix;    /* overwrite: erase everything under the node first */
    bool erase_own;       /* overwrite of a group by a group: erase its own metadata keys first */
} hnode;

typedef struct plan {
    zarrc_store *s;
    const char *root;
    int format;
    unsigned flags;
    zarrc_hnode_cb cb;
    void *ctx;
    hnode *nodes;         /* listed first (n_listed), then implied */
    size_t n, n_listed, cap;
    hnode **by_path;      /* sorted by store path */
    hnode **order;        /* sorted by depth, then path: the write order */
    char **erase;         /* nodes to erase (outermost only) */
    zarrc__erase_plan **eplans; /* their erase plans, all made before anything is erased */
    size_t n_erase;
    hnode **tasks;        /* probing: nodes of one level to probe, then to list */
    size_t n_probe;
    hnode **writes;       /* nodes to write, in order */
    size_t n_writes;
    pthread_mutex_t cb_lock;
    int stop;             /* non-zero value returned by the callback */
    size_t written;
} plan;

static void plan_free(plan *pl)
{
    for (size_t i = 0; i < pl->n; i++) {
        hnode *h = &pl->nodes[i];
        free(h->path);
        free(h->relpath);
        json_object_put(h->doc);
        json_object_put(h->attrs);
        json_object_put(h->ex_doc);
        json_object_put(h->ex_attrs);
        for (size_t k = 0; k < h->nkids; k++)
            free(h->kids[k]);
        free(h->kids);
    }
    free(pl->nodes);
    free(pl->tasks);
    free(pl->by_path);
    free(pl->order);
    for (size_t i = 0; i < pl->n_erase; i++) {
        free(pl->erase[i]);
        if (pl->eplans)
            zarrc__erase_plan_free(pl->eplans[i]);
    }
    free(pl->erase);
    free(pl->eplans);
    free(pl->writes);
}

static hnode *plan_add(plan *pl)
{
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? 2 * pl->cap : 64;
        hnode *v = zarrc__realloc(pl->nodes, cap * sizeof *v);
        if (!v)
            return NULL;
        pl->nodes = v;
        pl->cap = cap;
    }
    hnode *h = &pl->nodes[pl->n++];
    memset(h, 0, sizeof *h);
    return h;
}

static int path_depth(const char *p)
{
    int d = *p ? 1 : 0;
    for (; *p; p++)
        d += *p == '/';
    return d;
}

static int cmp_by_path(const void *a, const void *b)
{
    return strcmp((*(hnode *const *)a)->path, (*(hnode *const *)b)->path);
}

static int cmp_by_depth(const void *a, const void *b)
{
    const hnode *x = *(hnode *const *)a, *y = *(hnode *const *)b;
    int dx = path_depth(x->path), dy = path_depth(y->path);
    return dx != dy ? (dx < dy ? -1 : 1) : strcmp(x->path, y->path);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static hnode *find_path(const plan *pl, size_t n, const char *path)
{
    hnode key, *kp = &key;
    key.path = (char *)path;
    hnode **hit = zarrc__search(&kp, pl->by_path, n, sizeof *pl->by_path, cmp_by_path);
    return hit ? *hit : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Validation (no I/O)                                                                         */
/* ------------------------------------------------------------------------------------------ */

/* Syntax of a relative path; NULL if valid, else the reason. */
static const char *relpath_problem(const char *p)
{
    if (!*p)
        return NULL;
    if (p[0] == '/')
        return "absolute paths are not allowed (paths are relative to the root)";
    if (strchr(p, '\\'))
        return "'\\' is not allowed (use '/')";
    for (const char *s = p;;) {
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 0)
            return "empty path segment";
        if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
            return "'.' and '..' segments are not allowed";
        if (zarrc__node_meta_name(s, len))
            return "a metadata key name cannot be a node name";
        if (!e)
            break;
        s = e + 1;
    }
    return NULL;
}

static bool has_reserved_v3_name(const char *p)
{
    for (const char *s = p; *s;) {
        const char *e = strchr(s, '/');
        if (zarrc__node_reserved_name(3, s, e ? (size_t)(e - s) : strlen(s)))
            return true;
        if (!e)
            break;
        s = e + 1;
    }
    return false;
}

/* Validate one listed document and fill h->doc / h->attrs / kind / format. `doc` is owned. */
static void check_doc(problems *pr, hnode *h, json_object *doc, const char *rel)
{
    json_object *zf = NULL, *attrs = NULL;
    h->doc = doc;
    if (!json_object_is_type(doc, json_type_object)) {
        problem(pr, ZARRC_EINVAL, "'%s': the metadata document must be a JSON object", rel);
        return;
    }
    json_object_object_get_ex(doc, "zarr_format", &zf);
    int format = json_object_is_type(zf, json_type_int) ? json_object_get_int(zf) : 0;
    if (format != 2 && format != 3) {
        problem(pr, ZARRC_EINVAL, "'%s': 'zarr_format' must be 2 or 3", rel);
        return;
    }
    h->pub.format = format;
    int rc = ZARRC_OK;
    zarrc__error_clear();
    if (format == 3) {
        json_object *nt = NULL;
        json_object_object_get_ex(doc, "node_type", &nt);
        const char *t = json_object_is_type(nt, json_type_string) ? json_object_get_string(nt) : "";
        if (!strcmp(t, "group")) {
            h->pub.kind = ZARRC_NODE_GROUP;
            if (json_object_object_get_ex(doc, "consolidated_metadata", NULL)) {
                problem(pr, ZARRC_EINVAL, "'%s': a batch does not write 'consolidated_metadata' "
                        "(consolidate the hierarchy afterwards)", rel);
                return;
            }
            rc = zarrc__meta_check_group_v3(doc);
        } else if (!strcmp(t, "array")) {
            h->pub.kind = ZARRC_NODE_ARRAY;
            rc = zarrc__array_validate_doc(doc, 3, NULL);
        } else {
            problem(pr, ZARRC_EINVAL, "'%s': 'node_type' must be \"array\" or \"group\"", rel);
            return;
        }
    } else {
        if (json_object_object_get_ex(doc, "attributes", &attrs)) {
            if (!json_object_is_type(attrs, json_type_object)) {
                problem(pr, ZARRC_EINVAL, "'%s': 'attributes' must be a JSON object", rel);
                return;
            }
            if (json_object_object_length(attrs) > 0)
                h->attrs = json_object_get(attrs);
            json_object_object_del(doc, "attributes");
        }
        if (json_object_object_get_ex(doc, "shape", NULL)) {
            h->pub.kind = ZARRC_NODE_ARRAY;
            rc = zarrc__array_validate_doc(doc, 2, h->attrs);
        } else {
            h->pub.kind = ZARRC_NODE_GROUP;
            json_object_object_foreach(doc, k, v) {
                (void)v;
                if (strcmp(k, "zarr_format")) {
                    problem(pr, ZARRC_EINVAL, "'%s': unexpected member '%s' in a v2 group "
                            "document (an array document needs 'shape')", rel, k);
                    return;
                }
            }
        }
    }
    if (rc)
        problem(pr, rc, "'%s': %s", rel, zarrc_error_last());
}

/* Build the listed nodes, check formats, duplicates and "below an array"; add implied
 * groups. Returns ZARRC_OK, or an error naming the offending paths. */
static int build_plan(plan *pl, const char *const *paths, json_object **docs, size_t n)
{
    problems pr = {0};
    for (size_t i = 0; i < n; i++) {
        hnode *h = plan_add(pl);
        if (!h) {
            for (size_t j = i; j < n; j++)
                json_object_put(docs[j]);
            return zarrc__enomem();
        }
        const char *rel = paths[i] ? paths[i] : "";
        const char *why = relpath_problem(rel);
        h->relpath = zarrc__strdup(rel);
        h->path = zarrc__node_join(pl->root, rel);
        if (!h->relpath || !h->path) {
            for (size_t j = i; j < n; j++)
                json_object_put(docs[j]);
            return zarrc__enomem();
        }
        if (why) {
            problem(&pr, ZARRC_EINVAL, "'%s': %s", rel, why);
            json_object_put(docs[i]);
            continue;
        }
        if (!docs[i]) {
            problem(&pr, ZARRC_EINVAL, "'%s': the metadata document is null", rel);
            continue;
        }
        check_doc(&pr, h, docs[i], rel);
    }
    pl->n_listed = pl->n;
    if (pr.n)
        return raise_problems(&pr, "invalid hierarchy (nothing written)", "");

    /* One format for the whole batch. */
    size_t n2 = 0, n3 = 0;
    for (size_t i = 0; i < pl->n; i++)
        *(pl->nodes[i].pub.format == 2 ? &n2 : &n3) += 1;
    if (pl->format) {
        for (size_t i = 0; i < pl->n; i++)
            if (pl->nodes[i].pub.format != pl->format)
                problem(&pr, ZARRC_EINVAL, "'%s' is a v%d document", pl->nodes[i].relpath,
                        pl->nodes[i].pub.format);
        if (pr.n) {
            char what[96];
            snprintf(what, sizeof what, "the hierarchy was requested in format %d (nothing written)", pl->format);
            return raise_problems(&pr, what, "");
        }
    } else if (n2 && n3) {
        for (int f = 2; f <= 3; f++)
            for (size_t i = 0; i < pl->n; i++)
                if (pl->nodes[i].pub.format == f)
                    problem(&pr, ZARRC_EINVAL, "v%d at '%s'", f, pl->nodes[i].relpath);
        return raise_problems(&pr, "v2 and v3 documents are mixed in one hierarchy (nothing written)", "");
    } else
        pl->format = n2 ? 2 : 3;
    if (pl->format == 3)
        for (size_t i = 0; i < pl->n; i++)
            if (has_reserved_v3_name(pl->nodes[i].relpath))
                problem(&pr, ZARRC_EINVAL, "'%s': v3 names starting with '__' are reserved",
                        pl->nodes[i].relpath);
    if (pr.n)
        return raise_problems(&pr, "invalid hierarchy (nothing written)", "");

    /* Duplicates and nodes below listed arrays. */
    pl->by_path = zarrc__malloc((pl->n ? pl->n : 1) * sizeof *pl->by_path);
    if (!pl->by_path)
        return ZARRC_ENOMEM;
    for (size_t i = 0; i < pl->n; i++)
        pl->by_path[i] = &pl->nodes[i];
    zarrc__sort(pl->by_path, pl->n, sizeof *pl->by_path, cmp_by_path);
    for (size_t i = 1; i < pl->n; i++)
        if (!strcmp(pl->by_path[i - 1]->path, pl->by_path[i]->path))
            problem(&pr, ZARRC_EINVAL, "'%s' is listed twice", pl->by_path[i]->relpath);
    if (pr.n)
        return raise_problems(&pr, "invalid hierarchy (nothing written)", "");

    /* Ancestors of every listed node: a listed array there is an error; unlisted ones are
     * implied groups. The candidates are collected first (pl->nodes moves as it grows). */
    size_t ncand = 0, capcand = 0;
    char **cand = NULL;
    int rc = ZARRC_OK;
    for (size_t i = 0; rc == ZARRC_OK && i < pl->n_listed; i++) {
        const char *p = pl->nodes[i].path;
        size_t len = strlen(p);
        for (size_t k = 0; k < len; k++) {
            if (k != 0 && p[k] != '/')
                continue;
            char *a = zarrc__sprintf("%.*s", (int)k, p);
            if (!a) {
                rc = ZARRC_ENOMEM;
                break;
            }
            hnode *hit = find_path(pl, pl->n_listed, a);
            if (hit) {
                if (hit->pub.kind == ZARRC_NODE_ARRAY)
                    problem(&pr, ZARRC_EINVAL, "'%s' is below array '%s'", pl->nodes[i].relpath,
                            hit->relpath);
                free(a);
                continue;
            }
            if (ncand == capcand) {
                size_t c = capcand ? 2 * capcand : 64;
                char **v = zarrc__realloc(cand, c * sizeof *v);
                if (!v) {
                    free(a);
                    rc = ZARRC_ENOMEM;
                    break;
                }
                cand = v;
                capcand = c;
            }
            cand[ncand++] = a;
        }
    }
    if (rc == ZARRC_OK && pr.n)
        rc = raise_problems(&pr, "invalid hierarchy (nothing written)", "");
    if (rc == ZARRC_OK) {
        zarrc__sort(cand, ncand, sizeof *cand, cmp_str);
    }
    const char *last = NULL; /* the previous candidate (owned by its node by now) */
    for (size_t i = 0; rc == ZARRC_OK && i < ncand; i++) {
        if (last && !strcmp(last, cand[i]))
            continue;
        last = cand[i];
        hnode *h = plan_add(pl);
        if (!h) {
            rc = ZARRC_ENOMEM;
            break;
        }
        h->path = cand[i];
        cand[i] = NULL;
        const char *rel = zarrc__path_below(h->path, pl->root);
        if (rel && !(h->relpath = zarrc__strdup(rel)))
            rc = ZARRC_ENOMEM;
        h->pub.kind = ZARRC_NODE_GROUP;
        h->pub.format = pl->format;
        h->pub.implied = 1;
        h->doc = json_object_new_object();
        json_object_object_add(h->doc, "zarr_format", json_object_new_int(pl->format));
        if (pl->format == 3) {
            json_object_object_add(h->doc, "node_type", json_object_new_string("group"));
            json_object_object_add(h->doc, "attributes", json_object_new_object());
        }
    }
    for (size_t i = 0; i < ncand; i++)
        free(cand[i]);
    free(cand);
    if (rc)
        return rc;

    /* Final indexes (pointers into pl->nodes are stable from here on). */
    hnode **bp = zarrc__realloc(pl->by_path, (pl->n ? pl->n : 1) * sizeof *bp);
    pl->order = zarrc__malloc((pl->n ? pl->n : 1) * sizeof *pl->order);
    if (!bp || !pl->order) {
        if (bp)
            pl->by_path = bp;
        free(pl->order); /* unfilled: the report must list the nodes as given */
        pl->order = NULL;
        return ZARRC_ENOMEM;
    }
    pl->by_path = bp;
    for (size_t i = 0; i < pl->n; i++) {
        hnode *h = &pl->nodes[i];
        pl->by_path[i] = pl->order[i] = h;
        h->pub.path = h->path;
        h->pub.relpath = h->relpath;
        h->pub.status = ZARRC_OK;
    }
    zarrc__sort(pl->by_path, pl->n, sizeof *pl->by_path, cmp_by_path);
    zarrc__sort(pl->order, pl->n, sizeof *pl->order, cmp_by_depth);
    return ZARRC_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Probing the store                                                                           */
/* ------------------------------------------------------------------------------------------ */

static int read_attrs(json_object **out, zarrc_store *s, const char *path)
{
    char *key = zarrc__node_key(path, ".zattrs");
    if (!key)
        return ZARRC_ENOMEM;
    int rc = zarrc__node_read_json(out, s, key);
    if (rc == ZARRC_ENOTFOUND) {
        zarrc__error_clear();
        *out = NULL;
        rc = ZARRC_OK;
    }
    free(key);
    return rc;
}

static int probe_node(plan *pl, hnode *h)
{
    int rc = zarrc__node_find(&h->ex_kind, &h->ex_format, &h->ex_doc, pl->s, h->path);
    if (rc == ZARRC_ENOTFOUND) {
        zarrc__error_clear();
        return ZARRC_OK;
    }
    if (rc == ZARRC_OK) {
        h->exists = true;
        if (h->ex_format == 2 && !h->pub.implied)
            rc = read_attrs(&h->ex_attrs, pl->s, h->path);
        if (rc == ZARRC_OK && h->ex_kind == ZARRC_NODE_GROUP && h->ex_format == pl->format)
            rc = zarrc__cmeta_present(&h->ex_consolidated, pl->s, h->path, h->ex_format, h->ex_doc);
    }
    if (rc)
        zarrc__error_context(rc, "reading what is stored at '%s': ", zarrc__node_display(pl->s, h->path));
    return rc;
}

static int collect_kid(void *ctx, const char *name, int is_prefix)
{
    hnode *h = ctx;
    if (!is_prefix)
        return 0;
    char **v = zarrc__realloc(h->kids, (h->nkids + 1) * sizeof *v);
    if (!v)
        return ZARRC_ENOMEM;
    h->kids = v;
    if (!(v[h->nkids] = zarrc__strdup(name)))
        return ZARRC_ENOMEM;
    h->nkids++;
    return 0;
}

static int list_node(plan *pl, hnode *h)
{
    char *prefix = *h->path ? zarrc__sprintf("%s/", h->path) : zarrc__strdup("");
    int rc = prefix ? zarrc__store_list_dir(pl->s, prefix, collect_kid, h) : ZARRC_ENOMEM;
    free(prefix);
    if (rc == ZARRC_OK)
        zarrc__sort(h->kids, h->nkids, sizeof *h->kids, cmp_str);
    else
        zarrc__error_context(rc, "listing '%s': ", zarrc__node_display(pl->s, h->path));
    return rc;
}

static int probe_task(void *ctx, size_t i)
{
    plan *pl = ctx;
    return i < pl->n_probe ? probe_node(pl, pl->tasks[i]) : list_node(pl, pl->tasks[i]);
}

/* Find what the store holds at every node of the plan, one depth at a time. A node is only
 * read if its name is listed as a prefix under its parent, so a new subtree costs one listing
 * instead of several reads per node. */
static int probe_all(plan *pl)
{
    pl->tasks = zarrc__malloc((2 * pl->n + 1) * sizeof *pl->tasks);
    if (!pl->tasks)
        return ZARRC_ENOMEM;
    /* Parents (every ancestor of a node is in the plan). */
    for (size_t i = 0; i < pl->n; i++) {
        hnode *h = &pl->nodes[i];
        const char *slash = strrchr(h->path, '/');
        if (!*h->path)
            continue;
        char *pp = slash ? zarrc__sprintf("%.*s", (int)(slash - h->path), h->path) : zarrc__strdup("");
        if (!pp)
            return ZARRC_ENOMEM;
        h->parent = find_path(pl, pl->n, pp);
        free(pp);
        if (h->parent)
            h->parent->has_children = true;
    }
    int rc = ZARRC_OK;
    for (size_t lo = 0; rc == ZARRC_OK && lo < pl->n;) {
        int depth = path_depth(pl->order[lo]->path);
        size_t hi = lo;
        while (hi < pl->n && path_depth(pl->order[hi]->path) == depth)
            hi++;
        size_t nt = 0;
        for (size_t i = lo; i < hi; i++) {
            hnode *h = pl->order[i];
            if (!*h->path || !h->parent) {
                h->may_exist = true;
            } else if (h->parent->may_exist) {
                const char *name = strrchr(h->path, '/');
                name = name ? name + 1 : h->path;
                h->may_exist = zarrc__search(&name, h->parent->kids, h->parent->nkids, sizeof *h->parent->kids,
                                       cmp_str) != NULL;
            }
            if (h->may_exist)
                pl->tasks[nt++] = h;
        }
        pl->n_probe = nt;
        for (size_t i = lo; i < hi; i++)
            if (pl->order[i]->may_exist && pl->order[i]->has_children)
                pl->tasks[nt++] = pl->order[i];
        rc = zarrc__pool_run(nt, probe_task, pl);
        lo = hi;
    }
    return rc;
}

static bool empty_obj(const json_object *o)
{
    return !o || (json_object_is_type((json_object *)o, json_type_object) &&
                  json_object_object_length((json_object *)o) == 0);
}

static bool same_attrs(const json_object *a, const json_object *b)
{
    return (empty_obj(a) && empty_obj(b)) || zarrc__json_equal(a, b, NULL);
}

/* Whether the stored node equals what the batch would write (consolidated copies ignored). */
static bool same_as_stored(const hnode *h)
{
    if (h->ex_kind != h->pub.kind || h->ex_format != h->pub.format)
        return false;
    if (h->pub.format == 2)
        return zarrc__json_equal(h->doc, h->ex_doc, NULL) && same_attrs(h->attrs, h->ex_attrs);
    json_object *a = NULL, *b = NULL;
    json_object_object_get_ex(h->doc, "attributes", &a);
    json_object_object_get_ex(h->ex_doc, "attributes", &b);
    if (!same_attrs(a, b))
        return false;
    json_object *x = zarrc__json_deep_copy(h->doc), *y = zarrc__json_deep_copy(h->ex_doc);
    bool same = false;
    if (x && y) {
        json_object_object_del(x, "attributes");
        json_object_object_del(y, "attributes");
        json_object_object_del(x, "consolidated_metadata");
        json_object_object_del(y, "consolidated_metadata");
        same = zarrc__json_equal(x, y, NULL);
    }
    json_object_put(x);
    json_object_put(y);
    return same;
}

static const char *kind_name(zarrc_node_kind k) { return k == ZARRC_NODE_ARRAY ? "array" : "group"; }

/* Is `h` at or below a node whose prefix is erased first? ZARRC_ENOMEM if that cannot be
 * found out. */
static int under_erased(bool *hit_out, const plan *pl, const hnode *h)
{
    const char *p = h->path;
    size_t len = strlen(p);
    char *a = zarrc__malloc(len + 1);
    bool hit = false;
    if (!a)
        return ZARRC_ENOMEM;
    for (size_t k = 0; k <= len && !hit; k++) {
        if (k != 0 && k != len && p[k] != '/')
            continue;
        memcpy(a, p, k);
        a[k] = '\0';
        const hnode *anc = find_path(pl, pl->n, a);
        hit = anc && anc != h && anc->erase_prefix;
    }
    free(a);
    *hit_out = hit;
    return ZARRC_OK;
}

/* Decide what to do with every node; conflicts refuse the whole batch. */
static int decide(plan *pl)
{
    problems pr = {0};
    bool overwrite = (pl->flags & ZARRC_OVERWRITE) != 0;
    for (size_t i = 0; i < pl->n; i++) {
        hnode *h = pl->order[i];
        bool erased = false;
        if (h->exists && under_erased(&erased, pl, h))
            return ZARRC_ENOMEM;
        if (erased)
            h->exists = false; /* it goes away with an erased ancestor */
        if (!h->exists) {
            h->write = true;
            continue;
        }
        if (h->pub.implied) {
            if (h->ex_kind == ZARRC_NODE_GROUP && h->ex_format == pl->format) {
                h->pub.state = ZARRC_HNODE_EXISTING;
                continue;
            }
            h->pub.status = ZARRC_ECONFLICT;
            if (h->ex_kind == ZARRC_NODE_ARRAY)
                problem(&pr, ZARRC_ECONFLICT, "'%s' is an existing array where a group is needed",
                        zarrc__node_display(pl->s, h->path));
            else
                problem(&pr, ZARRC_ECONFLICT, "'%s' is an existing v%d group where a v%d group is "
                        "needed", zarrc__node_display(pl->s, h->path), h->ex_format, pl->format);
        } else if (!overwrite) {
            if (same_as_stored(h)) {
                h->pub.state = ZARRC_HNODE_EXISTING;
                continue;
            }
            h->pub.status = ZARRC_EEXISTS;
            problem(&pr, ZARRC_EEXISTS, "'%s' exists (%s, v%d)%s", h->relpath, kind_name(h->ex_kind),
                    h->ex_format, h->ex_kind == h->pub.kind && h->ex_format == h->pub.format
                                      ? " with different metadata" : "");
        } else {
            h->write = true;
            h->pub.replaced = 1;
            if (h->ex_kind == ZARRC_NODE_ARRAY || h->pub.kind == ZARRC_NODE_ARRAY)
                h->erase_prefix = true;
            else
                h->erase_own = true;
        }
    }
    if (pr.n) {
        /* EEXISTS only if every problem is a listed node that exists. */
        for (size_t i = 0; i < pl->n; i++)
            if (pl->order[i]->pub.status == ZARRC_ECONFLICT)
                pr.code = ZARRC_ECONFLICT;
        return raise_problems(&pr, "the hierarchy conflicts with the store (nothing written)",
                              pr.code == ZARRC_EEXISTS && !overwrite ? " (use overwrite to replace listed nodes)" : "");
    }
    /* Outermost erased prefixes, and the write list in depth order. */
    pl->erase = zarrc__calloc(pl->n ? pl->n : 1, sizeof *pl->erase);
    pl->writes = zarrc__calloc(pl->n ? pl->n : 1, sizeof *pl->writes);
    if (!pl->erase || !pl->writes)
        return ZARRC_ENOMEM;
    for (size_t i = 0; i < pl->n; i++) {
        hnode *h = pl->order[i];
        bool erased = false;
        if (h->erase_prefix && under_erased(&erased, pl, h))
            return ZARRC_ENOMEM;
        if (h->erase_prefix && !erased && !(pl->erase[pl->n_erase++] = zarrc__strdup(h->path)))
            return ZARRC_ENOMEM;
        if (h->write)
            pl->writes[pl->n_writes++] = h;
    }
    return ZARRC_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing                                                                                     */
/* ------------------------------------------------------------------------------------------ */

static void notify(plan *pl, hnode *h)
{
    pthread_mutex_lock(&pl->cb_lock);
    if (h->pub.state == ZARRC_HNODE_WRITTEN)
        pl->written++;
    if (pl->cb && !pl->stop) {
        int r = pl->cb(pl->ctx, &h->pub);
        if (r)
            __atomic_store_n(&pl->stop, r, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&pl->cb_lock);
}

/* What belongs to each replaced node, classified before anything is erased (keys of no node
 * refuse the batch unless ZARRC_FORCE). */
static int erase_plan_task(void *ctx, size_t i)
{
    plan *pl = ctx;
    int rc = zarrc__erase_plan_make(&pl->eplans[i], pl->s, pl->erase[i], pl->flags, NULL);
    if (rc)
        zarrc__error_context(rc, "replacing the node at '%s' (nothing written): ", zarrc__node_display(pl->s, pl->erase[i]));
    return rc;
}

static int erase_task(void *ctx, size_t i)
{
    plan *pl = ctx;
    int rc = zarrc__erase_plan_run(pl->eplans[i]);
    if (rc)
        zarrc__error_context(rc, "erasing the node at '%s' to replace it: ", zarrc__node_display(pl->s, pl->erase[i]));
    return rc;
}

static int erase_key(zarrc_store *s, const char *path, const char *name)
{
    char *key = zarrc__node_key(path, name);
    int rc = key ? zarrc__store_erase(s, key) : ZARRC_ENOMEM;
    free(key);
    if (rc == ZARRC_ENOTFOUND) {
        zarrc__error_clear();
        rc = ZARRC_OK;
    }
    return rc;
}

static int write_key(zarrc_store *s, const char *path, const char *name, json_object *doc)
{
    char *key = zarrc__node_key(path, name);
    int rc = key ? zarrc__node_write_json(s, key, doc) : ZARRC_ENOMEM;
    free(key);
    return rc;
}

static int write_node(zarrc_store *s, const hnode *h)
{
    int rc = ZARRC_OK;
    if (h->erase_own) { /* a group replacing a group: its old metadata keys go */
        if (h->ex_format == 3 && h->pub.format == 2)
            rc = erase_key(s, h->path, "zarr.json");
        if (rc == ZARRC_OK && h->ex_format == 2) {
            if (h->pub.format == 3) /* a v2 document without attributes erases its own */
                rc = erase_key(s, h->path, ".zattrs");
            if (rc == ZARRC_OK)
                rc = erase_key(s, h->path, ".zmetadata");
            if (rc == ZARRC_OK && h->pub.format == 3)
                rc = erase_key(s, h->path, ".zgroup");
        }
    }
    if (rc)
        return rc;
    if (h->pub.format == 3)
        return write_key(s, h->path, "zarr.json", h->doc);
    return zarrc__node_write_v2(s, h->path, h->pub.kind == ZARRC_NODE_ARRAY ? ".zarray" : ".zgroup", h->doc,
                                h->attrs);
}

static int write_task(void *ctx, size_t i)
{
    plan *pl = ctx;
    hnode *h = pl->writes[i];
    if (__atomic_load_n(&pl->stop, __ATOMIC_RELAXED))
        return ZARRC_OK; /* stopped by the callback: stays PENDING */
    int rc = write_node(pl->s, h);
    h->pub.status = rc;
    h->pub.state = rc ? ZARRC_HNODE_FAILED : ZARRC_HNODE_WRITTEN;
    if (rc)
        zarrc__error_context(rc, "writing node '%s': ", zarrc__node_display(pl->s, h->path));
    notify(pl, h);
    return rc;
}

/* Existing groups of the batch's format whose consolidated copy now misses written nodes. */
static int consolidated_after(plan *pl, zarrc_stale_list *stale, bool update)
{
    int rc = ZARRC_OK;
    for (size_t i = 0; rc == ZARRC_OK && i < pl->n; i++) {
        hnode *g = pl->order[i];
        if (!g->exists || !g->ex_consolidated || g->write || g->pub.state != ZARRC_HNODE_EXISTING)
            continue;
        size_t nup = 0;
        zarrc__mnode *up = NULL;
        for (size_t j = 0; j < pl->n_writes; j++) {
            const hnode *w = pl->writes[j];
            const char *rel = zarrc__path_below(w->path, g->path);
            if (!rel || !*rel || w->pub.state != ZARRC_HNODE_WRITTEN)
                continue;
            if (!update) {
                nup = 1;
                break;
            }
            if (!up && !(up = zarrc__calloc(pl->n_writes, sizeof *up))) {
                rc = ZARRC_ENOMEM;
                break;
            }
            zarrc__mnode m = {w->path, w->pub.kind, w->pub.format, w->doc, w->attrs};
            up[nup++] = m;
        }
        if (rc == ZARRC_OK && nup) {
            if (update)
                rc = zarrc__cmeta_patch(pl->s, g->path, g->ex_format, up, nup, pl->erase, pl->n_erase);
            else
                rc = zarrc__stale_add(stale, g->path);
        }
        free(up); /* the entries borrow the plan's strings and documents */
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Report                                                                                      */
/* ------------------------------------------------------------------------------------------ */

typedef struct report_impl {
    zarrc_hierarchy_report pub; /* first: the public pointer is this struct */
    char **strings;
    size_t nstrings;
} report_impl;

void zarrc_hierarchy_report_free(zarrc_hierarchy_report *r)
{
    if (!r)
        return;
    report_impl *ri = (report_impl *)r;
    for (size_t i = 0; i < ri->nstrings; i++)
        free(ri->strings[i]);
    free(ri->strings);
    free(r->nodes);
    zarrc_stale_list_clear(&r->stale);
    free(ri);
}

static int make_report(zarrc_hierarchy_report **out, plan *pl, zarrc_stale_list *stale)
{
    report_impl *ri = zarrc__calloc(1, sizeof *ri);
    if (!ri)
        return ZARRC_ENOMEM;
    ri->pub.nodes = zarrc__calloc(pl->n ? pl->n : 1, sizeof *ri->pub.nodes);
    ri->strings = zarrc__calloc(2 * pl->n + 1, sizeof *ri->strings);
    if (!ri->pub.nodes || !ri->strings) {
        zarrc_hierarchy_report_free(&ri->pub);
        return ZARRC_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < pl->n; i++) {
        /* Without an order (refused while validating) the listed nodes come as given. */
        const hnode *h = pl->order ? pl->order[i] : &pl->nodes[i];
        if (!h->path)
            continue;
        zarrc_hnode *n = &ri->pub.nodes[k++];
        *n = h->pub;
        n->kind = h->pub.kind ? h->pub.kind : ZARRC_NODE_GROUP;
        n->path = ri->strings[ri->nstrings++] = zarrc__strdup(h->path);
        n->relpath = NULL;
        if (h->relpath)
            n->relpath = ri->strings[ri->nstrings++] = zarrc__strdup(h->relpath);
        if (!n->path || (h->relpath && !n->relpath)) {
            zarrc_hierarchy_report_free(&ri->pub);
            return ZARRC_ENOMEM;
        }
        if (n->state == ZARRC_HNODE_WRITTEN)
            ri->pub.written++;
    }
    ri->pub.count = k;
    if (stale) {
        ri->pub.stale = *stale;
        memset(stale, 0, sizeof *stale);
    }
    *out = &ri->pub;
    return ZARRC_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Running a batch                                                                             */
/* ------------------------------------------------------------------------------------------ */

/* `docs` are owned (consumed); `errs[i]` (may be NULL) is a parse error for entry i. */
static int run_batch(zarrc_hierarchy_report **report, zarrc_store *store, const char *root,
                     const char *const *paths, json_object **docs, char **errs, size_t n,
                     const zarrc_hierarchy_options *o)
{
    plan pl;
    memset(&pl, 0, sizeof pl);
    pl.s = store;
    pl.root = root;
    pl.format = o ? o->format : 0;
    pl.flags = o ? o->flags : 0;
    pl.cb = o ? o->on_node : NULL;
    pl.ctx = o ? o->ctx : NULL;
    pthread_mutex_init(&pl.cb_lock, NULL);
    zarrc_stale_list stale = {0};
    zarrc__error_saved saved;
    int rc = ZARRC_OK;

    problems pr = {0};
    for (size_t i = 0; i < n; i++)
        if (errs && errs[i])
            problem(&pr, ZARRC_EINVAL, "'%s': %s", paths[i] ? paths[i] : "", errs[i]);
    if (pr.n) {
        for (size_t i = 0; i < n; i++)
            json_object_put(docs[i]);
        rc = raise_problems(&pr, "invalid hierarchy (nothing written)", "");
    } else
        rc = build_plan(&pl, paths, docs, n);
    if (rc == ZARRC_OK)
        rc = probe_all(&pl);
    if (rc == ZARRC_OK)
        rc = decide(&pl);
    /* Nodes accepted as they are count as done. */
    for (size_t i = 0; rc == ZARRC_OK && i < pl.n && !pl.stop; i++)
        if (pl.order[i]->pub.state == ZARRC_HNODE_EXISTING)
            notify(&pl, pl.order[i]);
    if (rc == ZARRC_OK && !pl.stop && pl.n_erase) {
        if (!(pl.eplans = zarrc__calloc(pl.n_erase, sizeof *pl.eplans)))
            rc = ZARRC_ENOMEM;
        if (rc == ZARRC_OK)
            rc = zarrc__pool_run(pl.n_erase, erase_plan_task, &pl);
        if (rc == ZARRC_OK)
            rc = zarrc__pool_run(pl.n_erase, erase_task, &pl);
    }
    if (rc == ZARRC_OK && !pl.stop) {
        rc = zarrc__pool_run(pl.n_writes, write_task, &pl);
        if (rc) {
            size_t written = 0;
            for (size_t i = 0; i < pl.n_writes; i++)
                written += pl.writes[i]->pub.state == ZARRC_HNODE_WRITTEN;
            zarrc__error_context(rc, "%zu of %zu documents written before the failure (see the report): ",
                                 written, pl.n_writes);
        }
    }
    if (rc == ZARRC_OK && pl.stop)
        rc = pl.stop;
    /* Consolidated copies above written nodes: updated when asked (after a complete batch),
     * else reported as stale. Keep the batch's error if there is one. */
    if (pl.n_writes) {
        int keep = rc;
        if (keep)
            zarrc__error_save(&saved, keep);
        bool update = keep == ZARRC_OK && (pl.flags & ZARRC_UPDATE_CONSOLIDATED);
        int crc = consolidated_after(&pl, &stale, update);
        if (keep)
            zarrc__error_restore(&saved);
        else
            rc = crc;
    }
    if (rc && rc != pl.stop)
        zarrc__error_context(rc, "hierarchy '%s': ", zarrc__node_display(store, root));
    if (report) {
        if (rc)
            zarrc__error_save(&saved, rc);
        int rrc = make_report(report, &pl, &stale);
        if (rc)
            zarrc__error_restore(&saved);
        else
            rc = rrc;
    }
    zarrc_stale_list_clear(&stale);
    pthread_mutex_destroy(&pl.cb_lock);
    plan_free(&pl);
    return rc;
}

static int check_options(const zarrc_hierarchy_options *o)
{
    if (!o)
        return ZARRC_OK;
    if (o->version != ZARRC_HIERARCHY_OPTIONS_VERSION)
        return zarrc_error_set(ZARRC_EINVAL, "unknown hierarchy options version %u", o->version);
    if (o->format != 0 && o->format != 2 && o->format != 3)
        return zarrc_error_set(ZARRC_EINVAL, "format must be 0, 2 or 3 (got %d)", o->format);
    return ZARRC_OK;
}

int zarrc_hierarchy_create_entries(zarrc_hierarchy_report **report, zarrc_store *store,
                                   const char *root, const zarrc_hierarchy_entry *entries, size_t n,
                                   const zarrc_hierarchy_options *o)
{
    zarrc__error_clear();
    if (report)
        *report = NULL;
    int rc = check_options(o);
    if (rc)
        return rc;
    if (n && !entries)
        return zarrc_error_set(ZARRC_EINVAL, "no entries given");
    char *r;
    if ((rc = zarrc__node_path(&r, root)))
        return rc;
    const char **paths = zarrc__calloc(n ? n : 1, sizeof *paths);
    json_object **docs = zarrc__calloc(n ? n : 1, sizeof *docs);
    char **errs = zarrc__calloc(n ? n : 1, sizeof *errs);
    if (!paths || !docs || !errs)
        rc = ZARRC_ENOMEM;
    for (size_t i = 0; rc == ZARRC_OK && i < n; i++) {
        paths[i] = entries[i].path ? entries[i].path : "";
        const char *t = entries[i].metadata;
        if (!t) {
            errs[i] = zarrc__strdup("no metadata document given");
            continue;
        }
        if (zarrc__json_parse(&docs[i], t, strlen(t), "metadata document")) {
            errs[i] = zarrc__strdup(zarrc_error_last());
            docs[i] = NULL;
        }
    }
    if (rc == ZARRC_OK)
        rc = run_batch(report, store, r, paths, docs, errs, n, o);
    else if (docs)
        for (size_t i = 0; i < n; i++)
            json_object_put(docs[i]);
    for (size_t i = 0; errs && i < n; i++)
        free(errs[i]);
    free(errs);
    free(docs);
    free(paths);
    free(r);
    return rc;
}

/* ---- duplicate member names of the spec object (json-c keeps only the last one) ---- */

static const char *skip_space(const char *p)
{
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
        } else if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n')
                p++;
        } else
            return p;
    }
}

static const char *skip_string(const char *p)
{
    char q = *p++;
    while (*p && *p != q)
        p += (*p == '\\' && p[1]) ? 2 : 1;
    return *p ? p + 1 : p;
}

/* Report member names given more than once in the top-level object of `text` (which json-c
 * accepted: the scan is best effort and stops at anything unexpected). */
static int duplicate_names(problems *pr, const char *text)
{
    size_t n = 0, cap = 0;
    char **names = NULL;
    int rc = ZARRC_OK;
    const char *p = skip_space(text);
    if (*p == '{') {
        p = skip_space(p + 1);
        while (rc == ZARRC_OK && (*p == '"' || *p == '\'')) {
            const char *e = skip_string(p);
            json_object *k;
            if (*p == '"' && e - p >= 2 && e[-1] == '"' && !memchr(p, '\\', (size_t)(e - p))) {
                k = json_object_new_string_len(p + 1, (int)(e - p - 2)); /* no escapes */
            } else {
                char *tok = zarrc__sprintf("%.*s", (int)(e - p), p);
                if (!tok) {
                    rc = ZARRC_ENOMEM;
                    break;
                }
                if (tok[0] == '\'') { /* json-c's lenient single quotes: decode as a JSON string */
                    tok[0] = '"';
                    if (e - p >= 2)
                        tok[e - p - 1] = '"';
                }
                k = json_tokener_parse(tok);
                free(tok);
            }
            if (!json_object_is_type(k, json_type_string)) {
                json_object_put(k);
                break;
            }
            if (n == cap) {
                size_t c = cap ? 2 * cap : 64;
                char **v = zarrc__realloc(names, c * sizeof *v);
                if (!v) {
                    json_object_put(k);
                    rc = ZARRC_ENOMEM;
                    break;
                }
                names = v;
                cap = c;
            }
            names[n] = zarrc__strdup(json_object_get_string(k));
            json_object_put(k);
            if (!names[n]) {
                rc = ZARRC_ENOMEM;
                break;
            }
            n++;
            p = skip_space(e);
            if (*p != ':')
                break;
            /* Skip the value: up to a ',' or '}' at depth 0. */
            int depth = 0;
            p = skip_space(p + 1);
            while (*p) {
                if (*p == '"' || *p == '\'') {
                    p = skip_string(p);
                    continue;
                }
                if (*p == '/' && (p[1] == '*' || p[1] == '/')) {
                    p = skip_space(p);
                    continue;
                }
                if (*p == '{' || *p == '[')
                    depth++;
                else if (*p == '}' || *p == ']') {
                    if (depth == 0)
                        break;
                    depth--;
                } else if (*p == ',' && depth == 0)
                    break;
                p++;
            }
            if (*p != ',')
                break;
            p = skip_space(p + 1);
        }
    }
    if (rc == ZARRC_OK) {
        zarrc__sort(names, n, sizeof *names, cmp_str);
        for (size_t i = 1; i < n; i++)
            if (!strcmp(names[i - 1], names[i]) && (i < 2 || strcmp(names[i - 2], names[i])))
                problem(pr, ZARRC_EINVAL, "'%s' is listed twice", names[i]);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int zarrc_hierarchy_create(zarrc_hierarchy_report **report, zarrc_store *store, const char *root,
                           const char *spec_json, const zarrc_hierarchy_options *o)
{
    zarrc__error_clear();
    if (report)
        *report = NULL;
    int rc = check_options(o);
    if (rc)
        return rc;
    if (!spec_json)
        return zarrc_error_set(ZARRC_EINVAL, "no hierarchy spec given");
    json_object *spec = NULL;
    if ((rc = zarrc__json_parse(&spec, spec_json, strlen(spec_json), "hierarchy spec")))
        return rc;
    if (!json_object_is_type(spec, json_type_object)) {
        json_object_put(spec);
        return zarrc_error_set(ZARRC_EINVAL, "hierarchy spec: must be a JSON object "
                               "{\"<relative path>\": <metadata document>, ...}");
    }
    problems pr = {0};
    if ((rc = duplicate_names(&pr, spec_json)) == ZARRC_OK && pr.n)
        rc = raise_problems(&pr, "invalid hierarchy (nothing written)", "");
    json_object *flat = NULL; /* a pydantic-zarr GroupSpec, nested or flat: as zarrc's flat form */
    if (rc == ZARRC_OK && (rc = zarrc__groupspec_normalize(&flat, spec)) == ZARRC_OK && flat) {
        json_object_put(spec);
        spec = flat;
    }
    char *r = NULL;
    if (rc == ZARRC_OK)
        rc = zarrc__node_path(&r, root);
    size_t n = (size_t)json_object_object_length(spec), i = 0;
    const char **paths = zarrc__calloc(n ? n : 1, sizeof *paths);
    json_object **docs = zarrc__calloc(n ? n : 1, sizeof *docs);
    if (rc == ZARRC_OK && (!paths || !docs))
        rc = zarrc__enomem();
    if (rc == ZARRC_OK) {
        json_object_object_foreach(spec, k, v) {
            paths[i] = k;
            docs[i] = json_object_get(v);
            i++;
        }
        rc = run_batch(report, store, r, paths, docs, NULL, n, o);
    }
    free(paths);
    free(docs);
    free(r);
    json_object_put(spec);
    return rc;
}
