/*
 * wrap_store.h — the forwarding half of a test store plugin that wraps an inner memory store.
 *
 * WRAP_STORE_FORWARDERS(p, inner) defines p_open, p_close, p_get, p_set, p_erase,
 * p_erase_prefix, p_list, p_list_dir, p_size and p_version, forwarding to the store in the
 * global `inner` (opened as "memory://" by p_open, one open handle at a time, as the tests use
 * them). A plugin defines its instrumented calls itself and takes the rest from here.
 * wrap_get_into copies a value or range of a public store into a zarrc_buf.
 */
#ifndef ZARRC_TEST_WRAP_STORE_H
#define ZARRC_TEST_WRAP_STORE_H

#include <string.h>

#include "zarrc_plugin.h"

static inline int wrap_get_into(zarrc_store *inner, const char *key, int64_t off, int64_t len, zarrc_buf *out)
{
    void *d;
    size_t n;
    int rc = zarrc_store_get_range(&d, &n, inner, key, off, len);
    if (rc)
        return rc;
    rc = zarrc_buf_reserve(out, n);
    if (rc == 0 && n)
        memcpy(out->data, d, n);
    out->size = n;
    zarrc_free(d);
    return rc;
}

#define WRAP_STORE_FORWARDERS(p, inner)                                                             \
    static zarrc_store *inner;                                                                      \
    static int p##_open(void **state, const char *location, unsigned flags)                         \
    {                                                                                               \
        (void)location;                                                                             \
        (void)flags;                                                                                \
        *state = NULL;                                                                              \
        return zarrc_store_open(&inner, "memory://", 0);                                            \
    }                                                                                               \
    static void p##_close(void *state)                                                              \
    {                                                                                               \
        (void)state;                                                                                \
        zarrc_store_free(inner);                                                                    \
        inner = NULL;                                                                               \
    }                                                                                               \
    static inline int p##_get(void *state, const char *key, int64_t off, int64_t len, zarrc_buf *out) \
    {                                                                                               \
        (void)state;                                                                                \
        return wrap_get_into(inner, key, off, len, out);                                            \
    }                                                                                               \
    static inline int p##_set(void *state, const char *key, const void *data, size_t n)             \
    {                                                                                               \
        (void)state;                                                                                \
        return zarrc_store_set(inner, key, data, n);                                                \
    }                                                                                               \
    static inline int p##_erase(void *state, const char *key)                                       \
    {                                                                                               \
        (void)state;                                                                                \
        return zarrc_store_erase(inner, key);                                                       \
    }                                                                                               \
    static inline int p##_erase_prefix(void *state, const char *prefix)                             \
    {                                                                                               \
        (void)state;                                                                                \
        return zarrc_store_erase_prefix(inner, prefix);                                             \
    }                                                                                               \
    static inline int p##_list(void *state, const char *prefix, zarrc_list_cb cb, void *ctx)        \
    {                                                                                               \
        (void)state;                                                                                \
        return zarrc_store_list(inner, prefix, cb, ctx);                                            \
    }                                                                                               \
    static inline int p##_list_dir(void *state, const char *prefix, zarrc_list_cb cb, void *ctx)    \
    {                                                                                               \
        (void)state;                                                                                \
        return zarrc_store_list_dir(inner, prefix, cb, ctx);                                        \
    }                                                                                               \
    static inline int p##_size(void *state, const char *key, uint64_t *size)                        \
    {                                                                                               \
        (void)state;                                                                                \
        return zarrc_store_size(size, inner, key);                                                  \
    }                                                                                               \
    static inline int p##_version(void *state, const char *key, char *version)                      \
    {                                                                                               \
        (void)state;                                                                                \
        return zarrc_store_version(version, ZARRC_STORE_VERSION_MAX, inner, key);                   \
    }

#endif
