/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_server.c - the portable server (service/server.c) natively, over a
 * real libuv stream (a socketpair) and the fake platform: frames in,
 * broker, replies out, pipelining, bad frames, the hello deadline,
 * connection limits, refused identification, backpressure, undelivered
 * grants and stopping with clients connected. The same code serves the
 * Windows pipe; the Wine tests keep what needs the real kernel.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "broker.h"
#include "fake_channel.h"
#include "fake_platform.h"
#include "fixture.h"
#include "harness.h"
#include "sweeper.h"
#include "server.h"
#include "shmb_frame.h"

/* ---- the request path --------------------------------------------------- */

int test_server_request_path(void)
{
    fixture f = {0};
    tclient a = TCLIENT_INIT, b = TCLIENT_INIT;

    CHECK(fixture_up(&f, NULL) == 0);
    CHECK(connect_me(&f, &a) == 0 && connect_me(&f, &b) == 0);
    CHECK(hello(&f, &a) && hello(&f, &b));
    CHECK(call(&f, &a, "\"op\":\"ping\"",
               "{\"id\":2,\"result\":{\"pong\":true}}"));
    CHECK(call(&f, &a,
               "\"op\":\"create\",\"name\":\"users/" ME "/r\",\"size\":4096",
               "\"handle\":"));
    CHECK_INT(g_fake.live_sections, 1);
    CHECK(call(&f, &b,
               "\"op\":\"open\",\"name\":\"users/" ME "/r\",\"access\":\"ro\"",
               "\"access\":\"ro\""));
    CHECK(call(&f, &b, "\"op\":\"stat\",\"name\":\"users/" ME "/r\"",
               "\"holders\":2"));
    CHECK(call(&f, &a, "\"op\":\"list\"", "\"truncated\":false"));
    CHECK(call(&f, &a, "\"op\":\"release\",\"name\":\"users/" ME "/r\"",
               "\"result\""));
    /* b still holds the client region; when b goes, so does the region. */
    CHECK_INT(g_fake.live_sections, 1);
    client_close(&b);
    CHECK(call(&f, &a, "\"op\":\"ping\"", "\"pong\""));
    CHECK_INT(g_fake.live_sections, 0);
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&a);
    fixture_down(&f);
    return TEST_RESULT;
}

int test_server_pipelined_and_split_frames(void)
{
    fixture f = {0};
    tclient a = TCLIENT_INIT;
    char many[64 * 40], one[64];
    const char *split = "{\"id\":99,\"op\":\"ping\"}";
    uint8_t hdr[SHMB_FRAME_HEADER];
    size_t off = 0, i;

    CHECK(fixture_up(&f, NULL) == 0);
    CHECK(connect_me(&f, &a) == 0);
    CHECK(hello(&f, &a));
    /* 40 requests in one write: 40 replies, in order. */
    for (i = 0; i < 40; i++) {
        int n = snprintf(one, sizeof(one), "{\"id\":%u,\"op\":\"ping\"}",
                         (unsigned)(100 + i));
        shmb_frame_put_header((uint8_t *)many + off, (uint32_t)n);
        memcpy(many + off + SHMB_FRAME_HEADER, one, (size_t)n);
        off += SHMB_FRAME_HEADER + (size_t)n;
    }
    CHECK(send_raw(&f, &a, many, off) == 0);
    for (i = 0; i < 40; i++) {
        snprintf(one, sizeof(one), "{\"id\":%u,", (unsigned)(100 + i));
        CHECK(expect(&f, &a, one));
    }
    /* One request a byte at a time, the loop running in between. */
    shmb_frame_put_header(hdr, (uint32_t)strlen(split));
    for (i = 0; i < sizeof(hdr); i++) {
        CHECK(send_raw(&f, &a, hdr + i, 1) == 0);
        uv_run(&f.loop, UV_RUN_NOWAIT);
    }
    for (i = 0; split[i] != '\0'; i++) {
        CHECK(send_raw(&f, &a, split + i, 1) == 0);
        uv_run(&f.loop, UV_RUN_NOWAIT);
    }
    CHECK(expect(&f, &a, "{\"id\":99,\"result\":{\"pong\":true}}"));
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&a);
    fixture_down(&f);
    return TEST_RESULT;
}

/* ---- what closes a connection ------------------------------------------ */

int test_server_bad_frame_closes_only_that_connection(void)
{
    fixture f = {0};
    tclient bad = TCLIENT_INIT, good = TCLIENT_INIT;
    const uint8_t zero[SHMB_FRAME_HEADER] = {0, 0, 0, 0};

    CHECK(fixture_up(&f, NULL) == 0);
    CHECK(connect_me(&f, &bad) == 0 && connect_me(&f, &good) == 0);
    CHECK(hello(&f, &bad) && hello(&f, &good));
    CHECK(send_raw(&f, &bad, zero, sizeof(zero)) == 0);
    CHECK(expect(&f, &bad, "{\"id\":null,\"error\":{\"code\":\"bad_frame\""));
    CHECK(closed_by_server(&f, &bad));
    CHECK(strstr(f.logged, "event=bad_frame") != NULL);
    CHECK(call(&f, &good, "\"op\":\"ping\"", "\"pong\""));
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&bad);
    client_close(&good);
    fixture_down(&f);
    return TEST_RESULT;
}

/* A request before hello is refused with its id; the connection stays
 * usable. */
int test_server_handshake_required(void)
{
    fixture f = {0};
    tclient a = TCLIENT_INIT;

    CHECK(fixture_up(&f, NULL) == 0);
    CHECK(connect_me(&f, &a) == 0);
    CHECK(send_json(&f, &a, "{\"id\":5,\"op\":\"ping\"}") == 0);
    CHECK(expect(&f, &a,
                 "{\"id\":5,\"error\":{\"code\":\"handshake_required\","
                 "\"message\":\"send hello before 'ping'\"}}"));
    a.next_id = 5;
    CHECK(hello(&f, &a));
    CHECK(call(&f, &a, "\"op\":\"ping\"",
               "{\"id\":7,\"result\":{\"pong\":true}}"));
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&a);
    fixture_down(&f);
    return TEST_RESULT;
}

int test_server_version_mismatch_closes(void)
{
    fixture f = {0};
    tclient a = TCLIENT_INIT, b = TCLIENT_INIT;

    CHECK(fixture_up(&f, NULL) == 0);
    CHECK(connect_me(&f, &a) == 0 && connect_me(&f, &b) == 0);
    CHECK(call(&f, &a, "\"op\":\"hello\",\"versions\":[7,9]",
               "{\"id\":1,\"error\":{\"code\":\"unsupported_version\","
               "\"message\":\"server speaks protocol versions 1..1"));
    CHECK(closed_by_server(&f, &a));
    CHECK(hello(&f, &b));
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&a);
    client_close(&b);
    fixture_down(&f);
    return TEST_RESULT;
}

