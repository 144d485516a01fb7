/* SPDX-License-Identifier: MPL-2.0 */
/*
 * broker.c - the portable heart of the service: the broker's state. It
 * keeps the region registry, the connections and what each one holds; the
 * request ops (broker_ops.c) and the commit accounting (broker_quota.c)
 * work on this state through broker_int.h. No I/O and no system calls: the
 * server feeds frames in and delivers the replies, the platform makes the
 * sections (platform.h).
 *
 * Lifetimes (docs/protocol.md):
 *   - a `client` region is freed when the last connection holding it goes;
 *   - a `persistent` region is freed on delete or service stop;
 *   - a `config` region lives as long as the service;
 *   - a region that is deleted while held stays allocated (but unlisted,
 *     its section closed) until its holders are gone, so no pointer dangles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_int.h"

/* ---- the broker ------------------------------------------------------- */

broker *broker_new(const shmb_config *cfg, const shmb_logger *log)
{
    broker *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    if (shmb_config_copy(&b->cfg, cfg) != SHMB_OK) {
        free(b);
        return NULL;
    }
    b->log = log;
    b->next_conn_id = 1;
    if (registry_init(&b->reg, cfg->limits.max_regions) != SHMB_OK) {
        shmb_config_free(&b->cfg);
        free(b);
        return NULL;
    }
    return b;
}

int broker_reconfigure(broker *b, const shmb_config *cfg)
{
    shmb_config fresh, old;

    if (shmb_config_copy(&fresh, cfg) != SHMB_OK)
        return SHMB_E_NOMEM;
    /* Swap in the new rules and limits; free the old rules (only). */
    memset(&old, 0, sizeof(old));
    old.rules = b->cfg.rules;
    old.nrules = b->cfg.nrules;
    b->cfg.limits = fresh.limits;
    b->cfg.rules = fresh.rules;
    b->cfg.nrules = fresh.nrules;
    b->rules_gen++;
    fresh.rules = NULL;
    fresh.nrules = 0;
    shmb_config_free(&fresh);
    shmb_config_free(&old);
    shmb_log_event(b->log, SHMB_LOG_INFO, SHMB_EV_CONFIG_RELOADED, "rules=%zu",
                   b->cfg.nrules);
    return SHMB_OK;
}

void broker_set_process_probe(broker *b, broker_process_alive_fn fn)
{
    b->process_alive = fn;
}

const shmb_limits *broker_limits(const broker *b)
{
    return &b->cfg.limits;
}

static int retire_each(broker_region *r, void *ctx)
{
    region_retire((broker *)ctx, r, "service_stop");
    return 0;
}

void broker_free(broker *b)
{
    if (b == NULL)
        return;
    while (b->conns != NULL)
        broker_conn_close(b->conns);
    registry_foreach(&b->reg, retire_each, b);
    registry_free(&b->reg);
    quota_free(b);
    shmb_config_free(&b->cfg);
    free(b);
}

void broker_get_stats(const broker *b, broker_stats *st)
{
    st->regions = b->reg.count;
    st->clients = b->nconns;
    st->committed = b->committed;
    st->draining = b->ndrains;
}

void broker_set_server_counts(broker *b, broker_server_counts_fn fn, void *ctx)
{
    b->server_counts = fn;
    b->server_ctx = ctx;
}

/* ---- regions ---------------------------------------------------------- */

int region_create(broker *b, const region_spec *spec, broker_region **out,
                  uint32_t *syserr)
{
    broker_conn *owner = spec->owner;
    struct account *p = NULL, *u = NULL;
    struct region_ext *x;
    broker_region *r;
    int rc;

    /* Everything that can run out of memory first, so that a section is
     * never created only to be closed again. */
    if (owner != NULL &&
        ((p = quota_account(b, owner->key, 1)) == NULL ||
         (u = quota_account(b, owner->ident.user_sid, 1)) == NULL))
        return SHMB_E_NOMEM;
    x = calloc(1, sizeof(*x));
    if (x == NULL) {
        rc = SHMB_E_NOMEM;
        goto fail;
    }
    r = &x->base;
    rc = plat_section_create(spec->size, spec->doorbells, spec->global_name,
                             spec->sddl, &r->section, syserr);
    if (rc != SHMB_OK) {
        free(r);
        goto fail;
    }
    snprintf(r->name, sizeof(r->name), "%s", spec->name);
    r->size = spec->size;
    r->charge = quota_charge_of(spec->size);
    r->lifetime = spec->lifetime;
    if (owner != NULL) {
        snprintf(r->owner_sid, sizeof(r->owner_sid), "%s",
                 owner->ident.user_sid);
        snprintf(r->owner_ac, sizeof(r->owner_ac), "%s",
                 owner->ident.appcontainer_sid);
        r->owner_il = owner->ident.integrity;
        r->owner_conn = owner->id;
    }
    rc = registry_add(&b->reg, r);
    if (rc != SHMB_OK) { /* the callers checked the name: not expected */
        plat_section_close(r->section);
        region_free(r);
        goto fail;
    }
    quota_charge(b, r, owner, p, u);
    *out = r;
    return SHMB_OK;
fail:
    quota_drop_if_empty(b, p);
    quota_drop_if_empty(b, u);
    return rc;
}

