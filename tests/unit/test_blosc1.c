/*
 * test_blosc1.c — zarrc's own Blosc1 decoder (src/codec/blosc1.c) against c-blosc, byte for
 * byte: chunks that c-blosc compresses from random and structured buffers for every inner
 * codec, shuffle, typesize and a range of sizes and block sizes (each decoded with every
 * SIMD level: AVX2, SSE2 and scalar, where the CPU has them), the unshuffles on their own
 * against a naive reference, every Blosc1 chunk found in the shared fixtures, and corrupt
 * chunks (no crash; whatever the decoder accepts must equal what c-blosc gives).
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <blosc.h>

#include "../api/check.h"
#include "codec/blosc1.h"

static zarrc__blosc1_state st;
static int decoded_by_us, left_to_cblosc;

/* Data of n bytes of `kind`: 0 random, 1 smooth uint16-like, 2 runs, 3 zeros, 4 sparse noise. */
static void fill(uint8_t *d, size_t n, int kind)
{
    for (size_t i = 0; i < n; i++) {
        switch (kind) {
        case 0: d[i] = (uint8_t)(check_rnd() >> 24); break;
        case 1: d[i] = (uint8_t)(i % 2 ? (i / 512) & 0xff : (i * 7 / 3) & 0xff); break;
        case 2: d[i] = (uint8_t)((i / 37) % 5); break;
        case 3: d[i] = 0; break;
        default: d[i] = check_rnd() % 17 == 0 ? (uint8_t)(check_rnd() >> 40) : 0; break;
        }
    }
}

/* Decode `c` with c-blosc and with ours; they must agree. Returns ours' result. */
static int compare(const uint8_t *c, size_t csize, size_t nbytes, const char *what)
{
    uint8_t *ref = malloc(nbytes ? nbytes : 1), *got = malloc(nbytes ? nbytes : 1);
    int n = blosc_decompress_ctx(c, ref, nbytes, 1);
    int rc = zarrc__blosc1_decode(c, csize, got, nbytes, &st);
    if (rc == 0) {
        decoded_by_us++;
        CHECK_MSG(n >= 0 && (size_t)n == nbytes, "%s: we decoded a chunk c-blosc rejects (%d)", what, n);
        CHECK_MSG(n < 0 || !memcmp(ref, got, nbytes), "%s: decoded bytes differ from c-blosc's", what);
    } else {
        left_to_cblosc++;
        CHECK_MSG(rc == 1 || n < 0 || (size_t)n != nbytes, "%s: we called a chunk corrupt that c-blosc decodes",
                  what);
    }
    free(ref);
    free(got);
    return rc;
}

