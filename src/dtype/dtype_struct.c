/*
 * dtype_struct.c — record (structured) data types: the v2 list form
 * ([["t","<i8"],["v","<f4",[2,3]], ["p", [["x","<f4"]]]]), the v3 registered "struct" type and
 * its legacy alias "structured", the packed memory layout, per-field byte order and the fill
 * value encodings (v2 Base64 of the record bytes, v3 one JSON value per field).
 *
 * A parsed field table is an owned tree (zarrc__struct_parse_*); zarrc__struct_intern turns it
 * into the shared, immutable table that zarrc_dtype_info.fields points at. Interned tables live
 * until the process exits, so copies of a zarrc_dtype_info never dangle; their total size is
 * capped (see INTERN_LIMIT) so that metadata cannot make the table grow without bound.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "dtype.h"

/* Deepest nesting of records inside records. */
#define MAX_STRUCT_DEPTH 32
/* Bytes of distinct interned field tables, all together. */
#define INTERN_LIMIT ((size_t)64 << 20)

typedef struct swap_unit {
    size_t offset; /* first word inside the record */
    size_t width;  /* bytes per word (> 1) */
    size_t count;  /* consecutive words */
    bool big;      /* the field's own (v2) byte order */
} swap_unit;

struct zarrc_dtype_fields {
    size_t count;
    zarrc_field_info *f;      /* names and shapes owned; nested tables owned by this tree */
    size_t item_size;
    size_t nunits;
    swap_unit *units;          /* every multi-byte word of one record, flattened */
    char *key;                 /* canonical text of the layout (interning key) */
    size_t cost;               /* bytes this tree takes (for INTERN_LIMIT) */
    bool interned;
    struct zarrc_dtype_fields *next;
};

static pthread_mutex_t intern_lock = PTHREAD_MUTEX_INITIALIZER;
static zarrc_dtype_fields *intern_list;
static size_t intern_bytes;

void zarrc__struct_free(zarrc_dtype_fields *t)
{
    if (!t || t->interned)
        return;
    for (size_t i = 0; i < t->count; i++) {
        free((char *)t->f[i].name);
        free((int64_t *)t->f[i].shape);
        if (t->f[i].dtype.kind == ZARRC_DTYPE_STRUCT)
            zarrc__struct_free((zarrc_dtype_fields *)t->f[i].dtype.fields);
    }
    free(t->f);
    free(t->units);
    free(t->key);
    free(t);
}

static void mark_interned(zarrc_dtype_fields *t)
{
    t->interned = true;
    for (size_t i = 0; i < t->count; i++)
        if (t->f[i].dtype.kind == ZARRC_DTYPE_STRUCT)
            mark_interned((zarrc_dtype_fields *)t->f[i].dtype.fields);
}

int zarrc__struct_intern(const zarrc_dtype_fields **out, zarrc_dtype_fields *t)
{
    *out = NULL;
    pthread_mutex_lock(&intern_lock);
    for (zarrc_dtype_fields *e = intern_list; e; e = e->next)
        if (!strcmp(e->key, t->key)) {
            pthread_mutex_unlock(&intern_lock);
            zarrc__struct_free(t);
            *out = e;
            return ZARRC_OK;
        }
    if (intern_bytes + t->cost > INTERN_LIMIT) {
        pthread_mutex_unlock(&intern_lock);
        zarrc__struct_free(t);
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "too many distinct struct data types in this process "
                               "(their field tables exceed %zu MiB)", INTERN_LIMIT >> 20);
    }
    mark_interned(t);
    t->next = intern_list;
    intern_list = t;
    intern_bytes += t->cost;
    pthread_mutex_unlock(&intern_lock);
    *out = t;
    return ZARRC_OK;
}

/* ---- building a tree ---------------------------------------------------------------------- */

static int key_add(zarrc_buf *k, const char *s, size_t n)
{
    return zarrc__buf_append(k, s, n);
}

static int key_printf(zarrc_buf *k, const char *fmt, ...) ZARRC_PRINTF(2, 3);
static int key_printf(zarrc_buf *k, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return key_add(k, buf, n < 0 ? 0 : (size_t)n >= sizeof buf ? sizeof buf - 1 : (size_t)n);
}

