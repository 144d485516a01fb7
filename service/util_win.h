/* SPDX-License-Identifier: MPL-2.0 */
/*
 * util_win.h - small Win32 helpers the Windows backend files share: text
 * conversions, SIDs, the service's own user, descriptors. Internal to the
 * *_win.c files of service/.
 */
#ifndef SHMB_UTIL_WIN_H
#define SHMB_UTIL_WIN_H

#include <windows.h>

#include <stddef.h>

/* UTF-16 -> UTF-8 into a fixed buffer; returns 0 on failure. */
int win_utf8(const WCHAR *w, char *out, size_t cap);
/* UTF-8 -> UTF-16 into a fixed buffer (cap in WCHARs), rejecting invalid
 * UTF-8; returns 0 on failure. */
int win_wide(const char *s, WCHAR *out, size_t cap);
/* SID -> "S-1-..." into a fixed buffer; returns 0 on failure. */
int win_sid_string(PSID sid, char *out, size_t cap);
/* The service process's own user (free() it), or NULL. */
TOKEN_USER *win_self_user(void);
/* 1 if the descriptor has a DACL and it is not NULL (a NULL DACL would let
 * everyone do anything). */
int sd_has_real_dacl(PSECURITY_DESCRIPTOR sd);
/* Parses an SDDL into a descriptor (LocalFree it) whose owner is explicit:
 * the SDDL's "O:" if it has one, else the service's own account. Objects
 * the service creates must not get its token's default owner, which for
 * LocalSystem can be BUILTIN\Administrators. 0 on failure (GetLastError). */
int win_sd_owned(const char *sddl, PSECURITY_DESCRIPTOR *out);
/* For an ACE of a DACL: 1 if it grants anything - an allowed ACE of any
 * kind, callback and object ones included (a callback's condition may be
 * true) - with its mask and its SID (NULL if the SID cannot be read or is
 * not one grantee, as in a compound ACE: callers treat that as anyone);
 * 0 for the denied kinds. */
int win_ace_grant(const ACE_HEADER *ace, ACCESS_MASK *mask, PSID *sid);

#endif
