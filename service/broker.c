/* SPDX-License-Identifier: MPL-2.0 */
/*
 * broker.c - the portable heart of the service: turns one request into one
 * reply, keeps the region registry, the per-connection holdings and the
 * commit accounting. No I/O and no <windows.h>: the platform server feeds
 * it frames and delivers its replies.
 *
 * Lifetimes (docs/protocol.md):
 *   - a `client` region is freed when the last connection holding it goes;
 *   - a `persistent` region is freed on delete or service stop;
 *   - a region that is deleted while held stays allocated (but unlisted,
 *     its section closed) until its holders are gone, so no pointer dangles.
 * Commit is charged to the creating connection, its user and the total from
 * creation until the broker closes its section.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "shmb_policy.h"
#include "shmb_proto.h"
#include "shmb_registry.h"

#define SHMB_SERVER_VERSION "0.1.0"
#define SUPPORTED_VERSIONS (1u << SHMB_PROTOCOL_VERSION)

struct holding {
    broker_region *region;
    uint32_t grants;
};

struct user_charge {
    char sid[2 * SHMB_SID_MAX]; /* principal key: "user|appcontainer" */
    uint64_t bytes;             /* all charged commit, draining included */
    uint64_t draining; /* of which: retired regions possibly still mapped */
    struct user_charge *next;
};

/* A retired region whose section may still be mapped somewhere: its commit
 * stays charged until the platform says the section is gone. */
struct drain {
    plat_section *section;
    uint64_t charge;
    char owner_key[2 * SHMB_SID_MAX];
    char name[SHMB_NAME_MAX + 1];
    struct drain *next;
};

struct broker {
    shmb_config cfg;
    const shmb_logger *log;
    shmb_registry reg;
    broker_conn *conns;
    size_t nconns;
    uint64_t next_conn_id;
    uint64_t committed;
    uint64_t draining;
    struct user_charge *users;
    struct drain *drains;
    size_t ndrains;
};

struct broker_conn {
    broker *b;
    broker_conn *prev, *next;
    uint64_t id;
    plat_peer *peer;
    shmb_identity ident;
    int hello_done;
    struct holding *holds;
    size_t nholds, capholds;
    uint32_t created;           /* live regions this connection created */
    uint64_t committed;         /* their charge */
    char key[2 * SHMB_SID_MAX]; /* principal_key of ident */
};

/* ---- accounting ------------------------------------------------------- */

static struct user_charge *user_charge_get(broker *b, const char *sid,
                                           int create)
{
    struct user_charge *u;
    for (u = b->users; u != NULL; u = u->next) {
        if (strcmp(u->sid, sid) == 0)
            return u;
    }
    if (!create)
        return NULL;
    u = calloc(1, sizeof(*u));
    if (u == NULL)
        return NULL;
    snprintf(u->sid, sizeof(u->sid), "%s", sid);
    u->next = b->users;
    b->users = u;
    return u;
}

/* Quotas and connection limits are per principal: the user SID, and an
 * AppContainer counts as a principal of its own, so a sandbox cannot use
 * up what its user's other programs need. */
static void principal_key(const char *user, const char *ac, char *out,
                          size_t cap)
{
    snprintf(out, cap, "%s|%s", user, ac);
}

static broker_conn *conn_by_id(broker *b, uint64_t id)
{
    broker_conn *c;
    for (c = b->conns; c != NULL; c = c->next) {
        if (c->id == id)
            return c;
    }
    return NULL;
}

/* The creating connection stops paying when the region is retired: its
 * limits are about the regions it has now. */
static void uncharge_conn(broker *b, broker_region *r)
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
        principal_key(r->owner_sid, r->owner_ac, out, cap);
}

/* The principal and the total pay until the memory is really gone. */
static void uncharge_user_total(broker *b, const char *key, uint64_t charge,
                                int was_draining)
{
    struct user_charge *u = key[0] ? user_charge_get(b, key, 0) : NULL;
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
static int drain_add(broker *b, broker_region *r)
{
    struct drain *d = calloc(1, sizeof(*d));
    struct user_charge *u;
    if (d == NULL)
        return 0;
    region_key(r, d->owner_key, sizeof(d->owner_key));
    u = d->owner_key[0] ? user_charge_get(b, d->owner_key, 0) : NULL;
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
        shmb_logf(b->log, SHMB_LOG_INFO,
                  "event=region_drained region=%s charge=%llu", d->name,
                  (unsigned long long)d->charge);
        free(d);
    }
}

