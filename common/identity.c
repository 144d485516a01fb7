/* SPDX-License-Identifier: MPL-2.0 */
/* identity.c - storage helpers for shmb_identity. */
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
