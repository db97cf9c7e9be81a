/*
 * counting.h — test helpers: a store plugin ("count://") that forwards to an inner memory store
 * and counts requests and bytes, and a bytes→bytes codec ("test.count") that passes data
 * through unchanged and counts how often it encodes and decodes.
 */
#ifndef ZARRC_TEST_COUNTING_H
#define ZARRC_TEST_COUNTING_H

#include "wrap_store.h"

typedef struct counters {
    long gets, bytes_read, sets, erases, lists, versions;
    long encodes, decodes;
} counters;

static counters cnt;
WRAP_STORE_FORWARDERS(cw, count_inner)

static int cs_get(void *state, const char *key, int64_t off, int64_t len, zarrc_buf *out)
{
    __atomic_add_fetch(&cnt.gets, 1, __ATOMIC_RELAXED);
    int rc = cw_get(state, key, off, len, out);
    if (rc == 0)
        __atomic_add_fetch(&cnt.bytes_read, (long)out->size, __ATOMIC_RELAXED);
    return rc;
}

static int cs_set(void *state, const char *key, const void *data, size_t n)
{
    __atomic_add_fetch(&cnt.sets, 1, __ATOMIC_RELAXED);
    return cw_set(state, key, data, n);
}

static int cs_erase(void *state, const char *key)
{
    __atomic_add_fetch(&cnt.erases, 1, __ATOMIC_RELAXED);
    return cw_erase(state, key);
}

static int cs_list(void *state, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    __atomic_add_fetch(&cnt.lists, 1, __ATOMIC_RELAXED);
    return cw_list(state, prefix, cb, ctx);
}

static int cs_list_dir(void *state, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    __atomic_add_fetch(&cnt.lists, 1, __ATOMIC_RELAXED);
    return cw_list_dir(state, prefix, cb, ctx);
}

static int cs_size(void *state, const char *key, uint64_t *size)
{
    __atomic_add_fetch(&cnt.gets, 1, __ATOMIC_RELAXED);
    return cw_size(state, key, size);
}

static int cs_version(void *state, const char *key, char *version)
{
    __atomic_add_fetch(&cnt.versions, 1, __ATOMIC_RELAXED);
    return cw_version(state, key, version);
}

static const zarrc_store_type counting_store = {
    ZARRC_STORE_TYPE_VERSION, "count", ZARRC_STORE_CAP_RANGE | ZARRC_STORE_CAP_LIST_DIR | ZARRC_STORE_CAP_WRITE,
    cw_open, cw_close, cs_get, NULL, cs_set, NULL, cs_erase, cw_erase_prefix, cs_list, cs_list_dir, cs_size,
    NULL, NULL, cs_version, NULL, NULL, NULL,
};

static int cc_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    (void)config;
    (void)init;
    *state = NULL;
    return 0;
}

static int cc_to_json(const void *state, int format, zarrc_json *config)
{
    (void)state;
    (void)format;
    (void)config;
    return 0;
}

static int cc_copy(const uint8_t *in, size_t n, zarrc_buf *out)
{
    int rc = zarrc_buf_reserve(out, n);
    if (rc == 0 && n)
        memcpy(out->data, in, n);
    out->size = n;
    return rc;
}

static int cc_encode(const void *s, const zarrc_codec_call *c, const uint8_t *in, size_t n, zarrc_buf *out)
{
    (void)s;
    (void)c;
    __atomic_add_fetch(&cnt.encodes, 1, __ATOMIC_RELAXED);
    return cc_copy(in, n, out);
}

static int cc_decode(const void *s, const zarrc_codec_call *c, const uint8_t *in, size_t n, zarrc_buf *out)
{
    (void)s;
    (void)c;
    __atomic_add_fetch(&cnt.decodes, 1, __ATOMIC_RELAXED);
    return cc_copy(in, n, out);
}

static const zarrc_codec_type counting_codec = {
    ZARRC_CODEC_TYPE_VERSION, "test.count", NULL, NULL, ZARRC_CODEC_BYTES_TO_BYTES,
    cc_create, NULL, cc_to_json, cc_encode, cc_decode,
};

static void counters_reset(void) { memset(&cnt, 0, sizeof cnt); }

#endif
