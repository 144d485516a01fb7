/* SPDX-License-Identifier: MPL-2.0 */
/* fixture.c - the server test fixture (fixture.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_platform.h"
#include "fixture.h"
#include "shmb_frame.h"

static void capture(void *ctx, shmb_log_level level, const char *line)
{
    fixture *f = ctx;
    int n;
    (void)level;
    n = snprintf(f->logged + f->nlogged, sizeof(f->logged) - f->nlogged, "%s\n",
                 line);
    if (n > 0 && f->nlogged + (size_t)n < sizeof(f->logged))
        f->nlogged += (size_t)n;
}

int fixture_up(fixture *f, const char *config_json)
{
    shmb_config cfg;
    char why[SHMB_CONFIG_ERR_MAX];

    memset(f, 0, sizeof(*f));
    memset(&g_fake, 0, sizeof(g_fake));
    fake_channel_reset();
    if (config_json == NULL)
        shmb_config_defaults(&cfg, &shmb_conventions_windows);
    else if (shmb_config_parse(config_json, strlen(config_json), "t",
                               &shmb_conventions_windows, &cfg, why,
                               sizeof(why)) != SHMB_OK) {
        fprintf(stderr, "config: %s\n", why);
        return -1;
    }
    f->log.sink = capture;
    f->log.ctx = f;
    f->log.max_level = SHMB_LOG_DEBUG;
    uv_loop_init(&f->loop);
    f->loop_on = 1;
    f->b = broker_new(&cfg, &f->log);
    shmb_config_free(&cfg);
    if (f->b == NULL || server_start(&f->loop, f->b, "test", "D:", &f->log,
                                     &f->srv, why, sizeof(why)) != SHMB_OK)
        return -1;
    return 0;
}

/* Stops the server, lets every close finish, frees the broker; 0 when
 * nothing is left behind. Once only: a test's cleanup calls it again. */
int fixture_down(fixture *f)
{
    int rc;
    if (!f->loop_on)
        return 0;
    f->loop_on = 0;
    if (f->srv != NULL)
        server_stop(f->srv);
    f->srv = NULL;
    uv_run(&f->loop, UV_RUN_DEFAULT);
    broker_free(f->b);
    f->b = NULL;
    rc = uv_loop_close(&f->loop);
    if (rc != 0 || g_fake.live_sections != 0 || g_chan.listening) {
        fprintf(stderr, "left behind: loop %d, sections %d, listening %d\n", rc,
                g_fake.live_sections, g_chan.listening);
        return -1;
    }
    return 0;
}

int connect_spec(fixture *f, tclient *c, const fake_peer_spec *spec)
{
    (void)f;
    memset(c, 0, sizeof(*c));
    c->fd = fake_connect(spec);
    return c->fd >= 0 ? 0 : -1;
}

int connect_me(fixture *f, tclient *c)
{
    fake_peer_spec spec = {ME, NULL, 0, 0, SHMB_OK, NULL};
    return connect_spec(f, c, &spec);
}

void client_close(tclient *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* Writes all of buf (pumping the loop while the socket is full). */
int send_raw(fixture *f, tclient *c, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write(c->fd, p, len);
        if (n < 0 && errno != EAGAIN)
            return -1;
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else {
            uv_run(&f->loop, UV_RUN_NOWAIT);
        }
    }
    return 0;
}

int send_json(fixture *f, tclient *c, const char *json)
{
    uint8_t hdr[SHMB_FRAME_HEADER];
    shmb_frame_put_header(hdr, (uint32_t)strlen(json));
    return send_raw(f, c, hdr, sizeof(hdr)) ||
           send_raw(f, c, json, strlen(json));
}

/* Sends a request body with the next id. */
int request(fixture *f, tclient *c, const char *body)
{
    char req[1024];
    snprintf(req, sizeof(req), "{\"id\":%u,%s}", (unsigned)++c->next_id, body);
    return send_json(f, c, req);
}

/* Reads one reply frame into out (NUL-terminated). 1 = got one, 0 = none
 * within WAIT_MS, -1 = the server closed the connection. */
int recv_reply(fixture *f, tclient *c, char *out, size_t cap)
{
    uint64_t deadline = uv_now(&f->loop) + WAIT_MS;
    for (;;) {
        if (c->have >= SHMB_FRAME_HEADER) {
            uint32_t len = shmb_frame_get_header(c->buf);
            if (c->have >= SHMB_FRAME_HEADER + len) {
                size_t n = len < cap - 1 ? len : cap - 1;
                memcpy(out, c->buf + SHMB_FRAME_HEADER, n);
                out[n] = '\0';
                c->have -= SHMB_FRAME_HEADER + len;
                memmove(c->buf, c->buf + SHMB_FRAME_HEADER + len, c->have);
                return 1;
            }
        }
        ssize_t n = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);
        if (n == 0)
            return -1;
        if (n > 0) {
            c->have += (size_t)n;
            continue;
        }
        if (errno != EAGAIN)
            return -1;
        uv_run(&f->loop, UV_RUN_NOWAIT);
        uv_update_time(&f->loop);
        if (uv_now(&f->loop) > deadline)
            return 0;
        uv_sleep(1);
    }
}

/* The next reply contains `want`. */
int expect(fixture *f, tclient *c, const char *want)
{
    char reply[65536];
    int r = recv_reply(f, c, reply, sizeof(reply));
    if (r != 1 || strstr(reply, want) == NULL) {
        fprintf(stderr, "reply (%d): %s\n  want: %s\n", r, r == 1 ? reply : "-",
                want);
        return 0;
    }
    return 1;
}

/* Runs the loop once without waiting; true, so it can sit in a condition. */
int pump(fixture *f)
{
    uv_run(&f->loop, UV_RUN_NOWAIT);
    return 1;
}

int call(fixture *f, tclient *c, const char *body, const char *want)
{
    return request(f, c, body) == 0 && expect(f, c, want);
}

int hello(fixture *f, tclient *c)
{
    return call(f, c, "\"op\":\"hello\",\"versions\":[1]", "\"version\":1");
}

/* The server closed this connection (after any replies in flight). */
int closed_by_server(fixture *f, tclient *c)
{
    char reply[4096];
    int r;
    while ((r = recv_reply(f, c, reply, sizeof(reply))) == 1)
        ;
    return r == -1;
}
