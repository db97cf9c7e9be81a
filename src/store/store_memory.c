/* store_memory.c — an in-memory store: a hash map of key → bytes under a read-write lock. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "store.h"

typedef struct entry {
    char *key;
    uint8_t *data;
    size_t size;
    uint64_t generation; /* the version token: unique per stored value */
    struct entry *next;
} entry;

/* A held per-key lock (for read-modify-write); waiters sleep on the store's condition. */
typedef struct held_key {
    char *key;
    struct held_key *next;
} held_key;

typedef struct mem_store {
    pthread_rwlock_t lock;
    entry **buckets;
    size_t nbuckets, count;
    uint64_t generation; /* under lock (write) */
    pthread_mutex_t held_mu;
    pthread_cond_t held_cv;
    held_key *held; /* keys whose lock is taken */
} mem_store;

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return h;
}

static int mem_open(void **state, const char *location, unsigned flags)
{
    mem_store *m = zarrc__calloc(1, sizeof *m);
    if (!m)
        return ZARRC_ENOMEM;
    m->nbuckets = 256;
    m->buckets = zarrc__calloc(m->nbuckets, sizeof *m->buckets);
    if (!m->buckets) {
        free(m);
        return ZARRC_ENOMEM;
    }
    pthread_rwlock_init(&m->lock, NULL);
    pthread_mutex_init(&m->held_mu, NULL);
    pthread_cond_init(&m->held_cv, NULL);
    *state = m;
    return ZARRC_OK;
}

static void mem_close(void *state)
{
    mem_store *m = state;
    for (size_t i = 0; i < m->nbuckets; i++)
        for (entry *e = m->buckets[i], *n; e; e = n) {
            n = e->next;
            free(e->key);
            free(e->data);
            free(e);
        }
    free(m->buckets);
    pthread_rwlock_destroy(&m->lock);
    pthread_mutex_destroy(&m->held_mu);
    pthread_cond_destroy(&m->held_cv);
    free(m);
}

static entry **slot(mem_store *m, const char *key)
{
    entry **p = &m->buckets[hash(key) & (m->nbuckets - 1)];
    while (*p && strcmp((*p)->key, key))
        p = &(*p)->next;
    return p;
}

static void grow(mem_store *m)
{
    size_t nb = m->nbuckets * 2;
    entry **b = zarrc__try_calloc(nb, sizeof *b);
    if (!b)
        return; /* keep the old table: slower, still correct */
    for (size_t i = 0; i < m->nbuckets; i++)
        for (entry *e = m->buckets[i], *n; e; e = n) {
            n = e->next;
            size_t h = hash(e->key) & (nb - 1);
            e->next = b[h];
            b[h] = e;
        }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = nb;
}

