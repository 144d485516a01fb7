/* SPDX-License-Identifier: MPL-2.0 */
/* datadir_win.h - see datadir_win.c; internal to the Windows backend. */
#ifndef SHMB_DATADIR_WIN_H
#define SHMB_DATADIR_WIN_H

#include <stdio.h>

/* shmbroker.exe --init-data: makes %ProgramData%\shmbroker with a
 * protected administrators-only DACL (keeping one the service would trust,
 * renaming anything else aside) and writes the default config where there
 * is none. Progress on `out`, errors on stderr. 0, or -1 on failure. */
int win_data_dir_init(FILE *out);

#endif
