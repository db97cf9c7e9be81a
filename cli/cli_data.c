/*
 * cli_data.c — array data as JSON text and raw bytes, both directions.
 *
 * JSON form (docs/cli.md): a flat C-order list; floats in shortest round-trip text, NaN and
 * infinities as the strings "NaN", "Infinity", "-Infinity"; complex as [re, im]; raw, fixed
 * and variable bytes as base64 strings; strings as strings; datetimes as int64.
 * Input is parsed by a small streaming reader so that large inputs convert element by element
 * (no document tree) and malformed input is refused at the first bad byte.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "zarrc_plugin.h" /* half-float conversions */
#include "cli_struct.h"

/* ------------------------------------------------------------------------------------------ */
/* Types and byte order                                                                        */
/* ------------------------------------------------------------------------------------------ */

int cli_dtype_is_vlen(const zarrc_dtype_info *dt)
{
    return dt->kind == ZARRC_DTYPE_STRING || dt->kind == ZARRC_DTYPE_VBYTES || dt->kind == ZARRC_DTYPE_OBJECT ||
           cli_dtype_is_optional_vlen(dt);
}

int cli_dtype_is_optional_vlen(const zarrc_dtype_info *dt)
{
    return dt->kind == ZARRC_DTYPE_OPTIONAL && dt->item_size == 0 && dt->inner &&
           (dt->inner->kind == ZARRC_DTYPE_STRING || dt->inner->kind == ZARRC_DTYPE_VBYTES);
}

