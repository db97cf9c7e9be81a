/*
 * codec_deflate.c — gzip (v3 core, numcodecs "gzip": RFC 1952 members) and numcodecs "zlib"
 * (RFC 1950). libdeflate does whole-buffer work when the decoded size is known; zlib's
 * streaming inflate handles unknown sizes.
 */
#include <limits.h>
#include <stdlib.h>

#include <libdeflate.h>
#include <zlib.h>

#include "codec.h"

typedef struct deflate_state {
    int level;
    bool gzip;
} deflate_state;

static int create_any(void **state, const zarrc_json *config, bool gzip)
{
    int64_t level;
    int rc = zarrc_json_opt_int(config, "level", 1, &level);
    if (rc)
        return rc;
    if (level < -1 || level > 9)
        return zarrc_error_set(ZARRC_EINVAL, "'level' must be 0-9 (or -1 for the default), got "
                               "%lld", (long long)level);
    deflate_state *s = zarrc__malloc(sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    s->level = (int)level;
    s->gzip = gzip;
    *state = s;
    return ZARRC_OK;
}

static int gzip_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    return create_any(state, config, true);
}

static int zlib_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    return create_any(state, config, false);
}

static void deflate_destroy(void *state) { free(state); }

static int deflate_to_json(const void *state, int format, zarrc_json *config)
{
    const deflate_state *s = state;
    /* Core v3 gzip allows 0-9 only; -1 is zlib's default level, 6. */
    int level = format == 3 && s->gzip && s->level < 0 ? 6 : s->level;
    return zarrc_json_put_int(config, "level", level);
}

static int deflate_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                          size_t in_size, zarrc_buf *out)
{
    const deflate_state *s = state;
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(s->level < 0 ? 6 : s->level);
    if (!c)
        return zarrc__enomem();
    size_t bound = s->gzip ? libdeflate_gzip_compress_bound(c, in_size)
                           : libdeflate_zlib_compress_bound(c, in_size);
    int rc = zarrc_buf_reserve(out, bound);
    if (rc) {
        libdeflate_free_compressor(c);
        return rc;
    }
    size_t n = s->gzip ? libdeflate_gzip_compress(c, in, in_size, out->data, bound)
                       : libdeflate_zlib_compress(c, in, in_size, out->data, bound);
    libdeflate_free_compressor(c);
    if (n == 0)
        return zarrc_error_set(ZARRC_EINTERNAL, "deflate compression did not fit its bound");
    out->size = n;
    return ZARRC_OK;
}

