/*
 * grid.h — regular chunk grids: map a strided selection to the chunks it touches. The plan
 * holds, per dimension, one run per touched chunk (at most min(count, touched chunks) runs),
 * so planning costs what the selection touches, never what the array holds. Task i of the
 * plan is the i-th touched chunk in C order (mixed-radix over the per-dimension runs).
 */
#ifndef ZARRC_GRID_H
#define ZARRC_GRID_H

#include "../core/core.h"

typedef struct zarrc__run {
    int64_t chunk;   /* chunk index along the dimension */
    int64_t offset;  /* first selected element, relative to the chunk's start */
    int64_t sel_pos; /* its position in the selection (output index) */
    int64_t n;       /* selected elements in this chunk */
} zarrc__run;

typedef struct zarrc__plan {
    int ndim;
    size_t ntasks;
    int64_t step[ZARRC_MAX_DIMS];
    zarrc__run *runs[ZARRC_MAX_DIMS];
    size_t nruns[ZARRC_MAX_DIMS];
} zarrc__plan;

/** Check a strided selection (start, count, step per dimension; step may be NULL = 1) against
 *  `shape`: steps >= 1, start and count >= 0, and the last selected index start + (count - 1)
 *  * step inside the array (checked without overflow). ZARRC_EBOUNDS / ZARRC_EINVAL naming the
 *  dimension. */
ZARRC_HIDDEN int zarrc__selection_check(int ndim, const int64_t *shape, const int64_t *start, const int64_t *count,
                                        const int64_t *step);
/** Check the selection (zarrc__selection_check) and plan it over chunks of `chunks` (>= 1).
 *  ZARRC_EBOUNDS if the plan's size overflows. */
ZARRC_HIDDEN int zarrc__plan_make(zarrc__plan *p, int ndim, const int64_t *shape, const int64_t *chunks,
                                  const int64_t *start, const int64_t *count, const int64_t *step);
/** The step between the selected elements of run `r` along dimension d: the selection's step,
 *  or 1 for a run of one element (its step does not matter). A run of two or more elements
 *  lies inside one chunk, so its step is below the chunk length: strides times this step stay
 *  within the chunk's byte size. */
static inline int64_t zarrc__run_step(const zarrc__plan *p, int d, const zarrc__run *r)
{
    return r->n > 1 ? p->step[d] : 1;
}

/** The runs of task i, one per dimension. */
ZARRC_HIDDEN void zarrc__plan_task(const zarrc__plan *p, size_t i, const zarrc__run **runs);
ZARRC_HIDDEN void zarrc__plan_free(zarrc__plan *p);

/* ---- one dimension of an array's chunk grid, regular or rectilinear (meta.h) ---- */
struct zarrc__array_meta;

/** The chunk holding index `idx` (>= 0) along dimension d. Past the end of a rectilinear
 *  dimension's edges, chunks are counted on as if of the last edge (keys there are stale). */
ZARRC_HIDDEN int64_t zarrc__grid_chunk_of(const struct zarrc__array_meta *m, int d, int64_t idx);
/** Where chunk `chunk` (>= 0) starts along dimension d, and its edge (declared length);
 *  saturating at INT64_MAX for chunks that cannot be addressed. */
ZARRC_HIDDEN void zarrc__grid_span(const struct zarrc__array_meta *m, int d, int64_t chunk, int64_t *lo,
                                   int64_t *size);
/** The end of the chunk holding index x - 1 (x itself when x is 0): x rounded up to a chunk
 *  boundary (saturating). */
ZARRC_HIDDEN int64_t zarrc__grid_round_up(const struct zarrc__array_meta *m, int d, int64_t x);

#endif
