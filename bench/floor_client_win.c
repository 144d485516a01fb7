/* SPDX-License-Identifier: MPL-2.0 */
/*
 * floor_client_win.c - the benchmark's side of the floors (floor.h): the
 * same kernel calls the client library makes for a connect, a request and a
 * grant, without its JSON, locking or bookkeeping.
 */
#include <windows.h>

#include <aclapi.h>
#include <stdio.h>
#include <string.h>

#include "floor.h"

int floor_open(floor_conn *c, const char *name, int verify, DWORD timeout_ms)
{
    WCHAR w[256];
    DWORD start = GetTickCount();

    c->pipe = INVALID_HANDLE_VALUE;
    c->event = NULL;
    if (!MultiByteToWideChar(CP_UTF8, 0, name, -1, w, 256))
        return 0;
    for (;;) {
        c->pipe =
            CreateFileW(w, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                        FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT |
                            SECURITY_IDENTIFICATION,
                        NULL);
        if (c->pipe != INVALID_HANDLE_VALUE)
            break;
        if (GetTickCount() - start >= timeout_ms)
            return 0;
        if (GetLastError() == ERROR_PIPE_BUSY)
            WaitNamedPipeW(w, 100);
        else
            Sleep(10);
    }
    c->event = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (c->event == NULL) {
        floor_close(c);
        return 0;
    }
    if (verify) {
        PSECURITY_DESCRIPTOR sd = NULL;
        PSID owner = NULL;
        ULONG pid = 0;
        /* Both checks' kernel work (shmb_server_trust): the pid for the
         * service mode, the owner for the LocalSystem one. Their results do
         * not matter here, only their cost. */
        GetNamedPipeServerProcessId(c->pipe, &pid);
        if (GetSecurityInfo(c->pipe, SE_KERNEL_OBJECT,
                            OWNER_SECURITY_INFORMATION, &owner, NULL, NULL,
                            NULL, &sd) == ERROR_SUCCESS) {
            (void)IsWellKnownSid(owner, WinLocalSystemSid);
            LocalFree(sd);
        }
    }
    return 1;
}

static int io(floor_conn *c, int write, char *buf, DWORD len)
{
    while (len > 0) {
        OVERLAPPED ov;
        DWORD n = 0;
        BOOL ok;
        memset(&ov, 0, sizeof(ov));
        ov.hEvent = c->event;
        ResetEvent(c->event);
        ok = write ? WriteFile(c->pipe, buf, len, NULL, &ov)
                   : ReadFile(c->pipe, buf, len, NULL, &ov);
        if (!ok && GetLastError() != ERROR_IO_PENDING)
            return 0;
        if (WaitForSingleObject(c->event, 30000) != WAIT_OBJECT_0 ||
            !GetOverlappedResult(c->pipe, &ov, &n, FALSE) || n == 0)
            return 0;
        buf += n;
        len -= n;
    }
    return 1;
}

int floor_round_trip(floor_conn *c, char *frame)
{
    uint32_t body = FLOOR_FRAME - 4;
    memcpy(frame, &body, 4);
    return io(c, 1, frame, FLOOR_FRAME) && io(c, 0, frame, 4) &&
           io(c, 0, frame + 4, FLOOR_FRAME - 4);
}

int floor_grant(floor_conn *c, uint64_t size)
{
    char frame[FLOOR_FRAME];
    uint64_t value = 0;
    HANDLE h;
    void *view;

    memset(frame, 0, sizeof(frame));
    memcpy(frame + FLOOR_PAYLOAD, &size, sizeof(size));
    if (!floor_round_trip(c, frame))
        return 0;
    memcpy(&value, frame + FLOOR_PAYLOAD, sizeof(value));
    h = (HANDLE)(uintptr_t)value;
    if (h == NULL)
        return 0;
    view = MapViewOfFile(h, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
    if (view != NULL) {
        *(volatile char *)view = 1;
        UnmapViewOfFile(view);
    }
    CloseHandle(h);
    return view != NULL;
}

void floor_close(floor_conn *c)
{
    if (c->pipe != INVALID_HANDLE_VALUE)
        CloseHandle(c->pipe);
    if (c->event != NULL)
        CloseHandle(c->event);
    c->pipe = INVALID_HANDLE_VALUE;
    c->event = NULL;
}
