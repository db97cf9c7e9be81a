/*
 * copy.c — streaming array copy (convert, recompress, rechunk) with bounded memory.
 *
 * The destination's chunk grid (chunks or shards) is walked in batches of a few units per
 * thread; each unit is read from the source and written as whole destination chunks, so the
 * destination never needs a read-modify-write. When both arrays store chunks identically
 * (same chunk shape, data type, fill value and encoded pipeline), stored bytes are copied and
 * only re-keyed (e.g. a v2 → v3 conversion with a "v2" key encoding is then just new keys).
 */
#include <stdlib.h>

#include "node.h"

typedef struct copy_job {
    zarrc_array *dst, *src;
    bool raw;
    uint64_t first, nunits;    /* this batch: units [first, first + nunits) */
    int64_t grid[ZARRC_MAX_DIMS];
    uint64_t bytes;            /* decoded bytes copied (atomic) */
} copy_job;

/* Chunk coordinates and the in-bounds box of destination unit u. */
static void unit_box(const copy_job *j, uint64_t u, int64_t *idx, int64_t *start, int64_t *count)
{
    const zarrc__array_meta *m = &j->dst->meta;
    for (int d = m->ndim - 1; d >= 0; d--) {
        idx[d] = (int64_t)(u % (uint64_t)j->grid[d]);
        u /= (uint64_t)j->grid[d];
        start[d] = idx[d] * m->chunks[d];
        count[d] = m->shape[d] - start[d] < m->chunks[d] ? m->shape[d] - start[d] : m->chunks[d];
    }
}

static int copy_unit(void *ctx, size_t k)
{
    copy_job *j = ctx;
    int64_t idx[ZARRC_MAX_DIMS], start[ZARRC_MAX_DIMS], count[ZARRC_MAX_DIMS];
    unit_box(j, j->first + k, idx, start, count);
    const zarrc__array_meta *m = &j->dst->meta;
    int rc;
    if (j->raw) {
        char skey[1024 + 24 * ZARRC_MAX_DIMS], dkey[1024 + 24 * ZARRC_MAX_DIMS];
        size_t sp = strlen(j->src->prefix), dp = strlen(j->dst->prefix);
        memcpy(skey, j->src->prefix, sp);
        memcpy(dkey, j->dst->prefix, dp);
        zarrc__meta_chunk_key(&j->src->meta, idx, skey + sp, sizeof skey - sp - 1);
        zarrc__meta_chunk_key(m, idx, dkey + dp, sizeof dkey - dp - 1);
        zarrc_buf b = ZARRC_BUF_INIT;
        rc = zarrc__store_get(j->src->store, skey, 0, -1, &b);
        if (rc == ZARRC_OK) {
            rc = zarrc__store_set(j->dst->store, dkey, b.data, b.size);
        } else if (rc == ZARRC_ENOTFOUND) {
            rc = zarrc__store_erase(j->dst->store, dkey);
            if (rc == ZARRC_ENOTFOUND)
                rc = ZARRC_OK;
        }
        zarrc_buf_release(&b);
        if (rc)
            return zarrc__error_context(rc, "chunk '%s': ", skey);
    } else {
        size_t es = zarrc_dtype_elem_size(&m->dtype), n = 1;
        for (int d = 0; d < m->ndim; d++)
            n *= (size_t)count[d];
        zarrc__io_array sio = zarrc__array_io(j->src), dio = zarrc__array_io(j->dst);
        if (zarrc__dtype_is_vlen(&m->dtype)) {
            zarrc_vlen v;
            rc = zarrc__io_read(&sio, start, count, NULL, &v, sizeof v);
            if (rc == ZARRC_OK)
                rc = zarrc__io_write(&dio, start, count, NULL, &v, sizeof v);
            zarrc_vlen_clear(&v);
        } else {
            uint8_t *buf = zarrc__malloc(n * es);
            rc = buf ? zarrc__io_read(&sio, start, count, NULL, buf, n * es) : ZARRC_ENOMEM;
            if (rc == ZARRC_OK)
                rc = zarrc__io_write(&dio, start, count, NULL, buf, n * es);
            free(buf);
        }
        if (rc)
            return rc;
    }
    uint64_t n = zarrc_dtype_elem_size(&m->dtype);
    for (int d = 0; d < m->ndim; d++)
        n *= (uint64_t)count[d];
    __atomic_add_fetch(&j->bytes, n, __ATOMIC_RELAXED);
    return ZARRC_OK;
}

/* Whether stored chunks can be copied as they are. */
static bool same_encoding(const zarrc_array *dst, const zarrc_array *src)
{
    const zarrc__array_meta *a = &dst->meta, *b = &src->meta;
    if (a->ndim != b->ndim || memcmp(a->chunks, b->chunks, sizeof a->chunks) ||
        a->dtype.item_size != b->dtype.item_size || strcmp(a->dtype.name, b->dtype.name) ||
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
    if (m->dtype.kind != sm->dtype.kind || m->dtype.item_size != sm->dtype.item_size ||
        strcmp(m->dtype.name, sm->dtype.name))
        return zarrc_error_set(ZARRC_EINVAL, "copy: data types differ ('%s' and '%s')", sm->dtype.name,
                               m->dtype.name);
    int rc = zarrc__array_need_pipeline(src);
    if (rc == ZARRC_OK)
        rc = zarrc__array_need_pipeline(dst);
    if (rc)
        return rc;
    copy_job j;
    memset(&j, 0, sizeof j);
    j.dst = dst;
    j.src = src;
    j.raw = opt->allow_raw && same_encoding(dst, src);
    uint64_t total = 1;
    for (int d = 0; d < m->ndim; d++) {
        j.grid[d] = m->shape[d] ? (m->shape[d] + m->chunks[d] - 1) / m->chunks[d] : 0;
        total *= (uint64_t)j.grid[d];
    }
    /* A few units per thread at a time: memory is bounded by the batch, not the array. */
    uint64_t batch = (uint64_t)zarrc_get_num_threads() * 2;
    for (j.first = 0; j.first < total && rc == ZARRC_OK; j.first += j.nunits) {
        j.nunits = total - j.first < batch ? total - j.first : batch;
        rc = zarrc__pool_run((size_t)j.nunits, copy_unit, &j);
        if (rc == ZARRC_OK && opt->progress && opt->progress(opt->progress_ctx, j.first + j.nunits, total))
            rc = zarrc_error_set(ZARRC_ECONFLICT, "copy cancelled");
    }
    if (stats) {
        stats->units = rc ? j.first : total;
        stats->bytes = j.bytes;
        stats->raw = j.raw;
    }
    return rc;
}
