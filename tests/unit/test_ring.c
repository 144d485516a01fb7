/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_ring.c - the message ring over ordinary memory: ordering, wrap,
 * full/empty, limits, a producer dying mid-record, a hostile peer's
 * indices and lengths, timeouts, and two threads moving 100k records.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "dp_sync.h"

/* Byte offsets of docs/dataplane.md, written here as a peer would. */
#define HEAD_OFF 64
#define TAIL_OFF 128
#define DATA_OFF SHMB_RING_HEADER_SIZE

static void put64(unsigned char *p, size_t off, uint64_t v)
{
    memcpy(p + off, &v, sizeof(v));
}

static void put32(unsigned char *p, size_t off, uint32_t v)
{
    memcpy(p + off, &v, sizeof(v));
}

static void fill(unsigned char *b, size_t n, unsigned seed)
{
    size_t i;

    for (i = 0; i < n; i++)
        b[i] = (unsigned char)(seed * 131u + i * 7u);
}

/* Formats a ring of `capacity` in mem and attaches both ends. */
static int ring_pair(void *mem, size_t size, uint64_t capacity, shmb_ring *p,
                     const shmb_wait_ops *pops, shmb_ring *c,
                     const shmb_wait_ops *cops)
{
    int rc = shmb_ring_format(mem, size, capacity);
    if (rc == SHMB_OK)
        rc = shmb_ring_attach(p, mem, size, SHMB_RING_PRODUCER, pops);
    if (rc == SHMB_OK)
        rc = shmb_ring_attach(c, mem, size, SHMB_RING_CONSUMER, cops);
    return rc;
}

int test_ring_order_and_wrap(void)
{
    size_t size = shmb_ring_footprint(256);
    unsigned char *mem = dp_alloc(size);
    unsigned char in[128], out[128];
    shmb_ring p, c;
    size_t n, len;
    unsigned i;

    CHECK(mem != NULL);
    CHECK_INT(ring_pair(mem, size, 256, &p, NULL, &c, NULL), SHMB_OK);
    CHECK_INT(shmb_ring_max_record(&p), 120);
    /* Lengths that do not divide the capacity: the ring wraps (with pad
     * records) many times over. */
    for (i = 0; i < 1000; i++) {
        n = (i * 37u) % 61u; /* two queued + a pad fit */
        fill(in, n, i);
        CHECK_INT(shmb_ring_write(&p, in, n, 0), SHMB_OK);
        if (i % 3 == 0)
            continue; /* let two records queue up now and then */
        while (shmb_ring_read(&c, out, sizeof(out), &len, 0) == SHMB_OK) {
            CHECK(len <= sizeof(out));
        }
    }
    /* Now strictly in step, checking contents and order. */
    while (shmb_ring_read(&c, out, sizeof(out), &len, 0) == SHMB_OK)
        ;
    for (i = 0; i < 1000; i++) {
        n = (i * 53u) % 113u; /* with a pad and the 5 */
        fill(in, n, i);
        CHECK_INT(shmb_ring_write(&p, in, n, 0), SHMB_OK);
        fill(in, 5, i + 1);
        CHECK_INT(shmb_ring_write(&p, in, 5, 0), SHMB_OK);
        CHECK_INT(shmb_ring_read(&c, out, sizeof(out), &len, 0), SHMB_OK);
        fill(in, n, i);
        CHECK_INT(len, n);
        CHECK(memcmp(in, out, n) == 0);
        CHECK_INT(shmb_ring_read(&c, out, sizeof(out), &len, 0), SHMB_OK);
        fill(in, 5, i + 1);
        CHECK_INT(len, 5);
        CHECK(memcmp(in, out, 5) == 0);
    }
    CHECK(p.pos > 100 * 256); /* wrapped many times */
done:
    dp_free(mem);
    return TEST_RESULT;
}

