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
 *
 * Everything is judged by handle, never by path: the folder is opened
 * first (and held, so it cannot be renamed), then the file, neither
 * following a reparse point, and the file is read (or the log appended)
 * through the very handle whose owner and DACL were checked.
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

int win_dacl_trusted(const ACL *dacl, const char *shown, DWORD mask,
                     const char *self, char *why, size_t cap)
{
    char text[SHMB_SID_MAX];
    DWORD i;

    for (i = 0; i < dacl->AceCount; i++) {
        ACE_HEADER *ace;
        ACCESS_MASK granted;
        PSID sid;
        if (!GetAce((PACL)dacl, i, (void **)&ace) ||
            !win_ace_grant(ace, &granted, &sid) ||
            (ace->AceFlags & INHERIT_ONLY_ACE) || !(granted & mask))
            continue;
        if (sid != NULL && sid_trusted(sid, self))
            continue;
        if (sid == NULL || !win_sid_string(sid, text, sizeof(text)))
            snprintf(text, sizeof(text), "an unreadable SID");
        snprintf(why, cap,
                 "%s is writable by %s (access 0x%lx): only SYSTEM, "
                 "Administrators and the service's account may change it",
                 shown, text, (unsigned long)granted);
        return 0;
    }
    return 1;
}

/* Rights to open a file or folder only to judge it (and read it). */
#define JUDGE_RIGHTS (READ_CONTROL | FILE_READ_ATTRIBUTES | SYNCHRONIZE)

/* Judges an open file or folder: not a reparse point (a link, junction or
 * mount point could lead anywhere), the expected kind, owned and writable
 * only by trusted SIDs. Every allowed ACE counts, callback and object ones
 * too; one whose grantee cannot be read counts as anyone's. */
