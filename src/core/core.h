/*
 * core.h — internal foundation shared by every layer: errors with context, memory, strings,
 * JSON (json-c behind a thin wrapper), number formatting, base64, the thread pool.
 * Internal cross-file symbols use the zarrc__ prefix and hidden visibility.
 */
#ifndef ZARRC_CORE_H
#define ZARRC_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "zarrc.h"
#include "zarrc_plugin.h"

#if defined(__GNUC__)
#define ZARRC_HIDDEN __attribute__((visibility("hidden")))
#define ZARRC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ZARRC_HIDDEN
#define ZARRC_PRINTF(a, b)
#endif

/* ---- errors ---- */

/** Clear this thread's last error (every public entry point calls it). */
ZARRC_HIDDEN void zarrc__error_clear(void);
/** Prepend context to this thread's last error message ("array 'x': " + message) and return
 *  the current code (or `code` if no error is set). */
ZARRC_HIDDEN int zarrc__error_context(int code, const char *fmt, ...) ZARRC_PRINTF(2, 3);
/** Copy of the current error (for carrying an error across threads). */
typedef struct zarrc__error_saved {
    int code;
    char msg[1024];
} zarrc__error_saved;
ZARRC_HIDDEN void zarrc__error_save(zarrc__error_saved *e, int code);
ZARRC_HIDDEN int zarrc__error_restore(const zarrc__error_saved *e);
ZARRC_HIDDEN int zarrc__enomem(void);

/* ---- memory and strings ---- */

ZARRC_HIDDEN void *zarrc__malloc(size_t n);
ZARRC_HIDDEN void *zarrc__calloc(size_t n, size_t size);
ZARRC_HIDDEN void *zarrc__realloc(void *p, size_t n);
/** Whether the environment variable `name` is set to something other than "" or "0", read
 *  once: *cache (a static int initialised to -1) keeps the answer. Thread-safe (a race reads
 *  the variable twice, with the same result). */
ZARRC_HIDDEN bool zarrc__env_flag(const char *name, int *cache);
/** Advises the 2 MiB-aligned middle of [p, p+n) to use transparent huge pages (a no-op for
 *  n < 4 MiB, where MADV_HUGEPAGE is missing, or with ZARRC_NO_HUGEPAGES=1 in the
 *  environment, read once). For large buffers zarrc owns and reuses (the stream's ring): faulted
 *  in 2 MiB at a time instead of 4 KiB, far fewer page faults. Thread-safe. */
ZARRC_HIDDEN void zarrc__advise_huge_pages(void *p, size_t n);
ZARRC_HIDDEN char *zarrc__strdup(const char *s);
/** As zarrc__malloc / zarrc__calloc but without setting an error: for best-effort allocations
 *  whose failure the caller absorbs (caches, table growth), so that no stale "out of memory"
 *  is left behind for a call that succeeds. */
ZARRC_HIDDEN void *zarrc__try_malloc(size_t n);
ZARRC_HIDDEN void *zarrc__try_calloc(size_t n, size_t size);
/** Test hook, not part of the public API (tests/unit/test_fault.c): make the n-th allocation
 *  through the allocators above (and zarrc_buf_reserve) from now on fail, counting from 1 in
 *  every thread; n = 0 turns it off. Once it fired, later allocations fail too when
 *  `persistent`, else they succeed again. Off, it costs one relaxed atomic load per
 *  allocation. Allocations inside json-c and the codec libraries are not covered. */
ZARRC_HIDDEN void zarrc__alloc_fail_after(long n, bool persistent);
/** Allocations refused since the last zarrc__alloc_fail_after. */
ZARRC_HIDDEN long zarrc__alloc_failures(void);
/** malloc'd printf; NULL on allocation failure (error set). */
ZARRC_HIDDEN char *zarrc__sprintf(const char *fmt, ...) ZARRC_PRINTF(1, 2);
/** Multiply sizes; false on overflow. */
ZARRC_HIDDEN bool zarrc__mul_size(size_t a, size_t b, size_t *out);
ZARRC_HIDDEN int zarrc__buf_append(zarrc_buf *b, const void *data, size_t n);
/* Room for exactly n bytes (no doubling, no huge-page advice): for a buffer filled once with
 * a size known beforehand, such as a fetched range. Keeps what it holds; ZARRC_ENOMEM. */
ZARRC_HIDDEN int zarrc__buf_reserve_exact(zarrc_buf *b, size_t n);
/** Join path and key with '/' unless path is "" (result malloc'd). */
ZARRC_HIDDEN char *zarrc__path_join(const char *path, const char *key);

/* ---- JSON ---- */

#define ZJ(o) ((json_object *)(o))
#define ZJC(o) ((const zarrc_json *)(o))

/** Parse a JSON text (tolerant of bare NaN/Infinity). On failure ZARRC_EINVAL with the
 *  position, or ZARRC_EUNSUPPORTED for nesting deeper than ZARRC_MAX_JSON_DEPTH; `what` names
 *  the document in the message. */
