/*
 * copy.c — streaming array copy (convert, recompress, rechunk) with bounded memory.
 *
 * The destination's chunk grid (chunks or shards) is walked in batches of a few units per
 * thread; each unit is read from the source and written as whole destination chunks, so the
 * destination never needs a read-modify-write. When both arrays store chunks identically
 * (same chunk shape, data type, fill value and encoded pipeline), stored bytes are copied and
 * only re-keyed (e.g. a v2 → v3 conversion with a "v2" key encoding is then just new keys).
 * Either grid may be rectilinear: a unit is then one chunk (or shard) of the destination's
 * edges, and the source is read over that box whatever its own grid.
 *
 * A grid of more than DENSE_UNITS units is not walked: the units are those touched by the
 * chunks the source stores plus those the destination stores (listed), so the cost grows
 * with the stored chunks, not with the declared shape; every other unit is fill in both.
 *
 * A destination created pending (ZARRC_CREATE_PENDING) gets its metadata only when the copy
 * is complete, and its pending record remembers the source, so a resumed copy (ZARRC_RESUME)
 * can refuse another source and skip the destination units already stored.
 */
#include <stdlib.h>

#include "hierarchy.h"
#include "node.h"
#include "../grid/grid.h"
#include "../view/view.h"

/* Largest grid walked unit by unit. */
#define DENSE_UNITS ((uint64_t)1 << 16)

typedef struct copy_job {
    zarrc_array *dst, *src;
    bool raw;
    bool skip_existing;        /* resumed: destination units already stored are complete */
    const int64_t *coords;     /* sparse: this batch's unit records (ndim, coordinates), else NULL */
    uint64_t first, nunits;    /* this batch: units [first, first + nunits) */
    int64_t grid[ZARRC_MAX_DIMS];
    uint64_t bytes;            /* decoded bytes copied (atomic) */
    /* Decoded units' buffers, reused across units and batches: at most one per unit in
     * flight (the threads), freed when the copy ends. A fresh malloc per unit would, for units
     * of 32 MiB and more (glibc's largest mmap threshold), map, fault in, zero and unmap every
     * page of every unit. */
    pthread_mutex_t spare_mu;
    uint8_t **spare;           /* free buffers, each of spare_size bytes */
    size_t nspare, spare_cap, spare_size;
} copy_job;

/* A buffer of at least n bytes for one unit (from the spares when one is big enough); its
 * size in *cap. */
static uint8_t *unit_buf_take(copy_job *j, size_t n, size_t *cap)
{
    uint8_t *b = NULL;
    pthread_mutex_lock(&j->spare_mu);
    if (j->nspare && n <= j->spare_size)
        b = j->spare[--j->nspare];
    *cap = n > j->spare_size ? n : j->spare_size;
    pthread_mutex_unlock(&j->spare_mu);
    return b ? b : zarrc__malloc(*cap);
}

/* Give back a buffer of n bytes from unit_buf_take (freed when it cannot be kept). */
static void unit_buf_give(copy_job *j, uint8_t *b, size_t n)
{
    if (!b)
        return;
    pthread_mutex_lock(&j->spare_mu);
    bool kept = false;
    if (n >= j->spare_size) {
        if (n > j->spare_size) { /* units grew (rectilinear grids): drop the smaller spares */
            for (size_t k = 0; k < j->nspare; k++)
                free(j->spare[k]);
            j->nspare = 0;
            j->spare_size = n;
        }
        if (j->nspare == j->spare_cap) {
            size_t cap = j->spare_cap ? 2 * j->spare_cap : 4;
            uint8_t **v = realloc(j->spare, cap * sizeof *v);
            if (v) {
                j->spare = v;
                j->spare_cap = cap;
            }
        }
        if (j->nspare < j->spare_cap) {
            j->spare[j->nspare++] = b;
            kept = true;
        }
    }
    pthread_mutex_unlock(&j->spare_mu);
    if (!kept)
        free(b);
}