/* Append one field's words to the unit list (nested records recursively). */
static int add_units(zarrc_dtype_fields *t, size_t *cap, size_t base, const zarrc_field_info *f)
{
    size_t n = f->dtype.item_size ? f->size / f->dtype.item_size : 0;
    if (f->dtype.kind == ZARRC_DTYPE_STRUCT) {
        const zarrc_dtype_fields *sub = f->dtype.fields;
        for (size_t e = 0; e < n; e++)
            for (size_t u = 0; u < sub->nunits; u++) {
                if (t->nunits == *cap) {
                    size_t nc = *cap ? *cap * 2 : 8;
                    swap_unit *nu = zarrc__realloc(t->units, nc * sizeof *nu);
                    if (!nu)
                        return ZARRC_ENOMEM;
                    t->units = nu;
                    *cap = nc;
                }
                swap_unit su = sub->units[u];
                su.offset += base + f->offset + e * f->dtype.item_size;
                t->units[t->nunits++] = su;
            }
        return ZARRC_OK;
    }
    size_t w = zarrc__dtype_swap_width(&f->dtype);
    if (w <= 1)
        return ZARRC_OK;
    if (t->nunits == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        swap_unit *nu = zarrc__realloc(t->units, nc * sizeof *nu);
        if (!nu)
            return ZARRC_ENOMEM;
        t->units = nu;
        *cap = nc;
    }
    t->units[t->nunits++] = (swap_unit){base + f->offset, w, f->size / w, f->dtype.big_endian != 0};
    return ZARRC_OK;
}

/* Once every field is parsed: offsets, units, key, cost. */
static int finish(zarrc_dtype_fields *t)
{
    zarrc_buf k = ZARRC_BUF_INIT;
    size_t cap = 0;
    int rc = ZARRC_OK;
    t->cost = sizeof *t + t->count * sizeof *t->f;
    rc = key_add(&k, "{", 1);
    for (size_t i = 0; !rc && i < t->count; i++) {
        zarrc_field_info *f = &t->f[i];
        const zarrc_dtype_info *d = &f->dtype;
        f->offset = t->item_size;
        t->item_size += f->size;
        t->cost += strlen(f->name) + 1 + (size_t)f->ndim * sizeof(int64_t);
        rc = key_printf(&k, "%zu:", strlen(f->name));
        if (!rc) rc = key_add(&k, f->name, strlen(f->name));
        if (!rc && d->kind == ZARRC_DTYPE_STRUCT) {
            const zarrc_dtype_fields *sub = d->fields;
            t->cost += sub->cost;
            rc = key_add(&k, sub->key, strlen(sub->key));
        } else if (!rc)
            rc = key_printf(&k, "=%d/%zu/%s/%s/%lld/%d", (int)d->kind, d->item_size, d->name, d->unit,
                            (long long)d->scale_factor, d->big_endian);
        for (int j = 0; !rc && j < f->ndim; j++)
            rc = key_printf(&k, "[%lld]", (long long)f->shape[j]);
        if (!rc) rc = key_add(&k, ";", 1);
        if (!rc) rc = add_units(t, &cap, 0, f);
    }
    if (!rc) rc = key_add(&k, "}", 2); /* with the terminating NUL */
    if (rc) {
        zarrc_buf_release(&k);
        return rc;
    }
    t->key = (char *)k.data;
    t->cost += k.size + t->nunits * sizeof *t->units;
    return ZARRC_OK;
}

static zarrc_dtype_fields *new_tree(size_t n)
{
    zarrc_dtype_fields *t = zarrc__calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->f = zarrc__calloc(n ? n : 1, sizeof *t->f);
    if (!t->f) {
        free(t);
        return NULL;
    }
    return t;
}

