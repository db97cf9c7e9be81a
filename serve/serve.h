/*
 * serve.h — `zarrc serve`: an HTTP service for the Zarr hierarchy of one store, speaking the
 * tiled protocol (/api/v1/..., serve_tiled.c) and plain Zarr over HTTP (/zarr/..., serve_zarr.c)
 * on libmicrohttpd (serve_http.c). Uses only the public header zarrc.h (and json-c).
 *
 * The pure parsers (serve_parse.c) take untrusted text and never allocate more than a bounded
 * multiple of their input; they are what tests/fuzz/fuzz_serve.c drives.
 */
#ifndef ZARRC_SERVE_H
#define ZARRC_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "zarrc.h"

/* ---- options and entry point (serve_http.c) ---- */

typedef struct serve_options {
    const char *root;      /* store URL or directory */
    const char *listen;    /* "HOST:PORT" (default 127.0.0.1:8000); port 0 = any free port */
    const char *api_keys;  /* key file or NULL */
    int public_read;       /* anonymous reads allowed */
    int read_only;         /* refuse every write */
    int quiet;             /* no per-request log line */
    uint64_t max_body;     /* request (and response) body limit in bytes */
    unsigned threads;      /* worker threads (0 = default) */
    unsigned timeout_s;    /* idle connection timeout in seconds (0 = default) */
    const char *port_file; /* write the bound port there once listening (tests), or NULL */
} serve_options;

#define SERVE_DEFAULT_MAX_BODY ((uint64_t)1 << 30)

/** Run the service until SIGTERM/SIGINT: then stop accepting, finish in-flight requests and
 *  return 0. Returns 1 with a message on stderr if it cannot start (bad root, key file, address). */
int serve_run(const serve_options *opt);

/* ---- pure parsers (serve_parse.c) ---- */

/** Normalize a node or key path taken from a URL (already percent-decoded): leading, trailing
 *  and repeated '/' are dropped. Refuses (returns -1, message in err) "." and ".." segments,
 *  a percent-encoded dot left after decoding ("%2e"), backslashes, control characters, and
 *  segments starting with ".zarrc-" (zarrc's internal files). *out is a new string ("" for
 *  the root); free() it. */
int serve_path_normalize(char **out, const char *path, char *err, size_t errlen);

/** Parse a comma list of non-negative decimal integers ("3", "1,2,2"; empty text = 0 items)
 *  into a new array (*out, free(); NULL for 0 items) of *n values. Each value <= INT64_MAX.
 *  At most `max_items` items. Returns 0 or -1 with a message naming `what`. */
int serve_parse_uint_list(int64_t **out, int *n, const char *text, int max_items, const char *what,
                          char *err, size_t errlen);

/** One dimension of a tiled slice: an index (drops the axis) or start:stop:step with each
 *  part optional (has_*). */
typedef struct serve_slice_dim {
    int is_index;
    int has_start, has_stop, has_step;
    int64_t start, stop, step;
} serve_slice_dim;

/** Parse tiled's slice syntax: comma-separated dims, each an integer or start:stop:step (parts
 *  optional, negatives allowed). "" = no dims. At most `max_dims` dims. *dims is new (free()).
 *  Returns 0 or -1 with a message. */
int serve_parse_slice(serve_slice_dim **dims, int *ndims, const char *text, int max_dims, char *err,
                      size_t errlen);

/** A slice resolved against a shape, numpy style: per dimension the first index, step
 *  (non-zero, may be negative) and count; `keep` is 0 for dimensions an integer dropped. */
typedef struct serve_box {
    int ndim;
    int64_t *first, *step, *count;
    int *keep;
} serve_box;

/** Resolve `dims` (may have fewer entries than ndim: the rest are ':') against `shape`.
 *  Out-of-range integers are an error; slices are clipped as numpy does. Returns 0 or -1. */
int serve_box_resolve(serve_box *box, const serve_slice_dim *dims, int ndims, int ndim,
                      const int64_t *shape, char *err, size_t errlen);
void serve_box_free(serve_box *box);

/** Parse an HTTP Range header against a value of `size` bytes. Returns 1 with [*first, *last]
 *  (inclusive) for a satisfiable single byte range, 0 to serve the whole value (no or
 *  unsupported header, e.g. several ranges), -1 when unsatisfiable (416). */
