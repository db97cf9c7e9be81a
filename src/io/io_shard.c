/*
 * io_shard.c — reads and writes of arrays whose only codec is sharding_indexed.
 *
 * The selection is planned over the inner chunk grid; inner chunks are grouped by shard.
 * Read:  (A) per shard: the index (cache, else one range request — a suffix when the index is
 *            at the end), then the needed inner chunks with requests merged when they are
 *            adjacent or close; (B) per inner chunk: decode into the destination.
 * Write: (1) per shard: the old shard if it is only partly overwritten; then in rounds of a
 *            few shards per thread: (2) per touched inner chunk: merge + encode (only touched
 *            inner chunks are decoded); (3) per shard: assemble new + untouched old encoded
 *            bytes (copied as they are), one set — or erase the shard when no inner chunk is
 *            left.
 * Each phase runs on the shared pool; errors report the lowest failing shard / inner chunk.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "io_internal.h"

#define MERGE_GAP (64 * 1024) /* inner chunks closer than this are fetched in one request */

typedef struct group {
    size_t begin, end; /* runs [begin, end) along one dimension belong to this shard */
    int64_t shard;
} group;

enum { REC_FILL, REC_DATA, REC_PARTIAL };

typedef struct inner_rec {
    int state;
    size_t shard;        /* index of its shard record */
    size_t local;        /* inner chunk index within the shard (C order) */
    const uint8_t *ptr;  /* read: encoded bytes (or the selected byte range for REC_PARTIAL) */
    size_t len;
    zarrc_buf enc;       /* write: the new encoded inner chunk */
    bool empty;          /* write: equals the fill value, not stored */
} inner_rec;

typedef struct shard_rec {
    size_t *tasks;       /* read: the inner tasks of this shard */
    size_t ntasks;
    zarrc_buf key;       /* the shard's store key (NUL-terminated once set) */
    bool missing;
    bool covered;        /* write: every in-bounds inner chunk is fully overwritten */
    bool owned;          /* write: the shard starts beyond io->own_from (no other writer) */
    void *lock;          /* write, partly covered: the store's lock on the shard, held from
                            fetching the old shard to storing the new one */
    char version[ZARRC_STORE_VERSION_MAX]; /* write, partly covered, compare-and-swap stores:
                                              the old shard's version */
    uint64_t *entries;   /* decoded index, or NULL */
    zarrc_buf *bufs;     /* read: fetched ranges; write: bufs[0] = the whole old shard */
    size_t nbufs;
} shard_rec;

typedef struct shard_job {
    const zarrc__io_array *a;
    const zarrc__shard_spec *s;
    zarrc__plan plan;
    group *groups[ZARRC_MAX_DIMS];
    size_t ngroups[ZARRC_MAX_DIMS];
    size_t nshards;
    shard_rec *shards;
    inner_rec *recs;
    size_t es, inner_elems;
    int64_t istride[ZARRC_MAX_DIMS]; /* byte strides inside an inner chunk */
    int64_t dstride[ZARRC_MAX_DIMS]; /* byte strides of the caller's box */
    int64_t count[ZARRC_MAX_DIMS];
    uint8_t *data;
    bool bytes_only, big_endian;
    bool stream;                     /* read: the box is placed with streaming stores */
    zarrc_buf *keeps;                /* vlen reads: per inner task */
    size_t *round;                   /* read: the inner tasks of the current round of shards */
    /* Buffers of earlier rounds reused by the next instead of freed and allocated again: at
     * a few MiB each, a fresh buffer is fresh memory to fault in, and freed ones linger in the
     * allocator's per-thread arenas, so a round's memory would count twice.
     * Reads: the fetched shard bytes. Writes: the encoded inner chunks (and the caller's last
     * write's, see keep_spares). */
    zarrc_buf *spares;
    size_t nspares, capspares;
    pthread_mutex_t spare_mu;
} shard_job;

/* The per-shard phases are store requests: for stores with latency they run on the I/O pool
 * (more requests in flight than CPU threads); decoding and encoding stay on the CPU pool. */
typedef int (*phase_runner)(size_t n, zarrc__task_fn fn, void *ctx);

static phase_runner io_phase(const shard_job *j)
{
    return zarrc__store_has_latency(j->a->store) ? zarrc__io_run : zarrc__pool_run;
}

static void job_free(shard_job *j)
{
    for (size_t i = 0; j->shards && i < j->nshards; i++) {
        free(j->shards[i].tasks);
        free(j->shards[i].entries);
        for (size_t k = 0; k < j->shards[i].nbufs; k++)
            zarrc_buf_release(&j->shards[i].bufs[k]);
        free(j->shards[i].bufs);
        zarrc_buf_release(&j->shards[i].key);
    }
    for (size_t t = 0; j->recs && t < j->plan.ntasks; t++)
        zarrc_buf_release(&j->recs[t].enc);
    free(j->shards);
    free(j->recs);
    free(j->round);
    for (int d = 0; d < j->plan.ndim; d++)
        free(j->groups[d]);
    zarrc__plan_free(&j->plan);
}

static int job_init(shard_job *j, const zarrc__io_array *a, const zarrc__shard_spec *s, const int64_t *start,
                    const int64_t *count, const int64_t *step, size_t es)
{
    const zarrc__array_meta *m = a->meta;
    memset(j, 0, sizeof *j);
    j->a = a;
    j->s = s;
    j->es = es;
    int rc = zarrc__plan_make(&j->plan, m->ndim, m->shape, s->inner, start, count, step);
    if (rc)
        return rc;
    int64_t bs = (int64_t)es, is = (int64_t)es;
    j->inner_elems = 1;
    for (int d = m->ndim - 1; d >= 0; d--) {
        j->count[d] = count[d];
        j->dstride[d] = bs;
        bs = j->plan.ntasks ? bs * count[d] : 0; /* (an empty box has no strides) */
        j->istride[d] = is;
        is *= s->inner[d];
        j->inner_elems *= (size_t)s->inner[d];
    }
    j->nshards = j->plan.ntasks ? 1 : 0;
    for (int d = 0; d < m->ndim && j->nshards; d++) {
        j->groups[d] = zarrc__malloc(j->plan.nruns[d] * sizeof(group));
        if (!j->groups[d])
            return ZARRC_ENOMEM;
        size_t g = 0;
        for (size_t r = 0; r < j->plan.nruns[d]; r++) {
            int64_t sh = j->plan.runs[d][r].chunk / s->per_shard[d];
            if (g == 0 || j->groups[d][g - 1].shard != sh)
                j->groups[d][g++] = (group){r, r, sh};
            j->groups[d][g - 1].end = r + 1;
        }
        j->ngroups[d] = g;
        j->nshards *= g;
    }
    j->shards = zarrc__calloc(j->nshards ? j->nshards : 1, sizeof *j->shards);
    j->recs = zarrc__calloc(j->plan.ntasks ? j->plan.ntasks : 1, sizeof *j->recs);
    if (!j->shards || !j->recs)
        return ZARRC_ENOMEM;
    j->bytes_only = zarrc__pipeline_bytes_only(s->inner_codecs, &j->big_endian);
    return ZARRC_OK;
}

