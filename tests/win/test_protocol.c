/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_protocol.c - every error code and every protocol violation, through
 * the installed service; after each, the service still serves others.
 */
#include <windows.h>

#include <stdlib.h>
#include <string.h>

#include "shmb_frame.h"
#include "util_win.h"

int test_flood_without_reading(void);

/* Sends `req` and checks the error code and message in the reply. */
static int expect_error(shmb_client *c, const char *req, int code,
                        const char *msg)
{
    char *reply = NULL;
    int rc = shmb_request_json(c, req, &reply);
    if (rc != code || strstr(shmb_client_message(c), msg) == NULL) {
        fprintf(stderr, "request %s: got %s '%s', want %s '%s'\n", req,
                shmb_err_name(rc), shmb_client_message(c), shmb_err_name(code),
                msg);
        shmb_free(reply);
        return 1;
    }
    return 0;
}

static int service_alive(void)
{
    shmb_client *c = itest_connect();
    int rc;
    if (c == NULL)
        return 0;
    rc = shmb_ping(c);
    shmb_disconnect(c);
    return rc == SHMB_OK;
}

int test_error_codes(void)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    char name[128], req[512];

    CHECK(c != NULL);
    CHECK(!expect_error(c, "{\"op\":\"fly\"}", SHMB_E_UNKNOWN_OP,
                        "unknown op 'fly'"));
    CHECK(!expect_error(c, "{\"op\":\"ping\",\"x\":1}", SHMB_E_BAD_REQUEST,
                        "unknown field 'x'"));
    CHECK(!expect_error(c, "{\"op\":\"open\",\"name\":\"a\"}",
                        SHMB_E_BAD_REQUEST, "missing field 'access'"));
    CHECK(!expect_error(c,
                        "{\"op\":\"open\",\"name\":\"../x\","
                        "\"access\":\"ro\"}",
                        SHMB_E_INVALID_NAME,
                        "name must start with a letter or digit"));
    CHECK(!expect_error(c, "{\"op\":\"create\",\"name\":\"a\",\"size\":0}",
                        SHMB_E_INVALID_SIZE, "must be at least 1"));
    CHECK(!expect_error(c,
                        "{\"op\":\"create\",\"name\":\"a\",\"size\":"
                        "1099511627776}",
                        SHMB_E_INVALID_SIZE,
                        "exceeds limits.max_region_size (16777216)"));
    CHECK(!expect_error(c,
                        "{\"op\":\"open\",\"name\":\"it/none\","
                        "\"access\":\"ro\"}",
                        SHMB_E_NOT_FOUND, "no region named 'it/none'"));
    CHECK(!expect_error(c, "{\"op\":\"release\",\"name\":\"it/none\"}",
                        SHMB_E_NOT_HELD, "holds no grant on 'it/none'"));
    CHECK(!expect_error(c, "{\"op\":\"hello\",\"versions\":[1]}",
                        SHMB_E_BAD_REQUEST, "hello was already done"));
    strcpy(name, itest_name("exists"));
    CHECK(shmb_region_create(c, name, 10, SHMB_ACCESS_RW, SHMB_LIFETIME_CLIENT,
                             &r) == SHMB_OK);
    snprintf(req, sizeof(req),
             "{\"op\":\"create\",\"name\":\"%s\",\"size\":10}", name);
    CHECK(!expect_error(c, req, SHMB_E_EXISTS, "exists"));
    /* Errors do not close the connection. */
    CHECK_INT(shmb_ping(c), SHMB_OK);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return 0;
}

int test_handshake_required(void)
{
    HANDLE h = raw_connect();
    char buf[1024];
    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK(raw_send_frame(h, "{\"id\":5,\"op\":\"ping\"}") == 0);
    CHECK(raw_recv_frame(h, buf, sizeof(buf)) > 0);
    CHECK_STR(buf, "{\"id\":5,\"error\":{\"code\":\"handshake_required\","
                   "\"message\":\"send hello before 'ping'\"}}");
    /* The connection stays usable: hello, then ping. */
    CHECK_INT(raw_hello(h), 0);
    CHECK(raw_send_frame(h, "{\"id\":6,\"op\":\"ping\"}") == 0);
    CHECK(raw_recv_frame(h, buf, sizeof(buf)) > 0);
    CHECK_STR(buf, "{\"id\":6,\"result\":{\"pong\":true}}");
    CloseHandle(h);
    return 0;
}

