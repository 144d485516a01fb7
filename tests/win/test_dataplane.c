/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_dataplane.c - shmb_ring and shmb_snapshot across two real processes
 * through the installed service: each side holds its own grant of the same
 * region (and so its own doorbell handles) and waits through
 * shmb_wait_ops_ring / shmb_wait_ops_doorbells. The other side is this
 * program again (`shmb-itest child-dp-*`, dispatched by
 * dataplane_child_main); it reports what it saw in its exit code.
 *
 * The hostile-peer children write into the shared header at the offsets
 * docs/dataplane.md documents: that layout is the contract a peer sees.
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmb_dataplane.h"
#include "util_win.h"

/* The documented layouts (docs/dataplane.md). */
#define RING_OFF_CAPACITY 8
#define RING_OFF_HEAD 64
#define RING_OFF_TAIL 128
#define SNAP_OFF_CAPACITY 8
#define SNAP_OFF_SEQ 64
#define SNAP_OFF_LEN 72

/* Every ring here has this capacity: small, so that a few thousand records
 * wrap around it many times and a handful fill it. */
#define DP_CAPACITY 1024u
#define DP_REGION_SIZE 4096u
/* A word past the ring where a child says "I have done my part". */
#define DP_CONTROL_OFF 2048u
/* The sequence number of the last record. */
#define DP_END 0xFFFFFFFFu
/* A wait that must time out, and how much slack the clock gets. */
#define DP_SHORT_MS 300u
#define DP_CLOCK_SLACK_MS 50u

static volatile uint64_t *u64_at(void *base, size_t off)
{
    return (volatile uint64_t *)(void *)((unsigned char *)base + off);
}

static volatile uint32_t *u32_at(void *base, size_t off)
{
    return (volatile uint32_t *)(void *)((unsigned char *)base + off);
}

/* Record `seq`: its number, then bytes derived from it; the length varies
 * from 4 to `max` so records land everywhere relative to the wrap point. */
static size_t rec_len(uint32_t seq, size_t max)
{
    return seq == DP_END ? 4 : 4 + (size_t)(seq * 37u) % (max - 3);
}

static void rec_make(unsigned char *buf, uint32_t seq, size_t len)
{
    size_t j;
    memcpy(buf, &seq, 4);
    for (j = 4; j < len; j++)
        buf[j] = (unsigned char)(seq * 31u + j);
}

/* 0 if buf[0..len) is record `seq`. */
static int rec_check(const unsigned char *buf, size_t len, uint32_t seq,
                     size_t max)
{
    uint32_t got;
    size_t j;
    if (len != rec_len(seq, max))
        return -1;
    memcpy(&got, buf, 4);
    if (got != seq)
        return -1;
    for (j = 4; j < len; j++)
        if (buf[j] != (unsigned char)(seq * 31u + j))
            return -1;
    return 0;
}

/* A read-write region with `bells` doorbells, mapped. */
static int dp_create(shmb_client *c, const char *stem, uint32_t bells,
                     shmb_region *r)
{
    int rc =
        shmb_region_create_ex(c, itest_name(stem), DP_REGION_SIZE,
                              SHMB_ACCESS_RW, SHMB_LIFETIME_CLIENT, bells, r);
    return rc != SHMB_OK ? rc : shmb_region_map(r);
}

/* Our end of the region's ring, waiting on its doorbells. */
static int dp_ring_end(shmb_region *r, shmb_ring_role role, shmb_ring *ring,
                       shmb_wait_ops *ops, shmb_doorbell_ctx *ctx)
{
    int rc = shmb_wait_ops_ring(ops, ctx, r, (int)role);
    return rc != SHMB_OK
               ? rc
               : shmb_ring_attach(ring, r->view, (size_t)r->size, role, ops);
}

/* Writes record `seq` with `timeout_ms`. */
static int dp_write(shmb_ring *p, uint32_t seq, uint32_t timeout_ms)
{
    unsigned char buf[DP_CAPACITY];
    size_t len = rec_len(seq, shmb_ring_max_record(p));
    rec_make(buf, seq, len);
    return shmb_ring_write(p, buf, len, timeout_ms);
}