/* The inner tasks of shard si: global task indexes and local (in-shard) indexes. Also sets
 * the shard's key and coordinates. Returns the count (tasks/locals hold n_inner entries). */
static size_t shard_tasks(shard_job *j, size_t si, size_t *tasks, size_t *locals, int64_t *coords)
{
    int nd = j->plan.ndim;
    size_t gi[ZARRC_MAX_DIMS], r[ZARRC_MAX_DIMS];
    size_t rest = si;
    for (int d = nd - 1; d >= 0; d--) {
        gi[d] = rest % j->ngroups[d];
        rest /= j->ngroups[d];
        coords[d] = j->groups[d][gi[d]].shard;
        r[d] = j->groups[d][gi[d]].begin;
    }
    size_t n = 0;
    for (;;) {
        size_t t = 0, li = 0;
        for (int d = 0; d < nd; d++) {
            t = t * j->plan.nruns[d] + r[d];
            li = li * (size_t)j->s->per_shard[d] + (size_t)(j->plan.runs[d][r[d]].chunk % j->s->per_shard[d]);
        }
        tasks[n] = t;
        locals[n++] = li;
        int d = nd - 1;
        for (; d >= 0; d--) {
            if (++r[d] < j->groups[d][gi[d]].end)
                break;
            r[d] = j->groups[d][gi[d]].begin;
        }
        if (d < 0)
            return n;
    }
}

/* Set the shard's store key; ZARRC_ENOMEM if it cannot be built. */
static int shard_key(const shard_job *j, shard_rec *sr, const int64_t *coords)
{
    return zarrc__meta_chunk_store_key(&sr->key, j->a->meta, j->a->prefix, coords) ? ZARRC_OK : ZARRC_ENOMEM;
}

/* The shard's key for messages ("" before it is built). */
static const char *key_of(const shard_rec *sr) { return sr->key.data ? (const char *)sr->key.data : ""; }

static int shard_error(const shard_job *j, size_t si, int rc)
{
    return zarrc__error_context(rc, "shard '%s': ", key_of(&j->shards[si]));
}

static int inner_error(const shard_job *j, const inner_rec *rec, int rc)
{
    char name[32 + 24 * ZARRC_MAX_DIMS];
    zarrc__shard_inner_name(j->s, rec->local, name, sizeof name);
    return zarrc__error_context(rc, "shard '%s': inner chunk %s: ", key_of(&j->shards[rec->shard]), name);
}

/* Fetch and decode a shard's index (cache first). ENOTFOUND if the shard does not exist. */
static int load_index(shard_job *j, shard_rec *sr)
{
    const zarrc__shard_spec *s = j->s;
    sr->entries = zarrc__malloc(s->n_inner * 16);
    if (!sr->entries)
        return ZARRC_ENOMEM;
    /* The shard's version, taken before its index is read: a cached index counts only while
     * the shard is unchanged. */
    char *version = sr->version;
    const char *ver = NULL;
    version[0] = 0;
    /* On stores with latency, asking for the version costs the round trip that reading the
     * index costs: no caching across calls there (a read stays at index + data requests).
     * Elsewhere the version also lets read_shard check that the index and the data it then
     * fetched belong to the same value of the shard. */
    if (!zarrc__store_has_latency(j->a->store)) {
        int vr = zarrc__store_version(j->a->store, key_of(sr), version);
        if (vr == ZARRC_ENOTFOUND)
            return vr;
        zarrc__error_clear();
        if (vr != ZARRC_OK)
            version[0] = 0;
        ver = vr == ZARRC_OK ? version : NULL;
    }
    if (zarrc__index_cache_get(j->a->index_cache, key_of(sr), ver, sr->entries, s->n_inner * 2))
        return ZARRC_OK;
    zarrc_buf ib = ZARRC_BUF_INIT;
    int rc = s->index_at_end ? zarrc__store_get(j->a->store, key_of(sr), -(int64_t)s->index_size, -1, &ib)
                             : zarrc__store_get(j->a->store, key_of(sr), 0, (int64_t)s->index_size, &ib);
    if (rc == ZARRC_OK && ib.size != s->index_size)
        rc = zarrc_error_set(ZARRC_ECORRUPT, "shard of %zu bytes is shorter than its index (%zu bytes)",
                             ib.size, s->index_size);
    if (rc == ZARRC_OK)
        rc = zarrc__shard_index_decode(s, ib.data, ib.size, 0, sr->entries);
    if (rc == ZARRC_OK)
        zarrc__index_cache_put(j->a->index_cache, key_of(sr), ver, sr->entries, s->n_inner * 2);
    zarrc_buf_release(&ib);
    return rc;
}

typedef struct span {
    uint64_t start, end;
    size_t task;
} span;

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Keep a buffer for reuse (any thread), else release it. */
static void spare_put(shard_job *j, zarrc_buf *b)
{
    pthread_mutex_lock(&j->spare_mu);
    if (b->data && !b->borrowed && j->nspares < j->capspares) {
        j->spares[j->nspares++] = *b;
        *b = (zarrc_buf)ZARRC_BUF_INIT;
    }
    pthread_mutex_unlock(&j->spare_mu);
    zarrc_buf_release(b); /* (a no-op once kept) */
}

