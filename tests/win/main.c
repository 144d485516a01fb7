/* SPDX-License-Identifier: MPL-2.0 */
/* main.c - the integration test table; "child-*" arguments run one of the
 * child processes of children.c instead. */
#include <string.h>

#include "util_win.h"

#define SHMB_TEST(name, label) int test_##name(void);
#include "test-list.h"
#include "test-list-quota.h"
#include "test-list-reconnect.h"
#include "test-list-dataplane.h"
#undef SHMB_TEST

static const shmb_test tests[] = {
#define SHMB_TEST(name, label) {#name, test_##name},
#include "test-list.h"
#include "test-list-quota.h"
#include "test-list-reconnect.h"
#include "test-list-dataplane.h"
#undef SHMB_TEST
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    if (argc > 1 && strncmp(argv[1], "child-", 6) == 0)
        return itest_child_main(argc, argv);
    return shmb_test_main(tests, argc, argv);
}
