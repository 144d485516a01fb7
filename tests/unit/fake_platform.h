/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fake_platform.h - an in-memory platform layer so the portable broker can
 * be unit-tested natively (and under ASan): sections are heap objects,
 * grants are counted handle numbers. It lets tests count live sections and
 * make creation or duplication fail on demand. The real layer is tested
 * through the installed service.
 */
#ifndef SHMB_FAKE_PLATFORM_H
#define SHMB_FAKE_PLATFORM_H

#include "platform.h"

struct plat_peer {
    int grants;  /* handles granted into this peer */
    int revoked; /* handles closed in it as undelivered */
};

typedef struct fake_state {
    int live_sections;
    int fail_create; /* next N creates fail */
    int fail_grant;  /* next N grants fail */
    uint64_t next_handle;
    int in_use;        /* what plat_section_in_use answers */
    int in_use_calls;  /* how often it was asked (each is system calls) */
    int revoked_total; /* plat_grant_revoke calls, over every peer */
    /* plat_grantee_handles: one per grant (the real one keeps one per
     * process and section), given back when the section closes. */
    size_t grantee_handles;
    int live_doorbells;    /* events of sections not closed */
    int doorbells_rw;      /* doorbell handles granted read-write */
    int doorbells_ro;      /* doorbell handles granted wait-only */
    int revoked_doorbells; /* doorbell handles closed as undelivered */
} fake_state;

extern fake_state g_fake;

#endif
