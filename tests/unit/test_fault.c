/*
 * Fault injection, SQLite style: representative operations are run again and again, failing
 * the 1st, 2nd, 3rd, ... store call (each of get, get_range, set, set_if, erase, erase_prefix,
 * list, list_dir, size; with EIO, EAUTH and an ENOSPC-like EIO), and the 1st, 2nd, 3rd, ...
 * allocation (zarrc__alloc_fail_after), until a run completes without hitting the fault. Each
 * failing run must
 *  - return a negative code: the injected one (ZARRC_ENOMEM for allocations), with
 *    zarrc_error_last() naming what failed ("set 'g/a/zarr.json'" / "out of memory");
 *  - leave the store exactly as before or exactly as after a clean run (whole-store ops), or,
 *    for operations documented as several steps (region writes, copies, batch creation,
 *    array creation with new ancestors), every key and every node's metadata documents as a
 *    whole old or new: never half-written metadata;
 *  - leave only metadata documents that parse and nodes that open;
 *  - leak nothing (the test runs in the ASan build of make check, detect_leaks=1).
 * A run that hits a fault the library absorbs must end exactly as a clean run.
 *
 * The faulty store ("faulty://", and "faulty-latency://" with ZARRC_STORE_CAP_LATENCY so the
 * engine's batched mode is exercised) forwards to the memory store's own vtable, so snapshots
 * (every key and value) are taken and restored without counting or clearing errors;
 * "faulty-fs://DIR" forwards to the directory store (allocation faults there). Operations run
 * with one thread (deterministic) and those on the pools again with four. docs/testing.md
 * describes the whole; `test_fault NAME` runs the operations whose name contains NAME.
 */
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "../api/check.h"
#include "store/store.h"
#include "zarrc.h"

extern const zarrc_store_type zarrc__store_memory, zarrc__store_fs;

/* ------------------------------------------------------------------------------------------ */
/* The faulty store                                                                            */
/* ------------------------------------------------------------------------------------------ */

/* What a faulty store forwards to: the memory store, or (faulty-fs://DIR) a directory. */
typedef struct faulty {
    const zarrc_store_type *inner;
    void *state;
} faulty;

enum { F_GET, F_GET_RANGE, F_SET, F_SET_IF, F_ERASE, F_ERASE_PREFIX, F_LIST, F_LIST_DIR, F_SIZE };
static const char *const op_names[] = {"get", "get_range", "set", "set_if", "erase", "erase_prefix",
                                       "list", "list_dir", "size"};

typedef struct fault_kind {
    int code;
    const char *what;
} fault_kind;

static const fault_kind kinds[] = {
    {ZARRC_EIO, "injected I/O error"},
    {ZARRC_EAUTH, "injected permission denied"},
    {ZARRC_EIO, "no space left on device (injected ENOSPC)"},
};
#define NKINDS (sizeof kinds / sizeof *kinds)

static struct {
    long countdown;  /* atomic: 0 = off; the call that takes it from 1 fails */
    bool persistent; /* after firing, every call fails */
    int failing;     /* atomic: fired in persistent mode */
    int kind;
    long fired;      /* calls failed */
    char what[512];  /* the first failed call: "set 'g/a/zarr.json'" */
} fault;

static void fault_arm(long n, int kind, bool persistent)
{
    fault.kind = kind;
    fault.persistent = persistent;
    __atomic_store_n(&fault.failing, 0, __ATOMIC_SEQ_CST);
    fault.fired = 0;
    fault.what[0] = '\0';
    __atomic_store_n(&fault.countdown, n, __ATOMIC_SEQ_CST);
}

static void fault_off(void)
{
    __atomic_store_n(&fault.countdown, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&fault.failing, 0, __ATOMIC_SEQ_CST);
}

/* Whether this call fails (counts it). */
static bool fault_hit(void)
{
    if (__atomic_load_n(&fault.failing, __ATOMIC_SEQ_CST))
        return true;
    if (__atomic_load_n(&fault.countdown, __ATOMIC_SEQ_CST) > 0 &&
        __atomic_sub_fetch(&fault.countdown, 1, __ATOMIC_SEQ_CST) == 0) {
        __atomic_store_n(&fault.failing, fault.persistent, __ATOMIC_SEQ_CST);
        return true;
    }
    return false;
}

/* Fail the call: the error message a backend would set. */
static int fault_raise(int op, const char *key)
{
    if (__atomic_fetch_add(&fault.fired, 1, __ATOMIC_SEQ_CST) == 0)
        snprintf(fault.what, sizeof fault.what, "%s '%s'", op_names[op], key);
    return zarrc_error_set(kinds[fault.kind].code, "faulty store: %s '%s': %s", op_names[op], key,
                           kinds[fault.kind].what);
}

static int fault_check(int op, const char *key) { return fault_hit() ? fault_raise(op, key) : ZARRC_OK; }

/* A failing listing first hands out one name, as a paged listing that breaks midway would. */
typedef struct list_fault {
    zarrc_list_cb cb;
    void *ctx;
    int op;
    const char *prefix;
    size_t names;
} list_fault;

static int list_fault_cb(void *ctx, const char *name, int is_prefix)
{
    list_fault *l = ctx;
    if (l->names++ == 1)
        return fault_raise(l->op, l->prefix);
    return l->cb(l->ctx, name, is_prefix);
}

static int list_with_faults(int op, faulty *f, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    int (*list)(void *, const char *, zarrc_list_cb, void *) = op == F_LIST ? f->inner->list : f->inner->list_dir;
    if (!fault_hit())
        return list(f->state, prefix, cb, ctx);
    list_fault l = {cb, ctx, op, prefix, 0};
    int rc = list(f->state, prefix, list_fault_cb, &l);
    return l.names < 2 && rc == ZARRC_OK ? fault_raise(op, prefix) : rc;
}

static int open_with(const zarrc_store_type *inner, void **state, const char *location, unsigned flags)
{
    faulty *f = calloc(1, sizeof *f);
    f->inner = inner;
    int rc = inner->open(&f->state, location, flags);
    if (rc)
        free(f);
    else
        *state = f;
    return rc;
}

