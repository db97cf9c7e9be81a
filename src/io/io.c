/* io.c — region reads and writes over chunks, in parallel on the shared pool. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <sys/mman.h>

#include "io_internal.h"

/* ---- per-thread reusable buffers (no allocation per chunk in steady state) ---- */

static void *bufs_new(void) { return zarrc__calloc(1, sizeof(thread_bufs)); }

static void bufs_free(void *p)
{
    thread_bufs *b = p;
    zarrc__scratch_release(&b->scratch);
    zarrc_buf_release(&b->raw);
    zarrc_buf_release(&b->chunk);
    zarrc_buf_release(&b->enc);
    zarrc_buf_release(&b->key);
    zarrc_buf_release(&b->parts);
    for (size_t k = 0; k < b->nspares; k++)
        zarrc_buf_release(&b->spares[k]);
    free(b->spares);
    free(b);
}

static zarrc__tls_slot bufs_slot = ZARRC_TLS_SLOT(bufs_new, bufs_free);

thread_bufs *zarrc__io_bufs(void)
{
    thread_bufs *b = zarrc__tls_get(&bufs_slot);
    if (!b)
        zarrc__enomem();
    return b;
}

/* ---- the job shared by all chunk tasks of one call ---- */

typedef struct io_job {
    const zarrc__io_array *a;
    zarrc__plan plan;
    size_t es;                       /* element size in memory (vref for vlen) */
    uint8_t *data;                   /* caller's buffer (read: out, write: in) */
    int64_t dstride[ZARRC_MAX_DIMS]; /* byte strides of the caller's box */
    int64_t count[ZARRC_MAX_DIMS];
    int64_t cstride[ZARRC_MAX_DIMS]; /* byte strides of a decoded chunk (C order) */
    size_t chunk_bytes;
    uint8_t fill_elem[sizeof(zarrc_vref) > 64 ? sizeof(zarrc_vref) : 64];
    uint8_t *fill_big;               /* fill element when larger than fill_elem */
    zarrc_buf *keeps;                /* vlen reads: encoded bytes each chunk's vrefs point into */
    struct batch *batch;             /* stores with latency: prefetched values, deferred stores */
    bool strided;                    /* dstride given by the caller (zarrc__io_read_strided) */
    bool stream;                     /* reads: the box is placed with streaming stores */
} io_job;

/* ---- batched mode, for stores whose requests have latency ----
 * A batch of chunk tasks runs on the I/O pool, each chunk as a pipeline of its own: fetch its
 * value, decode / encode it (the CPU part, at most zarrc_get_num_threads() chunks at once:
 * the batch's CPU gate), store it (writes). A chunk's request goes out as soon as that chunk
 * is ready, not when the whole batch is. (With fewer requests in flight than CPU threads the
 * batch runs in phases instead: fetch all on the I/O pool, tasks on the CPU pool, store all.)
 * Requests in flight are bounded by the I/O concurrency, CPU work by the CPU threads, memory
 * by the batch. */

enum { OP_NONE, OP_SET, OP_ERASE };

typedef struct slot {
    zarrc_buf key;  /* the chunk's store key (reused across batches) */
    bool fetch;     /* the task needs the stored value */
    int status;     /* of the fetch: ZARRC_OK or ZARRC_ENOTFOUND */
    zarrc_buf in;   /* the fetched value */
    int op;         /* what the store phase does */
    zarrc_buf out;  /* the value to store */
    bool io_task;   /* the task does its own requests (a read-modify-write under the store's
                       update): not counted against the CPU gate */
} slot;

typedef struct batch {
    size_t first, n;
    slot *slots;
    zarrc__task_fn task;
    bool writing;
    pthread_mutex_t mu; /* the CPU gate: cpu_free of the CPU threads are not decoding/encoding */
    pthread_cond_t cv;
    int cpu_free;
} batch;

static const uint8_t *fill_of(const io_job *j) { return j->fill_big ? j->fill_big : j->fill_elem; }

static int chunk_error(const io_job *j, const char *key, int rc)
{
    return zarrc__error_context(rc, "chunk '%s': ", key);
}

/* Build the store key of the task's chunk in `key`; NULL on allocation failure. */
static const char *task_key(const io_job *j, const zarrc__run **runs, zarrc_buf *key)
{
    int64_t idx[ZARRC_MAX_DIMS];
    for (int d = 0; d < j->plan.ndim; d++)
        idx[d] = runs[d]->chunk;
    return zarrc__meta_chunk_store_key(key, j->a->meta, j->a->prefix, idx);
}

/* The stored value of task i's chunk: prefetched (batched mode) or read now into `raw`.
 * ZARRC_ENOTFOUND if the chunk is missing. */
static int chunk_get(const io_job *j, size_t i, const char *key, zarrc_buf *raw, const zarrc_buf **value)
{
    if (j->batch) {
        slot *sl = &j->batch->slots[i - j->batch->first];
        *value = &sl->in;
        return sl->status;
    }
    *value = raw;
    int rc = zarrc__store_get(j->a->store, key, 0, -1, raw);
    if (rc && rc != ZARRC_ENOTFOUND)
        return chunk_error(j, key, rc);
    return rc;
}

/* Whether task i's chunk starts beyond own_from (zarrc__io_array): nobody else writes it. */
static bool chunk_owned(const io_job *j, const zarrc__run **runs)
{
    const int64_t *own = j->a->own_from;
    for (int d = 0; own && d < j->plan.ndim; d++)
        if (runs[d]->chunk >= own[d] / j->a->meta->chunks[d] + (own[d] % j->a->meta->chunks[d] != 0))
            return true;
    return false;
}

/* Store (or, batched, queue) a chunk's new value; `own`: without the per-key lock. */
static int chunk_put(const io_job *j, size_t i, const char *key, const uint8_t *data, size_t n, bool own)
{
    if (j->batch) {
        slot *sl = &j->batch->slots[i - j->batch->first];
        sl->op = OP_SET;
        sl->out.size = 0;
        return zarrc__buf_append(&sl->out, data, n);
    }
    return own ? zarrc__store_set(j->a->store, key, data, n) : zarrc__store_set_locked(j->a->store, key, data, n);
}

/* Erase (or, batched, queue erasing) a chunk; a missing chunk is fine. */
static int chunk_erase(const io_job *j, size_t i, const char *key, bool own)
{
    if (j->batch) {
        j->batch->slots[i - j->batch->first].op = OP_ERASE;
        return ZARRC_OK;
    }
    int rc = own ? zarrc__store_erase(j->a->store, key) : zarrc__store_erase_locked(j->a->store, key);
    return rc == ZARRC_ENOTFOUND ? ZARRC_OK : rc;
}

