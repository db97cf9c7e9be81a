/* test_optional.c — zarrs' experimental optional type through the public API: the in-memory
 * layout (inner element + mask byte), zarrc_dtype_optional_inner, fill values null / [v] /
 * nested [null], a write/read round trip with the stored chunk layout checked byte by byte
 * against the zarrs.optional format, corrupt chunks refused, bad metadata refused; optional string
 * and bytes (zarrc_vlen with a mask). */
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
    CHECK_ERR(zarrc_dtype_parse(&dt, "{\"name\":\"zarrs.optional\",\"configuration\":{\"name\":\"zarrs.optional\","
                                     "\"configuration\":{\"name\":\"string\"}}}"),
              ZARRC_EUNSUPPORTED, "optional 'zarrs.optional' is not supported");
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

#define OPT_STR "{\"name\":\"zarrs.optional\",\"configuration\":{\"name\":\"string\",\"configuration\":{}}}"
#define OPT_BYTES "{\"name\":\"zarrs.optional\",\"configuration\":{\"name\":\"bytes\"}}"
/* zarrs.optional with zarrc's defaults for a string/bytes inner type (packbits mask, vlen-utf8 /
 * vlen-bytes data), no compressor */
#define OPT_CODEC "[{\"name\":\"zarrs.optional\"}]"

/* Optional string / bytes: variable-length (item_size 0), read and written as a zarrc_vlen whose
 * mask marks missing items; the stored chunk is zarrs' layout (mask, then the present values
 * through vlen-utf8); fill null and ["text"]; "" stays distinct from null. */
