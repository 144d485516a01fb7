/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmb_dataplane.h - moving data through a region: a single-producer /
 * single-consumer message ring and a one-writer / many-readers snapshot.
 *
 * Both work over any memory both sides map (a region's view, or ordinary
 * memory in tests); docs/dataplane.md gives the byte layouts and the memory
 * ordering. The other side is never trusted (DESIGN.md rule 9): every index,
 * length and sequence read from the shared memory is read once, checked
 * against the capacity this side learnt at attach time, and a value no
 * honest peer could have written is SHMB_E_PEER_CORRUPT - never an
 * out-of-bounds access and never an unbounded wait.
 *
 * Waiting is the caller's: a shmb_wait_ops supplies "wait on my doorbell"
 * and "ring the peer's doorbell" (under Windows the region's brokered
 * events; in tests a condition variable). Without one, no call ever
 * sleeps (a ring call may still spin briefly, see shmb_ring_write).
 *
 *   // producer                         // consumer
 *   shmb_ring_format(view, size, 0);
 *   shmb_ring_attach(&p, view, size,    shmb_ring_attach(&c, view, size,
 *       SHMB_RING_PRODUCER, &ops);          SHMB_RING_CONSUMER, &ops);
 *   shmb_ring_write(&p, msg, n, 1000);  shmb_ring_read(&c, buf, sizeof(buf),
 *                                                      &n, 1000);
 */
#ifndef SHMB_DATAPLANE_H
#define SHMB_DATAPLANE_H

#include <stddef.h>
#include <stdint.h>

#include "shmb_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The data plane's error codes are in shmb_types.h: SHMB_E_PEER_CORRUPT
 * (the shared memory holds what no honest peer writes: an index, length,
 * magic or sequence out of range; the ring or snapshot is unusable),
 * SHMB_E_TIMEOUT (nothing arrived, or no room appeared, within the
 * timeout) and SHMB_E_BUSY (a snapshot reader saw the value change under
 * it on every one of its bounded retries). */

/* How one side waits and wakes the other. Either all three functions are
 * set or the shmb_wait_ops pointer given to attach is NULL (non-blocking).
 * wait() blocks until wake() was called on the peer side (since the last
 * wait returned: an auto-reset event) or timeout_ms passed; it may return
 * early. now_ms() is a monotonic clock in milliseconds. */
typedef struct shmb_wait_ops {
    void (*wait)(void *ctx, uint32_t timeout_ms);
    void (*wake)(void *ctx);
    uint64_t (*now_ms)(void *ctx);
    void *ctx;
} shmb_wait_ops;

/* ---- Doorbells --------------------------------------------------------
 * A shmb_wait_ops over a region's brokered doorbells (Windows: the events
 * of shmb_region.doorbells). The conventions: a ring uses doorbell
 * SHMB_RING_BELL_DATA (the producer rings it after writing, the consumer
 * waits on it) and SHMB_RING_BELL_ROOM (the consumer rings it after taking
 * a record, once at most half of the ring is unread; the producer waits on
 * it), so its region needs 2; a snapshot
 * uses SHMB_SNAPSHOT_BELL_NEW (the writer rings it after publishing).
 * Doorbells are auto-reset events: ringing one releases one waiter, or
 * it stays set until the next wait if none waits. A snapshot's bell has
 * one waiter per sleeping reader, so one publish wakes one of them; and
 * every grantee of a region holds its doorbells (a read-only one may wait
 * on them too), so any of them can take a wake-up meant for another. The
 * library never relies on one arriving: it sleeps at most
 * SHMB_RING_WAIT_SLICE_MS / SHMB_SNAPSHOT_WAIT_SLICE_MS at a time and
 * looks again (docs/dataplane.md, "Doorbells"). */
#define SHMB_RING_BELL_DATA 0u
#define SHMB_RING_BELL_ROOM 1u
#define SHMB_SNAPSHOT_BELL_NEW 0u
/* No doorbell: wait() only sleeps out its timeout, wake() does nothing. */
#define SHMB_NO_DOORBELL 0xFFFFFFFFu

struct shmb_region;

