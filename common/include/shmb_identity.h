/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmb_identity.h - who is on the other end of a connection, as read from
 * the kernel (never from a message): the token's user, groups, integrity
 * level, AppContainer and session, and the process's pid and image.
 */
#ifndef SHMB_IDENTITY_H
#define SHMB_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "shmb_types.h"

#define SHMB_IMAGE_MAX 2048 /* UTF-8 bytes of a full image path */

/* Integrity levels are the mandatory-label RIDs. */
#define SHMB_IL_UNTRUSTED 0x0000u
#define SHMB_IL_LOW 0x1000u
#define SHMB_IL_MEDIUM 0x2000u
#define SHMB_IL_HIGH 0x3000u
#define SHMB_IL_SYSTEM 0x4000u

typedef struct shmb_identity {
    uint32_t pid;
    /* When the process was created, in the platform's units (Windows:
     * FILETIME, 100 ns since 1601); with pid, it names one process for its
     * whole life, so a reused pid is not mistaken for it. 0 = unknown. */
    uint64_t process_created;
    uint32_t session;
    uint32_t integrity; /* SHMB_IL_* RID */
    int user_deny_only; /* the user SID cannot grant (restricted token) */
    char user_sid[SHMB_SID_MAX];
    char appcontainer_sid[SHMB_SID_MAX]; /* "" when not in an AppContainer */
    char image[SHMB_IMAGE_MAX];          /* UTF-8 full path, "" if unknown */
    char **groups;                       /* enabled group SIDs (text form) */
    size_t ngroups;
    char **deny_groups; /* deny-only group SIDs: match deny rules only */
    size_t ndeny_groups;
} shmb_identity;

/* ---- principals ---------------------------------------------------------
 * A principal is who the policy and the quotas talk about: the user SID,
 * the AppContainer SID (or none) and the integrity band. A low-integrity
 * or AppContainer process of a user is not that user for sharing. The
 * band, not the exact level: a user's elevated and normal programs are one
 * principal (UAC is not a security boundary), its low and untrusted ones
 * are not. */
typedef enum shmb_band {
    SHMB_BAND_UNTRUSTED,  /* below low */
    SHMB_BAND_LOW,        /* low up to medium */
    SHMB_BAND_MEDIUM_PLUS /* medium, high, system */
} shmb_band;

shmb_band shmb_band_of(uint32_t integrity);
/* "untrusted", "low" or "medium+". */
const char *shmb_band_name(shmb_band band);

/* The name-safe text of the principal, what "${principal}" in a region
 * pattern stands for: "USER" (medium+), "USER/low", "USER/untrusted".
 * An AppContainer principal has none (returns 0): its two SIDs do not fit
 * in a 128-byte region name; rules name containers with "match". Returns
 * 1 when written (NUL-terminated, fits cap), else 0. */
int shmb_principal_text(const shmb_identity *id, char *out, size_t cap);

/* Whether the principal (user, AppContainer, integrity RID) equals id's:
 * same user SID, same AppContainer (or both none), same band. */
int shmb_principal_is(const shmb_identity *id, const char *user,
                      const char *appcontainer, uint32_t integrity);

/* Appends a SID string to groups (deny_only = 0) or deny_groups. */
int shmb_identity_add_group(shmb_identity *id, const char *sid, int deny_only);

void shmb_identity_free(shmb_identity *id);

/* Combines two readings of one client - `a` from the token it connected
 * with (impersonation), `b` from its process token - into `out`, whose pid,
 * image and user are already set, as the *lesser* of the two: a group
 * counts for an allow only if enabled in both, counts for a deny if
 * deny-only in either or present in only one; the lower integrity level;
 * the user is deny-only if it is in either; the AppContainer of whichever
 * has one (the caller refuses two different ones). SHMB_OK or
 * SHMB_E_NOMEM. */
int shmb_identity_merge(const shmb_identity *a, const shmb_identity *b,
                        shmb_identity *out);

#endif
