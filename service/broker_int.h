/* SPDX-License-Identifier: MPL-2.0 */
/*
 * broker_int.h - what the broker's own files share, and nobody else sees:
 * the broker and connection structs, holdings, and the calls between
 *   broker.c        state: the broker, its regions, connections, holdings;
 *   broker_quota.c  commit accounting, draining sections, limit checks;
 *   broker_ops.c    one handler per request op, and broker_handle.
 * The server and the platform use broker.h only.
 */
#ifndef SHMB_BROKER_INT_H
#define SHMB_BROKER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "shmb_proto.h"
#include "shmb_registry.h"

/* "user|appcontainer|band": who per-principal quotas and connection limits
 * count against (quota_principal_key). Per-user accounts are keyed by the
 * bare user SID, which has no '|', so the two kinds never collide. */
#define BROKER_KEY_MAX (2 * SHMB_SID_MAX + 16)

#define BROKER_NOT_QUIET UINT64_MAX

/* A connection's grants on one region. */
struct holding {
    broker_region *region;
    uint32_t grants;
};

/* What one principal, or one user SID over all its principals, has
 * created: live regions (persistent ones keep counting after their
 * creator's connection closes) and their commit. */
struct account {
    char key[BROKER_KEY_MAX]; /* principal key, or a bare user SID */
    uint32_t regions;         /* listed regions created */
    uint64_t bytes;           /* all charged commit, draining included */
    uint64_t draining; /* of which: retired regions possibly still mapped */
    struct account *next;
};

/* A principal a region was granted to, and when (the broker's clock). */
struct grantee {
    char key[BROKER_KEY_MAX];
    uint64_t since;
    struct grantee *next;
};

/* The broker's record of a region: the registry's, plus who it was
 * granted to. Every region is made by region_create, so a broker_region*
 * the broker sees is always the head of one of these. */
struct region_ext {
    broker_region base;
    struct grantee *grantees;
};

/* A process that connected, by its identity (pid + creation time, so a
 * reused pid is another process). See docs/security.md, "Round two:
 * principals and limits": while it lives it may hold views of what its
 * principal was granted before it connected. */
struct proc_seen {
    char key[BROKER_KEY_MAX]; /* its principal */
    uint32_t pid;
    uint64_t created;
    uint64_t first; /* broker clock at its first connection */
    uint32_t open_conns;
    struct proc_seen *next;
};

/* A retired region whose section may still be mapped somewhere: its commit
 * stays charged until the section is gone (broker_quota.c, "pinned"). */
struct drain {
    plat_section *section;
    uint64_t charge;
    /* Broker clock when the section was first seen with no handle and no
     * grantee alive (BROKER_NOT_QUIET until then): nobody can be handed it
     * after that, so processes that connect later do not pin it. */
    uint64_t quiet_at;
    char owner_key[BROKER_KEY_MAX];
    char owner_user[SHMB_SID_MAX];
    char name[SHMB_NAME_MAX + 1];
    struct grantee *grantees; /* owned */
    uint32_t swept;           /* the sweep pass that last looked at it */
    struct drain *next;
};

struct broker {
    shmb_config cfg; /* the broker's own copy; broker_reconfigure patches it */
    const shmb_logger *log;
    shmb_registry reg;
    broker_conn *conns;
    size_t nconns;
    uint64_t next_conn_id;
    uint64_t clock;     /* orders connections and grants */
    uint64_t committed; /* all charged commit, draining included */
    uint64_t draining;  /* of which: retired regions possibly still mapped */
    struct account *accounts;
    struct drain *drains;
    size_t ndrains;
    /* broker_sweep_step: the pass under way (drains with `swept` equal to
     * it were looked at in this pass) and whether one is under way. */
    uint32_t sweep_pass;
    int sweeping;
    struct proc_seen *procs;
    broker_process_alive_fn process_alive; /* NULL: not known */
    uint64_t rules_gen; /* bumped by each reload: cached verdicts go stale */
    broker_server_counts_fn server_counts; /* NULL: no server */
    void *server_ctx;
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
    uint32_t created;         /* live regions this connection created */
    uint64_t committed;       /* their charge */
    char key[BROKER_KEY_MAX]; /* quota_principal_key of ident */
    struct proc_seen *proc;   /* its process */
    struct seen_cache *seen;  /* list's policy verdicts (broker_ops.c) */
};

