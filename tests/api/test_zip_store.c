/* The zip store through the public API: writing (STORED, zip64, rewrite = last entry wins,
 * erase, atomic replace at close), reading (ranges, suffixes, listings), and damaged archives
 * (every truncation of the tail, bytes of the central directory and end records overwritten):
 * an error or data, never a crash or an unbounded allocation (run under ASan by make check). */
#include <sys/stat.h>
#include <unistd.h>

#include <zarrc.h>

#include "check.h"

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long l = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(l > 0 ? (size_t)l : 1);
    *n = b && fread(b, 1, (size_t)l, f) == (size_t)l ? (size_t)l : 0;
    fclose(f);
    return b;
}

static void write_file(const char *path, const char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(b, 1, n, f);
        fclose(f);
    }
}

static int count_cb(void *ctx, const char *name, int is_prefix)
{
    (*(int *)ctx)++;
    return 0;
}

static char listed[4096];
static int list_cb(void *ctx, const char *name, int is_prefix)
{
    if (strlen(listed) + strlen(name) + 3 < sizeof listed) {
        strcat(listed, name);
        strcat(listed, is_prefix ? "/;" : ";");
    }
    return 0;
}

/* Open a possibly damaged archive and read everything it lists. */
static int poke(const char *path)
{
    zarrc_store *s = NULL;
    int rc = zarrc_store_open(&s, path, ZARRC_STORE_READONLY);
    if (rc) {
        CHECK_MSG(rc == ZARRC_ECORRUPT || rc == ZARRC_ENOTFOUND, "open of a damaged archive: %d", rc);
        return 0;
    }
    static const char *keys[] = {"zarr.json", "a/b", "a/c", "big", "z"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        void *d = NULL;
        size_t n = 0;
        rc = zarrc_store_get(&d, &n, s, keys[i]);
        zarrc_free(d);
        rc = zarrc_store_get_range(&d, &n, s, keys[i], -3, 0);
        zarrc_free(d);
    }
    int k = 0;
    zarrc_store_list(s, "", count_cb, &k);
    zarrc_store_free(s);
    return 1;
}

