/* test_user_vlen.c — variable-length user-defined data types (zarrc_plugin.h, struct version 2):
 * registration rules and errors (also version-1 structs and concurrent registration), the
 * unregistered case, round trips (v3 default codecs, partial chunks, strided selections,
 * sharding, v2, copy, a view), fill value hooks, and malformed elements refused on write and
 * read with the element and chunk named. */
#include <pthread.h>
#include <stddef.h>

#include <zarrc.h>
#include <zarrc_plugin.h>

#include "check.h"

/* "test.tagged": an element is a byte string starting with its configuration's tag byte
 * (default 'T'); the fill value is a JSON string (its bytes, which must carry the tag). */
static int tg_parse(void **state, size_t *item_size, const zarrc_json *config)
{
    (void)item_size;
    const char *tag;
    if (zarrc_json_opt_string(config, "tag", "T", &tag) || strlen(tag) != 1)
        return zarrc_error_set(ZARRC_EDTYPE, "'tag' must be one character");
    char *s = malloc(1);
    *s = tag[0];
    *state = s;
    return ZARRC_OK;
}

static int tg_emit(const void *state, zarrc_json *config)
{
    char t[2] = {state ? *(const char *)state : 'T', 0};
    return zarrc_json_put_string(config, "tag", t);
}

static int tg_validate(const void *state, const uint8_t *b, size_t n)
{
    char tag = state ? *(const char *)state : 'T';
    if (n == 0 || b[0] != (uint8_t)tag)
        return zarrc_error_set(ZARRC_EDTYPE, "does not start with the tag '%c'", tag);
    return ZARRC_OK;
}

static int tg_from_json(const void *state, const zarrc_json *v, int format, zarrc_buf *out)
{
    (void)state, (void)format;
    const char *s = zarrc_json_string(v);
    if (!s)
        return zarrc_error_set(ZARRC_EDTYPE, "a tagged value is a JSON string");
    size_t n = strlen(s);
    if (zarrc_buf_reserve(out, n))
        return ZARRC_ENOMEM;
    if (n)
        memcpy(out->data, s, n);
    out->size = n;
    return ZARRC_OK;
}

static int tg_to_json(const void *state, const uint8_t *b, size_t n, int format, zarrc_buf *out)
{
    (void)state, (void)format;
    if (zarrc_buf_reserve(out, out->size + n + 2))
        return ZARRC_ENOMEM;
    out->data[out->size++] = '"';
    if (n)
        memcpy(out->data + out->size, b, n); /* the tests use plain ASCII */
    out->size += n;
    out->data[out->size++] = '"';
    return ZARRC_OK;
}

static const char *const tg_v2[] = {"test.tagged", NULL};

static const zarrc_dtype_type tagged = {
    .version = ZARRC_DTYPE_TYPE_VERSION, .name = "test.tagged", .v2_names = tg_v2,
    .parse_config = tg_parse, .config_to_json = tg_emit, .free_config = free,
    .flags = ZARRC_DTYPE_VARIABLE_LENGTH, .vfill_from_json = tg_from_json, .vfill_to_json = tg_to_json,
    .validate = tg_validate,
};

/* a fixed-size type for the registration rules */
static int fx_from(const void *s, const zarrc_json *v, int f, void *e)
{
    (void)s, (void)v, (void)f;
    memset(e, 0, 4);
    return ZARRC_OK;
}
static int fx_to(const void *s, const void *e, int f, zarrc_buf *out)
{
    (void)s, (void)e, (void)f;
    if (zarrc_buf_reserve(out, 1))
        return ZARRC_ENOMEM;
    out->data[out->size++] = '0';
    return ZARRC_OK;
}

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
    for (char *r = s, *w = s; ; r++) /* squeeze whitespace (no strings with spaces here) */
        if (*r != ' ' && *r != '\n' && !(*w++ = *r))
            break;
    return s;
}

/* element i of the test data: "T" + i copies of 'a' + i % 26 (0..n-1) */
static void make(zarrc_vlen *v, int64_t n, int64_t base)
{
    v->count = n;
    v->offsets = calloc((size_t)n + 1, sizeof *v->offsets);
    size_t total = 0;
    for (int64_t i = 0; i < n; i++)
        total += 1 + (size_t)((base + i) % 7);
    v->data = malloc(total + 1);
    v->size = total;
    size_t pos = 0;
    for (int64_t i = 0; i < n; i++) {
        v->offsets[i] = pos;
        v->data[pos++] = 'T';
        for (int64_t k = 0; k < (base + i) % 7; k++)
            v->data[pos++] = (uint8_t)('a' + (base + i) % 26);
    }
    v->offsets[n] = pos;
}

