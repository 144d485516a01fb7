/* SPDX-License-Identifier: MPL-2.0 */
/*
 * listener_win.c - the control pipe's listener on Windows: creates the
 * pipe instances, accepts and identifies clients, and hands each connected
 * stream to the portable server (docs/security.md: the control pipe).
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
 * uv_async_send; the loop gives it to the server as a CRT descriptor, which
 * the server wraps with uv_pipe_open and does all further I/O with libuv.
 */
#include <windows.h>

#include <aclapi.h>
#include <io.h>
#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer_win.h"
#include "platform.h"
#include "sddl_win.h"
#include "shmb_config.h"
#include "util_win.h"

#define PIPE_BUFFER 65536
#define INSTANCE_RETRY_MS 200

/* Instances kept listening (docs/security.md, round two item 9). With one,
 * the name had no instance from a client's connect until the next
 * CreateNamedPipeW - after identification - and ERROR_PIPE_BUSY for every
 * other client. A connected instance is replaced right after its client
 * is identified; until then LISTENING - 1 others listen, so that many
 * clients can arrive at once and find one, and the name never has none. */
#define LISTENING 4

typedef struct pending {
    HANDLE pipe;
    plat_peer *peer; /* NULL when identification failed */
    shmb_identity id;
    int rc;
    char why[160];
    struct pending *next;
} pending;

struct plat_listener {
    uv_loop_t *loop;
    const shmb_logger *log;
    plat_accept_cb cb;
    void *ctx;
    WCHAR pipe_name[SHMB_PIPE_NAME_MAX];
    PSECURITY_DESCRIPTOR sd;
    int has_label;
    /* Created at start (the first one flagged), handed to the thread. */
    HANDLE initial[LISTENING];
    HANDLE stop_event; /* manual reset: tells the thread to finish */
    HANDLE thread;
    CRITICAL_SECTION lock;
    pending *head, *tail; /* guarded by lock */
    uv_async_t accepted;
    int stopping;
};

/* Pipe names, Global\ names, SIDs and image paths as Windows has them. */
const shmb_conventions *plat_conventions(void)
{
    return &shmb_conventions_windows;
}

/* ---- pipe instances --------------------------------------------------- */

static int pipe_is_ours(plat_listener *l, HANDLE h)
{
    PSECURITY_DESCRIPTOR got = NULL;
    PSID owner = NULL, want = NULL;
    BOOL defaulted;
    int ours;
    if (GetSecurityInfo(h, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION, &owner,
                        NULL, NULL, NULL, &got) != ERROR_SUCCESS)
        return 0;
    ours = GetSecurityDescriptorOwner(l->sd, &want, &defaulted) &&
           want != NULL && owner != NULL && EqualSid(owner, want);
    LocalFree(got);
    return ours;
}

static HANDLE pipe_instance(plat_listener *l, int first)
{
    SECURITY_ATTRIBUTES sa;
    DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;
    HANDLE h;

    sa.nLength = sizeof(sa);
    sa.lpSecurityDescriptor = l->sd;
    sa.bInheritHandle = FALSE;
    /* FIRST_PIPE_INSTANCE: fail if anyone created this name before us.
     * WRITE_DAC | WRITE_OWNER: so that the label can be set below. */
    open_mode |= WRITE_DAC | WRITE_OWNER;
    if (first)
        open_mode |= FILE_FLAG_FIRST_PIPE_INSTANCE;
    h = CreateNamedPipeW(l->pipe_name, open_mode,
                         PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT |
                             PIPE_REJECT_REMOTE_CLIENTS,
                         PIPE_UNLIMITED_INSTANCES, PIPE_BUFFER, PIPE_BUFFER, 0,
                         &sa);
    /* A mandatory label passed only at creation is not honoured
     * everywhere; set it again so it sticks. An instance without its label
     * would be medium (low-IL clients locked out): refuse it instead. */
    if (h != INVALID_HANDLE_VALUE && l->has_label &&
        !SetKernelObjectSecurity(h, LABEL_SECURITY_INFORMATION, l->sd)) {
        DWORD e = GetLastError();
        CloseHandle(h);
        SetLastError(e);
        h = INVALID_HANDLE_VALUE;
    }
    /* A later instance joins whatever pipe has the name. If ours ever
     * vanished (every instance gone for a moment), someone else's could
     * be there now: only serve instances of a pipe we own. */
    if (h != INVALID_HANDLE_VALUE && !first && !pipe_is_ours(l, h)) {
        CloseHandle(h);
        SetLastError(ERROR_ACCESS_DENIED);
        h = INVALID_HANDLE_VALUE;
    }
    return h;
}

