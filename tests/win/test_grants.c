/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_grants.c - the section handles the service duplicates into a
 * client, checked in the kernel: exactly the access asked for, read-only
 * stays read-only, no name anyone could open instead, and a grant whose
 * reply never reached the client is closed inside the client.
 */
#include <windows.h>

#include <stdlib.h>
#include <string.h>

#include "util_win.h"

typedef LONG(NTAPI *query_object_fn)(HANDLE, int, PVOID, ULONG, PULONG);

static query_object_fn query_object(void)
{
    return (query_object_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleW(L"ntdll.dll"), "NtQueryObject");
}

int test_readonly_grant_write_refused(void)
{
    shmb_client *c = itest_connect();
    shmb_region rw = {0}, ro = {0};
    char name[128];
    void *v = NULL;

    CHECK(c != NULL);
    strcpy(name, itest_name("ro"));
    CHECK_OK(c, shmb_region_create(c, name, 4096, SHMB_ACCESS_RW,
                                   SHMB_LIFETIME_CLIENT, &rw));
    CHECK_OK(c, shmb_region_map(&rw));
    strcpy(rw.view, "visible through the ro grant");
    CHECK_OK(c, shmb_region_open(c, name, SHMB_ACCESS_RO, &ro));
    CHECK_INT(ro.access, SHMB_ACCESS_RO);
    CHECK(ro.handle != rw.handle);
    /* Straight to the kernel: a write view of a read-only grant fails. */
    v = MapViewOfFile((HANDLE)(uintptr_t)ro.handle, FILE_MAP_WRITE, 0, 0, 0);
    CHECK(v == NULL);
    CHECK_INT(GetLastError(), ERROR_ACCESS_DENIED);
    /* Through the library too, with the error kept. */
    CHECK_INT(shmb_region_map_as(&ro, SHMB_ACCESS_RW), SHMB_E_SYSTEM);
    CHECK_INT(ro.syserr, ERROR_ACCESS_DENIED);
    CHECK_OK(c, shmb_region_map(&ro));
    CHECK_STR((const char *)ro.view, "visible through the ro grant");
done:
    if (v != NULL)
        UnmapViewOfFile(v);
    shmb_region_close(&ro);
    shmb_region_close(&rw);
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_grant_access_masks_exact(void)
{
    shmb_client *c = itest_connect();
    shmb_region rw = {0}, ro = {0};
    DWORD flags = 0;
    long long a;

    CHECK(c != NULL);
    CHECK_OK(c, shmb_region_create(c, itest_name("mask"), 4096, SHMB_ACCESS_RW,
                                   SHMB_LIFETIME_CLIENT, &rw));
    CHECK_OK(c, shmb_region_open(c, rw.name, SHMB_ACCESS_RO, &ro));
    a = itest_granted_access((HANDLE)(uintptr_t)ro.handle);
    if (a < 0)
        SKIP("NtQueryObject(ObjectBasicInformation) not available");
    /* Exactly FILE_MAP_READ|SECTION_QUERY; read-write adds FILE_MAP_WRITE
     * and nothing else (no WRITE_DAC, WRITE_OWNER, DELETE, EXTEND_SIZE). */
    CHECK_INT(a, FILE_MAP_READ | SECTION_QUERY);
    CHECK_INT(itest_granted_access((HANDLE)(uintptr_t)rw.handle),
              FILE_MAP_READ | FILE_MAP_WRITE | SECTION_QUERY);
    CHECK(GetHandleInformation((HANDLE)(uintptr_t)ro.handle, &flags));
    CHECK((flags & HANDLE_FLAG_INHERIT) == 0);
    CHECK(GetHandleInformation((HANDLE)(uintptr_t)rw.handle, &flags));
    CHECK((flags & HANDLE_FLAG_INHERIT) == 0);
done:
    shmb_region_close(&ro);
    shmb_region_close(&rw);
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_readonly_grant_cannot_escalate(void)
{
    shmb_client *c = itest_connect();
    shmb_region rw = {0}, ro = {0};
    HANDLE dup = NULL;
    DWORD old;

    CHECK(c != NULL);
    CHECK_OK(c, shmb_region_create(c, itest_name("esc"), 4096, SHMB_ACCESS_RW,
                                   SHMB_LIFETIME_CLIENT, &rw));
    CHECK_OK(c, shmb_region_open(c, rw.name, SHMB_ACCESS_RO, &ro));
    /* Re-duplicating with more rights is checked against the section's
     * (empty) DACL, so it fails even for our own user. */
    CHECK(!DuplicateHandle(GetCurrentProcess(), (HANDLE)(uintptr_t)ro.handle,
                           GetCurrentProcess(), &dup, FILE_MAP_WRITE, FALSE,
                           0));
    CHECK_INT(GetLastError(), ERROR_ACCESS_DENIED);
    /* A read-only view cannot be made writable afterwards. */
    CHECK_OK(c, shmb_region_map(&ro));
    CHECK(!VirtualProtect(ro.view, 4096, PAGE_READWRITE, &old));
done:
    raw_close(dup);
    shmb_region_close(&ro);
    shmb_region_close(&rw);
    shmb_disconnect(c);
    return TEST_RESULT;
}

/* Doorbells, checked in the kernel: a read-write grant's may signal, the
 * other grant's wait sees it (auto-reset: once); a read-only grant's can
 * wait but SetEvent on it fails, and it cannot be re-duplicated with
 * more rights. */
int test_doorbells_follow_grant_access(void)
{
    shmb_client *c = itest_connect();
    shmb_region rw = {0}, ro = {0};
    HANDLE dup = NULL;
    DWORD flags = 0;
    long long a;
    uint32_t i;

    CHECK(c != NULL);
    CHECK_INT(shmb_region_create_ex(c, itest_name("bells"), 4096,
                                    SHMB_ACCESS_RW, SHMB_LIFETIME_CLIENT, 9,
                                    &rw),
              SHMB_E_INVALID_ARG);
    CHECK_OK(c,
             shmb_region_create_ex(c, itest_name("bells"), 4096, SHMB_ACCESS_RW,
                                   SHMB_LIFETIME_CLIENT, 2, &rw));
    CHECK_INT(rw.ndoorbells, 2);
    CHECK_OK(c, shmb_region_open(c, rw.name, SHMB_ACCESS_RO, &ro));
    CHECK_INT(ro.ndoorbells, 2);
    for (i = 0; i < 2; i++) {
        CHECK(rw.doorbells[i] != 0 && ro.doorbells[i] != 0);
        CHECK(rw.doorbells[i] != ro.doorbells[i]);
        CHECK(GetHandleInformation((HANDLE)(uintptr_t)ro.doorbells[i], &flags));
        CHECK((flags & HANDLE_FLAG_INHERIT) == 0);
        CHECK(GetHandleInformation((HANDLE)(uintptr_t)rw.doorbells[i], &flags));
        CHECK((flags & HANDLE_FLAG_INHERIT) == 0);
    }
    /* Read-write rings, read-only hears it, once. */
    CHECK(SetEvent((HANDLE)(uintptr_t)rw.doorbells[0]));
    CHECK_INT(WaitForSingleObject((HANDLE)(uintptr_t)ro.doorbells[0], 5000),
              WAIT_OBJECT_0);
    CHECK_INT(WaitForSingleObject((HANDLE)(uintptr_t)ro.doorbells[0], 0),
              WAIT_TIMEOUT);
    /* The two doorbells are distinct events. */
    CHECK(SetEvent((HANDLE)(uintptr_t)rw.doorbells[1]));
    CHECK_INT(WaitForSingleObject((HANDLE)(uintptr_t)rw.doorbells[0], 0),
              WAIT_TIMEOUT);
    CHECK_INT(WaitForSingleObject((HANDLE)(uintptr_t)rw.doorbells[1], 0),
              WAIT_OBJECT_0);
    /* Read-only cannot ring: refused in the kernel, nothing signalled. */
    CHECK(!SetEvent((HANDLE)(uintptr_t)ro.doorbells[1]));
    CHECK_INT(GetLastError(), ERROR_ACCESS_DENIED);
    CHECK_INT(WaitForSingleObject((HANDLE)(uintptr_t)rw.doorbells[1], 0),
              WAIT_TIMEOUT);
    /* Nor take the right back through its own handle (empty DACL). */
    CHECK(!DuplicateHandle(
        GetCurrentProcess(), (HANDLE)(uintptr_t)ro.doorbells[1],
        GetCurrentProcess(), &dup, EVENT_MODIFY_STATE, FALSE, 0));
    CHECK_INT(GetLastError(), ERROR_ACCESS_DENIED);
    a = itest_granted_access((HANDLE)(uintptr_t)ro.doorbells[0]);
    if (a >= 0) {
        CHECK_INT(a, SYNCHRONIZE);
        CHECK_INT(itest_granted_access((HANDLE)(uintptr_t)rw.doorbells[0]),
                  EVENT_MODIFY_STATE | SYNCHRONIZE);
    }
    shmb_region_close(&ro);
    CHECK_INT(ro.ndoorbells, 0);
done:
    raw_close(dup);
    shmb_region_close(&ro);
    shmb_region_close(&rw);
    shmb_disconnect(c);
    return TEST_RESULT;
}

/* Across two processes: the parent rings before the child even has the
 * event (it stays signalled until one wait takes it), the child hears it
 * through a read-only grant, is refused ringing back through it, and
 * rings back through a read-write grant. */
int test_doorbells_across_processes(void)
{
    shmb_client *c = itest_connect();
    shmb_region rw = {0};
    char args[300];

    CHECK(c != NULL);
    CHECK_OK(c, shmb_region_create_ex(c, itest_name("bells2"), 4096,
                                      SHMB_ACCESS_RW, SHMB_LIFETIME_CLIENT, 2,
                                      &rw));
    CHECK(SetEvent((HANDLE)(uintptr_t)rw.doorbells[0]));
    snprintf(args, sizeof(args), "child-bells %s", rw.name);
    CHECK_INT(itest_child(args), 0);
    /* The child took bell 0 and rang bell 1 exactly once. */
    CHECK_INT(WaitForSingleObject((HANDLE)(uintptr_t)rw.doorbells[0], 0),
              WAIT_TIMEOUT);
    CHECK_INT(WaitForSingleObject((HANDLE)(uintptr_t)rw.doorbells[1], 5000),
              WAIT_OBJECT_0);
    CHECK_INT(WaitForSingleObject((HANDLE)(uintptr_t)rw.doorbells[1], 0),
              WAIT_TIMEOUT);
done:
    shmb_region_close(&rw);
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_grant_cannot_take_write_dac(void)
{
    shmb_client *c = NULL;
    shmb_region rw = {0};
    HANDLE dup = NULL;

    /* Wine's access check grants an object's owner all standard rights and
     * ignores OWNER RIGHTS ACEs, and under Wine every client runs as the
     * service's user, i.e. as the section's owner. */
    if (itest_under_wine())
        SKIP("Wine grants the object owner WRITE_DAC unconditionally and "
             "every Wine process is the service's user; needs real Windows");
    c = itest_connect();
    CHECK(c != NULL);
    CHECK_OK(c, shmb_region_create(c, itest_name("dac"), 4096, SHMB_ACCESS_RW,
                                   SHMB_LIFETIME_CLIENT, &rw));
    CHECK(!DuplicateHandle(GetCurrentProcess(), (HANDLE)(uintptr_t)rw.handle,
                           GetCurrentProcess(), &dup, WRITE_DAC, FALSE, 0));
    CHECK_INT(GetLastError(), ERROR_ACCESS_DENIED);
    CHECK(!DuplicateHandle(GetCurrentProcess(), (HANDLE)(uintptr_t)rw.handle,
                           GetCurrentProcess(), &dup, READ_CONTROL | DELETE,
                           FALSE, 0));
done:
    raw_close(dup);
    shmb_region_close(&rw);
    shmb_disconnect(c);
    return TEST_RESULT;
}

/* Counts the section handles in this process by walking the handle values
 * (GetProcessHandleCount is not implemented by Wine). */
static int count_sections(void)
{
    query_object_fn q = query_object();
    union {
        struct {
            USHORT len, max;
            PWSTR buf;
        } name;
        BYTE raw[1024];
    } info;
    uintptr_t v;
    ULONG n;
    int count = 0;
    for (v = 4; v < 0x4000; v += 4) {
        /* ObjectTypeInformation (2) starts with the type's name. */
        if (q((HANDLE)v, 2, &info, sizeof(info), &n) == 0 &&
            info.name.len == 14 && memcmp(info.name.buf, L"Section", 14) == 0)
            count++;
    }
    return count;
}

/* Whether our end of the pipe is full: the replies we have not read (plus,
 * under Wine, those the broker is still writing) stop short of `expected`,
 * or pass the service's 64 KiB pipe buffer. */
static int pipe_full(HANDLE h, DWORD base, DWORD expected)
{
    DWORD avail = 0, last = 0;
    int still = 0;
    while (still < 100) {
        if (!PeekNamedPipe(h, NULL, 0, NULL, &avail, NULL))
            return 1;
        if (avail - base > 65536)
            return 1;
        if (avail >= expected)
            return 0;
        still = avail == last ? still + 1 : 0;
        last = avail;
        Sleep(10);
    }
    return 1;
}

int test_undelivered_grant_closed_in_client(void)
{
    HANDLE h = raw_connect();
    int before, during = 0, after = 0, full = 0;
    DWORD base = 0, expected = 0;
    char req[256];
    int i;

    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK_INT(raw_hello(h), 0);
    CHECK(PeekNamedPipe(h, NULL, 0, NULL, &base, NULL));
    expected = base;
    /* Fill the pipe towards us with ping replies we do not read, so the
     * broker's later writes stay queued in the broker - in batches of 16,
     * and no further once the pipe is full: the broker stops reading a
     * client once 64 of its replies wait unwritten, and the create below
     * must still be answered. */
    for (i = 0; i < 8000 && !full; i += 16) {
        int k;
        for (k = 0; k < 16; k++) {
            int n = snprintf(req, sizeof(req), "{\"id\":%d,\"op\":\"ping\"}",
                             i + k + 10);
            CHECK(raw_send_frame(h, req) == 0);
            /* The reply: {"id":N,"result":{"pong":true}} and its header. */
            expected += 4 + (DWORD)n + 11;
        }
        full = pipe_full(h, base, expected);
    }
    CHECK(full);
    before = count_sections();
    snprintf(req, sizeof(req),
             "{\"id\":5000,\"op\":\"create\",\"name\":\"%s\",\"size\":4096}",
             itest_name("undelivered"));
    CHECK(raw_send_frame(h, req) == 0);
    /* The broker duplicates the grant into us, then queues the reply. */
    WAIT_UNTIL((during = count_sections()) > before, ITEST_WAIT_MS);
    CHECK_INT(during, before + 1);
    /* We go away without reading: the reply cannot be written... */
    CloseHandle(h);
    h = INVALID_HANDLE_VALUE;
    /* ...so the broker closes the handle inside our process. */
    WAIT_UNTIL((after = count_sections()) < during, ITEST_WAIT_MS);
    CHECK_INT(after, before);
done:
    raw_close(h);
    return TEST_RESULT;
}

typedef struct {
    USHORT Length;
    USHORT MaximumLength;
    PWSTR Buffer;
} unicode_str;

int test_unnamed_section_has_no_name(void)
{
    query_object_fn q = query_object();
    shmb_client *c = itest_connect();
    shmb_region r = {0};
    union {
        unicode_str name;
        BYTE buf[1024];
    } info;
    ULONG n = 0;
    WCHAR wname[200];
    static const WCHAR *const prefixes[] = {L"Global\\", L"Local\\", L""};
    HANDLE h = NULL;
    size_t i;

    CHECK(c != NULL && q != NULL);
    CHECK_OK(c, shmb_region_create(c, itest_name("unnamed"), 4096,
                                   SHMB_ACCESS_RW, SHMB_LIFETIME_CLIENT, &r));
    /* ObjectNameInformation: the section has no name in the namespace. */
    memset(&info, 0, sizeof(info));
    CHECK_INT(q((HANDLE)(uintptr_t)r.handle, 1, &info, sizeof(info), &n), 0);
    CHECK_INT(info.name.Length, 0);
    /* And so no name the region is known by reaches it. */
    for (i = 0; i < 3; i++) {
        _snwprintf(wname, 200, L"%ls%hs", prefixes[i], r.name);
        wname[199] = 0;
        h = OpenFileMappingW(FILE_MAP_READ, FALSE, wname);
        CHECK(h == NULL);
        CHECK_INT(GetLastError(), ERROR_FILE_NOT_FOUND);
    }
done:
    raw_close(h);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}
