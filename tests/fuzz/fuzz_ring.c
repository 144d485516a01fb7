/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_ring.c - libFuzzer target: a hostile peer writes arbitrary bytes
 * anywhere in a shared ring's or snapshot's header and data, interleaved
 * with an honest side's reads and writes. Whatever it writes, the honest
 * side returns a documented code and never reads or writes outside the
 * mapping (ASan) or loops without end (libFuzzer's -timeout).
 *
 * Input: a script of one-byte opcodes with their arguments; see step().
 */
#include <stdlib.h>
#include <string.h>

#include "shmb_dataplane.h"

#define RING_CAP 256u
#define SNAP_CAP 128u

typedef struct fuzz_state {
    unsigned char *ring_mem, *snap_mem;
    size_t ring_size, snap_size;
    shmb_ring prod, cons;
    shmb_snapshot wr, rd;
    int prod_ok, cons_ok, wr_ok, rd_ok;
} fuzz_state;

static int known(int rc)
{
    return rc == SHMB_OK || rc == SHMB_E_PEER_CORRUPT || rc == SHMB_E_TIMEOUT ||
           rc == SHMB_E_INVALID_SIZE || rc == SHMB_E_BUSY;
}

/* The peer's store: offset (2 bytes, anywhere in the mapping), count and
 * the bytes themselves. */
static size_t scribble(unsigned char *mem, size_t size, const uint8_t *d,
                       size_t n)
{
    size_t off, cnt;

    if (n < 3)
        return n;
    off = ((size_t)d[0] | (size_t)d[1] << 8) % size;
    cnt = d[2] % 16u;
    if (cnt > n - 3)
        cnt = n - 3;
    if (cnt > size - off)
        cnt = size - off;
    memcpy(mem + off, d + 3, cnt);
    return 3 + cnt;
}

static size_t step(fuzz_state *s, const uint8_t *d, size_t n)
{
    unsigned char buf[RING_CAP + SNAP_CAP];
    size_t len = 0, want, used = 2;
    uint64_t seq;
    int rc = SHMB_OK;

    memset(buf, 0xab, sizeof(buf));
    switch (d[0] % 8u) {
    case 0:
        used = 1 + scribble(s->ring_mem, s->ring_size, d + 1, n - 1);
        break;
    case 1:
        used = 1 + scribble(s->snap_mem, s->snap_size, d + 1, n - 1);
        break;
    case 2:
        if (s->cons_ok) {
            want = n > 1 ? d[1] : sizeof(buf);
            rc = shmb_ring_read(&s->cons, buf, want, &len, 0);
            if (rc == SHMB_OK && len > want)
                abort();
        }
        break;
    case 3:
        if (s->prod_ok) {
            want = n > 1 ? (size_t)d[1] * 2 : 0;
            rc = shmb_ring_write(&s->prod, buf, want, 0);
        }
        break;
    case 4:
        if (s->rd_ok) {
            want = n > 1 ? d[1] : sizeof(buf);
            rc = shmb_snapshot_read(&s->rd, buf, want, &len, &seq);
            if (rc == SHMB_OK && (len > want || (seq & 1) != 0))
                abort();
            if (rc == SHMB_OK)
                rc = shmb_snapshot_wait(&s->rd, seq, 0);
        }
        break;
    case 5:
        if (s->wr_ok)
            rc = shmb_snapshot_publish(&s->wr, buf, n > 1 ? d[1] : 0);
        break;
    case 6: /* both ends (re)attach to whatever the header now says */
        s->cons_ok = shmb_ring_attach(&s->cons, s->ring_mem, s->ring_size,
                                      SHMB_RING_CONSUMER, NULL) == SHMB_OK;
        s->prod_ok = shmb_ring_attach(&s->prod, s->ring_mem, s->ring_size,
                                      SHMB_RING_PRODUCER, NULL) == SHMB_OK;
        used = 1;
        break;
    default: /* a reader or, from a few opcodes, the writer re-attaches */
        if ((d[0] >> 3) % 4u == 3)
            s->wr_ok = shmb_snapshot_attach_writer(
                           &s->wr, s->snap_mem, s->snap_size, NULL) == SHMB_OK;
        else
            s->rd_ok = shmb_snapshot_attach_reader(
                           &s->rd, s->snap_mem, s->snap_size, NULL) == SHMB_OK;
        used = 1;
        break;
    }
    if (!known(rc))
        abort();
    return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_state s;
    size_t used;
    int rc;

    memset(&s, 0, sizeof(s));
    s.ring_size = shmb_ring_footprint(RING_CAP);
    s.snap_size = shmb_snapshot_footprint(SNAP_CAP);
    /* Exact sizes: one byte past the mapping is an ASan report. */
    s.ring_mem = aligned_alloc(64, s.ring_size);
    s.snap_mem = aligned_alloc(64, s.snap_size);
    if (s.ring_mem == NULL || s.snap_mem == NULL)
        abort();
    if (shmb_ring_format(s.ring_mem, s.ring_size, RING_CAP) != SHMB_OK ||
        shmb_snapshot_format(s.snap_mem, s.snap_size, SNAP_CAP) != SHMB_OK)
        abort();
    memset(s.ring_mem + SHMB_RING_HEADER_SIZE, 0, RING_CAP);
    memset(s.snap_mem + SHMB_SNAPSHOT_HEADER_SIZE, 0, SNAP_CAP);
    s.prod_ok = shmb_ring_attach(&s.prod, s.ring_mem, s.ring_size,
                                 SHMB_RING_PRODUCER, NULL) == SHMB_OK;
    s.cons_ok = shmb_ring_attach(&s.cons, s.ring_mem, s.ring_size,
                                 SHMB_RING_CONSUMER, NULL) == SHMB_OK;
    rc = shmb_snapshot_attach_writer(&s.wr, s.snap_mem, s.snap_size, NULL);
    s.wr_ok = rc == SHMB_OK;
    s.rd_ok = shmb_snapshot_attach_reader(&s.rd, s.snap_mem, s.snap_size,
                                          NULL) == SHMB_OK;
    if (!s.prod_ok || !s.cons_ok || !s.wr_ok || !s.rd_ok)
        abort();
    while (size > 0) {
        used = step(&s, data, size);
        if (used > size)
            used = size;
        data += used;
        size -= used;
    }
    free(s.ring_mem);
    free(s.snap_mem);
    return 0;
}
