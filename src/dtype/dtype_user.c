/*
 * dtype_user.c — data types registered at run time through zarrc_plugin.h (kind
 * ZARRC_DTYPE_USER): the registry, one interned instance per (type, configuration), and the
 * dispatch of spellings and fill values to the type's hooks.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "dtype.h"

#define INSTANCE_LIMIT ((size_t)16 << 20) /* bytes of interned instances, all together */

typedef struct reg_entry {
    const zarrc_dtype_type *type; /* the library's copy (see normalize) */
    struct reg_entry *next;
} reg_entry;

struct zarrc__user_inst {
    const zarrc_dtype_type *type;
    void *state;
    size_t item_size;
    char *key; /* name NUL-separated from the configuration's JSON text */
    size_t key_len;
    struct zarrc__user_inst *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static reg_entry *registry;
static zarrc__user_inst *instances;
static size_t instance_bytes;
/* Copies of registered structs: kept until the process exits (instances point at them). */
typedef struct type_copy {
    zarrc_dtype_type t;
    struct type_copy *next;
} type_copy;
static type_copy *copies;

static const char *const reserved[] = {"struct", "structured", "string", "bytes", "variable_length_bytes",
                                       "numpy.datetime64", "numpy.timedelta64", "fixed_length_utf32",
                                       "null_terminated_bytes", "fixed_length_bytes", "raw_bytes", NULL};

static bool is_vlen_type(const zarrc_dtype_type *t)
{
    return t->flags & ZARRC_DTYPE_VARIABLE_LENGTH;
}

/* Check a registration (the normalized copy) for its form. */
static int check_type(const zarrc_dtype_type *t)
{
    if (t->flags & ~ZARRC_DTYPE_VARIABLE_LENGTH)
        return zarrc_error_set(ZARRC_EINVAL, "data type '%s': unknown flags 0x%x", t->name, t->flags);
    if (t->parse_config && !t->config_to_json)
        return zarrc_error_set(ZARRC_EINVAL, "data type '%s': parse_config needs config_to_json", t->name);
    if (is_vlen_type(t)) {
        if (!t->vfill_from_json || !t->vfill_to_json)
            return zarrc_error_set(ZARRC_EINVAL, "data type '%s': a variable-length type requires "
                                   "vfill_from_json and vfill_to_json", t->name);
        if (t->fill_from_json || t->fill_to_json)
            return zarrc_error_set(ZARRC_EINVAL, "data type '%s': a variable-length type takes "
                                   "vfill_from_json / vfill_to_json, not fill_from_json / fill_to_json", t->name);
        if (t->item_size != 0 || t->swap_width > 1)
            return zarrc_error_set(ZARRC_EINVAL, "data type '%s': a variable-length type has item_size 0 "
                                   "and swap_width 0 or 1", t->name);
        return ZARRC_OK;
    }
    if (!t->fill_from_json || !t->fill_to_json)
        return zarrc_error_set(ZARRC_EINVAL, "data type '%s': fill_from_json and fill_to_json are required",
                               t->name);
    if (t->vfill_from_json || t->vfill_to_json || t->validate)
        return zarrc_error_set(ZARRC_EINVAL, "data type '%s': vfill_from_json, vfill_to_json and validate "
                               "are for variable-length types (flags ZARRC_DTYPE_VARIABLE_LENGTH)", t->name);
    if (!t->parse_config && t->item_size == 0)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "data type '%s': item_size 0: a variable-length type "
                               "sets flags ZARRC_DTYPE_VARIABLE_LENGTH (struct version 2)", t->name);
    if (t->swap_width != 1 && t->swap_width != 2 && t->swap_width != 4 && t->swap_width != 8)
        return zarrc_error_set(ZARRC_EINVAL, "data type '%s': swap_width must be 1, 2, 4 or 8", t->name);
    if (t->item_size % t->swap_width || t->item_size > ZARRC_MAX_ITEM_SIZE)
        return zarrc_error_set(ZARRC_EINVAL, "data type '%s': item_size must be a multiple of swap_width "
                               "and at most %d", t->name, ZARRC_MAX_ITEM_SIZE);
    return ZARRC_OK;
}

