/* SPDX-License-Identifier: MPL-2.0 */
/* test_log.c - the log front end's portable parts: message ids, reading a
 * line back, the Event Log rate limit and log file rotation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "shmb_log.h"

int test_log_msgids_unique(void)
{
    int i, k;

    for (i = 0; i < SHMB_EV_COUNT_; i++) {
        unsigned id = shmb_log_event_msgid((shmb_event)i);
        /* Event Viewer shows 16 bits; 1 is the line without an event. */
        CHECK(id > SHMB_MSG_GENERIC && id <= 0xffff);
        for (k = i + 1; k < SHMB_EV_COUNT_; k++)
            CHECK(shmb_log_event_msgid((shmb_event)k) != id);
    }
    /* Pinned: operators filter on these. */
    CHECK(shmb_log_event_msgid(SHMB_EV_STARTED) == 100);
    CHECK(shmb_log_event_msgid(SHMB_EV_REFUSED) == 310);
    CHECK(shmb_log_event_msgid(SHMB_EV_COUNT_) == SHMB_MSG_GENERIC);
    CHECK(shmb_log_event_flags(SHMB_EV_REFUSED) & SHMB_EVF_CLIENT);
    CHECK(shmb_log_event_flags(SHMB_EV_GRANT) == SHMB_EVF_FILE);
done:
    return TEST_RESULT;
}

static char last_line[1100];

static void keep_line(void *ctx, shmb_log_level level, const char *line)
{
    (void)ctx;
    (void)level;
    snprintf(last_line, sizeof(last_line), "%s", line);
}

int test_log_line_parse(void)
{
    shmb_logger lg = {keep_line, NULL, SHMB_LOG_DEBUG};
    shmb_event ev = SHMB_EV_COUNT_;
    const char *fields = NULL;
    int i;

    /* Every event round-trips through the line the sink receives. */
    for (i = 0; i < SHMB_EV_COUNT_; i++) {
        shmb_log_event(&lg, SHMB_LOG_INFO, (shmb_event)i, "pid=%u x=1", 7u);
        CHECK(shmb_log_event_parse(last_line, &ev, &fields) == 1);
        CHECK(ev == (shmb_event)i);
        CHECK_STR(fields, "pid=7 x=1");
        shmb_log_event(&lg, SHMB_LOG_INFO, (shmb_event)i, NULL);
        CHECK(shmb_log_event_parse(last_line, &ev, &fields) == 1);
        CHECK(ev == (shmb_event)i);
        CHECK_STR(fields, "");
    }
    CHECK(shmb_log_event_parse("event=grantx a=1", &ev, &fields) == 0);
    CHECK(shmb_log_event_parse("event=gran", &ev, &fields) == 0);
    CHECK(shmb_log_event_parse("plain text", &ev, &fields) == 0);
    CHECK(shmb_log_fields_pid("conn=3 pid=1234 op=open") == 1234);
    CHECK(shmb_log_fields_pid("pid=5") == 5);
    CHECK(shmb_log_fields_pid("ppid=9 reason=\"x\"") == 0);
    CHECK(shmb_log_fields_pid("xpid=9 pid=10") == 10);
    CHECK(shmb_log_fields_pid("pid=99999999999") == 0);
    CHECK(shmb_log_fields_pid("") == 0);
done:
    return TEST_RESULT;
}

int test_log_limiter_per_key(void)
{
    shmb_log_limiter *lim = malloc(sizeof(*lim));
    uint32_t sup = 0, evn = 0;
    uint64_t evk = 0;
    int i, admitted = 0;

    CHECK(lim != NULL);
    shmb_log_limiter_init(lim, 10, 100, 60000);
    /* A flood from one key: 10 pass in the minute, 40 are held back. */
    for (i = 0; i < 50; i++)
        admitted += shmb_log_limiter_admit(lim, 1, 1000 + (uint64_t)i, &sup,
                                           &evk, &evn);
    CHECK(admitted == 10);
    /* Another key is not starved by the first. */
    CHECK(shmb_log_limiter_admit(lim, 2, 2000, &sup, &evk, &evn) == 1);
    CHECK(sup == 0);
    /* Still inside the first key's window. */
    CHECK(shmb_log_limiter_admit(lim, 1, 60999, &sup, &evk, &evn) == 0);
    /* Next window: admitted, and carries the count held back (41). */
    CHECK(shmb_log_limiter_admit(lim, 1, 61000, &sup, &evk, &evn) == 1);
    CHECK(sup == 41);
    CHECK(shmb_log_limiter_admit(lim, 1, 61001, &sup, &evk, &evn) == 1);
    CHECK(sup == 0);
done:
    free(lim);
    return TEST_RESULT;
}

