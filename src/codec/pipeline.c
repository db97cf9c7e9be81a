/* pipeline.c — codec pipelines: build from v2 or v3 (or mixed user) spellings, emit both, run. */
#include <stdio.h>
#include <stdlib.h>

#include "codec.h"

static int64_t repr_count(const zarrc_repr *r)
{
    int64_t n = 1;
    for (int d = 0; d < r->ndim; d++)
        n *= r->shape[d];
    return n;
}

void zarrc__pipeline_free(zarrc__pipeline *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        zarrc__codec_fini(&p->codecs[i]);
    free(p->codecs);
    free(p);
}

static zarrc__pipeline *pipeline_new(const zarrc_repr *chunk)
{
    zarrc__pipeline *p = zarrc__calloc(1, sizeof *p);
    if (p) {
        p->chunk = *chunk;
        p->a2b = SIZE_MAX;
    }
    return p;
}

/* The representation the next array-side codec sees. */
static const zarrc_repr *current_repr(const zarrc__pipeline *p)
{
    for (size_t i = p->n; i-- > 0;)
        if (p->codecs[i].type->kind == ZARRC_CODEC_ARRAY_TO_ARRAY)
            return &p->codecs[i].out;
    return &p->chunk;
}

static int append(zarrc__pipeline *p, const zarrc_codec_type *type, const json_object *config, int format)
{
    if (p->n >= ZARRC_MAX_CODECS)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "more than %d codecs in one pipeline", ZARRC_MAX_CODECS);
    if (type->kind == ZARRC_CODEC_ARRAY_TO_ARRAY && p->a2b != SIZE_MAX)
        return zarrc_error_set(ZARRC_EINVAL, "array-to-array codec '%s' after the array-to-bytes codec",
                               type->name);
    if (type->kind == ZARRC_CODEC_ARRAY_TO_BYTES && p->a2b != SIZE_MAX)
        return zarrc_error_set(ZARRC_EINVAL, "more than one array-to-bytes codec ('%s' and '%s')",
                               p->codecs[p->a2b].type->name, type->name);
    if (type->kind == ZARRC_CODEC_BYTES_TO_BYTES && p->a2b == SIZE_MAX)
        return zarrc_error_set(ZARRC_EINVAL, "bytes-to-bytes codec '%s' before the array-to-bytes codec",
                               type->name);
    zarrc__codec *c = zarrc__realloc(p->codecs, (p->n + 1) * sizeof *c);
    if (!c)
        return ZARRC_ENOMEM;
    p->codecs = c;
    const zarrc_repr *in = current_repr(p);
    zarrc_repr input = *in;
    int rc = zarrc__codec_init(&p->codecs[p->n], type, config, format, &input, input.dtype.big_endian);
    if (rc)
        return rc;
    if (type->kind == ZARRC_CODEC_ARRAY_TO_BYTES)
        p->a2b = p->n;
    p->n++;
    return ZARRC_OK;
}

static int append_by_name(zarrc__pipeline *p, const char *name)
{
    return append(p, zarrc__codec_find_v3(name), NULL, 3);
}

static int append_transpose_f(zarrc__pipeline *p)
{
    if (p->chunk.ndim < 2)
        return ZARRC_OK;
    json_object *cfg = json_object_new_object(), *order = json_object_new_array();
    for (int d = p->chunk.ndim - 1; d >= 0; d--)
        json_object_array_add(order, json_object_new_int(d));
    json_object_object_add(cfg, "order", order);
    int rc = append(p, zarrc__codec_find_v3("transpose"), cfg, 3);
    json_object_put(cfg);
    return rc;
}

/* The array-to-bytes codec a pipeline gets when none is given. */
static const char *default_a2b(const zarrc_repr *r)
{
    return r->dtype.kind == ZARRC_DTYPE_STRING ? "vlen-utf8"
         : r->dtype.kind == ZARRC_DTYPE_VBYTES ? "vlen-bytes"
         : r->dtype.kind == ZARRC_DTYPE_OPTIONAL ? "zarrs.optional"
         : r->dtype.kind == ZARRC_DTYPE_USER ? zarrc__user_default_codec(&r->dtype) : "bytes";
}

