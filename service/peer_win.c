/* SPDX-License-Identifier: MPL-2.0 */
/*
 * peer_win.c - who is connected (DESIGN.md security rule 3).
 *
 * Identity comes from the kernel, never from a message: we impersonate the
 * pipe client just long enough to open its token, read user, groups,
 * integrity level, AppContainer SID and session, and revert. The client's
 * process is opened once, and its token user must match the impersonated
 * user: this catches a pipe handle passed to (or inherited by) a process of
 * another user, so grants only ever go to the process we identified.
 */
#include <windows.h>

#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer_win.h"

/* TokenAppContainerSid is 31; older MinGW headers may lack the enum name. */
#define TOKEN_APPCONTAINER_SID_CLASS ((TOKEN_INFORMATION_CLASS)31)

int win_utf8(const WCHAR *w, char *out, size_t cap)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, out, (int)cap, NULL, NULL);
    if (n <= 0) {
        if (cap > 0)
            out[0] = '\0';
        return 0;
    }
    return 1;
}

int win_sid_string(PSID sid, char *out, size_t cap)
{
    LPWSTR s = NULL;
    int ok;
    if (sid == NULL || !ConvertSidToStringSidW(sid, &s))
        return 0;
    ok = win_utf8(s, out, cap);
    LocalFree(s);
    return ok;
}

/* GetTokenInformation into a heap buffer sized by the first call. */
static void *token_info(HANDLE tok, TOKEN_INFORMATION_CLASS cls)
{
    DWORD n = 0;
    void *buf;
    GetTokenInformation(tok, cls, NULL, 0, &n);
    if (n == 0)
        return NULL;
    buf = malloc(n);
    if (buf != NULL && !GetTokenInformation(tok, cls, buf, n, &n)) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

static int read_groups(HANDLE tok, shmb_identity *id)
{
    TOKEN_GROUPS *g = token_info(tok, TokenGroups);
    DWORD i;
    char sid[SHMB_SID_MAX];

    if (g == NULL)
        return 0;
    id->groups = calloc(g->GroupCount ? g->GroupCount : 1, sizeof(char *));
    if (id->groups == NULL) {
        free(g);
        return 0;
    }
    for (i = 0; i < g->GroupCount; i++) {
        DWORD attr = g->Groups[i].Attributes;
        /* A deny-only group (e.g. Administrators in a restricted token)
         * must never match an allow rule. */
        if (!(attr & SE_GROUP_ENABLED) || (attr & SE_GROUP_USE_FOR_DENY_ONLY) ||
            (attr & SE_GROUP_INTEGRITY) || (attr & SE_GROUP_LOGON_ID))
            continue;
        if (!win_sid_string(g->Groups[i].Sid, sid, sizeof(sid)))
            continue;
        id->groups[id->ngroups] = _strdup(sid);
        if (id->groups[id->ngroups] != NULL)
            id->ngroups++;
    }
    free(g);
    return 1;
}

static int read_token(HANDLE tok, shmb_identity *id, PSID *user_out)
{
    TOKEN_USER *u = token_info(tok, TokenUser);
    TOKEN_MANDATORY_LABEL *il = token_info(tok, TokenIntegrityLevel);
    TOKEN_APPCONTAINER_INFORMATION *ac =
        token_info(tok, TOKEN_APPCONTAINER_SID_CLASS);
    DWORD session = 0, n = sizeof(session);
    int ok = 0;

    if (u == NULL || !win_sid_string(u->User.Sid, id->user_sid,
                                     sizeof(id->user_sid)))
        goto cleanup;
    if (il != NULL) {
        PUCHAR cnt = GetSidSubAuthorityCount(il->Label.Sid);
        id->integrity = *GetSidSubAuthority(il->Label.Sid, *cnt - 1);
    } else {
        id->integrity = SHMB_IL_MEDIUM; /* tokens before Vista */
    }
    if (ac != NULL && ac->TokenAppContainer != NULL)
        win_sid_string(ac->TokenAppContainer, id->appcontainer_sid,
                       sizeof(id->appcontainer_sid));
    if (GetTokenInformation(tok, TokenSessionId, &session, n, &n))
        id->session = session;
    if (!read_groups(tok, id))
        goto cleanup;
    *user_out = u;
    u = NULL;
    ok = 1;
cleanup:
    free(u);
    free(il);
    free(ac);
    return ok;
}

/* Reads the impersonation token of the pipe client. */
static int impersonated_token(HANDLE pipe, HANDLE *tok)
{
    BOOL opened;
    if (!ImpersonateNamedPipeClient(pipe))
        return 0;
    /* OpenAsSelf: the client connected with SECURITY_IDENTIFICATION, and an
     * identification-level token cannot be used for the access check on
     * its own thread object. */
    opened = OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, tok);
    if (!RevertToSelf()) {
        /* Continuing as the client would be a privilege confusion. */
        abort();
    }
    return opened ? 1 : 0;
}

static int process_user_matches(HANDLE process, PSID user)
{
    HANDLE tok = NULL;
    TOKEN_USER *pu;
    int match = 0;
    if (!OpenProcessToken(process, TOKEN_QUERY, &tok))
        return 0;
    pu = token_info(tok, TokenUser);
    if (pu != NULL)
        match = EqualSid(pu->User.Sid, user) ? 1 : 0;
    free(pu);
    CloseHandle(tok);
    return match;
}

int peer_identify(HANDLE pipe, plat_peer **out, shmb_identity *id, char *why,
                  size_t whycap)
{
    HANDLE tok = NULL, process = NULL;
    TOKEN_USER *user = NULL;
    ULONG pid = 0;
    WCHAR image[MAX_PATH * 2];
    DWORD n = MAX_PATH * 2;
    plat_peer *peer = NULL;
    int rc = SHMB_E_SYSTEM;

    memset(id, 0, sizeof(*id));
    if (!GetNamedPipeClientProcessId(pipe, &pid)) {
        snprintf(why, whycap, "GetNamedPipeClientProcessId failed (%lu)",
                 GetLastError());
        goto cleanup;
    }
    id->pid = pid;
    if (!impersonated_token(pipe, &tok) ||
        !read_token(tok, id, (PSID *)&user)) {
        snprintf(why, whycap, "cannot read the client token (%lu)",
                 GetLastError());
        goto cleanup;
    }
    process = OpenProcess(PROCESS_DUP_HANDLE | PROCESS_QUERY_LIMITED_INFORMATION,
                          FALSE, pid);
    if (process == NULL) {
        snprintf(why, whycap, "cannot open client process %lu (%lu)", pid,
                 GetLastError());
        goto cleanup;
    }
    if (!process_user_matches(process, user->User.Sid)) {
        snprintf(why, whycap,
                 "process %lu does not run as the pipe client's user", pid);
        rc = SHMB_E_ACCESS_DENIED;
        goto cleanup;
    }
    if (QueryFullProcessImageNameW(process, 0, image, &n))
        win_utf8(image, id->image, sizeof(id->image));
    peer = malloc(sizeof(*peer));
    if (peer == NULL) {
        rc = SHMB_E_NOMEM;
        goto cleanup;
    }
    peer->process = process;
    peer->pid = pid;
    process = NULL;
    *out = peer;
    rc = SHMB_OK;
cleanup:
    if (rc != SHMB_OK)
        shmb_identity_free(id);
    if (process != NULL)
        CloseHandle(process);
    if (tok != NULL)
        CloseHandle(tok);
    free(user);
    return rc;
}

void peer_free(plat_peer *peer)
{
    if (peer == NULL)
        return;
    CloseHandle(peer->process);
    free(peer);
}
