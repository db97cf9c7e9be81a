/*
 * codec_sharding.c — sharding_indexed: a shard is a grid of inner chunks, each encoded with
 * its own codecs, plus an index of (offset, nbytes) pairs at the start or end. This file
 * holds the configuration, the index format and shard assembly; the I/O engine uses those
 * directly for partial reads and writes (io_shard.c), and the codec's own encode/decode
 * handle whole shards when sharding is not the array's only codec.
 */
#include <stdio.h>
#include <stdlib.h>

#include "codec.h"

static const char *const aliases[] = {"sharding", NULL};

static void destroy(void *state)
{
    zarrc__shard_spec *s = state;
    if (!s)
        return;
    zarrc__pipeline_free(s->inner_codecs);
    zarrc__pipeline_free(s->index_codecs);
    free(s);
}

void zarrc__shard_inner_name(const zarrc__shard_spec *s, size_t i, char *buf, size_t n)
{
    int64_t c[ZARRC_MAX_DIMS];
    for (int d = s->ndim - 1; d >= 0; d--) {
        c[d] = (int64_t)(i % (size_t)s->per_shard[d]);
        i /= (size_t)s->per_shard[d];
    }
    size_t len = (size_t)snprintf(buf, n, "(");
    for (int d = 0; d < s->ndim && len < n; d++)
        len += (size_t)snprintf(buf + len, n - len, d ? ", %lld" : "%lld", (long long)c[d]);
    if (len < n)
        snprintf(buf + len, n - len, ")");
}

/* The index's array representation: per_shard + [2] uint64, or, when `tiny` is given, the
 * same rank with tiny[0] inner chunks along the first dimension and 1 along the others. */
static zarrc_repr index_repr(const zarrc__shard_spec *s, const int64_t *tiny)
{
    zarrc_repr idx;
    memset(&idx, 0, sizeof idx);
    zarrc_dtype_parse(&idx.dtype, "uint64");
    idx.ndim = s->ndim + 1;
    for (int d = 0; d < s->ndim; d++)
        idx.shape[d] = tiny ? (d == 0 ? tiny[0] : 1) : s->per_shard[d];
    idx.shape[s->ndim] = 2;
    return idx;
}

/* Encoded size of an index of `k` inner chunks through `p`, which must not depend on the
 * entries: two different indexes are encoded and compared. */
static int probe_size(size_t *size, const zarrc__pipeline *p, size_t k)
{
    uint64_t probe[2][4];
    zarrc_buf a = ZARRC_BUF_INIT, b = ZARRC_BUF_INIT;
    zarrc__scratch scr = {ZARRC_BUF_INIT, ZARRC_BUF_INIT};
    memset(probe[0], 0xff, sizeof probe[0]);
    for (size_t i = 0; i < 4; i++)
        probe[1][i] = 0x0123456789abcdefull * (i + 1);
    int rc = zarrc__pipeline_encode(p, (const uint8_t *)probe[0], k * 16, &scr, &a);
    if (rc == ZARRC_OK)
        rc = zarrc__pipeline_encode(p, (const uint8_t *)probe[1], k * 16, &scr, &b);
    if (rc == ZARRC_OK && a.size != b.size)
        rc = zarrc_error_set(ZARRC_EINVAL, "index_codecs must be fixed-size (no compression)");
    *size = a.size;
    zarrc_buf_release(&a);
    zarrc_buf_release(&b);
    zarrc__scratch_release(&scr);
    return rc;
}

/* The index's encoded size is 16 bytes per inner chunk plus a constant (checksums). It is
 * measured on indexes of one and two inner chunks, so that opening an array costs nothing
 * proportional to the number of inner chunks per shard. */
static int index_overhead(size_t *overhead, const zarrc__shard_spec *s, const json_object *codecs)
{
    size_t size[2] = {0, 0};
    int rc = ZARRC_OK;
    for (int64_t k = 1; k <= 2 && rc == ZARRC_OK; k++) {
        if (k == 2 && s->ndim == 0)
            break; /* a scalar shard has one inner chunk: nothing to compare */
        zarrc_repr r = index_repr(s, &k);
        zarrc__pipeline *p = NULL;
        rc = zarrc__pipeline_from_v3(&p, codecs, &r);
        if (rc == ZARRC_OK)
            rc = probe_size(&size[k - 1], p, (size_t)k);
        zarrc__pipeline_free(p);
    }
    if (rc)
        return rc;
    if (size[0] < 16 || (s->ndim > 0 && size[1] != size[0] + 16))
        return zarrc_error_set(ZARRC_EINVAL, "index_codecs must store each index entry as is, plus at most a "
                               "fixed-size suffix (bytes, crc32c)");
    *overhead = size[0] - 16;
    return ZARRC_OK;
}

