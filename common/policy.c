/* SPDX-License-Identifier: MPL-2.0 */
/*
 * policy.c - evaluates the configured rules for one request (see
 * shmb_policy.h for how rules combine).
 *
 * Denials explain themselves - the top complaint about shared memory on
 * Windows is an opaque "access denied" - but only with what the caller may
 * know: the rules that apply to *it*, its own identity, and the limit hit.
 */
#include <stdio.h>
#include <string.h>

#include "shmb_policy.h"

#define GLOB_TEXT_MAX 1024

/* ---- glob ------------------------------------------------------------- */

static int ch_eq(char a, char b, int icase)
{
    if (icase) {
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
    }
    return a == b;
}

/* Dynamic programming over (pattern position, text position): linear in
 * pattern length times text length whatever the stars, so a client-chosen
 * name cannot make matching blow up. dp[j]: the pattern so far matches the
 * first j characters of text. */
int shmb_glob_match(const char *pattern, const char *text, char sep, int icase)
{
    unsigned char dp[GLOB_TEXT_MAX + 1], nx[GLOB_TEXT_MAX + 1];
    size_t n = strlen(text), j;
    const char *p = pattern;

    if (n > GLOB_TEXT_MAX)
        return 0;
    memset(dp, 0, n + 1);
    dp[0] = 1;
    while (*p) {
        if (p[0] == '*' && p[1] == '*') {
            nx[0] = dp[0];
            for (j = 1; j <= n; j++)
                nx[j] = dp[j] || nx[j - 1];
            p += 2;
        } else if (p[0] == '*') {
            nx[0] = dp[0];
            for (j = 1; j <= n; j++)
                nx[j] = dp[j] || (nx[j - 1] && text[j - 1] != sep);
            p++;
        } else {
            nx[0] = 0;
            for (j = 1; j <= n; j++)
                nx[j] = dp[j - 1] &&
                        (p[0] == '?' ? text[j - 1] != sep
                                     : ch_eq(p[0], text[j - 1], icase));
            p++;
        }
        memcpy(dp, nx, n + 1);
    }
    return dp[n];
}

/* ---- matching a rule -------------------------------------------------- */

/* Expands "${user}" to the caller's user SID and "${principal}" to its
 * principal's text (shmb_principal_text). Returns 0 if the result does not
 * fit or the caller has no such text (an AppContainer has no
 * "${principal}"; a user SID that cannot grant has neither). */
static int expand_vars(const char *pattern, const shmb_identity *id,
                       int for_deny, char *out, size_t cap)
{
    char principal[2 * SHMB_SID_MAX];
    int have_principal = shmb_principal_text(id, principal, sizeof(principal));
    size_t o = 0;
    while (*pattern) {
        const char *val = NULL;
        if (strncmp(pattern, "${user}", 7) == 0) {
            val = id->user_sid;
            pattern += 7;
        } else if (strncmp(pattern, "${principal}", 12) == 0) {
            if (!have_principal)
                return 0;
            val = principal;
            pattern += 12;
        }
        if (val != NULL) {
            size_t vl = strlen(val);
            /* A user SID that cannot grant (deny-only, or left out by a
             * restricted token) has no namespace of its own to be
             * allowed. */
            if (!for_deny && id->user_deny_only)
                return 0;
            if (o + vl >= cap)
                return 0;
            memcpy(out + o, val, vl);
            o += vl;
        } else {
            if (o + 1 >= cap)
                return 0;
            out[o++] = *pattern++;
        }
    }
    out[o] = '\0';
    return 1;
}

static int name_covered(const shmb_rule *r, const shmb_identity *id,
                        const char *name)
{
    char pat[GLOB_TEXT_MAX];
    size_t i;
    for (i = 0; i < r->regions.n; i++) {
        if (!expand_vars(r->regions.v[i], id, r->deny, pat, sizeof(pat))) {
            if (r->deny)
                return 1; /* cannot tell: a deny rule fails closed */
            continue;
        }
        if (shmb_glob_match(pat, name, '/', 0))
            return 1;
    }
    return 0;
}

static int in_list(const shmb_strlist *l, const char *s)
{
    size_t i;
    for (i = 0; i < l->n; i++) {
        if (strcmp(l->v[i], s) == 0)
            return 1;
    }
    return 0;
}

static int has_group(const shmb_rule *r, const shmb_identity *id, int deny)
{
    size_t i;
    for (i = 0; i < id->ngroups; i++) {
        if (in_list(&r->groups, id->groups[i]))
            return 1;
    }
    /* A deny-only group still counts against the caller (as in a Windows
     * access check); it never counts for an allow. */
    for (i = 0; deny && i < id->ndeny_groups; i++) {
        if (in_list(&r->groups, id->deny_groups[i]))
            return 1;
    }
    return 0;
}

