/*
 * API tests of groups and hierarchies: group handles and attributes (v2 and v3), batch
 * creation (validation, conflicts, overwrite, callbacks, a failure injected midway) and
 * consolidated metadata (write, read with zero extra store reads, staleness, check, update).
 *
 * A "counting://" store type (a plugin registered here) forwards every call to an inner store
 * through the public store API, counts the calls, and can fail writes of chosen keys.
 */
#include <stdint.h>

#include "check.h"
#include "zarrc.h"
#include "zarrc_plugin.h"

/* ------------------------------------------------------------------------------------------ */
/* The counting store                                                                          */
/* ------------------------------------------------------------------------------------------ */

static zarrc_store *inner;              /* what counting:// forwards to */
static long n_get, n_set, n_list, n_other;
static const char *fail_set_substr;      /* set() of a key containing it fails */

static int cnt_open(void **state, const char *location, unsigned flags)
{
    (void)location;
    (void)flags;
    *state = NULL;
    return inner ? ZARRC_OK : zarrc_error_set(ZARRC_EINVAL, "no inner store");
}

static int cnt_get(void *state, const char *key, int64_t offset, int64_t length, zarrc_buf *out)
{
    (void)state;
    __atomic_add_fetch(&n_get, 1, __ATOMIC_RELAXED);
    void *d = NULL;
    size_t n = 0;
    int rc = zarrc_store_get_range(&d, &n, inner, key, offset, length);
    if (rc == ZARRC_OK && (rc = zarrc_buf_reserve(out, n)) == ZARRC_OK) {
        if (n)
            memcpy(out->data, d, n);
        out->size = n;
    }
    zarrc_free(d);
    return rc;
}

static int cnt_set(void *state, const char *key, const void *data, size_t n)
{
    (void)state;
    __atomic_add_fetch(&n_set, 1, __ATOMIC_RELAXED);
    if (fail_set_substr && strstr(key, fail_set_substr))
        return zarrc_error_set(ZARRC_EIO, "injected failure writing '%s'", key);
    return zarrc_store_set(inner, key, data, n);
}

static int cnt_erase(void *state, const char *key)
{
    (void)state;
    __atomic_add_fetch(&n_other, 1, __ATOMIC_RELAXED);
    return zarrc_store_erase(inner, key);
}

static int cnt_erase_prefix(void *state, const char *prefix)
{
    (void)state;
    __atomic_add_fetch(&n_other, 1, __ATOMIC_RELAXED);
    return zarrc_store_erase_prefix(inner, prefix);
}

static int cnt_list(void *state, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    (void)state;
    __atomic_add_fetch(&n_list, 1, __ATOMIC_RELAXED);
    return zarrc_store_list(inner, prefix, cb, ctx);
}

static int cnt_list_dir(void *state, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    (void)state;
    __atomic_add_fetch(&n_list, 1, __ATOMIC_RELAXED);
    return zarrc_store_list_dir(inner, prefix, cb, ctx);
}

static int cnt_size(void *state, const char *key, uint64_t *size)
{
    (void)state;
    __atomic_add_fetch(&n_get, 1, __ATOMIC_RELAXED);
    return zarrc_store_size(size, inner, key);
}

static const zarrc_store_type counting_type = {
    ZARRC_STORE_TYPE_VERSION, "counting",
    ZARRC_STORE_CAP_RANGE | ZARRC_STORE_CAP_LIST_DIR | ZARRC_STORE_CAP_WRITE,
    cnt_open, NULL, cnt_get, NULL, cnt_set, NULL, cnt_erase, cnt_erase_prefix, cnt_list,
    cnt_list_dir, cnt_size,
};

static long reads(void) { return n_get + n_list; }

/* A fresh memory store wrapped by a counting store. */
static zarrc_store *counting(void)
{
    zarrc_store_free(inner);
    inner = NULL;
    CHECK_OK(zarrc_store_open(&inner, "memory://", 0));
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "counting://", 0));
    n_get = n_set = n_list = n_other = 0;
    fail_set_substr = NULL;
    return s;
}

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                     */
/* ------------------------------------------------------------------------------------------ */

static int count_key(void *ctx, const char *name, int is_prefix)
{
    (void)name;
    (void)is_prefix;
    (*(size_t *)ctx)++;
    return 0;
}

static size_t nkeys(zarrc_store *s)
{
    size_t n = 0;
    CHECK_OK(zarrc_store_list(s, "", count_key, &n));
    return n;
}

static int has_key(zarrc_store *s, const char *key)
{
    uint64_t size;
    return zarrc_store_size(&size, s, key) == ZARRC_OK;
}

/* The value of `key` as a parsed-free string (caller frees with zarrc_free), or NULL. */
static char *get_text(zarrc_store *s, const char *key)
{
    void *d = NULL;
    size_t n = 0;
    if (zarrc_store_get(&d, &n, s, key))
        return NULL;
    char *t = realloc(d, n + 1);
    if (!t) {
        zarrc_free(d);
        return NULL;
    }
    t[n] = 0;
    return t;
}

/* True if the JSON text at `key` contains `needle` (whitespace-insensitive: both compacted). */
static void compact(char *s)
{
    char *o = s;
    int in_str = 0;
    for (char *p = s; *p; p++) {
        if (*p == '"' && (p == s || p[-1] != '\\'))
            in_str = !in_str;
        if (!in_str && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
            continue;
        *o++ = *p;
    }
    *o = 0;
}

static int key_contains_q(zarrc_store *s, const char *key, const char *needle, int quiet)
{
    char *t = get_text(s, key);
    if (!t)
        return 0;
    compact(t);
    int hit = strstr(t, needle) != NULL;
    if (!hit && !quiet)
        fprintf(stderr, "  %s = %s\n  (looking for %s)\n", key, t, needle);
    free(t);
    return hit;
}

static int key_contains(zarrc_store *s, const char *key, const char *needle)
{
    return key_contains_q(s, key, needle, 0);
}

static const char *V3_ARRAY_INT32 =
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[6,4],\"data_type\":\"int32\","
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[3,2]}},"
    "\"chunk_key_encoding\":{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}},"
    "\"fill_value\":-1,\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}],"
    "\"attributes\":{\"units\":\"m\"}}";
static const char *V3_ARRAY_F64 =
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[5],\"data_type\":\"float64\","
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[5]}},"
    "\"chunk_key_encoding\":{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}},"
    "\"fill_value\":0.0,\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]}";
static const char *V2_ARRAY_I2 =
    "{\"zarr_format\":2,\"shape\":[10,10],\"chunks\":[5,5],\"dtype\":\"<i2\",\"compressor\":null,"
    "\"fill_value\":0,\"filters\":null,\"order\":\"C\",\"attributes\":{\"long_name\":\"temp\"}}";
