/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmb_log.h - structured logging front end. Lines are key=value pairs
 * ("event=grant region=a pid=12 access=ro") so they can be grepped; where
 * they go (stderr, a file, the Event Log) is the sink's business.
 */
#ifndef SHMB_LOG_H
#define SHMB_LOG_H

#include <stddef.h>
#include <stdint.h>

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

/* How an event reaches the Event Log (the file and the console get every
 * line the level lets through):
 *   SHMB_EVF_FILE   warnings and errors only (the default);
 *   SHMB_EVF_ALWAYS also at info level (start, stop, reloads, denials);
 *   SHMB_EVF_CLIENT a client can cause it at will: rate-limited per event
 *                   and client process (see shmb_log_limiter). */
#define SHMB_EVF_FILE 0u
#define SHMB_EVF_ALWAYS 1u
#define SHMB_EVF_CLIENT 2u

/* Event Log message id of a line that names no event (its text is %1). */
#define SHMB_MSG_GENERIC 1

/* Every event a log line can name: XX(suffix, name, message id, flags).
 * Tests and operators grep for "event=NAME" and filter the Event Log by
 * id, so a name and an id here are a contract: add rows, never rename one
 * or change its id. Each id has a message in service/messages.mc. */
#define SHMB_LOG_EVENT_MAP(XX)                                                 \
    XX(BAD_FRAME, "bad_frame", 301, SHMB_EVF_CLIENT)                           \
    XX(CONFIG_INVALID, "config_invalid", 110, SHMB_EVF_ALWAYS)                 \
    XX(CONFIG_LOADED, "config_loaded", 111, SHMB_EVF_ALWAYS)                   \
    XX(CONFIG_RELOADED, "config_reloaded", 112, SHMB_EVF_ALWAYS)               \
    XX(CONNECT, "connect", 200, SHMB_EVF_FILE)                                 \
    XX(CONNECT_REFUSED, "connect_refused", 300,                                \
       SHMB_EVF_ALWAYS | SHMB_EVF_CLIENT)                                      \
    XX(CREATE, "create", 210, SHMB_EVF_FILE)                                   \
    XX(DELETE, "delete", 211, SHMB_EVF_FILE)                                   \
    XX(DISCONNECT, "disconnect", 201, SHMB_EVF_FILE)                           \
    XX(FRAME_TIMEOUT, "frame_timeout", 303, SHMB_EVF_CLIENT)                   \
    XX(GRANT, "grant", 212, SHMB_EVF_FILE)                                     \
    XX(HELLO, "hello", 202, SHMB_EVF_FILE)                                     \
    XX(HELLO_TIMEOUT, "hello_timeout", 302, SHMB_EVF_CLIENT)                   \
    XX(IDENTITY, "identity", 203, SHMB_EVF_FILE)                               \
    XX(PIPE_INSTANCE_FAILED, "pipe_instance_failed", 120, SHMB_EVF_FILE)       \
    XX(REFUSED, "refused", 310, SHMB_EVF_ALWAYS | SHMB_EVF_CLIENT)             \
    XX(REGION_DRAINED, "region_drained", 213, SHMB_EVF_FILE)                   \
    XX(REGION_FREED, "region_freed", 214, SHMB_EVF_FILE)                       \
    XX(RELOAD_FAILED, "reload_failed", 113, SHMB_EVF_ALWAYS)                   \
    XX(RELOAD_PARTIAL, "reload_partial", 114, SHMB_EVF_ALWAYS)                 \
    XX(START_FAILED, "start_failed", 103, SHMB_EVF_ALWAYS)                     \
    XX(STARTED, "started", 100, SHMB_EVF_ALWAYS)                               \
    XX(STOPPED, "stopped", 102, SHMB_EVF_ALWAYS)                               \
    XX(STOPPING, "stopping", 101, SHMB_EVF_ALWAYS)                             \
    XX(UNDELIVERED, "undelivered", 305, SHMB_EVF_CLIENT)                       \
    XX(WRITE_TIMEOUT, "write_timeout", 304, SHMB_EVF_CLIENT)                   \
    XX(LOG_FILE_FAILED, "log_file_failed", 130, SHMB_EVF_ALWAYS)               \
    XX(LOG_ROTATE_FAILED, "log_rotate_failed", 131, SHMB_EVF_ALWAYS)           \
    XX(LOG_SUPPRESSED, "log_suppressed", 132, SHMB_EVF_ALWAYS)

/* The type is shmb_event rather than shmb_log_event: that name is the
 * function below, and C gives typedefs and functions one namespace. */
