/* test_optional.c — zarrs' experimental optional type through the public API: the in-memory
 * layout (inner element + mask byte), zarrc_dtype_optional_inner, fill values null / [v] /
 * nested [null], a write/read round trip with the stored chunk layout checked byte by byte
 * against the zarrs.optional format, corrupt chunks refused, bad metadata refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "zarrc.h"
#include "zarrc_plugin.h"

static zarrc_array *make(zarrc_store *s, const char *path, const char *dtype, const char *fill,
                         const char *codecs)
{
    zarrc_array *a = NULL;
    int64_t shape[1] = {6}, chunks[1] = {6};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = dtype;
    o.ndim = 1;
    o.shape = shape;
    o.chunks = chunks;
    o.fill_value = fill;
    o.codecs = codecs;
    return zarrc_array_create(&a, s, path, &o) == ZARRC_OK ? a : NULL;
}

#define OPT_I16 "{\"name\":\"zarrs.optional\",\"configuration\":{\"name\":\"int16\",\"configuration\":{}}}"
#define OPT_OPT_U8 "{\"name\":\"zarrs.optional\",\"configuration\":{\"name\":\"zarrs.optional\"," \
                   "\"configuration\":{\"name\":\"uint8\",\"configuration\":{}}}}"
#define PLAIN "[{\"name\":\"zarrs.optional\",\"configuration\":{\"mask_codecs\":[\"bytes\"],\"data_codecs\":" \
              "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]}}]"

static void layout(void)
{
    zarrc_dtype_info dt, in;
    CHECK_OK(zarrc_dtype_parse(&dt, OPT_I16));
    CHECK(dt.kind == ZARRC_DTYPE_OPTIONAL && dt.item_size == 3 && !strcmp(dt.name, "zarrs.optional"));
    CHECK_OK(zarrc_dtype_optional_inner(&in, &dt));
    CHECK(in.kind == ZARRC_DTYPE_INT && in.item_size == 2);
    CHECK_ERR(zarrc_dtype_optional_inner(&in, &in), ZARRC_EINVAL, "not an optional");
    /* zarrs' earlier spelling */
    CHECK_OK(zarrc_dtype_parse(&dt, "{\"name\":\"optional\",\"configuration\":{\"name\":\"uint8\"}}"));
    CHECK(dt.kind == ZARRC_DTYPE_OPTIONAL && dt.item_size == 2);
    CHECK_OK(zarrc_dtype_parse(&dt, OPT_OPT_U8));
    CHECK(dt.item_size == 3 && dt.inner && dt.inner->kind == ZARRC_DTYPE_OPTIONAL);
    /* element JSON: null / value / nested [null] */
    char *j = NULL;
    uint8_t e3[3] = {0, 0, 0};
    CHECK_OK(zarrc_dtype_value_to_json(&j, &dt, e3));
    CHECK(j && !strcmp(j, "null"));
    zarrc_free(j);
    e3[2] = 1;
    CHECK_OK(zarrc_dtype_value_to_json(&j, &dt, e3));
    CHECK(j && !strcmp(j, "[null]"));
    zarrc_free(j);
    CHECK_OK(zarrc_dtype_value_from_json(e3, &dt, "[[42]]"));
    CHECK(e3[0] == 42 && e3[1] == 1 && e3[2] == 1);
    CHECK_ERR(zarrc_dtype_value_from_json(e3, &dt, "42"), ZARRC_EDTYPE, "one-element list");
    /* refusals */
    CHECK_ERR(zarrc_dtype_parse(&dt, "{\"name\":\"zarrs.optional\",\"configuration\":{\"name\":\"string\"}}"),
              ZARRC_EUNSUPPORTED, "variable-length inner type");
    CHECK_ERR(zarrc_dtype_parse(&dt, "{\"name\":\"zarrs.optional\"}"), ZARRC_EDTYPE, "inner type");
    CHECK_ERR(zarrc_dtype_parse(&dt, "{\"name\":\"zarrs.optional\",\"configuration\":{\"name\":\"nope\"}}"),
              ZARRC_EUNSUPPORTED, "inner type: unsupported data type 'nope'");
    /* nesting is bounded (8 levels): 10 refused, 8 accepted */
    for (int levels = 8; levels <= 10; levels += 2) {
        char deep[2048] = "";
        size_t len = 0;
        for (int i = 0; i < levels; i++)
            len += (size_t)snprintf(deep + len, sizeof deep - len, "{\"name\":\"zarrs.optional\",\"configuration\":");
        len += (size_t)snprintf(deep + len, sizeof deep - len, "{\"name\":\"uint8\"");
        for (int i = 0; i < levels; i++)
            len += (size_t)snprintf(deep + len, sizeof deep - len, "}");
        snprintf(deep + len, sizeof deep - len, "}");
        int rc = zarrc_dtype_parse(&dt, deep);
        CHECK_MSG(levels == 8 ? rc == ZARRC_OK && dt.item_size == 9 : rc == ZARRC_EDTYPE, "%d levels: %d %s",
                  levels, rc, zarrc_error_last());
    }
}

