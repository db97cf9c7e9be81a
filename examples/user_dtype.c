/*
 * user_dtype.c — a user-defined data type: "example.point3", a point of three float32
 * coordinates (12 bytes, byte order per 4-byte word), registered at run time through
 * zarrc_plugin.h. Its fill value is the JSON list [x, y, z]; a value float32 cannot hold is
 * refused. The array is created, written and read back; a bad fill value is refused before
 * anything is written. tests/interop_struct/run_struct.py opens the same array with
 * zarr-python 3.4 as raw bytes (raw_bytes, 12 bytes) and compares the coordinates.
 * Build: cc user_dtype.c $(pkg-config --cflags --libs zarrc) -o user_dtype
 * Run:   ./user_dtype [DIRECTORY]   (the array is DIRECTORY/points)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zarrc.h>
#include <zarrc_plugin.h>

static int point_from_json(const void *state, const zarrc_json *v, int format, void *elem)
{
    (void)state, (void)format;
    if (zarrc_json_typeof(v) != ZARRC_JSON_ARRAY || zarrc_json_length(v) != 3)
        return zarrc_error_set(ZARRC_EDTYPE, "a point is a list of 3 numbers");
    float xyz[3];
    for (size_t i = 0; i < 3; i++) {
        double d;
        const zarrc_json *c = zarrc_json_at(v, i);
        const char *s = zarrc_json_string(c);
        if (s && !strcmp(s, "NaN"))
            d = NAN;
        else if (zarrc_json_double(c, &d))
            return zarrc_error_set(ZARRC_EDTYPE, "coordinate %zu is not a number", i);
        else if (isfinite(d) && fabs(d) > 3.4028234663852886e38)
            return zarrc_error_set(ZARRC_EDTYPE, "coordinate %zu (%g) is out of float32's range", i, d);
        xyz[i] = (float)d;
    }
    memcpy(elem, xyz, sizeof xyz);
    return ZARRC_OK;
}

static int point_to_json(const void *state, const void *elem, int format, zarrc_buf *out)
{
    (void)state, (void)format;
    float xyz[3];
    memcpy(xyz, elem, sizeof xyz);
    char text[128];
    int n = 0;
    for (int i = 0; i < 3; i++) {
        if (isnan(xyz[i]))
            n += snprintf(text + n, sizeof text - (size_t)n, "%s\"NaN\"", i ? "," : "[");
        else
            n += snprintf(text + n, sizeof text - (size_t)n, "%s%.9g", i ? "," : "[", (double)xyz[i]);
    }
    n += snprintf(text + n, sizeof text - (size_t)n, "]");
    int rc = zarrc_buf_reserve(out, out->size + (size_t)n);
    if (rc)
        return rc;
    memcpy(out->data + out->size, text, (size_t)n);
    out->size += (size_t)n;
    return ZARRC_OK;
}

static const char *const point_v2_names[] = {"example.point3", NULL};

static const zarrc_dtype_type point3 = {
    ZARRC_DTYPE_TYPE_VERSION, "example.point3", point_v2_names, 12, 4, "bytes",
    NULL, NULL, NULL, point_from_json, point_to_json,
};

static int fail(const char *what)
{
    fprintf(stderr, "user_dtype: %s: %s\n", what, zarrc_error_last());
    return 1;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp/zarrc-user-dtype";
    if (zarrc_dtype_register(&point3))
        return fail("register");
    zarrc_store *store = NULL;
    if (zarrc_store_open(&store, dir, ZARRC_STORE_CREATE))
        return fail("open store");

    int64_t shape[1] = {5}, chunks[1] = {2};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "example.point3";
    o.ndim = 1;
    o.shape = shape;
    o.chunks = chunks;
    o.fill_value = "[0, 0, -1]";
    o.codecs = "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]";
    o.flags = ZARRC_OVERWRITE;

    /* a fill value the type cannot encode: refused, nothing written */
    o.fill_value = "[0, 1e39, 0]";
    zarrc_array *a = NULL;
    int rc = zarrc_array_create(&a, store, "bad", &o);
    zarrc_node_kind kind;
    int fmt;
    if (rc != ZARRC_EDTYPE || !strstr(zarrc_error_last(), "out of float32's range") ||
        zarrc_node_probe(&kind, &fmt, store, "bad") != ZARRC_ENOTFOUND) {
        fprintf(stderr, "user_dtype: a bad fill value was not refused (%d: %s)\n", rc, zarrc_error_last());
        return 1;
    }
    o.fill_value = "[0, 0, -1]";
    if (zarrc_array_create(&a, store, "points", &o))
        return fail("create");

    float pts[4][3] = {{1, 2, 3}, {-1.5f, 0.25f, 8}, {NAN, 0, 0}, {1e-3f, 1e3f, -0.0f}};
    int64_t start[1] = {0}, count[1] = {4};
    if (zarrc_array_write(a, start, count, NULL, pts, sizeof pts))
        return fail("write");
    zarrc_array_free(a);

    /* reopen: the type is found by name; element 4 is the fill value */
    if (zarrc_array_open(&a, store, "points"))
        return fail("open");
    float back[5][3];
    int64_t all[1] = {5};
    if (zarrc_array_read(a, start, all, NULL, back, sizeof back))
        return fail("read");
    if (memcmp(back, pts, sizeof pts) || back[4][0] != 0 || back[4][1] != 0 || back[4][2] != -1) {
        fprintf(stderr, "user_dtype: read back differs\n");
        return 1;
    }
    char *fill = NULL, *dtype = NULL;
    if (zarrc_array_json(&fill, a, ZARRC_JSON_FILL_VALUE) || zarrc_array_json(&dtype, a, ZARRC_JSON_DTYPE))
        return fail("json");
    printf("user_dtype: %s array at %s/points, fill %s, 5 points read back\n", dtype, dir, fill);
    int ok = !strcmp(fill, "[0,0,-1]") && !strcmp(dtype, "\"example.point3\"");
    zarrc_free(fill);
    zarrc_free(dtype);
    zarrc_array_free(a);
    zarrc_store_free(store);
    return ok ? 0 : 1;
}
