/* check.h — minimal assertion helpers for the C test programs (no framework dependency). */
#ifndef ZARRC_TEST_CHECK_H
#define ZARRC_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures, check_count;

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        check_count++;                                                                         \
        if (!(cond)) {                                                                         \
            check_failures++;                                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);           \
        }                                                                                      \
    } while (0)

/* A zarrc call that must succeed; prints the library's message otherwise. */
#define CHECK_OK(call)                                                                         \
    do {                                                                                       \
        check_count++;                                                                         \
        int rc_ = (call);                                                                      \
        if (rc_ != 0) {                                                                        \
            check_failures++;                                                                  \
            fprintf(stderr, "%s:%d: %s failed (%d): %s\n", __FILE__, __LINE__, #call, rc_,     \
                    zarrc_error_last());                                                       \
        }                                                                                      \
    } while (0)

/* A zarrc call that must fail with `code` and a message containing `needle`. */
#define CHECK_ERR(call, code, needle)                                                          \
    do {                                                                                       \
        check_count++;                                                                         \
        int rc_ = (call);                                                                      \
        if (rc_ != (code) || !strstr(zarrc_error_last(), (needle))) {                          \
            check_failures++;                                                                  \
            fprintf(stderr, "%s:%d: %s: expected %d containing '%s', got %d: '%s'\n",          \
                    __FILE__, __LINE__, #call, (code), (needle), rc_, zarrc_error_last());     \
        }                                                                                      \
    } while (0)

/* CHECK with a printf-style explanation, plus the library's last error. */
#define CHECK_MSG(cond, ...)                                                                   \
    do {                                                                                       \
        check_count++;                                                                         \
        if (!(cond)) {                                                                         \
            check_failures++;                                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);           \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fprintf(stderr, " [last error: %s]\n", zarrc_error_last());                       \
        }                                                                                      \
    } while (0)

/* Deterministic test data: xorshift64. */
static uint64_t check_rng = 0x9e3779b97f4a7c15ULL;
static inline uint64_t check_rnd(void)
{
    check_rng ^= check_rng << 13;
    check_rng ^= check_rng >> 7;
    check_rng ^= check_rng << 17;
    return check_rng;
}

static inline int check_report(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_count - check_failures, check_failures);
    return check_failures ? 1 : 0;
}

#endif
