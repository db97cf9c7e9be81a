/*
 * test_refs.c — references and links (hdmf-zarr convention), GroupSpec in/out and records,
 * through the public API: every reference form, the external-store rule on a directory
 * store, dangling targets, element and struct-field resolution, malformed input, and record
 * round trips with shared instances. (Against the real peers: tests/refs/test_nwb_refs.py.)
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "zarrc.h"

static zarrc_store *mem(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    return s;
}

static void test_parse(void)
{
    static const struct {
        const char *json, *source, *path, *oid;
    } ok[] = {
        {"\"/a/b\"", ".", "a/b", NULL},
        {"\"/\"", ".", "", NULL},
        {"{\"_REFERENCE\": {\"source\": \".\", \"path\": \"/x\"}}", ".", "x", NULL},
        {"{\"name\": \"l\", \"source\": \".\", \"path\": \"/x/y\"}", ".", "x/y", NULL},
        {"{\"source\": \"../o.zarr\", \"path\": \"/z\", \"object_id\": \"u-1\", \"source_object_id\": \"u-0\"}",
         "../o.zarr", "z", "u-1"},
        {"{\"zarr_dtype\": \"object\", \"value\": {\"source\": \".\", \"path\": \"/q\"}}", ".", "q", NULL},
        {"\"{\\\"source\\\": \\\".\\\", \\\"path\\\": \\\"/j\\\"}\"", ".", "j", NULL},
        {"{\"path\": \"k\"}", ".", "k", NULL},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        char *src = NULL, *path = NULL, *oid = NULL;
        CHECK_OK(zarrc_ref_parse(&src, &path, &oid, ok[i].json));
        CHECK(src && !strcmp(src, ok[i].source));
        CHECK(path && !strcmp(path, ok[i].path));
        CHECK(ok[i].oid ? oid && !strcmp(oid, ok[i].oid) : !oid);
        zarrc_free(src);
        zarrc_free(path);
        zarrc_free(oid);
    }
    static const char *const bad[] = {"", "3", "[]", "{}", "{\"path\": 3}", "{\"path\": \"/a/../b\"}",
                                      "{\"_REFERENCE\": 1}", "{\"zarr_dtype\": \"int\", \"value\": 1}",
                                      "{\"source\": 1, \"path\": \"/a\"}", "\"/a/./b\"", "{\"path\": \"/a\"",
                                      "{\"_REFERENCE\": {\"_REFERENCE\": {\"_REFERENCE\": {\"_REFERENCE\": {\"_REFERENCE\": \"/a\"}}}}}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_ERR(zarrc_ref_parse(NULL, NULL, NULL, bad[i]), ZARRC_EINVAL, "");
    CHECK_ERR(zarrc_ref_parse(NULL, NULL, NULL, NULL), ZARRC_EINVAL, "NULL");
}

static int count_cb(void *ctx, const zarrc_ref_info *r)
{
    int *n = ctx;
    n[r->kind]++;
    return 0;
}

static void test_resolve_memory(void)
{
    zarrc_store *s = mem();
    CHECK_OK(zarrc_group_create(s, "g/sub", 3, NULL, 0));
    int64_t shape[1] = {3};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "string";
    o.ndim = 1;
    o.shape = shape;
    o.attributes = "{\"_DTYPE\": \"object_reference\"}";
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, s, "refs", &o));
    const char *el = "/g/g/sub/nope"; /* "/g", "/g/sub", "/nope" */
    uint64_t offs[4] = {0, 2, 8, 13};
    zarrc_vlen v = {3, offs, (uint8_t *)el, 13};
    int64_t start[1] = {0}, count[1] = {3};
    CHECK_OK(zarrc_array_write(a, start, count, NULL, &v, sizeof v));
    zarrc_array_free(a);

    zarrc_node_ref r = {0};
    CHECK_OK(zarrc_node_resolve(&r, s, "{\"_REFERENCE\": {\"source\": \".\", \"path\": \"/g/sub\"}}", 0));
    CHECK(r.kind == ZARRC_NODE_GROUP && r.format == 3 && !strcmp(r.path, "g/sub") && r.store == s && !r.external);
    zarrc_node_ref_clear(&r);
    CHECK(r.store == NULL && r.path == NULL);
    zarrc_node_ref_clear(NULL);
    CHECK_ERR(zarrc_node_resolve(&r, s, "\"/missing\"", 0), ZARRC_ENOTFOUND, "'/missing' does not exist");
    CHECK_ERR(zarrc_node_resolve(&r, s, "{\"source\": \"../x\", \"path\": \"/\"}", 0), ZARRC_EAUTH, "leaves the store");
    CHECK_ERR(zarrc_node_resolve(&r, s, "{\"source\": \"../x\", \"path\": \"/\"}", ZARRC_OPEN_ALLOW_EXTERNAL),
              ZARRC_EUNSUPPORTED, "not a directory");

    CHECK_OK(zarrc_node_resolve_element(&r, s, "refs", 0, NULL, 0));
    CHECK(r.path && !strcmp(r.path, "g") && r.kind == ZARRC_NODE_GROUP);
    zarrc_node_ref_clear(&r);
    CHECK_OK(zarrc_node_resolve_element(&r, s, "refs", 1, NULL, 0));
    CHECK(r.path && !strcmp(r.path, "g/sub"));
    zarrc_node_ref_clear(&r);
    CHECK_ERR(zarrc_node_resolve_element(&r, s, "refs", 2, NULL, 0), ZARRC_ENOTFOUND, "element 2");
    CHECK_ERR(zarrc_node_resolve_element(&r, s, "refs", 3, NULL, 0), ZARRC_EBOUNDS, "element 3");
    CHECK_ERR(zarrc_node_resolve_element(&r, s, "refs", -1, NULL, 0), ZARRC_EBOUNDS, "");
    CHECK_ERR(zarrc_node_resolve_element(&r, s, "refs", 0, "f", 0), ZARRC_EINVAL, "_REFERENCE_FIELDS");
    CHECK_ERR(zarrc_node_resolve_element(&r, s, "g", 0, NULL, 0), ZARRC_EINVAL, "group");
    CHECK_ERR(zarrc_node_resolve_element(&r, s, "nothing", 0, NULL, 0), ZARRC_ENOTFOUND, "");

    /* A struct array with a reference field, written as raw records (as hdmf-zarr lays them). */
    const char *doc = "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [2], \"data_type\": {\"name\": "
                      "\"struct\", \"configuration\": {\"fields\": [{\"name\": \"i\", \"data_type\": \"int32\"}, "
                      "{\"name\": \"t\", \"data_type\": {\"name\": \"fixed_length_utf32\", \"configuration\": "
                      "{\"length_bytes\": 16}}}]}}, \"chunk_grid\": {\"name\": \"regular\", \"configuration\": "
                      "{\"chunk_shape\": [2]}}, \"chunk_key_encoding\": {\"name\": \"default\"}, \"fill_value\": "
                      "{\"i\": 0, \"t\": \"\"}, \"codecs\": [{\"name\": \"bytes\", \"configuration\": {\"endian\": "
                      "\"little\"}}], \"attributes\": {\"_REFERENCE_FIELDS\": [\"t\"]}}";
    CHECK_OK(zarrc_store_set(s, "st/zarr.json", doc, strlen(doc)));
    uint8_t rec[40];
    memset(rec, 0, sizeof rec);
    rec[0] = 7;
    rec[4] = '/', rec[8] = 'g';            /* "/g" */
    rec[20] = 8;
    rec[24] = '/', rec[28] = 'x';          /* "/x": dangling */
    CHECK_OK(zarrc_store_set(s, "st/c/0", rec, sizeof rec));
    CHECK_OK(zarrc_node_resolve_element(&r, s, "st", 0, "t", 0));
    CHECK(r.path && !strcmp(r.path, "g"));
    zarrc_node_ref_clear(&r);
    CHECK_ERR(zarrc_node_resolve_element(&r, s, "st", 1, "t", 0), ZARRC_ENOTFOUND, "field 't' element 1");
    CHECK_ERR(zarrc_node_resolve_element(&r, s, "st", 0, "i", 0), ZARRC_EINVAL, "_REFERENCE_FIELDS");
    CHECK_ERR(zarrc_node_resolve_element(&r, s, "st", 0, NULL, 0), ZARRC_EINVAL, "give one of its _REFERENCE_FIELDS");

    /* Listing and writing links. */
    CHECK_OK(zarrc_node_set_attributes(s, "g", "{\"r\": {\"_REFERENCE\": {\"source\": \".\", \"path\": \"/refs\"}}, "
                                              "\"plain\": {\"path\": \"/x\"}}", 0, NULL));
    CHECK_OK(zarrc_node_link_add(s, "g", "l1", "g/sub"));
    CHECK_OK(zarrc_node_link_add(s, "g", "l2", "refs"));
    CHECK_OK(zarrc_node_link_add(s, "g", "l1", "st")); /* replaced */
    int n[5] = {0};
    CHECK_OK(zarrc_node_references(s, "g", count_cb, n));
    CHECK(n[ZARRC_REF_LINK] == 2 && n[ZARRC_REF_ATTRIBUTE] == 1 && n[ZARRC_REF_ARRAY] == 0);
    memset(n, 0, sizeof n);
    CHECK_OK(zarrc_node_references(s, "refs", count_cb, n));
    CHECK(n[ZARRC_REF_ARRAY] == 1);
    memset(n, 0, sizeof n);
    CHECK_OK(zarrc_node_references(s, "st", count_cb, n));
    CHECK(n[ZARRC_REF_FIELD] == 1);
    char *attrs = NULL;
    CHECK_OK(zarrc_node_attributes(&attrs, s, "g"));
    CHECK(attrs && (strstr(attrs, "/st\"") || strstr(attrs, "\\/st\"")) && strstr(attrs, "\"l1\"") &&
          !strstr(attrs, "sub"));
    zarrc_free(attrs);
    CHECK_ERR(zarrc_node_link_add(s, "g", "bad/name", "g"), ZARRC_EINVAL, "without '/'");
    CHECK_ERR(zarrc_node_link_add(s, "refs", "x", "g"), ZARRC_EINVAL, "links belong to groups");
    CHECK_ERR(zarrc_node_link_add(s, "g", "x", "nope"), ZARRC_ENOTFOUND, "does not exist");
    CHECK_OK(zarrc_node_set_attributes(s, "g/sub", "{\"_LINKS\": 5}", 0, NULL));
    CHECK_ERR(zarrc_node_references(s, "g/sub", count_cb, n), ZARRC_EINVAL, "not a list");
    CHECK_OK(zarrc_node_set_attributes(s, "g/sub", "{\"_LINKS\": [{\"path\": \"/g\"}]}", 0, NULL));
    CHECK_ERR(zarrc_node_references(s, "g/sub", count_cb, n), ZARRC_EINVAL, "entry 0");
    zarrc_store_free(s);
}