static const char *V2_ARRAY_F4 =
    "{\"zarr_format\":2,\"shape\":[8],\"chunks\":[4],\"dtype\":\"<f4\","
    "\"compressor\":{\"id\":\"zlib\",\"level\":1},\"fill_value\":\"NaN\",\"filters\":null,\"order\":\"C\"}";

/* ------------------------------------------------------------------------------------------ */
/* Groups                                                                                      */
/* ------------------------------------------------------------------------------------------ */

typedef struct kids {
    int n;
    char names[8][32];
    zarrc_node_kind kinds[8];
    int ndim[8];
    int64_t shape0[8];
    char dtype[8][32];
} kids;

static int collect_kid(void *ctx, const zarrc_child_info *c)
{
    kids *k = ctx;
    if (k->n < 8) {
        snprintf(k->names[k->n], 32, "%s", c->name);
        k->kinds[k->n] = c->kind;
        k->ndim[k->n] = c->ndim;
        k->shape0[k->n] = c->ndim ? c->shape[0] : -1;
        snprintf(k->dtype[k->n], 32, "%s", c->dtype ? c->dtype : "");
    }
    k->n++;
    return 0;
}

static void test_groups(int format)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    CHECK_OK(zarrc_group_create(s, "", format, "{\"title\":\"root\",\"n\":1}", 0));
    CHECK_OK(zarrc_group_create(s, "a/b", format, NULL, 0)); /* "a" is implied */
    int64_t shape[2] = {10, 20};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.format = format;
    o.dtype = "uint8";
    o.ndim = 2;
    o.shape = shape;
    zarrc_array *arr = NULL;
    CHECK_OK(zarrc_array_create(&arr, s, "a/x", &o));
    zarrc_array_free(arr);

    /* Open and inspect. */
    zarrc_group *g = NULL;
    CHECK_OK(zarrc_group_open(&g, s, "", 0));
    if (!g)
        goto out;
    CHECK(zarrc_group_format(g) == format);
    CHECK(!zarrc_group_is_consolidated(g));
    char *attrs = NULL;
    CHECK_OK(zarrc_group_attributes(&attrs, g));
    CHECK(attrs && strstr(attrs, "\"title\":\"root\""));
    zarrc_free(attrs);
    CHECK_ERR(zarrc_group_open_array(&arr, g, "a"), ZARRC_EINVAL, "is a group");
    CHECK_ERR(zarrc_group_open_group(&(zarrc_group *){NULL}, g, "a/x"), ZARRC_EINVAL, "not a group");
    CHECK_ERR(zarrc_group_open(&(zarrc_group *){NULL}, s, "nope", 0), ZARRC_ENOTFOUND, "nope");

    /* Children, via the store listing and via the handle. */
    kids k = {0};
    CHECK_OK(zarrc_group_list(s, "a", collect_kid, &k));
    CHECK(k.n == 2 && !strcmp(k.names[0], "b") && k.kinds[0] == ZARRC_NODE_GROUP &&
          !strcmp(k.names[1], "x") && k.kinds[1] == ZARRC_NODE_ARRAY && k.ndim[1] == 2 &&
          k.shape0[1] == 10 && !strcmp(k.dtype[1], "uint8"));
    zarrc_group *ga = NULL;
    CHECK_OK(zarrc_group_open_group(&ga, g, "a"));
    kids k2 = {0};
    if (ga)
        CHECK_OK(zarrc_group_children(ga, collect_kid, &k2));
    CHECK(k2.n == 2 && !strcmp(k2.names[1], "x") && k2.shape0[1] == 10);
    zarrc_group_free(ga);

    /* Attributes: replace, merge, read back; v2 removes an emptied .zattrs. */
    CHECK_OK(zarrc_node_set_attributes(s, "a/x", "{\"u\":\"m\",\"k\":[1,2]}", 0, NULL));
    CHECK_OK(zarrc_node_set_attributes(s, "a/x", "{\"k\":3,\"new\":true}", ZARRC_ATTRS_MERGE, NULL));
    CHECK_OK(zarrc_node_attributes(&attrs, s, "a/x"));
    CHECK(attrs && !strcmp(attrs, "{\"u\":\"m\",\"k\":3,\"new\":true}"));
    zarrc_free(attrs);
    CHECK_OK(zarrc_array_open(&arr, s, "a/x")); /* still a valid array */
    char *aj = NULL;
    if (arr)
        CHECK_OK(zarrc_array_json(&aj, arr, ZARRC_JSON_ATTRIBUTES));
    CHECK(aj && strstr(aj, "\"new\":true"));
    zarrc_free(aj);
    zarrc_array_free(arr);
    CHECK_OK(zarrc_node_set_attributes(s, "", "{\"n\":2}", ZARRC_ATTRS_MERGE, NULL));
    CHECK_OK(zarrc_node_attributes(&attrs, s, ""));
    CHECK(attrs && !strcmp(attrs, "{\"title\":\"root\",\"n\":2}"));
    zarrc_free(attrs);
    CHECK_OK(zarrc_node_set_attributes(s, "a/x", "{}", 0, NULL));
    CHECK_OK(zarrc_node_attributes(&attrs, s, "a/x"));
    CHECK(attrs && !strcmp(attrs, "{}"));
    zarrc_free(attrs);
    if (format == 2)
        CHECK(!has_key(s, "a/x/.zattrs"));
    CHECK_ERR(zarrc_node_set_attributes(s, "a/x", "[1]", 0, NULL), ZARRC_EINVAL, "JSON object");
    CHECK_ERR(zarrc_node_set_attributes(s, "zz", "{}", 0, NULL), ZARRC_ENOTFOUND, "zz");

    /* Recursive delete. */
    CHECK_OK(zarrc_node_delete(s, "a"));
    zarrc_node_kind kind;
    int fmt;
    CHECK(zarrc_node_probe(&kind, &fmt, s, "a/x") == ZARRC_ENOTFOUND);
    CHECK(zarrc_node_probe(&kind, &fmt, s, "a/b") == ZARRC_ENOTFOUND);
    CHECK_OK(zarrc_node_probe(&kind, &fmt, s, ""));
    CHECK(nkeys(s) == (format == 3 ? 1u : 2u)); /* root metadata only */
out:
    zarrc_group_free(g);
    zarrc_store_free(s);
}

/* ------------------------------------------------------------------------------------------ */
/* Batch creation                                                                              */
/* ------------------------------------------------------------------------------------------ */

static const zarrc_hnode *find_hnode(const zarrc_hierarchy_report *r, const char *path)
{
    for (size_t i = 0; r && i < r->count; i++)
        if (!strcmp(r->nodes[i].path, path))
            return &r->nodes[i];
    return NULL;
}

