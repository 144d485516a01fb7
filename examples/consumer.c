/* SPDX-License-Identifier: MPL-2.0 */
/*
 * consumer.c - opens the region examples/producer.c made, read-only, and
 * prints the message in it.
 *
 *   shmb_consumer NAME [--delete]
 *
 * With --delete the region is deleted afterwards (the policy must allow it).
 * Exit status: 0 the message was read, 1 a call failed, 3 the region holds
 * no valid message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmb.h"
#include "example_message.h"

/* The producer may be any process the policy lets write this region:
 * read each field once, and check the length before using it. */
static int print_message(const shmb_region *r)
{
    const example_message *msg = r->view;
    uint32_t length;

    /* Another program may have made a region of that name: small ones too. */
    if (r->size < sizeof(*msg) || msg->magic != EXAMPLE_MAGIC) {
        fprintf(stderr, "consumer: '%s' holds no message\n", r->name);
        return 3;
    }
    length = msg->length;
    if (length > sizeof(msg->text)) {
        fprintf(stderr, "consumer: '%s': length %lu is out of bounds\n",
                r->name, (unsigned long)length);
        return 3;
    }
    printf("consumer: read \"%.*s\" from '%s' (%s grant)\n", (int)length,
           msg->text, r->name, shmb_access_name(r->access));
    return 0;
}

int main(int argc, char **argv)
{
    shmb_connect_options opts;
    shmb_client *c = NULL;
    shmb_region r;
    int rc, status;

    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--delete"))) {
        fprintf(stderr, "usage: shmb_consumer NAME [--delete]\n");
        return 2;
    }
    memset(&opts, 0, sizeof(opts));
    opts.pipe_name = getenv("SHMB_PIPE");
    opts.client_name = "example consumer";
    rc = shmb_connect(&opts, &c);
    if (rc != SHMB_OK) {
        fprintf(stderr, "consumer: connect: %s: %s\n", shmb_err_name(rc),
                shmb_client_message(c));
        shmb_disconnect(c);
        return 1;
    }

    /* Read-only is all a reader needs: the handle the broker duplicates
     * then cannot be mapped for writing, whatever this process does. */
    rc = shmb_region_open(c, argv[1], SHMB_ACCESS_RO, &r);
    if (rc != SHMB_OK) {
        fprintf(stderr, "consumer: open '%s': %s: %s\n", argv[1],
                shmb_err_name(rc), shmb_client_message(c));
        shmb_disconnect(c);
        return 1;
    }
    rc = shmb_region_map(&r);
    if (rc != SHMB_OK) {
        fprintf(stderr, "consumer: map: %s (system error %lu)\n",
                shmb_strerror(rc), (unsigned long)r.syserr);
        status = 1;
    } else {
        status = print_message(&r);
    }
    shmb_region_close(&r);

    if (argc == 3) {
        /* Gives up our grant, then frees the region. */
        shmb_region_release(c, argv[1]);
        rc = shmb_region_delete(c, argv[1]);
        if (rc != SHMB_OK) {
            fprintf(stderr, "consumer: delete '%s': %s: %s\n", argv[1],
                    shmb_err_name(rc), shmb_client_message(c));
            status = status ? status : 1;
        }
    }
    shmb_disconnect(c);
    return status;
}