static void unmake(zarrc_vlen *v)
{
    free(v->offsets);
    free(v->data);
    memset(v, 0, sizeof *v);
}

static int elem_is(const zarrc_vlen *v, int64_t i, const void *bytes, size_t n)
{
    return v->offsets[i + 1] - v->offsets[i] == n && (!n || !memcmp(v->data + v->offsets[i], bytes, n));
}

static int same_elem(const zarrc_vlen *a, int64_t i, const zarrc_vlen *b, int64_t j)
{
    return elem_is(a, i, b->data + b->offsets[j], (size_t)(b->offsets[j + 1] - b->offsets[j]));
}

static void test_registration(void)
{
    zarrc_dtype_type t = tagged;
    t.version = 0;
    CHECK_ERR(zarrc_dtype_register(&t), ZARRC_EINVAL, "version");
    t = tagged;
    t.version = 3;
    CHECK_ERR(zarrc_dtype_register(&t), ZARRC_EINVAL, "version");
    t = tagged;
    t.vfill_to_json = NULL;
    CHECK_ERR(zarrc_dtype_register(&t), ZARRC_EINVAL, "requires vfill_from_json and vfill_to_json");
    t = tagged;
    t.fill_from_json = fx_from;
    CHECK_ERR(zarrc_dtype_register(&t), ZARRC_EINVAL, "not fill_from_json");
    t = tagged;
    t.item_size = 8;
    CHECK_ERR(zarrc_dtype_register(&t), ZARRC_EINVAL, "item_size 0");
    t = tagged;
    t.flags = 0x6;
    CHECK_ERR(zarrc_dtype_register(&t), ZARRC_EINVAL, "unknown flags");
    const char *core[] = {"bytes", "string", "variable_length_bytes", "int32", "float8_e4m3", "r16"};
    for (size_t i = 0; i < sizeof core / sizeof *core; i++) {
        t = tagged;
        t.name = core[i];
        t.v2_names = NULL;
        CHECK_ERR(zarrc_dtype_register(&t), ZARRC_EINVAL, "built in");
    }
    static const char *const bad_v2[] = {"|O", NULL};
    t = tagged;
    t.v2_names = bad_v2;
    CHECK_ERR(zarrc_dtype_register(&t), ZARRC_EINVAL, "spelled like a built-in type");
    t = tagged;
    t.parse_config = NULL; /* parse without emit is fine; emit alone too; parse needs emit */
    t.config_to_json = NULL;
    t.free_config = NULL;
    t.name = "test.noconf";
    t.v2_names = NULL;
    CHECK_OK(zarrc_dtype_register(&t));
    t.parse_config = tg_parse;
    CHECK_ERR(zarrc_dtype_register(&t), ZARRC_EINVAL, "parse_config needs config_to_json");

    /* a fixed-size type: validate and the vfill hooks belong to the variable-length form */
    zarrc_dtype_type f = {.version = ZARRC_DTYPE_TYPE_VERSION, .name = "test.fx4", .item_size = 4,
                          .swap_width = 4, .fill_from_json = fx_from, .fill_to_json = fx_to};
    zarrc_dtype_type g = f;
    g.validate = tg_validate;
    CHECK_ERR(zarrc_dtype_register(&g), ZARRC_EINVAL, "are for variable-length types");
    g = f;
    g.item_size = 0;
    CHECK_ERR(zarrc_dtype_register(&g), ZARRC_EUNSUPPORTED, "ZARRC_DTYPE_VARIABLE_LENGTH");
    CHECK_OK(zarrc_dtype_register(&f));
    CHECK_OK(zarrc_dtype_register(&f)); /* the same struct again: fine */
    /* the same name cannot change form */
    t = tagged;
    t.name = "test.fx4";
    t.v2_names = NULL;
    CHECK_ERR(zarrc_dtype_register(&t), ZARRC_EINVAL, "registered as a fixed-size type");

    /* a version-1 struct (it ends at fill_to_json): registered as fixed size; whatever lies
     * after it is never read (an exactly sized heap block, for the sanitizers) */
    size_t v1 = offsetof(zarrc_dtype_type, flags);
    zarrc_dtype_type *old = malloc(v1);
    zarrc_dtype_type h = f;
    h.version = 1;
    h.name = "test.fx4.v1";
    memcpy(old, &h, v1);
    CHECK_OK(zarrc_dtype_register(old));
    zarrc_dtype_info dt;
    CHECK_OK(zarrc_dtype_parse(&dt, "test.fx4.v1"));
    CHECK(dt.kind == ZARRC_DTYPE_USER && dt.item_size == 4 && zarrc_dtype_elem_size(&dt) == 4);
    /* the library keeps its own copy: the caller's block may go */
    free(old);
    CHECK_OK(zarrc_dtype_parse(&dt, "test.fx4.v1"));

    CHECK_OK(zarrc_dtype_register(&tagged));
    CHECK_OK(zarrc_dtype_parse(&dt, "{\"name\":\"test.tagged\",\"configuration\":{\"tag\":\"Q\"}}"));
    CHECK(dt.kind == ZARRC_DTYPE_USER && dt.item_size == 0 && zarrc_dtype_elem_size(&dt) == sizeof(zarrc_vref));
    char v2[32];
    CHECK_OK(zarrc_dtype_v2_string(v2, sizeof v2, &dt));
    CHECK(!strcmp(v2, "test.tagged"));
    CHECK_ERR(zarrc_dtype_parse(&dt, "{\"name\":\"test.tagged\",\"configuration\":{\"tag\":\"QQ\"}}"), ZARRC_EDTYPE,
              "'tag' must be one character");
    char *j = NULL;
    CHECK_ERR(zarrc_dtype_value_to_json(&j, &dt, "x"), ZARRC_EDTYPE, "no fixed-size elements");
    /* another type may not take its v2 spelling */
    t = tagged;
    t.name = "test.other";
    CHECK_ERR(zarrc_dtype_register(&t), ZARRC_EINVAL, "v2 spelling 'test.tagged' is already registered");
}

