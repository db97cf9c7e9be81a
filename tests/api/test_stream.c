/*
 * test_stream.c — the streaming append writer (public API only): frames of random sizes streamed
 * into v2 and v3 arrays (plain, zstd, sharded) give exactly the stored bytes of one write of the
 * whole array, key by key, and the same shape; streaming along axis 1, starting inside a chunk,
 * a two-slab queue (back-pressure) over many frames; argument errors; a writer error (read-only
 * store) returned by append and close; zarrc_stream_estimate_memory; kill -9 during a stream into
 * a filesystem array leaves every chunk either whole or absent (fill), readable. Set
 * ZARRC_STRESS_TRIALS for more kills (default 5).
 */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "wrap_store.h"
#include "zarrc.h"

#define H 6
#define W 10

static zarrc_array *make(zarrc_store *s, const char *path, int format, const char *codec, int64_t rows,
                         int64_t crow, bool sharded)
{
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    int64_t shape[3] = {rows, H, W}, chunks[3] = {crow, 3, 5};
    o.format = format;
    o.dtype = "uint16";
    o.ndim = 3;
    o.shape = shape;
    o.chunks = chunks;
    o.fill_value = "7";
    o.flags = ZARRC_OVERWRITE;
    char codecs[1024];
    if (sharded) {
        chunks[1] = H;
        chunks[2] = W;
        snprintf(codecs, sizeof codecs,
                 "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[%lld,3,5],"
                 "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"zstd\","
                 "\"configuration\":{\"level\":1,\"checksum\":false}}],\"index_codecs\":[{\"name\":\"bytes\","
                 "\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}]}}]",
                 (long long)(crow / 2 ? crow / 2 : 1));
        o.codecs = codecs;
    } else if (codec && format == 3) {
        snprintf(codecs, sizeof codecs,
                 "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"%s\","
                 "\"configuration\":{\"level\":1,\"checksum\":false}}]", codec);
        o.codecs = codecs;
    } else if (codec) {
        snprintf(codecs, sizeof codecs, "{\"id\":\"%s\",\"level\":1}", codec);
        o.compressor = codecs;
    }
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, s, path, &o));
    return a;
}

static uint16_t value(int64_t r, int64_t i, int64_t j) { return (uint16_t)(r * 131 + i * 17 + j * 3 + 1); }

static uint16_t *frames(int64_t first, int64_t rows)
{
    uint16_t *v = malloc((size_t)(rows ? rows : 1) * H * W * sizeof *v);
    for (int64_t r = 0; r < rows; r++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++)
                v[(r * H + i) * W + j] = value(first + r, i, j);
    return v;
}

typedef struct keys {
    char **k;
    size_t n;
} keys;