static void test_batch_v3(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    CHECK_OK(zarrc_group_create(s, "data", 3, "{\"keep\":1}", 0)); /* an existing ancestor */
    char spec[4096];
    snprintf(spec, sizeof spec,
             "{\"\": {\"zarr_format\":3,\"node_type\":\"group\",\"attributes\":{\"title\":\"exp\"}},"
             " \"raw/temp\": %s, \"raw/flux\": %s,"
             " \"proc/deep/er/x\": %s}",
             V3_ARRAY_INT32, V3_ARRAY_F64, V3_ARRAY_F64);
    zarrc_hierarchy_report *r = NULL;
    CHECK_OK(zarrc_hierarchy_create(&r, s, "data/exp1", spec, NULL));
    CHECK(r && r->count == 10); /* "", data (existing), exp1 + raw, proc, proc/deep, proc/deep/er
                                   implied + 3 arrays */
    if (r) {
        CHECK(r->written == 8);
        const zarrc_hnode *n = find_hnode(r, "data");
        CHECK(n && n->implied && n->state == ZARRC_HNODE_EXISTING && n->relpath == NULL);
        n = find_hnode(r, "data/exp1");
        CHECK(n && !n->implied && n->state == ZARRC_HNODE_WRITTEN && !strcmp(n->relpath, ""));
        n = find_hnode(r, "data/exp1/proc/deep/er");
        CHECK(n && n->implied && n->kind == ZARRC_NODE_GROUP && n->format == 3 &&
              !strcmp(n->relpath, "proc/deep/er"));
        n = find_hnode(r, "data/exp1/raw/temp");
        CHECK(n && n->kind == ZARRC_NODE_ARRAY && n->state == ZARRC_HNODE_WRITTEN);
        CHECK(!strcmp(r->nodes[0].path, "")); /* parents first */
        CHECK(r->stale.count == 0);
    }
    zarrc_hierarchy_report_free(r);
    /* Documents are stored as given; the existing group is untouched. */
    CHECK(key_contains(s, "data/zarr.json", "\"keep\":1"));
    CHECK(key_contains(s, "data/exp1/zarr.json", "\"title\":\"exp\""));
    CHECK(key_contains(s, "data/exp1/proc/deep/zarr.json", "\"node_type\":\"group\""));
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_open(&a, s, "data/exp1/raw/temp"));
    if (a) {
        CHECK(zarrc_array_shape(a)[0] == 6 && zarrc_array_chunks(a)[1] == 2);
        int32_t v[24];
        int64_t st[2] = {0, 0}, cnt[2] = {6, 4};
        CHECK_OK(zarrc_array_read(a, st, cnt, NULL, v, sizeof v));
        CHECK(v[0] == -1 && v[23] == -1);
    }
    zarrc_array_free(a);

    /* Running the same batch again is accepted: every node is identical. */
    CHECK_OK(zarrc_hierarchy_create(&r, s, "data/exp1", spec, NULL));
    CHECK(r && r->written == 0);
    for (size_t i = 0; r && i < r->count; i++)
        CHECK(r->nodes[i].state == ZARRC_HNODE_EXISTING);
    zarrc_hierarchy_report_free(r);
    zarrc_store_free(s);
}

static void test_batch_v2(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    zarrc_hierarchy_entry e[] = {
        {"", "{\"zarr_format\":2,\"attributes\":{\"title\":\"v2 root\"}}"},
        {"g1/temp", V2_ARRAY_I2},
        {"g1/g2/flux", V2_ARRAY_F4},
        {"g3", "{\"zarr_format\":2}"},
    };
    zarrc_hierarchy_options o = ZARRC_HIERARCHY_OPTIONS_INIT;
    o.format = 2;
    zarrc_hierarchy_report *r = NULL;
    CHECK_OK(zarrc_hierarchy_create_entries(&r, s, "", e, 4, &o));
    CHECK(r && r->count == 6 && r->written == 6);
    zarrc_hierarchy_report_free(r);
    CHECK(key_contains(s, ".zgroup", "{\"zarr_format\":2}"));
    CHECK(key_contains(s, ".zattrs", "{\"title\":\"v2 root\"}"));
    CHECK(key_contains(s, "g1/.zgroup", "{\"zarr_format\":2}"));
    CHECK(key_contains(s, "g1/g2/.zgroup", "{\"zarr_format\":2}"));
    CHECK(key_contains(s, "g1/temp/.zattrs", "{\"long_name\":\"temp\"}"));
    CHECK(key_contains(s, "g1/temp/.zarray", "\"dtype\":\"<i2\""));
    CHECK(!key_contains_q(s, "g1/temp/.zarray", "attributes", 1));
    CHECK(!has_key(s, "g3/.zattrs") && !has_key(s, "g1/.zattrs"));
    CHECK(nkeys(s) == 8);
    char *attrs = NULL;
    CHECK_OK(zarrc_node_attributes(&attrs, s, "g1/temp"));
    CHECK(attrs && !strcmp(attrs, "{\"long_name\":\"temp\"}"));
    zarrc_free(attrs);
    zarrc_store_free(s);
}

/* A batch that must be refused before anything is written, with all needles in the message. */
static void refused(const char *spec, const zarrc_hierarchy_options *o, int code, const char *n1,
                    const char *n2, int line)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    zarrc_hierarchy_report *r = NULL;
    int rc = zarrc_hierarchy_create(&r, s, "root", spec, o);
    const char *msg = zarrc_error_last();
    int report_ok = (r == NULL && (rc == ZARRC_EINVAL && (strstr(msg, "must be a JSON object") ||
                                                          strstr(msg, "malformed") || strstr(msg, "format must be") ||
                                                          strstr(msg, "listed twice")))) ||
                    (r != NULL && r->written == 0);
    check_count++;
    if (rc != code || !strstr(msg, n1) || (n2 && !strstr(msg, n2)) || nkeys(s) != 0 || !report_ok) {
        check_failures++;
        fprintf(stderr, "%s:%d: refused batch: expected %d with '%s'%s%s, got %d: '%s' (%zu keys)\n",
                __FILE__, line, code, n1, n2 ? " and " : "", n2 ? n2 : "", rc, msg, nkeys(s));
    }
    zarrc_hierarchy_report_free(r);
    zarrc_store_free(s);
}

#define REFUSED(spec, o, code, n1, n2) refused(spec, o, code, n1, n2, __LINE__)

