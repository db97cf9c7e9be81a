/*
 * http_client.h — the libcurl request engine shared by the remote stores (store_s3.c,
 * store_http.c): a pool of easy handles (one per request in flight), response capture,
 * timeouts, and retries with exponential backoff and jitter on transport failures and on
 * 5xx / 429 / 408 / throttling answers. Every attempt is a fresh transfer, so signed requests
 * (CURLOPT_AWS_SIGV4) are signed again on each retry.
 *
 * Transfers run on one libcurl multi handle per client, driven by one event thread of the
 * client (started on first use, stopped in zarrc__http_client_destroy, recreated in a forked
 * child): callers queue their prepared easy handle and block until the event thread reports
 * its result; the multi's connection cache keeps connections alive across requests and
 * threads. ZARRC_HTTP_MULTI=0 performs each transfer with curl_easy_perform on the calling
 * thread instead (each idle handle then keeps its own connection).
 */
#ifndef ZARRC_HTTP_CLIENT_H
#define ZARRC_HTTP_CLIENT_H

#include <pthread.h>
#include <sys/types.h>

#include "netlib.h"
#include "store.h"

struct zarrc__http_xfer;

typedef struct zarrc__http_client {
    pthread_mutex_t mu; /* the idle pool and every member of the multi below */
    CURL **idle;        /* handles not in use (without the multi their connections stay open) */
    size_t nidle, cap;
    /* ---- the multi (ZARRC_HTTP_MULTI, default 1) ---- */
    bool use_multi;
    CURLM *multi;                  /* touched by the event thread only (and by start/stop) */
    pthread_t thread;              /* the event thread, when `pid` is this process */
    pid_t pid;                     /* the process whose event thread runs (0: none) */
    long event_tid;                /* the event thread's kernel thread id (for the trace) */
    bool stop;                     /* asks the event thread to end */
    struct zarrc__http_xfer *head; /* submitted, not yet added to the multi (FIFO) */
    struct zarrc__http_xfer **tail;
    struct zarrc__http_client *next_client; /* the registry that pthread_atfork walks */
    /* ---- settings ---- */
    long connect_timeout_ms; /* ZARRC_HTTP_CONNECT_TIMEOUT_MS, default 5000 */
    long low_speed_s;        /* abort when < 1 B/s for this long: ZARRC_HTTP_STALL_TIMEOUT_S, default 30 */
    int max_retries;         /* ZARRC_HTTP_RETRIES, default 8 */
    long retry_base_ms;      /* first backoff: ZARRC_HTTP_RETRY_BASE_MS, default 100 (cap 5 s) */
    long buffer_size;        /* libcurl's receive/upload buffers: ZARRC_HTTP_BUFFER_SIZE, default 512 KiB */
    bool trace;              /* ZARRC_HTTP_TRACE=1: one line per attempt on stderr (timings) */
} zarrc__http_client;

typedef struct zarrc__http_req {
    /* ---- the request ---- */
    const char *method; /* "GET", "HEAD", "PUT", "POST", "DELETE" */
    const char *url;
    const char *headers[8]; /* header lines, NULL-terminated; every one is signed */
    const char *sigv4;      /* CURLOPT_AWS_SIGV4 value, NULL: unsigned */
    const char *user, *password;
    const void *body; /* PUT / POST body */
    size_t body_len;
    zarrc_buf *out; /* 2xx bodies go here (NULL: discarded); others to `err` */
    bool xml_answer;  /* the 2xx body is an S3 XML document: one whose root is <Error> (S3 sends
                         these with 200 for CompleteMultipartUpload / CopyObject) is retried
                         like a 5xx, then reported (moved to `err`, error_doc set) */
    /* ---- the response ---- */
    long status;
    char etag[ZARRC_STORE_VERSION_MAX];
    char content_range[128];
    long long content_length; /* -1 when absent */
    zarrc_buf err;            /* body of a non-2xx answer, at most 64 KiB (owned: release it) */
    bool error_doc;           /* the last answer was a 2xx carrying an <Error> document */
    size_t put_pos;           /* internal: upload position */
} zarrc__http_req;

/** Set up a client from the environment (see the members). */
ZARRC_HIDDEN int zarrc__http_client_init(zarrc__http_client *c);
ZARRC_HIDDEN void zarrc__http_client_destroy(zarrc__http_client *c);

/** Perform `r`, retrying transient failures. ZARRC_OK once an HTTP answer arrived that is not
 *  transient (any status: look at r->status); ZARRC_EIO with a message naming `what` after
 *  exhausted retries (a 2xx with an <Error> document when r->xml_answer counts as transient)
 *  or on a permanent transport error (DNS failure, bad URL). Thread-safe. */
ZARRC_HIDDEN int zarrc__http_perform(zarrc__http_client *c, zarrc__http_req *r, const char *what);

/** The Range header line for a store get (offset < 0: suffix; length < 0: to the end) into
 *  line[96]; "" when the whole value is asked for. ZARRC_EINVAL on overflow. */
ZARRC_HIDDEN int zarrc__http_range(int64_t offset, int64_t length, char line[96]);

/** Judge a ranged GET's answer in r (200, 206 or 416) for the range asked: a 206 is accepted
 *  only when its Content-Range starts where asked and covers exactly the bytes received; a 200
 *  (the server ignored Range) is cut to the range locally unless `require_206`; a 416 is an
 *  empty value. r->out holds the body. ZARRC_EIO naming `what` otherwise. */
ZARRC_HIDDEN int zarrc__http_ranged_body(zarrc__http_req *r, int64_t offset, int64_t length, bool ranged,
                                         bool require_206, const char *what);

/** Percent-encode `s` (RFC 3986 unreserved kept; '/' kept when keep_slash) appended to *b as
 *  text (NUL-terminated). */
ZARRC_HIDDEN int zarrc__http_encode(zarrc_buf *b, const char *s, size_t n, bool keep_slash);

/** The text of the first <tag>…</tag> element in xml[0, n) (XML entities decoded) as a new
 *  string, or NULL when there is none (no error set) or on ENOMEM (error set, *nomem true).
 *  *next (may be NULL) receives the position after the element. */
ZARRC_HIDDEN char *zarrc__xml_text(const char *xml, size_t n, const char *tag, size_t *next, bool *nomem);

/** Whether xml[0, n) is an S3 error document: its root element (after an optional XML
 *  declaration and white space) is <Error>. */
ZARRC_HIDDEN bool zarrc__xml_is_error(const void *xml, size_t n);

#endif