int test_log_limiter_total_and_slots(void)
{
    shmb_log_limiter *lim = malloc(sizeof(*lim));
    uint32_t sup = 0, evn = 0, n = 0, total = 0;
    uint64_t evk = 0, key = 0;
    size_t iter = 0;
    int admitted = 0;
    uint64_t k;

    CHECK(lim != NULL);
    shmb_log_limiter_init(lim, 10, 20, 60000);
    /* Many keys (pids) at once: at most `total` pass in a window. */
    for (k = 1; k <= 30; k++)
        admitted += shmb_log_limiter_admit(lim, k, 5, &sup, &evk, &evn);
    CHECK(admitted == 20);
    /* The ten held back are reported at close, once. */
    while (shmb_log_limiter_pending(lim, &iter, &key, &n)) {
        CHECK(key > 20 && key <= 30);
        total += n;
    }
    CHECK(total == 10);
    iter = 0;
    CHECK(shmb_log_limiter_pending(lim, &iter, &key, &n) == 0);

    /* More keys than slots: a reused slot hands back what it held. */
    shmb_log_limiter_init(lim, 1, 1000, 60000);
    for (k = 1; k <= SHMB_LOG_LIMIT_SLOTS; k++) {
        CHECK(shmb_log_limiter_admit(lim, k, k, &sup, &evk, &evn) == 1);
        CHECK(shmb_log_limiter_admit(lim, k, k, &sup, &evk, &evn) == 0);
    }
    CHECK(shmb_log_limiter_admit(lim, 1000, 500, &sup, &evk, &evn) == 1);
    CHECK(evk == 1); /* the oldest window */
    CHECK(evn == 1);
done:
    free(lim);
    return TEST_RESULT;
}

int test_log_rotate_due(void)
{
    CHECK(!shmb_log_rotate_due(0, 5000, 1000)); /* an empty file takes it */
    CHECK(!shmb_log_rotate_due(900, 100, 1000));
    CHECK(shmb_log_rotate_due(900, 101, 1000));
    CHECK(shmb_log_rotate_due(1000, 1, 1000));
    CHECK(shmb_log_rotate_due(5000, 0, 1000));
    CHECK(!shmb_log_rotate_due(1, 10, UINT64_MAX)); /* no overflow */
done:
    return TEST_RESULT;
}

typedef struct steps {
    char text[512];
} steps;

static int record(void *ctx, const char *from, const char *to)
{
    steps *s = ctx;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof(s->text) - n, "%s>%s;", from,
             to != NULL ? to : "-");
    return 0;
}

static int fail_second(void *ctx, const char *from, const char *to)
{
    int *calls = ctx;
    (void)from;
    (void)to;
    return ++*calls == 2 ? -5 : 0;
}

int test_log_rotate_steps(void)
{
    steps s = {{0}};
    char name[16];
    int calls = 0;

    CHECK(shmb_log_rotate("a.log", 3, record, &s) == 0);
    CHECK_STR(s.text, "a.log.3>-;a.log.2>a.log.3;a.log.1>a.log.2;"
                      "a.log>a.log.1;");
    s.text[0] = '\0';
    CHECK(shmb_log_rotate("x", 1, record, &s) == 0);
    CHECK_STR(s.text, "x.1>-;x>x.1;");
    CHECK(shmb_log_rotate("x", 3, fail_second, &calls) == -5);
    CHECK(calls == 2);
    CHECK(shmb_log_rotated_name("abc", 12, name, sizeof(name)) == 0);
    CHECK_STR(name, "abc.12");
    CHECK(shmb_log_rotated_name("abcdefghijklmn", 12, name, sizeof(name)) ==
          -1);
done:
    return TEST_RESULT;
}

/* The same walk over real files (stdio rename/remove): what rotates out
 * is the oldest, and nothing but `keep` old files remain. */
