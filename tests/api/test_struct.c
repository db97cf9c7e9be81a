/* test_struct.c — struct (record) data types through the public API: parsing both formats'
 * spellings, the field table, fill values, per-field byte order on storage, field selectors. */
#include <math.h>

#include "check.h"
#include "zarrc.h"
#include "zarrc_plugin.h"

static char *meta_text(zarrc_store *st, const char *key)
{
    void *d = NULL;
    size_t n = 0;
    if (zarrc_store_get(&d, &n, st, key))
        return NULL;
    char *s = malloc(n + 1);
    memcpy(s, d, n);
    s[n] = 0;
    zarrc_free(d);
    return s;
}

/* JSON text without whitespace (metadata is pretty-printed). */
static void squeeze(char *s)
{
    char *o = s;
    int in_str = 0;
    for (; *s; s++) {
        if (*s == '"' && (s == o || s[-1] != '\\'))
            in_str = !in_str;
        if (in_str || (*s != ' ' && *s != '\n'))
            *o++ = *s;
    }
    *o = 0;
}

static void test_parse(void)
{
    zarrc_dtype_info dt, dt2;
    zarrc_field_info f;
    CHECK_OK(zarrc_dtype_parse(&dt, "[[\"id\",\"<i4\"],[\"flags\",\"|u1\"],[\"value\",\"<f8\"]]"));
    CHECK(dt.kind == ZARRC_DTYPE_STRUCT && dt.item_size == 13 && !strcmp(dt.name, "struct"));
    CHECK(zarrc_dtype_field_count(&dt) == 3);
    CHECK_OK(zarrc_dtype_field(&f, &dt, 0));
    CHECK(!strcmp(f.name, "id") && f.offset == 0 && f.size == 4 && f.dtype.kind == ZARRC_DTYPE_INT && f.ndim == 0);
    CHECK_OK(zarrc_dtype_field(&f, &dt, 1));
    CHECK(!strcmp(f.name, "flags") && f.offset == 4 && f.size == 1 && !strcmp(f.dtype.name, "uint8"));
    CHECK_OK(zarrc_dtype_field(&f, &dt, 2));
    CHECK(!strcmp(f.name, "value") && f.offset == 5 && f.size == 8 && !strcmp(f.dtype.name, "float64"));
    CHECK_ERR(zarrc_dtype_field(&f, &dt, 3), ZARRC_EINVAL, "out of range");
    /* the same layout twice shares one field table */
    CHECK_OK(zarrc_dtype_parse(&dt2, "[[\"id\",\"<i4\"],[\"flags\",\"|u1\"],[\"value\",\"<f8\"]]"));
    CHECK(dt2.fields == dt.fields);

    /* v3 struct, nested, and the field path */
    CHECK_OK(zarrc_dtype_parse(&dt, "{\"name\":\"struct\",\"configuration\":{\"fields\":["
                                    "{\"name\":\"point\",\"data_type\":{\"name\":\"struct\",\"configuration\":{\"fields\":["
                                    "{\"name\":\"x\",\"data_type\":\"float32\"},{\"name\":\"y\",\"data_type\":\"float32\"}]}}},"
                                    "{\"name\":\"t\",\"data_type\":{\"name\":\"numpy.datetime64\",\"configuration\":{\"unit\":\"s\",\"scale_factor\":1}}},"
                                    "{\"name\":\"value\",\"data_type\":{\"name\":\"float64\"}}]}}"));
    CHECK(dt.kind == ZARRC_DTYPE_STRUCT && dt.item_size == 24);
    CHECK_OK(zarrc_dtype_field_find(&f, &dt, "point.y"));
    CHECK(f.offset == 4 && f.size == 4 && !strcmp(f.name, "y"));
    CHECK_OK(zarrc_dtype_field_find(&f, &dt, "t"));
    CHECK(f.offset == 8 && f.dtype.kind == ZARRC_DTYPE_DATETIME && !strcmp(f.dtype.unit, "s"));
    CHECK_OK(zarrc_dtype_field_find(&f, &dt, "point"));
    CHECK(f.dtype.kind == ZARRC_DTYPE_STRUCT && zarrc_dtype_field_count(&f.dtype) == 2 && f.size == 8);
    CHECK_ERR(zarrc_dtype_field_find(&f, &dt, "point.z"), ZARRC_ENOTFOUND, "point.z");
    CHECK_ERR(zarrc_dtype_field_find(&f, &dt, "value.x"), ZARRC_ENOTFOUND, "value.x");

    /* legacy "structured" with pair fields */
    CHECK_OK(zarrc_dtype_parse(&dt, "{\"name\":\"structured\",\"configuration\":{\"fields\":[[\"x\",\"float32\"],[\"y\",\"float32\"]]}}"));
    CHECK(dt.item_size == 8 && zarrc_dtype_field_count(&dt) == 2);

    /* sub-array fields (v2) */
    CHECK_OK(zarrc_dtype_parse(&dt, "[[\"t\",\"<i8\"],[\"v\",\">f4\",[2,3]]]"));
    CHECK(dt.item_size == 32);
    CHECK_OK(zarrc_dtype_field(&f, &dt, 1));
    CHECK(f.ndim == 2 && f.shape[0] == 2 && f.shape[1] == 3 && f.size == 24 && f.dtype.big_endian == 1);

    /* refusals */
    CHECK_ERR(zarrc_dtype_parse(&dt, "[[\"a\",\"<i4\"],[\"a\",\"<f4\"]]"), ZARRC_EDTYPE, "'a' appears twice");
    CHECK_ERR(zarrc_dtype_parse(&dt, "[]"), ZARRC_EDTYPE, "without fields");
    CHECK_ERR(zarrc_dtype_parse(&dt, "[[\"s\",\"|O\"]]"), ZARRC_EDTYPE, "variable-length");
    CHECK_ERR(zarrc_dtype_parse(&dt, "[[\"\",\"<i4\"]]"), ZARRC_EDTYPE, "non-empty");
    CHECK_ERR(zarrc_dtype_parse(&dt, "[[\"a\",\"<i4\",[0]]]"), ZARRC_EDTYPE, "shape[0]");
    CHECK_ERR(zarrc_dtype_parse(&dt, "[[\"a\",\"int32\"]]"), ZARRC_EDTYPE, "typestr");
    CHECK_ERR(zarrc_dtype_parse(&dt, "{\"name\":\"struct\",\"configuration\":{\"fields\":[{\"name\":\"a\",\"data_type\":\"string\"}]}}"),
              ZARRC_EDTYPE, "variable-length");
    CHECK_ERR(zarrc_dtype_parse(&dt, "{\"name\":\"struct\",\"configuration\":{\"fields\":[{\"name\":\"a\",\"data_type\":\"int8\",\"x\":1}]}}"),
              ZARRC_EDTYPE, "field 0");
    CHECK_ERR(zarrc_dtype_parse(&dt, "{\"name\":\"struct\"}"), ZARRC_EDTYPE, "'fields'");
    CHECK_ERR(zarrc_dtype_parse(&dt, "[[\"a\",\"|V2147483647\"],[\"b\",\"|V2147483647\"]]"), ZARRC_EDTYPE, "limit");
    /* nesting deeper than 32 levels */
    char deep[4096] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "[[\"a\",");
    strcat(deep, "\"<i4\"");
    for (int i = 0; i < 40; i++)
        strcat(deep, "]]");
    CHECK_ERR(zarrc_dtype_parse(&dt, deep), ZARRC_EDTYPE, "deeper");
    CHECK(zarrc_dtype_field_count(&dt2) == 3);
    zarrc_dtype_info i4;
    CHECK_OK(zarrc_dtype_parse(&i4, "int32"));
    CHECK(zarrc_dtype_field_count(&i4) == 0);
    CHECK_ERR(zarrc_dtype_field(&f, &i4, 0), ZARRC_EINVAL, "not a struct");
}

