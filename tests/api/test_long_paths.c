/* API tests: node paths far longer than any fixed buffer once was (15 segments of 200
 * characters, 3,014 bytes, as in issue 8) on the filesystem store, the memory store and a store
 * with latency (batched engine). Hierarchies are created, arrays (chunked and sharded, v2 and
 * v3) written, partly rewritten and read, reopened directly and through group handles, listed
 * and consolidated. Before the fix these overflowed the engine's stack key buffers. */
#include <stdint.h>
#include <unistd.h>

#include "check.h"
#include "wrap_store.h"

#define SEGMENTS 15
#define SEGMENT_LEN 200

/* ---- a store with latency (no delay): the engine batches its requests ---- */

WRAP_STORE_FORWARDERS(l, lat_inner)

static const zarrc_store_type latency_store = {
    ZARRC_STORE_TYPE_VERSION, "longlat",
    ZARRC_STORE_CAP_RANGE | ZARRC_STORE_CAP_LIST_DIR | ZARRC_STORE_CAP_WRITE | ZARRC_STORE_CAP_LATENCY,
    l_open, l_close, l_get, NULL, l_set, NULL, l_erase, l_erase_prefix, l_list, l_list_dir, l_size,
};

/* ---- the tests ---- */

/* "aaa…/bbb…/…": SEGMENTS segments of SEGMENT_LEN letters. */
static char *deep_path(void)
{
    size_t n = SEGMENTS * (SEGMENT_LEN + 1);
    char *p = malloc(n), *w = p;
    for (int s = 0; s < SEGMENTS; s++) {
        if (s)
            *w++ = '/';
        memset(w, 'a' + s, SEGMENT_LEN);
        w += SEGMENT_LEN;
    }
    *w = 0;
    return p;
}

static char *join(const char *a, const char *b)
{
    char *r = malloc(strlen(a) + strlen(b) + 2);
    sprintf(r, "%s/%s", a, b);
    return r;
}

static int count_child(void *ctx, const zarrc_child_info *c)
{
    (void)c;
    ++*(int *)ctx;
    return 0;
}

/* Write everything, rewrite a strided part (read-modify-write of partly covered chunks), read
 * it all back and a strided box, for the array handle `a` of shape 12 x 10. */
static void check_data(zarrc_array *a, const char *what)
{
    static int32_t all[120], got[120];
    int64_t z[2] = {0, 0}, shape[2] = {12, 10};
    for (int i = 0; i < 120; i++)
        all[i] = i * 11 - 300;
    CHECK_MSG(zarrc_array_write(a, z, shape, NULL, all, sizeof all) == 0, "%s: write", what);
    int64_t st[2] = {1, 2}, cnt[2] = {5, 4}, step[2] = {2, 2};
    int32_t patch[20];
    for (int i = 0; i < 20; i++) {
        patch[i] = 7000 + i;
        all[(1 + 2 * (i / 4)) * 10 + 2 + 2 * (i % 4)] = patch[i];
    }
    CHECK_MSG(zarrc_array_write(a, st, cnt, step, patch, sizeof patch) == 0, "%s: strided write", what);
    memset(got, 0, sizeof got);
    CHECK_MSG(zarrc_array_read(a, z, shape, NULL, got, sizeof got) == 0, "%s: read", what);
    CHECK_MSG(!memcmp(all, got, sizeof all), "%s: data differs", what);
    int32_t sub[20];
    CHECK_MSG(zarrc_array_read(a, st, cnt, step, sub, sizeof sub) == 0 && !memcmp(sub, patch, sizeof sub),
              "%s: strided read", what);
}

static zarrc_array *make_array(zarrc_store *s, const char *path, int format, const char *codecs)
{
    int64_t shape[2] = {12, 10}, chunks[2] = {4, 4};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.format = format;
    o.dtype = "int32";
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    o.fill_value = "-1";
    o.codecs = codecs;
    zarrc_array *a = NULL;
    CHECK_MSG(zarrc_array_create(&a, s, path, &o) == 0, "create v%d %s", format, codecs ? codecs : "default");
    return a;
}

