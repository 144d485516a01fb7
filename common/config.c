/* SPDX-License-Identifier: MPL-2.0 */
/*
 * config.c - defaults, parsing and validation of the configuration file.
 *
 * The file is policy: a typo must not silently widen or narrow access. So
 * every key is known or rejected, every value is type- and range-checked,
 * and an error names the file, the JSON path and the reason, e.g.
 *   config.json: $.rules[2].match.integrity[0]: unknown integrity level
 *   "mediun" (expected untrusted, low, medium, high or system)
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "shmb_config.h"
#include "shmb_frame.h"
#include "shmb_json.h"
#include "shmb_log.h"
#include "shmb_proto.h"

#define MAX_LIST 256
#define MAX_RULES 1024
#define MAX_STATIC_REGIONS 4096

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

/* ---- string lists ----------------------------------------------------- */

static void strlist_free(shmb_strlist *l)
{
    size_t i;
    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static char *str_dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

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
        dst->v[i] = str_dup(src->v[i]);
        if (dst->v[i] == NULL)
            return -1;
        dst->n++;
    }
    return 0;
}

/* ---- defaults --------------------------------------------------------- */

/* ---- limits: one row per key ------------------------------------------ */

/* `max` 0 stands for the conventions' connection cap, known only when a
 * file is parsed. */
#define CAP_CLIENTS 0
#define UNLIMITED ((uint64_t)1 << 50) /* 1 PiB: "unlimited enough" */
#define GIB ((uint64_t)1 << 30)

typedef struct limit_row {
    const char *key; /* also the field's name */
    size_t offset;   /* in shmb_limits */
    size_t size;     /* of the field: uint32_t or uint64_t */
    uint64_t min, max, def;
} limit_row;

#define LIMIT(field, min, max, def)                                            \
    {                                                                          \
#field, offsetof(shmb_limits, field),                                  \
            sizeof(((shmb_limits *)0)->field), (min), (max), (def)             \
    }

