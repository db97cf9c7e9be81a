/* Unit tests: strided copies, and the streaming-store copies used for outputs larger than the
 * cache (every alignment of the destination, every length around the 64-byte lines, guard
 * bytes on both sides, n-d boxes against zarrc__copy_box); n-d fills against an element model. */
#include <stdlib.h>

#include "../api/check.h"
#include "core/core.h"

#define GUARD 80

static void fill_pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 31u + seed * 7u + (i >> 8));
}

/* zarrc__copy_stream of n bytes to every offset 0..127 of a 64-byte-aligned buffer: the bytes
 * equal the source, and nothing outside [dst, dst + n) changes. */
static void test_copy_stream(void)
{
    size_t cap = 2 * GUARD + 128 + 1100;
    uint8_t *buf = aligned_alloc(64, (cap + 63) & ~(size_t)63), *src = malloc(1100 + 64);
    CHECK(buf && src);
    if (!buf || !src)
        return;
    fill_pattern(src, 1100 + 64, 3);
    int bad = 0;
    for (size_t off = 0; off < 128 && !bad; off++)
        for (size_t n = 0; n <= 1100 && !bad; n += n < 300 ? 1 : 97)
            for (size_t soff = 0; soff < 64 && !bad; soff += 13) {
                memset(buf, 0xEE, cap);
                zarrc__copy_stream(buf + GUARD + off, src + soff, n);
                zarrc__stream_fence();
                for (size_t i = 0; i < cap; i++) {
                    size_t at = GUARD + off;
                    uint8_t want = i >= at && i < at + n ? src[soff + i - at] : 0xEE;
                    if (buf[i] != want) {
                        CHECK_MSG(0, "copy_stream off %zu n %zu src+%zu: byte %zu is %u, want %u", off, n, soff,
                                  i, buf[i], want);
                        bad = 1;
                        break;
                    }
                }
            }
    free(buf);
    free(src);
}

/* An n-d box copied with zarrc__copy_box_stream equals zarrc__copy_box's result, for boxes
 * whose rows are shorter and longer than a line, contiguous or not, at misaligned origins. */
static void check_box(int nd, const int64_t *count, size_t es, size_t dst_pad, size_t origin)
{
    int64_t ds[4], ss[4];
    int64_t ext = (int64_t)es, sext = (int64_t)es;
    for (int d = nd - 1; d >= 0; d--) {
        ds[d] = ext;
        ss[d] = sext;
        ext *= count[d] + (int64_t)dst_pad;
        sext *= count[d];
    }
    size_t dbytes = (size_t)ext + origin + GUARD, sbytes = (size_t)sext;
    uint8_t *a = aligned_alloc(64, (dbytes + 63) & ~(size_t)63), *b = aligned_alloc(64, (dbytes + 63) & ~(size_t)63);
    uint8_t *src = malloc(sbytes ? sbytes : 1);
    CHECK(a && b && src);
    if (a && b && src) {
        fill_pattern(src, sbytes, (unsigned)(nd + es));
        memset(a, 0x5A, dbytes);
        memset(b, 0x5A, dbytes);
        zarrc__copy_box(a + origin, ds, src, ss, count, nd, es);
        zarrc__copy_box_stream(b + origin, ds, src, ss, count, nd, es);
        CHECK_MSG(!memcmp(a, b, dbytes), "copy_box_stream differs: nd %d row %lld es %zu pad %zu origin %zu", nd,
                  (long long)count[nd - 1], es, dst_pad, origin);
    }
    free(a);
    free(b);
    free(src);
}

