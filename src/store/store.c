/* store.c — store registry, handles and the public store API. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "store.h"

extern const zarrc_store_type zarrc__store_fs, zarrc__store_memory, zarrc__store_s3, zarrc__store_http,
    zarrc__store_https, zarrc__store_zip;

static const zarrc_store_type *const builtin_stores[] = {&zarrc__store_fs, &zarrc__store_memory, &zarrc__store_s3,
                                                        &zarrc__store_http, &zarrc__store_https, &zarrc__store_zip};
#define NBUILTIN (sizeof builtin_stores / sizeof *builtin_stores)
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static const zarrc_store_type **plugin_stores;
static size_t nplugin_stores;

int zarrc_store_register(const zarrc_store_type *type)
{
    zarrc__error_clear();
    if (!type || type->version < 1 || type->version > ZARRC_STORE_TYPE_VERSION || !type->scheme || !type->open ||
        !type->get || !type->list_dir)
        return zarrc_error_set(ZARRC_EINVAL, "store type is incomplete or of another version");
    pthread_mutex_lock(&reg_lock);
    const zarrc_store_type **p = zarrc__realloc(plugin_stores, (nplugin_stores + 1) * sizeof *p);
    if (p) {
        plugin_stores = p;
        plugin_stores[nplugin_stores++] = type;
    }
    pthread_mutex_unlock(&reg_lock);
    return p ? ZARRC_OK : ZARRC_ENOMEM;
}

static const zarrc_store_type *find_scheme(const char *scheme, size_t len)
{
    const zarrc_store_type *hit = NULL;
    pthread_mutex_lock(&reg_lock);
    for (size_t i = nplugin_stores; i-- > 0 && !hit;)
        if (strlen(plugin_stores[i]->scheme) == len && !strncmp(plugin_stores[i]->scheme, scheme, len))
            hit = plugin_stores[i];
    pthread_mutex_unlock(&reg_lock);
    for (size_t i = 0; i < NBUILTIN && !hit; i++)
        if (strlen(builtin_stores[i]->scheme) == len && !strncmp(builtin_stores[i]->scheme, scheme, len))
            hit = builtin_stores[i];
    return hit;
}

int zarrc_store_open(zarrc_store **out, const char *url, unsigned flags)
{
    zarrc__error_clear();
    *out = NULL;
    if (!url || !*url)
        return zarrc_error_set(ZARRC_EINVAL, "empty store location");
    const char *sep = strstr(url, "://");
    const zarrc_store_type *type;
    const char *location = url;
    size_t ul = strlen(url);
    if (!strncmp(url, "zip:", 4) && strncmp(url, "zip://", 6)) {
        type = &zarrc__store_zip; /* zip:PATH */
        location = url + 4;
    } else if (strncmp(url, "zip://", 6) &&
               ((ul > 4 && !strcmp(url + ul - 4, ".zip")) || zarrc__zip_split(url) < ul)) {
        type = &zarrc__store_zip; /* any URL of a .zip file (the archive in its store), or of a node in one */
    } else if (sep) {
        type = find_scheme(url, (size_t)(sep - url));
        if (!type)
            return zarrc_error_set(ZARRC_EINVAL, "unknown store scheme in '%s'", url);
        location = sep + 3;
    } else
        type = &zarrc__store_fs;
    zarrc_store *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    s->type = type;
    s->flags = flags;
    s->refs = 1;
    s->url = zarrc__strdup(url);
    int rc = s->url ? type->open(&s->state, location, flags) : ZARRC_ENOMEM;
    if (rc) {
        free(s->url);
        free(s);
        return zarrc__error_context(rc, "store '%s': ", url);
    }
    if (type == &zarrc__store_s3)
        s->type = zarrc__s3_resolved_type(s->state);
    *out = s;
    return ZARRC_OK;
}

zarrc_store *zarrc__store_ref(zarrc_store *s)
{
    __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
    return s;
}

void zarrc__store_unref(zarrc_store *s)
{
    if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    if (s->type->close)
        s->type->close(s->state);
    free(s->url);
    free(s);
}

void zarrc_store_free(zarrc_store *s) { zarrc__store_unref(s); }

static int check_writable(zarrc_store *s)
{
    if ((s->flags & ZARRC_STORE_READONLY) || !s->type->set)
        return zarrc_error_set(ZARRC_EREADONLY, "store '%s' is read-only", s->url);
    return ZARRC_OK;
}

