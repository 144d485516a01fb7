/* SPDX-License-Identifier: MPL-2.0 */
/*
 * broker_ops.c - the request ops: broker_handle parses one request, checks
 * the handshake, runs the op's handler and returns the reply the protocol
 * module built. Each handler asks the policy, touches the broker's state
 * through broker_int.h and fills a plain result struct; none of them
 * writes JSON (common/proto_reply.c does).
 *
 * Two habits hold throughout: a caller who may not open a name learns
 * nothing about whether it exists (docs/security.md, "Denials that do not
 * leak"), and every refusal says which rule or limit refused, in x->msg.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_int.h"
#include "shmb_policy.h"
#include "shmb_version.h"

#define SUPPORTED_VERSIONS (1u << SHMB_PROTOCOL_VERSION)

/* One request in flight. An op either fills `reply` (NULL only when
 * memory ran out) and returns SHMB_OK, or returns an error code with `msg`
 * saying why. */
typedef struct op_ctx {
    broker_conn *c;
    const shmb_request *req;
    broker_outcome *out;
    char *reply;
    char msg[SHMB_MSG_MAX];
} op_ctx;

typedef int (*op_fn)(op_ctx *x);

/* ---- shared by the ops ------------------------------------------------ */

static int op_fail(op_ctx *x, int code, const char *fmt, ...) SHMB_PRINTF(3, 4);

