/* dtype_optional.c — zarrs' experimental optional (nullable) data type ("zarrs.optional").
 *
 * Metadata (zarrs 0.23.14): {"name": "zarrs.optional", "configuration": {"name": <inner name>,
 * "configuration": <inner configuration, {} when it has none>}}; zarrs' earlier releases (and
 * its test data) spell the name "optional", read here as well. Fill value: null (missing) or a
 * one-element list [inner fill] (present), recursively for nested optional types.
 *
 * In memory (zarrc.h, ZARRC_DTYPE_OPTIONAL): the inner element followed by one mask byte
 * (1 present, 0 missing; a missing element's inner bytes are zero) — zarrs' own layout. With a
 * string or bytes inner type the type is variable-length (item_size 0): elements are
 * zarrc_vref, a missing one zarrc__vref_missing(); callers get a zarrc_vlen with a mask. Its
 * fill value is stored as the content bytes followed by the mask byte. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "dtype.h"

/* Nested optional types deeper than this are refused (bounded recursion on crafted input). */
#define OPTIONAL_MAX_DEPTH 8

/* Interned inner types: each distinct one is allocated once and kept for the process, so
 * copies of a zarrc_dtype_info never dangle (like the struct field tables). */
typedef struct interned {
    struct interned *next;
    zarrc_dtype_info dt;
} interned;
static interned *table;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

static bool same(const zarrc_dtype_info *a, const zarrc_dtype_info *b)
{
    return zarrc__dtype_equal(a, b) && a->big_endian == b->big_endian && !strcmp(a->unit, b->unit) &&
           a->scale_factor == b->scale_factor && a->inner == b->inner;
}

static int intern(const zarrc_dtype_info **out, const zarrc_dtype_info *dt)
{
    pthread_mutex_lock(&table_lock);
    for (interned *e = table; e; e = e->next)
        if (same(&e->dt, dt)) {
            *out = &e->dt;
            pthread_mutex_unlock(&table_lock);
            return ZARRC_OK;
        }
    interned *e = zarrc__calloc(1, sizeof *e);
    if (!e) {
        pthread_mutex_unlock(&table_lock);
        return ZARRC_ENOMEM;
    }
    e->dt = *dt;
    e->next = table;
    table = e;
    *out = &e->dt;
    pthread_mutex_unlock(&table_lock);
    return ZARRC_OK;
}

bool zarrc__dtype_is_optional_name(const char *name)
{
    return name && (!strcmp(name, "zarrs.optional") || !strcmp(name, "optional"));
}

static int depth_of(const zarrc_dtype_info *dt)
{
    int d = 0;
    for (; dt && dt->kind == ZARRC_DTYPE_OPTIONAL; dt = dt->inner)
        d++;
    return d;
}

int zarrc__optional_from_json_v3(zarrc_dtype_info *dt, const json_object *cfg)
{
    json_object *name = NULL, *icfg = NULL;
    if (!cfg || !json_object_object_get_ex(cfg, "name", &name) || !json_object_is_type(name, json_type_string))
        return zarrc_error_set(ZARRC_EDTYPE, "data type 'zarrs.optional': configuration needs the inner type's "
                               "'name'");
    json_object_object_foreach((json_object *)cfg, k, val) {
        (void)val;
        if (strcmp(k, "name") && strcmp(k, "configuration"))
            return zarrc_error_set(ZARRC_EDTYPE, "data type 'zarrs.optional': unknown configuration member '%s'", k);
    }
    json_object_object_get_ex(cfg, "configuration", &icfg);
    if (icfg && !json_object_is_type(icfg, json_type_object))
        return zarrc_error_set(ZARRC_EDTYPE, "data type 'zarrs.optional': the inner 'configuration' must be an "
                               "object");
    /* the inner type as its own data_type object (an empty configuration = none) */
    json_object *o = json_object_new_object();
    if (!o)
        return ZARRC_ENOMEM;
    json_object_object_add(o, "name", json_object_get(name));
    if (icfg && json_object_object_length(icfg) > 0)
        json_object_object_add(o, "configuration", json_object_get(icfg));
    zarrc_dtype_info in;
    int rc = zarrc__dtype_from_json(&in, o);
    json_object_put(o);
    if (rc)
        return zarrc__error_context(rc, "data type 'zarrs.optional': inner type: ");
    bool vlen = in.kind == ZARRC_DTYPE_STRING || in.kind == ZARRC_DTYPE_VBYTES;
    if (!vlen && (zarrc__dtype_is_vlen(&in) || in.item_size == 0))
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "data type 'zarrs.optional': optional '%s' is not supported "
                               "(inner types: fixed-size types, string, bytes, optional fixed-size types)",
                               in.name);
    if (depth_of(&in) >= OPTIONAL_MAX_DEPTH)
        return zarrc_error_set(ZARRC_EDTYPE, "data type 'zarrs.optional': nested deeper than %d levels",
                               OPTIONAL_MAX_DEPTH);
    const zarrc_dtype_info *inner;
    if ((rc = intern(&inner, &in)))
        return rc;
    memset(dt, 0, sizeof *dt);
    dt->kind = ZARRC_DTYPE_OPTIONAL;
    dt->item_size = vlen ? 0 : in.item_size + 1;
    dt->scale_factor = 1;
    snprintf(dt->name, sizeof dt->name, "zarrs.optional");
    dt->inner = inner;
    return ZARRC_OK;
}

