/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmbctl_win.c - shmbctl's Windows half (shmbctl_plat.h): the service
 * control manager's status of the broker service, and binary stdin.
 */
#include <windows.h>

#include <fcntl.h>
#include <io.h>
#include <stdio.h>

#include "client_plat.h"
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
    uint32_t code = 0;
    /* The library's query: serialized and retried as Wine's service
     * manager needs (client_win.c). */
    if (cplat_service_status(service, &code, pid, syserr) != SHMB_OK)
        return -1;
    snprintf(state, cap, "%s", state_name(code));
    return 0;
}

void ctlplat_binary_stdin(void)
{
    _setmode(_fileno(stdin), _O_BINARY);
}
