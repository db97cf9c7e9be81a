/*
 * store_zip.c — a zip archive as a store: zip://URL, zip:URL, or any URL ending in ".zip"
 * (a file, or an object in another store such as s3://bucket/x.zip).
 *
 * Reading works over any zarrc store: the end-of-central-directory record is found with one
 * suffix read (64 KiB + 22 bytes), zip64 records are followed, the central directory is read
 * with one range read and indexed by name (the last entry of a name wins, as in zarr-python's
 * append-only ZipStore). STORED entries are read by range reads of just the bytes asked for;
 * DEFLATE entries are inflated whole (zlib) and cut.
 *
 * Writing (filesystem archives only): the handle writes into a temporary file next to the
 * archive (a copy of the existing entries first, so existing keys stay readable and rewrites
 * append, last one wins), STORED entries with zip64 fields when needed, and on close writes
 * the central directory, fsyncs and renames it over the archive (atomic replace). Until then
 * other readers see the old archive. Erased keys leave the index and the central directory
 * (their bytes stay behind, unreferenced).
 * One writer per archive; a handle's calls are serialized by its mutex.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "store.h"

typedef struct zip_entry {
    char *name;
    uint64_t csize, usize, local_offset;
    uint32_t crc;
    uint16_t method;
} zip_entry;

typedef struct zip_store {
    pthread_mutex_t mu;
    zarrc_store *inner; /* the store holding the archive (reading) */
    char *member;       /* the archive's key in `inner` */
    char *node;         /* "" or "g/a/": the node inside the archive that is this store's root */
    size_t node_len;
    char *display;
    zip_entry *e;
    size_t n, cap;
    size_t *slots; /* open hash: index + 1 of the last entry of a name, 0 = empty */
    size_t nslots;
    /* writing */
    bool writable;
    char *path, *tmp; /* the archive and the temporary file being written */
    int fd;
    uint64_t end; /* bytes written to tmp */
    bool failed;  /* a write failed: close leaves the archive as it was */
} zip_store;

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v), wr16(p + 2, (uint16_t)(v >> 16)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v), wr32(p + 4, (uint32_t)(v >> 32)); }

static size_t name_hash(const char *s)
{
    size_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return h;
}

static zip_entry *find(zip_store *z, const char *name)
{
    if (!z->nslots)
        return NULL;
    for (size_t i = name_hash(name) & (z->nslots - 1);; i = (i + 1) & (z->nslots - 1)) {
        if (!z->slots[i])
            return NULL;
        zip_entry *e = &z->e[z->slots[i] - 1];
        if (!strcmp(e->name, name))
            return e;
    }
}

static int rehash(zip_store *z)
{
    size_t ns = 64;
    while (ns < 2 * z->n + 2)
        ns *= 2;
    size_t *sl = zarrc__calloc(ns, sizeof *sl);
    if (!sl)
        return ZARRC_ENOMEM;
    free(z->slots);
    z->slots = sl;
    z->nslots = ns;
    for (size_t k = 0; k < z->n; k++) {
        size_t i = name_hash(z->e[k].name) & (ns - 1);
        while (sl[i] && strcmp(z->e[sl[i] - 1].name, z->e[k].name))
            i = (i + 1) & (ns - 1);
        sl[i] = k + 1; /* later entries replace earlier ones: the last wins */
    }
    return ZARRC_OK;
}

/* Append an entry (takes `name`). */
static int add_entry(zip_store *z, char *name, uint64_t csize, uint64_t usize, uint64_t off, uint32_t crc,
                     uint16_t method)
{
    if (z->n == z->cap) {
        size_t cap = z->cap ? 2 * z->cap : 64;
        zip_entry *p = zarrc__realloc(z->e, cap * sizeof *p);
        if (!p) {
            free(name);
            return ZARRC_ENOMEM;
        }
        z->e = p;
        z->cap = cap;
    }
    z->e[z->n++] = (zip_entry){name, csize, usize, off, crc, method};
    if (2 * z->n + 2 > z->nslots)
        return rehash(z);
    size_t i = name_hash(name) & (z->nslots - 1);
    while (z->slots[i] && strcmp(z->e[z->slots[i] - 1].name, name))
        i = (i + 1) & (z->nslots - 1);
    z->slots[i] = z->n;
    return ZARRC_OK;
}

