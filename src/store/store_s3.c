/*
 * store_s3.c — Amazon S3 and S3-compatible object stores over libcurl (s3://bucket/prefix).
 *
 * Requests are signed with libcurl's SigV4 (CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3") with the
 * payload hash sent explicitly in x-amz-content-sha256 (libcurl 7.88 does not add it), keys
 * percent-encoded (unreserved characters and '/'), query parameters sorted and encoded, since
 * libcurl signs the URL exactly as written. Configuration (docs/stores.md): credentials from
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the AWS_PROFILE section
 * of ~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE), else anonymous; endpoint from
 * AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (then path-style URLs) or AWS's virtual-hosted one;
 * region from AWS_REGION / AWS_DEFAULT_REGION (us-east-1). The same as URL options:
 * s3://bucket/prefix?endpoint=URL&region=R&profile=P&anonymous=1.
 *
 * Multi-writer safety: a writable handle probes once at open whether the server honours
 * If-None-Match: * and If-Match on PUT (moto, AWS do; Swift's s3api answers 501). If it does,
 * the handle offers put with ZARRC_PUT_IF_ABSENT / ZARRC_PUT_IF_MATCH plus get_versioned
 * (ETags), and the library's read-modify-writes are compare-and-swap loops (no lost update).
 * If it does not, the handle is of a type without get_versioned: the library then gives no
 * multi-writer guarantee (single writer per key), never a false one.
 */
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "http_client.h"

typedef struct s3_store {
    zarrc__http_client http;
    char *base;   /* "http://host:port/bucket" (path style) or "https://bucket.s3.R.amazonaws.com" */
    char *bucket;
    char *prefix; /* "" or "p/q/" */
    char *sigv4;  /* NULL: anonymous */
    char *access_key, *secret_key, *token_header;
    char *display; /* "s3://bucket/prefix" for messages */
    bool conditional;
    int list_page; /* max-keys of ListObjectsV2 (ZARRC_S3_LIST_PAGE; 0: the server's 1000) */
    uint64_t mp_threshold; /* values larger than this go up in parts (multipart upload) */
    uint64_t part_size;    /* size of each part but the last */
    pthread_mutex_t mp_mu; /* guards mp_cond */
    int mp_cond[2]; /* does CompleteMultipartUpload honour If-None-Match: * [0] / If-Match [1]?
                       -1: not asked yet (probed on first need), 0: no, 1: yes */
} s3_store;

#define MiB (1024ull * 1024ull)
#define S3_PUT_MAX (5ull * 1024ull * MiB) /* the largest value one PUT may store */
#define S3_PARTS_MAX 10000u

/* ---- configuration ---- */

static char *env_dup(const char *a, const char *b)
{
    const char *v = getenv(a);
    if ((!v || !*v) && b)
        v = getenv(b);
    return v && *v ? zarrc__strdup(v) : NULL;
}

/* `key` of INI section `section` of `path` (malloc'd), NULL when absent. */
static char *ini_value(const char *path, const char *section, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *line = NULL, *found = NULL;
    size_t cap = 0;
    bool in = false;
    while (!found && getline(&line, &cap, f) > 0) {
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t l = strlen(s);
        while (l && (s[l - 1] == '\n' || s[l - 1] == '\r' || s[l - 1] == ' ' || s[l - 1] == '\t'))
            s[--l] = '\0';
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (e) {
                *e = '\0';
                const char *name = s + 1;
                if (!strncmp(name, "profile ", 8))
                    name += 8;
                in = !strcmp(name, section);
            }
            continue;
        }
        if (!in || *s == '#' || *s == ';')
            continue;
        char *eq = strchr(s, '=');
        if (!eq)
            continue;
        char *k = s, *ke = eq;
        while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
            ke--;
        char *v = eq + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if ((size_t)(ke - k) == strlen(key) && !strncmp(k, key, strlen(key)))
            found = zarrc__strdup(v);
    }
    free(line);
    fclose(f);
    return found;
}

typedef struct s3_opts {
    char *endpoint, *region, *profile, *mp_threshold, *part_size;
    bool anonymous;
} s3_opts;

/* Options after '?' in the location: endpoint=, region=, profile=, anonymous=1. */
static int parse_opts(const char *q, s3_opts *o)
{
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        size_t kl = eq ? (size_t)(eq - q) : len;
        char *val = eq ? zarrc__sprintf("%.*s", (int)(len - kl - 1), eq + 1) : zarrc__strdup("1");
        if (!val)
            return ZARRC_ENOMEM;
        char **slot = NULL;
        if (kl == 8 && !strncmp(q, "endpoint", 8))
            slot = &o->endpoint;
        else if (kl == 6 && !strncmp(q, "region", 6))
            slot = &o->region;
        else if (kl == 7 && !strncmp(q, "profile", 7))
            slot = &o->profile;
        else if (kl == 19 && !strncmp(q, "multipart_threshold", 19))
            slot = &o->mp_threshold;
        else if (kl == 9 && !strncmp(q, "part_size", 9))
            slot = &o->part_size;
        else if (kl == 9 && !strncmp(q, "anonymous", 9)) {
            o->anonymous = strcmp(val, "0") != 0;
            free(val);
        } else {
            int rc = zarrc_error_set(ZARRC_EINVAL,
                                     "unknown S3 option '%.*s' (endpoint, region, profile, anonymous, "
                                     "multipart_threshold, part_size)",
                                     (int)kl, q);
            free(val);
            return rc;
        }
        if (slot) {
            free(*slot);
            *slot = val;
        }
        q = amp ? amp + 1 : NULL;
    }
    return ZARRC_OK;
}

