/*
 * test_concurrency.c — concurrent writers lose no update.
 *
 * N processes (fork) or N threads write one row each of the same chunk, the same inner chunk of
 * a shard, different inner chunks of one shard, or merge one attribute each into the same node;
 * afterwards every row / attribute must be there. Formats 2 and 3, on the filesystem store
 * (processes and threads), the memory store (threads) and a compare-and-swap store without
 * locks (threads; "cas://", the way object stores with conditional writes work).
 *
 * Every use of the library in the process tests happens in a child process, so the children
 * never inherit a thread pool from the parent. ZARRC_STRESS_TRIALS sets the trials per case
 * (default 2; `make stress` runs more); the summary line reports what was lost in total.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cas_store.h"
#include "check.h"
#include "zarrc.h"

#define COLS 16

typedef enum kind { SAME_CHUNK, SAME_INNER, DIFF_INNER, ATTRS } kind;
static const char *kind_name[] = {"same chunk", "same inner chunk of a shard", "different inner chunks of a shard",
                                  "attrs merge"};

static char root[512];
static long total_lost;

static int create_node(zarrc_store *s, kind k, int format, int n)
{
    if (k == ATTRS)
        return zarrc_group_create(s, "n", format, "{\"base\": 1}", ZARRC_OVERWRITE);
    char codecs[512];
    int64_t shape[2] = {n, COLS};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.format = format;
    o.dtype = "int32";
    o.ndim = 2;
    o.shape = shape;
    o.chunks = shape;
    o.fill_value = "0";
    o.flags = ZARRC_OVERWRITE;
    if (k == SAME_INNER || k == DIFF_INNER) {
        snprintf(codecs, sizeof codecs,
                 "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[%d,%d],"
                 "\"codecs\":[\"bytes\",{\"name\":\"zstd\",\"configuration\":{\"level\":1}}]}}]",
                 k == SAME_INNER ? n : 1, COLS);
        o.codecs = codecs;
    } else
        o.codecs = format == 3 ? "[\"bytes\",{\"name\":\"zstd\",\"configuration\":{\"level\":1}}]" : NULL;
    zarrc_array *a = NULL;
    int rc = zarrc_array_create(&a, s, "n", &o);
    zarrc_array_free(a);
    return rc;
}

/* Writer r's update: row r = r*100 + column + 1, or attribute "kR" = R. */
static int write_one(zarrc_store *s, kind k, int r)
{
    if (k == ATTRS) {
        char json[64];
        snprintf(json, sizeof json, "{\"k%d\": %d}", r, r);
        return zarrc_node_set_attributes(s, "n", json, ZARRC_ATTRS_MERGE, NULL);
    }
    zarrc_array *a = NULL;
    int rc = zarrc_array_open(&a, s, "n");
    int32_t row[COLS];
    for (int c = 0; c < COLS; c++)
        row[c] = r * 100 + c + 1;
    int64_t st[2] = {r, 0}, cnt2[2] = {1, COLS};
    if (rc == ZARRC_OK)
        rc = zarrc_array_write(a, st, cnt2, NULL, row, sizeof row);
    zarrc_array_free(a);
    return rc;
}

/* Updates missing after n writers (-1 if the node cannot be read). */
static long count_lost(zarrc_store *s, kind k, int n)
{
    long lost = 0;
    if (k == ATTRS) {
        char *json = NULL;
        if (zarrc_node_attributes(&json, s, "n"))
            return -1;
        for (int r = 0; r < n; r++) {
            char want[32];
            snprintf(want, sizeof want, "\"k%d\":", r);
            char *hit = strstr(json, want);
            lost += !hit || atoi(hit + strlen(want) + (hit[strlen(want)] == ' ')) != r;
        }
        lost += strstr(json, "\"base\"") == NULL;
        zarrc_free(json);
        return lost;
    }
    zarrc_array *a = NULL;
    if (zarrc_array_open(&a, s, "n"))
        return -1;
    int32_t *all = calloc((size_t)n * COLS, sizeof *all);
    int64_t z[2] = {0, 0}, sh[2] = {n, COLS};
    int rc = all ? zarrc_array_read(a, z, sh, NULL, all, (size_t)n * COLS * sizeof *all) : ZARRC_ENOMEM;
    for (int r = 0; rc == ZARRC_OK && r < n; r++) {
        int ok = 1;
        for (int c = 0; c < COLS; c++)
            ok &= all[r * COLS + c] == r * 100 + c + 1;
        lost += !ok;
    }
    free(all);
    zarrc_array_free(a);
    return rc ? -1 : lost;
}

/* ---- processes ---- */

static int child_status(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static pid_t spawn(int (*fn)(kind, int, int), kind k, int format, int arg)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int r = fn(k, format, arg);
        fflush(NULL);
        _exit(r);
    }
    return pid;
}

static int open_fs(zarrc_store **s) { return zarrc_store_open(s, root, ZARRC_STORE_CREATE); }

static int proc_create(kind k, int format, int n)
{
    zarrc_store *s = NULL;
    int rc = open_fs(&s) || create_node(s, k, format, n);
    if (rc)
        fprintf(stderr, "create: %s\n", zarrc_error_last());
    zarrc_store_free(s);
    return rc != 0;
}