static int appcontainer_matches(const shmb_rule *r, const shmb_identity *id)
{
    int in_ac = id->appcontainer_sid[0] != '\0';
    switch (r->appcontainer) {
    case SHMB_AC_NONE:
        return !in_ac;
    case SHMB_AC_REQUIRED:
        return in_ac;
    case SHMB_AC_LIST:
        return in_ac && in_list(&r->appcontainers, id->appcontainer_sid);
    default:
        return 1;
    }
}

static int principal_matches(const shmb_config *cfg, const shmb_rule *r,
                             const shmb_identity *id)
{
    size_t i;
    int ok;
    if (r->users.n > 0 &&
        (!in_list(&r->users, id->user_sid) || (!r->deny && id->user_deny_only)))
        return 0;
    if (r->groups.n > 0 && !has_group(r, id, r->deny))
        return 0;
    if (r->integrity_mask != 0 &&
        !(r->integrity_mask & (1u << shmb_il_level_of(id->integrity))))
        return 0;
    if (!appcontainer_matches(r, id))
        return 0;
    if (r->nsessions > 0) {
        for (ok = 0, i = 0; i < r->nsessions && !ok; i++)
            ok = r->sessions[i] == id->session;
        if (!ok)
            return 0;
    }
    if (r->images.n > 0) {
        /* An image path the kernel could not give us matches every deny
         * rule and no allow rule: unknown must never be an escape. Nor
         * may a config without conventions (how paths compare). */
        if (id->image[0] == '\0' || cfg->conv == NULL)
            return r->deny;
        for (ok = 0, i = 0; i < r->images.n && !ok; i++)
            ok = shmb_glob_match(r->images.v[i], id->image,
                                 cfg->conv->image_sep, cfg->conv->image_icase);
        if (!ok)
            return 0;
    }
    return 1;
}

/* ---- what a rule covers ---------------------------------------------- */

static int deny_covers(const shmb_rule *r, const shmb_policy_req *q)
{
    switch (q->op) {
    case SHMB_OP_CREATE:
        return r->create;
    case SHMB_OP_OPEN:
        /* deny "ro" refuses every open; deny "rw" refuses write access. */
        return r->open == SHMB_ACCESS_RO ||
               (r->open == SHMB_ACCESS_RW && q->access == SHMB_ACCESS_RW);
    case SHMB_OP_DELETE:
        return r->del;
    default:
        return 0;
    }
}

/* Returns 1 if the allow rule grants the request; else 0 and, if the rule
 * grants part of it, a hint saying what it lacks. */
static int allow_grants(const shmb_config *cfg, const shmb_rule *r,
                        const shmb_policy_req *q, char *hint, size_t cap)
{
    uint64_t max;
    switch (q->op) {
    case SHMB_OP_CREATE:
        if (!r->create)
            return 0;
        max = r->create_max_size ? r->create_max_size
                                 : cfg->limits.max_region_size;
        if (q->size > max) {
            snprintf(hint, cap, "rule '%s' allows creating at most %llu bytes",
                     r->name, (unsigned long long)max);
            return 0;
        }
        if (!(r->create_lifetimes & (1u << q->lifetime))) {
            snprintf(hint, cap, "rule '%s' does not allow lifetime '%s'",
                     r->name, shmb_lifetime_name(q->lifetime));
            return 0;
        }
        return 1;
    case SHMB_OP_OPEN:
        if (r->open == SHMB_ACCESS_RO && q->access == SHMB_ACCESS_RW) {
            snprintf(hint, cap, "rule '%s' grants ro only", r->name);
            return 0;
        }
        return r->open != SHMB_ACCESS_NONE;
    case SHMB_OP_DELETE:
        return r->del;
    default:
        return 0;
    }
}

static void describe_request(const shmb_policy_req *q, char *out, size_t cap)
{
    switch (q->op) {
    case SHMB_OP_CREATE:
        snprintf(out, cap, "create of '%s' (%llu bytes, %s)", q->name,
                 (unsigned long long)q->size, shmb_lifetime_name(q->lifetime));
        break;
    case SHMB_OP_OPEN:
        snprintf(out, cap, "open %s of '%s'", shmb_access_name(q->access),
                 q->name);
        break;
    default:
        snprintf(out, cap, "delete of '%s'", q->name);
        break;
    }
}

