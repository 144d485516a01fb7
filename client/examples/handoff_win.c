/* SPDX-License-Identifier: MPL-2.0 */
/*
 * handoff_win.c (shmb_handoff.exe) - a parent gives a region to a child
 * process that never talks to the broker.
 *
 *   shmb_handoff [NAME]        parent: create NAME (default demo/handoff),
 *                              write into it, start itself as the child
 *                              with a read-only duplicate of the section in
 *                              its handle list, and wait for it
 *   shmb_handoff child TEXT    child: turn the hand-off TEXT into a region,
 *                              map it, print what the parent wrote, and
 *                              show that it cannot map it for writing
 *
 * Only the handle in PROC_THREAD_ATTRIBUTE_HANDLE_LIST is inherited, even
 * though bInheritHandles is TRUE: the child gets the section and nothing
 * else of ours.
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmb.h"

static int child(const char *text)
{
    shmb_region r;
    char why[256];
    int rc = shmb_region_from_handoff(text, &r, why, sizeof(why));

    if (rc != SHMB_OK) {
        fprintf(stderr, "child: %s\n", why);
        return 1;
    }
    printf("child: pid %lu got '%s' (%llu bytes, %s, handle 0x%llx)\n",
           GetCurrentProcessId(), r.name, (unsigned long long)r.size,
           shmb_access_name(r.access), (unsigned long long)r.handle);
    rc = shmb_region_map_as(&r, SHMB_ACCESS_RW);
    printf("child: mapping it for writing: %s (system error %lu)\n",
           shmb_err_name(rc), (unsigned long)r.syserr);
    if (rc == SHMB_OK) {
        shmb_region_close(&r);
        return 1; /* a read-only hand-off must not map for writing */
    }
    rc = shmb_region_map(&r);
    if (rc != SHMB_OK) {
        fprintf(stderr, "child: map: %s (system error %lu)\n",
                shmb_err_name(rc), (unsigned long)r.syserr);
        return 1;
    }
    printf("child: read \"%s\"\n", (const char *)r.view);
    shmb_region_close(&r);
    return 0;
}

/* Starts this program as `child TEXT` with exactly `h` inherited and
 * returns its exit code, or -1. */
static int run_child(const char *text, HANDLE h)
{
    WCHAR exe[MAX_PATH], cmd[MAX_PATH + SHMB_HANDOFF_TEXT_MAX + 16];
    WCHAR wtext[SHMB_HANDOFF_TEXT_MAX];
    STARTUPINFOEXW si;
    PROCESS_INFORMATION pi;
    LPPROC_THREAD_ATTRIBUTE_LIST attrs;
    SIZE_T size = 0;
    DWORD code = (DWORD)-1;
    BOOL ok;

    GetModuleFileNameW(NULL, exe, MAX_PATH);
    MultiByteToWideChar(CP_UTF8, 0, text, -1, wtext, SHMB_HANDOFF_TEXT_MAX);
    _snwprintf(cmd, sizeof(cmd) / sizeof(cmd[0]), L"\"%ls\" child %ls", exe,
               wtext);
    cmd[sizeof(cmd) / sizeof(cmd[0]) - 1] = 0;
    InitializeProcThreadAttributeList(NULL, 1, 0, &size);
    attrs = malloc(size);
    if (attrs == NULL ||
        !InitializeProcThreadAttributeList(attrs, 1, 0, &size)) {
        free(attrs);
        return -1;
    }
    memset(&si, 0, sizeof(si));
    si.StartupInfo.cb = sizeof(si);
    si.lpAttributeList = attrs;
    ok =
        UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
                                  &h, sizeof(h), NULL, NULL) &&
        CreateProcessW(exe, cmd, NULL, NULL, TRUE, EXTENDED_STARTUPINFO_PRESENT,
                       NULL, NULL, &si.StartupInfo, &pi);
    if (!ok)
        fprintf(stderr, "parent: cannot start the child (%lu)\n",
                GetLastError());
    DeleteProcThreadAttributeList(attrs);
    free(attrs);
    if (!ok)
        return -1;
    WaitForSingleObject(pi.hProcess, INFINITE);
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    return (int)code;
}

static int parent(const char *name)
{
    shmb_client *c = NULL;
    shmb_region r;
    shmb_handoff h;
    int rc, code = -1;

    memset(&r, 0, sizeof(r));
    rc = shmb_connect(NULL, &c);
    if (rc == SHMB_OK)
        rc = shmb_region_create(c, name, 4096, SHMB_ACCESS_RW,
                                SHMB_LIFETIME_CLIENT, &r);
    if (rc == SHMB_OK)
        rc = shmb_region_map(&r);
    if (rc != SHMB_OK) {
        fprintf(stderr, "parent: %s: %s\n", shmb_err_name(rc),
                shmb_client_message(c));
        shmb_region_close(&r);
        shmb_disconnect(c);
        return 1;
    }
    snprintf(r.view, 4096, "hello from parent pid %lu", GetCurrentProcessId());
    printf("parent: wrote \"%s\" into '%s'\n", (const char *)r.view, r.name);
    /* Read-only for the child, whatever we hold. */
    rc = shmb_region_share_inheritable(&r, SHMB_ACCESS_RO, &h);
    if (rc != SHMB_OK) {
        fprintf(stderr, "parent: hand-off: %s (system error %lu)\n",
                shmb_err_name(rc), (unsigned long)h.syserr);
    } else {
        printf("parent: hand-off text %s\n", h.text);
        fflush(stdout);
        code = run_child(h.text, (HANDLE)(uintptr_t)h.handle);
        shmb_handoff_close(&h); /* ours; the child has its own */
        printf("parent: child exited with %d\n", code);
    }
    shmb_region_close(&r);
    shmb_disconnect(c);
    return code == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "child") == 0)
        return child(argv[2]);
    if (argc <= 2 && (argc < 2 || strcmp(argv[1], "child") != 0))
        return parent(argc == 2 ? argv[1] : "demo/handoff");
    fprintf(stderr, "usage: shmb_handoff [NAME] | shmb_handoff child TEXT\n");
    return 2;
}
