/* API tests for public functions the other tests only use indirectly: version and error
 * helpers, data type spellings, create from a document, write-empty-chunks, the array size,
 * group paths, and the plugin JSON accessors (through a test codec's configuration). */
#include <stdint.h>

#include "check.h"
#include "zarrc_plugin.h"

/* ---- a bytes→bytes test codec: XOR with a key, configured through every accessor ---- */

typedef struct xor_state {
    int64_t key;
    double weight;
    int flag;
    char label[32];
    int64_t list_sum;
} xor_state;

static int xor_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    (void)init;
    xor_state *s = calloc(1, sizeof *s);
    const char *label;
    int rc = zarrc_json_opt_int(config, "key", 7, &s->key);
    if (!rc)
        rc = zarrc_json_opt_double(config, "weight", 0.5, &s->weight);
    if (!rc)
        rc = zarrc_json_opt_bool(config, "flag", 0, &s->flag);
    if (!rc)
        rc = zarrc_json_opt_string(config, "label", "none", &label);
    if (rc) {
        free(s);
        return rc;
    }
    snprintf(s->label, sizeof s->label, "%s", label);
    const zarrc_json *list = zarrc_json_member(config, "list");
    if (list && zarrc_json_typeof(list) != ZARRC_JSON_ARRAY) {
        free(s);
        return zarrc_error_set(ZARRC_EINVAL, "'list' must be a list");
    }
    for (size_t i = 0; i < zarrc_json_length(list); i++) {
        int64_t v;
        double d;
        const zarrc_json *e = zarrc_json_at(list, i);
        if (zarrc_json_int(e, &v) == ZARRC_OK)
            s->list_sum += v;
        else if (zarrc_json_double(e, &d) == ZARRC_OK)
            s->list_sum += (int64_t)d;
        else if (zarrc_json_string(e))
            s->list_sum += (int64_t)strlen(zarrc_json_string(e));
    }
    *state = s;
    return ZARRC_OK;
}

static void xor_destroy(void *state) { free(state); }

static int xor_to_json(const void *state, int format, zarrc_json *config)
{
    (void)format;
    const xor_state *s = state;
    int rc = zarrc_json_put_int(config, "key", s->key);
    if (!rc)
        rc = zarrc_json_put_double(config, "weight", s->weight);
    if (!rc)
        rc = zarrc_json_put_bool(config, "flag", s->flag);
    if (!rc)
        rc = zarrc_json_put_string(config, "label", s->label);
    if (!rc)
        rc = zarrc_json_put_uint(config, "big", UINT64_MAX);
    if (!rc)
        rc = zarrc_json_put_null(config, "nothing");
    if (!rc)
        rc = zarrc_json_put_copy(config, "copied", zarrc_json_member(config, "label"));
    return rc;
}

static int xor_run(const void *state, const zarrc_codec_call *call, const uint8_t *in, size_t n, zarrc_buf *out)
{
    (void)call;
    const xor_state *s = state;
    int rc = zarrc_buf_reserve(out, n);
    for (size_t i = 0; rc == ZARRC_OK && i < n; i++)
        out->data[i] = in[i] ^ (uint8_t)s->key;
    out->size = n;
    return rc;
}

static const zarrc_codec_type xor_codec = {
    ZARRC_CODEC_TYPE_VERSION, "test.xor", NULL, NULL, ZARRC_CODEC_BYTES_TO_BYTES,
    xor_create, xor_destroy, xor_to_json, xor_run, xor_run, NULL,
};

static zarrc_array *make(zarrc_store *s, const char *path, const char *codecs, int format)
{
    int64_t shape[1] = {6}, chunks[1] = {3};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.format = format;
    o.dtype = "int16";
    o.ndim = 1;
    o.shape = shape;
    o.chunks = chunks;
    o.codecs = codecs;
    zarrc_array *a = NULL;
    zarrc_array_create(&a, s, path, &o);
    return a;
}

