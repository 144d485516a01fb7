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

/* Every event a log line can name: XX(suffix, name). Tests and operators
 * grep for "event=NAME", so a name here is a contract: add rows, never
 * rename one. */
#define SHMB_LOG_EVENT_MAP(XX)                                                 \
    XX(BAD_FRAME, "bad_frame")                                                 \
    XX(CONFIG_INVALID, "config_invalid")                                       \
    XX(CONFIG_LOADED, "config_loaded")                                         \
    XX(CONFIG_RELOADED, "config_reloaded")                                     \
    XX(CONNECT, "connect")                                                     \
    XX(CONNECT_REFUSED, "connect_refused")                                     \
    XX(CREATE, "create")                                                       \
    XX(DELETE, "delete")                                                       \
    XX(DISCONNECT, "disconnect")                                               \
    XX(FRAME_TIMEOUT, "frame_timeout")                                         \
    XX(GRANT, "grant")                                                         \
    XX(HELLO, "hello")                                                         \
    XX(HELLO_TIMEOUT, "hello_timeout")                                         \
    XX(IDENTITY, "identity")                                                   \
    XX(PIPE_INSTANCE_FAILED, "pipe_instance_failed")                           \
    XX(REFUSED, "refused")                                                     \
    XX(REGION_DRAINED, "region_drained")                                       \
    XX(REGION_FREED, "region_freed")                                           \
    XX(RELOAD_FAILED, "reload_failed")                                         \
    XX(RELOAD_PARTIAL, "reload_partial")                                       \
    XX(START_FAILED, "start_failed")                                           \
    XX(STARTED, "started")                                                     \
    XX(STOPPED, "stopped")                                                     \
    XX(STOPPING, "stopping")                                                   \
    XX(UNDELIVERED, "undelivered")                                             \
    XX(WRITE_TIMEOUT, "write_timeout")

/* The type is shmb_event rather than shmb_log_event: that name is the
 * function below, and C gives typedefs and functions one namespace. */
typedef enum shmb_event {
#define SHMB_XX(suffix, name) SHMB_EV_##suffix,
    SHMB_LOG_EVENT_MAP(SHMB_XX)
#undef SHMB_XX
        SHMB_EV_COUNT_
} shmb_event;

/* "grant" for SHMB_EV_GRANT; "unknown" if out of range. */
const char *shmb_log_event_name(shmb_event ev);

/* Logs "event=NAME" followed by a space and `fmt`'s fields, e.g.
 *   shmb_log_event(lg, SHMB_LOG_INFO, SHMB_EV_GRANT, "region=%s", name);
 * `fmt` may be NULL for an event without fields (prefer NULL to "": MinGW's
 * -Wformat-zero-length refuses an empty format). */
void shmb_log_event(const shmb_logger *lg, shmb_log_level level, shmb_event ev,
                    const char *fmt, ...) SHMB_PRINTF(4, 5);

#endif