int cli_host_little_endian(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Bytes per byte-order unit (1 = order does not matter). */
size_t cli_swap_width(const zarrc_dtype_info *dt)
{
    switch (dt->kind) {
    case ZARRC_DTYPE_INT:
    case ZARRC_DTYPE_UINT:
    case ZARRC_DTYPE_FLOAT:
    case ZARRC_DTYPE_DATETIME:
    case ZARRC_DTYPE_TIMEDELTA: return dt->item_size;
    case ZARRC_DTYPE_COMPLEX: return dt->item_size / 2;
    case ZARRC_DTYPE_UTF32: return 4;
    default: return 1;
    }
}

void cli_swap_units(uint8_t *p, size_t nbytes, size_t width)
{
    if (width < 2)
        return;
    for (size_t i = 0; i + width <= nbytes; i += width)
        for (size_t a = 0, b = width - 1; a < b; a++, b--) {
            uint8_t t = p[i + a];
            p[i + a] = p[i + b];
            p[i + b] = t;
        }
}

/* ------------------------------------------------------------------------------------------ */
/* Numbers                                                                                     */
/* ------------------------------------------------------------------------------------------ */

static double bf16_to_double(uint16_t h)
{
    uint32_t b = (uint32_t)h << 16;
    float f;
    memcpy(&f, &b, 4);
    return f;
}

static uint16_t double_to_bf16(double d)
{
    float f = (float)d;
    uint32_t b;
    memcpy(&b, &f, 4);
    if ((b & 0x7fffffff) > 0x7f800000)
        return (uint16_t)((b >> 16) | 0x40);
    b += 0x7fff + ((b >> 16) & 1); /* round to nearest even */
    return (uint16_t)(b >> 16);
}

/* Width code of a floating type's component of `size` bytes: its byte size, 3 for bfloat16
 * (and complex_bfloat16's parts), 1 for the 8/6/4-bit floats (format from the type name). */
static int cli_float_width(const zarrc_dtype_info *dt, size_t size)
{
    return strcmp(dt->name, "bfloat16") && strcmp(dt->name, "complex_bfloat16") ? (int)size : 3;
}

/* Bits of a small float's code (its type name, or its complex variant's). */
static unsigned small_float_bits(const char *name)
{
    if (!strncmp(name, "complex_", 8))
        name += 8;
    return !strncmp(name, "float6", 6) ? 6u : !strncmp(name, "float4", 6) ? 4u : 8u;
}

void cli_format_float(char *buf, const void *p, int width);

/* A small float code as JSON: its shortest round-trip decimal, or "NaN" / "Infinity". */
static void format_small_float(char *buf, const char *name, uint8_t b)
{
    char txt[40];
    double d;
    if (zarrc_small_float_format(name, b, txt, sizeof txt)) {
        strcpy(buf, "null");
        return;
    }
    d = !strcmp(txt, "NaN") ? NAN : !strcmp(txt, "Infinity") ? INFINITY
        : !strcmp(txt, "-Infinity") ? -INFINITY : strtod(txt, NULL);
    cli_format_float(buf, &d, 8); /* the decimal is the shortest for the code: lay it out */
}

static int float_roundtrips(const char *s, const void *p, int width)
{
    if (width == 3) {
        uint16_t h = double_to_bf16(strtod(s, NULL));
        return memcmp(&h, p, 2) == 0;
    }
    if (width == 8) {
        double d = strtod(s, NULL);
        return memcmp(&d, p, 8) == 0;
    }
    if (width == 4) {
        float f = strtof(s, NULL);
        return memcmp(&f, p, 4) == 0;
    }
    uint16_t h = zarrc_double_to_half(strtod(s, NULL));
    return memcmp(&h, p, 2) == 0;
}

/* Lay out significant digits `dig` and decimal exponent `exp` (value = d.ddd * 10^exp) the
 * way Python's repr does: fixed notation for -4 <= exp < 16, else d.ddde+XX. */
static void layout_digits(char *out, int neg, const char *dig, int exp)
{
    size_t nd = strlen(dig);
    char *o = out;
    if (neg)
        *o++ = '-';
    if (exp >= -4 && exp < 16) {
        if (exp >= 0) {
            for (int i = 0; i <= exp; i++)
                *o++ = (size_t)i < nd ? dig[i] : '0';
            *o++ = '.';
            if (nd > (size_t)exp + 1)
                for (size_t i = (size_t)exp + 1; i < nd; i++)
                    *o++ = dig[i];
            else
                *o++ = '0';
        } else {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -exp - 1; i++)
                *o++ = '0';
            for (size_t i = 0; i < nd; i++)
                *o++ = dig[i];
        }
        *o = 0;
        return;
    }
    *o++ = dig[0];
    if (nd > 1) {
        *o++ = '.';
        for (size_t i = 1; i < nd; i++)
            *o++ = dig[i];
    }
    sprintf(o, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

/* Build "[-]d.ddde+X" from a digit string and exponent. */
static void sci_text(char *out, size_t n, int neg, const char *dig, int exp)
{
    snprintf(out, n, "%s%c%s%se%d", neg ? "-" : "", dig[0], dig[1] ? "." : "", dig + 1, exp);
}

/* Find a decimal of `prec` significant digits that reads back as the value (magnitude `a`,
 * sign `neg`, bits at p): the correctly rounded one, else its neighbour on the other side of
 * the value (needed at powers of two, where the round-trip interval is lopsided). On success
 * the digits (no dot) go to dig and the decimal exponent to *exp. */
static int try_digits(char *dig, int *exp, double a, int neg, const void *p, int width,
                      int prec)
{
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, a);
    size_t nd = 0;
    const char *s = tmp;
    for (; *s && *s != 'e'; s++)
        if (*s != '.')
            dig[nd++] = *s;
    dig[nd] = 0;
    *exp = atoi(s + 1);
    char txt[64];
    sci_text(txt, sizeof txt, neg, dig, *exp);
    if (float_roundtrips(txt, p, width))
        return 1;
    double back = strtod(tmp, NULL);
    if (back == a)
        return 0;
    /* The neighbour: the digit string as an integer, +-1 with carry into the exponent. */
    uint64_t m = strtoull(dig, NULL, 10), pow10 = 1;
    for (int i = 1; i < prec; i++)
        pow10 *= 10; /* 10^(prec-1): the smallest prec-digit integer */
    if (back < a) {
        if (++m == pow10 * 10) {
            m = pow10;
            ++*exp;
        }
    } else {
        if (m-- == pow10) {
            m = pow10 * 10 - 1;
            --*exp;
        }
    }
    if (m == 0)
        return 0;
    snprintf(dig, 32, "%llu", (unsigned long long)m);
    sci_text(txt, sizeof txt, neg, dig, *exp);
    return float_roundtrips(txt, p, width);
}

void cli_format_float(char *buf, const void *p, int width)
{
    double d;
    if (width == 8) {
        memcpy(&d, p, 8);
    } else if (width == 4) {
        float f;
        memcpy(&f, p, 4);
        d = f;
    } else {
        uint16_t h;
        memcpy(&h, p, 2);
        d = width == 3 ? bf16_to_double(h) : zarrc_half_to_double(h);
    }
    if (isnan(d)) {
        strcpy(buf, "\"NaN\"");
        return;
    }
    if (isinf(d)) {
        strcpy(buf, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    if (d == 0) {
        strcpy(buf, signbit(d) ? "-0.0" : "0.0");
        return;
    }
    /* "Some p-digit decimal reads back as the value" is monotone in p: binary search. */
    int neg = signbit(d) != 0, maxp = width == 8 ? 17 : width == 4 ? 9 : width == 3 ? 4 : 5;
    int lo = 1, hi = maxp, exp = 0, found = 0;
    char dig[32], try_dig[32];
    while (lo < hi) {
        int mid = (lo + hi) / 2, e;
        if (try_digits(try_dig, &e, fabs(d), neg, p, width, mid)) {
            memcpy(dig, try_dig, sizeof dig);
            exp = e;
            found = 1;
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    if (!found) /* the maximum digits always round-trip */
        try_digits(dig, &exp, fabs(d), neg, p, width, maxp);
    size_t nd = strlen(dig);
    while (nd > 1 && dig[nd - 1] == '0')
        dig[--nd] = 0;
    layout_digits(buf, neg, dig, exp);
}

/* ------------------------------------------------------------------------------------------ */
/* base64 and UTF-8                                                                            */
/* ------------------------------------------------------------------------------------------ */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void put_base64(FILE *out, const uint8_t *p, size_t n)
{
    char q[4];
    fputc('"', out);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        q[0] = b64_alphabet[(v >> 18) & 63];
        q[1] = b64_alphabet[(v >> 12) & 63];
        q[2] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? b64_alphabet[v & 63] : '=';
        fwrite(q, 1, 4, out);
    }
    fputc('"', out);
}

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decode base64 (padding optional) into out (capacity >= len * 3 / 4 + 3). Returns the
 * decoded length or -1. */
static long decode_base64(uint8_t *out, const char *s, size_t len)
{
    while (len && s[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)o;
}

/* Decode one UTF-8 sequence at s (n bytes available). Returns its length and the code point,
 * or 0 if invalid (overlong, surrogate, above U+10FFFF, truncated). */
static size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
    uint8_t c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

static size_t utf8_encode(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static void put_escaped_cp(FILE *out, uint32_t cp, const char *utf8, size_t len)
{
    switch (cp) {
    case '"': fputs("\\\"", out); return;
    case '\\': fputs("\\\\", out); return;
    case '\n': fputs("\\n", out); return;
    case '\r': fputs("\\r", out); return;
    case '\t': fputs("\\t", out); return;
    case '\b': fputs("\\b", out); return;
    case '\f': fputs("\\f", out); return;
    default:
        if (cp < 0x20)
            fprintf(out, "\\u%04x", (unsigned)cp);
        else
            fwrite(utf8, 1, len, out);
    }
}

/* A JSON string from UTF-8 bytes; invalid sequences become U+FFFD. */
static void put_json_utf8(FILE *out, const uint8_t *s, size_t n)
{
    fputc('"', out);
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = utf8_decode(s + i, n - i, &cp);
        if (!len) {
            fputs("\\ufffd", out);
            i++;
            continue;
        }
        put_escaped_cp(out, cp, (const char *)s + i, len);
        i += len;
    }
    fputc('"', out);
}

/* A JSON string from native UTF-32 code points, stopping at the first U+0000. */
static void put_json_utf32(FILE *out, const uint8_t *p, size_t ncp)
{
    fputc('"', out);
    for (size_t i = 0; i < ncp; i++) {
        uint32_t cp;
        memcpy(&cp, p + 4 * i, 4);
        if (cp == 0)
            break;
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            fputs("\\ufffd", out);
            continue;
        }
        char u[4];
        size_t len = utf8_encode(u, cp);
        put_escaped_cp(out, cp, u, len);
    }
    fputc('"', out);
}

/* ------------------------------------------------------------------------------------------ */
/* Output                                                                                      */
/* ------------------------------------------------------------------------------------------ */

static void put_element(FILE *out, const zarrc_dtype_info *dt, const uint8_t *p)
{
    char buf[48];
    switch (dt->kind) {
    case ZARRC_DTYPE_BOOL: fputs(p[0] ? "true" : "false", out); break;
    case ZARRC_DTYPE_INT:
    case ZARRC_DTYPE_DATETIME:
    case ZARRC_DTYPE_TIMEDELTA: {
        int64_t v;
        if (dt->item_size == 1) {
            int8_t x;
            memcpy(&x, p, 1);
            v = x;
        } else if (dt->item_size == 2) {
            int16_t x;
            memcpy(&x, p, 2);
            v = x;
        } else if (dt->item_size == 4) {
            int32_t x;
            memcpy(&x, p, 4);
            v = x;
        } else {
            memcpy(&v, p, 8);
        }
        fprintf(out, "%lld", (long long)v);
        break;
    }
    case ZARRC_DTYPE_UINT: {
        uint64_t v;
        if (dt->item_size == 1) {
            v = p[0];
        } else if (dt->item_size == 2) {
            uint16_t x;
            memcpy(&x, p, 2);
            v = x;
        } else if (dt->item_size == 4) {
            uint32_t x;
            memcpy(&x, p, 4);
            v = x;
        } else {
            memcpy(&v, p, 8);
        }
        fprintf(out, "%llu", (unsigned long long)v);
        break;
    }
    case ZARRC_DTYPE_FLOAT:
        if (dt->item_size == 1)
            format_small_float(buf, dt->name, p[0]);
        else
            cli_format_float(buf, p, cli_float_width(dt, dt->item_size));
        fputs(buf, out);
        break;
    case ZARRC_DTYPE_COMPLEX: {
        int w = (int)dt->item_size / 2, code = cli_float_width(dt, (size_t)w);
        fputc('[', out);
        for (int k = 0; k < 2; k++) {
            if (k)
                fputc(',', out);
            if (w == 1)
                format_small_float(buf, dt->name, p[k]);
            else
                cli_format_float(buf, p + k * w, code);
            fputs(buf, out);
        }
        fputc(']', out);
        break;
    }
    case ZARRC_DTYPE_RAW: put_base64(out, p, dt->item_size); break;
    case ZARRC_DTYPE_FIXED_BYTES: {
        size_t n = dt->item_size;
        while (n && p[n - 1] == 0) /* NumPy 'S' semantics: trailing NULs are padding */
            n--;
        put_base64(out, p, n);
        break;
    }
    case ZARRC_DTYPE_UTF32: put_json_utf32(out, p, dt->item_size / 4); break;
    case ZARRC_DTYPE_STRUCT: cli_struct_put_element(out, dt, p); break;
    case ZARRC_DTYPE_OPTIONAL: /* inner element + mask byte: null when missing */
        if (!dt->inner || !p[dt->item_size - 1]) {
            fputs("null", out);
        } else if (dt->inner->kind == ZARRC_DTYPE_OPTIONAL) { /* nested: [inner] as the fill value */
            fputc('[', out);
            put_element(out, dt->inner, p);
            fputc(']', out);
        } else {
            put_element(out, dt->inner, p);
        }
        break;
    default: fputs("null", out); break;
    }
}

int cli_data_print_json(FILE *out, const zarrc_dtype_info *dt, const void *data, int64_t n,
                        int out_ndim, const int64_t *out_shape)
{
    fputs("{\"shape\":[", out);
    for (int d = 0; d < out_ndim; d++)
        fprintf(out, "%s%lld", d ? "," : "", (long long)out_shape[d]);
    fputs("],\"dtype\":", out);
    put_json_utf8(out, (const uint8_t *)dt->name, strlen(dt->name));
    fputs(",\"data\":[", out);
    if (cli_dtype_is_vlen(dt)) {
        const zarrc_vlen *v = data;
        if (n > 0 && (v->count != n || !v->offsets || v->offsets[0] != 0 ||
                      v->offsets[n] > v->size))
            return cli_fail("internal error: malformed variable-length result");
        for (int64_t i = 0; i < n; i++) {
            uint64_t a = v->offsets[i], b = v->offsets[i + 1];
            if (b < a || b > v->size)
                return cli_fail("internal error: malformed variable-length offsets");
            if (i)
                fputc(',', out);
            if (v->mask && !v->mask[i])
                fputs("null", out); /* optional string/bytes: missing */
            else if (dt->kind == ZARRC_DTYPE_STRING || (dt->inner && dt->inner->kind == ZARRC_DTYPE_STRING))
                put_json_utf8(out, v->data + a, (size_t)(b - a));
            else
                put_base64(out, v->data + a, (size_t)(b - a));
        }
    } else {
        const uint8_t *p = data;
        for (int64_t i = 0; i < n; i++) {
            if (i)
                fputc(',', out);
            put_element(out, dt, p + (size_t)i * dt->item_size);
        }
    }
    fputs("]}\n", out);
    return 0;
}

int cli_data_print_raw(FILE *out, const zarrc_dtype_info *dt, const void *data, int64_t n)
{
    size_t total = (size_t)n * dt->item_size, w = cli_swap_width(dt);
    if (cli_host_little_endian() || w < 2) {
        if (total && fwrite(data, 1, total, out) != total)
            return cli_fail("writing raw data: %s", strerror(errno));
        return 0;
    }
    uint8_t tmp[65536];
    size_t step = sizeof tmp / dt->item_size * dt->item_size;
    for (size_t off = 0; off < total; off += step) {
        size_t len = total - off < step ? total - off : step;
        memcpy(tmp, (const uint8_t *)data + off, len);
        cli_swap_units(tmp, len, w);
        if (fwrite(tmp, 1, len, out) != len)
            return cli_fail("writing raw data: %s", strerror(errno));
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Streaming JSON input                                                                        */
/* ------------------------------------------------------------------------------------------ */

#define MAX_DEPTH 64
#define MAX_NUMBER_TEXT 1024

typedef enum { TV_NUM, TV_STR, TV_TRUE, TV_FALSE, TV_NULL, TV_SPECIAL } tv_kind;

typedef struct reader {
    FILE *f;
    const char *src;
    uint8_t buf[1 << 16];
    size_t pos, len;
    int eof;
    uint64_t consumed; /* bytes before buf[0] */
    char *tok;         /* text of the last scalar (NUL-terminated; strings may hold NULs) */
    size_t tok_len, tok_cap;
    tv_kind kind;
    int failed;
} reader;

typedef struct parse_ctx {
    reader r;
    const zarrc_dtype_info *dt;
    uint8_t *out;   /* fixed-size types */
    zarrc_vlen *vl; /* variable-length types */
    size_t vcap;
    uint8_t *scratch; /* decode buffer for base64 / UTF-32 */
    size_t scratch_cap;
    int64_t n, k;
    /* The nesting of the input's lists, checked against the selection's shape: per level (1 =
     * the outermost list) the length of the lists there (-1 until the first one closes) and
     * what they hold. A flat list (level 1 holds values) is accepted for any shape. */
    int out_ndim;
    const int64_t *out_shape;
    int64_t nest_len[MAX_DEPTH + 1];
    int nest_kind[MAX_DEPTH + 1];
    int nest_levels; /* deepest list level seen */
} parse_ctx;

enum { NEST_UNKNOWN, NEST_VALUES, NEST_LISTS };

static int rd_error(reader *r, const char *fmt, ...) CLI_PRINTF(2, 3);

static int rd_error(reader *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!r->failed)
        cli_fail("%s: invalid JSON at byte %llu: %s", r->src,
                 (unsigned long long)(r->consumed + r->pos), msg);
    r->failed = 1;
    return -1;
}

static int rd_fill(reader *r)
{
    if (r->pos < r->len)
        return 0;
    if (r->eof)
        return -1;
    r->consumed += r->len;
    r->pos = 0;
    r->len = fread(r->buf, 1, sizeof r->buf, r->f);
    if (r->len == 0) {
        r->eof = 1;
        if (ferror(r->f) && !r->failed) {
            cli_fail("%s: read error: %s", r->src, strerror(errno));
            r->failed = 1;
        }
        return -1;
    }
    return 0;
}

static int rd_peek(reader *r)
{
    return rd_fill(r) ? -1 : r->buf[r->pos];
}

static int rd_get(reader *r)
{
    return rd_fill(r) ? -1 : r->buf[r->pos++];
}

static int rd_peek_ws(reader *r)
{
    for (;;) {
        int c = rd_peek(r);
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return c;
        r->pos++;
    }
}

static int tok_push(reader *r, uint8_t c)
{
    if (r->tok_len + 2 > r->tok_cap) {
        size_t cap = r->tok_cap ? r->tok_cap * 2 : 256;
        char *t = realloc(r->tok, cap);
        if (!t) {
            cli_fail("%s: out of memory", r->src);
            r->failed = 1;
            return -1;
        }
        r->tok = t;
        r->tok_cap = cap;
    }
    r->tok[r->tok_len++] = (char)c;
    r->tok[r->tok_len] = 0;
    return 0;
}

static int tok_push_utf8(reader *r, uint32_t cp)
{
    char u[4];
    size_t n = utf8_encode(u, cp);
    for (size_t i = 0; i < n; i++)
        if (tok_push(r, (uint8_t)u[i]))
            return -1;
    return 0;
}

static int read_hex4(reader *r, uint32_t *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int c = rd_get(r);
        if (c < 0 || !isxdigit(c))
            return rd_error(r, "invalid \\u escape in string");
        *v = *v * 16 + (uint32_t)(isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10));
    }
    return 0;
}

/* A string; the opening quote is consumed. The text goes to r->tok (UTF-8, validated). */
static int read_string(reader *r)
{
    r->tok_len = 0;
    if (tok_push(r, 0))
        return -1;
    r->tok_len = 0;
    for (;;) {
        int c = rd_get(r);
        if (c < 0)
            return rd_error(r, "unterminated string");
        if (c == '"')
            break;
        if (c < 0x20)
            return rd_error(r, "control character in string");
        if (c != '\\') {
            if (c < 0x80) {
                if (tok_push(r, (uint8_t)c))
                    return -1;
                continue;
            }
            /* Collect and validate one multi-byte UTF-8 sequence. */
            uint8_t seq[4] = {(uint8_t)c};
            size_t need = (c & 0xe0) == 0xc0   ? 2
                          : (c & 0xf0) == 0xe0 ? 3
                          : (c & 0xf8) == 0xf0 ? 4
                                               : 0;
            for (size_t i = 1; i < need; i++) {
                int d = rd_get(r);
                if (d < 0)
                    return rd_error(r, "unterminated string");
                seq[i] = (uint8_t)d;
            }
            uint32_t cp;
            if (!need || utf8_decode(seq, need, &cp) != need)
                return rd_error(r, "invalid UTF-8 in string");
            for (size_t i = 0; i < need; i++)
                if (tok_push(r, seq[i]))
                    return -1;
            continue;
        }
        c = rd_get(r);
        uint32_t cp;
        switch (c) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (read_hex4(r, &cp))
                return -1;
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return rd_error(r, "lone low surrogate \\u%04x in string", (unsigned)cp);
            if (cp >= 0xd800 && cp <= 0xdbff) {
                uint32_t lo;
                if (rd_get(r) != '\\' || rd_get(r) != 'u')
                    return rd_error(r, "lone high surrogate \\u%04x in string", (unsigned)cp);
                if (read_hex4(r, &lo))
                    return -1;
                if (lo < 0xdc00 || lo > 0xdfff)
                    return rd_error(r, "invalid surrogate pair in string");
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            break;
        default: return rd_error(r, "invalid escape in string");
        }
        if (tok_push_utf8(r, cp))
            return -1;
    }
    r->kind = TV_STR;
    return 0;
}

static int valid_json_number(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (isdigit((unsigned char)*s))
        while (isdigit((unsigned char)*s))
            s++;
    else
        return 0;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return 0;
        while (isdigit((unsigned char)*s))
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!isdigit((unsigned char)*s))
            return 0;
        while (isdigit((unsigned char)*s))
            s++;
    }
    return *s == 0;
}

/* One scalar value: string, number, true/false/null, or bare NaN/Infinity/-Infinity. */
static int read_scalar(reader *r)
{
    int c = rd_peek_ws(r);
    if (c < 0)
        return rd_error(r, "unexpected end of input");
    if (c == '"') {
        r->pos++;
        return read_string(r);
    }
    r->tok_len = 0;
    if (tok_push(r, 0))
        return -1;
    r->tok_len = 0;
    if (c == '-' || isdigit(c)) {
        for (;;) {
            c = rd_peek(r);
            if (c < 0 || !(isdigit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' ||
                           (r->tok_len == 1 && r->tok[0] == '-' && c == 'I')))
                break;
            if (r->tok_len >= MAX_NUMBER_TEXT)
                return rd_error(r, "number too long");
            r->pos++;
            if (tok_push(r, (uint8_t)c))
                return -1;
            if (c == 'I')
                break; /* "-Infinity": the letters follow */
        }
        if (r->tok_len == 2 && r->tok[1] == 'I') {
            r->tok_len = 0;
            r->tok[0] = 0;
            if (tok_push(r, '-'))
                return -1;
            c = 'I';
            r->pos--; /* re-read the 'I' as a literal below */
        } else {
            if (!valid_json_number(r->tok))
                return rd_error(r, "invalid number '%.60s'", r->tok);
            r->kind = TV_NUM;
            return 0;
        }
    }
    if (isalpha(c)) {
        while ((c = rd_peek(r)) >= 0 && isalpha(c) && r->tok_len < 16) {
            r->pos++;
            if (tok_push(r, (uint8_t)c))
                return -1;
        }
        const char *t = r->tok;
        if (!strcmp(t, "true"))
            r->kind = TV_TRUE;
        else if (!strcmp(t, "false"))
            r->kind = TV_FALSE;
        else if (!strcmp(t, "null"))
            r->kind = TV_NULL;
        else if (!strcmp(t, "NaN") || !strcmp(t, "Infinity") || !strcmp(t, "-Infinity"))
            r->kind = TV_SPECIAL;
        else
            return rd_error(r, "unexpected '%.20s'", t);
        return 0;
    }
    if (c == ']' || c == '}' || c == ',' || c == ':')
        return rd_error(r, "unexpected '%c' (expected a value)", c);
    if (c >= 0x20 && c < 0x7f)
        return rd_error(r, "unexpected character '%c'", c);
    return rd_error(r, "unexpected byte 0x%02x", (unsigned)c);
}

static int skip_value(reader *r, int depth)
{
    int c = rd_peek_ws(r);
    if (c != '[' && c != '{')
        return read_scalar(r);
    if (depth >= MAX_DEPTH)
        return rd_error(r, "nesting deeper than %d levels", MAX_DEPTH);
    r->pos++;
    int close = c == '[' ? ']' : '}';
    if (rd_peek_ws(r) == close) {
        r->pos++;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            if (rd_peek_ws(r) != '"')
                return rd_error(r, "expected a member name");
            r->pos++;
            if (read_string(r))
                return -1;
            if (rd_peek_ws(r) != ':')
                return rd_error(r, "expected ':'");
            r->pos++;
        }
        if (skip_value(r, depth + 1))
            return -1;
        c = rd_peek_ws(r);
        if (c == ',') {
            r->pos++;
            continue;
        }
        if (c == close) {
            r->pos++;
            return 0;
        }
        return rd_error(r, "expected ',' or '%c'", close);
    }
}