int test_version_mismatch_closes(void)
{
    HANDLE h = raw_connect();
    char buf[1024];
    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK(raw_send_frame(h, "{\"id\":1,\"op\":\"hello\",\"versions\":[7,9]}") ==
          0);
    CHECK(raw_recv_frame(h, buf, sizeof(buf)) > 0);
    CHECK(strstr(buf, "\"code\":\"unsupported_version\"") != NULL);
    CHECK(strstr(buf, "server speaks protocol versions 1..1") != NULL);
    CHECK(raw_at_eof(h));
    CloseHandle(h);
    CHECK(service_alive());
    return 0;
}

int test_bad_json_closes_connection(void)
{
    HANDLE h = raw_connect();
    char buf[1024];
    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK_INT(raw_hello(h), 0);
    CHECK(raw_send_frame(h, "{\"id\":2,") == 0);
    CHECK(raw_recv_frame(h, buf, sizeof(buf)) > 0);
    CHECK_STR(buf, "{\"id\":null,\"error\":{\"code\":\"bad_json\","
                   "\"message\":\"invalid JSON at byte 7\"}}");
    CHECK(raw_at_eof(h));
    CloseHandle(h);
    CHECK(service_alive());
    return 0;
}

int test_oversized_frame_closes_connection(void)
{
    HANDLE h = raw_connect();
    char buf[1024];
    uint8_t hdr[4];
    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK_INT(raw_hello(h), 0);
    /* Announce 64 KiB + 1: refused from the header, no payload needed. */
    shmb_frame_put_header(hdr, 65537);
    CHECK(raw_send(h, hdr, 4) == 0);
    CHECK(raw_recv_frame(h, buf, sizeof(buf)) > 0);
    CHECK(strstr(buf, "\"code\":\"bad_frame\"") != NULL);
    CHECK(strstr(buf, "limits.max_frame") != NULL);
    CHECK(raw_at_eof(h));
    CloseHandle(h);
    /* A zero-length frame is bad too. */
    h = raw_connect();
    CHECK(h != INVALID_HANDLE_VALUE);
    memset(hdr, 0, 4);
    CHECK(raw_send(h, hdr, 4) == 0);
    CHECK(raw_recv_frame(h, buf, sizeof(buf)) > 0);
    CHECK(strstr(buf, "\"code\":\"bad_frame\"") != NULL);
    CHECK(raw_at_eof(h));
    CloseHandle(h);
    CHECK(service_alive());
    return 0;
}

int test_client_dies_mid_frame(void)
{
    int i;
    for (i = 0; i < 5; i++) {
        HANDLE h = raw_connect();
        uint8_t hdr[4];
        CHECK(h != INVALID_HANDLE_VALUE);
        CHECK_INT(raw_hello(h), 0);
        shmb_frame_put_header(hdr, 1000);
        CHECK(raw_send(h, hdr, 4) == 0);
        CHECK(raw_send(h, "{\"id\":1,\"op\":", 13) == 0);
        CloseHandle(h); /* gone with 987 bytes still owed */
    }
    CHECK(service_alive());
    return 0;
}

int test_many_connections(void)
{
    enum { N = 40 };
    shmb_client *cs[N];
    int i;
    for (i = 0; i < N; i++) {
        cs[i] = itest_connect();
        CHECK(cs[i] != NULL);
    }
    for (i = 0; i < N; i++) {
        CHECK_INT(shmb_ping(cs[i]), SHMB_OK);
        shmb_disconnect(cs[i]);
    }
    CHECK(service_alive());
    return 0;
}

