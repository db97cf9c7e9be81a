/*
 * extend.c — extendable arrays: resize (grow or shrink), write a block at any offset growing
 * the array to fit (ZARRC_EXTEND), and append along an axis.
 *
 * Design (docs/api.md, "Extendable arrays"):
 *  - Every shape change is a read-modify-write of the array's metadata document (v3
 *    zarr.json, v2 .zarray) through zarrc__store_update, so it is serialized with every other
 *    shape change and attribute change of the node, in this process and others (per-key lock,
 *    or compare-and-swap retried on conflict). Extends merge with max(), so concurrent extends
 *    converge whatever their order; an append reserves [cur, cur + n) along its axis inside the
 *    same read-modify-write, so two appends never get the same region.
 *  - On stores with per-key locks and regular grids, extend and append write the data first and
 *    grow the shape second, under the array's grow lock (see "Data first, shape second" below):
 *    the published shape is never ahead of the stored data, even after kill -9.
 *  - Elsewhere (compare-and-swap stores, rectilinear grids) they change the shape first and
 *    write the data second: observers see the new shape before the block lands, and read the
 *    fill value there until it does. When the data write fails, the part of the block outside
 *    the old shape is cleared back to the fill value and the shape is restored — only if the
 *    stored shape is still the one this call set (nobody grew it since); otherwise it stays.
 *  - Shrinking clears first and writes the smaller shape second: stored chunks wholly outside
 *    the new bounds are erased, and the part of edge chunks outside the new bounds is written
 *    back to the fill value, so a later grow reads fill there, never stale data. The chunks are
 *    found by listing the array's keys (cost ∝ stored chunks); stores that cannot list get the
 *    chunks of the removed region enumerated instead (cost ∝ the region's declared chunks).
 */
#include <stdio.h>
#include <stdlib.h>

#include "node.h"
#include "../grid/grid.h"

/* ------------------------------------------------------------------------------------------ */
/* The shape read-modify-write                                                                 */
/* ------------------------------------------------------------------------------------------ */

enum shape_mode {
    SHAPE_SET,    /* resize: the shape becomes want */
    SHAPE_MAX,    /* extend: max(cur, want) per dimension */
    SHAPE_APPEND, /* append along axis: cur[axis] + want[axis], max elsewhere */
    SHAPE_RESTORE /* undo: expect -> want, only if the stored shape is still `expect` */
};

typedef struct shape_update {
    const zarrc_array *a;
    const char *key;
    enum shape_mode mode;
    int axis;
    int64_t want[ZARRC_MAX_DIMS];
    int64_t expect[ZARRC_MAX_DIMS];
    /* results of the last attempt */
    int64_t before[ZARRC_MAX_DIMS], after[ZARRC_MAX_DIMS];
    bool changed;
    bool new_chunk;   /* SHAPE_APPEND with ZARRC_APPEND_NEW_CHUNK */
    json_object *doc; /* the document as stored after the update (owned) */
} shape_update;

static void fmt_shape(char *buf, size_t n, int ndim, const int64_t *s)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "[");
    for (int d = 0; d < ndim && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", d ? ", " : "", (long long)s[d]);
    if (k < n)
        snprintf(buf + k, n - k, "]");
}

/* Parse a stored array document and check that it is still the handle's array (same rank, chunks
 * and data type): someone may have replaced it. The shape goes to `shape`. */
static int check_doc(const zarrc_array *a, const json_object *doc, const char *key, int64_t *shape)
{
    zarrc__array_meta m;
    int rc = a->meta.format == 3 ? zarrc__meta_parse_v3(&m, doc) : zarrc__meta_parse_v2(&m, doc, NULL);
    if (rc)
        return zarrc__error_context(rc, "%s: ", key);
    bool same_grid = m.ndim == a->meta.ndim && m.rectilinear == a->meta.rectilinear;
    for (int d = 0; same_grid && d < m.ndim; d++) /* rectilinear edge lists only grow: not compared */
        same_grid = !m.runs[d] == !a->meta.runs[d] && (m.runs[d] || m.chunks[d] == a->meta.chunks[d]);
    if (!same_grid || !zarrc__dtype_equal(&m.dtype, &a->meta.dtype))
        rc = zarrc_error_set(ZARRC_ECONFLICT, "%s: the array was replaced by another one (different rank, "
                             "chunks or data type) since it was opened", key);
    else
        memcpy(shape, m.shape, sizeof(int64_t) * (size_t)m.ndim);
    zarrc__meta_clear(&m);
    return rc;
}

/* A rectilinear grid follows the shape: a dimension whose edges no longer cover its extent gets
 * one new edge reaching it (as zarr-python does; shrinking keeps the edges). With
 * ZARRC_APPEND_NEW_CHUNK the appended region must start a chunk: the edges must end exactly
 * at the extent before the append, and the new edge is the block's length. */
static int grow_grid(shape_update *u, json_object *doc)
{
    zarrc__array_meta m;
    int rc = zarrc__meta_parse_v3(&m, doc);
    if (rc)
        return zarrc__error_context(rc, "%s: ", u->key);
    if (u->new_chunk && zarrc__meta_edge_sum(&m, u->axis) != u->before[u->axis])
        rc = zarrc_error_set(ZARRC_EINVAL, "ZARRC_APPEND_NEW_CHUNK: the chunk edges along axis %d end at %lld, "
                             "not at the extent %lld, so a new chunk cannot start there", u->axis,
                             (long long)zarrc__meta_edge_sum(&m, u->axis), (long long)u->before[u->axis]);
    for (int d = 0; rc == ZARRC_OK && d < m.ndim; d++)
        if (m.runs[d])
            rc = zarrc__meta_grid_grow(&m, d, u->after[d]);
    if (rc == ZARRC_OK) {
        json_object *g = zarrc__meta_grid_json(&m);
        rc = g ? ZARRC_OK : zarrc__enomem();
        if (g)
            json_object_object_add(doc, "chunk_grid", g);
    }
    zarrc__meta_clear(&m);
    return rc;
}