static int handle_trusted(HANDLE h, const char *shown, int is_dir,
                          const char *self, char *why, size_t cap)
{
    BY_HANDLE_FILE_INFORMATION fi;
    PSECURITY_DESCRIPTOR sd = NULL;
    PSID owner = NULL;
    PACL dacl = NULL;
    DWORD rc, mask = is_dir ? DIR_WRITE_RIGHTS : FILE_WRITE_RIGHTS;
    char text[SHMB_SID_MAX] = "?";
    int ok = 1;

    if (!GetFileInformationByHandle(h, &fi)) {
        snprintf(why, cap, "%s: cannot read its attributes (error %lu)", shown,
                 GetLastError());
        return 0;
    }
    if (fi.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) {
        snprintf(why, cap,
                 "%s is a reparse point (a link, junction or mount point): "
                 "refusing to follow it",
                 shown);
        return 0;
    }
    if (!(fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != !is_dir) {
        snprintf(why, cap, "%s is %s", shown,
                 is_dir ? "not a folder" : "a folder, not a file");
        return 0;
    }
    rc = GetSecurityInfo(h, SE_FILE_OBJECT,
                         OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
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
    if (ok)
        ok = win_dacl_trusted(dacl, shown, mask, self, why, cap);
    LocalFree(sd);
    return ok;
}

/* Opens a path without following a final reparse point. Nothing is opened
 * with FILE_SHARE_DELETE: nobody can rename, replace or delete the folder
 * or the file while we hold them. A file opened for appending (the log)
 * lets others read and write it, as fopen did; the config is read only
 * while nobody writes it. */
static HANDLE open_nofollow(const WCHAR *path, DWORD access, DWORD disposition,
                            int is_dir, SECURITY_ATTRIBUTES *sa)
{
    DWORD flags = FILE_FLAG_OPEN_REPARSE_POINT;
    DWORD share = FILE_SHARE_READ;
    if (is_dir) {
        flags |= FILE_FLAG_BACKUP_SEMANTICS;
        share |= FILE_SHARE_WRITE;
    } else if (access & FILE_APPEND_DATA) {
        share |= FILE_SHARE_WRITE;
    }
    return CreateFileW(path, access, share, sa, disposition, flags, NULL);
}

/* A protected DACL for a file only SYSTEM, Administrators and the service's
 * own account may touch; 0 or -1. */
static int private_sd(const char *self, SECURITY_ATTRIBUTES *sa)
{
    char text[SHMB_SID_MAX + 64];
    WCHAR wtext[SHMB_SID_MAX + 64];
    snprintf(text, sizeof(text), "D:P(A;;FA;;;SY)(A;;FA;;;BA)%s%s%s",
             self[0] ? "(A;;FA;;;" : "", self, self[0] ? ")" : "");
    sa->nLength = sizeof(*sa);
    sa->bInheritHandle = FALSE;
    sa->lpSecurityDescriptor = NULL;
    if (!MultiByteToWideChar(CP_UTF8, 0, text, -1, wtext, SHMB_SID_MAX + 64) ||
        !ConvertStringSecurityDescriptorToSecurityDescriptorW(
            wtext, SDDL_REVISION_1, &sa->lpSecurityDescriptor, NULL))
        return -1;
    return 0;
}

/* 1 if `file`'s final path is directly inside `dir`'s: the file we opened
 * by name is the one in the folder we judged (no component was swapped
 * between the two opens). */
static int file_in_dir(HANDLE file, HANDLE dir)
{
    WCHAR fp[MAX_PATH * 2], dp[MAX_PATH * 2], *slash;
    DWORD nf = GetFinalPathNameByHandleW(file, fp, MAX_PATH * 2, 0);
    DWORD nd = GetFinalPathNameByHandleW(dir, dp, MAX_PATH * 2, 0);
    if (nf == 0 || nf >= MAX_PATH * 2 || nd == 0 || nd >= MAX_PATH * 2)
        return 0;
    slash = wcsrchr(fp, L'\\');
    if (slash == NULL)
        return 0;
    *slash = L'\0';
    if (nd > 0 && dp[nd - 1] == L'\\') /* a drive's root: "C:\" */
        dp[nd - 1] = L'\0';
    return _wcsicmp(fp, dp) == 0;
}

/* The caller's own account as text, or "": the service judges with its
 * own token, so its account is the one that runs this. */
static void caller_sid(char *self, size_t cap)
{
    TOKEN_USER *me = win_self_user();
    self[0] = '\0';
    if (me != NULL) {
        win_sid_string(me->User.Sid, self, cap);
        free(me);
    }
}

static int under_wine(void)
{
    return GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") !=
           NULL;
}

void win_service_account_sid(char *self, size_t cap)
{
    /* Both installers create the service as LocalSystem, and that is its
     * token's user. Wine runs every process, services too, as its one
     * user: there the service's account is whoever runs this. Never
     * NT SERVICE\<name>: the service itself trusts only its token's user
     * (see caller_sid), and the two judgements must agree. */
    if (under_wine())
        caller_sid(self, cap);
    else
        snprintf(self, cap, "S-1-5-18");
}

int win_dir_trusted_as(const WCHAR *dir, const char *self, char *why,
                       size_t cap)
{
    char shown[MAX_PATH * 3];
    HANDLE h = open_nofollow(dir, JUDGE_RIGHTS, OPEN_EXISTING, 1, NULL);
    int ok;

    win_utf8(dir, shown, sizeof(shown));
    if (h == INVALID_HANDLE_VALUE) {
        snprintf(why, cap, "%s: cannot open the folder (system error %lu)",
                 shown, GetLastError());
        return 0;
    }
    ok = handle_trusted(h, shown, 1, self, why, cap);
    CloseHandle(h);
    return ok;
}

int win_file_open_trusted(const char *path, int append, HANDLE *out, char *why,
                          size_t cap)
{
    char self[SHMB_SID_MAX];
    caller_sid(self, sizeof(self));
    return win_file_open_trusted_as(path, append, self, out, why, cap);
}

int win_file_open_trusted_as(const char *path, int append, const char *self,
                             HANDLE *out, char *why, size_t cap)
{
    WCHAR wpath[MAX_PATH * 2], wdir[MAX_PATH * 2];
    WCHAR *slash;
    char dir[MAX_PATH * 3];
    SECURITY_ATTRIBUTES sa;
    HANDLE hdir, h;
    DWORD err;
    int rc = SHMB_E_ACCESS_DENIED;

    *out = INVALID_HANDLE_VALUE;
    if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, MAX_PATH * 2) ||
        !GetFullPathNameW(wpath, MAX_PATH * 2, wdir, NULL)) {
        snprintf(why, cap, "%s: not a valid path", path);
        return SHMB_E_INVALID_ARG;
    }
    slash = wcsrchr(wdir, L'\\');
    if (slash != NULL)
        *slash = L'\0';
    win_utf8(wdir, dir, sizeof(dir));
    /* The folder first, by handle: an untrusted folder is fatal even when
     * the file is absent (whoever may write it may plant one later). */
    hdir = open_nofollow(wdir, JUDGE_RIGHTS, OPEN_EXISTING, 1, NULL);
    if (hdir == INVALID_HANDLE_VALUE) {
        err = GetLastError();
        snprintf(why, cap, "%s: cannot open the folder (system error %lu)", dir,
                 err);
        return err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND
                   ? SHMB_E_NOT_FOUND
                   : SHMB_E_SYSTEM;
    }
    if (!handle_trusted(hdir, dir, 1, self, why, cap)) {
        CloseHandle(hdir);
        return SHMB_E_ACCESS_DENIED;
    }
    /* A log file we create is ours alone: it names every region, user and
     * process, which a reader of the folder must not learn by inheriting
     * the folder's read access. */
    if (append && private_sd(self, &sa) != 0) {
        snprintf(why, cap, "%s: cannot build its descriptor (%lu)", path,
                 GetLastError());
        CloseHandle(hdir);
        return SHMB_E_SYSTEM;
    }
    h = open_nofollow(
        wpath, JUDGE_RIGHTS | (append ? FILE_APPEND_DATA : FILE_READ_DATA),
        append ? OPEN_ALWAYS : OPEN_EXISTING, 0, append ? &sa : NULL);
    if (append)
        LocalFree(sa.lpSecurityDescriptor);
    if (h == INVALID_HANDLE_VALUE) {
        err = GetLastError();
        snprintf(why, cap, "%s: cannot open (system error %lu)", path, err);
        CloseHandle(hdir);
        return err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND
                   ? SHMB_E_NOT_FOUND
                   : SHMB_E_SYSTEM;
    }
    if (!handle_trusted(h, path, 0, self, why, cap)) {
        rc = SHMB_E_ACCESS_DENIED;
    } else if (!file_in_dir(h, hdir)) {
        snprintf(why, cap,
                 "%s: the file opened is not in the folder judged (a "
                 "component of the path changed): refusing it",
                 path);
        rc = SHMB_E_ACCESS_DENIED;
    } else {
        rc = SHMB_OK;
    }
    CloseHandle(hdir);
    if (rc != SHMB_OK) {
        CloseHandle(h);
        return rc;
    }
    *out = h;
    return SHMB_OK;
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

/* Reads a whole file of at most `max` bytes from `f`; NULL with *err on
 * failure. */
static char *read_handle(HANDLE f, size_t max, size_t *len, DWORD *err)
{
    LARGE_INTEGER size;
    char *buf = NULL;
    DWORD n = 0;

    *err = 0;
    if (!GetFileSizeEx(f, &size) || (uint64_t)size.QuadPart > max) {
        *err = ERROR_FILE_TOO_LARGE;
        return NULL;
    }
    buf = malloc((size_t)size.QuadPart + 1);
    if (buf == NULL) {
        *err = ERROR_NOT_ENOUGH_MEMORY;
    } else if (!ReadFile(f, buf, (DWORD)size.QuadPart, &n, NULL)) {
        *err = GetLastError();
        free(buf);
        buf = NULL;
    }
    if (buf != NULL) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

int plat_file_read_trusted(const char *path, size_t max, char **text,
                           size_t *len, char *why, size_t whycap)
{
    char self[SHMB_SID_MAX];
    caller_sid(self, sizeof(self));
    return win_file_read_trusted_as(path, self, max, text, len, why, whycap);
}

int win_file_read_trusted_as(const char *path, const char *self, size_t max,
                             char **text, size_t *len, char *why, size_t whycap)
{
    HANDLE f;
    DWORD err;
    int rc;

    /* It is our policy: judged by the handle we then read from, so what
     * we judged is what we read (docs/security.md, round two item 2). */
    rc = win_file_open_trusted_as(path, 0, self, &f, why, whycap);
    if (rc != SHMB_OK)
        return rc;
    *text = read_handle(f, max, len, &err);
    CloseHandle(f);
    if (*text != NULL)
        return SHMB_OK;
    snprintf(why, whycap, "%s: cannot read (system error %lu)", path, err);
    return SHMB_E_SYSTEM;
}
