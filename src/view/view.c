/* view.c — virtual arrays: tensorstore `stack` specs with index transforms, opened as arrays. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "view.h"
#include "../grid/grid.h"

#define MAXD ZARRC_MAX_DIMS
#define INF_LO INT64_MIN
#define INF_HI INT64_MAX
/* Largest temporary a gather through index arrays may take. */
#define GATHER_MAX_BYTES ((size_t)1 << 30)

enum { M_CONST, M_SINGLE, M_ARRAY };
typedef struct vmap {
    int kind;
    int64_t offset, stride;
    int dim;                 /* M_SINGLE */
    int64_t *idx;            /* M_ARRAY: values, indexed by (y - lo) . istride */
    int64_t istride[MAXD];   /* element strides (0 = broadcast dimension) */
    int64_t vmin, vmax;      /* M_ARRAY: range of the values */
} vmap;

typedef struct vxf {
    int in_rank, out_rank;
    int64_t lo[MAXD], hi[MAXD];   /* INF_LO / INF_HI: unknown */
    bool implicit[MAXD];          /* some bound of the dimension was implicit */
    vmap out[MAXD];
} vxf;

enum { L_ZARR, L_INLINE, L_STACK, L_FILL };
typedef struct vlayer {
    int kind;
    char where[48];
    zarrc_store *store;      /* L_ZARR */
    char *path;
    char *display;           /* the location as the spec gave it */
    bool has_xf;
    vxf xf;
    bool known;              /* domain known */
    int64_t lo[MAXD], hi[MAXD];
    bool validated;          /* transform checked against the opened source */
    zarrc_array *arr;        /* L_ZARR (opened lazily) / L_STACK */
    int src_rank;
    int64_t src_shape[MAXD], src_origin[MAXD];
    uint8_t *data;           /* L_INLINE (C order) / L_FILL (one element) */
    json_object *dtype_json; /* the layer's "dtype" member, if any */
} vlayer;

struct zarrc__view {
    int ndim;
    int64_t origin[MAXD], shape[MAXD];
    zarrc_dtype_info dtype;
    size_t es;
    bool has_fill;
    uint8_t *fill;
    size_t n;
    vlayer *layers;
    pthread_mutex_t mu;
    json_object *spec;       /* the expanded spec */
    zarrc__view_chain chain;
    unsigned flags;
    int depth;
};

/* An element of a variable-length type as views hold it (elements are zarrc_vref): one block,
 * the vref followed by the bytes it points to (free() releases both). NULL: out of memory. */
static uint8_t *vref_block(const uint8_t *bytes, size_t size)
{
    uint8_t *b = zarrc__malloc(sizeof(zarrc_vref) + (size ? size : 1));
    if (!b)
        return NULL;
    zarrc_vref r = {b + sizeof(zarrc_vref), size};
    if (size)
        memcpy(b + sizeof(zarrc_vref), bytes, size);
    memcpy(b, &r, sizeof r);
    return b;
}

typedef struct open_ctx {
    zarrc_store *store;      /* base */
    const char *base;        /* normalized base path */
    const zarrc__view_chain *chain;
    unsigned flags;
    int depth;
} open_ctx;

static json_object *mem(const json_object *o, const char *k)
{
    json_object *v = NULL;
    if (o && json_object_is_type((json_object *)o, json_type_object))
        json_object_object_get_ex((json_object *)o, k, &v);
    return v;
}

static int get_int(int64_t *out, const json_object *v, const char *what)
{
    int64_t i;
    uint64_t u;
    bool isu;
    if (json_object_is_type((json_object *)v, json_type_string)) {
        const char *s = json_object_get_string((json_object *)v);
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (!*s || *end || errno)
            return zarrc_error_set(ZARRC_EINVAL, "%s: '%s' is not an integer", what, s);
        *out = x;
        return ZARRC_OK;
    }
    if (!v || !(json_object_is_type((json_object *)v, json_type_int) ||
                json_object_is_type((json_object *)v, json_type_double)) ||
        zarrc__json_get_integer(v, &i, &u, &isu) || isu)
        return zarrc_error_set(ZARRC_EINVAL, "%s must be an integer", what);
    *out = i;
    return ZARRC_OK;
}

#define IDX_LIMIT ((int64_t)1 << 62)

/* A bound: integer (explicit), [n] (implicit), "-inf"/"+inf" or a base-10 string. */
static int get_bound(int64_t *out, bool *implicit, const json_object *v, bool upper, const char *what)
{
    *implicit = false;
    if (json_object_is_type((json_object *)v, json_type_array)) {
        if (json_object_array_length((json_object *)v) != 1)
            return zarrc_error_set(ZARRC_EINVAL, "%s: an implicit bound is a one-element list", what);
        *implicit = true;
        v = json_object_array_get_idx((json_object *)v, 0);
    }
    if (json_object_is_type((json_object *)v, json_type_string)) {
        const char *s = json_object_get_string((json_object *)v);
        if (!strcmp(s, "-inf") || !strcmp(s, "+inf")) {
            if ((s[0] == '+') != upper)
                return zarrc_error_set(ZARRC_EINVAL, "%s: '%s' is not a valid bound here", what, s);
            *out = upper ? INF_HI : INF_LO;
            return ZARRC_OK;
        }
    }
    int rc = get_int(out, v, what);
    if (rc == ZARRC_OK && (*out < -IDX_LIMIT || *out > IDX_LIMIT))
        rc = zarrc_error_set(ZARRC_EINVAL, "%s: %lld is outside the index range", what, (long long)*out);
    return rc;
}

/* Parse a domain's members ("inclusive_min", ...) with `pre` ("" or "input_"). *rank in/out: -1 unknown. */
static int parse_domain(int *rank, int64_t *lo, int64_t *hi, bool *implicit, json_object **labels,
                        const json_object *o, const char *pre, const char *where)
{
    char k_rank[32], k_min[32], k_emax[32], k_imax[32], k_shape[32], k_lab[32];
    snprintf(k_rank, sizeof k_rank, "%srank", pre);
    snprintf(k_min, sizeof k_min, "%sinclusive_min", pre);
    snprintf(k_emax, sizeof k_emax, "%sexclusive_max", pre);
    snprintf(k_imax, sizeof k_imax, "%sinclusive_max", pre);
    snprintf(k_shape, sizeof k_shape, "%sshape", pre);
    snprintf(k_lab, sizeof k_lab, "%slabels", pre);
    json_object *r = mem(o, k_rank), *mn = mem(o, k_min), *em = mem(o, k_emax), *im = mem(o, k_imax),
                *sh = mem(o, k_shape), *lb = mem(o, k_lab);
    int nup = !!em + !!im + !!sh;
    if (nup > 1)
        return zarrc_error_set(ZARRC_EINVAL, "%s: give at most one of '%s', '%s', '%s'", where, k_emax, k_imax, k_shape);
    int64_t rk = *rank;
    if (r) {
        int rc = get_int(&rk, r, k_rank);
        if (rc)
            return zarrc__error_context(rc, "%s: ", where);
    }
    json_object *lists[4] = {mn, em ? em : im ? im : sh, lb, NULL};
    const char *names[3] = {k_min, em ? k_emax : im ? k_imax : k_shape, k_lab};
    for (int i = 0; i < 3; i++) {
        if (!lists[i])
            continue;
        if (!json_object_is_type(lists[i], json_type_array))
            return zarrc_error_set(ZARRC_EINVAL, "%s: '%s' must be a list", where, names[i]);
        int64_t len = (int64_t)json_object_array_length(lists[i]);
        if (rk < 0)
            rk = len;
        else if (len != rk)
            return zarrc_error_set(ZARRC_EINVAL, "%s: '%s' has %lld entries, the rank is %lld", where, names[i],
                                   (long long)len, (long long)rk);
    }
    if (rk > MAXD)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "%s: rank %lld exceeds %d", where, (long long)rk, MAXD);
    if (rk < 0) {
        *rank = -1;
        return ZARRC_OK;
    }
    *rank = (int)rk;
    for (int d = 0; d < rk; d++) {
        bool i1 = false, i2 = false;
        lo[d] = sh && !mn ? 0 : INF_LO;
        hi[d] = INF_HI;
        implicit[d] = !mn || !nup;
        char what[96];
        int rc = ZARRC_OK;
        if (mn) {
            snprintf(what, sizeof what, "%s: %s[%d]", where, k_min, d);
            rc = get_bound(&lo[d], &i1, json_object_array_get_idx(mn, (size_t)d), false, what);
        }
        if (rc == ZARRC_OK && nup) {
            snprintf(what, sizeof what, "%s: %s[%d]", where, names[1], d);
            int64_t b;
            rc = get_bound(&b, &i2, json_object_array_get_idx(lists[1], (size_t)d), !!(em || im || sh), what);
            if (rc == ZARRC_OK) {
                if (em)
                    hi[d] = b;
                else if (im)
                    hi[d] = b == INF_HI ? INF_HI : b + 1;
                else if (b == INF_HI || lo[d] == INF_LO)
                    hi[d] = INF_HI;
                else if (b < 0)
                    rc = zarrc_error_set(ZARRC_EINVAL, "%s: negative extent", what);
                else
                    hi[d] = lo[d] + b;
            }
        }
        if (rc)
            return rc;
        implicit[d] = (mn && i1) || (nup && i2) || !mn || !nup;
        if (lo[d] != INF_LO && hi[d] != INF_HI && hi[d] < lo[d])
            return zarrc_error_set(ZARRC_EINVAL, "%s: dimension %d has upper bound %lld below lower bound %lld", where,
                                   d, (long long)hi[d], (long long)lo[d]);
    }
    if (labels)
        *labels = lb;
    return ZARRC_OK;
}

/* Nested index array list → values, with broadcast (extent 1) dimensions. */
static int parse_index_array(vmap *m, const json_object *ia, const vxf *x, const char *where)
{
    int r = x->in_rank;
    int64_t ext[MAXD];
    const json_object *cur = ia;
    for (int d = 0; d < r; d++) {
        if (!json_object_is_type((json_object *)cur, json_type_array) || !json_object_array_length((json_object *)cur))
            return zarrc_error_set(ZARRC_EINVAL, "%s: index_array must be nested %d deep", where, r);
        ext[d] = (int64_t)json_object_array_length((json_object *)cur);
        if (ext[d] != 1 && (x->lo[d] == INF_LO || x->hi[d] == INF_HI || ext[d] != x->hi[d] - x->lo[d]))
            return zarrc_error_set(ZARRC_EINVAL, "%s: index_array extent %lld in dimension %d does not match the "
                                   "input domain", where, (long long)ext[d], d);
        cur = json_object_array_get_idx((json_object *)cur, 0);
    }
    size_t n = 1;
    for (int d = 0; d < r; d++)
        n *= (size_t)ext[d]; /* bounded by the JSON text */
    int64_t s = 1;
    for (int d = r - 1; d >= 0; d--) {
        m->istride[d] = ext[d] == 1 ? 0 : s;
        s *= ext[d];
    }
    m->idx = zarrc__malloc(n * sizeof *m->idx);
    if (!m->idx)
        return ZARRC_ENOMEM;
    m->vmin = INT64_MAX;
    m->vmax = INT64_MIN;
    int64_t pos[MAXD] = {0};
    for (size_t e = 0; e < n; e++) {
        const json_object *v = ia;
        for (int d = 0; d < r; d++) {
            if (!json_object_is_type((json_object *)v, json_type_array) ||
                (int64_t)json_object_array_length((json_object *)v) != ext[d])
                return zarrc_error_set(ZARRC_EINVAL, "%s: index_array is not rectangular", where);
            v = json_object_array_get_idx((json_object *)v, (size_t)pos[d]);
        }
        int64_t val;
        int rc = get_int(&val, v, "index_array entry");
        if (rc)
            return zarrc__error_context(rc, "%s: ", where);
        if (val < -IDX_LIMIT || val > IDX_LIMIT)
            return zarrc_error_set(ZARRC_EINVAL, "%s: index_array value %lld is out of range", where, (long long)val);
        m->idx[e] = val;
        if (val < m->vmin)
            m->vmin = val;
        if (val > m->vmax)
            m->vmax = val;
        for (int d = r - 1; d >= 0 && ++pos[d] == ext[d]; d--)
            pos[d] = 0;
    }
    return ZARRC_OK;
}