/* Bytes of one chunk in representation r; SIZE_MAX if that overflows. */
static size_t repr_bytes(const zarrc_repr *r)
{
    size_t n = zarrc_dtype_elem_size(&r->dtype);
    for (int d = 0; d < r->ndim; d++)
        if (__builtin_mul_overflow(n, (size_t)r->shape[d], &n))
            return SIZE_MAX;
    return n;
}

/* Every array representation a chunk goes through must fit the per-chunk limit — except in
 * the sharding fast path, which never decodes a shard as a whole (the sharding codec bounds
 * its inner chunks and its index). `field` names the chunk shape's member in errors. */
static int check_chunk_bytes(const zarrc__pipeline *p, const char *field)
{
    if (zarrc__pipeline_shard_spec(p))
        return ZARRC_OK;
    size_t limit = zarrc__max_chunk_bytes(), worst = repr_bytes(&p->chunk);
    for (size_t i = 0; i <= p->a2b; i++) {
        size_t in = repr_bytes(&p->codecs[i].in), out = repr_bytes(&p->codecs[i].out);
        worst = in > worst ? in : worst;
        if (p->codecs[i].type->kind == ZARRC_CODEC_ARRAY_TO_ARRAY && out > worst)
            worst = out;
    }
    if (worst <= limit)
        return ZARRC_OK;
    char shape[24 * ZARRC_MAX_DIMS + 4];
    size_t len = 0;
    shape[len++] = '[';
    for (int d = 0; d < p->chunk.ndim; d++)
        len += (size_t)snprintf(shape + len, sizeof shape - len, d ? ", %lld" : "%lld",
                                (long long)p->chunk.shape[d]);
    snprintf(shape + len, sizeof shape - len, "]");
    if (worst == SIZE_MAX)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "%s %s: a chunk's size in bytes overflows", field, shape);
    return zarrc_error_set(ZARRC_EUNSUPPORTED, "%s %s: a chunk of %zu bytes exceeds the limit of %zu bytes "
                           "per chunk (raise it with ZARRC_MAX_CHUNK_BYTES or zarrc_set_max_chunk_bytes)",
                           field, shape, worst, limit);
}

static int finish(zarrc__pipeline *p, const char *field)
{
    if (p->a2b == SIZE_MAX) {
        int rc = append_by_name(p, default_a2b(current_repr(p)));
        if (rc)
            return rc;
    }
    p->identity_layout = p->a2b == 0;
    p->validate = zarrc__user_has_validate(&p->chunk.dtype) &&
                  strcmp(p->codecs[p->a2b].type->name, "sharding_indexed");
    const zarrc_repr *r = &p->codecs[p->a2b].in;
    /* Only `bytes` encodes to a known size; a shard (sharding_indexed) has its own layout. */
    bool bytes_a2b = !strcmp(p->codecs[p->a2b].type->name, "bytes");
    p->fixed_size = zarrc__dtype_is_vlen(&r->dtype) || !bytes_a2b
                        ? 0 : (size_t)repr_count(r) * r->dtype.item_size;
    if (bytes_a2b && r->dtype.kind == ZARRC_DTYPE_STRUCT) {
        /* records are swapped field by field (each v2 field has its own byte order): never a
         * plain copy, and no single order to report */
        p->a2b_noop = false;
        p->bytes_only = false;
        p->passthrough = false;
    } else if (bytes_a2b) {
        json_object *j = NULL, *conf = NULL, *endian = NULL;
        int rc = zarrc__codec_to_json(&j, &p->codecs[p->a2b], 3);
        if (rc)
            return rc;
        json_object_object_get_ex(j, "configuration", &conf);
        json_object_object_get_ex(conf, "endian", &endian);
        bool big = endian && !strcmp(json_object_get_string(endian), "big");
        json_object_put(j);
        /* sub-byte types are never a no-op: decoding normalizes the unused bits */
        bool subbyte = zarrc__dtype_subbyte_bits(&r->dtype) != 0;
        p->a2b_noop = !subbyte && (big == zarrc__host_big_endian() || zarrc__dtype_swap_width(&r->dtype) == 1);
        p->bytes_only = p->n == 1 && !subbyte;
        p->bytes_big_endian = big;
        p->passthrough = p->bytes_only && p->a2b_noop;
    }
    return check_chunk_bytes(p, field);
}

