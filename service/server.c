/* SPDX-License-Identifier: MPL-2.0 */
/*
 * server.c - serves the control channel on a libuv loop, the same on every
 * platform: it takes connected, identified streams from the platform's
 * listener, reads length-prefixed frames, has the broker answer each one
 * and writes the replies back in order.
 *
 * What it guards against (docs/security.md):
 *   - a client that sends many cheap requests and never reads the large
 *     replies: reading stops once its unsent replies pass
 *     SERVER_WRITE_QUEUE_HIGH and resumes below SERVER_WRITE_QUEUE_LOW;
 *   - a client that pipelines many requests: at most SERVER_MAX_INFLIGHT
 *     of its replies wait unwritten before reading stops, too;
 *   - a client whose requests are expensive (list): at most
 *     SERVER_FRAMES_PER_TURN of its frames are answered per loop iteration;
 *     the rest wait for the next one (an idle handle), so every other
 *     connection is served in between;
 *   - a client that stops reading: dropped once no reply of its could be
 *     written for limits.write_timeout_ms;
 *   - a client that connects and never says hello: it is told why and
 *     dropped after limits.hello_timeout_ms;
 *   - a frame left incomplete: told why and dropped after
 *     limits.frame_timeout_ms, before and after hello;
 *   - a reply carrying a fresh handle that cannot be delivered: the handle
 *     is closed inside the client (plat_grant_revoke), never leaked there;
 *   - a bad frame: an error reply, then only that connection closes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "server.h"
#include "shmb_frame.h"
#include "shmb_proto.h"

typedef struct conn {
    uv_pipe_t pipe;         /* first: libuv callbacks cast back to conn */
    uv_timer_t hello_timer; /* limits.hello_timeout_ms */
    uv_timer_t frame_timer; /* limits.frame_timeout_ms, while a frame is
                               incomplete */
    uv_timer_t write_timer; /* limits.write_timeout_ms, while replies wait */
    uv_idle_t resume;       /* answers the next batch of frames */
    int handles_on;         /* the timers and the idle are initialised */
    int hello_seen;
    int closes_pending; /* handles still closing; freed at 0 */
    server *srv;
    broker_conn *bc;
    plat_peer *peer;
    shmb_frame_reader rd;
    uint32_t pid;
    int closing;
    int paused;       /* not read until its replies drain */
    int yielded;      /* complete frames wait for the next loop iteration */
    int frame_timing; /* frame_timer runs */
    size_t writes;    /* replies queued, not yet written */
    struct conn *prev, *next;
} conn;

typedef struct write_req {
    uv_write_t req;
    conn *c;
    uint8_t *buf;
    int has_grant;
    plat_grant grant;
    int close_after;
} write_req;

struct server {
    uv_loop_t *loop;
    broker *b;
    const shmb_logger *log;
    plat_listener *listener;
    conn *conns;
    size_t nconns;
    uint64_t frames; /* frames answered, for server_get_stats */
    int stopping;
};

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void handle_frames(conn *c);

/* ---- connection life -------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

static void on_close(uv_handle_t *h)
{
    conn *c = h->data;
    server *srv = c->srv;
    if (--c->closes_pending > 0)
        return;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    srv->nconns--;
    shmb_frame_reader_free(&c->rd);
    plat_peer_free(c->peer);
    free(c);
    /* libuv may run close callbacks in any order: the last one out frees. */
    if (srv->stopping && srv->conns == NULL)
        free(srv);
}

static void conn_close(conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    if (c->bc != NULL) {
        broker_conn_close(c->bc);
        c->bc = NULL;
    }
    c->closes_pending = 1 + (c->handles_on ? 4 : 0);
    if (c->handles_on) {
        uv_close((uv_handle_t *)&c->hello_timer, on_close);
        uv_close((uv_handle_t *)&c->frame_timer, on_close);
        uv_close((uv_handle_t *)&c->write_timer, on_close);
        uv_close((uv_handle_t *)&c->resume, on_close);
    }
    uv_close((uv_handle_t *)&c->pipe, on_close);
}

/* Reading resumes only when backpressure does not hold it (a yield stops
 * it only once SERVER_YIELD_BUFFER bytes wait). */
static void conn_read_maybe(conn *c)
{
    if (!c->closing && !c->paused && !c->yielded)
        uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

/* ---- replies out ------------------------------------------------------ */

static size_t queued(conn *c)
{
    return uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe);
}

/* Replies wait, and the client has not taken one for this long: it stopped
 * reading. Pausing alone would hold its slot, its buffered requests and
 * any handles in its unsent replies forever. No error frame: it would
 * queue behind the ones that do not move. */