/* ---- region lifetime -------------------------------------------------- */

/* Unlists the region and gives up the broker's section; frees the struct
 * once no connection holds it. Handles already granted stay valid in
 * clients - which is why the commit stays charged (drain_add) while the
 * section may still be mapped anywhere. */
static void region_retire(broker *b, broker_region *r, const char *why)
{
    registry_remove(&b->reg, r);
    if (r->section != NULL) {
        int draining = 0;
        uncharge_conn(b, r);
        if (plat_section_in_use(r->section) && drain_add(b, r)) {
            draining = 1;
        } else {
            char key[2 * SHMB_SID_MAX];
            region_key(r, key, sizeof(key));
            plat_section_close(r->section);
            uncharge_user_total(b, key, r->charge, 0);
        }
        r->section = NULL;
        shmb_logf(b->log, SHMB_LOG_INFO,
                  "event=region_freed region=%s reason=%s holders=%u%s",
                  r->name, why, (unsigned)r->holders,
                  draining ? " commit=draining" : "");
    }
    if (r->holders == 0)
        free(r);
}

static struct holding *holding_find(broker_conn *c, const broker_region *r,
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

static int holding_add(broker_conn *c, broker_region *r)
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

static void holding_drop(broker_conn *c, size_t index, const char *why)
{
    broker_region *r = c->holds[index].region;

    c->holds[index] = c->holds[--c->nholds];
    r->holders--;
    if (r->holders > 0)
        return;
    if (!r->listed)
        free(r); /* deleted earlier; we were the last reference */
    else if (r->lifetime == SHMB_LIFETIME_CLIENT)
        region_retire(c->b, r, why);
}

/* ---- broker and connections ------------------------------------------ */

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
    fresh.rules = NULL;
    fresh.nrules = 0;
    shmb_config_free(&fresh);
    shmb_config_free(&old);
    shmb_logf(b->log, SHMB_LOG_INFO, "event=config_reloaded rules=%zu",
              b->cfg.nrules);
    return SHMB_OK;
}

static uint64_t charge_of(uint64_t size)
{
    uint64_t gran = plat_commit_granularity();
    return (size + gran - 1) / gran * gran;
}

int broker_create_config_regions(broker *b, char *why, size_t whycap)
{
    size_t i;
    for (i = 0; i < b->cfg.nregions; i++) {
        const shmb_static_region *sr = &b->cfg.regions[i];
        plat_section *section = NULL;
        uint32_t syserr = 0;
        broker_region *r;
        uint64_t charge = charge_of(sr->size);
        int rc;

        if (charge > b->cfg.limits.commit_total - b->committed) {
            snprintf(why, whycap,
                     "config region '%s' does not fit in "
                     "limits.commit_total",
                     sr->name);
            return SHMB_E_QUOTA_EXCEEDED;
        }
        rc = plat_section_create(sr->size,
                                 sr->global_name[0] ? sr->global_name : NULL,
                                 sr->sddl, &section, &syserr);
        if (rc == SHMB_E_EXISTS) {
            snprintf(why, whycap,
                     "config region '%s': %s already exists; refusing to "
                     "share an object someone else created",
                     sr->name, sr->global_name);
            return rc;
        }
        if (rc != SHMB_OK) {
            snprintf(why, whycap,
                     "config region '%s'%s%s: cannot create the section "
                     "(system error %u)",
                     sr->name, sr->global_name[0] ? " as " : "",
                     sr->global_name, (unsigned)syserr);
            return rc;
        }
        r = calloc(1, sizeof(*r));
        if (r == NULL) {
            plat_section_close(section);
            return SHMB_E_NOMEM;
        }
        snprintf(r->name, sizeof(r->name), "%s", sr->name);
        r->size = sr->size;
        r->charge = charge;
        r->lifetime = SHMB_LIFETIME_CONFIG;
        r->section = section;
        (void)registry_add(&b->reg, r); /* names are unique in a config */
        b->committed += charge;
        shmb_logf(b->log, SHMB_LOG_INFO,
                  "event=create region=%s size=%llu charge=%llu "
                  "lifetime=config global_name=%s",
                  r->name, (unsigned long long)r->size,
                  (unsigned long long)charge,
                  sr->global_name[0] ? sr->global_name : "-");
    }
    return SHMB_OK;
}

