/* SPDX-License-Identifier: MPL-2.0 */
/*
 * telemetry_writer.c - publishes a telemetry sample into a shmb_snapshot
 * every INTERVAL milliseconds; any number of examples/telemetry_reader.c
 * processes read the latest one with a read-only grant.
 *
 *   shmb_telemetry_writer NAME [COUNT [INTERVAL]]   (default 40 samples, 50 ms)
 *
 * NAME is opened read-write if it exists - installer/config.example.json
 * declares "telemetry/counters" and lets administrators write under
 * "telemetry/" - and created otherwise (with one doorbell, "new value", that
 * readers wait on; e.g. "~/telemetry", your own namespace). A config region has
 * no doorbells: its readers look again after a bounded wait instead.
 */
#include "example_dataplane.h"

static int open_or_create(shmb_client *c, const char *name, shmb_region *r)
{
    int rc = shmb_region_open(c, name, SHMB_ACCESS_RW, r);
    if (rc == SHMB_E_NOT_FOUND)
        rc = shmb_region_create_ex(c, name, 4096, SHMB_ACCESS_RW,
                                   SHMB_LIFETIME_CLIENT, 1, r);
    if (rc != SHMB_OK)
        fprintf(stderr, "telemetry writer: '%s': %s: %s\n", name,
                shmb_err_name(rc), shmb_client_message(c));
    return rc;
}

int main(int argc, char **argv)
{
    shmb_client *c;
    shmb_region r;
    shmb_snapshot snap;
    shmb_wait_ops ops;
    shmb_doorbell_ctx bells;
    example_telemetry t;
    char namebuf[SHMB_REGION_NAME_MAX + 1];
    const char *name;
    unsigned long count = 40, interval = 50, i;
    int rc;

    if (argc < 2 || argc > 4) {
        fprintf(stderr,
                "usage: shmb_telemetry_writer NAME [COUNT [INTERVAL]]\n");
        return 2;
    }
    if (argc > 2)
        count = strtoul(argv[2], NULL, 10);
    if (argc > 3)
        interval = strtoul(argv[3], NULL, 10);
    if (count == 0) {
        fprintf(stderr, "telemetry writer: COUNT must be at least 1\n");
        return 2;
    }
    name = example_region_name(argv[1], namebuf, sizeof(namebuf));
    c = example_connect("telemetry writer");
    if (c == NULL)
        return 1;
    if (open_or_create(c, name, &r) != SHMB_OK) {
        shmb_disconnect(c);
        return 1;
    }
    /* We only ring the readers' doorbell; we never wait on one. */
    if ((rc = shmb_region_map(&r)) != SHMB_OK ||
        (rc = shmb_snapshot_format(r.view, (size_t)r.size, sizeof(t))) !=
            SHMB_OK ||
        (rc = shmb_wait_ops_doorbells(&ops, &bells, &r, SHMB_NO_DOORBELL,
                                      r.ndoorbells > 0 ? SHMB_SNAPSHOT_BELL_NEW
                                                       : SHMB_NO_DOORBELL)) !=
            SHMB_OK ||
        (rc = shmb_snapshot_attach_writer(&snap, r.view, (size_t)r.size,
                                          &ops)) != SHMB_OK) {
        fprintf(stderr, "telemetry writer: setting up: %s\n",
                shmb_strerror(rc));
        goto out;
    }
    printf("telemetry writer: publishing %lu samples into '%s' (%s)\n", count,
           r.name, r.ndoorbells > 0 ? "doorbell" : "no doorbell: readers poll");
    fflush(stdout);
    for (i = 1; i <= count; i++) {
        memset(&t, 0, sizeof(t));
        t.sample = i;
        t.writer_pid = (uint32_t)GetCurrentProcessId();
        t.last = i == count;
        t.load[0] = (double)(i % 100) / 100.0;
        t.load[1] = (double)((i * 7) % 100) / 100.0;
        t.load[2] = (double)((i * 13) % 100) / 100.0;
        t.load[3] = (double)GetTickCount64();
        t.checksum = example_fnv1a(&t, offsetof(example_telemetry, checksum));
        rc = shmb_snapshot_publish(&snap, &t, sizeof(t));
        if (rc != SHMB_OK) {
            fprintf(stderr, "telemetry writer: publish: %s\n",
                    shmb_strerror(rc));
            goto out;
        }
        Sleep(interval);
    }
    printf("telemetry writer: published %lu samples\n", count);
out:
    shmb_region_close(&r);
    shmb_disconnect(c);
    return rc == SHMB_OK ? 0 : 1;
}
