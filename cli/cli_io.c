/*
 * cli_io.c — the data verbs of the zarrc tool: get, put and append (JSON, raw bytes, .npy,
 * selections, blocks at an offset). Uses only the public API; conversions are in cli_data.c,
 * streaming in cli_npy.c.
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
#include "cli_verbs.h"
#include "cli_struct.h"

/* ------------------------------------------------------------------------------------------ */
/* get / put                                                                                   */
/* ------------------------------------------------------------------------------------------ */

static int parse_selection(const cli_verb *v, cli_selection *sel, const char *text)
{
    char err[256];
    if (cli_select_parse(sel, text ? text : "", err, sizeof err))
        return cli_usage_error(v, "--select: %s", err);
    return 0;
}

static int resolve_selection(cli_box *box, const cli_selection *sel, zarrc_array *arr,
                             const char *node)
{
    char err[256];
    if (cli_select_resolve(box, sel, zarrc_array_ndim(arr), zarrc_array_shape(arr), err,
                           sizeof err))
        return cli_fail("'%s': selection out of bounds: %s", node, err);
    return 0;
}

/* Bytes of a fixed-size buffer for n elements, or 0 with a message when they exceed what the
 * library can address (int64 and size_t). */
static size_t buffer_size(const zarrc_dtype_info *dt, int64_t n, const char *node)
{
    uint64_t limit = SIZE_MAX < INT64_MAX ? SIZE_MAX : INT64_MAX;
    if (n > 0 && dt->item_size && (uint64_t)n > limit / dt->item_size) {
        cli_fail("'%s': selection of %lld elements is too large", node, (long long)n);
        return 0;
    }
    return (size_t)n * dt->item_size;
}

