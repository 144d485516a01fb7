/* SPDX-License-Identifier: MPL-2.0 */
/*
 * scm_win.c - the service's state as the service control manager sees it
 * (plat_report_state): states, wait hints, the controls we accept and the
 * exit code of a failed start. The process's one global lives here.
 */
#include <windows.h>

#include "platform.h"
#include "scm_win.h"

#define START_WAIT_HINT_MS 10000
#define STOP_WAIT_HINT_MS 10000

/* Written by the service thread and the control handler, hence the lock. */
static struct {
    SERVICE_STATUS_HANDLE handle;
    SERVICE_STATUS status;
    INIT_ONCE once;
    CRITICAL_SECTION lock;
} g_scm = {NULL, {0}, INIT_ONCE_STATIC_INIT, {0}};

static BOOL CALLBACK init_lock(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)param;
    (void)ctx;
    InitializeCriticalSection(&g_scm.lock);
    return TRUE;
}

void scm_attach(SERVICE_STATUS_HANDLE handle)
{
    InitOnceExecuteOnce(&g_scm.once, init_lock, NULL, NULL);
    g_scm.handle = handle;
}

void plat_report_state(plat_state state, int exit_code)
{
    static const DWORD states[] = {SERVICE_START_PENDING, SERVICE_RUNNING,
                                   SERVICE_STOP_PENDING, SERVICE_STOPPED};
    SERVICE_STATUS *st = &g_scm.status;

    if (g_scm.handle == NULL)
        return;
    EnterCriticalSection(&g_scm.lock);
    st->dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    st->dwCurrentState = states[state];
    st->dwWin32ExitCode = NO_ERROR;
    st->dwServiceSpecificExitCode = 0;
    if (state == PLAT_STATE_STOPPED && exit_code == PLAT_EXIT_BAD_CONFIG) {
        st->dwWin32ExitCode = ERROR_BAD_CONFIGURATION;
    } else if (state == PLAT_STATE_STOPPED && exit_code == SHMB_E_NOMEM) {
        st->dwWin32ExitCode = ERROR_NOT_ENOUGH_MEMORY;
    } else if (state == PLAT_STATE_STOPPED && exit_code < 0) {
        /* sc query shows the shmb_err of the failed start. */
        st->dwWin32ExitCode = ERROR_SERVICE_SPECIFIC_ERROR;
        st->dwServiceSpecificExitCode = (DWORD)-exit_code;
    }
    st->dwWaitHint = state == PLAT_STATE_STARTING   ? START_WAIT_HINT_MS
                     : state == PLAT_STATE_STOPPING ? STOP_WAIT_HINT_MS
                                                    : 0;
    st->dwControlsAccepted = state == PLAT_STATE_RUNNING
                                 ? SERVICE_ACCEPT_STOP |
                                       SERVICE_ACCEPT_SHUTDOWN |
                                       SERVICE_ACCEPT_PARAMCHANGE
                                 : 0;
    if (state == PLAT_STATE_RUNNING || state == PLAT_STATE_STOPPED)
        st->dwCheckPoint = 0;
    else
        st->dwCheckPoint++;
    SetServiceStatus(g_scm.handle, st);
    LeaveCriticalSection(&g_scm.lock);
}

uint32_t plat_self_pid(void)
{
    return GetCurrentProcessId();
}