int test_ring_full_and_empty(void)
{
    size_t size = shmb_ring_footprint(256);
    unsigned char *mem = dp_alloc(size);
    unsigned char buf[64];
    shmb_ring p, c;
    size_t len;
    int k = 0;

    CHECK(mem != NULL);
    CHECK_INT(ring_pair(mem, size, 0, &p, NULL, &c, NULL), SHMB_OK);
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0), SHMB_E_TIMEOUT);
    CHECK_INT(len, 0);
    memset(buf, 0x5a, sizeof(buf));
    /* 24-byte records (16 + header 8): ten and two thirds fit in 256. */
    while (shmb_ring_write(&p, buf, 16, 0) == SHMB_OK)
        k++;
    CHECK_INT(k, 10);
    CHECK_INT(shmb_ring_write(&p, buf, 16, 0), SHMB_E_TIMEOUT);
    CHECK_INT(shmb_ring_write(&p, buf, 8, 0), SHMB_OK); /* 16 bytes fit */
    CHECK_INT(shmb_ring_write(&p, NULL, 0, 0), SHMB_E_TIMEOUT);
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0), SHMB_OK);
    CHECK_INT(len, 16);
    CHECK_INT(shmb_ring_write(&p, buf, 16, 0), SHMB_OK);
    for (k = 0; k < 11; k++)
        CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0), SHMB_OK);
    CHECK_INT(len, 16);
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0), SHMB_E_TIMEOUT);
    /* Zero-length records are records. */
    CHECK_INT(shmb_ring_write(&p, NULL, 0, 0), SHMB_OK);
    CHECK_INT(shmb_ring_read(&c, NULL, 0, &len, 0), SHMB_OK);
    CHECK_INT(len, 0);
done:
    dp_free(mem);
    return TEST_RESULT;
}

int test_ring_oversized_refused(void)
{
    size_t size = shmb_ring_footprint(1024);
    unsigned char *mem = dp_alloc(size);
    unsigned char *big = malloc(2048), small[16];
    shmb_ring p, c;
    size_t len = 0, max;
    unsigned k;

    CHECK(mem != NULL && big != NULL);
    CHECK_INT(ring_pair(mem, size, 1024, &p, NULL, &c, NULL), SHMB_OK);
    max = shmb_ring_max_record(&p);
    CHECK_INT(max, 504);
    CHECK_INT(shmb_ring_write(&p, big, 2048, 0), SHMB_E_INVALID_SIZE);
    CHECK_INT(shmb_ring_write(&p, big, max + 1, 0), SHMB_E_INVALID_SIZE);
    /* The largest record fits an empty ring wherever the wrap point is. */
    for (k = 0; k < 50; k++) {
        fill(big, max, k);
        CHECK_INT(shmb_ring_write(&p, big, max, 0), SHMB_OK);
        CHECK_INT(shmb_ring_write(&p, big, 3, 0), SHMB_OK);
        CHECK_INT(shmb_ring_read(&c, big + 1024, 1024, &len, 0), SHMB_OK);
        CHECK_INT(len, max);
        CHECK(memcmp(big, big + 1024, max) == 0);
        CHECK_INT(shmb_ring_read(&c, big + 1024, 1024, &len, 0), SHMB_OK);
    }
    /* A buffer too small: told the size, the record stays. */
    CHECK_INT(shmb_ring_write(&p, big, 100, 0), SHMB_OK);
    CHECK_INT(shmb_ring_read(&c, small, sizeof(small), &len, 0),
              SHMB_E_INVALID_SIZE);
    CHECK_INT(len, 100);
    CHECK_INT(shmb_ring_read(&c, big + 1024, 1024, &len, 0), SHMB_OK);
    CHECK_INT(len, 100);
    /* Bad formats. */
    CHECK_INT(shmb_ring_format(mem, size, 1000), SHMB_E_INVALID_ARG);
    CHECK_INT(shmb_ring_format(mem, size, 2048), SHMB_E_INVALID_ARG);
    CHECK_INT(shmb_ring_format(mem, size, 32), SHMB_E_INVALID_ARG);
    CHECK_INT(shmb_ring_format(mem + 8, size - 8, 0), SHMB_E_INVALID_ARG);
done:
    free(big);
    dp_free(mem);
    return TEST_RESULT;
}