/* An empty buffer, with the capacity of a spare when there is one (any thread). */
static zarrc_buf spare_take(shard_job *j)
{
    zarrc_buf b = ZARRC_BUF_INIT;
    pthread_mutex_lock(&j->spare_mu);
    if (j->nspares)
        b = j->spares[--j->nspares];
    pthread_mutex_unlock(&j->spare_mu);
    b.size = 0;
    return b;
}

/* Shards per round: `per_thread` per thread, but at least 64 inner chunks per thread when
 * shards are small (fewer pool barriers); on stores with latency, enough shards to keep the
 * I/O pool's requests in flight. */
static size_t shards_per_round(const shard_job *j, size_t per_thread)
{
    size_t threads = (size_t)zarrc_get_num_threads(), n_inner = j->s->n_inner, per_round = threads * per_thread;
    if (n_inner && n_inner < 32)
        per_round = (64 * threads + n_inner - 1) / n_inner;
    if (zarrc__store_has_latency(j->a->store) && (size_t)zarrc_get_io_concurrency() > per_round)
        per_round = (size_t)zarrc_get_io_concurrency();
    return per_round;
}

/* Read phase A: index + merged range requests for one shard. */
static int read_shard(void *ctx, size_t si)
{
    shard_job *j = ctx;
    const zarrc__shard_spec *s = j->s;
    shard_rec *sr = &j->shards[si];
    size_t *tasks = zarrc__malloc(2 * s->n_inner * sizeof *tasks);
    span *spans = zarrc__malloc(s->n_inner * sizeof *spans);
    zarrc_get_request *reqs = zarrc__malloc(s->n_inner * sizeof *reqs);
    size_t *req_of = zarrc__malloc(s->n_inner * sizeof *req_of);
    int64_t coords[ZARRC_MAX_DIMS];
    int rc = tasks && spans && reqs && req_of ? ZARRC_OK : ZARRC_ENOMEM;
    size_t n = 0, ns = 0, nreq = 0;
    if (rc)
        goto done;
    size_t *locals = tasks + s->n_inner;
    n = shard_tasks(j, si, tasks, locals, coords);
    if ((rc = shard_key(j, sr, coords)))
        goto done;
    if (!(sr->tasks = zarrc__malloc(n * sizeof *sr->tasks))) {
        rc = ZARRC_ENOMEM;
        goto done;
    }
    memcpy(sr->tasks, tasks, n * sizeof *sr->tasks);
    sr->ntasks = n;
    /* A concurrent writer may replace the shard between the index read and the data reads
     * (each opens the key anew): then the ranges would be cut from another value — a torn
     * read. On stores with version tokens the version is compared after the data arrived and
     * the shard read again when it changed. */
    int attempts = 0;
again:
    for (size_t k = 0; k < n; k++) {
        j->recs[tasks[k]].shard = si;
        j->recs[tasks[k]].local = locals[k];
        j->recs[tasks[k]].state = REC_FILL;
    }
    rc = load_index(j, sr);
    if (rc == ZARRC_ENOTFOUND) { /* a missing shard reads as the fill value */
        sr->missing = true;
        rc = ZARRC_OK;
        goto done;
    }
    if (rc)
        goto done;
    for (size_t k = 0; k < n && rc == ZARRC_OK; k++) {
        inner_rec *rec = &j->recs[tasks[k]];
        uint64_t off = sr->entries[2 * locals[k]], len = sr->entries[2 * locals[k] + 1];
        if (off == ZARRC_SHARD_EMPTY)
            continue;
        uint64_t a = off, b = off + len;
        rec->state = REC_DATA;
        if (j->bytes_only) {
            /* Uncompressed inner chunk: fetch only the span of the selected elements. */
            const zarrc__run *runs[ZARRC_MAX_DIMS];
            zarrc__plan_task(&j->plan, tasks[k], runs);
            uint64_t lo = 0, hi = 0;
            for (int d = 0; d < j->plan.ndim; d++) {
                lo += (uint64_t)(runs[d]->offset * j->istride[d]);
                int64_t last = runs[d]->offset + (runs[d]->n - 1) * zarrc__run_step(&j->plan, d, runs[d]);
                hi += (uint64_t)(last * j->istride[d]);
            }
            if (len != j->inner_elems * j->es) {
                char name[32 + 24 * ZARRC_MAX_DIMS];
                zarrc__shard_inner_name(s, locals[k], name, sizeof name);
                rc = zarrc_error_set(ZARRC_ECORRUPT, "inner chunk %s has %llu bytes, expected %zu", name,
                                     (unsigned long long)len, j->inner_elems * j->es);
            }
            else if (hi + j->es - lo < len) {
                a = off + lo;
                b = off + hi + j->es;
                rec->state = REC_PARTIAL;
            }
        }
        spans[ns++] = (span){a, b, tasks[k]};
    }
    if (rc)
        goto done;
    qsort(spans, ns, sizeof *spans, cmp_span);
    for (size_t k = 0; k < ns; k++) {
        if (nreq && spans[k].start <= (uint64_t)reqs[nreq - 1].offset + (uint64_t)reqs[nreq - 1].length + MERGE_GAP) {
            uint64_t end = (uint64_t)reqs[nreq - 1].offset + (uint64_t)reqs[nreq - 1].length;
            if (spans[k].end > end)
                reqs[nreq - 1].length = (int64_t)(spans[k].end - (uint64_t)reqs[nreq - 1].offset);
        } else
            reqs[nreq++] = (zarrc_get_request){key_of(sr), (int64_t)spans[k].start,
                                               (int64_t)(spans[k].end - spans[k].start), NULL, 0};
        req_of[k] = nreq - 1;
    }
    sr->bufs = zarrc__calloc(nreq ? nreq : 1, sizeof *sr->bufs);
    if (!sr->bufs) {
        rc = ZARRC_ENOMEM;
        goto done;
    }
    sr->nbufs = nreq;
    /* Room for each range at its exact size, but only for a plausible one: the lengths come from
     * the index, and the store clips a range to the value's real size before it allocates. */
    size_t plausible = SIZE_MAX;
    if (__builtin_mul_overflow(j->inner_elems * j->es, s->n_inner, &plausible) ||
        __builtin_mul_overflow(plausible, 2, &plausible) || __builtin_add_overflow(plausible, 1u << 20, &plausible))
        plausible = 0;
    for (size_t r = 0; r < nreq && rc == ZARRC_OK; r++) {
        sr->bufs[r] = spare_take(j);
        reqs[r].out = &sr->bufs[r];
        if ((uint64_t)reqs[r].length <= plausible)
            rc = zarrc__buf_reserve_exact(&sr->bufs[r], (size_t)reqs[r].length);
    }
    if (rc)
        goto done;
    if (nreq && (rc = zarrc__store_get_many(j->a->store, reqs, nreq)))
        goto done;
    for (size_t r = 0; r < nreq && rc == ZARRC_OK; r++) {
        if (reqs[r].status == ZARRC_ENOTFOUND)
            rc = zarrc_error_set(ZARRC_EIO, "the shard disappeared while being read");
        else if (reqs[r].status)
            rc = reqs[r].status;
        else if (sr->bufs[r].size != (size_t)reqs[r].length) {
            zarrc__index_cache_drop(j->a->index_cache, key_of(sr));
            rc = zarrc_error_set(ZARRC_ECORRUPT, "the index points past the end of the shard (bytes %lld..%lld "
                                 "requested, %zu returned)", (long long)reqs[r].offset,
                                 (long long)(reqs[r].offset + reqs[r].length), sr->bufs[r].size);
        }
    }
    if (sr->version[0] && attempts < 64 && (rc == ZARRC_OK || rc == ZARRC_ECORRUPT || rc == ZARRC_EIO)) {
        char now[ZARRC_STORE_VERSION_MAX];
        int vr = zarrc__store_version(j->a->store, key_of(sr), now);
        if (vr != ZARRC_OK || strcmp(now, sr->version) != 0) {
            zarrc__error_clear();
            zarrc__index_cache_drop(j->a->index_cache, key_of(sr));
            for (size_t r = 0; r < sr->nbufs; r++)
                zarrc_buf_release(&sr->bufs[r]);
            free(sr->bufs);
            sr->bufs = NULL;
            sr->nbufs = 0;
            free(sr->entries);
            sr->entries = NULL;
            sr->missing = false;
            ns = nreq = 0;
            attempts++;
            rc = ZARRC_OK;
            goto again;
        }
    }
    for (size_t k = 0; k < ns && rc == ZARRC_OK; k++) {
        inner_rec *rec = &j->recs[spans[k].task];
        zarrc_get_request *q = &reqs[req_of[k]];
        /* (an empty inner chunk leaves no buffer: point at an empty byte string) */
        rec->ptr = q->out->data ? q->out->data + (spans[k].start - (uint64_t)q->offset) : (const uint8_t *)"";
        rec->len = (size_t)(spans[k].end - spans[k].start);
    }
done:
    free(tasks);
    free(spans);
    free(reqs);
    free(req_of);
    return rc ? shard_error(j, si, rc) : ZARRC_OK;
}