/* ---- the accept thread ----------------------------------------------- */

typedef struct slot {
    HANDLE pipe; /* INVALID_HANDLE_VALUE when it needs a new instance */
    OVERLAPPED ov;
    int listening; /* ConnectNamedPipe started on pipe */
    int connected; /* ConnectNamedPipe completed at once */
} slot;

/* Gives the slot a listening instance: creates one if needed and starts
 * ConnectNamedPipe. Returns 0 if no instance could be created. A client
 * that came and went before ConnectNamedPipe (ERROR_NO_DATA) is no
 * failure: the instance is replaced at once, a few times at most. */
static int slot_arm(plat_listener *l, slot *s)
{
    int tries;

    for (tries = 0; tries < 4; tries++) {
        if (s->pipe == INVALID_HANDLE_VALUE)
            s->pipe = pipe_instance(l, 0);
        if (s->pipe == INVALID_HANDLE_VALUE)
            return 0;
        ResetEvent(s->ov.hEvent);
        s->connected = 0;
        if (ConnectNamedPipe(s->pipe, &s->ov) ||
            GetLastError() == ERROR_PIPE_CONNECTED) {
            s->connected = 1;
            SetEvent(s->ov.hEvent);
        } else if (GetLastError() != ERROR_IO_PENDING) {
            DWORD err = GetLastError();
            CloseHandle(s->pipe);
            s->pipe = INVALID_HANDLE_VALUE;
            if (err == ERROR_NO_DATA)
                continue;
            SetLastError(err);
            return 0;
        }
        s->listening = 1;
        return 1;
    }
    SetLastError(ERROR_NO_DATA);
    return 0;
}

/* A pipe instance could not be made: logged once per run of failures (the
 * accept thread retries every INSTANCE_RETRY_MS, and each line would also
 * go to the Event Log). */
static void instance_failed(plat_listener *l, int *failing)
{
    DWORD err = GetLastError();
    if (*failing)
        return;
    *failing = 1;
    shmb_log_event(l->log, SHMB_LOG_ERROR, SHMB_EV_PIPE_INSTANCE_FAILED,
                   "error=%lu", err);
}

static void slot_cancel(slot *s)
{
    DWORD n;
    if (s->pipe != INVALID_HANDLE_VALUE) {
        if (s->listening && !s->connected) {
            CancelIoEx(s->pipe, &s->ov);
            GetOverlappedResult(s->pipe, &s->ov, &n, TRUE);
        }
        CloseHandle(s->pipe);
        s->pipe = INVALID_HANDLE_VALUE;
    }
}

static void enqueue(plat_listener *l, pending *p)
{
    EnterCriticalSection(&l->lock);
    if (l->tail != NULL)
        l->tail->next = p;
    else
        l->head = p;
    l->tail = p;
    LeaveCriticalSection(&l->lock);
    uv_async_send(&l->accepted);
}

/* Identifies the client connected on `h` (accepted at `when`) and queues
 * it for the loop. */
static void accept_one(plat_listener *l, HANDLE h, const FILETIME *when)
{
    pending *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        DisconnectNamedPipe(h);
        CloseHandle(h);
        return;
    }
    p->pipe = h;
    p->rc = peer_identify(h, when, &p->peer, &p->id, p->why, sizeof(p->why));
    enqueue(l, p);
}

/* Waits for the stop event or any slot. Returns the slot index, LISTENING
 * on stop, or -1 on a timeout (a slot waits for an instance). */
static int wait_slots(plat_listener *l, slot *slots, int all_armed)
{
    HANDLE waits[LISTENING + 1];
    DWORD got;
    int i;
    waits[0] = l->stop_event;
    for (i = 0; i < LISTENING; i++)
        waits[i + 1] = slots[i].ov.hEvent;
    got = WaitForMultipleObjects(LISTENING + 1, waits, FALSE,
                                 all_armed ? INFINITE : INSTANCE_RETRY_MS);
    if (got == WAIT_OBJECT_0)
        return LISTENING;
    if (got > WAIT_OBJECT_0 && got <= WAIT_OBJECT_0 + LISTENING)
        return (int)(got - WAIT_OBJECT_0 - 1);
    return -1;
}