int test_server_bad_json_closes(void)
{
    fixture f = {0};
    tclient a = TCLIENT_INIT;

    CHECK(fixture_up(&f, NULL) == 0);
    CHECK(connect_me(&f, &a) == 0);
    CHECK(hello(&f, &a));
    CHECK(send_json(&f, &a, "{\"id\":2,") == 0);
    CHECK(expect(&f, &a,
                 "{\"id\":null,\"error\":{\"code\":\"bad_json\","
                 "\"message\":\"invalid JSON at byte 7\"}}"));
    CHECK(closed_by_server(&f, &a));
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&a);
    fixture_down(&f);
    return TEST_RESULT;
}

int test_server_oversized_frame_closes(void)
{
    fixture f = {0};
    tclient a = TCLIENT_INIT;
    uint8_t hdr[SHMB_FRAME_HEADER];

    CHECK(fixture_up(&f, "{\"limits\":{\"max_frame\":1024}}") == 0);
    CHECK(connect_me(&f, &a) == 0);
    /* Refused from the header alone: no 1025 bytes are ever sent. */
    shmb_frame_put_header(hdr, 1025);
    CHECK(send_raw(&f, &a, hdr, sizeof(hdr)) == 0);
    CHECK(expect(&f, &a, "\"code\":\"bad_frame\""));
    CHECK(closed_by_server(&f, &a));
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&a);
    fixture_down(&f);
    return TEST_RESULT;
}

int test_server_hello_deadline(void)
{
    fixture f = {0};
    tclient silent = TCLIENT_INIT, polite = TCLIENT_INIT;

    CHECK(fixture_up(&f, "{\"limits\":{\"hello_timeout_ms\":100}}") == 0);
    CHECK(connect_me(&f, &polite) == 0);
    CHECK(hello(&f, &polite));
    CHECK(connect_me(&f, &silent) == 0);
    /* Unsolicited: id null, the limit named, then the connection ends. */
    CHECK(expect(&f, &silent,
                 "{\"id\":null,\"error\":{\"code\":\"handshake_required\","
                 "\"message\":\"no hello within limits.hello_timeout_ms "
                 "(100 ms)\"}}"));
    CHECK(closed_by_server(&f, &silent));
    CHECK(strstr(f.logged, "event=hello_timeout") != NULL);
    /* Long after the deadline, the one that said hello is still served. */
    uv_sleep(150);
    CHECK(call(&f, &polite, "\"op\":\"ping\"", "\"pong\""));
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&silent);
    client_close(&polite);
    fixture_down(&f);
    return TEST_RESULT;
}

int test_server_half_frame_then_hello_deadline(void)
{
    fixture f = {0};
    tclient a = TCLIENT_INIT;
    const uint8_t part[] = {20, 0, 0, 0, '{', '"'};

    CHECK(fixture_up(&f, "{\"limits\":{\"hello_timeout_ms\":100}}") == 0);
    CHECK(connect_me(&f, &a) == 0);
    CHECK(send_raw(&f, &a, part, sizeof(part)) == 0);
    CHECK(expect(&f, &a, "\"code\":\"handshake_required\""));
    CHECK(closed_by_server(&f, &a));
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&a);
    fixture_down(&f);
    return TEST_RESULT;
}

int test_server_connection_limits(void)
{
    fixture f = {0};
    tclient c[4] = {TCLIENT_INIT, TCLIENT_INIT, TCLIENT_INIT, TCLIENT_INIT};
    fake_peer_spec other = {"S-1-5-21-7-7-7-2002", NULL, 0, 0, SHMB_OK, NULL};
    int i;

    CHECK(fixture_up(&f, "{\"limits\":{\"max_clients\":3,"
                         "\"clients_per_user\":2}}") == 0);
    CHECK(connect_me(&f, &c[0]) == 0 && connect_me(&f, &c[1]) == 0);
    /* A third of the same principal: refused, named limit, closed. */
    CHECK(connect_me(&f, &c[2]) == 0);
    CHECK(expect(&f, &c[2],
                 "\"code\":\"limit_reached\",\"message\":\"you already have "
                 "limits.clients_per_user (2) connections open\""));
    CHECK(closed_by_server(&f, &c[2]));
    client_close(&c[2]);
    /* Another user fills the last slot; then nobody else gets in. */
    CHECK(connect_spec(&f, &c[2], &other) == 0);
    CHECK(hello(&f, &c[2]));
    other.user = "S-1-5-21-7-7-7-3003";
    CHECK(connect_spec(&f, &c[3], &other) == 0);
    CHECK(expect(&f, &c[3], "limits.max_clients (3) connections are open"));
    CHECK(closed_by_server(&f, &c[3]));
    /* Everyone admitted is still served. */
    CHECK(hello(&f, &c[0]) && hello(&f, &c[1]));
    CHECK(fixture_down(&f) == 0);
done:
    for (i = 0; i < 4; i++)
        client_close(&c[i]);
    fixture_down(&f);
    return TEST_RESULT;
}

int test_server_refused_identification(void)
{
    fixture f = {0};
    tclient a = TCLIENT_INIT;
    fake_peer_spec spec = {ME,
                           NULL,
                           0,
                           0,
                           SHMB_E_ACCESS_DENIED,
                           "process 4242 runs as someone else"};

    CHECK(fixture_up(&f, NULL) == 0);
    CHECK(connect_spec(&f, &a, &spec) == 0);
    CHECK(expect(&f, &a,
                 "{\"id\":null,\"error\":{\"code\":\"access_denied\","
                 "\"message\":\"process 4242 runs as someone else\"}}"));
    CHECK(closed_by_server(&f, &a));
    CHECK(strstr(f.logged, "event=connect_refused") != NULL);
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&a);
    fixture_down(&f);
    return TEST_RESULT;
}

/* ---- backpressure and undelivered grants -------------------------------- */

