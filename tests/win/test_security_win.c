/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_security_win.c - DESIGN.md's security rules, proven through the
 * installed service where Wine can show them; the rest is compiled, runs on
 * real Windows, and reports itself skipped under Wine with the reason.
 */
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>
#include <stdlib.h>
#include <string.h>

#include "shmb_config.h"
#include "shmb_frame.h"
#include "util_win.h"

#define WINE_SKIP(why)                                                         \
    do {                                                                       \
        if (itest_under_wine())                                                \
            SKIP("needs real Windows: %s", why);                               \
    } while (0)

static char *sid_text(PSID sid)
{
    static char buf[200];
    LPSTR s = NULL;
    buf[0] = '\0';
    if (sid != NULL && ConvertSidToStringSidA(sid, &s)) {
        snprintf(buf, sizeof(buf), "%s", s);
        LocalFree(s);
    }
    return buf;
}

static int self_sid(char *out, size_t cap)
{
    HANDLE tok;
    BYTE buf[256];
    DWORD n;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
        return 0;
    if (!GetTokenInformation(tok, TokenUser, buf, sizeof(buf), &n)) {
        CloseHandle(tok);
        return 0;
    }
    CloseHandle(tok);
    snprintf(out, cap, "%s", sid_text(((TOKEN_USER *)buf)->User.Sid));
    return 1;
}

/* ---- the client verifies the server (rule 6) -------------------------- */

int test_client_verifies_server(void)
{
    shmb_connect_options o;
    shmb_client *c = NULL;
    char me[200], want[300];
    int rc;

    memset(&o, 0, sizeof(o));
    o.pipe_name = itest_pipe();
    o.trust = SHMB_TRUST_SYSTEM;
    rc = shmb_connect(&o, &c);
    if (itest_under_wine()) {
        /* Wine runs the service as our own user, so the pipe cannot be
         * owned by LocalSystem: the library must refuse, naming the owner
         * it found - which is the service's user. */
        CHECK(self_sid(me, sizeof(me)));
        snprintf(want, sizeof(want),
                 "the pipe is owned by %s, not by "
                 "LocalSystem",
                 me);
        if (rc != SHMB_E_SERVER_UNTRUSTED ||
            strstr(shmb_client_message(c), want) == NULL) {
            fprintf(stderr, "trust=system: %s '%s'\n", shmb_err_name(rc),
                    shmb_client_message(c));
            return 1;
        }
    } else {
        CHECK_OK(c, rc); /* the real service is LocalSystem */
    }
    shmb_disconnect(c);
    o.trust = SHMB_TRUST_SERVICE;
    rc = shmb_connect(&o, &c);
    CHECK_OK(c, rc);
    shmb_disconnect(c);
    /* The wrong service name: its pid is not the pipe server's. */
    o.service_name = "shmb-quota";
    rc = shmb_connect(&o, &c);
    CHECK_INT(rc, SHMB_E_SERVER_UNTRUSTED);
    CHECK(
        strstr(shmb_client_message(c), "but service 'shmb-quota' is") != NULL ||
        strstr(shmb_client_message(c), "'shmb-quota' is not running") != NULL);
    shmb_disconnect(c);
    return 0;
}

typedef struct fake_server {
    HANDLE pipe;
    HANDLE thread;
    DWORD received;
} fake_server;

static DWORD WINAPI fake_server_run(LPVOID arg)
{
    fake_server *f = arg;
    char buf[256];
    DWORD n;
    if (!ConnectNamedPipe(f->pipe, NULL) &&
        GetLastError() != ERROR_PIPE_CONNECTED)
        return 1;
    /* Take what the client sends first (nothing, if it checked us), then
     * hang up like a server that has no idea of the protocol. */
    if (ReadFile(f->pipe, buf, sizeof(buf), &n, NULL))
        f->received += n;
    DisconnectNamedPipe(f->pipe);
    return 0;
}

/* A squatter serving the broker's protocol name on its own pipe. */
static int fake_server_start(fake_server *f, WCHAR *name)
{
    memset(f, 0, sizeof(*f));
    f->pipe =
        CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_WAIT,
                         1, 4096, 4096, 0, NULL);
    if (f->pipe == INVALID_HANDLE_VALUE)
        return -1;
    f->thread = CreateThread(NULL, 0, fake_server_run, f, 0, NULL);
    return f->thread != NULL ? 0 : -1;
}