static int fs_step(void *ctx, const char *from, const char *to)
{
    (void)ctx;
    if (to == NULL) {
        remove(from);
        return 0;
    }
    if (rename(from, to) != 0) {
        FILE *f = fopen(from, "rb");
        if (f == NULL)
            return 0; /* nothing to move yet */
        fclose(f);
        remove(to); /* Windows' rename does not replace */
        return rename(from, to) == 0 ? 0 : -1;
    }
    return 0;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    fputs(text, f);
    return fclose(f);
}

int test_log_rotate_files(void)
{
    char base[64], name[80], text[32];
    unsigned i;
    int round;

    snprintf(base, sizeof(base), "shmb-rotate-%u.log",
             (unsigned)(uintptr_t)&base % 100000u);
    for (round = 1; round <= 5; round++) {
        snprintf(text, sizeof(text), "round %d", round);
        CHECK(write_file(base, text) == 0);
        CHECK(shmb_log_rotate(base, 2, fs_step, NULL) == 0);
    }
    CHECK(shmb_test_read_file(base, text, sizeof(text)) < 0); /* moved away */
    snprintf(name, sizeof(name), "%s.1", base);
    CHECK(shmb_test_read_file(name, text, sizeof(text)) >= 0);
    CHECK_STR(text, "round 5");
    snprintf(name, sizeof(name), "%s.2", base);
    CHECK(shmb_test_read_file(name, text, sizeof(text)) >= 0);
    CHECK_STR(text, "round 4");
    snprintf(name, sizeof(name), "%s.3", base);
    CHECK(shmb_test_read_file(name, text, sizeof(text)) < 0);
done:
    for (i = 0; i <= 3; i++) {
        if (shmb_log_rotated_name(base, i, name, sizeof(name)) == 0)
            remove(name);
    }
    return TEST_RESULT;
}

/* docs/operations.md lists every event with its id, and nothing else
 * claims an id: the table operators filter the Event Log by. */
int test_log_ids_documented(void)
{
    FILE *f = fopen(SHMB_TEST_DATA_DIR "/../../docs/operations.md", "rb");
    static char doc[65536 * 2];
    char row[160];
    size_t n = 0;
    int i;

    CHECK(f != NULL);
    n = fread(doc, 1, sizeof(doc) - 1, f);
    doc[n] = '\0';
    for (i = 0; i < SHMB_EV_COUNT_; i++) {
        const char *at, *eol;
        snprintf(row, sizeof(row), "\n| %u | ",
                 shmb_log_event_msgid((shmb_event)i));
        at = strstr(doc, row);
        if (at == NULL)
            FAIL("operations.md has no row for id %u (%s)",
                 shmb_log_event_msgid((shmb_event)i),
                 shmb_log_event_name((shmb_event)i));
        eol = strchr(at + 1, '\n');
        snprintf(row, sizeof(row), "| `%s` |",
                 shmb_log_event_name((shmb_event)i));
        at = strstr(at, row);
        if (at == NULL || (eol != NULL && at > eol))
            FAIL("operations.md's row for id %u does not name `%s`",
                 shmb_log_event_msgid((shmb_event)i),
                 shmb_log_event_name((shmb_event)i));
    }
done:
    if (f != NULL)
        fclose(f);
    return TEST_RESULT;
}

/* Short-lived clients, each a new key, flood the limiter in one window:
 * the records that reach the Event Log (admitted events and summaries of
 * evicted keys) stay within the total budget, and nothing is lost: every
 * held-back event is counted in some record. */
int test_log_limiter_many_keys(void)
{
    shmb_log_limiter *lim = malloc(sizeof(*lim));
    uint32_t sup = 0, evn = 0, n = 0;
    uint64_t evk = 0, key = 0, k, seen = 0, told = 0;
    size_t iter = 0;
    unsigned records = 0, many = 0;

    CHECK(lim != NULL);
    shmb_log_limiter_init(lim, 10, 100, 60000);
    for (k = 1; k <= 10000; k++) {
        int i;
        for (i = 0; i < 2; i++) { /* two events per process */
            seen++;
            if (shmb_log_limiter_admit(lim, k, 1000 + k, &sup, &evk, &evn)) {
                records++;
                told += 1 + sup;
            }
            if (evn > 0) {
                records++;
                told += evn;
                many += evk == SHMB_LOG_LIMIT_MANY;
            }
        }
    }
    if (records > 100)
        FAIL("%u Event Log records in one window (budget 100)", records);
    CHECK(many == 0); /* the overflow waits for the next window */
    /* The next window starts with the one summary of the overflow. */
    CHECK(shmb_log_limiter_admit(lim, 1, 70000, &sup, &evk, &evn) == 1);
    told += 1 + sup;
    seen++;
    CHECK(evn > 0);
    CHECK(evk == SHMB_LOG_LIMIT_MANY);
    told += evn;
    /* A second call in that window carries no second one. */
    CHECK(shmb_log_limiter_admit(lim, 2, 70001, &sup, &evk, &evn) == 1);
    told += 1 + sup;
    seen++;
    CHECK(evn == 0 || evk != SHMB_LOG_LIMIT_MANY);
    told += evn;
    while (shmb_log_limiter_pending(lim, &iter, &key, &n))
        told += n;
    CHECK(told == seen);
done:
    free(lim);
    return TEST_RESULT;
}

