/*
 * cli_array.c — the array verbs of the zarrc tool: create (arrays and groups), info (arrays,
 * groups and views, with storage statistics) and resize. Uses only the public API.
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

#include "cli_common.h"
#include "cli_refs.h"
#include "cli_verbs.h"
#include "cli_struct.h"

/* ------------------------------------------------------------------------------------------ */
/* create                                                                                      */
/* ------------------------------------------------------------------------------------------ */

static int cmd_create(const cli_verb *v, int argc, char **argv)
{
    const char *node, *format_s = NULL, *dtype = NULL, *shape_s = NULL, *chunks_s = NULL,
                      *fill = NULL, *codecs = NULL, *compressor = NULL, *filters = NULL,
                      *order_s = NULL, *sep_s = NULL, *attrs = NULL, *dimnames_s = NULL;
    int overwrite = 0, group = 0, force = 0;
    const cli_opt specs[] = {
        {"--format", &format_s, NULL},      {"--dtype", &dtype, NULL},
        {"--shape", &shape_s, NULL},        {"--chunks", &chunks_s, NULL},
        {"--fill-value", &fill, NULL},      {"--codecs", &codecs, NULL},
        {"--compressor", &compressor, NULL}, {"--filters", &filters, NULL},
        {"--order", &order_s, NULL},        {"--separator", &sep_s, NULL},
        {"--attrs", &attrs, NULL},          {"--dimension-names", &dimnames_s, NULL},
        {"--overwrite", NULL, &overwrite},  {"--group", NULL, &group},
        {"--force", NULL, &force},          {NULL, NULL, NULL},
    };
    int rc = cli_parse_node(v, argc, argv, specs, &node);
    if (rc)
        return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
    if (force && !overwrite)
        return cli_usage_error(v, "--force needs --overwrite");
    unsigned cflags = (overwrite ? ZARRC_OVERWRITE : 0) | (force ? ZARRC_FORCE : 0);

    int format = 3;
    if (format_s) {
        if (strcmp(format_s, "2") && strcmp(format_s, "3"))
            return cli_usage_error(v, "--format must be 2 or 3, not '%s'", format_s);
        format = format_s[0] - '0';
    }
    char order = 'C', sep = 0;
    if (order_s) {
        if (strcmp(order_s, "C") && strcmp(order_s, "F"))
            return cli_usage_error(v, "--order must be C or F, not '%s'", order_s);
        order = order_s[0];
    }
    if (sep_s) {
        if (strcmp(sep_s, "/") && strcmp(sep_s, "."))
            return cli_usage_error(v, "--separator must be '/' or '.', not '%s'", sep_s);
        sep = sep_s[0];
    }
    if (group) {
        const char *array_only[][2] = {
            {"--dtype", dtype},         {"--shape", shape_s},      {"--chunks", chunks_s},
            {"--fill-value", fill},     {"--codecs", codecs},      {"--compressor", compressor},
            {"--filters", filters},     {"--order", order_s},      {"--separator", sep_s},
            {"--dimension-names", dimnames_s},
        };
        for (size_t i = 0; i < sizeof array_only / sizeof array_only[0]; i++)
            if (array_only[i][1])
                return cli_usage_error(v, "%s cannot be used with --group", array_only[i][0]);
    } else {
        if (!dtype)
            return cli_usage_error(v, "missing --dtype (or --group to make a group)");
        if (!shape_s)
            return cli_usage_error(v, "missing --shape");
        if (codecs && (compressor || filters))
            return cli_usage_error(v, "--codecs cannot be combined with --compressor/--filters");
    }
    if (cli_check_json_option("--attrs", attrs, 1, 0, 0) || cli_check_new_node(node, format))
        return CLI_EXIT_FAIL;

    cli_made_dirs made;
    zarrc_store *st = NULL;
    if (group) {
        cli_record_missing_dirs(&made, node);
        if (cli_open_store(&st, node, ZARRC_STORE_CREATE)) {
            cli_remove_made_dirs(&made, 1);
            return CLI_EXIT_FAIL;
        }
        rc = zarrc_group_create(st, "", format, attrs, cflags);
        zarrc_store_free(st);
        cli_remove_made_dirs(&made, rc != 0);
        if (rc)
            return cli_fail_erase(rc, "creating group", node);
        cli_warn_consolidated(node);
        return CLI_EXIT_OK;
    }

    int64_t *shape = NULL, *chunks = NULL;
    int ndim = 0, nchunks = 0;
    const char **dimnames = NULL;
    json_object *dn_json = NULL;
    int result = CLI_EXIT_FAIL;
    if (cli_parse_dims_opt("--shape", shape_s, &shape, &ndim, 0))
        goto done;
    const char *chunk_shapes = NULL;
    if (chunks_s) {
        if (cli_parse_grid_opt("--chunks", chunks_s, &chunks, &nchunks, &chunk_shapes))
            goto done;
        if (nchunks != ndim) {
            cli_fail("--chunks has %d dimension%s but --shape has %d", nchunks,
                     nchunks == 1 ? "" : "s", ndim);
            goto done;
        }
    }
    if (fill)
        fill = cli_normalize_fill(fill);
    if (cli_check_json_option("--fill-value", fill, 0, 0, 1) ||
        cli_check_json_option("--codecs", codecs, 0, 1, 0) ||
        cli_check_json_option("--compressor", compressor, 1, 0, 1) ||
        cli_check_json_option("--filters", filters, 0, 1, 1))
        goto done;
    if (dimnames_s) {
        dimnames = calloc((size_t)(ndim ? ndim : 1), sizeof *dimnames);
        if (!dimnames) {
            cli_fail("out of memory");
            goto done;
        }
        char err[256];
        int count = 0;
        const char *t = dimnames_s;
        while (isspace((unsigned char)*t))
            t++;
        if (*t == '[') {
            if (cli_json_parse(&dn_json, dimnames_s, err, sizeof err)) {
                cli_fail("--dimension-names: %s", err);
                goto done;
            }
            count = (int)json_object_array_length(dn_json);
            for (int i = 0; i < count && i < ndim; i++) {
                json_object *e = json_object_array_get_idx(dn_json, (size_t)i);
                if (e && !json_object_is_type(e, json_type_string)) {
                    cli_fail("--dimension-names: entry %d must be a string or null", i);
                    goto done;
                }
                dimnames[i] = e ? json_object_get_string(e) : NULL;
            }
        } else if (*t) {
            /* "a,b,,d": split in place on a copy kept alive in dn_json. */
            dn_json = json_object_new_string(dimnames_s);
            char *copy = (char *)json_object_get_string(dn_json);
            for (char *s = copy;; count++) {
                char *c = strchr(s, ',');
                if (c)
                    *c = 0;
                if (count < ndim)
                    dimnames[count] = *s ? s : NULL;
                if (!c) {
                    count++;
                    break;
                }
                s = c + 1;
            }
        }
        if (count != ndim) {
            cli_fail("--dimension-names has %d name%s but the array has %d dimension%s", count,
                     count == 1 ? "" : "s", ndim, ndim == 1 ? "" : "s");
            goto done;
        }
    }

    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.format = format;
    o.dtype = dtype;
    o.ndim = ndim;
    o.shape = shape;
    o.chunks = chunks;
    o.chunk_shapes = chunk_shapes;
    o.fill_value = fill;
    o.codecs = codecs;
    o.compressor = compressor;
    o.filters = filters;
    o.order = order;
    o.separator = sep;
    o.attributes = attrs;
    o.dimension_names = dimnames;
    o.flags = cflags;

    cli_record_missing_dirs(&made, node);
    if (cli_open_store(&st, node, ZARRC_STORE_CREATE)) {
        cli_remove_made_dirs(&made, 1);
        goto done;
    }
    zarrc_array *arr = NULL;
    rc = zarrc_array_create(&arr, st, "", &o);
    if (rc)
        cli_fail_erase(rc, "creating array", node);
    zarrc_array_free(arr);
    zarrc_store_free(st);
    cli_remove_made_dirs(&made, rc != 0);
    if (!rc) {
        cli_warn_consolidated(node); /* a parent's consolidated copy no longer lists it */
        result = CLI_EXIT_OK;
    }
done:
    free(shape);
    free(chunks);
    free(dimnames);
    json_object_put(dn_json);
    return result;
}

