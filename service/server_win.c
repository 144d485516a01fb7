/* SPDX-License-Identifier: MPL-2.0 */
/*
 * server_win.c - serves the control pipe (DESIGN.md security rule 5).
 *
 * Why we create the pipe instances ourselves instead of uv_pipe_bind():
 * libuv creates named pipe instances with a NULL security descriptor (the
 * default DACL of the service's token) and without PIPE_REJECT_REMOTE_CLIENTS
 * or FILE_FLAG_FIRST_PIPE_INSTANCE. We need all three: the configured DACL
 * and low mandatory label so that exactly the intended (sandboxed) clients
 * can connect, remote clients refused by the kernel, and the first instance
 * flagged so nobody can have created the name before us. So an accept thread
 * creates each instance with CreateNamedPipeW, waits in ConnectNamedPipe,
 * identifies the client (impersonation must happen on a connected
 * instance), and hands the connected handle to the loop through
 * uv_async_send; the loop wraps it with uv_pipe_open and does all further
 * I/O with libuv.
 */
#include <windows.h>

#include <aclapi.h>
#include <io.h>
#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer_win.h"
#include "server_win.h"
#include "shmb_frame.h"
#include "shmb_proto.h"
#include "shmb_types.h"

#define PIPE_BUFFER 65536
/* Stop reading from a client whose unread replies pass this, until they
 * drain: a client that never reads cannot grow our memory without bound. */
#define WRITE_QUEUE_HIGH (1024u * 1024u)
#define WRITE_QUEUE_LOW (256u * 1024u)

typedef struct pending {
    HANDLE pipe;
    plat_peer *peer; /* NULL when identification failed */
    shmb_identity id;
    int rc;
    char why[160];
    struct pending *next;
} pending;

typedef struct conn {
    uv_pipe_t pipe;         /* first: libuv callbacks cast back to conn */
    uv_timer_t hello_timer; /* limits.hello_timeout_ms */
    int timer_on;           /* hello_timer initialised */
    int hello_seen;
    int closes_pending; /* handles still closing; freed at 0 */
    server *srv;
    broker_conn *bc;
    plat_peer *peer;
    shmb_frame_reader rd;
    uint32_t pid;
    int closing;
    int paused;
    struct conn *prev, *next;
} conn;

typedef struct write_req {
    uv_write_t req;
    conn *c;
    uint8_t *buf;
    int has_grant;
    uint64_t handle;
    int close_after;
} write_req;

struct server {
    uv_loop_t *loop;
    broker *b;
    const shmb_config *cfg;
    const shmb_logger *log;
    WCHAR pipe_name[SHMB_PIPE_NAME_MAX];
    PSECURITY_DESCRIPTOR sd;
    int has_label;
    HANDLE first;      /* first instance, handed to the thread */
    HANDLE stop_event; /* manual reset: tells the thread to finish */
    HANDLE thread;
    CRITICAL_SECTION lock;
    pending *head, *tail; /* guarded by lock */
    uv_async_t accepted;
    conn *conns;
    int stopping;
    int async_closed;
};

static void conn_close(conn *c);

/* ---- accept thread ----------------------------------------------------- */

static int pipe_is_ours(server *srv, HANDLE h)
{
    PSECURITY_DESCRIPTOR got = NULL;
    PSID owner = NULL, want = NULL;
    BOOL defaulted;
    int ours;
    if (GetSecurityInfo(h, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION, &owner,
                        NULL, NULL, NULL, &got) != ERROR_SUCCESS)
        return 0;
    ours = GetSecurityDescriptorOwner(srv->sd, &want, &defaulted) &&
           want != NULL && owner != NULL && EqualSid(owner, want);
    LocalFree(got);
    return ours;
}

