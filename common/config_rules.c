/* SPDX-License-Identifier: MPL-2.0 */
/*
 * config_rules.c - the "rules" section of the configuration: who a rule
 * matches (users, groups, integrity, AppContainers, sessions, images), which
 * regions it covers, and what it allows or denies. How rules combine is
 * the policy's business (policy.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_read.h"

/* ---- integrity levels ------------------------------------------------ */

static const char *const il_names[SHMB_ILV_COUNT_] = {
    "untrusted", "low", "medium", "high", "system",
};

const char *shmb_il_level_name(shmb_il_level l)
{
    return (unsigned)l < SHMB_ILV_COUNT_ ? il_names[l] : "unknown";
}

shmb_il_level shmb_il_level_of(uint32_t rid)
{
    if (rid >= 0x4000u)
        return SHMB_ILV_SYSTEM;
    if (rid >= 0x3000u)
        return SHMB_ILV_HIGH;
    if (rid >= 0x2000u)
        return SHMB_ILV_MEDIUM;
    if (rid >= 0x1000u)
        return SHMB_ILV_LOW;
    return SHMB_ILV_UNTRUSTED;
}

/* ---- who: "match" ----------------------------------------------------- */

static int parse_integrity(cfgp *p, const cJSON *m, shmb_rule *r)
{
    shmb_strlist l = {NULL, 0};
    size_t i, k, mark;
    int rc = cfg_get_strlist(p, m, "integrity", cfg_check_word, &l);
    for (i = 0; rc == SHMB_OK && i < l.n; i++) {
        for (k = 0; k < SHMB_ILV_COUNT_; k++) {
            if (strcmp(l.v[i], il_names[k]) == 0)
                break;
        }
        if (k == SHMB_ILV_COUNT_) {
            mark = cfg_path_key(p, "integrity");
            cfg_path_index(p, i);
            rc = cfg_bad(p,
                         "unknown integrity level \"%.32s\" (expected "
                         "untrusted, low, medium, high or system)",
                         l.v[i]);
            cfg_path_restore(p, mark);
        } else {
            r->integrity_mask |= 1u << k;
        }
    }
    cfg_strlist_free(&l);
    return rc;
}

static int parse_appcontainer(cfgp *p, const cJSON *m, shmb_rule *r)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "appcontainer");
    size_t mark;
    int rc = SHMB_OK;
    if (v == NULL)
        return SHMB_OK;
    if (cJSON_IsString(v) && strcmp(v->valuestring, "any") == 0) {
        r->appcontainer = SHMB_AC_ANY;
    } else if (cJSON_IsString(v) && strcmp(v->valuestring, "none") == 0) {
        r->appcontainer = SHMB_AC_NONE;
    } else if (cJSON_IsString(v) && strcmp(v->valuestring, "required") == 0) {
        r->appcontainer = SHMB_AC_REQUIRED;
    } else if (cJSON_IsArray(v)) {
        r->appcontainer = SHMB_AC_LIST;
        rc = cfg_get_strlist(p, m, "appcontainer", cfg_check_sid,
                             &r->appcontainers);
    } else {
        mark = cfg_path_key(p, "appcontainer");
        rc =
            cfg_bad(p, "must be \"any\", \"none\", \"required\" or an array of "
                       "AppContainer SIDs");
        cfg_path_restore(p, mark);
    }
    return rc;
}

static int parse_sessions(cfgp *p, const cJSON *m, shmb_rule *r)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "session");
    const cJSON *e;
    size_t mark, n, i = 0;
    int rc = SHMB_OK;
    if (v == NULL)
        return SHMB_OK;
    mark = cfg_path_key(p, "session");
    n = cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 0;
    if (!cJSON_IsArray(v) || n == 0 || n > MAX_LIST) {
        rc = cfg_bad(p, "must be an array of 1 to %d session ids", MAX_LIST);
        goto done;
    }
    r->sessions = calloc(n, sizeof(uint32_t));
    if (r->sessions == NULL) {
        rc = SHMB_E_NOMEM;
        goto done;
    }
    cJSON_ArrayForEach(e, v)
    {
        double d = cJSON_IsNumber(e) ? e->valuedouble : -1;
        if (!(d >= 0 && d <= 65535) || d != floor(d)) {
            cfg_path_index(p, i);
            rc = cfg_bad(p, "must be a session id from 0 to 65535");
            goto done;
        }
        r->sessions[i++] = (uint32_t)d;
    }
    r->nsessions = n;
