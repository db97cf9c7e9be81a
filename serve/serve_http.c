/*
 * serve_http.c — the HTTP side of `zarrc serve` on libmicrohttpd: daemon start and graceful
 * stop, request bodies (bounded), API keys, path safety, JSON errors, the log line, routing to
 * the tiled face (serve_tiled.c) and the Zarr face (serve_zarr.c).
 *
 * Threads: libmicrohttpd's internal thread pool (bounded) runs every handler. The store handle
 * is thread-safe; everything else here is read-only after start except the in-flight counter.
 */
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_KEYS 4096
#define MAX_KEY_LEN 256

typedef struct api_key {
    char key[MAX_KEY_LEN];
    int rw;
} api_key;

struct serve_server {
    const serve_options *opt;
    zarrc_store *store;
    char *root_real; /* realpath of a local root, or NULL */
    api_key *keys;
    size_t nkeys;
    char listen_host[256];
    unsigned port;
    atomic_int inflight;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

zarrc_store *serve_store(const serve_req *r) { return r->srv->store; }
int serve_read_only(const serve_req *r) { return r->srv->opt->read_only; }
int serve_public(const serve_req *r) { return r->srv->opt->public_read; }
uint64_t serve_max_body(const serve_req *r) { return r->srv->opt->max_body; }

const char *serve_query(serve_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *serve_header(serve_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

int serve_path_inside(const serve_req *r, const char *relpath)
{
    const char *root = r->srv->root_real;
    if (!root)
        return 0;
    size_t rl = strlen(root), pl = strlen(relpath);
    char *full = malloc(rl + pl + 2);
    if (!full)
        return -1;
    memcpy(full, root, rl);
    full[rl] = '/';
    memcpy(full + rl + 1, relpath, pl + 1);
    /* Resolve the longest existing prefix: a missing tail cannot be a symlink. */
    int rc = 0;
    for (;;) {
        char *real = realpath(full, NULL);
        if (real) {
            size_t n = strlen(real);
            if (!(n >= rl && memcmp(real, root, rl) == 0 && (n == rl || real[rl] == '/' || rl == 1)))
                rc = -1;
            free(real);
            break;
        }
        if (errno != ENOENT && errno != ENOTDIR) {
            rc = -1;
            break;
        }
        char *slash = strrchr(full + rl, '/');
        if (!slash || slash == full + rl)
            break;
        *slash = 0;
    }
    free(full);
    return rc;
}

void serve_reply_bytes(serve_req *r, int status, const char *ctype, void *buf, size_t len, void (*freefn)(void *))
{
    if (r->resp && r->resp_free)
        r->resp_free(r->resp);
    r->status = status;
    r->ctype = ctype;
    r->resp = buf;
    r->resp_len = len;
    r->resp_free = freefn;
}

void serve_reply_json(serve_req *r, int status, json_object *obj)
{
    const char *text = obj ? json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
                           : "null";
    char *copy = strdup(text ? text : "null");
    json_object_put(obj);
    if (!copy) {
        serve_reply_bytes(r, 503, "application/json", (void *)"{\"detail\": \"out of memory\"}", 27, NULL);
        return;
    }
    serve_reply_bytes(r, status, "application/json", copy, strlen(copy), free);
}

void serve_reply_error(serve_req *r, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_object *o = json_object_new_object();
    if (o)
        json_object_object_add(o, "detail", json_object_new_string(msg));
    serve_reply_json(r, status, o);
}

void serve_reply_lib(serve_req *r, int code, const char *what)
{
    int status;
    switch (code) {
    case ZARRC_ENOTFOUND: status = 404; break;
    case ZARRC_EEXISTS: status = 409; break;
    case ZARRC_ECONFLICT: status = 409; break;
    case ZARRC_EBOUNDS: status = 400; break;
    case ZARRC_EINVAL: status = 422; break;
    case ZARRC_EDTYPE: status = 422; break;
    case ZARRC_EUNSUPPORTED: status = 422; break;
    case ZARRC_EREADONLY: status = 405; break;
    case ZARRC_EAUTH: status = 403; break;
    case ZARRC_ENOMEM: status = 507; break;
    default: status = 500; break; /* I/O errors, corrupt data, bugs: the server's side */
    }
    const char *msg = zarrc_error_last();
    serve_reply_error(r, status, "%s: %s", what, msg && *msg ? msg : zarrc_strerror(code));
}

int serve_require(serve_req *r, int write)
{
    if (write) {
        if (r->srv->opt->read_only) {
            serve_reply_error(r, 405, "this server is read-only");
            return -1;
        }
        if (r->access >= SERVE_ACCESS_WRITE)
            return 0;
        if (r->anonymous && r->srv->nkeys)
            serve_reply_error(r, 401, "Not authenticated: writing needs an API key with rw access");
        else
            serve_reply_error(r, 403, r->anonymous ? "this server takes no writes (no rw API key is configured)"
                                                   : "this API key is read-only");
        return -1;
    }
    if (r->access >= SERVE_ACCESS_READ)
        return 0;
    serve_reply_error(r, 401, "Not authenticated: send 'Authorization: Apikey KEY'");
    return -1;
}

/* ---- the request cycle ---- */

static void log_line(const serve_req *r)
{
    if (r->srv->opt->quiet)
        return;
    char path[512];
    size_t w = 0;
    for (const char *p = r->url; *p && w + 5 < sizeof path; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f || c == ' ')
            w += (size_t)snprintf(path + w, sizeof path - w, "%%%02X", c);
        else
            path[w++] = (char)c;
    }
    path[w] = 0;
    fprintf(stderr, "%s %s %d %zu %.1fms\n", r->method, path, r->status, r->resp_len, now_ms() - r->t0);
}

static enum MHD_Result queue(serve_req *r)
{
    struct MHD_Response *resp;
    void *buf = r->resp;
    void (*fr)(void *) = r->resp_free;
    r->resp = NULL;
    r->resp_free = NULL;
    if (fr)
        resp = MHD_create_response_from_buffer_with_free_callback(r->resp_len, buf, fr);
    else
        resp = MHD_create_response_from_buffer(r->resp_len, buf ? buf : (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        if (fr)
            fr(buf);
        return MHD_NO;
    }
    if (r->ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
    if (r->content_range[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, r->content_range);
    if (r->accept_ranges)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    r->queued = 1;
    log_line(r);
    return ret;
}

static int isalnum_ascii(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static void set_base(serve_req *r)
{
    const char *host = serve_header(r, MHD_HTTP_HEADER_HOST);
    int ok = host && *host && strlen(host) < 256;
    for (const char *p = host; ok && *p; p++)
        if (!(isalnum_ascii(*p) || *p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']'))
            ok = 0;
    if (ok)
        snprintf(r->base, sizeof r->base, "http://%s", host);
    else
        snprintf(r->base, sizeof r->base, "http://%s:%u", r->srv->listen_host, r->srv->port);
}

static void authenticate(serve_req *r)
{
    serve_server *s = r->srv;
    const char *auth = serve_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *key = NULL;
    if (auth && strncasecmp(auth, "Apikey ", 7) == 0)
        key = auth + 7;
    else if (!auth)
        key = serve_query(r, "api_key");
    r->anonymous = key == NULL;
    r->access = s->opt->public_read ? SERVE_ACCESS_READ : SERVE_ACCESS_NONE;
    if (!key) {
        if (auth)
            r->access = -1; /* an Authorization scheme we do not know */
        return;
    }
    while (*key == ' ')
        key++;
    for (size_t i = 0; i < s->nkeys; i++)
        if (strcmp(s->keys[i].key, key) == 0) {
            r->access = s->keys[i].rw ? SERVE_ACCESS_WRITE : SERVE_ACCESS_READ;
            return;
        }
    r->access = -1;
}

static void route(serve_req *r)
{
    const char *u = r->url;
    while (u[0] == '/' && u[1] == '/')
        u++;
    if (r->access < 0) {
        serve_reply_error(r, 401, "Invalid API key");
        return;
    }
    if (r->body_too_large) {
        serve_reply_error(r, 413, "request body exceeds the limit of %llu bytes",
                          (unsigned long long)r->srv->opt->max_body);
        return;
    }
    if (strcmp(u, "/healthz") == 0) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "status", json_object_new_string("ok"));
        serve_reply_json(r, 200, o);
        return;
    }
    if (strcmp(u, "/") == 0 || strcmp(u, "") == 0) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "service", json_object_new_string("zarrc serve"));
        json_object_object_add(o, "version", json_object_new_string(zarrc_version()));
        json_object_object_add(o, "api", json_object_new_string("/api/v1/"));
        json_object_object_add(o, "zarr", json_object_new_string("/zarr/"));
        serve_reply_json(r, 200, o);
        return;
    }
    if (strcmp(u, "/api/v1") == 0 || strcmp(u, "/api/v1/") == 0) {
        serve_tiled_about(r);
        return;
    }
    if (strncmp(u, "/api/v1/", 8) == 0) {
        serve_tiled_route(r, u + 8);
        return;
    }
    if (strcmp(u, "/zarr") == 0 || strncmp(u, "/zarr/", 6) == 0) {
        serve_zarr_route(r, u[5] ? u + 6 : "");
        return;
    }
    serve_reply_error(r, 404, "Not Found");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                               const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    serve_server *s = cls;
    serve_req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        atomic_fetch_add(&s->inflight, 1);
        r->srv = s;
        r->conn = conn;
        r->method = method;
        r->url = url;
        r->t0 = now_ms();
        r->status = 200;
        set_base(r);
        authenticate(r);
        const char *cl = serve_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno || end == cl || n > s->opt->max_body) {
                serve_reply_error(r, 413, "request body exceeds the limit of %llu bytes",
                                  (unsigned long long)s->opt->max_body);
                return queue(r);
            }
        }
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (r->body_too_large || r->queued)
            return MHD_YES;
        if (n > s->opt->max_body - r->body_len) {
            r->body_too_large = 1;
            free(r->body);
            r->body = NULL;
            r->body_len = r->body_cap = 0;
            return MHD_YES;
        }
        if (r->body_len + n > r->body_cap) {
            size_t cap = r->body_cap ? r->body_cap : 65536;
            while (cap < r->body_len + n)
                cap = cap > SIZE_MAX / 2 ? r->body_len + n : cap * 2;
            if (cap > s->opt->max_body)
                cap = (size_t)s->opt->max_body;
            uint8_t *nb = realloc(r->body, cap);
            if (!nb) {
                r->body_too_large = 1;
                return MHD_YES;
            }
            r->body = nb;
            r->body_cap = cap;
        }
        memcpy(r->body + r->body_len, upload_data, n);
        r->body_len += n;
        return MHD_YES;
    }
    if (r->queued)
        return MHD_YES;
    route(r);
    return queue(r);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    serve_server *s = cls;
    serve_req *r = *con_cls;
    if (!r)
        return;
    if (r->resp && r->resp_free)
        r->resp_free(r->resp);
    free(r->body);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&s->inflight, 1);
}

