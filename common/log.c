/* SPDX-License-Identifier: MPL-2.0 */
/* log.c - formats structured log lines for a caller-supplied sink. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "shmb_log.h"

#define LINE_MAX_BYTES 1024

static const char *const event_names[SHMB_EV_COUNT_] = {
#define SHMB_XX(suffix, name, id, flags) name,
    SHMB_LOG_EVENT_MAP(SHMB_XX)
#undef SHMB_XX
};

static const unsigned short event_msgids[SHMB_EV_COUNT_] = {
#define SHMB_XX(suffix, name, id, flags) id,
    SHMB_LOG_EVENT_MAP(SHMB_XX)
#undef SHMB_XX
};

static const unsigned char event_flags[SHMB_EV_COUNT_] = {
#define SHMB_XX(suffix, name, id, flags) flags,
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

unsigned shmb_log_event_msgid(shmb_event ev)
{
    return (unsigned)ev < SHMB_EV_COUNT_ ? event_msgids[ev] : SHMB_MSG_GENERIC;
}

unsigned shmb_log_event_flags(shmb_event ev)
{
    return (unsigned)ev < SHMB_EV_COUNT_ ? event_flags[ev] : 0;
}

int shmb_log_event_parse(const char *line, shmb_event *ev, const char **fields)
{
    size_t n;
    int i;

    if (strncmp(line, "event=", 6) != 0)
        return 0;
    line += 6;
    n = strcspn(line, " ");
    for (i = 0; i < SHMB_EV_COUNT_; i++) {
        if (strlen(event_names[i]) == n && memcmp(event_names[i], line, n) == 0)
            break;
    }
    if (i == SHMB_EV_COUNT_)
        return 0;
    *ev = (shmb_event)i;
    *fields = line[n] == ' ' ? line + n + 1 : line + n;
    return 1;
}

unsigned shmb_log_fields_pid(const char *fields)
{
    const char *p = fields;
    uint64_t v = 0;

    /* A field starts the text or follows a space; a quoted reason could
     * hold " pid=", but reasons come after pid= in every event that has
     * both, so the first match is the real one. */
    while ((p = strstr(p, "pid=")) != NULL) {
        if (p == fields || p[-1] == ' ')
            break;
        p += 4;
    }
    if (p == NULL)
        return 0;
    /* 64 bits: unsigned long is 32 on Windows, and a pid is at most 32. */
    for (p += 4; *p >= '0' && *p <= '9' && v <= 0xffffffffu; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    return v <= 0xffffffffu ? (unsigned)v : 0;
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

/* ---- rate limit ------------------------------------------------------- */

void shmb_log_limiter_init(shmb_log_limiter *lim, uint32_t per_key,
                           uint32_t total, uint64_t window_ms)
{
    memset(lim, 0, sizeof(*lim));
    lim->per_key = per_key;
    lim->total = total;
    lim->window_ms = window_ms;
}

/* The key's slot; else a free one; else the one whose window began
 * first (its pending count is handed back for a summary). */
static shmb_log_limit_slot *limiter_slot(shmb_log_limiter *lim, uint64_t key,
                                         uint64_t *evicted_key,
                                         uint32_t *evicted_n)
{
    shmb_log_limit_slot *free_slot = NULL, *oldest = NULL;
    size_t i;

    for (i = 0; i < SHMB_LOG_LIMIT_SLOTS; i++) {
        shmb_log_limit_slot *s = &lim->slot[i];
        if (s->used && s->key == key)
            return s;
        if (!s->used) {
            if (free_slot == NULL)
                free_slot = s;
        } else if (oldest == NULL || s->since_ms < oldest->since_ms) {
            oldest = s;
        }
    }
    if (free_slot == NULL) {
        free_slot = oldest;
        *evicted_key = oldest->key;
        *evicted_n = oldest->suppressed;
    }
    memset(free_slot, 0, sizeof(*free_slot));
    free_slot->used = 1;
    free_slot->key = key;
    return free_slot;
}

/* Starts a new total window when the last one is over; returns the
 * overflow of the last window, to be told once (it takes one of the new
 * window's records). */
static uint32_t limiter_total_window(shmb_log_limiter *lim, uint64_t now_ms)
{
    uint32_t n = 0;

    if (now_ms - lim->total_since_ms < lim->window_ms && lim->total_count > 0)
        return 0;
    lim->total_since_ms = now_ms;
    lim->total_count = 0;
    if (lim->overflow > 0) {
        n = lim->overflow;
        lim->overflow = 0;
        lim->total_count = 1;
    }
    return n;
}

static void add_capped(uint32_t *to, uint32_t n)
{
    *to = n > UINT32_MAX - *to ? UINT32_MAX : *to + n;
}

int shmb_log_limiter_admit(shmb_log_limiter *lim, uint64_t key, uint64_t now_ms,
                           uint32_t *suppressed, uint64_t *evicted_key,
                           uint32_t *evicted_n)
{
    shmb_log_limit_slot *s;
    uint64_t old_key = 0;
    uint32_t old_n = 0, overflow;
    int fresh;

    *suppressed = 0;
    *evicted_key = 0;
    *evicted_n = 0;
    overflow = limiter_total_window(lim, now_ms);
    s = limiter_slot(lim, key, &old_key, &old_n);
    /* A summary is a record like any other: it takes the total budget,
     * and past it joins the one overflow count, told once per window, so
     * that many short-lived clients cannot each buy a record. */
    if (overflow > 0) {
        add_capped(&overflow, old_n);
        *evicted_key = SHMB_LOG_LIMIT_MANY;
        *evicted_n = overflow;
    } else if (old_n > 0 && lim->total_count < lim->total) {
        lim->total_count++;
        *evicted_key = old_key;
        *evicted_n = old_n;
    } else {
        add_capped(&lim->overflow, old_n);
    }
    fresh = s->count == 0;
    if (fresh || now_ms - s->since_ms >= lim->window_ms) {
        s->since_ms = now_ms;
        s->count = 0;
    }
    if (s->count >= lim->per_key || lim->total_count >= lim->total) {
        if (s->suppressed < UINT32_MAX)
            s->suppressed++;
        /* A key that was never admitted keeps its window open from now. */
        if (s->count == 0)
            s->count = lim->per_key;
        return 0;
    }
    s->count++;
    lim->total_count++;
    *suppressed = s->suppressed;
    s->suppressed = 0;
    return 1;
}

int shmb_log_limiter_pending(shmb_log_limiter *lim, size_t *iter, uint64_t *key,
                             uint32_t *n)
{
    while (*iter < SHMB_LOG_LIMIT_SLOTS) {
        shmb_log_limit_slot *s = &lim->slot[(*iter)++];
        if (s->used && s->suppressed > 0) {
            *key = s->key;
            *n = s->suppressed;
            s->suppressed = 0;
            return 1;
        }
    }
    if (*iter == SHMB_LOG_LIMIT_SLOTS) {
        (*iter)++;
        if (lim->overflow > 0) {
            *key = SHMB_LOG_LIMIT_MANY;
            *n = lim->overflow;
            lim->overflow = 0;
            return 1;
        }
    }
    return 0;
}

/* ---- rotation --------------------------------------------------------- */

int shmb_log_rotate_due(uint64_t size, size_t add, uint64_t max_bytes)
{
    if (size == 0)
        return 0;
    return size >= max_bytes || (uint64_t)add > max_bytes - size;
}

int shmb_log_rotated_name(const char *path, unsigned i, char *out, size_t cap)
{
    int n = i == 0 ? snprintf(out, cap, "%s", path)
                   : snprintf(out, cap, "%s.%u", path, i);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int shmb_log_rotate_from(const char *path, unsigned keep, unsigned from,
                         int (*step)(void *ctx, const char *from,
                                     const char *to),
                         void *ctx, unsigned *failed_at)
{
    char src[1100], dst[1100];
    unsigned i;
    int rc;

    *failed_at = 0;
    if (from >= keep) {
        from = keep;
        if (shmb_log_rotated_name(path, keep, dst, sizeof(dst)) != 0)
            return -1;
        if ((rc = step(ctx, dst, NULL)) != 0) {
            *failed_at = keep;
            return rc;
        }
    }
    for (i = from; i > 0; i--) {
        if (shmb_log_rotated_name(path, i - 1, src, sizeof(src)) != 0 ||
            shmb_log_rotated_name(path, i, dst, sizeof(dst)) != 0)
            return -1;
        if ((rc = step(ctx, src, dst)) != 0) {
            *failed_at = i;
            return rc;
        }
    }
    return 0;
}

int shmb_log_rotate(const char *path, unsigned keep,
                    int (*step)(void *ctx, const char *from, const char *to),
                    void *ctx)
{
    unsigned at;
    return shmb_log_rotate_from(path, keep, keep, step, ctx, &at);
}

/* ---- rotation with retries ------------------------------------------- */

void shmb_log_rotator_init(shmb_log_rotator *r, const char *path, uint64_t size)
{
    memset(r, 0, sizeof(*r));
    r->path = path;
    r->keep = 1;
    r->stale = SHMB_LOG_KEEP_MAX;
    r->size = size;
    r->open = 1;
}

void shmb_log_rotator_set(shmb_log_rotator *r, uint64_t max_bytes,
                          unsigned keep)
{
    if (keep == 0)
        keep = 1;
    if (r->keep > r->stale)
        r->stale = r->keep;
    r->max_bytes = max_bytes;
    r->keep = keep;
    r->waiting = 0;
}

/* Names above keep, highest first; one that cannot be removed is tried
 * again at the next rotation, without failing this one. */
static void rotator_drop_stale(shmb_log_rotator *r, const shmb_log_file_io *io)
{
    char name[1100];
    unsigned i;
    int failed = 0;

    for (i = r->stale; i > r->keep; i--) {
        if (shmb_log_rotated_name(r->path, i, name, sizeof(name)) != 0 ||
            io->step(io->ctx, name, NULL) != 0)
            failed = 1;
    }
    if (!failed)
        r->stale = r->keep;
}

static int rotator_outcome(shmb_log_rotator *r, int rc, uint64_t now_ms)
{
    if (rc == 0) {
        r->waiting = 0;
        r->delay_ms = 0;
        r->failing = 0;
        return 0;
    }
    r->delay_ms = r->delay_ms == 0 ? SHMB_LOG_RETRY_MIN_MS
                  : r->delay_ms >= SHMB_LOG_RETRY_MAX_MS / 2
                      ? SHMB_LOG_RETRY_MAX_MS
                      : r->delay_ms * 2;
    r->waiting = 1;
    r->retry_ms = now_ms + r->delay_ms;
    if (r->failing)
        return 0;
    r->failing = 1;
    /* A failure that comes and goes is told at most once a while. */
    if (r->reported && now_ms - r->report_ms < SHMB_LOG_RETRY_MAX_MS)
        return 0;
    r->reported = 1;
    r->report_ms = now_ms;
    return rc;
}

int shmb_log_rotator_prepare(shmb_log_rotator *r, size_t add, uint64_t now_ms,
                             const shmb_log_file_io *io)
{
    int rc = 0, orc;

    if (r->open &&
        (r->max_bytes == 0 || !shmb_log_rotate_due(r->size, add, r->max_bytes)))
        return 0;
    if (r->waiting && now_ms < r->retry_ms)
        return 0;
    if (r->open) {
        io->close(io->ctx);
        r->open = 0;
        if (r->stale > r->keep)
            rotator_drop_stale(r, io);
        /* A rotation that failed half-way goes on where it stopped: the
         * files from there up are already moved, and starting again would
         * remove the oldest one again (one old file lost per retry). */
        rc = shmb_log_rotate_from(
            r->path, r->keep,
            r->resume != 0 && r->resume <= r->keep ? r->resume : r->keep,
            io->step, io->ctx, &r->resume);
    }
    r->size = 0;
    orc = io->open(io->ctx, &r->size);
    r->open = orc == 0;
    return rotator_outcome(r, rc != 0 ? rc : orc, now_ms);
}
