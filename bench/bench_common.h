/*
 * bench_common.h — shared by the benchmark drivers (zarrc_bench.c, limit.c): the workload's
 * value formula, the encodings, timing, peak RSS and option parsing. Not part of libzarrc.
 */
#ifndef ZARRC_BENCH_COMMON_H
#define ZARRC_BENCH_COMMON_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define BENCH_NDIM 3

/* The zarr_benchmarks workload: uint16 value at (z, y, x). */
static inline uint16_t bench_value(int64_t z, int64_t y, int64_t x)
{
    return (uint16_t)(uint64_t)(x + y * y / 32 + z * z * z);
}

/* Fill `buf` (C order, count[0] x count[1] x count[2]) with the values of the box at start. */
static inline void bench_fill_box(uint16_t *buf, const int64_t *start, const int64_t *count)
{
    for (int64_t z = 0; z < count[0]; z++) {
        int64_t gz = start[0] + z;
        for (int64_t y = 0; y < count[1]; y++) {
            int64_t gy = start[1] + y;
            uint16_t base = bench_value(gz, gy, start[2]);
            uint16_t *row = buf + (z * count[1] + y) * count[2];
            for (int64_t x = 0; x < count[2]; x++)
                row[x] = (uint16_t)(base + x);
        }
    }
}

/* Number of elements of the box that differ from the workload (0 = correct). */
static inline int64_t bench_check_box(const uint16_t *buf, const int64_t *start,
                                      const int64_t *count)
{
    int64_t bad = 0;
    for (int64_t z = 0; z < count[0]; z++) {
        int64_t gz = start[0] + z;
        for (int64_t y = 0; y < count[1]; y++) {
            int64_t gy = start[1] + y;
            uint16_t base = bench_value(gz, gy, start[2]);
            const uint16_t *row = buf + (z * count[1] + y) * count[2];
            for (int64_t x = 0; x < count[2]; x++)
                bad += row[x] != (uint16_t)(base + x);
        }
    }
    return bad;
}

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time (user + system, every thread) this process has used so far, in seconds. Unlike
 * wall time it hardly moves with the machine's load, so the difference over a timed section
 * compares implementations' work on a busy machine (the JSON field "cpu_seconds"). */
static inline double bench_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

/* qsort comparator of doubles (for medians). */
static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Peak resident set size of this process in KiB. */
static inline long bench_peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static inline void bench_print_result(const char *what, double seconds, uint64_t bytes,
                                      long rss_kib, const char *extra)
{
    printf("{\"what\": \"%s\", \"seconds\": %.6f, \"bytes\": %" PRIu64
           ", \"peak_rss_kib\": %ld%s%s}\n",
           what, seconds, bytes, rss_kib, extra && *extra ? ", " : "", extra ? extra : "");
    fflush(stdout);
}

static inline void bench_die(const char *fmt, const char *arg)
{
    fprintf(stderr, "bench: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

/* "N" or "N,N,N" -> 3 dims. */
static inline void bench_parse_dims(const char *s, int64_t *out)
{
    char *end;
    for (int d = 0; d < BENCH_NDIM; d++) {
        out[d] = strtoll(s, &end, 10);
        if (end == s || out[d] <= 0)
            bench_die("bad dimensions '%s'", s);
        if (*end == ',')
            s = end + 1;
        else if (*end == '\0') {
            if (d == 0) { /* one number: a cube */
                out[1] = out[2] = out[0];
                return;
            }
            if (d != BENCH_NDIM - 1)
                bench_die("need 1 or 3 dimensions, got '%s'", s);
            return;
        } else
            bench_die("bad dimensions '%s'", s);
    }
}

/* Value of "--name V" in argv (NULL if absent). */
static inline const char *bench_opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return NULL;
}

static inline int bench_flag(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], name))
            return 1;
    return 0;
}

#endif