int zarrc__store_get(zarrc_store *s, const char *key, int64_t offset, int64_t length, zarrc_buf *out)
{
    out->size = 0;
    return s->type->get(s->state, key, offset, length, out);
}

/* Members added in version 2 (3, 4) of zarrc_store_type exist only in structs of that version. */
#define V2(s, member) ((s)->type->version >= 2 ? (s)->type->member : NULL)
#define V3(s, member) ((s)->type->version >= 3 ? (s)->type->member : NULL)
#define V4(s, member) ((s)->type->version >= 4 ? (s)->type->member : NULL)

int zarrc__store_get_pieces(zarrc_store *s, const char *key, uint8_t *buf, size_t cap,
                            int (*sink)(void *ctx, uint64_t total, const uint8_t *piece, size_t len), void *ctx)
{
    if (!V4(s, get_pieces))
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "store '%s' cannot read '%s' in pieces", s->url ? s->url : "",
                               key);
    return s->type->get_pieces(s->state, key, buf, cap, sink, ctx);
}

bool zarrc__store_has_pieces(const zarrc_store *s) { return V4(s, get_pieces) != NULL; }

/* Store a value given as pieces through the backend: its putv, else the pieces joined into one
 * buffer for its put (or set, which knows no flags). */
static int backend_put(zarrc_store *s, const char *key, const zarrc_vref *parts, size_t n, unsigned flags,
                       const char *version)
{
    if (V3(s, putv))
        return s->type->putv(s->state, key, parts, n, flags, version);
    const void *data = n ? (const void *)parts[0].ptr : "";
    size_t size = n ? parts[0].len : 0;
    zarrc_buf joined = ZARRC_BUF_INIT;
    if (n > 1) {
        size = 0;
        for (size_t i = 0; i < n; i++)
            if (__builtin_add_overflow(size, parts[i].len, &size))
                return zarrc_error_set(ZARRC_EINVAL, "value of '%s' is too large", key);
        int rc = zarrc_buf_reserve(&joined, size);
        if (rc)
            return rc;
        for (size_t i = 0; i < n; i++) {
            if (parts[i].len)
                memcpy(joined.data + joined.size, parts[i].ptr, parts[i].len);
            joined.size += parts[i].len;
        }
        data = joined.data;
    }
    int rc = V2(s, put) ? s->type->put(s->state, key, data, size, flags, version)
                        : s->type->set(s->state, key, data, size);
    zarrc_buf_release(&joined);
    return rc;
}

static int put_with(zarrc_store *s, const char *key, const void *data, size_t n, unsigned flags)
{
    int rc = check_writable(s);
    if (rc)
        return rc;
    return backend_put(s, key, &(zarrc_vref){data, n}, 1, flags, NULL);
}

int zarrc__store_set(zarrc_store *s, const char *key, const void *data, size_t n)
{
    return put_with(s, key, data, n, 0);
}

int zarrc__store_set_durable(zarrc_store *s, const char *key, const void *data, size_t n)
{
    return put_with(s, key, data, n, ZARRC_PUT_DURABLE);
}

int zarrc__store_version(zarrc_store *s, const char *key, char *version)
{
    if (!V2(s, version_of))
        return ZARRC_EUNSUPPORTED;
    return s->type->version_of(s->state, key, version);
}

zarrc__store_safety zarrc__store_safety_of(const zarrc_store *s)
{
    if (V2(s, lock) && s->type->unlock)
        return ZARRC_SAFETY_LOCK;
    if (V2(s, put) && s->type->get_versioned)
        return ZARRC_SAFETY_CAS;
    return ZARRC_SAFETY_NONE;
}

int zarrc__store_lock(zarrc_store *s, const char *key, void **lock)
{
    *lock = NULL;
    if (zarrc__store_safety_of(s) != ZARRC_SAFETY_LOCK)
        return ZARRC_OK;
    int rc = s->type->lock(s->state, key, lock);
    return rc ? zarrc__error_context(rc, "lock for '%s': ", key) : ZARRC_OK;
}

void zarrc__store_unlock(zarrc_store *s, void *lock)
{
    if (lock)
        s->type->unlock(s->state, lock);
}