static void test_validation(void)
{
    char spec[4096];
    const char *G3 = "{\"zarr_format\":3,\"node_type\":\"group\"}";
    const char *G2 = "{\"zarr_format\":2}";
    /* Paths. */
    snprintf(spec, sizeof spec, "{\"a/../b\": %s, \"ok\": %s}", G3, G3);
    REFUSED(spec, NULL, ZARRC_EINVAL, "'a/../b'", "'..'");
    snprintf(spec, sizeof spec, "{\"a//b\": %s, \"c/\": %s}", G3, G3);
    REFUSED(spec, NULL, ZARRC_EINVAL, "'a//b': empty path segment", "'c/': empty path segment");
    snprintf(spec, sizeof spec, "{\"/abs\": %s}", G3);
    REFUSED(spec, NULL, ZARRC_EINVAL, "'/abs': absolute", NULL);
    snprintf(spec, sizeof spec, "{\"a/./b\": %s}", G3);
    REFUSED(spec, NULL, ZARRC_EINVAL, "'a/./b'", NULL);
    snprintf(spec, sizeof spec, "{\"a\\\\b\": %s}", G3);
    REFUSED(spec, NULL, ZARRC_EINVAL, "'a\\b'", NULL);
    snprintf(spec, sizeof spec, "{\"a/zarr.json\": %s}", G3);
    REFUSED(spec, NULL, ZARRC_EINVAL, "'a/zarr.json': a metadata key name", NULL);
    snprintf(spec, sizeof spec, "{\"__x\": %s}", G3);
    REFUSED(spec, NULL, ZARRC_EINVAL, "'__x'", "reserved");
    /* The same node twice: a repeated member name, and through the entries call. */
    snprintf(spec, sizeof spec, "{\"a\": %s, \"b\": %s, \"a\": %s}", G3, G3, G3);
    REFUSED(spec, NULL, ZARRC_EINVAL, "'a' is listed twice", NULL);
    {
        zarrc_store *s = NULL;
        CHECK_OK(zarrc_store_open(&s, "memory://", 0));
        zarrc_hierarchy_entry e[] = {{"x/y", G3}, {"x", G3}, {"x/y", G3}};
        CHECK_ERR(zarrc_hierarchy_create_entries(NULL, s, "", e, 3, NULL), ZARRC_EINVAL,
                  "'x/y' is listed twice");
        CHECK(nkeys(s) == 0);
        zarrc_hierarchy_entry bad[] = {{"ok", G3}, {"broken", "{\"zarr_format\":3,"}, {"nul", NULL}};
        CHECK_ERR(zarrc_hierarchy_create_entries(NULL, s, "", bad, 3, NULL), ZARRC_EINVAL,
                  "'broken': metadata document: malformed JSON");
        CHECK(strstr(zarrc_error_last(), "'nul': no metadata document"));
        CHECK(nkeys(s) == 0);
        zarrc_store_free(s);
    }
    /* A node under an array. */
    snprintf(spec, sizeof spec, "{\"arr\": %s, \"arr/sub\": %s, \"arr/sub/x\": %s}", V3_ARRAY_F64, G3,
             V3_ARRAY_F64);
    REFUSED(spec, NULL, ZARRC_EINVAL, "'arr/sub' is below array 'arr'", "'arr/sub/x' is below array 'arr'");
    /* Mixed formats, and a format other than the one requested. */
    snprintf(spec, sizeof spec, "{\"a\": %s, \"b\": %s, \"c\": %s}", G3, G2, V2_ARRAY_I2);
    REFUSED(spec, NULL, ZARRC_EINVAL, "mixed", "v2 at 'b'; v2 at 'c'; v3 at 'a'");
    zarrc_hierarchy_options o = ZARRC_HIERARCHY_OPTIONS_INIT;
    o.format = 2;
    snprintf(spec, sizeof spec, "{\"a\": %s, \"b\": %s}", G2, G3);
    REFUSED(spec, &o, ZARRC_EINVAL, "format 2", "'b' is a v3 document");
    /* Invalid documents. */
    REFUSED("{\"a\": {\"node_type\":\"group\"}}", NULL, ZARRC_EINVAL, "'a': 'zarr_format' must be 2 or 3", NULL);
    REFUSED("{\"a\": [1]}", NULL, ZARRC_EINVAL, "'a': the metadata document must be a JSON object", NULL);
    REFUSED("{\"a\": {\"zarr_format\":3,\"node_type\":\"grape\"}}", NULL, ZARRC_EINVAL, "'a': 'node_type'", NULL);
    REFUSED("{\"a\": {\"zarr_format\":2,\"chunks\":[2]}}", NULL, ZARRC_EINVAL,
            "'a': unexpected member 'chunks'", NULL);
    REFUSED("{\"a\": {\"zarr_format\":2,\"attributes\":5}}", NULL, ZARRC_EINVAL, "'a': 'attributes'", NULL);
    REFUSED("{\"a\": {\"zarr_format\":3,\"node_type\":\"group\",\"consolidated_metadata\":{}}}", NULL,
            ZARRC_EINVAL, "'a': a batch does not write 'consolidated_metadata'", NULL);
    snprintf(spec, sizeof spec, "{\"good\": %s, \"bad\": {\"zarr_format\":3,\"node_type\":\"array\","
             "\"shape\":[4],\"data_type\":\"int77\",\"chunk_grid\":{\"name\":\"regular\","
             "\"configuration\":{\"chunk_shape\":[2]}},\"chunk_key_encoding\":{\"name\":\"default\"},"
             "\"fill_value\":0,\"codecs\":[{\"name\":\"bytes\"}]}}", V3_ARRAY_F64);
    REFUSED(spec, NULL, ZARRC_EDTYPE, "'bad':", "int77");
    snprintf(spec, sizeof spec, "{\"z\": {\"zarr_format\":2,\"shape\":[4],\"chunks\":[2],\"dtype\":\"<i4\","
             "\"compressor\":{\"id\":\"nosuchcodec\"},\"fill_value\":0,\"filters\":null,\"order\":\"C\"}}");
    REFUSED(spec, NULL, ZARRC_EUNSUPPORTED, "'z':", "nosuchcodec");
    REFUSED("[1,2]", NULL, ZARRC_EINVAL, "must be a JSON object", NULL);
    REFUSED("{\"a\": ", NULL, ZARRC_EINVAL, "malformed JSON", NULL);
    zarrc_hierarchy_options bad = ZARRC_HIERARCHY_OPTIONS_INIT;
    bad.format = 4;
    REFUSED("{}", &bad, ZARRC_EINVAL, "format must be", NULL);
}

