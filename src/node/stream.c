/*
 * stream.c — the streaming append writer (zarrc_stream_*): frames arriving in order along one
 * axis are gathered into slabs (one chunk's — or shard's — extent along the axis, the array's
 * whole extent along the others) in a ring; the writer thread writes each complete slab through
 * zarrc_array_write_at(ZARRC_EXTEND) — the serialized extend path of extend.c, which stores
 * the slab's chunks first and publishes the grown shape after them (lock stores), so a kill
 * never leaves frames inside the shape that read fill — whose chunk tasks encode in parallel
 * on the shared pool. On lock stores the writer holds one grow session (extend.c) over
 * consecutive batches and publishes the shape when idle or every STREAM_PUBLISH_MS.
 *
 * Slabs are numbered from 0 in stream order; slab g lives in ring slot g % K. The producer fills
 * slab `full` (its slot is free while full < done + K) and hands it over by incrementing `full`;
 * the writer takes slabs [done, full), as one block when they are consecutive in the ring and
 * contiguous in the array's C order (axis 0, or every axis before it of length 1), and
 * increments `done` after writing. Slab 0 holds fewer indices when the stream starts inside a
 * chunk (start % chunk != 0): slabs always end on chunk boundaries, so every write after the
 * first covers whole chunks and needs no read-modify-write. On close the partly filled slab is
 * written last (its rows compacted to a C-order block first when the axis is not 0).
 *
 * Lent frames (zarrc_stream_append_lent): a frame that starts on a slab boundary and holds
 * whole slabs (off axis 0: exactly one) is not copied — its slabs take their numbers like any
 * other (so they count against the queue: back-pressure) but their descriptor points at the
 * caller's memory. The frame is released once its last lent slab is written: by the writer
 * when the call had ended by then (the call marks that slab `last` on its way out, under the
 * lock), else by the call itself; a failing call marks nothing, and the writer has stopped
 * reading slabs once it failed, so nothing of such a frame is read after the call returns.
 * Close releases the marked frames the writer did not get to (a stream error). Lent slabs
 * waiting together are one block too: adjacent in memory as ring slabs are, or, along axis 0,
 * scattered — the engine then reads each chunk from its slab (zarrc__grow_session_write_pieces,
 * or zarrc__array_write_at_pieces on stores without per-key locks).
 *
 * Memory: K slabs (the queue, advised to use huge pages; pages only copied frames touch) + what
 * the pool's threads hold while encoding the slab's chunks (+ for sharded arrays the inner chunk
 * buffers the writer thread keeps between writes: see zarrc_stream_estimate_memory).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "node.h"

/* Where slab g's bytes are (descriptor of ring slot g % K while done <= g < full). */
typedef struct slab_desc {
    const uint8_t *lent;             /* the caller's memory, or NULL: the ring slot */
    zarrc_stream_release_fn release; /* lent frames: released after this slab when `last` */
    void *ctx;
    const void *frame;
    bool last; /* guarded by lock: the frame's last lent slab, and its call has returned */
} slab_desc;

struct zarrc_stream {
    zarrc_array *array;
    int nd, axis;
    int64_t ext[ZARRC_MAX_DIMS]; /* the frames' extent along every axis (ext[axis] unused) */
    int64_t chunk;               /* chunk (shard) extent along the axis */
    int64_t start;               /* where slab 0's first index lands */
    int64_t head;                /* slab 0's capacity in indices (chunk - start % chunk) */
    size_t row_bytes;            /* bytes of one index along the axis */
    size_t outer, inner_bytes;   /* axis > 0: product of the extents before it; bytes after it */
    size_t slab_bytes, nslots;
    uint8_t *ring;
    slab_desc *desc;             /* nslots descriptors */
    slab_desc *rel;              /* nslots: the writer's copies of the frames it releases */
    const uint8_t **pieces;      /* nslots: a batch of lent slabs scattered in memory */
    bool batchable;              /* consecutive slabs are one C-order block */
    uint64_t gather;             /* slabs that give every pool thread a chunk to encode */

