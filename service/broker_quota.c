/* SPDX-License-Identifier: MPL-2.0 */
/*
 * broker_quota.c - commit accounting (docs/security.md rule 8: quotas count
 * commit). A region's commit is charged at creation to the total, and for a
 * dynamic region to the creating connection, its principal and its user
 * SID. The connection stops paying when the region is retired (its limits
 * are about the regions it has now); the principal, the user and the total
 * pay until the memory is really gone, which may be long after: a process
 * can keep a view mapped after its handle is closed, so a retired section
 * "drains" until it is no longer "pinned".
 *
 * The drain rule (docs/security.md, "Round two: principals and limits"): a
 * retired section stays charged while the platform says it is in use (a
 * handle exists, or a process it was granted to lives) or while a process
 * of a principal it was granted to, that first connected after that grant
 * and before the section went quiet (no handle, no grantee alive), is
 * alive - such a process may have been handed a duplicate by a grantee
 * (its child, typically), mapped it and closed the handle. Once quiet, no
 * one can be handed the section any more, so later arrivals do not pin
 * it. Processes are told apart by pid and creation time, never by pid
 * alone.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_int.h"

void quota_principal_key(const char *user, const char *ac, uint32_t integrity,
                         char *out, size_t cap)
{
    /* An AppContainer and an integrity band are principals of their own
     * (sub-limits); the user's limits cover them all together, so a new
     * container profile cannot multiply a user's quota. */
    snprintf(out, cap, "%s|%s|%s", user, ac,
             shmb_band_name(shmb_band_of(integrity)));
}

int quota_over(uint64_t used, uint64_t charge, uint64_t limit)
{
    return used >= limit || charge > limit - used;
}

int quota_is_sandbox(const shmb_identity *id)
{
    return id->appcontainer_sid[0] != '\0' ||
           shmb_band_of(id->integrity) != SHMB_BAND_MEDIUM_PLUS;
}

uint64_t quota_user_share(const shmb_identity *id, uint64_t limit)
{
    return quota_is_sandbox(id) ? limit - limit / 4 : limit;
}

#define SANDBOX_NOTE                                                           \
    "; a sandboxed principal may use three quarters of it, the rest is "       \
    "kept for the user's medium-and-above programs"

static uint64_t left_of(uint64_t used, uint64_t limit)
{
    return used >= limit ? 0 : limit - used;
}

uint64_t quota_charge_of(uint64_t size)
{
    uint64_t gran = plat_commit_granularity();
    return (size + gran - 1) / gran * gran;
}

struct account *quota_account(broker *b, const char *key, int create)
{
    struct account *a;
    for (a = b->accounts; a != NULL; a = a->next) {
        if (strcmp(a->key, key) == 0)
            return a;
    }
    if (!create)
        return NULL;
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    snprintf(a->key, sizeof(a->key), "%s", key);
    a->next = b->accounts;
    b->accounts = a;
    return a;
}

void quota_charge(broker *b, const broker_region *r, broker_conn *owner,
                  struct account *p, struct account *u)
{
    b->committed += r->charge;
    if (p != NULL) {
        p->bytes += r->charge;
        p->regions++;
    }
    if (u != NULL) {
        u->bytes += r->charge;
        u->regions++;
    }
    if (owner != NULL) {
        owner->committed += r->charge;
        owner->created++;
    }
}

/* ---- who a region went to, and who connected since -------------------- */

int quota_note_grant(broker_conn *c, broker_region *r)
{
    struct region_ext *x = (struct region_ext *)r;
    struct grantee *g;
    if (r->lifetime == SHMB_LIFETIME_CONFIG)
        return SHMB_OK; /* never retired while the service runs */
    for (g = x->grantees; g != NULL; g = g->next) {
        if (strcmp(g->key, c->key) == 0)
            return SHMB_OK; /* the first grant is the earliest "since" */
    }
    g = calloc(1, sizeof(*g));
    if (g == NULL)
        return SHMB_E_NOMEM;
    memcpy(g->key, c->key, sizeof(g->key));
    g->since = ++c->b->clock;
    g->next = x->grantees;
    x->grantees = g;
    return SHMB_OK;
}

static void drains_note_quiet(broker *b, const char *key);

int quota_proc_open(broker_conn *c)
{
    broker *b = c->b;
    struct proc_seen *p;
    for (p = b->procs; p != NULL; p = p->next) {
        if (p->pid == c->ident.pid && p->created == c->ident.process_created &&
            strcmp(p->key, c->key) == 0)
            break;
    }
    if (p == NULL) {
        p = calloc(1, sizeof(*p));
        if (p == NULL)
            return SHMB_E_NOMEM;
        drains_note_quiet(b, c->key);
        memcpy(p->key, c->key, sizeof(p->key));
        p->pid = c->ident.pid;
        p->created = c->ident.process_created;
        p->first = ++b->clock;
        p->next = b->procs;
        b->procs = p;
    }
    p->open_conns++;
    c->proc = p;
    return SHMB_OK;
}

