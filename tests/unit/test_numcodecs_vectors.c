/*
 * test_numcodecs_vectors.c — numcodecs golden vectors (../shared/fixtures/numcodecs/fixture):
 * for every codec folder, decode each codec.MM/encoded.NN.dat with zarrc and compare with
 * array.NN.npy (object arrays: array.NN.expected.json). Codecs zarrc does not register are
 * listed in one "SKIP (not implemented):" line; every registered codec must pass all vectors.
 *
 * Decoding: bytes→bytes codecs get the expected size (and are also run with it unknown);
 * array codecs get a 1-D representation of the element count (numcodecs filters work on the
 * flat buffer in memory order, which is also the order of the .npy data). Lossy codecs
 * (quantize, fixedscaleoffset) are compared like numcodecs' own backwards-compatibility test:
 * |decoded - original| < 1.5 * 10^-precision. For codecs whose output is fully determined by
 * the format (checksums, filters, vlen), zarrc's encoding of the array must also reproduce
 * encoded.NN.dat byte for byte.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "codec/codec.h"

static int passed, failed, skipped;
static bool vector_failed, vector_skipped;
static const char *skip_reason; /* one reason for vectors skipped on purpose (printed) */
static int nskip_reason;

static void note_skip_reason(const char *why)
{
    skip_reason = why;
    nskip_reason++;
}
static struct {
    char id[32];
    int passed, failed;
} tally[64];
static int ntally;

static int *tally_of(const char *id, bool ok)
{
    int i = 0;
    while (i < ntally && strcmp(tally[i].id, id))
        i++;
    if (i == ntally && ntally < 64)
        snprintf(tally[ntally++].id, sizeof tally[0].id, "%s", id);
    static int overflow;
    return i < 64 ? (ok ? &tally[i].passed : &tally[i].failed) : &overflow;
}
static char skip_ids[64][32];
static int nskip_ids;

static void fail(const char *path, const char *fmt, ...) ZARRC_PRINTF(2, 3);
static void fail(const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL %s: ", path);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    vector_failed = true;
}

static void note_skip(const char *id)
{
    for (int i = 0; i < nskip_ids; i++)
        if (!strcmp(skip_ids[i], id))
            return;
    if (nskip_ids < 64)
        snprintf(skip_ids[nskip_ids++], sizeof skip_ids[0], "%s", id);
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc(len > 0 ? (size_t)len + 1 : 1);
    *n = fread(d, 1, len > 0 ? (size_t)len : 0, f);
    d[*n] = 0;
    fclose(f);
    return d;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- .npy ---- */

typedef struct npy {
    char descr[32];
    bool fortran;
    int ndim;
    int64_t shape[ZARRC_MAX_DIMS];
    int64_t count;
    uint8_t *file;
    const uint8_t *data; /* into file */
    size_t size;         /* bytes of data */
} npy;

/* Parse a .npy header (v1-v3): descr, fortran_order, shape. */
static int npy_load(npy *a, const char *path)
{
    memset(a, 0, sizeof *a);
    size_t n;
    a->file = read_file(path, &n);
    if (!a->file)
        return -1;
    const uint8_t *f = a->file;
    if (n < 10 || memcmp(f, "\x93NUMPY", 6))
        return -1;
    size_t hlen, hstart;
    if (f[6] == 1) {
        hlen = (size_t)f[8] | (size_t)f[9] << 8;
        hstart = 10;
    } else {
        if (n < 12)
            return -1;
        hlen = (size_t)f[8] | (size_t)f[9] << 8 | (size_t)f[10] << 16 | (size_t)f[11] << 24;
        hstart = 12;
    }
    if (hstart + hlen > n)
        return -1;
    char *h = strndup((const char *)f + hstart, hlen);
    const char *p = strstr(h, "'descr':");
    const char *q = p ? strchr(p + 8, '\'') : NULL;
    const char *e = q ? strchr(q + 1, '\'') : NULL;
    if (!e || (size_t)(e - q - 1) >= sizeof a->descr) {
        free(h);
        return -1;
    }
    memcpy(a->descr, q + 1, (size_t)(e - q - 1));
    p = strstr(h, "'fortran_order':");
    a->fortran = p && !strncmp(p + 16 + strspn(p + 16, " "), "True", 4);
    p = strstr(h, "'shape':");
    p = p ? strchr(p, '(') : NULL;
    if (!p) {
        free(h);
        return -1;
    }
    a->count = 1;
    for (p++; *p && *p != ')';) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        if (a->ndim < ZARRC_MAX_DIMS)
            a->shape[a->ndim++] = v;
        a->count *= v;
        p = end;
    }
    free(h);
    a->data = f + hstart + hlen;
    a->size = n - hstart - hlen;
    return 0;
}

