/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmb_config.h - the service configuration: control pipe, limits, static
 * regions and policy rules (docs/configuration.md). Every limit a client can
 * push against is named here.
 */
#ifndef SHMB_CONFIG_H
#define SHMB_CONFIG_H

#include <stdint.h>

#include "shmb_types.h"

#define SHMB_PIPE_NAME_MAX 256
#define SHMB_SDDL_MAX 1024

/* Control pipe DACL: SYSTEM and Administrators full control; Authenticated
 * Users and ALL APPLICATION PACKAGES read+write *without*
 * FILE_CREATE_PIPE_INSTANCE (0x12019b = FILE_GENERIC_READ|FILE_GENERIC_WRITE
 * minus FILE_APPEND_DATA), so a client cannot create server instances of
 * our pipe; low mandatory label, no-write-up, so low-IL clients can connect. */
#define SHMB_DEFAULT_PIPE_SDDL                                                 \
    "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;0x12019b;;;AU)(A;;0x12019b;;;AC)"          \
    "S:(ML;;NW;;;LW)"

typedef struct shmb_limits {
    uint32_t max_frame;           /* bytes of one frame's payload */
    uint32_t max_clients;         /* concurrent connections */
    uint32_t max_regions;         /* regions listed at once */
    uint64_t max_region_size;     /* bytes of one region */
    uint32_t regions_per_client;  /* regions one connection may create */
    uint64_t commit_per_client;   /* committed bytes one connection creates */
    uint64_t commit_per_user;     /* committed bytes one user SID owns */
    uint64_t commit_total;        /* committed bytes of all regions */
} shmb_limits;

typedef struct shmb_config {
    char pipe_name[SHMB_PIPE_NAME_MAX];
    char pipe_sddl[SHMB_SDDL_MAX];
    shmb_limits limits;
} shmb_config;

void shmb_config_defaults(shmb_config *cfg);

#endif