static DWORD WINAPI accept_thread(LPVOID arg)
{
    plat_listener *l = arg;
    slot slots[LISTENING];
    int i, armed, got, failing = 0;
    DWORD n;

    memset(slots, 0, sizeof(slots));
    for (i = 0; i < LISTENING; i++) {
        slots[i].pipe = l->initial[i];
        l->initial[i] = INVALID_HANDLE_VALUE;
    }
    for (i = 0; i < LISTENING; i++) {
        slots[i].ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
        if (slots[i].ov.hEvent == NULL) {
            shmb_log_event(l->log, SHMB_LOG_ERROR, SHMB_EV_PIPE_INSTANCE_FAILED,
                           "error=%lu", GetLastError());
            goto done; /* no clients: the log says why */
        }
    }
    for (;;) {
        for (armed = 1, i = 0; i < LISTENING; i++) {
            if (slots[i].listening || slot_arm(l, &slots[i]))
                continue;
            /* Out of instances or memory, or the name is not ours: back
             * off and keep trying; connected clients are still served. */
            instance_failed(l, &failing);
            armed = 0;
        }
        if (armed)
            failing = 0;
        got = wait_slots(l, slots, armed);
        if (got == LISTENING)
            break;
        if (got < 0)
            continue;
        {
            slot *s = &slots[got];
            HANDLE h = s->pipe;
            FILETIME when;
            GetSystemTimeAsFileTime(&when);
            s->listening = 0;
            s->pipe = INVALID_HANDLE_VALUE;
            if (!s->connected && !GetOverlappedResult(h, &s->ov, &n, FALSE)) {
                CloseHandle(h); /* the others still listen */
                continue;
            }
            /* Identify and hand over first: a new instance is not on the
             * connecting client's path. The other LISTENING - 1 instances
             * keep listening meanwhile, so the name never has none. */
            accept_one(l, h, &when);
            if (!slot_arm(l, s))
                instance_failed(l, &failing);
        }
    }
done:
    for (i = 0; i < LISTENING; i++) {
        slot_cancel(&slots[i]);
        if (slots[i].ov.hEvent != NULL)
            CloseHandle(slots[i].ov.hEvent);
    }
    return 0;
}

/* ---- handing connections to the loop --------------------------------- */

static void drop_pipe(HANDLE h)
{
    DisconnectNamedPipe(h);
    CloseHandle(h);
}

static void on_accepted(uv_async_t *a)
{
    plat_listener *l = a->data;
    pending *p, *next;
    plat_accepted acc;

    EnterCriticalSection(&l->lock);
    p = l->head;
    l->head = l->tail = NULL;
    LeaveCriticalSection(&l->lock);
    for (; p != NULL; p = next) {
        next = p->next;
        acc.fd = -1;
        if (!l->stopping)
            acc.fd = _open_osfhandle((intptr_t)p->pipe, 0);
        if (acc.fd < 0) {
            drop_pipe(p->pipe); /* stopping, or out of descriptors */
        } else {
            acc.rc = p->rc;
            memcpy(acc.why, p->why, sizeof(acc.why));
            acc.peer = p->peer;
            acc.id = &p->id;
            l->cb(l->ctx, &acc);
            p->peer = acc.peer; /* NULL if the server took it */
        }
        shmb_identity_free(&p->id);
        plat_peer_free(p->peer);
        free(p);
    }
}

void plat_stream_close(uv_file fd)
{
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    if (h != INVALID_HANDLE_VALUE)
        DisconnectNamedPipe(h);
    _close(fd);
}

/* ---- start / stop ----------------------------------------------------- */

static int sd_has_label(PSECURITY_DESCRIPTOR sd)
{
    BOOL present = FALSE, defaulted = FALSE;
    PACL sacl = NULL;
    DWORD i;
    void *ace;

    if (!GetSecurityDescriptorSacl(sd, &present, &sacl, &defaulted) ||
        !present || sacl == NULL)
        return 0;
    for (i = 0; i < sacl->AceCount; i++) {
        if (GetAce(sacl, i, &ace) &&
            ((ACE_HEADER *)ace)->AceType == SYSTEM_MANDATORY_LABEL_ACE_TYPE)
            return 1;
    }
    return 0;
}

/* Parses the descriptor and creates the instances (so a squatted or
 * invalid pipe name fails here, before the service reports RUNNING). */
