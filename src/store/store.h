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

/** store_s3.c: the type an open S3 handle has: without compare-and-swap (get_versioned) when
 *  its server ignores or refuses conditional writes. */
ZARRC_HIDDEN const zarrc_store_type *zarrc__s3_resolved_type(void *state);
/* The length of the archive part of a zip location "a/b.zip/g/arr" (up to the first ".zip"
 * followed by '/' that is not a directory on the filesystem), else strlen(location): what
 * follows is the node inside the archive. */
ZARRC_HIDDEN size_t zarrc__zip_split(const char *location);

ZARRC_HIDDEN zarrc_store *zarrc__store_ref(zarrc_store *s);
ZARRC_HIDDEN void zarrc__store_unref(zarrc_store *s);

/** Whole value or range into out (out->size reset). ZARRC_ENOTFOUND if missing (no message
 *  is set for a plain miss, so callers can treat it as "fill value" cheaply). */
ZARRC_HIDDEN int zarrc__store_get(zarrc_store *s, const char *key, int64_t offset, int64_t length,
                                  zarrc_buf *out);
/** Whether the backend reads values in pieces (zarrc_store_type.get_pieces, version 4). */
ZARRC_HIDDEN bool zarrc__store_has_pieces(const zarrc_store *s);
/** The whole value of `key` in consecutive pieces, as one snapshot (zarrc_store_type.get_pieces;
 *  ZARRC_EUNSUPPORTED for backends without it). `buf` (`cap` bytes) is scratch for the backend;
 *  sink gets the value's total size with every piece, and a non-zero return of it stops the
 *  read and is returned. ZARRC_ENOTFOUND if missing (no message set, sink not called). */
ZARRC_HIDDEN int zarrc__store_get_pieces(zarrc_store *s, const char *key, uint8_t *buf, size_t cap,
                                         int (*sink)(void *ctx, uint64_t total, const uint8_t *piece, size_t len),
                                         void *ctx);
ZARRC_HIDDEN int zarrc__store_set(zarrc_store *s, const char *key, const void *data, size_t n);
ZARRC_HIDDEN int zarrc__store_set_if_absent(zarrc_store *s, const char *key, const void *data, size_t n);
ZARRC_HIDDEN int zarrc__store_erase(zarrc_store *s, const char *key);
ZARRC_HIDDEN int zarrc__store_erase_prefix(zarrc_store *s, const char *prefix);
ZARRC_HIDDEN int zarrc__store_list_dir(zarrc_store *s, const char *prefix, zarrc_list_cb cb, void *ctx);
ZARRC_HIDDEN int zarrc__store_list(zarrc_store *s, const char *prefix, zarrc_list_cb cb, void *ctx);
/** Store durably (ZARRC_PUT_DURABLE): for metadata documents. */
ZARRC_HIDDEN int zarrc__store_set_durable(zarrc_store *s, const char *key, const void *data, size_t n);
/** The key's version token (ZARRC_STORE_VERSION_MAX bytes); ZARRC_EUNSUPPORTED when the backend
 *  has none, ZARRC_ENOTFOUND when the key is missing. */
ZARRC_HIDDEN int zarrc__store_version(zarrc_store *s, const char *key, char *version);

/* ---- concurrency control: one contract for every backend ----
 * A read-modify-write of a key (a partial chunk, a shard, a metadata document) runs through
 * zarrc__store_update, which serializes it against every other update or locked write of the
 * same key, in this process and others: under the backend's per-key lock (filesystem, memory),
 * or as a compare-and-swap on the key's version, retried on conflict (object stores with
 * conditional writes). Writes that replace a whole value without reading it use
 * zarrc__store_set_locked / zarrc__store_erase_locked so that they cannot fall between another
 * writer's read and write. Backends with neither give no multi-writer guarantee. */
typedef enum zarrc__store_safety {
    ZARRC_SAFETY_NONE = 0, /* single writer only */
    ZARRC_SAFETY_LOCK,     /* per-key locks */
    ZARRC_SAFETY_CAS       /* versioned get + conditional put */
} zarrc__store_safety;

ZARRC_HIDDEN zarrc__store_safety zarrc__store_safety_of(const zarrc_store *s);

typedef enum zarrc__update_action {
    ZARRC_UPDATE_NONE = 0, /* leave the key as it is */
    ZARRC_UPDATE_SET,      /* store `out` */
    ZARRC_UPDATE_ERASE     /* remove the key (only offered when can_erase) */
} zarrc__update_action;

/** Compute a key's new value from its current one (`old` NULL when missing) into `out`
 *  (empty on entry) and say what to do in *action. Called once per attempt, so it may run
 *  more than once: it must not keep effects of an earlier call. `can_erase` is 0 when the
 *  backend cannot erase conditionally: store a value instead. */
typedef int (*zarrc__update_fn)(void *ctx, const zarrc_buf *old, zarrc_buf *out, int can_erase,
                                zarrc__update_action *action);

#define ZARRC_UPDATE_DURABLE 0x1u /* store the new value durably (metadata documents) */

/** Atomic read-modify-write of `key` (see above). Errors of `fn` are returned as they are. */
ZARRC_HIDDEN int zarrc__store_update(zarrc_store *s, const char *key, unsigned flags, zarrc__update_fn fn,
                                     void *ctx);
/** The backend's lock for `key` (*lock NULL when it has none: then do nothing else). */
ZARRC_HIDDEN int zarrc__store_lock(zarrc_store *s, const char *key, void **lock);
ZARRC_HIDDEN void zarrc__store_unlock(zarrc_store *s, void *lock);
/** For compare-and-swap stores: the value with its version (version "" for other stores). */
ZARRC_HIDDEN int zarrc__store_get_versioned(zarrc_store *s, const char *key, zarrc_buf *out, char *version);
/** For compare-and-swap stores: store only if the key still has `version` (NULL: only if it
 *  is absent); ZARRC_ECONFLICT otherwise. Other stores: a plain set. */
ZARRC_HIDDEN int zarrc__store_put_if_version(zarrc_store *s, const char *key, const void *data, size_t n,
                                             const char *version);
/** Back off before retrying after a lost compare-and-swap (attempt 0, 1, ...). */
ZARRC_HIDDEN void zarrc__store_backoff(int attempt);
/** How zarrc__store_write_parts stores a value. */
typedef enum zarrc__write_mode {
    ZARRC_WRITE_PLAIN = 0, /* as zarrc__store_set */
    ZARRC_WRITE_LOCKED,    /* as zarrc__store_set_locked */
    ZARRC_WRITE_IF_VERSION /* as zarrc__store_put_if_version (`version` as there) */
} zarrc__write_mode;

/** Store the concatenation of `n` pieces as `mode` says, without joining them first when the
 *  backend has putv (the filesystem store writes them with pwritev). The pieces are only read
 *  during the call. */
ZARRC_HIDDEN int zarrc__store_write_parts(zarrc_store *s, const char *key, const zarrc_vref *parts, size_t n,
                                          zarrc__write_mode mode, const char *version);
/** Replace or remove a whole value, serialized with updates of the same key. */
ZARRC_HIDDEN int zarrc__store_set_locked(zarrc_store *s, const char *key, const void *data, size_t n);
ZARRC_HIDDEN int zarrc__store_erase_locked(zarrc_store *s, const char *key);

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