static HANDLE pipe_instance(server *srv, int first)
{
    SECURITY_ATTRIBUTES sa;
    DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;

    HANDLE h;

    sa.nLength = sizeof(sa);
    sa.lpSecurityDescriptor = srv->sd;
    sa.bInheritHandle = FALSE;
    /* FIRST_PIPE_INSTANCE: fail if anyone created this name before us.
     * WRITE_DAC | WRITE_OWNER: so that the label can be set below. */
    open_mode |= WRITE_DAC | WRITE_OWNER;
    if (first)
        open_mode |= FILE_FLAG_FIRST_PIPE_INSTANCE;
    h = CreateNamedPipeW(srv->pipe_name, open_mode,
                         PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT |
                             PIPE_REJECT_REMOTE_CLIENTS,
                         PIPE_UNLIMITED_INSTANCES, PIPE_BUFFER, PIPE_BUFFER, 0,
                         &sa);
    /* A mandatory label passed only at creation is not honoured
     * everywhere; set it again so it sticks. An instance without its label
     * would be medium (low-IL clients locked out): refuse it instead. */
    if (h != INVALID_HANDLE_VALUE && srv->has_label &&
        !SetKernelObjectSecurity(h, LABEL_SECURITY_INFORMATION, srv->sd)) {
        DWORD e = GetLastError();
        CloseHandle(h);
        SetLastError(e);
        h = INVALID_HANDLE_VALUE;
    }
    /* A later instance joins whatever pipe has the name. If ours ever
     * vanished (every instance gone for a moment), someone else's could
     * be there now: only serve instances of a pipe we own. */
    if (h != INVALID_HANDLE_VALUE && !first && !pipe_is_ours(srv, h)) {
        CloseHandle(h);
        SetLastError(ERROR_ACCESS_DENIED);
        h = INVALID_HANDLE_VALUE;
    }
    return h;
}

/* Waits for a client on `h`. Returns 1 when connected, 0 to retry with a
 * new instance, -1 when asked to stop. */
static int wait_for_client(server *srv, HANDLE h)
{
    OVERLAPPED ov;
    HANDLE waits[2];
    DWORD got, n;
    int rc = 0;

    memset(&ov, 0, sizeof(ov));
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (ov.hEvent == NULL)
        return 0;
    if (ConnectNamedPipe(h, &ov)) {
        rc = 1;
    } else if (GetLastError() == ERROR_PIPE_CONNECTED) {
        rc = 1;
    } else if (GetLastError() == ERROR_IO_PENDING) {
        waits[0] = ov.hEvent;
        waits[1] = srv->stop_event;
        got = WaitForMultipleObjects(2, waits, FALSE, INFINITE);
        if (got == WAIT_OBJECT_0) {
            rc = GetOverlappedResult(h, &ov, &n, FALSE) ? 1 : 0;
        } else {
            CancelIoEx(h, &ov);
            GetOverlappedResult(h, &ov, &n, TRUE);
            rc = -1;
        }
    }
    CloseHandle(ov.hEvent);
    return rc;
}

static void enqueue(server *srv, pending *p)
{
    EnterCriticalSection(&srv->lock);
    if (srv->tail != NULL)
        srv->tail->next = p;
    else
        srv->head = p;
    srv->tail = p;
    LeaveCriticalSection(&srv->lock);
    uv_async_send(&srv->accepted);
}

static DWORD WINAPI accept_thread(LPVOID arg)
{
    server *srv = arg;
    HANDLE h = srv->first;
    pending *p;
    int got;

    srv->first = NULL;
    for (;;) {
        if (h == INVALID_HANDLE_VALUE) {
            /* Out of instances or memory, or the name is not ours: back
             * off and keep trying; connected clients are still served. */
            shmb_logf(srv->log, SHMB_LOG_ERROR,
                      "event=pipe_instance_failed error=%lu", GetLastError());
            if (WaitForSingleObject(srv->stop_event, 200) == WAIT_OBJECT_0)
                return 0;
            h = pipe_instance(srv, 0);
            continue;
        }
        got = wait_for_client(srv, h);
        if (got < 0) {
            CloseHandle(h);
            return 0;
        }
        if (got == 0) {
            /* Replace before closing, so the name never goes away. */
            HANDLE next = pipe_instance(srv, 0);
            CloseHandle(h);
            h = next;
            continue;
        }
        p = calloc(1, sizeof(*p));
        if (p == NULL) {
            DisconnectNamedPipe(h);
            CloseHandle(h);
        } else {
            p->pipe = h;
            p->rc = peer_identify(h, &p->peer, &p->id, p->why, sizeof(p->why));
            enqueue(srv, p);
        }
        h = pipe_instance(srv, 0);
    }
}

/* ---- connections on the loop ------------------------------------------ */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = buf->base ? (ULONG)suggested : 0;
}

