/*
 * codec_blosc.c — blosc (v3 core and numcodecs v2): c-blosc 1.x chunks. Encoding goes through
 * the system library's context API, one internal thread (we run inside our own pool);
 * decoding through zarrc's own Blosc1 block decoder (blosc1.c), with c-blosc as the fallback
 * for whatever that decoder leaves (snappy, plain-copy chunks, blocks out of order, unusual
 * flags) or calls corrupt (c-blosc then has the last word and reports).
 */
#include <stdio.h>
#include <stdlib.h>

#include <blosc.h>

#include "blosc1.h"
#include "codec.h"

enum { SHUF_AUTO = -1, SHUF_NONE = 0, SHUF_BYTE = 1, SHUF_BIT = 2 };

typedef struct bl_state {
    char cname[16];
    int clevel;
    int shuffle;       /* as configured (v2 may say -1 = auto) */
    int eff_shuffle;   /* resolved for typesize */
    size_t typesize;
    size_t blocksize;
} bl_state;

static const char *const cnames[] = {"blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd", NULL};
static const char *const shuffle_names[] = {"noshuffle", "shuffle", "bitshuffle"};

/* Inner codec format stored in header flag bits 5-7. */
static const char *format_cname(int fmt)
{
    switch (fmt) {
    case 0: return "blosclz";
    case 1: return "lz4";
    case 2: return "snappy";
    case 3: return "zlib";
    case 4: return "zstd";
    default: return NULL;
    }
}

static bool cname_available(const char *cname)
{
    return blosc_compname_to_compcode(cname) >= 0;
}

static int parse_shuffle(const zarrc_json *v, int *out)
{
    const char *s = zarrc_json_string(v);
    if (s) {
        for (int i = 0; i < 3; i++)
            if (!strcmp(s, shuffle_names[i])) {
                *out = i;
                return ZARRC_OK;
            }
        return zarrc_error_set(ZARRC_EINVAL,
                               "'shuffle' must be \"noshuffle\", \"shuffle\" or \"bitshuffle\", "
                               "got \"%s\"", s);
    }
    int64_t i;
    if (zarrc_json_int(v, &i) != ZARRC_OK)
        return zarrc_error_set(ZARRC_EINVAL, "'shuffle' must be a string or an integer");
    if (i < -1 || i > 2)
        return zarrc_error_set(ZARRC_EINVAL, "'shuffle' must be -1, 0, 1 or 2, got %lld",
                               (long long)i);
    *out = (int)i;
    return ZARRC_OK;
}

static int bl_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    const char *cname;
    int64_t clevel, blocksize, typesize = 0;
    int rc;
    if ((rc = zarrc_json_opt_string(config, "cname", "lz4", &cname)) ||
        (rc = zarrc_json_opt_int(config, "clevel", 5, &clevel)) ||
        (rc = zarrc_json_opt_int(config, "blocksize", 0, &blocksize)))
        return rc;
    bool known = false;
    for (int i = 0; cnames[i]; i++)
        known |= !strcmp(cname, cnames[i]);
    if (!known)
        return zarrc_error_set(ZARRC_EINVAL,
                               "unknown 'cname' \"%s\" (expected blosclz, lz4, lz4hc, snappy, "
                               "zlib or zstd)", cname);
    if (clevel < 0 || clevel > 9)
        return zarrc_error_set(ZARRC_EINVAL, "'clevel' must be 0-9, got %lld", (long long)clevel);
    if (blocksize < 0 || blocksize > INT32_MAX)
        return zarrc_error_set(ZARRC_EINVAL, "'blocksize' must be 0 (automatic) or a positive "
                               "integer, got %lld", (long long)blocksize);

    int shuffle = init->format == 2 ? SHUF_AUTO : SHUF_BYTE;
    const zarrc_json *sv = zarrc_json_member(config, "shuffle");
    if (sv && zarrc_json_typeof(sv) != ZARRC_JSON_NULL && (rc = parse_shuffle(sv, &shuffle)))
        return rc;

    if (init->format == 3) {
        if ((rc = zarrc_json_opt_int(config, "typesize", 0, &typesize)))
            return rc;
        if (typesize < 0 || typesize > ZARRC_MAX_ITEM_SIZE ||
            (typesize == 0 && zarrc_json_typeof(zarrc_json_member(config, "typesize")) != ZARRC_JSON_NULL))
            return zarrc_error_set(ZARRC_EINVAL, "'typesize' must be an integer from 1 to %d (an item "
                                   "size), got %lld", ZARRC_MAX_ITEM_SIZE, (long long)typesize);
    }
    if (typesize == 0) {
        typesize = 1;
        /* The element size of the last array representation; variable-length data reaches
         * us as bytes. */
        if (init->input && !zarrc__dtype_is_vlen(&init->input->dtype) &&
            init->input->dtype.item_size > 0)
            typesize = (int64_t)zarrc_dtype_elem_size(&init->input->dtype);
    }

    bl_state *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    snprintf(s->cname, sizeof s->cname, "%s", cname);
    s->clevel = (int)clevel;
    s->shuffle = shuffle;
    s->eff_shuffle = shuffle == SHUF_AUTO ? (typesize == 1 ? SHUF_BIT : SHUF_BYTE) : shuffle;
    s->typesize = (size_t)typesize;
    s->blocksize = (size_t)blocksize;
    *state = s;
    return ZARRC_OK;
}

