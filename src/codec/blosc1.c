/*
 * blosc1.c — zarrc's own decoder of Blosc1 blocks (see blosc1.h).
 *
 * The Blosc1 chunk format (c-blosc's README_CHUNK_FORMAT): a 16-byte header (format version,
 * inner codec version, flags, typesize, then little-endian nbytes, blocksize, cbytes), one
 * 32-bit start offset per block, then the blocks. A block is stored as one stream, or, when
 * flag bit 4 (0x10, "do not split") is clear and the block is not the short last one, as
 * `typesize` streams of blocksize/typesize bytes each. Every stream is a 32-bit compressed
 * size followed by that many bytes; a stream whose size equals its decoded size is stored as
 * it is. Flags bits 5-7 name the inner codec (0 blosclz, 1 lz4/lz4hc, 2 snappy, 3 zlib,
 * 4 zstd); bit 0 is the byte shuffle (undone when typesize > 1), bit 2 the bit shuffle
 * (undone when the block holds a multiple of 8 items; otherwise the block is stored
 * unshuffled).
 *
 * blosclz is a byte-oriented LZ77 format derived from FastLZ level 1. Each token starts with a
 * control byte; the first token of a stream is a literal run whose control byte keeps only
 * its low 5 bits. A control byte below 32 is a literal run of ctrl+1 bytes that follow. Any
 * other is a match: its top 3 bits give the length - 2 (7 means more length bytes follow,
 * each added, until one is not 255), its low 5 bits the high byte of the distance - 1; then
 * one byte with the distance's low byte. A distance byte of 255 with high bits 31 announces a
 * far match: two more bytes (big-endian) give distance - 8192. A match copies `length` bytes
 * from `distance` bytes back, overlapping its own output when the distance is shorter. A
 * stream ends when the input ends after a literal run (a match header at the very end of the
 * input is not copied, as c-blosc does).
 */
#include "blosc1.h"

#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <zlib.h>
#include <zstd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BL_X86 1
#endif

enum { BL_HEADER = 16, BL_MAX_SPLITS = 16 };
enum { F_SHUFFLE = 0x1, F_MEMCPYED = 0x2, F_BITSHUFFLE = 0x4, F_RESERVED = 0x8, F_NOSPLIT = 0x10 };

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BL_LITTLE 1
#endif

/* v's bytes, least significant first. */
static void wr64le(uint8_t *p, uint64_t v)
{
#ifdef BL_LITTLE
    wr64(p, v);
#else
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
}

/* ---- CPU features ---- */

enum { SIMD_SCALAR = 0, SIMD_SSE2 = 1, SIMD_AVX2 = 2 };

static int simd_level(void)
{
    static int cached = -1;
    int lvl = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (lvl >= 0)
        return lvl;
    lvl = SIMD_SCALAR;
#ifdef BL_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse2"))
        lvl = SIMD_SSE2;
    if (__builtin_cpu_supports("avx2"))
        lvl = SIMD_AVX2;
#endif
    const char *env = getenv("ZARRC_BLOSC_SIMD");
    if (env && !strcmp(env, "scalar"))
        lvl = SIMD_SCALAR;
    else if (env && !strcmp(env, "sse2") && lvl > SIMD_SSE2)
        lvl = SIMD_SSE2;
    __atomic_store_n(&cached, lvl, __ATOMIC_RELAXED);
    return lvl;
}

const char *zarrc__blosc1_simd(void)
{
    static const char *const names[] = {"scalar", "sse2", "avx2"};
    return names[simd_level()];
}

/* ---- blosclz ---- */

/* Copies a match of `len` bytes from `dist` bytes back (dist >= 1), overlapping allowed; the
 * caller checked that op - dist >= the output's start and op + len <= end. */