static void server_free(server *srv)
{
    LocalFree(srv->sd);
    DeleteCriticalSection(&srv->lock);
    free(srv);
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
    shmb_frame_reader_free(&c->rd);
    peer_free(c->peer);
    free(c);
    /* libuv may run close callbacks in any order: the last one out frees. */
    if (srv->stopping && srv->async_closed && srv->conns == NULL)
        server_free(srv);
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
    c->closes_pending = 1 + c->timer_on;
    if (c->timer_on)
        uv_close((uv_handle_t *)&c->hello_timer, on_close);
    uv_close((uv_handle_t *)&c->pipe, on_close);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void handle_frames(conn *c);

static void on_write(uv_write_t *req, int status)
{
    write_req *w = (write_req *)req;
    conn *c = w->c;
    int w_close_after = w->close_after;

    if (status < 0 && w->has_grant) {
        /* DESIGN rule 4: the client never learned this handle's value, so
         * close it inside the client rather than leak it there. */
        plat_grant_revoke(c->peer, w->handle);
        shmb_logf(c->srv->log, SHMB_LOG_WARN,
                  "event=undelivered pid=%u handle=0x%llx status=%s",
                  (unsigned)c->pid, (unsigned long long)w->handle,
                  uv_err_name(status));
    }
    free(w->buf);
    free(w);
    if (status < 0 || w_close_after)
        conn_close(c);
    else if (c->paused && !c->closing &&
             uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) <
                 WRITE_QUEUE_LOW) {
        /* Answer what is already buffered first; that may pause again. */
        c->paused = 0;
        handle_frames(c);
        if (!c->paused && !c->closing)
            uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
    }
}

/* Frames and queues one reply. Takes ownership of `json`. */
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
        if (oc != NULL && oc->has_grant)
            plat_grant_revoke(c->peer, oc->grant_handle);
        free(w);
        conn_close(c);
        return -1;
    }
    w->c = c;
    if (oc != NULL) {
        w->has_grant = oc->has_grant;
        w->handle = oc->grant_handle;
        w->close_after = oc->close_after;
    }
    ub = uv_buf_init((char *)w->buf, (unsigned int)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &ub, 1, on_write) != 0) {
        if (w->has_grant)
            plat_grant_revoke(c->peer, w->handle);
        free(w->buf);
        free(w);
        conn_close(c);
        return -1;
    }
    return 0;
}

static int over_high_water(conn *c)
{
    return uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) >
           WRITE_QUEUE_HIGH;
}

/* Answers the complete frames buffered for `c`, but stops - leaving the
 * rest buffered and reading paused - as soon as the replies waiting to be
 * written pass the high-water mark: a client that sends many cheap requests
 * whose replies are large, and never reads them, cannot make us queue more
 * than about WRITE_QUEUE_HIGH plus one reply. on_write resumes. */