/* ---- expected.json for object arrays ---- */

typedef struct vexp {
    size_t count;
    uint8_t **items;
    size_t *lens;
} vexp;

static void vexp_free(vexp *v)
{
    for (size_t i = 0; i < v->count; i++)
        free(v->items[i]);
    free(v->items);
    free(v->lens);
    memset(v, 0, sizeof *v);
}

static int vexp_load(vexp *v, const char *path)
{
    memset(v, 0, sizeof *v);
    size_t n;
    char *text = (char *)read_file(path, &n);
    if (!text)
        return -1;
    json_object *doc = NULL, *values = NULL;
    int rc = zarrc__json_parse(&doc, text, n, path);
    free(text);
    if (rc || !json_object_object_get_ex(doc, "values", &values) ||
        !json_object_is_type(values, json_type_array)) {
        json_object_put(doc);
        return -1;
    }
    v->count = json_object_array_length(values);
    v->items = calloc(v->count ? v->count : 1, sizeof *v->items);
    v->lens = calloc(v->count ? v->count : 1, sizeof *v->lens);
    rc = 0;
    for (size_t i = 0; i < v->count && !rc; i++) {
        json_object *x = json_object_array_get_idx(values, i), *b64;
        if (json_object_is_type(x, json_type_string)) {
            v->lens[i] = (size_t)json_object_get_string_len(x);
            v->items[i] = malloc(v->lens[i] + 1);
            memcpy(v->items[i], json_object_get_string(x), v->lens[i]);
        } else if (json_object_is_type(x, json_type_object) &&
                   json_object_object_get_ex(x, "base64", &b64)) {
            rc = zarrc__base64_decode(&v->items[i], &v->lens[i], json_object_get_string(b64));
        } else if (json_object_is_type(x, json_type_null)) {
            v->lens[i] = 0;
        } else
            rc = -1; /* nested arrays (vlen-array) are not handled here */
    }
    json_object_put(doc);
    return rc ? -1 : 0;
}

/* ---- one codec folder ---- */

static bool is_lossy(const char *id)
{
    return !strcmp(id, "quantize") || !strcmp(id, "fixedscaleoffset");
}

/* Codecs whose encoding is fully determined by the format (so zarrc must reproduce it). */
static bool is_deterministic(const char *id)
{
    static const char *const ids[] = {"crc32", "crc32c", "adler32", "fletcher32", "delta",
                                      "fixedscaleoffset", "quantize", "astype", "packbits",
                                      "shuffle", "vlen-utf8", "vlen-bytes", "bitround", NULL};
    for (int i = 0; ids[i]; i++)
        if (!strcmp(id, ids[i]))
            return true;
    return false;
}

/* Decimal precision numcodecs' own test uses for a lossy codec. */
static int lossy_precision(const char *id, json_object *cfg)
{
    json_object *v;
    if (!strcmp(id, "quantize") && json_object_object_get_ex(cfg, "digits", &v))
        return json_object_get_int(v);
    if (!strcmp(id, "fixedscaleoffset") && json_object_object_get_ex(cfg, "scale", &v))
        return (int)floor(log10(json_object_get_double(v)));
    return 0;
}