static uint8_t *copy_match(uint8_t *op, size_t dist, size_t len, const uint8_t *end)
{
    const uint8_t *ref = op - dist;
    if (dist == 1 && len >= 64) {
        memset(op, *ref, len);
        return op + len;
    }
    bool room = (size_t)(end - op) >= len + 16; /* for copies that run up to 16 bytes past */
    if (dist < 8 && room) {
        /* A period shorter than 8: an 8-byte pattern stored every `step` bytes, step the
         * largest multiple of the period up to 8, so every store starts in phase. */
        static const uint8_t steps[8] = {0, 8, 8, 6, 8, 5, 6, 7}; /* 8 - 8 % dist */
#ifdef BL_LITTLE
        uint64_t p = rd64(ref) & ((1ull << (8 * dist)) - 1); /* ref + 8 <= op + 7: in the buffer */
        for (size_t s = dist; s < 8; s *= 2)
            p |= p << (8 * s);
#else
        uint8_t pat[8];
        for (size_t i = 0; i < 8; i++)
            pat[i] = ref[i % dist];
        uint64_t p = rd64(pat);
#endif
        size_t step = steps[dist];
        for (size_t j = 0; j < len; j += step)
            wr64(op + j, p);
        return op + len;
    }
    if (dist >= 16 && room) {
        uint8_t *stop = op + len;
        while (op < stop) {
            memcpy(op, ref, 16);
            op += 16;
            ref += 16;
        }
        return stop;
    }
    if (dist >= 8) {
        if (room) {
            uint8_t *stop = op + len;
            while (op < stop) {
                wr64(op, rd64(ref));
                op += 8;
                ref += 8;
            }
            return stop;
        }
        while (len >= 8) {
            wr64(op, rd64(ref));
            op += 8;
            ref += 8;
            len -= 8;
        }
    }
    while (len--)
        *op++ = *ref++;
    return op;
}

int zarrc__blosclz_decode(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
    if (in_len == 0)
        return out_len == 0 ? 0 : -1;
    const uint8_t *ip = in, *ip_end = in + in_len;
    uint8_t *op = out, *op_end = out + out_len;
    uint32_t ctrl = *ip++ & 31u;
    for (;;) {
        if (ctrl >= 32) {
            size_t len = (ctrl >> 5) - 1, dist = (size_t)(ctrl & 31u) << 8;
            if (len == 6) {
                uint8_t code;
                do {
                    if (ip_end - ip < 2)
                        return -1;
                    code = *ip++;
                    len += code;
                } while (code == 255);
            } else if (ip_end - ip < 2) {
                return -1;
            }
            uint8_t code = *ip++;
            len += 3;
            dist += code;
            if (code == 255 && dist == (31u << 8) + 255) { /* far match */
                if (ip_end - ip < 2)
                    return -1;
                dist = ((size_t)ip[0] << 8 | ip[1]) + 8191;
                ip += 2;
            }
            dist += 1;
            if (len > (size_t)(op_end - op) || dist > (size_t)(op - out))
                return -1;
            if (ip >= ip_end)
                break;
            ctrl = *ip++;
            op = copy_match(op, dist, len, op_end);
        } else {
            size_t len = ctrl + 1;
            if (len > (size_t)(op_end - op) || len > (size_t)(ip_end - ip))
                return -1;
            if (op_end - op >= 32 && ip_end - ip >= 32) {
                memcpy(op, ip, 32); /* one fixed-size copy for every run length */
            } else {
                memcpy(op, ip, len);
            }
            op += len;
            ip += len;
            if (ip >= ip_end)
                break;
            ctrl = *ip++;
        }
    }
    return (size_t)(op - out) == out_len ? 0 : -1;
}

/* ---- byte unshuffle ---- */

static void unshuffle_scalar(const uint8_t *src, uint8_t *dst, size_t q, size_t ts, size_t from)
{
    for (size_t j = from; j < q; j++)
        for (size_t i = 0; i < ts; i++)
            dst[j * ts + i] = src[i * q + j];
}

#ifdef BL_X86
/* Items j .. j + 16*ts - 1 for typesize 2, 4 and 8 from 16-byte pieces of each plane; returns
 * the first item left for the scalar loop. */
