/*
 * mpi_write.c — N MPI ranks write one Zarr hierarchy together, with no lost update.
 *
 * Build: mpicc mpi_write.c $(pkg-config --cflags --libs zarrc) -o mpi_write
 * Run:   mpirun -np 4 ./mpi_write DIRECTORY
 *
 * Rank 0 creates a v3 group with three arrays, then a barrier lets every rank open them:
 *   plain    int32 [64, 96] in 16 x 32 chunks (zstd)
 *   sharded  int32 [64, 96] in 32 x 48 shards of 8 x 16 inner chunks
 *   log      int32 [0, 4], grown by appends along axis 0 (chunks 4 x 4)
 * In parallel, every rank then
 *   1. writes its own band of rows of `plain` and `sharded` (disjoint regions);
 *   2. writes every column j with j % N == rank, one column at a time: every chunk is shared
 *      by all ranks, so each column write is a read-modify-write of chunks other ranks are
 *      changing at the same moment — the library's per-key locking must keep every column;
 *   3. writes the same 16 x 32 block at (8, 8) filled with its own number (true overlap: the
 *      last writer of each chunk wins, but no chunk may mix two writers' blocks);
 *   4. appends K rows {rank, seq, seq * rank, -1} to `log` (two appends never land in the
 *      same rows).
 * After a second barrier rank 0 consolidates the hierarchy's metadata and checks everything
 * against a sequential model; the exit status says whether it matched (0) or not (1).
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zarrc.h>

enum { ROWS = 64, COLS = 96, APPENDS = 12 };
static const int64_t BLOCK_START[2] = {8, 8}, BLOCK_COUNT[2] = {16, 32};
static const char *const ARRAYS[2] = {"plain", "sharded"};

static int rank_, nranks_;

static int fail(const char *what)
{
    fprintf(stderr, "mpi_write[rank %d]: %s: %s\n", rank_, what, zarrc_error_last());
    return 1;
}

/* Values of the model: phase 1 writes band values, phase 2 overwrites whole columns. */
static int32_t band_value(int64_t i, int64_t j) { return (int32_t)(i * COLS + j + 1); }
static int32_t column_value(int64_t i, int64_t j)
{
    return (int32_t)(1000000 * (j % nranks_ + 1) + i * COLS + j);
}

static int create_hierarchy(zarrc_store *store)
{
    if (zarrc_group_create(store, "", 3, "{\"writers\": \"mpi_write\"}", ZARRC_OVERWRITE))
        return fail("create group");
    int64_t shape[2] = {ROWS, COLS}, chunks[2] = {16, 32};
    zarrc_array_options o = ZARRC_ARRAY_OPTIONS_INIT;
    o.dtype = "int32";
    o.ndim = 2;
    o.shape = shape;
    o.chunks = chunks;
    o.fill_value = "-7";
    o.flags = ZARRC_OVERWRITE;
    zarrc_array *a = NULL;
    if (zarrc_array_create(&a, store, "plain", &o))
        return fail("create plain");
    zarrc_array_free(a);

    int64_t shards[2] = {32, 48};
    o.chunks = shards;
    o.codecs = "[{\"name\": \"sharding_indexed\", \"configuration\": {\"chunk_shape\": [8, 16],"
               " \"codecs\": [{\"name\": \"bytes\", \"configuration\": {\"endian\": \"little\"}},"
               " {\"name\": \"zstd\", \"configuration\": {\"level\": 1, \"checksum\": false}}],"
               " \"index_codecs\": [{\"name\": \"bytes\", \"configuration\": {\"endian\": \"little\"}},"
               " {\"name\": \"crc32c\"}]}}]";
    if (zarrc_array_create(&a, store, "sharded", &o))
        return fail("create sharded");
    zarrc_array_free(a);

    int64_t log_shape[2] = {0, 4}, log_chunks[2] = {4, 4};
    o.shape = log_shape;
    o.chunks = log_chunks;
    o.codecs = NULL;
    if (zarrc_array_create(&a, store, "log", &o))
        return fail("create log");
    zarrc_array_free(a);
    return 0;
}