/* A size option ("67108864", "64MiB", "64M", "256KiB", "1GiB") in [lo, hi] bytes. */
static int parse_size(const char *v, const char *what, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    uint64_t mul = 1;
    if (end == v || errno || *v == '-')
        mul = 0;
    else if (!*end)
        mul = 1;
    else if (!strcasecmp(end, "k") || !strcasecmp(end, "kib"))
        mul = 1024;
    else if (!strcasecmp(end, "m") || !strcasecmp(end, "mib"))
        mul = MiB;
    else if (!strcasecmp(end, "g") || !strcasecmp(end, "gib"))
        mul = 1024 * MiB;
    else
        mul = 0;
    if (!mul || x > hi / mul || x * mul < lo)
        return zarrc_error_set(ZARRC_EINVAL, "S3 %s '%s' must be a size from %llu to %llu bytes (suffix k, M, G)",
                               what, v, (unsigned long long)lo, (unsigned long long)hi);
    *out = x * mul;
    return ZARRC_OK;
}

/* ---- helpers ---- */

static void hex_sha256(const void *data, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int ml = 0;
    EVP_Digest(data ? data : "", n, md, &ml, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* URL of the object `key` (already with the store prefix; NULL = the bucket) + "?" + query. */
static char *object_url(s3_store *s, const char *key, const char *query)
{
    zarrc_buf b = ZARRC_BUF_INIT;
    int rc = zarrc__buf_append(&b, s->base, strlen(s->base));
    if (!rc)
        rc = zarrc__buf_append(&b, "/", 1);
    if (!rc && key)
        rc = zarrc__http_encode(&b, key, strlen(key), true);
    if (!rc && query && *query) {
        rc = zarrc__buf_append(&b, "?", 1);
        if (!rc)
            rc = zarrc__buf_append(&b, query, strlen(query));
    }
    if (!rc)
        rc = zarrc__buf_append(&b, "", 1);
    if (rc) {
        zarrc_buf_release(&b);
        return NULL;
    }
    return (char *)b.data;
}

static char *full_key(s3_store *s, const char *key) { return zarrc__sprintf("%s%s", s->prefix, key); }

/* Fill in signing and the payload hash; `extra` header lines follow. hashbuf holds the header. */
static void prepare(s3_store *s, zarrc__http_req *r, const char *method, const char *url, const void *body,
                    size_t n, char hashhdr[128])
{
    r->method = method;
    r->url = url;
    r->body = body;
    r->body_len = n;
    r->content_length = -1;
    size_t k = 0;
    if (s->sigv4) {
        char hex[65];
        hex_sha256(body, n, hex);
        snprintf(hashhdr, 128, "x-amz-content-sha256: %s", hex);
        r->headers[k++] = hashhdr;
        if (s->token_header)
            r->headers[k++] = s->token_header;
        r->sigv4 = s->sigv4;
        r->user = s->access_key;
        r->password = s->secret_key;
    }
}

static void add_header(zarrc__http_req *r, const char *line)
{
    size_t k = 0;
    while (r->headers[k])
        k++;
    if (k + 1 < sizeof r->headers / sizeof *r->headers)
        r->headers[k] = line;
}

/* The S3 error of a non-2xx answer as "HTTP 403 AccessDenied: message". */
static char *describe(zarrc__http_req *r)
{
    bool nm;
    const char *x = r->err.data ? (const char *)r->err.data : "";
    char *code = zarrc__xml_text(x, r->err.size, "Code", NULL, &nm);
    char *msg = zarrc__xml_text(x, r->err.size, "Message", NULL, &nm);
    char *d = zarrc__sprintf("HTTP %ld%s%s%s%s", r->status, code ? " " : "", code ? code : "", msg ? ": " : "",
                             msg ? msg : "");
    free(code);
    free(msg);
    return d;
}

/* Map an unexpected status to an error naming the request. */
static int status_error(s3_store *s, zarrc__http_req *r, const char *op, const char *key)
{
    char *d = describe(r);
    int code = ZARRC_EIO;
    if (r->status == 401 || r->status == 403)
        code = ZARRC_EAUTH;
    else if (r->status == 404)
        code = ZARRC_ENOTFOUND;
    else if (r->status == 501)
        code = ZARRC_EUNSUPPORTED;
    int rc = zarrc_error_set(code, "S3 %s 's3://%s/%s': %s%s", op, s->bucket, key ? key : "", d ? d : "",
                             code == ZARRC_EAUTH ? " (check the credentials and the region)" : "");
    free(d);
    return rc;
}

static bool no_such_bucket(zarrc__http_req *r)
{
    return r->status == 404 && r->err.data && strstr((const char *)r->err.data, "NoSuchBucket");
}

/* ---- operations ---- */

typedef struct s3_call {
    zarrc__http_req r;
    char hash[128];
    char *url, *key;
    char what[64];
} s3_call;

static void call_done(s3_call *c)
{
    zarrc_buf_release(&c->r.err);
    free(c->url);
    free(c->key);
}

/* Run method on the object `key` (store-relative; NULL = the bucket) with an optional query. */
static int run(s3_store *s, s3_call *c, const char *method, const char *key, bool relative, const char *query,
               const void *body, size_t n, zarrc_buf *out)
{
    memset(c, 0, sizeof *c);
    if (key && !(c->key = relative ? full_key(s, key) : zarrc__strdup(key)))
        return ZARRC_ENOMEM;
    if (!(c->url = object_url(s, c->key, query)))
        return ZARRC_ENOMEM;
    prepare(s, &c->r, method, c->url, body, n, c->hash);
    c->r.out = out;
    snprintf(c->what, sizeof c->what, "S3 %s", method);
    return ZARRC_OK;
}

static int perform(s3_store *s, s3_call *c)
{
    char *what = zarrc__sprintf("%s 's3://%s/%s'", c->what, s->bucket, c->key ? c->key : "");
    if (!what)
        return ZARRC_ENOMEM;
    int rc = zarrc__http_perform(&s->http, &c->r, what);
    free(what);
    return rc;
}

static int s3_head(s3_store *s, const char *key, uint64_t *size, char *version)
{
    s3_call c;
    int rc = run(s, &c, "HEAD", key, true, NULL, NULL, 0, NULL);
    if (!rc)
        rc = perform(s, &c);
    if (!rc) {
        if (c.r.status == 404)
            rc = ZARRC_ENOTFOUND;
        else if (c.r.status != 200)
            rc = status_error(s, &c.r, "HEAD", c.key);
        else {
            if (size)
                *size = c.r.content_length >= 0 ? (uint64_t)c.r.content_length : 0;
            if (version)
                snprintf(version, ZARRC_STORE_VERSION_MAX, "%s", c.r.etag);
        }
    }
    call_done(&c);
    return rc;
}

static int s3_get_impl(s3_store *s, const char *key, int64_t offset, int64_t length, zarrc_buf *out,
                       char *version)
{
    if (offset >= 0 && length == 0) {
        int rc = s3_head(s, key, NULL, version);
        out->size = 0;
        return rc;
    }
    char range[96];
    if (zarrc__http_range(offset, length, range))
        return zarrc__error_context(ZARRC_EINVAL, "key '%s': ", key);
    s3_call c;
    int rc = run(s, &c, "GET", key, true, NULL, NULL, 0, out);
    if (!rc && *range)
        add_header(&c.r, range);
    if (!rc)
        rc = perform(s, &c);
    if (!rc) {
        if (c.r.status == 404) {
            rc = no_such_bucket(&c.r) ? status_error(s, &c.r, "GET", c.key) : ZARRC_ENOTFOUND;
        } else if (c.r.status == 416 || c.r.status == 206 || c.r.status == 200) {
            char *what = zarrc__sprintf("S3 GET 's3://%s/%s'", s->bucket, c.key);
            rc = what ? zarrc__http_ranged_body(&c.r, offset, length, *range != '\0', false, what) : ZARRC_ENOMEM;
            free(what);
        } else
            rc = status_error(s, &c.r, "GET", c.key);
        if (!rc && version)
            snprintf(version, ZARRC_STORE_VERSION_MAX, "%s", c.r.etag);
    }
    if (rc)
        out->size = 0;
    call_done(&c);
    return rc;
}

static int s3_get(void *state, const char *key, int64_t offset, int64_t length, zarrc_buf *out)
{
    return s3_get_impl(state, key, offset, length, out, NULL);
}

static int s3_get_versioned(void *state, const char *key, zarrc_buf *out, char *version)
{
    int rc = s3_get_impl(state, key, 0, -1, out, version);
    if (rc == ZARRC_OK && !*version)
        return zarrc_error_set(ZARRC_EIO, "S3 GET '%s': the answer has no ETag", key);
    return rc;
}

static int s3_version(void *state, const char *key, char *version)
{
    return s3_head(state, key, NULL, version);
}

static int s3_size(void *state, const char *key, uint64_t *size) { return s3_head(state, key, size, NULL); }

/* PUT with optional If-None-Match / If-Match lines; raw result in *status. */
static int put_raw(s3_store *s, const char *full, const void *data, size_t n, const char *cond, long *status,
                   s3_call *c)
{
    int rc = run(s, c, "PUT", full, false, NULL, data, n, NULL);
    if (rc)
        return rc;
    add_header(&c->r, "Content-Type: application/octet-stream");
    if (cond)
        add_header(&c->r, cond);
    rc = perform(s, c);
    *status = c->r.status;
    return rc;
}

static int xml_escape_append(zarrc_buf *b, const char *s)
{
    int rc = ZARRC_OK;
    for (; *s && !rc; s++) {
        const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '"' ? "&quot;"
                        : *s == '\'' ? "&apos;" : NULL;
        rc = e ? zarrc__buf_append(b, e, strlen(e)) : zarrc__buf_append(b, s, 1);
    }
    return rc;
}

/* ---- multipart upload ---- */

/* "POST key?uploads=": the new upload's id (malloc'd) in *id. */
static int mp_create(s3_store *s, const char *full, char **id)
{
    *id = NULL;
    s3_call c;
    zarrc_buf body = ZARRC_BUF_INIT;
    int rc = run(s, &c, "POST", full, false, "uploads=", NULL, 0, &body);
    if (!rc) {
        add_header(&c.r, "Content-Type: application/octet-stream");
        c.r.xml_answer = true;
        snprintf(c.what, sizeof c.what, "S3 CreateMultipartUpload");
        rc = perform(s, &c);
    }
    if (!rc && c.r.status != 200)
        rc = status_error(s, &c.r, "CreateMultipartUpload", c.key);
    if (!rc) {
        bool nm;
        *id = zarrc__xml_text(body.data ? (const char *)body.data : "", body.size, "UploadId", NULL, &nm);
        if (!*id)
            rc = nm ? ZARRC_ENOMEM
                    : zarrc_error_set(ZARRC_EIO, "S3 CreateMultipartUpload 's3://%s/%s': the answer has no UploadId",
                                      s->bucket, full);
    }
    zarrc_buf_release(&body);
    call_done(&c);
    return rc;
}

/* "uploadId=ID" (percent-encoded), optionally after "partNumber=N&" (sorted, as signed). */
static char *mp_query(const char *id, unsigned part)
{
    zarrc_buf q = ZARRC_BUF_INIT;
    char pn[32] = "";
    if (part)
        snprintf(pn, sizeof pn, "partNumber=%u&", part);
    int rc = zarrc__buf_append(&q, pn, strlen(pn));
    if (!rc)
        rc = zarrc__buf_append(&q, "uploadId=", 9);
    if (!rc)
        rc = zarrc__http_encode(&q, id, strlen(id), false);
    if (rc) {
        zarrc_buf_release(&q);
        return NULL;
    }
    return (char *)q.data;
}

/* "PUT key?partNumber=N&uploadId=ID": the part's ETag appended to *xml as a <Part> element. */
static int mp_part(s3_store *s, const char *full, const char *id, unsigned part, const void *data, size_t n,
                   zarrc_buf *xml)
{
    char *q = mp_query(id, part);
    if (!q)
        return zarrc__enomem();
    s3_call c;
    int rc = run(s, &c, "PUT", full, false, q, data, n, NULL);
    free(q);
    if (!rc) {
        snprintf(c.what, sizeof c.what, "S3 UploadPart %u", part);
        rc = perform(s, &c);
    }
    if (!rc && c.r.status != 200)
        rc = status_error(s, &c.r, "UploadPart", c.key);
    if (!rc && !c.r.etag[0])
        rc = zarrc_error_set(ZARRC_EIO, "S3 UploadPart %u of 's3://%s/%s': the answer has no ETag", part, s->bucket,
                             full);
    if (!rc) {
        char head[64];
        snprintf(head, sizeof head, "<Part><PartNumber>%u</PartNumber><ETag>", part);
        rc = zarrc__buf_append(xml, head, strlen(head));
        if (!rc)
            rc = xml_escape_append(xml, c.r.etag);
        if (!rc)
            rc = zarrc__buf_append(xml, "</ETag></Part>", 14);
    }
    call_done(&c);
    return rc;
}

/* "POST key?uploadId=ID" with the part list; cond: NULL or an If-None-Match / If-Match line.
 * A 412 (or 409) is reported as *status with ZARRC_OK; other failures as errors. */
static int mp_complete(s3_store *s, const char *full, const char *id, const zarrc_buf *parts, const char *cond,
                       long *status)
{
    char *q = mp_query(id, 0);
    if (!q)
        return zarrc__enomem();
    zarrc_buf body = ZARRC_BUF_INIT, resp = ZARRC_BUF_INIT;
    static const char head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><CompleteMultipartUpload>";
    int rc = zarrc__buf_append(&body, head, sizeof head - 1);
    if (!rc)
        rc = zarrc__buf_append(&body, parts->data, parts->size);
    if (!rc)
        rc = zarrc__buf_append(&body, "</CompleteMultipartUpload>", 26);
    s3_call c;
    memset(&c, 0, sizeof c);
    if (!rc)
        rc = run(s, &c, "POST", full, false, q, body.data, body.size, &resp);
    free(q);
    if (!rc) {
        add_header(&c.r, "Content-Type: application/xml");
        if (cond)
            add_header(&c.r, cond);
        c.r.xml_answer = true;
        snprintf(c.what, sizeof c.what, "S3 CompleteMultipartUpload");
        rc = perform(s, &c);
    }
    *status = c.r.status;
    if (!rc && c.r.status != 200 && !(cond && (c.r.status == 412 || c.r.status == 409)))
        rc = status_error(s, &c.r, "CompleteMultipartUpload", c.key);
    zarrc_buf_release(&resp);
    zarrc_buf_release(&body);
    call_done(&c);
    return rc;
}

/* "DELETE key?uploadId=ID": the parts uploaded so far are dropped (best effort: the error of
 * the upload itself, `failure` when not ZARRC_OK, is what the caller reports; its message stays). */
static void mp_abort(s3_store *s, const char *full, const char *id, int failure)
{
    char *q = mp_query(id, 0);
    if (!q)
        return;
    char *saved = failure ? zarrc__strdup(zarrc_error_last()) : NULL;
    s3_call c;
    if (!run(s, &c, "DELETE", full, false, q, NULL, 0, NULL)) {
        snprintf(c.what, sizeof c.what, "S3 AbortMultipartUpload");
        perform(s, &c);
    }
    call_done(&c);
    free(q);
    if (saved) {
        zarrc_error_set(failure, "%s", saved); /* keep the upload's own message */
        free(saved);
    }
}

/* Store data[0, n) at `full` in parts of s->part_size (more when 10,000 parts would not hold
 * it), then complete with `cond`. On any failure the upload is aborted: the key keeps its old
 * value (S3 shows a multipart value only once completed). *status as for mp_complete. */
static int mp_put(s3_store *s, const char *full, const uint8_t *data, size_t n, const char *cond, long *status)
{
    *status = 0;
    uint64_t part = s->part_size;
    if ((n + part - 1) / part > S3_PARTS_MAX)
        part = (n + S3_PARTS_MAX - 1) / S3_PARTS_MAX;
    char *id = NULL;
    int rc = mp_create(s, full, &id);
    if (rc)
        return rc;
    zarrc_buf parts = ZARRC_BUF_INIT;
    unsigned k = 1;
    for (size_t at = 0; !rc && at < n; at += (size_t)part, k++)
        rc = mp_part(s, full, id, k, data + at, n - at < part ? n - at : (size_t)part, &parts);
    if (!rc)
        rc = mp_complete(s, full, id, &parts, cond, status);
    if (rc || *status != 200)
        mp_abort(s, full, id, rc);
    zarrc_buf_release(&parts);
    free(id);
    return rc;
}

/* Whether CompleteMultipartUpload honours the condition `which` (0: If-None-Match: *, 1:
 * If-Match), asked once per handle on the first large conditional write: complete an upload
 * onto an existing probe object under a condition that must fail. AWS S3 honours both; moto
 * only If-None-Match; a server that ignores the header completes the upload (then: no). */
static int mp_conditional(s3_store *s, int which, bool *yes)
{
    pthread_mutex_lock(&s->mp_mu);
    int rc = ZARRC_OK;
    if (s->mp_cond[which] < 0) {
        char *key = zarrc__sprintf("%s.zarrc-probe-mp-%ld-%p", s->prefix, (long)getpid(), (void *)s);
        s3_call c;
        long st = 0;
        rc = key ? put_raw(s, key, "1", 1, NULL, &st, &c) : ZARRC_ENOMEM;
        if (key && !rc && st != 200)
            rc = status_error(s, &c.r, "PUT", key);
        if (key)
            call_done(&c);
        if (!rc)
            rc = mp_put(s, key, (const uint8_t *)"2", 1,
                        which ? "If-Match: \"0123456789abcdef0123456789abcdef\"" : "If-None-Match: *", &st);
        if (!rc)
            s->mp_cond[which] = st == 412 || st == 409;
        if (key && !run(s, &c, "DELETE", key, false, NULL, NULL, 0, NULL))
            perform(s, &c);
        if (key)
            call_done(&c);
        free(key);
    }
    *yes = s->mp_cond[which] == 1;
    pthread_mutex_unlock(&s->mp_mu);
    return rc;
}

static int s3_put(void *state, const char *key, const void *data, size_t n, unsigned flags, const char *if_version)
{
    s3_store *s = state;
    char *cond = NULL;
    if ((flags & ZARRC_PUT_IF_ABSENT) && !s->conditional) {
        /* Emulated for servers without conditional writes (not atomic; see the header). */
        int rc = s3_head(s, key, NULL, NULL);
        if (rc == ZARRC_OK)
            return ZARRC_EEXISTS;
        if (rc != ZARRC_ENOTFOUND)
            return rc;
        flags &= ~ZARRC_PUT_IF_ABSENT;
    }
    if ((flags & ZARRC_PUT_IF_MATCH) && !s->conditional)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "S3 server of '%s' does not support conditional writes",
                               s->display);
    bool conditional = flags & (ZARRC_PUT_IF_ABSENT | ZARRC_PUT_IF_MATCH);
    /* Large values go up in parts. A conditional one only when the server honours the condition
     * on CompleteMultipartUpload; otherwise with one conditional PUT (up to 5 GiB). */
    bool multipart = n > s->mp_threshold;
    if (multipart && conditional) {
        int rc = mp_conditional(s, (flags & ZARRC_PUT_IF_MATCH) ? 1 : 0, &multipart);
        if (rc)
            return rc;
        if (!multipart && n > S3_PUT_MAX)
            return zarrc_error_set(ZARRC_EUNSUPPORTED,
                                   "S3 key '%s' of '%s': a conditional write of %zu bytes needs a multipart upload "
                                   "whose completion honours %s, which this server does not",
                                   key, s->display, n, (flags & ZARRC_PUT_IF_MATCH) ? "If-Match" : "If-None-Match");
    }
    if (!multipart && n > S3_PUT_MAX)
        multipart = true; /* one PUT cannot store it, whatever the threshold */
    if (flags & ZARRC_PUT_IF_ABSENT)
        cond = zarrc__strdup("If-None-Match: *");
    else if (flags & ZARRC_PUT_IF_MATCH)
        cond = zarrc__sprintf("If-Match: %s", if_version ? if_version : "\"\"");
    if (conditional && !cond)
        return ZARRC_ENOMEM;
    s3_call c;
    memset(&c, 0, sizeof c);
    long status = 0;
    char *full = full_key(s, key);
    int rc = !full ? ZARRC_ENOMEM
             : multipart ? mp_put(s, full, data, n, cond, &status)
                         : put_raw(s, full, data, n, cond, &status, &c);
    if (!rc && (status < 200 || status >= 300)) {
        if ((status == 412 || status == 409) && (flags & ZARRC_PUT_IF_ABSENT))
            rc = ZARRC_EEXISTS;
        else if ((status == 412 || status == 409) && (flags & ZARRC_PUT_IF_MATCH))
            rc = ZARRC_ECONFLICT;
        else
            rc = status_error(s, &c.r, "PUT", full);
    }
    free(full);
    call_done(&c);
    free(cond);
    return rc;
}

static int s3_set(void *state, const char *key, const void *data, size_t n)
{
    return s3_put(state, key, data, n, 0, NULL);
}

static int s3_erase(void *state, const char *key)
{
    s3_store *s = state;
    /* S3 answers 204 for missing keys too: ask first so that a miss is reported. */
    int rc = s3_head(s, key, NULL, NULL);
    if (rc)
        return rc;
    s3_call c;
    rc = run(s, &c, "DELETE", key, true, NULL, NULL, 0, NULL);
    if (!rc)
        rc = perform(s, &c);
    if (!rc && c.r.status != 204 && c.r.status != 200)
        rc = c.r.status == 404 ? ZARRC_ENOTFOUND : status_error(s, &c.r, "DELETE", c.key);
    call_done(&c);
    return rc;
}

/* ListObjectsV2 under the store prefix + `prefix`; cb gets names relative to the store (all)
 * or to the full prefix (dir). */
static int s3_list_impl(s3_store *s, const char *prefix, bool dir, zarrc_list_cb cb, void *ctx)
{
    char *full = full_key(s, prefix);
    if (!full)
        return ZARRC_ENOMEM;
    size_t fl = strlen(full), sl = strlen(s->prefix);
    char *token = NULL;
    int rc = ZARRC_OK;
    do {
        zarrc_buf q = ZARRC_BUF_INIT;
        if (token) {
            rc = zarrc__buf_append(&q, "continuation-token=", 19);
            if (!rc)
                rc = zarrc__http_encode(&q, token, strlen(token), false);
            if (!rc)
                rc = zarrc__buf_append(&q, "&", 1);
        }
        if (!rc && dir)
            rc = zarrc__buf_append(&q, "delimiter=%2F&", 14);
        if (!rc)
            rc = zarrc__buf_append(&q, "list-type=2&", 12);
        if (!rc && s->list_page) {
            char mk[32];
            snprintf(mk, sizeof mk, "max-keys=%d&", s->list_page);
            rc = zarrc__buf_append(&q, mk, strlen(mk));
        }
        if (!rc)
            rc = zarrc__buf_append(&q, "prefix=", 7);
        if (!rc)
            rc = zarrc__http_encode(&q, full, fl, false);
        free(token);
        token = NULL;
        if (rc) {
            zarrc_buf_release(&q);
            break;
        }
        zarrc_buf body = ZARRC_BUF_INIT;
        s3_call c;
        rc = run(s, &c, "GET", NULL, false, (const char *)q.data, NULL, 0, &body);
        zarrc_buf_release(&q);
        c.r.xml_answer = true;
        if (!rc)
            rc = perform(s, &c);
        if (!rc && c.r.status != 200)
            rc = status_error(s, &c.r, "list", full);
        const char *x = body.data ? (const char *)body.data : "";
        size_t n = body.size, pos = 0;
        bool nm = false;
        /* Keys */
        while (rc == ZARRC_OK) {
            size_t next;
            char *k = zarrc__xml_text(x + pos, n - pos, "Key", &next, &nm);
            if (!k)
                break;
            pos += next;
            if (strlen(k) >= fl && !strncmp(k, full, fl))
                rc = dir ? (k[fl] ? cb(ctx, k + fl, 0) : ZARRC_OK) : cb(ctx, k + sl, 0);
            free(k);
        }
        for (pos = 0; rc == ZARRC_OK && dir;) {
            const char *a = pos < n ? memmem(x + pos, n - pos, "<CommonPrefixes>", 16) : NULL;
            if (!a)
                break;
            size_t at = (size_t)(a - x), next;
            char *p = zarrc__xml_text(a, n - at, "Prefix", &next, &nm);
            if (!p)
                break;
            pos = at + next;
            size_t pl = strlen(p);
            if (pl > fl && !strncmp(p, full, fl) && p[pl - 1] == '/') {
                p[pl - 1] = '\0';
                rc = cb(ctx, p + fl, 1);
            }
            free(p);
        }
        if (rc == ZARRC_OK && nm)
            rc = ZARRC_ENOMEM;
        if (rc == ZARRC_OK) {
            char *trunc = zarrc__xml_text(x, n, "IsTruncated", NULL, &nm);
            if (trunc && !strcmp(trunc, "true")) {
                token = zarrc__xml_text(x, n, "NextContinuationToken", NULL, &nm);
                if (!token)
                    rc = nm ? ZARRC_ENOMEM
                            : zarrc_error_set(ZARRC_EIO, "S3 list of 's3://%s/%s': truncated without a token",
                                              s->bucket, full);
            }
            free(trunc);
        }
        zarrc_buf_release(&body);
        call_done(&c);
    } while (rc == ZARRC_OK && token);
    free(token);
    free(full);
    return rc;
}

static int s3_list(void *state, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    return s3_list_impl(state, prefix, false, cb, ctx);
}

static int s3_list_dir(void *state, const char *prefix, zarrc_list_cb cb, void *ctx)
{
    size_t pl = strlen(prefix);
    if (pl && prefix[pl - 1] != '/')
        return zarrc_error_set(ZARRC_EINVAL, "directory listing prefix '%s' must end with '/'", prefix);
    return s3_list_impl(state, prefix, true, cb, ctx);
}

typedef struct key_list {
    char **keys;
    size_t n, cap;
} key_list;

static int collect(void *ctx, const char *name, int is_prefix)
{
    key_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        char **k = zarrc__realloc(l->keys, cap * sizeof *k);
        if (!k)
            return ZARRC_ENOMEM;
        l->keys = k;
        l->cap = cap;
    }
    if (!(l->keys[l->n] = zarrc__strdup(name)))
        return ZARRC_ENOMEM;
    l->n++;
    return ZARRC_OK;
}

