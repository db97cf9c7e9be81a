/*
 * cli_select.c — numpy-style selections ("0:10,:,5", "::2,-3:") for get and put.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *skip_ws(const char *s, const char *end)
{
    while (s < end && isspace((unsigned char)*s))
        s++;
    return s;
}

/* Parse an optional integer in [s, end) (whitespace around allowed). *present = 0 if empty. */
static int parse_int(const char *s, const char *end, int64_t *v, int *present, const char *what,
                     int dim, char *err, size_t errlen)
{
    s = skip_ws(s, end);
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    *present = 0;
    if (s == end)
        return 0;
    int len = end - s > 40 ? 40 : (int)(end - s);
    const char *more = end - s > 40 ? "..." : "";
    switch (cli_parse_int64(s, end, v)) {
    case CLI_INT_OK:
        *present = 1;
        return 0;
    case CLI_INT_RANGE:
        snprintf(err, errlen, "%s '%.*s%s' in dimension %d is out of range", what, len, s, more, dim);
        return -1;
    default:
        snprintf(err, errlen, "invalid %s '%.*s%s' in dimension %d (expected an integer)", what, len, s, more,
                 dim);
        return -1;
    }
}

static int parse_list(cli_sel_dim *d, const char *s, const char *end, int dim, char *err, size_t errlen)
{
    /* [s, end) is "[i, j, ...]" */
    s++;
    end--;
    size_t cap = 1;
    for (const char *p = s; p < end; p++)
        cap += *p == ',';
    d->is_list = 1;
    d->list = calloc(cap, sizeof *d->list);
    if (!d->list) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (skip_ws(s, end) == end)
        return 0; /* [] selects nothing */
    for (;;) {
        const char *c = memchr(s, ',', (size_t)(end - s));
        const char *e = c ? c : end;
        int present;
        if (parse_int(s, e, &d->list[d->nlist], &present, "list index", dim, err, errlen))
            return -1;
        if (!present) {
            snprintf(err, errlen, "empty entry in the index list of dimension %d", dim);
            return -1;
        }
        d->nlist++;
        if (!c)
            return 0;
        s = c + 1;
    }
}

static int parse_component(cli_sel_dim *d, const char *s, const char *end, int dim, char *err,
                           size_t errlen)
{
    memset(d, 0, sizeof *d);
    d->step = 1;
    const char *a = skip_ws(s, end), *b = end;
    while (b > a && isspace((unsigned char)b[-1]))
        b--;
    if (b - a == 3 && !memcmp(a, "...", 3)) {
        d->is_ellipsis = 1;
        return 0;
    }
    if (b > a && *a == '[') {
        if (b[-1] != ']' || memchr(a + 1, '[', (size_t)(b - a - 1)) || memchr(a, ']', (size_t)(b - a - 1))) {
            snprintf(err, errlen, "malformed index list in dimension %d (expected [i, j, ...])", dim);
            return -1;
        }
        return parse_list(d, a, b, dim, err, errlen);
    }
    const char *c1 = memchr(s, ':', (size_t)(end - s));
    if (!c1) {
        int present;
        if (parse_int(s, end, &d->start, &present, "index", dim, err, errlen))
            return -1;
        if (!present) {
            snprintf(err, errlen, "empty selection for dimension %d (use ':' for all)", dim);
            return -1;
        }
        d->is_index = 1;
        return 0;
    }
    const char *c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1));
    const char *stop_end = c2 ? c2 : end;
    if (c2 && memchr(c2 + 1, ':', (size_t)(end - c2 - 1))) {
        snprintf(err, errlen, "too many ':' in dimension %d", dim);
        return -1;
    }
    if (parse_int(s, c1, &d->start, &d->has_start, "slice start", dim, err, errlen) ||
        parse_int(c1 + 1, stop_end, &d->stop, &d->has_stop, "slice stop", dim, err, errlen))
        return -1;
    if (c2) {
        int present;
        int64_t step;
        if (parse_int(c2 + 1, end, &step, &present, "step", dim, err, errlen))
            return -1;
        if (present) {
            if (step == 0) {
                snprintf(err, errlen, "step must not be zero (dimension %d)", dim);
                return -1;
            }
            if (step == INT64_MIN) {
                snprintf(err, errlen, "step %lld in dimension %d is out of range", (long long)step, dim);
                return -1;
            }
            d->step = step;
        }
    }
    return 0;
}

