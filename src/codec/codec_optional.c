/* codec_optional.c — zarrs' experimental `zarrs.optional` array→bytes codec (zarrs 0.23.14,
 * src/array/codec/array_to_bytes/optional): the chunk of an optional data type is split into
 * its mask (a bool array of the chunk's shape, encoded through `mask_codecs`) and its present
 * values only (a 1-D array of the inner type, one element per present value in C order,
 * encoded through `data_codecs`). Encoded form:
 *   u64 LE mask length | u64 LE data length | encoded mask | encoded data
 * With no present value the data part is empty. Nested optional types nest the codec in
 * `data_codecs`. Earlier zarrs releases named it "optional" (read as an alias).
 * With a string or bytes inner type the chunk's elements are zarrc_vref (a missing one is
 * zarrc__vref_missing()); the data part is the present values only, encoded by a
 * variable-length codec (vlen-utf8, vlen-bytes, zarrs.vlen, zarrs.vlen_v2, ...) as a 1-D
 * string/bytes array, exactly as zarrs lays it out. Decoding makes element bytes of its own
 * (zarrc__codec_decodes_owned): vrefs, then the present values' bytes. */
#include <stdlib.h>

#include "codec.h"

typedef struct opt_state {
    json_object *mask_json, *data_json; /* the configuration as given (owned) */
    zarrc__pipeline *mask;              /* bool, chunk shape */
    zarrc_dtype_info inner;
    size_t item_size, nelem; /* item_size: sizeof(zarrc_vref) when vlen */
    bool vlen;               /* string or bytes inner type */
} opt_state;

static void opt_destroy(void *state)
{
    opt_state *s = state;
    if (!s)
        return;
    json_object_put(s->mask_json);
    json_object_put(s->data_json);
    zarrc__pipeline_free(s->mask);
    free(s);
}

/* The data pipeline for `n` present values (shape [n]). */
static int data_pipeline(const opt_state *s, zarrc__pipeline **p, size_t n)
{
    zarrc_repr r;
    memset(&r, 0, sizeof r);
    r.dtype = s->inner;
    r.ndim = 1;
    r.shape[0] = (int64_t)n;
    int rc = zarrc__pipeline_from_v3(p, s->data_json, &r);
    return rc ? zarrc__error_context(rc, "data_codecs: ") : ZARRC_OK;
}

static int opt_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    *state = NULL;
    if (init->format != 3)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "zarrs.optional exists only in v3");
    if (!init->input || init->input->dtype.kind != ZARRC_DTYPE_OPTIONAL || !init->input->dtype.inner)
        return zarrc_error_set(ZARRC_EINVAL, "needs an optional data type ('zarrs.optional'), not '%s'",
                               init->input ? init->input->dtype.name : "?");
    const json_object *cfg = ZJ(config);
    if (cfg && !json_object_is_type(cfg, json_type_object))
        return zarrc_error_set(ZARRC_EINVAL, "configuration must be an object");
    json_object *mj = NULL, *dj = NULL;
    if (cfg) {
        json_object_object_foreach((json_object *)cfg, k, v) {
            (void)v;
            if (strcmp(k, "mask_codecs") && strcmp(k, "data_codecs"))
                return zarrc_error_set(ZARRC_EINVAL, "unknown configuration member '%s'", k);
        }
        json_object_object_get_ex(cfg, "mask_codecs", &mj);
        json_object_object_get_ex(cfg, "data_codecs", &dj);
    }
    if ((mj && !json_object_is_type(mj, json_type_array)) || (dj && !json_object_is_type(dj, json_type_array)))
        return zarrc_error_set(ZARRC_EINVAL, "'mask_codecs' and 'data_codecs' must be lists of codecs");
    opt_state *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    /* zarrs' defaults when a configuration is absent: packbits for the mask, bytes for the data */
    s->mask_json = mj ? json_object_get(mj) : json_tokener_parse("[{\"name\":\"packbits\",\"configuration\":{}}]");
    s->vlen = zarrc__dtype_is_optional_vlen(&init->input->dtype);
    s->data_json = dj ? json_object_get(dj)
                 : json_tokener_parse(!s->vlen ? "[{\"name\":\"bytes\",\"configuration\":{}}]"
                                      : init->input->dtype.inner->kind == ZARRC_DTYPE_STRING
                                          ? "[{\"name\":\"vlen-utf8\",\"configuration\":{}}]"
                                          : "[{\"name\":\"vlen-bytes\",\"configuration\":{}}]");
    s->inner = *init->input->dtype.inner;
    s->item_size = zarrc_dtype_elem_size(&init->input->dtype);
    s->nelem = 1;
    int rc = ZARRC_OK;
    for (int d = 0; d < init->input->ndim; d++)
        if (!zarrc__mul_size(s->nelem, (size_t)init->input->shape[d], &s->nelem))
            rc = zarrc_error_set(ZARRC_EINVAL, "chunk is too large");
    if (!rc && (!s->mask_json || !s->data_json))
        rc = ZARRC_ENOMEM;
    zarrc_repr mr;
    memset(&mr, 0, sizeof mr);
    if (!rc) {
        memset(&mr.dtype, 0, sizeof mr.dtype);
        rc = zarrc_dtype_parse(&mr.dtype, "bool");
        mr.ndim = init->input->ndim;
        memcpy(mr.shape, init->input->shape, sizeof mr.shape);
    }
    if (!rc && (rc = zarrc__pipeline_from_v3(&s->mask, s->mask_json, &mr)))
        zarrc__error_context(rc, "mask_codecs: ");
    zarrc__pipeline *probe = NULL;
    if (!rc && !(rc = data_pipeline(s, &probe, 1))) /* validate data_codecs now */
        zarrc__pipeline_free(probe);
    if (rc) {
        opt_destroy(s);
        return rc;
    }
    *state = s;
    return ZARRC_OK;
}

