/* SPDX-License-Identifier: MPL-2.0 */
/* test_backend_trust.c - trust_win.c judges the config by the handle it
 * reads (issue 8 item 2): a reparse point is refused, whether it is the
 * file or its folder, and a callback ACE counts as a grant. */
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "platform.h"
#include "trust_win.h"

#ifndef SYMBOLIC_LINK_FLAG_DIRECTORY
#define SYMBOLIC_LINK_FLAG_DIRECTORY 0x1
#endif
#ifndef SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE
#define SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE 0x2
#endif

/* A fresh folder of ours under %TEMP% holding config.json ("{}"). */
static int make_dir(char *dir, size_t cap, const char *stem)
{
    char tmp[MAX_PATH], file[MAX_PATH * 2];
    FILE *f;
    GetTempPathA(MAX_PATH, tmp);
    snprintf(dir, cap, "%s%s-%lu", tmp, stem, GetCurrentProcessId());
    CreateDirectoryA(dir, NULL);
    snprintf(file, sizeof(file), "%s\\config.json", dir);
    f = fopen(file, "w");
    if (f == NULL)
        return 0;
    fputs("{}", f);
    fclose(f);
    return 1;
}

static int read_rc(const char *path, char *why, size_t cap)
{
    char *text = NULL;
    size_t len = 0;
    int rc = plat_file_read_trusted(path, 4096, &text, &len, why, cap);
    free(text);
    return rc;
}

/* 1 if `link` is now a symbolic link (a reparse point) to `target`.
 * Wine 8's CreateSymbolicLinkW reports success and creates nothing, and
 * Wine shows Unix symlinks as what they point to: 0 there. */
static int symlink_to(const char *link, const char *target, DWORD flags)
{
    WCHAR wl[MAX_PATH * 2], wt[MAX_PATH * 2];
    DWORD attr;
    MultiByteToWideChar(CP_UTF8, 0, link, -1, wl, MAX_PATH * 2);
    MultiByteToWideChar(CP_UTF8, 0, target, -1, wt, MAX_PATH * 2);
    if (!CreateSymbolicLinkW(wl, wt, flags) &&
        !CreateSymbolicLinkW(
            wl, wt, flags | SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE))
        return 0;
    attr = GetFileAttributesW(wl);
    return attr != INVALID_FILE_ATTRIBUTES &&
           (attr & FILE_ATTRIBUTE_REPARSE_POINT);
}

int test_trust_symlink_config_refused(void)
{
    char dir[MAX_PATH], file[MAX_PATH * 2], link[MAX_PATH * 2], why[512];
    int rc;

    CHECK(make_dir(dir, sizeof(dir), "shmb-trust-link"));
    snprintf(file, sizeof(file), "%s\\config.json", dir);
    snprintf(link, sizeof(link), "%s\\link.json", dir);
    DeleteFileA(link);
    CHECK_INT(read_rc(file, why, sizeof(why)), SHMB_OK);
    if (!symlink_to(link, file, 0))
        SKIP("no symbolic link could be made (Wine 8 cannot: its "
             "CreateSymbolicLinkW creates nothing)");
    rc = read_rc(link, why, sizeof(why));
    if (rc != SHMB_E_ACCESS_DENIED)
        FAIL("a link to the config was not refused: %d %s", rc, why);
    CHECK(strstr(why, "reparse point") != NULL);
done:
    DeleteFileA(link);
    return TEST_RESULT;
}

