/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_config.c - libFuzzer target: arbitrary configuration files through
 * parse, deep copy, policy evaluation and free.
 *
 * Every parsed config is judged for several principals (a medium user with
 * an admin group, the same user at low integrity, an AppContainer, an
 * untrusted process, a restricted token whose user SID is deny-only, and
 * one whose image path is unknown), on fixed names, on each principal's
 * own namespace and on names made from the config's own region patterns,
 * so that the fuzzer reaches the rules it writes. Invariants:
 *   - a failed parse leaves nothing behind;
 *   - the copy decides exactly as the original (same verdict, same rule);
 *   - an allow names an allow rule, a deny by rule is not an allow;
 *   - rw granted implies ro granted; a create allowed at one size is
 *     allowed at any smaller one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmb_config.h"
#include "shmb_policy.h"

#define NIDS 6
#define NAME_CAP 160

static void make_ids(shmb_identity ids[NIDS])
{
    static const uint32_t il[NIDS] = {SHMB_IL_MEDIUM, SHMB_IL_LOW,
                                      SHMB_IL_LOW,    SHMB_IL_UNTRUSTED,
                                      SHMB_IL_MEDIUM, SHMB_IL_HIGH};
    int i;

    memset(ids, 0, NIDS * sizeof(ids[0]));
    for (i = 0; i < NIDS; i++) {
        ids[i].pid = 100u + (uint32_t)i;
        ids[i].session = (uint32_t)(i % 3);
        ids[i].integrity = il[i];
        strcpy(ids[i].user_sid,
               i == 4 ? "S-1-5-21-9-9-9-1002" : "S-1-5-21-1-2-3-1000");
        if (i != 5)
            strcpy(ids[i].image, i == 2 ? "C:\\Program Files\\App\\a.exe"
                                        : "C:\\Apps\\x.exe");
    }
    strcpy(ids[2].appcontainer_sid, "S-1-15-2-1-2-3-4-5-6-7");
    ids[4].user_deny_only = 1;
    if (shmb_identity_add_group(&ids[0], "S-1-5-32-544", 0) != SHMB_OK ||
        shmb_identity_add_group(&ids[1], "S-1-5-32-545", 0) != SHMB_OK ||
        shmb_identity_add_group(&ids[4], "S-1-5-32-544", 1) != SHMB_OK ||
        shmb_identity_add_group(&ids[5], "S-1-5-11", 0) != SHMB_OK)
        abort();
}

/* A name the pattern matches, when one is easy to make: variables
 * expanded for `id`, every wildcard run replaced by "x". */
static int name_from_pattern(const char *pat, const shmb_identity *id,
                             char *out, size_t cap)
{
    char principal[2 * SHMB_SID_MAX];
    size_t o = 0;
    const char *val;

    if (!shmb_principal_text(id, principal, sizeof(principal)))
        principal[0] = '\0';
    while (*pat != '\0') {
        val = NULL;
        if (strncmp(pat, "${user}", 7) == 0) {
            val = id->user_sid;
            pat += 7;
        } else if (strncmp(pat, "${principal}", 12) == 0) {
            val = principal;
            pat += 12;
        } else if (*pat == '*' || *pat == '?') {
            while (*pat == '*' || *pat == '?')
                pat++;
            val = "x";
        }
        if (val != NULL) {
            size_t n = strlen(val);
            if (o + n >= cap)
                return 0;
            memcpy(out + o, val, n);
            o += n;
        } else {
            if (o + 1 >= cap)
                return 0;
            out[o++] = *pat++;
        }
    }
    out[o] = '\0';
    return o > 0;
}