/* The context shmb_wait_ops_doorbells fills; it must outlive every use of
 * the ops (keep it beside the shmb_ring or shmb_snapshot). Private. */
typedef struct shmb_doorbell_ctx {
    uint64_t wait_event;
    uint64_t wake_event;
} shmb_doorbell_ctx;

/* Sets *ops to wait on the region's doorbell wait_bell and ring its
 * doorbell wake_bell (either may be SHMB_NO_DOORBELL). The region's
 * handles are used as they are: they stay the region's, closed by
 * shmb_region_close - close the ring or snapshot first. A read-only
 * grant's doorbells can be waited on but not rung (the kernel refuses;
 * wake() then does nothing). SHMB_E_INVALID_ARG for an index the region
 * does not have. */
SHMB_API int shmb_wait_ops_doorbells(shmb_wait_ops *ops, shmb_doorbell_ctx *ctx,
                                     const struct shmb_region *r,
                                     uint32_t wait_bell, uint32_t wake_bell);
/* The ring's ends: shmb_wait_ops_doorbells with the bells of `role`. */
SHMB_API int shmb_wait_ops_ring(shmb_wait_ops *ops, shmb_doorbell_ctx *ctx,
                                const struct shmb_region *r, int role);

/* ---- Ring ---------------------------------------------------------------
 * One producer, one consumer, both read-write. Records are byte messages of
 * 0 to shmb_ring_max_record() bytes, delivered whole and in order. */

/* Bytes of the ring header in front of the data area. */
#define SHMB_RING_HEADER_SIZE 192u
/* The longest single sleep of a ring end waiting for data or room before
 * it looks at the indices again (a wake-up may be taken by another holder
 * of the region's doorbells). */
#define SHMB_RING_WAIT_SLICE_MS 10u
/* Smallest and largest data capacity (a power of two). */
#define SHMB_RING_MIN_CAPACITY 64u
#define SHMB_RING_MAX_CAPACITY 0x80000000u

typedef enum shmb_ring_role {
    SHMB_RING_PRODUCER = 1,
    SHMB_RING_CONSUMER = 2
} shmb_ring_role;

/* One end of a ring. The caller owns it; the fields are private. */
typedef struct shmb_ring {
    unsigned char *hdr;  /* the shared header */
    unsigned char *data; /* the shared data area */
    uint64_t capacity;   /* as validated at attach, never re-read */
    uint64_t pos;        /* our own index (head or tail), never re-read */
    int role;
    int has_ops;
    shmb_wait_ops ops;
} shmb_ring;

/* Bytes a ring of `capacity` data bytes needs: header plus data. */
SHMB_API uint64_t shmb_ring_footprint(uint64_t capacity);

/* Writes an empty ring into mem[0..size), before either side attaches.
 * capacity: a power of two between the limits above that fits in size
 * after the header, or 0 for the largest one that fits. mem must be
 * 64-byte aligned (a region view is). SHMB_E_INVALID_ARG otherwise. */
SHMB_API int shmb_ring_format(void *mem, size_t size, uint64_t capacity);

/* Attaches one end to a formatted ring. Validates magic, version, capacity
 * and both indices: SHMB_E_PEER_CORRUPT if the header cannot be an honest
 * one. ops may be NULL (non-blocking); it is copied. */
SHMB_API int shmb_ring_attach(shmb_ring *r, void *mem, size_t size,
                              shmb_ring_role role, const shmb_wait_ops *ops);

/* The largest record this ring accepts: capacity / 2 - 8 (so that a
 * record always fits into an empty ring, wherever the wrap point is). */
SHMB_API size_t shmb_ring_max_record(const shmb_ring *r);

/* Producer: appends one record of len bytes. Waits up to timeout_ms for
 * room (0: never sleeps). Before any sleep - and before SHMB_E_TIMEOUT with
 * timeout 0 - it looks again up to 1,024 times with a CPU pause between
 * (a few to some tens of microseconds, by CPU). SHMB_E_INVALID_SIZE if len is
 * above the maximum, SHMB_E_TIMEOUT if the consumer made no room in time
 * (nothing written), SHMB_E_PEER_CORRUPT if the consumer's index is impossible.
 */
