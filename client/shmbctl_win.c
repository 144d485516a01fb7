/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmbctl_win.c - shmbctl's Windows half (shmbctl_plat.h): the service
 * control manager's status of the broker service, and binary stdin.
 */
#include <windows.h>

#include <fcntl.h>
#include <io.h>
#include <stdio.h>

#include "shmbctl_plat.h"

static const char *state_name(DWORD state)
{
    switch (state) {
    case SERVICE_STOPPED:
        return "stopped";
    case SERVICE_START_PENDING:
        return "start_pending";
    case SERVICE_STOP_PENDING:
        return "stop_pending";
    case SERVICE_RUNNING:
        return "running";
    case SERVICE_CONTINUE_PENDING:
        return "continue_pending";
    case SERVICE_PAUSE_PENDING:
        return "pause_pending";
    case SERVICE_PAUSED:
        return "paused";
    default:
        return "unknown";
    }
}

int ctlplat_service_state(const char *service, char *state, size_t cap,
                          uint32_t *pid, uint32_t *syserr)
{
    SC_HANDLE scm = NULL, svc = NULL;
    SERVICE_STATUS_PROCESS st;
    DWORD need = 0;
    WCHAR wname[257];
    int rc = -1;

    *pid = 0;
    *syserr = 0;
    if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, service, -1, wname,
                             257)) {
        *syserr = GetLastError();
        return -1;
    }
    /* Query rights only: any user may ask this much of a service. */
    scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    if (scm != NULL)
        svc = OpenServiceW(scm, wname, SERVICE_QUERY_STATUS);
    if (svc != NULL && QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO,
                                            (BYTE *)&st, sizeof(st), &need)) {
        snprintf(state, cap, "%s", state_name(st.dwCurrentState));
        *pid = st.dwProcessId;
        rc = 0;
    } else {
        *syserr = GetLastError();
    }
    if (svc != NULL)
        CloseServiceHandle(svc);
    if (scm != NULL)
        CloseServiceHandle(scm);
    return rc;
}

void ctlplat_binary_stdin(void)
{
    _setmode(_fileno(stdin), _O_BINARY);
}
