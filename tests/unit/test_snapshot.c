/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_snapshot.c - the sequence-locked latest value over ordinary memory:
 * round trip, limits, a hostile writer's length and sequence, readers that
 * never write, torn reads under a racing writer, and waiting.
 */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#endif
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32)
#include <sys/mman.h>
#endif

#include "harness.h"
#include "dp_sync.h"

#define SEQ_OFF 64
#define LEN_OFF 72

int test_snapshot_roundtrip(void)
{
    size_t size = shmb_snapshot_footprint(256);
    unsigned char *mem = dp_alloc(size);
    unsigned char buf[256], small[4];
    shmb_snapshot w, r;
    uint64_t seq = 99;
    size_t len;

    CHECK(mem != NULL);
    CHECK_INT(shmb_snapshot_format(mem, size, 0), SHMB_OK);
    CHECK_INT(shmb_snapshot_attach_writer(&w, mem, size, NULL), SHMB_OK);
    CHECK_INT(shmb_snapshot_attach_reader(&r, mem, size, NULL), SHMB_OK);
    CHECK_INT(shmb_snapshot_read(&r, buf, sizeof(buf), &len, &seq), SHMB_OK);
    CHECK_INT(len, 0);
    CHECK_INT(seq, 0);
    CHECK_INT(shmb_snapshot_wait(&r, 0, 0), SHMB_E_TIMEOUT);
    CHECK_INT(shmb_snapshot_publish(&w, "hello", 5), SHMB_OK);
    CHECK_INT(shmb_snapshot_wait(&r, 0, 0), SHMB_OK);
    CHECK_INT(shmb_snapshot_read(&r, buf, sizeof(buf), &len, &seq), SHMB_OK);
    CHECK_INT(len, 5);
    CHECK_INT(seq, 2);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_INT(shmb_snapshot_publish(&w, "hi", 2), SHMB_OK);
    CHECK_INT(shmb_snapshot_read(&r, buf, sizeof(buf), &len, &seq), SHMB_OK);
    CHECK_INT(len, 2);
    CHECK_INT(seq, 4);
    CHECK_INT(shmb_snapshot_read(&r, small, 1, &len, NULL),
              SHMB_E_INVALID_SIZE);
    CHECK_INT(len, 2);
    CHECK_INT(shmb_snapshot_publish(&w, buf, 257), SHMB_E_INVALID_SIZE);
    CHECK_INT(shmb_snapshot_publish(&w, buf, 256), SHMB_OK);
    /* A writer that died mid-publish: the next one completes the
     * sequence and readers carry on. */
    CHECK_INT(shmb_snapshot_format(mem + 8, size - 8, 0), SHMB_E_INVALID_ARG);
    memcpy(buf, &(uint64_t){7}, 8);
    memcpy(mem + SEQ_OFF, buf, 8);
    CHECK_INT(shmb_snapshot_read(&r, buf, sizeof(buf), &len, NULL),
              SHMB_E_BUSY);
    CHECK_INT(shmb_snapshot_attach_writer(&w, mem, size, NULL), SHMB_OK);
    CHECK_INT(shmb_snapshot_publish(&w, "new", 3), SHMB_OK);
    CHECK_INT(shmb_snapshot_read(&r, buf, sizeof(buf), &len, &seq), SHMB_OK);
    CHECK_INT(seq, 8);
    CHECK_INT(len, 3);
done:
    dp_free(mem);
    return TEST_RESULT;
}

