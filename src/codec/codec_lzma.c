/*
 * codec_lzma.c — numcodecs "lzma" through liblzma: format 1 .xz, 2 legacy .lzma ("alone"),
 * 3 raw with an explicit filter chain, 0 auto-detect (decode only). Filter dicts follow
 * Python's lzma module: {"id": N, ...} with LZMA1/LZMA2, delta and BCJ options.
 */
#include <stdlib.h>

#include <lzma.h>

#include "codec.h"

/* Decoder memory limit (dictionary): preset 9 needs ~65 MiB. */
#define DECODER_MEMLIMIT ((uint64_t)1 << 30)

enum { FMT_AUTO = 0, FMT_XZ = 1, FMT_ALONE = 2, FMT_RAW = 3 };

/* Options of one filter; has_* records which keys the configuration gave. */
enum {
    K_PRESET, K_DICT_SIZE, K_LC, K_LP, K_PB, K_MODE, K_NICE_LEN, K_MF, K_DEPTH, K_DIST,
    K_START_OFFSET, K_COUNT
};
static const char *const key_names[K_COUNT] = {"preset", "dict_size", "lc", "lp", "pb", "mode",
                                               "nice_len", "mf", "depth", "dist", "start_offset"};

typedef struct lz_filter {
    uint64_t id;
    bool has[K_COUNT];
    uint32_t val[K_COUNT];
} lz_filter;

typedef struct lzma_state {
    int format;
    int check;
    bool has_preset;
    uint32_t preset;
    bool has_filters;
    size_t nfilters;
    lz_filter filters[LZMA_FILTERS_MAX];
} lzma_state;

/* A liblzma filter chain built from the parsed options (options live here, per call). */
typedef struct chain {
    lzma_filter f[LZMA_FILTERS_MAX + 1];
    union {
        lzma_options_lzma lzma;
        lzma_options_delta delta;
        lzma_options_bcj bcj;
    } opt[LZMA_FILTERS_MAX];
} chain;

static bool is_lzma(uint64_t id) { return id == LZMA_FILTER_LZMA1 || id == LZMA_FILTER_LZMA2; }

static bool is_bcj(uint64_t id)
{
    return id == LZMA_FILTER_X86 || id == LZMA_FILTER_POWERPC || id == LZMA_FILTER_IA64 ||
           id == LZMA_FILTER_ARM || id == LZMA_FILTER_ARMTHUMB || id == LZMA_FILTER_SPARC ||
           id == LZMA_FILTER_ARM64;
}

static bool key_allowed(uint64_t id, int k)
{
    if (is_lzma(id))
        return k <= K_DEPTH;
    if (id == LZMA_FILTER_DELTA)
        return k == K_DIST;
    return k == K_START_OFFSET;
}

static int build_chain(chain *c, const lzma_state *s)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < s->nfilters; i++) {
        const lz_filter *f = &s->filters[i];
        c->f[i].id = f->id;
        c->f[i].options = &c->opt[i];
        if (is_lzma(f->id)) {
            lzma_options_lzma *o = &c->opt[i].lzma;
            uint32_t preset = f->has[K_PRESET] ? f->val[K_PRESET] : LZMA_PRESET_DEFAULT;
            if (lzma_lzma_preset(o, preset))
                return zarrc_error_set(ZARRC_EINVAL, "invalid lzma filter preset %u", preset);
            if (f->has[K_DICT_SIZE]) o->dict_size = f->val[K_DICT_SIZE];
            if (f->has[K_LC]) o->lc = f->val[K_LC];
            if (f->has[K_LP]) o->lp = f->val[K_LP];
            if (f->has[K_PB]) o->pb = f->val[K_PB];
            if (f->has[K_MODE]) o->mode = (lzma_mode)f->val[K_MODE];
            if (f->has[K_NICE_LEN]) o->nice_len = f->val[K_NICE_LEN];
            if (f->has[K_MF]) o->mf = (lzma_match_finder)f->val[K_MF];
            if (f->has[K_DEPTH]) o->depth = f->val[K_DEPTH];
        } else if (f->id == LZMA_FILTER_DELTA) {
            c->opt[i].delta.type = LZMA_DELTA_TYPE_BYTE;
            c->opt[i].delta.dist = f->has[K_DIST] ? f->val[K_DIST] : 1;
        } else {
            c->opt[i].bcj.start_offset = f->has[K_START_OFFSET] ? f->val[K_START_OFFSET] : 0;
        }
    }
    c->f[s->nfilters].id = LZMA_VLI_UNKNOWN;
    return ZARRC_OK;
}

