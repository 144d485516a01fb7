/* SPDX-License-Identifier: MPL-2.0 */
/*
 * section_win.c - pagefile-backed sections and the grants that hand them out
 * (docs/security.md, rules 1, 2 and 4).
 *
 * A section is created unnamed and with a DACL that grants nothing (empty
 * but for an OWNER RIGHTS ACE with no rights, see section_dacl): no one,
 * not even the service's own user, can open it by name or re-duplicate a
 * handle with more rights, so the only way in is a handle the broker chose
 * to duplicate, with the rights the policy chose.
 */
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>
#include <stdlib.h>
#include <string.h>

#include "peer_win.h"
#include "platform.h"
#include "section_win.h"
#include "shmb_config.h"
#include "util_win.h"

/* Not in every SDK's user-mode headers. */
#ifndef SECTION_QUERY
#define SECTION_QUERY 0x0001
#endif

/* A region can be held by at most this many live processes at once:
 * the grantee list is what plat_section_in_use scans, and exited grantees
 * are dropped from it whenever a new process is granted, so only live ones
 * count. */
#define GRANTEES_MAX 1024

/* A process that was granted the section. While we hold its handle its
 * pid cannot be given to another process, so the pid alone tells whether a
 * peer is this grantee - no call to the kernel per grant. */
typedef struct grantee {
    HANDLE process; /* PROCESS_QUERY_LIMITED_INFORMATION */
    DWORD pid;
} grantee;

struct plat_section {
    HANDLE handle; /* full access, broker-only, never inheritable */
    uint64_t size;
    /* Unnamed auto-reset events under the section's security, closed
     * with it. */
    uint32_t ndoorbells;
    HANDLE doorbells[SHMB_DOORBELLS_MAX];
    /* plat_section_untrack: in_use is never asked, grantees not kept. */
    int untracked;
    /* A grantee's process handle could not be kept: in_use stays 1. */
    int lost;
    grantee *grantees;
    size_t ngrantees, capgrantees;
};

/* Grantee process handles held over all sections (plat_grantee_handles).
 * Sections are only touched on the loop thread, so a plain counter. */
static size_t g_grantee_handles;

typedef LONG(NTAPI *nt_query_section_fn)(HANDLE, int, PVOID, SIZE_T, PSIZE_T);

/* SECTION_BASIC_INFORMATION (NtQuerySection class 0). */
typedef struct {
    PVOID BaseAddress;
    ULONG Attributes;
    LARGE_INTEGER Size;
} section_basic_info;

typedef LONG(NTAPI *nt_query_object_fn)(HANDLE, int, PVOID, ULONG, PULONG);

typedef struct {
    ULONG Attributes;
    ACCESS_MASK GrantedAccess;
    ULONG HandleCount;
    ULONG PointerCount;
    ULONG Reserved[10];
} object_basic_info;

uint64_t plat_commit_granularity(void)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwAllocationGranularity ? si.dwAllocationGranularity : 65536;
}

/* Builds the section's DACL: one ACE granting OWNER RIGHTS (S-1-3-4)
 * nothing. An empty DACL alone is not enough: an object's owner implicitly
 * gets READ_CONTROL and WRITE_DAC whatever the DACL says, so a process of
 * the broker's own user (a console-mode broker, or every process under
 * Wine) could re-duplicate its grant with WRITE_DAC and rewrite the DACL.
 * An OWNER RIGHTS ACE replaces those implicit rights with its own mask. */
static int section_dacl(ACL *acl, DWORD cap)
{
    SID_IDENTIFIER_AUTHORITY creator = {SECURITY_CREATOR_SID_AUTHORITY};
    BYTE sid_buf[SECURITY_MAX_SID_SIZE];
    PSID owner_rights = (PSID)sid_buf;

    if (!InitializeSid(owner_rights, &creator, 1))
        return 0;
    *GetSidSubAuthority(owner_rights, 0) = SECURITY_CREATOR_OWNER_RIGHTS_RID;
    return InitializeAcl(acl, cap, ACL_REVISION) &&
           AddAccessAllowedAce(acl, ACL_REVISION, 0, owner_rights);
}

