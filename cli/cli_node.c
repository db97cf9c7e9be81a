/*
 * cli_node.c — the node verbs of the zarrc tool: ls, rm and cp (copy, convert, recompress,
 * rechunk; views materialized). Uses only the public API.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_refs.h"
#include "cli_common.h"
#include "cli_verbs.h"

/* ------------------------------------------------------------------------------------------ */
/* ls / rm                                                                                     */
/* ------------------------------------------------------------------------------------------ */

typedef struct ls_row {
    char *name; /* escaped */
    char *rest;
} ls_row;

typedef struct ls_ctx {
    int as_json;
    json_object *list;
    ls_row *rows;
    size_t n, cap;
    int oom;
} ls_ctx;

static int ls_child(void *vctx, const zarrc_child_info *c)
{
    ls_ctx *ctx = vctx;
    if (ctx->as_json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(c->name));
        const char *type = c->kind == ZARRC_NODE_ARRAY ? (c->is_view ? "view" : "array") : "group";
        json_object_object_add(o, "node_type", json_object_new_string(type));
        json_object_object_add(o, "zarr_format", json_object_new_int(c->format));
        if (c->kind == ZARRC_NODE_ARRAY) {
            json_object_object_add(o, "shape", cli_dims_json(c->shape, c->ndim));
            json_object_object_add(o, "data_type",
                                   json_object_new_string(c->dtype ? c->dtype : ""));
        }
        json_object_array_add(ctx->list, o);
        return 0;
    }
    /* Text rows are printed at the end, with the name column as wide as the longest name. */
    if (ctx->n == ctx->cap) {
        size_t cap = ctx->cap ? ctx->cap * 2 : 32;
        ls_row *r = realloc(ctx->rows, cap * sizeof *r);
        if (!r) {
            ctx->oom = 1;
            return ZARRC_ENOMEM;
        }
        ctx->rows = r;
        ctx->cap = cap;
    }
    char *rest = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&rest, &len);
    if (!m) {
        ctx->oom = 1;
        return ZARRC_ENOMEM;
    }
    if (c->kind != ZARRC_NODE_ARRAY) {
        fputs("group", m);
    } else {
        fprintf(m, "%s  shape=[", c->is_view ? "view" : "array");
        for (int d = 0; d < c->ndim; d++)
            fprintf(m, "%s%lld", d ? "," : "", (long long)c->shape[d]);
        fputs("] dtype=", m);
        cli_print_name(m, c->dtype ? c->dtype : "?");
    }
    fclose(m);
    char *name = cli_escape_name(c->name);
    if (!name || !rest) {
        free(name);
        free(rest);
        ctx->oom = 1;
        return ZARRC_ENOMEM;
    }
    ctx->rows[ctx->n].name = name;
    ctx->rows[ctx->n++].rest = rest;
    return 0;
}

/* Display width of UTF-8 text (code points; escaped names hold no control characters). */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void ls_print_rows(ls_ctx *ctx)
{
    size_t width = 0;
    for (size_t i = 0; i < ctx->n; i++)
        if (text_width(ctx->rows[i].name) > width)
            width = text_width(ctx->rows[i].name);
    for (size_t i = 0; i < ctx->n; i++) {
        fputs(ctx->rows[i].name, stdout);
        printf("%*s  %s\n", (int)(width - text_width(ctx->rows[i].name)), "", ctx->rows[i].rest);
    }
}

static void ls_free_rows(ls_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n; i++) {
        free(ctx->rows[i].name);
        free(ctx->rows[i].rest);
    }
    free(ctx->rows);
}

static int cmd_ls(const cli_verb *v, int argc, char **argv)
{
    const char *node;
    int as_json = 0;
    const cli_opt specs[] = {{"--json", NULL, &as_json}, {NULL, NULL, NULL}};
    int rc = cli_parse_node(v, argc, argv, specs, &node);
    if (rc)
        return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
    zarrc_store *st;
    zarrc_node_kind kind;
    int format;
    if (cli_open_node(&st, &kind, &format, node, ZARRC_STORE_READONLY))
        return CLI_EXIT_FAIL;
    if (kind != ZARRC_NODE_GROUP) {
        zarrc_store_free(st);
        return cli_fail("'%s' is an array, not a group", node);
    }
    ls_ctx ctx = {as_json, as_json ? json_object_new_array() : NULL, NULL, 0, 0, 0};
    rc = zarrc_group_list(st, "", ls_child, &ctx);
    zarrc_store_free(st);
    if (rc) {
        json_object_put(ctx.list);
        ls_free_rows(&ctx);
        return ctx.oom ? cli_fail("listing '%s': out of memory", node) : cli_fail_lib(rc, "listing '%s'", node);
    }
    if (as_json)
        cli_json_println(ctx.list);
    else
        ls_print_rows(&ctx);
    ls_free_rows(&ctx);
    json_object_put(ctx.list);
    return CLI_EXIT_OK;
}

