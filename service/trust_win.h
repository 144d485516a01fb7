/* SPDX-License-Identifier: MPL-2.0 */
/* trust_win.h - see trust_win.c; internal to the Windows backend (the
 * portable side uses plat_file_read_trusted). */
#ifndef SHMB_TRUST_WIN_H
#define SHMB_TRUST_WIN_H

#include <stddef.h>

#include <windows.h>

/* 1 if no ACE of `dacl` grants any of `mask` to a SID other than SYSTEM,
 * Administrators, TrustedInstaller or `self` (the service's account as
 * text, or ""); else 0 with who may write `shown` in why. Every allowed
 * ACE counts, callback and object ones too; one whose grantee cannot be
 * read counts as anyone's. */
int win_dacl_trusted(const ACL *dacl, const char *shown, DWORD mask,
                     const char *self, char *why, size_t cap);

/* Opens `path` (for reading, or with `append` for appending, created if
 * absent) only if it and its folder are owned and writable only by SYSTEM,
 * Administrators, TrustedInstaller or the service's account, and neither
 * is a reparse point. Judges the open handles, not the path. Returns
 * SHMB_OK with *out, SHMB_E_NOT_FOUND (no such folder or file),
 * SHMB_E_ACCESS_DENIED (untrusted: which SID may write what in why) or
 * another error with why. */
int win_file_open_trusted(const char *path, int append, HANDLE *out, char *why,
                          size_t cap);

/* The same judgement with `self` (a SID as text, or "") as the service's
 * account instead of the caller's: what the installers use, so that a
 * file the administrator running them owns is judged as the service will
 * judge it. */
int win_file_open_trusted_as(const char *path, int append, const char *self,
                             HANDLE *out, char *why, size_t cap);
/* 1 if the folder `dir` itself, opened without following a reparse
 * point, is one the service would trust (judged by that handle, `self` as
 * the service's account); else 0 with the reason in why. */
int win_dir_trusted_as(const WCHAR *dir, const char *self, char *why,
                       size_t cap);
/* plat_file_read_trusted judged with `self` as the service's account. */
int win_file_read_trusted_as(const char *path, const char *self, size_t max,
                             char **text, size_t *len, char *why,
                             size_t whycap);

/* The account the installed service runs as, as text: S-1-5-18
 * (LocalSystem, as both installers create it); under Wine, which runs
 * services as its one user, that user. */
void win_service_account_sid(char *self, size_t cap);

#endif
