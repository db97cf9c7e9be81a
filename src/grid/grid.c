/* grid.c — selection planning over a regular chunk grid. */
#include <stdlib.h>

#include "grid.h"
#include "../meta/meta.h"

void zarrc__plan_free(zarrc__plan *p)
{
    for (int d = 0; d < p->ndim; d++)
        free(p->runs[d]);
    memset(p, 0, sizeof *p);
}

int zarrc__selection_check(int ndim, const int64_t *shape, const int64_t *start, const int64_t *count,
                           const int64_t *step)
{
    if (ndim < 0 || ndim > ZARRC_MAX_DIMS)
        return zarrc_error_set(ZARRC_EINVAL, "%d dimensions (at most %d supported)", ndim, ZARRC_MAX_DIMS);
    for (int d = 0; d < ndim; d++) {
        int64_t s = step ? step[d] : 1;
        if (shape[d] < 0)
            return zarrc_error_set(ZARRC_EINVAL, "dimension %d: negative length %lld", d, (long long)shape[d]);
        if (s < 1)
            return zarrc_error_set(ZARRC_EINVAL, "dimension %d: step must be >= 1 (got %lld)", d, (long long)s);
        if (start[d] < 0 || count[d] < 0)
            return zarrc_error_set(ZARRC_EBOUNDS, "dimension %d: negative start or count", d);
        /* (count - 1) * s <= shape - 1 - start, without computing the product */
        if (count[d] > 0 && (start[d] >= shape[d] || (count[d] - 1) > (shape[d] - 1 - start[d]) / s))
            return zarrc_error_set(ZARRC_EBOUNDS, "dimension %d: selection %lld + %lld x %lld exceeds "
                                   "the array length %lld", d, (long long)start[d], (long long)count[d],
                                   (long long)s, (long long)shape[d]);
    }
    return ZARRC_OK;
}

int zarrc__plan_make(zarrc__plan *p, int ndim, const int64_t *shape, const int64_t *chunks,
                     const int64_t *start, const int64_t *count, const int64_t *step)
{
    memset(p, 0, sizeof *p);
    int rc = zarrc__selection_check(ndim, shape, start, count, step);
    if (rc)
        return rc;
    p->ndim = ndim;
    p->ntasks = 1;
    /* After the check every selected index start + k * step (k < count) is at most
     * shape - 1, so no product or sum below can overflow. */
    for (int d = 0; d < ndim; d++) {
        if (chunks[d] < 1)
            return zarrc_error_set(ZARRC_EINVAL, "dimension %d: chunk length %lld", d, (long long)chunks[d]);
        p->step[d] = step ? step[d] : 1;
    }
    for (int d = 0; d < ndim; d++)
        if (count[d] == 0) { /* an empty selection touches no chunk */
            p->ntasks = 0;
            return ZARRC_OK;
        }
    for (int d = 0; d < ndim; d++) {
        int64_t c = chunks[d], s = p->step[d], n = count[d];
        /* Upper bound of runs: one per selected element or per chunk spanned. */
        int64_t span = n ? ((start[d] + (n - 1) * s) / c - start[d] / c + 1) : 0;
        int64_t cap = n < span ? n : span;
        size_t bytes;
        if (!zarrc__mul_size((size_t)(cap ? cap : 1), sizeof(zarrc__run), &bytes)) {
            zarrc__plan_free(p);
            return zarrc_error_set(ZARRC_EBOUNDS, "dimension %d: the selection touches too many chunks (%lld)", d,
                                   (long long)cap);
        }
        p->runs[d] = zarrc__malloc(bytes);
        if (!p->runs[d]) {
            zarrc__plan_free(p);
            return ZARRC_ENOMEM;
        }
        size_t k = 0;
        for (int64_t pos = 0; pos < n;) {
            /* idx <= shape - 1; the run takes the selected elements up to the chunk's end. */
            int64_t idx = start[d] + pos * s, ch = idx / c, off = idx - ch * c;
            int64_t in = (c - off - 1) / s + 1;
            if (in > n - pos)
                in = n - pos;
            p->runs[d][k++] = (zarrc__run){ch, off, pos, in};
            pos += in;
        }
        p->nruns[d] = k;
        if (!zarrc__mul_size(p->ntasks, k, &p->ntasks)) {
            zarrc__plan_free(p);
            return zarrc_error_set(ZARRC_EBOUNDS, "the selection touches too many chunks");
        }
    }
    return ZARRC_OK;
}

void zarrc__plan_task(const zarrc__plan *p, size_t i, const zarrc__run **runs)
{
    for (int d = p->ndim - 1; d >= 0; d--) {
        runs[d] = &p->runs[d][i % p->nruns[d]];
        i /= p->nruns[d];
    }
}

/* The run of rectilinear dimension d holding chunk `chunk` (by_chunk) or index `idx`; the last
 * run when past the end. */
static const zarrc__edge_run *run_of(const zarrc__array_meta *m, int d, int64_t v, bool by_chunk)
{
    const zarrc__edge_run *r = m->runs[d];
    size_t lo = 0, hi = m->nruns[d];
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if ((by_chunk ? r[mid].chunk0 : r[mid].index0) <= v)
            lo = mid;
        else
            hi = mid;
    }
    return &r[lo];
}

int64_t zarrc__grid_chunk_of(const zarrc__array_meta *m, int d, int64_t idx)
{
    if (!m->rectilinear || !m->runs[d])
        return idx / m->chunks[d];
    const zarrc__edge_run *r = run_of(m, d, idx, false);
    return r->chunk0 + (idx - r->index0) / r->size;
}

void zarrc__grid_span(const zarrc__array_meta *m, int d, int64_t chunk, int64_t *lo, int64_t *size)
{
    int64_t base = 0, c = chunk, sz = m->chunks[d];
    if (m->rectilinear && m->runs[d]) {
        const zarrc__edge_run *r = run_of(m, d, chunk, true);
        base = r->index0;
        c = chunk - r->chunk0;
        sz = r->size;
    }
    *size = sz;
    if (__builtin_mul_overflow(c, sz, lo) || __builtin_add_overflow(*lo, base, lo))
        *lo = INT64_MAX;
}

int64_t zarrc__grid_round_up(const zarrc__array_meta *m, int d, int64_t x)
{
    if (x <= 0)
        return x;
    int64_t lo, size, end;
    zarrc__grid_span(m, d, zarrc__grid_chunk_of(m, d, x - 1), &lo, &size);
    if (__builtin_add_overflow(lo, size, &end))
        end = INT64_MAX;
    return end;
}