/* One DeleteObjects request for keys[0, n) (store-relative). */
static int delete_batch(s3_store *s, char **keys, size_t n)
{
    zarrc_buf b = ZARRC_BUF_INIT;
    static const char head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete><Quiet>true</Quiet>";
    int rc = zarrc__buf_append(&b, head, sizeof head - 1);
    for (size_t i = 0; i < n && !rc; i++) {
        rc = zarrc__buf_append(&b, "<Object><Key>", 13);
        if (!rc)
            rc = xml_escape_append(&b, s->prefix);
        if (!rc)
            rc = xml_escape_append(&b, keys[i]);
        if (!rc)
            rc = zarrc__buf_append(&b, "</Key></Object>", 15);
    }
    if (!rc)
        rc = zarrc__buf_append(&b, "</Delete>", 9);
    unsigned char md[16];
    unsigned int ml = 0;
    char md5hdr[64] = "Content-MD5: ";
    if (!rc) {
        EVP_Digest(b.data, b.size, md, &ml, EVP_md5(), NULL);
        char *b64 = zarrc__base64_encode(md, sizeof md);
        if (b64)
            snprintf(md5hdr + 13, sizeof md5hdr - 13, "%s", b64);
        else
            rc = zarrc__enomem();
        free(b64);
    }
    s3_call c;
    zarrc_buf resp = ZARRC_BUF_INIT;
    if (!rc)
        rc = run(s, &c, "POST", NULL, false, "delete=", b.data, b.size, &resp);
    else
        memset(&c, 0, sizeof c);
    if (!rc) {
        add_header(&c.r, md5hdr);
        add_header(&c.r, "Content-Type: application/xml");
        c.r.xml_answer = true;
        rc = perform(s, &c);
    }
    if (!rc && c.r.status != 200)
        rc = status_error(s, &c.r, "DeleteObjects", s->prefix);
    if (!rc && resp.size) {
        bool nm;
        char *err = zarrc__xml_text((const char *)resp.data, resp.size, "Error", NULL, &nm);
        if (err) {
            char *k = zarrc__xml_text(err, strlen(err), "Key", NULL, &nm);
            char *code = zarrc__xml_text(err, strlen(err), "Code", NULL, &nm);
            rc = zarrc_error_set(code && !strcmp(code, "AccessDenied") ? ZARRC_EAUTH : ZARRC_EIO,
                                 "S3 DeleteObjects: key 's3://%s/%s' not deleted: %s", s->bucket, k ? k : "?",
                                 code ? code : "?");
            free(k);
            free(code);
            free(err);
        } else if (nm)
            rc = ZARRC_ENOMEM;
    }
    zarrc_buf_release(&resp);
    zarrc_buf_release(&b);
    call_done(&c);
    return rc;
}

