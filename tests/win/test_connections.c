/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_connections.c - what the service does with many connections and
 * with greedy ones, through the installed service: many at once, the
 * limits.max_clients and limits.clients_per_user caps, and backpressure -
 * a client that sends without reading its replies makes the server stop
 * reading from it, and the server catches up, in order, once it reads.
 */
#include <windows.h>

#include <stdlib.h>
#include <string.h>

#include "shmb_frame.h"
#include "util_win.h"

/* Connects to `o`; on failure returns the error and leaves *c NULL. */
static int connect_or_null(const shmb_connect_options *o, shmb_client **c)
{
    int rc = shmb_connect(o, c);
    if (rc != SHMB_OK) {
        shmb_disconnect(*c);
        *c = NULL;
    }
    return rc;
}

int test_many_connections(void)
{
    enum { N = 40 };
    shmb_client *cs[N] = {0};
    int i;
    for (i = 0; i < N; i++) {
        cs[i] = itest_connect();
        CHECK(cs[i] != NULL);
    }
    for (i = 0; i < N; i++)
        CHECK_INT(shmb_ping(cs[i]), SHMB_OK);
    for (i = 0; i < N; i++) {
        shmb_disconnect(cs[i]);
        cs[i] = NULL;
    }
    /* And after they all left, a new one is served. */
    cs[0] = itest_connect();
    CHECK(cs[0] != NULL);
    CHECK_INT(shmb_ping(cs[0]), SHMB_OK);
done:
    for (i = 0; i < N; i++)
        shmb_disconnect(cs[i]);
    return TEST_RESULT;
}

int test_max_clients_enforced(void)
{
    enum { MAX = 64 };
    shmb_client *cs[MAX] = {0}, *extra = NULL;
    shmb_connect_options o;
    int i, rc;

    for (i = 0; i < MAX; i++) {
        cs[i] = itest_connect();
        CHECK(cs[i] != NULL);
    }
    memset(&o, 0, sizeof(o));
    o.pipe_name = itest_pipe();
    rc = shmb_connect(&o, &extra);
    if (rc != SHMB_E_LIMIT_REACHED ||
        strstr(shmb_client_message(extra), "limits.max_clients") == NULL)
        FAIL("connection %d: %s '%s'", MAX + 1, shmb_err_name(rc),
             shmb_client_message(extra));
    shmb_disconnect(cs[0]);
    cs[0] = NULL;
    /* One slot free again, once the broker has seen the close. */
    WAIT_UNTIL(connect_or_null(&o, &cs[0]) == SHMB_OK, ITEST_WAIT_MS);
done:
    shmb_disconnect(extra);
    for (i = 0; i < MAX; i++)
        shmb_disconnect(cs[i]);
    return TEST_RESULT;
}

/* ---- backpressure ----------------------------------------------------- */

/* Each request a 256-byte frame (a list, padded with JSON white space), so
 * that the pipe and the server's read buffer fill long before we run out;
 * each reply lists the test's long-named regions, so it is a few KiB and
 * the server's unwritten replies pass its high-water mark (1 MiB) after a
 * few hundred requests. If the server kept reading, all REQUESTS would be
 * consumed (1 MiB of requests, ~10 MiB of queued replies). */
enum { REQUESTS = 4000, FRAME = 256, REGIONS = 8 };

typedef struct flood {
    HANDLE h;       /* overlapped raw connection */
    OVERLAPPED wov; /* the write in flight */
    int wpending;   /* wov not yet complete */
    uint8_t wbuf[FRAME];
    int sent; /* requests fully written */
    int writer_ok;
} flood;

static void flood_frame(flood *f, int i)
{
    char json[FRAME - 4 + 1];
    int n = snprintf(json, sizeof(json), "{\"id\":%d,\"op\":\"list\"}", i);
    memset(json + n, ' ', sizeof(json) - 1 - (size_t)n);
    shmb_frame_put_header(f->wbuf, FRAME - 4);
    memcpy(f->wbuf + 4, json, FRAME - 4);
}

/* Starts writing request f->sent. 0 if it is written, 1 if pending. */
static int flood_write(flood *f)
{
    DWORD n;
    flood_frame(f, f->sent);
    ResetEvent(f->wov.hEvent);
    if (WriteFile(f->h, f->wbuf, FRAME, &n, &f->wov)) {
        f->sent++;
        return 0;
    }
    if (GetLastError() != ERROR_IO_PENDING)
        return -1;
    f->wpending = 1;
    return 1;
}

/* Waits up to `ms` for the pending write: 1 done, 0 still pending, -1 on
 * error. */
static int flood_wait_write(flood *f, DWORD ms)
{
    DWORD n;
    if (WaitForSingleObject(f->wov.hEvent, ms) != WAIT_OBJECT_0)
        return 0;
    f->wpending = 0;
    if (!GetOverlappedResult(f->h, &f->wov, &n, FALSE) || n != FRAME)
        return -1;
    f->sent++;
    return 1;
}

/* Finishes the pending write, then writes the rest, each within 60 s. */
static DWORD WINAPI flood_writer(LPVOID arg)
{
    flood *f = arg;
    if (f->wpending && flood_wait_write(f, 60000) != 1)
        return 1;
    while (f->sent < REQUESTS) {
        int r = flood_write(f);
        if (r < 0 || (r == 1 && flood_wait_write(f, 60000) != 1))
            return 1;
    }
    f->writer_ok = 1;
    return 0;
}