/* ---- regions and holdings (broker.c) ---------------------------------- */

/* What to create: config regions have no owner and may have a Global\
 * name; dynamic regions belong to the connection that asked. */
typedef struct region_spec {
    const char *name;
    uint64_t size;
    shmb_lifetime lifetime;
    uint32_t doorbells;      /* 0..SHMB_DOORBELLS_MAX */
    const char *global_name; /* NULL: unnamed (docs/security.md rule 1) */
    const char *sddl;        /* for a global_name only */
    broker_conn *owner;      /* NULL for config regions */
} region_spec;

/* The one region constructor: creates the section, fills the region, lists
 * it and charges its commit. The caller has checked the name and the
 * limits. On failure nothing is left behind; returns the error (with the
 * OS error in *syserr for SHMB_E_SYSTEM or SHMB_E_INVALID_ARG). */
int region_create(broker *b, const region_spec *spec, broker_region **out,
                  uint32_t *syserr);
/* Unlists the region and gives up the broker's section; frees the struct
 * once no connection holds it. */
void region_retire(broker *b, broker_region *r, const char *why);

struct holding *holding_find(broker_conn *c, const broker_region *r,
                             size_t *index);
/* Counts one more grant of r to c. SHMB_OK or SHMB_E_NOMEM. */
int holding_add(broker_conn *c, broker_region *r);
/* Drops c's holding at `index` (every grant of it); retires a `client`
 * region nobody holds any more. */
void holding_drop(broker_conn *c, size_t index, const char *why);

/* Frees a region's record (and its grantee list). */
void region_free(broker_region *r);
/* ---- the ops (broker_ops.c) -------------------------------------------- */

/* Frees what the ops keep per connection. */
void ops_conn_free(broker_conn *c);

/* ---- commit accounting (broker_quota.c) ------------------------------- */

/* Per-principal quotas and connection limits count against the principal
 * (user, AppContainer, integrity band); per-user ones against the bare
 * user SID, whatever its containers and bands. */
void quota_principal_key(const char *user, const char *ac, uint32_t integrity,
                         char *out, size_t cap);
/* The commit a region of `size` bytes costs. */
uint64_t quota_charge_of(uint64_t size);
/* The account of `key`; created when `create` (NULL if out of memory). */
struct account *quota_account(broker *b, const char *key, int create);
/* Forgets an account with nothing charged (NULL is ignored). */
void quota_drop_if_empty(broker *b, struct account *a);
/* Whether c may create one more region costing `charge`: SHMB_OK, or
 * SHMB_E_LIMIT_REACHED / SHMB_E_QUOTA_EXCEEDED with msg naming the limit.
 * Sweeps the draining sections first when that could change the answer. */
int quota_check_create(broker_conn *c, uint64_t charge, char *msg, size_t cap);
/* Whether `used` plus `charge` goes over `limit`; never wraps, so a
 * reload that lowers a limit below what is charged refuses. */
int quota_over(uint64_t used, uint64_t charge, uint64_t limit);

/* The part of a per-user limit this identity may use: all of it for the
 * user's medium-and-above programs, three quarters for its sandboxes
 * (low, untrusted, AppContainer), so they can never lock the user's own
 * programs out (docs/security.md, "Round two: principals and limits"). */
uint64_t quota_user_share(const shmb_identity *id, uint64_t limit);
int quota_is_sandbox(const shmb_identity *id);
/* Charges a new region's commit to the total and, for a dynamic region, to
 * its owner connection, principal `p` and user `u`. */
void quota_charge(broker *b, const broker_region *r, broker_conn *owner,
                  struct account *p, struct account *u);
/* Notes that r was granted to c's principal (for the drain rule). SHMB_OK
 * or SHMB_E_NOMEM. */
int quota_note_grant(broker_conn *c, broker_region *r);
/* Gives up a retiring region's section: closes it and returns the commit,
 * or, while it may still be mapped, keeps it charged as draining (then 1).
 * The owner connection stops paying either way. */
int quota_release(broker *b, broker_region *r);
/* Connections come and go: the process ledger the drain rule reads. */
int quota_proc_open(broker_conn *c);
void quota_proc_close(broker_conn *c);
/* Service stop: closes draining sections, frees the accounts and ledger. */
void quota_free(broker *b);

#endif
