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
    const zarrc_dtype_type *type;
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

static const char *const reserved[] = {"struct", "structured", "string", "bytes", "variable_length_bytes",
                                       "numpy.datetime64", "numpy.timedelta64", "fixed_length_utf32",
                                       "null_terminated_bytes", "fixed_length_bytes", "raw_bytes", NULL};

int zarrc_dtype_register(const zarrc_dtype_type *t)
{
    zarrc__error_clear();
    if (!t || t->version != ZARRC_DTYPE_TYPE_VERSION || !t->name || !*t->name || strlen(t->name) > 31)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_dtype_register: version, and a name of 1 to 31 bytes, "
                               "are required");
    if (!t->fill_from_json || !t->fill_to_json)
        return zarrc_error_set(ZARRC_EINVAL, "data type '%s': fill_from_json and fill_to_json are required",
                               t->name);
    if (t->parse_config && !t->config_to_json)
        return zarrc_error_set(ZARRC_EINVAL, "data type '%s': parse_config needs config_to_json", t->name);
    if (!t->parse_config && t->item_size == 0)
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "data type '%s': variable-length user types are not "
                               "supported (item_size 0)", t->name);
    if (t->swap_width != 1 && t->swap_width != 2 && t->swap_width != 4 && t->swap_width != 8)
        return zarrc_error_set(ZARRC_EINVAL, "data type '%s': swap_width must be 1, 2, 4 or 8", t->name);
    if (t->item_size % t->swap_width || t->item_size > ZARRC_MAX_ITEM_SIZE)
        return zarrc_error_set(ZARRC_EINVAL, "data type '%s': item_size must be a multiple of swap_width "
                               "and at most %d", t->name, ZARRC_MAX_ITEM_SIZE);
    bool core = zarrc__dtype_is_core_name(t->name);
    for (int i = 0; reserved[i]; i++)
        core = core || !strcmp(reserved[i], t->name);
    if (core)
        return zarrc_error_set(ZARRC_EINVAL, "data type '%s' is built in and cannot be registered", t->name);
    reg_entry *e = zarrc__calloc(1, sizeof *e);
    if (!e)
        return ZARRC_ENOMEM;
    e->type = t;
    pthread_mutex_lock(&lock);
    for (reg_entry **p = &registry; *p; p = &(*p)->next)
        if (!strcmp((*p)->type->name, t->name)) { /* replace */
            (*p)->type = t;
            pthread_mutex_unlock(&lock);
            free(e);
            return ZARRC_OK;
        }
    e->next = registry;
    registry = e;
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

static int instance(zarrc_dtype_info *dt, const zarrc_dtype_type *t, const json_object *cfg)
{
    const char *ctext = cfg ? json_object_to_json_string_ext((json_object *)cfg, JSON_C_TO_STRING_PLAIN) : "";
    size_t nlen = strlen(t->name), clen = strlen(ctext);
    pthread_mutex_lock(&lock);
    zarrc__user_inst *in = NULL;
    for (zarrc__user_inst *e = instances; e && !in; e = e->next)
        if (e->type == t && e->key_len == nlen + 1 + clen && !strcmp(e->key + nlen + 1, ctext))
            in = e;
    pthread_mutex_unlock(&lock);
    if (!in) {
        void *state = NULL;
        size_t isz = t->item_size;
        if (t->parse_config) {
            int rc = t->parse_config(&state, &isz, ZJC(cfg));
            if (rc)
                return zarrc__error_context(rc < 0 ? rc : ZARRC_EDTYPE, "data type '%s': ", t->name);
            if (isz == 0 || isz % t->swap_width || isz > ZARRC_MAX_ITEM_SIZE) {
                if (t->free_config)
                    t->free_config(state);
                return zarrc_error_set(ZARRC_EDTYPE, "data type '%s': the configuration gives an item size of "
                                       "%zu bytes", t->name, isz);
            }
        } else if (cfg && json_object_object_length((json_object *)cfg) > 0)
            return zarrc_error_set(ZARRC_EDTYPE, "data type '%s' takes no configuration", t->name);
        zarrc__user_inst *n = zarrc__calloc(1, sizeof *n);
        char *key = zarrc__malloc(nlen + clen + 2);
        if (!n || !key) {
            free(n);
            free(key);
            if (t->free_config)
                t->free_config(state);
            return ZARRC_ENOMEM;
        }
        memcpy(key, t->name, nlen + 1);
        memcpy(key + nlen + 1, ctext, clen + 1);
        *n = (zarrc__user_inst){t, state, isz, key, nlen + 1 + clen, NULL};
        pthread_mutex_lock(&lock);
        if (instance_bytes + sizeof *n + n->key_len > INSTANCE_LIMIT) {
            pthread_mutex_unlock(&lock);
            if (t->free_config)
                t->free_config(state);
            free(key);
            free(n);
            return zarrc_error_set(ZARRC_EUNSUPPORTED, "too many configurations of user data types in this process");
        }
        instance_bytes += sizeof *n + n->key_len;
        n->next = instances;
        instances = n;
        pthread_mutex_unlock(&lock);
        in = n;
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
    return in && in->type->default_codec ? in->type->default_codec : "bytes";
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
