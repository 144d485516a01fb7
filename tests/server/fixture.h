/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fixture.h - a real server (service/server.c) on a libuv loop with the
 * fake platform, and test clients on socketpairs that speak frames to it:
 * shared by the server tests (test_server.c) and the walk of the protocol
 * document's examples (test_doc_examples.c).
 */
#ifndef SHMB_TEST_FIXTURE_H
#define SHMB_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "fake_channel.h"
#include "server.h"

#define ME "S-1-5-21-7-7-7-1001"
#define WAIT_MS 30000 /* a bound for a loaded machine, not a timing */

typedef struct fixture {
    uv_loop_t loop;
    broker *b;
    server *srv;
    shmb_logger log;
    char logged[16384]; /* the log lines so far (the first 16 KiB) */
    size_t nlogged;
    int loop_on; /* the loop is initialised and not closed yet */
} fixture;

typedef struct tclient {
    int fd;
    uint32_t next_id;
    uint8_t buf[1 << 17]; /* replies are at most 64 KiB (max_frame) */
    size_t have;
} tclient;

/* Every client starts closed, so a test's cleanup can close them all. */
#define TCLIENT_INIT                                                           \
    {                                                                          \
        -1, 0, {0}, 0                                                          \
    }

/* Starts a broker with `config_json` (NULL: the built-in defaults) and a
 * server on the fake listener; 0 on success. */
int fixture_up(fixture *f, const char *config_json);
/* Stops the server, lets every close finish, frees the broker; 0 when
 * nothing is left behind. Once only: a test's cleanup calls it again. */
int fixture_down(fixture *f);

int connect_spec(fixture *f, tclient *c, const fake_peer_spec *spec);
/* Connects as ME, medium integrity. */
int connect_me(fixture *f, tclient *c);
void client_close(tclient *c);
/* Writes all of buf (pumping the loop while the socket is full). */
int send_raw(fixture *f, tclient *c, const void *buf, size_t len);
/* Sends `json` as one frame. */
int send_json(fixture *f, tclient *c, const char *json);
/* Sends a request body with the next id. */
int request(fixture *f, tclient *c, const char *body);
/* Reads one reply frame into out (NUL-terminated). 1 = got one, 0 = none
 * within WAIT_MS, -1 = the server closed the connection. */
int recv_reply(fixture *f, tclient *c, char *out, size_t cap);
/* The next reply contains `want`. */
int expect(fixture *f, tclient *c, const char *want);
/* Runs the loop once without waiting; true, so it can sit in a condition. */
int pump(fixture *f);
int call(fixture *f, tclient *c, const char *body, const char *want);
int hello(fixture *f, tclient *c);
/* The server closed this connection (after any replies in flight). */
int closed_by_server(fixture *f, tclient *c);

#endif