/* Concurrent registration (the registry is shared): 8 threads register 16 names each (and
 * re-register the shared test.tagged) while parsing them. */
static void *reg_thread(void *arg)
{
    int id = (int)(intptr_t)arg, bad = 0;
    static zarrc_dtype_type types[8][16];
    static char names[8][16][32];
    for (int k = 0; k < 16; k++) {
        zarrc_dtype_type *t = &types[id][k];
        *t = tagged;
        snprintf(names[id][k], sizeof names[id][k], "test.thr%d.%d", id, k);
        t->name = names[id][k];
        t->v2_names = NULL;
        bad += zarrc_dtype_register(t) != 0;
        bad += zarrc_dtype_register(&tagged) != 0;
        zarrc_dtype_info dt;
        bad += zarrc_dtype_parse(&dt, names[id][k]) != 0 || dt.item_size != 0 || !dt.user;
        char other[32]; /* another thread's name, maybe not registered yet: found or EDTYPE */
        snprintf(other, sizeof other, "test.thr%d.%d", (id + 1) % 8, k);
        bad += zarrc_dtype_parse(&dt, other) == ZARRC_EINVAL;
    }
    return (void *)(intptr_t)bad;
}

static void test_threads(void)
{
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, reg_thread, (void *)(intptr_t)i);
    long bad = 0;
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(th[i], &r);
        bad += (long)(intptr_t)r;
    }
    CHECK_MSG(bad == 0, "%ld failures in concurrent registration", bad);
    zarrc_dtype_info dt;
    int found = 0;
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 16; k++) {
            char n[32];
            snprintf(n, sizeof n, "test.thr%d.%d", i, k);
            found += zarrc_dtype_parse(&dt, n) == 0;
        }
    CHECK(found == 128);
}

