/* io_codec.c — chunk codecs without the store: one chunk's stored bytes <-> its decoded array,
 * for callers that move the bytes themselves (zarrc_array_chunk_decode / _encode, zarrc.h). */
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"

/* The array can be used as a chunk codec: regular grid, fixed-size type; *nbytes = one chunk. */
int zarrc__io_chunk_size(const zarrc__io_array *a, size_t *nbytes)
{
    const zarrc__array_meta *m = a->meta;
    for (int d = 0; d < m->ndim; d++)
        if (m->runs[d])
            return zarrc_error_set(ZARRC_EUNSUPPORTED,
                                   "array '%s': chunk codecs need a regular chunk grid (dimension %d is "
                                   "rectilinear)", a->name, d);
    const zarrc_repr *r = &a->pipeline->chunk;
    if (zarrc__dtype_is_vlen(&r->dtype))
        return zarrc_error_set(ZARRC_EDTYPE, "array '%s': chunk codecs need a fixed-size data type, not '%s'",
                               a->name, r->dtype.name);
    size_t n = zarrc_dtype_elem_size(&r->dtype);
    for (int d = 0; d < r->ndim; d++)
        if (!zarrc__mul_size(n, (size_t)r->shape[d], &n))
            return zarrc_error_set(ZARRC_EBOUNDS, "array '%s': chunk size overflows size_t", a->name);
    *nbytes = n;
    return ZARRC_OK;
}

/* Check the coordinates and the decoded size; build the chunk's key (for messages) in `key`. */
static int chunk_check(const zarrc__io_array *a, const int64_t *coords, size_t decoded_size, zarrc_buf *key,
                       const char **name)
{
    const zarrc__array_meta *m = a->meta;
    size_t want = 0;
    int rc = zarrc__io_chunk_size(a, &want);
    if (rc)
        return rc;
    if (m->ndim > 0 && !coords)
        return zarrc_error_set(ZARRC_EINVAL, "array '%s': chunk coordinates are required", a->name);
    for (int d = 0; d < m->ndim; d++) {
        int64_t nchunks = m->shape[d] / m->chunks[d] + (m->shape[d] % m->chunks[d] != 0);
        if (coords[d] < 0 || coords[d] >= nchunks)
            return zarrc_error_set(ZARRC_EBOUNDS,
                                   "array '%s': chunk coordinate %lld of dimension %d is outside the grid "
                                   "[0, %lld)", a->name, (long long)coords[d], d, (long long)nchunks);
    }
    *name = zarrc__meta_chunk_store_key(key, m, a->prefix, coords);
    if (!*name)
        return zarrc__error_context(ZARRC_ENOMEM, "array '%s': ", a->name);
    if (decoded_size != want)
        return zarrc_error_set(ZARRC_EINVAL, "array '%s': chunk '%s': decoded chunk buffer of %zu bytes, "
                               "expected %zu", a->name, *name, decoded_size, want);
    return ZARRC_OK;
}

static int chunk_fail(const zarrc__io_array *a, const char *key, int rc)
{
    return zarrc__error_context(rc, "array '%s': chunk '%s': ", a->name, key);
}

int zarrc__io_chunk_decode(const zarrc__io_array *a, const int64_t *coords, const void *in, size_t n, void *out,
                           size_t out_size)
{
    thread_bufs *b = zarrc__io_bufs();
    if (!b)
        return ZARRC_ENOMEM;
    const char *key = NULL;
    int rc = chunk_check(a, coords, out_size, &b->key, &key);
    if (rc)
        return rc;
    if (!in && n)
        return zarrc_error_set(ZARRC_EINVAL, "array '%s': chunk '%s': no stored bytes", a->name, key);
    /* The destination is borrowed: a decoder that would produce more than out_size bytes fails
     * with ZARRC_ECORRUPT instead of writing past it; fewer bytes are caught below. */
    zarrc_buf dst = {out, 0, out_size, 1}, none = ZARRC_BUF_INIT;
    rc = zarrc__pipeline_decode(a->pipeline, in ? in : (const void *)"", n, &b->scratch, &dst, &none);
    zarrc_buf_release(&none);
    if (rc == ZARRC_OK && dst.size != out_size)
        rc = zarrc_error_set(ZARRC_ECORRUPT, "decoded to %zu bytes, expected %zu", dst.size, out_size);
    if (rc == ZARRC_OK && dst.data != out) /* a decoder replaced the borrowed buffer: never expected */
        rc = zarrc_error_set(ZARRC_EINTERNAL, "decoder did not write into the destination");
    return rc ? chunk_fail(a, key, rc) : ZARRC_OK;
}

bool zarrc__io_chunk_is_fill(const zarrc__io_array *a, const void *in, size_t in_size)
{
    const zarrc_repr *r = &a->pipeline->chunk;
    size_t es = zarrc_dtype_elem_size(&r->dtype);
    return !a->meta->fill.is_null && es && zarrc__repr_is_fill(r, in, in_size / es);
}

int zarrc__io_chunk_encode(const zarrc__io_array *a, const int64_t *coords, const void *in, size_t in_size,
                           void **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    thread_bufs *b = zarrc__io_bufs();
    if (!b)
        return ZARRC_ENOMEM;
    const char *key = NULL;
    int rc = chunk_check(a, coords, in_size, &b->key, &key);
    if (rc)
        return rc;
    if (!in && in_size)
        return zarrc_error_set(ZARRC_EINVAL, "array '%s': chunk '%s': no chunk data", a->name, key);
    if (!a->write_empty && zarrc__io_chunk_is_fill(a, in, in_size))
        return ZARRC_OK;
    zarrc_buf out = ZARRC_BUF_INIT;
    rc = zarrc__pipeline_encode(a->pipeline, in, in_size, &b->scratch, &out);
    if (rc) {
        zarrc_buf_release(&out);
        return chunk_fail(a, key, rc);
    }
    if (!out.data) { /* an empty encoding: still a stored value, distinct from "not encoded" */
        out.data = zarrc__malloc(1);
        if (!out.data)
            return chunk_fail(a, key, ZARRC_ENOMEM);
    }
    *data = out.data;
    *size = out.size;
    return ZARRC_OK;
}

typedef struct codec_job {
    const zarrc__io_array *a;
    zarrc_chunk_item *items;
    bool encode;
} codec_job;

static int codec_task(void *ctx, size_t i)
{
    codec_job *j = ctx;
    zarrc_chunk_item *it = &j->items[i];
    if (j->encode)
        it->status = zarrc__io_chunk_encode(j->a, it->coords, it->decoded, it->decoded_size, &it->encoded,
                                            &it->encoded_size);
    else
        it->status = zarrc__io_chunk_decode(j->a, it->coords, it->encoded, it->encoded_size, it->decoded,
                                            it->decoded_size);
    return it->status;
}

int zarrc__io_chunks_run(const zarrc__io_array *a, zarrc_chunk_item *items, size_t n, bool encode)
{
    if (n && !items)
        return zarrc_error_set(ZARRC_EINVAL, "array '%s': no chunk items", a->name);
    for (size_t i = 0; i < n; i++) {
        items[i].status = ZARRC_CHUNK_NOT_RUN;
        if (encode) {
            items[i].encoded = NULL;
            items[i].encoded_size = 0;
        }
    }
    codec_job j = {a, items, encode};
    int rc = n ? zarrc__pool_run(n, codec_task, &j) : ZARRC_OK;
    if (rc && encode)
        for (size_t i = 0; i < n; i++) {
            free(items[i].encoded);
            items[i].encoded = NULL;
            items[i].encoded_size = 0;
        }
    return rc;
}