int main(void)
{
    const char *tmp = getenv("ZARRC_TEST_TMP");
    char dir[1024], path[1100], bad[1100];
    snprintf(dir, sizeof dir, "%s/api_zip_store", tmp ? tmp : "/tmp");
    mkdir(tmp ? tmp : "/tmp", 0755);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/t.zip", dir);
    snprintf(bad, sizeof bad, "%s/bad.zip", dir);
    unlink(path);

    /* ---- write ---- */
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, path, 0));
    CHECK(zarrc_store_multi_writer_safe(s) == 0);
    size_t big_n = 300000;
    char *big = malloc(big_n);
    for (size_t i = 0; i < big_n; i++)
        big[i] = (char)(i * 7 + 3);
    CHECK_OK(zarrc_store_set(s, "zarr.json", "{}", 2));
    CHECK_OK(zarrc_store_set(s, "a/b", "first", 5));
    CHECK_OK(zarrc_store_set(s, "a/c", "", 0));
    CHECK_OK(zarrc_store_set(s, "big", big, big_n));
    CHECK_OK(zarrc_store_set(s, "a/b", "0123456789", 10)); /* rewrite: the last wins */
    CHECK_OK(zarrc_store_set(s, "gone", "x", 1));
    CHECK_OK(zarrc_store_erase(s, "gone"));
    CHECK(zarrc_store_erase(s, "never") == ZARRC_ENOTFOUND);
    void *d = NULL;
    size_t n = 0;
    CHECK_OK(zarrc_store_get(&d, &n, s, "a/b")); /* readable before close */
    CHECK(n == 10 && !memcmp(d, "0123456789", 10));
    zarrc_free(d);
    struct stat st;
    CHECK(stat(path, &st) != 0); /* nothing at the archive's name until close */
    zarrc_store_free(s);
    CHECK(stat(path, &st) == 0);

    /* ---- read ---- */
    CHECK_OK(zarrc_store_open(&s, path, ZARRC_STORE_READONLY));
    CHECK_OK(zarrc_store_get(&d, &n, s, "a/b"));
    CHECK(n == 10 && !memcmp(d, "0123456789", 10));
    zarrc_free(d);
    CHECK_OK(zarrc_store_get_range(&d, &n, s, "a/b", 2, 3));
    CHECK(n == 3 && !memcmp(d, "234", 3));
    zarrc_free(d);
    CHECK_OK(zarrc_store_get_range(&d, &n, s, "a/b", -4, 0));
    CHECK(n == 4 && !memcmp(d, "6789", 4));
    zarrc_free(d);
    CHECK_OK(zarrc_store_get_range(&d, &n, s, "big", 123456, 1000));
    CHECK(n == 1000 && !memcmp(d, big + 123456, 1000));
    zarrc_free(d);
    CHECK_OK(zarrc_store_get(&d, &n, s, "a/c"));
    CHECK(n == 0);
    zarrc_free(d);
    CHECK(zarrc_store_get(&d, &n, s, "gone") == ZARRC_ENOTFOUND);
    uint64_t size = 0;
    CHECK_OK(zarrc_store_size(&size, s, "big"));
    CHECK(size == big_n);
    listed[0] = '\0';
    CHECK_OK(zarrc_store_list_dir(s, "", list_cb, NULL));
    CHECK_MSG(!strcmp(listed, "zarr.json;a/;big;"), "list_dir: %s", listed);
    listed[0] = '\0';
    CHECK_OK(zarrc_store_list(s, "a/", list_cb, NULL));
    CHECK_MSG(!strcmp(listed, "a/c;a/b;"), "list: %s", listed);
    CHECK(zarrc_store_set(s, "x", "1", 1) == ZARRC_EREADONLY);
    zarrc_store_free(s);

    /* ---- append to an existing archive ---- */
    CHECK_OK(zarrc_store_open(&s, "zip:", 0) == ZARRC_OK ? -1 : 0);
    char url[1200];
    snprintf(url, sizeof url, "zip:%s", path);
    CHECK_OK(zarrc_store_open(&s, url, 0));
    CHECK_OK(zarrc_store_set(s, "z", "zz", 2));
    zarrc_store_free(s);
    CHECK_OK(zarrc_store_open(&s, path, ZARRC_STORE_READONLY));
    CHECK_OK(zarrc_store_get(&d, &n, s, "z"));
    CHECK(n == 2 && !memcmp(d, "zz", 2));
    zarrc_free(d);
    CHECK_OK(zarrc_store_get(&d, &n, s, "big"));
    CHECK(n == big_n && !memcmp(d, big, big_n));
    zarrc_free(d);
    zarrc_store_free(s);
    free(big);

    /* ---- a node inside the archive: PATH/g/n is a store whose keys are the entries under g/n/ ---- */
    {
        char node[1200], npath[1100];
        snprintf(npath, sizeof npath, "%s/n.zip", dir);
        unlink(npath);
        snprintf(node, sizeof node, "%s/g/n/", npath);
        zarrc_store *ns = NULL;
        CHECK_OK(zarrc_store_open(&ns, node, 0));
        CHECK_OK(zarrc_store_set(ns, "zarr.json", "{}", 2));
        CHECK_OK(zarrc_store_set(ns, "c/0", "abc", 3));
        CHECK_OK(zarrc_store_set(ns, "c/1", "de", 2));
        CHECK_OK(zarrc_store_erase(ns, "c/1"));
        CHECK(zarrc_store_set(ns, "", "x", 1) == ZARRC_EINVAL);
        zarrc_store_free(ns);
        zarrc_store *root = NULL;
        CHECK_OK(zarrc_store_open(&root, npath, ZARRC_STORE_READONLY));
        listed[0] = '\0';
        CHECK_OK(zarrc_store_list(root, "", list_cb, NULL));
        CHECK(!strcmp(listed, "g/n/zarr.json;g/n/c/0;") || !strcmp(listed, "g/n/c/0;g/n/zarr.json;"));
        zarrc_store_free(root);
        snprintf(node, sizeof node, "zip:%s/g/n", npath);
        CHECK_OK(zarrc_store_open(&ns, node, ZARRC_STORE_READONLY));
        CHECK_OK(zarrc_store_get_range(&d, &n, ns, "c/0", 1, 5));
        CHECK(n == 2 && !memcmp(d, "bc", 2));
        zarrc_free(d);
        uint64_t sz = 0;
        CHECK_OK(zarrc_store_size(&sz, ns, "zarr.json"));
        CHECK(sz == 2);
        CHECK(zarrc_store_get(&d, &n, ns, "g/n/zarr.json") == ZARRC_ENOTFOUND);
        listed[0] = '\0';
        CHECK_OK(zarrc_store_list(ns, "", list_cb, NULL));
        CHECK(!strcmp(listed, "zarr.json;c/0;") || !strcmp(listed, "c/0;zarr.json;"));
        listed[0] = '\0';
        CHECK_OK(zarrc_store_list_dir(ns, "", list_cb, NULL));
        CHECK(strstr(listed, "c/;") && strstr(listed, "zarr.json;"));
        listed[0] = '\0';
        CHECK_OK(zarrc_store_list(ns, "c/", list_cb, NULL));
        CHECK(!strcmp(listed, "c/0;"));
        zarrc_store_free(ns);
        /* a directory named x.zip is a directory */
        snprintf(node, sizeof node, "%s/d.zip", dir);
        mkdir(node, 0755);
        snprintf(node, sizeof node, "%s/d.zip/k", dir);
        CHECK_OK(zarrc_store_open(&ns, node, ZARRC_STORE_CREATE));
        CHECK_OK(zarrc_store_set(ns, "v", "1", 1));
        zarrc_store_free(ns);
        struct stat dst;
        snprintf(node, sizeof node, "%s/d.zip/k/v", dir);
        CHECK(stat(node, &dst) == 0 && S_ISREG(dst.st_mode));
        unlink(node);
        snprintf(node, sizeof node, "%s/d.zip/k", dir);
        rmdir(node);
        snprintf(node, sizeof node, "%s/d.zip", dir);
        rmdir(node);
        unlink(npath);
    }

    /* ---- damaged archives ---- */
    size_t an = 0;
    char *arch = read_file(path, &an);
    CHECK(arch && an > 300000);
    int opened = 0, tried = 0;
    for (size_t cut = 0; arch && cut < an; cut += cut + 400 < an ? 997 : 1) { /* every length near the end */
        write_file(bad, arch, cut);
        opened += poke(bad);
        tried++;
    }
    char *m = malloc(an ? an : 1);
    for (size_t i = an > 400 ? an - 400 : 0; arch && m && i < an; i++) {
        static const unsigned char vals[] = {0x00, 0xFF, 0x7F};
        for (size_t v = 0; v < sizeof vals; v++) {
            memcpy(m, arch, an);
            m[i] = (char)vals[v];
            write_file(bad, m, an);
            opened += poke(bad);
            tried++;
        }
    }
    printf("damaged archives: %d tried, %d opened\n", tried, opened);
    free(m);
    free(arch);
    unlink(bad);
    CHECK_ERR(zarrc_store_open(&s, bad, ZARRC_STORE_READONLY), ZARRC_ENOTFOUND, "does not exist");
    return check_report("test_zip_store");
}