int broker_create_config_regions(broker *b, char *why, size_t whycap)
{
    size_t i;
    for (i = 0; i < b->cfg.nregions; i++) {
        const shmb_static_region *sr = &b->cfg.regions[i];
        region_spec spec;
        broker_region *r;
        uint32_t syserr = 0;
        int rc;

        if (quota_over(b->committed, quota_charge_of(sr->size),
                       b->cfg.limits.commit_total)) {
            snprintf(why, whycap,
                     "config region '%s' does not fit in "
                     "limits.commit_total",
                     sr->name);
            return SHMB_E_QUOTA_EXCEEDED;
        }
        memset(&spec, 0, sizeof(spec));
        spec.name = sr->name;
        spec.size = sr->size;
        spec.lifetime = SHMB_LIFETIME_CONFIG;
        spec.global_name = sr->global_name[0] ? sr->global_name : NULL;
        spec.sddl = sr->sddl;
        spec.doorbells = sr->doorbells;
        rc = region_create(b, &spec, &r, &syserr);
        if (rc == SHMB_E_EXISTS) {
            snprintf(why, whycap,
                     "config region '%s': %s already exists; refusing to "
                     "share an object someone else created (its owner, "
                     "DACL, label or size differ: system error %u)",
                     sr->name, sr->global_name, (unsigned)syserr);
            return rc;
        }
        if (rc == SHMB_E_NOMEM)
            return rc;
        if (rc != SHMB_OK) {
            snprintf(why, whycap,
                     "config region '%s'%s%s: cannot create the section "
                     "(system error %u)",
                     sr->name, sr->global_name[0] ? " as " : "",
                     sr->global_name, (unsigned)syserr);
            return rc;
        }
        plat_section_untrack(r->section); /* never retired, never drains */
        shmb_log_event(b->log, SHMB_LOG_INFO, SHMB_EV_CREATE,
                       "region=%s size=%llu charge=%llu "
                       "lifetime=config global_name=%s",
                       r->name, (unsigned long long)r->size,
                       (unsigned long long)r->charge,
                       sr->global_name[0] ? sr->global_name : "-");
    }
    return SHMB_OK;
}

/* Handles already granted stay valid in clients - which is why the commit
 * may stay charged (quota_release) after the broker lets go. */
void region_retire(broker *b, broker_region *r, const char *why)
{
    registry_remove(&b->reg, r);
    if (r->section != NULL) {
        int draining = quota_release(b, r);
        shmb_log_event(b->log, SHMB_LOG_INFO, SHMB_EV_REGION_FREED,
                       "region=%s reason=%s holders=%u%s", r->name, why,
                       (unsigned)r->holders,
                       draining ? " commit=draining" : "");
    }
    if (r->holders == 0)
        region_free(r);
}

/* ---- holdings --------------------------------------------------------- */

struct holding *holding_find(broker_conn *c, const broker_region *r,
                             size_t *index)
{
    size_t i;
    for (i = 0; i < c->nholds; i++) {
        if (c->holds[i].region == r) {
            if (index != NULL)
                *index = i;
            return &c->holds[i];
        }
    }
    return NULL;
}

int holding_add(broker_conn *c, broker_region *r)
{
    struct holding *h = holding_find(c, r, NULL);
    if (h == NULL) {
        if (c->nholds == c->capholds) {
            size_t cap = c->capholds ? c->capholds * 2 : 8;
            struct holding *nh = realloc(c->holds, cap * sizeof(*nh));
            if (nh == NULL)
                return SHMB_E_NOMEM;
            c->holds = nh;
            c->capholds = cap;
        }
        h = &c->holds[c->nholds++];
        h->region = r;
        h->grants = 0;
        r->holders++;
    }
    h->grants++;
    r->grants++;
    return SHMB_OK;
}

void holding_drop(broker_conn *c, size_t index, const char *why)
{
    broker_region *r = c->holds[index].region;

    c->holds[index] = c->holds[--c->nholds];
    r->holders--;
    if (r->holders > 0)
        return;
    if (!r->listed)
        region_free(r); /* deleted earlier; we were the last reference */
    else if (r->lifetime == SHMB_LIFETIME_CLIENT)
        region_retire(c->b, r, why);
}