    pthread_t writer;
    bool writer_started;
    pthread_mutex_t lock;
    pthread_cond_t work, space;
    uint64_t full, done;  /* slabs handed over / written (guarded by lock) */
    int64_t fill;         /* indices in slab `full` (producer only, read by the writer on close) */
    bool closing;
    bool failed;          /* guarded by lock; err is written once by the writer before it is set */
    zarrc__error_saved err;
    int64_t appended;     /* indices appended (producer only) */
};

/* Capacity of slab g, in indices along the axis. */
static int64_t slab_cap(const zarrc_stream *s, uint64_t g) { return g == 0 ? s->head : s->chunk; }

/* First index of slab g along the axis (no overflow: checked against `appended` on append). */
static int64_t slab_lo(const zarrc_stream *s, uint64_t g)
{
    return g == 0 ? s->start : s->start + s->head + (int64_t)(g - 1) * s->chunk;
}

static uint8_t *slot_of(const zarrc_stream *s, uint64_t g) { return s->ring + (size_t)(g % s->nslots) * s->slab_bytes; }

/* Bytes of the per-slot state of lending (descriptor, the writer's release copy, piece).
 * A stream lends only when that state for all slots stays within a 16th of the ring or 64 KiB:
 * a queue of very many tiny slabs (where lending saves little) keeps none and copies. */
#define LEND_PER_SLOT (2 * sizeof(slab_desc) + sizeof(const uint8_t *))

static bool lend_state_fits(size_t nslots, size_t slab_bytes)
{
    size_t ring = nslots * slab_bytes, cap = ring / 16 > ((size_t)64 << 10) ? ring / 16 : (size_t)64 << 10;
    return nslots <= cap / LEND_PER_SLOT;
}

static slab_desc *desc_of(const zarrc_stream *s, uint64_t g) { return &s->desc[g % s->nslots]; }

/* Slab g's lent memory, or NULL (in the ring). */
static const uint8_t *lent_of(const zarrc_stream *s, uint64_t g) { return s->desc ? desc_of(s, g)->lent : NULL; }

/* Whether slab g is the last lent slab of a frame whose call has returned (s->lock held). */
static bool last_of(const zarrc_stream *s, uint64_t g) { return s->desc && desc_of(s, g)->last; }

/* Slab g's bytes: lent memory or its ring slot. */
static const uint8_t *slab_data(const zarrc_stream *s, uint64_t g)
{
    const uint8_t *l = lent_of(s, g);
    return l ? l : slot_of(s, g);
}

/* Geometry shared by open and estimate_memory: checks the array and the options. */
typedef struct geom {
    int axis;
    int64_t chunk, start;
    size_t row_bytes, slab_bytes, nslots, chunk_bytes, outer, inner_bytes;
} geom;