json_object *zarrc__optional_to_json_v3(const zarrc_dtype_info *dt)
{
    json_object *in = zarrc__dtype_to_json_v3(dt->inner);
    if (!in)
        return NULL;
    json_object *o = json_object_new_object(), *cfg = json_object_new_object(), *name = NULL, *icfg = NULL;
    if (json_object_is_type(in, json_type_string)) {
        name = json_object_get(in);
        icfg = json_object_new_object();
    } else {
        json_object_object_get_ex(in, "name", &name);
        json_object_object_get_ex(in, "configuration", &icfg);
        name = json_object_get(name);
        icfg = icfg ? json_object_get(icfg) : json_object_new_object();
    }
    json_object_put(in);
    json_object_object_add(cfg, "name", name);
    json_object_object_add(cfg, "configuration", icfg);
    json_object_object_add(o, "name", json_object_new_string("zarrs.optional"));
    json_object_object_add(o, "configuration", cfg);
    return o;
}

int zarrc__optional_fill_parse(zarrc__fill *f, const zarrc_dtype_info *dt, const json_object *v, int format)
{
    bool vlen = zarrc__dtype_is_optional_vlen(dt);
    if (!v) { /* null: missing */
        memset(f->bytes, 0, f->size);
        return ZARRC_OK;
    }
    if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) != 1)
        return zarrc_error_set(ZARRC_EDTYPE, "fill_value %.200s is not valid for data type 'zarrs.optional': "
                               "null or a one-element list [value] expected",
                               json_object_to_json_string_ext((json_object *)v, JSON_C_TO_STRING_PLAIN));
    zarrc__fill in;
    int rc = zarrc__fill_parse(&in, dt->inner, json_object_array_get_idx(v, 0), format);
    if (rc)
        return rc;
    size_t isz = vlen ? in.size : dt->inner->item_size, total = isz + 1;
    if (isz == SIZE_MAX) {
        zarrc__fill_clear(&in);
        return zarrc_error_set(ZARRC_EDTYPE, "fill_value of data type 'zarrs.optional' is too large");
    }
    if (total != f->size) { /* variable-length content: the fill grows to content + mask byte */
        uint8_t *b = zarrc__malloc(total);
        if (!b) {
            zarrc__fill_clear(&in);
            return ZARRC_ENOMEM;
        }
        free(f->bytes);
        f->bytes = b;
        f->size = total;
    }
    if (isz)
        memcpy(f->bytes, in.bytes, isz);
    zarrc__fill_clear(&in);
    f->bytes[total - 1] = 1;
    return ZARRC_OK;
}

json_object *zarrc__optional_fill_to_json(const zarrc__fill *fill, const zarrc_dtype_info *dt, int format)
{
    const uint8_t *p = fill->bytes;
    if (!p || !fill->size || !p[fill->size - 1])
        return NULL; /* JSON null */
    size_t isz = fill->size - 1;
    zarrc__fill f = {false, zarrc__malloc(isz ? isz : 1), isz};
    if (!f.bytes)
        return NULL;
    memcpy(f.bytes, p, f.size);
    json_object *in = zarrc__fill_to_json(&f, dt->inner, format);
    free(f.bytes);
    if (!in && !(dt->inner->kind == ZARRC_DTYPE_OPTIONAL && !p[dt->inner->item_size - 1]))
        return NULL;
    json_object *a = json_object_new_array();
    json_object_array_add(a, in);
    return a;
}

bool zarrc__optional_fill_is_null(const zarrc__fill *f, const zarrc_dtype_info *dt)
{
    return dt->kind == ZARRC_DTYPE_OPTIONAL && f->bytes && f->size >= 1 &&
           (zarrc__dtype_is_optional_vlen(dt) || f->size == dt->item_size) && !f->bytes[f->size - 1];
}

/* Public accessor (zarrc.h). */
int zarrc_dtype_optional_inner(zarrc_dtype_info *out, const zarrc_dtype_info *dt)
{
    zarrc__error_clear();
    if (!out || !dt || dt->kind != ZARRC_DTYPE_OPTIONAL || !dt->inner)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_dtype_optional_inner: not an optional data type");
    *out = *dt->inner;
    return ZARRC_OK;
}
