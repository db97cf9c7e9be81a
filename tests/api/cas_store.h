/*
 * cas_store.h — a test store plugin ("cas://") with compare-and-swap but no locks, the way an
 * object store with conditional writes (S3 If-Match / If-None-Match) behaves: a versioned get
 * and a conditional put over an inner memory store. It has no lock operations, so the library
 * must use its compare-and-swap path for every read-modify-write. Each open is a new, empty
 * store.
 */
#ifndef ZARRC_TEST_CAS_STORE_H
#define ZARRC_TEST_CAS_STORE_H

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wrap_store.h"

typedef struct cas_state {
    zarrc_store *inner;
    pthread_mutex_t mu; /* makes "check the version, then store" atomic, as a server does */
    long conflicts;     /* conditional puts refused */
} cas_state;

static long cas_conflicts_total;

static int cas_open(void **state, const char *location, unsigned flags)
{
    (void)location;
    (void)flags;
    cas_state *c = calloc(1, sizeof *c);
    if (!c)
        return ZARRC_ENOMEM;
    pthread_mutex_init(&c->mu, NULL);
    int rc = zarrc_store_open(&c->inner, "memory://", 0);
    if (rc) {
        free(c);
        return rc;
    }
    *state = c;
    return ZARRC_OK;
}

static void cas_close(void *state)
{
    cas_state *c = state;
    __atomic_add_fetch(&cas_conflicts_total, c->conflicts, __ATOMIC_RELAXED);
    zarrc_store_free(c->inner);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static int cas_get_into(cas_state *c, const char *key, int64_t off, int64_t len, zarrc_buf *out)
{
    return wrap_get_into(c->inner, key, off, len, out);
}

static int cas_get(void *state, const char *key, int64_t off, int64_t len, zarrc_buf *out)
{
    cas_state *c = state;
    pthread_mutex_lock(&c->mu);
    int rc = cas_get_into(c, key, off, len, out);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static int cas_get_versioned(void *state, const char *key, zarrc_buf *out, char *version)
{
    cas_state *c = state;
    pthread_mutex_lock(&c->mu);
    int rc = cas_get_into(c, key, 0, -1, out);
    if (rc == ZARRC_OK)
        rc = zarrc_store_version(version, ZARRC_STORE_VERSION_MAX, c->inner, key);
    pthread_mutex_unlock(&c->mu);
    /* A round trip's worth of time between reading and the conditional put, as on a network:
     * concurrent writers then really race (and the retry path is exercised). */
    struct timespec ts = {0, 300 * 1000};
    nanosleep(&ts, NULL);
    return rc;
}

static int cas_put(void *state, const char *key, const void *data, size_t n, unsigned flags, const char *if_version)
{
    cas_state *c = state;
    char cur[ZARRC_STORE_VERSION_MAX];
    pthread_mutex_lock(&c->mu);
    int rc = ZARRC_OK, vr = zarrc_store_version(cur, sizeof cur, c->inner, key);
    if ((flags & ZARRC_PUT_IF_ABSENT) && vr == ZARRC_OK)
        rc = ZARRC_EEXISTS;
    else if ((flags & ZARRC_PUT_IF_MATCH) && (vr != ZARRC_OK || strcmp(cur, if_version)))
        rc = ZARRC_ECONFLICT;
    if (rc == ZARRC_OK)
        rc = zarrc_store_set(c->inner, key, data, n);
    else
        c->conflicts++;
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static int cas_set(void *state, const char *key, const void *data, size_t n) { return cas_put(state, key, data, n, 0, NULL); }

static int cas_erase(void *state, const char *key)
{
    cas_state *c = state;
    pthread_mutex_lock(&c->mu);
    int rc = zarrc_store_erase(c->inner, key);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static int cas_erase_prefix(void *state, const char *prefix) { return zarrc_store_erase_prefix(((cas_state *)state)->inner, prefix); }
static int cas_list(void *state, const char *prefix, zarrc_list_cb cb, void *ctx) { return zarrc_store_list(((cas_state *)state)->inner, prefix, cb, ctx); }
static int cas_list_dir(void *state, const char *prefix, zarrc_list_cb cb, void *ctx) { return zarrc_store_list_dir(((cas_state *)state)->inner, prefix, cb, ctx); }
static int cas_size(void *state, const char *key, uint64_t *size) { return zarrc_store_size(size, ((cas_state *)state)->inner, key); }

static int cas_version(void *state, const char *key, char *version)
{
    cas_state *c = state;
    pthread_mutex_lock(&c->mu);
    int rc = zarrc_store_version(version, ZARRC_STORE_VERSION_MAX, c->inner, key);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static const zarrc_store_type cas_store_type = {
    ZARRC_STORE_TYPE_VERSION, "cas", ZARRC_STORE_CAP_RANGE | ZARRC_STORE_CAP_LIST_DIR | ZARRC_STORE_CAP_WRITE,
    cas_open, cas_close, cas_get, NULL, cas_set, NULL, cas_erase, cas_erase_prefix, cas_list, cas_list_dir, cas_size,
    cas_put, cas_get_versioned, cas_version, NULL, NULL, NULL,
};

#endif