/* 1 if two ACLs hold the same ACEs in the same order. */
static int acl_equal(const ACL *a, const ACL *b)
{
    DWORD i;
    if (a == NULL || b == NULL)
        return a == b;
    if (a->AceCount != b->AceCount)
        return 0;
    for (i = 0; i < a->AceCount; i++) {
        ACE_HEADER *x, *y;
        if (!GetAce((PACL)a, i, (void **)&x) ||
            !GetAce((PACL)b, i, (void **)&y) || x->AceSize != y->AceSize ||
            memcmp(x, y, x->AceSize) != 0)
            return 0;
    }
    return 1;
}

/* The mandatory label ACE of an ACL (a SACL), or NULL. */
static ACE_HEADER *label_ace(const ACL *sacl)
{
    DWORD i;
    ACE_HEADER *ace;
    for (i = 0; sacl != NULL && i < sacl->AceCount; i++) {
        if (GetAce((PACL)sacl, i, (void **)&ace) &&
            ace->AceType == SYSTEM_MANDATORY_LABEL_ACE_TYPE)
            return ace;
    }
    return NULL;
}

/* 1 if the two labels are the same: both absent, or the same ACE. */
static int label_equal(const ACL *a, const ACL *b)
{
    ACE_HEADER *x = label_ace(a), *y = label_ace(b);
    if (x == NULL || y == NULL)
        return x == y;
    return x->AceSize == y->AceSize && memcmp(x, y, x->AceSize) == 0;
}

static uint64_t page_round(uint64_t size)
{
    SYSTEM_INFO si;
    uint64_t page;
    GetSystemInfo(&si);
    page = si.dwPageSize ? si.dwPageSize : 4096;
    return (size + page - 1) / page * page;
}

/* The exact size and kind of a section: a squatter could have made it
 * smaller, file-backed or reserve-only. */
static int section_shape_equal(HANDLE h, uint64_t size)
{
    nt_query_section_fn q = (nt_query_section_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleW(L"ntdll.dll"), "NtQuerySection");
    section_basic_info info;
    SIZE_T n = 0;
    memset(&info, 0, sizeof(info));
    if (q == NULL || q(h, 0, &info, sizeof(info), &n) != 0)
        return 0;
    /* The kernel keeps a section's size rounded up to whole pages. */
    return (uint64_t)info.Size.QuadPart == page_round(size) &&
           (info.Attributes & SEC_COMMIT) &&
           !(info.Attributes & (SEC_IMAGE | SEC_RESERVE | SEC_LARGE_PAGES));
}

/* Judges an existing named section (docs/security.md, round two item 8):
 * a reader of the region a previous run created keeps its name alive, and
 * the service must be able to start again. Adopt it only if it is exactly
 * what `want` and `size` would create now - owner our own account (a
 * squatter cannot set an owner it is not), the same DACL and label, the
 * same size and kind. Returns 0 to adopt, or the Win32 error that says
 * what differs. */
