/*
 * test_rectilinear.c — rectilinear chunk grids (zarr-extensions "rectilinear", public API only):
 * created from a zarr.json, whole and strided reads and writes across irregular chunks equal a
 * model, chunk keys and sizes as the grid says (edge chunks hold the full declared edge), the
 * run-length form written back as zarr-python writes it, sharded outer grids with regular inner
 * chunks, ZARRC_APPEND_NEW_CHUNK (3 then 1 rows -> edges [3, 1]), growth past the edges adding
 * one edge, shrink then regrow reading fill, and bad grids refused with messages naming them.
 */
#include <stdbool.h>

#include "check.h"
#include "zarrc.h"

static char *doc(const char *shape, const char *shapes, const char *codecs)
{
    static char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":%s,\"data_type\":\"int32\","
             "\"chunk_grid\":{\"name\":\"rectilinear\",\"configuration\":{\"kind\":\"inline\",\"chunk_shapes\":%s}},"
             "\"chunk_key_encoding\":{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}},"
             "\"fill_value\":-1,\"codecs\":%s}",
             shape, shapes, codecs ? codecs : "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]");
    return buf;
}

/* The stored chunk_shapes as compact JSON. */
static char *grid_of(zarrc_array *a)
{
    static char out[2048];
    char *j = NULL;
    out[0] = 0;
    if (zarrc_array_json(&j, a, ZARRC_JSON_METADATA) == 0 && j) {
        char *p = strstr(j, "\"chunk_shapes\"");
        size_t k = 0;
        int depth = 0;
        for (p = p ? strchr(p, '[') : NULL; p && *p && k + 1 < sizeof out; p++) {
            if (*p == ' ' || *p == '\n')
                continue;
            out[k++] = *p;
            depth += *p == '[' ? 1 : *p == ']' ? -1 : 0;
            if (depth == 0)
                break;
        }
        out[k] = 0;
    }
    zarrc_free(j);
    return out;
}

