/* API tests: create, write, read back through the public header, for both formats. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "zarrc.h"

static zarrc_store *memstore(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    return s;
}

/* A new array (replacing any at `path`); NULL after a failed (and reported) create. */
static zarrc_array *create(zarrc_store *s, const char *path, const char *dtype, int nd, int64_t *shape,
                           int64_t *chunks, const char *codecs, const char *fill)
{
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = dtype;
    o.ndim = nd;
    o.shape = shape;
    o.chunks = chunks;
    o.codecs = codecs;
    o.fill_value = fill;
    o.flags = ZARRC_OVERWRITE;
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, s, path, &o));
    return a;
}

/* 2-D int32 round trip with ragged edges, strided reads, partial writes, in both formats. */
static void test_roundtrip(int format, const char *codecs, char order)
{
    zarrc_store *s = memstore();
    int64_t shape[2] = {7, 5}, chunks[2] = {3, 2};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.format = format;
    o.dtype = "int32";
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    o.fill_value = "-1";
    o.codecs = codecs;
    o.order = order;
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, s, "g/arr", &o));
    if (!a)
        goto out;
    int32_t all[35], got[35];
    for (int i = 0; i < 35; i++)
        all[i] = i * 3 - 7;
    int64_t z[2] = {0, 0};
    /* Missing chunks read as the fill value. */
    CHECK_OK(zarrc_array_read(a, z, shape, NULL, got, sizeof got));
    CHECK(got[0] == -1 && got[34] == -1);
    CHECK_OK(zarrc_array_write(a, z, shape, NULL, all, sizeof all));
    memset(got, 0, sizeof got);
    CHECK_OK(zarrc_array_read(a, z, shape, NULL, got, sizeof got));
    CHECK(memcmp(all, got, sizeof all) == 0);
    /* Strided read: rows 1,3,5 and columns 0,2,4. */
    int64_t st[2] = {1, 0}, cnt[2] = {3, 3}, step[2] = {2, 2};
    int32_t sub[9];
    CHECK_OK(zarrc_array_read(a, st, cnt, step, sub, sizeof sub));
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            CHECK(sub[i * 3 + j] == all[(1 + 2 * i) * 5 + 2 * j]);
    /* Partial write through a strided selection, then reopen and verify everything. */
    int32_t upd[9] = {100, 101, 102, 103, 104, 105, 106, 107, 108};
    CHECK_OK(zarrc_array_write(a, st, cnt, step, upd, sizeof upd));
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            all[(1 + 2 * i) * 5 + 2 * j] = upd[i * 3 + j];
    zarrc_array_free(a);
    a = NULL;
    CHECK_OK(zarrc_array_open(&a, s, "g/arr"));
    if (!a)
        goto out;
    CHECK(zarrc_array_format(a) == format);
    CHECK_OK(zarrc_array_read(a, z, shape, NULL, got, sizeof got));
    CHECK(memcmp(all, got, sizeof all) == 0);
    /* Writing the fill value everywhere erases the chunks. */
    int32_t fills[35];
    for (int i = 0; i < 35; i++)
        fills[i] = -1;
    CHECK_OK(zarrc_array_write(a, z, shape, NULL, fills, sizeof fills));
    void *data = NULL;
    size_t size;
    CHECK(zarrc_store_get(&data, &size, s, format == 3 ? "g/arr/c/0/0" : "g/arr/0.0") == ZARRC_ENOTFOUND);
    /* Errors: out of bounds, wrong size. */
    int64_t bad[2] = {7, 0}, one[2] = {1, 1};
    CHECK_ERR(zarrc_array_read(a, bad, one, NULL, got, 4), ZARRC_EBOUNDS, "dimension 0");
    CHECK_ERR(zarrc_array_read(a, z, one, NULL, got, 8), ZARRC_EINVAL, "needs 4");
out:
    zarrc_array_free(a);
    zarrc_store_free(s);
}

