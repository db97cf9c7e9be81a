/*
 * store.h — the store handle over a registered backend (zarrc_store_type), shared by the
 * node and I/O layers. Handles are reference counted so arrays keep their store alive.
 */
#ifndef ZARRC_STORE_H
#define ZARRC_STORE_H

#include "../core/core.h"

struct zarrc_store {
    const zarrc_store_type *type;
    void *state;
    unsigned flags;
    int refs; /* atomic */
    char *url;
};

/** Clip a get range (offset < 0: a suffix of -offset bytes; length < 0: to the end) to a value
 *  of `size` bytes: the bytes [*start, *start + *n). For backends. */
static inline void zarrc__store_clip(uint64_t size, int64_t offset, int64_t length, uint64_t *start, uint64_t *n)
{
    if (offset < 0) {
        *n = (uint64_t)-offset > size ? size : (uint64_t)-offset;
        *start = size - *n;
    } else {
        *start = (uint64_t)offset > size ? size : (uint64_t)offset;
        *n = length < 0 || (uint64_t)length > size - *start ? size - *start : (uint64_t)length;
    }
}

ZARRC_HIDDEN zarrc_store *zarrc__store_ref(zarrc_store *s);
ZARRC_HIDDEN void zarrc__store_unref(zarrc_store *s);

/** Whole value or range into out (out->size reset). ZARRC_ENOTFOUND if missing (no message
 *  is set for a plain miss, so callers can treat it as "fill value" cheaply). */
ZARRC_HIDDEN int zarrc__store_get(zarrc_store *s, const char *key, int64_t offset, int64_t length,
                                  zarrc_buf *out);
ZARRC_HIDDEN int zarrc__store_set(zarrc_store *s, const char *key, const void *data, size_t n);
ZARRC_HIDDEN int zarrc__store_set_if_absent(zarrc_store *s, const char *key, const void *data, size_t n);
ZARRC_HIDDEN int zarrc__store_erase(zarrc_store *s, const char *key);
ZARRC_HIDDEN int zarrc__store_erase_prefix(zarrc_store *s, const char *prefix);
ZARRC_HIDDEN int zarrc__store_list_dir(zarrc_store *s, const char *prefix, zarrc_list_cb cb, void *ctx);
ZARRC_HIDDEN int zarrc__store_list(zarrc_store *s, const char *prefix, zarrc_list_cb cb, void *ctx);
/** The canonical location of the store's data (malloc'd; NULL with ZARRC_ENOMEM raised): the
 *  backend's `canonical` member, else the store URL. Equal strings = the same data; a key
 *  `k` of the store is at location + "/" + k. */
ZARRC_HIDDEN char *zarrc__store_canonical(zarrc_store *s);
/** Whether the backend's requests have latency (ZARRC_STORE_CAP_LATENCY). */
ZARRC_HIDDEN bool zarrc__store_has_latency(const zarrc_store *s);
/** Batch read: the backend's get_many, else its get — concurrently on the I/O pool for
 *  stores with latency. Each request gets its status (ZARRC_OK or ZARRC_ENOTFOUND); any other
 *  error ends the batch and is returned with its message. */
ZARRC_HIDDEN int zarrc__store_get_many(zarrc_store *s, zarrc_get_request *reqs, size_t n);

#endif
