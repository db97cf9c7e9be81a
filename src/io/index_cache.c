/*
 * index_cache.c — per-array cache of decoded shard indexes, bounded in bytes, least recently
 * used entries evicted first. Each entry remembers the shard's version token (from the store)
 * at the time its index was read and is used only while the shard still has that version, so
 * another writer's replacement of a shard is never answered from the cache. Stores without
 * version tokens, and stores with latency (where the version costs a round trip), get no
 * caching across calls. Entries are copied in and out, so callers never hold pointers
 * into the cache.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "io.h"

typedef struct centry {
    char *key;
    char version[ZARRC_STORE_VERSION_MAX]; /* the shard's version when its index was read */
    uint64_t *entries;
    size_t n; /* uint64 values */
    struct centry *prev, *next; /* LRU list: head = most recent */
    struct centry *hnext;       /* hash chain */
} centry;

#define NBUCKETS 1024

struct zarrc__index_cache {
    pthread_mutex_t lock;
    centry *head, *tail;
    centry *buckets[NBUCKETS];
    size_t bytes, max_bytes;
};

static size_t bucket_of(const char *key)
{
    size_t h = 1469598103934665603ull;
    while (*key)
        h = (h ^ (uint8_t)*key++) * 1099511628211ull;
    return h % NBUCKETS;
}

zarrc__index_cache *zarrc__index_cache_new(size_t max_bytes)
{
    zarrc__index_cache *c = zarrc__calloc(1, sizeof *c);
    if (c) {
        pthread_mutex_init(&c->lock, NULL);
        c->max_bytes = max_bytes;
    }
    return c;
}

static void unlink_entry(zarrc__index_cache *c, centry *e)
{
    if (e->prev) e->prev->next = e->next; else c->head = e->next;
    if (e->next) e->next->prev = e->prev; else c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void push_front(zarrc__index_cache *c, centry *e)
{
    e->next = c->head;
    e->prev = NULL;
    if (c->head) c->head->prev = e; else c->tail = e;
    c->head = e;
}

static size_t cost(const centry *e) { return e->n * 8 + strlen(e->key) + sizeof *e; }

static void destroy_entry(zarrc__index_cache *c, centry *e)
{
    centry **p = &c->buckets[bucket_of(e->key)];
    while (*p != e)
        p = &(*p)->hnext;
    *p = e->hnext;
    c->bytes -= cost(e);
    free(e->key);
    free(e->entries);
    free(e);
}

void zarrc__index_cache_free(zarrc__index_cache *c)
{
    if (!c)
        return;
    while (c->head) {
        centry *e = c->head;
        unlink_entry(c, e);
        destroy_entry(c, e);
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static centry *find(zarrc__index_cache *c, const char *key)
{
    for (centry *e = c->buckets[bucket_of(key)]; e; e = e->hnext)
        if (!strcmp(e->key, key))
            return e;
    return NULL;
}

bool zarrc__index_cache_get(zarrc__index_cache *c, const char *key, const char *version, uint64_t *entries,
                            size_t n)
{
    if (!c || !version)
        return false;
    pthread_mutex_lock(&c->lock);
    centry *e = find(c, key);
    bool hit = e && e->n == n && !strcmp(e->version, version);
    if (hit) {
        memcpy(entries, e->entries, n * 8);
        unlink_entry(c, e);
        push_front(c, e);
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

void zarrc__index_cache_put(zarrc__index_cache *c, const char *key, const char *version, const uint64_t *entries,
                            size_t n)
{
    if (!c || !version || n * 8 > c->max_bytes)
        return;
    size_t klen = strlen(key) + 1;
    centry *e = zarrc__try_calloc(1, sizeof *e);
    if (!e || !(e->key = zarrc__try_malloc(klen)) || !(e->entries = zarrc__try_malloc(n * 8))) {
        if (e)
            free(e->key);
        free(e);
        return; /* caching is best effort */
    }
    memcpy(e->key, key, klen);
    memcpy(e->entries, entries, n * 8);
    e->n = n;
    snprintf(e->version, sizeof e->version, "%s", version);
    pthread_mutex_lock(&c->lock);
    centry *old = find(c, key);
    if (old) {
        unlink_entry(c, old);
        destroy_entry(c, old);
    }
    push_front(c, e);
    size_t b = bucket_of(key);
    e->hnext = c->buckets[b];
    c->buckets[b] = e;
    c->bytes += cost(e);
    while (c->bytes > c->max_bytes && c->tail && c->tail != e) {
        centry *t = c->tail;
        unlink_entry(c, t);
        destroy_entry(c, t);
    }
    pthread_mutex_unlock(&c->lock);
}

void zarrc__index_cache_drop(zarrc__index_cache *c, const char *key)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    centry *e = find(c, key);
    if (e) {
        unlink_entry(c, e);
        destroy_entry(c, e);
    }
    pthread_mutex_unlock(&c->lock);
}
