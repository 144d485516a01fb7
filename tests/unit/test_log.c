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