static int update_shape(void *ctx, const zarrc_buf *cur, zarrc_buf *out, int can_erase, zarrc__update_action *act)
{
    (void)can_erase;
    shape_update *u = ctx;
    int n = u->a->meta.ndim;
    json_object *doc = NULL;
    u->changed = false;
    if (!cur)
        return zarrc_error_set(ZARRC_ENOTFOUND, "%s disappeared (the array was deleted)", u->key);
    int rc = zarrc__json_parse(&doc, (const char *)cur->data, cur->size, u->key);
    if (rc == ZARRC_OK && !json_object_is_type(doc, json_type_object))
        rc = zarrc_error_set(ZARRC_ECORRUPT, "%s: not a JSON object", u->key);
    if (rc == ZARRC_OK)
        rc = check_doc(u->a, doc, u->key, u->before);
    bool restore = true;
    for (int d = 0; rc == ZARRC_OK && d < n; d++) {
        int64_t b = u->before[d], w = u->want[d];
        switch (u->mode) {
        case SHAPE_SET:
            u->after[d] = w;
            break;
        case SHAPE_MAX:
            u->after[d] = b > w ? b : w;
            break;
        case SHAPE_APPEND:
            if (d == u->axis) {
                if (__builtin_add_overflow(b, w, &u->after[d]))
                    rc = zarrc_error_set(ZARRC_EBOUNDS, "appending %lld along axis %d to extent %lld overflows",
                                         (long long)w, d, (long long)b);
            } else
                u->after[d] = b > w ? b : w;
            break;
        case SHAPE_RESTORE:
            if (b != u->expect[d])
                restore = false;
            u->after[d] = w;
            break;
        }
    }
    if (rc == ZARRC_OK && u->mode == SHAPE_RESTORE && !restore)
        memcpy(u->after, u->before, sizeof(int64_t) * (size_t)n);
    if (rc == ZARRC_OK)
        u->changed = memcmp(u->before, u->after, sizeof(int64_t) * (size_t)n) != 0;
    if (rc == ZARRC_OK && u->a->meta.rectilinear && (u->changed || u->new_chunk))
        rc = grow_grid(u, doc);
    if (rc == ZARRC_OK && u->changed) {
        json_object *s = json_object_new_array();
        for (int d = 0; d < n; d++)
            json_object_array_add(s, json_object_new_int64(u->after[d]));
        json_object_object_add(doc, "shape", s);
        rc = zarrc__node_doc_text(out, doc);
        *act = ZARRC_UPDATE_SET;
    } else if (rc == ZARRC_OK)
        *act = ZARRC_UPDATE_NONE;
    if (rc == ZARRC_OK) {
        json_object_put(u->doc);
        u->doc = doc;
    } else
        json_object_put(doc);
    return rc;
}

static char *doc_key(const zarrc_array *a)
{
    char *k = zarrc__node_key(a->path, a->meta.format == 3 ? "zarr.json" : ".zarray");
    if (!k)
        zarrc_error_set(ZARRC_ENOMEM, "out of memory");
    return k;
}

/* The handle now holds `shape` and, when given, `doc` as its stored document. */
static void handle_refresh(zarrc_array *a, const int64_t *shape, json_object *doc)
{
    /* A rectilinear grid: the stored edges replace the handle's; the old runs are retired (a
     * snapshot taken before may still read them), freed with the handle. Best effort: when
     * parsing fails the handle keeps its edges, which only ever grow, so they stay right for
     * every index of the old extent (the engine refuses indices past the edges). */
    zarrc__array_meta m;
    bool regrid = doc && a->meta.rectilinear && zarrc__meta_parse_v3(&m, doc) == ZARRC_OK;
    if (doc && a->meta.rectilinear && !regrid)
        zarrc__error_clear();
    size_t nold = 0;
    for (int d = 0; regrid && d < a->meta.ndim; d++)
        nold += a->meta.runs[d] != NULL;
    zarrc__edge_run **ret = regrid ? zarrc__try_malloc((a->nretired + nold + 1) * sizeof *ret) : NULL;
    if (regrid && !ret) {
        zarrc__meta_clear(&m);
        regrid = false;
    }
    pthread_mutex_lock(&a->shape_lock);
    if (regrid) {
        if (a->nretired)
            memcpy(ret, a->retired, a->nretired * sizeof *ret);
        free(a->retired);
        a->retired = ret;
        for (int d = 0; d < a->meta.ndim; d++) {
            if (a->meta.runs[d])
                a->retired[a->nretired++] = a->meta.runs[d];
            a->meta.runs[d] = m.runs[d];
            a->meta.nruns[d] = m.nruns[d];
            a->meta.chunks[d] = m.chunks[d];
            m.runs[d] = NULL;
        }
    }
    memcpy(a->meta.shape, shape, sizeof(int64_t) * (size_t)a->meta.ndim);
    if (doc) {
        json_object_put(a->doc);
        a->doc = json_object_get(doc);
    }
    pthread_mutex_unlock(&a->shape_lock);
    if (regrid)
        zarrc__meta_clear(&m);
}

/* Run one shape change; on success the handle holds the stored shape. */
static int shape_change(zarrc_array *a, shape_update *u)
{
    char *key = doc_key(a);
    if (!key)
        return ZARRC_ENOMEM;
    u->a = a;
    u->key = key;
    u->doc = NULL;
    int rc = zarrc__store_update(a->store, key, ZARRC_UPDATE_DURABLE, update_shape, u);
    if (rc == ZARRC_OK)
        handle_refresh(a, u->after, u->doc);
    json_object_put(u->doc);
    u->doc = NULL;
    free(key);
    return rc;
}

/* The stored shape now (one read of the document); the handle is refreshed with it. */
static int stored_shape(zarrc_array *a, int64_t *shape)
{
    char *key = doc_key(a);
    if (!key)
        return ZARRC_ENOMEM;
    json_object *doc = NULL;
    int rc = zarrc__node_read_json(&doc, a->store, key);
    if (rc == ZARRC_ENOTFOUND)
        rc = zarrc_error_set(ZARRC_ENOTFOUND, "%s disappeared (the array was deleted)", key);
    if (rc == ZARRC_OK)
        rc = check_doc(a, doc, key, shape);
    if (rc == ZARRC_OK)
        handle_refresh(a, shape, doc);
    json_object_put(doc);
    free(key);
    return rc;
}

void zarrc__array_snapshot(zarrc_array *a, zarrc__array_meta *m)
{
    pthread_mutex_lock(&a->shape_lock);
    *m = a->meta;
    pthread_mutex_unlock(&a->shape_lock);
}

/* ------------------------------------------------------------------------------------------ */
/* Clearing what lies outside a shape                                                          */
/* ------------------------------------------------------------------------------------------ */

/* Write the fill value into a box (inside one chunk, so its size is bounded by the chunk's). */
static int fill_box(const zarrc__io_array *io, const int64_t *start, const int64_t *count)
{
    const zarrc__array_meta *m = io->meta;
    size_t nelem = 1;
    for (int d = 0; d < m->ndim; d++) {
        if (count[d] <= 0)
            return ZARRC_OK;
        nelem *= (size_t)count[d]; /* inside one chunk: the chunk size limit bounds it */
    }
    const void *fe = zarrc__meta_fill_element((zarrc__array_meta *)m);
    int rc;
    if (!zarrc__dtype_is_vlen(&m->dtype)) {
        size_t es = zarrc_dtype_elem_size(&m->dtype);
        uint8_t *buf = zarrc__calloc(nelem, es);
        if (!buf)
            return ZARRC_ENOMEM;
        if (fe)
            for (size_t i = 0; i < nelem; i++)
                memcpy(buf + i * es, fe, es);
        rc = zarrc__io_write(io, start, count, NULL, buf, nelem * es);
        free(buf);
        return rc;
    }
    const zarrc_vref *fr = fe;
    uint64_t len = fr ? fr->len : 0;
    zarrc_vlen v = {(int64_t)nelem, zarrc__calloc(nelem + 1, sizeof(uint64_t)), NULL, (size_t)(nelem * len)};
    v.data = zarrc__malloc(v.size ? v.size : 1);
    rc = v.offsets && v.data ? ZARRC_OK : ZARRC_ENOMEM;
    if (rc == ZARRC_OK && zarrc__dtype_is_optional_vlen(&m->dtype)) { /* a null fill: missing items */
        if (!(v.mask = zarrc__malloc(nelem ? nelem : 1)))
            rc = ZARRC_ENOMEM;
        else
            memset(v.mask, fr && !zarrc__vref_is_missing(fr), nelem);
    }
    for (size_t i = 0; rc == ZARRC_OK && i < nelem; i++) {
        if (len)
            memcpy(v.data + i * len, fr->ptr, len);
        v.offsets[i + 1] = (i + 1) * len;
    }
    if (rc == ZARRC_OK)
        rc = zarrc__io_write(io, start, count, NULL, &v, sizeof v);
    free(v.offsets);
    free(v.data);
    free(v.mask);
    return rc;
}