static int cmd_get(const cli_verb *v, int argc, char **argv)
{
    const char *node, *select = NULL, *npy = NULL, *field = NULL;
    int as_json = 0, as_raw = 0, quiet = 0;
    const cli_opt specs[] = {
        {"--select", &select, NULL}, {"--json", NULL, &as_json}, {"--raw", NULL, &as_raw},
        {"--npy", &npy, NULL},       {"--quiet", NULL, &quiet}, {"--field", &field, NULL},
        {NULL, NULL, NULL},
    };
    int rc = cli_parse_node(v, argc, argv, specs, &node);
    if (rc)
        return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
    if (as_json + as_raw + (npy != NULL) > 1)
        return cli_usage_error(v, "--json, --raw and --npy are mutually exclusive");
    if (field && (as_raw || npy))
        return cli_usage_error(v, "--field prints JSON (it cannot be combined with --raw or --npy)");
    if ((as_raw || (npy && !strcmp(npy, "-"))) && isatty(STDOUT_FILENO))
        return cli_fail("get --raw: refusing to write binary data to a terminal (redirect the output: "
                        "'> FILE' or '| ...')");
    cli_selection sel;
    if (parse_selection(v, &sel, select))
        return CLI_EXIT_USAGE;
    zarrc_store *st;
    zarrc_array *arr;
    if (cli_open_array_node(&st, &arr, node, ZARRC_STORE_READONLY)) {
        cli_select_free(&sel);
        return CLI_EXIT_FAIL;
    }
    const zarrc_dtype_info *dt = zarrc_array_dtype(arr);
    int vlen = cli_dtype_is_vlen(dt), result = CLI_EXIT_FAIL;
    cli_box box;
    void *buf = NULL;
    zarrc_vlen vl = {0};
    if (resolve_selection(&box, &sel, arr, node))
        goto out;
    if ((as_raw || npy) && vlen) {
        cli_fail("'%s': %s needs a fixed-size data type, '%s' is variable-length (use --json)",
                 node, as_raw ? "--raw" : "--npy", dt->name);
        goto fail;
    }
    if (!vlen && dt->item_size == 0) { /* an unknown data type: the library says why */
        cli_fail_lib(zarrc_array_read(arr, box.start, box.count, box.step, NULL, 0), "reading '%s'", node);
        goto fail;
    }
    size_t nbytes = vlen ? 0 : buffer_size(dt, box.nelem, node);
    if (!vlen && box.nelem > 0 && !nbytes)
        goto fail;
    if (as_raw || npy) { /* streamed: bounded memory whatever the selection's size */
        FILE *out = stdout;
        if (npy && strcmp(npy, "-") && !(out = fopen(npy, "wb"))) {
            cli_fail("cannot create '%s': %s", npy, strerror(errno));
            goto fail;
        }
        rc = cli_stream_get(out, npy != NULL, arr, &box, node, quiet);
        if (out != stdout && fclose(out) && !rc)
            rc = cli_fail("writing '%s': %s", npy, strerror(errno));
        if (!rc && (fflush(stdout) || ferror(stdout)))
            rc = cli_fail("writing the output: %s", strerror(errno));
        if (!rc)
            result = CLI_EXIT_OK;
        goto fail;
    }
    if (!vlen) {
        buf = malloc(nbytes ? nbytes : 1);
        if (!buf) {
            cli_fail("'%s': cannot allocate %zu bytes for the selection", node, nbytes);
            goto fail;
        }
    }
    if (vlen && !cli_box_is_simple(&box)) {
        cli_fail("'%s': index lists and negative steps are not supported for variable-length types "
                 "('%s')", node, dt->name);
        goto fail;
    }
    if (box.nelem > 0) {
        rc = vlen ? zarrc_array_read(arr, box.start, box.count, box.step, &vl, sizeof vl)
                  : cli_box_io(arr, &box, -1, 0, 0, buf, nbytes, 0);
        if (rc) {
            cli_fail_lib(rc, "reading '%s'", node);
            goto fail;
        }
    }
    int64_t nout = box.nelem, fshape[64];
    int fndim = box.out_ndim;
    zarrc_dtype_info fdt;
    if (field) {
        if (box.out_ndim > 64)
            goto fail;
        memcpy(fshape, box.out_shape, (size_t)box.out_ndim * sizeof *fshape);
        if (cli_struct_select_field(&fdt, buf, &nout, &fndim, fshape, dt, field, node))
            goto fail;
    }
    if (as_raw)
        rc = cli_data_print_raw(stdout, dt, buf, box.nelem);
    else if (field)
        rc = cli_data_print_json(stdout, &fdt, buf, nout, fndim, fshape);
    else if (dt->kind == ZARRC_DTYPE_OBJECT)
        rc = cli_object_print_json(stdout, arr, &vl, box.nelem, box.out_ndim, box.out_shape);
    else
        rc = cli_data_print_json(stdout, dt, vlen ? (void *)&vl : buf, box.nelem, box.out_ndim,
                                 box.out_shape);
    if (!rc && (fflush(stdout) || ferror(stdout)))
        rc = cli_fail("writing the output: %s", strerror(errno));
    if (!rc)
        result = CLI_EXIT_OK;
fail:
    cli_box_free(&box);
out:
    zarrc_vlen_clear(&vl);
    free(buf);
    cli_select_free(&sel);
    zarrc_array_free(arr);
    zarrc_store_free(st);
    return result;
}

/* ---- blocks: put --offset, append ---------------------------------------------------------- */

/* The shape of a JSON block: the "shape" member of an object, else the nesting of the lists
 * (complex [re, im] pairs count as values when the type is complex). */
static int json_block_shape(const char *text, const zarrc_dtype_info *dt, int64_t *shape, int *ndim, int max)
{
    json_object *o;
    char err[256];
    if (cli_json_parse(&o, text, err, sizeof err))
        return cli_fail("%s", err);
    json_object *sh = NULL, *d = o;
    int rc = 0;
    *ndim = 0;
    if (json_object_is_type(o, json_type_object)) {
        if (json_object_object_get_ex(o, "shape", &sh) && json_object_is_type(sh, json_type_array)) {
            size_t n = json_object_array_length(sh);
            if ((int)n > max)
                rc = cli_fail("the block's \"shape\" has %zu dimensions, the array %d", n, max);
            for (size_t i = 0; !rc && i < n; i++) {
                json_object *e = json_object_array_get_idx(sh, i);
                if (!json_object_is_type(e, json_type_int) || json_object_get_int64(e) < 0)
                    rc = cli_fail("the block's \"shape\" must list sizes >= 0");
                else
                    shape[(*ndim)++] = json_object_get_int64(e);
            }
            json_object_put(o);
            return rc;
        }
        json_object_object_get_ex(o, "data", &d);
    }
    int complex_kind = dt->kind == ZARRC_DTYPE_COMPLEX;
    while (json_object_is_type(d, json_type_array)) {
        size_t n = json_object_array_length(d);
        json_object *first = n ? json_object_array_get_idx(d, 0) : NULL;
        if (complex_kind && n == 2 && !json_object_is_type(first, json_type_array) && *ndim > 0)
            break; /* an [re, im] value */
        if (*ndim == max) {
            rc = cli_fail("the block's lists are nested deeper than the array's %d dimensions", max);
            break;
        }
        shape[(*ndim)++] = (int64_t)n;
        if (!n)
            break;
        d = first;
    }
    json_object_put(o);
    return rc;
}