/* Names: non-empty, unique among siblings (checked as each field is added). */
static int set_name(zarrc_dtype_fields *t, size_t i, const json_object *name, const char *where)
{
    if (!json_object_is_type((json_object *)name, json_type_string) ||
        json_object_get_string_len((json_object *)name) == 0)
        return zarrc_error_set(ZARRC_EDTYPE, "%s: field %zu: the name must be a non-empty string", where, i);
    const char *s = json_object_get_string((json_object *)name);
    if (strlen(s) != (size_t)json_object_get_string_len((json_object *)name))
        return zarrc_error_set(ZARRC_EDTYPE, "%s: field %zu: the name contains a NUL character", where, i);
    for (size_t j = 0; j < i; j++)
        if (!strcmp(t->f[j].name, s))
            return zarrc_error_set(ZARRC_EDTYPE, "%s: field name '%s' appears twice", where, s);
    t->f[i].name = zarrc__strdup(s);
    return t->f[i].name ? ZARRC_OK : ZARRC_ENOMEM;
}

/* The element type of field i: fixed size, no variable-length types. Sets size from shape. */
static int check_elem(zarrc_dtype_fields *t, size_t i, const char *where)
{
    zarrc_field_info *f = &t->f[i];
    if (zarrc__dtype_is_vlen(&f->dtype) || f->dtype.item_size == 0)
        return zarrc_error_set(ZARRC_EDTYPE, "%s: field '%s': variable-length type '%s' is not allowed in a "
                               "struct", where, f->name, f->dtype.name);
    size_t n = 1;
    for (int d = 0; d < f->ndim; d++)
        if (!zarrc__mul_size(n, (size_t)f->shape[d], &n))
            n = SIZE_MAX;
    size_t size;
    if (n == SIZE_MAX || !zarrc__mul_size(n, f->dtype.item_size, &size) || size > ZARRC_MAX_ITEM_SIZE ||
        t->item_size + size > ZARRC_MAX_ITEM_SIZE)
        return zarrc_error_set(ZARRC_EDTYPE, "%s: field '%s': the record exceeds the item size limit of %d "
                               "bytes", where, f->name, ZARRC_MAX_ITEM_SIZE);
    f->size = size;
    t->item_size += size; /* running total for the limit; finish() recomputes offsets */
    return ZARRC_OK;
}

static int parse_v2_list(zarrc_dtype_fields **out, const json_object *v, int depth);

/* v2: [name, typestr | list] or [name, typestr | list, shape]. */
static int parse_v2_entry(zarrc_dtype_fields *t, size_t i, const json_object *e, int depth)
{
    const char *where = "structured dtype";
    size_t n = json_object_is_type((json_object *)e, json_type_array) ? json_object_array_length(e) : 0;
    if (n != 2 && n != 3)
        return zarrc_error_set(ZARRC_EDTYPE, "%s: field %zu must be [name, type] or [name, type, shape]",
                               where, i);
    int rc = set_name(t, i, json_object_array_get_idx(e, 0), where);
    if (rc)
        return rc;
    zarrc_field_info *f = &t->f[i];
    json_object *ty = json_object_array_get_idx(e, 1);
    if (json_object_is_type(ty, json_type_array)) {
        zarrc_dtype_fields *sub;
        if ((rc = parse_v2_list(&sub, ty, depth + 1)))
            return zarrc__error_context(rc, "field '%s': ", f->name);
        memset(&f->dtype, 0, sizeof f->dtype);
        f->dtype.kind = ZARRC_DTYPE_STRUCT;
        f->dtype.item_size = sub->item_size;
        f->dtype.scale_factor = 1;
        snprintf(f->dtype.name, sizeof f->dtype.name, "struct");
        f->dtype.fields = sub;
    } else if (json_object_is_type(ty, json_type_string) &&
               strchr("<>|=", json_object_get_string(ty)[0]) && json_object_get_string(ty)[0]) {
        if ((rc = zarrc__dtype_from_json(&f->dtype, ty)))
            return zarrc__error_context(rc, "%s: field '%s': ", where, f->name);
    } else
        return zarrc_error_set(ZARRC_EDTYPE, "%s: field '%s': the type must be a NumPy typestr or a field "
                               "list", where, f->name);
    if (n == 3) {
        json_object *sh = json_object_array_get_idx(e, 2);
        size_t nd = json_object_is_type(sh, json_type_array) ? json_object_array_length(sh) : SIZE_MAX;
        if (nd == SIZE_MAX || nd > ZARRC_MAX_DIMS)
            return zarrc_error_set(ZARRC_EDTYPE, "%s: field '%s': the shape must be a list of at most %d "
                                   "integers", where, f->name, ZARRC_MAX_DIMS);
        if (nd) {
            int64_t *s = zarrc__calloc(nd, sizeof *s);
            if (!s)
                return ZARRC_ENOMEM;
            f->shape = s;
            f->ndim = (int)nd;
            for (size_t d = 0; d < nd; d++) {
                int64_t x;
                if (zarrc_json_int(ZJC(json_object_array_get_idx(sh, d)), &x) || x < 1 ||
                    x > ZARRC_MAX_ITEM_SIZE)
                    return zarrc_error_set(ZARRC_EDTYPE, "%s: field '%s': shape[%zu] must be a positive "
                                           "integer", where, f->name, d);
                s[d] = x;
            }
        }
    }
    return check_elem(t, i, where);
}