int test_server_stops_reading_from_client_that_never_reads(void)
{
    fixture f = {0};
    tclient a = TCLIENT_INIT;
    char body[256], reply[65536];
    size_t sent = 0, sent_bytes = 0, answered = 0, i;
    const size_t cap = 1u << 20;
    server_stats st;
    int r, stalled = 0;

    CHECK(fixture_up(&f, NULL) == 0);
    CHECK(connect_me(&f, &a) == 0);
    CHECK(hello(&f, &a));
    /* Make `list` replies large (about 2.4 KiB for a 25-byte request): 10
     * regions with long names. */
    for (i = 0; i < 10; i++) {
        snprintf(body, sizeof(body),
                 "\"op\":\"create\",\"name\":\"users/" ME "/%090u\","
                 "\"size\":1,\"lifetime\":\"persistent\"",
                 (unsigned)i);
        CHECK(call(&f, &a, body, "\"handle\":"));
    }
    /* Send list requests and never read. A server that kept reading
     * would take them all (and queue every reply): we could write the
     * whole MiB. One that stops reading fills the socket, and then the
     * client's writes stay refused however long the server runs. */
    while (sent_bytes < cap && !stalled) {
        char req[64];
        uint8_t frame[80];
        int n = snprintf(req, sizeof(req), "{\"id\":%u,\"op\":\"list\"}",
                         (unsigned)++a.next_id);
        shmb_frame_put_header(frame, (uint32_t)n);
        memcpy(frame + SHMB_FRAME_HEADER, req, (size_t)n);
        ssize_t w = write(a.fd, frame, SHMB_FRAME_HEADER + (size_t)n);
        if (w == (ssize_t)(SHMB_FRAME_HEADER + (size_t)n)) {
            sent++;
            sent_bytes += (size_t)w;
            continue;
        }
        CHECK(w < 0 && errno == EAGAIN); /* no partial frames in this test */
        a.next_id--;
        for (i = 0; i < 50; i++)
            uv_run(&f.loop, UV_RUN_NOWAIT);
        w = write(a.fd, frame, SHMB_FRAME_HEADER + (size_t)n);
        if (w < 0 && errno == EAGAIN)
            stalled = 1;
        else if (w == (ssize_t)(SHMB_FRAME_HEADER + (size_t)n))
            sent++, sent_bytes += (size_t)w, a.next_id++;
        else
            CHECK(0);
    }
    CHECK(stalled);
    server_get_stats(f.srv, &st);
    CHECK_INT(st.paused, 1);
    /* Now read: every request is answered, in order, and reading resumes. */
    while (answered < sent) {
        char want[32];
        r = recv_reply(&f, &a, reply, sizeof(reply));
        CHECK_INT(r, 1);
        snprintf(want, sizeof(want), "{\"id\":%u,",
                 (unsigned)(a.next_id - sent + answered + 1));
        CHECK(strncmp(reply, want, strlen(want)) == 0);
        answered++;
    }
    server_get_stats(f.srv, &st);
    CHECK_INT(st.paused, 0);
    CHECK(call(&f, &a, "\"op\":\"ping\"", "\"pong\""));
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&a);
    fixture_down(&f);
    return TEST_RESULT;
}

int test_server_undelivered_grant_revoked(void)
{
    fixture f = {0};
    tclient a = TCLIENT_INIT;
    broker_stats bs;

    CHECK(fixture_up(&f, NULL) == 0);
    CHECK(connect_me(&f, &a) == 0);
    CHECK(hello(&f, &a));
    /* The client asks for a region and is gone before the reply. */
    CHECK(request(&f, &a,
                  "\"op\":\"create\",\"name\":\"users/" ME "/gone\","
                  "\"size\":4096") == 0);
    client_close(&a);
    WAIT_UNTIL(pump(&f) && g_fake.revoked_total == 1, WAIT_MS);
    CHECK(strstr(f.logged, "event=undelivered") != NULL);
    /* Its `client` region went with the connection. */
    WAIT_UNTIL(pump(&f) && g_fake.live_sections == 0, WAIT_MS);
    broker_get_stats(f.b, &bs);
    CHECK_INT(bs.clients, 0);
    CHECK_INT(bs.regions, 0);
    CHECK(fixture_down(&f) == 0);
done:
    fixture_down(&f);
    return TEST_RESULT;
}

/* Every handle of an undelivered reply is closed in the client, the
 * doorbells' as well as the section's. */
int test_server_undelivered_doorbells_revoked(void)
{
    fixture f = {0};
    tclient a = TCLIENT_INIT;

    CHECK(fixture_up(&f, NULL) == 0);
    CHECK(connect_me(&f, &a) == 0);
    CHECK(hello(&f, &a));
    CHECK(request(&f, &a,
                  "\"op\":\"create\",\"name\":\"users/" ME "/bells\","
                  "\"size\":4096,\"doorbells\":3") == 0);
    client_close(&a);
    WAIT_UNTIL(pump(&f) && g_fake.revoked_total == 1, WAIT_MS);
    CHECK_INT(g_fake.revoked_doorbells, 3);
    WAIT_UNTIL(pump(&f) && g_fake.live_sections == 0, WAIT_MS);
    CHECK_INT(g_fake.live_doorbells, 0);
    CHECK(fixture_down(&f) == 0);
done:
    fixture_down(&f);
    return TEST_RESULT;
}

/* ---- start and stop ------------------------------------------------------ */

int test_server_stop_with_clients_connected(void)
{
    fixture f = {0};
    tclient c[5] = {TCLIENT_INIT, TCLIENT_INIT, TCLIENT_INIT, TCLIENT_INIT,
                    TCLIENT_INIT};
    char body[128];
    int i;

    CHECK(fixture_up(&f, NULL) == 0);
    for (i = 0; i < 5; i++) {
        CHECK(connect_me(&f, &c[i]) == 0);
        if (i == 4)
            break; /* one that never says hello */
        CHECK(hello(&f, &c[i]));
        snprintf(body, sizeof(body),
                 "\"op\":\"create\",\"name\":\"users/" ME "/s%d\","
                 "\"size\":100",
                 i);
        CHECK(call(&f, &c[i], body, "\"handle\":"));
    }
    CHECK_INT(g_fake.live_sections, 4);
    server_stop(f.srv);
    f.srv = NULL;
    uv_run(&f.loop, UV_RUN_DEFAULT);
    for (i = 0; i < 5; i++) {
        CHECK(closed_by_server(&f, &c[i]));
        client_close(&c[i]);
    }
    CHECK(!g_chan.listening);
    CHECK(fake_connect(&(fake_peer_spec){ME, NULL, 0, 0, SHMB_OK, NULL}) < 0);
    CHECK(fixture_down(&f) == 0);
done:
    for (i = 0; i < 5; i++)
        client_close(&c[i]);
    fixture_down(&f);
    return TEST_RESULT;
}

