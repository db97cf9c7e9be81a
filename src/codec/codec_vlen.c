/* codec_vlen.c — the variable-length layouts: `vlen-utf8`, `vlen-bytes`, `vlen-array`
 * (numcodecs VLenUTF8 / VLenBytes / VLenArray) and zarrs' `zarrs.vlen_v2`: u32le count, then
 * per element u32le length + bytes; zarrs' `zarrs.vlen`: offsets and bytes through their own
 * codec chains. Also the builder of decoded elements that own their bytes (codec.h). */
#include <stdlib.h>

#include "codec_numeric.h"

static int vlen_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    (void)config; /* no parameters; v2 has just {"id": ...} */
    *state = NULL;
    if (!init->input)
        return zarrc_error_set(ZARRC_EINVAL, "needs the chunk's data type");
    if (init->input->dtype.kind != ZARRC_DTYPE_STRING && init->input->dtype.kind != ZARRC_DTYPE_VBYTES)
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

/* ---- decoded elements with bytes of their own ---- */

int zarrc__vitems_init(zarrc__vitems *v, size_t count, size_t max)
{
    memset(v, 0, sizeof *v);
    size_t refs;
    if (!zarrc__mul_size(count, sizeof(zarrc_vref), &refs) || refs > max)
        return zarrc__codec_limit_error(max);
    v->count = count;
    v->max = max - refs;
    v->ends = zarrc__malloc((count ? count : 1) * sizeof *v->ends);
    return v->ends ? ZARRC_OK : ZARRC_ENOMEM;
}

int zarrc__vitems_append(zarrc__vitems *v, const void *p, size_t len)
{
    if (len > v->max - v->data.size)
        return zarrc__codec_limit_error(v->max);
    return len ? zarrc__buf_append(&v->data, p, len) : ZARRC_OK;
}

int zarrc__vitems_next(zarrc__vitems *v)
{
    if (v->n >= v->count)
        return zarrc_error_set(ZARRC_ECORRUPT, "more than the %zu elements of the chunk", v->count);
    v->ends[v->n++] = v->data.size;
    return ZARRC_OK;
}

int zarrc__vitems_finish(zarrc__vitems *v, zarrc_buf *out)
{
    if (v->n != v->count)
        return zarrc_error_set(ZARRC_ECORRUPT, "%zu elements, expected %zu", v->n, v->count);
    size_t refs = v->count * sizeof(zarrc_vref);
    int rc = zarrc_buf_reserve(out, refs + v->data.size);
    if (rc)
        return rc;
    uint8_t *bytes = out->data + refs;
    if (v->data.size)
        memcpy(bytes, v->data.data, v->data.size);
    uint64_t start = 0;
    for (size_t i = 0; i < v->count; i++) {
        zarrc_vref r = {bytes + start, v->ends[i] - start};
        memcpy(out->data + i * sizeof r, &r, sizeof r);
        start = v->ends[i];
    }
    out->size = refs;
    return ZARRC_OK;
}

void zarrc__vitems_free(zarrc__vitems *v)
{
    zarrc_buf_release(&v->data);
    free(v->ends);
    memset(v, 0, sizeof *v);
}

/* ---- vlen-array: elements that are 1-D typed arrays ---- */

typedef struct varr_state {
    bool typed;             /* object array of typed arrays; else zarrs' string/bytes use */
    zarrc_dtype_info item;  /* typed: the element type ("dtype"), big_endian = stored order */
} varr_state;

static int varr_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    *state = NULL;
    if (!init->input)
        return zarrc_error_set(ZARRC_EINVAL, "needs the chunk's data type");
    const zarrc_dtype_info *dt = &init->input->dtype;
    varr_state *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    json_object *d = NULL;
    json_object_object_get_ex(ZJ(config), "dtype", &d);
    if (dt->kind == ZARRC_DTYPE_STRING || dt->kind == ZARRC_DTYPE_VBYTES) {
        /* zarrs' v3 numcodecs.vlen-array on string/bytes: the vlen-bytes layout, {} */
        *state = s;
        return ZARRC_OK;
    }
    int rc = ZARRC_OK;
    if (!zarrc__dtype_object_arrays(dt))
        rc = zarrc_error_set(ZARRC_EINVAL, "needs a v2 object (|O) array, not '%s'", dt->name);
    else if (!json_object_is_type(d, json_type_string))
        rc = zarrc_error_set(ZARRC_EINVAL, "configuration needs \"dtype\" (the elements' NumPy type, "
                             "such as \"<i4\")");
    else if ((rc = zarrc__dtype_from_json(&s->item, d)) == ZARRC_OK &&
             (s->item.kind < ZARRC_DTYPE_BOOL || s->item.kind > ZARRC_DTYPE_COMPLEX))
        rc = zarrc_error_set(ZARRC_EUNSUPPORTED, "element type '%s' is not supported (bool, integer, "
                             "float and complex types are)", json_object_get_string(d));
    if (rc) {
        free(s);
        return rc;
    }
    s->typed = true;
    *state = s;
    return ZARRC_OK;
}

static void varr_destroy(void *state) { free(state); }