static void xf_clear(vxf *x)
{
    for (int j = 0; j < x->out_rank; j++)
        free(x->out[j].idx);
    memset(x, 0, sizeof *x);
}

static int parse_transform(vxf *x, const json_object *t, const char *where)
{
    memset(x, 0, sizeof *x);
    if (!json_object_is_type((json_object *)t, json_type_object))
        return zarrc_error_set(ZARRC_EINVAL, "%s: 'transform' must be an object", where);
    int rank = -1;
    int rc = parse_domain(&rank, x->lo, x->hi, x->implicit, NULL, t, "input_", where);
    if (rc)
        return rc;
    json_object *out = mem(t, "output");
    if (rank < 0)
        return zarrc_error_set(ZARRC_EINVAL, "%s: the transform's input rank is not given", where);
    x->in_rank = rank;
    if (!out) {
        x->out_rank = rank;
        for (int d = 0; d < rank; d++)
            x->out[d] = (vmap){.kind = M_SINGLE, .stride = 1, .dim = d};
        return ZARRC_OK;
    }
    if (!json_object_is_type(out, json_type_array) || json_object_array_length(out) > MAXD)
        return zarrc_error_set(ZARRC_EINVAL, "%s: 'output' must be a list of at most %d maps", where, MAXD);
    x->out_rank = (int)json_object_array_length(out);
    for (int j = 0; j < x->out_rank; j++) {
        json_object *m = json_object_array_get_idx(out, (size_t)j), *o = mem(m, "offset"), *s = mem(m, "stride"),
                    *id = mem(m, "input_dimension"), *ia = mem(m, "index_array"), *ib = mem(m, "index_array_bounds");
        char w[96];
        snprintf(w, sizeof w, "%s: output[%d]", where, j);
        vmap *v = &x->out[j];
        v->stride = 1;
        if (!json_object_is_type(m, json_type_object))
            return zarrc_error_set(ZARRC_EINVAL, "%s must be an object", w);
        if ((o && (rc = get_int(&v->offset, o, "offset"))) || (s && (rc = get_int(&v->stride, s, "stride"))))
            return zarrc__error_context(rc, "%s: ", w);
        if (id && ia)
            return zarrc_error_set(ZARRC_EINVAL, "%s: 'input_dimension' and 'index_array' exclude each other", w);
        if (s && !id && !ia)
            return zarrc_error_set(ZARRC_EINVAL, "%s: 'stride' needs 'input_dimension' or 'index_array'", w);
        if (ib && !ia)
            return zarrc_error_set(ZARRC_EINVAL, "%s: 'index_array_bounds' needs 'index_array'", w);
        if (id) {
            int64_t d;
            if ((rc = get_int(&d, id, "input_dimension")))
                return zarrc__error_context(rc, "%s: ", w);
            if (d < 0 || d >= rank)
                return zarrc_error_set(ZARRC_EINVAL, "%s: input_dimension %lld is not below the input rank %d", w,
                                       (long long)d, rank);
            v->kind = M_SINGLE;
            v->dim = (int)d;
        } else if (ia) {
            v->kind = M_ARRAY;
            if (rank == 0) {
                json_object *wrap = json_object_new_array();
                json_object_array_add(wrap, json_object_get(ia));
                rc = parse_index_array(v, ia, x, w);
                json_object_put(wrap);
            } else
                rc = parse_index_array(v, ia, x, w);
            if (rc)
                return rc;
            if (ib) {
                int64_t blo, bhi;
                bool imp;
                if (!json_object_is_type(ib, json_type_array) || json_object_array_length(ib) != 2 ||
                    (rc = get_bound(&blo, &imp, json_object_array_get_idx(ib, 0), false, w)) ||
                    (rc = get_bound(&bhi, &imp, json_object_array_get_idx(ib, 1), true, w)))
                    return rc ? rc : zarrc_error_set(ZARRC_EINVAL, "%s: index_array_bounds must be [lo, hi]", w);
                if ((blo != INF_LO && v->vmin < blo) || (bhi != INF_HI && v->vmax > bhi))
                    return zarrc_error_set(ZARRC_EBOUNDS, "%s: index_array values [%lld, %lld] are outside "
                                           "index_array_bounds", w, (long long)v->vmin, (long long)v->vmax);
            }
        } else
            v->kind = M_CONST;
    }
    return ZARRC_OK;
}

/* ---- locations ---- */

static bool is_url(const char *s) { return strstr(s, "://") != NULL; }

/* Join base and rel ('/'-separated, "." and ".." resolved). NULL with *above set when ".."
 * climbs above the root. */
static char *join_path(const char *base, const char *rel, bool *above)
{
    *above = false;
    size_t cap = strlen(base) + strlen(rel) + 2;
    char *out = zarrc__malloc(cap), *tmp = zarrc__sprintf("%s/%s", base, rel);
    if (!out || !tmp) {
        free(out);
        free(tmp);
        return NULL;
    }
    size_t len = 0;
    for (char *seg = strtok(tmp, "/"); seg; seg = strtok(NULL, "/")) {
        if (!strcmp(seg, "."))
            continue;
        if (!strcmp(seg, "..")) {
            if (!len) {
                *above = true;
                free(tmp);
                free(out);
                return NULL;
            }
            while (len && out[len - 1] != '/')
                len--;
            if (len)
                len--;
            continue;
        }
        if (len)
            out[len++] = '/';
        size_t n = strlen(seg);
        memcpy(out + len, seg, n);
        len += n;
    }
    out[len] = 0;
    free(tmp);
    return out;
}

/* The root directory of a filesystem store (realpath; NULL if not a filesystem store). */
static char *fs_root(const zarrc_store *s)
{
    const char *u = s->url;
    if (!strncmp(u, "file://", 7))
        u += 7;
    else if (is_url(u))
        return NULL;
    return realpath(u, NULL);
}

/* Resolve a layer location into (store, path). */
static int resolve(zarrc_store **store, char **path, const open_ctx *c, const char *loc, const char *where)
{
    *store = NULL;
    *path = NULL;
    bool allow = (c->flags & ZARRC_OPEN_ALLOW_EXTERNAL) != 0, above;
    char *abs = NULL;
    if (!strncmp(loc, "file://", 7))
        loc += 7;
    if (!is_url(loc) && loc[0] != '/') {
        char *p = join_path(c->base, loc, &above);
        if (p) {
            *store = zarrc__store_ref(c->store);
            *path = p;
            return ZARRC_OK;
        }
        if (!above)
            return ZARRC_ENOMEM;
        char *root = fs_root(c->store);
        if (!root || !allow) {
            free(root);
            return zarrc_error_set(ZARRC_EAUTH, "%s: '%s' leaves the view's store (external references need "
                                   "ZARRC_OPEN_ALLOW_EXTERNAL / --allow-external)", where, loc);
        }
        abs = zarrc__sprintf("%s/%s/%s", root, c->base, loc);
        free(root);
        if (!abs)
            return ZARRC_ENOMEM;
        loc = abs;
    }
    if (!is_url(loc)) {
        /* An absolute path: inside the base store's directory counts as internal. */
        char *root = fs_root(c->store), *real = realpath(loc, NULL);
        size_t rl = root ? strlen(root) : 0;
        if (root && real && !strncmp(real, root, rl) && (real[rl] == '/' || !real[rl])) {
            *path = zarrc__strdup(real[rl] ? real + rl + 1 : "");
            free(root);
            free(real);
            free(abs);
            if (!*path)
                return ZARRC_ENOMEM;
            *store = zarrc__store_ref(c->store);
            return ZARRC_OK;
        }
        free(root);
        free(real);
    }
    if (!allow) {
        int rc = zarrc_error_set(ZARRC_EAUTH, "%s: '%s' is outside the view's store (external references need "
                                 "ZARRC_OPEN_ALLOW_EXTERNAL / --allow-external)", where, loc);
        free(abs);
        return rc;
    }
    int rc = zarrc_store_open(store, loc, 0);
    free(abs);
    if (rc)
        return zarrc__error_context(rc, "%s: ", where);
    *path = zarrc__strdup("");
    return *path ? ZARRC_OK : ZARRC_ENOMEM;
}

/* A spec's "dtype": tensorstore's name (or any spelling zarrc_dtype_parse takes, e.g. "<U3"),
 * or a v3 data type object ({"name": "fixed_length_utf32", "configuration": ...}): the short
 * forms write fixed-width string types that way. Nonzero (message set) when it is neither. */
static int spec_dtype(zarrc_dtype_info *out, const json_object *dt)
{
    if (json_object_is_type((json_object *)dt, json_type_object))
        return zarrc__dtype_from_json(out, dt);
    if (!json_object_is_type((json_object *)dt, json_type_string))
        return ZARRC_EDTYPE;
    return zarrc_dtype_parse(out, json_object_get_string((json_object *)dt));
}

/* Location of a zarr/zarr3 layer spec: kvstore (object or URL string) + "path". */
static int layer_location(char **loc, const json_object *l, const char *where)
{
    json_object *kv = mem(l, "kvstore"), *p = mem(l, "path");
    const char *base = NULL, *sub = p && json_object_is_type(p, json_type_string) ? json_object_get_string(p) : "";
    if (p && !json_object_is_type(p, json_type_string))
        return zarrc_error_set(ZARRC_EINVAL, "%s: 'path' must be a string", where);
    if (json_object_is_type(kv, json_type_string))
        base = json_object_get_string(kv);
    else if (json_object_is_type(kv, json_type_object)) {
        json_object *drv = mem(kv, "driver"), *kp = mem(kv, "path");
        if (!json_object_is_type(drv, json_type_string) || strcmp(json_object_get_string(drv), "file"))
            return zarrc_error_set(ZARRC_EUNSUPPORTED, "%s: only the 'file' kvstore driver is supported", where);
        base = json_object_is_type(kp, json_type_string) ? json_object_get_string(kp) : "";
    } else
        return zarrc_error_set(ZARRC_EINVAL, "%s: 'kvstore' is missing", where);
    size_t bl = strlen(base);
    *loc = zarrc__sprintf("%s%s%s", base, bl && base[bl - 1] != '/' && *sub ? "/" : "", sub);
    if (!*loc)
        return ZARRC_ENOMEM;
    size_t n = strlen(*loc);
    while (n > 1 && (*loc)[n - 1] == '/')
        (*loc)[--n] = 0;
    if (!**loc) {
        free(*loc);
        *loc = zarrc__strdup(".");
    }
    return *loc ? ZARRC_OK : ZARRC_ENOMEM;
}

/* ---- building ---- */

static int view_build(zarrc__view **out, json_object *spec, const open_ctx *c);
static int make_handle(zarrc_array **out, zarrc__view *v, zarrc_store *store, const char *path,
                       json_object *doc, const char *where);

static int chain_copy(zarrc__view_chain *dst, const zarrc__view_chain *src, const char *add)
{
    size_t n = (src ? src->n : 0) + (add ? 1 : 0);
    dst->items = zarrc__calloc(n ? n : 1, sizeof *dst->items);
    if (!dst->items)
        return ZARRC_ENOMEM;
    for (size_t i = 0; src && i < src->n; i++)
        if (!(dst->items[dst->n++] = zarrc__strdup(src->items[i])))
            return ZARRC_ENOMEM;
    if (add && !(dst->items[dst->n++] = zarrc__strdup(add)))
        return ZARRC_ENOMEM;
    return ZARRC_OK;
}

static void chain_clear(zarrc__view_chain *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->items[i]);
    free(c->items);
    c->items = NULL;
    c->n = 0;
}

/* Inline "array" data: nested lists → C-order buffer. */
/* The element at C-order position e of an inline array of shape L->src_shape (NULL and a
 * message when the nesting is not rectangular). */
static const json_object *inline_element(const vlayer *L, const json_object *arr, size_t e)
{
    int64_t pos[MAXD];
    for (int d = L->src_rank - 1; d >= 0; d--) {
        pos[d] = (int64_t)(e % (size_t)L->src_shape[d]);
        e /= (size_t)L->src_shape[d];
    }
    const json_object *v = arr;
    for (int d = 0; d < L->src_rank; d++) {
        if (!json_object_is_type((json_object *)v, json_type_array) ||
            (int64_t)json_object_array_length((json_object *)v) != L->src_shape[d]) {
            zarrc_error_set(ZARRC_EINVAL, "%s: inline array is not rectangular", L->where);
            return NULL;
        }
        v = json_object_array_get_idx((json_object *)v, (size_t)pos[d]);
    }
    return v;
}

