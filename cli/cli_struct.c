/* cli_struct.c — records in the CLI (see cli_struct.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "zarrc_plugin.h" /* zarrc_dtype_v2_string */
#include "cli_struct.h"

void cli_struct_put_element(FILE *out, const zarrc_dtype_info *dt, const uint8_t *p)
{
    char *s = NULL;
    if (zarrc_dtype_value_to_json(&s, dt, p)) {
        fputs("null", out);
        return;
    }
    fputs(s, out);
    zarrc_free(s);
}

typedef struct rec_ctx {
    const zarrc_dtype_info *dt;
    uint8_t *out;
    int64_t n, k;
    const char *src;
} rec_ctx;

/* A record object or nested lists of them, in C order. */
static int take(rec_ctx *c, json_object *v, int depth)
{
    if (depth > 64)
        return cli_fail("%s: lists nested too deeply", c->src);
    if (json_object_is_type(v, json_type_array)) {
        size_t len = json_object_array_length(v);
        for (size_t i = 0; i < len; i++)
            if (take(c, json_object_array_get_idx(v, i), depth + 1))
                return CLI_EXIT_FAIL;
        return 0;
    }
    if (!json_object_is_type(v, json_type_object))
        return cli_fail("%s: value %lld: a record must be a JSON object {\"field\": value, ...}", c->src,
                        (long long)c->k);
    if (c->k >= c->n)
        return cli_fail("%s: more than %lld records", c->src, (long long)c->n);
    const char *text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    int rc = zarrc_dtype_value_from_json(c->out + (size_t)c->k * c->dt->item_size, c->dt, text);
    if (rc)
        return cli_fail_lib(rc, "%s: record %lld", c->src, (long long)c->k);
    c->k++;
    return 0;
}

int cli_struct_read_json(FILE *in, const char *src, const zarrc_dtype_info *dt, void *data, int64_t n,
                         int out_ndim, const int64_t *out_shape)
{
    (void)out_ndim, (void)out_shape;
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    if (!text)
        return cli_fail("out of memory");
    for (;;) {
        if (len + 1 >= cap) {
            char *t = cap < SIZE_MAX / 2 ? realloc(text, cap * 2) : NULL;
            if (!t) {
                free(text);
                return cli_fail("%s: input too large", src);
            }
            text = t;
            cap *= 2;
        }
        size_t got = fread(text + len, 1, cap - len - 1, in);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(in)) {
        free(text);
        return cli_fail("%s: read error: %s", src, strerror(errno));
    }
    text[len] = 0;
    json_object *doc;
    char err[256];
    if (cli_json_parse(&doc, text, err, sizeof err)) {
        free(text);
        return cli_fail("%s: %s", src, err);
    }
    free(text);
    rec_ctx c = {dt, data, n, 0, src};
    json_object *list = doc, *d;
    int rc;
    if (json_object_is_type(doc, json_type_object) && json_object_object_get_ex(doc, "data", &d))
        list = d;
    if (json_object_is_type(list, json_type_object) && n == 1)
        rc = take(&c, list, 0);
    else if (!json_object_is_type(list, json_type_array))
        rc = cli_fail("%s: expected a JSON list of records ({\"field\": value, ...})", src);
    else
        rc = take(&c, list, 0);
    if (!rc && c.k != n)
        rc = cli_fail("%s: expected %lld records, got %lld", src, (long long)n, (long long)c.k);
    json_object_put(doc);
    return rc ? CLI_EXIT_FAIL : 0;
}

int cli_struct_select_field(zarrc_dtype_info *fdt, void *buf, int64_t *n, int *out_ndim, int64_t *out_shape,
                            const zarrc_dtype_info *dt, const char *name, const char *node)
{
    if (dt->kind != ZARRC_DTYPE_STRUCT)
        return cli_fail("'%s': --field needs a struct data type, not '%s'", node, dt->name);
    zarrc_field_info f;
    int rc = zarrc_dtype_field_find(&f, dt, name);
    if (rc)
        return cli_fail_lib(rc, "'%s'", node);
    uint8_t *p = buf;
    for (int64_t e = 0; e < *n; e++)
        memmove(p + (size_t)e * f.size, p + (size_t)e * dt->item_size + f.offset, f.size);
    if (*out_ndim + f.ndim > 64)
        return cli_fail("'%s': too many dimensions", node);
    for (int d = 0; d < f.ndim; d++) {
        out_shape[(*out_ndim)++] = f.shape[d];
        *n *= f.shape[d];
    }
    *fdt = f.dtype;
    return 0;
}

static void print_type(FILE *out, const zarrc_dtype_info *dt)
{
    if (dt->kind == ZARRC_DTYPE_STRUCT) {
        fputs("struct", out);
        return;
    }
    char v2[64];
    if (!zarrc_dtype_v2_string(v2, sizeof v2, dt))
        fprintf(out, "%s (%s)", dt->name, v2);
    else
        fputs(dt->name, out);
}

void cli_struct_print_fields(FILE *out, const zarrc_dtype_info *dt, int indent)
{
    size_t n = zarrc_dtype_field_count(dt);
    for (size_t i = 0; i < n; i++) {
        zarrc_field_info f;
        if (zarrc_dtype_field(&f, dt, i))
            return;
        fprintf(out, "%*s%-12s offset %-6zu size %-6zu ", indent, "", f.name, f.offset, f.size);
        print_type(out, &f.dtype);
        if (f.ndim) {
            fputs(" shape [", out);
            for (int d = 0; d < f.ndim; d++)
                fprintf(out, "%s%lld", d ? "," : "", (long long)f.shape[d]);
            fputc(']', out);
        }
        fputc('\n', out);
        if (f.dtype.kind == ZARRC_DTYPE_STRUCT)
            cli_struct_print_fields(out, &f.dtype, indent + 2);
    }
}
