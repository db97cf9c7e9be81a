/*
 * Fuzz target: the parsers of `zarrc serve` for untrusted request text (serve/serve_parse.c).
 * Byte 0 picks the parser; the rest is its input: URL paths (serve_path_normalize), integer
 * lists (block=, offset=, shape=, expected_shape=), tiled slices resolved against a fixed
 * shape, Range headers against a value size, API key file lines, and tiled dtype objects.
 * The parsers must never crash, read out of bounds, or return results that break their
 * contracts (a normalized path with "." or ".." segments, a range outside the value, a
 * resolved box reaching outside the shape).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int which = data[0] % 6;
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    char err[256];
    switch (which) {
    case 0: {
        char *out = NULL;
        if (serve_path_normalize(&out, text, err, sizeof err) == 0) {
            size_t n = strlen(out);
            check(n == 0 || (out[0] != '/' && out[n - 1] != '/'));
            check(!strstr(out, "//"));
            for (const char *p = out; *p;) {
                const char *e = strchr(p, '/');
                size_t len = e ? (size_t)(e - p) : strlen(p);
                check(!(len == 1 && p[0] == '.') && !(len == 2 && p[0] == '.' && p[1] == '.'));
                p += len;
                if (*p)
                    p++;
            }
            free(out);
        } else {
            check(out == NULL && err[0]);
        }
        break;
    }
    case 1: {
        int64_t *v = NULL;
        int n = 0;
        if (serve_parse_uint_list(&v, &n, text, 64, "list", err, sizeof err) == 0) {
            check(n <= 64);
            for (int i = 0; i < n; i++)
                check(v[i] >= 0);
        }
        free(v);
        break;
    }
    case 2: {
        serve_slice_dim *dims = NULL;
        int nd = 0;
        static const int64_t shape[4] = {10, 1, 0, 1000003};
        if (serve_parse_slice(&dims, &nd, text, 64, err, sizeof err) == 0) {
            serve_box box;
            if (serve_box_resolve(&box, dims, nd, 4, shape, err, sizeof err) == 0) {
                for (int d = 0; d < 4; d++) {
                    check(box.count[d] >= 0 && box.step[d] != 0);
                    if (box.count[d] > 0) {
                        int64_t last = box.first[d] + (box.count[d] - 1) * box.step[d];
                        check(box.first[d] >= 0 && box.first[d] < shape[d]);
                        check(last >= 0 && last < shape[d]);
                    }
                }
                serve_box_free(&box);
            }
            free(dims);
        }
        break;
    }
    case 3: {
        uint64_t sizes[3] = {0, 1, 643}, first, last;
        for (int k = 0; k < 3; k++) {
            int rc = serve_parse_range(text, sizes[k], &first, &last);
            check(rc >= -1 && rc <= 1);
            if (rc == 1)
                check(first <= last && last < sizes[k]);
        }
        break;
    }
    case 4: {
        char key[64];
        int rw = -1;
        int rc = serve_parse_key_line(text, key, sizeof key, &rw, err, sizeof err);
        if (rc == 1) {
            check(rw == 0 || rw == 1);
            check(key[0] && strlen(key) < sizeof key);
        }
        break;
    }
    case 5: {
        json_object *o = json_tokener_parse(text);
        char dt[64];
        if (o && serve_dtype_from_tiled(dt, sizeof dt, o, err, sizeof err) == 0)
            check(strlen(dt) >= 3);
        json_object_put(o);
        break;
    }
    }
    free(text);
    return 0;
}