static int collect(void *ctx, const char *name, int is_prefix)
{
    keys *ks = ctx;
    if (is_prefix)
        return 0;
    ks->k = realloc(ks->k, (ks->n + 1) * sizeof *ks->k);
    ks->k[ks->n++] = strdup(name);
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every chunk key of `pa` holds the same bytes as in `pb` and they have the same keys. */
static int same_chunks(zarrc_store *s, const char *pa, const char *pb)
{
    keys ka = {0}, kb = {0};
    char pre[64];
    snprintf(pre, sizeof pre, "%s/", pa);
    CHECK_OK(zarrc_store_list(s, pre, collect, &ka));
    snprintf(pre, sizeof pre, "%s/", pb);
    CHECK_OK(zarrc_store_list(s, pre, collect, &kb));
    qsort(ka.k, ka.n, sizeof *ka.k, cmp_str);
    qsort(kb.k, kb.n, sizeof *kb.k, cmp_str);
    int diff = ka.n != kb.n;
    for (size_t i = 0; !diff && i < ka.n; i++) {
        const char *ra = ka.k[i] + strlen(pa) + 1, *rb = kb.k[i] + strlen(pb) + 1;
        if (strcmp(ra, rb)) {
            diff = 1;
            break;
        }
        if (!strcmp(ra, "zarr.json") || !strcmp(ra, ".zarray") || !strcmp(ra, ".zattrs"))
            continue;
        void *da, *db;
        size_t na, nb;
        CHECK_OK(zarrc_store_get(&da, &na, s, ka.k[i]));
        CHECK_OK(zarrc_store_get(&db, &nb, s, kb.k[i]));
        diff |= na != nb || memcmp(da, db, na);
        if (diff)
            fprintf(stderr, "chunk %s differs (%zu vs %zu bytes)\n", ka.k[i], na, nb);
        zarrc_free(da);
        zarrc_free(db);
    }
    if (ka.n != kb.n)
        fprintf(stderr, "%s has %zu keys, %s %zu\n", pa, ka.n, pb, kb.n);
    for (size_t i = 0; i < ka.n; i++)
        free(ka.k[i]);
    for (size_t i = 0; i < kb.n; i++)
        free(kb.k[i]);
    free(ka.k);
    free(kb.k);
    return diff;
}

/* Stream `total` frames in random-size pieces into an empty array, compare with one write. */
static void test_equal(zarrc_store *s, int format, const char *codec, bool sharded, int64_t crow, size_t queue)
{
    int64_t total = 37;
    zarrc_array *a = make(s, "st", format, codec, 0, crow, sharded);
    zarrc_array *b = make(s, "wh", format, codec, total, crow, sharded);
    if (!a || !b)
        return;
    uint16_t *all = frames(0, total);
    int64_t z[3] = {0, 0, 0}, sh[3] = {total, H, W};
    CHECK_OK(zarrc_array_write(b, z, sh, NULL, all, (size_t)total * H * W * 2));
    zarrc_stream_options so = ZARRC_STREAM_OPTIONS_INIT;
    so.queue_bytes = queue;
    zarrc_stream *st = NULL;
    CHECK_OK(zarrc_stream_open(&st, a, &so));
    size_t row = H * W * 2;
    for (int64_t r = 0; st && r < total;) {
        int64_t k = 1 + (int64_t)(check_rnd() % 9);
        if (k > total - r)
            k = total - r;
        CHECK_OK(zarrc_stream_append(st, (const uint8_t *)all + (size_t)r * row, (size_t)k * row));
        r += k;
        CHECK(zarrc_stream_appended(st) == r);
    }
    CHECK_OK(zarrc_stream_close(st));
    zarrc_array_free(a);
    CHECK_OK(zarrc_array_open(&a, s, "st"));
    CHECK_MSG(a && zarrc_array_shape(a)[0] == total && zarrc_array_shape(a)[1] == H,
              "format %d %s sharded %d: shape %lld", format, codec ? codec : "raw", sharded,
              a ? (long long)zarrc_array_shape(a)[0] : -1LL);
    uint16_t *got = calloc((size_t)total * H * W, 2);
    if (a)
        CHECK_OK(zarrc_array_read(a, z, sh, NULL, got, (size_t)total * H * W * 2));
    CHECK_MSG(!memcmp(got, all, (size_t)total * H * W * 2), "format %d %s sharded %d crow %lld: contents differ",
              format, codec ? codec : "raw", sharded, (long long)crow);
    CHECK_MSG(!same_chunks(s, "st", "wh"), "format %d %s sharded %d: stored chunks differ from one whole write",
              format, codec ? codec : "raw", sharded);
    free(got);
    free(all);
    zarrc_array_free(a);
    zarrc_array_free(b);
}

/* A [H, cols, W] int32 array, chunks 4 x 4 x 4, fill -1 (replacing any at `name`): the arrays
 * the axis-1 tests stream into. NULL (and a failed check) if it cannot be created. */
static zarrc_array *axis1_array(zarrc_store *s, const char *name, int64_t cols)
{
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    int64_t shape[3] = {H, cols, W}, chunks[3] = {4, 4, 4};
    o.format = 3;
    o.dtype = "int32";
    o.ndim = 3;
    o.shape = shape;
    o.chunks = chunks;
    o.fill_value = "-1";
    o.flags = ZARRC_OVERWRITE;
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, s, name, &o));
    return a;
}

/* Along axis 1 of a [H, 0, W] array, from a non-empty start inside a chunk. */
static void test_axis1(zarrc_store *s)
{
    zarrc_array *a = axis1_array(s, "ax1", 3);
    if (!a)
        return;
    int64_t cols = 23; /* total along axis 1 after streaming: 3 existing (fill) + 20 */
    int32_t *want = malloc((size_t)H * cols * W * 4);
    for (int i = 0; i < H; i++)
        for (int c = 0; c < cols; c++)
            for (int j = 0; j < W; j++)
                want[(i * cols + c) * W + j] = c < 3 ? -1 : i * 10000 + c * 100 + j;
    zarrc_stream_options so = ZARRC_STREAM_OPTIONS_INIT;
    so.axis = 1;
    so.queue_bytes = 1; /* two slabs */
    zarrc_stream *st = NULL;
    CHECK_OK(zarrc_stream_open(&st, a, &so));
    for (int64_t c = 3; st && c < cols;) {
        int64_t k = 1 + (int64_t)(check_rnd() % 6);
        if (k > cols - c)
            k = cols - c;
        int32_t *f = malloc((size_t)H * k * W * 4);
        for (int i = 0; i < H; i++)
            for (int64_t q = 0; q < k; q++)
                for (int j = 0; j < W; j++)
                    f[(i * k + q) * W + j] = want[(i * cols + c + q) * W + j];
        CHECK_OK(zarrc_stream_append(st, f, (size_t)H * k * W * 4));
        free(f);
        c += k;
    }
    CHECK_OK(zarrc_stream_close(st));
    CHECK(zarrc_array_shape(a)[1] == cols && zarrc_array_shape(a)[0] == H);
    int32_t *got = malloc((size_t)H * cols * W * 4);
    int64_t z[3] = {0, 0, 0}, sh[3] = {H, cols, W};
    CHECK_OK(zarrc_array_read(a, z, sh, NULL, got, (size_t)H * cols * W * 4));
    CHECK_MSG(!memcmp(got, want, (size_t)H * cols * W * 4), "axis 1 stream: contents differ");
    free(got);
    free(want);
    zarrc_array_free(a);
}