static int retire_each(broker_region *r, void *ctx)
{
    region_retire((broker *)ctx, r, "service_stop");
    return 0;
}

void broker_free(broker *b)
{
    struct user_charge *u, *next;
    if (b == NULL)
        return;
    while (b->conns != NULL)
        broker_conn_close(b->conns);
    registry_foreach(&b->reg, retire_each, b);
    registry_free(&b->reg);
    while (b->drains != NULL) { /* service stop: let go of everything */
        struct drain *d = b->drains;
        b->drains = d->next;
        plat_section_close(d->section);
        free(d);
    }
    shmb_config_free(&b->cfg);
    for (u = b->users; u != NULL; u = next) {
        next = u->next;
        free(u);
    }
    free(b);
}

int broker_conn_open(broker *b, plat_peer *peer, shmb_identity *id,
                     broker_conn **out, char *why, size_t whycap)
{
    broker_conn *c, *o;
    char key[2 * SHMB_SID_MAX];
    uint32_t mine = 0;

    if (b->nconns >= b->cfg.limits.max_clients) {
        snprintf(why, whycap, "limits.max_clients (%u) connections are open",
                 (unsigned)b->cfg.limits.max_clients);
        return SHMB_E_LIMIT_REACHED;
    }
    principal_key(id->user_sid, id->appcontainer_sid, key, sizeof(key));
    for (o = b->conns; o != NULL; o = o->next)
        mine += strcmp(o->key, key) == 0;
    if (mine >= b->cfg.limits.clients_per_user) {
        snprintf(why, whycap,
                 "you already have limits.clients_per_user (%u) connections "
                 "open",
                 (unsigned)b->cfg.limits.clients_per_user);
        return SHMB_E_LIMIT_REACHED;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return SHMB_E_NOMEM;
    memcpy(c->key, key, sizeof(c->key));
    c->b = b;
    c->id = b->next_conn_id++;
    c->peer = peer;
    c->ident = *id; /* moves the heap parts: */
    id->groups = NULL;
    id->ngroups = 0;
    id->deny_groups = NULL;
    id->ndeny_groups = 0;
    if (b->log != NULL && b->log->max_level >= SHMB_LOG_DEBUG) {
        size_t i;
        for (i = 0; i < c->ident.ngroups; i++)
            shmb_logf(b->log, SHMB_LOG_DEBUG,
                      "event=identity conn=%llu "
                      "group=%s",
                      (unsigned long long)c->id, c->ident.groups[i]);
        for (i = 0; i < c->ident.ndeny_groups; i++)
            shmb_logf(b->log, SHMB_LOG_DEBUG,
                      "event=identity conn=%llu "
                      "deny_only_group=%s",
                      (unsigned long long)c->id, c->ident.deny_groups[i]);
    }
    c->next = b->conns;
    if (b->conns != NULL)
        b->conns->prev = c;
    b->conns = c;
    b->nconns++;
    shmb_logf(b->log, SHMB_LOG_INFO,
              "event=connect conn=%llu pid=%u user=%s session=%u il=0x%x "
              "appcontainer=%s groups=%zu deny_only=%zu image=\"%s\"",
              (unsigned long long)c->id, (unsigned)c->ident.pid,
              c->ident.user_sid, (unsigned)c->ident.session,
              (unsigned)c->ident.integrity,
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
    shmb_logf(b->log, SHMB_LOG_INFO, "event=disconnect conn=%llu pid=%u",
              (unsigned long long)c->id, (unsigned)c->ident.pid);
    shmb_identity_free(&c->ident);
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

const shmb_limits *broker_limits(const broker *b)
{
    return &b->cfg.limits;
}

void broker_get_stats(const broker *b, broker_stats *st)
{
    st->regions = b->reg.count;
    st->clients = b->nconns;
    st->committed = b->committed;
    st->draining = b->ndrains;
}

char *broker_reply_refused(int code, const char *message)
{
    return shmb_reply_error(0, 0, code, message);
}

/* ---- replies ---------------------------------------------------------- */

typedef struct op_ctx {
    broker_conn *c;
    const shmb_request *req;
    broker_outcome *out;
    char *reply;            /* the result reply, when the op succeeds */
    char msg[SHMB_MSG_MAX]; /* the error message, when it does not */
} op_ctx;

static int op_fail(op_ctx *x, int code, const char *fmt, ...) SHMB_PRINTF(3, 4);

static int op_fail(op_ctx *x, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
    va_end(ap);
    return code;
}

static void region_info(shmb_region_info *out, const broker_region *r)
{
    memcpy(out->name, r->name, sizeof(out->name));
    out->size = r->size;
    out->lifetime = r->lifetime;
}

/* ---- operations ------------------------------------------------------- */

static int op_hello(op_ctx *x)
{
    broker_conn *c = x->c;
    uint32_t common = x->req->versions & SUPPORTED_VERSIONS;
    uint32_t v;
    shmb_hello_result res;

    if (c->hello_done)
        return op_fail(x, SHMB_E_BAD_REQUEST, "hello was already done");
    if (common == 0) {
        x->out->close_after = 1;
        return op_fail(x, SHMB_E_UNSUPPORTED_VERSION,
                       "server speaks protocol versions 1..%d",
                       SHMB_PROTOCOL_VERSION);
    }
    for (v = 31; !(common & (1u << v)); v--)
        ;
    c->hello_done = 1;
    res.version = v;
    res.server = "shmbroker " SHMB_SERVER_VERSION;
    res.max_frame = c->b->cfg.limits.max_frame;
    res.max_region_size = c->b->cfg.limits.max_region_size;
    res.granularity = plat_commit_granularity();
    res.client_id = c->id;
    x->reply = shmb_reply_hello(x->req->id, &res);
    if (x->req->client[0])
        shmb_logf(c->b->log, SHMB_LOG_INFO, "event=hello conn=%llu client=%s",
                  (unsigned long long)c->id, x->req->client);
    return SHMB_OK;
}

static int grant_into_reply(op_ctx *x, broker_region *r, shmb_access access)
{
    broker_conn *c = x->c;
    shmb_grant_result res;
    uint64_t handle = 0;
    uint32_t syserr = 0;
    int rc;

    rc = plat_section_grant(r->section, c->peer, access, &handle, &syserr);
    if (rc != SHMB_OK)
        return op_fail(x, rc,
                       "duplicating the section into pid %u failed "
                       "(system error %u)",
                       (unsigned)c->ident.pid, (unsigned)syserr);
    if (holding_add(c, r) != SHMB_OK) {
        plat_grant_revoke(c->peer, handle);
        return op_fail(x, SHMB_E_NOMEM, "out of memory");
    }
    x->out->has_grant = 1;
    x->out->grant_handle = handle;
    region_info(&res.region, r);
    res.access = access;
    res.handle = handle;
    x->reply = shmb_reply_grant(x->req->id, &res);
    shmb_logf(c->b->log, SHMB_LOG_INFO,
              "event=grant region=%s conn=%llu pid=%u access=%s handle=0x%llx",
              r->name, (unsigned long long)c->id, (unsigned)c->ident.pid,
              shmb_access_name(access), (unsigned long long)handle);
    return SHMB_OK;
}

#define DRAINING_NOTE                                                          \
    " (part of it is held by released or deleted regions that may still be "   \
    "mapped: it returns when the processes they were granted to exit)"

static int check_create_limits(op_ctx *x, uint64_t charge)
{
    broker_conn *c = x->c;
    broker *b = c->b;
    const shmb_limits *l = &b->cfg.limits;
    struct user_charge *u = user_charge_get(b, c->key, 0);
    uint64_t user_bytes = u ? u->bytes : 0;

    if (b->reg.count >= l->max_regions)
        return op_fail(x, SHMB_E_LIMIT_REACHED,
                       "limits.max_regions (%u) regions exist",
                       (unsigned)l->max_regions);
    if (c->created >= l->regions_per_client)
        return op_fail(x, SHMB_E_LIMIT_REACHED,
                       "this connection already created "
                       "limits.regions_per_client (%u) regions",
                       (unsigned)l->regions_per_client);
    if (charge > l->commit_per_client - c->committed)
        return op_fail(
            x, SHMB_E_QUOTA_EXCEEDED,
            "needs %llu bytes of commit; this connection has %llu "
            "of limits.commit_per_client (%llu) left",
            (unsigned long long)charge,
            (unsigned long long)(l->commit_per_client - c->committed),
            (unsigned long long)l->commit_per_client);
    if (charge > l->commit_per_user - user_bytes)
        return op_fail(x, SHMB_E_QUOTA_EXCEEDED,
                       "needs %llu bytes of commit; your user has %llu of "
                       "limits.commit_per_user (%llu) left%s",
                       (unsigned long long)charge,
                       (unsigned long long)(l->commit_per_user - user_bytes),
                       (unsigned long long)l->commit_per_user,
                       u && u->draining ? DRAINING_NOTE : "");
    if (charge > l->commit_total - b->committed)
        return op_fail(x, SHMB_E_QUOTA_EXCEEDED,
                       "needs %llu bytes of commit; the broker has %llu of "
                       "limits.commit_total (%llu) left%s",
                       (unsigned long long)charge,
                       (unsigned long long)(l->commit_total - b->committed),
                       (unsigned long long)l->commit_total,
                       b->draining ? DRAINING_NOTE : "");
    return SHMB_OK;
}

/* Runs the policy for the request's name; fills x->msg when refused. */
static int policy_allows(op_ctx *x, shmb_op op, shmb_access access,
                         shmb_verdict *v)
{
    shmb_policy_req q;
    q.op = op;
    q.name = x->req->name;
    q.access = access;
    q.size = x->req->size;
    q.lifetime = x->req->lifetime;
    shmb_policy_check(&x->c->b->cfg, &x->c->ident, &q, v);
    if (!v->allowed)
        snprintf(x->msg, sizeof(x->msg), "%s", v->message);
    return v->allowed;
}

/* The creator is its user *in the same sandbox at no lower integrity*: a
 * low-integrity or AppContainer process of the same user is not the owner
 * of what the user's normal programs created. */
static int is_owner(const broker_conn *c, const broker_region *r)
{
    return r->owner_sid[0] != '\0' && !c->ident.user_deny_only &&
           strcmp(r->owner_sid, c->ident.user_sid) == 0 &&
           strcmp(r->owner_ac, c->ident.appcontainer_sid) == 0 &&
           c->ident.integrity >= r->owner_il;
}

/* A caller sees a region (list, stat) if it may open it, holds it or
 * created it; anything else it cannot tell from a name that does not
 * exist. */
static int may_see(op_ctx *x, broker_region *r, shmb_verdict *v)
{
    shmb_policy_req q;
    memset(&q, 0, sizeof(q));
    q.op = SHMB_OP_OPEN;
    q.name = r->name;
    q.access = SHMB_ACCESS_RO;
    shmb_policy_check(&x->c->b->cfg, &x->c->ident, &q, v);
    return v->allowed || is_owner(x->c, r) ||
           holding_find(x->c, r, NULL) != NULL;
}

static int op_create(op_ctx *x)
{
    broker_conn *c = x->c;
    broker *b = c->b;
    const shmb_request *req = x->req;
    uint64_t charge;
    struct user_charge *u;
    plat_section *section = NULL;
    broker_region *r;
    shmb_verdict v;
    uint32_t syserr = 0;
    int rc;

    if (req->size > b->cfg.limits.max_region_size)
        return op_fail(x, SHMB_E_INVALID_SIZE,
                       "size %llu exceeds limits.max_region_size (%llu)",
                       (unsigned long long)req->size,
                       (unsigned long long)b->cfg.limits.max_region_size);
    if (!policy_allows(x, SHMB_OP_CREATE, req->access, &v))
        return SHMB_E_ACCESS_DENIED;
    if (registry_find(&b->reg, req->name) != NULL)
        return op_fail(x, SHMB_E_EXISTS, "a region named '%s' exists",
                       req->name);
    charge = charge_of(req->size);
    rc = check_create_limits(x, charge);
    if (rc == SHMB_E_QUOTA_EXCEEDED && b->ndrains > 0) {
        /* Only when it decides something: give back what is really gone
         * (the timer does it every second anyway) and look again. */
        broker_sweep(b);
        rc = check_create_limits(x, charge);
    }
    if (rc != SHMB_OK)
        return rc;
    u = user_charge_get(b, c->key, 1);
    r = calloc(1, sizeof(*r));
    if (u == NULL || r == NULL) {
        free(r);
        return op_fail(x, SHMB_E_NOMEM, "out of memory");
    }
    rc = plat_section_create(req->size, NULL, NULL, &section, &syserr);
    if (rc != SHMB_OK) {
        free(r);
        return op_fail(x, rc,
                       "creating a %llu-byte section failed (system "
                       "error %u)",
                       (unsigned long long)req->size, (unsigned)syserr);
    }
    snprintf(r->name, sizeof(r->name), "%s", req->name);
    snprintf(r->owner_sid, sizeof(r->owner_sid), "%s", c->ident.user_sid);
    snprintf(r->owner_ac, sizeof(r->owner_ac), "%s", c->ident.appcontainer_sid);
    r->owner_il = c->ident.integrity;
    r->size = req->size;
    r->charge = charge;
    r->lifetime = req->lifetime;
    r->section = section;
    r->owner_conn = c->id;
    (void)registry_add(&b->reg, r); /* name checked above; cannot collide */
    b->committed += charge;
    u->bytes += charge;
    c->committed += charge;
    c->created++;
    shmb_logf(b->log, SHMB_LOG_INFO,
              "event=create region=%s size=%llu charge=%llu lifetime=%s "
              "conn=%llu user=%s rule=%s",
              r->name, (unsigned long long)r->size, (unsigned long long)charge,
              shmb_lifetime_name(r->lifetime), (unsigned long long)c->id,
              c->ident.user_sid, v.rule->name);
    rc = grant_into_reply(x, r, req->access);
    if (rc != SHMB_OK)
        region_retire(b, r, "grant_failed");
    return rc;
}

static int op_open(op_ctx *x)
{
    broker_region *r;
    shmb_verdict v;

    /* Policy before existence: a caller not allowed to open a name learns
     * nothing about whether it exists. */
    if (!policy_allows(x, SHMB_OP_OPEN, x->req->access, &v))
        return SHMB_E_ACCESS_DENIED;
    r = registry_find(&x->c->b->reg, x->req->name);
    if (r == NULL)
        return op_fail(x, SHMB_E_NOT_FOUND, "no region named '%s'",
                       x->req->name);
    return grant_into_reply(x, r, x->req->access);
}

static int op_release(op_ctx *x)
{
    broker_conn *c = x->c;
    size_t i;
    broker_region *r = registry_find(&c->b->reg, x->req->name);

    if (r == NULL || holding_find(c, r, &i) == NULL)
        return op_fail(x, SHMB_E_NOT_HELD,
                       "this connection holds no grant on '%s'", x->req->name);
    x->reply = shmb_reply_release(x->req->id, r->name);
    holding_drop(c, i, "released");
    return SHMB_OK;
}

static int op_delete(op_ctx *x)
{
    broker_conn *c = x->c;
    broker_region *r = registry_find(&c->b->reg, x->req->name);
    shmb_delete_result res;
    shmb_verdict v;
    int allowed;

    policy_allows(x, SHMB_OP_DELETE, SHMB_ACCESS_NONE, &v);
    /* The creating user may delete its region unless a deny rule says
     * otherwise; anyone else needs a rule granting delete. */
    allowed = !v.denied_by_rule && (v.allowed || (r != NULL && is_owner(c, r)));
    if (!allowed && !v.denied_by_rule && r != NULL)
        op_fail(x, 0,
                "delete of '%s' is not allowed: you did not create it "
                "and no rule grants you delete on it",
                r->name);
    if (!allowed)
        return SHMB_E_ACCESS_DENIED;
    if (r == NULL)
        return op_fail(x, SHMB_E_NOT_FOUND, "no region named '%s'",
                       x->req->name);
    if (r->lifetime == SHMB_LIFETIME_CONFIG)
        return op_fail(x, SHMB_E_ACCESS_DENIED,
                       "'%s' is declared in the config and cannot be deleted",
                       r->name);
    memcpy(res.name, r->name, sizeof(res.name));
    res.holders = r->holders;
    x->reply = shmb_reply_delete(x->req->id, &res);
    shmb_logf(c->b->log, SHMB_LOG_INFO,
              "event=delete region=%s conn=%llu user=%s", r->name,
              (unsigned long long)c->id, c->ident.user_sid);
    region_retire(c->b, r, "deleted");
    return SHMB_OK;
}

struct list_ctx {
    op_ctx *x;
    shmb_list_entry *v;
    size_t n, cap;
    size_t max; /* entries that fit in one frame */
    int truncated;
    int nomem;
};

static int list_one(broker_region *r, void *p)
{
    struct list_ctx *l = p;
    shmb_list_entry *e;
    shmb_verdict v;

    if (!may_see(l->x, r, &v))
        return 0;
    if (l->n == l->max) {
        l->truncated = 1;
        return 1;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        shmb_list_entry *nv;
        if (cap > l->max)
            cap = l->max;
        nv = realloc(l->v, cap * sizeof(*nv));
        if (nv == NULL) {
            l->nomem = 1;
            return 1;
        }
        l->v = nv;
        l->cap = cap;
    }
    e = &l->v[l->n++];
    region_info(&e->region, r);
    e->holders = r->holders;
    e->held = holding_find(l->x->c, r, NULL) != NULL;
    return 0;
}

static int op_list(op_ctx *x)
{
    struct list_ctx l;

    memset(&l, 0, sizeof(l));
    l.x = x;
    /* One entry prints to at most ~NAME_MAX+120 bytes; stay in one frame. */
    l.max = (x->c->b->cfg.limits.max_frame - 64) / (SHMB_NAME_MAX + 120);
    registry_foreach(&x->c->b->reg, list_one, &l);
    if (l.nomem) {
        free(l.v);
        return op_fail(x, SHMB_E_NOMEM, "out of memory");
    }
    x->reply = shmb_reply_list(x->req->id, l.v, l.n, l.truncated);
    free(l.v);
    return SHMB_OK;
}

static int op_stat(op_ctx *x)
{
    broker_conn *c = x->c;
    broker_region *r = registry_find(&c->b->reg, x->req->name);
    struct holding *h;
    shmb_stat_result res;
    shmb_verdict v;

    if (r == NULL || !may_see(x, r, &v)) {
        /* Same answer whether or not it exists, for callers who may not
         * see it. */
        if (!policy_allows(x, SHMB_OP_OPEN, SHMB_ACCESS_RO, &v))
            return SHMB_E_ACCESS_DENIED;
        return op_fail(x, SHMB_E_NOT_FOUND, "no region named '%s'",
                       x->req->name);
    }
    h = holding_find(c, r, NULL);
    region_info(&res.region, r);
    res.charge = r->charge;
    res.holders = r->holders;
    res.your_grants = h ? h->grants : 0;
    res.owner = is_owner(c, r);
    x->reply = shmb_reply_stat(x->req->id, &res);
    return SHMB_OK;
}

static int op_ping(op_ctx *x)
{
    x->reply = shmb_reply_ping(x->req->id);
    return SHMB_OK;
}

/* Each op either fills x->reply (NULL when out of memory) and returns
 * SHMB_OK, or returns an error code with x->msg saying why. */
typedef int (*op_fn)(op_ctx *x);

static const op_fn op_table[SHMB_OP_COUNT_] = {
    [SHMB_OP_HELLO] = op_hello,     [SHMB_OP_PING] = op_ping,
    [SHMB_OP_CREATE] = op_create,   [SHMB_OP_OPEN] = op_open,
    [SHMB_OP_RELEASE] = op_release, [SHMB_OP_DELETE] = op_delete,
    [SHMB_OP_LIST] = op_list,       [SHMB_OP_STAT] = op_stat,
};

char *broker_handle(broker_conn *c, const uint8_t *payload, size_t len,
                    broker_outcome *out)
{
    shmb_request req;
    op_ctx x;
    int rc, parsed;

    memset(out, 0, sizeof(*out));
    memset(&x, 0, sizeof(x));
    x.c = c;
    x.req = &req;
    x.out = out;
    rc = shmb_request_parse(payload, len, &req, x.msg, sizeof(x.msg));
    parsed = rc == SHMB_OK;
    if (rc == SHMB_OK && !c->hello_done && req.op != SHMB_OP_HELLO)
        rc = op_fail(&x, SHMB_E_HANDSHAKE_REQUIRED, "send hello before '%s'",
                     shmb_op_name(req.op));
    if (rc == SHMB_E_BAD_JSON)
        out->close_after = 1; /* the peer is not speaking our protocol */
    if (rc != SHMB_OK)
        goto error;
    rc = op_table[req.op](&x);
    if (rc != SHMB_OK)
        goto error;
    if (x.reply == NULL && out->has_grant) {
        plat_grant_revoke(c->peer, out->grant_handle);
        out->has_grant = 0;
    }
    return x.reply;
error:
    shmb_logf(c->b->log, SHMB_LOG_INFO,
              "event=refused conn=%llu pid=%u op=%s code=%s reason=\"%s\"",
              (unsigned long long)c->id, (unsigned)c->ident.pid,
              parsed ? shmb_op_name(req.op) : "?", shmb_err_name(rc), x.msg);
    return shmb_reply_error(req.has_id, req.id, rc, x.msg);
}