int zarrc__store_set_locked(zarrc_store *s, const char *key, const void *data, size_t n)
{
    return zarrc__store_write_parts(s, key, &(zarrc_vref){data, n}, 1, ZARRC_WRITE_LOCKED, NULL);
}

int zarrc__store_erase_locked(zarrc_store *s, const char *key)
{
    void *lk;
    int rc = check_writable(s);
    if (rc == ZARRC_OK)
        rc = zarrc__store_lock(s, key, &lk);
    if (rc)
        return rc;
    rc = s->type->erase(s->state, key);
    zarrc__store_unlock(s, lk);
    return rc;
}

/* Jitter for retries: a per-thread xorshift seeded from the clock and the thread. */
static uint64_t jitter_u64(void)
{
    static __thread uint64_t x;
    if (!x) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        x = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&x;
        x |= 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

void zarrc__store_backoff(int attempt)
{
    /* Exponential from 1 µs, capped near 1 ms, plus up to 1 ms of jitter. */
    struct timespec ts = {0, (long)(1000L << (attempt < 10 ? attempt : 10)) + (long)(jitter_u64() % 1000000u)};
    nanosleep(&ts, NULL);
}

int zarrc__store_get_versioned(zarrc_store *s, const char *key, zarrc_buf *out, char *version)
{
    out->size = 0;
    version[0] = '\0';
    if (zarrc__store_safety_of(s) == ZARRC_SAFETY_CAS)
        return s->type->get_versioned(s->state, key, out, version);
    return s->type->get(s->state, key, 0, -1, out);
}

int zarrc__store_put_if_version(zarrc_store *s, const char *key, const void *data, size_t n, const char *version)
{
    return zarrc__store_write_parts(s, key, &(zarrc_vref){data, n}, 1, ZARRC_WRITE_IF_VERSION, version);
}

int zarrc__store_write_parts(zarrc_store *s, const char *key, const zarrc_vref *parts, size_t n,
                             zarrc__write_mode mode, const char *version)
{
    int rc = check_writable(s);
    if (rc)
        return rc;
    zarrc__store_safety safety = zarrc__store_safety_of(s);
    if (mode == ZARRC_WRITE_IF_VERSION && safety == ZARRC_SAFETY_CAS) {
        rc = backend_put(s, key, parts, n, version ? ZARRC_PUT_IF_MATCH : ZARRC_PUT_IF_ABSENT, version);
        if (rc == ZARRC_EEXISTS || rc == ZARRC_ECONFLICT) {
            zarrc__error_clear();
            return zarrc_error_set(ZARRC_ECONFLICT, "key '%s' was changed by another writer", key);
        }
        return rc;
    }
    void *lk = NULL;
    if (mode == ZARRC_WRITE_LOCKED && (rc = zarrc__store_lock(s, key, &lk)))
        return rc;
    rc = backend_put(s, key, parts, n, 0, NULL);
    zarrc__store_unlock(s, lk);
    return rc;
}

/* Compare-and-swap retries before a read-modify-write gives up with ZARRC_ECONFLICT. */
#define CAS_ATTEMPTS 64

int zarrc__store_update(zarrc_store *s, const char *key, unsigned flags, zarrc__update_fn fn, void *ctx)
{
    int rc = check_writable(s);
    if (rc)
        return rc;
    zarrc__store_safety safety = zarrc__store_safety_of(s);
    unsigned put_flags = (flags & ZARRC_UPDATE_DURABLE) ? ZARRC_PUT_DURABLE : 0;
    zarrc_buf old = ZARRC_BUF_INIT, out = ZARRC_BUF_INIT;
    for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        char version[ZARRC_STORE_VERSION_MAX] = "";
        void *lk = NULL;
        old.size = out.size = 0;
        if (safety == ZARRC_SAFETY_LOCK && (rc = zarrc__store_lock(s, key, &lk)))
            break;
        if (safety == ZARRC_SAFETY_CAS)
            rc = s->type->get_versioned(s->state, key, &old, version);
        else
            rc = zarrc__store_get(s, key, 0, -1, &old);
        if (rc && rc != ZARRC_ENOTFOUND) {
            zarrc__store_unlock(s, lk);
            rc = zarrc__error_context(rc, "key '%s': ", key);
            break;
        }
        bool exists = rc == ZARRC_OK;
        /* An unconditional erase could remove a value another writer stored after our read, so
         * compare-and-swap stores keep a value instead. */
        zarrc__update_action act = ZARRC_UPDATE_NONE;
        rc = fn(ctx, exists ? &old : NULL, &out, safety != ZARRC_SAFETY_CAS, &act);
        if (rc == ZARRC_OK && act == ZARRC_UPDATE_SET) {
            if (safety == ZARRC_SAFETY_CAS)
                rc = s->type->put(s->state, key, out.data, out.size,
                                  put_flags | (exists ? ZARRC_PUT_IF_MATCH : ZARRC_PUT_IF_ABSENT),
                                  exists ? version : NULL);
            else if (put_flags)
                rc = zarrc__store_set_durable(s, key, out.data, out.size);
            else
                rc = zarrc__store_set(s, key, out.data, out.size);
        } else if (rc == ZARRC_OK && act == ZARRC_UPDATE_ERASE && exists) {
            rc = s->type->erase(s->state, key);
            if (rc == ZARRC_ENOTFOUND)
                rc = ZARRC_OK;
        }
        zarrc__store_unlock(s, lk);
        if (safety == ZARRC_SAFETY_CAS && (rc == ZARRC_ECONFLICT || rc == ZARRC_EEXISTS)) {
            /* Lost the race: back off a little (randomized) and redo the update. */
            zarrc__error_clear();
            zarrc__store_backoff(attempt);
            rc = ZARRC_ECONFLICT;
            continue;
        }
        break;
    }
    if (rc == ZARRC_ECONFLICT && zarrc_error_code() == ZARRC_OK)
        zarrc_error_set(rc, "key '%s': gave up after %d concurrent modifications", key, CAS_ATTEMPTS);
    zarrc_buf_release(&old);
    zarrc_buf_release(&out);
    return rc;
}