/* The store key of chunk `idx` of array `a` (malloc'd). */
static char *chunk_key(const zarrc_array *a, const int64_t *idx)
{
    char ck[24 * ZARRC_MAX_DIMS + 4]; /* bounded by the number of dimensions */
    zarrc__meta_chunk_key(&a->meta, idx, ck, sizeof ck);
    char *key = zarrc__sprintf("%s%s", a->prefix, ck);
    if (!key)
        zarrc__enomem();
    return key;
}

/* Chunk coordinates and the in-bounds box of unit k of the batch. */
static void unit_box(const copy_job *j, size_t k, int64_t *idx, int64_t *start, int64_t *count)
{
    const zarrc__array_meta *m = &j->dst->meta;
    uint64_t u = j->first + k;
    for (int d = m->ndim - 1; d >= 0; d--) {
        if (j->coords)
            idx[d] = j->coords[k * ((size_t)m->ndim + 1) + 1 + (size_t)d];
        else {
            idx[d] = (int64_t)(u % (uint64_t)j->grid[d]);
            u /= (uint64_t)j->grid[d];
        }
        int64_t edge;
        zarrc__grid_span(m, d, idx[d], &start[d], &edge); /* idx < grid: start at most shape - 1 */
        count[d] = m->shape[d] - start[d] < edge ? m->shape[d] - start[d] : edge;
    }
}

/* Whether the destination already stores unit idx (a resumed copy skips it). */
static int stored(bool *yes, const copy_job *j, const int64_t *idx)
{
    char *key = chunk_key(j->dst, idx);
    if (!key)
        return ZARRC_ENOMEM;
    zarrc_buf b = ZARRC_BUF_INIT;
    int rc = zarrc__store_get(j->dst->store, key, 0, 0, &b);
    zarrc_buf_release(&b);
    *yes = rc == ZARRC_OK;
    if (rc == ZARRC_ENOTFOUND)
        rc = ZARRC_OK;
    if (rc)
        zarrc__error_context(rc, "chunk '%s': ", key);
    free(key);
    return rc;
}

static int copy_raw(const copy_job *j, const int64_t *idx)
{
    char *skey = chunk_key(j->src, idx), *dkey = skey ? chunk_key(j->dst, idx) : NULL;
    if (!dkey) {
        free(skey);
        return ZARRC_ENOMEM;
    }
    zarrc_buf b = ZARRC_BUF_INIT;
    int rc = zarrc__store_get(j->src->store, skey, 0, -1, &b);
    if (rc == ZARRC_OK) {
        rc = zarrc__store_set(j->dst->store, dkey, b.data, b.size);
    } else if (rc == ZARRC_ENOTFOUND) {
        rc = zarrc__store_erase(j->dst->store, dkey);
        if (rc == ZARRC_ENOTFOUND) {
            zarrc__error_clear();
            rc = ZARRC_OK;
        }
    }
    zarrc_buf_release(&b);
    if (rc)
        zarrc__error_context(rc, "chunk '%s': ", skey);
    free(skey);
    free(dkey);
    return rc;
}

static int copy_unit(void *ctx, size_t k)
{
    copy_job *j = ctx;
    int64_t idx[ZARRC_MAX_DIMS], start[ZARRC_MAX_DIMS], count[ZARRC_MAX_DIMS];
    unit_box(j, k, idx, start, count);
    const zarrc__array_meta *m = &j->dst->meta;
    int rc;
    if (j->skip_existing) {
        bool yes;
        if ((rc = stored(&yes, j, idx)) || yes)
            return rc;
    }
    size_t es = zarrc_dtype_elem_size(&m->dtype), n = 1;
    for (int d = 0; d < m->ndim; d++)
        if (!zarrc__mul_size(n, (size_t)count[d], &n))
            return zarrc_error_set(ZARRC_EINVAL, "copy: a chunk of '%s' has too many elements", j->dst->name);
    if (!zarrc__mul_size(n, es, &n))
        return zarrc_error_set(ZARRC_EINVAL, "copy: a chunk of '%s' is too large", j->dst->name);
    if (j->raw) {
        if ((rc = copy_raw(j, idx)))
            return rc;
    } else {
        zarrc__io_array sio = zarrc__array_io(j->src), dio = zarrc__array_io(j->dst);
        if (zarrc__dtype_is_vlen(&m->dtype)) {
            zarrc_vlen v = {0};
            rc = j->src->view ? zarrc__view_read(j->src, start, count, NULL, &v, sizeof v)
                              : zarrc__io_read(&sio, start, count, NULL, &v, sizeof v);
            if (rc == ZARRC_OK)
                rc = zarrc__io_write(&dio, start, count, NULL, &v, sizeof v);
            zarrc_vlen_clear(&v);
        } else {
            size_t cap;
            uint8_t *buf = unit_buf_take(j, n, &cap);
            rc = !buf ? ZARRC_ENOMEM
                      : j->src->view ? zarrc__view_read(j->src, start, count, NULL, buf, n)
                                     : zarrc__io_read(&sio, start, count, NULL, buf, n);
            if (rc == ZARRC_OK)
                rc = zarrc__io_write(&dio, start, count, NULL, buf, n);
            unit_buf_give(j, buf, cap);
        }
        if (rc)
            return rc;
    }
    __atomic_add_fetch(&j->bytes, (uint64_t)n, __ATOMIC_RELAXED);
    return ZARRC_OK;
}