/* ---- object codecs (json2, vlen-array): elements compared by value ---- */

/* JSON equality with NaN equal to NaN and objects compared by key (numcodecs sorts keys). */
static bool json_same(json_object *a, json_object *b)
{
    enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
    if ((ta == json_type_int || ta == json_type_double) && (tb == json_type_int || tb == json_type_double)) {
        if (ta != tb)
            return false; /* 1 and 1.0 are different Python objects */
        if (ta == json_type_int)
            return json_object_get_int64(a) == json_object_get_int64(b);
        double x = json_object_get_double(a), y = json_object_get_double(b);
        return x == y || (isnan(x) && isnan(y));
    }
    if (ta != tb)
        return false;
    switch (ta) {
    case json_type_null: return true;
    case json_type_boolean: return json_object_get_boolean(a) == json_object_get_boolean(b);
    case json_type_string: return !strcmp(json_object_get_string(a), json_object_get_string(b));
    case json_type_array:
        if (json_object_array_length(a) != json_object_array_length(b))
            return false;
        for (size_t i = 0; i < json_object_array_length(a); i++)
            if (!json_same(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)))
                return false;
        return true;
    case json_type_object: {
        if (json_object_object_length(a) != json_object_object_length(b))
            return false;
        json_object_object_foreach(a, k, va) {
            json_object *vb;
            if (!json_object_object_get_ex(b, k, &vb) || !json_same(va, vb))
                return false;
        }
        return true;
    }
    default: return false;
    }
}

/* One typed item (vlen-array element type `it`, native order) against an expected integer or
 * float value. */
static bool item_same(const zarrc_dtype_info *it, const uint8_t *p, json_object *want)
{
    int64_t sv = 0;
    uint64_t uv = 0;
    size_t w = it->item_size;
    if (it->kind == ZARRC_DTYPE_INT) {
        if (w == 1) { int8_t x; memcpy(&x, p, 1); sv = x; }
        if (w == 2) { int16_t x; memcpy(&x, p, 2); sv = x; }
        if (w == 4) { int32_t x; memcpy(&x, p, 4); sv = x; }
        if (w == 8) memcpy(&sv, p, 8);
        return json_object_is_type(want, json_type_int) && json_object_get_int64(want) == sv;
    }
    if (it->kind == ZARRC_DTYPE_UINT) {
        if (w == 1) uv = *p;
        if (w == 2) { uint16_t x; memcpy(&x, p, 2); uv = x; }
        if (w == 4) { uint32_t x; memcpy(&x, p, 4); uv = x; }
        if (w == 8) memcpy(&uv, p, 8);
        return json_object_is_type(want, json_type_int) && json_object_get_uint64(want) == uv;
    }
    if (it->kind == ZARRC_DTYPE_FLOAT && (w == 4 || w == 8)) {
        double d;
        if (w == 4) { float f; memcpy(&f, p, 4); d = f; } else memcpy(&d, p, 8);
        double e = json_object_get_double(want);
        return d == e || (isnan(d) && isnan(e));
    }
    return false;
}

/* Decode an object-codec vector and compare every element with expected.json; vlen-array and
 * json2 re-encodings must decode back to the same elements (numcodecs' bytes depend on Python's
 * JSON layout and key order, so they are not compared byte for byte). */
