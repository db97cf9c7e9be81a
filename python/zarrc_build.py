"""cffi builder (API / out-of-line mode) for the low-level module ``zarrc._zarrc_cffi``.

setup.py imports this file through ``cffi_modules``; ``ZARRC_CFFI_LINK`` (a JSON object set by
setup.py: include_dirs, library_dirs, libraries, extra_objects, extra_link_args, depends) says how to link
libzarrc (static archive from the source tree, or the installed library found by pkg-config).
The declarations below are a subset of include/zarrc.h; cffi checks them against the real header
when it compiles the module, so a mismatch is a build error, never a silent ABI bug.
"""
import json
import os

from cffi import FFI

CDEF = r"""
const char *zarrc_version(void);
enum zarrc_status {
    ZARRC_OK = 0, ZARRC_ENOMEM = -1, ZARRC_EINVAL = -2, ZARRC_ENOTFOUND = -3, ZARRC_EEXISTS = -4,
    ZARRC_EIO = -5, ZARRC_ECORRUPT = -6, ZARRC_EUNSUPPORTED = -7, ZARRC_EBOUNDS = -8,
    ZARRC_EDTYPE = -9, ZARRC_ECONFLICT = -10, ZARRC_EREADONLY = -11, ZARRC_EAUTH = -12,
    ZARRC_EINTERNAL = -13
};
const char *zarrc_strerror(int code);
const char *zarrc_error_last(void);
int zarrc_error_code(void);
void zarrc_free(void *p);
int zarrc_set_num_threads(int n);
int zarrc_get_num_threads(void);
int zarrc_set_io_concurrency(int n);
int zarrc_get_io_concurrency(void);

typedef struct zarrc_store zarrc_store;
#define ZARRC_STORE_READONLY ...
#define ZARRC_STORE_CREATE ...
#define ZARRC_STORE_DURABLE ...
int zarrc_store_open(zarrc_store **out, const char *url, unsigned flags);
void zarrc_store_free(zarrc_store *store);
int zarrc_store_get(void **data, size_t *size, zarrc_store *store, const char *key);
int zarrc_store_set(zarrc_store *store, const char *key, const void *data, size_t size);
int zarrc_store_flush(zarrc_store *store);
int zarrc_store_erase(zarrc_store *store, const char *key);
int zarrc_store_multi_writer_safe(const zarrc_store *store);

typedef enum zarrc_dtype_kind {
    ZARRC_DTYPE_BOOL = 1, ZARRC_DTYPE_INT, ZARRC_DTYPE_UINT, ZARRC_DTYPE_FLOAT, ZARRC_DTYPE_COMPLEX,
    ZARRC_DTYPE_RAW, ZARRC_DTYPE_FIXED_BYTES, ZARRC_DTYPE_UTF32, ZARRC_DTYPE_DATETIME,
    ZARRC_DTYPE_TIMEDELTA, ZARRC_DTYPE_STRING, ZARRC_DTYPE_VBYTES, ZARRC_DTYPE_STRUCT = 20,
    ZARRC_DTYPE_USER = 21, ZARRC_DTYPE_OBJECT = 23, ...
} zarrc_dtype_kind;
typedef struct zarrc_dtype_fields zarrc_dtype_fields;
typedef struct zarrc_dtype_info {
    zarrc_dtype_kind kind;
    size_t item_size;
    char name[32];
    char unit[8];
    int64_t scale_factor;
    int big_endian;
    const zarrc_dtype_fields *fields;
    ...;
} zarrc_dtype_info;
typedef struct zarrc_field_info {
    const char *name;
    size_t offset;
    size_t size;
    zarrc_dtype_info dtype;
    int ndim;
    const int64_t *shape;
} zarrc_field_info;
size_t zarrc_dtype_field_count(const zarrc_dtype_info *dt);
int zarrc_dtype_field(zarrc_field_info *out, const zarrc_dtype_info *dt, size_t index);
typedef struct zarrc_vlen {
    int64_t count;
    uint64_t *offsets;
    uint8_t *data;
    size_t size;
    uint8_t *mask;
} zarrc_vlen;
void zarrc_vlen_clear(zarrc_vlen *v);

typedef enum zarrc_node_kind { ZARRC_NODE_ARRAY = 1, ZARRC_NODE_GROUP = 2 } zarrc_node_kind;
#define ZARRC_OVERWRITE ...
int zarrc_node_probe(zarrc_node_kind *kind, int *format, zarrc_store *store, const char *path);
int zarrc_node_delete(zarrc_store *store, const char *path);
typedef struct zarrc_child_info {
    const char *name;
    zarrc_node_kind kind;
    int format;
    int ndim;
    const int64_t *shape;
    const char *dtype;
    int is_view;
    ...;
} zarrc_child_info;
typedef int (*zarrc_child_cb)(void *ctx, const zarrc_child_info *child);
int zarrc_group_list(zarrc_store *store, const char *path, zarrc_child_cb cb, void *ctx);
int zarrc_group_create(zarrc_store *store, const char *path, int format,
                       const char *attributes_json, unsigned flags);
int zarrc_node_attributes(char **json, zarrc_store *store, const char *path);
#define ZARRC_ATTRS_MERGE ...
typedef struct zarrc_stale_list { size_t count; char **paths; } zarrc_stale_list;
void zarrc_stale_list_clear(zarrc_stale_list *list);
int zarrc_node_set_attributes(zarrc_store *store, const char *path, const char *json,
                              unsigned flags, zarrc_stale_list *stale);

typedef struct zarrc_array zarrc_array;
typedef struct zarrc_array_options {
    unsigned version;
    int format;
    const char *dtype;
    int ndim;
    const int64_t *shape;
    const int64_t *chunks;
    const char *fill_value;
    const char *codecs;
    const char *compressor;
    const char *filters;
    char order;
    char separator;
    const char *attributes;
    const char *const *dimension_names;
    unsigned flags;
    ...;
} zarrc_array_options;
#define ZARRC_ARRAY_OPTIONS_VERSION ...
int zarrc_array_create(zarrc_array **out, zarrc_store *store, const char *path,
                       const zarrc_array_options *options);
int zarrc_array_create_json(zarrc_array **out, zarrc_store *store, const char *path,
                            const char *metadata_json, unsigned flags);
int zarrc_array_open(zarrc_array **out, zarrc_store *store, const char *path);
#define ZARRC_OPEN_ALLOW_EXTERNAL ...
int zarrc_array_open_flags(zarrc_array **out, zarrc_store *store, const char *path, unsigned flags);
int zarrc_view_open(zarrc_array **out, const char *spec_json, zarrc_store *base_store,
                    const char *base_path, unsigned flags);
int zarrc_view_create(zarrc_array **out, zarrc_store *store, const char *path,
                      const char *spec_json, unsigned flags);
int zarrc_array_is_view(const zarrc_array *array);
int zarrc_view_spec(char **json, const zarrc_array *array);
void zarrc_array_free(zarrc_array *array);
int zarrc_array_format(const zarrc_array *array);
int zarrc_array_ndim(const zarrc_array *array);
const int64_t *zarrc_array_shape(const zarrc_array *array);
const int64_t *zarrc_array_chunks(const zarrc_array *array);
const int64_t *zarrc_array_inner_chunks(const zarrc_array *array);
const zarrc_dtype_info *zarrc_array_dtype(const zarrc_array *array);
int64_t zarrc_array_size(const zarrc_array *array);
typedef enum zarrc_json_part {
    ZARRC_JSON_METADATA = 1, ZARRC_JSON_CODECS_V3, ZARRC_JSON_CODECS_V2, ZARRC_JSON_FILL_VALUE,
    ZARRC_JSON_ATTRIBUTES, ZARRC_JSON_DTYPE, ...
} zarrc_json_part;
int zarrc_array_json(char **json, const zarrc_array *array, zarrc_json_part part);
int zarrc_array_read(zarrc_array *array, const int64_t *start, const int64_t *count,
                     const int64_t *step, void *out, size_t out_size);
int zarrc_array_write(zarrc_array *array, const int64_t *start, const int64_t *count,
                      const int64_t *step, const void *in, size_t in_size);
int zarrc_array_read_field(zarrc_array *array, const char *field, const int64_t *start,
                           const int64_t *count, const int64_t *step, void *out, size_t out_size);
int zarrc_array_write_field(zarrc_array *array, const char *field, const int64_t *start,
                            const int64_t *count, const int64_t *step, const void *in,
                            size_t in_size);
void zarrc_array_set_write_empty_chunks(zarrc_array *array, int enable);
#define ZARRC_EXTEND ...
int zarrc_array_resize(zarrc_array *array, const int64_t *new_shape);
int zarrc_array_write_at(zarrc_array *array, const int64_t *offset, int noffset,
                         const int64_t *shape, const void *data, size_t size, unsigned flags);
int zarrc_array_append(zarrc_array *array, int axis, const int64_t *shape, const void *data,
                       size_t size, int64_t *start);

typedef struct zarrc_group zarrc_group;
#define ZARRC_OPEN_NO_CONSOLIDATED ...
int zarrc_group_open(zarrc_group **out, zarrc_store *store, const char *path, unsigned flags);
void zarrc_group_free(zarrc_group *group);
int zarrc_group_format(const zarrc_group *group);
const char *zarrc_group_path(const zarrc_group *group);
int zarrc_group_is_consolidated(const zarrc_group *group);

typedef struct zarrc_hnode {
    const char *path;
    const char *relpath;
    zarrc_node_kind kind;
    int format;
    int implied;
    int replaced;
    int state;
    int status;
    ...;
} zarrc_hnode;
typedef struct zarrc_hierarchy_report {
    size_t count;
    zarrc_hnode *nodes;
    size_t written;
    ...;
} zarrc_hierarchy_report;
void zarrc_hierarchy_report_free(zarrc_hierarchy_report *report);
typedef int (*zarrc_hnode_cb)(void *ctx, const zarrc_hnode *node);
typedef struct zarrc_hierarchy_options {
    unsigned version;
    unsigned flags;
    int format;
    zarrc_hnode_cb on_node;
    void *ctx;
    ...;
} zarrc_hierarchy_options;
#define ZARRC_HIERARCHY_OPTIONS_VERSION ...
int zarrc_hierarchy_create(zarrc_hierarchy_report **report, zarrc_store *store, const char *root,
                           const char *spec_json, const zarrc_hierarchy_options *options);
int zarrc_hierarchy_spec(char **json, zarrc_store *store, const char *path, int depth);
int zarrc_consolidate(zarrc_store *store, const char *path, size_t *count);

int zarrc_consolidated_update(zarrc_store *store, const char *path);

/* streaming writer */
typedef struct zarrc_stream zarrc_stream;
typedef struct zarrc_stream_options {
    int axis;
    size_t queue_bytes;
    int64_t start;
} zarrc_stream_options;
int zarrc_stream_open(zarrc_stream **out, zarrc_array *array, const zarrc_stream_options *opts);
int zarrc_stream_append(zarrc_stream *stream, const void *frame, size_t size);
int zarrc_stream_close(zarrc_stream *stream);
typedef void (*zarrc_stream_release_fn)(void *ctx, const void *frame);
int zarrc_stream_append_lent(zarrc_stream *stream, const void *frame, size_t size,
                             zarrc_stream_release_fn release, void *ctx);
int64_t zarrc_stream_appended(const zarrc_stream *stream);
int zarrc_stream_estimate_memory(const zarrc_array *array, const zarrc_stream_options *opts,
                                 size_t *bytes);

/* copying */
typedef int (*zarrc_progress_cb)(void *ctx, uint64_t done, uint64_t total);
typedef struct zarrc_copy_options {
    unsigned version;
    zarrc_progress_cb progress;
    void *progress_ctx;
    int allow_raw;
} zarrc_copy_options;
#define ZARRC_COPY_OPTIONS_VERSION ...
typedef struct zarrc_copy_stats {
    uint64_t units;
    uint64_t bytes;
    int raw;
} zarrc_copy_stats;
int zarrc_array_copy(zarrc_array *dst, zarrc_array *src, const zarrc_copy_options *options,
                     zarrc_copy_stats *stats);

/* references */
typedef struct zarrc_node_ref {
    zarrc_store *store;
    char *path;
    zarrc_node_kind kind;
    int format;
    int external;
    char *source;
    char *object_id;
} zarrc_node_ref;
void zarrc_node_ref_clear(zarrc_node_ref *ref);
int zarrc_ref_parse(char **source, char **path, char **object_id, const char *ref_json);
int zarrc_node_resolve(zarrc_node_ref *out, zarrc_store *store, const char *ref_json,
                       unsigned flags);
int zarrc_node_resolve_element(zarrc_node_ref *out, zarrc_store *store, const char *array_path,
                               int64_t index, const char *field, unsigned flags);

/* chunk codecs without the store */
#define ZARRC_CHUNK_NOT_RUN ...
typedef struct zarrc_chunk_item {
    const int64_t *coords;
    void *encoded;
    size_t encoded_size;
    void *decoded;
    size_t decoded_size;
    int status;
} zarrc_chunk_item;
int zarrc_array_chunk_size(size_t *nbytes, const zarrc_array *array);
int zarrc_array_chunk_decode(zarrc_array *array, const int64_t *coords, const void *data,
                             size_t size, void *out, size_t out_size);
int zarrc_array_chunk_encode(void **data, size_t *size, zarrc_array *array,
                             const int64_t *coords, const void *in, size_t in_size);
int zarrc_array_chunk_is_fill(const zarrc_array *array, const void *in, size_t in_size);
int zarrc_array_chunks_decode(zarrc_array *array, zarrc_chunk_item *items, size_t n);
int zarrc_array_chunks_encode(zarrc_array *array, zarrc_chunk_item *items, size_t n);

/* Python-side callback for zarrc_group_list (runs in the calling thread: cffi takes the GIL
   for it; the listing call itself runs without the GIL). */
extern "Python" int _zarrc_py_child_cb(void *ctx, const zarrc_child_info *child);

/* lent stream frames (LENT_BOX below) */
typedef struct zarrc_py_lent_box zarrc_py_lent_box;
zarrc_py_lent_box *zarrc_py_lent_box_new(void);
void zarrc_py_lent_box_free(zarrc_py_lent_box *box);
int zarrc_py_lent_box_reserve(zarrc_py_lent_box *box, size_t outstanding);
size_t zarrc_py_lent_box_take(zarrc_py_lent_box *box, const void **out, size_t max, int wait_ms);
void zarrc_py_lent_release(void *ctx, const void *frame);

/* region reads/writes run by C threads, finished ones announced on an eventfd (ASYNC_JOBS below) */
typedef struct zarrc_py_done zarrc_py_done;
typedef struct zarrc_py_result {
    uint64_t id;
    int rc;
    char *message;
} zarrc_py_result;
zarrc_py_done *zarrc_py_done_new(void);
int zarrc_py_done_fd(const zarrc_py_done *done);
void zarrc_py_done_free(zarrc_py_done *done);
int zarrc_py_submit(zarrc_py_done *done, uint64_t id, int write, zarrc_array *array,
                    const int64_t *box, int ndim, void *buf, size_t size);
size_t zarrc_py_done_take(zarrc_py_done *done, zarrc_py_result *out, size_t max);
void zarrc_py_message_free(char *message);
"""