/* ------------------------------------------------------------------------------------------ */
/* info                                                                                        */
/* ------------------------------------------------------------------------------------------ */

/* `zarrc info` of a view (node or .json spec). */
static int info_view(const char *node, int as_json)
{
    zarrc_store *st;
    zarrc_array *a;
    if (cli_open_array(&st, &a, node, ZARRC_STORE_READONLY))
        return CLI_EXIT_FAIL;
    char *spec = NULL, *fill = NULL, *attrs = NULL, *dtype = NULL;
    int rc = zarrc_view_spec(&spec, a);
    if (!rc)
        rc = zarrc_array_json(&fill, a, ZARRC_JSON_FILL_VALUE);
    if (!rc)
        rc = zarrc_array_json(&attrs, a, ZARRC_JSON_ATTRIBUTES);
    if (!rc)
        rc = zarrc_array_json(&dtype, a, ZARRC_JSON_DTYPE);
    if (rc) {
        cli_fail_lib(rc, "'%s'", node);
    } else {
        int nd = zarrc_array_ndim(a);
        const int64_t *sh = zarrc_array_shape(a);
        json_object *o = json_object_new_object(), *shape = json_object_new_array(),
                    *sp = json_tokener_parse(spec), *layers = NULL;
        for (int d = 0; d < nd; d++)
            json_object_array_add(shape, json_object_new_int64(sh[d]));
        json_object_object_get_ex(sp, "layers", &layers);
        if (as_json) {
            json_object_object_add(o, "node_type", json_object_new_string("view"));
            json_object_object_add(o, "shape", shape);
            json_object_object_add(o, "data_type", json_tokener_parse(dtype));
            json_object_object_add(o, "fill_value", json_tokener_parse(fill));
            json_object_object_add(o, "attributes", json_tokener_parse(attrs));
            json_object_object_add(o, "layers", json_object_new_int((int)json_object_array_length(layers)));
            json_object_object_add(o, "spec", json_object_get(sp));
            printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
        } else {
            printf("%-14s%s\n", "node:", node);
            printf("%-14s%s\n", "node type:", "view (virtual array)");
            printf("%-14s%s\n", "shape:", json_object_to_json_string_ext(shape, JSON_C_TO_STRING_PLAIN));
            printf("%-14s%s\n", "data type:", dtype);
            printf("%-14s%s\n", "fill value:", fill);
            printf("%-14s%d\n", "layers:", (int)json_object_array_length(layers));
            printf("%-14s%s\n", "attributes:", attrs);
            printf("spec:\n%s\n", spec);
            json_object_put(shape);
        }
        json_object_put(sp);
        json_object_put(o);
    }
    zarrc_free(spec);
    zarrc_free(fill);
    zarrc_free(attrs);
    zarrc_free(dtype);
    zarrc_array_free(a);
    zarrc_store_free(st);
    return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static json_object *dtype_v3_json(const zarrc_dtype_info *dt)
{
    if (dt->kind == ZARRC_DTYPE_DATETIME || dt->kind == ZARRC_DTYPE_TIMEDELTA ||
        dt->kind == ZARRC_DTYPE_UTF32 || dt->kind == ZARRC_DTYPE_FIXED_BYTES) {
        json_object *o = json_object_new_object(), *cfg = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(dt->name));
        if (dt->kind == ZARRC_DTYPE_DATETIME || dt->kind == ZARRC_DTYPE_TIMEDELTA) {
            json_object_object_add(cfg, "unit", json_object_new_string(dt->unit));
            json_object_object_add(cfg, "scale_factor", json_object_new_int64(dt->scale_factor));
        } else {
            json_object_object_add(cfg, "length_bytes",
                                   json_object_new_int64((int64_t)dt->item_size));
        }
        json_object_object_add(o, "configuration", cfg);
        return o;
    }
    return json_object_new_string(dt->name);
}

