/* SPDX-License-Identifier: MPL-2.0 */
/*
 * datadir_win.c - shmbroker.exe --init-data: makes the data folder
 * %ProgramData%\shmbroker and its default config, for installers that
 * cannot do it safely themselves (the MSI: Windows Installer's CreateFolder
 * gives a new folder the inherited DACL of %ProgramData%, where users may
 * add files, reuses whatever already sits at the path and follows a
 * junction there; wixl has no LockPermissions table to change that).
 *
 * The rules are docs/security.md's ("Round two: the Windows backend"):
 * - the folder is born with its protected DACL (SYSTEM and Administrators
 *   only, inherited by what is created in it), by CreateDirectoryW itself,
 *   so there is no moment at which a user could write into it;
 * - a folder that already exists is kept only if the service would trust
 *   it where it lies (owner and DACL administrators-only, no reparse
 *   point), judged as the service's account and never as the caller's (an
 *   administrator's own account is not the service's): only an
 *   administrator can have made such a folder, and this is how an upgrade
 *   or a reinstall keeps its config. Anything else there - a folder a user
 *   made, a file, a junction or a link, dangling or not, or the service's
 *   folder after someone loosened its ACL - is never reused and never
 *   "fixed": it is refused and left as it is, or, with
 *   --replace-untrusted (the MSI's fresh install), renamed aside. Never
 *   silently on an upgrade: that would swap the administrator's policy
 *   for the example one;
 * - the default config (config.example.json next to this executable) is
 *   written only where there is no config.json, with CREATE_NEW.
 *
 * Run by the installers (the MSI as LocalSystem, the scripts as an
 * elevated administrator); prints one line per step.
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datadir_win.h"
#include "platform.h"
#include "shmb_config.h"
#include "trust_win.h"
#include "util_win.h"

/* Inheritable, so config.json and the log get the same ACEs. */
#define DATA_DIR_DACL "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"

static int create_dir_sd(const WCHAR *dir, const char *sddl)
{
    SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, FALSE};
    DWORD err;
    BOOL ok;

    if (!win_sd_owned(sddl, &sa.lpSecurityDescriptor))
        return 0;
    ok = CreateDirectoryW(dir, &sa);
    err = GetLastError();
    LocalFree(sa.lpSecurityDescriptor);
    SetLastError(err);
    return ok ? 1 : 0;
}

/* Creates `dir` with the data folder's descriptor; 1, or 0 with
 * GetLastError (ERROR_ALREADY_EXISTS if anything is at the path). Owned by
 * Administrators, as install.cmd does, so that the service trusts a folder
 * an administrator made by hand with --init-data too; a token that cannot
 * name that owner (not elevated) gets its own account as the owner. */
static int create_private_dir(const WCHAR *dir)
{
    if (create_dir_sd(dir, "O:BA" DATA_DIR_DACL))
        return 1;
    if (GetLastError() != ERROR_INVALID_OWNER)
        return 0;
    return create_dir_sd(dir, DATA_DIR_DACL);
}

/* 1 if the service would trust the existing folder holding `cfg` (the file
 * itself may be absent); else 0 with the reason in why. */
static int existing_trusted(const char *cfg, const WCHAR *dir, char *why,
                            size_t cap)
{
    char *text = NULL, self[SHMB_SID_MAX];
    size_t len = 0;
    int rc;

    win_service_account_sid(self, sizeof(self));
    rc = win_file_read_trusted_as(cfg, self, SHMB_CONFIG_MAX_BYTES, &text, &len,
                                  why, cap);
    free(text);
    if (rc == SHMB_OK)
        return 1;
    if (rc != SHMB_E_NOT_FOUND)
        return 0;
    /* Not found: either no config in a trusted folder, or no folder to
     * open at all (a dangling link) - or the folder changed in between.
     * Judge the folder itself, by a handle that does not follow links,
     * never by its attributes alone. */
    return win_dir_trusted_as(dir, self, why, cap);
}

/* Copies the config.example.json beside this executable to `cfg` unless a
 * file is already there; 0 or -1. */
