/*
 * blosc1.h — zarrc's own decoder of Blosc1 blocks (the c-blosc 1.x chunk format): blosclz
 * streams, lz4 / zstd / zlib streams through their libraries, byte and bit unshuffle with
 * SSE2 / AVX2 (chosen at run time) and a scalar fallback. Encoding, snappy and anything this
 * decoder does not take stay with c-blosc (codec_blosc.c).
 *
 * Every function here is pure (no global state but the CPU-feature choice, made once, and
 * thread-safe); the caller passes every buffer. All input lengths are checked: corrupt input
 * gives a nonzero return, never a read or write outside the buffers given.
 */
#ifndef ZARRC_BLOSC1_H
#define ZARRC_BLOSC1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/core.h"

/** Per-thread state of the decoder: a zstd decompression context and two block-sized scratch
 *  buffers, all made on first use. Zero-initialise; release with zarrc__blosc1_state_free.
 *  One per thread. */
typedef struct zarrc__blosc1_state {
    void *zstd_dctx;
    zarrc_buf tmp, tmp2;
} zarrc__blosc1_state;

/** Decodes a whole Blosc1 chunk of `size` bytes into `dst` (`dst_size` bytes, which must be
 *  the header's nbytes), block by block with zarrc__blosc1_decode_block. Checks the header
 *  and that the block-start table lists blocks in order inside the chunk. Returns 0 on
 *  success; 1 when this decoder leaves the chunk to c-blosc (plain-copy chunks, blocks out of
 *  order, snappy, unusual flags, scratch allocation failure); -1 when corrupt. Nothing is set
 *  in zarrc's error state. */
ZARRC_HIDDEN int zarrc__blosc1_decode(const uint8_t *chunk, size_t size, uint8_t *dst, size_t dst_size,
                                      zarrc__blosc1_state *st);

/** The stored span [*b0, *b1) of block k of nblocks of a Blosc1 chunk with `cbytes` bytes:
 *  false unless it starts after the block-start table, before the next block's start, and
 *  ends inside cbytes (the table itself must fit in cbytes: checked by the caller). */
ZARRC_HIDDEN bool zarrc__blosc1_block_span(const uint8_t *chunk, size_t cbytes, size_t nblocks, size_t k,
                                           size_t *b0, size_t *b1);

/** Releases what `st` holds (not `st` itself). */
ZARRC_HIDDEN void zarrc__blosc1_state_free(zarrc__blosc1_state *st);

/** Decodes block `k` of a Blosc1 chunk `chunk` of `cbytes` bytes (the header's cbytes, already
 *  checked against the buffer) whose block starts at byte `b0` and whose stored bytes end
 *  before `b1` (the next block's start or cbytes; b0 < b1 <= cbytes checked by the caller),
 *  into `dst` (`bsize` bytes: blocksize, or what is left for the last block). `tmp` and `tmp2`
 *  are scratch of at least `bsize` bytes each, not overlapping `dst`.
 *  Returns 0 on success; 1 when this decoder does not handle the chunk (inner codec snappy or
 *  unknown, typesize/flag combinations it leaves to c-blosc): use c-blosc; -1 when the block
 *  is corrupt (nothing is set in zarrc's error state: the caller decides, usually by asking
 *  c-blosc, which then reports). `dst` may hold anything after a nonzero return. */
ZARRC_HIDDEN int zarrc__blosc1_decode_block(const uint8_t *chunk, size_t cbytes, size_t b0, size_t b1,
                                            size_t bsize, uint8_t *dst, uint8_t *tmp, uint8_t *tmp2,
                                            zarrc__blosc1_state *st);

/** blosclz: decodes `in_len` bytes into exactly `out_len` bytes of `out`; 0 on success, -1 if
 *  the stream is corrupt or decodes to another size. */
ZARRC_HIDDEN int zarrc__blosclz_decode(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len);

/** Undoes c-blosc's byte shuffle of a block of `len` bytes with items of `ts` bytes: `src`
 *  holds ts planes of len/ts bytes, then the len % ts trailing bytes as they are. */
ZARRC_HIDDEN void zarrc__blosc1_unshuffle(const uint8_t *src, uint8_t *dst, size_t len, size_t ts);

/** Undoes c-blosc's bit shuffle of `n` items of `ts` bytes (n a multiple of 8): `src` holds
 *  8*ts bit planes of n/8 bytes; `tmp` is scratch of n*ts bytes. */
ZARRC_HIDDEN void zarrc__blosc1_bitunshuffle(const uint8_t *src, uint8_t *dst, size_t n, size_t ts, uint8_t *tmp);

/** Which SIMD the unshuffles use: "avx2", "sse2" or "scalar". ZARRC_BLOSC_SIMD=scalar|sse2
 *  (read once) lowers it, for tests. */
ZARRC_HIDDEN const char *zarrc__blosc1_simd(void);

#endif