/* One part of an array's description as JSON (NULL object + message on failure). */
static int array_part(json_object **out, zarrc_array *arr, zarrc_json_part part,
                      const char *node, const char *what)
{
    char *text = NULL;
    int rc = zarrc_array_json(&text, arr, part);
    *out = NULL;
    if (rc) {
        cli_fail_lib(rc, "reading %s of '%s'", what, node);
        return rc;
    }
    *out = cli_json_from_text(text);
    zarrc_free(text);
    return 0;
}

/* A v2 array whose codecs zarrc does not know still has an info page: its v3 spelling is
 * shown as null (the stored v2 spelling is shown as it is). */
/* v2 arrays whose codecs (or data type: an unregistered user type) zarrc does not know still
 * show their metadata; the v3 spelling of their codecs is left out, with a note. */
static int codecs_unknown(int format, const zarrc_dtype_info *dt)
{
    int code = zarrc_error_code();
    if (format != 2 || (code != ZARRC_EUNSUPPORTED && !(code == ZARRC_EDTYPE && dt->kind == ZARRC_DTYPE_USER)))
        return 0;
    fprintf(stderr, "zarrc: note: %s\n", zarrc_error_last());
    return 1;
}

static void print_dims(const char *label, const int64_t *dims, int ndim)
{
    printf("%-14s[", label);
    for (int d = 0; d < ndim; d++)
        printf("%s%lld", d ? ", " : "", (long long)dims[d]);
    printf("]\n");
}