static int mem_get(void *state, const char *key, int64_t offset, int64_t length, zarrc_buf *out)
{
    mem_store *m = state;
    int rc = ZARRC_OK;
    pthread_rwlock_rdlock(&m->lock);
    entry *e = *slot(m, key);
    if (!e)
        rc = ZARRC_ENOTFOUND;
    else {
        uint64_t start, n;
        zarrc__store_clip(e->size, offset, length, &start, &n);
        if (!(rc = zarrc_buf_reserve(out, (size_t)n))) {
            if (n)
                memcpy(out->data, e->data + start, (size_t)n);
            out->size = (size_t)n;
        }
    }
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

static int mem_set_impl(mem_store *m, const char *key, const void *data, size_t n, bool if_absent)
{
    uint8_t *copy = zarrc__malloc(n);
    if (!copy)
        return ZARRC_ENOMEM;
    if (n)
        memcpy(copy, data, n);
    pthread_rwlock_wrlock(&m->lock);
    entry **p = slot(m, key);
    int rc = ZARRC_OK;
    if (*p && if_absent) {
        rc = zarrc_error_set(ZARRC_EEXISTS, "key '%s' already exists", key);
        free(copy);
    } else if (*p) {
        free((*p)->data);
        (*p)->data = copy;
        (*p)->size = n;
        (*p)->generation = ++m->generation;
    } else {
        entry *e = zarrc__calloc(1, sizeof *e);
        char *k = zarrc__strdup(key);
        if (!e || !k) {
            free(e);
            free(k);
            free(copy);
            rc = ZARRC_ENOMEM;
        } else {
            e->key = k;
            e->data = copy;
            e->size = n;
            e->generation = ++m->generation;
            *p = e;
            if (++m->count > 2 * m->nbuckets)
                grow(m);
        }
    }
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

static int mem_set(void *state, const char *key, const void *data, size_t n)
{
    return mem_set_impl(state, key, data, n, false);
}

static int mem_set_if(void *state, const char *key, const void *data, size_t n, unsigned cond)
{
    return mem_set_impl(state, key, data, n, (cond & ZARRC_SET_IF_ABSENT) != 0);
}

static void unlink_entry(mem_store *m, entry **p)
{
    entry *e = *p;
    *p = e->next;
    free(e->key);
    free(e->data);
    free(e);
    m->count--;
}

static int mem_erase(void *state, const char *key)
{
    mem_store *m = state;
    pthread_rwlock_wrlock(&m->lock);
    entry **p = slot(m, key);
    int rc = *p ? ZARRC_OK : ZARRC_ENOTFOUND;
    if (*p)
        unlink_entry(m, p);
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

static int mem_erase_prefix(void *state, const char *prefix)
{
    mem_store *m = state;
    size_t pl = strlen(prefix);
    pthread_rwlock_wrlock(&m->lock);
    for (size_t i = 0; i < m->nbuckets; i++)
        for (entry **p = &m->buckets[i]; *p;)
            if (!strncmp((*p)->key, prefix, pl))
                unlink_entry(m, p);
            else
                p = &(*p)->next;
    pthread_rwlock_unlock(&m->lock);
    return ZARRC_OK;
}

/* Listing snapshots the matching names first so callbacks may call back into the store. */
typedef struct name_list {
    char **names;
    int *is_prefix;
    size_t n, cap;
} name_list;

static int add_name(name_list *l, const char *s, size_t len, int is_prefix)
{
    for (size_t i = 0; is_prefix && i < l->n; i++)
        if (l->is_prefix[i] && strlen(l->names[i]) == len && !strncmp(l->names[i], s, len))
            return ZARRC_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **nn = zarrc__realloc(l->names, cap * sizeof *nn);
        if (nn)
            l->names = nn;
        int *ip = nn ? zarrc__realloc(l->is_prefix, cap * sizeof *ip) : NULL;
        if (ip)
            l->is_prefix = ip;
        if (!nn || !ip)
            return ZARRC_ENOMEM;
        l->cap = cap;
    }
    char *c = zarrc__malloc(len + 1);
    if (!c)
        return ZARRC_ENOMEM;
    memcpy(c, s, len);
    c[len] = '\0';
    l->names[l->n] = c;
    l->is_prefix[l->n++] = is_prefix;
    return ZARRC_OK;
}

static int mem_list_impl(mem_store *m, const char *prefix, bool dir, zarrc_list_cb cb, void *ctx)
{
    name_list l = {0};
    size_t pl = strlen(prefix);
    int rc = ZARRC_OK;
    pthread_rwlock_rdlock(&m->lock);
    for (size_t i = 0; i < m->nbuckets && rc == ZARRC_OK; i++)
        for (entry *e = m->buckets[i]; e && rc == ZARRC_OK; e = e->next) {
            if (strncmp(e->key, prefix, pl))
                continue;
            if (!dir)
                rc = add_name(&l, e->key, strlen(e->key), 0);
            else {
                const char *rest = e->key + pl, *slash = strchr(rest, '/');
                rc = slash ? add_name(&l, rest, (size_t)(slash - rest), 1) : add_name(&l, rest, strlen(rest), 0);
            }
        }
    pthread_rwlock_unlock(&m->lock);
    for (size_t i = 0; i < l.n; i++) {
        if (rc == ZARRC_OK)
            rc = cb(ctx, l.names[i], l.is_prefix[i]);
        free(l.names[i]);
    }
    free(l.names);
    free(l.is_prefix);
    return rc;
}

static int mem_list(void *state, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    return mem_list_impl(state, prefix, false, cb, ctx);
}

static int mem_list_dir(void *state, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    return mem_list_impl(state, prefix, true, cb, ctx);
}

static int mem_size(void *state, const char *key, uint64_t *size)
{
    mem_store *m = state;
    pthread_rwlock_rdlock(&m->lock);
    entry *e = *slot(m, key);
    if (e)
        *size = e->size;
    pthread_rwlock_unlock(&m->lock);
    return e ? ZARRC_OK : ZARRC_ENOTFOUND;
}

static int mem_version(void *state, const char *key, char *version)
{
    mem_store *m = state;
    pthread_rwlock_rdlock(&m->lock);
    entry *e = *slot(m, key);
    if (e)
        snprintf(version, ZARRC_STORE_VERSION_MAX, "g%llu", (unsigned long long)e->generation);
    pthread_rwlock_unlock(&m->lock);
    return e ? ZARRC_OK : ZARRC_ENOTFOUND;
}

static held_key *find_held(mem_store *m, const char *key)
{
    held_key *h = m->held;
    while (h && strcmp(h->key, key))
        h = h->next;
    return h;
}

static int mem_lock(void *state, const char *key, void **lock)
{
    mem_store *m = state;
    held_key *h = zarrc__malloc(sizeof *h);
    if (!h || !(h->key = zarrc__strdup(key))) {
        free(h);
        return ZARRC_ENOMEM;
    }
    pthread_mutex_lock(&m->held_mu);
    while (find_held(m, key))
        pthread_cond_wait(&m->held_cv, &m->held_mu);
    h->next = m->held;
    m->held = h;
    pthread_mutex_unlock(&m->held_mu);
    *lock = h;
    return ZARRC_OK;
}

static void mem_unlock(void *state, void *lock)
{
    mem_store *m = state;
    pthread_mutex_lock(&m->held_mu);
    for (held_key **p = &m->held; *p; p = &(*p)->next)
        if (*p == lock) {
            *p = ((held_key *)lock)->next;
            break;
        }
    pthread_cond_broadcast(&m->held_cv);
    pthread_mutex_unlock(&m->held_mu);
    free(((held_key *)lock)->key);
    free(lock);
}
/* Every memory:// store is its own: the instance's address is unique while it is open. */
static char *mem_canonical(void *state) { return zarrc__sprintf("memory://%p", state); }

const zarrc_store_type zarrc__store_memory = {
    ZARRC_STORE_TYPE_VERSION, "memory",
    ZARRC_STORE_CAP_RANGE | ZARRC_STORE_CAP_LIST_DIR | ZARRC_STORE_CAP_WRITE | ZARRC_STORE_CAP_SET_IF,
    mem_open, mem_close, mem_get, NULL, mem_set, mem_set_if, mem_erase, mem_erase_prefix, mem_list,
    mem_list_dir, mem_size,
    NULL, NULL, mem_version, mem_lock, mem_unlock, NULL, mem_canonical,
};
