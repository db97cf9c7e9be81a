/*
 * test_crash.c — kill -9 at random points of a writer leaves consistent data.
 *
 * A child process rewrites an array over and over (whole chunks, partial chunks, a sharded
 * array's inner chunks; each pass writes one generation number everywhere it writes) and is
 * killed with SIGKILL after a random delay. After each kill: the arrays open, every chunk
 * decodes, and every chunk holds one generation only (a chunk is replaced atomically: never
 * torn, never a mix). Then another writer takes over the same keys, and the temp files the
 * killed writer left next to them are gone afterwards. ZARRC_STRESS_TRIALS sets the number of
 * kills (default 8).
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "zarrc.h"

#define ROWS 64
#define COLS 64
#define CH 16 /* chunk (and shard) edge */

static char root[512];

static int make_arrays(void)
{
    zarrc_store *s = NULL;
    int rc = zarrc_store_open(&s, root, ZARRC_STORE_CREATE);
    int64_t shape[2] = {ROWS, COLS}, chunks[2] = {CH, CH};
    const char *codecs[2] = {"[\"bytes\",{\"name\":\"zstd\",\"configuration\":{\"level\":1}}]",
                             "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[4,4],"
                             "\"codecs\":[\"bytes\",{\"name\":\"zstd\",\"configuration\":{\"level\":1}}]}}]"};
    const char *names[2] = {"plain", "sharded"};
    for (int i = 0; i < 2 && rc == ZARRC_OK; i++) {
        zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
        o.dtype = "int32";
        o.ndim = 2;
        o.shape = shape;
        o.chunks = chunks;
        o.fill_value = "0";
        o.codecs = codecs[i];
        o.flags = ZARRC_OVERWRITE;
        zarrc_array *a = NULL;
        rc = zarrc_array_create(&a, s, names[i], &o);
        zarrc_array_free(a);
    }
    zarrc_store_free(s);
    return rc;
}

/* The writer: generation g writes g into whole chunks, then into a partial box of each chunk
 * (rows 2..9 of each chunk row band) — every chunk gets one value per pass. */
static void writer(void)
{
    zarrc_store *s = NULL;
    zarrc_array *a[2] = {NULL, NULL};
    if (zarrc_store_open(&s, root, 0) || zarrc_array_open(&a[0], s, "plain") || zarrc_array_open(&a[1], s, "sharded"))
        _exit(2);
    int32_t *buf = malloc(ROWS * COLS * sizeof *buf);
    for (int32_t g = 1;; g++) {
        for (int i = 0; i < ROWS * COLS; i++)
            buf[i] = g;
        for (int k = 0; k < 2; k++) {
            int64_t z[2] = {0, 0}, sh[2] = {ROWS, COLS};
            if (zarrc_array_write(a[k], z, sh, NULL, buf, ROWS * COLS * sizeof *buf))
                _exit(3);
            /* Partial writes: one inner chunk row band of every chunk, same generation g + 1
             * for a whole chunk column at a time. */
            for (int64_t c = 0; c < COLS; c += CH) {
                int64_t st[2] = {0, c}, n[2] = {ROWS, CH};
                for (int i = 0; i < ROWS * CH; i++)
                    buf[i] = g;
                if (zarrc_array_write(a[k], st, n, NULL, buf, ROWS * CH * sizeof *buf))
                    _exit(4);
            }
        }
    }
}

/* Each chunk of the array holds one value only; returns the number of mixed chunks (-1 on a
 * read error). For the sharded array, each inner chunk (4x4) must be uniform. */
static int mixed_chunks(zarrc_array *a, int edge)
{
    static int32_t all[ROWS * COLS];
    int64_t z[2] = {0, 0}, sh[2] = {ROWS, COLS};
    if (zarrc_array_read(a, z, sh, NULL, all, sizeof all))
        return -1;
    int mixed = 0;
    for (int r0 = 0; r0 < ROWS; r0 += edge)
        for (int c0 = 0; c0 < COLS; c0 += edge) {
            int32_t v = all[r0 * COLS + c0];
            int ok = 1;
            for (int r = r0; r < r0 + edge; r++)
                for (int c = c0; c < c0 + edge; c++)
                    ok &= all[r * COLS + c] == v;
            mixed += !ok;
        }
    return mixed;
}

/* Temp files of process `pid` anywhere under `dir`. */
static int temps_of(const char *dir, long pid)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    char mark[64];
    snprintf(mark, sizeof mark, ".%ld.", pid);
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' && (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")))
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (e->d_type == DT_DIR)
            n += temps_of(p, pid);
        else if (!strncmp(e->d_name, ".zarrc-tmp.", 11) && strstr(e->d_name + 11, mark))
            n++;
    }
    closedir(d);
    return n;
}

int main(void)
{
    const char *env = getenv("ZARRC_STRESS_TRIALS");
    int trials = env && atoi(env) > 0 ? atoi(env) : 8;
    const char *tmp = getenv("ZARRC_TEST_TMP");
    snprintf(root, sizeof root, "%s/crash", tmp ? tmp : "testtmp");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", root, root);
    if (system(cmd) != 0)
        return 1;
    pid_t maker = fork();
    if (maker == 0)
        _exit(make_arrays() != 0);
    int st;
    waitpid(maker, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    srand((unsigned)time(NULL));
    int left_temps = 0;
    for (int t = 0; t < trials; t++) {
        pid_t pid = fork();
        if (pid == 0)
            writer();
        struct timespec d = {0, (long)(20 + rand() % 180) * 1000000L};
        nanosleep(&d, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        CHECK_MSG(WIFSIGNALED(st), "the writer stopped by itself (status %d)", st);
        left_temps += temps_of(root, (long)pid) > 0;
        /* Check (and take over as the next writer) in a fresh child. */
        pid_t checker = fork();
        if (checker == 0) {
            zarrc_store *s = NULL;
            zarrc_array *a = NULL, *b = NULL;
            int bad = zarrc_store_open(&s, root, 0) || zarrc_array_open(&a, s, "plain") ||
                      zarrc_array_open(&b, s, "sharded");
            int m1 = bad ? -1 : mixed_chunks(a, CH), m2 = bad ? -1 : mixed_chunks(b, 4);
            if (m1 || m2)
                fprintf(stderr, "after kill %d: plain %d, sharded %d torn/mixed chunks: %s\n", t, m1, m2,
                        zarrc_error_last());
            /* The next writer of the same keys. */
            static int32_t all[ROWS * COLS];
            int64_t z[2] = {0, 0}, sh[2] = {ROWS, COLS};
            int w = bad || zarrc_array_write(a, z, sh, NULL, all, sizeof all) ||
                    zarrc_array_write(b, z, sh, NULL, all, sizeof all);
            zarrc_array_free(a);
            zarrc_array_free(b);
            zarrc_store_free(s);
            _exit(m1 != 0 || m2 != 0 ? 1 : w ? 2 : 0);
        }
        waitpid(checker, &st, 0);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "kill %d: data inconsistent or unreadable (status %d)", t,
                  WEXITSTATUS(st));
        CHECK_MSG(temps_of(root, (long)pid) == 0, "kill %d: temp files of the killed writer %ld remain", t,
                  (long)pid);
    }
    printf("api.crash: %d of %d kills left temp files behind, all removed by the next writer\n", left_temps, trials);
    return check_report("api.crash");
}
