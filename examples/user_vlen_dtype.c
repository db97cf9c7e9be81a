/*
 * user_vlen_dtype.c — a variable-length user-defined data type: "example.polyline", a list of
 * points of `dimensions` float32 coordinates (configuration {"dimensions": 2 or 3}, default 3),
 * registered at run time through zarrc_plugin.h (struct version 2, ZARRC_DTYPE_VARIABLE_LENGTH).
 *
 * An element's bytes are its points' coordinates as little-endian float32, point after point
 * (so an element of n points has 4 * dimensions * n bytes, on every host). Arrays exchange
 * elements as zarrc_vlen columns, as for the core "bytes" type; on storage the default
 * array->bytes codec is vlen-bytes. The fill value is the JSON list of points
 * ([[x, y, z], ...]); a fill value float32 cannot hold, or a non-finite coordinate, is refused
 * before anything is written; the validate hook refuses malformed elements (a length that is
 * not a whole number of points, non-finite coordinates) on writes and reads.
 *
 * Run: ./user_vlen_dtype [DIRECTORY]          create, write and read back (DIRECTORY/tracks,
 *                                             tracks_sharded, tracks_v2), bad fill and bad
 *                                             elements refused
 *      ./user_vlen_dtype DIRECTORY --read     (a fresh process) reopen the three arrays and
 *                                             print every element as JSON, one array a line
 * tests/interop_user_vlen/run_user_vlen.py runs both and opens the arrays with zarr-python 3.4,
 * zarr-python 2.13 and the zarrc CLI (which does not know the type).
 * Build: cc user_vlen_dtype.c $(pkg-config --cflags --libs zarrc) -o user_vlen_dtype
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zarrc.h>
#include <zarrc_plugin.h>

typedef struct polyline_config {
    int dims; /* 2 or 3 */
} polyline_config;

static const polyline_config default_config = {3};

static int pl_parse(void **state, size_t *item_size, const zarrc_json *config)
{
    (void)item_size; /* variable length: not used */
    int64_t dims;
    if (zarrc_json_opt_int(config, "dimensions", 3, &dims))
        return ZARRC_EDTYPE;
    if (dims != 2 && dims != 3)
        return zarrc_error_set(ZARRC_EDTYPE, "'dimensions' must be 2 or 3, not %lld", (long long)dims);
    polyline_config *c = malloc(sizeof *c);
    if (!c)
        return zarrc_error_set(ZARRC_ENOMEM, "out of memory");
    c->dims = (int)dims;
    *state = c;
    return ZARRC_OK;
}

static int pl_emit(const void *state, zarrc_json *config)
{
    const polyline_config *c = state ? state : &default_config;
    return zarrc_json_put_int(config, "dimensions", c->dims);
}

static void pl_free(void *state) { free(state); }

static void put_f32le(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(u >> (8 * i));
}

