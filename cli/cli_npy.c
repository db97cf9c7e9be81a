/*
 * cli_npy.c — streaming binary I/O of `get --raw/--npy` and `put --raw/--npy`: the selection
 * moves in slabs of whole chunk rows (along the first axis of the selection with more than one
 * index), so memory stays at one slab (about SLAB_TARGET bytes, at least one chunk row) plus
 * what the library's threads decode, whatever the selection's size. NumPy .npy files: format
 * 1.0 headers (2.0 when the header needs more than 65535 bytes) on output, 1.0/2.0/3.0 on input.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define SLAB_TARGET ((int64_t)16 << 20)
#define NPY_MAX_HEADER (1 << 20)

int cli_npy_descr(char *buf, size_t len, const zarrc_dtype_info *dt)
{
    size_t n = dt->item_size;
    char unit[48];
    switch (dt->kind) {
    case ZARRC_DTYPE_BOOL: snprintf(buf, len, "|b1"); return 0;
    case ZARRC_DTYPE_INT: snprintf(buf, len, "%ci%zu", n == 1 ? '|' : '<', n); return 0;
    case ZARRC_DTYPE_UINT: snprintf(buf, len, "%cu%zu", n == 1 ? '|' : '<', n); return 0;
    case ZARRC_DTYPE_FLOAT: snprintf(buf, len, "<f%zu", n); return 0;
    case ZARRC_DTYPE_COMPLEX: snprintf(buf, len, "<c%zu", n); return 0;
    case ZARRC_DTYPE_RAW: snprintf(buf, len, "|V%zu", n); return 0;
    case ZARRC_DTYPE_FIXED_BYTES: snprintf(buf, len, "|S%zu", n); return 0;
    case ZARRC_DTYPE_UTF32: snprintf(buf, len, "<U%zu", n / 4); return 0;
    case ZARRC_DTYPE_DATETIME:
    case ZARRC_DTYPE_TIMEDELTA:
        if (dt->scale_factor != 1)
            snprintf(unit, sizeof unit, "%lld%s", (long long)dt->scale_factor, dt->unit);
        else
            snprintf(unit, sizeof unit, "%s", dt->unit);
        snprintf(buf, len, "<%c8[%s]", dt->kind == ZARRC_DTYPE_DATETIME ? 'M' : 'm', unit);
        return 0;
    default: return -1;
    }
}

/* ---- slabs ---------------------------------------------------------------------------------- */

typedef struct slabber {
    const cli_box *box;
    int axis;           /* slab axis (-1: the box is one slab) */
    int64_t chunk;      /* chunk length along the axis */
    int64_t row_elems;  /* elements per index along the axis */
    int64_t done;       /* indices of the axis done */
    size_t item;
} slabber;

static void slabber_init(slabber *s, const cli_box *box, zarrc_array *arr)
{
    memset(s, 0, sizeof *s);
    s->box = box;
    s->axis = -1;
    s->item = zarrc_array_dtype(arr)->item_size;
    for (int d = 0; d < box->ndim; d++)
        if (box->count[d] > 1) {
            s->axis = d;
            break;
        }
    s->row_elems = 1;
    if (s->axis >= 0) {
        s->chunk = zarrc_array_chunks(arr)[s->axis];
        for (int d = s->axis + 1; d < box->ndim; d++)
            s->row_elems *= box->count[d]; /* <= nelem: no overflow */
    }
}

/* The next slab: `rows` indices along the axis from `first`; 0 when done. */
static int64_t slabber_next(slabber *s, int64_t *first)
{
    const cli_box *b = s->box;
    if (s->axis < 0) {
        *first = 0;
        if (s->done)
            return 0;
        s->done = 1;
        return 1;
    }
    int a = s->axis;
    int64_t count = b->count[a], step = b->step[a];
    if (s->done >= count)
        return 0;
    *first = s->done;
    int64_t rows = 0, bytes = 0;
    int64_t row_bytes = s->row_elems * (int64_t)s->item;
    while (s->done < count && (rows == 0 || bytes < SLAB_TARGET)) {
        /* The indices of the selection that fall into the current chunk. */
        int64_t i0 = cli_box_index(b, a, s->done);
        int64_t c = i0 / s->chunk, n;
        if (b->list && b->list[a]) {
            n = 1;
            while (s->done + n < count && cli_box_index(b, a, s->done + n) / s->chunk == c)
                n++;
        } else if (step > 0) {
            int64_t last = (c + 1) * s->chunk - 1;
            n = (last - i0) / step + 1;
        } else {
            int64_t lowest = c * s->chunk;
            n = (i0 - lowest) / -step + 1;
        }
        if (n > count - s->done)
            n = count - s->done;
        if (rows && bytes + n * row_bytes > SLAB_TARGET * 2)
            break;
        rows += n;
        bytes += n * row_bytes;
        s->done += n;
    }
    return rows;
}

