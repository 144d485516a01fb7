/* SPDX-License-Identifier: MPL-2.0 */
/* sddl_win.h - see sddl_win.c; internal to the Windows backend. */
#ifndef SHMB_SDDL_WIN_H
#define SHMB_SDDL_WIN_H

#include <windows.h>

#include <stddef.h>

#include "shmb_config.h"

/* SHMB_OK if the pipe's descriptor gives the rights to add instances or
 * to change the pipe (FILE_CREATE_PIPE_INSTANCE, GENERIC_ALL, GENERIC_WRITE,
 * WRITE_DAC, WRITE_OWNER) only to SYSTEM, Administrators or the service's
 * own account; else SHMB_E_INVALID_ARG with who gets what in why. */
int win_pipe_sd_check(PSECURITY_DESCRIPTOR sd, char *why, size_t cap);

/* Appends to warn (one line each, NUL-terminated, truncated at cap) a
 * warning for every ACE of a named region's SDDL that grants FILE_MAP_READ
 * without SECTION_QUERY: Boost.Interprocess and .NET readers then fail.
 * Returns how many warnings it wrote. */
int win_section_sddl_warnings(const char *region, const char *sddl, char *warn,
                              size_t cap);

/* What --check-config adds on Windows, where the SDDLs can be parsed: the
 * pipe SDDL as the service would use it (refused: SHMB_E_INVALID_ARG with
 * why) and the named regions' reader ACEs (warnings into warn). */
int win_config_review(const shmb_config *cfg, char *why, size_t whycap,
                      char *warn, size_t warncap);

#endif