/* Phases 1-3 on one array. */
static int write_grid(zarrc_store *store, const char *path)
{
    zarrc_array *a = NULL;
    if (zarrc_array_open(&a, store, path))
        return fail(path);
    int rc = 1;
    int64_t r0 = (int64_t)ROWS * rank_ / nranks_, r1 = (int64_t)ROWS * (rank_ + 1) / nranks_;
    size_t band_n = (size_t)(r1 - r0) * COLS;
    int32_t *buf = malloc((band_n > ROWS ? band_n : ROWS) * sizeof *buf);
    if (!buf)
        goto out;
    for (int64_t i = r0; i < r1; i++)
        for (int64_t j = 0; j < COLS; j++)
            buf[(i - r0) * COLS + j] = band_value(i, j);
    int64_t start[2] = {r0, 0}, count[2] = {r1 - r0, COLS};
    if (band_n && zarrc_array_write(a, start, count, NULL, buf, band_n * sizeof *buf)) {
        fail("write band");
        goto out;
    }
    /* Everyone's band must be in place before the columns go over them. */
    MPI_Barrier(MPI_COMM_WORLD);

    for (int64_t j = rank_; j < COLS; j += nranks_) {
        for (int64_t i = 0; i < ROWS; i++)
            buf[i] = column_value(i, j);
        int64_t cs[2] = {0, j}, cc[2] = {ROWS, 1};
        if (zarrc_array_write(a, cs, cc, NULL, buf, ROWS * sizeof *buf)) {
            fail("write column");
            goto out;
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);

    size_t block_n = (size_t)(BLOCK_COUNT[0] * BLOCK_COUNT[1]);
    int32_t *block = malloc(block_n * sizeof *block);
    if (!block)
        goto out;
    for (size_t k = 0; k < block_n; k++)
        block[k] = -(rank_ + 1);
    if (zarrc_array_write(a, BLOCK_START, BLOCK_COUNT, NULL, block, block_n * sizeof *block))
        fail("write block");
    else
        rc = 0;
    free(block);
out:
    free(buf);
    zarrc_array_free(a);
    return rc;
}

static int append_log(zarrc_store *store)
{
    zarrc_array *a = NULL;
    if (zarrc_array_open(&a, store, "log"))
        return fail("open log");
    int rc = 0;
    for (int seq = 0; seq < APPENDS && !rc; seq++) {
        /* Appends of 1 or 2 rows, so rows of one append straddle chunk boundaries. */
        int64_t n = 1 + (seq + rank_) % 2, shape[2] = {n, 4}, at = -1;
        int32_t rows[8];
        for (int64_t r = 0; r < n; r++) {
            rows[r * 4 + 0] = rank_;
            rows[r * 4 + 1] = seq;
            rows[r * 4 + 2] = seq * rank_;
            rows[r * 4 + 3] = (int32_t)r;
        }
        if (zarrc_array_append(a, 0, shape, rows, (size_t)(n * 4) * sizeof rows[0], &at))
            rc = fail("append");
    }
    zarrc_array_free(a);
    return rc;
}

/* Rank 0, after everyone finished: compare with the sequential model. Returns the number of
 * mismatches (printing the first few). */
static long check_grid(zarrc_store *store, const char *path, int32_t winners[])
{
    zarrc_array *a = NULL;
    if (zarrc_array_open(&a, store, path))
        return fail(path);
    static int32_t got[ROWS * COLS];
    int64_t start[2] = {0, 0}, count[2] = {ROWS, COLS};
    long bad = 0;
    if (zarrc_array_read(a, start, count, NULL, got, sizeof got)) {
        zarrc_array_free(a);
        return fail("read back");
    }
    const int64_t *chunks = zarrc_array_inner_chunks(a);
    if (!chunks)
        chunks = zarrc_array_chunks(a);
    for (int64_t i = 0; i < ROWS; i++)
        for (int64_t j = 0; j < COLS; j++) {
            int in_block = i >= BLOCK_START[0] && i < BLOCK_START[0] + BLOCK_COUNT[0] &&
                           j >= BLOCK_START[1] && j < BLOCK_START[1] + BLOCK_COUNT[1];
            int32_t v = got[i * COLS + j], want = column_value(i, j);
            if (in_block) {
                /* All elements of the block within one (inner) chunk come from one writer. */
                int64_t c = (i / chunks[0]) * (COLS / chunks[1] + 1) + j / chunks[1];
                if (v > -1 || v < -nranks_)
                    want = INT32_MIN; /* not any rank's block value */
                else if (!winners[c])
                    winners[c] = want = v;
                else
                    want = winners[c];
            }
            if (v != want && bad++ < 5)
                fprintf(stderr, "mpi_write: %s[%lld, %lld] = %d, model says %d\n", path,
                        (long long)i, (long long)j, v, want);
        }
    zarrc_array_free(a);
    return bad;
}

static long check_log(zarrc_store *store)
{
    zarrc_array *a = NULL;
    if (zarrc_array_open(&a, store, "log"))
        return fail("open log");
    int64_t want_rows = 0;
    for (int r = 0; r < nranks_; r++)
        for (int seq = 0; seq < APPENDS; seq++)
            want_rows += 1 + (seq + r) % 2;
    long bad = 0;
    const int64_t *shape = zarrc_array_shape(a);
    if (shape[0] != want_rows) {
        fprintf(stderr, "mpi_write: log has %lld rows, the appends made %lld\n",
                (long long)shape[0], (long long)want_rows);
        zarrc_array_free(a);
        return 1;
    }
    int32_t *rows = malloc((size_t)want_rows * 4 * sizeof *rows);
    char *seen = calloc((size_t)nranks_ * APPENDS * 2, 1);
    int64_t start[2] = {0, 0}, count[2] = {want_rows, 4};
    if (!rows || !seen || zarrc_array_read(a, start, count, NULL, rows,
                                           (size_t)want_rows * 4 * sizeof *rows)) {
        bad = fail("read log");
        goto out;
    }
    for (int64_t k = 0; k < want_rows; k++) {
        int32_t r = rows[k * 4], seq = rows[k * 4 + 1], part = rows[k * 4 + 3];
        if (r < 0 || r >= nranks_ || seq < 0 || seq >= APPENDS || part < 0 || part > 1 ||
            rows[k * 4 + 2] != seq * r || part > (seq + r) % 2 ||
            seen[((size_t)r * APPENDS + (size_t)seq) * 2 + (size_t)part]++) {
            if (bad++ < 5)
                fprintf(stderr, "mpi_write: log row %lld = {%d, %d, %d, %d} is not one append's\n",
                        (long long)k, r, seq, rows[k * 4 + 2], part);
        }
        /* The two rows of one append are adjacent: the append is one contiguous block. */
        if (part == 1 && (k == 0 || rows[(k - 1) * 4] != r || rows[(k - 1) * 4 + 1] != seq) &&
            bad++ < 5)
            fprintf(stderr, "mpi_write: log row %lld is split from its append\n", (long long)k);
    }
out:
    free(rows);
    free(seen);
    zarrc_array_free(a);
    return bad;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks_);
    if (argc != 2) {
        if (rank_ == 0)
            fprintf(stderr, "usage: mpirun -np N mpi_write DIRECTORY\n");
        MPI_Finalize();
        return 2;
    }
    /* One pool thread per rank: the ranks already keep the cores busy. */
    zarrc_set_num_threads(1);

    zarrc_store *store = NULL;
    int err = zarrc_store_open(&store, argv[1], ZARRC_STORE_CREATE) ? fail("open store") : 0;
    if (rank_ == 0 && !err)
        err = create_hierarchy(store);
    /* Metadata exists before anyone opens an array. */
    int any = 0;
    MPI_Allreduce(&err, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (any) {
        zarrc_store_free(store);
        MPI_Finalize();
        return 1;
    }
    for (int k = 0; k < 2; k++)
        err |= write_grid(store, ARRAYS[k]);
    err |= append_log(store);
    MPI_Allreduce(&err, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);

    long bad = 0;
    if (rank_ == 0 && !any) {
        size_t n = 0;
        if (zarrc_consolidate(store, "", &n))
            bad += fail("consolidate");
        for (int k = 0; k < 2; k++) {
            int32_t winners[64] = {0};
            bad += check_grid(store, ARRAYS[k], winners);
        }
        bad += check_log(store);
        printf("mpi_write: %d ranks, %zu nodes consolidated, %s\n", nranks_, n,
               bad ? "MISMATCH against the sequential model" : "equal to the sequential model");
    }
    zarrc_store_free(store);
    MPI_Finalize();
    return any || bad ? 1 : 0;
}