static int s3_erase_prefix(void *state, const char *prefix)
{
    s3_store *s = state;
    key_list l = {0};
    int rc = s3_list_impl(s, prefix, false, collect, &l);
    for (size_t i = 0; rc == ZARRC_OK && i < l.n; i += 1000)
        rc = delete_batch(s, l.keys + i, l.n - i < 1000 ? l.n - i : 1000);
    for (size_t i = 0; i < l.n; i++)
        free(l.keys[i]);
    free(l.keys);
    return rc;
}

/* ---- open: configuration, bucket check, conditional-write probe ---- */

static void s3_close(void *state)
{
    s3_store *s = state;
    if (!s)
        return;
    zarrc__http_client_destroy(&s->http);
    pthread_mutex_destroy(&s->mp_mu);
    free(s->base);
    free(s->bucket);
    free(s->prefix);
    free(s->sigv4);
    free(s->access_key);
    free(s->secret_key);
    free(s->token_header);
    free(s->display);
    free(s);
}

/* One small listing: fails early on a missing bucket (created when `create`) or bad credentials. */
static int check_bucket(s3_store *s, bool create)
{
    s3_call c;
    zarrc_buf body = ZARRC_BUF_INIT;
    int rc = run(s, &c, "GET", NULL, false, "list-type=2&max-keys=1", NULL, 0, &body);
    c.r.xml_answer = true;
    if (!rc)
        rc = perform(s, &c);
    if (!rc && no_such_bucket(&c.r) && create) {
        s3_call b;
        rc = run(s, &b, "PUT", NULL, false, NULL, NULL, 0, NULL);
        if (!rc)
            rc = perform(s, &b);
        if (!rc && b.r.status != 200)
            rc = status_error(s, &b.r, "create bucket", "");
        call_done(&b);
    } else if (!rc && c.r.status != 200)
        rc = no_such_bucket(&c.r) ? zarrc_error_set(ZARRC_ENOTFOUND, "S3 bucket '%s' does not exist", s->bucket)
                                  : status_error(s, &c.r, "list", "");
    zarrc_buf_release(&body);
    call_done(&c);
    return rc;
}