static int f_open(void **state, const char *location, unsigned flags)
{
    return open_with(&zarrc__store_memory, state, location, flags);
}

static int f_open_fs(void **state, const char *location, unsigned flags)
{
    return open_with(&zarrc__store_fs, state, location, flags);
}

static void f_close(void *state)
{
    faulty *f = state;
    f->inner->close(f->state);
    free(f);
}

static int f_get(void *state, const char *key, int64_t offset, int64_t length, zarrc_buf *out)
{
    faulty *f = state;
    int rc = fault_check(offset == 0 && length < 0 ? F_GET : F_GET_RANGE, key);
    return rc ? rc : f->inner->get(f->state, key, offset, length, out);
}

static int f_set(void *state, const char *key, const void *data, size_t n)
{
    faulty *f = state;
    int rc = fault_check(F_SET, key);
    return rc ? rc : f->inner->set(f->state, key, data, n);
}

static int f_set_if(void *state, const char *key, const void *data, size_t n, unsigned cond)
{
    faulty *f = state;
    int rc = fault_check(F_SET_IF, key);
    return rc ? rc : f->inner->set_if(f->state, key, data, n, cond);
}

static int f_erase(void *state, const char *key)
{
    faulty *f = state;
    int rc = fault_check(F_ERASE, key);
    return rc ? rc : f->inner->erase(f->state, key);
}

static int f_erase_prefix(void *state, const char *prefix)
{
    faulty *f = state;
    int rc = fault_check(F_ERASE_PREFIX, prefix);
    return rc ? rc : f->inner->erase_prefix(f->state, prefix);
}

static int f_list(void *state, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    return list_with_faults(F_LIST, state, prefix, cb, ctx);
}

static int f_list_dir(void *state, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    return list_with_faults(F_LIST_DIR, state, prefix, cb, ctx);
}

static int f_size(void *state, const char *key, uint64_t *size)
{
    faulty *f = state;
    int rc = fault_check(F_SIZE, key);
    return rc ? rc : f->inner->size(f->state, key, size);
}

#define FAULTY_CAPS (ZARRC_STORE_CAP_RANGE | ZARRC_STORE_CAP_LIST_DIR | ZARRC_STORE_CAP_WRITE | ZARRC_STORE_CAP_SET_IF)

static const zarrc_store_type faulty_store = {
    ZARRC_STORE_TYPE_VERSION, "faulty", FAULTY_CAPS, f_open, f_close, f_get, NULL, f_set, f_set_if,
    f_erase, f_erase_prefix, f_list, f_list_dir, f_size,
};

static const zarrc_store_type faulty_latency_store = {
    ZARRC_STORE_TYPE_VERSION, "faulty-latency", FAULTY_CAPS | ZARRC_STORE_CAP_LATENCY, f_open, f_close, f_get,
    NULL, f_set, f_set_if, f_erase, f_erase_prefix, f_list, f_list_dir, f_size,
};

static const zarrc_store_type faulty_fs_store = {
    ZARRC_STORE_TYPE_VERSION, "faulty-fs", FAULTY_CAPS, f_open_fs, f_close, f_get, NULL, f_set, f_set_if,
    f_erase, f_erase_prefix, f_list, f_list_dir, f_size,
};

/* ------------------------------------------------------------------------------------------ */
/* Snapshots: every key and value of the store                                                 */
/* ------------------------------------------------------------------------------------------ */

typedef struct kv {
    char *key;
    uint8_t *val;
    size_t n;
} kv;

typedef struct snap {
    kv *v;
    size_t n, cap;
} snap;

static int snap_add_key(void *ctx, const char *name, int is_prefix)
{
    (void)is_prefix;
    snap *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v)
            abort();
    }
    s->v[s->n++] = (kv){strdup(name), NULL, 0};
    return 0;
}

static int cmp_kv(const void *a, const void *b) { return strcmp(((const kv *)a)->key, ((const kv *)b)->key); }

static void snap_free(snap *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].key);
        free(s->v[i].val);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* Every key and value, sorted by key (faults must be off). */
static snap snap_take(zarrc_store *st)
{
    snap s = {0};
    faulty *f = st->state;
    if (f->inner->list(f->state, "", snap_add_key, &s))
        abort();
    if (s.n > 1)
        qsort(s.v, s.n, sizeof *s.v, cmp_kv);
    for (size_t i = 0; i < s.n; i++) {
        zarrc_buf b = ZARRC_BUF_INIT;
        if (f->inner->get(f->state, s.v[i].key, 0, -1, &b))
            abort();
        s.v[i].val = b.data;
        s.v[i].n = b.size;
    }
    return s;
}

static const kv *snap_find(const snap *s, const char *key)
{
    kv k = {(char *)key, NULL, 0};
    return s->n ? bsearch(&k, s->v, s->n, sizeof *s->v, cmp_kv) : NULL;
}

static bool same_value(const kv *a, const kv *b)
{
    if (!a || !b)
        return !a && !b;
    return a->n == b->n && (!a->n || !memcmp(a->val, b->val, a->n));
}

static bool snap_equal(const snap *a, const snap *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].key, b->v[i].key) || !same_value(&a->v[i], &b->v[i]))
            return false;
    return true;
}

/* Where the faulty store keeps its data. */
typedef enum backend { MEMORY, MEMORY_LATENCY, DIRECTORY } backend;
static const char *const backend_names[] = {"memory", "batched", "directory"};

