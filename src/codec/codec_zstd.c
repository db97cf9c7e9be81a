/*
 * codec_zstd.c — zstd (v3 registered codec and numcodecs "zstd"): one Zstandard frame on encode;
 * any number of frames, with or without content size, on decode.
 */
#include <stdlib.h>

#include <zstd.h>
#include <zstd_errors.h>

#include "codec.h"

typedef struct zstd_state {
    int level;
    bool checksum;
} zstd_state;

static int zstd_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    int64_t level;
    int checksum, rc;
    if ((rc = zarrc_json_opt_int(config, "level", 0, &level)) ||
        (rc = zarrc_json_opt_bool(config, "checksum", 0, &checksum)))
        return rc;
    /* numcodecs clamps out-of-range levels; so does ZSTD_c_compressionLevel. */
    if (level < INT32_MIN || level > INT32_MAX)
        return zarrc_error_set(ZARRC_EINVAL, "'level' %lld is out of range", (long long)level);
    zstd_state *s = zarrc__malloc(sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    s->level = (int)level;
    s->checksum = checksum != 0;
    *state = s;
    return ZARRC_OK;
}

static void zstd_destroy(void *state) { free(state); }

static int zstd_to_json(const void *state, int format, zarrc_json *config)
{
    const zstd_state *s = state;
    int rc = zarrc_json_put_int(config, "level", s->level);
    if (rc == ZARRC_OK && (format == 3 || s->checksum))
        rc = zarrc_json_put_bool(config, "checksum", s->checksum);
    return rc;
}

/* Contexts are reused per thread: no allocation per chunk in steady state. */
static void *new_cctx(void) { return ZSTD_createCCtx(); }
static void free_cctx(void *c) { ZSTD_freeCCtx(c); }
static void *new_dctx(void) { return ZSTD_createDCtx(); }
static void free_dctx(void *d) { ZSTD_freeDCtx(d); }
static zarrc__tls_slot cctx_slot = ZARRC_TLS_SLOT(new_cctx, free_cctx);
static zarrc__tls_slot dctx_slot = ZARRC_TLS_SLOT(new_dctx, free_dctx);

static int zstd_err(const char *what, size_t code)
{
    return zarrc_error_set(ZARRC_ECORRUPT, "zstd %s: %s", what, ZSTD_getErrorName(code));
}

static int zstd_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                       size_t in_size, zarrc_buf *out)
{
    const zstd_state *s = state;
    size_t bound = ZSTD_compressBound(in_size);
    if (ZSTD_isError(bound))
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "zstd cannot compress %zu bytes", in_size);
    int rc = zarrc_buf_reserve(out, bound);
    if (rc)
        return rc;
    ZSTD_CCtx *cctx = zarrc__tls_get(&cctx_slot);
    if (!cctx)
        return zarrc__enomem();
    ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
    int level = s->level;
    if (level < ZSTD_minCLevel())
        level = ZSTD_minCLevel();
    if (level > ZSTD_maxCLevel())
        level = ZSTD_maxCLevel();
    size_t r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
    if (!ZSTD_isError(r))
        r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, s->checksum);
    if (!ZSTD_isError(r))
        r = ZSTD_compress2(cctx, out->data, bound, in, in_size);
    if (ZSTD_isError(r))
        return zarrc_error_set(ZARRC_EINTERNAL, "zstd compression failed: %s",
                               ZSTD_getErrorName(r));
    out->size = r;
    return ZARRC_OK;
}

/* Known decoded size: single shot into `out` (handles concatenated frames and frames without
 * a content size; the declared sizes are never used to allocate). */
static int decode_known(const uint8_t *in, size_t n, size_t want, zarrc_buf *out)
{
    int rc = zarrc_buf_reserve(out, want);
    if (rc)
        return rc;
    ZSTD_DCtx *d = zarrc__tls_get(&dctx_slot);
    if (!d)
        return zarrc__enomem();
    size_t r = ZSTD_decompressDCtx(d, out->data, want, in, n);
    if (ZSTD_isError(r)) {
        if (ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall)
            return zarrc_error_set(ZARRC_ECORRUPT, "zstd data decodes to more than the expected "
                                   "%zu bytes", want);
        return zstd_err("decompression failed", r);
    }
    if (r != want)
        return zarrc_error_set(ZARRC_ECORRUPT, "decoded %zu bytes, expected %zu", r, want);
    out->size = r;
    return ZARRC_OK;
}

/* Unknown decoded size: streaming, growing `out` as data actually appears, never past `limit`
 * (once it is full, a one-byte probe tells whether more would come). A declared content size
 * above `limit` fails before anything is allocated; below it, it is only a hint for the first
 * allocation, bounded by what the input could plausibly hold. */