static void test_strings(int format)
{
    zarrc_store *s = memstore();
    int64_t shape[1] = {5}, chunks[1] = {2};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.format = format;
    o.dtype = "string";
    o.ndim = 1;
    o.shape = shape;
    o.chunks = chunks;
    o.fill_value = "\"-\"";
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, s, "", &o));
    if (!a)
        goto out;
    const char *txt = "fooh\xc3\xa9llo" "bar";
    uint64_t offs[4] = {0, 3, 9, 12};
    zarrc_vlen in = {3, offs, (uint8_t *)txt, 12}, got = {0};
    int64_t st[1] = {1}, cnt[1] = {3}, z[1] = {0};
    CHECK_OK(zarrc_array_write(a, st, cnt, NULL, &in, sizeof in));
    CHECK_OK(zarrc_array_read(a, z, shape, NULL, &got, sizeof got));
    CHECK(got.count == 5);
    if (got.count == 5) {
        CHECK(got.offsets[1] - got.offsets[0] == 1 && got.data[0] == '-');
        CHECK(got.offsets[2] - got.offsets[1] == 3 && !memcmp(got.data + got.offsets[1], "foo", 3));
        CHECK(got.offsets[3] - got.offsets[2] == 6 && !memcmp(got.data + got.offsets[2], "h\xc3\xa9llo", 6));
        CHECK(got.offsets[5] - got.offsets[4] == 1);
    }
    zarrc_vlen_clear(&got);
out:
    zarrc_array_free(a);
    zarrc_store_free(s);
}

static void test_errors(void)
{
    zarrc_store *s = memstore();
    int64_t shape[1] = {4};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "uint8";
    o.ndim = 1;
    o.shape = shape;
    o.fill_value = "300";
    zarrc_array *a = NULL;
    CHECK_ERR(zarrc_array_create(&a, s, "x", &o), ZARRC_EDTYPE, "fill_value 300");
    /* Nothing was written. */
    zarrc_node_kind k;
    int f;
    CHECK(zarrc_node_probe(&k, &f, s, "x") == ZARRC_ENOTFOUND);
    CHECK(zarrc_node_probe(&k, &f, s, "") == ZARRC_ENOTFOUND);
    o.fill_value = NULL;
    o.dtype = "float33";
    CHECK_ERR(zarrc_array_create(&a, s, "x", &o), ZARRC_EDTYPE, "unknown data type 'float33'");
    o.dtype = "float32";
    o.format = 2;
    o.codecs = "[{\"name\":\"transpose\",\"configuration\":{\"order\":[0]}},\"bytes\"]";
    CHECK_OK(zarrc_array_create(&a, s, "x", &o));
    zarrc_array_free(a);
    a = NULL;
    CHECK_ERR(zarrc_array_create(&a, s, "x", &o), ZARRC_EEXISTS, "already exists");
    o.codecs = "[{\"name\":\"nonesuch\"}]";
    o.flags = ZARRC_OVERWRITE;
    CHECK_ERR(zarrc_array_create(&a, s, "y", &o), ZARRC_EUNSUPPORTED, "unknown codec 'nonesuch'");
    /* A node under an array is refused. */
    o.codecs = NULL;
    CHECK_ERR(zarrc_array_create(&a, s, "x/z", &o), ZARRC_ECONFLICT, "under array 'x'");
    /* An unknown codec in stored metadata: open works, reading names the codec. */
    const char *doc = "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[2],\"data_type\":\"int8\","
                      "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2]}},"
                      "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
                      "\"codecs\":[\"bytes\",{\"name\":\"mystery\"}]}";
    CHECK_OK(zarrc_store_set(s, "u/zarr.json", doc, strlen(doc)));
    CHECK_OK(zarrc_array_open(&a, s, "u"));
    if (a) {
        int8_t buf[2];
        int64_t z[1] = {0}, n[1] = {2};
        CHECK_ERR(zarrc_array_read(a, z, n, NULL, buf, 2), ZARRC_EUNSUPPORTED, "mystery");
        zarrc_array_free(a);
    }
    zarrc_store_free(s);
}

/* Uncompressed chunks are read into and written from the caller's buffer directly: check
 * values, and that wrong-sized stored chunks are errors naming the chunk. */