/* Start inside a chunk (extent 5, chunk 4) and many one-row frames through a two-slab queue. */
static void test_head_and_backpressure(zarrc_store *s)
{
    zarrc_array *a = make(s, "hb", 3, "zstd", 5, 4, false);
    if (!a)
        return;
    uint16_t *first = frames(0, 5);
    int64_t z[3] = {0, 0, 0}, sh5[3] = {5, H, W};
    CHECK_OK(zarrc_array_write(a, z, sh5, NULL, first, 5 * H * W * 2));
    free(first);
    zarrc_stream_options so = ZARRC_STREAM_OPTIONS_INIT;
    so.queue_bytes = 1;
    zarrc_stream *st = NULL;
    size_t est = 0;
    CHECK_OK(zarrc_stream_estimate_memory(a, &so, &est));
    CHECK_MSG(est >= 2 * 4 * H * W * 2 && est < (1u << 20), "estimate %zu", est);
    CHECK_OK(zarrc_stream_open(&st, a, &so));
    int64_t total = 205;
    for (int64_t r = 5; st && r < total; r++) {
        uint16_t *f = frames(r, 1);
        CHECK_OK(zarrc_stream_append(st, f, H * W * 2));
        free(f);
    }
    CHECK_OK(zarrc_stream_close(st));
    CHECK(zarrc_array_shape(a)[0] == total);
    uint16_t *want = frames(0, total), *got = malloc((size_t)total * H * W * 2);
    int64_t sh[3] = {total, H, W};
    CHECK_OK(zarrc_array_read(a, z, sh, NULL, got, (size_t)total * H * W * 2));
    CHECK_MSG(!memcmp(got, want, (size_t)total * H * W * 2), "head + back-pressure stream: contents differ");
    free(got);
    free(want);
    zarrc_array_free(a);
}

/* An empty [0, H, W] array "a" (chunks of `crow` rows) created in a new store dir/name and
 * opened again through a read-only handle of it: every write of a stream into it fails. */
static zarrc_store *readonly_array(const char *dir, const char *name, int64_t crow, zarrc_array **a)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    mkdir(path, 0755);
    zarrc_store *fs = NULL, *ro = NULL;
    CHECK_OK(zarrc_store_open(&fs, path, 0));
    zarrc_array_free(make(fs, "a", 3, NULL, 0, crow, false));
    zarrc_store_free(fs);
    CHECK_OK(zarrc_store_open(&ro, path, ZARRC_STORE_READONLY));
    *a = NULL;
    CHECK_OK(zarrc_array_open(a, ro, "a"));
    return ro;
}

