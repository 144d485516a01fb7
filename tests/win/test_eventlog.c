/* SPDX-License-Identifier: MPL-2.0 */
/* test_eventlog.c - the Event Log message table linked into shmbroker.exe
 * (service/messages.mc) and the log file's rotation (log_win.c). Wine's
 * ReportEvent stores nothing, so what can be tested is that every event id
 * formats from the executable, as Event Viewer would format it. */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "platform.h"

/* The built service, as the test environment names it (SHMB_BROKER_EXE). */
static HMODULE load_broker(char *path, size_t cap)
{
    const char *exe = getenv("SHMB_BROKER_EXE");
    char *p;

    if (exe == NULL || strlen(exe) >= cap)
        return NULL;
    snprintf(path, cap, "%s", exe);
    for (p = path; *p != '\0'; p++) {
        if (*p == '/')
            *p = '\\';
    }
    return LoadLibraryExA(
        path, NULL, LOAD_LIBRARY_AS_DATAFILE | LOAD_LIBRARY_AS_IMAGE_RESOURCE);
}

/* The message `id` with insert %1, as Event Viewer builds it; 0 if none. */
static int format_event(HMODULE mod, DWORD id, const char *insert, char *out,
                        DWORD cap)
{
    DWORD_PTR args[1];
    args[0] = (DWORD_PTR)insert;
    return FormatMessageA(FORMAT_MESSAGE_FROM_HMODULE |
                              FORMAT_MESSAGE_ARGUMENT_ARRAY,
                          mod, id, MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US),
                          out, cap, (va_list *)args) > 0;
}

int test_eventlog_messages_format(void)
{
    char path[MAX_PATH * 2], text[4096], insert[128];
    HMODULE mod = NULL;
    int i;

    mod = load_broker(path, sizeof(path));
    CHECK(mod != NULL);
    for (i = 0; i < SHMB_EV_COUNT_; i++) {
        unsigned id = shmb_log_event_msgid((shmb_event)i);
        snprintf(insert, sizeof(insert),
                 "pid=4242 code=access_denied reason=\"sample %s\"",
                 shmb_log_event_name((shmb_event)i));
        if (!format_event(mod, id, insert, text, sizeof(text)))
            FAIL("event %s (id %u) has no message in %s: error %lu",
                 shmb_log_event_name((shmb_event)i), id, path,
                 (unsigned long)GetLastError());
        if (strstr(text, insert) == NULL)
            FAIL("event %s (id %u) drops its insert: \"%s\"",
                 shmb_log_event_name((shmb_event)i), id, text);
        /* A sentence for the reader besides the details. */
        CHECK(strlen(text) > strlen(insert) + 20);
        CHECK(strstr(text, "%") == NULL);
    }
    /* A line that names no event is shown as it is. */
    CHECK(
        format_event(mod, SHMB_MSG_GENERIC, "plain line", text, sizeof(text)));
    CHECK(strncmp(text, "plain line", 10) == 0);
    /* The check above can fail: an id with no message does not format. */
    CHECK(!format_event(mod, 4999, "x", text, sizeof(text)));
done:
    if (mod != NULL)
        FreeLibrary(mod);
    return TEST_RESULT;
}

/* The line number of the first and last "line=N" in text; 0 if none. */
static void line_range(const char *text, int *first, int *last)
{
    const char *p = text;
    *first = *last = 0;
    while ((p = strstr(p, "line=")) != NULL) {
        int n = atoi(p + 5);
        if (*first == 0)
            *first = n;
        *last = n;
        p += 5;
    }
}

/* A fresh directory in %TEMP% for one test's log, and the log's path. */
static void log_dir_make(const char *stem, char *dir, size_t dcap, char *path,
                         size_t pcap)
{
    char tmp[MAX_PATH];
    GetTempPathA(MAX_PATH, tmp);
    snprintf(dir, dcap, "%s%s-%lu", tmp, stem,
             (unsigned long)GetCurrentProcessId());
    CreateDirectoryA(dir, NULL);
    snprintf(path, pcap, "%s\\broker.log", dir);
}

/* Removes the log, its rotations and then its directory. */
static void log_dir_remove(const char *dir, const char *path)
{
    char name[MAX_PATH * 2];
    int k;
    for (k = 0; k <= 3; k++) {
        snprintf(name, sizeof(name), k == 0 ? "%s" : "%s.%d", path, k);
        DeleteFileA(name);
    }
    RemoveDirectoryA(dir);
}

/* Logs one line, line=`i`, padded to a known length. */
static void log_line(plat_log *log, int i)
{
    char line[128];
    snprintf(line, sizeof(line), "event=connect line=%d pad=%060d", i, 0);
    plat_log_write(log, SHMB_LOG_INFO, line);
}