static void test_external_dirs(void)
{
    const char *tmp = getenv("ZARRC_TEST_TMP");
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/api_refs/a.zarr", tmp ? tmp : "/tmp");
    snprintf(b, sizeof b, "%s/api_refs/b.zarr", tmp ? tmp : "/tmp");
    zarrc_store *sa = NULL, *sb = NULL;
    CHECK_OK(zarrc_store_open(&sa, a, ZARRC_STORE_CREATE));
    CHECK_OK(zarrc_store_open(&sb, b, ZARRC_STORE_CREATE));
    CHECK_OK(zarrc_group_create(sa, "", 3, NULL, ZARRC_OVERWRITE));
    CHECK_OK(zarrc_group_create(sb, "t", 3, NULL, ZARRC_OVERWRITE));
    zarrc_node_ref r = {0};
    const char *ext = "{\"source\": \"../b.zarr\", \"path\": \"/t\"}";
    CHECK_ERR(zarrc_node_resolve(&r, sa, ext, 0), ZARRC_EAUTH, "'../b.zarr' leaves the store");
    CHECK_OK(zarrc_node_resolve(&r, sa, ext, ZARRC_OPEN_ALLOW_EXTERNAL));
    CHECK(r.external == 1 && r.store && r.store != sa && !strcmp(r.path, "t") && r.kind == ZARRC_NODE_GROUP);
    CHECK_ERR(zarrc_group_create(r.store, "w", 3, NULL, 0), ZARRC_EREADONLY, ""); /* opened read-only */
    zarrc_node_ref_clear(&r);
    /* A source that comes back into the same directory is the same store. */
    CHECK_OK(zarrc_node_resolve(&r, sa, "{\"source\": \"../a.zarr\", \"path\": \"/\"}", 0));
    CHECK(r.store == sa && r.external == 0);
    zarrc_node_ref_clear(&r);
    zarrc_store_free(sa);
    zarrc_store_free(sb);
}

