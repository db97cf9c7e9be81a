/*
 * bench_s3.c — zarrc's side of bench/bench_s3.py: whole-array and chunk-by-chunk writes and
 * reads of a 2-D float32 array on an S3 store, timed in-process (store open excluded).
 *
 *   bench_s3 URL N CHUNK RUNS IO_CONCURRENCY
 *
 * The array (N x N float32, chunks CHUNK x CHUNK, codec "bytes" only: the store's I/O is what
 * is measured) is created at URL (overwriting), then per run: write whole (one
 * zarrc_array_write), read whole (one zarrc_array_read, checked), write chunk by chunk (one
 * write per chunk, C order of the chunk grid), read chunk by chunk (checked). Prints one JSON
 * line per operation with the median seconds and the median process CPU seconds (user +
 * system, getrusage; the checks outside the clock excluded) of RUNS runs. Value at (i, j): i * N + j (exact in
 * float32 for N <= 4096; the check compares the bits the writer produced).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_common.h"

#include <zarrc.h>


static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_s3: %s: %s (%d)\n", what, zarrc_error_last(), rc);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: bench_s3 URL N CHUNK RUNS IO_CONCURRENCY\n");
        return 2;
    }
    const char *url = argv[1];
    int64_t n = atoll(argv[2]), c = atoll(argv[3]);
    int runs = atoi(argv[4]), conc = atoi(argv[5]);
    if (n <= 0 || c <= 0 || n % c || runs <= 0 || runs > 99 || conc <= 0)
        return 2;
    zarrc_set_io_concurrency(conc);
    zarrc_store *st;
    int rc = zarrc_store_open(&st, url, ZARRC_STORE_CREATE);
    if (rc)
        die("open", rc);
    int64_t shape[2] = {n, n}, chunks[2] = {c, c};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "float32";
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    o.codecs = "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]";
    o.flags = ZARRC_OVERWRITE;
    zarrc_array *a;
    if ((rc = zarrc_array_create(&a, st, "", &o)))
        die("create", rc);
    size_t total = (size_t)(n * n), per = (size_t)(c * c);
    float *src = malloc(total * sizeof *src), *dst = malloc(total * sizeof *dst);
    float *csrc = malloc(per * sizeof *csrc), *cdst = malloc(per * sizeof *cdst);
    if (!src || !dst || !csrc || !cdst)
        return 1;
    for (size_t i = 0; i < total; i++)
        src[i] = (float)i;
    static const char *names[4] = {"write whole", "read whole", "write chunks", "read chunks"};
    double t[4][99], u[4][99];
    int64_t zero[2] = {0, 0}, g = n / c;
    for (int r = 0; r < runs; r++) {
        double t0 = bench_now(), u0 = bench_cpu_seconds();
        if ((rc = zarrc_array_write(a, zero, shape, NULL, src, total * sizeof *src)))
            die("write whole", rc);
        t[0][r] = bench_now() - t0;
        u[0][r] = bench_cpu_seconds() - u0;
        memset(dst, 0, total * sizeof *dst);
        t0 = bench_now();
        u0 = bench_cpu_seconds();
        if ((rc = zarrc_array_read(a, zero, shape, NULL, dst, total * sizeof *dst)))
            die("read whole", rc);
        t[1][r] = bench_now() - t0;
        u[1][r] = bench_cpu_seconds() - u0;
        if (memcmp(src, dst, total * sizeof *src))
            die("read whole: wrong data", -1);
        double tw = 0, tr = 0, uw = 0, ur = 0;
        for (int64_t ci = 0; ci < g; ci++)
            for (int64_t cj = 0; cj < g; cj++) {
                int64_t start[2] = {ci * c, cj * c};
                for (int64_t i = 0; i < c; i++)
                    for (int64_t j = 0; j < c; j++)
                        csrc[i * c + j] = (float)((start[0] + i) * n + start[1] + j);
                t0 = bench_now();
                u0 = bench_cpu_seconds();
                if ((rc = zarrc_array_write(a, start, chunks, NULL, csrc, per * sizeof *csrc)))
                    die("write chunk", rc);
                tw += bench_now() - t0;
                uw += bench_cpu_seconds() - u0;
            }
        for (int64_t ci = 0; ci < g; ci++)
            for (int64_t cj = 0; cj < g; cj++) {
                int64_t start[2] = {ci * c, cj * c};
                t0 = bench_now();
                u0 = bench_cpu_seconds();
                if ((rc = zarrc_array_read(a, start, chunks, NULL, cdst, per * sizeof *cdst)))
                    die("read chunk", rc);
                tr += bench_now() - t0;
                ur += bench_cpu_seconds() - u0;
                if (cdst[per - 1] != (float)((start[0] + c - 1) * n + start[1] + c - 1))
                    die("read chunk: wrong data", -1);
            }
        t[2][r] = tw;
        t[3][r] = tr;
        u[2][r] = uw;
        u[3][r] = ur;
    }
    for (int k = 0; k < 4; k++) {
        qsort(t[k], (size_t)runs, sizeof(double), bench_cmp_double);
        qsort(u[k], (size_t)runs, sizeof(double), bench_cmp_double);
        printf("{\"impl\": \"zarrc\", \"op\": \"%s\", \"s\": %.4f, \"cpu_s\": %.4f}\n", names[k], t[k][runs / 2],
               u[k][runs / 2]);
    }
    zarrc_array_free(a);
    zarrc_store_free(st);
    free(src);
    free(dst);
    free(csrc);
    free(cdst);
    return 0;
}