static char fs_dir[4096];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A new faulty store holding the snapshot (a directory store starts from an empty directory). */
static zarrc_store *store_from(const snap *s, backend b)
{
    zarrc_store *st = NULL;
    char url[4200];
    fault_off();
    if (b == DIRECTORY) {
        nftw(fs_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        snprintf(url, sizeof url, "faulty-fs://%s", fs_dir);
    } else
        snprintf(url, sizeof url, "%s", b == MEMORY_LATENCY ? "faulty-latency://" : "faulty://");
    if (zarrc_store_open(&st, url, ZARRC_STORE_CREATE))
        abort();
    faulty *f = st->state;
    for (size_t i = 0; i < s->n; i++)
        if (f->inner->set(f->state, s->v[i].key, s->v[i].val, s->v[i].n))
            abort();
    return st;
}

static const char *const meta_names[] = {"zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"};

/* The node path of a metadata key ("g/a" for "g/a/zarr.json", "" at the root), or -1. */
static int meta_key(const char *key, size_t *dirlen)
{
    const char *slash = strrchr(key, '/'), *base = slash ? slash + 1 : key;
    for (int i = 0; i < 5; i++)
        if (!strcmp(base, meta_names[i])) {
            *dirlen = slash ? (size_t)(slash - key) : 0;
            return i;
        }
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Operations                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/* How much of "old or new" an operation promises: the whole store, or (operations of several
 * independent steps) each key and each node's set of metadata documents. */
enum {
    WHOLE,
    PER_NODE,
    ERASES, /* node deletion: keys are removed one by one (what belongs to the node is decided
               first), each node's documents last, so each node is old or gone */
};

typedef struct op {
    const char *name;
    int level;
    bool on_dir; /* also run on a directory store (allocation faults): enough operations to reach
                    every function of the directory store (each run there rewrites the files) */
    void (*setup)(zarrc_store *s);
    int (*run)(zarrc_store *s);
} op;

#define H 10
#define W 12

static int32_t pattern(int64_t i, int64_t j, int salt) { return (int32_t)(i * 1000 + j + salt); }

static void fill_pattern(int32_t *buf, int64_t r0, int64_t c0, int64_t h, int64_t w, int salt)
{
    for (int64_t i = 0; i < h; i++)
        for (int64_t j = 0; j < w; j++)
            buf[i * w + j] = pattern(r0 + i, c0 + j, salt);
}

static zarrc_array *make_array(zarrc_store *s, const char *path, int format, const char *dtype, int64_t h,
                               int64_t w, int64_t ch, int64_t cw, const char *codecs, const char *attrs)
{
    int64_t shape[2] = {h, w}, chunks[2] = {ch, cw};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.format = format;
    o.dtype = dtype;
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    o.codecs = codecs;
    o.attributes = attrs;
    zarrc_array *a = NULL;
    if (zarrc_array_create(&a, s, path, &o)) {
        fprintf(stderr, "setup: create %s: %s\n", path, zarrc_error_last());
        abort();
    }
    return a;
}

/* Write rows [r0, r0+h) x all columns of the pattern. */
static void put_rows(zarrc_array *a, int64_t r0, int64_t h, int salt)
{
    int64_t w = zarrc_array_shape(a)[1], start[2] = {r0, 0}, count[2] = {h, w};
    int32_t *buf = malloc((size_t)(h * w) * sizeof *buf);
    fill_pattern(buf, r0, 0, h, w, salt);
    if (zarrc_array_write(a, start, count, NULL, buf, (size_t)(h * w) * sizeof *buf)) {
        fprintf(stderr, "setup: write: %s\n", zarrc_error_last());
        abort();
    }
    free(buf);
}

#define SHARDED                                                                                      \
    "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[4,4],"                       \
    "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"zstd\","  \
    "\"configuration\":{\"level\":1}}],\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":"      \
    "{\"endian\":\"little\"}},{\"name\":\"crc32c\"}]}}]"

/* The v2 part of the starting point: g2/a2 (first rows written) and g2/sub. */
static void setup_v2(zarrc_store *s)
{
    zarrc_array *a = make_array(s, "g2/a2", 2, "<i4", H, W, 4, 5, NULL, "{\"units\":\"s\",\"n\":1}");
    put_rows(a, 0, 6, 0);
    zarrc_array_free(a);
    if (zarrc_group_create(s, "g2/sub", 2, "{\"k\":[1,2]}", 0))
        abort();
}

/* The common starting point: a v3 hierarchy g/{a3, s3} (the root is a v3 group) and a v2
 * one g2/{a2, sub}, each array with its first rows written (so writes below both update and
 * create chunks). */
static void setup_base(zarrc_store *s)
{
    zarrc_array *a = make_array(s, "g/a3", 3, "int32", H, W, 4, 5, NULL, "{\"units\":\"m\"}");
    put_rows(a, 0, 6, 0);
    zarrc_array_free(a);
    a = make_array(s, "g/s3", 3, "int32", 16, 16, 8, 8, SHARDED, NULL);
    put_rows(a, 0, 8, 0);
    zarrc_array_free(a);
    setup_v2(s);
}

/* setup_base plus consolidated metadata on both top groups. */
static void setup_consolidated(zarrc_store *s)
{
    setup_base(s);
    if (zarrc_consolidate(s, "g", NULL) || zarrc_consolidate(s, "g2", NULL))
        abort();
}

/* Only the v2 part (the root is a v2 group), consolidated at g2. */
static void setup_v2_consolidated(zarrc_store *s)
{
    setup_v2(s);
    if (zarrc_consolidate(s, "g2", NULL))
        abort();
}

/* A region with partial chunks on every side and whole chunks inside; the values of
 * rows [4, 8) x columns [5, 10) (chunk (1, 1) of a3/a2) are zero, the fill value, so that
 * chunk is erased rather than stored. */
static int write_region(zarrc_store *s, const char *path, int64_t r0, int64_t c0, int64_t h, int64_t w)
{
    zarrc_array *a = NULL;
    int rc = zarrc_array_open(&a, s, path);
    if (rc)
        return rc;
    int32_t *buf = malloc((size_t)(h * w) * sizeof *buf);
    fill_pattern(buf, r0, c0, h, w, 7);
    for (int64_t i = 0; i < h; i++)
        for (int64_t j = 0; j < w; j++)
            if (r0 + i >= 4 && r0 + i < 8 && c0 + j >= 5 && c0 + j < 10)
                buf[i * w + j] = 0;
    int64_t start[2] = {r0, c0}, count[2] = {h, w};
    rc = zarrc_array_write(a, start, count, NULL, buf, (size_t)(h * w) * sizeof *buf);
    free(buf);
    zarrc_array_free(a);
    return rc;
}

static int run_write_v3(zarrc_store *s) { return write_region(s, "g/a3", 1, 2, 8, 9); }
static int run_write_v2(zarrc_store *s) { return write_region(s, "g2/a2", 2, 0, 8, 12); }
/* Shards of 8x8 with inner chunks of 4x4 in a 16x16 array: partial shards, a whole shard. */
static int run_write_sharded(zarrc_store *s) { return write_region(s, "g/s3", 2, 3, 14, 13); }
static int run_write_sharded_whole(zarrc_store *s) { return write_region(s, "g/s3", 8, 0, 8, 16); }

#define WRONG_DATA (-1000)

/* Read a region and compare it with what setup_base wrote (missing rows read as 0). */
static int read_region(zarrc_store *s, const char *path, int64_t r0, int64_t c0, int64_t h, int64_t w,
                       int64_t written_rows)
{
    zarrc_array *a = NULL;
    int rc = zarrc_array_open(&a, s, path);
    if (rc)
        return rc;
    int32_t *buf = malloc((size_t)(h * w) * sizeof *buf);
    int64_t start[2] = {r0, c0}, count[2] = {h, w};
    rc = zarrc_array_read(a, start, count, NULL, buf, (size_t)(h * w) * sizeof *buf);
    for (int64_t i = 0; rc == ZARRC_OK && i < h; i++)
        for (int64_t j = 0; j < w; j++)
            if (buf[i * w + j] != (r0 + i < written_rows ? pattern(r0 + i, c0 + j, 0) : 0)) {
                rc = WRONG_DATA;
                break;
            }
    free(buf);
    zarrc_array_free(a);
    return rc;
}

static int run_read_v3(zarrc_store *s) { return read_region(s, "g/a3", 1, 2, 8, 9, 6); }
static int run_read_v2(zarrc_store *s) { return read_region(s, "g2/a2", 0, 0, H, W, 6); }
static int run_read_sharded(zarrc_store *s) { return read_region(s, "g/s3", 2, 3, 12, 10, 8); }

static int create_one(zarrc_store *s, const char *path, int format, const char *attrs)
{
    int64_t shape[2] = {6, 7}, chunks[2] = {3, 3};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.format = format;
    o.dtype = format == 3 ? "float32" : "<f4";
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    o.attributes = attrs;
    o.fill_value = "1.5";
    zarrc_array *a = NULL;
    int rc = zarrc_array_create(&a, s, path, &o);
    zarrc_array_free(a);
    return rc;
}

static int run_create_v3(zarrc_store *s) { return create_one(s, "g/new/deep/a", 3, "{\"x\":1}"); }
static int run_create_v2(zarrc_store *s) { return create_one(s, "g2/new/deep/a", 2, "{\"x\":1}"); }
static int run_create_v2_noattrs(zarrc_store *s) { return create_one(s, "g2/b", 2, NULL); }

static int copy_into(zarrc_store *s, const char *src_path, const char *dst_path, int allow_raw)
{
    zarrc_array *src = NULL, *dst = NULL;
    int rc = zarrc_array_open(&src, s, src_path);
    if (rc == ZARRC_OK)
        rc = zarrc_array_open(&dst, s, dst_path);
    if (rc == ZARRC_OK) {
        zarrc_copy_options o = ZARRC_COPY_OPTIONS_INIT;
        o.allow_raw = allow_raw;
        zarrc_copy_stats st;
        rc = zarrc_array_copy(dst, src, &o, &st);
    }
    zarrc_array_free(src);
    zarrc_array_free(dst);
    return rc;
}

static void setup_copy(zarrc_store *s)
{
    setup_base(s);
    zarrc_array_free(make_array(s, "c/raw", 3, "int32", H, W, 4, 5, NULL, NULL)); /* as g/a3 */
    zarrc_array_free(make_array(s, "c/conv", 3, "int32", H, W, 3, 7, NULL, NULL));
    zarrc_array_free(make_array(s, "c/shard", 3, "int32", 16, 16, 8, 8, SHARDED, NULL));
}

static int run_copy_raw(zarrc_store *s) { return copy_into(s, "g/a3", "c/raw", 1); }
static int run_copy_convert(zarrc_store *s) { return copy_into(s, "g2/a2", "c/conv", 1); }
static int run_copy_sharded(zarrc_store *s) { return copy_into(s, "g/s3", "c/shard", 1); }

static int hierarchy(zarrc_store *s, const char *root, const char *spec, unsigned flags)
{
    zarrc_hierarchy_report *r = NULL;
    zarrc_hierarchy_options o = ZARRC_HIERARCHY_OPTIONS_INIT;
    o.flags = flags;
    int rc = zarrc_hierarchy_create(&r, s, root, spec, &o);
    zarrc_hierarchy_report_free(r);
    return rc;
}

#define V3_ARR                                                                                     \
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[4,4],\"data_type\":\"int16\","           \
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2,2]}},"              \
    "\"chunk_key_encoding\":{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}},"        \
    "\"fill_value\":0,\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}],"  \
    "\"attributes\":{\"a\":1}}"
