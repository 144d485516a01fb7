/* SPDX-License-Identifier: MPL-2.0 */
/*
 * config.c - the configuration (shmb_config.h): defaults, copy and free,
 * and the parse of a whole file - the text, then "pipe", "limits" and
 * "regions" here, "rules" in config_rules.c, every value through the
 * readers of config_read.c.
 *
 * The file is policy: a typo must not silently widen or narrow access. So
 * every key is known or rejected, every value is type- and range-checked,
 * and an error names the file, the JSON path and the reason, e.g.
 *   config.json: $.rules[2].match.integrity[0]: unknown integrity level
 *   "mediun" (expected untrusted, low, medium, high or system)
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_read.h"
#include "shmb_frame.h"
#include "shmb_json.h"
#include "shmb_proto.h"

#define MAX_RULES 1024
#define MAX_STATIC_REGIONS 4096

/* ---- string lists ----------------------------------------------------- */

static int strlist_copy(shmb_strlist *dst, const shmb_strlist *src)
{
    size_t i;
    dst->n = 0;
    dst->v = NULL;
    if (src->n == 0)
        return 0;
    dst->v = calloc(src->n, sizeof(char *));
    if (dst->v == NULL)
        return -1;
    for (i = 0; i < src->n; i++) {
        dst->v[i] = cfg_str_dup(src->v[i]);
        if (dst->v[i] == NULL)
            return -1;
        dst->n++;
    }
    return 0;
}

/* ---- limits: one row per key ------------------------------------------ */

/* `max` 0 stands for the conventions' connection cap, known only when a
 * file is parsed. */
#define CAP_CLIENTS 0
#define UNLIMITED ((uint64_t)1 << 50) /* 1 PiB: "unlimited enough" */
#define GIB ((uint64_t)1 << 30)
#define MIB ((uint64_t)1 << 20)

typedef struct limit_row {
    const char *key; /* also the field's name */
    size_t offset;   /* in shmb_limits */
    size_t size;     /* of the field: uint32_t or uint64_t */
    uint64_t min, max, def;
    /* A sub-limit left out of a file takes this row's value (an earlier
     * row), so it bites only where a file sets it. NULL: `def`. */
    const char *def_from;
} limit_row;

#define LIMIT(field, min, max, def)                                            \
    {                                                                          \
#field, offsetof(shmb_limits, field),                                  \
            sizeof(((shmb_limits *)0)->field), (min), (max), (def), NULL       \
    }
/* A per-principal sub-limit: defaults to its per-user limit. */
#define SUBLIMIT(field, min, max, def, of)                                     \
    {                                                                          \
#field, offsetof(shmb_limits, field),                                  \
            sizeof(((shmb_limits *)0)->field), (min), (max), (def), #of        \
    }

/* In the order the keys are checked (and documented). */
static const limit_row limit_rows[] = {
    LIMIT(max_frame, 1024, SHMB_FRAME_LIMIT_CEILING, SHMB_FRAME_LIMIT_DEFAULT),
    LIMIT(max_clients, 1, CAP_CLIENTS, 256),
    LIMIT(clients_per_user, 1, CAP_CLIENTS, 64),
    SUBLIMIT(clients_per_principal, 1, CAP_CLIENTS, 64, clients_per_user),
    LIMIT(hello_timeout_ms, 100, 600000, 5000),
    LIMIT(frame_timeout_ms, 100, 600000, 10000),
    LIMIT(write_timeout_ms, 100, 600000, 30000),
    LIMIT(max_regions, 1, 100000, 1024),
    LIMIT(max_region_size, 1, UNLIMITED, 1 * GIB),
    LIMIT(regions_per_client, 1, 100000, 64),
    LIMIT(regions_per_user, 1, 100000, 256),
    SUBLIMIT(regions_per_principal, 1, 100000, 256, regions_per_user),
    LIMIT(commit_per_client, 1, UNLIMITED, 1 * GIB),
    LIMIT(commit_per_user, 1, UNLIMITED, 2 * GIB),
    SUBLIMIT(commit_per_principal, 1, UNLIMITED, 2 * GIB, commit_per_user),
    LIMIT(commit_total, 1, UNLIMITED, 4 * GIB),
    LIMIT(log_max_bytes, 65536, UNLIMITED, 16 * MIB),
    LIMIT(log_keep, 1, SHMB_LOG_KEEP_MAX, 5),
};
#define LIMIT_ROWS (sizeof(limit_rows) / sizeof(limit_rows[0]))

