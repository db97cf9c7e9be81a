/* codec_vlen.c — `vlen-utf8` and `vlen-bytes` (numcodecs VLenUTF8 / VLenBytes): variable-length
 * elements as u32le count, then per element u32le length + bytes. */
#include "codec_numeric.h"

static int vlen_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    (void)config; /* no parameters; v2 has just {"id": ...} */
    *state = NULL;
    if (!init->input)
        return zarrc_error_set(ZARRC_EINVAL, "needs the chunk's data type");
    if (!zarrc__dtype_is_vlen(&init->input->dtype))
        return zarrc_error_set(ZARRC_EINVAL, "only variable-length data types (string, bytes) "
                               "can use this codec, not '%s'", init->input->dtype.name);
    return ZARRC_OK;
}

static void vlen_destroy(void *state) { (void)state; }

static int vlen_to_json(const void *state, int format, zarrc_json *config)
{
    return ZARRC_OK; /* v2: {"id": ...} only; v3: no configuration */
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int vlen_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                       size_t in_size, zarrc_buf *out)
{
    size_t count;
    int rc = zarrc__repr_count(call->decoded, &count);
    if (rc)
        return rc;
    if (in_size / sizeof(zarrc_vref) != count || in_size % sizeof(zarrc_vref))
        return zarrc_error_set(ZARRC_EINVAL, "expected %zu elements, got %zu bytes", count,
                               in_size);
    if (count > UINT32_MAX)
        return zarrc_error_set(ZARRC_EINVAL, "a chunk holds %zu elements; at most 2^32-1 can "
                               "be encoded", count);
    /* Elements may be unaligned in `in`: copy each vref out. */
    size_t total = 4;
    for (size_t i = 0; i < count; i++) {
        zarrc_vref v;
        memcpy(&v, in + i * sizeof v, sizeof v);
        if (v.len > UINT32_MAX)
            return zarrc_error_set(ZARRC_EINVAL, "element %zu has %llu bytes; at most 2^32-1 "
                                   "can be encoded", i, (unsigned long long)v.len);
        if (v.len && !v.ptr)
            return zarrc_error_set(ZARRC_EINVAL, "element %zu has no data", i);
        if (total > SIZE_MAX - 4 - (size_t)v.len)
            return zarrc_error_set(ZARRC_EINVAL, "chunk is too large to encode");
        total += 4 + (size_t)v.len;
    }
    if ((rc = zarrc_buf_reserve(out, total)))
        return rc;
    uint8_t *p = out->data;
    put_le32(p, (uint32_t)count);
    p += 4;
    for (size_t i = 0; i < count; i++) {
        zarrc_vref v;
        memcpy(&v, in + i * sizeof v, sizeof v);
        put_le32(p, (uint32_t)v.len);
        p += 4;
        if (v.len)
            memcpy(p, v.ptr, (size_t)v.len);
        p += v.len;
    }
    out->size = total;
    return ZARRC_OK;
}

static int vlen_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                       size_t in_size, zarrc_buf *out)
{
    size_t count, bytes;
    int rc = zarrc__repr_count(call->decoded, &count);
    if (rc)
        return rc;
    if (!zarrc__mul_size(count, sizeof(zarrc_vref), &bytes))
        return zarrc_error_set(ZARRC_EINVAL, "chunk is too large");
    if (in_size < 4)
        return zarrc_error_set(ZARRC_ECORRUPT, "truncated header: %zu bytes", in_size);
    uint32_t n = get_le32(in);
    if (n != count)
        return zarrc_error_set(ZARRC_ECORRUPT, "chunk holds %lu elements, expected %zu",
                               (unsigned long)n, count);
    /* Every element takes at least its 4-byte length: check before allocating its vref. */
    if ((in_size - 4) / 4 < count)
        return zarrc_error_set(ZARRC_ECORRUPT, "%zu bytes cannot hold %zu elements", in_size, count);
    if (bytes > call->max_size)
        return zarrc__codec_limit_error(call->max_size);
    if ((rc = zarrc_buf_reserve(out, bytes)))
        return rc;
    size_t pos = 4;
    for (size_t i = 0; i < count; i++) {
        if (in_size - pos < 4)
            return zarrc_error_set(ZARRC_ECORRUPT, "data end before the length of element %zu "
                                   "(offset %zu)", i, pos);
        uint32_t len = get_le32(in + pos);
        pos += 4;
        if (len > in_size - pos)
            return zarrc_error_set(ZARRC_ECORRUPT, "element %zu claims %lu bytes but only %zu "
                                   "remain", i, (unsigned long)len, in_size - pos);
        zarrc_vref v = {in + pos, len};
        memcpy(out->data + i * sizeof v, &v, sizeof v);
        pos += len;
    }
    /* Like numcodecs, bytes after the last element are ignored. */
    out->size = bytes;
    return ZARRC_OK;
}

const zarrc_codec_type zarrc__codec_vlen_utf8 = {
    ZARRC_CODEC_TYPE_VERSION, "vlen-utf8", "vlen-utf8", NULL, ZARRC_CODEC_ARRAY_TO_BYTES,
    vlen_create, vlen_destroy, vlen_to_json, vlen_encode, vlen_decode,
};

const zarrc_codec_type zarrc__codec_vlen_bytes = {
    ZARRC_CODEC_TYPE_VERSION, "vlen-bytes", "vlen-bytes", NULL, ZARRC_CODEC_ARRAY_TO_BYTES,
    vlen_create, vlen_destroy, vlen_to_json, vlen_encode, vlen_decode,
};

/* zarrs' experimental `zarrs.vlen_v2`: the same bytes as vlen-utf8/vlen-bytes, decoupled from the
 * data type (zarrs: "the same as vlen-utf8, vlen-array, vlen-bytes from Zarr V2"); configuration {}. */
const zarrc_codec_type zarrc__codec_vlen_v2 = {
    ZARRC_CODEC_TYPE_VERSION, "zarrs.vlen_v2", NULL, NULL, ZARRC_CODEC_ARRAY_TO_BYTES,
    vlen_create, vlen_destroy, vlen_to_json, vlen_encode, vlen_decode,
};
