/*
 * test_extend.c — extendable arrays (public API only): zarrc_array_resize (grow, shrink, regrow
 * reads fill; cost on a counting store with 10^6 declared chunks), zarrc_array_write_at with and
 * without ZARRC_EXTEND (ZARRC_EBOUNDS message, short offsets, bad blocks refused before any
 * write), out-of-order blocks converging to the in-order bytes, zarrc_array_append, and
 * concurrent extends/appends from threads equal to a sequential model (formats 2 and 3, shared
 * chunks and shards; memory and filesystem stores with per-key locks, and a compare-and-swap
 * store without locks). Set ZARRC_EXTEND_STRESS=1 for more blocks and seeds.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cas_store.h"
#include "check.h"
#include "counting.h"
#include "zarrc.h"

static int stress;
static unsigned make_flags = ZARRC_OVERWRITE;

static zarrc_array *make(zarrc_store *s, const char *path, int format, int ndim, const int64_t *shape,
                         const int64_t *chunks, bool sharded)
{
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.format = format;
    o.dtype = "int32";
    o.ndim = ndim;
    o.shape = shape;
    o.chunks = chunks;
    o.fill_value = "-1";
    o.flags = make_flags;
    char codecs[512];
    if (sharded) {
        snprintf(codecs, sizeof codecs,
                 "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[%lld,%lld],"
                 "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"zstd\","
                 "\"configuration\":{\"level\":1,\"checksum\":false}}],\"index_codecs\":[{\"name\":\"bytes\","
                 "\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}]}}]",
                 (long long)(chunks[0] / 2), (long long)(chunks[1] / 2));
        o.codecs = codecs;
    }
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, s, path, &o));
    return a;
}

/* Read the whole 2-d array into a new buffer. */
static int32_t *read_all(zarrc_array *a)
{
    const int64_t *sh = zarrc_array_shape(a);
    int64_t start[2] = {0, 0}, count[2] = {sh[0], sh[1]};
    size_t n = (size_t)(count[0] * count[1]);
    int32_t *v = malloc((n ? n : 1) * sizeof *v);
    CHECK_OK(zarrc_array_read(a, start, count, NULL, v, n * sizeof *v));
    return v;
}

static void test_resize(zarrc_store *s, int format, bool sharded)
{
    int64_t shape[2] = {10, 12}, chunks[2] = {4, 4};
    zarrc_array *a = make(s, "r", format, 2, shape, chunks, sharded);
    if (!a)
        return;
    int32_t v[120];
    for (int i = 0; i < 120; i++)
        v[i] = i;
    int64_t st[2] = {0, 0};
    CHECK_OK(zarrc_array_write(a, st, shape, NULL, v, sizeof v));
    int64_t small[2] = {5, 7};
    CHECK_OK(zarrc_array_resize(a, small));
    CHECK(zarrc_array_shape(a)[0] == 5 && zarrc_array_shape(a)[1] == 7);
    int32_t *r = read_all(a);
    int bad = 0;
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 7; j++)
            bad += r[i * 7 + j] != i * 12 + j;
    CHECK_MSG(bad == 0, "format %d sharded %d: %d elements wrong after shrink", format, sharded, bad);
    free(r);
    /* Regrow: the removed region reads fill, never the old data. */
    int64_t big[2] = {11, 13};
    CHECK_OK(zarrc_array_resize(a, big));
    zarrc_array *b = NULL;
    CHECK_OK(zarrc_array_open(&b, s, "r"));
    CHECK(b && zarrc_array_shape(b)[0] == 11 && zarrc_array_shape(b)[1] == 13);
    r = b ? read_all(b) : NULL;
    bad = 0;
    for (int i = 0; r && i < 11; i++)
        for (int j = 0; j < 13; j++) {
            int32_t want = i < 5 && j < 7 ? i * 12 + j : -1;
            bad += r[i * 13 + j] != want;
        }
    CHECK_MSG(r && bad == 0, "format %d sharded %d: %d elements wrong after regrow", format, sharded, bad);
    free(r);
    /* To zero and back. */
    int64_t zero[2] = {0, 13};
    CHECK_OK(zarrc_array_resize(a, zero));
    CHECK_OK(zarrc_array_resize(a, big));
    r = read_all(a);
    bad = 0;
    for (int i = 0; i < 11 * 13; i++)
        bad += r[i] != -1;
    CHECK_MSG(bad == 0, "%d elements not fill after resize to 0 and back", bad);
    free(r);
    int64_t neg[2] = {-1, 3};
    CHECK_ERR(zarrc_array_resize(a, neg), ZARRC_EINVAL, "negative");
    zarrc_array_free(b);
    zarrc_array_free(a);
}

