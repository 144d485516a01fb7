/* SPDX-License-Identifier: MPL-2.0 */
/*
 * telemetry_reader.c - follows the latest sample examples/telemetry_writer.c
 * publishes, holding only a read-only grant, until the writer's last one.
 *
 *   shmb_telemetry_reader NAME          (NAME "~/x": users/<your SID>/x)
 *
 * A snapshot is a latest value, not a queue: a reader that looks less often
 * than the writer publishes skips samples, but every copy it gets is whole
 * (the library verifies the sequence lock; this program the checksum).
 * It waits on the region's "new value" doorbell when it has one, but
 * always for at most 200 ms: one publish wakes only one of several
 * sleeping readers (an auto-reset event), the others find the new value
 * when their bounded wait ends. Exit status: 0 the last sample was seen,
 * 1 a call failed or the writer went quiet for 10 s, 3 a sample was
 * torn or corrupt.
 */
#include "example_dataplane.h"

#define READER_SLICE_MS 200u
#define READER_QUIET_MS 10000u

/* A reader: waits on "new value" when the region has that doorbell (a
 * config region has none), never rings it. */
static int attach_reader(example_session *s, void *snap)
{
    int rc = shmb_wait_ops_doorbells(
        &s->ops, &s->bells, &s->r,
        s->r.ndoorbells > 0 ? SHMB_SNAPSHOT_BELL_NEW : SHMB_NO_DOORBELL,
        SHMB_NO_DOORBELL);
    return rc != SHMB_OK ? rc
                         : shmb_snapshot_attach_reader(
                               snap, s->r.view, (size_t)s->r.size, &s->ops);
}

int main(int argc, char **argv)
{
    example_session s;
    shmb_snapshot snap;
    example_telemetry t;
    uint64_t seq = 0, first_seq;
    unsigned long seen = 0;
    ULONGLONG quiet_since;
    size_t len;
    int rc, status = 1;

    if (argc != 2) {
        fprintf(stderr, "usage: shmb_telemetry_reader NAME\n");
        return 2;
    }
    if (example_session_start(&s, "telemetry reader", argv[1]) != 0)
        return 1;
    if (example_open_when_ready(&s, SHMB_ACCESS_RO, attach_reader, &snap) !=
        SHMB_OK) {
        example_session_end(&s);
        return 1;
    }
    printf("telemetry reader: '%s' open with a %s grant, %u doorbell(s)\n",
           s.r.name, shmb_access_name(s.r.access), (unsigned)s.r.ndoorbells);
    /* Read-only means wait-only: the kernel refuses our ring. */
    if (s.r.ndoorbells > 0 && !SetEvent((HANDLE)(uintptr_t)s.r.doorbells[0]))
        printf("telemetry reader: ringing the doorbell ourselves: refused "
               "(error %lu)\n",
               (unsigned long)GetLastError());
    /* A value already there may be an old writer's: follow new ones. */
    first_seq = seq = 0;
    shmb_snapshot_read(&snap, &t, sizeof(t), &len, &first_seq);
    seq = first_seq;
    quiet_since = GetTickCount64();
    for (;;) {
        rc = shmb_snapshot_wait(&snap, seq, READER_SLICE_MS);
        if (rc == SHMB_OK)
            rc = shmb_snapshot_read(&snap, &t, sizeof(t), &len, &seq);
        /* Nothing new, or changing under us on every try: look again -
         * unless nothing complete has come for too long. */
        if (rc == SHMB_E_TIMEOUT || rc == SHMB_E_BUSY) {
            if (GetTickCount64() - quiet_since > READER_QUIET_MS) {
                fprintf(stderr, "telemetry reader: the writer went quiet\n");
                break;
            }
            continue;
        }
        if (rc != SHMB_OK) {
            fprintf(stderr, "telemetry reader: read: %s\n", shmb_strerror(rc));
            break;
        }
        quiet_since = GetTickCount64();
        if (len == 0)
            continue; /* a writer formatted it, nothing published yet */
        if (len != sizeof(t) ||
            t.checksum !=
                example_fnv1a(&t, offsetof(example_telemetry, checksum))) {
            fprintf(stderr, "telemetry reader: a sample is corrupt\n");
            status = 3;
            break;
        }
        seen++;
        if (seen == 1 || t.last || t.sample % 10 == 0)
            printf("telemetry reader: sample %llu from pid %lu: load %.2f "
                   "%.2f %.2f\n",
                   (unsigned long long)t.sample, (unsigned long)t.writer_pid,
                   t.load[0], t.load[1], t.load[2]);
        if (t.last) {
            printf("telemetry reader: saw %lu of %llu samples, every one "
                   "intact (a snapshot keeps only the latest)\n",
                   seen, (unsigned long long)t.sample);
            status = 0;
            break;
        }
    }
    example_session_end(&s);
    return status;
}
