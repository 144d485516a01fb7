/* SPDX-License-Identifier: MPL-2.0 */
/*
 * client_win.c - Win32 transport and mapping for the client library.
 *
 * The pipe is opened with SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION:
 * the broker may learn who we are but can never act as us (DESIGN.md rule
 * 6; without SQOS flags a pipe server gets impersonation-level access).
 */
#include <windows.h>

#include <stdlib.h>

#include "client_plat.h"

struct cplat_conn {
    HANDLE pipe;
};

int cplat_connect(const char *pipe_name, uint32_t timeout_ms,
                  cplat_conn **out, uint32_t *syserr)
{
    WCHAR name[512];
    DWORD start = GetTickCount();
    HANDLE h;
    cplat_conn *c;

    if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, pipe_name, -1,
                             name, 512))
        return SHMB_E_INVALID_ARG;
    for (;;) {
        h = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL,
                        OPEN_EXISTING,
                        SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, NULL);
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
    if (c == NULL) {
        CloseHandle(h);
        return SHMB_E_NOMEM;
    }
    c->pipe = h;
    *out = c;
    return SHMB_OK;
}

int cplat_write(cplat_conn *c, const void *buf, size_t len, uint32_t *syserr)
{
    const char *p = buf;
    DWORD n;
    while (len > 0) {
        DWORD chunk = len > 0x10000000u ? 0x10000000u : (DWORD)len;
        if (!WriteFile(c->pipe, p, chunk, &n, NULL)) {
            *syserr = GetLastError();
            return SHMB_E_IO;
        }
        p += n;
        len -= n;
    }
    return SHMB_OK;
}

int cplat_read(cplat_conn *c, void *buf, size_t len, uint32_t *syserr)
{
    char *p = buf;
    DWORD n;
    while (len > 0) {
        DWORD chunk = len > 0x10000000u ? 0x10000000u : (DWORD)len;
        if (!ReadFile(c->pipe, p, chunk, &n, NULL) || n == 0) {
            *syserr = n == 0 ? ERROR_BROKEN_PIPE : GetLastError();
            return SHMB_E_IO;
        }
        p += n;
        len -= n;
    }
    return SHMB_OK;
}

void cplat_close(cplat_conn *c)
{
    if (c == NULL)
        return;
    CloseHandle(c->pipe);
    free(c);
}

static int handle_is_pseudo(uint64_t handle)
{
    /* 0, and the pseudo-handles (-1 current process, -2 current thread and
     * friends) are never a section: refuse rather than map something else. */
    int64_t v = (int64_t)handle;
    return v == 0 || (v < 0 && v >= -16);
}

int cplat_map(uint64_t handle, uint64_t size, shmb_access access, void **view,
              uint32_t *syserr)
{
    DWORD want = access == SHMB_ACCESS_RW ? FILE_MAP_WRITE : FILE_MAP_READ;
    void *v;

    if (handle_is_pseudo(handle) || size > (uint64_t)SIZE_MAX)
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
    if (!handle_is_pseudo(handle))
        CloseHandle((HANDLE)(uintptr_t)handle);
}