static char *slurp(FILE *in, const char *name, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t k = fread(b + n, 1, cap - n - 1, in);
        n += k;
        if (k == 0)
            break;
        if (cap - n - 1 == 0) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    if (!b) {
        cli_fail("'%s': out of memory reading the input", name);
        return NULL;
    }
    if (ferror(in)) {
        free(b);
        cli_fail("reading '%s': %s", name, strerror(errno));
        return NULL;
    }
    b[n] = 0;
    *len = n;
    return b;
}

/* put NODE --offset O [--extend] [--shape S] (axis < 0), or append NODE --axis A [--shape S]
 * [--new-chunk] (then `extend` carries --new-chunk). */
static int put_block(const cli_verb *v, const char *node, const char *offset_s, int axis, const char *shape_s,
                     const char *json_src, const char *raw_src, int extend, int write_empty)
{
    zarrc_store *st = NULL;
    zarrc_array *arr = NULL;
    FILE *in = NULL, *mem = NULL;
    void *buf = NULL;
    char *text = NULL;
    int64_t *offset = NULL, *shape_opt = NULL, shape[64]; /* >= ZARRC_MAX_DIMS (32): ranks are checked */
    int noffset = 0, nshape = 0, ndim = 0, result = CLI_EXIT_FAIL;
    zarrc_vlen vl = {0};
    int have_vl = 0;
    if (raw_src && !shape_s)
        return cli_usage_error(v, "--raw needs --shape (the block's shape)");
    if (offset_s && cli_parse_dims_opt("--offset", offset_s, &offset, &noffset, 0))
        return CLI_EXIT_FAIL;
    if (shape_s && cli_parse_dims_opt("--shape", shape_s, &shape_opt, &nshape, 0)) {
        free(offset);
        return CLI_EXIT_FAIL;
    }
    if (cli_open_array_node(&st, &arr, node, 0))
        goto done;
    zarrc_array_set_write_empty_chunks(arr, write_empty);
    const zarrc_dtype_info *dt = zarrc_array_dtype(arr);
    int rank = zarrc_array_ndim(arr), vlen = cli_dtype_is_vlen(dt);
    if (noffset > rank) {
        cli_fail("'%s': --offset has %d entries, the array has %d dimensions", node, noffset, rank);
        goto done;
    }
    if (axis >= rank) {
        cli_fail("'%s': --axis %d is not a dimension of the array (it has %d)", node, axis, rank);
        goto done;
    }
    if (raw_src && vlen) {
        cli_fail("'%s': --raw needs a fixed-size data type, '%s' is variable-length (use --json)", node, dt->name);
        goto done;
    }
    const char *src = json_src ? json_src : raw_src;
    const char *src_name = strcmp(src, "-") ? src : "<stdin>";
    if (!strcmp(src, "-"))
        in = stdin;
    else if (!(in = fopen(src, "rb"))) {
        cli_fail("cannot open '%s': %s", src, strerror(errno));
        goto done;
    }
    size_t len = 0;
    if (json_src && !(text = slurp(in, src_name, &len)))
        goto done;
    if (shape_opt) {
        if (nshape != rank) {
            cli_fail("'%s': --shape has %d dimension%s, the array has %d", node, nshape, nshape == 1 ? "" : "s",
                     rank);
            goto done;
        }
        ndim = nshape; /* at most ZARRC_MAX_DIMS, which fits `shape` */
        memcpy(shape, shape_opt, sizeof(int64_t) * (size_t)nshape);
    } else if (json_block_shape(text, dt, shape, &ndim, rank))
        goto done;
    if (ndim == 1 && rank > 1 && !shape_opt) {
        cli_fail("'%s': a flat JSON list gives no block shape for a %d-d array: nest the lists or give --shape",
                 node, rank);
        goto done;
    }
    if (ndim != rank) {
        cli_fail("'%s': the block has %d dimensions, the array %d", node, ndim, rank);
        goto done;
    }
    int64_t nelem = 1;
    for (int d = 0; d < ndim; d++)
        if (__builtin_mul_overflow(nelem, shape[d], &nelem)) {
            cli_fail("'%s': the block's shape is too large", node);
            goto done;
        }
    size_t nbytes = vlen ? 0 : buffer_size(dt, nelem, node);
    if (!vlen && nelem > 0 && !nbytes)
        goto done;
    if (!vlen && !(buf = calloc(1, nbytes ? nbytes : 1))) {
        cli_fail("'%s': cannot allocate %zu bytes for the block", node, nbytes);
        goto done;
    }
    if (json_src) {
        if (!(mem = fmemopen(text, len ? len : 1, "rb"))) {
            cli_fail("'%s': %s", src_name, strerror(errno));
            goto done;
        }
        if (dt->kind == ZARRC_DTYPE_OBJECT ? cli_object_read_json(mem, src_name, arr, &vl, nelem, ndim, shape)
                                           : cli_data_read_json(mem, src_name, dt, vlen ? (void *)&vl : buf, nelem, ndim, shape))
            goto done;
        have_vl = vlen;
    } else if (cli_data_read_raw(in, src_name, dt, buf, nelem))
        goto done;
    int rc;
    const void *data = vlen ? (const void *)&vl : buf;
    size_t size = vlen ? sizeof vl : nbytes;
    if (axis >= 0) {
        int64_t start;
        /* for append, `extend` is --new-chunk */
        rc = zarrc_array_append_flags(arr, axis, shape, data, size, extend ? ZARRC_APPEND_NEW_CHUNK : 0, &start);
    } else
        rc = zarrc_array_write_at(arr, offset, noffset, shape, data, size, extend ? ZARRC_EXTEND : 0);
    if (rc) {
        cli_fail_lib(rc, "writing '%s'", node);
        goto done;
    }
    cli_warn_consolidated(node);
    result = CLI_EXIT_OK;
done:
    if (mem)
        fclose(mem);
    if (in && in != stdin)
        fclose(in);
    if (have_vl)
        cli_vlen_release(&vl);
    free(text);
    free(buf);
    free(offset);
    free(shape_opt);
    zarrc_array_free(arr);
    zarrc_store_free(st);
    return result;
}