typedef struct clear_ctx {
    zarrc__io_array io;          /* with `tmp` as metadata: shape covering every chunk cleared */
    zarrc__array_meta tmp;
    const int64_t *keep;         /* the shape whose box stays: [0, keep) */
    const int64_t *lo, *hi;      /* only the part inside [lo, hi) is cleared (NULL: the whole chunk) */
    zarrc_buf key;
    uint64_t erased, cleared;    /* chunks erased / partly cleared (for tests and reports) */
} clear_ctx;

static int erase_chunk(clear_ctx *c, const int64_t *idx)
{
    const char *key = zarrc__meta_chunk_store_key(&c->key, &c->tmp, c->io.prefix, idx);
    if (!key)
        return ZARRC_ENOMEM;
    int rc = zarrc__store_erase_locked(c->io.store, key);
    if (rc == ZARRC_ENOTFOUND) {
        zarrc__error_clear();
        return ZARRC_OK;
    }
    c->erased += rc == ZARRC_OK;
    return rc;
}

/* Clear the part of chunk `idx` outside [0, keep) (and inside [lo, hi) when given): erase the
 * chunk when nothing of it stays, else fill-write that part (at most ndim boxes). */
static int clear_chunk(clear_ctx *c, const int64_t *idx)
{
    const zarrc__array_meta *m = &c->tmp;
    int n = m->ndim;
    int64_t clo[ZARRC_MAX_DIMS], chi[ZARRC_MAX_DIMS];
    bool outside = false, partly = false;
    int64_t span_lo[ZARRC_MAX_DIMS], span[ZARRC_MAX_DIMS];
    for (int d = 0; d < n; d++)
        zarrc__grid_span(m, d, idx[d], &span_lo[d], &span[d]);
    for (int d = 0; d < n && !c->lo; d++)
        if (span_lo[d] >= c->keep[d])
            return erase_chunk(c, idx); /* wholly outside (also stale keys far beyond the grid) */
    for (int d = 0; d < n; d++) {
        clo[d] = span_lo[d];
        if (__builtin_add_overflow(clo[d], span[d], &chi[d]))
            chi[d] = INT64_MAX;
        if (c->lo) { /* restrict to the region */
            if (c->lo[d] > clo[d])
                clo[d] = c->lo[d];
            if (c->hi[d] < chi[d])
                chi[d] = c->hi[d];
            if (clo[d] >= chi[d])
                return ZARRC_OK;
        }
        if (clo[d] >= c->keep[d])
            outside = true;
        else if (chi[d] > c->keep[d])
            partly = true;
    }
    if (!outside && !partly)
        return ZARRC_OK;
    bool whole = !c->lo;
    for (int d = 0; d < n && whole; d++)
        whole = clo[d] == span_lo[d] && chi[d] - clo[d] == span[d];
    if (outside && whole)
        return erase_chunk(c, idx);
    if (outside) { /* the whole (restricted) box goes */
        int64_t cnt[ZARRC_MAX_DIMS];
        for (int d = 0; d < n; d++)
            cnt[d] = chi[d] - clo[d];
        c->cleared++;
        return fill_box(&c->io, clo, cnt);
    }
    /* The part outside [0, keep) as disjoint boxes: box d is inside along dims < d, outside
     * along d, anything along dims > d. */
    for (int d = 0; d < n; d++) {
        if (chi[d] <= c->keep[d])
            continue;
        int64_t st[ZARRC_MAX_DIMS], cnt[ZARRC_MAX_DIMS];
        for (int e = 0; e < n; e++) {
            st[e] = clo[e];
            int64_t end = chi[e];
            if (e < d && end > c->keep[e])
                end = c->keep[e];
            if (e == d)
                st[e] = clo[e] > c->keep[e] ? clo[e] : c->keep[e];
            cnt[e] = end - st[e];
        }
        int rc = fill_box(&c->io, st, cnt);
        if (rc)
            return rc;
    }
    c->cleared++;
    return ZARRC_OK;
}

typedef struct listed {
    const zarrc__array_meta *m;
    size_t plen;
    int64_t *idx; /* n * ndim */
    size_t n, cap;
    const int64_t *keep;
    int rc;
} listed;

static int collect_chunk(void *ctx, const char *name, int is_prefix)
{
    listed *l = ctx;
    int64_t idx[ZARRC_MAX_DIMS];
    if (is_prefix || strlen(name) < l->plen || !zarrc__node_parse_chunk_key(l->m, name + l->plen, idx))
        return 0;
    bool beyond = false; /* not wholly inside [0, keep) */
    for (int d = 0; d < l->m->ndim; d++) {
        int64_t lo, size;
        zarrc__grid_span(l->m, d, idx[d], &lo, &size);
        if (lo > l->keep[d] - size)
            beyond = true;
    }
    if (!beyond)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        int64_t *v = realloc(l->idx, cap * (size_t)l->m->ndim * sizeof *v);
        if (!v) {
            l->rc = zarrc_error_set(ZARRC_ENOMEM, "out of memory listing chunks");
            return 1;
        }
        l->idx = v;
        l->cap = cap;
    }
    memcpy(l->idx + l->n * (size_t)l->m->ndim, idx, sizeof(int64_t) * (size_t)l->m->ndim);
    l->n++;
    return 0;
}