static void test_rw(zarrc_store *s, bool sharded)
{
    const char *codecs = sharded ? "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[10,10],"
                                   "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                                   "{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":false}}],"
                                   "\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                                   "{\"name\":\"crc32c\"}],\"index_location\":\"end\"}}]"
                                 : NULL;
    const char *shapes = sharded ? "[[20,40],[[50,2]]]" : "[[10,20,30],[[50,2]]]";
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create_json(&a, s, sharded ? "rs" : "r", doc("[60,100]", shapes, codecs), ZARRC_OVERWRITE));
    if (!a)
        return;
    CHECK_MSG(!strcmp(grid_of(a), shapes), "stored grid %s", grid_of(a));
    static int32_t model[60 * 100], got[60 * 100];
    for (int i = 0; i < 6000; i++)
        model[i] = -1;
    /* Random boxes (some strided) written, the model updated. */
    for (int t = 0; t < 40; t++) {
        int64_t st[2], ct[2], sp[2];
        for (int d = 0; d < 2; d++) {
            int64_t ext = d ? 100 : 60;
            sp[d] = 1 + (int64_t)(check_rnd() % 3);
            st[d] = (int64_t)(check_rnd() % (uint64_t)ext);
            int64_t maxc = (ext - 1 - st[d]) / sp[d] + 1;
            ct[d] = 1 + (int64_t)(check_rnd() % (uint64_t)maxc);
        }
        int32_t *blk = malloc((size_t)(ct[0] * ct[1]) * 4);
        for (int64_t i = 0; i < ct[0]; i++)
            for (int64_t j = 0; j < ct[1]; j++) {
                int32_t v = (int32_t)(t * 100000 + i * 1000 + j);
                blk[i * ct[1] + j] = v;
                model[(st[0] + i * sp[0]) * 100 + st[1] + j * sp[1]] = v;
            }
        CHECK_OK(zarrc_array_write(a, st, ct, sp, blk, (size_t)(ct[0] * ct[1]) * 4));
        free(blk);
    }
    int64_t z[2] = {0, 0}, all[2] = {60, 100};
    CHECK_OK(zarrc_array_read(a, z, all, NULL, got, sizeof got));
    CHECK_MSG(!memcmp(got, model, sizeof got), "sharded %d: contents differ from the model", sharded);
    /* A strided read across every chunk. */
    int64_t st[2] = {3, 7}, ct[2] = {19, 24}, sp[2] = {3, 4};
    int32_t part[19 * 24];
    CHECK_OK(zarrc_array_read(a, st, ct, sp, part, sizeof part));
    int bad = 0;
    for (int i = 0; i < 19; i++)
        for (int j = 0; j < 24; j++)
            bad += part[i * 24 + j] != model[(3 + i * 3) * 100 + 7 + j * 4];
    CHECK_MSG(bad == 0, "sharded %d: %d strided elements differ", sharded, bad);
    /* Keys: chunk (2, 1) of the plain grid is 30 x 50 int32 raw bytes. */
    if (!sharded) {
        uint64_t size = 0;
        int64_t w[2] = {60, 100};
        int32_t *ones = malloc(sizeof model);
        for (int i = 0; i < 6000; i++)
            ones[i] = i;
        CHECK_OK(zarrc_array_write(a, z, w, NULL, ones, sizeof model));
        free(ones);
        CHECK_OK(zarrc_store_size(&size, s, "r/c/2/1"));
        CHECK_MSG(size == 30 * 50 * 4, "chunk c/2/1 has %llu bytes", (unsigned long long)size);
        CHECK_OK(zarrc_store_size(&size, s, "r/c/0/0"));
        CHECK_MSG(size == 10 * 50 * 4, "chunk c/0/0 has %llu bytes", (unsigned long long)size);
        void *v = NULL;
        size_t n = 0;
        CHECK_OK(zarrc_store_get(&v, &n, s, "r/c/1/1"));
        /* chunk (1, 1): rows 10..29, columns 50..99; its first element is 10 * 100 + 50 */
        CHECK(v && n == 20 * 50 * 4 && ((int32_t *)v)[0] == 1050 && ((int32_t *)v)[51] == 1151);
        zarrc_free(v);
    }
    zarrc_array_free(a);
}

static void test_append_new_chunk(zarrc_store *s)
{
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create_json(&a, s, "ap", doc("[3,4]", "[[3],4]", NULL), ZARRC_OVERWRITE));
    if (!a)
        return;
    int32_t rows[3 * 4];
    for (int i = 0; i < 12; i++)
        rows[i] = i;
    int64_t z[2] = {0, 0}, sh3[2] = {3, 4}, sh1[2] = {1, 4}, sh2[2] = {2, 4}, start = -1;
    CHECK_OK(zarrc_array_write(a, z, sh3, NULL, rows, sizeof rows));
    CHECK_OK(zarrc_array_append_flags(a, 0, sh1, rows, 16, ZARRC_APPEND_NEW_CHUNK, &start));
    CHECK(start == 3 && zarrc_array_shape(a)[0] == 4);
    CHECK_MSG(!strcmp(grid_of(a), "[[3,1],4]"), "after appending 1 row: %s", grid_of(a));
    CHECK_OK(zarrc_array_append_flags(a, 0, sh2, rows, 32, ZARRC_APPEND_NEW_CHUNK, &start));
    CHECK_MSG(!strcmp(grid_of(a), "[[3,1,2],4]"), "after appending 2 rows: %s", grid_of(a));
    /* Plain append past the edges: one new edge of the block's length too. */
    CHECK_OK(zarrc_array_append(a, 0, sh2, rows + 4, 32, &start));
    CHECK_MSG(start == 6 && !strcmp(grid_of(a), "[[3,1,[2,2]],4]"), "after a plain append: %s", grid_of(a));
    int32_t got[8 * 4];
    int64_t all[2] = {8, 4};
    CHECK_OK(zarrc_array_read(a, z, all, NULL, got, sizeof got));
    int32_t want[8 * 4] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7,
                           4, 5, 6, 7, 8, 9, 10, 11};
    CHECK_MSG(!memcmp(got, want, sizeof got), "appended rows differ");
    /* A reopened handle sees the same grid and data. */
    zarrc_array *b = NULL;
    CHECK_OK(zarrc_array_open(&b, s, "ap"));
    int32_t got2[8 * 4];
    if (b)
        CHECK_OK(zarrc_array_read(b, z, all, NULL, got2, sizeof got2));
    CHECK(b && !memcmp(got2, want, sizeof got2));
    zarrc_array_free(b);
    /* Shrink keeps the edges and clears; regrow reads fill; a new chunk cannot start inside one. */
    int64_t small[2] = {5, 4}, big[2] = {8, 4};
    CHECK_OK(zarrc_array_resize(a, small));
    CHECK_MSG(!strcmp(grid_of(a), "[[3,1,[2,2]],4]"), "after shrinking: %s", grid_of(a));
    CHECK_ERR(zarrc_array_append_flags(a, 0, sh1, rows, 16, ZARRC_APPEND_NEW_CHUNK, NULL), ZARRC_EINVAL,
              "cannot start there");
    CHECK_OK(zarrc_array_resize(a, big));
    CHECK_OK(zarrc_array_read(a, z, all, NULL, got, sizeof got));
    int fills = 0;
    for (int i = 5 * 4; i < 8 * 4; i++)
        fills += got[i] == -1;
    CHECK_MSG(fills == 12 && !memcmp(got, want, 5 * 4 * 4), "regrown rows: %d of 12 read fill", fills);
    /* Growth past the edges by resize adds one edge reaching the extent. */
    int64_t bigger[2] = {13, 4};
    CHECK_OK(zarrc_array_resize(a, bigger));
    CHECK_MSG(!strcmp(grid_of(a), "[[3,1,[2,2],5],4]"), "after growing to 13: %s", grid_of(a));
    /* Write into the new edge chunk, read back. */
    int32_t tail[5 * 4];
    for (int i = 0; i < 20; i++)
        tail[i] = 500 + i;
    int64_t at[2] = {8, 0}, sh5[2] = {5, 4};
    CHECK_OK(zarrc_array_write(a, at, sh5, NULL, tail, sizeof tail));
    int32_t back[5 * 4];
    CHECK_OK(zarrc_array_read(a, at, sh5, NULL, back, sizeof back));
    CHECK(!memcmp(back, tail, sizeof tail));
    uint64_t size = 0;
    CHECK_OK(zarrc_store_size(&size, s, "ap/c/4/0"));
    CHECK_MSG(size == 5 * 4 * 4, "the new edge chunk c/4/0 has %llu bytes", (unsigned long long)size);
    /* The flag on a dimension without an edge list. */
    int64_t col[2] = {13, 1};
    int32_t cv[13] = {0};
    CHECK_ERR(zarrc_array_append_flags(a, 1, col, cv, sizeof cv, ZARRC_APPEND_NEW_CHUNK, NULL), ZARRC_EINVAL,
              "needs a rectilinear chunk grid");
    zarrc_array_free(a);
}

