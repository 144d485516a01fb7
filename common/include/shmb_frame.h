/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmb_frame.h - length-prefixed framing for the control pipe.
 *
 * A frame is a 4-byte little-endian payload length followed by that many
 * bytes. A length of zero, or above the reader's limit, is a protocol error
 * detected from the header alone, so a hostile peer cannot make us buffer
 * more than one frame's worth of bytes.
 */
#ifndef SHMB_FRAME_H
#define SHMB_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define SHMB_FRAME_HEADER 4u
/* Absolute ceiling for any configured frame limit (16 MiB). */
#define SHMB_FRAME_LIMIT_CEILING (16u * 1024u * 1024u)
#define SHMB_FRAME_LIMIT_DEFAULT (64u * 1024u)

typedef struct shmb_frame_reader {
    uint8_t *buf;
    size_t len; /* bytes held */
    size_t off; /* bytes already handed out as frames */
    size_t cap;
    uint32_t max_payload;
    int failed; /* sticky: once a stream is bad it stays bad */
} shmb_frame_reader;

void shmb_frame_reader_init(shmb_frame_reader *r, uint32_t max_payload);
void shmb_frame_reader_free(shmb_frame_reader *r);

/* Appends bytes. Returns 0, SHMB_E_NOMEM, or SHMB_E_BAD_FRAME if the stream
 * already failed. */
int shmb_frame_reader_feed(shmb_frame_reader *r, const void *data, size_t n);

/* Yields the next complete frame. Returns 1 with *payload and *len set (valid
 * until the next feed or next call), 0 if more bytes are needed, or
 * SHMB_E_BAD_FRAME if the header announces a length of 0 or above the
 * limit. */
int shmb_frame_reader_next(shmb_frame_reader *r, const uint8_t **payload,
                           size_t *len);

/* Bytes buffered that do not yet form a frame. */
size_t shmb_frame_reader_pending(const shmb_frame_reader *r);

void shmb_frame_put_header(uint8_t out[SHMB_FRAME_HEADER], uint32_t len);
uint32_t shmb_frame_get_header(const uint8_t in[SHMB_FRAME_HEADER]);

/* Allocates header+payload in one buffer (free with free()). Returns NULL if
 * len is 0, above `max_payload`, or memory is short. */
uint8_t *shmb_frame_encode(const void *payload, size_t len,
                           uint32_t max_payload, size_t *out_len);

#endif