/* One side of a ring test: its region and ring end (with the waits behind
 * it), and the child process playing the other side. Zero-initialised, it
 * is safe to dp_close. */
typedef struct dp_side {
    shmb_region r;
    shmb_ring ring;
    shmb_wait_ops ops;
    shmb_doorbell_ctx ctx;
    itest_proc child;
} dp_side;

/* A fresh region `stem` with a formatted ring, the control word cleared,
 * and our `role` end attached. */
static int dp_ring_open(dp_side *s, shmb_client *c, const char *stem,
                        shmb_ring_role role)
{
    int rc = dp_create(c, stem, 2, &s->r);
    if (rc != SHMB_OK) {
        fprintf(stderr, "create %s: %s\n", stem, shmb_client_message(c));
        return rc;
    }
    rc = shmb_ring_format(s->r.view, (size_t)s->r.size, DP_CAPACITY);
    if (rc != SHMB_OK)
        return rc;
    *u32_at(s->r.view, DP_CONTROL_OFF) = 0;
    return dp_ring_end(&s->r, role, &s->ring, &s->ops, &s->ctx);
}

/* The arguments of `shmb-itest child-dp-VERB REGION [EXTRA]`, in buf. */
static const char *dp_args(char *buf, size_t cap, const char *verb,
                           const char *region, const char *extra)
{
    snprintf(buf, cap, "child-dp-%s %s%s%s", verb, region,
             extra != NULL ? " " : "", extra != NULL ? extra : "");
    return buf;
}

/* Starts the other side: child-dp-VERB on our region. */
static int dp_spawn(dp_side *s, const char *verb, const char *extra)
{
    char args[300];
    return itest_child_start(
        &s->child, dp_args(args, sizeof(args), verb, s->r.name, extra));
}

static void dp_close(dp_side *s)
{
    itest_child_stop(&s->child);
    shmb_region_close(&s->r);
}

/* ---- the tests ------------------------------------------------------- */

/* Thousands of records of every length through a 1 KiB ring to a consumer
 * in another process: all arrive, whole and in order, across hundreds of
 * wrap-arounds; the producer sleeps on "room" and the consumer on "data".
 * A record above the maximum is refused before anything is written. */
int test_dp_ring_order_across_processes(void)
{
    shmb_client *c = itest_connect();
    dp_side s = {0};
    shmb_ring *p = &s.ring;
    unsigned char big[DP_CAPACITY];
    uint32_t seq;
    const uint32_t n = 3000;

    CHECK(c != NULL);
    CHECK_INT(dp_ring_open(&s, c, "dp-order", SHMB_RING_PRODUCER), SHMB_OK);
    CHECK_INT(shmb_ring_max_record(p), DP_CAPACITY / 2 - 8);
    memset(big, 0, sizeof(big));
    CHECK_INT(shmb_ring_write(p, big, shmb_ring_max_record(p) + 1, 1000),
              SHMB_E_INVALID_SIZE);
    CHECK_INT(shmb_ring_write(p, big, DP_CAPACITY, 1000), SHMB_E_INVALID_SIZE);
    CHECK_INT(*u64_at(s.r.view, RING_OFF_HEAD), 0);

    CHECK_INT(dp_spawn(&s, "consume", "go"), 0);
    for (seq = 0; seq < n; seq++)
        if (dp_write(p, seq, ITEST_WAIT_MS) != SHMB_OK)
            FAIL("record %u not written", (unsigned)seq);
    CHECK_INT(dp_write(p, DP_END, ITEST_WAIT_MS), SHMB_OK);
    CHECK_INT(itest_child_stop(&s.child), 0);
    /* Hundreds of laps, and the consumer took everything. */
    CHECK(*u64_at(s.r.view, RING_OFF_HEAD) > 100u * DP_CAPACITY);
    CHECK_INT(*u64_at(s.r.view, RING_OFF_TAIL),
              *u64_at(s.r.view, RING_OFF_HEAD));
done:
    dp_close(&s);
    shmb_disconnect(c);
    return TEST_RESULT;
}

