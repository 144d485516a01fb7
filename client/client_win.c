/* SPDX-License-Identifier: MPL-2.0 */
/*
 * client_win.c - Win32 transport and mapping for the client library.
 *
 * The pipe is opened with SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION:
 * the broker may learn who we are but can never act as us (DESIGN.md rule
 * 6; without SQOS flags a pipe server gets impersonation-level access).
 */
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_plat.h"
#include "shmb.h"

struct cplat_conn {
    HANDLE pipe;  /* overlapped, so that every wait can have a deadline */
    HANDLE event; /* manual reset, for the OVERLAPPED of each operation */
    DWORD io_timeout_ms;
};

int cplat_connect(const char *pipe_name, uint32_t timeout_ms,
                  uint32_t io_timeout_ms, cplat_conn **out, uint32_t *syserr)
{
    WCHAR name[512];
    DWORD start = GetTickCount();
    HANDLE h;
    cplat_conn *c;

    if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, pipe_name, -1, name,
                             512))
        return SHMB_E_INVALID_ARG;
    for (;;) {
        h = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL,
                        OPEN_EXISTING,
                        FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT |
                            SECURITY_IDENTIFICATION,
                        NULL);
        if (h != INVALID_HANDLE_VALUE)
            break;
        *syserr = GetLastError();
        if (*syserr != ERROR_PIPE_BUSY && *syserr != ERROR_FILE_NOT_FOUND)
            return SHMB_E_CONNECT;
        /* Busy: all instances taken; not found: the broker may be between
         * instances or starting. Either way retry until the deadline. */
        if (GetTickCount() - start >= timeout_ms)
            return SHMB_E_CONNECT;
        if (*syserr == ERROR_PIPE_BUSY)
            WaitNamedPipeW(name, 100);
        else
            Sleep(20);
    }
    c = malloc(sizeof(*c));
    if (c == NULL ||
        (c->event = CreateEventW(NULL, TRUE, FALSE, NULL)) == NULL) {
        free(c);
        CloseHandle(h);
        return SHMB_E_NOMEM;
    }
    c->pipe = h;
    c->io_timeout_ms = io_timeout_ms;
    *out = c;
    return SHMB_OK;
}

/* One overlapped read or write, waited for at most io_timeout_ms. */
static int io_once(cplat_conn *c, int write, void *buf, DWORD len, DWORD *done,
                   uint32_t *syserr)
{
    OVERLAPPED ov;
    BOOL ok;

    memset(&ov, 0, sizeof(ov));
    ov.hEvent = c->event;
    ResetEvent(c->event);
    ok = write ? WriteFile(c->pipe, buf, len, NULL, &ov)
               : ReadFile(c->pipe, buf, len, NULL, &ov);
    if (!ok && GetLastError() != ERROR_IO_PENDING) {
        *syserr = GetLastError();
        return SHMB_E_IO;
    }
    if (WaitForSingleObject(c->event, c->io_timeout_ms) != WAIT_OBJECT_0) {
        CancelIoEx(c->pipe, &ov);
        GetOverlappedResult(c->pipe, &ov, done, TRUE);
        *syserr = ERROR_TIMEOUT;
        return SHMB_E_IO;
    }
    if (!GetOverlappedResult(c->pipe, &ov, done, FALSE)) {
        *syserr = GetLastError();
        return SHMB_E_IO;
    }
    return SHMB_OK;
}

static int io_all(cplat_conn *c, int write, char *p, size_t len,
                  uint32_t *syserr)
{
    DWORD n = 0;
    while (len > 0) {
        DWORD chunk = len > 0x10000000u ? 0x10000000u : (DWORD)len;
        int rc = io_once(c, write, p, chunk, &n, syserr);
        if (rc != SHMB_OK)
            return rc;
        if (n == 0) {
            *syserr = ERROR_BROKEN_PIPE;
            return SHMB_E_IO;
        }
        p += n;
        len -= n;
    }
    return SHMB_OK;
}

