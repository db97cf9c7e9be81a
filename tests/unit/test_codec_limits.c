/*
 * test_codec_limits.c — every bytes→bytes codec and the vlen codecs stop at call->max_size when
 * the decoded size is unknown: exactly max_size bytes decode, one more fails with
 * ZARRC_ECORRUPT; sizes declared in headers (zstd frame content size, lz4 size prefix, blosc
 * nbytes, vlen counts) are checked before anything is allocated; a stream expanding far past
 * the bound (concatenated frames/members/streams) never grows the output past about the bound.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../api/check.h"
#include "codec/codec.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

static json_object *parse(const char *text)
{
    json_object *o = NULL;
    if (zarrc__json_parse(&o, text, strlen(text), "test") != ZARRC_OK) {
        printf("bad test JSON: %s\n", text);
        exit(2);
    }
    return o;
}

/* A codec from its v2 (numcodecs) configuration, for uint8 chunks. */
static void make(zarrc__codec *c, const char *v2)
{
    json_object *cfg = parse(v2), *id = NULL;
    json_object_object_get_ex(cfg, "id", &id);
    const zarrc_codec_type *t = zarrc__codec_find_v2(json_object_get_string(id));
    zarrc_repr r;
    memset(&r, 0, sizeof r);
    zarrc_dtype_parse(&r.dtype, "uint8");
    r.ndim = 1;
    r.shape[0] = 1000;
    if (!t || zarrc__codec_init(c, t, cfg, 2, &r, 0) != ZARRC_OK) {
        printf("cannot make codec %s: %s\n", v2, zarrc_error_last());
        exit(2);
    }
    json_object_put(cfg);
}

static const char *const codecs[] = {
    "{\"id\": \"zstd\", \"level\": 1}",
    "{\"id\": \"gzip\", \"level\": 1}",
    "{\"id\": \"zlib\", \"level\": 1}",
    "{\"id\": \"bz2\", \"level\": 1}",
    "{\"id\": \"lzma\", \"format\": 1, \"check\": -1, \"preset\": 1, \"filters\": null}",
    "{\"id\": \"lzma\", \"format\": 2, \"check\": -1, \"preset\": 1, \"filters\": null}",
    "{\"id\": \"lz4\", \"acceleration\": 1}",
    "{\"id\": \"blosc\", \"cname\": \"zstd\", \"clevel\": 1, \"shuffle\": 0, \"blocksize\": 0}",
    "{\"id\": \"crc32c\"}",
    "{\"id\": \"shuffle\", \"elementsize\": 1}",
    NULL,
};

/* Exactly max_size decodes; max_size - 1 does not. */
static void test_boundary(void)
{
    size_t n = 300 * KiB + 7;
    uint8_t *data = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t)(i % 251 < 200 ? i % 7 : check_rnd());
    for (int k = 0; codecs[k]; k++) {
        zarrc__codec c;
        make(&c, codecs[k]);
        zarrc_buf e = ZARRC_BUF_INIT, d = ZARRC_BUF_INIT;
        CHECK_OK(zarrc__codec_encode(&c, data, n, &e));
        CHECK_MSG(zarrc__codec_decode(&c, e.data, e.size, 0, n, &d) == ZARRC_OK && d.size == n &&
                      !memcmp(d.data, data, n), "%s: exactly the bound", codecs[k]);
        int rc = zarrc__codec_decode(&c, e.data, e.size, 0, n - 1, &d);
        CHECK_MSG(rc == ZARRC_ECORRUPT && strstr(zarrc_error_last(), "decoded data exceeds the 307206 bytes"),
                  "%s: one byte over the bound: rc %d", codecs[k], rc);
        /* The per-chunk limit is the default bound, and its message says how to raise it. */
        CHECK_OK(zarrc_set_max_chunk_bytes(n - 1));
        rc = zarrc__codec_decode(&c, e.data, e.size, 0, 0, &d);
        CHECK_MSG(rc == ZARRC_ECORRUPT && strstr(zarrc_error_last(), "exceeds the limit of 307206 bytes per chunk "
                                                 "(raise it with ZARRC_MAX_CHUNK_BYTES"),
                  "%s: over the per-chunk limit: rc %d", codecs[k], rc);
        CHECK_OK(zarrc_set_max_chunk_bytes(0));
        zarrc_buf_release(&e);
        zarrc_buf_release(&d);
        zarrc__codec_fini(&c);
    }
    free(data);
}

/* Concatenated frames / members / streams of zeros expand 64 times past the bound; the output
 * never grows much past it. */
