/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sddl_win.c - judging the configured security descriptors beyond "does
 * it parse": the control pipe's (refused at start and by --check-config
 * when it lets ordinary users add pipe instances) and the named regions'
 * (a warning when readers cannot query the size). docs/configuration.md
 * describes both rules.
 */
#include <windows.h>

#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sddl_win.h"
#include "shmb_types.h"
#include "util_win.h"

#ifndef SECTION_QUERY
#define SECTION_QUERY 0x0001
#endif

/* Whoever holds one of these can create instances of the pipe (and so
 * serve our clients) or rewrite its DACL to get that right.
 * FILE_CREATE_PIPE_INSTANCE is FILE_APPEND_DATA's bit, so "FA" and "FW"
 * count too. */
#define PIPE_OWNER_RIGHTS                                                      \
    (FILE_CREATE_PIPE_INSTANCE | GENERIC_ALL | GENERIC_WRITE | WRITE_DAC |     \
     WRITE_OWNER)

static int sid_is(PSID sid, const char *text)
{
    char s[SHMB_SID_MAX];
    return win_sid_string(sid, s, sizeof(s)) && strcmp(s, text) == 0;
}

/* SYSTEM, Administrators, or the service's own account. */
static int pipe_admin(PSID sid, PSID self)
{
    return sid_is(sid, "S-1-5-18") || sid_is(sid, "S-1-5-32-544") ||
           (self != NULL && EqualSid(sid, self));
}

int win_pipe_sd_check(PSECURITY_DESCRIPTOR sd, char *why, size_t cap)
{
    BOOL present = FALSE, defaulted = FALSE;
    PACL dacl = NULL;
    TOKEN_USER *self = win_self_user();
    char text[SHMB_SID_MAX];
    DWORD i;
    int rc = SHMB_OK;

    if (!GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) ||
        !present || dacl == NULL) {
        snprintf(why, cap,
                 "pipe SDDL has no DACL (\"D:\"): that would let everyone "
                 "do anything with the pipe");
        free(self);
        return SHMB_E_INVALID_ARG;
    }
    for (i = 0; rc == SHMB_OK && i < dacl->AceCount; i++) {
        ACE_HEADER *ace;
        ACCESS_MASK mask;
        PSID sid;
        if (!GetAce(dacl, i, (void **)&ace) ||
            !win_ace_grant(ace, &mask, &sid) ||
            (ace->AceFlags & INHERIT_ONLY_ACE) || !(mask & PIPE_OWNER_RIGHTS))
            continue;
        if (sid != NULL && pipe_admin(sid, self ? self->User.Sid : NULL))
            continue;
        if (sid == NULL || !win_sid_string(sid, text, sizeof(text)))
            snprintf(text, sizeof(text), "an unreadable SID");
        snprintf(why, cap,
                 "pipe SDDL grants %s access 0x%lx, which includes creating "
                 "pipe instances or generic/owner rights: only SYSTEM, "
                 "Administrators and the service's account may have "
                 "FILE_CREATE_PIPE_INSTANCE, GA, GW, WD or WO (a holder could "
                 "serve the service's clients)",
                 text, (unsigned long)mask);
        rc = SHMB_E_INVALID_ARG;
    }
    free(self);
    return rc;
}

int win_section_sddl_warnings(const char *region, const char *sddl, char *warn,
                              size_t cap)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    BOOL present = FALSE, defaulted = FALSE;
    PACL dacl = NULL;
    char text[SHMB_SID_MAX];
    DWORD i;
    int count = 0;

    if (!win_sd_owned(sddl, &sd))
        return 0; /* the service refuses it at start, with the reason */
    if (GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) && present &&
        dacl != NULL) {
        for (i = 0; i < dacl->AceCount; i++) {
            ACE_HEADER *ace;
            ACCESS_MASK mask;
            PSID sid;
            size_t used = strlen(warn);
            if (!GetAce(dacl, i, (void **)&ace) ||
                !win_ace_grant(ace, &mask, &sid) ||
                (mask & (GENERIC_ALL | GENERIC_READ)) ||
                !(mask & FILE_MAP_READ) || (mask & SECTION_QUERY))
                continue;
            if (sid == NULL || !win_sid_string(sid, text, sizeof(text)))
                snprintf(text, sizeof(text), "?");
            snprintf(warn + used, cap - used,
                     "%swarning: region '%s': the SDDL grants %s 0x%lx "
                     "(FILE_MAP_READ) without SECTION_QUERY (0x1); readers "
                     "that query the size (Boost.Interprocess, .NET "
                     "MemoryMappedFile) get access denied: grant 0x%lx",
                     used ? "\n" : "", region, text, (unsigned long)mask,
                     (unsigned long)(mask | SECTION_QUERY));
            count++;
        }
    }
    LocalFree(sd);
    return count;
}

int win_config_review(const shmb_config *cfg, char *why, size_t whycap,
                      char *warn, size_t warncap)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    size_t i;
    int rc;

    if (warncap > 0)
        warn[0] = '\0';
    if (!win_sd_owned(cfg->pipe_sddl, &sd)) {
        snprintf(why, whycap, "pipe SDDL does not parse (error %lu)",
                 GetLastError());
        return SHMB_E_INVALID_ARG;
    }
    rc = win_pipe_sd_check(sd, why, whycap);
    LocalFree(sd);
    if (rc != SHMB_OK)
        return rc;
    for (i = 0; i < cfg->nregions; i++) {
        if (cfg->regions[i].global_name[0] != '\0')
            win_section_sddl_warnings(cfg->regions[i].name,
                                      cfg->regions[i].sddl, warn, warncap);
    }
    return SHMB_OK;
}
