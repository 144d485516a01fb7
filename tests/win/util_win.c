/* SPDX-License-Identifier: MPL-2.0 */
/* util_win.c - helpers for the integration tests (see util_win.h). */
#include <windows.h>

#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmb_frame.h"
#include "util_win.h"

typedef LONG(NTAPI *nt_query_object_fn)(HANDLE, int, PVOID, ULONG, PULONG);

typedef struct {
    ULONG Attributes;
    ACCESS_MASK GrantedAccess;
    ULONG HandleCount;
    ULONG PointerCount;
    ULONG Reserved[10];
} object_basic_information;

const char *itest_pipe(void)
{
    const char *p = getenv("SHMB_PIPE");
    return p != NULL && *p ? p : SHMB_DEFAULT_PIPE;
}

shmb_client *itest_connect(void)
{
    return itest_connect_pipe(itest_pipe());
}

shmb_client *itest_connect_pipe(const char *pipe)
{
    shmb_connect_options o;
    shmb_client *c = NULL;
    int rc;
    memset(&o, 0, sizeof(o));
    o.pipe_name = pipe;
    if (strcmp(pipe, ITEST_QUOTA_PIPE) == 0)
        o.service_name = "shmb-quota";
    o.client_name = "shmb-itest";
    rc = shmb_connect(&o, &c);
    if (rc != SHMB_OK) {
        fprintf(stderr, "connect to %s: %s: %s (system error %u)\n",
                o.pipe_name, shmb_err_name(rc), shmb_client_message(c),
                (unsigned)shmb_client_syserr(c));
        shmb_disconnect(c);
        return NULL;
    }
    return c;
}

/* Starts `exe` with `args`, as `token` (NULL: ours), and waits. */
static int run_child(const WCHAR *exe, const char *args, HANDLE token)
{
    WCHAR cmd[2048], wargs[1024];
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    DWORD code = (DWORD)-1;
    BOOL ok;

    MultiByteToWideChar(CP_UTF8, 0, args, -1, wargs, 1024);
    _snwprintf(cmd, 2048, L"\"%ls\" %ls", exe, wargs);
    cmd[2047] = 0;
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    if (token != NULL)
        ok = CreateProcessAsUserW(token, exe, cmd, NULL, NULL, FALSE, 0, NULL,
                                  NULL, &si, &pi);
    else
        ok = CreateProcessW(exe, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si,
                            &pi);
    if (!ok) {
        fprintf(stderr, "cannot start child (%lu)\n", GetLastError());
        return -1;
    }
    if (WaitForSingleObject(pi.hProcess, 60000) != WAIT_OBJECT_0) {
        TerminateProcess(pi.hProcess, 99);
        code = (DWORD)-1;
    } else {
        GetExitCodeProcess(pi.hProcess, &code);
    }
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    return (int)code;
}

/* The command line "this-program" ARGS. */
static void child_cmd(WCHAR *exe, WCHAR *cmd, size_t cap, const char *args)
{
    WCHAR wargs[1024];
    GetModuleFileNameW(NULL, exe, MAX_PATH);
    MultiByteToWideChar(CP_UTF8, 0, args, -1, wargs, 1024);
    _snwprintf(cmd, cap, L"\"%ls\" %ls", exe, wargs);
    cmd[cap - 1] = 0;
}

/* An inheritable copy of one of our standard handles, or NULL. */
static HANDLE inheritable_std(DWORD which)
{
    HANDLE h = GetStdHandle(which), copy = NULL;
    if (h == NULL || h == INVALID_HANDLE_VALUE ||
        !DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &copy, 0,
                         TRUE, DUPLICATE_SAME_ACCESS))
        return NULL;
    return copy;
}