static DWORD section_adoptable(HANDLE h, uint64_t size,
                               PSECURITY_DESCRIPTOR want)
{
    PSECURITY_DESCRIPTOR got = NULL;
    PSID owner = NULL, want_owner = NULL;
    PACL dacl = NULL, sacl = NULL, want_dacl = NULL, want_sacl = NULL;
    BOOL present = FALSE, defaulted = FALSE;
    DWORD rc;

    rc =
        GetSecurityInfo(h, SE_KERNEL_OBJECT,
                        OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION |
                            LABEL_SECURITY_INFORMATION,
                        &owner, NULL, &dacl, &sacl, &got);
    if (rc != ERROR_SUCCESS)
        return ERROR_ALREADY_EXISTS;
    if (!GetSecurityDescriptorOwner(want, &want_owner, &defaulted) ||
        want_owner == NULL || owner == NULL || !EqualSid(owner, want_owner))
        rc = ERROR_INVALID_OWNER;
    else if (!GetSecurityDescriptorDacl(want, &present, &want_dacl,
                                        &defaulted) ||
             !acl_equal(dacl, want_dacl))
        rc = ERROR_INVALID_ACL;
    else if (!GetSecurityDescriptorSacl(want, &present, &want_sacl,
                                        &defaulted) ||
             !label_equal(sacl, present ? want_sacl : NULL))
        rc = ERROR_INVALID_SECURITY_DESCR;
    else if (!section_shape_equal(h, size))
        rc = ERROR_INVALID_PARAMETER;
    LocalFree(got);
    return rc;
}

/* Creates the section object itself with `sd`; NULL name = unnamed. */
static int section_object(uint64_t size, const WCHAR *name,
                          PSECURITY_DESCRIPTOR sd, HANDLE *out,
                          uint32_t *syserr)
{
    SECURITY_ATTRIBUTES sa;
    HANDLE h;

    sa.nLength = sizeof(sa);
    sa.lpSecurityDescriptor = sd;
    sa.bInheritHandle = FALSE;
    /* SEC_COMMIT charges commit for the whole size now, which is what the
     * quotas count; a later allocation failure cannot happen in a client. */
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, &sa,
                           PAGE_READWRITE | SEC_COMMIT, (DWORD)(size >> 32),
                           (DWORD)(size & 0xffffffffu), name);
    if (h == NULL) {
        *syserr = GetLastError();
        return SHMB_E_SYSTEM;
    }
    if (name != NULL && GetLastError() == ERROR_ALREADY_EXISTS) {
        /* Someone created this name first, or a reader still holds the one
         * a previous run of ours created. Using someone else's object would
         * hand our clients memory a squatter controls: adopt it only if it
         * is exactly what we would have created. */
        DWORD why = section_adoptable(h, size, sd);
        if (why != 0) {
            CloseHandle(h);
            *syserr = why;
            return SHMB_E_EXISTS;
        }
    }
    *out = h;
    return SHMB_OK;
}

/* A named region: the configured SDDL, its mandatory label applied again
 * with SetKernelObjectSecurity so it sticks (a label passed only at
 * creation is not honoured everywhere). */
static int section_named(uint64_t size, const char *global_name,
                         const char *sddl, HANDLE *out, uint32_t *syserr)
{
    WCHAR wname[SHMB_GLOBAL_NAME_MAX];
    PSECURITY_DESCRIPTOR sd = NULL;
    int rc;

    if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, global_name, -1,
                             wname, SHMB_GLOBAL_NAME_MAX) ||
        !win_sd_owned(sddl, &sd)) {
        *syserr = GetLastError();
        return SHMB_E_INVALID_ARG;
    }
    if (!sd_has_real_dacl(sd)) {
        /* An SDDL without "D:" would mean a NULL DACL: full access for
         * everyone. Never. */
        LocalFree(sd);
        *syserr = ERROR_INVALID_SECURITY_DESCR;
        return SHMB_E_INVALID_ARG;
    }
    rc = section_object(size, wname, sd, out, syserr);
    if (rc == SHMB_OK &&
        !SetKernelObjectSecurity(
            *out, DACL_SECURITY_INFORMATION | LABEL_SECURITY_INFORMATION, sd)) {
        *syserr = GetLastError();
        CloseHandle(*out);
        rc = SHMB_E_SYSTEM;
    }
    LocalFree(sd);
    return rc;
}

/* The doorbells get the unnamed section's descriptor: our own user as
 * owner and the OWNER RIGHTS-only DACL, so nobody can open them and the
 * only way in is a grant. */