/* ---- conversion of one scalar to the array's type ---- */

static int value_error(parse_ctx *c, const char *why)
{
    reader *r = &c->r;
    const char *q = r->kind == TV_STR ? "\"" : "";
    if (!r->failed)
        cli_fail("%s: value #%lld (%s%.60s%s%s) %s", r->src, (long long)c->k, q, r->tok,
                 r->tok_len > 60 ? "..." : "", q, why);
    r->failed = 1;
    return -1;
}

static int value_error_type(parse_ctx *c, const char *why)
{
    char msg[160];
    snprintf(msg, sizeof msg, "%s %s", why, c->dt->name);
    return value_error(c, msg);
}

static int is_plain_integer(const char *s)
{
    return !strpbrk(s, ".eE");
}

/* Integer value of the token as int64 (signed) or uint64, with range checks done by caller. */
static int token_integer(parse_ctx *c, int64_t *iv, uint64_t *uv, int *is_u)
{
    reader *r = &c->r;
    *is_u = 0;
    if (r->kind != TV_NUM)
        return value_error_type(c, r->kind == TV_STR || r->kind == TV_SPECIAL
                                       ? "is not an integer, as required by"
                                       : "is not valid for");
    if (is_plain_integer(r->tok)) {
        errno = 0;
        if (r->tok[0] == '-') {
            long long x = strtoll(r->tok, NULL, 10);
            if (errno == ERANGE)
                return value_error_type(c, "is out of range for");
            *iv = x;
        } else {
            unsigned long long x = strtoull(r->tok, NULL, 10);
            if (errno == ERANGE)
                return value_error_type(c, "is out of range for");
            if (x > (unsigned long long)INT64_MAX) {
                *uv = x;
                *is_u = 1;
            } else {
                *iv = (int64_t)x;
            }
        }
        return 0;
    }
    double d = strtod(r->tok, NULL);
    if (!isfinite(d) || d != floor(d))
        return value_error_type(c, "is not an integer, as required by");
    if (d < -9223372036854775808.0 || d >= 18446744073709551616.0)
        return value_error_type(c, "is out of range for");
    if (d >= 9223372036854775808.0) {
        *uv = (uint64_t)d;
        *is_u = 1;
    } else {
        *iv = (int64_t)d;
    }
    return 0;
}