static int load_keys(serve_server *s, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "zarrc: --api-keys %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        char key[MAX_KEY_LEN], err[200];
        int rw;
        int rc = serve_parse_key_line(line, key, sizeof key, &rw, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "zarrc: --api-keys %s: line %d: %s\n", path, lineno, err);
            free(line);
            fclose(f);
            return -1;
        }
        if (rc == 0)
            continue;
        if (s->nkeys == MAX_KEYS) {
            fprintf(stderr, "zarrc: --api-keys %s: more than %d keys\n", path, MAX_KEYS);
            free(line);
            fclose(f);
            return -1;
        }
        api_key *nk = realloc(s->keys, (s->nkeys + 1) * sizeof *nk);
        if (!nk) {
            free(line);
            fclose(f);
            return -1;
        }
        s->keys = nk;
        snprintf(s->keys[s->nkeys].key, MAX_KEY_LEN, "%s", key);
        s->keys[s->nkeys].rw = rw;
        s->nkeys++;
    }
    free(line);
    fclose(f);
    if (!s->nkeys) {
        fprintf(stderr, "zarrc: --api-keys %s: no keys in the file\n", path);
        return -1;
    }
    return 0;
}

static int parse_listen(serve_server *s, const char *listen, struct sockaddr_storage *sa, socklen_t *salen)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen) {
        fprintf(stderr, "zarrc: --listen %s: expected HOST:PORT\n", listen);
        return -1;
    }
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host) {
        fprintf(stderr, "zarrc: --listen: host too long\n");
        return -1;
    }
    memcpy(host, listen, hl);
    host[hl] = 0;
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = 0;
    }
    char *end;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || port > 65535) {
        fprintf(stderr, "zarrc: --listen %s: bad port\n", listen);
        return -1;
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    char portbuf[16];
    snprintf(portbuf, sizeof portbuf, "%lu", port);
    int gai = getaddrinfo(host, portbuf, &hints, &res);
    if (gai || !res) {
        fprintf(stderr, "zarrc: --listen %s: %s\n", listen, gai_strerror(gai));
        return -1;
    }
    memcpy(sa, res->ai_addr, res->ai_addrlen);
    *salen = res->ai_addrlen;
    freeaddrinfo(res);
    snprintf(s->listen_host, sizeof s->listen_host, "%s%s%s", strchr(host, ':') ? "[" : "", host,
             strchr(host, ':') ? "]" : "");
    s->port = (unsigned)port;
    return 0;
}