static int parse_filter(lz_filter *f, const zarrc_json *v, size_t index)
{
    memset(f, 0, sizeof *f);
    if (zarrc_json_typeof(v) != ZARRC_JSON_OBJECT)
        return zarrc_error_set(ZARRC_EINVAL, "'filters'[%zu] must be an object", index);
    json_object_object_foreach(ZJ(v), key, val) {
        int64_t x;
        if (!strcmp(key, "id")) {
            int64_t i;
            if (zarrc_json_int(ZJC(val), &i) != ZARRC_OK || i < 0)
                return zarrc_error_set(ZARRC_EINVAL, "'filters'[%zu].id must be an integer",
                                       index);
            f->id = (uint64_t)i;
            continue;
        }
        int k = 0;
        while (k < K_COUNT && strcmp(key, key_names[k]))
            k++;
        if (k == K_COUNT)
            return zarrc_error_set(ZARRC_EINVAL, "'filters'[%zu]: unknown option '%s'", index,
                                   key);
        if (zarrc_json_int(ZJC(val), &x) != ZARRC_OK || x < 0 || x > UINT32_MAX)
            return zarrc_error_set(ZARRC_EINVAL,
                                   "'filters'[%zu].%s must be an integer 0..4294967295", index,
                                   key);
        f->has[k] = true;
        f->val[k] = (uint32_t)x;
    }
    if (!is_lzma(f->id) && f->id != LZMA_FILTER_DELTA && !is_bcj(f->id))
        return zarrc_error_set(f->id ? ZARRC_EUNSUPPORTED : ZARRC_EINVAL,
                               "'filters'[%zu]: unsupported or missing filter id %llu", index,
                               (unsigned long long)f->id);
    for (int k = 0; k < K_COUNT; k++)
        if (f->has[k] && !key_allowed(f->id, k))
            return zarrc_error_set(ZARRC_EINVAL, "'filters'[%zu]: option '%s' does not apply to "
                                   "filter %llu", index, key_names[k], (unsigned long long)f->id);
    return ZARRC_OK;
}

static int lzma_create(void **state, const zarrc_json *config, const zarrc_codec_init *init)
{
    int64_t format, check, preset;
    int rc;
    if ((rc = zarrc_json_opt_int(config, "format", FMT_XZ, &format)) ||
        (rc = zarrc_json_opt_int(config, "check", -1, &check)) ||
        (rc = zarrc_json_opt_int(config, "preset", -1, &preset)))
        return rc;
    if (format < 0 || format > 3)
        return zarrc_error_set(ZARRC_EINVAL, "'format' must be 0 (auto), 1 (xz), 2 (alone) or 3 "
                               "(raw), got %lld", (long long)format);
    if (check != -1 && check != LZMA_CHECK_NONE && check != LZMA_CHECK_CRC32 &&
        check != LZMA_CHECK_CRC64 && check != LZMA_CHECK_SHA256)
        return zarrc_error_set(ZARRC_EINVAL, "'check' must be -1, 0, 1, 4 or 10, got %lld",
                               (long long)check);
    if (format != FMT_XZ && check != -1 && check != LZMA_CHECK_NONE)
        return zarrc_error_set(ZARRC_EINVAL, "'check' is only supported with format 1 (xz)");
    bool has_preset = zarrc_json_typeof(zarrc_json_member(config, "preset")) != ZARRC_JSON_NULL;
    if (has_preset && (preset < 0 || preset > UINT32_MAX ||
                       ((preset & ~(int64_t)LZMA_PRESET_EXTREME) > 9)))
        return zarrc_error_set(ZARRC_EINVAL, "'preset' must be 0-9 (optionally | 0x80000000), "
                               "got %lld", (long long)preset);

    lzma_state *s = zarrc__calloc(1, sizeof *s);
    if (!s)
        return ZARRC_ENOMEM;
    s->format = (int)format;
    s->check = (int)check;
    s->has_preset = has_preset;
    s->preset = has_preset ? (uint32_t)preset : 0;
    const zarrc_json *fl = zarrc_json_member(config, "filters");
    if (zarrc_json_typeof(fl) != ZARRC_JSON_NULL) {
        if (zarrc_json_typeof(fl) != ZARRC_JSON_ARRAY) {
            rc = zarrc_error_set(ZARRC_EINVAL, "'filters' must be null or a list of objects");
            goto fail;
        }
        s->has_filters = true;
        s->nfilters = zarrc_json_length(fl);
        if (s->nfilters == 0 || s->nfilters > LZMA_FILTERS_MAX) {
            rc = zarrc_error_set(ZARRC_EINVAL, "'filters' must hold 1-%d filters",
                                 LZMA_FILTERS_MAX);
            goto fail;
        }
        for (size_t i = 0; i < s->nfilters; i++)
            if ((rc = parse_filter(&s->filters[i], zarrc_json_at(fl, i), i)))
                goto fail;
    }
    if (s->has_filters && has_preset) {
        rc = zarrc_error_set(ZARRC_EINVAL, "'preset' and 'filters' cannot both be given");
        goto fail;
    }
    if (s->format == FMT_RAW && !s->has_filters) {
        rc = zarrc_error_set(ZARRC_EINVAL, "format 3 (raw) needs 'filters'");
        goto fail;
    }
    if (s->format == FMT_ALONE && s->has_filters &&
        (s->nfilters != 1 || s->filters[0].id != LZMA_FILTER_LZMA1)) {
        rc = zarrc_error_set(ZARRC_EINVAL, "format 2 (alone) takes exactly one LZMA1 filter");
        goto fail;
    }
    if (s->has_filters) {
        chain c;
        if ((rc = build_chain(&c, s)))
            goto fail;
        if (lzma_raw_encoder_memusage(c.f) == UINT64_MAX) {
            rc = zarrc_error_set(ZARRC_EINVAL, "'filters' is not a valid liblzma filter chain");
            goto fail;
        }
    }
    *state = s;
    return ZARRC_OK;
fail:
    free(s);
    return rc;
}