static int stream_geometry(const zarrc_array *a, const zarrc_stream_options *opts, geom *g)
{
    zarrc_stream_options o = ZARRC_STREAM_OPTIONS_INIT;
    if (opts)
        o = *opts;
    memset(g, 0, sizeof *g);
    int rc = zarrc__array_need_pipeline(a);
    if (rc)
        return rc;
    if (a->view)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "array '%s' is a view: streams write stored arrays", a->name);
    if (a->pending)
        return zarrc_error_set(ZARRC_EINVAL, "array '%s' is not committed yet (ZARRC_CREATE_PENDING): it cannot "
                               "be streamed into", a->name);
    if (zarrc__dtype_is_vlen(&a->meta.dtype))
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "array '%s': streams take fixed-size data types, not %s", a->name,
                               a->meta.dtype.name);
    int nd = a->meta.ndim;
    if (nd == 0)
        return zarrc_error_set(ZARRC_EINVAL, "array '%s' is a scalar: there is no axis to stream along", a->name);
    if (o.axis < 0 || o.axis >= nd)
        return zarrc_error_set(ZARRC_EINVAL, "axis %d is not a dimension of array '%s' (it has %d)", o.axis, a->name,
                               nd);
    g->axis = o.axis;
    g->chunk = a->meta.chunks[o.axis];
    g->start = o.start < 0 ? a->meta.shape[o.axis] : o.start;
    if (o.start < -1)
        return zarrc_error_set(ZARRC_EINVAL, "stream start %lld is negative", (long long)o.start);
    size_t es = zarrc_dtype_elem_size(&a->meta.dtype), row = es, inner = es, outer = 1, cb = es;
    for (int d = 0; d < nd; d++) {
        if (!zarrc__mul_size(cb, (size_t)a->meta.chunks[d], &cb))
            return zarrc_error_set(ZARRC_EBOUNDS, "array '%s': the chunk's byte size overflows", a->name);
        if (d == o.axis)
            continue;
        int64_t e = a->meta.shape[d];
        if (e <= 0)
            return zarrc_error_set(ZARRC_EINVAL, "array '%s' has extent 0 along axis %d: frames would be empty "
                                   "(resize it first)", a->name, d);
        if (!zarrc__mul_size(row, (size_t)e, &row) || (d < o.axis && !zarrc__mul_size(outer, (size_t)e, &outer)) ||
            (d > o.axis && !zarrc__mul_size(inner, (size_t)e, &inner)))
            return zarrc_error_set(ZARRC_EBOUNDS, "array '%s': a frame's byte size overflows", a->name);
    }
    g->row_bytes = row;
    g->outer = outer;
    g->inner_bytes = inner;
    g->chunk_bytes = cb;
    if (!zarrc__mul_size(row, (size_t)g->chunk, &g->slab_bytes))
        return zarrc_error_set(ZARRC_EBOUNDS, "array '%s': a slab of %lld indices along axis %d overflows", a->name,
                               (long long)g->chunk, o.axis);
    size_t q = o.queue_bytes;
    if (q == 0) {
        /* 64 MiB, or two slabs per pool thread when that is more, at most 256 MiB. */
        size_t two = (size_t)zarrc_get_num_threads() * 2, cap = (size_t)256 << 20;
        q = g->slab_bytes && cap / g->slab_bytes < two ? cap : two * g->slab_bytes;
        if (q < ((size_t)64 << 20))
            q = (size_t)64 << 20;
    }
    g->nslots = g->slab_bytes ? q / g->slab_bytes : 2;
    if (g->nslots < 2)
        g->nslots = 2;
    size_t ring;
    if (!zarrc__mul_size(g->nslots, g->slab_bytes, &ring))
        return zarrc_error_set(ZARRC_EBOUNDS, "array '%s': the stream's queue overflows", a->name);
    return ZARRC_OK;
}

int zarrc_stream_estimate_memory(const zarrc_array *a, const zarrc_stream_options *opts, size_t *bytes)
{
    zarrc__error_clear();
    if (!a || !bytes)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_stream_estimate_memory: NULL argument");
    geom g;
    int rc = stream_geometry(a, opts, &g);
    if (rc)
        return rc;
    size_t ring = g.nslots * g.slab_bytes, per, all, total;
    /* Sharded: the writer thread also keeps one shard's encoded inner chunk buffers (their
     * capacities at most two shards' bytes) between writes (io_shard.c). */
    bool sharded = a->pipeline && zarrc__pipeline_shard_spec(a->pipeline);
    size_t holders = (size_t)zarrc_get_num_threads() + (sharded ? 1 : 0); /* 2 chunks' bytes each */
    if (!zarrc__mul_size(g.chunk_bytes, 2, &per) || !zarrc__mul_size(per, holders, &all) ||
        __builtin_add_overflow(ring, all, &total))
        return zarrc_error_set(ZARRC_EBOUNDS, "array '%s': the stream's memory overflows", a->name);
    /* + the state of lending (nslots × LEND_PER_SLOT, bounded by lend_state_fits). */
    size_t desc = lend_state_fits(g.nslots, g.slab_bytes) ? g.nslots * LEND_PER_SLOT : 0;
    if (__builtin_add_overflow(total, desc + sizeof(zarrc_stream), &total))
        return zarrc_error_set(ZARRC_EBOUNDS, "array '%s': the stream's memory overflows", a->name);
    *bytes = total;
    return ZARRC_OK;
}