/* One entry of a codec list in either spelling. */
static int append_entry(zarrc__pipeline *p, const json_object *e, bool allow_v2, bool implicit_bytes)
{
    const char *name;
    const json_object *config = NULL;
    bool must_understand = true;
    int format = 3;
    const zarrc_codec_type *type;
    if (json_object_is_type((json_object *)e, json_type_string)) {
        name = json_object_get_string((json_object *)e);
        type = zarrc__codec_find_v3(name);
    } else if (json_object_is_type((json_object *)e, json_type_object)) {
        json_object *n = NULL, *id = NULL, *mu = NULL, *cfg = NULL;
        json_object_object_get_ex((json_object *)e, "name", &n);
        json_object_object_get_ex((json_object *)e, "id", &id);
        if (json_object_is_type(n, json_type_string)) {
            name = json_object_get_string(n);
            json_object_object_get_ex((json_object *)e, "configuration", &cfg);
            if (cfg && !json_object_is_type(cfg, json_type_object))
                return zarrc_error_set(ZARRC_EINVAL, "codec '%s': configuration must be an object", name);
            if (json_object_object_get_ex((json_object *)e, "must_understand", &mu))
                must_understand = !json_object_is_type(mu, json_type_boolean) || json_object_get_boolean(mu);
            config = cfg;
            type = zarrc__codec_find_v3(name);
        } else if (allow_v2 && json_object_is_type(id, json_type_string)) {
            name = json_object_get_string(id);
            config = e;
            format = 2;
            type = zarrc__codec_find_v2(name);
        } else
            return zarrc_error_set(ZARRC_EINVAL, "a codec must be a name or an object with a \"name\"%s",
                                   allow_v2 ? " or an \"id\"" : "");
    } else
        return zarrc_error_set(ZARRC_EINVAL, "a codec must be a name or an object");
    if (!type) {
        if (!must_understand)
            return ZARRC_OK; /* optional codec we do not know: skipped */
        const char *why = zarrc__codec_unsupported_reason(name);
        if (why)
            return zarrc_error_set(ZARRC_EUNSUPPORTED, "codec '%s' is not supported: %s", name, why);
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "unknown codec '%s'", name);
    }
    if (implicit_bytes && type->kind == ZARRC_CODEC_BYTES_TO_BYTES && p->a2b == SIZE_MAX) {
        int rc = append_by_name(p, default_a2b(current_repr(p)));
        if (rc)
            return rc;
    }
    return append(p, type, config, format);
}

static int build_done(zarrc__pipeline **out, zarrc__pipeline *p, int rc, const char *field)
{
    if (rc == ZARRC_OK)
        rc = finish(p, field);
    if (rc) {
        zarrc__pipeline_free(p);
        return rc;
    }
    *out = p;
    return ZARRC_OK;
}

int zarrc__pipeline_from_v3(zarrc__pipeline **out, const json_object *codecs, const zarrc_repr *chunk)
{
    zarrc__pipeline *p = pipeline_new(chunk);
    if (!p)
        return ZARRC_ENOMEM;
    int rc = ZARRC_OK;
    if (!json_object_is_type((json_object *)codecs, json_type_array))
        rc = zarrc_error_set(ZARRC_EINVAL, "'codecs' must be a list");
    size_t n = json_object_array_length(codecs);
    for (size_t i = 0; rc == ZARRC_OK && i < n; i++)
        rc = append_entry(p, json_object_array_get_idx(codecs, i), false, false);
    if (rc == ZARRC_OK && p->a2b == SIZE_MAX && n > 0)
        rc = zarrc_error_set(ZARRC_EINVAL, "the codec list has no array-to-bytes codec");
    /* n == 0 (zarrita's "codecs": []): finish() adds the default array-to-bytes codec. */
    return build_done(out, p, rc, "chunk_shape");
}

int zarrc__pipeline_from_v2(zarrc__pipeline **out, const json_object *filters,
                            const json_object *compressor, char order, const zarrc_repr *chunk)
{
    zarrc__pipeline *p = pipeline_new(chunk);
    if (!p)
        return ZARRC_ENOMEM;
    int rc = order == 'F' ? append_transpose_f(p) : ZARRC_OK;
    bool vlen = zarrc__dtype_is_vlen(&chunk->dtype);
    for (size_t i = 0; rc == ZARRC_OK && filters && i < json_object_array_length(filters); i++)
        rc = append_entry(p, json_object_array_get_idx(filters, i), true, true);
    if (rc == ZARRC_OK && vlen && p->a2b == SIZE_MAX && !zarrc__dtype_is_user_vlen(&chunk->dtype))
        rc = zarrc_error_set(ZARRC_EUNSUPPORTED, "object (|O) array without an object codec "
                             "(vlen-utf8 or vlen-bytes) in its filters");
    if (rc == ZARRC_OK && compressor)
        rc = append_entry(p, compressor, true, true);
    p->v2_no_compressor = !compressor;
    return build_done(out, p, rc, "chunks");
}