static int doorbells_create(uint32_t n, HANDLE *ev, uint32_t *syserr)
{
    SECURITY_DESCRIPTOR sd;
    SECURITY_ATTRIBUTES sa;
    TOKEN_USER *owner = win_self_user();
    union {
        ACL acl;
        BYTE buf[sizeof(ACL) + sizeof(ACCESS_ALLOWED_ACE) +
                 SECURITY_MAX_SID_SIZE];
    } dacl;
    uint32_t i = 0;

    if (owner == NULL || !section_dacl(&dacl.acl, sizeof(dacl)) ||
        !InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION) ||
        !SetSecurityDescriptorOwner(&sd, owner->User.Sid, FALSE) ||
        !SetSecurityDescriptorDacl(&sd, TRUE, &dacl.acl, FALSE))
        goto fail;
    sa.nLength = sizeof(sa);
    sa.lpSecurityDescriptor = &sd;
    sa.bInheritHandle = FALSE;
    for (; i < n; i++) {
        ev[i] = CreateEventW(&sa, FALSE, FALSE, NULL);
        if (ev[i] == NULL)
            goto fail;
    }
    free(owner);
    return SHMB_OK;
fail:
    *syserr = GetLastError();
    while (i > 0)
        CloseHandle(ev[--i]);
    free(owner);
    return SHMB_E_SYSTEM;
}

int plat_section_create(uint64_t size, uint32_t doorbells,
                        const char *global_name, const char *sddl,
                        plat_section **out, uint32_t *syserr)
{
    HANDLE ev[SHMB_DOORBELLS_MAX];
    uint32_t i;
    SECURITY_DESCRIPTOR sd;
    TOKEN_USER *owner = NULL;
    union {
        ACL acl;
        BYTE buf[sizeof(ACL) + sizeof(ACCESS_ALLOWED_ACE) +
                 SECURITY_MAX_SID_SIZE];
    } dacl;
    plat_section *s;
    HANDLE h = NULL;
    int rc;

    if (global_name != NULL) {
        rc = section_named(size, global_name, sddl ? sddl : "", &h, syserr);
    } else {
        /* Owner: our own user explicitly. A LocalSystem token's default
         * owner can be BUILTIN\Administrators, which would hand owner
         * rights to every elevated process of an administrator. */
        owner = win_self_user();
        if (owner == NULL || !section_dacl(&dacl.acl, sizeof(dacl)) ||
            !InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION) ||
            !SetSecurityDescriptorOwner(&sd, owner->User.Sid, FALSE) ||
            !SetSecurityDescriptorDacl(&sd, TRUE, &dacl.acl, FALSE)) {
            *syserr = GetLastError();
            rc = SHMB_E_SYSTEM;
        } else {
            rc = section_object(size, NULL, &sd, &h, syserr);
        }
        free(owner);
    }
    if (rc != SHMB_OK)
        return rc;
    if (doorbells > SHMB_DOORBELLS_MAX) {
        CloseHandle(h);
        return SHMB_E_INTERNAL;
    }
    rc = doorbells_create(doorbells, ev, syserr);
    if (rc != SHMB_OK) {
        CloseHandle(h);
        return rc;
    }
    s = malloc(sizeof(*s));
    if (s == NULL) {
        for (i = 0; i < doorbells; i++)
            CloseHandle(ev[i]);
        CloseHandle(h);
        return SHMB_E_NOMEM;
    }
    s->handle = h;
    s->size = size;
    s->ndoorbells = doorbells;
    for (i = 0; i < doorbells; i++)
        s->doorbells[i] = ev[i];
    s->untracked = 0;
    s->lost = 0;
    s->grantees = NULL;
    s->ngrantees = s->capgrantees = 0;
    *out = s;
    return SHMB_OK;
}

/* Drops the grantees that have exited: their views are gone. */
static void prune_grantees(plat_section *section)
{
    DWORD code;
    size_t i = 0;
    while (i < section->ngrantees) {
        if (GetExitCodeProcess(section->grantees[i].process, &code) &&
            code != STILL_ACTIVE) {
            CloseHandle(section->grantees[i].process);
            g_grantee_handles--;
            section->grantees[i] = section->grantees[--section->ngrantees];
            continue;
        }
        i++;
    }
}

