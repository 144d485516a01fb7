/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmb_config.h - the service configuration (docs/configuration.md): the
 * control pipe, the limits, the regions created at start and the policy
 * rules. Every limit a client can push against is named here.
 */
#ifndef SHMB_CONFIG_H
#define SHMB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "shmb_conventions.h"
#include "shmb_types.h"

#define SHMB_PIPE_NAME_MAX 256
#define SHMB_SDDL_MAX 1024
#define SHMB_RULE_NAME_MAX 64
#define SHMB_GLOBAL_NAME_MAX 256
#define SHMB_CONFIG_ERR_MAX 512
#define SHMB_CONFIG_MAX_BYTES (1024u * 1024u)

typedef struct shmb_limits {
    uint32_t max_frame;             /* bytes of one frame's payload */
    uint32_t max_clients;           /* concurrent connections */
    uint32_t clients_per_user;      /* connections of one user SID, over all
                                       its principals */
    uint32_t clients_per_principal; /* connections of one principal */
    uint32_t hello_timeout_ms;      /* a connection must say hello by then */
    uint32_t frame_timeout_ms;      /* a frame begun must be complete by then */
    uint32_t write_timeout_ms;      /* replies waiting must move by then */
    uint32_t max_regions;           /* regions listed at once */
    uint64_t max_region_size;       /* bytes of one region */
    uint32_t regions_per_client;    /* live regions one connection created */
    uint32_t regions_per_principal; /* live regions one principal created,
                                       persistent ones included */
    uint32_t regions_per_user;      /* the same over a user's principals */
    uint64_t commit_per_client;     /* committed bytes one connection created */
    uint64_t commit_per_principal;  /* committed bytes one principal created */
    uint64_t commit_per_user;       /* the same over a user's principals */
    uint64_t commit_total;          /* committed bytes of all regions */
    uint64_t log_max_bytes;         /* the --log file rotates at this size */
    uint32_t log_keep;              /* rotated log files kept */
} shmb_limits;

typedef struct shmb_strlist {
    char **v;
    size_t n;
} shmb_strlist;

/* Integrity levels a rule can name (bit positions in integrity_mask). */
typedef enum shmb_il_level {
    SHMB_ILV_UNTRUSTED,
    SHMB_ILV_LOW,
    SHMB_ILV_MEDIUM,
    SHMB_ILV_HIGH,
    SHMB_ILV_SYSTEM,
    SHMB_ILV_COUNT_
} shmb_il_level;

typedef enum shmb_ac_match {
    SHMB_AC_ANY = 0,  /* AppContainer or not */
    SHMB_AC_NONE,     /* only processes outside any AppContainer */
    SHMB_AC_REQUIRED, /* only AppContainer processes (any container) */
    SHMB_AC_LIST      /* only the listed AppContainer SIDs */
} shmb_ac_match;

typedef struct shmb_rule {
    char name[SHMB_RULE_NAME_MAX + 1];
    int deny; /* effect: 0 allow, 1 deny */
    /* Who: every criterion present must match; within a list, any entry. */
    shmb_strlist users;      /* user SIDs; empty = any */
    shmb_strlist groups;     /* group SIDs; empty = any */
    uint32_t integrity_mask; /* bits of shmb_il_level; 0 = any */
    shmb_ac_match appcontainer;
    shmb_strlist appcontainers;
    uint32_t *sessions;
    size_t nsessions;    /* 0 = any */
    shmb_strlist images; /* image path globs; empty = any */
    /* What: region name globs ("*" within a segment, "**" across,
     * "${user}" for the caller's user SID and "${principal}" for its
     * principal, shmb_principal_text). */
    shmb_strlist regions;
    /* Allow: what may be done. Deny: what is refused. */
    int create;
    uint64_t create_max_size;  /* allow only; 0 = limits.max_region_size */
    uint32_t create_lifetimes; /* allow only; bits of shmb_lifetime */
    shmb_access open;          /* allow: up to; deny: "ro" = any, "rw" = rw */
    int del;
    /* The "stats" op (broker statistics); not about regions, so `regions`
     * is not consulted for it. */
    int stats;
} shmb_rule;

typedef struct shmb_static_region {
    char name[129];
    uint64_t size;
    char global_name[SHMB_GLOBAL_NAME_MAX]; /* "" = unnamed (the default) */
    char sddl[SHMB_SDDL_MAX];               /* for the global name */
    uint32_t doorbells;                     /* 0..SHMB_DOORBELLS_MAX */
} shmb_static_region;

typedef struct shmb_config {
    /* The platform's names and limits the file was judged by; the policy
     * matches image paths by them. Not owned (a static instance). */
    const shmb_conventions *conv;
    char source[512]; /* file it came from, or "(defaults)" */
    char pipe_name[SHMB_PIPE_NAME_MAX];
    char pipe_sddl[SHMB_SDDL_MAX];
    shmb_limits limits;
    shmb_static_region *regions;
    size_t nregions;
    shmb_rule *rules;
    size_t nrules;
} shmb_config;

/* Built-in defaults: the conventions' default pipe and SDDL, default
 * limits, no regions and one rule, "default-user-namespace", letting every
 * caller create, open rw and delete regions under its own principal's
 * prefix: users/SID/, users/SID/low/ or users/SID/untrusted/ and below (the
 * pattern "users/${principal}" followed by a double star; AppContainer
 * processes get no namespace from it).
 * `conv` must not be NULL (the platform is always a choice, never a
 * default): then SHMB_E_INVALID_ARG and an empty config (no rule: everything
 * is denied). Else SHMB_OK, even if the rule could not be allocated (then
 * too, everything is denied, which is safe). */
int shmb_config_defaults(shmb_config *cfg, const shmb_conventions *conv);

/* Parses and validates a configuration document against the platform's
 * conventions `conv` (not NULL: SHMB_E_INVALID_ARG). On failure returns
 * SHMB_E_INVALID_ARG (or SHMB_E_NOMEM) and writes "FILE: $.json.path:
 * reason" into err; cfg is then left empty. */
int shmb_config_parse(const char *text, size_t len, const char *file,
                      const shmb_conventions *conv, shmb_config *cfg, char *err,
                      size_t errcap);

/* Deep copy (for a running service that keeps its own). */
int shmb_config_copy(shmb_config *dst, const shmb_config *src);
void shmb_config_free(shmb_config *cfg);

const char *shmb_il_level_name(shmb_il_level l);
/* The level an integrity RID falls in (0x2100 is still "medium"). */
shmb_il_level shmb_il_level_of(uint32_t rid);

#endif