/* append --stream: blocks of `shape` (raw bytes, C order, little-endian) read from `src` until
 * EOF, each handed to a zarrc_stream as it arrives. A partial trailing block is an error; the
 * complete blocks before it stay appended (the stream's close writes them, nothing more). */
static int stream_blocks(const char *node, int axis, const char *shape_s, const char *src, int progress)
{
    zarrc_store *st = NULL;
    zarrc_array *arr = NULL;
    zarrc_stream *s = NULL;
    int64_t *shape = NULL;
    uint8_t *buf = NULL;
    FILE *in = NULL;
    int n = 0, result = CLI_EXIT_FAIL, rc;
    uint64_t blocks = 0;
    if (cli_parse_dims_opt("--shape", shape_s, &shape, &n, 0) || cli_open_array_node(&st, &arr, node, 0))
        goto done;
    int ndim = zarrc_array_ndim(arr);
    const int64_t *ash = zarrc_array_shape(arr);
    const zarrc_dtype_info *dt = zarrc_array_dtype(arr);
    if (n != ndim || axis >= ndim) {
        cli_fail("'%s' has %d dimensions: --shape has %d%s", node, ndim, n, axis >= ndim ? " and --axis is past them" : "");
        goto done;
    }
    size_t bytes = dt->item_size;
    for (int d = 0; d < ndim; d++) {
        if (d != axis && shape[d] != ash[d]) {
            cli_fail("--shape %s: a streamed block spans the array's extent %lld along dimension %d (got %lld)",
                     shape_s, (long long)ash[d], d, (long long)shape[d]);
            goto done;
        }
        if (shape[d] > 0 && bytes > SIZE_MAX / (size_t)shape[d]) {
            cli_fail("--shape %s: the block is too large", shape_s);
            goto done;
        }
        bytes *= (size_t)shape[d];
    }
    if (bytes == 0) {
        cli_fail("--shape %s: an empty block", shape_s);
        goto done;
    }
    in = strcmp(src, "-") ? fopen(src, "rb") : stdin;
    if (!in) {
        cli_fail("cannot open '%s': %s", src, strerror(errno));
        goto done;
    }
    if (!(buf = malloc(bytes))) {
        cli_fail("out of memory (a block of %zu bytes)", bytes);
        goto done;
    }
    zarrc_stream_options so = ZARRC_STREAM_OPTIONS_INIT;
    so.axis = axis;
    if ((rc = zarrc_stream_open(&s, arr, &so))) {
        cli_fail_lib(rc, "streaming into '%s'", node);
        goto done;
    }
    cli_progress pc;
    cli_progress_start(&pc, node, "blocks", 0, 0); /* on when stderr is a terminal */
    if (progress)
        pc.enabled = 1; /* --progress: whatever stderr is */
    size_t width = cli_host_little_endian() ? 1 : cli_swap_width(dt);
    for (;;) {
        size_t got = 0, r;
        while (got < bytes && (r = fread(buf + got, 1, bytes - got, in)) > 0)
            got += r;
        if (got == 0 && !ferror(in))
            break; /* EOF at a block boundary */
        if (got < bytes) {
            cli_progress_end(&pc);
            if (ferror(in))
                cli_fail("reading '%s': %s", src, strerror(errno));
            else
                cli_fail("'%s': a partial trailing block (%zu of %zu bytes) after %llu complete block%s: "
                         "not appended", src, got, bytes, (unsigned long long)blocks, blocks == 1 ? "" : "s");
            rc = zarrc_stream_close(s);
            s = NULL;
            if (rc)
                cli_fail_lib(rc, "streaming into '%s'", node);
            goto done;
        }
        if (width > 1)
            cli_swap_units(buf, bytes, width);
        if ((rc = zarrc_stream_append(s, buf, bytes))) {
            cli_progress_end(&pc);
            cli_fail_lib(rc, "streaming block %llu into '%s'", (unsigned long long)blocks, node);
            goto done;
        }
        blocks++;
        if (pc.enabled && cli_now() - pc.last >= 0.1) /* no known total: throttle here */
            cli_progress_update(&pc, blocks, blocks * (uint64_t)bytes);
    }
    cli_progress_end(&pc);
    rc = zarrc_stream_close(s);
    s = NULL;
    if (rc) {
        cli_fail_lib(rc, "streaming into '%s'", node);
        goto done;
    }
    result = CLI_EXIT_OK;
done:
    zarrc_stream_close(s);
    if (in && in != stdin)
        fclose(in);
    free(buf);
    free(shape);
    zarrc_array_free(arr);
    zarrc_store_free(st);
    return result;
}