static void test_errors(zarrc_store *s, const char *dir)
{
    zarrc_array *a = make(s, "er", 3, NULL, 0, 2, false);
    zarrc_stream *st = (zarrc_stream *)1;
    zarrc_stream_options so = ZARRC_STREAM_OPTIONS_INIT;
    so.axis = 3;
    CHECK_ERR(zarrc_stream_open(&st, a, &so), ZARRC_EINVAL, "axis 3 is not a dimension");
    CHECK(st == NULL);
    so.axis = 0;
    so.start = -5;
    CHECK_ERR(zarrc_stream_open(&st, a, &so), ZARRC_EINVAL, "negative");
    size_t est;
    CHECK_ERR(zarrc_stream_estimate_memory(a, NULL, NULL), ZARRC_EINVAL, "NULL");
    CHECK_OK(zarrc_stream_open(&st, a, NULL));
    CHECK_ERR(zarrc_stream_append(st, "abc", 3), ZARRC_EINVAL, "not a whole number of slices along axis 0");
    CHECK_ERR(zarrc_stream_append(st, NULL, 120), ZARRC_EINVAL, "NULL frame");
    CHECK_OK(zarrc_stream_append(st, NULL, 0));
    CHECK_OK(zarrc_stream_close(st));
    CHECK(zarrc_array_shape(a)[0] == 0);
    CHECK_OK(zarrc_stream_close(NULL));
    zarrc_array_free(a);

    /* An extent of 0 off the axis, a scalar, a variable-length type. */
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    int64_t shape[2] = {0, 0}, chunks[2] = {2, 2};
    o.dtype = "int8";
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    o.flags = ZARRC_OVERWRITE;
    CHECK_OK(zarrc_array_create(&a, s, "z0", &o));
    CHECK_ERR(zarrc_stream_open(&st, a, NULL), ZARRC_EINVAL, "extent 0 along axis 1");
    CHECK_ERR(zarrc_stream_estimate_memory(a, NULL, &est), ZARRC_EINVAL, "extent 0 along axis 1");
    zarrc_array_free(a);
    o.ndim = 0;
    CHECK_OK(zarrc_array_create(&a, s, "sc", &o));
    CHECK_ERR(zarrc_stream_open(&st, a, NULL), ZARRC_EINVAL, "scalar");
    zarrc_array_free(a);
    o.ndim = 2;
    shape[1] = 4;
    o.dtype = "string";
    CHECK_OK(zarrc_array_create(&a, s, "vl", &o));
    CHECK_ERR(zarrc_stream_open(&st, a, NULL), ZARRC_EUNSUPPORTED, "fixed-size data types");
    zarrc_array_free(a);

    /* A writer error (read-only store) comes back from append or close, with its message. */
    zarrc_store *ro = readonly_array(dir, "ro", 2, &a);
    CHECK_OK(zarrc_stream_open(&st, a, NULL));
    uint16_t *f = frames(0, 9);
    int rc = ZARRC_OK;
    for (int k = 0; k < 9 && rc == ZARRC_OK; k++)
        rc = zarrc_stream_append(st, f + (size_t)k * H * W, H * W * 2);
    int rc2 = zarrc_stream_close(st);
    CHECK_MSG(rc2 == ZARRC_EREADONLY && strstr(zarrc_error_last(), "stream into"), "close after a failed write: %d",
              rc2);
    CHECK_MSG(rc == ZARRC_OK || rc == ZARRC_EREADONLY, "append after a failed write: %d", rc);
    free(f);
    zarrc_array_free(a);
    zarrc_store_free(ro);
}

/* ---- lent frames (zarrc_stream_append_lent) ---- */

/* A store without per-key locks (a memory store behind a plugin): streams write without a grow
 * session; lent slabs scattered in memory still go as one block, each chunk read from its slab. */
static zarrc_store *inner;
WRAP_STORE_FORWARDERS(w, inner)
static const zarrc_store_type nolock_store = {
    ZARRC_STORE_TYPE_VERSION, "nolock", ZARRC_STORE_CAP_RANGE | ZARRC_STORE_CAP_LIST_DIR | ZARRC_STORE_CAP_WRITE,
    w_open, w_close, w_get, NULL, w_set, NULL, w_erase, w_erase_prefix, w_list, w_list_dir, w_size,
};

typedef struct lent_rec {
    uint8_t *frame;
    size_t size;
    int released;     /* release calls for this frame */
    bool by_writer;   /* released from another thread than the producer's: the stream's writer
                         read it after its call (it was lent, not copied) */
} lent_rec;

static pthread_mutex_t lent_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t producer; /* the thread that appends (main) */

/* Count the call and scribble over the frame: the stored data must not come from it after this. */
static void lent_release(void *ctx, const void *frame)
{
    lent_rec *r = ctx;
    pthread_mutex_lock(&lent_mu);
    if (frame != r->frame) /* checked by the main thread: CHECK is not thread-safe */
        r->released += 1000;
    r->released++;
    r->by_writer |= !pthread_equal(pthread_self(), producer);
    pthread_mutex_unlock(&lent_mu);
    memset(r->frame, 0xEE, r->size);
}

/* Stream `total` indices along axis 0 as frames of `fr` indices (0: random 1..9), every `mix`-th
 * (0: none) through zarrc_stream_append, the others lent; compare with one whole write, key by
 * key. Returns how many frames the writer thread released (= really lent). */
