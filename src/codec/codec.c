/* codec.c — one codec instance: creation with context in errors, JSON, encode/decode; the
 * per-chunk limit on decoded data. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec.h"

/* ---- the per-chunk limit ---- */

static uint64_t max_chunk_bytes; /* 0 = not resolved yet; accessed atomically */

/* ZARRC_MAX_CHUNK_BYTES: a byte count with an optional binary K/M/G/T suffix (KiB, KB and K
 * all mean 1024); 0 if absent or invalid. */
static uint64_t env_limit(void)
{
    const char *e = getenv("ZARRC_MAX_CHUNK_BYTES");
    if (!e || !isdigit((unsigned char)*e))
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(e, &end, 10);
    int shift = 0;
    switch (toupper((unsigned char)*end)) {
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    case 'T': shift = 40; break;
    case '\0': break;
    default: return 0;
    }
    const char *unit = shift ? end + 1 : end; /* "", "B" or "iB" may follow K/M/G/T */
    if (shift && strcmp(unit, "") && strcasecmp(unit, "B") && strcasecmp(unit, "iB"))
        return 0;
    if (errno || v > (UINT64_MAX >> shift))
        return 0;
    return (uint64_t)v << shift;
}

/* The default: the environment variable, else ZARRC_DEFAULT_MAX_CHUNK_BYTES. */
static uint64_t default_limit(void)
{
    uint64_t n = env_limit();
    return n ? n : ZARRC_DEFAULT_MAX_CHUNK_BYTES;
}

int zarrc_set_max_chunk_bytes(uint64_t n)
{
    zarrc__error_clear();
    __atomic_store_n(&max_chunk_bytes, n ? n : default_limit(), __ATOMIC_RELAXED);
    return ZARRC_OK;
}

uint64_t zarrc_get_max_chunk_bytes(void)
{
    uint64_t n = __atomic_load_n(&max_chunk_bytes, __ATOMIC_RELAXED);
    if (n == 0) { /* first use: the environment is read once (not on every decode) */
        n = default_limit();
        __atomic_store_n(&max_chunk_bytes, n, __ATOMIC_RELAXED);
    }
    return n;
}

size_t zarrc__max_chunk_bytes(void)
{
    uint64_t n = zarrc_get_max_chunk_bytes();
    return n > SIZE_MAX ? SIZE_MAX : (size_t)n;
}

int zarrc__codec_limit_error(size_t limit)
{
    if (limit != zarrc__max_chunk_bytes())
        return zarrc_error_set(ZARRC_ECORRUPT, "decoded data exceeds the %zu bytes a chunk of this array can "
                               "hold at this stage", limit);
    return zarrc_error_set(ZARRC_ECORRUPT, "decoded data exceeds the limit of %zu bytes per chunk "
                           "(raise it with ZARRC_MAX_CHUNK_BYTES or zarrc_set_max_chunk_bytes)", limit);
}

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
                             c->type->kind == ZARRC_CODEC_ARRAY_TO_ARRAY ? &c->out : NULL, 0, 0};
    out->size = 0;
    int rc = c->type->encode(c->state, &call, in, n, out);
    return rc ? zarrc__error_context(rc, "codec '%s': ", c->type->name) : ZARRC_OK;
}

int zarrc__codec_decode(const zarrc__codec *c, const uint8_t *in, size_t n, size_t decoded_size,
                        size_t max_size, zarrc_buf *out)
{
    if (!max_size)
        max_size = decoded_size ? decoded_size : zarrc__max_chunk_bytes();
    zarrc_codec_call call = {c->type->kind == ZARRC_CODEC_BYTES_TO_BYTES ? NULL : &c->in,
                             c->type->kind == ZARRC_CODEC_ARRAY_TO_ARRAY ? &c->out : NULL,
                             decoded_size, max_size};
    out->size = 0;
    int rc = c->type->decode(c->state, &call, in, n, out);
    return rc ? zarrc__error_context(rc, "codec '%s': ", c->type->name) : ZARRC_OK;
}
