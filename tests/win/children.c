/* SPDX-License-Identifier: MPL-2.0 */
/*
 * children.c - the child processes the integration tests start: this same
 * program, run as `shmb-itest child-NAME ARGS`. Each is another client of
 * the service (another pid, and through itest_child_restricted or
 * itest_child_renamed another identity or image) and reports what it saw
 * in its exit code. A child that has to hold something while the parent
 * looks waits on its stdin (child_wait_told), so it lives exactly as long
 * as the test needs - never a fixed time.
 */
#include <windows.h>

#include <stdlib.h>
#include <string.h>

#include "util_win.h"

/* Opens NAME read-only and checks that it holds EXPECT. */
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

/* Creates NAME with LIFETIME and writes into it; with `die`, ends without
 * any cleanup of its own. */
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

/* The other side of a region with two doorbells: through a read-only
 * grant it hears bell 0 (rung by the parent) but cannot ring bell 1;
 * through a read-write grant it rings bell 1 for the parent. */
static int child_bells(const char *name)
{
    shmb_client *c = itest_connect();
    shmb_region ro, rw;
    int rc = 0;
    if (c == NULL || shmb_region_open(c, name, SHMB_ACCESS_RO, &ro) != SHMB_OK)
        return 3;
    if (ro.ndoorbells != 2)
        rc = 4;
    else if (WaitForSingleObject((HANDLE)(uintptr_t)ro.doorbells[0], 10000) !=
             WAIT_OBJECT_0)
        rc = 5;
    else if (SetEvent((HANDLE)(uintptr_t)ro.doorbells[1]) ||
             GetLastError() != ERROR_ACCESS_DENIED)
        rc = 6;
    shmb_region_close(&ro);
    if (rc != 0)
        return rc;
    if (shmb_region_open(c, name, SHMB_ACCESS_RW, &rw) != SHMB_OK)
        return 7;
    if (rw.ndoorbells != 2 || !SetEvent((HANDLE)(uintptr_t)rw.doorbells[1]))
        rc = 8;
    shmb_region_close(&rw);
    shmb_disconnect(c);
    return rc;
}

/* Creates a named section and holds it until told to exit: a squatter
 * (tests/wine/squat-global.sh). */
static int child_squat_section(const char *name)
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
    while (child_wait_told())
        ;
    CloseHandle(h);
    return 0;
}

/* Creates NAME (1 MiB) on the quota instance and maps it; when told,
 * closes its handle and releases it - keeping only the view - and holds
 * that view until told to exit. */
static int child_hold_view(const char *name)
{
    shmb_client *c = itest_connect_pipe(ITEST_QUOTA_PIPE);
    shmb_region r;
    if (c == NULL ||
        shmb_region_create(c, name, 1048576, SHMB_ACCESS_RW,
                           SHMB_LIFETIME_CLIENT, &r) != SHMB_OK ||
        shmb_region_map(&r) != SHMB_OK)
        return 3;
    if (!child_wait_told())
        return 0;
    CloseHandle((HANDLE)(uintptr_t)r.handle); /* the view stays */
    if (shmb_region_release(c, name) != SHMB_OK)
        return 4;
    shmb_disconnect(c);
    ((char *)r.view)[0] = 1;
    printf("holding a view of %s\n", name);
    fflush(stdout);
    while (child_wait_told())
        ;
    return 0;
}

/* Creates COUNT regions NAME.i of SIZE bytes and holds them until told to
 * exit. */
static int child_create_hold(const char *name, uint64_t size, int count)
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
    while (child_wait_told())
        ;
    return 0;
}

/* Opens a named section by its kernel name with ro or rw; exits 0 iff the
 * error is WANT (0: it opened). */
static int child_open_named(const char *name, const char *access,
                            const char *want)
{
    WCHAR wname[128];
    MultiByteToWideChar(CP_UTF8, 0, name, -1, wname, 128);
    return itest_open_named(wname, strcmp(access, "rw") == 0
                                       ? FILE_MAP_WRITE
                                       : FILE_MAP_READ) == (DWORD)atoi(want)
               ? 0
               : 8;
}