static void vlen(zarrc_store *s)
{
    zarrc_dtype_info dt, in;
    CHECK_OK(zarrc_dtype_parse(&dt, OPT_STR));
    CHECK(dt.kind == ZARRC_DTYPE_OPTIONAL && dt.item_size == 0 && zarrc_dtype_elem_size(&dt) == sizeof(zarrc_vref));
    CHECK_OK(zarrc_dtype_optional_inner(&in, &dt));
    CHECK(in.kind == ZARRC_DTYPE_STRING);
    CHECK_OK(zarrc_dtype_parse(&dt, OPT_BYTES));
    CHECK(dt.item_size == 0 && dt.inner && dt.inner->kind == ZARRC_DTYPE_VBYTES);

    zarrc_array *a = make(s, "s", OPT_STR, "null", OPT_CODEC);
    CHECK(a != NULL);
    if (!a)
        return;
    char *js = NULL;
    CHECK_OK(zarrc_array_json(&js, a, ZARRC_JSON_FILL_VALUE));
    CHECK_MSG(js && !strcmp(js, "null"), "fill %s", js ? js : "?");
    zarrc_free(js);
    /* "ab", null, "", "xyz", null, "" */
    uint64_t offs[7] = {0, 2, 2, 2, 5, 5, 5};
    uint8_t mask[6] = {1, 0, 1, 1, 0, 1};
    zarrc_vlen v = {6, offs, (uint8_t *)"abxyz", 5, mask};
    int64_t z[1] = {0}, n[1] = {6};
    CHECK_OK(zarrc_array_write(a, z, n, NULL, &v, sizeof v));
    void *chunk = NULL;
    size_t size = 0;
    CHECK_OK(zarrc_store_get(&chunk, &size, s, "s/c/0"));
    /* header (mask 1 packbits byte, data 4 + 6 + 4 + 7 + 4 = 25), mask bits, vlen-utf8 of 4 values */
    static const uint8_t want[] = {1, 0, 0, 0, 0, 0, 0, 0, 25, 0, 0, 0, 0, 0, 0, 0, 0x2d, 4, 0, 0, 0, 2, 0, 0, 0,
                                   'a', 'b', 0, 0, 0, 0, 3, 0, 0, 0, 'x', 'y', 'z', 0, 0, 0, 0};
    CHECK_MSG(size == sizeof want && !memcmp(chunk, want, sizeof want), "chunk of %zu bytes", size);
    zarrc_free(chunk);
    zarrc_vlen r = {0};
    CHECK_OK(zarrc_array_read(a, z, n, NULL, &r, sizeof r));
    CHECK(r.count == 6 && r.mask && r.size == 5 && !memcmp(r.data, "abxyz", 5));
    if (r.mask && r.count == 6)
        for (int i = 0; i < 6; i++)
            CHECK_MSG(r.mask[i] == mask[i] && r.offsets[i + 1] == offs[i + 1], "item %d", i);
    zarrc_vlen_clear(&r);
    CHECK(r.mask == NULL && r.data == NULL);
    /* a mask NULL writes every item present; a missing item with bytes is refused */
    v.mask = NULL;
    CHECK_OK(zarrc_array_write(a, z, n, NULL, &v, sizeof v));
    CHECK_OK(zarrc_array_read(a, z, n, NULL, &r, sizeof r));
    CHECK(r.mask && r.mask[1] == 1 && r.mask[4] == 1);
    zarrc_vlen_clear(&r);
    uint8_t bad[6] = {0, 1, 1, 1, 1, 1};
    v.mask = bad;
    CHECK_ERR(zarrc_array_write(a, z, n, NULL, &v, sizeof v), ZARRC_EINVAL, "item 0 is missing");
    /* all missing = the fill: the chunk is erased */
    uint64_t zero[7] = {0};
    uint8_t none[6] = {0};
    zarrc_vlen nulls = {6, zero, (uint8_t *)"", 0, none};
    CHECK_OK(zarrc_array_write(a, z, n, NULL, &nulls, sizeof nulls));
    CHECK_ERR(zarrc_store_get(&chunk, &size, s, "s/c/0"), ZARRC_ENOTFOUND, "");
    CHECK_OK(zarrc_array_read(a, z, n, NULL, &r, sizeof r));
    CHECK(r.count == 6 && r.mask && !memchr(r.mask, 1, 6));
    zarrc_vlen_clear(&r);
    /* six "" are not missing: stored */
    zarrc_vlen empties = {6, zero, (uint8_t *)"", 0, NULL};
    CHECK_OK(zarrc_array_write(a, z, n, NULL, &empties, sizeof empties));
    CHECK_OK(zarrc_store_get(&chunk, &size, s, "s/c/0"));
    zarrc_free(chunk);
    zarrc_array_free(a);

    /* fill ["text"]: unwritten chunks read as present "zz" */
    a = make(s, "t", OPT_STR, "[\"zz\"]", NULL);
    CHECK(a != NULL);
    if (a) {
        CHECK_OK(zarrc_array_json(&js, a, ZARRC_JSON_FILL_VALUE));
        CHECK_MSG(js && !strcmp(js, "[\"zz\"]"), "fill %s", js ? js : "?");
        zarrc_free(js);
        CHECK_OK(zarrc_array_read(a, z, n, NULL, &r, sizeof r));
        CHECK(r.count == 6 && r.size == 12 && r.mask && r.mask[5] == 1 && !memcmp(r.data + 10, "zz", 2));
        zarrc_vlen_clear(&r);
        zarrc_array_free(a);
    }
    /* reads of a plain string array leave mask NULL */
    a = make(s, "p", "string", "\"\"", NULL);
    CHECK(a != NULL);
    if (a) {
        memset(&r, 0xee, sizeof r);
        CHECK_OK(zarrc_array_read(a, z, n, NULL, &r, sizeof r));
        CHECK(r.mask == NULL && r.count == 6);
        zarrc_vlen_clear(&r);
        zarrc_array_free(a);
    }
    /* corrupt: the data part holds fewer values than the mask says */
    a = make(s, "c2", OPT_BYTES, "null", OPT_CODEC);
    if (a) {
        uint8_t c[] = {1, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0x03, 1, 0, 0, 0, 0, 0, 0, 0};
        CHECK_OK(zarrc_store_set(s, "c2/c/0", c, sizeof c));
        CHECK_ERR(zarrc_array_read(a, z, n, NULL, &r, sizeof r), ZARRC_ECORRUPT, "zarrs.optional data");
        zarrc_array_free(a);
    }
}

int main(void)
{
    layout();
    zarrc_store *s;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    roundtrip(s);
    vlen(s);
    zarrc_store_free(s);
    return check_report("api.optional");
}