static const char *default_index_codecs =
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}]";

static int create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    const json_object *cfg = ZJ(config);
    if (init->format != 3)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "sharding exists only in v3");
    if (!init->input)
        return zarrc_error_set(ZARRC_EINVAL, "needs the shard's array representation");
    const zarrc_repr *in = init->input;
    zarrc__shard_spec *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    int rc = ZARRC_OK;
    json_object *shape = NULL, *codecs = NULL, *index_codecs = NULL, *loc = NULL, *dflt = NULL;
    json_object_object_get_ex((json_object *)cfg, "chunk_shape", &shape);
    json_object_object_get_ex((json_object *)cfg, "codecs", &codecs);
    json_object_object_get_ex((json_object *)cfg, "index_codecs", &index_codecs);
    json_object_object_get_ex((json_object *)cfg, "index_location", &loc);
    s->ndim = in->ndim;
    s->n_inner = 1;
    if (!json_object_is_type(shape, json_type_array) || (int)json_object_array_length(shape) != in->ndim) {
        rc = zarrc_error_set(ZARRC_EINVAL, "'chunk_shape' must list %d inner chunk lengths", in->ndim);
        goto fail;
    }
    for (int d = 0; d < in->ndim; d++) {
        int64_t v;
        if (zarrc_json_int(ZJC(json_object_array_get_idx(shape, (size_t)d)), &v) || v < 1 ||
            in->shape[d] % v) {
            rc = zarrc_error_set(ZARRC_EINVAL, "chunk_shape[%d] must be a positive divisor of the shard "
                                 "length %lld", d, (long long)in->shape[d]);
            goto fail;
        }
        s->shard[d] = in->shape[d];
        s->inner[d] = v;
        s->per_shard[d] = in->shape[d] / v;
        if (__builtin_mul_overflow(s->n_inner, (size_t)s->per_shard[d], &s->n_inner))
            s->n_inner = SIZE_MAX;
    }
    /* The index (16 bytes per inner chunk) is decoded data like any chunk: bound it before
     * anything is allocated for it. */
    size_t limit = zarrc__max_chunk_bytes();
    if (s->n_inner > limit / 16) {
        if (s->n_inner == SIZE_MAX)
            rc = zarrc_error_set(ZARRC_EUNSUPPORTED, "chunk_shape: the number of inner chunks per shard "
                                 "overflows");
        else
            rc = zarrc_error_set(ZARRC_EUNSUPPORTED, "chunk_shape: the index of %zu inner chunks per shard "
                                 "(16 bytes each) exceeds the limit of %zu bytes per chunk (raise it with "
                                 "ZARRC_MAX_CHUNK_BYTES or zarrc_set_max_chunk_bytes)", s->n_inner, limit);
        goto fail;
    }
    /* The index holds 16 bytes per inner chunk (the shard's byte size bounds n_inner, not this). */
    if (s->n_inner > SIZE_MAX / 16) {
        rc = zarrc_error_set(ZARRC_EINVAL, "%zu inner chunks per shard: the shard index would not fit in memory",
                             s->n_inner);
        goto fail;
    }
    if (!loc || (json_object_is_type(loc, json_type_string) && !strcmp(json_object_get_string(loc), "end")))
        s->index_at_end = true;
    else if (!json_object_is_type(loc, json_type_string) || strcmp(json_object_get_string(loc), "start")) {
        rc = zarrc_error_set(ZARRC_EINVAL, "'index_location' must be \"start\" or \"end\"");
        goto fail;
    }
    if (!codecs) {
        rc = zarrc_error_set(ZARRC_EINVAL, "missing 'codecs' (the inner chunks' codecs)");
        goto fail;
    }
    zarrc_repr inner = *in;
    for (int d = 0; d < in->ndim; d++)
        inner.shape[d] = s->inner[d];
    if ((rc = zarrc__pipeline_from_v3(&s->inner_codecs, codecs, &inner))) {
        zarrc__error_context(rc, "inner codecs: ");
        goto fail;
    }
    if (!index_codecs)
        index_codecs = dflt = json_tokener_parse(default_index_codecs);
    zarrc_repr idx = index_repr(s, NULL);
    rc = zarrc__pipeline_from_v3(&s->index_codecs, index_codecs, &idx);
    size_t overhead = 0;
    if (rc == ZARRC_OK)
        rc = index_overhead(&overhead, s, index_codecs);
    json_object_put(dflt);
    if (rc) {
        zarrc__error_context(rc, "index codecs: ");
        goto fail;
    }
    s->index_size = s->n_inner * 16 + overhead; /* n_inner <= limit / 16: no overflow */
    *state = s;
    return ZARRC_OK;