static void handle_frames(conn *c)
{
    const uint8_t *payload;
    size_t len;
    broker_outcome oc;
    int r;

    while (!c->closing) {
        if (over_high_water(c)) {
            c->paused = 1;
            uv_read_stop((uv_stream_t *)&c->pipe);
            return;
        }
        r = shmb_frame_reader_next(&c->rd, &payload, &len);
        if (r == 0)
            return;
        if (r < 0) {
            oc.close_after = 1;
            oc.has_grant = 0;
            shmb_logf(c->srv->log, SHMB_LOG_WARN,
                      "event=bad_frame pid=%u max_frame=%u", (unsigned)c->pid,
                      (unsigned)c->srv->cfg->limits.max_frame);
            /* Stop reading, or the next read would close the connection
             * (the reader's failure is sticky) before this reply is out. */
            uv_read_stop((uv_stream_t *)&c->pipe);
            send_reply(c,
                       shmb_reply_error(0, 0, SHMB_E_BAD_FRAME,
                                        "frame length is 0 or above "
                                        "limits.max_frame"),
                       &oc);
            return;
        }
        if (send_reply(c, broker_handle(c->bc, payload, len, &oc), &oc) < 0)
            return;
        if (!c->hello_seen && broker_conn_hello_done(c->bc)) {
            c->hello_seen = 1;
            uv_timer_stop(&c->hello_timer);
        }
        if (oc.close_after) {
            uv_read_stop((uv_stream_t *)&c->pipe);
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
        else
            handle_frames(c);
    } else if (nread < 0) {
        conn_close(c); /* EOF or broken pipe: the client is gone */
    }
    free(buf->base);
}

/* Wraps a connected pipe handle for libuv; on failure closes it. */
static conn *conn_adopt(server *srv, pending *p)
{
    conn *c = calloc(1, sizeof(*c));
    int fd;

    if (c == NULL)
        goto fail;
    fd = _open_osfhandle((intptr_t)p->pipe, 0);
    if (fd < 0)
        goto fail;
    p->pipe = INVALID_HANDLE_VALUE; /* the fd owns it now */
    uv_pipe_init(srv->loop, &c->pipe, 0);
    c->pipe.data = c;
    c->srv = srv;
    c->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = c;
    srv->conns = c;
    if (uv_pipe_open(&c->pipe, fd) != 0) {
        _close(fd);
        c->closing = 1;
        c->closes_pending = 1;
        uv_close((uv_handle_t *)&c->pipe, on_close);
        return NULL;
    }
    uv_timer_init(srv->loop, &c->hello_timer);
    c->hello_timer.data = c;
    c->timer_on = 1;
    shmb_frame_reader_init(&c->rd, srv->cfg->limits.max_frame);
    c->peer = p->peer;
    c->pid = p->id.pid;
    p->peer = NULL;
    return c;
fail:
    free(c);
    DisconnectNamedPipe(p->pipe);
    CloseHandle(p->pipe);
    p->pipe = INVALID_HANDLE_VALUE;
    return NULL;
}

static void refuse(conn *c, int code, const char *why)
{
    broker_outcome oc;
    memset(&oc, 0, sizeof(oc));
    oc.close_after = 1;
    shmb_logf(c->srv->log, SHMB_LOG_WARN,
              "event=connect_refused pid=%u code=%s reason=\"%s\"",
              (unsigned)c->pid, shmb_err_name(code), why);
    send_reply(c, broker_reply_refused(code, why), &oc);
}

/* A connection that does not say hello in time is holding a slot for
 * nothing: tell it why and close it. */
static void on_hello_timeout(uv_timer_t *t)
{
    conn *c = t->data;
    broker_outcome oc;
    char msg[128];
    if (c->closing || c->hello_seen)
        return;
    memset(&oc, 0, sizeof(oc));
    oc.close_after = 1;
    snprintf(msg, sizeof(msg),
             "no hello within limits.hello_timeout_ms (%u ms)",
             (unsigned)c->srv->cfg->limits.hello_timeout_ms);
    shmb_logf(c->srv->log, SHMB_LOG_WARN, "event=hello_timeout pid=%u",
              (unsigned)c->pid);
    uv_read_stop((uv_stream_t *)&c->pipe);
    send_reply(c, shmb_reply_error(0, 0, SHMB_E_HANDSHAKE_REQUIRED, msg), &oc);
}

static void on_accepted(uv_async_t *a)
{
    server *srv = a->data;
    pending *p, *next;
    conn *c;
    int rc;

    EnterCriticalSection(&srv->lock);
    p = srv->head;
    srv->head = srv->tail = NULL;
    LeaveCriticalSection(&srv->lock);
    for (; p != NULL; p = next) {
        next = p->next;
        if (srv->stopping) {
            DisconnectNamedPipe(p->pipe);
            CloseHandle(p->pipe);
            p->pipe = INVALID_HANDLE_VALUE;
            c = NULL;
        } else {
            c = conn_adopt(srv, p);
        }
        if (c != NULL) {
            rc = p->rc;
            if (rc == SHMB_OK)
                rc = broker_conn_open(srv->b, c->peer, &p->id, &c->bc, p->why,
                                      sizeof(p->why));
            if (rc == SHMB_OK) {
                uv_timer_start(&c->hello_timer, on_hello_timeout,
                               srv->cfg->limits.hello_timeout_ms, 0);
                uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
            } else {
                refuse(c, rc, p->why);
            }
        }
        shmb_identity_free(&p->id);
        peer_free(p->peer);
        free(p);
    }
}

/* ---- start / stop ----------------------------------------------------- */

/* The pipe's SDDL with an explicit owner: our own user (LocalSystem under
 * the SCM) unless the config names one. Clients check this owner to know
 * they talk to the service (client_win.c). */
static int pipe_sddl(const shmb_config *cfg, WCHAR *out, size_t cap)
{
    char sid[SHMB_SID_MAX], text[SHMB_SDDL_MAX + SHMB_SID_MAX + 4];
    TOKEN_USER *self;
    if (strncmp(cfg->pipe_sddl, "O:", 2) == 0) {
        snprintf(text, sizeof(text), "%s", cfg->pipe_sddl);
    } else {
        self = win_self_user();
        if (self == NULL || !win_sid_string(self->User.Sid, sid, sizeof(sid))) {
            free(self);
            return 0;
        }
        free(self);
        snprintf(text, sizeof(text), "O:%s%s", sid, cfg->pipe_sddl);
    }
    return MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, text, -1, out,
                               (int)cap) != 0;
}