__attribute__((target("sse2"))) static size_t unshuffle_sse2(const uint8_t *src, uint8_t *dst, size_t q, size_t ts)
{
    size_t j = 0;
    if (ts == 2) {
        for (; j + 16 <= q; j += 16) {
            __m128i a = _mm_loadu_si128((const __m128i *)(src + j));
            __m128i b = _mm_loadu_si128((const __m128i *)(src + q + j));
            _mm_storeu_si128((__m128i *)(dst + 2 * j), _mm_unpacklo_epi8(a, b));
            _mm_storeu_si128((__m128i *)(dst + 2 * j + 16), _mm_unpackhi_epi8(a, b));
        }
    } else if (ts == 4) {
        for (; j + 16 <= q; j += 16) {
            __m128i a = _mm_loadu_si128((const __m128i *)(src + j));
            __m128i b = _mm_loadu_si128((const __m128i *)(src + q + j));
            __m128i c = _mm_loadu_si128((const __m128i *)(src + 2 * q + j));
            __m128i d = _mm_loadu_si128((const __m128i *)(src + 3 * q + j));
            __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
            __m128i cd0 = _mm_unpacklo_epi8(c, d), cd1 = _mm_unpackhi_epi8(c, d);
            uint8_t *o = dst + 4 * j;
            _mm_storeu_si128((__m128i *)o, _mm_unpacklo_epi16(ab0, cd0));
            _mm_storeu_si128((__m128i *)(o + 16), _mm_unpackhi_epi16(ab0, cd0));
            _mm_storeu_si128((__m128i *)(o + 32), _mm_unpacklo_epi16(ab1, cd1));
            _mm_storeu_si128((__m128i *)(o + 48), _mm_unpackhi_epi16(ab1, cd1));
        }
    } else if (ts == 8) {
        for (; j + 16 <= q; j += 16) {
            __m128i v[8], w[8], x[8];
            for (int k = 0; k < 8; k++)
                v[k] = _mm_loadu_si128((const __m128i *)(src + (size_t)k * q + j));
            for (int k = 0; k < 4; k++) {
                w[2 * k] = _mm_unpacklo_epi8(v[2 * k], v[2 * k + 1]);     /* items 0-7, bytes 2k,2k+1 */
                w[2 * k + 1] = _mm_unpackhi_epi8(v[2 * k], v[2 * k + 1]); /* items 8-15 */
            }
            for (int h = 0; h < 2; h++) { /* h: items 0-7 or 8-15 */
                x[4 * h + 0] = _mm_unpacklo_epi16(w[h], w[2 + h]); /* items 0-3: bytes 0-3 */
                x[4 * h + 1] = _mm_unpackhi_epi16(w[h], w[2 + h]); /* items 4-7: bytes 0-3 */
                x[4 * h + 2] = _mm_unpacklo_epi16(w[4 + h], w[6 + h]); /* items 0-3: bytes 4-7 */
                x[4 * h + 3] = _mm_unpackhi_epi16(w[4 + h], w[6 + h]);
            }
            uint8_t *o = dst + 8 * j;
            for (int h = 0; h < 2; h++) {
                _mm_storeu_si128((__m128i *)(o + 64 * h), _mm_unpacklo_epi32(x[4 * h], x[4 * h + 2]));
                _mm_storeu_si128((__m128i *)(o + 64 * h + 16), _mm_unpackhi_epi32(x[4 * h], x[4 * h + 2]));
                _mm_storeu_si128((__m128i *)(o + 64 * h + 32), _mm_unpacklo_epi32(x[4 * h + 1], x[4 * h + 3]));
                _mm_storeu_si128((__m128i *)(o + 64 * h + 48), _mm_unpackhi_epi32(x[4 * h + 1], x[4 * h + 3]));
            }
        }
    }
    return j;
}
#endif

void zarrc__blosc1_unshuffle(const uint8_t *src, uint8_t *dst, size_t len, size_t ts)
{
    if (ts <= 1) {
        memcpy(dst, src, len);
        return;
    }
    size_t q = len / ts, from = 0;
#ifdef BL_X86
    if (simd_level() >= SIMD_SSE2)
        from = unshuffle_sse2(src, dst, q, ts);
#endif
    unshuffle_scalar(src, dst, q, ts, from);
    memcpy(dst + q * ts, src + q * ts, len - q * ts);
}

/* ---- bit unshuffle ---- */

/* Transposes the 8x8 bit matrix in x: bit 8r+c goes to bit 8c+r. */
static uint64_t transpose8(uint64_t x)
{
    uint64_t t;
    t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAull;
    x ^= t ^ (t << 7);
    t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCull;
    x ^= t ^ (t << 14);
    t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ull;
    x ^= t ^ (t << 28);
    return x;
}

/* Byte b of items 8c .. 8c+7 from the 8 bit planes at `planes` (nb bytes each), for the
 * columns c = from .. nb-1: out[8c + m] bit k = planes[k*nb + c] bit m. The SIMD versions do
 * the same for whole groups of 16 / 32 columns from `from` and return the first column left. */
