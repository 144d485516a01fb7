/* SPDX-License-Identifier: MPL-2.0 */
/*
 * peer_win.c - who is connected (docs/security.md: identity from the kernel).
 *
 * Identity comes from the kernel, never from a message: we impersonate the
 * pipe client just long enough to open its token, read user, groups,
 * integrity level, AppContainer SID and session, and revert. The client's
 * process is opened once, and its token user must match the impersonated
 * user: this catches a pipe handle passed to (or inherited by) a process of
 * another user, so grants only ever go to the process we identified.
 *
 * The effective identity is the *lesser* of the two tokens (see
 * shmb_identity_merge): a group counts for an allow only if enabled in both, it
 * counts for a deny if deny-only in either or present in only one, and the
 * integrity level is the lower one. A client gains nothing by impersonating
 * someone, and a thread that impersonates a weaker token gets less. (Under
 * Wine, ImpersonateNamedPipeClient impersonates the server itself - a Wine
 * FIXME - so there the client's process token supplies the restrictions.)
 */
#include <windows.h>

#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer_win.h"
#include "util_win.h"

/* TokenAppContainerSid is 31; older MinGW headers may lack the enum name. */
#define TOKEN_APPCONTAINER_SID_CLASS ((TOKEN_INFORMATION_CLASS)31)

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
    int ok = 1;

    if (g == NULL)
        return 0;
    for (i = 0; ok && i < g->GroupCount; i++) {
        DWORD attr = g->Groups[i].Attributes;
        if ((attr & SE_GROUP_INTEGRITY) || (attr & SE_GROUP_LOGON_ID))
            continue;
        /* A group we cannot name could be the one a deny rule names:
         * skipping it would let the client past that rule. */
        if (!win_sid_string(g->Groups[i].Sid, sid, sizeof(sid))) {
            ok = 0;
            break;
        }
        /* A deny-only group (e.g. Administrators in a restricted or
         * filtered token) must never match an allow rule, but does match a
         * deny rule; a disabled group matches nothing. */
        if (attr & SE_GROUP_USE_FOR_DENY_ONLY)
            ok = shmb_identity_add_group(id, sid, 1) == SHMB_OK;
        else if (attr & SE_GROUP_ENABLED)
            ok = shmb_identity_add_group(id, sid, 0) == SHMB_OK;
    }
    free(g);
    return ok;
}

/* A restricted token grants only what both its normal SIDs and its
 * restricting SIDs grant: a SID missing from the restricting list can no
 * longer count for an allow (it still counts for a deny). */
static int apply_restricting_sids(HANDLE tok, shmb_identity *id,
                                  const TOKEN_USER *u)
{
    TOKEN_GROUPS *rs = token_info(tok, TokenRestrictedSids);
    char sid[SHMB_SID_MAX];
    DWORD i;
    size_t k = 0;
    int ok = 1, user_listed = 0;

    if (rs == NULL || rs->GroupCount == 0) {
        free(rs);
        return 1;
    }
    for (i = 0; i < rs->GroupCount; i++) {
        if (EqualSid(rs->Groups[i].Sid, u->User.Sid))
            user_listed = 1;
    }
    if (!user_listed)
        id->user_deny_only = 1;
    while (ok && k < id->ngroups) {
        int listed = 0;
        for (i = 0; i < rs->GroupCount && !listed; i++)
            listed = win_sid_string(rs->Groups[i].Sid, sid, sizeof(sid)) &&
                     strcmp(sid, id->groups[k]) == 0;
        if (listed) {
            k++;
            continue;
        }
        ok = shmb_identity_add_group(id, id->groups[k], 1) == SHMB_OK;
        free(id->groups[k]);
        id->groups[k] = id->groups[--id->ngroups];
    }
    free(rs);
    return ok;
}

static int read_token(HANDLE tok, shmb_identity *id, PSID *user_out)
{
    TOKEN_USER *u = token_info(tok, TokenUser);
    TOKEN_MANDATORY_LABEL *il = token_info(tok, TokenIntegrityLevel);
    TOKEN_APPCONTAINER_INFORMATION *ac =
        token_info(tok, TOKEN_APPCONTAINER_SID_CLASS);
    DWORD session = 0, n = sizeof(session);
    int ok = 0;

    if (u == NULL ||
        !win_sid_string(u->User.Sid, id->user_sid, sizeof(id->user_sid)))
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
    if (u->User.Attributes & SE_GROUP_USE_FOR_DENY_ONLY)
        id->user_deny_only = 1;
    if (!read_groups(tok, id) || !apply_restricting_sids(tok, id, u))
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

/* Reads the identity of the client process's own (primary) token. */
static int process_identity(HANDLE process, shmb_identity *id,
                            TOKEN_USER **user)
{
    HANDLE tok = NULL;
    int ok;
    if (!OpenProcessToken(process, TOKEN_QUERY, &tok))
        return 0;
    ok = read_token(tok, id, (PSID *)user);
    CloseHandle(tok);
    return ok;
}

/* Two different AppContainers in one client cannot be resolved safely. */
static int appcontainers_agree(const shmb_identity *a, const shmb_identity *b)
{
    return !a->appcontainer_sid[0] || !b->appcontainer_sid[0] ||
           strcmp(a->appcontainer_sid, b->appcontainer_sid) == 0;
}

/* A process's creation time in 100 ns units, or 0 when it cannot be read.
 * With the pid it names one process: a later one with the same pid was
 * created at another time. */
static uint64_t creation_time(HANDLE process)
{
    FILETIME created, exited, kernel, user;
    if (!GetProcessTimes(process, &created, &exited, &kernel, &user))
        return 0;
    return (uint64_t)created.dwHighDateTime << 32 | created.dwLowDateTime;
}

/* 1 if the process was created after `accepted`, so it cannot be the
 * one that connected: its pid was reused after the client exited. */
static int created_after(HANDLE process, const FILETIME *accepted)
{
    uint64_t created = creation_time(process);
    uint64_t at =
        (uint64_t)accepted->dwHighDateTime << 32 | accepted->dwLowDateTime;
    /* Cannot tell: not a client we can vouch for. */
    return created == 0 || created > at;
}

int plat_process_alive(uint32_t pid, uint64_t created)
{
    HANDLE h;
    int alive = 1;

    if (created == 0)
        return 1; /* never known: cannot tell, so alive */
    h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE,
                    pid);
    if (h == NULL)
        return GetLastError() == ERROR_INVALID_PARAMETER ? 0 : 1;
    if (creation_time(h) != created ||
        WaitForSingleObject(h, 0) == WAIT_OBJECT_0)
        alive = 0; /* another process now has the pid, or it has exited */
    CloseHandle(h);
    return alive;
}