/* Makes room to remember `peer`'s process as a grantee of `section`,
 * before the grant, so a grant never goes out untracked. Returns 0 if the
 * region already has GRANTEES_MAX live grantees (or no memory); else 1,
 * with *known set if the process is remembered already (its pid is held,
 * see grantee). Exited grantees are dropped before a new one is added. */
static int grantee_room(plat_section *section, plat_peer *peer, int *known)
{
    size_t i;
    *known = 0;
    if (section->untracked)
        return 1;
    for (i = 0; i < section->ngrantees; i++) {
        if (section->grantees[i].pid == peer->pid) {
            *known = 1;
            return 1;
        }
    }
    prune_grantees(section);
    if (section->ngrantees == section->capgrantees) {
        size_t cap = section->capgrantees ? section->capgrantees * 2 : 4;
        grantee *n;
        if (section->capgrantees >= GRANTEES_MAX)
            return 0;
        if (cap > GRANTEES_MAX)
            cap = GRANTEES_MAX;
        n = realloc(section->grantees, cap * sizeof(*n));
        if (n == NULL)
            return 0;
        section->grantees = n;
        section->capgrantees = cap;
    }
    return 1;
}

/* Remembers that `peer`'s process received a handle to `section`, once
 * per process, so plat_section_in_use can tell when it has exited. The
 * room was made by grantee_room. */
static void note_grantee(plat_section *section, plat_peer *peer)
{
    HANDLE h = NULL;
    if (section->untracked)
        return;
    if (DuplicateHandle(GetCurrentProcess(), peer->process, GetCurrentProcess(),
                        &h, PROCESS_QUERY_LIMITED_INFORMATION, FALSE, 0)) {
        section->grantees[section->ngrantees].process = h;
        section->grantees[section->ngrantees++].pid = peer->pid;
        g_grantee_handles++;
    } else {
        section->lost = 1;
    }
}

void plat_section_untrack(plat_section *section)
{
    size_t i;
    for (i = 0; i < section->ngrantees; i++)
        CloseHandle(section->grantees[i].process);
    g_grantee_handles -= section->ngrantees;
    free(section->grantees);
    section->grantees = NULL;
    section->ngrantees = section->capgrantees = 0;
    section->untracked = 1;
}

size_t plat_grantee_handles(void)
{
    return g_grantee_handles;
}

size_t win_section_grantees(const plat_section *section)
{
    return section->ngrantees;
}

int plat_section_in_use(plat_section *section)
{
    nt_query_object_fn q = (nt_query_object_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleW(L"ntdll.dll"), "NtQueryObject");
    object_basic_info info;
    ULONG n = 0;

    /* Another handle anywhere (ObjectBasicInformation = 0). If we cannot
     * tell, assume it is in use: a quota that errs, errs on the safe side.
     * The same for a section whose grantees were not kept or not all. */
    if (section->untracked || section->lost || q == NULL ||
        q(section->handle, 0, &info, sizeof(info), &n) != 0 ||
        info.HandleCount > 1)
        return 1;
    prune_grantees(section);
    return section->ngrantees > 0; /* alive (or unknown): may have a view */
}

void plat_section_close(plat_section *section)
{
    size_t i;
    if (section == NULL)
        return;
    for (i = 0; i < section->ngrantees; i++)
        CloseHandle(section->grantees[i].process);
    g_grantee_handles -= section->ngrantees;
    free(section->grantees);
    for (i = 0; i < section->ndoorbells; i++)
        CloseHandle(section->doorbells[i]);
    CloseHandle(section->handle);
    free(section);
}

