/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_server_trust.c - the client library's side of trust: it checks who
 * serves the pipe before it sends a byte (LocalSystem, or the service's
 * own process), refuses a squatter's fake server, and drops a connection
 * whose replies fall out of step with its requests.
 */
#include <windows.h>

#include <stdlib.h>
#include <string.h>

#include "util_win.h"

int test_client_verifies_server(void)
{
    shmb_connect_options o;
    shmb_client *c = NULL;
    char me[200], want[300];
    int rc;

    memset(&o, 0, sizeof(o));
    o.pipe_name = itest_pipe();
    o.trust = SHMB_TRUST_SYSTEM;
    rc = shmb_connect(&o, &c);
    if (itest_under_wine()) {
        /* Wine runs the service as our own user, so the pipe cannot be
         * owned by LocalSystem: the library must refuse, naming the owner
         * it found - which is the service's user. */
        CHECK(itest_self_sid(me, sizeof(me)));
        snprintf(want, sizeof(want),
                 "the pipe is owned by %s, not by "
                 "LocalSystem",
                 me);
        if (rc != SHMB_E_SERVER_UNTRUSTED ||
            strstr(shmb_client_message(c), want) == NULL)
            FAIL("trust=system: %s '%s'", shmb_err_name(rc),
                 shmb_client_message(c));
    } else {
        CHECK_OK(c, rc); /* the real service is LocalSystem */
    }
    shmb_disconnect(c);
    c = NULL;
    o.trust = SHMB_TRUST_SERVICE;
    rc = shmb_connect(&o, &c);
    CHECK_OK(c, rc);
    shmb_disconnect(c);
    c = NULL;
    /* The wrong service name: its pid is not the pipe server's. */
    o.service_name = "shmb-quota";
    rc = shmb_connect(&o, &c);
    CHECK_INT(rc, SHMB_E_SERVER_UNTRUSTED);
    CHECK(
        strstr(shmb_client_message(c), "but service 'shmb-quota' is") != NULL ||
        strstr(shmb_client_message(c), "'shmb-quota' is not running") != NULL);
done:
    shmb_disconnect(c);
    return TEST_RESULT;
}

typedef struct fake_server {
    HANDLE pipe;
    HANDLE thread;
    DWORD received;
} fake_server;

static DWORD WINAPI fake_server_run(LPVOID arg)
{
    fake_server *f = arg;
    char buf[256];
    DWORD n;
    if (!ConnectNamedPipe(f->pipe, NULL) &&
        GetLastError() != ERROR_PIPE_CONNECTED)
        return 1;
    /* Take what the client sends first (nothing, if it checked us), then
     * hang up like a server that has no idea of the protocol. */
    if (ReadFile(f->pipe, buf, sizeof(buf), &n, NULL))
        f->received += n;
    DisconnectNamedPipe(f->pipe);
    return 0;
}

/* A squatter serving the broker's protocol name on its own pipe. */
static int fake_server_start(fake_server *f, WCHAR *name)
{
    memset(f, 0, sizeof(*f));
    f->pipe =
        CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_WAIT,
                         1, 4096, 4096, 0, NULL);
    if (f->pipe == INVALID_HANDLE_VALUE)
        return -1;
    f->thread = CreateThread(NULL, 0, fake_server_run, f, 0, NULL);
    return f->thread != NULL ? 0 : -1;
}

static void fake_server_stop(fake_server *f)
{
    WaitForSingleObject(f->thread, 5000);
    CloseHandle(f->thread);
    CloseHandle(f->pipe);
}

static int connect_fake(const char *pipe, shmb_server_trust trust, int expect,
                        DWORD *received)
{
    WCHAR wname[128];
    fake_server f;
    shmb_connect_options o;
    shmb_client *c = NULL;
    int rc;

    MultiByteToWideChar(CP_UTF8, 0, pipe, -1, wname, 128);
    if (fake_server_start(&f, wname) != 0)
        return -1;
    memset(&o, 0, sizeof(o));
    o.pipe_name = pipe;
    o.trust = trust;
    o.timeout_ms = 2000;
    rc = shmb_connect(&o, &c); /* ANY: hello goes out, no reply comes */
    if (rc != expect)
        fprintf(stderr, "trust %d: %s '%s'\n", (int)trust, shmb_err_name(rc),
                shmb_client_message(c));
    shmb_disconnect(c); /* closes our end: the fake's read loop ends */
    fake_server_stop(&f);
    *received = f.received;
    return rc == expect ? 0 : -1;
}

