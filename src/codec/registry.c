/* registry.c — the codec registry: built-ins first, then plugins (later ones win). */
#include <pthread.h>
#include <stdlib.h>

#include "codec.h"

/* Built-in codec types, each defined in its own codec_<name>.c file. */
extern const zarrc_codec_type zarrc__codec_bytes, zarrc__codec_transpose, zarrc__codec_blosc,
    zarrc__codec_gzip, zarrc__codec_zlib, zarrc__codec_zstd, zarrc__codec_lz4, zarrc__codec_bz2,
    zarrc__codec_lzma, zarrc__codec_crc32c, zarrc__codec_adler32, zarrc__codec_crc32,
    zarrc__codec_fletcher32, zarrc__codec_delta, zarrc__codec_shuffle,
    zarrc__codec_fixedscaleoffset, zarrc__codec_quantize, zarrc__codec_bitround,
    zarrc__codec_astype, zarrc__codec_packbits, zarrc__codec_vlen_utf8, zarrc__codec_vlen_bytes,
    zarrc__codec_sharding, zarrc__codec_packbits_v3,
    zarrc__codec_reshape, zarrc__codec_squeeze, zarrc__codec_scale_offset,
    zarrc__codec_vlen_v2, zarrc__codec_zfp, zarrc__codec_zfpy,
    zarrc__codec_cast_value, zarrc__codec_vlen_array, zarrc__codec_json2, zarrc__codec_msgpack2,
    zarrc__codec_zarrs_vlen, zarrc__codec_optional;

static const zarrc_codec_type *const builtins[] = {
    &zarrc__codec_bytes, &zarrc__codec_transpose, &zarrc__codec_blosc, &zarrc__codec_gzip,
    &zarrc__codec_zlib, &zarrc__codec_zstd, &zarrc__codec_lz4, &zarrc__codec_bz2,
    &zarrc__codec_lzma, &zarrc__codec_crc32c, &zarrc__codec_adler32, &zarrc__codec_crc32,
    &zarrc__codec_fletcher32, &zarrc__codec_delta, &zarrc__codec_shuffle,
    &zarrc__codec_fixedscaleoffset, &zarrc__codec_quantize, &zarrc__codec_bitround,
    &zarrc__codec_astype, &zarrc__codec_packbits, &zarrc__codec_vlen_utf8,
    &zarrc__codec_vlen_bytes, &zarrc__codec_sharding, &zarrc__codec_packbits_v3,
    &zarrc__codec_reshape, &zarrc__codec_squeeze, &zarrc__codec_scale_offset,
    &zarrc__codec_vlen_v2, &zarrc__codec_zfp, &zarrc__codec_zfpy,
    &zarrc__codec_cast_value, &zarrc__codec_vlen_array, &zarrc__codec_json2, &zarrc__codec_msgpack2,
    &zarrc__codec_zarrs_vlen, &zarrc__codec_optional,
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static const zarrc_codec_type **plugins;
static size_t nplugins;

int zarrc_codec_register(const zarrc_codec_type *type)
{
    zarrc__error_clear();
    if (!type || type->version != ZARRC_CODEC_TYPE_VERSION || !type->name || !type->create ||
        !type->encode || !type->decode || !type->to_json)
        return zarrc_error_set(ZARRC_EINVAL, "codec type is incomplete or of another version");
    pthread_rwlock_wrlock(&lock);
    const zarrc_codec_type **p = zarrc__realloc(plugins, (nplugins + 1) * sizeof *p);
    if (!p) {
        pthread_rwlock_unlock(&lock);
        return ZARRC_ENOMEM;
    }
    plugins = p;
    plugins[nplugins++] = type;
    pthread_rwlock_unlock(&lock);
    return ZARRC_OK;
}

static bool matches_v3(const zarrc_codec_type *t, const char *name)
{
    if (!strcmp(t->name, name))
        return true;
    for (const char *const *a = t->aliases; a && *a; a++)
        if (!strcmp(*a, name))
            return true;
    return !strncmp(name, "numcodecs.", 10) && t->v2_id && !strcmp(t->v2_id, name + 10);
}

static const zarrc_codec_type *find(const char *key, bool v3)
{
    const zarrc_codec_type *hit = NULL;
    if (!key)
        return NULL;
    pthread_rwlock_rdlock(&lock);
    for (size_t i = nplugins; i-- > 0 && !hit;)
        if (v3 ? matches_v3(plugins[i], key) : (plugins[i]->v2_id && !strcmp(plugins[i]->v2_id, key)))
            hit = plugins[i];
    pthread_rwlock_unlock(&lock);
    for (size_t i = 0; i < sizeof builtins / sizeof *builtins && !hit; i++)
        if (v3 ? matches_v3(builtins[i], key) : (builtins[i]->v2_id && !strcmp(builtins[i]->v2_id, key)))
            hit = builtins[i];
    return hit;
}

const zarrc_codec_type *zarrc__codec_find_v3(const char *name) { return find(name, true); }

const zarrc_codec_type *zarrc__codec_find_v2(const char *id) { return find(id, false); }

/* Registered or widely written codecs zarrc knows of but does not implement, with the reason
 * (docs/compatibility.md, "Decided, with reasons"). */
static const struct {
    const char *name, *why;
} unsupported[] = {
    {"numcodecs.pcodec", "pcodec's only implementation is the Rust 'pco' crate (no C library, no byte-level "
                         "format specification)"},
    {"pcodec", "pcodec's only implementation is the Rust 'pco' crate (no C library, no byte-level format "
               "specification)"},
    {"zarrs.gdeflate", "GDeflate exists only as NVIDIA's bundled C++ code (no Debian library, no format "
                       "specification)"},
    {"pickle", "pickled objects are Python-only (not portable) and unpickling data runs arbitrary code "
               "(unsafe); rewrite the array with json2, msgpack2 or vlen-array"},
    {"numcodecs.pickle", "pickled objects are Python-only (not portable) and unpickling data runs arbitrary "
                         "code (unsafe); rewrite the array with json2, msgpack2 or vlen-array"},
};

const char *zarrc__codec_unsupported_reason(const char *name)
{
    for (size_t i = 0; name && i < sizeof unsupported / sizeof *unsupported; i++)
        if (!strcmp(unsupported[i].name, name))
            return unsupported[i].why;
    return NULL;
}
