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
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "shmb_config.h"
#include "trust_win.h"
#include "util_win.h"

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

static int path_exists(const char *path)
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

void plat_default_config_path(char *out, size_t cap)
{
    WCHAR dir[MAX_PATH];
    char udir[MAX_PATH * 3];
    DWORD n = GetEnvironmentVariableW(L"ProgramData", dir, MAX_PATH);
    if (n == 0 || n >= MAX_PATH || !win_utf8(dir, udir, sizeof(udir)))
        strcpy(udir, "C:\\ProgramData");
    snprintf(out, cap, "%s\\shmbroker\\config.json", udir);
}

/* Reads a whole file of at most `max` bytes; NULL with *err on failure. */
static char *read_file(const char *path, size_t max, size_t *len, DWORD *err)
{
    WCHAR wpath[MAX_PATH * 2];
    HANDLE f;
    LARGE_INTEGER size;
    char *buf = NULL;
    DWORD n = 0;

    *err = 0;
    if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, MAX_PATH * 2)) {
        *err = GetLastError();
        return NULL;
    }
    f = CreateFileW(wpath, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                    FILE_ATTRIBUTE_NORMAL, NULL);
    if (f == INVALID_HANDLE_VALUE) {
        *err = GetLastError();
        return NULL;
    }
    if (!GetFileSizeEx(f, &size) || (uint64_t)size.QuadPart > max) {
        *err = ERROR_FILE_TOO_LARGE;
    } else {
        buf = malloc((size_t)size.QuadPart + 1);
        if (buf == NULL)
            *err = ERROR_NOT_ENOUGH_MEMORY;
        else if (!ReadFile(f, buf, (DWORD)size.QuadPart, &n, NULL)) {
            *err = GetLastError();
            free(buf);
            buf = NULL;
        }
    }
    CloseHandle(f);
    if (buf != NULL) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

int plat_file_read_trusted(const char *path, size_t max, char **text,
                           size_t *len, char *why, size_t whycap)
{
    DWORD err;

    /* Present: it is our policy, so it must be under administrators'
     * control before we read a byte of it. */
    if (!win_path_trusted(path, 0, why, whycap))
        return path_exists(path) ? SHMB_E_ACCESS_DENIED : SHMB_E_NOT_FOUND;
    *text = read_file(path, max, len, &err);
    if (*text != NULL)
        return SHMB_OK;
    snprintf(why, whycap, "%s: cannot read (system error %lu)", path, err);
    return err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND
               ? SHMB_E_NOT_FOUND
               : SHMB_E_SYSTEM;
}
