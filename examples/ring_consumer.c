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

/* Opens NAME read-write once the producer has created and formatted it. */
static int open_ring(shmb_client *c, const char *name, shmb_region *r,
                     shmb_ring *ring, shmb_wait_ops *ops,
                     shmb_doorbell_ctx *bells)
{
    ULONGLONG deadline = GetTickCount64() + CONSUMER_TIMEOUT_MS;
    int rc;

    for (;;) {
        rc = shmb_region_open(c, name, SHMB_ACCESS_RW, r);
        if (rc == SHMB_OK) {
            if ((rc = shmb_region_map(r)) == SHMB_OK &&
                (rc = shmb_wait_ops_ring(ops, bells, r, SHMB_RING_CONSUMER)) ==
                    SHMB_OK &&
                (rc = shmb_ring_attach(ring, r->view, (size_t)r->size,
                                       SHMB_RING_CONSUMER, ops)) == SHMB_OK)
                return SHMB_OK;
            shmb_region_close(r);
        }
        /* not_found: not created yet; peer_corrupt: not formatted yet. */
        if ((rc != SHMB_E_NOT_FOUND && rc != SHMB_E_PEER_CORRUPT) ||
            GetTickCount64() > deadline) {
            fprintf(stderr, "ring consumer: open '%s': %s: %s\n", name,
                    shmb_err_name(rc), shmb_client_message(c));
            return rc;
        }
        Sleep(50);
    }
}

int main(int argc, char **argv)
{
    shmb_client *c;
    shmb_region r;
    shmb_ring ring;
    shmb_wait_ops ops;
    shmb_doorbell_ctx bells;
    unsigned char msg[65536];
    example_record h;
    char namebuf[SHMB_REGION_NAME_MAX + 1];
    const char *name;
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
    name = example_region_name(argv[1], namebuf, sizeof(namebuf));
    c = example_connect("ring consumer");
    if (c == NULL)
        return 1;
    if (open_ring(c, name, &r, &ring, &ops, &bells) != SHMB_OK) {
        shmb_disconnect(c);
        return 1;
    }
    /* Tell the producer we hold the region: it may start. */
    ops.wake(ops.ctx);
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
    shmb_region_close(&r);
    shmb_disconnect(c);
    return status;
}