/* In the order the keys are checked (and documented). */
static const limit_row limit_rows[] = {
    LIMIT(max_frame, 1024, SHMB_FRAME_LIMIT_CEILING, SHMB_FRAME_LIMIT_DEFAULT),
    LIMIT(max_clients, 1, CAP_CLIENTS, 256),
    LIMIT(clients_per_user, 1, CAP_CLIENTS, 64),
    LIMIT(hello_timeout_ms, 100, 600000, 5000),
    LIMIT(max_regions, 1, 100000, 1024),
    LIMIT(max_region_size, 1, UNLIMITED, 1 * GIB),
    LIMIT(regions_per_client, 1, 100000, 64),
    LIMIT(commit_per_client, 1, UNLIMITED, 1 * GIB),
    LIMIT(commit_per_user, 1, UNLIMITED, 2 * GIB),
    LIMIT(commit_total, 1, UNLIMITED, 4 * GIB),
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
        r->regions.v[0] = str_dup("users/${user}/**");
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
    strlist_free(&r->users);
    strlist_free(&r->groups);
    strlist_free(&r->appcontainers);
    strlist_free(&r->images);
    strlist_free(&r->regions);
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

/* ---- parsing context -------------------------------------------------- */

typedef struct cfgp {
    const shmb_conventions *conv;
    const char *file;
    char *err;
    size_t cap;
    char path[256];
} cfgp;

static int bad(cfgp *p, const char *fmt, ...) SHMB_PRINTF(2, 3);

static int bad(cfgp *p, const char *fmt, ...)
{
    char reason[SHMB_CONFIG_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    snprintf(p->err, p->cap, "%s: %s: %s", p->file, p->path, reason);
    return SHMB_E_INVALID_ARG;
}

/* Appends ".key" or "[i]" to the path; returns the old length to restore. */
static size_t path_key(cfgp *p, const char *key)
{
    size_t n = strlen(p->path);
    snprintf(p->path + n, sizeof(p->path) - n, ".%s", key);
    return n;
}

static size_t path_index(cfgp *p, size_t i)
{
    size_t n = strlen(p->path);
    snprintf(p->path + n, sizeof(p->path) - n, "[%zu]", i);
    return n;
}

static void path_restore(cfgp *p, size_t n)
{
    p->path[n] = '\0';
}

/* Checks that every key of `obj` is in `allowed` (NULL-terminated). The
 * reader has already refused repeated keys. */
static int check_keys(cfgp *p, const cJSON *obj, const char *const *allowed)
{
    const cJSON *a;
    size_t i;
    for (a = obj->child; a != NULL; a = a->next) {
        for (i = 0; allowed[i] != NULL; i++) {
            if (strcmp(allowed[i], a->string) == 0)
                break;
        }
        if (allowed[i] == NULL) {
            char list[256] = "";
            for (i = 0; allowed[i] != NULL; i++) {
                strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
                strncat(list, allowed[i], sizeof(list) - strlen(list) - 1);
            }
            return bad(p, "unknown key \"%.64s\" (expected one of: %s)",
                       a->string, list);
        }
    }
    return SHMB_OK;
}

static int get_u64(cfgp *p, const cJSON *obj, const char *key, uint64_t lo,
                   uint64_t hi, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    size_t mark;
    double d;
    int rc = SHMB_OK;
    if (v == NULL)
        return SHMB_OK; /* keep the default */
    mark = path_key(p, key);
    d = cJSON_IsNumber(v) ? v->valuedouble : -1.0;
    if (!cJSON_IsNumber(v) || !(d >= (double)lo && d <= (double)hi) ||
        d != floor(d))
        rc = bad(p, "must be an integer from %llu to %llu",
                 (unsigned long long)lo, (unsigned long long)hi);
    else
        *out = (uint64_t)d;
    path_restore(p, mark);
    return rc;
}

/* Copies a string value; `required` makes absence an error. */
static int get_str(cfgp *p, const cJSON *obj, const char *key, int required,
                   char *dst, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    size_t mark;
    int rc = SHMB_OK;
    if (v == NULL)
        return required ? bad(p, "missing key \"%s\"", key) : SHMB_OK;
    mark = path_key(p, key);
    if (!cJSON_IsString(v))
        rc = bad(p, "must be a string");
    else if (strlen(v->valuestring) >= cap)
        rc = bad(p, "is longer than %zu bytes", cap - 1);
    else if (v->valuestring[0] == '\0')
        rc = bad(p, "must not be empty");
    else
        strcpy(dst, v->valuestring);
    path_restore(p, mark);
    return rc;
}

typedef int (*item_check)(cfgp *p, const char *s);

/* A principal id (user, group, AppContainer) in the platform's syntax. */
static int check_sid(cfgp *p, const char *s)
{
    return p->conv->principal_ok(s)
               ? SHMB_OK
               : bad(p, "\"%.64s\" is not %s", s, p->conv->principal_kind);
}

static int check_image(cfgp *p, const char *s)
{
    return strlen(s) < 520 ? SHMB_OK : bad(p, "image pattern is too long");
}

static int check_word(cfgp *p, const char *s)
{
    return strlen(s) < 32 ? SHMB_OK : bad(p, "is too long");
}

/* Region patterns: the name charset plus '*' and "${user}". */
static int check_pattern(cfgp *p, const char *s)
{
    size_t i;
    if (strlen(s) > 2 * SHMB_NAME_MAX)
        return bad(p, "pattern is longer than %d bytes", 2 * SHMB_NAME_MAX);
    for (i = 0; s[i]; i++) {
        char c = s[i];
        if (strncmp(s + i, "${user}", 7) == 0) {
            i += 6;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
              c == '/' || c == '*' || c == '?'))
            return bad(p,
                       "pattern \"%.64s\" has '%c' (allowed: letters, "
                       "digits, . _ - / * ? and ${user})",
                       s, c);
    }
    return SHMB_OK;
}

/* A list of strings, each checked; "one string" is accepted as a list. */
static int get_strlist(cfgp *p, const cJSON *obj, const char *key,
                       item_check check, shmb_strlist *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    const cJSON *e;
    size_t mark, inner, i = 0;
    int rc = SHMB_OK, n;

    if (v == NULL)
        return SHMB_OK;
    mark = path_key(p, key);
    if (cJSON_IsString(v)) {
        n = 1;
    } else if (cJSON_IsArray(v)) {
        n = cJSON_GetArraySize(v);
    } else {
        rc = bad(p, "must be a string or an array of strings");
        goto done;
    }
    if (n == 0 || n > MAX_LIST) {
        rc = bad(p, "must hold 1 to %d entries", MAX_LIST);
        goto done;
    }
    out->v = calloc((size_t)n, sizeof(char *));
    if (out->v == NULL) {
        rc = SHMB_E_NOMEM;
        goto done;
    }
    for (e = cJSON_IsString(v) ? v : v->child; e != NULL && i < (size_t)n;
         e = e->next, i++) {
        inner = path_index(p, i);
        if (!cJSON_IsString(e) || e->valuestring[0] == '\0')
            rc = bad(p, "must be a non-empty string");
        else
            rc = check(p, e->valuestring);
        path_restore(p, inner);
        if (rc != SHMB_OK)
            goto done;
        out->v[i] = str_dup(e->valuestring);
        if (out->v[i] == NULL) {
            rc = SHMB_E_NOMEM;
            goto done;
        }
        out->n++;
        if (cJSON_IsString(v))
            break;
    }
done:
    path_restore(p, mark);
    return rc;
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
        return bad(p, "file contains a NUL byte");
    case SHMB_JSON_E_CONTROL:
        return bad(p, "control character, \\u0000 or BOM (line %zu)", e.line);
    case SHMB_JSON_E_NUMBER:
        return bad(p, "invalid JSON number: %s (line %zu)", e.reason, e.line);
    case SHMB_JSON_E_NOT_OBJECT:
        return bad(p, "must be a JSON object");
    case SHMB_JSON_E_TRAILING:
        return bad(p, "text after the JSON object (line %zu)", e.line);
    case SHMB_JSON_E_DUPLICATE:
        snprintf(p->path, sizeof(p->path), "%s", e.path);
        return bad(p, "key \"%.64s\" appears twice", e.key);
    case SHMB_JSON_E_NOMEM:
        return SHMB_E_NOMEM;
    default:
        return bad(p, "not valid JSON (line %zu)", e.line);
    }
}

