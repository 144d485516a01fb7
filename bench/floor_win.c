/* SPDX-License-Identifier: MPL-2.0 */
/*
 * floor_win.c - the floor servers shmb_bench measures the broker against,
 * all in one process, each on its own pipe (floor.h):
 *
 *   raw      a thread per connection, blocking ReadFile/WriteFile: the
 *            named-pipe round trip itself.
 *   uv       the stack floor: pipe instances made with CreateNamedPipeW
 *            by an accept thread and handed to libuv the way the service
 *            does (uv_async_send, _open_osfhandle, uv_pipe_open), echoed in
 *            the read callback. What a libuv server cannot go below.
 *   grant    the grant floors: no JSON, policy or registry. For size 0
 *            the connection's one section is duplicated again into the
 *            client (opened once per connection, as the service does):
 *            the open floor. For a size, a pagefile-backed section is
 *            created, duplicated, and held until a FLOOR_RELEASE request
 *            closes it: with that second round trip, the create floor.
 *   connect  the connect floor: the service side of a verified connect
 *            (client pid, impersonation and token queries, OpenProcess,
 *            the process token, its creation time and image), one round
 *            trip, then the close.
 *
 *   shmb_floor --prefix \\.\pipe\NAME
 *
 * Runs until killed.
 */
#include <windows.h>

#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "floor.h"

#define BUF 65536

typedef void (*serve_fn)(HANDLE pipe);

typedef struct acceptor {
    WCHAR name[256];
    serve_fn serve;
    int inline_serve; /* serve on the accept thread (one client at a time) */
    HANDLE ready;
} acceptor;

static HANDLE instance(const WCHAR *name, DWORD extra)
{
    return CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX | extra,
                            PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT |
                                PIPE_REJECT_REMOTE_CLIENTS,
                            PIPE_UNLIMITED_INSTANCES, BUF, BUF, 0, NULL);
}

static int read_all(HANDLE h, void *buf, DWORD len)
{
    DWORD got = 0, n;
    while (got < len) {
        if (!ReadFile(h, (char *)buf + got, len - got, &n, NULL) || n == 0)
            return 0;
        got += n;
    }
    return 1;
}

static int write_all(HANDLE h, const void *buf, DWORD len)
{
    DWORD n;
    return WriteFile(h, buf, len, &n, NULL) && n == len;
}

static void close_pipe(HANDLE h)
{
    DisconnectNamedPipe(h);
    CloseHandle(h);
}

static DWORD WINAPI serve_thread(LPVOID arg)
{
    void **a = arg;
    serve_fn fn = (serve_fn)(uintptr_t)a[0];
    HANDLE h = a[1];
    free(a);
    fn(h);
    close_pipe(h);
    return 0;
}

/* The next instance exists before a client is served, so a client that
 * comes meanwhile connects at once instead of waiting for a busy pipe. */
static DWORD WINAPI accept_loop(LPVOID arg)
{
    acceptor *a = arg;
    HANDLE cur = instance(a->name, 0), next;
    SetEvent(a->ready);
    while (cur != INVALID_HANDLE_VALUE) {
        if (!ConnectNamedPipe(cur, NULL) &&
            GetLastError() != ERROR_PIPE_CONNECTED) {
            CloseHandle(cur);
            cur = instance(a->name, 0);
            continue;
        }
        next = instance(a->name, 0);
        if (a->inline_serve) {
            a->serve(cur);
            close_pipe(cur);
        } else {
            void **args = malloc(2 * sizeof(void *));
            HANDLE th = NULL;
            if (args != NULL) {
                args[0] = (void *)(uintptr_t)a->serve;
                args[1] = cur;
                th = CreateThread(NULL, 0, serve_thread, args, 0, NULL);
            }
            if (th == NULL) {
                free(args);
                close_pipe(cur);
            } else {
                CloseHandle(th);
            }
        }
        cur = next;
    }
    return 0;
}

/* ---- raw ---------------------------------------------------------------- */

static void serve_raw(HANDLE h)
{
    char buf[FLOOR_FRAME];
    while (read_all(h, buf, FLOOR_FRAME) && write_all(h, buf, FLOOR_FRAME))
        ;
}

/* ---- grant -------------------------------------------------------------- */

