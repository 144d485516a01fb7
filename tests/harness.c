/* SPDX-License-Identifier: MPL-2.0 */
/* harness.c - runner for the tables of tests/harness.h. */
#include <stdlib.h>

#include "harness.h"

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
                rc = t->fn();
                fflush(stdout);
                fflush(stderr);
                return rc;
            }
        }
        fprintf(stderr, "no test named %s\n", argv[1]);
        return 2;
    }
    for (t = tests; t->name != NULL; t++) {
        rc = t->fn();
        fflush(stderr);
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
