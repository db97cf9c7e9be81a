/* s3_check — a probe for the S3 store tests (run_s3.py): open a store URL and report the
 * library's answer in one line, so that the driver can check error codes and the multi-writer
 * guarantee through the public API.
 *
 *   s3_check URL ro|rw|create      prints "rc=N safe=0|1 size=N msg=..." and exits 0
 *   s3_check URL get KEY           as above, after reading KEY (size=N added)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zarrc.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: s3_check URL ro|rw|create|get [KEY]\n");
        return 2;
    }
    unsigned flags = !strcmp(argv[2], "rw") ? 0 : !strcmp(argv[2], "create") ? ZARRC_STORE_CREATE : ZARRC_STORE_READONLY;
    zarrc_store *st = NULL;
    int rc = zarrc_store_open(&st, argv[1], flags);
    size_t size = 0;
    if (rc == ZARRC_OK && !strcmp(argv[2], "get") && argc > 3) {
        void *data = NULL;
        rc = zarrc_store_get(&data, &size, st, argv[3]);
        free(data);
    }
    printf("rc=%d safe=%d size=%zu msg=%s\n", rc,
           st ? zarrc_store_multi_writer_safe(st) : -1, size, rc ? zarrc_error_last() : "");
    zarrc_store_free(st);
    return 0;
}