done:
    cfg_path_restore(p, mark);
    return rc;
}

static int parse_match(cfgp *p, const cJSON *m, shmb_rule *r)
{
    static const char *const keys[] = {
        "user", "group", "integrity", "appcontainer", "session", "image", NULL};
    size_t mark = cfg_path_key(p, "match");
    int rc = cJSON_IsObject(m) ? cfg_check_keys(p, m, keys)
                               : cfg_bad(p, "must be an object");
    if (rc == SHMB_OK)
        rc = cfg_get_strlist(p, m, "user", cfg_check_sid, &r->users);
    if (rc == SHMB_OK)
        rc = cfg_get_strlist(p, m, "group", cfg_check_sid, &r->groups);
    if (rc == SHMB_OK)
        rc = parse_integrity(p, m, r);
    if (rc == SHMB_OK)
        rc = parse_appcontainer(p, m, r);
    if (rc == SHMB_OK)
        rc = parse_sessions(p, m, r);
    if (rc == SHMB_OK)
        rc = cfg_get_strlist(p, m, "image", cfg_check_image, &r->images);
    cfg_path_restore(p, mark);
    return rc;
}

/* ---- what: "create", "open", "delete" -------------------------------- */

static int parse_lifetimes(cfgp *p, const cJSON *v, shmb_rule *r)
{
    const cJSON *e;
    size_t i = 0, mark = cfg_path_key(p, "lifetimes");
    int rc = SHMB_OK, l;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
        rc = cfg_bad(p, "must be a non-empty array of \"client\" / "
                        "\"persistent\"");
        goto done;
    }
    cJSON_ArrayForEach(e, v)
    {
        l = cJSON_IsString(e) ? shmb_lifetime_from_name(e->valuestring) : -1;
        if (l < 0) {
            cfg_path_index(p, i);
            rc = cfg_bad(p, "must be \"client\" or \"persistent\"");
            goto done;
        }
        r->create_lifetimes |= 1u << l;
        i++;
    }
done:
    cfg_path_restore(p, mark);
    return rc;
}

static int parse_create(cfgp *p, const cJSON *v, shmb_rule *r,
                        const shmb_limits *l)
{
    static const char *const keys[] = {"max_size", "lifetimes", NULL};
    const cJSON *lt;
    size_t mark;
    int rc = SHMB_OK;

    if (cJSON_IsBool(v)) {
        r->create = cJSON_IsTrue(v);
        r->create_lifetimes =
            (1u << SHMB_LIFETIME_CLIENT) | (1u << SHMB_LIFETIME_PERSISTENT);
        return SHMB_OK;
    }
    mark = cfg_path_key(p, "create");
    if (r->deny) {
        rc = cfg_bad(p, "a deny rule takes true or false here");
        goto done;
    }
    if (!cJSON_IsObject(v)) {
        rc = cfg_bad(p, "must be true, false or {\"max_size\", \"lifetimes\"}");
        goto done;
    }
    rc = cfg_check_keys(p, v, keys);
    r->create = 1;
    r->create_lifetimes =
        (1u << SHMB_LIFETIME_CLIENT) | (1u << SHMB_LIFETIME_PERSISTENT);
    if (rc == SHMB_OK)
        rc = cfg_get_u64(p, v, "max_size", 1, l->max_region_size,
                         &r->create_max_size);
    lt = cJSON_GetObjectItemCaseSensitive(v, "lifetimes");
    if (rc == SHMB_OK && lt != NULL) {
        r->create_lifetimes = 0;
        rc = parse_lifetimes(p, lt, r);
    }
done:
    cfg_path_restore(p, mark);
    return rc;
}