static void test_values(void)
{
    zarrc_dtype_info dt;
    CHECK_OK(zarrc_dtype_parse(&dt, "[[\"id\",\"<i4\"],[\"flags\",\"|u1\"],[\"value\",\"<f8\"],[\"p\",[[\"x\",\"<f4\"]]]]"));
    uint8_t rec[17];
    char *s = NULL;
    CHECK_OK(zarrc_dtype_value_from_json(rec, &dt, "{\"id\": -3, \"flags\": 7, \"value\": \"NaN\", \"p\": {\"x\": 0.5}}"));
    int32_t id;
    memcpy(&id, rec, 4);
    double v;
    memcpy(&v, rec + 5, 8);
    CHECK(id == -3 && rec[4] == 7 && isnan(v));
    CHECK_OK(zarrc_dtype_value_to_json(&s, &dt, rec));
    CHECK_MSG(s && !strcmp(s, "{\"id\":-3,\"flags\":7,\"value\":\"NaN\",\"p\":{\"x\":0.5}}"), "%s", s ? s : "");
    zarrc_free(s);
    CHECK_ERR(zarrc_dtype_value_from_json(rec, &dt, "{\"flags\": 300}"), ZARRC_EDTYPE, "flags");
    CHECK_ERR(zarrc_dtype_value_from_json(rec, &dt, "{\"nope\": 1}"), ZARRC_EDTYPE, "no field named 'nope'");
    CHECK_ERR(zarrc_dtype_value_from_json(rec, &dt, "[1, 2]"), ZARRC_EDTYPE, "2 values for 4 fields");
    /* a missing field takes its default; positional form */
    CHECK_OK(zarrc_dtype_value_from_json(rec, &dt, "[1, 2, 3.0, {\"x\": 1}]"));
    CHECK_OK(zarrc_dtype_value_to_json(&s, &dt, rec));
    CHECK_MSG(s && !strcmp(s, "{\"id\":1,\"flags\":2,\"value\":3.0,\"p\":{\"x\":1.0}}"), "%s", s ? s : "");
    zarrc_free(s);
}

