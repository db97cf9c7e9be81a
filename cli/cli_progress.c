/*
 * cli_progress.c — the progress line verbs draw on stderr when it is a terminal (never on a
 * pipe or a file, never with --quiet): units (chunks) and bytes done, MB/s and the ETA.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_progress_start(cli_progress *p, const char *label, const char *unit, uint64_t total_units, int quiet)
{
    memset(p, 0, sizeof *p);
    p->enabled = !quiet && isatty(STDERR_FILENO);
    p->label = label;
    p->unit = unit;
    p->started = cli_now();
    p->total_units = total_units;
}

void cli_progress_update(cli_progress *p, uint64_t units, uint64_t bytes)
{
    if (!p->enabled)
        return;
    double t = cli_now();
    if (units < p->total_units && t - p->last < 0.1)
        return;
    p->last = t;
    double el = t - p->started;
    char h[32], rate[48], eta[32] = "";
    /* With bytes: the bytes done and MB/s; without (a copy counts chunks only): chunks/s. */
    if (bytes) {
        char hb[32];
        cli_format_bytes(hb, sizeof hb, bytes);
        snprintf(h, sizeof h, ", %s", hb);
        snprintf(rate, sizeof rate, "%.1f MB/s", el > 0 ? (double)bytes / el / 1e6 : 0.0);
    } else {
        h[0] = 0;
        snprintf(rate, sizeof rate, "%.0f %s/s", el > 0 ? (double)units / el : 0.0, p->unit);
    }
    if (p->total_units && units && units < p->total_units && el > 0.5) {
        double left = el * (double)(p->total_units - units) / (double)units;
        snprintf(eta, sizeof eta, ", ETA %.0fs", left);
    }
    if (p->total_units)
        fprintf(stderr, "\r%s: %llu/%llu %s (%.0f%%)%s, %s%s\033[K", p->label, (unsigned long long)units,
                (unsigned long long)p->total_units, p->unit, 100.0 * (double)units / (double)p->total_units, h,
                rate, eta);
    else
        fprintf(stderr, "\r%s: %llu %s%s, %s\033[K", p->label, (unsigned long long)units, p->unit, h, rate);
    fflush(stderr);
}

void cli_progress_end(cli_progress *p)
{
    if (p->enabled && p->last > 0) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->enabled = 0;
}
