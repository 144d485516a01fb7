/* SPDX-License-Identifier: MPL-2.0 */
/* identity.c - storage helpers for shmb_identity, and how two views of one
 * client (its impersonation token and its process token) combine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmb_identity.h"

static void list_free(char **v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void shmb_identity_free(shmb_identity *id)
{
    list_free(id->groups, id->ngroups);
    list_free(id->deny_groups, id->ndeny_groups);
    id->groups = id->deny_groups = NULL;
    id->ngroups = id->ndeny_groups = 0;
}

int shmb_identity_add_group(shmb_identity *id, const char *sid, int deny_only)
{
    char ***v = deny_only ? &id->deny_groups : &id->groups;
    size_t *n = deny_only ? &id->ndeny_groups : &id->ngroups;
    size_t len = strlen(sid) + 1;
    char **nv = realloc(*v, (*n + 1) * sizeof(char *));
    char *copy;
    if (nv == NULL)
        return SHMB_E_NOMEM;
    *v = nv;
    copy = malloc(len);
    if (copy == NULL)
        return SHMB_E_NOMEM;
    memcpy(copy, sid, len);
    nv[(*n)++] = copy;
    return SHMB_OK;
}

static int list_has(char **v, size_t n, const char *s)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (strcmp(v[i], s) == 0)
            return 1;
    }
    return 0;
}

int shmb_identity_merge(const shmb_identity *a, const shmb_identity *b,
                        shmb_identity *out)
{
    const shmb_identity *both[2];
    size_t i, k;
    int ok = 1;

    both[0] = a;
    both[1] = b;
    for (k = 0; k < 2 && ok; k++) {
        const shmb_identity *x = both[k], *y = both[1 - k];
        for (i = 0; i < x->ngroups && ok; i++) {
            const char *g = x->groups[i];
            int enabled_in_y = list_has(y->groups, y->ngroups, g);
            if (enabled_in_y && k == 0)
                ok = shmb_identity_add_group(out, g, 0) == SHMB_OK;
            else if (!enabled_in_y &&
                     !list_has(out->deny_groups, out->ndeny_groups, g))
                ok = shmb_identity_add_group(out, g, 1) == SHMB_OK;
        }
        for (i = 0; i < x->ndeny_groups && ok; i++) {
            if (!list_has(out->deny_groups, out->ndeny_groups,
                          x->deny_groups[i]))
                ok = shmb_identity_add_group(out, x->deny_groups[i], 1) ==
                     SHMB_OK;
        }
    }
    out->integrity = a->integrity < b->integrity ? a->integrity : b->integrity;
    out->user_deny_only = a->user_deny_only || b->user_deny_only;
    out->session = a->session;
    memcpy(out->appcontainer_sid,
           a->appcontainer_sid[0] ? a->appcontainer_sid : b->appcontainer_sid,
           sizeof(out->appcontainer_sid));
    return ok ? SHMB_OK : SHMB_E_NOMEM;
}

shmb_band shmb_band_of(uint32_t integrity)
{
    if (integrity < SHMB_IL_LOW)
        return SHMB_BAND_UNTRUSTED;
    if (integrity < SHMB_IL_MEDIUM)
        return SHMB_BAND_LOW;
    return SHMB_BAND_MEDIUM_PLUS;
}

const char *shmb_band_name(shmb_band band)
{
    switch (band) {
    case SHMB_BAND_UNTRUSTED:
        return "untrusted";
    case SHMB_BAND_LOW:
        return "low";
    default:
        return "medium+";
    }
}

int shmb_principal_text(const shmb_identity *id, char *out, size_t cap)
{
    shmb_band band = shmb_band_of(id->integrity);
    int n;
    if (id->appcontainer_sid[0] != '\0' || id->user_sid[0] == '\0')
        return 0;
    /* The medium+ principal's text is a prefix of its sandboxes': the
     * user's normal programs may reach into what their own low-integrity
     * processes share (as Windows lets them write down), never upwards. */
    if (band == SHMB_BAND_MEDIUM_PLUS)
        n = snprintf(out, cap, "%s", id->user_sid);
    else
        n = snprintf(out, cap, "%s/%s", id->user_sid, shmb_band_name(band));
    return n > 0 && (size_t)n < cap;
}

int shmb_principal_is(const shmb_identity *id, const char *user,
                      const char *appcontainer, uint32_t integrity)
{
    return strcmp(id->user_sid, user) == 0 &&
           strcmp(id->appcontainer_sid, appcontainer) == 0 &&
           shmb_band_of(id->integrity) == shmb_band_of(integrity);
}