int zarrc__store_set_if_absent(zarrc_store *s, const char *key, const void *data, size_t n)
{
    int rc = check_writable(s);
    if (rc)
        return rc;
    if (V2(s, put))
        return s->type->put(s->state, key, data, n, ZARRC_PUT_IF_ABSENT, NULL);
    if (s->type->set_if)
        return s->type->set_if(s->state, key, data, n, ZARRC_SET_IF_ABSENT);
    /* Emulation for backends without conditional writes (not atomic). */
    uint64_t size;
    rc = s->type->size(s->state, key, &size);
    if (rc == ZARRC_OK)
        return ZARRC_EEXISTS;
    if (rc != ZARRC_ENOTFOUND)
        return rc;
    return s->type->set(s->state, key, data, n);
}

int zarrc__store_erase(zarrc_store *s, const char *key)
{
    int rc = check_writable(s);
    return rc ? rc : s->type->erase(s->state, key);
}

int zarrc__store_erase_prefix(zarrc_store *s, const char *prefix)
{
    int rc = check_writable(s);
    return rc ? rc : s->type->erase_prefix(s->state, prefix);
}

int zarrc__store_list_dir(zarrc_store *s, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    return s->type->list_dir(s->state, prefix, cb, ctx);
}

int zarrc__store_list(zarrc_store *s, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    if (!s->type->list)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "store '%s' cannot list keys", s->url);
    return s->type->list(s->state, prefix, cb, ctx);
}

typedef struct many_ctx {
    zarrc_store *s;
    zarrc_get_request *reqs;
} many_ctx;

static int get_one(void *ctx, size_t i)
{
    many_ctx *m = ctx;
    zarrc_get_request *r = &m->reqs[i];
    r->out->size = 0;
    r->status = m->s->type->get(m->s->state, r->key, r->offset, r->length, r->out);
    if (r->status == ZARRC_OK || r->status == ZARRC_ENOTFOUND)
        return ZARRC_OK;
    /* A real error ends the batch; the pool reports the first one with its message. */
    return zarrc__error_context(r->status, "key '%s': ", r->key);
}

bool zarrc__store_has_latency(const zarrc_store *s) { return (s->type->caps & ZARRC_STORE_CAP_LATENCY) != 0; }

