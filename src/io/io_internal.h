/* io_internal.h — pieces shared by the I/O engine's files (io.c, io_shard.c). */
#ifndef ZARRC_IO_INTERNAL_H
#define ZARRC_IO_INTERNAL_H

#include "../grid/grid.h"
#include "io.h"

/** Per-thread reusable buffers: no allocation per chunk in steady state. */
typedef struct thread_bufs {
    zarrc__scratch scratch;
    zarrc_buf raw;   /* bytes read from the store */
    zarrc_buf chunk; /* one decoded chunk */
    zarrc_buf enc;   /* one encoded chunk */
    zarrc_buf key;   /* the current chunk's store key (grows with the array's path) */
    zarrc_buf parts; /* zarrc_vref[]: a chunk written as runs of the caller's box (io.c) */
    zarrc_buf *spares; /* sharded writes by this thread: encoded inner chunk buffers kept from
                          its last write for the next one (io_shard.c; bounded there) */
    size_t nspares, capspares;
} thread_bufs;

/** Whether a sub-box of `n` elements is one contiguous run in a C-order box of `count`
 *  (every dimension after the first one longer than 1 is whole). */
static inline bool zarrc__box_contiguous(const int64_t *n, const int64_t *count, int nd)
{
    int first = 0;
    while (first < nd && n[first] == 1)
        first++;
    for (int d = first + 1; d < nd; d++)
        if (n[d] != count[d])
            return false;
    return true;
}

/** The source address of the element at byte offset `off` of a write's box whose position
 *  along dimension 0 is `runs[0]->sel_pos` (dstride0: the box's byte stride along it): `data`
 *  + off, or inside its piece when the source comes in pieces (zarrc__io_array.pieces; only
 *  then is runs[0] read: scalars have none). */
static inline const uint8_t *zarrc__io_src(const zarrc__io_array *a, const uint8_t *data, int64_t off,
                                          const zarrc__run *const *runs, int64_t dstride0)
{
    if (!a->pieces)
        return data + off;
    int64_t k = runs[0]->sel_pos / a->piece_rows;
    return a->pieces[k] + (off - k * a->piece_rows * dstride0);
}

/** Whether a read's destination box of `count` elements of es bytes is placed with streaming
 *  stores (zarrc__stream_output of its byte size; a size that overflows counts as huge). */
static inline bool zarrc__io_box_streams(const int64_t *count, int nd, size_t es)
{
    size_t bytes = es;
    for (int d = 0; d < nd; d++)
        if (__builtin_mul_overflow(bytes, (size_t)count[d], &bytes))
            bytes = SIZE_MAX;
    return zarrc__stream_output(bytes);
}

/** Place a decoded box into a read's destination: zarrc__copy_box, or with streaming stores
 *  (zarrc__copy_box_stream) when the destination is larger than the cache. */
static inline void zarrc__io_place(bool stream, uint8_t *dst, const int64_t *dstride, const uint8_t *src,
                                   const int64_t *sstride, const int64_t *n, int nd, size_t es)
{
    if (stream)
        zarrc__copy_box_stream(dst, dstride, src, sstride, n, nd, es);
    else
        zarrc__copy_box(dst, dstride, src, sstride, n, nd, es);
}

/** This thread's buffers (NULL on allocation failure). */
ZARRC_HIDDEN thread_bufs *zarrc__io_bufs(void);

/** Decode a whole chunk of `shape` (2+ dimensions) straight into a strided destination box
 *  (byte strides `dstride`, C order, rows contiguous), piece by piece while the pieces are in
 *  cache; `stream`: the rows with streaming stores (zarrc__io_place). Only for pipelines where
 *  zarrc__pipeline_can_stream. */
ZARRC_HIDDEN int zarrc__io_scatter_decode(const zarrc__pipeline *p, const uint8_t *in, size_t n, uint8_t *dst,
                                          const int64_t *dstride, const int64_t *shape, int nd, size_t es,
                                          bool stream);

/** Sharded arrays (the pipeline is exactly [sharding_indexed]): partial reads and writes. */
ZARRC_HIDDEN int zarrc__io_shard_read(const zarrc__io_array *a, const zarrc__shard_spec *spec,
                                      const int64_t *start, const int64_t *count, const int64_t *step,
                                      uint8_t *out, size_t es, zarrc_buf **keeps_out, size_t *nkeeps);
ZARRC_HIDDEN int zarrc__io_shard_write(const zarrc__io_array *a, const zarrc__shard_spec *spec,
                                       const int64_t *start, const int64_t *count, const int64_t *step,
                                       const uint8_t *in, size_t es);

#endif