static int decode_stream(const uint8_t *in, size_t n, size_t limit, zarrc_buf *out)
{
    if (n == 0)
        return zarrc_error_set(ZARRC_ECORRUPT, "empty input is not a zstd frame");
    unsigned long long declared = ZSTD_getFrameContentSize(in, n);
    bool has_declared = declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR;
    if (has_declared && declared > limit)
        return zarrc__codec_limit_error(limit);
    size_t guess = n <= limit / 4 ? n * 4 + 64 : limit;
    if (has_declared && declared / 16 < guess)
        guess = (size_t)declared + 1;
    if (guess > limit)
        guess = limit;
    int rc = zarrc_buf_reserve(out, guess);
    if (rc)
        return rc;
    ZSTD_DStream *d = ZSTD_createDStream();
    if (!d)
        return zarrc__enomem();
    ZSTD_inBuffer ib = {in, n, 0};
    size_t produced = 0, last = 1;
    uint8_t probe;
    while (rc == ZARRC_OK) {
        bool probing = produced >= limit;
        if (!probing && produced == out->capacity) {
            size_t cap = out->capacity < limit / 2 ? out->capacity * 2 : limit;
            if ((rc = zarrc_buf_reserve(out, cap)))
                break;
        }
        size_t room = out->capacity < limit ? out->capacity : limit;
        ZSTD_outBuffer ob = probing ? (ZSTD_outBuffer){&probe, 1, 0}
                                    : (ZSTD_outBuffer){out->data, room, produced};
        size_t in_before = ib.pos, out_before = ob.pos;
        last = ZSTD_decompressStream(d, &ob, &ib);
        if (ZSTD_isError(last)) {
            rc = zstd_err("decompression failed", last);
            break;
        }
        if (probing && ob.pos) {
            rc = zarrc__codec_limit_error(limit);
            break;
        }
        if (!probing)
            produced = ob.pos;
        if (ib.pos == ib.size && last == 0)
            break; /* every frame complete */
        if (ib.pos == in_before && ob.pos == out_before && ob.pos < ob.size) {
            rc = zarrc_error_set(ZARRC_ECORRUPT, "truncated zstd data");
            break;
        }
    }
    ZSTD_freeDStream(d);
    if (rc)
        return rc;
    out->size = produced;
    return ZARRC_OK;
}

static int zstd_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                       size_t in_size, zarrc_buf *out)
{
    if (call->decoded_size)
        return decode_known(in, in_size, call->decoded_size, out);
    return decode_stream(in, in_size, call->max_size, out);
}

/* Pieces of 128 KiB: they stay in L2 while the caller places them. */
#define PIECE (128u << 10)
static void *new_piece(void) { return zarrc__malloc(PIECE); }
static zarrc__tls_slot piece_slot = ZARRC_TLS_SLOT(new_piece, free);

static int zstd_decode_pieces(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t n,
                              int (*sink)(void *ctx, const uint8_t *piece, size_t len), void *ctx)
{
    (void)state;
    ZSTD_DCtx *d = zarrc__tls_get(&dctx_slot);
    uint8_t *piece = zarrc__tls_get(&piece_slot);
    if (!d || !piece)
        return zarrc__enomem();
    ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
    ZSTD_inBuffer ib = {in, n, 0};
    size_t total = 0, last = 1;
    while (ib.pos < ib.size || last != 0) {
        ZSTD_outBuffer ob = {piece, PIECE, 0};
        last = ZSTD_decompressStream(d, &ob, &ib);
        if (ZSTD_isError(last))
            return zstd_err("decompression failed", last);
        if (ob.pos) {
            if (total + ob.pos > call->decoded_size)
                return zarrc_error_set(ZARRC_ECORRUPT, "zstd data decodes to more than the expected %zu bytes",
                                       call->decoded_size);
            total += ob.pos;
            int rc = sink(ctx, piece, ob.pos);
            if (rc)
                return rc;
        } else if (ib.pos == ib.size && last != 0)
            return zarrc_error_set(ZARRC_ECORRUPT, "zstd data is truncated");
    }
    if (total != call->decoded_size)
        return zarrc_error_set(ZARRC_ECORRUPT, "decoded %zu bytes, expected %zu", total, call->decoded_size);
    return ZARRC_OK;
}

static const char *const zstd_aliases[] = {"numcodecs.zstd", NULL};

const zarrc_codec_type zarrc__codec_zstd = {
    ZARRC_CODEC_TYPE_VERSION, "zstd", "zstd", zstd_aliases, ZARRC_CODEC_BYTES_TO_BYTES,
    zstd_create, zstd_destroy, zstd_to_json, zstd_encode, zstd_decode, zstd_decode_pieces,
};