/* The spec's example (extensions.md 1.1): fill = id 1, flags 2, value 0.5. */
static void test_v2_array(zarrc_store *st)
{
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    int64_t shape[1] = {5}, chunks[1] = {5};
    o.format = 2;
    o.dtype = "[[\"id\",\"<i4\"],[\"flags\",\"|u1\"],[\"value\",\">f8\"]]";
    o.ndim = 1;
    o.shape = shape;
    o.chunks = chunks;
    o.compressor = "null";
    o.fill_value = "\"AQAAAAI/4AAAAAAAAA==\""; /* value big-endian 0.5 */
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, st, "v2", &o));
    if (!a)
        return;
    char *m = meta_text(st, "v2/.zarray");
    CHECK(m != NULL);
    if (m) {
        squeeze(m);
        CHECK_MSG(strstr(m, "\"dtype\":[[\"id\",\"<i4\"],[\"flags\",\"|u1\"],[\"value\",\">f8\"]]") != NULL, "%s", m);
        CHECK_MSG(strstr(m, "\"fill_value\":\"AQAAAAI/4AAAAAAAAA==\"") != NULL, "%s", m);
    }
    free(m);
    /* unwritten elements read as the fill */
    uint8_t recs[5 * 13];
    int64_t st0[1] = {0}, c5[1] = {5};
    CHECK_OK(zarrc_array_read(a, st0, c5, NULL, recs, sizeof recs));
    double v;
    memcpy(&v, recs + 13 + 5, 8);
    CHECK(recs[13 + 4] == 2 && recs[13] == 1 && v == 0.5);
    /* write records; the stored chunk has each field in its own byte order */
    for (int i = 0; i < 5; i++) {
        int32_t id = 100 + i;
        double val = i + 0.25;
        memcpy(recs + i * 13, &id, 4);
        recs[i * 13 + 4] = (uint8_t)i;
        memcpy(recs + i * 13 + 5, &val, 8);
    }
    CHECK_OK(zarrc_array_write(a, st0, c5, NULL, recs, sizeof recs));
    void *chunk = NULL;
    size_t n = 0;
    CHECK_OK(zarrc_store_get(&chunk, &n, st, "v2/0"));
    CHECK(n == 65);
    if (n == 65) {
        const uint8_t *c = chunk;
        /* record 1: id 101 little-endian, flags 1, value 1.25 big-endian (3ff4000000000000) */
        CHECK(c[13] == 101 && c[14] == 0 && c[17] == 1);
        CHECK(c[18] == 0x3f && c[19] == 0xf4 && c[20] == 0 && c[25] == 0);
    }
    zarrc_free(chunk);
    /* field selector: read one field, write one field */
    double vals[5];
    CHECK_OK(zarrc_array_read_field(a, "value", st0, c5, NULL, vals, sizeof vals));
    CHECK(vals[0] == 0.25 && vals[4] == 4.25);
    uint8_t flags[3] = {9, 8, 7};
    int64_t s1[1] = {1}, c3[1] = {3}, step2[1] = {2};
    CHECK_ERR(zarrc_array_write_field(a, "flags", s1, c3, step2, flags, 3), ZARRC_EBOUNDS, "");
    int64_t c2[1] = {2};
    CHECK_OK(zarrc_array_write_field(a, "flags", s1, c2, step2, flags, 2));
    uint8_t got[5];
    CHECK_OK(zarrc_array_read_field(a, "flags", st0, c5, NULL, got, 5));
    CHECK(got[0] == 0 && got[1] == 9 && got[2] == 2 && got[3] == 8 && got[4] == 4);
    CHECK_OK(zarrc_array_read_field(a, "value", st0, c5, NULL, vals, sizeof vals));
    CHECK(vals[1] == 1.25 && vals[3] == 3.25); /* other fields kept */
    CHECK_ERR(zarrc_array_read_field(a, "value", st0, c5, NULL, vals, 8), ZARRC_EINVAL, "buffer of 8 bytes");
    CHECK_ERR(zarrc_array_read_field(a, "nope", st0, c5, NULL, vals, 40), ZARRC_ENOTFOUND, "nope");
    char *j = NULL;
    CHECK_OK(zarrc_array_json(&j, a, ZARRC_JSON_DTYPE));
    CHECK_MSG(j && !strcmp(j, "[[\"id\",\"<i4\"],[\"flags\",\"|u1\"],[\"value\",\">f8\"]]"), "%s", j ? j : "");
    zarrc_free(j);
    zarrc_array_free(a);
    /* reopen: same data */
    CHECK_OK(zarrc_array_open(&a, st, "v2"));
    if (a) {
        CHECK_OK(zarrc_array_read_field(a, "value", st0, c5, NULL, vals, sizeof vals));
        CHECK(vals[2] == 2.25);
        zarrc_array_free(a);
    }
}