static void lzma_destroy(void *state) { free(state); }

static int lzma_to_json(const void *state, int format, zarrc_json *config)
{
    const lzma_state *s = state;
    int rc;
    if ((rc = zarrc_json_put_int(config, "format", s->format)) ||
        (rc = zarrc_json_put_int(config, "check", s->check)))
        return rc;
    rc = s->has_preset ? zarrc_json_put_int(config, "preset", s->preset)
                       : zarrc_json_put_null(config, "preset");
    if (rc)
        return rc;
    if (!s->has_filters)
        return zarrc_json_put_null(config, "filters");
    json_object *list = json_object_new_array();
    if (!list)
        return zarrc__enomem();
    for (size_t i = 0; i < s->nfilters; i++) {
        json_object *o = json_object_new_object();
        if (!o || json_object_array_add(list, o)) {
            json_object_put(o);
            json_object_put(list);
            return zarrc__enomem();
        }
        rc = zarrc_json_put_int((zarrc_json *)o, "id", (int64_t)s->filters[i].id);
        for (int k = 0; k < K_COUNT && !rc; k++)
            if (s->filters[i].has[k])
                rc = zarrc_json_put_int((zarrc_json *)o, key_names[k], s->filters[i].val[k]);
        if (rc) {
            json_object_put(list);
            return rc;
        }
    }
    if (json_object_object_add(ZJ(config), "filters", list)) {
        json_object_put(list);
        return zarrc__enomem();
    }
    return ZARRC_OK;
}

static int lzma_err(lzma_ret r, const char *what)
{
    switch (r) {
    case LZMA_MEM_ERROR:
        return zarrc__enomem();
    case LZMA_MEMLIMIT_ERROR:
        return zarrc_error_set(ZARRC_ECORRUPT, "%s: the header asks for more than %llu MiB of "
                               "memory", what, (unsigned long long)(DECODER_MEMLIMIT >> 20));
    case LZMA_OPTIONS_ERROR:
        return zarrc_error_set(ZARRC_EINVAL, "%s: unsupported options", what);
    case LZMA_FORMAT_ERROR:
        return zarrc_error_set(ZARRC_ECORRUPT, "%s: not in the expected format", what);
    case LZMA_DATA_ERROR:
        return zarrc_error_set(ZARRC_ECORRUPT, "%s: corrupt data", what);
    case LZMA_BUF_ERROR:
        return zarrc_error_set(ZARRC_ECORRUPT, "%s: truncated data", what);
    default:
        return zarrc_error_set(ZARRC_ECORRUPT, "%s failed (liblzma code %d)", what, (int)r);
    }
}

/* Run `strm` with LZMA_FINISH over all of `in`, writing into `out` up to `limit` bytes; when
 * `limit` is reached, any further output is an error (`exact` names the expected size). */
