/*
 * bench_s3_limit.c — the "limit" row of bench/bench_s3.py: the same objects as bench_s3.c's
 * array (the chunk keys PREFIX/c/I/J, N/CHUNK x N/CHUNK chunks of CHUNK x CHUNK float32, the
 * same bytes) sent and fetched as raw SigV4-signed PUTs and GETs through one libcurl multi
 * handle, at most K at once — no Zarr, no codec, no copy but libcurl's into the destination,
 * payload hashes computed before the clock starts. What a client could get at best from the
 * server on this machine.
 *
 *   bench_s3_limit s3://BUCKET/PREFIX N CHUNK RUNS K
 *
 * Endpoint, credentials and region from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_REGION (path-style URLs). Per run, the four operations of
 * bench_s3: "write whole" (every chunk, K in flight), "read whole" (every chunk, K in flight,
 * checked), "write chunks" and "read chunks" (one request at a time, C order). Prints one
 * JSON line per operation with the median seconds and the median process CPU seconds
 * (user + system) of RUNS runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_common.h"

#include <curl/curl.h>
#include <openssl/sha.h>

#define BUFSZ (512L * 1024) /* as zarrc's ZARRC_HTTP_BUFFER_SIZE default */

typedef struct obj {
    char url[1024];
    char hash_hdr[96]; /* x-amz-content-sha256 of the PUT body */
    uint8_t *data;     /* the chunk's bytes (source for PUT) */
    uint8_t *dst;      /* where a GET lands */
    size_t size, pos, got;
    CURL *h;
    struct curl_slist *hdr;
} obj;

static const char *empty_hash = "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static char sigv4[128], userpwd[512];
static int writing;


static void die(const char *what)
{
    fprintf(stderr, "bench_s3_limit: %s\n", what);
    exit(1);
}

static size_t on_read(char *p, size_t sz, size_t nm, void *ud)
{
    obj *o = ud;
    size_t n = sz * nm, left = o->size - o->pos;
    if (n > left)
        n = left;
    memcpy(p, o->data + o->pos, n);
    o->pos += n;
    return n;
}

static size_t on_write(char *p, size_t sz, size_t nm, void *ud)
{
    obj *o = ud;
    size_t n = sz * nm;
    if (writing) /* a PUT's answer body: ignored */
        return n;
    if (n > o->size - o->got)
        return 0; /* more than the object: fails the transfer */
    memcpy(o->dst + o->got, p, n);
    o->got += n;
    return n;
}

static void prepare(obj *o, int put)
{
    CURL *h = o->h;
    curl_easy_reset(h); /* keeps the handle; the multi keeps the connections */
    curl_slist_free_all(o->hdr);
    o->hdr = curl_slist_append(NULL, put ? o->hash_hdr : empty_hash);
    if (!o->hdr)
        die("out of memory");
    o->pos = o->got = 0;
    curl_easy_setopt(h, CURLOPT_URL, o->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
    curl_easy_setopt(h, CURLOPT_USERPWD, userpwd);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, o->hdr);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, BUFSZ);
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, BUFSZ);
    curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, o);
    curl_easy_setopt(h, CURLOPT_PRIVATE, (char *)o);
    if (put) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, o);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)o->size);
    }
}

/* Every object once, at most k at once, through the multi m. */
static void run_all(CURLM *m, obj *objs, size_t n, int k, int put)
{
    size_t next = 0, done = 0;
    int running = 0;
    writing = put;
    while (done < n) {
        while (next < n && next - done < (size_t)k) { /* next - done: in flight */
            prepare(&objs[next], put);
            if (curl_multi_add_handle(m, objs[next].h) != CURLM_OK)
                die("curl_multi_add_handle failed");
            next++;
        }
        if (curl_multi_perform(m, &running) != CURLM_OK)
            die("curl_multi_perform failed");
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left)))
            if (msg->msg == CURLMSG_DONE) {
                CURL *h = msg->easy_handle;
                CURLcode cc = msg->data.result;
                char *priv;
                long code = 0;
                curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
                curl_multi_remove_handle(m, h);
                obj *o = (obj *)(void *)priv;
                if (cc != CURLE_OK || code < 200 || code > 299) {
                    fprintf(stderr, "bench_s3_limit: %s %s: %s, HTTP %ld\n", put ? "PUT" : "GET", o->url,
                            curl_easy_strerror(cc), code);
                    exit(1);
                }
                if (!put && o->got != o->size)
                    die("GET: short body");
                done++;
            }
        if (next < n && next - done < (size_t)k)
            continue; /* room for the next one: add it before waiting */
        if (done < n && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK)
            die("curl_multi_poll failed");
    }
}

