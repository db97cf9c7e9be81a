/* store.c — store registry, handles and the public store API. */
#include <pthread.h>
#include <stdlib.h>

#include "store.h"

extern const zarrc_store_type zarrc__store_fs, zarrc__store_memory;

static const zarrc_store_type *const builtin_stores[] = {&zarrc__store_fs, &zarrc__store_memory};
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static const zarrc_store_type **plugin_stores;
static size_t nplugin_stores;

int zarrc_store_register(const zarrc_store_type *type)
{
    zarrc__error_clear();
    if (!type || type->version != ZARRC_STORE_TYPE_VERSION || !type->scheme || !type->open ||
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
    for (size_t i = 0; i < 2 && !hit; i++)
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
    if (sep) {
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

int zarrc__store_set(zarrc_store *s, const char *key, const void *data, size_t n)
{
    int rc = check_writable(s);
    return rc ? rc : s->type->set(s->state, key, data, n);
}

int zarrc__store_set_if_absent(zarrc_store *s, const char *key, const void *data, size_t n)
{
    int rc = check_writable(s);
    if (rc)
        return rc;
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