static void test_unknown(void)
{
    /* a store written with the type, opened where no type of that name is registered */
    zarrc_store *st = NULL;
    CHECK_OK(zarrc_store_open(&st, "memory://", 0));
    const char *doc = "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[3],\"data_type\":{\"name\":"
                      "\"test.unregistered\",\"configuration\":{\"tag\":\"T\"}},\"chunk_grid\":{\"name\":\"regular\","
                      "\"configuration\":{\"chunk_shape\":[3]}},\"chunk_key_encoding\":{\"name\":\"default\"},"
                      "\"fill_value\":\"Tx\",\"codecs\":[{\"name\":\"vlen-bytes\"}]}";
    CHECK_OK(zarrc_store_set(st, "u/zarr.json", doc, strlen(doc)));
    const char *doc2 = "{\"zarr_format\":2,\"shape\":[3],\"chunks\":[3],\"dtype\":\"test.unregistered\","
                       "\"compressor\":null,\"fill_value\":\"Tx\",\"filters\":[{\"id\":\"vlen-bytes\"}],\"order\":\"C\"}";
    CHECK_OK(zarrc_store_set(st, "u2/.zarray", doc2, strlen(doc2)));
    const char *paths[] = {"u", "u2"};
    for (int k = 0; k < 2; k++) {
        zarrc_array *a = NULL;
        CHECK_OK(zarrc_array_open(&a, st, paths[k]));
        if (!a)
            continue;
        zarrc_vlen v = {0};
        int64_t s0[1] = {0}, c3[1] = {3};
        CHECK(zarrc_array_dtype(a)->kind == ZARRC_DTYPE_USER && !strcmp(zarrc_array_dtype(a)->name, "test.unregistered"));
        CHECK_ERR(zarrc_array_read(a, s0, c3, NULL, &v, sizeof v), ZARRC_EDTYPE,
                  "unknown data type 'test.unregistered' (register it");
        char *j = NULL;
        CHECK_OK(zarrc_array_json(&j, a, ZARRC_JSON_FILL_VALUE));
        CHECK(j && !strcmp(j, "\"Tx\""));
        zarrc_free(j);
        zarrc_array_free(a);
    }
    zarrc_store_free(st);
}

static void test_round_trips(zarrc_store *st)
{
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    int64_t shape[1] = {10}, chunks[1] = {4};
    o.dtype = "test.tagged";
    o.ndim = 1;
    o.shape = shape;
    o.chunks = chunks;
    o.fill_value = "\"Tfill\"";
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, st, "v3", &o));
    char *m = meta_text(st, "v3/zarr.json");
    CHECK_MSG(m && strstr(m, "\"data_type\":{\"name\":\"test.tagged\",\"configuration\":{\"tag\":\"T\"}}") &&
              strstr(m, "\"fill_value\":\"Tfill\"") && strstr(m, "{\"name\":\"vlen-bytes\"}"), "%s", m ? m : "");
    free(m);
    if (a) {
        zarrc_vlen w = {0}, r = {0};
        make(&w, 10, 0);
        int64_t s0[1] = {0}, c10[1] = {10};
        CHECK_OK(zarrc_array_write(a, s0, c10, NULL, &w, sizeof w));
        CHECK_OK(zarrc_array_read(a, s0, c10, NULL, &r, sizeof r));
        int ok = r.count == 10;
        for (int64_t i = 0; ok && i < 10; i++)
            ok = same_elem(&r, i, &w, i);
        CHECK(ok);
        zarrc_vlen_clear(&r);
        /* partial chunk: elements 5..6 (chunk 1 is read, modified, rewritten) */
        zarrc_vlen p = {0};
        make(&p, 2, 100);
        int64_t s5[1] = {5}, c2[1] = {2};
        CHECK_OK(zarrc_array_write(a, s5, c2, NULL, &p, sizeof p));
        CHECK_OK(zarrc_array_read(a, s0, c10, NULL, &r, sizeof r));
        ok = r.count == 10;
        for (int64_t i = 0; ok && i < 10; i++)
            ok = i == 5 || i == 6 ? same_elem(&r, i, &p, i - 5) : same_elem(&r, i, &w, i);
        CHECK(ok);
        zarrc_vlen_clear(&r);
        /* strided read: 1, 4, 7 */
        int64_t s1[1] = {1}, c3[1] = {3}, st3[1] = {3};
        CHECK_OK(zarrc_array_read(a, s1, c3, st3, &r, sizeof r));
        CHECK(r.count == 3 && same_elem(&r, 0, &w, 1) && same_elem(&r, 1, &w, 4) && same_elem(&r, 2, &w, 7));
        zarrc_vlen_clear(&r);
        unmake(&p);

        /* copy into a sharded v3 array and a v2 array, then compare */
        zarrc_array_options o2 = o;
        o2.shape = shape;
        o2.chunks = chunks;
        o2.codecs = "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2],\"codecs\":"
                    "[{\"name\":\"vlen-bytes\"},{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":false}}],"
                    "\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}]}}]";
        zarrc_array *sh = NULL, *v2 = NULL;
        CHECK_OK(zarrc_array_create(&sh, st, "sharded", &o2));
        o2.codecs = NULL;
        o2.format = 2;
        CHECK_OK(zarrc_array_create(&v2, st, "v2", &o2));
        m = meta_text(st, "v2/.zarray");
        CHECK_MSG(m && strstr(m, "\"dtype\":\"test.tagged\"") && strstr(m, "\"filters\":[{\"id\":\"vlen-bytes\"}]") &&
                  strstr(m, "\"fill_value\":\"Tfill\""), "%s", m ? m : "");
        free(m);
        zarrc_copy_stats cs;
        zarrc_array *dsts[2] = {sh, v2};
        unmake(&w); /* compare with what the array holds now */
        CHECK_OK(zarrc_array_read(a, s0, c10, NULL, &w, sizeof w));
        for (int k = 0; k < 2; k++) {
            if (!dsts[k])
                continue;
            CHECK_OK(zarrc_array_copy(dsts[k], a, NULL, &cs));
            CHECK_OK(zarrc_array_read(dsts[k], s0, c10, NULL, &r, sizeof r));
            ok = r.count == 10;
            for (int64_t i = 0; ok && i < 10; i++)
                ok = same_elem(&r, i, &w, i);
            CHECK_MSG(ok, "copy %d", k);
            zarrc_vlen_clear(&r);
        }
        zarrc_vlen_clear(&w);
        zarrc_array_free(sh);
        zarrc_array_free(v2);
        zarrc_array_free(a);
    }
}

