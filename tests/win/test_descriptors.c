/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_descriptors.c - the security descriptors the service applies, read
 * back ACE by ACE, and enforced where Wine enforces them: the control
 * pipe's (DACL, owner, mandatory label) and those of the config regions
 * with a Global\ name, opened by name with and without Administrators.
 * Pipe DACL enforcement and pipe squatting need real Windows.
 */
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>
#include <stdlib.h>
#include <string.h>

#include "shmb_config.h"
#include "util_win.h"

int test_named_regions_dacl(void)
{
    /* Our token: the user, Administrators enabled (Wine's user is an
     * administrator). The restricted child: Administrators deny-only. */
    CHECK_INT(itest_open_named(L"Global\\shmb-it-read", FILE_MAP_READ), 0);
    CHECK_INT(itest_open_named(L"Global\\shmb-it-read", FILE_MAP_WRITE),
              ERROR_ACCESS_DENIED);
    CHECK_INT(itest_open_named(L"Global\\shmb-it-sys", FILE_MAP_READ),
              ERROR_ACCESS_DENIED);
    CHECK_INT(itest_open_named(L"Global\\shmb-it-adm", FILE_MAP_READ), 0);
    CHECK_INT(itest_open_named(L"Global\\shmb-it-adm", FILE_MAP_WRITE), 0);
    CHECK_INT(itest_open_named(L"Global\\shmb-it-denyadm", FILE_MAP_READ),
              ERROR_ACCESS_DENIED);
    CHECK_INT(itest_open_named(L"Global\\shmb-itest-named", FILE_MAP_READ), 0);
    CHECK_INT(itest_open_named(L"Global\\shmb-itest-named", FILE_MAP_WRITE),
              ERROR_ACCESS_DENIED);
    /* Administrators deny-only: the allow ACE for BA no longer applies, the
     * deny ACE for BA still does; Everyone's read still does. */
    CHECK_INT(
        itest_child_restricted("child-open-named Global\\shmb-it-adm ro 5"), 0);
    CHECK_INT(
        itest_child_restricted("child-open-named Global\\shmb-it-read ro 0"),
        0);
    /* Control: unrestricted, the child opens the admins' region. */
    CHECK_INT(itest_child("child-open-named Global\\shmb-it-adm rw 0"), 0);
done:
    return TEST_RESULT;
}

int test_named_region_deny_ace_deny_only_group(void)
{
    WINE_SKIP("Wine's access check skips deny-only groups even for deny "
              "ACEs; Windows matches them");
    /* Administrators deny-only still meets the deny ACE for BA. */
    CHECK_INT(
        itest_child_restricted("child-open-named Global\\shmb-it-denyadm ro 5"),
        0);
done:
    return TEST_RESULT;
}

/* ---- applied descriptors, read back ACE by ACE ------------------------ */

static int ace_equal(const ACE_HEADER *a, const ACE_HEADER *b)
{
    const ACCESS_ALLOWED_ACE *x = (const ACCESS_ALLOWED_ACE *)a;
    const ACCESS_ALLOWED_ACE *y = (const ACCESS_ALLOWED_ACE *)b;
    return a->AceType == b->AceType && x->Mask == y->Mask &&
           EqualSid((PSID)&x->SidStart, (PSID)&y->SidStart);
}

/* The DACL of `got` holds exactly the ACEs of `want`'s, in order. */
static int dacl_matches(PACL got, PACL want)
{
    DWORD i;
    void *ga, *wa;
    if (got == NULL || want == NULL || got->AceCount != want->AceCount) {
        fprintf(stderr, "DACL has %u ACEs, want %u\n", got ? got->AceCount : 0,
                want ? want->AceCount : 0);
        return 0;
    }
    for (i = 0; i < want->AceCount; i++) {
        if (!GetAce(got, i, &ga) || !GetAce(want, i, &wa) ||
            !ace_equal(ga, wa)) {
            fprintf(stderr, "ACE %lu differs\n", i);
            return 0;
        }
    }
    return 1;
}

/* Walks the SACL for the mandatory label (SDDL text of labels is not
 * reliable everywhere, so compare the ACE itself). */