typedef enum shmb_event {
#define SHMB_XX(suffix, name, id, flags) SHMB_EV_##suffix,
    SHMB_LOG_EVENT_MAP(SHMB_XX)
#undef SHMB_XX
        SHMB_EV_COUNT_
} shmb_event;

/* "grant" for SHMB_EV_GRANT; "unknown" if out of range. */
const char *shmb_log_event_name(shmb_event ev);
/* The event's Event Log message id; SHMB_MSG_GENERIC if out of range. */
unsigned shmb_log_event_msgid(shmb_event ev);
/* The event's SHMB_EVF_* flags; 0 if out of range. */
unsigned shmb_log_event_flags(shmb_event ev);

/* Reads back a line made by shmb_log_event: "event=NAME[ fields]". Returns
 * 1 with *ev and *fields (the text after "event=NAME ", or "") when NAME is
 * an event, else 0 (a shmb_logf line, or an unknown name). */
int shmb_log_event_parse(const char *line, shmb_event *ev, const char **fields);

/* The pid=N field of a line's fields; 0 if there is none. */
unsigned shmb_log_fields_pid(const char *fields);

/* Logs "event=NAME" followed by a space and `fmt`'s fields, e.g.
 *   shmb_log_event(lg, SHMB_LOG_INFO, SHMB_EV_GRANT, "region=%s", name);
 * `fmt` may be NULL for an event without fields (prefer NULL to "": MinGW's
 * -Wformat-zero-length refuses an empty format). */
void shmb_log_event(const shmb_logger *lg, shmb_log_level level, shmb_event ev,
                    const char *fmt, ...) SHMB_PRINTF(4, 5);

/* ---- rate limit of client-caused events ------------------------------
 *
 * A client can make the service log a denial, a bad frame or a timeout as
 * often as it likes. The Event Log is shared with the whole system, so
 * those events are admitted per key (the service uses event and client
 * pid) at most `per_key` times per window, and at most `total` times per
 * window over all keys; the rest are counted, and the count is reported
 * ("suppressed=K") with the key's next admitted event, or when its slot is
 * reused, or when the log closes. A summary for a reused slot takes one of
 * the `total` records; once they are spent, such counts add up in one
 * overflow count (key SHMB_LOG_LIMIT_MANY) handed out once, with the first
 * event of the next window (taking one of its records) or at close. So at
 * most `total` records per window, whatever the number of keys. Portable
 * and clock-free: the caller passes the time. */

#define SHMB_LOG_LIMIT_SLOTS 64
/* The key of the overflow count: held back from many keys. Not a key a
 * caller may use. */
#define SHMB_LOG_LIMIT_MANY UINT64_MAX

typedef struct shmb_log_limit_slot {
    uint64_t key;
    uint64_t since_ms;   /* start of this key's window */
    uint32_t count;      /* admitted in this window */
    uint32_t suppressed; /* not admitted since last reported */
    int used;
} shmb_log_limit_slot;

typedef struct shmb_log_limiter {
    uint32_t per_key, total;
    uint64_t window_ms;
    uint64_t total_since_ms;
    uint32_t total_count; /* records (events and summaries) this window */
    uint32_t overflow;    /* evicted counts past the budget, not yet told */
    shmb_log_limit_slot slot[SHMB_LOG_LIMIT_SLOTS];
} shmb_log_limiter;

void shmb_log_limiter_init(shmb_log_limiter *lim, uint32_t per_key,
                           uint32_t total, uint64_t window_ms);

/* Returns 1 to report this event, with *suppressed = how many of this key's
 * events were held back since it was last reported (say so with it), or 0
 * to drop it (counted). Independently, when *evicted_n > 0, report one
 * summary first: *evicted_n events of *evicted_key were held back (a
 * reused slot's), or, with *evicted_key == SHMB_LOG_LIMIT_MANY, of many
 * keys (the last window's overflow). The summary is already counted
 * against the budget. */
int shmb_log_limiter_admit(shmb_log_limiter *lim, uint64_t key, uint64_t now_ms,
                           uint32_t *suppressed, uint64_t *evicted_key,
                           uint32_t *evicted_n);

/* Walks the keys that have suppressed events not yet reported (for a
 * summary at close), clearing them, then the overflow count (key
 * SHMB_LOG_LIMIT_MANY) if any: start with *iter = 0; returns 0 when there
 * are no more. */
int shmb_log_limiter_pending(shmb_log_limiter *lim, size_t *iter, uint64_t *key,
                             uint32_t *n);

/* ---- size-based rotation of a log file --------------------------------
 *
 * "shmbroker.log" grows to max_bytes; then it is renamed ".1", ".1"
 * becomes ".2" and so on, the oldest of `keep` dropped, and a fresh file
 * is opened. The arithmetic and the names are here; the file system calls
 * are the platform's (`step`). */

