/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_handoff.c - a granted region handed to a child process that has no
 * connection to the broker: through an inheritable handle in
 * PROC_THREAD_ATTRIBUTE_HANDLE_LIST, and through a handle duplicated into
 * a process we hold. The children are this program again
 * (`shmb-itest child-handoff-*`, dispatched by handoff_child_main) and
 * report in their exit codes what they could and could not do.
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util_win.h"

/* Starts this program with `args`, inheriting exactly `h` (and nothing
 * else: the handle list), and waits for its exit code; -1 if it could not
 * be started or did not end within a minute. */
static int run_with_handle_list(const char *args, HANDLE h)
{
    WCHAR exe[MAX_PATH], cmd[2048], wargs[1024];
    STARTUPINFOEXW si;
    PROCESS_INFORMATION pi;
    LPPROC_THREAD_ATTRIBUTE_LIST attrs = NULL;
    SIZE_T size = 0;
    DWORD code = (DWORD)-1;
    int rc = -1;

    GetModuleFileNameW(NULL, exe, MAX_PATH);
    MultiByteToWideChar(CP_UTF8, 0, args, -1, wargs, 1024);
    _snwprintf(cmd, 2048, L"\"%ls\" %ls", exe, wargs);
    cmd[2047] = 0;
    InitializeProcThreadAttributeList(NULL, 1, 0, &size);
    attrs = malloc(size);
    if (attrs == NULL || !InitializeProcThreadAttributeList(attrs, 1, 0, &size))
        goto out;
    if (!UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
                                   &h, sizeof(h), NULL, NULL))
        goto out_attrs;
    memset(&si, 0, sizeof(si));
    si.StartupInfo.cb = sizeof(si);
    si.lpAttributeList = attrs;
    if (!CreateProcessW(exe, cmd, NULL, NULL, TRUE,
                        EXTENDED_STARTUPINFO_PRESENT, NULL, NULL,
                        &si.StartupInfo, &pi)) {
        fprintf(stderr, "cannot start child (%lu)\n", GetLastError());
        goto out_attrs;
    }
    if (WaitForSingleObject(pi.hProcess, 60000) != WAIT_OBJECT_0)
        TerminateProcess(pi.hProcess, 99);
    else if (GetExitCodeProcess(pi.hProcess, &code))
        rc = (int)code;
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
out_attrs:
    DeleteProcThreadAttributeList(attrs);
out:
    free(attrs);
    return rc;
}

/* Writes `line` and a newline to the child's stdin. */
static int tell_line(itest_proc *p, const char *line)
{
    DWORD n = 0;
    size_t len = strlen(line);
    return WriteFile(p->stdin_w, line, (DWORD)len, &n, NULL) && n == len &&
                   itest_child_tell(p) == 0
               ? 0
               : -1;
}

