/* ndcopy.c — strided n-d copies and fills used by the I/O engine and sharding. */
#include "core.h"

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
        int d = last - 1;
        for (; d >= 0; d--) {
            dst += ds[d];
            src += ss[d];
            if (++idx[d] < count[d])
                break;
            dst -= ds[d] * count[d];
            src -= ss[d] * count[d];
            idx[d] = 0;
        }
        if (d < 0)
            return;
    }
}

/* Fill an n-d strided box with one element value. */
void zarrc__fill_box(uint8_t *dst, const int64_t *ds, const int64_t *count, int ndim, const uint8_t *val, size_t es)
{
    if (ndim == 0) {
        if (val)
            memcpy(dst, val, es);
        else
            memset(dst, 0, es);
        return;
    }
    int64_t idx[ZARRC_MAX_DIMS] = {0};
    int last = ndim - 1;
    for (int d = 0; d < ndim; d++)
        if (count[d] == 0)
            return;
    for (;;) {
        if (!val)
            for (int64_t k = 0; k < count[last]; k++)
                memset(dst + k * ds[last], 0, es);
        else
            for (int64_t k = 0; k < count[last]; k++)
                memcpy(dst + k * ds[last], val, es);
        int d = last - 1;
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

