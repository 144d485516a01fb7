/* SPDX-License-Identifier: MPL-2.0 */
/* harness.c - runner for the tables of tests/harness.h, the small clock
 * and sleep shim WAIT_UNTIL needs on Windows and POSIX, and a file reader
 * for tests that check what was written. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */
#endif

#include <stdarg.h>
#include <stdlib.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <time.h>
#endif

#include "harness.h"

/* The verdict of the test that is running (one at a time). */
static int g_result;

void shmb_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    g_result = 1;
}

void shmb_test_skip(const char *fmt, ...)
{
    va_list ap;
    printf("SKIP: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (g_result == 0)
        g_result = SHMB_TEST_SKIP;
}

int shmb_test_result(void)
{
    return g_result;
}

uint64_t shmb_clock_ms(void)
{
#ifdef _WIN32
    return (uint64_t)GetTickCount64();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
#endif
}

int shmb_test_read_file(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    if (f == NULL)
        return -1;
    n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
    return (int)n;
}

void shmb_sleep_ms(unsigned ms)
{
#ifdef _WIN32
    Sleep(ms);
#else
    struct timespec ts;
    ts.tv_sec = ms / 1000u;
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&ts, &ts) != 0)
        ; /* interrupted: sleep the rest */
#endif
}

static int run_one(const shmb_test *t)
{
    int rc;
    g_result = 0;
    rc = t->fn();
    /* A test that forgot to return TEST_RESULT still fails if it failed. */
    if (rc == 0)
        rc = g_result;
    fflush(stdout);
    fflush(stderr);
    return rc;
}

int shmb_test_main(const shmb_test *tests, int argc, char **argv)
{
    const shmb_test *t;
    int passed = 0, failed = 0, skipped = 0, rc;

    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (t = tests; t->name != NULL; t++)
            printf("%s\n", t->name);
        return 0;
    }
    if (argc > 1) {
        for (t = tests; t->name != NULL; t++) {
            if (strcmp(t->name, argv[1]) == 0) {
                /* A log without this line means the program never ran. */
                printf("== %s\n", t->name);
                fflush(stdout);
                return run_one(t);
            }
        }
        fprintf(stderr, "no test named %s\n", argv[1]);
        return 2;
    }
    for (t = tests; t->name != NULL; t++) {
        rc = run_one(t);
        printf("%s %s\n",
               rc == 0                ? "ok  "
               : rc == SHMB_TEST_SKIP ? "skip"
                                      : "FAIL",
               t->name);
        fflush(stdout);
        if (rc == 0)
            passed++;
        else if (rc == SHMB_TEST_SKIP)
            skipped++;
        else
            failed++;
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