/* The low `sz` bytes of v, in native order. */
static void store_uint(uint8_t *dst, uint64_t v, size_t sz)
{
    uint8_t u8 = (uint8_t)v;
    uint16_t u16 = (uint16_t)v;
    uint32_t u32 = (uint32_t)v;
    const void *src = sz == 1 ? (const void *)&u8
                    : sz == 2 ? (const void *)&u16
                    : sz == 4 ? (const void *)&u32
                              : (const void *)&v;
    memcpy(dst, src, sz);
}

static int convert_int(parse_ctx *c, uint8_t *dst)
{
    int64_t iv = 0;
    uint64_t uv = 0;
    int is_u;
    if (c->dt->kind == ZARRC_DTYPE_DATETIME || c->dt->kind == ZARRC_DTYPE_TIMEDELTA) {
        if (c->r.kind == TV_STR && !strcmp(c->r.tok, "NaT")) {
            iv = INT64_MIN;
            memcpy(dst, &iv, 8);
            return 0;
        }
    }
    if (token_integer(c, &iv, &uv, &is_u))
        return -1;
    size_t sz = c->dt->item_size;
    /* int2/uint2/int4/uint4: one byte in memory, 2 or 4 value bits */
    const char *nm = c->dt->name + (c->dt->name[0] == 'u');
    unsigned bits = !strcmp(nm, "int2") ? 2u : !strcmp(nm, "int4") ? 4u : (unsigned)(8 * sz);
    if (c->dt->kind == ZARRC_DTYPE_UINT) {
        if (!is_u) {
            if (iv < 0)
                return value_error_type(c, "is out of range for");
            uv = (uint64_t)iv;
        }
        uint64_t max = bits == 64 ? UINT64_MAX : (((uint64_t)1 << bits) - 1);
        if (uv > max)
            return value_error_type(c, "is out of range for");
        store_uint(dst, uv, sz);
        return 0;
    }
    if (is_u)
        return value_error_type(c, "is out of range for");
    int64_t lo = bits == 64 ? INT64_MIN : -((int64_t)1 << (bits - 1));
    int64_t hi = bits == 64 ? INT64_MAX : ((int64_t)1 << (bits - 1)) - 1;
    if (iv < lo || iv > hi)
        return value_error_type(c, "is out of range for");
    store_uint(dst, (uint64_t)iv, sz); /* two's complement: the low bytes are the value */
    return 0;
}