/* 10^6 declared chunks, 100 stored: a shrink touches about 100 keys. */
static void test_resize_cost(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "count://", 0));
    int64_t shape[2] = {1000, 1000}, chunks[2] = {1, 1};
    zarrc_array *a = make(s, "big", 3, 2, shape, chunks, false);
    if (!a) {
        zarrc_store_free(s);
        return;
    }
    int32_t one = 7;
    int64_t c1[2] = {1, 1};
    for (int k = 0; k < 100; k++) {
        int64_t st[2] = {(int64_t)(check_rnd() % 1000), (int64_t)(check_rnd() % 1000)};
        CHECK_OK(zarrc_array_write(a, st, c1, NULL, &one, sizeof one));
    }
    counters_reset();
    int64_t half[2] = {500, 500};
    CHECK_OK(zarrc_array_resize(a, half));
    long touched = cnt.gets + cnt.sets + cnt.erases;
    printf("resize cost: 10^6 declared chunks, 100 stored: %ld gets, %ld sets, %ld erases, %ld lists\n", cnt.gets,
           cnt.sets, cnt.erases, cnt.lists);
    CHECK_MSG(touched <= 110 && cnt.lists <= 2, "%ld keys touched", touched);
    /* Growing is a metadata rewrite only. */
    counters_reset();
    int64_t huge[2] = {1000000, 1000000}; /* 10^12 declared chunks */
    CHECK_OK(zarrc_array_resize(a, huge));
    CHECK_MSG(cnt.gets + cnt.sets + cnt.erases <= 3 && cnt.lists == 0, "grow touched %ld keys",
              cnt.gets + cnt.sets + cnt.erases);
    counters_reset();
    CHECK_OK(zarrc_array_resize(a, half));
    CHECK_MSG(cnt.gets + cnt.sets + cnt.erases <= 110, "shrink of 10^12 chunks touched %ld keys",
              cnt.gets + cnt.sets + cnt.erases);
    zarrc_array_free(a);
    zarrc_store_free(s);
}

/* ---- a failing data write restores the shape (only if nobody grew it since) ---- */

static int fail_chunk_sets;     /* atomic: read by the pool's threads */
static zarrc_array *grower;     /* fail_chunk_sets == 2: extends the array before the failure */
static __thread int bypass;     /* this thread is the grower's write: no failure */

static void grow_other(void)
{
    zarrc_array *g = __atomic_exchange_n(&grower, NULL, __ATOMIC_ACQ_REL);
    if (!g)
        return;
    int64_t off[2] = {9, 9}, one[2] = {1, 1};
    int32_t v = 5;
    bypass = 1; /* nested in a pool task: its chunk write runs inline in this thread */
    CHECK_OK(zarrc_array_write_at(g, off, 2, one, &v, sizeof v, ZARRC_EXTEND));
    bypass = 0;
}

static int fs_set(void *state, const char *key, const void *data, size_t n)
{
    size_t l = strlen(key);
    bool meta = (l >= 9 && !strcmp(key + l - 9, "zarr.json")) || (l >= 7 && !strcmp(key + l - 7, ".zarray"));
    int mode = __atomic_load_n(&fail_chunk_sets, __ATOMIC_ACQUIRE);
    if (mode && !meta && !bypass) {
        if (mode == 2)
            grow_other();
        return zarrc_error_set(ZARRC_EIO, "injected failure storing '%s'", key);
    }
    return cs_set(state, key, data, n);
}

static const zarrc_store_type failing_store = {
    ZARRC_STORE_TYPE_VERSION, "failset", ZARRC_STORE_CAP_RANGE | ZARRC_STORE_CAP_LIST_DIR | ZARRC_STORE_CAP_WRITE,
    cw_open, cw_close, cs_get, NULL, fs_set, NULL, cs_erase, cw_erase_prefix, cs_list, cs_list_dir, cs_size,
    NULL, NULL, cs_version, NULL, NULL, NULL,
};

/* A store that cannot list keys recursively (only direct children): shrinking enumerates the
 * removed region's chunks instead. */
static const zarrc_store_type nolist_store = {
    ZARRC_STORE_TYPE_VERSION, "nolist", ZARRC_STORE_CAP_RANGE | ZARRC_STORE_CAP_LIST_DIR | ZARRC_STORE_CAP_WRITE,
    cw_open, cw_close, cs_get, NULL, cs_set, NULL, cs_erase, cw_erase_prefix, NULL, cs_list_dir, cs_size,
    NULL, NULL, cs_version, NULL, NULL, NULL,
};