static int opt_to_json(const void *state, int format, zarrc_json *config)
{
    const opt_state *s = state;
    if (format != 3)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "zarrs.optional has no v2 spelling");
    json_object *m = NULL, *d = NULL;
    int rc = zarrc__pipeline_to_v3(&m, s->mask);
    if (rc)
        return rc;
    zarrc__pipeline *p = NULL;
    if ((rc = data_pipeline(s, &p, 1)) || (rc = zarrc__pipeline_to_v3(&d, p))) {
        zarrc__pipeline_free(p);
        json_object_put(m);
        return rc;
    }
    zarrc__pipeline_free(p);
    json_object_object_add(ZJ(config), "mask_codecs", m);
    json_object_object_add(ZJ(config), "data_codecs", d);
    return ZARRC_OK;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int opt_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t in_size,
                      zarrc_buf *out)
{
    (void)call;
    const opt_state *s = state;
    size_t isz = s->vlen ? sizeof(zarrc_vref) : s->inner.item_size, expect;
    if (!zarrc__mul_size(s->nelem, s->item_size, &expect) || in_size != expect)
        return zarrc_error_set(ZARRC_EINVAL, "chunk has %zu bytes, expected %zu", in_size, expect);
    uint8_t *mask = zarrc__malloc(s->nelem ? s->nelem : 1);
    uint8_t *vals = zarrc__malloc(in_size ? in_size : 1);
    zarrc_buf menc = ZARRC_BUF_INIT, denc = ZARRC_BUF_INIT;
    zarrc__scratch scr = {ZARRC_BUF_INIT, ZARRC_BUF_INIT};
    zarrc__pipeline *dp = NULL;
    int rc = mask && vals ? ZARRC_OK : ZARRC_ENOMEM;
    size_t nvalid = 0;
    for (size_t i = 0; !rc && i < s->nelem; i++) {
        const uint8_t *e = in + i * s->item_size;
        if (s->vlen) {
            zarrc_vref r;
            memcpy(&r, e, sizeof r);
            mask[i] = !zarrc__vref_is_missing(&r);
        } else
            mask[i] = e[isz] != 0;
        if (mask[i])
            memcpy(vals + nvalid++ * isz, e, isz);
    }
    if (!rc && (rc = zarrc__pipeline_encode(s->mask, mask, s->nelem, &scr, &menc)))
        zarrc__error_context(rc, "mask: ");
    if (!rc && nvalid) {
        if (!(rc = data_pipeline(s, &dp, nvalid)) &&
            (rc = zarrc__pipeline_encode(dp, vals, nvalid * isz, &scr, &denc)))
            zarrc__error_context(rc, "data: ");
    }
    if (!rc && !(rc = zarrc_buf_reserve(out, 16 + menc.size + denc.size))) {
        put_u64(out->data, menc.size);
        put_u64(out->data + 8, denc.size);
        if (menc.size)
            memcpy(out->data + 16, menc.data, menc.size);
        if (denc.size)
            memcpy(out->data + 16 + menc.size, denc.data, denc.size);
        out->size = 16 + menc.size + denc.size;
    }
    zarrc__pipeline_free(dp);
    zarrc__scratch_release(&scr);
    zarrc_buf_release(&menc);
    zarrc_buf_release(&denc);
    free(mask);
    free(vals);
    return rc;
}

/* Variable-length inner type: the dense chunk (vrefs, then the present values' bytes, as
 * zarrc__codec_decodes_owned decoders give it) from the mask and the present values' vrefs. */