/* Inline data of a variable-length type: n vrefs followed by the bytes they point to. */
static int parse_inline_vlen(vlayer *L, const json_object *arr, const zarrc_dtype_info *dt, size_t n)
{
    zarrc__fill *f = zarrc__calloc(n ? n : 1, sizeof *f);
    if (!f)
        return ZARRC_ENOMEM;
    int rc = ZARRC_OK;
    size_t total = 0;
    for (size_t e = 0; e < n && rc == ZARRC_OK; e++) {
        const json_object *v = inline_element(L, arr, e);
        if (!v)
            rc = ZARRC_EINVAL;
        else if ((rc = zarrc__fill_parse(&f[e], dt, v, 3)))
            zarrc__error_context(rc, "%s: element %zu: ", L->where, e);
        else if (__builtin_add_overflow(total, f[e].size, &total))
            rc = zarrc_error_set(ZARRC_EBOUNDS, "%s: inline data too large", L->where);
    }
    size_t head = n * sizeof(zarrc_vref), size;
    if (rc == ZARRC_OK && __builtin_add_overflow(head, total, &size))
        rc = zarrc_error_set(ZARRC_EBOUNDS, "%s: inline data too large", L->where);
    if (rc == ZARRC_OK && !(L->data = zarrc__malloc(size ? size : 1)))
        rc = ZARRC_ENOMEM;
    size_t pos = head;
    for (size_t e = 0; e < n && rc == ZARRC_OK; e++) {
        zarrc_vref r = {L->data + pos, f[e].size};
        if (f[e].size)
            memcpy(L->data + pos, f[e].bytes, f[e].size);
        memcpy(L->data + e * sizeof r, &r, sizeof r);
        pos += f[e].size;
    }
    for (size_t e = 0; e < n; e++)
        zarrc__fill_clear(&f[e]);
    free(f);
    return rc;
}

static int parse_inline(vlayer *L, const json_object *arr, const zarrc_dtype_info *dt, size_t es)
{
    int r = 0;
    const json_object *cur = arr;
    while (json_object_is_type((json_object *)cur, json_type_array)) {
        if (r == MAXD)
            return zarrc_error_set(ZARRC_EUNSUPPORTED, "%s: inline array deeper than %d", L->where, MAXD);
        L->src_shape[r++] = (int64_t)json_object_array_length((json_object *)cur);
        if (!json_object_array_length((json_object *)cur))
            break;
        cur = json_object_array_get_idx((json_object *)cur, 0);
    }
    L->src_rank = r;
    size_t n = 1;
    for (int d = 0; d < r; d++)
        n *= (size_t)L->src_shape[d];
    if (zarrc__dtype_is_vlen(dt))
        return parse_inline_vlen(L, arr, dt, n);
    if (!(L->data = zarrc__malloc(n ? n * es : 1)))
        return ZARRC_ENOMEM;
    int64_t pos[MAXD] = {0};
    for (size_t e = 0; e < n; e++) {
        const json_object *v = arr;
        for (int d = 0; d < r; d++) {
            if (!json_object_is_type((json_object *)v, json_type_array) ||
                (int64_t)json_object_array_length((json_object *)v) != L->src_shape[d])
                return zarrc_error_set(ZARRC_EINVAL, "%s: inline array is not rectangular", L->where);
            v = json_object_array_get_idx((json_object *)v, (size_t)pos[d]);
        }
        zarrc__fill f = {0};
        int rc = zarrc__fill_parse(&f, dt, v, 3);
        if (rc)
            return zarrc__error_context(rc, "%s: element %zu: ", L->where, e);
        memcpy(L->data + e * es, f.bytes, es);
        zarrc__fill_clear(&f);
        for (int d = r - 1; d >= 0 && ++pos[d] == L->src_shape[d]; d--)
            pos[d] = 0;
    }
    return ZARRC_OK;
}

static void layer_clear(vlayer *L)
{
    zarrc_array_free(L->arr);
    zarrc__store_unref(L->store);
    free(L->path);
    free(L->display);
    free(L->data);
    xf_clear(&L->xf);
}

/* Open a zarr layer (caller holds the view's lock) and validate its transform. */
static int layer_open(zarrc__view *v, vlayer *L)
{
    if (L->kind == L_ZARR && !L->arr) {
        int rc = zarrc__array_open_chain(&L->arr, L->store, L->path, &v->chain, v->flags);
        if (rc)
            return zarrc__error_context(rc, "%s ('%s'): ", L->where, L->display);
        const zarrc_dtype_info *dt = zarrc_array_dtype(L->arr);
        if (dt->kind != v->dtype.kind || dt->item_size != v->dtype.item_size || strcmp(dt->name, v->dtype.name)) {
            rc = zarrc_error_set(ZARRC_EDTYPE, "%s ('%s'): data type %s differs from the view's %s", L->where,
                                 L->display, dt->name, v->dtype.name);
            zarrc_array_free(L->arr);
            L->arr = NULL;
            return rc;
        }
        L->src_rank = zarrc_array_ndim(L->arr);
        memcpy(L->src_shape, zarrc_array_shape(L->arr), (size_t)L->src_rank * sizeof(int64_t));
        if (L->arr->view)
            memcpy(L->src_origin, L->arr->view->origin, sizeof L->src_origin);
    }
    return ZARRC_OK;
}

/* Range of out map j over the domain box [lo, hi) (non-empty). */
static int map_range(int64_t *mn, int64_t *mx, const vmap *m, const int64_t *lo, const int64_t *hi)
{
    int64_t a, b;
    if (m->kind == M_CONST) {
        *mn = *mx = m->offset;
        return ZARRC_OK;
    }
    if (m->kind == M_SINGLE) {
        a = lo[m->dim];
        b = hi[m->dim] - 1;
    } else {
        a = m->vmin;
        b = m->vmax;
    }
    int64_t p, q;
    if (__builtin_mul_overflow(a, m->stride, &p) || __builtin_mul_overflow(b, m->stride, &q) ||
        __builtin_add_overflow(p, m->offset, &p) || __builtin_add_overflow(q, m->offset, &q))
        return zarrc_error_set(ZARRC_EBOUNDS, "the transform overflows");
    *mn = p < q ? p : q;
    *mx = p < q ? q : p;
    return ZARRC_OK;
}

/* Learn (opening the layer if needed) and validate the layer's domain. Caller holds the lock. */
static int layer_ready(zarrc__view *v, vlayer *L)
{
    if (L->validated)
        return ZARRC_OK;
    int rc = layer_open(v, L);
    if (rc)
        return rc;
    if (!L->has_xf) {
        for (int d = 0; d < L->src_rank; d++) {
            L->lo[d] = L->src_origin[d];
            L->hi[d] = L->src_origin[d] + L->src_shape[d];
        }
        vxf *ix = &L->xf;
        ix->in_rank = ix->out_rank = L->src_rank;
        for (int d = 0; d < L->src_rank; d++) {
            ix->lo[d] = L->lo[d];
            ix->hi[d] = L->hi[d];
            ix->out[d] = (vmap){.kind = M_SINGLE, .stride = 1, .dim = d};
        }
        if (v->ndim < 0)
            v->ndim = L->src_rank;
        if (L->src_rank != v->ndim)
            return zarrc_error_set(ZARRC_EINVAL, "%s ('%s') has %d dimensions, the view %d", L->where,
                                   L->display ? L->display : "", L->src_rank, v->ndim);
        L->known = L->validated = true;
        return ZARRC_OK;
    }
    vxf *x = &L->xf;
    if (x->out_rank != L->src_rank)
        return zarrc_error_set(ZARRC_EINVAL, "%s: the transform has %d output dimensions, the layer has %d", L->where,
                               x->out_rank, L->src_rank);
    /* Unknown or implicit input bounds come from the layer's domain through single maps. */
    for (int d = 0; d < x->in_rank; d++) {
        if (x->lo[d] != INF_LO && x->hi[d] != INF_HI)
            continue; /* finite bounds, implicit ones too, are taken as given (as tensorstore lays layers out) */
        const vmap *m = NULL;
        int j;
        for (j = 0; j < x->out_rank; j++)
            if (x->out[j].kind == M_SINGLE && x->out[j].dim == d && x->out[j].stride)
                m = &x->out[j];
        if (!m) {
            if (x->lo[d] == INF_LO || x->hi[d] == INF_HI)
                return zarrc_error_set(ZARRC_EINVAL, "%s: input dimension %d has no bounds", L->where, d);
            continue;
        }
        for (j = 0; &x->out[j] != m; j++)
            ;
        /* y with src_origin <= off + s*y < src_origin + n */
        int64_t s = m->stride, a = L->src_origin[j] - m->offset, b = L->src_origin[j] + L->src_shape[j] - 1 - m->offset;
        int64_t lo, hi;
        if (s > 0) {
            lo = a >= 0 ? (a + s - 1) / s : -((-a) / s);
            hi = (b >= 0 ? b / s : -((-b + s - 1) / s)) + 1;
        } else {
            int64_t t = -s; /* -t*y in [a, b] → y in [-b/t, -a/t] */
            lo = -b >= 0 ? (-b + t - 1) / t : -((b) / t);
            hi = (-a >= 0 ? -a / t : -((a + t - 1) / t)) + 1;
        }
        if (hi < lo)
            hi = lo;
        if (x->lo[d] == INF_LO)
            x->lo[d] = lo;
        if (x->hi[d] == INF_HI)
            x->hi[d] = hi;
    }
    memcpy(L->lo, x->lo, sizeof L->lo);
    memcpy(L->hi, x->hi, sizeof L->hi);
    if (v->ndim < 0)
        v->ndim = x->in_rank;
    if (x->in_rank != v->ndim)
        return zarrc_error_set(ZARRC_EINVAL, "%s: the transform's input rank %d differs from the view's rank %d",
                               L->where, x->in_rank, v->ndim);
    L->known = true;
    bool empty = false;
    for (int d = 0; d < x->in_rank; d++)
        empty |= L->hi[d] <= L->lo[d];
    for (int j = 0; j < x->out_rank && !empty; j++) {
        int64_t mn, mx;
        if ((rc = map_range(&mn, &mx, &x->out[j], L->lo, L->hi)))
            return zarrc__error_context(rc, "%s: output dimension %d: ", L->where, j);
        int64_t slo = L->src_origin[j], shi = L->src_origin[j] + L->src_shape[j];
        if (mn < slo || mx >= shi)
            return zarrc_error_set(ZARRC_EBOUNDS, "%s: output dimension %d maps to [%lld, %lld], outside the layer's "
                                   "domain [%lld, %lld)", L->where, j, (long long)mn, (long long)mx, (long long)slo,
                                   (long long)shi);
    }
    L->validated = true;
    return ZARRC_OK;
}

/* Whether the layer's domain is given explicitly by its spec (no I/O needed). */
static bool domain_given(const vlayer *L)
{
    if (!L->has_xf)
        return L->kind == L_INLINE || L->kind == L_STACK;
    for (int d = 0; d < L->xf.in_rank; d++)
        if (L->xf.lo[d] == INF_LO || L->xf.hi[d] == INF_HI)
            return false;
    return true;
}

