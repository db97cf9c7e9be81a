/*
 * cli_args.c — the command line's syntax, without running anything or printing: a verb's
 * options and positional arguments, integers and dimension lists in option values. Messages go
 * into the caller's buffer (the verbs print them as usage errors), so the fuzz target
 * tests/fuzz/fuzz_args.c drives exactly the parser the tool uses.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_parse_int64(const char *s, const char *e, int64_t *v)
{
    int neg = s < e && *s == '-';
    if (s < e && (*s == '-' || *s == '+'))
        s++;
    if (s == e)
        return CLI_INT_SYNTAX;
    uint64_t x = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    int range = 0;
    for (; s < e; s++) {
        if (!isdigit((unsigned char)*s))
            return CLI_INT_SYNTAX;
        unsigned digit = (unsigned)(*s - '0');
        if (x > (limit - digit) / 10)
            range = 1; /* keep scanning: a later non-digit is a syntax error */
        else
            x = x * 10 + digit;
    }
    if (range)
        return CLI_INT_RANGE;
    *v = neg ? (int64_t)(0 - x) : (int64_t)x;
    return CLI_INT_OK;
}

int cli_parse_dims(const char *opt, const char *text, int64_t **out, int *n, int min_value, char *err,
                   size_t errlen)
{
    const char *s = text, *e = text + strlen(text);
    *out = NULL;
    *n = 0;
    while (s < e && isspace((unsigned char)*s))
        s++;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    if (e > s && ((*s == '[' && e[-1] == ']') || (*s == '(' && e[-1] == ')'))) {
        s++;
        e--;
    }
    const char *t = s;
    while (t < e && isspace((unsigned char)*t))
        t++;
    if (t == e)
        return 0; /* 0-d */
    size_t cap = 1;
    for (const char *p = s; p < e; p++)
        cap += *p == ',';
    if (cap > INT_MAX) {
        snprintf(err, errlen, "%s: too many dimensions", opt);
        return -1;
    }
    int64_t *v = calloc(cap, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int d = 0;
    for (;;) {
        const char *c = memchr(s, ',', (size_t)(e - s));
        const char *a = s, *b = c ? c : e;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        int len = b - a > 40 ? 40 : (int)(b - a);
        int64_t x = 0;
        int rc = cli_parse_int64(a, b, &x);
        if (rc == CLI_INT_SYNTAX)
            snprintf(err, errlen, "%s: '%.*s%s' in dimension %d is not an integer", opt, len, a,
                     b - a > 40 ? "..." : "", d);
        else if (rc == CLI_INT_RANGE || x < min_value)
            snprintf(err, errlen, "%s: %.*s%s in dimension %d is %s", opt, len, a, b - a > 40 ? "..." : "", d,
                     rc ? "out of range" : min_value ? "not positive" : "negative");
        if (rc || x < min_value) {
            free(v);
            return -1;
        }
        v[d++] = x;
        if (!c)
            break;
        s = c + 1;
    }
    *out = v;
    *n = d;
    return 0;
}

static int parse_args_seen(int argc, char **argv, const cli_opt *opts, const char **pos, int npos,
                           const char *what, char *err, size_t errlen, unsigned char *seen, int *np,
                           int *onlyp, int at_least);

static int parse_args(int argc, char **argv, const cli_opt *opts, const char **pos, int npos, const char *what,
                      char *err, size_t errlen, int *got, int at_least);

int cli_parse_args(int argc, char **argv, const cli_opt *opts, const char **pos, int npos, const char *what,
                   char *err, size_t errlen)
{
    return parse_args(argc, argv, opts, pos, npos, what, err, errlen, NULL, npos);
}

int cli_parse_args_list(int argc, char **argv, const cli_opt *opts, const char **pos, int at_least, int at_most,
                        int *npos, const char *what, char *err, size_t errlen)
{
    *npos = 0;
    return parse_args(argc, argv, opts, pos, at_most, what, err, errlen, npos, at_least);
}

static int parse_args(int argc, char **argv, const cli_opt *opts, const char **pos, int npos, const char *what,
                      char *err, size_t errlen, int *got, int at_least)
{
    int n = 0, only_positional = 0;
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return CLI_ARGS_HELP;
    /* An option given twice is refused (which of two values was meant is anybody's guess). */
    size_t nopts = 0;
    while (opts && opts[nopts].name)
        nopts++;
    unsigned char *seen = calloc(nopts ? nopts : 1, 1);
    if (!seen) {
        snprintf(err, errlen, "out of memory");
        return CLI_EXIT_USAGE;
    }
    int rc = parse_args_seen(argc, argv, opts, pos, npos, what, err, errlen, seen, &n, &only_positional, at_least);
    free(seen);
    if (got)
        *got = n;
    return rc;
}

static int parse_args_seen(int argc, char **argv, const cli_opt *opts, const char **pos, int npos,
                           const char *what, char *err, size_t errlen, unsigned char *seen, int *np,
                           int *onlyp, int at_least)
{
    int n = *np, only_positional = *onlyp;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_positional && !strcmp(a, "--")) {
            only_positional = 1;
            continue;
        }
        if (!only_positional && a[0] == '-' && a[1]) {
            /* An option; values may start with '-' ("--select -1"). */
            const char *eq = strchr(a, '=');
            size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
            const cli_opt *o = NULL;
            for (const cli_opt *p = opts; p && p->name; p++)
                if (strlen(p->name) == nlen && !strncmp(p->name, a, nlen))
                    o = p;
            if (!o) {
                snprintf(err, errlen, "unknown option '%.*s'", nlen > 200 ? 200 : (int)nlen, a);
                return CLI_EXIT_USAGE;
            }
            if (seen[o - opts]++) {
                snprintf(err, errlen, "option '%s' given twice", o->name);
                return CLI_EXIT_USAGE;
            }
            if (o->flag) {
                if (eq) {
                    snprintf(err, errlen, "option '%s' takes no value", o->name);
                    return CLI_EXIT_USAGE;
                }
                *o->flag = 1;
            } else if (eq) {
                *o->value = eq + 1;
            } else if (i + 1 < argc) {
                *o->value = argv[++i];
            } else {
                snprintf(err, errlen, "option '%s' needs a value", o->name);
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        if (n == npos) {
            snprintf(err, errlen, "unexpected argument '%s' (only %s%s %s allowed)", a, npos == 1 ? "one " : "",
                     what, npos == 1 ? "is" : "are");
            return CLI_EXIT_USAGE;
        }
        if (!*a) {
            snprintf(err, errlen, "%s must not be empty", what);
            return CLI_EXIT_USAGE;
        }
        pos[n++] = a;
    }
    *np = n;
    if (n < at_least) {
        snprintf(err, errlen, "missing %s", what);
        return CLI_EXIT_USAGE;
    }
    return 0;
}