#define V2_ARR                                                                                     \
    "{\"zarr_format\":2,\"shape\":[4,4],\"chunks\":[2,2],\"dtype\":\"<i2\",\"compressor\":null,"    \
    "\"fill_value\":0,\"order\":\"C\",\"filters\":null,\"attributes\":{\"a\":1}}"

static int run_hierarchy_v3(zarrc_store *s)
{
    return hierarchy(s, "h", "{\"\":{\"zarr_format\":3,\"node_type\":\"group\",\"attributes\":{\"t\":1}},"
                             "\"x\":" V3_ARR ",\"sub/y\":" V3_ARR "}", 0);
}

static int run_hierarchy_v2(zarrc_store *s)
{
    return hierarchy(s, "h2", "{\"\":{\"zarr_format\":2,\"attributes\":{\"t\":1}},"
                              "\"x\":" V2_ARR ",\"sub/y\":" V2_ARR ",\"sub\":{\"zarr_format\":2}}", 0);
}

/* Into consolidated groups, updating their copies. */
static int run_hierarchy_update(zarrc_store *s)
{
    return hierarchy(s, "g2/h", "{\"x\":" V2_ARR ",\"\":{\"zarr_format\":2}}", ZARRC_UPDATE_CONSOLIDATED);
}

static int run_consolidate_v3(zarrc_store *s) { return zarrc_consolidate(s, "g", NULL); }
static int run_consolidate_v2(zarrc_store *s) { return zarrc_consolidate(s, "g2", NULL); }