/* A rectilinear grid's edges per dimension, run-length: "[10, 20, 30] x [50 (x2)]" reads as
 * edges 10, 20, 30 along dimension 0 and two edges of 50 along dimension 1; a bare edge (the
 * dimension is regular) prints as "50 ..." . Nothing for a regular grid. */
static void print_rectilinear(const zarrc_array *arr, int ndim)
{
    int any = 0;
    for (int d = 0; d < ndim; d++) {
        size_t n = 0;
        if (zarrc_array_chunk_runs(arr, d, NULL, 0, &n) == 0 && n)
            any = 1;
    }
    if (!any)
        return;
    printf("%-14s", "chunk grid:");
    printf("rectilinear ");
    for (int d = 0; d < ndim; d++) {
        size_t n = 0;
        zarrc_array_chunk_runs(arr, d, NULL, 0, &n);
        int64_t *r = n ? malloc(2 * n * sizeof *r) : NULL;
        if (n && (!r || zarrc_array_chunk_runs(arr, d, r, n, &n))) {
            free(r);
            printf("%s?", d ? " x " : "");
            continue;
        }
        printf("%s", d ? " x " : "");
        if (!n)
            printf("%lld ...", (long long)zarrc_array_chunks(arr)[d]);
        else {
            printf("[");
            size_t shown = n > 16 ? 16 : n;
            for (size_t i = 0; i < shown; i++) {
                printf("%s%lld", i ? ", " : "", (long long)r[2 * i]);
                if (r[2 * i + 1] > 1)
                    printf(" (x%lld)", (long long)r[2 * i + 1]);
            }
            if (shown < n)
                printf(", ... %zu runs", n);
            printf("]");
        }
        free(r);
    }
    printf("\n");
}

