/*
 * erase.c — what belongs to a node, and removing it (overwrite and delete).
 *
 * A node owns its metadata documents, the chunk keys of its own grid (keys that parse as chunk
 * keys of its chunk key encoding), its child nodes recursively, and zarrc's internal files
 * (basenames starting with ".zarrc-"). Everything else under its prefix is foreign: a plan
 * that finds foreign keys fails, naming the first few, before anything is deleted — unless the
 * caller forces it. A plan erases data first (chunks, internal files, deepest nodes first) and
 * metadata last (each node's main document, then its attributes and consolidated copy; the
 * node's own at the very end), so that a crash at any point leaves either the old node
 * (possibly with fewer chunks, which read as fill) or no node: never old chunks without their
 * metadata, never a node that lost its attributes.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hierarchy.h"
#include "node.h"

#define FOREIGN_SHOWN 4

bool zarrc__node_meta_name(const char *s, size_t len)
{
    static const char *const names[] = {"zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == len && !strncmp(s, names[i], len))
            return true;
    return false;
}

bool zarrc__node_internal_key(const char *key)
{
    const char *base = strrchr(key, '/');
    base = base ? base + 1 : key;
    return !strncmp(base, ZARRC__INTERNAL_MARK, strlen(ZARRC__INTERNAL_MARK));
}

bool zarrc__node_reserved_name(int format, const char *name, size_t len)
{
    return format == 3 && len >= 2 && name[0] == '_' && name[1] == '_';
}

/* A canonical non-negative decimal (no sign, no leading zeros) at *s; advances *s. */
static bool parse_index(const char **s, int64_t *out)
{
    const char *p = *s;
    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
        return false;
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (uint64_t)(INT64_MAX - (*p - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = (int64_t)v;
    *s = p;
    return true;
}

bool zarrc__node_parse_chunk_key(const zarrc__array_meta *m, const char *key, int64_t *idx)
{
    const char *s = key;
    int64_t v;
    if (m->key_c_prefix) {
        if (*s++ != 'c')
            return false;
        for (int d = 0; d < m->ndim; d++) {
            if (*s++ != m->separator || !parse_index(&s, &v))
                return false;
            if (idx)
                idx[d] = v;
        }
        return *s == '\0';
    }
    if (m->ndim == 0)
        return !strcmp(s, "0");
    for (int d = 0; d < m->ndim; d++) {
        if ((d && *s++ != m->separator) || !parse_index(&s, &v))
            return false;
        if (idx)
            idx[d] = v;
    }
    return *s == '\0';
}

/* ------------------------------------------------------------------------------------------ */
/* Plans                                                                                       */
/* ------------------------------------------------------------------------------------------ */

typedef struct keyv {
    char **v;
    size_t n, cap;
} keyv;

static int keyv_push(keyv *k, char *s)
{
    if (!s)
        return ZARRC_ENOMEM;
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 64;
        char **v = zarrc__realloc(k->v, cap * sizeof *v);
        if (!v) {
            free(s);
            return ZARRC_ENOMEM;
        }
        k->v = v;
        k->cap = cap;
    }
    k->v[k->n++] = s;
    return ZARRC_OK;
}

static void keyv_clear(keyv *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i]);
    free(k->v);
    memset(k, 0, sizeof *k);
}

struct zarrc__erase_plan {
    zarrc_store *s;
    char *path;       /* the node's store path */
    char *prefix;     /* "" or "path/" */
    bool force;
    keyv listed;      /* keys below the prefix, relative to it, sorted */
    keyv data;        /* full keys erased first */
    keyv meta;        /* full keys of metadata documents, erased in this order, last */
    size_t nforeign;
    char *foreign[FOREIGN_SHOWN];
};

void zarrc__erase_plan_free(zarrc__erase_plan *p)
{
    if (!p)
        return;
    keyv_clear(&p->listed);
    keyv_clear(&p->data);
    keyv_clear(&p->meta);
    for (size_t i = 0; i < FOREIGN_SHOWN && i < p->nforeign; i++)
        free(p->foreign[i]);
    free(p->path);
    free(p->prefix);
    free(p);
}

