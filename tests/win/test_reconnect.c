/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_reconnect.c - a client across a service restart (on the
 * shmb-reconnect instance, which these tests stop and start through the
 * SCM), and clients used by many threads at once (on the main instance).
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util_win.h"

#define RECONNECT_SERVICE L"shmb-reconnect"
#define RECONNECT_PIPE "\\\\.\\pipe\\shmb-reconnect"

/* ---- the restart -------------------------------------------------------- */

static DWORD service_state(SC_HANDLE svc)
{
    SERVICE_STATUS_PROCESS st;
    DWORD n = 0;
    if (!QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (LPBYTE)&st,
                              sizeof(st), &n))
        return 0;
    return st.dwCurrentState;
}

/* The shmb-reconnect service, opened to be stopped and started. */
static SC_HANDLE open_service(SC_HANDLE *scm)
{
    *scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    if (*scm == NULL)
        return NULL;
    return OpenServiceW(*scm, RECONNECT_SERVICE,
                        SERVICE_START | SERVICE_STOP | SERVICE_QUERY_STATUS);
}

static void close_service(SC_HANDLE scm, SC_HANDLE svc)
{
    if (svc != NULL)
        CloseServiceHandle(svc);
    if (scm != NULL)
        CloseServiceHandle(scm);
}

static int stop_service(SC_HANDLE svc)
{
    SERVICE_STATUS st;
    return ControlService(svc, SERVICE_CONTROL_STOP, &st) ||
           GetLastError() == ERROR_SERVICE_NOT_ACTIVE;
}

static shmb_client *connect_reconnect(uint32_t flags, uint32_t timeout_ms)
{
    shmb_connect_options o;
    shmb_client *c = NULL;
    int rc;
    memset(&o, 0, sizeof(o));
    o.pipe_name = RECONNECT_PIPE;
    o.service_name = "shmb-reconnect";
    o.client_name = "shmb-itest";
    o.timeout_ms = timeout_ms;
    o.flags = flags;
    rc = shmb_connect(&o, &c);
    if (rc != SHMB_OK) {
        fprintf(stderr, "connect: %s: %s\n", shmb_err_name(rc),
                shmb_client_message(c));
        shmb_disconnect(c);
        return NULL;
    }
    return c;
}

int test_reconnect_after_service_restart(void)
{
    SC_HANDLE scm = NULL, svc = NULL;
    shmb_client *c = NULL, *fixed = NULL;
    shmb_region r, r2;
    const char *name = itest_name("reconnect");
    char keep[128];

    memset(&r, 0, sizeof(r));
    memset(&r2, 0, sizeof(r2));
    svc = open_service(&scm);
    CHECK(svc != NULL);
    CHECK_INT(service_state(svc), SERVICE_RUNNING);
    c = connect_reconnect(0, 0);
    fixed = connect_reconnect(SHMB_CONNECT_NO_RECONNECT, 0);
    CHECK(c != NULL && fixed != NULL);
    snprintf(keep, sizeof(keep), "%s", name);
    CHECK_OK(c, itest_create(c, keep, 4096, SHMB_LIFETIME_CLIENT, &r));
    CHECK_OK(c, shmb_region_map(&r));
    strcpy(r.view, "written before the restart");
    CHECK_INT(shmb_client_reconnects(c), 0);

    CHECK(stop_service(svc));
    WAIT_UNTIL(service_state(svc) == SERVICE_STOPPED, ITEST_WAIT_MS);
    CHECK(StartServiceW(svc, 0, NULL));
    WAIT_UNTIL(service_state(svc) == SERVICE_RUNNING, ITEST_WAIT_MS);

    /* The mapped view outlived the broker, bytes and all. */
    CHECK_STR(r.view, "written before the restart");
    strcpy(r.view, "still writable");
    /* The next call reconnects and returns its normal result. */
    CHECK_OK(c, shmb_ping(c));
    CHECK_INT(shmb_client_reconnects(c), 1);
    CHECK_OK(c, shmb_ping(c));
    CHECK_INT(shmb_client_reconnects(c), 1);
    /* Nothing was re-created: the new broker knows neither the region nor
     * our grant on it. */
    CHECK_INT(shmb_region_open(c, keep, SHMB_ACCESS_RO, &r2), SHMB_E_NOT_FOUND);
    CHECK(shmb_region_release(c, keep) != SHMB_OK);
    /* The section handle still maps (the kernel keeps the section alive). */
    shmb_region_unmap(&r);
    CHECK_OK(c, shmb_region_map(&r));
    CHECK_STR(r.view, "still writable");
    /* A client that asked not to reconnect reports the loss and stays
     * closed. */
    CHECK_INT(shmb_ping(fixed), SHMB_E_IO);
    CHECK_INT(shmb_ping(fixed), SHMB_E_IO);
    CHECK_STR(shmb_client_message(fixed), "the connection is closed");
    CHECK_INT(shmb_client_reconnects(fixed), 0);
done:
    if (svc != NULL && service_state(svc) == SERVICE_STOPPED)
        StartServiceW(svc, 0, NULL);
    shmb_region_close(&r);
    shmb_region_close(&r2);
    shmb_disconnect(fixed);
    shmb_disconnect(c);
    close_service(scm, svc);
    return TEST_RESULT;
}