static void test_conflicts(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    char spec[4096];
    snprintf(spec, sizeof spec, "{\"\": {\"zarr_format\":3,\"node_type\":\"group\"}, \"g/a\": %s, \"g/b\": %s,"
             " \"c\": %s}", V3_ARRAY_INT32, V3_ARRAY_F64, V3_ARRAY_F64);
    CHECK_OK(zarrc_hierarchy_create(NULL, s, "", spec, NULL));
    size_t before = nkeys(s);
    /* Write data into g/a so that overwriting must drop its chunks. */
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_open(&a, s, "g/a"));
    int32_t v[24];
    for (int i = 0; i < 24; i++)
        v[i] = i;
    int64_t st[2] = {0, 0}, cnt[2] = {6, 4};
    if (a)
        CHECK_OK(zarrc_array_write(a, st, cnt, NULL, v, sizeof v));
    zarrc_array_free(a);
    CHECK(has_key(s, "g/a/c/0/0"));
    before = nkeys(s);

    /* Listed nodes that exist and differ: refused, all paths named, nothing written. */
    char spec2[4096];
    snprintf(spec2, sizeof spec2, "{\"g/a\": %s, \"g/b\": %s, \"c\": {\"zarr_format\":3,"
             "\"node_type\":\"group\"}, \"new\": %s}", V3_ARRAY_F64, V3_ARRAY_INT32, V3_ARRAY_F64);
    zarrc_hierarchy_report *r = NULL;
    CHECK_ERR(zarrc_hierarchy_create(&r, s, "", spec2, NULL), ZARRC_EEXISTS, "'g/a' exists (array, v3)");
    CHECK(strstr(zarrc_error_last(), "'g/b' exists") && strstr(zarrc_error_last(), "'c' exists") &&
          strstr(zarrc_error_last(), "overwrite") && !strstr(zarrc_error_last(), "'new'"));
    CHECK(r && r->written == 0);
    const zarrc_hnode *hn = find_hnode(r, "g/a");
    CHECK(hn && hn->status == ZARRC_EEXISTS && hn->state == ZARRC_HNODE_PENDING);
    hn = find_hnode(r, "new");
    CHECK(hn && hn->status == ZARRC_OK && hn->state == ZARRC_HNODE_PENDING);
    zarrc_hierarchy_report_free(r);
    CHECK(nkeys(s) == before && !has_key(s, "new/zarr.json"));

    /* An existing array where an implied group is needed. */
    snprintf(spec2, sizeof spec2, "{\"c/under\": %s, \"g/a/x\": %s}", V3_ARRAY_F64, V3_ARRAY_F64);
    CHECK_ERR(zarrc_hierarchy_create(NULL, s, "", spec2, NULL), ZARRC_ECONFLICT,
              "'c' is an existing array where a group is needed");
    CHECK(strstr(zarrc_error_last(), "'g/a' is an existing array"));
    CHECK(nkeys(s) == before);
    /* ... which overwrite does not change (the group is implied, not listed). */
    zarrc_hierarchy_options o = ZARRC_HIERARCHY_OPTIONS_INIT;
    o.flags = ZARRC_OVERWRITE;
    CHECK_ERR(zarrc_hierarchy_create(NULL, s, "", spec2, &o), ZARRC_ECONFLICT, "'c' is an existing array");
    CHECK(nkeys(s) == before);
    /* An existing v3 group where the v2 batch needs a group. */
    CHECK_ERR(zarrc_hierarchy_create(NULL, s, "", "{\"g/new\": {\"zarr_format\":2}}", NULL), ZARRC_ECONFLICT,
              "'g' is an existing v3 group where a v2 group is needed");

    /* Overwrite: the array replaced by an array keeps no chunks; a group replaced by a group
     * keeps its children; an array replaced by a group loses its chunks. */
    const char *new_a = /* same chunk keys, another dtype: stale chunks would be misread */
        "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[6,4],\"data_type\":\"uint32\","
        "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[3,2]}},"
        "\"chunk_key_encoding\":{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}},"
        "\"fill_value\":7,\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]}";
    snprintf(spec2, sizeof spec2, "{\"g/a\": %s, \"g\": {\"zarr_format\":3,\"node_type\":\"group\","
             "\"attributes\":{\"v\":2}}, \"c\": {\"zarr_format\":3,\"node_type\":\"group\"}, \"c/in\": %s}",
             new_a, V3_ARRAY_F64);
    CHECK_OK(zarrc_hierarchy_create(&r, s, "", spec2, &o));
    hn = find_hnode(r, "g/a");
    CHECK(hn && hn->replaced && hn->state == ZARRC_HNODE_WRITTEN);
    hn = find_hnode(r, "");
    CHECK(hn && hn->implied && hn->state == ZARRC_HNODE_EXISTING);
    zarrc_hierarchy_report_free(r);
    CHECK(!has_key(s, "g/a/c/0/0"));
    CHECK(has_key(s, "g/b/zarr.json")); /* the replaced group kept its child */
    CHECK(key_contains(s, "g/zarr.json", "{\"v\":2}"));
    CHECK(has_key(s, "c/in/zarr.json") && key_contains(s, "c/zarr.json", "\"group\""));
    CHECK_OK(zarrc_array_open(&a, s, "g/a"));
    if (a) {
        uint32_t u[24];
        CHECK_OK(zarrc_array_read(a, st, cnt, NULL, u, sizeof u));
        CHECK(u[0] == 7 && u[5] == 7 && u[23] == 7);
    }
    zarrc_array_free(a);
    zarrc_store_free(s);
}

typedef struct cb_log {
    int calls, written, existing, failed, stop_after;
} cb_log;

static int on_node(void *ctx, const zarrc_hnode *n)
{
    cb_log *l = ctx;
    l->calls++;
    l->written += n->state == ZARRC_HNODE_WRITTEN;
    l->existing += n->state == ZARRC_HNODE_EXISTING;
    l->failed += n->state == ZARRC_HNODE_FAILED;
    return l->stop_after && l->calls >= l->stop_after ? 42 : 0;
}

/* 20 groups × 5 arrays through the counting store. */
static void big_spec(char *spec, size_t cap)
{
    size_t len = (size_t)snprintf(spec, cap, "{");
    for (int g = 0; g < 20; g++) {
        len += (size_t)snprintf(spec + len, cap - len, "%s\"g%02d\": {\"zarr_format\":3,\"node_type\":\"group\"}",
                                g ? "," : "", g);
        for (int k = 0; k < 5; k++)
            len += (size_t)snprintf(spec + len, cap - len, ",\"g%02d/a%d\": %s", g, k, V3_ARRAY_F64);
    }
    snprintf(spec + len, cap - len, "}");
}