static void roundtrip(zarrc_store *s)
{
    zarrc_array *a = make(s, "a", OPT_I16, "null", PLAIN);
    CHECK(a != NULL);
    if (!a)
        return;
    /* values 1, null, -3, null, null, 258 */
    uint8_t in[18] = {1, 0, 1, 0, 0, 0, 0xfd, 0xff, 1, 0, 0, 0, 0, 0, 0, 2, 1, 1};
    int64_t z[1] = {0}, n[1] = {6};
    CHECK_OK(zarrc_array_write(a, z, n, NULL, in, sizeof in));
    void *chunk = NULL;
    size_t size = 0;
    CHECK_OK(zarrc_store_get(&chunk, &size, s, "a/c/0"));
    /* 16-byte header, mask as bytes (6), the 3 present values (6 bytes) */
    static const uint8_t want[] = {6, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1,
                                   1, 0, 0xfd, 0xff, 2, 1};
    CHECK(size == sizeof want && !memcmp(chunk, want, sizeof want));
    uint8_t out[18];
    memset(out, 0xee, sizeof out);
    CHECK_OK(zarrc_array_read(a, z, n, NULL, out, sizeof out));
    CHECK(!memcmp(out, in, sizeof in));
    /* corrupt chunks: lengths past the value, a short header, a mask of the wrong size,
     * present values missing */
    uint8_t bad[sizeof want];
    memcpy(bad, want, sizeof want);
    bad[0] = 200;
    CHECK_OK(zarrc_store_set(s, "a/c/0", bad, sizeof bad));
    CHECK_ERR(zarrc_array_read(a, z, n, NULL, out, sizeof out), ZARRC_ECORRUPT, "zarrs.optional");
    CHECK_OK(zarrc_store_set(s, "a/c/0", want, 10));
    CHECK_ERR(zarrc_array_read(a, z, n, NULL, out, sizeof out), ZARRC_ECORRUPT, "header");
    memcpy(bad, want, sizeof want);
    bad[8] = 4; /* data length 4: 2 values for 3 present */
    CHECK_OK(zarrc_store_set(s, "a/c/0", bad, sizeof bad - 2));
    CHECK_ERR(zarrc_array_read(a, z, n, NULL, out, sizeof out), ZARRC_ECORRUPT, "");
    zarrc_free(chunk);
    zarrc_array_free(a);

    /* fill [v]: unwritten chunks read as present v */
    a = make(s, "b", OPT_I16, "[7]", NULL);
    CHECK(a != NULL);
    if (a) {
        CHECK_OK(zarrc_array_read(a, z, n, NULL, out, sizeof out));
        CHECK(out[0] == 7 && out[1] == 0 && out[2] == 1 && out[15] == 7 && out[17] == 1);
        zarrc_array_free(a);
    }
    /* the bytes codec cannot carry the type */
    CHECK(make(s, "c", OPT_I16, "null", "[\"bytes\"]") == NULL);
    CHECK(strstr(zarrc_error_last(), "zarrs.optional") != NULL);
    /* no v2 spelling */
    zarrc_array *v2 = NULL;
    int64_t shape[1] = {2};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.format = 2;
    o.dtype = OPT_I16;
    o.ndim = 1;
    o.shape = shape;
    o.chunks = shape;
    CHECK(zarrc_array_create(&v2, s, "v2", &o) != ZARRC_OK);
}

int main(void)
{
    layout();
    zarrc_store *s;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    roundtrip(s);
    zarrc_store_free(s);
    return check_report("api.optional");
}