int test_ring_producer_death_mid_record(void)
{
    size_t size = shmb_ring_footprint(256);
    unsigned char *mem = dp_alloc(size);
    unsigned char buf[64];
    shmb_ring p, c;
    size_t len;

    CHECK(mem != NULL);
    CHECK_INT(ring_pair(mem, size, 256, &p, NULL, &c, NULL), SHMB_OK);
    CHECK_INT(shmb_ring_write(&p, "abc", 3, 0), SHMB_OK);
    /* The producer writes a second record's length and bytes, then dies
     * before advancing the head. */
    put32(mem, DATA_OFF + 16, 40);
    memset(mem + DATA_OFF + 24, 'x', 40);
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0), SHMB_OK);
    CHECK_INT(len, 3);
    CHECK(memcmp(buf, "abc", 3) == 0);
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0), SHMB_E_TIMEOUT);
    CHECK_INT(len, 0);
    /* A new producer attaches where the dead one's head was and its
     * record replaces the half-written one. */
    CHECK_INT(shmb_ring_attach(&p, mem, size, SHMB_RING_PRODUCER, NULL),
              SHMB_OK);
    CHECK_INT(shmb_ring_write(&p, "de", 2, 0), SHMB_OK);
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0), SHMB_OK);
    CHECK_INT(len, 2);
    CHECK(memcmp(buf, "de", 2) == 0);
done:
    dp_free(mem);
    return TEST_RESULT;
}

/* A fresh ring with one 3-byte record at offset 0 (head 16, tail 0). */
static int one_record(unsigned char *mem, size_t size, shmb_ring *c)
{
    shmb_ring p;

    if (shmb_ring_format(mem, size, 256) != SHMB_OK ||
        shmb_ring_attach(&p, mem, size, SHMB_RING_PRODUCER, NULL) != SHMB_OK ||
        shmb_ring_attach(c, mem, size, SHMB_RING_CONSUMER, NULL) != SHMB_OK)
        return -1;
    return shmb_ring_write(&p, "abc", 3, 0);
}

int test_ring_corrupt_indices(void)
{
    size_t size = shmb_ring_footprint(256);
    unsigned char *mem = dp_alloc(size);
    unsigned char buf[256];
    shmb_ring p, c;
    size_t len;

    CHECK(mem != NULL);
    /* The consumer's view of a hostile producer. */
    CHECK_INT(one_record(mem, size, &c), SHMB_OK);
    put64(mem, HEAD_OFF, (uint64_t)-8); /* head behind tail */
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0),
              SHMB_E_PEER_CORRUPT);
    put64(mem, HEAD_OFF, 256 + 8); /* beyond tail + capacity */
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0),
              SHMB_E_PEER_CORRUPT);
    put64(mem, HEAD_OFF, 13); /* misaligned */
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0),
              SHMB_E_PEER_CORRUPT);
    put64(mem, HEAD_OFF, 16);
    put32(mem, DATA_OFF, 1000); /* length beyond the capacity */
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0),
              SHMB_E_PEER_CORRUPT);
    put32(mem, DATA_OFF, 100); /* length beyond the published head */
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0),
              SHMB_E_PEER_CORRUPT);
    put32(mem, DATA_OFF, 0xFFFFFFFFu); /* a pad at offset 0 */
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0),
              SHMB_E_PEER_CORRUPT);
    put32(mem, DATA_OFF, 3); /* repaired: the same end reads on */
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0), SHMB_OK);
    CHECK_INT(len, 3);
    /* A record that would cross the end of the data area. */
    put64(mem, TAIL_OFF, 240);
    put64(mem, HEAD_OFF, 240 + 24);
    CHECK_INT(shmb_ring_attach(&c, mem, size, SHMB_RING_CONSUMER, NULL),
              SHMB_OK);
    put32(mem, DATA_OFF + 240, 16);
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0),
              SHMB_E_PEER_CORRUPT);
    /* A pad published without the record after it. */
    put64(mem, HEAD_OFF, 256);
    put32(mem, DATA_OFF + 240, 0xFFFFFFFFu);
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0),
              SHMB_E_PEER_CORRUPT);

    /* The producer's view of a hostile consumer. */
    CHECK_INT(one_record(mem, size, &c), SHMB_OK);
    CHECK_INT(shmb_ring_attach(&p, mem, size, SHMB_RING_PRODUCER, NULL),
              SHMB_OK);
    put64(mem, TAIL_OFF, 24); /* tail ahead of head */
    CHECK_INT(shmb_ring_write(&p, "x", 1, 0), SHMB_E_PEER_CORRUPT);
    put64(mem, TAIL_OFF, 4); /* misaligned */
    CHECK_INT(shmb_ring_write(&p, "x", 1, 0), SHMB_E_PEER_CORRUPT);
    put64(mem, TAIL_OFF, 0);
    CHECK_INT(shmb_ring_write(&p, "x", 1, 0), SHMB_OK);

    /* Attach refuses a header no honest side wrote. */
    CHECK_INT(one_record(mem, size, &c), SHMB_OK);
    put64(mem, 8, 300); /* capacity not a power of two */
    CHECK_INT(shmb_ring_attach(&c, mem, size, SHMB_RING_CONSUMER, NULL),
              SHMB_E_PEER_CORRUPT);
    put64(mem, 8, 512); /* beyond the mapping */
    CHECK_INT(shmb_ring_attach(&c, mem, size, SHMB_RING_CONSUMER, NULL),
              SHMB_E_PEER_CORRUPT);
    put64(mem, 8, 256);
    put64(mem, HEAD_OFF, 1u << 20);
    CHECK_INT(shmb_ring_attach(&c, mem, size, SHMB_RING_CONSUMER, NULL),
              SHMB_E_PEER_CORRUPT);
    put32(mem, 0, 0);
    CHECK_INT(shmb_ring_attach(&c, mem, size, SHMB_RING_CONSUMER, NULL),
              SHMB_E_PEER_CORRUPT);