static void test_bad(zarrc_store *s)
{
    zarrc_array *a = NULL;
    CHECK_ERR(zarrc_array_create_json(&a, s, "b", doc("[60,100]", "[[10,20],50]", NULL), ZARRC_OVERWRITE),
              ZARRC_EINVAL, "the edges sum to 30, less than the extent 60");
    CHECK_ERR(zarrc_array_create_json(&a, s, "b", doc("[6,6]", "[[0,6],6]", NULL), ZARRC_OVERWRITE), ZARRC_EINVAL,
              "chunk_shapes[0]: an edge must be an integer >= 1");
    CHECK_ERR(zarrc_array_create_json(&a, s, "b", doc("[6,6]", "[[[3,2,1]],6]", NULL), ZARRC_OVERWRITE),
              ZARRC_EINVAL, "a run must be [edge, count]");
    CHECK_ERR(zarrc_array_create_json(&a, s, "b", doc("[6,6]", "[[[3,0]],6]", NULL), ZARRC_OVERWRITE),
              ZARRC_EINVAL, "a run's count must be an integer >= 1");
    CHECK_ERR(zarrc_array_create_json(&a, s, "b", doc("[6,6]", "[[6]]", NULL), ZARRC_OVERWRITE), ZARRC_EINVAL,
              "a list of 2 entries");
    CHECK_ERR(zarrc_array_create_json(&a, s, "b", doc("[6,6]", "[[],6]", NULL), ZARRC_OVERWRITE), ZARRC_EINVAL,
              "empty list");
    CHECK_ERR(zarrc_array_create_json(&a, s, "b", doc("[6,6]", "[[[9223372036854775807,2]],6]", NULL),
                                      ZARRC_OVERWRITE), ZARRC_EINVAL, "sum past 2^63");
    /* A run of 10^15 edges stays a run (no expansion). */
    CHECK_OK(zarrc_array_create_json(&a, s, "b", doc("[6,6]", "[[[1,1000000000000000]],[[2,3]]]", NULL),
                                     ZARRC_OVERWRITE));
    if (a) {
        CHECK_MSG(!strcmp(grid_of(a), "[[[1,1000000000000000]],[[2,3]]]"), "grid %s", grid_of(a));
        int32_t v[36], w[36];
        for (int i = 0; i < 36; i++)
            v[i] = i * 7;
        int64_t z[2] = {0, 0}, sh[2] = {6, 6};
        CHECK_OK(zarrc_array_write(a, z, sh, NULL, v, sizeof v));
        CHECK_OK(zarrc_array_read(a, z, sh, NULL, w, sizeof w));
        CHECK(!memcmp(v, w, sizeof v));
    }
    zarrc_array_free(a);
    /* kind missing / unknown */
    const char *nokind = "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[4],\"data_type\":\"int8\","
                         "\"chunk_grid\":{\"name\":\"rectilinear\",\"configuration\":{\"chunk_shapes\":[[4]]}},"
                         "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
                         "\"codecs\":[{\"name\":\"bytes\"}]}";
    CHECK_ERR(zarrc_array_create_json(&a, s, "b", nokind, ZARRC_OVERWRITE), ZARRC_EUNSUPPORTED,
              "kind must be \"inline\"");
}

int main(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    test_rw(s, false);
    test_rw(s, true);
    test_append_new_chunk(s);
    test_bad(s);
    zarrc_store_free(s);
    return check_report("api.rectilinear");
}