/* Write `n` slabs from slab g on (n == 1 unless batchable), the last holding `rows` indices:
 * through the grow session `gs` when there is one (published later), else as one extend. */
static int write_slabs(zarrc_stream *s, zarrc__grow_session *gs, uint64_t g, uint64_t n, int64_t rows)
{
    int64_t off[ZARRC_MAX_DIMS], shape[ZARRC_MAX_DIMS];
    for (int d = 0; d < s->nd; d++) {
        off[d] = 0;
        shape[d] = s->ext[d];
    }
    off[s->axis] = slab_lo(s, g);
    int64_t total = 0;
    for (uint64_t k = 0; k + 1 < n; k++)
        total += slab_cap(s, g + k);
    total += rows;
    shape[s->axis] = total;
    const uint8_t *data = slab_data(s, g);
    if (n == 1 && rows < slab_cap(s, g) && s->outer > 1) {
        /* A partial slab off axis 0 (laid out with its capacity as the axis' extent): its rows
         * of each outer index to one C-order block. */
        uint8_t *slot = slot_of(s, g); /* partial slabs are never lent */
        size_t keep = (size_t)rows * s->inner_bytes, stride = (size_t)slab_cap(s, g) * s->inner_bytes;
        for (size_t o = 1; o < s->outer; o++)
            memmove(slot + o * keep, slot + o * stride, keep);
    }
    size_t bytes = (size_t)total * s->row_bytes;
    bool scattered = false;
    for (uint64_t k = 1; k < n; k++)
        scattered |= slab_data(s, g + k) != data + k * s->slab_bytes;
    if (scattered) {
        /* Lent slabs elsewhere in memory (axis 0, whole chunks each): one write of them all,
         * the engine reading each chunk from its slab, so their chunks encode in parallel. */
        for (uint64_t k = 0; k < n; k++)
            s->pieces[k] = slab_data(s, g + k);
        if (gs)
            return zarrc__grow_session_write_pieces(gs, off, shape, s->pieces, s->chunk, bytes);
        return zarrc__array_write_at_pieces(s->array, off, shape, s->pieces, s->chunk, bytes);
    }
    if (gs)
        return zarrc__grow_session_write(gs, off, shape, data, bytes);
    return zarrc_array_write_at(s->array, off, s->nd, shape, data, bytes, ZARRC_EXTEND);
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Publish the session's grown shape and release the grow lock (s->lock not held). */
static int session_close(zarrc_stream *s, zarrc__grow_session **gs)
{
    if (!*gs)
        return ZARRC_OK;
    int rc = zarrc__grow_session_publish(*gs);
    if (rc)
        zarrc__error_save(&s->err, rc);
    zarrc__grow_session_end(*gs); /* keeps the thread's error: it sets none of its own */
    *gs = NULL;
    return rc;
}

/* On stores with per-key locks the writer holds a grow session — the array's grow lock and its
 * orphan marker — over consecutive batches. It publishes the grown shape (one compare-and-swap
 * of the document, two fsyncs) every STREAM_PUBLISH_MS while it keeps writing, and closes the
 * session (publish, erase the marker, release the lock) when it has nothing more to write or
 * every STREAM_YIELD_MS, so other extenders get their turn. Either per batch would leave the
 * encoding threads idle between batches. Under writeback pressure a publish's fsyncs wait for
 * the kernel to write out data stored before them (ext4's ordered journal commit: 20-200 ms
 * with gigabytes dirty), so both periods stretch to STREAM_PUBLISH_SHARE times the duration of
 * the last publish (or close and the begin after it): the writer spends at most a fifth of its
 * time on them. Readers wait at most the publish period for the shape, other extenders the
 * yield period for the lock. */
#define STREAM_PUBLISH_MS 100
#define STREAM_YIELD_MS 1000
#define STREAM_PUBLISH_SHARE 5

/* A producer wakes the writer with the first slab it hands over. When fewer slabs than
 * s->gather are waiting, the writer gives it up to STREAM_GATHER_MS to hand over more, so that
 * one slab's chunks do not leave other pool threads idle while the next slab is already on its
 * way (a burst of frames, a full queue being refilled). */
#define STREAM_GATHER_MS 2

/* Wait (s->lock held) until `want` slabs are waiting (at most a full queue), the stream closes,
 * or now_ms() reaches `until`. s->work runs on CLOCK_MONOTONIC, now_ms's clock. */
static void wait_slabs(zarrc_stream *s, uint64_t want, int64_t until)
{
    struct timespec ts = {(time_t)(until / 1000), (long)(until % 1000) * 1000000L};
    if (want > s->nslots)
        want = s->nslots;
    while (!s->closing && s->full - s->done < want && pthread_cond_timedwait(&s->work, &s->lock, &ts) == 0) {
    }
}

static int64_t stretched(int64_t period, int64_t took)
{
    return took * STREAM_PUBLISH_SHARE > period ? took * STREAM_PUBLISH_SHARE : period;
}

static void *writer_main(void *arg)
{
    zarrc_stream *s = arg;
    zarrc__grow_session *gs = NULL;
    bool sessions = true; /* false once begin said the store has no locks, or failed */
    /* When the session began and its shape was last published; how long those took. */
    int64_t began = 0, published = 0, begin_took = 0, publish_took = 0;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        if (gs && s->done == s->full && !s->closing) {
            /* Idle: wait for the next slab until a publish is due, then publish and yield the
             * lock before waiting on. The producer refills a full queue only once the writer
             * has freed it, so closing at once would cost a close and a begin per batch. */
            wait_slabs(s, 1, published + stretched(STREAM_PUBLISH_MS, publish_took));
            if (s->done != s->full || s->closing)
                continue;
            pthread_mutex_unlock(&s->lock);
            int rc = session_close(s, &gs);
            pthread_mutex_lock(&s->lock);
            if (rc) {
                s->failed = true;
                pthread_cond_broadcast(&s->space);
                break;
            }
            continue;
        }
        while (s->done == s->full && !s->closing)
            pthread_cond_wait(&s->work, &s->lock);
        if (s->gather > 1)
            wait_slabs(s, s->gather, now_ms() + STREAM_GATHER_MS);
        uint64_t g = s->done, n = s->full - s->done;
        int64_t rows;
        if (n == 0) { /* closing with every full slab written: the tail, then stop */
            rows = s->fill;
            if (rows == 0)
                break;
            n = 1;
        } else {
            /* Batch: consecutive in the ring, or lent and adjacent in memory; slab 0 (a head of
             * another capacity) alone. */
            uint64_t room = s->nslots - g % s->nslots;
            if (!s->batchable || (g == 0 && s->head != s->chunk))
                n = 1;
            else {
                const uint8_t *lent = lent_of(s, g);
                if (!lent && n > room)
                    n = room;
                /* Lent slabs anywhere in memory go together along axis 0 (write_slabs: in
                 * pieces); elsewhere only when adjacent. */
                for (uint64_t k = 1; k < n; k++) {
                    const uint8_t *l = lent_of(s, g + k);
                    if (lent ? !l || (s->axis != 0 && l != lent + k * s->slab_bytes) : l != NULL) {
                        n = k;
                        break;
                    }
                }
            }
            rows = slab_cap(s, g + n - 1);
        }
        bool tail = s->full == g; /* the partly filled slab: written last, once */
        pthread_mutex_unlock(&s->lock);
        int rc = ZARRC_OK;
        if (!gs && sessions) {
            int64_t t = now_ms();
            rc = zarrc__grow_session_begin(s->array, &gs);
            sessions = rc == ZARRC_OK && gs;
            began = published = now_ms();
            begin_took = began - t;
        }
        if (rc == ZARRC_OK)
            rc = write_slabs(s, gs, g, n, rows);
        if (rc)
            zarrc__error_save(&s->err, rc);
        /* What was stored before a failure is published all the same (a publish error is
         * saved only when the write did not fail first). */
        if (gs && rc) {
            zarrc__grow_session_publish(gs);
            zarrc__grow_session_end(gs);
            gs = NULL;
        } else if (gs) {
            int64_t t = now_ms();
            if (tail || t - began >= stretched(STREAM_YIELD_MS, begin_took + publish_took)) {
                rc = session_close(s, &gs);
                publish_took = now_ms() - t;
            } else if (t - published >= stretched(STREAM_PUBLISH_MS, publish_took)) {
                rc = zarrc__grow_session_publish(gs);
                if (rc) {
                    zarrc__error_save(&s->err, rc);
                    zarrc__grow_session_end(gs); /* the stored blocks stay orphans, as after a kill */
                    gs = NULL;
                }
                published = now_ms();
                publish_took = published - t;
            }
        }
        size_t nrel = 0;
        pthread_mutex_lock(&s->lock);
        if (rc)
            s->failed = true;
        else if (!tail) {
            /* The lent frames whose last slab this was: their release calls are copied out
             * under the lock (done passing a slot frees its descriptor for the producer) and
             * made outside it. */
            for (uint64_t k = g; k < g + n; k++)
                if (last_of(s, k)) {
                    s->rel[nrel++] = *desc_of(s, k);
                    desc_of(s, k)->last = false;
                }
            s->done += n;
        }
        pthread_cond_broadcast(&s->space);
        if (nrel) {
            pthread_mutex_unlock(&s->lock);
            for (size_t q = 0; q < nrel; q++)
                s->rel[q].release(s->rel[q].ctx, s->rel[q].frame);
            pthread_mutex_lock(&s->lock);
        }
        if (rc || tail)
            break;
    }
    pthread_mutex_unlock(&s->lock);
    if (gs && session_close(s, &gs)) { /* closing with every full slab written */
        pthread_mutex_lock(&s->lock);
        s->failed = true;
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

/* How many slabs give each pool thread a chunk to encode: a slab holds slab_bytes / unit
 * chunks (inner chunks of a sharded array, which encode in parallel), rounded up. */
static uint64_t gather_of(const zarrc_array *a, const geom *g)
{
    const int64_t *unit = zarrc_array_inner_chunks(a);
    size_t bytes = zarrc_dtype_elem_size(&a->meta.dtype);
    for (int d = 0; d < a->meta.ndim; d++)
        if (!zarrc__mul_size(bytes, (size_t)(unit ? unit[d] : a->meta.chunks[d]), &bytes))
            return 1;
    uint64_t tasks = bytes ? (g->slab_bytes + bytes - 1) / bytes : 1;
    uint64_t threads = (uint64_t)zarrc_get_num_threads();
    return tasks >= threads ? 1 : (threads + tasks - 1) / tasks;
}

int zarrc_stream_open(zarrc_stream **out, zarrc_array *a, const zarrc_stream_options *opts)
{
    zarrc__error_clear();
    if (!out || !a)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_stream_open: NULL argument");
    *out = NULL;
    geom g;
    zarrc__array_meta snap;
    int rc = stream_geometry(a, opts, &g);
    if (rc)
        return zarrc__error_context(rc, "stream: ");
    zarrc__array_snapshot(a, &snap);
    zarrc_stream *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    s->array = a;
    s->nd = snap.ndim;
    s->axis = g.axis;
    memcpy(s->ext, snap.shape, sizeof(int64_t) * (size_t)s->nd);
    s->chunk = g.chunk;
    s->start = g.start;
    s->head = g.chunk - g.start % g.chunk;
    s->row_bytes = g.row_bytes;
    s->outer = g.outer;
    s->inner_bytes = g.inner_bytes;
    s->slab_bytes = g.slab_bytes;
    s->nslots = g.nslots;
    s->batchable = g.outer == 1;
    s->gather = gather_of(a, &g);
    size_t ring_bytes = g.nslots * g.slab_bytes; /* checked in stream_geometry */
    s->ring = zarrc__malloc(ring_bytes ? ring_bytes : 1);
    bool lends = lend_state_fits(g.nslots, g.slab_bytes);
    if (lends) {
        s->desc = zarrc__calloc(g.nslots, sizeof *s->desc);
        s->rel = zarrc__calloc(g.nslots, sizeof *s->rel);
        s->pieces = zarrc__calloc(g.nslots, sizeof *s->pieces);
    }
    if (!s->ring || (lends && (!s->desc || !s->rel || !s->pieces))) {
        free(s->ring);
        free(s->desc);
        free(s->rel);
        free(s->pieces);
        free(s);
        return ZARRC_ENOMEM;
    }
    /* Fresh memory, every byte of it written by the producer: 2 MiB pages fault it in 512
     * times less often (2048 faults per 8 MiB slab otherwise). */
    zarrc__advise_huge_pages(s->ring, ring_bytes);
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC); /* wait_slabs' deadlines */
    pthread_cond_init(&s->work, &monotonic);
    pthread_condattr_destroy(&monotonic);
    pthread_cond_init(&s->space, NULL);
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        pthread_cond_destroy(&s->space);
        pthread_cond_destroy(&s->work);
        pthread_mutex_destroy(&s->lock);
        free(s->ring);
        free(s->desc);
        free(s->rel);
        free(s->pieces);
        free(s);
        return zarrc_error_set(ZARRC_EIO, "stream: cannot start the writer thread");
    }
    s->writer_started = true;
    *out = s;
    return ZARRC_OK;
}