int zarrc__pipeline_from_any(zarrc__pipeline **out, const json_object *codecs, char order,
                             const zarrc_repr *chunk)
{
    zarrc__pipeline *p = pipeline_new(chunk);
    if (!p)
        return ZARRC_ENOMEM;
    int rc = ZARRC_OK;
    if (codecs && !json_object_is_type((json_object *)codecs, json_type_array))
        rc = zarrc_error_set(ZARRC_EINVAL, "codecs must be a JSON list");
    if (rc == ZARRC_OK && order == 'F')
        rc = append_transpose_f(p);
    for (size_t i = 0; rc == ZARRC_OK && codecs && i < json_object_array_length(codecs); i++)
        rc = append_entry(p, json_object_array_get_idx(codecs, i), true, true);
    return build_done(out, p, rc, "chunks");
}

int zarrc__pipeline_to_v3(json_object **out, const zarrc__pipeline *p)
{
    json_object *list = json_object_new_array();
    for (size_t i = 0; i < p->n; i++) {
        json_object *c;
        int rc = zarrc__codec_to_json(&c, &p->codecs[i], 3);
        if (rc) {
            json_object_put(list);
            return rc;
        }
        json_object_array_add(list, c);
    }
    *out = list;
    return ZARRC_OK;
}

int zarrc__pipeline_to_v2(const zarrc__pipeline *p, json_object **filters_out,
                          json_object **compressor_out, char *order, bool *big_endian)
{
    json_object *filters = json_object_new_array(), *compressor = NULL, *cfg = NULL;
    int rc = ZARRC_OK;
    size_t i = 0;
    *order = 'C';
    *big_endian = false;
    if (p->n && !strcmp(p->codecs[0].type->name, "transpose") && p->a2b > 0) {
        /* Only the identity (C) and the full reversal (F) exist in v2. */
        if ((rc = zarrc__codec_to_json(&cfg, &p->codecs[0], 3)))
            goto fail;
        json_object *conf = NULL, *ord = NULL;
        json_object_object_get_ex(cfg, "configuration", &conf);
        json_object_object_get_ex(conf, "order", &ord);
        int n = (int)json_object_array_length(ord);
        bool ident = true, rev = true;
        for (int d = 0; d < n; d++) {
            int v = json_object_get_int(json_object_array_get_idx(ord, (size_t)d));
            ident &= v == d;
            rev &= v == n - 1 - d;
        }
        if (!ident && !rev) {
            rc = zarrc_error_set(ZARRC_EUNSUPPORTED, "v2 cannot express the transpose order %s "
                                 "(only C or F order)", json_object_to_json_string_ext(ord, JSON_C_TO_STRING_PLAIN));
            goto fail;
        }
        *order = rev && !ident ? 'F' : 'C';
        json_object_put(cfg);
        cfg = NULL;
        i = 1;
    }
    for (; i < p->n; i++) {
        const zarrc__codec *c = &p->codecs[i];
        if (i == p->a2b && !strcmp(c->type->name, "bytes")) {
            if ((rc = zarrc__codec_to_json(&cfg, c, 3))) {
                if (rc == ZARRC_EUNSUPPORTED && c->in.dtype.kind == ZARRC_DTYPE_STRUCT) {
                    /* fields of mixed byte orders: each v2 field spells its own */
                    zarrc__error_clear();
                    rc = ZARRC_OK;
                    continue;
                }
                goto fail;
            }
            json_object *conf = NULL, *endian = NULL;
            json_object_object_get_ex(cfg, "configuration", &conf);
            json_object_object_get_ex(conf, "endian", &endian);
            *big_endian = endian && !strcmp(json_object_get_string(endian), "big");
            json_object_put(cfg);
            cfg = NULL;
            continue;
        }
        if (!c->type->v2_id) {
            rc = zarrc_error_set(ZARRC_EUNSUPPORTED, "v2 cannot express codec '%s'%s", c->type->name,
                                 c->type->kind == ZARRC_CODEC_ARRAY_TO_ARRAY ? " (not the first codec)" : "");
            goto fail;
        }
        json_object *j;
        if ((rc = zarrc__codec_to_json(&j, c, 2)))
            goto fail;
        /* numcodecs' zfpy is an array-to-bytes codec that v2 spells as the compressor */
        bool compressor_kind = c->type->kind == ZARRC_CODEC_BYTES_TO_BYTES ||
                               (i == p->a2b && !strcmp(c->type->v2_id, "zfpy"));
        if (compressor_kind && i == p->n - 1 && !p->v2_no_compressor)
            compressor = j;
        else
            json_object_array_add(filters, j);
    }
    if (json_object_array_length(filters) == 0) {
        json_object_put(filters);
        filters = NULL;
    }
    *filters_out = filters;
    *compressor_out = compressor;
    return ZARRC_OK;
fail:
    json_object_put(cfg);
    json_object_put(filters);
    json_object_put(compressor);
    return rc;
}