static int parse_v2_list(zarrc_dtype_fields **out, const json_object *v, int depth)
{
    *out = NULL;
    if (depth > MAX_STRUCT_DEPTH)
        return zarrc_error_set(ZARRC_EDTYPE, "structured dtype nested deeper than %d levels", MAX_STRUCT_DEPTH);
    size_t n = json_object_array_length(v);
    if (n == 0)
        return zarrc_error_set(ZARRC_EDTYPE, "structured dtype without fields");
    zarrc_dtype_fields *t = new_tree(n);
    if (!t)
        return ZARRC_ENOMEM;
    int rc = ZARRC_OK;
    for (size_t i = 0; i < n && !rc; i++, t->count = i)
        rc = parse_v2_entry(t, i, json_object_array_get_idx(v, i), depth);
    if (!rc) {
        t->count = n;
        t->item_size = 0;
        rc = finish(t);
    }
    if (rc) {
        zarrc__struct_free(t);
        return rc;
    }
    *out = t;
    return ZARRC_OK;
}

static int parse_v3_fields(zarrc_dtype_fields **out, const json_object *cfg, const char *name, int depth);

/* A v3 field type: a core name, an object, or (nesting) a struct object. */
static int parse_v3_field_type(zarrc_dtype_info *dt, const json_object *ty, int depth)
{
    json_object *nm;
    if (json_object_is_type((json_object *)ty, json_type_object) && json_object_object_get_ex(ty, "name", &nm) &&
        json_object_is_type(nm, json_type_string) &&
        (!strcmp(json_object_get_string(nm), "struct") || !strcmp(json_object_get_string(nm), "structured"))) {
        json_object *cfg = NULL;
        json_object_object_get_ex(ty, "configuration", &cfg);
        zarrc_dtype_fields *sub;
        int rc = parse_v3_fields(&sub, cfg, json_object_get_string(nm), depth + 1);
        if (rc)
            return rc;
        memset(dt, 0, sizeof *dt);
        dt->kind = ZARRC_DTYPE_STRUCT;
        dt->item_size = sub->item_size;
        dt->scale_factor = 1;
        snprintf(dt->name, sizeof dt->name, "struct");
        dt->fields = sub;
        return ZARRC_OK;
    }
    if (json_object_is_type((json_object *)ty, json_type_string) &&
        strchr("<>|=", json_object_get_string((json_object *)ty)[0]))
        return zarrc_error_set(ZARRC_EDTYPE, "'%s' is not a v3 data type", json_object_get_string((json_object *)ty));
    return zarrc__dtype_from_json(dt, ty);
}

