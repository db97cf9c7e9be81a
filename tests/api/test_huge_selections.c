/* API tests: selections and shapes at the limits of int64 (issue 8). Huge steps, starts and
 * counts are refused with ZARRC_EBOUNDS / ZARRC_EINVAL naming the dimension, or work exactly;
 * shapes like [2^62, 2^62] with chunks [1, 1] are readable and writable without any
 * arithmetic wrapping (chunked and sharded). Before the fix, a step of 2^63-1 overflowed the
 * planner (SIGSEGV) and stride products overflowed in the engine. */
#include <stdint.h>

#include "check.h"
#include "zarrc.h"

#define P62 ((int64_t)1 << 62)

static zarrc_array *make(zarrc_store *s, const char *path, const char *dtype, int ndim, const int64_t *shape,
                         const int64_t *chunks, const char *codecs)
{
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = dtype;
    o.ndim = ndim;
    o.shape = shape;
    o.chunks = chunks;
    o.codecs = codecs;
    o.fill_value = "7";
    zarrc_array *a = NULL;
    CHECK_MSG(zarrc_array_create(&a, s, path, &o) == 0, "create %s", path);
    return a;
}

/* [2^62, 2^62] int32 in chunks of [1, 1] (or shards of [4, 4] with inner [2, 2]). */
static void test_huge_2d(zarrc_store *s, const char *path, const int64_t *chunks, const char *codecs)
{
    int64_t shape[2] = {P62, P62};
    zarrc_array *a = make(s, path, "int32", 2, shape, chunks, codecs);
    if (!a)
        return;
    CHECK(zarrc_array_size(a) == -1); /* 2^124 elements: not representable */
    int32_t v[4] = {11, 12, 13, 14}, got[4] = {0};
    int64_t last[2] = {P62 - 1, P62 - 1}, one[2] = {1, 1}, two[2] = {2, 2}, z[2] = {0, 0};
    /* The last element, and a 2x2 box at the far corner. */
    CHECK_OK(zarrc_array_write(a, last, one, NULL, v, sizeof(int32_t)));
    CHECK(zarrc_array_read(a, last, one, NULL, got, sizeof(int32_t)) == 0 && got[0] == 11);
    int64_t corner[2] = {P62 - 2, P62 - 2};
    CHECK_OK(zarrc_array_write(a, corner, two, NULL, v, sizeof v));
    CHECK(zarrc_array_read(a, corner, two, NULL, got, sizeof got) == 0 && !memcmp(got, v, sizeof v));
    /* Steps as large as the array allows: elements (0, 0), (0, 2^62-1), (2^62-1, 0), ... */
    int64_t far[2] = {P62 - 1, P62 - 1};
    CHECK_OK(zarrc_array_write(a, z, two, far, v, sizeof v));
    memset(got, 0, sizeof got);
    CHECK(zarrc_array_read(a, z, two, far, got, sizeof got) == 0 && !memcmp(got, v, sizeof v));
    /* A step of 2^63-1 selects one element (a count of 1 never steps). */
    int64_t maxstep[2] = {INT64_MAX, INT64_MAX};
    CHECK(zarrc_array_read(a, z, one, maxstep, got, sizeof(int32_t)) == 0 && got[0] == 11);
    CHECK_OK(zarrc_array_write(a, last, one, maxstep, &v[3], sizeof(int32_t)));
    CHECK(zarrc_array_read(a, last, one, NULL, got, sizeof(int32_t)) == 0 && got[0] == 14);
    /* Untouched elements read as the fill value. */
    int64_t mid[2] = {P62 / 2, 12345};
    CHECK(zarrc_array_read(a, mid, one, NULL, got, sizeof(int32_t)) == 0 && got[0] == 7);

    /* Refused: past the end, overflowing counts and steps, byte sizes that overflow. */
    int64_t past[2] = {P62, 0}, maxstart[2] = {INT64_MAX, 0};
    CHECK_ERR(zarrc_array_read(a, past, one, NULL, got, sizeof(int32_t)), ZARRC_EBOUNDS, "dimension 0");
    CHECK_ERR(zarrc_array_read(a, maxstart, one, NULL, got, sizeof(int32_t)), ZARRC_EBOUNDS, "dimension 0");
    CHECK_ERR(zarrc_array_write(a, maxstart, one, NULL, got, sizeof(int32_t)), ZARRC_EBOUNDS, "dimension 0");
    int64_t c2[2] = {1, 2};
    CHECK_ERR(zarrc_array_read(a, z, c2, maxstep, got, 2 * sizeof(int32_t)), ZARRC_EBOUNDS, "dimension 1");
    CHECK_ERR(zarrc_array_write(a, z, c2, maxstep, got, 2 * sizeof(int32_t)), ZARRC_EBOUNDS, "dimension 1");
    int64_t maxcount[2] = {1, INT64_MAX};
    CHECK_ERR(zarrc_array_read(a, z, maxcount, NULL, got, sizeof got), ZARRC_EBOUNDS, "dimension 1");
    int64_t all[2] = {P62, P62};
    CHECK_ERR(zarrc_array_read(a, z, all, NULL, got, sizeof got), ZARRC_EBOUNDS, "too many elements");
    CHECK_ERR(zarrc_array_write(a, z, all, NULL, got, sizeof got), ZARRC_EBOUNDS, "too many elements");
    int64_t bytes_overflow[2] = {(int64_t)1 << 31, (int64_t)1 << 31}; /* 2^62 elements, 2^64 bytes */
    CHECK_ERR(zarrc_array_read(a, z, bytes_overflow, NULL, got, sizeof got), ZARRC_EBOUNDS, "too large");
    int64_t zero_step[2] = {1, 0}, neg_step[2] = {1, INT64_MIN}, neg_start[2] = {0, INT64_MIN};
    CHECK_ERR(zarrc_array_read(a, z, one, zero_step, got, sizeof(int32_t)), ZARRC_EINVAL, "dimension 1");
    CHECK_ERR(zarrc_array_read(a, z, one, neg_step, got, sizeof(int32_t)), ZARRC_EINVAL, "dimension 1");
    CHECK_ERR(zarrc_array_read(a, neg_start, one, NULL, got, sizeof(int32_t)), ZARRC_EBOUNDS, "dimension 1");
    int64_t neg_count[2] = {INT64_MIN, 1};
    CHECK_ERR(zarrc_array_read(a, z, neg_count, NULL, got, sizeof(int32_t)), ZARRC_EBOUNDS, "dimension 0");
    /* An empty selection along one axis is empty whatever the other counts say. */
    int64_t empty[2] = {0, P62}, empty2[2] = {P62, 0};
    CHECK_OK(zarrc_array_read(a, z, empty, NULL, got, 0));
    CHECK_OK(zarrc_array_write(a, z, empty2, NULL, got, 0));
    zarrc_array_free(a);
}