/* Storage statistics as JSON (exact numbers). */
static json_object *stats_json(const cli_array_stats_t *s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "stored_bytes", json_object_new_int64((int64_t)s->stored_bytes));
    json_object_object_add(o, "chunk_bytes", json_object_new_int64((int64_t)s->chunk_bytes));
    json_object_object_add(o, "decoded_bytes",
                           s->decoded_bytes >= 0 ? json_object_new_int64(s->decoded_bytes) : NULL);
    json_object_object_add(o, "ratio", s->decoded_bytes >= 0 && s->stored_bytes
                                           ? json_object_new_double((double)s->decoded_bytes / (double)s->stored_bytes)
                                           : NULL);
    json_object_object_add(o, s->sharded ? "shards_initialized" : "chunks_initialized",
                           json_object_new_int64(s->chunks_initialized));
    json_object_object_add(o, s->sharded ? "shards_total" : "chunks_total",
                           s->chunks_total >= 0 ? json_object_new_int64(s->chunks_total) : NULL);
    return o;
}

static void print_stats(const cli_array_stats_t *s)
{
    char h[32];
    cli_format_bytes(h, sizeof h, s->stored_bytes);
    printf("%-14s%s (%llu bytes)\n", "stored:", h, (unsigned long long)s->stored_bytes);
    if (s->decoded_bytes >= 0) {
        cli_format_bytes(h, sizeof h, (uint64_t)s->decoded_bytes);
        printf("%-14s%s (%lld bytes)\n", "decoded:", h, (long long)s->decoded_bytes);
        if (s->stored_bytes)
            printf("%-14s%.2f\n", "ratio:", (double)s->decoded_bytes / (double)s->stored_bytes);
    }
    printf("%-14s%lld / ", "initialized:", (long long)s->chunks_initialized);
    if (s->chunks_total >= 0)
        printf("%lld %s\n", (long long)s->chunks_total, s->sharded ? "shards" : "chunks");
    else
        printf("more than 2^63 %s\n", s->sharded ? "shards" : "chunks");
}

static int info_array(zarrc_store *st, const char *node, int as_json, int no_stats)
{
    zarrc_array *arr;
    int rc = zarrc_array_open_flags(&arr, st, "", cli_allow_external ? ZARRC_OPEN_ALLOW_EXTERNAL : 0);
    if (rc == ZARRC_EAUTH || (rc == 0 && zarrc_array_is_view(arr))) {
        zarrc_array_free(arr);
        return info_view(node, as_json);
    }
    if (rc)
        return cli_fail_lib(rc, "opening array '%s'", node);
    int format = zarrc_array_format(arr), ndim = zarrc_array_ndim(arr);
    const zarrc_dtype_info *dt = zarrc_array_dtype(arr);
    json_object *dtype_fmt = NULL, *fill = NULL, *codecs = NULL, *codecs2 = NULL, *attrs = NULL,
                *meta = NULL;
    int result = CLI_EXIT_FAIL;
    if (array_part(&dtype_fmt, arr, ZARRC_JSON_DTYPE, node, "the data type") ||
        array_part(&fill, arr, ZARRC_JSON_FILL_VALUE, node, "the fill value") ||
        (array_part(&codecs, arr, ZARRC_JSON_CODECS_V3, node, "the codecs") &&
         !codecs_unknown(format, dt)) ||
        (format == 2 && array_part(&codecs2, arr, ZARRC_JSON_CODECS_V2, node, "the v2 codecs")) ||
        array_part(&attrs, arr, ZARRC_JSON_ATTRIBUTES, node, "the attributes") ||
        array_part(&meta, arr, ZARRC_JSON_METADATA, node, "the metadata"))
        goto done;
    cli_array_stats_t stats;
    if (!no_stats && cli_array_stats(&stats, st, arr, node))
        goto done;
    json_object *dtype3 = format == 3 ? json_object_get(dtype_fmt) : dtype_v3_json(dt);
    if (as_json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "node_type", json_object_new_string("array"));
        json_object_object_add(o, "zarr_format", json_object_new_int(format));
        json_object_object_add(o, "shape", cli_dims_json(zarrc_array_shape(arr), ndim));
        json_object_object_add(o, "chunks", cli_dims_json(zarrc_array_chunks(arr), ndim));
        if (zarrc_array_inner_chunks(arr))
            json_object_object_add(o, "inner_chunks", cli_dims_json(zarrc_array_inner_chunks(arr), ndim));
        json_object_object_add(o, "data_type", dtype3);
        if (format == 2)
            json_object_object_add(o, "data_type_v2", json_object_get(dtype_fmt));
        json_object_object_add(o, "fill_value", json_object_get(fill));
        json_object_object_add(o, "codecs", json_object_get(codecs));
        if (format == 2)
            json_object_object_add(o, "codecs_v2", json_object_get(codecs2));
        json_object_object_add(o, "attributes", json_object_get(attrs));
        json_object_object_add(o, "metadata", json_object_get(meta));
        if (!no_stats)
            json_object_object_add(o, "stats", stats_json(&stats));
        cli_refs_info(o, node);
        cli_json_println(o);
        json_object_put(o);
    } else {
        const int64_t *shape = zarrc_array_shape(arr), *chunks = zarrc_array_chunks(arr);
        printf("%-14s%s\n", "node:", node);
        printf("%-14s%s\n", "node type:", "array");
        printf("%-14s%d\n", "zarr format:", format);
        print_dims("shape:", shape, ndim);
        if (zarrc_array_inner_chunks(arr)) {
            print_dims("shards:", chunks, ndim);
            print_dims("inner chunks:", zarrc_array_inner_chunks(arr), ndim);
        } else
            print_dims("chunks:", chunks, ndim);
        print_rectilinear(arr, ndim);
        printf("%-14s%s", "data type:", cli_json_display(dtype3));
        if (format == 2)
            printf("  (v2: %s)", cli_json_compact(dtype_fmt));
        printf("\n");
        if (zarrc_array_dtype(arr)->kind == ZARRC_DTYPE_STRUCT) {
            printf("%-14s\n", "fields:");
            cli_struct_print_fields(stdout, zarrc_array_dtype(arr), 2);
        }
        printf("%-14s%s\n", "fill value:", cli_json_compact(fill));
        printf("%-14s%s\n", "codecs:", cli_json_compact(codecs));
        if (format == 2)
            printf("%-14s%s\n", "codecs (v2):", cli_json_compact(codecs2));
        if (!no_stats)
            print_stats(&stats);
        printf("%-14s%s\n", "attributes:", cli_json_compact(attrs));
        cli_refs_info(NULL, node);
        fputs("metadata:\n", stdout);
        cli_json_println(meta);
        json_object_put(dtype3);
    }
    result = CLI_EXIT_OK;
