/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_frame.c - libFuzzer target: the frame decoder as the server drives
 * it (service/server.c): an arbitrary byte stream arrives in arbitrary
 * chunks, and between chunks some or all of the complete frames are taken
 * out - all of them normally, only a few when the server yields or is
 * paused by backpressure, so bytes pile up across several reads.
 *
 * Oracle: a plain decoder that sees the whole stream at once. Whatever the
 * chunking, the reader must yield exactly its frames, byte for byte, then
 * fail at the same point or wait for more; a failed reader stays failed;
 * pending() is always the bytes fed and not yet handed out; and after a
 * full drain the buffered bytes stay below one frame plus one read. Each
 * frame also survives shmb_frame_encode unchanged.
 *
 * Input: limit (2 bytes), schedule length n (1 byte), n schedule bytes, the
 * stream. Each schedule byte b feeds (b >> 1) + 1 bytes; when its low bit
 * is set, up to b >> 1 complete frames (0: all) are taken out first. The
 * schedule repeats; once the stream is fed, everything is taken out.
 */
#include <stdlib.h>
#include <string.h>

#include "shmb_frame.h"
#include "shmb_types.h"

typedef struct oracle {
    size_t frames; /* complete frames in the stream */
    int fails;     /* a bad header follows the last of them */
} oracle;

/* The whole stream at once: what any chunking must come to. */
static void oracle_run(const uint8_t *s, size_t n, uint32_t max, oracle *o,
                       size_t *offs, size_t *lens)
{
    size_t pos = 0;
    uint32_t flen;

    o->frames = 0;
    o->fails = 0;
    while (n - pos >= SHMB_FRAME_HEADER) {
        flen = shmb_frame_get_header(s + pos);
        if (flen == 0 || flen > max) {
            o->fails = 1;
            return;
        }
        if (n - pos - SHMB_FRAME_HEADER < flen)
            return;
        offs[o->frames] = pos + SHMB_FRAME_HEADER;
        lens[o->frames] = flen;
        o->frames++;
        pos += SHMB_FRAME_HEADER + flen;
    }
}

static void check_encode(const uint8_t *payload, size_t len, uint32_t max)
{
    size_t out_len = 0;
    uint8_t *enc = shmb_frame_encode(payload, len, max, &out_len);
    if (enc == NULL || out_len != SHMB_FRAME_HEADER + len ||
        shmb_frame_get_header(enc) != len ||
        memcmp(enc + SHMB_FRAME_HEADER, payload, len) != 0)
        abort();
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    shmb_frame_reader rd;
    const uint8_t *sched, *stream, *payload;
    size_t nsched, nstream, fed = 0, taken = 0, got = 0, step = 0, plen;
    size_t *offs, *lens;
    uint32_t max;
    oracle o;
    int r = 0, failed = 0, drained = 1;

    if (size < 3)
        return 0;
    /* Small limits, so that "above the limit" is often hit. */
    max = 1u + (((uint32_t)data[0] | (uint32_t)data[1] << 8) % 1024u);
    nsched = data[2];
    if (nsched > size - 3)
        nsched = size - 3;
    sched = data + 3;
    stream = sched + nsched;
    nstream = size - 3 - nsched;

    offs = malloc((nstream / (SHMB_FRAME_HEADER + 1) + 1) * sizeof(*offs));
    lens = malloc((nstream / (SHMB_FRAME_HEADER + 1) + 1) * sizeof(*lens));
    if (offs == NULL || lens == NULL)
        abort();
    oracle_run(stream, nstream, max, &o, offs, lens);

    shmb_frame_reader_init(&rd, max);
    for (;;) {
        /* No schedule: the whole stream in one read, then a full drain. */
        uint8_t op = nsched > 0 ? sched[step++ % nsched] : 0;
        size_t want;

        if (fed == nstream || (op & 1u) != 0) {
            want = fed == nstream || op >> 1 == 0 ? (size_t)-1 : op >> 1;
            r = 1;
            while (want-- > 0) {
                r = shmb_frame_reader_next(&rd, &payload, &plen);
                if (r != 1)
                    break;
                if (got >= o.frames || plen != lens[got] || plen > max ||
                    memcmp(payload, stream + offs[got], plen) != 0)
                    abort(); /* not the frame the stream holds */
                if (got < 4) /* a malloc each: a few per input will do */
                    check_encode(payload, plen, max);
                taken += SHMB_FRAME_HEADER + plen;
                got++;
            }
            if (r < 0) {
                if (r != SHMB_E_BAD_FRAME || !o.fails || got != o.frames)
                    abort(); /* failed where the stream is fine */
                failed = 1;
                break;
            }
            drained = r == 0;
            if (fed == nstream)
                break;
        }
        {
            /* Every step feeds, so that any schedule ends. */
            want = nsched > 0 ? (size_t)(op >> 1) + 1 : nstream - fed;
            if (want > nstream - fed)
                want = nstream - fed;
            if (shmb_frame_reader_feed(&rd, stream + fed, want) != 0)
                abort();
            fed += want;
            /* After a full drain only one frame's head plus this read may
             * be held: a stream cannot make the reader hoard. */
            if (drained &&
                shmb_frame_reader_pending(&rd) > SHMB_FRAME_HEADER + max + want)
                abort();
            drained = 0;
        }
        if (shmb_frame_reader_pending(&rd) != fed - taken)
            abort();
    }
    if (failed) {
        /* Sticky: nothing more comes out and nothing more goes in. */
        if (shmb_frame_reader_next(&rd, &payload, &plen) != SHMB_E_BAD_FRAME ||
            shmb_frame_reader_feed(&rd, "x", 1) != SHMB_E_BAD_FRAME)
            abort();
    } else if (got != o.frames || o.fails) {
        abort(); /* missed frames, or missed the bad header */
    }
    shmb_frame_reader_free(&rd);
    free(offs);
    free(lens);
    return 0;
}
