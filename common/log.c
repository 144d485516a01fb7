/* SPDX-License-Identifier: MPL-2.0 */
/* log.c - formats structured log lines for a caller-supplied sink. */
#include <stdarg.h>
#include <stdio.h>

#include "shmb_log.h"

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

void shmb_logf(const shmb_logger *lg, shmb_log_level level, const char *fmt,
               ...)
{
    char line[1024];
    va_list ap;

    if (lg == NULL || lg->sink == NULL || level > lg->max_level)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    lg->sink(lg->ctx, level, line);
}
