/*
 * cli_scan.c — what a store holds, node by node: a scan of every key (cli_scan_*), the chunk
 * grid of an array and its chunk key names (cli_grid_*) and the storage statistics of an array
 * (cli_array_stats) that `zarrc info`, `du` and `verify` use. Uses only the public API
 * (listing, sizes, probing).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ------------------------------------------------------------------------------------------ */
/* Chunk grids and chunk key names                                                             */
/* ------------------------------------------------------------------------------------------ */

void cli_grid_free(cli_grid *g)
{
    free(g->nchunks);
    memset(g, 0, sizeof *g);
}

int cli_grid_init(cli_grid *g, zarrc_array *arr)
{
    memset(g, 0, sizeof *g);
    g->ndim = zarrc_array_ndim(arr);
    g->shape = zarrc_array_shape(arr);
    g->chunks = zarrc_array_chunks(arr);
    g->format = zarrc_array_format(arr);
    g->v2_names = g->format == 2;
    g->sep = g->format == 2 ? '.' : '/';
    g->nchunks = calloc((size_t)(g->ndim ? g->ndim : 1), sizeof *g->nchunks);
    if (!g->nchunks)
        return cli_fail("out of memory");
    g->total = 1;
    for (int d = 0; d < g->ndim; d++) {
        int64_t c = g->chunks[d] > 0 ? g->chunks[d] : 1;
        g->nchunks[d] = g->shape[d] / c + (g->shape[d] % c != 0);
        if (g->total >= 0 && __builtin_mul_overflow(g->total, g->nchunks[d], &g->total))
            g->total = -1; /* more chunks than int64 counts */
    }
    for (int d = 0; d < g->ndim; d++)
        if (g->nchunks[d] == 0)
            g->total = 0;
    /* The chunk key encoding, from the metadata document. */
    char *text = NULL;
    if (zarrc_array_json(&text, arr, ZARRC_JSON_METADATA) == ZARRC_OK) {
        char err[64];
        json_object *meta = NULL, *v;
        if (!cli_json_parse(&meta, text, err, sizeof err) && meta) {
            if (g->format == 2) {
                if (json_object_object_get_ex(meta, "dimension_separator", &v) &&
                    json_object_is_type(v, json_type_string) && json_object_get_string(v)[0])
                    g->sep = json_object_get_string(v)[0];
            } else if (json_object_object_get_ex(meta, "chunk_key_encoding", &v)) {
                json_object *name, *cfg, *sep;
                if (json_object_object_get_ex(v, "name", &name) &&
                    !strcmp(json_object_get_string(name), "v2")) {
                    g->v2_names = 1;
                    g->sep = '.';
                }
                if (json_object_object_get_ex(v, "configuration", &cfg) &&
                    json_object_object_get_ex(cfg, "separator", &sep) &&
                    json_object_is_type(sep, json_type_string) && json_object_get_string(sep)[0])
                    g->sep = json_object_get_string(sep)[0];
            }
        }
        json_object_put(meta);
        zarrc_free(text);
    }
    return 0;
}

/* Parse one decimal coordinate [s, e) in canonical form (no sign, no leading zeros). */
static int parse_coord(const char *s, const char *e, int64_t *v)
{
    if (s == e || (e - s > 1 && *s == '0'))
        return -1;
    for (const char *p = s; p < e; p++)
        if (*p < '0' || *p > '9')
            return -1;
    return cli_parse_int64(s, e, v) == CLI_INT_OK ? 0 : -1;
}