static int collect_key(void *ctx, const char *name, int is_prefix)
{
    zarrc__erase_plan *p = ctx;
    if (is_prefix)
        return 0;
    size_t pl = strlen(p->prefix);
    if (strncmp(name, p->prefix, pl))
        return 0;
    return keyv_push(&p->listed, zarrc__strdup(name + pl));
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The full key of a relative one. */
static char *full_key(const zarrc__erase_plan *p, const char *rel) { return zarrc__sprintf("%s%s", p->prefix, rel); }

static int add_data(zarrc__erase_plan *p, const char *rel) { return keyv_push(&p->data, full_key(p, rel)); }

static int add_foreign(zarrc__erase_plan *p, const char *rel)
{
    if (p->force)
        return add_data(p, rel);
    if (p->nforeign < FOREIGN_SHOWN && !(p->foreign[p->nforeign] = full_key(p, rel)))
        return ZARRC_ENOMEM;
    p->nforeign++;
    return ZARRC_OK;
}

/* What a node is, for classifying its keys. */
typedef struct node_info {
    zarrc_node_kind kind; /* 0: not a node */
    int format;
    bool pending;         /* an array known from its pending document only */
    bool have_meta;       /* meta is parsed (arrays) */
    zarrc__array_meta meta;
} node_info;

static void info_clear(node_info *ni)
{
    if (ni->have_meta)
        zarrc__meta_clear(&ni->meta);
    memset(ni, 0, sizeof *ni);
}

/* Find out what the node at store path `path` is (no node: kind 0). */
static int info_load(node_info *ni, zarrc_store *s, const char *path)
{
    memset(ni, 0, sizeof *ni);
    json_object *doc = NULL;
    int rc = zarrc__node_find(&ni->kind, &ni->format, &doc, s, path);
    if (rc == ZARRC_ENOTFOUND) {
        zarrc__error_clear();
        ni->kind = 0;
        json_object *rec = NULL;
        rc = zarrc__pending_read(&rec, s, path);
        if (rc == ZARRC_ENOTFOUND) {
            zarrc__error_clear();
            return ZARRC_OK;
        }
        if (rc)
            return rc;
        json_object *zf = NULL, *md = NULL;
        json_object_object_get_ex(rec, "zarr_format", &zf);
        json_object_object_get_ex(rec, "metadata", &md);
        ni->kind = ZARRC_NODE_ARRAY;
        ni->pending = true;
        ni->format = json_object_get_int(zf);
        doc = json_object_get(md);
        json_object_put(rec);
    }
    if (rc == ZARRC_OK && ni->kind == ZARRC_NODE_ARRAY) {
        rc = ni->format == 3 ? zarrc__meta_parse_v3(&ni->meta, doc) : zarrc__meta_parse_v2(&ni->meta, doc, NULL);
        if (rc == ZARRC_OK)
            ni->have_meta = true;
        else
            zarrc__error_context(rc, "cannot tell which keys belong to array '%s' (its metadata is unreadable; "
                                     "nothing deleted): ", zarrc__node_display(s, path));
    }
    json_object_put(doc);
    return rc;
}

/* Metadata documents of the node at relative prefix `rel`, in erase order: the pending
 * document (an incomplete array), the main document (after which the node is gone), then the
 * secondary documents, which are invisible without it (a v2 create erases a leftover .zattrs
 * before writing its node). Removing .zattrs first would leave a node without its attributes
 * when interrupted. */
static int add_meta(zarrc__erase_plan *p, const char *rel, bool pending)
{
    static const char *const order[] = {ZARRC__PENDING_NAME, ".zarray", ".zgroup", "zarr.json", ".zmetadata",
                                        ".zattrs"};
    int rc = ZARRC_OK;
    for (size_t i = 0; rc == ZARRC_OK && i < sizeof order / sizeof order[0]; i++) {
        char *r = zarrc__sprintf("%s%s", rel, order[i]);
        if (!r)
            return ZARRC_ENOMEM;
        bool listed = zarrc__search(&r, p->listed.v, p->listed.n, sizeof *p->listed.v, cmp_str) != NULL;
        if (listed || (pending && !strcmp(order[i], ZARRC__PENDING_NAME)))
            rc = keyv_push(&p->meta, full_key(p, r));
        free(r);
    }
    return rc;
}

/* Classify the relative keys [lo, hi), all below the relative prefix `rel` ("" or "a/b/"),
 * of the node described by `ni`. `chunks_of`: for a location that is not a node, the
 * metadata of the array about to be created there (its chunk keys belong), or NULL. Child
 * nodes are classified recursively, their metadata queued before their parent's. */
static int classify(zarrc__erase_plan *p, const char *rel, size_t lo, size_t hi, const node_info *ni,
                    const zarrc__array_meta *chunks_of)
{
    size_t rl = strlen(rel);
    const zarrc__array_meta *am = ni->have_meta ? &ni->meta : ni->kind ? NULL : chunks_of;
    int rc = ZARRC_OK;
    for (size_t i = lo; rc == ZARRC_OK && i < hi;) {
        const char *r = p->listed.v[i] + rl, *slash = strchr(r, '/');
        if (ni->kind != ZARRC_NODE_GROUP || !slash) {
            if (!slash && (zarrc__node_meta_name(r, strlen(r)) || (ni->pending && !strcmp(r, ZARRC__PENDING_NAME))))
                ; /* queued by add_meta */
            else if (zarrc__node_internal_key(r) || (am && zarrc__node_parse_chunk_key(am, r, NULL)))
                rc = add_data(p, p->listed.v[i]);
            else
                rc = add_foreign(p, p->listed.v[i]);
            i++;
            continue;
        }
        /* A group's sub-prefix: the run of keys [i, j) below rel + segment + '/'. */
        size_t sl = (size_t)(slash - r), j = i;
        while (j < hi && !strncmp(p->listed.v[j] + rl, r, sl + 1))
            j++;
        char *sub = zarrc__sprintf("%.*s", (int)(rl + sl + 1), p->listed.v[i]);
        char *cpath = sub ? zarrc__sprintf("%s%.*s", p->prefix, (int)(rl + sl), sub) : NULL;
        node_info ci;
        memset(&ci, 0, sizeof ci);
        if (!cpath)
            rc = ZARRC_ENOMEM;
        else if (!zarrc__node_reserved_name(ni->format, r, sl))
            rc = info_load(&ci, p->s, cpath);
        if (rc == ZARRC_OK && ci.kind) {
            rc = classify(p, sub, i, j, &ci, NULL);
            if (rc == ZARRC_OK)
                rc = add_meta(p, sub, ci.pending);
        } else
            for (size_t k = i; rc == ZARRC_OK && k < j; k++)
                rc = zarrc__node_internal_key(p->listed.v[k]) ? add_data(p, p->listed.v[k])
                                                              : add_foreign(p, p->listed.v[k]);
        info_clear(&ci);
        free(sub);
        free(cpath);
        i = j;
    }
    return rc;
}

int zarrc__erase_plan_make(zarrc__erase_plan **out, zarrc_store *s, const char *path, unsigned flags,
                           const zarrc__array_meta *chunks_of)
{
    *out = NULL;
    zarrc__erase_plan *p = zarrc__calloc(1, sizeof *p);
    if (!p)
        return ZARRC_ENOMEM;
    p->s = s;
    p->force = (flags & ZARRC_FORCE) != 0;
    p->path = zarrc__strdup(path);
    p->prefix = *path ? zarrc__sprintf("%s/", path) : zarrc__strdup("");
    int rc = p->path && p->prefix ? zarrc__store_list(s, p->prefix, collect_key, p) : ZARRC_ENOMEM;
    if (rc == ZARRC_OK && p->listed.n > 1)
        zarrc__sort(p->listed.v, p->listed.n, sizeof *p->listed.v, cmp_str);
    node_info ni;
    memset(&ni, 0, sizeof ni);
    if (rc == ZARRC_OK)
        rc = info_load(&ni, s, path);
    if (rc == ZARRC_OK)
        rc = classify(p, "", 0, p->listed.n, &ni, chunks_of);
    if (rc == ZARRC_OK)
        rc = add_meta(p, "", ni.pending);
    info_clear(&ni);
    if (rc == ZARRC_OK && p->nforeign) {
        char list[4 * FOREIGN_SHOWN * 64 + 64];
        size_t len = 0;
        for (size_t i = 0; i < p->nforeign && i < FOREIGN_SHOWN; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s'%.60s%s'", i ? ", " : "", p->foreign[i],
                                    strlen(p->foreign[i]) > 60 ? "..." : "");
        if (p->nforeign > FOREIGN_SHOWN)
            snprintf(list + len, sizeof list - len, " and %zu more", p->nforeign - FOREIGN_SHOWN);
        rc = zarrc_error_set(ZARRC_ECONFLICT, "'%s' holds %zu key%s that do%s not belong to a Zarr node (%s): "
                             "nothing was deleted", zarrc__node_display(s, path), p->nforeign,
                             p->nforeign == 1 ? "" : "s", p->nforeign == 1 ? "es" : "", list);
    }
    if (rc) {
        zarrc__erase_plan_free(p);
        return rc;
    }
    *out = p;
    return ZARRC_OK;
}

static int erase_one(zarrc_store *s, const char *key)
{
    int rc = zarrc__store_erase(s, key);
    if (rc == ZARRC_ENOTFOUND) {
        zarrc__error_clear();
        return ZARRC_OK;
    }
    return rc ? zarrc__error_context(rc, "erasing '%s': ", key) : ZARRC_OK;
}

static int erase_data_task(void *ctx, size_t i)
{
    zarrc__erase_plan *p = ctx;
    return erase_one(p->s, p->data.v[i]);
}

int zarrc__erase_plan_run(zarrc__erase_plan *p)
{
    int rc = ZARRC_OK;
    if (zarrc__store_has_latency(p->s) && p->data.n > 1)
        rc = zarrc__io_run(p->data.n, erase_data_task, p);
    else
        for (size_t i = 0; rc == ZARRC_OK && i < p->data.n; i++)
            rc = erase_one(p->s, p->data.v[i]);
    for (size_t i = 0; rc == ZARRC_OK && i < p->meta.n; i++)
        rc = erase_one(p->s, p->meta.v[i]);
    /* What listings do not show (zarrc's internal files) and empty directories. */
    if (rc == ZARRC_OK)
        rc = zarrc__store_erase_prefix(p->s, p->prefix);
    return rc;
}

int zarrc__node_erase(zarrc_store *s, const char *path, unsigned flags, const zarrc__array_meta *chunks_of)
{
    zarrc__erase_plan *p;
    int rc = zarrc__erase_plan_make(&p, s, path, flags, chunks_of);
    if (rc == ZARRC_OK)
        rc = zarrc__erase_plan_run(p);
    zarrc__erase_plan_free(p);
    return rc;
}