static int write_default_config(const WCHAR *cfg, FILE *out)
{
    WCHAR src[MAX_PATH * 2], *slash;
    DWORD n = GetModuleFileNameW(NULL, src, MAX_PATH * 2);
    char shown[MAX_PATH * 3];

    if (n == 0 || n >= MAX_PATH * 2 - 32 ||
        (slash = wcsrchr(src, L'\\')) == NULL)
        return -1;
    wcscpy(slash + 1, L"config.example.json");
    win_utf8(cfg, shown, sizeof(shown));
    if (GetFileAttributesW(src) == INVALID_FILE_ATTRIBUTES) {
        fprintf(out, "init-data: no config.example.json beside shmbroker.exe; "
                     "the service will use its built-in defaults\n");
        return 0;
    }
    /* bFailIfExists: an existing config is the administrator's. */
    if (!CopyFileW(src, cfg, TRUE)) {
        if (GetLastError() == ERROR_FILE_EXISTS) {
            fprintf(out, "init-data: kept %s\n", shown);
            return 0;
        }
        fprintf(stderr, "init-data: cannot write %s (error %lu)\n", shown,
                GetLastError());
        return -1;
    }
    fprintf(out, "init-data: wrote the default config to %s\n", shown);
    return 0;
}

/* The default config's path, as UTF-8 and UTF-16, and its folder's; 0 or
 * -1. */
static int data_paths(char *cfg, WCHAR *wcfg, WCHAR *wdir, char *shown)
{
    WCHAR *slash;
    plat_default_config_path(cfg, MAX_PATH * 3);
    if (!win_wide(cfg, wcfg, MAX_PATH * 2))
        return -1;
    wcscpy(wdir, wcfg);
    slash = wcsrchr(wdir, L'\\');
    if (slash == NULL)
        return -1;
    *slash = L'\0';
    win_utf8(wdir, shown, MAX_PATH * 3);
    return 0;
}

int win_data_dir_check(FILE *out)
{
    char cfg[MAX_PATH * 3], why[SHMB_CONFIG_ERR_MAX], shown[MAX_PATH * 3];
    WCHAR wcfg[MAX_PATH * 2], wdir[MAX_PATH * 2];

    if (data_paths(cfg, wcfg, wdir, shown) != 0)
        return 1;
    if (existing_trusted(cfg, wdir, why, sizeof(why))) {
        fprintf(out, "check-data: %s is trusted\n", shown);
        return 0;
    }
    fprintf(stderr, "check-data: %s is not trusted (%s)\n", shown, why);
    return 1;
}

int win_data_dir_init(FILE *out, int replace_untrusted)
{
    char cfg[MAX_PATH * 3], why[SHMB_CONFIG_ERR_MAX];
    WCHAR wcfg[MAX_PATH * 2], wdir[MAX_PATH * 2], aside[MAX_PATH * 2];
    char shown[MAX_PATH * 3], shown_aside[MAX_PATH * 3];

    if (data_paths(cfg, wcfg, wdir, shown) != 0)
        return -1;

    if (create_private_dir(wdir)) {
        fprintf(out, "init-data: created %s\n", shown);
        return write_default_config(wcfg, out);
    }
    if (GetLastError() != ERROR_ALREADY_EXISTS) {
        fprintf(stderr, "init-data: cannot create %s (error %lu)\n", shown,
                GetLastError());
        return -1;
    }
    if (existing_trusted(cfg, wdir, why, sizeof(why))) {
        fprintf(out, "init-data: kept %s (trusted)\n", shown);
        return write_default_config(wcfg, out);
    }
    if (!replace_untrusted) {
        fprintf(stderr,
                "init-data: %s is not trusted (%s); left as it is. Make it "
                "writable by SYSTEM and Administrators only, or move it away "
                "(its config.json holds your rules), then run the install "
                "again\n",
                shown, why);
        return -1;
    }
    /* MoveFileW renames a junction or a link itself, not its target. */
    _snwprintf(aside, MAX_PATH * 2, L"%ls.old-%lu", wdir, GetTickCount());
    aside[MAX_PATH * 2 - 1] = L'\0';
    win_utf8(aside, shown_aside, sizeof(shown_aside));
    if (!MoveFileW(wdir, aside)) {
        fprintf(stderr,
                "init-data: %s is not trusted (%s) and cannot be moved "
                "aside (error %lu); remove it and install again\n",
                shown, why, GetLastError());
        return -1;
    }
    fprintf(out, "init-data: moved the untrusted %s aside to %s (%s)\n", shown,
            shown_aside, why);
    if (!create_private_dir(wdir)) {
        fprintf(stderr,
                "init-data: cannot create %s (error %lu): someone is "
                "creating it during the install\n",
                shown, GetLastError());
        return -1;
    }
    fprintf(out, "init-data: created %s\n", shown);
    return write_default_config(wcfg, out);
}
