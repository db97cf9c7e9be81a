/*
 * vlen.c — zarrc_vlen, the caller-side form of variable-length data (one contiguous buffer
 * and count + 1 offsets), and its conversions to and from the zarrc_vref elements of array
 * representations. Below the I/O engine and the views, which both read and write it.
 */
#include <stdlib.h>

#include "dtype.h"

void zarrc_vlen_clear(zarrc_vlen *v)
{
    if (!v)
        return;
    free(v->offsets);
    free(v->data);
    free(v->mask);
    memset(v, 0, sizeof *v);
}

const uint8_t zarrc__vref_missing_mark[1];

int zarrc__vlen_pack_mask(zarrc_vlen *v, const zarrc_vref *refs, int64_t n)
{
    uint8_t *mask = zarrc__malloc((size_t)(n ? n : 1));
    if (!mask)
        return ZARRC_ENOMEM;
    int rc = zarrc__vlen_pack(v, refs, n);
    if (rc) {
        free(mask);
        return rc;
    }
    for (int64_t k = 0; k < n; k++)
        mask[k] = !zarrc__vref_is_missing(&refs[k]);
    v->mask = mask;
    return ZARRC_OK;
}

int zarrc__vlen_refs_mask(zarrc_vref **out, const zarrc_vlen *v, int64_t n)
{
    int rc = zarrc__vlen_refs(out, v, n);
    if (rc || !v->mask)
        return rc;
    for (int64_t k = 0; k < n; k++) {
        if (v->mask[k])
            continue;
        uint64_t len = (*out)[k].len;
        if (len) {
            free(*out);
            *out = NULL;
            return zarrc_error_set(ZARRC_EINVAL, "item %lld is missing (mask 0) but has %llu bytes", (long long)k,
                                   (unsigned long long)len);
        }
        (*out)[k] = zarrc__vref_missing();
    }
    return ZARRC_OK;
}

int zarrc__vlen_pack(zarrc_vlen *v, const zarrc_vref *refs, int64_t n)
{
    memset(v, 0, sizeof *v);
    v->offsets = zarrc__malloc(((size_t)n + 1) * sizeof *v->offsets);
    if (!v->offsets)
        return ZARRC_ENOMEM;
    size_t total = 0;
    for (int64_t k = 0; k < n; k++)
        total += refs[k].len;
    v->data = zarrc__malloc(total);
    if (!v->data) {
        zarrc_vlen_clear(v);
        return ZARRC_ENOMEM;
    }
    size_t pos = 0;
    for (int64_t k = 0; k < n; k++) {
        v->offsets[k] = pos;
        if (refs[k].len)
            memcpy(v->data + pos, refs[k].ptr, refs[k].len);
        pos += refs[k].len;
    }
    v->offsets[n] = pos;
    v->count = n;
    v->size = total;
    return ZARRC_OK;
}

int zarrc__vlen_refs(zarrc_vref **out, const zarrc_vlen *v, int64_t n)
{
    *out = NULL;
    if (v->count != n)
        return zarrc_error_set(ZARRC_EINVAL, "%lld values given, the selection has %lld", (long long)v->count,
                               (long long)n);
    if (n && (!v->offsets || v->offsets[0] != 0 || v->offsets[n] > v->size))
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_vlen offsets are inconsistent with its size");
    zarrc_vref *refs = zarrc__malloc((size_t)(n ? n : 1) * sizeof *refs);
    if (!refs)
        return ZARRC_ENOMEM;
    for (int64_t k = 0; k < n; k++) {
        if (v->offsets[k + 1] < v->offsets[k]) {
            free(refs);
            return zarrc_error_set(ZARRC_EINVAL, "zarrc_vlen offsets decrease at item %lld", (long long)k);
        }
        refs[k] = (zarrc_vref){v->data + v->offsets[k], v->offsets[k + 1] - v->offsets[k]};
    }
    *out = refs;
    return ZARRC_OK;
}
