/* SPDX-License-Identifier: MPL-2.0 */
/*
 * harness.h - a very small test harness in libuv's manner: each test is a
 * function `int test_NAME(void)` listed once in a list header with
 * SHMB_TEST(NAME, "label"). CMake reads the list and registers one ctest
 * test per entry; the runner runs one test by name, or all of them.
 *
 * A test returns 0 (pass), 1 (fail) or SHMB_TEST_SKIP (77: ctest reports
 * "Skipped" - never a pass) after printing why with SKIP().
 */
#ifndef SHMB_HARNESS_H
#define SHMB_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define SHMB_TEST_SKIP 77

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            return 1;                                                          \
        }                                                                      \
    } while (0)

#define CHECK_INT(a, b)                                                        \
    do {                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        if (a_ != b_) {                                                        \
            fprintf(stderr,                                                    \
                    "%s:%d: CHECK_INT failed: %s == %lld, want %s == "         \
                    "%lld\n",                                                  \
                    __FILE__, __LINE__, #a, a_, #b, b_);                       \
            return 1;                                                          \
        }                                                                      \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *a_ = (a), *b_ = (b);                                       \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                 \
            fprintf(stderr,                                                    \
                    "%s:%d: CHECK_STR failed: %s is \"%s\", want "             \
                    "\"%s\"\n",                                                \
                    __FILE__, __LINE__, #a, a_ ? a_ : "(null)",                \
                    b_ ? b_ : "(null)");                                       \
            return 1;                                                          \
        }                                                                      \
    } while (0)

#define SKIP(...)                                                              \
    do {                                                                       \
        printf("SKIP: ");                                                      \
        printf(__VA_ARGS__);                                                   \
        printf("\n");                                                          \
        return SHMB_TEST_SKIP;                                                 \
    } while (0)

typedef struct shmb_test {
    const char *name;
    int (*fn)(void);
} shmb_test;

/* Runs argv[1] by name, or every test when no name is given. Prints one
 * closing line "N passed, N failed, N skipped". */
int shmb_test_main(const shmb_test *tests, int argc, char **argv);

#endif