static void test_nolist(int format, bool sharded)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "nolist://", 0));
    int64_t shape[2] = {10, 12}, chunks[2] = {4, 4};
    make_flags = 0; /* overwriting needs a listing */
    zarrc_array *a = s ? make(s, "n", format, 2, shape, chunks, sharded) : NULL;
    make_flags = ZARRC_OVERWRITE;
    if (a) {
        int32_t v[120];
        for (int i = 0; i < 120; i++)
            v[i] = i;
        int64_t st[2] = {0, 0};
        CHECK_OK(zarrc_array_write(a, st, shape, NULL, v, sizeof v));
        int64_t small[2] = {5, 7}, big[2] = {11, 13};
        counters_reset();
        CHECK_OK(zarrc_array_resize(a, small));
        CHECK(cnt.lists == 0 && cnt.erases > 0);
        CHECK_OK(zarrc_array_resize(a, big));
        int32_t *r = read_all(a);
        int bad = 0;
        for (int i = 0; i < 11; i++)
            for (int j = 0; j < 13; j++)
                bad += r[i * 13 + j] != (i < 5 && j < 7 ? i * 12 + j : -1);
        CHECK_MSG(bad == 0, "no-list store, format %d sharded %d: %d elements wrong after shrink + regrow", format,
                  sharded, bad);
        free(r);
        zarrc_array_free(a);
    }
    zarrc_store_free(s);
}

static void test_failure(int format)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "failset://", 0));
    int64_t shape[2] = {4, 4}, chunks[2] = {2, 2};
    zarrc_array *a = s ? make(s, "f", format, 2, shape, chunks, false) : NULL;
    if (!a) {
        zarrc_store_free(s);
        return;
    }
    int32_t blk[16];
    for (int i = 0; i < 16; i++)
        blk[i] = 50 + i;
    int64_t bs[2] = {4, 4}, off[2] = {2, 2}, c0[2] = {0, 0};
    CHECK_OK(zarrc_array_write(a, c0, bs, NULL, blk, sizeof blk));
    __atomic_store_n(&fail_chunk_sets, 1, __ATOMIC_RELEASE);
    CHECK_ERR(zarrc_array_write_at(a, off, 2, bs, blk, sizeof blk, ZARRC_EXTEND), ZARRC_EIO, "injected");
    CHECK_MSG(zarrc_array_shape(a)[0] == 4 && zarrc_array_shape(a)[1] == 4, "shape after a failed extend: [%lld, %lld]",
              (long long)zarrc_array_shape(a)[0], (long long)zarrc_array_shape(a)[1]);
    int64_t ap[2] = {2, 4};
    CHECK_ERR(zarrc_array_append(a, 0, ap, blk, 8 * sizeof *blk, NULL), ZARRC_EIO, "injected");
    CHECK(zarrc_array_shape(a)[0] == 4);
    __atomic_store_n(&fail_chunk_sets, 0, __ATOMIC_RELEASE);
    zarrc_array *b = NULL;
    CHECK_OK(zarrc_array_open(&b, s, "f"));
    CHECK(b && zarrc_array_shape(b)[0] == 4 && zarrc_array_shape(b)[1] == 4);
    /* nothing of the failed blocks remains outside: a regrow reads fill there */
    int64_t big[2] = {6, 6};
    CHECK_OK(zarrc_array_resize(a, big));
    int32_t *r = read_all(a);
    int bad = 0;
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++)
            bad += r[i * 6 + j] != (i < 4 && j < 4 ? 50 + i * 4 + j : -1);
    CHECK_MSG(bad == 0, "format %d: %d elements wrong after failed extends and a regrow", format, bad);
    free(r);
    /* Somebody grew it after our extension: the shape is not restored (never shrinks theirs). */
    __atomic_store_n(&grower, b, __ATOMIC_RELEASE);
    __atomic_store_n(&fail_chunk_sets, 2, __ATOMIC_RELEASE);
    int64_t off2[2] = {6, 0};
    CHECK_ERR(zarrc_array_write_at(a, off2, 2, bs, blk, sizeof blk, ZARRC_EXTEND), ZARRC_EIO, "injected");
    __atomic_store_n(&fail_chunk_sets, 0, __ATOMIC_RELEASE);
    CHECK_MSG(zarrc_array_shape(a)[0] == 10 && zarrc_array_shape(a)[1] == 10,
              "format %d: shape [%lld, %lld] after a failed extend that another writer outgrew", format,
              (long long)zarrc_array_shape(a)[0], (long long)zarrc_array_shape(a)[1]);
    zarrc_array_free(b);
    zarrc_array_free(a);
    zarrc_store_free(s);
}

