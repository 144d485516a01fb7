/* SPDX-License-Identifier: MPL-2.0 */
/*
 * trust_win.c - is a file the service reads (its config) or writes (its
 * log) under the control of administrators only?
 *
 * The service runs as LocalSystem and its config is its policy. If an
 * ordinary user could create or edit that file - for instance by creating
 * %ProgramData%\shmbroker before the service is installed - that user would
 * write the rules. So a path is trusted only if it and its folder are owned
 * by, and writable only by, SYSTEM, Administrators, TrustedInstaller or the
 * service's own account.
 */
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>
#include <stdio.h>
#include <string.h>

#include "peer_win.h"
#include "trust_win.h"

#define TRUSTED_INSTALLER                                                      \
    "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"

/* Rights that let the holder change what the service will read, for a
 * file and for the folder holding it (add/replace/delete entries). */
#define FILE_WRITE_RIGHTS                                                      \
    (FILE_WRITE_DATA | FILE_APPEND_DATA | WRITE_DAC | WRITE_OWNER | DELETE |   \
     GENERIC_WRITE | GENERIC_ALL)
#define DIR_WRITE_RIGHTS                                                       \
    (FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY | FILE_DELETE_CHILD | WRITE_DAC |   \
     WRITE_OWNER | DELETE | GENERIC_WRITE | GENERIC_ALL)

static int sid_trusted(PSID sid, const char *self)
{
    char text[SHMB_SID_MAX];
    if (!win_sid_string(sid, text, sizeof(text)))
        return 0;
    return strcmp(text, "S-1-5-18") == 0 ||     /* LocalSystem */
           strcmp(text, "S-1-5-32-544") == 0 || /* Administrators */
           strcmp(text, TRUSTED_INSTALLER) == 0 ||
           (self[0] != '\0' && strcmp(text, self) == 0);
}

static int object_trusted(const WCHAR *path, const char *shown, int is_dir,
                          const char *self, char *why, size_t cap)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    PSID owner = NULL;
    PACL dacl = NULL;
    DWORD rc, i, mask = is_dir ? DIR_WRITE_RIGHTS : FILE_WRITE_RIGHTS;
    char text[SHMB_SID_MAX] = "?";
    int ok = 1;

    rc = GetNamedSecurityInfoW(path, SE_FILE_OBJECT,
                               OWNER_SECURITY_INFORMATION |
                                   DACL_SECURITY_INFORMATION,
                               &owner, NULL, &dacl, NULL, &sd);
    if (rc != ERROR_SUCCESS) {
        snprintf(why, cap, "%s: cannot read its security (error %lu)", shown,
                 rc);
        return 0;
    }
    if (owner == NULL || !sid_trusted(owner, self)) {
        win_sid_string(owner, text, sizeof(text));
        snprintf(why, cap,
                 "%s is owned by %s, not by SYSTEM, Administrators or the "
                 "service's account: refusing to trust it",
                 shown, text);
        ok = 0;
    } else if (dacl == NULL) {
        snprintf(why, cap, "%s has no DACL (anyone may change it)", shown);
        ok = 0;
    }
    for (i = 0; ok && i < dacl->AceCount; i++) {
        ACCESS_ALLOWED_ACE *ace;
        if (!GetAce(dacl, i, (void **)&ace) ||
            ace->Header.AceType != ACCESS_ALLOWED_ACE_TYPE ||
            (ace->Header.AceFlags & INHERIT_ONLY_ACE) || !(ace->Mask & mask))
            continue;
        if (!sid_trusted((PSID)&ace->SidStart, self)) {
            win_sid_string((PSID)&ace->SidStart, text, sizeof(text));
            snprintf(why, cap,
                     "%s is writable by %s (access 0x%lx): only SYSTEM, "
                     "Administrators and the service's account may change "
                     "it",
                     shown, text, (unsigned long)ace->Mask);
            ok = 0;
        }
    }
    LocalFree(sd);
    return ok;
}

int win_path_exists(const char *path)
{
    WCHAR w[MAX_PATH * 2];
    return MultiByteToWideChar(CP_UTF8, 0, path, -1, w, MAX_PATH * 2) &&
           GetFileAttributesW(w) != INVALID_FILE_ATTRIBUTES;
}

int win_path_trusted(const char *path, int may_be_new, char *why, size_t cap)
{
    WCHAR wpath[MAX_PATH * 2], wdir[MAX_PATH * 2];
    WCHAR *slash;
    char self[SHMB_SID_MAX] = "", dir[MAX_PATH * 3];
    TOKEN_USER *me = win_self_user();

    if (me != NULL) {
        win_sid_string(me->User.Sid, self, sizeof(self));
        free(me);
    }
    if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, MAX_PATH * 2) ||
        !GetFullPathNameW(wpath, MAX_PATH * 2, wdir, NULL)) {
        snprintf(why, cap, "%s: not a valid path", path);
        return 0;
    }
    slash = wcsrchr(wdir, L'\\');
    if (slash != NULL)
        *slash = L'\0';
    win_utf8(wdir, dir, sizeof(dir));
    if (!object_trusted(wdir, dir, 1, self, why, cap))
        return 0;
    if (may_be_new && GetFileAttributesW(wpath) == INVALID_FILE_ATTRIBUTES)
        return 1;
    return object_trusted(wpath, path, 0, self, why, cap);
}
