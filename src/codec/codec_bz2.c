/*
 * codec_bz2.c — numcodecs "bz2": a standard bzip2 stream; decode accepts several concatenated
 * streams, as Python's bz2 module does.
 */
#include <limits.h>
#include <stdlib.h>

#include <bzlib.h>

#include "codec.h"

typedef struct bz2_state {
    int level;
} bz2_state;

static int bz2_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    int64_t level;
    int rc = zarrc_json_opt_int(config, "level", 1, &level);
    if (rc)
        return rc;
    if (level < 1 || level > 9)
        return zarrc_error_set(ZARRC_EINVAL, "'level' must be 1-9, got %lld", (long long)level);
    bz2_state *s = zarrc__malloc(sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    s->level = (int)level;
    *state = s;
    return ZARRC_OK;
}

static void bz2_destroy(void *state) { free(state); }

static int bz2_to_json(const void *state, int format, zarrc_json *config)
{
    const bz2_state *s = state;
    return zarrc_json_put_int(config, "level", s->level);
}

static unsigned clamp_uint(size_t n) { return n > UINT_MAX ? UINT_MAX : (unsigned)n; }

static int bz2_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                      size_t in_size, zarrc_buf *out)
{
    const bz2_state *s = state;
    /* bzip2's worst case is about 1% + 600 bytes of expansion. */
    size_t bound = in_size + in_size / 100 + 1024;
    int rc = zarrc_buf_reserve(out, bound);
    if (rc)
        return rc;
    bz_stream bz;
    memset(&bz, 0, sizeof bz);
    if (BZ2_bzCompressInit(&bz, s->level, 0, 0) != BZ_OK)
        return zarrc__enomem();
    size_t pos = 0, produced = 0;
    for (;;) {
        bz.next_in = (char *)(uintptr_t)(in + pos);
        bz.avail_in = clamp_uint(in_size - pos);
        bz.next_out = (char *)out->data + produced;
        bz.avail_out = clamp_uint(out->capacity - produced);
        unsigned ai = bz.avail_in, ao = bz.avail_out;
        int action = in_size - pos > UINT_MAX ? BZ_RUN : BZ_FINISH;
        int r = BZ2_bzCompress(&bz, action);
        pos += ai - bz.avail_in;
        produced += ao - bz.avail_out;
        if (r == BZ_STREAM_END)
            break;
        if (r != BZ_RUN_OK && r != BZ_FINISH_OK) {
            BZ2_bzCompressEnd(&bz);
            return zarrc_error_set(ZARRC_EINTERNAL, "bzip2 compression failed (code %d)", r);
        }
        if (produced == out->capacity && (rc = zarrc_buf_reserve(out, out->capacity * 2))) {
            BZ2_bzCompressEnd(&bz);
            return rc;
        }
    }
    BZ2_bzCompressEnd(&bz);
    out->size = produced;
    return ZARRC_OK;
}

static int bz2_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                      size_t in_size, zarrc_buf *out)
{
    size_t want = call->decoded_size;
    size_t limit = want ? want : call->max_size;
    size_t guess = want ? want : (in_size < ((size_t)1 << 26) ? in_size * 4 + 64 : in_size);
    int rc = zarrc_buf_reserve(out, guess < limit ? guess : limit);
    if (rc)
        return rc;
    if (in_size < 4 || memcmp(in, "BZh", 3) != 0)
        return zarrc_error_set(ZARRC_ECORRUPT, "not a bzip2 stream");
    bz_stream bz;
    memset(&bz, 0, sizeof bz);
    size_t pos = 0, produced = 0;
    uint8_t probe;
    while (pos < in_size) {
        if (pos > 0 && (in_size - pos < 4 || memcmp(in + pos, "BZh", 3) != 0))
            return zarrc_error_set(ZARRC_ECORRUPT, "unexpected data after a bzip2 stream");
        if (BZ2_bzDecompressInit(&bz, 0, 0) != BZ_OK)
            return zarrc__enomem();
        for (;;) {
            bool probing = false;
            size_t room = out->capacity < limit ? out->capacity : limit;
            if (produced >= room) {
                if (out->capacity < limit) {
                    size_t cap = out->capacity * 2;
                    if ((rc = zarrc_buf_reserve(out, cap < limit ? cap : limit)))
                        break;
                    room = out->capacity < limit ? out->capacity : limit;
                } else
                    probing = true; /* full: any further byte is too much */
            }
            bz.next_in = (char *)(uintptr_t)(in + pos);
            bz.avail_in = clamp_uint(in_size - pos);
            bz.next_out = probing ? (char *)&probe : (char *)out->data + produced;
            bz.avail_out = probing ? 1 : clamp_uint(room - produced);
            unsigned ai = bz.avail_in, ao = bz.avail_out;
            int r = BZ2_bzDecompress(&bz);
            pos += ai - bz.avail_in;
            size_t got = ao - bz.avail_out;
            if (probing && got) {
                rc = want ? zarrc_error_set(ZARRC_ECORRUPT, "bzip2 data decodes to more than the "
                                            "expected %zu bytes", want)
                          : zarrc__codec_limit_error(limit);
                break;
            }
            produced += probing ? 0 : got;
            if (r == BZ_STREAM_END)
                break;
            if (r == BZ_MEM_ERROR) {
                rc = zarrc__enomem();
                break;
            }
            if (r != BZ_OK) {
                rc = zarrc_error_set(ZARRC_ECORRUPT, "invalid bzip2 data (code %d)", r);
                break;
            }
            if (ai == bz.avail_in && got == 0 && pos == in_size) {
                rc = zarrc_error_set(ZARRC_ECORRUPT, "truncated bzip2 data");
                break;
            }
        }
        BZ2_bzDecompressEnd(&bz);
        if (rc)
            return rc;
    }
    if (want && produced != want)
        return zarrc_error_set(ZARRC_ECORRUPT, "decoded %zu bytes, expected %zu", produced, want);
    out->size = produced;
    return ZARRC_OK;
}

const zarrc_codec_type zarrc__codec_bz2 = {
    ZARRC_CODEC_TYPE_VERSION, "numcodecs.bz2", "bz2", NULL, ZARRC_CODEC_BYTES_TO_BYTES,
    bz2_create, bz2_destroy, bz2_to_json, bz2_encode, bz2_decode,
};