int cplat_write(cplat_conn *c, const void *buf, size_t len, uint32_t *syserr)
{
    return io_all(c, 1, (char *)buf, len, syserr);
}

int cplat_read(cplat_conn *c, void *buf, size_t len, uint32_t *syserr)
{
    return io_all(c, 0, buf, len, syserr);
}

int cplat_is_timeout(uint32_t syserr)
{
    return syserr == ERROR_TIMEOUT; /* set by io_once when the wait expired */
}

/* The pid the SCM runs for the service, or 0 (with *err) if none. */
static DWORD service_pid(const char *service_name, DWORD *err)
{
    WCHAR wname[256];
    SC_HANDLE scm, svc = NULL;
    SERVICE_STATUS_PROCESS st;
    DWORD n = 0, pid = 0;

    *err = 0;
    if (!MultiByteToWideChar(CP_UTF8, 0, service_name, -1, wname, 256)) {
        *err = GetLastError();
        return 0;
    }
    scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    if (scm != NULL)
        svc = OpenServiceW(scm, wname, SERVICE_QUERY_STATUS);
    if (svc != NULL &&
        QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (LPBYTE)&st,
                             sizeof(st), &n) &&
        st.dwCurrentState == SERVICE_RUNNING)
        pid = st.dwProcessId;
    else
        *err = GetLastError();
    if (svc != NULL)
        CloseServiceHandle(svc);
    if (scm != NULL)
        CloseServiceHandle(scm);
    return pid;
}

static int verify_service_pid(cplat_conn *c, const char *service_name,
                              char *why, size_t cap, uint32_t *syserr)
{
    ULONG server = 0;
    DWORD err = 0, svc;

    if (!GetNamedPipeServerProcessId(c->pipe, &server)) {
        *syserr = GetLastError();
        snprintf(why, cap, "cannot learn the pipe server's process id");
        return SHMB_E_SERVER_UNTRUSTED;
    }
    svc = service_pid(service_name, &err);
    if (svc == 0) {
        *syserr = err;
        snprintf(why, cap,
                 "service '%s' is not running (or cannot be queried: error "
                 "%lu), so pipe server process %lu cannot be it",
                 service_name, err, server);
        return SHMB_E_SERVER_UNTRUSTED;
    }
    if (svc != server) {
        snprintf(why, cap,
                 "the pipe server is process %lu, but service '%s' is "
                 "process %lu",
                 server, service_name, svc);
        return SHMB_E_SERVER_UNTRUSTED;
    }
    return SHMB_OK;
}

/* The pipe object's owner must be LocalSystem or NT SERVICE\<name>. The
 * owner is read through our own handle (READ_CONTROL is part of the
 * client's access), so this works for low-integrity and AppContainer
 * clients too, which cannot open a SYSTEM process's token. An ordinary
 * squatter cannot create an object owned by SYSTEM. */
static int verify_system_owner(cplat_conn *c, const char *service_name,
                               char *why, size_t cap, uint32_t *syserr)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    PSID owner = NULL;
    BYTE sid_buf[SECURITY_MAX_SID_SIZE];
    WCHAR account[300], domain[256];
    DWORD sid_len = sizeof(sid_buf), dom_len = 256, rc;
    SID_NAME_USE use;
    LPWSTR text = NULL;
    char owner_text[200] = "?";
    int ok = 0;

    rc = GetSecurityInfo(c->pipe, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION,
                         &owner, NULL, NULL, NULL, &sd);
    if (rc != ERROR_SUCCESS || owner == NULL) {
        *syserr = rc;
        snprintf(why, cap, "cannot read the pipe's owner (error %lu)", rc);
        return SHMB_E_SERVER_UNTRUSTED;
    }
    if (IsWellKnownSid(owner, WinLocalSystemSid)) {
        ok = 1;
    } else {
        wcscpy(account, L"NT SERVICE\\");
        if (MultiByteToWideChar(CP_UTF8, 0, service_name, -1, account + 11,
                                300 - 11) &&
            LookupAccountNameW(NULL, account, (PSID)sid_buf, &sid_len, domain,
                               &dom_len, &use) &&
            EqualSid(owner, (PSID)sid_buf))
            ok = 1;
    }
    if (!ok) {
        if (ConvertSidToStringSidW(owner, &text)) {
            WideCharToMultiByte(CP_UTF8, 0, text, -1, owner_text,
                                sizeof(owner_text), NULL, NULL);
            LocalFree(text);
        }
        snprintf(why, cap,
                 "the pipe is owned by %s, not by LocalSystem or NT "
                 "SERVICE\\%s: not the broker service",
                 owner_text, service_name);
    }
    LocalFree(sd);
    return ok ? SHMB_OK : SHMB_E_SERVER_UNTRUSTED;
}