static void untranspose_scalar(const uint8_t *planes, size_t nb, uint8_t *out, size_t from)
{
    for (size_t c = from; c < nb; c++) {
        uint64_t x = 0;
        for (int k = 0; k < 8; k++)
            x |= (uint64_t)planes[(size_t)k * nb + c] << (8 * k);
        wr64le(out + 8 * c, transpose8(x));
    }
}

#ifdef BL_X86
#define BL_TRANSPOSE(V, SRL, SLL, XOR, AND, SET1)                                                  \
    do {                                                                                           \
        __typeof__(V) t_;                                                                          \
        t_ = AND(XOR(V, SRL(V, 7)), SET1((long long)0x00AA00AA00AA00AAull));                       \
        V = XOR(V, XOR(t_, SLL(t_, 7)));                                                           \
        t_ = AND(XOR(V, SRL(V, 14)), SET1((long long)0x0000CCCC0000CCCCull));                      \
        V = XOR(V, XOR(t_, SLL(t_, 14)));                                                          \
        t_ = AND(XOR(V, SRL(V, 28)), SET1((long long)0x00000000F0F0F0F0ull));                      \
        V = XOR(V, XOR(t_, SLL(t_, 28)));                                                          \
    } while (0)

__attribute__((target("sse2"))) static size_t untranspose_sse2(const uint8_t *planes, size_t nb, uint8_t *out, size_t c)
{
    for (; c + 16 <= nb; c += 16) {
        __m128i p[8], a[8], b[8], v[8];
        for (int k = 0; k < 8; k++)
            p[k] = _mm_loadu_si128((const __m128i *)(planes + (size_t)k * nb + c));
        for (int k = 0; k < 4; k++) {
            a[2 * k] = _mm_unpacklo_epi8(p[2 * k], p[2 * k + 1]);     /* columns 0-7 */
            a[2 * k + 1] = _mm_unpackhi_epi8(p[2 * k], p[2 * k + 1]); /* columns 8-15 */
        }
        b[0] = _mm_unpacklo_epi16(a[0], a[2]); /* columns 0-3, planes 0-3 */
        b[1] = _mm_unpackhi_epi16(a[0], a[2]); /* 4-7 */
        b[2] = _mm_unpacklo_epi16(a[1], a[3]); /* 8-11 */
        b[3] = _mm_unpackhi_epi16(a[1], a[3]); /* 12-15 */
        b[4] = _mm_unpacklo_epi16(a[4], a[6]); /* columns 0-3, planes 4-7 */
        b[5] = _mm_unpackhi_epi16(a[4], a[6]);
        b[6] = _mm_unpacklo_epi16(a[5], a[7]);
        b[7] = _mm_unpackhi_epi16(a[5], a[7]);
        for (int k = 0; k < 4; k++) {
            v[2 * k] = _mm_unpacklo_epi32(b[k], b[4 + k]);     /* columns 4k, 4k+1 */
            v[2 * k + 1] = _mm_unpackhi_epi32(b[k], b[4 + k]); /* columns 4k+2, 4k+3 */
        }
        for (int k = 0; k < 8; k++) {
            BL_TRANSPOSE(v[k], _mm_srli_epi64, _mm_slli_epi64, _mm_xor_si128, _mm_and_si128, _mm_set1_epi64x);
            _mm_storeu_si128((__m128i *)(out + 8 * c + 16 * (size_t)k), v[k]);
        }
    }
    return c;
}

