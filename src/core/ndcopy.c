/* ndcopy.c — strided n-d copies and fills used by the I/O engine and sharding. */
#include "core.h"

#include <stdlib.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Step a pair of row pointers to the next row of an n-d box in C order (the index over
 * dimensions 0..last-1 in idx); false after the last row. */
static inline bool next_row(uint8_t **dst, const int64_t *ds, const uint8_t **src, const int64_t *ss,
                            const int64_t *count, int64_t *idx, int last)
{
    for (int d = last - 1; d >= 0; d--) {
        *dst += ds[d];
        *src += ss[d];
        if (++idx[d] < count[d])
            return true;
        *dst -= ds[d] * count[d];
        *src -= ss[d] * count[d];
        idx[d] = 0;
    }
    return false;
}

/* Copy an n-d box of `count` elements of size es between two strided layouts (byte strides). */
void zarrc__copy_box(uint8_t *dst, const int64_t *ds, const uint8_t *src, const int64_t *ss,
                     const int64_t *count, int ndim, size_t es)
{
    if (ndim == 0) {
        memcpy(dst, src, es);
        return;
    }
    int64_t idx[ZARRC_MAX_DIMS] = {0};
    int last = ndim - 1;
    int64_t n = count[last];
    for (int d = 0; d < ndim; d++)
        if (count[d] == 0)
            return;
    bool contiguous = ds[last] == (int64_t)es && ss[last] == (int64_t)es;
    size_t row = (size_t)n * es;
    /* Rows of 32, 64 or 128 bytes (an inner chunk's 32 uint16 are 64 bytes) are copied with a
     * fixed-size memcpy the compiler inlines: a libc call per row costs more than the row. */
    int fixed = contiguous && (row == 32 || row == 64 || row == 128) ? (int)row : 0;
    for (;;) {
        if (fixed == 64)
            memcpy(dst, src, 64);
        else if (fixed == 32)
            memcpy(dst, src, 32);
        else if (fixed == 128)
            memcpy(dst, src, 128);
        else if (contiguous)
            memcpy(dst, src, row);
        else if (es == 8)
            for (int64_t k = 0; k < n; k++)
                memcpy(dst + k * ds[last], src + k * ss[last], 8);
        else if (es == 4)
            for (int64_t k = 0; k < n; k++)
                memcpy(dst + k * ds[last], src + k * ss[last], 4);
        else if (es == 2)
            for (int64_t k = 0; k < n; k++)
                memcpy(dst + k * ds[last], src + k * ss[last], 2);
        else if (es == 1)
            for (int64_t k = 0; k < n; k++)
                dst[k * ds[last]] = src[k * ss[last]];
        else
            for (int64_t k = 0; k < n; k++)
                memcpy(dst + k * ds[last], src + k * ss[last], es);
        if (!next_row(&dst, ds, &src, ss, count, idx, last))
            return;
    }
}

/* One element of a strided row: a fixed-size copy the compiler inlines for the common sizes
 * (a libc call per element would cost more than the element). */
static void fill_strided_row(uint8_t *dst, int64_t step, int64_t n, const uint8_t *val, size_t es)
{
    static const uint8_t zero[16];
    if (!val && es <= sizeof zero)
        val = zero;
    if (!val) {
        for (int64_t k = 0; k < n; k++)
            memset(dst + k * step, 0, es);
        return;
    }
    switch (es) {
    case 1:
        for (int64_t k = 0; k < n; k++)
            dst[k * step] = val[0];
        break;
    case 2:
        for (int64_t k = 0; k < n; k++)
            memcpy(dst + k * step, val, 2);
        break;
    case 4:
        for (int64_t k = 0; k < n; k++)
            memcpy(dst + k * step, val, 4);
        break;
    case 8:
        for (int64_t k = 0; k < n; k++)
            memcpy(dst + k * step, val, 8);
        break;
    default:
        for (int64_t k = 0; k < n; k++)
            memcpy(dst + k * step, val, es);
    }
}

/* Fill an n-d strided box with one element value (NULL: all bytes zero). Trailing dimensions
 * that are dense in `dst` form one contiguous row: the first such row is filled by memset or
 * doubling copies, every other row is a copy of it. */
void zarrc__fill_box(uint8_t *dst, const int64_t *ds, const int64_t *count, int ndim, const uint8_t *val, size_t es)
{
    if (val) {
        size_t b = 0;
        while (b < es && val[b] == 0)
            b++;
        if (b == es)
            val = NULL;
    }
    if (ndim == 0) {
        if (val)
            memcpy(dst, val, es);
        else
            memset(dst, 0, es);
        return;
    }
    for (int d = 0; d < ndim; d++)
        if (count[d] == 0)
            return;
    int last = ndim - 1;
    bool dense_rows = ds[last] == (int64_t)es;
    /* rows: dimensions first..last when dense, else the last one alone (strided elements) */
    int first = last;
    size_t row_elems = (size_t)count[last];
    while (dense_rows && first > 0 && ds[first - 1] == ds[first] * count[first]) {
        first--;
        row_elems *= (size_t)count[first];
    }
    int64_t idx[ZARRC_MAX_DIMS] = {0};
    const uint8_t *template_row = NULL;
    size_t row_bytes = row_elems * es;
    for (;;) {
        if (!dense_rows)
            fill_strided_row(dst, ds[last], count[last], val, es);
        else if (!val)
            memset(dst, 0, row_bytes);
        else if (template_row)
            memcpy(dst, template_row, row_bytes);
        else {
            zarrc__fill_contiguous(dst, row_elems, val, es);
            template_row = dst;
        }
        int d = first - 1;
        for (; d >= 0; d--) {
            dst += ds[d];
            if (++idx[d] < count[d])
                break;
            dst -= ds[d] * count[d];
            idx[d] = 0;
        }
        if (d < 0)
            return;
    }
}