/* ---- reading the central directory ---- */

#define EOCD_SIG 0x06054b50u
#define LOC64_SIG 0x07064b50u
#define EOCD64_SIG 0x06064b50u
#define CEN_SIG 0x02014b50u
#define LOC_SIG 0x04034b50u

/* The entry name of the store key `key` (under the node), malloc'd; NULL on ENOMEM. */
static char *entry_name(const zip_store *z, const char *key)
{
    return zarrc__sprintf("%s%s", z->node, key);
}

static int corrupt(zip_store *z, const char *what)
{
    return zarrc_error_set(ZARRC_ECORRUPT, "zip archive '%s': %s", z->display, what);
}

static int inner_get(zip_store *z, int64_t off, int64_t len, zarrc_buf *out)
{
    int rc = zarrc__store_get(z->inner, z->member, off, len, out);
    if (rc == ZARRC_ENOTFOUND)
        return zarrc_error_set(rc, "zip archive '%s' does not exist", z->display);
    return rc ? zarrc__error_context(rc, "zip archive '%s': ", z->display) : ZARRC_OK;
}

static int read_directory(zip_store *z)
{
    uint64_t size;
    int rc = z->inner->type->size(z->inner->state, z->member, &size);
    if (rc == ZARRC_ENOTFOUND)
        return zarrc_error_set(rc, "zip archive '%s' does not exist", z->display);
    if (rc)
        return zarrc__error_context(rc, "zip archive '%s': ", z->display);
    if (size < 22)
        return corrupt(z, "too short for a zip archive");
    uint64_t tail_n = size < 65536 + 22 + 20 ? size : 65536 + 22 + 20;
    zarrc_buf t = ZARRC_BUF_INIT, cd = ZARRC_BUF_INIT;
    rc = inner_get(z, -(int64_t)tail_n, -1, &t);
    if (!rc && t.size != tail_n)
        rc = corrupt(z, "short read of its end");
    int64_t eocd = -1;
    for (int64_t i = (int64_t)t.size - 22; !rc && i >= 0; i--)
        if (rd32(t.data + i) == EOCD_SIG && (uint64_t)i + 22 + rd16(t.data + i + 20) == t.size) {
            eocd = i;
            break;
        }
    if (!rc && eocd < 0)
        rc = corrupt(z, "no end of central directory record");
    uint64_t cd_off = 0, cd_size = 0, count = 0;
    if (!rc) {
        const uint8_t *p = t.data + eocd;
        count = rd16(p + 10);
        cd_size = rd32(p + 12);
        cd_off = rd32(p + 16);
        if ((count == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu) && eocd >= 20 &&
            rd32(p - 20) == LOC64_SIG) {
            uint64_t e64 = rd64(p - 20 + 8);
            zarrc_buf b = ZARRC_BUF_INIT;
            if (e64 > size - 56)
                rc = corrupt(z, "zip64 end record out of range");
            else
                rc = inner_get(z, (int64_t)e64, 56, &b);
            if (!rc && (b.size != 56 || rd32(b.data) != EOCD64_SIG))
                rc = corrupt(z, "bad zip64 end record");
            if (!rc) {
                count = rd64(b.data + 32);
                cd_size = rd64(b.data + 40);
                cd_off = rd64(b.data + 48);
            }
            zarrc_buf_release(&b);
        }
    }
    if (!rc && (cd_off > size || cd_size > size - cd_off || count > cd_size / 46 + 1))
        rc = corrupt(z, "central directory out of range");
    if (!rc && cd_size)
        rc = inner_get(z, (int64_t)cd_off, (int64_t)cd_size, &cd);
    if (!rc && cd.size != cd_size)
        rc = corrupt(z, "short read of the central directory");
    for (uint64_t pos = 0, k = 0; !rc && k < count; k++) {
        if (cd_size - pos < 46 || rd32(cd.data + pos) != CEN_SIG) {
            rc = corrupt(z, "bad central directory entry");
            break;
        }
        const uint8_t *p = cd.data + pos;
        uint16_t method = rd16(p + 10), nl = rd16(p + 28), xl = rd16(p + 30), cl = rd16(p + 32);
        uint64_t csize = rd32(p + 20), usize = rd32(p + 24), off = rd32(p + 42);
        if (46u + nl + xl + cl > cd_size - pos) {
            rc = corrupt(z, "central directory entry runs past its end");
            break;
        }
        /* zip64 extra field: the 0xFFFFFFFF fields, in the order usize, csize, offset */
        for (const uint8_t *x = p + 46 + nl, *xe = x + xl; x + 4 <= xe;) {
            uint16_t id = rd16(x), len = rd16(x + 2);
            if (x + 4 + len > xe)
                break;
            if (id == 1) {
                const uint8_t *f = x + 4, *fe = f + len;
                if (usize == 0xFFFFFFFFu && f + 8 <= fe)
                    usize = rd64(f), f += 8;
                if (csize == 0xFFFFFFFFu && f + 8 <= fe)
                    csize = rd64(f), f += 8;
                if (off == 0xFFFFFFFFu && f + 8 <= fe)
                    off = rd64(f);
            }
            x += 4 + len;
        }
        if (off > size || csize > size - off) {
            rc = corrupt(z, "entry data out of range");
            break;
        }
        char *name = zarrc__malloc((size_t)nl + 1);
        if (!name) {
            rc = ZARRC_ENOMEM;
            break;
        }
        memcpy(name, p + 46, nl);
        name[nl] = '\0';
        size_t l = strlen(name);
        if (l != nl || (l && name[l - 1] == '/')) /* directory entries and names with NUL */
            free(name);
        else
            rc = add_entry(z, name, csize, usize, off, rd32(p + 16), method);
        pos += 46u + nl + xl + cl;
    }
    if (!rc && z->nslots == 0)
        rc = rehash(z);
    zarrc_buf_release(&t);
    zarrc_buf_release(&cd);
    return rc;
}