int64_t zarrc_stream_appended(const zarrc_stream *s) { return s ? s->appended : 0; }

/* Argument checks of both appends: *rows = the frame's indices along the axis. */
static int check_frame(zarrc_stream *s, const char *fn, const void *frame, size_t size, int64_t *rows)
{
    if (!s)
        return zarrc_error_set(ZARRC_EINVAL, "%s: NULL stream", fn);
    *rows = 0;
    if (size == 0)
        return ZARRC_OK;
    if (!frame)
        return zarrc_error_set(ZARRC_EINVAL, "%s: NULL frame", fn);
    if (size % s->row_bytes)
        return zarrc_error_set(ZARRC_EINVAL, "stream into '%s': a frame of %zu bytes is not a whole number of "
                               "slices along axis %d (%zu bytes each)", s->array->name, size, s->axis, s->row_bytes);
    int64_t n = (int64_t)(size / s->row_bytes), end;
    if (__builtin_add_overflow(s->start, s->appended, &end) || __builtin_add_overflow(end, n, &end))
        return zarrc_error_set(ZARRC_EBOUNDS, "stream into '%s': axis %d would overflow", s->array->name, s->axis);
    *rows = n;
    return ZARRC_OK;
}

/* Queue `rows` indices of `frame`: whole slabs at a slab boundary are lent when `lend` is set
 * (release/ctx recorded in their descriptors), the rest copied into the ring. *lastg = the
 * number of the last lent slab, or UINT64_MAX when nothing was lent. */