static int cmd_append(const cli_verb *v, int argc, char **argv)
{
    const char *node, *json_src = NULL, *raw_src = NULL, *axis_s = NULL, *shape_s = NULL;
    int write_empty = 0, new_chunk = 0, stream = 0, progress = 0;
    const cli_opt specs[] = {
        {"--axis", &axis_s, NULL}, {"--json", &json_src, NULL}, {"--raw", &raw_src, NULL},
        {"--shape", &shape_s, NULL}, {"--write-empty-chunks", NULL, &write_empty},
        {"--new-chunk", NULL, &new_chunk}, {"--stream", NULL, &stream}, {"--progress", NULL, &progress},
        {NULL, NULL, NULL},
    };
    int rc = cli_parse_node(v, argc, argv, specs, &node);
    if (rc)
        return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
    if (stream && (json_src || new_chunk || write_empty))
        return cli_usage_error(v, "--stream reads raw blocks (--raw FILE, default stdin): not with --json, "
                               "--new-chunk or --write-empty-chunks");
    if (stream && !shape_s)
        return cli_usage_error(v, "--stream needs --shape (the shape of one block)");
    if (!stream && progress)
        return cli_usage_error(v, "--progress goes with --stream");
    if (stream && !raw_src)
        raw_src = "-";
    if (json_src && raw_src)
        return cli_usage_error(v, "--json and --raw are mutually exclusive");
    if (!json_src && !raw_src)
        return cli_usage_error(v, "missing --json FILE or --raw FILE (FILE may be '-' for stdin)");
    int64_t *ax = NULL;
    int nax = 0;
    if (!axis_s)
        axis_s = "0";
    if (cli_parse_dims_opt("--axis", axis_s, &ax, &nax, 0))
        return CLI_EXIT_FAIL;
    if (nax != 1 || ax[0] > 64) {
        free(ax);
        return cli_usage_error(v, "--axis takes one dimension number");
    }
    int axis = (int)ax[0];
    free(ax);
    if (stream)
        return stream_blocks(node, axis, shape_s, raw_src, progress);
    return put_block(v, node, NULL, axis, shape_s, json_src, raw_src, new_chunk, write_empty);
}