/* ---- reading entries ---- */

/* Offset of an entry's data (after its local header). */
static int data_offset(zip_store *z, const zip_entry *e, uint64_t *off)
{
    uint8_t h[30];
    if (z->fd >= 0) { /* our own temp file */
        if (pread(z->fd, h, 30, (off_t)e->local_offset) != 30)
            return corrupt(z, "cannot read a local header");
    } else {
        zarrc_buf b = ZARRC_BUF_INIT;
        int rc = inner_get(z, (int64_t)e->local_offset, 30, &b);
        if (!rc && b.size == 30)
            memcpy(h, b.data, 30);
        else if (!rc)
            rc = corrupt(z, "short local header");
        zarrc_buf_release(&b);
        if (rc)
            return rc;
    }
    if (rd32(h) != LOC_SIG)
        return zarrc_error_set(ZARRC_ECORRUPT, "zip archive '%s': bad local header of '%s'", z->display, e->name);
    *off = e->local_offset + 30 + rd16(h + 26) + rd16(h + 28);
    return ZARRC_OK;
}

static int read_bytes(zip_store *z, uint64_t off, uint64_t n, zarrc_buf *out)
{
    if (z->fd < 0) {
        int rc = inner_get(z, (int64_t)off, (int64_t)n, out);
        if (!rc && out->size != n)
            rc = corrupt(z, "short read of entry data");
        return rc;
    }
    if (n > SIZE_MAX)
        return ZARRC_ENOMEM;
    int rc = zarrc_buf_reserve(out, (size_t)n);
    if (rc)
        return rc;
    for (size_t done = 0; done < n;) {
        ssize_t r = pread(z->fd, out->data + done, (size_t)n - done, (off_t)(off + done));
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            return zarrc_error_set(ZARRC_EIO, "zip archive '%s': read failed", z->display);
        }
        done += (size_t)r;
    }
    out->size = (size_t)n;
    return ZARRC_OK;
}

