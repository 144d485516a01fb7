/* SPDX-License-Identifier: MPL-2.0 */
/* datadir_win.h - see datadir_win.c; internal to the Windows backend. */
#ifndef SHMB_DATADIR_WIN_H
#define SHMB_DATADIR_WIN_H

#include <stdio.h>

/* shmbroker.exe --init-data [--replace-untrusted]: makes
 * %ProgramData%\shmbroker with a protected administrators-only DACL
 * (keeping one the service would trust) and writes the default config
 * where there is none. Anything else at the path is refused (-1, left as
 * it is) unless `replace_untrusted`, which renames it aside. Trust is
 * judged as the service's account (win_service_account_sid), never the
 * caller's. Progress on `out`, errors on stderr. 0, or -1 on failure. */
int win_data_dir_init(FILE *out, int replace_untrusted);

/* shmbroker.exe --check-data: 0 if %ProgramData%\shmbroker is a folder
 * the service would trust (judged as above), else 1 with the reason on
 * stderr. What uninstall /purge asks before deleting the folder. */
int win_data_dir_check(FILE *out);

#endif
