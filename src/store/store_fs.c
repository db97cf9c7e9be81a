/*
 * store_fs.c — the directory store. Key "a/b/c" is file ROOT/a/b/c. Writes go to a temp file
 * in the target directory and are renamed into place, so a crash never leaves a torn value.
 *
 * Internal files carry names starting with ".zarrc-" and are never listed:
 *  - temp files ".zarrc-tmp.HOST.PID.N" (left behind only by a killed writer; removed by the
 *    next writer that finds that writer's stale lock, and by deleting the node);
 *  - per-key lock files ".zarrc-lock.NAME" next to key NAME, which exist while a writer holds
 *    the key's lock (flock(2) on the file; the holder unlinks it on release, and a waiter
 *    that wakes up on an unlinked file retries, so a name always maps to one live lock).
 *    A put of a locked key writes the new value into the lock file itself and renames it
 *    onto the key: that installs the value and releases the name in one step, so a locked
 *    write costs no more file creations than an unlocked one. A killed writer's lock file is
 *    taken over (and so removed) by the next writer of the same key.
 * Durability: ZARRC_PUT_DURABLE (metadata documents) and stores opened with
 * ZARRC_STORE_DURABLE fsync the temp file before the rename and the directory after it.
 * Deletion never follows symbolic links below the root (and refuses to delete through a root
 * that is one).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <signal.h>
#include <unistd.h>
#include <pthread.h>

#include "store.h"

#define INTERNAL_MARK ".zarrc-"
#define TMP_MARK ".zarrc-tmp."
#define LOCK_MARK ".zarrc-lock."

typedef struct fs_lock fs_lock;

typedef struct fs_store {
    char *root;
    bool durable;   /* ZARRC_STORE_DURABLE: every write is fsynced */
    bool root_link; /* the root path is a symbolic link: never delete through it */
    char *contained; /* ZARRC_STORE_CONTAINED: the root's real path, keys may not leave it */
    pthread_mutex_t held_mu;
    fs_lock *held;  /* locks taken through this handle, so a put of a locked key can write its
                       value into the lock file and rename that into place */
} fs_store;

struct fs_lock {
    int fd;
    char *path;    /* the lock file */
    char *key;
    bool consumed; /* renamed onto the key by a put: nothing left to unlink */
    fs_lock *next; /* in fs_store.held */
};

/* The lock this handle holds on `key`, taken out of the list for the caller's use, or NULL.
 * (A put of a locked key happens once per lock, by its holder's protocol.) */
static fs_lock *held_lock(fs_store *fs, const char *key)
{
    pthread_mutex_lock(&fs->held_mu);
    fs_lock *lk = fs->held;
    while (lk && (lk->consumed || strcmp(lk->key, key)))
        lk = lk->next;
    pthread_mutex_unlock(&fs->held_mu);
    return lk;
}

/* This host's name, for temp file names (stale temps are only judged on their own host). */
static char host_name[64];
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void host_init(void)
{
    if (gethostname(host_name, sizeof host_name - 1) != 0 || !host_name[0])
        strcpy(host_name, "host");
    for (char *c = host_name; *c; c++)
        if (*c == '/' || *c == '.')
            *c = '_';
}

static unsigned long tmp_counter;

static int io_error(const char *what, const char *path, int err)
{
    if (err == ENOENT || err == ENOTDIR)
        return ZARRC_ENOTFOUND;
    if (err == EACCES || err == EPERM)
        return zarrc_error_set(ZARRC_EAUTH, "%s '%s': %s", what, path, strerror(err));
    if (err == EROFS)
        return zarrc_error_set(ZARRC_EREADONLY, "%s '%s': %s", what, path, strerror(err));
    return zarrc_error_set(ZARRC_EIO, "%s '%s': %s", what, path, strerror(err));
}