/* Where an inner task's elements sit: `box_off` in the caller's box, `chunk_off` and strides
 * `cstride` in the inner chunk. True if the whole inner chunk is selected. */
static bool inner_box(const shard_job *j, const zarrc__run **runs, int64_t *n, int64_t *box_off, int64_t *chunk_off,
                      int64_t *cstride)
{
    bool whole = true;
    *box_off = *chunk_off = 0;
    for (int d = 0; d < j->plan.ndim; d++) {
        n[d] = runs[d]->n;
        *box_off += runs[d]->sel_pos * j->dstride[d];
        *chunk_off += runs[d]->offset * j->istride[d];
        cstride[d] = j->istride[d] * zarrc__run_step(&j->plan, d, runs[d]);
        whole &= runs[d]->offset == 0 && zarrc__run_step(&j->plan, d, runs[d]) == 1 && n[d] == j->s->inner[d];
    }
    return whole;
}

/* Read phase B: one inner chunk into the destination. */
static int read_inner(void *ctx, size_t t)
{
    shard_job *j = ctx;
    inner_rec *rec = &j->recs[t];
    const zarrc__run *runs[ZARRC_MAX_DIMS];
    int64_t n[ZARRC_MAX_DIMS], sstride[ZARRC_MAX_DIMS], dst_off, src_off;
    int nd = j->plan.ndim;
    zarrc__plan_task(&j->plan, t, runs);
    bool whole = inner_box(j, runs, n, &dst_off, &src_off, sstride);
    uint8_t *dst = j->data + dst_off;
    const zarrc_repr *ir = &j->s->inner_codecs->chunk;
    if (rec->state == REC_FILL) {
        zarrc__fill_box(dst, j->dstride, n, nd, ir->fill, j->es);
        return ZARRC_OK;
    }
    if (rec->state == REC_PARTIAL) {
        /* The fetched bytes start at the first selected element; fix the byte order in place. */
        if (j->big_endian != zarrc__host_big_endian())
            zarrc__byteswap((uint8_t *)rec->ptr, rec->len / zarrc__dtype_swap_width(&ir->dtype),
                            zarrc__dtype_swap_width(&ir->dtype));
        zarrc__io_place(j->stream, dst, j->dstride, rec->ptr, sstride, n, nd, j->es);
        return ZARRC_OK;
    }
    thread_bufs *b = zarrc__io_bufs();
    if (!b)
        return ZARRC_ENOMEM;
    zarrc_buf none = ZARRC_BUF_INIT, *keep = j->keeps ? &j->keeps[t] : &none;
    bool direct = whole && !j->keeps;
    if (direct) {
        int first = 0;
        while (first < nd && n[first] == 1)
            first++;
        for (int d = first + 1; d < nd; d++)
            direct &= n[d] == j->count[d];
    }
    int rc;
    if (direct) {
        zarrc_buf out = {dst, 0, j->inner_elems * j->es, 1};
        rc = zarrc__pipeline_decode(j->s->inner_codecs, rec->ptr, rec->len, &b->scratch, &out, &none);
    } else if (whole && !j->keeps && nd >= 2 && zarrc__pipeline_can_stream(j->s->inner_codecs)) {
        rc = zarrc__io_scatter_decode(j->s->inner_codecs, rec->ptr, rec->len, dst, j->dstride, j->s->inner, nd,
                                      j->es, j->stream);
    } else {
        rc = zarrc_buf_reserve(&b->chunk, j->inner_elems * j->es);
        if (rc == ZARRC_OK)
            rc = zarrc__pipeline_decode(j->s->inner_codecs, rec->ptr, rec->len, &b->scratch, &b->chunk, keep);
        if (rc == ZARRC_OK)
            zarrc__io_place(j->stream, dst, j->dstride, b->chunk.data + src_off, sstride, n, nd, j->es);
    }
    zarrc_buf_release(&none);
    return rc ? inner_error(j, rec, rc) : ZARRC_OK;
}

