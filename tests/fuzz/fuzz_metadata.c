/*
 * Fuzz target: an arbitrary metadata document (zarr.json, or .zarray when it says
 * zarr_format 2) is opened and, if that works, described and read from — through the public
 * API only. Nothing may crash, hang or leak, whatever the document says.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zarrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Valid metadata may declare huge chunks, and reading one allocates it: the library
     * refuses chunks over the per-chunk limit, set here to stay under the fuzzer's malloc
     * limit. */
    zarrc_set_max_chunk_bytes(64u << 20);
    zarrc_store *s = NULL;
    if (zarrc_store_open(&s, "memory://", 0))
        return 0;
    const char *key = size > 0 && memmem(data, size, "\"zarr_format\": 2", 16) ? ".zarray" : "zarr.json";
    zarrc_store_set(s, key, data, size);
    zarrc_store_set(s, "c/0/0", "\x01\x02\x03\x04", 4); /* something to decode */
    zarrc_array *a = NULL;
    if (zarrc_array_open(&a, s, "") == 0) {
        static const zarrc_json_part parts[] = {ZARRC_JSON_METADATA, ZARRC_JSON_CODECS_V3,
                                                ZARRC_JSON_CODECS_V2, ZARRC_JSON_FILL_VALUE,
                                                ZARRC_JSON_ATTRIBUTES, ZARRC_JSON_DTYPE};
        for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
            char *j = NULL;
            zarrc_array_json(&j, a, parts[i]);
            zarrc_free(j);
        }
        /* Read at most a small corner (never more than 4096 elements). */
        int nd = zarrc_array_ndim(a);
        const int64_t *shape = zarrc_array_shape(a);
        int64_t start[32] = {0}, count[32];
        int64_t n = 1;
        for (int d = 0; d < nd; d++) {
            count[d] = shape[d] < 4 ? shape[d] : 4;
            n *= count[d];
        }
        const zarrc_dtype_info *dt = zarrc_array_dtype(a);
        if (n <= 4096 && dt->item_size <= 64) { /* a small output buffer */
            if (dt->item_size == 0) {
                zarrc_vlen v;
                if (zarrc_array_read(a, start, count, NULL, &v, sizeof v) == 0)
                    zarrc_vlen_clear(&v);
            } else {
                size_t bytes = (size_t)n * dt->item_size;
                void *buf = malloc(bytes ? bytes : 1);
                if (buf && zarrc_array_read(a, start, count, NULL, buf, bytes) == 0)
                    zarrc_array_write(a, start, count, NULL, buf, bytes);
                free(buf);
            }
        }
        zarrc_array_free(a);
    }
    zarrc_store_free(s);
    return 0;
}