done:
    dp_free(mem);
    return TEST_RESULT;
}

int test_ring_stuck_consumer_times_out(void)
{
    size_t size = shmb_ring_footprint(256);
    unsigned char *mem = dp_alloc(size);
    dp_bell *pb = dp_bell_new(), *cb = dp_bell_new();
    dp_end pe = {pb, cb}, ce = {cb, pb};
    shmb_wait_ops pops, cops;
    unsigned char buf[100] = {0};
    shmb_ring p, c;
    uint64_t t0, el;
    size_t len;

    CHECK(mem != NULL && pb != NULL && cb != NULL);
    dp_ops(&pops, &pe);
    dp_ops(&cops, &ce);
    CHECK_INT(ring_pair(mem, size, 256, &p, &pops, &c, &cops), SHMB_OK);
    CHECK_INT(shmb_ring_write(&p, buf, 100, 0), SHMB_OK);
    CHECK_INT(shmb_ring_write(&p, buf, 100, 0), SHMB_OK);
    /* Full; the consumer never reads. The producer sleeps, then gives up. */
    t0 = shmb_clock_ms();
    CHECK_INT(shmb_ring_write(&p, buf, 100, 200), SHMB_E_TIMEOUT);
    el = shmb_clock_ms() - t0;
    CHECK(el >= 150 && el < 5000);
    CHECK(dp_bell_waits(pb) >= 1);
    /* And a consumer waiting on an empty ring gives up too. */
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0), SHMB_OK);
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0), SHMB_OK);
    t0 = shmb_clock_ms();
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 100), SHMB_E_TIMEOUT);
    CHECK(shmb_clock_ms() - t0 >= 80);
    CHECK(dp_bell_waits(cb) >= 1);
done:
    dp_bell_free(pb);
    dp_bell_free(cb);
    dp_free(mem);
    return TEST_RESULT;
}

#define MOVE_RECORDS 100000u

typedef struct move_ctx {
    shmb_ring ring;
    uint64_t sum;
    int rc;
} move_ctx;

static uint64_t mix(uint64_t h, const unsigned char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h ^ n;
}