static int set_attrs(zarrc_store *s, const char *path, const char *json, unsigned flags)
{
    zarrc_stale_list stale = {0};
    int rc = zarrc_node_set_attributes(s, path, json, flags, &stale);
    zarrc_stale_list_clear(&stale);
    return rc;
}

static int run_attrs_replace_v3(zarrc_store *s) { return set_attrs(s, "g/a3", "{\"r\":[1,{\"d\":2}]}", 0); }
static int run_attrs_merge_v3(zarrc_store *s) { return set_attrs(s, "g", "{\"m\":true}", ZARRC_ATTRS_MERGE); }
static int run_attrs_replace_v2(zarrc_store *s) { return set_attrs(s, "g2/a2", "{\"r\":2}", 0); }
static int run_attrs_merge_v2(zarrc_store *s) { return set_attrs(s, "g2/sub", "{\"m\":null}", ZARRC_ATTRS_MERGE); }
static int run_attrs_clear_v2(zarrc_store *s) { return set_attrs(s, "g2/sub", "{}", 0); }
static int run_attrs_update_v3(zarrc_store *s)
{
    return set_attrs(s, "g/a3", "{\"u\":3}", ZARRC_ATTRS_MERGE | ZARRC_UPDATE_CONSOLIDATED);
}
static int run_attrs_update_v2(zarrc_store *s)
{
    return set_attrs(s, "g2/a2", "{\"u\":3}", ZARRC_ATTRS_MERGE | ZARRC_UPDATE_CONSOLIDATED);
}

static int run_group_create_v3(zarrc_store *s) { return zarrc_group_create(s, "g/ng/deep", 3, "{\"a\":1}", 0); }
static int run_group_create_v2(zarrc_store *s) { return zarrc_group_create(s, "g2/ng/deep", 2, "{\"a\":1}", 0); }

static int run_consolidated_check(zarrc_store *s)
{
    size_t nd = 99, nd2 = 99;
    int rc = zarrc_consolidated_check(s, "g2", NULL, NULL, &nd);
    if (rc == ZARRC_OK)
        rc = zarrc_consolidated_check(s, "g", NULL, NULL, &nd2);
    return rc ? rc : nd || nd2 ? WRONG_DATA : ZARRC_OK;
}

/* Consolidated copies that a change without ZARRC_UPDATE_CONSOLIDATED left stale. */
static void setup_stale(zarrc_store *s)
{
    setup_consolidated(s);
    if (zarrc_node_set_attributes(s, "g2/a2", "{\"new\":1}", 0, NULL) ||
        zarrc_node_set_attributes(s, "g/a3", "{\"new\":1}", 0, NULL))
        abort();
}

/* Nodes deleted below consolidated groups without updating the copies. */
static void setup_deleted(zarrc_store *s)
{
    setup_consolidated(s);
    if (zarrc_node_delete(s, "g2/sub") || zarrc_node_delete(s, "g/s3"))
        abort();
}

static int run_consolidated_update_deleted(zarrc_store *s)
{
    int rc = zarrc_consolidated_update(s, "g2/sub");
    return rc ? rc : zarrc_consolidated_update(s, "g/s3");
}

static int run_consolidated_update_v2(zarrc_store *s) { return zarrc_consolidated_update(s, "g2/a2"); }
static int run_consolidated_update_v3(zarrc_store *s) { return zarrc_consolidated_update(s, "g/a3"); }

static int count_child(void *ctx, const zarrc_child_info *c)
{
    (void)c;
    ++*(int *)ctx;
    return 0;
}

/* A group handle on consolidated metadata: children and an array from the copy. */
static int run_group_open(zarrc_store *s)
{
    zarrc_group *g = NULL;
    zarrc_array *a = NULL;
    int n = 0;
    int rc = zarrc_group_open(&g, s, "g2", 0);
    if (rc == ZARRC_OK)
        rc = zarrc_group_children(g, count_child, &n);
    if (rc == ZARRC_OK)
        rc = zarrc_group_open_array(&a, g, "a2");
    if (rc == ZARRC_OK && (n != 2 || zarrc_array_shape(a)[0] != H))
        rc = WRONG_DATA;
    zarrc_array_free(a);
    zarrc_group_free(g);
    return rc;
}

static int run_delete_group(zarrc_store *s) { return zarrc_node_delete(s, "g"); }
static int run_delete_array(zarrc_store *s) { return zarrc_node_delete(s, "g2/a2"); }