static int put_frame(zarrc_stream *s, const uint8_t *src, int64_t rows, bool lend, zarrc_stream_release_fn release,
                     void *ctx, uint64_t *lastg)
{
    *lastg = UINT64_MAX;
    for (int64_t r = 0; r < rows;) {
        pthread_mutex_lock(&s->lock);
        while (!s->failed && s->full >= s->done + s->nslots)
            pthread_cond_wait(&s->space, &s->lock);
        bool failed = s->failed;
        uint64_t g = s->full;
        pthread_mutex_unlock(&s->lock);
        if (failed)
            return zarrc__error_restore(&s->err);
        int64_t cap = slab_cap(s, g), k = cap - s->fill < rows - r ? cap - s->fill : rows - r;
        /* Slab `full`'s descriptor: the writer does not look at it yet. */
        slab_desc *d = s->desc ? desc_of(s, g) : NULL;
        if (lend && d && s->fill == 0 && k == cap && (s->outer == 1 || (r == 0 && rows == cap))) {
            /* A whole slab of the caller's memory (off axis 0 the frame's layout, outer ×
             * rows × inner, is the slab's only when the frame is the slab). */
            *d = (slab_desc){src + (size_t)r * s->row_bytes, release, ctx, src, false};
            *lastg = g;
        } else {
            uint8_t *slot = slot_of(s, g);
            if (s->outer == 1)
                memcpy(slot + (size_t)s->fill * s->row_bytes, src + (size_t)r * s->row_bytes,
                       (size_t)k * s->row_bytes);
            else
                for (size_t o = 0; o < s->outer; o++)
                    memcpy(slot + (o * (size_t)cap + (size_t)s->fill) * s->inner_bytes,
                           src + (o * (size_t)rows + (size_t)r) * s->inner_bytes, (size_t)k * s->inner_bytes);
            if (d && s->fill == 0)
                d->lent = NULL;
        }
        r += k;
        s->fill += k;
        s->appended += k;
        if (s->fill == cap) {
            pthread_mutex_lock(&s->lock);
            s->fill = 0;
            s->full++;
            pthread_cond_signal(&s->work);
            pthread_mutex_unlock(&s->lock);
        }
    }
    return ZARRC_OK;
}

