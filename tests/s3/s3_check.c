/* s3_check — a probe for the S3 store tests (run_s3.py): open a store URL and report the
 * library's answer in one line, so that the driver can check error codes and the multi-writer
 * guarantee through the public API.
 *
 *   s3_check URL ro|rw|create      prints "rc=N safe=0|1 size=N msg=..." and exits 0
 *   s3_check URL get KEY           as above, after reading KEY (size=N added)
 *   s3_check URL getmany [--rounds=R] KEY...
 *                                  reads every KEY at once, one thread per key, all starting
 *                                  together, R times (default 1) on the same store handle;
 *                                  after the line above, one line per key and round:
 *                                  "round=R key=KEY rc=N size=N s=SECONDS msg=..."
 *   s3_check URL fork KEY          reads KEY, forks; the child reads KEY through the same
 *                                  handle (a multi and event thread of its own), the parent
 *                                  waits for it and reads KEY again; one line each:
 *                                  "who=parent|child|parent-after rc=N size=N msg=..."
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zarrc.h>

typedef struct getter {
    zarrc_store *st;
    const char *key;
    pthread_barrier_t *go;
    int rc;
    size_t size;
    double s;
    char msg[512];
} getter;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *get_one(void *arg)
{
    getter *g = arg;
    void *data = NULL;
    pthread_barrier_wait(g->go);
    double t0 = now();
    g->rc = zarrc_store_get(&data, &g->size, g->st, g->key);
    g->s = now() - t0;
    snprintf(g->msg, sizeof g->msg, "%s", g->rc ? zarrc_error_last() : "");
    free(data);
    return NULL;
}

/* One thread per key, released together by a barrier. */
static int get_round(zarrc_store *st, char **keys, int n, int round)
{
    getter *g = calloc((size_t)n, sizeof *g);
    pthread_t *t = calloc((size_t)n, sizeof *t);
    pthread_barrier_t go;
    if (!g || !t || pthread_barrier_init(&go, NULL, (unsigned)n))
        return 1;
    int started = 0;
    for (int i = 0; i < n; i++) {
        g[i] = (getter){.st = st, .key = keys[i], .go = &go};
        if (pthread_create(&t[i], NULL, get_one, &g[i]))
            break;
        started++;
    }
    if (started < n) { /* the barrier would never open */
        fprintf(stderr, "s3_check: cannot start %d threads\n", n);
        exit(1);
    }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < n; i++)
        printf("round=%d key=%s rc=%d size=%zu s=%.3f msg=%s\n", round, g[i].key, g[i].rc, g[i].size, g[i].s, g[i].msg);
    free(g);
    free(t);
    return 0;
}

static void get_print(zarrc_store *st, const char *key, const char *who)
{
    void *data = NULL;
    size_t size = 0;
    int rc = zarrc_store_get(&data, &size, st, key);
    printf("who=%s rc=%d size=%zu msg=%s\n", who, rc, size, rc ? zarrc_error_last() : "");
    fflush(stdout);
    free(data);
}

/* The store's client used before fork(), in the child, then again in the parent. */
static int fork_check(zarrc_store *st, const char *key)
{
    get_print(st, key, "parent");
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        get_print(st, key, "child");
        _exit(0); /* the child's event thread is not joined: as a process killed at any point */
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
        return 1;
    get_print(st, key, "parent-after");
    return 0;
}

static int get_many(zarrc_store *st, char **args, int n)
{
    int rounds = 1;
    if (n && !strncmp(args[0], "--rounds=", 9)) {
        rounds = atoi(args[0] + 9);
        args++, n--;
    }
    if (n < 1 || rounds < 1)
        return 1;
    for (int r = 0; r < rounds; r++)
        if (get_round(st, args, n, r))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: s3_check URL ro|rw|create|get|getmany|fork [KEY...]\n");
        return 2;
    }
    unsigned flags = !strcmp(argv[2], "rw") ? 0 : !strcmp(argv[2], "create") ? ZARRC_STORE_CREATE : ZARRC_STORE_READONLY;
    zarrc_store *st = NULL;
    int rc = zarrc_store_open(&st, argv[1], flags);
    size_t size = 0;
    if (rc == ZARRC_OK && !strcmp(argv[2], "get") && argc > 3) {
        void *data = NULL;
        rc = zarrc_store_get(&data, &size, st, argv[3]);
        free(data);
    }
    printf("rc=%d safe=%d size=%zu msg=%s\n", rc,
           st ? zarrc_store_multi_writer_safe(st) : -1, size, rc ? zarrc_error_last() : "");
    fflush(stdout);
    int failed = rc == ZARRC_OK && !strcmp(argv[2], "getmany") && argc > 3 ? get_many(st, argv + 3, argc - 3) : 0;
    if (rc == ZARRC_OK && !strcmp(argv[2], "fork") && argc > 3)
        failed = fork_check(st, argv[3]);
    zarrc_store_free(st);
    return failed;
}