static int listener_prepare(plat_listener *l, const char *name,
                            const char *sddl, char *why, size_t whycap)
{
    int i, rc;

    if (!win_wide(name, l->pipe_name, SHMB_PIPE_NAME_MAX)) {
        snprintf(why, whycap, "pipe name is not valid UTF-8");
        return SHMB_E_INVALID_ARG;
    }
    /* The owner is explicit (our own account unless the config names
     * one): clients check it to know they talk to the service. */
    if (!win_sd_owned(sddl, &l->sd)) {
        snprintf(why, whycap, "pipe SDDL does not parse (error %lu)",
                 GetLastError());
        return SHMB_E_INVALID_ARG;
    }
    rc = win_pipe_sd_check(l->sd, why, whycap);
    if (rc != SHMB_OK)
        return rc;
    l->has_label = sd_has_label(l->sd);
    l->initial[0] = pipe_instance(l, 1);
    if (l->initial[0] == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        snprintf(why, whycap,
                 e == ERROR_ACCESS_DENIED
                     ? "pipe %s already exists: another broker or a squatter "
                       "owns it (error %lu)"
                     : "cannot create pipe %s (error %lu)",
                 name, e);
        return SHMB_E_SYSTEM;
    }
    /* Every later instance needs FILE_CREATE_PIPE_INSTANCE for us in the
     * configured DACL; find out now rather than serve one client. All of
     * them exist before we return: a client that comes right after the
     * start finds LISTENING instances. */
    for (i = 1; i < LISTENING; i++) {
        l->initial[i] = pipe_instance(l, 0);
        if (l->initial[i] == INVALID_HANDLE_VALUE) {
            snprintf(why, whycap,
                     "the pipe SDDL does not let the service create more "
                     "instances of %s (error %lu): grant its account "
                     "FILE_CREATE_PIPE_INSTANCE (e.g. (A;;GA;;;SY))",
                     name, GetLastError());
            return SHMB_E_INVALID_ARG;
        }
    }
    return SHMB_OK;
}

static void listener_free(plat_listener *l)
{
    int i;
    for (i = 0; i < LISTENING; i++) {
        if (l->initial[i] != INVALID_HANDLE_VALUE)
            CloseHandle(l->initial[i]);
    }
    if (l->stop_event != NULL)
        CloseHandle(l->stop_event);
    LocalFree(l->sd);
    DeleteCriticalSection(&l->lock);
    free(l);
}

static void on_async_closed(uv_handle_t *h)
{
    listener_free(h->data);
}

int plat_listener_start(uv_loop_t *loop, const char *name, const char *sddl,
                        const shmb_logger *log, plat_accept_cb cb, void *ctx,
                        plat_listener **out, char *why, size_t whycap)
{
    plat_listener *l = calloc(1, sizeof(*l));
    int rc;

    if (l == NULL)
        return SHMB_E_NOMEM;
    l->loop = loop;
    l->log = log;
    l->cb = cb;
    l->ctx = ctx;
    for (rc = 0; rc < LISTENING; rc++)
        l->initial[rc] = INVALID_HANDLE_VALUE;
    InitializeCriticalSection(&l->lock);
    rc = listener_prepare(l, name, sddl, why, whycap);
    if (rc == SHMB_OK) {
        l->stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
        if (l->stop_event == NULL ||
            uv_async_init(loop, &l->accepted, on_accepted) != 0) {
            snprintf(why, whycap, "cannot set up the accept thread (%lu)",
                     GetLastError());
            listener_free(l);
            return SHMB_E_SYSTEM;
        }
        l->accepted.data = l;
        l->thread = CreateThread(NULL, 0, accept_thread, l, 0, NULL);
        if (l->thread == NULL) {
            snprintf(why, whycap, "cannot start the accept thread (%lu)",
                     GetLastError());
            rc = SHMB_E_SYSTEM;
            plat_listener_stop(l);
            return rc;
        }
    } else {
        listener_free(l);
        return rc;
    }
    *out = l;
    return SHMB_OK;
}

void plat_listener_stop(plat_listener *l)
{
    if (l == NULL)
        return;
    l->stopping = 1;
    if (l->thread != NULL) {
        SetEvent(l->stop_event);
        WaitForSingleObject(l->thread, INFINITE);
        CloseHandle(l->thread);
        l->thread = NULL;
    }
    /* Connections identified but not yet handed over are dropped. */
    on_accepted(&l->accepted);
    uv_close((uv_handle_t *)&l->accepted, on_async_closed);
}
