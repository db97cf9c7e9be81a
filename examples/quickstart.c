/*
 * quickstart.c — create a compressed v3 array, write a block, read a strided region back.
 * Build: cc quickstart.c $(pkg-config --cflags --libs zarrc) -o quickstart
 * Run:   ./quickstart [DIRECTORY]   (default: a fresh directory under /tmp)
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <zarrc.h>

static int fail(const char *what)
{
    fprintf(stderr, "quickstart: %s: %s\n", what, zarrc_error_last());
    return 1;
}

int main(int argc, char **argv)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s", argc > 1 ? argv[1] : "/tmp/zarrc-quickstart");

    zarrc_store *store = NULL;
    if (zarrc_store_open(&store, dir, ZARRC_STORE_CREATE))
        return fail("open store");

    /* A 1000 x 1000 float32 array in 100 x 100 chunks, zstd-compressed (the v3 default). */
    int64_t shape[2] = {1000, 1000}, chunks[2] = {100, 100};
    zarrc_array_options opts = ZARRC_ARRAY_OPTIONS_INIT;
    opts.format = 3;
    opts.dtype = "float32";
    opts.ndim = 2;
    opts.shape = shape;
    opts.chunks = chunks;
    opts.fill_value = "\"NaN\"";
    opts.attributes = "{\"units\": \"kelvin\"}";
    opts.flags = ZARRC_OVERWRITE;
    zarrc_array *temp = NULL;
    if (zarrc_array_create(&temp, store, "climate/temperature", &opts))
        return fail("create array");

    /* Write a 250 x 300 block at (100, 200): four chunks are partly covered. */
    int64_t start[2] = {100, 200}, count[2] = {250, 300};
    float *block = malloc(250 * 300 * sizeof *block);
    for (int i = 0; i < 250 * 300; i++)
        block[i] = 273.15f + (float)(i % 300) * 0.01f;
    if (zarrc_array_write(temp, start, count, NULL, block, 250 * 300 * sizeof *block))
        return fail("write");

    /* Read every 50th row and column of the written area plus some never-written cells. */
    int64_t rstart[2] = {100, 150}, rcount[2] = {6, 8}, step[2] = {50, 50};
    float out[6 * 8];
    if (zarrc_array_read(temp, rstart, rcount, step, out, sizeof out))
        return fail("read");
    for (int r = 0; r < 6; r++) {
        for (int c = 0; c < 8; c++)
            printf("%8.2f", out[r * 8 + c]); /* NaN where nothing was written */
        printf("\n");
    }

    free(block);
    zarrc_array_free(temp);
    zarrc_store_free(store);
    return 0;
}