int test_trust_symlink_folder_refused(void)
{
    char dir[MAX_PATH], link[MAX_PATH * 2], path[MAX_PATH * 3], why[512];
    int rc;

    CHECK(make_dir(dir, sizeof(dir), "shmb-trust-dirlink"));
    snprintf(link, sizeof(link), "%s-link", dir);
    RemoveDirectoryA(link);
    DeleteFileA(link);
    if (!symlink_to(link, dir, SYMBOLIC_LINK_FLAG_DIRECTORY))
        SKIP("no symbolic link could be made (Wine 8 cannot: its "
             "CreateSymbolicLinkW creates nothing)");
    snprintf(path, sizeof(path), "%s\\config.json", link);
    rc = read_rc(path, why, sizeof(why));
    if (rc != SHMB_E_ACCESS_DENIED)
        FAIL("a config in a linked folder was not refused: %d %s", rc, why);
    CHECK(strstr(why, "reparse point") != NULL);
done:
    RemoveDirectoryA(link);
    DeleteFileA(link);
    return TEST_RESULT;
}

/* An ACCESS_ALLOWED_CALLBACK_ACE giving Everyone write, with a condition
 * ("artx" and nothing: an empty expression) after the SID. */
static PACL callback_dacl(void)
{
    SID_IDENTIFIER_AUTHORITY world = {SECURITY_WORLD_SID_AUTHORITY};
    BYTE sid[SECURITY_MAX_SID_SIZE];
    DWORD sidlen, acelen, acllen;
    ACCESS_ALLOWED_CALLBACK_ACE *ace;
    PACL acl;

    if (!InitializeSid((PSID)sid, &world, 1))
        return NULL;
    *GetSidSubAuthority((PSID)sid, 0) = SECURITY_WORLD_RID;
    sidlen = GetLengthSid((PSID)sid);
    acelen =
        (DWORD)(offsetof(ACCESS_ALLOWED_CALLBACK_ACE, SidStart) + sidlen + 4);
    acllen = (DWORD)sizeof(ACL) + acelen + 64;
    acl = calloc(1, acllen);
    ace = calloc(1, acelen);
    if (acl == NULL || ace == NULL || !InitializeAcl(acl, acllen, ACL_REVISION))
        goto fail;
    ace->Header.AceType = ACCESS_ALLOWED_CALLBACK_ACE_TYPE;
    ace->Header.AceSize = (WORD)acelen;
    ace->Mask = FILE_GENERIC_WRITE;
    CopySid(sidlen, (PSID)&ace->SidStart, (PSID)sid);
    memcpy((BYTE *)&ace->SidStart + sidlen, "artx", 4);
    if (!AddAce(acl, ACL_REVISION, MAXDWORD, ace, acelen) &&
        !AddAce(acl, ACL_REVISION_DS, MAXDWORD, ace, acelen))
        goto fail;
    free(ace);
    return acl;
fail:
    free(ace);
    free(acl);
    return NULL;
}

int test_trust_callback_ace_is_a_grant(void)
{
    char why[512] = "";
    PACL acl = callback_dacl();

    CHECK(acl != NULL);
    /* Wine keeps no file DACLs of ours (a file's follows its Unix mode),
     * so the judgement is tested on the DACL itself. */
    CHECK_INT(win_dacl_trusted(acl, "config.json", FILE_WRITE_DATA, "", why,
                               sizeof(why)),
              0);
    CHECK(strstr(why, "config.json is writable by S-1-1-0") != NULL);
done:
    free(acl);
    return TEST_RESULT;
}

static int under_wine(void)
{
    return GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") !=
           NULL;
}

/* A log file the service creates is readable by nobody but SYSTEM,
 * Administrators and the service's account, whatever the folder would
 * hand down: it names every region, user and process. */