static void test_spec(void)
{
    zarrc_store *s = mem();
    const char *nested = "{\"zarr_format\": 3, \"node_type\": \"group\", \"attributes\": {\"k\": 1}, \"members\": "
                         "{\"g\": {\"zarr_format\": 3, \"node_type\": \"group\", \"attributes\": {}, \"members\": "
                         "{\"x\": {\"zarr_format\": 3, \"node_type\": \"array\", \"attributes\": {}, \"shape\": [2], "
                         "\"data_type\": \"uint8\", \"chunk_grid\": {\"name\": \"regular\", \"configuration\": "
                         "{\"chunk_shape\": [2]}}, \"chunk_key_encoding\": {\"name\": \"default\", \"configuration\": "
                         "{\"separator\": \"/\"}}, \"fill_value\": 0, \"codecs\": [{\"name\": \"bytes\"}], "
                         "\"storage_transformers\": [], \"dimension_names\": null}}}, \"e\": {\"zarr_format\": 3, "
                         "\"node_type\": \"group\", \"attributes\": {}, \"members\": null}}}";
    zarrc_hierarchy_report *rep = NULL;
    CHECK_OK(zarrc_hierarchy_create(&rep, s, "", nested, NULL));
    CHECK(rep && rep->written == 4);
    zarrc_hierarchy_report_free(rep);
    char *json = NULL;
    CHECK_OK(zarrc_hierarchy_spec(&json, s, "", -1));
    CHECK(json && strstr(json, "\"members\":{\"e\":") && strstr(json, "\"storage_transformers\":[]") &&
          strstr(json, "\"dimension_names\":null") && strstr(json, "\"attributes\":{\"k\":1}"));
    zarrc_free(json);
    CHECK_OK(zarrc_hierarchy_spec(&json, s, "g", 0));
    CHECK(json && strstr(json, "\"members\":null"));
    zarrc_free(json);
    CHECK_ERR(zarrc_hierarchy_spec(&json, s, "nope", -1), ZARRC_ENOTFOUND, "");
    CHECK_ERR(zarrc_hierarchy_create(NULL, s, "b", "{\"zarr_format\": 3, \"node_type\": \"group\", \"members\": "
                                                   "{\"a/b\": {\"zarr_format\": 3, \"node_type\": \"group\"}}}", NULL),
              ZARRC_EINVAL, "member name 'a/b'");
    CHECK_ERR(zarrc_hierarchy_create(NULL, s, "b", "{\"zarr_format\": 3, \"node_type\": \"group\", \"members\": 4}",
                                     NULL),
              ZARRC_EINVAL, "must be an object or null");
    zarrc_store_free(s);
}