static int lent_stream(zarrc_store *s, int format, const char *codec, bool sharded, int64_t crow, size_t queue,
                       int64_t fr, int mix, const char *what)
{
    int64_t total = 37;
    zarrc_array *a = make(s, "ls", format, codec, 0, crow, sharded);
    zarrc_array *b = make(s, "lw", format, codec, total, crow, sharded);
    if (!a || !b)
        return 0;
    uint16_t *all = frames(0, total);
    int64_t z[3] = {0, 0, 0}, sh[3] = {total, H, W};
    CHECK_OK(zarrc_array_write(b, z, sh, NULL, all, (size_t)total * H * W * 2));
    zarrc_stream_options so = ZARRC_STREAM_OPTIONS_INIT;
    /* queue 0 here: 64 KiB (the default 64 MiB of these tiny slabs is ~500 k slots, too many
     * for the stream to keep lending state: it copies then, see test_lent). */
    so.queue_bytes = queue ? queue : (size_t)64 << 10;
    if (queue == (size_t)-1)
        so.queue_bytes = 0;
    zarrc_stream *st = NULL;
    CHECK_OK(zarrc_stream_open(&st, a, &so));
    size_t row = H * W * 2;
    lent_rec *recs = calloc((size_t)total, sizeof *recs);
    int nrec = 0, outside = 0;
    for (int64_t r = 0; st && r < total; nrec++) {
        int64_t k = fr ? fr : 1 + (int64_t)(check_rnd() % 9);
        if (k > total - r)
            k = total - r;
        lent_rec *rc = &recs[nrec];
        rc->size = (size_t)k * row;
        rc->frame = malloc(rc->size);
        memcpy(rc->frame, (const uint8_t *)all + (size_t)r * row, rc->size);
        if (mix && nrec % mix == mix - 1) {
            CHECK_OK(zarrc_stream_append(st, rc->frame, rc->size));
            rc->released = 1; /* the caller keeps it */
            rc->by_writer = false;
        } else {
            CHECK_OK(zarrc_stream_append_lent(st, rc->frame, rc->size, lent_release, rc));
        }
        r += k;
    }
    CHECK_OK(zarrc_stream_close(st));
    for (int i = 0; i < nrec; i++) {
        CHECK_MSG(recs[i].released == 1, "%s: frame %d released %d times", what, i, recs[i].released);
        outside += recs[i].by_writer;
        free(recs[i].frame);
    }
    free(recs);
    zarrc_array_free(a);
    CHECK_OK(zarrc_array_open(&a, s, "ls"));
    uint16_t *got = calloc((size_t)total * H * W, 2);
    if (a) {
        CHECK(zarrc_array_shape(a)[0] == total);
        CHECK_OK(zarrc_array_read(a, z, sh, NULL, got, (size_t)total * H * W * 2));
    }
    CHECK_MSG(!memcmp(got, all, (size_t)total * H * W * 2), "%s: contents differ", what);
    CHECK_MSG(!same_chunks(s, "ls", "lw"), "%s: stored chunks differ from one whole write", what);
    free(got);
    free(all);
    zarrc_array_free(a);
    zarrc_array_free(b);
    return outside;
}

/* Axis 1 of a [H, 0, W] int32 array with chunks 4 along it: frames of exactly 4 columns are
 * lent, frames of 3 are copied. */
static void lent_axis1(zarrc_store *s, int64_t fr)
{
    zarrc_array *a = axis1_array(s, "lax1", 0);
    if (!a)
        return;
    int64_t cols = 22;
    int32_t *want = malloc((size_t)H * cols * W * 4);
    for (int i = 0; i < H; i++)
        for (int c = 0; c < cols; c++)
            for (int j = 0; j < W; j++)
                want[(i * cols + c) * W + j] = i * 10000 + c * 100 + j;
    zarrc_stream_options so = ZARRC_STREAM_OPTIONS_INIT;
    so.axis = 1;
    so.queue_bytes = 1;
    zarrc_stream *st = NULL;
    CHECK_OK(zarrc_stream_open(&st, a, &so));
    lent_rec recs[32];
    memset(recs, 0, sizeof recs);
    int nrec = 0;
    for (int64_t c = 0; st && c < cols; nrec++) {
        int64_t k = fr < cols - c ? fr : cols - c;
        lent_rec *rc = &recs[nrec];
        rc->size = (size_t)H * k * W * 4;
        rc->frame = malloc(rc->size);
        int32_t *f = (int32_t *)(void *)rc->frame;
        for (int i = 0; i < H; i++)
            for (int64_t q = 0; q < k; q++)
                for (int j = 0; j < W; j++)
                    f[(i * k + q) * W + j] = want[(i * cols + c + q) * W + j];
        CHECK_OK(zarrc_stream_append_lent(st, rc->frame, rc->size, lent_release, rc));
        c += k;
    }
    CHECK_OK(zarrc_stream_close(st));
    int outside = 0;
    for (int i = 0; i < nrec; i++) {
        CHECK_MSG(recs[i].released == 1, "axis 1 lent: frame %d released %d times", i, recs[i].released);
        outside += recs[i].by_writer;
        free(recs[i].frame);
    }
    if (fr % 4)
        CHECK_MSG(outside == 0, "axis 1, frames of %lld: %d copied frames released by the writer", (long long)fr,
                  outside);
    CHECK(zarrc_array_shape(a)[1] == cols);
    int32_t *got = malloc((size_t)H * cols * W * 4);
    int64_t z[3] = {0, 0, 0}, sh[3] = {H, cols, W};
    CHECK_OK(zarrc_array_read(a, z, sh, NULL, got, (size_t)H * cols * W * 4));
    CHECK_MSG(!memcmp(got, want, (size_t)H * cols * W * 4), "axis 1 lent stream (frames of %lld): contents differ",
              (long long)fr);
    free(got);
    free(want);
    zarrc_array_free(a);
}

