/* SPDX-License-Identifier: MPL-2.0 */
/*
 * config_read.h - private to the config parser (config.c, config_read.c,
 * config_rules.c): the parsing context and the readers every section uses.
 * Each reader checks one value, and on failure writes "FILE: $.path:
 * reason" through cfg_bad() and returns SHMB_E_INVALID_ARG (or
 * SHMB_E_NOMEM); an absent optional key is not a failure.
 */
#ifndef SHMB_CONFIG_READ_H
#define SHMB_CONFIG_READ_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "shmb_config.h"
#include "shmb_log.h"

#define MAX_LIST 256 /* entries of one list of strings or sessions */

typedef struct cfgp {
    const shmb_conventions *conv;
    const char *file;
    char *err;
    size_t cap;
    char path[256]; /* JSON path of the value being read, "$.rules[2]" */
} cfgp;

/* Formats the reason, writes the error, returns SHMB_E_INVALID_ARG. */
int cfg_bad(cfgp *p, const char *fmt, ...) SHMB_PRINTF(2, 3);

/* Appends ".key" or "[i]" to the path; returns the old length to restore. */
size_t cfg_path_key(cfgp *p, const char *key);
size_t cfg_path_index(cfgp *p, size_t i);
void cfg_path_restore(cfgp *p, size_t n);

/* Every key of `obj` must be in `allowed` (NULL-terminated). */
int cfg_check_keys(cfgp *p, const cJSON *obj, const char *const *allowed);
/* An integer in [lo, hi] under `key`; *out keeps its value if absent. */
int cfg_get_u64(cfgp *p, const cJSON *obj, const char *key, uint64_t lo,
                uint64_t hi, uint64_t *out);
/* A non-empty string shorter than cap; `required` makes absence an error. */
int cfg_get_str(cfgp *p, const cJSON *obj, const char *key, int required,
                char *dst, size_t cap);

/* Checks one entry of a list of strings. */
typedef int (*cfg_item_check)(cfgp *p, const char *s);
int cfg_check_sid(cfgp *p, const char *s); /* the conventions' principal */
int cfg_check_image(cfgp *p, const char *s);
int cfg_check_word(cfgp *p, const char *s);
int cfg_check_pattern(cfgp *p, const char *s); /* region name pattern */
/* A string or a list of 1..MAX_LIST strings, each passing `check`. */
int cfg_get_strlist(cfgp *p, const cJSON *obj, const char *key,
                    cfg_item_check check, shmb_strlist *out);

void cfg_strlist_free(shmb_strlist *l);
char *cfg_str_dup(const char *s);

/* One entry of "rules" (config_rules.c); `l` bounds create.max_size. */
int cfg_parse_rule(cfgp *p, const cJSON *v, shmb_rule *r, const shmb_limits *l);

#endif
