/* SPDX-License-Identifier: MPL-2.0 */
/* backend_main.c - the Windows backend's in-process tests: the *_win.c
 * files of service/ linked in directly, no service running. */
#include "harness.h"

#define SHMB_TEST(name, label) int test_##name(void);
#include "test-list-backend.h"
#undef SHMB_TEST

static const shmb_test tests[] = {
#define SHMB_TEST(name, label) {#name, test_##name},
#include "test-list-backend.h"
#undef SHMB_TEST
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return shmb_test_main(tests, argc, argv);
}