static const op ops[] = {
    {"create v3", PER_NODE, false, setup_base, run_create_v3},
    {"create v2", PER_NODE, true, setup_base, run_create_v2},
    {"create v2 no attributes", WHOLE, false, setup_base, run_create_v2_noattrs},
    {"write v3", PER_NODE, false, setup_base, run_write_v3},
    {"write v2", PER_NODE, false, setup_base, run_write_v2},
    {"write sharded", PER_NODE, true, setup_base, run_write_sharded},
    {"write sharded whole", PER_NODE, false, setup_base, run_write_sharded_whole},
    {"read v3", WHOLE, false, setup_base, run_read_v3},
    {"read v2", WHOLE, false, setup_base, run_read_v2},
    {"read sharded", WHOLE, false, setup_base, run_read_sharded},
    {"copy raw", PER_NODE, false, setup_copy, run_copy_raw},
    {"copy convert", PER_NODE, false, setup_copy, run_copy_convert},
    {"copy sharded", PER_NODE, false, setup_copy, run_copy_sharded},
    {"hierarchy v3", PER_NODE, false, setup_base, run_hierarchy_v3},
    {"hierarchy v2", PER_NODE, true, setup_v2, run_hierarchy_v2},
    {"hierarchy update consolidated", PER_NODE, false, setup_v2_consolidated, run_hierarchy_update},
    {"consolidate v3", WHOLE, false, setup_base, run_consolidate_v3},
    {"consolidate v2", WHOLE, true, setup_base, run_consolidate_v2},
    {"attributes replace v3", WHOLE, false, setup_base, run_attrs_replace_v3},
    {"attributes merge v3", WHOLE, false, setup_base, run_attrs_merge_v3},
    {"attributes replace v2", WHOLE, false, setup_base, run_attrs_replace_v2},
    {"attributes merge v2", WHOLE, false, setup_base, run_attrs_merge_v2},
    {"attributes clear v2", WHOLE, false, setup_base, run_attrs_clear_v2},
    {"attributes update consolidated v3", PER_NODE, false, setup_consolidated, run_attrs_update_v3},
    {"attributes update consolidated v2", PER_NODE, false, setup_consolidated, run_attrs_update_v2},
    {"group create v3", PER_NODE, false, setup_base, run_group_create_v3},
    {"group create v2", PER_NODE, false, setup_base, run_group_create_v2},
    {"consolidated check", WHOLE, false, setup_consolidated, run_consolidated_check},
    {"consolidated update v3", WHOLE, false, setup_stale, run_consolidated_update_v3},
    {"consolidated update v2", WHOLE, false, setup_stale, run_consolidated_update_v2},
    {"consolidated update deleted", PER_NODE, false, setup_deleted, run_consolidated_update_deleted},
    {"group open consolidated", WHOLE, false, setup_consolidated, run_group_open},
    {"delete group", ERASES, true, setup_base, run_delete_group},
    {"delete array", ERASES, true, setup_base, run_delete_array},
};

/* ------------------------------------------------------------------------------------------ */
/* Checking one run                                                                            */
/* ------------------------------------------------------------------------------------------ */

typedef struct run_ctx {
    const op *o;
    const char *mode; /* "store EIO", "alloc", ... */
    long n;
    bool broken_store; /* every store call fails after the first failure */
    bool whole;        /* the store must be exactly as before or as after */
    const snap *before, *after;
} run_ctx;

#define FAIL(c, ...)                                                                               \
    do {                                                                                           \
        check_failures++;                                                                          \
        fprintf(stderr, "FAIL %s [%s, N=%ld]: ", (c)->o->name, (c)->mode, (c)->n);                \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
    } while (0)

/* Every metadata document parses and every node whose document exists opens. */
static void check_readable(const run_ctx *c, zarrc_store *st, const snap *now)
{
    for (size_t i = 0; i < now->n; i++) {
        size_t dl;
        int which = meta_key(now->v[i].key, &dl);
        if (which < 0)
            continue;
        check_count++;
        json_object *doc = NULL;
        if (zarrc__json_parse(&doc, (const char *)now->v[i].val, now->v[i].n, now->v[i].key) || !doc) {
            FAIL(c, "metadata document '%s' does not parse: %s", now->v[i].key, zarrc_error_last());
            continue;
        }
        json_object_put(doc);
        if (which > 2)
            continue; /* .zattrs / .zmetadata: the node's own document is checked */
        char *path = strndup(now->v[i].key, dl);
        zarrc_node_kind kind;
        int format;
        int rc = zarrc_node_probe(&kind, &format, st, path);
        if (rc == ZARRC_OK && kind == ZARRC_NODE_ARRAY) {
            zarrc_array *a = NULL;
            rc = zarrc_array_open(&a, st, path);
            zarrc_array_free(a);
        } else if (rc == ZARRC_OK) {
            zarrc_group *g = NULL;
            rc = zarrc_group_open(&g, st, path, 0);
            zarrc_group_free(g);
        }
        if (rc)
            FAIL(c, "node '%s' (has '%s') does not open: %s", path, now->v[i].key, zarrc_error_last());
        free(path);
    }
}

/* Whether the node of metadata key `key` is invisible (no zarr.json, .zarray or .zgroup) now
 * and before: attributes left there by a creation whose clean-up failed too (the store stays
 * broken). Creating a node there erases them (test_leftover_attributes). */
static bool orphan(const run_ctx *c, const snap *now, const char *key, size_t dl)
{
    for (int m = 0; m < 3; m++) {
        char k2[1024];
        snprintf(k2, sizeof k2, "%.*s%s%s", (int)dl, key, dl ? "/" : "", meta_names[m]);
        if (snap_find(now, k2) || snap_find(c->before, k2))
            return false;
    }
    return true;
}

/* Deletion removes a node's main document (zarr.json / .zarray / .zgroup) before its
 * secondary ones (.zattrs, .zmetadata): a node whose main document is gone is gone, and what
 * is left of its secondary documents is invisible (a later create of a v2 node erases a
 * leftover .zattrs first). */
static bool main_doc_gone(const snap *now, const char *key, size_t dl)
{
    for (int m = 0; m < 3; m++) {
        char k2[1024];
        snprintf(k2, sizeof k2, "%.*s%s%s", (int)dl, key, dl ? "/" : "", meta_names[m]);
        if (snap_find(now, k2))
            return false;
    }
    return true;
}

