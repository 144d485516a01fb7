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

/* Replies are read through a small buffer: one ReadFile takes a frame's
 * header and (for all but large replies) its payload together, instead of
 * one call for each. Only replies to our own requests ever arrive, one at
 * a time, so whatever the buffer holds belongs to the current reply. */
#define RX_BUFFER 4096

struct cplat_conn {
    HANDLE pipe;  /* overlapped, so that every wait can have a deadline */
    HANDLE event; /* manual reset, for the OVERLAPPED of each operation */
    DWORD io_timeout_ms;
    DWORD rx_off, rx_len; /* unread bytes: rx[rx_off .. rx_len) */
    unsigned char rx[RX_BUFFER];
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
    c->rx_off = c->rx_len = 0;
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
    /* Completed at once (the usual case for a write, and for a read whose
     * reply is already there): no wait needed. */
    if (!ok &&
        WaitForSingleObject(c->event, c->io_timeout_ms) != WAIT_OBJECT_0) {
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
    unsigned char *p = buf;

    for (;;) {
        DWORD n = c->rx_len - c->rx_off;
        if (n > len)
            n = (DWORD)len;
        memcpy(p, c->rx + c->rx_off, n);
        c->rx_off += n;
        p += n;
        len -= n;
        if (len == 0)
            return SHMB_OK;
        if (len >= RX_BUFFER) /* large: straight into the caller's buffer */
            return io_all(c, 0, (char *)p, len, syserr);
        c->rx_off = c->rx_len = 0;
        if (io_once(c, 0, c->rx, RX_BUFFER, &n, syserr) != SHMB_OK)
            return SHMB_E_IO;
        if (n == 0) {
            *syserr = ERROR_BROKEN_PIPE;
            return SHMB_E_IO;
        }
        c->rx_len = n;
    }
}

int cplat_is_timeout(uint32_t syserr)
{
    return syserr == ERROR_TIMEOUT; /* set by io_once when the wait expired */
}

int cplat_is_gone(uint32_t syserr)
{
    /* The server end closed (EOF on read is mapped to BROKEN_PIPE by
     * io_all), is closing (NO_DATA on write), or was never connected any
     * more (the server process died). */
    return syserr == ERROR_BROKEN_PIPE || syserr == ERROR_NO_DATA ||
           syserr == ERROR_PIPE_NOT_CONNECTED;
}

/* Serializes cplat_service_status() across the process. Wine's rpcrt4 shares
 * one client association to services.exe per process, and learns its
 * association group id only when a first connection goes back to the
 * pool: connections opened by threads that race before that each bind
 * with group 0 and land in different server-side associations. An SC
 * handle made on one of them is unknown on the others, so when the next
 * call (OpenServiceW, QueryServiceStatusEx) picks another connection from
 * the pool, services.exe answers RPC_X_SS_CONTEXT_MISMATCH - which is
 * ERROR_INVALID_HANDLE (6): "service cannot be queried: error 6" with 64
 * threads connecting at once. One SCM conversation at a time keeps a
 * single pooled connection. A process-wide lock because the association
 * is process-wide; SRWLOCK_INIT needs no set-up. */
static SRWLOCK scm_lock = SRWLOCK_INIT;

/* Other code in the process may still race the SCM the same way, so a
 * context mismatch is retried a few times; every other error is final. */
#define SCM_ATTEMPTS 4

/* One query of the service's state and process id; 0 with *err on
 * failure. */
static int service_status_once(const WCHAR *wname, SERVICE_STATUS_PROCESS *st,
                               DWORD *err)
{
    SC_HANDLE scm, svc = NULL;
    DWORD n = 0;
    int ok = 0;

    *err = 0;
    /* Query rights only: any user may ask this much of a service. */
    scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    if (scm != NULL)
        svc = OpenServiceW(scm, wname, SERVICE_QUERY_STATUS);
    if (svc != NULL && QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO,
                                            (LPBYTE)st, sizeof(*st), &n))
        ok = 1;
    else
        *err = GetLastError();
    if (svc != NULL)
        CloseServiceHandle(svc);
    if (scm != NULL)
        CloseServiceHandle(scm);
    return ok;
}