int test_snapshot_hostile_writer(void)
{
    size_t size = shmb_snapshot_footprint(64);
    unsigned char *mem = dp_alloc(size);
    unsigned char buf[256];
    uint64_t v;
    shmb_snapshot w, r;
    size_t len;

    CHECK(mem != NULL);
    CHECK_INT(shmb_snapshot_format(mem, size, 64), SHMB_OK);
    CHECK_INT(shmb_snapshot_attach_writer(&w, mem, size, NULL), SHMB_OK);
    CHECK_INT(shmb_snapshot_attach_reader(&r, mem, size, NULL), SHMB_OK);
    CHECK_INT(shmb_snapshot_publish(&w, "x", 1), SHMB_OK);
    v = 65; /* beyond the capacity, with a buffer that would hold it */
    memcpy(mem + LEN_OFF, &v, 8);
    CHECK_INT(shmb_snapshot_read(&r, buf, sizeof(buf), &len, NULL),
              SHMB_E_PEER_CORRUPT);
    v = (uint64_t)-1;
    memcpy(mem + LEN_OFF, &v, 8);
    CHECK_INT(shmb_snapshot_read(&r, buf, sizeof(buf), &len, NULL),
              SHMB_E_PEER_CORRUPT);
    v = 3; /* a sequence stuck odd: bounded retries, then busy */
    memcpy(mem + SEQ_OFF, &v, 8);
    CHECK_INT(shmb_snapshot_read(&r, buf, sizeof(buf), &len, NULL),
              SHMB_E_BUSY);
    v = 1000; /* capacity beyond the mapping */
    memcpy(mem + 8, &v, 8);
    CHECK_INT(shmb_snapshot_attach_reader(&r, mem, size, NULL),
              SHMB_E_PEER_CORRUPT);
    memset(mem, 0, 4);
    CHECK_INT(shmb_snapshot_attach_reader(&r, mem, size, NULL),
              SHMB_E_PEER_CORRUPT);
done:
    dp_free(mem);
    return TEST_RESULT;
}

int test_snapshot_reader_never_writes(void)
{
#if defined(_WIN32)
    SKIP("mprotect: the native run proves it");
done:
    return TEST_RESULT;
#else
    size_t size = 4096;
    unsigned char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char buf[64];
    shmb_snapshot w, r;
    uint64_t seq = 0;
    size_t len;

    CHECK(mem != MAP_FAILED);
    CHECK_INT(shmb_snapshot_format(mem, size, 64), SHMB_OK);
    CHECK_INT(shmb_snapshot_attach_writer(&w, mem, size, NULL), SHMB_OK);
    CHECK_INT(shmb_snapshot_publish(&w, "telemetry", 9), SHMB_OK);
    /* A store by the reader through this view would kill the test. */
    CHECK(mprotect(mem, size, PROT_READ) == 0);
    CHECK_INT(shmb_snapshot_attach_reader(&r, mem, size, NULL), SHMB_OK);
    CHECK_INT(shmb_snapshot_read(&r, buf, sizeof(buf), &len, &seq), SHMB_OK);
    CHECK_INT(len, 9);
    CHECK_INT(shmb_snapshot_wait(&r, seq, 0), SHMB_E_TIMEOUT);
    CHECK_INT(shmb_snapshot_read(&r, buf, 2, &len, &seq), SHMB_E_INVALID_SIZE);
done:
    if (mem != MAP_FAILED)
        munmap(mem, size);
    return TEST_RESULT;
#endif
}

#define SNAP_READS 20000u

typedef struct writer_ctx {
    shmb_snapshot w;
    volatile int stop;
    uint64_t published;
} writer_ctx;

static int writer_main(void *arg)
{
    writer_ctx *x = arg;
    unsigned char buf[200];
    uint64_t i;
    size_t n;

    for (i = 1; !x->stop; i++) {
        /* Self-describing: every byte is the value's number. */
        n = 8 + (size_t)(i % 190);
        memset(buf, (int)(i & 0xff), n);
        if (shmb_snapshot_publish(&x->w, buf, n) != SHMB_OK)
            return 1;
    }
    x->published = i - 1;
    return 0;
}

