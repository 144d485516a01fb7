/* SPDX-License-Identifier: MPL-2.0 */
/* test_frame.c - the length-prefixed frame codec, including hostile input;
 * and the generated name tables (errors, ops, lifetimes, log events). */
#include <stdlib.h>

#include "harness.h"
#include "shmb_frame.h"
#include "shmb_log.h"
#include "shmb_proto.h"
#include "shmb_types.h"

int test_errors_names_roundtrip(void)
{
    int e;
    for (e = 0; e >= SHMB_ERR_MIN; e--) {
        CHECK_INT(shmb_err_from_name(shmb_err_name(e)), e);
        CHECK(strcmp(shmb_strerror(e), "unknown error") != 0);
    }
    CHECK_STR(shmb_err_name(SHMB_E_NOT_FOUND), "not_found");
    CHECK_STR(shmb_err_name(1), "unknown");
    CHECK_STR(shmb_err_name(SHMB_ERR_MIN - 1), "unknown");
    CHECK_INT(shmb_err_from_name("no_such_code"), SHMB_E_PROTOCOL);
done:
    return TEST_RESULT;
}

/* The values and wire names are the protocol's contract: pinned here, so
 * that editing a table row shows up as a failing test. */
int test_names_tables_pinned(void)
{
    static const char *const wire[] = {
        "ok",
        "bad_frame",
        "bad_json",
        "bad_request",
        "unsupported_version",
        "handshake_required",
        "unknown_op",
        "invalid_name",
        "invalid_size",
        "not_found",
        "exists",
        "access_denied",
        "quota_exceeded",
        "limit_reached",
        "not_held",
        "system_error",
        "internal",
        "connect_failed",
        "io_error",
        "protocol_error",
        "server_untrusted",
        "invalid_argument",
        "out_of_memory",
        "peer_corrupt",
        "timeout",
        "busy",
    };
    static const char *const ops[] = {"hello", "ping",    "create",
                                      "open",  "release", "delete",
                                      "list",  "stat",    "stats"};
    int e;
    size_t i;

    CHECK_INT(SHMB_ERR_MIN, -25);
    CHECK_INT(SHMB_E_NOT_FOUND, -9);
    CHECK_INT(SHMB_E_SYSTEM, -15);
    for (e = 0; e >= SHMB_ERR_MIN; e--)
        CHECK_STR(shmb_err_name(e), wire[-e]);
    CHECK_STR(shmb_strerror(SHMB_E_BAD_JSON),
              "frame payload is not a single JSON object");
    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        CHECK_STR(shmb_op_name((shmb_op)i), ops[i]);
    CHECK_INT(SHMB_OP_COUNT_, 9);
    CHECK_STR(shmb_op_name(SHMB_OP_COUNT_), "unknown");

    CHECK_INT(SHMB_ACCESS_RO, 1);
    CHECK_INT(SHMB_ACCESS_RW, 2);
    CHECK_STR(shmb_access_name(SHMB_ACCESS_NONE), "none");
    CHECK_STR(shmb_access_name((shmb_access)7), "none");
    CHECK_INT(shmb_access_from_name("rw"), SHMB_ACCESS_RW);
    CHECK_INT(shmb_access_from_name("none"), -1); /* never asked for */
    CHECK_INT(shmb_access_from_name(NULL), -1);

    CHECK_INT(SHMB_LIFETIME_PERSISTENT, 1);
    CHECK_INT(SHMB_LIFETIME_CONFIG, 2);
    CHECK_STR(shmb_lifetime_name(SHMB_LIFETIME_CONFIG), "config");
    CHECK_STR(shmb_lifetime_name((shmb_lifetime)9), "unknown");
    CHECK_INT(shmb_lifetime_from_name("persistent"), SHMB_LIFETIME_PERSISTENT);
    CHECK_INT(shmb_lifetime_from_name("config"), -1);
done:
    return TEST_RESULT;
}

static char last_line[2048];

static void capture(void *ctx, shmb_log_level level, const char *line)
{
    (void)ctx;
    (void)level;
    snprintf(last_line, sizeof(last_line), "%s", line);
}