/* Clear everything of the array outside [0, keep), where data may lie inside [0, cur). */
static int clear_outside(zarrc_array *a, const zarrc__array_meta *snap, const int64_t *cur, const int64_t *keep,
                         uint64_t *erased, uint64_t *cleared)
{
    int n = snap->ndim;
    clear_ctx c;
    memset(&c, 0, sizeof c);
    c.tmp = *snap;
    for (int d = 0; d < n; d++) {
        int64_t hi = cur[d] > keep[d] ? cur[d] : keep[d];
        /* INT64_MAX when the last chunk cannot be addressed whole: boxes stay inside */
        c.tmp.shape[d] = zarrc__grid_round_up(snap, d, hi);
    }
    c.io = zarrc__array_io(a);
    c.io.meta = &c.tmp;
    c.io.write_empty = false;
    c.keep = keep;
    c.key = (zarrc_buf)ZARRC_BUF_INIT;
    listed l = {snap, strlen(a->prefix), NULL, 0, 0, keep, ZARRC_OK};
    int rc = zarrc__store_list(a->store, a->prefix, collect_chunk, &l);
    if (rc == 1)
        rc = l.rc;
    if (rc == ZARRC_OK) {
        for (size_t i = 0; rc == ZARRC_OK && i < l.n; i++)
            rc = clear_chunk(&c, l.idx + i * (size_t)n);
    } else if (rc == ZARRC_EUNSUPPORTED) {
        /* No listing: enumerate the chunks of the removed region, one slab per dimension. */
        zarrc__error_clear();
        rc = ZARRC_OK;
        for (int d = 0; rc == ZARRC_OK && d < n; d++) {
            if (keep[d] >= cur[d])
                continue;
            int64_t lo[ZARRC_MAX_DIMS], hi[ZARRC_MAX_DIMS], idx[ZARRC_MAX_DIMS];
            bool empty = false;
            for (int e = 0; e < n; e++) {
                int64_t lim = e < d && keep[e] < cur[e] ? keep[e] : cur[e];
                lo[e] = e == d ? zarrc__grid_chunk_of(snap, e, keep[e]) : 0;
                hi[e] = lim > 0 ? zarrc__grid_chunk_of(snap, e, lim - 1) + 1 : 0;
                if (lo[e] >= hi[e])
                    empty = true;
                idx[e] = lo[e];
            }
            while (rc == ZARRC_OK && !empty) {
                rc = clear_chunk(&c, idx);
                int e = n - 1;
                while (e >= 0 && ++idx[e] == hi[e]) {
                    idx[e] = lo[e];
                    e--;
                }
                if (e < 0)
                    break;
            }
        }
    }
    free(l.idx);
    zarrc_buf_release(&c.key);
    if (erased)
        *erased = c.erased;
    if (cleared)
        *cleared = c.cleared;
    return rc;
}

/* Step idx through the box first..last (inclusive) in C order; false after the last chunk. */
static bool next_chunk(int64_t *idx, const int64_t *first, const int64_t *last, int n)
{
    int d = n - 1;
    while (d >= 0 && idx[d] == last[d]) {
        idx[d] = first[d];
        d--;
    }
    if (d < 0)
        return false;
    idx[d]++;
    return true;
}