/* ---- sections of the file -------------------------------------------- */

static int parse_pipe(cfgp *p, const cJSON *v, shmb_config *cfg)
{
    static const char *const keys[] = {"name", "sddl", NULL};
    int rc;
    if (!cJSON_IsObject(v))
        return bad(p, "must be an object");
    rc = check_keys(p, v, keys);
    if (rc == SHMB_OK)
        rc = get_str(p, v, "name", 0, cfg->pipe_name, sizeof(cfg->pipe_name));
    if (rc == SHMB_OK)
        rc = get_str(p, v, "sddl", 0, cfg->pipe_sddl, sizeof(cfg->pipe_sddl));
    if (rc == SHMB_OK && !p->conv->pipe_name_ok(cfg->pipe_name)) {
        size_t mark = path_key(p, "name");
        rc = bad(p, "%s", p->conv->pipe_name_rule);
        path_restore(p, mark);
    }
    return rc;
}

static int parse_limits(cfgp *p, const cJSON *v, shmb_limits *l)
{
    const char *keys[LIMIT_ROWS + 1];
    size_t i;
    int rc;
    if (!cJSON_IsObject(v))
        return bad(p, "must be an object");
    for (i = 0; i < LIMIT_ROWS; i++)
        keys[i] = limit_rows[i].key;
    keys[LIMIT_ROWS] = NULL;
    rc = check_keys(p, v, keys);
    for (i = 0; rc == SHMB_OK && i < LIMIT_ROWS; i++) {
        const limit_row *r = &limit_rows[i];
        uint64_t max =
            r->max == CAP_CLIENTS ? p->conv->max_clients_cap : r->max;
        uint64_t x = limit_get(l, r);
        rc = get_u64(p, v, r->key, r->min, max, &x);
        if (rc == SHMB_OK)
            limit_set(l, r, x);
    }
    return rc;
}