int test_server_start_refused(void)
{
    uv_loop_t loop;
    shmb_config cfg;
    broker *b = NULL;
    server *srv = NULL;
    char why[256] = "";

    fake_channel_reset();
    uv_loop_init(&loop);
    shmb_config_defaults(&cfg, &shmb_conventions_windows);
    b = broker_new(&cfg, NULL);
    shmb_config_free(&cfg);
    CHECK(b != NULL);
    g_chan.refuse_start = 1;
    CHECK_INT(
        server_start(&loop, b, "taken", "D:", NULL, &srv, why, sizeof(why)),
        SHMB_E_SYSTEM);
    CHECK_STR(why, "channel taken already exists");
    CHECK(srv == NULL);
    /* Nothing was left on the loop. */
    CHECK_INT(uv_run(&loop, UV_RUN_NOWAIT), 0);
done:
    broker_free(b);
    uv_loop_close(&loop);
    return TEST_RESULT;
}

/* A reload lands in the broker, and the server follows it: a connection
 * accepted after the reload gets the new hello deadline. */
int test_server_follows_reloaded_limits(void)
{
    fixture f = {0};
    tclient a = TCLIENT_INIT;
    shmb_config fresh;
    char why[SHMB_CONFIG_ERR_MAX];
    const char *json = "{\"limits\":{\"hello_timeout_ms\":100}}";

    CHECK(fixture_up(&f, NULL) == 0);
    CHECK(shmb_config_parse(json, strlen(json), "t", &shmb_conventions_windows,
                            &fresh, why, sizeof(why)) == SHMB_OK);
    CHECK_INT(broker_reconfigure(f.b, &fresh), SHMB_OK);
    shmb_config_free(&fresh);
    CHECK(connect_me(&f, &a) == 0);
    CHECK(expect(&f, &a, "limits.hello_timeout_ms (100 ms)"));
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&a);
    fixture_down(&f);
    return TEST_RESULT;
}

/* ---- denials that do not leak -------------------------------------------- */

#define OTHER "S-1-5-21-7-7-7-2002"
/* ME may create and open anything under box/; nobody else may. */
#define BOX_RULE                                                               \
    "\"rules\":[{\"name\":\"mine\",\"match\":{\"user\":\"" ME "\"},"           \
    "\"regions\":[\"box/**\"],\"create\":true,\"open\":\"rw\"}]"

/* Sends `body` and returns the reply with every `name` replaced by "NAME",
 * so two answers about different names can be compared whole. */
static int answer_about(fixture *f, tclient *c, const char *op,
                        const char *name, char *out, size_t cap)
{
    char body[256], *p;
    size_t n = strlen(name);
    snprintf(body, sizeof(body), "\"op\":\"%s\",\"name\":\"%s\"", op, name);
    if (request(f, c, body) != 0 || recv_reply(f, c, out, cap) != 1)
        return -1;
    while ((p = strstr(out, name)) != NULL) {
        memcpy(p, "NAME", 4);
        memmove(p + 4, p + n, strlen(p + n) + 1);
    }
    /* Ids differ from request to request. */
    p = strchr(out, ',');
    if (p != NULL)
        memmove(out, p, strlen(p) + 1);
    return 0;
}

/* delete, like stat, answers a caller who may not see a region exactly as
 * if the name did not exist. */
int test_server_delete_does_not_leak(void)
{
    fixture f = {0};
    tclient a = TCLIENT_INIT, b = TCLIENT_INIT;
    fake_peer_spec other = {OTHER, NULL, 0, 0, SHMB_OK, NULL};
    char there[1024], absent[1024];

    CHECK(fixture_up(&f, "{" BOX_RULE "}") == 0);
    CHECK(connect_me(&f, &a) == 0 && connect_spec(&f, &b, &other) == 0);
    CHECK(hello(&f, &a) && hello(&f, &b));
    CHECK(call(&f, &a,
               "\"op\":\"create\",\"name\":\"box/r1\",\"size\":1,"
               "\"lifetime\":\"persistent\"",
               "\"handle\":"));
    CHECK(answer_about(&f, &b, "delete", "box/r1", there, sizeof(there)) == 0);
    CHECK(answer_about(&f, &b, "delete", "box/r2", absent, sizeof(absent)) ==
          0);
    CHECK(strstr(there, "\"access_denied\"") != NULL);
    CHECK_STR(there, absent);
    CHECK(answer_about(&f, &b, "stat", "box/r1", there, sizeof(there)) == 0);
    CHECK(answer_about(&f, &b, "stat", "box/r2", absent, sizeof(absent)) == 0);
    CHECK_STR(there, absent);
    /* The creator still may. */
    CHECK(call(&f, &a, "\"op\":\"delete\",\"name\":\"box/r1\"",
               "{\"name\":\"box/r1\",\"holders\":1}"));
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&a);
    client_close(&b);
    fixture_down(&f);
    return TEST_RESULT;
}

/* ---- exact parsing ------------------------------------------------------- */

/* A repeated key or too many keys is answered with the request's id and the
 * connection stays; bytes that are not UTF-8 are bad_json (id null) and end
 * it, in a name as in hello's client. */
int test_server_parse_errors_carry_id(void)
{
    fixture f = {0};
    tclient a = TCLIENT_INIT, b = TCLIENT_INIT;

    CHECK(fixture_up(&f, NULL) == 0);
    CHECK(connect_me(&f, &a) == 0 && connect_me(&f, &b) == 0);
    CHECK(hello(&f, &a));
    CHECK(send_json(&f, &a, "{\"id\":41,\"op\":\"ping\",\"op\":\"ping\"}") ==
          0);
    CHECK(expect(&f, &a,
                 "{\"id\":41,\"error\":{\"code\":\"bad_request\","
                 "\"message\":\"duplicate field 'op'\"}}"));
    CHECK(send_json(&f, &a,
                    "{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,"
                    "\"h\":1,\"i\":1,\"j\":1,\"k\":1,\"l\":1,\"m\":1,\"n\":1,"
                    "\"o\":1,\"p\":1,\"id\":42}") == 0);
    CHECK(expect(&f, &a,
                 "{\"id\":42,\"error\":{\"code\":\"bad_request\","
                 "\"message\":\"more than 16 fields\"}}"));
    CHECK(call(&f, &a, "\"op\":\"ping\"", "\"pong\""));
    CHECK(send_json(&f, &a,
                    "{\"id\":43,\"op\":\"stat\",\"name\":\"x\xc3\x28\"}") == 0);
    CHECK(expect(&f, &a,
                 "{\"id\":null,\"error\":{\"code\":\"bad_json\","
                 "\"message\":\"invalid UTF-8 at byte 30\"}}"));
    CHECK(closed_by_server(&f, &a));
    CHECK(send_json(&f, &b,
                    "{\"id\":1,\"op\":\"hello\",\"versions\":[1],"
                    "\"client\":\"\xff\"}") == 0);
    CHECK(expect(&f, &b, "\"code\":\"bad_json\""));
    CHECK(closed_by_server(&f, &b));
    CHECK(strstr(f.logged, "event=hello") == NULL);
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&a);
    client_close(&b);
    fixture_down(&f);
    return TEST_RESULT;
}

