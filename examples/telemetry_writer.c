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

static int open_or_create(example_session *s)
{
    int rc = shmb_region_open(s->c, s->name, SHMB_ACCESS_RW, &s->r);
    if (rc == SHMB_E_NOT_FOUND)
        rc = shmb_region_create_ex(s->c, s->name, 4096, SHMB_ACCESS_RW,
                                   SHMB_LIFETIME_CLIENT, 1, &s->r);
    if (rc != SHMB_OK)
        fprintf(stderr, "telemetry writer: '%s': %s: %s\n", s->name,
                shmb_err_name(rc), shmb_client_message(s->c));
    return rc;
}

int main(int argc, char **argv)
{
    example_session s;
    shmb_snapshot snap;
    example_telemetry t;
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
    if (example_session_start(&s, "telemetry writer", argv[1]) != 0)
        return 1;
    if (open_or_create(&s) != SHMB_OK) {
        example_session_end(&s);
        return 1;
    }
    /* We only ring the readers' doorbell; we never wait on one. */
    if ((rc = shmb_region_map(&s.r)) != SHMB_OK ||
        (rc = shmb_snapshot_format(s.r.view, (size_t)s.r.size, sizeof(t))) !=
            SHMB_OK ||
        (rc = shmb_wait_ops_doorbells(
             &s.ops, &s.bells, &s.r, SHMB_NO_DOORBELL,
             s.r.ndoorbells > 0 ? SHMB_SNAPSHOT_BELL_NEW : SHMB_NO_DOORBELL)) !=
            SHMB_OK ||
        (rc = shmb_snapshot_attach_writer(&snap, s.r.view, (size_t)s.r.size,
                                          &s.ops)) != SHMB_OK) {
        fprintf(stderr, "telemetry writer: setting up: %s\n",
                shmb_strerror(rc));
        goto out;
    }
    printf("telemetry writer: publishing %lu samples into '%s' (%s)\n", count,
           s.r.name,
           s.r.ndoorbells > 0 ? "doorbell" : "no doorbell: readers poll");
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
    example_session_end(&s);
    return rc == SHMB_OK ? 0 : 1;
}