/* Keys must stay inside the root: no absolute keys, no "." / ".." segments, no empty ones. */
static int check_key_syntax(const char *key, bool allow_empty)
{
    if (!*key)
        return allow_empty ? ZARRC_OK : zarrc_error_set(ZARRC_EINVAL, "empty key");
    if (key[0] == '/')
        goto bad;
    for (const char *s = key; *s;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if ((n == 0 && e && e[1]) || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            goto bad;
        s += n;
        if (*s == '/')
            s++;
    }
    return ZARRC_OK;
bad:
    return zarrc_error_set(ZARRC_EINVAL, "invalid key '%s'", key);
}

static char *full_path(const fs_store *fs, const char *key)
{
    return *key ? zarrc__sprintf("%s/%s", fs->root, key) : zarrc__strdup(fs->root);
}

/* ZARRC_STORE_CONTAINED: every existing component of root/rel that is a symbolic link must
 * resolve inside the root (a missing tail cannot be a link). One lstat per component; a
 * realpath only for links. */
static int check_contained(const fs_store *fs, const char *rel)
{
    char *path = full_path(fs, rel);
    if (!path)
        return ZARRC_ENOMEM;
    int rc = ZARRC_OK;
    size_t rootlen = strlen(fs->root), n = strlen(path), cl = strlen(fs->contained);
    for (size_t i = rootlen + 1; i <= n && rc == ZARRC_OK; i++) {
        if (i < n && path[i] != '/')
            continue;
        char c = path[i];
        path[i] = '\0';
        struct stat st;
        if (lstat(path, &st) != 0) {
            path[i] = c;
            break;
        }
        if (S_ISLNK(st.st_mode)) {
            char *real = realpath(path, NULL);
            size_t rl = real ? strlen(real) : 0;
            if (!real || !(rl >= cl && !memcmp(real, fs->contained, cl) && (rl == cl || real[cl] == '/' || cl == 1)))
                rc = zarrc_error_set(ZARRC_EAUTH, "'%s' is a symbolic link leading out of the store's root", path + rootlen + 1);
            free(real);
        }
        path[i] = c;
    }
    free(path);
    return rc;
}

static int check_key(const fs_store *fs, const char *key, bool allow_empty)
{
    int rc = check_key_syntax(key, allow_empty);
    return rc == ZARRC_OK && fs->contained && *key ? check_contained(fs, key) : rc;
}

static int mkdirs(char *path, size_t upto)
{
    /* Create every directory of path[0..upto) (path is modified temporarily), deepest first:
     * when the parent exists (the common case: a new chunk directory) that is one mkdir(2),
     * else the walk goes up to the first existing ancestor and back down, one mkdir per
     * missing level. A writer that erases the last key of a directory removes the emptied
     * directories (remove_empty_parents), so a parent made a moment ago may be gone when its
     * child is made (ENOENT again after going down): the walk starts over, a bounded number of
     * times. */
    int err = 0, vanished = 0;
    size_t end = upto;
    bool down = false; /* a parent was just made */
    while (vanished < 64) {
        char c = path[end];
        path[end] = '\0';
        int r = mkdir(path, 0777);
        err = errno;
        path[end] = c;
        if (r == 0 || err == EEXIST) {
            if (end == upto)
                return ZARRC_OK;
            /* down one level: to the end of the next component */
            end++;
            while (end < upto && path[end] != '/')
                end++;
            down = true;
            continue;
        }
        if (err != ENOENT)
            return io_error("cannot create directory", path, err);
        if (down) { /* the parent made a moment ago vanished */
            vanished++;
            down = false;
        }
        /* up one level: the parent is missing */
        size_t j = end;
        while (j > 0 && path[j - 1] != '/')
            j--;
        while (j > 0 && path[j - 1] == '/')
            j--;
        if (j == 0)
            return io_error("cannot create directory", path, err);
        end = j;
    }
    return zarrc_error_set(ZARRC_EIO, "cannot create directory '%.*s': %s (its parents kept vanishing)",
                           (int)upto, path, strerror(err));
}

static int fs_open(void **state, const char *location, unsigned flags)
{
    struct stat st;
    size_t n = strlen(location);
    while (n > 1 && location[n - 1] == '/')
        n--;
    fs_store *fs = zarrc__calloc(1, sizeof *fs);
    if (!fs)
        return ZARRC_ENOMEM;
    fs->root = zarrc__malloc(n + 1);
    if (!fs->root) {
        free(fs);
        return ZARRC_ENOMEM;
    }
    memcpy(fs->root, location, n);
    fs->root[n] = '\0';
    fs->durable = (flags & ZARRC_STORE_DURABLE) != 0;
    bool contained = (flags & ZARRC_STORE_CONTAINED) != 0;
    pthread_mutex_init(&fs->held_mu, NULL);
    fs->root_link = lstat(fs->root, &st) == 0 && S_ISLNK(st.st_mode);
    int rc = ZARRC_OK;
    if (stat(fs->root, &st) != 0) {
        if (errno == ENOENT && (flags & ZARRC_STORE_CREATE))
            rc = mkdirs(fs->root, n);
        else if (errno == ENOENT)
            rc = zarrc_error_set(ZARRC_ENOTFOUND, "directory '%s' does not exist", fs->root);
        else
            rc = io_error("cannot open", fs->root, errno);
    } else if (!S_ISDIR(st.st_mode))
        rc = zarrc_error_set(ZARRC_EINVAL, "'%s' is not a directory", fs->root);
    if (rc == ZARRC_OK && contained && !(fs->contained = realpath(fs->root, NULL)))
        rc = io_error("cannot resolve", fs->root, errno);
    if (rc) {
        free(fs->root);
        free(fs);
        return rc;
    }
    *state = fs;
    return ZARRC_OK;
}

static void fs_close(void *state)
{
    fs_store *fs = state;
    pthread_mutex_destroy(&fs->held_mu);
    free(fs->contained);
    free(fs->root);
    free(fs);
}

/* Bytes [i * part, min((i + 1) * part, n)) of a value: at `start` in `fd`, into `data`. */
typedef struct read_job {
    int fd;
    const char *path;
    uint8_t *data;
    uint64_t start;
    size_t n, part;
} read_job;

#define SPLIT_READ_MIN ((uint64_t)8 << 20)

static int read_part(void *ctx, size_t i)
{
    const read_job *rj = ctx;
    size_t from = i * rj->part, to = rj->n - from > rj->part ? from + rj->part : rj->n;
    while (from < to) {
        ssize_t r = pread(rj->fd, rj->data + from, to - from, (off_t)(rj->start + from));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? io_error("cannot read", rj->path, errno)
                         : zarrc_error_set(ZARRC_EIO, "'%s' shrank while being read", rj->path);
        from += (size_t)r;
    }
    return ZARRC_OK;
}

/* Open the value of `key` for reading: its descriptor, malloc'd path and size. ZARRC_ENOTFOUND
 * (no message) when missing or a directory; nothing to release after an error. */
static int open_value(fs_store *fs, const char *key, int *fd_out, char **path_out, uint64_t *size)
{
    int rc = check_key(fs, key, false);
    if (rc)
        return rc;
    char *path = full_path(fs, key);
    if (!path)
        return ZARRC_ENOMEM;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; only regular files are values. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        rc = io_error("cannot read", path, errno);
        free(path);
        return rc;
    }
    struct stat st;
    if (fstat(fd, &st) != 0)
        rc = io_error("cannot stat", path, errno);
    else if (S_ISDIR(st.st_mode))
        rc = ZARRC_ENOTFOUND;
    else if (!S_ISREG(st.st_mode))
        rc = zarrc_error_set(ZARRC_EINVAL, "'%s' is not a regular file", path);
    if (rc) {
        close(fd);
        free(path);
        return rc;
    }
    *fd_out = fd;
    *path_out = path;
    *size = (uint64_t)st.st_size;
    return ZARRC_OK;
}