static int expand_vlen(const opt_state *s, const zarrc_codec_call *call, const uint8_t *mask,
                       const uint8_t *vals, zarrc_buf *out)
{
    zarrc__vitems v;
    int rc = zarrc__vitems_init(&v, s->nelem, call && call->max_size ? call->max_size : SIZE_MAX);
    size_t k = 0;
    for (size_t i = 0; !rc && i < s->nelem; i++) {
        if (mask[i]) {
            zarrc_vref r;
            memcpy(&r, vals + k++ * sizeof r, sizeof r);
            if (r.len > SIZE_MAX)
                rc = zarrc_error_set(ZARRC_ECORRUPT, "zarrs.optional data: element too large");
            else
                rc = zarrc__vitems_append(&v, r.ptr, (size_t)r.len);
        }
        if (!rc)
            rc = zarrc__vitems_next(&v);
    }
    if (!rc)
        rc = zarrc__vitems_finish(&v, out);
    zarrc__vitems_free(&v);
    for (size_t i = 0; !rc && i < s->nelem; i++)
        if (!mask[i]) {
            zarrc_vref miss = zarrc__vref_missing();
            memcpy(out->data + i * sizeof miss, &miss, sizeof miss);
        }
    return rc;
}

static int opt_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t in_size,
                      zarrc_buf *out)
{
    const opt_state *s = state;
    size_t isz = s->vlen ? sizeof(zarrc_vref) : s->inner.item_size, outsize;
    if (in_size < 16)
        return zarrc_error_set(ZARRC_ECORRUPT, "zarrs.optional chunk of %zu bytes is shorter than its 16-byte "
                               "header", in_size);
    uint64_t mlen = get_u64(in), dlen = get_u64(in + 8);
    if (mlen > in_size - 16 || dlen != in_size - 16 - mlen)
        return zarrc_error_set(ZARRC_ECORRUPT, "zarrs.optional header says %llu mask + %llu data bytes, the chunk "
                               "has %zu after the header", (unsigned long long)mlen, (unsigned long long)dlen,
                               in_size - 16);
    if (!zarrc__mul_size(s->nelem, s->item_size, &outsize))
        return zarrc_error_set(ZARRC_ECORRUPT, "chunk is too large");
    if (call && call->max_size && outsize > call->max_size)
        return zarrc__codec_limit_error(call->max_size);
    zarrc_buf mask = ZARRC_BUF_INIT, keep = ZARRC_BUF_INIT, vals = ZARRC_BUF_INIT;
    zarrc__scratch scr = {ZARRC_BUF_INIT, ZARRC_BUF_INIT};
    zarrc__pipeline *dp = NULL;
    int rc = zarrc__pipeline_decode(s->mask, in + 16, (size_t)mlen, &scr, &mask, &keep);
    if (rc)
        zarrc__error_context(rc, "zarrs.optional mask: ");
    else if (mask.size != s->nelem)
        rc = zarrc_error_set(ZARRC_ECORRUPT, "zarrs.optional mask decodes to %zu values, expected %zu", mask.size,
                             s->nelem);
    size_t nvalid = 0;
    for (size_t i = 0; !rc && i < s->nelem; i++)
        nvalid += mask.data[i] != 0;
    if (!rc && nvalid) {
        if (!(rc = data_pipeline(s, &dp, nvalid)) &&
            (rc = zarrc__pipeline_decode(dp, in + 16 + mlen, (size_t)dlen, &scr, &vals, &keep)))
            zarrc__error_context(rc, "zarrs.optional data: ");
        if (!rc && vals.size != nvalid * isz)
            rc = zarrc_error_set(ZARRC_ECORRUPT, "zarrs.optional data decodes to %zu bytes, expected %zu",
                                 vals.size, nvalid * isz);
    }
    if (!rc && s->vlen)
        rc = expand_vlen(s, call, mask.data, vals.data, out);
    else if (!rc && !(rc = zarrc_buf_reserve(out, outsize))) {
        memset(out->data, 0, outsize);
        size_t k = 0;
        for (size_t i = 0; i < s->nelem; i++) {
            uint8_t *e = out->data + i * s->item_size;
            if (mask.data[i]) {
                memcpy(e, vals.data + k++ * isz, isz);
                e[isz] = 1;
            }
        }
        out->size = outsize;
    }
    zarrc__pipeline_free(dp);
    zarrc__scratch_release(&scr);
    zarrc_buf_release(&mask);
    zarrc_buf_release(&keep);
    zarrc_buf_release(&vals);
    return rc;
}

static const char *const opt_aliases[] = {"optional", "https://codec.zarrs.dev/array_to_bytes/optional", NULL};

const zarrc_codec_type zarrc__codec_optional = {
    ZARRC_CODEC_TYPE_VERSION, "zarrs.optional", NULL, opt_aliases, ZARRC_CODEC_ARRAY_TO_BYTES,
    opt_create, opt_destroy, opt_to_json, opt_encode, opt_decode,
};