static void serve_grant(HANDLE h)
{
    char buf[FLOOR_FRAME];
    ULONG pid = 0;
    HANDLE process = NULL, keep = NULL, held = NULL;

    /* Once per connection, as the service does at accept. */
    if (!GetNamedPipeClientProcessId(h, &pid) ||
        (process =
             OpenProcess(PROCESS_DUP_HANDLE | PROCESS_QUERY_LIMITED_INFORMATION,
                         FALSE, pid)) == NULL)
        return;
    while (read_all(h, buf, FLOOR_FRAME)) {
        uint64_t size, value = 0;
        HANDLE sec, dup = NULL;
        memcpy(&size, buf + FLOOR_PAYLOAD, sizeof(size));
        if (size == FLOOR_RELEASE) {
            /* The release's own round trip: the service forgets the region
             * and closes its section. */
            value = held != NULL;
            if (held != NULL)
                CloseHandle(held);
            held = NULL;
            memcpy(buf + FLOOR_PAYLOAD, &value, sizeof(value));
            if (!write_all(h, buf, FLOOR_FRAME))
                break;
            continue;
        }
        /* Size 0: duplicate the connection's one section again (what an
         * open of an existing region needs); else a new section, held
         * until its release as the service holds a created region. */
        if (size == 0 && keep == NULL)
            keep = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL,
                                      PAGE_READWRITE | SEC_COMMIT, 0,
                                      FLOOR_KEEP_SIZE, NULL);
        if (size == 0) {
            sec = keep;
        } else {
            sec = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL,
                                     PAGE_READWRITE | SEC_COMMIT,
                                     (DWORD)(size >> 32), (DWORD)size, NULL);
            if (held != NULL)
                CloseHandle(held); /* one unreleased grant at a time */
            held = sec;
        }
        /* The least access a read-write grant carries (DESIGN.md rule 2). */
        if (sec != NULL &&
            DuplicateHandle(GetCurrentProcess(), sec, process, &dup,
                            FILE_MAP_READ | FILE_MAP_WRITE | SECTION_QUERY,
                            FALSE, 0))
            value = (uint64_t)(uintptr_t)dup;
        memcpy(buf + FLOOR_PAYLOAD, &value, sizeof(value));
        if (!write_all(h, buf, FLOOR_FRAME))
            break;
    }
    CloseHandle(process);
    if (keep != NULL)
        CloseHandle(keep);
    if (held != NULL)
        CloseHandle(held);
}

/* ---- connect ------------------------------------------------------------ */

static void *token_info(HANDLE tok, TOKEN_INFORMATION_CLASS cls)
{
    DWORD n = 0;
    void *buf;
    GetTokenInformation(tok, cls, NULL, 0, &n);
    if (n == 0)
        return NULL;
    buf = malloc(n);
    if (buf != NULL && !GetTokenInformation(tok, cls, buf, n, &n)) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

/* The token queries peer_win.c makes of each token; only the kernel work,
 * none of the SID-to-text or policy bookkeeping. */
static int token_queries(HANDLE tok, TOKEN_USER **user)
{
    DWORD session = 0, n = sizeof(session);
    *user = token_info(tok, TokenUser);
    free(token_info(tok, TokenIntegrityLevel));
    free(token_info(tok, (TOKEN_INFORMATION_CLASS)31)); /* AppContainerSid */
    GetTokenInformation(tok, TokenSessionId, &session, n, &n);
    free(token_info(tok, TokenGroups));
    free(token_info(tok, TokenRestrictedSids));
    return *user != NULL;
}

static int identify(HANDLE h)
{
    HANDLE tok = NULL, process = NULL, ptok = NULL;
    TOKEN_USER *u = NULL, *pu = NULL;
    FILETIME c, e, k, us;
    WCHAR image[1024];
    DWORD n = 1024;
    ULONG pid = 0;
    int ok = 0;

    if (!GetNamedPipeClientProcessId(h, &pid) || !ImpersonateNamedPipeClient(h))
        return 0;
    if (!OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &tok))
        tok = NULL;
    if (!RevertToSelf())
        abort();
    if (tok == NULL || !token_queries(tok, &u))
        goto cleanup;
    process = OpenProcess(
        PROCESS_DUP_HANDLE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (process == NULL || !GetProcessTimes(process, &c, &e, &k, &us) ||
        !OpenProcessToken(process, TOKEN_QUERY, &ptok) ||
        !token_queries(ptok, &pu) || !EqualSid(u->User.Sid, pu->User.Sid))
        goto cleanup;
    QueryFullProcessImageNameW(process, 0, image, &n);
    ok = 1;
cleanup:
    free(u);
    free(pu);
    if (ptok != NULL)
        CloseHandle(ptok);
    if (process != NULL)
        CloseHandle(process);
    if (tok != NULL)
        CloseHandle(tok);
    return ok;
}

static void serve_connect(HANDLE h)
{
    if (identify(h))
        serve_raw(h); /* the hello's round trip, then until the close */
}

/* ---- uv: the stack floor ------------------------------------------------ */

typedef struct uv_floor {
    WCHAR name[256];
    uv_loop_t loop;
    uv_async_t async;
    CRITICAL_SECTION lock;
    HANDLE queue[64];
    int nqueue;
    HANDLE ready;
} uv_floor;

typedef struct echo_write {
    uv_write_t req;
    uv_buf_t buf;
} echo_write;

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    (void)hint;
    buf->base = malloc(BUF);
    buf->len = buf->base != NULL ? BUF : 0;
}

static void on_closed(uv_handle_t *h)
{
    free(h);
}