int test_log_file_rotates(void)
{
    char dir[MAX_PATH * 2], path[MAX_PATH * 2];
    char name[MAX_PATH * 2], why[512];
    static char text[8192];
    plat_log *log = NULL;
    int i, k, first[3] = {0}, last[3] = {0};

    log_dir_make("shmb-rotate", dir, sizeof(dir), path, sizeof(path));
    CHECK_INT(plat_log_open("shmb-test", path, 0, &log, why, sizeof(why)),
              SHMB_OK);
    /* Before the configuration says, nothing rotates. */
    for (i = 1; i <= 20; i++)
        log_line(log, i);
    plat_log_rotation(log, 1000, 2);
    for (; i <= 80; i++)
        log_line(log, i);
    plat_log_close(log);
    log = NULL;
    for (k = 0; k < 3; k++) {
        int n;
        snprintf(name, sizeof(name), k == 0 ? "%s" : "%s.%d", path, k);
        n = shmb_test_read_file(name, text, sizeof(text));
        if (n < 0)
            FAIL("%s is missing", name);
        CHECK(n <= 1000);
        line_range(text, &first[k], &last[k]);
    }
    snprintf(name, sizeof(name), "%s.3", path);
    CHECK(shmb_test_read_file(name, text, sizeof(text)) < 0); /* keep = 2 */
    /* Newest in the file itself, then .1, then .2; no line lost between. */
    CHECK_INT(last[0], 80);
    CHECK_INT(first[0], last[1] + 1);
    CHECK_INT(first[1], last[2] + 1);
done:
    plat_log_close(log);
    snprintf(name, sizeof(name), "%s\\config.json", dir);
    DeleteFileA(name);
    log_dir_remove(dir, path);
    return TEST_RESULT;
}

static int count_of(const char *text, const char *what)
{
    int n = 0;
    const char *p = text;
    while ((p = strstr(p, what)) != NULL) {
        n++;
        p += strlen(what);
    }
    return n;
}

/* Logs line=`i`, then returns the size of the file. */
static int write_and_size(plat_log *log, const char *path, int i)
{
    static char text[65536];

    log_line(log, i);
    return shmb_test_read_file(path, text, sizeof(text));
}

/* A viewer holds FILE.1 open without delete sharing: the rename fails,
 * lines go on into FILE, the failure is told once; when the viewer lets
 * go, rotation resumes by itself (no reload). */
int test_log_rotate_retries(void)
{
    char dir[MAX_PATH * 2], path[MAX_PATH * 2];
    char name[MAX_PATH * 2], why[512];
    static char text[65536];
    HANDLE viewer = INVALID_HANDLE_VALUE;
    plat_log *log = NULL;
    int i, n, k;

    log_dir_make("shmb-retry", dir, sizeof(dir), path, sizeof(path));
    CHECK_INT(plat_log_open("shmb-test", path, 0, &log, why, sizeof(why)),
              SHMB_OK);
    plat_log_rotation(log, 1000, 2);
    for (i = 1; i <= 20; i++)
        log_line(log, i);
    snprintf(name, sizeof(name), "%s.1", path);
    viewer = CreateFileA(name, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE,
                         NULL, OPEN_EXISTING, 0, NULL);
    CHECK(viewer != INVALID_HANDLE_VALUE);
    for (; i <= 60; i++)
        log_line(log, i);
    n = shmb_test_read_file(path, text, sizeof(text));
    CHECK(n > 2000); /* unrotated while held */
    CHECK_INT(count_of(text, "event=log_rotate_failed"), 1);
    CloseHandle(viewer);
    viewer = INVALID_HANDLE_VALUE;
    /* The next attempt is one back-off (1 s) after the failure, or two if
     * a slow machine already retried once while held. */
    Sleep(SHMB_LOG_RETRY_MIN_MS + 200);
    WAIT_UNTIL(write_and_size(log, path, i++) < 200, 10000);
    snprintf(name, sizeof(name), "%s.1", path);
    n = shmb_test_read_file(name, text, sizeof(text));
    CHECK(n > 2000); /* the big one moved */
    CHECK(strstr(text, "line=60 ") != NULL);
    /* And it keeps rotating at the size. */
    for (k = 0; k < 30; k++, i++)
        log_line(log, i);
    n = shmb_test_read_file(path, text, sizeof(text));
    CHECK(n > 0 && n <= 1000);
done:
    if (viewer != INVALID_HANDLE_VALUE)
        CloseHandle(viewer);
    plat_log_close(log);
    log_dir_remove(dir, path);
    return TEST_RESULT;
}