int itest_child_start(itest_proc *p, const char *args)
{
    WCHAR exe[MAX_PATH], cmd[2048];
    SECURITY_ATTRIBUTES sa;
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    HANDLE rd = NULL;
    BOOL ok = FALSE;

    p->process = p->stdin_w = NULL;
    child_cmd(exe, cmd, 2048, args);
    sa.nLength = sizeof(sa);
    sa.lpSecurityDescriptor = NULL;
    sa.bInheritHandle = TRUE;
    /* Only the read end goes to the child: while we hold the write end it
     * reads nothing; when we close it (or die) it reads EOF. */
    if (!CreatePipe(&rd, &p->stdin_w, &sa, 0) ||
        !SetHandleInformation(p->stdin_w, HANDLE_FLAG_INHERIT, 0)) {
        fprintf(stderr, "cannot make the child's stdin (%lu)\n",
                GetLastError());
        raw_close(rd);
        raw_close(p->stdin_w);
        p->stdin_w = NULL;
        return -1;
    }
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = rd;
    si.hStdOutput = inheritable_std(STD_OUTPUT_HANDLE);
    si.hStdError = inheritable_std(STD_ERROR_HANDLE);
    ok = CreateProcessW(exe, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
    if (!ok)
        fprintf(stderr, "cannot start child (%lu)\n", GetLastError());
    raw_close(rd);
    raw_close(si.hStdOutput);
    raw_close(si.hStdError);
    if (!ok) {
        raw_close(p->stdin_w);
        p->stdin_w = NULL;
        return -1;
    }
    CloseHandle(pi.hThread);
    p->process = pi.hProcess;
    return 0;
}

int itest_child_tell(itest_proc *p)
{
    DWORD n = 0;
    return p->stdin_w != NULL && WriteFile(p->stdin_w, "\n", 1, &n, NULL) &&
                   n == 1
               ? 0
               : -1;
}

int itest_child_running(const itest_proc *p)
{
    return p->process != NULL &&
           WaitForSingleObject(p->process, 0) == WAIT_TIMEOUT;
}

int itest_child_stop(itest_proc *p)
{
    DWORD code = (DWORD)-1;
    raw_close(p->stdin_w);
    p->stdin_w = NULL;
    if (p->process == NULL)
        return -1;
    if (WaitForSingleObject(p->process, 30000) != WAIT_OBJECT_0) {
        fprintf(stderr, "child did not exit when told; terminating it\n");
        TerminateProcess(p->process, 99);
        WaitForSingleObject(p->process, 5000);
        code = (DWORD)-1;
    } else if (!GetExitCodeProcess(p->process, &code)) {
        code = (DWORD)-1;
    }
    CloseHandle(p->process);
    p->process = NULL;
    return (int)code;
}

int child_wait_told(void)
{
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    char ch;
    DWORD n;
    for (;;) {
        if (!ReadFile(in, &ch, 1, &n, NULL) || n == 0)
            return 0; /* closed: the parent wants us gone */
        if (ch == '\n')
            return 1;
    }
}

int itest_child_as(const char *args, HANDLE token)
{
    WCHAR exe[MAX_PATH];
    GetModuleFileNameW(NULL, exe, MAX_PATH);
    return run_child(exe, args, token);
}

int itest_child(const char *args)
{
    return itest_child_as(args, NULL);
}

int itest_child_restricted(const char *args)
{
    WCHAR exe[MAX_PATH];
    HANDLE tok = NULL, rtok = NULL;
    SID_IDENTIFIER_AUTHORITY nt = {SECURITY_NT_AUTHORITY};
    PSID admins = NULL;
    SID_AND_ATTRIBUTES disable;
    int rc = -1;

    GetModuleFileNameW(NULL, exe, MAX_PATH);
    if (!AllocateAndInitializeSid(&nt, 2, SECURITY_BUILTIN_DOMAIN_RID,
                                  DOMAIN_ALIAS_RID_ADMINS, 0, 0, 0, 0, 0, 0,
                                  &admins))
        return -1;
    disable.Sid = admins;
    disable.Attributes = 0;
    /* Administrators becomes deny-only in the child's token. */
    if (OpenProcessToken(GetCurrentProcess(),
                         TOKEN_DUPLICATE | TOKEN_ASSIGN_PRIMARY | TOKEN_QUERY,
                         &tok) &&
        CreateRestrictedToken(tok, 0, 1, &disable, 0, NULL, 0, NULL, &rtok))
        rc = run_child(exe, args, rtok);
    else
        fprintf(stderr, "restricted token failed (%lu)\n", GetLastError());
    if (rtok)
        CloseHandle(rtok);
    if (tok)
        CloseHandle(tok);
    FreeSid(admins);
    return rc;
}

int itest_child_renamed(const char *args)
{
    WCHAR exe[MAX_PATH], dir[MAX_PATH], copy[MAX_PATH];
    int rc;
    GetModuleFileNameW(NULL, exe, MAX_PATH);
    GetTempPathW(MAX_PATH, dir);
    _snwprintf(copy, MAX_PATH, L"%lsshmb-other-%lu.exe", dir,
               GetCurrentProcessId());
    copy[MAX_PATH - 1] = 0;
    if (!CopyFileW(exe, copy, FALSE))
        return -1;
    rc = run_child(copy, args, NULL);
    DeleteFileW(copy);
    return rc;
}

const char *itest_name(const char *stem)
{
    static char buf[128];
    snprintf(buf, sizeof(buf), "it/%s.%lu.%lu", stem, GetCurrentProcessId(),
             GetTickCount());
    return buf;
}

long long itest_granted_access(HANDLE h)
{
    nt_query_object_fn q = (nt_query_object_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleW(L"ntdll.dll"), "NtQueryObject");
    object_basic_information info;
    ULONG n = 0;
    if (q == NULL ||
        q(h, 0 /* ObjectBasicInformation */, &info, sizeof(info), &n) != 0)
        return -1;
    return (long long)info.GrantedAccess;
}

int itest_under_wine(void)
{
    return GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") !=
           NULL;
}

int itest_create(shmb_client *c, const char *name, uint64_t size,
                 shmb_lifetime lt, shmb_region *r)
{
    return shmb_region_create(c, name, size, SHMB_ACCESS_RW, lt, r);
}

const char *itest_sid_text(PSID sid)
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

int itest_self_sid(char *out, size_t cap)
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
    snprintf(out, cap, "%s", itest_sid_text(((TOKEN_USER *)buf)->User.Sid));
    return 1;
}