static int cmd_put(const cli_verb *v, int argc, char **argv)
{
    const char *node, *select = NULL, *json_src = NULL, *raw_src = NULL, *npy_src = NULL, *value = NULL;
    const char *offset_s = NULL, *shape_s = NULL;
    int write_empty = 0, quiet = 0, extend = 0;
    const cli_opt specs[] = {
        {"--select", &select, NULL}, {"--json", &json_src, NULL}, {"--raw", &raw_src, NULL},
        {"--npy", &npy_src, NULL},   {"--value", &value, NULL}, {"--write-empty-chunks", NULL, &write_empty},
        {"--quiet", NULL, &quiet},   {"--offset", &offset_s, NULL}, {"--extend", NULL, &extend},
        {"--shape", &shape_s, NULL}, {NULL, NULL, NULL},
    };
    int rc = cli_parse_node(v, argc, argv, specs, &node);
    if (rc)
        return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
    if ((json_src != NULL) + (raw_src != NULL) + (npy_src != NULL) + (value != NULL) > 1)
        return cli_usage_error(v, "--json, --raw, --npy and --value are mutually exclusive");
    if (!json_src && !raw_src && !npy_src && !value)
        return cli_usage_error(v, "missing --json FILE, --raw FILE, --npy FILE (FILE may be '-' for stdin) or "
                              "--value V");
    if (offset_s && select)
        return cli_usage_error(v, "--offset and --select are mutually exclusive");
    if (!offset_s && (extend || shape_s))
        return cli_usage_error(v, "--extend and --shape go with --offset");
    if (offset_s && (npy_src || value))
        return cli_usage_error(v, "--offset takes the block from --json or --raw");
    if (offset_s)
        return put_block(v, node, offset_s, -1, shape_s, json_src, raw_src, extend, write_empty);
    cli_selection sel;
    if (parse_selection(v, &sel, select))
        return CLI_EXIT_USAGE;
    const char *src = json_src ? json_src : raw_src ? raw_src : npy_src ? npy_src : "--value";
    zarrc_store *st = NULL;
    zarrc_array *arr = NULL;
    FILE *in = NULL;
    void *buf = NULL;
    zarrc_vlen vl = {0};
    cli_box box = {0};
    int result = CLI_EXIT_FAIL, have_box = 0;
    if (cli_open_array_node(&st, &arr, node, 0))
        goto done;
    zarrc_array_set_write_empty_chunks(arr, write_empty);
    const zarrc_dtype_info *dt = zarrc_array_dtype(arr);
    int vlen = cli_dtype_is_vlen(dt);
    if (resolve_selection(&box, &sel, arr, node))
        goto done;
    have_box = 1;
    if ((raw_src || npy_src) && vlen) {
        cli_fail("'%s': %s needs a fixed-size data type, '%s' is variable-length (use --json)",
                 node, raw_src ? "--raw" : "--npy", dt->name);
        goto done;
    }
    size_t nbytes = vlen ? 0 : buffer_size(dt, box.nelem, node);
    if (!vlen && box.nelem > 0 && !nbytes)
        goto done;
    if (vlen && !cli_box_is_simple(&box)) {
        cli_fail("'%s': index lists and negative steps are not supported for variable-length types "
                 "('%s')", node, dt->name);
        goto done;
    }
    if (value) { /* a scalar broadcast over the selection */
        if (!cli_stream_fill(arr, &box, cli_normalize_fill(value), node, quiet))
            result = CLI_EXIT_OK;
        goto done;
    }
    if (raw_src || npy_src) { /* streamed: bounded memory whatever the selection's size */
        if (!strcmp(src, "-"))
            in = stdin;
        else if (!(in = fopen(src, "rb"))) {
            cli_fail("cannot open '%s': %s", src, strerror(errno));
            goto done;
        }
        if (!cli_stream_put(in, strcmp(src, "-") ? src : "<stdin>", npy_src != NULL, arr, &box, node, quiet))
            result = CLI_EXIT_OK;
        goto done;
    }
    if (!vlen && !(buf = calloc(1, nbytes ? nbytes : 1))) {
        cli_fail("'%s': cannot allocate %zu bytes for the selection", node, nbytes);
        goto done;
    }
    if (!strcmp(src, "-")) {
        in = stdin;
    } else if (!(in = fopen(src, "rb"))) {
        cli_fail("cannot open '%s': %s", src, strerror(errno));
        goto done;
    }
    const char *src_name = strcmp(src, "-") ? src : "<stdin>";
    rc = json_src && dt->kind == ZARRC_DTYPE_OBJECT
             ? cli_object_read_json(in, src_name, arr, &vl, box.nelem, box.out_ndim, box.out_shape)
         : json_src ? cli_data_read_json(in, src_name, dt, vlen ? (void *)&vl : buf, box.nelem, box.out_ndim,
                                         box.out_shape)
                    : cli_data_read_raw(in, src_name, dt, buf, box.nelem);
    if (rc)
        goto done;
    if (box.nelem > 0) {
        rc = vlen ? zarrc_array_write(arr, box.start, box.count, box.step, &vl, sizeof vl)
                  : cli_box_io(arr, &box, -1, 0, 0, buf, nbytes, 1);
        if (rc) {
            cli_fail_lib(rc, "writing '%s'", node);
            goto done;
        }
    }
    result = CLI_EXIT_OK;
done:
    if (in && in != stdin)
        fclose(in);
    cli_vlen_release(&vl);
    free(buf);
    if (have_box)
        cli_box_free(&box);
    cli_select_free(&sel);
    zarrc_array_free(arr);
    zarrc_store_free(st);
    return result;
}