static int label_matches(PACL sacl, DWORD rid, DWORD policy)
{
    DWORD i;
    void *a;
    for (i = 0; sacl != NULL && i < sacl->AceCount; i++) {
        SYSTEM_MANDATORY_LABEL_ACE *l;
        PSID sid;
        if (!GetAce(sacl, i, &a) ||
            ((ACE_HEADER *)a)->AceType != SYSTEM_MANDATORY_LABEL_ACE_TYPE)
            continue;
        l = a;
        sid = (PSID)&l->SidStart;
        if (*GetSidSubAuthority(sid, 0) == rid && l->Mask == policy)
            return 1;
        fprintf(stderr, "label RID 0x%lx mask %lu, want 0x%lx %lu\n",
                *GetSidSubAuthority(sid, 0), l->Mask, rid, policy);
        return 0;
    }
    fprintf(stderr, "no mandatory label ACE in the SACL\n");
    return 0;
}

static int descriptor_matches(HANDLE h, const char *sddl, DWORD label_rid,
                              DWORD label_policy, char *owner_out,
                              size_t owner_cap)
{
    PSECURITY_DESCRIPTOR got = NULL, want = NULL;
    PACL gdacl = NULL, gsacl = NULL, wdacl = NULL;
    PSID owner = NULL;
    BOOL present, defaulted;
    DWORD rc;
    int ok = 0;

    rc =
        GetSecurityInfo(h, SE_KERNEL_OBJECT,
                        OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION |
                            LABEL_SECURITY_INFORMATION,
                        &owner, NULL, &gdacl, &gsacl, &got);
    if (rc != ERROR_SUCCESS) {
        fprintf(stderr, "GetSecurityInfo: %lu\n", rc);
        return 0;
    }
    if (ConvertStringSecurityDescriptorToSecurityDescriptorA(
            sddl, SDDL_REVISION_1, &want, NULL) &&
        GetSecurityDescriptorDacl(want, &present, &wdacl, &defaulted))
        ok = dacl_matches(gdacl, wdacl) &&
             (label_rid == 0 || label_matches(gsacl, label_rid, label_policy));
    snprintf(owner_out, owner_cap, "%s", itest_sid_text(owner));
    LocalFree(want);
    LocalFree(got);
    return ok;
}

int test_pipe_descriptor_applied(void)
{
    HANDLE h = raw_connect(); /* GENERIC_READ includes READ_CONTROL */
    char owner[200], me[200];
    CHECK(h != INVALID_HANDLE_VALUE);
    /* The default pipe SDDL (the test config sets none), label low with
     * no-write-up (SYSTEM_MANDATORY_LABEL_NO_WRITE_UP = 1). */
    CHECK(descriptor_matches(h, shmb_conventions_windows.default_pipe_sddl,
                             SECURITY_MANDATORY_LOW_RID,
                             SYSTEM_MANDATORY_LABEL_NO_WRITE_UP, owner,
                             sizeof(owner)));
    /* Owner: the service's user, explicitly - LocalSystem on Windows,
     * Wine's single user here. */
    if (itest_under_wine()) {
        CHECK(itest_self_sid(me, sizeof(me)));
        CHECK_STR(owner, me);
    } else {
        CHECK_STR(owner, "S-1-5-18");
    }
done:
    raw_close(h);
    return TEST_RESULT;
}

int test_named_section_descriptor_applied(void)
{
    HANDLE h = OpenFileMappingW(READ_CONTROL, FALSE, L"Global\\shmb-it-read");
    HANDLE h2 = NULL;
    char owner[200];
    CHECK(h != NULL);
    CHECK(descriptor_matches(
        h, "D:P(A;;GA;;;SY)(A;;0x20004;;;WD)S:(ML;;NW;;;LW)",
        SECURITY_MANDATORY_LOW_RID, SYSTEM_MANDATORY_LABEL_NO_WRITE_UP, owner,
        sizeof(owner)));
    h2 = OpenFileMappingW(READ_CONTROL, FALSE, L"Global\\shmb-it-medium");
    CHECK(h2 != NULL);
    CHECK(descriptor_matches(
        h2, "D:P(A;;GA;;;SY)(A;;0x20004;;;WD)S:(ML;;NWNR;;;ME)",
        SECURITY_MANDATORY_MEDIUM_RID,
        SYSTEM_MANDATORY_LABEL_NO_WRITE_UP | SYSTEM_MANDATORY_LABEL_NO_READ_UP,
        owner, sizeof(owner)));
done:
    raw_close(h);
    raw_close(h2);
    return TEST_RESULT;
}