static uint64_t limit_get(const shmb_limits *l, const limit_row *r)
{
    const char *at = (const char *)l + r->offset;
    uint64_t v64;
    uint32_t v32;
    if (r->size == sizeof(uint64_t)) {
        memcpy(&v64, at, sizeof(v64));
        return v64;
    }
    memcpy(&v32, at, sizeof(v32));
    return v32;
}

/* Only called with values in the row's range, which fits the field. */
static void limit_set(shmb_limits *l, const limit_row *r, uint64_t v)
{
    char *at = (char *)l + r->offset;
    uint32_t v32 = (uint32_t)v;
    if (r->size == sizeof(uint64_t))
        memcpy(at, &v, sizeof(v));
    else
        memcpy(at, &v32, sizeof(v32));
}

static void limits_defaults(shmb_limits *l)
{
    size_t i;
    for (i = 0; i < LIMIT_ROWS; i++)
        limit_set(l, &limit_rows[i], limit_rows[i].def);
}

/* ---- defaults, free, copy -------------------------------------------- */

static void config_base(shmb_config *cfg, const shmb_conventions *conv)
{
    memset(cfg, 0, sizeof(*cfg));
    strcpy(cfg->source, "(defaults)");
    limits_defaults(&cfg->limits);
    cfg->conv = conv;
    if (conv == NULL)
        return;
    snprintf(cfg->pipe_name, sizeof(cfg->pipe_name), "%s", conv->default_pipe);
    snprintf(cfg->pipe_sddl, sizeof(cfg->pipe_sddl), "%s",
             conv->default_pipe_sddl);
}

int shmb_config_defaults(shmb_config *cfg, const shmb_conventions *conv)
{
    shmb_rule *r;
    config_base(cfg, conv);
    if (conv == NULL)
        return SHMB_E_INVALID_ARG;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return SHMB_OK; /* no rule: everything is denied, which is safe */
    r->regions.v = calloc(1, sizeof(char *));
    if (r->regions.v != NULL)
        r->regions.v[0] = cfg_str_dup("users/${principal}/**");
    if (r->regions.v == NULL || r->regions.v[0] == NULL) {
        free(r->regions.v);
        free(r);
        return SHMB_OK;
    }
    r->regions.n = 1;
    strcpy(r->name, "default-user-namespace");
    r->create = 1;
    r->create_lifetimes =
        (1u << SHMB_LIFETIME_CLIENT) | (1u << SHMB_LIFETIME_PERSISTENT);
    r->open = SHMB_ACCESS_RW;
    r->del = 1;
    cfg->rules = r;
    cfg->nrules = 1;
    return SHMB_OK;
}

static void rule_free(shmb_rule *r)
{
    cfg_strlist_free(&r->users);
    cfg_strlist_free(&r->groups);
    cfg_strlist_free(&r->appcontainers);
    cfg_strlist_free(&r->images);
    cfg_strlist_free(&r->regions);
    free(r->sessions);
    r->sessions = NULL;
}

void shmb_config_free(shmb_config *cfg)
{
    size_t i;
    for (i = 0; i < cfg->nrules; i++)
        rule_free(&cfg->rules[i]);
    free(cfg->rules);
    free(cfg->regions);
    cfg->rules = NULL;
    cfg->regions = NULL;
    cfg->nrules = cfg->nregions = 0;
}