/* ------------------------------------------------------------------------------------------ */
/* The verbs (entries of the verb table in zarrc.c, cli_verbs.h)                              */
/* ------------------------------------------------------------------------------------------ */

const cli_verb cli_verb_get = {"get", cmd_get, "zarrc get NODE [--select SEL] [--field NAME] [--json | --raw | --npy FILE] [--quiet]",
     "Read array data (the whole array, or the selection SEL).",
     "Options:\n"
     "  --select SEL   numpy-style selection, one entry per dimension separated by commas:\n"
     "                 i (one index; the axis is dropped), a:b, a:b:s, :, ::s, ::-1 (negative\n"
     "                 steps), [i,j,...] (an index list; lists apply per axis, like\n"
     "                 zarr-python's oindex), ... (as many ':' as needed); negative indices\n"
     "                 count from the end; missing trailing dimensions mean ':'\n"
     "  --json         print {\"shape\":[...],\"dtype\":\"<v3 name>\",\"data\":[...]}, the\n"
     "                 data flat in C order (the default)\n"
     "  --raw          write the selection's bytes, C order, little-endian (fixed-size types);\n"
     "                 refused on a terminal. Streamed: memory stays at about one chunk row\n"
     "  --npy FILE     write a NumPy .npy file (FILE '-' = stdout), streamed like --raw\n"
     "  --quiet        no progress line (it is shown only on a terminal anyway)\n"
     "  --field NAME   struct arrays: print only field NAME of each record ('pos.x' for a field\n"
     "                 of a nested record); a sub-array field adds its dimensions to the shape.\n"
     "                 Without it each record prints as {\"field\": value, ...}\n"
     "\nExamples:\n"
     "  zarrc get data/temp --select 0:10,5\n"
     "  zarrc get data/temp --select ::2,-3: --raw > part.bin\n",
     "read array data as JSON or raw bytes"};