typedef struct round_ctx {
    shard_job *j;
    size_t first;
} round_ctx;

static int read_shard_in_round(void *ctx, size_t k)
{
    round_ctx *r = ctx;
    return read_shard(r->j, r->first + k);
}

static int read_inner_in_round(void *ctx, size_t k)
{
    shard_job *j = ctx;
    return read_inner(j, j->round[k]);
}

/* Read phases A and B of one shard on one thread, its fetched bytes then handed on. */
static int read_shard_whole(void *ctx, size_t si)
{
    shard_job *j = ctx;
    shard_rec *sr = &j->shards[si];
    int rc = read_shard(j, si);
    for (size_t k = 0; rc == ZARRC_OK && k < sr->ntasks; k++)
        rc = read_inner(j, sr->tasks[k]);
    for (size_t b = 0; b < sr->nbufs; b++)
        spare_put(j, &sr->bufs[b]);
    return rc;
}

int zarrc__io_shard_read(const zarrc__io_array *a, const zarrc__shard_spec *spec, const int64_t *start,
                         const int64_t *count, const int64_t *step, uint8_t *out, size_t es,
                         zarrc_buf **keeps_out, size_t *nkeeps)
{
    shard_job j;
    int rc = job_init(&j, a, spec, start, count, step, es);
    if (rc == ZARRC_OK && keeps_out) {
        j.keeps = zarrc__calloc(j.plan.ntasks ? j.plan.ntasks : 1, sizeof *j.keeps);
        *keeps_out = j.keeps;
        *nkeeps = j.plan.ntasks;
        if (!j.keeps)
            rc = ZARRC_ENOMEM;
    }
    j.data = out;
    j.stream = rc == ZARRC_OK && !keeps_out && zarrc__io_box_streams(count, a->meta->ndim, es);
    /* Many shards on a local store: each thread reads whole shards, one after another (no
     * barrier between fetching and decoding). Otherwise in rounds of one shard per thread, the
     * inner chunks of a round decoded by all threads. Either way the fetched bytes of a shard
     * are handed to the next (spares), so memory does not grow with the selection. */
    size_t threads = (size_t)zarrc_get_num_threads();
    bool by_shard = !zarrc__store_has_latency(a->store) && j.nshards >= 4 * threads;
    size_t per_round = by_shard ? threads : shards_per_round(&j, 1);
    if (rc == ZARRC_OK && !(j.round = zarrc__malloc((j.plan.ntasks ? j.plan.ntasks : 1) * sizeof *j.round)))
        rc = ZARRC_ENOMEM;
    /* Best effort: without room for spares every round allocates its own. */
    if (rc == ZARRC_OK && (j.spares = zarrc__try_malloc(per_round * sizeof *j.spares)))
        j.capspares = per_round;
    pthread_mutex_init(&j.spare_mu, NULL);
    if (rc == ZARRC_OK && by_shard)
        rc = zarrc__pool_run(j.nshards, read_shard_whole, &j);
    for (size_t first = 0; rc == ZARRC_OK && !by_shard && first < j.nshards; first += per_round) {
        round_ctx rc_ctx = {&j, first};
        size_t n = j.nshards - first < per_round ? j.nshards - first : per_round, nt = 0;
        rc = io_phase(&j)(n, read_shard_in_round, &rc_ctx);
        for (size_t k = 0; rc == ZARRC_OK && k < n; k++) {
            shard_rec *sr = &j.shards[first + k];
            memcpy(j.round + nt, sr->tasks, sr->ntasks * sizeof *j.round);
            nt += sr->ntasks;
        }
        if (rc == ZARRC_OK)
            rc = zarrc__pool_run(nt, read_inner_in_round, &j);
        for (size_t k = 0; k < n; k++) {
            shard_rec *sr = &j.shards[first + k];
            for (size_t b = 0; b < sr->nbufs; b++)
                spare_put(&j, &sr->bufs[b]);
        }
    }
    pthread_mutex_destroy(&j.spare_mu);
    while (j.nspares)
        zarrc_buf_release(&j.spares[--j.nspares]);
    free(j.spares);
    job_free(&j);
    return rc;
}

/* ---- writes ---- */

/* Elements of inner chunk `chunk` along d that lie inside the array. */
static int64_t inside(const shard_job *j, int d, int64_t chunk)
{
    int64_t n = j->a->meta->shape[d] - chunk * j->s->inner[d];
    return n < j->s->inner[d] ? n : j->s->inner[d];
}

/* qsort has no context argument: the job whose shard keys are compared. Only used while
 * sorting, from the thread that sorts (thread-local). */
static __thread const shard_job *sort_shards;

static int cmp_shard_keys(const void *x, const void *y)
{
    return strcmp(key_of(&sort_shards->shards[*(const size_t *)x]), key_of(&sort_shards->shards[*(const size_t *)y]));
}