/* A full ring: the producer's write times out (nothing written) while the
 * consumer in the other process holds back, and a write that is already
 * waiting when the consumer starts draining completes. */
int test_dp_ring_full_blocks_producer(void)
{
    shmb_client *c = itest_connect();
    dp_side s = {0};
    shmb_ring *p = &s.ring;
    uint32_t seq = 0;
    uint64_t t0, head;
    int rc;

    CHECK(c != NULL);
    CHECK_INT(dp_ring_open(&s, c, "dp-full", SHMB_RING_PRODUCER), SHMB_OK);
    CHECK_INT(dp_spawn(&s, "consume", "wait"), 0);
    /* Fill it without waiting. */
    while ((rc = dp_write(p, seq, 0)) == SHMB_OK)
        seq++;
    CHECK_INT(rc, SHMB_E_TIMEOUT);
    CHECK(seq >= 2 && seq < DP_CAPACITY / 8);
    head = *u64_at(s.r.view, RING_OFF_HEAD);
    CHECK(head > DP_CAPACITY / 2);
    /* Full: a bounded write waits its timeout and writes nothing. */
    t0 = GetTickCount64();
    CHECK_INT(dp_write(p, seq, DP_SHORT_MS), SHMB_E_TIMEOUT);
    CHECK(GetTickCount64() - t0 >= DP_SHORT_MS - DP_CLOCK_SLACK_MS);
    CHECK_INT(*u64_at(s.r.view, RING_OFF_HEAD), head);
    CHECK(itest_child_running(&s.child));
    /* The consumer starts draining; the write that waits for room gets it. */
    CHECK_INT(itest_child_tell(&s.child), 0);
    CHECK_INT(dp_write(p, seq, ITEST_WAIT_MS), SHMB_OK);
    for (seq++; seq < 500; seq++)
        if (dp_write(p, seq, ITEST_WAIT_MS) != SHMB_OK)
            FAIL("record %u not written", (unsigned)seq);
    CHECK_INT(dp_write(p, DP_END, ITEST_WAIT_MS), SHMB_OK);
    CHECK_INT(itest_child_stop(&s.child), 0);
done:
    dp_close(&s);
    shmb_disconnect(c);
    return TEST_RESULT;
}

/* A consumer process that attached and then never reads: the producer is
 * never blocked beyond its own timeout. */
int test_dp_ring_consumer_never_reads(void)
{
    shmb_client *c = itest_connect();
    dp_side s = {0};
    uint32_t seq = 0;
    uint64_t t0, spent;
    int i;

    CHECK(c != NULL);
    CHECK_INT(dp_ring_open(&s, c, "dp-stall", SHMB_RING_PRODUCER), SHMB_OK);
    CHECK_INT(dp_spawn(&s, "hold", NULL), 0);
    WAIT_UNTIL(*u32_at(s.r.view, DP_CONTROL_OFF) == 1, ITEST_WAIT_MS);
    while (dp_write(&s.ring, seq, 0) == SHMB_OK)
        seq++;
    /* Several times, each bounded by its own timeout. */
    for (i = 0; i < 3; i++) {
        t0 = GetTickCount64();
        CHECK_INT(dp_write(&s.ring, seq, DP_SHORT_MS), SHMB_E_TIMEOUT);
        spent = GetTickCount64() - t0;
        if (spent + DP_CLOCK_SLACK_MS < DP_SHORT_MS || spent > 5000)
            FAIL("a %u ms write took %llu ms", DP_SHORT_MS,
                 (unsigned long long)spent);
    }
    CHECK(itest_child_running(&s.child));
    CHECK_INT(*u64_at(s.r.view, RING_OFF_TAIL), 0);
    CHECK_INT(itest_child_stop(&s.child), 0);
done:
    dp_close(&s);
    shmb_disconnect(c);
    return TEST_RESULT;
}

