/*
 * bench_views.c — time reads of a plain array and of a view (zarrc_view_open) holding the same
 * data, whole and window by window along axis 0.
 *
 *   bench_views ROOT array PATH whole|chunks WINDOW RUNS
 *   bench_views ROOT view SPEC.json whole|chunks WINDOW RUNS
 *
 * ROOT is the store the array / the view's layers live in. "chunks" reads consecutive slabs of
 * WINDOW rows along axis 0 (the single array's chunk height) into one reused buffer; "whole"
 * reads everything into one buffer (allocated and touched once, before timing). WINDOW may be
 * "8@31,28,31,..." : windows of 8 rows restarting at each segment boundary (the layers' own
 * chunks, for a concatenation of segments of those lengths). Prints one
 * JSON line {"seconds": median, "min": m, "max": M, "bytes": B, "checksum": C}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zarrc.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: bench_views ROOT array|view PATH|SPEC whole|chunks WINDOW RUNS\n");
        return 2;
    }
    zarrc_store *st;
    zarrc_array *a;
    if (zarrc_store_open(&st, argv[1], ZARRC_STORE_READONLY))
        return fprintf(stderr, "%s\n", zarrc_error_last()), 1;
    int rc;
    if (!strcmp(argv[2], "view")) {
        FILE *f = fopen(argv[3], "rb");
        if (!f)
            return perror(argv[3]), 1;
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *text = malloc((size_t)n + 1);
        if (!text || fread(text, 1, (size_t)n, f) != (size_t)n)
            return fprintf(stderr, "cannot read %s\n", argv[3]), 1;
        text[n] = 0;
        fclose(f);
        rc = zarrc_view_open(&a, text, st, "", ZARRC_OPEN_ALLOW_EXTERNAL);
        free(text);
    } else
        rc = zarrc_array_open(&a, st, argv[3]);
    if (rc)
        return fprintf(stderr, "%s\n", zarrc_error_last()), 1;
    int nd = zarrc_array_ndim(a), whole = !strcmp(argv[4], "whole");
    long window = atol(argv[5]), runs = atol(argv[6]);
    /* Window starts: every `window` rows, restarting at each segment boundary if given. */
    int64_t *starts = malloc(sizeof *starts * (size_t)(zarrc_array_shape(a)[0] + 1)), nst = 0;
    const char *seg = strchr(argv[5], '@');
    {
        int64_t base = 0, n0 = zarrc_array_shape(a)[0];
        while (base < n0) {
            int64_t len = n0 - base;
            if (seg) {
                len = atol(seg + 1);
                seg = strchr(seg + 1, ',');
            }
            for (int64_t s = base; s < base + len; s += window)
                starts[nst++] = s;
            base += len;
        }
        starts[nst] = n0;
    }
    const int64_t *shape = zarrc_array_shape(a);
    size_t es = zarrc_array_dtype(a)->item_size, row = es;
    for (int d = 1; d < nd; d++)
        row *= (size_t)shape[d];
    size_t total = row * (size_t)shape[0], bufsize = whole ? total : row * (size_t)window;
    unsigned char *buf = malloc(bufsize);
    if (!buf)
        return fprintf(stderr, "out of memory\n"), 1;
    memset(buf, 1, bufsize);
    double *t = calloc((size_t)runs, sizeof *t);
    unsigned long long sum = 0;
    for (long r = 0; r < runs; r++) {
        double t0 = now();
        int64_t start[32] = {0}, count[32];
        for (int d = 0; d < nd; d++)
            count[d] = shape[d];
        if (whole) {
            if (zarrc_array_read(a, start, count, NULL, buf, total))
                return fprintf(stderr, "%s\n", zarrc_error_last()), 1;
        } else {
            for (int64_t k = 0; k < nst; k++) {
                start[0] = starts[k];
                count[0] = starts[k + 1] - starts[k];
                if (zarrc_array_read(a, start, count, NULL, buf, row * (size_t)count[0]))
                    return fprintf(stderr, "%s\n", zarrc_error_last()), 1;
                sum += buf[0];
            }
        }
        t[r] = now() - t0;
        sum += buf[bufsize / 2];
    }
    qsort(t, (size_t)runs, sizeof *t, cmp);
    printf("{\"seconds\": %.6f, \"min\": %.6f, \"max\": %.6f, \"bytes\": %zu, \"checksum\": %llu}\n",
           t[runs / 2], t[0], t[runs - 1], total, sum);
    free(t);
    free(starts);
    free(buf);
    zarrc_array_free(a);
    zarrc_store_free(st);
    return 0;
}
