/* SPDX-License-Identifier: MPL-2.0 */
/*
 * broker.h - the portable broker: one call per request frame, no I/O.
 * The platform server owns the sockets/pipes and calls in here.
 */
#ifndef SHMB_BROKER_H
#define SHMB_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include "platform.h"
#include "shmb_config.h"
#include "shmb_identity.h"
#include "shmb_log.h"

typedef struct broker broker;

/* 1 while the process `pid` created at `created` (shmb_identity's
 * process_created) is alive, 0 once it is gone - a different process with
 * the same pid is "gone". When it cannot tell, it must answer 1. */
typedef int (*broker_process_alive_fn)(uint32_t pid, uint64_t created);
typedef struct broker_conn broker_conn;

typedef struct broker_outcome {
    int close_after;  /* close the connection once the reply is out */
    int has_grant;    /* the reply carries a freshly granted handle */
    plat_grant grant; /* revoke it if the reply is not delivered */
} broker_outcome;

typedef struct broker_stats {
    size_t regions;
    size_t clients;
    uint64_t committed; /* including draining regions */
    size_t draining;    /* retired regions whose sections may be mapped */
} broker_stats;

/* Takes a private copy of cfg. */
broker *broker_new(const shmb_config *cfg, const shmb_logger *log);
/* Creates the regions the config declares. On failure says which and why;
 * the service must then refuse to start. */
int broker_create_config_regions(broker *b, char *why, size_t whycap);
/* Frees every region and connection (service stop). */
void broker_free(broker *b);

/* Registers a connection. Takes ownership of *id's heap parts on success.
 * SHMB_E_LIMIT_REACHED (with the limit named in why) when max_clients
 * connections exist, or clients_per_user of this principal. */
int broker_conn_open(broker *b, plat_peer *peer, shmb_identity *id,
                     broker_conn **out, char *why, size_t whycap);
/* Whether the version handshake is done (the server times it). */
int broker_conn_hello_done(const broker_conn *c);
/* Drops the connection's holdings (freeing `client` regions nobody holds). */
void broker_conn_close(broker_conn *c);
const shmb_identity *broker_conn_identity(const broker_conn *c);

/* Handles one request payload; returns the reply payload (malloc'd JSON) or
 * NULL when memory is exhausted (then close the connection). */
char *broker_handle(broker_conn *c, const uint8_t *payload, size_t len,
                    broker_outcome *out);

/* Reply to send when a connection is refused before registration. */
char *broker_reply_refused(int code, const char *message);

void broker_get_stats(const broker *b, broker_stats *st);

/* What the server knows and the broker does not, for the "stats" op. */
typedef struct broker_server_counts {
    uint64_t connections; /* open, registered or not */
    uint64_t paused;      /* not read until their replies drain */
    uint64_t yielded;     /* frames wait for the next loop iteration */
    uint64_t writes;      /* replies queued, not yet written */
    uint64_t frames;      /* frames answered since the start */
} broker_server_counts;
typedef void (*broker_server_counts_fn)(void *ctx, broker_server_counts *out);

/* The server registers how to read its counts (fn NULL: none; the stats
 * reply then shows zeros). */
void broker_set_server_counts(broker *b, broker_server_counts_fn fn, void *ctx);

/* The limits in force. The broker owns the configuration: the server reads
 * max_frame, hello_timeout_ms, max_clients... from here rather than from a
 * copy of its own. The pointer stays valid for the broker's life and
 * follows broker_reconfigure. */
const shmb_limits *broker_limits(const broker *b);

/* Applies a reloaded configuration's rules and limits (pipe settings and
 * config regions stay as they were at start). This is the one place a
 * reload changes. Grants already made and regions that exist are not
 * revisited. Returns SHMB_OK or SHMB_E_NOMEM (then the old configuration
 * stays). */
int broker_reconfigure(broker *b, const shmb_config *cfg);

/* Lets the broker ask whether a process that has closed its connections
 * still lives (docs/security.md, "Round two: principals and limits"). Without
 * it, such a process counts as gone once its last connection closes. */
void broker_set_process_probe(broker *b, broker_process_alive_fn fn);

/* Releases the commit of retired regions whose sections are gone. Call it
 * now and then (the service does, every second). Looking at a retired
 * region costs system calls, and there may be thousands of them: a pass
 * goes in steps of at most `budget` regions each, so the loop serves its
 * connections between steps. Returns 1 while the pass is unfinished (call
 * again soon), 0 when it has looked at every region. */
int broker_sweep_step(broker *b, size_t budget);
/* A whole pass at once (tests). */
void broker_sweep(broker *b);

#endif