/* The overflow also surfaces at close, once. */
int test_log_limiter_many_at_close(void)
{
    shmb_log_limiter *lim = malloc(sizeof(*lim));
    uint32_t sup = 0, evn = 0, n = 0;
    uint64_t evk = 0, key = 0, k;
    size_t iter = 0;
    unsigned manys = 0, records = 0;

    CHECK(lim != NULL);
    shmb_log_limiter_init(lim, 1, 5, 60000);
    for (k = 1; k <= 200; k++) {
        records +=
            (unsigned)shmb_log_limiter_admit(lim, k, k, &sup, &evk, &evn);
        records += evn > 0;
    }
    CHECK(records <= 5);
    while (shmb_log_limiter_pending(lim, &iter, &key, &n))
        manys += key == SHMB_LOG_LIMIT_MANY;
    CHECK(manys == 1);
done:
    free(lim);
    return TEST_RESULT;
}

/* A file system where renames of "f.1" fail while `held` (a viewer holds
 * it open) and opens fail while `no_open`. */
typedef struct fake_fs {
    int held, no_open, is_open;
    unsigned moves, opens, rotations;
    uint64_t size; /* of "f" */
} fake_fs;

static int fake_step(void *ctx, const char *from, const char *to)
{
    fake_fs *f = ctx;
    if (to != NULL && f->held && strcmp(from, "f.1") == 0)
        return 32; /* ERROR_SHARING_VIOLATION */
    f->moves++;
    if (to != NULL && strcmp(from, "f") == 0) {
        f->rotations++;
        f->size = 0;
    }
    return 0;
}

static void fake_close(void *ctx)
{
    fake_fs *f = ctx;
    f->is_open = 0;
}

static int fake_open(void *ctx, uint64_t *size)
{
    fake_fs *f = ctx;
    f->opens++;
    if (f->no_open)
        return -7;
    f->is_open = 1;
    *size = f->size;
    return 0;
}

/* One 10-byte line at `now`: what prepare says to report. */
static int fake_line(shmb_log_rotator *r, const shmb_log_file_io *io,
                     uint64_t now)
{
    fake_fs *f = io->ctx;
    int rc = shmb_log_rotator_prepare(r, 10, now, io);
    if (r->open) {
        r->size += 10;
        f->size += 10;
    }
    return rc;
}

