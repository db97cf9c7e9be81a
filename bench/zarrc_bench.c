/*
 * zarrc_bench.c — the zarrc side of the benchmark suite (bench/run.sh builds and drives it).
 *
 *   zarrc_bench write DIR --format 2|3 --encoding none|zstd|blosc|sharded --shape N --chunks C
 *                         [--inner I] [--codecs JSON] [--compressor JSON]
 *                                               create the array and write it whole (timed
 *                                               from after the create, as zarrs_reencode);
 *                                               --codecs (v3 codec list) / --compressor (v2)
 *                                               replace the encoding's built-in codecs
 *   zarrc_bench read DIR [--malloc] [--prefault] [--thp] [--repeat K]
 *                                               read the whole array into one new buffer,
 *                                               64-byte aligned (--malloc: from plain malloc;
 *                                               --prefault: touched before the timing;
 *                                               --thp: madvise(MADV_HUGEPAGE) on it first;
 *                                               --repeat: K reads into it, for profiling)
 *   zarrc_bench read-chunks DIR [--threads N] [--inner] [--check-all]
 *                                               read chunk by chunk (or inner chunk by inner
 *                                               chunk) with N caller threads, each into its
 *                                               own 64-byte-aligned buffer (--check-all:
 *                                               check every block's values, inside the timing;
 *                                               for verification runs, not for timed ones)
 *   zarrc_bench copy SRC DST [--raw]            zarrc_array_copy (the engine of `zarrc cp`) into
 *                                               a new array with the same metadata, decoding
 *                                               and re-encoding every chunk (--raw: allow the
 *                                               copy of identically encoded stored bytes);
 *                                               timed from after both arrays are open and the
 *                                               copy's metadata is written, as zarrs_reencode
 *   zarrc_bench verify DIR                      read the whole array and check every value
 *   zarrc_bench exec --bytes B -- CMD ARGS...   time a command (its stdout to /dev/null); report
 *                                               the child's peak RSS
 *
 * Each prints one JSON line: {"what", "seconds", "bytes" (decoded bytes), "peak_rss_kib"}; write,
 * read, read-chunks and copy add "cpu_seconds" (user + system CPU of every thread over the
 * timed section: the work done, which a loaded machine changes far less than the wall time).
 * Data is checked after every timed read (outside the timing); a wrong value exits 1.
 */
#include <pthread.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"
#include "zarrc.h"

static void check(int rc, const char *what)
{
    if (rc != ZARRC_OK) {
        fprintf(stderr, "bench: %s: %s (%s)\n", what, zarrc_error_last(), zarrc_strerror(rc));
        exit(1);
    }
}

static const char *V3_BYTES = "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}";
static const char *V3_ZSTD = "{\"name\":\"zstd\",\"configuration\":{\"level\":3,\"checksum\":false}}";
static const char *V3_BLOSC = "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\",\"clevel\":5,"
                              "\"shuffle\":\"shuffle\",\"typesize\":2,\"blocksize\":0}}";

static zarrc_array *open_array(const char *dir, zarrc_store **st, unsigned flags)
{
    zarrc_array *a;
    check(zarrc_store_open(st, dir, flags), dir);
    check(zarrc_array_open(&a, *st, ""), dir);
    if (zarrc_array_ndim(a) != BENCH_NDIM || zarrc_array_dtype(a)->item_size != 2)
        bench_die("%s: not a 3-d uint16 array", dir);
    return a;
}

static uint64_t array_bytes(const zarrc_array *a)
{
    return (uint64_t)zarrc_array_size(a) * 2;
}

/* ---- write ---- */

