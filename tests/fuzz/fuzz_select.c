/*
 * Fuzz target: selections. The input is an array shape and chunk shape (binary, any int64
 * values) followed by a selection text, parsed and resolved the way 'zarrc get --select'
 * does (cli_select.c), then planned over the chunk grid (zarrc__plan_make) — and the raw
 * start/count/step values from the input are planned too, as zarrc_array_read would get
 * them. Every plan that is accepted is checked element by element: its runs must cover the
 * selection exactly, in order, inside their chunks. Nothing may crash, overflow or allocate
 * without bound.
 *
 * Input layout: byte 0 = ndim (mod 5), then per dimension 8 bytes shape, 8 bytes chunks,
 * 8 bytes start, 8 bytes count, 8 bytes step (little-endian, missing bytes are 0), then the
 * selection text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grid/grid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs allocated by one plan stay below this (a plan holds one run per touched chunk per
 * dimension, at most the count of selected elements along it). */
#define MAX_COUNT ((int64_t)1 << 16)

static int64_t take(const uint8_t **p, const uint8_t *end)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)(*p < end ? *(*p)++ : 0) << (8 * i);
    return (int64_t)v;
}

static void check(int ok)
{
    if (!ok)
        abort();
}

/* The plan must describe exactly start + k * step for k < count along every dimension. */
static void verify(const zarrc__plan *p, int ndim, const int64_t *chunks, const int64_t *start,
                   const int64_t *count, const int64_t *step)
{
    size_t tasks = 1;
    for (int d = 0; d < ndim; d++) {
        if (count[d] == 0) {
            check(p->ntasks == 0);
            return;
        }
    }
    for (int d = 0; d < ndim; d++) {
        int64_t s = step ? step[d] : 1, pos = 0, prev = -1;
        for (size_t r = 0; r < p->nruns[d]; r++) {
            const zarrc__run *run = &p->runs[d][r];
            check(run->n >= 1 && run->sel_pos == pos && run->chunk > prev);
            check(run->offset >= 0 && run->offset < chunks[d]);
            /* first element: chunk * c + offset == start + pos * step (exact, in 128 bits) */
            __int128 at = (__int128)run->chunk * chunks[d] + run->offset;
            check(at == (__int128)start[d] + (__int128)pos * s);
            /* last element still inside the chunk */
            check((__int128)run->offset + (__int128)(run->n - 1) * zarrc__run_step(p, d, run) < chunks[d]);
            pos += run->n;
            prev = run->chunk;
        }
        check(pos == count[d]);
        tasks *= p->nruns[d];
    }
    check(tasks == p->ntasks);
}

static void plan(int ndim, const int64_t *shape, const int64_t *chunks, const int64_t *start, const int64_t *count,
                 const int64_t *step)
{
    for (int d = 0; d < ndim; d++)
        if (count[d] > MAX_COUNT)
            return;
    zarrc__plan p;
    if (zarrc__plan_make(&p, ndim, shape, chunks, start, count, step) == ZARRC_OK)
        verify(&p, ndim, chunks, start, count, step);
    zarrc__plan_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    int ndim = size ? *p++ % 5 : 0;
    int64_t shape[4], chunks[4], start[4], count[4], step[4];
    for (int d = 0; d < ndim; d++) {
        shape[d] = take(&p, end);
        chunks[d] = take(&p, end);
        start[d] = take(&p, end);
        count[d] = take(&p, end);
        step[d] = take(&p, end);
        if (shape[d] < 0) /* metadata never holds negative shapes or chunks */
            shape[d] = -(shape[d] + 1);
        if (chunks[d] < 1)
            chunks[d] = chunks[d] == INT64_MIN ? INT64_MAX : chunks[d] == 0 ? 1 : -chunks[d];
    }
    /* The raw box, as an API caller could pass it (invalid ones must be refused). */
    plan(ndim, shape, chunks, start, count, step);
    plan(ndim, shape, chunks, start, count, NULL);

    /* The selection text, as --select gives it. */
    size_t n = (size_t)(end - p);
    char *text = malloc(n + 1);
    if (!text)
        return 0;
    memcpy(text, p, n);
    text[n] = 0;
    char err[256];
    cli_selection sel;
    if (cli_select_parse(&sel, text, err, sizeof err) == 0) {
        cli_box box;
        if (cli_select_resolve(&box, &sel, ndim, shape, err, sizeof err) == 0) {
            /* resolution must give a valid box of as many elements as it reports */
            __int128 nelem = 1;
            int empty = 0;
            for (int d = 0; d < ndim; d++) {
                check(box.count[d] >= 0 && box.step[d] != 0);
                if (box.list && box.list[d]) { /* an index list: every index inside the dimension */
                    for (int64_t j = 0; j < box.count[d]; j++)
                        check(box.list[d][j] >= 0 && box.list[d][j] < shape[d]);
                } else {
                    /* first and last selected index inside the dimension (steps of either sign) */
                    __int128 last = (__int128)box.start[d] + (__int128)(box.count[d] - 1) * box.step[d];
                    check(box.count[d] == 0 || (box.start[d] >= 0 && box.start[d] < shape[d] && last >= 0 &&
                                                last < shape[d]));
                }
                empty |= box.count[d] == 0;
                if (!empty && nelem <= INT64_MAX)
                    nelem *= box.count[d];
            }
            check(empty ? box.nelem == 0 : nelem == box.nelem);
            if (cli_box_is_simple(&box)) /* lists and negative steps are planned run by run */
                plan(ndim, shape, chunks, box.start, box.count, box.step);
            cli_box_free(&box);
        }
        cli_select_free(&sel);
    }
    free(text);
    return 0;
}
