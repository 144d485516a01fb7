/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_service.c - grants, sharing and lifetimes through the installed
 * service, across real processes.
 */
#include <windows.h>

#include <stdlib.h>
#include <string.h>

#include "util_win.h"

/* ---- child processes -------------------------------------------------- */

static int child_read(const char *name, const char *expect)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    if (c == NULL)
        return 3;
    if (shmb_region_open(c, name, SHMB_ACCESS_RO, &r) != SHMB_OK)
        return 3;
    if (shmb_region_map(&r) != SHMB_OK)
        return 4;
    if (memcmp(r.view, expect, strlen(expect) + 1) != 0)
        return 5;
    shmb_region_close(&r);
    shmb_disconnect(c);
    return 0;
}

static int child_create(const char *name, const char *lifetime, int die)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    shmb_lifetime l = strcmp(lifetime, "persistent") == 0
                          ? SHMB_LIFETIME_PERSISTENT
                          : SHMB_LIFETIME_CLIENT;
    if (c == NULL)
        return 3;
    if (shmb_region_create(c, name, 4096, SHMB_ACCESS_RW, l, &r) != SHMB_OK)
        return 3;
    if (shmb_region_map(&r) != SHMB_OK)
        return 4;
    strcpy(r.view, "made by a child");
    if (die) /* no unmap, no close, no disconnect: the kernel cleans up */
        TerminateProcess(GetCurrentProcess(), 0);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return 0;
}

/* Opens NAME with ACCESS and exits 0 iff the result's code name (e.g.
 * "ok", "access_denied") is EXPECT; prints the broker's message. */
static int child_open(const char *name, const char *access, const char *expect,
                      const char *want_msg)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    int rc;
    if (c == NULL)
        return 3;
    rc = shmb_region_open(
        c, name, strcmp(access, "rw") == 0 ? SHMB_ACCESS_RW : SHMB_ACCESS_RO,
        &r);
    printf("child-open %s %s: %s: %s\n", name, access, shmb_err_name(rc),
           shmb_client_message(c));
    if (rc == SHMB_OK)
        shmb_region_close(&r);
    if (strcmp(shmb_err_name(rc), expect) != 0)
        return 6;
    if (want_msg != NULL && strstr(shmb_client_message(c), want_msg) == NULL)
        return 7;
    shmb_disconnect(c);
    return 0;
}

/* Creates a named section and holds it for `seconds`: a squatter. */
static int child_squat_section(const char *name, int seconds)
{
    WCHAR wname[128];
    HANDLE h;
    MultiByteToWideChar(CP_UTF8, 0, name, -1, wname, 128);
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096,
                           wname);
    if (h == NULL)
        return 3;
    printf("squatting %s\n", name);
    fflush(stdout);
    Sleep((DWORD)seconds * 1000);
    CloseHandle(h);
    return 0;
}

/* Creates NAME (1 MiB) on the quota instance, maps it, closes its handle
 * and releases it - keeping only the view - then lives `seconds`. */
static int child_hold_view(const char *name, int seconds)
{
    shmb_client *c = itest_connect_pipe(ITEST_QUOTA_PIPE);
    shmb_region r;
    if (c == NULL ||
        shmb_region_create(c, name, 1048576, SHMB_ACCESS_RW,
                           SHMB_LIFETIME_CLIENT, &r) != SHMB_OK ||
        shmb_region_map(&r) != SHMB_OK)
        return 3;
    Sleep(500); /* listed for a while, so the test sees it come and go */
    CloseHandle((HANDLE)(uintptr_t)r.handle); /* the view stays */
    if (shmb_region_release(c, name) != SHMB_OK)
        return 4;
    shmb_disconnect(c);
    ((char *)r.view)[0] = 1;
    printf("holding a view of %s\n", name);
    fflush(stdout);
    Sleep((DWORD)seconds * 1000);
    return 0;
}

/* Creates COUNT regions NAME.i of SIZE bytes, holds them `seconds`. */
static int child_create_hold(const char *name, uint64_t size, int count,
                             int seconds)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    char n[160];
    int i;
    if (c == NULL)
        return 3;
    for (i = 0; i < count; i++) {
        snprintf(n, sizeof(n), "%s.%d", name, i);
        if (shmb_region_create(c, n, size, SHMB_ACCESS_RW, SHMB_LIFETIME_CLIENT,
                               &r) != SHMB_OK) {
            fprintf(stderr, "%s\n", shmb_client_message(c));
            return 4;
        }
    }
    Sleep((DWORD)seconds * 1000);
    return 0;
}