int test_handoff_inherit_handle_list(void)
{
    shmb_client *c = itest_connect();
    shmb_region r, back;
    shmb_handoff h;
    const char *name = itest_name("handoff-inherit");
    char args[400], text[SHMB_HANDOFF_TEXT_MAX], why[256];
    DWORD flags = 0;

    memset(&r, 0, sizeof(r));
    memset(&h, 0, sizeof(h));
    CHECK(c != NULL);
    CHECK_OK(c, itest_create(c, name, 4096, SHMB_LIFETIME_CLIENT, &r));
    CHECK_OK(c, shmb_region_map(&r));
    strcpy(r.view, "bytes from the parent");
    CHECK_INT(shmb_region_share_inheritable(&r, SHMB_ACCESS_RO, &h), SHMB_OK);
    /* Exactly the read-only grant mask, inheritable, and the text says
     * what the child gets. */
    CHECK_INT(itest_granted_access((HANDLE)(uintptr_t)h.handle),
              FILE_MAP_READ | SECTION_QUERY);
    CHECK(GetHandleInformation((HANDLE)(uintptr_t)h.handle, &flags));
    CHECK(flags & HANDLE_FLAG_INHERIT);
    CHECK(strncmp(h.text, "shmb1:ro:4096:0x", 16) == 0);
    CHECK(strstr(h.text, ":client:") != NULL);
    CHECK(strstr(h.text, name) != NULL);
    /* The child reads the bytes and cannot map for write (exit 0). */
    snprintf(args, sizeof(args), "child-handoff-read %s ro", h.text);
    CHECK_INT(run_with_handle_list(args, (HANDLE)(uintptr_t)h.handle), 0);
    /* Once closed here the same text names nothing in this process: a
     * clear refusal, not a map of whatever the number is now. */
    strcpy(text, h.text);
    shmb_handoff_close(&h);
    CHECK_INT(h.handle, 0);
    CHECK_INT(shmb_region_from_handoff(text, &back, why, sizeof(why)),
              SHMB_E_INVALID_ARG);
    CHECK(strstr(why, "not open in this process") != NULL);
done:
    shmb_handoff_close(&h);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_handoff_duplicate_into_child(void)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    shmb_handoff h;
    itest_proc p = ITEST_PROC_INIT;
    const char *name = itest_name("handoff-dup");

    memset(&r, 0, sizeof(r));
    memset(&h, 0, sizeof(h));
    CHECK(c != NULL);
    CHECK_OK(c, itest_create(c, name, 8192, SHMB_LIFETIME_CLIENT, &r));
    CHECK_OK(c, shmb_region_map(&r));
    strcpy(r.view, "bytes from the parent");
    /* The child waits for its text on stdin; its handle table gets the
     * section from us, read-write. */
    CHECK_INT(itest_child_start(&p, "child-handoff-stdin"), 0);
    CHECK_INT(shmb_region_share_with_process(&r, SHMB_ACCESS_RW, p.process, &h),
              SHMB_OK);
    CHECK(!h.inheritable);
    CHECK(strncmp(h.text, "shmb1:rw:8192:0x", 16) == 0);
    CHECK_INT(tell_line(&p, h.text), 0);
    CHECK_INT(itest_child_stop(&p), 0);
    /* It read ours and wrote its own, into the same memory. */
    CHECK_STR((char *)r.view + 1024, "written by the child");
    /* Revoking needs the process the duplicate lives in. */
    CHECK_INT(shmb_handoff_revoke(&h, NULL), SHMB_E_INVALID_ARG);
done:
    itest_child_stop(&p);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_handoff_revoke_undelivered(void)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    shmb_handoff h;
    itest_proc p = ITEST_PROC_INIT;
    HANDLE back = NULL;
    uint64_t was;
    const char *name = itest_name("handoff-revoke");

    memset(&r, 0, sizeof(r));
    memset(&h, 0, sizeof(h));
    CHECK(c != NULL);
    CHECK_OK(c, itest_create(c, name, 4096, SHMB_LIFETIME_CLIENT, &r));
    CHECK_INT(itest_child_start(&p, "child-handoff-stdin"), 0);
    CHECK_INT(shmb_region_share_with_process(&r, SHMB_ACCESS_RO, p.process, &h),
              SHMB_OK);
    /* The duplicate exists in the child (we can copy it back)... */
    CHECK(DuplicateHandle(p.process, (HANDLE)(uintptr_t)h.handle,
                          GetCurrentProcess(), &back, 0, FALSE,
                          DUPLICATE_SAME_ACCESS));
    CHECK_INT(itest_granted_access(back), FILE_MAP_READ | SECTION_QUERY);
    CloseHandle(back);
    back = NULL;
    /* ...until revoked: then it is closed there. */
    was = h.handle;
    CHECK_INT(shmb_handoff_revoke(&h, p.process), SHMB_OK);
    CHECK_INT(h.handle, 0);
    /* The child may be starting up and reuse that slot for a handle of
     * its own (a file, a key): then it is open, but not our section. */
    if (DuplicateHandle(p.process, (HANDLE)(uintptr_t)was, GetCurrentProcess(),
                        &back, 0, FALSE, DUPLICATE_SAME_ACCESS))
        CHECK(itest_granted_access(back) != (FILE_MAP_READ | SECTION_QUERY));
done:
    if (back != NULL)
        CloseHandle(back);
    itest_child_stop(&p);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_handoff_readonly_parent_refused(void)
{
    shmb_client *c = itest_connect();
    shmb_region rw, ro;
    shmb_handoff h;
    const char *name = itest_name("handoff-ro");

    memset(&rw, 0, sizeof(rw));
    memset(&ro, 0, sizeof(ro));
    memset(&h, 0, sizeof(h));
    CHECK(c != NULL);
    CHECK_OK(c, itest_create(c, name, 4096, SHMB_LIFETIME_CLIENT, &rw));
    CHECK_OK(c, shmb_region_open(c, name, SHMB_ACCESS_RO, &ro));
    /* Refused by the library before anything is duplicated. */
    CHECK_INT(shmb_region_share_inheritable(&ro, SHMB_ACCESS_RW, &h),
              SHMB_E_ACCESS_DENIED);
    CHECK_INT(h.handle, 0);
    CHECK_INT(h.text[0], 0);
    CHECK_INT(shmb_region_share_with_process(&ro, SHMB_ACCESS_RW,
                                             GetCurrentProcess(), &h),
              SHMB_E_ACCESS_DENIED);
    CHECK_INT(h.handle, 0);
    /* And by the kernel, should the struct lie about its grant: the
     * section's empty DACL gives no more than the handle has. */
    ro.access = SHMB_ACCESS_RW;
    CHECK_INT(shmb_region_share_inheritable(&ro, SHMB_ACCESS_RW, &h),
              SHMB_E_SYSTEM);
    CHECK_INT(h.syserr, ERROR_ACCESS_DENIED);
    CHECK_INT(h.handle, 0);
    ro.access = SHMB_ACCESS_RO;
    /* Read-only from a read-only grant is fine; so is ro from rw. */
    CHECK_INT(shmb_region_share_inheritable(&ro, SHMB_ACCESS_RO, &h), SHMB_OK);
    shmb_handoff_close(&h);
    CHECK_INT(shmb_region_share_inheritable(&rw, SHMB_ACCESS_RO, &h), SHMB_OK);
    CHECK_INT(itest_granted_access((HANDLE)(uintptr_t)h.handle),
              FILE_MAP_READ | SECTION_QUERY);
    shmb_handoff_close(&h);
    CHECK_INT(shmb_region_share_inheritable(&rw, SHMB_ACCESS_NONE, &h),
              SHMB_E_INVALID_ARG);
done:
    shmb_handoff_close(&h);
    shmb_region_close(&ro);
    shmb_region_close(&rw);
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_handoff_malformed_refused(void)
{
    /* Each text and the words its refusal must contain. 0x4 is checked
     * not to be open below, so that only the format is judged. */
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"", "version tag"},
        {"shmb2:ro:4096:0x4:client:a", "version tag"},
        {"SHMB1:ro:4096:0x4:client:a", "version tag"},
        {"shmb1", "version tag"},
        {"shmb1:rx:4096:0x4:client:a", "access"},
        {"shmb1:none:4096:0x4:client:a", "access"},
        {"shmb1::4096:0x4:client:a", "access"},
        {"shmb1:ro:0:0x4:client:a", "size"},
        {"shmb1:ro:04096:0x4:client:a", "size"},
        {"shmb1:ro:-1:0x4:client:a", "size"},
        {"shmb1:ro:+4096:0x4:client:a", "size"},
        {"shmb1:ro:4096 :0x4:client:a", "size"},
        {"shmb1:ro:99999999999999999999:0x4:client:a", "size"},
        {"shmb1:ro:4096:4:client:a", "handle"},
        {"shmb1:ro:4096:0X4:client:a", "handle"},
        {"shmb1:ro:4096:0x:client:a", "handle"},
        {"shmb1:ro:4096:0x04:client:a", "handle"},
        {"shmb1:ro:4096:0xA4:client:a", "handle"},
        {"shmb1:ro:4096:0x123456789:client:a", "handle"},
        {"shmb1:ro:4096:0x5:client:a", "not a handle value"},
        {"shmb1:ro:4096:0x0:client:a", "handle"},
        {"shmb1:ro:4096:0x4:forever:a", "lifetime"},
        {"shmb1:ro:4096:0x4:client", "lifetime"},
        {"shmb1:ro:4096:0x4:client:", "name is empty"},
        {"shmb1:ro:4096:0x4:client:a/../b", "'..'"},
        {"shmb1:ro:4096:0x4:client:a:b", "character outside"},
        {"shmb1:ro:4096:0x4:client:a\n", "character outside"},
        {"shmb1:ro:4096:0x4:client:/a", "start with a letter"},
    };
    char longtext[400], why[256];
    shmb_region r;
    HANDLE ev = NULL, sec = NULL;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = shmb_region_from_handoff(bad[i].text, &r, why, sizeof(why));
        if (rc != SHMB_E_INVALID_ARG || strstr(why, bad[i].why) == NULL ||
            strncmp(why, "hand-off text refused: ", 23) != 0 || r.handle != 0)
            ADD_FAILURE("'%s' -> %s '%s', want invalid_argument '%s'",
                        bad[i].text, shmb_err_name(rc), why, bad[i].why);
    }
    memset(longtext, 'a', sizeof(longtext) - 1);
    longtext[sizeof(longtext) - 1] = '\0';
    memcpy(longtext, "shmb1:ro:4096:0x4:client:", 25);
    CHECK_INT(shmb_region_from_handoff(longtext, &r, why, sizeof(why)),
              SHMB_E_INVALID_ARG);
    CHECK(strstr(why, "longer than") != NULL);
    CHECK_INT(shmb_region_from_handoff(NULL, &r, NULL, 0), SHMB_E_INVALID_ARG);
    CHECK_INT(
        shmb_region_from_handoff("shmb1:ro:4096:0x4:client:a", NULL, NULL, 0),
        SHMB_E_INVALID_ARG);
    /* A well-formed text naming an open handle that is not a section (a
     * stale or mistyped one): refused, and the handle left alone. */
    ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    CHECK(ev != NULL);
    snprintf(longtext, sizeof(longtext), "shmb1:ro:4096:0x%x:client:a",
             (unsigned)(uintptr_t)ev);
    CHECK_INT(shmb_region_from_handoff(longtext, &r, why, sizeof(why)),
              SHMB_E_INVALID_ARG);
    CHECK(strstr(why, "not a section handle") != NULL);
    CHECK(SetEvent(ev)); /* still ours, still open */
    /* A section of another size: refused. */
    sec = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                             8192, NULL);
    CHECK(sec != NULL);
    snprintf(longtext, sizeof(longtext), "shmb1:rw:4096:0x%x:config:a",
             (unsigned)(uintptr_t)sec);
    CHECK_INT(shmb_region_from_handoff(longtext, &r, why, sizeof(why)),
              SHMB_E_INVALID_ARG);
    CHECK(strstr(why, "holds 8192 bytes") != NULL);
    /* The right size (any size within the last page), a config region:
     * taken. */
    snprintf(longtext, sizeof(longtext), "shmb1:rw:8000:0x%x:config:a",
             (unsigned)(uintptr_t)sec);
    CHECK_INT(shmb_region_from_handoff(longtext, &r, why, sizeof(why)),
              SHMB_OK);
    CHECK_INT(r.lifetime, SHMB_LIFETIME_CONFIG);
    CHECK_INT(r.size, 8000);