int test_log_rotator_retries(void)
{
    fake_fs f = {0, 0, 1, 0, 0, 0, 0};
    shmb_log_file_io io = {fake_step, fake_close, fake_open, NULL};
    shmb_log_rotator r;
    uint64_t t = 1000;
    int i, reports = 0;

    io.ctx = &f;
    shmb_log_rotator_init(&r, "f", 0);
    shmb_log_rotator_set(&r, 100, 2);
    for (i = 0; i < 11; i++)
        CHECK(fake_line(&r, &io, t) == 0);
    CHECK_INT((int)f.rotations, 1);
    CHECK(r.size == 10);

    /* f.1 is held: the rotation fails, is told once, the file goes on. */
    f.held = 1;
    for (i = 0; i < 100; i++)
        reports += fake_line(&r, &io, t) != 0;
    CHECK_INT(reports, 1);
    CHECK(r.open && f.is_open);
    CHECK(r.size > 100); /* unrotated */
    /* Within the back-off nothing is tried again; after it, it is,
     * quietly (same streak). */
    f.moves = 0;
    CHECK(fake_line(&r, &io, t + SHMB_LOG_RETRY_MIN_MS - 1) == 0);
    CHECK_INT((int)f.moves, 0);
    CHECK(fake_line(&r, &io, t + SHMB_LOG_RETRY_MIN_MS) == 0);
    CHECK(f.moves > 0);
    CHECK_INT((int)f.rotations, 1);
    /* The viewer lets go: the next attempt rotates, rotation stays on. */
    f.held = 0;
    t += SHMB_LOG_RETRY_MIN_MS + 2 * SHMB_LOG_RETRY_MIN_MS;
    CHECK(fake_line(&r, &io, t) == 0);
    CHECK_INT((int)f.rotations, 2);
    for (i = 0; i < 10; i++)
        CHECK(fake_line(&r, &io, t) == 0);
    CHECK_INT((int)f.rotations, 3);

    /* The reopen after a rotation fails: lines are dropped (r.open 0),
     * the reopen is retried after the back-off, and works again. */
    f.no_open = 1;
    reports = 0;
    t += 2 * SHMB_LOG_RETRY_MAX_MS; /* past the report's own rate limit */
    for (i = 0; i < 20; i++)
        reports += fake_line(&r, &io, t) != 0;
    CHECK_INT(reports, 1);
    CHECK(!r.open);
    CHECK_INT((int)f.rotations, 4);
    f.no_open = 0;
    f.opens = 0;
    CHECK(fake_line(&r, &io, t + 10) == 0);
    CHECK(!r.open && f.opens == 0); /* still waiting */
    CHECK(fake_line(&r, &io, t + SHMB_LOG_RETRY_MIN_MS) == 0);
    CHECK(r.open && f.opens == 1);
    CHECK(r.size == 10);
    CHECK_INT((int)f.rotations, 4); /* a reopen, not another rotation */

    /* The back-off doubles up to its cap. */
    f.held = 1;
    r.size = f.size = 1000;
    t += 1000000;
    for (i = 0; i < 20; i++) {
        CHECK(shmb_log_rotator_prepare(&r, 10, t, &io) == (i == 0 ? 32 : 0));
        t = r.retry_ms;
    }
    CHECK(r.delay_ms == SHMB_LOG_RETRY_MAX_MS);
    /* A reload retries at once. */
    f.moves = 0;
    shmb_log_rotator_set(&r, 100, 2);
    CHECK(shmb_log_rotator_prepare(&r, 10, t - 1, &io) == 0);
    CHECK(f.moves > 0);
done:
    return TEST_RESULT;
}

/* Real files: open/close for the rotator over stdio. */
typedef struct real_file {
    const char *path;
    FILE *f;
} real_file;

static void real_close(void *ctx)
{
    real_file *rf = ctx;
    fclose(rf->f);
    rf->f = NULL;
}

static int real_open(void *ctx, uint64_t *size)
{
    real_file *rf = ctx;
    long n;
    rf->f = fopen(rf->path, "ab");
    if (rf->f == NULL)
        return -1;
    fseek(rf->f, 0, SEEK_END);
    n = ftell(rf->f);
    *size = n > 0 ? (uint64_t)n : 0;
    return 0;
}

static int real_step(void *ctx, const char *from, const char *to)
{
    return fs_step(ctx, from, to);
}

/* A lower log_keep (a reload, or a restart) removes the names above it
 * at the next rotation instead of leaving them forever. */
