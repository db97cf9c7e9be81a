/*
 * Fuzz target: variable-length user-defined data types (src/dtype/dtype_user.c and the
 * pipeline's validate step). A type like examples/user_vlen_dtype.c is registered: elements
 * are whole numbers of `dimensions` x 4-byte points, configuration {"dimensions": 1..4}, fill
 * value a JSON list of byte values. The first input byte picks a case:
 *   0: the rest is a v3 zarr.json text (the data type, its configuration and fill value go
 *      through the hooks); the array is opened and read (no chunks: fill only);
 *   1..N: the rest is a stored chunk (or shard) of a 2 x 3 array with pipeline (byte - 1).
 * Whatever decodes must satisfy the validate hook (else the library let a bad element
 * through: trap), must write back, and must read back the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zarrc.h"
#include "zarrc_plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int u_parse(void **state, size_t *item_size, const zarrc_json *config)
{
    (void)item_size;
    int64_t d;
    if (zarrc_json_opt_int(config, "dimensions", 3, &d) || d < 1 || d > 4)
        return zarrc_error_set(ZARRC_EDTYPE, "'dimensions' must be 1 to 4");
    int *s = malloc(sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    *s = (int)d;
    *state = s;
    return ZARRC_OK;
}

static int u_emit(const void *state, zarrc_json *config)
{
    return zarrc_json_put_int(config, "dimensions", state ? *(const int *)state : 3);
}

static int u_valid(const void *state, const uint8_t *b, size_t n)
{
    (void)b;
    size_t point = 4 * (size_t)(state ? *(const int *)state : 3);
    return n % point ? zarrc_error_set(ZARRC_EDTYPE, "not whole points") : ZARRC_OK;
}

static int u_from(const void *state, const zarrc_json *v, int format, zarrc_buf *out)
{
    (void)state, (void)format;
    if (zarrc_json_typeof(v) != ZARRC_JSON_ARRAY)
        return zarrc_error_set(ZARRC_EDTYPE, "a list of byte values");
    size_t n = zarrc_json_length(v);
    if (n > 4096 || zarrc_buf_reserve(out, n))
        return zarrc_error_set(ZARRC_EDTYPE, "too long");
    for (size_t i = 0; i < n; i++) {
        int64_t x;
        if (zarrc_json_int(zarrc_json_at(v, i), &x) || x < 0 || x > 255)
            return zarrc_error_set(ZARRC_EDTYPE, "byte %zu", i);
        out->data[out->size++] = (uint8_t)x;
    }
    return ZARRC_OK;
}

static int u_to(const void *state, const uint8_t *b, size_t n, int format, zarrc_buf *out)
{
    (void)state, (void)format;
    if (zarrc_buf_reserve(out, out->size + 4 * n + 2))
        return ZARRC_ENOMEM;
    out->size += (size_t)sprintf((char *)out->data + out->size, "[");
    for (size_t i = 0; i < n; i++)
        out->size += (size_t)sprintf((char *)out->data + out->size, "%s%u", i ? "," : "", b[i]);
    out->size += (size_t)sprintf((char *)out->data + out->size, "]");
    return ZARRC_OK;
}

static const char *const u_v2[] = {"fuzz.points", NULL};
static const zarrc_dtype_type points = {
    .version = ZARRC_DTYPE_TYPE_VERSION, .name = "fuzz.points", .v2_names = u_v2, .parse_config = u_parse,
    .config_to_json = u_emit, .free_config = free, .flags = ZARRC_DTYPE_VARIABLE_LENGTH,
    .vfill_from_json = u_from, .vfill_to_json = u_to, .validate = u_valid,
};

static const char *const pipelines[] = {
    "[{\"name\":\"vlen-bytes\"}]",
    "[{\"name\":\"vlen-bytes\"},{\"name\":\"zstd\"}]",
    "[{\"name\":\"zarrs.vlen_v2\"}]",
    "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[1,3],\"codecs\":[{\"name\":\"vlen-bytes\"}],"
    "\"index_codecs\":[\"bytes\"]}}]",
    "[{\"name\":\"transpose\",\"configuration\":{\"order\":[1,0]}},{\"name\":\"vlen-bytes\"},\"crc32c\"]",
};
#define NPIPE (sizeof pipelines / sizeof *pipelines)

static void check_elements(const zarrc_vlen *v, int dims)
{
    for (int64_t i = 0; i < v->count; i++)
        if ((v->offsets[i + 1] - v->offsets[i]) % (uint64_t)(4 * dims))
            __builtin_trap(); /* a malformed element got through */
}

static void read_back(zarrc_array *a, int dims)
{
    int ndim = zarrc_array_ndim(a);
    if (ndim < 1 || ndim > 4)
        return;
    int64_t start[4] = {0}, count[4];
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) {
        count[d] = zarrc_array_shape(a)[d];
        n *= count[d] > 0 && count[d] < 64 ? count[d] : 0;
    }
    if (n == 0)
        return;
    zarrc_vlen v = {0}, w = {0};
    if (zarrc_array_read(a, start, count, NULL, &v, sizeof v) == ZARRC_OK) {
        check_elements(&v, dims);
        if (zarrc_array_write(a, start, count, NULL, &v, sizeof v) != ZARRC_OK)
            __builtin_trap(); /* valid elements must write back */
        if (zarrc_array_read(a, start, count, NULL, &w, sizeof w) != ZARRC_OK || w.count != v.count ||
            w.size != v.size || (v.size && memcmp(w.data, v.data, v.size)))
            __builtin_trap();
    }
    zarrc_vlen_clear(&v);
    zarrc_vlen_clear(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int registered;
    if (!registered) {
        if (zarrc_dtype_register(&points))
            __builtin_trap();
        registered = 1;
    }
    if (size < 1)
        return 0;
    zarrc_store *st = NULL;
    if (zarrc_store_open(&st, "memory://", 0))
        return 0;
    zarrc_array *a = NULL;
    int dims = 3;
    if (data[0] == 0) {
        if (zarrc_store_set(st, "a/zarr.json", data + 1, size - 1) == ZARRC_OK &&
            zarrc_array_open(&a, st, "a") == ZARRC_OK) {
            const zarrc_dtype_info *dt = zarrc_array_dtype(a);
            char *j = NULL;
            if (dt->kind == ZARRC_DTYPE_USER && dt->item_size == 0 && !strcmp(dt->name, "fuzz.points") &&
                zarrc_array_json(&j, a, ZARRC_JSON_DTYPE) == ZARRC_OK) {
                const char *p = strstr(j, "\"dimensions\":");
                dims = p ? atoi(p + 13) : 3;
                read_back(a, dims);
            }
            zarrc_free(j);
        }
    } else {
        size_t k = (size_t)(data[0] - 1) % NPIPE;
        char doc[1024];
        snprintf(doc, sizeof doc,
                 "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[2,3],\"data_type\":{\"name\":\"fuzz.points\","
                 "\"configuration\":{\"dimensions\":1}},\"chunk_grid\":{\"name\":\"regular\",\"configuration\":"
                 "{\"chunk_shape\":[2,3]}},\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":[],"
                 "\"codecs\":%s}", pipelines[k]);
        dims = 1;
        if (zarrc_store_set(st, "a/zarr.json", doc, strlen(doc)) == ZARRC_OK &&
            zarrc_store_set(st, "a/c/0/0", data + 1, size - 1) == ZARRC_OK &&
            zarrc_array_open(&a, st, "a") == ZARRC_OK)
            read_back(a, dims);
    }
    zarrc_array_free(a);
    zarrc_store_free(st);
    return 0;
}