static void bl_destroy(void *state) { free(state); }

static int bl_to_json(const void *state, int format, zarrc_json *config)
{
    const bl_state *s = state;
    int rc;
    if ((rc = zarrc_json_put_string(config, "cname", s->cname)) ||
        (rc = zarrc_json_put_int(config, "clevel", s->clevel)))
        return rc;
    if (format == 2) {
        if ((rc = zarrc_json_put_int(config, "shuffle", s->shuffle)))
            return rc;
    } else {
        if ((rc = zarrc_json_put_string(config, "shuffle", shuffle_names[s->eff_shuffle])) ||
            (rc = zarrc_json_put_uint(config, "typesize", s->typesize)))
            return rc;
    }
    return zarrc_json_put_uint(config, "blocksize", s->blocksize);
}

static int bl_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                        size_t in_size, zarrc_buf *out)
{
    const bl_state *s = state;
    if (!cname_available(s->cname))
        return zarrc_error_set(ZARRC_EUNSUPPORTED,
                               "compressor \"%s\" is not available in this c-blosc build (it "
                               "has: %s)", s->cname, blosc_list_compressors());
    if (in_size > BLOSC_MAX_BUFFERSIZE)
        return zarrc_error_set(ZARRC_EUNSUPPORTED,
                               "blosc cannot compress %zu bytes (limit %d)", in_size,
                               BLOSC_MAX_BUFFERSIZE);
    size_t cap = in_size + BLOSC_MAX_OVERHEAD;
    int rc = zarrc_buf_reserve(out, cap);
    if (rc)
        return rc;
    static const uint8_t empty[1] = {0};
    int n = blosc_compress_ctx(s->clevel, s->eff_shuffle, s->typesize, in_size,
                               in_size ? (const void *)in : empty, out->data, cap, s->cname,
                               s->blocksize, 1); /* threaded blosc lays blocks out in completion
                                                    order: not reproducible; and its per-call
                                                    threads cost more than they save */
    if (n <= 0)
        return zarrc_error_set(ZARRC_EINTERNAL, "blosc compression failed (code %d)", n);
    out->size = (size_t)n;
    return ZARRC_OK;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Check a blosc1 chunk's header against its size and the expected decoded size; its decoded
 * size, block size and flags. */
static int check_chunk(const zarrc_codec_call *call, const uint8_t *in, size_t in_size, size_t *nbytes_out,
                       size_t *blocksize_out, int *flags_out)
{
    if (in_size < BLOSC_MIN_HEADER_LENGTH)
        return zarrc_error_set(ZARRC_ECORRUPT, "blosc chunk of %zu bytes is shorter than its "
                               "16-byte header", in_size);
    size_t nbytes = le32(in + 4), blocksize = le32(in + 8), cbytes = le32(in + 12);
    int flags = in[2];
    if (in[0] != 2 && in[0] != 1)
        return zarrc_error_set(ZARRC_ECORRUPT, "not a blosc1 chunk (format version %u)", in[0]);
    if (cbytes > in_size)
        return zarrc_error_set(ZARRC_ECORRUPT,
                               "blosc header says %zu compressed bytes but only %zu are present",
                               cbytes, in_size);
    size_t nb = 0;
    if (blosc_cbuffer_validate(in, in_size, &nb) != 0 || nb != nbytes)
        return zarrc_error_set(ZARRC_ECORRUPT, "invalid blosc header");
    if (call->decoded_size && nbytes != call->decoded_size)
        return zarrc_error_set(ZARRC_ECORRUPT, "blosc chunk holds %zu bytes, expected %zu",
                               nbytes, call->decoded_size);
    if (nbytes > call->max_size)
        return zarrc__codec_limit_error(call->max_size);
    if (nbytes > BLOSC_MAX_BUFFERSIZE)
        return zarrc_error_set(ZARRC_ECORRUPT, "blosc header gives an impossible size %zu",
                               nbytes);
    *nbytes_out = nbytes;
    *blocksize_out = blocksize;
    *flags_out = flags;
    if (nbytes == 0)
        return ZARRC_OK;
    if (flags & BLOSC_MEMCPYED) {
        if (cbytes != nbytes + BLOSC_MIN_HEADER_LENGTH)
            return zarrc_error_set(ZARRC_ECORRUPT, "blosc uncompressed chunk has %zu bytes for "
                                   "%zu of data", cbytes, nbytes);
    } else {
        /* The block start table must fit: guards against huge nbytes in a tiny buffer. */
        if (blocksize == 0)
            return zarrc_error_set(ZARRC_ECORRUPT, "blosc header has block size 0");
        size_t nblocks = nbytes / blocksize + (nbytes % blocksize != 0);
        if (nblocks > (cbytes - BLOSC_MIN_HEADER_LENGTH) / 4)
            return zarrc_error_set(ZARRC_ECORRUPT, "blosc chunk too short for its %zu blocks",
                                   nblocks);
        const char *codec = format_cname(flags >> 5);
        if (!codec)
            return zarrc_error_set(ZARRC_ECORRUPT, "blosc chunk uses unknown inner codec %d",
                                   flags >> 5);
        if (!cname_available(codec))
            return zarrc_error_set(ZARRC_EUNSUPPORTED, "blosc chunk compressed with %s, which "
                                   "this c-blosc build lacks", codec);
    }
    return ZARRC_OK;
}

/* Per-thread buffers of the decoders: for c-blosc, one block as a chunk of its own, and a
 * decoded block; zarrc's decoder's state (scratch, zstd context). */
typedef struct bl_tls {
    zarrc_buf src, dst;
    zarrc__blosc1_state dec;
} bl_tls;

static void *bl_tls_new(void) { return zarrc__calloc(1, sizeof(bl_tls)); }

static void bl_tls_free(void *p)
{
    bl_tls *t = p;
    zarrc_buf_release(&t->src);
    zarrc_buf_release(&t->dst);
    zarrc__blosc1_state_free(&t->dec);
    free(t);
}

static zarrc__tls_slot bl_slot = ZARRC_TLS_SLOT(bl_tls_new, bl_tls_free);

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Block k of a checked chunk whose blocks are in order (zarrc__blosc1_block_span holds for
 * every k) into dst (the block's size): by zarrc's decoder; a block it leaves or calls corrupt
 * goes to c-blosc as a one-block chunk of its own (the same header with nbytes = the block's
 * size, one start offset, that block's stored bytes), which decodes it or reports. */
static int decode_one_block(const uint8_t *in, size_t nblocks, size_t k, uint8_t *dst, bl_tls *t)
{
    size_t nbytes = le32(in + 4), blocksize = le32(in + 8), cbytes = le32(in + 12), b0, b1;
    zarrc__blosc1_block_span(in, cbytes, nblocks, k, &b0, &b1);
    size_t bsize = k + 1 < nblocks ? blocksize : nbytes - k * blocksize, len = b1 - b0;
    int rc;
    if ((rc = zarrc_buf_reserve(&t->dec.tmp, blocksize)) || (rc = zarrc_buf_reserve(&t->dec.tmp2, blocksize)))
        return rc;
    if (zarrc__blosc1_decode_block(in, cbytes, b0, b1, bsize, dst, t->dec.tmp.data, t->dec.tmp2.data, &t->dec) == 0)
        return ZARRC_OK;
    size_t synth = BLOSC_MIN_HEADER_LENGTH + 4 + len; /* <= cbytes + 4 */
    t->src.size = 0;
    if ((rc = zarrc_buf_reserve(&t->src, synth)))
        return rc;
    uint8_t *h = t->src.data;
    memcpy(h, in, 4); /* versions, flags, typesize */
    put_le32(h + 4, (uint32_t)bsize);
    put_le32(h + 8, (uint32_t)blocksize);
    put_le32(h + 12, (uint32_t)synth);
    put_le32(h + 16, BLOSC_MIN_HEADER_LENGTH + 4);
    memcpy(h + BLOSC_MIN_HEADER_LENGTH + 4, in + b0, len);
    /* c-blosc wants room for a whole block (blocksize <= destsize) even when the chunk is
     * one short last block: decoded into scratch of that size, then copied */
    int n = blosc_decompress_ctx(h, t->dec.tmp2.data, t->dec.tmp2.capacity, 1);
    if (n < 0 || (size_t)n != bsize)
        return zarrc_error_set(ZARRC_ECORRUPT, "blosc decompression of block %zu failed (code %d)", k, n);
    memcpy(dst, t->dec.tmp2.data, bsize);
    return ZARRC_OK;
}

/* Whether every block of a checked chunk is stored in order inside it. */
static bool blocks_in_order(const uint8_t *in, size_t nblocks)
{
    size_t cbytes = le32(in + 12), b0, b1;
    for (size_t k = 0; k < nblocks; k++)
        if (!zarrc__blosc1_block_span(in, cbytes, nblocks, k, &b0, &b1))
            return false;
    return true;
}

/* The blocks of one chunk decoded on the pool: one task per block, each into its place. */
typedef struct par_blocks {
    const uint8_t *in;
    size_t nblocks, blocksize;
    uint8_t *dst;
} par_blocks;

static int par_block(void *ctx, size_t k)
{
    const par_blocks *j = ctx;
    bl_tls *t = zarrc__tls_get(&bl_slot);
    if (!t)
        return zarrc__enomem();
    return decode_one_block(j->in, j->nblocks, k, j->dst + k * j->blocksize, t);
}

/* Chunks from this size up have their blocks decoded in parallel when no other such chunk is
 * being decoded and the decode is not already running inside a pool task (a read of one
 * chunk; nested pool calls run inline). */
#define BL_PARALLEL_FROM ((size_t)1 << 20)
static int bl_large_active; /* atomic: whole decodes of chunks of BL_PARALLEL_FROM and more under way */

static int bl_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                        size_t in_size, zarrc_buf *out)
{
    size_t nbytes, blocksize;
    int flags;
    int rc = check_chunk(call, in, in_size, &nbytes, &blocksize, &flags);
    if (rc)
        return rc;
    if (nbytes == 0) {
        out->size = 0;
        return ZARRC_OK;
    }
    rc = zarrc_buf_reserve(out, nbytes);
    if (rc)
        return rc;
    bl_tls *t = zarrc__tls_get(&bl_slot);
    if (!t)
        return zarrc__enomem();
    /* blocksize > 0 unless plain copy: check_chunk */
    size_t nblocks = flags & BLOSC_MEMCPYED ? 0 : nbytes / blocksize + (nbytes % blocksize != 0);
    if (nblocks > 1 && blocks_in_order(in, nblocks)) {
        par_blocks j = {in, nblocks, blocksize, out->data};
        /* in parallel only while no other large decode runs (two readers of a chunk each
         * keep both cores busy already: more threads would only contend) */
        bool large = nbytes >= BL_PARALLEL_FROM;
        bool alone = large && __atomic_fetch_add(&bl_large_active, 1, __ATOMIC_RELAXED) == 0;
        if (alone) {
            rc = zarrc__pool_run(nblocks, par_block, &j);
        } else {
            for (size_t k = 0; k < nblocks && rc == ZARRC_OK; k++)
                rc = decode_one_block(in, nblocks, k, out->data + k * blocksize, t);
        }
        if (large)
            __atomic_fetch_sub(&bl_large_active, 1, __ATOMIC_RELAXED);
        if (rc == ZARRC_OK)
            out->size = nbytes;
        return rc;
    }
    if (zarrc__blosc1_decode(in, in_size, out->data, nbytes, &t->dec) == 0) {
        out->size = nbytes;
        return ZARRC_OK;
    }
    int n = blosc_decompress_ctx(in, out->data, nbytes, 1);
    if (n < 0 || (size_t)n != nbytes)
        return zarrc_error_set(ZARRC_ECORRUPT, "blosc decompression failed (code %d)", n);
    out->size = nbytes;
    return ZARRC_OK;
}


/* Decode block by block, each block handed to `sink` while it is in cache. Blosc1 format: a
 * 16-byte header (version, codec version, flags, typesize, nbytes, blocksize, cbytes), then one
 * 32-bit start offset per block, then the blocks. Each block is decoded by zarrc's decoder
 * (blosc1.c) from its stored bytes; a block that decoder leaves or calls corrupt goes to
 * c-blosc as a one-block chunk of its own (the same header with nbytes = the block's size, one
 * start offset), so c-blosc's own bounds checks see only that block's bytes. Blocks must be stored
 * in order (as every single-threaded encoder writes them); chunks with blocks in another
 * order, or of one block, are decoded whole. Plain-copy chunks hand over their stored bytes. */
static int bl_decode_pieces(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t in_size,
                            int (*sink)(void *ctx, const uint8_t *piece, size_t len), void *ctx)
{
    (void)state;
    size_t nbytes, blocksize;
    int flags;
    int rc = check_chunk(call, in, in_size, &nbytes, &blocksize, &flags);
    if (rc)
        return rc;
    if (nbytes != call->decoded_size)
        return zarrc_error_set(ZARRC_ECORRUPT, "blosc chunk holds %zu bytes, expected %zu", nbytes,
                               call->decoded_size);
    if (nbytes == 0)
        return ZARRC_OK;
    if (flags & BLOSC_MEMCPYED)
        return sink(ctx, in + BLOSC_MIN_HEADER_LENGTH, nbytes);
    bl_tls *t = zarrc__tls_get(&bl_slot);
    if (!t)
        return zarrc__enomem();
    /* the block-start table fits in cbytes: check_chunk */
    size_t nblocks = nbytes / blocksize + (nbytes % blocksize != 0);
    if (nblocks < 2 || !blocks_in_order(in, nblocks)) {
        t->dst.size = 0;
        if ((rc = bl_decode(state, call, in, in_size, &t->dst)))
            return rc;
        return sink(ctx, t->dst.data, t->dst.size);
    }
    if ((rc = zarrc_buf_reserve(&t->dst, blocksize)))
        return rc;
    for (size_t k = 0; k < nblocks; k++) {
        size_t bsize = k + 1 < nblocks ? blocksize : nbytes - k * blocksize;
        if ((rc = decode_one_block(in, nblocks, k, t->dst.data, t)) || (rc = sink(ctx, t->dst.data, bsize)))
            return rc;
    }
    return ZARRC_OK;
}

static const char *const blosc_aliases[] = {"numcodecs.blosc", NULL};

const zarrc_codec_type zarrc__codec_blosc = {
    ZARRC_CODEC_TYPE_VERSION, "blosc", "blosc", blosc_aliases, ZARRC_CODEC_BYTES_TO_BYTES,
    bl_create, bl_destroy, bl_to_json, bl_encode, bl_decode, bl_decode_pieces,
};