static void check_object_vector(const char *path, const char *json_path, const npy *a, const uint8_t *enc,
                                size_t enc_n, json_object *cfg, const char *id, const zarrc_codec_type *type)
{
    zarrc_repr r;
    memset(&r, 0, sizeof r);
    zarrc_dtype_parse(&r.dtype, "|O");
    zarrc__dtype_object_codec(&r.dtype, id);
    r.ndim = a->ndim;
    for (int d = 0; d < a->ndim; d++)
        r.shape[d] = a->shape[d];
    size_t n;
    char *text = (char *)read_file(json_path, &n);
    json_object *doc = NULL, *values = NULL;
    if (!text || zarrc__json_parse(&doc, text, n, json_path) || !json_object_object_get_ex(doc, "values", &values) ||
        json_object_array_length(values) != (size_t)a->count) {
        fail(path, "object array without a usable %s", json_path);
        free(text);
        json_object_put(doc);
        return;
    }
    free(text);
    zarrc__codec c;
    if (zarrc__codec_init(&c, type, cfg, 2, &r, 0)) {
        fail(path, "create: %s", zarrc_error_last());
        json_object_put(doc);
        return;
    }
    zarrc_dtype_info item;
    bool typed = zarrc__codec_object_item(&c, &item);
    zarrc_buf d = ZARRC_BUF_INIT, e = ZARRC_BUF_INIT, d2 = ZARRC_BUF_INIT;
    for (int round = 0; round < 2; round++) {
        zarrc_buf *dst = round ? &d2 : &d;
        int rc = round ? zarrc__codec_decode(&c, e.data, e.size, 0, 0, dst) : zarrc__codec_decode(&c, enc, enc_n, 0, 0, dst);
        if (rc || dst->size != (size_t)a->count * sizeof(zarrc_vref)) {
            fail(path, "%sdecode: %s", round ? "re-encoded: " : "", rc ? zarrc_error_last() : "wrong size");
            break;
        }
        bool ok = true;
        for (int64_t i = 0; ok && i < a->count; i++) {
            zarrc_vref v;
            memcpy(&v, dst->data + (size_t)i * sizeof v, sizeof v);
            json_object *want = json_object_array_get_idx(values, (size_t)i), *got = NULL;
            if (typed) {
                json_object *wv = NULL;
                if (want)
                    json_object_object_get_ex(want, "values", &wv);
                size_t cnt = wv ? json_object_array_length(wv) : 0;
                ok = v.len == cnt * item.item_size;
                for (size_t k = 0; ok && k < cnt; k++)
                    ok = item_same(&item, v.ptr + k * item.item_size, json_object_array_get_idx(wv, k));
            } else {
                char *t = strndup((const char *)v.ptr, (size_t)v.len);
                got = json_tokener_parse(t);
                ok = json_same(got, want) && (got || !strcmp(t, "null"));
                free(t);
                json_object_put(got);
            }
            if (!ok)
                fail(path, "%selement %lld differs from expected.json (%.*s)", round ? "re-encoded: " : "", (long long)i,
                     (int)(v.len < 80 ? v.len : 80), (const char *)v.ptr);
        }
        if (!ok || round)
            break;
        if ((rc = zarrc__codec_encode(&c, d.data, d.size, &e))) {
            fail(path, "re-encode: %s", zarrc_error_last());
            break;
        }
        if (typed && (e.size != enc_n || memcmp(e.data, enc, enc_n)))
            fail(path, "vlen-array re-encoding differs from numcodecs (%zu vs %zu bytes)", e.size, enc_n);
    }
    zarrc_buf_release(&d);
    zarrc_buf_release(&d2);
    zarrc_buf_release(&e);
    zarrc__codec_fini(&c);
    json_object_put(doc);
}

