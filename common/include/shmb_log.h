/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmb_log.h - structured logging front end. Lines are key=value pairs
 * ("event=grant region=a pid=12 access=ro") so they can be grepped; where
 * they go (stderr, a file, the Event Log) is the sink's business.
 */
#ifndef SHMB_LOG_H
#define SHMB_LOG_H

typedef enum shmb_log_level {
    SHMB_LOG_ERROR = 0,
    SHMB_LOG_WARN = 1,
    SHMB_LOG_INFO = 2,
    SHMB_LOG_DEBUG = 3
} shmb_log_level;

typedef void (*shmb_log_sink)(void *ctx, shmb_log_level level,
                              const char *line);

typedef struct shmb_logger {
    shmb_log_sink sink;
    void *ctx;
    shmb_log_level max_level;
} shmb_logger;

#if defined(__MINGW32__)
/* MinGW builds use its C99 printf (__USE_MINGW_ANSI_STDIO), not msvcrt's. */
#define SHMB_PRINTF(a, b) __attribute__((format(gnu_printf, a, b)))
#elif defined(__GNUC__)
#define SHMB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SHMB_PRINTF(a, b)
#endif

/* Formats one line (truncated at 1 KiB) and hands it to the sink. A NULL
 * logger or sink drops the line. */
void shmb_logf(const shmb_logger *lg, shmb_log_level level, const char *fmt,
               ...) SHMB_PRINTF(3, 4);

const char *shmb_log_level_name(shmb_log_level level);

#endif