static int fs_get(void *state, const char *key, int64_t offset, int64_t length, zarrc_buf *out)
{
    int fd;
    char *path;
    uint64_t size, start, n;
    int rc = open_value(state, key, &fd, &path, &size);
    if (rc)
        return rc;
    zarrc__store_clip(size, offset, length, &start, &n);
    if ((rc = zarrc_buf_reserve(out, (size_t)n)))
        goto done;
    read_job rj = {fd, path, out->data, start, (size_t)n, (size_t)n};
    if (n >= SPLIT_READ_MIN && zarrc_get_num_threads() > 1) {
        /* One large value read by one caller: the copy out of the page cache, in parts on
         * the CPU pool (inline when this already runs there, i.e. in a read of many chunks).
         * The parts share this descriptor, so they read one version of the file. */
        size_t parts = (size_t)zarrc_get_num_threads();
        rj.part = ((size_t)n / parts + 4095) & ~(size_t)4095;
        rc = zarrc__pool_run(((size_t)n + rj.part - 1) / rj.part, read_part, &rj);
    } else
        rc = read_part(&rj, 0);
    if (rc == ZARRC_OK)
        out->size = (size_t)n;
done:
    close(fd);
    free(path);
    return rc;
}

/* The value through one descriptor (one version of the file), `cap` bytes at a time. */
static int fs_get_pieces(void *state, const char *key, uint8_t *buf, size_t cap,
                         int (*sink)(void *ctx, uint64_t total, const uint8_t *piece, size_t len), void *ctx)
{
    int fd;
    char *path;
    uint64_t size;
    int rc = open_value(state, key, &fd, &path, &size);
    if (rc)
        return rc;
    if (size == 0)
        rc = sink(ctx, 0, buf, 0);
    else if (size > cap) /* a cold file: its whole read-ahead starts now, not piece by piece */
        (void)posix_fadvise(fd, 0, (off_t)size, POSIX_FADV_WILLNEED);
    for (uint64_t at = 0; rc == ZARRC_OK && at < size;) {
        size_t k = size - at < cap ? (size_t)(size - at) : cap;
        read_job rj = {fd, path, buf, at, k, k};
        if ((rc = read_part(&rj, 0)) == ZARRC_OK)
            rc = sink(ctx, size, buf, k);
        at += k;
    }
    close(fd);
    free(path);
    return rc;
}

/* Bytes of a value given as pieces. */
static size_t parts_size(const zarrc_vref *parts, size_t n)
{
    size_t size = 0;
    for (size_t i = 0; i < n; i++)
        size += parts[i].len;
    return size;
}