static void test_v3_array(zarrc_store *st)
{
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    int64_t shape[2] = {3, 4}, chunks[2] = {2, 2};
    o.dtype = "{\"name\":\"struct\",\"configuration\":{\"fields\":[{\"name\":\"t\",\"data_type\":\"int64\"},"
              "{\"name\":\"pos\",\"data_type\":{\"name\":\"struct\",\"configuration\":{\"fields\":["
              "{\"name\":\"x\",\"data_type\":\"float32\"},{\"name\":\"y\",\"data_type\":\"float32\"}]}}}]}}";
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    o.fill_value = "{\"t\": -1, \"pos\": {\"x\": \"NaN\", \"y\": 2.5}}";
    o.codecs = "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}]";
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, st, "v3", &o));
    if (!a)
        return;
    char *m = meta_text(st, "v3/zarr.json");
    if (m) {
        squeeze(m);
        CHECK_MSG(strstr(m, "\"fill_value\":{\"t\":-1,\"pos\":{\"x\":\"NaN\",\"y\":2.5}}") != NULL, "%s", m);
        CHECK_MSG(strstr(m, "\"data_type\":{\"name\":\"struct\",\"configuration\":{\"fields\":[{\"name\":\"t\","
                            "\"data_type\":\"int64\"},{\"name\":\"pos\",\"data_type\":{\"name\":\"struct\"") != NULL, "%s", m);
        CHECK_MSG(strstr(m, "\"endian\":\"big\"") != NULL, "%s", m);
    }
    free(m);
    float xs[12];
    int64_t s0[2] = {0, 0}, cnt[2] = {3, 4};
    CHECK_OK(zarrc_array_read_field(a, "pos.x", s0, cnt, NULL, xs, sizeof xs));
    CHECK(isnan(xs[0]) && isnan(xs[11]));
    for (int i = 0; i < 12; i++)
        xs[i] = (float)i;
    CHECK_OK(zarrc_array_write_field(a, "pos.x", s0, cnt, NULL, xs, sizeof xs));
    int64_t ts[12];
    CHECK_OK(zarrc_array_read_field(a, "t", s0, cnt, NULL, ts, sizeof ts));
    CHECK(ts[0] == -1 && ts[11] == -1);
    /* the stored chunk (0,0): t big-endian -1, pos.x big-endian 0.0f, pos.y 2.5f = 40200000 */
    void *chunk = NULL;
    size_t n = 0;
    CHECK_OK(zarrc_store_get(&chunk, &n, st, "v3/c/0/0"));
    CHECK(n == 4 * 16);
    if (n == 64) {
        const uint8_t *c = chunk;
        CHECK(c[0] == 0xff && c[7] == 0xff && c[16 + 8] == 0x3f && c[16 + 9] == 0x80 && c[12] == 0x40 && c[13] == 0x20);
    }
    zarrc_free(chunk);
    uint8_t rec[16];
    int64_t s1[2] = {1, 3}, c1[2] = {1, 1};
    CHECK_OK(zarrc_array_read(a, s1, c1, NULL, rec, 16));
    float x;
    memcpy(&x, rec + 8, 4);
    CHECK(x == 7.0f);
    zarrc_array_free(a);

    /* a fill value the type cannot encode is refused before anything is written */
    o.fill_value = "{\"t\": \"soon\", \"pos\": {\"x\": 0, \"y\": 0}}";
    CHECK_ERR(zarrc_array_create(&a, st, "bad", &o), ZARRC_EDTYPE, "field 't'");
    zarrc_node_kind kind;
    int fmt;
    CHECK(zarrc_node_probe(&kind, &fmt, st, "bad") == ZARRC_ENOTFOUND);
    o.fill_value = "{\"t\": 0, \"pos\": {\"x\": 0, \"z\": 0}}";
    CHECK_ERR(zarrc_array_create(&a, st, "bad", &o), ZARRC_EDTYPE, "no field named 'z'");
    /* sub-array fields have no v3 spelling */
    o.fill_value = NULL;
    o.dtype = "[[\"v\",\"<f4\",[2]]]";
    CHECK_ERR(zarrc_array_create(&a, st, "bad", &o), ZARRC_EUNSUPPORTED, "sub-array");
    CHECK(zarrc_node_probe(&kind, &fmt, st, "bad") == ZARRC_ENOTFOUND);
}