static void test_write_at(zarrc_store *s, int format)
{
    int64_t shape[2] = {2, 3}, chunks[2] = {2, 2};
    zarrc_array *a = make(s, "w", format, 2, shape, chunks, false);
    if (!a)
        return;
    int32_t blk[6] = {1, 2, 3, 4, 5, 6};
    int64_t bs[2] = {2, 3}, off[2] = {1, 0};
    CHECK_ERR(zarrc_array_write_at(a, off, 2, bs, blk, sizeof blk, 0), ZARRC_EBOUNDS, "current shape [2, 3]");
    CHECK_ERR(zarrc_array_write_at(a, off, 2, bs, blk, 5, ZARRC_EXTEND), ZARRC_EINVAL, "bytes");
    CHECK(zarrc_array_shape(a)[0] == 2); /* nothing changed */
    int64_t bad_off[3] = {0, 0, 0};
    CHECK_ERR(zarrc_array_write_at(a, bad_off, 3, bs, blk, sizeof blk, ZARRC_EXTEND), ZARRC_EINVAL, "offset");
    off[0] = -1;
    CHECK_ERR(zarrc_array_write_at(a, off, 2, bs, blk, sizeof blk, ZARRC_EXTEND), ZARRC_EBOUNDS, "negative");
    /* A short offset is padded with zeros. */
    int64_t o1[1] = {3};
    CHECK_OK(zarrc_array_write_at(a, o1, 1, bs, blk, sizeof blk, ZARRC_EXTEND));
    CHECK(zarrc_array_shape(a)[0] == 5 && zarrc_array_shape(a)[1] == 3);
    int32_t *r = read_all(a);
    static const int32_t want[15] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 2, 3, 4, 5, 6};
    CHECK(memcmp(r, want, sizeof want) == 0);
    free(r);
    /* Never shrinks; fits now without EXTEND. */
    int64_t o0[2] = {0, 0};
    CHECK_OK(zarrc_array_write_at(a, o0, 2, bs, blk, sizeof blk, 0));
    CHECK(zarrc_array_shape(a)[0] == 5);
    /* Another handle's extension is seen without reopening. */
    zarrc_array *b = NULL;
    CHECK_OK(zarrc_array_open(&b, s, "w"));
    int64_t o2[2] = {0, 5};
    CHECK_OK(zarrc_array_write_at(b, o2, 2, bs, blk, sizeof blk, ZARRC_EXTEND));
    int64_t o3[2] = {0, 4};
    CHECK_OK(zarrc_array_write_at(a, o3, 2, bs, blk, sizeof blk, 0));
    CHECK(zarrc_array_shape(a)[1] == 8);
    zarrc_array_free(b);
    zarrc_array_free(a);
}

