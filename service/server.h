/* SPDX-License-Identifier: MPL-2.0 */
/*
 * server.h - the control channel's server, portable: connections, frames
 * in and replies out on a libuv loop, backpressure and fairness, the
 * hello, frame and write deadlines, and grants whose reply never arrived. The
 * platform's listener supplies connected, identified byte streams (platform.h);
 * the broker answers.
 */
#ifndef SHMB_SERVER_H
#define SHMB_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "broker.h"
#include "shmb_log.h"

/* Stop reading from a client whose unread replies pass this, until they
 * drain below WRITE_QUEUE_LOW: a client that never reads cannot grow our
 * memory without bound. */
#define SERVER_WRITE_QUEUE_HIGH (1024u * 1024u)
#define SERVER_WRITE_QUEUE_LOW (256u * 1024u)
/* The same by count: replies queued but not yet written. Small replies
 * cost little memory each, but every one is a request answered - work a
 * client that does not read should not get done for it. */
#define SERVER_MAX_INFLIGHT 64u
#define SERVER_INFLIGHT_LOW 16u
/* Frames of one connection answered per loop iteration; the rest wait for
 * the next one, so a write full of expensive requests (list) cannot stall
 * the other clients. */
#define SERVER_FRAMES_PER_TURN 16u
/* Bytes a yielded connection may buffer before reading stops too. */
#define SERVER_YIELD_BUFFER (256u * 1024u)

typedef struct server server;

typedef struct server_stats {
    size_t connections; /* open, registered or not */
    size_t paused;      /* of which: not read until their replies drain */
    size_t yielded;     /* of which: frames wait for the next iteration */
    size_t writes;      /* replies queued, not yet written, in all */
    size_t writes_max;  /* ... for the connection with the most */
    uint64_t frames;    /* frames answered since the start */
} server_stats;

/* Starts listening on the control channel `name` (security descriptor
 * `sddl`): the platform refuses a name someone else holds, so the service
 * fails here, before it reports RUNNING. Limits come from the broker. */
int server_start(uv_loop_t *loop, broker *b, const char *name, const char *sddl,
                 const shmb_logger *log, server **out, char *why,
                 size_t whycap);

/* Stops accepting and closes every connection. Call on the loop thread;
 * the server is freed once the closes complete. */
void server_stop(server *srv);

void server_get_stats(const server *srv, server_stats *st);

#endif
