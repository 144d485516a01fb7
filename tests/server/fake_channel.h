/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fake_channel.h - the control-channel and run-time half of platform.h for
 * native tests: "accepting" a connection is a socketpair whose one end goes
 * to the server (through the accept callback, as a real listener would)
 * and whose other end the test drives as the client. Sections come from
 * tests/unit/fake_platform.c.
 */
#ifndef SHMB_FAKE_CHANNEL_H
#define SHMB_FAKE_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "platform.h"

typedef struct fake_channel {
    int listening;        /* between plat_listener_start and _stop */
    int refuse_start;     /* next plat_listener_start fails */
    int streams_closed;   /* plat_stream_close calls */
    int peers_freed;      /* plat_peer_free calls */
    plat_state states[8]; /* plat_report_state calls, in order */
    int exit_codes[8];
    int nstates;
    const char *config_text; /* what plat_file_read_trusted returns */
    int config_rc;           /* ... or this error when config_text NULL */
    int reloads;             /* event=config_reloaded lines logged */
} fake_channel;

extern fake_channel g_chan;

/* A peer as the fake listener identifies it. */
typedef struct fake_peer_spec {
    const char *user; /* user SID */
    const char *appcontainer;
    uint32_t integrity;
    uint32_t pid;
    int rc;          /* SHMB_OK, or an identification failure */
    const char *why; /* with rc != SHMB_OK */
} fake_peer_spec;

/* Delivers a new connection to the listening server; returns the client's
 * end (non-blocking), or -1. */
int fake_connect(const fake_peer_spec *spec);

void fake_channel_reset(void);

#endif
