/* test_views.c — views through the public API: lazy opening (counting store, 10,000 layers),
 * values of transforms zarrc-only features rely on (origins, fill layers, fill_value,
 * broadcast index arrays), stored views, write-through and its refusals (checked to write
 * nothing), copy of a view, and the documented errors (cycles, nesting, transforms, data
 * types, bounds, external references). Values against tensorstore: tests/interop_ts/run_views.py. */
#include <inttypes.h>

#include "check.h"
#include "counting.h"
#include "zarrc.h"

static zarrc_store *mem;

static void make1d(zarrc_store *s, const char *path, int64_t n, int64_t chunk, int32_t first)
{
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    int64_t shape[1] = {n}, chunks[1] = {chunk};
    o.dtype = "int32";
    o.ndim = 1;
    o.shape = shape;
    o.chunks = chunks;
    zarrc_array *a;
    CHECK_OK(zarrc_array_create(&a, s, path, &o));
    int32_t *v = malloc((size_t)n * 4);
    for (int64_t i = 0; i < n; i++)
        v[i] = first + (int32_t)i;
    int64_t st[1] = {0};
    CHECK_OK(zarrc_array_write(a, st, shape, NULL, v, (size_t)n * 4));
    free(v);
    zarrc_array_free(a);
}

static int read1d(zarrc_array *a, int64_t start, int64_t n, int32_t *out)
{
    int64_t st[1] = {start}, cn[1] = {n};
    return zarrc_array_read(a, st, cn, NULL, out, (size_t)n * 4);
}

