/*
 * records.c — user types stored as Zarr structure (groups, arrays, attributes), not as blobs:
 * the seed of zarr-python #2081. A Trajectory is a group with latitude/longitude/time arrays
 * and a "name" attribute; a Flock is a group whose children are its trajectories. A trajectory
 * that appears twice in a flock is stored once and referenced the second time (a `_LINKS`
 * entry, the hdmf-zarr convention), and reads back as one shared instance.
 *
 * usage: example_records DIR   (writes DIR/flock.zarr, reads it back, checks, prints it)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zarrc.h>

typedef struct trajectory {
    char name[64];
    int64_t n;
    double *lat, *lon;
    int64_t *time; /* seconds since the epoch */
} trajectory;

typedef struct flock {
    int count;
    trajectory **items;
} flock;

/* ---- Trajectory <-> group ---- */

static int traj_serialize(zarrc_record_ctx *ctx, const void *instance, void *user)
{
    (void)user;
    const trajectory *t = instance;
    char attr[96];
    snprintf(attr, sizeof attr, "\"%s\"", t->name);
    int rc = zarrc_record_set_attr(ctx, "name", attr);
    int64_t shape[1] = {t->n};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.ndim = 1;
    o.shape = shape;
    o.dtype = "float64";
    const char *dims[1] = {"time"};
    o.dimension_names = dims;
    if (rc == 0)
        rc = zarrc_record_write_array(ctx, "latitude", &o, t->lat, (size_t)t->n * sizeof *t->lat);
    if (rc == 0)
        rc = zarrc_record_write_array(ctx, "longitude", &o, t->lon, (size_t)t->n * sizeof *t->lon);
    o.dtype = "int64";
    if (rc == 0)
        rc = zarrc_record_write_array(ctx, "time", &o, t->time, (size_t)t->n * sizeof *t->time);
    return rc;
}

static void traj_free(void *instance, void *user)
{
    (void)user;
    trajectory *t = instance;
    if (t) {
        free(t->lat);
        free(t->lon);
        free(t->time);
        free(t);
    }
}

static int read_column(zarrc_record_ctx *ctx, const char *name, void **out, size_t item, int64_t *n)
{
    zarrc_array *a = NULL;
    int rc = zarrc_record_open_array(&a, ctx, name);
    if (rc)
        return rc;
    if (zarrc_array_ndim(a) != 1 || zarrc_array_dtype(a)->item_size != item ||
        (*n >= 0 && zarrc_array_shape(a)[0] != *n)) {
        zarrc_array_free(a);
        return ZARRC_EINVAL;
    }
    *n = zarrc_array_shape(a)[0];
    *out = malloc((size_t)(*n ? *n : 1) * item);
    int64_t start[1] = {0};
    rc = *out ? zarrc_array_read(a, start, zarrc_array_shape(a), NULL, *out, (size_t)*n * item) : ZARRC_ENOMEM;
    zarrc_array_free(a);
    return rc;
}

static int traj_deserialize(void **instance, zarrc_record_ctx *ctx, void *user)
{
    (void)user;
    trajectory *t = calloc(1, sizeof *t);
    if (!t)
        return ZARRC_ENOMEM;
    *instance = t;
    char *name = NULL;
    int rc = zarrc_record_get_attr(&name, ctx, "name");
    if (rc == 0) { /* a JSON string: "..." */
        size_t len = strlen(name);
        if (len < 2 || len - 2 >= sizeof t->name)
            rc = ZARRC_EINVAL;
        else
            memcpy(t->name, name + 1, len - 2);
    }
    zarrc_free(name);
    t->n = -1;
    if (rc == 0)
        rc = read_column(ctx, "latitude", (void **)&t->lat, sizeof *t->lat, &t->n);
    if (rc == 0)
        rc = read_column(ctx, "longitude", (void **)&t->lon, sizeof *t->lon, &t->n);
    if (rc == 0)
        rc = read_column(ctx, "time", (void **)&t->time, sizeof *t->time, &t->n);
    return rc; /* on failure the library frees *instance with traj_free */
}

static const zarrc_record_type trajectory_type = {ZARRC_RECORD_TYPE_VERSION, "example.Trajectory", traj_serialize,
                                                   traj_deserialize, traj_free, NULL};

/* ---- Flock <-> group ---- */

static int flock_serialize(zarrc_record_ctx *ctx, const void *instance, void *user)
{
    (void)user;
    const flock *f = instance;
    char text[32], name[32];
    snprintf(text, sizeof text, "%d", f->count);
    int rc = zarrc_record_set_attr(ctx, "count", text);
    for (int i = 0; rc == 0 && i < f->count; i++) {
        snprintf(name, sizeof name, "%d", i);
        rc = zarrc_record_write_child(ctx, name, &trajectory_type, f->items[i]);
    }
    return rc;
}