static void test_passthrough(void)
{
    test_roundtrip(3, "[\"bytes\"]", 'C');
    test_roundtrip(2, "[]", 'C');
    zarrc_store *s = memstore();
    int64_t shape[2] = {4, 6}, chunks[2] = {2, 6};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "uint16";
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    o.codecs = "[\"bytes\"]";
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, s, "p", &o));
    if (!a)
        return;
    uint16_t v[24], got[24];
    for (int i = 0; i < 24; i++)
        v[i] = (uint16_t)(i + 1);
    int64_t z[2] = {0, 0};
    CHECK_OK(zarrc_array_write(a, z, shape, NULL, v, sizeof v));
    void *d = NULL;
    size_t n = 0;
    CHECK_OK(zarrc_store_get(&d, &n, s, "p/c/1/0"));
    CHECK(n == 24 && !memcmp(d, v + 12, 24));
    CHECK_OK(zarrc_store_set(s, "p/c/1/0", d, 20)); /* truncated */
    CHECK_ERR(zarrc_array_read(a, z, shape, NULL, got, sizeof got), ZARRC_ECORRUPT, "chunk 'p/c/1/0'");
    uint8_t big[40] = {0};
    CHECK_OK(zarrc_store_set(s, "p/c/1/0", big, sizeof big)); /* too long */
    CHECK_ERR(zarrc_array_read(a, z, shape, NULL, got, sizeof got), ZARRC_ECORRUPT, "chunk 'p/c/1/0'");
    zarrc_free(d);
    zarrc_array_free(a);
    /* zarrita writes "codecs": [] for plain bytes: read leniently. */
    const char *empty = "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[3],\"data_type\":\"uint16\","
                        "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[3]}},"
                        "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,\"codecs\":[]}";
    CHECK_OK(zarrc_store_set(s, "e/zarr.json", empty, strlen(empty)));
    CHECK_OK(zarrc_store_set(s, "e/c/0", "\x01\x00\x02\x00\x03\x01", 6));
    CHECK_OK(zarrc_array_open(&a, s, "e"));
    if (a) {
        uint16_t v[3];
        int64_t z[1] = {0}, n[1] = {3};
        CHECK_OK(zarrc_array_read(a, z, n, NULL, v, sizeof v));
        CHECK(v[0] == 1 && v[1] == 2 && v[2] == 259);
        zarrc_array_free(a);
    }
    zarrc_store_free(s);
}

/* Whole uncompressed chunks that are not one contiguous run of the caller's box are stored
 * from its runs (of >= 4096 bytes, no gather): 2-D runs of one row and 3-D runs spanning
 * two rows, from a box that starts inside the array, on the memory store (pieces joined) and
 * the filesystem (pwritev); the stored bytes are each chunk's exact C-order bytes, and a chunk
 * that becomes all fill is erased, not stored. */
#define W2 4200 /* runs of 2100 uint16: 4200 bytes */
static void test_passthrough_runs(const char *url)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, url, 0));
    if (!s)
        return;
    /* 2-D: uint16 [9, W2], chunks [3, W2 / 2]; the box is rows 3..8 (two chunk rows). */
    int64_t shape[2] = {9, W2}, chunks[2] = {3, W2 / 2};
    zarrc_array *a = create(s, "runs2", "uint16", 2, shape, chunks, "[\"bytes\"]", NULL);
    static uint16_t box[6 * W2], got[6 * W2];
    for (int pass = 0; a && pass < 2; pass++) {
        for (int i = 0; i < 6 * W2; i++) /* pass 1: chunk (2, 1) all fill: erased */
            box[i] = pass && i / W2 >= 3 && i % W2 >= W2 / 2 ? 0 : (uint16_t)(i * 7 + pass + 1);
        int64_t at[2] = {3, 0}, cnt[2] = {6, W2};
        CHECK_OK(zarrc_array_write(a, at, cnt, NULL, box, sizeof box));
        CHECK_OK(zarrc_array_read(a, at, cnt, NULL, got, sizeof got));
        CHECK_MSG(!memcmp(box, got, sizeof box), "%s: 2-D runs read back differ (pass %d)", url, pass);
        void *d = NULL;
        size_t n = 0;
        CHECK_OK(zarrc_store_get(&d, &n, s, "runs2/c/1/1"));
        bool exact = n == 3 * W2;
        for (int r = 0; exact && r < 3; r++)
            exact = !memcmp((uint8_t *)d + r * W2, box + r * W2 + W2 / 2, W2);
        CHECK_MSG(exact, "%s: chunk runs2/c/1/1 is not its C-order bytes (%zu bytes)", url, n);
        zarrc_free(d);
        d = NULL;
        int rc = zarrc_store_get(&d, &n, s, "runs2/c/2/1");
        CHECK_MSG(pass ? rc == ZARRC_ENOTFOUND : rc == ZARRC_OK, "%s: pass %d: all-fill chunk c/2/1: %d", url, pass,
                  rc);
        zarrc_free(d);
    }
    zarrc_array_free(a);
    /* 3-D: uint8 [4, 4, 2500], chunks [2, 2, 2500]: every run is two rows of 2500 bytes. */
    int64_t shape3[3] = {4, 4, 2500}, chunks3[3] = {2, 2, 2500};
    a = create(s, "runs3", "uint8", 3, shape3, chunks3, "[\"bytes\"]", NULL);
    static uint8_t b3[4 * 4 * 2500], g3[4 * 4 * 2500];
    for (int i = 0; i < 4 * 4 * 2500; i++)
        b3[i] = (uint8_t)(i * 13 + 1);
    int64_t z3[3] = {0, 0, 0};
    if (a) {
        CHECK_OK(zarrc_array_write(a, z3, shape3, NULL, b3, sizeof b3));
        CHECK_OK(zarrc_array_read(a, z3, shape3, NULL, g3, sizeof g3));
        CHECK_MSG(!memcmp(b3, g3, sizeof b3), "%s: 3-D runs read back differ", url);
    }
    zarrc_array_free(a);
    zarrc_store_free(s);
}