fail:
    destroy(s);
    return rc;
}

static int to_json(const void *state, int format, zarrc_json *config)
{
    const zarrc__shard_spec *s = state;
    if (format != 3)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "v2 cannot express sharding");
    json_object *cfg = ZJ(config), *shape = json_object_new_array(), *codecs, *index;
    for (int d = 0; d < s->ndim; d++)
        json_object_array_add(shape, json_object_new_int64(s->inner[d]));
    json_object_object_add(cfg, "chunk_shape", shape);
    int rc = zarrc__pipeline_to_v3(&codecs, s->inner_codecs);
    if (rc)
        return rc;
    json_object_object_add(cfg, "codecs", codecs);
    if ((rc = zarrc__pipeline_to_v3(&index, s->index_codecs)))
        return rc;
    json_object_object_add(cfg, "index_codecs", index);
    json_object_object_add(cfg, "index_location", json_object_new_string(s->index_at_end ? "end" : "start"));
    return ZARRC_OK;
}

typedef struct span {
    uint64_t off, len;
    size_t i;
} span;

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

int zarrc__shard_index_decode(const zarrc__shard_spec *s, const uint8_t *bytes, size_t n, uint64_t shard_size,
                              uint64_t *entries)
{
    char name[32 + 24 * ZARRC_MAX_DIMS];
    if (n != s->index_size)
        return zarrc_error_set(ZARRC_ECORRUPT, "shard index has %zu bytes, expected %zu", n, s->index_size);
    zarrc_buf out = {(uint8_t *)entries, 0, s->n_inner * 16, 1}, keep = ZARRC_BUF_INIT;
    zarrc__scratch scr = {ZARRC_BUF_INIT, ZARRC_BUF_INIT};
    int rc = zarrc__pipeline_decode(s->index_codecs, bytes, n, &scr, &out, &keep);
    zarrc__scratch_release(&scr);
    zarrc_buf_release(&keep);
    if (rc)
        return zarrc__error_context(rc, "shard index: ");
    /* Validate: both halves empty or neither, no overflow, inside the shard, no overlaps. */
    span *spans = zarrc__malloc(s->n_inner * sizeof *spans);
    if (!spans)
        return ZARRC_ENOMEM;
    size_t ns = 0;
    uint64_t lo = s->index_at_end ? 0 : s->index_size;
    /* Without the shard's size, offsets must still be valid store offsets (int64). */
    uint64_t hi = shard_size ? (s->index_at_end ? shard_size - s->index_size : shard_size) : (uint64_t)INT64_MAX;
    for (size_t i = 0; i < s->n_inner && rc == ZARRC_OK; i++) {
        uint64_t off = entries[2 * i], len = entries[2 * i + 1];
        if (off == ZARRC_SHARD_EMPTY && len == ZARRC_SHARD_EMPTY)
            continue;
        zarrc__shard_inner_name(s, i, name, sizeof name);
        if (off == ZARRC_SHARD_EMPTY || len == ZARRC_SHARD_EMPTY || off + len < off)
            rc = zarrc_error_set(ZARRC_ECORRUPT, "shard index: invalid entry (offset %llu, nbytes %llu) "
                                 "for inner chunk %s", (unsigned long long)off, (unsigned long long)len, name);
        else if (off < lo || off + len > hi)
            rc = zarrc_error_set(ZARRC_ECORRUPT, "shard index: inner chunk %s at bytes [%llu, %llu) lies "
                                 "outside the shard's data (%llu bytes)", name, (unsigned long long)off,
                                 (unsigned long long)(off + len), (unsigned long long)shard_size);
        else if (len)
            spans[ns++] = (span){off, len, i};
    }
    if (rc == ZARRC_OK) {
        qsort(spans, ns, sizeof *spans, cmp_span);
        for (size_t k = 1; k < ns && rc == ZARRC_OK; k++)
            if (spans[k - 1].off + spans[k - 1].len > spans[k].off) {
                char other[32 + 24 * ZARRC_MAX_DIMS];
                zarrc__shard_inner_name(s, spans[k - 1].i, name, sizeof name);
                zarrc__shard_inner_name(s, spans[k].i, other, sizeof other);
                rc = zarrc_error_set(ZARRC_ECORRUPT, "shard index: inner chunks %s and %s overlap", name, other);
            }
    }
    free(spans);
    return rc;
}