# A stream calls the release callback of a lent frame on its writer thread; taking the GIL there
# would stall the writer behind the Python producer. So the callback is C: it records the
# frame's address in a box, and the producer drops its references to released frames (and runs
# the user's callbacks) when it next drains the box. Room for every frame that can still be
# released is reserved, under the GIL, before each lending call: the callback never allocates.
LENT_BOX = r"""
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

typedef struct zarrc_py_lent_box {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const void **done; /* addresses of released frames, not yet taken */
    size_t n, cap;
} zarrc_py_lent_box;

static zarrc_py_lent_box *zarrc_py_lent_box_new(void)
{
    zarrc_py_lent_box *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, &ca);
    pthread_condattr_destroy(&ca);
    return b;
}

static void zarrc_py_lent_box_free(zarrc_py_lent_box *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b->done);
    free(b);
}

/* Make room for `outstanding` released addresses; 0, or -1 when out of memory. */
static int zarrc_py_lent_box_reserve(zarrc_py_lent_box *b, size_t outstanding)
{
    int rc = 0;
    pthread_mutex_lock(&b->mu);
    if (outstanding > b->cap) {
        size_t cap = b->cap ? b->cap : 16;
        while (cap < outstanding)
            cap *= 2;
        const void **d = cap <= SIZE_MAX / sizeof *d ? realloc(b->done, cap * sizeof *d) : NULL;
        if (d) {
            b->done = d;
            b->cap = cap;
        } else {
            rc = -1;
        }
    }
    pthread_mutex_unlock(&b->mu);
    return rc;
}

/* Move up to `max` released addresses to `out`; with wait_ms > 0 wait that long for one when
 * there are none (without the GIL: cffi releases it around the call). */
static size_t zarrc_py_lent_box_take(zarrc_py_lent_box *b, const void **out, size_t max, int wait_ms)
{
    pthread_mutex_lock(&b->mu);
    if (b->n == 0 && wait_ms > 0) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += wait_ms / 1000;
        until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (b->n == 0 && pthread_cond_timedwait(&b->cv, &b->mu, &until) != ETIMEDOUT)
            ;
    }
    size_t k = b->n < max ? b->n : max;
    for (size_t i = 0; i < k; i++)
        out[i] = b->done[b->n - k + i];
    b->n -= k;
    pthread_mutex_unlock(&b->mu);
    return k;
}

static void zarrc_py_lent_release(void *ctx, const void *frame)
{
    zarrc_py_lent_box *b = ctx;
    pthread_mutex_lock(&b->mu);
    if (b->n < b->cap) /* always: the producer reserved room for every lent frame */
        b->done[b->n++] = frame;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}
"""