/* Uncompressed chunks that are not contiguous in the caller's box (chunks narrower than the
 * array) are copied into place from the stored bytes: values of whole and partial reads, a
 * wrong-sized stored chunk is an error naming it, and a write of edge chunks pads them with
 * the fill value. */
static void test_passthrough_strided(void)
{
    zarrc_store *s = memstore();
    int64_t shape[2] = {3, 5}, chunks[2] = {2, 3};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "uint16";
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    o.fill_value = "7";
    o.codecs = "[\"bytes\"]";
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, s, "q", &o));
    if (!a)
        return;
    uint16_t v[15], got[15];
    for (int i = 0; i < 15; i++)
        v[i] = (uint16_t)(100 + i);
    int64_t z[2] = {0, 0};
    CHECK_OK(zarrc_array_write(a, z, shape, NULL, v, sizeof v));
    memset(got, 0, sizeof got);
    CHECK_OK(zarrc_array_read(a, z, shape, NULL, got, sizeof got));
    CHECK(!memcmp(got, v, sizeof v));
    int64_t st[2] = {1, 1}, cn[2] = {2, 3};
    uint16_t part[6];
    CHECK_OK(zarrc_array_read(a, st, cn, NULL, part, sizeof part));
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 3; k++)
            CHECK(part[i * 3 + k] == v[(1 + i) * 5 + 1 + k]);
    void *d = NULL;
    size_t n = 0;
    /* the edge chunk (1,1) holds row 2, columns 3-4, padded with the fill value */
    CHECK_OK(zarrc_store_get(&d, &n, s, "q/c/1/1"));
    uint16_t want[6] = {113, 114, 7, 7, 7, 7};
    CHECK(n == 12 && d && !memcmp(d, want, 12));
    zarrc_free(d);
    CHECK_OK(zarrc_store_get(&d, &n, s, "q/c/0/0"));
    CHECK_OK(zarrc_store_set(s, "q/c/0/0", d, n - 2)); /* truncated */
    CHECK_ERR(zarrc_array_read(a, z, shape, NULL, got, sizeof got), ZARRC_ECORRUPT, "chunk 'q/c/0/0'");
    CHECK_ERR(zarrc_array_read(a, st, cn, NULL, part, sizeof part), ZARRC_ECORRUPT, "chunk 'q/c/0/0'");
    uint8_t big[64] = {0};
    CHECK_OK(zarrc_store_set(s, "q/c/0/0", big, sizeof big)); /* too long */
    CHECK_ERR(zarrc_array_read(a, z, shape, NULL, got, sizeof got), ZARRC_ECORRUPT, "expected 12 bytes");
    zarrc_free(d);
    zarrc_array_free(a);
    zarrc_store_free(s);
}

/* Whole uncompressed chunks larger than a read piece (1 MiB) that are not contiguous in the
 * caller's box are read and placed piece by piece (the filesystem store's get_pieces; the
 * memory store, which has none, reads them whole): values into an aligned and a misaligned output, a
 * missing chunk reads as fill, and a truncated or overlong chunk is an error naming it. */