static int cmd_rm(const cli_verb *v, int argc, char **argv)
{
    const char *node;
    int force = 0;
    const cli_opt specs[] = {{"--force", NULL, &force}, {NULL, NULL, NULL}};
    int rc = cli_parse_node(v, argc, argv, specs, &node);
    if (rc)
        return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
    unsigned flags = force ? ZARRC_FORCE : 0;
    const char *fs = cli_node_fs_path(node);
    zarrc_store *st;
    zarrc_node_kind kind;
    int format;
    if (!fs) {
        /* Another store URL: the node is the store's root. */
        if (cli_open_node(&st, &kind, &format, node, 0))
            return CLI_EXIT_FAIL;
        rc = zarrc_node_delete_flags(st, "", flags);
        zarrc_store_free(st);
        return rc ? cli_fail_erase(rc, "deleting", node) : CLI_EXIT_OK;
    }
    /* Resolve the parent directory but not the node's own name (a symlink stays a name). */
    char *copy = strdup(fs);
    if (!copy)
        return cli_fail("out of memory");
    size_t len = strlen(copy);
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = 0;
    /* Deletion never follows a symbolic link: the link's target may be anybody's data. */
    struct stat sb;
    if (lstat(copy, &sb) == 0 && S_ISLNK(sb.st_mode)) {
        free(copy);
        return cli_fail("'%s' is a symbolic link: refusing to delete through it (nothing deleted; remove "
                        "the link itself with the system's rm, or name the node's real path)", node);
    }
    char *base = strrchr(copy, '/');
    const char *dir = base ? (base == copy ? "/" : copy) : ".";
    if (base)
        *base++ = 0;
    else
        base = copy;
    char *real = NULL;
    if (!strcmp(base, ".") || !strcmp(base, "..") || !strcmp(base, "") || !strcmp(base, "/")) {
        real = realpath(fs, NULL);
    } else {
        char *rdir = realpath(dir, NULL);
        if (rdir && (real = malloc(strlen(rdir) + strlen(base) + 2)))
            sprintf(real, "%s/%s", strcmp(rdir, "/") ? rdir : "", base);
        free(rdir);
    }
    free(copy);
    if (!real || lstat(real, &sb)) {
        int e = errno;
        free(real);
        return cli_fail("'%s' is not a Zarr node: %s", node, strerror(e));
    }
    if (!S_ISDIR(sb.st_mode)) {
        free(real);
        return cli_fail("'%s' is not a Zarr node (not a directory)", node);
    }
    char *slash = strrchr(real, '/');
    if (!slash || !slash[1]) {
        free(real);
        return cli_fail("refusing to delete '%s' (the root directory)", node);
    }
    *slash = 0;
    const char *parent = real[0] ? real : "/", *name = slash + 1;
    int result = CLI_EXIT_FAIL;
    if (cli_open_store(&st, parent, 0))
        goto done;
    rc = zarrc_node_delete_flags(st, name, flags);
    if (rc == ZARRC_ENOTFOUND) {
        cli_fail("'%s' is not a Zarr node (no zarr.json, .zarray or .zgroup there); "
                 "nothing deleted", node);
    } else if (rc) {
        cli_fail_erase(rc, "deleting", node);
    } else {
        *slash = '/';
        if (rmdir(real) && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
            cli_fail("'%s': deleted the node but could not remove the directory: %s", node,
                     strerror(errno));
        else
            result = CLI_EXIT_OK;
    }
    zarrc_store_free(st);
done:
    free(real);
    return result;
}

/* ------------------------------------------------------------------------------------------ */
/* cp                                                                                          */
/* ------------------------------------------------------------------------------------------ */

typedef struct cp_opts {
    int format;                /* 0 = keep the source's */
    const char *codecs;        /* --codecs */
    const int64_t *chunks;     /* --chunks (inner chunks with --shards) */
    const int64_t *shards;     /* --shards */
    const char *rect;          /* a rectilinear outer grid (JSON chunk_shapes): --shards, else --chunks */
    int nchunks, nshards;
    unsigned flags;            /* ZARRC_OVERWRITE, ZARRC_FORCE, ZARRC_RESUME */
    int progress;              /* draw a progress line on stderr */
    int no_raw;                /* always decode and re-encode */
    zarrc_copy_stats total;
} cp_opts;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The copy's progress (cli_progress.c): chunks done of the total, rate, ETA. */
static int draw_progress(void *ctx, uint64_t done, uint64_t total)
{
    cli_progress *p = ctx;
    p->total_units = total;
    cli_progress_update(p, done, 0);
    return 0;
}

/* A JSON part of the source array as text (new string), or NULL with a message printed. */
static char *array_text(zarrc_array *a, zarrc_json_part part, const char *node, const char *what)
{
    char *text = NULL;
    int rc = zarrc_array_json(&text, a, part);
    if (rc) {
        cli_fail_lib(rc, "reading %s of '%s'", what, node);
        return NULL;
    }
    return text;
}

/* The destination codecs: --codecs, else the source's (v3 spelling); with --shards wrapped in
 * sharding_indexed around inner chunks of --chunks (or the source's chunks). */
static char *cp_codecs(const cp_opts *o, const char *src_codecs)
{
    const char *inner = o->codecs ? o->codecs : src_codecs;
    if (!o->nshards)
        return strdup(inner);
    size_t n = strlen(inner) + 512 + 24 * (size_t)o->nshards;
    char *out = malloc(n), *p = out;
    if (!out)
        return NULL;
    p += snprintf(p, n, "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[");
    for (int d = 0; d < o->nchunks; d++)
        p += snprintf(p, n - (size_t)(p - out), "%s%lld", d ? "," : "", (long long)o->chunks[d]);
    snprintf(p, n - (size_t)(p - out), "],\"codecs\":%s,\"index_codecs\":[{\"name\":\"bytes\","
             "\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}],"
             "\"index_location\":\"end\"}}]", inner);
    return out;
}

/* Default codecs of a view's copy (a view has none of its own): bytes (vlen-utf8 or vlen-bytes
 * for variable-length types) + zstd. */
static const char *view_copy_codecs(const zarrc_dtype_info *dt)
{
    if (dt->kind == ZARRC_DTYPE_STRING)
        return "[{\"name\":\"vlen-utf8\"},{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}]";
    if (dt->kind == ZARRC_DTYPE_VBYTES)
        return "[{\"name\":\"vlen-bytes\"},{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}]";
    return "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
           "{\"name\":\"zstd\",\"configuration\":{\"level\":0,\"checksum\":false}}]";
}

/* Copy the array `src` (taken over) to dpath in dst_st. */
static int cp_array_from(zarrc_array *src, zarrc_store *dst_st, const char *dpath, const char *label, cp_opts *o)
{
    zarrc_array *dst = NULL;
    char *dtype = NULL, *fill = NULL, *codecs = NULL, *attrs = NULL, *meta = NULL, *dcodecs = NULL;
    int result = CLI_EXIT_FAIL, rc, is_view = zarrc_array_is_view(src);
    int64_t vchunks[32];
    int ndim = zarrc_array_ndim(src),
        format = o->format ? o->format : o->rect ? 3 : zarrc_array_format(src); /* rectilinear: v3 only */
    if ((o->nchunks && o->nchunks != ndim) || (o->nshards && o->nshards != ndim)) {
        cli_fail("'%s' has %d dimensions: --chunks/--shards must give as many", label, ndim);
        goto done;
    }
    if (!(dtype = array_text(src, ZARRC_JSON_DTYPE, label, "the data type")) ||
        !(fill = array_text(src, ZARRC_JSON_FILL_VALUE, label, "the fill value")) ||
        !(codecs = is_view ? strdup(view_copy_codecs(zarrc_array_dtype(src))) : array_text(src, ZARRC_JSON_CODECS_V3, label, "the codecs")) ||
        !(attrs = array_text(src, ZARRC_JSON_ATTRIBUTES, label, "the attributes")) ||
        !(meta = array_text(src, ZARRC_JSON_METADATA, label, "the metadata")))
        goto done;
    if (!(dcodecs = cp_codecs(o, codecs))) {
        cli_fail("out of memory");
        goto done;
    }
    /* Dimension names travel with v3 metadata. */
    json_object *doc = cli_json_from_text(meta), *dn = NULL;
    const char **names = NULL;
    if (json_object_object_get_ex(doc, "dimension_names", &dn) && json_object_is_type(dn, json_type_array) &&
        (int)json_object_array_length(dn) == ndim && (names = calloc((size_t)ndim + 1, sizeof *names)))
        for (int d = 0; d < ndim; d++) {
            json_object *e = json_object_array_get_idx(dn, (size_t)d);
            names[d] = e ? json_object_get_string(e) : NULL;
        }
    zarrc_array_options ao = ZARRC_ARRAY_OPTIONS_INIT;
    ao.format = format;
    ao.dtype = dtype;
    ao.ndim = ndim;
    ao.shape = zarrc_array_shape(src);
    ao.chunks = o->shards ? o->shards : o->chunks ? o->chunks : zarrc_array_chunks(src);
    if (o->rect) {
        ao.chunks = NULL;
        ao.chunk_shapes = o->rect;
    }
    if (is_view && !o->chunks && !o->shards && !o->rect) {
        /* A view's one "chunk" is its whole domain: halve the largest extents down to 1 Mi elements. */
        const int64_t *sh = zarrc_array_shape(src);
        for (int d = 0; d < ndim; d++)
            vchunks[d] = sh[d] > 0 ? sh[d] : 1;
        for (;;) {
            double n = 1;
            int big = 0;
            for (int d = 0; d < ndim; d++) {
                n *= (double)vchunks[d];
                if (vchunks[d] > vchunks[big])
                    big = d;
            }
            if (n <= 1048576.0 || vchunks[big] == 1)
                break;
            vchunks[big] = (vchunks[big] + 1) / 2;
        }
        ao.chunks = vchunks;
    }
    ao.fill_value = strcmp(fill, "null") ? fill : NULL; /* v2 "no fill value": the type's zero */
    ao.codecs = dcodecs;
    ao.attributes = attrs;
    ao.dimension_names = names;
    ao.flags = o->flags | ZARRC_CREATE_PENDING; /* visible once complete */
    rc = zarrc_array_create(&dst, dst_st, dpath, &ao);
    free(names);
    json_object_put(doc);
    if (rc) {
        if (rc == ZARRC_ECONFLICT && (o->flags & ZARRC_RESUME))
            cli_fail("creating the copy of '%s': %s (different --format, --codecs, --chunks or --shards, or "
                     "another source)", label, zarrc_error_last());
        else
            cli_fail_erase(rc, "creating the copy of", label);
        goto done;
    }
    cli_progress pc;
    cli_progress_start(&pc, label, "chunks", 0, !o->progress);
    zarrc_copy_options co = ZARRC_COPY_OPTIONS_INIT;
    co.allow_raw = !o->no_raw;
    if (pc.enabled) {
        co.progress = draw_progress;
        co.progress_ctx = &pc;
    }
    zarrc_copy_stats stats;
    rc = zarrc_array_copy(dst, src, &co, &stats);
    cli_progress_end(&pc);
    if (rc) {
        cli_fail_lib(rc, "copying '%s'", label);
        goto done;
    }
    o->total.units += stats.units;
    o->total.bytes += stats.bytes;
    o->total.raw = o->total.raw || stats.raw;
    result = CLI_EXIT_OK;
done:
    free(dtype);
    free(fill);
    free(codecs);
    free(attrs);
    free(meta);
    free(dcodecs);
    zarrc_array_free(src);
    zarrc_array_free(dst);
    return result;
}

static int cp_array(zarrc_store *sst, const char *spath, zarrc_store *dst_st, const char *dpath,
                    const char *label, cp_opts *o)
{
    zarrc_array *src = NULL;
    int rc = zarrc_array_open_flags(&src, sst, spath, cli_allow_external ? ZARRC_OPEN_ALLOW_EXTERNAL : 0);
    /* An array zarrc cannot decode (an unsupported data type or codec) is copied key by key
     * when nothing is to be converted (cli_refs.c). */
    if ((rc == ZARRC_EUNSUPPORTED || rc == ZARRC_EDTYPE) && !o->codecs && !o->chunks && !o->shards && !o->rect &&
        !(o->flags & ZARRC_RESUME))
        return cli_copy_verbatim(sst, spath, dst_st, dpath, label, o->format, o->flags);
    if (rc)
        return cli_fail_lib(rc, "opening array '%s'", label);
    return cp_array_from(src, dst_st, dpath, label, o);
}

typedef struct cp_walk {
    zarrc_store *sst, *dst;
    const char *spath, *dpath, *label;
    cp_opts *o;
    int result;
} cp_walk;

static int cp_node(zarrc_store *sst, const char *spath, zarrc_store *dst, const char *dpath,
                   const char *label, cp_opts *o, int recursive);

static int cp_child(void *ctx, const zarrc_child_info *c)
{
    cp_walk *w = ctx;
    size_t n = strlen(w->spath) + strlen(w->dpath) + strlen(w->label) + 3 * strlen(c->name) + 8;
    char *buf = malloc(n);
    if (!buf)
        return cli_fail("out of memory");
    char *sp = buf, *dp = sp + strlen(w->spath) + strlen(c->name) + 2,
         *lb = dp + strlen(w->dpath) + strlen(c->name) + 2;
    sprintf(sp, "%s%s%s", w->spath, *w->spath ? "/" : "", c->name);
    sprintf(dp, "%s%s%s", w->dpath, *w->dpath ? "/" : "", c->name);
    sprintf(lb, "%s/%s", w->label, c->name);
    w->result = cp_node(w->sst, sp, w->dst, dp, lb, w->o, 1);
    free(buf);
    return w->result; /* stop at the first failure */
}

static int cp_node(zarrc_store *sst, const char *spath, zarrc_store *dst, const char *dpath,
                   const char *label, cp_opts *o, int recursive)
{
    zarrc_node_kind kind;
    int format, rc = zarrc_node_probe(&kind, &format, sst, spath);
    if (rc)
        return cli_fail_lib(rc, "reading '%s'", label);
    if (kind == ZARRC_NODE_ARRAY)
        return cp_array(sst, spath, dst, dpath, label, o);
    if (!recursive)
        return cli_fail("'%s' is a group: use -r to copy a hierarchy", label);
    char *attrs = NULL;
    if ((rc = zarrc_node_attributes(&attrs, sst, spath)))
        return cli_fail_lib(rc, "reading the attributes of '%s'", label);
    rc = zarrc_group_create(dst, dpath, o->format ? o->format : format, attrs, o->flags);
    zarrc_free(attrs);
    if (rc)
        return cli_fail_erase(rc, "creating the copy of group", label);
    cp_walk w = {sst, dst, spath, dpath, label, o, CLI_EXIT_OK};
    rc = zarrc_group_list(sst, spath, cp_child, &w);
    if (w.result)
        return w.result;
    return rc ? cli_fail_lib(rc, "listing '%s'", label) : CLI_EXIT_OK;
}

static int cmd_cp(const cli_verb *v, int argc, char **argv)
{
    const char *pos[2] = {NULL, NULL}, *format_s = NULL, *codecs = NULL, *chunks_s = NULL,
               *shards_s = NULL;
    int recursive = 0, overwrite = 0, as_json = 0, quiet = 0, no_raw = 0, force = 0, resume = 0;
    const cli_opt specs[] = {
        {"--format", &format_s, NULL}, {"--codecs", &codecs, NULL},  {"--chunks", &chunks_s, NULL},
        {"--shards", &shards_s, NULL}, {"-r", NULL, &recursive},     {"--recursive", NULL, &recursive},
        {"--overwrite", NULL, &overwrite}, {"--json", NULL, &as_json}, {"--quiet", NULL, &quiet},
        {"--no-raw", NULL, &no_raw},      {"--force", NULL, &force},   {"--resume", NULL, &resume},
        {NULL, NULL, NULL},
    };
    int rc = cli_parse_positionals(v, argc, argv, specs, pos, 2, "SRC and DST");
    if (rc)
        return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
    if (force && !overwrite)
        return cli_usage_error(v, "--force needs --overwrite");
    if (resume && overwrite)
        return cli_usage_error(v, "--resume and --overwrite are mutually exclusive");
    cp_opts o;
    memset(&o, 0, sizeof o);
    if (format_s) {
        if (strcmp(format_s, "2") && strcmp(format_s, "3"))
            return cli_usage_error(v, "--format must be 2 or 3, not '%s'", format_s);
        o.format = format_s[0] - '0';
    }
    if (cli_check_json_option("--codecs", codecs, 0, 1, 0))
        return CLI_EXIT_FAIL;
    int64_t *chunks = NULL, *shards = NULL;
    const char *rect_chunks = NULL, *rect_shards = NULL;
    if ((chunks_s && cli_parse_grid_opt("--chunks", chunks_s, &chunks, &o.nchunks, &rect_chunks)) ||
        (shards_s && cli_parse_grid_opt("--shards", shards_s, &shards, &o.nshards, &rect_shards))) {
        free(chunks);
        return CLI_EXIT_FAIL;
    }
    if (rect_chunks && shards_s) {
        free(chunks);
        free(shards);
        return cli_usage_error(v, "with --shards, --chunks is the regular inner chunk shape (give the "
                               "rectilinear grid to --shards)");
    }
    o.rect = rect_shards ? rect_shards : rect_chunks;
    o.codecs = codecs;
    o.chunks = chunks;
    o.shards = shards;
    o.flags = (overwrite ? ZARRC_OVERWRITE : 0) | (force ? ZARRC_FORCE : 0) | (resume ? ZARRC_RESUME : 0);
    o.no_raw = no_raw;
    o.progress = !as_json && !quiet && isatty(STDERR_FILENO);
    int result = CLI_EXIT_FAIL;
    zarrc_store *sst = NULL, *dst = NULL;
    double t0 = now_seconds();
    if (shards_s && !chunks) {
        result = cli_fail("--shards needs --chunks (the inner chunk shape)");
        goto done;
    }
    zarrc_node_kind kind;
    int format, relation;
    cli_made_dirs made = {NULL, 0};
    if (cli_is_spec_file(pos[0])) {
        /* A view spec file: materialize it (the view reads its layers wherever they are). */
        zarrc_array *src = NULL;
        if (cli_open_array(&sst, &src, pos[0], ZARRC_STORE_READONLY) || cli_check_new_node(pos[1], o.format ? o.format : 3)) {
            zarrc_array_free(src);
            goto done;
        }
        cli_record_missing_dirs(&made, pos[1]);
        if (cli_open_store(&dst, pos[1], ZARRC_STORE_CREATE)) {
            zarrc_array_free(src);
            cli_remove_made_dirs(&made, 1);
            goto done;
        }
        result = cp_array_from(src, dst, "", pos[0], &o);
        zarrc_store_free(dst);
        dst = NULL;
        cli_remove_made_dirs(&made, result != CLI_EXIT_OK);
        goto report;
    }
    if (cli_open_store(&sst, pos[0], ZARRC_STORE_READONLY))
        goto done;
    if ((rc = zarrc_node_probe(&kind, &format, sst, ""))) {
        result = cli_fail_lib(rc, "reading '%s'", pos[0]);
        goto done;
    }
    if (cli_check_new_node(pos[1], o.format ? o.format : format))
        goto done;
    cli_record_missing_dirs(&made, pos[1]);
    if (cli_open_store(&dst, pos[1], ZARRC_STORE_CREATE)) {
        cli_remove_made_dirs(&made, 1);
        goto done;
    }
    /* A copy onto or into itself would read what it overwrites: refused before anything. */
    if ((rc = zarrc_node_overlap(&relation, sst, "", dst, ""))) {
        result = cli_fail_lib(rc, "comparing '%s' and '%s'", pos[0], pos[1]);
    } else if (relation != ZARRC_OVERLAP_NONE) {
        result = cli_fail("'%s' and '%s' are %s: refusing to copy (nothing changed)", pos[0], pos[1],
                          relation == ZARRC_OVERLAP_SAME ? "the same node"
                          : relation == ZARRC_OVERLAP_B_IN_A ? "nested (the destination is inside the source)"
                                                             : "nested (the source is inside the destination)");
    } else if (kind == ZARRC_NODE_ARRAY) {
        /* Opened as the other verbs open arrays: a stored view inside its hierarchy. */
        zarrc_store *vst = NULL;
        zarrc_array *src = NULL;
        if (cli_open_array(&vst, &src, pos[0], ZARRC_STORE_READONLY) == 0)
            result = cp_array_from(src, dst, "", pos[0], &o);
        zarrc_store_free(vst);
    } else
        result = cp_node(sst, "", dst, "", pos[0], &o, recursive);
    zarrc_store_free(dst);
    dst = NULL;
    cli_remove_made_dirs(&made, result != CLI_EXIT_OK); /* rmdir: only directories left empty */
report:
    if (result == CLI_EXIT_OK && as_json) {
        json_object *r = json_object_new_object();
        json_object_object_add(r, "bytes", json_object_new_int64((int64_t)o.total.bytes));
        json_object_object_add(r, "chunks", json_object_new_int64((int64_t)o.total.units));
        json_object_object_add(r, "seconds", json_object_new_double(now_seconds() - t0));
        json_object_object_add(r, "raw", json_object_new_boolean(o.total.raw));
        cli_json_println(r);
        json_object_put(r);
    }
done:
    zarrc_store_free(sst);
    zarrc_store_free(dst);
    free(chunks);
    free(shards);
    return result;
}

/* ------------------------------------------------------------------------------------------ */
/* The verbs (entries of the verb table in zarrc.c, cli_verbs.h)                              */
/* ------------------------------------------------------------------------------------------ */

const cli_verb cli_verb_ls = {"ls", cmd_ls, "zarrc ls NODE [--json]",
     "List the children of the group at NODE, one per line:\n"
     "  name  array  shape=[..] dtype=..\n"
     "  name  group",
     "Options:\n"
     "  --json   print a JSON list of {name, node_type, zarr_format, shape, data_type}\n"
     "\nExample:\n"
     "  zarrc ls data\n",
     "list the children of a group"};

const cli_verb cli_verb_rm = {"rm", cmd_rm, "zarrc rm NODE [--force]",
     "Delete the array or group at NODE: its metadata, chunks and child nodes (chunks first,\n"
     "metadata last), and its directory. A path that is not a Zarr node is refused, and so is\n"
     "a symbolic link (deletion never follows one); nothing is deleted then.",
     "Options:\n"
     "  --force   also delete files below the node that belong to no node (without it they\n"
     "            refuse the deletion, and nothing is deleted)\n"
     "\nExample:\n"
     "  zarrc rm data/temp\n",
     "delete an array or group"};

const cli_verb cli_verb_cp = {"cp", cmd_cp,
     "zarrc cp SRC DST [--format 2|3] [--codecs JSON] [--chunks N,...] [--shards N,...]\n"
     "                [-r] [--overwrite [--force] | --resume] [--no-raw] [--json] [--quiet]",
     "Copy the array at SRC to DST (or, with -r, a whole hierarchy), converting the format,\n"
     "recompressing or rechunking on the way. Memory stays at a few chunks per thread whatever\n"
     "the array size. When nothing about the stored chunks changes (e.g. v2 -> v3 with the same\n"
     "codecs and chunks) the stored chunk bytes are copied without decoding. SRC and DST that\n"
     "are the same node or nested are refused. Each array's metadata is written when its copy\n"
     "is complete: a killed copy leaves an incomplete array that --resume continues.",
     "Options:\n"
     "  --format 2|3      format of the copy (default: the source's)\n"
     "  --codecs JSON     codec list of the copy, either spelling (default: the source's)\n"
     "  --chunks N,...    chunk shape of the copy (with --shards: the inner chunk shape)\n"
     "  --chunks JSON     a rectilinear grid, as zarrc create takes it: '[[2,3,5],[[4,2]]]'\n"
     "                    (the copy is v3 unless --format says otherwise)\n"
     "  --shards N,...    shard shape: the copy is sharded (v3), inner chunks use --codecs\n"
     "                    (or a rectilinear grid of shards, JSON as for --chunks)\n"
     "  -r, --recursive   copy a group and everything below it\n"
     "  --overwrite       replace existing nodes at DST (as create --overwrite)\n"
     "  --force           with --overwrite: also delete files that belong to no node\n"
     "  --resume          continue an interrupted copy with the same SRC, DST and options\n"
     "                    (stored chunks are kept; other options or another SRC are refused)\n"
     "  --no-raw          always decode and re-encode (no stored-bytes copy)\n"
     "  --json            print {\"bytes\", \"chunks\", \"seconds\", \"raw\"} when done\n"
     "  --quiet           no progress line (it is shown only on a terminal anyway)\n"
     "\nExamples:\n"
     "  zarrc cp data/v2array data/v3array --format 3\n"
     "  zarrc cp a b --codecs '[{\"name\":\"bytes\"},{\"name\":\"zstd\",\"configuration\":{\"level\":5}}]'\n"
     "  zarrc cp a b --chunks 64,64 --shards 512,512\n"
     "  zarrc cp -r dataset.zarr copy.zarr --format 3\n",
     "copy an array or hierarchy (convert, recompress, rechunk)"};
