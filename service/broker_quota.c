/* SPDX-License-Identifier: MPL-2.0 */
/*
 * broker_quota.c - commit accounting (docs/security.md rule 8: quotas count
 * commit). A region's commit is charged at creation to the total, and for a
 * dynamic region to the creating connection and its principal. The
 * connection stops paying when the region is retired (its limits are about
 * the regions it has now); the principal and the total pay until the
 * memory is really gone, which may be long after: a process can keep a
 * view mapped after its handle is closed, so a retired section "drains"
 * until plat_section_in_use says no.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_int.h"

void quota_principal_key(const char *user, const char *ac, char *out,
                         size_t cap)
{
    /* An AppContainer is a principal of its own, so a sandbox cannot use up
     * what its user's other programs need. */
    snprintf(out, cap, "%s|%s", user, ac);
}

uint64_t quota_charge_of(uint64_t size)
{
    uint64_t gran = plat_commit_granularity();
    return (size + gran - 1) / gran * gran;
}

struct user_charge *quota_user(broker *b, const char *key, int create)
{
    struct user_charge *u;
    for (u = b->users; u != NULL; u = u->next) {
        if (strcmp(u->sid, key) == 0)
            return u;
    }
    if (!create)
        return NULL;
    u = calloc(1, sizeof(*u));
    if (u == NULL)
        return NULL;
    snprintf(u->sid, sizeof(u->sid), "%s", key);
    u->next = b->users;
    b->users = u;
    return u;
}

void quota_charge(broker *b, const broker_region *r, broker_conn *owner,
                  struct user_charge *u)
{
    b->committed += r->charge;
    if (u != NULL)
        u->bytes += r->charge;
    if (owner != NULL) {
        owner->committed += r->charge;
        owner->created++;
    }
}

/* ---- giving commit back ----------------------------------------------- */

static broker_conn *conn_by_id(broker *b, uint64_t id)
{
    broker_conn *c;
    for (c = b->conns; c != NULL; c = c->next) {
        if (c->id == id)
            return c;
    }
    return NULL;
}

static void uncharge_conn(broker *b, const broker_region *r)
{
    broker_conn *owner = r->owner_conn ? conn_by_id(b, r->owner_conn) : NULL;
    if (owner != NULL) {
        owner->committed -= r->charge;
        owner->created--;
    }
}

static void region_key(const broker_region *r, char *out, size_t cap)
{
    if (r->owner_sid[0] == '\0')
        out[0] = '\0'; /* config regions are charged to the total only */
    else
        quota_principal_key(r->owner_sid, r->owner_ac, out, cap);
}

static void uncharge_user_total(broker *b, const char *key, uint64_t charge,
                                int was_draining)
{
    struct user_charge *u = key[0] ? quota_user(b, key, 0) : NULL;
    b->committed -= charge;
    if (was_draining)
        b->draining -= charge;
    if (u != NULL) {
        u->bytes -= charge;
        if (was_draining)
            u->draining -= charge;
    }
}

/* Keeps a retired section's charge until plat_section_in_use says no. */
static int drain_add(broker *b, const broker_region *r)
{
    struct drain *d = calloc(1, sizeof(*d));
    struct user_charge *u;
    if (d == NULL)
        return 0;
    region_key(r, d->owner_key, sizeof(d->owner_key));
    u = d->owner_key[0] ? quota_user(b, d->owner_key, 0) : NULL;
    d->section = r->section;
    d->charge = r->charge;
    memcpy(d->name, r->name, sizeof(d->name));
    d->next = b->drains;
    b->drains = d;
    b->ndrains++;
    b->draining += r->charge;
    if (u != NULL)
        u->draining += r->charge;
    return 1;
}

int quota_release(broker *b, broker_region *r)
{
    int draining = 0;

    uncharge_conn(b, r);
    if (plat_section_in_use(r->section) && drain_add(b, r)) {
        draining = 1;
    } else {
        char key[BROKER_KEY_MAX];
        region_key(r, key, sizeof(key));
        plat_section_close(r->section);
        uncharge_user_total(b, key, r->charge, 0);
    }
    r->section = NULL;
    return draining;
}