int shmb_config_copy(shmb_config *dst, const shmb_config *src)
{
    size_t i;
    *dst = *src;
    dst->rules = NULL;
    dst->regions = NULL;
    dst->nrules = dst->nregions = 0;
    if (src->nregions > 0) {
        dst->regions = malloc(src->nregions * sizeof(*dst->regions));
        if (dst->regions == NULL)
            goto fail;
        memcpy(dst->regions, src->regions,
               src->nregions * sizeof(*dst->regions));
        dst->nregions = src->nregions;
    }
    if (src->nrules > 0) {
        dst->rules = calloc(src->nrules, sizeof(*dst->rules));
        if (dst->rules == NULL)
            goto fail;
        for (i = 0; i < src->nrules; i++) {
            const shmb_rule *s = &src->rules[i];
            shmb_rule *d = &dst->rules[i];
            /* Scalars from s; lists start empty so that a failure half way
             * frees only what this copy owns. */
            *d = *s;
            memset(&d->users, 0, sizeof(d->users));
            memset(&d->groups, 0, sizeof(d->groups));
            memset(&d->appcontainers, 0, sizeof(d->appcontainers));
            memset(&d->images, 0, sizeof(d->images));
            memset(&d->regions, 0, sizeof(d->regions));
            d->sessions = NULL;
            d->nsessions = 0;
            dst->nrules++;
            if (strlist_copy(&d->users, &s->users) ||
                strlist_copy(&d->groups, &s->groups) ||
                strlist_copy(&d->appcontainers, &s->appcontainers) ||
                strlist_copy(&d->images, &s->images) ||
                strlist_copy(&d->regions, &s->regions))
                goto fail;
            if (s->nsessions > 0) {
                d->sessions = malloc(s->nsessions * sizeof(uint32_t));
                if (d->sessions == NULL)
                    goto fail;
                memcpy(d->sessions, s->sessions,
                       s->nsessions * sizeof(uint32_t));
                d->nsessions = s->nsessions;
            }
        }
    }
    return SHMB_OK;
fail:
    shmb_config_free(dst);
    return SHMB_E_NOMEM;
}

/* ---- the text ---------------------------------------------------------- */

/* Reads the file with the strict reader (shmb_json.h); syntax errors name
 * a line, since a path cannot be known in text that is not JSON. */
static int read_json(cfgp *p, const char *text, size_t len, cJSON **root)
{
    shmb_json_error e;
    switch (shmb_json_parse_object(text, len, root, &e)) {
    case SHMB_JSON_OK:
        return SHMB_OK;
    case SHMB_JSON_E_NUL:
        return cfg_bad(p, "file contains a NUL byte");
    case SHMB_JSON_E_CONTROL:
        return cfg_bad(p, "control character, \\u0000 or BOM (line %zu)",
                       e.line);
    case SHMB_JSON_E_NUMBER:
        return cfg_bad(p, "invalid JSON number: %s (line %zu)", e.reason,
                       e.line);
    case SHMB_JSON_E_NOT_OBJECT:
        return cfg_bad(p, "must be a JSON object");
    case SHMB_JSON_E_TRAILING:
        return cfg_bad(p, "text after the JSON object (line %zu)", e.line);
    case SHMB_JSON_E_DUPLICATE:
        snprintf(p->path, sizeof(p->path), "%s", e.path);
        return cfg_bad(p, "key \"%.64s\" appears twice", e.key);
    case SHMB_JSON_E_NOMEM:
        return SHMB_E_NOMEM;
    default:
        return cfg_bad(p, "not valid JSON (line %zu)", e.line);
    }
}

/* ---- sections of the file -------------------------------------------- */

static int parse_pipe(cfgp *p, const cJSON *v, shmb_config *cfg)
{
    static const char *const keys[] = {"name", "sddl", NULL};
    int rc;
    if (!cJSON_IsObject(v))
        return cfg_bad(p, "must be an object");
    rc = cfg_check_keys(p, v, keys);
    if (rc == SHMB_OK)
        rc = cfg_get_str(p, v, "name", 0, cfg->pipe_name,
                         sizeof(cfg->pipe_name));
    if (rc == SHMB_OK)
        rc = cfg_get_str(p, v, "sddl", 0, cfg->pipe_sddl,
                         sizeof(cfg->pipe_sddl));
    if (rc == SHMB_OK && !p->conv->pipe_name_ok(cfg->pipe_name)) {
        size_t mark = cfg_path_key(p, "name");
        rc = cfg_bad(p, "%s", p->conv->pipe_name_rule);
        cfg_path_restore(p, mark);
    }
    return rc;
}

