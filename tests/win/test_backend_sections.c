/* SPDX-License-Identifier: MPL-2.0 */
/* test_backend_sections.c - section_win.c: grantees are pruned (issue 8
 * item 5) and a Global\ name is adopted only when it is exactly ours
 * (item 8). */
#include <windows.h>

#include <stdio.h>

#include "harness.h"
#include "peer_win.h"
#include "platform.h"
#include "section_win.h"

/* A process that never runs: this program, suspended. Grants can be
 * duplicated into it, and it exits when terminated. */
static int spawn_suspended(plat_peer *peer)
{
    WCHAR self[MAX_PATH];
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;

    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    if (!GetModuleFileNameW(NULL, self, MAX_PATH) ||
        !CreateProcessW(self, NULL, NULL, NULL, FALSE, CREATE_SUSPENDED, NULL,
                        NULL, &si, &pi))
        return 0;
    CloseHandle(pi.hThread);
    peer->process = pi.hProcess;
    peer->pid = pi.dwProcessId;
    return 1;
}

static void end_process(plat_peer *peer)
{
    if (peer->process == NULL)
        return;
    TerminateProcess(peer->process, 0);
    WaitForSingleObject(peer->process, 10000);
    CloseHandle(peer->process);
    peer->process = NULL;
}

int test_grantees_pruned(void)
{
    plat_section *s = NULL;
    plat_peer peer = {NULL, 0};
    plat_grant handle;
    uint32_t syserr = 0;
    int i;

    CHECK_INT(plat_section_create(65536, 0, NULL, NULL, &s, &syserr), SHMB_OK);
    /* One process after another gets a grant and exits: the list must
     * not keep one handle per process that ever held the region. */
    for (i = 0; i < 24; i++) {
        CHECK(spawn_suspended(&peer));
        CHECK_INT(
            plat_section_grant(s, &peer, SHMB_ACCESS_RO, &handle, &syserr),
            SHMB_OK);
        CHECK(win_section_grantees(s) <= 2);
        end_process(&peer);
    }
    CHECK_INT(plat_section_in_use(s), 0);
    CHECK_INT((int)win_section_grantees(s), 0);
done:
    end_process(&peer);
    plat_section_close(s);
    return TEST_RESULT;
}

int test_config_region_keeps_no_grantees(void)
{
    plat_section *s = NULL;
    plat_peer peer = {NULL, 0};
    plat_grant handle;
    uint32_t syserr = 0;

    CHECK_INT(plat_section_create(65536, 0, NULL, NULL, &s, &syserr), SHMB_OK);
    plat_section_untrack(s);
    CHECK(spawn_suspended(&peer));
    CHECK_INT(plat_section_grant(s, &peer, SHMB_ACCESS_RO, &handle, &syserr),
              SHMB_OK);
    CHECK_INT((int)win_section_grantees(s), 0);
    /* Never asked by the broker; if it were, it cannot say "free". */
    CHECK_INT(plat_section_in_use(s), 1);
done:
    end_process(&peer);
    plat_section_close(s);
    return TEST_RESULT;
}

#define ADOPT_SDDL "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;0x5;;;AU)S:(ML;;NW;;;LW)"

int test_global_region_adopted_if_identical(void)
{
    char name[64];
    WCHAR wname[64];
    plat_section *s = NULL, *again = NULL;
    HANDLE reader = NULL;
    uint32_t syserr = 0;

    snprintf(name, sizeof(name), "Global\\shmb-adopt-%lu",
             GetCurrentProcessId());
    MultiByteToWideChar(CP_UTF8, 0, name, -1, wname, 64);
    CHECK_INT(plat_section_create(1000, 0, name, ADOPT_SDDL, &s, &syserr),
              SHMB_OK);
    /* A reader keeps the name alive while the service restarts. (1000
     * bytes: the kernel reports a whole page, which must still match.) */
    reader = OpenFileMappingW(FILE_MAP_READ, FALSE, wname);
    CHECK(reader != NULL);
    plat_section_close(s);
    s = NULL;
    CHECK_INT(plat_section_create(1000, 0, name, ADOPT_SDDL, &s, &syserr),
              SHMB_OK);
    /* Anything else about it differs: refused, saying what. */
    CHECK_INT(plat_section_create(1000, 0, name,
                                  "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;0x4;;;AU)"
                                  "S:(ML;;NW;;;LW)",
                                  &again, &syserr),
              SHMB_E_EXISTS);
    CHECK_INT(syserr, ERROR_INVALID_ACL);
    CHECK_INT(plat_section_create(8192, 0, name, ADOPT_SDDL, &again, &syserr),
              SHMB_E_EXISTS);
    CHECK_INT(syserr, ERROR_INVALID_PARAMETER);
    CHECK_INT(plat_section_create(1000, 0, name,
                                  "O:BAD:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;0x5;;;AU)"
                                  "S:(ML;;NW;;;LW)",
                                  &again, &syserr),
              SHMB_E_EXISTS);
    CHECK_INT(syserr, ERROR_INVALID_OWNER);
done:
    plat_section_close(again);
    plat_section_close(s);
    if (reader != NULL)
        CloseHandle(reader);
    return TEST_RESULT;
}

int test_global_region_squatted_refused(void)
{
    char name[64];
    WCHAR wname[64];
    plat_section *s = NULL;
    HANDLE squat = NULL;
    uint32_t syserr = 0;

    snprintf(name, sizeof(name), "Global\\shmb-squat-%lu",
             GetCurrentProcessId());
    MultiByteToWideChar(CP_UTF8, 0, name, -1, wname, 64);
    /* Same size, the squatter's default descriptor. */
    squat = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                               4096, wname);
    CHECK(squat != NULL);
    CHECK_INT(plat_section_create(4096, 0, name, ADOPT_SDDL, &s, &syserr),
              SHMB_E_EXISTS);
    CHECK(syserr == ERROR_INVALID_ACL || syserr == ERROR_INVALID_OWNER);
done:
    plat_section_close(s);
    if (squat != NULL)
        CloseHandle(squat);
    return TEST_RESULT;
}

/* plat_process_alive names one process by pid and creation time (issue 8
 * item 4): alive while it runs, gone once it has exited, and a wrong
 * creation time is another process. */
int test_process_alive_by_creation_time(void)
{
    plat_peer p = {NULL, 0};
    FILETIME created, exited, kernel, user;
    uint64_t t = 0;

    CHECK(spawn_suspended(&p));
    CHECK(GetProcessTimes(p.process, &created, &exited, &kernel, &user));
    t = (uint64_t)created.dwHighDateTime << 32 | created.dwLowDateTime;
    CHECK_INT(plat_process_alive(p.pid, t), 1);
    CHECK_INT(plat_process_alive(p.pid, t + 1), 0);
    CHECK_INT(plat_process_alive(p.pid, 0), 1); /* unknown: alive */
    end_process(&p);
    CHECK_INT(plat_process_alive(p.pid, t), 0);
done:
    end_process(&p);
    return TEST_RESULT;
}
