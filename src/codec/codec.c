/* codec.c — one codec instance: creation with context in errors, JSON, encode/decode. */
#include <stdlib.h>
#include <string.h>

#include "codec.h"

int zarrc__codec_init(zarrc__codec *c, const zarrc_codec_type *type, const json_object *config,
                      int format, const zarrc_repr *input, int big_endian)
{
    memset(c, 0, sizeof *c);
    c->type = type;
    if (input)
        c->in = *input;
    c->out = c->in;
    zarrc_codec_init init = {format, input, &c->out, big_endian};
    int rc = type->create(&c->state, ZJC(config), &init);
    if (rc)
        return zarrc__error_context(rc, "codec '%s': ", type->name);
    /* The fill element only carries over while the element type is unchanged. */
    if (c->out.dtype.kind != c->in.dtype.kind || c->out.dtype.item_size != c->in.dtype.item_size)
        c->out.fill = NULL;
    return ZARRC_OK;
}

void zarrc__codec_fini(zarrc__codec *c)
{
    if (c->type && c->type->destroy)
        c->type->destroy(c->state);
    c->state = NULL;
}

int zarrc__codec_to_json(json_object **out, const zarrc__codec *c, int format)
{
    json_object *cfg = json_object_new_object();
    if (!cfg)
        return zarrc__enomem();
    if (format == 2 && !c->type->v2_id) {
        json_object_put(cfg);
        return zarrc_error_set(ZARRC_EUNSUPPORTED, "codec '%s' has no v2 spelling", c->type->name);
    }
    int rc = c->type->to_json(c->state, format, (zarrc_json *)cfg);
    if (rc) {
        json_object_put(cfg);
        return zarrc__error_context(rc, "codec '%s': ", c->type->name);
    }
    if (format == 2) {
        json_object_object_add(cfg, "id", json_object_new_string(c->type->v2_id));
        *out = cfg;
        return ZARRC_OK;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(c->type->name));
    /* zarr-python 3 refuses a numcodecs.* codec without a "configuration" member (optional
     * in the spec), so those always carry one, even when it is empty. */
    if (json_object_object_length(cfg) > 0 || !strncmp(c->type->name, "numcodecs.", 10))
        json_object_object_add(o, "configuration", cfg);
    else
        json_object_put(cfg);
    *out = o;
    return ZARRC_OK;
}

int zarrc__codec_encode(const zarrc__codec *c, const uint8_t *in, size_t n, zarrc_buf *out)
{
    zarrc_codec_call call = {c->type->kind == ZARRC_CODEC_BYTES_TO_BYTES ? NULL : &c->in,
                             c->type->kind == ZARRC_CODEC_ARRAY_TO_ARRAY ? &c->out : NULL, 0};
    out->size = 0;
    int rc = c->type->encode(c->state, &call, in, n, out);
    return rc ? zarrc__error_context(rc, "codec '%s': ", c->type->name) : ZARRC_OK;
}

int zarrc__codec_decode(const zarrc__codec *c, const uint8_t *in, size_t n, size_t decoded_size,
                        zarrc_buf *out)
{
    zarrc_codec_call call = {c->type->kind == ZARRC_CODEC_BYTES_TO_BYTES ? NULL : &c->in,
                             c->type->kind == ZARRC_CODEC_ARRAY_TO_ARRAY ? &c->out : NULL,
                             decoded_size};
    out->size = 0;
    int rc = c->type->decode(c->state, &call, in, n, out);
    return rc ? zarrc__error_context(rc, "codec '%s': ", c->type->name) : ZARRC_OK;
}