static int parse_limits(cfgp *p, const cJSON *v, shmb_limits *l)
{
    const char *keys[LIMIT_ROWS + 1];
    size_t i;
    int rc;
    if (!cJSON_IsObject(v))
        return cfg_bad(p, "must be an object");
    for (i = 0; i < LIMIT_ROWS; i++)
        keys[i] = limit_rows[i].key;
    keys[LIMIT_ROWS] = NULL;
    rc = cfg_check_keys(p, v, keys);
    for (i = 0; rc == SHMB_OK && i < LIMIT_ROWS; i++) {
        const limit_row *r = &limit_rows[i];
        uint64_t max =
            r->max == CAP_CLIENTS ? p->conv->max_clients_cap : r->max;
        uint64_t x = limit_get(l, r);
        rc = cfg_get_u64(p, v, r->key, r->min, max, &x);
        if (rc == SHMB_OK)
            limit_set(l, r, x);
    }
    for (i = 0; rc == SHMB_OK && i < LIMIT_ROWS; i++) {
        const limit_row *r = &limit_rows[i];
        size_t k;
        if (r->def_from == NULL ||
            cJSON_GetObjectItemCaseSensitive(v, r->key) != NULL)
            continue;
        for (k = 0; k < i; k++) {
            if (strcmp(limit_rows[k].key, r->def_from) == 0)
                limit_set(l, r, limit_get(l, &limit_rows[k]));
        }
    }
    return rc;
}

static int parse_region(cfgp *p, const cJSON *v, shmb_static_region *r,
                        const shmb_limits *l)
{
    static const char *const keys[] = {"name", "size",      "global_name",
                                       "sddl", "doorbells", NULL};
    char msg[SHMB_MSG_MAX];
    uint64_t bells = 0;
    size_t mark;
    int rc;

    if (!cJSON_IsObject(v))
        return cfg_bad(p, "must be an object");
    rc = cfg_check_keys(p, v, keys);
    if (rc == SHMB_OK)
        rc = cfg_get_str(p, v, "name", 1, r->name, sizeof(r->name));
    if (rc == SHMB_OK && shmb_name_validate(r->name, msg, sizeof(msg)) != 0) {
        mark = cfg_path_key(p, "name");
        rc = cfg_bad(p, "%s", msg);
        cfg_path_restore(p, mark);
    }
    if (rc == SHMB_OK && cJSON_GetObjectItemCaseSensitive(v, "size") == NULL)
        rc = cfg_bad(p, "missing key \"size\"");
    if (rc == SHMB_OK)
        rc = cfg_get_u64(p, v, "size", 1, l->max_region_size, &r->size);
    if (rc == SHMB_OK)
        rc = cfg_get_str(p, v, "global_name", 0, r->global_name,
                         sizeof(r->global_name));
    if (rc == SHMB_OK)
        rc = cfg_get_str(p, v, "sddl", 0, r->sddl, sizeof(r->sddl));
    if (rc == SHMB_OK)
        rc = cfg_get_u64(p, v, "doorbells", 0, SHMB_DOORBELLS_MAX, &bells);
    if (rc != SHMB_OK)
        return rc;
    r->doorbells = (uint32_t)bells;
    if (r->global_name[0] != '\0') {
        mark = cfg_path_key(p, "global_name");
        if (!p->conv->global_name_ok(r->global_name))
            rc = cfg_bad(p, "%s", p->conv->global_name_rule);
        else if (r->sddl[0] == '\0')
            rc = cfg_bad(p, "a named region needs \"sddl\" (who may open the "
                            "name, with its mandatory label)");
        cfg_path_restore(p, mark);
    } else if (r->sddl[0] != '\0') {
        mark = cfg_path_key(p, "sddl");
        rc = cfg_bad(p, "only meaningful with \"global_name\"; unnamed regions "
                        "are reachable by handle only");
        cfg_path_restore(p, mark);
    }
    return rc;
}

static int parse_array(cfgp *p, const cJSON *root, const char *key, size_t max,
                       size_t elem, void **out, size_t *count,
                       int (*fn)(cfgp *, const cJSON *, void *,
                                 const shmb_limits *),
                       const shmb_limits *l)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, key);
    const cJSON *e;
    size_t n, i = 0, mark, inner;
    int rc = SHMB_OK;

    if (arr == NULL)
        return SHMB_OK;
    mark = cfg_path_key(p, key);
    n = cJSON_IsArray(arr) ? (size_t)cJSON_GetArraySize(arr) : 0;
    if (!cJSON_IsArray(arr) || n > max) {
        rc = cfg_bad(p, "must be an array of at most %zu entries", max);
        goto done;
    }
    if (n == 0)
        goto done;
    *out = calloc(n, elem);
    if (*out == NULL) {
        rc = SHMB_E_NOMEM;
        goto done;
    }
    cJSON_ArrayForEach(e, arr)
    {
        inner = cfg_path_index(p, i);
        *count = i + 1; /* so that a partial entry is freed */
        rc = fn(p, e, (char *)*out + i * elem, l);
        cfg_path_restore(p, inner);
        if (rc != SHMB_OK)
            goto done;
        i++;
    }