static int parse_layer(zarrc__view *v, vlayer *L, json_object *l, const open_ctx *c, size_t k)
{
    snprintf(L->where, sizeof L->where, "layer %zu", k);
    int rc;
    json_object *drv = mem(l, "driver"), *t = mem(l, "transform");
    if (!json_object_is_type(drv, json_type_string))
        return zarrc_error_set(ZARRC_EINVAL, "%s: 'driver' is missing", L->where);
    const char *dn = json_object_get_string(drv);
    L->dtype_json = mem(l, "dtype");
    if (L->dtype_json) {
        zarrc_dtype_info dt;
        if (spec_dtype(&dt, L->dtype_json))
            return zarrc_error_set(ZARRC_EDTYPE, "%s: bad 'dtype'", L->where);
        if (strcmp(dt.name, v->dtype.name))
            return zarrc_error_set(ZARRC_EDTYPE, "%s: dtype %s differs from the view's %s", L->where, dt.name,
                                   v->dtype.name);
    }
    if (t) {
        if ((rc = parse_transform(&L->xf, t, L->where)))
            return rc;
        L->has_xf = true;
    }
    if (!strcmp(dn, "zarr") || !strcmp(dn, "zarr3")) {
        L->kind = L_ZARR;
        char *loc;
        if ((rc = layer_location(&loc, l, L->where)))
            return rc;
        L->display = loc;
        if ((rc = resolve(&L->store, &L->path, c, loc, L->where)))
            return rc;
    } else if (!strcmp(dn, "array")) {
        L->kind = L_INLINE;
        json_object *a = mem(l, "array");
        if (!a)
            return zarrc_error_set(ZARRC_EINVAL, "%s: 'array' is missing", L->where);
        if ((rc = parse_inline(L, a, &v->dtype, v->es)))
            return rc;
    } else if (!strcmp(dn, "stack")) {
        L->kind = L_STACK;
        if (c->depth + 1 > ZARRC__VIEW_MAX_DEPTH)
            return zarrc_error_set(ZARRC_EINVAL, "%s: views nest deeper than %d", L->where, ZARRC__VIEW_MAX_DEPTH);
        open_ctx c2 = *c;
        c2.depth++;
        c2.chain = &v->chain;
        zarrc__view *nv;
        json_object *copy = zarrc__json_deep_copy(l);
        if (!copy)
            return ZARRC_ENOMEM;
        json_object_object_del(copy, "transform");
        if ((rc = view_build(&nv, copy, &c2)))
            return zarrc__error_context(rc, "%s: ", L->where);
        if ((rc = make_handle(&L->arr, nv, c->store, c->base, NULL, L->where)))
            return rc;
        L->src_rank = nv->ndim;
        memcpy(L->src_shape, L->arr->meta.shape, sizeof L->src_shape);
        memcpy(L->src_origin, nv->origin, sizeof L->src_origin);
        if (strcmp(nv->dtype.name, v->dtype.name))
            return zarrc_error_set(ZARRC_EDTYPE, "%s: dtype %s differs from the view's %s", L->where, nv->dtype.name,
                                   v->dtype.name);
    } else if (!strcmp(dn, "fill")) {
        L->kind = L_FILL;
        zarrc__fill f = {0};
        json_object *fv = mem(l, "fill_value");
        if (!L->has_xf || !domain_given(L))
            return zarrc_error_set(ZARRC_EINVAL, "%s: a fill layer needs a transform with an explicit domain",
                                   L->where);
        rc = fv ? zarrc__fill_parse(&f, &v->dtype, fv, 3) : zarrc__fill_default(&f, &v->dtype);
        if (rc)
            return zarrc__error_context(rc, "%s: ", L->where);
        if (zarrc__dtype_is_vlen(&v->dtype)) { /* the element is a vref to the value's bytes */
            L->data = vref_block(f.bytes, f.size);
            zarrc__fill_clear(&f);
            if (!L->data)
                return ZARRC_ENOMEM;
        } else
            L->data = f.bytes;
        L->src_rank = L->xf.out_rank;
        for (int j = 0; j < L->src_rank; j++) {
            L->src_origin[j] = -IDX_LIMIT;
            L->src_shape[j] = INT64_MAX;
        }
    } else
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "%s: driver '%s' is not supported (zarr, zarr3, array, stack, fill)",
                               L->where, dn);
    if (L->kind != L_ZARR || !domain_given(L))
        return layer_ready(v, L);
    memcpy(L->lo, L->xf.lo, sizeof L->lo);
    memcpy(L->hi, L->xf.hi, sizeof L->hi);
    if (v->ndim < 0)
        v->ndim = L->xf.in_rank;
    if (L->xf.in_rank != v->ndim)
        return zarrc_error_set(ZARRC_EINVAL, "%s: the transform's input rank %d differs from the view's rank %d",
                               L->where, L->xf.in_rank, v->ndim);
    L->known = true;
    return ZARRC_OK;
}

/* Short forms {"concatenate"|"stack": {"axis", "arrays"}} → a full stack spec (opens the arrays). */
static int expand_short(json_object **out, const json_object *spec, const open_ctx *c)
{
    json_object *cc = mem(spec, "concatenate"), *st = mem(spec, "stack");
    bool concat = cc != NULL;
    json_object *body = concat ? cc : st, *axis_j = mem(body, "axis"), *arrays = mem(body, "arrays");
    const char *what = concat ? "concatenate" : "stack";
    if (!json_object_is_type(arrays, json_type_array) || !json_object_array_length(arrays))
        return zarrc_error_set(ZARRC_EINVAL, "%s: 'arrays' must be a non-empty list", what);
    int64_t axis = 0;
    int rc;
    if (axis_j && (rc = get_int(&axis, axis_j, "axis")))
        return zarrc__error_context(rc, "%s: ", what);
    size_t n = json_object_array_length(arrays);
    json_object *res = json_object_new_object(), *layers = json_object_new_array();
    json_object_object_add(res, "driver", json_object_new_string("stack"));
    json_object_object_add(res, "layers", layers);
    int64_t pos = 0, rank = -1, first_shape[MAXD];
    json_object *dtj = NULL; /* the first array's data type (v3 JSON: a name, or an object) */
    for (size_t k = 0; k < n; k++) {
        json_object *e = json_object_array_get_idx(arrays, k);
        char where[48];
        snprintf(where, sizeof where, "%s: arrays[%zu]", what, k);
        if (!json_object_is_type(e, json_type_string)) {
            rc = zarrc_error_set(ZARRC_EINVAL, "%s must be a location string", where);
            goto fail;
        }
        const char *loc = json_object_get_string(e);
        zarrc_store *s;
        char *p;
        zarrc_array *a = NULL;
        if ((rc = resolve(&s, &p, c, loc, where)))
            goto fail;
        rc = zarrc__array_open_chain(&a, s, p, c->chain, c->flags);
        zarrc__store_unref(s);
        free(p);
        if (rc) {
            zarrc__error_context(rc, "%s ('%s'): ", where, loc);
            goto fail;
        }
        int r = a->meta.ndim;
        const int64_t *sh = a->meta.shape;
        if (!dtj && !(dtj = zarrc__dtype_to_json_v3(&a->meta.dtype))) {
            zarrc_array_free(a);
            rc = ZARRC_ENOMEM;
            goto fail;
        }
        int64_t ax = axis;
        if (k == 0) {
            rank = r;
            memcpy(first_shape, sh, (size_t)r * sizeof *sh);
        }
        int lim = concat ? r : r + 1;
        if (ax < 0)
            ax += lim;
        if (ax < 0 || ax >= lim || (concat && r == 0)) {
            zarrc_array_free(a);
            rc = zarrc_error_set(ZARRC_EINVAL, "%s: axis %lld is out of range for %d dimensions", what,
                                 (long long)axis, r);
            goto fail;
        }
        bool mism = r != rank;
        for (int d = 0; d < r && !mism; d++)
            mism = (!concat || d != ax) && sh[d] != first_shape[d];
        if (mism) {
            rc = zarrc_error_set(ZARRC_EINVAL, "%s: shape of '%s' does not match the first array's", what, loc);
            zarrc_array_free(a);
            goto fail;
        }
        json_object *l = json_object_new_object(), *kv = json_object_new_object(), *t = json_object_new_object(),
                    *mn = json_object_new_array(), *mx = json_object_new_array(), *o = json_object_new_array();
        json_object_object_add(l, "driver", json_object_new_string(a->meta.format == 2 ? "zarr" : "zarr3"));
        json_object_object_add(kv, "driver", json_object_new_string("file"));
        json_object_object_add(kv, "path", json_object_new_string(loc));
        json_object_object_add(l, "kvstore", kv);
        int in_rank = concat ? r : r + 1;
        for (int d = 0; d < in_rank; d++) {
            int64_t lo, hi;
            if (concat) {
                lo = d == ax ? pos : 0;
                hi = d == ax ? pos + sh[d] : sh[d];
            } else {
                lo = d == ax ? (int64_t)k : 0;
                hi = d == ax ? (int64_t)k + 1 : sh[d < ax ? d : d - 1];
            }
            json_object_array_add(mn, json_object_new_int64(lo));
            json_object_array_add(mx, json_object_new_int64(hi));
        }
        for (int j = 0; j < r; j++) {
            json_object *m = json_object_new_object();
            int src = concat ? j : (j < ax ? j : j + 1);
            json_object_object_add(m, "input_dimension", json_object_new_int(src));
            if (concat && j == ax && pos)
                json_object_object_add(m, "offset", json_object_new_int64(-pos));
            json_object_array_add(o, m);
        }
        json_object_object_add(t, "input_inclusive_min", mn);
        json_object_object_add(t, "input_exclusive_max", mx);
        json_object_object_add(t, "output", o);
        json_object_object_add(l, "transform", t);
        json_object_array_add(layers, l);
        if (concat)
            pos += sh[ax];
        zarrc_array_free(a);
    }
    json_object_object_add(res, "dtype", dtj);
    dtj = NULL;
    static const char *keep[] = {"fill_value", "dimension_names", "dtype", "attributes"};
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) {
        json_object *m = mem(spec, keep[i]);
        if (m)
            json_object_object_add(res, keep[i], json_object_get(m));
    }
    *out = res;
    return ZARRC_OK;
fail:
    json_object_put(dtj);
    json_object_put(res);
    return rc;
}

