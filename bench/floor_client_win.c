/* SPDX-License-Identifier: MPL-2.0 */
/*
 * floor_client_win.c - the benchmark's side of the floors (floor.h): the
 * same kernel calls the client library makes for a connect, a request and a
 * grant, without its JSON, locking or bookkeeping. The transport is the
 * library's own (client_plat.h), not a copy: a floor that waited where the
 * library does not, or read in more calls, would stop being a floor.
 */
#include <windows.h>

#include <aclapi.h>
#include <stdio.h>
#include <string.h>

#include "client_plat.h"
#include "floor.h"

#define FLOOR_IO_TIMEOUT_MS 30000

int floor_open(floor_conn *c, const char *name, int verify, DWORD timeout_ms)
{
    uint32_t syserr = 0;

    c->conn = NULL;
    if (cplat_connect(name, timeout_ms, FLOOR_IO_TIMEOUT_MS, &c->conn,
                      &syserr) != SHMB_OK) {
        c->conn = NULL;
        SetLastError(syserr);
        return 0;
    }
    if (verify) {
        HANDLE pipe = cplat_os_handle(c->conn);
        PSECURITY_DESCRIPTOR sd = NULL;
        PSID owner = NULL;
        ULONG pid = 0;
        /* Both checks' kernel work (cplat_verify_server): the pid for the
         * service mode, the owner for the LocalSystem one. Their results do
         * not matter here, only their cost. */
        GetNamedPipeServerProcessId(pipe, &pid);
        if (GetSecurityInfo(pipe, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION,
                            &owner, NULL, NULL, NULL, &sd) == ERROR_SUCCESS) {
            (void)IsWellKnownSid(owner, WinLocalSystemSid);
            LocalFree(sd);
        }
    }
    return 1;
}

/* As client.c sends a request and reads its reply: one write of the frame,
 * then the 4-byte header and the body, each a cplat_read (the first fills
 * the library's receive buffer with both, the second is a copy). */
int floor_round_trip(floor_conn *c, char *frame)
{
    uint32_t body = FLOOR_FRAME - 4, syserr = 0;
    memcpy(frame, &body, 4);
    if (cplat_write(c->conn, frame, FLOOR_FRAME, &syserr) != SHMB_OK ||
        cplat_read(c->conn, frame, 4, &syserr) != SHMB_OK ||
        cplat_read(c->conn, frame + 4, FLOOR_FRAME - 4, &syserr) != SHMB_OK) {
        SetLastError(syserr);
        return 0;
    }
    return 1;
}

static int request(floor_conn *c, uint64_t size, uint64_t *value)
{
    char frame[FLOOR_FRAME];
    memset(frame, 0, sizeof(frame));
    memcpy(frame + FLOOR_PAYLOAD, &size, sizeof(size));
    if (!floor_round_trip(c, frame))
        return 0;
    memcpy(value, frame + FLOOR_PAYLOAD, sizeof(*value));
    return 1;
}

int floor_grant(floor_conn *c, uint64_t size, int release)
{
    uint64_t value = 0, released = 0;
    HANDLE h;
    void *view;

    if (!request(c, size, &value))
        return 0;
    h = (HANDLE)(uintptr_t)value;
    if (h == NULL)
        return 0;
    view = MapViewOfFile(h, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
    if (view != NULL) {
        *(volatile char *)view = 1;
        UnmapViewOfFile(view);
    }
    CloseHandle(h);
    if (view == NULL)
        return 0;
    if (release && size != 0)
        return request(c, FLOOR_RELEASE, &released) && released == 1;
    return 1;
}

void floor_close(floor_conn *c)
{
    cplat_close(c->conn);
    c->conn = NULL;
}
