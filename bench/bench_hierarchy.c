/*
 * bench_hierarchy.c — time zarrc's batch creation of a hierarchy on local disk.
 *
 *   bench_hierarchy DIR FORMAT GROUPS ARRAYS
 *
 * Creates, under a fresh DIR, the root group, GROUPS groups "g0000".. and in each ARRAYS
 * arrays "a0".. (float32 100x100, chunks 10x10, blosc lz4 shuffle / zstd: the same nodes
 * bench_hierarchy.py makes zarr-python create), with one zarrc_hierarchy_create call. The
 * spec text is built before the clock starts; parsing and validating it is timed. Prints one
 * JSON line: {"impl": "zarrc", "format": F, "nodes": N, "seconds": S, "nodes_per_s": R}.
 * Exit 1 (message on stderr) on failure, or when fewer nodes than expected are stored.
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

static const char *V2_ARRAY =
    "{\"zarr_format\":2,\"shape\":[100,100],\"chunks\":[10,10],\"dtype\":\"<f4\","
    "\"compressor\":{\"id\":\"blosc\",\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":1,\"blocksize\":0},"
    "\"fill_value\":0.0,\"filters\":null,\"order\":\"C\"}";
static const char *V3_ARRAY =
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[100,100],\"data_type\":\"float32\","
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[10,10]}},"
    "\"chunk_key_encoding\":{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}},"
    "\"fill_value\":0.0,\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
    "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}],\"attributes\":{}}";

static int count_meta(void *ctx, const char *name, int is_prefix)
{
    (void)is_prefix;
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (!strcmp(base, "zarr.json") || !strcmp(base, ".zarray") || !strcmp(base, ".zgroup"))
        (*(long *)ctx)++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_hierarchy DIR FORMAT GROUPS ARRAYS\n");
        return 2;
    }
    const char *dir = argv[1];
    int format = atoi(argv[2]);
    long groups = atol(argv[3]), arrays = atol(argv[4]);
    if ((format != 2 && format != 3) || groups < 0 || arrays < 0) {
        fprintf(stderr, "bench_hierarchy: FORMAT must be 2 or 3, counts >= 0\n");
        return 2;
    }
    const char *arr = format == 3 ? V3_ARRAY : V2_ARRAY;
    const char *grp = format == 3 ? "{\"zarr_format\":3,\"node_type\":\"group\",\"attributes\":{}}"
                                  : "{\"zarr_format\":2}";
    size_t cap = (size_t)(groups * (arrays + 1) + 1) * (strlen(arr) + 32) + 64, len = 0;
    char *spec = malloc(cap);
    if (!spec)
        return 1;
    len += (size_t)snprintf(spec + len, cap - len, "{\"\":%s", grp);
    for (long g = 0; g < groups; g++) {
        len += (size_t)snprintf(spec + len, cap - len, ",\"g%04ld\":%s", g, grp);
        for (long a = 0; a < arrays; a++)
            len += (size_t)snprintf(spec + len, cap - len, ",\"g%04ld/a%ld\":%s", g, a, arr);
    }
    snprintf(spec + len, cap - len, "}");

    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    zarrc_store *st = NULL;
    int rc = zarrc_store_open(&st, dir, ZARRC_STORE_CREATE);
    if (rc) {
        fprintf(stderr, "bench_hierarchy: %s\n", zarrc_error_last());
        return 1;
    }
    zarrc_hierarchy_report *rep = NULL;
    double t0 = now();
    rc = zarrc_hierarchy_create(&rep, st, "", spec, NULL);
    double t1 = now();
    if (rc) {
        fprintf(stderr, "bench_hierarchy: %s\n", zarrc_error_last());
        return 1;
    }
    long expected = 1 + groups * (1 + arrays), stored = 0;
    zarrc_store_list(st, "", count_meta, &stored);
    if ((long)rep->written != expected || stored != expected) {
        fprintf(stderr, "bench_hierarchy: %zu written, %ld stored, %ld expected\n", rep->written, stored,
                expected);
        return 1;
    }
    printf("{\"impl\": \"zarrc\", \"format\": %d, \"nodes\": %ld, \"threads\": %d, \"seconds\": %.6f, "
           "\"nodes_per_s\": %.1f}\n",
           format, expected, zarrc_get_num_threads(), t1 - t0, (double)expected / (t1 - t0));
    zarrc_hierarchy_report_free(rep);
    zarrc_store_free(st);
    free(spec);
    return 0;
}