/* Each key old or new, and each node's metadata documents all old or all new. */
static void check_per_node(const run_ctx *c, const snap *now)
{
    const snap *all[3] = {now, c->before, c->after};
    for (int s = 0; s < 3; s++)
        for (size_t i = 0; i < all[s]->n; i++) {
            const char *key = all[s]->v[i].key;
            const kv *x = snap_find(now, key), *b = snap_find(c->before, key), *a = snap_find(c->after, key);
            check_count++;
            if (!same_value(x, b) && !same_value(x, a)) {
                FAIL(c, "key '%s' is neither as before nor as after (%s)", key, x ? "changed" : "missing");
                continue;
            }
            size_t dl;
            if (meta_key(key, &dl) < 0)
                continue;
            /* The node's documents must agree on one side. */
            bool can_old = true, can_new = true;
            for (int m = 0; m < 5; m++) {
                char k2[1024];
                snprintf(k2, sizeof k2, "%.*s%s%s", (int)dl, key, dl ? "/" : "", meta_names[m]);
                const kv *x2 = snap_find(now, k2);
                can_old &= same_value(x2, snap_find(c->before, k2));
                can_new &= same_value(x2, snap_find(c->after, k2));
            }
            if (!can_old && !can_new && !(c->broken_store && orphan(c, now, key, dl)) &&
                !(c->o->level == ERASES && main_doc_gone(now, key, dl)))
                FAIL(c, "node '%.*s' has metadata documents from before and after mixed", (int)dl, key);
        }
}

static void check_run(const run_ctx *c, zarrc_store *st, int rc, bool fired, int want_code, const char *what)
{
    snap now = snap_take(st);
    check_count++;
    if (rc == WRONG_DATA)
        FAIL(c, "wrong data read");
    else if (!fired && rc)
        FAIL(c, "failed without a fault (%d): %s", rc, zarrc_error_last());
    else if (rc == ZARRC_OK) {
        /* Done, or the fault was absorbed: exactly the clean result. */
        if (!snap_equal(&now, c->after))
            FAIL(c, "succeeded but the store differs from a clean run");
        if (zarrc_error_code() != ZARRC_OK)
            FAIL(c, "succeeded with an error left set: %d '%s'", zarrc_error_code(), zarrc_error_last());
    } else {
        if (rc != want_code)
            FAIL(c, "returned %d (%s), the fault was %d: %s", rc, zarrc_strerror(rc), want_code, zarrc_error_last());
        if (zarrc_error_code() != rc)
            FAIL(c, "returned %d, zarrc_error_code() is %d", rc, zarrc_error_code());
        /* With a store that stays broken, a fault the library absorbs (an unreadable v2 .zattrs
         * does not stop data access) is followed by the next failing call, which is named. */
        if (!strstr(zarrc_error_last(), what) && !(c->broken_store && strstr(zarrc_error_last(), "faulty store:")))
            FAIL(c, "message does not name '%s': '%s'", what, zarrc_error_last());
        if (c->whole) {
            if (!snap_equal(&now, c->before) && !snap_equal(&now, c->after))
                FAIL(c, "the store is neither as before nor as after: %s", zarrc_error_last());
        } else
            check_per_node(c, &now);
    }
    check_readable(c, st, &now);
    snap_free(&now);
}

/* ------------------------------------------------------------------------------------------ */
/* The loops                                                                                   */
/* ------------------------------------------------------------------------------------------ */

#define MAX_RUNS 200000

static long total_runs;

enum { STORE_FAULTS = 1, ALLOC_FAULTS = 2, ALLOC_PERSISTENT = 4, ALL_FAULTS = 7 };

