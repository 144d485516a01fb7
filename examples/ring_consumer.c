/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ring_consumer.c - reads what examples/ring_producer.c sends through the
 * shmb_ring in region NAME and verifies it: every message in sequence,
 * every checksum right. Prints a summary.
 *
 *   shmb_ring_consumer NAME            (NAME "~/x": users/<your SID>/x)
 *
 * It waits up to 30 seconds for the producer to create the region. The
 * producer is another process and may be hostile: the library validates
 * the ring (SHMB_E_PEER_CORRUPT), this program validates the messages.
 * Exit status: 0 all verified, 1 a call failed, 3 a message was wrong.
 */
#include "example_dataplane.h"

#define CONSUMER_TIMEOUT_MS 30000u

/* Our end of the ring, sleeping on "data" and ringing "room". */
static int attach_consumer(example_session *s, void *ring)
{
    int rc = shmb_wait_ops_ring(&s->ops, &s->bells, &s->r, SHMB_RING_CONSUMER);
    return rc != SHMB_OK ? rc
                         : shmb_ring_attach(ring, s->r.view, (size_t)s->r.size,
                                            SHMB_RING_CONSUMER, &s->ops);
}

int main(int argc, char **argv)
{
    example_session s;
    shmb_ring ring;
    unsigned char msg[65536];
    example_record h;
    unsigned long n = 0;
    uint64_t bytes = 0;
    uint32_t total = 0;
    size_t len;
    ULONGLONG t0;
    int rc, status = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: shmb_ring_consumer NAME\n");
        return 2;
    }
    if (example_session_start(&s, "ring consumer", argv[1]) != 0)
        return 1;
    if (example_open_when_ready(&s, SHMB_ACCESS_RW, attach_consumer, &ring) !=
        SHMB_OK) {
        example_session_end(&s);
        return 1;
    }
    /* Tell the producer we hold the region: it may start. */
    s.ops.wake(s.ops.ctx);
    t0 = GetTickCount64();
    for (;;) {
        /* Sleeps on the "data" doorbell while the ring is empty. */
        rc = shmb_ring_read(&ring, msg, sizeof(msg), &len, CONSUMER_TIMEOUT_MS);
        if (rc != SHMB_OK) {
            fprintf(stderr, "ring consumer: read %lu: %s\n", n,
                    shmb_strerror(rc));
            status = 1;
            break;
        }
        if (len == 0)
            break; /* the end */
        /* The bytes are the producer's: check the header before using it. */
        if (len < sizeof(h)) {
            status = 3;
            break;
        }
        memcpy(&h, msg, sizeof(h));
        if (h.seq != n || h.len != len - sizeof(h) ||
            h.checksum != example_fnv1a(msg + sizeof(h), h.len)) {
            fprintf(stderr, "ring consumer: message %lu is wrong (seq %llu)\n",
                    n, (unsigned long long)h.seq);
            status = 3;
            break;
        }
        total = total * 31u + h.checksum;
        bytes += h.len;
        n++;
    }
    if (status == 0)
        printf("ring consumer: received %lu messages in order, %llu payload "
               "bytes, checksum %08lx, all verified (%llu ms)\n",
               n, (unsigned long long)bytes, (unsigned long)total,
               (unsigned long long)(GetTickCount64() - t0));
    example_session_end(&s);
    return status;
}
