/* http_client.c — libcurl requests with a handle pool, timeouts and retries (http_client.h),
 * run on one multi handle per client by an event thread of the client. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"

#define ERR_BODY_MAX (64u * 1024u)
#define IDLE_MAX 64
#define RESERVE_MAX (64u * 1024u * 1024u) /* at most this much is reserved from a Content-Length */

/* One transfer handed to the event thread: the caller's prepared easy handle, and its result
 * (set, with `done`, under the client's mutex; the caller waits on `cv`). */
typedef struct zarrc__http_xfer {
    CURL *h;
    CURLcode cc;
    bool done;
    pthread_cond_t cv;
    struct zarrc__http_xfer *next;
} zarrc__http_xfer;

/* Every live client, for the fork handlers: before fork() every client's mutex is taken (so no
 * thread holds one in the child), and in the child the clients forget their multi and event
 * thread (the thread does not exist there, and the multi's connections are the parent's
 * sockets: the child leaves them alone and starts a multi of its own on first use). */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static zarrc__http_client *registry;

static void fork_prepare(void)
{
    pthread_mutex_lock(&registry_mu);
    for (zarrc__http_client *c = registry; c; c = c->next_client)
        pthread_mutex_lock(&c->mu);
}

static void fork_parent(void)
{
    for (zarrc__http_client *c = registry; c; c = c->next_client)
        pthread_mutex_unlock(&c->mu);
    pthread_mutex_unlock(&registry_mu);
}

static void fork_child(void)
{
    for (zarrc__http_client *c = registry; c; c = c->next_client) {
        c->multi = NULL; /* abandoned: its cleanup could write on the parent's connections (TLS) */
        c->pid = 0;
        c->event_tid = 0;
        c->stop = false;
        c->head = NULL; /* transfers of the parent's threads: not ours */
        c->tail = &c->head;
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&registry_mu);
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;
static int atfork_rc;
static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    atfork_rc = pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static long env_long(const char *name, long dflt, long lo, long hi)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    long x = strtol(v, &end, 10);
    return *end || x < lo || x > hi ? dflt : x;
}

int zarrc__http_client_init(zarrc__http_client *c)
{
    int lrc = zarrc__netlib_load();
    if (lrc)
        return lrc;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return zarrc_error_set(ZARRC_EIO, "libcurl initialization failed: %s", curl_easy_strerror(global_rc));
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->tail = &c->head;
    /* ZARRC_HTTP_MULTI=0: every transfer with curl_easy_perform on its caller's thread (the
     * multi needs the fork handlers: without them, that too). */
    c->use_multi = env_long("ZARRC_HTTP_MULTI", 1, 0, 1) == 1 && atfork_rc == 0;
    c->connect_timeout_ms = env_long("ZARRC_HTTP_CONNECT_TIMEOUT_MS", 5000, 1, 600000);
    c->low_speed_s = env_long("ZARRC_HTTP_STALL_TIMEOUT_S", 30, 1, 3600);
    c->max_retries = (int)env_long("ZARRC_HTTP_RETRIES", 8, 0, 100);
    c->retry_base_ms = env_long("ZARRC_HTTP_RETRY_BASE_MS", 100, 0, 60000);
    /* libcurl's default 16 KiB means one poll + recv + callback per 16 KiB (256 for a 4 MiB
     * chunk); 512 KiB per handle cuts that 32 times. (2 MiB: libcurl's largest upload buffer.) */
    c->buffer_size = env_long("ZARRC_HTTP_BUFFER_SIZE", 512L * 1024, 16L * 1024, 2L * 1024 * 1024);
    c->trace = env_long("ZARRC_HTTP_TRACE", 0, 0, 1) == 1;
    pthread_mutex_lock(&registry_mu);
    c->next_client = registry;
    registry = c;
    pthread_mutex_unlock(&registry_mu);
    return ZARRC_OK;
}