/* tiled's test: blocks at offsets 7, 5, 6 (and random orders of many blocks) converge. */
static void test_out_of_order(zarrc_store *s, int format, bool sharded)
{
    int nblocks = stress ? 64 : 16, seeds = stress ? 10 : 3;
    int64_t shape[2] = {0, 6}, chunks[2] = {4, 4}, bs[2] = {1, 6};
    int32_t *ref = NULL;
    for (int seed = -1; seed < seeds; seed++) {
        zarrc_array *a = make(s, "o", format, 2, shape, chunks, sharded);
        if (!a)
            return;
        int order[64];
        for (int i = 0; i < nblocks; i++)
            order[i] = i;
        if (seed == 0) { /* tiled's 7, 5, 6 first */
            order[5] = 7, order[6] = 5, order[7] = 6;
        } else if (seed > 0)
            for (int i = nblocks - 1; i > 0; i--) {
                int j = (int)(check_rnd() % (uint64_t)(i + 1)), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        for (int i = 0; i < nblocks; i++) {
            int32_t blk[6];
            for (int j = 0; j < 6; j++)
                blk[j] = order[i] * 10 + j;
            int64_t off[1] = {order[i]};
            CHECK_OK(zarrc_array_write_at(a, off, 1, bs, blk, sizeof blk, ZARRC_EXTEND));
        }
        CHECK(zarrc_array_shape(a)[0] == nblocks);
        int32_t *r = read_all(a);
        if (!ref)
            ref = r;
        else {
            CHECK_MSG(memcmp(r, ref, (size_t)nblocks * 6 * sizeof *r) == 0, "seed %d differs from in-order", seed);
            free(r);
        }
        zarrc_array_free(a);
    }
    for (int i = 0; ref && i < nblocks * 6; i++)
        if (ref[i] != (i / 6) * 10 + i % 6) {
            CHECK_MSG(0, "in-order element %d is %d", i, ref[i]);
            break;
        }
    free(ref);
}

static void test_append(zarrc_store *s, int format)
{
    int64_t shape[2] = {0, 4}, chunks[2] = {3, 3};
    zarrc_array *a = make(s, "ap", format, 2, shape, chunks, false);
    if (!a)
        return;
    int32_t blk[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    int64_t b3[2] = {2, 4}, start = -1;
    CHECK_OK(zarrc_array_append(a, 0, b3, blk, sizeof blk, &start));
    CHECK(start == 0);
    CHECK_OK(zarrc_array_append(a, 0, b3, blk, sizeof blk, &start));
    CHECK(start == 2 && zarrc_array_shape(a)[0] == 4);
    int64_t col[2] = {4, 1};
    int32_t c[4] = {9, 9, 9, 9};
    CHECK_OK(zarrc_array_append(a, 1, col, c, sizeof c, &start));
    CHECK(start == 4 && zarrc_array_shape(a)[1] == 5);
    CHECK_ERR(zarrc_array_append(a, 2, col, c, sizeof c, NULL), ZARRC_EINVAL, "axis 2");
    CHECK_ERR(zarrc_array_append(a, 0, col, c, 3, NULL), ZARRC_EINVAL, "bytes");
    CHECK(zarrc_array_shape(a)[0] == 4);
    int32_t *r = read_all(a);
    static const int32_t want[20] = {0, 1, 2, 3, 9, 4, 5, 6, 7, 9, 0, 1, 2, 3, 9, 4, 5, 6, 7, 9};
    CHECK(memcmp(r, want, sizeof want) == 0);
    free(r);
    zarrc_array_free(a);
}

/* ---- threads: random extends and appends against a sequential model ---- */

enum { NT = 8 };
typedef struct worker {
    zarrc_store *s;
    zarrc_array *shared; /* NULL: own handle */
    int id, nblocks;
    uint64_t seed;
    int64_t *rows; /* append mode: where each block landed */
    bool append;
    int perm[64];
} worker;

static uint64_t wrnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void *work(void *p)
{
    worker *w = p;
    zarrc_array *a = w->shared;
    if (!a && zarrc_array_open(&a, w->s, "t") != 0)
        return (void *)1;
    long fails = 0;
    for (int k = 0; k < w->nblocks; k++) {
        /* Disjoint blocks: block (id, k) owns rows [4 * (id * nblocks + k), +4) — in random order of
         * k — but shares chunks and shards with the others' blocks. */
        int64_t bs[2] = {4, 5};
        int32_t blk[20];
        for (int j = 0; j < 20; j++)
            blk[j] = (w->id * 1000 + k) * 100 + j;
        if (w->append) {
            int64_t st;
            if (zarrc_array_append(a, 0, bs, blk, sizeof blk, &st))
                fails++;
            else
                w->rows[k] = st;
        } else {
            /* block k of this thread: a random one of its slots not written yet */
            int kk = (int)(wrnd(&w->seed) % (uint64_t)(w->nblocks - k)) + k, t = w->perm[kk];
            w->perm[kk] = w->perm[k];
            w->perm[k] = t;
            for (int j = 0; j < 20; j++)
                blk[j] = (w->id * 1000 + t) * 100 + j;
            int64_t off[2] = {4 * ((int64_t)t * NT + w->id), (int64_t)(w->id % 3)};
            if (zarrc_array_write_at(a, off, 2, bs, blk, sizeof blk, ZARRC_EXTEND))
                fails++;
        }
    }
    if (!w->shared)
        zarrc_array_free(a);
    return (void *)fails;
}

static void test_threads(zarrc_store *s, int format, bool sharded, bool shared, bool append)
{
    int nb = stress ? 50 : 12;
    int64_t shape[2] = {0, 0}, chunks[2] = {8, 4};
    zarrc_array *a = make(s, "t", format, 2, shape, chunks, sharded);
    if (!a)
        return;
    pthread_t th[NT];
    worker w[NT];
    for (int i = 0; i < NT; i++) {
        w[i] = (worker){s, shared ? a : NULL, i, nb, 0x1234567ULL * (uint64_t)(i + 1), calloc((size_t)nb, 8), append};
        for (int k = 0; k < nb; k++)
            w[i].perm[k] = k;
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    long fails = 0;
    for (int i = 0; i < NT; i++) {
        void *r;
        pthread_join(th[i], &r);
        fails += (long)r;
    }
    CHECK_MSG(fails == 0, "format %d sharded %d shared %d append %d: %ld failed calls", format, sharded, shared,
              append, fails);
    zarrc_array *b = NULL;
    CHECK_OK(zarrc_array_open(&b, s, "t"));
    if (!b) {
        zarrc_array_free(a);
        return;
    }
    int64_t rows = 4 * (int64_t)NT * nb, cols = append ? 5 : 5 + 2;
    CHECK_MSG(zarrc_array_shape(b)[0] == rows && zarrc_array_shape(b)[1] == cols, "shape [%lld, %lld]",
              (long long)zarrc_array_shape(b)[0], (long long)zarrc_array_shape(b)[1]);
    int32_t *got = read_all(b);
    int32_t *model = malloc((size_t)(rows * cols) * sizeof *model);
    for (int64_t i = 0; i < rows * cols; i++)
        model[i] = -1;
    for (int t = 0; t < NT; t++)
        for (int k = 0; k < nb; k++) {
            int64_t r0 = append ? w[t].rows[k] : 4 * ((int64_t)k * NT + t), c0 = append ? 0 : t % 3;
            for (int j = 0; j < 20; j++)
                model[(r0 + j / 5) * cols + c0 + j % 5] = (t * 1000 + k) * 100 + j;
        }
    long diff = 0;
    for (int64_t i = 0; got && zarrc_array_shape(b)[0] == rows && i < rows * cols; i++)
        diff += got[i] != model[i];
    CHECK_MSG(diff == 0, "format %d sharded %d shared %d append %d: %ld elements differ from the model", format,
              sharded, shared, append, diff);
    free(got);
    free(model);
    for (int i = 0; i < NT; i++)
        free(w[i].rows);
    zarrc_array_free(b);
    zarrc_array_free(a);
}

/* What a killed writer (or another tool) left beyond the shape never shows (lock stores: the
 * data-first path of extend.c). Orphans are made by copying the chunk keys of a fully written
 * [8, 8] array into a [3, 2] one, then rewriting its in-shape part. */
typedef struct copy_ctx {
    zarrc_store *s;
    const char *from, *to;
} copy_ctx;

static int copy_cb(void *ctx, const char *name, int is_prefix)
{
    copy_ctx *c = ctx;
    if (is_prefix || strstr(name, "zarr.json") || strstr(name, ".zarray") || strstr(name, ".zattrs"))
        return 0;
    char src[512], dst[512];
    size_t fl = strlen(c->from);
    if (strncmp(name, c->from, fl) || name[fl] != '/')
        return 0;
    snprintf(src, sizeof src, "%s", name);
    snprintf(dst, sizeof dst, "%s/%s", c->to, name + fl + 1);
    void *d = NULL;
    size_t n = 0;
    CHECK_OK(zarrc_store_get(&d, &n, c->s, src));
    CHECK_OK(zarrc_store_set(c->s, dst, d, n));
    zarrc_free(d);
    return 0;
}

static int32_t orphan_at(zarrc_array *a, int64_t i, int64_t j)
{
    int64_t st[2] = {i, j}, one[2] = {1, 1};
    int32_t v = 0;
    CHECK_OK(zarrc_array_read(a, st, one, NULL, &v, sizeof v));
    return v;
}

static void test_orphans(zarrc_store *s, int format, bool sharded)
{
    int64_t big[2] = {8, 8}, small[2] = {3, 2}, chunks[2] = {2, 2};
    zarrc_array *src = make(s, "osrc", format, 2, big, chunks, sharded);
    zarrc_array *a = make(s, "o", format, 2, small, chunks, sharded);
    if (!src || !a) {
        zarrc_array_free(src);
        zarrc_array_free(a);
        return;
    }
    int32_t sev[64], ones[6], two[2] = {2, 2};
    for (int i = 0; i < 64; i++)
        sev[i] = 7;
    for (int i = 0; i < 6; i++)
        ones[i] = 1;
    int64_t z[2] = {0, 0};
    CHECK_OK(zarrc_array_write(src, z, big, NULL, sev, sizeof sev));
    copy_ctx c = {s, "osrc", "o"};
    CHECK_OK(zarrc_store_list(s, "osrc/", copy_cb, &c));
    /* write_at rounds its engine shape up to whole chunks: it keeps the 7s beyond [3, 2] */
    CHECK_OK(zarrc_array_write_at(a, z, 2, small, ones, sizeof ones, 0));
    /* No marker: the chunks a block touches but does not cover are cleared beyond the shape. */
    int64_t r3[2] = {3, 0}, row[2] = {1, 2}, elem[2] = {1, 1};
    CHECK_OK(zarrc_array_write_at(a, r3, 2, elem, two, sizeof *two, ZARRC_EXTEND));
    CHECK(zarrc_array_shape(a)[0] == 4 && zarrc_array_shape(a)[1] == 2);
    int bad = 0;
    for (int64_t i = 0; i < 4; i++)
        for (int64_t j = 0; j < 2; j++)
            bad += orphan_at(a, i, j) != (i < 3 ? 1 : j == 0 ? 2 : -1);
    CHECK_MSG(bad == 0, "format %d%s: %d elements wrong after extending over orphans", format,
              sharded ? " sharded" : "", bad);
    /* A killed zarrc writer's marker: the next grower clears everything beyond the shape, so a
     * gap (rows 4, 5) and a later grow read fill. */
    CHECK_OK(zarrc_store_set(s, "o/.zarrc-growing", "x", 1));
    int64_t r6[2] = {6, 0};
    CHECK_OK(zarrc_array_write_at(a, r6, 2, row, two, sizeof two, ZARRC_EXTEND));
    CHECK(zarrc_array_shape(a)[0] == 7 && zarrc_array_shape(a)[1] == 2);
    void *d = NULL;
    size_t n = 0;
    CHECK(zarrc_store_get(&d, &n, s, "o/.zarrc-growing") == ZARRC_ENOTFOUND); /* erased after publishing */
    zarrc_free(d);
    CHECK_OK(zarrc_array_resize(a, big));
    bad = 0;
    for (int64_t i = 0; i < 8; i++)
        for (int64_t j = 0; j < 8; j++) {
            int32_t want = j >= 2 ? -1 : i < 3 ? 1 : ((i == 3 && j == 0) || i == 6) ? 2 : -1;
            bad += orphan_at(a, i, j) != want;
        }
    CHECK_MSG(bad == 0, "format %d%s: %d elements wrong after a marker sweep and a grow", format,
              sharded ? " sharded" : "", bad);
    zarrc_array_free(src);
    zarrc_array_free(a);
}

/* kill -9 during a shrink (filesystem store): the array is left either at the old shape with
 * every value intact, or at the new shape with its values intact, and a later grow reads fill
 * beyond the new shape. Each trial writes KS_ROWS x KS_COLS in 1x2 chunks and shrinks it to
 * KS_KEEP rows in a child that is killed after a random delay into the shrink. */
#define KS_ROWS 1500
#define KS_COLS 4
#define KS_KEEP 7
static void test_killed_shrink(const char *dir)
{
    int64_t shape[2] = {KS_ROWS, KS_COLS}, chunks[2] = {1, 2}, keep[2] = {KS_KEEP, 3};
    int32_t *v = malloc(sizeof(int32_t) * KS_ROWS * KS_COLS);
    if (!v)
        return;
    for (int i = 0; i < KS_ROWS * KS_COLS; i++)
        v[i] = i;
    int trials = stress ? 20 : 6, old_shape = 0, new_shape = 0;
    for (int t = 0; t < trials; t++) {
        zarrc_store *s = NULL;
        CHECK_OK(zarrc_store_open(&s, dir, ZARRC_STORE_CREATE));
        zarrc_array *a = s ? make(s, "ks", 3, 2, shape, chunks, false) : NULL;
        int64_t z[2] = {0, 0};
        if (a)
            CHECK_OK(zarrc_array_write(a, z, shape, NULL, v, sizeof(int32_t) * KS_ROWS * KS_COLS));
        zarrc_array_free(a);
        int p[2];
        CHECK(pipe(p) == 0);
        pid_t pid = fork();
        if (pid == 0) {
            zarrc_array *c = NULL;
            if (zarrc_array_open(&c, s, "ks"))
                _exit(3);
            char go = 1;
            if (write(p[1], &go, 1) != 1)
                _exit(4);
            zarrc_array_resize(c, keep);
            for (;;) /* the kill lands here at the latest */
                pause();
        }
        char go;
        CHECK(read(p[0], &go, 1) == 1);
        struct timespec d = {0, (long)(rand() % 60) * 1000000L};
        nanosleep(&d, NULL);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        close(p[0]);
        close(p[1]);
        zarrc_array *r = NULL;
        CHECK_OK(zarrc_array_open(&r, s, "ks"));
        if (!r) {
            zarrc_store_free(s);
            break;
        }
        const int64_t *sh = zarrc_array_shape(r);
        bool was_old = sh[0] == KS_ROWS && sh[1] == KS_COLS, was_new = sh[0] == KS_KEEP && sh[1] == 3;
        CHECK_MSG(was_old || was_new, "trial %d: shape [%lld, %lld] is neither the old nor the new one", t,
                  (long long)sh[0], (long long)sh[1]);
        old_shape += was_old;
        new_shape += was_new;
        int32_t *got = read_all(r);
        int bad = 0;
        for (int64_t i = 0; i < sh[0]; i++)
            for (int64_t j = 0; j < sh[1]; j++)
                bad += got[i * sh[1] + j] != v[i * KS_COLS + j];
        CHECK_MSG(bad == 0, "trial %d: %d of the values inside shape [%lld, %lld] changed by a killed shrink", t,
                  bad, (long long)sh[0], (long long)sh[1]);
        free(got);
        if (was_new) { /* regrow: beyond the new shape only fill, never the old values */
            CHECK_OK(zarrc_array_resize(r, shape));
            got = read_all(r);
            bad = 0;
            for (int64_t i = 0; i < KS_ROWS; i++)
                for (int64_t j = 0; j < KS_COLS; j++)
                    bad += got[i * KS_COLS + j] != (i < KS_KEEP && j < 3 ? v[i * KS_COLS + j] : -1);
            CHECK_MSG(bad == 0, "trial %d: %d values wrong after regrowing a killed shrink", t, bad);
            free(got);
        }
        zarrc_array_free(r);
        CHECK_OK(zarrc_store_erase_prefix(s, "ks/"));
        zarrc_store_free(s);
    }
    printf("test_extend: %d killed shrinks left the old shape, %d the new one, all consistent\n", old_shape,
           new_shape);
    free(v);
}

int main(void)
{
    stress = getenv("ZARRC_EXTEND_STRESS") != NULL;
    CHECK_OK(zarrc_store_register(&counting_store));
    char dir[4096];
    const char *tmp = getenv("ZARRC_TEST_TMP");
    snprintf(dir, sizeof dir, "%s/extend-%d", tmp ? tmp : "/tmp", (int)getpid());
    /* memory and filesystem: per-key locks; cas://: compare-and-swap retried on conflict */
    CHECK_OK(zarrc_store_register(&cas_store_type));
    const char *urls[3] = {"memory://", dir, "cas://"};
    for (int u = 0; u < 3; u++) {
        zarrc_store *s = NULL;
        CHECK_OK(zarrc_store_open(&s, urls[u], ZARRC_STORE_CREATE));
        if (!s)
            continue;
        for (int f = 2; f <= 3; f++) {
            test_resize(s, f, false);
            test_write_at(s, f);
            test_out_of_order(s, f, false);
            test_append(s, f);
            for (int sh = 0; sh < 2; sh++)
                for (int ap = 0; ap < 2; ap++)
                    test_threads(s, f, false, sh, ap);
        }
        if (u < 2) { /* lock stores: data first */
            test_orphans(s, 2, false);
            test_orphans(s, 3, false);
            test_orphans(s, 3, true);
        }
        test_resize(s, 3, true);
        test_out_of_order(s, 3, true);
        for (int sh = 0; sh < 2; sh++)
            for (int ap = 0; ap < 2; ap++)
                test_threads(s, 3, true, sh, ap);
        if (u == 1) {
            test_killed_shrink(dir);
            CHECK_OK(zarrc_store_erase_prefix(s, ""));
        }
        zarrc_store_free(s);
    }
    CHECK_OK(zarrc_store_register(&failing_store));
    test_failure(2);
    test_failure(3);
    CHECK_OK(zarrc_store_register(&nolist_store));
    test_nolist(2, false);
    test_nolist(3, false);
    test_nolist(3, true);
    test_resize_cost();
    printf("compare-and-swap conflicts retried on cas://: %ld\n", cas_conflicts_total);
    CHECK(cas_conflicts_total > 0); /* the threads did contend on the metadata document */
    return check_report("test_extend");
}