static int parse_region(cfgp *p, const cJSON *v, shmb_static_region *r,
                        const shmb_limits *l)
{
    static const char *const keys[] = {"name", "size", "global_name", "sddl",
                                       NULL};
    char msg[SHMB_MSG_MAX];
    size_t mark;
    int rc;

    if (!cJSON_IsObject(v))
        return bad(p, "must be an object");
    rc = check_keys(p, v, keys);
    if (rc == SHMB_OK)
        rc = get_str(p, v, "name", 1, r->name, sizeof(r->name));
    if (rc == SHMB_OK && shmb_name_validate(r->name, msg, sizeof(msg)) != 0) {
        mark = path_key(p, "name");
        rc = bad(p, "%s", msg);
        path_restore(p, mark);
    }
    if (rc == SHMB_OK && cJSON_GetObjectItemCaseSensitive(v, "size") == NULL)
        rc = bad(p, "missing key \"size\"");
    if (rc == SHMB_OK)
        rc = get_u64(p, v, "size", 1, l->max_region_size, &r->size);
    if (rc == SHMB_OK)
        rc = get_str(p, v, "global_name", 0, r->global_name,
                     sizeof(r->global_name));
    if (rc == SHMB_OK)
        rc = get_str(p, v, "sddl", 0, r->sddl, sizeof(r->sddl));
    if (rc != SHMB_OK)
        return rc;
    if (r->global_name[0] != '\0') {
        mark = path_key(p, "global_name");
        if (!p->conv->global_name_ok(r->global_name))
            rc = bad(p, "%s", p->conv->global_name_rule);
        else if (r->sddl[0] == '\0')
            rc = bad(p, "a named region needs \"sddl\" (who may open the "
                        "name, with its mandatory label)");
        path_restore(p, mark);
    } else if (r->sddl[0] != '\0') {
        mark = path_key(p, "sddl");
        rc = bad(p, "only meaningful with \"global_name\"; unnamed regions "
                    "are reachable by handle only");
        path_restore(p, mark);
    }
    return rc;
}

static int parse_integrity(cfgp *p, const cJSON *m, shmb_rule *r)
{
    shmb_strlist l = {NULL, 0};
    size_t i, k, mark;
    int rc = get_strlist(p, m, "integrity", check_word, &l);
    for (i = 0; rc == SHMB_OK && i < l.n; i++) {
        for (k = 0; k < SHMB_ILV_COUNT_; k++) {
            if (strcmp(l.v[i], il_names[k]) == 0)
                break;
        }
        if (k == SHMB_ILV_COUNT_) {
            mark = path_key(p, "integrity");
            path_index(p, i);
            rc = bad(p,
                     "unknown integrity level \"%.32s\" (expected "
                     "untrusted, low, medium, high or system)",
                     l.v[i]);
            path_restore(p, mark);
        } else {
            r->integrity_mask |= 1u << k;
        }
    }
    strlist_free(&l);
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
        rc = get_strlist(p, m, "appcontainer", check_sid, &r->appcontainers);
    } else {
        mark = path_key(p, "appcontainer");
        rc = bad(p, "must be \"any\", \"none\", \"required\" or an array of "
                    "AppContainer SIDs");
        path_restore(p, mark);
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
    mark = path_key(p, "session");
    n = cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 0;
    if (!cJSON_IsArray(v) || n == 0 || n > MAX_LIST) {
        rc = bad(p, "must be an array of 1 to %d session ids", MAX_LIST);
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
            path_index(p, i);
            rc = bad(p, "must be a session id from 0 to 65535");
            goto done;
        }
        r->sessions[i++] = (uint32_t)d;
    }
    r->nsessions = n;
done:
    path_restore(p, mark);
    return rc;
}

