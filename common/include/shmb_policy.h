/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmb_policy.h - who may create, open or delete which region.
 *
 * How rules combine (docs/configuration.md): every rule whose region
 * patterns cover the name and whose "match" covers the caller is
 * considered. A covering deny rule refuses, whatever any allow rule says
 * (deny wins). Otherwise the first covering allow rule that grants enough
 * decides. Otherwise the request is refused (default deny). The verdict's
 * message names the deciding rule, or says what was missing - without
 * naming rules that do not apply to the caller.
 */
#ifndef SHMB_POLICY_H
#define SHMB_POLICY_H

#include "shmb_config.h"
#include "shmb_identity.h"
#include "shmb_proto.h"

typedef struct shmb_policy_req {
    shmb_op op; /* SHMB_OP_CREATE, SHMB_OP_OPEN or SHMB_OP_DELETE */
    const char *name;
    shmb_access access;     /* open */
    uint64_t size;          /* create */
    shmb_lifetime lifetime; /* create */
} shmb_policy_req;

typedef struct shmb_verdict {
    int allowed;
    int denied_by_rule;    /* a deny rule matched (stronger than ownership) */
    const shmb_rule *rule; /* deciding rule, NULL for the default deny */
    char message[SHMB_MSG_MAX];
} shmb_verdict;

void shmb_policy_check(const shmb_config *cfg, const shmb_identity *id,
                       const shmb_policy_req *req, shmb_verdict *v);

/* Whether the caller may read the broker's statistics (the "stats" op).
 * Rules with "stats" whose "match" covers the caller decide, their
 * "regions" aside: a deny rule refuses, else an allow rule allows. When no
 * rule says, the built-in default allows the platform's administrators
 * group (enabled, not deny-only) and the service's own account
 * (cfg->conv; a user SID that cannot grant does not count), and refuses
 * everyone else. v->rule is the deciding rule, NULL for the default. */
void shmb_policy_stats(const shmb_config *cfg, const shmb_identity *id,
                       shmb_verdict *v);

/* Glob match: '*' any run without `sep`, '**' any run, '?' one char but
 * `sep`. Case-insensitive (ASCII) when icase. */
int shmb_glob_match(const char *pattern, const char *text, char sep, int icase);

#endif
