/* SPDX-License-Identifier: MPL-2.0 */
/*
 * platform.h - the small, explicit seam between the portable broker and the
 * operating system. A backend implements exactly these calls plus its own
 * control-channel server (which identifies peers and feeds frames to
 * broker_handle). Windows: section_win.c, server_win.c, peer_win.c. A POSIX
 * backend (memfd + seals + SCM_RIGHTS) would add *_posix.c files only.
 */
#ifndef SHMB_PLATFORM_H
#define SHMB_PLATFORM_H

#include <stdint.h>

#include "shmb_types.h"

/* The connected client's process, opened once at connect time. */
typedef struct plat_peer plat_peer;
/* A pagefile-backed section owned by the broker. */
typedef struct plat_section plat_section;

/* Creates a section of `size` bytes. Unnamed (global_name NULL): nobody can
 * open it by name. Named (config regions only): created under global_name
 * with the SDDL's DACL and mandatory label; SHMB_E_EXISTS if the name was
 * already taken (never open someone else's object). On SHMB_E_SYSTEM or
 * SHMB_E_INVALID_ARG (bad SDDL), *syserr holds the OS error. */
int plat_section_create(uint64_t size, const char *global_name,
                        const char *sddl, plat_section **out, uint32_t *syserr);
void plat_section_close(plat_section *section);

/* Puts a handle to `section` into the peer's process with exactly the
 * rights of `access` and returns its value there. */
int plat_section_grant(plat_section *section, plat_peer *peer,
                       shmb_access access, uint64_t *handle, uint32_t *syserr);

/* Closes a handle previously granted into the peer whose reply could not be
 * delivered, so it does not leak there. */
void plat_grant_revoke(plat_peer *peer, uint64_t handle);

/* Remembers that `peer`'s process received a handle to `section`. */
void plat_section_note_grantee(plat_section *section, plat_peer *peer);

/* 1 while the section's memory may still be in use outside the broker:
 * another handle to it exists, or a process it was granted to is still
 * alive (a process can keep a view after closing its handle, and nothing
 * outside it can tell). Commit stays charged until this returns 0. */
int plat_section_in_use(plat_section *section);

/* Commit is charged in units of this many bytes. */
uint64_t plat_commit_granularity(void);

#endif