/* ---- deadlines after hello ----------------------------------------------- */

static size_t open_connections(fixture *f)
{
    server_stats st;
    server_get_stats(f->srv, &st);
    return st.connections;
}

/* A frame begun and never finished closes the connection after
 * limits.frame_timeout_ms, after hello too, with a bad_frame error first;
 * trickling in more bytes does not move the deadline. */
int test_server_frame_deadline(void)
{
    fixture f = {0};
    tclient half = TCLIENT_INIT, trickle = TCLIENT_INIT, idle = TCLIENT_INIT;
    const uint8_t part[] = {20, 0, 0, 0, '{', '"'};
    uint8_t hdr[SHMB_FRAME_HEADER];
    int i, gone = 0;

    CHECK(fixture_up(&f, "{\"limits\":{\"frame_timeout_ms\":100}}") == 0);
    CHECK(connect_me(&f, &half) == 0 && connect_me(&f, &trickle) == 0 &&
          connect_me(&f, &idle) == 0);
    CHECK(hello(&f, &half) && hello(&f, &trickle) && hello(&f, &idle));
    CHECK(send_raw(&f, &half, part, sizeof(part)) == 0);
    CHECK(expect(&f, &half,
                 "{\"id\":null,\"error\":{\"code\":\"bad_frame\","
                 "\"message\":\"frame incomplete after "
                 "limits.frame_timeout_ms (100 ms)\"}}"));
    CHECK(closed_by_server(&f, &half));
    CHECK(strstr(f.logged, "event=frame_timeout") != NULL);
    /* A 1000-byte frame, one byte every 20 ms, would take 20 s; it is cut
     * off at the deadline of the frame, not of the last byte. */
    shmb_frame_put_header(hdr, 1000);
    CHECK(send_raw(&f, &trickle, hdr, sizeof(hdr)) == 0);
    for (i = 0; i < 1000 && !gone; i++) {
        uint64_t next = uv_now(&f.loop) + 20;
        if (write(trickle.fd, " ", 1) != 1)
            gone = 1; /* closed under us */
        while (!gone && uv_now(&f.loop) < next) {
            pump(&f);
            uv_sleep(1);
            uv_update_time(&f.loop);
            gone = open_connections(&f) == 1;
        }
    }
    CHECK(gone);
    CHECK(expect(&f, &trickle, "frame incomplete after"));
    /* No frame begun, no deadline: the idle client is still served. */
    CHECK(call(&f, &idle, "\"op\":\"ping\"", "\"pong\""));
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&half);
    client_close(&trickle);
    client_close(&idle);
    fixture_down(&f);
    return TEST_RESULT;
}

/* A client that stops reading is not only paused: once none of its replies
 * could be written for limits.write_timeout_ms it is dropped, and the
 * handles its unsent replies carried are closed inside it. */
int test_server_write_deadline(void)
{
    fixture f = {0};
    tclient a = TCLIENT_INIT, b = TCLIENT_INIT;
    char body[256];
    size_t i;
    int stalled = 0;

    CHECK(fixture_up(&f, "{\"limits\":{\"write_timeout_ms\":100}," BOX_RULE
                         "}") == 0);
    CHECK(connect_me(&f, &a) == 0 && connect_me(&f, &b) == 0);
    CHECK(hello(&f, &a) && hello(&f, &b));
    for (i = 0; i < 10; i++) {
        snprintf(body, sizeof(body),
                 "\"op\":\"create\",\"name\":\"box/%090u\","
                 "\"size\":1,\"lifetime\":\"persistent\"",
                 (unsigned)i);
        CHECK(call(&f, &a, body, "\"handle\":"));
    }
    /* Requests until the server stops reading; never a reply read. */
    while (!stalled) {
        char req[64];
        uint8_t frame[80];
        int n = snprintf(req, sizeof(req), "{\"id\":%u,\"op\":\"list\"}",
                         (unsigned)++a.next_id);
        ssize_t w;
        shmb_frame_put_header(frame, (uint32_t)n);
        memcpy(frame + SHMB_FRAME_HEADER, req, (size_t)n);
        w = write(a.fd, frame, SHMB_FRAME_HEADER + (size_t)n);
        if (w < 0 && errno == EAGAIN) {
            for (i = 0; i < 50; i++)
                pump(&f);
            w = write(a.fd, frame, SHMB_FRAME_HEADER + (size_t)n);
            stalled = w < 0 && errno == EAGAIN;
        }
        CHECK(w < 0 || w == (ssize_t)(SHMB_FRAME_HEADER + (size_t)n));
    }
    WAIT_UNTIL(pump(&f) && open_connections(&f) == 1, WAIT_MS);
    CHECK(strstr(f.logged, "event=write_timeout") != NULL);
    CHECK(call(&f, &b, "\"op\":\"ping\"", "\"pong\""));
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&a);
    client_close(&b);
    fixture_down(&f);
    return TEST_RESULT;
}

/* ---- fairness ------------------------------------------------------------ */

/* Takes one reply frame already in the socket, without running the loop:
 * 1 = one taken, 0 = none complete yet. */
static int take_reply(tclient *c)
{
    ssize_t n;
    for (;;) {
        if (c->have >= SHMB_FRAME_HEADER) {
            uint32_t len = shmb_frame_get_header(c->buf);
            if (c->have >= SHMB_FRAME_HEADER + len) {
                c->have -= SHMB_FRAME_HEADER + len;
                memmove(c->buf, c->buf + SHMB_FRAME_HEADER + len, c->have);
                return 1;
            }
        }
        n = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);
        if (n <= 0)
            return 0;
        c->have += (size_t)n;
    }
}

/* One client writes hundreds of `list` requests at once; another's ping is
 * still answered within a few loop iterations, while most of the flood is
 * not answered yet: the server answers a bounded batch per connection per
 * iteration instead of the whole write. Counted in loop iterations and
 * frames, never in time. */
