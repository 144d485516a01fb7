/* SPDX-License-Identifier: MPL-2.0 */
/*
 * harness.h - a very small test harness in libuv's manner: each test is a
 * function `int test_NAME(void)` listed once in a list header with
 * SHMB_TEST(NAME, "label"). CMake reads the list and registers one ctest
 * test per entry; the runner runs one test by name, or all of them.
 *
 * A test ends in a cleanup block that frees whatever it holds, and returns
 * the verdict its checks recorded:
 *
 *     int test_frame_roundtrip(void)
 *     {
 *         uint8_t *f = NULL;
 *         f = shmb_frame_encode(...);
 *         CHECK(f != NULL);
 *         ...
 *     done:
 *         free(f);
 *         return TEST_RESULT;
 *     }
 *
 * A failed CHECK (and FAIL, SKIP, a WAIT_UNTIL that times out) prints why
 * and jumps to `done:`, so a failing test still frees what it holds and a
 * sanitizer's leak report never adds noise to the real failure. Hence:
 * initialise every resource (to NULL, {0}, INVALID_HANDLE_VALUE) where it
 * is declared, and never CHECK after `done:`.
 *
 * TEST_RESULT is 0 (pass), 1 (fail) or SHMB_TEST_SKIP (77: ctest reports
 * "Skipped" - never a pass).
 */
#ifndef SHMB_HARNESS_H
#define SHMB_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define SHMB_TEST_SKIP 77

#if defined(__MINGW32__)
/* MinGW builds use its C99 printf (__USE_MINGW_ANSI_STDIO), not msvcrt's. */
#define SHMB_TEST_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#elif defined(__GNUC__)
#define SHMB_TEST_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SHMB_TEST_PRINTF(f, a)
#endif

/* Records a failure of the running test at file:line, printing the
 * message; the test goes on unless the caller jumps (see FAIL). */
void shmb_test_fail(const char *file, int line, const char *fmt, ...)
    SHMB_TEST_PRINTF(3, 4);
/* Records that the running test is skipped, printing why. */
void shmb_test_skip(const char *fmt, ...) SHMB_TEST_PRINTF(1, 2);
/* What the running test has recorded so far: 0, 1 or SHMB_TEST_SKIP. */
int shmb_test_result(void);
#define TEST_RESULT shmb_test_result()

/* A monotonic clock in milliseconds, and a sleep (Windows and POSIX). */
uint64_t shmb_clock_ms(void);
void shmb_sleep_ms(unsigned ms);

/* Reads at most cap - 1 bytes of the file at `path` into out, NUL-ended:
 * the number read, or -1 if it cannot be opened. */
int shmb_test_read_file(const char *path, char *out, size_t cap);

/* Fails the test and goes to its cleanup. */
#define FAIL(...)                                                              \
    do {                                                                       \
        shmb_test_fail(__FILE__, __LINE__, __VA_ARGS__);                       \
        goto done;                                                             \
    } while (0)

/* Fails the test but carries on: for tables that report every bad row. */
#define ADD_FAILURE(...) shmb_test_fail(__FILE__, __LINE__, __VA_ARGS__)

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            FAIL("CHECK failed: %s", #cond);                                   \
    } while (0)

#define CHECK_INT(a, b)                                                        \
    do {                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        if (a_ != b_)                                                          \
            FAIL("CHECK_INT failed: %s == %lld, want %s == %lld", #a, a_, #b,  \
                 b_);                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *a_ = (a), *b_ = (b);                                       \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                   \
            FAIL("CHECK_STR failed: %s is \"%s\", want \"%s\"", #a,            \
                 a_ ? a_ : "(null)", b_ ? b_ : "(null)");                      \
    } while (0)

#define SKIP(...)                                                              \
    do {                                                                       \
        shmb_test_skip(__VA_ARGS__);                                           \
        goto done;                                                             \
    } while (0)

/* How often WAIT_UNTIL looks again. */
#define SHMB_POLL_MS 10

/*
 * WAIT_UNTIL(cond, ms): evaluates `cond` every SHMB_POLL_MS until it holds;
 * when it still does not hold after `ms`, fails the test like CHECK
 * ("WAIT_UNTIL timed out after 5000 ms: cond"). `cond` may have side
 * effects (a request, a count) and is evaluated once more after the
 * deadline, so a slow machine gets the full time.
 *
 * A statement, not an expression: ISO C (and MSVC) has no loop inside an
 * expression, so it fails on its own rather than inside CHECK().
 */
#define WAIT_UNTIL(cond, ms)                                                   \
    do {                                                                       \
        uint64_t wu_end_ = shmb_clock_ms() + (uint64_t)(ms);                   \
        while (!(cond)) {                                                      \
            if (shmb_clock_ms() >= wu_end_)                                    \
                FAIL("WAIT_UNTIL timed out after %u ms: %s", (unsigned)(ms),   \
                     #cond);                                                   \
            shmb_sleep_ms(SHMB_POLL_MS);                                       \
        }                                                                      \
    } while (0)

typedef struct shmb_test {
    const char *name;
    int (*fn)(void);
} shmb_test;

/* Runs argv[1] by name, or every test when no name is given. Prints one
 * closing line "N passed, N failed, N skipped". */
int shmb_test_main(const shmb_test *tests, int argc, char **argv);

#endif