static void flock_free(void *instance, void *user)
{
    (void)user;
    flock *f = instance;
    if (f) { /* the trajectories belong to the record set */
        free(f->items);
        free(f);
    }
}

static int flock_deserialize(void **instance, zarrc_record_ctx *ctx, void *user)
{
    (void)user;
    flock *f = calloc(1, sizeof *f);
    if (!f)
        return ZARRC_ENOMEM;
    *instance = f;
    char *text = NULL, name[32];
    int rc = zarrc_record_get_attr(&text, ctx, "count");
    if (rc == 0) {
        long c = strtol(text, NULL, 10);
        rc = c < 0 || c > 1000000 ? ZARRC_EINVAL : 0;
        f->count = (int)c;
    }
    zarrc_free(text);
    if (rc == 0 && !(f->items = calloc((size_t)(f->count ? f->count : 1), sizeof *f->items)))
        rc = ZARRC_ENOMEM;
    for (int i = 0; rc == 0 && i < f->count; i++) {
        snprintf(name, sizeof name, "%d", i);
        rc = zarrc_record_read_child((void **)&f->items[i], ctx, name, &trajectory_type);
    }
    return rc;
}

static const zarrc_record_type flock_type = {ZARRC_RECORD_TYPE_VERSION, "example.Flock", flock_serialize,
                                              flock_deserialize, flock_free, NULL};

static trajectory *make_traj(const char *name, int64_t n, double base)
{
    trajectory *t = calloc(1, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->n = n;
    t->lat = malloc((size_t)n * sizeof *t->lat);
    t->lon = malloc((size_t)n * sizeof *t->lon);
    t->time = malloc((size_t)n * sizeof *t->time);
    for (int64_t i = 0; i < n; i++) {
        t->lat[i] = base + 0.5 * (double)i;
        t->lon[i] = -base - 0.25 * (double)i;
        t->time[i] = 1700000000 + 60 * i;
    }
    return t;
}

static int same(const trajectory *a, const trajectory *b)
{
    if (strcmp(a->name, b->name) || a->n != b->n)
        return 0;
    for (int64_t i = 0; i < a->n; i++)
        if (a->lat[i] != b->lat[i] || a->lon[i] != b->lon[i] || a->time[i] != b->time[i])
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    char url[4096];
    snprintf(url, sizeof url, "%s/flock.zarr", argc > 1 ? argv[1] : ".");
    zarrc_store *st = NULL;
    int rc = zarrc_store_open(&st, url, ZARRC_STORE_CREATE);
    if (rc) {
        fprintf(stderr, "open %s: %s\n", url, zarrc_error_last());
        return 1;
    }
    trajectory *a = make_traj("gull", 4, 50.0), *b = make_traj("tern", 3, 10.0);
    trajectory *items[3] = {a, b, a}; /* `a` twice: stored once, referenced once */
    flock f = {3, items};
    rc = zarrc_record_write(st, "", &flock_type, &f, ZARRC_OVERWRITE);
    zarrc_record_set *set = NULL;
    if (rc == 0)
        rc = zarrc_record_read(&set, st, "", &flock_type);
    int ok = rc == 0;
    if (ok) {
        const flock *g = zarrc_record_set_root(set);
        ok = g->count == 3 && same(g->items[0], a) && same(g->items[1], b) && g->items[2] == g->items[0];
        for (int i = 0; ok && i < g->count; i++)
            printf("trajectory %d: %s, %lld points, first (%g, %g) at %lld%s\n", i, g->items[i]->name,
                   (long long)g->items[i]->n, g->items[i]->lat[0], g->items[i]->lon[0],
                   (long long)g->items[i]->time[0], i == 2 ? " (shared with 0)" : "");
    }
    /* The shared trajectory is a link in the store, not a copy. */
    char *attrs = NULL;
    if (ok && zarrc_node_attributes(&attrs, st, "") == 0)
        ok = strstr(attrs, "\"_LINKS\"") && strstr(attrs, "\"name\":\"2\"") && strstr(attrs, "\"path\":\"/0\"");
    zarrc_node_kind kind;
    int format;
    if (ok)
        ok = zarrc_node_probe(&kind, &format, st, "2") == ZARRC_ENOTFOUND;
    if (!ok)
        fprintf(stderr, "records example failed: %s (attributes %s)\n", rc ? zarrc_error_last() : "mismatch",
                attrs ? attrs : "?");
    zarrc_free(attrs);
    zarrc_record_set_free(set);
    traj_free(a, NULL);
    traj_free(b, NULL);
    zarrc_store_free(st);
    return ok ? 0 : 1;
}