void shmb_policy_check(const shmb_config *cfg, const shmb_identity *id,
                       const shmb_policy_req *q, shmb_verdict *v)
{
    const shmb_rule *allow = NULL;
    char what[SHMB_NAME_MAX + 64], hint[160] = "";
    size_t i;

    memset(v, 0, sizeof(*v));
    describe_request(q, what, sizeof(what));
    for (i = 0; i < cfg->nrules; i++) {
        const shmb_rule *r = &cfg->rules[i];
        if (!name_covered(r, id, q->name) || !principal_matches(cfg, r, id))
            continue;
        if (r->deny) {
            if (deny_covers(r, q)) {
                v->denied_by_rule = 1;
                v->rule = r;
                snprintf(v->message, sizeof(v->message),
                         "%s is denied by rule '%s'", what, r->name);
                return;
            }
        } else if (allow == NULL) {
            char lack[sizeof(hint)] = "";
            if (allow_grants(cfg, r, q, lack, sizeof(lack)))
                allow = r;
            else if (hint[0] == '\0')
                memcpy(hint, lack, sizeof(hint)); /* first partial rule */
        }
    }
    if (allow != NULL) {
        v->allowed = 1;
        v->rule = allow;
        snprintf(v->message, sizeof(v->message), "%s allowed by rule '%s'",
                 what, allow->name);
        return;
    }
    if (hint[0] != '\0') {
        snprintf(v->message, sizeof(v->message), "%s is not allowed: %s", what,
                 hint);
        return;
    }
    snprintf(v->message, sizeof(v->message),
             "%.180s is not allowed: no rule covers this name for you (user "
             "%.80s, integrity %s, session %u, %s%.60s); ask for a rule "
             "whose \"regions\" match it and whose \"match\" includes you",
             what, id->user_sid,
             shmb_il_level_name(shmb_il_level_of(id->integrity)),
             (unsigned)id->session,
             id->appcontainer_sid[0] ? "AppContainer " : "no AppContainer",
             id->appcontainer_sid);
}

/* ---- the broker's statistics ----------------------------------------- */

static int stats_by_default(const shmb_config *cfg, const shmb_identity *id)
{
    size_t i;
    const shmb_conventions *conv = cfg->conv;
    if (conv == NULL)
        return 0;
    /* A sandbox never reads other principals' figures by default, even one
     * made from an administrator's token (a low-integrity process keeps
     * Administrators enabled). */
    if (id->appcontainer_sid[0] != '\0' ||
        shmb_band_of(id->integrity) != SHMB_BAND_MEDIUM_PLUS)
        return 0;
    if (conv->service_account != NULL && !id->user_deny_only &&
        strcmp(id->user_sid, conv->service_account) == 0)
        return 1;
    /* Enabled groups only: a restricted token's deny-only Administrators
     * is not an administrator. */
    for (i = 0; conv->admins_group != NULL && i < id->ngroups; i++) {
        if (strcmp(id->groups[i], conv->admins_group) == 0)
            return 1;
    }
    return 0;
}

void shmb_policy_stats(const shmb_config *cfg, const shmb_identity *id,
                       shmb_verdict *v)
{
    const shmb_rule *allow = NULL;
    size_t i;

    memset(v, 0, sizeof(*v));
    for (i = 0; i < cfg->nrules; i++) {
        const shmb_rule *r = &cfg->rules[i];
        if (!r->stats || !principal_matches(cfg, r, id))
            continue;
        if (r->deny) {
            v->denied_by_rule = 1;
            v->rule = r;
            snprintf(v->message, sizeof(v->message),
                     "stats is denied by rule '%s'", r->name);
            return;
        }
        if (allow == NULL)
            allow = r;
    }
    if (allow != NULL) {
        v->allowed = 1;
        v->rule = allow;
        snprintf(v->message, sizeof(v->message), "stats allowed by rule '%s'",
                 allow->name);
        return;
    }
    if (stats_by_default(cfg, id)) {
        v->allowed = 1;
        snprintf(v->message, sizeof(v->message),
                 "stats allowed by default (administrator or the service "
                 "account)");
        return;
    }
    snprintf(
        v->message, sizeof(v->message),
        "stats is not allowed: by default only administrators "
        "(%.40s, enabled) and the service account (%.40s), outside any "
        "sandbox, may read them, and no rule with \"stats\" allows you "
        "(user %.80s)",
        cfg->conv && cfg->conv->admins_group ? cfg->conv->admins_group : "-",
        cfg->conv && cfg->conv->service_account ? cfg->conv->service_account
                                                : "-",
        id->user_sid);
}