/* Whether the server honours If-None-Match: * and If-Match on PUT (see the header). */
static int probe_conditional(s3_store *s, bool *yes)
{
    *yes = false;
    const char *force = getenv("ZARRC_S3_CONDITIONAL_WRITES");
    if (force && (!strcmp(force, "0") || !strcmp(force, "1"))) {
        *yes = force[0] == '1';
        return ZARRC_OK;
    }
    char *key = zarrc__sprintf("%s.zarrc-probe-%ld-%p", s->prefix, (long)getpid(), (void *)s);
    if (!key)
        return ZARRC_ENOMEM;
    s3_call c;
    long st = 0;
    int rc = put_raw(s, key, "1", 1, "If-None-Match: *", &st, &c);
    if (!rc && st == 501)
        st = 0; /* conditional PUT not implemented (Swift): plain writes only */
    else if (!rc && st != 200)
        rc = status_error(s, &c.r, "PUT", key);
    call_done(&c);
    bool ok = !rc && st == 200;
    if (ok) { /* the same again must fail */
        rc = put_raw(s, key, "2", 1, "If-None-Match: *", &st, &c);
        ok = !rc && (st == 412 || st == 409);
        call_done(&c);
    }
    if (ok) { /* and a wrong ETag too */
        rc = put_raw(s, key, "3", 1, "If-Match: \"0123456789abcdef0123456789abcdef\"", &st, &c);
        ok = !rc && (st == 412 || st == 409);
        call_done(&c);
    }
    if (!rc) {
        rc = run(s, &c, "DELETE", key, false, NULL, NULL, 0, NULL);
        if (!rc)
            rc = perform(s, &c);
        call_done(&c);
    }
    free(key);
    *yes = ok;
    return rc;
}