done:
    cfg_path_restore(p, mark);
    return rc;
}

static int region_cb(cfgp *p, const cJSON *v, void *out, const shmb_limits *l)
{
    return parse_region(p, v, out, l);
}

static int rule_cb(cfgp *p, const cJSON *v, void *out, const shmb_limits *l)
{
    return cfg_parse_rule(p, v, out, l);
}

/* Cross-entry checks: unique names, coherent limits. */
static int check_whole(cfgp *p, shmb_config *cfg)
{
    size_t i, k;
    const shmb_limits *l = &cfg->limits;
    for (i = 0; i < cfg->nregions; i++) {
        for (k = i + 1; k < cfg->nregions; k++) {
            if (strcmp(cfg->regions[i].name, cfg->regions[k].name) == 0) {
                snprintf(p->path, sizeof(p->path), "$.regions[%zu].name", k);
                return cfg_bad(p, "region \"%s\" is declared twice",
                               cfg->regions[k].name);
            }
        }
    }
    for (i = 0; i < cfg->nrules; i++) {
        for (k = i + 1; k < cfg->nrules; k++) {
            if (strcmp(cfg->rules[i].name, cfg->rules[k].name) == 0) {
                snprintf(p->path, sizeof(p->path), "$.rules[%zu].name", k);
                return cfg_bad(p,
                               "rule name \"%s\" is used twice (denials name "
                               "rules, so names must be unique)",
                               cfg->rules[k].name);
            }
        }
    }
    strcpy(p->path, "$.limits");
    if (cfg->nregions > l->max_regions)
        return cfg_bad(p, "max_regions (%u) is below the %zu regions declared",
                       (unsigned)l->max_regions, cfg->nregions);
    return SHMB_OK;
}

int shmb_config_parse(const char *text, size_t len, const char *file,
                      const shmb_conventions *conv, shmb_config *cfg, char *err,
                      size_t errcap)
{
    static const char *const keys[] = {"pipe", "limits", "regions", "rules",
                                       NULL};
    cfgp p;
    cJSON *root = NULL;
    const cJSON *v;
    int rc;

    config_base(cfg, conv);
    snprintf(cfg->source, sizeof(cfg->source), "%s", file);
    memset(&p, 0, sizeof(p));
    p.conv = conv;
    p.file = file;
    p.err = err;
    p.cap = errcap;
    strcpy(p.path, "$");
    if (conv == NULL)
        return cfg_bad(&p, "no platform conventions to judge the file by");
    if (len > SHMB_CONFIG_MAX_BYTES)
        return cfg_bad(&p, "file is larger than %u bytes",
                       SHMB_CONFIG_MAX_BYTES);
    rc = read_json(&p, text, len, &root);
    if (rc != SHMB_OK) {
        if (rc == SHMB_E_NOMEM)
            snprintf(err, errcap, "%s: out of memory", file);
        return rc;
    }
    rc = cfg_check_keys(&p, root, keys);
    v = cJSON_GetObjectItemCaseSensitive(root, "pipe");
    if (rc == SHMB_OK && v != NULL) {
        size_t mark = cfg_path_key(&p, "pipe");
        rc = parse_pipe(&p, v, cfg);
        cfg_path_restore(&p, mark);
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "limits");
    if (rc == SHMB_OK && v != NULL) {
        size_t mark = cfg_path_key(&p, "limits");
        rc = parse_limits(&p, v, &cfg->limits);
        cfg_path_restore(&p, mark);
    }
    if (rc == SHMB_OK)
        rc = parse_array(&p, root, "regions", MAX_STATIC_REGIONS,
                         sizeof(shmb_static_region), (void **)&cfg->regions,
                         &cfg->nregions, region_cb, &cfg->limits);
    if (rc == SHMB_OK)
        rc = parse_array(&p, root, "rules", MAX_RULES, sizeof(shmb_rule),
                         (void **)&cfg->rules, &cfg->nrules, rule_cb,
                         &cfg->limits);
    if (rc == SHMB_OK)
        rc = check_whole(&p, cfg);
    cJSON_Delete(root);
    if (rc == SHMB_E_NOMEM)
        snprintf(err, errcap, "%s: out of memory", file);
    if (rc != SHMB_OK)
        shmb_config_free(cfg);
    return rc;
}
