/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_policy_rules.c - the policy's rules through the installed service
 * (tests/data/itest-config.json), matched against real client identities.
 * Identities are what Wine can vary: groups (a child whose Administrators
 * group is deny-only), image path (a renamed copy of this program), and
 * the session/integrity/AppContainer Wine reports (1, high, none). Low
 * integrity and AppContainer clients need real Windows.
 */
#include <windows.h>

#include <aclapi.h>
#include <stdlib.h>
#include <string.h>

#include "util_win.h"

int test_policy_denials_explain(void)
{
    shmb_client *c = itest_connect();
    shmb_region r = {0}, r2 = {0};
    char name[128];

    CHECK(c != NULL);
    CHECK_ERR(c, itest_create(c, "nope/x", 10, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_ACCESS_DENIED,
              "create of 'nope/x' (10 bytes, client) is not allowed: no rule "
              "covers this name for you (user S-1-5-21-");
    CHECK_ERR(c, itest_create(c, "it/denied/x", 10, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_ACCESS_DENIED,
              "create of 'it/denied/x' (10 bytes, client) is denied by rule "
              "'it-deny'");
    CHECK_ERR(c, itest_create(c, "small/a", 8192, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_ACCESS_DENIED,
              "rule 'small' allows creating at most 4096 bytes");
    CHECK_ERR(c, itest_create(c, "small/a", 10, SHMB_LIFETIME_PERSISTENT, &r),
              SHMB_E_ACCESS_DENIED,
              "rule 'small' does not allow lifetime 'persistent'");
    /* ro-makers may create, ro-readers may only read. */
    strcpy(name, itest_name("x"));
    memcpy(name, "ro", 2); /* "ro/x.PID.TICK" */
    CHECK_OK(c, itest_create(c, name, 10, SHMB_LIFETIME_CLIENT, &r));
    CHECK_ERR(c, shmb_region_open(c, name, SHMB_ACCESS_RW, &r2),
              SHMB_E_ACCESS_DENIED, "rule 'ro-readers' grants ro only");
    CHECK_OK(c, shmb_region_open(c, name, SHMB_ACCESS_RO, &r2));
    shmb_region_close(&r2);
    /* A name the caller may not open: the same denial whether or not it
     * exists, so its existence does not leak. */
    CHECK_ERR(c, shmb_region_open(c, "ro/does-not-exist", SHMB_ACCESS_RW, &r2),
              SHMB_E_ACCESS_DENIED, "rule 'ro-readers' grants ro only");
    CHECK_ERR(c, shmb_region_open(c, "ro/does-not-exist", SHMB_ACCESS_RO, &r2),
              SHMB_E_NOT_FOUND, "no region named 'ro/does-not-exist'");
done:
    shmb_region_close(&r2);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_policy_group_rule_restricted_token(void)
{
    shmb_client *c = itest_connect();
    shmb_region adm = {0}, admdeny = {0}, r = {0};
    char a[128], d[128], args[300];

    CHECK(c != NULL);
    snprintf(a, sizeof(a), "adm/%lu", GetCurrentProcessId());
    snprintf(d, sizeof(d), "admdeny/%lu", GetCurrentProcessId());
    /* We hold Administrators (Wine's user is an administrator). */
    CHECK_OK(c, itest_create(c, a, 100, SHMB_LIFETIME_CLIENT, &adm));
    CHECK_OK(c, itest_create(c, d, 100, SHMB_LIFETIME_CLIENT, &admdeny));
    CHECK_ERR(c, shmb_region_open(c, d, SHMB_ACCESS_RW, &r),
              SHMB_E_ACCESS_DENIED, "is denied by rule 'no-admin-writes'");
    CHECK_OK(c, shmb_region_open(c, d, SHMB_ACCESS_RO, &r));
    /* The same program with Administrators deny-only: the allow rule no
     * longer matches... */
    snprintf(args, sizeof(args),
             "child-open %s rw access_denied \"no rule "
             "covers this name for you\"",
             a);
    CHECK_INT(itest_child_restricted(args), 0);
    /* ...but the deny rule still does (deny-only groups count for deny). */
    snprintf(args, sizeof(args),
             "child-open %s rw access_denied \"denied by "
             "rule 'no-admin-writes'\"",
             d);
    CHECK_INT(itest_child_restricted(args), 0);
    /* Control: unrestricted, the child gets its grant. */
    snprintf(args, sizeof(args), "child-open %s rw ok", a);
    CHECK_INT(itest_child(args), 0);
done:
    shmb_region_close(&r);
    shmb_region_close(&adm);
    shmb_region_close(&admdeny);
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_policy_image_rule(void)
{
    shmb_client *c = itest_connect();
    shmb_region r = {0};
    char name[128], args[300];

    CHECK(c != NULL);
    snprintf(name, sizeof(name), "img/%lu", GetCurrentProcessId());
    CHECK_OK(c, itest_create(c, name, 100, SHMB_LIFETIME_CLIENT, &r));
    snprintf(args, sizeof(args), "child-open %s rw ok", name);
    CHECK_INT(itest_child(args), 0);
    /* The very same code under another file name is another image. */
    snprintf(args, sizeof(args),
             "child-open %s rw access_denied \"no rule "
             "covers this name for you\"",
             name);
    CHECK_INT(itest_child_renamed(args), 0);
done:
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_policy_session_integrity_appcontainer(void)
{
    shmb_client *c = itest_connect();
    shmb_region r = {0};
    char name[128];
    unsigned long pid = GetCurrentProcessId();

    CHECK(c != NULL);
    /* Wine: session 1, integrity high, no AppContainer. */
    snprintf(name, sizeof(name), "sess/%lu", pid);
    CHECK_OK(c, itest_create(c, name, 10, SHMB_LIFETIME_CLIENT, &r));
    shmb_region_close(&r);
    snprintf(name, sizeof(name), "sess7/%lu", pid);
    CHECK_ERR(c, itest_create(c, name, 10, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_ACCESS_DENIED, "session 1");
    snprintf(name, sizeof(name), "il/%lu", pid);
    CHECK_OK(c, itest_create(c, name, 10, SHMB_LIFETIME_CLIENT, &r));
    shmb_region_close(&r);
    snprintf(name, sizeof(name), "illow/%lu", pid);
    CHECK_ERR(c, itest_create(c, name, 10, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_ACCESS_DENIED, "integrity high");
    snprintf(name, sizeof(name), "noac/%lu", pid);
    CHECK_OK(c, itest_create(c, name, 10, SHMB_LIFETIME_CLIENT, &r));
    shmb_region_close(&r);
    snprintf(name, sizeof(name), "ac/%lu", pid);
    CHECK_ERR(c, itest_create(c, name, 10, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_ACCESS_DENIED, "no AppContainer");
done:
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_policy_user_namespace(void)
{
    shmb_client *c = itest_connect();
    shmb_region r = {0};
    char *reply = NULL;
    char name[256];
    const char *sid;

    CHECK(c != NULL);
    /* Learn our SID from a denial (the broker tells us who we are). */
    CHECK_INT(shmb_region_open(c, "nope", SHMB_ACCESS_RO, &r),
              SHMB_E_ACCESS_DENIED);
    sid = strstr(shmb_client_message(c), "(user ");
    CHECK(sid != NULL);
    sid += 6;
    snprintf(name, sizeof(name), "users/%.*s/scratch", (int)strcspn(sid, ","),
             sid);
    CHECK_OK(c, itest_create(c, name, 10, SHMB_LIFETIME_PERSISTENT, &r));
    shmb_region_close(&r);
    CHECK_ERR(c,
              itest_create(c, "users/S-1-5-21-9-9-9-9/scratch", 10,
                           SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_ACCESS_DENIED, "no rule covers this name");
    CHECK_OK(c, shmb_region_delete(c, name));
    CHECK_OK(c, shmb_request_json(c, "{\"op\":\"list\"}", &reply));
    CHECK(strstr(reply, name) == NULL);
done:
    shmb_free(reply);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}

/* ---- windows-only: identities Wine cannot give a process -------------- */

/* Runs this program again as `args` with a low-integrity token. */
static int child_low_integrity(const char *args)
{
    HANDLE tok = NULL, low = NULL;
    SID_IDENTIFIER_AUTHORITY ml = {SECURITY_MANDATORY_LABEL_AUTHORITY};
    PSID low_sid = NULL;
    TOKEN_MANDATORY_LABEL tml;
    int code = -1;

    if (OpenProcessToken(GetCurrentProcess(),
                         TOKEN_DUPLICATE | TOKEN_QUERY | TOKEN_ASSIGN_PRIMARY |
                             TOKEN_ADJUST_DEFAULT,
                         &tok) &&
        DuplicateTokenEx(tok, 0, NULL, SecurityImpersonation, TokenPrimary,
                         &low) &&
        AllocateAndInitializeSid(&ml, 1, SECURITY_MANDATORY_LOW_RID, 0, 0, 0, 0,
                                 0, 0, 0, &low_sid)) {
        tml.Label.Attributes = SE_GROUP_INTEGRITY;
        tml.Label.Sid = low_sid;
        if (SetTokenInformation(low, TokenIntegrityLevel, &tml,
                                sizeof(tml) + GetLengthSid(low_sid)))
            code = itest_child_as(args, low);
    }
    if (low_sid)
        FreeSid(low_sid);
    if (low)
        CloseHandle(low);
    if (tok)
        CloseHandle(tok);
    return code;
}

int test_low_integrity_client(void)
{
    WINE_SKIP("Wine ignores integrity levels (SetTokenInformation of "
              "TokenIntegrityLevel does nothing) and never enforces labels");
    CHECK_INT(child_low_integrity("child-lowil"), 0);
done:
    return TEST_RESULT;
}

int test_appcontainer_client(void)
{
    typedef HRESULT(WINAPI * create_fn)(PCWSTR, PCWSTR, PCWSTR,
                                        PSID_AND_ATTRIBUTES, DWORD, PSID *);
    typedef HRESULT(WINAPI * derive_fn)(PCWSTR, PSID *);
    HMODULE ue = NULL;
    create_fn create;
    derive_fn derive;
    PSID ac = NULL;
    SECURITY_CAPABILITIES caps;
    STARTUPINFOEXW si;
    PROCESS_INFORMATION pi;
    SIZE_T n = 0;
    WCHAR exe[MAX_PATH], cmd[1024];
    DWORD code = (DWORD)-1;
    EXPLICIT_ACCESSW ea;
    PACL old_dacl = NULL, new_dacl = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    int attrs = 0;

    memset(&si, 0, sizeof(si));
    WINE_SKIP("Wine has no AppContainers (no token has an AppContainer "
              "SID)");
    ue = LoadLibraryW(L"userenv.dll");
    CHECK(ue != NULL);
    create = (create_fn)(void (*)(void))GetProcAddress(
        ue, "CreateAppContainerProfile");
    derive = (derive_fn)(void (*)(void))GetProcAddress(
        ue, "DeriveAppContainerSidFromAppContainerName");
    CHECK(create != NULL && derive != NULL);
    if (FAILED(create(L"shmbroker.itest", L"shmbroker itest",
                      L"shmbroker itest", NULL, 0, &ac)))
        CHECK(SUCCEEDED(derive(L"shmbroker.itest", &ac)));
    /* The container must be able to run this program. */
    GetModuleFileNameW(NULL, exe, MAX_PATH);
    CHECK(GetNamedSecurityInfoW(exe, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION,
                                NULL, NULL, &old_dacl, NULL,
                                &sd) == ERROR_SUCCESS);
    memset(&ea, 0, sizeof(ea));
    ea.grfAccessPermissions = GENERIC_READ | GENERIC_EXECUTE;
    ea.grfAccessMode = GRANT_ACCESS;
    ea.Trustee.TrusteeForm = TRUSTEE_IS_SID;
    ea.Trustee.ptstrName = (LPWSTR)ac;
    CHECK(SetEntriesInAclW(1, &ea, old_dacl, &new_dacl) == ERROR_SUCCESS);
    CHECK(SetNamedSecurityInfoW(exe, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION,
                                NULL, NULL, new_dacl, NULL) == ERROR_SUCCESS);
    memset(&caps, 0, sizeof(caps));
    caps.AppContainerSid = ac;
    si.StartupInfo.cb = sizeof(si);
    InitializeProcThreadAttributeList(NULL, 1, 0, &n);
    si.lpAttributeList = malloc(n);
    CHECK(si.lpAttributeList != NULL);
    CHECK(InitializeProcThreadAttributeList(si.lpAttributeList, 1, 0, &n));
    attrs = 1;
    CHECK(UpdateProcThreadAttribute(si.lpAttributeList, 0,
                                    PROC_THREAD_ATTRIBUTE_SECURITY_CAPABILITIES,
                                    &caps, sizeof(caps), NULL, NULL));
    _snwprintf(cmd, 1024, L"\"%ls\" child-ac", exe);
    cmd[1023] = 0;
    CHECK(CreateProcessW(exe, cmd, NULL, NULL, FALSE,
                         EXTENDED_STARTUPINFO_PRESENT, NULL, NULL,
                         &si.StartupInfo, &pi));
    WaitForSingleObject(pi.hProcess, 60000);
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    CHECK_INT(code, 0);
done:
    if (attrs)
        DeleteProcThreadAttributeList(si.lpAttributeList);
    free(si.lpAttributeList);
    LocalFree(new_dacl);
    LocalFree(sd);
    if (ac != NULL)
        FreeSid(ac);
    if (ue != NULL)
        FreeLibrary(ue);
    return TEST_RESULT;
}
