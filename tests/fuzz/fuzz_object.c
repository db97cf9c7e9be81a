/*
 * Fuzz target: arbitrary bytes stored as a chunk of object and variable-length arrays whose
 * decoders make their own element bytes — numcodecs json2, msgpack2 and vlen-array (v2 "|O")
 * and zarrs.vlen (v3 string/bytes) — then read whole, read in part and partly rewritten.
 * Corrupt input must give an error, never a crash, a hang or an unbounded allocation. The
 * first input byte picks the array; the rest is the stored value of its chunk (0, 0).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zarrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
    int format;
    const char *dtype, *codecs;
} arrays[] = {
    {2, "|O", "[{\"id\":\"json2\"}]"},
    {2, "|O", "[{\"id\":\"msgpack2\"}]"},
    {2, "|O", "[{\"id\":\"vlen-array\",\"dtype\":\"<i2\"}]"},
    {2, "|O", "[{\"id\":\"vlen-array\",\"dtype\":\">f8\"}]"},
    {2, "|O", "[{\"id\":\"json2\"},{\"id\":\"zlib\",\"level\":1}]"},
    {3, "string", "[{\"name\":\"zarrs.vlen\",\"configuration\":{\"data_codecs\":[\"bytes\"],\"index_codecs\":"
                  "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}],\"index_data_type\":\"uint32\","
                  "\"index_location\":\"start\"}}]"},
    {3, "bytes", "[{\"name\":\"zarrs.vlen\",\"configuration\":{\"data_codecs\":[\"bytes\",{\"name\":\"zstd\"}],"
                 "\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},\"crc32c\"],"
                 "\"index_data_type\":\"uint64\",\"index_location\":\"end\"}}]"},
};

#define NARRAYS (sizeof arrays / sizeof *arrays)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    zarrc_set_max_chunk_bytes(16u << 20); /* under the fuzzer's malloc limit */
    size_t which = data[0] % NARRAYS;
    zarrc_store *s = NULL;
    if (zarrc_store_open(&s, "memory://", 0))
        return 0;
    int64_t shape[2] = {4, 6}, chunks[2] = {4, 4};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.format = arrays[which].format;
    o.dtype = arrays[which].dtype;
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    if (o.format == 2) {
        o.filters = arrays[which].codecs;
        o.compressor = "null";
    } else
        o.codecs = arrays[which].codecs;
    zarrc_array *a = NULL;
    if (zarrc_array_create(&a, s, "", &o) == 0) {
        zarrc_store_set(s, o.format == 2 ? "0.0" : "c/0/0", data + 1, size - 1);
        int64_t z[2] = {0, 0}, one[2] = {1, 1}, part[2] = {2, 3};
        zarrc_vlen v;
        if (zarrc_array_read(a, z, shape, NULL, &v, sizeof v) == 0)
            zarrc_vlen_clear(&v);
        if (zarrc_array_read(a, one, part, NULL, &v, sizeof v) == 0)
            zarrc_vlen_clear(&v);
        /* a partial write decodes the stored chunk, then re-encodes it with one new element
         * (a JSON text, two int16 / one float64 item, or text) */
        const char *elem = which == 2 ? "\x01\x00\x02\x00\x03\x00\x04\x00"
                         : which == 3 ? "\x00\x00\x00\x00\x00\x00\xf0\x3f" : "[1,\"x\"]";
        uint64_t offs[2] = {0, which == 2 || which == 3 ? 8 : 7};
        zarrc_vlen w = {1, offs, (uint8_t *)(uintptr_t)elem, (size_t)offs[1]};
        zarrc_array_write(a, one, one, NULL, &w, sizeof w);
        zarrc_array_free(a);
    }
    zarrc_store_free(s);
    return 0;
}
