/*
 * record.c — user types onto hierarchies (the seed of issue 14, zarr-python #2081): a
 * zarrc_record_type's callbacks write an instance into a group (attributes, child arrays,
 * child groups) and read it back. One session per zarrc_record_write / zarrc_record_read
 * remembers which instance went where, so that an instance met twice is stored once and
 * referenced (a `_LINKS` entry, the hdmf-zarr convention) and read back as one instance.
 */
#include <stdlib.h>
#include <string.h>

#include "hierarchy.h"
#include "node.h"

#define RECORD_TYPE_ATTR "zarrc_record_type"
#define RECORD_MAX_DEPTH 256

typedef struct seen {
    const void *instance; /* write: the instance; read: the built instance */
    char *path;
    const zarrc_record_type *type;
} seen;

struct zarrc_record_set {
    seen *v;
    size_t n, cap;
    void *root;
};

struct zarrc_record_ctx {
    zarrc_store *store;
    char *path;
    json_object *attrs; /* write: attributes to store; read: the group's attributes */
    zarrc_record_set *session;
    int writing, depth;
};

static int remember(zarrc_record_set *s, const void *instance, const char *path, const zarrc_record_type *type)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        seen *v = zarrc__realloc(s->v, cap * sizeof *v);
        if (!v)
            return ZARRC_ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    char *p = zarrc__strdup(path);
    if (!p)
        return ZARRC_ENOMEM;
    s->v[s->n++] = (seen){instance, p, type};
    return ZARRC_OK;
}

static const seen *find_instance(const zarrc_record_set *s, const void *instance)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].instance == instance)
            return &s->v[i];
    return NULL;
}

static const seen *find_path(const zarrc_record_set *s, const char *path)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i].path, path))
            return &s->v[i];
    return NULL;
}