static void fake_server_stop(fake_server *f)
{
    WaitForSingleObject(f->thread, 5000);
    CloseHandle(f->thread);
    CloseHandle(f->pipe);
}

static int connect_fake(const char *pipe, shmb_server_trust trust, int expect,
                        DWORD *received)
{
    WCHAR wname[128];
    fake_server f;
    shmb_connect_options o;
    shmb_client *c = NULL;
    int rc;

    MultiByteToWideChar(CP_UTF8, 0, pipe, -1, wname, 128);
    if (fake_server_start(&f, wname) != 0)
        return -1;
    memset(&o, 0, sizeof(o));
    o.pipe_name = pipe;
    o.trust = trust;
    o.timeout_ms = 2000;
    rc = shmb_connect(&o, &c); /* ANY: hello goes out, no reply comes */
    if (rc != expect)
        fprintf(stderr, "trust %d: %s '%s'\n", (int)trust, shmb_err_name(rc),
                shmb_client_message(c));
    shmb_disconnect(c); /* closes our end: the fake's read loop ends */
    fake_server_stop(&f);
    *received = f.received;
    return rc == expect ? 0 : -1;
}

int test_client_refuses_fake_server(void)
{
    char pipe[128];
    DWORD got = 0;

    snprintf(pipe, sizeof(pipe), "\\\\.\\pipe\\shmb-fake-%lu",
             GetCurrentProcessId());
    /* Not the service's process: refused before a byte is sent. */
    CHECK_INT(
        connect_fake(pipe, SHMB_TRUST_SERVICE, SHMB_E_SERVER_UNTRUSTED, &got),
        0);
    CHECK_INT(got, 0);
    /* Not owned by LocalSystem: refused too. */
    CHECK_INT(
        connect_fake(pipe, SHMB_TRUST_SYSTEM, SHMB_E_SERVER_UNTRUSTED, &got),
        0);
    CHECK_INT(got, 0);
    /* Control: with the development override the hello does go out, so the
     * zero above is the check's doing. (The fake then hangs up.) */
    CHECK_INT(connect_fake(pipe, SHMB_TRUST_ANY, SHMB_E_IO, &got), 0);
    CHECK(got > 0);
    return 0;
}

/* ---- undelivered handles are closed in the client (rule 4) ------------ */

/* Counts the section handles in this process by walking the handle values
 * (GetProcessHandleCount is not implemented by Wine). */
static int count_sections(void)
{
    typedef LONG(NTAPI * query_fn)(HANDLE, int, PVOID, ULONG, PULONG);
    query_fn q = (query_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleW(L"ntdll.dll"), "NtQueryObject");
    union {
        struct {
            USHORT len, max;
            PWSTR buf;
        } name;
        BYTE raw[1024];
    } info;
    uintptr_t v;
    ULONG n;
    int count = 0;
    for (v = 4; v < 0x4000; v += 4) {
        /* ObjectTypeInformation (2) starts with the type's name. */
        if (q((HANDLE)v, 2, &info, sizeof(info), &n) == 0 &&
            info.name.len == 14 && memcmp(info.name.buf, L"Section", 14) == 0)
            count++;
    }
    return count;
}

int test_undelivered_grant_closed_in_client(void)
{
    HANDLE h = raw_connect();
    int before, during = 0, after = 0;
    char req[256];
    int i;

    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK_INT(raw_hello(h), 0);
    /* Fill the pipe towards us: ~80 KiB of ping replies we do not read, so
     * the broker's later writes stay queued in the broker. */
    for (i = 0; i < 2000; i++) {
        snprintf(req, sizeof(req), "{\"id\":%d,\"op\":\"ping\"}", i + 10);
        CHECK(raw_send_frame(h, req) == 0);
    }
    Sleep(500);
    before = count_sections();
    snprintf(req, sizeof(req),
             "{\"id\":5000,\"op\":\"create\",\"name\":\"%s\",\"size\":4096}",
             itest_name("undelivered"));
    CHECK(raw_send_frame(h, req) == 0);
    /* The broker duplicates the grant into us, then queues the reply. */
    for (i = 0; i < 100; i++) {
        during = count_sections();
        if (during > before)
            break;
        Sleep(20);
    }
    CHECK_INT(during, before + 1);
    /* We go away without reading: the reply cannot be written... */
    CloseHandle(h);
    /* ...so the broker closes the handle inside our process. */
    for (i = 0; i < 100; i++) {
        after = count_sections();
        if (after < during)
            break;
        Sleep(20);
    }
    CHECK_INT(after, before);
    return 0;
}