static int cmd_write(int argc, char **argv)
{
    const char *dir = argv[2];
    const char *fmt_s = bench_opt(argc, argv, "--format"), *enc = bench_opt(argc, argv, "--encoding");
    const char *shape_s = bench_opt(argc, argv, "--shape"), *chunks_s = bench_opt(argc, argv, "--chunks");
    const char *inner_s = bench_opt(argc, argv, "--inner");
    const char *codecs_s = bench_opt(argc, argv, "--codecs");
    const char *compressor_s = bench_opt(argc, argv, "--compressor");
    if (!fmt_s || !enc || !shape_s || !chunks_s)
        bench_die("%s", "write needs --format --encoding --shape --chunks");
    int format = atoi(fmt_s);
    int64_t shape[3], chunks[3], inner[3] = {0, 0, 0};
    bench_parse_dims(shape_s, shape);
    bench_parse_dims(chunks_s, chunks);
    char codecs[1024] = "";
    const char *compressor = NULL;
    if (format == 3) {
        if (!strcmp(enc, "none"))
            snprintf(codecs, sizeof codecs, "[%s]", V3_BYTES);
        else if (!strcmp(enc, "zstd"))
            snprintf(codecs, sizeof codecs, "[%s,%s]", V3_BYTES, V3_ZSTD);
        else if (!strcmp(enc, "blosc"))
            snprintf(codecs, sizeof codecs, "[%s,%s]", V3_BYTES, V3_BLOSC);
        else if (!strcmp(enc, "sharded") && !codecs_s) {
            if (!inner_s)
                bench_die("%s", "sharded needs --inner");
            bench_parse_dims(inner_s, inner);
            snprintf(codecs, sizeof codecs,
                     "[{\"name\":\"sharding_indexed\",\"configuration\":{"
                     "\"chunk_shape\":[%" PRId64 ",%" PRId64 ",%" PRId64 "],"
                     "\"codecs\":[%s,%s],"
                     "\"index_codecs\":[%s,{\"name\":\"crc32c\"}],\"index_location\":\"end\"}}]",
                     inner[0], inner[1], inner[2], V3_BYTES, V3_ZSTD, V3_BYTES);
        } else if (!codecs_s)
            bench_die("unknown encoding '%s'", enc);
    } else if (format == 2) {
        if (!strcmp(enc, "none"))
            compressor = "null";
        else if (!strcmp(enc, "zstd"))
            compressor = "{\"id\":\"zstd\",\"level\":3}";
        else if (!strcmp(enc, "blosc"))
            compressor = "{\"id\":\"blosc\",\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":1,\"blocksize\":0}";
        else if (!compressor_s)
            bench_die("encoding '%s' has no v2 form", enc);
    } else
        bench_die("bad --format '%s'", fmt_s);
    if (format == 2 && compressor_s)
        compressor = compressor_s;

    uint64_t nbytes = (uint64_t)(shape[0] * shape[1] * shape[2]) * 2;
    uint16_t *data = malloc(nbytes);
    if (!data)
        bench_die("%s", "out of memory");
    int64_t zero[3] = {0, 0, 0};
    bench_fill_box(data, zero, shape);

    /* The clock starts once the array exists (store opened, metadata written), like native
     * zarrs' zarrs_reencode, whose clock starts after it has created its output array. */
    double t_setup = bench_now();
    zarrc_store *st;
    zarrc_array *a;
    unsigned flags = ZARRC_STORE_CREATE;
#ifdef ZARRC_STORE_DURABLE
    /* ZARRC_BENCH_DURABLE=1: every chunk write fsynced (bench_safety.sh measures its cost). */
    if (getenv("ZARRC_BENCH_DURABLE"))
        flags |= ZARRC_STORE_DURABLE;
#endif
    check(zarrc_store_open(&st, dir, flags), dir);
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.format = format;
    o.dtype = format == 2 ? "<u2" : "uint16";
    o.ndim = 3;
    o.shape = shape;
    o.chunks = chunks;
    o.fill_value = "0";
    if (format == 3)
        o.codecs = codecs_s ? codecs_s : codecs;
    else {
        o.compressor = compressor;
        o.filters = "null";
    }
    o.flags = ZARRC_OVERWRITE;
    check(zarrc_array_create(&a, st, "", &o), "create");
    double t0 = bench_now(), c0 = bench_cpu_seconds();
    check(zarrc_array_write(a, zero, shape, NULL, data, nbytes), "write");
    zarrc_array_free(a);
    zarrc_store_free(st);
    double t = bench_now() - t0;
    char extra[96];
    snprintf(extra, sizeof extra, "\"setup_seconds\": %.6f, \"cpu_seconds\": %.6f", t0 - t_setup,
             bench_cpu_seconds() - c0);
    bench_print_result("write", t, nbytes, bench_peak_rss_kib(), extra);
    free(data);
    return 0;
}