done:
    json_object_put(dtype_fmt);
    json_object_put(fill);
    json_object_put(codecs);
    json_object_put(codecs2);
    json_object_put(attrs);
    json_object_put(meta);
    zarrc_array_free(arr);
    return result;
}

static int info_group(zarrc_store *st, const char *node, int format, int as_json)
{
    char *attrs_text = NULL;
    int rc = zarrc_node_attributes(&attrs_text, st, "");
    if (rc)
        return cli_fail_lib(rc, "reading the attributes of '%s'", node);
    void *data = NULL;
    size_t size = 0;
    const char *key = format == 3 ? "zarr.json" : ".zgroup";
    rc = zarrc_store_get(&data, &size, st, key);
    if (rc) {
        zarrc_free(attrs_text);
        return cli_fail_lib(rc, "reading '%s' of '%s'", key, node);
    }
    char *text = malloc(size + 1);
    if (!text) {
        zarrc_free(data);
        zarrc_free(attrs_text);
        return cli_fail("out of memory");
    }
    if (size)
        memcpy(text, data, size);
    text[size] = 0;
    zarrc_free(data);
    json_object *attrs = cli_json_from_text(attrs_text), *meta = cli_json_from_text(text);
    zarrc_free(attrs_text);
    free(text);
    if (as_json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "node_type", json_object_new_string("group"));
        json_object_object_add(o, "zarr_format", json_object_new_int(format));
        json_object_object_add(o, "attributes", attrs);
        json_object_object_add(o, "metadata", meta);
        cli_refs_info(o, node);
        cli_json_println(o);
        json_object_put(o);
    } else {
        printf("%-14s%s\n", "node:", node);
        printf("%-14s%s\n", "node type:", "group");
        printf("%-14s%d\n", "zarr format:", format);
        printf("%-14s%s\n", "attributes:", cli_json_compact(attrs));
        cli_refs_info(NULL, node);
        fputs("metadata:\n", stdout);
        cli_json_println(meta);
        json_object_put(attrs);
        json_object_put(meta);
    }
    return CLI_EXIT_OK;
}