int itest_child_main(int argc, char **argv)
{
    if (strcmp(argv[1], "child-create-hold") == 0 && argc == 6)
        return child_create_hold(argv[2], strtoull(argv[3], NULL, 10),
                                 atoi(argv[4]), atoi(argv[5]));
    if (strcmp(argv[1], "child-hold-view") == 0 && argc == 4)
        return child_hold_view(argv[2], atoi(argv[3]));
    if (strcmp(argv[1], "child-squat-section") == 0 && argc == 4)
        return child_squat_section(argv[2], atoi(argv[3]));
    if (strcmp(argv[1], "child-open") == 0 && (argc == 5 || argc == 6))
        return child_open(argv[2], argv[3], argv[4],
                          argc == 6 ? argv[5] : NULL);
    if (strcmp(argv[1], "child-open-named") == 0)
        return child_open_named(argc, argv);
    if (strcmp(argv[1], "child-lowil") == 0)
        return child_lowil();
    if (strcmp(argv[1], "child-ac") == 0)
        return child_ac();
    if (strcmp(argv[1], "child-squat-pipe") == 0)
        return child_squat_pipe();
    if (strcmp(argv[1], "child-read") == 0 && argc == 4)
        return child_read(argv[2], argv[3]);
    if (strcmp(argv[1], "child-create") == 0 && argc == 4)
        return child_create(argv[2], argv[3], 0);
    if (strcmp(argv[1], "child-create-die") == 0 && argc == 4)
        return child_create(argv[2], argv[3], 1);
    fprintf(stderr, "bad child command %s\n", argv[1]);
    return 2;
}

/* ---- tests ------------------------------------------------------------ */

/* A client's exit reaches the broker as EOF on its own pipe, which the
 * broker may handle after our next request: poll (bounded) for the region
 * to be gone. Returns SHMB_E_NOT_FOUND once it is, else the last result. */
static int wait_gone(shmb_client *c, const char *name)
{
    shmb_region r;
    int i, rc = SHMB_OK;
    for (i = 0; i < 100; i++) {
        rc = shmb_region_open(c, name, SHMB_ACCESS_RO, &r);
        if (rc != SHMB_OK)
            return rc;
        shmb_region_close(&r);
        shmb_region_release(c, name);
        Sleep(50);
    }
    return rc;
}

int test_hello_and_ping(void)
{
    shmb_client *c = itest_connect();
    CHECK(c != NULL);
    CHECK_INT(shmb_client_version(c), 1);
    CHECK_OK(c, shmb_ping(c));
    CHECK_OK(c, shmb_ping(c));
    shmb_disconnect(c);
    return 0;
}

int test_share_bytes_between_processes(void)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    char name[128], args[256];
    const char *msg = "bytes written by the parent";

    CHECK(c != NULL);
    strcpy(name, itest_name("share"));
    CHECK_OK(c, shmb_region_create(c, name, 8192, SHMB_ACCESS_RW,
                                   SHMB_LIFETIME_CLIENT, &r));
    CHECK_INT(r.size, 8192);
    CHECK_INT(r.access, SHMB_ACCESS_RW);
    CHECK_OK(c, shmb_region_map(&r));
    strcpy(r.view, msg);
    snprintf(args, sizeof(args), "child-read %s \"%s\"", name, msg);
    CHECK_INT(itest_child(args), 0);
    /* The child must really compare: different text fails. */
    snprintf(args, sizeof(args), "child-read %s \"something else\"", name);
    CHECK_INT(itest_child(args), 5);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return 0;
}

int test_readonly_grant_write_refused(void)
{
    shmb_client *c = itest_connect();
    shmb_region rw, ro;
    char name[128];
    void *v;

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
    shmb_region_close(&ro);
    shmb_region_close(&rw);
    shmb_disconnect(c);
    return 0;
}

int test_grant_access_masks_exact(void)
{
    shmb_client *c = itest_connect();
    shmb_region rw, ro;
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
    shmb_region_close(&ro);
    shmb_region_close(&rw);
    shmb_disconnect(c);
    return 0;
}

int test_readonly_grant_cannot_escalate(void)
{
    shmb_client *c = itest_connect();
    shmb_region rw, ro;
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
    shmb_region_close(&ro);
    shmb_region_close(&rw);
    shmb_disconnect(c);
    return 0;
}

int test_client_region_freed_with_last_holder(void)
{
    shmb_client *c = itest_connect();
    char name[128], args[256];

    CHECK(c != NULL);
    strcpy(name, itest_name("life"));
    snprintf(args, sizeof(args), "child-create %s client", name);
    CHECK_INT(itest_child(args), 0);
    /* The child was the only holder; its exit freed the region. */
    CHECK_INT(wait_gone(c, name), SHMB_E_NOT_FOUND);
    shmb_disconnect(c);
    return 0;
}