SHMB_API int shmb_ring_write(shmb_ring *r, const void *buf, size_t len,
                             uint32_t timeout_ms);

/* Consumer: takes the oldest record into buf and sets *len. Waits up to
 * timeout_ms for one (0: never sleeps; it may spin as shmb_ring_write
 * does). SHMB_E_TIMEOUT if none came;
 * SHMB_E_INVALID_SIZE if buf_size is too small (*len set to the record's
 * size, the record stays); SHMB_E_PEER_CORRUPT if the producer's index or
 * the record's length is impossible. A record is visible only once the
 * producer has advanced its index past it: a producer that dies while
 * writing one leaves nothing half-written to read. */
SHMB_API int shmb_ring_read(shmb_ring *r, void *buf, size_t buf_size,
                            size_t *len, uint32_t timeout_ms);

/* ---- Snapshot -----------------------------------------------------------
 * One writer (read-write), any number of readers that only read: the
 * latest value of up to `capacity` bytes under a sequence lock. */

#define SHMB_SNAPSHOT_HEADER_SIZE 128u
/* How often a reader copies again when the writer changed the value under
 * it, before it gives up with SHMB_E_BUSY. */
#define SHMB_SNAPSHOT_RETRIES 64
/* The longest single sleep of shmb_snapshot_wait before it looks at the
 * sequence again. */
#define SHMB_SNAPSHOT_WAIT_SLICE_MS 10u

typedef struct shmb_snapshot {
    unsigned char *hdr; /* the writer's (read-write) view */
    const unsigned char *ro_hdr;
    uint64_t capacity; /* as validated at attach, never re-read */
    uint64_t seq;      /* writer: its own sequence, never re-read */
    int has_ops;
    shmb_wait_ops ops;
} shmb_snapshot;

/* Bytes a snapshot of `capacity` value bytes needs. */
SHMB_API uint64_t shmb_snapshot_footprint(uint64_t capacity);

/* Writes an empty snapshot (sequence 0, no value) into mem[0..size);
 * capacity 0: everything after the header. mem 64-byte aligned. */
SHMB_API int shmb_snapshot_format(void *mem, size_t size, uint64_t capacity);

/* The writer's end. ops->wake rings the readers' "new value" doorbell
 * after each publish (its wait is unused); ops may be NULL. */
SHMB_API int shmb_snapshot_attach_writer(shmb_snapshot *s, void *mem,
                                         size_t size, const shmb_wait_ops *ops);

/* A reader's end: never writes to mem (a read-only view is enough).
 * ops->wait waits on the "new value" doorbell; ops may be NULL. */
SHMB_API int shmb_snapshot_attach_reader(shmb_snapshot *s, const void *mem,
                                         size_t size, const shmb_wait_ops *ops);

/* Writer: publishes len bytes as the new value (SHMB_E_INVALID_SIZE if
 * above the capacity) and wakes the readers. */
SHMB_API int shmb_snapshot_publish(shmb_snapshot *s, const void *buf,
                                   size_t len);

/* Reader: copies the latest value into buf, sets *len and *seq (even; 0
 * means nothing published yet, *len 0). SHMB_E_INVALID_SIZE if buf_size
 * is too small (*len set), SHMB_E_BUSY after SHMB_SNAPSHOT_RETRIES torn
 * copies, SHMB_E_PEER_CORRUPT for an impossible length. seq may be NULL. */
SHMB_API int shmb_snapshot_read(const shmb_snapshot *s, void *buf,
                                size_t buf_size, size_t *len, uint64_t *seq);

/* Reader: waits up to timeout_ms until the sequence is even and differs
 * from `seen` (a complete value newer than the one read; a sequence stuck
 * odd - a writer that died while publishing - is waited out, not returned).
 * SHMB_OK or SHMB_E_TIMEOUT. It sleeps
 * on the doorbell at most SHMB_SNAPSHOT_WAIT_SLICE_MS at a time and looks
 * again: with several readers on one doorbell a publish wakes one of them,
 * and the others return within one slice. */
SHMB_API int shmb_snapshot_wait(const shmb_snapshot *s, uint64_t seen,
                                uint32_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