static void check_vector(const char *dir, const char *codec_dir, const char *enc_name,
                         json_object *cfg, const char *id, const zarrc_codec_type *type)
{
    char path[2048], npy_path[2048], json_path[2048];
    int nn = atoi(enc_name + strlen("encoded."));
    snprintf(path, sizeof path, "%s/%s/%s", dir, codec_dir, enc_name);
    snprintf(npy_path, sizeof npy_path, "%s/array.%02d.npy", dir, nn);
    snprintf(json_path, sizeof json_path, "%s/array.%02d.expected.json", dir, nn);

    npy a;
    if (npy_load(&a, npy_path)) {
        fail(path, "cannot read %s", npy_path);
        free(a.file);
        return;
    }
    size_t enc_n;
    uint8_t *enc = read_file(path, &enc_n);
    bool object = !strcmp(a.descr, "|O");
    if (!strcmp(id, "json2") || !strcmp(id, "vlen-array")) {
        if (!object) { /* json2 as a filter of a numeric or text array: zarrc uses it only as an
                          object codec (what zarr-python writes) */
            note_skip_reason("json2 on arrays that are not |O (zarrc: object codec only)");
            vector_skipped = true;
        } else if (!exists(json_path))
            fail(path, "object array without %s", json_path);
        else
            check_object_vector(path, json_path, &a, enc, enc_n, cfg, id, type);
        goto out;
    }
    zarrc_repr r;
    memset(&r, 0, sizeof r);
    int rc;
    if (object) {
        rc = zarrc_dtype_parse(&r.dtype, !strcmp(id, "vlen-bytes") ? "bytes" : "string");
    } else
        rc = zarrc_dtype_parse(&r.dtype, a.descr);
    if (rc) {
        fail(path, "dtype %s: %s", a.descr, zarrc_error_last());
        goto out;
    }
    r.ndim = 1;
    r.shape[0] = a.count;

    zarrc__codec c;
    rc = zarrc__codec_init(&c, type, cfg, 2, &r, r.dtype.big_endian);
    if (rc) {
        fail(path, "create %s: %s", json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN),
             zarrc_error_last());
        goto out;
    }
    bool b2b = type->kind == ZARRC_CODEC_BYTES_TO_BYTES;
    zarrc_buf d = ZARRC_BUF_INIT;

    if (object) {
        vexp v;
        if (!exists(json_path) || vexp_load(&v, json_path)) {
            fail(path, "object array without a usable %s", json_path);
            zarrc__codec_fini(&c);
            goto out;
        }
        rc = zarrc__codec_decode(&c, enc, enc_n, 0, 0, &d);
        bool ok = rc == ZARRC_OK && d.size == v.count * sizeof(zarrc_vref);
        if (rc)
            fail(path, "decode: %s", zarrc_error_last());
        else if (!ok)
            fail(path, "decoded %zu bytes, expected %zu vrefs", d.size, v.count);
        for (size_t i = 0; ok && i < v.count; i++) {
            zarrc_vref e;
            memcpy(&e, d.data + i * sizeof e, sizeof e);
            if (e.len != v.lens[i] || (e.len && memcmp(e.ptr, v.items[i], e.len))) {
                fail(path, "element %zu differs (len %llu, expected %zu)", i,
                     (unsigned long long)e.len, v.lens[i]);
                ok = false;
            }
        }
        if (ok && is_deterministic(id)) {
            zarrc_vref *refs = malloc((v.count ? v.count : 1) * sizeof *refs);
            for (size_t i = 0; i < v.count; i++)
                refs[i] = (zarrc_vref){v.items[i], v.lens[i]};
            zarrc_buf e = ZARRC_BUF_INIT;
            rc = zarrc__codec_encode(&c, (const uint8_t *)refs, v.count * sizeof *refs, &e);
            if (rc || e.size != enc_n || memcmp(e.data, enc, enc_n)) {
                fail(path, "re-encoding differs from numcodecs (rc %d, %zu vs %zu bytes)", rc,
                     e.size, enc_n);
                ok = false;
            }
            zarrc_buf_release(&e);
            free(refs);
        }
        vexp_free(&v);
        zarrc_buf_release(&d);
        zarrc__codec_fini(&c);
        goto out;
    }

    /* Expected bytes in native order. */
    uint8_t *want = malloc(a.size ? a.size : 1);
    memcpy(want, a.data, a.size);
    size_t w = zarrc__dtype_swap_width(&r.dtype);
    if (r.dtype.big_endian && w > 1)
        zarrc__byteswap(want, a.size / w, w);

    /* astype to a narrower float: the decoded values are the originals rounded through the
     * encoded type (numcodecs' own test only checks 3 decimals; we check exactly). */
    json_object *enc_dt = NULL;
    if (!strcmp(id, "astype") && json_object_object_get_ex(cfg, "encode_dtype", &enc_dt) &&
        r.dtype.kind == ZARRC_DTYPE_FLOAT && r.dtype.item_size == 8) {
        const char *ed = json_object_get_string(enc_dt);
        for (size_t i = 0; i < a.size / 8; i++) {
            double x;
            memcpy(&x, want + i * 8, 8);
            if (!strcmp(ed + 1, "f4"))
                x = (double)(float)x;
            else if (!strcmp(ed + 1, "f2"))
                x = zarrc_half_to_double(zarrc_double_to_half(x));
            memcpy(want + i * 8, &x, 8);
        }
    }

    bool ok = true;
    rc = zarrc__codec_decode(&c, enc, enc_n, b2b ? a.size : 0, 0, &d);
    if (rc) {
        fail(path, "decode: %s", zarrc_error_last());
        ok = false;
    } else if (d.size != a.size) {
        fail(path, "decoded %zu bytes, expected %zu", d.size, a.size);
        ok = false;
    } else if (is_lossy(id)) {
        int prec = lossy_precision(id, cfg);
        double tol = 1.5 * pow(10.0, -prec);
        size_t isz = r.dtype.item_size;
        for (size_t i = 0; i < a.size / isz && ok; i++) {
            double x, y;
            if (isz == 8) {
                memcpy(&x, d.data + i * 8, 8);
                memcpy(&y, want + i * 8, 8);
            } else {
                float fx, fy;
                memcpy(&fx, d.data + i * 4, 4);
                memcpy(&fy, want + i * 4, 4);
                x = fx, y = fy;
            }
            if (!(fabs(x - y) < tol)) {
                fail(path, "element %zu: decoded %.17g, original %.17g (tolerance %g)", i, x, y,
                     tol);
                ok = false;
            }
        }
    } else if (memcmp(d.data, want, a.size)) {
        size_t i = 0;
        while (d.data[i] == want[i])
            i++;
        fail(path, "decoded bytes differ from the .npy data (first at byte %zu)", i);
        ok = false;
    }
    if (ok && b2b) {
        /* The same with the decoded size unknown. */
        zarrc_buf d2 = ZARRC_BUF_INIT;
        rc = zarrc__codec_decode(&c, enc, enc_n, 0, 0, &d2);
        if (rc || d2.size != a.size || memcmp(d2.data, want, a.size)) {
            fail(path, "decode with unknown size: rc %d (%s)", rc, rc ? zarrc_error_last() : "");
            ok = false;
        }
        zarrc_buf_release(&d2);
    }
    if (ok) {
        /* zarrc's own encoding: identical to numcodecs' where the format fixes it, and in any
         * case decodable back to the array (lossless codecs). */
        zarrc_buf e = ZARRC_BUF_INIT, back = ZARRC_BUF_INIT;
        rc = zarrc__codec_encode(&c, want, a.size, &e);
        if (rc) {
            fail(path, "encode: %s", zarrc_error_last());
            ok = false;
        } else if (is_deterministic(id) && (e.size != enc_n || memcmp(e.data, enc, enc_n))) {
            size_t i = 0;
            while (i < e.size && i < enc_n && e.data[i] == enc[i])
                i++;
            fail(path, "re-encoding differs from numcodecs (%zu vs %zu bytes, first at %zu)",
                 e.size, enc_n, i);
            ok = false;
        } else if (!is_lossy(id)) {
            rc = zarrc__codec_decode(&c, e.data, e.size, b2b ? a.size : 0, 0, &back);
            if (rc || back.size != a.size || memcmp(back.data, want, a.size)) {
                fail(path, "zarrc round trip failed (rc %d)", rc);
                ok = false;
            }
        }
        zarrc_buf_release(&e);
        zarrc_buf_release(&back);
    }
    free(want);
    zarrc_buf_release(&d);
    zarrc__codec_fini(&c);
