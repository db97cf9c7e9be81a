/*
 * store_http.c — a read-only store over plain HTTP(S) (http://host/path, https://…): GET with
 * Range (suffix ranges too), HEAD for sizes. A 206 is accepted only when its Content-Range
 * matches the request; a 200 to a ranged request (a server that ignores Range, such as
 * Python's http.server) is cut locally, or refused when ZARRC_HTTP_REQUIRE_RANGE=1.
 * HTTP has no listing: keys are listed from the consolidated metadata at the root
 * (zarr.json's "consolidated_metadata" or .zmetadata), read once at the first listing; without
 * it listings fail with ZARRC_EUNSUPPORTED.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "http_client.h"

typedef struct http_store {
    zarrc__http_client http;
    char *base; /* "http://host/path" without a trailing '/' */
    bool require_206;
    pthread_mutex_t mu;
    bool listed; /* keys below loaded (under mu) */
    int list_rc;
    char **keys;
    size_t nkeys;
} http_store;

static int http_open(void **state, const char *location, unsigned flags, const char *scheme)
{
    *state = NULL;
    http_store *h = zarrc__calloc(1, sizeof *h);
    if (!h)
        return ZARRC_ENOMEM;
    int rc = zarrc__http_client_init(&h->http);
    if (rc) {
        free(h);
        return rc;
    }
    size_t l = strlen(location);
    while (l && location[l - 1] == '/')
        l--;
    if (!l || memchr(location, '?', l) || memchr(location, '#', l)) {
        zarrc__http_client_destroy(&h->http);
        free(h);
        return zarrc_error_set(ZARRC_EINVAL, "HTTP store location '%s' needs a host and no query", location);
    }
    h->base = zarrc__sprintf("%s://%.*s", scheme, (int)l, location);
    const char *req = getenv("ZARRC_HTTP_REQUIRE_RANGE");
    h->require_206 = req && !strcmp(req, "1");
    pthread_mutex_init(&h->mu, NULL);
    if (!h->base) {
        zarrc__http_client_destroy(&h->http);
        free(h);
        return ZARRC_ENOMEM;
    }
    *state = h;
    return ZARRC_OK;
}

static int http_open_plain(void **state, const char *location, unsigned flags)
{
    return http_open(state, location, flags, "http");
}

static int https_open(void **state, const char *location, unsigned flags)
{
    return http_open(state, location, flags, "https");
}

static void http_close(void *state)
{
    http_store *h = state;
    zarrc__http_client_destroy(&h->http);
    for (size_t i = 0; i < h->nkeys; i++)
        free(h->keys[i]);
    free(h->keys);
    pthread_mutex_destroy(&h->mu);
    free(h->base);
    free(h);
}

static char *key_url(http_store *h, const char *key)
{
    zarrc_buf b = ZARRC_BUF_INIT;
    int rc = zarrc__buf_append(&b, h->base, strlen(h->base));
    if (!rc)
        rc = zarrc__buf_append(&b, "/", 1);
    if (!rc)
        rc = zarrc__http_encode(&b, key, strlen(key), true);
    if (rc) {
        zarrc_buf_release(&b);
        return NULL;
    }
    return (char *)b.data;
}

static int http_status_error(zarrc__http_req *r, const char *what)
{
    int code = r->status == 401 || r->status == 403 ? ZARRC_EAUTH : ZARRC_EIO;
    return zarrc_error_set(code, "%s: HTTP %ld", what, r->status);
}

static int http_get(void *state, const char *key, int64_t offset, int64_t length, zarrc_buf *out)
{
    http_store *h = state;
    char range[96];
    if (zarrc__http_range(offset, length, range))
        return zarrc__error_context(ZARRC_EINVAL, "key '%s': ", key);
    char *url = key_url(h, key);
    char *what = url ? zarrc__sprintf("HTTP GET '%s'", url) : NULL;
    if (!what) {
        free(url);
        return ZARRC_ENOMEM;
    }
    zarrc__http_req r = {0};
    r.method = offset >= 0 && length == 0 ? "HEAD" : "GET";
    r.url = url;
    r.out = out;
    if (*range && r.method[0] == 'G')
        r.headers[0] = range;
    int rc = zarrc__http_perform(&h->http, &r, what);
    if (!rc) {
        if (r.status == 404 || r.status == 410)
            rc = ZARRC_ENOTFOUND;
        else if (r.method[0] == 'H')
            rc = r.status == 200 ? ZARRC_OK : http_status_error(&r, what);
        else if (r.status == 200 || r.status == 206 || r.status == 416)
            rc = zarrc__http_ranged_body(&r, offset, length, *range != '\0', h->require_206, what);
        else
            rc = http_status_error(&r, what);
    }
    if (rc)
        out->size = 0;
    zarrc_buf_release(&r.err);
    free(what);
    free(url);
    return rc;
}

static int http_size(void *state, const char *key, uint64_t *size)
{
    http_store *h = state;
    char *url = key_url(h, key);
    char *what = url ? zarrc__sprintf("HTTP HEAD '%s'", url) : NULL;
    if (!what) {
        free(url);
        return ZARRC_ENOMEM;
    }
    zarrc__http_req r = {0};
    r.method = "HEAD";
    r.url = url;
    int rc = zarrc__http_perform(&h->http, &r, what);
    if (!rc) {
        if (r.status == 404 || r.status == 410)
            rc = ZARRC_ENOTFOUND;
        else if (r.status != 200)
            rc = http_status_error(&r, what);
        else if (r.content_length < 0)
            rc = zarrc_error_set(ZARRC_EIO, "%s: no Content-Length", what);
        else
            *size = (uint64_t)r.content_length;
    }
    zarrc_buf_release(&r.err);
    free(what);
    free(url);
    return rc;
}