/* A large step times a large chunk stride: the engine's strides stay in range (chunks of
 * [1, 2^20] int64, so one step along dimension 0 is 2^23 bytes of chunk stride). */
static void test_stride_products(zarrc_store *s)
{
    int64_t shape[2] = {(int64_t)1 << 46, (int64_t)1 << 20}, chunks[2] = {1, (int64_t)1 << 20};
    zarrc_array *a = make(s, "strides", "int64", 2, shape, chunks, NULL);
    if (!a)
        return;
    int64_t z[2] = {0, 5}, c[2] = {2, 1}, step[2] = {(int64_t)1 << 45, 1}, v[2] = {-1, -2}, got[2] = {0, 0};
    CHECK_OK(zarrc_array_write(a, z, c, step, v, sizeof v));
    CHECK(zarrc_array_read(a, z, c, step, got, sizeof got) == 0 && got[0] == -1 && got[1] == -2);
    int64_t at[2] = {(int64_t)1 << 45, 5}, one[2] = {1, 1};
    CHECK(zarrc_array_read(a, at, one, NULL, got, sizeof(int64_t)) == 0 && got[0] == -2);
    zarrc_array_free(a);
}

/* 1-D arrays of 2^63-1 elements: refused as one chunk; in chunks of 1000; in shards of
 * 2^16 inner chunks of one element (the last shard is partial). */