int test_reconnect_while_service_down(void)
{
    SC_HANDLE scm = NULL, svc = NULL;
    shmb_client *c = NULL;
    int rc;

    svc = open_service(&scm);
    CHECK(svc != NULL);
    c = connect_reconnect(0, 500);
    CHECK(c != NULL);
    CHECK(stop_service(svc));
    WAIT_UNTIL(service_state(svc) == SERVICE_STOPPED, ITEST_WAIT_MS);
    /* The broker is gone and not back: the call says so... */
    rc = shmb_ping(c);
    if (rc != SHMB_E_CONNECT ||
        strstr(shmb_client_message(c), "reconnecting failed") == NULL)
        FAIL("ping while stopped: %s '%s'", shmb_err_name(rc),
             shmb_client_message(c));
    CHECK_INT(shmb_client_reconnects(c), 0);
    /* ...and once it is back, the next call reconnects. */
    CHECK(StartServiceW(svc, 0, NULL));
    WAIT_UNTIL(service_state(svc) == SERVICE_RUNNING, ITEST_WAIT_MS);
    WAIT_UNTIL(itest_wait_pipe(RECONNECT_PIPE, 100), ITEST_WAIT_MS);
    CHECK_OK(c, shmb_ping(c));
    CHECK_INT(shmb_client_reconnects(c), 1);
done:
    if (svc != NULL && service_state(svc) == SERVICE_STOPPED)
        StartServiceW(svc, 0, NULL);
    shmb_disconnect(c);
    close_service(scm, svc);
    return TEST_RESULT;
}

/* ---- threads ------------------------------------------------------------ */

#define MAX_THREADS 64

/* Starts fn on args, args + stride, ... (n at most MAX_THREADS): each waits
 * on `go`, set once all are started, so they run together. Waits for all;
 * returns how many were started. */
static int run_together(int n, LPTHREAD_START_ROUTINE fn, void *args,
                        size_t stride, HANDLE go)
{
    HANDLE th[MAX_THREADS];
    int i, started;

    for (started = 0; started < n && started < MAX_THREADS; started++) {
        th[started] = CreateThread(
            NULL, 0, fn, (char *)args + (size_t)started * stride, 0, NULL);
        if (th[started] == NULL)
            break;
    }
    SetEvent(go);
    for (i = 0; i < started; i++) {
        WaitForSingleObject(th[i], INFINITE);
        CloseHandle(th[i]);
    }
    return started;
}

#define SHARE_THREADS 8
#define SHARE_ROUNDS 200

typedef struct share_arg {
    shmb_client *c;
    const char *name;
    HANDLE go;
    int failures;
    char first[320];
} share_arg;