/* A store that fails: every accepted lent frame is released once (by close at the latest),
 * failing calls release nothing. */
static void lent_errors(zarrc_store *s, const char *dir)
{
    zarrc_array *a = make(s, "le", 3, NULL, 0, 1, false);
    zarrc_stream *st = NULL;
    CHECK_OK(zarrc_stream_open(&st, a, NULL));
    uint16_t f[H * W];
    CHECK_ERR(zarrc_stream_append_lent(st, f, sizeof f, NULL, NULL), ZARRC_EINVAL, "NULL release");
    lent_rec r0 = {(uint8_t *)f, sizeof f, 0, false};
    CHECK_ERR(zarrc_stream_append_lent(st, f, 3, lent_release, &r0), ZARRC_EINVAL, "not a whole number");
    CHECK_ERR(zarrc_stream_append_lent(NULL, f, sizeof f, lent_release, &r0), ZARRC_EINVAL, "NULL stream");
    CHECK(r0.released == 0);
    CHECK_OK(zarrc_stream_append_lent(st, f, 0, lent_release, &r0));
    CHECK(r0.released == 1);
    CHECK_OK(zarrc_stream_close(st));
    zarrc_array_free(a);

    zarrc_store *ro = readonly_array(dir, "rolent", 1, &a);
    for (int qb = 0; qb < 2; qb++) {
        zarrc_stream_options so = ZARRC_STREAM_OPTIONS_INIT;
        so.queue_bytes = qb ? 1 : (size_t)64 << 10; /* two slabs: calls block, then fail */
        CHECK_OK(zarrc_stream_open(&st, a, &so));
        lent_rec recs[40];
        memset(recs, 0, sizeof recs);
        int accepted = 0, failed = 0;
        for (int k = 0; k < 40; k++) {
            recs[k].size = H * W * 2 * (size_t)(1 + k % 2);
            recs[k].frame = (uint8_t *)frames(k, 1 + k % 2);
            int rc = zarrc_stream_append_lent(st, recs[k].frame, recs[k].size, lent_release, &recs[k]);
            CHECK_MSG(rc == ZARRC_OK || rc == ZARRC_EREADONLY, "lent append on a read-only store: %d", rc);
            if (rc == ZARRC_OK)
                accepted++;
            else {
                failed++;
                recs[k].released = -100; /* must stay so */
            }
        }
        int rc2 = zarrc_stream_close(st);
        CHECK_MSG(rc2 == ZARRC_EREADONLY, "close after a failed write: %d", rc2);
        int ok = 0;
        for (int k = 0; k < 40; k++) {
            CHECK_MSG(recs[k].released == 1 || recs[k].released == -100, "failing store: frame %d released %d times",
                      k, recs[k].released);
            ok += recs[k].released == 1;
            free(recs[k].frame);
        }
        CHECK_MSG(ok == accepted && (failed > 0 || !qb), "failing store: %d released, %d accepted, %d failed", ok, accepted,
                  failed);
    }
    zarrc_array_free(a);
    zarrc_store_free(ro);
}

static void test_lent(zarrc_store *s, const char *dir)
{
    int out = 0;
    for (int format = 2; format <= 3; format++) {
        /* One index per chunk: every one-index frame is lent. */
        out += lent_stream(s, format, "zstd", false, 1, 0, 1, 0, "cf 1, 1-index frames");
        out += lent_stream(s, format, NULL, false, 1, 1, 1, 0, "cf 1, two-slab queue");
        /* Four per chunk: 4- and 8-index frames are lent, random ones partly, 1-index copied. */
        out += lent_stream(s, format, "zstd", false, 4, 0, 4, 0, "cf 4, 4-index frames");
        out += lent_stream(s, format, "zstd", false, 4, 1, 8, 0, "cf 4, 8-index frames, two-slab queue");
        lent_stream(s, format, "zstd", false, 4, 0, 0, 0, "cf 4, random frames");
        int copied = lent_stream(s, format, "zstd", false, 4, 0, 1, 0, "cf 4, 1-index frames (copied)");
        CHECK_MSG(copied == 0, "cf 4, 1-index frames: %d copied frames released by the writer", copied);
        lent_stream(s, format, "zstd", false, 1, 0, 0, 3, "cf 1, random frames, mixed with append");
        lent_stream(s, format, NULL, false, 4, 1, 4, 2, "cf 4, mixed with append");
    }
    out += lent_stream(s, 3, NULL, true, 1, 0, 1, 0, "sharded cf 1");
    out += lent_stream(s, 3, NULL, true, 4, 1, 4, 0, "sharded cf 4, two-slab queue");
    lent_stream(s, 3, NULL, true, 2, 0, 0, 2, "sharded cf 2, random frames, mixed");
    /* Released by the writer thread means it read the caller's memory: over this many lent
     * frames some must be (the call releases a lent frame itself only when, right after
     * handing its slabs over, the writer is already past them). */
    CHECK_MSG(out > 0, "no frame was released by the writer: nothing was lent");
    /* The default queue of these 120-byte slabs is ~560 k slots: no lending state, every
     * frame copied (and released inside its call), the same bytes stored. */
    int none = lent_stream(s, 3, "zstd", false, 1, (size_t)-1, 1, 0, "cf 1, default queue of tiny slabs");
    CHECK_MSG(none == 0, "tiny slabs, default queue: %d frames released by the writer", none);
    lent_axis1(s, 4);
    lent_axis1(s, 3);
    lent_errors(s, dir);
    zarrc_store *nl = NULL;
    CHECK_OK(zarrc_store_register(&nolock_store));
    CHECK_OK(zarrc_store_open(&nl, "nolock://", 0));
    if (nl) {
        lent_stream(nl, 3, "zstd", false, 1, 0, 1, 0, "no-lock store, cf 1");
        lent_stream(nl, 2, NULL, false, 4, 1, 0, 2, "no-lock store, cf 4, random frames, mixed");
        lent_stream(nl, 3, NULL, true, 1, 0, 1, 0, "no-lock store, sharded cf 1");
    }
    zarrc_store_free(nl);
}

