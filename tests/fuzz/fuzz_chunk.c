/*
 * Fuzz target: arbitrary bytes stored as a chunk (or shard) of arrays with each of the
 * built-in pipelines, then read. Corrupt input must give an error, never a crash or a hang.
 * The first input byte picks the pipeline; the rest is the stored value. The same bytes also
 * go through the store-less chunk codec (zarrc_array_chunk_decode, then encode + decode).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zarrc.h"
#include "zarrc_plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const pipelines[] = {
    "[\"bytes\"]",
    "[\"bytes\",{\"name\":\"zstd\"}]",
    "[\"bytes\",{\"name\":\"gzip\"}]",
    "[\"bytes\",{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":\"shuffle\",\"typesize\":4}}]",
    "[\"bytes\",{\"name\":\"numcodecs.zlib\"}]",
    "[\"bytes\",{\"name\":\"numcodecs.lz4\"}]",
    "[\"bytes\",{\"name\":\"numcodecs.bz2\"}]",
    "[\"bytes\",{\"name\":\"numcodecs.lzma\"}]",
    "[\"bytes\",\"crc32c\"]",
    "[\"bytes\",{\"name\":\"numcodecs.adler32\"}]",
    "[\"bytes\",{\"name\":\"numcodecs.fletcher32\"}]",
    "[{\"name\":\"transpose\",\"configuration\":{\"order\":[1,0]}},\"bytes\",{\"name\":\"numcodecs.shuffle\"}]",
    "[{\"name\":\"numcodecs.delta\",\"configuration\":{\"dtype\":\"<i4\"}},\"bytes\"]",
    "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2,2],\"codecs\":[\"bytes\"],"
    "\"index_codecs\":[\"bytes\",\"crc32c\"]}}]",
    "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2,1],\"codecs\":[\"bytes\",{\"name\":\"zstd\"}],"
    "\"index_codecs\":[\"bytes\"],\"index_location\":\"start\"}}]",
    "[{\"name\":\"vlen-utf8\"}]",
    "[{\"name\":\"vlen-bytes\"},{\"name\":\"gzip\"}]",
    /* zarr-extensions: packbits over sub-byte, bool and partial-bit integers; sub-byte bytes */
    "[{\"name\":\"packbits\",\"configuration\":{\"padding_encoding\":\"first_byte\"}}]",
    "[{\"name\":\"packbits\",\"configuration\":{\"padding_encoding\":\"last_byte\"}},{\"name\":\"zstd\"}]",
    "[{\"name\":\"packbits\",\"configuration\":{\"first_bit\":3,\"last_bit\":17}}]",
    "[{\"name\":\"packbits\"}]",
    "[\"bytes\"]",
    "[{\"name\":\"zarrs.vlen_v2\"}]",
    "[{\"name\":\"scale_offset\",\"configuration\":{\"offset\":3,\"scale\":-2}},\"bytes\"]",
    "[{\"name\":\"reshape\",\"configuration\":{\"shape\":[-1]}},{\"name\":\"zarrs.squeeze\"},\"bytes\",\"crc32c\"]",
    /* zfp (no header, mode from the configuration) and numcodecs.zfpy (zfp's header) */
    "[{\"name\":\"zfp\",\"configuration\":{\"mode\":\"reversible\"}}]",
    "[{\"name\":\"zfp\",\"configuration\":{\"mode\":\"expert\",\"minbits\":1,\"maxbits\":900,\"maxprec\":20,\"minexp\":-8}}]",
    "[{\"name\":\"numcodecs.zfpy\",\"configuration\":{\"mode\":4,\"tolerance\":0.01}}]",
    "[{\"name\":\"zfp\",\"configuration\":{\"mode\":\"fixed_rate\",\"rate\":3.5}},{\"name\":\"zstd\"}]",
    /* cast_value: exact widening on decode, and a decode that can fail (int16 -> uint16) */
    "[{\"name\":\"cast_value\",\"configuration\":{\"data_type\":\"float8_e4m3fnuz\",\"out_of_range\":\"clamp\","
    "\"scalar_map\":{\"decode\":[[\"NaN\",0]]}}},\"bytes\"]",
    "[{\"name\":\"cast_value\",\"configuration\":{\"data_type\":\"int16\",\"rounding\":\"towards-zero\"}},\"bytes\",\"crc32c\"]",
    /* zarrs.optional (zarrs' experimental nullable type): header, mask chain, present values;
     * nested (optional optional) with compressed mask and a checksummed inner chain */
    "[{\"name\":\"zarrs.optional\",\"configuration\":{\"mask_codecs\":[{\"name\":\"packbits\"}],"
    "\"data_codecs\":[\"bytes\"]}}]",
    "[{\"name\":\"zarrs.optional\",\"configuration\":{\"mask_codecs\":[\"bytes\",{\"name\":\"zstd\"}],"
    "\"data_codecs\":[{\"name\":\"zarrs.optional\",\"configuration\":{\"mask_codecs\":[{\"name\":\"packbits\"}],\"data_codecs\":[\"bytes\",\"crc32c\"]}}]}},{\"name\":\"zstd\"}]",
    /* zarrs.optional over string / bytes: the present values through a vlen codec; sharded */
    "[{\"name\":\"zarrs.optional\",\"configuration\":{\"mask_codecs\":[{\"name\":\"packbits\"}],"
    "\"data_codecs\":[{\"name\":\"vlen-utf8\"}]}}]",
    "[{\"name\":\"zarrs.optional\",\"configuration\":{\"mask_codecs\":[\"bytes\",{\"name\":\"zstd\"}],"
    "\"data_codecs\":[{\"name\":\"zarrs.vlen_v2\"},{\"name\":\"gzip\"}]}}]",
    "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2,2],\"index_codecs\":[\"bytes\",\"crc32c\"],"
    "\"codecs\":[{\"name\":\"zarrs.optional\",\"configuration\":{\"data_codecs\":[{\"name\":\"vlen-utf8\"}]}}]}}]",
};

