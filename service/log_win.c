/* SPDX-License-Identifier: MPL-2.0 */
/*
 * log_win.c - where the service's log lines go on Windows: stderr in
 * console mode, an optional log file (rotated by size), and the Event Log
 * when the service control manager runs us.
 *
 * The Event Log gets warnings and errors, and the info events flagged
 * SHMB_EVF_ALWAYS (start, stop, reloads, denials), each under its own
 * message id (service/messages.mc) with the line's fields as insert %1.
 * Events a client can cause at will (SHMB_EVF_CLIENT) are rate-limited per
 * event and client pid, because the Event Log is the whole system's.
 */
#include <windows.h>

#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "trust_win.h"
#include "util_win.h"

/* At most this many events per event and client pid per minute, and this
 * many over all clients, reach the Event Log (docs/operations.md). */
#define EVENTLOG_PER_CLIENT 10
#define EVENTLOG_ALL_CLIENTS 100
#define EVENTLOG_WINDOW_MS 60000

struct plat_log {
    int console;
    FILE *file;
    char path[1024];
    char reopen_why[1024]; /* why the last reopen failed */
    shmb_log_rotator rot;  /* the file's size, rotation and its retries */
    HANDLE event_source;
    shmb_log_limiter limiter;
    CRITICAL_SECTION lock; /* lines come from the loop and accept threads */
};

static void report_event(HANDLE source, WORD type, DWORD id, const char *text)
{
    const char *strs[1];
    strs[0] = text;
    ReportEventA(source, type, 0, id, NULL, 1, 0, strs, NULL);
}

/* A held-back count, told under its own id, naming whose events they were
 * (or "many": the overflow of a window whose budget was spent). */
static void report_suppressed(plat_log *l, uint64_t key, uint32_t n)
{
    char text[128];
    if (key == SHMB_LOG_LIMIT_MANY)
        snprintf(text, sizeof(text), "held=many suppressed=%lu",
                 (unsigned long)n);
    else
        snprintf(text, sizeof(text), "held=%s pid=%u suppressed=%lu",
                 shmb_log_event_name((shmb_event)(key >> 32)),
                 (unsigned)(key & 0xffffffffu), (unsigned long)n);
    report_event(l->event_source, EVENTLOG_INFORMATION_TYPE,
                 shmb_log_event_msgid(SHMB_EV_LOG_SUPPRESSED), text);
}

static void to_event_log(plat_log *l, shmb_log_level level, const char *line)
{
    shmb_event ev = SHMB_EV_COUNT_;
    const char *fields = line;
    unsigned flags = 0;
    DWORD id = SHMB_MSG_GENERIC;
    WORD type = level == SHMB_LOG_ERROR  ? EVENTLOG_ERROR_TYPE
                : level == SHMB_LOG_WARN ? EVENTLOG_WARNING_TYPE
                                         : EVENTLOG_INFORMATION_TYPE;
    char with_count[1100];

    if (shmb_log_event_parse(line, &ev, &fields)) {
        id = shmb_log_event_msgid(ev);
        flags = shmb_log_event_flags(ev);
    }
    if (level > SHMB_LOG_WARN &&
        (level > SHMB_LOG_INFO || !(flags & SHMB_EVF_ALWAYS)))
        return;
    if (flags & SHMB_EVF_CLIENT) {
        uint64_t key = (uint64_t)ev << 32 | shmb_log_fields_pid(fields);
        uint64_t evicted_key = 0;
        uint32_t held = 0, evicted = 0;
        int admit = shmb_log_limiter_admit(&l->limiter, key, GetTickCount64(),
                                           &held, &evicted_key, &evicted);
        if (evicted > 0)
            report_suppressed(l, evicted_key, evicted);
        if (!admit)
            return;
        if (held > 0) {
            snprintf(with_count, sizeof(with_count), "%s suppressed=%lu",
                     fields, (unsigned long)held);
            fields = with_count;
        }
    }
    report_event(l->event_source, type, id, fields);
}

/* ---- the log file ----------------------------------------------------- */

/* LocalSystem appends to this file: a folder others can write to could
 * hold a link to anything. Refuse such a log path, judged by the handle we
 * then write through. */
static int log_file_open(plat_log *l, uint64_t *file_size, char *why,
                         size_t whycap)
{
    char reason[1024];
    LARGE_INTEGER size;
    HANDLE h;
    int fd, rc;

    rc = win_file_open_trusted(l->path, 1, &h, reason, sizeof(reason));
    if (rc != SHMB_OK) {
        snprintf(why, whycap, "log file: %s", reason);
        return rc == SHMB_E_NOT_FOUND ? SHMB_E_SYSTEM : rc;
    }
    *file_size = GetFileSizeEx(h, &size) ? (uint64_t)size.QuadPart : 0;
    fd = _open_osfhandle((intptr_t)h, _O_APPEND);
    if (fd < 0)
        CloseHandle(h);
    else if ((l->file = _fdopen(fd, "a")) == NULL)
        _close(fd);
    if (l->file == NULL) {
        snprintf(why, whycap, "cannot open log file %s", l->path);
        return SHMB_E_SYSTEM;
    }
    return SHMB_OK;
}