/* A record type: a node with a value and up to two children (possibly shared). */
typedef struct node {
    int value;
    struct node *kid[2];
} node;

static const zarrc_record_type node_type;

static int node_ser(zarrc_record_ctx *ctx, const void *inst, void *user)
{
    (void)user;
    const node *n = inst;
    char t[32];
    snprintf(t, sizeof t, "%d", n->value);
    int rc = zarrc_record_set_attr(ctx, "value", t);
    int64_t shape[1] = {1};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "int32";
    o.ndim = 1;
    o.shape = shape;
    if (rc == 0)
        rc = zarrc_record_write_array(ctx, "v", &o, &n->value, sizeof n->value);
    for (int i = 0; rc == 0 && i < 2; i++)
        if (n->kid[i])
            rc = zarrc_record_write_child(ctx, i ? "k1" : "k0", &node_type, n->kid[i]);
    return rc;
}

static int node_de(void **inst, zarrc_record_ctx *ctx, void *user)
{
    (void)user;
    node *n = calloc(1, sizeof *n);
    *inst = n;
    char *t = NULL;
    int rc = zarrc_record_get_attr(&t, ctx, "value");
    if (rc == 0)
        n->value = atoi(t);
    zarrc_free(t);
    zarrc_array *a = NULL;
    int v = -1;
    int64_t s0[1] = {0}, c1[1] = {1};
    if (rc == 0 && (rc = zarrc_record_open_array(&a, ctx, "v")) == 0)
        rc = zarrc_array_read(a, s0, c1, NULL, &v, sizeof v);
    zarrc_array_free(a);
    if (rc == 0 && v != n->value)
        rc = ZARRC_ECORRUPT;
    for (int i = 0; rc == 0 && i < 2; i++) {
        rc = zarrc_record_read_child((void **)&n->kid[i], ctx, i ? "k1" : "k0", &node_type);
        if (rc == ZARRC_ENOTFOUND)
            rc = 0;
    }
    return rc;
}