/* Places a whole chunk's bytes, arriving in C order in pieces, into a strided box. */
typedef struct scatter {
    const int64_t *dstride, *shape;
    int nd;
    size_t row, in_row;           /* bytes per row (last dimension); bytes of this row placed */
    int64_t idx[ZARRC_MAX_DIMS];  /* the current row's index over dimensions 0..nd-2 */
    uint8_t *row_ptr;             /* destination of the current row */
    bool stream;                  /* rows placed with streaming stores */
} scatter;

static int scatter_piece(void *ctx, const uint8_t *piece, size_t len)
{
    scatter *s = ctx;
    while (len) {
        size_t k = s->row - s->in_row < len ? s->row - s->in_row : len;
        if (s->stream)
            zarrc__copy_stream(s->row_ptr + s->in_row, piece, k);
        else
            memcpy(s->row_ptr + s->in_row, piece, k);
        piece += k;
        len -= k;
        s->in_row += k;
        if (s->in_row < s->row)
            continue;
        s->in_row = 0;
        for (int d = s->nd - 2; d >= 0; d--) {
            s->row_ptr += s->dstride[d];
            if (++s->idx[d] < s->shape[d])
                break;
            s->row_ptr -= s->dstride[d] * s->shape[d];
            s->idx[d] = 0;
        }
    }
    return ZARRC_OK;
}

static void scatter_init(scatter *s, uint8_t *dst, const int64_t *dstride, const int64_t *shape, int nd, size_t es,
                         bool stream)
{
    memset(s, 0, sizeof *s);
    s->dstride = dstride;
    s->shape = shape;
    s->nd = nd;
    s->row = (size_t)shape[nd - 1] * es;
    s->row_ptr = dst;
    s->stream = stream;
}

int zarrc__io_scatter_decode(const zarrc__pipeline *p, const uint8_t *in, size_t n, uint8_t *dst,
                             const int64_t *dstride, const int64_t *shape, int nd, size_t es, bool stream)
{
    scatter s;
    scatter_init(&s, dst, dstride, shape, nd, es, stream);
    int rc = zarrc__pipeline_decode_stream(p, in, n, scatter_piece, &s);
    if (stream)
        zarrc__stream_fence();
    return rc;
}

/* A stored uncompressed chunk larger than this is read and placed in pieces of this size
 * (while each piece is in cache), not read whole into a chunk-sized buffer first. */
#define PLACE_PIECE ((size_t)1 << 20)

/* The stored bytes of a whole uncompressed chunk, arriving in pieces (zarrc__store_get_pieces),
 * placed into a strided box. */
typedef struct piece_place {
    scatter s;
    size_t expect;
    uint64_t got;
} piece_place;

static int place_piece(void *ctx, uint64_t total, const uint8_t *piece, size_t len)
{
    piece_place *p = ctx;
    if (total != p->expect || len > p->expect - p->got) /* checked before anything is placed */
        return zarrc_error_set(ZARRC_ECORRUPT, "codec 'bytes': expected %zu bytes, got %llu", p->expect,
                               (unsigned long long)(total != p->expect ? total : p->got + len));
    p->got += len;
    return scatter_piece(&p->s, piece, len);
}

static int read_placed(const io_job *j, thread_bufs *b, const char *key, uint8_t *dst, const int64_t *shape)
{
    int rc = zarrc_buf_reserve(&b->raw, PLACE_PIECE);
    if (rc)
        return rc;
    piece_place p = {.expect = j->chunk_bytes};
    scatter_init(&p.s, dst, j->dstride, shape, j->plan.ndim, j->es, j->stream);
    rc = zarrc__store_get_pieces(j->a->store, key, b->raw.data, PLACE_PIECE, place_piece, &p);
    if (j->stream)
        zarrc__stream_fence();
    if (rc == ZARRC_OK && p.got != p.expect)
        rc = zarrc_error_set(ZARRC_ECORRUPT, "codec 'bytes': expected %zu bytes, got %llu", p.expect,
                             (unsigned long long)p.got);
    return rc;
}

/* Whether a piece of n elements placed at byte strides dstride is one dense C-order block. */
static bool dense_piece(const int64_t *n, const int64_t *dstride, int nd, size_t es)
{
    int64_t expect = (int64_t)es;
    for (int d = nd - 1; d >= 0; d--) {
        if (n[d] == 1)
            continue;
        if (dstride[d] != expect)
            return false;
        expect *= n[d];
    }
    return true;
}

