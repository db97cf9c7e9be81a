/*
 * cli_verify.c — `zarrc verify NODE [-r] [--repair [--yes]] [--json] [--quiet]`: decode every
 * stored chunk (checksums included) and report what is wrong in a store:
 *   corrupt_chunk      a chunk (or shard) that does not decode
 *   orphan_key         a key outside an array's chunk grid, not a chunk name, or of no node
 *   temp_file          a leftover .zarrc-tmp.* / .zarrc-lock.* file of a killed writer
 *                      (the filesystem store hides them from listings: found by walking)
 *   pending_copy       .zarrc-pending.json: an interrupted copy ('zarrc cp --resume')
 *   bad_metadata       metadata zarrc cannot read
 *   peer_incompatible  metadata that zarrc reads but other implementations reject
 * --repair removes temp files and orphan keys (only those reported) after confirmation on
 * stdin, or at once with --yes. Exit status 0 when nothing is (left) wrong, 1 otherwise.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_common.h"
#include "cli_verbs.h"

typedef struct problem {
    const char *kind;
    char *key;
    char *message;
    int removable, removed;
} problem;

typedef struct vctx {
    zarrc_store *st;
    const char *node;   /* the NODE argument */
    const char *fsroot; /* its directory, or NULL for other stores */
    cli_scan scan;
    int recursive;
    problem *p;
    size_t np, cap;
    int64_t chunks_checked;
    uint64_t bytes_checked;
    int arrays, groups;
    cli_progress prog;
    int oom;
} vctx;

static void add_problem(vctx *c, const char *kind, const char *key, int removable, const char *fmt, ...)
    CLI_PRINTF(5, 6);