/* Build a view from a spec (taken over). */
static int view_build(zarrc__view **out, json_object *spec, const open_ctx *c)
{
    *out = NULL;
    int rc;
    if (!json_object_is_type(spec, json_type_object)) {
        json_object_put(spec);
        return zarrc_error_set(ZARRC_EINVAL, "a view spec must be a JSON object");
    }
    if (mem(spec, "concatenate") || mem(spec, "stack")) {
        json_object *full = NULL;
        rc = expand_short(&full, spec, c);
        json_object_put(spec);
        if (rc)
            return rc;
        spec = full;
    }
    json_object *drv = mem(spec, "driver");
    if (json_object_is_type(drv, json_type_string) && strcmp(json_object_get_string(drv), "stack")) {
        /* A single layer spec: a stack of one. */
        json_object *w = json_object_new_object(), *ls = json_object_new_array();
        json_object_object_add(w, "driver", json_object_new_string("stack"));
        json_object *dt = mem(spec, "dtype");
        if (dt)
            json_object_object_add(w, "dtype", json_object_get(dt));
        json_object_array_add(ls, spec);
        json_object_object_add(w, "layers", ls);
        spec = w;
    } else if (!drv) {
        json_object_put(spec);
        return zarrc_error_set(ZARRC_EINVAL, "the view spec has no 'driver' (nor a 'concatenate'/'stack' short form)");
    }
    zarrc__view *v = zarrc__calloc(1, sizeof *v);
    if (!v) {
        json_object_put(spec);
        return ZARRC_ENOMEM;
    }
    v->spec = spec;
    v->flags = c->flags;
    v->depth = c->depth;
    pthread_mutex_init(&v->mu, NULL);
    if ((rc = chain_copy(&v->chain, c->chain, NULL)))
        goto fail;
    json_object *layers = mem(spec, "layers"), *dt = mem(spec, "dtype"), *fv = mem(spec, "fill_value"),
                *schema = mem(spec, "schema"), *dom = mem(schema, "domain"), *top = mem(spec, "transform");
    if (!json_object_is_type(layers, json_type_array)) {
        rc = zarrc_error_set(ZARRC_EINVAL, "'layers' must be a list");
        goto fail;
    }
    v->n = json_object_array_length(layers);
    /* dtype: top level, a layer's "dtype", else the first zarr layer's. */
    for (size_t k = 0; !dt && k < v->n; k++)
        dt = mem(json_object_array_get_idx(layers, k), "dtype");
    if (dt) {
        if (spec_dtype(&v->dtype, dt)) {
            rc = zarrc_error_set(ZARRC_EDTYPE, "bad 'dtype' %s", json_object_to_json_string(dt));
            goto fail;
        }
    } else {
        json_object *l0 = v->n ? json_object_array_get_idx(layers, 0) : NULL;
        vlayer tmp;
        memset(&tmp, 0, sizeof tmp);
        snprintf(tmp.where, sizeof tmp.where, "layer 0");
        char *loc = NULL;
        zarrc_array *a = NULL;
        if (!l0 || (rc = layer_location(&loc, l0, tmp.where))) {
            rc = rc ? rc : zarrc_error_set(ZARRC_EDTYPE, "the view has no 'dtype'");
            goto fail;
        }
        rc = resolve(&tmp.store, &tmp.path, c, loc, tmp.where);
        if (rc == ZARRC_OK)
            rc = zarrc__array_open_chain(&a, tmp.store, tmp.path, c->chain, c->flags);
        if (rc == ZARRC_OK)
            v->dtype = *zarrc_array_dtype(a);
        zarrc_array_free(a);
        zarrc__store_unref(tmp.store);
        free(tmp.path);
        free(loc);
        if (rc)
            goto fail;
    }
    if (zarrc__dtype_is_optional_vlen(&v->dtype)) { /* views carry no mask: nulls would read as "" */
        rc = zarrc_error_set(ZARRC_EUNSUPPORTED, "views of optional string/bytes arrays (zarrs.optional) are not "
                             "supported");
        goto fail;
    }
    v->es = zarrc_dtype_elem_size(&v->dtype); /* sizeof(zarrc_vref) for variable-length types */
    if (fv) {
        zarrc__fill f = {0};
        if ((rc = zarrc__fill_parse(&f, &v->dtype, fv, 3))) {
            zarrc__error_context(rc, "fill_value: ");
            goto fail;
        }
        if (zarrc__dtype_is_vlen(&v->dtype)) {
            v->fill = vref_block(f.bytes, f.size);
            zarrc__fill_clear(&f);
            if (!v->fill) {
                rc = ZARRC_ENOMEM;
                goto fail;
            }
        } else
            v->fill = f.bytes;
        v->has_fill = true;
    }
    /* Rank: the schema domain, else the first layer's transform. */
    int64_t dlo[MAXD], dhi[MAXD];
    bool dimp[MAXD];
    int rank = -1;
    if (dom && (rc = parse_domain(&rank, dlo, dhi, dimp, NULL, dom, "", "schema.domain")))
        goto fail;
    if (top) {
        vxf tx;
        if ((rc = parse_transform(&tx, top, "transform")))
            goto fail;
        bool ident = tx.in_rank == tx.out_rank && (rank < 0 || rank == tx.in_rank);
        for (int j = 0; j < tx.out_rank && ident; j++)
            ident = tx.out[j].kind == M_SINGLE && tx.out[j].dim == j && tx.out[j].stride == 1 && !tx.out[j].offset;
        if (!ident) {
            /* A transform over the whole stack: the stack becomes the one layer of a new one. */
            xf_clear(&tx);
            json_object *w = json_object_new_object(), *ls = json_object_new_array();
            json_object_object_add(w, "driver", json_object_new_string("stack"));
            static const char *const keep[] = {"dtype", "fill_value", "attributes", "dimension_names"};
            for (size_t i = 0; i < sizeof keep / sizeof *keep; i++)
                if (mem(spec, keep[i]))
                    json_object_object_add(w, keep[i], json_object_get(mem(spec, keep[i])));
            json_object_array_add(ls, json_object_get(spec));
            json_object_object_add(w, "layers", ls);
            zarrc__view_free(v);
            return view_build(out, w, c);
        }
        if (rank < 0) {
            rank = tx.in_rank;
            for (int d = 0; d < rank; d++) {
                dlo[d] = tx.lo[d];
                dhi[d] = tx.hi[d];
            }
        }
        xf_clear(&tx);
    }
    v->layers = zarrc__calloc(v->n ? v->n : 1, sizeof *v->layers);
    if (!v->layers) {
        rc = ZARRC_ENOMEM;
        goto fail;
    }
    if (rank < 0) {
        json_object *l0 = v->n ? json_object_array_get_idx(layers, 0) : NULL, *t0 = mem(l0, "transform");
        if (t0) {
            vxf tx;
            if ((rc = parse_transform(&tx, t0, "layer 0")))
                goto fail;
            rank = tx.in_rank;
            xf_clear(&tx);
        }
    }
    v->ndim = rank; /* may be -1: learnt from the first layer below */
    for (size_t k = 0; k < v->n; k++) {
        rc = parse_layer(v, &v->layers[k], json_object_array_get_idx(layers, k), c, k);
        if (rc)
            goto fail;
    }
    if (v->ndim < 0 || v->ndim > MAXD) {
        rc = zarrc_error_set(ZARRC_EINVAL, "the view's rank is unknown (give schema.domain)");
        goto fail;
    }
    /* Domain: the schema's (bounds it gives), else the hull of the layers. */
    for (int d = 0; d < v->ndim; d++) {
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (size_t k = 0; k < v->n; k++) {
            if (v->layers[k].lo[d] < lo)
                lo = v->layers[k].lo[d];
            if (v->layers[k].hi[d] > hi)
                hi = v->layers[k].hi[d];
        }
        if (dom && dlo[d] != INF_LO)
            lo = dlo[d];
        if (dom && dhi[d] != INF_HI)
            hi = dhi[d];
        if (lo == INT64_MAX || hi == INT64_MIN || lo == INF_LO || hi == INF_HI) {
            rc = zarrc_error_set(ZARRC_EINVAL, "the view's dimension %d has no finite bounds", d);
            goto fail;
        }
        if (hi < lo)
            hi = lo;
        v->origin[d] = lo;
        dhi[d] = hi;
    }
    for (int d = 0; d < v->ndim; d++)
        v->shape[d] = dhi[d] - v->origin[d];
    *out = v;
    return ZARRC_OK;
fail:
    zarrc__view_free(v);
    return rc;
}

void zarrc__view_free(zarrc__view *v)
{
    if (!v)
        return;
    for (size_t k = 0; v->layers && k < v->n; k++)
        layer_clear(&v->layers[k]);
    free(v->layers);
    free(v->fill);
    chain_clear(&v->chain);
    json_object_put(v->spec);
    pthread_mutex_destroy(&v->mu);
    free(v);
}

json_object *zarrc__view_spec(const zarrc__view *v) { return json_object_get(v->spec); }

/* ---- reading and writing ---- */

/* The part of the selection (first domain index x0, steps) inside the layer: k in [k0, k1). */
static bool intersect(const vlayer *L, int nd, const int64_t *x0, const int64_t *count, const int64_t *step,
                      int64_t *k0, int64_t *k1)
{
    for (int d = 0; d < nd; d++) {
        int64_t lo = L->lo[d], hi = L->hi[d], s = step[d];
        if (hi <= lo)
            return false;
        /* Differences of indices in [-2^62, 2^62] can reach 2^63: computed wider. */
        __int128 a128 = lo <= x0[d] ? 0 : ((__int128)lo - x0[d] + s - 1) / s;
        __int128 b128 = hi <= x0[d] ? 0 : ((__int128)hi - 1 - x0[d]) / s + 1;
        if (a128 >= count[d] || b128 <= 0)
            return false;
        int64_t a = (int64_t)a128, b = b128 > count[d] ? count[d] : (int64_t)b128;
        if (b > count[d])
            b = count[d];
        if (b <= a)
            return false;
        k0[d] = a;
        k1[d] = b;
    }
    return true;
}

/* Read a box of the layer's source (source domain coordinates, steps >= 1) to dst/dstr. */
static int array_read_into(zarrc_array *a, const int64_t *start, const int64_t *count, const int64_t *step,
                           uint8_t *dst, const int64_t *dstr, size_t es);

static int source_read(vlayer *L, const int64_t *sstart, const int64_t *scount, const int64_t *sstep,
                       uint8_t *dst, const int64_t *dstr, size_t es)
{
    int r = L->src_rank;
    if (L->kind == L_FILL) {
        zarrc__fill_box(dst, dstr, scount, r, L->data, es);
        return ZARRC_OK;
    }
    if (L->kind == L_INLINE) {
        int64_t cs = (int64_t)es, off = 0, sstr[MAXD];
        for (int d = r - 1; d >= 0; d--) {
            off += sstart[d] * cs;
            sstr[d] = cs * sstep[d];
            cs *= L->src_shape[d];
        }
        zarrc__copy_box(dst, dstr, L->data + off, sstr, scount, r, es);
        return ZARRC_OK;
    }
    int64_t z[MAXD];
    for (int d = 0; d < r; d++)
        z[d] = sstart[d] - L->src_origin[d];
    return array_read_into(L->arr, z, scount, sstep, dst, dstr, es);
}

/* The strided source box of a one-to-one layer transform over [k0, k1); false if the
 * transform is not of that form (index arrays, repeated or broadcast input dimensions). */
static bool box_map(const vlayer *L, const int64_t *x0, const int64_t *step, const int64_t *k0, const int64_t *k1,
                    const int64_t *dstr, int64_t *sstart, int64_t *scount, int64_t *sstep, int64_t *sdstr,
                    int64_t *base)
{
    const vxf *x = &L->xf;
    bool used[MAXD] = {false};
    for (int j = 0; j < x->out_rank; j++) {
        const vmap *m = &x->out[j];
        if (m->kind == M_ARRAY || (m->kind == M_SINGLE && (used[m->dim] || (!m->stride && k1[m->dim] - k0[m->dim] > 1))))
            return false;
        if (m->kind == M_SINGLE)
            used[m->dim] = true;
    }
    for (int d = 0; d < x->in_rank; d++)
        if (!used[d] && k1[d] - k0[d] > 1)
            return false;
    *base = 0;
    for (int d = 0; d < x->in_rank; d++)
        *base += k0[d] * dstr[d];
    for (int j = 0; j < x->out_rank; j++) {
        const vmap *m = &x->out[j];
        if (m->kind == M_CONST) {
            sstart[j] = m->offset;
            scount[j] = sstep[j] = 1;
            sdstr[j] = 0;
            continue;
        }
        int d = m->dim;
        int64_t n = k1[d] - k0[d], y0 = x0[d] + k0[d] * step[d], z0 = m->offset + m->stride * y0;
        scount[j] = n;
        if (n == 1) {
            sstart[j] = z0;
            sstep[j] = 1;
            sdstr[j] = dstr[d];
            continue;
        }
        int64_t zs = m->stride * step[d]; /* |zs| (n-1) is inside the validated image */
        if (zs > 0) {
            sstart[j] = z0;
            sstep[j] = zs;
            sdstr[j] = dstr[d];
        } else {
            sstart[j] = z0 + zs * (n - 1);
            sstep[j] = -zs;
            *base += (n - 1) * dstr[d];
            sdstr[j] = -dstr[d];
        }
    }
    return true;
}

static int64_t map_at(const vmap *m, const vxf *x, const int64_t *y)
{
    if (m->kind == M_CONST)
        return m->offset;
    if (m->kind == M_SINGLE)
        return m->offset + m->stride * y[m->dim];
    int64_t e = 0;
    for (int d = 0; d < x->in_rank; d++)
        e += (y[d] - x->lo[d]) * m->istride[d];
    return m->offset + m->stride * m->idx[e];
}

/* The bounding box of a layer's image of the selection part [k0, k1): start bstart, extents bn,
 * C-order byte strides bs of a buffer holding it (*bytes). */
static int image_box(const vlayer *L, int nd, const int64_t *x0, const int64_t *step, const int64_t *k0,
                     const int64_t *k1, size_t es, int64_t *bstart, int64_t *bn, int64_t *bs, size_t *bytes)
{
    const vxf *x = &L->xf;
    int64_t lo[MAXD], hi[MAXD];
    for (int d = 0; d < nd; d++) {
        lo[d] = x0[d] + k0[d] * step[d];
        hi[d] = x0[d] + (k1[d] - 1) * step[d] + 1;
    }
    *bytes = es;
    for (int j = 0; j < x->out_rank; j++) {
        int64_t mn, mx;
        int rc = map_range(&mn, &mx, &x->out[j], lo, hi);
        if (rc)
            return rc;
        bstart[j] = mn;
        bn[j] = mx - mn + 1;
        if (!zarrc__mul_size(*bytes, (size_t)bn[j], bytes) || *bytes > GATHER_MAX_BYTES)
            return zarrc_error_set(ZARRC_EUNSUPPORTED, "%s: the index transform spreads the selection over more than "
                                   "%zu MiB of the layer", L->where, GATHER_MAX_BYTES >> 20);
    }
    int64_t cs = (int64_t)es;
    for (int j = x->out_rank - 1; j >= 0; j--) {
        bs[j] = cs;
        cs *= bn[j];
    }
    return ZARRC_OK;
}

/* Visit every position of [k0, k1): its byte offset in the caller's buffer (strides dstr) and
 * in the image box (bstart, bs). fn returns non-zero to stop. */
