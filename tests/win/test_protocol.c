/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_protocol.c - the wire protocol through the installed service: every
 * error code with its message, bad frames and a client gone mid-frame on a
 * real pipe; after each, the service still serves others. The handshake,
 * bad JSON and the hello deadline are tested natively against the same
 * server code (tests/server/test_server.c).
 */
#include <windows.h>

#include <stdlib.h>
#include <string.h>

#include "shmb_frame.h"
#include "util_win.h"

/* Sends `req` and checks the error code and message in the reply. */
static int expect_error(shmb_client *c, const char *req, int code,
                        const char *msg)
{
    char *reply = NULL;
    int rc = shmb_request_json(c, req, &reply);
    shmb_free(reply);
    if (rc != code || strstr(shmb_client_message(c), msg) == NULL) {
        fprintf(stderr, "request %s: got %s '%s', want %s '%s'\n", req,
                shmb_err_name(rc), shmb_client_message(c), shmb_err_name(code),
                msg);
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
    shmb_region r = {0};
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
done:
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}

/* The one protocol violation kept over a real pipe: the listener's stream,
 * libuv's Windows read path and the close after the error frame. */
int test_oversized_frame_closes_connection(void)
{
    HANDLE h = raw_connect(), h2 = INVALID_HANDLE_VALUE;
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
    /* A zero-length frame is bad too. */
    h2 = raw_connect();
    CHECK(h2 != INVALID_HANDLE_VALUE);
    memset(hdr, 0, 4);
    CHECK(raw_send(h2, hdr, 4) == 0);
    CHECK(raw_recv_frame(h2, buf, sizeof(buf)) > 0);
    CHECK(strstr(buf, "\"code\":\"bad_frame\"") != NULL);
    CHECK(raw_at_eof(h2));
    CHECK(service_alive());
done:
    raw_close(h);
    raw_close(h2);
    return TEST_RESULT;
}

int test_client_dies_mid_frame(void)
{
    HANDLE h = INVALID_HANDLE_VALUE;
    uint8_t hdr[4];
    int i;
    for (i = 0; i < 5; i++) {
        h = raw_connect();
        CHECK(h != INVALID_HANDLE_VALUE);
        CHECK_INT(raw_hello(h), 0);
        shmb_frame_put_header(hdr, 1000);
        CHECK(raw_send(h, hdr, 4) == 0);
        CHECK(raw_send(h, "{\"id\":1,\"op\":", 13) == 0);
        CloseHandle(h); /* gone with 987 bytes still owed */
        h = INVALID_HANDLE_VALUE;
    }
    CHECK(service_alive());
done:
    raw_close(h);
    return TEST_RESULT;
}