static int varr_to_json(const void *state, int format, zarrc_json *config)
{
    const varr_state *s = state;
    (void)format;
    if (!s->typed)
        return ZARRC_OK;
    char typestr[32];
    int rc = zarrc_dtype_v2_string(typestr, sizeof typestr, &s->item);
    if (rc)
        return rc;
    json_object_object_add(ZJ(config), "dtype", json_object_new_string(typestr));
    return ZARRC_OK;
}

/* Bytes per byte-order unit to swap between storage and memory (1: none). */
static size_t varr_swap(const varr_state *s)
{
    if (!s->typed || (bool)s->item.big_endian == zarrc__host_big_endian())
        return 1;
    return zarrc__dtype_swap_width(&s->item);
}

static void swap_units(uint8_t *p, size_t n, size_t w)
{
    for (size_t k = 0; w > 1 && k + w <= n; k += w)
        for (size_t a = 0, b = w - 1; a < b; a++, b--) {
            uint8_t t = p[k + a];
            p[k + a] = p[k + b];
            p[k + b] = t;
        }
}

static int varr_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                       size_t in_size, zarrc_buf *out)
{
    const varr_state *s = state;
    size_t count, w = varr_swap(s);
    int rc = zarrc__repr_count(call->decoded, &count);
    if (rc)
        return rc;
    if (s->typed)
        for (size_t i = 0; i < count && i < in_size / sizeof(zarrc_vref); i++) {
            zarrc_vref v;
            memcpy(&v, in + i * sizeof v, sizeof v);
            if (v.len % s->item.item_size)
                return zarrc_error_set(ZARRC_EINVAL, "element %zu has %llu bytes, not a whole number of "
                                       "'%s' items (%zu bytes each)", i, (unsigned long long)v.len,
                                       s->item.name, s->item.item_size);
        }
    if ((rc = vlen_encode(NULL, call, in, in_size, out)) || w == 1)
        return rc;
    /* Into the stored byte order, element by element (the layout is length-prefixed). */
    for (size_t pos = 4, i = 0; i < count; i++) {
        uint32_t len = get_le32(out->data + pos);
        swap_units(out->data + pos + 4, len, w);
        pos += 4 + (size_t)len;
    }
    return ZARRC_OK;
}

static int varr_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                       size_t in_size, zarrc_buf *out)
{
    const varr_state *s = state;
    size_t count, w = varr_swap(s), es = s->typed ? s->item.item_size : 1;
    int rc = zarrc__repr_count(call->decoded, &count);
    if (rc)
        return rc;
    if (in_size < 4)
        return zarrc_error_set(ZARRC_ECORRUPT, "truncated header: %zu bytes", in_size);
    uint32_t n = get_le32(in);
    if (n != count)
        return zarrc_error_set(ZARRC_ECORRUPT, "chunk holds %lu elements, expected %zu",
                               (unsigned long)n, count);
    if ((in_size - 4) / 4 < count)
        return zarrc_error_set(ZARRC_ECORRUPT, "%zu bytes cannot hold %zu elements", in_size, count);
    zarrc__vitems v;
    if ((rc = zarrc__vitems_init(&v, count, call->max_size)))
        return rc;
    size_t pos = 4;
    for (size_t i = 0; i < count && rc == ZARRC_OK; i++) {
        if (in_size - pos < 4) {
            rc = zarrc_error_set(ZARRC_ECORRUPT, "data end before the length of element %zu (offset %zu)", i, pos);
            break;
        }
        uint32_t len = get_le32(in + pos);
        pos += 4;
        if (len > in_size - pos)
            rc = zarrc_error_set(ZARRC_ECORRUPT, "element %zu claims %lu bytes but only %zu remain", i,
                                 (unsigned long)len, in_size - pos);
        else if (len % es)
            rc = zarrc_error_set(ZARRC_ECORRUPT, "element %zu has %lu bytes, not a whole number of '%s' "
                                 "items", i, (unsigned long)len, s->item.name);
        else {
            size_t at = v.data.size;
            if ((rc = zarrc__vitems_append(&v, in + pos, len)) == ZARRC_OK) {
                swap_units(v.data.data + at, len, w);
                rc = zarrc__vitems_next(&v);
            }
            pos += len;
        }
    }
    if (rc == ZARRC_OK)
        rc = zarrc__vitems_finish(&v, out);
    zarrc__vitems_free(&v);
    return rc;
}

/* numcodecs `vlen-array` ({"id": "vlen-array", "dtype": "<i2"}); zarrs spells it
 * `numcodecs.vlen-array` in v3 with {} for string and bytes arrays. */
const zarrc_codec_type zarrc__codec_vlen_array = {
    ZARRC_CODEC_TYPE_VERSION, "numcodecs.vlen-array", "vlen-array", NULL, ZARRC_CODEC_ARRAY_TO_BYTES,
    varr_create, varr_destroy, varr_to_json, varr_encode, varr_decode,
};

extern const zarrc_codec_type zarrc__codec_json2, zarrc__codec_msgpack2;

bool zarrc__codec_decodes_owned(const zarrc_codec_type *t)
{
    return t == &zarrc__codec_vlen_array || t == &zarrc__codec_json2 || t == &zarrc__codec_msgpack2;
}

bool zarrc__codec_object_item(const zarrc__codec *c, zarrc_dtype_info *item)
{
    const varr_state *s = c->type == &zarrc__codec_vlen_array ? c->state : NULL;
    if (!s || !s->typed)
        return false;
    *item = s->item;
    return true;
}
