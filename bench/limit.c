/*
 * limit.c — the "limit" of the benchmark suite: the codec library alone, with no Zarr around
 * it, on all cores. What zarrc's throughput is compared against.
 *
 *   limit decode DIR --codec none|zstd|blosc [--inner-count N] [--threads T] [--min-seconds S]
 *       Read every chunk file of the store at DIR into memory (untimed), then decode them all
 *       (memcpy for none, ZSTD_decompressDCtx, blosc_decompress_ctx) in a tight loop on T
 *       threads into per-thread buffers. With --inner-count N the files are shards whose index
 *       (N entries + crc32c) is at the end: the inner chunks are decoded.
 *   limit encode --codec none|zstd|blosc --shape N --chunks C [--inner I] [--threads T]
 *       Generate the workload's chunks (or inner chunks of I^3) in memory (untimed), then
 *       encode them all (zstd level 3; blosc lz4 clevel 5 shuffle typesize 2) in a tight loop.
 *       --level L (zstd level), --cname NAME --clevel L --shuffle noshuffle|shuffle|bitshuffle
 *       (blosc) choose other settings.
 *
 *   --fresh-output (decode)  decode once into one newly allocated array-sized buffer, item k
 *                            at its own offset: includes the page faults of a fresh buffer,
 *                            as a whole-array read into a new buffer pays them (each item's
 *                            pages faulted in by one madvise(MADV_POPULATE_WRITE) first)
 *   --write-dir DIR (encode) write each encoded item to its own new file in DIR, once: the
 *                            limit of writing files (for the uncompressed case)
 *
 * Passes over all items repeat until --min-seconds (default 1) have passed. Prints one JSON
 * line: {"what", "seconds" (per pass), "bytes" (decoded bytes per pass), "peak_rss_kib",
 * "stored_bytes" (encoded bytes of one pass), ...}.
 */
#include <blosc.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "bench_common.h"

enum { C_NONE, C_ZSTD, C_BLOSC };

typedef struct item {
    const uint8_t *src;
    size_t len;
    size_t decoded; /* decode: decoded size */
} item;

typedef struct run {
    int codec, encode;
    int zstd_level, blosc_clevel, blosc_shuffle;
    const char *blosc_cname;
    uint8_t *fresh;       /* --fresh-output: one array-sized output, item k at slot[k] */
    size_t *slot;
    const char *write_dir; /* --write-dir: each encoded item is written to a file there */
    item *items;
    size_t nitems, max_out;
    atomic_llong next;
    long long total;      /* items to process in this run (passes * nitems) */
    atomic_llong failed;
    atomic_llong encoded; /* encode: output bytes of the first pass */
} run;

static item *items;
static size_t nitems, items_cap;

static void add_item(const uint8_t *src, size_t len, size_t decoded)
{
    if (nitems == items_cap) {
        items_cap = items_cap ? 2 * items_cap : 256;
        items = realloc(items, items_cap * sizeof *items);
        if (!items)
            bench_die("%s", "out of memory");
    }
    items[nitems++] = (item){src, len, decoded};
}

static int is_metadata(const char *name)
{
    return !strcmp(name, "zarr.json") || !strcmp(name, ".zarray") || !strcmp(name, ".zattrs") ||
           !strcmp(name, ".zgroup") || !strcmp(name, ".zmetadata");
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st))
        bench_die("cannot read %s", path);
    uint8_t *buf = malloc((size_t)st.st_size + 1);
    if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
        bench_die("cannot read %s", path);
    fclose(f);
    *len = (size_t)st.st_size;
    return buf;
}

static size_t decoded_size(int codec, const uint8_t *src, size_t len)
{
    if (codec == C_ZSTD) {
        unsigned long long n = ZSTD_getFrameContentSize(src, len);
        if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN)
            bench_die("%s", "zstd frame without a content size");
        return (size_t)n;
    }
    if (codec == C_BLOSC) {
        size_t nbytes, cbytes, bsize;
        blosc_cbuffer_sizes(src, &nbytes, &cbytes, &bsize);
        return nbytes;
    }
    return len;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t stored_bytes;

static void load_dir(const char *dir, int codec, long inner_count)
{
    DIR *d = opendir(dir);
    if (!d)
        bench_die("cannot open %s", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || is_metadata(e->d_name))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st))
            bench_die("cannot stat %s", path);
        if (S_ISDIR(st.st_mode)) {
            load_dir(path, codec, inner_count);
            continue;
        }
        size_t len;
        uint8_t *buf = slurp(path, &len);
        stored_bytes += len;
        if (inner_count <= 0) {
            add_item(buf, len, decoded_size(codec, buf, len));
            continue;
        }
        size_t index_len = (size_t)inner_count * 16 + 4;
        if (len < index_len)
            bench_die("%s: shard smaller than its index", path);
        const uint8_t *index = buf + len - index_len;
        for (long k = 0; k < inner_count; k++) {
            uint64_t off = rd64(index + 16 * k), n = rd64(index + 16 * k + 8);
            if (off == UINT64_MAX && n == UINT64_MAX)
                continue;
            if (off > len - index_len || n > len - index_len - off)
                bench_die("%s: bad shard index", path);
            add_item(buf + off, n, decoded_size(codec, buf + off, n));
        }
    }
    closedir(d);
}