void zarrc__http_client_destroy(zarrc__http_client *c)
{
    pthread_mutex_lock(&registry_mu);
    for (zarrc__http_client **p = &registry; *p; p = &(*p)->next_client)
        if (*p == c) {
            *p = c->next_client;
            break;
        }
    pthread_mutex_unlock(&registry_mu);
    /* Not in the registry any more: a fork() from now on leaves this client as it is, and a
     * child finds `pid` naming its parent (then it has no thread to join). */
    pthread_mutex_lock(&c->mu);
    bool ours = c->pid && c->pid == getpid();
    CURLM *m = c->multi;
    c->stop = true;
    pthread_mutex_unlock(&c->mu);
    if (ours) {
        curl_multi_wakeup(m);
        pthread_join(c->thread, NULL);
        curl_multi_cleanup(m); /* closes the cached connections */
    }
    for (size_t i = 0; i < c->nidle; i++)
        curl_easy_cleanup(c->idle[i]);
    free(c->idle);
    pthread_mutex_destroy(&c->mu);
}

static CURL *acquire(zarrc__http_client *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->mu);
    if (c->nidle)
        h = c->idle[--c->nidle];
    pthread_mutex_unlock(&c->mu);
    if (h)
        curl_easy_reset(h); /* keeps the connection and DNS caches */
    else if (!(h = curl_easy_init()))
        zarrc__enomem();
    return h;
}

static void release(zarrc__http_client *c, CURL *h)
{
    pthread_mutex_lock(&c->mu);
    if (c->nidle == c->cap && c->cap < IDLE_MAX) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        CURL **p = zarrc__try_malloc(cap * sizeof *p);
        if (p) {
            if (c->nidle)
                memcpy(p, c->idle, c->nidle * sizeof *p);
            free(c->idle);
            c->idle = p;
            c->cap = cap;
        }
    }
    if (c->nidle < c->cap) {
        c->idle[c->nidle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    if (h)
        curl_easy_cleanup(h);
}

typedef struct sink {
    zarrc__http_req *r;
    CURL *h;
    int failed; /* ZARRC_ENOMEM etc. from the body sink */
} sink;

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    sink *s = ud;
    size_t n = sz * nm;
    long code = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200 && code < 300) {
        if (!s->r->out)
            return n;
        int rc = zarrc__buf_append(s->r->out, p, n);
        if (rc) {
            s->failed = rc;
            return 0;
        }
        return n;
    }
    zarrc_buf *e = &s->r->err;
    size_t room = e->size < ERR_BODY_MAX ? ERR_BODY_MAX - e->size : 0;
    if (room && zarrc_buf_reserve(e, e->size + (n < room ? n : room) + 1) == ZARRC_OK) {
        memcpy(e->data + e->size, p, n < room ? n : room);
        e->size += n < room ? n : room;
        e->data[e->size] = '\0';
    }
    return n;
}

static void copy_value(char *dst, size_t cap, const char *v, size_t n)
{
    while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    while (n && *v == ' ')
        v++, n--;
    if (n >= cap)
        n = 0; /* too long to be a token we use: treat as absent */
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
    zarrc__http_req *r = ((sink *)ud)->r;
    size_t n = sz * nm;
    if (n >= 5 && !strncmp(p, "HTTP/", 5)) { /* a new answer (after 100 Continue, redirects) */
        r->etag[0] = r->content_range[0] = '\0';
        r->content_length = -1;
        return n;
    }
    const char *colon = memchr(p, ':', n);
    if (!colon)
        return n;
    size_t nl = (size_t)(colon - p);
    const char *v = colon + 1;
    size_t vl = n - nl - 1;
    if (nl == 4 && !strncasecmp(p, "ETag", 4))
        copy_value(r->etag, sizeof r->etag, v, vl);
    else if (nl == 13 && !strncasecmp(p, "Content-Range", 13))
        copy_value(r->content_range, sizeof r->content_range, v, vl);
    else if (nl == 14 && !strncasecmp(p, "Content-Length", 14)) {
        char tmp[32];
        copy_value(tmp, sizeof tmp, v, vl);
        char *end;
        long long x = strtoll(tmp, &end, 10);
        r->content_length = *tmp && !*end && x >= 0 ? x : -1;
        /* Room for a 2xx body at once (no regrowth while it arrives); a length the server
         * states is trusted only up to RESERVE_MAX; a failed reservation is left to the body's
         * appends to report. */
        long code = 0;
        curl_easy_getinfo(((sink *)ud)->h, CURLINFO_RESPONSE_CODE, &code);
        if (r->out && !r->out->borrowed && code >= 200 && code < 300 && r->content_length > 0 &&
            (unsigned long long)r->content_length <= RESERVE_MAX &&
            r->out->size + (size_t)r->content_length >= r->out->size)
            (void)zarrc_buf_reserve(r->out, r->out->size + (size_t)r->content_length);
    }
    return n;
}