/* ---- .npy headers --------------------------------------------------------------------------- */

static int write_npy_header(FILE *out, const zarrc_dtype_info *dt, const cli_box *box)
{
    char descr[64];
    if (cli_npy_descr(descr, sizeof descr, dt))
        return cli_fail("--npy: data type '%s' has no NumPy equivalent", dt->name);
    char *dict = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&dict, &len);
    if (!m)
        return cli_fail("out of memory");
    fprintf(m, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int d = 0; d < box->out_ndim; d++)
        fprintf(m, "%s%lld", d ? ", " : "", (long long)box->out_shape[d]);
    fputs(box->out_ndim == 1 ? ",), }" : "), }", m);
    fclose(m);
    if (!dict)
        return cli_fail("out of memory");
    int v2 = len + 1 + 10 + 64 > 65535;
    size_t pre = v2 ? 12 : 10, total = pre + len + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = len + pad + 1;
    unsigned char head[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', (unsigned char)(v2 ? 2 : 1), 0};
    if (v2) {
        for (int i = 0; i < 4; i++)
            head[8 + i] = (unsigned char)(hlen >> (8 * i));
    } else {
        head[8] = (unsigned char)hlen;
        head[9] = (unsigned char)(hlen >> 8);
    }
    int ok = fwrite(head, 1, pre, out) == pre && fwrite(dict, 1, len, out) == len;
    for (size_t i = 0; ok && i < pad; i++)
        ok = fputc(' ', out) != EOF;
    ok = ok && fputc('\n', out) != EOF;
    free(dict);
    return ok ? 0 : cli_fail("writing the .npy header: %s", strerror(errno));
}