static DWORD WINAPI share_run(LPVOID p)
{
    share_arg *a = p;
    shmb_region r;
    int i, rc;

    WaitForSingleObject(a->go, INFINITE);
    for (i = 0; i < SHARE_ROUNDS; i++) {
        /* Every other request opens (a grant with a handle to check). */
        if (i % 2 == 0) {
            rc = shmb_ping(a->c);
        } else {
            rc = shmb_region_open(a->c, a->name, SHMB_ACCESS_RO, &r);
            if (rc == SHMB_OK) {
                if (strcmp(r.name, a->name) != 0 || r.size != 4096)
                    rc = SHMB_E_PROTOCOL;
                shmb_region_close(&r);
            }
        }
        if (rc != SHMB_OK && a->failures++ == 0)
            snprintf(a->first, sizeof(a->first), "round %d: %s", i,
                     shmb_err_name(rc));
    }
    return 0;
}

int test_threads_share_one_client(void)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    share_arg args[SHARE_THREADS];
    HANDLE go = NULL;
    const char *name = itest_name("threads");
    int i, n = 0;

    memset(&r, 0, sizeof(r));
    memset(args, 0, sizeof(args));
    CHECK(c != NULL);
    CHECK_OK(c, itest_create(c, name, 4096, SHMB_LIFETIME_CLIENT, &r));
    go = CreateEventW(NULL, TRUE, FALSE, NULL);
    CHECK(go != NULL);
    for (i = 0; i < SHARE_THREADS; i++) {
        args[i].c = c;
        args[i].name = r.name;
        args[i].go = go;
    }
    n = run_together(SHARE_THREADS, share_run, args, sizeof(args[0]), go);
    CHECK_INT(n, SHARE_THREADS);
    for (i = 0; i < n; i++)
        if (args[i].failures != 0)
            ADD_FAILURE("thread %d: %d failures, first %s", i, args[i].failures,
                        args[i].first);
    /* The connection is still in step after all that. */
    CHECK_OK(c, shmb_ping(c));
    CHECK_INT(shmb_client_reconnects(c), 0);
done:
    if (go != NULL)
        CloseHandle(go);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}

#define CONNECT_THREADS 64

typedef struct connect_arg {
    HANDLE go;
    int rc;
    char msg[320];
} connect_arg;

static DWORD WINAPI connect_run(LPVOID p)
{
    connect_arg *a = p;
    shmb_connect_options o;
    shmb_client *c = NULL;

    memset(&o, 0, sizeof(o));
    o.pipe_name = itest_pipe();
    o.trust = SHMB_TRUST_SERVICE; /* the SCM is asked by every thread */
    o.timeout_ms = 30000;         /* 64 at once: the broker may be busy */
    WaitForSingleObject(a->go, INFINITE);
    a->rc = shmb_connect(&o, &c);
    if (a->rc == SHMB_OK)
        a->rc = shmb_ping(c);
    snprintf(a->msg, sizeof(a->msg), "%s", shmb_client_message(c));
    shmb_disconnect(c);
    return 0;
}

int test_threads_connect_at_once_service_trust(void)
{
    static connect_arg args[CONNECT_THREADS];
    HANDLE go = NULL;
    int i, n = 0;

    memset(args, 0, sizeof(args));
    go = CreateEventW(NULL, TRUE, FALSE, NULL);
    CHECK(go != NULL);
    for (i = 0; i < CONNECT_THREADS; i++)
        args[i].go = go;
    n = run_together(CONNECT_THREADS, connect_run, args, sizeof(args[0]), go);
    CHECK_INT(n, CONNECT_THREADS);
    for (i = 0; i < n; i++)
        if (args[i].rc != SHMB_OK)
            ADD_FAILURE("thread %d: %s: %s", i, shmb_err_name(args[i].rc),
                        args[i].msg);
done:
    if (go != NULL)
        CloseHandle(go);
    return TEST_RESULT;
}
