/*
 * bench_stream.c — streaming append benchmark, zarrc side (driven by bench/bench_stream.py):
 * create an empty uint16 array [0, H, W] on the filesystem, stream N frames of H x W through
 * zarrc_stream_* and close it; print one JSON line with the time from create to close.
 *
 *   bench_stream DIR N H W CHUNK_FRAMES CODEC SHARDED [lent]
 *     CODEC: none | blosc-lz4 | blosc-zstd | zstd    SHARDED: 0 (chunks [C, H, W]) or
 *     1 (shards [C, H, W] of inner chunks [C, H/2, W/2])
 * Frames hold the zarr_benchmarks values (bench_common.h) and are generated before timing.
 * With `lent` every frame goes through zarrc_stream_append_lent (the frames' buffer outlives
 * the stream; release only counts): frames that are whole slabs are written from that buffer,
 * with no copy into the stream's queue. The JSON line then says "tool":"zarrc-lent" and how
 * many frames the writer thread released ("lent_frames": written from the caller's memory).
 */
#include <pthread.h>
#include <stdbool.h>

#include "bench_common.h"
#include "zarrc.h"

typedef struct lent_count {
    pthread_mutex_t mu;
    int64_t released, writer; /* release calls; of them from the stream's writer thread */
    pthread_t producer;
} lent_count;

static void count_release(void *ctx, const void *frame)
{
    (void)frame;
    lent_count *c = ctx;
    pthread_mutex_lock(&c->mu);
    c->released++;
    c->writer += !pthread_equal(pthread_self(), c->producer);
    pthread_mutex_unlock(&c->mu);
}

static const char *codec_json(const char *codec)
{
    if (!strcmp(codec, "none"))
        return "";
    if (!strcmp(codec, "blosc-lz4"))
        return ",{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\",\"clevel\":1,\"shuffle\":\"shuffle\","
               "\"typesize\":2,\"blocksize\":0}}";
    if (!strcmp(codec, "blosc-zstd"))
        return ",{\"name\":\"blosc\",\"configuration\":{\"cname\":\"zstd\",\"clevel\":1,\"shuffle\":\"shuffle\","
               "\"typesize\":2,\"blocksize\":0}}";
    if (!strcmp(codec, "zstd"))
        return ",{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":false}}";
    return NULL;
}

int main(int argc, char **argv)
{
    bool lent = argc == 9 && !strcmp(argv[8], "lent");
    if (argc != 8 && !lent) {
        fprintf(stderr, "usage: bench_stream DIR N H W CHUNK_FRAMES CODEC SHARDED [lent]\n");
        return 2;
    }
    const char *dir = argv[1], *codec = argv[6];
    int64_t n = atoll(argv[2]), h = atoll(argv[3]), w = atoll(argv[4]), cf = atoll(argv[5]);
    int sharded = atoi(argv[7]);
    const char *cj = codec_json(codec);
    if (!cj || n < 1 || h < 2 || w < 2 || cf < 1) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    size_t frame = (size_t)(h * w) * 2;
    uint16_t *frames = malloc(frame * (size_t)n);
    if (!frames)
        return 1;
    for (int64_t z = 0; z < n; z++) {
        int64_t st[3] = {z, 0, 0}, ct[3] = {1, h, w};
        bench_fill_box(frames + (size_t)z * (size_t)(h * w), st, ct);
    }
    char codecs[1024];
    if (sharded)
        snprintf(codecs, sizeof codecs,
                 "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[%lld,%lld,%lld],"
                 "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}%s],"
                 "\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                 "{\"name\":\"crc32c\"}],\"index_location\":\"end\"}}]",
                 (long long)cf, (long long)(h / 2), (long long)(w / 2), cj);
    else
        snprintf(codecs, sizeof codecs, "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}%s]", cj);
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    double t0 = bench_now();
    zarrc_store *s = NULL;
    zarrc_array *a = NULL;
    zarrc_stream *st = NULL;
    int64_t shape[3] = {0, h, w}, chunks[3] = {cf, h, w};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "uint16";
    o.ndim = 3;
    o.shape = shape;
    o.chunks = chunks;
    o.codecs = codecs;
    o.flags = ZARRC_OVERWRITE;
    int rc = zarrc_store_open(&s, dir, ZARRC_STORE_CREATE);
    if (!rc)
        rc = zarrc_array_create(&a, s, "", &o);
    size_t est = 0;
    if (!rc)
        rc = zarrc_stream_estimate_memory(a, NULL, &est);
    if (!rc)
        rc = zarrc_stream_open(&st, a, NULL);
    lent_count lc = {PTHREAD_MUTEX_INITIALIZER, 0, 0, pthread_self()};
    for (int64_t z = 0; !rc && z < n; z++) {
        const uint16_t *f = frames + (size_t)z * (size_t)(h * w);
        rc = lent ? zarrc_stream_append_lent(st, f, frame, count_release, &lc) : zarrc_stream_append(st, f, frame);
    }
    int rc2 = zarrc_stream_close(st);
    if (!rc)
        rc = rc2;
    double t1 = bench_now();
    getrusage(RUSAGE_SELF, &ru1);
    if (rc) {
        fprintf(stderr, "bench_stream: %s\n", zarrc_error_last());
        return 1;
    }
    /* CPU time and page faults of the timed window (all threads): less noisy than ms on a
     * loaded machine. */
    double user = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) * 1e3 +
                  (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) * 1e-3;
    double sys = (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1e3 +
                 (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) * 1e-3;
    if (lent && lc.released != n) {
        fprintf(stderr, "bench_stream: %lld release calls for %lld lent frames\n", (long long)lc.released,
                (long long)n);
        return 1;
    }
    printf("{\"tool\":\"%s\",\"lent_frames\":%lld,\"ms\":%.2f,\"user_ms\":%.1f,\"sys_ms\":%.1f,\"minflt\":%ld,"
           "\"estimate_bytes\":%zu,\"peak_rss_kib\":%ld,\"threads\":%d}\n",
           lent ? "zarrc-lent" : "zarrc", (long long)lc.writer, (t1 - t0) * 1e3, user, sys,
           ru1.ru_minflt - ru0.ru_minflt, est, bench_peak_rss_kib(), zarrc_get_num_threads());
    zarrc_array_free(a);
    zarrc_store_free(s);
    free(frames);
    return 0;
}