void zarrc__scratch_release(zarrc__scratch *s)
{
    zarrc_buf_release(&s->a);
    zarrc_buf_release(&s->b);
}

static zarrc_buf *other(zarrc__scratch *s, const uint8_t *cur)
{
    return cur == s->a.data && cur ? &s->b : &s->a;
}

int zarrc__pipeline_encode(const zarrc__pipeline *p, const uint8_t *chunk, size_t size,
                           zarrc__scratch *s, zarrc_buf *out)
{
    const uint8_t *cur = chunk;
    size_t n = size;
    if (p->validate) { /* before anything of the chunk is encoded (and stored) */
        int rc = zarrc__user_validate(&p->chunk.dtype, (const zarrc_vref *)(const void *)chunk,
                                      size / sizeof(zarrc_vref), p->chunk.fill);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < p->n; i++) {
        if (i == p->a2b && p->a2b_noop && i != p->n - 1)
            continue; /* native `bytes` is the identity: the next codec takes the array's bytes */
        zarrc_buf *dst = i == p->n - 1 ? out : other(s, cur);
        int rc = zarrc__codec_encode(&p->codecs[i], cur, n, dst);
        if (rc)
            return rc;
        cur = dst->data;
        n = dst->size;
    }
    return ZARRC_OK;
}

/* The most output a bytes→bytes decode stage before the last may produce. Fixed-size chunks:
 * twice the chunk's size plus 1 MiB (compressors and checksums add far less, even on data
 * they cannot compress); variable-length chunks: the per-chunk limit. */
static size_t stage_bound(const zarrc__pipeline *p)
{
    size_t b = p->fixed_size, slack = (size_t)1 << 20;
    if (!b)
        return zarrc__max_chunk_bytes();
    return b > (SIZE_MAX - slack) / 2 ? SIZE_MAX : 2 * b + slack;
}

