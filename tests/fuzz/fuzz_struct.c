/*
 * Fuzz target: the struct (record) data type parsers. Input: a data type JSON text (a v2 field
 * list, or a v3 "struct"/"structured" object), optionally followed by a NUL byte and a fill
 * value JSON text. The field table is built without interning (an owned tree, freed here), so
 * the process's shared table does not grow with the corpus. A parsed type must survive a round
 * trip through its emitted spellings (v3 when it has no sub-array field, v2 when every field
 * has a typestr) with the same layout, and its fill value must re-parse from what it emits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dtype/dtype.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static zarrc_dtype_info as_info(const zarrc_dtype_fields *t, size_t item_size)
{
    zarrc_dtype_info dt;
    memset(&dt, 0, sizeof dt);
    dt.kind = ZARRC_DTYPE_STRUCT;
    dt.item_size = item_size;
    dt.scale_factor = 1;
    strcpy(dt.name, "struct");
    dt.fields = t;
    return dt;
}

static int parse(zarrc_dtype_fields **t, const json_object *j)
{
    json_object *name, *cfg = NULL;
    if (json_object_is_type((json_object *)j, json_type_array))
        return zarrc__struct_parse_v2(t, j);
    if (json_object_is_type((json_object *)j, json_type_object) && json_object_object_get_ex(j, "name", &name) &&
        json_object_is_type(name, json_type_string)) {
        json_object_object_get_ex(j, "configuration", &cfg);
        return zarrc__struct_parse_v3(t, json_object_get_string(name), cfg);
    }
    return ZARRC_EINVAL;
}

/* The layout of a tree, as the public queries give it. */
static size_t item_size_of(const zarrc_dtype_fields *t)
{
    zarrc_dtype_info dt = as_info(t, 0);
    size_t n = zarrc_dtype_field_count(&dt), s = 0;
    zarrc_field_info f;
    for (size_t i = 0; i < n; i++)
        if (zarrc_dtype_field(&f, &dt, i) == 0)
            s = f.offset + f.size;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t dlen = nul ? (size_t)(nul - data) : size;
    json_object *j = NULL;
    if (zarrc__json_parse(&j, (const char *)data, dlen, "fuzz"))
        return 0;
    zarrc_dtype_fields *t = NULL;
    int rc = parse(&t, j);
    json_object_put(j);
    if (rc)
        return 0;
    size_t isz = item_size_of(t);
    zarrc_dtype_info dt = as_info(t, isz);
    /* round trips of the spellings */
    json_object *v2 = NULL, *v3 = zarrc__struct_has_subarray(t) ? NULL : zarrc__struct_to_json_v3(t);
    if (v3) {
        zarrc_dtype_fields *u = NULL;
        if (parse(&u, v3) || item_size_of(u) != isz)
            __builtin_trap();
        zarrc__struct_free(u);
        json_object_put(v3);
    }
    if (zarrc__struct_to_json_v2(&v2, t, false) == 0) {
        zarrc_dtype_fields *u = NULL;
        if (parse(&u, v2) || item_size_of(u) != isz)
            __builtin_trap();
        zarrc__struct_free(u);
        json_object_put(v2);
    }
    /* fill values in both formats, and back */
    if (nul) {
        json_object *fj = NULL;
        if (zarrc__json_parse(&fj, (const char *)nul + 1, size - dlen - 1, "fill") == 0) {
            for (int fmt = 2; fmt <= 3; fmt++) {
                zarrc__fill f;
                if (zarrc__fill_parse(&f, &dt, fj, fmt))
                    continue;
                json_object *back = zarrc__fill_to_json(&f, &dt, fmt);
                zarrc__fill g;
                if (back && zarrc__fill_parse(&g, &dt, back, fmt) == 0) {
                    if (g.size != f.size)
                        __builtin_trap();
                    zarrc__fill_clear(&g);
                }
                json_object_put(back);
                zarrc__fill_clear(&f);
            }
            json_object_put(fj);
        }
    }
    zarrc__struct_free(t);
    return 0;
}