int test_client_refuses_fake_server(void)
{
    char pipe[128];
    DWORD got = 0;

    snprintf(pipe, sizeof(pipe), "\\\\.\\pipe\\shmb-fake-%lu",
             GetCurrentProcessId());
    /* Not the service's process: refused before a byte is sent. */
    CHECK_INT(
        connect_fake(pipe, SHMB_TRUST_SERVICE, SHMB_E_SERVER_UNTRUSTED, &got),
        0);
    CHECK_INT(got, 0);
    /* Not owned by LocalSystem: refused too. */
    CHECK_INT(
        connect_fake(pipe, SHMB_TRUST_SYSTEM, SHMB_E_SERVER_UNTRUSTED, &got),
        0);
    CHECK_INT(got, 0);
    /* Control: with the development override the hello does go out, so the
     * zero above is the check's doing. (The fake then hangs up.) */
    CHECK_INT(connect_fake(pipe, SHMB_TRUST_ANY, SHMB_E_IO, &got), 0);
    CHECK(got > 0);
done:
    return TEST_RESULT;
}

/* A scripted server: answers hello properly, then answers the next
 * request with someone else's id. */
static DWORD WINAPI lying_server_run(LPVOID arg)
{
    HANDLE h = arg;
    char buf[1024];
    if (!ConnectNamedPipe(h, NULL) && GetLastError() != ERROR_PIPE_CONNECTED)
        return 1;
    if (raw_recv_frame(h, buf, sizeof(buf)) < 0 ||
        raw_send_frame(h, "{\"id\":1,\"result\":{\"version\":1,"
                          "\"max_frame\":65536}}") != 0)
        return 1;
    if (raw_recv_frame(h, buf, sizeof(buf)) < 0 ||
        raw_send_frame(h, "{\"id\":999,\"result\":{\"pong\":true}}") != 0)
        return 1;
    /* Whatever comes next is never answered. */
    raw_recv_frame(h, buf, sizeof(buf));
    return 0;
}

int test_client_drops_desynced_connection(void)
{
    char pipe[96];
    WCHAR wname[96];
    HANDLE h = INVALID_HANDLE_VALUE, th = NULL;
    shmb_connect_options o;
    shmb_client *c = NULL;

    snprintf(pipe, sizeof(pipe), "\\\\.\\pipe\\shmb-liar-%lu",
             GetCurrentProcessId());
    MultiByteToWideChar(CP_UTF8, 0, pipe, -1, wname, 96);
    h = CreateNamedPipeW(wname, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_WAIT,
                         1, 4096, 4096, 0, NULL);
    CHECK(h != INVALID_HANDLE_VALUE);
    th = CreateThread(NULL, 0, lying_server_run, h, 0, NULL);
    CHECK(th != NULL);
    memset(&o, 0, sizeof(o));
    o.pipe_name = pipe;
    o.trust = SHMB_TRUST_ANY; /* a test server, not the service */
    CHECK_OK(c, shmb_connect(&o, &c));
    /* The reply answers another request: a protocol error... */
    CHECK_INT(shmb_ping(c), SHMB_E_PROTOCOL);
    /* ...after which the stream is out of step, so the client is done
     * with it rather than read stale replies as answers. */
    CHECK_INT(shmb_ping(c), SHMB_E_IO);
    CHECK_STR(shmb_client_message(c), "the connection is closed");
done:
    shmb_disconnect(c); /* the liar's last read ends */
    if (th != NULL) {
        WaitForSingleObject(th, 5000);
        CloseHandle(th);
    }
    raw_close(h);
    return TEST_RESULT;
}