typedef int (*visit_fn)(void *ctx, int64_t doff, int64_t soff);
static int each_position(const vlayer *L, int nd, const int64_t *x0, const int64_t *step, const int64_t *k0,
                         const int64_t *k1, const int64_t *dstr, const int64_t *bstart, const int64_t *bs, visit_fn fn,
                         void *ctx)
{
    const vxf *x = &L->xf;
    int64_t k[MAXD], y[MAXD];
    for (int d = 0; d < nd; d++)
        k[d] = k0[d];
    for (;;) {
        int64_t doff = 0, soff = 0;
        for (int d = 0; d < nd; d++) {
            y[d] = x0[d] + k[d] * step[d];
            doff += k[d] * dstr[d];
        }
        for (int j = 0; j < x->out_rank; j++)
            soff += (map_at(&x->out[j], x, y) - bstart[j]) * bs[j];
        int rc = fn(ctx, doff, soff);
        if (rc)
            return rc;
        int d = nd - 1;
        while (d >= 0 && ++k[d] == k1[d]) {
            k[d] = k0[d];
            d--;
        }
        if (d < 0)
            return 0;
    }
}

typedef struct copy_ctx {
    uint8_t *dst;
    const uint8_t *src;
    size_t es;
    bool to_image; /* write: caller's buffer → image; read: image → caller's buffer */
    int64_t *offs;
    size_t n;
} copy_ctx;

static int copy_one(void *ctx, int64_t doff, int64_t soff)
{
    copy_ctx *c = ctx;
    if (c->to_image)
        memcpy(c->dst + soff, c->src + doff, c->es);
    else
        memcpy(c->dst + doff, c->src + soff, c->es);
    return 0;
}

static int collect_one(void *ctx, int64_t doff, int64_t soff)
{
    (void)doff;
    copy_ctx *c = ctx;
    c->offs[c->n++] = soff;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The bounding box of a layer's image (image_box) read into a new buffer (*tmp, the
 * caller's to free; also on failure it is NULL or freed). */
static int image_read(vlayer *L, int nd, const int64_t *x0, const int64_t *step, const int64_t *k0,
                      const int64_t *k1, size_t es, int64_t *bstart, int64_t *bn, int64_t *bs, size_t *bytes,
                      uint8_t **tmp)
{
    int64_t ones[MAXD];
    *tmp = NULL;
    int rc = image_box(L, nd, x0, step, k0, k1, es, bstart, bn, bs, bytes);
    if (rc)
        return rc;
    for (int j = 0; j < L->xf.out_rank; j++)
        ones[j] = 1;
    if (!(*tmp = zarrc__malloc(*bytes)))
        return ZARRC_ENOMEM;
    rc = source_read(L, bstart, bn, ones, *tmp, bs, es);
    if (rc) {
        free(*tmp);
        *tmp = NULL;
    }
    return rc;
}

static int layer_read(vlayer *L, int nd, const int64_t *x0, const int64_t *step, const int64_t *k0, const int64_t *k1,
                      uint8_t *dst, const int64_t *dstr, size_t es)
{
    int64_t sstart[MAXD], scount[MAXD], sstep[MAXD], sdstr[MAXD], base;
    if (box_map(L, x0, step, k0, k1, dstr, sstart, scount, sstep, sdstr, &base))
        return source_read(L, sstart, scount, sstep, dst + base, sdstr, es);
    /* Gather: read the bounding box of the image, then pick element by element. */
    int64_t bn[MAXD], bs[MAXD];
    size_t bytes;
    uint8_t *tmp = NULL;
    int rc = image_read(L, nd, x0, step, k0, k1, es, sstart, bn, bs, &bytes, &tmp);
    if (rc == ZARRC_OK) {
        copy_ctx c = {dst, tmp, es, false, NULL, 0};
        each_position(L, nd, x0, step, k0, k1, dstr, sstart, bs, copy_one, &c);
    }
    free(tmp);
    return rc;
}

/* Variable-length reads through a view: the destination holds zarrc_vref elements pointing
 * into the layers' packed results, which are kept here until the read packs them into the
 * caller's zarrc_vlen. Such reads run their layers on the calling thread (view_read_impl),
 * so the list is per thread. */
typedef struct vlen_keep {
    zarrc_vlen *v;
    size_t n, cap;
} vlen_keep;
static __thread vlen_keep *tls_keep;

/* Write a box of a layer's source array from `data` (C order, elements of es bytes; for
 * variable-length types zarrc_vref elements, packed into one zarrc_vlen for the write). */
static int layer_store(vlayer *L, const int64_t *start, const int64_t *count, const int64_t *step,
                       const uint8_t *data, size_t bytes, size_t es)
{
    if (!zarrc__dtype_is_vlen(zarrc_array_dtype(L->arr)))
        return zarrc_array_write(L->arr, start, count, step, data, bytes);
    zarrc_vlen packed;
    int rc = zarrc__vlen_pack(&packed, (const zarrc_vref *)data, (int64_t)(bytes / es));
    if (rc == ZARRC_OK)
        rc = zarrc_array_write(L->arr, start, count, step, &packed, sizeof packed);
    zarrc_vlen_clear(&packed);
    return rc;
}

/* Check a gather write: the image fits, no layer position is targeted twice. */
static int gather_write_check(const vlayer *L, int nd, const int64_t *x0, const int64_t *step, const int64_t *k0,
                              const int64_t *k1, const int64_t *sstr, size_t es)
{
    int64_t bstart[MAXD], bn[MAXD], bs[MAXD], n = 1;
    size_t bytes;
    int rc = image_box(L, nd, x0, step, k0, k1, es, bstart, bn, bs, &bytes);
    if (rc)
        return rc;
    for (int d = 0; d < nd; d++)
        n *= k1[d] - k0[d];
    copy_ctx c = {NULL, NULL, es, false, zarrc__malloc((size_t)n * sizeof(int64_t)), 0};
    if (!c.offs)
        return ZARRC_ENOMEM;
    each_position(L, nd, x0, step, k0, k1, sstr, bstart, bs, collect_one, &c);
    qsort(c.offs, c.n, sizeof *c.offs, cmp_i64);
    for (size_t i = 1; i < c.n && rc == ZARRC_OK; i++)
        if (c.offs[i] == c.offs[i - 1]) {
            int64_t e = c.offs[i] / (int64_t)es;
            char pos[256];
            size_t len = 0;
            for (int j = 0; j < L->xf.out_rank && len < sizeof pos - 24; j++) {
                int64_t ext = bs[j] / (int64_t)es;
                len += (size_t)snprintf(pos + len, sizeof pos - len, "%s%lld", j ? ", " : "",
                                        (long long)(bstart[j] + e / ext));
                e %= ext;
            }
            rc = zarrc_error_set(ZARRC_EINVAL, "%s: the write targets layer position [%s] more than once (index "
                                 "array with duplicates): nothing written", L->where, pos);
        }
    free(c.offs);
    return rc;
}

/* A gather write: read the image's bounding box, place the values, write the box back. */
static int gather_write(vlayer *L, int nd, const int64_t *x0, const int64_t *step, const int64_t *k0, const int64_t *k1,
                        const uint8_t *in, const int64_t *sstr, size_t es)
{
    int64_t bstart[MAXD], bn[MAXD], bs[MAXD];
    size_t bytes;
    uint8_t *tmp = NULL;
    bool vl = zarrc__dtype_is_vlen(zarrc_array_dtype(L->arr));
    /* Variable-length: the image holds vrefs into the values read (kept alive here) and into
     * the caller's values; it is packed into one zarrc_vlen for the write back. */
    vlen_keep keep = {0}, *saved = tls_keep;
    if (vl)
        tls_keep = &keep;
    int rc = image_read(L, nd, x0, step, k0, k1, es, bstart, bn, bs, &bytes, &tmp);
    tls_keep = saved;
    if (rc == ZARRC_OK) {
        copy_ctx c = {tmp, in, es, true, NULL, 0};
        each_position(L, nd, x0, step, k0, k1, sstr, bstart, bs, copy_one, &c);
        for (int j = 0; j < L->src_rank; j++)
            bstart[j] -= L->src_origin[j];
        rc = layer_store(L, bstart, bn, NULL, tmp, bytes, es);
    }
    for (size_t k = 0; k < keep.n; k++)
        zarrc_vlen_clear(&keep.v[k]);
    free(keep.v);
    free(tmp);
    return rc;
}

static bool boxes_overlap(int nd, const int64_t *a0, const int64_t *a1, const int64_t *b0, const int64_t *b1)
{
    for (int d = 0; d < nd; d++)
        if (a1[d] <= b0[d] || b1[d] <= a0[d])
            return false;
    return true;
}

typedef struct touch {
    size_t layer;
    int64_t k0[MAXD], k1[MAXD];
} touch;

/* The layers a selection touches, in order; *disjoint if their parts do not overlap;
 * *volume the sum of the parts' sizes. */
static int touched(touch **out, size_t *nt, bool *disjoint, int64_t *volume, zarrc__view *v, const int64_t *x0,
                   const int64_t *count, const int64_t *step)
{
    size_t cap = 0, n = 0;
    touch *t = NULL;
    *disjoint = true;
    *volume = 0;
    for (size_t k = 0; k < v->n; k++) {
        touch tt;
        if (!intersect(&v->layers[k], v->ndim, x0, count, step, tt.k0, tt.k1))
            continue;
        tt.layer = k;
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            touch *nt2 = realloc(t, cap * sizeof *t);
            if (!nt2) {
                free(t);
                return zarrc__enomem();
            }
            t = nt2;
        }
        int64_t vol = 1;
        for (int d = 0; d < v->ndim; d++)
            vol *= tt.k1[d] - tt.k0[d];
        if (__builtin_add_overflow(*volume, vol, volume)) /* overlapping parts only */
            *volume = INT64_MAX;
        t[n++] = tt;
    }
    if (n > 256)
        *disjoint = false; /* not checked pairwise: treated as possibly overlapping */
    for (size_t i = 0; i < n && *disjoint; i++)
        for (size_t j = i + 1; j < n && *disjoint; j++)
            if (boxes_overlap(v->ndim, t[i].k0, t[i].k1, t[j].k0, t[j].k1))
                *disjoint = false;
    *out = t;
    *nt = n;
    return ZARRC_OK;
}