/* One move of the rotation; a name not there yet is no failure. */
static int rotate_step(void *ctx, const char *from, const char *to)
{
    WCHAR wfrom[MAX_PATH * 2], wto[MAX_PATH * 2];
    BOOL ok;
    DWORD err;

    (void)ctx;
    if (!win_wide(from, wfrom, MAX_PATH * 2) ||
        (to != NULL && !win_wide(to, wto, MAX_PATH * 2)))
        return -1;
    ok = to == NULL ? DeleteFileW(wfrom)
                    : MoveFileExW(wfrom, wto, MOVEFILE_REPLACE_EXISTING);
    err = ok ? ERROR_SUCCESS : GetLastError();
    return err == ERROR_SUCCESS || err == ERROR_FILE_NOT_FOUND ? 0 : (int)err;
}

static void rot_close(void *ctx)
{
    plat_log *l = ctx;

    fclose(l->file);
    l->file = NULL;
}

static int rot_open(void *ctx, uint64_t *size)
{
    plat_log *l = ctx;

    l->reopen_why[0] = '\0';
    return log_file_open(l, size, l->reopen_why, sizeof(l->reopen_why));
}

/* The first failure of a streak (the rotator retries, and says when). */
static void log_rotate_failed(plat_log *l, int rc)
{
    char why[1200];

    snprintf(why, sizeof(why), "path=\"%s\" error=%d%s%s retry_ms=%lu", l->path,
             rc, l->file == NULL ? " reopen=" : "",
             l->file == NULL ? l->reopen_why : "",
             (unsigned long)l->rot.delay_ms);
    if (l->event_source != NULL)
        report_event(l->event_source, EVENTLOG_ERROR_TYPE,
                     shmb_log_event_msgid(SHMB_EV_LOG_ROTATE_FAILED), why);
    if (l->console)
        fprintf(stderr, "event=%s %s\n",
                shmb_log_event_name(SHMB_EV_LOG_ROTATE_FAILED), why);
    if (l->file != NULL) {
        int n = fprintf(l->file, "level=error event=%s %s\n",
                        shmb_log_event_name(SHMB_EV_LOG_ROTATE_FAILED), why);
        fflush(l->file);
        if (n > 0)
            l->rot.size += (uint64_t)n;
    }
}

/* Called with the lock held. */
static void log_file_line(plat_log *l, const char *text)
{
    shmb_log_file_io io = {rotate_step, rot_close, rot_open, NULL};
    size_t n = strlen(text) + 1;
    int rc;

    io.ctx = l;
    rc = shmb_log_rotator_prepare(&l->rot, n, GetTickCount64(), &io);
    if (rc != 0)
        log_rotate_failed(l, rc);
    if (l->file == NULL)
        return;
    fprintf(l->file, "%s\n", text);
    fflush(l->file);
    l->rot.size += n;
}

/* ---- platform.h ------------------------------------------------------- */

int plat_log_open(const char *service_name, const char *path, int console,
                  plat_log **out, char *why, size_t whycap)
{
    plat_log *l = calloc(1, sizeof(*l));
    int rc;

    if (l == NULL) {
        snprintf(why, whycap, "out of memory");
        return SHMB_E_NOMEM;
    }
    l->console = console;
    shmb_log_limiter_init(&l->limiter, EVENTLOG_PER_CLIENT,
                          EVENTLOG_ALL_CLIENTS, EVENTLOG_WINDOW_MS);
    InitializeCriticalSection(&l->lock);
    if (!console)
        l->event_source = RegisterEventSourceA(NULL, service_name);
    if (path != NULL) {
        if (strlen(path) >= sizeof(l->path)) {
            snprintf(why, whycap, "log file: path too long");
            rc = SHMB_E_INVALID_ARG;
        } else {
            uint64_t size = 0;
            memcpy(l->path, path, strlen(path) + 1);
            rc = log_file_open(l, &size, why, whycap);
            if (rc == SHMB_OK)
                shmb_log_rotator_init(&l->rot, l->path, size);
        }
        if (rc != SHMB_OK) {
            if (l->event_source != NULL)
                report_event(l->event_source, EVENTLOG_ERROR_TYPE,
                             shmb_log_event_msgid(SHMB_EV_LOG_FILE_FAILED),
                             why);
            plat_log_close(l);
            return rc;
        }
    }
    *out = l;
    return SHMB_OK;
}

void plat_log_rotation(plat_log *l, uint64_t max_bytes, unsigned keep)
{
    EnterCriticalSection(&l->lock);
    shmb_log_rotator_set(&l->rot, max_bytes, keep);
    LeaveCriticalSection(&l->lock);
}

void plat_log_write(void *ctx, shmb_log_level level, const char *line)
{
    plat_log *l = ctx;
    SYSTEMTIME t;
    char text[1100];

    GetSystemTime(&t);
    snprintf(text, sizeof(text),
             "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ level=%s %s", t.wYear,
             t.wMonth, t.wDay, t.wHour, t.wMinute, t.wSecond, t.wMilliseconds,
             shmb_log_level_name(level), line);
    EnterCriticalSection(&l->lock);
    if (l->console)
        fprintf(stderr, "%s\n", text);
    if (l->rot.path != NULL)
        log_file_line(l, text);
    if (l->event_source != NULL)
        to_event_log(l, level, line);
    LeaveCriticalSection(&l->lock);
}

void plat_log_close(plat_log *l)
{
    size_t iter = 0;
    uint64_t key;
    uint32_t n;

    if (l == NULL)
        return;
    if (l->event_source != NULL) {
        while (shmb_log_limiter_pending(&l->limiter, &iter, &key, &n))
            report_suppressed(l, key, n);
    }
    if (l->file != NULL)
        fclose(l->file);
    DeleteCriticalSection(&l->lock);
    if (l->event_source != NULL)
        DeregisterEventSource(l->event_source);
    free(l);
}