/* In the low-IL child: a broker grant works, the name does not. */
static int child_lowil(void)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    if (c == NULL)
        return 3;
    if (shmb_region_open(c, "cfg/medium", SHMB_ACCESS_RO, &r) != SHMB_OK ||
        shmb_region_map(&r) != SHMB_OK)
        return 4;
    shmb_region_close(&r);
    shmb_disconnect(c);
    return itest_open_named(L"Global\\shmb-it-medium", FILE_MAP_READ) ==
                   ERROR_ACCESS_DENIED
               ? 0
               : 5;
}

/* In the AppContainer child: the pipe admits ALL APPLICATION PACKAGES and
 * the "only-appcontainer" rule lets it create under ac/. */
static int child_ac(void)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    char name[64];
    if (c == NULL)
        return 3;
    snprintf(name, sizeof(name), "ac/%lu", GetCurrentProcessId());
    if (shmb_region_create(c, name, 4096, SHMB_ACCESS_RW, SHMB_LIFETIME_CLIENT,
                           &r) != SHMB_OK) {
        fprintf(stderr, "%s\n", shmb_client_message(c));
        return 4;
    }
    if (shmb_region_map(&r) != SHMB_OK)
        return 5;
    shmb_region_close(&r);
    shmb_disconnect(c);
    return 0;
}

/* Tries to add an instance to the service's pipe: 0 if refused. */
static int child_squat_pipe(void)
{
    WCHAR name[128];
    HANDLE h;
    MultiByteToWideChar(CP_UTF8, 0, itest_pipe(), -1, name, 128);
    h = CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE, 1, 4096,
                         4096, 0, NULL);
    if (h != INVALID_HANDLE_VALUE) {
        CloseHandle(h);
        return 9; /* squatted */
    }
    return GetLastError() == ERROR_ACCESS_DENIED ? 0 : 10;
}

int handoff_child_main(int argc, char **argv);   /* test_handoff.c */
int dataplane_child_main(int argc, char **argv); /* test_dataplane.c */

int itest_child_main(int argc, char **argv)
{
    const char *cmd = argv[1];
    if (strncmp(cmd, "child-handoff-", 14) == 0)
        return handoff_child_main(argc, argv);
    if (strncmp(cmd, "child-dp-", 9) == 0)
        return dataplane_child_main(argc, argv);
    if (strcmp(cmd, "child-read") == 0 && argc == 4)
        return child_read(argv[2], argv[3]);
    if (strcmp(cmd, "child-create") == 0 && argc == 4)
        return child_create(argv[2], argv[3], 0);
    if (strcmp(cmd, "child-create-die") == 0 && argc == 4)
        return child_create(argv[2], argv[3], 1);
    if (strcmp(cmd, "child-open") == 0 && (argc == 5 || argc == 6))
        return child_open(argv[2], argv[3], argv[4],
                          argc == 6 ? argv[5] : NULL);
    if (strcmp(cmd, "child-bells") == 0 && argc == 3)
        return child_bells(argv[2]);
    if (strcmp(cmd, "child-squat-section") == 0 && argc == 3)
        return child_squat_section(argv[2]);
    if (strcmp(cmd, "child-hold-view") == 0 && argc == 3)
        return child_hold_view(argv[2]);
    if (strcmp(cmd, "child-create-hold") == 0 && argc == 5)
        return child_create_hold(argv[2], strtoull(argv[3], NULL, 10),
                                 atoi(argv[4]));
    if (strcmp(cmd, "child-open-named") == 0 && argc == 5)
        return child_open_named(argv[2], argv[3], argv[4]);
    if (strcmp(cmd, "child-lowil") == 0)
        return child_lowil();
    if (strcmp(cmd, "child-ac") == 0)
        return child_ac();
    if (strcmp(cmd, "child-squat-pipe") == 0)
        return child_squat_pipe();
    fprintf(stderr, "bad child command %s\n", cmd);
    return 2;
}
