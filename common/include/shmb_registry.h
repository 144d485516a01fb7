/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmb_registry.h - the broker's table of regions, by name.
 *
 * The registry owns name lookup only; a region's section and its lifetime
 * rules belong to the broker. A region stays allocated while it is either
 * listed (`listed`) or held by a connection (`holders` > 0), so a delete
 * that races a holder never leaves a dangling pointer.
 */
#ifndef SHMB_REGISTRY_H
#define SHMB_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "shmb_proto.h"
#include "shmb_types.h"

/* The platform's section object (service/platform.h). Declared here, not
 * included, so common/ needs no service header. */
typedef struct plat_section plat_section;

/* A region as the broker keeps it. Not the client library's shmb_region
 * (a mapped view): this is the broker's record of the section. */
typedef struct broker_region {
    char name[SHMB_NAME_MAX + 1];
    uint64_t size;   /* bytes asked for */
    uint64_t charge; /* commit charged: size rounded up to the granularity */
    shmb_lifetime lifetime;
    plat_section *section;        /* NULL once retired */
    char owner_sid[SHMB_SID_MAX]; /* creator's user; "" for config regions */
    char owner_ac[SHMB_SID_MAX];  /* creator's AppContainer, "" if none */
    uint32_t owner_il;            /* creator's integrity level */
    uint64_t owner_conn; /* connection id of the creator; 0 for config */
    uint32_t holders;    /* connections holding at least one grant */
    uint64_t grants;     /* handles duplicated out, over its life */
    int listed;
    struct broker_region *next; /* hash chain */
} broker_region;

typedef struct shmb_registry {
    broker_region **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
} shmb_registry;

int registry_init(shmb_registry *reg, size_t expected);
/* Frees the table only; regions must have been removed by the caller. */
void registry_free(shmb_registry *reg);
broker_region *registry_find(const shmb_registry *reg, const char *name);
/* SHMB_E_EXISTS if the name is taken, SHMB_E_NOMEM if growth failed. */
int registry_add(shmb_registry *reg, broker_region *region);
void registry_remove(shmb_registry *reg, broker_region *region);
/* Visits every listed region; stop early by returning nonzero. */
void registry_foreach(const shmb_registry *reg,
                      int (*fn)(broker_region *region, void *ctx), void *ctx);

#endif