/* v3: configuration {"fields": [{"name", "data_type"} | [name, data_type], ...]}. */
static int parse_v3_fields(zarrc_dtype_fields **out, const json_object *cfg, const char *name, int depth)
{
    *out = NULL;
    const char *where = name;
    if (depth > MAX_STRUCT_DEPTH)
        return zarrc_error_set(ZARRC_EDTYPE, "%s nested deeper than %d levels", where, MAX_STRUCT_DEPTH);
    json_object *fields;
    if (!cfg || !json_object_is_type((json_object *)cfg, json_type_object) ||
        !json_object_object_get_ex(cfg, "fields", &fields) || !json_object_is_type(fields, json_type_array))
        return zarrc_error_set(ZARRC_EDTYPE, "data type '%s' needs a configuration with a 'fields' list", where);
    if (json_object_object_length((json_object *)cfg) != 1)
        return zarrc_error_set(ZARRC_EDTYPE, "data type '%s': the configuration has members other than "
                               "'fields'", where);
    size_t n = json_object_array_length(fields);
    if (n == 0)
        return zarrc_error_set(ZARRC_EDTYPE, "data type '%s' without fields", where);
    zarrc_dtype_fields *t = new_tree(n);
    if (!t)
        return ZARRC_ENOMEM;
    int rc = ZARRC_OK;
    for (size_t i = 0; i < n && !rc; i++, t->count = i) {
        json_object *e = json_object_array_get_idx(fields, i), *nm = NULL, *ty = NULL;
        if (json_object_is_type(e, json_type_object)) {
            json_object_object_get_ex(e, "name", &nm);
            json_object_object_get_ex(e, "data_type", &ty);
            if (json_object_object_length(e) != 2 || !nm || !ty) {
                rc = zarrc_error_set(ZARRC_EDTYPE, "%s: field %zu must be {\"name\": ..., \"data_type\": ...}",
                                     where, i);
                break;
            }
        } else if (json_object_is_type(e, json_type_array) && json_object_array_length(e) == 2) {
            nm = json_object_array_get_idx(e, 0); /* legacy [name, data_type] pairs */
            ty = json_object_array_get_idx(e, 1);
        } else {
            rc = zarrc_error_set(ZARRC_EDTYPE, "%s: field %zu must be {\"name\": ..., \"data_type\": ...}", where, i);
            break;
        }
        if ((rc = set_name(t, i, nm, where)))
            break;
        if ((rc = parse_v3_field_type(&t->f[i].dtype, ty, depth))) {
            zarrc__error_context(rc, "%s: field '%s': ", where, t->f[i].name);
            t->count = i + 1;
            break;
        }
        rc = check_elem(t, i, where);
    }
    if (!rc) {
        t->count = n;
        t->item_size = 0;
        rc = finish(t);
    } else if (t->count < n && t->f[t->count].name)
        t->count++; /* free the half-parsed field too */
    if (rc) {
        zarrc__struct_free(t);
        return rc;
    }
    *out = t;
    return ZARRC_OK;
}

static int to_info(zarrc_dtype_info *dt, zarrc_dtype_fields *t)
{
    const zarrc_dtype_fields *in;
    int rc = zarrc__struct_intern(&in, t);
    if (rc)
        return rc;
    memset(dt, 0, sizeof *dt);
    dt->kind = ZARRC_DTYPE_STRUCT;
    dt->item_size = in->item_size;
    dt->scale_factor = 1;
    snprintf(dt->name, sizeof dt->name, "struct");
    dt->fields = in;
    return ZARRC_OK;
}

int zarrc__struct_parse_v2(zarrc_dtype_fields **out, const json_object *list)
{
    if (!json_object_is_type((json_object *)list, json_type_array))
        return zarrc_error_set(ZARRC_EDTYPE, "structured dtype must be a list");
    return parse_v2_list(out, list, 0);
}

int zarrc__struct_parse_v3(zarrc_dtype_fields **out, const char *name, const json_object *cfg)
{
    return parse_v3_fields(out, cfg, name, 0);
}

int zarrc__struct_from_json_v2(zarrc_dtype_info *dt, const json_object *list)
{
    zarrc_dtype_fields *t;
    int rc = zarrc__struct_parse_v2(&t, list);
    return rc ? rc : to_info(dt, t);
}

int zarrc__struct_from_json_v3(zarrc_dtype_info *dt, const char *name, const json_object *cfg)
{
    zarrc_dtype_fields *t;
    int rc = zarrc__struct_parse_v3(&t, name, cfg);
    return rc ? rc : to_info(dt, t);
}

/* ---- emitting ----------------------------------------------------------------------------- */

bool zarrc__struct_has_subarray(const zarrc_dtype_fields *t)
{
    for (size_t i = 0; i < t->count; i++)
        if (t->f[i].ndim > 0 ||
            (t->f[i].dtype.kind == ZARRC_DTYPE_STRUCT && zarrc__struct_has_subarray(t->f[i].dtype.fields)))
            return true;
    return false;
}