/* Whether stored chunks can be copied as they are. */
static bool same_encoding(const zarrc_array *dst, const zarrc_array *src)
{
    const zarrc__array_meta *a = &dst->meta, *b = &src->meta;
    if (a->rectilinear || b->rectilinear)
        return false; /* chunks differ in shape: never copied as stored */
    if (a->ndim != b->ndim || memcmp(a->chunks, b->chunks, sizeof a->chunks) ||
        a->dtype.item_size != b->dtype.item_size || strcmp(a->dtype.name, b->dtype.name) ||
        a->dtype.fields != b->dtype.fields || a->dtype.user != b->dtype.user || /* records: same
                                                         interned layout, byte orders included */
        a->fill.is_null != b->fill.is_null || a->fill.size != b->fill.size ||
        (a->fill.size && memcmp(a->fill.bytes, b->fill.bytes, a->fill.size)))
        return false;
    json_object *x = NULL, *y = NULL;
    bool same = !zarrc__pipeline_to_v3(&x, dst->pipeline) && !zarrc__pipeline_to_v3(&y, src->pipeline) &&
                json_object_equal(x, y);
    json_object_put(x);
    json_object_put(y);
    return same;
}

/* ------------------------------------------------------------------------------------------ */
/* Sparse grids: the units touched by stored chunks                                            */
/* ------------------------------------------------------------------------------------------ */

typedef struct unit_set {
    const zarrc_array *dst, *from; /* `from`: the array whose keys are being listed */
    int64_t from_grid[ZARRC_MAX_DIMS];
    int64_t *v;                    /* n records: ndim, then the unit's ndim coordinates */
    size_t n, cap;
    int ndim;
} unit_set;

static int set_push(unit_set *s, const int64_t *idx)
{
    size_t rl = (size_t)s->ndim + 1;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256, bytes;
        if (!zarrc__mul_size(cap, rl * sizeof *s->v, &bytes))
            return zarrc__enomem();
        int64_t *v = zarrc__realloc(s->v, bytes);
        if (!v)
            return ZARRC_ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n * rl] = s->ndim;
    memcpy(s->v + s->n * rl + 1, idx, (size_t)s->ndim * sizeof *idx);
    s->n++;
    return ZARRC_OK;
}

/* One listed key: if it is a chunk of the listed array, add the destination units it covers. */
static int add_listed(void *ctx, const char *name, int is_prefix)
{
    unit_set *s = ctx;
    const zarrc__array_meta *fm = &s->from->meta, *dm = &s->dst->meta;
    size_t pl = strlen(s->from->prefix);
    int64_t c[ZARRC_MAX_DIMS], lo[ZARRC_MAX_DIMS], hi[ZARRC_MAX_DIMS], u[ZARRC_MAX_DIMS];
    if (is_prefix || strncmp(name, s->from->prefix, pl) || !zarrc__node_parse_chunk_key(fm, name + pl, c))
        return 0;
    for (int d = 0; d < s->ndim; d++) {
        if (c[d] >= s->from_grid[d])
            return 0; /* outside the grid: never read */
        int64_t start, edge;
        zarrc__grid_span(fm, d, c[d], &start, &edge); /* c < the source grid: start < shape */
        int64_t end = edge > dm->shape[d] - start ? dm->shape[d] : start + edge;
        lo[d] = zarrc__grid_chunk_of(dm, d, start);
        hi[d] = zarrc__grid_chunk_of(dm, d, end - 1);
        u[d] = lo[d];
    }
    for (;;) { /* every destination unit of the box lo..hi */
        int rc = set_push(s, u);
        if (rc)
            return rc;
        int d = s->ndim - 1;
        while (d >= 0 && u[d] == hi[d]) {
            u[d] = lo[d];
            d--;
        }
        if (d < 0)
            return 0;
        u[d]++;
    }
}