static int cmd_info(const cli_verb *v, int argc, char **argv)
{
    const char *node;
    int as_json = 0, no_stats = 0;
    const cli_opt specs[] = {{"--json", NULL, &as_json}, {"--no-stats", NULL, &no_stats}, {NULL, NULL, NULL}};
    int rc = cli_parse_node(v, argc, argv, specs, &node);
    if (rc)
        return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
    zarrc_store *st;
    zarrc_node_kind kind;
    int format;
    if (cli_is_spec_file(node))
        return info_view(node, as_json);
    if (cli_open_node(&st, &kind, &format, node, ZARRC_STORE_READONLY))
        return CLI_EXIT_FAIL;
    rc = kind == ZARRC_NODE_ARRAY ? info_array(st, node, as_json, no_stats)
                                  : info_group(st, node, format, as_json);
    zarrc_store_free(st);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* resize                                                                                     */
/* ------------------------------------------------------------------------------------------ */

static int cmd_resize(const cli_verb *v, int argc, char **argv)
{
    const char *node, *shape_s = NULL;
    const cli_opt specs[] = {{"--shape", &shape_s, NULL}, {NULL, NULL, NULL}};
    int rc = cli_parse_node(v, argc, argv, specs, &node);
    if (rc)
        return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
    if (!shape_s)
        return cli_usage_error(v, "missing --shape");
    int64_t *shape = NULL;
    int n = 0;
    if (cli_parse_dims_opt("--shape", shape_s, &shape, &n, 0))
        return CLI_EXIT_FAIL;
    zarrc_store *st = NULL;
    zarrc_array *arr = NULL;
    int result = CLI_EXIT_FAIL;
    if (cli_open_array_node(&st, &arr, node, 0))
        goto done;
    if (n != zarrc_array_ndim(arr)) {
        cli_fail("'%s': --shape has %d dimension%s, the array has %d", node, n, n == 1 ? "" : "s",
                 zarrc_array_ndim(arr));
        goto done;
    }
    if ((rc = zarrc_array_resize(arr, shape))) {
        cli_fail_lib(rc, "resizing '%s'", node);
        goto done;
    }
    cli_warn_consolidated(node);
    result = CLI_EXIT_OK;
done:
    free(shape);
    zarrc_array_free(arr);
    zarrc_store_free(st);
    return result;
}

/* ------------------------------------------------------------------------------------------ */
/* The verbs (entries of the verb table in zarrc.c, cli_verbs.h)                              */
/* ------------------------------------------------------------------------------------------ */

const cli_verb cli_verb_create = {"create", cmd_create,
     "zarrc create NODE --dtype T --shape N,... [--chunks N,...] [--format 2|3]\n"
     "                  [--fill-value JSON] [--codecs JSON | --compressor JSON --filters JSON]\n"
     "                  [--order C|F] [--separator /|.] [--attrs JSON]\n"
     "                  [--dimension-names a,b,...] [--overwrite [--force]]\n"
     "       zarrc create NODE --group [--format 2|3] [--attrs JSON] [--overwrite [--force]]",
     "Create an array (or, with --group, a group) at NODE. Missing directories are made; a\n"
     "refused create writes nothing. Nodes below an array, and v3 names starting with '__' in a\n"
     "group, are refused.",
     "Options:\n"
     "  --format 2|3          Zarr format (default 3)\n"
     "  --dtype T             data type in either spelling: int16 or <i2, float32 or >f4, bool,\n"
     "                        complex64, r16, |S5, <U3, <M8[ns], string, bytes, or a v3 JSON\n"
     "                        data type object; records: the v2 field list\n"
     "                        '[[\"t\",\"<i8\"],[\"v\",\"<f4\",[2]]]' (nested lists, sub-array\n"
     "                        shapes, per-field byte order) or the v3 {\"name\":\"struct\",...}\n"
     "  --shape N,...         array shape (\"\" or [] for a 0-d array)\n"
     "  --chunks N,...        chunk shape (default: one chunk holding the whole array)\n"
     "  --chunks JSON         a rectilinear grid (v3): per dimension a list of edges and\n"
     "                        [edge, count] runs, or a bare edge: '[[2,3,5],[[4,2]]]'\n"
     "  --fill-value JSON     fill value, e.g. 0, 1.5, \"NaN\", true (default: the type's zero)\n"
     "  --codecs JSON         codec list in v3 or v2 (numcodecs) spelling\n"
     "  --compressor JSON     v2-style compressor object or null\n"
     "  --filters JSON        v2-style filter list or null\n"
     "  --order C|F           memory order of chunks (default C)\n"
     "  --separator /|.       chunk key separator (default: '/' for v3, '.' for v2)\n"
     "  --attrs JSON          attributes (a JSON object)\n"
     "  --dimension-names L   comma-separated names (empty = unnamed) or a JSON list\n"
     "  --overwrite           replace an existing node (its chunks go first, its metadata last);\n"
     "                        files below it that belong to no node refuse it (nothing deleted)\n"
     "  --force               with --overwrite: delete those files too\n"
     "  --group               create a group instead of an array\n"
     "\nExamples:\n"
     "  zarrc create data/temp --dtype float32 --shape 100,200 --chunks 10,20\n"
     "  zarrc create data/v2 --format 2 --dtype '<i2' --shape 1000 --chunks 100 \\\n"
     "        --compressor '{\"id\":\"zstd\",\"level\":3}' --fill-value -1\n"
     "  zarrc create data/z --dtype uint8 --shape 64,64 --chunks 32,32 \\\n"
     "        --codecs '[{\"name\":\"bytes\"},\n"
     "                   {\"name\":\"gzip\",\"configuration\":{\"level\":5}}]'\n"
     "  zarrc create data --group --attrs '{\"title\":\"demo\"}'\n",
     "create an array or a group"};

const cli_verb cli_verb_info = {"info", cmd_info, "zarrc info NODE [--json] [--no-stats]",
     "Show what is stored at NODE: node type, format, shape, chunks, data type, fill value,\n"
     "codecs (v3 spelling and, for v2 nodes, v2 spelling), attributes and the stored metadata;\n"
     "for arrays also storage statistics: stored and decoded bytes, their ratio, chunks (or\n"
     "shards) stored of the grid. NODE may be a view node or a .json view spec.",
     "Options:\n"
     "  --json       print one JSON object with the members node_type, zarr_format, shape,\n"
     "               chunks, data_type, data_type_v2 (v2), fill_value, codecs, codecs_v2 (v2),\n"
     "               attributes, metadata, stats (exact numbers) (groups: node_type,\n"
     "               zarr_format, attributes, metadata)\n"
     "  --no-stats   skip the storage statistics (they list every key of the array)\n"
     "\nExamples:\n"
     "  zarrc info data/temp\n"
     "  zarrc info data/temp --json\n",
     "show the metadata and storage statistics of an array or group"};

const cli_verb cli_verb_resize = {"resize", cmd_resize, "zarrc resize NODE --shape N,...",
     "Set the array's shape: grow or shrink any dimension. Shrinking erases the chunks outside\n"
     "the new shape and resets the cut part of edge chunks to the fill value, so a later grow\n"
     "reads the fill value there. Costs what is stored, not what the shape declares.",
     "Options:\n"
     "  --shape N,...  the new shape (one entry per dimension, each >= 0)\n"
     "\nExamples:\n"
     "  zarrc resize data/temp --shape 100,200\n",
     "change an array's shape"};
