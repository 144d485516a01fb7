/* SPDX-License-Identifier: MPL-2.0 */
/*
 * server_win.h - the control-pipe server: pipe instances, connections,
 * frames in and replies out, on a libuv loop.
 */
#ifndef SHMB_SERVER_WIN_H
#define SHMB_SERVER_WIN_H

#include <uv.h>

#include "broker.h"
#include "shmb_config.h"
#include "shmb_log.h"

typedef struct server server;

/* Creates the first pipe instance (so a squatted or invalid pipe name fails
 * here, before the service reports RUNNING) and starts accepting. */
int server_start(uv_loop_t *loop, broker *b, const shmb_config *cfg,
                 const shmb_logger *log, server **out, char *why,
                 size_t whycap);
/* Stops accepting and closes every connection. Call on the loop thread;
 * the loop ends once the closes complete. Frees the server. */
void server_stop(server *srv);

#endif