/* Fill a contiguous buffer of n elements by doubling copies. */
void zarrc__fill_contiguous(uint8_t *dst, size_t n, const uint8_t *val, size_t es)
{
    if (n == 0)
        return;
    if (!val) {
        memset(dst, 0, n * es);
        return;
    }
    memcpy(dst, val, es);
    size_t done = 1;
    while (done < n) {
        size_t k = done <= n - done ? done : n - done;
        memcpy(dst + done * es, dst, k * es);
        done += k;
    }
}

/* ---- copies into outputs larger than the cache ----
 * An ordinary store to a line that is not in cache first reads the line from memory (to own
 * it), then writes it back when it is evicted: placing a 2 GiB array as 128-byte rows moved
 * twice its size through memory, and took five times as long as the same rows stored with
 * non-temporal stores, which write whole lines without reading them. Only the 64-byte lines a
 * row covers entirely are stored so: the partial lines at a row's ends belong partly to other
 * rows (possibly another thread's), and get ordinary stores. */

#define LINE 64
#define STREAM_FLOOR ((size_t)1 << 20)

/* The smallest output placed with streaming stores: the size of a core's own (L2) cache, at
 * least 1 MiB. An output that does not fit there is not kept in cache for the caller either:
 * the last-level cache is shared with every other core of the socket (and, on a virtual
 * machine, with other tenants), so its nominal size says little about what stays in it. On the
 * machine of bench/ (2 MiB L2, a nominal 105 MiB L3), chunk-by-chunk reads of sharded arrays
 * into 4 MiB and 32 MiB outputs took 20-30 % less time with streaming stores, even with the
 * caller summing each output right after its read. ZARRC_STREAM_MIN (bytes) overrides it, so
 * that tests can run small reads through this path. */
static size_t stream_min(void)
{
    static size_t min; /* 0: not computed yet */
    size_t m = __atomic_load_n(&min, __ATOMIC_RELAXED);
    if (m)
        return m;
    const char *env = getenv("ZARRC_STREAM_MIN");
    char *end;
    unsigned long long v = env && *env ? strtoull(env, &end, 10) : 0;
    if (env && *env && *end == '\0')
        m = v ? (size_t)v : 1;
    else {
        long l2 = -1;
#ifdef _SC_LEVEL2_CACHE_SIZE
        l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
        m = l2 > 0 && (size_t)l2 > STREAM_FLOOR ? (size_t)l2 : STREAM_FLOOR;
    }
    __atomic_store_n(&min, m, __ATOMIC_RELAXED);
    return m;
}

bool zarrc__stream_output(size_t bytes)
{
#if defined(__SSE2__)
    static int off = -1;
    return bytes >= stream_min() && !zarrc__env_flag("ZARRC_NO_STREAM_STORES", &off);
#else
    (void)bytes;
    return false;
#endif
}

void zarrc__copy_stream(uint8_t *dst, const uint8_t *src, size_t n)
{
#if defined(__SSE2__)
    size_t head = (LINE - ((uintptr_t)dst & (LINE - 1))) & (LINE - 1);
    if (n < head + LINE) {
        memcpy(dst, src, n);
        return;
    }
    memcpy(dst, src, head);
    dst += head;
    src += head;
    n -= head;
    for (; n >= LINE; n -= LINE, dst += LINE, src += LINE) {
        __m128i a = _mm_loadu_si128((const __m128i *)src), b = _mm_loadu_si128((const __m128i *)(src + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(src + 32)), d = _mm_loadu_si128((const __m128i *)(src + 48));
        _mm_stream_si128((__m128i *)dst, a);
        _mm_stream_si128((__m128i *)(dst + 16), b);
        _mm_stream_si128((__m128i *)(dst + 32), c);
        _mm_stream_si128((__m128i *)(dst + 48), d);
    }
    memcpy(dst, src, n);
#else
    memcpy(dst, src, n);
#endif
}

void zarrc__stream_fence(void)
{
#if defined(__SSE2__)
    _mm_sfence();
#endif
}

void zarrc__copy_box_stream(uint8_t *dst, const int64_t *ds, const uint8_t *src, const int64_t *ss,
                            const int64_t *count, int ndim, size_t es)
{
    int last = ndim - 1;
    size_t row = ndim > 0 ? (size_t)count[last] * es : 0;
    if (ndim == 0 || row < LINE || ds[last] != (int64_t)es || ss[last] != (int64_t)es) {
        zarrc__copy_box(dst, ds, src, ss, count, ndim, es);
        return;
    }
    for (int d = 0; d < ndim; d++)
        if (count[d] == 0)
            return;
    int64_t idx[ZARRC_MAX_DIMS] = {0};
    for (;;) {
        zarrc__copy_stream(dst, src, row);
        if (!next_row(&dst, ds, &src, ss, count, idx, last))
            break;
    }
    zarrc__stream_fence();
}