DWORD itest_open_named(const WCHAR *name, DWORD access)
{
    HANDLE h = OpenFileMappingW(access, FALSE, name);
    DWORD err = h == NULL ? GetLastError() : 0;
    if (h != NULL)
        CloseHandle(h);
    return err;
}

/* Opens the client end of `name`. The server adds instances as clients
 * take them, so "busy" and, for a moment, "not found" pass: wait for an
 * instance (WaitNamedPipe) until `ms` are up. */
static HANDLE open_pipe(const WCHAR *name, DWORD flags, unsigned ms)
{
    uint64_t end = shmb_clock_ms() + ms;
    HANDLE h;
    DWORD err;
    for (;;) {
        h = CreateFileW(
            name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
            flags | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, NULL);
        err = GetLastError();
        if (h != INVALID_HANDLE_VALUE || shmb_clock_ms() >= end)
            return h;
        if (err == ERROR_PIPE_BUSY)
            WaitNamedPipeW(name, SHMB_POLL_MS * 5);
        else
            shmb_sleep_ms(SHMB_POLL_MS);
    }
}

int itest_wait_pipe(const char *pipe, unsigned ms)
{
    WCHAR name[256];
    uint64_t end = shmb_clock_ms() + ms;
    MultiByteToWideChar(CP_UTF8, 0, pipe, -1, name, 256);
    /* WaitNamedPipe fails at once while no instance exists at all. */
    while (!WaitNamedPipeW(name, SHMB_POLL_MS * 5)) {
        if (shmb_clock_ms() >= end)
            return 0;
        shmb_sleep_ms(SHMB_POLL_MS);
    }
    return 1;
}

void raw_close(HANDLE h)
{
    if (h != NULL && h != INVALID_HANDLE_VALUE)
        CloseHandle(h);
}

HANDLE raw_connect(void)
{
    return raw_connect_pipe(itest_pipe());
}

HANDLE raw_connect_pipe(const char *pipe)
{
    WCHAR name[256];
    MultiByteToWideChar(CP_UTF8, 0, pipe, -1, name, 256);
    return open_pipe(name, 0, 2000);
}

HANDLE raw_connect_overlapped(void)
{
    WCHAR name[256];
    MultiByteToWideChar(CP_UTF8, 0, itest_pipe(), -1, name, 256);
    return open_pipe(name, FILE_FLAG_OVERLAPPED, 2000);
}

int raw_send(HANDLE h, const void *buf, size_t len)
{
    DWORD n;
    return WriteFile(h, buf, (DWORD)len, &n, NULL) && n == len ? 0 : -1;
}

int raw_send_frame(HANDLE h, const char *json)
{
    uint8_t hdr[4];
    shmb_frame_put_header(hdr, (uint32_t)strlen(json));
    if (raw_send(h, hdr, 4) != 0)
        return -1;
    return raw_send(h, json, strlen(json));
}

static int read_exact(HANDLE h, void *buf, size_t len)
{
    char *p = buf;
    DWORD n;
    while (len > 0) {
        if (!ReadFile(h, p, (DWORD)len, &n, NULL) || n == 0)
            return -1;
        p += n;
        len -= n;
    }
    return 0;
}

long raw_recv_frame(HANDLE h, char *buf, size_t cap)
{
    uint8_t hdr[4];
    uint32_t len;
    if (read_exact(h, hdr, 4) != 0)
        return -1;
    len = shmb_frame_get_header(hdr);
    if (len >= cap || read_exact(h, buf, len) != 0)
        return -1;
    buf[len] = '\0';
    return (long)len;
}

int raw_at_eof(HANDLE h)
{
    char c;
    DWORD n = 0;
    BOOL ok = ReadFile(h, &c, 1, &n, NULL);
    return !ok || n == 0;
}

int raw_hello(HANDLE h)
{
    char buf[1024];
    if (raw_send_frame(h, "{\"id\":1,\"op\":\"hello\",\"versions\":[1]}") !=
            0 ||
        raw_recv_frame(h, buf, sizeof(buf)) < 0)
        return -1;
    return strstr(buf, "\"result\"") != NULL ? 0 : -1;
}