static int read_task(void *ctx, size_t i)
{
    io_job *j = ctx;
    const zarrc__array_meta *m = j->a->meta;
    int nd = j->plan.ndim;
    const zarrc__run *runs[ZARRC_MAX_DIMS];
    zarrc__plan_task(&j->plan, i, runs);
    thread_bufs *b = zarrc__io_bufs();
    const char *key = b ? task_key(j, runs, &b->key) : NULL;
    if (!key)
        return ZARRC_ENOMEM;

    int64_t n[ZARRC_MAX_DIMS], dst_off = 0, src_off = 0, sstride[ZARRC_MAX_DIMS];
    bool whole = true;
    for (int d = 0; d < nd; d++) {
        n[d] = runs[d]->n;
        dst_off += runs[d]->sel_pos * j->dstride[d];
        src_off += runs[d]->offset * j->cstride[d];
        sstride[d] = j->cstride[d] * zarrc__run_step(&j->plan, d, runs[d]);
        whole &= runs[d]->offset == 0 && zarrc__run_step(&j->plan, d, runs[d]) == 1 && n[d] == m->chunks[d];
    }
    uint8_t *dst = j->data + dst_off;
    zarrc_buf *keep = j->keeps ? &j->keeps[i] : NULL;
    zarrc_buf none = ZARRC_BUF_INIT;
    /* Direct decode: the whole chunk lands contiguously in the destination. */
    bool direct = whole && !keep &&
                  (j->strided ? dense_piece(n, j->dstride, nd, j->es) : zarrc__box_contiguous(n, j->count, nd));
    /* Stored bytes that are the chunk's bytes go straight into the destination. */
    bool straight = direct && j->a->pipeline->passthrough && !j->batch;
    if (!direct && whole && !keep && !j->batch && j->a->pipeline->passthrough && nd >= 2 &&
        j->chunk_bytes > PLACE_PIECE && (!j->strided || j->dstride[nd - 1] == (int64_t)j->es) &&
        zarrc__store_has_pieces(j->a->store)) {
        /* A large whole uncompressed chunk that is not contiguous in the destination (other
         * stores: read whole into the thread's buffer below, reused from chunk to chunk). */
        int rc = read_placed(j, b, key, dst, m->chunks);
        if (rc == ZARRC_ENOTFOUND) {
            zarrc__fill_box(dst, j->dstride, n, nd, fill_of(j), j->es);
            return ZARRC_OK;
        }
        return rc ? chunk_error(j, key, rc) : ZARRC_OK;
    }
    zarrc_buf dest = {dst, 0, j->chunk_bytes, 1};
    const zarrc_buf *in = &dest;
    int rc = straight ? zarrc__store_get(j->a->store, key, 0, -1, &dest) : chunk_get(j, i, key, &b->raw, &in);
    if (rc == ZARRC_ENOTFOUND) {
        zarrc__fill_box(dst, j->dstride, n, nd, fill_of(j), j->es);
        return ZARRC_OK;
    }
    if (rc == ZARRC_OK && straight && dest.size != j->chunk_bytes)
        rc = zarrc_error_set(ZARRC_ECORRUPT, "codec 'bytes': expected %zu bytes, got %zu", j->chunk_bytes,
                             dest.size);
    if (straight && rc)
        return chunk_error(j, key, rc);
    if (rc || straight)
        return rc;
    if (direct) {
        zarrc_buf out = {dst, 0, j->chunk_bytes, 1};
        rc = zarrc__pipeline_decode(j->a->pipeline, in->data, in->size, &b->scratch, &out, &none);
        return rc ? chunk_error(j, key, rc) : ZARRC_OK;
    }
    if (whole && !keep && nd >= 2 && (!j->strided || j->dstride[nd - 1] == (int64_t)j->es) &&
        zarrc__pipeline_can_stream(j->a->pipeline)) {
        /* A whole chunk that is not contiguous in the destination: placed piece by piece. */
        rc = zarrc__io_scatter_decode(j->a->pipeline, in->data, in->size, dst, j->dstride, m->chunks, nd, j->es,
                                      j->stream);
        return rc ? chunk_error(j, key, rc) : ZARRC_OK;
    }
    if (j->a->pipeline->passthrough && !keep) {
        /* The stored bytes are the chunk's bytes: copied into place from there, without
         * decoding (copying) them into a chunk buffer first. */
        if (in->size != j->chunk_bytes)
            return chunk_error(j, key, zarrc_error_set(ZARRC_ECORRUPT, "codec 'bytes': expected %zu bytes, "
                                                       "got %zu", j->chunk_bytes, in->size));
        zarrc__io_place(j->stream, dst, j->dstride, in->data + src_off, sstride, n, nd, j->es);
        return ZARRC_OK;
    }
    rc = zarrc_buf_reserve(&b->chunk, j->chunk_bytes);
    if (rc == ZARRC_OK)
        rc = zarrc__pipeline_decode(j->a->pipeline, in->data, in->size, &b->scratch, &b->chunk,
                                    keep ? keep : &none);
    zarrc_buf_release(&none);
    if (rc)
        return chunk_error(j, key, rc);
    zarrc__io_place(j->stream, dst, j->dstride, b->chunk.data + src_off, sstride, n, nd, j->es);
    return ZARRC_OK;
}

static bool all_fill(const io_job *j, const uint8_t *chunk, size_t nelem)
{
    /* A v2 array without a fill value stores every chunk it writes. */
    return !j->a->meta->fill.is_null && zarrc__repr_is_fill(&j->a->pipeline->chunk, chunk, nelem);
}

/* Where a write task's elements go: counts, offsets in the source box and in the chunk,
 * chunk strides; whether the write covers the chunk's in-bounds part, and whether the chunk
 * reaches past the array (padding). */
typedef struct wgeom {
    int64_t n[ZARRC_MAX_DIMS], src_off, dst_off, dstride[ZARRC_MAX_DIMS];
    const uint8_t *src; /* the caller's first element of the chunk's part */
    bool covers, padded;
} wgeom;

static void write_geometry(const io_job *j, const zarrc__run **runs, wgeom *g)
{
    const zarrc__array_meta *m = j->a->meta;
    g->src_off = g->dst_off = 0;
    g->covers = true;
    g->padded = false;
    for (int d = 0; d < j->plan.ndim; d++) {
        int64_t inside = m->shape[d] - runs[d]->chunk * m->chunks[d];
        if (inside > m->chunks[d])
            inside = m->chunks[d];
        g->n[d] = runs[d]->n;
        g->src_off += runs[d]->sel_pos * j->dstride[d];
        g->dst_off += runs[d]->offset * j->cstride[d];
        g->dstride[d] = j->cstride[d] * zarrc__run_step(&j->plan, d, runs[d]);
        g->covers &= runs[d]->offset == 0 && zarrc__run_step(&j->plan, d, runs[d]) == 1 && g->n[d] == inside;
        g->padded |= inside < m->chunks[d];
    }
    g->src = zarrc__io_src(j->a, j->data, g->src_off, runs, j->dstride[0]);
}

static slot *slot_of(const io_job *j, size_t i) { return &j->batch->slots[i - j->batch->first]; }

/* A partly written chunk: its old value (or the fill value) with the caller's elements merged
 * in, encoded into `out` — or erased when it ends up all fill. Runs once per update attempt. */
typedef struct merge_ctx {
    const io_job *j;
    const wgeom *g;
    thread_bufs *b;
    zarrc_buf keep; /* vlen: bytes the old chunk's vrefs point into */
    size_t nelem;
} merge_ctx;

static int merge_chunk(void *ctx, const zarrc_buf *old, zarrc_buf *out, int can_erase, zarrc__update_action *act)
{
    merge_ctx *mc = ctx;
    const io_job *j = mc->j;
    const zarrc__pipeline *p = j->a->pipeline;
    thread_bufs *b = mc->b;
    int rc = ZARRC_OK;
    zarrc_buf_release(&mc->keep);
    if (old)
        rc = zarrc__pipeline_decode(p, old->data, old->size, &b->scratch, &b->chunk, &mc->keep);
    else
        zarrc__fill_contiguous(b->chunk.data, mc->nelem, fill_of(j), j->es);
    if (rc)
        return rc;
    zarrc__copy_box(b->chunk.data + mc->g->dst_off, mc->g->dstride, mc->g->src, j->dstride, mc->g->n,
                    j->plan.ndim, j->es);
    if (!j->a->write_empty && all_fill(j, b->chunk.data, mc->nelem) && (can_erase || !old)) {
        *act = old ? ZARRC_UPDATE_ERASE : ZARRC_UPDATE_NONE;
        return ZARRC_OK;
    }
    *act = ZARRC_UPDATE_SET;
    if (p->passthrough)
        return zarrc__buf_append(out, b->chunk.data, j->chunk_bytes);
    return zarrc__pipeline_encode(p, b->chunk.data, j->chunk_bytes, &b->scratch, out);
}

/* A whole chunk of a passthrough array (the stored bytes are the elements) that is not one
 * contiguous run of the caller's box goes to the store as the runs it is made of, with no
 * gather copy — unless its runs are shorter than MIN_RUN_BYTES (each is a segment of the
 * kernel's copy: writing 256 MiB of uint16 from runs of 1 KiB took as long as gathering them
 * or longer, from runs of 4 / 16 / 64 KiB 0.7 / 0.75 / 0.6 times as long) or more than
 * MAX_RUNS. */