static void add_problem(vctx *c, const char *kind, const char *key, int removable, const char *fmt, ...)
{
    if (c->np == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        problem *p = realloc(c->p, cap * sizeof *p);
        if (!p) {
            c->oom = 1;
            return;
        }
        c->p = p;
        c->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    problem *p = &c->p[c->np];
    p->kind = kind;
    p->key = strdup(key);
    p->message = msg;
    p->removable = removable;
    p->removed = 0;
    if (!p->key || !p->message) {
        free(p->key);
        free(p->message);
        c->oom = 1;
        return;
    }
    c->np++;
}

static int in_scope(const vctx *c, int node)
{
    return c->recursive || (node >= 0 && c->scan.nodes[node].path[0] == 0);
}

/* The key of `name` in node directory `path`. */
static char *node_key(const char *path, const char *name)
{
    char *k = NULL;
    if (asprintf(&k, "%s%s%s", path, *path ? "/" : "", name) < 0)
        return NULL;
    return k;
}

/* ---- metadata that peers reject ------------------------------------------------------------ */

/* A numcodecs zstd configuration with a "checksum" member (zarr-python 3 wrote it; tensorstore
 * refuses the unknown member: zarr-python#2647). */
static int zstd_checksum(json_object *codec)
{
    json_object *id;
    return codec && json_object_is_type(codec, json_type_object) &&
           json_object_object_get_ex(codec, "id", &id) && json_object_is_type(id, json_type_string) &&
           !strcmp(json_object_get_string(id), "zstd") && json_object_object_get_ex(codec, "checksum", NULL);
}


/* zarrs' optional data type: its fill value null means "missing", not an absent fill. */
static int optional_dtype(json_object *doc)
{
    json_object *dt = NULL, *name = NULL;
    return json_object_object_get_ex(doc, "data_type", &dt) && json_object_is_type(dt, json_type_object) &&
           json_object_object_get_ex(dt, "name", &name) && json_object_is_type(name, json_type_string) &&
           (!strcmp(json_object_get_string(name), "zarrs.optional") ||
            !strcmp(json_object_get_string(name), "optional"));
}

static void check_metadata(vctx *c, const cli_scan_node *n)
{
    static const char *const names[] = {"zarr.json", ".zarray", ".zgroup", ".zattrs"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *key = node_key(n->path, names[i]);
        void *data = NULL;
        size_t size = 0;
        if (!key) {
            c->oom = 1;
            return;
        }
        if (zarrc_store_get(&data, &size, c->st, key) != ZARRC_OK) {
            free(key);
            continue;
        }
        char *text = malloc(size + 1);
        if (!text) {
            c->oom = 1;
            zarrc_free(data);
            free(key);
            return;
        }
        if (size)
            memcpy(text, data, size);
        text[size] = 0;
        zarrc_free(data);
        json_object *o = NULL;
        char err[256];
        if (memchr(text, 0, size) || cli_json_parse(&o, text, err, sizeof err)) {
            if (!n->error) /* reported below with the library's message */
                add_problem(c, "bad_metadata", key, 0, "%s", memchr(text, 0, size) ? "NUL byte in JSON" : err);
        } else if (o && json_object_is_type(o, json_type_object)) {
            json_object *v;
            if (!strcmp(names[i], "zarr.json") && json_object_object_get_ex(o, "node_type", &v) &&
                !strcmp(json_object_get_string(v), "array") && json_object_object_get_ex(o, "fill_value", &v) &&
                v == NULL && !optional_dtype(o))
                add_problem(c, "peer_incompatible", key, 0,
                            "\"fill_value\": null (v3 needs a fill value: zarr-python and tensorstore refuse it)");
            if (!strcmp(names[i], ".zarray")) {
                if (json_object_object_get_ex(o, "compressor", &v) && zstd_checksum(v))
                    add_problem(c, "peer_incompatible", key, 0,
                                "zstd compressor with a \"checksum\" member (tensorstore refuses it: "
                                "zarr-python#2647)");
                if (json_object_object_get_ex(o, "filters", &v) && json_object_is_type(v, json_type_array))
                    for (size_t f = 0; f < json_object_array_length(v); f++)
                        if (zstd_checksum(json_object_array_get_idx(v, f)))
                            add_problem(c, "peer_incompatible", key, 0,
                                        "zstd filter %zu with a \"checksum\" member (tensorstore refuses it: "
                                        "zarr-python#2647)", f);
            }
        }
        json_object_put(o);
        free(text);
        free(key);
    }
    if (n->error)
        add_problem(c, "bad_metadata", *n->path ? n->path : ".", 0, "%s", n->error);
}

/* ---- arrays -------------------------------------------------------------------------------- */

static void check_chunk(vctx *c, zarrc_array *arr, const cli_grid *g, const int64_t *coords, const char *key)
{
    int nd = g->ndim ? g->ndim : 1;
    int64_t start[nd > 0 ? nd : 1], count[nd > 0 ? nd : 1];
    int64_t n = 1;
    for (int d = 0; d < g->ndim; d++) {
        cli_grid_span(g, d, coords[d], &start[d], &count[d]); /* coords inside the grid */
        n *= count[d]; /* at most one chunk: fits (the library limits chunk bytes) */
    }
    const zarrc_dtype_info *dt = zarrc_array_dtype(arr);
    int rc;
    if (cli_dtype_is_vlen(dt)) {
        zarrc_vlen vl = {0};
        rc = zarrc_array_read(arr, start, count, NULL, &vl, sizeof vl);
        zarrc_vlen_clear(&vl);
    } else {
        size_t bytes;
        if (__builtin_mul_overflow((size_t)n, dt->item_size, &bytes)) {
            add_problem(c, "corrupt_chunk", key, 0, "chunk too large to decode");
            return;
        }
        void *buf = malloc(bytes ? bytes : 1);
        if (!buf) {
            add_problem(c, "corrupt_chunk", key, 0, "cannot allocate %zu bytes to decode it", bytes);
            return;
        }
        rc = zarrc_array_read(arr, start, count, NULL, buf, bytes);
        free(buf);
        c->bytes_checked += bytes;
    }
    c->chunks_checked++;
    if (rc) {
        const char *msg = zarrc_error_last();
        add_problem(c, "corrupt_chunk", key, 0, "%s", msg && *msg ? msg : zarrc_strerror(rc));
    }
    cli_progress_update(&c->prog, (uint64_t)c->chunks_checked, c->bytes_checked);
}

static void check_array(vctx *c, int ni)
{
    const cli_scan_node *n = &c->scan.nodes[ni];
    zarrc_array *arr = NULL;
    int rc = zarrc_array_open(&arr, c->st, n->path);
    if (rc) {
        const char *msg = zarrc_error_last();
        add_problem(c, "bad_metadata", *n->path ? n->path : ".", 0, "%s", msg && *msg ? msg : zarrc_strerror(rc));
        return;
    }
    cli_grid g;
    if (cli_grid_init(&g, arr)) {
        c->oom = 1;
        zarrc_array_free(arr);
        return;
    }
    int64_t *coords = calloc((size_t)(g.ndim ? g.ndim : 1), sizeof *coords);
    size_t pl = strlen(n->path);
    for (size_t i = 0; coords && i < c->scan.nkeys; i++) {
        const cli_scan_key *k = &c->scan.keys[i];
        if (k->node != ni)
            continue;
        const char *rel = k->key + (pl ? pl + 1 : 0);
        if (!strchr(rel, '/') && cli_key_is_metadata(rel))
            continue;
        int pr = cli_grid_parse_key(&g, rel, coords);
        if (pr == 0)
            check_chunk(c, arr, &g, coords, k->key);
        else
            add_problem(c, "orphan_key", k->key, 1, pr == -2 ? "chunk key outside the chunk grid"
                                                           : "not a chunk key of the array");
    }
    if (!coords)
        c->oom = 1;
    free(coords);
    cli_grid_free(&g);
    zarrc_array_free(arr);
}

static void check_group(vctx *c, int ni)
{
    const cli_scan_node *n = &c->scan.nodes[ni];
    size_t pl = strlen(n->path);
    for (size_t i = 0; i < c->scan.nkeys; i++) {
        const cli_scan_key *k = &c->scan.keys[i];
        if (k->node != ni)
            continue;
        const char *rel = k->key + (pl ? pl + 1 : 0);
        if (!strchr(rel, '/') && cli_key_is_metadata(rel))
            continue;
        add_problem(c, "orphan_key", k->key, 1, "belongs to no node (a group holds no data)");
    }
}

/* ---- files the store hides ----------------------------------------------------------------- */

/* A lock file that a live writer holds right now. */
static int lock_in_use(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    int busy = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return busy;
}

/* A temp file ".zarrc-tmp.HOST.PID.N" of a process of this host that is still running (its
 * write is in flight: not a leftover). HOST is spelled as the filesystem store spells it:
 * gethostname() with '/' and '.' replaced by '_'. */
static int temp_in_use(const char *name)
{
    char host[256];
    if (gethostname(host, sizeof host - 1) != 0 || !host[0])
        strcpy(host, "host");
    host[sizeof host - 1] = 0;
    for (char *h = host; *h; h++)
        if (*h == '/' || *h == '.')
            *h = '_';
    size_t ml = 11, hl = strlen(host);
    if (strncmp(name + ml, host, hl) || name[ml + hl] != '.')
        return 0; /* another host's: cannot tell, reported */
    char *end;
    long pid = strtol(name + ml + hl + 1, &end, 10);
    if (*end != '.' || pid <= 0)
        return 0;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

static void walk_hidden(vctx *c, const char *rel)
{
    char *dir = NULL;
    if (asprintf(&dir, "%s%s%s", c->fsroot, *rel ? "/" : "", rel) < 0) {
        c->oom = 1;
        return;
    }
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *key = node_key(rel, e->d_name), *path = NULL;
        if (!key || asprintf(&path, "%s/%s", dir, e->d_name) < 0) {
            free(key);
            c->oom = 1;
            break;
        }
        struct stat sb;
        if (lstat(path, &sb) == 0) {
            int owner = cli_scan_node_of(&c->scan, key);
            if (S_ISDIR(sb.st_mode)) {
                walk_hidden(c, key);
            } else if (in_scope(c, owner)) {
                if ((!strncmp(e->d_name, ".zarrc-tmp.", 11) && !temp_in_use(e->d_name)) ||
                    (!strncmp(e->d_name, ".zarrc-lock.", 12) && !lock_in_use(path)))
                    add_problem(c, "temp_file", key, 1, "leftover file of an interrupted write (%lld bytes)",
                                (long long)sb.st_size);
                else if (!strcmp(e->d_name, ".zarrc-pending.json"))
                    add_problem(c, "pending_copy", key, 0,
                                "an interrupted copy ('zarrc cp --resume' continues it, 'zarrc rm' deletes it)");
            }
        }
        free(path);
        free(key);
    }
    closedir(d);
    free(dir);
}

/* ---- repair -------------------------------------------------------------------------------- */

static int confirm(size_t n)
{
    fflush(stdout);
    fprintf(stderr, "zarrc: verify: remove the %zu file%s reported above? [y/N] ", n, n == 1 ? "" : "s");
    fflush(stderr);
    char line[64];
    if (!fgets(line, sizeof line, stdin))
        return 0;
    return line[0] == 'y' || line[0] == 'Y';
}

/* Remove the empty directories between the removed key and its node. */
static void prune_dirs(const vctx *c, const char *key)
{
    char *k = strdup(key);
    if (!k)
        return;
    int owner = cli_scan_node_of(&c->scan, key);
    size_t stop = owner >= 0 ? strlen(c->scan.nodes[owner].path) : 0;
    for (char *slash; (slash = strrchr(k, '/')) && (size_t)(slash - k) > stop;) {
        *slash = 0;
        char *path = NULL;
        if (asprintf(&path, "%s/%s", c->fsroot, k) < 0)
            break;
        int gone = rmdir(path) == 0; /* only empty directories */
        free(path);
        if (!gone)
            break;
    }
    free(k);
}

static void repair(vctx *c)
{
    for (size_t i = 0; i < c->np; i++) {
        problem *p = &c->p[i];
        if (!p->removable)
            continue;
        int ok;
        if (c->fsroot) {
            char *path = NULL;
            ok = asprintf(&path, "%s/%s", c->fsroot, p->key) >= 0 && (unlink(path) == 0 || errno == ENOENT);
            if (!ok)
                fprintf(stderr, "zarrc: verify: cannot remove '%s': %s\n", path ? path : p->key, strerror(errno));
            free(path);
        } else {
            int rc = zarrc_store_erase(c->st, p->key);
            ok = rc == ZARRC_OK || rc == ZARRC_ENOTFOUND;
            if (!ok)
                cli_fail_lib(rc, "verify: removing '%s'", p->key);
        }
        p->removed = ok;
        if (ok && c->fsroot)
            prune_dirs(c, p->key);
    }
}

/* ---- the verb ------------------------------------------------------------------------------ */

static int cmp_problem(const void *a, const void *b)
{
    const problem *x = a, *y = b;
    int r = strcmp(x->key, y->key);
    return r ? r : strcmp(x->kind, y->kind);
}

static int cmd_verify(const cli_verb *v, int argc, char **argv)
{
    const char *node = NULL;
    int r1 = 0, r2 = 0, do_repair = 0, yes = 0, as_json = 0, quiet = 0;
    const cli_opt specs[] = {
        {"-r", NULL, &r1},          {"--recursive", NULL, &r2}, {"--repair", NULL, &do_repair},
        {"--yes", NULL, &yes},      {"--json", NULL, &as_json}, {"--quiet", NULL, &quiet},
        {NULL, NULL, NULL},
    };
    int rc = cli_parse_node(v, argc, argv, specs, &node);
    if (rc)
        return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
    if (yes && !do_repair)
        return cli_usage_error(v, "--yes needs --repair");
    vctx c;
    memset(&c, 0, sizeof c);
    c.node = node;
    c.recursive = r1 || r2;
    if (!strncmp(node, "file://", 7))
        c.fsroot = node + 7;
    else if (!strstr(node, "://"))
        c.fsroot = node;
    if ((rc = zarrc_store_open(&c.st, node, do_repair ? 0 : ZARRC_STORE_READONLY)))
        return cli_fail_lib(rc, "opening '%s'", node);
    int result = CLI_EXIT_FAIL;
    if (cli_scan_store(&c.scan, c.st, node))
        goto out;
    /* The root must be a node (or an interrupted copy of one). */
    zarrc_node_kind kind;
    int format, root_pending = 0;
    if ((rc = zarrc_node_probe(&kind, &format, c.st, "")) != ZARRC_OK) {
        char *pending = NULL;
        struct stat sb;
        root_pending = c.fsroot && asprintf(&pending, "%s/.zarrc-pending.json", c.fsroot) >= 0 &&
                       stat(pending, &sb) == 0;
        free(pending);
        if (rc == ZARRC_ENOTFOUND && !root_pending) {
            cli_fail("'%s' is not a Zarr node (no zarr.json, .zarray or .zgroup there)", node);
            goto out;
        }
    }
    cli_progress_start(&c.prog, "verify", "chunks", 0, quiet || as_json);
    for (int i = c.scan.nnodes - 1; i >= 0; i--) { /* shallowest first */
        const cli_scan_node *n = &c.scan.nodes[i];
        if (!in_scope(&c, i))
            continue;
        if (!(root_pending && !*n->path))
            check_metadata(&c, n);
        if (n->kind == ZARRC_NODE_ARRAY) {
            c.arrays++;
            check_array(&c, i);
        } else if (n->kind == ZARRC_NODE_GROUP) {
            c.groups++;
            check_group(&c, i);
        }
    }
    if (c.fsroot)
        walk_hidden(&c, "");
    cli_progress_end(&c.prog);
    if (c.oom) {
        cli_fail("verify '%s': out of memory", node);
        goto out;
    }
    if (c.np)
        qsort(c.p, c.np, sizeof *c.p, cmp_problem);
    size_t removable = 0;
    for (size_t i = 0; i < c.np; i++)
        removable += c.p[i].removable;
    if (!as_json)
        for (size_t i = 0; i < c.np; i++) {
            printf("%-17s ", c.p[i].kind);
            cli_print_name(stdout, c.p[i].key);
            printf(": %s\n", c.p[i].message);
        }
    int declined = 0;
    if (do_repair && removable) {
        if (yes || confirm(removable))
            repair(&c);
        else
            declined = 1;
    }
    size_t left = 0, removed = 0;
    for (size_t i = 0; i < c.np; i++) {
        left += !c.p[i].removed;
        removed += c.p[i].removed;
    }
    if (as_json) {
        json_object *o = json_object_new_object(), *list = json_object_new_array(), *rep = json_object_new_array();
        json_object_object_add(o, "node", json_object_new_string(node));
        json_object_object_add(o, "arrays", json_object_new_int(c.arrays));
        json_object_object_add(o, "groups", json_object_new_int(c.groups));
        json_object_object_add(o, "chunks_checked", json_object_new_int64(c.chunks_checked));
        for (size_t i = 0; i < c.np; i++) {
            json_object *e = json_object_new_object();
            json_object_object_add(e, "kind", json_object_new_string(c.p[i].kind));
            json_object_object_add(e, "key", json_object_new_string(c.p[i].key));
            json_object_object_add(e, "message", json_object_new_string(c.p[i].message));
            json_object_object_add(e, "removable", json_object_new_boolean(c.p[i].removable));
            json_object_array_add(list, e);
            if (c.p[i].removed)
                json_object_array_add(rep, json_object_new_string(c.p[i].key));
        }
        json_object_object_add(o, "problems", list);
        json_object_object_add(o, "repaired", rep);
        fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE), stdout);
        fputc('\n', stdout);
        json_object_put(o);
    } else {
        printf("%s: %zu problem%s (%d array%s, %d group%s, %lld chunk%s decoded)", node, c.np, c.np == 1 ? "" : "s",
               c.arrays, c.arrays == 1 ? "" : "s", c.groups, c.groups == 1 ? "" : "s", (long long)c.chunks_checked,
               c.chunks_checked == 1 ? "" : "s");
        if (do_repair)
            printf(", %zu removed%s", removed, declined ? " (declined)" : "");
        else if (removable)
            printf(", %zu removable with --repair", removable);
        putchar('\n');
    }
    result = left ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    if (left) {
        fflush(stdout);
        fprintf(stderr, "zarrc: verify '%s': %zu problem%s found\n", node, left, left == 1 ? "" : "s");
    }