static void test_passthrough_pieces(const char *url)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, url, 0));
    int64_t shape[2] = {1100, 2048}, chunks[2] = {600, 1024}, z[2] = {0, 0}; /* chunks of 1.2 MB */
    zarrc_array *a = s ? create(s, "pieces", "uint16", 2, shape, chunks, "[\"bytes\"]", "9") : NULL;
    size_t n = 1100 * 2048, bytes = n * 2;
    uint16_t *v = malloc(bytes);
    uint8_t *raw = malloc(bytes + 2);
    CHECK(v && raw && a);
    if (!v || !raw || !a)
        goto out;
    for (size_t i = 0; i < n; i++)
        v[i] = (uint16_t)(i * 40503u + 1);
    CHECK_OK(zarrc_array_write(a, z, shape, NULL, v, bytes));
    for (int pass = 0; pass < 2; pass++) {
        uint16_t *out = (uint16_t *)(raw + (pass ? 2 : 0)); /* pass 1: off the buffer's alignment */
        memset(raw, 0xA5, bytes + 2);
        CHECK_OK(zarrc_array_read(a, z, shape, NULL, out, bytes));
        CHECK_MSG(!memcmp(out, v, bytes), "%s: pieces: whole read differs (pass %d)", url, pass);
    }
    uint16_t *out = (uint16_t *)raw;
    CHECK_OK(zarrc_store_erase(s, "pieces/c/0/1"));
    CHECK_OK(zarrc_array_read(a, z, shape, NULL, out, bytes));
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += out[i] != (i / 2048 < 600 && i % 2048 >= 1024 ? 9 : v[i]);
    CHECK_MSG(bad == 0, "%s: pieces: %zu wrong values with chunk c/0/1 missing", url, bad);
    void *d = NULL;
    size_t dn = 0;
    CHECK_OK(zarrc_store_get(&d, &dn, s, "pieces/c/0/0"));
    CHECK(dn == 600 * 1024 * 2);
    if (d) {
        CHECK_OK(zarrc_store_set(s, "pieces/c/0/0", d, dn - 2)); /* truncated */
        CHECK_ERR(zarrc_array_read(a, z, shape, NULL, out, bytes), ZARRC_ECORRUPT, "chunk 'pieces/c/0/0'");
        uint8_t *longer = calloc(1, dn + 4096);
        if (longer) {
            CHECK_OK(zarrc_store_set(s, "pieces/c/0/0", longer, dn + 4096)); /* too long */
            CHECK_ERR(zarrc_array_read(a, z, shape, NULL, out, bytes), ZARRC_ECORRUPT, "expected 1228800 bytes");
        }
        free(longer);
    }
    zarrc_free(d);
out:
    free(v);
    free(raw);
    zarrc_array_free(a);
    zarrc_store_free(s);
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr32(uint8_t *p, uint32_t v) { p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24; }

/* Blosc chunks not contiguous in the destination are decoded block by block into place:
 * values with many blocks (blocksize 128), blocks stored out of order (decoded whole), and a
 * chunk whose last block is cut short is an error naming it. */