#define MIN_RUN_BYTES 4096
#define MAX_RUNS ((size_t)1 << 20)

/* The runs of chunk part `g` in the caller's box into b->parts; their number, or 0 when the
 * chunk should be gathered instead (or on allocation failure: gathering then reports it). */
static size_t chunk_runs(const io_job *j, const wgeom *g, thread_bufs *b)
{
    int nd = j->plan.ndim, k = nd - 1;
    if (nd == 0)
        return 0;
    /* One run spans dimensions k..nd-1: every one after k is whole in the box. */
    size_t run = (size_t)g->n[k] * j->es, nruns = 1;
    while (k > 0 && g->n[k] == j->count[k]) {
        k--;
        run *= (size_t)g->n[k];
    }
    for (int d = 0; d < k; d++)
        nruns *= (size_t)g->n[d]; /* at most the chunk's element count */
    if (run < MIN_RUN_BYTES || nruns > MAX_RUNS || zarrc_buf_reserve(&b->parts, nruns * sizeof(zarrc_vref)))
        return 0;
    zarrc_vref *parts = (zarrc_vref *)b->parts.data;
    int64_t idx[ZARRC_MAX_DIMS] = {0};
    for (size_t r = 0; r < nruns; r++) {
        int64_t off = 0;
        for (int d = 0; d < k; d++)
            off += idx[d] * j->dstride[d];
        parts[r] = (zarrc_vref){g->src + off, run};
        for (int d = k - 1; d >= 0 && ++idx[d] == g->n[d]; d--)
            idx[d] = 0;
    }
    return nruns;
}

static int write_task(void *ctx, size_t i)
{
    io_job *j = ctx;
    int nd = j->plan.ndim;
    const zarrc__run *runs[ZARRC_MAX_DIMS];
    zarrc__plan_task(&j->plan, i, runs);
    thread_bufs *b = zarrc__io_bufs();
    const char *key = b ? task_key(j, runs, &b->key) : NULL;
    if (!key)
        return ZARRC_ENOMEM;
    wgeom g;
    write_geometry(j, runs, &g);
    size_t nelem = j->chunk_bytes / j->es;
    const zarrc__pipeline *p = j->a->pipeline;
    int rc;
    bool own = chunk_owned(j, runs);
    if (g.covers && !g.padded && zarrc__box_contiguous(g.n, j->count, nd)) {
        /* The chunk is a contiguous run of the caller's data: encoded (or, passthrough, stored)
         * from there, without a copy. */
        const uint8_t *src = g.src;
        if (!j->a->write_empty && all_fill(j, src, nelem))
            rc = chunk_erase(j, i, key, own);
        else if (p->passthrough)
            rc = chunk_put(j, i, key, src, j->chunk_bytes, own);
        else if ((rc = zarrc__pipeline_encode(p, src, j->chunk_bytes, &b->scratch, &b->enc)) == ZARRC_OK)
            rc = chunk_put(j, i, key, b->enc.data, b->enc.size, own);
        return rc ? chunk_error(j, key, rc) : ZARRC_OK;
    }
    size_t nruns;
    if (g.covers && !g.padded && p->passthrough && !j->batch && !j->strided && (nruns = chunk_runs(j, &g, b))) {
        const zarrc_vref *parts = (const zarrc_vref *)b->parts.data;
        bool fill = !j->a->write_empty;
        for (size_t r = 0; fill && r < nruns; r++)
            fill = all_fill(j, parts[r].ptr, parts[r].len / j->es);
        if (fill)
            rc = chunk_erase(j, i, key, own);
        else
            rc = zarrc__store_write_parts(j->a->store, key, parts, nruns, own ? ZARRC_WRITE_PLAIN : ZARRC_WRITE_LOCKED,
                                          NULL);
        return rc ? chunk_error(j, key, rc) : ZARRC_OK;
    }
    if ((rc = zarrc_buf_reserve(&b->chunk, j->chunk_bytes)))
        return rc;
    if (g.covers) {
        /* Every in-bounds element is written: no need to read the old value; only a chunk that
         * reaches past the array has elements (the padding) to set to the fill value. */
        if (g.padded)
            zarrc__fill_contiguous(b->chunk.data, nelem, fill_of(j), j->es);
        zarrc__copy_box(b->chunk.data + g.dst_off, g.dstride, g.src, j->dstride, g.n, nd, j->es);
        if (!j->a->write_empty && all_fill(j, b->chunk.data, nelem))
            rc = chunk_erase(j, i, key, own);
        else if (p->passthrough)
            rc = chunk_put(j, i, key, b->chunk.data, j->chunk_bytes, own);
        else if ((rc = zarrc__pipeline_encode(p, b->chunk.data, j->chunk_bytes, &b->scratch, &b->enc)) == ZARRC_OK)
            rc = chunk_put(j, i, key, b->enc.data, b->enc.size, own);
        return rc ? chunk_error(j, key, rc) : ZARRC_OK;
    }
    /* A read-modify-write: atomic against other writers of this chunk (the store's update). */
    merge_ctx mc = {j, &g, b, ZARRC_BUF_INIT, nelem};
    if (!j->batch || !slot_of(j, i)->fetch)
        rc = zarrc__store_update(j->a->store, key, 0, merge_chunk, &mc);
    else {
        /* Batched without concurrency control: the old value was prefetched. */
        const zarrc_buf *old;
        zarrc__update_action act = ZARRC_UPDATE_NONE;
        zarrc_buf out = ZARRC_BUF_INIT;
        rc = chunk_get(j, i, key, &b->raw, &old);
        if (rc == ZARRC_OK || rc == ZARRC_ENOTFOUND)
            rc = merge_chunk(&mc, rc == ZARRC_OK ? old : NULL, &out, 1, &act);
        if (rc == ZARRC_OK && act == ZARRC_UPDATE_SET)
            rc = chunk_put(j, i, key, out.data, out.size, false);
        else if (rc == ZARRC_OK && act == ZARRC_UPDATE_ERASE)
            rc = chunk_erase(j, i, key, false);
        zarrc_buf_release(&out);
    }
    zarrc_buf_release(&mc.keep);
    return rc ? chunk_error(j, key, rc) : ZARRC_OK;
}

/* ---- the batched driver ---- */

static int batch_fetch(void *ctx, size_t k)
{
    io_job *j = ctx;
    slot *sl = &j->batch->slots[k];
    sl->in.size = 0;
    const char *key = (const char *)sl->key.data;
    sl->status = sl->fetch ? zarrc__store_get(j->a->store, key, 0, -1, &sl->in) : ZARRC_ENOTFOUND;
    if (sl->status && sl->status != ZARRC_ENOTFOUND)
        return chunk_error(j, key, sl->status);
    return ZARRC_OK;
}