static void test_sharded_partial(zarrc_store *st)
{
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    int64_t shape[2] = {6, 6}, chunks[2] = {4, 4};
    o.dtype = "{\"name\":\"test.tagged\",\"configuration\":{\"tag\":\"Q\"}}";
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    o.fill_value = "\"Q\"";
    o.codecs = "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2,2],\"codecs\":"
               "[{\"name\":\"vlen-bytes\"}],\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":"
               "\"little\"}}]}}]";
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, st, "sh2", &o));
    if (!a)
        return;
    /* a 3x3 box across shard and inner-chunk boundaries */
    zarrc_vlen w = {0}, r = {0};
    w.count = 9;
    w.offsets = calloc(10, sizeof *w.offsets);
    w.data = malloc(9 * 4);
    for (int i = 0; i < 9; i++) {
        w.offsets[i] = (uint64_t)i * 3;
        w.data[3 * i] = 'Q';
        w.data[3 * i + 1] = (uint8_t)('0' + i);
        w.data[3 * i + 2] = (uint8_t)('a' + i);
    }
    w.offsets[9] = 27;
    w.size = 27;
    int64_t s[2] = {2, 3}, c[2] = {3, 3}, s0[2] = {0, 0}, all[2] = {6, 6};
    CHECK_OK(zarrc_array_write(a, s, c, NULL, &w, sizeof w));
    CHECK_OK(zarrc_array_read(a, s0, all, NULL, &r, sizeof r));
    int ok = r.count == 36;
    for (int y = 0; ok && y < 6; y++)
        for (int x = 0; ok && x < 6; x++) {
            int64_t i = y * 6 + x;
            if (y >= 2 && y < 5 && x >= 3 && x < 6)
                ok = same_elem(&r, i, &w, (y - 2) * 3 + (x - 3));
            else
                ok = elem_is(&r, i, "Q", 1);
        }
    CHECK(ok);
    zarrc_vlen_clear(&r);
    /* a malformed element in a shard: refused, naming the inner chunk; the shard keeps its data */
    w.data[3 * 4] = 'X';
    CHECK_ERR(zarrc_array_write(a, s, c, NULL, &w, sizeof w), ZARRC_EDTYPE, "is not a valid 'test.tagged'");
    CHECK_MSG(strstr(zarrc_error_last(), "does not start with the tag 'Q'") != NULL &&
              strstr(zarrc_error_last(), "shard 'sh2/c/0/1': inner chunk (1, 0): element 2 (3 bytes)") != NULL,
              "%s", zarrc_error_last());
    CHECK_OK(zarrc_array_read(a, s, c, NULL, &r, sizeof r));
    CHECK(r.count == 9 && elem_is(&r, 4, "Q4e", 3));
    zarrc_vlen_clear(&r);
    unmake(&w);
    zarrc_array_free(a);
}