static void roundtrips(bool quick)
{
    static const char *const cnames[] = {"blosclz", "lz4", "lz4hc", "zstd", "zlib"};
    static const size_t sizes[] = {0, 1, 7, 15, 16, 17, 100, 127, 128, 255, 256, 1000, 4096, 4100,
                                   65536, 65537, 200000, 1 << 20};
    static const size_t typesizes[] = {1, 2, 3, 4, 8, 16, 17, 255};
    static const size_t blocksizes[] = {0, 256, 1000, 4096, 65536};
    size_t maxn = 1 << 20;
    uint8_t *src = malloc(maxn), *c = malloc(maxn + BLOSC_MAX_OVERHEAD);
    int cases = 0, handled = 0;
    for (size_t ci = 0; ci < sizeof cnames / sizeof *cnames; ci++)
        for (int shuffle = 0; shuffle <= 2; shuffle++)
            for (size_t ti = 0; ti < sizeof typesizes / sizeof *typesizes; ti++)
                for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
                    size_t n = sizes[si], ts = typesizes[ti];
                    /* the slow codecs and big sizes: fewer combinations */
                    if (n > 65537 && (quick || ts == 3 || ts >= 16 || ci >= 2))
                        continue;
                    for (size_t bi = 0; bi < sizeof blocksizes / sizeof *blocksizes; bi++) {
                        int kind = (int)((si + ti + bi + ci) % 5), clevel = 1 + (int)((si * 3 + bi) % 9);
                        fill(src, n, kind);
                        int cs = blosc_compress_ctx(clevel, shuffle, ts, n, src, c, n + BLOSC_MAX_OVERHEAD,
                                                    cnames[ci], blocksizes[bi], 1);
                        CHECK(cs > 0);
                        if (cs <= 0)
                            continue;
                        char what[160];
                        snprintf(what, sizeof what, "%s clevel %d shuffle %d typesize %zu size %zu blocksize %zu "
                                 "data %d", cnames[ci], clevel, shuffle, ts, n, blocksizes[bi], kind);
                        int rc = compare(c, (size_t)cs, n, what);
                        cases++;
                        handled += rc == 0;
                        /* everything but plain-copy chunks and the bitshuffle blocks with a
                         * partial item is ours */
                        bool memcpyed = c[2] & BLOSC_MEMCPYED;
                        CHECK_MSG(rc == 0 || memcpyed || (shuffle == 2 && n % ts), "%s: left to c-blosc (%d)",
                                  what, rc);
                    }
                }
    printf("round trips: %d chunks, %d decoded by zarrc's decoder\n", cases, handled);
    free(src);
    free(c);
}

/* The unshuffles against the definitions. */
static void unshuffles(void)
{
    static const size_t ns[] = {0, 8, 16, 24, 120, 128, 136, 256, 264, 512, 1024, 4104, 65536};
    for (size_t ts = 1; ts <= 17; ts++)
        for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++) {
            size_t n = ns[ni], len = n * ts + ts / 2;
            uint8_t *src = malloc(len + 1), *dst = malloc(len + 1), *want = malloc(len + 1), *tmp = malloc(len + 1);
            fill(src, len, 0);
            size_t q = len / ts;
            for (size_t j = 0; j < q; j++)
                for (size_t i = 0; i < ts; i++)
                    want[j * ts + i] = src[i * q + j];
            memcpy(want + q * ts, src + q * ts, len - q * ts);
            zarrc__blosc1_unshuffle(src, dst, len, ts);
            CHECK_MSG(!memcmp(dst, want, len), "unshuffle typesize %zu, %zu bytes", ts, len);
            /* bit planes: plane b*8+k holds bit k of byte b of every item, item i at bit i%8
             * of byte i/8 */
            memset(want, 0, n * ts);
            for (size_t i = 0; i < n; i++)
                for (size_t b = 0; b < ts; b++)
                    for (int k = 0; k < 8; k++)
                        if (src[(b * 8 + (size_t)k) * (n / 8) + i / 8] >> (i % 8) & 1)
                            want[i * ts + b] |= (uint8_t)(1u << k);
            zarrc__blosc1_bitunshuffle(src, dst, n, ts, tmp);
            CHECK_MSG(!memcmp(dst, want, n * ts), "bitunshuffle typesize %zu, %zu items", ts, n);
            free(src);
            free(dst);
            free(want);
            free(tmp);
        }
}

/* Corrupt chunks: random changes to valid ones; no crash, and agreement with c-blosc when we
 * accept. */
