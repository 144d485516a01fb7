/* SPDX-License-Identifier: MPL-2.0 */
/*
 * snapshot.c - one writer, many read-only readers: the latest value under a
 * sequence lock (shmb_dataplane.h; layout in docs/dataplane.md).
 *
 * Readers never store to the region (their grant is read-only): they copy,
 * then check that the sequence did not move. The length is read once and
 * checked against the capacity before the copy, so a hostile writer can
 * make a reader fail but never read out of bounds or loop unboundedly.
 */
#include <string.h>

#include "shmb_dataplane.h"
#include "atomic_ops.h"

#define SNAP_MAGIC 0x534D4853u /* "SHMS" little-endian */
#define SNAP_VERSION 1u

#define OFF_MAGIC 0
#define OFF_VERSION 4
#define OFF_CAPACITY 8
#define OFF_SEQ 64
#define OFF_LEN 72

#define SNAP_SPIN 64

static volatile uint64_t *u64_at(unsigned char *p, size_t off)
{
    return (volatile uint64_t *)(void *)(p + off);
}

static const volatile uint64_t *cu64_at(const unsigned char *p, size_t off)
{
    return (const volatile uint64_t *)(const void *)(p + off);
}

static const volatile uint32_t *cu32_at(const unsigned char *p, size_t off)
{
    return (const volatile uint32_t *)(const void *)(p + off);
}

uint64_t shmb_snapshot_footprint(uint64_t capacity)
{
    return SHMB_SNAPSHOT_HEADER_SIZE + capacity;
}

int shmb_snapshot_format(void *mem, size_t size, uint64_t capacity)
{
    unsigned char *p = mem;

    if (p == NULL || ((uintptr_t)p & 63u) != 0 ||
        size <= SHMB_SNAPSHOT_HEADER_SIZE)
        return SHMB_E_INVALID_ARG;
    if (capacity == 0)
        capacity = size - SHMB_SNAPSHOT_HEADER_SIZE;
    if (capacity > size - SHMB_SNAPSHOT_HEADER_SIZE)
        return SHMB_E_INVALID_ARG;
    memset(p, 0, SHMB_SNAPSHOT_HEADER_SIZE);
    *(volatile uint32_t *)(void *)(p + OFF_VERSION) = SNAP_VERSION;
    *u64_at(p, OFF_CAPACITY) = capacity;
    shmb_fence_release();
    *(volatile uint32_t *)(void *)(p + OFF_MAGIC) = SNAP_MAGIC;
    return SHMB_OK;
}

/* Header checks shared by both ends; *cap the validated capacity. */
static int snap_check(const unsigned char *p, size_t size, uint64_t *cap)
{
    uint64_t c;

    if (size < SHMB_SNAPSHOT_HEADER_SIZE ||
        shmb_load_relaxed32(cu32_at(p, OFF_MAGIC)) != SNAP_MAGIC)
        return SHMB_E_PEER_CORRUPT;
    shmb_fence_acquire();
    c = shmb_load_relaxed64(cu64_at(p, OFF_CAPACITY));
    if (shmb_load_relaxed32(cu32_at(p, OFF_VERSION)) != SNAP_VERSION ||
        c == 0 || c > size - SHMB_SNAPSHOT_HEADER_SIZE)
        return SHMB_E_PEER_CORRUPT;
    *cap = c;
    return SHMB_OK;
}

static int snap_attach(shmb_snapshot *s, const void *mem, size_t size,
                       const shmb_wait_ops *ops)
{
    if (s == NULL || mem == NULL || ((uintptr_t)mem & 7u) != 0 ||
        (ops != NULL &&
         (ops->wait == NULL || ops->wake == NULL || ops->now_ms == NULL)))
        return SHMB_E_INVALID_ARG;
    memset(s, 0, sizeof(*s));
    if (snap_check(mem, size, &s->capacity) != SHMB_OK)
        return SHMB_E_PEER_CORRUPT;
    s->ro_hdr = mem;
    if (ops != NULL) {
        s->has_ops = 1;
        s->ops = *ops;
    }
    return SHMB_OK;
}

int shmb_snapshot_attach_writer(shmb_snapshot *s, void *mem, size_t size,
                                const shmb_wait_ops *ops)
{
    int rc = snap_attach(s, mem, size, ops);

    if (rc != SHMB_OK)
        return rc;
    s->hdr = mem;
    /* A writer that died mid-publish left the sequence odd: readers see a
     * write in progress until the next writer completes one. */
    s->seq = shmb_load_relaxed64(u64_at(s->hdr, OFF_SEQ)) & ~(uint64_t)1;
    return SHMB_OK;
}

