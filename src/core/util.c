/* util.c — memory, strings, buffers, base64, byte order and number formatting. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "core.h"

/* ---- allocation failure hook (tests only; see core.h) ----
 * alloc_countdown: 0 = off (the only cost then is one relaxed load per allocation), n > 0 = the
 * n-th allocation from now fails, -1 = every allocation fails (persistent mode, after firing). */
static long alloc_countdown;
static long alloc_persistent, alloc_fired;

void zarrc__alloc_fail_after(long n, bool persistent)
{
    __atomic_store_n(&alloc_persistent, persistent ? 1 : 0, __ATOMIC_RELAXED);
    __atomic_store_n(&alloc_fired, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&alloc_countdown, n > 0 ? n : 0, __ATOMIC_SEQ_CST);
}

long zarrc__alloc_failures(void) { return __atomic_load_n(&alloc_fired, __ATOMIC_SEQ_CST); }

static bool alloc_refused(void)
{
    long v = __atomic_load_n(&alloc_countdown, __ATOMIC_RELAXED);
    if (__builtin_expect(v == 0, 1))
        return false;
    while (v > 0) { /* count down; the allocation that takes it from 1 fails */
        long next = v > 1 ? v - 1 : __atomic_load_n(&alloc_persistent, __ATOMIC_RELAXED) ? -1 : 0;
        if (__atomic_compare_exchange_n(&alloc_countdown, &v, next, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            if (v > 1)
                return false;
            v = -1;
        }
    }
    if (v == 0)
        return false;
    __atomic_add_fetch(&alloc_fired, 1, __ATOMIC_RELAXED);
    return true;
}

void *zarrc__try_malloc(size_t n) { return alloc_refused() ? NULL : malloc(n ? n : 1); }

void *zarrc__try_calloc(size_t n, size_t size)
{
    return alloc_refused() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *zarrc__malloc(size_t n)
{
    void *p = zarrc__try_malloc(n);
    if (!p)
        zarrc__enomem();
    return p;
}

void *zarrc__calloc(size_t n, size_t size)
{
    void *p = zarrc__try_calloc(n, size);
    if (!p)
        zarrc__enomem();
    return p;
}

void *zarrc__realloc(void *p, size_t n)
{
    void *q = alloc_refused() ? NULL : realloc(p, n ? n : 1);
    if (!q)
        zarrc__enomem();
    return q;
}

char *zarrc__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = zarrc__malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

char *zarrc__sprintf(const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? zarrc__malloc((size_t)n + 1) : NULL;
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}

bool zarrc__mul_size(size_t a, size_t b, size_t *out)
{
    if (a && b > SIZE_MAX / a)
        return false;
    *out = a * b;
    return true;
}

char *zarrc__path_join(const char *path, const char *key)
{
    if (!path || !*path)
        return zarrc__strdup(key);
    return zarrc__sprintf("%s/%s", path, key);
}

bool zarrc__env_flag(const char *name, int *cache)
{
    int v = __atomic_load_n(cache, __ATOMIC_RELAXED);
    if (v < 0) {
        const char *env = getenv(name);
        v = env && *env && strcmp(env, "0");
        __atomic_store_n(cache, v, __ATOMIC_RELAXED);
    }
    return v;
}

void zarrc__advise_huge_pages(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    static int cached = -1;
    bool disabled = zarrc__env_flag("ZARRC_NO_HUGEPAGES", &cached);
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t first = ((uintptr_t)p + huge - 1) & ~(huge - 1), end = ((uintptr_t)p + n) & ~(huge - 1);
    if (!disabled && n >= 2 * huge && end > first)
        madvise((void *)first, end - first, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

/* Buffers from this size up are advised to use transparent huge pages: the per-thread chunk
 * buffers (tens of MiB for large chunks) are fresh memory the first time, faulted in 4 KiB
 * at a time otherwise. */
#define BUF_HUGE_FROM ((size_t)4 << 20)

int zarrc_buf_reserve(zarrc_buf *b, size_t n)
{
    if (n <= b->capacity)
        return ZARRC_OK;
    if (b->borrowed)
        return zarrc_error_set(ZARRC_ECORRUPT,
                               "decoded data is larger than expected (%zu bytes, room for %zu)", n,
                               b->capacity);
    size_t cap = b->capacity ? b->capacity : 64;
    while (cap < n)
        cap = cap > SIZE_MAX / 2 ? n : cap * 2;
    uint8_t *p = zarrc__realloc(b->data, cap);
    if (!p)
        return ZARRC_ENOMEM;
    b->data = p;
    b->capacity = cap;
    if (cap >= BUF_HUGE_FROM)
        zarrc__advise_huge_pages(p, cap);
    return ZARRC_OK;
}

int zarrc__buf_reserve_exact(zarrc_buf *b, size_t n)
{
    if (n <= b->capacity)
        return ZARRC_OK;
    if (b->borrowed)
        return zarrc_buf_reserve(b, n); /* (its error) */
    uint8_t *p = zarrc__realloc(b->data, n);
    if (!p)
        return ZARRC_ENOMEM;
    b->data = p;
    b->capacity = n;
    return ZARRC_OK;
}

void zarrc_buf_release(zarrc_buf *b)
{
    if (!b)
        return;
    if (!b->borrowed)
        free(b->data);
    b->data = NULL;
    b->size = b->capacity = 0;
    b->borrowed = 0;
}

int zarrc__buf_append(zarrc_buf *b, const void *data, size_t n)
{
    if (b->size + n < b->size)
        return zarrc__enomem();
    int rc = zarrc_buf_reserve(b, b->size + n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->size, data, n);
    b->size += n;
    return ZARRC_OK;
}

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *zarrc__base64_encode(const uint8_t *d, size_t n)
{
    char *out = zarrc__malloc((n + 2) / 3 * 4 + 1), *o = out;
    if (!out)
        return NULL;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
        *o++ = b64[v >> 18];
        *o++ = b64[(v >> 12) & 63];
        *o++ = b64[(v >> 6) & 63];
        *o++ = b64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0);
        *o++ = b64[v >> 18];
        *o++ = b64[(v >> 12) & 63];
        *o++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

int zarrc__base64_decode(uint8_t **out, size_t *n, const char *text)
{
    size_t len = strlen(text);
    while (len && text[len - 1] == '=')
        len--;
    uint8_t *o = zarrc__malloc(len * 3 / 4 + 3);
    if (!o)
        return ZARRC_ENOMEM;
    size_t k = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64val(text[i]);
        if (v < 0) {
            free(o);
            return zarrc_error_set(ZARRC_EINVAL, "invalid base64 text");
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[k++] = (uint8_t)(acc >> bits);
        }
    }
    if (len % 4 == 1) { /* a lone 6-bit group cannot end valid base64 */
        free(o);
        return zarrc_error_set(ZARRC_EINVAL, "invalid base64 text (truncated)");
    }
    *out = o;
    *n = k;
    return ZARRC_OK;
}

/* ---- byte order ---- */

bool zarrc__host_big_endian(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 0;
}

void zarrc__byteswap(void *buf, size_t nwords, size_t width)
{
    uint8_t *p = buf;
    switch (width) {
    case 1:
        return;
    case 2:
        for (size_t i = 0; i < nwords; i++) {
            uint16_t v;
            memcpy(&v, p + 2 * i, 2);
            v = __builtin_bswap16(v);
            memcpy(p + 2 * i, &v, 2);
        }
        return;
    case 4:
        for (size_t i = 0; i < nwords; i++) {
            uint32_t v;
            memcpy(&v, p + 4 * i, 4);
            v = __builtin_bswap32(v);
            memcpy(p + 4 * i, &v, 4);
        }
        return;
    case 8:
        for (size_t i = 0; i < nwords; i++) {
            uint64_t v;
            memcpy(&v, p + 8 * i, 8);
            v = __builtin_bswap64(v);
            memcpy(p + 8 * i, &v, 8);
        }
        return;
    default:
        for (size_t i = 0; i < nwords; i++) {
            uint8_t *w = p + i * width;
            for (size_t a = 0, b = width - 1; a < b; a++, b--) {
                uint8_t t = w[a];
                w[a] = w[b];
                w[b] = t;
            }
        }
    }
}

/* ---- shortest round-trip number text ---- */

static void tidy_number(char *buf)
{
    /* Make integral values read as floats where printf dropped the point ("1" -> "1.0"). */
    if (!strpbrk(buf, ".eEn") && strlen(buf) < 28)
        strcat(buf, ".0");
}

void zarrc__fmt_double(char *buf, double d)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    tidy_number(buf);
}

void zarrc__fmt_float(char *buf, float f)
{
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, 32, "%.*g", prec, (double)f);
        if (strtof(buf, NULL) == f)
            break;
    }
    tidy_number(buf);
}

/* ---- half floats ---- */

double zarrc_half_to_double(uint16_t h)
{
    int sign = h >> 15, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    double v;
    if (exp == 0)
        v = ldexp(man, -24);
    else if (exp == 31)
        v = man ? NAN : INFINITY;
    else
        v = ldexp(man | 0x400, exp - 25);
    return sign ? -v : v;
}

uint16_t zarrc_double_to_half(double d)
{
    /* Rounds once, from the double (going through float first would round twice). */
    uint16_t sign = signbit(d) ? 0x8000 : 0;
    double a = fabs(d);
    if (isnan(d))
        return sign | 0x7e00;
    if (a >= 65520.0) /* the midpoint above the largest half rounds (to even) to infinity */
        return sign | 0x7c00;
    if (a < 0x1p-14) /* subnormal: units of 2^-24; 1024 units is the smallest normal */
        return sign | (uint16_t)nearbyint(a * 0x1p24);
    int e;
    frexp(a, &e); /* a = f * 2^e, f in [0.5, 1) */
    double q = nearbyint(ldexp(a, 11 - e)); /* 11 significant bits: [1024, 2048] */
    return sign | (uint16_t)((((unsigned)(e + 14)) << 10) + ((unsigned)q - 1024));
}