static void position_text(char *buf, size_t cap, int nd, const int64_t *x0, const int64_t *k, const int64_t *step)
{
    size_t len = 0;
    buf[len++] = '[';
    for (int d = 0; d < nd && len < cap - 24; d++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%lld", d ? ", " : "", (long long)(x0[d] + k[d] * step[d]));
    snprintf(buf + len, cap - len, "]");
}

static int ready_locked(zarrc__view *v, vlayer *L)
{
    pthread_mutex_lock(&v->mu);
    int rc = layer_ready(v, L);
    pthread_mutex_unlock(&v->mu);
    return rc;
}

typedef struct layer_job {
    zarrc__view *v;
    const touch *t;
    const int64_t *x0, *step;
    uint8_t *dst;
    const int64_t *dstr;
} layer_job;

static int layer_task(void *ctx, size_t i)
{
    layer_job *j = ctx;
    vlayer *L = &j->v->layers[j->t[i].layer];
    int rc = ready_locked(j->v, L);
    return rc ? rc : layer_read(L, j->v->ndim, j->x0, j->step, j->t[i].k0, j->t[i].k1, j->dst, j->dstr, j->v->es);
}

/* Read a non-empty selection (zero-based view indices) into dst/dstr. */
static int view_read_impl(zarrc__view *v, const int64_t *start, const int64_t *count, const int64_t *step,
                          uint8_t *dst, const int64_t *dstr)
{
    int nd = v->ndim;
    int64_t x0[MAXD], total = 1;
    for (int d = 0; d < nd; d++) {
        x0[d] = v->origin[d] + start[d];
        total *= count[d];
    }
    touch *t;
    size_t nt;
    bool disjoint;
    int64_t vol;
    int rc = touched(&t, &nt, &disjoint, &vol, v, x0, count, step);
    if (rc)
        return rc;
    if (!(disjoint && vol == total)) {
        /* Some positions may be covered by no layer: find them. */
        uint8_t *mask = zarrc__calloc((size_t)total, 1), one = 1;
        if (!mask) {
            free(t);
            return ZARRC_ENOMEM;
        }
        int64_t ms[MAXD], s = 1;
        for (int d = nd - 1; d >= 0; d--) {
            ms[d] = s;
            s *= count[d];
        }
        for (size_t i = 0; i < nt; i++) {
            int64_t off = 0, n[MAXD];
            for (int d = 0; d < nd; d++) {
                off += t[i].k0[d] * ms[d];
                n[d] = t[i].k1[d] - t[i].k0[d];
            }
            zarrc__fill_box(mask + off, ms, n, nd, &one, 1);
        }
        for (int64_t e = 0; e < total && rc == ZARRC_OK; e++) {
            if (mask[e])
                continue;
            int64_t k[MAXD], r = e, doff = 0;
            for (int d = nd - 1; d >= 0; d--) {
                k[d] = r % count[d];
                r /= count[d];
                doff += k[d] * dstr[d];
            }
            if (!v->has_fill) {
                char pos[256];
                position_text(pos, sizeof pos, nd, x0, k, step);
                rc = zarrc_error_set(ZARRC_EBOUNDS, "position %s is covered by no layer (give the view a "
                                     "'fill_value' to read fill there)", pos);
            } else
                memcpy(dst + doff, v->fill, v->es);
        }
        free(mask);
    }
    if (rc == ZARRC_OK && disjoint && nt > 1 && !zarrc__dtype_is_vlen(&v->dtype)) {
        /* Disjoint parts: the layers are read concurrently, one pool task each (a layer's
         * own chunk tasks then run inline in its task). */
        layer_job j = {v, t, x0, step, dst, dstr};
        rc = zarrc__pool_run(nt, layer_task, &j);
    } else
        for (size_t i = 0; i < nt && rc == ZARRC_OK; i++) {
            vlayer *L = &v->layers[t[i].layer];
            if ((rc = ready_locked(v, L)))
                break;
            rc = layer_read(L, nd, x0, step, t[i].k0, t[i].k1, dst, dstr, v->es);
        }
    free(t);
    return rc;
}

static int vlen_read_into(const zarrc__io_array *io, int nd, const int64_t *start, const int64_t *count,
                          const int64_t *step, uint8_t *dst, const int64_t *dstr)
{
    vlen_keep *k = tls_keep;
    if (!k)
        return zarrc_error_set(ZARRC_EINTERNAL, "variable-length layer read outside a view read");
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 8;
        zarrc_vlen *nv = realloc(k->v, cap * sizeof *nv);
        if (!nv)
            return zarrc_error_set(ZARRC_ENOMEM, "out of memory");
        k->v = nv;
        k->cap = cap;
    }
    zarrc_vlen *v = &k->v[k->n];
    int rc = zarrc__io_read(io, start, count, step, v, sizeof *v);
    if (rc)
        return rc;
    k->n++;
    zarrc_vref *refs;
    if ((rc = zarrc__vlen_refs(&refs, v, v->count)))
        return rc;
    int64_t cs[MAXD], s = (int64_t)sizeof(zarrc_vref);
    for (int d = nd - 1; d >= 0; d--) {
        cs[d] = s;
        s *= count[d];
    }
    zarrc__copy_box(dst, dstr, (const uint8_t *)refs, cs, count, nd, sizeof(zarrc_vref));
    free(refs);
    return ZARRC_OK;
}

static int array_read_into(zarrc_array *a, const int64_t *start, const int64_t *count, const int64_t *step,
                           uint8_t *dst, const int64_t *dstr, size_t es)
{
    int nd = a->meta.ndim;
    for (int d = 0; d < nd; d++)
        if (!count[d])
            return ZARRC_OK;
    if (a->view)
        return view_read_impl(a->view, start, count, step, dst, dstr);
    int rc = zarrc__array_need_pipeline(a);
    if (rc)
        return rc;
    zarrc__io_array io = zarrc__array_io(a);
    if (zarrc__dtype_is_vlen(&a->meta.dtype))
        return vlen_read_into(&io, nd, start, count, step, dst, dstr);
    if (!zarrc__pipeline_shard_spec(a->pipeline) && !a->meta.rectilinear)
        return zarrc__io_read_strided(&io, start, count, step, dst, dstr);
    size_t n = es;
    int64_t cs[MAXD];
    for (int d = nd - 1; d >= 0; d--) {
        cs[d] = (int64_t)n;
        n *= (size_t)count[d]; /* inside the caller's buffer */
    }
    uint8_t *tmp = zarrc__malloc(n);
    if (!tmp)
        return ZARRC_ENOMEM;
    rc = zarrc__io_read(&io, start, count, step, tmp, n);
    if (rc == ZARRC_OK)
        zarrc__copy_box(dst, dstr, tmp, cs, count, nd, es);
    free(tmp);
    return rc;
}

static int check_sel(const zarrc_array *a, const int64_t *start, const int64_t *count, const int64_t **step,
                     int64_t *ones, int64_t *nelem, size_t size, bool reading)
{
    const zarrc__view *v = a->view;
    if (!*step) {
        for (int d = 0; d < v->ndim; d++)
            ones[d] = 1;
        *step = ones;
    }
    int rc = zarrc__selection_check(v->ndim, a->meta.shape, start, count, *step);
    if (rc)
        return rc;
    int64_t n = 1, bytes;
    bool empty = false;
    for (int d = 0; d < v->ndim; d++)
        empty |= count[d] == 0;
    for (int d = 0; d < v->ndim && !empty; d++)
        if (__builtin_mul_overflow(n, count[d], &n))
            return zarrc_error_set(ZARRC_EBOUNDS, "the selection has too many elements");
    if (empty)
        n = 0;
    if (zarrc__dtype_is_vlen(&v->dtype)) {
        if (size != sizeof(zarrc_vlen))
            return zarrc_error_set(ZARRC_EINVAL, "variable-length %s take a zarrc_vlen", reading ? "reads" : "writes");
    } else if (__builtin_mul_overflow(n, (int64_t)v->es, &bytes) || (uint64_t)bytes != size)
        return zarrc_error_set(ZARRC_EINVAL, "%s buffer has %zu bytes, the selection needs %lld",
                               reading ? "output" : "input", size, (long long)bytes);
    *nelem = n;
    return ZARRC_OK;
}

/* A read of a variable-length view: a grid of vrefs filled like fixed-size elements, then
 * packed into the caller's zarrc_vlen (src/dtype/vlen.c). */
static int view_read_vlen(zarrc__view *v, const int64_t *start, const int64_t *count, const int64_t *step,
                          int64_t nelem, zarrc_vlen *out)
{
    memset(out, 0, sizeof *out);
    zarrc_vref *refs = zarrc__calloc((size_t)(nelem ? nelem : 1), sizeof *refs);
    if (!refs)
        return ZARRC_ENOMEM;
    int64_t dstr[MAXD], s = (int64_t)sizeof *refs;
    for (int d = v->ndim - 1; d >= 0; d--) {
        dstr[d] = s;
        s *= count[d];
    }
    vlen_keep keep = {0}, *saved = tls_keep;
    tls_keep = &keep;
    int rc = nelem ? view_read_impl(v, start, count, step, (uint8_t *)refs, dstr) : ZARRC_OK;
    tls_keep = saved;
    if (rc == ZARRC_OK)
        rc = zarrc__vlen_pack(out, refs, nelem);
    for (size_t k = 0; k < keep.n; k++)
        zarrc_vlen_clear(&keep.v[k]);
    free(keep.v);
    free(refs);
    return rc;
}

int zarrc__view_read(zarrc_array *a, const int64_t *start, const int64_t *count, const int64_t *step, void *out,
                     size_t out_size)
{
    int64_t ones[MAXD], nelem, dstr[MAXD];
    int rc = check_sel(a, start, count, &step, ones, &nelem, out_size, true);
    if (rc == ZARRC_OK && zarrc__dtype_is_vlen(&a->view->dtype))
        rc = view_read_vlen(a->view, start, count, step, nelem, out);
    else if (rc == ZARRC_OK && nelem) {
        int64_t s = (int64_t)a->view->es;
        for (int d = a->view->ndim - 1; d >= 0; d--) {
            dstr[d] = s;
            s *= count[d];
        }
        rc = view_read_impl(a->view, start, count, step, out, dstr);
    }
    return rc ? zarrc__error_context(rc, "view '%s': ", a->name) : ZARRC_OK;
}

int zarrc__view_write(zarrc_array *a, const int64_t *start, const int64_t *count, const int64_t *step,
                      const void *in, size_t in_size)
{
    zarrc__view *v = a->view;
    int64_t ones[MAXD], nelem, sstr[MAXD], x0[MAXD];
    int rc = check_sel(a, start, count, &step, ones, &nelem, in_size, false);
    zarrc_vref *refs = NULL; /* variable-length values as vrefs into the caller's zarrc_vlen */
    if (rc == ZARRC_OK && nelem && zarrc__dtype_is_vlen(&v->dtype)) {
        const zarrc_vlen *vin = in;
        if (vin->count != nelem)
            rc = zarrc_error_set(ZARRC_EINVAL, "the zarrc_vlen holds %lld values, the selection has %lld",
                                 (long long)vin->count, (long long)nelem);
        else if ((rc = zarrc__vlen_refs(&refs, vin, nelem)) == ZARRC_OK)
            in = refs;
    }
    if (rc || !nelem)
        return rc ? zarrc__error_context(rc, "view '%s': ", a->name) : ZARRC_OK;
    int nd = v->ndim;
    int64_t s = (int64_t)v->es;
    for (int d = nd - 1; d >= 0; d--) {
        sstr[d] = s;
        s *= count[d];
        x0[d] = v->origin[d] + start[d];
    }
    touch *t = NULL;
    size_t nt = 0;
    bool disjoint;
    int64_t vol;
    rc = touched(&t, &nt, &disjoint, &vol, v, x0, count, step);
    if (rc == ZARRC_OK && !disjoint)
        rc = zarrc_error_set(ZARRC_EUNSUPPORTED, "the region touches overlapping layers (or more than 256): writes "
                             "need one layer per position");
    if (rc == ZARRC_OK && vol != nelem)
        rc = zarrc_error_set(ZARRC_EREADONLY, "part of the region is covered by no layer (fill): nothing written");
    /* Everything is checked before anything is written. */
    int64_t sst[MAXD], scn[MAXD], sse[MAXD], sds[MAXD], base;
    for (size_t i = 0; i < nt && rc == ZARRC_OK; i++) {
        vlayer *L = &v->layers[t[i].layer];
        if ((rc = ready_locked(v, L)))
            break;
        if (L->kind == L_INLINE || L->kind == L_FILL)
            rc = zarrc_error_set(ZARRC_EREADONLY, "%s is %s: it cannot be written", L->where,
                                 L->kind == L_FILL ? "a fill layer" : "an inline array");
        else if (!box_map(L, x0, step, t[i].k0, t[i].k1, sstr, sst, scn, sse, sds, &base))
            rc = gather_write_check(L, nd, x0, step, t[i].k0, t[i].k1, sstr, v->es);
    }
    for (size_t i = 0; i < nt && rc == ZARRC_OK; i++) {
        vlayer *L = &v->layers[t[i].layer];
        if (!box_map(L, x0, step, t[i].k0, t[i].k1, sstr, sst, scn, sse, sds, &base)) {
            /* Index arrays (without duplicate targets): read-modify-write of the image's box. */
            if ((rc = gather_write(L, nd, x0, step, t[i].k0, t[i].k1, in, sstr, v->es)))
                zarrc__error_context(rc, "%s: ", L->where);
            continue;
        }
        int r = L->src_rank;
        size_t n = v->es;
        int64_t cs[MAXD];
        for (int d = r - 1; d >= 0; d--) {
            cs[d] = (int64_t)n;
            n *= (size_t)scn[d];
        }
        uint8_t *tmp = zarrc__malloc(n);
        if (!tmp) {
            rc = ZARRC_ENOMEM;
            break;
        }
        zarrc__copy_box(tmp, cs, (const uint8_t *)in + base, sds, scn, r, v->es);
        for (int d = 0; d < r; d++)
            sst[d] -= L->src_origin[d];
        rc = layer_store(L, sst, scn, sse, tmp, n, v->es);
        if (rc)
            zarrc__error_context(rc, "%s: ", L->where);
        free(tmp);
    }
    free(t);
    free(refs);
    return rc ? zarrc__error_context(rc, "view '%s': ", a->name) : ZARRC_OK;
}