int zarrc__shard_layout(const zarrc__shard_spec *s, const zarrc_vref *parts, uint64_t *entries, zarrc_buf *index,
                        zarrc_vref *pieces, size_t *npieces)
{
    uint64_t pos = s->index_at_end ? 0 : s->index_size;
    size_t n = s->index_at_end ? 0 : 1;
    for (size_t i = 0; i < s->n_inner; i++) {
        if (parts[i].ptr) {
            entries[2 * i] = pos;
            entries[2 * i + 1] = parts[i].len;
            pos += parts[i].len;
            if (parts[i].len)
                pieces[n++] = parts[i];
        } else
            entries[2 * i] = entries[2 * i + 1] = ZARRC_SHARD_EMPTY;
    }
    zarrc__scratch scr = {ZARRC_BUF_INIT, ZARRC_BUF_INIT};
    int rc = zarrc__pipeline_encode(s->index_codecs, (const uint8_t *)entries, s->n_inner * 16, &scr, index);
    zarrc__scratch_release(&scr);
    if (rc == ZARRC_OK && index->size != s->index_size)
        return zarrc_error_set(ZARRC_EINTERNAL, "shard index encoded to %zu bytes, expected %zu", index->size,
                               s->index_size);
    if (rc)
        return rc;
    zarrc_vref idx = {index->data, index->size};
    if (s->index_at_end)
        pieces[n++] = idx;
    else
        pieces[0] = idx;
    *npieces = n;
    return ZARRC_OK;
}

int zarrc__shard_assemble(const zarrc__shard_spec *s, const zarrc_vref *parts, zarrc_buf *out, uint64_t *entries)
{
    zarrc_buf index = ZARRC_BUF_INIT;
    zarrc_vref *pieces = zarrc__malloc((s->n_inner + 1) * sizeof *pieces);
    size_t n = 0, size = 0;
    int rc = pieces ? zarrc__shard_layout(s, parts, entries, &index, pieces, &n) : ZARRC_ENOMEM;
    for (size_t i = 0; rc == ZARRC_OK && i < n; i++)
        size += pieces[i].len;
    if (rc == ZARRC_OK)
        rc = zarrc_buf_reserve(out, size);
    if (rc == ZARRC_OK) {
        out->size = 0;
        for (size_t i = 0; i < n; i++) {
            memcpy(out->data + out->size, pieces[i].ptr, pieces[i].len);
            out->size += pieces[i].len;
        }
    }
    free(pieces);
    zarrc_buf_release(&index);
    return rc;
}

/* Byte strides of the shard (C order) and the offset of inner chunk i in it. */
static size_t inner_offset(const zarrc__shard_spec *s, size_t i, const int64_t *strides)
{
    size_t off = 0;
    for (int d = s->ndim - 1; d >= 0; d--) {
        off += (size_t)((int64_t)(i % (size_t)s->per_shard[d]) * s->inner[d] * strides[d]);
        i /= (size_t)s->per_shard[d];
    }
    return off;
}

static void shard_strides(const zarrc__shard_spec *s, size_t es, int64_t *shard, int64_t *inner)
{
    int64_t a = (int64_t)es, b = (int64_t)es;
    for (int d = s->ndim - 1; d >= 0; d--) {
        shard[d] = a;
        inner[d] = b;
        a *= s->shard[d];
        b *= s->inner[d];
    }
}