/* ---- windows-only: what Wine does not enforce ------------------------- */

/* Starts `shmbroker.exe --console` on `pipe` with a config whose pipe
 * SDDL is `sddl`; returns its process handle. */
static HANDLE start_console_broker(const char *pipe, const char *sddl)
{
    const char *exe = getenv("SHMB_BROKER_EXE");
    char cfg_path[MAX_PATH], cmd[2048];
    WCHAR wcmd[2048];
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    FILE *f;
    int i;

    if (exe == NULL)
        return NULL;
    GetTempPathA(MAX_PATH - 40, cfg_path);
    strcat(cfg_path, "shmb-dacl.json");
    f = fopen(cfg_path, "w");
    if (f == NULL)
        return NULL;
    fprintf(f, "{\"pipe\":{\"name\":\"");
    for (i = 0; pipe[i]; i++)
        fprintf(f, pipe[i] == '\\' ? "\\\\" : "%c", pipe[i]);
    fprintf(f, "\",\"sddl\":\"%s\"}}", sddl);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "\"%s\" --console --config \"%s\"", exe,
             cfg_path);
    MultiByteToWideChar(CP_UTF8, 0, cmd, -1, wcmd, 2048);
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    if (!CreateProcessW(NULL, wcmd, NULL, NULL, FALSE, CREATE_NO_WINDOW, NULL,
                        NULL, &si, &pi))
        return NULL;
    CloseHandle(pi.hThread);
    itest_wait_pipe(pipe, 5000); /* its own pipe, or the one it fails on */
    return pi.hProcess;
}

int test_pipe_dacl_denies_user(void)
{
    char pipe[96];
    WCHAR wpipe[96];
    HANDLE broker = NULL, h = INVALID_HANDLE_VALUE;
    DWORD err;

    WINE_SKIP("Wine stores a pipe's DACL but does not check it on connect");
    snprintf(pipe, sizeof(pipe), "\\\\.\\pipe\\shmb-dacl-%lu",
             GetCurrentProcessId());
    broker = start_console_broker(pipe, "D:P(A;;GA;;;SY)");
    CHECK(broker != NULL);
    MultiByteToWideChar(CP_UTF8, 0, pipe, -1, wpipe, 96);
    h = CreateFileW(wpipe, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                    SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, NULL);
    err = GetLastError();
    CHECK(h == INVALID_HANDLE_VALUE);
    CHECK_INT(err, ERROR_ACCESS_DENIED);
done:
    if (broker != NULL) {
        TerminateProcess(broker, 0); /* a console broker has no stop verb */
        CloseHandle(broker);
    }
    raw_close(h);
    return TEST_RESULT;
}

int test_pipe_squat_refused(void)
{
    char pipe[96];
    HANDLE second = NULL;
    DWORD code = 0;

    WINE_SKIP("Wine ignores FILE_FLAG_FIRST_PIPE_INSTANCE and pipe DACLs, so "
              "anyone can add an instance of any pipe there");
    /* A user (Administrators deny-only) cannot add an instance to the
     * service's pipe: its DACL withholds FILE_CREATE_PIPE_INSTANCE. */
    CHECK_INT(itest_child_restricted("child-squat-pipe"), 0);
    /* A second broker on the same pipe fails to start. */
    snprintf(pipe, sizeof(pipe), "%s", itest_pipe());
    second =
        start_console_broker(pipe, shmb_conventions_windows.default_pipe_sddl);
    CHECK(second != NULL);
    CHECK(WaitForSingleObject(second, 10000) == WAIT_OBJECT_0);
    CHECK(GetExitCodeProcess(second, &code));
    CHECK(code != 0);
done:
    if (second != NULL) {
        if (WaitForSingleObject(second, 0) == WAIT_TIMEOUT)
            TerminateProcess(second, 0);
        CloseHandle(second);
    }
    return TEST_RESULT;
}