__attribute__((target("avx2"))) static size_t untranspose_avx2(const uint8_t *planes, size_t nb, uint8_t *out, size_t c)
{
    for (; c + 32 <= nb; c += 32) {
        __m256i p[8], a[8], b[8], v[8];
        for (int k = 0; k < 8; k++)
            p[k] = _mm256_loadu_si256((const __m256i *)(planes + (size_t)k * nb + c));
        /* per 128-bit lane as in the SSE2 version: the low lane has columns c..c+15, the
         * high lane c+16..c+31 */
        for (int k = 0; k < 4; k++) {
            a[2 * k] = _mm256_unpacklo_epi8(p[2 * k], p[2 * k + 1]);
            a[2 * k + 1] = _mm256_unpackhi_epi8(p[2 * k], p[2 * k + 1]);
        }
        b[0] = _mm256_unpacklo_epi16(a[0], a[2]);
        b[1] = _mm256_unpackhi_epi16(a[0], a[2]);
        b[2] = _mm256_unpacklo_epi16(a[1], a[3]);
        b[3] = _mm256_unpackhi_epi16(a[1], a[3]);
        b[4] = _mm256_unpacklo_epi16(a[4], a[6]);
        b[5] = _mm256_unpackhi_epi16(a[4], a[6]);
        b[6] = _mm256_unpacklo_epi16(a[5], a[7]);
        b[7] = _mm256_unpackhi_epi16(a[5], a[7]);
        for (int k = 0; k < 4; k++) {
            v[2 * k] = _mm256_unpacklo_epi32(b[k], b[4 + k]);
            v[2 * k + 1] = _mm256_unpackhi_epi32(b[k], b[4 + k]);
        }
        for (int k = 0; k < 8; k++)
            BL_TRANSPOSE(v[k], _mm256_srli_epi64, _mm256_slli_epi64, _mm256_xor_si256, _mm256_and_si256,
                         _mm256_set1_epi64x);
        for (int k = 0; k < 8; k += 2) {
            /* v[k] low lane: columns c+2k, c+2k+1; high lane: the same + 16 */
            _mm256_storeu_si256((__m256i *)(out + 8 * c + 16 * (size_t)k),
                                _mm256_permute2x128_si256(v[k], v[k + 1], 0x20));
            _mm256_storeu_si256((__m256i *)(out + 8 * (c + 16) + 16 * (size_t)k),
                                _mm256_permute2x128_si256(v[k], v[k + 1], 0x31));
        }
    }
    return c;
}
#endif

void zarrc__blosc1_bitunshuffle(const uint8_t *src, uint8_t *dst, size_t n, size_t ts, uint8_t *tmp)
{
    size_t nb = n / 8;
    uint8_t *planes_out = ts == 1 ? dst : tmp; /* byte plane b of the items at planes_out + b*n */
#ifdef BL_X86
    int lvl = simd_level();
#endif
    for (size_t b = 0; b < ts; b++) {
        const uint8_t *planes = src + b * 8 * nb;
        uint8_t *out = planes_out + b * n;
        size_t from = 0;
#ifdef BL_X86
        if (lvl >= SIMD_AVX2)
            from = untranspose_avx2(planes, nb, out, from);
        if (lvl >= SIMD_SSE2)
            from = untranspose_sse2(planes, nb, out, from);
#endif
        untranspose_scalar(planes, nb, out, from);
    }
    if (ts > 1)
        zarrc__blosc1_unshuffle(tmp, dst, n * ts, ts);
}

/* ---- blocks ---- */

void zarrc__blosc1_state_free(zarrc__blosc1_state *st)
{
    if (!st)
        return;
    if (st->zstd_dctx)
        ZSTD_freeDCtx(st->zstd_dctx);
    st->zstd_dctx = NULL;
    zarrc_buf_release(&st->tmp);
    zarrc_buf_release(&st->tmp2);
}

bool zarrc__blosc1_block_span(const uint8_t *chunk, size_t cbytes, size_t nblocks, size_t k, size_t *b0,
                              size_t *b1)
{
    size_t table = BL_HEADER + 4 * nblocks;
    *b0 = rd32(chunk + BL_HEADER + 4 * k);
    *b1 = k + 1 < nblocks ? rd32(chunk + BL_HEADER + 4 * (k + 1)) : cbytes;
    return *b0 >= table && *b0 < *b1 && *b1 <= cbytes;
}

/* One stream of `cs` bytes into exactly `n` bytes; 0, -1 (corrupt) or 1 (not handled). */
static int decode_stream(int format, const uint8_t *src, size_t cs, uint8_t *out, size_t n,
                         zarrc__blosc1_state *st)
{
    switch (format) {
    case 0:
        return zarrc__blosclz_decode(src, cs, out, n);
    case 1: {
        if (cs > INT32_MAX || n > INT32_MAX)
            return -1;
        int got = LZ4_decompress_safe((const char *)src, (char *)out, (int)cs, (int)n);
        return got >= 0 && (size_t)got == n ? 0 : -1;
    }
    case 3: {
        uLongf got = (uLongf)n;
        if (cs > UINT32_MAX)
            return -1;
        return uncompress(out, &got, src, (uLong)cs) == Z_OK && got == n ? 0 : -1;
    }
    case 4: {
        if (!st->zstd_dctx && !(st->zstd_dctx = ZSTD_createDCtx()))
            return 1;
        size_t got = ZSTD_decompressDCtx(st->zstd_dctx, out, n, src, cs);
        return !ZSTD_isError(got) && got == n ? 0 : -1;
    }
    default: /* 2 snappy, 5-7 unassigned */
        return 1;
    }
}