static size_t on_read(char *p, size_t sz, size_t nm, void *ud)
{
    zarrc__http_req *r = ud;
    size_t n = sz * nm, left = r->body_len - r->put_pos;
    if (n > left)
        n = left;
    if (n)
        memcpy(p, (const uint8_t *)r->body + r->put_pos, n);
    r->put_pos += n;
    return n;
}

static int on_seek(void *ud, curl_off_t off, int origin)
{
    zarrc__http_req *r = ud;
    if (origin != SEEK_SET || off < 0 || (uint64_t)off > r->body_len)
        return CURL_SEEKFUNC_FAIL;
    r->put_pos = (size_t)off;
    return CURL_SEEKFUNC_OK;
}

static bool transient_status(const zarrc__http_req *r)
{
    if (r->status >= 500 && r->status != 501)
        return true;
    if (r->status == 429 || r->status == 408)
        return true;
    if (r->status == 400 && r->err.size) {
        static const char *const codes[] = {"<Code>RequestTimeout</Code>", "<Code>RequestTimeTooSkewed</Code>",
                                            "<Code>SlowDown</Code>", "<Code>Throttling",
                                            "<Code>RequestExpired</Code>"};
        for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
            if (strstr((const char *)r->err.data, codes[i]))
                return true;
    }
    return false;
}

static bool transient_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        return false;
    }
}

static void backoff(const zarrc__http_client *c, int attempt)
{
    /* min(base * 2^attempt, 5 s) plus up to the same again of jitter. */
    long ms = c->retry_base_ms << (attempt < 16 ? attempt : 16);
    if (ms > 5000 || ms < 0)
        ms = 5000;
    static __thread unsigned seed;
    if (!seed)
        seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)&seed;
    long jitter = ms ? (long)(rand_r(&seed) % (ms + 1)) : 0;
    long total = ms + jitter;
    struct timespec ts = {total / 1000, (total % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ZARRC_HTTP_TRACE=1: one line per attempt on stderr — when it started (CLOCK_MONOTONIC, s),
 * method, URL, status or curl error, bytes up/down, whether a new connection was opened, and
 * libcurl's phase times in ms (connected, about to send, first answer byte, done), and the
 * kernel thread ids of the thread that ran the transfer (the event thread under the multi)
 * and of its caller. For measuring, not parsing. */
static void trace_attempt(CURL *h, const zarrc__http_req *r, CURLcode cc, int attempt, long tid)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long code = 0, nconn = 0;
    curl_off_t tc = 0, tp = 0, ts = 0, tt = 0, up = 0, down = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nconn);
    curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &tc);
    curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &tp);
    curl_easy_getinfo(h, CURLINFO_STARTTRANSFER_TIME_T, &ts);
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &tt);
    curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
    curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &down);
    fprintf(stderr,
            "zarrc http: [%.3f] %s %s -> %ld%s%s attempt %d up %lld down %lld new_conn %ld ms connect %.1f "
            "pretransfer %.1f first-byte %.1f total %.1f thread %ld caller %ld\n",
            (double)now.tv_sec + (double)now.tv_nsec * 1e-9 - (double)tt / 1e6, r->method, r->url, code,
            cc ? " " : "", cc ? curl_easy_strerror(cc) : "", attempt + 1, (long long)up, (long long)down, nconn,
            (double)tc / 1e3, (double)tp / 1e3, (double)ts / 1e3, (double)tt / 1e3, tid,
            (long)syscall(SYS_gettid));
}