/* Judges one request against the original and the copy. */
static int judge(const shmb_config *cfg, const shmb_config *copy,
                 const shmb_identity *id, const shmb_policy_req *q)
{
    shmb_verdict a, b;

    shmb_policy_check(cfg, id, q, &a);
    shmb_policy_check(copy, id, q, &b);
    if (a.allowed != b.allowed || a.denied_by_rule != b.denied_by_rule ||
        (a.rule == NULL) != (b.rule == NULL) ||
        (a.rule != NULL && a.rule - cfg->rules != b.rule - copy->rules))
        abort(); /* the copy is not the same policy */
    if (a.rule != NULL &&
        (a.rule < cfg->rules || a.rule >= cfg->rules + cfg->nrules))
        abort();
    if (a.allowed && (a.rule == NULL || a.rule->deny || a.denied_by_rule))
        abort(); /* an allow always names its allow rule */
    if (memchr(a.message, '\0', sizeof(a.message)) == NULL)
        abort();
    return a.allowed;
}

static void judge_name(const shmb_config *cfg, const shmb_config *copy,
                       const shmb_identity *id, const char *name)
{
    shmb_policy_req q;
    int rw, ro, big, small;

    memset(&q, 0, sizeof(q));
    q.name = name;
    q.op = SHMB_OP_OPEN;
    q.access = SHMB_ACCESS_RW;
    rw = judge(cfg, copy, id, &q);
    q.access = SHMB_ACCESS_RO;
    ro = judge(cfg, copy, id, &q);
    if (rw && !ro)
        abort(); /* read-write without read-only */
    q.op = SHMB_OP_CREATE;
    q.access = SHMB_ACCESS_RW;
    q.lifetime = (shmb_lifetime)(name[0] & 1);
    q.size = cfg->limits.max_region_size;
    big = judge(cfg, copy, id, &q);
    q.size = 1;
    small = judge(cfg, copy, id, &q);
    if (big && !small)
        abort(); /* a bigger create allowed than a smaller one */
    q.op = SHMB_OP_DELETE;
    judge(cfg, copy, id, &q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"a", "video/x", "users/S-1-5-21-1-1/x",
                                        "a/b/c/d", "x.y"};
    shmb_config cfg, copy;
    char err[SHMB_CONFIG_ERR_MAX];
    shmb_identity ids[NIDS];
    shmb_verdict v, w;
    char name[NAME_CAP], principal[2 * SHMB_SID_MAX];
    size_t i, r, k;
    int j;

    if (shmb_config_parse((const char *)data, size, "fuzz.json",
                          &shmb_conventions_windows, &cfg, err,
                          sizeof(err)) != SHMB_OK) {
        if (cfg.rules != NULL || cfg.regions != NULL)
            abort(); /* a failed parse must leave nothing behind */
        return 0;
    }
    if (shmb_config_copy(&copy, &cfg) != SHMB_OK)
        abort();
    make_ids(ids);
    for (j = 0; j < NIDS; j++) {
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            judge_name(&cfg, &copy, &ids[j], names[i]);
        if (shmb_principal_text(&ids[j], principal, sizeof(principal))) {
            snprintf(name, sizeof(name), "users/%s/x", principal);
            judge_name(&cfg, &copy, &ids[j], name);
        }
        /* The config's own patterns; a few per rule keeps a run cheap. */
        for (r = 0; r < cfg.nrules; r++) {
            for (k = 0; k < cfg.rules[r].regions.n && k < 4; k++) {
                if (name_from_pattern(cfg.rules[r].regions.v[k], &ids[j], name,
                                      sizeof(name)))
                    judge_name(&cfg, &copy, &ids[j], name);
            }
        }
        shmb_policy_stats(&cfg, &ids[j], &v);
        shmb_policy_stats(&copy, &ids[j], &w);
        /* An allow without a rule is the default (administrators). */
        if (v.allowed != w.allowed || (v.rule == NULL) != (w.rule == NULL) ||
            (v.rule != NULL && v.rule->deny == v.allowed))
            abort();
    }
    for (j = 0; j < NIDS; j++)
        shmb_identity_free(&ids[j]);
    shmb_config_free(&copy);
    shmb_config_free(&cfg);
    return 0;
}
