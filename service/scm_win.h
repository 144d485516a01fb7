/* SPDX-License-Identifier: MPL-2.0 */
/* scm_win.h - see scm_win.c; internal to the Windows backend. */
#ifndef SHMB_SCM_WIN_H
#define SHMB_SCM_WIN_H

#include <windows.h>

/* Where plat_report_state sends the service's state from now on (set once
 * by ServiceMain; without it, in console mode, reports go nowhere). */
void scm_attach(SERVICE_STATUS_HANDLE handle);

#endif