static bool is_core_name(const char *name)
{
    bool core = zarrc__dtype_is_core_name(name);
    for (int i = 0; reserved[i]; i++)
        core = core || !strcmp(reserved[i], name);
    return core;
}

/* A registered type other than `name` that already claims the v2 spelling `v2` (under lock). */
static const zarrc_dtype_type *v2_owner(const char *v2, const char *name)
{
    for (reg_entry *e = registry; e; e = e->next)
        for (size_t i = 0; e->type->v2_names && e->type->v2_names[i]; i++)
            if (!strcmp(e->type->v2_names[i], v2) && strcmp(e->type->name, name))
                return e->type;
    return NULL;
}

int zarrc_dtype_register(const zarrc_dtype_type *t)
{
    zarrc__error_clear();
    if (!t || (t->version != 1 && t->version != ZARRC_DTYPE_TYPE_VERSION) || !t->name || !*t->name ||
        strlen(t->name) > 31)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_dtype_register: version (1 or %d), and a name of 1 to 31 "
                               "bytes, are required", ZARRC_DTYPE_TYPE_VERSION);
    /* A version-1 struct ends at fill_to_json: copy only that much, the rest stays zero. */
    zarrc_dtype_type n;
    memset(&n, 0, sizeof n);
    memcpy(&n, t, t->version == 1 ? offsetof(zarrc_dtype_type, flags) : sizeof n);
    int rc = check_type(&n);
    if (rc)
        return rc;
    if (is_core_name(n.name))
        return zarrc_error_set(ZARRC_EINVAL, "data type '%s' is built in and cannot be registered", n.name);
    for (size_t i = 0; n.v2_names && n.v2_names[i]; i++) {
        const char *v2 = n.v2_names[i];
        if (!*v2 || strchr("<>|", v2[0]) || is_core_name(v2) || strlen(v2) > 31)
            return zarrc_error_set(ZARRC_EINVAL, "data type '%s': v2 spelling '%s' is empty, too long, or "
                                   "spelled like a built-in type", n.name, v2);
    }
    type_copy *c = zarrc__calloc(1, sizeof *c);
    reg_entry *e = zarrc__calloc(1, sizeof *e);
    if (!c || !e) {
        free(c);
        free(e);
        return ZARRC_ENOMEM;
    }
    c->t = n;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; n.v2_names && n.v2_names[i]; i++) {
        const zarrc_dtype_type *o = v2_owner(n.v2_names[i], n.name);
        if (o) {
            pthread_mutex_unlock(&lock);
            free(c);
            free(e);
            return zarrc_error_set(ZARRC_EINVAL, "data type '%s': v2 spelling '%s' is already registered for "
                                   "data type '%s'", n.name, n.v2_names[i], o->name);
        }
    }
    reg_entry **p = &registry;
    while (*p && strcmp((*p)->type->name, n.name))
        p = &(*p)->next;
    if (*p && is_vlen_type((*p)->type) != is_vlen_type(&n)) {
        bool was = is_vlen_type((*p)->type);
        pthread_mutex_unlock(&lock);
        free(c);
        free(e);
        return zarrc_error_set(ZARRC_EINVAL, "data type '%s' is registered as a %s type; it cannot be replaced "
                               "by a %s one", n.name, was ? "variable-length" : "fixed-size",
                               was ? "fixed-size" : "variable-length");
    }
    /* The same struct registered again: keep the copy (and its interned instances). */
    const type_copy *same = NULL;
    for (const type_copy *k = copies; k && !same; k = k->next)
        if (!memcmp(&k->t, &n, sizeof n))
            same = k;
    if (same) {
        free(c);
        c = NULL;
    } else {
        c->next = copies;
        copies = c;
    }
    const zarrc_dtype_type *use = same ? &same->t : &c->t;
    if (*p) { /* replace: arrays opened from now on use the new hooks */
        (*p)->type = use;
        free(e);
    } else {
        e->type = use;
        e->next = registry;
        registry = e;
    }
    pthread_mutex_unlock(&lock);
    return ZARRC_OK;
}