int test_server_list_flood_does_not_stall_others(void)
{
    enum { FLOOD = 400 };
    fixture f = {0};
    tclient a = TCLIENT_INIT, b = TCLIENT_INIT;
    static uint8_t flood[FLOOD * 40];
    char body[128];
    size_t off = 0, i, answered = 0, iterations = 0;
    server_stats st;
    int pong = 0;

    CHECK(fixture_up(&f, "{" BOX_RULE "}") == 0);
    CHECK(connect_me(&f, &a) == 0 && connect_me(&f, &b) == 0);
    CHECK(hello(&f, &a) && hello(&f, &b));
    for (i = 0; i < 8; i++) {
        snprintf(body, sizeof(body),
                 "\"op\":\"create\",\"name\":\"box/%zu\",\"size\":1,"
                 "\"lifetime\":\"persistent\"",
                 i);
        CHECK(call(&f, &a, body, "\"handle\":"));
    }
    for (i = 0; i < FLOOD; i++) {
        int n = snprintf(body, sizeof(body), "{\"id\":%zu,\"op\":\"list\"}",
                         1000 + i);
        shmb_frame_put_header(flood + off, (uint32_t)n);
        memcpy(flood + off + SHMB_FRAME_HEADER, body, (size_t)n);
        off += SHMB_FRAME_HEADER + (size_t)n;
    }
    CHECK(write(a.fd, flood, off) == (ssize_t)off);
    /* The server reads the whole flood in this iteration. */
    uv_run(&f.loop, UV_RUN_NOWAIT);
    CHECK(send_json(&f, &b, "{\"id\":7,\"op\":\"ping\"}") == 0);
    while (!pong && iterations < 100) {
        uv_run(&f.loop, UV_RUN_NOWAIT);
        iterations++;
        while (take_reply(&a))
            answered++;
        pong = take_reply(&b);
    }
    CHECK(pong);
    if (iterations > 3 || answered > FLOOD / 4)
        ADD_FAILURE("ping answered after %zu iterations and %zu of %d lists",
                    iterations, answered, (int)FLOOD);
    /* The flood is answered in full, in order, in batches. */
    while (answered < FLOOD && iterations < 10000) {
        uv_run(&f.loop, UV_RUN_NOWAIT);
        iterations++;
        while (take_reply(&a))
            answered++;
    }
    CHECK_INT(answered, FLOOD);
    /* Flooded again, never read: at most SERVER_MAX_INFLIGHT replies wait
     * unwritten, and the server stops reading the rest. */
    CHECK(write(a.fd, flood, off) == (ssize_t)off);
    for (i = 0; i < 200; i++)
        uv_run(&f.loop, UV_RUN_NOWAIT);
    server_get_stats(f.srv, &st);
    CHECK(st.writes_max <= SERVER_MAX_INFLIGHT);
    CHECK_INT(st.paused, 1);
    for (answered = 0; answered < FLOOD && iterations < 20000; iterations++) {
        uv_run(&f.loop, UV_RUN_NOWAIT);
        while (take_reply(&a))
            answered++;
    }
    CHECK_INT(answered, FLOOD);
    CHECK(call(&f, &a, "\"op\":\"ping\"", "\"pong\""));
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&a);
    client_close(&b);
    fixture_down(&f);
    return TEST_RESULT;
}

static int reconfigure(fixture *f, const char *json)
{
    shmb_config cfg;
    char why[SHMB_CONFIG_ERR_MAX];
    int rc;
    if (shmb_config_parse(json, strlen(json), "t", &shmb_conventions_windows,
                          &cfg, why, sizeof(why)) != SHMB_OK)
        return -1;
    rc = broker_reconfigure(f->b, &cfg);
    shmb_config_free(&cfg);
    return rc;
}

/* list remembers the policy's verdicts per connection (so that listing
 * again is cheap), but a reload changes what everyone sees at once, and
 * regions that come and go are judged by their own names. */
int test_server_list_visibility_follows_reload(void)
{
    fixture f = {0};
    tclient a = TCLIENT_INIT, b = TCLIENT_INIT;
    fake_peer_spec other = {OTHER, NULL, 0, 0, SHMB_OK, NULL};
    const char *shared = "{\"rules\":[{\"name\":\"mine\",\"match\":{\"user\":"
                         "\"" ME "\"},\"regions\":[\"box/**\"],\"create\":true,"
                         "\"open\":\"rw\",\"delete\":true},"
                         "{\"name\":\"peek\",\"regions\":[\"box/pub/**\"],"
                         "\"open\":\"ro\"}]}";
    char body[128];
    int i;

    CHECK(fixture_up(&f, "{" BOX_RULE "}") == 0);
    CHECK(connect_me(&f, &a) == 0 && connect_spec(&f, &b, &other) == 0);
    CHECK(hello(&f, &a) && hello(&f, &b));
    CHECK(call(&f, &a,
               "\"op\":\"create\",\"name\":\"box/pub/x\",\"size\":1,"
               "\"lifetime\":\"persistent\"",
               "\"handle\":"));
    CHECK(call(&f, &b, "\"op\":\"list\"", "{\"regions\":[],"));
    CHECK(reconfigure(&f, shared) == SHMB_OK);
    CHECK(call(&f, &b, "\"op\":\"list\"", "\"name\":\"box/pub/x\""));
    CHECK(call(&f, &b, "\"op\":\"stat\",\"name\":\"box/pub/x\"",
               "\"holders\":1"));
    /* Many names come and go (the cache starts over past its bound); each
     * is judged by its own name. */
    for (i = 0; i < 200; i++) {
        snprintf(body, sizeof(body),
                 "\"op\":\"create\",\"name\":\"box/%s/%d\",\"size\":1,"
                 "\"lifetime\":\"persistent\"",
                 i % 2 ? "pub" : "priv", i);
        CHECK(call(&f, &a, body, "\"handle\":"));
        CHECK(call(&f, &b, "\"op\":\"list\"", "\"truncated\":false"));
        snprintf(body, sizeof(body), "\"op\":\"delete\",\"name\":\"box/%s/%d\"",
                 i % 2 ? "pub" : "priv", i);
        CHECK(call(&f, &a, body, "\"holders\":1"));
    }
    CHECK(call(&f, &a,
               "\"op\":\"create\",\"name\":\"box/priv/y\",\"size\":1,"
               "\"lifetime\":\"persistent\"",
               "\"handle\":"));
    CHECK(call(&f, &b, "\"op\":\"list\"",
               "{\"regions\":[{\"name\":\"box/pub/x\",\"size\":1,"
               "\"lifetime\":\"persistent\",\"holders\":1,\"held\":false}],"
               "\"truncated\":false}}"));
    CHECK(reconfigure(&f, "{" BOX_RULE "}") == SHMB_OK);
    CHECK(call(&f, &b, "\"op\":\"list\"", "{\"regions\":[],"));
    CHECK(call(&f, &b, "\"op\":\"stat\",\"name\":\"box/pub/x\"",
               "\"access_denied\""));
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&a);
    client_close(&b);
    fixture_down(&f);
    return TEST_RESULT;
}

/* ---- stats: the admin view, and the leak check tests build on ------------ */

/* What a leak check compares: counts that must come back once clients are
 * gone (frames answered only grows, so it is not one of them). */