static void test_huge_1d(zarrc_store *s)
{
    int64_t shape[1] = {INT64_MAX}, thousand[1] = {1000}, shard[1] = {(int64_t)1 << 16};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "uint8";
    o.ndim = 1;
    o.shape = shape;
    zarrc_array *a = NULL;
    /* one chunk of 2^63-1 bytes: its size does not fit */
    CHECK_ERR(zarrc_array_create(&a, s, "one_chunk", &o), ZARRC_EINVAL, "a chunk is too large");
    CHECK(a == NULL);
    for (int sharded = 0; sharded < 2; sharded++) {
        o.chunks = sharded ? shard : thousand;
        o.codecs = sharded ? "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[1],"
                             "\"codecs\":[{\"name\":\"bytes\"}]}}]"
                           : NULL;
        a = NULL;
        CHECK_OK(zarrc_array_create(&a, s, sharded ? "one_d_sharded" : "one_d", &o));
        if (!a)
            continue;
        CHECK(zarrc_array_size(a) == INT64_MAX);
        uint8_t v[3] = {1, 2, 3}, got[3] = {0};
        int64_t last[1] = {INT64_MAX - 1}, one[1] = {1}, three[1] = {3}, z[1] = {0};
        int64_t step[1] = {(INT64_MAX - 1) / 2}; /* elements 0, 2^62-1 and 2^63-2 */
        CHECK_OK(zarrc_array_write(a, last, one, NULL, v, 1));
        CHECK(zarrc_array_read(a, last, one, NULL, got, 1) == 0 && got[0] == 1);
        CHECK_OK(zarrc_array_write(a, z, three, step, v, sizeof v));
        CHECK(zarrc_array_read(a, z, three, step, got, sizeof got) == 0 && !memcmp(got, v, 3));
        CHECK(zarrc_array_read(a, last, one, NULL, got, 1) == 0 && got[0] == 3);
        int64_t big_step[1] = {INT64_MAX / 2 + 1};
        CHECK_ERR(zarrc_array_read(a, z, three, big_step, got, sizeof got), ZARRC_EBOUNDS, "dimension 0");
        zarrc_array_free(a);
    }
}

/* start and count are required for arrays with dimensions (NULL crashed in the planner). */
static void test_null_box(zarrc_store *s)
{
    int64_t shape[1] = {4};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "uint8";
    o.ndim = 1;
    o.shape = shape;
    zarrc_array *a = NULL;
    CHECK_OK(zarrc_array_create(&a, s, "null_box", &o));
    uint8_t buf[4] = {0};
    int64_t z[1] = {0};
    if (a) {
        CHECK_ERR(zarrc_array_read(a, NULL, shape, NULL, buf, sizeof buf), ZARRC_EINVAL, "start and count");
        CHECK_ERR(zarrc_array_write(a, z, NULL, NULL, buf, sizeof buf), ZARRC_EINVAL, "start and count");
    }
    zarrc_array_free(a);
}

int main(void)
{
    zarrc_store *s = NULL;
    CHECK_OK(zarrc_store_open(&s, "memory://", 0));
    test_null_box(s);
    int64_t ones[2] = {1, 1}, shards[2] = {4, 4};
    test_huge_2d(s, "chunked", ones, NULL);
    test_huge_2d(s, "sharded", shards,
                 "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2,2],"
                 "\"codecs\":[{\"name\":\"bytes\"},{\"name\":\"zstd\"}]}}]");
    test_huge_2d(s, "sharded_raw", shards,
                 "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2,2],"
                 "\"codecs\":[{\"name\":\"bytes\"}]}}]");
    test_stride_products(s);
    test_huge_1d(s);
    zarrc_store_free(s);
    return check_report("api.huge_selections");
}