/* hello on the overlapped connection (ids of the flood start at 0). */
static int send_hello_ov(flood *f)
{
    static const char hello[] = "{\"id\":999999,\"op\":\"hello\","
                                "\"versions\":[1]}";
    uint8_t frame[4 + sizeof(hello) - 1];
    DWORD n = 0;
    shmb_frame_put_header(frame, sizeof(hello) - 1);
    memcpy(frame + 4, hello, sizeof(hello) - 1);
    ResetEvent(f->wov.hEvent);
    if (!WriteFile(f->h, frame, sizeof(frame), &n, &f->wov)) {
        if (GetLastError() != ERROR_IO_PENDING)
            return -1;
        if (WaitForSingleObject(f->wov.hEvent, 5000) != WAIT_OBJECT_0)
            CancelIoEx(f->h, &f->wov); /* `frame` must outlive the write */
        if (!GetOverlappedResult(f->h, &f->wov, &n, TRUE))
            return -1;
    }
    return n == sizeof(frame) ? 0 : -1;
}

/* Reads exactly `len` bytes within `ms`. */
static int read_exact_ov(HANDLE h, OVERLAPPED *ov, void *buf, DWORD len,
                         DWORD ms)
{
    uint8_t *p = buf;
    DWORD n;
    while (len > 0) {
        ResetEvent(ov->hEvent);
        if (!ReadFile(h, p, len, &n, ov)) {
            if (GetLastError() != ERROR_IO_PENDING)
                return -1;
            if (WaitForSingleObject(ov->hEvent, ms) != WAIT_OBJECT_0) {
                CancelIoEx(h, ov);
                GetOverlappedResult(h, ov, &n, TRUE);
                return -1;
            }
            if (!GetOverlappedResult(h, ov, &n, FALSE))
                return -1;
        }
        if (n == 0)
            return -1;
        p += n;
        len -= n;
    }
    return 0;
}

static long recv_frame_ov(HANDLE h, OVERLAPPED *ov, char *buf, size_t cap)
{
    uint8_t hdr[4];
    uint32_t len;
    if (read_exact_ov(h, ov, hdr, 4, 30000) != 0)
        return -1;
    len = shmb_frame_get_header(hdr);
    if (len >= cap || read_exact_ov(h, ov, buf, len, 30000) != 0)
        return -1;
    buf[len] = '\0';
    return (long)len;
}

int test_flood_without_reading(void)
{
    static char buf[65536];
    static flood f;
    shmb_client *c = itest_connect();
    shmb_region r = {0};
    OVERLAPPED rov;
    HANDLE th = NULL;
    char name[SHMB_REGION_NAME_MAX + 1], want[32];
    int i, stalled = 0;
    long len = 0;
    DWORD n;

    memset(&f, 0, sizeof(f));
    memset(&rov, 0, sizeof(rov));
    f.h = INVALID_HANDLE_VALUE;
    f.wov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    rov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    CHECK(f.wov.hEvent != NULL && rov.hEvent != NULL);
    CHECK(c != NULL);
    /* Regions with long names make each list reply a few KiB. */
    for (i = 0; i < REGIONS; i++) {
        snprintf(name, sizeof(name), "it/flood.%lu.%d.", GetCurrentProcessId(),
                 i);
        memset(name + strlen(name), 'x', sizeof(name) - 1 - strlen(name));
        name[sizeof(name) - 1] = '\0';
        CHECK_OK(c, itest_create(c, name, 1, SHMB_LIFETIME_CLIENT, &r));
        shmb_region_close(&r);
    }
    f.h = raw_connect_overlapped();
    CHECK(f.h != INVALID_HANDLE_VALUE);
    CHECK(send_hello_ov(&f) == 0);
    CHECK(recv_frame_ov(f.h, &rov, buf, sizeof(buf)) > 0);
    CHECK(strstr(buf, "\"result\"") != NULL);

    /* Write requests, reading nothing, until a write is not taken. */
    while (f.sent < REQUESTS && !stalled) {
        int w = flood_write(&f);
        CHECK(w >= 0);
        if (w == 0 || flood_wait_write(&f, 500) != 0)
            continue;
        /* Not taken for 500 ms. Not merely slow: the server answers
         * another client meanwhile, and still does not take ours. */
        CHECK_OK(c, shmb_ping(c));
        w = flood_wait_write(&f, 1000);
        CHECK(w >= 0);
        stalled = w == 0;
    }
    if (!stalled)
        FAIL("the server read all %d requests (%d KiB) while we read no "
             "reply: it never stopped reading",
             REQUESTS, REQUESTS * FRAME / 1024);
    printf("the server stopped reading after %d of %d requests (%d KiB)\n",
           f.sent, REQUESTS, f.sent * FRAME / 1024);

    /* Now read: the server resumes, takes the rest, and answers every
     * request once, in order. */
    th = CreateThread(NULL, 0, flood_writer, &f, 0, NULL);
    CHECK(th != NULL);
    for (i = 0; i < REQUESTS; i++) {
        len = recv_frame_ov(f.h, &rov, buf, sizeof(buf));
        if (len < 0)
            FAIL("reply %d missing (%d requests written)", i, f.sent);
        snprintf(want, sizeof(want), "{\"id\":%d,", i);
        if (strncmp(buf, want, strlen(want)) != 0)
            FAIL("reply %d out of order: %.40s", i, buf);
    }
    printf("read %d replies, the last %ld bytes\n", REQUESTS, len);
    CHECK(WaitForSingleObject(th, 30000) == WAIT_OBJECT_0);
    CHECK_INT(f.writer_ok, 1);
done:
    if (f.h != INVALID_HANDLE_VALUE)
        CancelIoEx(f.h, NULL); /* ends a stuck writer thread too */
    if (th != NULL) {
        WaitForSingleObject(th, 70000);
        CloseHandle(th);
    } else if (f.wpending) {
        GetOverlappedResult(f.h, &f.wov, &n, TRUE);
    }
    raw_close(f.h);
    raw_close(f.wov.hEvent);
    raw_close(rov.hEvent);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}