/* ---- whole-array read / verify ---- */

static int cmd_read(int argc, char **argv, int timed)
{
    (void)argc;
    zarrc_store *st;
    double t0 = bench_now(), c0 = bench_cpu_seconds();
    zarrc_array *a = open_array(argv[2], &st, ZARRC_STORE_READONLY);
    uint64_t nbytes = array_bytes(a);
    /* The output on a 64-byte line, as zarrc_array_read advises for outputs larger than the
     * cache (its streaming stores then cover whole rows); --malloc: plain malloc, which puts
     * large blocks 16 bytes past a page. */
    uint16_t *out = bench_flag(argc, argv, "--malloc") ? malloc(nbytes)
                                                       : aligned_alloc(64, (nbytes + 63) & ~(uint64_t)63);
    if (!out)
        bench_die("%s", "out of memory");
    if (bench_flag(argc, argv, "--thp")) {
        /* What numpy does for its large arrays: ask for transparent huge pages (fewer, cheaper
         * page faults when THP is in "madvise" mode). Timed: it is part of the read's cost. */
        uintptr_t lo = ((uintptr_t)out + 4095) & ~(uintptr_t)4095;
        uintptr_t hi = ((uintptr_t)out + nbytes) & ~(uintptr_t)4095;
        if (hi > lo)
            madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
    }
    if (bench_flag(argc, argv, "--prefault")) {
        /* Touch the buffer first so the timing leaves out the kernel's page faults. */
        memset(out, 0xA5, nbytes);
        t0 = bench_now();
        c0 = bench_cpu_seconds();
    }
    int64_t zero[3] = {0, 0, 0};
    const char *rep = bench_opt(argc, argv, "--repeat");
    int repeat = rep ? atoi(rep) : 1;
    for (int k = 0; k < repeat; k++)
        check(zarrc_array_read(a, zero, zarrc_array_shape(a), NULL, out, nbytes), "read");
    double t = (bench_now() - t0) / (repeat > 0 ? repeat : 1);
    double cpu = (bench_cpu_seconds() - c0) / (repeat > 0 ? repeat : 1);
    long rss = bench_peak_rss_kib();
    int64_t bad = bench_check_box(out, zero, zarrc_array_shape(a));
    if (bad) {
        fprintf(stderr, "bench: %s: %" PRId64 " wrong values\n", argv[2], bad);
        return 1;
    }
    char extra[48];
    snprintf(extra, sizeof extra, "\"cpu_seconds\": %.6f", cpu);
    if (timed)
        bench_print_result("read", t, nbytes, rss, extra);
    else
        printf("{\"what\": \"verify\", \"ok\": true, \"bytes\": %" PRIu64 "}\n", nbytes);
    free(out);
    zarrc_array_free(a);
    zarrc_store_free(st);
    return 0;
}

/* ---- block by block (chunks or inner chunks), N caller threads ---- */

typedef struct block_job {
    zarrc_array *src;
    int64_t block[3], grid[3];
    int64_t nblocks;
    int check_all;
    atomic_llong next, bad;
    int nthreads;
    uint16_t *last_buf[256];     /* per thread: its buffer and the last block read into it */
    int64_t last[256];
} block_job;

typedef struct worker_arg {
    block_job *j;
    int t;
} worker_arg;

static void block_box(const block_job *j, int64_t i, int64_t *start, int64_t *count)
{
    const int64_t *shape = zarrc_array_shape(j->src);
    int64_t idx[3] = {i / (j->grid[1] * j->grid[2]), (i / j->grid[2]) % j->grid[1], i % j->grid[2]};
    for (int d = 0; d < 3; d++) {
        start[d] = idx[d] * j->block[d];
        count[d] = shape[d] - start[d] < j->block[d] ? shape[d] - start[d] : j->block[d];
    }
}

