/*
 * store_fs.c — the directory store. Key "a/b/c" is file ROOT/a/b/c. Writes go to a temp file
 * in the target directory and are renamed into place, so a crash never leaves a torn value.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#define TMP_MARK ".zarrc-tmp."

typedef struct fs_store {
    char *root;
} fs_store;

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
static int check_key(const char *key, bool allow_empty)
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

static int mkdirs(char *path, size_t upto)
{
    /* Create every directory of path[0..upto) (path is modified temporarily). */
    for (size_t i = 1; i <= upto; i++) {
        if (i == upto || path[i] == '/') {
            char c = path[i];
            path[i] = '\0';
            int r = mkdir(path, 0777);
            int err = errno;
            path[i] = c;
            if (r != 0 && err != EEXIST)
                return io_error("cannot create directory", path, err);
        }
    }
    return ZARRC_OK;
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
    free(fs->root);
    free(fs);
}

static int fs_get(void *state, const char *key, int64_t offset, int64_t length, zarrc_buf *out)
{
    fs_store *fs = state;
    int rc = check_key(key, false);
    if (rc)
        return rc;
    char *path = full_path(fs, key);
    if (!path)
        return ZARRC_ENOMEM;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = io_error("cannot read", path, errno);
        free(path);
        return rc;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        rc = S_ISDIR(st.st_mode) ? ZARRC_ENOTFOUND : io_error("cannot stat", path, errno);
        goto done;
    }
    uint64_t start, n;
    zarrc__store_clip((uint64_t)st.st_size, offset, length, &start, &n);
    if ((rc = zarrc_buf_reserve(out, (size_t)n)))
        goto done;
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, out->data + got, (size_t)n - got, (off_t)(start + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = r < 0 ? io_error("cannot read", path, errno)
                       : zarrc_error_set(ZARRC_EIO, "'%s' shrank while being read", path);
            goto done;
        }
        got += (size_t)r;
    }
    out->size = (size_t)n;
done:
    close(fd);
    free(path);
    return rc;
}

static int write_all(int fd, const void *data, size_t n)
{
    const uint8_t *p = data;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write data to a fresh temp file next to `path`; returns its name in *tmp. */
static int write_temp(char **tmp, char *path, const void *data, size_t n)
{
    char *slash = strrchr(path, '/');
    size_t dirlen = (size_t)(slash - path);
    unsigned long c = __atomic_add_fetch(&tmp_counter, 1, __ATOMIC_RELAXED);
    *tmp = zarrc__sprintf("%.*s/" TMP_MARK "%ld.%lu", (int)dirlen, path, (long)getpid(), c);
    if (!*tmp)
        return ZARRC_ENOMEM;
    int fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno == ENOENT) {
        int rc = mkdirs(path, dirlen);
        if (rc)
            return rc;
        fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    }
    if (fd < 0)
        return io_error("cannot create", *tmp, errno);
    int err = write_all(fd, data, n);
    if (close(fd) != 0 && !err)
        err = errno;
    if (err) {
        unlink(*tmp);
        return io_error("cannot write", *tmp, err);
    }
    return ZARRC_OK;
}

static int fs_set_impl(fs_store *fs, const char *key, const void *data, size_t n, bool if_absent)
{
    int rc = check_key(key, false);
    if (rc)
        return rc;
    char *path = full_path(fs, key), *tmp = NULL;
    if (!path)
        return ZARRC_ENOMEM;
    rc = write_temp(&tmp, path, data, n);
    if (rc == ZARRC_OK) {
        if (if_absent) {
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
    free(tmp);
    free(path);
    return rc;
}

static int fs_set(void *state, const char *key, const void *data, size_t n)
{
    return fs_set_impl(state, key, data, n, false);
}

static int fs_set_if(void *state, const char *key, const void *data, size_t n, unsigned cond)
{
    return fs_set_impl(state, key, data, n, (cond & ZARRC_SET_IF_ABSENT) != 0);
}

static int fs_erase(void *state, const char *key)
{
    fs_store *fs = state;
    int rc = check_key(key, false);
    if (rc)
        return rc;
    char *path = full_path(fs, key);
    if (!path)
        return ZARRC_ENOMEM;
    rc = unlink(path) == 0 ? ZARRC_OK : io_error("cannot remove", path, errno);
    if (rc == ZARRC_OK) {
        /* Drop directories the removal left empty (not the root). */
        char *slash;
        size_t rootlen = strlen(fs->root);
        while ((slash = strrchr(path, '/')) && (size_t)(slash - path) > rootlen) {
            *slash = '\0';
            if (rmdir(path) != 0)
                break;
        }
    }
    free(path);
    return rc;
}

/* Entries a listing shows: not ".", "..", or our temporary files. */
static bool listed(const struct dirent *e)
{
    return strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strncmp(e->d_name, TMP_MARK, strlen(TMP_MARK));
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
            /* Descend only if the directory can hold keys with the prefix. */
            if (strncmp(key, lc->prefix, kl < pl ? kl : pl) == 0) {
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
    int rc = check_key(start, true);
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
    int rc = check_key(prefix, true);
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
    int rc = check_key(prefix, true);
    if (rc)
        return rc;
    if (pl == 0 || prefix[pl - 1] == '/') {
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
    fs_store *fs = state;
    int rc = check_key(key, false);
    if (rc)
        return rc;
    char *path = full_path(fs, key);
    if (!path)
        return ZARRC_ENOMEM;
    struct stat st;
    if (stat(path, &st) != 0)
        rc = io_error("cannot stat", path, errno);
    else if (S_ISDIR(st.st_mode))
        rc = ZARRC_ENOTFOUND;
    else
        *size = (uint64_t)st.st_size;
    free(path);
    return rc;
}

const zarrc_store_type zarrc__store_fs = {
    ZARRC_STORE_TYPE_VERSION, "file",
    ZARRC_STORE_CAP_RANGE | ZARRC_STORE_CAP_LIST_DIR | ZARRC_STORE_CAP_WRITE | ZARRC_STORE_CAP_SET_IF,
    fs_open, fs_close, fs_get, NULL, fs_set, fs_set_if, fs_erase, fs_erase_prefix, fs_list,
    fs_list_dir, fs_size,
};