int cli_grid_parse_key(const cli_grid *g, const char *rel, int64_t *coords)
{
    const char *s = rel;
    if (!g->v2_names) {
        if (s[0] != 'c')
            return -1;
        if (g->ndim == 0)
            return s[1] ? -1 : 0;
        if (s[1] != g->sep)
            return -1;
        s += 2;
    } else if (g->ndim == 0) {
        return strcmp(s, "0") ? -1 : 0;
    }
    for (int d = 0; d < g->ndim; d++) {
        const char *e = d + 1 < g->ndim ? strchr(s, g->sep) : s + strlen(s);
        if (!e || parse_coord(s, e, &coords[d]))
            return -1;
        if (coords[d] >= g->nchunks[d])
            return -2; /* a chunk name, outside the grid */
        s = *e ? e + 1 : e;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Scanning a store                                                                            */
/* ------------------------------------------------------------------------------------------ */

static int is_meta_name(const char *base)
{
    return !strcmp(base, "zarr.json") || !strcmp(base, ".zarray") || !strcmp(base, ".zgroup") ||
           !strcmp(base, ".zattrs") || !strcmp(base, ".zmetadata");
}

int cli_key_is_metadata(const char *key)
{
    const char *slash = strrchr(key, '/');
    return is_meta_name(slash ? slash + 1 : key);
}

static int scan_key(void *vctx, const char *name, int is_prefix)
{
    cli_scan *s = vctx;
    if (is_prefix)
        return 0;
    if (s->nkeys == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        cli_scan_key *k = realloc(s->keys, cap * sizeof *k);
        if (!k)
            return ZARRC_ENOMEM;
        s->keys = k;
        s->cap = cap;
    }
    cli_scan_key *k = &s->keys[s->nkeys];
    memset(k, 0, sizeof *k);
    if (!(k->key = strdup(name)))
        return ZARRC_ENOMEM;
    k->node = -1;
    s->nkeys++;
    return 0;
}

static int add_node(cli_scan *s, zarrc_store *st, const char *path, size_t len)
{
    for (int i = 0; i < s->nnodes; i++)
        if (strlen(s->nodes[i].path) == len && !strncmp(s->nodes[i].path, path, len))
            return 0;
    cli_scan_node *n = realloc(s->nodes, (size_t)(s->nnodes + 1) * sizeof *n);
    if (!n)
        return ZARRC_ENOMEM;
    s->nodes = n;
    n = &s->nodes[s->nnodes];
    memset(n, 0, sizeof *n);
    if (!(n->path = strndup(path, len)))
        return ZARRC_ENOMEM;
    s->nnodes++;
    zarrc_node_kind kind;
    int format;
    int rc = zarrc_node_probe(&kind, &format, st, n->path);
    if (rc == ZARRC_OK) {
        n->kind = kind;
        n->format = format;
    } else {
        const char *msg = zarrc_error_last();
        n->error = strdup(msg && *msg ? msg : zarrc_strerror(rc));
    }
    return 0;
}

static int cmp_node_depth(const void *a, const void *b)
{
    size_t la = strlen(((const cli_scan_node *)a)->path), lb = strlen(((const cli_scan_node *)b)->path);
    return la < lb ? 1 : la > lb ? -1 : strcmp(((const cli_scan_node *)a)->path, ((const cli_scan_node *)b)->path);
}

int cli_scan_node_of(const cli_scan *s, const char *key)
{
    for (int i = 0; i < s->nnodes; i++) { /* deepest first */
        size_t pl = strlen(s->nodes[i].path);
        if (!pl || (!strncmp(key, s->nodes[i].path, pl) && key[pl] == '/'))
            return i;
    }
    return -1;
}

int cli_scan_store(cli_scan *s, zarrc_store *st, const char *label)
{
    memset(s, 0, sizeof *s);
    int rc = zarrc_store_list(st, "", scan_key, s);
    if (rc) {
        cli_scan_free(s);
        return cli_fail_lib(rc, "listing '%s'", label);
    }
    /* The root is a node; so is every directory holding a metadata document. */
    rc = add_node(s, st, "", 0);
    for (size_t i = 0; !rc && i < s->nkeys; i++) {
        const char *k = s->keys[i].key, *slash = strrchr(k, '/');
        const char *base = slash ? slash + 1 : k;
        if (slash && (!strcmp(base, "zarr.json") || !strcmp(base, ".zarray") || !strcmp(base, ".zgroup")))
            rc = add_node(s, st, k, (size_t)(slash - k));
    }
    if (rc) {
        cli_scan_free(s);
        return cli_fail("listing '%s': out of memory", label);
    }
    qsort(s->nodes, (size_t)s->nnodes, sizeof *s->nodes, cmp_node_depth);
    for (size_t i = 0; i < s->nkeys; i++) {
        cli_scan_key *k = &s->keys[i];
        k->node = cli_scan_node_of(s, k->key);
        if ((rc = zarrc_store_size(&k->size, st, k->key)) && rc != ZARRC_ENOTFOUND) {
            cli_scan_free(s);
            return cli_fail_lib(rc, "reading the size of '%s' in '%s'", k->key, label);
        }
        if (k->node >= 0)
            s->nodes[k->node].bytes += k->size;
        s->bytes += k->size;
    }
    return 0;
}

void cli_scan_free(cli_scan *s)
{
    for (size_t i = 0; i < s->nkeys; i++)
        free(s->keys[i].key);
    for (int i = 0; i < s->nnodes; i++) {
        free(s->nodes[i].path);
        free(s->nodes[i].error);
    }
    free(s->keys);
    free(s->nodes);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------------------------------ */
/* Array statistics (zarrc info)                                                               */
/* ------------------------------------------------------------------------------------------ */

/* Count stored bytes and initialized chunks of the array `arr` opened at the root of `st`. */
int cli_array_stats(cli_array_stats_t *out, zarrc_store *st, zarrc_array *arr, const char *label)
{
    memset(out, 0, sizeof *out);
    cli_grid g;
    if (cli_grid_init(&g, arr))
        return CLI_EXIT_FAIL;
    cli_scan s;
    if (cli_scan_store(&s, st, label)) {
        cli_grid_free(&g);
        return CLI_EXIT_FAIL;
    }
    int64_t *coords = calloc((size_t)(g.ndim ? g.ndim : 1), sizeof *coords);
    if (!coords) {
        cli_scan_free(&s);
        cli_grid_free(&g);
        return cli_fail("out of memory");
    }
    for (size_t i = 0; i < s.nkeys; i++) {
        out->stored_bytes += s.keys[i].size;
        if (cli_grid_parse_key(&g, s.keys[i].key, coords) == 0) {
            out->chunks_initialized++;
            out->chunk_bytes += s.keys[i].size;
        }
    }
    out->chunks_total = g.total;
    out->sharded = zarrc_array_inner_chunks(arr) != NULL;
    const zarrc_dtype_info *dt = zarrc_array_dtype(arr);
    int64_t n = zarrc_array_size(arr);
    out->decoded_bytes = -1;
    if (!cli_dtype_is_vlen(dt) && n >= 0 &&
        __builtin_mul_overflow(n, (int64_t)dt->item_size, &out->decoded_bytes))
        out->decoded_bytes = -1;
    free(coords);
    cli_scan_free(&s);
    cli_grid_free(&g);
    return 0;
}