int shmb_snapshot_attach_reader(shmb_snapshot *s, const void *mem, size_t size,
                                const shmb_wait_ops *ops)
{
    return snap_attach(s, mem, size, ops);
}

int shmb_snapshot_publish(shmb_snapshot *s, const void *buf, size_t len)
{
    if (s == NULL || s->hdr == NULL || (buf == NULL && len))
        return SHMB_E_INVALID_ARG;
    if (len > s->capacity)
        return SHMB_E_INVALID_SIZE;
    shmb_store_relaxed64(u64_at(s->hdr, OFF_SEQ), s->seq + 1);
    /* release fence: the odd sequence is visible before any value byte. */
    shmb_fence_release();
    shmb_store_relaxed64(u64_at(s->hdr, OFF_LEN), len);
    if (len != 0)
        memcpy(s->hdr + SHMB_SNAPSHOT_HEADER_SIZE, buf, len);
    s->seq += 2;
    shmb_store_release64(u64_at(s->hdr, OFF_SEQ), s->seq);
    if (s->has_ops)
        s->ops.wake(s->ops.ctx);
    return SHMB_OK;
}

/* The sequence again after our reads: unchanged means a clean copy. */
static int snap_stable(const shmb_snapshot *s, uint64_t s1)
{
    shmb_fence_acquire();
    return shmb_load_relaxed64(cu64_at(s->ro_hdr, OFF_SEQ)) == s1;
}

int shmb_snapshot_read(const shmb_snapshot *s, void *buf, size_t buf_size,
                       size_t *len, uint64_t *seq)
{
    uint64_t s1, n;
    int i;

    if (s == NULL || s->ro_hdr == NULL || len == NULL ||
        (buf == NULL && buf_size))
        return SHMB_E_INVALID_ARG;
    *len = 0;
    for (i = 0; i < SHMB_SNAPSHOT_RETRIES; i++) {
        s1 = shmb_load_acquire64(cu64_at(s->ro_hdr, OFF_SEQ));
        if ((s1 & 1u) != 0)
            continue; /* a publish is under way */
        n = shmb_load_relaxed64(cu64_at(s->ro_hdr, OFF_LEN)); /* once */
        if (n > s->capacity || n > buf_size) {
            if (!snap_stable(s, s1))
                continue;
            if (n > s->capacity)
                return SHMB_E_PEER_CORRUPT;
            *len = (size_t)n;
            return SHMB_E_INVALID_SIZE;
        }
        if (n != 0)
            memcpy(buf, s->ro_hdr + SHMB_SNAPSHOT_HEADER_SIZE, (size_t)n);
        if (snap_stable(s, s1)) {
            *len = (size_t)n;
            if (seq != NULL)
                *seq = s1;
            return SHMB_OK;
        }
    }
    return SHMB_E_BUSY;
}

/* A complete value other than `seen`: the sequence is even (not in the
 * middle of a publish - nor stuck there by a writer that died or lies) and
 * differs. An odd one is "not yet", so a reader never spins on it. */
static int newer(const shmb_snapshot *s, uint64_t seen)
{
    uint64_t seq = shmb_load_acquire64(cu64_at(s->ro_hdr, OFF_SEQ));
    return (seq & 1) == 0 && seq != seen;
}

int shmb_snapshot_wait(const shmb_snapshot *s, uint64_t seen,
                       uint32_t timeout_ms)
{
    uint64_t start, spent;
    int i;

    if (s == NULL || s->ro_hdr == NULL)
        return SHMB_E_INVALID_ARG;
    for (i = 0; i < SNAP_SPIN; i++)
        if (newer(s, seen))
            return SHMB_OK;
    if (!s->has_ops || timeout_ms == 0)
        return SHMB_E_TIMEOUT;
    start = s->ops.now_ms(s->ops.ctx);
    for (;;) {
        if (newer(s, seen))
            return SHMB_OK;
        spent = s->ops.now_ms(s->ops.ctx) - start;
        if (spent >= timeout_ms)
            return SHMB_E_TIMEOUT;
        /* In slices: with several readers on one auto-reset doorbell, a
         * publish wakes only one of them; the others see the new sequence
         * at the end of their slice, not of their whole timeout. */
        spent = timeout_ms - spent;
        s->ops.wait(s->ops.ctx, spent < SHMB_SNAPSHOT_WAIT_SLICE_MS
                                    ? (uint32_t)spent
                                    : SHMB_SNAPSHOT_WAIT_SLICE_MS);
    }
}