/* Write the pieces one after the other from offset 0 of fd: pwritev of up to PARTS_PER_CALL
 * pieces, resumed after short writes. 0 or an errno. */
#define PARTS_PER_CALL 64
static int write_parts(int fd, const zarrc_vref *parts, size_t n)
{
    off_t off = 0;
    size_t i = 0, skip = 0; /* the next piece, and its bytes already written */
    for (;;) {
        struct iovec iov[PARTS_PER_CALL];
        int k = 0;
        for (size_t j = i; j < n && k < PARTS_PER_CALL; j++) {
            size_t from = j == i ? skip : 0;
            if (parts[j].len > from)
                iov[k++] = (struct iovec){(void *)(parts[j].ptr + from), parts[j].len - from};
        }
        if (k == 0)
            return 0;
        ssize_t w = pwritev(fd, iov, k, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        if (w == 0)
            return EIO;
        off += w;
        for (size_t left = (size_t)w; left;) {
            size_t rest = parts[i].len - skip;
            if (left < rest) {
                skip += left;
                break;
            }
            left -= rest;
            i++;
            skip = 0;
        }
    }
}

/* Make the directory entry changes in `dir` durable. */
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return io_error("cannot open directory", dir, errno);
    int rc = fsync(fd) == 0 || errno == EINVAL ? ZARRC_OK : io_error("cannot sync directory", dir, errno);
    close(fd);
    return rc;
}

/* Open (creating) a file in the directory of `path` (path[0..dirlen) is the directory),
 * creating missing directories; retried because a concurrent erase may remove a directory
 * that has just become empty. */
static int open_in_dir(int *fd, const char *file, char *path, size_t dirlen, int oflags)
{
    for (int attempt = 0; attempt < 16; attempt++) {
        *fd = open(file, oflags | O_CLOEXEC, 0666);
        if (*fd >= 0)
            return ZARRC_OK;
        if (errno != ENOENT)
            break;
        int rc = mkdirs(path, dirlen);
        if (rc)
            return rc;
    }
    if (errno == EEXIST && (oflags & O_EXCL))
        return ZARRC_EEXISTS; /* no message: callers of O_EXCL expect it */
    return io_error("cannot create", file, errno);
}

/* Write a value to a fresh temp file next to `path`; returns its name in *tmp. */
static int write_temp(char **tmp, char *path, const zarrc_vref *parts, size_t nparts, bool durable)
{
    char *slash = strrchr(path, '/');
    size_t dirlen = (size_t)(slash - path);
    unsigned long c = __atomic_add_fetch(&tmp_counter, 1, __ATOMIC_RELAXED);
    pthread_once(&host_once, host_init);
    *tmp = zarrc__sprintf("%.*s/" TMP_MARK "%s.%ld.%lu", (int)dirlen, path, host_name, (long)getpid(), c);
    if (!*tmp)
        return ZARRC_ENOMEM;
    int fd, rc = open_in_dir(&fd, *tmp, path, dirlen, O_WRONLY | O_CREAT | O_EXCL);
    if (rc)
        return rc;
    int err = write_parts(fd, parts, nparts);
    if (!err && durable && fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && !err)
        err = errno;
    if (err) {
        unlink(*tmp);
        return io_error("cannot write", *tmp, err);
    }
    return ZARRC_OK;
}

static int fs_putv(void *state, const char *key, const zarrc_vref *parts, size_t nparts, unsigned flags,
                   const char *if_version)
{
    fs_store *fs = state;
    if (flags & ZARRC_PUT_IF_MATCH)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "the filesystem store serializes writers with locks, "
                                                   "not versions");
    int rc = check_key(fs, key, false);
    if (rc)
        return rc;
    bool durable = fs->durable || (flags & ZARRC_PUT_DURABLE);
    char *path = full_path(fs, key), *tmp = NULL;
    if (!path)
        return ZARRC_ENOMEM;
    fs_lock *lk = (flags & ZARRC_PUT_IF_ABSENT) ? NULL : held_lock(fs, key);
    if (lk) {
        /* The key is locked by this handle: its lock file becomes the new value. It is almost
         * always empty (created by the lock); one left by a killed writer may hold anything.
         * Never truncate it to zero before writing: on ext4 that arms the "replace by
         * truncate" heuristic (auto_da_alloc), which starts writeback of the file on close —
         * every chunk written would go to the disk at once, in the writer's time. Instead
         * write the value over it, then cut whatever is left beyond the value. */
        struct stat st;
        size_t n = parts_size(parts, nparts);
        int err = fstat(lk->fd, &st) != 0 ? errno : write_parts(lk->fd, parts, nparts);
        if (!err && (uint64_t)st.st_size > n && ftruncate(lk->fd, (off_t)n) != 0)
            err = errno;
        if (!err && durable && fsync(lk->fd) != 0)
            err = errno;
        if (err)
            rc = io_error("cannot write", lk->path, err);
        else if (rename(lk->path, path) != 0)
            rc = io_error("cannot replace", path, errno);
        else {
            pthread_mutex_lock(&fs->held_mu); /* other threads look for held locks */
            lk->consumed = true;
            pthread_mutex_unlock(&fs->held_mu);
        }
        if (rc == ZARRC_OK && durable) {
            *strrchr(path, '/') = '\0';
            rc = sync_dir(path);
        }
        free(path);
        return rc;
    }
    rc = write_temp(&tmp, path, parts, nparts, durable);
    if (rc == ZARRC_OK) {
        if (flags & ZARRC_PUT_IF_ABSENT) {
            /* link() refuses to replace: atomic "only if absent". */
            if (link(tmp, path) != 0)
                rc = errno == EEXIST ? zarrc_error_set(ZARRC_EEXISTS, "key '%s' already exists", key)
                                     : io_error("cannot create", path, errno);
            unlink(tmp);
        } else if (rename(tmp, path) != 0) {
            rc = io_error("cannot replace", path, errno);
            unlink(tmp);
        }
    }
    if (rc == ZARRC_OK && durable) {
        char *slash = strrchr(path, '/');
        *slash = '\0';
        rc = sync_dir(path);
    }
    free(tmp);
    free(path);
    return rc;
}