int test_hello_timeout_closes(void)
{
    HANDLE h = raw_connect_pipe(ITEST_QUOTA_PIPE);
    char buf[512];
    CHECK(h != INVALID_HANDLE_VALUE);
    /* Say nothing: after limits.hello_timeout_ms (500 ms here) the broker
     * explains and hangs up. */
    CHECK(raw_recv_frame(h, buf, sizeof(buf)) > 0);
    CHECK_STR(buf, "{\"id\":null,\"error\":{\"code\":\"handshake_required\","
                   "\"message\":\"no hello within limits.hello_timeout_ms "
                   "(500 ms)\"}}");
    CHECK(raw_at_eof(h));
    CloseHandle(h);
    return 0;
}

int test_clients_per_user_enforced(void)
{
    shmb_client *cs[3], *extra = NULL;
    shmb_connect_options o;
    int i, rc;
    for (i = 0; i < 3; i++) {
        cs[i] = itest_connect_pipe(ITEST_QUOTA_PIPE);
        CHECK(cs[i] != NULL);
    }
    memset(&o, 0, sizeof(o));
    o.pipe_name = ITEST_QUOTA_PIPE;
    o.service_name = "shmb-quota";
    rc = shmb_connect(&o, &extra);
    CHECK_INT(rc, SHMB_E_LIMIT_REACHED);
    CHECK_STR(shmb_client_message(extra),
              "you already have limits.clients_per_user (3) connections open");
    shmb_disconnect(extra);
    for (i = 0; i < 3; i++)
        shmb_disconnect(cs[i]);
    return 0;
}

typedef struct flood {
    HANDLE h;
    int n;
    int ok;
} flood;

static DWORD WINAPI flood_send(LPVOID arg)
{
    flood *f = arg;
    char req[64];
    int i;
    for (i = 0; i < f->n; i++) {
        snprintf(req, sizeof(req), "{\"id\":%d,\"op\":\"list\"}", i + 100);
        if (raw_send_frame(f->h, req) != 0)
            return 1;
    }
    f->ok = 1;
    return 0;
}

int test_flood_without_reading(void)
{
    enum { REGIONS = 40, REQUESTS = 3000 };
    shmb_client *c = itest_connect();
    shmb_region r;
    flood f;
    HANDLE th, h;
    static char buf[65536];
    char want[32];
    int i;

    CHECK(c != NULL);
    /* Enough visible regions that each list reply is a few KiB. */
    for (i = 0; i < 8; i++) {
        char name[64];
        snprintf(name, sizeof(name), "it/flood.%lu.%d", GetCurrentProcessId(),
                 i);
        CHECK(shmb_region_create(c, name, 1, SHMB_ACCESS_RW,
                                 SHMB_LIFETIME_CLIENT, &r) == SHMB_OK);
        shmb_region_close(&r);
    }
    (void)REGIONS;
    h = raw_connect();
    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK_INT(raw_hello(h), 0);
    /* Send thousands of requests without reading a single reply: the
     * broker must pause reading rather than queue replies without bound. */
    f.h = h;
    f.n = REQUESTS;
    f.ok = 0;
    th = CreateThread(NULL, 0, flood_send, &f, 0, NULL);
    CHECK(th != NULL);
    Sleep(1500);
    /* Meanwhile others are served. */
    CHECK_INT(shmb_ping(c), SHMB_OK);
    /* Now read: every reply arrives, in order, once reading resumes. */
    for (i = 0; i < REQUESTS; i++) {
        if (raw_recv_frame(h, buf, sizeof(buf)) < 0) {
            fprintf(stderr, "reply %d missing\n", i);
            return 1;
        }
        snprintf(want, sizeof(want), "{\"id\":%d,", i + 100);
        if (strncmp(buf, want, strlen(want)) != 0) {
            fprintf(stderr, "reply %d out of order: %.40s\n", i, buf);
            return 1;
        }
    }
    CHECK(WaitForSingleObject(th, 30000) == WAIT_OBJECT_0);
    CHECK_INT(f.ok, 1);
    CloseHandle(th);
    CloseHandle(h);
    shmb_disconnect(c);
    return 0;
}
