/* SPDX-License-Identifier: MPL-2.0 */
/*
 * dp_sync.h - what the data-plane tests need around the portable ring and
 * snapshot: a thread, and an auto-reset "doorbell" that behaves like the
 * region's brokered events, exposed as shmb_wait_ops.
 */
#ifndef SHMB_TEST_DP_SYNC_H
#define SHMB_TEST_DP_SYNC_H

#include "shmb_dataplane.h"

typedef struct dp_bell dp_bell;
typedef struct dp_thread dp_thread;

/* A new unsignalled doorbell; NULL on failure. */
dp_bell *dp_bell_new(void);
void dp_bell_free(dp_bell *b);
/* How often its wait() was called (to see that a side really slept). */
unsigned dp_bell_waits(dp_bell *b);

/* One end: it waits on `mine` and wakes `peer`. */
typedef struct dp_end {
    dp_bell *mine;
    dp_bell *peer;
} dp_end;
/* ops for that end (ctx is `end`, which must outlive their use). */
void dp_ops(shmb_wait_ops *ops, dp_end *end);

/* Starts fn(arg) on a new thread; NULL on failure. join returns fn's
 * value and frees the thread. */
dp_thread *dp_thread_start(int (*fn)(void *), void *arg);
int dp_thread_join(dp_thread *t);

/* Wait ops on a clock that moves only by what was asked to sleep: no
 * real sleeping, so a test can see how long each single sleep was. */
typedef struct dp_virtual_wait {
    uint64_t now;
    uint32_t longest; /* the longest single wait() asked for */
    unsigned waits;
    unsigned wakes; /* wake() calls: the peer's doorbell rung */
} dp_virtual_wait;
/* ops over v (zeroed here), which must outlive their use. */
void dp_virtual_ops(shmb_wait_ops *ops, dp_virtual_wait *v);

/* 64-byte aligned zeroed memory; dp_free releases it. */
void *dp_alloc(size_t size);
void dp_free(void *p);

#endif