static void test_expansion(void)
{
    static const char *const streaming[] = {
        "{\"id\": \"zstd\", \"level\": 1}",
        "{\"id\": \"gzip\", \"level\": 1}",
        "{\"id\": \"bz2\", \"level\": 1}",
        "{\"id\": \"lzma\", \"format\": 1, \"check\": -1, \"preset\": 1, \"filters\": null}",
        NULL,
    };
    size_t piece = 2 * MiB, copies = 256, bound = 8 * MiB;
    uint8_t *zeros = calloc(piece, 1);
    for (int k = 0; streaming[k]; k++) {
        zarrc__codec c;
        make(&c, streaming[k]);
        zarrc_buf e = ZARRC_BUF_INIT, d = ZARRC_BUF_INIT;
        CHECK_OK(zarrc__codec_encode(&c, zeros, piece, &e));
        uint8_t *bomb = malloc(e.size * copies);
        for (size_t i = 0; i < copies; i++)
            memcpy(bomb + i * e.size, e.data, e.size);
        int rc = zarrc__codec_decode(&c, bomb, e.size * copies, 0, bound, &d);
        CHECK_MSG(rc == ZARRC_ECORRUPT && strstr(zarrc_error_last(), "exceeds"), "%s: %zu bytes expanding to %zu MiB: "
                  "rc %d", streaming[k], e.size * copies, piece * copies / MiB, rc);
        CHECK_MSG(d.capacity <= 2 * bound, "%s: output grew to %zu bytes for a bound of %zu", streaming[k],
                  d.capacity, bound);
        free(bomb);
        zarrc_buf_release(&e);
        zarrc_buf_release(&d);
        zarrc__codec_fini(&c);
    }
    free(zeros);
}

/* Sizes declared in headers are checked before anything is allocated. */
static void test_declared_sizes(void)
{
    size_t n = 4 * MiB;
    uint8_t *zeros = calloc(n, 1);
    static const char *const declaring[] = {
        "{\"id\": \"zstd\", \"level\": 1}", /* frame content size */
        "{\"id\": \"lz4\", \"acceleration\": 1}", /* u32 size prefix */
        "{\"id\": \"blosc\", \"cname\": \"zstd\", \"clevel\": 1, \"shuffle\": 0, \"blocksize\": 0}", /* nbytes */
        NULL,
    };
    for (int k = 0; declaring[k]; k++) {
        zarrc__codec c;
        make(&c, declaring[k]);
        zarrc_buf e = ZARRC_BUF_INIT, d = ZARRC_BUF_INIT;
        CHECK_OK(zarrc__codec_encode(&c, zeros, n, &e));
        int rc = zarrc__codec_decode(&c, e.data, e.size, 0, MiB, &d);
        CHECK_MSG(rc == ZARRC_ECORRUPT && strstr(zarrc_error_last(), "exceeds the 1048576 bytes"), "%s: rc %d",
                  declaring[k], rc);
        CHECK_MSG(d.capacity == 0, "%s: allocated %zu bytes for a header it refused", declaring[k], d.capacity);
        zarrc_buf_release(&e);
        zarrc_buf_release(&d);
        zarrc__codec_fini(&c);
    }
    free(zeros);
}

/* vlen: the element count comes from the chunk shape; the input must be able to hold the
 * lengths before the element references are allocated, and they must fit the bound. */
static void test_vlen(void)
{
    zarrc__codec c;
    zarrc_repr r;
    memset(&r, 0, sizeof r);
    zarrc_dtype_parse(&r.dtype, "string");
    r.ndim = 1;
    r.shape[0] = 1 << 20;
    CHECK_OK(zarrc__codec_init(&c, zarrc__codec_find_v3("vlen-utf8"), NULL, 3, &r, 0));
    uint8_t hdr[8] = {0, 0, 0x10, 0, 0, 0, 0, 0}; /* count 2^20, then one length */
    zarrc_buf d = ZARRC_BUF_INIT;
    CHECK_MSG(zarrc__codec_decode(&c, hdr, sizeof hdr, 0, 0, &d) == ZARRC_ECORRUPT &&
                  strstr(zarrc_error_last(), "8 bytes cannot hold 1048576 elements") && d.capacity == 0,
              "vlen count larger than the input");
    /* 2^20 empty strings: 16 MiB of element references, over a bound of 1 MiB. */
    size_t n = 4 + 4 * ((size_t)1 << 20);
    uint8_t *in = calloc(n, 1);
    in[2] = 0x10;
    CHECK_MSG(zarrc__codec_decode(&c, in, n, 0, MiB, &d) == ZARRC_ECORRUPT && d.capacity == 0,
              "vlen references over the bound");
    CHECK_MSG(zarrc__codec_decode(&c, in, n, 0, 0, &d) == ZARRC_OK && d.size == 16 * MiB, "vlen within the limit");
    free(in);
    zarrc_buf_release(&d);
    zarrc__codec_fini(&c);
}

int main(void)
{
    test_boundary();
    test_expansion();
    test_declared_sizes();
    test_vlen();
    return check_report("test_codec_limits");
}