static bool is_gzip_magic(const uint8_t *p, size_t n)
{
    return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

static bool is_zlib_header(const uint8_t *p, size_t n)
{
    return n >= 2 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 && ((p[0] << 8) | p[1]) % 31 == 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static int size_mismatch(size_t got, size_t want)
{
    return zarrc_error_set(ZARRC_ECORRUPT, "decoded %zu bytes, expected %zu", got, want);
}

/* Known decoded size: libdeflate, member by member, straight into `out`. */
static int decode_known(const deflate_state *s, const uint8_t *in, size_t n, size_t want,
                        zarrc_buf *out)
{
    int rc = zarrc_buf_reserve(out, want);
    if (rc)
        return rc;
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    if (!d)
        return zarrc__enomem();
    size_t pos = 0, produced = 0;
    bool more = s->gzip; /* gzip: further members may follow; zlib: one stream */
    rc = ZARRC_OK;
    do {
        const uint8_t *p = in + pos;
        size_t left = n - pos, used_in = 0, used_out = 0;
        enum libdeflate_result r;
        if (is_gzip_magic(p, left))
            r = libdeflate_gzip_decompress_ex(d, p, left, out->data + produced, want - produced,
                                              &used_in, &used_out);
        else if (pos == 0 && is_zlib_header(p, left)) {
            r = libdeflate_zlib_decompress_ex(d, p, left, out->data + produced, want - produced,
                                              &used_in, &used_out);
            more = false;
        }
        else if (pos > 0 && all_zero(p, left))
            break; /* zero padding after the last member, as Python's gzip allows */
        else {
            rc = zarrc_error_set(ZARRC_ECORRUPT, pos ? "unexpected data after a gzip member"
                                                     : "not a gzip or zlib stream");
            break;
        }
        if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
            rc = zarrc_error_set(ZARRC_ECORRUPT, "decoded data exceeds the expected %zu bytes",
                                 want);
            break;
        }
        if (r != LIBDEFLATE_SUCCESS) {
            rc = zarrc_error_set(ZARRC_ECORRUPT, "invalid or truncated %s data",
                                 s->gzip ? "gzip" : "zlib");
            break;
        }
        pos += used_in;
        produced += used_out;
    } while (more && pos < n);
    libdeflate_free_decompressor(d);
    if (rc)
        return rc;
    if (produced != want)
        return size_mismatch(produced, want);
    out->size = produced;
    return ZARRC_OK;
}

/* Unknown decoded size: zlib inflate (auto-detecting gzip/zlib), growing `out`, never past
 * `limit` (once it is full, a one-byte probe tells whether more would come). */
static int decode_stream(const deflate_state *s, const uint8_t *in, size_t n, size_t limit,
                         zarrc_buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    size_t guess = n <= limit / 4 ? n * 4 + 64 : limit;
    int rc = zarrc_buf_reserve(out, guess < limit ? guess : limit);
    if (rc)
        return rc;
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return zarrc__enomem();
    size_t pos = 0, produced = 0;
    uint8_t probe;
    for (;;) {
        bool probing = produced >= limit;
        if (!probing && produced == out->capacity) {
            size_t cap = out->capacity < limit / 2 ? out->capacity * 2 : limit;
            if ((rc = zarrc_buf_reserve(out, cap)))
                goto done;
        }
        size_t in_left = n - pos, room = out->capacity < limit ? out->capacity : limit;
        size_t out_left = probing ? 1 : room - produced;
        zs.next_in = (Bytef *)(uintptr_t)(in + pos);
        zs.avail_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
        zs.next_out = probing ? &probe : out->data + produced;
        zs.avail_out = out_left > UINT_MAX ? UINT_MAX : (uInt)out_left;
        uInt avail_in0 = zs.avail_in, avail_out0 = zs.avail_out;
        int zr = inflate(&zs, Z_NO_FLUSH);
        pos += avail_in0 - zs.avail_in;
        if (probing && zs.avail_out != avail_out0) {
            rc = zarrc__codec_limit_error(limit);
            goto done;
        }
        if (!probing)
            produced += avail_out0 - zs.avail_out;
        if (zr == Z_STREAM_END) {
            if (pos == n || !s->gzip)
                break;
            if (is_gzip_magic(in + pos, n - pos)) {
                inflateReset(&zs);
                continue;
            }
            if (all_zero(in + pos, n - pos))
                break;
            rc = zarrc_error_set(ZARRC_ECORRUPT, "unexpected data after a gzip member");
            goto done;
        }
        if (zr == Z_MEM_ERROR) {
            rc = zarrc__enomem();
            goto done;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = zarrc_error_set(ZARRC_ECORRUPT, "invalid %s data (%s)", s->gzip ? "gzip" : "zlib",
                                 zs.msg ? zs.msg : "inflate error");
            goto done;
        }
        if (pos == n && zs.avail_out > 0) {
            rc = zarrc_error_set(ZARRC_ECORRUPT, "truncated %s data", s->gzip ? "gzip" : "zlib");
            goto done;
        }
    }
    out->size = produced;
done:
    inflateEnd(&zs);
    return rc;
}

static int deflate_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                          size_t in_size, zarrc_buf *out)
{
    const deflate_state *s = state;
    if (in_size == 0)
        return zarrc_error_set(ZARRC_ECORRUPT, "empty input is not a %s stream",
                               s->gzip ? "gzip" : "zlib");
    if (call->decoded_size)
        return decode_known(s, in, in_size, call->decoded_size, out);
    return decode_stream(s, in, in_size, call->max_size, out);
}

static const char *const gzip_aliases[] = {"numcodecs.gzip", NULL};

const zarrc_codec_type zarrc__codec_gzip = {
    ZARRC_CODEC_TYPE_VERSION, "gzip", "gzip", gzip_aliases, ZARRC_CODEC_BYTES_TO_BYTES,
    gzip_create, deflate_destroy, deflate_to_json, deflate_encode, deflate_decode,
};

const zarrc_codec_type zarrc__codec_zlib = {
    ZARRC_CODEC_TYPE_VERSION, "numcodecs.zlib", "zlib", NULL, ZARRC_CODEC_BYTES_TO_BYTES,
    zlib_create, deflate_destroy, deflate_to_json, deflate_encode, deflate_decode,
};