static int hex_bits(const char *s, int width, uint8_t *dst)
{
    if (width == 3) /* bfloat16: 2 bytes */
        width = 2;
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || strlen(s + 2) != (size_t)width * 2)
        return -1;
    uint64_t v = 0;
    for (const char *p = s + 2; *p; p++) {
        if (!isxdigit((unsigned char)*p))
            return -1;
        v = v * 16 + (uint64_t)(isdigit((unsigned char)*p) ? *p - '0' : tolower(*p) - 'a' + 10);
    }
    uint8_t b = (uint8_t)v;
    uint16_t h = (uint16_t)v;
    uint32_t f = (uint32_t)v;
    memcpy(dst, width == 1 ? (void *)&b : width == 2 ? (void *)&h : width == 4 ? (void *)&f : (void *)&v,
           (size_t)width);
    return 0;
}

/* One float of `width` bytes from the current token. */
/* The special values a float token may spell: "NaN", "Infinity", "-Infinity" (and the
 * lower-case forms NumPy prints). 1 and the value in *d if `s` is one of them. */
static int special_float(const char *s, double *d)
{
    if (!strcmp(s, "NaN") || !strcmp(s, "nan"))
        *d = NAN;
    else if (!strcmp(s, "Infinity") || !strcmp(s, "+Infinity") || !strcmp(s, "inf"))
        *d = INFINITY;
    else if (!strcmp(s, "-Infinity") || !strcmp(s, "-inf"))
        *d = -INFINITY;
    else
        return 0;
    return 1;
}

/* One 8/6/4-bit float (type `what`) from the current token: a number (rounded to nearest;
 * out of range if it rounds to no finite value or lies half a step past the largest), "NaN" /
 * "Infinity" where the type has them, or "0x.." of the code. */
