/*
 * bench_stream_limit.c — the "limit" row of the streaming benchmark (driven by bench/bench_stream.py):
 * what the codec library and the file system alone cost for the workload of bench_stream.c, with no
 * Zarr around them. Same arguments, same frames, same codec settings, same output JSON line shape:
 *
 *   bench_stream_limit DIR N H W CHUNK_FRAMES CODEC SHARDED
 *     CODEC: none | blosc-lz4 | blosc-zstd    SHARDED: 0 (chunks [C, H, W]) or
 *     1 (shards [C, H, W] of inner chunks [C, H/2, W/2])
 *
 * The N frames are generated before timing (bench_common.h's values, as bench_stream.c). DIR is created
 * (empty) before timing. Timed, from the first frame to the last file closed: T threads (ZARRC_NUM_THREADS,
 * else the online cores: the thread count zarrc uses), thread i taking chunks i, i + T, ...; per chunk:
 *   - unsharded: blosc_compress_ctx of the chunk's bytes (clevel 1, byte shuffle, typesize 2,
 *     blocksize 0, 1 internal thread: zarrc's and the peers' settings), then one open / write /
 *     close of a new file DIR/c<k> (no fsync). Uncompressed: the file write straight from the frames;
 *   - sharded: each inner chunk gathered into a contiguous buffer (the codec needs it) and compressed
 *     into the shard buffer, then a 16-byte index entry per inner chunk (offset, nbytes as
 *     little-endian uint64) at the end, with NO crc32c (Zarr's index carries a 4-byte crc32c; its cost,
 *     a few bytes per shard, is left out), and one open / write / close per shard.
 * A last chunk of fewer than C frames is padded with zeros to the full chunk, as Zarr stores it.
 * No directory tree per chunk, no metadata, no rename: every Zarr implementation does more than this.
 * After timing (untimed) every file is read back, decompressed and compared with the frames.
 * Prints {"tool":"limit","ms":...,"cpu_ms" (user + system CPU time of the timed part),"stored_bytes":...,
 * "files":...,"threads":...,"peak_rss_kib":...}.
 */
#include "bench_common.h"

#include <blosc.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const char *dir, *cname; /* cname NULL: uncompressed */
    const uint16_t *frames;
    int64_t n, h, w, cf;     /* frames, frame height / width, frames per chunk */
    int sharded;
    int64_t ih, iw, gy, gx;  /* inner chunk shape and inner grid (sharded) */
    int64_t items;           /* chunks or shards */
    int threads;
} job;

typedef struct {
    const job *j;
    int index;
    uint64_t stored;
    int64_t files;
    char err[256];
} worker;

static int mul_size(size_t a, size_t b, size_t *out)
{
    if (a && b > SIZE_MAX / a)
        return -1;
    *out = a * b;
    return 0;
}

/* Copy the box [z0, z0+cf) x [y0, y0+ih) x [x0, x0+iw) of the frames into dst (C order, cf x ih x iw),
 * zeros where it passes the array's end. */
static void gather(const job *j, int64_t z0, int64_t y0, int64_t x0, uint16_t *dst)
{
    for (int64_t z = 0; z < j->cf; z++)
        for (int64_t y = 0; y < j->ih; y++) {
            uint16_t *row = dst + (z * j->ih + y) * j->iw;
            int64_t gz = z0 + z, gy = y0 + y, avail = j->w - x0 < j->iw ? j->w - x0 : j->iw;
            if (gz >= j->n || gy >= j->h) {
                memset(row, 0, (size_t)j->iw * 2);
                continue;
            }
            memcpy(row, j->frames + ((size_t)gz * (size_t)j->h + (size_t)gy) * (size_t)j->w + (size_t)x0,
                   (size_t)avail * 2);
            if (avail < j->iw)
                memset(row + avail, 0, (size_t)(j->iw - avail) * 2);
        }
}