int test_log_file_created_private(void)
{
    char dir[MAX_PATH], path[MAX_PATH * 2], why[512] = "";
    plat_log *log = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    PACL dacl = NULL;
    WCHAR wpath[MAX_PATH * 2];
    DWORD i;
    int protected_dacl;
    SECURITY_DESCRIPTOR_CONTROL ctl = 0;
    DWORD rev = 0;

    CHECK(make_dir(dir, sizeof(dir), "shmb-log"));
    snprintf(path, sizeof(path), "%s\\new.log", dir);
    DeleteFileA(path);
    CHECK_INT(plat_log_open("shmb-test", path, 1, &log, why, sizeof(why)),
              SHMB_OK);
    plat_log_write(log, SHMB_LOG_INFO, "event=started");
    MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, MAX_PATH * 2);
    CHECK_INT(GetNamedSecurityInfoW(wpath, SE_FILE_OBJECT,
                                    DACL_SECURITY_INFORMATION, NULL, NULL,
                                    &dacl, NULL, &sd),
              ERROR_SUCCESS);
    CHECK(dacl != NULL && GetSecurityDescriptorControl(sd, &ctl, &rev));
    protected_dacl = (ctl & SE_DACL_PROTECTED) != 0;
    if (!protected_dacl && under_wine())
        SKIP("needs real Windows: Wine does not keep the descriptor a file "
             "is created with; it reports one made from the Unix mode");
    CHECK(protected_dacl);
    for (i = 0; i < dacl->AceCount; i++) {
        ACCESS_ALLOWED_ACE *ace = NULL;
        char sid[SHMB_SID_MAX] = "";
        LPSTR text = NULL;
        CHECK(GetAce(dacl, i, (void **)&ace));
        if (ConvertSidToStringSidA((PSID)&ace->SidStart, &text)) {
            snprintf(sid, sizeof(sid), "%s", text);
            LocalFree(text);
        }
        /* SYSTEM, Administrators, or our own account: nobody else. */
        if (strcmp(sid, "S-1-5-18") != 0 && strcmp(sid, "S-1-5-32-544") != 0 &&
            strncmp(sid, "S-1-5-21-", 9) != 0)
            FAIL("log file grants %s", sid);
    }
done:
    plat_log_close(log);
    LocalFree(sd);
    DeleteFileA(path);
    snprintf(path, sizeof(path), "%s\\config.json", dir);
    DeleteFileA(path);
    RemoveDirectoryA(dir);
    return TEST_RESULT;
}

/* The installers judge the data folder as the service's account, never as
 * the administrator running them: a config that administrator's own
 * account owns is trusted when judged as the caller and refused when
 * judged as LocalSystem, which is what the service would do (issue 12). */
/* This process's user SID as text; 1 or 0. */
static int own_sid(char *out, size_t cap)
{
    HANDLE tok;
    union {
        TOKEN_USER user;
        BYTE bytes[256];
    } buf;
    DWORD n = 0;
    LPSTR text = NULL;
    int ok = 0;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
        return 0;
    if (GetTokenInformation(tok, TokenUser, &buf, sizeof(buf), &n) &&
        ConvertSidToStringSidA(buf.user.User.Sid, &text)) {
        snprintf(out, cap, "%s", text);
        LocalFree(text);
        ok = 1;
    }
    CloseHandle(tok);
    return ok;
}

int test_trust_judged_as_service_account(void)
{
    char dir[MAX_PATH] = "", path[MAX_PATH * 2] = "", why[512] = "";
    char self[SHMB_SID_MAX] = "", caller[SHMB_SID_MAX] = "";
    char *text = NULL;
    size_t len = 0;

    CHECK(own_sid(caller, sizeof(caller)));
    CHECK(make_dir(dir, sizeof(dir), "shmb-as-service"));
    snprintf(path, sizeof(path), "%s\\config.json", dir);
    CHECK_INT(read_rc(path, why, sizeof(why)), SHMB_OK);
    CHECK_INT(win_file_read_trusted_as(path, "S-1-5-18", 4096, &text, &len, why,
                                       sizeof(why)),
              SHMB_E_ACCESS_DENIED);
    CHECK(strstr(why, caller) != NULL);
    win_service_account_sid(self, sizeof(self));
    CHECK_STR(self, under_wine() ? caller : "S-1-5-18");
done:
    free(text);
    DeleteFileA(path);
    RemoveDirectoryA(dir);
    return TEST_RESULT;
}
