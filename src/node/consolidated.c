/*
 * consolidated.c — consolidated metadata: v2 `.zmetadata` and v3 inline
 * `consolidated_metadata`, written as zarr-python writes them; loading a copy for group
 * handles; checking a copy against the store; patching copies after metadata changes.
 */
#include <math.h>
#include <stdlib.h>

#include "hierarchy.h"

#define ZMETADATA ".zmetadata"

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                               */
/* ------------------------------------------------------------------------------------------ */


void zarrc__mnode_clear(zarrc__mnode *n)
{
    if (!n)
        return;
    free(n->path);
    json_object_put(n->doc);
    json_object_put(n->attrs);
    memset(n, 0, sizeof *n);
}

const char *zarrc__path_below(const char *path, const char *base)
{
    size_t n = strlen(base);
    if (n == 0)
        return path;
    if (strncmp(path, base, n) != 0)
        return NULL;
    if (path[n] == '\0')
        return path + n;
    return path[n] == '/' ? path + n + 1 : NULL;
}

char *zarrc__node_join(const char *a, const char *b)
{
    if (!*a)
        return zarrc__strdup(b);
    if (!*b)
        return zarrc__strdup(a);
    return zarrc__sprintf("%s/%s", a, b);
}

static int path_depth(const char *p)
{
    int d = *p ? 1 : 0;
    for (; *p; p++)
        d += *p == '/';
    return d;
}

/* Order of v3 consolidated entries: by depth, then by name ignoring ASCII case (zarr-python
 * sorts by case-folded name), then exactly. */
static int cmp_depth_name(const char *a, const char *b)
{
    int da = path_depth(a), db = path_depth(b);
    if (da != db)
        return da < db ? -1 : 1;
    int c = strcasecmp(a, b);
    return c ? c : strcmp(a, b);
}

static int cmp_mnode_path(const void *a, const void *b)
{
    return strcmp(((const zarrc__mnode *)a)->path, ((const zarrc__mnode *)b)->path);
}

int zarrc__stale_add(zarrc_stale_list *l, const char *path)
{
    for (size_t i = 0; i < l->count; i++)
        if (!strcmp(l->paths[i], path))
            return ZARRC_OK;
    char **v = zarrc__realloc(l->paths, (l->count + 1) * sizeof *v);
    if (!v)
        return ZARRC_ENOMEM;
    l->paths = v;
    if (!(v[l->count] = zarrc__strdup(path)))
        return ZARRC_ENOMEM;
    l->count++;
    return ZARRC_OK;
}

void zarrc_stale_list_clear(zarrc_stale_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        free(l->paths[i]);
    free(l->paths);
    l->paths = NULL;
    l->count = 0;
}

static bool is_number(const json_object *o)
{
    return json_object_is_type(o, json_type_int) || json_object_is_type(o, json_type_double);
}

bool zarrc__json_equal(const json_object *a, const json_object *b, const char *ignore)
{
    json_object *x = (json_object *)a, *y = (json_object *)b;
    enum json_type ta = json_object_get_type(x), tb = json_object_get_type(y);
    if (is_number(x) && is_number(y)) {
        if (ta == json_type_int && tb == json_type_int) {
            int64_t i, j;
            uint64_t u, v;
            bool ua, ub;
            zarrc__json_get_integer(x, &i, &u, &ua);
            zarrc__json_get_integer(y, &j, &v, &ub);
            return ua == ub && (ua ? u == v : i == j);
        }
        double d = json_object_get_double(x), e = json_object_get_double(y);
        return d == e || (isnan(d) && isnan(e));
    }
    if (ta != tb)
        return false;
    switch (ta) {
    case json_type_null:
        return true;
    case json_type_boolean:
        return json_object_get_boolean(x) == json_object_get_boolean(y);
    case json_type_string: {
        int n = json_object_get_string_len(x);
        return n == json_object_get_string_len(y) &&
               memcmp(json_object_get_string(x), json_object_get_string(y), (size_t)n) == 0;
    }
    case json_type_array: {
        size_t n = json_object_array_length(x);
        if (n != json_object_array_length(y))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!zarrc__json_equal(json_object_array_get_idx(x, i), json_object_array_get_idx(y, i), NULL))
                return false;
        return true;
    }
    case json_type_object: {
        size_t nx = 0, ny = 0;
        json_object_object_foreach(x, k, v) {
            if (ignore && !strcmp(k, ignore))
                continue;
            nx++;
            json_object *w;
            if (!json_object_object_get_ex(y, k, &w) || !zarrc__json_equal(v, w, NULL))
                return false;
        }
        json_object_object_foreach(y, k2, v2) {
            (void)v2;
            if (!ignore || strcmp(k2, ignore))
                ny++;
        }
        return nx == ny;
    }
    default:
        return false;
    }
}

/* An empty consolidated map, as zarr-python puts into descendant group entries. */
static json_object *empty_cm(void)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "kind", json_object_new_string("inline"));
    json_object_object_add(o, "must_understand", json_object_new_boolean(0));
    json_object_object_add(o, "metadata", json_object_new_object());
    return o;
}

/* ------------------------------------------------------------------------------------------ */
/* Reading one node                                                                            */
/* ------------------------------------------------------------------------------------------ */

static int read_doc(json_object **out, zarrc_store *s, const char *path, const char *name)
{
    char *key = zarrc__node_key(path, name);
    if (!key)
        return ZARRC_ENOMEM;
    int rc = zarrc__node_read_json(out, s, key);
    if (rc == ZARRC_OK && !json_object_is_type(*out, json_type_object)) {
        json_object_put(*out);
        *out = NULL;
        rc = zarrc_error_set(ZARRC_EINVAL, "%s: document must be a JSON object", key);
    }
    free(key);
    return rc;
}

/* Kind of a v3 document (or EINVAL naming `where`). */
static int v3_kind(zarrc_node_kind *kind, const json_object *doc, const char *where)
{
    json_object *nt = NULL, *zf = NULL;
    json_object_object_get_ex((json_object *)doc, "node_type", &nt);
    json_object_object_get_ex((json_object *)doc, "zarr_format", &zf);
    if (!json_object_is_type(zf, json_type_int) || json_object_get_int(zf) != 3)
        return zarrc_error_set(ZARRC_EINVAL, "%s: 'zarr_format' must be 3", where);
    const char *t = json_object_is_type(nt, json_type_string) ? json_object_get_string(nt) : "";
    if (!strcmp(t, "array"))
        *kind = ZARRC_NODE_ARRAY;
    else if (!strcmp(t, "group"))
        *kind = ZARRC_NODE_GROUP;
    else
        return zarrc_error_set(ZARRC_EINVAL, "%s: 'node_type' must be \"array\" or \"group\"", where);
    return ZARRC_OK;
}

