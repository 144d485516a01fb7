/* SPDX-License-Identifier: MPL-2.0 */
/*
 * peer_win.h - Windows side of "identify peer": the connected client's
 * process handle and its token-derived identity.
 */
#ifndef SHMB_PEER_WIN_H
#define SHMB_PEER_WIN_H

#include <windows.h>

#include "platform.h"
#include "shmb_identity.h"

struct plat_peer {
    /* PROCESS_DUP_HANDLE to put grants in (and close undelivered ones),
     * PROCESS_QUERY_LIMITED_INFORMATION to read its token and image. Nothing
     * more: the broker never reads or writes the client's memory. */
    HANDLE process;
    DWORD pid;
};

/* Identifies the client connected on `pipe`: impersonates it to read its
 * token, opens its process once and checks that the process token's user is
 * the impersonated user. On failure writes a reason into why. */
int peer_identify(HANDLE pipe, plat_peer **out, shmb_identity *id, char *why,
                  size_t whycap);
void peer_free(plat_peer *peer);

/* 1 if the descriptor has a DACL and it is not NULL (section_win.c). */
int sd_has_real_dacl(PSECURITY_DESCRIPTOR sd);

/* Exact access mask of a grant (section_win.c). */
DWORD plat_access_mask(shmb_access access);

/* The service process's own user (free() it), or NULL. */
TOKEN_USER *win_self_user(void);

/* UTF-16 -> UTF-8 into a fixed buffer; returns 0 on failure. */
int win_utf8(const WCHAR *w, char *out, size_t cap);
/* SID -> "S-1-..." into a fixed buffer; returns 0 on failure. */
int win_sid_string(PSID sid, char *out, size_t cap);

#endif