/* A producer process killed (TerminateProcess) after it wrote a record's
 * bytes but before it moved the head: the consumer gets the records
 * committed before, nothing half-written, and times out instead of
 * hanging. */
int test_dp_ring_producer_dies_mid_record(void)
{
    shmb_client *c = itest_connect();
    dp_side s = {0};
    shmb_ring *q = &s.ring;
    unsigned char buf[DP_CAPACITY];
    size_t len = 99, at;
    uint64_t t0;

    CHECK(c != NULL);
    CHECK_INT(dp_ring_open(&s, c, "dp-death", SHMB_RING_CONSUMER), SHMB_OK);
    CHECK_INT(dp_spawn(&s, "halfwrite", NULL), 0);
    WAIT_UNTIL(*u32_at(s.r.view, DP_CONTROL_OFF) == 1, ITEST_WAIT_MS);
    CHECK(TerminateProcess(s.child.process, 9));
    CHECK_INT(WaitForSingleObject(s.child.process, ITEST_WAIT_MS),
              WAIT_OBJECT_0);
    /* The committed record arrives whole. */
    CHECK_INT(shmb_ring_read(q, buf, sizeof(buf), &len, ITEST_WAIT_MS),
              SHMB_OK);
    CHECK_INT(rec_check(buf, len, 0, shmb_ring_max_record(q)), 0);
    /* The half-written one is in the data area, past the head... */
    CHECK_INT(*u64_at(s.r.view, RING_OFF_HEAD),
              *u64_at(s.r.view, RING_OFF_TAIL));
    at = SHMB_RING_HEADER_SIZE +
         (size_t)(*u64_at(s.r.view, RING_OFF_HEAD) & (DP_CAPACITY - 1));
    CHECK(*u32_at(s.r.view, at) == rec_len(1, shmb_ring_max_record(q)));
    /* ...and never read: a bounded wait, then nothing. */
    t0 = GetTickCount64();
    len = 99;
    CHECK_INT(shmb_ring_read(q, buf, sizeof(buf), &len, DP_SHORT_MS),
              SHMB_E_TIMEOUT);
    CHECK_INT(len, 0);
    CHECK(GetTickCount64() - t0 >= DP_SHORT_MS - DP_CLOCK_SLACK_MS);
    CHECK(GetTickCount64() - t0 < 5000);
    CHECK_INT(shmb_ring_read(q, buf, sizeof(buf), &len, 0), SHMB_E_TIMEOUT);
done:
    dp_close(&s);
    shmb_disconnect(c);
    return TEST_RESULT;
}

/* A hostile peer process writes impossible indices and lengths into the
 * shared header; the honest side gets SHMB_E_PEER_CORRUPT (and nothing
 * outside the mapping is touched). One fresh ring per attack. */
static int dp_attack(shmb_client *c, const char *mode, shmb_ring_role victim,
                     int expect_attach)
{
    dp_side s = {0};
    shmb_ring again;
    unsigned char buf[DP_CAPACITY];
    char args[300];
    size_t len;
    int rc = -1;

    if (dp_ring_open(&s, c, "dp-evil", victim) != SHMB_OK)
        goto out;
    /* The producer commits one honest record first. */
    if (victim == SHMB_RING_PRODUCER && dp_write(&s.ring, 0, 0) != SHMB_OK)
        goto out;
    if (itest_child(dp_args(args, sizeof(args), "corrupt", s.r.name, mode)) !=
        0) {
        fprintf(stderr, "%s: the attacker failed\n", mode);
        goto out;
    }
    if (expect_attach) {
        rc = shmb_ring_attach(&again, s.r.view, (size_t)s.r.size, victim, NULL);
    } else if (victim == SHMB_RING_PRODUCER) {
        rc = dp_write(&s.ring, 1, DP_SHORT_MS);
    } else {
        rc = shmb_ring_read(&s.ring, buf, sizeof(buf), &len, DP_SHORT_MS);
    }
    if (rc != SHMB_E_PEER_CORRUPT)
        fprintf(stderr, "%s: %s, want peer_corrupt\n", mode, shmb_err_name(rc));
out:
    dp_close(&s);
    return rc;
}

