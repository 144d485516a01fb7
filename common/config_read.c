/* SPDX-License-Identifier: MPL-2.0 */
/*
 * config_read.c - the config parser's readers (config_read.h): one value
 * each, type- and range-checked, with the JSON path in every error.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_read.h"
#include "shmb_proto.h"

/* ---- string lists ----------------------------------------------------- */

void cfg_strlist_free(shmb_strlist *l)
{
    size_t i;
    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

char *cfg_str_dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

/* ---- errors and paths ------------------------------------------------- */

int cfg_bad(cfgp *p, const char *fmt, ...)
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
size_t cfg_path_key(cfgp *p, const char *key)
{
    size_t n = strlen(p->path);
    snprintf(p->path + n, sizeof(p->path) - n, ".%s", key);
    return n;
}

size_t cfg_path_index(cfgp *p, size_t i)
{
    size_t n = strlen(p->path);
    snprintf(p->path + n, sizeof(p->path) - n, "[%zu]", i);
    return n;
}

void cfg_path_restore(cfgp *p, size_t n)
{
    p->path[n] = '\0';
}

/* ---- values ----------------------------------------------------------- */

/* Checks that every key of `obj` is in `allowed` (NULL-terminated). The
 * reader has already refused repeated keys. */
int cfg_check_keys(cfgp *p, const cJSON *obj, const char *const *allowed)
{
    const cJSON *a;
    size_t i;
    for (a = obj->child; a != NULL; a = a->next) {
        for (i = 0; allowed[i] != NULL; i++) {
            if (strcmp(allowed[i], a->string) == 0)
                break;
        }
        if (allowed[i] == NULL) {
            char list[384] = ""; /* the longest list: $.limits */
            for (i = 0; allowed[i] != NULL; i++) {
                strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
                strncat(list, allowed[i], sizeof(list) - strlen(list) - 1);
            }
            return cfg_bad(p, "unknown key \"%.64s\" (expected one of: %s)",
                           a->string, list);
        }
    }
    return SHMB_OK;
}

int cfg_get_u64(cfgp *p, const cJSON *obj, const char *key, uint64_t lo,
                uint64_t hi, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    size_t mark;
    double d;
    int rc = SHMB_OK;
    if (v == NULL)
        return SHMB_OK; /* keep the default */
    mark = cfg_path_key(p, key);
    d = cJSON_IsNumber(v) ? v->valuedouble : -1.0;
    if (!cJSON_IsNumber(v) || !(d >= (double)lo && d <= (double)hi) ||
        d != floor(d))
        rc = cfg_bad(p, "must be an integer from %llu to %llu",
                     (unsigned long long)lo, (unsigned long long)hi);
    else
        *out = (uint64_t)d;
    cfg_path_restore(p, mark);
    return rc;
}

/* Copies a string value; `required` makes absence an error. */
int cfg_get_str(cfgp *p, const cJSON *obj, const char *key, int required,
                char *dst, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    size_t mark;
    int rc = SHMB_OK;
    if (v == NULL)
        return required ? cfg_bad(p, "missing key \"%s\"", key) : SHMB_OK;
    mark = cfg_path_key(p, key);
    if (!cJSON_IsString(v))
        rc = cfg_bad(p, "must be a string");
    else if (strlen(v->valuestring) >= cap)
        rc = cfg_bad(p, "is longer than %zu bytes", cap - 1);
    else if (v->valuestring[0] == '\0')
        rc = cfg_bad(p, "must not be empty");
    else
        strcpy(dst, v->valuestring);
    cfg_path_restore(p, mark);
    return rc;
}

/* A principal id (user, group, AppContainer) in the platform's syntax. */
int cfg_check_sid(cfgp *p, const char *s)
{
    return p->conv->principal_ok(s)
               ? SHMB_OK
               : cfg_bad(p, "\"%.64s\" is not %s", s, p->conv->principal_kind);
}

int cfg_check_image(cfgp *p, const char *s)
{
    return strlen(s) < 520 ? SHMB_OK : cfg_bad(p, "image pattern is too long");
}

int cfg_check_word(cfgp *p, const char *s)
{
    return strlen(s) < 32 ? SHMB_OK : cfg_bad(p, "is too long");
}

/* Region patterns: the name charset plus '*', "${user}" and
 * "${principal}". */
int cfg_check_pattern(cfgp *p, const char *s)
{
    size_t i;
    if (strlen(s) > 2 * SHMB_NAME_MAX)
        return cfg_bad(p, "pattern is longer than %d bytes", 2 * SHMB_NAME_MAX);
    for (i = 0; s[i]; i++) {
        char c = s[i];
        if (strncmp(s + i, "${user}", 7) == 0) {
            i += 6;
            continue;
        }
        if (strncmp(s + i, "${principal}", 12) == 0) {
            i += 11;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
              c == '/' || c == '*' || c == '?'))
            return cfg_bad(p,
                           "pattern \"%.64s\" has '%c' (allowed: letters, "
                           "digits, . _ - / * ?, ${user} and ${principal})",
                           s, c);
    }
    return SHMB_OK;
}

/* A list of strings, each checked; "one string" is accepted as a list. */
int cfg_get_strlist(cfgp *p, const cJSON *obj, const char *key,
                    cfg_item_check check, shmb_strlist *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    const cJSON *e;
    size_t mark, inner, i = 0;
    int rc = SHMB_OK, n;

    if (v == NULL)
        return SHMB_OK;
    mark = cfg_path_key(p, key);
    if (cJSON_IsString(v)) {
        n = 1;
    } else if (cJSON_IsArray(v)) {
        n = cJSON_GetArraySize(v);
    } else {
        rc = cfg_bad(p, "must be a string or an array of strings");
        goto done;
    }
    if (n == 0 || n > MAX_LIST) {
        rc = cfg_bad(p, "must hold 1 to %d entries", MAX_LIST);
        goto done;
    }
    out->v = calloc((size_t)n, sizeof(char *));
    if (out->v == NULL) {
        rc = SHMB_E_NOMEM;
        goto done;
    }
    for (e = cJSON_IsString(v) ? v : v->child; e != NULL && i < (size_t)n;
         e = e->next, i++) {
        inner = cfg_path_index(p, i);
        if (!cJSON_IsString(e) || e->valuestring[0] == '\0')
            rc = cfg_bad(p, "must be a non-empty string");
        else
            rc = check(p, e->valuestring);
        cfg_path_restore(p, inner);
        if (rc != SHMB_OK)
            goto done;
        out->v[i] = cfg_str_dup(e->valuestring);
        if (out->v[i] == NULL) {
            rc = SHMB_E_NOMEM;
            goto done;
        }
        out->n++;
        if (cJSON_IsString(v))
            break;
    }
done:
    cfg_path_restore(p, mark);
    return rc;
}