typedef struct stats_counts {
    double connections, regions, commit, draining, handles, principals, users,
        server_connections;
} stats_counts;

static double num_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b != NULL)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Asks `c` for stats; 0 with the counts, -1 if the reply is not a result. */
static int stats_of(fixture *f, tclient *c, stats_counts *sc, char *raw,
                    size_t cap)
{
    cJSON *root, *res;
    if (request(f, c, "\"op\":\"stats\"") != 0 ||
        recv_reply(f, c, raw, cap) != 1)
        return -1;
    root = cJSON_Parse(raw);
    res = cJSON_GetObjectItemCaseSensitive(root, "result");
    if (!cJSON_IsObject(res)) {
        cJSON_Delete(root);
        return -1;
    }
    sc->connections = num_at(res, "connections", "total");
    sc->regions = num_at(res, "regions", "total");
    sc->commit = num_at(res, "commit", "total");
    sc->draining = num_at(res, "commit", "draining");
    sc->handles = num_at(res, "grantee_handles", NULL);
    sc->principals =
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "principals"));
    sc->users =
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "users"));
    sc->server_connections = num_at(res, "server", "connections");
    cJSON_Delete(root);
    return 0;
}

static int counts_equal(const stats_counts *a, const stats_counts *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

#define STATS_CONFIG                                                           \
    "{\"limits\":{\"clients_per_principal\":5,\"regions_per_user\":9},"        \
    "\"rules\":[{\"name\":\"admin\",\"match\":{\"user\":\"" ME "\"},"          \
    "\"stats\":true},"                                                         \
    "{\"name\":\"box\",\"regions\":[\"box/**\"],\"create\":true,"              \
    "\"open\":\"rw\"}]}"

/* Only whom the policy lets read stats gets them; everyone else gets
 * access_denied and not one number. Every field is there, with the usage
 * of each principal and user against its limits. */
int test_server_stats_reply(void)
{
    fixture f = {0};
    tclient a = TCLIENT_INIT, b = TCLIENT_INIT;
    fake_peer_spec other = {OTHER, NULL, 0, 0, SHMB_OK, NULL};
    fake_peer_spec other_low = {OTHER, NULL, SHMB_IL_LOW, 77, SHMB_OK, NULL};
    tclient l = TCLIENT_INIT;
    char raw[65536];
    cJSON *root = NULL, *res, *p, *u;
    int i, seen_low = 0;

    CHECK(fixture_up(&f, STATS_CONFIG) == 0);
    CHECK(connect_me(&f, &a) == 0 && connect_spec(&f, &b, &other) == 0 &&
          connect_spec(&f, &l, &other_low) == 0);
    CHECK(hello(&f, &a) && hello(&f, &b) && hello(&f, &l));
    CHECK(call(&f, &b,
               "\"op\":\"create\",\"name\":\"box/a\",\"size\":70000,"
               "\"lifetime\":\"persistent\"",
               "\"handle\":"));
    CHECK(call(&f, &b, "\"op\":\"create\",\"name\":\"box/b\",\"size\":1",
               "\"handle\":"));
    CHECK(call(&f, &l, "\"op\":\"open\",\"name\":\"box/b\",\"access\":\"ro\"",
               "\"handle\":"));
    /* Refused: the code and the reason, nothing else. */
    CHECK(request(&f, &b, "\"op\":\"stats\"") == 0);
    CHECK(recv_reply(&f, &b, raw, sizeof(raw)) == 1);
    if (strncmp(raw, "{\"id\":4,\"error\":{\"code\":\"access_denied\",", 40) !=
        0)
        FAIL("stats by another user: %s", raw);
    CHECK(strstr(raw, "result") == NULL && strstr(raw, ME) == NULL);
    CHECK(strstr(f.logged, "op=stats code=access_denied") != NULL);
    /* No field may be sent with it. */
    CHECK(call(&f, &a, "\"op\":\"stats\",\"name\":\"x\"",
               "\"field 'name' is not valid for op 'stats'\""));

    CHECK(request(&f, &a, "\"op\":\"stats\"") == 0);
    CHECK(recv_reply(&f, &a, raw, sizeof(raw)) == 1);
    root = cJSON_Parse(raw);
    res = cJSON_GetObjectItemCaseSensitive(root, "result");
    CHECK(cJSON_IsObject(res));
    /* The key order is the document's (docs/protocol.md, 5.9). */
    CHECK(strstr(raw, "{\"connections\":{\"total\":3,\"limit\":256},"
                      "\"regions\":{\"total\":2,\"client\":1,"
                      "\"persistent\":1,\"config\":0,\"draining\":0,"
                      "\"limit\":1024},"
                      "\"commit\":{\"total\":196608,\"draining\":0,"
                      "\"limit\":4294967296},\"grantee_handles\":3,"
                      "\"server\":{\"connections\":3,\"paused\":0,"
                      "\"yielded\":0,\"writes\":0,\"frames\":") != NULL);
    CHECK(strstr(raw, "\"truncated\":false}}") != NULL);
    p = cJSON_GetObjectItemCaseSensitive(res, "principals");
    u = cJSON_GetObjectItemCaseSensitive(res, "users");
    CHECK_INT(cJSON_GetArraySize(p), 3);
    CHECK_INT(cJSON_GetArraySize(u), 2);
    for (i = 0; i < cJSON_GetArraySize(p); i++) {
        cJSON *e = cJSON_GetArrayItem(p, i);
        const char *user =
            cJSON_GetObjectItemCaseSensitive(e, "user")->valuestring;
        const char *band =
            cJSON_GetObjectItemCaseSensitive(e, "band")->valuestring;
        CHECK(
            cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e, "appcontainer")));
        CHECK_INT(num_at(e, "clients", NULL), 1);
        CHECK_INT(num_at(e, "clients_limit", NULL), 5);
        /* Sub-limits default to the user's. */
        CHECK_INT(num_at(e, "regions_limit", NULL), 9);
        CHECK_INT(num_at(e, "commit_limit", NULL), 2147483648.0);
        if (strcmp(user, OTHER) == 0 && strcmp(band, "medium+") == 0) {
            CHECK_INT(num_at(e, "regions", NULL), 2);
            CHECK_INT(num_at(e, "commit", NULL), 196608);
        } else {
            seen_low += strcmp(band, "low") == 0;
            CHECK_INT(num_at(e, "regions", NULL), 0);
            CHECK_INT(num_at(e, "commit", NULL), 0);
        }
    }
    CHECK_INT(seen_low, 1);
    for (i = 0; i < cJSON_GetArraySize(u); i++) {
        cJSON *e = cJSON_GetArrayItem(u, i);
        int is_other =
            strcmp(cJSON_GetObjectItemCaseSensitive(e, "user")->valuestring,
                   OTHER) == 0;
        CHECK(cJSON_GetObjectItemCaseSensitive(e, "band") == NULL);
        CHECK_INT(num_at(e, "clients", NULL), is_other ? 2 : 1);
        CHECK_INT(num_at(e, "clients_limit", NULL), 64);
        CHECK_INT(num_at(e, "regions", NULL), is_other ? 2 : 0);
        CHECK_INT(num_at(e, "regions_limit", NULL), 9);
        CHECK_INT(num_at(e, "commit_draining", NULL), 0);
    }
    CHECK(fixture_down(&f) == 0);