/* The registered type named `name` (v3) or spelled `name` in v2 (v2 = true). */
static const zarrc_dtype_type *lookup(const char *name, bool v2)
{
    const zarrc_dtype_type *found = NULL;
    pthread_mutex_lock(&lock);
    for (reg_entry *e = registry; e && !found; e = e->next) {
        if (!v2 && !strcmp(e->type->name, name))
            found = e->type;
        for (size_t i = 0; v2 && e->type->v2_names && e->type->v2_names[i] && !found; i++)
            if (!strcmp(e->type->v2_names[i], name))
                found = e->type;
    }
    pthread_mutex_unlock(&lock);
    return found;
}

/* The interned instance of type t with configuration key `ctext` (under lock). */
static zarrc__user_inst *find_instance(const zarrc_dtype_type *t, const char *ctext)
{
    size_t nlen = strlen(t->name), clen = strlen(ctext);
    for (zarrc__user_inst *e = instances; e; e = e->next)
        if (e->type == t && e->key_len == nlen + 1 + clen && !strcmp(e->key + nlen + 1, ctext))
            return e;
    return NULL;
}

/* The canonical text of a parsed configuration: what config_to_json writes ("" without it), so
 * that spellings meaning the same configuration (absent, {}, members in another order, the v2
 * spelling without one) share one instance and compare equal. New string or NULL (ENOMEM or the
 * hook's error). */
static char *canonical_config(const zarrc_dtype_type *t, const void *state)
{
    if (!t->config_to_json)
        return zarrc__strdup("");
    json_object *o = json_object_new_object();
    if (!o)
        return (void)zarrc__enomem(), NULL;
    char *text = NULL;
    int rc = t->config_to_json(state, (zarrc_json *)o);
    if (rc == ZARRC_OK)
        text = zarrc__strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    else
        zarrc__error_context(rc, "data type '%s': config_to_json: ", t->name);
    json_object_put(o);
    return text;
}

static int instance(zarrc_dtype_info *dt, const zarrc_dtype_type *t, const json_object *cfg)
{
    const char *ctext = cfg ? json_object_to_json_string_ext((json_object *)cfg, JSON_C_TO_STRING_PLAIN) : "";
    size_t nlen = strlen(t->name);
    pthread_mutex_lock(&lock);
    zarrc__user_inst *in = find_instance(t, ctext);
    pthread_mutex_unlock(&lock);
    if (!in) {
        void *state = NULL;
        size_t isz = t->item_size;
        bool vl = is_vlen_type(t);
        if (t->parse_config) {
            int rc = t->parse_config(&state, &isz, ZJC(cfg));
            if (rc)
                return zarrc__error_context(rc < 0 ? rc : ZARRC_EDTYPE, "data type '%s': ", t->name);
            if (vl)
                isz = 0; /* elements are zarrc_vref; the hook's size is not used */
            else if (isz == 0 || isz % t->swap_width || isz > ZARRC_MAX_ITEM_SIZE) {
                if (t->free_config)
                    t->free_config(state);
                return zarrc_error_set(ZARRC_EDTYPE, "data type '%s': the configuration gives an item size of "
                                       "%zu bytes", t->name, isz);
            }
        } else if (cfg && json_object_object_length((json_object *)cfg) > 0)
            return zarrc_error_set(ZARRC_EDTYPE, "data type '%s' takes no configuration", t->name);
        char *canon = canonical_config(t, state);
        zarrc__user_inst *n = zarrc__calloc(1, sizeof *n);
        size_t clen = canon ? strlen(canon) : 0;
        char *key = canon ? zarrc__malloc(nlen + clen + 2) : NULL;
        if (!n || !key) {
            int rc = zarrc_error_code() ? zarrc_error_code() : ZARRC_ENOMEM;
            free(n);
            free(key);
            free(canon);
            if (t->free_config)
                t->free_config(state);
            return rc;
        }
        memcpy(key, t->name, nlen + 1);
        memcpy(key + nlen + 1, canon, clen + 1);
        *n = (zarrc__user_inst){t, state, isz, key, nlen + 1 + clen, NULL};
        pthread_mutex_lock(&lock);
        /* the same configuration spelled differently, or interned meanwhile by another thread */
        in = find_instance(t, canon);
        free(canon);
        if (in) {
            pthread_mutex_unlock(&lock);
            if (t->free_config)
                t->free_config(state);
            free(key);
            free(n);
        } else if (instance_bytes + sizeof *n + n->key_len > INSTANCE_LIMIT) {
            pthread_mutex_unlock(&lock);
            if (t->free_config)
                t->free_config(state);
            free(key);
            free(n);
            return zarrc_error_set(ZARRC_EUNSUPPORTED, "too many configurations of user data types in this process");
        } else {
            instance_bytes += sizeof *n + n->key_len;
            n->next = instances;
            instances = n;
            pthread_mutex_unlock(&lock);
            in = n;
        }
    }
    memset(dt, 0, sizeof *dt);
    dt->kind = ZARRC_DTYPE_USER;
    dt->item_size = in->item_size;
    dt->scale_factor = 1;
    snprintf(dt->name, sizeof dt->name, "%s", t->name);
    dt->user = in;
    return ZARRC_OK;
}