static void test_plugin_json(zarrc_store *s)
{
    CHECK_OK(zarrc_codec_register(&xor_codec));
    zarrc_array *a = make(s, "x", "[\"bytes\",{\"name\":\"test.xor\",\"configuration\":{\"key\":90,"
                                  "\"weight\":2,\"flag\":true,\"label\":\"k\",\"list\":[1,2.0,\"abc\"]}}]", 3);
    CHECK(a != NULL);
    if (!a)
        return;
    int16_t v[6] = {1, -2, 3, 300, -400, 5}, got[6];
    int64_t z[1] = {0}, n[1] = {6};
    CHECK_OK(zarrc_array_write(a, z, n, NULL, v, sizeof v));
    CHECK_OK(zarrc_array_read(a, z, n, NULL, got, sizeof got));
    CHECK(!memcmp(v, got, sizeof v));
    void *raw = NULL;
    size_t len = 0;
    CHECK_OK(zarrc_store_get(&raw, &len, s, "x/c/0"));
    CHECK(len == 6 && ((uint8_t *)raw)[0] == (1 ^ 90)); /* stored bytes are XORed */
    zarrc_free(raw);
    char *codecs = NULL;
    CHECK_OK(zarrc_array_json(&codecs, a, ZARRC_JSON_CODECS_V3));
    CHECK(codecs && strstr(codecs, "\"key\":90") && strstr(codecs, "\"weight\":2.0") &&
          strstr(codecs, "\"flag\":true") && strstr(codecs, "\"label\":\"k\"") &&
          strstr(codecs, "\"big\":18446744073709551615") && strstr(codecs, "\"nothing\":null") &&
          strstr(codecs, "\"copied\":\"k\""));
    zarrc_free(codecs);
    zarrc_array_free(a);
    /* Wrong member types are refused, naming the member and the codec. */
    CHECK(make(s, "y", "[\"bytes\",{\"name\":\"test.xor\",\"configuration\":{\"key\":\"no\"}}]", 3) == NULL);
    CHECK(strstr(zarrc_error_last(), "'key' must be an integer") && strstr(zarrc_error_last(), "test.xor"));
    CHECK(make(s, "y", "[\"bytes\",{\"name\":\"test.xor\",\"configuration\":{\"flag\":1}}]", 3) == NULL);
    CHECK(strstr(zarrc_error_last(), "'flag' must be true or false"));
    CHECK(make(s, "y", "[\"bytes\",{\"name\":\"test.xor\",\"configuration\":{\"weight\":\"x\"}}]", 3) == NULL);
    CHECK(strstr(zarrc_error_last(), "'weight' must be a number"));
    CHECK(make(s, "y", "[\"bytes\",{\"name\":\"test.xor\",\"configuration\":{\"label\":3}}]", 3) == NULL);
    CHECK(strstr(zarrc_error_last(), "'label' must be a string"));
    /* A codec without a v2 id cannot be written as v2, and says so. */
    CHECK(make(s, "y", "[\"bytes\",{\"name\":\"test.xor\"}]", 2) == NULL);
    CHECK(zarrc_error_code() == ZARRC_EUNSUPPORTED && strstr(zarrc_error_last(), "test.xor"));
}