json_object *zarrc__struct_to_json_v3(const zarrc_dtype_fields *t)
{
    json_object *o = json_object_new_object(), *cfg = json_object_new_object(), *fl = json_object_new_array();
    if (!o || !cfg || !fl) {
        json_object_put(o), json_object_put(cfg), json_object_put(fl);
        return NULL;
    }
    json_object_object_add(o, "name", json_object_new_string("struct"));
    for (size_t i = 0; i < t->count; i++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "name", json_object_new_string(t->f[i].name));
        json_object_object_add(e, "data_type", zarrc__dtype_to_json_v3(&t->f[i].dtype));
        json_object_array_add(fl, e);
    }
    json_object_object_add(cfg, "fields", fl);
    json_object_object_add(o, "configuration", cfg);
    return o;
}

int zarrc__struct_to_json_v2(json_object **out, const zarrc_dtype_fields *t, bool big)
{
    *out = NULL;
    json_object *a = json_object_new_array();
    if (!a)
        return ZARRC_ENOMEM;
    for (size_t i = 0; i < t->count; i++) {
        const zarrc_field_info *f = &t->f[i];
        json_object *e = json_object_new_array(), *ty;
        json_object_array_add(a, e);
        json_object_array_add(e, json_object_new_string(f->name));
        if (f->dtype.kind == ZARRC_DTYPE_STRUCT) {
            int rc = zarrc__struct_to_json_v2(&ty, f->dtype.fields, big);
            if (rc) {
                json_object_put(a);
                return rc;
            }
        } else {
            char ts[64];
            zarrc_dtype_info d = f->dtype;
            d.big_endian = d.big_endian || big;
            int rc = zarrc_dtype_v2_string(ts, sizeof ts, &d);
            if (rc) {
                json_object_put(a);
                return zarrc__error_context(rc, "field '%s': ", f->name);
            }
            ty = json_object_new_string(ts);
        }
        json_object_array_add(e, ty);
        if (f->ndim) {
            json_object *sh = json_object_new_array();
            for (int d = 0; d < f->ndim; d++)
                json_object_array_add(sh, json_object_new_int64(f->shape[d]));
            json_object_array_add(e, sh);
        }
    }
    *out = a;
    return ZARRC_OK;
}

/* ---- byte order --------------------------------------------------------------------------- */

bool zarrc__struct_needs_swap(const zarrc_dtype_fields *t, int order)
{
    bool host = zarrc__host_big_endian();
    for (size_t u = 0; u < t->nunits; u++)
        if ((order < 0 ? t->units[u].big : order != 0) != host)
            return true;
    return false;
}

int zarrc__struct_field_order(const zarrc_dtype_fields *t)
{
    int ord = -2;
    for (size_t u = 0; u < t->nunits; u++) {
        int b = t->units[u].big;
        if (ord == -2)
            ord = b;
        else if (ord != b)
            return -1;
    }
    return ord;
}

void zarrc__struct_swap(const zarrc_dtype_fields *t, uint8_t *data, size_t nelem, int order)
{
    bool host = zarrc__host_big_endian();
    for (size_t u = 0; u < t->nunits; u++) {
        const swap_unit *su = &t->units[u];
        if ((order < 0 ? su->big : order != 0) == host)
            continue;
        for (size_t e = 0; e < nelem; e++)
            zarrc__byteswap(data + e * t->item_size + su->offset, su->count, su->width);
    }
}

/* ---- fill values -------------------------------------------------------------------------- */

/* One field's value (all its elements when it is a sub-array) from JSON into p. */
static int field_fill_parse(uint8_t *p, const zarrc_field_info *f, const json_object *v, int format)
{
    size_t n = f->dtype.item_size ? f->size / f->dtype.item_size : 0;
    if (f->ndim) {
        /* a flat list of n element values (zarrc's own JSON; no standard v3 form exists) */
        if (!json_object_is_type((json_object *)v, json_type_array) || json_object_array_length(v) != n)
            return zarrc_error_set(ZARRC_EDTYPE, "field '%s': expected a list of %zu values", f->name, n);
    }
    for (size_t e = 0; e < (f->ndim ? n : 1); e++) {
        zarrc__fill x;
        const json_object *ev = f->ndim ? json_object_array_get_idx(v, e) : v;
        int rc = zarrc__fill_parse(&x, &f->dtype, ev, format);
        if (rc) {
            zarrc__fill_clear(&x); /* some refusals leave the default allocated */
            return zarrc__error_context(rc, "field '%s': ", f->name);
        }
        memcpy(p + e * f->dtype.item_size, x.bytes, f->dtype.item_size);
        zarrc__fill_clear(&x);
    }
    return ZARRC_OK;
}