int cplat_service_status(const char *service_name, uint32_t *state,
                         uint32_t *pid, uint32_t *syserr)
{
    WCHAR wname[257];
    SERVICE_STATUS_PROCESS st;
    DWORD err = 0;
    int i, ok = 0;

    *state = 0;
    *pid = 0;
    *syserr = 0;
    if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, service_name, -1,
                             wname, 257)) {
        *syserr = GetLastError();
        return SHMB_E_INVALID_ARG;
    }
    memset(&st, 0, sizeof(st));
    AcquireSRWLockExclusive(&scm_lock);
    for (i = 0; i < SCM_ATTEMPTS; i++) {
        ok = service_status_once(wname, &st, &err);
        if (ok || err != ERROR_INVALID_HANDLE)
            break;
        Sleep(10u << i);
    }
    ReleaseSRWLockExclusive(&scm_lock);
    if (!ok) {
        *syserr = err;
        return SHMB_E_SYSTEM;
    }
    *state = st.dwCurrentState;
    *pid = st.dwProcessId;
    return SHMB_OK;
}

/* The pid the SCM runs for the service, or 0 (with *err) if none. */
static DWORD service_pid(const char *service_name, DWORD *err)
{
    uint32_t state, pid, syserr;
    if (cplat_service_status(service_name, &state, &pid, &syserr) != SHMB_OK) {
        *err = syserr;
        return 0;
    }
    if (state != SERVICE_RUNNING) {
        *err = ERROR_SERVICE_NOT_ACTIVE; /* not a stale last error */
        return 0;
    }
    *err = 0;
    return pid;
}

/* The last process the service manager named as the service, by pid and
 * creation time (one service per process, as a rule: the one asked most
 * recently). A pipe server that is that same process - same pid, same
 * creation time, so not a later process that reused the pid - is the
 * service without asking the service manager again, which costs more than
 * all the rest of a connect. Guarded by seen_lock (not scm_lock: a
 * lookup must not wait behind another thread's service manager query). */
static SRWLOCK seen_lock = SRWLOCK_INIT;
static struct {
    char service[257];
    DWORD pid;
    ULONGLONG created;
} svc_seen;

/* The creation time of the process `h`, or 0. */
static ULONGLONG process_created(HANDLE h)
{
    FILETIME c, e, k, u;
    if (h == NULL || !GetProcessTimes(h, &c, &e, &k, &u))
        return 0;
    return ((ULONGLONG)c.dwHighDateTime << 32) | c.dwLowDateTime;
}

static int svc_seen_is(const char *service_name, DWORD pid, ULONGLONG created)
{
    int hit;
    AcquireSRWLockShared(&seen_lock);
    hit = created != 0 && svc_seen.pid == pid && svc_seen.created == created &&
          strcmp(svc_seen.service, service_name) == 0;
    ReleaseSRWLockShared(&seen_lock);
    return hit;
}

static void svc_seen_set(const char *service_name, DWORD pid, ULONGLONG created)
{
    if (created == 0 || strlen(service_name) >= sizeof(svc_seen.service))
        return;
    AcquireSRWLockExclusive(&seen_lock);
    strcpy(svc_seen.service, service_name);
    svc_seen.pid = pid;
    svc_seen.created = created;
    ReleaseSRWLockExclusive(&seen_lock);
}

static int verify_service_pid(cplat_conn *c, const char *service_name,
                              char *why, size_t cap, uint32_t *syserr)
{
    ULONG server = 0;
    DWORD err = 0, svc;
    HANDLE proc;
    ULONGLONG created;

    if (!GetNamedPipeServerProcessId(c->pipe, &server)) {
        *syserr = GetLastError();
        snprintf(why, cap, "cannot learn the pipe server's process id");
        return SHMB_E_SERVER_UNTRUSTED;
    }
    /* Held open until the answer is known: while it is, no other process
     * can get this pid, so the pid the service manager names is this
     * process if it is `server` (and the creation time is its own). */
    proc = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, server);
    created = process_created(proc);
    if (svc_seen_is(service_name, server, created)) {
        CloseHandle(proc);
        return SHMB_OK;
    }
    svc = service_pid(service_name, &err);
    if (svc == server)
        svc_seen_set(service_name, server, created);
    if (proc != NULL)
        CloseHandle(proc);
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