/* Hand x's result to its caller (it may return and free x as soon as the mutex is released). */
static void xfer_finish(zarrc__http_client *c, zarrc__http_xfer *x, CURLcode cc)
{
    pthread_mutex_lock(&c->mu);
    x->cc = cc;
    x->done = true;
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&c->mu);
}

/* The event thread: adds the submitted transfers to the multi, drives them, reports each
 * finished one's CURLcode to its own caller, and sleeps in curl_multi_poll (woken by
 * curl_multi_wakeup on a submission or at destroy). The only thread touching the multi. */
static void *event_main(void *arg)
{
    zarrc__http_client *c = arg;
    pthread_mutex_lock(&c->mu);
    c->event_tid = (long)syscall(SYS_gettid);
    CURLM *m = c->multi;
    pthread_mutex_unlock(&c->mu);
    long maxconn = 0;
    int running = 0;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        bool stop = c->stop;
        zarrc__http_xfer *q = c->head;
        c->head = NULL;
        c->tail = &c->head;
        pthread_mutex_unlock(&c->mu);
        if (stop) {
            /* destroy with transfers in flight or queued is a caller's bug; answer them anyway */
            for (; q; q = q->next)
                xfer_finish(c, q, CURLE_ABORTED_BY_CALLBACK);
            break;
        }
        /* The connection cache keeps at least as many idle connections as requests may be in
         * flight (and as many as the easy-handle pool kept before), so a batch of N requests
         * finds N kept connections. */
        long want = zarrc_get_io_concurrency();
        if (want < IDLE_MAX)
            want = IDLE_MAX;
        if (want > maxconn && curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, want) == CURLM_OK)
            maxconn = want;
        while (q) {
            zarrc__http_xfer *next = q->next; /* q may be gone once finished */
            if (curl_multi_add_handle(m, q->h) != CURLM_OK)
                xfer_finish(c, q, CURLE_OUT_OF_MEMORY);
            q = next;
        }
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left)))
            if (msg->msg == CURLMSG_DONE) {
                CURL *h = msg->easy_handle;
                CURLcode cc = msg->data.result;
                char *priv = NULL;
                curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
                zarrc__http_xfer *x = (zarrc__http_xfer *)(void *)priv;
                curl_multi_remove_handle(m, h); /* msg is invalid from here on */
                if (x)
                    xfer_finish(c, x, cc);
            }
        /* libcurl shortens the wait to its own next timeout (connect, stall, Expect). */
        curl_multi_poll(m, NULL, 0, running ? 1000 : 10000, NULL);
    }
    return NULL;
}

/* Start the event thread (called with c->mu held, when `pid` is not this process). */
static int event_start(zarrc__http_client *c, pid_t me)
{
    CURLM *m = curl_multi_init();
    if (!m)
        return zarrc__enomem();
    /* No limit per host or in total: N requests in flight are N connections at once. */
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)IDLE_MAX);
    c->multi = m;
    c->stop = false;
    /* The thread takes no signals: they go to the application's threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&c->thread, NULL, event_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e) {
        c->multi = NULL;
        curl_multi_cleanup(m);
        return zarrc_error_set(ZARRC_EIO, "HTTP: cannot start the event thread: %s", strerror(e));
    }
    c->pid = me;
    return ZARRC_OK;
}

/* One attempt's transfer of the prepared handle h: on the event thread through the multi, or
 * (ZARRC_HTTP_MULTI=0) curl_easy_perform here. *tid receives the thread that ran it. */
static int transfer(zarrc__http_client *c, CURL *h, zarrc__http_xfer *x, CURLcode *cc, long *tid)
{
    if (!c->use_multi) {
        *tid = (long)syscall(SYS_gettid);
        *cc = curl_easy_perform(h);
        return ZARRC_OK;
    }
    x->h = h;
    x->done = false;
    x->next = NULL;
    curl_easy_setopt(h, CURLOPT_PRIVATE, (char *)x);
    pid_t me = getpid();
    pthread_mutex_lock(&c->mu);
    if (c->pid != me) {
        int rc = event_start(c, me);
        if (rc) {
            pthread_mutex_unlock(&c->mu);
            return rc;
        }
    }
    *c->tail = x;
    c->tail = &x->next;
    CURLM *m = c->multi;
    pthread_mutex_unlock(&c->mu);
    curl_multi_wakeup(m);
    pthread_mutex_lock(&c->mu);
    while (!x->done)
        pthread_cond_wait(&x->cv, &c->mu);
    *tid = c->event_tid;
    pthread_mutex_unlock(&c->mu);
    *cc = x->cc;
    return ZARRC_OK;
}

