/*
 * pool.c — the shared worker pools (CPU work and store I/O) and per-thread objects. A job is n
 * indexed tasks; workers and the calling thread
 * take indices in increasing order. Errors are kept per job as the lowest failing index, so
 * the reported error does not depend on the number of threads or on timing.
 */
#include <limits.h>
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

/* Two pools: CPU work (decoding, encoding, copying) and store I/O (requests to stores that
 * have latency), sized independently. */
typedef struct pool {
    pthread_mutex_t lock;
    pthread_cond_t work_cv, done_cv;
    job *queue;
    pthread_t *workers;
    int nworkers, requested;
    bool stopping;
    unsigned bit;            /* this pool's bit in a thread's in_task mask */
    int (*default_size)(void);
} pool;

static _Thread_local unsigned in_task; /* pools whose task this thread is running */

/* The number of online CPUs, asked once: glibc's sysconf(_SC_NPROCESSORS_ONLN) opens and reads
 * /sys/devices/system/cpu/online on every call, and the engine asks for the thread count on
 * every read and write (three system calls per inner chunk read one by one). */
static int cores(void)
{
    static int cached; /* 0 = not asked yet; racing first callers store the same value */
    int n = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (n == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 && c < INT_MAX ? (int)c : 1;
        __atomic_store_n(&cached, n, __ATOMIC_RELAXED);
    }
    return n;
}

/* A positive integer from the environment variable `name`, else 0. */
static int env_int(const char *name)
{
    const char *env = getenv(name);
    int n = env ? atoi(env) : 0;
    return n > 0 ? n : 0;
}

static int default_threads(void)
{
    int n = env_int("ZARRC_NUM_THREADS");
    return n ? n : cores();
}

/* Remote stores are latency-bound: more requests in flight than cores. */
static int default_io(void)
{
    int t = default_threads(), n = env_int("ZARRC_IO_CONCURRENCY");
    return n ? n : t > 16 ? t : 16;
}

static pool cpu_pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
                        NULL, NULL, 0, 0, false, 1u, default_threads};
static pool io_pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
                       NULL, NULL, 0, 0, false, 2u, default_io};

static int pool_size(const pool *p) { return p->requested > 0 ? p->requested : p->default_size(); }

int zarrc_get_num_threads(void) { return pool_size(&cpu_pool); }

int zarrc_get_io_concurrency(void) { return pool_size(&io_pool); }

/* Take the next task of the first job that has one (lock held). */
static job *take(pool *p, size_t *index)
{
    for (job **q = &p->queue; *q; q = &(*q)->link) {
        job *j = *q;
        if (j->next < j->n) {
            *index = j->next++;
            if (j->next == j->n)
                *q = j->link; /* fully handed out: leave the queue */
            return j;
        }
    }
    return NULL;
}

static void run_one(pool *p, job *j, size_t i)
{
    bool skip;
    pthread_mutex_lock(&p->lock);
    skip = i > j->fail_index;
    pthread_mutex_unlock(&p->lock);
    int rc = ZARRC_OK;
    zarrc__error_saved e;
    if (!skip) {
        unsigned saved = in_task;
        in_task |= p->bit;
        zarrc__error_clear();
        rc = j->fn(j->ctx, i);
        in_task = saved;
        if (rc)
            zarrc__error_save(&e, rc);
    }
    pthread_mutex_lock(&p->lock);
    if (rc && i < j->fail_index) {
        j->fail_index = i;
        j->err = e;
    }
    if (++j->finished == j->n)
        pthread_cond_broadcast(&p->done_cv);
    pthread_mutex_unlock(&p->lock);
}

static void *worker_main(void *arg)
{
    pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        size_t i;
        job *j = NULL;
        while (!p->stopping && !(j = take(p, &i)))
            pthread_cond_wait(&p->work_cv, &p->lock);
        if (p->stopping)
            break;
        pthread_mutex_unlock(&p->lock);
        run_one(p, j, i);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void stop_workers(pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nworkers; i++)
        pthread_join(p->workers[i], NULL);
    free(p->workers);
    p->workers = NULL;
    p->nworkers = 0;
    p->stopping = false;
}

/* Start workers lazily (lock held). The caller is one of the threads. */
static void ensure_workers(pool *p)
{
    int want = pool_size(p) - 1;
    if (p->nworkers >= want || p->workers)
        return;
    p->workers = zarrc__try_calloc((size_t)want, sizeof *p->workers);
    if (!p->workers)
        return; /* run with fewer threads: still correct */
    for (int i = 0; i < want; i++) {
        if (pthread_create(&p->workers[p->nworkers], NULL, worker_main, p) != 0)
            break;
        p->nworkers++;
    }
}

static int resize(pool *p, int n)
{
    zarrc__error_clear();
    if (n < 0)
        return zarrc_error_set(ZARRC_EINVAL, "a pool size must be >= 0");
    stop_workers(p);
    p->requested = n;
    return ZARRC_OK;
}

int zarrc_set_num_threads(int n) { return resize(&cpu_pool, n); }

int zarrc_set_io_concurrency(int n) { return resize(&io_pool, n); }

static int pool_run(pool *p, size_t n, zarrc__task_fn fn, void *ctx)
{
    if (n == 0)
        return ZARRC_OK;
    job j = {n, 0, 0, SIZE_MAX, fn, ctx, {0, {0}}, NULL};
    if (n == 1 || (in_task & p->bit) || pool_size(p) <= 1) {
        /* Inline: nested calls into the same pool and single-threaded runs. */
        for (size_t i = 0; i < n; i++) {
            int rc = fn(ctx, i);
            if (rc)
                return rc;
        }
        return ZARRC_OK;
    }
    pthread_mutex_lock(&p->lock);
    ensure_workers(p);
    job **tail = &p->queue;
    while (*tail)
        tail = &(*tail)->link;
    *tail = &j;
    pthread_cond_broadcast(&p->work_cv);
    /* Work on our own job only, so a caller never waits on someone else's tasks. */
    while (j.next < j.n) {
        size_t i = j.next++;
        if (j.next == j.n)
            for (job **q = &p->queue; *q; q = &(*q)->link)
                if (*q == &j) {
                    *q = j.link;
                    break;
                }
        pthread_mutex_unlock(&p->lock);
        run_one(p, &j, i);
        pthread_mutex_lock(&p->lock);
    }
    while (j.finished < j.n)
        pthread_cond_wait(&p->done_cv, &p->lock);
    pthread_mutex_unlock(&p->lock);
    if (j.fail_index != SIZE_MAX)
        return zarrc__error_restore(&j.err);
    return ZARRC_OK;
}

int zarrc__pool_run(size_t n, zarrc__task_fn fn, void *ctx) { return pool_run(&cpu_pool, n, fn, ctx); }

int zarrc__io_run(size_t n, zarrc__task_fn fn, void *ctx) { return pool_run(&io_pool, n, fn, ctx); }

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