/* Write phase 1a: the shard's key and whether the write replaces the whole shard. */
static int write_classify(void *ctx, size_t si)
{
    shard_job *j = ctx;
    const zarrc__shard_spec *s = j->s;
    shard_rec *sr = &j->shards[si];
    size_t *tasks = zarrc__malloc(2 * s->n_inner * sizeof *tasks);
    if (!tasks)
        return ZARRC_ENOMEM;
    int64_t coords[ZARRC_MAX_DIMS];
    size_t n = shard_tasks(j, si, tasks, tasks + s->n_inner, coords);
    for (size_t k = 0; k < n; k++) {
        j->recs[tasks[k]].shard = si;
        j->recs[tasks[k]].local = tasks[s->n_inner + k];
    }
    free(tasks);
    int rc = shard_key(j, sr, coords);
    if (rc)
        return rc;
    size_t gi[ZARRC_MAX_DIMS], rest = si;
    for (int d = j->plan.ndim - 1; d >= 0; d--) {
        gi[d] = rest % j->ngroups[d];
        rest /= j->ngroups[d];
    }
    sr->covered = true;
    sr->owned = false;
    for (int d = 0; j->a->own_from && d < j->plan.ndim; d++)
        sr->owned |= j->groups[d][gi[d]].shard * s->per_shard[d] * s->inner[d] >= j->a->own_from[d];
    for (int d = 0; d < j->plan.ndim && sr->covered; d++) {
        const group *g = &j->groups[d][gi[d]];
        /* Inner chunks of this shard inside the array along d (the array has `total`). */
        int64_t shape = j->a->meta->shape[d], in = s->inner[d];
        int64_t total = shape / in + (shape % in != 0), first = g->shard * s->per_shard[d];
        int64_t in_bounds = total - first < s->per_shard[d] ? total - first : s->per_shard[d];
        sr->covered = (int64_t)(g->end - g->begin) == in_bounds;
        for (size_t r = g->begin; r < g->end && sr->covered; r++) {
            const zarrc__run *run = &j->plan.runs[d][r];
            sr->covered = run->offset == 0 && zarrc__run_step(&j->plan, d, run) == 1 &&
                          run->n == inside(j, d, run->chunk);
        }
    }
    return ZARRC_OK;
}

/* Write phase 1b: fetch the old value of a partly covered shard (its lock is held). */
static int write_fetch(void *ctx, size_t si)
{
    shard_job *j = ctx;
    const zarrc__shard_spec *s = j->s;
    shard_rec *sr = &j->shards[si];
    if (sr->covered)
        return ZARRC_OK;
    sr->bufs = zarrc__calloc(1, sizeof *sr->bufs);
    sr->entries = zarrc__malloc(s->n_inner * 16);
    if (!sr->bufs || !sr->entries)
        return ZARRC_ENOMEM;
    sr->nbufs = 1;
    int rc = zarrc__store_get_versioned(j->a->store, key_of(sr), sr->bufs, sr->version);
    if (rc == ZARRC_ENOTFOUND) {
        sr->missing = true;
        return ZARRC_OK;
    }
    if (rc == ZARRC_OK && sr->bufs->size < s->index_size)
        rc = zarrc_error_set(ZARRC_ECORRUPT, "shard of %zu bytes is shorter than its index (%zu bytes)",
                             sr->bufs->size, s->index_size);
    if (rc == ZARRC_OK) {
        const uint8_t *index = s->index_at_end ? sr->bufs->data + sr->bufs->size - s->index_size : sr->bufs->data;
        rc = zarrc__shard_index_decode(s, index, s->index_size, sr->bufs->size, sr->entries);
    }
    return rc ? shard_error(j, si, rc) : ZARRC_OK;
}

/* No old encoded bytes to merge for this inner chunk. */
static bool off_empty(const shard_rec *sr, const inner_rec *rec)
{
    return !sr->entries || sr->missing || sr->entries[2 * rec->local] == ZARRC_SHARD_EMPTY;
}

/* Write phase 2: build and encode one touched inner chunk. */
static int write_inner(void *ctx, size_t t)
{
    shard_job *j = ctx;
    inner_rec *rec = &j->recs[t];
    shard_rec *sr = &j->shards[rec->shard];
    const zarrc__run *runs[ZARRC_MAX_DIMS];
    /* Here the caller's box is the source and the inner chunk the destination. */
    int64_t n[ZARRC_MAX_DIMS], cstride[ZARRC_MAX_DIMS], box_off, chunk_off;
    int nd = j->plan.ndim;
    zarrc__plan_task(&j->plan, t, runs);
    inner_box(j, runs, n, &box_off, &chunk_off, cstride);
    bool covers = true, padded = false;
    for (int d = 0; d < nd; d++) {
        int64_t in = inside(j, d, runs[d]->chunk);
        covers &= runs[d]->offset == 0 && zarrc__run_step(&j->plan, d, runs[d]) == 1 && n[d] == in;
        padded |= in < j->s->inner[d];
    }
    thread_bufs *b = zarrc__io_bufs();
    if (!b)
        return ZARRC_ENOMEM;
    const zarrc_repr *ir = &j->s->inner_codecs->chunk;
    size_t ibytes = j->inner_elems * j->es; /* no overflow: the shard's byte size was checked */
    if (!rec->enc.data)
        rec->enc = spare_take(j);
    /* An inner chunk that is wholly written, inside the array and one contiguous run of the
     * caller's box (C order) is encoded from there, without a gather. */
    if (covers && !padded && !j->s->inner_codecs->passthrough && zarrc__box_contiguous(n, j->count, nd)) {
        const uint8_t *src = zarrc__io_src(j->a, j->data, box_off, runs, j->dstride[0]);
        int rc = ZARRC_OK;
        if (!j->a->write_empty && zarrc__repr_is_fill(ir, src, j->inner_elems))
            rec->empty = true;
        else
            rc = zarrc__pipeline_encode(j->s->inner_codecs, src, ibytes, &b->scratch, &rec->enc);
        return rc ? inner_error(j, rec, rc) : ZARRC_OK;
    }
    /* Stored bytes = the chunk's bytes (passthrough): gathered straight into the encoded
     * buffer, without a copy through b->chunk. */
    bool direct = j->s->inner_codecs->passthrough && (covers || off_empty(sr, rec));
    zarrc_buf *dst = direct ? &rec->enc : &b->chunk;
    int rc = zarrc_buf_reserve(dst, ibytes);
    if (rc)
        return rc;
    zarrc_buf keep = ZARRC_BUF_INIT;
    uint64_t off = sr->entries && !sr->missing ? sr->entries[2 * rec->local] : ZARRC_SHARD_EMPTY;
    if (!covers && off != ZARRC_SHARD_EMPTY) {
        /* Only inner chunks the write touches partly are decoded. */
        b->chunk.size = 0;
        rc = zarrc__pipeline_decode(j->s->inner_codecs, sr->bufs->data + off, sr->entries[2 * rec->local + 1],
                                    &b->scratch, &b->chunk, &keep);
    } else if (!covers || padded)
        zarrc__fill_contiguous(dst->data, j->inner_elems, ir->fill, j->es);
    if (rc == ZARRC_OK) {
        zarrc__copy_box(dst->data + chunk_off, cstride, zarrc__io_src(j->a, j->data, box_off, runs, j->dstride[0]),
                        j->dstride, n, nd, j->es);
        if (!j->a->write_empty && zarrc__repr_is_fill(ir, dst->data, j->inner_elems))
            rec->empty = true;
        else if (direct)
            rec->enc.size = ibytes;
        else
            rc = zarrc__pipeline_encode(j->s->inner_codecs, b->chunk.data, ibytes, &b->scratch, &rec->enc);
    }
    zarrc_buf_release(&keep);
    return rc ? inner_error(j, rec, rc) : ZARRC_OK;
}