/* C order of two unit records (each starts with its number of dimensions). */
static int cmp_units(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    for (int64_t d = 1; d <= x[0]; d++)
        if (x[d] != y[d])
            return x[d] < y[d] ? -1 : 1;
    return 0;
}

static void grid_dims(const zarrc__array_meta *m, int64_t *grid)
{
    for (int d = 0; d < m->ndim; d++)
        grid[d] = m->rectilinear ? (m->shape[d] ? zarrc__grid_chunk_of(m, d, m->shape[d] - 1) + 1 : 0)
                                 : m->shape[d] / m->chunks[d] + (m->shape[d] % m->chunks[d] != 0);
}

/* The destination units touched by the source's stored chunks or stored in the destination,
 * sorted in C order without duplicates. */
static int sparse_units(unit_set *s, zarrc_array *dst, zarrc_array *src)
{
    memset(s, 0, sizeof *s);
    s->dst = dst;
    s->ndim = dst->meta.ndim;
    int rc = ZARRC_OK;
    zarrc_array *from[2] = {src, dst};
    for (int i = 0; i < 2 && rc == ZARRC_OK; i++) {
        s->from = from[i];
        grid_dims(&from[i]->meta, s->from_grid);
        rc = zarrc__store_list(from[i]->store, from[i]->prefix, add_listed, s);
        if (rc == ZARRC_EUNSUPPORTED)
            zarrc__error_context(rc, "copy: the chunk grid of '%s' is too large to walk and its chunks cannot be listed: ",
                                 dst->name);
    }
    if (rc == ZARRC_OK && s->n > 1) {
        size_t rl = (size_t)s->ndim + 1, w = 1;
        zarrc__sort(s->v, s->n, rl * sizeof *s->v, cmp_units);
        for (size_t r = 1; r < s->n; r++)
            if (memcmp(s->v + r * rl, s->v + (w - 1) * rl, rl * sizeof *s->v))
                memmove(s->v + w++ * rl, s->v + r * rl, rl * sizeof *s->v);
        s->n = w;
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* The copy                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* A pending destination remembers its source; a resumed one refuses another source. */
static int record_source(zarrc_array *dst, zarrc_array *src)
{
    char *loc = zarrc__store_canonical(src->store);
    json_object *rec = json_object_new_object(), *old = NULL;
    if (!loc || !rec) {
        free(loc);
        json_object_put(rec);
        return ZARRC_ENOMEM;
    }
    json_object_object_add(rec, "location", json_object_new_string(loc));
    json_object_object_add(rec, "path", json_object_new_string(src->path));
    json_object_object_add(rec, "metadata", zarrc__json_deep_copy(src->doc));
    json_object_object_add(rec, "attributes", zarrc__json_deep_copy(src->meta.attributes));
    free(loc);
    int rc = ZARRC_OK;
    if (json_object_object_get_ex(dst->pending, "source", &old)) {
        if (!zarrc__json_equal(old, rec, NULL))
            rc = zarrc_error_set(ZARRC_ECONFLICT, "copy: the incomplete copy at '%s' was started from another source "
                                 "or the source's metadata changed since: it cannot be resumed from '%s'",
                                 dst->name, src->name);
        json_object_put(rec);
        return rc;
    }
    json_object_object_add(dst->pending, "source", rec);
    char *key = zarrc__node_key(dst->path, ZARRC__PENDING_NAME);
    rc = key ? zarrc__node_write_json(dst->store, key, dst->pending) : ZARRC_ENOMEM;
    free(key);
    return rc;
}

int zarrc_array_copy(zarrc_array *dst, zarrc_array *src, const zarrc_copy_options *opt, zarrc_copy_stats *stats)
{
    zarrc__error_clear();
    zarrc_copy_options dflt = ZARRC_COPY_OPTIONS_INIT;
    if (!opt)
        opt = &dflt;
    if (stats)
        memset(stats, 0, sizeof *stats);
    const zarrc__array_meta *m = &dst->meta, *sm = &src->meta;
    if (opt->version != ZARRC_COPY_OPTIONS_VERSION)
        return zarrc_error_set(ZARRC_EINVAL, "unknown copy options version %u", opt->version);
    if (m->ndim != sm->ndim || memcmp(m->shape, sm->shape, (size_t)m->ndim * sizeof *m->shape))
        return zarrc_error_set(ZARRC_EINVAL, "copy: the arrays' shapes differ");
    if (!zarrc__dtype_equal(&m->dtype, &sm->dtype))
        return zarrc_error_set(ZARRC_EINVAL, "copy: data types differ ('%s' and '%s')", sm->dtype.name,
                               m->dtype.name);
    if (dst->view)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "copy: the destination '%s' is a view (copy into its layers by "
                               "writing through it)", dst->name);
    /* A view owns no keys: it cannot overlap the destination as a node does. */
    int relation = ZARRC_OVERLAP_NONE, rc = src->view ? ZARRC_OK
                                                      : zarrc__node_relation(&relation, src->store, src->path,
                                                                             dst->store, dst->path);
    if (rc == ZARRC_OK && relation != ZARRC_OVERLAP_NONE)
        return zarrc_error_set(ZARRC_EINVAL, "copy: the source '%s' and the destination '%s' are %s", src->name,
                               dst->name, relation == ZARRC_OVERLAP_SAME ? "the same array" : "nested in each other");
    if (rc == ZARRC_OK && !src->view)
        rc = zarrc__array_need_pipeline(src);
    if (rc == ZARRC_OK)
        rc = zarrc__array_need_pipeline(dst);
    if (rc == ZARRC_OK && dst->pending)
        rc = record_source(dst, src);
    if (rc)
        return rc;
    copy_job j;
    memset(&j, 0, sizeof j);
    j.dst = dst;
    j.src = src;
    j.raw = opt->allow_raw && !src->view && same_encoding(dst, src);
    j.skip_existing = dst->resumed;
    grid_dims(m, j.grid);
    pthread_mutex_init(&j.spare_mu, NULL);
    uint64_t total = 1;
    bool huge = false;
    for (int d = 0; d < m->ndim; d++)
        huge = huge || __builtin_mul_overflow(total, (uint64_t)j.grid[d], &total);
    unit_set us;
    memset(&us, 0, sizeof us);
    if (huge || total > DENSE_UNITS) {
        rc = sparse_units(&us, dst, src);
        total = us.n;
    }
    /* A few units per thread at a time: memory is bounded by the batch, not the array. */
    uint64_t batch = (uint64_t)zarrc_get_num_threads() * 2;
    for (j.first = 0; rc == ZARRC_OK && j.first < total; j.first += j.nunits) {
        j.nunits = total - j.first < batch ? total - j.first : batch;
        j.coords = us.v ? us.v + j.first * ((uint64_t)m->ndim + 1) : NULL;
        rc = zarrc__pool_run((size_t)j.nunits, copy_unit, &j);
        if (rc == ZARRC_OK && opt->progress && opt->progress(opt->progress_ctx, j.first + j.nunits, total))
            rc = zarrc_error_set(ZARRC_ECONFLICT, "copy cancelled");
    }
    free(us.v);
    for (size_t k = 0; k < j.nspare; k++)
        free(j.spare[k]);
    free(j.spare);
    pthread_mutex_destroy(&j.spare_mu);
    if (rc == ZARRC_OK && dst->pending) /* complete: the metadata goes last */
        rc = zarrc_array_commit(dst);
    if (stats) {
        stats->units = rc ? j.first : total;
        stats->bytes = j.bytes;
        stats->raw = j.raw;
    }
    return rc;
}