static void test_fill(zarrc_store *st)
{
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    int64_t shape[1] = {4};
    o.dtype = "test.tagged";
    o.ndim = 1;
    o.shape = shape;
    zarrc_array *a = NULL;
    zarrc_node_kind kind;
    int fmt;
    const char *bad[] = {"12", "\"nope\"", "[\"T\"]"};
    const char *why[] = {"a tagged value is a JSON string", "does not start with the tag 'T'",
                         "a tagged value is a JSON string"};
    for (int f = 2; f <= 3; f++)
        for (int i = 0; i < 3; i++) {
            o.format = f;
            o.fill_value = bad[i];
            CHECK_ERR(zarrc_array_create(&a, st, "badfill", &o), ZARRC_EDTYPE, "cannot be encoded as 'test.tagged'");
            CHECK_MSG(strstr(zarrc_error_last(), why[i]) != NULL, "%s", zarrc_error_last());
            CHECK(zarrc_node_probe(&kind, &fmt, st, "badfill") == ZARRC_ENOTFOUND);
        }
    /* null: the empty element (not a valid tagged value, but the type's default; elements
     * equal to the fill are not validated, so partial chunks can be written) */
    o.format = 3;
    o.fill_value = NULL;
    CHECK_OK(zarrc_array_create(&a, st, "nullfill", &o));
    if (a) {
        char *j = NULL;
        CHECK_OK(zarrc_array_json(&j, a, ZARRC_JSON_FILL_VALUE));
        CHECK_MSG(j && !strcmp(j, "\"\""), "%s", j ? j : "");
        zarrc_free(j);
        uint64_t off[2] = {0, 2};
        zarrc_vlen one = {1, off, (uint8_t *)"Tz", 2}, r = {0};
        int64_t s1[1] = {1}, c1[1] = {1}, s0[1] = {0}, c4[1] = {4};
        CHECK_OK(zarrc_array_write(a, s1, c1, NULL, &one, sizeof one));
        CHECK_OK(zarrc_array_read(a, s0, c4, NULL, &r, sizeof r));
        CHECK(r.count == 4 && elem_is(&r, 0, "", 0) && elem_is(&r, 1, "Tz", 2) && elem_is(&r, 3, "", 0));
        zarrc_vlen_clear(&r);
        zarrc_array_free(a);
    }
    /* v2 round trip of the fill through the hooks */
    o.format = 2;
    o.fill_value = "\"Tv2\"";
    CHECK_OK(zarrc_array_create(&a, st, "fill2", &o));
    zarrc_array_free(a);
    a = NULL;
    CHECK_OK(zarrc_array_open(&a, st, "fill2"));
    if (a) {
        char *j = NULL;
        CHECK_OK(zarrc_array_json(&j, a, ZARRC_JSON_FILL_VALUE));
        CHECK(j && !strcmp(j, "\"Tv2\""));
        zarrc_free(j);
        zarrc_vlen r = {0};
        int64_t s0[1] = {0}, c4[1] = {4};
        CHECK_OK(zarrc_array_read(a, s0, c4, NULL, &r, sizeof r));
        CHECK(r.count == 4 && elem_is(&r, 2, "Tv2", 3));
        zarrc_vlen_clear(&r);
        zarrc_array_free(a);
    }
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void test_bad_elements(zarrc_store *st)
{
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    int64_t shape[1] = {8}, chunks[1] = {4};
    o.dtype = "test.tagged";
    o.ndim = 1;
    o.shape = shape;
    o.chunks = chunks;
    o.fill_value = "\"T\"";
    o.codecs = "[\"vlen-bytes\"]";
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, st, "bad", &o));
    if (!a)
        return;
    zarrc_vlen w = {0}, r = {0};
    make(&w, 8, 0);
    int64_t s0[1] = {0}, c8[1] = {8};
    CHECK_OK(zarrc_array_write(a, s0, c8, NULL, &w, sizeof w));
    /* write: element 6 (chunk 1, index 2 in it) lacks the tag */
    w.data[w.offsets[6]] = 'x';
    CHECK_ERR(zarrc_array_write(a, s0, c8, NULL, &w, sizeof w), ZARRC_EDTYPE,
              "chunk 'bad/c/1': element 2 (");
    CHECK_MSG(strstr(zarrc_error_last(), "is not a valid 'test.tagged': does not start with the tag 'T'") != NULL,
              "%s", zarrc_error_last());
    w.data[w.offsets[6]] = 'T';
    CHECK_OK(zarrc_array_read(a, s0, c8, NULL, &r, sizeof r)); /* chunk 1 was not replaced */
    CHECK(r.count == 8 && same_elem(&r, 6, &w, 6));
    zarrc_vlen_clear(&r);
    /* an empty element is malformed too (the fill here is "T") */
    uint64_t off[2] = {0, 0};
    zarrc_vlen empty = {1, off, (uint8_t *)"", 0};
    int64_t s3[1] = {3}, c1[1] = {1};
    CHECK_ERR(zarrc_array_write(a, s3, c1, NULL, &empty, sizeof empty), ZARRC_EDTYPE, "chunk 'bad/c/0': element 3 (0 bytes)");
    /* read: a stored chunk (vlen-bytes layout) whose element 1 is malformed */
    uint8_t chunk[4 + 4 * (4 + 2)];
    put_le32(chunk, 4);
    for (int i = 0; i < 4; i++) {
        uint8_t *e = chunk + 4 + 6 * i;
        put_le32(e, 2);
        e[4] = i == 1 ? 'Z' : 'T';
        e[5] = (uint8_t)('0' + i);
    }
    CHECK_OK(zarrc_store_set(st, "bad/c/1", chunk, sizeof chunk));
    CHECK_ERR(zarrc_array_read(a, s0, c8, NULL, &r, sizeof r), ZARRC_EDTYPE, "chunk 'bad/c/1': element 1 (2 bytes)");
    int64_t s4[1] = {4}, s0b[1] = {0}, c4[1] = {4};
    CHECK_ERR(zarrc_array_read(a, s4, c1, NULL, &r, sizeof r), ZARRC_EDTYPE, "is not a valid 'test.tagged'");
    CHECK_OK(zarrc_array_read(a, s0b, c4, NULL, &r, sizeof r)); /* chunk 0 is fine */
    CHECK(r.count == 4 && same_elem(&r, 3, &w, 3));
    zarrc_vlen_clear(&r);
    unmake(&w);
    zarrc_array_free(a);
}