int test_persistent_region_outlives_creator(void)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    char name[128], args[256];

    CHECK(c != NULL);
    strcpy(name, itest_name("persist"));
    snprintf(args, sizeof(args), "child-create %s persistent", name);
    CHECK_INT(itest_child(args), 0);
    CHECK_OK(c, shmb_region_open(c, name, SHMB_ACCESS_RO, &r));
    CHECK_INT(r.lifetime, SHMB_LIFETIME_PERSISTENT);
    CHECK_OK(c, shmb_region_map(&r));
    CHECK_STR((const char *)r.view, "made by a child");
    CHECK_OK(c, shmb_region_delete(c, name));
    /* Our mapping survives the delete; the name does not. */
    CHECK_STR((const char *)r.view, "made by a child");
    shmb_region_close(&r);
    CHECK_INT(shmb_region_open(c, name, SHMB_ACCESS_RO, &r), SHMB_E_NOT_FOUND);
    shmb_disconnect(c);
    return 0;
}

int test_release_and_delete(void)
{
    shmb_client *a = itest_connect(), *b = itest_connect();
    shmb_region ra, rb;
    char name[128];

    CHECK(a != NULL && b != NULL);
    strcpy(name, itest_name("rel"));
    CHECK_OK(a, shmb_region_create(a, name, 100, SHMB_ACCESS_RW,
                                   SHMB_LIFETIME_CLIENT, &ra));
    CHECK_OK(b, shmb_region_open(b, name, SHMB_ACCESS_RO, &rb));
    CHECK_OK(a, shmb_region_release(a, name));
    CHECK_INT(shmb_region_release(a, name), SHMB_E_NOT_HELD);
    /* b still holds it, so it is still there. */
    CHECK_OK(a, shmb_region_open(a, name, SHMB_ACCESS_RO, &ra));
    shmb_region_close(&ra);
    CHECK_OK(a, shmb_region_release(a, name));
    CHECK_OK(b, shmb_region_release(b, name));
    /* Last holder released: a client region is gone. */
    CHECK_INT(shmb_region_open(a, name, SHMB_ACCESS_RO, &ra), SHMB_E_NOT_FOUND);
    CHECK_INT(shmb_region_delete(a, name), SHMB_E_NOT_FOUND);
    shmb_region_close(&rb);
    shmb_disconnect(a);
    shmb_disconnect(b);
    return 0;
}

int test_list_and_stat(void)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    char name[128], req[256], *reply = NULL;

    CHECK(c != NULL);
    strcpy(name, itest_name("stat"));
    CHECK_OK(c, shmb_region_create(c, name, 70000, SHMB_ACCESS_RW,
                                   SHMB_LIFETIME_CLIENT, &r));
    snprintf(req, sizeof(req), "{\"op\":\"stat\",\"name\":\"%s\"}", name);
    CHECK_OK(c, shmb_request_json(c, req, &reply));
    /* 70000 bytes charge two 64 KiB allocation units. */
    CHECK(strstr(reply, "\"size\":70000") != NULL);
    CHECK(strstr(reply, "\"charge\":131072") != NULL);
    CHECK(strstr(reply, "\"holders\":1") != NULL);
    CHECK(strstr(reply, "\"your_grants\":1") != NULL);
    CHECK(strstr(reply, "\"owner\":true") != NULL);
    shmb_free(reply);
    CHECK_OK(c, shmb_request_json(c, "{\"op\":\"list\"}", &reply));
    CHECK(strstr(reply, name) != NULL);
    CHECK(strstr(reply, "\"truncated\":false") != NULL);
    shmb_free(reply);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return 0;
}

int test_client_dies_holding_region(void)
{
    shmb_client *c = itest_connect();
    char name[128], args[256];

    CHECK(c != NULL);
    strcpy(name, itest_name("die"));
    snprintf(args, sizeof(args), "child-create-die %s client", name);
    CHECK_INT(itest_child(args), 0);
    /* The broker saw the pipe break and freed the child's region. */
    CHECK_INT(wait_gone(c, name), SHMB_E_NOT_FOUND);
    CHECK_OK(c, shmb_ping(c));
    shmb_disconnect(c);
    return 0;
}

int test_grant_cannot_take_write_dac(void)
{
    shmb_client *c;
    shmb_region rw;
    HANDLE dup = NULL;
    BOOL got;

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
    got = DuplicateHandle(GetCurrentProcess(), (HANDLE)(uintptr_t)rw.handle,
                          GetCurrentProcess(), &dup, WRITE_DAC, FALSE, 0);
    CHECK(!got);
    CHECK_INT(GetLastError(), ERROR_ACCESS_DENIED);
    got = DuplicateHandle(GetCurrentProcess(), (HANDLE)(uintptr_t)rw.handle,
                          GetCurrentProcess(), &dup, READ_CONTROL | DELETE,
                          FALSE, 0);
    CHECK(!got);
    shmb_region_close(&rw);
    shmb_disconnect(c);
    return 0;
}