static void *worker(void *arg)
{
    run *r = arg;
    uint8_t *out = malloc(r->max_out), *own = out;
    if (!out)
        bench_die("%s", "out of memory");
    memset(out, 0, r->max_out);
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    for (;;) {
        long long k = atomic_fetch_add(&r->next, 1);
        if (k >= r->total)
            break;
        const item *it = &r->items[k % (long long)r->nitems];
        size_t got;
        if (r->fresh) {
            out = r->fresh + r->slot[k % (long long)r->nitems];
            /* Fault the item's part of the fresh buffer in with one call, as zarrc's whole reads
             * do (cheaper than one fault per page; whole pages inside the part only). */
            uintptr_t lo = ((uintptr_t)out + 4095) & ~(uintptr_t)4095,
                      hi = ((uintptr_t)out + it->decoded) & ~(uintptr_t)4095;
            if (hi > lo)
                (void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
        }
        if (r->encode) {
            switch (r->codec) {
            case C_NONE:
                memcpy(out, it->src, it->len);
                got = it->len;
                break;
            case C_ZSTD:
                got = ZSTD_compressCCtx(cctx, out, r->max_out, it->src, it->len, r->zstd_level);
                if (ZSTD_isError(got))
                    got = 0;
                break;
            default:
                got = (size_t)blosc_compress_ctx(r->blosc_clevel, r->blosc_shuffle, 2, it->len, it->src,
                                                 out, r->max_out, r->blosc_cname, 0, 1);
                break;
            }
            if (got == 0 || (int)got < 0)
                atomic_fetch_add(&r->failed, 1);
            else if (k < (long long)r->nitems)
                atomic_fetch_add(&r->encoded, (long long)got);
            if (got > 0 && (int)got > 0 && r->write_dir) {
                char path[4096];
                snprintf(path, sizeof path, "%s/%lld", r->write_dir, k);
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || write(fd, out, got) != (ssize_t)got)
                    atomic_fetch_add(&r->failed, 1);
                if (fd >= 0)
                    close(fd);
            }
        } else {
            switch (r->codec) {
            case C_NONE:
                memcpy(out, it->src, it->len);
                got = it->len;
                break;
            case C_ZSTD:
                got = ZSTD_decompressDCtx(dctx, out, r->max_out, it->src, it->len);
                if (ZSTD_isError(got))
                    got = 0;
                break;
            default: {
                int n = blosc_decompress_ctx(it->src, out, r->max_out, 1);
                got = n > 0 ? (size_t)n : 0;
                break;
            }
            }
            if (got != it->decoded)
                atomic_fetch_add(&r->failed, 1);
        }
    }
    ZSTD_freeDCtx(dctx);
    ZSTD_freeCCtx(cctx);
    free(own);
    return NULL;
}