# zarr-python runs a pipeline's read/write coroutines on one event-loop thread. Handing each
# region call to a Python worker thread (asyncio.to_thread) costs two more GIL hand-overs per
# call, each of which can wait out the interpreter's switch interval while another thread runs
# Python. So the native path submits the call to these C threads instead: they run it without
# the GIL and announce it on the loop's eventfd; the loop thread alone turns results into
# futures. Room for every result is reserved at submission: a worker never allocates after it.
ASYNC_JOBS = r"""
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

/* Also called through ctypes.PyDLL, which keeps the GIL (_loopjobs.py): exported. */
#define ZARRC_PY_GIL_HELD __attribute__((visibility("default")))

typedef struct zarrc_py_result {
    uint64_t id;
    int rc;
    char *message;
} zarrc_py_result;

typedef struct zarrc_py_done {
    pthread_mutex_t mu;
    pthread_cond_t idle;    /* signalled when inflight drops to 0 */
    int fd;                 /* eventfd: readable while results wait */
    zarrc_py_result *res;   /* finished, not yet taken */
    size_t n, cap, inflight;
    struct zarrc_py_done *prev, *next; /* every live box (zarrc_py_pool.boxes) */
} zarrc_py_done;

typedef struct zarrc_py_job {
    struct zarrc_py_job *next;
    zarrc_py_done *done;
    uint64_t id;
    int write, ndim;
    zarrc_array *array;
    void *buf;
    size_t size;
    int64_t box[];          /* start, count, step: ndim each */
} zarrc_py_job;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t work;
    zarrc_py_job *head, *tail;
    int threads, idle, cap;
    size_t queued;          /* jobs in the queue (an idle thread may not have woken for one yet) */
    zarrc_py_done *boxes;   /* live boxes, for the forked child */
} zarrc_py_pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0, 0, 0, NULL};

/* fork() waits for the pool's lock, so the child's copy of the queue and box list is whole. */
static void zarrc_py_pool_atfork_prepare(void)
{
    pthread_mutex_lock(&zarrc_py_pool.mu);
}

static void zarrc_py_pool_atfork_parent(void)
{
    pthread_mutex_unlock(&zarrc_py_pool.mu);
}

/* A forked child has none of the parent's threads: start from an empty pool (the parent's
 * queued jobs belong to the parent's event loops, which the child does not run), and no box
 * waits for a call that was running in the parent: freeing one in the child must not hang. */
static void zarrc_py_pool_atfork_child(void)
{
    pthread_mutex_init(&zarrc_py_pool.mu, NULL);
    pthread_cond_init(&zarrc_py_pool.work, NULL);
    zarrc_py_pool.head = zarrc_py_pool.tail = NULL;
    zarrc_py_pool.threads = zarrc_py_pool.idle = 0;
    zarrc_py_pool.queued = 0;
    for (zarrc_py_done *d = zarrc_py_pool.boxes; d; d = d->next) {
        pthread_mutex_init(&d->mu, NULL);
        pthread_cond_init(&d->idle, NULL);
        d->inflight = 0;
    }
}

static pthread_once_t zarrc_py_pool_once = PTHREAD_ONCE_INIT;

static void zarrc_py_pool_init(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    /* as many as asyncio's default executor: min(32, CPUs + 4) */
    zarrc_py_pool.cap = n < 1 ? 5 : n + 4 > 32 ? 32 : (int)n + 4;
    pthread_atfork(zarrc_py_pool_atfork_prepare, zarrc_py_pool_atfork_parent, zarrc_py_pool_atfork_child);
}

static void zarrc_py_finish(zarrc_py_job *job, int rc)
{
    zarrc_py_done *d = job->done;
    char *msg = NULL;
    if (rc < 0) {
        const char *m = zarrc_error_last(); /* this thread's: taken before anything else runs */
        msg = strdup(m ? m : "");
    }
    pthread_mutex_lock(&d->mu);
    /* d->cap > d->n always: submission reserved a slot for this job */
    d->res[d->n++] = (zarrc_py_result){job->id, rc, msg};
    d->inflight--;
    if (d->inflight == 0)
        pthread_cond_broadcast(&d->idle);
    uint64_t one = 1;
    ssize_t w = write(d->fd, &one, sizeof one); /* inside the lock: d stays alive for it */
    (void)w; /* EAGAIN only at a counter of 2^64 - 2: the loop is already woken */
    pthread_mutex_unlock(&d->mu);
    free(job);
}

static void *zarrc_py_worker(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&zarrc_py_pool.mu);
        while (!zarrc_py_pool.head) {
            zarrc_py_pool.idle++;
            pthread_cond_wait(&zarrc_py_pool.work, &zarrc_py_pool.mu);
            zarrc_py_pool.idle--;
        }
        zarrc_py_job *job = zarrc_py_pool.head;
        zarrc_py_pool.head = job->next;
        if (!zarrc_py_pool.head)
            zarrc_py_pool.tail = NULL;
        zarrc_py_pool.queued--;
        pthread_mutex_unlock(&zarrc_py_pool.mu);
        const int64_t *start = job->box, *count = job->box + job->ndim, *step = count + job->ndim;
        int rc = job->write ? zarrc_array_write(job->array, start, count, step, job->buf, job->size)
                            : zarrc_array_read(job->array, start, count, step, job->buf, job->size);
        zarrc_py_finish(job, rc);
    }
    return NULL;
}

/* A box for one event loop's finished jobs, or NULL (errno set). */
static zarrc_py_done *zarrc_py_done_new(void)
{
    zarrc_py_done *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (d->fd < 0) {
        free(d);
        return NULL;
    }
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->idle, NULL);
    pthread_once(&zarrc_py_pool_once, zarrc_py_pool_init); /* the fork handler, before any job */
    pthread_mutex_lock(&zarrc_py_pool.mu);
    d->next = zarrc_py_pool.boxes;
    if (d->next)
        d->next->prev = d;
    zarrc_py_pool.boxes = d;
    pthread_mutex_unlock(&zarrc_py_pool.mu);
    return d;
}

static int zarrc_py_done_fd(const zarrc_py_done *d)
{
    return d->fd;
}

/* Waits for the box's jobs still running (their buffers are the caller's until then). */
static void zarrc_py_done_free(zarrc_py_done *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    while (d->inflight > 0)
        pthread_cond_wait(&d->idle, &d->mu);
    pthread_mutex_unlock(&d->mu);
    pthread_mutex_lock(&zarrc_py_pool.mu);
    if (d->prev)
        d->prev->next = d->next;
    else
        zarrc_py_pool.boxes = d->next;
    if (d->next)
        d->next->prev = d->prev;
    pthread_mutex_unlock(&zarrc_py_pool.mu);
    for (size_t i = 0; i < d->n; i++)
        free(d->res[i].message);
    close(d->fd);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->idle);
    free(d->res);
    free(d);
}

/* Queue zarrc_array_write (is_write != 0) or zarrc_array_read of the box on a pool thread; its
 * result, tagged `id`, appears in `d`. `array`, `buf` and `d` must stay alive until then.
 * 0, or -1 with nothing queued (out of memory, no thread could start, ndim out of range). */
ZARRC_PY_GIL_HELD int zarrc_py_submit(zarrc_py_done *d, uint64_t id, int is_write, zarrc_array *array,
                           const int64_t *box, int ndim, void *buf, size_t size)
{
    if (ndim < 0 || ndim > 64)
        return -1;
    pthread_once(&zarrc_py_pool_once, zarrc_py_pool_init);
    size_t nbox = 3 * (size_t)ndim;
    zarrc_py_job *job = malloc(sizeof *job + nbox * sizeof(int64_t));
    if (!job)
        return -1;
    *job = (zarrc_py_job){NULL, d, id, is_write, ndim, array, buf, size};
    if (nbox)
        memcpy(job->box, box, nbox * sizeof(int64_t));
    pthread_mutex_lock(&d->mu);
    if (d->n + d->inflight + 1 > d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        zarrc_py_result *r = realloc(d->res, cap * sizeof *r);
        if (!r) {
            pthread_mutex_unlock(&d->mu);
            free(job);
            return -1;
        }
        d->res = r;
        d->cap = cap;
    }
    d->inflight++;
    pthread_mutex_unlock(&d->mu);

    pthread_mutex_lock(&zarrc_py_pool.mu);
    /* a thread for every queued job, up to the cap: idle ones first */
    if (zarrc_py_pool.queued + 1 > (size_t)zarrc_py_pool.idle && zarrc_py_pool.threads < zarrc_py_pool.cap) {
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &at, zarrc_py_worker, NULL) == 0)
            zarrc_py_pool.threads++;
        pthread_attr_destroy(&at);
        if (zarrc_py_pool.threads == 0) { /* nobody would run it */
            pthread_mutex_unlock(&zarrc_py_pool.mu);
            pthread_mutex_lock(&d->mu);
            d->inflight--;
            if (d->inflight == 0)
                pthread_cond_broadcast(&d->idle);
            pthread_mutex_unlock(&d->mu);
            free(job);
            return -1;
        }
    }
    if (zarrc_py_pool.tail)
        zarrc_py_pool.tail->next = job;
    else
        zarrc_py_pool.head = job;
    zarrc_py_pool.tail = job;
    zarrc_py_pool.queued++;
    pthread_cond_signal(&zarrc_py_pool.work);
    pthread_mutex_unlock(&zarrc_py_pool.mu);
    return 0;
}

/* Move up to `max` finished results to `out` (their messages are then the caller's:
 * zarrc_py_message_free) and reset the eventfd. */
ZARRC_PY_GIL_HELD size_t zarrc_py_done_take(zarrc_py_done *d, zarrc_py_result *out, size_t max)
{
    uint64_t v;
    ssize_t r = read(d->fd, &v, sizeof v); /* before taking: a later finish wakes the loop again */
    (void)r;
    pthread_mutex_lock(&d->mu);
    size_t k = d->n < max ? d->n : max;
    memcpy(out, d->res, k * sizeof *out);
    memmove(d->res, d->res + k, (d->n - k) * sizeof *out);
    d->n -= k;
    if (d->n) { /* more than `max`: keep the loop woken for the rest */
        uint64_t one = 1;
        ssize_t w = write(d->fd, &one, sizeof one);
        (void)w;
    }
    pthread_mutex_unlock(&d->mu);
    return k;
}

static void zarrc_py_message_free(char *message)
{
    free(message);
}
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)

_link = json.loads(os.environ.get("ZARRC_CFFI_LINK", "{}"))
ffibuilder.set_source(
    "zarrc._zarrc_cffi",
    "#include <zarrc.h>\n" + LENT_BOX + ASYNC_JOBS,
    include_dirs=_link.get("include_dirs", []),
    library_dirs=_link.get("library_dirs", []),
    libraries=_link.get("libraries", []),
    extra_objects=_link.get("extra_objects", []),
    extra_link_args=_link.get("extra_link_args", []),
    runtime_library_dirs=_link.get("runtime_library_dirs", []),
    # A rebuilt libzarrc.a must relink the module: setuptools otherwise keeps an extension in
    # build/ that is newer than its C source, linked against the old archive.
    depends=_link.get("depends", []),
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