/* Write phase 3: assemble and store one shard (or erase it when it has no inner chunk). */
static int write_shard(void *ctx, size_t si)
{
    shard_job *j = ctx;
    const zarrc__shard_spec *s = j->s;
    shard_rec *sr = &j->shards[si];
    zarrc_vref *parts = zarrc__calloc(s->n_inner, sizeof *parts);
    bool *touched = zarrc__calloc(s->n_inner, sizeof *touched);
    uint64_t *entries = zarrc__malloc(s->n_inner * 16);
    size_t *tasks = zarrc__malloc(2 * s->n_inner * sizeof *tasks);
    int64_t coords[ZARRC_MAX_DIMS];
    int rc = parts && touched && entries && tasks ? ZARRC_OK : ZARRC_ENOMEM;
    bool any = false;
    if (rc)
        goto done;
    size_t n = shard_tasks(j, si, tasks, tasks + s->n_inner, coords);
    for (size_t k = 0; k < n; k++) {
        inner_rec *rec = &j->recs[tasks[k]];
        touched[rec->local] = true;
        if (!rec->empty)
            parts[rec->local] = (zarrc_vref){rec->enc.data ? rec->enc.data : (const uint8_t *)"", rec->enc.size};
    }
    for (size_t li = 0; li < s->n_inner; li++) {
        /* Untouched inner chunks keep their encoded bytes, copied without decoding. */
        if (!touched[li] && !sr->covered && !sr->missing && sr->entries[2 * li] != ZARRC_SHARD_EMPTY)
            parts[li] = (zarrc_vref){sr->bufs->data + sr->entries[2 * li], sr->entries[2 * li + 1]};
        any |= parts[li].ptr != NULL;
    }
    bool cas = !sr->covered && zarrc__store_safety_of(j->a->store) == ZARRC_SAFETY_CAS;
    if (!any && !cas) {
        rc = sr->covered && !sr->owned ? zarrc__store_erase_locked(j->a->store, key_of(sr))
                                       : zarrc__store_erase(j->a->store, key_of(sr));
        if (rc == ZARRC_ENOTFOUND)
            rc = ZARRC_OK;
        zarrc__index_cache_drop(j->a->index_cache, key_of(sr));
        goto done;
    }
    /* The shard goes to the store as its pieces (inner chunks and index), not copied into one
     * buffer: backends with putv write them as they are. */
    zarrc_buf index = ZARRC_BUF_INIT;
    zarrc_vref *pieces = zarrc__malloc((s->n_inner + 1) * sizeof *pieces);
    size_t npieces = 0;
    rc = pieces ? zarrc__shard_layout(s, parts, entries, &index, pieces, &npieces) : ZARRC_ENOMEM;
    if (rc == ZARRC_OK) {
        zarrc__index_cache_drop(j->a->index_cache, key_of(sr));
        /* Compare-and-swap stores cannot erase conditionally: an emptied shard is stored with
         * an all-empty index instead. */
        zarrc__write_mode mode = cas                          ? ZARRC_WRITE_IF_VERSION
                                 : sr->covered && !sr->owned ? ZARRC_WRITE_LOCKED
                                                             : ZARRC_WRITE_PLAIN;
        rc = zarrc__store_write_parts(j->a->store, key_of(sr), pieces, npieces, mode,
                                      sr->missing ? NULL : sr->version);
    }
    free(pieces);
    zarrc_buf_release(&index);
    /* Under the lock the version read now is that of the value just stored. */
    char version[ZARRC_STORE_VERSION_MAX];
    if (rc == ZARRC_OK && sr->lock) {
        if (zarrc__store_version(j->a->store, key_of(sr), version) == ZARRC_OK)
            zarrc__index_cache_put(j->a->index_cache, key_of(sr), version, entries, s->n_inner * 2);
        else
            zarrc__error_clear();
    }
done:
    free(parts);
    free(touched);
    free(entries);
    free(tasks);
    return rc ? shard_error(j, si, rc) : ZARRC_OK;
}

static int shard_write_once(const zarrc__io_array *a, const zarrc__shard_spec *spec, const int64_t *start,
                            const int64_t *count, const int64_t *step, const uint8_t *in, size_t es);

static int write_inner_in_round(void *ctx, size_t k)
{
    shard_job *j = ctx;
    return write_inner(j, j->round[k]);
}

static int write_shard_in_round(void *ctx, size_t k)
{
    round_ctx *r = ctx;
    return write_shard(r->j, r->first + k);
}

/* Partly covered shards of compare-and-swap stores are stored only if unchanged since they
 * were read; when another writer got there first, the whole write is done again (it is
 * idempotent: the same elements get the same values). */
#define SHARD_CAS_ATTEMPTS 32

int zarrc__io_shard_write(const zarrc__io_array *a, const zarrc__shard_spec *spec, const int64_t *start,
                          const int64_t *count, const int64_t *step, const uint8_t *in, size_t es)
{
    bool cas = zarrc__store_safety_of(a->store) == ZARRC_SAFETY_CAS;
    for (int attempt = 0;; attempt++) {
        int rc = shard_write_once(a, spec, start, count, step, in, es);
        if (!cas || rc != ZARRC_ECONFLICT || attempt + 1 >= SHARD_CAS_ATTEMPTS)
            return rc;
        zarrc__error_clear();
        zarrc__store_backoff(attempt);
    }
}