/* The rule names "stats" and none of "create", "open", "delete". */
static int only_stats(const cJSON *v)
{
    return cJSON_GetObjectItemCaseSensitive(v, "stats") != NULL &&
           cJSON_GetObjectItemCaseSensitive(v, "create") == NULL &&
           cJSON_GetObjectItemCaseSensitive(v, "open") == NULL &&
           cJSON_GetObjectItemCaseSensitive(v, "delete") == NULL;
}

int cfg_parse_rule(cfgp *p, const cJSON *v, shmb_rule *r, const shmb_limits *l)
{
    static const char *const keys[] = {"name",    "effect", "match",
                                       "regions", "create", "open",
                                       "delete",  "stats",  NULL};
    const cJSON *f;
    size_t mark;
    int rc, a;

    if (!cJSON_IsObject(v))
        return cfg_bad(p, "must be an object");
    rc = cfg_check_keys(p, v, keys);
    if (rc == SHMB_OK)
        rc = cfg_get_str(p, v, "name", 1, r->name, sizeof(r->name));
    if (rc != SHMB_OK)
        return rc;
    f = cJSON_GetObjectItemCaseSensitive(v, "effect");
    if (f != NULL) {
        mark = cfg_path_key(p, "effect");
        if (cJSON_IsString(f) && strcmp(f->valuestring, "deny") == 0)
            r->deny = 1;
        else if (!cJSON_IsString(f) || strcmp(f->valuestring, "allow") != 0)
            rc = cfg_bad(p, "must be \"allow\" or \"deny\"");
        cfg_path_restore(p, mark);
    }
    f = cJSON_GetObjectItemCaseSensitive(v, "match");
    if (rc == SHMB_OK && f != NULL)
        rc = parse_match(p, f, r);
    /* A rule about "stats" alone is not about regions: it may leave them
     * out. Any other rule must say which names it covers. */
    if (rc == SHMB_OK &&
        cJSON_GetObjectItemCaseSensitive(v, "regions") == NULL &&
        !only_stats(v))
        rc =
            cfg_bad(p, "missing key \"regions\" (the name patterns it covers)");
    if (rc == SHMB_OK && cJSON_GetObjectItemCaseSensitive(v, "regions") != NULL)
        rc = cfg_get_strlist(p, v, "regions", cfg_check_pattern, &r->regions);
    f = cJSON_GetObjectItemCaseSensitive(v, "create");
    if (rc == SHMB_OK && f != NULL)
        rc = parse_create(p, f, r, l);
    f = cJSON_GetObjectItemCaseSensitive(v, "open");
    if (rc == SHMB_OK && f != NULL) {
        mark = cfg_path_key(p, "open");
        a = cJSON_IsString(f) ? shmb_access_from_name(f->valuestring) : -1;
        if (a < 0)
            rc = cfg_bad(p, "must be \"ro\" or \"rw\"");
        else
            r->open = (shmb_access)a;
        cfg_path_restore(p, mark);
    }
    f = cJSON_GetObjectItemCaseSensitive(v, "delete");
    if (rc == SHMB_OK && f != NULL) {
        mark = cfg_path_key(p, "delete");
        if (!cJSON_IsBool(f))
            rc = cfg_bad(p, "must be true or false");
        else
            r->del = cJSON_IsTrue(f);
        cfg_path_restore(p, mark);
    }
    f = cJSON_GetObjectItemCaseSensitive(v, "stats");
    if (rc == SHMB_OK && f != NULL) {
        mark = cfg_path_key(p, "stats");
        if (!cJSON_IsBool(f))
            rc = cfg_bad(p, "must be true or false");
        else
            r->stats = cJSON_IsTrue(f);
        cfg_path_restore(p, mark);
    }
    if (rc == SHMB_OK && !r->create && r->open == SHMB_ACCESS_NONE && !r->del &&
        !r->stats)
        rc = cfg_bad(p,
                     "rule \"%s\" grants or denies nothing: give it "
                     "\"create\", \"open\", \"delete\" or \"stats\"",
                     r->name);
    return rc;
}

/* Parses the array under `key` with `fn` into a calloc'd array. */
