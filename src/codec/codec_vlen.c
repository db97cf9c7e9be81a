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
    if (!zarrc__dtype_is_byte_strings(&init->input->dtype))
        return zarrc_error_set(ZARRC_EINVAL, "only variable-length data types (string, bytes, registered "
                               "variable-length types) can use this codec, not '%s'", init->input->dtype.name);
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
static const char *const vlen_v2_aliases[] = {"https://codec.zarrs.dev/array_to_bytes/vlen_v2", NULL};

const zarrc_codec_type zarrc__codec_vlen_v2 = {
    ZARRC_CODEC_TYPE_VERSION, "zarrs.vlen_v2", NULL, vlen_v2_aliases, ZARRC_CODEC_ARRAY_TO_BYTES,
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
    if (zarrc__dtype_is_byte_strings(dt)) {
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
                if (len)
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

extern const zarrc_codec_type zarrc__codec_json2, zarrc__codec_msgpack2, zarrc__codec_zarrs_vlen, zarrc__codec_optional;

bool zarrc__codec_decodes_owned(const zarrc_codec_type *t)
{
    return t == &zarrc__codec_vlen_array || t == &zarrc__codec_json2 || t == &zarrc__codec_msgpack2 ||
           t == &zarrc__codec_zarrs_vlen || t == &zarrc__codec_optional;
}

bool zarrc__codec_object_item(const zarrc__codec *c, zarrc_dtype_info *item)
{
    const varr_state *s = c->type == &zarrc__codec_vlen_array ? c->state : NULL;
    if (!s || !s->typed)
        return false;
    *item = s->item;
    return true;
}

/* ---- zarrs.vlen: offsets and bytes through their own codec chains ---- */

static const char *const zvlen_aliases[] = {"https://codec.zarrs.dev/array_to_bytes/vlen", NULL};

static zarrc_vref elem_at_vref(const uint8_t *in, size_t i)
{
    zarrc_vref v;
    memcpy(&v, in + i * sizeof v, sizeof v);
    return v;
}

/* zarrs' experimental `zarrs.vlen` (zarrs/src/array/codec/array_to_bytes/vlen.rs): the chunk's
 * count + 1 offsets (uint32 or uint64, "index_data_type") are encoded by `index_codecs` as a
 * 1-D array, the concatenated element bytes by `data_codecs` as a 1-D uint8 array of their
 * length; stored as u64le(length of the encoded index) + index + data ("index_location":
 * "start", the default of the first draft) or data + index + u64le(length) ("end"). */
typedef struct zvlen_state {
    zarrc__pipeline *index;  /* for count + 1 offsets */
    json_object *index_codecs, *data_codecs;
    bool u64, at_end;
    size_t count;
} zvlen_state;

static void zvlen_destroy(void *state)
{
    zvlen_state *s = state;
    if (!s)
        return;
    zarrc__pipeline_free(s->index);
    json_object_put(s->index_codecs);
    json_object_put(s->data_codecs);
    free(s);
}

/* The pipeline for `n` data bytes. */
static int zvlen_data_pipeline(const zvlen_state *s, size_t n, zarrc__pipeline **out)
{
    zarrc_repr r;
    memset(&r, 0, sizeof r);
    int rc = zarrc_dtype_parse(&r.dtype, "uint8");
    r.ndim = 1;
    r.shape[0] = (int64_t)n;
    if (rc == ZARRC_OK && (rc = zarrc__pipeline_from_v3(out, s->data_codecs, &r)))
        rc = zarrc__error_context(rc, "data_codecs: ");
    return rc;
}

static int zvlen_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    *state = NULL;
    if (!init->input)
        return zarrc_error_set(ZARRC_EINVAL, "needs the chunk's data type");
    if (!zarrc__dtype_is_byte_strings(&init->input->dtype))
        return zarrc_error_set(ZARRC_EINVAL, "only variable-length data types (string, bytes) can use this "
                               "codec, not '%s'", init->input->dtype.name);
    json_object *c = ZJ(config), *ic = NULL, *dc = NULL, *it = NULL, *loc = NULL;
    json_object_object_get_ex(c, "index_codecs", &ic);
    json_object_object_get_ex(c, "data_codecs", &dc);
    json_object_object_get_ex(c, "index_data_type", &it);
    json_object_object_get_ex(c, "index_location", &loc);
    const char *its = json_object_get_string(it), *locs = json_object_get_string(loc);
    if (!json_object_is_type(ic, json_type_array) || !json_object_is_type(dc, json_type_array))
        return zarrc_error_set(ZARRC_EINVAL, "configuration needs \"index_codecs\" and \"data_codecs\" lists");
    if (!json_object_is_type(it, json_type_string) || (strcmp(its, "uint32") && strcmp(its, "uint64")))
        return zarrc_error_set(ZARRC_EINVAL, "\"index_data_type\" must be \"uint32\" or \"uint64\"");
    if (loc && (!json_object_is_type(loc, json_type_string) || (strcmp(locs, "start") && strcmp(locs, "end"))))
        return zarrc_error_set(ZARRC_EINVAL, "\"index_location\" must be \"start\" or \"end\"");
    json_object_object_foreach(c, key, val) {
        (void)val;
        if (strcmp(key, "index_codecs") && strcmp(key, "data_codecs") && strcmp(key, "index_data_type") &&
            strcmp(key, "index_location"))
            return zarrc_error_set(ZARRC_EINVAL, "unknown configuration member '%s'", key);
    }
    zvlen_state *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    s->u64 = !strcmp(its, "uint64");
    s->at_end = locs && !strcmp(locs, "end");
    s->index_codecs = json_object_get(ic);
    s->data_codecs = json_object_get(dc);
    int rc = zarrc__repr_count(init->input, &s->count);
    zarrc_repr r;
    memset(&r, 0, sizeof r);
    if (rc == ZARRC_OK && s->count == SIZE_MAX)
        rc = zarrc_error_set(ZARRC_EINVAL, "chunk is too large");
    if (rc == ZARRC_OK)
        rc = zarrc_dtype_parse(&r.dtype, its);
    r.ndim = 1;
    r.shape[0] = (int64_t)s->count + 1;
    if (rc == ZARRC_OK && (rc = zarrc__pipeline_from_v3(&s->index, ic, &r)))
        rc = zarrc__error_context(rc, "index_codecs: ");
    zarrc__pipeline *probe = NULL; /* the data codecs must make a pipeline too */
    if (rc == ZARRC_OK)
        rc = zvlen_data_pipeline(s, 1, &probe);
    zarrc__pipeline_free(probe);
    if (rc) {
        zvlen_destroy(s);
        return rc;
    }
    *state = s;
    return ZARRC_OK;
}

static int zvlen_to_json(const void *state, int format, zarrc_json *config)
{
    const zvlen_state *s = state;
    json_object *c = ZJ(config), *ic = NULL, *dc = NULL;
    (void)format;
    if (json_object_deep_copy(s->index_codecs, &ic, NULL) || json_object_deep_copy(s->data_codecs, &dc, NULL)) {
        json_object_put(ic);
        return zarrc__enomem();
    }
    json_object_object_add(c, "data_codecs", dc);
    json_object_object_add(c, "index_codecs", ic);
    json_object_object_add(c, "index_data_type", json_object_new_string(s->u64 ? "uint64" : "uint32"));
    json_object_object_add(c, "index_location", json_object_new_string(s->at_end ? "end" : "start"));
    return ZARRC_OK;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int zvlen_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t in_size,
                        zarrc_buf *out)
{
    const zvlen_state *s = state;
    size_t count = s->count, w = s->u64 ? 8 : 4;
    (void)call;
    if (in_size != count * sizeof(zarrc_vref))
        return zarrc_error_set(ZARRC_EINVAL, "expected %zu elements, got %zu bytes", count, in_size);
    zarrc_buf offs = ZARRC_BUF_INIT, data = ZARRC_BUF_INIT, ienc = ZARRC_BUF_INIT, denc = ZARRC_BUF_INIT;
    zarrc__scratch scr = {ZARRC_BUF_INIT, ZARRC_BUF_INIT};
    zarrc__pipeline *dp = NULL;
    int rc = zarrc_buf_reserve(&offs, (count + 1) * w);
    uint64_t pos = 0;
    for (size_t i = 0; rc == ZARRC_OK && i <= count; i++) {
        if (!s->u64 && pos > UINT32_MAX) {
            rc = zarrc_error_set(ZARRC_EINVAL, "the chunk's %llu bytes are too many for a uint32 index",
                                 (unsigned long long)pos);
            break;
        }
        if (s->u64)
            memcpy(offs.data + i * 8, &pos, 8);
        else {
            uint32_t p32 = (uint32_t)pos;
            memcpy(offs.data + i * 4, &p32, 4);
        }
        if (i == count)
            break;
        zarrc_vref v = elem_at_vref(in, i);
        if (v.len && !v.ptr)
            rc = zarrc_error_set(ZARRC_EINVAL, "element %zu has no data", i);
        else if (v.len && (rc = zarrc__buf_append(&data, v.ptr, (size_t)v.len)) == ZARRC_OK)
            pos += v.len;
    }
    offs.size = (count + 1) * w;
    if (rc == ZARRC_OK && (rc = zarrc__pipeline_encode(s->index, offs.data, offs.size, &scr, &ienc)))
        rc = zarrc__error_context(rc, "index: ");
    if (rc == ZARRC_OK && data.size) {
        if ((rc = zvlen_data_pipeline(s, data.size, &dp)) == ZARRC_OK &&
            (rc = zarrc__pipeline_encode(dp, data.data, data.size, &scr, &denc)))
            rc = zarrc__error_context(rc, "data: ");
    }
    size_t total = 8 + ienc.size + denc.size;
    if (rc == ZARRC_OK && (rc = zarrc_buf_reserve(out, total)) == ZARRC_OK) {
        uint8_t *p = out->data;
        if (!s->at_end) {
            put_le64(p, ienc.size);
            memcpy(p + 8, ienc.data, ienc.size);
            if (denc.size)
                memcpy(p + 8 + ienc.size, denc.data, denc.size);
        } else {
            if (denc.size)
                memcpy(p, denc.data, denc.size);
            memcpy(p + denc.size, ienc.data, ienc.size);
            put_le64(p + denc.size + ienc.size, ienc.size);
        }
        out->size = total;
    }
    zarrc__pipeline_free(dp);
    zarrc__scratch_release(&scr);
    zarrc_buf_release(&offs);
    zarrc_buf_release(&data);
    zarrc_buf_release(&ienc);
    zarrc_buf_release(&denc);
    return rc;
}

static int zvlen_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t in_size,
                        zarrc_buf *out)
{
    const zvlen_state *s = state;
    size_t count = s->count, w = s->u64 ? 8 : 4;
    if (in_size < 8)
        return zarrc_error_set(ZARRC_ECORRUPT, "truncated chunk: %zu bytes", in_size);
    const uint8_t *lenp = s->at_end ? in + in_size - 8 : in;
    uint64_t ilen = 0;
    for (int i = 7; i >= 0; i--)
        ilen = ilen << 8 | lenp[i];
    if (ilen > in_size - 8)
        return zarrc_error_set(ZARRC_ECORRUPT, "the index claims %llu bytes but the chunk has %zu",
                               (unsigned long long)ilen, in_size);
    const uint8_t *ienc = s->at_end ? in + in_size - 8 - ilen : in + 8;
    const uint8_t *denc = s->at_end ? in : in + 8 + ilen;
    size_t dlen = in_size - 8 - (size_t)ilen;
    zarrc_buf idx = ZARRC_BUF_INIT, data = ZARRC_BUF_INIT, none = ZARRC_BUF_INIT;
    zarrc__scratch scr = {ZARRC_BUF_INIT, ZARRC_BUF_INIT};
    zarrc__pipeline *dp = NULL;
    zarrc__vitems v;
    int rc = zarrc__vitems_init(&v, count, call->max_size);
    if (rc)
        return rc;
    if ((rc = zarrc__pipeline_decode(s->index, ienc, (size_t)ilen, &scr, &idx, &none)))
        rc = zarrc__error_context(rc, "index: ");
    uint64_t prev = 0, last = 0;
    for (size_t i = 0; rc == ZARRC_OK && i <= count; i++) {
        uint64_t o;
        if (s->u64)
            memcpy(&o, idx.data + i * 8, 8);
        else {
            uint32_t o32;
            memcpy(&o32, idx.data + i * 4, 4);
            o = o32;
        }
        if (i && o < prev)
            rc = zarrc_error_set(ZARRC_ECORRUPT, "index offsets decrease at element %zu", i);
        prev = last = o;
    }
    (void)w;
    if (rc == ZARRC_OK && last > v.max)
        rc = zarrc__codec_limit_error(call->max_size);
    if (rc == ZARRC_OK && last) {
        if ((rc = zvlen_data_pipeline(s, (size_t)last, &dp)) == ZARRC_OK &&
            (rc = zarrc__pipeline_decode(dp, denc, dlen, &scr, &data, &none)))
            rc = zarrc__error_context(rc, "data: ");
    }
    for (size_t i = 0; rc == ZARRC_OK && i < count; i++) {
        uint64_t a, b;
        if (s->u64) {
            memcpy(&a, idx.data + i * 8, 8);
            memcpy(&b, idx.data + (i + 1) * 8, 8);
        } else {
            uint32_t a32, b32;
            memcpy(&a32, idx.data + i * 4, 4);
            memcpy(&b32, idx.data + (i + 1) * 4, 4);
            a = a32;
            b = b32;
        }
        if ((rc = zarrc__vitems_append(&v, b > a ? data.data + a : NULL, (size_t)(b - a))) == ZARRC_OK)
            rc = zarrc__vitems_next(&v);
    }
    if (rc == ZARRC_OK)
        rc = zarrc__vitems_finish(&v, out);
    zarrc__vitems_free(&v);
    zarrc__pipeline_free(dp);
    zarrc__scratch_release(&scr);
    zarrc_buf_release(&idx);
    zarrc_buf_release(&data);
    zarrc_buf_release(&none);
    return rc;
}

const zarrc_codec_type zarrc__codec_zarrs_vlen = {
    ZARRC_CODEC_TYPE_VERSION, "zarrs.vlen", NULL, zvlen_aliases, ZARRC_CODEC_ARRAY_TO_BYTES,
    zvlen_create, zvlen_destroy, zvlen_to_json, zvlen_encode, zvlen_decode,
};