static int op_fail(op_ctx *x, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
    va_end(ap);
    return code;
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

/* The owner is the creator's principal: the same user, in the same
 * AppContainer (or none), in the same integrity band. A low-integrity or
 * AppContainer process of the same user is not the owner of what the
 * user's normal programs created - nor the other way round: ownership is
 * an identity, not a ranking (a rule can give the medium+ principal delete
 * on its sandboxes' names, and the default rule does). */
static int is_owner(const broker_conn *c, const broker_region *r)
{
    return r->owner_sid[0] != '\0' && !c->ident.user_deny_only &&
           shmb_principal_is(&c->ident, r->owner_sid, r->owner_ac, r->owner_il);
}

/* ---- visibility, remembered ------------------------------------------
 * list asks the policy about every region, and a client may list again
 * and again (one 64 KiB write holds thousands of list requests): running
 * every rule's patterns over every name each time made one connection
 * stall the loop. Whether the policy lets a caller open a name read-only
 * depends only on the caller (fixed for the connection), the name and the
 * rules, so each connection remembers the answer per name - exactly, by
 * the whole name - until a reload changes the rules (b->rules_gen). The
 * cache never holds more than about twice the regions that exist: past
 * that it starts over. Owning and holding change, and are cheap: they are
 * not cached. */

struct seen_entry {
    uint32_t hash;
    uint32_t off; /* of the name in the arena; 0 = empty slot */
    int allowed;
};

struct seen_cache {
    uint64_t gen;
    struct seen_entry *v;
    size_t n, cap; /* cap is 0 or a power of two */
    char *arena;   /* the names, NUL-terminated, from offset 1 */
    size_t used, size;
};

void ops_conn_free(broker_conn *c)
{
    if (c->seen == NULL)
        return;
    free(c->seen->v);
    free(c->seen->arena);
    free(c->seen);
    c->seen = NULL;
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void seen_clear(struct seen_cache *sc)
{
    if (sc->v != NULL)
        memset(sc->v, 0, sc->cap * sizeof(*sc->v));
    sc->n = 0;
    sc->used = 1;
}

/* The slot for `name`: its entry, or the empty slot where it belongs. */
static struct seen_entry *seen_slot(struct seen_cache *sc, const char *name,
                                    uint32_t h)
{
    size_t i = h & (sc->cap - 1);
    for (;; i = (i + 1) & (sc->cap - 1)) {
        struct seen_entry *e = &sc->v[i];
        if (e->off == 0 ||
            (e->hash == h && strcmp(sc->arena + e->off, name) == 0))
            return e;
    }
}

/* Makes room for one more entry; 0 if memory ran out (then the verdict is
 * simply not remembered). */
static int seen_room(broker_conn *c, struct seen_cache *sc, size_t namelen)
{
    size_t limit = 2 * (c->b->reg.count + 16);
    if ((sc->n + 1) * 4 > sc->cap * 3) {
        size_t cap = sc->cap ? sc->cap * 2 : 64, i;
        struct seen_entry *nv, *old = sc->v;
        if (sc->n + 1 > limit) {
            seen_clear(sc); /* the regions came and went: start over */
            cap = sc->cap;
        }
        if (cap != sc->cap) {
            size_t oldcap = sc->cap;
            nv = calloc(cap, sizeof(*nv));
            if (nv == NULL)
                return 0;
            sc->v = nv;
            sc->cap = cap;
            for (i = 0; i < oldcap; i++) {
                if (old[i].off != 0)
                    *seen_slot(sc, sc->arena + old[i].off, old[i].hash) =
                        old[i];
            }
            free(old);
        }
    }
    if (sc->used + namelen + 1 > sc->size) {
        size_t size = sc->size ? sc->size * 2 : 4096;
        char *na;
        while (size < sc->used + namelen + 1)
            size *= 2;
        if ((uint64_t)size > UINT32_MAX ||
            (na = realloc(sc->arena, size)) == NULL)
            return 0;
        sc->arena = na;
        sc->size = size;
    }
    return 1;
}

/* Whether the policy lets the caller open `name` read-only, remembered. */
static int policy_sees(broker_conn *c, const char *name)
{
    struct seen_cache *sc = c->seen;
    struct seen_entry *e;
    shmb_policy_req q;
    shmb_verdict v;
    uint32_t h = name_hash(name);
    size_t len;

    if (sc == NULL && (sc = c->seen = calloc(1, sizeof(*sc))) != NULL) {
        sc->gen = c->b->rules_gen;
        sc->used = 1; /* offset 0 marks an empty slot */
    }
    if (sc != NULL && sc->gen != c->b->rules_gen) {
        seen_clear(sc);
        sc->gen = c->b->rules_gen;
    }
    if (sc != NULL && sc->cap > 0) {
        e = seen_slot(sc, name, h);
        if (e->off != 0)
            return e->allowed;
    }
    memset(&q, 0, sizeof(q));
    q.op = SHMB_OP_OPEN;
    q.name = name;
    q.access = SHMB_ACCESS_RO;
    shmb_policy_check(&c->b->cfg, &c->ident, &q, &v);
    len = strlen(name);
    if (sc != NULL && seen_room(c, sc, len)) {
        e = seen_slot(sc, name, h);
        e->hash = h;
        e->off = (uint32_t)sc->used;
        e->allowed = v.allowed;
        memcpy(sc->arena + sc->used, name, len + 1);
        sc->used += len + 1;
        sc->n++;
    }
    return v.allowed;
}

/* A caller sees a region (list, stat) if it may open it, holds it or
 * created it; anything else it cannot tell from a name that does not
 * exist. */
static int may_see(op_ctx *x, broker_region *r)
{
    return policy_sees(x->c, r->name) || is_owner(x->c, r) ||
           holding_find(x->c, r, NULL) != NULL;
}

static void region_info(shmb_region_info *out, const broker_region *r)
{
    memcpy(out->name, r->name, sizeof(out->name));
    out->size = r->size;
    out->lifetime = r->lifetime;
}

/* The handle goes into the connected process itself, never into a pid a
 * request names (docs/security.md rule 3); the outcome tells the server
 * which handle to close should the reply not arrive (rule 4). */
static int grant_into_reply(op_ctx *x, broker_region *r, shmb_access access)
{
    broker_conn *c = x->c;
    shmb_grant_result res;
    plat_grant g;
    uint32_t syserr = 0;
    int rc;

    memset(&g, 0, sizeof(g));
    rc = plat_section_grant(r->section, c->peer, access, &g, &syserr);
    if (rc != SHMB_OK)
        return op_fail(x, rc,
                       "duplicating the section into pid %u failed "
                       "(system error %u)",
                       (unsigned)c->ident.pid, (unsigned)syserr);
    if (quota_note_grant(c, r) != SHMB_OK || holding_add(c, r) != SHMB_OK) {
        plat_grant_revoke(c->peer, &g);
        return op_fail(x, SHMB_E_NOMEM, "out of memory");
    }
    x->out->has_grant = 1;
    x->out->grant = g;
    region_info(&res.region, r);
    res.access = access;
    res.handle = g.handle;
    res.ndoorbells = g.ndoorbells;
    res.doorbells = x->out->grant.doorbells;
    x->reply = shmb_reply_grant(x->req->id, &res);
    shmb_log_event(c->b->log, SHMB_LOG_INFO, SHMB_EV_GRANT,
                   "region=%s conn=%llu pid=%u access=%s handle=0x%llx",
                   r->name, (unsigned long long)c->id, (unsigned)c->ident.pid,
                   shmb_access_name(access), (unsigned long long)g.handle);
    return SHMB_OK;
}

/* ---- the ops, in the order of docs/protocol.md ------------------------ */

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
    res.server = "shmbroker " SHMB_VERSION_STRING;
    res.max_frame = c->b->cfg.limits.max_frame;
    res.max_region_size = c->b->cfg.limits.max_region_size;
    res.granularity = plat_commit_granularity();
    res.client_id = c->id;
    x->reply = shmb_reply_hello(x->req->id, &res);
    if (x->req->client[0])
        shmb_log_event(c->b->log, SHMB_LOG_INFO, SHMB_EV_HELLO,
                       "conn=%llu client=%s", (unsigned long long)c->id,
                       x->req->client);
    return SHMB_OK;
}

static int op_ping(op_ctx *x)
{
    x->reply = shmb_reply_ping(x->req->id);
    return SHMB_OK;
}

static int op_create(op_ctx *x)
{
    broker_conn *c = x->c;
    broker *b = c->b;
    const shmb_request *req = x->req;
    region_spec spec;
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
    rc = quota_check_create(c, quota_charge_of(req->size), x->msg,
                            sizeof(x->msg));
    if (rc != SHMB_OK)
        return rc;
    memset(&spec, 0, sizeof(spec));
    spec.name = req->name;
    spec.size = req->size;
    spec.lifetime = req->lifetime;
    spec.doorbells = req->doorbells;
    spec.owner = c;
    rc = region_create(b, &spec, &r, &syserr);
    if (rc == SHMB_E_NOMEM)
        return op_fail(x, rc, "out of memory");
    if (rc != SHMB_OK)
        return op_fail(x, rc,
                       "creating a %llu-byte section failed (system "
                       "error %u)",
                       (unsigned long long)req->size, (unsigned)syserr);
    shmb_log_event(b->log, SHMB_LOG_INFO, SHMB_EV_CREATE,
                   "region=%s size=%llu charge=%llu lifetime=%s "
                   "conn=%llu user=%s rule=%s",
                   r->name, (unsigned long long)r->size,
                   (unsigned long long)r->charge,
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
    /* Unless a rule grants delete on the name (then the caller has power
     * over it whatever it may see), a region the caller may not see is
     * answered exactly like a name that does not exist, as stat does: the
     * refusal must not tell them apart. */
    if (r != NULL && !v.allowed && !may_see(x, r))
        r = NULL;
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
    shmb_log_event(c->b->log, SHMB_LOG_INFO, SHMB_EV_DELETE,
                   "region=%s conn=%llu user=%s", r->name,
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

    if (!may_see(l->x, r))
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

    if (r == NULL || !may_see(x, r)) {
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

/* ---- stats ------------------------------------------------------------
 * The admin view: totals, the server's counts and every principal's and
 * user's usage against its limits. Who has connected and what they hold
 * is nobody else's business: a caller the policy does not allow gets
 * access_denied and nothing else. */

struct stats_ctx {
    shmb_stats_usage *v; /* principals first, then users */
    size_t np, nu, cap;  /* cap: entries that fit in one frame */
    int truncated;
    uint32_t by_life[3];
};

/* Copies at most cap-1 bytes of [p, end) into out. */
static void copy_part(char *out, size_t cap, const char *p, const char *end)
{
    size_t n = (size_t)(end - p);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* A principal key is "user|appcontainer|band" (quota_principal_key); SIDs
 * hold no '|'. A user key is the bare SID. */
static void key_split(const char *key, int principal, char user[SHMB_SID_MAX],
                      char ac[SHMB_SID_MAX], char band[16])
{
    const char *a = principal ? strchr(key, '|') : NULL;
    const char *z = a != NULL ? strchr(a + 1, '|') : NULL;
    ac[0] = band[0] = '\0';
    if (z == NULL) {
        copy_part(user, SHMB_SID_MAX, key, key + strlen(key));
        return;
    }
    copy_part(user, SHMB_SID_MAX, key, a);
    copy_part(ac, SHMB_SID_MAX, a + 1, z);
    copy_part(band, 16, z + 1, z + 1 + strlen(z + 1));
}

/* The entry of principal key (users: bare SID) `key`, found or added;
 * NULL when the frame is full. */
static shmb_stats_usage *stats_entry(struct stats_ctx *s, const char *key,
                                     int principal)
{
    shmb_stats_usage *e, *first = principal ? s->v : s->v + s->np;
    size_t i, n = principal ? s->np : s->nu;
    char user[SHMB_SID_MAX], ac[SHMB_SID_MAX], band[16];

    key_split(key, principal, user, ac, band);
    for (i = 0; i < n; i++) {
        e = &first[i];
        if (strcmp(e->user, user) == 0 && strcmp(e->appcontainer, ac) == 0 &&
            strcmp(e->band, band) == 0)
            return e;
    }
    if (s->np + s->nu == s->cap) {
        s->truncated = 1;
        return NULL;
    }
    e = &first[n];
    memset(e, 0, sizeof(*e));
    memcpy(e->user, user, sizeof(e->user));
    memcpy(e->appcontainer, ac, sizeof(e->appcontainer));
    memcpy(e->band, band, sizeof(e->band));
    if (principal)
        s->np++;
    else
        s->nu++;
    return e;
}

static int stats_count_region(broker_region *r, void *p)
{
    struct stats_ctx *s = p;
    if ((unsigned)r->lifetime < 3)
        s->by_life[r->lifetime]++;
    return 0;
}

/* Principals first (every one has its user), then the users: two passes
 * so that the principals' block stays contiguous. */
static void stats_collect(broker *b, struct stats_ctx *s, int principal)
{
    const shmb_limits *l = &b->cfg.limits;
    const struct account *a;
    const broker_conn *c;
    shmb_stats_usage *e;

    for (c = b->conns; c != NULL; c = c->next) {
        e = stats_entry(s, principal ? c->key : c->ident.user_sid, principal);
        if (e != NULL)
            e->clients++;
    }
    for (a = b->accounts; a != NULL; a = a->next) {
        if ((strchr(a->key, '|') != NULL) != principal)
            continue;
        e = stats_entry(s, a->key, principal);
        if (e == NULL)
            continue;
        e->regions = a->regions;
        e->commit = a->bytes;
        e->commit_draining = a->draining;
    }
    for (e = principal ? s->v : s->v + s->np;
         e < s->v + s->np + (principal ? 0 : s->nu); e++) {
        e->clients_limit =
            principal ? l->clients_per_principal : l->clients_per_user;
        e->regions_limit =
            principal ? l->regions_per_principal : l->regions_per_user;
        e->commit_limit =
            principal ? l->commit_per_principal : l->commit_per_user;
    }
}

static int op_stats(op_ctx *x)
{
    broker *b = x->c->b;
    const shmb_limits *l = &b->cfg.limits;
    broker_server_counts sc;
    struct stats_ctx s;
    shmb_stats_result res;
    shmb_verdict v;

    shmb_policy_stats(&b->cfg, &x->c->ident, &v);
    if (!v.allowed)
        return op_fail(x, SHMB_E_ACCESS_DENIED, "%s", v.message);
    memset(&s, 0, sizeof(s));
    memset(&res, 0, sizeof(res));
    s.cap = l->max_frame > SHMB_STATS_FIXED_MAX
                ? (l->max_frame - SHMB_STATS_FIXED_MAX) / SHMB_STATS_ENTRY_MAX
                : 0;
    /* Every entry comes from a connection or an account: no more. */
    {
        size_t most = 2 * b->nconns;
        const struct account *a;
        for (a = b->accounts; a != NULL; a = a->next)
            most++;
        if (s.cap > most)
            s.cap = most;
    }
    s.v = calloc(s.cap ? s.cap : 1, sizeof(*s.v));
    if (s.v == NULL)
        return op_fail(x, SHMB_E_NOMEM, "out of memory");
    stats_collect(b, &s, 1);
    stats_collect(b, &s, 0);
    registry_foreach(&b->reg, stats_count_region, &s);

    memset(&sc, 0, sizeof(sc));
    if (b->server_counts != NULL)
        b->server_counts(b->server_ctx, &sc);
    res.connections = (uint32_t)b->nconns;
    res.max_clients = l->max_clients;
    res.regions = (uint32_t)b->reg.count;
    res.regions_client = s.by_life[SHMB_LIFETIME_CLIENT];
    res.regions_persistent = s.by_life[SHMB_LIFETIME_PERSISTENT];
    res.regions_config = s.by_life[SHMB_LIFETIME_CONFIG];
    res.regions_draining = (uint32_t)b->ndrains;
    res.max_regions = l->max_regions;
    res.commit = b->committed;
    res.commit_draining = b->draining;
    res.commit_limit = l->commit_total;
    res.grantee_handles = plat_grantee_handles();
    res.server_connections = sc.connections;
    res.server_paused = sc.paused;
    res.server_yielded = sc.yielded;
    res.server_writes = sc.writes;
    res.server_frames = sc.frames;
    res.principals = s.v;
    res.nprincipals = s.np;
    res.users = s.v + s.np;
    res.nusers = s.nu;
    res.truncated = s.truncated;
    x->reply = shmb_reply_stats(x->req->id, &res);
    free(s.v);
    return SHMB_OK;
}

/* ---- dispatch --------------------------------------------------------- */

static const op_fn op_table[SHMB_OP_COUNT_] = {
    [SHMB_OP_HELLO] = op_hello,     [SHMB_OP_PING] = op_ping,
    [SHMB_OP_CREATE] = op_create,   [SHMB_OP_OPEN] = op_open,
    [SHMB_OP_RELEASE] = op_release, [SHMB_OP_DELETE] = op_delete,
    [SHMB_OP_LIST] = op_list,       [SHMB_OP_STAT] = op_stat,
    [SHMB_OP_STATS] = op_stats,
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
    if (x.reply == NULL && out->has_grant) { /* a reply we cannot send */
        plat_grant_revoke(c->peer, &out->grant);
        out->has_grant = 0;
    }
    return x.reply;
error:
    shmb_log_event(c->b->log, SHMB_LOG_INFO, SHMB_EV_REFUSED,
                   "conn=%llu pid=%u op=%s code=%s reason=\"%s\"",
                   (unsigned long long)c->id, (unsigned)c->ident.pid,
                   parsed ? shmb_op_name(req.op) : "?", shmb_err_name(rc),
                   x.msg);
    return shmb_reply_error(req.has_id, req.id, rc, x.msg);
}

char *broker_reply_refused(int code, const char *message)
{
    return shmb_reply_error(0, 0, code, message);
}