static int convert_small_float(parse_ctx *c, uint8_t *dst, const char *what)
{
    reader *r = &c->r;
    char msg[128];
    double d, v;
    if (r->kind == TV_NUM) {
        d = strtod(r->tok, NULL);
        snprintf(msg, sizeof msg, "is out of range for %s", what);
        if (isinf(d) || zarrc_small_float_encode(what, d, dst) || zarrc_small_float_decode(what, *dst, &v) ||
            !isfinite(v))
            return value_error(c, msg);
        if (fabs(d) > fabs(v)) { /* saturated (float6/float4)? beyond half a step is out of range */
            double prev;
            uint8_t mag = (uint8_t)(*dst & ~(1u << (small_float_bits(what) - 1)));
            if (mag && !zarrc_small_float_decode(what, (uint8_t)(*dst - 1), &prev) &&
                fabs(d) - fabs(v) >= (fabs(v) - fabs(prev)) / 2 && fabs(v) > fabs(prev)) {
                uint8_t up;
                double vu;
                if (zarrc_small_float_encode(what, fabs(v) * 2, &up) || zarrc_small_float_decode(what, up, &vu) ||
                    !(vu > fabs(v)))
                    return value_error(c, msg);
            }
        }
        return 0;
    }
    if (r->kind != TV_STR && r->kind != TV_SPECIAL) {
        snprintf(msg, sizeof msg, "is not a number (%s)", what);
        return value_error(c, msg);
    }
    const char *s = r->tok;
    if (special_float(s, &d))
        ;
    else if (r->kind == TV_STR && !hex_bits(s, 1, dst)) {
        unsigned bits = small_float_bits(what);
        if (bits < 8 && dst[0] >> bits) {
            snprintf(msg, sizeof msg, "has bits set above the %u of %s", bits, what);
            return value_error(c, msg);
        }
        return 0;
    } else {
        snprintf(msg, sizeof msg, "is not a number (%s; use a number, \"0x..\", or \"NaN\", "
                 "\"Infinity\", \"-Infinity\" where the type has them)", what);
        return value_error(c, msg);
    }
    if (zarrc_small_float_encode(what, d, dst) || (isinf(d) && zarrc_small_float_decode(what, *dst, &v) == 0 &&
                                                   !isinf(v))) {
        snprintf(msg, sizeof msg, "cannot be represented: %s has no %s", what, isnan(d) ? "NaN" : "infinity");
        return value_error(c, msg);
    }
    return 0;
}

static int convert_float(parse_ctx *c, uint8_t *dst, int width, const char *what)
{
    reader *r = &c->r;
    double d;
    if (width == 1)
        return convert_small_float(c, dst, what);
    if (r->kind == TV_NUM) {
        char msg[96];
        snprintf(msg, sizeof msg, "is out of range for %s", what);
        if (width == 4) {
            float f = strtof(r->tok, NULL);
            if (isinf(f))
                return value_error(c, msg);
            memcpy(dst, &f, 4);
            return 0;
        }
        d = strtod(r->tok, NULL);
        if (isinf(d))
            return value_error(c, msg);
        if (width == 8) {
            memcpy(dst, &d, 8);
            return 0;
        }
        uint16_t h = width == 3 ? double_to_bf16(d) : zarrc_double_to_half(d);
        if ((h & 0x7fff) == (width == 3 ? 0x7f80 : 0x7c00))
            return value_error(c, msg);
        memcpy(dst, &h, 2);
        return 0;
    }
    if (r->kind != TV_STR && r->kind != TV_SPECIAL) {
        char msg[96];
        snprintf(msg, sizeof msg, "is not a number (%s)", what);
        return value_error(c, msg);
    }
    const char *s = r->tok;
    if (special_float(s, &d))
        ;
    else if (r->kind == TV_STR && !hex_bits(s, width, dst))
        return 0;
    else {
        char msg[96];
        snprintf(msg, sizeof msg, "is not a number (%s; use \"NaN\", \"Infinity\", "
                 "\"-Infinity\")", what);
        return value_error(c, msg);
    }
    if (width == 8) {
        memcpy(dst, &d, 8);
    } else if (width == 4) {
        float f = (float)d;
        memcpy(dst, &f, 4);
    } else {
        uint16_t h = width == 3 ? double_to_bf16(d) : zarrc_double_to_half(d);
        memcpy(dst, &h, 2);
    }
    return 0;
}

static uint8_t *scratch(parse_ctx *c, size_t n)
{
    if (n <= c->scratch_cap)
        return c->scratch;
    uint8_t *p = realloc(c->scratch, n);
    if (!p) {
        cli_fail("%s: out of memory", c->r.src);
        c->r.failed = 1;
        return NULL;
    }
    c->scratch = p;
    c->scratch_cap = n;
    return p;
}

static long token_base64(parse_ctx *c, uint8_t **bytes)
{
    reader *r = &c->r;
    if (r->kind != TV_STR)
        return value_error_type(c, "is not a base64 string, as required by");
    uint8_t *s = scratch(c, r->tok_len / 4 * 3 + 4);
    if (!s)
        return -1;
    long n = decode_base64(s, r->tok, r->tok_len);
    if (n < 0)
        return value_error(c, "is not valid base64");
    *bytes = s;
    return n;
}

static int vlen_append(parse_ctx *c, const uint8_t *p, size_t n)
{
    zarrc_vlen *v = c->vl;
    if (v->size + n > c->vcap) {
        size_t cap = c->vcap ? c->vcap : 4096;
        while (cap < v->size + n)
            cap *= 2;
        uint8_t *d = realloc(v->data, cap);
        if (!d) {
            cli_fail("%s: out of memory", c->r.src);
            c->r.failed = 1;
            return -1;
        }
        v->data = d;
        c->vcap = cap;
    }
    if (n)
        memcpy(v->data + v->size, p, n);
    v->size += n;
    v->offsets[c->k + 1] = v->size;
    return 0;
}