int zarrc__blosc1_decode_block(const uint8_t *chunk, size_t cbytes, size_t b0, size_t b1, size_t bsize,
                               uint8_t *dst, uint8_t *tmp, uint8_t *tmp2, zarrc__blosc1_state *st)
{
    if (cbytes < BL_HEADER || b0 > b1 || b1 > cbytes)
        return -1;
    int flags = chunk[2];
    size_t ts = chunk[3], blocksize = rd32(chunk + 8);
    if ((flags & (F_MEMCPYED | F_RESERVED)) || (flags & (F_SHUFFLE | F_BITSHUFFLE)) == (F_SHUFFLE | F_BITSHUFFLE) ||
        ts == 0 || bsize > blocksize)
        return 1;
    bool leftover = bsize < blocksize;
    bool shuffle = (flags & F_SHUFFLE) && ts > 1, bitshuffle = (flags & F_BITSHUFFLE) && bsize >= ts;
    size_t nsplits = !(flags & F_NOSPLIT) && !leftover ? ts : 1;
    if (nsplits > BL_MAX_SPLITS || bsize % nsplits)
        return 1;
    if (bitshuffle && (bsize / ts) % 8 == 0 && bsize % ts)
        return 1; /* c-blosc leaves the trailing bytes of such blocks unwritten */
    size_t neblock = bsize / nsplits, pos = b0;
    uint8_t *out = shuffle || bitshuffle ? tmp : dst;
    int format = flags >> 5;
    for (size_t j = 0; j < nsplits; j++) {
        if (b1 - pos < 4)
            return -1;
        size_t cs = rd32(chunk + pos);
        pos += 4;
        if (cs > b1 - pos)
            return -1;
        if (cs == neblock) {
            memcpy(out, chunk + pos, cs);
        } else {
            int rc = decode_stream(format, chunk + pos, cs, out, neblock, st);
            if (rc)
                return rc;
        }
        pos += cs;
        out += neblock;
    }
    if (shuffle) {
        zarrc__blosc1_unshuffle(tmp, dst, bsize, ts);
    } else if (bitshuffle) {
        if ((bsize / ts) % 8 == 0)
            zarrc__blosc1_bitunshuffle(tmp, dst, bsize / ts, ts, tmp2);
        else
            memcpy(dst, tmp, bsize);
    }
    return 0;
}

int zarrc__blosc1_decode(const uint8_t *chunk, size_t size, uint8_t *dst, size_t dst_size,
                         zarrc__blosc1_state *st)
{
    if (size < BL_HEADER || (chunk[0] != 1 && chunk[0] != 2))
        return -1;
    size_t nbytes = rd32(chunk + 4), blocksize = rd32(chunk + 8), cbytes = rd32(chunk + 12);
    if (cbytes > size || cbytes < BL_HEADER || nbytes != dst_size)
        return -1;
    if (chunk[2] & F_MEMCPYED)
        return 1;
    if (nbytes == 0)
        return 0;
    if (blocksize == 0)
        return -1;
    size_t nblocks = nbytes / blocksize + (nbytes % blocksize != 0);
    if (nblocks > (cbytes - BL_HEADER) / 4)
        return -1;
    size_t bmax = blocksize < nbytes ? blocksize : nbytes;
    if (zarrc_buf_reserve(&st->tmp, bmax) || zarrc_buf_reserve(&st->tmp2, bmax))
        return 1;
    for (size_t k = 0; k < nblocks; k++) {
        size_t b0, b1;
        if (!zarrc__blosc1_block_span(chunk, cbytes, nblocks, k, &b0, &b1))
            return 1;
        size_t bsize = k + 1 < nblocks ? blocksize : nbytes - k * blocksize;
        int rc = zarrc__blosc1_decode_block(chunk, cbytes, b0, b1, bsize, dst + k * blocksize, st->tmp.data,
                                            st->tmp2.data, st);
        if (rc)
            return rc;
    }
    return 0;
}
