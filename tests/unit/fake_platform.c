/* SPDX-License-Identifier: MPL-2.0 */
/* fake_platform.c - see fake_platform.h. */
#include <stdlib.h>

#include "fake_platform.h"

fake_state g_fake;

struct plat_section {
    uint64_t size;
    uint32_t doorbells;
    size_t grantees; /* grants made (fake_state.grantee_handles) */
};

uint64_t plat_commit_granularity(void)
{
    return 65536;
}

int plat_section_create(uint64_t size, uint32_t doorbells,
                        const char *global_name, const char *sddl,
                        plat_section **out, uint32_t *syserr)
{
    plat_section *s;
    (void)global_name;
    (void)sddl;
    if (g_fake.fail_create > 0) {
        g_fake.fail_create--;
        *syserr = 1455; /* ERROR_COMMITMENT_LIMIT */
        return SHMB_E_SYSTEM;
    }
    s = malloc(sizeof(*s));
    if (s == NULL)
        return SHMB_E_NOMEM;
    s->size = size;
    s->doorbells = doorbells;
    g_fake.live_doorbells += (int)doorbells;
    s->grantees = 0;
    g_fake.live_sections++;
    *out = s;
    return SHMB_OK;
}

void plat_section_close(plat_section *section)
{
    if (section == NULL)
        return;
    g_fake.live_sections--;
    g_fake.live_doorbells -= (int)section->doorbells;
    g_fake.grantee_handles -= section->grantees;
    free(section);
}

int plat_section_grant(plat_section *section, plat_peer *peer,
                       shmb_access access, plat_grant *out, uint32_t *syserr)
{
    uint32_t i;
    if (g_fake.fail_grant > 0) {
        g_fake.fail_grant--;
        *syserr = 5;
        return SHMB_E_SYSTEM;
    }
    peer->grants++;
    section->grantees++;
    g_fake.grantee_handles++;
    out->handle = 0x100 + 4 * g_fake.next_handle++;
    out->ndoorbells = section->doorbells;
    for (i = 0; i < section->doorbells; i++) {
        out->doorbells[i] = 0x100 + 4 * g_fake.next_handle++;
        if (access == SHMB_ACCESS_RW)
            g_fake.doorbells_rw++;
        else
            g_fake.doorbells_ro++;
    }
    return SHMB_OK;
}

void plat_grant_revoke(plat_peer *peer, const plat_grant *grant)
{
    peer->revoked++;
    g_fake.revoked_total++;
    g_fake.revoked_doorbells += (int)grant->ndoorbells;
}

void plat_section_untrack(plat_section *section)
{
    g_fake.grantee_handles -= section->grantees;
    section->grantees = 0;
}

size_t plat_grantee_handles(void)
{
    return g_fake.grantee_handles;
}

int plat_section_in_use(plat_section *section)
{
    (void)section;
    g_fake.in_use_calls++;
    return g_fake.in_use;
}
