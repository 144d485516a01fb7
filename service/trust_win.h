/* SPDX-License-Identifier: MPL-2.0 */
/* trust_win.h - see trust_win.c; internal to the Windows backend (the
 * portable side uses plat_file_read_trusted). */
#ifndef SHMB_TRUST_WIN_H
#define SHMB_TRUST_WIN_H

#include <stddef.h>

/* 1 if the file and its folder are owned and writable only by SYSTEM,
 * Administrators, TrustedInstaller or the service's account; else 0 with
 * the reason (which SID may write what) in why. With may_be_new, a file
 * that does not exist yet is judged by its folder alone. */
int win_path_trusted(const char *path, int may_be_new, char *why, size_t cap);

#endif
