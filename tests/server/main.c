/* SPDX-License-Identifier: MPL-2.0 */
/* main.c - the server test table. */
#include <signal.h>

#include "harness.h"

#define SHMB_TEST(name, label) int test_##name(void);
#include "test-list.h"
#undef SHMB_TEST

static const shmb_test tests[] = {
#define SHMB_TEST(name, label) {#name, test_##name},
#include "test-list.h"
#undef SHMB_TEST
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    /* A client that is gone makes the server's write fail with EPIPE; the
     * server handles that, the default SIGPIPE would kill the test. */
    signal(SIGPIPE, SIG_IGN);
    return shmb_test_main(tests, argc, argv);
}