/* The data type of each pipeline above (NULL: int32, or string/bytes for the vlen ones). */
static const char *const dtypes[sizeof pipelines / sizeof *pipelines] = {
    [17] = "int4", [18] = "bool", [19] = "int32", [20] = "complex_float6_e3m2fn", [21] = "float6_e2m3fn",
    [26] = "float32", [27] = "float32", [28] = "uint8",
    [29] = "float32", [30] = "uint16",
    [31] = "{\"name\":\"zarrs.optional\",\"configuration\":{\"name\":\"int16\"}}",
    [32] = "{\"name\":\"zarrs.optional\",\"configuration\":{\"name\":\"zarrs.optional\","
           "\"configuration\":{\"name\":\"int16\"}}}",
    [33] = "{\"name\":\"zarrs.optional\",\"configuration\":{\"name\":\"string\"}}",
    [34] = "{\"name\":\"zarrs.optional\",\"configuration\":{\"name\":\"bytes\"}}",
    [35] = "{\"name\":\"zarrs.optional\",\"configuration\":{\"name\":\"string\"}}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* Variable-length chunks decode up to the per-chunk limit: keep it under the fuzzer's
     * malloc limit (fixed-size chunks here are bounded by their 64 bytes). */
    zarrc_set_max_chunk_bytes(16u << 20);
    size_t which = data[0] % (sizeof pipelines / sizeof *pipelines);
    int vlen = strstr(pipelines[which], "vlen") != NULL;
    zarrc_store *s = NULL;
    if (zarrc_store_open(&s, "memory://", 0))
        return 0;
    int64_t shape[2] = {4, 6}, chunks[2] = {4, 4};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = dtypes[which] ? dtypes[which] : vlen ? (strstr(pipelines[which], "utf8") ? "string" : "bytes") : "int32";
    zarrc_dtype_info dt;
    size_t es = 4;
    if (dtypes[which] && zarrc_dtype_parse(&dt, dtypes[which]) == 0)
        es = dt.item_size;
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    o.codecs = pipelines[which];
    zarrc_array *a = NULL;
    if (zarrc_array_create(&a, s, "", &o) == 0) {
        zarrc_store_set(s, "c/0/0", data + 1, size - 1);
        int64_t z[2] = {0, 0}, one[2] = {1, 1}, part[2] = {3, 5};
        if (vlen) {
            zarrc_vlen v;
            if (zarrc_array_read(a, z, shape, NULL, &v, sizeof v) == 0)
                zarrc_vlen_clear(&v);
            /* a partial write over it: one item "x", then one missing (mask 0; plain types ignore it) */
            uint64_t offs[2] = {0, 1}, none[2] = {0, 0};
            uint8_t present = 1, missing = 0;
            zarrc_vlen w = {1, offs, (uint8_t *)"x", 1, &present};
            zarrc_array_write(a, one, one, NULL, &w, sizeof w);
            zarrc_vlen m = {1, none, (uint8_t *)"", 0, &missing};
            zarrc_array_write(a, z, one, NULL, &m, sizeof m);
        } else {
            int32_t buf[24];
            uint8_t x[4] = {1, 0, 0, 0}; /* 1 in every type here, on both byte orders of int32 */
            if (es == 4)
                memcpy(x, &(int32_t){1}, 4);
            zarrc_array_read(a, z, shape, NULL, buf, 24 * es);
            zarrc_array_read(a, one, part, NULL, buf, 15 * es);
            zarrc_array_write(a, one, one, NULL, x, es); /* partial write over it */
            /* the store-less chunk codec entry point on the same bytes, and a round trip */
            size_t cb = 0;
            if (zarrc_array_chunk_size(&cb, a) == 0 && cb <= sizeof buf &&
                zarrc_array_chunk_decode(a, z, data + 1, size - 1, buf, cb) == 0) {
                void *enc = NULL;
                size_t n = 0;
                if (zarrc_array_chunk_encode(&enc, &n, a, z, buf, cb) == 0 && enc)
                    zarrc_array_chunk_decode(a, z, enc, n, buf, cb);
                zarrc_free(enc);
            }
        }
        zarrc_array_free(a);
    }
    zarrc_store_free(s);
    return 0;
}