/* ---- sections: unnamed by default, named ones by their SDDL (rule 1) -- */

typedef struct {
    USHORT Length;
    USHORT MaximumLength;
    PWSTR Buffer;
} unicode_str;

int test_unnamed_section_has_no_name(void)
{
    typedef LONG(NTAPI * query_fn)(HANDLE, int, PVOID, ULONG, PULONG);
    query_fn q = (query_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleW(L"ntdll.dll"), "NtQueryObject");
    shmb_client *c = itest_connect();
    shmb_region r;
    union {
        unicode_str name;
        BYTE buf[1024];
    } info;
    ULONG n = 0;
    WCHAR wname[200];
    static const WCHAR *const prefixes[] = {L"Global\\", L"Local\\", L""};
    size_t i;

    CHECK(c != NULL && q != NULL);
    CHECK_OK(c, shmb_region_create(c, itest_name("unnamed"), 4096,
                                   SHMB_ACCESS_RW, SHMB_LIFETIME_CLIENT, &r));
    /* ObjectNameInformation: the section has no name in the namespace. */
    memset(&info, 0, sizeof(info));
    CHECK_INT(q((HANDLE)(uintptr_t)r.handle, 1, &info, sizeof(info), &n), 0);
    CHECK_INT(info.name.Length, 0);
    /* And so no name the region is known by reaches it. */
    for (i = 0; i < 3; i++) {
        _snwprintf(wname, 200, L"%ls%hs", prefixes[i], r.name);
        wname[199] = 0;
        CHECK(OpenFileMappingW(FILE_MAP_READ, FALSE, wname) == NULL);
        CHECK_INT(GetLastError(), ERROR_FILE_NOT_FOUND);
    }
    shmb_region_close(&r);
    shmb_disconnect(c);
    return 0;
}

/* Opening a named config region directly, by its kernel name. */
static DWORD open_named(const WCHAR *name, DWORD access)
{
    HANDLE h = OpenFileMappingW(access, FALSE, name);
    DWORD err = h == NULL ? GetLastError() : 0;
    if (h != NULL)
        CloseHandle(h);
    return err;
}

int child_open_named(int argc, char **argv)
{
    WCHAR name[128];
    DWORD access, want;
    if (argc != 5)
        return 2;
    MultiByteToWideChar(CP_UTF8, 0, argv[2], -1, name, 128);
    access = strcmp(argv[3], "rw") == 0 ? FILE_MAP_WRITE : FILE_MAP_READ;
    want = (DWORD)atoi(argv[4]);
    return open_named(name, access) == want ? 0 : 8;
}

int test_named_regions_dacl(void)
{
    /* Our token: the user, Administrators enabled (Wine's user is an
     * administrator). The restricted child: Administrators deny-only. */
    CHECK_INT(open_named(L"Global\\shmb-it-read", FILE_MAP_READ), 0);
    CHECK_INT(open_named(L"Global\\shmb-it-read", FILE_MAP_WRITE),
              ERROR_ACCESS_DENIED);
    CHECK_INT(open_named(L"Global\\shmb-it-sys", FILE_MAP_READ),
              ERROR_ACCESS_DENIED);
    CHECK_INT(open_named(L"Global\\shmb-it-adm", FILE_MAP_READ), 0);
    CHECK_INT(open_named(L"Global\\shmb-it-adm", FILE_MAP_WRITE), 0);
    CHECK_INT(open_named(L"Global\\shmb-it-denyadm", FILE_MAP_READ),
              ERROR_ACCESS_DENIED);
    CHECK_INT(open_named(L"Global\\shmb-itest-named", FILE_MAP_READ), 0);
    CHECK_INT(open_named(L"Global\\shmb-itest-named", FILE_MAP_WRITE),
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
    return 0;
}

int test_named_region_deny_ace_deny_only_group(void)
{
    WINE_SKIP("Wine's access check skips deny-only groups even for deny "
              "ACEs; Windows matches them");
    /* Administrators deny-only still meets the deny ACE for BA. */
    CHECK_INT(
        itest_child_restricted("child-open-named Global\\shmb-it-denyadm ro 5"),
        0);
    return 0;
}

/* ---- applied descriptors, read back ACE by ACE (rules 1 and 5) -------- */

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
    snprintf(owner_out, owner_cap, "%s", sid_text(owner));
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
        CHECK(self_sid(me, sizeof(me)));
        CHECK_STR(owner, me);
    } else {
        CHECK_STR(owner, "S-1-5-18");
    }
    CloseHandle(h);
    return 0;
}

