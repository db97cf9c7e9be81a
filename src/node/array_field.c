/* array_field.c — field selectors on struct arrays: read or write one field of the records of
 * a box, through whole-record reads and writes a slab (along the first dimension) at a time. */
#include <stdio.h>
#include <stdlib.h>

#include "node.h"

#define SLAB_BYTES ((size_t)64 << 20)

typedef struct field_job {
    zarrc_array *a;
    zarrc_field_info f;
    size_t rec;       /* record size */
    int ndim;
    int64_t start[ZARRC_MAX_DIMS], count[ZARRC_MAX_DIMS], step[ZARRC_MAX_DIMS];
    size_t n;         /* elements of the box */
    size_t row;       /* elements per index of dimension 0 (n for 0-d) */
} field_job;

static int prepare(field_job *j, zarrc_array *a, const char *field, const int64_t *start,
                   const int64_t *count, const int64_t *step, size_t size, const char *verb)
{
    memset(j, 0, sizeof *j);
    if (!a || !field)
        return zarrc_error_set(ZARRC_EINVAL, "%s: array and field are required", verb);
    const zarrc_dtype_info *dt = zarrc_array_dtype(a);
    if (dt->kind != ZARRC_DTYPE_STRUCT)
        return zarrc_error_set(ZARRC_EINVAL, "array '%s': %s: data type '%s' has no fields", a->name, verb,
                               dt->name);
    int rc = zarrc_dtype_field_find(&j->f, dt, field);
    if (rc)
        return zarrc__error_context(rc, "array '%s': ", a->name);
    j->a = a;
    j->rec = dt->item_size;
    j->ndim = zarrc_array_ndim(a);
    if (j->ndim && (!start || !count))
        return zarrc_error_set(ZARRC_EINVAL, "array '%s': %s: start and count are required", a->name, verb);
    j->n = 1;
    for (int d = 0; d < j->ndim; d++) {
        if (count[d] < 0)
            return zarrc_error_set(ZARRC_EBOUNDS, "array '%s': count[%d] is negative", a->name, d);
        j->start[d] = start[d];
        j->count[d] = count[d];
        j->step[d] = step ? step[d] : 1;
        if (!zarrc__mul_size(j->n, (size_t)count[d], &j->n))
            return zarrc_error_set(ZARRC_EBOUNDS, "array '%s': the selection is too large", a->name);
    }
    size_t want;
    if (!zarrc__mul_size(j->n, j->f.size, &want) || want != size)
        return zarrc_error_set(ZARRC_EINVAL, "array '%s': %s of field '%s': buffer of %zu bytes, the "
                               "selection needs %zu values of %zu bytes", a->name, verb, field, size, j->n,
                               j->f.size);
    j->row = j->ndim && count[0] ? j->n / (size_t)count[0] : j->n;
    return ZARRC_OK;
}

/* Run `fn` over slabs of rows [r0, r0 + nr) of dimension 0. */
static int run(field_job *j, uint8_t *user, bool writing)
{
    if (j->n == 0)
        return ZARRC_OK;
    int64_t rows = j->ndim ? j->count[0] : 1;
    size_t row_bytes = j->row * j->rec; /* fits: the box of the field fits, records are larger... */
    if (!zarrc__mul_size(j->row, j->rec, &row_bytes))
        return zarrc_error_set(ZARRC_EBOUNDS, "array '%s': the selection is too large", j->a->name);
    int64_t per = row_bytes ? (int64_t)(SLAB_BYTES / row_bytes) : rows;
    if (per < 1)
        per = 1;
    if (per > rows)
        per = rows;
    uint8_t *buf = zarrc__malloc((size_t)per * row_bytes);
    if (!buf)
        return ZARRC_ENOMEM;
    int rc = ZARRC_OK;
    for (int64_t r0 = 0; r0 < rows && !rc; r0 += per) {
        int64_t nr = rows - r0 < per ? rows - r0 : per;
        int64_t st[ZARRC_MAX_DIMS], ct[ZARRC_MAX_DIMS];
        memcpy(st, j->start, sizeof st);
        memcpy(ct, j->count, sizeof ct);
        if (j->ndim) {
            int64_t off;
            if (__builtin_mul_overflow(r0, j->step[0], &off) || __builtin_add_overflow(j->start[0], off, &st[0])) {
                rc = zarrc_error_set(ZARRC_EBOUNDS, "array '%s': dimension 0 of the selection is out of bounds",
                                     j->a->name);
                break;
            }
            ct[0] = nr; /* bounds: checked by the read below */
        }
        size_t ne = (size_t)nr * j->row, bytes = ne * j->rec;
        uint8_t *u = user + (size_t)r0 * j->row * j->f.size;
        rc = zarrc_array_read(j->a, st, ct, j->ndim ? j->step : NULL, buf, bytes);
        if (rc)
            break;
        if (!writing) {
            for (size_t e = 0; e < ne; e++)
                memcpy(u + e * j->f.size, buf + e * j->rec + j->f.offset, j->f.size);
        } else {
            for (size_t e = 0; e < ne; e++)
                memcpy(buf + e * j->rec + j->f.offset, u + e * j->f.size, j->f.size);
            rc = zarrc_array_write(j->a, st, ct, j->ndim ? j->step : NULL, buf, bytes);
        }
    }
    free(buf);
    return rc;
}

int zarrc_array_read_field(zarrc_array *array, const char *field, const int64_t *start, const int64_t *count,
                           const int64_t *step, void *out, size_t out_size)
{
    zarrc__error_clear();
    field_job j;
    int rc = prepare(&j, array, field, start, count, step, out_size, "read");
    if (!rc && j.ndim > 0 && j.count[0] > 0 && j.step[0] < 1)
        rc = zarrc_error_set(ZARRC_EINVAL, "array '%s': step[0] must be >= 1", array->name);
    return rc ? rc : run(&j, out, false);
}

int zarrc_array_write_field(zarrc_array *array, const char *field, const int64_t *start, const int64_t *count,
                            const int64_t *step, const void *in, size_t in_size)
{
    zarrc__error_clear();
    field_job j;
    int rc = prepare(&j, array, field, start, count, step, in_size, "write");
    if (!rc && j.ndim > 0 && j.count[0] > 0 && j.step[0] < 1)
        rc = zarrc_error_set(ZARRC_EINVAL, "array '%s': step[0] must be >= 1", array->name);
    return rc ? rc : run(&j, (uint8_t *)(uintptr_t)in, true);
}