int test_log_rotator_keep_lowered(void)
{
    char base[64], name[80], text[32];
    real_file rf = {NULL, NULL};
    shmb_log_file_io io = {real_step, real_close, real_open, NULL};
    shmb_log_rotator r;
    unsigned i;
    int round;

    snprintf(base, sizeof(base), "shmb-keep-%u.log",
             (unsigned)(uintptr_t)&base % 100000u);
    rf.path = base;
    io.ctx = &rf;
    /* A previous run kept 7. */
    for (i = 1; i <= 7; i++) {
        snprintf(name, sizeof(name), "%s.%u", base, i);
        CHECK(write_file(name, "old") == 0);
    }
    CHECK(real_open(&rf, &r.size) == 0);
    shmb_log_rotator_init(&r, base, 0);
    shmb_log_rotator_set(&r, 8, 4);
    for (round = 1; round <= 2; round++) {
        CHECK(shmb_log_rotator_prepare(&r, 8, 1, &io) == 0);
        fputs("roundxx", rf.f);
        r.size += 8;
    }
    for (i = 5; i <= 7; i++) {
        snprintf(name, sizeof(name), "%s.%u", base, i);
        CHECK(shmb_test_read_file(name, text, sizeof(text)) < 0);
    }
    snprintf(name, sizeof(name), "%s.4", base);
    CHECK(shmb_test_read_file(name, text, sizeof(text)) >= 0);
    /* A reload lowers it to 2: .3 and .4 go at the next rotation. */
    shmb_log_rotator_set(&r, 8, 2);
    CHECK(shmb_log_rotator_prepare(&r, 8, 2, &io) == 0);
    for (i = 3; i <= 4; i++) {
        snprintf(name, sizeof(name), "%s.%u", base, i);
        if (shmb_test_read_file(name, text, sizeof(text)) >= 0)
            FAIL("%s is left over after keep went down to 2", name);
    }
    snprintf(name, sizeof(name), "%s.2", base);
    CHECK(shmb_test_read_file(name, text, sizeof(text)) >= 0);
done:
    if (rf.f != NULL)
        fclose(rf.f);
    for (i = 0; i <= 7; i++) {
        if (shmb_log_rotated_name(base, i, name, sizeof(name)) == 0)
            remove(name);
    }
    return TEST_RESULT;
}

/* Real files whose first move out of "X.1" fails (a viewer holds that
 * file open). The real_file comes first: real_open and real_close take
 * the same context. */
typedef struct held_file {
    real_file rf;
    int held;
} held_file;

static int held_once_step(void *ctx, const char *from, const char *to)
{
    held_file *h = ctx;
    size_t n = strlen(from);
    if (to != NULL && h->held && n > 2 && strcmp(from + n - 2, ".1") == 0) {
        h->held = 0;
        return 32; /* ERROR_SHARING_VIOLATION */
    }
    return fs_step(NULL, from, to);
}

/* A rotation that fails half-way loses nothing on its retry: it goes on
 * where it stopped, and only the oldest file goes, once. */
int test_log_rotator_resumes(void)
{
    char base[64], name[80], text[32];
    held_file h = {{NULL, NULL}, 1};
    shmb_log_file_io io = {held_once_step, real_close, real_open, &h};
    shmb_log_rotator r;
    static const char *const gen[] = {"g0", "g1", "g2", "g3"};
    /* After the rotation: the current file's lines in .1, and so on; the
     * oldest (g3) gone. */
    static const char *const want[] = {"", "g0", "g1", "g2"};
    unsigned i;

    snprintf(base, sizeof(base), "shmb-resume-%u.log",
             (unsigned)(uintptr_t)&base % 100000u);
    h.rf.path = base;
    for (i = 0; i <= 3; i++) {
        CHECK(shmb_log_rotated_name(base, i, name, sizeof(name)) == 0);
        CHECK(write_file(name, gen[i]) == 0);
    }
    CHECK(real_open(&h.rf, &r.size) == 0);
    shmb_log_rotator_init(&r, base, 2);
    shmb_log_rotator_set(&r, 4, 3);
    /* Due; the move of .1 into .2 fails: reported, the file reopened. */
    CHECK(shmb_log_rotator_prepare(&r, 4, 1000, &io) != 0);
    CHECK(h.rf.f != NULL);
    /* The retry after the back-off finishes the rotation. */
    CHECK_INT(
        shmb_log_rotator_prepare(&r, 4, 1000 + SHMB_LOG_RETRY_MIN_MS, &io), 0);
    for (i = 1; i <= 3; i++) {
        CHECK(shmb_log_rotated_name(base, i, name, sizeof(name)) == 0);
        if (shmb_test_read_file(name, text, sizeof(text)) < 0 ||
            strcmp(text, want[i]) != 0)
            FAIL("%s holds \"%s\", want \"%s\"", name,
                 shmb_test_read_file(name, text, sizeof(text)) < 0 ? "(none)"
                                                                   : text,
                 want[i]);
    }
done:
    if (h.rf.f != NULL)
        fclose(h.rf.f);
    for (i = 0; i <= 3; i++) {
        if (shmb_log_rotated_name(base, i, name, sizeof(name)) == 0)
            remove(name);
    }
    return TEST_RESULT;
}
