/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmb_conventions.h - what the portable core must know about the
 * platform's names and limits, as data: the control channel's default name
 * and security descriptor, which channel names, global region names and
 * principal ids are well formed, how image paths compare, and how many
 * connections a server can hold.
 *
 * The configuration is judged against one of these (shmb_config_parse), and
 * the policy reads it back from the config (cfg->conv), so common/ means
 * the same on every OS: a Linux test can load a Windows config with the
 * Windows conventions. Each platform provides one const instance in a
 * conventions_<os>.c file of pure C (no system headers).
 */
#ifndef SHMB_CONVENTIONS_H
#define SHMB_CONVENTIONS_H

#include <stdint.h>

typedef struct shmb_conventions {
    const char *name; /* "windows" */

    /* The control channel. */
    const char *default_pipe;      /* listened on unless configured */
    const char *default_pipe_sddl; /* its security descriptor, as text */
    /* 1 if `name` may be configured as the channel's name. */
    int (*pipe_name_ok)(const char *name);
    /* What pipe_name_ok wants, as the config's error message. */
    const char *pipe_name_rule;

    /* Regions that opt in to a global name ("global_name" in the config). */
    int (*global_name_ok)(const char *name);
    const char *global_name_rule;

    /* Principals (users, groups, AppContainers) in their text form. */
    int (*principal_ok)(const char *text);
    const char *principal_kind; /* "a SID (S-1-...)", for "X is not ..." */

    /* Image paths, as rules' "image" patterns match them. */
    char image_sep;  /* separator that '*' does not cross */
    int image_icase; /* 1: ASCII letters compare case-insensitively */

    /* Concurrent connections a server can hold at most: the upper bound of
     * limits.max_clients and limits.clients_per_user. */
    uint32_t max_clients_cap;

    /* Who may read the broker's statistics (the "stats" op) when no rule
     * says (docs/configuration.md, "stats"): members of this group, when
     * it is enabled in their token, and callers running as this account
     * (the one the service runs as). NULL: nobody. */
    const char *admins_group;
    const char *service_account;
} shmb_conventions;

/* Windows: named pipes, Global\ section names, SIDs, NTFS image paths.
 * Defined in common/conventions_win.c, built on every platform. */
extern const shmb_conventions shmb_conventions_windows;

#endif