static int fs_put(void *state, const char *key, const void *data, size_t n, unsigned flags, const char *if_version)
{
    return fs_putv(state, key, &(zarrc_vref){data, n}, 1, flags, if_version);
}

static int fs_set(void *state, const char *key, const void *data, size_t n)
{
    return fs_put(state, key, data, n, 0, NULL);
}

static int fs_set_if(void *state, const char *key, const void *data, size_t n, unsigned cond)
{
    return fs_put(state, key, data, n, (cond & ZARRC_SET_IF_ABSENT) ? ZARRC_PUT_IF_ABSENT : 0, NULL);
}

/* Deletion never goes through a symbolic link: the root (when asked to delete everything) and
 * every directory between the root and `rel` (a key, or a prefix without its '/') must be real
 * directories; the last component too when `last_too`. */
static int check_no_links(const fs_store *fs, const char *rel, bool last_too)
{
    if (fs->root_link && !*rel)
        return zarrc_error_set(ZARRC_EINVAL, "'%s' is a symbolic link: not deleting through it", fs->root);
    char *path = full_path(fs, rel);
    if (!path)
        return ZARRC_ENOMEM;
    int rc = ZARRC_OK;
    size_t rootlen = strlen(fs->root), n = strlen(path);
    for (size_t i = rootlen + 1; i <= n && rc == ZARRC_OK; i++) {
        if (i < n && path[i] != '/')
            continue;
        if (i == n && !last_too)
            break;
        char c = path[i];
        path[i] = '\0';
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
            rc = zarrc_error_set(ZARRC_EINVAL, "'%s' is a symbolic link: not deleting through it", path);
        path[i] = c;
    }
    free(path);
    return rc;
}

/* Drop directories between `path`'s directory and the root that are now empty. */
static void remove_empty_parents(const fs_store *fs, char *path)
{
    char *slash;
    size_t rootlen = strlen(fs->root);
    while ((slash = strrchr(path, '/')) && (size_t)(slash - path) > rootlen) {
        *slash = '\0';
        if (rmdir(path) != 0)
            break;
    }
}

static int fs_erase(void *state, const char *key)
{
    fs_store *fs = state;
    int rc = check_key(fs, key, false);
    if (rc == ZARRC_OK)
        rc = check_no_links(fs, key, false);
    if (rc)
        return rc;
    char *path = full_path(fs, key);
    if (!path)
        return ZARRC_ENOMEM;
    rc = unlink(path) == 0 ? ZARRC_OK : io_error("cannot remove", path, errno);
    if (rc == ZARRC_OK && fs->durable) {
        char *dir = zarrc__strdup(path);
        if (dir) {
            *strrchr(dir, '/') = '\0';
            rc = sync_dir(dir);
            free(dir);
        }
    }
    if (rc == ZARRC_OK)
        remove_empty_parents(fs, path);
    free(path);
    return rc;
}

/* ---- per-key locks ---- */


/* The pid of a temp file name ".zarrc-tmp.HOST.PID.N" when HOST is this host, else 0. */
static long temp_owner(const char *name)
{
    size_t hl = strlen(host_name), ml = strlen(TMP_MARK);
    if (strncmp(name, TMP_MARK, ml) || strncmp(name + ml, host_name, hl) || name[ml + hl] != '.')
        return 0;
    char *end;
    long pid = strtol(name + ml + hl + 1, &end, 10);
    return *end == '.' && pid > 0 ? pid : 0;
}

