/*
 * cli_serve.c — `zarrc serve ROOT`: option parsing for the HTTP service in serve/ (the tiled
 * protocol and Zarr over HTTP; docs/serve.md).
 */
#include "cli_common.h"
#include "cli_verbs.h"

#include "../serve/serve.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char serve_usage[] =
    "zarrc serve ROOT [--listen HOST:PORT] [--api-keys FILE] [--public] [--read-only] [--quiet]\n"
    "                 [--max-body BYTES] [--threads N] [--timeout SECONDS]";
static const char serve_summary[] =
    "Serve the Zarr hierarchy under ROOT (a directory or store URL) over HTTP: the tiled protocol\n"
    "under /api/v1/ (the tiled Python client reads, writes and extends arrays) and the store's keys\n"
    "under /zarr/ (zarr-python, zarrita and tensorstore read them with HTTP stores).";
static const char serve_help[] =
    "  --listen HOST:PORT  address to bind (default 127.0.0.1:8000; port 0 = a free port, printed)\n"
    "  --api-keys FILE     API keys, one per line: 'KEY rw' or 'KEY ro' (KEY matches \\w+);\n"
    "                      clients send 'Authorization: Apikey KEY'\n"
    "  --public            anonymous clients may read (never write)\n"
    "  --read-only         refuse every write\n"
    "  --quiet             no log line per request on stderr\n"
    "  --max-body BYTES    limit of request and response bodies (default 1073741824); larger → 413\n"
    "  --threads N         worker threads (default 16)\n"
    "  --timeout SECONDS   idle connection timeout (default 30)\n"
    "SIGTERM or SIGINT stops accepting, finishes the requests in flight and exits 0.\n"
    "At least one of --api-keys and --public is required. See docs/serve.md.\n";

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int cmd_serve(const cli_verb *v, int argc, char **argv)
{
    const char *listen = NULL, *keys = NULL, *max_body = NULL, *threads = NULL, *timeout = NULL;
    int public_read = 0, read_only = 0, quiet = 0;
    const cli_opt opts[] = {
        {"--listen", &listen, NULL},     {"--api-keys", &keys, NULL},    {"--public", NULL, &public_read},
        {"--read-only", NULL, &read_only}, {"--quiet", NULL, &quiet},   {"--max-body", &max_body, NULL},
        {"--threads", &threads, NULL},   {"--timeout", &timeout, NULL},  {NULL, NULL, NULL},
    };
    const char *pos[1];
    int rc = cli_parse_positionals(v, argc, argv, opts, pos, 1, "ROOT");
    if (rc == CLI_HELP_SHOWN)
        return CLI_EXIT_OK;
    if (rc)
        return rc;
    serve_options o;
    memset(&o, 0, sizeof o);
    o.root = pos[0];
    o.listen = listen;
    o.api_keys = keys;
    o.public_read = public_read;
    o.read_only = read_only;
    o.quiet = quiet;
    o.max_body = SERVE_DEFAULT_MAX_BODY;
    uint64_t n;
    if (max_body) {
        if (parse_u64(max_body, 1, (uint64_t)SIZE_MAX / 2, &n))
            return cli_usage_error(v, "--max-body %s: expected a byte count >= 1", max_body);
        o.max_body = n;
    }
    if (threads) {
        if (parse_u64(threads, 1, 1024, &n))
            return cli_usage_error(v, "--threads %s: expected 1 to 1024", threads);
        o.threads = (unsigned)n;
    }
    if (timeout) {
        if (parse_u64(timeout, 1, 86400, &n))
            return cli_usage_error(v, "--timeout %s: expected 1 to 86400 seconds", timeout);
        o.timeout_s = (unsigned)n;
    }
    if (!keys && !public_read)
        return cli_usage_error(v, "give --api-keys FILE, --public, or both");
    return serve_run(&o) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

const cli_verb cli_verb_serve = {"serve", cmd_serve, serve_usage, serve_summary, serve_help,
                                 "serve the hierarchy over HTTP (tiled protocol, Zarr keys)"};