/* Store the current scalar token as element k (or only count it past n). */
static int store_scalar(parse_ctx *c)
{
    reader *r = &c->r;
    const zarrc_dtype_info *dt = c->dt;
    if (c->k >= c->n) {
        c->k++;
        return 0;
    }
    uint8_t *dst = c->out ? c->out + (size_t)c->k * dt->item_size : NULL;
    if (dt->kind == ZARRC_DTYPE_OPTIONAL && dt->inner && c->vl && c->vl->mask) {
        /* optional string/bytes: null = missing (an empty item, mask 0) */
        c->vl->mask[c->k] = r->kind != TV_NULL;
        if (r->kind != TV_NULL) {
            c->dt = dt->inner;
            int rc = store_scalar(c); /* appends the item and counts it */
            c->dt = dt;
            return rc;
        }
        if (vlen_append(c, NULL, 0))
            return -1;
        c->k++;
        return 0;
    }
    if (dt->kind == ZARRC_DTYPE_OPTIONAL && dt->inner && dst) {
        /* null = missing (zero inner bytes, mask 0), else the inner value with mask 1 */
        memset(dst, 0, dt->item_size);
        if (r->kind != TV_NULL) {
            uint8_t *save_out = c->out;
            int64_t save_k = c->k, save_n = c->n;
            c->dt = dt->inner;
            c->out = dst;
            c->k = 0;
            c->n = 1;
            int rc = store_scalar(c);
            c->dt = dt;
            c->out = save_out;
            c->n = save_n;
            c->k = save_k;
            if (rc)
                return rc;
            dst[dt->item_size - 1] = 1;
        }
        c->k++;
        return 0;
    }
    switch (dt->kind) {
    case ZARRC_DTYPE_BOOL:
        if (r->kind == TV_TRUE || (r->kind == TV_NUM && !strcmp(r->tok, "1")))
            *dst = 1;
        else if (r->kind == TV_FALSE || (r->kind == TV_NUM && !strcmp(r->tok, "0")))
            *dst = 0;
        else
            return value_error(c, "is not a boolean (true or false)");
        break;
    case ZARRC_DTYPE_INT:
    case ZARRC_DTYPE_UINT:
    case ZARRC_DTYPE_DATETIME:
    case ZARRC_DTYPE_TIMEDELTA:
        if (convert_int(c, dst))
            return -1;
        break;
    case ZARRC_DTYPE_FLOAT:
        if (convert_float(c, dst, cli_float_width(dt, dt->item_size), dt->name))
            return -1;
        break;
    case ZARRC_DTYPE_COMPLEX: {
        int w = (int)dt->item_size / 2;
        if (convert_float(c, dst, cli_float_width(dt, (size_t)w), dt->name))
            return -1;
        memset(dst + w, 0, (size_t)w);
        break;
    }
    case ZARRC_DTYPE_RAW:
    case ZARRC_DTYPE_FIXED_BYTES: {
        uint8_t *b;
        long n = token_base64(c, &b);
        if (n < 0)
            return -1;
        if (dt->kind == ZARRC_DTYPE_RAW && (size_t)n != dt->item_size) {
            char msg[96];
            snprintf(msg, sizeof msg, "decodes to %ld bytes, %s needs %zu", n, dt->name,
                     dt->item_size);
            return value_error(c, msg);
        }
        if ((size_t)n > dt->item_size) {
            char msg[96];
            snprintf(msg, sizeof msg, "decodes to %ld bytes, more than the %zu of the data type",
                     n, dt->item_size);
            return value_error(c, msg);
        }
        memcpy(dst, b, (size_t)n);
        memset(dst + n, 0, dt->item_size - (size_t)n);
        break;
    }
    case ZARRC_DTYPE_UTF32: {
        if (r->kind != TV_STR)
            return value_error(c, "is not a string");
        size_t max = dt->item_size / 4, ncp = 0, i = 0;
        memset(dst, 0, dt->item_size);
        while (i < r->tok_len) {
            uint32_t cp;
            size_t len = utf8_decode((const uint8_t *)r->tok + i, r->tok_len - i, &cp);
            if (!len)
                return value_error(c, "is not valid UTF-8");
            if (ncp == max) {
                char msg[96];
                snprintf(msg, sizeof msg, "is longer than the %zu characters of the data type",
                         max);
                return value_error(c, msg);
            }
            memcpy(dst + 4 * ncp++, &cp, 4);
            i += len;
        }
        break;
    }
    case ZARRC_DTYPE_STRING:
        if (r->kind != TV_STR)
            return value_error(c, "is not a string");
        if (vlen_append(c, (const uint8_t *)r->tok, r->tok_len))
            return -1;
        break;
    case ZARRC_DTYPE_VBYTES: {
        uint8_t *b;
        long n = token_base64(c, &b);
        if (n < 0 || vlen_append(c, b, (size_t)n))
            return -1;
        break;
    }
    default:
        return value_error(c, "cannot be converted: unsupported data type");
    }
    c->k++;
    return 0;
}

/* A complex [re, im] pair; the '[' is consumed. */
static int read_complex_pair(parse_ctx *c)
{
    reader *r = &c->r;
    uint8_t tmp[16];
    int w = (int)c->dt->item_size / 2;
    int store = c->k < c->n;
    for (int part = 0; part < 2; part++) {
        int ch = rd_peek_ws(r);
        if (ch == ']' || ch == '[')
            return rd_error(r, "value #%lld: a complex value must be [re, im]", (long long)c->k);
        if (read_scalar(r))
            return -1;
        if (store && convert_float(c, tmp + part * w, cli_float_width(c->dt, (size_t)w), c->dt->name))
            return -1;
        ch = rd_peek_ws(r);
        if (part == 0 && ch != ',')
            return rd_error(r, "value #%lld: a complex value must be [re, im]", (long long)c->k);
        if (part == 1 && ch != ']')
            return rd_error(r, "value #%lld: a complex value must be [re, im]", (long long)c->k);
        r->pos++;
    }
    if (store)
        memcpy(c->out + (size_t)c->k * c->dt->item_size, tmp, (size_t)(2 * w));
    c->k++;
    return 0;
}