int zarrc__user_from_json(zarrc_dtype_info *dt, const char *name, const json_object *cfg, bool v2)
{
    const zarrc_dtype_type *t = lookup(name, v2);
    if (!t)
        return ZARRC_ENOTFOUND;
    return instance(dt, t, cfg);
}

static const zarrc__user_inst *inst(const zarrc_dtype_info *dt)
{
    return dt->user;
}

json_object *zarrc__user_to_json_v3(const zarrc_dtype_info *dt)
{
    const zarrc__user_inst *in = inst(dt);
    if (!in)
        return json_object_new_string(dt->name);
    if (!in->type->config_to_json)
        return json_object_new_string(in->type->name);
    json_object *o = json_object_new_object(), *cfg = json_object_new_object();
    if (!o || !cfg || in->type->config_to_json(in->state, (zarrc_json *)cfg)) {
        json_object_put(o);
        json_object_put(cfg);
        return NULL;
    }
    json_object_object_add(o, "name", json_object_new_string(in->type->name));
    json_object_object_add(o, "configuration", cfg);
    return o;
}

const char *zarrc__user_v2_name(const zarrc_dtype_info *dt)
{
    const zarrc__user_inst *in = inst(dt);
    return in && in->type->v2_names ? in->type->v2_names[0] : NULL;
}

size_t zarrc__user_swap_width(const zarrc_dtype_info *dt)
{
    const zarrc__user_inst *in = inst(dt);
    return in ? in->type->swap_width : 1;
}

const char *zarrc__user_default_codec(const zarrc_dtype_info *dt)
{
    const zarrc__user_inst *in = inst(dt);
    if (in && in->type->default_codec)
        return in->type->default_codec;
    return in && is_vlen_type(in->type) ? "vlen-bytes" : "bytes";
}

int zarrc__user_fill_parse(uint8_t *p, const zarrc_dtype_info *dt, const json_object *v, int format)
{
    const zarrc__user_inst *in = inst(dt);
    if (!in)
        return zarrc_error_set(ZARRC_EDTYPE, "unknown data type '%s'", dt->name);
    if (!v) /* null: the type's default, zeros */
        return ZARRC_OK;
    int rc = in->type->fill_from_json(in->state, ZJC(v), format, p);
    if (rc) {
        char why[512];
        snprintf(why, sizeof why, "%s", zarrc_error_last());
        return zarrc_error_set(ZARRC_EDTYPE, "fill value %s cannot be encoded as '%s'%s%s",
                               json_object_to_json_string_ext((json_object *)v, JSON_C_TO_STRING_PLAIN), dt->name,
                               *why ? ": " : "", why);
    }
    return ZARRC_OK;
}

json_object *zarrc__user_fill_to_json(const uint8_t *p, const zarrc_dtype_info *dt, int format)
{
    const zarrc__user_inst *in = inst(dt);
    if (!in)
        return NULL;
    zarrc_buf b = ZARRC_BUF_INIT;
    json_object *o = NULL;
    if (in->type->fill_to_json(in->state, p, format, &b) == ZARRC_OK && zarrc_buf_reserve(&b, b.size + 1) == 0) {
        if (zarrc__json_parse(&o, (const char *)b.data, b.size, "fill value of a user data type"))
            o = NULL;
    }
    zarrc_buf_release(&b);
    if (!o && !zarrc_error_code())
        zarrc_error_set(ZARRC_EDTYPE, "data type '%s': fill_to_json gave no JSON", dt->name);
    return o;
}