int serve_run(const serve_options *opt)
{
    serve_server s;
    memset(&s, 0, sizeof s);
    s.opt = opt;
    atomic_init(&s.inflight, 0);
    int ret = 1;
    struct MHD_Daemon *d = NULL;

    if (opt->api_keys && load_keys(&s, opt->api_keys))
        goto out;
    if (!opt->api_keys && !opt->public_read) {
        fprintf(stderr, "zarrc: serve: give --api-keys FILE, --public, or both\n");
        goto out;
    }
    /* Contained: no key of a local root is read or written through a symbolic link leading
     * out of it, whatever route (the tiled face's chunk I/O happens inside the library). */
    int rc = zarrc_store_open(&s.store, opt->root, (opt->read_only ? ZARRC_STORE_READONLY : 0) | ZARRC_STORE_CONTAINED);
    if (rc) {
        fprintf(stderr, "zarrc: serve: %s: %s\n", opt->root, zarrc_error_last());
        goto out;
    }
    {
        /* A local root (a path or file:// URL): resolve it for the symlink checks. */
        const char *p = opt->root;
        if (strncmp(p, "file://", 7) == 0)
            p += 7;
        struct stat st;
        if (!strstr(p, "://") && stat(p, &st) == 0 && S_ISDIR(st.st_mode))
            s.root_real = realpath(p, NULL);
    }
    struct sockaddr_storage sa;
    socklen_t salen;
    if (parse_listen(&s, opt->listen ? opt->listen : "127.0.0.1:8000", &sa, &salen))
        goto out;

    /* Block the stop signals in every thread (the pool inherits the mask); main waits for them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    unsigned threads = opt->threads ? opt->threads : 16;
    unsigned timeout = opt->timeout_s ? opt->timeout_s : 30;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (sa.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    d = MHD_start_daemon(flags, 0, NULL, NULL, handler, &s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT, timeout,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024, MHD_OPTION_NOTIFY_COMPLETED, completed, &s,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)256 * 1024, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "zarrc: serve: cannot listen on %s:%u\n", s.listen_host, s.port);
        goto out;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info && info->port)
        s.port = info->port;
    fprintf(stderr, "zarrc serve: listening on http://%s:%u (root %s%s%s)\n", s.listen_host, s.port, opt->root,
            opt->read_only ? ", read-only" : "", opt->public_read ? ", public reads" : "");
    fflush(stderr);

    int sig = 0;
    while (sigwait(&set, &sig) != 0)
        ;
    fprintf(stderr, "zarrc serve: signal %d: finishing in-flight requests\n", sig);
    MHD_socket ls = MHD_quiesce_daemon(d);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    double t0 = now_ms();
    while (atomic_load(&s.inflight) > 0 && now_ms() - t0 < 30000)
        usleep(10000);
    MHD_stop_daemon(d);
    d = NULL;
    fprintf(stderr, "zarrc serve: stopped\n");
    ret = 0;
out:
    if (d)
        MHD_stop_daemon(d);
    zarrc_store_free(s.store);
    free(s.root_real);
    free(s.keys);
    return ret;
}