/* Remove temp files in `dir` left by processes of this host that no longer exist. */
static void remove_stale_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid = temp_owner(e->d_name);
        if (pid && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            char *p = zarrc__sprintf("%s/%s", dir, e->d_name);
            if (p)
                unlink(p);
            free(p);
        }
    }
    closedir(d);
}

static int fs_lock_key(void *state, const char *key, void **out)
{
    fs_store *fs = state;
    int rc = check_key(fs, key, false);
    if (rc)
        return rc;
    char *path = full_path(fs, key);
    if (!path)
        return ZARRC_ENOMEM;
    char *slash = strrchr(path, '/');
    size_t dirlen = (size_t)(slash - path);
    char *lpath = zarrc__sprintf("%.*s/" LOCK_MARK "%s", (int)dirlen, path, slash + 1);
    if (!lpath) {
        free(path);
        return ZARRC_ENOMEM;
    }
    pthread_once(&host_once, host_init);
    for (;;) {
        int fd;
        /* A lock file that already exists belongs to a holder, or was left by a killed one. */
        bool fresh = true;
        if ((rc = open_in_dir(&fd, lpath, path, dirlen, O_RDWR | O_CREAT | O_EXCL)) != ZARRC_OK) {
            if (rc != ZARRC_EEXISTS)
                break;
            fresh = false;
            if ((rc = open_in_dir(&fd, lpath, path, dirlen, O_RDWR | O_CREAT)))
                break;
        }
        bool waited = false;
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            waited = true;
            while (flock(fd, LOCK_EX) != 0) {
                if (errno != EINTR) {
                    rc = io_error("cannot lock", lpath, errno);
                    close(fd);
                    goto out;
                }
            }
        }
        /* Holding the lock of a file that is still the one at lpath: ours. Otherwise the
         * previous holder unlinked it (or renamed it onto its key) while we waited — even a
         * file we have just created can be taken, written and renamed by another writer
         * between our open and our flock, so this check is never skipped: try again. */
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(lpath, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            if (!fresh && !waited) {
                /* An unheld lock file: its writer was killed; clean up its temp files. */
                path[dirlen] = '\0';
                remove_stale_temps(path);
                path[dirlen] = '/';
            }
            fs_lock *lk = zarrc__malloc(sizeof *lk);
            if (!lk) {
                unlink(lpath);
                close(fd);
                rc = ZARRC_ENOMEM;
                break;
            }
            lk->fd = fd;
            lk->path = lpath;
            lk->key = zarrc__strdup(key);
            lk->consumed = false;
            lpath = NULL;
            if (!lk->key) {
                unlink(lk->path);
                close(fd);
                free(lk->path);
                free(lk);
                rc = ZARRC_ENOMEM;
                break;
            }
            pthread_mutex_lock(&fs->held_mu);
            lk->next = fs->held;
            fs->held = lk;
            pthread_mutex_unlock(&fs->held_mu);
            *out = lk;
            rc = ZARRC_OK;
            break;
        }
        close(fd);
    }
out:
    free(lpath);
    free(path);
    return rc;
}

static void fs_unlock_key(void *state, void *lock)
{
    fs_store *fs = state;
    fs_lock *lk = lock;
    pthread_mutex_lock(&fs->held_mu);
    for (fs_lock **p = &fs->held; *p; p = &(*p)->next)
        if (*p == lk) {
            *p = lk->next;
            break;
        }
    bool consumed = lk->consumed;
    pthread_mutex_unlock(&fs->held_mu);
    /* Unlink while holding the lock: a waiter that then gets it sees a different file (or,
     * when a put renamed the lock file onto the key, none). */
    if (!consumed)
        unlink(lk->path);
    close(lk->fd);
    if (!consumed) /* else the key's file is in that directory now */
        remove_empty_parents(fs, lk->path);
    free(lk->path);
    free(lk->key);
    free(lk);
}

/* stat(2) of a key's file: ZARRC_OK for a regular file, ZARRC_ENOTFOUND when missing (or a
 * directory), ZARRC_EINVAL for anything else (FIFOs, devices are no values). */
static int stat_value(const fs_store *fs, const char *key, struct stat *st)
{
    int rc = check_key(fs, key, false);
    if (rc)
        return rc;
    char *path = full_path(fs, key);
    if (!path)
        return ZARRC_ENOMEM;
    if (stat(path, st) != 0)
        rc = io_error("cannot stat", path, errno);
    else if (S_ISDIR(st->st_mode))
        rc = ZARRC_ENOTFOUND;
    else if (!S_ISREG(st->st_mode))
        rc = zarrc_error_set(ZARRC_EINVAL, "'%s' is not a regular file", path);
    free(path);
    return rc;
}