static void *block_worker(void *arg)
{
    block_job *j = ((worker_arg *)arg)->j;
    int t = ((worker_arg *)arg)->t;
    size_t cap = (size_t)(j->block[0] * j->block[1] * j->block[2]) * 2;
    /* On a 64-byte line, as zarrc_array_read advises for outputs larger than a core's cache. */
    uint16_t *buf = aligned_alloc(64, (cap + 63) & ~(size_t)63);
    if (!buf)
        bench_die("%s", "out of memory");
    int64_t start[3], count[3], last = -1;
    for (;;) {
        int64_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->nblocks)
            break;
        block_box(j, i, start, count);
        size_t n = (size_t)(count[0] * count[1] * count[2]) * 2;
        check(zarrc_array_read(j->src, start, count, NULL, buf, n), "read block");
        if (j->check_all)
            atomic_fetch_add(&j->bad, bench_check_box(buf, start, count));
        last = i;
    }
    j->last_buf[t] = buf; /* checked by the caller after the timing */
    j->last[t] = last;
    return NULL;
}

/* The inner chunk shape of a sharded array (from its codecs), or 0 if not sharded. */
static int inner_shape(const zarrc_array *a, int64_t *inner)
{
    char *json = NULL;
    if (zarrc_array_json(&json, a, ZARRC_JSON_CODECS_V3) != ZARRC_OK)
        return 0;
    const char *p = strstr(json, "sharding_indexed");
    p = p ? strstr(p, "\"chunk_shape\"") : NULL;
    p = p ? strchr(p, '[') : NULL;
    int ok = p != NULL;
    for (int d = 0; ok && d < 3; d++) {
        char *end;
        inner[d] = strtoll(p + 1, &end, 10);
        ok = end != p + 1 && inner[d] > 0;
        p = end;
    }
    zarrc_free(json);
    return ok;
}

static int run_blocks(block_job *j, int threads)
{
    pthread_t tid[256];
    if (threads < 1 || threads > 256)
        bench_die("%s", "--threads must be 1..256");
    const int64_t *shape = zarrc_array_shape(j->src);
    j->nblocks = 1;
    for (int d = 0; d < 3; d++) {
        j->grid[d] = (shape[d] + j->block[d] - 1) / j->block[d];
        j->nblocks *= j->grid[d];
    }
    atomic_init(&j->next, 0);
    atomic_init(&j->bad, 0);
    j->nthreads = threads;
    worker_arg args[256];
    for (int t = 0; t < threads; t++) {
        args[t] = (worker_arg){j, t};
        if (pthread_create(&tid[t], NULL, block_worker, &args[t]))
            bench_die("%s", "pthread_create failed");
    }
    for (int t = 0; t < threads; t++)
        pthread_join(tid[t], NULL);
    return 0;
}

/* Values wrong in the last block each thread read (0 = all right); frees the buffers. */
static int64_t check_last_blocks(block_job *j)
{
    int64_t bad = 0, start[3], count[3];
    for (int t = 0; t < j->nthreads; t++) {
        if (j->last[t] >= 0) {
            block_box(j, j->last[t], start, count);
            bad += bench_check_box(j->last_buf[t], start, count);
        }
        free(j->last_buf[t]);
    }
    return bad;
}
static int cmd_read_chunks(int argc, char **argv)
{
    const char *th = bench_opt(argc, argv, "--threads");
    int threads = th ? atoi(th) : zarrc_get_num_threads();
    int inner = bench_flag(argc, argv, "--inner");
    zarrc_store *st;
    block_job j = {0};
    double t0 = bench_now(), c0 = bench_cpu_seconds();
    j.src = open_array(argv[2], &st, ZARRC_STORE_READONLY);
    if (inner) {
        if (!inner_shape(j.src, j.block))
            bench_die("%s: not sharded: no inner chunks", argv[2]);
    } else
        memcpy(j.block, zarrc_array_chunks(j.src), sizeof j.block);
    j.check_all = bench_flag(argc, argv, "--check-all");
    run_blocks(&j, threads);
    double t = bench_now() - t0, cpu = bench_cpu_seconds() - c0;
    long rss = bench_peak_rss_kib();
    int64_t bad = check_last_blocks(&j) + atomic_load(&j.bad);
    if (bad) {
        fprintf(stderr, "bench: %s: %" PRId64 " wrong values\n", argv[2], bad);
        return 1;
    }
    char extra[128];
    snprintf(extra, sizeof extra, "\"threads\": %d, \"blocks\": %" PRId64 ", \"cpu_seconds\": %.6f", threads,
             j.nblocks, cpu);
    bench_print_result(inner ? "read-inner" : "read-chunks", t, array_bytes(j.src), rss, extra);
    zarrc_array_free(j.src);
    zarrc_store_free(st);
    return 0;
}