void *cplat_os_handle(cplat_conn *c)
{
    return c->pipe;
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

struct cplat_mutex {
    SRWLOCK lock;
};

cplat_mutex *cplat_mutex_new(void)
{
    cplat_mutex *m = malloc(sizeof(*m));
    if (m != NULL)
        InitializeSRWLock(&m->lock);
    return m;
}

void cplat_mutex_lock(cplat_mutex *m)
{
    AcquireSRWLockExclusive(&m->lock);
}

void cplat_mutex_unlock(cplat_mutex *m)
{
    ReleaseSRWLockExclusive(&m->lock);
}

void cplat_mutex_free(cplat_mutex *m)
{
    free(m);
}

#ifndef SECTION_QUERY
#define SECTION_QUERY 0x0001
#endif

/* The broker's grant masks (service/section_win.c, DESIGN.md rule 2):
 * the hand-off gives exactly these, never DUPLICATE_SAME_ACCESS, so that a
 * parent whose handle somehow carries more cannot pass more on. */
static DWORD grant_mask(shmb_access access)
{
    return access == SHMB_ACCESS_RW
               ? FILE_MAP_READ | FILE_MAP_WRITE | SECTION_QUERY
               : FILE_MAP_READ | SECTION_QUERY;
}

int cplat_handoff_dup(uint64_t handle, shmb_access access, void *process,
                      uint64_t *out, uint32_t *syserr)
{
    HANDLE self = GetCurrentProcess(), dup = NULL;
    /* Inheritable only in our own table, for the child's handle list;
     * never in someone else's. */
    BOOL inherit = process == NULL;

    if (cplat_handle_is_pseudo(handle))
        return SHMB_E_INVALID_ARG;
    if (!DuplicateHandle(self, (HANDLE)(uintptr_t)handle,
                         process != NULL ? (HANDLE)process : self, &dup,
                         grant_mask(access), inherit, 0)) {
        *syserr = GetLastError();
        return SHMB_E_SYSTEM;
    }
    *out = (uint64_t)(uintptr_t)dup;
    return SHMB_OK;
}

int cplat_handoff_revoke(uint64_t handle, void *process, uint32_t *syserr)
{
    HANDLE copy = NULL;

    if (process == NULL || cplat_handle_is_pseudo(handle))
        return SHMB_E_INVALID_ARG;
    /* Source = the other process, DUPLICATE_CLOSE_SOURCE, no target.
     * Older Windows and Wine refuse a NULL target: then the copy lands here
     * with no access at all (not DUPLICATE_SAME_ACCESS: the other process
     * may have put something else behind that value) and is closed. */
    if (DuplicateHandle((HANDLE)process, (HANDLE)(uintptr_t)handle, NULL, NULL,
                        0, FALSE, DUPLICATE_CLOSE_SOURCE))
        return SHMB_OK;
    if (DuplicateHandle((HANDLE)process, (HANDLE)(uintptr_t)handle,
                        GetCurrentProcess(), &copy, 0, FALSE,
                        DUPLICATE_CLOSE_SOURCE)) {
        CloseHandle(copy);
        return SHMB_OK;
    }
    *syserr = GetLastError();
    return SHMB_E_SYSTEM;
}

int cplat_handle_is_open(uint64_t handle)
{
    DWORD flags;
    return !cplat_handle_is_pseudo(handle) &&
           GetHandleInformation((HANDLE)(uintptr_t)handle, &flags);
}

/* NtQuerySection(SectionBasicInformation): documented in the WDK, not in
 * the user-mode headers. */
typedef struct {
    PVOID base;
    ULONG attributes;
    LARGE_INTEGER size;
} section_basic_info;
typedef LONG(NTAPI *nt_query_section_fn)(HANDLE, int, PVOID, SIZE_T, PSIZE_T);

int cplat_handoff_accept(uint64_t handle, uint64_t size, char *why,
                         size_t whycap)
{
    HANDLE h = (HANDLE)(uintptr_t)handle;
    nt_query_section_fn q = (nt_query_section_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleW(L"ntdll.dll"), "NtQuerySection");
    section_basic_info info;
    SYSTEM_INFO si;
    uint64_t page, want;
    SIZE_T n = 0;

    GetSystemInfo(&si);
    page = si.dwPageSize ? si.dwPageSize : 4096;
    want = (size + page - 1) / page * page;
    memset(&info, 0, sizeof(info));
    /* A grant always carries SECTION_QUERY, so this works on every real
     * hand-off and fails on anything that is not a section. */
    if (q == NULL || q(h, 0, &info, sizeof(info), &n) != 0) {
        snprintf(why, whycap, "its handle is not a section handle");
        return SHMB_E_INVALID_ARG;
    }
    if ((uint64_t)info.size.QuadPart != want) {
        snprintf(why, whycap,
                 "its section holds %llu bytes, not the %llu the text says",
                 (unsigned long long)info.size.QuadPart,
                 (unsigned long long)size);
        return SHMB_E_INVALID_ARG;
    }
    /* Inherited handles stay inheritable: stop a grandchild started with
     * bInheritHandles and no handle list from getting it too. */
    if (!SetHandleInformation(h, HANDLE_FLAG_INHERIT, 0)) {
        snprintf(why, whycap,
                 "its handle cannot be made non-inheritable "
                 "(system error %lu)",
                 GetLastError());
        return SHMB_E_SYSTEM;
    }
    return SHMB_OK;
}