done:
    if (ev != NULL)
        CloseHandle(ev);
    if (sec != NULL)
        CloseHandle(sec);
    return TEST_RESULT;
}

/* ---- the children ---------------------------------------------------- */

/* Maps the region of TEXT with its own access, checks that it holds the
 * parent's bytes, and - for a read-only hand-off - that mapping it for
 * write is refused by the kernel. */
static int child_handoff_read(const char *text, const char *access)
{
    shmb_region r;
    char why[256];
    int rc = shmb_region_from_handoff(text, &r, why, sizeof(why));
    if (rc != SHMB_OK) {
        fprintf(stderr, "child: %s\n", why);
        return 3;
    }
    if (strcmp(shmb_access_name(r.access), access) != 0)
        return 4;
    if (strcmp(access, "ro") == 0) {
        rc = shmb_region_map_as(&r, SHMB_ACCESS_RW);
        if (rc != SHMB_E_SYSTEM || r.syserr != ERROR_ACCESS_DENIED) {
            fprintf(stderr, "child: rw map of a ro hand-off: %s (%u)\n",
                    shmb_err_name(rc), (unsigned)r.syserr);
            return 5;
        }
    }
    if (shmb_region_map(&r) != SHMB_OK)
        return 6;
    if (strcmp(r.view, "bytes from the parent") != 0)
        return 7;
    shmb_region_close(&r);
    return 0;
}