static void set_clear(zarrc_record_set *s, bool free_instances)
{
    for (size_t i = s->n; i-- > 0;) {
        if (free_instances && s->v[i].type->free_instance && s->v[i].instance)
            s->v[i].type->free_instance((void *)s->v[i].instance, s->v[i].type->user);
        free(s->v[i].path);
    }
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

static int check_type(const zarrc_record_type *t)
{
    if (!t || t->version != ZARRC_RECORD_TYPE_VERSION || !t->name || !t->serialize || !t->deserialize)
        return zarrc_error_set(ZARRC_EINVAL, "record type: version %u unknown or name/serialize/deserialize missing",
                               t ? t->version : 0);
    return ZARRC_OK;
}

static char *child_path(const char *path, const char *name)
{
    return *path ? zarrc__sprintf("%s/%s", path, name) : zarrc__strdup(name);
}

static int check_name(const char *name)
{
    if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
        return zarrc_error_set(ZARRC_EINVAL, "record member name '%.100s' must be one path segment",
                               name ? name : "(null)");
    return ZARRC_OK;
}

/* Write one instance at `path` (a new group). */
static int write_at(zarrc_record_set *session, zarrc_store *store, const char *path, const zarrc_record_type *type,
                    const void *instance, unsigned flags, int depth)
{
    if (depth > RECORD_MAX_DEPTH)
        return zarrc_error_set(ZARRC_EINVAL, "'%s': records nested deeper than %d levels", path, RECORD_MAX_DEPTH);
    int rc = zarrc_group_create(store, path, 3, NULL, flags & ZARRC_OVERWRITE);
    if (rc)
        return rc;
    if ((rc = remember(session, instance, path, type)))
        return rc;
    zarrc_record_ctx ctx = {store, (char *)path, json_object_new_object(), session, 1, depth};
    if (!ctx.attrs)
        return ZARRC_ENOMEM;
    rc = type->serialize(&ctx, instance, type->user);
    if (rc)
        rc = zarrc__error_context(rc, "record '%s' (%s): ", path, type->name);
    if (rc == ZARRC_OK) {
        json_object_object_add(ctx.attrs, RECORD_TYPE_ATTR, json_object_new_string(type->name));
        char *text = zarrc__json_dump(ctx.attrs, false);
        rc = text ? zarrc_node_set_attributes(store, path, text, ZARRC_ATTRS_MERGE, NULL) : ZARRC_ENOMEM;
        free(text);
    }
    json_object_put(ctx.attrs);
    return rc;
}

int zarrc_record_write(zarrc_store *store, const char *path, const zarrc_record_type *type, const void *instance,
                       unsigned flags)
{
    zarrc__error_clear();
    int rc = check_type(type);
    if (rc)
        return rc;
    if (!store || !path)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_record_write: NULL argument");
    char *p = NULL;
    if ((rc = zarrc__node_path(&p, path)))
        return rc;
    zarrc_record_set session = {0};
    rc = write_at(&session, store, p, type, instance, flags, 0);
    set_clear(&session, false);
    free(p);
    return rc;
}

static int read_at(void **out, zarrc_record_set *session, zarrc_store *store, const char *path,
                   const zarrc_record_type *type, int depth)
{
    *out = NULL;
    const seen *done = find_path(session, path);
    if (done) {
        if (done->type != type && strcmp(done->type->name, type->name))
            return zarrc_error_set(ZARRC_EDTYPE, "'%s' is read as %s and as %s", path, done->type->name, type->name);
        *out = (void *)done->instance;
        return ZARRC_OK;
    }
    if (depth > RECORD_MAX_DEPTH)
        return zarrc_error_set(ZARRC_EINVAL, "'%s': records nested deeper than %d levels", path, RECORD_MAX_DEPTH);
    zarrc_node_kind kind;
    int format;
    json_object *doc = NULL;
    int rc = zarrc__node_find(&kind, &format, &doc, store, path);
    if (rc == ZARRC_ENOTFOUND)
        return zarrc__node_not_found(store, path, "record group");
    if (rc)
        return rc;
    json_object *attrs = NULL;
    if (kind != ZARRC_NODE_GROUP || format != 3)
        rc = zarrc_error_set(ZARRC_EINVAL, "'%s' is not a v3 group: not a record", path);
    else if (!json_object_object_get_ex(doc, "attributes", &attrs) || !json_object_is_type(attrs, json_type_object))
        rc = zarrc_error_set(ZARRC_EINVAL, "'%s' has no attributes: not a record", path);
    json_object *tn = NULL;
    if (rc == ZARRC_OK && (!json_object_object_get_ex(attrs, RECORD_TYPE_ATTR, &tn) ||
                           !json_object_is_type(tn, json_type_string) || strcmp(json_object_get_string(tn), type->name)))
        rc = zarrc_error_set(ZARRC_EDTYPE, "'%s' is not a %s record (%s: %s)", path, type->name, RECORD_TYPE_ATTR,
                             tn ? json_object_to_json_string(tn) : "absent");
    if (rc) {
        json_object_put(doc);
        return rc;
    }
    zarrc_record_ctx ctx = {store, (char *)path, attrs, session, 0, depth};
    void *inst = NULL;
    rc = type->deserialize(&inst, &ctx, type->user);
    json_object_put(doc);
    if (rc) {
        if (inst && type->free_instance)
            type->free_instance(inst, type->user);
        return zarrc__error_context(rc, "record '%s' (%s): ", path, type->name);
    }
    if ((rc = remember(session, inst, path, type))) {
        if (type->free_instance)
            type->free_instance(inst, type->user);
        return rc;
    }
    *out = inst;
    return ZARRC_OK;
}

int zarrc_record_read(zarrc_record_set **out, zarrc_store *store, const char *path, const zarrc_record_type *type)
{
    zarrc__error_clear();
    if (!out)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_record_read: NULL argument");
    *out = NULL;
    int rc = check_type(type);
    if (rc)
        return rc;
    if (!store || !path)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_record_read: NULL argument");
    char *p = NULL;
    if ((rc = zarrc__node_path(&p, path)))
        return rc;
    zarrc_record_set *set = zarrc__calloc(1, sizeof *set);
    if (!set) {
        free(p);
        return ZARRC_ENOMEM;
    }
    rc = read_at(&set->root, set, store, p, type, 0);
    free(p);
    if (rc) {
        zarrc_record_set_free(set);
        return rc;
    }
    *out = set;
    return ZARRC_OK;
}

void *zarrc_record_set_root(const zarrc_record_set *set) { return set ? set->root : NULL; }

void zarrc_record_set_free(zarrc_record_set *set)
{
    if (!set)
        return;
    set_clear(set, true);
    free(set);
}

zarrc_store *zarrc_record_store(const zarrc_record_ctx *ctx) { return ctx ? ctx->store : NULL; }
const char *zarrc_record_path(const zarrc_record_ctx *ctx) { return ctx ? ctx->path : NULL; }

int zarrc_record_set_attr(zarrc_record_ctx *ctx, const char *name, const char *json)
{
    if (!ctx || !ctx->writing || !name || !json)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_record_set_attr: only while serializing, with a name and JSON");
    if (!strcmp(name, RECORD_TYPE_ATTR) || !strcmp(name, "_LINKS"))
        return zarrc_error_set(ZARRC_EINVAL, "record attribute '%s' is reserved", name);
    json_object *v = NULL;
    int rc = zarrc__json_parse(&v, json, strlen(json), "record attribute");
    if (rc)
        return zarrc__error_context(rc, "'%s' attribute '%s': ", ctx->path, name);
    return json_object_object_add(ctx->attrs, name, v) ? ZARRC_ENOMEM : ZARRC_OK;
}

int zarrc_record_get_attr(char **json, zarrc_record_ctx *ctx, const char *name)
{
    if (!json || !ctx || ctx->writing || !name)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_record_get_attr: only while deserializing, with a name");
    json_object *v = NULL;
    if (!json_object_object_get_ex(ctx->attrs, name, &v))
        return zarrc_error_set(ZARRC_ENOTFOUND, "'%s' has no attribute '%s'", ctx->path, name);
    *json = zarrc__strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    return *json ? ZARRC_OK : ZARRC_ENOMEM;
}

int zarrc_record_write_array(zarrc_record_ctx *ctx, const char *name, const zarrc_array_options *options,
                             const void *data, size_t size)
{
    if (!ctx || !ctx->writing || !options)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_record_write_array: only while serializing, with options");
    int rc = check_name(name);
    if (rc)
        return rc;
    char *p = child_path(ctx->path, name);
    if (!p)
        return ZARRC_ENOMEM;
    zarrc_array_options o = *options;
    o.format = 3;
    zarrc_array *a = NULL;
    rc = zarrc_array_create(&a, ctx->store, p, &o);
    if (rc == ZARRC_OK && data) {
        int nd = zarrc_array_ndim(a);
        int64_t start[ZARRC_MAX_DIMS] = {0};
        int64_t total = zarrc_array_size(a);
        if (total > 0)
            rc = zarrc_array_write(a, start, zarrc_array_shape(a), NULL, data, size);
        (void)nd;
    }
    zarrc_array_free(a);
    free(p);
    return rc;
}

int zarrc_record_open_array(zarrc_array **out, zarrc_record_ctx *ctx, const char *name)
{
    if (!out || !ctx)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_record_open_array: NULL argument");
    int rc = check_name(name);
    if (rc)
        return rc;
    char *p = child_path(ctx->path, name);
    if (!p)
        return ZARRC_ENOMEM;
    rc = zarrc_array_open(out, ctx->store, p);
    free(p);
    return rc;
}

int zarrc_record_write_child(zarrc_record_ctx *ctx, const char *name, const zarrc_record_type *type,
                             const void *instance)
{
    if (!ctx || !ctx->writing)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_record_write_child: only while serializing");
    int rc = check_name(name);
    if (rc || (rc = check_type(type)))
        return rc;
    const seen *done = find_instance(ctx->session, instance);
    if (done) /* stored already: referenced, not copied */
        return zarrc_node_link_add(ctx->store, ctx->path, name, done->path);
    char *p = child_path(ctx->path, name);
    if (!p)
        return ZARRC_ENOMEM;
    rc = write_at(ctx->session, ctx->store, p, type, instance, 0, ctx->depth + 1);
    free(p);
    return rc;
}

int zarrc_record_read_child(void **instance, zarrc_record_ctx *ctx, const char *name, const zarrc_record_type *type)
{
    if (!instance || !ctx || ctx->writing)
        return zarrc_error_set(ZARRC_EINVAL, "zarrc_record_read_child: only while deserializing");
    *instance = NULL;
    int rc = check_name(name);
    if (rc || (rc = check_type(type)))
        return rc;
    char *target = NULL;
    json_object *links = NULL;
    json_object_object_get_ex(ctx->attrs, "_LINKS", &links);
    for (size_t i = 0; json_object_is_type(links, json_type_array) && i < json_object_array_length(links); i++) {
        json_object *l = json_object_array_get_idx(links, i), *n = NULL;
        if (json_object_object_get_ex(l, "name", &n) && json_object_is_type(n, json_type_string) &&
            !strcmp(json_object_get_string(n), name)) {
            zarrc_node_ref ref = {0};
            rc = zarrc_node_resolve(&ref, ctx->store, json_object_to_json_string(l), 0);
            if (rc)
                return zarrc__error_context(rc, "'%s' link '%s': ", ctx->path, name);
            target = ref.path;
            ref.path = NULL;
            zarrc_node_ref_clear(&ref);
            break;
        }
    }
    if (!target && !(target = child_path(ctx->path, name)))
        return ZARRC_ENOMEM;
    rc = read_at(instance, ctx->session, ctx->store, target, type, ctx->depth + 1);
    free(target);
    return rc;
}