int test_named_section_descriptor_applied(void)
{
    HANDLE h = OpenFileMappingW(READ_CONTROL, FALSE, L"Global\\shmb-it-read");
    char owner[200];
    CHECK(h != NULL);
    CHECK(descriptor_matches(
        h, "D:P(A;;GA;;;SY)(A;;0x20004;;;WD)S:(ML;;NW;;;LW)",
        SECURITY_MANDATORY_LOW_RID, SYSTEM_MANDATORY_LABEL_NO_WRITE_UP, owner,
        sizeof(owner)));
    CloseHandle(h);
    h = OpenFileMappingW(READ_CONTROL, FALSE, L"Global\\shmb-it-medium");
    CHECK(h != NULL);
    CHECK(descriptor_matches(
        h, "D:P(A;;GA;;;SY)(A;;0x20004;;;WD)S:(ML;;NWNR;;;ME)",
        SECURITY_MANDATORY_MEDIUM_RID,
        SYSTEM_MANDATORY_LABEL_NO_WRITE_UP | SYSTEM_MANDATORY_LABEL_NO_READ_UP,
        owner, sizeof(owner)));
    CloseHandle(h);
    return 0;
}

/* ---- windows-only: what Wine does not implement ----------------------- */

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

/* In the low-IL child: a broker grant works, the name does not. */
int child_lowil(void)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    if (c == NULL)
        return 3;
    if (shmb_region_open(c, "cfg/medium", SHMB_ACCESS_RO, &r) != SHMB_OK ||
        shmb_region_map(&r) != SHMB_OK)
        return 4;
    shmb_region_close(&r);
    shmb_disconnect(c);
    return open_named(L"Global\\shmb-it-medium", FILE_MAP_READ) ==
                   ERROR_ACCESS_DENIED
               ? 0
               : 5;
}

int test_low_integrity_client(void)
{
    WINE_SKIP("Wine ignores integrity levels (SetTokenInformation of "
              "TokenIntegrityLevel does nothing) and never enforces labels");
    CHECK_INT(child_low_integrity("child-lowil"), 0);
    return 0;
}

int test_appcontainer_client(void)
{
    typedef HRESULT(WINAPI * create_fn)(PCWSTR, PCWSTR, PCWSTR,
                                        PSID_AND_ATTRIBUTES, DWORD, PSID *);
    typedef HRESULT(WINAPI * derive_fn)(PCWSTR, PSID *);
    HMODULE ue;
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

    WINE_SKIP("Wine has no AppContainers (no token has an AppContainer "
              "SID)");
    ue = LoadLibraryW(L"userenv.dll");
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
    memset(&si, 0, sizeof(si));
    si.StartupInfo.cb = sizeof(si);
    InitializeProcThreadAttributeList(NULL, 1, 0, &n);
    si.lpAttributeList = malloc(n);
    CHECK(si.lpAttributeList != NULL);
    CHECK(InitializeProcThreadAttributeList(si.lpAttributeList, 1, 0, &n));
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
    DeleteProcThreadAttributeList(si.lpAttributeList);
    free(si.lpAttributeList);
    LocalFree(new_dacl);
    LocalFree(sd);
    FreeSid(ac);
    CHECK_INT(code, 0);
    return 0;
}

/* In the AppContainer child: the pipe admits ALL APPLICATION PACKAGES and
 * the "only-appcontainer" rule lets it create under ac/. */
int child_ac(void)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    char name[64];
    if (c == NULL)
        return 3;
    snprintf(name, sizeof(name), "ac/%lu", GetCurrentProcessId());
    if (shmb_region_create(c, name, 4096, SHMB_ACCESS_RW, SHMB_LIFETIME_CLIENT,
                           &r) != SHMB_OK) {
        fprintf(stderr, "%s\n", shmb_client_message(c));
        return 4;
    }
    if (shmb_region_map(&r) != SHMB_OK)
        return 5;
    shmb_region_close(&r);
    shmb_disconnect(c);
    return 0;
}

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
    WCHAR wpipe[128];
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
    MultiByteToWideChar(CP_UTF8, 0, pipe, -1, wpipe, 128);
    for (i = 0; i < 100 && !WaitNamedPipeW(wpipe, 50); i++)
        Sleep(50);
    return pi.hProcess;
}