out:
    for (size_t i = 0; i < c.np; i++) {
        free(c.p[i].key);
        free(c.p[i].message);
    }
    free(c.p);
    cli_scan_free(&c.scan);
    zarrc_store_free(c.st);
    return result;
}

/* ------------------------------------------------------------------------------------------ */
/* The verbs (entries of the verb table in zarrc.c, cli_verbs.h)                              */
/* ------------------------------------------------------------------------------------------ */

const cli_verb cli_verb_verify = {"verify", cmd_verify, "zarrc verify NODE [-r] [--repair [--yes]] [--json] [--quiet]",
     "Check the node at NODE (with -r: everything below it too): decode every stored chunk\n"
     "(checksums included) and report corrupt chunks, orphan keys (outside the chunk grid, not\n"
     "chunk names, or in a group), leftover temp and lock files of killed writers, interrupted\n"
     "copies (.zarrc-pending.json), unreadable metadata and metadata other implementations\n"
     "reject (v3 \"fill_value\": null; a v2 zstd codec with a \"checksum\" member, which\n"
     "tensorstore refuses, zarr-python#2647). Exit status 0 when nothing is wrong (or all of it\n"
     "was repaired), 1 when problems remain.",
     "Options:\n"
     "  -r, --recursive   check every node below NODE too\n"
     "  --repair          remove the reported temp files and orphan keys (nothing else: corrupt\n"
     "                    chunks and metadata are left for you), after a y/N question on stdin\n"
     "  --yes             with --repair: do not ask\n"
     "  --json            print {\"node\", \"arrays\", \"groups\", \"chunks_checked\", \"problems\":\n"
     "                    [{\"kind\", \"key\", \"message\", \"removable\"}], \"repaired\": [keys]}\n"
     "  --quiet           no progress line (it is shown only on a terminal anyway)\n"
     "\nProblem kinds: corrupt_chunk, orphan_key, temp_file, pending_copy, bad_metadata,\n"
     "peer_incompatible.\n"
     "\nExamples:\n"
     "  zarrc verify data/temp\n"
     "  zarrc verify -r data --repair --yes\n",
     "check every chunk and file of a node; repair leftovers"};