int test_snapshot_racing_writer(void)
{
    size_t size = shmb_snapshot_footprint(200);
    unsigned char *mem = dp_alloc(size);
    dp_bell *bell = dp_bell_new();
    dp_end we = {NULL, NULL}, re = {NULL, NULL};
    shmb_wait_ops wops, rops;
    writer_ctx x;
    shmb_snapshot r;
    dp_thread *t = NULL;
    unsigned char buf[200];
    uint64_t seq = 0, last = 0;
    unsigned ok = 0, busy = 0;
    size_t len, i;
    int rc;

    CHECK(mem != NULL && bell != NULL);
    memset(&x, 0, sizeof(x));
    we.peer = bell;
    re.mine = bell;
    dp_ops(&wops, &we);
    dp_ops(&rops, &re);
    CHECK_INT(shmb_snapshot_format(mem, size, 200), SHMB_OK);
    CHECK_INT(shmb_snapshot_attach_writer(&x.w, mem, size, &wops), SHMB_OK);
    CHECK_INT(shmb_snapshot_attach_reader(&r, mem, size, &rops), SHMB_OK);
    t = dp_thread_start(writer_main, &x);
    CHECK(t != NULL);
    while (ok < SNAP_READS) {
        rc = shmb_snapshot_read(&r, buf, sizeof(buf), &len, &seq);
        if (rc == SHMB_E_BUSY) {
            busy++;
            continue;
        }
        CHECK_INT(rc, SHMB_OK);
        CHECK(seq >= last && (seq & 1) == 0);
        last = seq;
        if (seq == 0)
            continue;
        ok++;
        /* A clean copy is one value, never a mix of two. */
        CHECK_INT(len, 8 + (seq / 2) % 190);
        for (i = 0; i < len; i++)
            if (buf[i] != (unsigned char)((seq / 2) & 0xff))
                FAIL("torn value at seq %llu byte %zu", (unsigned long long)seq,
                     i);
        if (ok % 1000 == 0) /* the writer goes on: a newer value comes */
            CHECK_INT(shmb_snapshot_wait(&r, seq, 5000), SHMB_OK);
    }
    x.stop = 1;
    rc = dp_thread_join(t);
    t = NULL;
    CHECK_INT(rc, 0);
    CHECK_INT(shmb_snapshot_read(&r, buf, sizeof(buf), &len, &seq), SHMB_OK);
    CHECK(seq == 2 * x.published);
    /* No writer: the reader's wait ends at its timeout. */
    CHECK_INT(shmb_snapshot_wait(&r, seq, 50), SHMB_E_TIMEOUT);
    printf("snapshot: %u clean reads of %llu values, %u busy\n", ok,
           (unsigned long long)x.published, busy);
done:
    if (t != NULL) {
        x.stop = 1;
        dp_thread_join(t);
    }
    dp_bell_free(bell);
    dp_free(mem);
    return TEST_RESULT;
}

/* Waiting: in slices, and only for a complete value. */
int test_snapshot_wait_in_slices(void)
{
    size_t size = shmb_snapshot_footprint(64);
    unsigned char *mem = dp_alloc(size);
    dp_virtual_wait v;
    shmb_wait_ops ops;
    shmb_snapshot r;

    dp_virtual_ops(&ops, &v);
    CHECK(mem != NULL);
    CHECK_INT(shmb_snapshot_format(mem, size, 64), SHMB_OK);
    CHECK_INT(shmb_snapshot_attach_reader(&r, mem, size, &ops), SHMB_OK);
    /* A reader whose wake-up went to another reader: it must look again
     * every slice, not sleep out its whole timeout. */
    CHECK_INT(shmb_snapshot_wait(&r, 0, 1000), SHMB_E_TIMEOUT);
    CHECK(v.longest <= SHMB_SNAPSHOT_WAIT_SLICE_MS);
    CHECK(v.waits >= 1000 / SHMB_SNAPSHOT_WAIT_SLICE_MS);
    CHECK(v.now >= 1000 && v.now < 1000 + SHMB_SNAPSHOT_WAIT_SLICE_MS);
    /* A writer that died in the middle of a publish leaves the sequence
     * odd: a reader waits that out (no value is complete), it never returns
     * at once and spins. */
    v.now = 0;
    *(volatile uint64_t *)(mem + SEQ_OFF) = 3; /* stuck mid-publish */
    CHECK_INT(shmb_snapshot_wait(&r, 2, 0), SHMB_E_TIMEOUT);
    CHECK_INT(shmb_snapshot_wait(&r, 2, 100), SHMB_E_TIMEOUT);
    CHECK(v.now >= 100);
    /* Once complete and new, it returns. */
    *(volatile uint64_t *)(mem + SEQ_OFF) = 4;
    CHECK_INT(shmb_snapshot_wait(&r, 2, 100), SHMB_OK);
    CHECK_INT(shmb_snapshot_wait(&r, 4, 0), SHMB_E_TIMEOUT);
done:
    dp_free(mem);
    return TEST_RESULT;
}
