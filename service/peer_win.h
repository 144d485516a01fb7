/* SPDX-License-Identifier: MPL-2.0 */
/*
 * peer_win.h - the Windows side of "identify the peer": the connected
 * client's process handle and its token-derived identity. Internal to the
 * Windows backend (listener_win.c identifies, section_win.c grants).
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

/* Identifies the client connected on `pipe` (accepted at `accepted`, UTC):
 * impersonates it to read its token, opens its process once and checks
 * that the process existed before `accepted` (not a reused pid), that its
 * token's user and session are the impersonated token's. On failure writes
 * a reason into why. */
int peer_identify(HANDLE pipe, const FILETIME *accepted, plat_peer **out,
                  shmb_identity *id, char *why, size_t whycap);

#endif