static int fs_version(void *state, const char *key, char *version)
{
    struct stat st;
    int rc = stat_value(state, key, &st);
    if (rc == ZARRC_OK)
        /* Every write renames a new file into place: the inode changes with each value, and the
         * times and size guard against a reused inode number. */
        snprintf(version, ZARRC_STORE_VERSION_MAX, "%llx:%llx:%llx:%lld.%09ld:%lld.%09ld",
                 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, (unsigned long long)st.st_size,
                 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec,
                 st.st_ctim.tv_nsec);
    return rc;
}

static int fs_flush(void *state)
{
    fs_store *fs = state;
    int fd = open(fs->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return io_error("cannot open", fs->root, errno);
    int rc = syncfs(fd) == 0 ? ZARRC_OK : io_error("cannot sync", fs->root, errno);
    close(fd);
    return rc;
}

/* Entries a listing shows: not ".", "..", or our internal files (temps, locks). */
static bool listed(const struct dirent *e)
{
    return strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
           strncmp(e->d_name, INTERNAL_MARK, strlen(INTERNAL_MARK));
}

static bool entry_is_dir(const char *dir, const struct dirent *e)
{
    if (e->d_type != DT_UNKNOWN && e->d_type != DT_LNK)
        return e->d_type == DT_DIR;
    struct stat st;
    char *p = zarrc__sprintf("%s/%s", dir, e->d_name);
    bool is_dir = p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
    free(p);
    return is_dir;
}

/* The documents that make a directory a node, in the order they are removed: after everything
 * else in the directory, and the node's own document last, so that an interrupted removal
 * leaves a node that is still visible (and can be deleted again), never chunks without their
 * metadata or a document with half of its companions. */
static const char *const node_docs[] = {".zattrs", ".zmetadata", "zarr.json", ".zarray", ".zgroup"};
#define NODE_DOC_MAX 16

static bool is_node_doc(const char *name)
{
    for (size_t i = 0; i < sizeof node_docs / sizeof *node_docs; i++)
        if (!strcmp(name, node_docs[i]))
            return true;
    return false;
}

static int remove_tree(const char *path, bool remove_self)
{
    DIR *d = opendir(path);
    if (!d) {
        if (errno == ENOTDIR)
            return unlink(path) == 0 ? ZARRC_OK : io_error("cannot remove", path, errno);
        return errno == ENOENT ? ZARRC_OK : io_error("cannot open directory", path, errno);
    }
    size_t pl = strlen(path);
    char *doc = zarrc__malloc(pl + NODE_DOC_MAX); /* before anything is removed here */
    int rc = doc ? ZARRC_OK : ZARRC_ENOMEM;
    struct dirent *e;
    while (rc == ZARRC_OK && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || is_node_doc(e->d_name))
            continue;
        char *child = zarrc__sprintf("%s/%s", path, e->d_name);
        if (!child) {
            rc = ZARRC_ENOMEM;
            break;
        }
        struct stat st;
        if (lstat(child, &st) != 0)
            rc = errno == ENOENT ? ZARRC_OK : io_error("cannot stat", child, errno);
        else if (S_ISDIR(st.st_mode))
            rc = remove_tree(child, true);
        else if (unlink(child) != 0 && errno != ENOENT)
            rc = io_error("cannot remove", child, errno);
        free(child);
    }
    closedir(d);
    for (size_t i = 0; rc == ZARRC_OK && i < sizeof node_docs / sizeof *node_docs; i++) {
        snprintf(doc, pl + NODE_DOC_MAX, "%s/%s", path, node_docs[i]);
        if (unlink(doc) == 0 || errno == ENOENT)
            continue;
        rc = errno == EISDIR ? remove_tree(doc, true) : io_error("cannot remove", doc, errno);
    }
    free(doc);
    if (rc == ZARRC_OK && remove_self && rmdir(path) != 0 && errno != ENOENT)
        rc = io_error("cannot remove directory", path, errno);
    return rc;
}

typedef struct list_ctx {
    zarrc_list_cb cb;
    void *ctx;
    const char *prefix;
} list_ctx;

