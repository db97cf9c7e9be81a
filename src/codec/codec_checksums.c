/*
 * codec_checksums.c — 4-byte checksum codecs: crc32c (v3 core, appended), and the numcodecs
 * crc32 / adler32 (prepended by default) and fletcher32 (appended). The checksum is stored
 * little-endian; decode verifies it and strips it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <zlib.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <nmmintrin.h>
#define HAVE_SSE42_CRC 1
#endif

#include "codec.h"

typedef enum cks_alg { ALG_CRC32C, ALG_CRC32, ALG_ADLER32, ALG_FLETCHER32 } cks_alg;

typedef struct cks_state {
    cks_alg alg;
    bool at_start;      /* checksum before the data */
    bool default_start; /* the codec's default position */
} cks_state;

/* ---- CRC-32C (Castagnoli) ---- */

static uint32_t crc32c_table[8][256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static void crc32c_init_tables(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        crc32c_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc32c_table[t][i] =
                (crc32c_table[t - 1][i] >> 8) ^ crc32c_table[0][crc32c_table[t - 1][i] & 0xff];
}

/* Slice-by-8 over the reflected CRC register `crc` (not pre/post inverted). */
static uint32_t crc32c_sw(uint32_t crc, const uint8_t *p, size_t n)
{
    pthread_once(&crc32c_once, crc32c_init_tables);
    const uint32_t(*t)[256] = (const uint32_t(*)[256])crc32c_table;
    while (n >= 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                             (uint32_t)p[3] << 24);
        uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
                      (uint32_t)p[7] << 24;
        crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
              t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
    return crc;
}

#ifdef HAVE_SSE42_CRC
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p,
                                                            size_t n)
{
    uint64_t c = crc;
    while (n && ((uintptr_t)p & 7u)) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        n--;
    }
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        n -= 8;
    }
    while (n--)
        c = _mm_crc32_u8((uint32_t)c, *p++);
    return (uint32_t)c;
}
#endif

static uint32_t crc32c(const uint8_t *p, size_t n)
{
#ifdef HAVE_SSE42_CRC
    if (__builtin_cpu_supports("sse4.2"))
        return ~crc32c_hw(0xFFFFFFFFu, p, n);
#endif
    return ~crc32c_sw(0xFFFFFFFFu, p, n);
}

/* ---- Fletcher-32 as in HDF5 / numcodecs: big-endian 16-bit words, folded every 360 ---- */

static uint32_t fletcher32(const uint8_t *p, size_t n)
{
    uint32_t s1 = 0, s2 = 0;
    size_t words = n / 2;
    while (words) {
        size_t run = words > 360 ? 360 : words;
        words -= run;
        for (size_t i = 0; i < run; i++, p += 2) {
            s1 += (uint32_t)p[0] << 8 | p[1];
            s2 += s1;
        }
        s1 = (s1 & 0xffff) + (s1 >> 16);
        s2 = (s2 & 0xffff) + (s2 >> 16);
    }
    if (n & 1) {
        s1 += (uint32_t)p[0] << 8;
        s2 += s1;
        s1 = (s1 & 0xffff) + (s1 >> 16);
        s2 = (s2 & 0xffff) + (s2 >> 16);
    }
    s1 = (s1 & 0xffff) + (s1 >> 16);
    s2 = (s2 & 0xffff) + (s2 >> 16);
    return s2 << 16 | s1;
}

static uint32_t checksum(cks_alg alg, const uint8_t *p, size_t n)
{
    switch (alg) {
    case ALG_CRC32C:
        return crc32c(p, n);
    case ALG_CRC32:
        return (uint32_t)crc32_z(0, n ? p : Z_NULL, n);
    case ALG_ADLER32:
        return (uint32_t)adler32_z(1, n ? p : Z_NULL, n);
    case ALG_FLETCHER32:
        return fletcher32(p, n);
    }
    return 0;
}

/* ---- the codec ---- */

