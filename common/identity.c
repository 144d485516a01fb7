/* SPDX-License-Identifier: MPL-2.0 */
/* identity.c - storage helpers for shmb_identity. */
#include <stdlib.h>
#include <string.h>

#include "shmb_identity.h"

void shmb_identity_free(shmb_identity *id)
{
    size_t i;
    for (i = 0; i < id->ngroups; i++)
        free(id->groups[i]);
    free(id->groups);
    id->groups = NULL;
    id->ngroups = 0;
}