static float get_f32le(const uint8_t *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int pl_validate(const void *state, const uint8_t *bytes, size_t len)
{
    const polyline_config *c = state ? state : &default_config;
    size_t point = 4 * (size_t)c->dims;
    if (len % point)
        return zarrc_error_set(ZARRC_EDTYPE, "%zu bytes is not a whole number of %d-D points (%zu bytes each)",
                               len, c->dims, point);
    for (size_t k = 0; k < len; k += 4)
        if (!isfinite(get_f32le(bytes + k)))
            return zarrc_error_set(ZARRC_EDTYPE, "coordinate %zu of point %zu is not finite", (k % point) / 4,
                                   k / point);
    return ZARRC_OK;
}

/* Fill value: [[x, y(, z)], ...] -> the element's bytes. */
static int pl_from_json(const void *state, const zarrc_json *v, int format, zarrc_buf *out)
{
    (void)format;
    const polyline_config *c = state ? state : &default_config;
    if (zarrc_json_typeof(v) != ZARRC_JSON_ARRAY)
        return zarrc_error_set(ZARRC_EDTYPE, "a polyline is a list of points");
    size_t n = zarrc_json_length(v), point = 4 * (size_t)c->dims;
    if (n > SIZE_MAX / point || zarrc_buf_reserve(out, n * point))
        return zarrc_error_set(ZARRC_ENOMEM, "a polyline of %zu points is too large", n);
    for (size_t i = 0; i < n; i++) {
        const zarrc_json *p = zarrc_json_at(v, i);
        if (zarrc_json_typeof(p) != ZARRC_JSON_ARRAY || zarrc_json_length(p) != (size_t)c->dims)
            return zarrc_error_set(ZARRC_EDTYPE, "point %zu is not a list of %d numbers", i, c->dims);
        for (int d = 0; d < c->dims; d++) {
            double x;
            if (zarrc_json_double(zarrc_json_at(p, (size_t)d), &x))
                return zarrc_error_set(ZARRC_EDTYPE, "point %zu: coordinate %d is not a number", i, d);
            if (!isfinite(x) || fabs(x) > 3.4028234663852886e38)
                return zarrc_error_set(ZARRC_EDTYPE, "point %zu: coordinate %d (%g) is out of float32's range",
                                       i, d, x);
            put_f32le(out->data + out->size, (float)x);
            out->size += 4;
        }
    }
    return ZARRC_OK;
}

static int append(zarrc_buf *out, const char *s, size_t n)
{
    if (zarrc_buf_reserve(out, out->size + n))
        return ZARRC_ENOMEM;
    memcpy(out->data + out->size, s, n);
    out->size += n;
    return ZARRC_OK;
}

/* The element's bytes -> [[x, y(, z)], ...] (shortest float32 round trip: %.9g). */
static int pl_to_json(const void *state, const uint8_t *bytes, size_t len, int format, zarrc_buf *out)
{
    (void)format;
    const polyline_config *c = state ? state : &default_config;
    size_t point = 4 * (size_t)c->dims;
    if (len % point)
        return zarrc_error_set(ZARRC_EDTYPE, "%zu bytes is not a whole number of points", len);
    if (append(out, "[", 1))
        return ZARRC_ENOMEM;
    for (size_t k = 0; k < len; k += 4) {
        char t[48];
        size_t d = (k % point) / 4;
        int n = snprintf(t, sizeof t, "%s%s%.9g%s", k && !d ? "," : "", d ? "," : "[",
                         (double)get_f32le(bytes + k), d + 1 == (size_t)c->dims ? "]" : "");
        if (append(out, t, (size_t)n))
            return ZARRC_ENOMEM;
    }
    return append(out, "]", 1);
}

static const char *const polyline_v2_names[] = {"example.polyline", NULL};

static const zarrc_dtype_type polyline = {
    .version = ZARRC_DTYPE_TYPE_VERSION,
    .name = "example.polyline",
    .v2_names = polyline_v2_names,
    .parse_config = pl_parse,
    .config_to_json = pl_emit,
    .free_config = pl_free,
    .flags = ZARRC_DTYPE_VARIABLE_LENGTH,
    .vfill_from_json = pl_from_json,
    .vfill_to_json = pl_to_json,
    .validate = pl_validate,
    /* item_size 0, swap_width 0, default_codec NULL: vlen-bytes */
};

static int fail(const char *what)
{
    fprintf(stderr, "user_vlen_dtype: %s: %s\n", what, zarrc_error_last());
    return 1;
}

#define NTRACKS 5

/* The test data: track i has (i * 2) % 5 points (0, 2, 4, 1, 3), coordinates from a formula
 * (point p of track i: x = 10 i + p, y = x + 0.25, z = x + 0.5 - 100). */
static size_t track_points(int i) { return (size_t)((i * 2) % 5); }

static int make_tracks(zarrc_vlen *v, int dims)
{
    size_t total = 0;
    for (int i = 0; i < NTRACKS; i++)
        total += track_points(i) * 4 * (size_t)dims;
    v->count = NTRACKS;
    v->offsets = calloc(NTRACKS + 1, sizeof *v->offsets);
    v->data = malloc(total ? total : 1);
    v->size = total;
    if (!v->offsets || !v->data)
        return 1;
    size_t pos = 0;
    for (int i = 0; i < NTRACKS; i++) {
        v->offsets[i] = pos;
        for (size_t p = 0; p < track_points(i); p++)
            for (int d = 0; d < dims; d++, pos += 4)
                put_f32le(v->data + pos, (float)(i * 10 + (int)p) + 0.25f * (float)d - (d == 2 ? 100.0f : 0.0f));
    }
    v->offsets[NTRACKS] = pos;
    return 0;
}

static void free_tracks(zarrc_vlen *v)
{
    free(v->offsets);
    free(v->data);
    memset(v, 0, sizeof *v);
}

/* Read the whole array (6 elements) and compare with the tracks, element 5 the fill value
 * (one point, [[0,0,-1]]). */
static int check_array(zarrc_store *store, const char *path, int dims)
{
    zarrc_array *a = NULL;
    if (zarrc_array_open(&a, store, path))
        return fail(path);
    zarrc_vlen want = {0}, got = {0};
    int64_t start[1] = {0}, count[1] = {NTRACKS + 1};
    int bad = make_tracks(&want, dims) || zarrc_array_read(a, start, count, NULL, &got, sizeof got);
    if (bad) {
        fprintf(stderr, "user_vlen_dtype: read %s: %s\n", path, zarrc_error_last());
    } else {
        for (int i = 0; i < NTRACKS && !bad; i++) {
            size_t n = want.offsets[i + 1] - want.offsets[i];
            bad = got.offsets[i + 1] - got.offsets[i] != n ||
                  (n && memcmp(got.data + got.offsets[i], want.data + want.offsets[i], n));
            if (bad)
                fprintf(stderr, "user_vlen_dtype: %s: element %d differs\n", path, i);
        }
        size_t fl = got.offsets[NTRACKS + 1] - got.offsets[NTRACKS];
        const uint8_t *f = got.data + got.offsets[NTRACKS];
        if (!bad && (fl != 4 * (size_t)dims || get_f32le(f) != 0 || (dims == 3 && get_f32le(f + 8) != -1))) {
            fprintf(stderr, "user_vlen_dtype: %s: element 5 is not the fill value (%zu bytes)\n", path, fl);
            bad = 1;
        }
    }
    free_tracks(&want);
    zarrc_vlen_clear(&got);
    zarrc_array_free(a);
    return bad;
}

/* --read: print each array's elements as JSON lists of points (through the fill hook's
 * encoding), one line per array. */
static int print_arrays(zarrc_store *store)
{
    const char *paths[] = {"tracks", "tracks_sharded", "tracks_v2"};
    for (int k = 0; k < 3; k++) {
        zarrc_array *a = NULL;
        if (zarrc_array_open(&a, store, paths[k]))
            return fail(paths[k]);
        int64_t start[1] = {0}, count[1] = {NTRACKS + 1};
        zarrc_vlen got = {0};
        if (zarrc_array_read(a, start, count, NULL, &got, sizeof got)) {
            zarrc_array_free(a);
            return fail(paths[k]);
        }
        printf("%s [", paths[k]);
        polyline_config c = {3};
        for (int64_t i = 0; i < got.count; i++) {
            zarrc_buf b = ZARRC_BUF_INIT;
            if (pl_to_json(&c, got.data + got.offsets[i], (size_t)(got.offsets[i + 1] - got.offsets[i]), 3, &b)) {
                zarrc_buf_release(&b);
                zarrc_vlen_clear(&got);
                zarrc_array_free(a);
                return fail("to json");
            }
            printf("%s%.*s", i ? "," : "", (int)b.size, (const char *)b.data);
            zarrc_buf_release(&b);
        }
        printf("]\n");
        zarrc_vlen_clear(&got);
        zarrc_array_free(a);
    }
    return 0;
}

/* Create `path`, write the 5 tracks (elements 0..4; element 5 stays the fill value). */
static int write_array(zarrc_store *store, const char *path, zarrc_array_options *o, int dims)
{
    zarrc_array *a = NULL;
    if (zarrc_array_create(&a, store, path, o))
        return fail(path);
    zarrc_vlen v = {0};
    int64_t start[1] = {0}, count[1] = {NTRACKS};
    int rc = make_tracks(&v, dims) ? ZARRC_ENOMEM : zarrc_array_write(a, start, count, NULL, &v, sizeof v);
    free_tracks(&v);
    zarrc_array_free(a);
    return rc ? fail(path) : 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp/zarrc-user-vlen-dtype";
    if (zarrc_dtype_register(&polyline))
        return fail("register");
    zarrc_store *store = NULL;
    if (zarrc_store_open(&store, dir, argc > 2 && !strcmp(argv[2], "--read") ? ZARRC_STORE_READONLY : ZARRC_STORE_CREATE))
        return fail("open store");
    if (argc > 2 && !strcmp(argv[2], "--read")) {
        int rc = print_arrays(store);
        zarrc_store_free(store);
        return rc;
    }

    int64_t shape[1] = {NTRACKS + 1}, chunks[1] = {4};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "{\"name\":\"example.polyline\",\"configuration\":{\"dimensions\":3}}";
    o.ndim = 1;
    o.shape = shape;
    o.chunks = chunks;
    o.flags = ZARRC_OVERWRITE;

    /* a fill value the type cannot encode: refused, nothing written */
    o.fill_value = "[[0, 1e39, 0]]";
    zarrc_array *a = NULL;
    int rc = zarrc_array_create(&a, store, "bad", &o);
    zarrc_node_kind kind;
    int fmt;
    if (rc != ZARRC_EDTYPE || !strstr(zarrc_error_last(), "out of float32's range") ||
        zarrc_node_probe(&kind, &fmt, store, "bad") != ZARRC_ENOTFOUND) {
        fprintf(stderr, "user_vlen_dtype: a bad fill value was not refused (%d: %s)\n", rc, zarrc_error_last());
        return 1;
    }

    /* v3, default codecs (vlen-bytes) */
    o.fill_value = "[[0, 0, -1]]";
    if (write_array(store, "tracks", &o, 3))
        return 1;
    /* a malformed element (7 bytes: not whole points) is refused naming it and its chunk;
     * nothing of that chunk is stored */
    if (zarrc_array_open(&a, store, "tracks"))
        return fail("open tracks");
    uint64_t offs[3] = {0, 12, 19};
    uint8_t junk[19] = {0};
    zarrc_vlen badv = {2, offs, junk, sizeof junk};
    int64_t s4[1] = {4}, c2[1] = {2};
    rc = zarrc_array_write(a, s4, c2, NULL, &badv, sizeof badv);
    if (rc != ZARRC_EDTYPE || !strstr(zarrc_error_last(), "element 1") || !strstr(zarrc_error_last(), "c/1")) {
        fprintf(stderr, "user_vlen_dtype: a malformed element was not refused (%d: %s)\n", rc, zarrc_error_last());
        return 1;
    }
    printf("user_vlen_dtype: refused as expected: %s\n", zarrc_error_last());
    zarrc_array_free(a);
    if (check_array(store, "tracks", 3))
        return 1;

    /* v3, sharded: shards of 4 elements, inner chunks of 2, zstd inside */
    o.codecs = "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2],\"codecs\":"
               "[{\"name\":\"vlen-bytes\"},{\"name\":\"zstd\",\"configuration\":{\"level\":3,\"checksum\":false}}],"
               "\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}]}}]";
    if (write_array(store, "tracks_sharded", &o, 3) || check_array(store, "tracks_sharded", 3))
        return 1;

    /* v2: dtype "example.polyline" (the v2 spelling has no configuration: the default, 3
     * dimensions), filters [vlen-bytes] (the type's default codec, written out) */
    o.codecs = NULL;
    o.format = 2;
    o.dtype = "example.polyline";
    if (write_array(store, "tracks_v2", &o, 3) || check_array(store, "tracks_v2", 3))
        return 1;

    char *fill = NULL, *dtype = NULL, *codecs = NULL;
    if (zarrc_array_open(&a, store, "tracks"))
        return fail("open");
    if (zarrc_array_json(&fill, a, ZARRC_JSON_FILL_VALUE) || zarrc_array_json(&dtype, a, ZARRC_JSON_DTYPE) ||
        zarrc_array_json(&codecs, a, ZARRC_JSON_CODECS_V3))
        return fail("json");
    printf("user_vlen_dtype: %s array at %s/tracks, fill %s, codecs %s; 6 polylines read back (v3, sharded, v2)\n",
           dtype, dir, fill, codecs);
    int ok = !strcmp(fill, "[[0,0,-1]]") &&
             !strcmp(dtype, "{\"name\":\"example.polyline\",\"configuration\":{\"dimensions\":3}}") &&
             strstr(codecs, "vlen-bytes") != NULL;
    zarrc_free(fill);
    zarrc_free(dtype);
    zarrc_free(codecs);
    zarrc_array_free(a);
    zarrc_store_free(store);
    return ok ? 0 : 1;
}