/* Reads a hand-off text from stdin (EOF first: exits 0, never given one),
 * checks the parent's bytes and writes its own at offset 1024. */
static int child_handoff_stdin(void)
{
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    char text[SHMB_HANDOFF_TEXT_MAX + 2], why[256], ch;
    size_t n = 0;
    DWORD got;
    shmb_region r;

    for (;;) {
        if (!ReadFile(in, &ch, 1, &got, NULL) || got == 0)
            return n == 0 ? 0 : 3;
        if (ch == '\n')
            break;
        if (n + 1 >= sizeof(text))
            return 3;
        text[n++] = ch;
    }
    text[n] = '\0';
    if (shmb_region_from_handoff(text, &r, why, sizeof(why)) != SHMB_OK) {
        fprintf(stderr, "child: %s\n", why);
        return 4;
    }
    if (shmb_region_map(&r) != SHMB_OK)
        return 5;
    if (strcmp(r.view, "bytes from the parent") != 0)
        return 6;
    strcpy((char *)r.view + 1024, "written by the child");
    shmb_region_close(&r);
    return 0;
}

int handoff_child_main(int argc, char **argv)
{
    if (strcmp(argv[1], "child-handoff-read") == 0 && argc == 4)
        return child_handoff_read(argv[2], argv[3]);
    if (strcmp(argv[1], "child-handoff-stdin") == 0 && argc == 2)
        return child_handoff_stdin();
    fprintf(stderr, "bad child command %s\n", argv[1]);
    return 2;
}