int zarrc__struct_fill_parse(uint8_t *p, const zarrc_dtype_info *dt, const json_object *v, int format)
{
    const zarrc_dtype_fields *t = dt->fields;
    if (json_object_is_type((json_object *)v, json_type_string)) {
        /* v2 (and legacy v3 "structured"): Base64 of the record bytes in storage order */
        uint8_t *b = NULL;
        size_t n = 0;
        if (zarrc__base64_decode(&b, &n, json_object_get_string((json_object *)v)))
            return zarrc_error_set(ZARRC_EDTYPE, "fill value of a struct: not valid Base64");
        if (n != dt->item_size && n != 0) {
            free(b);
            return zarrc_error_set(ZARRC_EDTYPE, "fill value of a struct: %zu bytes, the record has %zu", n,
                                   dt->item_size);
        }
        if (n)
            memcpy(p, b, n);
        free(b);
        zarrc__struct_swap(t, p, 1, format == 2 ? -1 : 0);
        return ZARRC_OK;
    }
    if (format == 2 && json_object_is_type((json_object *)v, json_type_int) && json_object_get_int64((json_object *)v) == 0)
        return ZARRC_OK; /* zarr-python 2 wrote 0 for zeros */
    if (json_object_is_type((json_object *)v, json_type_array)) {
        /* positional form (tensorstore reads it) */
        if (json_object_array_length(v) != t->count)
            return zarrc_error_set(ZARRC_EDTYPE, "fill value of a struct: %zu values for %zu fields",
                                   json_object_array_length(v), t->count);
        for (size_t i = 0; i < t->count; i++) {
            int rc = field_fill_parse(p + t->f[i].offset, &t->f[i], json_object_array_get_idx(v, i), format);
            if (rc)
                return rc;
        }
        return ZARRC_OK;
    }
    if (!json_object_is_type((json_object *)v, json_type_object))
        return zarrc_error_set(ZARRC_EDTYPE, "fill value of a struct must be an object of field values");
    size_t found = 0;
    for (size_t i = 0; i < t->count; i++) {
        json_object *fv;
        if (!json_object_object_get_ex(v, t->f[i].name, &fv))
            continue; /* missing: the field's default (as zarr-python reads it) */
        found++;
        int rc = field_fill_parse(p + t->f[i].offset, &t->f[i], fv, format);
        if (rc)
            return rc;
    }
    if (found != (size_t)json_object_object_length((json_object *)v)) {
        json_object_object_foreach((json_object *)v, k, val) {
            (void)val;
            bool known = false;
            for (size_t i = 0; i < t->count && !known; i++)
                known = !strcmp(t->f[i].name, k);
            if (!known)
                return zarrc_error_set(ZARRC_EDTYPE, "fill value of a struct: no field named '%s'", k);
        }
    }
    return ZARRC_OK;
}

