/* SPDX-License-Identifier: MPL-2.0 */
/*
 * frame.c - incremental decoder and encoder for length-prefixed frames.
 *
 * Invariant: off <= len <= cap, and the bytes in [off, len) start at a frame
 * boundary. Buffer growth is bounded by max_payload + header + one fed chunk
 * because a length is validated as soon as its header is complete.
 */
#include <stdlib.h>
#include <string.h>

#include "shmb_frame.h"
#include "shmb_types.h"

void shmb_frame_put_header(uint8_t out[SHMB_FRAME_HEADER], uint32_t len)
{
    out[0] = (uint8_t)(len & 0xffu);
    out[1] = (uint8_t)((len >> 8) & 0xffu);
    out[2] = (uint8_t)((len >> 16) & 0xffu);
    out[3] = (uint8_t)((len >> 24) & 0xffu);
}

uint32_t shmb_frame_get_header(const uint8_t in[SHMB_FRAME_HEADER])
{
    return (uint32_t)in[0] | ((uint32_t)in[1] << 8) | ((uint32_t)in[2] << 16) |
           ((uint32_t)in[3] << 24);
}

void shmb_frame_reader_init(shmb_frame_reader *r, uint32_t max_payload)
{
    memset(r, 0, sizeof(*r));
    if (max_payload == 0 || max_payload > SHMB_FRAME_LIMIT_CEILING)
        max_payload = SHMB_FRAME_LIMIT_CEILING;
    r->max_payload = max_payload;
}

void shmb_frame_reader_free(shmb_frame_reader *r)
{
    free(r->buf);
    memset(r, 0, sizeof(*r));
}

static void reader_compact(shmb_frame_reader *r)
{
    if (r->off == 0)
        return;
    memmove(r->buf, r->buf + r->off, r->len - r->off);
    r->len -= r->off;
    r->off = 0;
}

int shmb_frame_reader_feed(shmb_frame_reader *r, const void *data, size_t n)
{
    size_t need;

    if (r->failed)
        return SHMB_E_BAD_FRAME;
    if (n == 0)
        return 0;
    reader_compact(r);
    if (n > SIZE_MAX - r->len)
        return SHMB_E_NOMEM;
    need = r->len + n;
    if (need > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        uint8_t *nb;
        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        nb = realloc(r->buf, cap);
        if (nb == NULL)
            return SHMB_E_NOMEM;
        r->buf = nb;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data, n);
    r->len = need;
    return 0;
}

int shmb_frame_reader_next(shmb_frame_reader *r, const uint8_t **payload,
                           size_t *len)
{
    size_t avail;
    uint32_t flen;

    if (r->failed)
        return SHMB_E_BAD_FRAME;
    avail = r->len - r->off;
    if (avail < SHMB_FRAME_HEADER)
        return 0;
    flen = shmb_frame_get_header(r->buf + r->off);
    if (flen == 0 || flen > r->max_payload) {
        r->failed = 1;
        return SHMB_E_BAD_FRAME;
    }
    if (avail - SHMB_FRAME_HEADER < flen)
        return 0;
    *payload = r->buf + r->off + SHMB_FRAME_HEADER;
    *len = flen;
    r->off += SHMB_FRAME_HEADER + (size_t)flen;
    return 1;
}

size_t shmb_frame_reader_pending(const shmb_frame_reader *r)
{
    return r->len - r->off;
}

uint8_t *shmb_frame_encode(const void *payload, size_t len,
                           uint32_t max_payload, size_t *out_len)
{
    uint8_t *out;

    if (len == 0 || len > max_payload || len > SHMB_FRAME_LIMIT_CEILING)
        return NULL;
    out = malloc(SHMB_FRAME_HEADER + len);
    if (out == NULL)
        return NULL;
    shmb_frame_put_header(out, (uint32_t)len);
    memcpy(out + SHMB_FRAME_HEADER, payload, len);
    *out_len = SHMB_FRAME_HEADER + len;
    return out;
}