static int producer_main(void *arg)
{
    move_ctx *m = arg;
    unsigned char buf[300];
    size_t n;
    unsigned i;
    int rc;

    m->sum = 14695981039346656037ull;
    for (i = 0; i < MOVE_RECORDS; i++) {
        n = (i * 2654435761u) % 301u;
        fill(buf, n, i);
        rc = shmb_ring_write(&m->ring, buf, n, 10000);
        if (rc != SHMB_OK)
            return rc;
        m->sum = mix(m->sum, buf, n);
    }
    return 0;
}

int test_ring_threads_100k(void)
{
    size_t size = shmb_ring_footprint(4096);
    unsigned char *mem = dp_alloc(size);
    dp_bell *pb = dp_bell_new(), *cb = dp_bell_new();
    dp_end pe = {pb, cb}, ce = {cb, pb};
    shmb_wait_ops pops, cops;
    move_ctx prod;
    dp_thread *t = NULL;
    unsigned char buf[512];
    uint64_t sum = 14695981039346656037ull;
    shmb_ring c;
    size_t len, want;
    unsigned i;
    int rc;

    CHECK(mem != NULL && pb != NULL && cb != NULL);
    dp_ops(&pops, &pe);
    dp_ops(&cops, &ce);
    CHECK_INT(shmb_ring_format(mem, size, 4096), SHMB_OK);
    CHECK_INT(
        shmb_ring_attach(&prod.ring, mem, size, SHMB_RING_PRODUCER, &pops),
        SHMB_OK);
    CHECK_INT(shmb_ring_attach(&c, mem, size, SHMB_RING_CONSUMER, &cops),
              SHMB_OK);
    t = dp_thread_start(producer_main, &prod);
    CHECK(t != NULL);
    for (i = 0; i < MOVE_RECORDS; i++) {
        rc = shmb_ring_read(&c, buf, sizeof(buf), &len, 10000);
        if (rc != SHMB_OK)
            FAIL("record %u: %d", i, rc);
        want = (i * 2654435761u) % 301u;
        if (len != want)
            FAIL("record %u: %zu bytes, want %zu", i, len, want);
        sum = mix(sum, buf, len);
        if (i % 20000 == 0)
            shmb_sleep_ms(5); /* let the producer fill up and sleep */
    }
    rc = dp_thread_join(t);
    t = NULL;
    CHECK_INT(rc, 0);
    CHECK(sum == prod.sum);
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &len, 0), SHMB_E_TIMEOUT);
done:
    if (t != NULL)
        dp_thread_join(t); /* the producer times out on its own */
    dp_bell_free(pb);
    dp_bell_free(cb);
    dp_free(mem);
    return TEST_RESULT;
}

/* Every holder of the region's doorbells can take a wake-up meant for a
 * ring end (even a read-only grantee may wait on them): an end that sleeps
 * looks at the indices again every slice, never sleeps out its whole
 * timeout. */
int test_ring_wait_in_slices(void)
{
    size_t size = (size_t)shmb_ring_footprint(256);
    unsigned char *mem = dp_alloc(size);
    dp_virtual_wait v;
    shmb_wait_ops ops;
    shmb_ring c;
    char buf[64];
    size_t n = 0;

    dp_virtual_ops(&ops, &v);
    CHECK(mem != NULL);
    CHECK_INT(shmb_ring_format(mem, size, 256), SHMB_OK);
    CHECK_INT(shmb_ring_attach(&c, mem, size, SHMB_RING_CONSUMER, &ops),
              SHMB_OK);
    CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &n, 1000), SHMB_E_TIMEOUT);
    CHECK(v.longest <= SHMB_RING_WAIT_SLICE_MS);
    CHECK(v.waits >= 1000 / SHMB_RING_WAIT_SLICE_MS);
    CHECK(v.now >= 1000 && v.now < 1000 + SHMB_RING_WAIT_SLICE_MS);
done:
    dp_free(mem);
    return TEST_RESULT;
}

/* A consumer wakes a producer asleep on a full ring once half of it is
 * free, not after every record (a wake per record costs a sleep and a wake
 * in the kernel each: what held the ring at a third of its speed). */