static void test_store(const char *url, int format)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, url, ZARRC_STORE_CREATE));
    if (!s)
        return;
    char *deep = deep_path();
    CHECK(strlen(deep) == SEGMENTS * (SEGMENT_LEN + 1) - 1);
    char *arr = join(deep, "arr"), *sharded = join(deep, "sharded");

    /* A batch hierarchy with the deep path: every ancestor group is implied. */
    char *spec = malloc(strlen(deep) + 256);
    sprintf(spec, "{\"%s/sub\": %s}", deep,
            format == 3 ? "{\"zarr_format\": 3, \"node_type\": \"group\"}" : "{\"zarr_format\": 2}");
    zarrc_hierarchy_report *rep = NULL;
    CHECK_OK(zarrc_hierarchy_create(&rep, s, "", spec, NULL));
    CHECK(rep && rep->count == SEGMENTS + 2 && rep->written == SEGMENTS + 2);
    zarrc_hierarchy_report_free(rep);
    /* The same batch again, now conflicting with a different document: the refusal names
     * the long path without overflowing the message buffers. */
    sprintf(spec, "{\"%s/sub\": %s}", deep,
            format == 3 ? "{\"zarr_format\": 3, \"node_type\": \"group\", \"attributes\": {\"x\": 1}}"
                        : "{\"zarr_format\": 2, \"attributes\": {\"x\": 1}}");
    rep = NULL;
    CHECK_ERR(zarrc_hierarchy_create(&rep, s, "", spec, NULL), ZARRC_EEXISTS, "aaaaaaaaaa");
    zarrc_hierarchy_report_free(rep);
    free(spec);

    /* Chunked arrays (default codecs, uncompressed) and, in v3, a sharded one. */
    zarrc_array *a = make_array(s, arr, format, NULL);
    if (a)
        check_data(a, "default codecs");
    zarrc_array_free(a);
    char *raw = join(deep, "raw");
    a = make_array(s, raw, format, "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]");
    if (a)
        check_data(a, "bytes only");
    zarrc_array_free(a);
    if (format == 3) {
        a = make_array(s, sharded, 3,
                       "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2,2],"
                       "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]}}]");
        if (a)
            check_data(a, "sharded");
        zarrc_array_free(a);
    }

    /* Reopened directly and through group handles; children listed; consolidated. */
    a = NULL;
    CHECK_OK(zarrc_array_open(&a, s, arr));
    int32_t v[120];
    int64_t z[2] = {0, 0}, shape[2] = {12, 10};
    CHECK(a && zarrc_array_read(a, z, shape, NULL, v, sizeof v) == 0 && v[0] == -300 && v[119] == 119 * 11 - 300);
    zarrc_array_free(a);
    zarrc_group *g = NULL, *dg = NULL;
    CHECK_OK(zarrc_group_open(&g, s, "", 0));
    CHECK_OK(zarrc_group_open_group(&dg, g, deep));
    int n = 0;
    CHECK(dg && zarrc_group_children(dg, count_child, &n) == 0 && n == (format == 3 ? 4 : 3));
    a = NULL;
    CHECK(dg && zarrc_group_open_array(&a, dg, "arr") == 0 && a &&
          zarrc_array_read(a, z, shape, NULL, v, sizeof v) == 0);
    zarrc_array_free(a);
    zarrc_group_free(dg);
    zarrc_group_free(g);
    size_t nc = 0;
    CHECK_OK(zarrc_consolidate(s, "", &nc));
    CHECK(nc == SEGMENTS + 1 + (format == 3 ? 3 : 2));
    g = NULL;
    a = NULL;
    CHECK_OK(zarrc_group_open(&g, s, "", 0));
    CHECK(g && zarrc_group_is_consolidated(g));
    CHECK(g && zarrc_group_open_array(&a, g, raw) == 0 && a && zarrc_array_read(a, z, shape, NULL, v, sizeof v) == 0 &&
          v[0] == -300);
    zarrc_array_free(a);
    zarrc_group_free(g);
    CHECK_OK(zarrc_node_delete(s, deep));
    zarrc_node_kind kind;
    int fmt;
    CHECK(zarrc_node_probe(&kind, &fmt, s, arr) == ZARRC_ENOTFOUND);
    free(raw);
    free(arr);
    free(sharded);
    free(deep);
    zarrc_store_free(s);
}

int main(void)
{
    CHECK_OK(zarrc_store_register(&latency_store));
    const char *tmp = getenv("ZARRC_TEST_TMP");
    char dir[512];
    for (int format = 3; format >= 2; format--) {
        snprintf(dir, sizeof dir, "file://%s/long_paths_%d_v%d", tmp ? tmp : "/tmp", (int)getpid(), format);
        test_store(dir, format);
        test_store("memory://", format);
        test_store("longlat://", format);
    }
    return check_report("api.long_paths");
}