/* ---- variable-length user types ---- */

/* The hook's message (copied: the caller's zarrc_error_set overwrites the last error). */
static void hook_why(char *why, size_t n)
{
    snprintf(why, n, "%s", zarrc_error_code() ? zarrc_error_last() : "");
}

int zarrc__user_vfill_parse(zarrc__fill *f, const zarrc_dtype_info *dt, const json_object *v, int format)
{
    const zarrc__user_inst *in = inst(dt);
    if (!in)
        return zarrc_error_set(ZARRC_EDTYPE, "unknown data type '%s'", dt->name);
    if (!v) /* null: the empty element */
        return ZARRC_OK;
    zarrc_buf b = ZARRC_BUF_INIT;
    zarrc__error_clear();
    int rc = in->type->vfill_from_json(in->state, ZJC(v), format, &b);
    if (rc == ZARRC_OK && in->type->validate && b.size) /* the empty element: the default */
        rc = in->type->validate(in->state, b.data, b.size);
    if (rc) {
        char why[512];
        hook_why(why, sizeof why);
        zarrc_buf_release(&b);
        if (rc == ZARRC_ENOMEM)
            return rc;
        return zarrc_error_set(ZARRC_EDTYPE, "fill value %.200s cannot be encoded as '%s'%s%s",
                               json_object_to_json_string_ext((json_object *)v, JSON_C_TO_STRING_PLAIN), dt->name,
                               *why ? ": " : "", why);
    }
    free(f->bytes);
    if (!b.data && (rc = zarrc_buf_reserve(&b, 1))) /* never a NULL fill buffer */
        return rc;
    f->bytes = b.data; /* ownership moves to the fill value */
    f->size = b.size;
    return ZARRC_OK;
}

json_object *zarrc__user_vfill_to_json(const uint8_t *p, size_t n, const zarrc_dtype_info *dt, int format)
{
    const zarrc__user_inst *in = inst(dt);
    if (!in)
        return NULL;
    zarrc_buf b = ZARRC_BUF_INIT;
    json_object *o = NULL;
    if (in->type->vfill_to_json(in->state, p, n, format, &b) == ZARRC_OK) {
        if (zarrc__json_parse(&o, (const char *)b.data, b.size, "fill value of a user data type"))
            o = NULL;
    }
    zarrc_buf_release(&b);
    if (!o && !zarrc_error_code())
        zarrc_error_set(ZARRC_EDTYPE, "data type '%s': vfill_to_json gave no JSON", dt->name);
    return o;
}

bool zarrc__user_has_validate(const zarrc_dtype_info *dt)
{
    const zarrc__user_inst *in = inst(dt);
    return zarrc__dtype_is_user_vlen(dt) && in && in->type->validate;
}

int zarrc__user_validate(const zarrc_dtype_info *dt, const zarrc_vref *elems, size_t n, const zarrc_vref *fill)
{
    const zarrc__user_inst *in = inst(dt);
    if (!zarrc__dtype_is_user_vlen(dt) || !in || !in->type->validate)
        return ZARRC_OK;
    zarrc_vref f = fill ? *fill : (zarrc_vref){NULL, 0};
    for (size_t k = 0; k < n; k++) {
        if (elems[k].len == f.len && (!f.len || !memcmp(elems[k].ptr, f.ptr, (size_t)f.len)))
            continue; /* the array's fill value (accepted when the metadata was read) */
        zarrc__error_clear();
        int rc = in->type->validate(in->state, elems[k].ptr, (size_t)elems[k].len);
        if (rc == ZARRC_OK)
            continue;
        if (rc == ZARRC_ENOMEM)
            return rc;
        char why[512];
        hook_why(why, sizeof why);
        return zarrc_error_set(ZARRC_EDTYPE, "element %zu (%llu bytes) is not a valid '%s'%s%s", k,
                               (unsigned long long)elems[k].len, dt->name, *why ? ": " : "", why);
    }
    return ZARRC_OK;
}