/* Walk directory `rel` (a key prefix ending in '/' or "") recursively. */
static int walk(fs_store *fs, const char *rel, list_ctx *lc)
{
    char *path = *rel ? zarrc__sprintf("%s/%.*s", fs->root, (int)strlen(rel) - 1, rel)
                      : zarrc__strdup(fs->root);
    if (!path)
        return ZARRC_ENOMEM;
    DIR *d = opendir(path);
    if (!d) {
        int rc = errno == ENOENT || errno == ENOTDIR ? ZARRC_OK : io_error("cannot list", path, errno);
        free(path);
        return rc;
    }
    int rc = ZARRC_OK;
    struct dirent *e;
    while (rc == ZARRC_OK && (e = readdir(d))) {
        if (!listed(e))
            continue;
        char *key = zarrc__sprintf("%s%s", rel, e->d_name);
        if (!key) {
            rc = ZARRC_ENOMEM;
            break;
        }
        bool is_dir = entry_is_dir(path, e);
        size_t pl = strlen(lc->prefix), kl = strlen(key);
        if (is_dir) {
            /* Descend only if the directory can hold keys with the prefix (and, contained,
             * stays inside the root). */
            bool inside = !fs->contained || check_contained(fs, key) == ZARRC_OK;
            if (!inside)
                zarrc__error_clear(); /* a link out of the root: not listed, not an error */
            if (inside && strncmp(key, lc->prefix, kl < pl ? kl : pl) == 0) {
                char *sub = zarrc__sprintf("%s/", key);
                rc = sub ? walk(fs, sub, lc) : ZARRC_ENOMEM;
                free(sub);
            }
        } else if (kl >= pl && !strncmp(key, lc->prefix, pl))
            rc = lc->cb(lc->ctx, key, 0);
        free(key);
    }
    closedir(d);
    free(path);
    return rc;
}

static int fs_list(void *state, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    fs_store *fs = state;
    list_ctx lc = {cb, ctx, prefix};
    /* Start at the deepest directory named by the prefix. */
    const char *slash = strrchr(prefix, '/');
    char *start = slash ? zarrc__sprintf("%.*s", (int)(slash - prefix + 1), prefix) : zarrc__strdup("");
    if (!start)
        return ZARRC_ENOMEM;
    int rc = check_key(fs, start, true);
    if (rc == ZARRC_OK)
        rc = walk(fs, start, &lc);
    free(start);
    return rc;
}

static int fs_list_dir(void *state, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    fs_store *fs = state;
    size_t pl = strlen(prefix);
    if (pl && prefix[pl - 1] != '/')
        return zarrc_error_set(ZARRC_EINVAL, "directory listing prefix '%s' must end with '/'", prefix);
    int rc = check_key(fs, prefix, true);
    if (rc)
        return rc;
    char *path = pl ? zarrc__sprintf("%s/%.*s", fs->root, (int)pl - 1, prefix) : zarrc__strdup(fs->root);
    if (!path)
        return ZARRC_ENOMEM;
    DIR *d = opendir(path);
    if (!d) {
        rc = errno == ENOENT || errno == ENOTDIR ? ZARRC_OK : io_error("cannot list", path, errno);
        free(path);
        return rc;
    }
    struct dirent *e;
    while (rc == ZARRC_OK && (e = readdir(d))) {
        if (listed(e))
            rc = cb(ctx, e->d_name, entry_is_dir(path, e));
    }
    closedir(d);
    free(path);
    return rc;
}

static int fs_erase_prefix(void *state, const char *prefix)
{
    fs_store *fs = state;
    size_t pl = strlen(prefix);
    int rc = check_key(fs, prefix, true);
    if (rc)
        return rc;
    if (pl == 0 || prefix[pl - 1] == '/') {
        char *rel = zarrc__sprintf("%.*s", pl ? (int)pl - 1 : 0, prefix);
        rc = rel ? check_no_links(fs, rel, true) : ZARRC_ENOMEM;
        free(rel);
        if (rc)
            return rc;
        char *path = pl ? zarrc__sprintf("%s/%.*s", fs->root, (int)pl - 1, prefix) : zarrc__strdup(fs->root);
        if (!path)
            return ZARRC_ENOMEM;
        rc = remove_tree(path, pl != 0);
        free(path);
        return rc;
    }
    return zarrc_error_set(ZARRC_EINVAL, "erase prefix '%s' must be empty or end with '/'", prefix);
}

static int fs_size(void *state, const char *key, uint64_t *size)
{
    struct stat st;
    int rc = stat_value(state, key, &st);
    if (rc == ZARRC_OK)
        *size = (uint64_t)st.st_size;
    return rc;
}

/* The real path of the root: symlinks and "." / ".." resolved. */
static char *fs_canonical(void *state)
{
    fs_store *fs = state;
    char *real = realpath(fs->root, NULL);
    return real ? real : zarrc__strdup(fs->root);
}

const zarrc_store_type zarrc__store_fs = {
    ZARRC_STORE_TYPE_VERSION, "file",
    ZARRC_STORE_CAP_RANGE | ZARRC_STORE_CAP_LIST_DIR | ZARRC_STORE_CAP_WRITE | ZARRC_STORE_CAP_SET_IF,
    fs_open, fs_close, fs_get, NULL, fs_set, fs_set_if, fs_erase, fs_erase_prefix, fs_list,
    fs_list_dir, fs_size,
    fs_put, NULL, fs_version, fs_lock_key, fs_unlock_key, fs_flush, fs_canonical, fs_putv, fs_get_pieces,
};