int test_dp_ring_hostile_peer(void)
{
    shmb_client *c = itest_connect();

    CHECK(c != NULL);
    CHECK_INT(dp_attack(c, "head-beyond", SHMB_RING_CONSUMER, 0),
              SHMB_E_PEER_CORRUPT);
    CHECK_INT(dp_attack(c, "head-unaligned", SHMB_RING_CONSUMER, 0),
              SHMB_E_PEER_CORRUPT);
    CHECK_INT(dp_attack(c, "len", SHMB_RING_CONSUMER, 0), SHMB_E_PEER_CORRUPT);
    CHECK_INT(dp_attack(c, "pad-at-zero", SHMB_RING_CONSUMER, 0),
              SHMB_E_PEER_CORRUPT);
    CHECK_INT(dp_attack(c, "tail-ahead", SHMB_RING_PRODUCER, 0),
              SHMB_E_PEER_CORRUPT);
    CHECK_INT(dp_attack(c, "capacity", SHMB_RING_CONSUMER, 1),
              SHMB_E_PEER_CORRUPT);
done:
    shmb_disconnect(c);
    return TEST_RESULT;
}

/* A hostile snapshot writer publishes a length above the capacity: a
 * reader holding a read-only grant gets SHMB_E_PEER_CORRUPT. */
int test_dp_snapshot_hostile_writer(void)
{
    shmb_client *c = itest_connect();
    shmb_region r = {0}, ro = {0};
    shmb_snapshot s;
    unsigned char buf[DP_REGION_SIZE];
    char args[300];
    size_t len;

    CHECK(c != NULL);
    CHECK_OK(c, dp_create(c, "dp-snapevil", 1, &r));
    CHECK_INT(shmb_snapshot_format(r.view, (size_t)r.size, 0), SHMB_OK);
    CHECK_OK(c, shmb_region_open(c, r.name, SHMB_ACCESS_RO, &ro));
    CHECK_OK(c, shmb_region_map(&ro));
    CHECK_INT(shmb_snapshot_attach_reader(&s, ro.view, (size_t)ro.size, NULL),
              SHMB_OK);
    CHECK_INT(
        itest_child(dp_args(args, sizeof(args), "corrupt", r.name, "snap-len")),
        0);
    CHECK_INT(shmb_snapshot_read(&s, buf, sizeof(buf), &len, NULL),
              SHMB_E_PEER_CORRUPT);
done:
    shmb_region_close(&ro);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}

/* The snapshot value: a counter, a payload derived from it, a checksum. */
#define SNAP_WORDS 64
static void snap_make(uint32_t *v, uint32_t counter)
{
    uint32_t i, sum = 0;
    v[0] = counter;
    for (i = 1; i < SNAP_WORDS - 1; i++)
        v[i] = counter * 2654435761u + i;
    for (i = 0; i < SNAP_WORDS - 1; i++)
        sum = sum * 31u + v[i];
    v[SNAP_WORDS - 1] = sum;
}

static int snap_ok(const uint32_t *v)
{
    uint32_t w[SNAP_WORDS];
    snap_make(w, v[0]);
    return memcmp(v, w, sizeof(w)) == 0;
}

/* One writer (read-write grant) publishes a counter; two reader processes,
 * each with only a read-only grant and a wait-only doorbell, see it grow
 * to its last value with every copy intact. Each reader also checks that
 * its SetEvent on the doorbell and a store into its view are refused. */
