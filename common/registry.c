/* SPDX-License-Identifier: MPL-2.0 */
/*
 * registry.c - open hash table (separate chaining, FNV-1a) of regions.
 * The table doubles when the load factor passes 1, so lookups stay O(1) at
 * the 10,000 regions the limits allow.
 */
#include <stdlib.h>
#include <string.h>

#include "shmb_registry.h"

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s) {
        h ^= (uint8_t)*s++;
        h *= 16777619u;
    }
    return h;
}

int registry_init(shmb_registry *reg, size_t expected)
{
    size_t n = 64;
    while (n < expected && n < ((size_t)1 << 24))
        n <<= 1;
    reg->buckets = calloc(n, sizeof(*reg->buckets));
    if (reg->buckets == NULL)
        return SHMB_E_NOMEM;
    reg->nbuckets = n;
    reg->count = 0;
    return SHMB_OK;
}

void registry_free(shmb_registry *reg)
{
    free(reg->buckets);
    memset(reg, 0, sizeof(*reg));
}

broker_region *registry_find(const shmb_registry *reg, const char *name)
{
    broker_region *r = reg->buckets[name_hash(name) & (reg->nbuckets - 1)];
    while (r != NULL && strcmp(r->name, name) != 0)
        r = r->next;
    return r;
}

static int registry_grow(shmb_registry *reg)
{
    size_t n = reg->nbuckets * 2, i;
    broker_region **nb = calloc(n, sizeof(*nb));
    if (nb == NULL)
        return SHMB_E_NOMEM;
    for (i = 0; i < reg->nbuckets; i++) {
        broker_region *r = reg->buckets[i];
        while (r != NULL) {
            broker_region *next = r->next;
            size_t b = name_hash(r->name) & (n - 1);
            r->next = nb[b];
            nb[b] = r;
            r = next;
        }
    }
    free(reg->buckets);
    reg->buckets = nb;
    reg->nbuckets = n;
    return SHMB_OK;
}

int registry_add(shmb_registry *reg, broker_region *region)
{
    size_t b;
    if (registry_find(reg, region->name) != NULL)
        return SHMB_E_EXISTS;
    /* Growth failing is not fatal: chains just get longer. */
    if (reg->count >= reg->nbuckets)
        (void)registry_grow(reg);
    b = name_hash(region->name) & (reg->nbuckets - 1);
    region->next = reg->buckets[b];
    reg->buckets[b] = region;
    region->listed = 1;
    reg->count++;
    return SHMB_OK;
}

void registry_remove(shmb_registry *reg, broker_region *region)
{
    broker_region **pp;
    if (!region->listed)
        return;
    pp = &reg->buckets[name_hash(region->name) & (reg->nbuckets - 1)];
    while (*pp != NULL && *pp != region)
        pp = &(*pp)->next;
    if (*pp == region) {
        *pp = region->next;
        reg->count--;
    }
    region->next = NULL;
    region->listed = 0;
}

void registry_foreach(const shmb_registry *reg,
                      int (*fn)(broker_region *region, void *ctx), void *ctx)
{
    size_t i;
    for (i = 0; i < reg->nbuckets; i++) {
        broker_region *r = reg->buckets[i];
        while (r != NULL) {
            broker_region *next = r->next;
            if (fn(r, ctx))
                return;
            r = next;
        }
    }
}