/* ---- user-defined data types ---- */

static int fx_from_json(const void *state, const zarrc_json *v, int format, void *elem)
{
    (void)format;
    int64_t scale = *(const int64_t *)state, x;
    double d;
    if (zarrc_json_double(v, &d))
        return zarrc_error_set(ZARRC_EDTYPE, "not a number");
    if (!(d * (double)scale > -2147483648.0 && d * (double)scale < 2147483647.0))
        return zarrc_error_set(ZARRC_EDTYPE, "out of range for 32-bit fixed point");
    x = (int64_t)llround(d * (double)scale);
    int32_t v32 = (int32_t)x;
    memcpy(elem, &v32, 4);
    return ZARRC_OK;
}

static int fx_to_json(const void *state, const void *elem, int format, zarrc_buf *out)
{
    (void)format;
    int32_t v32;
    memcpy(&v32, elem, 4);
    char t[64];
    int n = snprintf(t, sizeof t, "%.17g", (double)v32 / (double)*(const int64_t *)state);
    if (zarrc_buf_reserve(out, out->size + (size_t)n))
        return ZARRC_ENOMEM;
    memcpy(out->data + out->size, t, (size_t)n);
    out->size += (size_t)n;
    return ZARRC_OK;
}

static int fx_parse(void **state, size_t *item_size, const zarrc_json *config)
{
    int64_t scale;
    if (zarrc_json_opt_int(config, "scale", 0, &scale) || scale < 1)
        return zarrc_error_set(ZARRC_EDTYPE, "'scale' must be a positive integer");
    int64_t *s = malloc(sizeof *s);
    *s = scale;
    *state = s;
    *item_size = 4;
    return ZARRC_OK;
}

