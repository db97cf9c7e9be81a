/*
 * engine_mkdata.c — write the issue-15 (zarr_benchmarks) workloads with zarrc, timed, for
 * profiling the engine (bench/profile_engine.sh builds and drives it; bench/run.sh owns the
 * full peer matrix).
 *
 *   engine_mkdata DIR --encoding none|zstd0|blosclz9|sharded --shape N --chunks C [--inner I]
 *
 * v3, uint16, value (x + y·y/32 + z·z·z) mod 65536, fill 0. zstd0 = zstd level 0 (the library
 * default, as zarr_benchmarks); blosclz9 = blosc blosclz clevel 9 bitshuffle typesize 2;
 * sharded = shards of C holding inner chunks of I, each zstd 0, index crc32c at the end.
 * Prints one JSON line {"what":"write",...} (bench_common.h).
 */
#include "bench_common.h"
#include "zarrc.h"

static void check(int rc, const char *what)
{
    if (rc != ZARRC_OK) {
        fprintf(stderr, "engine_mkdata: %s: %s (%s)\n", what, zarrc_error_last(), zarrc_strerror(rc));
        exit(1);
    }
}

#define BYTES "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}"
#define ZSTD0 "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}"
#define BLOSCLZ9 "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"blosclz\",\"clevel\":9," \
                 "\"shuffle\":\"bitshuffle\",\"typesize\":2,\"blocksize\":0}}"

int main(int argc, char **argv)
{
    if (argc < 3)
        bench_die("%s", "usage: engine_mkdata DIR --encoding E --shape N --chunks C [--inner I]");
    const char *dir = argv[1], *enc = bench_opt(argc, argv, "--encoding");
    const char *shape_s = bench_opt(argc, argv, "--shape"), *chunks_s = bench_opt(argc, argv, "--chunks");
    const char *inner_s = bench_opt(argc, argv, "--inner");
    if (!enc || !shape_s || !chunks_s)
        bench_die("%s", "needs --encoding --shape --chunks");
    int64_t shape[3], chunks[3], inner[3];
    bench_parse_dims(shape_s, shape);
    bench_parse_dims(chunks_s, chunks);
    char codecs[1024];
    if (!strcmp(enc, "none"))
        snprintf(codecs, sizeof codecs, "[" BYTES "]");
    else if (!strcmp(enc, "zstd0"))
        snprintf(codecs, sizeof codecs, "[" BYTES "," ZSTD0 "]");
    else if (!strcmp(enc, "blosclz9"))
        snprintf(codecs, sizeof codecs, "[" BYTES "," BLOSCLZ9 "]");
    else if (!strcmp(enc, "sharded")) {
        if (!inner_s)
            bench_die("%s", "sharded needs --inner");
        bench_parse_dims(inner_s, inner);
        snprintf(codecs, sizeof codecs,
                 "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[%lld,%lld,%lld],"
                 "\"codecs\":[" BYTES "," ZSTD0 "],\"index_codecs\":[" BYTES ",{\"name\":\"crc32c\"}],"
                 "\"index_location\":\"end\"}}]",
                 (long long)inner[0], (long long)inner[1], (long long)inner[2]);
    } else
        bench_die("unknown encoding '%s'", enc);
    uint64_t nbytes = (uint64_t)(shape[0] * shape[1] * shape[2]) * 2;
    uint16_t *data = malloc(nbytes);
    if (!data)
        bench_die("%s", "out of memory");
    int64_t zero[3] = {0, 0, 0};
    bench_fill_box(data, zero, shape);
    double t0 = bench_now();
    zarrc_store *st;
    zarrc_array *a;
    check(zarrc_store_open(&st, dir, ZARRC_STORE_CREATE), dir);
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.format = 3;
    o.dtype = "uint16";
    o.ndim = 3;
    o.shape = shape;
    o.chunks = chunks;
    o.fill_value = "0";
    o.codecs = codecs;
    o.flags = ZARRC_OVERWRITE;
    check(zarrc_array_create(&a, st, "", &o), "create");
    check(zarrc_array_write(a, zero, shape, NULL, data, nbytes), "write");
    zarrc_array_free(a);
    zarrc_store_free(st);
    bench_print_result("write", bench_now() - t0, nbytes, bench_peak_rss_kib(), NULL);
    free(data);
    return 0;
}
