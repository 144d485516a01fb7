/* SPDX-License-Identifier: MPL-2.0 */
/* test_backend_pipe.c - listener_win.c and sddl_win.c: the pipe name always
 * has a free instance (issue 8 item 9), a pipe SDDL that lets ordinary
 * users create instances is refused (item 10), and named-region readers
 * without SECTION_QUERY are warned about (item 12). */
#include <windows.h>

#include <sddl.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "harness.h"
#include "peer_win.h"
#include "platform.h"
#include "sddl_win.h"

static void on_accept(void *ctx, plat_accepted *a)
{
    (void)ctx;
    plat_stream_close(a->fd);
}

/* Three clients connect one right after the other, with no WaitNamedPipe
 * and no retry: each must find an instance. With one instance that was
 * replaced only after its client had been identified, the second got
 * ERROR_PIPE_BUSY. */
int test_pipe_burst_finds_instances(void)
{
    uv_loop_t loop;
    plat_listener *l = NULL;
    char name[64], why[256];
    WCHAR wname[64];
    HANDLE c[3] = {INVALID_HANDLE_VALUE, INVALID_HANDLE_VALUE,
                   INVALID_HANDLE_VALUE};
    int i, loop_ok = uv_loop_init(&loop) == 0;

    CHECK(loop_ok);
    snprintf(name, sizeof(name), "\\\\.\\pipe\\shmb-burst-%lu",
             GetCurrentProcessId());
    MultiByteToWideChar(CP_UTF8, 0, name, -1, wname, 64);
    CHECK_INT(plat_listener_start(&loop, name,
                                  plat_conventions()->default_pipe_sddl, NULL,
                                  on_accept, NULL, &l, why, sizeof(why)),
              SHMB_OK);
    for (i = 0; i < 3; i++) {
        c[i] = CreateFileW(
            wname, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
            SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, NULL);
        if (c[i] == INVALID_HANDLE_VALUE)
            FAIL("client %d: CreateFileW failed (%lu)", i, GetLastError());
    }
done:
    for (i = 0; i < 3; i++) {
        if (c[i] != INVALID_HANDLE_VALUE)
            CloseHandle(c[i]);
    }
    if (l != NULL) {
        plat_listener_stop(l);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    if (loop_ok)
        uv_loop_close(&loop);
    return TEST_RESULT;
}

/* SHMB_OK or the refusal of win_pipe_sd_check for `sddl`. */
static int pipe_sddl_rc(const char *sddl, char *why, size_t cap)
{
    WCHAR w[256];
    PSECURITY_DESCRIPTOR sd = NULL;
    int rc;
    MultiByteToWideChar(CP_UTF8, 0, sddl, -1, w, 256);
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(
            w, SDDL_REVISION_1, &sd, NULL))
        return -1000;
    rc = win_pipe_sd_check(sd, why, cap);
    LocalFree(sd);
    return rc;
}

int test_pipe_sddl_create_instance_refused(void)
{
    static const char *const refused[] = {
        "D:P(A;;GA;;;SY)(A;;GA;;;AU)",  /* generic all */
        "D:P(A;;GA;;;SY)(A;;GW;;;AU)",  /* generic write */
        "D:P(A;;GA;;;SY)(A;;FA;;;WD)",  /* includes create-instance */
        "D:P(A;;GA;;;SY)(A;;0x4;;;AU)", /* FILE_CREATE_PIPE_INSTANCE */
        "D:P(A;;GA;;;SY)(A;;0x12019b;;;AU)(A;;WD;;;AC)", /* WRITE_DAC */
    };
    plat_listener *l = NULL;
    uv_loop_t loop;
    char why[512];
    size_t i;
    int loop_ok = 0;

    /* The shipped default and the example config's pass. */
    CHECK_INT(
        pipe_sddl_rc(plat_conventions()->default_pipe_sddl, why, sizeof(why)),
        SHMB_OK);
    CHECK_INT(pipe_sddl_rc("D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;0x12019b;;;AU)"
                           "(A;;0x12019b;;;AC)S:(ML;;NW;;;LW)",
                           why, sizeof(why)),
              SHMB_OK);
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        why[0] = '\0';
        if (pipe_sddl_rc(refused[i], why, sizeof(why)) != SHMB_E_INVALID_ARG)
            FAIL("accepted: %s", refused[i]);
        CHECK(strstr(why, "FILE_CREATE_PIPE_INSTANCE") != NULL);
    }
    /* And the service refuses to start on one, before creating the pipe. */
    loop_ok = uv_loop_init(&loop) == 0;
    CHECK(loop_ok);
    CHECK_INT(plat_listener_start(&loop, "\\\\.\\pipe\\shmb-bad-sddl",
                                  refused[0], NULL, on_accept, NULL, &l, why,
                                  sizeof(why)),
              SHMB_E_INVALID_ARG);
    CHECK(strstr(why, "S-1-5-11") != NULL);
