/* SPDX-License-Identifier: MPL-2.0 */
/*
 * log_win.c - where the service's log lines go on Windows: stderr in
 * console mode, an optional log file, and the Event Log (warnings and
 * errors) when the service control manager runs us.
 */
#include <windows.h>

#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>

#include "platform.h"
#include "trust_win.h"

struct plat_log {
    int console;
    FILE *file;
    HANDLE event_source;
    CRITICAL_SECTION lock; /* lines come from the loop and accept threads */
};

static void report_event(HANDLE source, WORD type, const char *line)
{
    const char *strs[1];
    strs[0] = line;
    ReportEventA(source, type, 0, 1, NULL, 1, 0, strs, NULL);
}

int plat_log_open(const char *service_name, const char *path, int console,
                  plat_log **out, char *why, size_t whycap)
{
    plat_log *l = calloc(1, sizeof(*l));
    char reason[1024];

    if (l == NULL) {
        snprintf(why, whycap, "out of memory");
        return SHMB_E_NOMEM;
    }
    l->console = console;
    InitializeCriticalSection(&l->lock);
    if (!console)
        l->event_source = RegisterEventSourceA(NULL, service_name);
    /* LocalSystem appends to this file: a folder others can write to could
     * hold a link to anything. Refuse such a log path, judged by the
     * handle we then write through. */
    if (path != NULL) {
        HANDLE h;
        int fd, rc = win_file_open_trusted(path, 1, &h, reason, sizeof(reason));
        if (rc != SHMB_OK) {
            snprintf(why, whycap, "log file: %s", reason);
            if (l->event_source != NULL)
                report_event(l->event_source, EVENTLOG_ERROR_TYPE, why);
            plat_log_close(l);
            return rc == SHMB_E_NOT_FOUND ? SHMB_E_SYSTEM : rc;
        }
        fd = _open_osfhandle((intptr_t)h, _O_APPEND);
        if (fd < 0)
            CloseHandle(h);
        else if ((l->file = _fdopen(fd, "a")) == NULL)
            _close(fd);
        if (l->file == NULL) {
            snprintf(why, whycap, "cannot open log file %s", path);
            if (l->event_source != NULL)
                report_event(l->event_source, EVENTLOG_ERROR_TYPE, why);
            plat_log_close(l);
            return SHMB_E_SYSTEM;
        }
    }
    *out = l;
    return SHMB_OK;
}

void plat_log_write(void *ctx, shmb_log_level level, const char *line)
{
    plat_log *l = ctx;
    SYSTEMTIME t;
    char stamp[32];

    GetSystemTime(&t);
    snprintf(stamp, sizeof(stamp), "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
             t.wYear, t.wMonth, t.wDay, t.wHour, t.wMinute, t.wSecond,
             t.wMilliseconds);
    EnterCriticalSection(&l->lock);
    if (l->console)
        fprintf(stderr, "%s level=%s %s\n", stamp, shmb_log_level_name(level),
                line);
    if (l->file != NULL) {
        fprintf(l->file, "%s level=%s %s\n", stamp, shmb_log_level_name(level),
                line);
        fflush(l->file);
    }
    if (l->event_source != NULL && level <= SHMB_LOG_WARN)
        report_event(l->event_source,
                     level == SHMB_LOG_ERROR ? EVENTLOG_ERROR_TYPE
                                             : EVENTLOG_WARNING_TYPE,
                     line);
    LeaveCriticalSection(&l->lock);
}

void plat_log_close(plat_log *l)
{
    if (l == NULL)
        return;
    if (l->file != NULL)
        fclose(l->file);
    DeleteCriticalSection(&l->lock);
    if (l->event_source != NULL)
        DeregisterEventSource(l->event_source);
    free(l);
}
