/*
 * pool.c — the shared worker pool. A job is n indexed tasks; workers and the calling thread
 * take indices in increasing order. Errors are kept per job as the lowest failing index, so
 * the reported error does not depend on the number of threads or on timing.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "core.h"

typedef struct job {
    size_t n, next, finished, fail_index;
    zarrc__task_fn fn;
    void *ctx;
    zarrc__error_saved err;
    struct job *link;
} job;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER, done_cv = PTHREAD_COND_INITIALIZER;
static job *queue;
static pthread_t *workers;
static int nworkers, requested_threads;
static bool stopping;
static _Thread_local bool in_task;

static int default_threads(void)
{
    const char *env = getenv("ZARRC_NUM_THREADS");
    if (env && atoi(env) > 0)
        return atoi(env);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int zarrc_get_num_threads(void)
{
    return requested_threads > 0 ? requested_threads : default_threads();
}

/* Take the next task of the first job that has one (lock held). */
static job *take(size_t *index)
{
    for (job **p = &queue; *p; p = &(*p)->link) {
        job *j = *p;
        if (j->next < j->n) {
            *index = j->next++;
            if (j->next == j->n)
                *p = j->link; /* fully handed out: leave the queue */
            return j;
        }
    }
    return NULL;
}

static void run_one(job *j, size_t i)
{
    bool skip;
    pthread_mutex_lock(&lock);
    skip = i > j->fail_index;
    pthread_mutex_unlock(&lock);
    int rc = ZARRC_OK;
    zarrc__error_saved e;
    if (!skip) {
        in_task = true;
        zarrc__error_clear();
        rc = j->fn(j->ctx, i);
        in_task = false;
        if (rc)
            zarrc__error_save(&e, rc);
    }
    pthread_mutex_lock(&lock);
    if (rc && i < j->fail_index) {
        j->fail_index = i;
        j->err = e;
    }
    if (++j->finished == j->n)
        pthread_cond_broadcast(&done_cv);
    pthread_mutex_unlock(&lock);
}

static void *worker_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        size_t i;
        job *j;
        while (!stopping && !(j = take(&i)))
            pthread_cond_wait(&work_cv, &lock);
        if (stopping)
            break;
        pthread_mutex_unlock(&lock);
        run_one(j, i);
        pthread_mutex_lock(&lock);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void stop_workers(void)
{
    pthread_mutex_lock(&lock);
    stopping = true;
    pthread_cond_broadcast(&work_cv);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < nworkers; i++)
        pthread_join(workers[i], NULL);
    free(workers);
    workers = NULL;
    nworkers = 0;
    stopping = false;
}

/* Start workers lazily (lock held). The caller is one of the threads. */
static void ensure_workers(void)
{
    int want = zarrc_get_num_threads() - 1;
    if (nworkers >= want || workers)
        return;
    workers = calloc((size_t)want, sizeof *workers);
    if (!workers)
        return; /* run with fewer threads: still correct */
    for (int i = 0; i < want; i++) {
        if (pthread_create(&workers[nworkers], NULL, worker_main, NULL) != 0)
            break;
        nworkers++;
    }
}

int zarrc_set_num_threads(int n)
{
    zarrc__error_clear();
    if (n < 0)
        return zarrc_error_set(ZARRC_EINVAL, "thread count must be >= 0");
    stop_workers();
    requested_threads = n;
    return ZARRC_OK;
}

int zarrc__pool_run(size_t n, zarrc__task_fn fn, void *ctx)
{
    if (n == 0)
        return ZARRC_OK;
    job j = {n, 0, 0, SIZE_MAX, fn, ctx, {0, {0}}, NULL};
    if (n == 1 || in_task || zarrc_get_num_threads() <= 1) {
        /* Inline: nested calls and single-threaded runs. */
        for (size_t i = 0; i < n; i++) {
            int rc = fn(ctx, i);
            if (rc)
                return rc;
        }
        return ZARRC_OK;
    }
    pthread_mutex_lock(&lock);
    ensure_workers();
    job **tail = &queue;
    while (*tail)
        tail = &(*tail)->link;
    *tail = &j;
    pthread_cond_broadcast(&work_cv);
    for (;;) {
        size_t i;
        job *mine = NULL;
        /* Work on our own job only, so a caller never waits on someone else's tasks. */
        if (j.next < j.n) {
            i = j.next++;
            mine = &j;
            if (j.next == j.n)
                for (job **p = &queue; *p; p = &(*p)->link)
                    if (*p == &j) {
                        *p = j.link;
                        break;
                    }
        }
        if (!mine)
            break;
        pthread_mutex_unlock(&lock);
        run_one(&j, i);
        pthread_mutex_lock(&lock);
    }
    while (j.finished < j.n)
        pthread_cond_wait(&done_cv, &lock);
    pthread_mutex_unlock(&lock);
    if (j.fail_index != SIZE_MAX)
        return zarrc__error_restore(&j.err);
    return ZARRC_OK;
}

/* ---- per-thread objects ---- */

static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;

void *zarrc__tls_get(zarrc__tls_slot *slot)
{
    if (!__atomic_load_n(&slot->ready, __ATOMIC_ACQUIRE)) {
        pthread_mutex_lock(&tls_lock);
        if (!slot->ready) {
            pthread_key_t key;
            if (pthread_key_create(&key, slot->destroy) != 0) {
                pthread_mutex_unlock(&tls_lock);
                return NULL;
            }
            slot->key = (unsigned)key;
            __atomic_store_n(&slot->ready, 1, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&tls_lock);
    }
    void *p = pthread_getspecific((pthread_key_t)slot->key);
    if (!p && (p = slot->create()) && pthread_setspecific((pthread_key_t)slot->key, p) != 0) {
        slot->destroy(p);
        p = NULL;
    }
    return p;
}