static int batch_task(void *ctx, size_t k)
{
    io_job *j = ctx;
    batch *bt = j->batch;
    bool gate = !bt->slots[k].io_task;
    if (gate) {
        pthread_mutex_lock(&bt->mu);
        while (bt->cpu_free == 0)
            pthread_cond_wait(&bt->cv, &bt->mu);
        bt->cpu_free--;
        pthread_mutex_unlock(&bt->mu);
    }
    int rc = bt->task(j, bt->first + k);
    if (gate) {
        pthread_mutex_lock(&bt->mu);
        bt->cpu_free++;
        pthread_cond_signal(&bt->cv);
        pthread_mutex_unlock(&bt->mu);
    }
    return rc;
}

static int batch_store(void *ctx, size_t k)
{
    io_job *j = ctx;
    slot *sl = &j->batch->slots[k];
    const char *key = (const char *)sl->key.data;
    int rc = ZARRC_OK;
    if (sl->op == OP_SET)
        rc = zarrc__store_set_locked(j->a->store, key, sl->out.data, sl->out.size);
    else if (sl->op == OP_ERASE && (rc = zarrc__store_erase_locked(j->a->store, key)) == ZARRC_ENOTFOUND)
        rc = ZARRC_OK;
    return rc ? chunk_error(j, key, rc) : ZARRC_OK;
}

/* One chunk of a batch, start to end, on an I/O thread: fetch, task, store. */
static int batch_chunk(void *ctx, size_t k)
{
    io_job *j = ctx;
    int rc = batch_fetch(ctx, k);
    if (rc == ZARRC_OK)
        rc = batch_task(ctx, k);
    if (rc == ZARRC_OK && j->batch->writing)
        rc = batch_store(ctx, k);
    return rc;
}

/* Run every chunk task of the job: directly on the CPU pool, or batched for stores with
 * latency (each chunk fetched, decoded / encoded and stored by one I/O thread; in phases
 * when the I/O concurrency is below the CPU threads). */
static int run_tasks(io_job *j, zarrc__task_fn task, bool writing)
{
    if (!zarrc__store_has_latency(j->a->store))
        return zarrc__pool_run(j->plan.ntasks, task, j);
    size_t cpu = (size_t)zarrc_get_num_threads() * 2, io = (size_t)zarrc_get_io_concurrency();
    size_t k_max = cpu > io ? cpu : io;
    batch bt = {0, 0, zarrc__calloc(k_max, sizeof(slot)), task, writing, PTHREAD_MUTEX_INITIALIZER,
                PTHREAD_COND_INITIALIZER, zarrc_get_num_threads() > 0 ? zarrc_get_num_threads() : 1};
    if (!bt.slots)
        return ZARRC_ENOMEM;
    j->batch = &bt;
    bool safe = zarrc__store_safety_of(j->a->store) != ZARRC_SAFETY_NONE;
    int rc = ZARRC_OK;
    for (bt.first = 0; bt.first < j->plan.ntasks && rc == ZARRC_OK; bt.first += bt.n) {
        bt.n = j->plan.ntasks - bt.first < k_max ? j->plan.ntasks - bt.first : k_max;
        for (size_t k = 0; k < bt.n && rc == ZARRC_OK; k++) {
            const zarrc__run *runs[ZARRC_MAX_DIMS];
            slot *sl = &bt.slots[k];
            zarrc__plan_task(&j->plan, bt.first + k, runs);
            if (!task_key(j, runs, &sl->key))
                rc = ZARRC_ENOMEM;
            sl->op = OP_NONE;
            sl->fetch = true;
            sl->io_task = false;
            if (writing) {
                wgeom g;
                write_geometry(j, runs, &g);
                /* Only partly written chunks need their old value; with concurrency control
                 * the task reads and writes it itself, under the store's update. */
                sl->fetch = !g.covers && !safe;
                sl->io_task = !g.covers && safe;
            }
        }
        if (rc == ZARRC_OK && io >= (size_t)bt.cpu_free)
            rc = zarrc__io_run(bt.n, batch_chunk, j);
        else if (rc == ZARRC_OK) {
            /* Fewer requests in flight than CPU threads: phases, so that decoding / encoding
             * still uses every CPU thread. */
            rc = zarrc__io_run(bt.n, batch_fetch, j);
            if (rc == ZARRC_OK)
                rc = zarrc__pool_run(bt.n, batch_task, j);
            if (rc == ZARRC_OK && writing)
                rc = zarrc__io_run(bt.n, batch_store, j);
        }
    }
    for (size_t k = 0; k < k_max; k++) {
        zarrc_buf_release(&bt.slots[k].key);
        zarrc_buf_release(&bt.slots[k].in);
        zarrc_buf_release(&bt.slots[k].out);
    }
    free(bt.slots);
    pthread_mutex_destroy(&bt.mu);
    pthread_cond_destroy(&bt.cv);
    j->batch = NULL;
    return rc;
}

static int job_init(io_job *j, const zarrc__io_array *a, const int64_t *start, const int64_t *count,
                    const int64_t *step)
{
    const zarrc__array_meta *m = a->meta;
    memset(j, 0, sizeof *j);
    j->a = a;
    int rc = zarrc__plan_make(&j->plan, m->ndim, m->shape, m->chunks, start, count, step);
    if (rc)
        return rc;
    j->es = zarrc_dtype_elem_size(&m->dtype);
    /* Products stay below the chunk's byte size (checked with the metadata) and, for a
     * non-empty box, below the box's byte size (check_box). */
    int64_t s = (int64_t)j->es, cs = (int64_t)j->es;
    for (int d = m->ndim - 1; d >= 0; d--) {
        j->count[d] = count[d];
        j->dstride[d] = s;
        s = j->plan.ntasks ? s * count[d] : 0;
        j->cstride[d] = cs;
        cs *= m->chunks[d];
    }
    j->chunk_bytes = (size_t)cs;
    if (zarrc__dtype_is_vlen(&m->dtype)) {
        zarrc_vref v = zarrc__meta_fill_vref(m);
        memcpy(j->fill_elem, &v, sizeof v);
    } else if (j->es > sizeof j->fill_elem) {
        j->fill_big = m->fill.bytes;
    } else
        memcpy(j->fill_elem, m->fill.bytes, j->es);
    return ZARRC_OK;
}

static int finish(const zarrc__io_array *a, int rc)
{
    return rc ? zarrc__error_context(rc, "array '%s': ", a->name) : ZARRC_OK;
}

/* Read a box into `target` (elements of es bytes; vrefs for vlen types, whose bytes stay in
 * *keeps until the caller releases them). */