static void test_helpers(void)
{
    CHECK(!strcmp(zarrc_version(), ZARRC_VERSION_STRING));
    for (int code = ZARRC_OK; code >= ZARRC_EINTERNAL; code--)
        CHECK(zarrc_strerror(code) && *zarrc_strerror(code) && strcmp(zarrc_strerror(code), "unknown error"));
    CHECK(!strcmp(zarrc_strerror(-999), "unknown error"));
    zarrc_store *s = NULL;
    CHECK(zarrc_store_open(&s, "nosuch://x", 0) == ZARRC_EINVAL);
    CHECK(zarrc_error_code() == ZARRC_EINVAL && strstr(zarrc_error_last(), "nosuch"));
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    CHECK(zarrc_error_code() == ZARRC_OK && !*zarrc_error_last()); /* cleared on entry */
    zarrc_store_free(s);

    static const char *const spellings[][2] = {
        {"<i2", "int16"}, {">f8", "float64"}, {"|u1", "uint8"}, {"|S7", "null_terminated_bytes"},
        {"<U3", "fixed_length_utf32"}, {"<M8[10s]", "numpy.datetime64"}, {"|V2", "r16"},
        {"|O", "string"}, {"|b1", "bool"}, {"<c16", "complex128"}, {"<M8", "numpy.datetime64"},
        {">m8", "numpy.timedelta64"},
    };
    for (size_t i = 0; i < sizeof spellings / sizeof *spellings; i++) {
        zarrc_dtype_info dt;
        char v2[32];
        CHECK_OK(zarrc_dtype_parse(&dt, spellings[i][0]));
        CHECK(!strcmp(dt.name, spellings[i][1]));
        CHECK_OK(zarrc_dtype_v2_string(v2, sizeof v2, &dt));
        CHECK(!strcmp(v2, spellings[i][0]));
    }
    zarrc_dtype_info dt;
    /* numpy's generic unit is spelled without brackets; "[generic]" is not a v2 spelling. */
    CHECK_OK(zarrc_dtype_parse(&dt, "<M8"));
    CHECK(!strcmp(dt.unit, "generic") && dt.scale_factor == 1 && !dt.big_endian && dt.item_size == 8);
    CHECK(zarrc_dtype_parse(&dt, "<M8[generic]") == ZARRC_EDTYPE);
    CHECK(zarrc_dtype_parse(&dt, "<M8x") == ZARRC_EDTYPE);
    CHECK(zarrc_dtype_parse(&dt, "<M4") == ZARRC_EDTYPE);
    CHECK_OK(zarrc_dtype_parse(&dt, "bfloat16"));
    char v2[32];
    CHECK(zarrc_dtype_v2_string(v2, sizeof v2, &dt) == ZARRC_EDTYPE);
    CHECK_OK(zarrc_dtype_parse(&dt, "string"));
    CHECK(zarrc_dtype_elem_size(&dt) == sizeof(zarrc_vref) && dt.item_size == 0);
    CHECK(zarrc_dtype_parse(&dt, "|f4") == ZARRC_EDTYPE); /* floats need a byte order */
}