out:
    free(enc);
    free(a.file);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entries of a directory starting with `prefix`. */
static char **list_dir(const char *dir, const char *prefix, size_t *n)
{
    DIR *dh = opendir(dir);
    char **names = NULL;
    *n = 0;
    if (!dh)
        return NULL;
    struct dirent *de;
    while ((de = readdir(dh))) {
        if (de->d_name[0] == '.' || strncmp(de->d_name, prefix, strlen(prefix)))
            continue;
        names = realloc(names, (*n + 1) * sizeof *names);
        names[(*n)++] = strdup(de->d_name);
    }
    closedir(dh);
    if (*n)
        qsort(names, *n, sizeof *names, cmp_str);
    return names;
}

static void free_list(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* A folder either holds codec.MM subfolders (a codec folder) or groups more folders. */
static void walk(const char *dir)
{
    size_t ncodecs;
    char **codecs = list_dir(dir, "codec.", &ncodecs);
    if (ncodecs == 0) {
        size_t nsub;
        char **subs = list_dir(dir, "", &nsub);
        for (size_t i = 0; i < nsub; i++) {
            char sub[2048];
            struct stat st;
            snprintf(sub, sizeof sub, "%s/%s", dir, subs[i]);
            if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
                walk(sub);
        }
        free_list(subs, nsub);
        free(codecs);
        return;
    }
    for (size_t k = 0; k < ncodecs; k++) {
        char cdir[2048], cfg_path[2048];
        snprintf(cdir, sizeof cdir, "%s/%s", dir, codecs[k]);
        snprintf(cfg_path, sizeof cfg_path, "%s/config.json", cdir);
        size_t n;
        char *text = (char *)read_file(cfg_path, &n);
        json_object *cfg = NULL, *idv = NULL;
        if (!text || zarrc__json_parse(&cfg, text, n, cfg_path) ||
            !json_object_object_get_ex(cfg, "id", &idv)) {
            fail(cfg_path, "unreadable codec config");
            failed++;
            free(text);
            json_object_put(cfg);
            continue;
        }
        free(text);
        const char *id = json_object_get_string(idv);
        const zarrc_codec_type *type = zarrc__codec_find_v2(id);
        size_t nenc;
        char **encs = list_dir(cdir, "encoded.", &nenc);
        if (!type) {
            note_skip(id);
            skipped += (int)nenc;
        } else {
            for (size_t i = 0; i < nenc; i++) {
                vector_failed = vector_skipped = false;
                check_vector(dir, codecs[k], encs[i], cfg, id, type);
                if (vector_skipped && !vector_failed) {
                    skipped++;
                    continue;
                }
                (*tally_of(id, !vector_failed))++;
                (*(vector_failed ? &failed : &passed))++;
            }
        }
        free_list(encs, nenc);
        json_object_put(cfg);
    }
    free_list(codecs, ncodecs);
}

int main(void)
{
    const char *shared = getenv("ZARRC_SHARED");
    char root[2048];
    snprintf(root, sizeof root, "%s/fixtures/numcodecs/fixture", shared ? shared : "../shared");
    if (!exists(root)) {
        printf("SKIP: ../shared not found (%s)\n", root);
        return 0;
    }
    walk(root);
    if (nskip_ids) {
        qsort(skip_ids, (size_t)nskip_ids, sizeof skip_ids[0],
              (int (*)(const void *, const void *))strcmp);
        printf("SKIP (not implemented):");
        for (int i = 0; i < nskip_ids; i++)
            printf("%s %s", i ? "," : "", skip_ids[i]);
        printf("\n");
    }
    for (int i = 0; i < ntally; i++)
        printf("  %-18s %4d passed, %d failed\n", tally[i].id, tally[i].passed, tally[i].failed);
    if (nskip_reason)
        printf("SKIP (%d vectors): %s\n", nskip_reason, skip_reason);
    printf("numcodecs vectors: %d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed || passed == 0 ? 1 : 0;
}