/* At the end of a write: keep up to one shard's inner chunk buffers (their capacities at most
 * twice the shard's decoded bytes, and at most 64 MiB) in this thread's buffers for its next sharded write — a
 * stream writes one shard after another from the same thread — and free the rest. */
#define KEEP_SPARES_MAX ((size_t)64 << 20)
static void keep_spares(shard_job *j, thread_bufs *tb, const zarrc__shard_spec *spec)
{
    size_t budget = 0, held = 0, want = spec->n_inner;
    if (tb && j->nspares && tb->capspares < want) {
        /* Best effort (no error set: the write may have succeeded). */
        zarrc_buf *p = zarrc__try_malloc(want * sizeof *p);
        if (p) {
            if (tb->nspares)
                memcpy(p, tb->spares, tb->nspares * sizeof *p);
            free(tb->spares);
            tb->spares = p;
            tb->capspares = want;
        }
    }
    if (tb && !__builtin_mul_overflow(j->inner_elems * j->es, spec->n_inner, &budget) &&
        !__builtin_mul_overflow(budget, 2, &budget)) {
        if (budget > KEEP_SPARES_MAX) /* big shards: memory held between calls stays small */
            budget = KEEP_SPARES_MAX;
        for (size_t k = 0; k < tb->nspares; k++)
            held += tb->spares[k].capacity;
        while (j->nspares && tb->nspares < tb->capspares && tb->nspares < want &&
               held + j->spares[j->nspares - 1].capacity <= budget) {
            held += j->spares[j->nspares - 1].capacity;
            tb->spares[tb->nspares++] = j->spares[--j->nspares];
        }
    }
    while (j->nspares)
        zarrc_buf_release(&j->spares[--j->nspares]);
    free(j->spares);
    j->spares = NULL;
}

static int shard_write_once(const zarrc__io_array *a, const zarrc__shard_spec *spec, const int64_t *start,
                            const int64_t *count, const int64_t *step, const uint8_t *in, size_t es)
{
    shard_job j;
    int rc = job_init(&j, a, spec, start, count, step, es);
    j.data = (uint8_t *)in;
    if (rc == ZARRC_OK)
        rc = zarrc__pool_run(j.nshards, write_classify, &j);
    /* Partly covered shards are read-modified-written: their locks are taken here, in one
     * thread and in key order (so that writers touching the same shards cannot deadlock),
     * and held until they are stored. */
    size_t *order = NULL, nlocked = 0;
    if (rc == ZARRC_OK && !(order = zarrc__malloc((j.nshards ? j.nshards : 1) * sizeof *order)))
        rc = ZARRC_ENOMEM;
    size_t npartial = 0;
    for (size_t si = 0; rc == ZARRC_OK && si < j.nshards; si++)
        if (!j.shards[si].covered)
            order[npartial++] = si;
    if (rc == ZARRC_OK && npartial > 1) {
        sort_shards = &j;
        qsort(order, npartial, sizeof *order, cmp_shard_keys);
    }
    for (; rc == ZARRC_OK && nlocked < npartial; nlocked++) {
        shard_rec *sr = &j.shards[order[nlocked]];
        if ((rc = zarrc__store_lock(a->store, key_of(sr), &sr->lock)))
            rc = shard_error(&j, order[nlocked], rc);
    }
    if (rc == ZARRC_OK)
        rc = io_phase(&j)(j.nshards, write_fetch, &j);
    /* Phases 2 and 3 in rounds of a few shards per thread: a round's inner chunks are
     * encoded, its shards assembled and stored, and the encoded bytes released before the
     * next round — memory is bounded by the round, not by the selection, and the encoded bytes
     * are still in cache when they are assembled. */
    size_t per_round = shards_per_round(&j, 2), *locals = NULL;
    if (rc == ZARRC_OK && (!(j.round = zarrc__malloc((j.plan.ntasks ? j.plan.ntasks : 1) * sizeof *j.round)) ||
                           !(locals = zarrc__malloc(spec->n_inner * sizeof *locals))))
        rc = ZARRC_ENOMEM;
    /* Spare encode buffers: at most a round's inner chunks (memory the round holds anyway),
     * seeded with those this thread kept from its last sharded write. */
    thread_bufs *tb = rc == ZARRC_OK ? zarrc__io_bufs() : NULL;
    if (rc == ZARRC_OK && !tb)
        zarrc__error_clear(); /* best effort: no spares (an encoding thread reports its own) */
    size_t max_round = 0;
    if (rc == ZARRC_OK && !__builtin_mul_overflow(per_round, spec->n_inner, &max_round) &&
        max_round < j.plan.ntasks)
        j.capspares = max_round;
    else
        j.capspares = j.plan.ntasks;
    if (rc == ZARRC_OK && tb && j.capspares && (j.spares = zarrc__try_malloc(j.capspares * sizeof *j.spares))) {
        while (tb->nspares && j.nspares < j.capspares)
            j.spares[j.nspares++] = tb->spares[--tb->nspares];
    } else
        j.capspares = 0;
    pthread_mutex_init(&j.spare_mu, NULL);
    for (size_t first = 0; rc == ZARRC_OK && first < j.nshards; first += per_round) {
        round_ctx rc_ctx = {&j, first};
        size_t n = j.nshards - first < per_round ? j.nshards - first : per_round, nt = 0;
        int64_t coords[ZARRC_MAX_DIMS];
        for (size_t k = 0; k < n; k++)
            nt += shard_tasks(&j, first + k, j.round + nt, locals, coords);
        rc = zarrc__pool_run(nt, write_inner_in_round, &j);
        if (rc == ZARRC_OK)
            rc = io_phase(&j)(n, write_shard_in_round, &rc_ctx);
        for (size_t k = 0; k < nt; k++)
            spare_put(&j, &j.recs[j.round[k]].enc);
    }
    free(locals);
    pthread_mutex_destroy(&j.spare_mu);
    keep_spares(&j, tb, spec);
    for (size_t k = 0; k < nlocked; k++)
        zarrc__store_unlock(a->store, j.shards[order[k]].lock);
    free(order);
    job_free(&j);
    return rc;
}
