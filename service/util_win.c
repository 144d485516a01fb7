/* SPDX-License-Identifier: MPL-2.0 */
/* util_win.c - see util_win.h. */
#include <windows.h>

#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmb_config.h"
#include "util_win.h"

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

int win_wide(const char *s, WCHAR *out, size_t cap)
{
    return MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, out,
                               (int)cap) != 0;
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

TOKEN_USER *win_self_user(void)
{
    HANDLE tok;
    DWORD n = 0;
    TOKEN_USER *u = NULL;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
        return NULL;
    GetTokenInformation(tok, TokenUser, NULL, 0, &n);
    if (n != 0)
        u = malloc(n);
    if (u != NULL && !GetTokenInformation(tok, TokenUser, u, n, &n)) {
        free(u);
        u = NULL;
    }
    CloseHandle(tok);
    return u;
}

int sd_has_real_dacl(PSECURITY_DESCRIPTOR sd)
{
    BOOL present = FALSE, defaulted = FALSE;
    PACL dacl = NULL;
    return GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) &&
           present && dacl != NULL;
}

int win_sd_owned(const char *sddl, PSECURITY_DESCRIPTOR *out)
{
    char sid[SHMB_SID_MAX], text[SHMB_SDDL_MAX + SHMB_SID_MAX + 4];
    WCHAR wtext[SHMB_SDDL_MAX + SHMB_SID_MAX + 4];
    TOKEN_USER *self;

    *out = NULL;
    if (strncmp(sddl, "O:", 2) == 0) {
        snprintf(text, sizeof(text), "%s", sddl);
    } else {
        self = win_self_user();
        if (self == NULL || !win_sid_string(self->User.Sid, sid, sizeof(sid))) {
            free(self);
            return 0;
        }
        free(self);
        snprintf(text, sizeof(text), "O:%s%s", sid, sddl);
    }
    if (!win_wide(text, wtext, sizeof(wtext) / sizeof(wtext[0]))) {
        SetLastError(ERROR_NO_UNICODE_TRANSLATION);
        return 0;
    }
    return ConvertStringSecurityDescriptorToSecurityDescriptorW(
               wtext, SDDL_REVISION_1, out, NULL) != 0;
}

int win_ace_grant(const ACE_HEADER *ace, ACCESS_MASK *mask, PSID *sid)
{
    const BYTE *p = (const BYTE *)ace, *end = p + ace->AceSize;
    const BYTE *body = p + sizeof(ACE_HEADER) + sizeof(ACCESS_MASK);
    DWORD flags;

    *sid = NULL;
    *mask = 0;
    switch (ace->AceType) {
    case ACCESS_DENIED_ACE_TYPE:
    case ACCESS_DENIED_OBJECT_ACE_TYPE:
    case ACCESS_DENIED_CALLBACK_ACE_TYPE:
    case ACCESS_DENIED_CALLBACK_OBJECT_ACE_TYPE:
        return 0;
    default:
        break;
    }
    if (ace->AceSize < sizeof(ACE_HEADER) + sizeof(ACCESS_MASK))
        return 1; /* a grant of we know not what to whom: "anyone" */
    memcpy(mask, p + sizeof(ACE_HEADER), sizeof(*mask));
    switch (ace->AceType) {
    case ACCESS_ALLOWED_ACE_TYPE:
    case ACCESS_ALLOWED_CALLBACK_ACE_TYPE:
        break; /* the callback's condition may well be true: a grant */
    case ACCESS_ALLOWED_OBJECT_ACE_TYPE:
    case ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE:
        if (body + sizeof(DWORD) > end)
            return 1;
        memcpy(&flags, body, sizeof(flags));
        body += sizeof(DWORD);
        if (flags & ACE_OBJECT_TYPE_PRESENT)
            body += sizeof(GUID);
        if (flags & ACE_INHERITED_OBJECT_TYPE_PRESENT)
            body += sizeof(GUID);
        break;
    default:
        /* Compound (server + client SIDs) and unknown kinds: their SID is
         * not the grantee we could name, so count them as anyone's. */
        return 1;
    }
    if (body + 8 <= end && IsValidSid((PSID)body) &&
        body + GetLengthSid((PSID)body) <= end)
        *sid = (PSID)body;
    return 1;
}