static void test_callback_and_failure(void)
{
    static char spec[200000];
    big_spec(spec, sizeof spec);
    zarrc_hierarchy_options o = ZARRC_HIERARCHY_OPTIONS_INIT;
    cb_log log = {0};
    o.on_node = on_node;
    o.ctx = &log;

    /* Every node reported once. */
    zarrc_store *s = counting();
    zarrc_hierarchy_report *r = NULL;
    CHECK_OK(zarrc_hierarchy_create(&r, s, "", spec, &o));
    CHECK(r && r->count == 121 && r->written == 121);
    CHECK(log.calls == 121 && log.written == 121);
    zarrc_hierarchy_report_free(r);
    CHECK(n_set == 121);
    zarrc_store_free(s);

    /* A failure injected midway: writes of g07's nodes fail. */
    s = counting();
    fail_set_substr = "g07/a";
    memset(&log, 0, sizeof log);
    int rc = zarrc_hierarchy_create(&r, s, "", spec, &o);
    CHECK(rc == ZARRC_EIO);
    CHECK(strstr(zarrc_error_last(), "documents written before the failure") &&
          strstr(zarrc_error_last(), "writing node 'g07") && strstr(zarrc_error_last(), "injected failure"));
    CHECK(r != NULL);
    size_t w = 0, failed = 0, pending = 0;
    for (size_t i = 0; r && i < r->count; i++) {
        const zarrc_hnode *n = &r->nodes[i];
        char key[64];
        snprintf(key, sizeof key, "%s%szarr.json", n->path, *n->path ? "/" : "");
        /* The report says exactly what the store holds. */
        check_count++;
        if ((n->state == ZARRC_HNODE_WRITTEN) != has_key(inner, key)) {
            check_failures++;
            fprintf(stderr, "report/store mismatch at '%s' (state %d)\n", n->path, n->state);
        }
        w += n->state == ZARRC_HNODE_WRITTEN;
        pending += n->state == ZARRC_HNODE_PENDING;
        if (n->state == ZARRC_HNODE_FAILED) {
            failed++;
            CHECK(n->status == ZARRC_EIO && !strncmp(n->path, "g07/", 4));
        }
    }
    CHECK(r && r->written == w && w > 20 && failed >= 1 && pending > 0);
    CHECK(log.written == (int)w && log.failed == (int)failed && log.calls == (int)(w + failed));
    CHECK(has_key(inner, "g07/zarr.json")); /* groups sort before their arrays: written */
    zarrc_hierarchy_report_free(r);
    zarrc_store_free(s);

    /* The callback stops the batch. */
    s = counting();
    memset(&log, 0, sizeof log);
    log.stop_after = 10;
    rc = zarrc_hierarchy_create(&r, s, "", spec, &o);
    CHECK(rc == 42 && log.calls == 10);
    CHECK(r && r->written >= 10 && r->written < 121);
    zarrc_hierarchy_report_free(r);
    zarrc_store_free(s);
}

/* ------------------------------------------------------------------------------------------ */
/* Consolidated metadata                                                                       */
/* ------------------------------------------------------------------------------------------ */

typedef struct diffs {
    int n;
    char text[1024];
} diffs;

static int on_diff(void *ctx, const char *rel, zarrc_consolidated_diff kind, const char *what)
{
    diffs *d = ctx;
    size_t len = strlen(d->text);
    snprintf(d->text + len, sizeof d->text - len, "%s%d:%s:%s", d->n ? ";" : "", (int)kind, rel, what);
    d->n++;
    return 0;
}

/* zarrc_consolidate_progress: counts after each level; a non-zero return cancels. */
typedef struct level_log {
    uint64_t done[8];
    int n, cancel_at;
} level_log;

static int log_level(void *ctx, uint64_t done, uint64_t total)
{
    level_log *l = ctx;
    CHECK(total == 0);
    if (l->n < 8)
        l->done[l->n] = done;
    return ++l->n == l->cancel_at;
}

static void test_consolidate_progress(int format)
{
    zarrc_store *s;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    const char *spec = format == 3
        ? "{\"\": {\"zarr_format\":3,\"node_type\":\"group\"}, \"a/b/c\": {\"zarr_format\":3,"
          "\"node_type\":\"group\"}, \"d\": {\"zarr_format\":3,\"node_type\":\"group\"}}"
        : "{\"\": {\"zarr_format\":2}, \"a/b/c\": {\"zarr_format\":2}, \"d\": {\"zarr_format\":2}}";
    CHECK_OK(zarrc_hierarchy_create(NULL, s, "", spec, NULL));
    /* cancelled after the first level: nothing written */
    level_log l = {{0}, 0, 1};
    size_t count = 99;
    CHECK(zarrc_consolidate_progress(s, "", &count, log_level, &l) == ZARRC_ECONFLICT);
    CHECK(strstr(zarrc_error_last(), "cancelled") != NULL);
    CHECK(count == 99 && l.n == 1);
    CHECK(!key_contains_q(s, format == 2 ? ".zmetadata" : "zarr.json", "consolidated", 1));
    /* levels: {a, d}, {a/b}, {a/b/c}, then the empty level below */
    level_log all = {{0}, 0, -1};
    CHECK_OK(zarrc_consolidate_progress(s, "", &count, log_level, &all));
    CHECK(count == 4 && all.n == 4 && all.done[0] == 2 && all.done[1] == 3 && all.done[2] == 4 && all.done[3] == 4);
    CHECK(key_contains(s, format == 2 ? ".zmetadata" : "zarr.json", format == 2 ? "a/b/c/.zgroup" : "a/b/c"));
    zarrc_store_free(s);
}