int zarrc__pipeline_decode(const zarrc__pipeline *p, const uint8_t *in, size_t n,
                           zarrc__scratch *s, zarrc_buf *out, zarrc_buf *keep)
{
    const uint8_t *cur = in;
    int rc;
    /* With native `bytes` (a no-op), the last bytes→bytes decoder writes the decoded array
     * directly — into `out` when no array→array codec follows (often the caller's buffer). */
    bool skip_a2b = p->a2b_noop && p->n > p->a2b + 1;
    for (size_t i = p->n; i-- > p->a2b + 1;) {
        bool last = i == p->a2b + 1;
        zarrc_buf *dst = last && skip_a2b && p->a2b == 0 ? out : other(s, cur);
        size_t expect = last ? p->fixed_size : 0;
        if ((rc = zarrc__codec_decode(&p->codecs[i], cur, n, expect, last ? 0 : stage_bound(p), dst)))
            return rc;
        cur = dst->data;
        n = dst->size;
    }
    if (zarrc__codec_decodes_owned(p->codecs[p->a2b].type) && zarrc__dtype_is_vlen(&p->codecs[p->a2b].in.dtype)) {
        /* The decoder makes the elements' bytes, after its vrefs: decode into `keep`, then
         * the array→array codecs (or a copy) bring the vrefs to `out`. */
        if ((rc = zarrc__codec_decode(&p->codecs[p->a2b], cur, n, 0, 0, keep)))
            return rc;
        cur = keep->data;
        n = keep->size;
        if (p->a2b == 0) {
            out->size = 0;
            if ((rc = zarrc_buf_reserve(out, n)))
                return rc;
            if (n)
                memcpy(out->data, cur, n);
            out->size = n;
        }
        skip_a2b = true; /* done: the loop below starts at the codec before it */
    } else if (zarrc__dtype_is_vlen(&p->codecs[p->a2b].in.dtype)) {
        /* Decoded vrefs point into the encoded bytes: hand those to `keep`. */
        if (cur && (cur == s->a.data || cur == s->b.data)) {
            zarrc_buf *src = cur == s->a.data ? &s->a : &s->b, t = *keep;
            *keep = *src;
            *src = t;
        } else {
            keep->size = 0;
            if ((rc = zarrc__buf_append(keep, cur, n)))
                return rc;
        }
        cur = keep->data;
    }
    for (size_t i = skip_a2b ? p->a2b : p->a2b + 1; i-- > 0;) {
        zarrc_buf *dst = i == 0 ? out : other(s, cur);
        if ((rc = zarrc__codec_decode(&p->codecs[i], cur, n, 0, 0, dst)))
            return rc;
        cur = dst->data;
        n = dst->size;
    }
    size_t want = (size_t)repr_count(&p->chunk) * zarrc_dtype_elem_size(&p->chunk.dtype);
    if (out->size != want)
        return zarrc_error_set(ZARRC_ECORRUPT, "decoded chunk has %zu bytes, expected %zu", out->size, want);
    if (p->validate)
        return zarrc__user_validate(&p->chunk.dtype, (const zarrc_vref *)(const void *)out->data,
                                    out->size / sizeof(zarrc_vref), p->chunk.fill);
    return ZARRC_OK;
}

bool zarrc__repr_is_fill(const zarrc_repr *r, const uint8_t *data, size_t nelem)
{
    if (zarrc__dtype_is_vlen(&r->dtype)) {
        const zarrc_vref *v = (const zarrc_vref *)data, *f = r->fill;
        /* optional string/bytes: a missing element equals only a missing fill (default) */
        bool fmiss = zarrc__dtype_is_optional_vlen(&r->dtype) && (!f || zarrc__vref_is_missing(f));
        for (size_t k = 0; k < nelem; k++) {
            uint64_t flen = f ? f->len : 0;
            if (zarrc__vref_is_missing(&v[k]) != fmiss || v[k].len != flen ||
                (flen && memcmp(v[k].ptr, f->ptr, flen)))
                return false;
        }
        return true;
    }
    size_t es = r->dtype.item_size;
    const uint8_t *f = r->fill;
    if (nelem == 0 || es == 0)
        return true;
    if (f && memcmp(data, f, es))
        return false;
    for (size_t k = 0; !f && k < es; k++)
        if (data[k])
            return false;
    /* Every element equals the first iff the bytes equal themselves shifted by one element:
     * one vectorised memcmp that stops at the first difference, not a call per element. */
    return nelem == 1 || !memcmp(data, data + es, (nelem - 1) * es);
}

const zarrc__shard_spec *zarrc__pipeline_shard_spec(const zarrc__pipeline *p)
{
    if (p->n == 1 && !strcmp(p->codecs[0].type->name, "sharding_indexed"))
        return p->codecs[0].state;
    return NULL;
}

bool zarrc__pipeline_bytes_only(const zarrc__pipeline *p, bool *big_endian)
{
    *big_endian = p->bytes_big_endian;
    return p->bytes_only;
}

bool zarrc__pipeline_can_stream(const zarrc__pipeline *p)
{
    return p->n == 2 && p->a2b == 0 && p->a2b_noop && p->fixed_size && p->codecs[1].type->decode_stream;
}

int zarrc__pipeline_decode_stream(const zarrc__pipeline *p, const uint8_t *in, size_t n,
                                  int (*sink)(void *ctx, const uint8_t *piece, size_t len), void *ctx)
{
    const zarrc__codec *c = &p->codecs[1];
    zarrc_codec_call call = {NULL, NULL, p->fixed_size, p->fixed_size};
    int rc = c->type->decode_stream(c->state, &call, in, n, sink, ctx);
    return rc ? zarrc__error_context(rc, "codec '%s': ", c->type->name) : ZARRC_OK;
}