/* ---- kill -9 during a stream ---- */

/* A stream left open and idle publishes what it wrote within the publish period (waited for
 * with a bound far above it) and yields the grow lock: another handle's extend goes through
 * while the stream stays open. */
static int64_t stored_rows(zarrc_store *s, const char *path)
{
    zarrc_array *b = NULL;
    int64_t n = -1;
    if (zarrc_array_open(&b, s, path) == ZARRC_OK)
        n = zarrc_array_shape(b)[0];
    zarrc_array_free(b);
    return n;
}

static void test_idle_publish(zarrc_store *s)
{
    zarrc_array *a = make(s, "idle", 3, NULL, 0, 1, false);
    zarrc_stream *st = NULL;
    CHECK_OK(zarrc_stream_open(&st, a, NULL));
    uint16_t *f = frames(0, 3);
    CHECK_OK(zarrc_stream_append(st, f, 3 * H * W * 2));
    int64_t n = -1;
    for (int i = 0; i < 200 && n != 3; i++) { /* up to 10 s for a 100 ms period */
        struct timespec d = {0, 50000000L};
        nanosleep(&d, NULL);
        n = stored_rows(s, "idle");
    }
    CHECK_MSG(n == 3, "an idle open stream did not publish its 3 rows (stored shape %lld)", (long long)n);
    zarrc_array *b = NULL;
    CHECK_OK(zarrc_array_open(&b, s, "idle"));
    uint16_t *g = frames(3, 1);
    int64_t off[3] = {3, 0, 0}, shape[3] = {1, H, W};
    if (b)
        CHECK_OK(zarrc_array_write_at(b, off, 3, shape, g, H * W * 2, ZARRC_EXTEND));
    zarrc_array_free(b);
    CHECK(stored_rows(s, "idle") == 4);
    CHECK_OK(zarrc_stream_close(st));
    uint16_t got[3 * H * W];
    int64_t z[3] = {0, 0, 0}, sh[3] = {3, H, W};
    zarrc_array_free(a);
    CHECK_OK(zarrc_array_open(&a, s, "idle"));
    if (a) {
        CHECK_OK(zarrc_array_read(a, z, sh, NULL, got, sizeof got));
        CHECK(!memcmp(got, f, sizeof got));
        z[0] = 3;
        sh[0] = 1;
        CHECK_OK(zarrc_array_read(a, z, sh, NULL, got, H * W * 2));
        CHECK(!memcmp(got, g, H * W * 2));
    }
    free(f);
    free(g);
    zarrc_array_free(a);
}

#define CR 4     /* chunk rows */
#define KROWS 4000

static void stream_child(const char *root)
{
    zarrc_store *s = NULL;
    zarrc_array *a = NULL;
    if (zarrc_store_open(&s, root, 0) || zarrc_array_open(&a, s, "k"))
        _exit(3);
    zarrc_stream *st = NULL;
    zarrc_stream_options so = ZARRC_STREAM_OPTIONS_INIT;
    so.start = 0;
    if (zarrc_stream_open(&st, a, &so))
        _exit(4);
    for (int64_t r = 0; r < KROWS; r++) {
        uint16_t *f = frames(r, 1);
        if (zarrc_stream_append(st, f, H * W * 2))
            _exit(5);
        free(f);
    }
    zarrc_stream_close(st);
    /* On a fast machine the whole stream can end before the kill arrives: wait for it (bounded),
       so the kill still lands and the check below still runs on a closed stream. */
    for (int i = 0; i < 300; i++) {
        struct timespec d = {0, 100000000L};
        nanosleep(&d, NULL);
    }
    _exit(0);
}