static int fx_emit(const void *state, zarrc_json *config)
{
    return zarrc_json_put_int(config, "scale", *(const int64_t *)state);
}

static const zarrc_dtype_type fixed = {ZARRC_DTYPE_TYPE_VERSION, "test.fixed32", NULL, 0, 4, NULL,
                                       fx_parse, fx_emit, free, fx_from_json, fx_to_json};

static void test_user(zarrc_store *st)
{
    zarrc_dtype_type bad = fixed;
    bad.name = "int32";
    CHECK_ERR(zarrc_dtype_register(&bad), ZARRC_EINVAL, "built in");
    bad = fixed;
    bad.fill_to_json = NULL;
    CHECK_ERR(zarrc_dtype_register(&bad), ZARRC_EINVAL, "required");
    bad = fixed;
    bad.parse_config = NULL;
    CHECK_ERR(zarrc_dtype_register(&bad), ZARRC_EUNSUPPORTED, "variable-length");

    /* before registration: the array opens, reading names the type */
    const char *doc = "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[3],\"data_type\":{\"name\":"
                      "\"test.fixed32\",\"configuration\":{\"scale\":100}},\"chunk_grid\":{\"name\":\"regular\","
                      "\"configuration\":{\"chunk_shape\":[3]}},\"chunk_key_encoding\":{\"name\":\"default\"},"
                      "\"fill_value\":1.25,\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}]}";
    CHECK_OK(zarrc_store_set(st, "fx/zarr.json", doc, strlen(doc)));
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_open(&a, st, "fx"));
    if (a) {
        int32_t v[3];
        int64_t s0[1] = {0}, c3[1] = {3};
        CHECK(zarrc_array_dtype(a)->kind == ZARRC_DTYPE_USER && !strcmp(zarrc_array_dtype(a)->name, "test.fixed32"));
        CHECK_ERR(zarrc_array_read(a, s0, c3, NULL, v, sizeof v), ZARRC_EDTYPE,
                  "unknown data type 'test.fixed32' (register it");
        char *j = NULL;
        CHECK_OK(zarrc_array_json(&j, a, ZARRC_JSON_FILL_VALUE));
        CHECK(j && !strcmp(j, "1.25"));
        zarrc_free(j);
        CHECK_OK(zarrc_array_json(&j, a, ZARRC_JSON_DTYPE));
        CHECK(j && !strcmp(j, "{\"name\":\"test.fixed32\",\"configuration\":{\"scale\":100}}"));
        zarrc_free(j);
        zarrc_array_free(a);
    }
    CHECK_OK(zarrc_dtype_register(&fixed));
    CHECK_OK(zarrc_array_open(&a, st, "fx"));
    if (a) {
        int32_t v[3] = {0, 0, 0};
        int64_t s0[1] = {0}, c3[1] = {3}, c2[1] = {2};
        CHECK(zarrc_array_dtype(a)->item_size == 4);
        CHECK_OK(zarrc_array_read(a, s0, c3, NULL, v, sizeof v));
        CHECK(v[0] == 125 && v[2] == 125); /* the fill, 1.25 at scale 100 */
        int32_t w[2] = {-7, 0x01020304};
        CHECK_OK(zarrc_array_write(a, s0, c2, NULL, w, sizeof w));
        void *chunk = NULL;
        size_t n = 0;
        CHECK_OK(zarrc_store_get(&chunk, &n, st, "fx/c/0"));
        CHECK(n == 12 && ((uint8_t *)chunk)[4] == 1 && ((uint8_t *)chunk)[7] == 4); /* big-endian words */
        zarrc_free(chunk);
        zarrc_array_free(a);
    }
    /* create: configuration and fill through the hooks; a fill the type cannot encode is
     * refused before anything is written */
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    int64_t shape[1] = {4};
    o.dtype = "{\"name\":\"test.fixed32\",\"configuration\":{\"scale\":1000}}";
    o.ndim = 1;
    o.shape = shape;
    o.fill_value = "1e12";
    CHECK_ERR(zarrc_array_create(&a, st, "fx2", &o), ZARRC_EDTYPE, "cannot be encoded as 'test.fixed32'");
    zarrc_node_kind kind;
    int fmt;
    CHECK(zarrc_node_probe(&kind, &fmt, st, "fx2") == ZARRC_ENOTFOUND);
    o.dtype = "{\"name\":\"test.fixed32\",\"configuration\":{\"scale\":0}}";
    o.fill_value = NULL;
    CHECK_ERR(zarrc_array_create(&a, st, "fx2", &o), ZARRC_EDTYPE, "'scale'");
    o.dtype = "{\"name\":\"test.fixed32\",\"configuration\":{\"scale\":1000}}";
    o.fill_value = "-0.5";
    CHECK_OK(zarrc_array_create(&a, st, "fx2", &o));
    if (a) {
        char *m = meta_text(st, "fx2/zarr.json");
        if (m) {
            squeeze(m);
            CHECK_MSG(strstr(m, "\"data_type\":{\"name\":\"test.fixed32\",\"configuration\":{\"scale\":1000}}") &&
                      strstr(m, "\"fill_value\":-0.5"), "%s", m);
        }
        free(m);
        zarrc_array_free(a);
    }
    o.format = 2;
    CHECK_ERR(zarrc_array_create(&a, st, "fx3", &o), ZARRC_EDTYPE, "no v2 spelling");
    /* a record with a user-typed field */
    zarrc_dtype_info dt;
    CHECK_OK(zarrc_dtype_parse(&dt, "{\"name\":\"struct\",\"configuration\":{\"fields\":[{\"name\":\"p\",\"data_type\":"
                                    "{\"name\":\"test.fixed32\",\"configuration\":{\"scale\":10}}},{\"name\":\"q\",\"data_type\":\"uint8\"}]}}"));
    CHECK(dt.item_size == 5);
    uint8_t rec[5];
    CHECK_OK(zarrc_dtype_value_from_json(rec, &dt, "{\"p\": 2.5, \"q\": 3}"));
    int32_t p;
    memcpy(&p, rec, 4);
    CHECK(p == 25 && rec[4] == 3);
}

int main(void)
{
    test_parse();
    test_values();
    zarrc_store *st = NULL;
    CHECK_OK(zarrc_store_open(&st, "memory://", 0));
    if (st) {
        test_v2_array(st);
        test_v3_array(st);
        test_user(st);
    }
    zarrc_store_free(st);
    printf("test_struct: %d checks, %d failures\n", check_count, check_failures);
    return check_failures != 0;
}