static int server_prepare(server *srv, const shmb_config *cfg, char *why,
                          size_t whycap)
{
    WCHAR sddl[SHMB_SDDL_MAX + SHMB_SID_MAX + 4];
    BOOL present = FALSE, defaulted = FALSE;
    PACL sacl = NULL;

    if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, cfg->pipe_name, -1,
                             srv->pipe_name, SHMB_PIPE_NAME_MAX) ||
        !pipe_sddl(cfg, sddl, sizeof(sddl) / sizeof(sddl[0]))) {
        snprintf(why, whycap, "pipe name or SDDL is not valid UTF-8");
        return SHMB_E_INVALID_ARG;
    }
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(
            sddl, SDDL_REVISION_1, &srv->sd, NULL)) {
        snprintf(why, whycap, "pipe SDDL does not parse (error %lu)",
                 GetLastError());
        return SHMB_E_INVALID_ARG;
    }
    if (!sd_has_real_dacl(srv->sd)) {
        snprintf(why, whycap,
                 "pipe SDDL has no DACL (\"D:\"): that would "
                 "let everyone do anything with the pipe");
        return SHMB_E_INVALID_ARG;
    }
    srv->has_label = 0;
    if (GetSecurityDescriptorSacl(srv->sd, &present, &sacl, &defaulted) &&
        present && sacl != NULL) {
        DWORD i;
        void *ace;
        for (i = 0; i < sacl->AceCount; i++) {
            if (GetAce(sacl, i, &ace) &&
                ((ACE_HEADER *)ace)->AceType == SYSTEM_MANDATORY_LABEL_ACE_TYPE)
                srv->has_label = 1;
        }
    }
    srv->first = pipe_instance(srv, 1);
    if (srv->first != INVALID_HANDLE_VALUE) {
        /* Every later instance needs FILE_CREATE_PIPE_INSTANCE for us in
         * the configured DACL; find out now rather than serve one client. */
        HANDLE second = pipe_instance(srv, 0);
        if (second == INVALID_HANDLE_VALUE) {
            snprintf(why, whycap,
                     "the pipe SDDL does not let the service create more "
                     "instances of %s (error %lu): grant its account "
                     "FILE_CREATE_PIPE_INSTANCE (e.g. (A;;GA;;;SY))",
                     cfg->pipe_name, GetLastError());
            return SHMB_E_INVALID_ARG;
        }
        CloseHandle(second);
    }
    if (srv->first == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        snprintf(why, whycap,
                 e == ERROR_ACCESS_DENIED
                     ? "pipe %s already exists: another broker or a squatter "
                       "owns it (error %lu)"
                     : "cannot create pipe %s (error %lu)",
                 cfg->pipe_name, e);
        return SHMB_E_SYSTEM;
    }
    return SHMB_OK;
}

int server_start(uv_loop_t *loop, broker *b, const shmb_config *cfg,
                 const shmb_logger *log, server **out, char *why, size_t whycap)
{
    server *srv = calloc(1, sizeof(*srv));
    int rc;

    if (srv == NULL)
        return SHMB_E_NOMEM;
    srv->loop = loop;
    srv->b = b;
    srv->cfg = cfg;
    srv->log = log;
    srv->first = INVALID_HANDLE_VALUE;
    InitializeCriticalSection(&srv->lock);
    rc = server_prepare(srv, cfg, why, whycap);
    if (rc == SHMB_OK) {
        srv->stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
        uv_async_init(loop, &srv->accepted, on_accepted);
        srv->accepted.data = srv;
        srv->thread = CreateThread(NULL, 0, accept_thread, srv, 0, NULL);
        if (srv->stop_event == NULL || srv->thread == NULL) {
            snprintf(why, whycap, "cannot start the accept thread (%lu)",
                     GetLastError());
            rc = SHMB_E_SYSTEM;
        }
    }
    if (rc != SHMB_OK) {
        server_stop(srv);
        return rc;
    }
    *out = srv;
    return SHMB_OK;
}

static void on_async_closed(uv_handle_t *h)
{
    server *srv = h->data;
    srv->async_closed = 1;
    if (srv->conns == NULL)
        server_free(srv);
}

void server_stop(server *srv)
{
    conn *c, *next;

    srv->stopping = 1;
    if (srv->thread != NULL) {
        SetEvent(srv->stop_event);
        WaitForSingleObject(srv->thread, INFINITE);
        CloseHandle(srv->thread);
    }
    if (srv->first != INVALID_HANDLE_VALUE && srv->first != NULL)
        CloseHandle(srv->first);
    if (srv->stop_event != NULL)
        CloseHandle(srv->stop_event);
    for (c = srv->conns; c != NULL; c = next) {
        next = c->next;
        conn_close(c);
    }
    if (srv->accepted.loop != NULL) {
        /* Connections identified but not yet adopted are dropped. */
        on_accepted(&srv->accepted);
        uv_close((uv_handle_t *)&srv->accepted, on_async_closed);
    } else {
        server_free(srv);
    }
}