static void on_write_timeout(uv_timer_t *t)
{
    conn *c = t->data;
    if (c->closing)
        return;
    shmb_log_event(c->srv->log, SHMB_LOG_WARN, SHMB_EV_WRITE_TIMEOUT,
                   "pid=%u replies=%zu bytes=%zu write_timeout_ms=%u",
                   (unsigned)c->pid, c->writes, queued(c),
                   (unsigned)broker_limits(c->srv->b)->write_timeout_ms);
    conn_close(c);
}

/* The write deadline restarts whenever a reply has gone out: it bounds the
 * time without progress, not the time a long backlog takes to drain. */
static void write_timer_restart(conn *c)
{
    if (c->closing)
        return;
    if (c->writes == 0)
        uv_timer_stop(&c->write_timer);
    else
        uv_timer_start(&c->write_timer, on_write_timeout,
                       broker_limits(c->srv->b)->write_timeout_ms, 0);
}

static int over_high_water(conn *c)
{
    return queued(c) > SERVER_WRITE_QUEUE_HIGH ||
           c->writes >= SERVER_MAX_INFLIGHT;
}

static int below_low_water(conn *c)
{
    return queued(c) < SERVER_WRITE_QUEUE_LOW &&
           c->writes <= SERVER_INFLIGHT_LOW;
}

static void on_write(uv_write_t *req, int status)
{
    write_req *w = (write_req *)req;
    conn *c = w->c;
    int close_after = w->close_after;

    if (status < 0 && w->has_grant) {
        /* The client never learned this handle's value: close it inside
         * the client rather than leak it there. */
        plat_grant_revoke(c->peer, &w->grant);
        shmb_log_event(c->srv->log, SHMB_LOG_WARN, SHMB_EV_UNDELIVERED,
                       "pid=%u handle=0x%llx status=%s", (unsigned)c->pid,
                       (unsigned long long)w->grant.handle,
                       uv_err_name(status));
    }
    free(w->buf);
    free(w);
    c->writes--;
    if (status < 0 || close_after) {
        conn_close(c);
        return;
    }
    write_timer_restart(c);
    if (c->paused && !c->closing && below_low_water(c)) {
        /* Answer what is already buffered first; that may pause again. */
        c->paused = 0;
        if (!c->yielded)
            handle_frames(c);
        conn_read_maybe(c);
    }
}

/* Frames and queues one reply. Takes ownership of `json`; on failure
 * revokes the grant the reply carried and closes the connection. */
static int send_reply(conn *c, char *json, const broker_outcome *oc)
{
    write_req *w = calloc(1, sizeof(*w));
    size_t len = 0;
    uv_buf_t ub;

    if (w != NULL && json != NULL)
        w->buf = shmb_frame_encode(json, strlen(json), SHMB_FRAME_LIMIT_CEILING,
                                   &len);
    free(json);
    if (w == NULL || w->buf == NULL) {
        if (oc->has_grant)
            plat_grant_revoke(c->peer, &oc->grant);
        free(w);
        conn_close(c);
        return -1;
    }
    w->c = c;
    w->has_grant = oc->has_grant;
    w->grant = oc->grant;
    w->close_after = oc->close_after;
    ub = uv_buf_init((char *)w->buf, (unsigned int)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &ub, 1, on_write) != 0) {
        if (w->has_grant)
            plat_grant_revoke(c->peer, &w->grant);
        free(w->buf);
        free(w);
        conn_close(c);
        return -1;
    }
    if (c->writes++ == 0 && c->handles_on)
        write_timer_restart(c);
    return 0;
}

/* Sends a last error frame that no request asked for, then closes. */
static void send_final_error(conn *c, int code, const char *message)
{
    broker_outcome oc;
    memset(&oc, 0, sizeof(oc));
    oc.close_after = 1;
    /* Stop reading: a next read could close the connection before this
     * reply is out. */
    uv_read_stop((uv_stream_t *)&c->pipe);
    send_reply(c, shmb_reply_error(0, 0, code, message), &oc);
}

/* ---- frames in -------------------------------------------------------- */

/* A frame that stays incomplete ties up a connection (and, after hello,
 * nothing else would ever close it): tell the client and drop it. */
static void on_frame_timeout(uv_timer_t *t)
{
    conn *c = t->data;
    char msg[128];
    if (c->closing)
        return;
    snprintf(msg, sizeof(msg),
             "frame incomplete after limits.frame_timeout_ms (%u ms)",
             (unsigned)broker_limits(c->srv->b)->frame_timeout_ms);
    shmb_log_event(c->srv->log, SHMB_LOG_WARN, SHMB_EV_FRAME_TIMEOUT,
                   "pid=%u buffered=%zu", (unsigned)c->pid,
                   shmb_frame_reader_pending(&c->rd));
    send_final_error(c, SHMB_E_BAD_FRAME, msg);
}