static int encode(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t n, zarrc_buf *out)
{
    const zarrc__shard_spec *s = state;
    const zarrc_repr *ir = &s->inner_codecs->chunk;
    size_t es = zarrc_dtype_elem_size(&ir->dtype), inner_elems = 1;
    for (int d = 0; d < s->ndim; d++)
        inner_elems *= (size_t)s->inner[d];
    int64_t ss[ZARRC_MAX_DIMS], is[ZARRC_MAX_DIMS];
    shard_strides(s, es, ss, is);
    zarrc_buf chunk = ZARRC_BUF_INIT;
    zarrc_buf *enc = zarrc__calloc(s->n_inner, sizeof *enc);
    zarrc_vref *parts = zarrc__calloc(s->n_inner, sizeof *parts);
    uint64_t *entries = zarrc__malloc(s->n_inner * 16);
    zarrc__scratch scr = {ZARRC_BUF_INIT, ZARRC_BUF_INIT};
    int rc = enc && parts && entries ? zarrc_buf_reserve(&chunk, inner_elems * es) : ZARRC_ENOMEM;
    for (size_t i = 0; i < s->n_inner && rc == ZARRC_OK; i++) {
        zarrc__copy_box(chunk.data, is, in + inner_offset(s, i, ss), ss, s->inner, s->ndim, es);
        if (zarrc__repr_is_fill(ir, chunk.data, inner_elems))
            continue; /* empty inner chunks are not stored */
        rc = zarrc__pipeline_encode(s->inner_codecs, chunk.data, inner_elems * es, &scr, &enc[i]);
        if (rc) {
            char name[32 + 24 * ZARRC_MAX_DIMS];
            zarrc__shard_inner_name(s, i, name, sizeof name);
            zarrc__error_context(rc, "inner chunk %s: ", name);
        }
        parts[i] = (zarrc_vref){enc[i].data ? enc[i].data : (const uint8_t *)"", enc[i].size};
    }
    if (rc == ZARRC_OK)
        rc = zarrc__shard_assemble(s, parts, out, entries);
    for (size_t i = 0; enc && i < s->n_inner; i++)
        zarrc_buf_release(&enc[i]);
    free(enc);
    free(parts);
    free(entries);
    zarrc_buf_release(&chunk);
    zarrc__scratch_release(&scr);
    return rc;
}

static int decode(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t n, zarrc_buf *out)
{
    const zarrc__shard_spec *s = state;
    const zarrc_repr *ir = &s->inner_codecs->chunk;
    if (zarrc__dtype_is_vlen(&ir->dtype))
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "variable-length types in shards need sharding to be the "
                               "array's only codec");
    size_t es = ir->dtype.item_size, inner_elems = 1, shard_elems = 1;
    for (int d = 0; d < s->ndim; d++) {
        inner_elems *= (size_t)s->inner[d];
        shard_elems *= (size_t)s->shard[d];
    }
    if (n < s->index_size)
        return zarrc_error_set(ZARRC_ECORRUPT, "shard of %zu bytes is shorter than its index (%zu bytes)", n,
                               s->index_size);
    uint64_t *entries = zarrc__malloc(s->n_inner * 16);
    if (!entries)
        return ZARRC_ENOMEM;
    const uint8_t *index = s->index_at_end ? in + n - s->index_size : in;
    int rc = zarrc__shard_index_decode(s, index, s->index_size, n, entries);
    int64_t ss[ZARRC_MAX_DIMS], is[ZARRC_MAX_DIMS];
    shard_strides(s, es, ss, is);
    zarrc_buf chunk = ZARRC_BUF_INIT, keep = ZARRC_BUF_INIT;
    zarrc__scratch scr = {ZARRC_BUF_INIT, ZARRC_BUF_INIT};
    if (rc == ZARRC_OK)
        rc = zarrc_buf_reserve(out, shard_elems * es);
    for (size_t i = 0; i < s->n_inner && rc == ZARRC_OK; i++) {
        uint8_t *dst = out->data + inner_offset(s, i, ss);
        if (entries[2 * i] == ZARRC_SHARD_EMPTY) {
            zarrc__fill_box(dst, ss, s->inner, s->ndim, ir->fill, es);
            continue;
        }
        chunk.size = 0;
        rc = zarrc__pipeline_decode(s->inner_codecs, in + entries[2 * i], entries[2 * i + 1], &scr, &chunk, &keep);
        if (rc) {
            char name[32 + 24 * ZARRC_MAX_DIMS];
            zarrc__shard_inner_name(s, i, name, sizeof name);
            zarrc__error_context(rc, "inner chunk %s: ", name);
            break;
        }
        zarrc__copy_box(dst, ss, chunk.data, is, s->inner, s->ndim, es);
    }
    if (rc == ZARRC_OK)
        out->size = shard_elems * es;
    free(entries);
    zarrc_buf_release(&chunk);
    zarrc_buf_release(&keep);
    zarrc__scratch_release(&scr);
    return rc;
}

const zarrc_codec_type zarrc__codec_sharding = {
    ZARRC_CODEC_TYPE_VERSION, "sharding_indexed", NULL, aliases, ZARRC_CODEC_ARRAY_TO_BYTES,
    create, destroy, to_json, encode, decode,
};