int zarrc_stream_append(zarrc_stream *s, const void *frame, size_t size)
{
    zarrc__error_clear();
    int64_t rows = 0;
    uint64_t lastg;
    int rc = check_frame(s, "zarrc_stream_append", frame, size, &rows);
    return rc || rows == 0 ? rc : put_frame(s, frame, rows, false, NULL, NULL, &lastg);
}

int zarrc_stream_append_lent(zarrc_stream *s, const void *frame, size_t size, zarrc_stream_release_fn release,
                             void *ctx)
{
    zarrc__error_clear();
    if (!release)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_stream_append_lent: NULL release function");
    int64_t rows = 0;
    uint64_t lastg;
    int rc = check_frame(s, "zarrc_stream_append_lent", frame, size, &rows);
    if (rc == ZARRC_OK && rows > 0)
        rc = put_frame(s, frame, rows, true, release, ctx, &lastg);
    if (rc)
        return rc; /* nothing marked: nobody releases it, and the writer reads no slab after failing */
    bool now = rows == 0 || lastg == UINT64_MAX;
    if (!now) {
        /* The writer releases the frame after its last lent slab, unless it is past it. */
        pthread_mutex_lock(&s->lock);
        if (s->done > lastg)
            now = true;
        else
            desc_of(s, lastg)->last = true;
        pthread_mutex_unlock(&s->lock);
    }
    if (now)
        release(ctx, frame);
    return ZARRC_OK;
}

int zarrc_stream_close(zarrc_stream *s)
{
    zarrc__error_clear();
    if (!s)
        return ZARRC_OK;
    pthread_mutex_lock(&s->lock);
    s->closing = true;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->lock);
    if (s->writer_started)
        pthread_join(s->writer, NULL);
    /* Lent frames the writer did not get to (it stopped on an error). */
    for (uint64_t g = s->done; g < s->full; g++)
        if (last_of(s, g))
            desc_of(s, g)->release(desc_of(s, g)->ctx, desc_of(s, g)->frame);
    int rc = s->failed ? zarrc__error_restore(&s->err) : ZARRC_OK;
    if (rc)
        zarrc__error_context(rc, "stream into '%s': ", s->array->name);
    pthread_cond_destroy(&s->space);
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->lock);
    free(s->ring);
    free(s->desc);
    free(s->rel);
    free(s->pieces);
    free(s);
    return rc;
}