int test_log_event_lines(void)
{
    shmb_logger lg = {capture, NULL, SHMB_LOG_INFO};
    char big[1500];

    shmb_log_event(&lg, SHMB_LOG_INFO, SHMB_EV_GRANT, "region=%s pid=%u", "a",
                   12u);
    CHECK_STR(last_line, "event=grant region=a pid=12");
    shmb_log_event(&lg, SHMB_LOG_WARN, SHMB_EV_STOPPING, NULL);
    CHECK_STR(last_line, "event=stopping");
    shmb_log_event(&lg, SHMB_LOG_INFO, SHMB_EV_PIPE_INSTANCE_FAILED, "%s", "");
    CHECK_STR(last_line, "event=pipe_instance_failed ");
    /* Above the logger's level: dropped. */
    shmb_log_event(&lg, SHMB_LOG_DEBUG, SHMB_EV_HELLO, NULL);
    CHECK_STR(last_line, "event=pipe_instance_failed ");
    /* Long lines are cut, never overrun. */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    shmb_log_event(&lg, SHMB_LOG_INFO, SHMB_EV_REFUSED, "reason=%s", big);
    CHECK_INT(strlen(last_line), 1023);
    CHECK(strncmp(last_line, "event=refused reason=xxx", 24) == 0);
    CHECK_STR(shmb_log_event_name(SHMB_EV_UNDELIVERED), "undelivered");
    CHECK_STR(shmb_log_event_name(SHMB_EV_COUNT_), "unknown");
    shmb_log_event(NULL, SHMB_LOG_ERROR, SHMB_EV_STARTED, NULL); /* no-op */
done:
    return TEST_RESULT;
}

int test_frame_header_little_endian(void)
{
    uint8_t h[4];
    shmb_frame_put_header(h, 0x01020304u);
    CHECK_INT(h[0], 4);
    CHECK_INT(h[1], 3);
    CHECK_INT(h[2], 2);
    CHECK_INT(h[3], 1);
    CHECK_INT(shmb_frame_get_header(h), 0x01020304u);
done:
    return TEST_RESULT;
}

int test_frame_roundtrip(void)
{
    shmb_frame_reader r;
    size_t n, len;
    const uint8_t *p;
    uint8_t *f = shmb_frame_encode("{\"a\":1}", 7, 100, &n);

    shmb_frame_reader_init(&r, 100);
    CHECK(f != NULL);
    CHECK_INT(n, 11);
    CHECK_INT(shmb_frame_reader_feed(&r, f, n), 0);
    CHECK_INT(shmb_frame_reader_next(&r, &p, &len), 1);
    CHECK_INT(len, 7);
    CHECK(memcmp(p, "{\"a\":1}", 7) == 0);
    CHECK_INT(shmb_frame_reader_next(&r, &p, &len), 0);
    CHECK_INT(shmb_frame_reader_pending(&r), 0);
done:
    free(f);
    shmb_frame_reader_free(&r);
    return TEST_RESULT;
}

int test_frame_byte_by_byte(void)
{
    shmb_frame_reader r;
    size_t n, len, i;
    const uint8_t *p;
    uint8_t *f = shmb_frame_encode("hello", 5, 100, &n);

    shmb_frame_reader_init(&r, 100);
    CHECK(f != NULL);
    for (i = 0; i + 1 < n; i++) {
        CHECK_INT(shmb_frame_reader_feed(&r, f + i, 1), 0);
        CHECK_INT(shmb_frame_reader_next(&r, &p, &len), 0);
    }
    CHECK_INT(shmb_frame_reader_feed(&r, f + n - 1, 1), 0);
    CHECK_INT(shmb_frame_reader_next(&r, &p, &len), 1);
    CHECK(len == 5 && memcmp(p, "hello", 5) == 0);
done:
    free(f);
    shmb_frame_reader_free(&r);
    return TEST_RESULT;
}

int test_frame_truncated_header(void)
{
    shmb_frame_reader r;
    const uint8_t *p;
    size_t len;
    uint8_t h[3] = {5, 0, 0};

    shmb_frame_reader_init(&r, 100);
    CHECK_INT(shmb_frame_reader_feed(&r, h, 3), 0);
    CHECK_INT(shmb_frame_reader_next(&r, &p, &len), 0);
    CHECK_INT(shmb_frame_reader_pending(&r), 3);
done:
    shmb_frame_reader_free(&r);
    return TEST_RESULT;
}