static int parse_match(cfgp *p, const cJSON *m, shmb_rule *r)
{
    static const char *const keys[] = {
        "user", "group", "integrity", "appcontainer", "session", "image", NULL};
    size_t mark = path_key(p, "match");
    int rc = cJSON_IsObject(m) ? check_keys(p, m, keys)
                               : bad(p, "must be an object");
    if (rc == SHMB_OK)
        rc = get_strlist(p, m, "user", check_sid, &r->users);
    if (rc == SHMB_OK)
        rc = get_strlist(p, m, "group", check_sid, &r->groups);
    if (rc == SHMB_OK)
        rc = parse_integrity(p, m, r);
    if (rc == SHMB_OK)
        rc = parse_appcontainer(p, m, r);
    if (rc == SHMB_OK)
        rc = parse_sessions(p, m, r);
    if (rc == SHMB_OK)
        rc = get_strlist(p, m, "image", check_image, &r->images);
    path_restore(p, mark);
    return rc;
}

static int parse_lifetimes(cfgp *p, const cJSON *v, shmb_rule *r)
{
    const cJSON *e;
    size_t i = 0, mark = path_key(p, "lifetimes");
    int rc = SHMB_OK, l;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
        rc = bad(p, "must be a non-empty array of \"client\" / "
                    "\"persistent\"");
        goto done;
    }
    cJSON_ArrayForEach(e, v)
    {
        l = cJSON_IsString(e) ? shmb_lifetime_from_name(e->valuestring) : -1;
        if (l < 0) {
            path_index(p, i);
            rc = bad(p, "must be \"client\" or \"persistent\"");
            goto done;
        }
        r->create_lifetimes |= 1u << l;
        i++;
    }
done:
    path_restore(p, mark);
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
    mark = path_key(p, "create");
    if (r->deny) {
        rc = bad(p, "a deny rule takes true or false here");
        goto done;
    }
    if (!cJSON_IsObject(v)) {
        rc = bad(p, "must be true, false or {\"max_size\", \"lifetimes\"}");
        goto done;
    }
    rc = check_keys(p, v, keys);
    r->create = 1;
    r->create_lifetimes =
        (1u << SHMB_LIFETIME_CLIENT) | (1u << SHMB_LIFETIME_PERSISTENT);
    if (rc == SHMB_OK)
        rc = get_u64(p, v, "max_size", 1, l->max_region_size,
                     &r->create_max_size);
    lt = cJSON_GetObjectItemCaseSensitive(v, "lifetimes");
    if (rc == SHMB_OK && lt != NULL) {
        r->create_lifetimes = 0;
        rc = parse_lifetimes(p, lt, r);
    }
done:
    path_restore(p, mark);
    return rc;
}

static int parse_rule(cfgp *p, const cJSON *v, shmb_rule *r,
                      const shmb_limits *l)
{
    static const char *const keys[] = {"name",   "effect", "match",  "regions",
                                       "create", "open",   "delete", NULL};
    const cJSON *f;
    size_t mark;
    int rc, a;

    if (!cJSON_IsObject(v))
        return bad(p, "must be an object");
    rc = check_keys(p, v, keys);
    if (rc == SHMB_OK)
        rc = get_str(p, v, "name", 1, r->name, sizeof(r->name));
    if (rc != SHMB_OK)
        return rc;
    f = cJSON_GetObjectItemCaseSensitive(v, "effect");
    if (f != NULL) {
        mark = path_key(p, "effect");
        if (cJSON_IsString(f) && strcmp(f->valuestring, "deny") == 0)
            r->deny = 1;
        else if (!cJSON_IsString(f) || strcmp(f->valuestring, "allow") != 0)
            rc = bad(p, "must be \"allow\" or \"deny\"");
        path_restore(p, mark);
    }
    f = cJSON_GetObjectItemCaseSensitive(v, "match");
    if (rc == SHMB_OK && f != NULL)
        rc = parse_match(p, f, r);
    if (rc == SHMB_OK && cJSON_GetObjectItemCaseSensitive(v, "regions") == NULL)
        rc = bad(p, "missing key \"regions\" (the name patterns it covers)");
    if (rc == SHMB_OK)
        rc = get_strlist(p, v, "regions", check_pattern, &r->regions);
    f = cJSON_GetObjectItemCaseSensitive(v, "create");
    if (rc == SHMB_OK && f != NULL)
        rc = parse_create(p, f, r, l);
    f = cJSON_GetObjectItemCaseSensitive(v, "open");
    if (rc == SHMB_OK && f != NULL) {
        mark = path_key(p, "open");
        a = cJSON_IsString(f) ? shmb_access_from_name(f->valuestring) : -1;
        if (a < 0)
            rc = bad(p, "must be \"ro\" or \"rw\"");
        else
            r->open = (shmb_access)a;
        path_restore(p, mark);
    }
    f = cJSON_GetObjectItemCaseSensitive(v, "delete");
    if (rc == SHMB_OK && f != NULL) {
        mark = path_key(p, "delete");
        if (!cJSON_IsBool(f))
            rc = bad(p, "must be true or false");
        else
            r->del = cJSON_IsTrue(f);
        path_restore(p, mark);
    }
    if (rc == SHMB_OK && !r->create && r->open == SHMB_ACCESS_NONE && !r->del)
        rc = bad(p,
                 "rule \"%s\" grants or denies nothing: give it "
                 "\"create\", \"open\" or \"delete\"",
                 r->name);
    return rc;
}

