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

static int parse_component(cli_sel_dim *d, const char *s, const char *end, int dim, char *err,
                           size_t errlen)
{
    const char *c1 = memchr(s, ':', (size_t)(end - s));
    memset(d, 0, sizeof *d);
    d->step = 1;
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
            if (step < 0) {
                snprintf(err, errlen, "negative step %lld in dimension %d is not supported "
                         "(steps must be > 0)", (long long)step, dim);
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
    int n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    sel->dims = calloc((size_t)n, sizeof *sel->dims);
    if (!sel->dims) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *s = text;
    for (int d = 0; d < n; d++) {
        const char *comma = strchr(s, ',');
        const char *e = comma ? comma : end;
        if (parse_component(&sel->dims[d], s, e, d, err, errlen)) {
            cli_select_free(sel);
            return -1;
        }
        s = e + 1;
    }
    sel->ndim = n;
    return 0;
}

void cli_select_free(cli_selection *sel)
{
    if (!sel)
        return;
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

int cli_select_resolve(cli_box *box, const cli_selection *sel, int ndim, const int64_t *shape,
                       char *err, size_t errlen)
{
    memset(box, 0, sizeof *box);
    int sdim = sel ? sel->ndim : 0;
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
    if (!box->start || !box->count || !box->step || !box->out_shape) {
        cli_box_free(box);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    box->ndim = ndim;
    box->nelem = 1;
    for (int d = 0; d < ndim; d++) {
        int64_t n = shape[d];
        cli_sel_dim all = {0, 0, 0, 0, 0, 1};
        const cli_sel_dim *s = d < sdim ? &sel->dims[d] : &all;
        box->step[d] = 1;
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
        int64_t a = s->has_start ? clip_bound(s->start, n) : 0;
        int64_t b = s->has_stop ? clip_bound(s->stop, n) : n;
        int64_t c = b > a ? (b - a - 1) / s->step + 1 : 0;
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
    memset(box, 0, sizeof *box);
}