static int run(lzma_stream *strm, const uint8_t *in, size_t n, zarrc_buf *out, size_t limit,
               bool exact, const char *what)
{
    strm->next_in = in;
    strm->avail_in = n;
    size_t produced = 0;
    uint8_t probe;
    for (;;) {
        bool probing = false;
        size_t room = out->capacity < limit ? out->capacity : limit;
        if (produced >= room) {
            if (out->capacity < limit) {
                size_t cap = out->capacity ? out->capacity * 2 : 64;
                int rc = zarrc_buf_reserve(out, cap < limit ? cap : limit);
                if (rc)
                    return rc;
                room = out->capacity < limit ? out->capacity : limit;
            } else
                probing = true;
        }
        strm->next_out = probing ? &probe : out->data + produced;
        strm->avail_out = probing ? 1 : room - produced;
        size_t ao = strm->avail_out;
        lzma_ret r = lzma_code(strm, LZMA_FINISH);
        size_t got = ao - strm->avail_out;
        if (probing && got)
            return exact ? zarrc_error_set(ZARRC_ECORRUPT, "%s: data decodes to more than the "
                                           "expected %zu bytes", what, limit)
                         : zarrc__codec_limit_error(limit);
        if (!probing)
            produced += got;
        if (r == LZMA_STREAM_END)
            break;
        if (r == LZMA_OK)
            continue;
        if (r == LZMA_BUF_ERROR && strm->avail_out == 0)
            continue; /* output full: grow or probe */
        return lzma_err(r, what);
    }
    out->size = produced;
    return ZARRC_OK;
}

static int lzma_encode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                       size_t in_size, zarrc_buf *out)
{
    const lzma_state *s = state;
    lzma_stream strm = LZMA_STREAM_INIT;
    chain c;
    lzma_ret r;
    int rc;
    uint32_t preset = s->has_preset ? s->preset : LZMA_PRESET_DEFAULT;
    if (s->has_filters && (rc = build_chain(&c, s)))
        return rc;
    switch (s->format) {
    case FMT_XZ: {
        lzma_check check = s->check == -1 ? LZMA_CHECK_CRC64 : (lzma_check)s->check;
        r = s->has_filters ? lzma_stream_encoder(&strm, c.f, check)
                           : lzma_easy_encoder(&strm, preset, check);
        break;
    }
    case FMT_ALONE: {
        lzma_options_lzma opt;
        if (s->has_filters)
            opt = c.opt[0].lzma;
        else if (lzma_lzma_preset(&opt, preset))
            return zarrc_error_set(ZARRC_EINVAL, "invalid lzma preset %u", preset);
        r = lzma_alone_encoder(&strm, &opt);
        break;
    }
    case FMT_RAW:
        r = lzma_raw_encoder(&strm, c.f);
        break;
    default:
        return zarrc_error_set(ZARRC_EINVAL, "format 0 (auto) can only decode; choose format 1, "
                               "2 or 3 to encode");
    }
    if (r != LZMA_OK)
        return lzma_err(r, "lzma encoder");
    size_t bound = lzma_stream_buffer_bound(in_size);
    if (bound && (rc = zarrc_buf_reserve(out, bound))) {
        lzma_end(&strm);
        return rc;
    }
    rc = run(&strm, in, in_size, out, bound ? bound + 4096 : SIZE_MAX, false, "lzma encoder");
    lzma_end(&strm);
    if (rc == ZARRC_ECORRUPT)
        return zarrc_error_set(ZARRC_EINTERNAL, "lzma compression failed");
    return rc;
}

static int lzma_decode(const void *state, const zarrc_codec_call *call, const uint8_t *in,
                       size_t in_size, zarrc_buf *out)
{
    const lzma_state *s = state;
    lzma_stream strm = LZMA_STREAM_INIT;
    chain c;
    lzma_ret r;
    int rc;
    switch (s->format) {
    case FMT_AUTO:
        r = lzma_auto_decoder(&strm, DECODER_MEMLIMIT, LZMA_CONCATENATED);
        break;
    case FMT_XZ:
        r = lzma_stream_decoder(&strm, DECODER_MEMLIMIT, LZMA_CONCATENATED);
        break;
    case FMT_ALONE:
        r = lzma_alone_decoder(&strm, DECODER_MEMLIMIT);
        break;
    default:
        if ((rc = build_chain(&c, s)))
            return rc;
        r = lzma_raw_decoder(&strm, c.f);
        break;
    }
    if (r != LZMA_OK)
        return lzma_err(r, "lzma decoder");
    size_t want = call->decoded_size;
    if (want && (rc = zarrc_buf_reserve(out, want))) {
        lzma_end(&strm);
        return rc;
    }
    rc = run(&strm, in, in_size, out, want ? want : call->max_size, want != 0, "lzma");
    lzma_end(&strm);
    if (rc)
        return rc;
    if (want && out->size != want)
        return zarrc_error_set(ZARRC_ECORRUPT, "decoded %zu bytes, expected %zu", out->size, want);
    return ZARRC_OK;
}

const zarrc_codec_type zarrc__codec_lzma = {
    ZARRC_CODEC_TYPE_VERSION, "numcodecs.lzma", "lzma", NULL, ZARRC_CODEC_BYTES_TO_BYTES,
    lzma_create, lzma_destroy, lzma_to_json, lzma_encode, lzma_decode,
};