int zarrc__mnode_read(zarrc__mnode *n, zarrc_store *s, const char *path, int format)
{
    memset(n, 0, sizeof *n);
    int rc;
    n->format = format;
    if (format == 3) {
        rc = read_doc(&n->doc, s, path, "zarr.json");
        if (rc == ZARRC_OK) {
            char *key = zarrc__node_key(path, "zarr.json");
            rc = key ? v3_kind(&n->kind, n->doc, key) : ZARRC_ENOMEM;
            free(key);
        }
    } else {
        n->kind = ZARRC_NODE_ARRAY;
        rc = read_doc(&n->doc, s, path, ".zarray");
        if (rc == ZARRC_ENOTFOUND) {
            n->kind = ZARRC_NODE_GROUP;
            rc = read_doc(&n->doc, s, path, ".zgroup");
        }
        if (rc == ZARRC_OK) {
            rc = read_doc(&n->attrs, s, path, ".zattrs");
            if (rc == ZARRC_ENOTFOUND)
                rc = ZARRC_OK;
        }
    }
    if (rc == ZARRC_OK && !(n->path = zarrc__strdup(path)))
        rc = ZARRC_ENOMEM;
    if (rc)
        zarrc__mnode_clear(n);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Walking a hierarchy (one level at a time, each level's reads on the pool)                   */
/* ------------------------------------------------------------------------------------------ */

typedef struct strv {
    char **v;
    size_t n, cap;
} strv;

static int strv_push(strv *l, char *s)
{
    if (!s)
        return ZARRC_ENOMEM;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **v = zarrc__realloc(l->v, cap * sizeof *v);
        if (!v) {
            free(s);
            return ZARRC_ENOMEM;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return ZARRC_OK;
}

static void strv_free(strv *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

typedef struct walk {
    zarrc_store *s;
    const char *base; /* store path of the top group */
    int format;
    strv level;       /* relative paths of the groups of the current level */
    strv *children;   /* per group of the level: child names */
    strv cands;       /* relative paths of candidate nodes of the next level */
    zarrc__mnode *found;
    zarrc__mnode *out; /* every node found (relative paths) */
    size_t nout, capout;
    zarrc_progress_cb progress; /* optional: called after each level with the nodes found */
    void *progress_ctx;
} walk;

typedef struct list_cb_ctx {
    strv *names;
    int format;
} list_cb_ctx;

static int collect_prefix(void *ctx, const char *name, int is_prefix)
{
    list_cb_ctx *c = ctx;
    if (!is_prefix)
        return 0;
    if (zarrc__node_reserved_name(c->format, name, strlen(name))) /* not nodes: as zarrc_group_list */
        return 0;
    return strv_push(c->names, zarrc__strdup(name));
}

static int walk_list_task(void *ctx, size_t i)
{
    walk *w = ctx;
    char *group = zarrc__node_join(w->base, w->level.v[i]);
    char *prefix = group ? (*group ? zarrc__sprintf("%s/", group) : zarrc__strdup("")) : NULL;
    list_cb_ctx c = {&w->children[i], w->format};
    int rc = prefix ? zarrc__store_list_dir(w->s, prefix, collect_prefix, &c) : ZARRC_ENOMEM;
    free(prefix);
    free(group);
    return rc;
}

static int walk_read_task(void *ctx, size_t i)
{
    walk *w = ctx;
    char *path = zarrc__node_join(w->base, w->cands.v[i]);
    if (!path)
        return ZARRC_ENOMEM;
    int rc = zarrc__mnode_read(&w->found[i], w->s, path, w->format);
    free(path);
    if (rc == ZARRC_ENOTFOUND) { /* a directory that is not a node (chunks, ...) */
        zarrc__error_clear();
        rc = ZARRC_OK;
    }
    return rc;
}

static void walk_free(walk *w)
{
    strv_free(&w->level);
    strv_free(&w->cands);
    for (size_t i = 0; i < w->nout; i++)
        zarrc__mnode_clear(&w->out[i]);
    free(w->out);
    free(w->children);
    free(w->found);
}

/* Find every node of `format` below the group at `base` (relative paths in w->out). */
static int walk_run_progress(walk *w, zarrc_store *s, const char *base, int format, zarrc_progress_cb cb,
                             void *cb_ctx)
{
    memset(w, 0, sizeof *w);
    w->progress = cb;
    w->progress_ctx = cb_ctx;
    w->s = s;
    w->base = base;
    w->format = format;
    int rc = strv_push(&w->level, zarrc__strdup(""));
    while (rc == ZARRC_OK && w->level.n > 0) {
        w->children = zarrc__calloc(w->level.n, sizeof *w->children);
        if (!w->children)
            return ZARRC_ENOMEM;
        rc = zarrc__pool_run(w->level.n, walk_list_task, w);
        for (size_t g = 0; g < w->level.n; g++) {
            for (size_t c = 0; c < w->children[g].n; c++)
                if (rc == ZARRC_OK)
                    rc = strv_push(&w->cands, zarrc__node_join(w->level.v[g], w->children[g].v[c]));
            strv_free(&w->children[g]);
        }
        free(w->children);
        w->children = NULL;
        strv_free(&w->level);
        if (rc)
            break;
        w->found = zarrc__calloc(w->cands.n ? w->cands.n : 1, sizeof *w->found);
        if (!w->found)
            return ZARRC_ENOMEM;
        rc = zarrc__pool_run(w->cands.n, walk_read_task, w);
        for (size_t i = 0; i < w->cands.n; i++) {
            zarrc__mnode *f = &w->found[i];
            if (rc == ZARRC_OK && f->doc) {
                if (f->kind == ZARRC_NODE_GROUP)
                    rc = strv_push(&w->level, zarrc__strdup(w->cands.v[i]));
                if (rc == ZARRC_OK && w->nout == w->capout) {
                    size_t cap = w->capout ? 2 * w->capout : 64;
                    zarrc__mnode *v = zarrc__realloc(w->out, cap * sizeof *v);
                    if (!v)
                        rc = ZARRC_ENOMEM;
                    else {
                        w->out = v;
                        w->capout = cap;
                    }
                }
                if (rc == ZARRC_OK) {
                    free(f->path); /* store path → relative path */
                    f->path = w->cands.v[i];
                    w->cands.v[i] = NULL;
                    w->out[w->nout++] = *f;
                    memset(f, 0, sizeof *f);
                }
            }
            zarrc__mnode_clear(f);
        }
        free(w->found);
        w->found = NULL;
        strv_free(&w->cands);
        if (rc == ZARRC_OK && w->progress && w->progress(w->progress_ctx, w->nout, 0))
            rc = zarrc_error_set(ZARRC_ECONFLICT, "cancelled");
    }
    return rc;
}

static int walk_run(walk *w, zarrc_store *s, const char *base, int format)
{
    return walk_run_progress(w, s, base, format, NULL, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Building the documents                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* The v3 entry for a node: its document, groups with an empty consolidated map. */
static json_object *v3_entry(const zarrc__mnode *n)
{
    json_object *d = zarrc__json_deep_copy(n->doc);
    if (d && n->kind == ZARRC_NODE_GROUP && n->format == 3)
        json_object_object_add(d, "consolidated_metadata", empty_cm());
    if (d && n->format == 2 && n->attrs) /* a v2 node in a v3 map carries its attributes */
        json_object_object_add(d, "attributes", zarrc__json_deep_copy(n->attrs));
    return d;
}

typedef struct kv {
    const char *key;
    json_object *val;
} kv;

static int cmp_kv_depth(const void *a, const void *b)
{
    return cmp_depth_name(((const kv *)a)->key, ((const kv *)b)->key);
}

static int cmp_kv_plain(const void *a, const void *b)
{
    return strcmp(((const kv *)a)->key, ((const kv *)b)->key);
}

/* A copy of object `o` with its members sorted (v3: depth then name; v2: by key). */
static json_object *sorted_object(json_object *o, int format)
{
    size_t n = (size_t)json_object_object_length(o), i = 0;
    kv *v = zarrc__malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return NULL;
    json_object_object_foreach(o, k, val) {
        v[i].key = k;
        v[i].val = val;
        i++;
    }
    zarrc__sort(v, n, sizeof *v, format == 3 ? cmp_kv_depth : cmp_kv_plain);
    json_object *r = json_object_new_object();
    for (i = 0; r && i < n; i++)
        json_object_object_add(r, v[i].key, json_object_get(v[i].val));
    free(v);
    return r;
}

/* v2 keys for one node at relative path `rel` ("" = the consolidated group itself). */
static char *v2_key(const char *rel, const char *name)
{
    return *rel ? zarrc__sprintf("%s/%s", rel, name) : zarrc__strdup(name);
}

static int v2_put_node(json_object *m, const zarrc__mnode *n, const char *rel)
{
    char *k = v2_key(rel, n->kind == ZARRC_NODE_ARRAY ? ".zarray" : ".zgroup");
    char *ka = v2_key(rel, ".zattrs");
    int rc = ZARRC_OK;
    if (!k || !ka)
        rc = ZARRC_ENOMEM;
    else {
        json_object_object_add(m, k, zarrc__json_deep_copy(n->doc));
        if (n->attrs)
            json_object_object_add(m, ka, zarrc__json_deep_copy(n->attrs));
    }
    free(k);
    free(ka);
    return rc;
}

/* Remove the v2 keys of the node at `rel` (and, if `subtree`, of everything below it). */
static int v2_remove(json_object *m, const char *rel, bool subtree)
{
    strv doomed = {0};
    int rc = ZARRC_OK;
    json_object_object_foreach(m, k, v) {
        (void)v;
        const char *slash = strrchr(k, '/');
        size_t nodelen = slash ? (size_t)(slash - k) : 0;
        size_t rl = strlen(rel);
        bool hit;
        if (subtree)
            hit = rl == 0 || (nodelen >= rl && !strncmp(k, rel, rl) && (nodelen == rl || k[rl] == '/'));
        else
            hit = nodelen == rl && !strncmp(k, rel, rl);
        if (hit && (rc = strv_push(&doomed, zarrc__strdup(k))))
            break;
    }
    for (size_t i = 0; rc == ZARRC_OK && i < doomed.n; i++)
        json_object_object_del(m, doomed.v[i]);
    strv_free(&doomed);
    return rc;
}

static int v3_remove(json_object *m, const char *rel)
{
    strv doomed = {0};
    int rc = ZARRC_OK;
    json_object_object_foreach(m, k, v) {
        (void)v;
        if (zarrc__path_below(k, rel) && (rc = strv_push(&doomed, zarrc__strdup(k))))
            break;
    }
    for (size_t i = 0; rc == ZARRC_OK && i < doomed.n; i++)
        json_object_object_del(m, doomed.v[i]);
    strv_free(&doomed);
    return rc;
}

static int write_v2_zmetadata(zarrc_store *s, const char *path, json_object *metadata)
{
    json_object *top = json_object_new_object();
    json_object_object_add(top, "metadata", metadata);
    json_object_object_add(top, "zarr_consolidated_format", json_object_new_int(1));
    char *key = zarrc__node_key(path, ZMETADATA);
    int rc = key ? zarrc__node_write_json(s, key, top) : ZARRC_ENOMEM;
    free(key);
    json_object_put(top);
    return rc;
}

static int write_v3_group(zarrc_store *s, const char *path, json_object *doc)
{
    char *key = zarrc__node_key(path, "zarr.json");
    int rc = key ? zarrc__node_write_json(s, key, doc) : ZARRC_ENOMEM;
    free(key);
    return rc;
}

/* Store the consolidated member into the v3 group document: a read-modify-write of the
 * current document (so that a concurrent attribute change is kept), which must still be a
 * group. */
typedef struct v3_cm_update {
    const char *key;
    json_object *metadata; /* borrowed */
} v3_cm_update;

static int put_v3_consolidated(void *ctx, const zarrc_buf *cur, zarrc_buf *out, int can_erase,
                               zarrc__update_action *act)
{
    (void)can_erase;
    v3_cm_update *u = ctx;
    json_object *doc = NULL, *nt = NULL;
    if (!cur)
        return zarrc_error_set(ZARRC_ENOTFOUND, "%s disappeared", u->key);
    int rc = zarrc__json_parse(&doc, (const char *)cur->data, cur->size, u->key);
    if (rc == ZARRC_OK && (!json_object_is_type(doc, json_type_object) ||
                           !json_object_object_get_ex(doc, "node_type", &nt) ||
                           strcmp(json_object_get_string(nt), "group")))
        rc = zarrc_error_set(ZARRC_ECONFLICT, "%s: no longer a group document", u->key);
    if (rc == ZARRC_OK) {
        json_object *cm = json_object_new_object();
        json_object_object_add(cm, "kind", json_object_new_string("inline"));
        json_object_object_add(cm, "must_understand", json_object_new_boolean(0));
        json_object_object_add(cm, "metadata", json_object_get(u->metadata));
        json_object_object_add(doc, "consolidated_metadata", cm);
        *act = ZARRC_UPDATE_SET;
        rc = zarrc__node_doc_text(out, doc);
    }
    json_object_put(doc);
    return rc;
}

static int write_v3_consolidated(zarrc_store *s, const char *path, const json_object *group_doc,
                                 json_object *metadata)
{
    (void)group_doc;
    char *key = zarrc__node_key(path, "zarr.json");
    v3_cm_update u = {key, metadata};
    int rc = key ? zarrc__store_update(s, key, ZARRC_UPDATE_DURABLE, put_v3_consolidated, &u) : ZARRC_ENOMEM;
    free(key);
    json_object_put(metadata);
    return rc;
}

/* The group at `path`: its stored metadata (any format), which must be a group. */
static int read_group(zarrc__mnode *g, zarrc_store *s, const char *path)
{
    zarrc_node_kind kind;
    int format;
    int rc = zarrc__node_find(&kind, &format, NULL, s, path);
    if (rc == ZARRC_ENOTFOUND)
        return zarrc_error_set(rc, "no group at '%s'", zarrc__node_display(s, path));
    if (rc)
        return rc;
    if (kind != ZARRC_NODE_GROUP)
        return zarrc_error_set(ZARRC_EINVAL, "'%s' is an array, not a group", zarrc__node_display(s, path));
    rc = zarrc__mnode_read(g, s, path, format);
    if (rc == ZARRC_ENOTFOUND)
        rc = zarrc_error_set(rc, "no group at '%s'", zarrc__node_display(s, path));
    return rc;
}

int zarrc_consolidate(zarrc_store *store, const char *path, size_t *count)
{
    return zarrc_consolidate_progress(store, path, count, NULL, NULL);
}

int zarrc_consolidate_progress(zarrc_store *store, const char *path, size_t *count, zarrc_progress_cb progress,
                               void *progress_ctx)
{
    zarrc__error_clear();
    char *p;
    int rc = zarrc__node_path(&p, path);
    if (rc)
        return rc;
    zarrc__mnode g;
    walk w;
    memset(&w, 0, sizeof w);
    rc = read_group(&g, store, p);
    if (rc) {
        rc = zarrc__error_context(rc, "consolidate '%s': ", zarrc__node_display(store, p));
        free(p);
        return rc;
    }
    rc = walk_run_progress(&w, store, p, g.format, progress, progress_ctx);
    json_object *m = rc ? NULL : json_object_new_object();
    if (rc == ZARRC_OK && g.format == 2) {
        rc = v2_put_node(m, &g, "");
        for (size_t i = 0; rc == ZARRC_OK && i < w.nout; i++)
            rc = v2_put_node(m, &w.out[i], w.out[i].path);
    } else if (rc == ZARRC_OK) {
        for (size_t i = 0; i < w.nout; i++)
            json_object_object_add(m, w.out[i].path, v3_entry(&w.out[i]));
    }
    if (rc == ZARRC_OK) {
        json_object *sorted = sorted_object(m, g.format);
        if (!sorted)
            rc = ZARRC_ENOMEM;
        else if (g.format == 2)
            rc = write_v2_zmetadata(store, p, sorted);
        else
            rc = write_v3_consolidated(store, p, g.doc, sorted);
    }
    json_object_put(m);
    if (rc == ZARRC_OK && count)
        *count = w.nout;
    if (rc)
        zarrc__error_context(rc, "consolidate '%s': ", zarrc__node_display(store, p));
    walk_free(&w);
    zarrc__mnode_clear(&g);
    free(p);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Loading a copy                                                                              */
/* ------------------------------------------------------------------------------------------ */

zarrc__cmeta *zarrc__cmeta_ref(zarrc__cmeta *c)
{
    if (c)
        __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
    return c;
}

void zarrc__cmeta_unref(zarrc__cmeta *c)
{
    if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (size_t i = 0; i < c->n; i++)
        zarrc__mnode_clear(&c->nodes[i]);
    free(c->nodes);
    free(c);
}

const zarrc__mnode *zarrc__cmeta_find(const zarrc__cmeta *c, const char *rel)
{
    zarrc__mnode key;
    key.path = (char *)rel;
    return zarrc__search(&key, c->nodes, c->n, sizeof *c->nodes, cmp_mnode_path);
}

static int cmeta_add(zarrc__cmeta *c, size_t *cap, zarrc__mnode **slot)
{
    if (c->n == *cap) {
        size_t ncap = *cap ? 2 * *cap : 16;
        zarrc__mnode *v = zarrc__realloc(c->nodes, ncap * sizeof *v);
        if (!v)
            return ZARRC_ENOMEM;
        c->nodes = v;
        *cap = ncap;
    }
    *slot = &c->nodes[c->n++];
    memset(*slot, 0, sizeof **slot);
    return ZARRC_OK;
}

/* A v2 document given in a copy: an object, or (older writers) a JSON text. */
static int v2_value(json_object **out, json_object *v, const char *where)
{
    if (json_object_is_type(v, json_type_string)) {
        const char *t = json_object_get_string(v);
        int rc = zarrc__json_parse(out, t, strlen(t), where);
        if (rc)
            return rc;
    } else
        *out = json_object_get(v);
    if (!json_object_is_type(*out, json_type_object)) {
        json_object_put(*out);
        *out = NULL;
        return zarrc_error_set(ZARRC_EINVAL, "%s: entry must be a JSON object", where);
    }
    return ZARRC_OK;
}

static int load_v2(zarrc__cmeta *c, zarrc_store *s, const char *path)
{
    json_object *top = NULL, *m = NULL, *fmt = NULL;
    char *key = zarrc__node_key(path, ZMETADATA);
    if (!key)
        return ZARRC_ENOMEM;
    int rc = zarrc__node_read_json(&top, s, key);
    if (rc == ZARRC_OK) {
        json_object_object_get_ex(top, "zarr_consolidated_format", &fmt);
        json_object_object_get_ex(top, "metadata", &m);
        if (!json_object_is_type(fmt, json_type_int) || json_object_get_int(fmt) != 1)
            rc = zarrc_error_set(ZARRC_EINVAL, "%s: 'zarr_consolidated_format' must be 1", key);
        else if (!json_object_is_type(m, json_type_object))
            rc = zarrc_error_set(ZARRC_EINVAL, "%s: 'metadata' must be an object", key);
    }
    size_t cap = 0;
    /* Pass 1: nodes (.zarray / .zgroup); pass 2: attach .zattrs. */
    for (int pass = 0; rc == ZARRC_OK && pass < 2; pass++) {
        if (pass == 1)
            zarrc__sort(c->nodes, c->n, sizeof *c->nodes, cmp_mnode_path);
        json_object_object_foreach(m, k, v) {
            const char *slash = strrchr(k, '/');
            const char *name = slash ? slash + 1 : k;
            size_t rl = slash ? (size_t)(slash - k) : 0;
            bool arr = !strcmp(name, ".zarray"), grp = !strcmp(name, ".zgroup"), att = !strcmp(name, ".zattrs");
            if (rl == 0 || (pass == 0 && !arr && !grp) || (pass == 1 && !att))
                continue; /* the group itself, or another key */
            char *rel = zarrc__sprintf("%.*s", (int)rl, k);
            if (!rel) {
                rc = ZARRC_ENOMEM;
                break;
            }
            if (pass == 0) {
                zarrc__mnode *n;
                const zarrc__mnode *dup = NULL;
                for (size_t i = 0; i < c->n && !dup; i++) /* .zarray and .zgroup both: invalid */
                    if (!strcmp(c->nodes[i].path, rel))
                        dup = &c->nodes[i];
                if (dup) {
                    rc = zarrc_error_set(ZARRC_EINVAL, "%s: '%s' is both an array and a group", key, rel);
                    free(rel);
                } else if ((rc = cmeta_add(c, &cap, &n)) == ZARRC_OK) {
                    n->path = rel;
                    n->kind = arr ? ZARRC_NODE_ARRAY : ZARRC_NODE_GROUP;
                    n->format = 2;
                    rc = v2_value(&n->doc, v, key);
                } else
                    free(rel);
            } else {
                zarrc__mnode *n = (zarrc__mnode *)zarrc__cmeta_find(c, rel);
                if (n)
                    rc = v2_value(&n->attrs, v, key);
                free(rel);
            }
            if (rc)
                break;
        }
    }
    json_object_put(top);
    free(key);
    return rc;
}

static int load_v3(zarrc__cmeta *c, const char *path, const json_object *doc)
{
    json_object *cm = NULL, *kind = NULL, *m = NULL;
    json_object_object_get_ex((json_object *)doc, "consolidated_metadata", &cm);
    if (!cm)
        return ZARRC_ENOTFOUND;
    char *where = zarrc__node_key(path, "zarr.json");
    if (!where)
        return ZARRC_ENOMEM;
    int rc = ZARRC_OK;
    json_object_object_get_ex(cm, "kind", &kind);
    json_object_object_get_ex(cm, "metadata", &m);
    if (!json_object_is_type(cm, json_type_object))
        rc = zarrc_error_set(ZARRC_EINVAL, "%s: 'consolidated_metadata' must be an object", where);
    else if (!json_object_is_type(kind, json_type_string) || strcmp(json_object_get_string(kind), "inline"))
        rc = zarrc_error_set(ZARRC_EINVAL, "%s: consolidated metadata 'kind' must be \"inline\"", where);
    else if (!json_object_is_type(m, json_type_object))
        rc = zarrc_error_set(ZARRC_EINVAL, "%s: consolidated 'metadata' must be an object", where);
    size_t cap = 0;
    if (rc == ZARRC_OK) {
        json_object_object_foreach(m, k, v) {
            zarrc__mnode *n;
            char *rel = NULL;
            if ((rc = zarrc__node_path(&rel, k)))
                break;
            if (!*rel || !json_object_is_type(v, json_type_object)) {
                rc = zarrc_error_set(ZARRC_EINVAL, "%s: consolidated entry '%s' is invalid", where, k);
                free(rel);
                break;
            }
            if ((rc = cmeta_add(c, &cap, &n))) {
                free(rel);
                break;
            }
            n->path = rel;
            json_object *zf = NULL;
            json_object_object_get_ex(v, "zarr_format", &zf);
            if (json_object_is_type(zf, json_type_int) && json_object_get_int(zf) == 2) {
                /* A v2 node in a v3 map (zarr-python 3, mixed hierarchies). */
                json_object *attrs = NULL;
                n->format = 2;
                n->kind = json_object_object_get_ex(v, "shape", NULL) ? ZARRC_NODE_ARRAY : ZARRC_NODE_GROUP;
                n->doc = zarrc__json_deep_copy(v);
                if (n->doc && json_object_object_get_ex(n->doc, "attributes", &attrs)) {
                    n->attrs = json_object_get(attrs);
                    json_object_object_del(n->doc, "attributes");
                }
            } else {
                char *w = zarrc__sprintf("%s: consolidated entry '%s'", where, k);
                n->format = 3;
                rc = w ? v3_kind(&n->kind, v, w) : ZARRC_ENOMEM;
                free(w);
                n->doc = zarrc__json_deep_copy(v);
            }
            if (rc == ZARRC_OK && !n->doc)
                rc = ZARRC_ENOMEM;
            if (rc)
                break;
        }
    }
    free(where);
    return rc;
}

int zarrc__cmeta_load(zarrc__cmeta **out, zarrc_store *s, const char *path, int format,
                      const json_object *doc)
{
    *out = NULL;
    zarrc__cmeta *c = zarrc__calloc(1, sizeof *c);
    if (!c)
        return ZARRC_ENOMEM;
    c->refs = 1;
    c->format = format;
    int rc = format == 2 ? load_v2(c, s, path) : load_v3(c, path, doc);
    if (rc == ZARRC_OK) {
        zarrc__sort(c->nodes, c->n, sizeof *c->nodes, cmp_mnode_path);
        for (size_t i = 1; i < c->n; i++)
            if (!strcmp(c->nodes[i - 1].path, c->nodes[i].path))
                rc = zarrc_error_set(ZARRC_EINVAL, "consolidated metadata of '%s': '%s' is listed twice",
                                     zarrc__node_display(s, path), c->nodes[i].path);
    }
    if (rc) {
        zarrc__cmeta_unref(c);
        return rc;
    }
    *out = c;
    return ZARRC_OK;
}

int zarrc__cmeta_present(bool *present, zarrc_store *s, const char *path, int format,
                         const json_object *doc)
{
    *present = false;
    if (format == 3) {
        json_object *cm = NULL;
        *present = json_object_object_get_ex((json_object *)doc, "consolidated_metadata", &cm) &&
                   json_object_is_type(cm, json_type_object);
        return ZARRC_OK;
    }
    char *key = zarrc__node_key(path, ZMETADATA);
    if (!key)
        return ZARRC_ENOMEM;
    uint64_t size;
    int rc = s->type->size ? s->type->size(s->state, key, &size) : ZARRC_EUNSUPPORTED;
    if (rc == ZARRC_EUNSUPPORTED) { /* no size operation: read it */
        zarrc_buf b = ZARRC_BUF_INIT;
        zarrc__error_clear();
        rc = zarrc__store_get(s, key, 0, -1, &b);
        zarrc_buf_release(&b);
    }
    free(key);
    if (rc == ZARRC_OK)
        *present = true;
    else if (rc == ZARRC_ENOTFOUND) {
        zarrc__error_clear();
        rc = ZARRC_OK;
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Patching a copy                                                                             */
/* ------------------------------------------------------------------------------------------ */

static int cmeta_patch_locked(zarrc_store *s, const char *holder, int format, const zarrc__mnode *updates,
                              size_t nupdates, char *const *erased, size_t nerased);

/* Patching a copy reads and rewrites the holder's document: under that key's lock, so that
 * concurrent patches and attribute changes of the holder keep each other's changes. */
int zarrc__cmeta_patch(zarrc_store *s, const char *holder, int format, const zarrc__mnode *updates,
                       size_t nupdates, char *const *erased, size_t nerased)
{
    char *key = zarrc__node_key(holder, format == 2 ? ZMETADATA : "zarr.json");
    void *lk = NULL;
    int rc = key ? zarrc__store_lock(s, key, &lk) : ZARRC_ENOMEM;
    if (rc == ZARRC_OK)
        rc = cmeta_patch_locked(s, holder, format, updates, nupdates, erased, nerased);
    zarrc__store_unlock(s, lk);
    free(key);
    return rc;
}

static int cmeta_patch_locked(zarrc_store *s, const char *holder, int format, const zarrc__mnode *updates,
                              size_t nupdates, char *const *erased, size_t nerased)
{
    zarrc__mnode g;
    json_object *top = NULL, *m = NULL;
    int rc = zarrc__mnode_read(&g, s, holder, format);
    if (rc == ZARRC_ENOTFOUND)
        return zarrc_error_set(rc, "consolidated group '%s' is gone", zarrc__node_display(s, holder));
    if (rc)
        return rc;
    if (format == 2) {
        char *key = zarrc__node_key(holder, ZMETADATA);
        rc = key ? zarrc__node_read_json(&top, s, key) : ZARRC_ENOMEM;
        if (rc == ZARRC_OK && (!json_object_object_get_ex(top, "metadata", &m) ||
                               !json_object_is_type(m, json_type_object)))
            rc = zarrc_error_set(ZARRC_EINVAL, "%s: 'metadata' must be an object", key);
        free(key);
    } else {
        json_object *cm = NULL;
        if (!json_object_object_get_ex(g.doc, "consolidated_metadata", &cm) ||
            !json_object_object_get_ex(cm, "metadata", &m) || !json_object_is_type(m, json_type_object))
            rc = zarrc_error_set(ZARRC_EINVAL, "group '%s' has no usable consolidated metadata", zarrc__node_display(s, holder));
    }
    for (size_t i = 0; rc == ZARRC_OK && i < nerased; i++) {
        const char *rel = zarrc__path_below(erased[i], holder);
        if (!rel)
            continue;
        rc = format == 2 ? v2_remove(m, rel, true) : v3_remove(m, rel);
    }
    for (size_t i = 0; rc == ZARRC_OK && i < nupdates; i++) {
        const char *rel = zarrc__path_below(updates[i].path, holder);
        if (!rel)
            continue;
        if (format == 2) {
            rc = v2_remove(m, rel, false);
            if (rc == ZARRC_OK)
                rc = v2_put_node(m, &updates[i], rel);
        } else if (*rel) {
            json_object *e = v3_entry(&updates[i]);
            if (!e)
                rc = ZARRC_ENOMEM;
            else
                json_object_object_add(m, rel, e);
        }
    }
    json_object *sorted = rc ? NULL : sorted_object(m, format);
    if (rc == ZARRC_OK && !sorted)
        rc = ZARRC_ENOMEM;
    if (rc == ZARRC_OK && format == 2)
        rc = write_v2_zmetadata(s, holder, sorted);
    else if (rc == ZARRC_OK) {
        json_object *cm = NULL;
        json_object_object_get_ex(g.doc, "consolidated_metadata", &cm);
        json_object_object_add(cm, "metadata", sorted);
        rc = write_v3_group(s, holder, g.doc);
    }
    json_object_put(top);
    zarrc__mnode_clear(&g);
    if (rc)
        zarrc__error_context(rc, "updating the consolidated metadata of '%s': ", zarrc__node_display(s, holder));
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Holders, update, check                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* Groups holding a consolidated copy that includes node `p` (format `fmt`, 0 = unknown). */
static int find_holders(zarrc_stale_list *out, int *holder_formats, size_t maxh, zarrc_store *s,
                        const char *p, int fmt)
{
    size_t n = strlen(p);
    char *a = zarrc__malloc(n + 1);
    if (!a)
        return ZARRC_ENOMEM;
    int rc = ZARRC_OK;
    for (size_t i = 0; rc == ZARRC_OK && i <= n; i++) {
        if (i != 0 && i != n && p[i] != '/')
            continue;
        if (i == 0 && n != 0 && p[0] == '/')
            continue;
        memcpy(a, p, i);
        a[i] = '\0';
        zarrc_node_kind kind;
        int f;
        json_object *doc = NULL;
        rc = zarrc__node_find(&kind, &f, &doc, s, a);
        if (rc == ZARRC_ENOTFOUND) {
            zarrc__error_clear();
            rc = ZARRC_OK;
            continue;
        }
        bool self = i == n, present = false;
        if (rc == ZARRC_OK && kind == ZARRC_NODE_GROUP && (fmt == 0 || f == fmt) && (!self || f == 2))
            rc = zarrc__cmeta_present(&present, s, a, f, doc);
        json_object_put(doc);
        if (rc == ZARRC_OK && present) {
            if (out->count < maxh)
                holder_formats[out->count] = f;
            rc = zarrc__stale_add(out, a);
        }
        if (i == n)
            break;
    }
    free(a);
    return rc;
}

int zarrc_consolidated_holders(zarrc_stale_list *out, zarrc_store *store, const char *path)
{
    zarrc__error_clear();
    zarrc_stale_list_clear(out);
    char *p;
    int rc = zarrc__node_path(&p, path);
    if (rc)
        return rc;
    zarrc_node_kind kind;
    int fmt = 0;
    rc = zarrc__node_find(&kind, &fmt, NULL, store, p);
    if (rc == ZARRC_ENOTFOUND) {
        zarrc__error_clear();
        fmt = 0;
        rc = ZARRC_OK;
    }
    int dummy[1];
    if (rc == ZARRC_OK)
        rc = find_holders(out, dummy, 0, store, p, fmt);
    if (rc)
        zarrc_stale_list_clear(out);
    free(p);
    return rc;
}

/* Refresh the entries of node `p` (and of its subtree when `subtree`, or when it is gone) in
 * holder `h` of format `f`. */
static int refresh_holder(zarrc_store *store, const char *p, const char *h, int f, bool subtree)
{
    zarrc__mnode self;
    walk w;
    memset(&w, 0, sizeof w);
    size_t nup = 0;
    zarrc__mnode *up = NULL;
    bool gone = false;
    int rc = zarrc__mnode_read(&self, store, p, f);
    if (rc == ZARRC_OK) {
        if (subtree && self.kind == ZARRC_NODE_GROUP)
            rc = walk_run(&w, store, p, f);
        up = rc ? NULL : zarrc__calloc(w.nout + 1, sizeof *up);
        if (rc == ZARRC_OK && !up)
            rc = ZARRC_ENOMEM;
        if (rc == ZARRC_OK) {
            up[nup++] = self; /* up[0] owns the node's metadata from here on */
            memset(&self, 0, sizeof self);
            for (size_t i = 0; i < w.nout; i++) { /* relative → store paths, docs borrowed */
                zarrc__mnode n = w.out[i];
                if (!(n.path = zarrc__node_join(p, w.out[i].path))) {
                    rc = ZARRC_ENOMEM;
                    break;
                }
                up[nup++] = n;
            }
        }
    } else if (rc == ZARRC_ENOTFOUND) {
        zarrc__error_clear();
        memset(&self, 0, sizeof self);
        gone = true;
        rc = ZARRC_OK;
    }
    char *erase[1] = {(char *)p};
    if (rc == ZARRC_OK)
        rc = zarrc__cmeta_patch(store, h, f, up, nup, erase, subtree || gone ? 1 : 0);
    if (up) {
        zarrc__mnode_clear(&up[0]);
        for (size_t i = 1; i < nup; i++)
            free(up[i].path);
    }
    free(up);
    zarrc__mnode_clear(&self);
    walk_free(&w);
    return rc;
}

int zarrc__consolidated_after_change(zarrc_store *s, const char *p, bool update, bool subtree,
                                     zarrc_stale_list *stale)
{
    if (!update && !stale)
        return ZARRC_OK;
    zarrc_node_kind kind;
    int fmt = 0;
    int rc = zarrc__node_find(&kind, &fmt, NULL, s, p);
    if (rc == ZARRC_ENOTFOUND) {
        zarrc__error_clear();
        fmt = 0;
        rc = ZARRC_OK;
    }
    zarrc_stale_list holders = {0};
    int hfmt[64] = {0};
    if (rc == ZARRC_OK)
        rc = find_holders(&holders, hfmt, 64, s, p, fmt);
    for (size_t h = 0; rc == ZARRC_OK && h < holders.count; h++) {
        if (update)
            rc = refresh_holder(s, p, holders.paths[h], h < 64 ? hfmt[h] : fmt, subtree);
        else
            rc = zarrc__stale_add(stale, holders.paths[h]);
    }
    zarrc_stale_list_clear(&holders);
    return rc;
}

int zarrc_consolidated_update(zarrc_store *store, const char *path)
{
    zarrc__error_clear();
    char *p;
    int rc = zarrc__node_path(&p, path);
    if (rc)
        return rc;
    rc = zarrc__consolidated_after_change(store, p, true, true, NULL);
    if (rc)
        zarrc__error_context(rc, "update consolidated metadata for '%s': ", zarrc__node_display(store, p));
    free(p);
    return rc;
}

typedef struct check_ctx {
    zarrc_consolidated_diff_cb cb;
    void *ctx;
    size_t n;
} check_ctx;

static int report_diff(check_ctx *c, const char *rel, zarrc_consolidated_diff kind, const char *what)
{
    c->n++;
    return c->cb ? c->cb(c->ctx, rel, kind, what) : 0;
}

/* Compare one stored node with its copy. */
static int compare_node(check_ctx *c, const zarrc__mnode *stored, const zarrc__mnode *copy)
{
    const char *rel = stored->path;
    if (stored->kind != copy->kind)
        return report_diff(c, rel, ZARRC_CONSOLIDATED_DIFFERENT,
                           stored->kind == ZARRC_NODE_ARRAY ? "stored as an array, a group in the copy"
                                                            : "stored as a group, an array in the copy");
    if (stored->format != copy->format)
        return report_diff(c, rel, ZARRC_CONSOLIDATED_DIFFERENT, "zarr_format differs");
    bool meta_same, attrs_same;
    if (stored->format == 3) {
        json_object *a = NULL, *b = NULL;
        json_object_object_get_ex(stored->doc, "attributes", &a);
        json_object_object_get_ex(copy->doc, "attributes", &b);
        attrs_same = zarrc__json_equal(a ? a : NULL, b ? b : NULL, NULL) ||
                     ((!a || !json_object_object_length(a)) && (!b || !json_object_object_length(b)));
        /* Compare the rest without attributes or the (emptied) consolidated map. */
        json_object *x = zarrc__json_deep_copy(stored->doc), *y = zarrc__json_deep_copy(copy->doc);
        if (!x || !y) {
            json_object_put(x);
            json_object_put(y);
            return ZARRC_ENOMEM;
        }
        json_object_object_del(x, "attributes");
        json_object_object_del(y, "attributes");
        meta_same = zarrc__json_equal(x, y, stored->kind == ZARRC_NODE_GROUP ? "consolidated_metadata" : NULL);
        json_object_put(x);
        json_object_put(y);
    } else {
        /* zarr-python 3 copies v2 groups with an (empty, v3-style) consolidated map */
        meta_same = zarrc__json_equal(stored->doc, copy->doc,
                                      stored->kind == ZARRC_NODE_GROUP ? "consolidated_metadata" : NULL);
        json_object *a = stored->attrs, *b = copy->attrs;
        attrs_same = (a && b) ? zarrc__json_equal(a, b, NULL)
                              : (!a || !json_object_object_length(a)) && (!b || !json_object_object_length(b));
    }
    if (!meta_same && !attrs_same)
        return report_diff(c, rel, ZARRC_CONSOLIDATED_DIFFERENT, "metadata and attributes differ");
    if (!meta_same)
        return report_diff(c, rel, ZARRC_CONSOLIDATED_DIFFERENT, "metadata differs");
    if (!attrs_same)
        return report_diff(c, rel, ZARRC_CONSOLIDATED_DIFFERENT, "attributes differ");
    return ZARRC_OK;
}

/* The v2 group's own entries (".zgroup", ".zattrs") of its .zmetadata. */
static int v2_self_copy(zarrc__mnode *self, zarrc_store *s, const char *path)
{
    json_object *top = NULL, *m = NULL, *v;
    char *key = zarrc__node_key(path, ZMETADATA);
    int rc = key ? zarrc__node_read_json(&top, s, key) : ZARRC_ENOMEM;
    memset(self, 0, sizeof *self);
    self->kind = ZARRC_NODE_GROUP;
    self->format = 2;
    if (rc == ZARRC_OK && json_object_object_get_ex(top, "metadata", &m)) {
        if (json_object_object_get_ex(m, ".zgroup", &v))
            rc = v2_value(&self->doc, v, key);
        if (rc == ZARRC_OK && json_object_object_get_ex(m, ".zattrs", &v))
            rc = v2_value(&self->attrs, v, key);
    }
    json_object_put(top);
    free(key);
    return rc;
}

int zarrc_consolidated_check(zarrc_store *store, const char *path, zarrc_consolidated_diff_cb cb,
                             void *ctx, size_t *ndiff)
{
    zarrc__error_clear();
    char *p;
    int rc = zarrc__node_path(&p, path);
    if (rc)
        return rc;
    zarrc__mnode g, self;
    zarrc__cmeta *copy = NULL;
    walk w;
    memset(&w, 0, sizeof w);
    memset(&self, 0, sizeof self);
    check_ctx c = {cb, ctx, 0};
    rc = read_group(&g, store, p);
    if (rc) {
        rc = zarrc__error_context(rc, "check consolidated metadata of '%s': ", zarrc__node_display(store, p));
        free(p);
        return rc;
    }
    rc = zarrc__cmeta_load(&copy, store, p, g.format, g.doc);
    if (rc == ZARRC_ENOTFOUND)
        rc = zarrc_error_set(rc, "group '%s' has no consolidated metadata", zarrc__node_display(store, p));
    if (rc == ZARRC_OK && g.format == 2)
        rc = v2_self_copy(&self, store, p);
    if (rc == ZARRC_OK && g.format == 2) {
        free(g.path);
        g.path = zarrc__strdup("");
        if (!g.path)
            rc = ZARRC_ENOMEM;
        else if (!self.doc)
            rc = report_diff(&c, "", ZARRC_CONSOLIDATED_MISSING, "the group's own .zgroup is not in the copy");
        else
            rc = compare_node(&c, &g, &self);
    }
    if (rc == ZARRC_OK)
        rc = walk_run(&w, store, p, g.format);
    if (rc == ZARRC_OK)
        zarrc__sort(w.out, w.nout, sizeof *w.out, cmp_mnode_path);
    /* Merge the two sorted lists. */
    size_t i = 0, j = 0;
    while (rc == ZARRC_OK && (i < w.nout || j < copy->n)) {
        int order = i == w.nout ? 1 : j == copy->n ? -1 : strcmp(w.out[i].path, copy->nodes[j].path);
        if (order < 0)
            rc = report_diff(&c, w.out[i++].path, ZARRC_CONSOLIDATED_MISSING, "stored, not in the copy");
        else if (order > 0)
            rc = report_diff(&c, copy->nodes[j++].path, ZARRC_CONSOLIDATED_EXTRA, "in the copy, no longer stored");
        else
            rc = compare_node(&c, &w.out[i++], &copy->nodes[j++]);
    }
    if (rc == ZARRC_OK && ndiff)
        *ndiff = c.n;
    if (rc < 0)
        zarrc__error_context(rc, "check consolidated metadata of '%s': ", zarrc__node_display(store, p));
    zarrc__cmeta_unref(copy);
    zarrc__mnode_clear(&self);
    zarrc__mnode_clear(&g);
    walk_free(&w);
    free(p);
    return rc;
}