static int add_key(http_store *h, const char *k, size_t *cap)
{
    if (h->nkeys == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        char **p = zarrc__realloc(h->keys, c * sizeof *p);
        if (!p)
            return ZARRC_ENOMEM;
        h->keys = p;
        *cap = c;
    }
    if (!(h->keys[h->nkeys] = zarrc__strdup(k)))
        return ZARRC_ENOMEM;
    h->nkeys++;
    return ZARRC_OK;
}

/* The keys named by the root's consolidated metadata (plus the root documents themselves). */
static int load_keys(http_store *h)
{
    size_t cap = 0;
    int rc = ZARRC_OK;
    bool found = false;
    static const char *const docs[] = {"zarr.json", ".zmetadata"};
    for (int d = 0; d < 2 && rc == ZARRC_OK; d++) {
        zarrc_buf b = ZARRC_BUF_INIT;
        rc = http_get(h, docs[d], 0, -1, &b);
        if (rc == ZARRC_ENOTFOUND) {
            rc = ZARRC_OK;
            zarrc_buf_release(&b);
            continue;
        }
        json_tokener *tok = rc ? NULL : json_tokener_new_ex(1000);
        json_object *root = tok ? json_tokener_parse_ex(tok, (const char *)b.data, (int)b.size) : NULL;
        if (tok)
            json_tokener_free(tok);
        zarrc_buf_release(&b);
        if (rc)
            break;
        json_object *meta = NULL, *cm = NULL;
        if (d == 0 && root && json_object_object_get_ex(root, "consolidated_metadata", &cm) &&
            json_object_is_type(cm, json_type_object) && json_object_object_get_ex(cm, "metadata", &meta) &&
            json_object_is_type(meta, json_type_object)) {
            found = true;
            rc = add_key(h, "zarr.json", &cap);
            json_object_object_foreach(meta, path, v)
            {
                (void)v;
                char *k = rc ? NULL : zarrc__sprintf("%s/zarr.json", path);
                rc = k ? add_key(h, k, &cap) : ZARRC_ENOMEM;
                free(k);
                if (rc)
                    break;
            }
        } else if (d == 1 && root && json_object_object_get_ex(root, "metadata", &meta) &&
                   json_object_is_type(meta, json_type_object)) {
            found = true;
            rc = add_key(h, ".zmetadata", &cap);
            json_object_object_foreach(meta, key, v)
            {
                (void)v;
                if (rc || (rc = add_key(h, key, &cap)))
                    break;
            }
        }
        json_object_put(root);
    }
    if (rc == ZARRC_OK && !found)
        rc = zarrc_error_set(ZARRC_EUNSUPPORTED,
                             "HTTP store '%s' cannot list keys: no consolidated metadata at its root", h->base);
    return rc;
}

static int ensure_keys(http_store *h)
{
    pthread_mutex_lock(&h->mu);
    if (!h->listed) {
        h->list_rc = load_keys(h);
        h->listed = h->list_rc != ZARRC_ENOMEM; /* retry after running out of memory */
    } else if (h->list_rc)
        zarrc_error_set(h->list_rc, "HTTP store '%s' cannot list keys: no consolidated metadata at its root",
                        h->base);
    int rc = h->list_rc;
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static int http_list(void *state, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    http_store *h = state;
    int rc = ensure_keys(h);
    size_t pl = strlen(prefix);
    for (size_t i = 0; rc == ZARRC_OK && i < h->nkeys; i++)
        if (!strncmp(h->keys[i], prefix, pl))
            rc = cb(ctx, h->keys[i], 0);
    return rc;
}

static int http_list_dir(void *state, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    http_store *h = state;
    int rc = ensure_keys(h);
    size_t pl = strlen(prefix);
    for (size_t i = 0; rc == ZARRC_OK && i < h->nkeys; i++) {
        const char *k = h->keys[i];
        if (strncmp(k, prefix, pl))
            continue;
        const char *rest = k + pl, *slash = strchr(rest, '/');
        if (!slash) {
            rc = cb(ctx, rest, 0);
            continue;
        }
        /* Report each child prefix once: at the first key that has it. */
        size_t cl = (size_t)(slash - rest);
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strncmp(h->keys[j], prefix, pl) && !strncmp(h->keys[j] + pl, rest, cl + 1);
        if (!seen) {
            char *name = zarrc__sprintf("%.*s", (int)cl, rest);
            rc = name ? cb(ctx, name, 1) : ZARRC_ENOMEM;
            free(name);
        }
    }
    return rc;
}

static char *http_canonical(void *state) { return zarrc__strdup(((http_store *)state)->base); }

#define HTTP_CAPS (ZARRC_STORE_CAP_RANGE | ZARRC_STORE_CAP_LATENCY)

const zarrc_store_type zarrc__store_http = {
    ZARRC_STORE_TYPE_VERSION, "http", HTTP_CAPS,
    http_open_plain, http_close, http_get, NULL, NULL, NULL, NULL, NULL, http_list, http_list_dir, http_size,
    NULL, NULL, NULL, NULL, NULL, NULL, http_canonical,
};

const zarrc_store_type zarrc__store_https = {
    ZARRC_STORE_TYPE_VERSION, "https", HTTP_CAPS,
    https_open, http_close, http_get, NULL, NULL, NULL, NULL, NULL, http_list, http_list_dir, http_size,
    NULL, NULL, NULL, NULL, NULL, NULL, http_canonical,
};