static int s3_open(void **state, const char *location, unsigned flags)
{
    *state = NULL;
    s3_store *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    int rc = zarrc__http_client_init(&s->http);
    if (rc) {
        free(s);
        return rc;
    }
    pthread_mutex_init(&s->mp_mu, NULL);
    s->mp_cond[0] = s->mp_cond[1] = -1;
    const char *page = getenv("ZARRC_S3_LIST_PAGE");
    s->list_page = page ? atoi(page) : 0;
    if (s->list_page < 0 || s->list_page > 1000)
        s->list_page = 0;
    s3_opts o = {0};
    const char *q = strchr(location, '?');
    size_t ll = q ? (size_t)(q - location) : strlen(location);
    rc = parse_opts(q ? q + 1 : NULL, &o);
    const char *slash = memchr(location, '/', ll);
    size_t bl = slash ? (size_t)(slash - location) : ll;
    if (!rc && (bl < 3 || bl > 63))
        rc = zarrc_error_set(ZARRC_EINVAL, "S3 bucket name '%.*s' must have 3 to 63 characters", (int)bl, location);
    for (size_t i = 0; !rc && i < bl; i++) {
        char ch = location[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_'))
            rc = zarrc_error_set(ZARRC_EINVAL, "S3 bucket name '%.*s' has a character other than a-z 0-9 . - _",
                                 (int)bl, location);
    }
    if (!rc) {
        s->bucket = zarrc__sprintf("%.*s", (int)bl, location);
        const char *p = slash ? slash + 1 : location + ll;
        size_t pl = (size_t)(location + ll - p);
        while (pl && p[pl - 1] == '/')
            pl--;
        s->prefix = pl ? zarrc__sprintf("%.*s/", (int)pl, p) : zarrc__strdup("");
        s->display = zarrc__sprintf("s3://%.*s", (int)ll, location);
        if (!s->bucket || !s->prefix || !s->display)
            rc = ZARRC_ENOMEM;
    }
    /* Multipart: values above the threshold go up in parts (AWS needs parts >= 5 MiB but the last). */
    if (!rc && !o.mp_threshold)
        o.mp_threshold = env_dup("ZARRC_S3_MULTIPART_THRESHOLD", NULL);
    if (!rc && !o.part_size)
        o.part_size = env_dup("ZARRC_S3_PART_SIZE", NULL);
    s->mp_threshold = 64 * MiB;
    s->part_size = 16 * MiB;
    if (!rc && o.mp_threshold)
        rc = parse_size(o.mp_threshold, "multipart_threshold", 1, S3_PUT_MAX, &s->mp_threshold);
    if (!rc && o.part_size)
        rc = parse_size(o.part_size, "part_size", 1024, S3_PUT_MAX, &s->part_size);
    if (!rc && !o.endpoint)
        o.endpoint = env_dup("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
    if (!rc && !o.region)
        o.region = env_dup("AWS_REGION", "AWS_DEFAULT_REGION");
    if (!rc && !o.region && !(o.region = zarrc__strdup("us-east-1")))
        rc = ZARRC_ENOMEM;
    const char *skip = getenv("AWS_SKIP_SIGNATURE");
    if (skip && (!strcmp(skip, "1") || !strcasecmp(skip, "true")))
        o.anonymous = true;
    if (!rc && !o.anonymous) {
        s->access_key = env_dup("AWS_ACCESS_KEY_ID", NULL);
        s->secret_key = env_dup("AWS_SECRET_ACCESS_KEY", NULL);
        char *token = env_dup("AWS_SESSION_TOKEN", NULL);
        if (!s->access_key || !s->secret_key) {
            free(s->access_key);
            free(s->secret_key);
            free(token);
            s->access_key = s->secret_key = token = NULL;
            char *file = env_dup("AWS_SHARED_CREDENTIALS_FILE", NULL);
            const char *home = getenv("HOME");
            if (!file && home)
                file = zarrc__sprintf("%s/.aws/credentials", home);
            char *profile = o.profile ? zarrc__strdup(o.profile) : env_dup("AWS_PROFILE", NULL);
            const char *prof = profile ? profile : "default";
            if (file) {
                s->access_key = ini_value(file, prof, "aws_access_key_id");
                s->secret_key = ini_value(file, prof, "aws_secret_access_key");
                token = ini_value(file, prof, "aws_session_token");
            }
            if ((!s->access_key || !s->secret_key) && o.profile)
                rc = zarrc_error_set(ZARRC_EAUTH, "S3 profile '%s' has no credentials in '%s'", prof,
                                     file ? file : "~/.aws/credentials");
            free(file);
            free(profile);
        }
        if (!rc && s->access_key && s->secret_key) {
            s->sigv4 = zarrc__sprintf("aws:amz:%s:s3", o.region);
            if (!s->sigv4)
                rc = ZARRC_ENOMEM;
            if (token && !(s->token_header = zarrc__sprintf("x-amz-security-token: %s", token)))
                rc = ZARRC_ENOMEM;
        }
        free(token);
    }
    if (!rc) {
        if (o.endpoint) {
            size_t el = strlen(o.endpoint);
            while (el && o.endpoint[el - 1] == '/')
                el--;
            if (strncmp(o.endpoint, "http://", 7) && strncmp(o.endpoint, "https://", 8))
                rc = zarrc_error_set(ZARRC_EINVAL, "S3 endpoint '%s' must start with http:// or https://",
                                     o.endpoint);
            else
                s->base = zarrc__sprintf("%.*s/%s", (int)el, o.endpoint, s->bucket);
        } else
            s->base = zarrc__sprintf("https://%s.s3.%s.amazonaws.com", s->bucket, o.region);
        if (!rc && !s->base)
            rc = ZARRC_ENOMEM;
    }
    bool writable = !(flags & ZARRC_STORE_READONLY);
    if (!rc && (writable || s->sigv4))
        rc = check_bucket(s, writable && (flags & ZARRC_STORE_CREATE));
    if (!rc && writable)
        rc = probe_conditional(s, &s->conditional);
    free(o.endpoint);
    free(o.region);
    free(o.profile);
    free(o.mp_threshold);
    free(o.part_size);
    if (rc) {
        s3_close(s);
        return rc;
    }
    *state = s;
    return ZARRC_OK;
}

static char *s3_canonical(void *state)
{
    s3_store *s = state;
    size_t pl = strlen(s->prefix);
    return zarrc__sprintf("%s/%.*s", s->base, pl ? (int)pl - 1 : 0, s->prefix);
}

#define S3_CAPS                                                                                              \
    (ZARRC_STORE_CAP_RANGE | ZARRC_STORE_CAP_LIST_DIR | ZARRC_STORE_CAP_WRITE | ZARRC_STORE_CAP_LATENCY)

/* Servers with conditional writes: compare-and-swap (get_versioned + conditional put). */
const zarrc_store_type zarrc__store_s3 = {
    ZARRC_STORE_TYPE_VERSION, "s3", S3_CAPS | ZARRC_STORE_CAP_SET_IF,
    s3_open, s3_close, s3_get, NULL, s3_set, NULL, s3_erase, s3_erase_prefix, s3_list,
    s3_list_dir, s3_size,
    s3_put, s3_get_versioned, s3_version, NULL, NULL, NULL, s3_canonical,
};

/* Servers without them: no get_versioned, so the library offers no multi-writer guarantee. */
static const zarrc_store_type s3_plain = {
    ZARRC_STORE_TYPE_VERSION, "s3", S3_CAPS,
    s3_open, s3_close, s3_get, NULL, s3_set, NULL, s3_erase, s3_erase_prefix, s3_list,
    s3_list_dir, s3_size,
    s3_put, NULL, s3_version, NULL, NULL, NULL, s3_canonical,
};

const zarrc_store_type *zarrc__s3_resolved_type(void *state)
{
    const s3_store *s = state;
    return s->conditional ? &zarrc__store_s3 : &s3_plain;
}