/* "[2, 3]" into buf (at most MAX_DEPTH dimensions of 20 digits: SHAPE_TEXT bytes). */
#define SHAPE_TEXT (MAX_DEPTH * 22 + 4)
static const char *shape_text(char *buf, const int64_t *shape, int ndim)
{
    size_t len = (size_t)snprintf(buf, SHAPE_TEXT, "[");
    for (int d = 0; d < ndim && len < SHAPE_TEXT; d++)
        len += (size_t)snprintf(buf + len, SHAPE_TEXT - len, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (len < SHAPE_TEXT)
        snprintf(buf + len, SHAPE_TEXT - len, "]");
    return buf;
}

/* Ragged nested lists cannot have the selection's shape: print why and fail. */
static int nest_error(parse_ctx *c, const char *why)
{
    char want[SHAPE_TEXT];
    cli_fail("%s: ragged nested lists (%s) do not match the selection's shape %s", c->r.src, why,
             shape_text(want, c->out_shape, c->out_ndim));
    c->r.failed = 1;
    return -1;
}

/* Record what a list at `level` holds; lists and values side by side are ragged. */
static int nest_hold(parse_ctx *c, int level, int kind)
{
    if (c->nest_kind[level] == NEST_UNKNOWN)
        c->nest_kind[level] = kind;
    else if (c->nest_kind[level] != kind) {
        char why[64];
        snprintf(why, sizeof why, "values and lists side by side at depth %d", level);
        return nest_error(c, why);
    }
    return 0;
}

/* A list of values (nested lists are flattened; their shape is recorded); the '[' is
 * consumed. `depth` lists enclose it. */
static int read_list(parse_ctx *c, int depth)
{
    reader *r = &c->r;
    if (depth >= MAX_DEPTH)
        return rd_error(r, "nesting deeper than %d levels", MAX_DEPTH);
    int level = depth + 1;
    int64_t len = 0;
    if (level > c->nest_levels) {
        c->nest_levels = level;
        c->nest_len[level] = -1;
    }
    if (rd_peek_ws(r) != ']') {
        for (;;) {
            int ch = rd_peek_ws(r);
            if (ch == '[') {
                r->pos++;
                int inner = rd_peek_ws(r);
                if (c->dt->kind == ZARRC_DTYPE_COMPLEX && inner != '[' && inner != ']') {
                    if (nest_hold(c, level, NEST_VALUES) || read_complex_pair(c))
                        return -1;
                } else if (nest_hold(c, level, NEST_LISTS) || read_list(c, depth + 1)) {
                    return -1;
                }
            } else if (ch == '{') {
                return rd_error(r, "value #%lld: objects are not valid data values", (long long)c->k);
            } else {
                if (nest_hold(c, level, NEST_VALUES) || read_scalar(r) || store_scalar(c))
                    return -1;
            }
            len++;
            ch = rd_peek_ws(r);
            if (ch == ',') {
                r->pos++;
                continue;
            }
            if (ch == ']')
                break;
            return rd_error(r, ch < 0 ? "unexpected end of input in a list" : "expected ',' or ']'");
        }
    }
    r->pos++;
    if (c->nest_len[level] < 0)
        c->nest_len[level] = len;
    else if (c->nest_len[level] != len) {
        char why[96];
        snprintf(why, sizeof why, "lengths %lld and %lld at depth %d", (long long)c->nest_len[level],
                 (long long)len, level);
        return nest_error(c, why);
    }
    return 0;
}

/* After a list document: nested lists must have exactly the selection's shape. */
static int check_nesting(parse_ctx *c)
{
    if (c->nest_kind[1] != NEST_LISTS)
        return 0; /* a flat list: only its length counts */
    int ndim = c->nest_levels;
    int same = ndim == c->out_ndim;
    for (int d = 0; same && d < ndim; d++)
        same = c->nest_len[d + 1] == c->out_shape[d];
    if (same)
        return 0;
    char got[SHAPE_TEXT], want[SHAPE_TEXT];
    cli_fail("%s: nested lists of shape %s do not match the selection's shape %s (give lists of that "
             "shape, or a flat list of %lld values)", c->r.src, shape_text(got, c->nest_len + 1, ndim),
             shape_text(want, c->out_shape, c->out_ndim), (long long)c->n);
    c->r.failed = 1;
    return -1;
}

static int read_document(parse_ctx *c)
{
    reader *r = &c->r;
    int ch = rd_peek_ws(r);
    if (ch < 0) {
        if (!r->failed)
            cli_fail("%s: empty input (expected a JSON list of values)", r->src);
        r->failed = 1;
        return -1;
    }
    if (ch == '[') {
        r->pos++;
        if (read_list(c, 0) || check_nesting(c))
            return -1;
    } else if (ch == '{') {
        r->pos++;
        int seen = 0;
        if (rd_peek_ws(r) != '}') {
            for (;;) {
                if (rd_peek_ws(r) != '"')
                    return rd_error(r, "expected a member name");
                r->pos++;
                if (read_string(r))
                    return -1;
                int is_data = r->tok_len == 4 && !memcmp(r->tok, "data", 4);
                if (rd_peek_ws(r) != ':')
                    return rd_error(r, "expected ':'");
                r->pos++;
                if (is_data) {
                    if (seen)
                        return rd_error(r, "duplicate 'data' member");
                    seen = 1;
                    if (rd_peek_ws(r) != '[')
                        return rd_error(r, "'data' must be a list");
                    r->pos++;
                    if (read_list(c, 0) || check_nesting(c))
                        return -1;
                } else if (skip_value(r, 1)) {
                    return -1;
                }
                ch = rd_peek_ws(r);
                if (ch == ',') {
                    r->pos++;
                    continue;
                }
                if (ch == '}')
                    break;
                return rd_error(r, "expected ',' or '}'");
            }
        }
        r->pos++;
        if (!seen) {
            cli_fail("%s: the JSON object has no 'data' member", r->src);
            r->failed = 1;
            return -1;
        }
    } else {
        /* A bare scalar: one value (convenient for 0-d arrays). */
        if (read_scalar(r) || store_scalar(c))
            return -1;
    }
    ch = rd_peek_ws(r);
    if (r->failed)
        return -1;
    if (ch >= 0)
        return rd_error(r, "unexpected data after the JSON value");
    return 0;
}

void cli_vlen_release(zarrc_vlen *v)
{
    if (!v)
        return;
    free(v->offsets);
    free(v->data);
    free(v->mask);
    memset(v, 0, sizeof *v);
}

int cli_data_read_json(FILE *in, const char *src, const zarrc_dtype_info *dt, void *data,
                       int64_t n, int out_ndim, const int64_t *out_shape)
{
    if (dt->kind == ZARRC_DTYPE_STRUCT)
        return cli_struct_read_json(in, src, dt, data, n, out_ndim, out_shape);
    parse_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return cli_fail("out of memory");
    c->r.f = in;
    c->r.src = src;
    c->dt = dt;
    c->n = n;
    c->out_ndim = out_ndim;
    c->out_shape = out_shape;
    if (cli_dtype_is_vlen(dt)) {
        c->vl = data;
        memset(c->vl, 0, sizeof *c->vl);
        c->vl->offsets = calloc((size_t)n + 1, sizeof(uint64_t));
        if (cli_dtype_is_optional_vlen(dt))
            c->vl->mask = calloc((size_t)n ? (size_t)n : 1, 1);
        if (!c->vl->offsets || (cli_dtype_is_optional_vlen(dt) && !c->vl->mask)) {
            free(c->vl->offsets);
            free(c->vl->mask);
            free(c);
            return cli_fail("out of memory");
        }
        c->vl->count = n;
    } else {
        c->out = data;
    }
    int rc = read_document(c);
    if (!rc && c->k != n) {
        cli_fail("%s: expected %lld values, got %lld", src, (long long)n, (long long)c->k);
        rc = -1;
    }
    free(c->r.tok);
    free(c->scratch);
    if (rc && c->vl)
        cli_vlen_release(c->vl);
    free(c);
    return rc ? CLI_EXIT_FAIL : 0;
}

int cli_data_read_raw(FILE *in, const char *src, const zarrc_dtype_info *dt, void *data,
                      int64_t n)
{
    size_t total = (size_t)n * dt->item_size;
    size_t got = total ? fread(data, 1, total, in) : 0;
    if (ferror(in))
        return cli_fail("%s: read error: %s", src, strerror(errno));
    if (got < total)
        return cli_fail("%s: expected %zu bytes (%lld values of %s), got %zu", src, total,
                        (long long)n, dt->name, got);
    if (fgetc(in) != EOF)
        return cli_fail("%s: expected %zu bytes (%lld values of %s), got more", src, total,
                        (long long)n, dt->name);
    if (!cli_host_little_endian())
        cli_swap_units(data, total, cli_swap_width(dt));
    return 0;
}
