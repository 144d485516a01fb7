/* SPDX-License-Identifier: MPL-2.0 */
/* util_win.h - helpers for the integration tests run against the service. */
#ifndef SHMB_ITEST_UTIL_H
#define SHMB_ITEST_UTIL_H

#include <windows.h>

#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "shmb.h"

#ifndef SECTION_QUERY
#define SECTION_QUERY 0x0001
#endif

/* Fails the test unless `expr` (a library call on client c) is SHMB_OK,
 * printing the code and the broker's message. */
#define CHECK_OK(c, expr)                                                      \
    do {                                                                       \
        int rc_ = (expr);                                                      \
        if (rc_ != SHMB_OK) {                                                  \
            fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__,       \
                    #expr, shmb_err_name(rc_), shmb_client_message(c));        \
            return 1;                                                          \
        }                                                                      \
    } while (0)

/* The pipe of the service under test (env SHMB_PIPE or the default). */
const char *itest_pipe(void);
/* Connects or fails the test with the reason printed. */
shmb_client *itest_connect(void);
/* Same, to another pipe (the quota instance). */
shmb_client *itest_connect_pipe(const char *pipe);
#define ITEST_QUOTA_PIPE "\\\\.\\pipe\\shmb-quota"
/* Runs this test program again as a child: `shmb-itest ARGS`; returns its
 * exit code, or -1 when it could not be started or timed out. */
int itest_child(const char *args);
/* Runs the child with Administrators made deny-only (CreateRestrictedToken),
 * or from a copy of this program under another file name. */
int itest_child_restricted(const char *args);
/* Runs the child as `token` (a primary token), or as us if NULL. */
int itest_child_as(const char *args, HANDLE token);
int itest_child_renamed(const char *args);
/* Starts the child without waiting; returns its process handle or NULL. */
HANDLE itest_child_start(const char *args);
/* A process-unique region name with the given stem. */
const char *itest_name(const char *stem);
/* The access mask the kernel recorded for `h`, or -1 if unknown. */
long long itest_granted_access(HANDLE h);
/* Running under Wine? Then say so in a skip. */
int itest_under_wine(void);

/* Raw pipe access for protocol-violation tests. */
HANDLE raw_connect(void);
HANDLE raw_connect_pipe(const char *pipe);
int raw_send(HANDLE h, const void *buf, size_t len);
int raw_send_frame(HANDLE h, const char *json);
/* Reads one frame into buf (NUL-terminated); returns its length, or -1 on
 * EOF / error. */
long raw_recv_frame(HANDLE h, char *buf, size_t cap);
/* 1 if the server closed the connection (read returns EOF). */
int raw_at_eof(HANDLE h);
/* hello on a raw connection; returns 0 on success. */
int raw_hello(HANDLE h);

/* The child-process entry points (argv[1] starts with "child-"). */
int itest_child_main(int argc, char **argv);
int child_open_named(int argc, char **argv);
int child_lowil(void);
int child_ac(void);
int child_squat_pipe(void);

#endif
