/* SPDX-License-Identifier: MPL-2.0 */
/*
 * util_win.h - helpers for the integration tests run against the installed
 * service: connecting (through the library or raw), starting this program
 * again as a child process, and a few Win32 look-ups the checks need.
 */
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

/* Fails the test (goto done) unless `expr` (a library call on client c) is
 * SHMB_OK, printing the code and the broker's message. */
#define CHECK_OK(c, expr)                                                      \
    do {                                                                       \
        int rc_ = (expr);                                                      \
        if (rc_ != SHMB_OK)                                                    \
            FAIL("%s -> %s: %s", #expr, shmb_err_name(rc_),                    \
                 shmb_client_message(c));                                      \
    } while (0)

/* Fails the test unless `expr` is `code` with `msg` in the broker's
 * message. */
#define CHECK_ERR(c, expr, code, msg)                                          \
    do {                                                                       \
        int rc_ = (expr);                                                      \
        if (rc_ != (code) || strstr(shmb_client_message(c), (msg)) == NULL)    \
            FAIL("%s -> %s '%s', want %s '%s'", #expr, shmb_err_name(rc_),     \
                 shmb_client_message(c), shmb_err_name(code), (msg));          \
    } while (0)

/* Skips the test under Wine, saying what it would need. */
#define WINE_SKIP(why)                                                         \
    do {                                                                       \
        if (itest_under_wine())                                                \
            SKIP("needs real Windows: %s", why);                               \
    } while (0)

/* How long WAIT_UNTIL gives the service to act on something it learns
 * asynchronously (a client gone, a grant undelivered). Generous: it only
 * costs time when a test fails. */
#define ITEST_WAIT_MS 10000

/* The pipe of the service under test (env SHMB_PIPE or the default). */
const char *itest_pipe(void);
/* Connects or returns NULL with the reason printed. */
shmb_client *itest_connect(void);
/* Same, to another pipe (the quota instance). */
shmb_client *itest_connect_pipe(const char *pipe);
#define ITEST_QUOTA_PIPE "\\\\.\\pipe\\shmb-quota"
/* A read-write region of `size` bytes with lifetime `lt`. */
int itest_create(shmb_client *c, const char *name, uint64_t size,
                 shmb_lifetime lt, shmb_region *r);
/* A process-unique region name with the given stem. */
const char *itest_name(const char *stem);
/* The access mask the kernel recorded for `h`, or -1 if unknown. */
long long itest_granted_access(HANDLE h);
/* Running under Wine? Then say so in a skip. */
int itest_under_wine(void);
/* Our user's SID as text, into out; 0 if it could not be read. */
int itest_self_sid(char *out, size_t cap);
/* A SID as text (a static buffer; "" for NULL). */
const char *itest_sid_text(PSID sid);
/* OpenFileMappingW(access) of a kernel name: 0 if it opened, else the
 * error. */
DWORD itest_open_named(const WCHAR *name, DWORD access);
/* Waits up to `ms` for an instance of `pipe` to exist and be free. */
int itest_wait_pipe(const char *pipe, unsigned ms);

/* ---- child processes: this program again, as `shmb-itest ARGS` ------- */

/* Runs the child to its end and returns its exit code, or -1 when it could
 * not be started or did not end within a minute. */
int itest_child(const char *args);
/* Same, with Administrators made deny-only (CreateRestrictedToken). */
int itest_child_restricted(const char *args);
/* Same, as `token` (a primary token), or as us if NULL. */
int itest_child_as(const char *args, HANDLE token);
/* Same, from a copy of this program under another file name. */
int itest_child_renamed(const char *args);

/* A child that runs until told: its stdin is a pipe only we write to. Each
 * itest_child_tell() lets it take its next step; itest_child_stop() closes
 * the pipe, which tells it to exit (and so does our own exit). */
typedef struct itest_proc {
    HANDLE process;
    HANDLE stdin_w;
} itest_proc;
#define ITEST_PROC_INIT                                                        \
    {                                                                          \
        NULL, NULL                                                             \
    }
int itest_child_start(itest_proc *p, const char *args);
int itest_child_tell(itest_proc *p);
/* Still running? */
int itest_child_running(const itest_proc *p);
/* Tells the child to exit, waits for it (terminating it after 30 s) and
 * returns its exit code, or -1. Safe on a child never started. */
int itest_child_stop(itest_proc *p);

/* In a child: waits for the parent's next word. 1 when told to go on, 0
 * when told to exit (stdin closed). */
int child_wait_told(void);

/* Raw pipe access for protocol-violation tests. */
HANDLE raw_connect(void);
HANDLE raw_connect_pipe(const char *pipe);
/* With FILE_FLAG_OVERLAPPED, for I/O that must not block the test. */
HANDLE raw_connect_overlapped(void);
int raw_send(HANDLE h, const void *buf, size_t len);
int raw_send_frame(HANDLE h, const char *json);
/* Reads one frame into buf (NUL-terminated); returns its length, or -1 on
 * EOF / error. */
long raw_recv_frame(HANDLE h, char *buf, size_t cap);
/* 1 if the server closed the connection (read returns EOF). */
int raw_at_eof(HANDLE h);
/* hello on a raw connection; returns 0 on success. */
int raw_hello(HANDLE h);
/* CloseHandle unless h is INVALID_HANDLE_VALUE or NULL. */
void raw_close(HANDLE h);

/* The child-process entry points (argv[1] starts with "child-"). */
int itest_child_main(int argc, char **argv);

#endif