int cli_select_parse(cli_selection *sel, const char *text, char *err, size_t errlen)
{
    memset(sel, 0, sizeof *sel);
    const char *end = text + strlen(text);
    if (skip_ws(text, end) == end)
        return 0; /* empty: everything (and the only selection of a 0-d array) */
    /* Entries are separated by commas outside [...] (index lists). */
    int n = 1, depth = 0;
    for (const char *p = text; *p; p++) {
        depth += (*p == '[') - (*p == ']');
        if (depth < 0 || depth > 1) {
            snprintf(err, errlen, "unbalanced or nested '[' ']' in the selection");
            return -1;
        }
        n += *p == ',' && depth == 0;
    }
    if (depth) {
        snprintf(err, errlen, "unbalanced or nested '[' ']' in the selection");
        return -1;
    }
    sel->dims = calloc((size_t)n, sizeof *sel->dims);
    if (!sel->dims) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *s = text;
    int ellipses = 0;
    for (int d = 0; d < n; d++) {
        const char *e = s;
        for (int dep = 0; *e && (*e != ',' || dep); e++)
            dep += (*e == '[') - (*e == ']');
        sel->ndim = d + 1; /* what cli_select_free releases */
        if (parse_component(&sel->dims[d], s, e, d, err, errlen)) {
            cli_select_free(sel);
            return -1;
        }
        if (sel->dims[d].is_ellipsis && ++ellipses > 1) {
            snprintf(err, errlen, "more than one '...' in the selection");
            cli_select_free(sel);
            return -1;
        }
        s = *e ? e + 1 : e;
    }
    sel->ndim = n;
    return 0;
}

void cli_select_free(cli_selection *sel)
{
    if (!sel)
        return;
    for (int d = 0; d < sel->ndim && sel->dims; d++)
        free(sel->dims[d].list);
    free(sel->dims);
    memset(sel, 0, sizeof *sel);
}

static int64_t clip_bound(int64_t v, int64_t n)
{
    if (v < 0) {
        v += n;
        return v < 0 ? 0 : v;
    }
    return v > n ? n : v;
}

/* A bound of a slice with a negative step: in [-1, n - 1]. */
static int64_t clip_bound_neg(int64_t v, int64_t n)
{
    if (v < 0) {
        v += n;
        return v < 0 ? -1 : v;
    }
    return v >= n ? n - 1 : v;
}