static void test_lazy_10000(void)
{
    zarrc_store *s;
    CHECK_OK(zarrc_store_register(&counting_store));
    CHECK_OK(zarrc_store_open(&s, "count://", 0));
    enum { N = 10000 };
    /* Written directly (zarrc_array_create checks each location by listing: quadratic here). */
    const char *doc = "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[3],\"data_type\":\"int32\","
                      "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[3]}},"
                      "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
                      "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]}";
    for (int k = 0; k < N; k++) {
        char key[48];
        uint8_t chunk[12];
        for (int i = 0; i < 3; i++) {
            uint32_t x = (uint32_t)(3 * k + i);
            for (int b = 0; b < 4; b++)
                chunk[4 * i + b] = (uint8_t)(x >> (8 * b));
        }
        snprintf(key, sizeof key, "l/%d/zarr.json", k);
        CHECK_OK(zarrc_store_set(s, key, doc, strlen(doc)));
        snprintf(key, sizeof key, "l/%d/c/0", k);
        CHECK_OK(zarrc_store_set(s, key, chunk, sizeof chunk));
    }
    size_t cap = (size_t)N * 200 + 256, len = 0;
    char *spec = malloc(cap);
    len += (size_t)snprintf(spec + len, cap - len, "{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":[");
    for (int k = 0; k < N; k++)
        len += (size_t)snprintf(spec + len, cap - len,
                                "%s{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"file\",\"path\":\"l/%d\"},"
                                "\"transform\":{\"input_inclusive_min\":[%d],\"input_exclusive_max\":[%d],"
                                "\"output\":[{\"input_dimension\":0,\"offset\":%d}]}}",
                                k ? "," : "", k, 3 * k, 3 * k + 3, -3 * k);
    snprintf(spec + len, cap - len, "]}");
    counters_reset();
    zarrc_array *v = NULL;
    CHECK_OK(zarrc_view_open(&v, spec, s, "", 0));
    CHECK_MSG(cnt.gets == 0 && cnt.lists == 0, "open did %ld gets, %ld lists", cnt.gets, cnt.lists);
    if (v) {
        CHECK(zarrc_array_shape(v)[0] == 3 * N);
        int32_t x = -1;
        counters_reset();
        CHECK_OK(read1d(v, 3 * 7777 + 1, 1, &x));
        CHECK(x == 3 * 7777 + 1);
        long first = cnt.gets;
        CHECK_MSG(first >= 2 && first <= 4, "one-element read did %ld gets", first);
        counters_reset();
        CHECK_OK(read1d(v, 3 * 7777 + 2, 1, &x));
        CHECK(x == 3 * 7777 + 2);
        CHECK_MSG(cnt.gets == 1, "second read did %ld gets (the layer is cached)", cnt.gets);
        /* A read across 3 layers. */
        int32_t y[7];
        CHECK_OK(read1d(v, 3 * 100 + 1, 7, y));
        for (int i = 0; i < 7; i++)
            CHECK(y[i] == 301 + i);
    }
    zarrc_array_free(v);
    free(spec);
    zarrc_store_free(s);
}

static void test_values(void)
{
    /* A domain with a non-zero origin: index 0 of the handle is inclusive_min. */
    const char *spec =
        "{\"driver\":\"stack\",\"dtype\":\"int32\",\"fill_value\":-9,\"layers\":["
        "{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"file\",\"path\":\"a\"},"
        " \"transform\":{\"input_inclusive_min\":[10],\"input_exclusive_max\":[15],\"output\":[{\"input_dimension\":0,\"offset\":-10}]}},"
        "{\"driver\":\"fill\",\"fill_value\":7,\"transform\":{\"input_inclusive_min\":[16],\"input_exclusive_max\":[18],\"output\":[{\"offset\":0}]}},"
        "{\"driver\":\"array\",\"array\":[[1,2],[3,4]],\"transform\":{\"input_inclusive_min\":[18],\"input_exclusive_max\":[20],"
        "  \"output\":[{\"index_array\":[1,0]},{\"offset\":1}]}}]}";
    zarrc_array *v;
    CHECK_OK(zarrc_view_open(&v, spec, mem, "", 0));
    if (!v)
        return;
    CHECK(zarrc_array_ndim(v) == 1 && zarrc_array_shape(v)[0] == 10);
    /* The spec comes back as JSON: the same layers, reopenable to the same view. */
    char *back = NULL;
    CHECK_OK(zarrc_view_spec(&back, v));
    CHECK(back && strstr(back, "\"stack\"") && strstr(back, "\"fill\"") && strstr(back, "\"array\""));
    zarrc_array *again = NULL;
    if (back)
        CHECK_OK(zarrc_view_open(&again, back, mem, "", 0));
    CHECK(again && zarrc_array_shape(again)[0] == 10);
    zarrc_array_free(again);
    zarrc_free(back);
    /* A stored array has no spec; zarrc_array_open_flags opens it as zarrc_array_open does. */
    zarrc_array *plain = NULL;
    CHECK_OK(zarrc_array_open_flags(&plain, mem, "a", 0));
    if (plain) {
        CHECK(!zarrc_array_is_view(plain));
        CHECK_ERR(zarrc_view_spec(&back, plain), ZARRC_EINVAL, "");
    }
    zarrc_array_free(plain);
    int32_t got[10], want[10] = {100, 101, 102, 103, 104, -9, 7, 7, 4, 2};
    CHECK_OK(read1d(v, 0, 10, got));
    CHECK(!memcmp(got, want, sizeof got));
    int64_t st[1] = {9}, cn[1] = {4}, sp[1] = {-3};
    (void)sp;
    st[0] = 1;
    cn[0] = 3;
    int64_t step[1] = {3};
    int32_t g3[3];
    CHECK_OK(zarrc_array_read(v, st, cn, step, g3, sizeof g3));
    CHECK(g3[0] == 101 && g3[1] == 104 && g3[2] == 7);
    /* Writes into fill regions and inline layers are refused before anything is written. */
    int32_t w[10] = {0};
    st[0] = 0;
    cn[0] = 10;
    CHECK_ERR(zarrc_array_write(v, st, cn, NULL, w, sizeof w), ZARRC_EREADONLY, "covered by no layer");
    cn[0] = 7;
    CHECK_ERR(zarrc_array_write(v, st, cn, NULL, w, 7 * 4), ZARRC_EREADONLY, "covered by no layer");
    st[0] = 6;
    cn[0] = 2;
    CHECK_ERR(zarrc_array_write(v, st, cn, NULL, w, 8), ZARRC_EREADONLY, "fill layer");
    zarrc_array *a;
    CHECK_OK(zarrc_array_open(&a, mem, "a"));
    CHECK_OK(read1d(a, 0, 5, got));
    CHECK(got[0] == 100 && got[4] == 104);
    zarrc_array_free(a);
    /* JSON of a view handle: metadata with the spec in the extension member, no codecs. */
    char *j = NULL;
    CHECK_OK(zarrc_array_json(&j, v, ZARRC_JSON_METADATA));
    CHECK(j && strstr(j, "\"zarrc_view\"") && strstr(j, "\"must_understand\":true"));
    zarrc_free(j);
    CHECK_ERR(zarrc_array_json(&j, v, ZARRC_JSON_CODECS_V3), ZARRC_EUNSUPPORTED, "virtual array");
    CHECK(zarrc_array_is_view(v) == 1);
    zarrc_array_free(v);
}

static void test_write_through(void)
{
    make1d(mem, "w/a", 4, 2, 0);
    make1d(mem, "w/b", 6, 4, 0);
    /* b reversed and strided: positions 4..6 are b[5], b[3], b[1]. */
    const char *spec =
        "{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":["
        "{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"file\",\"path\":\"a\"},\"transform\":{\"input_inclusive_min\":[0],\"input_exclusive_max\":[4]}},"
        "{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"file\",\"path\":\"b\"},\"transform\":{\"input_inclusive_min\":[4],\"input_exclusive_max\":[7],"
        " \"output\":[{\"input_dimension\":0,\"offset\":13,\"stride\":-2}]}}]}";
    zarrc_array *v;
    CHECK_OK(zarrc_view_open(&v, spec, mem, "w", 0));
    if (!v)
        return;
    int32_t in[7] = {10, 11, 12, 13, 14, 15, 16}, got[7];
    CHECK_OK(read1d(v, 0, 7, got));
    CHECK(got[4] == 5 && got[5] == 3 && got[6] == 1);
    int64_t st[1] = {0}, cn[1] = {7};
    CHECK_OK(zarrc_array_write(v, st, cn, NULL, in, sizeof in));
    zarrc_array *b;
    CHECK_OK(zarrc_array_open(&b, mem, "w/b"));
    int32_t bv[6];
    CHECK_OK(read1d(b, 0, 6, bv));
    CHECK(bv[0] == 0 && bv[1] == 16 && bv[2] == 2 && bv[3] == 15 && bv[4] == 4 && bv[5] == 14);
    zarrc_array_free(b);
    CHECK_OK(read1d(v, 0, 7, got));
    CHECK(!memcmp(got, in, sizeof in));
    zarrc_array_free(v);
    /* Index arrays are not written through; overlapping layers neither. */
    const char *gather =
        "{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":[{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"file\",\"path\":\"a\"},"
        "\"transform\":{\"input_inclusive_min\":[0],\"input_exclusive_max\":[2],\"output\":[{\"index_array\":[3,1]}]}}]}";
    CHECK_OK(zarrc_view_open(&v, gather, mem, "w", 0));
    cn[0] = 2;
    CHECK_OK(read1d(v, 0, 2, got));
    CHECK(got[0] == 13 && got[1] == 11);
    int32_t two[2] = {-3, -1};
    CHECK_OK(zarrc_array_write(v, st, cn, NULL, two, 8));
    zarrc_array *wa;
    CHECK_OK(zarrc_array_open(&wa, mem, "w/a"));
    int32_t av[4];
    CHECK_OK(read1d(wa, 0, 4, av));
    CHECK(av[0] == 10 && av[1] == -1 && av[2] == 12 && av[3] == -3);
    zarrc_array_free(v);
    /* Duplicate targets: refused before anything is written. */
    const char *dup =
        "{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":[{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"file\",\"path\":\"a\"},"
        "\"transform\":{\"input_inclusive_min\":[0],\"input_exclusive_max\":[3],\"output\":[{\"index_array\":[0,2,0]}]}}]}";
    CHECK_OK(zarrc_view_open(&v, dup, mem, "w", 0));
    cn[0] = 3;
    CHECK_ERR(zarrc_array_write(v, st, cn, NULL, in, 12), ZARRC_EINVAL, "layer position [0] more than once");
    CHECK_OK(read1d(wa, 0, 4, av));
    CHECK(av[0] == 10 && av[1] == -1 && av[2] == 12 && av[3] == -3);
    zarrc_array_free(wa);
    zarrc_array_free(v);
    const char *over =
        "{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":[{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"file\",\"path\":\"a\"}},"
        "{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"file\",\"path\":\"b\"}}]}";
    CHECK_OK(zarrc_view_open(&v, over, mem, "w", 0));
    CHECK(zarrc_array_shape(v)[0] == 6);
    CHECK_OK(read1d(v, 0, 6, got)); /* later layers win */
    CHECK(got[0] == 0 && got[1] == 16 && got[5] == 14);
    cn[0] = 6;
    CHECK_ERR(zarrc_array_write(v, st, cn, NULL, in, 24), ZARRC_EUNSUPPORTED, "overlapping");
    zarrc_array_free(v);
}

static void test_stored_and_copy(void)
{
    make1d(mem, "h/x", 5, 2, 0);
    make1d(mem, "h/y", 3, 2, 50);
    zarrc_array *v = NULL;
    const char *spec = "{\"concatenate\":{\"axis\":0,\"arrays\":[\"../x\",\"../y\",\"../x\"]},\"attributes\":{\"k\":1}}";
    CHECK_OK(zarrc_view_create(&v, mem, "h/v", spec, 0));
    zarrc_array_free(v);
    CHECK_ERR(zarrc_view_create(NULL, mem, "h/v", spec, 0), ZARRC_EEXISTS, "already exists");
    CHECK_OK(zarrc_view_create(NULL, mem, "h/v", spec, ZARRC_OVERWRITE));
    CHECK_OK(zarrc_array_open(&v, mem, "h/v"));
    if (!v)
        return;
    CHECK(zarrc_array_is_view(v) && zarrc_array_shape(v)[0] == 13);
    int32_t got[13];
    CHECK_OK(read1d(v, 0, 13, got));
    CHECK(got[4] == 4 && got[5] == 50 && got[7] == 52 && got[8] == 0 && got[12] == 4);
    char *at = NULL;
    CHECK_OK(zarrc_array_json(&at, v, ZARRC_JSON_ATTRIBUTES));
    CHECK(at && !strcmp(at, "{\"k\":1}"));
    zarrc_free(at);
    /* Materialize: copy the view into a real array. */
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    int64_t shape[1] = {13}, chunks[1] = {4};
    o.dtype = "int32";
    o.ndim = 1;
    o.shape = shape;
    o.chunks = chunks;
    o.format = 2;
    zarrc_array *d;
    CHECK_OK(zarrc_array_create(&d, mem, "h/mat", &o));
    CHECK_OK(zarrc_array_copy(d, v, NULL, NULL));
    int32_t m[13];
    CHECK_OK(read1d(d, 0, 13, m));
    CHECK(!memcmp(m, got, sizeof m));
    CHECK_ERR(zarrc_array_copy(v, d, NULL, NULL), ZARRC_EUNSUPPORTED, "is a view");
    zarrc_array_free(d);
    zarrc_array_free(v);
    /* A group listing shows the view as an array node. */
    zarrc_node_kind kind;
    int fmt;
    CHECK_OK(zarrc_node_probe(&kind, &fmt, mem, "h/v"));
    CHECK(kind == ZARRC_NODE_ARRAY && fmt == 3);
}

static void put_view_doc(const char *path, const char *target)
{
    char key[128], doc[1024];
    snprintf(key, sizeof key, "%s/zarr.json", path);
    snprintf(doc, sizeof doc,
             "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[5],\"data_type\":\"int32\","
             "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[5]}},"
             "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,\"codecs\":[{\"name\":\"bytes\"}],"
             "\"zarrc_view\":{\"must_understand\":true,\"spec\":{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":["
             "{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"file\",\"path\":\"%s\"}}]}}}",
             target);
    CHECK_OK(zarrc_store_set(mem, key, doc, strlen(doc)));
}

static void test_errors(void)
{
    zarrc_array *v = NULL;
    make1d(mem, "e/a", 5, 5, 0);
    /* Cycles of stored views, and long chains. */
    put_view_doc("e/c1", "../c2");
    put_view_doc("e/c2", "../c3");
    put_view_doc("e/c3", "../c1");
    CHECK_ERR(zarrc_array_open(&v, mem, "e/c1"), ZARRC_EINVAL, "view cycle: 'e/c1' -> 'e/c2' -> 'e/c3' -> 'e/c1'");
    for (int i = 0; i < 40; i++) {
        char p[32], t[32];
        snprintf(p, sizeof p, "e/d%d", i);
        snprintf(t, sizeof t, i == 39 ? "../a" : "../d%d", i + 1);
        put_view_doc(p, t);
    }
    CHECK_ERR(zarrc_array_open(&v, mem, "e/d0"), ZARRC_EINVAL, "nest deeper than 32");
    CHECK_OK(zarrc_array_open(&v, mem, "e/d20"));
    zarrc_array_free(v);
    /* Inline nesting too deep. */
    size_t cap = 64 * 80 + 256, len = 0;
    char *deep = malloc(cap);
    for (int i = 0; i < 40; i++)
        len += (size_t)snprintf(deep + len, cap - len, "{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":[");
    len += (size_t)snprintf(deep + len, cap - len, "{\"driver\":\"array\",\"array\":[1]}");
    for (int i = 0; i < 40; i++)
        len += (size_t)snprintf(deep + len, cap - len, "]}");
    CHECK_ERR(zarrc_view_open(&v, deep, mem, "", 0), ZARRC_EINVAL, "deeper than 32");
    free(deep);
    struct {
        const char *spec;
        int code;
        const char *needle;
    } bad[] = {
        {"[1]", ZARRC_EINVAL, "JSON object"},
        {"{\"driver\":\"stack\",\"dtype\":\"int32\"}", ZARRC_EINVAL, "'layers'"},
        {"{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":[{\"driver\":\"n5\"}]}", ZARRC_EUNSUPPORTED, "driver 'n5'"},
        {"{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":[{\"driver\":\"array\",\"array\":[1,2],"
         "\"transform\":{\"input_rank\":1,\"output\":[{\"input_dimension\":1}]}}]}",
         ZARRC_EINVAL, "input_dimension 1"},
        {"{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":[{\"driver\":\"array\",\"array\":[1,2],"
         "\"transform\":{\"input_shape\":[2],\"output\":[{\"input_dimension\":0,\"index_array\":[0,1]}]}}]}",
         ZARRC_EINVAL, "exclude each other"},
        {"{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":[{\"driver\":\"array\",\"array\":[1,2],"
         "\"transform\":{\"input_shape\":[3]}}]}",
         ZARRC_EBOUNDS, "layer 0: output dimension 0 maps to [0, 2], outside the layer's domain [0, 2)"},
        {"{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":[{\"driver\":\"array\",\"array\":[1,2],"
         "\"transform\":{\"input_shape\":[2],\"input_exclusive_max\":[2]}}]}",
         ZARRC_EINVAL, "at most one"},
        {"{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":[{\"driver\":\"array\",\"array\":[[1,2],[3]]}]}",
         ZARRC_EINVAL, "not rectangular"},
        {"{\"driver\":\"stack\",\"dtype\":\"int16\",\"layers\":[{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"file\",\"path\":\"e/a\"}}]}",
         ZARRC_EDTYPE, "data type int32 differs from the view's int16"},
        {"{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":[{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"file\",\"path\":\"/etc\"}}]}",
         ZARRC_EAUTH, "outside the view's store"},
        {"{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":[{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"file\",\"path\":\"../x\"}}]}",
         ZARRC_EAUTH, "leaves the view's store"},
        {"{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":[{\"driver\":\"zarr3\",\"kvstore\":\"http://example.com/a\"}]}",
         ZARRC_EAUTH, "outside the view's store"},
        {"{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":[{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"gcs\",\"bucket\":\"b\"}}]}",
         ZARRC_EUNSUPPORTED, "'file' kvstore"},
        {"{\"driver\":\"stack\",\"dtype\":\"string\",\"layers\":[{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"file\",\"path\":\"e/a\"}}]}",
         ZARRC_EDTYPE, "data type int32 differs from the view's string"},
        {"{\"concatenate\":{\"axis\":3,\"arrays\":[\"e/a\"]}}", ZARRC_EINVAL, "axis 3 is out of range"},
        {"{\"concatenate\":{\"axis\":0,\"arrays\":[\"e/nothing\"]}}", ZARRC_ENOTFOUND, "e/nothing"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        v = NULL;
        CHECK_ERR(zarrc_view_open(&v, bad[i].spec, mem, "", 0), bad[i].code, bad[i].needle);
        CHECK(v == NULL);
    }
    /* Lazily opened layers report their problems on first read, naming the layer. */
    const char *lazy = "{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":[{\"driver\":\"zarr3\","
                       "\"kvstore\":{\"driver\":\"file\",\"path\":\"e/a\"},\"transform\":{\"input_inclusive_min\":[0],"
                       "\"input_exclusive_max\":[6]}}]}";
    CHECK_OK(zarrc_view_open(&v, lazy, mem, "", 0));
    int32_t x[6];
    CHECK_ERR(read1d(v, 0, 6, x), ZARRC_EBOUNDS, "layer 0: output dimension 0 maps to [0, 5]");
    zarrc_array_free(v);
    const char *rank = "{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":[{\"driver\":\"zarr3\",\"kvstore\":"
                       "{\"driver\":\"file\",\"path\":\"e/a\"},\"transform\":{\"input_shape\":[2,2]}}]}";
    CHECK_OK(zarrc_view_open(&v, rank, mem, "", 0));
    int64_t s2[2] = {0, 0}, c2[2] = {1, 1};
    CHECK_ERR(zarrc_array_read(v, s2, c2, NULL, x, 4), ZARRC_EINVAL, "2 output dimensions, the layer has 1");
    zarrc_array_free(v);
    /* No fill_value: reading an uncovered position is an error (as in tensorstore). */
    const char *gap = "{\"driver\":\"stack\",\"dtype\":\"int32\",\"layers\":[{\"driver\":\"array\",\"array\":[1]},"
                      "{\"driver\":\"array\",\"array\":[2],\"transform\":{\"input_inclusive_min\":[2],\"input_exclusive_max\":[3],"
                      "\"output\":[{\"input_dimension\":0,\"offset\":-2}]}}]}";
    CHECK_OK(zarrc_view_open(&v, gap, mem, "", 0));
    CHECK_ERR(read1d(v, 0, 3, x), ZARRC_EBOUNDS, "position [1] is covered by no layer");
    CHECK_OK(read1d(v, 2, 1, x));
    CHECK(x[0] == 2);
    zarrc_array_free(v);
}

/* A 1-d string array (v3 vlen-utf8 or, format 2, |O with vlen-utf8) holding vals. */
static void make_strings(zarrc_store *s, const char *path, int format, int64_t chunk, int n, const char *const *vals)
{
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    int64_t shape[1] = {n}, chunks[1] = {chunk}, st[1] = {0};
    o.format = format;
    o.dtype = "string";
    o.ndim = 1;
    o.shape = shape;
    o.chunks = chunks;
    zarrc_array *a;
    CHECK_OK(zarrc_array_create(&a, s, path, &o));
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += strlen(vals[i]);
    zarrc_vlen v = {0};
    v.count = n;
    v.size = total;
    v.offsets = malloc((size_t)(n + 1) * sizeof *v.offsets);
    v.data = malloc(total ? total : 1);
    size_t pos = 0;
    for (int i = 0; i < n; i++) {
        v.offsets[i] = pos;
        memcpy(v.data + pos, vals[i], strlen(vals[i]));
        pos += strlen(vals[i]);
    }
    v.offsets[n] = pos;
    if (a)
        CHECK_OK(zarrc_array_write(a, st, shape, NULL, &v, sizeof v));
    free(v.offsets);
    free(v.data);
    zarrc_array_free(a);
}

/* The elements of a vlen read joined with '|' (malloc'd). */
static char *joined(const zarrc_vlen *v)
{
    char *s = malloc(v->size + (size_t)v->count + 1), *p = s;
    for (int64_t i = 0; i < v->count; i++) {
        if (i)
            *p++ = '|';
        memcpy(p, v->data + v->offsets[i], v->offsets[i + 1] - v->offsets[i]);
        p += v->offsets[i + 1] - v->offsets[i];
    }
    *p = 0;
    return s;
}

static void check_strings(zarrc_array *v, const int64_t *start, const int64_t *count, const int64_t *step,
                          const char *want, const char *what)
{
    zarrc_vlen got = {0};
    int rc = zarrc_array_read(v, start, count, step, &got, sizeof got);
    CHECK_MSG(rc == ZARRC_OK, "%s: read failed: %s", what, zarrc_error_last());
    if (rc)
        return;
    char *s = joined(&got);
    CHECK_MSG(!strcmp(s, want), "%s: got '%s', want '%s'", what, s, want);
    free(s);
    zarrc_vlen_clear(&got);
}

/* Issue 12: string layers read through views like numeric ones (concatenate, stack, overlay,
 * steps, a negative transform stride, index arrays, fill, inline strings, nested stacks,
 * mixed v2/v3 layers, sharded layers, stored views, copies); writes through a string view are refused (nothing written). */
static void test_strings(void)
{
    const char *const a[] = {"alpha", "", "\xc3\xbcml\xc3\xa4ut", "delta", "epsilon"};
    const char *const b[] = {"b0", "b1", "b2"};
    make_strings(mem, "s/a", 3, 2, 5, a);
    make_strings(mem, "s/b", 2, 3, 3, b);
    /* sharded: 2 inner chunks of 2 per shard of 4 */
    {
        zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
        int64_t shape[1] = {4}, chunks[1] = {4}, st[1] = {0};
        o.dtype = "string";
        o.ndim = 1;
        o.shape = shape;
        o.chunks = chunks; /* one shard of two inner chunks */
        o.codecs = "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2],"
                   "\"codecs\":[{\"name\":\"vlen-utf8\"}],\"index_codecs\":[{\"name\":\"bytes\","
                   "\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}]}}]";
        zarrc_array *x = NULL;
        CHECK_OK(zarrc_array_create(&x, mem, "s/c", &o));
        zarrc_vlen w = {.count = 4, .offsets = (uint64_t[]){0, 1, 2, 3, 4}, .data = (uint8_t *)"wxyz", .size = 4};
        if (x)
            CHECK_OK(zarrc_array_write(x, st, shape, NULL, &w, sizeof w));
        zarrc_array_free(x);
    }
    zarrc_array *v = NULL;
    CHECK_OK(zarrc_view_open(&v, "{\"concatenate\":{\"axis\":0,\"arrays\":[\"s/a\",\"s/b\",\"s/c\"]}}", mem, "", 0));
    if (v) {
        CHECK(zarrc_array_shape(v)[0] == 12);
        CHECK(!strcmp(zarrc_array_dtype(v)->name, "string"));
        int64_t st[1] = {0}, cn[1] = {12};
        check_strings(v, st, cn, NULL, "alpha||\xc3\xbcml\xc3\xa4ut|delta|epsilon|b0|b1|b2|w|x|y|z", "concat v3+v2+sharded");
        int64_t st2[1] = {1}, cn2[1] = {4}, sp2[1] = {3};
        check_strings(v, st2, cn2, sp2, "|epsilon|b2|y", "concat, step 3");
        int64_t st3[1] = {0}, cn3[1] = {6}, sp3[1] = {2};
        check_strings(v, st3, cn3, sp3, "alpha|\xc3\xbcml\xc3\xa4ut|epsilon|b1|w|y", "concat, step 2 across layers");
        int64_t st4[1] = {3}, cn4[1] = {0};
        check_strings(v, st4, cn4, NULL, "", "empty selection");
        /* a zarrc_vlen with the wrong number of values is refused, and nothing is written */
        zarrc_vlen w = {.count = 1, .offsets = (uint64_t[]){0, 1}, .data = (uint8_t *)"Q", .size = 1};
        int64_t two[1] = {2}, one[1] = {1};
        CHECK_ERR(zarrc_array_write(v, st, two, NULL, &w, sizeof w), ZARRC_EINVAL, "holds 1 values");
        check_strings(v, st, one, NULL, "alpha", "after the refused write");
        /* a fixed-size buffer is refused with a message */
        int32_t bad[12];
        CHECK_ERR(zarrc_array_read(v, st, cn, NULL, bad, sizeof bad), ZARRC_EINVAL, "zarrc_vlen");
        zarrc_array_free(v);
    }
    /* stack along a new last axis, overlay of a later layer, fill_value for gaps, a fill layer,
     * an inline string layer, an index-array transform and a nested inline stack */
    const char *spec =
        "{\"driver\":\"stack\",\"dtype\":\"string\",\"fill_value\":\"-\",\"layers\":["
        "{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"file\",\"path\":\"s/a\"}},"
        "{\"driver\":\"zarr\",\"kvstore\":{\"driver\":\"file\",\"path\":\"s/b\"},"
        " \"transform\":{\"input_inclusive_min\":[1],\"input_exclusive_max\":[3],\"output\":[{\"input_dimension\":0,\"offset\":-1}]}},"
        "{\"driver\":\"fill\",\"fill_value\":\"F\",\"transform\":{\"input_inclusive_min\":[7],\"input_exclusive_max\":[9],\"output\":[{\"offset\":0}]}},"
        "{\"driver\":\"array\",\"dtype\":\"string\",\"array\":[\"i0\",\"i1\",\"i2\"],"
        " \"transform\":{\"input_inclusive_min\":[9],\"input_exclusive_max\":[11],\"output\":[{\"index_array\":[2,0]}]}},"
        "{\"driver\":\"stack\",\"dtype\":\"string\",\"layers\":[{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"file\",\"path\":\"s/c\"},"
        "   \"transform\":{\"input_inclusive_min\":[0],\"input_exclusive_max\":[2],\"output\":[{\"input_dimension\":0,\"offset\":2,\"stride\":-1}]}}],"
        " \"transform\":{\"input_inclusive_min\":[11],\"input_exclusive_max\":[13],\"output\":[{\"input_dimension\":0,\"offset\":-11}]}}"
        "],\"schema\":{\"domain\":{\"inclusive_min\":[0],\"exclusive_max\":[13]}}}";
    v = NULL;
    CHECK_OK(zarrc_view_open(&v, spec, mem, "", 0));
    if (v) {
        int64_t st[1] = {0}, cn[1] = {13};
        check_strings(v, st, cn, NULL, "alpha|b0|b1|delta|epsilon|-|-|F|F|i2|i0|y|x", "overlay, fill, inline, index array, nested");
        char *md = NULL;
        CHECK_OK(zarrc_array_json(&md, v, ZARRC_JSON_FILL_VALUE));
        CHECK_MSG(md && !strcmp(md, "\"-\""), "fill_value of the string view: %s", md ? md : "(null)");
        zarrc_free(md);
        zarrc_array_free(v);
    }
    /* fixed-width types (<U2, |S2): fixed-size elements, through the short forms (their data
     * type is written as a v3 object) and a hand-written spec with a typestr; writes too */
    {
        const char *types[2] = {"<U2", "|S2"};
        for (int ti = 0; ti < 2; ti++) {
            zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
            int64_t shape[1] = {2}, st[1] = {0};
            o.dtype = types[ti];
            o.ndim = 1;
            o.shape = shape;
            char pa[16], pb[16];
            snprintf(pa, sizeof pa, "fw%d/a", ti);
            snprintf(pb, sizeof pb, "fw%d/b", ti);
            size_t es = ti == 0 ? 8 : 2;
            uint8_t va[16] = {0}, vb[16] = {0};
            if (ti == 0) { /* UTF-32LE: "a", "bc" | "d", "" */
                va[0] = 'a'; va[8] = 'b'; va[12] = 'c';
                vb[0] = 'd';
            } else {
                va[0] = 'a'; va[2] = 'b'; va[3] = 'c';
                vb[0] = 'd';
            }
            zarrc_array *x = NULL, *y = NULL;
            o.format = 2;
            CHECK_OK(zarrc_array_create(&x, mem, pa, &o));
            o.format = 3;
            CHECK_OK(zarrc_array_create(&y, mem, pb, &o));
            if (x)
                CHECK_OK(zarrc_array_write(x, st, shape, NULL, va, 2 * es));
            if (y)
                CHECK_OK(zarrc_array_write(y, st, shape, NULL, vb, 2 * es));
            char spec[256];
            snprintf(spec, sizeof spec, "{\"concatenate\":{\"axis\":0,\"arrays\":[\"%s\",\"%s\"]}}", pa, pb);
            zarrc_array *fv = NULL;
            CHECK_OK(zarrc_view_open(&fv, spec, mem, "", 0));
            uint8_t got[32] = {0}, want[32];
            memcpy(want, va, 2 * es);
            memcpy(want + 2 * es, vb, 2 * es);
            int64_t s0[1] = {0}, c4[1] = {4};
            if (fv) {
                CHECK(!strcmp(zarrc_array_dtype(fv)->name, zarrc_array_dtype(x)->name));
                CHECK_OK(zarrc_array_read(fv, s0, c4, NULL, got, 4 * es));
                CHECK_MSG(!memcmp(got, want, 4 * es), "%s: concat view values", types[ti]);
                uint8_t w[16] = {'z'};
                int64_t s1[1] = {1}, c1[1] = {1};
                CHECK_OK(zarrc_array_write(fv, s1, c1, NULL, w, es));
                uint8_t back[16] = {0};
                CHECK_OK(zarrc_array_read(x, s1, c1, NULL, back, es));
                CHECK_MSG(back[0] == 'z' && back[1] == 0, "%s: write through the view", types[ti]);
            }
            zarrc_array_free(fv);
            /* the typestr spelling in a hand-written spec */
            snprintf(spec, sizeof spec, "{\"driver\":\"stack\",\"dtype\":\"%s\",\"layers\":[{\"driver\":\"%s\","
                     "\"kvstore\":{\"driver\":\"file\",\"path\":\"%s\"}}]}", types[ti], "zarr", pa);
            fv = NULL;
            CHECK_OK(zarrc_view_open(&fv, spec, mem, "", 0));
            zarrc_array_free(fv);
            zarrc_array_free(x);
            zarrc_array_free(y);
        }
    }
    /* stack: a new axis of two string arrays (2 x 3) */
    make_strings(mem, "s/d", 3, 3, 3, (const char *const[]){"d0", "d1", "d2"});
    v = NULL;
    CHECK_OK(zarrc_view_open(&v, "{\"stack\":{\"axis\":-1,\"arrays\":[\"s/b\",\"s/d\"]}}", mem, "", 0));
    if (v) {
        CHECK(zarrc_array_ndim(v) == 2 && zarrc_array_shape(v)[0] == 3 && zarrc_array_shape(v)[1] == 2);
        int64_t st[2] = {0, 0}, cn[2] = {3, 2};
        check_strings(v, st, cn, NULL, "b0|d0|b1|d1|b2|d2", "stack at axis -1");
        int64_t st2[2] = {0, 1}, cn2[2] = {2, 1}, sp2[2] = {2, 1};
        check_strings(v, st2, cn2, sp2, "d0|d2", "stack, one layer, step 2");
        zarrc_array_free(v);
    }
    /* copy of a string view materializes it */
    v = NULL;
    CHECK_OK(zarrc_view_open(&v, "{\"concatenate\":{\"axis\":0,\"arrays\":[\"s/b\",\"s/d\"]}}", mem, "", 0));
    if (v) {
        CHECK_OK(zarrc_view_create(NULL, mem, "s/view", "{\"concatenate\":{\"axis\":0,\"arrays\":[\"../b\",\"../d\"]}}", 0));
        zarrc_array *stored = NULL;
        CHECK_OK(zarrc_array_open(&stored, mem, "s/view"));
        int64_t st[1] = {0}, cn[1] = {6};
        if (stored)
            check_strings(stored, st, cn, NULL, "b0|b1|b2|d0|d1|d2", "stored string view");
        zarrc_array_free(stored);
        /* materialized by zarrc_array_copy (chunks of 4: reads spanning both layers) */
        zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
        int64_t shape[1] = {6}, chunks[1] = {4};
        o.dtype = "string";
        o.ndim = 1;
        o.shape = shape;
        o.chunks = chunks;
        zarrc_array *d = NULL;
        CHECK_OK(zarrc_array_create(&d, mem, "s/mat", &o));
        if (d) {
            CHECK_OK(zarrc_array_copy(d, v, NULL, NULL));
            check_strings(d, st, cn, NULL, "b0|b1|b2|d0|d1|d2", "copy of a string view");
        }
        zarrc_array_free(d);
        zarrc_array_free(v);
    }
}

/* A zarrc_vlen of the '|'-separated values of `list` (static storage: one call at a time). */
static zarrc_vlen vlen_of(const char *list)
{
    static uint64_t offs[64];
    static char data[512];
    zarrc_vlen v = {0, offs, (uint8_t *)data, 0};
    size_t len = strlen(list), n = 0;
    offs[0] = 0;
    for (size_t i = 0; i <= len; i++)
        if (i == len || list[i] == '|')
            offs[++n] = v.size;
        else
            data[v.size++] = list[i];
    v.count = (int64_t)n;
    return v;
}

/* Issue 12: strings written through views land in the right layers and positions: concatenated
 * v3, v2 and sharded layers, steps across layers, a negative stride, an index array (a
 * read-modify-write of the layer), a nested stack, a stack along a new axis; fill and inline
 * layers and duplicate index targets are refused before anything is written. */
static void test_string_writes(void)
{
    make_strings(mem, "sw/a", 3, 2, 5, (const char *const[]){"a0", "a1", "a2", "a3", "a4"});
    make_strings(mem, "sw/b", 2, 3, 3, (const char *const[]){"b0", "b1", "b2"});
    zarrc_array *v = NULL, *la = NULL, *lb = NULL;
    CHECK_OK(zarrc_array_open(&la, mem, "sw/a"));
    CHECK_OK(zarrc_array_open(&lb, mem, "sw/b"));
    int64_t z[2] = {0, 0}, n5[1] = {5}, n3[1] = {3};
    CHECK_OK(zarrc_view_open(&v, "{\"concatenate\":{\"axis\":0,\"arrays\":[\"sw/a\",\"sw/b\"]}}", mem, "", 0));
    if (v && la && lb) {
        zarrc_vlen w = vlen_of("x0|x1|x2|x3|x4|x5|x6|x7");
        int64_t cn[1] = {8};
        CHECK_OK(zarrc_array_write(v, z, cn, NULL, &w, sizeof w));
        check_strings(la, z, n5, NULL, "x0|x1|x2|x3|x4", "layer a after a whole write");
        check_strings(lb, z, n3, NULL, "x5|x6|x7", "layer b after a whole write");
        /* step 3 from 1: positions 1, 4 (layer a) and 7 (layer b); longer and empty values */
        w = vlen_of("longer value|\xc3\xa9t\xc3\xa9|");
        int64_t st[1] = {1}, c3[1] = {3}, sp[1] = {3};
        CHECK_OK(zarrc_array_write(v, st, c3, sp, &w, sizeof w));
        check_strings(la, z, n5, NULL, "x0|longer value|x2|x3|\xc3\xa9t\xc3\xa9", "layer a after a step-3 write");
        check_strings(lb, z, n3, NULL, "x5|x6|", "layer b after a step-3 write");
        check_strings(v, z, cn, NULL, "x0|longer value|x2|x3|\xc3\xa9t\xc3\xa9|x5|x6|", "view after writes");
        /* a block at an offset (zarrc_array_write_at), across both layers */
        w = vlen_of("o4|o5");
        int64_t off[1] = {4}, bs[1] = {2}, big[1] = {5};
        CHECK_OK(zarrc_array_write_at(v, off, 1, bs, &w, sizeof w, 0));
        check_strings(v, z, cn, NULL, "x0|longer value|x2|x3|o4|o5|x6|", "view after write_at");
        w = vlen_of("e4|e5|e6|e7|e8");
        CHECK_ERR(zarrc_array_write_at(v, off, 1, big, &w, sizeof w, 0), ZARRC_EBOUNDS, "does not fit");
        CHECK_ERR(zarrc_array_write_at(v, off, 1, big, &w, sizeof w, ZARRC_EXTEND), ZARRC_EUNSUPPORTED,
                  "cannot grow");
        check_strings(v, z, cn, NULL, "x0|longer value|x2|x3|o4|o5|x6|", "view after the refused blocks");
        /* views take no resize or append: their shape comes from the layers */
        int64_t ns[1] = {9}, at = -1, one1[1] = {1};
        CHECK_ERR(zarrc_array_resize(v, ns), ZARRC_EUNSUPPORTED, "virtual array");
        w = vlen_of("p");
        CHECK_ERR(zarrc_array_append(v, 0, one1, &w, sizeof w, &at), ZARRC_EUNSUPPORTED, "virtual array");
        CHECK(zarrc_array_shape(v)[0] == 8);
    }
    zarrc_array_free(v);
    /* a negative stride (layer b reversed), an index array into layer a, a nested stack
     * holding a, a fill layer and an inline layer */
    const char *spec =
        "{\"driver\":\"stack\",\"dtype\":\"string\",\"layers\":["
        "{\"driver\":\"zarr\",\"kvstore\":{\"driver\":\"file\",\"path\":\"sw/b\"},"
        " \"transform\":{\"input_inclusive_min\":[0],\"input_exclusive_max\":[3],\"output\":[{\"input_dimension\":0,\"offset\":2,\"stride\":-1}]}},"
        "{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"file\",\"path\":\"sw/a\"},"
        " \"transform\":{\"input_inclusive_min\":[3],\"input_exclusive_max\":[5],\"output\":[{\"index_array\":[4,0]}]}},"
        "{\"driver\":\"stack\",\"dtype\":\"string\",\"layers\":[{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"file\",\"path\":\"sw/a\"}}],"
        " \"transform\":{\"input_inclusive_min\":[5],\"input_exclusive_max\":[7],\"output\":[{\"input_dimension\":0,\"offset\":-4}]}},"
        "{\"driver\":\"fill\",\"fill_value\":\"F\",\"transform\":{\"input_inclusive_min\":[7],\"input_exclusive_max\":[8],\"output\":[{\"offset\":0}]}},"
        "{\"driver\":\"array\",\"dtype\":\"string\",\"array\":[\"i0\"],"
        " \"transform\":{\"input_inclusive_min\":[8],\"input_exclusive_max\":[9],\"output\":[{\"offset\":0}]}},"
        "{\"driver\":\"zarr3\",\"kvstore\":{\"driver\":\"file\",\"path\":\"sw/a\"},"
        " \"transform\":{\"input_inclusive_min\":[9],\"input_exclusive_max\":[11],\"output\":[{\"index_array\":[3,3]}]}}"
        "],\"schema\":{\"domain\":{\"inclusive_min\":[0],\"exclusive_max\":[11]}}}";
    v = NULL;
    CHECK_OK(zarrc_view_open(&v, spec, mem, "", 0));
    if (v && la && lb) {
        zarrc_vlen w = vlen_of("r0|r1|r2|g4|g0|n1|n2");
        int64_t cn[1] = {7};
        CHECK_OK(zarrc_array_write(v, z, cn, NULL, &w, sizeof w));
        check_strings(lb, z, n3, NULL, "r2|r1|r0", "layer b written through a negative stride");
        check_strings(la, z, n5, NULL, "g0|n1|n2|x3|g4", "layer a through an index array and a nested stack");
        check_strings(v, z, cn, NULL, "r0|r1|r2|g4|g0|n1|n2", "view after the write");
        /* refused before anything is written: the region reaches a fill layer, an inline
         * layer, or targets one layer position twice */
        int64_t c8[1] = {8}, s8[1] = {8}, c1[1] = {1}, s9[1] = {9}, c2[1] = {2};
        w = vlen_of("q0|q1|q2|q3|q4|q5|q6|q7");
        CHECK_ERR(zarrc_array_write(v, z, c8, NULL, &w, sizeof w), ZARRC_EREADONLY, "fill layer");
        w = vlen_of("q8");
        CHECK_ERR(zarrc_array_write(v, s8, c1, NULL, &w, sizeof w), ZARRC_EREADONLY, "inline array");
        w = vlen_of("d0|d1");
        CHECK_ERR(zarrc_array_write(v, s9, c2, NULL, &w, sizeof w), ZARRC_EINVAL, "more than once");
        check_strings(v, z, cn, NULL, "r0|r1|r2|g4|g0|n1|n2", "view after the refused writes");
        check_strings(la, z, n5, NULL, "g0|n1|n2|x3|g4", "layer a after the refused writes");
    }
    zarrc_array_free(v);
    /* stack along a new last axis: a 3 x 2 write lands in two layers, interleaved */
    make_strings(mem, "sw/d", 3, 2, 3, (const char *const[]){"d0", "d1", "d2"});
    zarrc_array *ld = NULL;
    CHECK_OK(zarrc_array_open(&ld, mem, "sw/d"));
    v = NULL;
    CHECK_OK(zarrc_view_open(&v, "{\"stack\":{\"axis\":-1,\"arrays\":[\"sw/b\",\"sw/d\"]}}", mem, "", 0));
    if (v && ld && lb) {
        zarrc_vlen w = vlen_of("s00|s01|s10|s11|s20|s21");
        int64_t cn[2] = {3, 2}, st[2] = {1, 0}, c1[2] = {1, 2};
        CHECK_OK(zarrc_array_write(v, z, cn, NULL, &w, sizeof w));
        check_strings(lb, z, n3, NULL, "s00|s10|s20", "layer b through a stack");
        check_strings(ld, z, n3, NULL, "s01|s11|s21", "layer d through a stack");
        w = vlen_of("|t11");
        CHECK_OK(zarrc_array_write(v, st, c1, NULL, &w, sizeof w));
        check_strings(v, z, cn, NULL, "s00|s01||t11|s20|s21", "stack after a one-row write");
    }
    zarrc_array_free(v);
    zarrc_array_free(ld);
    zarrc_array_free(la);
    zarrc_array_free(lb);
}

int main(void)
{
    CHECK_OK(zarrc_store_open(&mem, "memory://", 0));
    make1d(mem, "a", 5, 2, 100);
    test_values();
    test_write_through();
    test_stored_and_copy();
    test_errors();
    test_strings();
    test_string_writes();
    test_lazy_10000();
    zarrc_store_free(mem);
    printf("test_views: %d checks, %d failures\n", check_count, check_failures);
    return check_failures != 0;
}