int serve_parse_range(const char *header, uint64_t size, uint64_t *first, uint64_t *last);

/** Parse one line of an API key file: "KEY rw" or "KEY ro" (KEY matching \w+), blank lines and
 *  '#' comments ignored. Returns 1 with the key copied to key (of keylen bytes) and *rw set, 0
 *  for a line without a key, -1 with a message for a malformed line. */
int serve_parse_key_line(const char *line, char *key, size_t keylen, int *rw, char *err, size_t errlen);

/** Parse the tiled dtype object of a structure ({"endianness","kind","itemsize","dt_units"})
 *  into a numpy-style dtype string zarrc understands ("<f8", "|b1", "<M8[ns]", "<U3"), written
 *  to out. Returns 0 or -1 with a message. */
int serve_dtype_from_tiled(char *out, size_t outlen, json_object *data_type, char *err, size_t errlen);

/** The tiled dtype object for an array's data type (new object), or NULL when tiled has no
 *  spelling for it (variable-length strings and bytes). */
json_object *serve_dtype_to_tiled(const zarrc_dtype_info *dt);

/** Bytes of one byte-order unit of dt (1 = byte order does not matter). */
size_t serve_swap_width(const zarrc_dtype_info *dt);
/** Reverse the bytes of every `width`-byte unit of p[0..n). */
void serve_swap(uint8_t *p, size_t n, size_t width);

#endif

/* ---- shared by the route files (serve_http.c implements these) ---- */

#include <microhttpd.h>

enum { SERVE_ACCESS_NONE = 0, SERVE_ACCESS_READ = 1, SERVE_ACCESS_WRITE = 2 };

typedef struct serve_server serve_server;

/** One request: inputs (method, decoded URL path, body, the caller's access) and the
 *  response the route handler leaves behind. Handlers run on the daemon's worker threads;
 *  a request belongs to one thread at a time. */
typedef struct serve_req {
    serve_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    int access;        /* SERVE_ACCESS_* of the caller */
    int anonymous;     /* no key was presented */
    uint8_t *body;
    size_t body_len, body_cap;
    int body_too_large;
    char base[320];    /* "http://HOST" for absolute links */
    /* response */
    int status;
    const char *ctype;
    void *resp;
    size_t resp_len;
    void (*resp_free)(void *);
    char content_range[96];
    int accept_ranges;
    int queued;
    double t0;
} serve_req;

/* The server's store and settings (read-only after start). */
zarrc_store *serve_store(const serve_req *r);
int serve_read_only(const serve_req *r);
int serve_public(const serve_req *r);
uint64_t serve_max_body(const serve_req *r);
/** 0 if the path (relative to the root, normalized) stays inside the root after resolving
 *  symlinks (stores that are not local directories: always 0), else -1. */
int serve_path_inside(const serve_req *r, const char *relpath);

/** A query argument (percent-decoded) or NULL. */
const char *serve_query(serve_req *r, const char *name);
/** A request header or NULL. */
const char *serve_header(serve_req *r, const char *name);

/** Require read (or write) access: returns 0, or replies 401/403 and returns -1. */
int serve_require(serve_req *r, int write);

/** Set the response: JSON (takes ownership of obj; NULL = JSON null). */
void serve_reply_json(serve_req *r, int status, json_object *obj);
/** {"detail": message} with the given 4xx/5xx status. */
void serve_reply_error(serve_req *r, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/** A zarrc error (code + zarrc_error_last()) mapped to its HTTP status, with `what` as context. */
void serve_reply_lib(serve_req *r, int code, const char *what);
/** Bytes: takes ownership of buf, released with freefn (NULL = not owned, must be static). */
void serve_reply_bytes(serve_req *r, int status, const char *ctype, void *buf, size_t len, void (*freefn)(void *));

/** Routes (serve_tiled.c, serve_zarr.c): `rest` is the URL path after the prefix. */
void serve_tiled_route(serve_req *r, const char *rest);
void serve_tiled_about(serve_req *r);
void serve_zarr_route(serve_req *r, const char *rest);