static int frees;
static void node_free(void *inst, void *user)
{
    (void)user;
    frees++;
    free(inst);
}

static const zarrc_record_type node_type = {ZARRC_RECORD_TYPE_VERSION, "test.Node", node_ser, node_de, node_free, NULL};

static void test_records(void)
{
    zarrc_store *s = mem();
    node leaf = {3, {NULL, NULL}}, mid = {2, {&leaf, NULL}}, root = {1, {&mid, &leaf}};
    CHECK_OK(zarrc_record_write(s, "r", &node_type, &root, 0));
    zarrc_node_kind k;
    int f;
    CHECK_ERR(zarrc_node_probe(&k, &f, s, "r/k1"), ZARRC_ENOTFOUND, ""); /* shared: a link, not a copy */
    CHECK_OK(zarrc_node_probe(&k, &f, s, "r/k0/k0/v"));
    zarrc_record_set *set = NULL;
    CHECK_OK(zarrc_record_read(&set, s, "r", &node_type));
    const node *n = zarrc_record_set_root(set);
    CHECK(n && n->value == 1 && n->kid[0]->value == 2 && n->kid[1]->value == 3 && n->kid[0]->kid[0] == n->kid[1]);
    frees = 0;
    zarrc_record_set_free(set);
    CHECK(frees == 3);
    zarrc_record_set_free(NULL);
    CHECK_ERR(zarrc_record_write(s, "r", &node_type, &root, 0), ZARRC_EEXISTS, "");
    CHECK_OK(zarrc_record_write(s, "r", &node_type, &leaf, ZARRC_OVERWRITE));
    static const zarrc_record_type other = {ZARRC_RECORD_TYPE_VERSION, "test.Other", node_ser, node_de, node_free, NULL};
    CHECK_ERR(zarrc_record_read(&set, s, "r", &other), ZARRC_EDTYPE, "not a test.Other record");
    CHECK(set == NULL);
    zarrc_record_type badv = node_type;
    badv.version = 99;
    CHECK_ERR(zarrc_record_write(s, "q", &badv, &root, 0), ZARRC_EINVAL, "version");
    CHECK_ERR(zarrc_record_read(&set, s, "missing", &node_type), ZARRC_ENOTFOUND, "");
    zarrc_store_free(s);
}

