/* Replays a fuzz corpus through a fuzz target without libFuzzer (used by ctest, so every
 * build — including the sanitizer build — runs the saved inputs). Usage: replay DIR... */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (!d) {
            fprintf(stderr, "replay: cannot open %s\n", argv[i]);
            return 1;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            FILE *f = fopen(path, "rb");
            if (!f)
                continue;
            fseek(f, 0, SEEK_END);
            long len = ftell(f);
            fseek(f, 0, SEEK_SET);
            uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
            size_t got = buf ? fread(buf, 1, (size_t)len, f) : 0;
            fclose(f);
            LLVMFuzzerTestOneInput(buf, got);
            free(buf);
            n++;
        }
        closedir(d);
    }
    printf("replayed %d inputs: %d passed, 0 failed\n", n, n);
    return n > 0 ? 0 : 1;
}