int cplat_verify_server(cplat_conn *c, int trust, const char *service_name,
                        char *why, size_t whycap, uint32_t *syserr)
{
    switch (trust) {
    case SHMB_TRUST_ANY:
        return SHMB_OK;
    case SHMB_TRUST_SERVICE:
        return verify_service_pid(c, service_name, why, whycap, syserr);
    default:
        return verify_system_owner(c, service_name, why, whycap, syserr);
    }
}

void cplat_close(cplat_conn *c)
{
    if (c == NULL)
        return;
    CloseHandle(c->pipe);
    CloseHandle(c->event);
    free(c);
}

int cplat_handle_is_pseudo(uint64_t handle)
{
    /* 0, and the pseudo-handles (-1 current process, -2 current thread and
     * friends) are never a section: refuse rather than map something else.
     * Judged as a HANDLE of this build, so 0xffffffff is -1 on 32 bits. */
    intptr_t v = (intptr_t)(uintptr_t)handle;
    return v == 0 || (v < 0 && v >= -16);
}

int cplat_map(uint64_t handle, uint64_t size, shmb_access access, void **view,
              uint32_t *syserr)
{
    DWORD want = access == SHMB_ACCESS_RW ? FILE_MAP_WRITE : FILE_MAP_READ;
    void *v;

    if (cplat_handle_is_pseudo(handle) || size > (uint64_t)SIZE_MAX)
        return SHMB_E_INVALID_ARG;
    v = MapViewOfFile((HANDLE)(uintptr_t)handle, want, 0, 0, (SIZE_T)size);
    if (v == NULL) {
        *syserr = GetLastError();
        return SHMB_E_SYSTEM;
    }
    *view = v;
    return SHMB_OK;
}

void cplat_unmap(void *view)
{
    if (view != NULL)
        UnmapViewOfFile(view);
}

void cplat_close_handle(uint64_t handle)
{
    if (!cplat_handle_is_pseudo(handle))
        CloseHandle((HANDLE)(uintptr_t)handle);
}

/* shmb_service_reload (shmb.h) on Windows: SERVICE_CONTROL_PARAMCHANGE
 * through the SCM, which needs SERVICE_PAUSE_CONTINUE on the service. */
int shmb_service_reload(const char *service_name, uint32_t *syserr)
{
    WCHAR wname[256];
    SC_HANDLE scm, svc = NULL;
    SERVICE_STATUS st;
    int rc = SHMB_E_SYSTEM;
    uint32_t dummy;

    if (syserr == NULL)
        syserr = &dummy;
    *syserr = 0;
    if (!MultiByteToWideChar(CP_UTF8, 0,
                             service_name ? service_name : "shmbroker", -1,
                             wname, 256))
        return SHMB_E_INVALID_ARG;
    scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    if (scm != NULL)
        svc = OpenServiceW(scm, wname,
                           SERVICE_PAUSE_CONTINUE); /* for PARAMCHANGE */
    if (svc != NULL && ControlService(svc, SERVICE_CONTROL_PARAMCHANGE, &st))
        rc = SHMB_OK;
    else
        *syserr = GetLastError();
    if (svc != NULL)
        CloseServiceHandle(svc);
    if (scm != NULL)
        CloseServiceHandle(scm);
    return rc;
}