int test_pipe_dacl_denies_user(void)
{
    char pipe[96];
    WCHAR wpipe[96];
    HANDLE broker, h;

    WINE_SKIP("Wine stores a pipe's DACL but does not check it on connect");
    snprintf(pipe, sizeof(pipe), "\\\\.\\pipe\\shmb-dacl-%lu",
             GetCurrentProcessId());
    broker = start_console_broker(pipe, "D:P(A;;GA;;;SY)");
    CHECK(broker != NULL);
    MultiByteToWideChar(CP_UTF8, 0, pipe, -1, wpipe, 96);
    h = CreateFileW(wpipe, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                    SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, NULL);
    TerminateProcess(broker, 0);
    CloseHandle(broker);
    CHECK(h == INVALID_HANDLE_VALUE);
    CHECK_INT(GetLastError(), ERROR_ACCESS_DENIED);
    return 0;
}

int child_squat_pipe(void)
{
    WCHAR name[128];
    HANDLE h;
    MultiByteToWideChar(CP_UTF8, 0, itest_pipe(), -1, name, 128);
    h = CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE, 1, 4096,
                         4096, 0, NULL);
    if (h != INVALID_HANDLE_VALUE) {
        CloseHandle(h);
        return 9; /* squatted */
    }
    return GetLastError() == ERROR_ACCESS_DENIED ? 0 : 10;
}

int test_pipe_squat_refused(void)
{
    char pipe[96];
    HANDLE second;
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
    GetExitCodeProcess(second, &code);
    CloseHandle(second);
    CHECK(code != 0);
    return 0;
}

/* A scripted server: answers hello properly, then answers the next
 * request with someone else's id. */
static DWORD WINAPI lying_server_run(LPVOID arg)
{
    HANDLE h = arg;
    char buf[1024];
    if (!ConnectNamedPipe(h, NULL) && GetLastError() != ERROR_PIPE_CONNECTED)
        return 1;
    if (raw_recv_frame(h, buf, sizeof(buf)) < 0 ||
        raw_send_frame(h, "{\"id\":1,\"result\":{\"version\":1,"
                          "\"max_frame\":65536}}") != 0)
        return 1;
    if (raw_recv_frame(h, buf, sizeof(buf)) < 0 ||
        raw_send_frame(h, "{\"id\":999,\"result\":{\"pong\":true}}") != 0)
        return 1;
    /* Whatever comes next is never answered. */
    raw_recv_frame(h, buf, sizeof(buf));
    return 0;
}

int test_client_drops_desynced_connection(void)
{
    char pipe[96];
    WCHAR wname[96];
    HANDLE h, th;
    shmb_connect_options o;
    shmb_client *c = NULL;

    snprintf(pipe, sizeof(pipe), "\\\\.\\pipe\\shmb-liar-%lu",
             GetCurrentProcessId());
    MultiByteToWideChar(CP_UTF8, 0, pipe, -1, wname, 96);
    h = CreateNamedPipeW(wname, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_WAIT,
                         1, 4096, 4096, 0, NULL);
    CHECK(h != INVALID_HANDLE_VALUE);
    th = CreateThread(NULL, 0, lying_server_run, h, 0, NULL);
    CHECK(th != NULL);
    memset(&o, 0, sizeof(o));
    o.pipe_name = pipe;
    o.trust = SHMB_TRUST_ANY; /* a test server, not the service */
    CHECK_OK(c, shmb_connect(&o, &c));
    /* The reply answers another request: a protocol error... */
    CHECK_INT(shmb_ping(c), SHMB_E_PROTOCOL);
    /* ...after which the stream is out of step, so the client is done
     * with it rather than read stale replies as answers. */
    CHECK_INT(shmb_ping(c), SHMB_E_IO);
    CHECK_STR(shmb_client_message(c), "the connection is closed");
    shmb_disconnect(c);
    WaitForSingleObject(th, 5000);
    CloseHandle(th);
    CloseHandle(h);
    return 0;
}