/* Parses the array under `key` with `fn` into a calloc'd array. */
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
    mark = path_key(p, key);
    n = cJSON_IsArray(arr) ? (size_t)cJSON_GetArraySize(arr) : 0;
    if (!cJSON_IsArray(arr) || n > max) {
        rc = bad(p, "must be an array of at most %zu entries", max);
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
        inner = path_index(p, i);
        *count = i + 1; /* so that a partial entry is freed */
        rc = fn(p, e, (char *)*out + i * elem, l);
        path_restore(p, inner);
        if (rc != SHMB_OK)
            goto done;
        i++;
    }
done:
    path_restore(p, mark);
    return rc;
}

static int region_cb(cfgp *p, const cJSON *v, void *out, const shmb_limits *l)
{
    return parse_region(p, v, out, l);
}

static int rule_cb(cfgp *p, const cJSON *v, void *out, const shmb_limits *l)
{
    return parse_rule(p, v, out, l);
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
                return bad(p, "region \"%s\" is declared twice",
                           cfg->regions[k].name);
            }
        }
    }
    for (i = 0; i < cfg->nrules; i++) {
        for (k = i + 1; k < cfg->nrules; k++) {
            if (strcmp(cfg->rules[i].name, cfg->rules[k].name) == 0) {
                snprintf(p->path, sizeof(p->path), "$.rules[%zu].name", k);
                return bad(p,
                           "rule name \"%s\" is used twice (denials name "
                           "rules, so names must be unique)",
                           cfg->rules[k].name);
            }
        }
    }
    strcpy(p->path, "$.limits");
    if (cfg->nregions > l->max_regions)
        return bad(p, "max_regions (%u) is below the %zu regions declared",
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
        return bad(&p, "no platform conventions to judge the file by");
    if (len > SHMB_CONFIG_MAX_BYTES)
        return bad(&p, "file is larger than %u bytes", SHMB_CONFIG_MAX_BYTES);
    rc = read_json(&p, text, len, &root);
    if (rc != SHMB_OK) {
        if (rc == SHMB_E_NOMEM)
            snprintf(err, errcap, "%s: out of memory", file);
        return rc;
    }
    rc = check_keys(&p, root, keys);
    v = cJSON_GetObjectItemCaseSensitive(root, "pipe");
    if (rc == SHMB_OK && v != NULL) {
        size_t mark = path_key(&p, "pipe");
        rc = parse_pipe(&p, v, cfg);
        path_restore(&p, mark);
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "limits");
    if (rc == SHMB_OK && v != NULL) {
        size_t mark = path_key(&p, "limits");
        rc = parse_limits(&p, v, &cfg->limits);
        path_restore(&p, mark);
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