const cli_verb cli_verb_put = {"put", cmd_put,
     "zarrc put NODE [--select SEL | --offset O [--extend] [--shape S]]\n"
     "               (--json FILE | --raw FILE | --npy FILE | --value V) [--write-empty-chunks] [--quiet]",
     "Write array data into the whole array or the selection SEL. FILE may be '-' (stdin).",
     "Options:\n"
     "  --select SEL   selection as for 'get'\n"
     "  --json FILE    a JSON list of values (or an object with a \"data\" list, as printed by\n"
     "                 'get --json'): flat, with as many values as the selection, or nested\n"
     "                 with exactly the selection's shape\n"
     "  --raw FILE     exactly size * item-size bytes, C order, little-endian (streamed)\n"
     "  --npy FILE     a NumPy .npy file whose dtype and shape match the selection (streamed;\n"
     "                 either byte order, C order)\n"
     "  --value V      one JSON value written into every element of the selection\n"
     "  --offset O     write a block at offset O (N,...; missing trailing entries are 0) instead\n"
     "                 of a selection (with --json or --raw); the block's shape is --shape, else\n"
     "                 the nesting of the JSON lists or the \"shape\" member of a JSON object. A\n"
     "                 block that does not fit fails (exit 1) naming the array's current shape\n"
     "  --extend       with --offset: grow the array to max(shape, offset + block shape)\n"
     "  --shape S      the block's shape (N,...; required with --raw)\n"
     "  --quiet        no progress line (it is shown only on a terminal anyway)\n"
     "  --write-empty-chunks\n"
     "                 store chunks whose every element equals the fill value (by default\n"
     "                 they are not stored, and a stored one is erased)\n"
     "\nExamples:\n"
     "  echo '[1, 2, 3]' | zarrc put data/v --select 0:3 --json -\n"
     "  zarrc get a --json | zarrc put b --json -\n"
     "  echo '[[1, 2], [3, 4]]' | zarrc put data/m --offset 7,0 --extend --json -\n",
     "write array data from JSON or raw bytes"};

const cli_verb cli_verb_append = {"append", cmd_append,
     "zarrc append NODE [--axis A] (--json FILE | --raw FILE) [--shape S] [--new-chunk]\n"
     "                  [--write-empty-chunks]\n"
     "zarrc append NODE [--axis A] --stream --shape S [--raw FILE] [--progress]",
     "Append a block along axis A (default 0): it lands at the array's current extent there,\n"
     "which grows by the block's size (other axes grow to the block's size if smaller).\n"
     "Concurrent appenders never land in the same place.",
     "Options:\n"
     "  --axis A       the axis to append along (default 0)\n"
     "  --json FILE    the block as nested JSON lists (or an object with \"data\" and \"shape\")\n"
     "  --raw FILE     the block's bytes, C order, little-endian (needs --shape)\n"
     "  --shape S      the block's shape (N,...)\n"
     "  --new-chunk    rectilinear chunk grids: the block becomes one new chunk of exactly its\n"
     "                 length along the axis (appending 3 then 1 rows gives edges [3, 1]); the\n"
     "                 edges must end at the current extent\n"
     "  --stream       read blocks of --shape continuously (raw bytes, C order, little-endian;\n"
     "                 --raw FILE or stdin) and append each as it arrives, through the streaming\n"
     "                 writer; EOF ends it. A partial trailing block is an error and is not\n"
     "                 appended (the complete blocks before it are)\n"
     "  --progress     with --stream: progress on stderr (default when stderr is a terminal)\n"
     "\nExamples:\n"
     "  echo '[[1, 2, 3]]' | zarrc append data/m --axis 0 --json -\n",
     "append a block along an axis"};