int main(int argc, char **argv)
{
    if (argc != 6 || strncmp(argv[1], "s3://", 5)) {
        fprintf(stderr, "usage: bench_s3_limit s3://BUCKET/PREFIX N CHUNK RUNS K\n");
        return 2;
    }
    int64_t n = atoll(argv[2]), c = atoll(argv[3]);
    int runs = atoi(argv[4]), k = atoi(argv[5]);
    if (n <= 0 || c <= 0 || n % c || n > 65536 || runs <= 0 || runs > 99 || k <= 0 || k > 4096)
        return 2;
    const char *ep = getenv("AWS_ENDPOINT_URL"), *key = getenv("AWS_ACCESS_KEY_ID"),
               *secret = getenv("AWS_SECRET_ACCESS_KEY"), *region = getenv("AWS_REGION");
    if (!ep || !key || !secret)
        die("AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are needed");
    snprintf(sigv4, sizeof sigv4, "aws:amz:%s:s3", region && *region ? region : "us-east-1");
    if ((size_t)snprintf(userpwd, sizeof userpwd, "%s:%s", key, secret) >= sizeof userpwd)
        die("credentials too long");
    const char *bp = argv[1] + 5, *slash = strchr(bp, '/');
    char bucket[256], prefix[512];
    size_t bl = slash ? (size_t)(slash - bp) : strlen(bp);
    if (!bl || bl >= sizeof bucket || (slash && strlen(slash + 1) >= sizeof prefix))
        die("bad URL");
    memcpy(bucket, bp, bl);
    bucket[bl] = '\0';
    snprintf(prefix, sizeof prefix, "%s", slash ? slash + 1 : "");
    size_t plen = strlen(prefix);
    while (plen && prefix[plen - 1] == '/')
        prefix[--plen] = '\0';

    int64_t g = n / c;
    size_t nobj = (size_t)(g * g), per = (size_t)(c * c) * sizeof(float);
    obj *objs = calloc(nobj, sizeof *objs);
    uint8_t *src = malloc(nobj * per), *dst = malloc(nobj * per);
    if (!objs || !src || !dst)
        die("out of memory");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (int64_t ci = 0; ci < g; ci++)
        for (int64_t cj = 0; cj < g; cj++) {
            size_t idx = (size_t)(ci * g + cj);
            obj *o = &objs[idx];
            o->data = src + idx * per;
            o->dst = dst + idx * per;
            o->size = per;
            float *f = (float *)(void *)o->data; /* bench_s3.c's values: (i, j) -> i * N + j */
            for (int64_t i = 0; i < c; i++)
                for (int64_t j = 0; j < c; j++)
                    f[i * c + j] = (float)((ci * c + i) * n + cj * c + j);
            if ((size_t)snprintf(o->url, sizeof o->url, "%s/%s/%s%sc/%lld/%lld", ep, bucket, prefix,
                                 plen ? "/" : "", (long long)ci, (long long)cj) >= sizeof o->url)
                die("URL too long");
            unsigned char md[SHA256_DIGEST_LENGTH];
            SHA256(o->data, o->size, md);
            int off = snprintf(o->hash_hdr, sizeof o->hash_hdr, "x-amz-content-sha256: ");
            for (int b = 0; b < SHA256_DIGEST_LENGTH; b++)
                off += snprintf(o->hash_hdr + off, sizeof o->hash_hdr - (size_t)off, "%02x", md[b]);
            if (!(o->h = curl_easy_init()))
                die("curl_easy_init failed");
        }
    CURLM *m = curl_multi_init();
    if (!m)
        die("curl_multi_init failed");
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)(k > 64 ? k : 64));
    static const char *names[4] = {"write whole", "read whole", "write chunks", "read chunks"};
    double t[4][99], u[4][99];
    for (int r = 0; r < runs; r++)
        for (int op = 0; op < 4; op++) {
            int put = op == 0 || op == 2;
            if (!put)
                memset(dst, 0, nobj * per);
            double t0 = bench_now(), u0 = bench_cpu_seconds();
            run_all(m, objs, nobj, op < 2 ? k : 1, put);
            t[op][r] = bench_now() - t0;
            u[op][r] = bench_cpu_seconds() - u0;
            if (!put && memcmp(src, dst, nobj * per))
                die("read: wrong data");
        }
    for (int op = 0; op < 4; op++) {
        qsort(t[op], (size_t)runs, sizeof(double), bench_cmp_double);
        qsort(u[op], (size_t)runs, sizeof(double), bench_cmp_double);
        printf("{\"impl\": \"limit\", \"op\": \"%s\", \"s\": %.4f, \"cpu_s\": %.4f}\n", names[op], t[op][runs / 2],
               u[op][runs / 2]);
    }
    for (size_t i = 0; i < nobj; i++) {
        curl_easy_cleanup(objs[i].h);
        curl_slist_free_all(objs[i].hdr);
    }
    curl_multi_cleanup(m);
    curl_global_cleanup();
    free(objs);
    free(src);
    free(dst);
    return 0;
}