static void proc_unlink(broker *b, struct proc_seen *gone)
{
    struct proc_seen **pp;
    for (pp = &b->procs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == gone) {
            *pp = gone->next;
            free(gone);
            return;
        }
    }
}

void quota_proc_close(broker_conn *c)
{
    struct proc_seen *p = c->proc;
    if (p == NULL)
        return;
    c->proc = NULL;
    /* Without a way to ask whether it still lives, a process is taken to
     * be gone with its last connection. */
    if (--p->open_conns == 0 && c->b->process_alive == NULL)
        proc_unlink(c->b, p);
}

static int proc_alive(const broker *b, const struct proc_seen *p)
{
    return p->open_conns > 0 ||
           (b->process_alive != NULL && b->process_alive(p->pid, p->created));
}

/* Forgets processes that have closed every connection and exited. */
static void procs_prune(broker *b)
{
    struct proc_seen **pp = &b->procs, *p;
    while ((p = *pp) != NULL) {
        if (proc_alive(b, p)) {
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        free(p);
    }
}

static void grantees_free(struct grantee *g)
{
    while (g != NULL) {
        struct grantee *next = g->next;
        free(g);
        g = next;
    }
}

void region_free(broker_region *r)
{
    grantees_free(((struct region_ext *)r)->grantees);
    free(r);
}

/* The drain rule (file comment). Records in *quiet_at when the section
 * is first seen quiet. */
static int pinned(const broker *b, plat_section *section,
                  const struct grantee *grantees, uint64_t *quiet_at)
{
    const struct grantee *g;
    const struct proc_seen *p;
    if (plat_section_in_use(section))
        return 1;
    if (*quiet_at == BROKER_NOT_QUIET)
        *quiet_at = b->clock;
    for (g = grantees; g != NULL; g = g->next) {
        for (p = b->procs; p != NULL; p = p->next) {
            if (p->first > g->since && p->first <= *quiet_at &&
                strcmp(p->key, g->key) == 0 && proc_alive(b, p))
                return 1;
        }
    }
    return 0;
}

/* How many retired sections a new process's arrival looks at (each look
 * is a few system calls), so that a connect never waits for thousands. */
#define NOTE_QUIET_BUDGET 64

/* 1 if a process of `key` could pin the drain: one of its grantees is. */
static int drain_has_grantee(const struct drain *d, const char *key)
{
    const struct grantee *g;
    for (g = d->grantees; g != NULL; g = g->next) {
        if (strcmp(g->key, key) == 0)
            return 1;
    }
    return 0;
}

/* A process of `key` is about to be seen for the first time: sections that
 * went quiet before it arrived must not count it. Only drains with a
 * grantee of that key can be pinned by it, and at most NOTE_QUIET_BUDGET
 * of those are looked at; the others get their quiet time at the next
 * sweep, which may then count this process too - so they may drain later,
 * never sooner (the safe side: commit stays charged). */
static void drains_note_quiet(broker *b, const char *key)
{
    struct drain *d;
    size_t budget = NOTE_QUIET_BUDGET;
    for (d = b->drains; d != NULL && budget > 0; d = d->next) {
        if (d->quiet_at != BROKER_NOT_QUIET || !drain_has_grantee(d, key))
            continue;
        budget--;
        if (!plat_section_in_use(d->section))
            d->quiet_at = b->clock;
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
        quota_principal_key(r->owner_sid, r->owner_ac, r->owner_il, out, cap);
}

/* An account with nothing charged is forgotten, so principals that come
 * and go (one per AppContainer profile) do not accumulate. */
void quota_drop_if_empty(broker *b, struct account *gone)
{
    struct account **pp;
    if (gone == NULL)
        return;
    if (gone->bytes != 0 || gone->regions != 0 || gone->draining != 0)
        return;
    for (pp = &b->accounts; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == gone) {
            *pp = gone->next;
            free(gone);
            return;
        }
    }
}

static void uncharge_account(broker *b, const char *key, uint64_t charge,
                             int was_draining)
{
    struct account *a = key[0] ? quota_account(b, key, 0) : NULL;
    if (a != NULL) {
        a->bytes -= charge;
        if (was_draining)
            a->draining -= charge;
        quota_drop_if_empty(b, a);
    }
}

static void uncharge(broker *b, const char *pkey, const char *user,
                     uint64_t charge, int was_draining)
{
    b->committed -= charge;
    if (was_draining)
        b->draining -= charge;
    uncharge_account(b, pkey, charge, was_draining);
    uncharge_account(b, user, charge, was_draining);
}

static void mark_draining(broker *b, const char *key, uint64_t charge)
{
    struct account *a = key[0] ? quota_account(b, key, 0) : NULL;
    if (a != NULL)
        a->draining += charge;
}

/* Keeps a retired section's charge until it is no longer pinned. */
static int drain_add(broker *b, broker_region *r, uint64_t quiet_at)
{
    struct region_ext *x = (struct region_ext *)r;
    struct drain *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return 0;
    region_key(r, d->owner_key, sizeof(d->owner_key));
    memcpy(d->owner_user, r->owner_sid, sizeof(d->owner_user));
    d->section = r->section;
    d->charge = r->charge;
    d->quiet_at = quiet_at;
    memcpy(d->name, r->name, sizeof(d->name));
    d->grantees = x->grantees;
    x->grantees = NULL;
    d->next = b->drains;
    b->drains = d;
    b->ndrains++;
    b->draining += r->charge;
    mark_draining(b, d->owner_key, r->charge);
    mark_draining(b, d->owner_user, r->charge);
    return 1;
}

/* The region is no longer listed: it stops counting as a region of its
 * principal and user (its commit may go on counting, as draining). */
static void uncount_region(broker *b, const broker_region *r)
{
    char key[BROKER_KEY_MAX];
    struct account *a;
    region_key(r, key, sizeof(key));
    if (key[0] == '\0')
        return;
    if ((a = quota_account(b, key, 0)) != NULL && a->regions > 0)
        a->regions--;
    if ((a = quota_account(b, r->owner_sid, 0)) != NULL && a->regions > 0)
        a->regions--;
}

int quota_release(broker *b, broker_region *r)
{
    struct region_ext *x = (struct region_ext *)r;
    uint64_t quiet_at = BROKER_NOT_QUIET;
    int draining = 0;

    uncharge_conn(b, r);
    uncount_region(b, r);
    if (pinned(b, r->section, x->grantees, &quiet_at) &&
        drain_add(b, r, quiet_at)) {
        draining = 1;
    } else {
        char key[BROKER_KEY_MAX];
        region_key(r, key, sizeof(key));
        plat_section_close(r->section);
        uncharge(b, key, r->owner_sid, r->charge, 0);
    }
    r->section = NULL;
    return draining;
}

int broker_sweep_step(broker *b, size_t budget)
{
    struct drain **pp = &b->drains, *d;
    if (!b->sweeping) {
        b->sweeping = 1;
        b->sweep_pass++;
        procs_prune(b);
    }
    while ((d = *pp) != NULL) {
        /* Skipping the ones this pass has seen costs no system call. */
        if (d->swept == b->sweep_pass) {
            pp = &d->next;
            continue;
        }
        if (budget == 0)
            return 1;
        budget--;
        d->swept = b->sweep_pass;
        if (pinned(b, d->section, d->grantees, &d->quiet_at)) {
            pp = &d->next;
            continue;
        }
        *pp = d->next;
        b->ndrains--;
        plat_section_close(d->section);
        uncharge(b, d->owner_key, d->owner_user, d->charge, 1);
        grantees_free(d->grantees);
        shmb_log_event(b->log, SHMB_LOG_INFO, SHMB_EV_REGION_DRAINED,
                       "region=%s charge=%llu", d->name,
                       (unsigned long long)d->charge);
        free(d);
    }
    b->sweeping = 0;
    return 0;
}

void broker_sweep(broker *b)
{
    while (broker_sweep_step(b, (size_t)-1))
        ;
}

void quota_free(broker *b)
{
    struct account *a, *next;

    while (b->drains != NULL) { /* service stop: let go of everything */
        struct drain *d = b->drains;
        b->drains = d->next;
        plat_section_close(d->section);
        grantees_free(d->grantees);
        free(d);
    }
    b->ndrains = 0;
    for (a = b->accounts; a != NULL; a = next) {
        next = a->next;
        free(a);
    }
    b->accounts = NULL;
    while (b->procs != NULL) {
        struct proc_seen *p = b->procs;
        b->procs = p->next;
        free(p);
    }
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

/* The broker's limits and the connection's, then the user's over all its
 * principals, then the principal's sub-limits (which default to the
 * user's, so the user's message is the one seen unless a file sets a
 * tighter sub-limit). */
static int check_regions(broker_conn *c, char *msg, size_t cap)
{
    broker *b = c->b;
    const shmb_limits *l = &b->cfg.limits;
    struct account *p = quota_account(b, c->key, 0);
    struct account *u = quota_account(b, c->ident.user_sid, 0);

    if (b->reg.count >= l->max_regions)
        return refuse(msg, cap, SHMB_E_LIMIT_REACHED,
                      "limits.max_regions (%u) regions exist",
                      (unsigned)l->max_regions);
    if (c->created >= l->regions_per_client)
        return refuse(msg, cap, SHMB_E_LIMIT_REACHED,
                      "this connection already created "
                      "limits.regions_per_client (%u) regions",
                      (unsigned)l->regions_per_client);
    if (u != NULL &&
        u->regions >= quota_user_share(&c->ident, l->regions_per_user))
        return refuse(msg, cap, SHMB_E_LIMIT_REACHED,
                      "your user already has limits.regions_per_user (%u) "
                      "regions (all its AppContainers and integrity levels "
                      "together)%s",
                      (unsigned)l->regions_per_user,
                      quota_is_sandbox(&c->ident) ? SANDBOX_NOTE : "");
    if (p != NULL && p->regions >= l->regions_per_principal)
        return refuse(msg, cap, SHMB_E_LIMIT_REACHED,
                      "your principal (user, AppContainer and integrity "
                      "band) already has limits.regions_per_principal (%u) "
                      "regions",
                      (unsigned)l->regions_per_principal);
    return SHMB_OK;
}

static int check_commit(broker_conn *c, uint64_t charge, char *msg, size_t cap)
{
    broker *b = c->b;
    const shmb_limits *l = &b->cfg.limits;
    struct account *p = quota_account(b, c->key, 0);
    struct account *u = quota_account(b, c->ident.user_sid, 0);
    uint64_t pb = p ? p->bytes : 0, ub = u ? u->bytes : 0;
    uint64_t ushare = quota_user_share(&c->ident, l->commit_per_user);

    if (quota_over(c->committed, charge, l->commit_per_client))
        return refuse(
            msg, cap, SHMB_E_QUOTA_EXCEEDED,
            "needs %llu bytes of commit; this connection has %llu "
            "of limits.commit_per_client (%llu) left",
            (unsigned long long)charge,
            (unsigned long long)left_of(c->committed, l->commit_per_client),
            (unsigned long long)l->commit_per_client);
    if (quota_over(ub, charge, ushare))
        return refuse(msg, cap, SHMB_E_QUOTA_EXCEEDED,
                      "needs %llu bytes of commit; your user has %llu of "
                      "limits.commit_per_user (%llu) left%s%s",
                      (unsigned long long)charge,
                      (unsigned long long)left_of(ub, ushare),
                      (unsigned long long)l->commit_per_user,
                      quota_is_sandbox(&c->ident) ? SANDBOX_NOTE : "",
                      u && u->draining ? DRAINING_NOTE : "");
    if (quota_over(pb, charge, l->commit_per_principal))
        return refuse(msg, cap, SHMB_E_QUOTA_EXCEEDED,
                      "needs %llu bytes of commit; your principal (user, "
                      "AppContainer and integrity band) has %llu of "
                      "limits.commit_per_principal (%llu) left%s",
                      (unsigned long long)charge,
                      (unsigned long long)left_of(pb, l->commit_per_principal),
                      (unsigned long long)l->commit_per_principal,
                      p && p->draining ? DRAINING_NOTE : "");
    if (quota_over(b->committed, charge, l->commit_total))
        return refuse(
            msg, cap, SHMB_E_QUOTA_EXCEEDED,
            "needs %llu bytes of commit; the broker has %llu of "
            "limits.commit_total (%llu) left%s",
            (unsigned long long)charge,
            (unsigned long long)left_of(b->committed, l->commit_total),
            (unsigned long long)l->commit_total,
            b->draining ? DRAINING_NOTE : "");
    return SHMB_OK;
}

static int check_limits(broker_conn *c, uint64_t charge, char *msg, size_t cap)
{
    int rc = check_regions(c, msg, cap);
    return rc != SHMB_OK ? rc : check_commit(c, charge, msg, cap);
}

/* Draining regions a create over quota may look at before it answers. */
#define QUOTA_SWEEP_BUDGET 64

int quota_check_create(broker_conn *c, uint64_t charge, char *msg, size_t cap)
{
    int rc = check_limits(c, charge, msg, cap);
    if (rc == SHMB_E_QUOTA_EXCEEDED && c->b->ndrains > 0) {
        /* Only when it decides something: give back what is really gone
         * (the sweeper does it every second anyway) and look again - one
         * budgeted step of the pass, never a whole pass on this request,
         * so a client at its limit cannot make each refusal stall the
         * loop over thousands of draining regions. */
        (void)broker_sweep_step(c->b, QUOTA_SWEEP_BUDGET);
        rc = check_limits(c, charge, msg, cap);
    }
    return rc;
}