static int create_alg(void **state, const zarrc_json *config, cks_alg alg, bool default_start)
{
    const char *loc;
    int rc = zarrc_json_opt_string(config, "location", default_start ? "start" : "end", &loc);
    if (rc)
        return rc;
    if (strcmp(loc, "start") && strcmp(loc, "end"))
        return zarrc_error_set(ZARRC_EINVAL, "'location' must be \"start\" or \"end\", got \"%s\"",
                               loc);
    bool at_start = !strcmp(loc, "start");
    if (alg == ALG_FLETCHER32 && at_start)
        return zarrc_error_set(ZARRC_EINVAL, "fletcher32 stores its checksum at the end only");
    cks_state *s = zarrc__malloc(sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    s->alg = alg;
    s->at_start = at_start;
    s->default_start = default_start;
    *state = s;
    return ZARRC_OK;
}

static int create_crc32c(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    return create_alg(state, config, ALG_CRC32C, false);
}

static int create_crc32(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    return create_alg(state, config, ALG_CRC32, true);
}

static int create_adler32(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    return create_alg(state, config, ALG_ADLER32, true);
}

static int create_fletcher32(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    return create_alg(state, config, ALG_FLETCHER32, false);
}

static void cks_destroy(void *state) { free(state); }

static int cks_to_json(const void *state, int format, zarrc_json *config)
{
    const cks_state *s = state;
    if (s->at_start != s->default_start)
        return zarrc_json_put_string(config, "location", s->at_start ? "start" : "end");
    return ZARRC_OK;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static int cks_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                      size_t in_size, zarrc_buf *out)
{
    const cks_state *s = state;
    if (in_size > SIZE_MAX - 4)
        return zarrc_error_set(ZARRC_EINVAL, "input too large");
    int rc = zarrc_buf_reserve(out, in_size + 4);
    if (rc)
        return rc;
    uint32_t v = checksum(s->alg, in, in_size);
    uint8_t *data = out->data + (s->at_start ? 4 : 0);
    if (in_size)
        memcpy(data, in, in_size);
    put_le32(s->at_start ? out->data : out->data + in_size, v);
    out->size = in_size + 4;
    return ZARRC_OK;
}

static int cks_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                      size_t in_size, zarrc_buf *out)
{
    const cks_state *s = state;
    if (in_size < 4)
        return zarrc_error_set(ZARRC_ECORRUPT,
                               "input of %zu bytes is shorter than the 4-byte checksum", in_size);
    size_t n = in_size - 4;
    const uint8_t *data = in + (s->at_start ? 4 : 0);
    const uint8_t *c = s->at_start ? in : in + n;
    uint32_t stored = (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 |
                      (uint32_t)c[3] << 24;
    uint32_t computed = checksum(s->alg, data, n);
    if (stored != computed)
        return zarrc_error_set(ZARRC_ECORRUPT, "checksum mismatch: stored 0x%08X, computed 0x%08X",
                               stored, computed);
    if (call->decoded_size && n != call->decoded_size)
        return zarrc_error_set(ZARRC_ECORRUPT, "decoded %zu bytes, expected %zu", n,
                               call->decoded_size);
    if (n > call->max_size)
        return zarrc__codec_limit_error(call->max_size);
    int rc = zarrc_buf_reserve(out, n);
    if (rc)
        return rc;
    if (n)
        memcpy(out->data, data, n);
    out->size = n;
    return ZARRC_OK;
}

#define CHECKSUM_CODEC(sym, v3name, v2id, aliases_, create_fn)                                    \
    const zarrc_codec_type sym = {ZARRC_CODEC_TYPE_VERSION, v3name,     v2id,                      \
                                  aliases_,                 ZARRC_CODEC_BYTES_TO_BYTES,           \
                                  create_fn,                cks_destroy, cks_to_json,              \
                                  cks_encode,               cks_decode}

CHECKSUM_CODEC(zarrc__codec_crc32c, "crc32c", "crc32c", NULL, create_crc32c);
CHECKSUM_CODEC(zarrc__codec_crc32, "numcodecs.crc32", "crc32", NULL, create_crc32);
CHECKSUM_CODEC(zarrc__codec_adler32, "numcodecs.adler32", "adler32", NULL, create_adler32);
CHECKSUM_CODEC(zarrc__codec_fletcher32, "numcodecs.fletcher32", "fletcher32", NULL,
               create_fletcher32);