/* ---- connections ------------------------------------------------------ */

int broker_conn_open(broker *b, plat_peer *peer, shmb_identity *id,
                     broker_conn **out, char *why, size_t whycap)
{
    broker_conn *c, *o;
    char key[BROKER_KEY_MAX];
    uint32_t mine = 0, users = 0;

    if (b->nconns >= b->cfg.limits.max_clients) {
        snprintf(why, whycap, "limits.max_clients (%u) connections are open",
                 (unsigned)b->cfg.limits.max_clients);
        return SHMB_E_LIMIT_REACHED;
    }
    quota_principal_key(id->user_sid, id->appcontainer_sid, id->integrity, key,
                        sizeof(key));
    for (o = b->conns; o != NULL; o = o->next) {
        mine += strcmp(o->key, key) == 0;
        users += strcmp(o->ident.user_sid, id->user_sid) == 0;
    }
    if (users >= quota_user_share(id, b->cfg.limits.clients_per_user)) {
        snprintf(why, whycap,
                 "you already have limits.clients_per_user (%u) connections "
                 "open%s",
                 (unsigned)b->cfg.limits.clients_per_user,
                 quota_is_sandbox(id) ? "; a sandboxed principal may use "
                                        "three quarters of it, the rest is "
                                        "kept for the user's "
                                        "medium-and-above programs"
                                      : "");
        return SHMB_E_LIMIT_REACHED;
    }
    if (mine >= b->cfg.limits.clients_per_principal) {
        snprintf(why, whycap,
                 "your principal (user, AppContainer and integrity band) "
                 "already has limits.clients_per_principal (%u) connections "
                 "open",
                 (unsigned)b->cfg.limits.clients_per_principal);
        return SHMB_E_LIMIT_REACHED;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return SHMB_E_NOMEM;
    memcpy(c->key, key, sizeof(c->key));
    c->b = b;
    c->id = b->next_conn_id++;
    c->peer = peer;
    c->ident.pid = id->pid;
    c->ident.process_created = id->process_created;
    if (quota_proc_open(c) != SHMB_OK) {
        free(c);
        return SHMB_E_NOMEM;
    }
    c->ident = *id; /* moves the heap parts: */
    id->groups = NULL;
    id->ngroups = 0;
    id->deny_groups = NULL;
    id->ndeny_groups = 0;
    if (b->log != NULL && b->log->max_level >= SHMB_LOG_DEBUG) {
        size_t i;
        for (i = 0; i < c->ident.ngroups; i++)
            shmb_log_event(b->log, SHMB_LOG_DEBUG, SHMB_EV_IDENTITY,
                           "conn=%llu "
                           "group=%s",
                           (unsigned long long)c->id, c->ident.groups[i]);
        for (i = 0; i < c->ident.ndeny_groups; i++)
            shmb_log_event(b->log, SHMB_LOG_DEBUG, SHMB_EV_IDENTITY,
                           "conn=%llu "
                           "deny_only_group=%s",
                           (unsigned long long)c->id, c->ident.deny_groups[i]);
    }
    c->next = b->conns;
    if (b->conns != NULL)
        b->conns->prev = c;
    b->conns = c;
    b->nconns++;
    shmb_log_event(
        b->log, SHMB_LOG_INFO, SHMB_EV_CONNECT,
        "conn=%llu pid=%u user=%s session=%u il=0x%x "
        "appcontainer=%s groups=%zu deny_only=%zu image=\"%s\"",
        (unsigned long long)c->id, (unsigned)c->ident.pid, c->ident.user_sid,
        (unsigned)c->ident.session, (unsigned)c->ident.integrity,
        c->ident.appcontainer_sid[0] ? c->ident.appcontainer_sid : "-",
        c->ident.ngroups, c->ident.ndeny_groups, c->ident.image);
    *out = c;
    return SHMB_OK;
}

void broker_conn_close(broker_conn *c)
{
    broker *b = c->b;
    while (c->nholds > 0)
        holding_drop(c, c->nholds - 1, "last_holder_gone");
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        b->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    b->nconns--;
    quota_proc_close(c);
    shmb_log_event(b->log, SHMB_LOG_INFO, SHMB_EV_DISCONNECT,
                   "conn=%llu pid=%u", (unsigned long long)c->id,
                   (unsigned)c->ident.pid);
    shmb_identity_free(&c->ident);
    ops_conn_free(c);
    free(c->holds);
    free(c);
}

const shmb_identity *broker_conn_identity(const broker_conn *c)
{
    return &c->ident;
}

int broker_conn_hello_done(const broker_conn *c)
{
    return c->hello_done;
}