/* Legacy v2 reference datasets (older hdmf-zarr): "|O" with the json2 or msgpack2 object codec,
 * attribute zarr_dtype "object", each element the JSON text of a reference object. */
static void test_legacy_object_refs(void)
{
    static const char *const codecs[2] = {"json2", "msgpack2"};
    for (int c = 0; c < 2; c++) {
        zarrc_store *s = mem();
        CHECK_OK(zarrc_group_create(s, "", 2, NULL, 0));
        CHECK_OK(zarrc_group_create(s, "a/b", 2, NULL, 0));
        int64_t shape[1] = {3}, chunks[1] = {2};
        char filters[64];
        snprintf(filters, sizeof filters, "[{\"id\":\"%s\"}]", codecs[c]);
        zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
        o.format = 2;
        o.dtype = "|O";
        o.ndim = 1;
        o.shape = shape;
        o.chunks = chunks;
        o.filters = filters;
        o.compressor = "null";
        o.attributes = "{\"zarr_dtype\": \"object\"}";
        zarrc_array *a = NULL;
        CHECK_OK(zarrc_array_create(&a, s, "refs", &o));
        const char *t0 = "{\"source\":\".\",\"path\":\"/a/b\",\"object_id\":\"o1\",\"source_object_id\":\"r\"}";
        const char *t1 = "{\"source\":\".\",\"path\":\"/a\",\"object_id\":null}";
        const char *t2 = "{\"source\":\".\",\"path\":\"/gone\"}";
        size_t n0 = strlen(t0), n1 = strlen(t1), n2 = strlen(t2);
        char *buf = malloc(n0 + n1 + n2);
        memcpy(buf, t0, n0);
        memcpy(buf + n0, t1, n1);
        memcpy(buf + n0 + n1, t2, n2);
        uint64_t offs[4] = {0, n0, n0 + n1, n0 + n1 + n2};
        zarrc_vlen v = {3, offs, (uint8_t *)buf, n0 + n1 + n2};
        int64_t start[1] = {0}, count[1] = {3};
        CHECK_OK(zarrc_array_write(a, start, count, NULL, &v, sizeof v));
        zarrc_array_free(a);
        free(buf);
        zarrc_node_ref r = {0};
        CHECK_OK(zarrc_node_resolve_element(&r, s, "refs", 0, NULL, 0));
        CHECK_MSG(r.path && !strcmp(r.path, "a/b") && r.kind == ZARRC_NODE_GROUP && r.object_id &&
                      !strcmp(r.object_id, "o1"), "%s element 0", codecs[c]);
        zarrc_node_ref_clear(&r);
        CHECK_OK(zarrc_node_resolve_element(&r, s, "refs", 1, NULL, 0));
        CHECK_MSG(r.path && !strcmp(r.path, "a") && !r.object_id, "%s element 1", codecs[c]);
        zarrc_node_ref_clear(&r);
        CHECK_ERR(zarrc_node_resolve_element(&r, s, "refs", 2, NULL, 0), ZARRC_ENOTFOUND, "element 2");
        CHECK_ERR(zarrc_node_resolve_element(&r, s, "refs", 3, NULL, 0), ZARRC_EBOUNDS, "element 3");
        zarrc_store_free(s);
    }
}

int main(void)
{
    test_parse();
    test_resolve_memory();
    test_legacy_object_refs();
    test_external_dirs();
    test_spec();
    test_records();
    return check_report("api.refs");
}