static int zip_get_locked(zip_store *z, const char *key, int64_t offset, int64_t length, zarrc_buf *out)
{
    zip_entry *e = find(z, key);
    if (!e)
        return ZARRC_ENOTFOUND;
    uint64_t start, n, doff;
    zarrc__store_clip(e->usize, offset, length, &start, &n);
    int rc = data_offset(z, e, &doff);
    if (rc)
        return rc;
    if (e->method == 0) {
        if (e->csize != e->usize)
            return zarrc_error_set(ZARRC_ECORRUPT, "zip archive '%s': stored entry '%s' has two sizes",
                                   z->display, key);
        return n ? read_bytes(z, doff + start, n, out) : ZARRC_OK;
    }
    if (e->method != 8)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "zip archive '%s': entry '%s' uses compression method %u",
                               z->display, key, e->method);
    /* DEFLATE never expands data more than 1032:1: refuse declared sizes beyond that. */
    if (e->usize > e->csize * 1032 + 1024 || e->usize > SIZE_MAX)
        return zarrc_error_set(ZARRC_ECORRUPT, "zip archive '%s': entry '%s' declares an impossible size",
                               z->display, key);
    zarrc_buf c = ZARRC_BUF_INIT, u = ZARRC_BUF_INIT;
    rc = read_bytes(z, doff, e->csize, &c);
    if (!rc)
        rc = zarrc_buf_reserve(&u, (size_t)e->usize + 1);
    if (!rc) {
        z_stream s = {0};
        if (inflateInit2(&s, -15) != Z_OK)
            rc = zarrc__enomem();
        else {
            s.next_in = c.data;
            s.avail_in = (uInt)c.size;
            s.next_out = u.data;
            s.avail_out = (uInt)e->usize + 1;
            int zr = inflate(&s, Z_FINISH);
            if (zr != Z_STREAM_END || s.total_out != e->usize)
                rc = zarrc_error_set(ZARRC_ECORRUPT, "zip archive '%s': entry '%s' does not inflate to %llu bytes",
                                     z->display, key, (unsigned long long)e->usize);
            else if (crc32(0, u.data, (uInt)e->usize) != e->crc)
                rc = zarrc_error_set(ZARRC_ECORRUPT, "zip archive '%s': CRC mismatch in '%s'", z->display, key);
            inflateEnd(&s);
        }
    }
    if (!rc && n) {
        rc = zarrc_buf_reserve(out, (size_t)n);
        if (!rc) {
            memcpy(out->data, u.data + start, (size_t)n);
            out->size = (size_t)n;
        }
    }
    zarrc_buf_release(&c);
    zarrc_buf_release(&u);
    return rc;
}

static int zip_get(void *state, const char *key, int64_t offset, int64_t length, zarrc_buf *out)
{
    zip_store *z = state;
    char *name = entry_name(z, key);
    if (!name)
        return ZARRC_ENOMEM;
    pthread_mutex_lock(&z->mu);
    int rc = zip_get_locked(z, name, offset, length, out);
    pthread_mutex_unlock(&z->mu);
    free(name);
    if (rc)
        out->size = 0;
    return rc;
}

static int zip_size(void *state, const char *key, uint64_t *size)
{
    zip_store *z = state;
    char *name = entry_name(z, key);
    if (!name)
        return ZARRC_ENOMEM;
    pthread_mutex_lock(&z->mu);
    zip_entry *e = find(z, name);
    if (e)
        *size = e->usize;
    pthread_mutex_unlock(&z->mu);
    free(name);
    return e ? ZARRC_OK : ZARRC_ENOTFOUND;
}