done:
    cJSON_Delete(root);
    client_close(&a);
    client_close(&b);
    client_close(&l);
    fixture_down(&f);
    return TEST_RESULT;
}

/* The leak check other tests use: clients connect, create, open and die
 * (some with requests in flight); stats comes back to what it said
 * before - connections, regions, commit, grantee handles, principals. */
int test_server_stats_leak_check(void)
{
    fixture f = {0};
    tclient admin = TCLIENT_INIT, c[6];
    fake_peer_spec other = {OTHER, NULL, 0, 0, SHMB_OK, NULL};
    fake_peer_spec low = {OTHER, NULL, SHMB_IL_LOW, 99, SHMB_OK, NULL};
    stats_counts base, during, after;
    char raw[65536], body[160];
    int i;

    for (i = 0; i < 6; i++)
        c[i].fd = -1;
    CHECK(fixture_up(&f, STATS_CONFIG) == 0);
    CHECK(connect_me(&f, &admin) == 0 && hello(&f, &admin));
    CHECK(stats_of(&f, &admin, &base, raw, sizeof(raw)) == 0);
    CHECK_INT(base.connections, 1);
    CHECK_INT(base.regions, 0);
    CHECK_INT(base.handles, 0);
    for (i = 0; i < 6; i++) {
        CHECK(connect_spec(&f, &c[i], i % 2 ? &low : &other) == 0);
        CHECK(hello(&f, &c[i]));
        snprintf(body, sizeof(body),
                 "\"op\":\"create\",\"name\":\"box/leak%d\",\"size\":%d", i,
                 4096 * (i + 1));
        CHECK(call(&f, &c[i], body, "\"handle\":"));
        if (i > 0) {
            snprintf(body, sizeof(body),
                     "\"op\":\"open\",\"name\":\"box/leak%d\","
                     "\"access\":\"ro\"",
                     i - 1);
            CHECK(call(&f, &c[i], body, "\"handle\":"));
        }
    }
    /* One more in flight as it dies. */
    CHECK(request(&f, &c[5],
                  "\"op\":\"open\",\"name\":\"box/leak0\","
                  "\"access\":\"rw\"") == 0);
    CHECK(stats_of(&f, &admin, &during, raw, sizeof(raw)) == 0);
    CHECK_INT(during.connections, 7);
    CHECK_INT(during.regions, 6);
    CHECK_INT(during.commit, 6 * 65536);
    CHECK(during.handles >= 11);
    CHECK_INT(during.principals, 3);
    /* The sections stay in use after their clients go: their commit
     * drains, and stats says so. */
    g_fake.in_use = 1;
    for (i = 0; i < 6; i++)
        client_close(&c[i]);
    WAIT_UNTIL(pump(&f) &&
                   stats_of(&f, &admin, &after, raw, sizeof(raw)) == 0 &&
                   after.connections == 1 && after.regions == 0,
               WAIT_MS);
    CHECK_INT(after.draining, 6 * 65536);
    CHECK_INT(after.commit, 6 * 65536);
    CHECK(strstr(raw, "\"draining\":6,") != NULL);
    CHECK(strstr(raw, "\"commit_draining\":196608,") != NULL);
    g_fake.in_use = 0;
    WAIT_UNTIL(pump(&f) && (broker_sweep(f.b), 1) &&
                   stats_of(&f, &admin, &after, raw, sizeof(raw)) == 0 &&
                   counts_equal(&after, &base),
               WAIT_MS);
    CHECK_INT(g_fake.live_sections, 0);
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&admin);
    for (i = 0; i < 6; i++)
        client_close(&c[i]);
    fixture_down(&f);
    return TEST_RESULT;
}

/* Thousands of draining regions never stall the loop: a sweep pass goes in
 * steps of SWEEPER_BUDGET, one per loop turn, and a request that arrives
 * during a pass is answered before the pass ends. */
int test_server_sweep_in_steps_answers_between(void)
{
    fixture f;
    tclient c = TCLIENT_INIT;
    sweeper w;
    char body[128], reply[512];
    uint64_t at_reply;
    int i, n = 10 * SWEEPER_BUDGET, swept = 0, rc;

    memset(&w, 0, sizeof(w));
    CHECK(fixture_up(&f, "{\"limits\":{\"commit_per_client\":1073741824,"
                         "\"commit_per_user\":1073741824},"
                         "\"rules\":[{\"name\":\"own\",\"regions\":"
                         "[\"users/${principal}/**\"],\"create\":true,"
                         "\"open\":\"rw\"}]}") == 0);
    CHECK(connect_me(&f, &c) == 0 && hello(&f, &c));
    g_fake.in_use = 1; /* every released region may still be mapped */
    for (i = 0; i < n; i++) {
        snprintf(body, sizeof(body),
                 "\"op\":\"create\",\"name\":\"users/" ME "/w%d\","
                 "\"size\":1",
                 i);
        CHECK(call(&f, &c, body, "\"result\""));
        snprintf(body, sizeof(body),
                 "\"op\":\"release\",\"name\":\"users/" ME "/w%d\"", i);
        CHECK(call(&f, &c, body, "\"result\""));
    }
    sweeper_start(&w, &f.loop, f.b, 1);
    swept = 1;
    /* The first step of a pass, then a ping: answered while the pass
     * (ten steps) is still under way. */
    WAIT_UNTIL(pump(&f) && w.steps >= 1, WAIT_MS);
    CHECK(w.passes == 0);
    CHECK(request(&f, &c, "\"op\":\"ping\"") == 0);
    rc = recv_reply(&f, &c, reply, sizeof(reply));
    at_reply = w.steps;
    CHECK_INT(rc, 1);
    CHECK(strstr(reply, "\"result\"") != NULL);
    CHECK(at_reply < 10);
    WAIT_UNTIL(pump(&f) && w.passes >= 1, WAIT_MS);
    CHECK(w.steps >= 10);
done:
    if (swept)
        sweeper_close(&w);
    client_close(&c);
    g_fake.in_use = 0;
    fixture_down(&f);
    return TEST_RESULT;
}
