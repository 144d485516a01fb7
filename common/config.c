/* SPDX-License-Identifier: MPL-2.0 */
/* config.c - default configuration values. */
#include <string.h>

#include "shmb_config.h"
#include "shmb_frame.h"

void shmb_config_defaults(shmb_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    strcpy(cfg->pipe_name, SHMB_DEFAULT_PIPE);
    strcpy(cfg->pipe_sddl, SHMB_DEFAULT_PIPE_SDDL);
    cfg->limits.max_frame = SHMB_FRAME_LIMIT_DEFAULT;
    cfg->limits.max_clients = 256;
    cfg->limits.max_regions = 1024;
    cfg->limits.max_region_size = (uint64_t)1 << 30;        /* 1 GiB */
    cfg->limits.regions_per_client = 64;
    cfg->limits.commit_per_client = (uint64_t)1 << 30;      /* 1 GiB */
    cfg->limits.commit_per_user = (uint64_t)2 << 30;        /* 2 GiB */
    cfg->limits.commit_total = (uint64_t)4 << 30;           /* 4 GiB */
}