static void test_copy_box_stream(void)
{
    const int64_t rows[] = {1, 16, 31, 32, 33, 64, 100, 256};
    for (size_t r = 0; r < sizeof rows / sizeof *rows; r++)
        for (size_t es = 1; es <= 8; es *= 2)
            for (size_t pad = 0; pad <= 5; pad += 5)
                for (size_t origin = 0; origin < 64; origin += 16) {
                    int64_t c2[2] = {7, rows[r]}, c3[3] = {3, 5, rows[r]};
                    check_box(2, c2, es, pad, origin);
                    check_box(3, c3, es, pad, origin);
                }
    int64_t empty[2] = {0, 64};
    check_box(2, empty, 2, 1, 16);
    /* Strided source elements: falls back to the element loop. */
    uint8_t src[64], dst[64], want[64];
    for (int i = 0; i < 64; i++)
        src[i] = (uint8_t)i;
    memset(dst, 0, sizeof dst);
    memset(want, 0, sizeof want);
    int64_t ds[1] = {1}, ss[1] = {2}, n[1] = {32};
    zarrc__copy_box(want, ds, src, ss, n, 1, 1);
    zarrc__copy_box_stream(dst, ds, src, ss, n, 1, 1);
    CHECK(!memcmp(dst, want, sizeof dst));
}

/* zarrc__fill_box against an element-by-element model: boxes inside a larger 3-d buffer (dense
 * trailing dimensions that fold into one row, gaps between rows, strided elements), element
 * sizes 1..24, zero, all-zero-bytes and patterned values; bytes outside the box untouched. */
static void test_fill_box(void)
{
    const int64_t outer[3] = {5, 6, 7};
    const size_t sizes[] = {1, 2, 3, 4, 8, 12, 16, 24};
    uint8_t *got = malloc(5 * 6 * 7 * 24 * 2), *want = malloc(5 * 6 * 7 * 24 * 2);
    CHECK(got && want);
    if (!got || !want)
        return;
    int bad = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes && !bad; si++) {
        size_t es = sizes[si];
        uint8_t val[24], zeros[24] = {0};
        for (size_t b = 0; b < es; b++)
            val[b] = (uint8_t)(0xA0 + b);
        for (int step = 1; step <= 2 && !bad; step++) /* step 2: every other element of the last axis */
            for (int vk = 0; vk < 3 && !bad; vk++) {
                const uint8_t *v = vk == 0 ? NULL : vk == 1 ? zeros : val;
                /* the buffer: outer[] elements, last axis `step` times as long */
                int64_t ds[3] = {outer[1] * outer[2] * step * (int64_t)es, outer[2] * step * (int64_t)es,
                                 step * (int64_t)es};
                size_t total = (size_t)(outer[0] * ds[0]);
                const int64_t counts[][3] = {{5, 6, 7}, {2, 6, 7}, {3, 2, 7}, {5, 6, 3}, {1, 1, 7}, {2, 3, 1}};
                for (size_t ci = 0; ci < sizeof counts / sizeof *counts && !bad; ci++) {
                    const int64_t *c = counts[ci];
                    int64_t at[3] = {outer[0] - c[0], outer[1] > c[1] ? 1 : 0, outer[2] - c[2]};
                    size_t off = (size_t)(at[0] * ds[0] + at[1] * ds[1] + at[2] * ds[2]);
                    fill_pattern(got, total, (unsigned)ci);
                    memcpy(want, got, total);
                    for (int64_t i = 0; i < c[0]; i++)
                        for (int64_t j = 0; j < c[1]; j++)
                            for (int64_t k = 0; k < c[2]; k++)
                                memcpy(want + off + i * ds[0] + j * ds[1] + k * ds[2], v ? v : zeros, es);
                    zarrc__fill_box(got + off, ds, c, 3, v, es);
                    if (memcmp(got, want, total)) {
                        CHECK_MSG(0, "fill_box es %zu step %d value %d box %lldx%lldx%lld differs", es, step, vk,
                                  (long long)c[0], (long long)c[1], (long long)c[2]);
                        bad = 1;
                    }
                }
            }
    }
    free(got);
    free(want);
}

int main(void)
{
    test_fill_box();
    test_copy_stream();
    test_copy_box_stream();
    return check_report("unit.ndcopy");
}