static int read_box(const zarrc__io_array *a, const int64_t *start, const int64_t *count, const int64_t *step,
                    uint8_t *target, zarrc_buf **keeps, size_t *nkeeps)
{
    const zarrc__shard_spec *spec = zarrc__pipeline_shard_spec(a->pipeline);
    size_t es = zarrc_dtype_elem_size(&a->meta->dtype);
    if (spec)
        return zarrc__io_shard_read(a, spec, start, count, step, target, es, keeps, nkeeps);
    io_job j;
    int rc = job_init(&j, a, start, count, step);
    if (rc == ZARRC_OK && keeps) {
        j.keeps = *keeps = zarrc__calloc(j.plan.ntasks ? j.plan.ntasks : 1, sizeof **keeps);
        *nkeeps = j.plan.ntasks;
        if (!j.keeps)
            rc = ZARRC_ENOMEM;
    }
    j.data = target;
    j.stream = rc == ZARRC_OK && !keeps && zarrc__io_box_streams(count, a->meta->ndim, j.es);
    if (rc == ZARRC_OK)
        rc = run_tasks(&j, read_task, false);
    zarrc__plan_free(&j.plan);
    return rc;
}

static int write_box(const zarrc__io_array *a, const int64_t *start, const int64_t *count, const int64_t *step,
                     const uint8_t *source)
{
    const zarrc__shard_spec *spec = zarrc__pipeline_shard_spec(a->pipeline);
    size_t es = zarrc_dtype_elem_size(&a->meta->dtype);
    if (spec)
        return zarrc__io_shard_write(a, spec, start, count, step, source, es);
    io_job j;
    int rc = job_init(&j, a, start, count, step);
    j.data = (uint8_t *)source;
    if (rc == ZARRC_OK)
        rc = run_tasks(&j, write_task, true);
    zarrc__plan_free(&j.plan);
    return rc;
}

/* ---- rectilinear grids: the region as regular blocks ----
 * Along a rectilinear dimension every run of equal edges is a regular grid of its own (edge =
 * chunk length, chunk coordinates from the run's first chunk); a bare-edge dimension is one
 * regular grid. The product of the runs a selection touches are blocks on which the regular
 * engine runs, each with the pipeline of its chunk shape (cached), through a buffer of the
 * block's part of the selection when there is more than one block. Sharded arrays: the runs are
 * shard edges, the inner chunks (regular) must divide them (the sharding codec checks). */

#define PIPE_CACHE_MAX 32

struct zarrc__pipe_cache {
    pthread_mutex_t mu;
    size_t n;
    struct { int64_t shape[ZARRC_MAX_DIMS]; zarrc__pipeline *p; } e[PIPE_CACHE_MAX];
};

zarrc__pipe_cache *zarrc__pipe_cache_new(void)
{
    zarrc__pipe_cache *c = zarrc__try_calloc(1, sizeof *c);
    if (c)
        pthread_mutex_init(&c->mu, NULL);
    return c;
}