int cli_select_resolve(cli_box *box, const cli_selection *sel, int ndim, const int64_t *shape,
                       char *err, size_t errlen)
{
    memset(box, 0, sizeof *box);
    int sdim = sel ? sel->ndim : 0, ell = -1;
    for (int d = 0; d < sdim; d++)
        if (sel->dims[d].is_ellipsis)
            ell = d;
    int given = ell >= 0 ? sdim - 1 : sdim; /* entries other than '...' */
    if (ell >= 0 && given <= ndim)
        sdim = ndim; /* '...' stands for as many ':' as needed */
    else if (ell >= 0)
        sdim = given;
    if (sdim > ndim) {
        if (ndim == 0)
            snprintf(err, errlen, "the array is 0-dimensional: use an empty selection "
                     "(got %d dimensions)", sdim);
        else
            snprintf(err, errlen, "too many indices: the selection has %d dimensions but the "
                     "array has %d", sdim, ndim);
        return -1;
    }
    size_t m = (size_t)(ndim > 0 ? ndim : 1);
    box->start = calloc(m, sizeof(int64_t));
    box->count = calloc(m, sizeof(int64_t));
    box->step = calloc(m, sizeof(int64_t));
    box->out_shape = calloc(m, sizeof(int64_t));
    box->list = calloc(m, sizeof(int64_t *));
    if (!box->start || !box->count || !box->step || !box->out_shape || !box->list) {
        cli_box_free(box);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    box->ndim = ndim;
    box->nelem = 1;
    for (int d = 0; d < ndim; d++) {
        int64_t n = shape[d];
        cli_sel_dim all = {0};
        all.step = 1;
        /* The selection entry of dimension d: entries after '...' align to the last dimensions. */
        const cli_sel_dim *s = &all;
        if (ell < 0)
            s = d < sdim ? &sel->dims[d] : &all;
        else if (d < ell)
            s = &sel->dims[d];
        else if (d >= ndim - (given - ell))
            s = &sel->dims[d - (ndim - given) + 1];
        box->step[d] = 1;
        if (s->is_list) {
            int64_t *l = malloc((size_t)(s->nlist ? s->nlist : 1) * sizeof *l);
            if (!l) {
                cli_box_free(box);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            for (int64_t k = 0; k < s->nlist; k++) {
                int64_t i = s->list[k] < 0 ? s->list[k] + n : s->list[k];
                if (i < 0 || i >= n) {
                    snprintf(err, errlen, "list index %lld is out of bounds for dimension %d with size %lld",
                             (long long)s->list[k], d, (long long)n);
                    free(l);
                    cli_box_free(box);
                    return -1;
                }
                l[k] = i;
            }
            box->list[d] = l;
            box->count[d] = s->nlist;
            box->start[d] = s->nlist ? l[0] : 0;
            box->out_shape[box->out_ndim++] = s->nlist;
            continue;
        }
        if (s->is_index) {
            int64_t i = s->start;
            if (i < 0)
                i += n;
            if (i < 0 || i >= n) {
                snprintf(err, errlen, "index %lld is out of bounds for dimension %d with size "
                         "%lld", (long long)s->start, d, (long long)n);
                cli_box_free(box);
                return -1;
            }
            box->start[d] = i;
            box->count[d] = 1;
            continue;
        }
        int64_t a, b, c;
        if (s->step > 0) {
            a = s->has_start ? clip_bound(s->start, n) : 0;
            b = s->has_stop ? clip_bound(s->stop, n) : n;
            c = b > a ? (b - a - 1) / s->step + 1 : 0;
        } else { /* Python's slice.indices for negative steps: from a down to (not incl.) b */
            a = s->has_start ? clip_bound_neg(s->start, n) : n - 1;
            b = s->has_stop ? clip_bound_neg(s->stop, n) : -1;
            c = a > b ? (int64_t)(((uint64_t)a - (uint64_t)b - 1) / (uint64_t)(-s->step) + 1) : 0;
        }
        box->start[d] = c ? a : 0;
        box->count[d] = c;
        box->step[d] = s->step;
        box->out_shape[box->out_ndim++] = c;
    }
    /* The element count: 0 if any axis is empty, else the product, which must fit. */
    for (int d = 0; d < ndim; d++)
        if (box->count[d] == 0) {
            box->nelem = 0;
            return 0;
        }
    for (int d = 0; d < ndim; d++)
        if (__builtin_mul_overflow(box->nelem, box->count[d], &box->nelem)) {
            snprintf(err, errlen, "selection is too large (more than 2^63 elements)");
            cli_box_free(box);
            return -1;
        }
    return 0;
}

void cli_box_free(cli_box *box)
{
    if (!box)
        return;
    free(box->start);
    free(box->count);
    free(box->step);
    free(box->out_shape);
    for (int d = 0; box->list && d < (box->ndim > 0 ? box->ndim : 1); d++)
        free(box->list[d]);
    free(box->list);
    memset(box, 0, sizeof *box);
}

/* ------------------------------------------------------------------------------------------ */
/* Reading and writing any resolved selection                                                  */
/* ------------------------------------------------------------------------------------------ */

int64_t cli_box_index(const cli_box *b, int d, int64_t j)
{
    return b->list && b->list[d] ? b->list[d][j] : b->start[d] + j * b->step[d];
}

int cli_box_is_simple(const cli_box *b)
{
    for (int d = 0; d < b->ndim; d++)
        if ((b->list && b->list[d]) || (b->step[d] <= 0 && b->count[d] > 1))
            return 0;
    return 1;
}

/* A run of selected indices with one constant step: output positions [j0, j0 + n) of the
 * region hold array indices i0, i0 + s, ... */
typedef struct sel_run {
    int64_t j0, n, i0, s;
} sel_run;

/* The runs of dimension d over output positions [off, off + len). Returns the count (*runs
 * malloc'd) or -1. */
static int64_t dim_runs(const cli_box *b, int d, int64_t off, int64_t len, sel_run **runs)
{
    int is_list = b->list && b->list[d];
    *runs = malloc((size_t)(is_list && len > 0 ? len : 1) * sizeof **runs);
    if (!*runs)
        return -1;
    if (!is_list) {
        (*runs)[0] = (sel_run){0, len, cli_box_index(b, d, off), len > 1 ? b->step[d] : 1};
        return 1;
    }
    int64_t nr = 0;
    for (int64_t j = 0; j < len;) {
        int64_t i0 = cli_box_index(b, d, off + j), n = 1, s = 1;
        if (j + 1 < len) {
            s = cli_box_index(b, d, off + j + 1) - i0; /* both in [0, shape): no overflow */
            if (s != 0)
                while (j + n < len && cli_box_index(b, d, off + j + n) - cli_box_index(b, d, off + j + n - 1) == s)
                    n++;
            else
                s = 1;
        }
        (*runs)[nr++] = (sel_run){j, n, i0, s};
        j += n;
    }
    return nr;
}

int cli_box_io(zarrc_array *arr, const cli_box *b, int axis, int64_t first, int64_t rows, void *buf,
               size_t nbytes, int write)
{
    int nd = b->ndim, m = nd > 0 ? nd : 1;
    size_t item = zarrc_array_dtype(arr)->item_size;
    int64_t *lo = calloc((size_t)m * 7, sizeof *lo);
    sel_run **runs = calloc((size_t)m, sizeof *runs);
    if (!lo || !runs) {
        free(lo);
        free(runs);
        return ZARRC_ENOMEM;
    }
    int64_t *len = lo + m, *nruns = lo + 2 * m, *ostr = lo + 3 * m, *cur = lo + 4 * m, *start = lo + 5 * m,
            *count = lo + 6 * m;
    int rc = ZARRC_OK, simple = 1;
    for (int d = 0; d < nd; d++) {
        lo[d] = d == axis ? first : 0;
        len[d] = d == axis ? rows : b->count[d];
    }
    for (int d = nd - 1; d >= 0; d--)
        ostr[d] = d == nd - 1 ? 1 : ostr[d + 1] * len[d + 1];
    for (int d = 0; d < nd; d++)
        if (len[d] == 0) { /* nothing selected */
            free(lo);
            free(runs);
            return ZARRC_OK;
        }
    for (int d = 0; d < nd && rc == ZARRC_OK; d++) {
        nruns[d] = dim_runs(b, d, lo[d], len[d], &runs[d]);
        if (nruns[d] < 0)
            rc = ZARRC_ENOMEM;
        else if (nruns[d] != 1 || runs[d][0].s <= 0)
            simple = 0;
    }
    void *tmp = NULL;
    if (rc == ZARRC_OK && simple) {
        for (int d = 0; d < nd; d++) {
            start[d] = runs[d][0].i0;
            count[d] = runs[d][0].n;
            cur[d] = runs[d][0].s;
        }
        rc = write ? zarrc_array_write(arr, start, count, cur, buf, nbytes)
                   : zarrc_array_read(arr, start, count, cur, buf, nbytes);
        goto done;
    }
    if (rc == ZARRC_OK && !(tmp = malloc(nbytes ? nbytes : 1)))
        rc = ZARRC_ENOMEM;
    for (int d = 0; d < nd; d++)
        cur[d] = 0;
    while (rc == ZARRC_OK) {
        /* The sub-box of the current run of every dimension, with positive steps. */
        int64_t n = 1;
        int64_t step[m];
        for (int d = 0; d < nd; d++) {
            const sel_run *r = &runs[d][cur[d]];
            start[d] = r->s > 0 ? r->i0 : r->i0 + (r->n - 1) * r->s;
            count[d] = r->n;
            step[d] = r->s > 0 ? r->s : -r->s;
            n *= r->n;
        }
        size_t sub = (size_t)n * item;
        if (!write)
            rc = zarrc_array_read(arr, start, count, step, tmp, sub);
        /* Element k of the sub-box (C order) <-> its place in buf. */
        int64_t k[m];
        for (int d = 0; d < nd; d++)
            k[d] = 0;
        for (int64_t e = 0; rc == ZARRC_OK && e < n; e++) {
            int64_t off = 0;
            for (int d = 0; d < nd; d++) {
                const sel_run *r = &runs[d][cur[d]];
                off += (r->j0 + (r->s > 0 ? k[d] : r->n - 1 - k[d])) * ostr[d];
            }
            if (write)
                memcpy((char *)tmp + (size_t)e * item, (char *)buf + (size_t)off * item, item);
            else
                memcpy((char *)buf + (size_t)off * item, (char *)tmp + (size_t)e * item, item);
            for (int d = nd - 1; d >= 0; d--) {
                if (++k[d] < count[d])
                    break;
                k[d] = 0;
            }
        }
        if (rc == ZARRC_OK && write)
            rc = zarrc_array_write(arr, start, count, step, tmp, sub);
        int d = nd - 1;
        for (; d >= 0; d--) {
            if (++cur[d] < nruns[d])
                break;
            cur[d] = 0;
        }
        if (d < 0)
            break;
    }
done:
    free(tmp);
    for (int d = 0; d < nd; d++)
        free(runs[d]);
    free(runs);
    free(lo);
    return rc;
}
