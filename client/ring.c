/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ring.c - the single-producer / single-consumer message ring
 * (shmb_dataplane.h; layout and ordering in docs/dataplane.md).
 *
 * Each end keeps its own index privately and only ever reads the peer's
 * index from the shared header, once per look, validating it against the
 * capacity it learnt at attach. A peer that scribbles over our own index in
 * the header changes nothing we do; one that scribbles over its own can
 * only make us return SHMB_E_PEER_CORRUPT or time out.
 */
#include <string.h>

#include "shmb_dataplane.h"
#include "atomic_ops.h"

#define RING_MAGIC 0x524D4853u /* "SHMR" little-endian */
#define RING_VERSION 1u

/* Byte offsets in the header: the producer's line, the consumer's line. */
#define OFF_MAGIC 0
#define OFF_VERSION 4
#define OFF_CAPACITY 8
#define OFF_HEAD 64
#define OFF_PRODUCER_SLEEPING 72
#define OFF_TAIL 128
#define OFF_CONSUMER_SLEEPING 136

/* Record header: u32 length, u32 zero; payload padded to 8 bytes. */
#define REC_HDR 8u
#define REC_PAD 0xFFFFFFFFu

/* Looks before the first sleep, with a CPU pause between (a few to some
 * tens of microseconds in all, by CPU): on the order of a 64 KiB record's
 * copy, so that a side whose peer is just behind does not pay a sleep and
 * a wake (kernel round trips) per record. */
#define RING_SPIN 1024

static volatile uint64_t *u64_at(unsigned char *p, size_t off)
{
    return (volatile uint64_t *)(void *)(p + off);
}

static volatile uint32_t *u32_at(unsigned char *p, size_t off)
{
    return (volatile uint32_t *)(void *)(p + off);
}

static uint64_t rec_size(uint64_t len)
{
    return REC_HDR + ((len + 7u) & ~(uint64_t)7u);
}