int test_frame_truncated_payload(void)
{
    shmb_frame_reader r;
    const uint8_t *p;
    size_t len;
    uint8_t f[4 + 3] = {10, 0, 0, 0, 'a', 'b', 'c'};

    shmb_frame_reader_init(&r, 100);
    CHECK_INT(shmb_frame_reader_feed(&r, f, sizeof(f)), 0);
    CHECK_INT(shmb_frame_reader_next(&r, &p, &len), 0);
    CHECK_INT(shmb_frame_reader_pending(&r), 7);
done:
    shmb_frame_reader_free(&r);
    return TEST_RESULT;
}

int test_frame_many_in_one_feed(void)
{
    shmb_frame_reader r;
    uint8_t buf[64];
    size_t off = 0, len;
    const uint8_t *p;
    int i;

    for (i = 0; i < 5; i++) {
        shmb_frame_put_header(buf + off, 1);
        buf[off + 4] = (uint8_t)('0' + i);
        off += 5;
    }
    shmb_frame_reader_init(&r, 100);
    CHECK_INT(shmb_frame_reader_feed(&r, buf, off), 0);
    for (i = 0; i < 5; i++) {
        CHECK_INT(shmb_frame_reader_next(&r, &p, &len), 1);
        CHECK_INT(len, 1);
        CHECK_INT(p[0], '0' + i);
    }
    CHECK_INT(shmb_frame_reader_next(&r, &p, &len), 0);
done:
    shmb_frame_reader_free(&r);
    return TEST_RESULT;
}

int test_frame_zero_length(void)
{
    shmb_frame_reader r;
    const uint8_t *p;
    size_t len;
    uint8_t f[4] = {0, 0, 0, 0};

    shmb_frame_reader_init(&r, 100);
    CHECK_INT(shmb_frame_reader_feed(&r, f, 4), 0);
    CHECK_INT(shmb_frame_reader_next(&r, &p, &len), SHMB_E_BAD_FRAME);
done:
    shmb_frame_reader_free(&r);
    return TEST_RESULT;
}

int test_frame_oversized(void)
{
    shmb_frame_reader r;
    const uint8_t *p;
    size_t len;
    uint8_t f[4];

    /* Detected from the header alone: nothing of the payload is needed. */
    shmb_frame_reader_init(&r, 1000);
    shmb_frame_put_header(f, 1001);
    CHECK_INT(shmb_frame_reader_feed(&r, f, 4), 0);
    CHECK_INT(shmb_frame_reader_next(&r, &p, &len), SHMB_E_BAD_FRAME);
    /* Sticky: the stream stays failed. */
    CHECK_INT(shmb_frame_reader_next(&r, &p, &len), SHMB_E_BAD_FRAME);
    CHECK_INT(shmb_frame_reader_feed(&r, f, 4), SHMB_E_BAD_FRAME);
    shmb_frame_reader_free(&r);
    /* 0xffffffff must not overflow anything either. */
    shmb_frame_reader_init(&r, 1000);
    shmb_frame_put_header(f, 0xffffffffu);
    CHECK_INT(shmb_frame_reader_feed(&r, f, 4), 0);
    CHECK_INT(shmb_frame_reader_next(&r, &p, &len), SHMB_E_BAD_FRAME);
done:
    shmb_frame_reader_free(&r);
    return TEST_RESULT;
}

int test_frame_limit_exact(void)
{
    shmb_frame_reader r;
    const uint8_t *p;
    size_t len, n;
    char payload[256];
    uint8_t *f;

    memset(payload, 'x', sizeof(payload));
    f = shmb_frame_encode(payload, sizeof(payload), 256, &n);
    shmb_frame_reader_init(&r, 256);
    CHECK(f != NULL);
    CHECK_INT(shmb_frame_reader_feed(&r, f, n), 0);
    CHECK_INT(shmb_frame_reader_next(&r, &p, &len), 1);
    CHECK_INT(len, 256);
done:
    free(f);
    shmb_frame_reader_free(&r);
    return TEST_RESULT;
}

int test_frame_encode_limits(void)
{
    size_t n = 0;
    char big[101];
    uint8_t *empty = NULL, *over = NULL;
    memset(big, 'x', sizeof(big));
    empty = shmb_frame_encode("", 0, 100, &n);
    over = shmb_frame_encode(big, 101, 100, &n);
    CHECK(empty == NULL);
    CHECK(over == NULL);
done:
    free(empty);
    free(over);
    return TEST_RESULT;
}
