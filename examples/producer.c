/* SPDX-License-Identifier: MPL-2.0 */
/*
 * producer.c - creates a region through the broker and leaves a message in
 * it for examples/consumer.c.
 *
 *   shmb_producer NAME TEXT
 *
 * The region is "persistent": it outlives this process, so the consumer can
 * run afterwards (and deletes it). The policy must allow this process to
 * create NAME; SHMB_PIPE names another control pipe than the default.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmb.h"
#include "example_message.h"

int main(int argc, char **argv)
{
    shmb_connect_options opts;
    shmb_client *c = NULL;
    shmb_region r;
    example_message *msg;
    size_t len;
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: shmb_producer NAME TEXT\n");
        return 2;
    }
    len = strlen(argv[2]);
    if (len > sizeof(msg->text)) {
        fprintf(stderr, "producer: text too long\n");
        return 2;
    }

    /* Zeroed options: the default pipe, timeouts and server check. */
    memset(&opts, 0, sizeof(opts));
    opts.pipe_name = getenv("SHMB_PIPE");
    opts.client_name = "example producer";
    rc = shmb_connect(&opts, &c);
    if (rc != SHMB_OK) {
        /* c is set even on failure, so the broker's reason can be read. */
        fprintf(stderr, "producer: connect: %s: %s\n", shmb_err_name(rc),
                shmb_client_message(c));
        shmb_disconnect(c);
        return 1;
    }

    /* The broker creates the section and duplicates a read-write handle
     * into this process; nothing else can open it by name. */
    rc = shmb_region_create(c, argv[1], EXAMPLE_REGION_SIZE, SHMB_ACCESS_RW,
                            SHMB_LIFETIME_PERSISTENT, &r);
    if (rc != SHMB_OK) {
        fprintf(stderr, "producer: create '%s': %s: %s\n", argv[1],
                shmb_err_name(rc), shmb_client_message(c));
        shmb_disconnect(c);
        return 1;
    }
    rc = shmb_region_map(&r);
    if (rc != SHMB_OK) {
        fprintf(stderr, "producer: map: %s (system error %lu)\n",
                shmb_strerror(rc), (unsigned long)r.syserr);
        shmb_region_close(&r);
        shmb_disconnect(c);
        return 1;
    }

    /* The consumer starts after this process has exited, so plain stores
     * are enough here; concurrent peers need ordering (and must treat what
     * the other side wrote as untrusted, as consumer.c does). */
    msg = r.view;
    memcpy(msg->text, argv[2], len);
    msg->length = (uint32_t)len;
    msg->magic = EXAMPLE_MAGIC;
    printf("producer: wrote %u bytes into '%s' (%llu bytes)\n",
           (unsigned)msg->length, r.name, (unsigned long long)r.size);

    /* Unmapping and closing our handle leaves the region alive: the broker
     * holds it until someone deletes it (or the service stops). */
    shmb_region_close(&r);
    shmb_disconnect(c);
    return 0;
}
