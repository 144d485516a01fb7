/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmbctl_plat.h - what shmbctl asks of the system beyond the client
 * library: the service manager's view of the broker service, and binary
 * standard streams. Windows: shmbctl_win.c.
 */
#ifndef SHMBCTL_PLAT_H
#define SHMBCTL_PLAT_H

#include <stddef.h>
#include <stdint.h>

/* The state the service manager reports for `service`: "stopped",
 * "start_pending", "stop_pending", "running", "continue_pending",
 * "pause_pending" or "paused", and its process id (0 when not running).
 * Returns 0, or -1 with the OS error in *syserr (the service does not
 * exist, or we may not ask). */
int ctlplat_service_state(const char *service, char *state, size_t cap,
                          uint32_t *pid, uint32_t *syserr);

/* Standard input carries bytes as they are (no text-mode translation of
 * line ends or ^Z), for `write` from stdin. */
void ctlplat_binary_stdin(void);

#endif