static double timed(run *r, int threads, long long passes)
{
    pthread_t tid[256];
    atomic_init(&r->next, 0);
    r->total = passes * (long long)r->nitems;
    double t0 = bench_now();
    for (int t = 0; t < threads; t++)
        if (pthread_create(&tid[t], NULL, worker, r))
            bench_die("%s", "pthread_create failed");
    for (int t = 0; t < threads; t++)
        pthread_join(tid[t], NULL);
    return bench_now() - t0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "decode") && strcmp(argv[1], "encode"))) {
        fprintf(stderr, "usage: limit decode DIR --codec C [--inner-count N] | limit encode "
                        "--codec C --shape N --chunks C [--inner I]  [--threads T] "
                        "[--min-seconds S]\n");
        return 2;
    }
    run r = {0};
    r.encode = !strcmp(argv[1], "encode");
    const char *codec = bench_opt(argc, argv, "--codec");
    if (!codec)
        bench_die("%s", "--codec is required");
    r.codec = !strcmp(codec, "none") ? C_NONE : !strcmp(codec, "zstd") ? C_ZSTD
            : !strcmp(codec, "blosc") ? C_BLOSC : -1;
    if (r.codec < 0)
        bench_die("unknown codec '%s'", codec);
    const char *th = bench_opt(argc, argv, "--threads"), *ms = bench_opt(argc, argv, "--min-seconds");
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = th ? atoi(th) : (int)(nproc > 0 ? nproc : 1);
    if (threads < 1 || threads > 256)
        bench_die("%s", "--threads must be 1..256");
    double min_seconds = ms ? atof(ms) : 1.0;
    const char *lv = bench_opt(argc, argv, "--level"), *cl = bench_opt(argc, argv, "--clevel");
    const char *sh = bench_opt(argc, argv, "--shuffle");
    r.zstd_level = lv ? atoi(lv) : 3;
    r.blosc_clevel = cl ? atoi(cl) : 5;
    r.blosc_cname = bench_opt(argc, argv, "--cname");
    if (!r.blosc_cname)
        r.blosc_cname = "lz4";
    r.blosc_shuffle = !sh || !strcmp(sh, "shuffle") ? BLOSC_SHUFFLE
                    : !strcmp(sh, "bitshuffle") ? BLOSC_BITSHUFFLE
                    : !strcmp(sh, "noshuffle") ? BLOSC_NOSHUFFLE : -1;
    if (r.blosc_shuffle < 0)
        bench_die("unknown --shuffle '%s'", sh);
    blosc_init();

    uint64_t decoded_total = 0;
    if (!r.encode) {
        if (argc < 3)
            bench_die("%s", "decode needs DIR");
        const char *ic = bench_opt(argc, argv, "--inner-count");
        load_dir(argv[2], r.codec, ic ? atol(ic) : 0);
        for (size_t i = 0; i < nitems; i++) {
            decoded_total += items[i].decoded;
            if (items[i].decoded > r.max_out)
                r.max_out = items[i].decoded;
        }
    } else {
        const char *shape_s = bench_opt(argc, argv, "--shape"), *chunks_s = bench_opt(argc, argv, "--chunks");
        const char *inner_s = bench_opt(argc, argv, "--inner");
        if (!shape_s || !chunks_s)
            bench_die("%s", "encode needs --shape and --chunks");
        int64_t shape[3], block[3];
        bench_parse_dims(shape_s, shape);
        bench_parse_dims(inner_s ? inner_s : chunks_s, block);
        size_t bytes = (size_t)(block[0] * block[1] * block[2]) * 2;
        for (int64_t z = 0; z < shape[0]; z += block[0])
            for (int64_t y = 0; y < shape[1]; y += block[1])
                for (int64_t x = 0; x < shape[2]; x += block[2]) {
                    /* Edge chunks are stored full size (padded), as Zarr does. */
                    uint16_t *buf = malloc(bytes);
                    if (!buf)
                        bench_die("%s", "out of memory");
                    int64_t start[3] = {z, y, x};
                    bench_fill_box(buf, start, block);
                    add_item((const uint8_t *)buf, bytes, bytes);
                    decoded_total += bytes;
                }
        r.max_out = bytes + BLOSC_MAX_OVERHEAD + ZSTD_compressBound(bytes);
    }
    if (nitems == 0)
        bench_die("%s", "no chunks found");
    r.items = items;
    r.nitems = nitems;
    atomic_init(&r.failed, 0);
    atomic_init(&r.encoded, 0);

    /* One pass only when the pass itself is the point: the first touch of a fresh output
     * buffer, or files written once. */
    int single = 0;
    if (bench_flag(argc, argv, "--fresh-output")) {
        if (r.encode)
            bench_die("%s", "--fresh-output is for decode");
        r.slot = malloc(nitems * sizeof *r.slot);
        size_t off = 0;
        for (size_t i = 0; r.slot && i < nitems; i++) {
            r.slot[i] = off;
            off += items[i].decoded;
        }
        if (!r.slot || !(r.fresh = malloc(off ? off : 1)))
            bench_die("%s", "out of memory");
        single = 1;
    }
    if ((r.write_dir = bench_opt(argc, argv, "--write-dir"))) {
        if (!r.encode)
            bench_die("%s", "--write-dir is for encode");
        single = 1;
    }
    long long passes = 1;
    double t;
    if (single) {
        t = timed(&r, threads, 1);
    } else {
        double t1 = timed(&r, threads, 1); /* warm-up and calibration */
        passes = t1 > 0 ? (long long)(min_seconds / t1) + 1 : 1;
        if (passes > 100000)
            passes = 100000;
        atomic_store(&r.encoded, 0);
        t = timed(&r, threads, passes);
    }
    if (atomic_load(&r.failed))
        bench_die("%s", "the codec failed on some items");
    char extra[256];
    snprintf(extra, sizeof extra,
             "\"threads\": %d, \"passes\": %lld, \"items\": %zu, \"stored_bytes\": %" PRIu64,
             threads, passes, nitems, r.encode ? (uint64_t)atomic_load(&r.encoded) : stored_bytes);
    bench_print_result(r.encode ? "limit-encode" : "limit-decode", t / (double)passes,
                       decoded_total, bench_peak_rss_kib(), extra);
    return 0;
}