int zarrc__http_perform(zarrc__http_client *c, zarrc__http_req *r, const char *what)
{
    CURL *h = acquire(c);
    if (!h)
        return ZARRC_ENOMEM;
    struct curl_slist *hl = NULL;
    for (size_t i = 0; i < sizeof r->headers / sizeof *r->headers && r->headers[i]; i++) {
        struct curl_slist *n = curl_slist_append(hl, r->headers[i]);
        if (!n) {
            curl_slist_free_all(hl);
            release(c, h);
            return zarrc__enomem();
        }
        hl = n;
    }
    char errbuf[CURL_ERROR_SIZE];
    int rc = ZARRC_OK;
    size_t out0 = r->out ? r->out->size : 0;
    zarrc__http_xfer x = {0};
    if (c->use_multi)
        pthread_cond_init(&x.cv, NULL);
    for (int attempt = 0;; attempt++) {
        sink s = {r, h, 0};
        r->status = 0;
        r->etag[0] = r->content_range[0] = '\0';
        r->content_length = -1;
        r->err.size = 0;
        r->error_doc = false;
        r->put_pos = 0;
        if (r->out)
            r->out->size = out0;
        errbuf[0] = '\0';
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, r->url);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->low_speed_s);
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(h, CURLOPT_BUFFERSIZE, c->buffer_size);
        curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, c->buffer_size);
        /* Send bodies at once: waiting for "100 Continue" costs a round trip per PUT (and a
         * second, the default, with servers that never send it). */
        curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &s);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
        if (r->sigv4) {
            curl_easy_setopt(h, CURLOPT_AWS_SIGV4, r->sigv4);
            curl_easy_setopt(h, CURLOPT_USERNAME, r->user);
            curl_easy_setopt(h, CURLOPT_PASSWORD, r->password);
        }
        if (!strcmp(r->method, "HEAD"))
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        else if (!strcmp(r->method, "PUT")) {
            curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(h, CURLOPT_READDATA, r);
            curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
            curl_easy_setopt(h, CURLOPT_SEEKDATA, r);
            curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
        } else if (!strcmp(r->method, "POST")) {
            curl_easy_setopt(h, CURLOPT_POST, 1L);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        } else if (strcmp(r->method, "GET"))
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
        CURLcode cc;
        long tid;
        if ((rc = transfer(c, h, &x, &cc, &tid)))
            break;
        if (c->trace)
            trace_attempt(h, r, cc, attempt, tid);
        if (s.failed) {
            rc = s.failed;
            break;
        }
        if (cc == CURLE_OK) {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
            if (r->xml_answer && r->out && r->out->size > out0 && r->status >= 200 && r->status < 300 &&
                zarrc__xml_is_error(r->out->data + out0, r->out->size - out0)) {
                /* An error in a 200 (S3 does this for CompleteMultipartUpload and CopyObject):
                 * keep it as the error body and retry it like a 5xx, as the AWS SDKs do. */
                size_t n = r->out->size - out0;
                if (n > ERR_BODY_MAX)
                    n = ERR_BODY_MAX;
                if (zarrc_buf_reserve(&r->err, n + 1) == ZARRC_OK) {
                    memcpy(r->err.data, r->out->data + out0, n);
                    r->err.size = n;
                    r->err.data[n] = '\0';
                }
                r->out->size = out0;
                r->error_doc = true;
                if (attempt >= c->max_retries) {
                    bool nm;
                    char *code = r->err.data ? zarrc__xml_text((const char *)r->err.data, r->err.size, "Code",
                                                               NULL, &nm)
                                             : NULL;
                    rc = zarrc_error_set(ZARRC_EIO, "%s: HTTP %ld with an error document%s%s after %d attempts", what,
                                         r->status, code ? " " : "", code ? code : "", attempt + 1);
                    free(code);
                    break;
                }
                backoff(c, attempt);
                continue;
            }
            if (!transient_status(r))
                break;
            if (attempt >= c->max_retries) {
                rc = zarrc_error_set(ZARRC_EIO, "%s: HTTP %ld after %d attempts", what, r->status, attempt + 1);
                break;
            }
        } else if (!transient_curl(cc) || attempt >= c->max_retries) {
            rc = zarrc_error_set(ZARRC_EIO, "%s: %s%s%s%s", what, curl_easy_strerror(cc), *errbuf ? " (" : "",
                                 errbuf, *errbuf ? ")" : "");
            if (transient_curl(cc))
                zarrc__error_context(ZARRC_EIO, "after %d attempts: ", attempt + 1);
            break;
        }
        backoff(c, attempt);
    }
    if (c->use_multi)
        pthread_cond_destroy(&x.cv);
    curl_slist_free_all(hl);
    release(c, h);
    if (rc && r->out)
        r->out->size = out0;
    return rc;
}

