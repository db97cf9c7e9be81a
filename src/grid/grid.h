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

/** Validate the selection against `shape` (ZARRC_EBOUNDS / ZARRC_EINVAL naming the dimension)
 *  and plan it. step may be NULL. */
ZARRC_HIDDEN int zarrc__plan_make(zarrc__plan *p, int ndim, const int64_t *shape, const int64_t *chunks,
                                  const int64_t *start, const int64_t *count, const int64_t *step);
/** The runs of task i, one per dimension. */
ZARRC_HIDDEN void zarrc__plan_task(const zarrc__plan *p, size_t i, const zarrc__run **runs);
ZARRC_HIDDEN void zarrc__plan_free(zarrc__plan *p);

#endif