/* Called when the reader needs more bytes. The deadline runs from the
 * moment the incomplete frame began: a frame that started in this pass
 * (`fresh`) restarts it, one still trickling in does not. */
static void frame_timer_update(conn *c, int fresh)
{
    if (shmb_frame_reader_pending(&c->rd) == 0) {
        uv_timer_stop(&c->frame_timer);
        c->frame_timing = 0;
    } else if (fresh || !c->frame_timing) {
        uv_timer_start(&c->frame_timer, on_frame_timeout,
                       broker_limits(c->srv->b)->frame_timeout_ms, 0);
        c->frame_timing = 1;
    }
}

/* The stall is ours (backpressure or a yield), not the client's. */
static void frame_timer_hold(conn *c)
{
    uv_timer_stop(&c->frame_timer);
    c->frame_timing = 0;
}

static void on_resume(uv_idle_t *idle)
{
    conn *c = idle->data;
    uv_idle_stop(idle);
    c->yielded = 0;
    if (c->closing)
        return;
    if (!c->paused)
        handle_frames(c);
    conn_read_maybe(c);
}

/* Answers the complete frames buffered for `c`, but stops - leaving the
 * rest buffered and reading stopped - when:
 *   - the replies waiting to be written pass the high-water marks (bytes
 *     or count): a client that sends many cheap requests whose replies are
 *     large, and never reads them, cannot make us queue more than about
 *     SERVER_WRITE_QUEUE_HIGH plus one reply, nor more than
 *     SERVER_MAX_INFLIGHT replies; on_write resumes;
 *   - SERVER_FRAMES_PER_TURN frames were answered: one write full of
 *     expensive requests must not hold the loop, so the rest wait for the
 *     next loop iteration (on_resume), after every other ready client;
 *     meanwhile on_read only buffers what arrives. */
static void handle_frames(conn *c)
{
    const uint8_t *payload;
    size_t len;
    broker_outcome oc;
    unsigned done = 0;
    int r;

    while (!c->closing) {
        if (over_high_water(c)) {
            c->paused = 1;
            uv_read_stop((uv_stream_t *)&c->pipe);
            frame_timer_hold(c);
            return;
        }
        if (done == SERVER_FRAMES_PER_TURN) {
            /* Reading goes on - on_read only buffers, up to
             * SERVER_YIELD_BUFFER - so a yield costs no read restart
             * (on Windows, cancelling and queueing a pipe read). */
            c->yielded = 1;
            frame_timer_hold(c);
            uv_idle_start(&c->resume, on_resume);
            return;
        }
        r = shmb_frame_reader_next(&c->rd, &payload, &len);
        if (r == 0) {
            frame_timer_update(c, done > 0);
            return;
        }
        if (r < 0) {
            shmb_log_event(c->srv->log, SHMB_LOG_WARN, SHMB_EV_BAD_FRAME,
                           "pid=%u max_frame=%u", (unsigned)c->pid,
                           (unsigned)broker_limits(c->srv->b)->max_frame);
            send_final_error(c, SHMB_E_BAD_FRAME,
                             "frame length is 0 or above limits.max_frame");
            return;
        }
        done++;
        c->srv->frames++;
        if (send_reply(c, broker_handle(c->bc, payload, len, &oc), &oc) < 0)
            return;
        if (!c->hello_seen && broker_conn_hello_done(c->bc)) {
            c->hello_seen = 1;
            uv_timer_stop(&c->hello_timer);
        }
        if (oc.close_after) {
            uv_read_stop((uv_stream_t *)&c->pipe);
            frame_timer_hold(c);
            return;
        }
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = (conn *)s;

    if (nread > 0 && !c->closing) {
        if (shmb_frame_reader_feed(&c->rd, buf->base, (size_t)nread) != 0)
            conn_close(c);
        else if (!c->yielded)
            handle_frames(c);
        else if (shmb_frame_reader_pending(&c->rd) > SERVER_YIELD_BUFFER)
            uv_read_stop(s); /* on_resume starts it again */
    } else if (nread < 0) {
        conn_close(c); /* EOF or broken stream: the client is gone */
    }
    free(buf->base);
}

/* A connection that does not say hello in time is holding a slot for
 * nothing: tell it why and close it. */
static void on_hello_timeout(uv_timer_t *t)
{
    conn *c = t->data;
    char msg[128];
    if (c->closing || c->hello_seen)
        return;
    snprintf(msg, sizeof(msg),
             "no hello within limits.hello_timeout_ms (%u ms)",
             (unsigned)broker_limits(c->srv->b)->hello_timeout_ms);
    shmb_log_event(c->srv->log, SHMB_LOG_WARN, SHMB_EV_HELLO_TIMEOUT, "pid=%u",
                   (unsigned)c->pid);
    send_final_error(c, SHMB_E_HANDSHAKE_REQUIRED, msg);
}

/* ---- accepting -------------------------------------------------------- */

/* Wraps an accepted stream for libuv; NULL (the stream closed) on failure. */
static conn *conn_adopt(server *srv, plat_accepted *a)
{
    conn *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        plat_stream_close(a->fd);
        return NULL;
    }
    uv_pipe_init(srv->loop, &c->pipe, 0);
    c->pipe.data = c;
    c->srv = srv;
    c->pid = a->id->pid;
    c->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
    if (uv_pipe_open(&c->pipe, a->fd) != 0) {
        plat_stream_close(a->fd);
        c->closing = 1;
        c->closes_pending = 1;
        uv_close((uv_handle_t *)&c->pipe, on_close);
        return NULL;
    }
    uv_timer_init(srv->loop, &c->hello_timer);
    uv_timer_init(srv->loop, &c->frame_timer);
    uv_timer_init(srv->loop, &c->write_timer);
    uv_idle_init(srv->loop, &c->resume);
    c->hello_timer.data = c;
    c->frame_timer.data = c;
    c->write_timer.data = c;
    c->resume.data = c;
    c->handles_on = 1;
    shmb_frame_reader_init(&c->rd, broker_limits(srv->b)->max_frame);
    c->peer = a->peer;
    a->peer = NULL;
    return c;
}