static void corrupt(void)
{
    size_t n = 20000;
    uint8_t *src = malloc(n), *c = malloc(n + BLOSC_MAX_OVERHEAD), *bad = malloc(n + BLOSC_MAX_OVERHEAD);
    static const char *const cnames[] = {"blosclz", "lz4", "zstd", "zlib"};
    for (int round = 0; round < 400; round++) {
        fill(src, n, 1 + round % 4);
        int cs = blosc_compress_ctx(9, round % 3, 1 + round % 4, n, src, c, n + BLOSC_MAX_OVERHEAD,
                                    cnames[round % 4], 1024, 1);
        if (cs <= 0)
            continue;
        memcpy(bad, c, (size_t)cs);
        int edits = 1 + (int)(check_rnd() % 4);
        for (int e = 0; e < edits; e++)
            bad[16 + check_rnd() % (size_t)(cs - 16)] ^= (uint8_t)(1u << (check_rnd() % 8));
        size_t len = round % 7 == 0 ? (size_t)cs - check_rnd() % (size_t)cs : (size_t)cs;
        uint8_t *got = malloc(n);
        int rc = zarrc__blosc1_decode(bad, len, got, n, &st);
        if (rc == 0 && len == (size_t)cs) {
            /* c-blosc only when the header is intact: it trusts cbytes */
            uint8_t *ref = malloc(n);
            int m = blosc_decompress_ctx(bad, ref, n, 1);
            CHECK_MSG(m != (int)n || !memcmp(ref, got, n), "corrupt round %d: accepted, differs from c-blosc",
                      round);
            free(ref);
        }
        free(got);
        check_count++;
    }
    free(src);
    free(c);
    free(bad);
}

/* Every file in the fixtures that is a Blosc1 chunk c-blosc accepts. */
static int fixture_chunks;
static int visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)ftw;
    if (type != FTW_F || sb->st_size < 16 || sb->st_size > (64 << 20))
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    uint8_t h[16];
    size_t got = fread(h, 1, 16, f);
    size_t cb = (size_t)h[12] | (size_t)h[13] << 8 | (size_t)h[14] << 16 | (size_t)h[15] << 24;
    if (got != 16 || (h[0] != 1 && h[0] != 2) || cb != (size_t)sb->st_size) {
        fclose(f);
        return 0;
    }
    uint8_t *c = malloc(cb);
    memcpy(c, h, 16);
    got = fread(c + 16, 1, cb - 16, f);
    fclose(f);
    size_t nbytes = 0;
    if (got == cb - 16 && blosc_cbuffer_validate(c, cb, &nbytes) == 0 && nbytes <= (256u << 20)) {
        uint8_t *ref = malloc(nbytes ? nbytes : 1);
        if (blosc_decompress_ctx(c, ref, nbytes, 1) == (int)nbytes) {
            fixture_chunks++;
            compare(c, cb, nbytes, path);
        }
        free(ref);
    }
    free(c);
    return 0;
}

int main(void)
{
    blosc_init();
    const char *shared = getenv("ZARRC_SHARED");
    char fx[4096];
    snprintf(fx, sizeof fx, "%s/fixtures", shared && *shared ? shared : "/work/shared");
    printf("SIMD: %s\n", zarrc__blosc1_simd());
    const char *lvl = getenv("ZARRC_BLOSC_SIMD");
    unshuffles();
    roundtrips(lvl != NULL);
    if (lvl) /* a child run at a lower SIMD level: what depends on it only */
        return check_report(lvl);
    corrupt();
    int before = decoded_by_us;
    nftw(fx, visit, 16, FTW_PHYS);
    printf("fixtures: %d Blosc1 chunks in %s, %d decoded by zarrc's decoder\n", fixture_chunks, fx,
           decoded_by_us - before);
    CHECK_MSG(fixture_chunks > 0, "no Blosc1 chunk found under %s", fx);
    /* The lower SIMD levels (the choice is made once per process): the same tests again in a
     * child run with ZARRC_BLOSC_SIMD set. */
    {
        static const char *const lower[] = {"sse2", "scalar"};
        char exe[4096];
        ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
        CHECK(el > 0);
        exe[el > 0 ? el : 0] = 0;
        for (int i = 0; i < 2; i++) {
            char cmd[8192];
            snprintf(cmd, sizeof cmd, "ZARRC_BLOSC_SIMD=%s '%s'", lower[i], exe);
            int rc = system(cmd);
            CHECK_MSG(rc == 0, "the run with ZARRC_BLOSC_SIMD=%s failed", lower[i]);
        }
    }
    zarrc__blosc1_state_free(&st);
    blosc_destroy();
    return check_report("test_blosc1");
}