static void on_written(uv_write_t *req, int status)
{
    echo_write *w = (echo_write *)req;
    (void)status;
    free(w->buf.base);
    free(w);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    echo_write *w;
    if (n <= 0) {
        free(buf->base);
        if (n < 0)
            uv_close((uv_handle_t *)s, on_closed);
        return;
    }
    w = malloc(sizeof(*w));
    if (w == NULL) {
        free(buf->base);
        return;
    }
    w->buf = uv_buf_init(buf->base, (unsigned)n);
    if (uv_write(&w->req, s, &w->buf, 1, on_written) != 0) {
        free(buf->base);
        free(w);
    }
}

static void on_accepted(uv_async_t *a)
{
    uv_floor *f = a->data;
    HANDLE q[64];
    int i, n;
    EnterCriticalSection(&f->lock);
    n = f->nqueue;
    memcpy(q, f->queue, (size_t)n * sizeof(HANDLE));
    f->nqueue = 0;
    LeaveCriticalSection(&f->lock);
    for (i = 0; i < n; i++) {
        uv_pipe_t *p = malloc(sizeof(*p));
        int fd = _open_osfhandle((intptr_t)q[i], 0);
        if (p == NULL || fd < 0 || uv_pipe_init(&f->loop, p, 0) != 0) {
            free(p);
            close_pipe(q[i]);
            continue;
        }
        if (uv_pipe_open(p, fd) != 0 ||
            uv_read_start((uv_stream_t *)p, on_alloc, on_read) != 0)
            uv_close((uv_handle_t *)p, on_closed);
    }
}

static DWORD WINAPI uv_accept_loop(LPVOID arg)
{
    uv_floor *f = arg;
    OVERLAPPED ov;
    HANDLE cur = instance(f->name, FILE_FLAG_OVERLAPPED), next;
    DWORD n;

    memset(&ov, 0, sizeof(ov));
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    SetEvent(f->ready);
    while (cur != INVALID_HANDLE_VALUE) {
        ResetEvent(ov.hEvent);
        if (!ConnectNamedPipe(cur, &ov)) {
            DWORD e = GetLastError();
            if (e == ERROR_IO_PENDING)
                e = GetOverlappedResult(cur, &ov, &n, TRUE) ? 0
                                                            : GetLastError();
            if (e != 0 && e != ERROR_PIPE_CONNECTED) {
                CloseHandle(cur);
                cur = instance(f->name, FILE_FLAG_OVERLAPPED);
                continue;
            }
        }
        next = instance(f->name, FILE_FLAG_OVERLAPPED);
        EnterCriticalSection(&f->lock);
        if (f->nqueue < 64)
            f->queue[f->nqueue++] = cur;
        else
            close_pipe(cur);
        LeaveCriticalSection(&f->lock);
        uv_async_send(&f->async);
        cur = next;
    }
    return 0;
}

static DWORD WINAPI uv_run_thread(LPVOID arg)
{
    uv_floor *f = arg;
    uv_run(&f->loop, UV_RUN_DEFAULT);
    return 0;
}

/* ---- main --------------------------------------------------------------- */

static int start(HANDLE *ready, int i, const char *prefix, const char *suffix,
                 serve_fn fn, int inline_serve)
{
    acceptor *a = calloc(1, sizeof(*a));
    char name[256];
    if (a == NULL)
        return 0;
    snprintf(name, sizeof(name), "%s%s", prefix, suffix);
    MultiByteToWideChar(CP_UTF8, 0, name, -1, a->name, 256);
    a->serve = fn;
    a->inline_serve = inline_serve;
    a->ready = ready[i] = CreateEventW(NULL, TRUE, FALSE, NULL);
    return CreateThread(NULL, 0, accept_loop, a, 0, NULL) != NULL;
}

int main(int argc, char **argv)
{
    static uv_floor f;
    HANDLE ready[4];
    char name[256];

    if (argc != 3 || strcmp(argv[1], "--prefix") != 0) {
        fprintf(stderr, "usage: shmb_floor --prefix \\\\.\\pipe\\NAME\n");
        return 2;
    }
    if (!start(ready, 0, argv[2], FLOOR_RAW, serve_raw, 0) ||
        !start(ready, 1, argv[2], FLOOR_GRANT, serve_grant, 0) ||
        !start(ready, 2, argv[2], FLOOR_CONNECT, serve_connect, 1))
        return 1;
    snprintf(name, sizeof(name), "%s%s", argv[2], FLOOR_UV);
    MultiByteToWideChar(CP_UTF8, 0, name, -1, f.name, 256);
    InitializeCriticalSection(&f.lock);
    f.ready = ready[3] = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (uv_loop_init(&f.loop) != 0 ||
        uv_async_init(&f.loop, &f.async, on_accepted) != 0)
        return 1;
    f.async.data = &f;
    if (CreateThread(NULL, 0, uv_accept_loop, &f, 0, NULL) == NULL ||
        CreateThread(NULL, 0, uv_run_thread, &f, 0, NULL) == NULL)
        return 1;
    /* Clients retry until the pipes exist; nothing to announce. */
    WaitForMultipleObjects(4, ready, TRUE, INFINITE);
    for (;;)
        Sleep(INFINITE);
}