static void test_blosc_blocks(void)
{
    zarrc_store *s = memstore();
    int64_t shape[2] = {40, 300}, chunks[2] = {32, 200};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "uint16";
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    o.codecs = "[\"bytes\",{\"name\":\"blosc\",\"configuration\":{\"cname\":\"blosclz\",\"clevel\":9,"
               "\"shuffle\":\"bitshuffle\",\"typesize\":2,\"blocksize\":128}}]";
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, s, "b", &o));
    if (!a)
        return;
    static uint16_t v[40 * 300], got[40 * 300];
    for (int i = 0; i < 40 * 300; i++)
        v[i] = (uint16_t)(i * 7 + i / 300);
    int64_t z[2] = {0, 0};
    CHECK_OK(zarrc_array_write(a, z, shape, NULL, v, sizeof v));
    CHECK_OK(zarrc_array_read(a, z, shape, NULL, got, sizeof got));
    CHECK(!memcmp(got, v, sizeof v));
    void *d = NULL;
    size_t n = 0;
    CHECK_OK(zarrc_store_get(&d, &n, s, "b/c/0/0"));
    uint8_t *c = d;
    size_t nbytes = c ? rd32(c + 4) : 0, bs = c ? rd32(c + 8) : 1, cb = c ? rd32(c + 12) : 0;
    size_t nblocks = nbytes / bs + (nbytes % bs != 0);
    CHECK(c && !(c[2] & 0x2) && nblocks > 2 && cb == n);
    if (c && nblocks > 2 && cb == n) {
        /* the same blocks stored in reverse order */
        uint8_t *r = malloc(n);
        size_t table = 16 + 4 * nblocks, at = table;
        memcpy(r, c, table);
        for (size_t k = nblocks; k-- > 0;) {
            size_t b0 = rd32(c + 16 + 4 * k), b1 = k + 1 < nblocks ? rd32(c + 16 + 4 * (k + 1)) : cb;
            memcpy(r + at, c + b0, b1 - b0);
            wr32(r + 16 + 4 * k, (uint32_t)at);
            at += b1 - b0;
        }
        CHECK(at == n);
        CHECK_OK(zarrc_store_set(s, "b/c/0/0", r, n));
        memset(got, 0, sizeof got);
        CHECK_OK(zarrc_array_read(a, z, shape, NULL, got, sizeof got));
        CHECK(!memcmp(got, v, sizeof v));
        /* the last block cut short */
        memcpy(r, c, n);
        wr32(r + 12, (uint32_t)(n - 3));
        CHECK_OK(zarrc_store_set(s, "b/c/0/0", r, n - 3));
        CHECK_ERR(zarrc_array_read(a, z, shape, NULL, got, sizeof got), ZARRC_ECORRUPT, "chunk 'b/c/0/0'");
        free(r);
    }
    zarrc_free(d);
    zarrc_array_free(a);
    zarrc_store_free(s);
}

/* A read of one large blosc chunk decodes its blocks in parallel on the pool: values for
 * byte- and bit-shuffled chunks of 8 or more blocks, and a block whose stream size is impossible is
 * an error naming the chunk (the failing pool task's message reaches the caller). */
static void test_blosc_parallel_blocks(void)
{
    static const char *const codecs[] = {
        "[\"bytes\",{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\",\"clevel\":5,"
        "\"shuffle\":\"shuffle\",\"typesize\":2,\"blocksize\":65536}}]",
        "[\"bytes\",{\"name\":\"blosc\",\"configuration\":{\"cname\":\"zstd\",\"clevel\":3,"
        "\"shuffle\":\"bitshuffle\",\"typesize\":2,\"blocksize\":65536}}]",
    };
    enum { N = 1 << 20 };
    uint16_t *v = malloc(N * sizeof *v), *got = malloc(N * sizeof *got);
    for (int i = 0; i < N; i++)
        v[i] = (uint16_t)(i / 3 + (i % 1000 == 0 ? i * 7 : 0));
    for (int ci = 0; ci < 2; ci++) {
        zarrc_store *s = memstore();
        int64_t shape[1] = {N}, z[1] = {0};
        zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
        o.dtype = "uint16";
        o.ndim = 1;
        o.shape = shape;
        o.chunks = shape;
        o.codecs = codecs[ci];
        zarrc_array *a = NULL;
        CHECK_OK(zarrc_array_create(&a, s, "p", &o));
        if (!a)
            continue;
        CHECK_OK(zarrc_array_write(a, z, shape, NULL, v, (size_t)N * 2));
        memset(got, 0, (size_t)N * 2);
        CHECK_OK(zarrc_array_read(a, z, shape, NULL, got, (size_t)N * 2));
        CHECK(!memcmp(got, v, (size_t)N * 2));
        void *d = NULL;
        size_t n = 0;
        CHECK_OK(zarrc_store_get(&d, &n, s, "p/c/0"));
        uint8_t *c = d;
        size_t nbytes = c ? rd32(c + 4) : 0, bs = c ? rd32(c + 8) : 1;
        CHECK_MSG(c && nbytes == (size_t)N * 2 && nbytes / bs >= 8 && !(c[2] & 0x2), "nbytes %zu blocksize %zu flags %d", nbytes, bs, c ? c[2] : -1);
        size_t k = nbytes / bs / 2 + 1;
        if (c && nbytes / bs >= 8) {
            wr32(c + rd32(c + 16 + 4 * k), 0x7fffffff); /* block k's first stream size */
            CHECK_OK(zarrc_store_set(s, "p/c/0", c, n));
            CHECK_ERR(zarrc_array_read(a, z, shape, NULL, got, (size_t)N * 2), ZARRC_ECORRUPT, "chunk 'p/c/0'");
            char needle[32];
            snprintf(needle, sizeof needle, "block %zu ", k);
            CHECK_ERR(zarrc_array_read(a, z, shape, NULL, got, (size_t)N * 2), ZARRC_ECORRUPT, needle);
        }
        zarrc_free(d);
        zarrc_array_free(a);
        zarrc_store_free(s);
    }
    free(v);
    free(got);
}