int test_dp_snapshot_readers_across_processes(void)
{
    shmb_client *c = itest_connect();
    shmb_region r = {0};
    shmb_snapshot w;
    shmb_wait_ops ops;
    shmb_doorbell_ctx ctx;
    itest_proc readers[2] = {ITEST_PROC_INIT, ITEST_PROC_INIT};
    uint32_t v[SNAP_WORDS], i;
    const uint32_t last = 100;
    uint64_t deadline;
    char args[300];

    CHECK(c != NULL);
    CHECK_OK(c, dp_create(c, "dp-snap", 1, &r));
    CHECK_INT(shmb_snapshot_format(r.view, (size_t)r.size, sizeof(v)), SHMB_OK);
    CHECK_INT(shmb_wait_ops_doorbells(&ops, &ctx, &r, SHMB_NO_DOORBELL,
                                      SHMB_SNAPSHOT_BELL_NEW),
              SHMB_OK);
    CHECK_INT(shmb_snapshot_attach_writer(&w, r.view, (size_t)r.size, &ops),
              SHMB_OK);
    snprintf(args, sizeof(args), "child-dp-snapread %s %u", r.name,
             (unsigned)last);
    for (i = 0; i < 2; i++)
        CHECK_INT(itest_child_start(&readers[i], args), 0);
    /* Until both readers have seen `last` (however slowly they started). */
    deadline = GetTickCount64() + 40000;
    for (i = 1;
         itest_child_running(&readers[0]) || itest_child_running(&readers[1]);
         i++) {
        CHECK(GetTickCount64() < deadline);
        snap_make(v, i);
        CHECK_INT(shmb_snapshot_publish(&w, v, sizeof(v)), SHMB_OK);
        Sleep(5);
    }
    CHECK(i > last);
    for (i = 0; i < 2; i++)
        CHECK_INT(itest_child_stop(&readers[i]), 0);
done:
    itest_child_stop(&readers[0]);
    itest_child_stop(&readers[1]);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}

/* ---- the other process ------------------------------------------------ */

static shmb_client *child_open_region(const char *name, shmb_access access,
                                      shmb_region *r)
{
    shmb_client *c = itest_connect();
    if (c == NULL)
        return NULL;
    if (shmb_region_open(c, name, access, r) != SHMB_OK ||
        shmb_region_map(r) != SHMB_OK) {
        fprintf(stderr, "open %s: %s\n", name, shmb_client_message(c));
        shmb_disconnect(c);
        return NULL;
    }
    return c;
}

/* Our `role` end of the ring in region `name`, opened read-write: 0, or
 * the exit code that names the step that failed. */
static int child_ring_open(const char *name, shmb_ring_role role, dp_side *s,
                           shmb_client **c)
{
    *c = child_open_region(name, SHMB_ACCESS_RW, &s->r);
    if (*c == NULL)
        return 3;
    if (dp_ring_end(&s->r, role, &s->ring, &s->ops, &s->ctx) != SHMB_OK)
        return 4;
    return 0;
}

/* Consumer: with `wait`, holds back until told; then reads records 0, 1,
 * ... up to DP_END and checks each; then an empty ring must time out. */
static int child_consume(const char *name, const char *when)
{
    dp_side s = {0};
    shmb_client *c;
    shmb_ring *q = &s.ring;
    unsigned char buf[DP_CAPACITY];
    uint32_t seq = 0, want = 0;
    size_t len = 0;
    uint64_t t0;
    int rc, ret = child_ring_open(name, SHMB_RING_CONSUMER, &s, &c);

    if (ret != 0)
        return ret;
    if (strcmp(when, "wait") == 0 && !child_wait_told())
        return 0;
    for (;;) {
        rc = shmb_ring_read(q, buf, sizeof(buf), &len, ITEST_WAIT_MS);
        if (rc != SHMB_OK) {
            fprintf(stderr, "read %u: %s\n", (unsigned)want, shmb_err_name(rc));
            ret = 5;
            break;
        }
        memcpy(&seq, buf, len >= 4 ? 4 : 0);
        if (len < 4 || (seq != want && seq != DP_END)) {
            fprintf(stderr, "record %u where %u was due\n", (unsigned)seq,
                    (unsigned)want);
            ret = 6;
            break;
        }
        if (rec_check(buf, len, seq, shmb_ring_max_record(q)) != 0) {
            ret = 7;
            break;
        }
        if (seq == DP_END)
            break;
        want++;
    }
    if (ret == 0) {
        t0 = GetTickCount64();
        if (shmb_ring_read(q, buf, sizeof(buf), &len, DP_SHORT_MS) !=
                SHMB_E_TIMEOUT ||
            GetTickCount64() - t0 + DP_CLOCK_SLACK_MS < DP_SHORT_MS)
            ret = 8;
    }
    printf("consumer: %u records in order\n", (unsigned)want);
    dp_close(&s);
    shmb_disconnect(c);
    return ret;
}