int zarrc__store_get_many(zarrc_store *s, zarrc_get_request *reqs, size_t n)
{
    if (s->type->get_many)
        return s->type->get_many(s->state, reqs, n);
    many_ctx m = {s, reqs};
    /* Stores with latency get their requests in flight at once, on the I/O pool. */
    if (zarrc__store_has_latency(s))
        return zarrc__io_run(n, get_one, &m);
    for (size_t i = 0; i < n; i++) {
        int rc = get_one(&m, i);
        if (rc)
            return rc;
    }
    return ZARRC_OK;
}

char *zarrc__store_canonical(zarrc_store *s)
{
    char *c = s->type->canonical ? s->type->canonical(s->state) : zarrc__strdup(s->url);
    if (!c)
        zarrc__enomem();
    return c;
}

/* ---- public wrappers ---- */

static int get_to_heap(void **data, size_t *size, zarrc_store *s, const char *key, int64_t off, int64_t len)
{
    zarrc__error_clear();
    zarrc_buf b = ZARRC_BUF_INIT;
    *data = NULL;
    *size = 0;
    int rc = zarrc__store_get(s, key, off, len, &b);
    if (rc) {
        zarrc_buf_release(&b);
        if (rc == ZARRC_ENOTFOUND && zarrc_error_code() == ZARRC_OK)
            zarrc_error_set(rc, "key '%s' not found", key);
        return rc;
    }
    *data = b.data;
    *size = b.size;
    return ZARRC_OK;
}

int zarrc_store_get(void **data, size_t *size, zarrc_store *s, const char *key)
{
    return get_to_heap(data, size, s, key, 0, -1);
}

int zarrc_store_get_range(void **data, size_t *size, zarrc_store *s, const char *key, int64_t off, int64_t len)
{
    return get_to_heap(data, size, s, key, off, len);
}

int zarrc_store_set(zarrc_store *s, const char *key, const void *data, size_t size)
{
    zarrc__error_clear();
    return zarrc__store_set(s, key, data, size);
}

int zarrc_store_version(char *version, size_t size, zarrc_store *s, const char *key)
{
    zarrc__error_clear();
    char v[ZARRC_STORE_VERSION_MAX];
    int rc = zarrc__store_version(s, key, v);
    if (rc == ZARRC_EUNSUPPORTED)
        return zarrc_error_set(rc, "store '%s' has no version tokens", s->url);
    if (rc == ZARRC_ENOTFOUND && zarrc_error_code() == ZARRC_OK)
        return zarrc_error_set(rc, "key '%s' not found", key);
    if (rc)
        return rc;
    if (strlen(v) >= size)
        return zarrc_error_set(ZARRC_EINVAL, "version buffer of %zu bytes is too small", size);
    memcpy(version, v, strlen(v) + 1);
    return ZARRC_OK;
}

int zarrc_store_flush(zarrc_store *s)
{
    zarrc__error_clear();
    if (!V2(s, flush))
        return ZARRC_OK;
    int rc = s->type->flush(s->state);
    return rc ? zarrc__error_context(rc, "store '%s': flush: ", s->url) : ZARRC_OK;
}

int zarrc_store_erase(zarrc_store *s, const char *key)
{
    zarrc__error_clear();
    int rc = zarrc__store_erase(s, key);
    if (rc == ZARRC_ENOTFOUND && zarrc_error_code() == ZARRC_OK)
        zarrc_error_set(rc, "key '%s' not found", key);
    return rc;
}

int zarrc_store_erase_prefix(zarrc_store *s, const char *prefix)
{
    zarrc__error_clear();
    return zarrc__store_erase_prefix(s, prefix);
}

int zarrc_store_size(uint64_t *size, zarrc_store *s, const char *key)
{
    zarrc__error_clear();
    int rc = s->type->size(s->state, key, size);
    if (rc == ZARRC_ENOTFOUND && zarrc_error_code() == ZARRC_OK)
        zarrc_error_set(rc, "key '%s' not found", key);
    return rc;
}

int zarrc_store_list(zarrc_store *s, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    zarrc__error_clear();
    return zarrc__store_list(s, prefix, cb, ctx);
}

int zarrc_store_list_dir(zarrc_store *s, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    zarrc__error_clear();
    return zarrc__store_list_dir(s, prefix, cb, ctx);
}

int zarrc_store_multi_writer_safe(const zarrc_store *s) { return zarrc__store_safety_of(s) != ZARRC_SAFETY_NONE; }
