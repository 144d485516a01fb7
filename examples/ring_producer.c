/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ring_producer.c - creates a region with two doorbells, lays a shmb_ring
 * over it and sends COUNT messages through it to examples/ring_consumer.c
 * in another process.
 *
 *   shmb_ring_producer NAME [COUNT]      (NAME "~/x": users/<your SID>/x)
 *
 * Each message is an example_record header and 16 to 4000 bytes of payload
 * whose checksum the consumer verifies; a zero-length record ends the
 * stream. The producer sleeps on doorbell 1 ("room") when the ring is
 * full and rings doorbell 0 ("data") when the consumer sleeps: no polling,
 * and no busy loop. It starts once the consumer has attached (which rings
 * "room" once); run the consumer within 30 seconds.
 */
#include "example_dataplane.h"

#define RING_REGION_SIZE 65536u
#define PRODUCER_TIMEOUT_MS 30000u

int main(int argc, char **argv)
{
    example_session s;
    shmb_ring ring;
    unsigned char msg[sizeof(example_record) + 4000];
    example_record *h = (example_record *)(void *)msg;
    unsigned long count = 1000, i, len;
    uint64_t bytes = 0;
    uint32_t total = 0;
    int rc;

    if (argc < 2 || argc > 3 ||
        (argc == 3 && (count = strtoul(argv[2], NULL, 10)) == 0)) {
        fprintf(stderr, "usage: shmb_ring_producer NAME [COUNT]\n");
        return 2;
    }
    if (example_session_start(&s, "ring producer", argv[1]) != 0)
        return 1;
    /* Doorbell 0 and 1: SHMB_RING_BELL_DATA and SHMB_RING_BELL_ROOM. The
     * region lives while a process holds it ("client" lifetime): after we
     * exit, as long as the consumer still reads. */
    rc = shmb_region_create_ex(s.c, s.name, RING_REGION_SIZE, SHMB_ACCESS_RW,
                               SHMB_LIFETIME_CLIENT, 2, &s.r);
    if (rc != SHMB_OK) {
        fprintf(stderr, "ring producer: create '%s': %s: %s\n", s.name,
                shmb_err_name(rc), shmb_client_message(s.c));
        example_session_end(&s);
        return 1;
    }
    if ((rc = shmb_region_map(&s.r)) != SHMB_OK ||
        (rc = shmb_ring_format(s.r.view, (size_t)s.r.size, 0)) != SHMB_OK ||
        (rc = shmb_wait_ops_ring(&s.ops, &s.bells, &s.r, SHMB_RING_PRODUCER)) !=
            SHMB_OK ||
        (rc = shmb_ring_attach(&ring, s.r.view, (size_t)s.r.size,
                               SHMB_RING_PRODUCER, &s.ops)) != SHMB_OK) {
        fprintf(stderr, "ring producer: setting up the ring: %s\n",
                shmb_strerror(rc));
        goto out;
    }
    printf("ring producer: '%s' ready, %lu messages, records up to %lu "
           "bytes\n",
           s.r.name, count, (unsigned long)shmb_ring_max_record(&ring));
    fflush(stdout);
    /* The consumer rings "room" once when it has attached: from then on it
     * holds the region too, so we may finish and exit before it has read
     * everything. */
    if (WaitForSingleObject(
            (HANDLE)(uintptr_t)s.r.doorbells[SHMB_RING_BELL_ROOM],
            PRODUCER_TIMEOUT_MS) != WAIT_OBJECT_0) {
        fprintf(stderr, "ring producer: no consumer came\n");
        rc = SHMB_E_TIMEOUT;
        goto out;
    }

    for (i = 0; i < count && rc == SHMB_OK; i++) {
        unsigned long j;
        len = 16 + (i * 7919u) % (sizeof(msg) - sizeof(*h) - 16);
        for (j = 0; j < len; j++)
            msg[sizeof(*h) + j] = (unsigned char)(i + j * 13u);
        h->seq = i;
        h->len = (uint32_t)len;
        h->checksum = example_fnv1a(msg + sizeof(*h), len);
        total = total * 31u + h->checksum;
        /* Waits (on the "room" doorbell) while the ring is full. */
        rc = shmb_ring_write(&ring, msg, sizeof(*h) + len, PRODUCER_TIMEOUT_MS);
        bytes += len;
    }
    if (rc == SHMB_OK)
        rc = shmb_ring_write(&ring, NULL, 0, PRODUCER_TIMEOUT_MS);
    if (rc != SHMB_OK) {
        /* SHMB_E_TIMEOUT: no consumer made room in time. */
        fprintf(stderr, "ring producer: write %lu: %s\n", i, shmb_strerror(rc));
        goto out;
    }
    printf("ring producer: sent %lu messages, %llu payload bytes, "
           "checksum %08lx\n",
           count, (unsigned long long)bytes, (unsigned long)total);
out:
    example_session_end(&s);
    return rc == SHMB_OK ? 0 : 1;
}
