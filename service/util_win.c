/* SPDX-License-Identifier: MPL-2.0 */
/* util_win.c - see util_win.h. */
#include <windows.h>

#include <sddl.h>
#include <stdlib.h>

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