int zarrc__http_encode(zarrc_buf *b, const char *s, size_t n, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t need = b->size + 3 * n + 1;
    int rc = zarrc_buf_reserve(b, need);
    if (rc)
        return rc;
    char *o = (char *)b->data + b->size;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
            ch == '_' || ch == '.' || ch == '~' || (ch == '/' && keep_slash))
            *o++ = (char)ch;
        else {
            *o++ = '%';
            *o++ = hex[ch >> 4];
            *o++ = hex[ch & 15];
        }
    }
    *o = '\0';
    b->size = (size_t)(o - (char *)b->data);
    return ZARRC_OK;
}

/* Decode XML character references and the five predefined entities in place. */
static size_t xml_unescape(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '&') {
            s[o++] = s[i++];
            continue;
        }
        const char *semi = memchr(s + i, ';', n - i);
        size_t el = semi ? (size_t)(semi - (s + i)) + 1 : 0;
        static const struct {
            const char *name;
            char ch;
        } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        bool done = false;
        for (size_t k = 0; semi && k < 5 && !done; k++)
            if (strlen(ents[k].name) == el && !strncmp(s + i, ents[k].name, el)) {
                s[o++] = ents[k].ch;
                i += el;
                done = true;
            }
        if (!done && semi && el >= 4 && s[i + 1] == '#') {
            char tmp[16];
            size_t dl = el - 3;
            if (dl < sizeof tmp) {
                memcpy(tmp, s + i + 2, dl);
                tmp[dl] = '\0';
                char *end;
                unsigned long cp = tmp[0] == 'x' ? strtoul(tmp + 1, &end, 16) : strtoul(tmp, &end, 10);
                if (!*end && cp > 0 && cp < 0x110000) {
                    /* UTF-8 encode (never longer than the reference itself) */
                    if (cp < 0x80)
                        s[o++] = (char)cp;
                    else if (cp < 0x800) {
                        s[o++] = (char)(0xC0 | (cp >> 6));
                        s[o++] = (char)(0x80 | (cp & 0x3F));
                    } else if (cp < 0x10000) {
                        s[o++] = (char)(0xE0 | (cp >> 12));
                        s[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                        s[o++] = (char)(0x80 | (cp & 0x3F));
                    } else {
                        s[o++] = (char)(0xF0 | (cp >> 18));
                        s[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                        s[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                        s[o++] = (char)(0x80 | (cp & 0x3F));
                    }
                    i += el;
                    done = true;
                }
            }
        }
        if (!done)
            s[o++] = s[i++];
    }
    return o;
}

static const char *find_mem(const char *h, size_t n, const char *needle)
{
    size_t nl = strlen(needle);
    return nl <= n ? memmem(h, n, needle, nl) : NULL;
}

char *zarrc__xml_text(const char *xml, size_t n, const char *tag, size_t *next, bool *nomem)
{
    *nomem = false;
    size_t tl = strlen(tag);
    char open[80], close[80];
    if (tl + 4 > sizeof open)
        return NULL;
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = find_mem(xml, n, open);
    if (!a)
        return NULL;
    a += tl + 2;
    const char *b = find_mem(a, n - (size_t)(a - xml), close);
    if (!b)
        return NULL;
    size_t len = (size_t)(b - a);
    char *t = zarrc__malloc(len + 1);
    if (!t) {
        *nomem = true;
        return NULL;
    }
    memcpy(t, a, len);
    t[xml_unescape(t, len)] = '\0';
    if (next)
        *next = (size_t)(b + tl + 3 - xml);
    return t;
}

bool zarrc__xml_is_error(const void *xml, size_t n)
{
    const char *x = xml, *e = x ? x + n : NULL;
    for (int round = 0; x && round < 8; round++) {
        while (x < e && (*x == ' ' || *x == '\t' || *x == '\r' || *x == '\n'))
            x++;
        if (e - x >= 2 && x[0] == '<' && (x[1] == '?' || x[1] == '!')) { /* declaration, comment */
            const char *gt = memchr(x, '>', (size_t)(e - x));
            if (!gt)
                return false;
            x = gt + 1;
            continue;
        }
        return e - x >= 7 && !memcmp(x, "<Error>", 7);
    }
    return false;
}

int zarrc__http_range(int64_t offset, int64_t length, char line[96])
{
    line[0] = '\0';
    if (offset < 0)
        snprintf(line, 96, "Range: bytes=-%llu", (unsigned long long)-(uint64_t)offset);
    else if (length > 0) {
        if ((uint64_t)offset > (uint64_t)INT64_MAX - (uint64_t)length)
            return zarrc_error_set(ZARRC_EINVAL, "range at %lld of %lld bytes overflows", (long long)offset,
                                   (long long)length);
        snprintf(line, 96, "Range: bytes=%lld-%lld", (long long)offset, (long long)(offset + length - 1));
    } else if (offset > 0)
        snprintf(line, 96, "Range: bytes=%lld-", (long long)offset);
    return ZARRC_OK;
}

/* Parse "bytes a-b/total" (total may be "*"). */
static bool parse_content_range(const char *cr, uint64_t *a, uint64_t *b)
{
    unsigned long long x, y;
    char t[32];
    if (sscanf(cr, "bytes %llu-%llu/%31s", &x, &y, t) != 3 || y < x)
        return false;
    if (strcmp(t, "*")) {
        char *end;
        unsigned long long tt = strtoull(t, &end, 10);
        if (*end || tt <= y)
            return false;
    }
    *a = x;
    *b = y;
    return true;
}

int zarrc__http_ranged_body(zarrc__http_req *r, int64_t offset, int64_t length, bool ranged, bool require_206,
                            const char *what)
{
    zarrc_buf *out = r->out;
    if (r->status == 416) {
        out->size = 0; /* the range starts at or after the end */
        return ZARRC_OK;
    }
    if (r->status == 206) {
        uint64_t a, b;
        if (!parse_content_range(r->content_range, &a, &b) || b - a + 1 != out->size)
            return zarrc_error_set(ZARRC_EIO, "%s: 206 with Content-Range '%s' for %zu bytes", what,
                                   r->content_range, out->size);
        if (offset >= 0 && a != (uint64_t)offset)
            return zarrc_error_set(ZARRC_EIO, "%s: asked for bytes from %lld, got '%s'", what, (long long)offset,
                                   r->content_range);
        if (length > 0 && out->size > (uint64_t)length)
            return zarrc_error_set(ZARRC_EIO, "%s: asked for %lld bytes, got '%s'", what, (long long)length,
                                   r->content_range);
        return ZARRC_OK;
    }
    if (r->status == 200) {
        if (ranged) { /* the server ignored Range */
            if (require_206)
                return zarrc_error_set(ZARRC_EIO, "%s: the server ignored the Range header (200 instead of 206)",
                                       what);
            uint64_t start, n;
            zarrc__store_clip(out->size, offset, length, &start, &n);
            if (start)
                memmove(out->data, out->data + start, (size_t)n);
            out->size = (size_t)n;
        }
        return ZARRC_OK;
    }
    return zarrc_error_set(ZARRC_EIO, "%s: unexpected HTTP %ld", what, r->status);
}
