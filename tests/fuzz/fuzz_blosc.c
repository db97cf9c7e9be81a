/*
 * Fuzz target: zarrc's own Blosc1 decoder (src/codec/blosc1.c) on arbitrary bytes. Corrupt
 * input must give a nonzero return, never a crash, a hang or an access outside the buffers.
 * First byte even: the rest is a whole chunk, decoded into a buffer of its header's nbytes
 * (capped at 4 MiB). First byte odd: the next two bytes are an output size (little-endian),
 * the rest a raw blosclz stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/blosc1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1) {
        if (size < 3)
            return 0;
        size_t n = (size_t)data[1] | (size_t)data[2] << 8;
        uint8_t *out = malloc(n ? n : 1);
        if (out) {
            (void)zarrc__blosclz_decode(data + 3, size - 3, out, n);
            free(out);
        }
        return 0;
    }
    const uint8_t *c = data + 1;
    size_t csize = size - 1;
    if (csize < 16)
        return 0;
    size_t nbytes = (size_t)c[4] | (size_t)c[5] << 8 | (size_t)c[6] << 16 | (size_t)c[7] << 24;
    if (nbytes > ((size_t)4 << 20))
        return 0;
    /* the input in a buffer of its own size, so reads past it are caught */
    uint8_t *in = malloc(csize), *out = malloc(nbytes ? nbytes : 1);
    static zarrc__blosc1_state st;
    if (in && out) {
        memcpy(in, c, csize);
        (void)zarrc__blosc1_decode(in, csize, out, nbytes, &st);
    }
    free(in);
    free(out);
    return 0;
}