static void refuse(conn *c, int code, const char *why)
{
    broker_outcome oc;
    memset(&oc, 0, sizeof(oc));
    oc.close_after = 1;
    shmb_log_event(c->srv->log, SHMB_LOG_WARN, SHMB_EV_CONNECT_REFUSED,
                   "pid=%u code=%s reason=\"%s\"", (unsigned)c->pid,
                   shmb_err_name(code), why);
    send_reply(c, broker_reply_refused(code, why), &oc);
}

/* The platform's one way back in: a connected, identified stream. */
static void server_on_accepted(void *ctx, plat_accepted *a)
{
    server *srv = ctx;
    conn *c;
    int rc = a->rc;

    if (srv->stopping) {
        plat_stream_close(a->fd);
        return;
    }
    c = conn_adopt(srv, a);
    if (c == NULL)
        return;
    if (rc == SHMB_OK)
        rc = broker_conn_open(srv->b, c->peer, a->id, &c->bc, a->why,
                              sizeof(a->why));
    if (rc != SHMB_OK) {
        refuse(c, rc, a->why);
        return;
    }
    uv_timer_start(&c->hello_timer, on_hello_timeout,
                   broker_limits(srv->b)->hello_timeout_ms, 0);
    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

/* ---- start / stop ----------------------------------------------------- */

/* The broker's "stats" op shows these (broker_set_server_counts). */
static void server_counts(void *ctx, broker_server_counts *out)
{
    server_stats st;
    server_get_stats(ctx, &st);
    out->connections = st.connections;
    out->paused = st.paused;
    out->yielded = st.yielded;
    out->writes = st.writes;
    out->frames = st.frames;
}

int server_start(uv_loop_t *loop, broker *b, const char *name, const char *sddl,
                 const shmb_logger *log, server **out, char *why, size_t whycap)
{
    server *srv = calloc(1, sizeof(*srv));
    int rc;

    if (srv == NULL)
        return SHMB_E_NOMEM;
    srv->loop = loop;
    srv->b = b;
    srv->log = log;
    rc = plat_listener_start(loop, name, sddl, log, server_on_accepted, srv,
                             &srv->listener, why, whycap);
    if (rc != SHMB_OK) {
        free(srv);
        return rc;
    }
    broker_set_server_counts(b, server_counts, srv);
    *out = srv;
    return SHMB_OK;
}

void server_stop(server *srv)
{
    conn *c, *next;

    srv->stopping = 1;
    broker_set_server_counts(srv->b, NULL, NULL);
    plat_listener_stop(srv->listener);
    srv->listener = NULL;
    for (c = srv->conns; c != NULL; c = next) {
        next = c->next;
        conn_close(c);
    }
    if (srv->conns == NULL)
        free(srv);
}

void server_get_stats(const server *srv, server_stats *st)
{
    const conn *c;
    memset(st, 0, sizeof(*st));
    st->frames = srv->frames;
    for (c = srv->conns; c != NULL; c = c->next) {
        st->connections++;
        st->paused += c->paused;
        st->yielded += c->yielded;
        st->writes += c->writes;
        if (c->writes > st->writes_max)
            st->writes_max = c->writes;
    }
}