static int write_file(worker *wk, int64_t k, const void *data, size_t size)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/c%lld", wk->j->dir, (long long)k) >= (int)sizeof path) {
        snprintf(wk->err, sizeof wk->err, "path of chunk %lld is too long", (long long)k);
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(wk->err, sizeof wk->err, "open %.200s: %s", path, strerror(errno));
        return -1;
    }
    const uint8_t *p = data;
    size_t left = size;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(wk->err, sizeof wk->err, "write %.200s: %s", path, n < 0 ? strerror(errno) : "wrote 0 bytes");
            close(fd);
            return -1;
        }
        p += n;
        left -= (size_t)n;
    }
    if (close(fd)) {
        snprintf(wk->err, sizeof wk->err, "close %.200s: %s", path, strerror(errno));
        return -1;
    }
    wk->stored += size;
    wk->files++;
    return 0;
}

/* Compress src (size bytes) into dst (capacity cap); returns the compressed size or 0 (error in wk). */
static size_t compress(worker *wk, int64_t k, const void *src, size_t size, uint8_t *dst, size_t cap)
{
    int n = blosc_compress_ctx(1, BLOSC_SHUFFLE, 2, size, src, dst, cap, wk->j->cname, 0, 1);
    if (n <= 0) {
        snprintf(wk->err, sizeof wk->err, "blosc_compress_ctx of chunk %lld failed (code %d)", (long long)k, n);
        return 0;
    }
    return (size_t)n;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void *run_worker(void *arg)
{
    worker *wk = arg;
    const job *j = wk->j;
    size_t frame = (size_t)j->h * (size_t)j->w * 2, chunk = frame * (size_t)j->cf; /* checked in main */
    size_t inner = (size_t)j->cf * (size_t)j->ih * (size_t)j->iw * 2, count = (size_t)(j->gy * j->gx);
    size_t unit = j->sharded ? inner : chunk, ccap = unit + BLOSC_MAX_OVERHEAD;
    size_t out_cap = j->sharded ? count * ccap + 16 * count : ccap;
    uint8_t *tmp = malloc(unit), *out = malloc(out_cap);
    if (!tmp || !out) {
        snprintf(wk->err, sizeof wk->err, "out of memory (%zu + %zu bytes)", unit, out_cap);
        goto done;
    }
    for (int64_t k = wk->index; k < j->items; k += j->threads) {
        int64_t z0 = k * j->cf;
        if (!j->sharded) {
            const void *src = j->frames + (size_t)z0 * (size_t)j->h * (size_t)j->w;
            if (z0 + j->cf > j->n) { /* last partial chunk: pad with zeros */
                size_t have = (size_t)(j->n - z0) * frame;
                memcpy(tmp, src, have);
                memset(tmp + have, 0, chunk - have);
                src = tmp;
            }
            size_t m = chunk;
            if (j->cname && !(m = compress(wk, k, src, chunk, out, ccap)))
                goto done;
            if (write_file(wk, k, j->cname ? out : src, m))
                goto done;
            continue;
        }
        size_t off = 0;
        uint8_t *index = NULL;
        for (int64_t q = 0; q < j->gy * j->gx; q++) {
            gather(j, z0, (q / j->gx) * j->ih, (q % j->gx) * j->iw, j->cname ? (uint16_t *)tmp : (uint16_t *)(out + off));
            size_t m = inner;
            if (j->cname && !(m = compress(wk, k, tmp, inner, out + off, ccap)))
                goto done;
            index = out + count * ccap; /* index built apart, moved after the data below */
            put_le64(index + 16 * (size_t)q, off);
            put_le64(index + 16 * (size_t)q + 8, m);
            off += m;
        }
        memmove(out + off, index, 16 * count);
        if (write_file(wk, k, out, off + 16 * count))
            goto done;
    }
done:
    free(tmp);
    free(out);
    return NULL;
}

/* Read file DIR/c<k> whole into *buf (grown as needed); returns its size or -1. */
static long long read_file(const char *dir, int64_t k, uint8_t **buf, size_t *cap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/c%lld", dir, (long long)k);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t size = 0, n;
    for (;;) {
        if (size == *cap) {
            size_t nc = *cap ? *cap * 2 : (size_t)1 << 20;
            uint8_t *nb = realloc(*buf, nc);
            if (!nb) {
                fclose(f);
                return -1;
            }
            *buf = nb;
            *cap = nc;
        }
        if (!(n = fread(*buf + size, 1, *cap - size, f)))
            break;
        size += n;
    }
    fclose(f);
    return (long long)size;
}

/* Untimed: every file decodes to the frames (zeros in the padding). Returns 0 or prints why not. */
static int verify(const job *j)
{
    size_t frame = (size_t)j->h * (size_t)j->w * 2, chunk = frame * (size_t)j->cf;
    size_t inner = (size_t)j->cf * (size_t)j->ih * (size_t)j->iw * 2, count = (size_t)(j->gy * j->gx);
    size_t unit = j->sharded ? inner : chunk, cap = 0;
    uint8_t *file = NULL, *want = malloc(unit), *got = malloc(unit);
    int bad = !want || !got;
    for (int64_t k = 0; !bad && k < j->items; k++) {
        long long size = read_file(j->dir, k, &file, &cap);
        if (size < 0) {
            fprintf(stderr, "bench_stream_limit: cannot read back chunk %lld\n", (long long)k);
            bad = 1;
            break;
        }
        size_t parts = j->sharded ? count : 1;
        if (j->sharded && (size_t)size < 16 * count) {
            fprintf(stderr, "bench_stream_limit: shard %lld has %lld bytes, less than its index\n", (long long)k, size);
            bad = 1;
            break;
        }
        for (size_t q = 0; !bad && q < parts; q++) {
            uint64_t off = 0, m = (uint64_t)size;
            if (j->sharded) {
                const uint8_t *e = file + (size_t)size - 16 * count + 16 * q;
                off = m = 0;
                for (int i = 7; i >= 0; i--) {
                    off = off << 8 | e[i];
                    m = m << 8 | e[8 + i];
                }
                if (off > (uint64_t)size || m > (uint64_t)size - off) {
                    fprintf(stderr, "bench_stream_limit: shard %lld: inner chunk %zu outside the file\n",
                            (long long)k, q);
                    bad = 1;
                    break;
                }
                gather(j, k * j->cf, (int64_t)q / j->gx * j->ih, (int64_t)q % j->gx * j->iw, (uint16_t *)want);
            } else {
                int64_t z0 = k * j->cf, nz = j->n - z0 < j->cf ? j->n - z0 : j->cf;
                memcpy(want, j->frames + (size_t)z0 * (size_t)j->h * (size_t)j->w, (size_t)nz * frame);
                memset(want + (size_t)nz * frame, 0, chunk - (size_t)nz * frame);
            }
            if (j->cname) {
                int d = blosc_decompress_ctx(file + off, got, unit, 1);
                bad = d < 0 || (size_t)d != unit;
            } else {
                bad = m != unit;
                if (!bad)
                    memcpy(got, file + off, unit);
            }
            if (bad || memcmp(got, want, unit)) {
                fprintf(stderr, "bench_stream_limit: chunk %lld part %zu does not decode to the frames\n",
                        (long long)k, q);
                bad = 1;
            }
        }
    }
    free(file);
    free(want);
    free(got);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: bench_stream_limit DIR N H W CHUNK_FRAMES CODEC SHARDED\n");
        return 2;
    }
    job j = {.dir = argv[1]};
    const char *codec = argv[6];
    j.n = atoll(argv[2]);
    j.h = atoll(argv[3]);
    j.w = atoll(argv[4]);
    j.cf = atoll(argv[5]);
    j.sharded = atoi(argv[7]);
    if (!strcmp(codec, "blosc-lz4"))
        j.cname = "lz4";
    else if (!strcmp(codec, "blosc-zstd"))
        j.cname = "zstd";
    else if (strcmp(codec, "none")) {
        fprintf(stderr, "bench_stream_limit: codec must be none, blosc-lz4 or blosc-zstd, not %s\n", codec);
        return 2;
    }
    if (j.n < 1 || j.h < 2 || j.w < 2 || j.cf < 1) {
        fprintf(stderr, "bench_stream_limit: bad arguments\n");
        return 2;
    }
    size_t frame, all, chunk;
    if (mul_size((size_t)j.h, (size_t)j.w, &frame) || mul_size(frame, 2, &frame) ||
        mul_size(frame, (size_t)j.n, &all) || mul_size(frame, (size_t)j.cf, &chunk) ||
        chunk + BLOSC_MAX_OVERHEAD < chunk || chunk > BLOSC_MAX_BUFFERSIZE) {
        fprintf(stderr, "bench_stream_limit: frames of %lld x %lld x %lld too large\n", (long long)j.n,
                (long long)j.h, (long long)j.w);
        return 2;
    }
    j.ih = j.sharded ? j.h / 2 : j.h;
    j.iw = j.sharded ? j.w / 2 : j.w;
    j.gy = (j.h + j.ih - 1) / j.ih;
    j.gx = (j.w + j.iw - 1) / j.iw;
    j.items = (j.n + j.cf - 1) / j.cf;
    const char *env = getenv("ZARRC_NUM_THREADS");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    j.threads = env && atoi(env) > 0 ? atoi(env) : cores > 0 ? (int)cores : 1;
    if (j.threads > 256)
        j.threads = 256;
    uint16_t *frames = malloc(all);
    if (!frames) {
        fprintf(stderr, "bench_stream_limit: out of memory (%zu bytes of frames)\n", all);
        return 1;
    }
    for (int64_t z = 0; z < j.n; z++) {
        int64_t st[3] = {z, 0, 0}, ct[3] = {1, j.h, j.w};
        bench_fill_box(frames + (size_t)z * (size_t)(j.h * j.w), st, ct);
    }
    j.frames = frames;
    if (mkdir(j.dir, 0755) && errno != EEXIST) {
        fprintf(stderr, "bench_stream_limit: mkdir %s: %s\n", j.dir, strerror(errno));
        return 1;
    }
    blosc_init();
    worker wk[256];
    pthread_t tid[256];
    double c0 = bench_cpu_seconds(), t0 = bench_now();
    for (int i = 0; i < j.threads; i++) {
        wk[i] = (worker){.j = &j, .index = i};
        if (pthread_create(&tid[i], NULL, run_worker, &wk[i])) {
            fprintf(stderr, "bench_stream_limit: cannot start thread %d\n", i);
            return 1;
        }
    }
    uint64_t stored = 0;
    int64_t files = 0;
    for (int i = 0; i < j.threads; i++)
        pthread_join(tid[i], NULL);
    double t1 = bench_now(), c1 = bench_cpu_seconds();
    for (int i = 0; i < j.threads; i++) {
        if (wk[i].err[0]) {
            fprintf(stderr, "bench_stream_limit: %s\n", wk[i].err);
            return 1;
        }
        stored += wk[i].stored;
        files += wk[i].files;
    }
    if (files != j.items || verify(&j))
        return 1;
    printf("{\"tool\":\"limit\",\"ms\":%.2f,\"cpu_ms\":%.2f,\"stored_bytes\":%" PRIu64 ",\"files\":%lld,\"threads\":%d,"
           "\"peak_rss_kib\":%ld}\n",
           (t1 - t0) * 1e3, (c1 - c0) * 1e3, stored, (long long)files, j.threads, bench_peak_rss_kib());
    blosc_destroy();
    free(frames);
    return 0;
}