static int proc_write(kind k, int format, int r)
{
    (void)format;
    zarrc_store *s = NULL;
    int rc = open_fs(&s) || write_one(s, k, r);
    if (rc)
        fprintf(stderr, "writer %d: %s\n", r, zarrc_error_last());
    zarrc_store_free(s);
    return rc != 0;
}

static int proc_check(kind k, int format, int n)
{
    (void)format;
    zarrc_store *s = NULL;
    long lost = open_fs(&s) ? -1 : count_lost(s, k, n);
    zarrc_store_free(s);
    return lost < 0 ? 255 : (int)(lost > 250 ? 250 : lost);
}

static void processes(kind k, int format, int n, int trials)
{
    long lost = 0, failed = 0;
    for (int t = 0; t < trials; t++) {
        if (child_status(spawn(proc_create, k, format, n)) != 0) {
            failed++;
            continue;
        }
        pid_t pids[64];
        for (int r = 0; r < n; r++)
            pids[r] = spawn(proc_write, k, format, r);
        for (int r = 0; r < n; r++)
            failed += child_status(pids[r]) != 0;
        int l = child_status(spawn(proc_check, k, format, n));
        if (l == 255)
            failed++;
        else
            lost += l;
    }
    total_lost += lost;
    CHECK_MSG(lost == 0 && failed == 0, "v%d, %s, %d processes x %d trials: %ld of %ld updates lost, %ld failures",
              format, kind_name[k], n, trials, lost, (long)n * trials, failed);
}

/* ---- threads ---- */

typedef struct tctx {
    zarrc_store *s;
    kind k;
    int r, rc;
    pthread_barrier_t *start; /* all writers start together */
} tctx;

static void *thread_write(void *p)
{
    tctx *t = p;
    pthread_barrier_wait(t->start);
    t->rc = write_one(t->s, t->k, t->r);
    return NULL;
}

static void threads(const char *url, kind k, int format, int n, int trials)
{
    long lost = 0, failed = 0;
    for (int t = 0; t < trials; t++) {
        zarrc_store *s = NULL;
        if (zarrc_store_open(&s, url, ZARRC_STORE_CREATE) || create_node(s, k, format, n)) {
            failed++;
            zarrc_store_free(s);
            continue;
        }
        pthread_t th[64];
        tctx c[64];
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, (unsigned)n);
        for (int r = 0; r < n; r++) {
            c[r] = (tctx){s, k, r, 0, &start};
            pthread_create(&th[r], NULL, thread_write, &c[r]);
        }
        for (int r = 0; r < n; r++) {
            pthread_join(th[r], NULL);
            failed += c[r].rc != 0;
        }
        pthread_barrier_destroy(&start);
        long l = count_lost(s, k, n);
        if (l < 0)
            failed++;
        else
            lost += l;
        zarrc_store_free(s);
    }
    total_lost += lost;
    CHECK_MSG(lost == 0 && failed == 0, "%s v%d, %s, %d threads x %d trials: %ld of %ld updates lost, %ld failures",
              url, format, kind_name[k], n, trials, lost, (long)n * trials, failed);
}

static int thread_suite(kind unused, int format, int arg)
{
    (void)unused;
    (void)format;
    int trials = arg;
    CHECK_OK(zarrc_store_register(&cas_store_type));
    for (int f = 2; f <= 3; f++)
        for (int k = SAME_CHUNK; k <= ATTRS; k++) {
            if (f == 2 && (k == SAME_INNER || k == DIFF_INNER))
                continue; /* sharding is v3 only */
            for (int n = 2; n <= 16; n *= 2) {
                threads(root, (kind)k, f, n, trials);
                threads("memory://", (kind)k, f, n, trials);
                threads("cas://", (kind)k, f, n, trials);
            }
        }
    CHECK_MSG(total_lost == 0, "threads: %ld updates lost in all", total_lost);
    /* The compare-and-swap path was really taken: some conditional puts lost their race. */
    CHECK_MSG(cas_conflicts_total > 0, "no compare-and-swap conflict was ever retried");
    printf("api.concurrency: %ld compare-and-swap conflicts retried on cas://\n", cas_conflicts_total);
    return check_report("api.concurrency threads");
}

int main(int argc, char **argv)
{
    const char *env = getenv("ZARRC_STRESS_TRIALS");
    int trials = env && atoi(env) > 0 ? atoi(env) : 2;
    const char *tmp = getenv("ZARRC_TEST_TMP");
    snprintf(root, sizeof root, "%s/concurrency", argc > 1 ? argv[1] : tmp ? tmp : "testtmp");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", root, root);
    if (system(cmd) != 0)
        return 1;
    for (int f = 2; f <= 3; f++)
        for (int k = SAME_CHUNK; k <= ATTRS; k++) {
            if (f == 2 && (k == SAME_INNER || k == DIFF_INNER))
                continue;
            for (int n = 2; n <= 16; n *= 2)
                processes((kind)k, f, n, trials);
        }
    CHECK_MSG(total_lost == 0, "processes: %ld updates lost in all", total_lost);
    /* Threads in one child process (the library's pool lives there). */
    int threads_failed = child_status(spawn(thread_suite, SAME_CHUNK, 0, trials)) != 0;
    CHECK_MSG(!threads_failed, "thread writers lost updates or failed (see above)");
    return check_report("api.concurrency");
}