/* Names snapshotted under the lock, then reported without it (callbacks may call back). */
static int zip_list_impl(zip_store *z, const char *key_prefix, bool dir, zarrc_list_cb cb, void *ctx)
{
    char *prefix = entry_name(z, key_prefix);
    if (!prefix)
        return ZARRC_ENOMEM;
    size_t pl = strlen(prefix), m = 0;
    char **names = NULL;
    int *isp = NULL, rc = ZARRC_OK;
    pthread_mutex_lock(&z->mu);
    if (z->n) {
        names = zarrc__calloc(z->n, sizeof *names);
        isp = zarrc__calloc(z->n, sizeof *isp);
        if (!names || !isp)
            rc = ZARRC_ENOMEM;
    }
    for (size_t i = 0; !rc && i < z->n; i++) {
        const char *k = z->e[i].name;
        if (strncmp(k, prefix, pl) || find(z, k) != &z->e[i]) /* the last entry of each name */
            continue;
        const char *rest = k + pl, *slash = dir ? strchr(rest, '/') : NULL;
        size_t l = slash ? (size_t)(slash - rest) : strlen(dir ? rest : k);
        const char *src = dir ? rest : k + z->node_len; /* names relative to the node */
        if (!dir)
            l -= z->node_len;
        bool dup = false;
        for (size_t j = 0; slash && j < m && !dup; j++)
            dup = isp[j] && strlen(names[j]) == l && !strncmp(names[j], src, l);
        if (dup)
            continue;
        if (!(names[m] = zarrc__malloc(l + 1))) {
            rc = ZARRC_ENOMEM;
            break;
        }
        memcpy(names[m], src, l);
        names[m][l] = '\0';
        isp[m++] = slash != NULL;
    }
    pthread_mutex_unlock(&z->mu);
    free(prefix);
    for (size_t i = 0; i < m; i++) {
        if (!rc)
            rc = cb(ctx, names[i], isp[i]);
        free(names[i]);
    }
    free(names);
    free(isp);
    return rc;
}

static int zip_list(void *state, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    return zip_list_impl(state, prefix, false, cb, ctx);
}

static int zip_list_dir(void *state, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    return zip_list_impl(state, prefix, true, cb, ctx);
}

/* ---- writing ---- */