/* The quoted or bare value after 'key': in a header dict; NULL if missing. */
static const char *dict_value(const char *dict, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(dict, pat);
    if (!p) {
        snprintf(pat, sizeof pat, "\"%s\"", key);
        p = strstr(dict, pat);
    }
    if (!p)
        return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

/* Read a .npy header; check its data type and shape against the selection. *swap is set when
 * the file's byte order differs from little-endian. */
static int read_npy_header(FILE *in, const char *src, const zarrc_dtype_info *dt, const cli_box *box, int *swap)
{
    unsigned char head[12];
    *swap = 0;
    if (fread(head, 1, 8, in) != 8 || memcmp(head, "\x93NUMPY", 6))
        return cli_fail("%s: not a .npy file (no \\x93NUMPY magic)", src);
    int major = head[6];
    size_t hlen;
    if (major == 1) {
        if (fread(head + 8, 1, 2, in) != 2)
            return cli_fail("%s: truncated .npy header", src);
        hlen = (size_t)head[8] | (size_t)head[9] << 8;
    } else if (major == 2 || major == 3) {
        if (fread(head + 8, 1, 4, in) != 4)
            return cli_fail("%s: truncated .npy header", src);
        hlen = (size_t)head[8] | (size_t)head[9] << 8 | (size_t)head[10] << 16 | (size_t)head[11] << 24;
    } else
        return cli_fail("%s: .npy format version %d.%d is not supported (1, 2 and 3 are)", src, major, head[7]);
    if (hlen > NPY_MAX_HEADER)
        return cli_fail("%s: .npy header of %zu bytes is too large", src, hlen);
    char *dict = malloc(hlen + 1);
    if (!dict)
        return cli_fail("out of memory");
    if (fread(dict, 1, hlen, in) != hlen) {
        free(dict);
        return cli_fail("%s: truncated .npy header", src);
    }
    dict[hlen] = 0;
    int rc = 0;
    char want[64];
    const char *d = dict_value(dict, "descr"), *f = dict_value(dict, "fortran_order"),
               *s = dict_value(dict, "shape");
    if (cli_npy_descr(want, sizeof want, dt)) {
        rc = cli_fail("--npy: data type '%s' has no NumPy equivalent", dt->name);
    } else if (!d || (*d != '\'' && *d != '"') || !f || !s || *s != '(') {
        rc = cli_fail("%s: malformed .npy header (needs descr, fortran_order and shape): %.200s", src, dict);
    } else {
        char q = *d++;
        const char *e = strchr(d, q);
        size_t dl = e ? (size_t)(e - d) : 0;
        char got[64];
        snprintf(got, sizeof got, "%.*s", dl < 63 ? (int)dl : 63, d);
        char order = strchr("<>|=", got[0]) ? got[0] : '=';
        const char *gbody = strchr("<>|=", got[0]) ? got + 1 : got;
        if (!e || strcmp(gbody, want + 1)) {
            rc = cli_fail("%s: .npy data type '%s' does not match the array's '%s' (%s)", src, got, want, dt->name);
        } else if (!strncmp(f, "True", 4)) {
            rc = cli_fail("%s: Fortran-order .npy files are not supported (save with C order, e.g. "
                          "np.ascontiguousarray)", src);
        } else {
            *swap = cli_swap_width(dt) > 1 && (order == '>' || (order == '=' && !cli_host_little_endian()));
            /* shape */
            const char *p = s + 1;
            int nd = 0, mismatch = 0;
            for (;;) {
                while (*p == ' ')
                    p++;
                if (*p == ')')
                    break;
                char *end;
                errno = 0;
                long long v = strtoll(p, &end, 10);
                if (end == p || errno) {
                    rc = cli_fail("%s: malformed .npy shape: %.100s", src, s);
                    break;
                }
                if (nd >= box->out_ndim || v != box->out_shape[nd])
                    mismatch = 1;
                nd++;
                p = end;
                while (*p == ' ')
                    p++;
                if (*p == ',')
                    p++;
            }
            if (!rc && (mismatch || nd != box->out_ndim)) {
                char sel[256] = "(";
                size_t o = 1;
                for (int i = 0; i < box->out_ndim && o < sizeof sel - 24; i++)
                    o += (size_t)snprintf(sel + o, sizeof sel - o, "%s%lld", i ? ", " : "",
                                          (long long)box->out_shape[i]);
                snprintf(sel + o, sizeof sel - o, box->out_ndim == 1 ? ",)" : ")");
                const char *close = strchr(s, ')');
                rc = cli_fail("%s: .npy shape %.*s does not match the selection's shape %s", src,
                              close ? (int)(close - s + 1) : 40, s, sel);
            }
        }
    }
    free(dict);
    return rc;
}

/* ---- get / put ------------------------------------------------------------------------------ */

static int slab_buffer(void **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    void *b = realloc(*buf, need ? need : 1);
    if (!b)
        return -1;
    *buf = b;
    *cap = need;
    return 0;
}

int cli_stream_get(FILE *out, int npy, zarrc_array *arr, const cli_box *box, const char *node, int quiet)
{
    const zarrc_dtype_info *dt = zarrc_array_dtype(arr);
    if (npy && write_npy_header(out, dt, box))
        return CLI_EXIT_FAIL;
    if (box->nelem == 0)
        return 0;
    slabber s;
    slabber_init(&s, box, arr);
    void *buf = NULL;
    size_t cap = 0;
    uint64_t bytes_done = 0, slabs = 0;
    int rc = 0;
    cli_progress prog;
    slabber probe = s;
    uint64_t nslabs = 0;
    for (int64_t f0; box->nelem > 0 && slabber_next(&probe, &f0) > 0;)
        nslabs++;
    cli_progress_start(&prog, "get", "slabs", nslabs, quiet);
    int64_t first, rows;
    while (!rc && (rows = slabber_next(&s, &first)) > 0) {
        int64_t n = s.axis >= 0 ? rows * s.row_elems : box->nelem;
        size_t nbytes = (size_t)n * dt->item_size; /* <= the selection's size, checked by the caller */
        if (slab_buffer(&buf, &cap, nbytes)) {
            rc = cli_fail("'%s': cannot allocate %zu bytes for a slab", node, nbytes);
            break;
        }
        int lr = cli_box_io(arr, box, s.axis, first, rows, buf, nbytes, 0);
        if (lr) {
            rc = cli_fail_lib(lr, "reading '%s'", node);
            break;
        }
        if (!cli_host_little_endian())
            cli_swap_units(buf, nbytes, cli_swap_width(dt));
        if (fwrite(buf, 1, nbytes, out) != nbytes) {
            rc = cli_fail("writing the output: %s", strerror(errno));
            break;
        }
        bytes_done += nbytes;
        cli_progress_update(&prog, ++slabs, bytes_done);
    }
    cli_progress_end(&prog);
    free(buf);
    return rc;
}

int cli_stream_put(FILE *in, const char *src, int npy, zarrc_array *arr, const cli_box *box, const char *node,
                   int quiet)
{
    const zarrc_dtype_info *dt = zarrc_array_dtype(arr);
    int swap = !cli_host_little_endian();
    if (npy && read_npy_header(in, src, dt, box, &swap))
        return CLI_EXIT_FAIL;
    if (npy && !cli_host_little_endian())
        swap = !swap;
    slabber s;
    slabber_init(&s, box, arr);
    void *buf = NULL;
    size_t cap = 0;
    uint64_t bytes_done = 0, slabs = 0;
    uint64_t total = (uint64_t)box->nelem * dt->item_size;
    int rc = 0;
    cli_progress prog;
    slabber probe = s;
    uint64_t nslabs = 0;
    for (int64_t f0; box->nelem > 0 && slabber_next(&probe, &f0) > 0;)
        nslabs++;
    cli_progress_start(&prog, "put", "slabs", nslabs, quiet);
    int64_t first, rows;
    while (box->nelem > 0 && !rc && (rows = slabber_next(&s, &first)) > 0) {
        int64_t n = s.axis >= 0 ? rows * s.row_elems : box->nelem;
        size_t nbytes = (size_t)n * dt->item_size;
        if (slab_buffer(&buf, &cap, nbytes)) {
            rc = cli_fail("'%s': cannot allocate %zu bytes for a slab", node, nbytes);
            break;
        }
        size_t got = fread(buf, 1, nbytes, in);
        if (ferror(in)) {
            rc = cli_fail("%s: read error: %s", src, strerror(errno));
            break;
        }
        if (got < nbytes) {
            rc = cli_fail("%s: expected %llu bytes (%lld values of %s), got %llu%s", src, (unsigned long long)total,
                          (long long)box->nelem, dt->name, (unsigned long long)(bytes_done + got),
                          bytes_done ? " (the slabs before were written)" : "");
            break;
        }
        int last = s.axis < 0 || s.done >= box->count[s.axis];
        if (last && fgetc(in) != EOF) { /* checked before the last (often the only) slab is written */
            rc = cli_fail("%s: expected %llu bytes (%lld values of %s), got more%s", src, (unsigned long long)total,
                          (long long)box->nelem, dt->name, bytes_done ? " (the slabs before were written)" : "");
            break;
        }
        if (swap)
            cli_swap_units(buf, nbytes, cli_swap_width(dt));
        int lw = cli_box_io(arr, box, s.axis, first, rows, buf, nbytes, 1);
        if (lw) {
            rc = cli_fail_lib(lw, "writing '%s'", node);
            break;
        }
        bytes_done += nbytes;
        cli_progress_update(&prog, ++slabs, bytes_done);
    }
    if (!rc && box->nelem == 0 && fgetc(in) != EOF)
        rc = cli_fail("%s: expected 0 bytes (0 values of %s), got more", src, dt->name);
    cli_progress_end(&prog);
    free(buf);
    return rc;
}

int cli_stream_fill(zarrc_array *arr, const cli_box *box, const char *value, const char *node, int quiet)
{
    const zarrc_dtype_info *dt = zarrc_array_dtype(arr);
    if (cli_dtype_is_vlen(dt))
        return cli_fail("'%s': --value needs a fixed-size data type, '%s' is variable-length (use --json)",
                        node, dt->name);
    /* The one value, converted as put --json converts values. */
    size_t item = dt->item_size;
    void *one = calloc(1, item ? item : 1);
    if (!one)
        return cli_fail("out of memory");
    FILE *f = fmemopen((void *)value, strlen(value), "r");
    int rc = f ? cli_data_read_json(f, "--value", dt, one, 1, 0, NULL) : cli_fail("out of memory");
    if (f)
        fclose(f);
    if (rc) {
        free(one);
        return CLI_EXIT_FAIL;
    }
    slabber s;
    slabber_init(&s, box, arr);
    void *buf = NULL;
    size_t cap = 0, filled = 0;
    uint64_t bytes_done = 0, slabs = 0;
    slabber probe = s;
    uint64_t nslabs = 0;
    for (int64_t f0; box->nelem > 0 && slabber_next(&probe, &f0) > 0;)
        nslabs++;
    cli_progress prog;
    cli_progress_start(&prog, "put", "slabs", nslabs, quiet);
    int64_t first, rows;
    while (box->nelem > 0 && !rc && (rows = slabber_next(&s, &first)) > 0) {
        int64_t n = s.axis >= 0 ? rows * s.row_elems : box->nelem;
        size_t nbytes = (size_t)n * item;
        if (slab_buffer(&buf, &cap, nbytes)) {
            rc = cli_fail("'%s': cannot allocate %zu bytes for a slab", node, nbytes);
            break;
        }
        for (; filled < nbytes; filled += item) /* the buffer only grows: fill the new part */
            memcpy((char *)buf + filled, one, item);
        int lw = cli_box_io(arr, box, s.axis, first, rows, buf, nbytes, 1);
        if (lw) {
            rc = cli_fail_lib(lw, "writing '%s'", node);
            break;
        }
        bytes_done += nbytes;
        cli_progress_update(&prog, ++slabs, bytes_done);
    }
    cli_progress_end(&prog);
    free(buf);
    free(one);
    return rc;
}