void zarrc__pipe_cache_free(zarrc__pipe_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        zarrc__pipeline_free(c->e[i].p);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* The pipeline for chunks of `shape`: cached (*tmp NULL) or built for this call (*tmp owns it). */
static int pipe_for(const zarrc__io_array *a, const int64_t *shape, const zarrc__pipeline **out,
                    zarrc__pipeline **tmp)
{
    const zarrc__array_meta *m = a->meta;
    size_t bytes = sizeof(int64_t) * (size_t)m->ndim;
    *tmp = NULL;
    if (!memcmp(shape, a->pipeline->chunk.shape, bytes)) {
        *out = a->pipeline;
        return ZARRC_OK;
    }
    zarrc__pipe_cache *c = a->pipes;
    if (c) {
        pthread_mutex_lock(&c->mu);
        for (size_t i = 0; i < c->n; i++)
            if (!memcmp(c->e[i].shape, shape, bytes)) {
                *out = c->e[i].p;
                pthread_mutex_unlock(&c->mu);
                return ZARRC_OK;
            }
        pthread_mutex_unlock(&c->mu);
    }
    zarrc_repr r = a->pipeline->chunk;
    memcpy(r.shape, shape, bytes);
    zarrc__pipeline *p = NULL;
    int rc = zarrc__pipeline_from_v3(&p, m->codecs, &r);
    if (rc)
        return zarrc__error_context(rc, "codecs for chunks of the rectilinear grid: ");
    if (c) {
        pthread_mutex_lock(&c->mu);
        if (c->n < PIPE_CACHE_MAX) {
            memcpy(c->e[c->n].shape, shape, bytes);
            c->e[c->n++].p = p;
            *out = p;
            p = NULL;
        }
        pthread_mutex_unlock(&c->mu);
    }
    if (p)
        *out = *tmp = p;
    return ZARRC_OK;
}

/* One block along one dimension: indices [lo, lo + len) (clipped to the extent) in chunks of
 * `size` numbered from `chunk0`; selection elements [k0, k1) fall in it. */
typedef struct rblock {
    int64_t lo, len, size, chunk0, k0, k1;
} rblock;

static int rect_blocks(const zarrc__array_meta *m, int d, int64_t start, int64_t count, int64_t step, rblock **out,
                       size_t *n)
{
    *n = 0;
    if (!m->runs[d]) {
        *out = zarrc__malloc(sizeof **out);
        if (!*out)
            return ZARRC_ENOMEM;
        (*out)[0] = (rblock){0, m->shape[d], m->chunks[d], 0, 0, count};
        *n = 1;
        return ZARRC_OK;
    }
    const zarrc__edge_run *runs = m->runs[d];
    size_t nr = m->nruns[d], lo = 0, hi = nr;
    int64_t last = start + (count - 1) * step; /* inside the extent (checked) */
    while (hi - lo > 1) { /* the run holding `start` */
        size_t mid = (lo + hi) / 2;
        if (runs[mid].index0 <= start)
            lo = mid;
        else
            hi = mid;
    }
    size_t cap = 4;
    rblock *b = zarrc__malloc(cap * sizeof *b);
    if (!b)
        return ZARRC_ENOMEM;
    for (size_t r = lo; r < nr && runs[r].index0 <= last; r++) {
        int64_t rlo = runs[r].index0, rend = rlo + runs[r].size * runs[r].count;
        int64_t from = rlo > start ? rlo : start, to = rend < last + 1 ? rend : last + 1;
        int64_t k0 = (from - start + step - 1) / step, k1 = (to - start + step - 1) / step;
        if (k1 <= k0)
            continue;
        if (*n == cap) {
            rblock *g = zarrc__realloc(b, cap * 2 * sizeof *b);
            if (!g) {
                free(b);
                return ZARRC_ENOMEM;
            }
            b = g;
            cap *= 2;
        }
        int64_t len = (rend < m->shape[d] ? rend : m->shape[d]) - rlo;
        b[(*n)++] = (rblock){rlo, len, runs[r].size, runs[r].chunk0, k0, k1};
    }
    *out = b;
    return ZARRC_OK;
}

/* Add a block's kept chunk buffers to the selection's (taking them over). */
static int keeps_join(zarrc_buf **keeps, size_t *nkeeps, zarrc_buf *more, size_t nmore)
{
    size_t n, bytes;
    if (!nmore) {
        free(more);
        return ZARRC_OK;
    }
    if (__builtin_add_overflow(*nkeeps, nmore, &n) || !zarrc__mul_size(n, sizeof **keeps, &bytes)) {
        for (size_t t = 0; t < nmore; t++)
            zarrc_buf_release(&more[t]);
        free(more);
        return zarrc__enomem();
    }
    zarrc_buf *g = zarrc__realloc(*keeps, bytes);
    if (!g) {
        for (size_t t = 0; t < nmore; t++)
            zarrc_buf_release(&more[t]);
        free(more);
        return ZARRC_ENOMEM;
    }
    memcpy(g + *nkeeps, more, nmore * sizeof *more);
    free(more);
    *keeps = g;
    *nkeeps = n;
    return ZARRC_OK;
}

/* Variable-length types go through as vrefs (elements of sizeof(zarrc_vref)): a read leaves in
 * *keeps the decoded chunk buffers the vrefs of every block point into (like read_box). */
static int rect_box(const zarrc__io_array *a, const int64_t *start, const int64_t *count, const int64_t *step,
                    uint8_t *data, bool writing, zarrc_buf **keeps, size_t *nkeeps)
{
    const zarrc__array_meta *m = a->meta;
    int nd = m->ndim;
    size_t es = zarrc_dtype_elem_size(&m->dtype);
    for (int d = 0; d < nd; d++)
        if (count[d] == 0)
            return ZARRC_OK;
    rblock *blk[ZARRC_MAX_DIMS] = {0};
    size_t nb[ZARRC_MAX_DIMS], total = 1;
    int rc = ZARRC_OK;
    for (int d = 0; d < nd; d++) /* the edges cover the selection (a consistent grid covers the extent) */
        if (m->runs[d] && start[d] + (count[d] - 1) * (step ? step[d] : 1) >= zarrc__meta_edge_sum(m, d))
            return zarrc_error_set(ZARRC_ECORRUPT, "dimension %d: the chunk edges end at %lld, before the "
                                   "selection's end", d, (long long)zarrc__meta_edge_sum(m, d));
    for (int d = 0; d < nd && rc == ZARRC_OK; d++)
        if ((rc = rect_blocks(m, d, start[d], count[d], step ? step[d] : 1, &blk[d], &nb[d])) == ZARRC_OK &&
            !zarrc__mul_size(total, nb[d], &total))
            rc = zarrc_error_set(ZARRC_EBOUNDS, "the selection touches too many chunks");
    int64_t bstride[ZARRC_MAX_DIMS], s = (int64_t)es;
    for (int d = nd - 1; d >= 0; d--) {
        bstride[d] = s;
        s *= count[d];
    }
    zarrc_buf tmp = ZARRC_BUF_INIT;
    for (size_t t = 0; rc == ZARRC_OK && t < total; t++) {
        zarrc__array_meta sub = *m;
        sub.rectilinear = false;
        sub.owns_runs = false;
        int64_t sstart[ZARRC_MAX_DIMS], scount[ZARRC_MAX_DIMS], off = 0, tstride[ZARRC_MAX_DIMS];
        size_t rest = t, elems = 1;
        for (int d = nd - 1; d >= 0; d--) {
            const rblock *b = &blk[d][rest % nb[d]];
            rest /= nb[d];
            int64_t st = step ? step[d] : 1;
            sub.runs[d] = NULL;
            sub.shape[d] = b->len;
            sub.chunks[d] = b->size;
            sub.chunk_origin[d] = m->chunk_origin[d] + b->chunk0;
            sstart[d] = start[d] + b->k0 * st - b->lo;
            scount[d] = b->k1 - b->k0;
            off += b->k0 * bstride[d];
            elems *= (size_t)scount[d];
        }
        int64_t ts = (int64_t)es;
        for (int d = nd - 1; d >= 0; d--) {
            tstride[d] = ts;
            ts *= scount[d];
        }
        const zarrc__pipeline *pipe = NULL;
        zarrc__pipeline *own = NULL;
        if ((rc = pipe_for(a, sub.chunks, &pipe, &own)))
            break;
        zarrc__io_array io = *a;
        io.meta = &sub;
        io.pipeline = pipe;
        bool direct = total == 1;
        uint8_t *buf = data;
        if (!direct) {
            tmp.size = 0;
            if ((rc = zarrc_buf_reserve(&tmp, elems * es))) {
                zarrc__pipeline_free(own);
                break;
            }
            buf = tmp.data;
            if (writing)
                zarrc__copy_box(buf, tstride, data + off, bstride, scount, nd, es);
        }
        zarrc_buf *bk = NULL;
        size_t nbk = 0;
        rc = writing ? write_box(&io, sstart, scount, step, buf)
                     : read_box(&io, sstart, scount, step, buf, keeps ? &bk : NULL, keeps ? &nbk : NULL);
        if (keeps && (bk || nbk)) {
            int jr = keeps_join(keeps, nkeeps, bk, nbk); /* even on failure: the caller releases them */
            if (rc == ZARRC_OK)
                rc = jr;
        }
        if (rc == ZARRC_OK && !direct && !writing)
            zarrc__copy_box(data + off, bstride, buf, tstride, scount, nd, es);
        zarrc__pipeline_free(own);
    }
    zarrc_buf_release(&tmp);
    for (int d = 0; d < nd; d++)
        free(blk[d]);
    return rc;
}

/* Check the selection against the array and count its elements. The box's bytes (elements x
 * in-memory element size) must be representable, as every stride and offset into the
 * caller's buffer is computed from them. */
static int check_box(const zarrc__io_array *a, const int64_t *start, const int64_t *count, const int64_t *step,
                     int64_t *nelem)
{
    const zarrc__array_meta *m = a->meta;
    if (!a->pipeline)
        return zarrc_error_set(ZARRC_EINTERNAL, "array has no codec pipeline");
    int rc = zarrc__selection_check(m->ndim, m->shape, start, count, step);
    if (rc)
        return rc;
    int64_t n = 1, bytes;
    for (int d = 0; d < m->ndim; d++)
        if (count[d] == 0) { /* empty, whatever the other counts */
            *nelem = 0;
            return ZARRC_OK;
        }
    for (int d = 0; d < m->ndim; d++)
        if (__builtin_mul_overflow(n, count[d], &n))
            return zarrc_error_set(ZARRC_EBOUNDS, "the selection has too many elements (more than 2^63)");
    if (__builtin_mul_overflow(n, (int64_t)zarrc_dtype_elem_size(&m->dtype), &bytes) || (uint64_t)bytes > SIZE_MAX)
        return zarrc_error_set(ZARRC_EBOUNDS, "the selection of %lld elements is too large (its size in bytes "
                               "overflows)", (long long)n);
    *nelem = n;
    return ZARRC_OK;
}

/* ---- fresh output buffers ---- */

/* Faulting a large fresh buffer in one 4 KiB page at a time, as the chunk tasks scatter into
 * it, costs an exception per page; MADV_POPULATE_WRITE (Linux 5.14) faults a whole range in one
 * call, on the pool, before the tasks run. It writes nothing: pages already present (a buffer
 * the caller reuses) are skipped, and on older kernels it fails harmlessly. */
#define POPULATE_MIN ((size_t)64 << 20)
#define POPULATE_PIECE ((size_t)16 << 20)

typedef struct populate_job {
    uint8_t *base;
    size_t n;
} populate_job;

static int populate_task(void *ctx, size_t i)
{
#ifdef MADV_POPULATE_WRITE
    const populate_job *pj = ctx;
    uintptr_t page = 4096, lo = ((uintptr_t)pj->base + i * POPULATE_PIECE + page - 1) & ~(page - 1);
    uintptr_t hi = (uintptr_t)pj->base + (i + 1) * POPULATE_PIECE;
    if (hi > (uintptr_t)pj->base + pj->n)
        hi = (uintptr_t)pj->base + pj->n;
    hi &= ~(page - 1);
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#else
    (void)ctx;
    (void)i;
#endif
    return ZARRC_OK;
}

static void populate_output(void *out, size_t n)
{
    static int off = -1;
    if (n < POPULATE_MIN || zarrc__env_flag("ZARRC_NO_POPULATE", &off))
        return;
    populate_job pj = {out, n};
    (void)zarrc__pool_run((n + POPULATE_PIECE - 1) / POPULATE_PIECE, populate_task, &pj);
}

int zarrc__io_read(const zarrc__io_array *a, const int64_t *start, const int64_t *count,
                   const int64_t *step, void *out, size_t out_size)
{
    int64_t nelem;
    int rc = check_box(a, start, count, step, &nelem);
    if (rc)
        return finish(a, rc);
    size_t es = zarrc_dtype_elem_size(&a->meta->dtype);
    if (!zarrc__dtype_is_vlen(&a->meta->dtype)) {
        if (out_size != (size_t)nelem * es)
            return finish(a, zarrc_error_set(ZARRC_EINVAL, "output buffer has %zu bytes, the selection "
                                             "needs %lld", out_size, (long long)nelem * (long long)es));
        /* The caller's buffer keeps the caller's memory policy (huge-page advice on it made
         * 2 GiB whole reads twice as slow in a VM that backs fresh memory lazily); its pages
         * are only faulted in ahead. */
        populate_output(out, out_size);
        if (a->meta->rectilinear)
            return finish(a, rect_box(a, start, count, step, out, false, NULL, NULL));
        return finish(a, read_box(a, start, count, step, out, NULL, NULL));
    }
    /* Variable-length: gather vrefs, then pack into one contiguous zarrc_vlen. */
    zarrc_vlen *v = out;
    if (out_size != sizeof *v)
        return finish(a, zarrc_error_set(ZARRC_EINVAL, "variable-length reads take a zarrc_vlen"));
    memset(v, 0, sizeof *v);
    zarrc_vref *refs = zarrc__malloc((size_t)(nelem ? nelem : 1) * sizeof *refs);
    zarrc_buf *keeps = NULL;
    size_t nkeeps = 0;
    rc = refs ? ZARRC_OK : ZARRC_ENOMEM;
    if (rc == ZARRC_OK)
        rc = a->meta->rectilinear ? rect_box(a, start, count, step, (uint8_t *)refs, false, &keeps, &nkeeps)
                                  : read_box(a, start, count, step, (uint8_t *)refs, &keeps, &nkeeps);
    if (rc == ZARRC_OK)
        rc = zarrc__dtype_is_optional_vlen(&a->meta->dtype) ? zarrc__vlen_pack_mask(v, refs, nelem)
                                                             : zarrc__vlen_pack(v, refs, nelem); /* src/dtype/vlen.c */
    for (size_t t = 0; t < nkeeps; t++)
        zarrc_buf_release(&keeps[t]);
    free(keeps);
    free(refs);
    return finish(a, rc);
}

int zarrc__io_write(const zarrc__io_array *a, const int64_t *start, const int64_t *count,
                    const int64_t *step, const void *in, size_t in_size)
{
    int64_t nelem;
    int rc = check_box(a, start, count, step, &nelem);
    if (rc)
        return finish(a, rc);
    size_t es = zarrc_dtype_elem_size(&a->meta->dtype);
    if (!zarrc__dtype_is_vlen(&a->meta->dtype)) {
        if (in_size != (size_t)nelem * es)
            return finish(a, zarrc_error_set(ZARRC_EINVAL, "input has %zu bytes, the selection needs %lld",
                                             in_size, (long long)nelem * (long long)es));
        if (a->meta->rectilinear)
            return finish(a, rect_box(a, start, count, step, (uint8_t *)in, true, NULL, NULL));
        return finish(a, write_box(a, start, count, step, in));
    }
    const zarrc_vlen *v = in;
    zarrc_vref *refs = NULL;
    if (in_size != sizeof *v)
        rc = zarrc_error_set(ZARRC_EINVAL, "variable-length writes take a zarrc_vlen");
    else
        rc = zarrc__dtype_is_optional_vlen(&a->meta->dtype) ? zarrc__vlen_refs_mask(&refs, v, nelem)
                                                             : zarrc__vlen_refs(&refs, v, nelem); /* src/dtype/vlen.c */
    if (rc == ZARRC_OK)
        rc = a->meta->rectilinear ? rect_box(a, start, count, step, (uint8_t *)refs, true, NULL, NULL)
                                  : write_box(a, start, count, step, (const uint8_t *)refs);
    free(refs);
    return finish(a, rc);
}

int zarrc__io_read_strided(const zarrc__io_array *a, const int64_t *start, const int64_t *count,
                           const int64_t *step, void *out, const int64_t *dstride)
{
    int64_t nelem;
    int rc = check_box(a, start, count, step, &nelem);
    if (rc || nelem == 0)
        return finish(a, rc);
    if (zarrc__dtype_is_vlen(&a->meta->dtype) || zarrc__pipeline_shard_spec(a->pipeline) || a->meta->rectilinear)
        return finish(a, zarrc_error_set(ZARRC_EINTERNAL, "strided destinations need fixed-size, unsharded, "
                                         "regular arrays"));
    io_job j;
    rc = job_init(&j, a, start, count, step);
    if (rc == ZARRC_OK) {
        for (int d = 0; d < a->meta->ndim; d++)
            j.dstride[d] = dstride[d];
        j.strided = true;
        j.data = out;
        rc = run_tasks(&j, read_task, false);
    }
    zarrc__plan_free(&j.plan);
    return finish(a, rc);
}