static void test_consolidated(int format)
{
    zarrc_store *s = counting();
    char spec[4096];
    if (format == 3)
        snprintf(spec, sizeof spec, "{\"\": {\"zarr_format\":3,\"node_type\":\"group\",\"attributes\":"
                 "{\"r\":1}}, \"a/b/t\": %s, \"a/f\": %s, \"c\": {\"zarr_format\":3,\"node_type\":"
                 "\"group\",\"attributes\":{\"kind\":\"child\"}}}", V3_ARRAY_INT32, V3_ARRAY_F64);
    else
        snprintf(spec, sizeof spec, "{\"\": {\"zarr_format\":2,\"attributes\":{\"r\":1}}, \"a/b/t\": %s,"
                 " \"a/f\": %s, \"c\": {\"zarr_format\":2,\"attributes\":{\"kind\":\"child\"}}}",
                 V2_ARRAY_I2, V2_ARRAY_F4);
    CHECK_OK(zarrc_hierarchy_create(NULL, s, "", spec, NULL));
    size_t count = 0;
    CHECK_OK(zarrc_consolidate(s, "", &count));
    CHECK(count == 5); /* a, a/b, a/b/t, a/f, c */
    if (format == 2) {
        CHECK(key_contains(inner, ".zmetadata", "\"zarr_consolidated_format\":1"));
        CHECK(key_contains(inner, ".zmetadata", "\".zattrs\":{\"r\":1}"));
        CHECK(key_contains(inner, ".zmetadata", "\"a/.zgroup\":{\"zarr_format\":2}"));
        CHECK(key_contains(inner, ".zmetadata", "\"a/b/t/.zattrs\":{\"long_name\":\"temp\"}"));
        CHECK(key_contains(inner, ".zmetadata", "\"a/b/t/.zarray\":{\"zarr_format\":2,\"shape\":[10,10]"));
    } else {
        CHECK(key_contains(inner, "zarr.json", "\"consolidated_metadata\":{\"kind\":\"inline\","
                                               "\"must_understand\":false,\"metadata\":{\"a\":{"));
        CHECK(key_contains(inner, "zarr.json", "\"c\":{\"zarr_format\":3,\"node_type\":\"group\","
                                               "\"attributes\":{\"kind\":\"child\"},\"consolidated_metadata\""
                                               ":{\"kind\":\"inline\",\"must_understand\":false,\"metadata\":{}}}"));
        /* depth order: a, c, a/b, a/f, a/b/t */
        char *t = get_text(inner, "zarr.json");
        CHECK(t && strstr(t, "\"c\"") < strstr(t, "\"a/b\"") && strstr(t, "\"a/f\"") < strstr(t, "\"a/b/t\""));
        free(t);
    }

    /* Opening through the copy: after the group itself, zero store reads. */
    long r0 = reads();
    zarrc_group *g = NULL;
    CHECK_OK(zarrc_group_open(&g, s, "", 0));
    long r1 = reads();
    CHECK(g && zarrc_group_is_consolidated(g) && r1 > r0);
    zarrc_group *ga = NULL, *gb = NULL;
    zarrc_array *t = NULL, *f = NULL, *t2 = NULL;
    kids k = {0}, kb = {0};
    if (g) {
        CHECK_OK(zarrc_group_open_group(&ga, g, "a"));
        CHECK_OK(zarrc_group_open_array(&t, g, "a/b/t"));
        if (ga) {
            CHECK_OK(zarrc_group_open_array(&f, ga, "f"));
            CHECK_OK(zarrc_group_open_group(&gb, ga, "b"));
            CHECK_OK(zarrc_group_children(ga, collect_kid, &k));
        }
        if (gb) {
            CHECK_OK(zarrc_group_open_array(&t2, gb, "t"));
            CHECK_OK(zarrc_group_children(gb, collect_kid, &kb));
            char *attrs = NULL;
            CHECK_OK(zarrc_group_attributes(&attrs, gb));
            CHECK(attrs && !strcmp(attrs, "{}"));
            zarrc_free(attrs);
        }
        zarrc_group *gc = NULL;
        CHECK_OK(zarrc_group_open_group(&gc, g, "c"));
        char *attrs = NULL;
        if (gc)
            CHECK_OK(zarrc_group_attributes(&attrs, gc));
        CHECK(attrs && !strcmp(attrs, "{\"kind\":\"child\"}"));
        zarrc_free(attrs);
        zarrc_group_free(gc);
        CHECK_ERR(zarrc_group_open_array(&(zarrc_array *){NULL}, g, "a/zz"), ZARRC_ENOTFOUND,
                  "consolidated metadata");
    }
    long r2 = reads();
    check_count++;
    if (r2 != r1) {
        check_failures++;
        fprintf(stderr, "v%d: opening descendants through consolidated metadata cost %ld reads\n", format,
                r2 - r1);
    }
    CHECK(k.n == 2 && !strcmp(k.names[0], "b") && k.kinds[0] == ZARRC_NODE_GROUP && !strcmp(k.names[1], "f") &&
          k.kinds[1] == ZARRC_NODE_ARRAY && k.shape0[1] == (format == 3 ? 5 : 8) &&
          !strcmp(k.dtype[1], format == 3 ? "float64" : "float32"));
    CHECK(kb.n == 1 && !strcmp(kb.names[0], "t") && kb.ndim[0] == 2);
    CHECK(t && t2 && f && zarrc_array_shape(t)[0] == (format == 3 ? 6 : 10));
    if (t) {
        char *aj = NULL;
        CHECK_OK(zarrc_array_json(&aj, t, ZARRC_JSON_ATTRIBUTES));
        CHECK(aj && strstr(aj, format == 3 ? "\"units\":\"m\"" : "\"long_name\":\"temp\""));
        zarrc_free(aj);
        /* Data still goes to the store: write through one handle, read through another. */
        int16_t v2[100];
        int32_t v3[24];
        void *buf = format == 3 ? (void *)v3 : (void *)v2;
        size_t nb = format == 3 ? sizeof v3 : sizeof v2;
        memset(buf, 0, nb);
        ((uint8_t *)buf)[0] = 9;
        int64_t st[2] = {0, 0}, cnt[2] = {format == 3 ? 6 : 10, format == 3 ? 4 : 10};
        CHECK_OK(zarrc_array_write(t, st, cnt, NULL, buf, nb));
        memset(buf, 1, nb);
        if (t2)
            CHECK_OK(zarrc_array_read(t2, st, cnt, NULL, buf, nb));
        CHECK(((uint8_t *)buf)[0] == 9 && ((uint8_t *)buf)[1] == 0);
    }
    zarrc_array_free(t);
    zarrc_array_free(t2);
    zarrc_array_free(f);
    zarrc_group_free(gb);
    zarrc_group_free(ga);
    zarrc_group_free(g);

    /* Bypassing the copy reads the store (the counter works). */
    CHECK_OK(zarrc_group_open(&g, s, "", ZARRC_OPEN_NO_CONSOLIDATED));
    CHECK(g && !zarrc_group_is_consolidated(g));
    r1 = reads();
    if (g)
        CHECK_OK(zarrc_group_open_array(&t, g, "a/b/t"));
    CHECK(reads() > r1);
    zarrc_array_free(t);
    t = NULL;
    zarrc_group_free(g);

    /* Up to date. */
    size_t nd = 99;
    diffs d = {0};
    CHECK_OK(zarrc_consolidated_check(s, "", on_diff, &d, &nd));
    CHECK(nd == 0 && d.n == 0);
    if (d.n)
        fprintf(stderr, "  diffs: %s\n", d.text);

    /* Attributes change: reported stale, check finds it, update fixes it. */
    zarrc_stale_list st = {0};
    CHECK_OK(zarrc_node_set_attributes(s, "a/f", "{\"new\":1}", 0, &st));
    CHECK(st.count == 1 && !strcmp(st.paths[0], ""));
    zarrc_stale_list_clear(&st);
    memset(&d, 0, sizeof d);
    CHECK_OK(zarrc_consolidated_check(s, "", on_diff, &d, &nd));
    CHECK(nd == 1 && !strcmp(d.text, "3:a/f:attributes differ"));
    CHECK_OK(zarrc_node_set_attributes(s, "c", "{\"x\":2}", ZARRC_ATTRS_MERGE | ZARRC_UPDATE_CONSOLIDATED, &st));
    CHECK(st.count == 0);
    memset(&d, 0, sizeof d);
    CHECK_OK(zarrc_consolidated_check(s, "", on_diff, &d, &nd));
    CHECK(nd == 1 && !strcmp(d.text, "3:a/f:attributes differ")); /* c was updated, a/f not */
    CHECK_OK(zarrc_consolidated_update(s, "a/f"));
    CHECK_OK(zarrc_consolidated_check(s, "", NULL, NULL, &nd));
    CHECK(nd == 0);
    /* The root's own attributes: v2 copies include them, v3 keeps them in the same document. */
    CHECK_OK(zarrc_node_set_attributes(s, "", "{\"r\":2}", 0, &st));
    CHECK(st.count == (format == 2 ? 1u : 0u));
    zarrc_stale_list_clear(&st);
    CHECK_OK(zarrc_consolidated_check(s, "", NULL, NULL, &nd));
    CHECK(nd == (format == 2 ? 1u : 0u));
    CHECK_OK(zarrc_consolidated_update(s, ""));
    CHECK_OK(zarrc_consolidated_check(s, "", NULL, NULL, &nd));
    CHECK(nd == 0);
    CHECK_OK(zarrc_group_open(&g, s, "", 0)); /* v3: the copy survived the attribute change */
    CHECK(g && zarrc_group_is_consolidated(g));
    zarrc_group_free(g);

    /* A batch below a consolidated group: stale unless asked to update. */
    char add[2048];
    snprintf(add, sizeof add, "{\"n1\": %s}", format == 3 ? V3_ARRAY_F64 : V2_ARRAY_F4);
    zarrc_hierarchy_report *r = NULL;
    CHECK_OK(zarrc_hierarchy_create(&r, s, "a/new", add, NULL));
    CHECK(r && r->stale.count == 1 && !strcmp(r->stale.paths[0], ""));
    zarrc_hierarchy_report_free(r);
    memset(&d, 0, sizeof d);
    CHECK_OK(zarrc_consolidated_check(s, "", on_diff, &d, &nd));
    CHECK(nd == 2 && strstr(d.text, "1:a/new:stored, not in the copy") && strstr(d.text, "1:a/new/n1:"));
    zarrc_stale_list holders = {0};
    CHECK_OK(zarrc_consolidated_holders(&holders, s, "a/new/n1"));
    CHECK(holders.count == 1 && !strcmp(holders.paths[0], ""));
    zarrc_stale_list_clear(&holders);
    zarrc_hierarchy_options o = ZARRC_HIERARCHY_OPTIONS_INIT;
    o.flags = ZARRC_UPDATE_CONSOLIDATED;
    snprintf(add, sizeof add, "{\"n2\": %s}", format == 3 ? V3_ARRAY_F64 : V2_ARRAY_F4);
    CHECK_OK(zarrc_hierarchy_create(&r, s, "a/new", add, &o));
    CHECK(r && r->stale.count == 0);
    zarrc_hierarchy_report_free(r);
    memset(&d, 0, sizeof d);
    CHECK_OK(zarrc_consolidated_check(s, "", on_diff, &d, &nd));
    /* Only what the batch wrote is added: the kept a/new and the earlier n1 are still missing. */
    CHECK(nd == 2 && strstr(d.text, "1:a/new:") && strstr(d.text, "1:a/new/n1:") && !strstr(d.text, "n2"));
    /* A deleted node shows up as extra; update removes its subtree. */
    CHECK_OK(zarrc_node_delete(s, "a/b"));
    memset(&d, 0, sizeof d);
    CHECK_OK(zarrc_consolidated_check(s, "", on_diff, &d, &nd));
    CHECK(nd == 4 && strstr(d.text, "2:a/b:in the copy, no longer stored") && strstr(d.text, "2:a/b/t:"));
    CHECK_OK(zarrc_consolidated_update(s, "a/b"));
    CHECK_OK(zarrc_consolidated_update(s, "a/new"));
    CHECK_OK(zarrc_consolidated_check(s, "", NULL, NULL, &nd));
    CHECK(nd == 0);
    /* No copy: check says so; a malformed copy refuses to open unless bypassed. */
    CHECK_ERR(zarrc_consolidated_check(s, "a", NULL, NULL, &nd), ZARRC_ENOTFOUND, "no consolidated metadata");
    if (format == 2) {
        CHECK_OK(zarrc_store_set(inner, ".zmetadata", "{\"metadata\":{},\"zarr_consolidated_format\":7}", 44));
        CHECK_ERR(zarrc_group_open(&g, s, "", 0), ZARRC_EINVAL, "zarr_consolidated_format");
    } else {
        const char *bad = "{\"zarr_format\":3,\"node_type\":\"group\",\"consolidated_metadata\":{\"kind\":\"x\"}}";
        CHECK_OK(zarrc_store_set(inner, "zarr.json", bad, strlen(bad)));
        CHECK_ERR(zarrc_group_open(&g, s, "", 0), ZARRC_EINVAL, "\"inline\"");
    }
    CHECK(strstr(zarrc_error_last(), "without consolidated metadata"));
    CHECK_OK(zarrc_group_open(&g, s, "", ZARRC_OPEN_NO_CONSOLIDATED));
    zarrc_group_free(g);
    zarrc_store_free(s);
}

