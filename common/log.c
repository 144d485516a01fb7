/* SPDX-License-Identifier: MPL-2.0 */
/* log.c - formats structured log lines for a caller-supplied sink. */
#include <stdarg.h>
#include <stdio.h>

#include "shmb_log.h"

#define LINE_MAX_BYTES 1024

static const char *const event_names[SHMB_EV_COUNT_] = {
#define SHMB_XX(suffix, name) name,
    SHMB_LOG_EVENT_MAP(SHMB_XX)
#undef SHMB_XX
};

const char *shmb_log_level_name(shmb_log_level level)
{
    switch (level) {
    case SHMB_LOG_ERROR:
        return "error";
    case SHMB_LOG_WARN:
        return "warn";
    case SHMB_LOG_INFO:
        return "info";
    default:
        return "debug";
    }
}

const char *shmb_log_event_name(shmb_event ev)
{
    return (unsigned)ev < SHMB_EV_COUNT_ ? event_names[ev] : "unknown";
}

static int log_wanted(const shmb_logger *lg, shmb_log_level level)
{
    return lg != NULL && lg->sink != NULL && level <= lg->max_level;
}

void shmb_logf(const shmb_logger *lg, shmb_log_level level, const char *fmt,
               ...)
{
    char line[LINE_MAX_BYTES];
    va_list ap;

    if (!log_wanted(lg, level))
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    lg->sink(lg->ctx, level, line);
}

void shmb_log_event(const shmb_logger *lg, shmb_log_level level, shmb_event ev,
                    const char *fmt, ...)
{
    char line[LINE_MAX_BYTES];
    va_list ap;
    int n;

    if (!log_wanted(lg, level))
        return;
    n = snprintf(line, sizeof(line), "event=%s", shmb_log_event_name(ev));
    if (fmt != NULL && fmt[0] != '\0' && n > 0 &&
        (size_t)n + 1 < sizeof(line)) {
        line[n++] = ' ';
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
        va_end(ap);
    }
    lg->sink(lg->ctx, level, line);
}