/* A consumer that attaches, says so, and never reads. */
static int child_hold(const char *name)
{
    dp_side s = {0};
    shmb_client *c;
    int ret = child_ring_open(name, SHMB_RING_CONSUMER, &s, &c);

    if (ret != 0)
        return ret;
    *u32_at(s.r.view, DP_CONTROL_OFF) = 1;
    while (child_wait_told())
        ;
    dp_close(&s);
    shmb_disconnect(c);
    return 0;
}

/* A producer that commits record 0, writes record 1's header and bytes
 * where they go without moving the head, says so, and waits to be
 * killed. */
static int child_halfwrite(const char *name)
{
    dp_side s = {0};
    shmb_client *c;
    unsigned char *at;
    size_t len;
    int ret = child_ring_open(name, SHMB_RING_PRODUCER, &s, &c);

    if (ret != 0)
        return ret;
    if (dp_write(&s.ring, 0, ITEST_WAIT_MS) != SHMB_OK)
        return 5;
    len = rec_len(1, shmb_ring_max_record(&s.ring));
    at = (unsigned char *)s.r.view + SHMB_RING_HEADER_SIZE +
         (size_t)(*u64_at(s.r.view, RING_OFF_HEAD) & (DP_CAPACITY - 1));
    memset(at + 4, 0, 4);
    rec_make(at + 8, 1, len);
    MemoryBarrier();
    *u32_at(at, 0) = (uint32_t)len;
    MemoryBarrier();
    *u32_at(s.r.view, DP_CONTROL_OFF) = 1;
    while (child_wait_told())
        ;
    return 0; /* not reached: the parent kills us */
}

/* Scribbles over the header like a hostile peer would. */
static int child_corrupt(const char *name, const char *mode)
{
    shmb_region r;
    shmb_client *c = child_open_region(name, SHMB_ACCESS_RW, &r);
    void *h;
    unsigned char *data;
    uint64_t cap;

    if (c == NULL)
        return 3;
    h = r.view;
    data = (unsigned char *)h + SHMB_RING_HEADER_SIZE;
    cap = *u64_at(h, RING_OFF_CAPACITY);
    if (strcmp(mode, "head-beyond") == 0) {
        *u64_at(h, RING_OFF_HEAD) = *u64_at(h, RING_OFF_TAIL) + cap + 8;
    } else if (strcmp(mode, "head-unaligned") == 0) {
        *u64_at(h, RING_OFF_HEAD) = 3;
    } else if (strcmp(mode, "len") == 0) {
        *u32_at(data, 0) = 0x7FFFFFF0u;
        *u64_at(h, RING_OFF_HEAD) = 16;
    } else if (strcmp(mode, "pad-at-zero") == 0) {
        *u32_at(data, 0) = 0xFFFFFFFFu;
        *u64_at(h, RING_OFF_HEAD) = 16;
    } else if (strcmp(mode, "tail-ahead") == 0) {
        *u64_at(h, RING_OFF_TAIL) = *u64_at(h, RING_OFF_HEAD) + 8;
    } else if (strcmp(mode, "capacity") == 0) {
        *u64_at(h, RING_OFF_CAPACITY) = cap * 64; /* beyond the mapping */
    } else if (strcmp(mode, "snap-len") == 0) {
        cap = *u64_at(h, SNAP_OFF_CAPACITY);
        *u64_at(h, SNAP_OFF_LEN) = cap + 1;
        *u64_at(h, SNAP_OFF_SEQ) = 2;
    } else {
        return 2;
    }
    shmb_region_close(&r);
    shmb_disconnect(c);
    return 0;
}