/* A whole read of 64 MiB or more faults its output in first (io.c populate_output), and one
 * larger than the cache is placed with streaming stores (api.test_array_rw.stream_stores runs
 * every read so): into a fresh buffer, into a reused one holding other bytes, into one that
 * does not start on a page and one on a cache line, every element is the stored value or the
 * fill value. Sharded too (its own read path). */
static void test_large_output(const char *codecs)
{
    zarrc_store *s = memstore();
    int64_t shape[2] = {4100, 4100}, chunks[2] = {1024, 1024}; /* 67.24 MB of uint32 */
    zarrc_array *a = create(s, "big", "uint32", 2, shape, chunks, codecs, "7");
    size_t n = (size_t)4100 * 4100, bytes = n * 4;
    uint32_t *blk = malloc(1500 * 1500 * 4);
    uint8_t *raw = malloc(bytes + 64);
    CHECK(blk && raw && a);
    if (!blk || !raw || !a)
        goto out;
    for (size_t i = 0; i < 1500 * 1500; i++)
        blk[i] = (uint32_t)i * 2654435761u;
    int64_t at[2] = {1000, 2500}, cnt[2] = {1500, 1500}, z[2] = {0, 0};
    CHECK_OK(zarrc_array_write(a, at, cnt, NULL, blk, 1500 * 1500 * 4));
    for (int pass = 0; pass < 4; pass++) {
        /* pass 2: 4 bytes off; pass 3: on a 64-byte line (streaming stores cover whole rows) */
        size_t shift = pass == 2 ? 4 : pass == 3 ? (64 - (uintptr_t)raw % 64) % 64 : 0;
        uint32_t *out = (uint32_t *)(raw + shift);
        if (pass == 1)
            memset(raw, 0xA5, bytes + 64); /* reused: present pages holding other bytes */
        CHECK_OK(zarrc_array_read(a, z, shape, NULL, out, bytes));
        size_t bad = 0;
        for (int64_t y = 0; y < 4100; y++)
            for (int64_t x = 0; x < 4100; x++) {
                bool in = y >= 1000 && y < 2500 && x >= 2500 && x < 4000;
                uint32_t want = in ? blk[(y - 1000) * 1500 + (x - 2500)] : 7;
                bad += out[y * 4100 + x] != want;
            }
        CHECK(bad == 0);
    }
out:
    free(blk);
    free(raw);
    zarrc_array_free(a);
    zarrc_store_free(s);
}

int main(void)
{
    test_passthrough();
    test_large_output(NULL);
    test_large_output("[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[256,256],\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"zstd\",\"configuration\":{\"level\":1}}]}}]");
    test_passthrough_strided();
    test_passthrough_runs("memory://");
    {
        const char *tmp = getenv("ZARRC_TEST_TMP");
        char url[600], cmd[700];
        snprintf(url, sizeof url, "file://%s/array_rw_runs", tmp ? tmp : "testtmp");
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", url + 7, url + 7);
        CHECK(system(cmd) == 0);
        test_passthrough_runs(url);
        test_passthrough_pieces(url);
    }
    test_passthrough_pieces("memory://");
    test_blosc_blocks();
    test_blosc_parallel_blocks();
    test_roundtrip(3, NULL, 'C');
    test_roundtrip(2, NULL, 'C');
    test_roundtrip(2, NULL, 'F');
    test_roundtrip(3, "[{\"name\":\"transpose\",\"configuration\":{\"order\":[1,0]}},"
                      "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},{\"name\":\"gzip\"}]", 'C');
    test_roundtrip(2, "[{\"id\":\"zlib\",\"level\":3}]", 'C');
    test_strings(3);
    test_strings(2);
    test_errors();
    return check_report("api.array_rw");
}