static int write_all(zip_store *z, const void *p, size_t n)
{
    for (size_t done = 0; done < n;) {
        ssize_t w = pwrite(z->fd, (const uint8_t *)p + done, n - done, (off_t)(z->end + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            z->failed = true;
            return zarrc_error_set(ZARRC_EIO, "zip archive '%s': write failed: %s", z->display, strerror(errno));
        }
        done += (size_t)w;
    }
    z->end += n;
    return ZARRC_OK;
}

static int zip_set(void *state, const char *key, const void *data, size_t n)
{
    zip_store *z = state;
    char *name = entry_name(z, key);
    if (!name)
        return ZARRC_ENOMEM;
    size_t nl = strlen(name);
    if (!*key || nl > 0xFFFF) {
        free(name);
        return zarrc_error_set(ZARRC_EINVAL, "zip entry name of %zu bytes", nl);
    }
    uint32_t crc = (uint32_t)crc32(0, NULL, 0);
    for (size_t done = 0; done < n;) { /* crc32 takes uInt lengths */
        uInt step = n - done > 0x40000000u ? 0x40000000u : (uInt)(n - done);
        crc = (uint32_t)crc32(crc, (const Bytef *)data + done, step);
        done += step;
    }
    /* Local header: always a zip64 extra with both sizes, so large values need no rewrite. */
    uint8_t h[30 + 20];
    wr32(h, LOC_SIG);
    wr16(h + 4, 45); /* version needed: zip64 */
    wr16(h + 6, 0x0800); /* UTF-8 names */
    wr16(h + 8, 0);      /* STORED */
    wr16(h + 10, 0);
    wr16(h + 12, 0x21); /* 1980-01-01 */
    wr32(h + 14, crc);
    wr32(h + 18, 0xFFFFFFFFu);
    wr32(h + 22, 0xFFFFFFFFu);
    wr16(h + 26, (uint16_t)nl);
    wr16(h + 28, 20);
    wr16(h + 30, 1);
    wr16(h + 32, 16);
    wr64(h + 34, n);
    wr64(h + 42, n);
    pthread_mutex_lock(&z->mu);
    uint64_t off = z->end;
    int rc = z->failed ? zarrc_error_set(ZARRC_EIO, "zip archive '%s': an earlier write failed", z->display)
                       : ZARRC_OK;
    if (!rc)
        rc = write_all(z, h, 30);
    if (!rc)
        rc = write_all(z, name, nl);
    if (!rc)
        rc = write_all(z, h + 30, 20);
    if (!rc)
        rc = write_all(z, data, n);
    if (!rc) {
        rc = add_entry(z, name, n, n, off, crc, 0);
        name = NULL;
    }
    pthread_mutex_unlock(&z->mu);
    free(name);
    return rc;
}

/* Erasing (writable handles): the entries leave the index and the central directory written
 * at close; their bytes stay in the file as unreferenced space. */
static int zip_erase_matching(zip_store *z, const char *s, bool prefix)
{
    if (!z->writable)
        return zarrc_error_set(ZARRC_EREADONLY, "zip archive '%s' is read-only", z->display);
    size_t sl = strlen(s), k = 0;
    pthread_mutex_lock(&z->mu);
    size_t before = z->n;
    for (size_t i = 0; i < z->n; i++) {
        bool hit = prefix ? !strncmp(z->e[i].name, s, sl) : !strcmp(z->e[i].name, s);
        if (hit)
            free(z->e[i].name);
        else
            z->e[k++] = z->e[i];
    }
    z->n = k;
    int rc = k != before ? rehash(z) : ZARRC_OK;
    pthread_mutex_unlock(&z->mu);
    return rc ? rc : (k == before && !prefix) ? ZARRC_ENOTFOUND : ZARRC_OK;
}

static int zip_erase_key(void *state, const char *key, bool prefix)
{
    zip_store *z = state;
    char *name = entry_name(z, key);
    if (!name)
        return ZARRC_ENOMEM;
    int rc = zip_erase_matching(z, name, prefix);
    free(name);
    return rc;
}

static int zip_erase(void *state, const char *key) { return zip_erase_key(state, key, false); }

static int zip_erase_prefix(void *state, const char *prefix) { return zip_erase_key(state, prefix, true); }

/* The central directory (zip64 fields for every entry) and the end records. */
static int write_directory(zip_store *z)
{
    uint64_t cd_off = z->end;
    int rc = ZARRC_OK;
    for (size_t i = 0; i < z->n && !rc; i++) {
        const zip_entry *e = &z->e[i];
        size_t nl = strlen(e->name);
        uint8_t c[46 + 28];
        memset(c, 0, sizeof c);
        wr32(c, CEN_SIG);
        wr16(c + 4, 45 | 3 << 8); /* made by: Unix */
        wr16(c + 6, 45);
        wr16(c + 8, 0x0800);
        wr16(c + 10, e->method);
        wr16(c + 14, 0x21);
        wr32(c + 16, e->crc);
        wr32(c + 20, 0xFFFFFFFFu);
        wr32(c + 24, 0xFFFFFFFFu);
        wr16(c + 28, (uint16_t)nl);
        wr16(c + 30, 28);
        wr32(c + 38, 0644u << 16);
        wr32(c + 42, 0xFFFFFFFFu);
        wr16(c + 46, 1);
        wr16(c + 48, 24);
        wr64(c + 50, e->usize);
        wr64(c + 58, e->csize);
        wr64(c + 66, e->local_offset);
        rc = write_all(z, c, 46);
        if (!rc)
            rc = write_all(z, e->name, nl);
        if (!rc)
            rc = write_all(z, c + 46, 28);
    }
    uint64_t cd_size = z->end - cd_off, e64 = z->end;
    uint8_t t[56 + 20 + 22];
    memset(t, 0, sizeof t);
    wr32(t, EOCD64_SIG);
    wr64(t + 4, 44);
    wr16(t + 12, 45 | 3 << 8);
    wr16(t + 14, 45);
    wr64(t + 24, z->n);
    wr64(t + 32, z->n);
    wr64(t + 40, cd_size);
    wr64(t + 48, cd_off);
    wr32(t + 56, LOC64_SIG);
    wr64(t + 64, e64);
    wr32(t + 72, 1);
    uint8_t *q = t + 76;
    wr32(q, EOCD_SIG);
    wr16(q + 8, z->n > 0xFFFE ? 0xFFFF : (uint16_t)z->n);
    wr16(q + 10, z->n > 0xFFFE ? 0xFFFF : (uint16_t)z->n);
    wr32(q + 12, 0xFFFFFFFFu);
    wr32(q + 16, 0xFFFFFFFFu);
    if (!rc)
        rc = write_all(z, t, sizeof t);
    return rc;
}

static int finish(zip_store *z)
{
    int rc = write_directory(z);
    if (!rc && fsync(z->fd) != 0)
        rc = zarrc_error_set(ZARRC_EIO, "zip archive '%s': fsync failed: %s", z->display, strerror(errno));
    if (close(z->fd) != 0 && !rc)
        rc = zarrc_error_set(ZARRC_EIO, "zip archive '%s': close failed: %s", z->display, strerror(errno));
    z->fd = -1;
    if (!rc && rename(z->tmp, z->path) != 0)
        rc = zarrc_error_set(ZARRC_EIO, "zip archive '%s': rename failed: %s", z->display, strerror(errno));
    if (rc)
        unlink(z->tmp);
    else { /* make the rename durable */
        char *dir = zarrc__strdup(z->path);
        char *sl = dir ? strrchr(dir, '/') : NULL;
        const char *d = !sl ? "." : sl == dir ? "/" : (*sl = '\0', dir);
        int dfd = dir ? open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    return rc;
}

static void zip_free(zip_store *z)
{
    for (size_t i = 0; i < z->n; i++)
        free(z->e[i].name);
    free(z->e);
    free(z->slots);
    if (z->inner)
        zarrc__store_unref(z->inner);
    free(z->member);
    free(z->node);
    free(z->display);
    free(z->path);
    free(z->tmp);
    pthread_mutex_destroy(&z->mu);
    free(z);
}

static void zip_close(void *state)
{
    zip_store *z = state;
    if (z->fd >= 0) {
        if (z->failed) {
            close(z->fd);
            unlink(z->tmp);
        } else if (finish(z))
            fprintf(stderr, "zarrc: %s\n", zarrc_error_last()); /* close cannot report: never silent */
    }
    zip_free(z);
}

static int zip_flush(void *state)
{
    (void)state;
    return ZARRC_OK; /* the archive is complete only at close */
}

/* Copy the first `n` bytes of `src` (the entries of an existing archive) to the temp file. */
static int copy_prefix(zip_store *z, int src, uint64_t n)
{
    uint8_t buf[1 << 16];
    for (uint64_t off = 0; off < n;) {
        size_t want = n - off < sizeof buf ? (size_t)(n - off) : sizeof buf;
        ssize_t r = pread(src, buf, want, (off_t)off);
        if (r <= 0)
            return zarrc_error_set(ZARRC_EIO, "zip archive '%s': cannot copy its entries", z->display);
        int rc = write_all(z, buf, (size_t)r);
        if (rc)
            return rc;
        off += (uint64_t)r;
    }
    return ZARRC_OK;
}

size_t zarrc__zip_split(const char *location)
{
    size_t n = strlen(location);
    bool fs = !strncmp(location, "file://", 7) || !strstr(location, "://");
    const char *fsp = !strncmp(location, "file://", 7) ? location + 7 : location;
    for (const char *p = location; (p = strstr(p, ".zip/")) != NULL; p += 4) {
        size_t at = (size_t)(p - location) + 4;
        if (fs) { /* a directory named x.zip is a directory, not an archive */
            char *path = zarrc__sprintf("%.*s", (int)(at - (size_t)(fsp - location)), fsp);
            struct stat st;
            bool dir = path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
            free(path);
            if (dir)
                continue;
        }
        return at;
    }
    return n;
}

static int zip_open(void **state, const char *location, unsigned flags)
{
    *state = NULL;
    zip_store *z = zarrc__calloc(1, sizeof *z);
    if (!z)
        return ZARRC_ENOMEM;
    pthread_mutex_init(&z->mu, NULL);
    z->fd = -1;
    z->display = zarrc__strdup(location);
    /* "a/b.zip/g/arr": the archive a/b.zip, the node g/arr inside it (zarrc__zip_split). */
    size_t al = zarrc__zip_split(location);
    char *archive = zarrc__sprintf("%.*s", (int)al, location);
    const char *np = location + al;
    while (*np == '/')
        np++;
    size_t nl = strlen(np);
    while (nl && np[nl - 1] == '/')
        nl--;
    z->node = nl ? zarrc__sprintf("%.*s/", (int)nl, np) : zarrc__strdup("");
    z->node_len = z->node ? strlen(z->node) : 0;
    if (!archive || !z->node) {
        free(archive);
        zip_free(z);
        return ZARRC_ENOMEM;
    }
    location = archive;
    const char *slash = strrchr(location, '/');
    char *parent = slash ? zarrc__sprintf("%.*s", (int)(slash - location), location) : zarrc__strdup(".");
    z->member = zarrc__strdup(slash ? slash + 1 : location);
    int rc = z->display && parent && z->member ? ZARRC_OK : ZARRC_ENOMEM;
    if (!rc && (!*z->member || (parent && !*parent && slash == location)))
        rc = zarrc_error_set(ZARRC_EINVAL, "zip archive location '%s' names no file", location);
    /* A path on the filesystem ("/a/b.zip", "file:///a/b.zip", "b.zip") can be written. */
    const char *fs = !strncmp(location, "file://", 7) ? location + 7 : strstr(location, "://") ? NULL : location;
    bool writable = !(flags & ZARRC_STORE_READONLY);
    if (!rc && writable && !fs)
        rc = zarrc_error_set(ZARRC_EREADONLY, "zip archive '%s': only archives on the filesystem can be written "
                                              "(open it read-only)", location);
    bool exists = true;
    if (!rc && writable) {
        struct stat st;
        exists = stat(fs, &st) == 0;
        if (!exists && errno != ENOENT)
            rc = zarrc_error_set(ZARRC_EIO, "zip archive '%s': %s", location, strerror(errno));
    }
    if (!rc && exists) {
        zarrc_store *inner = NULL;
        rc = zarrc_store_open(&inner, parent, ZARRC_STORE_READONLY);
        z->inner = inner;
        if (!rc)
            rc = read_directory(z);
    }
    if (!rc && !exists && z->nslots == 0)
        rc = rehash(z);
    if (!rc && writable) {
        z->writable = true;
        z->path = zarrc__strdup(fs);
        z->tmp = zarrc__sprintf("%s.zarrc-tmp-%ld", fs, (long)getpid());
        if (!z->path || !z->tmp)
            rc = ZARRC_ENOMEM;
        if (!rc && (z->fd = open(z->tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
            rc = zarrc_error_set(ZARRC_EIO, "zip archive '%s': cannot create '%s': %s", location, z->tmp,
                                 strerror(errno));
        if (!rc && exists) {
            /* Keep the existing entries: they end where the central directory starts, which is
             * at or after every entry's data. */
            uint64_t end = 0;
            for (size_t i = 0; i < z->n; i++) {
                uint64_t doff;
                int fd0 = z->fd;
                z->fd = -1; /* read headers from the old archive */
                rc = data_offset(z, &z->e[i], &doff);
                z->fd = fd0;
                if (rc)
                    break;
                if (doff + z->e[i].csize > end)
                    end = doff + z->e[i].csize;
            }
            int src = rc ? -1 : open(fs, O_RDONLY | O_CLOEXEC);
            if (!rc && src < 0)
                rc = zarrc_error_set(ZARRC_EIO, "zip archive '%s': %s", location, strerror(errno));
            if (!rc)
                rc = copy_prefix(z, src, end);
            if (src >= 0)
                close(src);
        }
        if (rc && z->fd >= 0) {
            close(z->fd);
            unlink(z->tmp);
            z->fd = -1;
        }
    }
    free(parent);
    free(archive);
    if (rc) {
        zip_free(z);
        return rc;
    }
    *state = z;
    return ZARRC_OK;
}

/* Writable handles are single-writer: put without conditions just stores (the library's
 * read-modify-writes then run unlocked, which is right for one writer). */
const zarrc_store_type zarrc__store_zip = {
    ZARRC_STORE_TYPE_VERSION, "zip", ZARRC_STORE_CAP_RANGE | ZARRC_STORE_CAP_LIST_DIR | ZARRC_STORE_CAP_WRITE,
    zip_open, zip_close, zip_get, NULL, zip_set, NULL, zip_erase, zip_erase_prefix, zip_list, zip_list_dir,
    zip_size,
    NULL, NULL, NULL, NULL, NULL, zip_flush, NULL,
};