static void test_view(zarrc_store *st)
{
    /* a view stacking the v3 array twice (elements are vrefs through the view layer too) */
    const char *spec = "{\"concatenate\":{\"axis\":0,\"arrays\":[\"v3\",\"v3\"]}}";
    zarrc_array *v = NULL, *a = NULL;
    CHECK_OK(zarrc_view_open(&v, spec, st, "", 0));
    CHECK_OK(zarrc_array_open(&a, st, "v3"));
    if (v && a) {
        zarrc_vlen r = {0}, w = {0};
        int64_t s0[1] = {0}, c10[1] = {10}, s8[1] = {8}, c4[1] = {4};
        CHECK(zarrc_array_shape(v)[0] == 20);
        CHECK_OK(zarrc_array_read(a, s0, c10, NULL, &w, sizeof w));
        CHECK_OK(zarrc_array_read(v, s8, c4, NULL, &r, sizeof r));
        CHECK(r.count == 4 && same_elem(&r, 0, &w, 8) && same_elem(&r, 1, &w, 9) && same_elem(&r, 2, &w, 0) &&
              same_elem(&r, 3, &w, 1));
        zarrc_vlen_clear(&r);
        zarrc_vlen_clear(&w);
    }
    zarrc_array_free(v);
    zarrc_array_free(a);
}

int main(void)
{
    test_unknown();
    test_registration();
    test_threads();
    zarrc_store *st = NULL;
    CHECK_OK(zarrc_store_open(&st, "memory://", 0));
    if (st) {
        test_round_trips(st);
        test_sharded_partial(st);
        test_fill(st);
        test_bad_elements(st);
        test_view(st);
        zarrc_store_free(st);
    }
    return check_report("test_user_vlen");
}