/* One operation under the fault modes of `modes`. */
static void test_op(const op *o, backend latency, int threads, unsigned modes)
{
    zarrc_set_num_threads(threads);
    zarrc_set_io_concurrency(threads);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* The starting state, and the state after a clean run. */
    zarrc_store *st = NULL;
    if (zarrc_store_open(&st, "faulty://", 0))
        abort();
    o->setup(st);
    snap before = snap_take(st);
    zarrc_store_free(st);
    st = store_from(&before, latency);
    int rc = o->run(st);
    snap after = snap_take(st);
    zarrc_store_free(st);
    run_ctx c = {o, "clean", 0, false, o->level == WHOLE, &before,
                 &after};
    if (rc) {
        FAIL(&c, "a clean run fails (%d): %s", rc, zarrc_error_last());
        snap_free(&before);
        snap_free(&after);
        return;
    }

    /* Store faults: one failing call (each error kind), then a store that stays broken. */
    static const char *const store_modes[] = {"store EIO", "store EAUTH", "store ENOSPC", "store EIO persistent"};
    long calls = 0;
    for (int m = 0; m < 4 && (modes & STORE_FAULTS); m++) {
        c.mode = store_modes[m];
        c.broken_store = m == 3;
        for (c.n = 1; c.n < MAX_RUNS; c.n++) {
            st = store_from(&before, latency);
            fault_arm(c.n, m < 3 ? m : 0, m == 3);
            rc = o->run(st);
            bool fired = fault.fired > 0;
            char what[sizeof fault.what];
            memcpy(what, fault.what, sizeof what);
            fault_off();
            /* Several calls may fail at once on a broken store with threads: the error is
             * that of the lowest failing chunk, which need not be the first call made. */
            check_run(&c, st, rc, fired, kinds[m < 3 ? m : 0].code,
                      m == 3 && threads > 1 ? "faulty store: " : what);
            zarrc_store_free(st);
            total_runs++;
            if (!fired)
                break;
        }
        calls = c.n - 1;
        if (c.n == MAX_RUNS)
            FAIL(&c, "did not finish");
    }

    /* Allocation faults: one failing allocation, then all allocations failing from the n-th. */
    long allocs = 0;
    for (int persistent = 0; persistent < 2; persistent++) {
        if (!(modes & (persistent ? ALLOC_PERSISTENT : ALLOC_FAULTS)))
            continue;
        c.mode = persistent ? "alloc persistent" : "alloc";
        c.broken_store = false;
        for (c.n = 1; c.n < MAX_RUNS; c.n++) {
            st = store_from(&before, latency);
            zarrc__alloc_fail_after(c.n, persistent);
            rc = o->run(st);
            bool fired = zarrc__alloc_failures() > 0;
            zarrc__alloc_fail_after(0, false);
            check_run(&c, st, rc, fired, ZARRC_ENOMEM, "out of memory");
            zarrc_store_free(st);
            total_runs++;
            if (!fired)
                break;
        }
        allocs = c.n - 1;
        if (c.n == MAX_RUNS)
            FAIL(&c, "did not finish");
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%-34s %-9s %d thread%s %4ld store calls, %5ld allocations, %6.0f ms\n", o->name,
           backend_names[latency], threads, threads > 1 ? "s" : " ", calls, allocs,
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    snap_free(&before);
    snap_free(&after);
}

static int count_name(void *ctx, const char *name, int is_prefix)
{
    (void)name;
    (void)is_prefix;
    ++*(int *)ctx;
    return 0;
}

/* The fault machinery itself: the n-th store call and the n-th allocation fail, once. */
static void test_hooks(void)
{
    zarrc_store *st = NULL;
    CHECK_OK(zarrc_store_open(&st, "faulty://", 0));
    fault_arm(2, 2, false);
    CHECK_OK(zarrc_store_set(st, "k", "v", 1));
    CHECK_ERR(zarrc_store_set(st, "k2", "v", 1), ZARRC_EIO, "set 'k2': no space left");
    CHECK_OK(zarrc_store_set(st, "k3", "v", 1));
    fault_arm(1, 1, true);
    CHECK_ERR(zarrc_store_size(&(uint64_t){0}, st, "k"), ZARRC_EAUTH, "size 'k'");
    int names = 0;
    CHECK_ERR(zarrc_store_list(st, "", count_name, &names), ZARRC_EAUTH, "list ''");
    CHECK(names == 1); /* one name, then the failure */
    fault_arm(1, 0, false);
    CHECK_ERR(zarrc__store_set_if_absent(st, "k4", "v", 1), ZARRC_EIO, "set_if 'k4': injected I/O error");
    fault_off();
    void *d;
    size_t n;
    CHECK_OK(zarrc_store_get(&d, &n, st, "k3"));
    zarrc_free(d);
    CHECK(zarrc_store_get(&d, &n, st, "k2") == ZARRC_ENOTFOUND);
    zarrc_store_free(st);

    zarrc__alloc_fail_after(2, false);
    char *a = zarrc__strdup("a"), *b = zarrc__strdup("b"), *c = zarrc__strdup("c");
    CHECK(a && !b && c && zarrc__alloc_failures() == 1);
    CHECK(!strcmp(zarrc_error_last(), "out of memory"));
    free(a);
    free(c);
    zarrc__alloc_fail_after(1, true);
    a = zarrc__strdup("a");
    zarrc_buf buf = ZARRC_BUF_INIT;
    CHECK(!a && zarrc_buf_reserve(&buf, 10) == ZARRC_ENOMEM && zarrc__alloc_failures() == 2);
    zarrc__alloc_fail_after(0, false);
    a = zarrc__strdup("a");
    CHECK(a && zarrc__alloc_failures() == 0);
    free(a);
}

/* A .zattrs without its node (a creation killed between its two writes, or one whose clean-up
 * failed) is not inherited by the next v2 node created there. */
static void test_leftover_attributes(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    const char *stale = "{\"stale\": 1}";
    CHECK_OK(zarrc_store_set(s, ".zattrs", stale, strlen(stale)));
    CHECK_OK(zarrc_store_set(s, "g/.zattrs", stale, strlen(stale)));
    CHECK_OK(zarrc_store_set(s, "a/.zattrs", stale, strlen(stale)));
    CHECK_OK(zarrc_store_set(s, "h/x/.zattrs", stale, strlen(stale)));
    CHECK_OK(zarrc_group_create(s, "g", 2, NULL, 0)); /* and the root as its ancestor */
    CHECK_OK(create_one(s, "a", 2, NULL));
    CHECK_OK(hierarchy(s, "h", "{\"x\":{\"zarr_format\":2}}", 0));
    const char *const paths[] = {"", "g", "a", "h/x"};
    for (int i = 0; i < 4; i++) {
        char *json = NULL;
        CHECK_OK(zarrc_node_attributes(&json, s, paths[i]));
        CHECK_MSG(json && !strcmp(json, "{}"), "'%s' has attributes %s", paths[i], json ? json : "?");
        zarrc_free(json);
    }
    zarrc_store_free(s);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    CHECK_OK(zarrc_store_register(&faulty_store));
    CHECK_OK(zarrc_store_register(&faulty_latency_store));
    CHECK_OK(zarrc_store_register(&faulty_fs_store));
    const char *tmp = getenv("ZARRC_TEST_TMP");
    snprintf(fs_dir, sizeof fs_dir, "%s/test_fault", tmp && *tmp ? tmp : "/tmp");
    test_hooks();
    test_leftover_attributes();
    const char *only = argc > 1 ? argv[1] : NULL;
    /* One thread: the n-th call and the n-th allocation are the same in every run. Then the
     * operations that run on the pools again with 4 threads: which call is the n-th varies
     * from run to run there, what must hold after each run does not. */
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        if (only && !strstr(ops[i].name, only))
            continue;
        bool engine = !strncmp(ops[i].name, "write", 5) || !strncmp(ops[i].name, "read", 4) ||
                      !strncmp(ops[i].name, "copy", 4);
        test_op(&ops[i], MEMORY, 1, ALL_FAULTS);
        if (engine)
            test_op(&ops[i], MEMORY_LATENCY, 1, ALL_FAULTS);
        if (engine || !strncmp(ops[i].name, "hierarchy", 9) || !strncmp(ops[i].name, "consolidate", 11))
            test_op(&ops[i], engine ? MEMORY_LATENCY : MEMORY, 4, ALL_FAULTS);
        /* The directory store's own allocations (paths, temp files, listings). */
        if (ops[i].on_dir)
            test_op(&ops[i], DIRECTORY, 1, ALLOC_FAULTS);
    }
    printf("%ld runs\n", total_runs);
    return check_report("test_fault");
}