/* Clear the part of the block [lo, hi) outside [0, keep) (undoing a failed extend). */
static int clear_block(zarrc_array *a, const zarrc__array_meta *snap, const int64_t *lo, const int64_t *hi,
                       const int64_t *keep)
{
    int n = snap->ndim;
    clear_ctx c;
    memset(&c, 0, sizeof c);
    c.tmp = *snap; /* its shape contains the block */
    c.io = zarrc__array_io(a);
    c.io.meta = &c.tmp;
    c.io.write_empty = false;
    c.keep = keep;
    c.lo = lo;
    c.hi = hi;
    c.key = (zarrc_buf)ZARRC_BUF_INIT;
    int64_t first[ZARRC_MAX_DIMS], last[ZARRC_MAX_DIMS], idx[ZARRC_MAX_DIMS];
    for (int d = 0; d < n; d++) {
        if (hi[d] <= lo[d])
            return ZARRC_OK;
        first[d] = idx[d] = zarrc__grid_chunk_of(snap, d, lo[d]);
        last[d] = zarrc__grid_chunk_of(snap, d, hi[d] - 1);
    }
    int rc = ZARRC_OK;
    for (;;) {
        if ((rc = clear_chunk(&c, idx)))
            break;
        if (!next_chunk(idx, first, last, n))
            break;
    }
    zarrc_buf_release(&c.key);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Data first, shape second: the grow lock and the orphan marker                              */
/* ------------------------------------------------------------------------------------------ */

/* On stores with per-key locks (filesystem, memory), every operation that writes beyond the
 * stored shape or changes it (write_at with ZARRC_EXTEND, append, resize, streams) holds the
 * array's grow lock, the store's lock of key "<array>/.zarrc-grow", from reading the stored
 * shape S to publishing the new one. So at most one writer at a time has data beyond S, and
 * that writer writes its block first and grows the shape (compare-and-swap, max()) only once
 * every chunk is stored: the published shape is never ahead of stored data.
 *
 * A writer killed (or failing) between the two leaves orphans: chunks, or parts of edge
 * chunks, beyond S. Before its first chunk write beyond S, the holder stores the marker key
 * "<array>/.zarrc-growing" and erases it after publishing; the next holder that finds the
 * marker clears everything stored beyond S (listing the array's keys, as a shrink does) before
 * it writes. Without a marker nothing beyond S is stored, except what other tools left (a
 * zarr-python shrink keeps edge chunks whole, #1017): the chunks a block touches but does not
 * cover are still cleared beyond S before the block is merged in, so their stale parts never
 * come back.
 *
 * Under the grow lock, nobody else writes beyond S: plain writes stay inside the stored shape
 * and keep whatever they do not write of an edge chunk (their engine shape is rounded up to
 * whole chunks). So the holder's engine shape is the new shape itself (chunks it covers inside
 * it are rebuilt from the fill value, never read), and chunks wholly beyond S are stored
 * without their per-key lock. Stores without locks (compare-and-swap object stores, single
 * writer stores) and rectilinear grids (the grid grows with the shape, so the chunks are only
 * known after the shape change) keep the shape-first order of write_block. */

typedef struct grow_guard {
    void *lock;   /* the store's lock on <array>/.zarrc-grow */
    char *mark;   /* <array>/.zarrc-growing */
    bool marked;  /* the marker is stored */
} grow_guard;

static bool data_first(const zarrc_array *a)
{
    return !a->meta.rectilinear && zarrc__store_safety_of(a->store) == ZARRC_SAFETY_LOCK;
}

/* Release the grow lock; erase the marker when `clean` (this holder published its shape). */
static void grow_end(zarrc_array *a, grow_guard *g, bool clean)
{
    /* Called with `clean` only after success: a marker that cannot be erased costs the next
     * holder a sweep, nothing else, so its error is dropped. */
    if (clean && g->marked && g->mark && zarrc__store_erase(a->store, g->mark) != ZARRC_OK)
        zarrc__error_clear();
    zarrc__store_unlock(a->store, g->lock);
    free(g->mark);
    memset(g, 0, sizeof *g);
}

/* Take the grow lock, read the stored shape into S, and clear the orphans of a writer killed
 * before it published (when its marker is there). */
static int grow_begin(zarrc_array *a, grow_guard *g, int64_t *S)
{
    memset(g, 0, sizeof *g);
    char *lk = zarrc__node_key(a->path, ".zarrc-grow");
    g->mark = zarrc__node_key(a->path, ".zarrc-growing");
    int rc = lk && g->mark ? ZARRC_OK : zarrc_error_set(ZARRC_ENOMEM, "out of memory");
    if (rc == ZARRC_OK)
        rc = zarrc__store_lock(a->store, lk, &g->lock);
    free(lk);
    if (rc == ZARRC_OK)
        rc = stored_shape(a, S);
    zarrc_buf v = ZARRC_BUF_INIT;
    int got = rc == ZARRC_OK ? zarrc__store_get(a->store, g->mark, 0, -1, &v) : ZARRC_ENOTFOUND;
    zarrc_buf_release(&v);
    if (rc == ZARRC_OK && got == ZARRC_OK) {
        g->marked = true;
        zarrc__array_meta snap;
        zarrc__array_snapshot(a, &snap);
        rc = clear_outside(a, &snap, S, S, NULL, NULL);
        if (rc)
            zarrc__error_context(rc, "clearing what an interrupted writer left beyond shape: ");
    } else if (rc == ZARRC_OK && got != ZARRC_ENOTFOUND)
        rc = got;
    else if (rc == ZARRC_OK)
        zarrc__error_clear();
    if (rc)
        grow_end(a, g, false);
    return rc;
}

static int grow_mark(zarrc_array *a, grow_guard *g)
{
    if (g->marked)
        return ZARRC_OK;
    static const char text[] = "a zarrc writer is growing this array (see docs/internals.md)\n";
    int rc = zarrc__store_set(a->store, g->mark, text, sizeof text - 1);
    g->marked = rc == ZARRC_OK;
    return rc;
}

/* Write the block [start, end) of an array whose stored shape is S (the grow lock held), as
 * part of growing it to `grown` (>= S and >= end): see the top of this section. */
static int write_grown(zarrc_array *a, const int64_t *S, const int64_t *grown, const int64_t *start,
                       const int64_t *shape, const int64_t *end, const void *data, size_t size,
                       const uint8_t *const *pieces, int64_t piece_rows)
{
    int n = a->meta.ndim;
    for (int d = 0; d < n; d++)
        if (shape[d] == 0)
            return ZARRC_OK;
    zarrc__array_meta snap;
    zarrc__array_snapshot(a, &snap);
    memcpy(snap.shape, grown, sizeof(int64_t) * (size_t)n);
    /* Chunks the block touches but does not cover (inside `grown`) and that reach beyond S:
     * their part beyond S is cleared first (orphans), then the block is merged in. */
    clear_ctx c;
    memset(&c, 0, sizeof c);
    c.tmp = snap;
    for (int d = 0; d < n; d++) {
        c.tmp.shape[d] = zarrc__grid_round_up(&snap, d, grown[d]);
        if (c.tmp.shape[d] == INT64_MAX)
            c.tmp.shape[d] = grown[d];
    }
    c.io = zarrc__array_io(a);
    c.io.meta = &c.tmp;
    c.io.write_empty = false;
    c.keep = S;
    c.key = (zarrc_buf)ZARRC_BUF_INIT;
    int64_t first[ZARRC_MAX_DIMS], last[ZARRC_MAX_DIMS], idx[ZARRC_MAX_DIMS];
    bool edge = false;
    for (int d = 0; d < n; d++) {
        first[d] = idx[d] = zarrc__grid_chunk_of(&snap, d, start[d]);
        last[d] = zarrc__grid_chunk_of(&snap, d, end[d] - 1);
        /* Only the first and last chunk along d can be partly covered. */
        edge |= start[d] % snap.chunks[d] != 0 || (end[d] % snap.chunks[d] != 0 && end[d] < grown[d]);
    }
    int rc = ZARRC_OK;
    while (edge) {
        bool beyond = false, covered = true;
        for (int d = 0; d < n; d++) {
            int64_t lo, sz;
            zarrc__grid_span(&snap, d, idx[d], &lo, &sz);
            int64_t hi = sz > grown[d] - lo ? grown[d] : lo + sz;
            beyond |= hi > S[d];
            covered &= start[d] <= lo && end[d] >= hi;
        }
        if (beyond && !covered && (rc = clear_chunk(&c, idx)))
            break;
        if (!next_chunk(idx, first, last, n))
            break;
    }
    zarrc_buf_release(&c.key);
    if (rc)
        return rc;
    zarrc__io_array io = zarrc__array_io(a);
    io.meta = &snap;
    io.own_from = S;
    io.pieces = pieces;
    io.piece_rows = piece_rows;
    return zarrc__io_write(&io, start, shape, NULL, data, size);
}

static int check_usable(const zarrc_array *a);
static int check_block(const zarrc_array *a, const int64_t *shape, const void *data, size_t size);

/* A grow session: the grow lock held over one or more blocks stored beyond the published shape
 * S, whose grown shape is published when the holder asks (session_publish). write_at(EXTEND)
 * and append use one block per session; a stream keeps a session over consecutive batches and
 * publishes when idle, so it does not wait through a shape update's fsyncs per batch. The order
 * stays data first: blocks are stored, then the shape reaching them is published; the marker
 * covers everything stored beyond S in between. Blocks of one session must not share a chunk
 * (a stream's slabs are whole chunks along its axis). */
struct zarrc__grow_session {
    zarrc_array *a;
    grow_guard g;
    int64_t S[ZARRC_MAX_DIMS];     /* the published shape */
    int64_t reach[ZARRC_MAX_DIMS]; /* max(S, ends of the blocks stored in this session) */
    bool pending;                  /* reach is beyond S */
};

static int session_begin(zarrc_array *a, zarrc__grow_session *gs)
{
    memset(gs, 0, sizeof *gs);
    gs->a = a;
    int rc = grow_begin(a, &gs->g, gs->S);
    memcpy(gs->reach, gs->S, sizeof gs->S);
    return rc;
}

/* Store the block [start, start + shape) (checked by the caller; no error context). */
static int session_store(zarrc__grow_session *gs, const int64_t *start, const int64_t *shape, const void *data,
                         size_t size, const uint8_t *const *pieces, int64_t piece_rows)
{
    zarrc_array *a = gs->a;
    int n = a->meta.ndim;
    int64_t end[ZARRC_MAX_DIMS], grown[ZARRC_MAX_DIMS];
    bool grows = false;
    for (int d = 0; d < n; d++) {
        if (start[d] < 0 || __builtin_add_overflow(start[d], shape[d], &end[d]))
            return zarrc_error_set(ZARRC_EBOUNDS, "offset[%d] + shape[%d] overflows", d, d);
        grown[d] = end[d] > gs->reach[d] ? end[d] : gs->reach[d];
        grows |= end[d] > gs->S[d];
    }
    int rc = grows ? grow_mark(a, &gs->g) : ZARRC_OK;
    if (rc == ZARRC_OK)
        rc = write_grown(a, gs->S, grown, start, shape, end, data, size, pieces, piece_rows);
    if (rc == ZARRC_OK) {
        for (int d = 0; d < n; d++)
            gs->pending |= grown[d] != gs->S[d];
        memcpy(gs->reach, grown, sizeof(int64_t) * (size_t)n);
    }
    return rc;
}

/* Publish the shape reaching every stored block (compare-and-swap, max()). */
static int session_publish(zarrc__grow_session *gs)
{
    if (!gs->pending)
        return ZARRC_OK;
    shape_update u;
    memset(&u, 0, sizeof u);
    u.mode = SHAPE_MAX;
    memcpy(u.want, gs->reach, sizeof(int64_t) * (size_t)gs->a->meta.ndim);
    int rc = shape_change(gs->a, &u);
    if (rc == ZARRC_OK) {
        memcpy(gs->S, u.after, sizeof gs->S);
        memcpy(gs->reach, gs->S, sizeof gs->S);
        gs->pending = false;
    }
    return rc;
}

/* Release the lock. Unpublished blocks stay orphans beyond the shape, under the marker: the
 * next grower sweeps them. */
static void session_end(zarrc__grow_session *gs)
{
    grow_end(gs->a, &gs->g, !gs->pending);
}

int zarrc__grow_session_begin(zarrc_array *a, zarrc__grow_session **out)
{
    *out = NULL;
    int rc = check_usable(a);
    if (rc || !data_first(a))
        return rc;
    zarrc__grow_session *gs = zarrc__malloc(sizeof *gs);
    if (!gs)
        return ZARRC_ENOMEM;
    if ((rc = session_begin(a, gs))) {
        free(gs);
        return zarrc__error_context(rc, "array '%s': grow: ", a->name);
    }
    *out = gs;
    return ZARRC_OK;
}

int zarrc__grow_session_write(zarrc__grow_session *gs, const int64_t *start, const int64_t *shape, const void *data,
                              size_t size)
{
    int rc = check_block(gs->a, shape, data, size);
    if (rc == ZARRC_OK)
        rc = session_store(gs, start, shape, data, size, NULL, 0);
    return rc ? zarrc__error_context(rc, "array '%s': write block: ", gs->a->name) : ZARRC_OK;
}

/* A block whose source comes in pieces along dimension 0 has every chunk (shard) inside one
 * piece: it starts on a chunk boundary along dimension 0 and a piece holds whole chunks
 * (zarrc__io_src finds a chunk's piece from its first row). */
static int check_pieces(const zarrc_array *a, const int64_t *start, int64_t piece_rows)
{
    const zarrc__array_meta *m = &a->meta;
    if (m->rectilinear || m->ndim == 0 || zarrc__dtype_is_vlen(&m->dtype) || piece_rows <= 0 ||
        start[0] < 0 || start[0] % m->chunks[0] || piece_rows % m->chunks[0])
        return zarrc_error_set(ZARRC_EINVAL, "write in pieces: needs a regular grid of a fixed-size type, and "
                               "pieces of whole chunks from a chunk boundary (pieces of %lld indices at %lld, "
                               "chunks of %lld)", (long long)piece_rows, (long long)start[0],
                               m->ndim ? (long long)m->chunks[0] : 0LL);
    return ZARRC_OK;
}

int zarrc__grow_session_write_pieces(zarrc__grow_session *gs, const int64_t *start, const int64_t *shape,
                                     const uint8_t *const *pieces, int64_t piece_rows, size_t size)
{
    int rc = check_pieces(gs->a, start, piece_rows);
    if (rc == ZARRC_OK)
        rc = check_block(gs->a, shape, pieces[0], size);
    if (rc == ZARRC_OK)
        rc = session_store(gs, start, shape, pieces[0], size, pieces, piece_rows);
    return rc ? zarrc__error_context(rc, "array '%s': write block: ", gs->a->name) : ZARRC_OK;
}

int zarrc__grow_session_publish(zarrc__grow_session *gs)
{
    int rc = session_publish(gs);
    return rc ? zarrc__error_context(rc, "array '%s': grow: ", gs->a->name) : ZARRC_OK;
}

void zarrc__grow_session_end(zarrc__grow_session *gs)
{
    if (gs) {
        session_end(gs);
        free(gs);
    }
}

/* write_at(ZARRC_EXTEND) (axis < 0) or append along `axis`, data first (data_first(a)): a
 * grow session of one block (its source in pieces when `pieces`, zarrc__io_array.pieces). The
 * block lands at `start` (append: at the stored extent along the axis, returned in *at). */
static int grow_write(zarrc_array *a, int axis, const int64_t *start_in, const int64_t *shape, const void *data,
                      size_t size, const uint8_t *const *pieces, int64_t piece_rows, int64_t *at)
{
    int n = a->meta.ndim;
    int64_t start[ZARRC_MAX_DIMS], end;
    zarrc__grow_session gs;
    int rc = session_begin(a, &gs);
    bool began = rc == ZARRC_OK; /* a failed begin released what it took */
    for (int d = 0; d < n && rc == ZARRC_OK; d++) {
        start[d] = d == axis ? gs.S[d] : start_in ? start_in[d] : 0;
        if (__builtin_add_overflow(start[d], shape[d], &end))
            rc = zarrc_error_set(ZARRC_EBOUNDS, "appending %lld along axis %d to extent %lld overflows",
                                 (long long)shape[d], d, (long long)start[d]);
    }
    if (rc == ZARRC_OK)
        rc = session_store(&gs, start, shape, data, size, pieces, piece_rows);
    if (rc == ZARRC_OK)
        rc = session_publish(&gs);
    if (began)
        session_end(&gs);
    if (rc == ZARRC_OK && at)
        *at = axis >= 0 ? start[axis] : 0;
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Public calls                                                                                */
/* ------------------------------------------------------------------------------------------ */

static int check_usable(const zarrc_array *a)
{
    if (a->view)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "'%s' is a virtual array (view): its shape comes from its "
                               "layers, so it cannot be resized or appended to (change the layers)", a->name);
    int rc = zarrc__array_need_pipeline(a);
    if (rc)
        return rc;
    if (a->pending)
        return zarrc_error_set(ZARRC_EINVAL, "array '%s' is not committed yet (ZARRC_CREATE_PENDING): its shape "
                               "cannot change", a->name);
    return ZARRC_OK;
}

static int resize_locked(zarrc_array *a, grow_guard *g, const int64_t *new_shape, const int64_t *cur,
                         uint64_t *erased, uint64_t *cleared);

static int resize_impl(zarrc_array *a, const int64_t *new_shape, uint64_t *erased, uint64_t *cleared)
{
    int n = a->meta.ndim;
    int rc = check_usable(a);
    if (rc)
        return rc;
    if (n > 0 && !new_shape)
        return zarrc_error_set(ZARRC_EINVAL, "no shape given");
    for (int d = 0; d < n; d++)
        if (new_shape[d] < 0)
            return zarrc_error_set(ZARRC_EINVAL, "shape[%d] is negative (%lld)", d, (long long)new_shape[d]);
    int64_t cur[ZARRC_MAX_DIMS];
    grow_guard g;
    memset(&g, 0, sizeof g);
    bool locked = data_first(a);
    if ((rc = locked ? grow_begin(a, &g, cur) : stored_shape(a, cur)))
        return rc;
    rc = resize_locked(a, locked ? &g : NULL, new_shape, cur, erased, cleared);
    if (locked)
        grow_end(a, &g, rc == ZARRC_OK);
    return rc;
}

/* A shrink under the grow lock (g) publishes the new shape first and clears beyond it second,
 * with the orphan marker stored over both steps: a writer killed in between leaves the new
 * shape and data beyond it, which readers never see and the next grower sweeps (see above).
 * Without the lock (compare-and-swap stores, rectilinear grids) it clears first: a kill then
 * leaves the old shape with part of the removed region already fill. */
static int resize_locked(zarrc_array *a, grow_guard *g, const int64_t *new_shape, const int64_t *cur,
                         uint64_t *erased, uint64_t *cleared)
{
    int n = a->meta.ndim, rc;
    bool shrink = false;
    for (int d = 0; d < n; d++)
        shrink |= new_shape[d] < cur[d];
    if (erased)
        *erased = 0;
    if (cleared)
        *cleared = 0;
    zarrc__array_meta snap;
    zarrc__array_snapshot(a, &snap); /* the grid before the change: what clear_outside walks */
    if (shrink && !g && (rc = clear_outside(a, &snap, cur, new_shape, erased, cleared)))
        return rc;
    if (shrink && g && (rc = grow_mark(a, g)))
        return rc;
    shape_update u;
    memset(&u, 0, sizeof u);
    u.mode = SHAPE_SET;
    memcpy(u.want, new_shape, sizeof(int64_t) * (size_t)n);
    if ((rc = shape_change(a, &u)) || !shrink || !g)
        return rc;
    rc = clear_outside(a, &snap, cur, new_shape, erased, cleared);
    if (rc)
        zarrc__error_context(rc, "the shape is now smaller, but clearing the removed region failed (the next "
                             "grow of this array clears it): ");
    return rc;
}

int zarrc_array_resize(zarrc_array *a, const int64_t *new_shape)
{
    zarrc__error_clear();
    int rc = resize_impl(a, new_shape, NULL, NULL);
    if (rc)
        zarrc__error_context(rc, "resize array '%s': ", a->name);
    return rc;
}

/* Check a block (shape, data, size) against the array: ZARRC_EINVAL before anything is written. */
static int check_block(const zarrc_array *a, const int64_t *shape, const void *data, size_t size)
{
    int n = a->meta.ndim;
    if (n > 0 && !shape)
        return zarrc_error_set(ZARRC_EINVAL, "no block shape given");
    uint64_t nelem = 1;
    for (int d = 0; d < n; d++) {
        if (shape[d] < 0)
            return zarrc_error_set(ZARRC_EINVAL, "block shape[%d] is negative (%lld)", d, (long long)shape[d]);
        if (__builtin_mul_overflow(nelem, (uint64_t)shape[d], &nelem) || nelem > INT64_MAX)
            return zarrc_error_set(ZARRC_EBOUNDS, "the block has more than 2^63 elements");
    }
    if (!data && size)
        return zarrc_error_set(ZARRC_EINVAL, "no block data given");
    if (zarrc__dtype_is_vlen(&a->meta.dtype)) {
        const zarrc_vlen *v = data;
        if (size != sizeof(zarrc_vlen) || !v)
            return zarrc_error_set(ZARRC_EINVAL, "blocks of data type %s are a zarrc_vlen (size %zu), not %zu bytes",
                                   a->meta.dtype.name, sizeof(zarrc_vlen), size);
        if ((uint64_t)v->count != nelem)
            return zarrc_error_set(ZARRC_EINVAL, "the block has %lld values, its shape needs %llu",
                                   (long long)v->count, (unsigned long long)nelem);
        return ZARRC_OK;
    }
    uint64_t bytes;
    size_t es = zarrc_dtype_elem_size(&a->meta.dtype);
    if (__builtin_mul_overflow(nelem, (uint64_t)es, &bytes) || bytes > SIZE_MAX || bytes != size) {
        char s[32 * ZARRC_MAX_DIMS];
        fmt_shape(s, sizeof s, n, shape);
        return zarrc_error_set(ZARRC_EINVAL, "the block has %zu bytes, but shape %s of %s (%zu bytes each) needs %llu",
                               size, s, a->meta.dtype.name, es, (unsigned long long)nelem * es);
    }
    return ZARRC_OK;
}

/* Write the block [start, start + shape) (its source in pieces when `pieces`) into an array whose
 * stored shape was `prev` and is now `ours` (changed = this call changed it); on failure undo
 * the extension (see the top). */
static int write_block(zarrc_array *a, const int64_t *start, const int64_t *shape, const void *data, size_t size,
                       const uint8_t *const *pieces, int64_t piece_rows, const int64_t *prev, const int64_t *ours,
                       bool changed)
{
    int n = a->meta.ndim;
    bool empty = false;
    for (int d = 0; d < n; d++)
        empty |= shape[d] == 0;
    if (empty)
        return ZARRC_OK;
    zarrc__array_meta snap;
    zarrc__array_snapshot(a, &snap);
    /* The engine's shape is the grid rounded up to whole chunks: another writer may already
     * have data beyond the shape we know in an edge chunk (it extended further), so a chunk is
     * only rebuilt from the fill value when the block covers all of it; otherwise it is
     * read-modified-written. The block's bounds were checked against `ours` above. */
    for (int d = 0; d < n; d++) {
        int64_t hi = ours[d] > snap.shape[d] ? ours[d] : snap.shape[d];
        snap.shape[d] = zarrc__grid_round_up(&snap, d, hi);
        if (snap.shape[d] == INT64_MAX)
            snap.shape[d] = hi;
    }
    zarrc__io_array io = zarrc__array_io(a);
    io.meta = &snap;
    io.pieces = pieces;
    io.piece_rows = piece_rows;
    int rc = zarrc__io_write(&io, start, shape, NULL, data, size);
    if (rc == ZARRC_OK || !changed)
        return rc;
    zarrc__error_saved err;
    zarrc__error_save(&err, rc);
    int64_t hi[ZARRC_MAX_DIMS];
    for (int d = 0; d < n; d++)
        hi[d] = start[d] + shape[d];
    if (clear_block(a, &snap, start, hi, prev) == ZARRC_OK) {
        shape_update u;
        memset(&u, 0, sizeof u);
        u.mode = SHAPE_RESTORE;
        memcpy(u.want, prev, sizeof(int64_t) * (size_t)n);
        memcpy(u.expect, ours, sizeof(int64_t) * (size_t)n);
        (void)shape_change(a, &u); /* best effort: else the shape stays extended (consistent) */
    }
    zarrc__error_restore(&err);
    return rc;
}

/* zarrc_array_write_at, the block's source in pieces when `pieces` (no view; checked by
 * zarrc__array_write_at_pieces). */
static int write_at(zarrc_array *a, const int64_t *offset, int noffset, const int64_t *shape, const void *data,
                    size_t size, unsigned flags, const uint8_t *const *pieces, int64_t piece_rows)
{
    int n = a->meta.ndim;
    int64_t start[ZARRC_MAX_DIMS] = {0}, end[ZARRC_MAX_DIMS] = {0};
    /* A view takes blocks that fit its shape (zarrc_array_write); it cannot grow. */
    int rc = a->view ? ZARRC_OK : check_usable(a);
    if (rc == ZARRC_OK && (flags & ~(unsigned)ZARRC_EXTEND))
        rc = zarrc_error_set(ZARRC_EINVAL, "unknown flags 0x%x", flags & ~(unsigned)ZARRC_EXTEND);
    if (rc == ZARRC_OK && (noffset < 0 || noffset > n || (noffset > 0 && !offset)))
        rc = zarrc_error_set(ZARRC_EINVAL, "the offset has %d entries, the array %d dimensions", noffset, n);
    for (int d = 0; rc == ZARRC_OK && d < noffset; d++)
        if ((start[d] = offset[d]) < 0)
            rc = zarrc_error_set(ZARRC_EBOUNDS, "offset[%d] is negative (%lld)", d, (long long)offset[d]);
    if (rc == ZARRC_OK)
        rc = check_block(a, shape, data, size);
    for (int d = 0; rc == ZARRC_OK && d < n; d++)
        if (__builtin_add_overflow(start[d], shape[d], &end[d]))
            rc = zarrc_error_set(ZARRC_EBOUNDS, "offset[%d] + shape[%d] overflows", d, d);
    int64_t prev[ZARRC_MAX_DIMS], ours[ZARRC_MAX_DIMS];
    bool changed = false;
    if (rc == ZARRC_OK && a->view) {
        for (int d = 0; d < n && rc == ZARRC_OK; d++)
            if (end[d] > a->meta.shape[d])
                rc = zarrc_error_set((flags & ZARRC_EXTEND) ? ZARRC_EUNSUPPORTED : ZARRC_EBOUNDS,
                                     "the block ends at %lld in dimension %d, beyond the view's length %lld (%s)",
                                     (long long)end[d], d, (long long)a->meta.shape[d],
                                     (flags & ZARRC_EXTEND) ? "a view cannot grow: extend its layers"
                                                            : "the block does not fit");
        if (rc == ZARRC_OK)
            rc = zarrc_array_write(a, start, shape, NULL, data, size);
        if (rc)
            zarrc__error_context(rc, "array '%s': write block: ", a->name);
        return rc;
    }
    if (rc == ZARRC_OK && (flags & ZARRC_EXTEND) && data_first(a)) {
        rc = grow_write(a, -1, start, shape, data, size, pieces, piece_rows, NULL);
        if (rc)
            zarrc__error_context(rc, "array '%s': write block: ", a->name);
        return rc;
    }
    if (rc == ZARRC_OK && (flags & ZARRC_EXTEND)) {
        shape_update u;
        memset(&u, 0, sizeof u);
        u.mode = SHAPE_MAX;
        memcpy(u.want, end, sizeof(int64_t) * (size_t)n);
        if ((rc = shape_change(a, &u)) == ZARRC_OK) {
            memcpy(prev, u.before, sizeof prev);
            memcpy(ours, u.after, sizeof ours);
            changed = u.changed;
        }
    } else if (rc == ZARRC_OK && (rc = stored_shape(a, ours)) == ZARRC_OK) {
        memcpy(prev, ours, sizeof prev);
        for (int d = 0; d < n; d++)
            if (end[d] > ours[d]) {
                char so[32 * ZARRC_MAX_DIMS], sb[32 * ZARRC_MAX_DIMS], sc[32 * ZARRC_MAX_DIMS];
                fmt_shape(so, sizeof so, n, start);
                fmt_shape(sb, sizeof sb, n, shape);
                fmt_shape(sc, sizeof sc, n, ours);
                rc = zarrc_error_set(ZARRC_EBOUNDS, "a block of shape %s at offset %s does not fit the array's "
                                     "current shape %s (dimension %d: %lld > %lld); extend the array to write it",
                                     sb, so, sc, d, (long long)end[d], (long long)ours[d]);
                break;
            }
    }
    if (rc == ZARRC_OK)
        rc = write_block(a, start, shape, data, size, pieces, piece_rows, prev, ours, changed);
    if (rc)
        zarrc__error_context(rc, "array '%s': write block: ", a->name);
    return rc;
}

int zarrc_array_write_at(zarrc_array *a, const int64_t *offset, int noffset, const int64_t *shape,
                         const void *data, size_t size, unsigned flags)
{
    zarrc__error_clear();
    return write_at(a, offset, noffset, shape, data, size, flags, NULL, 0);
}

int zarrc__array_write_at_pieces(zarrc_array *a, const int64_t *start, const int64_t *shape,
                                 const uint8_t *const *pieces, int64_t piece_rows, size_t size)
{
    int rc = check_usable(a);
    if (rc == ZARRC_OK)
        rc = check_pieces(a, start, piece_rows);
    if (rc)
        return zarrc__error_context(rc, "array '%s': write block: ", a->name);
    return write_at(a, start, a->meta.ndim, shape, pieces[0], size, ZARRC_EXTEND, pieces, piece_rows);
}

int zarrc_array_append(zarrc_array *a, int axis, const int64_t *shape, const void *data, size_t size,
                       int64_t *start_out)
{
    return zarrc_array_append_flags(a, axis, shape, data, size, 0, start_out);
}

int zarrc_array_append_flags(zarrc_array *a, int axis, const int64_t *shape, const void *data, size_t size,
                             unsigned flags, int64_t *start_out)
{
    zarrc__error_clear();
    int n = a->meta.ndim;
    int rc = check_usable(a);
    if (rc == ZARRC_OK && (flags & ~(unsigned)ZARRC_APPEND_NEW_CHUNK))
        rc = zarrc_error_set(ZARRC_EINVAL, "unknown flags 0x%x", flags & ~(unsigned)ZARRC_APPEND_NEW_CHUNK);
    if (rc == ZARRC_OK && (flags & ZARRC_APPEND_NEW_CHUNK) && axis >= 0 && axis < n &&
        (!a->meta.rectilinear || !a->meta.runs[axis]))
        rc = zarrc_error_set(ZARRC_EINVAL, "ZARRC_APPEND_NEW_CHUNK needs a rectilinear chunk grid with an edge "
                             "list along axis %d", axis);
    if (rc == ZARRC_OK && (axis < 0 || axis >= n))
        rc = zarrc_error_set(ZARRC_EINVAL, "axis %d is not a dimension of the array (it has %d)", axis, n);
    if (rc == ZARRC_OK)
        rc = check_block(a, shape, data, size);
    shape_update u;
    memset(&u, 0, sizeof u);
    int64_t start[ZARRC_MAX_DIMS] = {0};
    if (rc == ZARRC_OK && !(flags & ZARRC_APPEND_NEW_CHUNK) && data_first(a)) {
        rc = grow_write(a, axis, NULL, shape, data, size, NULL, 0, start_out);
        if (rc)
            zarrc__error_context(rc, "array '%s': append along axis %d: ", a->name, axis);
        return rc;
    }
    if (rc == ZARRC_OK) {
        u.mode = SHAPE_APPEND;
        u.axis = axis;
        u.new_chunk = (flags & ZARRC_APPEND_NEW_CHUNK) != 0;
        memcpy(u.want, shape, sizeof(int64_t) * (size_t)n);
        rc = shape_change(a, &u);
    }
    if (rc == ZARRC_OK) {
        start[axis] = u.before[axis];
        rc = write_block(a, start, shape, data, size, NULL, 0, u.before, u.after, u.changed);
    }
    if (rc == ZARRC_OK && start_out)
        *start_out = start[axis];
    if (rc)
        zarrc__error_context(rc, "array '%s': append along axis %d: ", a->name, axis);
    return rc;
}