static int is_pow2(uint64_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

uint64_t shmb_ring_footprint(uint64_t capacity)
{
    return SHMB_RING_HEADER_SIZE + capacity;
}

int shmb_ring_format(void *mem, size_t size, uint64_t capacity)
{
    unsigned char *p = mem;

    if (p == NULL || ((uintptr_t)p & 63u) != 0 ||
        size < SHMB_RING_HEADER_SIZE + SHMB_RING_MIN_CAPACITY)
        return SHMB_E_INVALID_ARG;
    if (capacity == 0) {
        capacity = SHMB_RING_MAX_CAPACITY;
        while (capacity > size - SHMB_RING_HEADER_SIZE)
            capacity >>= 1;
    }
    if (!is_pow2(capacity) || capacity < SHMB_RING_MIN_CAPACITY ||
        capacity > SHMB_RING_MAX_CAPACITY ||
        capacity > size - SHMB_RING_HEADER_SIZE)
        return SHMB_E_INVALID_ARG;
    memset(p, 0, SHMB_RING_HEADER_SIZE);
    *u32_at(p, OFF_VERSION) = RING_VERSION;
    *u64_at(p, OFF_CAPACITY) = capacity;
    shmb_fence_release();
    shmb_store_relaxed32(u32_at(p, OFF_MAGIC), RING_MAGIC);
    return SHMB_OK;
}

int shmb_ring_attach(shmb_ring *r, void *mem, size_t size, shmb_ring_role role,
                     const shmb_wait_ops *ops)
{
    unsigned char *p = mem;
    uint64_t cap, head, tail;

    if (r == NULL || p == NULL || ((uintptr_t)p & 7u) != 0 ||
        (role != SHMB_RING_PRODUCER && role != SHMB_RING_CONSUMER) ||
        (ops != NULL &&
         (ops->wait == NULL || ops->wake == NULL || ops->now_ms == NULL)))
        return SHMB_E_INVALID_ARG;
    memset(r, 0, sizeof(*r));
    if (size < SHMB_RING_HEADER_SIZE)
        return SHMB_E_PEER_CORRUPT;
    if (shmb_load_relaxed32(u32_at(p, OFF_MAGIC)) != RING_MAGIC)
        return SHMB_E_PEER_CORRUPT;
    shmb_fence_acquire();
    cap = shmb_load_relaxed64(u64_at(p, OFF_CAPACITY));
    if (shmb_load_relaxed32(u32_at(p, OFF_VERSION)) != RING_VERSION ||
        !is_pow2(cap) || cap < SHMB_RING_MIN_CAPACITY ||
        cap > SHMB_RING_MAX_CAPACITY || cap > size - SHMB_RING_HEADER_SIZE)
        return SHMB_E_PEER_CORRUPT;
    head = shmb_load_acquire64(u64_at(p, OFF_HEAD));
    tail = shmb_load_acquire64(u64_at(p, OFF_TAIL));
    if ((head & 7u) != 0 || (tail & 7u) != 0 || head - tail > cap)
        return SHMB_E_PEER_CORRUPT;
    r->hdr = p;
    r->data = p + SHMB_RING_HEADER_SIZE;
    r->capacity = cap;
    r->pos = role == SHMB_RING_PRODUCER ? head : tail;
    r->role = (int)role;
    if (ops != NULL) {
        r->has_ops = 1;
        r->ops = *ops;
    }
    return SHMB_OK;
}

size_t shmb_ring_max_record(const shmb_ring *r)
{
    return r == NULL || r->capacity == 0 ? 0
                                         : (size_t)(r->capacity / 2 - REC_HDR);
}

/* 1: go on (*peer is the peer's validated index); 0: not yet; <0 error.
 * The producer waits for `need` free bytes, the consumer for any record. */
static int ring_probe(shmb_ring *r, uint64_t need, uint64_t *peer)
{
    uint64_t v, used;

    if (r->role == SHMB_RING_PRODUCER) {
        /* acquire: the consumer's copies out of the bytes we are about to
         * overwrite happened before it advanced the tail. */
        v = shmb_load_acquire64(u64_at(r->hdr, OFF_TAIL));
        used = r->pos - v;
    } else {
        /* acquire: the record's bytes are visible once the head is. */
        v = shmb_load_acquire64(u64_at(r->hdr, OFF_HEAD));
        used = v - r->pos;
    }
    /* Unsigned: an index behind ours wraps to a huge distance. */
    if ((v & 7u) != 0 || used > r->capacity)
        return SHMB_E_PEER_CORRUPT;
    *peer = v;
    if (r->role == SHMB_RING_PRODUCER)
        return r->capacity - used >= need;
    return used != 0;
}

/* Spins briefly, then sleeps on our doorbell with our "sleeping" flag set
 * until the probe says go, it fails, or timeout_ms has passed. It sleeps
 * at most SHMB_RING_WAIT_SLICE_MS at a time and looks again: every
 * grantee of the region holds its doorbells, and one that waits on ours
 * (even a read-only one may) takes the wake-up meant for us. */
static int ring_await(shmb_ring *r, uint64_t need, uint64_t *peer,
                      uint32_t timeout_ms)
{
    volatile uint32_t *flag =
        u32_at(r->hdr, r->role == SHMB_RING_PRODUCER ? OFF_PRODUCER_SLEEPING
                                                     : OFF_CONSUMER_SLEEPING);
    uint64_t start, spent;
    int i, rc;

    for (i = 0; i < RING_SPIN; i++) {
        rc = ring_probe(r, need, peer);
        if (rc != 0)
            return rc < 0 ? rc : SHMB_OK;
        shmb_cpu_relax();
    }
    if (!r->has_ops || timeout_ms == 0)
        return SHMB_E_TIMEOUT;
    start = r->ops.now_ms(r->ops.ctx);
    for (;;) {
        /* Flag, full fence, look again: the peer publishes, fences, then
         * reads the flag, so one of us sees the other (no lost wake-up). */
        shmb_store_relaxed32(flag, 1);
        shmb_fence_seq_cst();
        rc = ring_probe(r, need, peer);
        if (rc == 0) {
            spent = r->ops.now_ms(r->ops.ctx) - start;
            if (spent >= timeout_ms)
                rc = SHMB_E_TIMEOUT;
            else /* in slices: a wake-up someone else took costs one */
                r->ops.wait(r->ops.ctx,
                            timeout_ms - spent < SHMB_RING_WAIT_SLICE_MS
                                ? (uint32_t)(timeout_ms - spent)
                                : SHMB_RING_WAIT_SLICE_MS);
        }
        shmb_store_relaxed32(flag, 0);
        if (rc != 0)
            return rc < 0 ? rc : SHMB_OK;
    }
}

/* After publishing our index: ring the peer's doorbell if it sleeps -
 * unless `worth` is 0 (see shmb_ring_read). */
static void ring_wake_peer(shmb_ring *r, int worth)
{
    size_t off = r->role == SHMB_RING_PRODUCER ? OFF_CONSUMER_SLEEPING
                                               : OFF_PRODUCER_SLEEPING;

    if (!r->has_ops || !worth)
        return;
    shmb_fence_seq_cst();
    if (shmb_load_relaxed32(u32_at(r->hdr, off)) != 0)
        r->ops.wake(r->ops.ctx);
}

int shmb_ring_write(shmb_ring *r, const void *buf, size_t len,
                    uint32_t timeout_ms)
{
    uint64_t rec, off, room, need, tail;
    unsigned char *rp;
    int rc;

    if (r == NULL || r->role != SHMB_RING_PRODUCER || (buf == NULL && len))
        return SHMB_E_INVALID_ARG;
    if (len > shmb_ring_max_record(r))
        return SHMB_E_INVALID_SIZE;
    rec = rec_size(len);
    off = r->pos & (r->capacity - 1);
    room = r->capacity - off;
    /* Records never wrap: one that does not fit before the end follows a
     * pad record that fills the rest. */
    need = rec <= room ? rec : room + rec;
    rc = ring_await(r, need, &tail, timeout_ms);
    if (rc != SHMB_OK)
        return rc;
    if (rec > room) {
        shmb_store_relaxed32(u32_at(r->data, (size_t)off), REC_PAD);
        r->pos += room;
        off = 0;
    }
    rp = r->data + off;
    shmb_store_relaxed32(u32_at(rp, 0), (uint32_t)len);
    shmb_store_relaxed32(u32_at(rp, 4), 0);
    if (len != 0)
        memcpy(rp + REC_HDR, buf, len);
    r->pos += rec;
    /* release: the record is in place before the head says so. */
    shmb_store_release64(u64_at(r->hdr, OFF_HEAD), r->pos);
    ring_wake_peer(r, 1);
    return SHMB_OK;
}

int shmb_ring_read(shmb_ring *r, void *buf, size_t buf_size, size_t *len,
                   uint32_t timeout_ms)
{
    uint64_t head, avail, off, rec, skip;
    uint32_t n;
    int rc;

    if (r == NULL || r->role != SHMB_RING_CONSUMER || len == NULL ||
        (buf == NULL && buf_size))
        return SHMB_E_INVALID_ARG;
    *len = 0;
    rc = ring_await(r, 0, &head, timeout_ms);
    if (rc != SHMB_OK)
        return rc;
    avail = head - r->pos; /* validated: 8-aligned, 1..capacity */
    off = r->pos & (r->capacity - 1);
    n = shmb_load_relaxed32(u32_at(r->data, (size_t)off)); /* read once */
    if (n == REC_PAD) {
        /* An honest producer pads only a tail end (never at offset 0)
         * and publishes the pad with the record after it. */
        skip = r->capacity - off;
        if (off == 0 || skip >= avail)
            return SHMB_E_PEER_CORRUPT;
        r->pos += skip;
        avail -= skip;
        off = 0;
        n = shmb_load_relaxed32(u32_at(r->data, 0));
    }
    if (n > shmb_ring_max_record(r))
        return SHMB_E_PEER_CORRUPT;
    rec = rec_size(n);
    if (rec > avail || rec > r->capacity - off)
        return SHMB_E_PEER_CORRUPT;
    if (n > buf_size) {
        *len = n;
        rc = SHMB_E_INVALID_SIZE;
    } else {
        if (n != 0)
            memcpy(buf, r->data + off + REC_HDR, n);
        *len = n;
        r->pos += rec;
    }
    /* release: our copy is done before the producer may reuse the bytes. */
    shmb_store_release64(u64_at(r->hdr, OFF_TAIL), r->pos);
    /* A producer asleep on a full ring is woken once half of it is free,
     * not after every record: otherwise a producer faster than us pays a
     * sleep and a wake (kernel round trips) per record. A producer left
     * asleep with less free looks again within SHMB_RING_WAIT_SLICE_MS. */
    ring_wake_peer(r, head - r->pos <= r->capacity / 2);
    return rc;
}