done:
    if (l != NULL) {
        plat_listener_stop(l);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    if (loop_ok)
        uv_loop_close(&loop);
    return TEST_RESULT;
}

int test_reader_ace_without_query_warned(void)
{
    char warn[1024] = "";

    CHECK_INT(
        win_section_sddl_warnings("legacy/status",
                                  "D:P(A;;GA;;;SY)(A;;0x4;;;AU)S:(ML;;NW;;;LW)",
                                  warn, sizeof(warn)),
        1);
    CHECK(strstr(warn, "region 'legacy/status'") != NULL);
    CHECK(strstr(warn, "S-1-5-11 0x4") != NULL);
    CHECK(strstr(warn, "grant 0x5") != NULL);
    warn[0] = '\0';
    CHECK_INT(
        win_section_sddl_warnings("legacy/status",
                                  "D:P(A;;GA;;;SY)(A;;0x5;;;AU)S:(ML;;NW;;;LW)",
                                  warn, sizeof(warn)),
        0);
    CHECK_INT(win_section_sddl_warnings("x", "D:P(A;;GR;;;AU)(A;;0x6;;;WD)",
                                        warn, sizeof(warn)),
              1);
done:
    return TEST_RESULT;
}

/* A connection is only vouched for if its client process already existed
 * when it was accepted (issue 8 item 10): a process created later has the
 * pid of a client that exited. Here the client is this process, and the
 * "accept time" is moved to before and after its creation. */
int test_identify_refuses_process_newer_than_accept(void)
{
    HANDLE srv = INVALID_HANDLE_VALUE, cli = INVALID_HANDLE_VALUE;
    WCHAR wname[64];
    FILETIME created, exited, kernel, user, before, now;
    ULARGE_INTEGER t;
    plat_peer *peer = NULL;
    shmb_identity id;
    char why[256] = "";

    memset(&id, 0, sizeof(id));
    swprintf(wname, 64, L"\\\\.\\pipe\\shmb-reuse-%lu", GetCurrentProcessId());
    srv = CreateNamedPipeW(wname, PIPE_ACCESS_DUPLEX,
                           PIPE_TYPE_BYTE | PIPE_REJECT_REMOTE_CLIENTS, 1, 4096,
                           4096, 0, NULL);
    CHECK(srv != INVALID_HANDLE_VALUE);
    cli =
        CreateFileW(wname, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                    SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, NULL);
    CHECK(cli != INVALID_HANDLE_VALUE);
    CHECK(ConnectNamedPipe(srv, NULL) ||
          GetLastError() == ERROR_PIPE_CONNECTED);
    CHECK(GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel,
                          &user));
    t.LowPart = created.dwLowDateTime;
    t.HighPart = created.dwHighDateTime;
    t.QuadPart -= 10000000; /* one second before this process existed */
    before.dwLowDateTime = t.LowPart;
    before.dwHighDateTime = t.HighPart;
    CHECK_INT(peer_identify(srv, &before, &peer, &id, why, sizeof(why)),
              SHMB_E_ACCESS_DENIED);
    CHECK(strstr(why, "was created after the connection was accepted") != NULL);
    CHECK(peer == NULL);
    GetSystemTimeAsFileTime(&now);
    CHECK_INT(peer_identify(srv, &now, &peer, &id, why, sizeof(why)), SHMB_OK);
    CHECK_INT(id.pid, GetCurrentProcessId());
    CHECK(id.process_created ==
          ((uint64_t)created.dwHighDateTime << 32 | created.dwLowDateTime));
done:
    plat_peer_free(peer);
    shmb_identity_free(&id);
    if (cli != INVALID_HANDLE_VALUE)
        CloseHandle(cli);
    if (srv != INVALID_HANDLE_VALUE)
        CloseHandle(srv);
    return TEST_RESULT;
}