/* Every chunk of the array is either all its frames' values or all fill. */
static int check_killed(const char *root)
{
    zarrc_store *s = NULL;
    zarrc_array *a = NULL;
    if (zarrc_store_open(&s, root, 0) || zarrc_array_open(&a, s, "k"))
        return 10;
    int64_t n = zarrc_array_shape(a)[0];
    uint16_t *got = malloc((size_t)(n ? n : 1) * H * W * 2);
    int64_t z[3] = {0, 0, 0}, sh[3] = {n, H, W};
    if (zarrc_array_read(a, z, sh, NULL, got, (size_t)n * H * W * 2)) {
        fprintf(stderr, "read after kill: %s\n", zarrc_error_last());
        return 11;
    }
    int torn = 0;
    for (int64_t c0 = 0; c0 < n; c0 += CR)
        for (int i0 = 0; i0 < H; i0 += 3)
            for (int j0 = 0; j0 < W; j0 += 5) {
                int ok = 0, fill = 0, tot = 0;
                for (int64_t r = c0; r < c0 + CR && r < n; r++)
                    for (int i = i0; i < i0 + 3; i++)
                        for (int j = j0; j < j0 + 5; j++) {
                            uint16_t v = got[(r * H + i) * W + j];
                            ok += v == value(r, i, j);
                            fill += v == 7;
                            tot++;
                        }
                torn += ok != tot && fill != tot;
            }
    free(got);
    zarrc_array_free(a);
    zarrc_store_free(s);
    if (torn)
        fprintf(stderr, "after a kill: %d torn chunks (shape %lld)\n", torn, (long long)n);
    else
        printf("api.stream: killed at shape [%lld, %d, %d], every chunk whole or fill\n", (long long)n, H, W);
    return torn ? 12 : 0;
}

static void test_kill(const char *dir)
{
    char root[600], cmd[700];
    snprintf(root, sizeof root, "%s/kill", dir);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", root, root);
    if (system(cmd) != 0)
        return;
    const char *env = getenv("ZARRC_STRESS_TRIALS");
    int trials = env && atoi(env) > 0 ? atoi(env) : 5;
    int grew = 0;
    for (int t = 0; t < trials; t++) {
        pid_t maker = fork();
        if (maker == 0) {
            zarrc_store *s = NULL;
            if (zarrc_store_open(&s, root, 0))
                _exit(1);
            zarrc_array *a = make(s, "k", 3, "zstd", 0, CR, false);
            zarrc_array_free(a);
            zarrc_store_free(s);
            _exit(a ? 0 : 1);
        }
        int st;
        waitpid(maker, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        pid_t pid = fork();
        if (pid == 0)
            stream_child(root);
        struct timespec d = {0, (long)(30 + rand() % 150) * 1000000L};
        nanosleep(&d, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        CHECK_MSG(WIFSIGNALED(st), "the streaming writer stopped by itself (status %d)", st);
        pid_t checker = fork();
        if (checker == 0)
            _exit(check_killed(root));
        waitpid(checker, &st, 0);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "kill %d: inconsistent array (status %d)", t,
                  WEXITSTATUS(st));
        grew++;
    }
    printf("api.stream: %d kills during a stream, each left a consistent array\n", grew);
}

int main(void)
{
    const char *tmp = getenv("ZARRC_TEST_TMP");
    char dir[512], cmd[600];
    snprintf(dir, sizeof dir, "%s/stream", tmp ? tmp : "testtmp");
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0)
        return 1;
    srand((unsigned)time(NULL));
    producer = pthread_self();
    /* Kills first: children fork before this process starts the library's threads. */
    test_kill(dir);
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    for (int format = 2; format <= 3; format++) {
        test_equal(s, format, NULL, false, 1, 0);
        test_equal(s, format, NULL, false, 4, 0);
        test_equal(s, format, "zstd", false, 4, 1);
    }
    test_equal(s, 3, NULL, true, 4, 0);
    test_equal(s, 3, NULL, true, 2, 1);
    char fsdir[600];
    snprintf(fsdir, sizeof fsdir, "%s/fs", dir);
    mkdir(fsdir, 0755);
    zarrc_store *fs = NULL;
    CHECK_OK(zarrc_store_open(&fs, fsdir, 0));
    test_equal(fs, 3, "zstd", false, 4, 0);
    test_equal(fs, 2, "zstd", false, 1, 1);
    test_idle_publish(fs);
    zarrc_store_free(fs);
    test_axis1(s);
    test_head_and_backpressure(s);
    test_errors(s, dir);
    test_lent(s, dir);
    zarrc_store_free(s);
    return check_report("api.stream");
}