void broker_sweep(broker *b)
{
    struct drain **pp = &b->drains, *d;
    while ((d = *pp) != NULL) {
        if (plat_section_in_use(d->section)) {
            pp = &d->next;
            continue;
        }
        *pp = d->next;
        b->ndrains--;
        plat_section_close(d->section);
        uncharge_user_total(b, d->owner_key, d->charge, 1);
        shmb_log_event(b->log, SHMB_LOG_INFO, SHMB_EV_REGION_DRAINED,
                       "region=%s charge=%llu", d->name,
                       (unsigned long long)d->charge);
        free(d);
    }
}

void quota_free(broker *b)
{
    struct user_charge *u, *next;

    while (b->drains != NULL) { /* service stop: let go of everything */
        struct drain *d = b->drains;
        b->drains = d->next;
        plat_section_close(d->section);
        free(d);
    }
    b->ndrains = 0;
    for (u = b->users; u != NULL; u = next) {
        next = u->next;
        free(u);
    }
    b->users = NULL;
}

/* ---- limits on creation ----------------------------------------------- */

#define DRAINING_NOTE                                                          \
    " (part of it is held by released or deleted regions that may still be "   \
    "mapped: it returns when the processes they were granted to exit)"

static int refuse(char *msg, size_t cap, int code, const char *fmt, ...)
    SHMB_PRINTF(4, 5);

static int refuse(char *msg, size_t cap, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return code;
}

static int check_limits(broker_conn *c, uint64_t charge, char *msg, size_t cap)
{
    broker *b = c->b;
    const shmb_limits *l = &b->cfg.limits;
    struct user_charge *u = quota_user(b, c->key, 0);
    uint64_t user_bytes = u ? u->bytes : 0;

    if (b->reg.count >= l->max_regions)
        return refuse(msg, cap, SHMB_E_LIMIT_REACHED,
                      "limits.max_regions (%u) regions exist",
                      (unsigned)l->max_regions);
    if (c->created >= l->regions_per_client)
        return refuse(msg, cap, SHMB_E_LIMIT_REACHED,
                      "this connection already created "
                      "limits.regions_per_client (%u) regions",
                      (unsigned)l->regions_per_client);
    if (charge > l->commit_per_client - c->committed)
        return refuse(msg, cap, SHMB_E_QUOTA_EXCEEDED,
                      "needs %llu bytes of commit; this connection has %llu "
                      "of limits.commit_per_client (%llu) left",
                      (unsigned long long)charge,
                      (unsigned long long)(l->commit_per_client - c->committed),
                      (unsigned long long)l->commit_per_client);
    if (charge > l->commit_per_user - user_bytes)
        return refuse(msg, cap, SHMB_E_QUOTA_EXCEEDED,
                      "needs %llu bytes of commit; your user has %llu of "
                      "limits.commit_per_user (%llu) left%s",
                      (unsigned long long)charge,
                      (unsigned long long)(l->commit_per_user - user_bytes),
                      (unsigned long long)l->commit_per_user,
                      u && u->draining ? DRAINING_NOTE : "");
    if (charge > l->commit_total - b->committed)
        return refuse(msg, cap, SHMB_E_QUOTA_EXCEEDED,
                      "needs %llu bytes of commit; the broker has %llu of "
                      "limits.commit_total (%llu) left%s",
                      (unsigned long long)charge,
                      (unsigned long long)(l->commit_total - b->committed),
                      (unsigned long long)l->commit_total,
                      b->draining ? DRAINING_NOTE : "");
    return SHMB_OK;
}

int quota_check_create(broker_conn *c, uint64_t charge, char *msg, size_t cap)
{
    int rc = check_limits(c, charge, msg, cap);
    if (rc == SHMB_E_QUOTA_EXCEEDED && c->b->ndrains > 0) {
        /* Only when it decides something: give back what is really gone
         * (the timer does it every second anyway) and look again. */
        broker_sweep(c->b);
        rc = check_limits(c, charge, msg, cap);
    }
    return rc;
}