/* ---- handles ---- */

static json_object *int_list(const int64_t *v, int n, bool at_least_1)
{
    json_object *a = json_object_new_array();
    for (int d = 0; d < n; d++)
        json_object_array_add(a, json_object_new_int64(at_least_1 && v[d] < 1 ? 1 : v[d]));
    return a;
}

/* The zarr.json a view node stores (and a view handle reports as its metadata). */
static json_object *view_doc(const zarrc__view *v, const zarrc__array_meta *m)
{
    json_object *d = json_object_new_object(), *g = json_object_new_object(), *gc = json_object_new_object(),
                *k = json_object_new_object(), *kc = json_object_new_object(), *codecs = json_object_new_array(),
                *b = json_object_new_object(), *bc = json_object_new_object(), *x = json_object_new_object();
    json_object_object_add(d, "zarr_format", json_object_new_int(3));
    json_object_object_add(d, "node_type", json_object_new_string("array"));
    json_object_object_add(d, "shape", int_list(v->shape, v->ndim, false));
    json_object_object_add(d, "data_type", zarrc__dtype_to_json_v3(&v->dtype));
    json_object_object_add(gc, "chunk_shape", int_list(v->shape, v->ndim, true));
    json_object_object_add(g, "name", json_object_new_string("regular"));
    json_object_object_add(g, "configuration", gc);
    json_object_object_add(d, "chunk_grid", g);
    json_object_object_add(kc, "separator", json_object_new_string("/"));
    json_object_object_add(k, "name", json_object_new_string("default"));
    json_object_object_add(k, "configuration", kc);
    json_object_object_add(d, "chunk_key_encoding", k);
    json_object_object_add(d, "fill_value", zarrc__fill_to_json(&m->fill, &v->dtype, 3));
    json_object_object_add(bc, "endian", json_object_new_string("little"));
    json_object_object_add(b, "name", json_object_new_string("bytes"));
    json_object_object_add(b, "configuration", bc);
    json_object_array_add(codecs, b);
    json_object_object_add(d, "codecs", codecs);
    json_object_object_add(d, "attributes", json_object_get(m->attributes));
    if (m->dimension_names)
        json_object_object_add(d, "dimension_names", json_object_get(m->dimension_names));
    json_object_object_add(x, "must_understand", json_object_new_boolean(1));
    json_object_object_add(x, "spec", json_object_get(v->spec));
    json_object_object_add(d, ZARRC__VIEW_MEMBER, x);
    return d;
}

/* A zarrc_array handle for view v (taken over). `doc`: the stored document (taken) or NULL. */
static int make_handle(zarrc_array **out, zarrc__view *v, zarrc_store *store, const char *path, json_object *doc,
                       const char *where)
{
    (void)where;
    *out = NULL;
    zarrc_array *a = zarrc__calloc(1, sizeof *a);
    if (!a) {
        zarrc__view_free(v);
        json_object_put(doc);
        return ZARRC_ENOMEM;
    }
    a->view = v;
    zarrc__array_meta *m = &a->meta;
    m->format = 3;
    m->ndim = v->ndim;
    for (int d = 0; d < v->ndim; d++) {
        m->shape[d] = v->shape[d];
        m->chunks[d] = v->shape[d] > 0 ? v->shape[d] : 1;
    }
    m->dtype = v->dtype;
    m->key_c_prefix = true;
    m->separator = '/';
    m->order = 'C';
    int rc = ZARRC_OK;
    if (v->has_fill) {
        zarrc__fill f = {false, v->fill, v->es};
        if (zarrc__dtype_is_vlen(&v->dtype)) {
            zarrc_vref r;
            memcpy(&r, v->fill, sizeof r);
            f = (zarrc__fill){false, (uint8_t *)r.ptr, r.len};
        }
        rc = zarrc__fill_copy(&m->fill, &f);
    } else
        rc = zarrc__fill_default(&m->fill, &v->dtype);
    json_object *at = doc ? mem(doc, "attributes") : mem(v->spec, "attributes");
    m->attributes = json_object_is_type(at, json_type_object) ? zarrc__json_deep_copy(at) : json_object_new_object();
    json_object *dn = doc ? mem(doc, "dimension_names") : mem(v->spec, "dimension_names");
    if (!dn && !doc)
        dn = mem(mem(mem(v->spec, "schema"), "domain"), "labels");
    if (json_object_is_type(dn, json_type_array) && (int)json_object_array_length(dn) == v->ndim)
        m->dimension_names = zarrc__json_deep_copy(dn);
    a->doc = doc ? doc : view_doc(v, m);
    a->path = zarrc__strdup(path);
    a->prefix = *path ? zarrc__sprintf("%s/", path) : zarrc__strdup("");
    if (rc == ZARRC_OK && (!a->path || !a->prefix || !a->doc || !m->attributes))
        rc = ZARRC_ENOMEM;
    a->store = zarrc__store_ref(store);
    a->name = zarrc__node_display(a->store, a->path);
    zarrc_error_set(ZARRC_EUNSUPPORTED, "'%s' is a virtual array (view): it has no codecs", a->name);
    zarrc__error_save(&a->pipeline_err, ZARRC_EUNSUPPORTED);
    zarrc__error_clear();
    if (rc) {
        zarrc_array_free(a);
        return rc;
    }
    *out = a;
    return ZARRC_OK;
}

static char *chain_key(const zarrc_store *s, const char *path)
{
    return zarrc__sprintf("%s|%s", s->url, path);
}

static int chain_text(char **out, const zarrc__view_chain *c, const char *last)
{
    size_t n = strlen(last) + 4;
    for (size_t i = 0; i < c->n; i++)
        n += strlen(c->items[i]) + 7;
    char *t = zarrc__malloc(n);
    if (!t)
        return ZARRC_ENOMEM;
    size_t len = 0;
    for (size_t i = 0; i < c->n; i++) {
        const char *p = strchr(c->items[i], '|');
        p = p ? p + 1 : c->items[i];
        len += (size_t)snprintf(t + len, n - len, "'%s' -> ", *p ? p : "/");
    }
    snprintf(t + len, n - len, "'%s'", *last ? last : "/");
    *out = t;
    return ZARRC_OK;
}

int zarrc__view_open_stored(zarrc_array **out, zarrc_store *store, const char *path, const json_object *doc,
                            const zarrc__view_chain *chain, unsigned flags)
{
    *out = NULL;
    json_object *x = mem(doc, ZARRC__VIEW_MEMBER), *spec = mem(x, "spec");
    if (!json_object_is_type(spec, json_type_object))
        return zarrc_error_set(ZARRC_ECORRUPT, "'%s': the '%s' member has no 'spec' object", zarrc__node_display(store, path),
                               ZARRC__VIEW_MEMBER);
    char *key = chain_key(store, path);
    if (!key)
        return ZARRC_ENOMEM;
    zarrc__view_chain empty = {0, NULL};
    if (!chain)
        chain = &empty;
    for (size_t i = 0; i < chain->n; i++)
        if (!strcmp(chain->items[i], key)) {
            char *txt = NULL;
            int rc = chain_text(&txt, chain, path);
            rc = rc ? rc : zarrc_error_set(ZARRC_EINVAL, "view cycle: %s", txt);
            free(txt);
            free(key);
            return rc;
        }
    if (chain->n >= ZARRC__VIEW_MAX_DEPTH) {
        char *txt = NULL;
        int rc = chain_text(&txt, chain, path);
        rc = rc ? rc : zarrc_error_set(ZARRC_EINVAL, "views nest deeper than %d: %s", ZARRC__VIEW_MAX_DEPTH, txt);
        free(txt);
        free(key);
        return rc;
    }
    zarrc__view_chain c2 = {0, NULL};
    int rc = chain_copy(&c2, chain, key);
    free(key);
    zarrc__view *v = NULL;
    if (rc == ZARRC_OK) {
        open_ctx c = {store, path, &c2, flags, (int)chain->n};
        json_object *copy = zarrc__json_deep_copy(spec);
        rc = copy ? view_build(&v, copy, &c) : ZARRC_ENOMEM;
    }
    chain_clear(&c2);
    if (rc)
        return rc;
    /* The stored shape and type must be what the spec gives. */
    json_object *sh = mem(doc, "shape");
    bool same = json_object_is_type(sh, json_type_array) && (int)json_object_array_length(sh) == v->ndim;
    for (int d = 0; same && d < v->ndim; d++)
        same = json_object_get_int64(json_object_array_get_idx(sh, (size_t)d)) == v->shape[d];
    if (!same) {
        zarrc__view_free(v);
        return zarrc_error_set(ZARRC_ECORRUPT, "the stored shape does not match the view spec's domain");
    }
    json_object *d = zarrc__json_deep_copy(doc);
    return d ? make_handle(out, v, store, path, d, NULL) : (zarrc__view_free(v), ZARRC_ENOMEM);
}

int zarrc_view_open(zarrc_array **out, const char *spec_json, zarrc_store *base_store, const char *base_path,
                    unsigned flags)
{
    zarrc__error_clear();
    *out = NULL;
    if (!spec_json || !base_store)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_view_open: spec and base store are required");
    char *base;
    int rc = zarrc__node_path(&base, base_path ? base_path : "");
    if (rc)
        return rc;
    json_object *spec;
    rc = zarrc__json_parse(&spec, spec_json, strlen(spec_json), "view spec");
    zarrc__view *v = NULL;
    if (rc == ZARRC_OK) {
        open_ctx c = {base_store, base, NULL, flags, 0};
        rc = view_build(&v, spec, &c);
    }
    if (rc == ZARRC_OK)
        rc = make_handle(out, v, base_store, base, NULL, NULL);
    free(base);
    return rc ? zarrc__error_context(rc, "view: ") : ZARRC_OK;
}

int zarrc_view_create(zarrc_array **out, zarrc_store *store, const char *path, const char *spec_json, unsigned flags)
{
    zarrc__error_clear();
    if (out)
        *out = NULL;
    char *p;
    int rc = zarrc__node_path(&p, path);
    if (rc)
        return rc;
    json_object *spec = NULL;
    zarrc__view *v = NULL;
    rc = zarrc__json_parse(&spec, spec_json, strlen(spec_json), "view spec");
    if (rc == ZARRC_OK) {
        char *key = chain_key(store, p);
        zarrc__view_chain c1 = {key ? 1 : 0, &key};
        open_ctx c = {store, p, &c1, flags, 0};
        rc = key ? view_build(&v, spec, &c) : ZARRC_ENOMEM;
        free(key);
    }
    zarrc_array *a = NULL;
    if (rc == ZARRC_OK)
        rc = make_handle(&a, v, store, p, NULL, NULL);
    zarrc_node_kind kind;
    int fmt;
    if (rc == ZARRC_OK) {
        int f = zarrc__node_find(&kind, &fmt, NULL, store, p);
        if (f == ZARRC_OK && !(flags & ZARRC_OVERWRITE))
            rc = zarrc_error_set(ZARRC_EEXISTS, "a node already exists at '%s' (use overwrite to replace it)",
                                 zarrc__node_display(store, p));
        else if (f == ZARRC_OK)
            rc = zarrc__node_erase(store, p, flags, NULL);
        else if (f != ZARRC_ENOTFOUND)
            rc = f;
        else
            zarrc__error_clear();
    }
    if (rc == ZARRC_OK)
        rc = zarrc__node_make_parents(store, p, 3);
    if (rc == ZARRC_OK) {
        char *key = zarrc__node_key(p, "zarr.json");
        rc = key ? zarrc__node_write_json(store, key, a->doc) : ZARRC_ENOMEM;
        free(key);
    }
    if (rc == ZARRC_OK && out)
        *out = a;
    else
        zarrc_array_free(a);
    if (rc)
        zarrc__error_context(rc, "create view '%s': ", zarrc__node_display(store, p));
    free(p);
    return rc;
}

int zarrc_array_is_view(const zarrc_array *a) { return a && a->view ? 1 : 0; }

int zarrc_view_spec(char **json, const zarrc_array *a)
{
    zarrc__error_clear();
    *json = NULL;
    if (!a->view)
        return zarrc_error_set(ZARRC_EINVAL, "array '%s' is not a view", a->name);
    *json = zarrc__json_dump(a->view->spec, true);
    return *json ? ZARRC_OK : ZARRC_ENOMEM;
}