int test_ring_wakes_producer_at_half(void)
{
    size_t size = (size_t)shmb_ring_footprint(4096);
    unsigned char *mem = dp_alloc(size);
    dp_virtual_wait pv, cv;
    shmb_wait_ops pops, cops;
    shmb_ring p, c;
    unsigned char rec[248]; /* + 8 bytes of header: 16 fill the ring */
    char buf[256];
    size_t n = 0;
    int i;

    dp_virtual_ops(&pops, &pv);
    dp_virtual_ops(&cops, &cv);
    CHECK(mem != NULL);
    memset(rec, 7, sizeof(rec));
    CHECK_INT(ring_pair(mem, size, 4096, &p, &pops, &c, &cops), SHMB_OK);
    for (i = 0; i < 16; i++)
        CHECK_INT(shmb_ring_write(&p, rec, sizeof(rec), 0), SHMB_OK);
    CHECK_INT(shmb_ring_write(&p, rec, sizeof(rec), 0), SHMB_E_TIMEOUT);
    /* The producer is asleep on it (its flag, as ring_await sets it). */
    *(volatile uint32_t *)(mem + 72) = 1;
    for (i = 1; i <= 16; i++) {
        CHECK_INT(shmb_ring_read(&c, buf, sizeof(buf), &n, 0), SHMB_OK);
        if (i < 8 && cv.wakes != 0)
            FAIL("woken after %d records read, with %d of 16 still unread", i,
                 16 - i);
        if (i == 8)
            CHECK_INT(cv.wakes, 1); /* half free: woken */
    }
done:
    dp_free(mem);
    return TEST_RESULT;
}

/* The other side of that: a producer asleep on a full ring that gets room
 * for its record while more than half is still unread is not woken - it
 * finds the room at the end of its slice, not at its timeout. */
typedef struct one_read {
    dp_virtual_wait v; /* first: the producer's virtual clock */
    shmb_ring *consumer;
    int reads;
} one_read;

static void read_one_then_sleep(void *ctx, uint32_t timeout_ms)
{
    one_read *o = ctx;
    char buf[256];
    size_t n = 0;
    o->v.waits++;
    o->v.now += timeout_ms;
    if (o->reads++ == 0) /* the consumer takes one record meanwhile */
        (void)shmb_ring_read(o->consumer, buf, sizeof(buf), &n, 0);
}

static uint64_t one_read_now(void *ctx)
{
    return ((one_read *)ctx)->v.now;
}

static void one_read_wake(void *ctx)
{
    ((one_read *)ctx)->v.wakes++;
}

int test_ring_producer_finds_room_within_a_slice(void)
{
    size_t size = (size_t)shmb_ring_footprint(4096);
    unsigned char *mem = dp_alloc(size);
    dp_virtual_wait cv;
    one_read o;
    shmb_wait_ops pops = {read_one_then_sleep, one_read_wake, one_read_now, &o};
    shmb_wait_ops cops;
    shmb_ring p, c;
    unsigned char rec[248];
    int i;

    memset(&o, 0, sizeof(o));
    o.consumer = &c;
    dp_virtual_ops(&cops, &cv);
    CHECK(mem != NULL);
    memset(rec, 9, sizeof(rec));
    CHECK_INT(ring_pair(mem, size, 4096, &p, &pops, &c, &cops), SHMB_OK);
    for (i = 0; i < 16; i++)
        CHECK_INT(shmb_ring_write(&p, rec, sizeof(rec), 0), SHMB_OK);
    /* Full: the producer sleeps; during its first slice one record is
     * taken (15 of 16 still unread: no wake); the next look finds room. */
    CHECK_INT(shmb_ring_write(&p, rec, sizeof(rec), 5000), SHMB_OK);
    CHECK_INT(cv.wakes, 0);
    CHECK_INT(o.v.waits, 1);
    CHECK(o.v.now <= SHMB_RING_WAIT_SLICE_MS);
done:
    dp_free(mem);
    return TEST_RESULT;
}