ZARRC_HIDDEN int zarrc__json_parse(json_object **out, const char *text, size_t len, const char *what);
/** Serialize (pretty = 2-space indent as zarr-python 3 writes; else compact). malloc'd. */
ZARRC_HIDDEN char *zarrc__json_dump(json_object *o, bool pretty);
/** New double value that serializes in shortest round-trip form (NaN/Inf are not allowed). */
ZARRC_HIDDEN json_object *zarrc__json_new_double(double d);
/** Exact integer access distinguishing uint64 above INT64_MAX: *is_unsigned set in that case. */
ZARRC_HIDDEN int zarrc__json_get_integer(const json_object *o, int64_t *i, uint64_t *u, bool *is_unsigned);
ZARRC_HIDDEN json_object *zarrc__json_deep_copy(const json_object *o);

/* ---- numbers ---- */

/** Shortest text that round-trips a double / a float (no NaN/Inf handling). buf >= 32. */
ZARRC_HIDDEN void zarrc__fmt_double(char *buf, double d);
ZARRC_HIDDEN void zarrc__fmt_float(char *buf, float f);

/* ---- base64 ---- */

/** Standard alphabet with padding; result malloc'd and NUL-terminated. */
ZARRC_HIDDEN char *zarrc__base64_encode(const uint8_t *data, size_t n);
/** Decode; ZARRC_EINVAL on bad input. *out malloc'd (may be NULL for empty input). */
ZARRC_HIDDEN int zarrc__base64_decode(uint8_t **out, size_t *n, const char *text);

/* ---- byte order ---- */

ZARRC_HIDDEN bool zarrc__host_big_endian(void);
/** Reverse the bytes of each `width`-byte word of buf in place. */
ZARRC_HIDDEN void zarrc__byteswap(void *buf, size_t nwords, size_t width);

/* ---- strided n-d copies ---- */

/** Copy an n-d box of `count` elements of es bytes between two layouts given by byte strides
 *  (ndim 0 copies one element). */
ZARRC_HIDDEN void zarrc__copy_box(uint8_t *dst, const int64_t *dst_strides, const uint8_t *src,
                                  const int64_t *src_strides, const int64_t *count, int ndim, size_t es);
/** Whether copies into an output of `bytes` should use zarrc__copy_stream: it is at least a
 *  core's L2 cache and 1 MiB (or ZARRC_STREAM_MIN bytes), the CPU has streaming
 *  stores, and ZARRC_NO_STREAM_STORES is not set. Thread-safe. */
ZARRC_HIDDEN bool zarrc__stream_output(size_t bytes);
/** memcpy for a destination that should not enter the cache: the 64-byte lines wholly inside
 *  [dst, dst + n) are written with non-temporal stores. Those are weakly ordered: call
 *  zarrc__stream_fence before another thread may read the destination. */
ZARRC_HIDDEN void zarrc__copy_stream(uint8_t *dst, const uint8_t *src, size_t n);
/** Orders earlier zarrc__copy_stream stores before later stores (a no-op without SSE2). */
ZARRC_HIDDEN void zarrc__stream_fence(void);
/** zarrc__copy_box whose rows of 64 bytes or more go through zarrc__copy_stream; fenced. */
ZARRC_HIDDEN void zarrc__copy_box_stream(uint8_t *dst, const int64_t *dst_strides, const uint8_t *src,
                                         const int64_t *src_strides, const int64_t *count, int ndim, size_t es);
/** Set every element of an n-d strided box to `val` (es bytes; NULL = zero bytes). */
ZARRC_HIDDEN void zarrc__fill_box(uint8_t *dst, const int64_t *dst_strides, const int64_t *count, int ndim,
                                  const uint8_t *val, size_t es);
/** Set n contiguous elements to `val` (NULL = zero bytes). */
ZARRC_HIDDEN void zarrc__fill_contiguous(uint8_t *dst, size_t n, const uint8_t *val, size_t es);

/* ---- per-thread objects ---- */

/** A lazily created object per thread (codec contexts, scratch buffers), destroyed when the
 *  thread exits. Declare one static slot per kind: `static zarrc__tls_slot s =
 *  ZARRC_TLS_SLOT(create, destroy);`. */
typedef struct zarrc__tls_slot {
    int ready; /* atomic */
    unsigned key;
    void *(*create)(void);
    void (*destroy)(void *);
} zarrc__tls_slot;
#define ZARRC_TLS_SLOT(create, destroy) { 0, 0, create, destroy }
/** This thread's object of the slot (created on first use), or NULL if creation failed. */
ZARRC_HIDDEN void *zarrc__tls_get(zarrc__tls_slot *slot);

/* ---- thread pool ---- */

/** Run fn(ctx, i) for i in [0, n) on the shared pool (the caller participates). Returns the
 *  status of the lowest failing i (its error message restored in this thread), or ZARRC_OK.
 *  Once a task fails, tasks with higher indices are skipped. Nested calls run inline. */
typedef int (*zarrc__task_fn)(void *ctx, size_t i);
ZARRC_HIDDEN int zarrc__pool_run(size_t n, zarrc__task_fn fn, void *ctx);
/** The same on the store I/O pool (zarrc_set_io_concurrency): for requests to stores with
 *  latency, so that more of them are in flight than there are CPU threads. */
ZARRC_HIDDEN int zarrc__io_run(size_t n, zarrc__task_fn fn, void *ctx);

#endif
