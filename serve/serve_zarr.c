/*
 * serve_zarr.c — Face 2 of `zarrc serve`: the store's keys over HTTP under /zarr/, so that any
 * Zarr reader with an HTTP store (zarr-python through fsspec or obstore, zarrita's FetchStore,
 * tensorstore's http kvstore) reads the hierarchy straight from the service.
 *   GET/HEAD /zarr/KEY       the value (Range: bytes=a-b, a-, -n → 206 + Content-Range; 416)
 *   PUT /zarr/KEY            replace the value (rw key)
 *   DELETE /zarr/KEY         remove it (rw key)
 * Keys are normalized like node paths (no "." / ".." segments, no zarrc internal files) and
 * must stay inside a local root after resolving symlinks. A missing key is 404.
 */
#include "serve.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void zfree(void *p) { zarrc_free(p); }

/* A failed store call on `key`: 404 for a missing key, the library's mapping otherwise. */
static void reply_key_error(serve_req *r, int rc, const char *key)
{
    if (rc == ZARRC_ENOTFOUND)
        serve_reply_error(r, 404, "No such key: '%s'", key);
    else
        serve_reply_lib(r, rc, key);
}

void serve_zarr_route(serve_req *r, const char *rest)
{
    char err[256];
    char *key = NULL;
    int is_get = strcmp(r->method, "GET") == 0, is_head = strcmp(r->method, "HEAD") == 0;
    int is_put = strcmp(r->method, "PUT") == 0, is_delete = strcmp(r->method, "DELETE") == 0;
    if (!is_get && !is_head && !is_put && !is_delete) {
        serve_reply_error(r, 405, "method %s is not allowed on /zarr/", r->method);
        return;
    }
    if (serve_require(r, is_put || is_delete))
        return;
    if (serve_path_normalize(&key, rest, err, sizeof err)) {
        serve_reply_error(r, 400, "bad key: %s", err);
        return;
    }
    if (!*key || rest[strlen(rest) - 1] == '/') {
        serve_reply_error(r, 404, "No such key: '%s' (keys, not directories, are served)", key);
        free(key);
        return;
    }
    if (serve_path_inside(r, key)) {
        serve_reply_error(r, 404, "No such key: '%s'", key);
        free(key);
        return;
    }
    zarrc_store *st = serve_store(r);
    int rc;
    if (is_put) {
        rc = zarrc_store_set(st, key, r->body ? r->body : (const void *)"", r->body_len);
        if (rc)
            serve_reply_lib(r, rc, key);
        else
            serve_reply_bytes(r, 201, NULL, NULL, 0, NULL);
        free(key);
        return;
    }
    if (is_delete) {
        rc = zarrc_store_erase(st, key);
        if (rc)
            serve_reply_lib(r, rc, key);
        else
            serve_reply_bytes(r, 204, NULL, NULL, 0, NULL);
        free(key);
        return;
    }
    uint64_t size = 0;
    rc = zarrc_store_size(&size, st, key);
    if (rc) {
        reply_key_error(r, rc, key);
        free(key);
        return;
    }
    r->accept_ranges = 1;
    uint64_t first = 0, last = 0;
    int range = serve_parse_range(serve_header(r, "Range"), size, &first, &last);
    if (range < 0) {
        snprintf(r->content_range, sizeof r->content_range, "bytes */%" PRIu64, size);
        serve_reply_error(r, 416, "range not satisfiable for '%s' of %" PRIu64 " bytes", key, size);
        free(key);
        return;
    }
    if (size > serve_max_body(r) && (range == 0 || last - first + 1 > serve_max_body(r))) {
        serve_reply_error(r, 400, "'%s' is larger than the response limit; request a Range", key);
        free(key);
        return;
    }
    void *data = NULL;
    size_t n = 0;
    if (range == 1)
        rc = zarrc_store_get_range(&data, &n, st, key, (int64_t)first, (int64_t)(last - first + 1));
    else
        rc = zarrc_store_get(&data, &n, st, key);
    if (rc) {
        reply_key_error(r, rc, key);
        free(key);
        return;
    }
    const char *ctype = "application/octet-stream";
    size_t kl = strlen(key);
    if ((kl >= 9 && strcmp(key + kl - 9, "zarr.json") == 0) || (kl >= 7 && strcmp(key + kl - 7, ".zarray") == 0) ||
        (kl >= 7 && strcmp(key + kl - 7, ".zgroup") == 0) || (kl >= 7 && strcmp(key + kl - 7, ".zattrs") == 0) ||
        (kl >= 10 && strcmp(key + kl - 10, ".zmetadata") == 0))
        ctype = "application/json";
    if (range == 1) {
        /* The value may have changed between size and read: report what was read. */
        snprintf(r->content_range, sizeof r->content_range, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first,
                 first + (n ? n - 1 : 0), size);
        serve_reply_bytes(r, 206, ctype, data, n, zfree);
    } else {
        serve_reply_bytes(r, 200, ctype, data, n, zfree);
    }
    free(key);
}