static void test_arrays(zarrc_store *s)
{
    /* A v2 document with attributes: .zarray and .zattrs. */
    const char *v2 = "{\"zarr_format\":2,\"shape\":[4,5],\"chunks\":[2,5],\"dtype\":\"<u2\",\"compressor\":null,"
                     "\"fill_value\":3,\"order\":\"C\",\"filters\":null,\"attributes\":{\"units\":\"m\"}}";
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create_json(&a, s, "g/doc2", v2, 0));
    if (a) {
        CHECK(zarrc_array_format(a) == 2 && zarrc_array_size(a) == 20);
        void *d = NULL;
        size_t n;
        CHECK_OK(zarrc_store_get(&d, &n, s, "g/doc2/.zattrs"));
        CHECK(d && strstr((char *)d, "units"));
        zarrc_free(d);
        CHECK_OK(zarrc_store_get(&d, &n, s, "g/.zgroup")); /* the ancestor group was created */
        zarrc_free(d);
        /* Storing chunks equal to the fill value only when asked. */
        uint16_t fill[10] = {3, 3, 3, 3, 3, 3, 3, 3, 3, 3};
        int64_t st[2] = {0, 0}, c[2] = {2, 5};
        CHECK_OK(zarrc_array_write(a, st, c, NULL, fill, sizeof fill));
        CHECK(zarrc_store_get(&d, &n, s, "g/doc2/0.0") == ZARRC_ENOTFOUND);
        zarrc_array_set_write_empty_chunks(a, 1);
        CHECK_OK(zarrc_array_write(a, st, c, NULL, fill, sizeof fill));
        CHECK_OK(zarrc_store_get(&d, &n, s, "g/doc2/0.0"));
        CHECK(n == 20);
        zarrc_free(d);
        zarrc_array_free(a);
    }
    /* A v3 document; an invalid one writes nothing. */
    const char *v3 = "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[],\"data_type\":\"float32\","
                     "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[]}},"
                     "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":\"NaN\",\"codecs\":[\"bytes\"]}";
    CHECK_OK(zarrc_array_create_json(&a, s, "h/scalar", v3, 0));
    if (a) {
        CHECK(zarrc_array_ndim(a) == 0 && zarrc_array_size(a) == 1);
        zarrc_array_free(a);
    }
    CHECK_ERR(zarrc_array_create_json(&a, s, "h/bad", "{\"zarr_format\":3,\"node_type\":\"array\"}", 0),
              ZARRC_EINVAL, "missing required member");
    zarrc_node_kind kind;
    int format;
    CHECK(zarrc_node_probe(&kind, &format, s, "h/bad") == ZARRC_ENOTFOUND);
    /* Group handles know their path. */
    zarrc_group *g = NULL;
    CHECK_OK(zarrc_group_open(&g, s, "/g/", 0));
    if (g)
        CHECK(!strcmp(zarrc_group_path(g), "g") && zarrc_group_format(g) == 2);
    zarrc_group_free(g);
}

/* zarrc_store_flush: syncfs on the filesystem, nothing to do in memory; both succeed. */
static void test_store_flush(void)
{
    const char *tmp = getenv("ZARRC_TEST_TMP");
    char dir[600];
    snprintf(dir, sizeof dir, "%s/flush", tmp ? tmp : "testtmp");
    zarrc_store *fs = NULL, *mem = NULL;
    CHECK_OK(zarrc_store_open(&fs, dir, ZARRC_STORE_CREATE | ZARRC_STORE_DURABLE));
    CHECK_OK(zarrc_store_open(&mem, "memory://", 0));
    if (fs) {
        CHECK_OK(zarrc_store_set(fs, "k", "v", 1));
        CHECK_OK(zarrc_store_flush(fs));
        char ver[ZARRC_STORE_VERSION_MAX];
        CHECK_OK(zarrc_store_version(ver, sizeof ver, fs, "k"));
        CHECK_ERR(zarrc_store_version(ver, 4, fs, "k"), ZARRC_EINVAL, "too small");
        CHECK_ERR(zarrc_store_version(ver, sizeof ver, fs, "missing"), ZARRC_ENOTFOUND, "missing");
    }
    if (mem)
        CHECK_OK(zarrc_store_flush(mem));
    zarrc_store_free(fs);
    zarrc_store_free(mem);
}

/* Every flag bit of the create/open/write calls is distinct: they share one namespace. */
static void test_flag_bits(void)
{
    const unsigned flags[] = {ZARRC_OVERWRITE, ZARRC_FORCE, ZARRC_CREATE_PENDING, ZARRC_RESUME,
                              ZARRC_OPEN_ALLOW_EXTERNAL, ZARRC_EXTEND, ZARRC_OPEN_NO_CONSOLIDATED,
                              ZARRC_ATTRS_MERGE, ZARRC_UPDATE_CONSOLIDATED};
    unsigned seen = 0;
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        CHECK_MSG((seen & flags[i]) == 0, "flag 0x%x shares a bit with another", flags[i]);
        seen |= flags[i];
    }
}

int main(void)
{
    test_flag_bits();
    test_store_flush();
    test_helpers();
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    if (s) {
        test_plugin_json(s);
        test_arrays(s);
        zarrc_store_free(s);
    }
    return check_report("api.public_misc");
}