static int cmd_copy(int argc, char **argv)
{
    if (argc < 4)
        bench_die("%s", "copy needs SRC DST");
    zarrc_store *st, *dst_st;
    zarrc_array *src, *dst;
    double t_setup = bench_now();
    src = open_array(argv[2], &st, ZARRC_STORE_READONLY);
    char *meta;
    check(zarrc_array_json(&meta, src, ZARRC_JSON_METADATA), "metadata");
    check(zarrc_store_open(&dst_st, argv[3], ZARRC_STORE_CREATE), argv[3]);
    check(zarrc_array_create_json(&dst, dst_st, "", meta, ZARRC_OVERWRITE), "create copy");
    zarrc_free(meta);
    /* The engine of `zarrc cp`, made to decode and re-encode every chunk (a round trip)
     * instead of copying identically encoded stored bytes. */
    zarrc_copy_options co = ZARRC_COPY_OPTIONS_INIT;
    co.allow_raw = bench_flag(argc, argv, "--raw");
    zarrc_copy_stats stats;
    /* Clock from here: both arrays open, the copy's metadata written (as zarrs_reencode). */
    double t0 = bench_now(), c0 = bench_cpu_seconds();
    check(zarrc_array_copy(dst, src, &co, &stats), "copy");
    double t = bench_now() - t0, cpu = bench_cpu_seconds() - c0;
    char extra[128];
    snprintf(extra, sizeof extra, "\"threads\": %d, \"raw\": %d, \"setup_seconds\": %.6f, \"cpu_seconds\": %.6f",
             zarrc_get_num_threads(), stats.raw, t0 - t_setup, cpu);
    bench_print_result("copy", t, array_bytes(src), bench_peak_rss_kib(), extra);
    zarrc_array_free(dst);
    zarrc_array_free(src);
    zarrc_store_free(dst_st);
    zarrc_store_free(st);
    return 0;
}

/* ---- exec: time a command, report the child's own peak RSS ---- */

static int cmd_exec(int argc, char **argv)
{
    const char *bytes_s = bench_opt(argc, argv, "--bytes");
    int k = 2;
    while (k < argc && strcmp(argv[k], "--"))
        k++;
    if (!bytes_s || k + 1 >= argc)
        bench_die("%s", "usage: exec --bytes B -- CMD ARGS...");
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid < 0)
        bench_die("%s", "fork failed");
    if (pid == 0) {
        /* The command's output is not ours: our stdout carries the JSON result. */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        execvp(argv[k + 1], argv + k + 1);
        perror(argv[k + 1]);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0)
        bench_die("%s", "wait4 failed");
    double t = bench_now() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench: command '%s' failed (status %d)\n", argv[k + 1], status);
        return 1;
    }
    bench_print_result("exec", t, strtoull(bytes_s, NULL, 10), ru.ru_maxrss, NULL);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: zarrc_bench write|read|read-chunks|copy|verify|exec DIR ...\n");
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "write"))
        return cmd_write(argc, argv);
    if (!strcmp(cmd, "read"))
        return cmd_read(argc, argv, 1);
    if (!strcmp(cmd, "verify"))
        return cmd_read(argc, argv, 0);
    if (!strcmp(cmd, "read-chunks"))
        return cmd_read_chunks(argc, argv);
    if (!strcmp(cmd, "copy"))
        return cmd_copy(argc, argv);
    if (!strcmp(cmd, "exec"))
        return cmd_exec(argc, argv);
    fprintf(stderr, "bench: unknown command '%s'\n", cmd);
    return 2;
}