json_object *zarrc__struct_fill_to_json(const uint8_t *p, const zarrc_dtype_info *dt, int format)
{
    const zarrc_dtype_fields *t = dt->fields;
    if (format == 2) {
        uint8_t *b = zarrc__malloc(dt->item_size ? dt->item_size : 1);
        if (!b)
            return NULL;
        memcpy(b, p, dt->item_size);
        zarrc__struct_swap(t, b, 1, -1);
        char *s = zarrc__base64_encode(b, dt->item_size);
        free(b);
        json_object *o = s ? json_object_new_string(s) : NULL;
        free(s);
        return o;
    }
    json_object *o = json_object_new_object();
    for (size_t i = 0; o && i < t->count; i++) {
        const zarrc_field_info *f = &t->f[i];
        size_t n = f->dtype.item_size ? f->size / f->dtype.item_size : 0;
        json_object *fv = f->ndim ? json_object_new_array() : NULL;
        /* each element through an aligned copy (fields sit at any offset of a packed record) */
        uint8_t *tmp = zarrc__malloc(f->dtype.item_size ? f->dtype.item_size : 1);
        if (!tmp) {
            json_object_put(fv);
            json_object_put(o);
            return NULL;
        }
        for (size_t e = 0; e < (f->ndim ? n : 1); e++) {
            memcpy(tmp, p + f->offset + e * f->dtype.item_size, f->dtype.item_size);
            zarrc__fill x = {false, tmp, f->dtype.item_size};
            json_object *ev = zarrc__fill_to_json(&x, &f->dtype, format);
            if (f->ndim)
                json_object_array_add(fv, ev);
            else
                fv = ev;
        }
        free(tmp);
        json_object_object_add(o, f->name, fv);
    }
    return o;
}

/* ---- public queries ----------------------------------------------------------------------- */

size_t zarrc_dtype_field_count(const zarrc_dtype_info *dt)
{
    return dt && dt->kind == ZARRC_DTYPE_STRUCT && dt->fields ? dt->fields->count : 0;
}

int zarrc_dtype_field(zarrc_field_info *out, const zarrc_dtype_info *dt, size_t index)
{
    zarrc__error_clear();
    if (!out || !dt || dt->kind != ZARRC_DTYPE_STRUCT || !dt->fields)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_dtype_field: not a struct data type");
    if (index >= dt->fields->count)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_dtype_field: index %zu out of range (%zu fields)", index,
                               dt->fields->count);
    *out = dt->fields->f[index];
    return ZARRC_OK;
}

static const zarrc_field_info *find_exact(const zarrc_dtype_fields *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->count; i++)
        if (strlen(t->f[i].name) == len && !memcmp(t->f[i].name, name, len))
            return &t->f[i];
    return NULL;
}

int zarrc_dtype_field_find(zarrc_field_info *out, const zarrc_dtype_info *dt, const char *name)
{
    zarrc__error_clear();
    if (!out || !dt || !name || dt->kind != ZARRC_DTYPE_STRUCT || !dt->fields)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_dtype_field_find: not a struct data type");
    const zarrc_field_info *f = find_exact(dt->fields, name, strlen(name));
    if (f) {
        *out = *f;
        return ZARRC_OK;
    }
    const zarrc_dtype_fields *t = dt->fields;
    const char *s = name;
    size_t base = 0;
    for (;;) {
        const char *dot = strchr(s, '.');
        size_t len = dot ? (size_t)(dot - s) : strlen(s);
        f = find_exact(t, s, len);
        if (!f)
            break;
        if (!dot) {
            *out = *f;
            out->offset += base;
            return ZARRC_OK;
        }
        if (f->dtype.kind != ZARRC_DTYPE_STRUCT || f->ndim)
            break;
        base += f->offset;
        t = f->dtype.fields;
        s = dot + 1;
    }
    return zarrc_error_set(ZARRC_ENOTFOUND, "no field named '%s'", name);
}

bool zarrc__struct_equal(const zarrc_dtype_info *a, const zarrc_dtype_info *b)
{
    /* byte order aside (it is a storage property): same names, types, shapes */
    const zarrc_dtype_fields *x = a->fields, *y = b->fields;
    if (x == y)
        return true;
    if (!x || !y || x->count != y->count || x->item_size != y->item_size)
        return false;
    for (size_t i = 0; i < x->count; i++) {
        const zarrc_field_info *f = &x->f[i], *g = &y->f[i];
        if (strcmp(f->name, g->name) || f->ndim != g->ndim || f->size != g->size ||
            f->dtype.kind != g->dtype.kind || strcmp(f->dtype.name, g->dtype.name))
            return false;
        for (int d = 0; d < f->ndim; d++)
            if (f->shape[d] != g->shape[d])
                return false;
        if (f->dtype.kind == ZARRC_DTYPE_STRUCT && !zarrc__struct_equal(&f->dtype, &g->dtype))
            return false;
    }
    return true;
}
