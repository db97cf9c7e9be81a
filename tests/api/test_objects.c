/* API tests for object arrays (v2 "|O" with numcodecs json2, msgpack2, vlen-array): elements
 * as JSON texts or typed-array bytes in a zarrc_vlen, fill values, zarrc_array_object_item,
 * and what is refused (bad element texts, pickle, v3 object arrays, ragged typed elements).
 * Interop with numcodecs / zarr-python 2 is in tests/interop_objects. */
#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#include "zarrc.h"

/* A zarrc_vlen over `n` NUL-terminated texts (caller frees offsets and data). */
static zarrc_vlen texts(const char *const *t, int64_t n)
{
    zarrc_vlen v = {n, calloc((size_t)n + 1, sizeof(uint64_t)), NULL, 0};
    for (int64_t i = 0; i < n; i++)
        v.size += strlen(t[i]), v.offsets[i + 1] = v.size;
    v.data = malloc(v.size + 1);
    for (int64_t i = 0; i < n; i++)
        memcpy(v.data + v.offsets[i], t[i], strlen(t[i]));
    return v;
}

static bool item_is(const zarrc_vlen *v, int64_t i, const char *want)
{
    size_t len = (size_t)(v->offsets[i + 1] - v->offsets[i]);
    return len == strlen(want) && !memcmp(v->data + v->offsets[i], want, len);
}

static zarrc_array *make(zarrc_store *s, const char *path, const char *filters, const char *fill, int format)
{
    int64_t shape[1] = {5}, chunks[1] = {2};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.format = format;
    o.dtype = "|O";
    o.ndim = 1;
    o.shape = shape;
    o.chunks = chunks;
    o.filters = filters;
    o.compressor = "null";
    o.fill_value = fill;
    zarrc_array *a = NULL;
    return zarrc_array_create(&a, s, path, &o) == 0 ? a : NULL;
}

static void json_kind(zarrc_store *s, const char *codec)
{
    char filters[64];
    snprintf(filters, sizeof filters, "[{\"id\":\"%s\"}]", codec);
    zarrc_array *a = make(s, codec, filters, NULL, 2);
    CHECK_MSG(a != NULL, "create %s", codec);
    if (!a)
        return;
    const zarrc_dtype_info *dt = zarrc_array_dtype(a);
    CHECK(dt->kind == ZARRC_DTYPE_OBJECT && !strcmp(dt->name, "object") && !strcmp(dt->unit, "json"));
    zarrc_dtype_info item;
    CHECK_ERR(zarrc_array_object_item(a, &item), ZARRC_EINVAL, "vlen-array");
    static const char *const in[3] = {"{\"a\":[1,2.5,null]}", " \"é\" ", "-7"};
    zarrc_vlen w = texts(in, 3), r = {0};
    int64_t start[1] = {1}, count[1] = {3}, all[1] = {5}, zero[1] = {0};
    CHECK_OK(zarrc_array_write(a, start, count, NULL, &w, sizeof w));
    CHECK_OK(zarrc_array_read(a, zero, all, NULL, &r, sizeof r));
    CHECK(r.count == 5);
    if (r.count == 5) {
        CHECK(item_is(&r, 0, "null")); /* never written: the (null) fill value */
        CHECK(item_is(&r, 1, "{\"a\":[1,2.5,null]}"));
        CHECK(item_is(&r, 2, "\"é\""));
        CHECK(item_is(&r, 3, "-7"));
        CHECK(item_is(&r, 4, "null"));
    }
    zarrc_vlen_clear(&r);
    free(w.offsets);
    free(w.data);
    static const char *const bad[1] = {"[1,"};
    w = texts(bad, 1);
    count[0] = 1;
    CHECK_ERR(zarrc_array_write(a, start, count, NULL, &w, sizeof w), ZARRC_EINVAL, "element 1 is not one JSON value");
    free(w.offsets);
    free(w.data);
    zarrc_array_free(a);

    /* a fill value is any JSON value; missing elements read as its text */
    char path[32];
    snprintf(path, sizeof path, "%s_filled", codec);
    a = make(s, path, filters, "{\"k\":0}", 2);
    CHECK(a != NULL);
    if (a) {
        CHECK_OK(zarrc_array_read(a, zero, all, NULL, &r, sizeof r));
        CHECK(r.count == 5 && item_is(&r, 4, "{\"k\":0}"));
        zarrc_vlen_clear(&r);
        zarrc_array_free(a);
    }
}

static void typed_kind(zarrc_store *s)
{
    zarrc_array *a = make(s, "va", "[{\"id\":\"vlen-array\",\"dtype\":\">i2\"}]", "0", 2);
    CHECK(a != NULL);
    if (!a)
        return;
    const zarrc_dtype_info *dt = zarrc_array_dtype(a);
    CHECK(dt->kind == ZARRC_DTYPE_OBJECT && !strcmp(dt->unit, "array"));
    zarrc_dtype_info item;
    CHECK_OK(zarrc_array_object_item(a, &item));
    CHECK(item.kind == ZARRC_DTYPE_INT && item.item_size == 2 && item.big_endian);
    int16_t vals[3] = {1, -2, 300};
    uint64_t offs[3] = {0, 6, 6};
    zarrc_vlen w = {2, offs, (uint8_t *)vals, 6}, r = {0};
    int64_t start[1] = {0}, count[1] = {2}, all[1] = {5};
    CHECK_OK(zarrc_array_write(a, start, count, NULL, &w, sizeof w));
    CHECK_OK(zarrc_array_read(a, start, all, NULL, &r, sizeof r));
    CHECK(r.count == 5 && r.offsets[1] == 6 && r.offsets[5] == 6 && !memcmp(r.data, vals, 6));
    zarrc_vlen_clear(&r);
    offs[1] = 3; /* not a whole number of int16 items */
    CHECK_ERR(zarrc_array_write(a, start, count, NULL, &w, sizeof w), ZARRC_EINVAL, "not a whole number");
    zarrc_array_free(a);
    /* typed elements read missing elements as empty arrays: a non-empty fill is refused */
    CHECK(make(s, "va2", "[{\"id\":\"vlen-array\",\"dtype\":\"<i2\"}]", "[1]", 2) == NULL);
    CHECK(strstr(zarrc_error_last(), "empty arrays") != NULL);
}

int main(void)
{
    zarrc_store *s;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    json_kind(s, "json2");
    json_kind(s, "msgpack2");
    typed_kind(s);
    CHECK(make(s, "pk", "[{\"id\":\"pickle\",\"protocol\":5}]", NULL, 2) == NULL);
    CHECK(strstr(zarrc_error_last(), "pickle") && strstr(zarrc_error_last(), "unsafe"));
    CHECK(make(s, "v3", "[{\"id\":\"json2\"}]", "null", 3) == NULL);
    CHECK(strstr(zarrc_error_last(), "v2") != NULL);
    zarrc_store_free(s);
    return check_report("api.objects");
}