int peer_identify(HANDLE pipe, const FILETIME *accepted, plat_peer **out,
                  shmb_identity *id, char *why, size_t whycap)
{
    HANDLE tok = NULL, process = NULL;
    TOKEN_USER *user = NULL, *puser = NULL;
    shmb_identity imp, proc;
    ULONG pid = 0;
    WCHAR *image = malloc(32768 * sizeof(WCHAR)); /* long paths too */
    DWORD n = 32768;
    plat_peer *peer = NULL;
    int rc = SHMB_E_SYSTEM;

    memset(id, 0, sizeof(*id));
    memset(&imp, 0, sizeof(imp));
    memset(&proc, 0, sizeof(proc));
    if (!GetNamedPipeClientProcessId(pipe, &pid)) {
        snprintf(why, whycap, "GetNamedPipeClientProcessId failed (%lu)",
                 GetLastError());
        goto cleanup;
    }
    id->pid = pid;
    if (!impersonated_token(pipe, &tok) ||
        !read_token(tok, &imp, (PSID *)&user)) {
        snprintf(why, whycap, "cannot read the client token (%lu)",
                 GetLastError());
        goto cleanup;
    }
    process = OpenProcess(
        PROCESS_DUP_HANDLE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (process == NULL) {
        snprintf(why, whycap, "cannot open client process %lu (%lu)", pid,
                 GetLastError());
        goto cleanup;
    }
    if (created_after(process, accepted)) {
        snprintf(why, whycap,
                 "process %lu was created after the connection was accepted: "
                 "the client exited and its pid was reused",
                 pid);
        rc = SHMB_E_ACCESS_DENIED;
        goto cleanup;
    }
    if (!process_identity(process, &proc, &puser)) {
        snprintf(why, whycap, "cannot read the token of process %lu (%lu)", pid,
                 GetLastError());
        goto cleanup;
    }
    if (!EqualSid(puser->User.Sid, user->User.Sid)) {
        snprintf(why, whycap,
                 "process %lu runs as %.80s, not as the pipe client's user "
                 "%.80s",
                 pid, proc.user_sid, imp.user_sid);
        rc = SHMB_E_ACCESS_DENIED;
        goto cleanup;
    }
    if (!appcontainers_agree(&imp, &proc)) {
        snprintf(why, whycap,
                 "process %lu is in AppContainer %.80s but its pipe client "
                 "token is in %.80s",
                 pid, proc.appcontainer_sid, imp.appcontainer_sid);
        rc = SHMB_E_ACCESS_DENIED;
        goto cleanup;
    }
    /* The session decides session rules: a thread cannot borrow another
     * session's token to pass as that session's client. */
    if (imp.session != proc.session) {
        snprintf(why, whycap,
                 "process %lu is in session %lu but its pipe client token is "
                 "in session %lu",
                 pid, (unsigned long)proc.session, (unsigned long)imp.session);
        rc = SHMB_E_ACCESS_DENIED;
        goto cleanup;
    }
    memcpy(id->user_sid, imp.user_sid, sizeof(id->user_sid));
    if (shmb_identity_merge(&imp, &proc, id) != SHMB_OK) {
        rc = SHMB_E_NOMEM;
        goto cleanup;
    }
    /* Left empty if unknown or too long for id->image (win_utf8 writes
     * nothing then, never a truncated path that an allow pattern could
     * match): an empty image matches no allow image rule and every deny
     * image rule (common/policy.c). Image rules still are no boundary: a
     * process can run any image of its choice (docs/security.md). */
    if (image != NULL && QueryFullProcessImageNameW(process, 0, image, &n))
        win_utf8(image, id->image, sizeof(id->image));
    id->process_created = creation_time(process);
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
    shmb_identity_free(&imp);
    shmb_identity_free(&proc);
    if (process != NULL)
        CloseHandle(process);
    if (tok != NULL)
        CloseHandle(tok);
    free(user);
    free(puser);
    free(image);
    return rc;
}

void plat_peer_free(plat_peer *peer)
{
    if (peer == NULL)
        return;
    CloseHandle(peer->process);
    free(peer);
}