/* 1 when a line of `add` bytes should go to a fresh file: the file already
 * holds something (a line longer than max_bytes still gets written) and
 * size + add would pass max_bytes. */
int shmb_log_rotate_due(uint64_t size, size_t add, uint64_t max_bytes);

/* `path` for i = 0, "path.i" otherwise. -1 if it does not fit in cap. */
int shmb_log_rotated_name(const char *path, unsigned i, char *out, size_t cap);

/* Calls step(ctx, from, to) for each move, oldest first: "path.keep" is
 * removed (to = NULL), "path.(i-1)" moved to "path.i" for i = keep .. 1.
 * A step's failure (non-zero) stops the walk and is returned. keep 0
 * removes path itself. */
int shmb_log_rotate(const char *path, unsigned keep,
                    int (*step)(void *ctx, const char *from, const char *to),
                    void *ctx);
/* The same walk from `from` (<= keep) down: from < keep goes on with the
 * move into "path.from", after a rotation that stopped there, without
 * removing "path.keep" again. On failure *failed_at is where it stopped
 * (the index moved into, or keep for the removal), else 0. */
int shmb_log_rotate_from(const char *path, unsigned keep, unsigned from,
                         int (*step)(void *ctx, const char *from,
                                     const char *to),
                         void *ctx, unsigned *failed_at);

/* ---- rotation with retries ---------------------------------------------
 *
 * A rename fails while another program holds an old file open without
 * delete sharing, and a reopen can fail too; both usually pass. So a
 * failed attempt (of the rotation, or of the reopen after it) is retried
 * after a back-off, SHMB_LOG_RETRY_MIN_MS doubling up to
 * SHMB_LOG_RETRY_MAX_MS, while lines go on into the unrotated file (or,
 * with no file open, only to the other sinks). A failure streak is
 * reported once, and no more than once per SHMB_LOG_RETRY_MAX_MS. */

#define SHMB_LOG_RETRY_MIN_MS 1000
#define SHMB_LOG_RETRY_MAX_MS 60000
/* The largest log_keep the configuration takes (docs/configuration.md):
 * the rotated names a previous run may have left. */
#define SHMB_LOG_KEEP_MAX 100

typedef struct shmb_log_file_io {
    /* A move or (to = NULL) a removal, as for shmb_log_rotate. */
    int (*step)(void *ctx, const char *from, const char *to);
    /* Closes the file being written. */
    void (*close)(void *ctx);
    /* Opens the file for appending: 0 with its size, or non-zero. */
    int (*open)(void *ctx, uint64_t *size);
    void *ctx;
} shmb_log_file_io;

typedef struct shmb_log_rotator {
    const char *path;   /* kept, not copied */
    uint64_t max_bytes; /* 0: no rotation */
    unsigned keep;
    unsigned stale;    /* path.(keep+1) .. path.stale may be left over */
    unsigned resume;   /* a rotation stopped at this index (0: none) */
    uint64_t size;     /* of the open file */
    int open;          /* a file is open to write to */
    int waiting;       /* failed: no attempt before retry_ms */
    uint64_t retry_ms; /* when the next attempt may be made */
    uint64_t delay_ms; /* the back-off after the last failure */
    int failing;       /* in a failure streak */
    int reported;      /* a failure was reported, at report_ms */
    uint64_t report_ms;
} shmb_log_rotator;

/* A rotator for the open file `path` of `size` bytes: no rotation until
 * shmb_log_rotator_set. The first rotation also removes path.(keep+1) ..
 * path.SHMB_LOG_KEEP_MAX, left by a run with a larger keep. */
void shmb_log_rotator_init(shmb_log_rotator *r, const char *path,
                           uint64_t size);

/* New limits (a reload): apply to the next line, which also retries at
 * once if a failure is being waited out. A lower keep leaves the names
 * above it to be removed at the next rotation. keep 0 counts as 1. */
void shmb_log_rotator_set(shmb_log_rotator *r, uint64_t max_bytes,
                          unsigned keep);

/* Before writing a line of `add` bytes at `now_ms`: rotates when due, or
 * reopens the file if it could not be reopened, unless a failure is being
 * waited out. Returns 0, or the error of a failed attempt that is to be
 * reported (the first of a streak). Then the caller writes the line if
 * r->open and adds its bytes to r->size. Removing a left-over name may
 * fail without failing the rotation (it is tried again next time). */
int shmb_log_rotator_prepare(shmb_log_rotator *r, size_t add, uint64_t now_ms,
                             const shmb_log_file_io *io);

#endif