static void *snap_view;

/* A store into the read-only view faults in the kernel: the proof we want,
 * so the process ends with 0 instead of the default crash. */
static LONG CALLBACK snap_write_fault(EXCEPTION_POINTERS *e)
{
    const EXCEPTION_RECORD *x = e->ExceptionRecord;
    if (x->ExceptionCode == EXCEPTION_ACCESS_VIOLATION &&
        x->NumberParameters >= 2 && x->ExceptionInformation[0] == 1 &&
        x->ExceptionInformation[1] == (ULONG_PTR)snap_view) {
        fflush(stdout);
        ExitProcess(0);
    }
    return EXCEPTION_CONTINUE_SEARCH;
}

/* A snapshot reader with a read-only grant: cannot ring the doorbell,
 * sees the counter grow (each copy intact) up to `last`, and cannot store
 * into its view. */
static int child_snapread(const char *name, uint32_t last)
{
    shmb_region r;
    shmb_client *c = child_open_region(name, SHMB_ACCESS_RO, &r);
    shmb_snapshot s;
    shmb_wait_ops ops;
    shmb_doorbell_ctx ctx;
    uint32_t v[SNAP_WORDS], prev = 0, values = 0;
    uint64_t seq = 0, deadline = GetTickCount64() + 30000;
    size_t len;
    int rc;

    if (c == NULL)
        return 3;
    if (r.ndoorbells != 1 || SetEvent((HANDLE)(uintptr_t)r.doorbells[0]) ||
        GetLastError() != ERROR_ACCESS_DENIED)
        return 4;
    if (shmb_wait_ops_doorbells(&ops, &ctx, &r, SHMB_SNAPSHOT_BELL_NEW,
                                SHMB_NO_DOORBELL) != SHMB_OK ||
        shmb_snapshot_attach_reader(&s, r.view, (size_t)r.size, &ops) !=
            SHMB_OK)
        return 5;
    while (prev < last) {
        if (GetTickCount64() > deadline)
            return 6;
        /* Bounded: with two readers one publish's ring wakes only one. */
        rc = shmb_snapshot_wait(&s, seq, 100);
        if (rc == SHMB_E_TIMEOUT)
            continue;
        rc = shmb_snapshot_read(&s, v, sizeof(v), &len, &seq);
        if (rc == SHMB_E_BUSY)
            continue;
        if (rc != SHMB_OK || len != sizeof(v) || (seq & 1) != 0)
            return 7;
        if (!snap_ok(v) || v[0] < prev)
            return 8;
        if (v[0] != prev)
            values++;
        prev = v[0];
    }
    printf("reader: %u distinct values up to %u\n", (unsigned)values,
           (unsigned)prev);
    if (values < 2)
        return 9;
    snap_view = r.view;
    AddVectoredExceptionHandler(1, snap_write_fault);
    *(volatile unsigned char *)r.view = 0;
    return 10; /* the store went through */
}

int dataplane_child_main(int argc, char **argv)
{
    const char *cmd = argv[1];
    if (strcmp(cmd, "child-dp-consume") == 0 && argc == 4)
        return child_consume(argv[2], argv[3]);
    if (strcmp(cmd, "child-dp-hold") == 0 && argc == 3)
        return child_hold(argv[2]);
    if (strcmp(cmd, "child-dp-halfwrite") == 0 && argc == 3)
        return child_halfwrite(argv[2]);
    if (strcmp(cmd, "child-dp-corrupt") == 0 && argc == 4)
        return child_corrupt(argv[2], argv[3]);
    if (strcmp(cmd, "child-dp-snapread") == 0 && argc == 4)
        return child_snapread(argv[2], (uint32_t)strtoul(argv[3], NULL, 10));
    fprintf(stderr, "bad child command %s\n", cmd);
    return 2;
}