/* The exact rights of a grant. Read-only: map for read and query the size.
 * Read-write adds FILE_MAP_WRITE. Never FILE_MAP_ALL_ACCESS (it includes
 * SECTION_EXTEND_SIZE and SECTION_MAP_EXECUTE), never WRITE_DAC, WRITE_OWNER
 * or DELETE, so a holder can neither widen its own access nor change who
 * else may open the section. */
static DWORD access_mask(shmb_access access)
{
    switch (access) {
    case SHMB_ACCESS_RO:
        return FILE_MAP_READ | SECTION_QUERY;
    case SHMB_ACCESS_RW:
        return FILE_MAP_READ | FILE_MAP_WRITE | SECTION_QUERY;
    default:
        return 0;
    }
}

/* Closes one handle inside the peer's process. */
static void revoke_one(plat_peer *peer, uint64_t handle)
{
    HANDLE copy = NULL;
    /* Closes the handle *inside the client*: source process = client,
     * DUPLICATE_CLOSE_SOURCE, no target. Older Windows and Wine refuse a
     * NULL target; then the copy lands in the broker with no access at
     * all (not DUPLICATE_SAME_ACCESS: the client may have swapped what is
     * behind that value) and is closed at once. Fails harmlessly if the
     * client is already gone: the kernel closed the handle with it. */
    if (DuplicateHandle(peer->process, (HANDLE)(uintptr_t)handle, NULL, NULL, 0,
                        FALSE, DUPLICATE_CLOSE_SOURCE))
        return;
    if (DuplicateHandle(peer->process, (HANDLE)(uintptr_t)handle,
                        GetCurrentProcess(), &copy, 0, FALSE,
                        DUPLICATE_CLOSE_SOURCE))
        CloseHandle(copy);
}

/* A doorbell's rights: a read-only grantee may wait, never signal. */
static DWORD doorbell_mask(shmb_access access)
{
    return access == SHMB_ACCESS_RW ? EVENT_MODIFY_STATE | SYNCHRONIZE
                                    : SYNCHRONIZE;
}

int plat_section_grant(plat_section *section, plat_peer *peer,
                       shmb_access access, plat_grant *out, uint32_t *syserr)
{
    HANDLE target = NULL;
    DWORD mask = access_mask(access);
    int known;
    uint32_t i;

    if (mask == 0 || section == NULL)
        return SHMB_E_INTERNAL;
    /* A region held by GRANTEES_MAX live processes takes no more. */
    if (!grantee_room(section, peer, &known)) {
        *syserr = ERROR_TOO_MANY_OPEN_FILES;
        return SHMB_E_LIMIT_REACHED;
    }
    /* Source: our full-access section handle. Target: the identified client
     * process (never a pid from a message). Rights: exactly `mask`, not
     * inheritable, no DUPLICATE_SAME_ACCESS. */
    if (!DuplicateHandle(GetCurrentProcess(), section->handle, peer->process,
                         &target, mask, FALSE, 0)) {
        *syserr = GetLastError();
        return SHMB_E_SYSTEM;
    }
    out->handle = (uint64_t)(uintptr_t)target;
    out->ndoorbells = 0;
    for (i = 0; i < section->ndoorbells; i++) {
        target = NULL;
        if (!DuplicateHandle(GetCurrentProcess(), section->doorbells[i],
                             peer->process, &target, doorbell_mask(access),
                             FALSE, 0)) {
            *syserr = GetLastError();
            plat_grant_revoke(peer, out);
            out->ndoorbells = 0;
            return SHMB_E_SYSTEM;
        }
        out->doorbells[out->ndoorbells++] = (uint64_t)(uintptr_t)target;
    }
    if (!known)
        note_grantee(section, peer);
    return SHMB_OK;
}

void plat_grant_revoke(plat_peer *peer, const plat_grant *grant)
{
    uint32_t i;
    revoke_one(peer, grant->handle);
    for (i = 0; i < grant->ndoorbells && i < SHMB_DOORBELLS_MAX; i++)
        revoke_one(peer, grant->doorbells[i]);
}