/* zarr-python style v2 copies (objects; the nested group has its own .zmetadata) and
 * zarr-python 3 style v3 copies (a v2 entry among v3 entries) open as expected. */
static void test_foreign_copies(void)
{
    zarrc_store *s = counting();
    const char *zm =
        "{\"metadata\": {\".zgroup\": {\"zarr_format\": 2}, \"sub/.zgroup\": {\"zarr_format\": 2},"
        " \"sub/.zattrs\": {\"a\": 1}, \"sub/arr/.zarray\": {\"chunks\": [2], \"compressor\": null,"
        " \"dtype\": \"<u1\", \"fill_value\": 3, \"filters\": null, \"order\": \"C\", \"shape\": [4],"
        " \"zarr_format\": 2}}, \"zarr_consolidated_format\": 1}";
    CHECK_OK(zarrc_store_set(inner, ".zgroup", "{\"zarr_format\":2}", 17));
    CHECK_OK(zarrc_store_set(inner, ".zmetadata", zm, strlen(zm)));
    zarrc_group *g = NULL;
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_group_open(&g, s, "", 0));
    long r0 = reads();
    if (g)
        CHECK_OK(zarrc_group_open_array(&a, g, "sub/arr"));
    CHECK(reads() == r0);
    if (a) {
        uint8_t v[4] = {0};
        int64_t st = 0, cnt = 4;
        CHECK_OK(zarrc_array_read(a, &st, &cnt, NULL, v, 4)); /* chunks absent: fill value */
        CHECK(v[0] == 3 && v[3] == 3);
    }
    zarrc_array_free(a);
    zarrc_group_free(g);
    zarrc_store_free(s);
}

int main(void)
{
    CHECK_OK(zarrc_store_register(&counting_type));
    test_groups(3);
    test_groups(2);
    test_batch_v3();
    test_batch_v2();
    test_validation();
    test_conflicts();
    test_callback_and_failure();
    test_consolidated(3);
    test_consolidated(2);
    test_consolidate_progress(3);
    test_consolidate_progress(2);
    test_foreign_copies();
    zarrc_store_free(inner);
    return check_report("api.hierarchy");
}
