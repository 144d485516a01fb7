/* SPDX-License-Identifier: MPL-2.0 */
/* test_proto.c - strict request parsing and reply formats. */
#include <stdlib.h>

#include "harness.h"
#include "shmb_proto.h"
#include "shmb_registry.h"

static int parse(const char *json, shmb_request *req, char *msg)
{
    return shmb_request_parse((const uint8_t *)json, strlen(json), req, msg,
                              SHMB_MSG_MAX);
}

int test_proto_valid_requests(void)
{
    shmb_request q;
    char m[SHMB_MSG_MAX];

    CHECK_INT(parse("{\"id\":1,\"op\":\"hello\",\"versions\":[1],"
                    "\"client\":\"t\"}",
                    &q, m),
              SHMB_OK);
    CHECK_INT(q.op, SHMB_OP_HELLO);
    CHECK_INT(q.versions, 1u << 1);
    CHECK_STR(q.client, "t");
    CHECK_INT(parse("{\"id\":2,\"op\":\"ping\"}", &q, m), SHMB_OK);
    CHECK_INT(q.op, SHMB_OP_PING);
    CHECK_INT(q.id, 2);
    CHECK_INT(parse(" {\"op\":\"create\",\"id\":3,\"name\":\"a/b\","
                    "\"size\":4096,\"access\":\"ro\",\"lifetime\":"
                    "\"persistent\"}\n",
                    &q, m),
              SHMB_OK);
    CHECK_INT(q.op, SHMB_OP_CREATE);
    CHECK_STR(q.name, "a/b");
    CHECK_INT(q.size, 4096);
    CHECK_INT(q.access, SHMB_ACCESS_RO);
    CHECK_INT(q.lifetime, SHMB_LIFETIME_PERSISTENT);
    CHECK_INT(parse("{\"id\":4,\"op\":\"open\",\"name\":\"x\",\"access\":"
                    "\"rw\"}",
                    &q, m),
              SHMB_OK);
    CHECK_INT(q.access, SHMB_ACCESS_RW);
    CHECK_INT(parse("{\"id\":5,\"op\":\"release\",\"name\":\"x\"}", &q, m),
              SHMB_OK);
    CHECK_INT(parse("{\"id\":6,\"op\":\"delete\",\"name\":\"x\"}", &q, m),
              SHMB_OK);
    CHECK_INT(parse("{\"id\":7,\"op\":\"list\"}", &q, m), SHMB_OK);
    CHECK_INT(parse("{\"id\":8,\"op\":\"stat\",\"name\":\"x\"}", &q, m),
              SHMB_OK);
    CHECK_INT(q.op, SHMB_OP_STAT);
done:
    return TEST_RESULT;
}

int test_proto_defaults(void)
{
    shmb_request q;
    char m[SHMB_MSG_MAX];
    CHECK_INT(
        parse("{\"id\":1,\"op\":\"create\",\"name\":\"d\",\"size\":1}", &q, m),
        SHMB_OK);
    CHECK_INT(q.access, SHMB_ACCESS_RW);
    CHECK_INT(q.lifetime, SHMB_LIFETIME_CLIENT);
done:
    return TEST_RESULT;
}

int test_proto_bad_json(void)
{
    static const struct {
        const char *in;
        const char *msg;
    } cases[] = {
        {"not json", "invalid JSON at byte 0"},
        {"{\"id\":1,", "invalid JSON at byte 7"},
        {"[1,2]", "payload is not a JSON object"},
        {"\"str\"", "payload is not a JSON object"},
        {"{\"id\":1,\"op\":\"ping\"} {}",
         "trailing bytes after the JSON object"},
        {"{\"id\":1,\"op\":\"ping\"}x", "trailing bytes after the JSON object"},
    };
    shmb_request q;
    char m[SHMB_MSG_MAX];
    size_t i;
    const char nul[] = "{\"id\":1,\"op\":\"ping\"}\0";

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_INT(parse(cases[i].in, &q, m), SHMB_E_BAD_JSON);
        CHECK_STR(m, cases[i].msg);
    }
    CHECK_INT(shmb_request_parse((const uint8_t *)nul, sizeof(nul) - 1, &q, m,
                                 sizeof(m)),
              SHMB_E_BAD_JSON);
    CHECK_STR(m, "payload contains a NUL byte");
    /* An escaped NUL would cut strings short: "ping\u0000junk". */
    CHECK_INT(parse("{\"id\":1,\"op\":\"ping\\u0000junk\"}", &q, m),
              SHMB_E_BAD_JSON);
    CHECK_STR(m, "control character, \\u0000 or BOM at byte 18");
    CHECK_INT(parse("{\"id\":1,\"op\":\"open\",\"name\":\"a/b\\u0000../x\","
                    "\"access\":\"ro\"}",
                    &q, m),
              SHMB_E_BAD_JSON);
    /* Raw control bytes, even where cJSON would skip them, and a BOM. */
    CHECK_INT(parse("\x01{\"id\":1,\"op\":\"ping\"}", &q, m), SHMB_E_BAD_JSON);
    CHECK_INT(parse("{\"id\":1,\"op\":\"pi\x07ng\"}", &q, m), SHMB_E_BAD_JSON);
    CHECK_INT(parse("\xef\xbb\xbf{\"id\":1,\"op\":\"ping\"}", &q, m),
              SHMB_E_BAD_JSON);
    /* But an escaped backslash before "u0000" is just text, and white
     * space is fine. */
    CHECK_INT(parse("{\"id\":1,\"op\":\"hello\",\"versions\":[1],"
                    "\"client\":\"x\\\\u0000\"}\r\n",
                    &q, m),
              SHMB_OK);
    CHECK_STR(q.client, "x\\u0000");
done:
    return TEST_RESULT;
}

int test_proto_bad_fields(void)
{
    static const struct {
        const char *in;
        int code;
        const char *msg;
    } cases[] = {
        {"{\"op\":\"ping\"}", SHMB_E_BAD_REQUEST, "missing field 'id'"},
        {"{\"id\":1}", SHMB_E_BAD_REQUEST, "missing field 'op'"},
        {"{\"id\":1,\"op\":5}", SHMB_E_BAD_REQUEST,
         "field 'op' must be a string"},
        {"{\"id\":1,\"op\":\"fly\"}", SHMB_E_UNKNOWN_OP, "unknown op 'fly'"},
        {"{\"id\":1,\"op\":\"x\\n\\u0001'y\"}", SHMB_E_UNKNOWN_OP,
         "unknown op 'x???y'"},
        {"{\"id\":1,\"op\":\"ping\",\"extra\":1}", SHMB_E_BAD_REQUEST,
         "unknown field 'extra'"},
        {"{\"id\":1,\"op\":\"ping\",\"name\":\"a\"}", SHMB_E_BAD_REQUEST,
         "field 'name' is not valid for op 'ping'"},
        {"{\"id\":1,\"op\":\"open\",\"name\":\"a\"}", SHMB_E_BAD_REQUEST,
         "missing field 'access'"},
        {"{\"id\":1,\"op\":\"create\",\"size\":5}", SHMB_E_BAD_REQUEST,
         "missing field 'name'"},
        {"{\"id\":1,\"op\":\"open\",\"name\":7,\"access\":\"ro\"}",
         SHMB_E_BAD_REQUEST, "field 'name' must be a string"},
        {"{\"id\":1,\"op\":\"open\",\"name\":\"a\",\"access\":\"wx\"}",
         SHMB_E_BAD_REQUEST, "field 'access' must be \"ro\" or \"rw\""},
        {"{\"id\":1,\"op\":\"create\",\"name\":\"a\",\"size\":1,"
         "\"lifetime\":\"config\"}",
         SHMB_E_BAD_REQUEST,
         "field 'lifetime' must be \"client\" or \"persistent\""},
        {"{\"id\":1,\"op\":\"ping\",\"id\":2}", SHMB_E_BAD_REQUEST,
         "duplicate field 'id'"},
        {"{\"id\":1,\"op\":\"hello\",\"versions\":1}", SHMB_E_BAD_REQUEST,
         "field 'versions' must be an array of integers"},
        {"{\"id\":1,\"op\":\"hello\",\"client\":[],"
         "\"versions\":[1]}",
         SHMB_E_BAD_REQUEST, "field 'client' must be a string"},
        {"{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,\"h\":1,"
         "\"i\":1,\"j\":1,\"k\":1,\"l\":1,\"m\":1,\"n\":1,\"o\":1,\"p\":1,"
         "\"q\":1}",
         SHMB_E_BAD_REQUEST, "more than 16 fields"},
    };
    shmb_request q;
    char m[SHMB_MSG_MAX];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = parse(cases[i].in, &q, m);
        if (rc != cases[i].code || strcmp(m, cases[i].msg) != 0)
            ADD_FAILURE("case %zu: %s -> %d '%s'", i, cases[i].in, rc, m);
    }
    return TEST_RESULT;
}

int test_proto_ids(void)
{
    shmb_request q;
    char m[SHMB_MSG_MAX];
    CHECK_INT(parse("{\"id\":4294967295,\"op\":\"ping\"}", &q, m), SHMB_OK);
    CHECK_INT(q.id, 4294967295u);
    CHECK_INT(parse("{\"id\":4294967296,\"op\":\"ping\"}", &q, m),
              SHMB_E_BAD_REQUEST);
    CHECK_INT(q.has_id, 0);
    CHECK_INT(parse("{\"id\":-1,\"op\":\"ping\"}", &q, m), SHMB_E_BAD_REQUEST);
    CHECK_INT(parse("{\"id\":1.5,\"op\":\"ping\"}", &q, m), SHMB_E_BAD_REQUEST);
    CHECK_INT(parse("{\"id\":\"1\",\"op\":\"ping\"}", &q, m),
              SHMB_E_BAD_REQUEST);
    CHECK_STR(m, "field 'id' must be an integer in 0..4294967295");
    /* The id is known even when a later field is bad: the reply carries it */
    CHECK_INT(parse("{\"id\":9,\"op\":\"nope\"}", &q, m), SHMB_E_UNKNOWN_OP);
    CHECK_INT(q.has_id, 1);
    CHECK_INT(q.id, 9);
done:
    return TEST_RESULT;
}

int test_proto_names(void)
{
    static const char *good[] = {"a", "A9", "video/frames.0", "x-y_z", "a/b/c"};
    static const struct {
        const char *name;
        const char *msg;
    } bad[] = {
        {"", "name is empty"},
        {"/a", "name must start with a letter or digit"},
        {".a", "name must start with a letter or digit"},
        {"a//b", "name has an empty path segment"},
        {"a/", "name has an empty path segment"},
        {"a/../b", "name contains '..'"},
        {"a b", "name has a character outside [A-Za-z0-9._-/] at byte 1"},
        {"a\\b", "name has a character outside [A-Za-z0-9._-/] at byte 1"},
        {"Global\\x", "name has a character outside [A-Za-z0-9._-/] at byte 6"},
        {"caf\xc3\xa9",
         "name has a character outside [A-Za-z0-9._-/] at byte 3"},
    };
    char m[SHMB_MSG_MAX], longname[SHMB_NAME_MAX + 2];
    char req[512];
    shmb_request q;
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK_INT(shmb_name_validate(good[i], m, sizeof(m)), SHMB_OK);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(shmb_name_validate(bad[i].name, m, sizeof(m)),
                  SHMB_E_INVALID_NAME);
        CHECK_STR(m, bad[i].msg);
    }
    memset(longname, 'n', sizeof(longname));
    longname[SHMB_NAME_MAX] = '\0';
    CHECK_INT(shmb_name_validate(longname, m, sizeof(m)), SHMB_OK);
    longname[SHMB_NAME_MAX] = 'n';
    longname[SHMB_NAME_MAX + 1] = '\0';
    snprintf(req, sizeof(req), "{\"id\":1,\"op\":\"stat\",\"name\":\"%s\"}",
             longname);
    CHECK_INT(parse(req, &q, m), SHMB_E_INVALID_NAME);
    CHECK_STR(m, "field 'name' is longer than 128 bytes");
done:
    return TEST_RESULT;
}

int test_proto_sizes(void)
{
    static const char *bad[] = {"0",      "-1",    "1.5",
                                "\"10\"", "1e300", "9007199254740992",
                                "true",   "null"};
    shmb_request q;
    char m[SHMB_MSG_MAX], req[128];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(req, sizeof(req),
                 "{\"id\":1,\"op\":\"create\",\"name\":\"a\",\"size\":%s}",
                 bad[i]);
        CHECK_INT(parse(req, &q, m), SHMB_E_INVALID_SIZE);
    }
    CHECK_INT(parse("{\"id\":1,\"op\":\"create\",\"name\":\"a\",\"size\":"
                    "9007199254740991}",
                    &q, m),
              SHMB_OK);
    CHECK_INT(q.size, 9007199254740991ull);
done:
    return TEST_RESULT;
}

int test_proto_doorbells(void)
{
    static const char *bad[] = {"9",    "-1",  "1.5",   "\"2\"", "true",
                                "null", "[1]", "1e300", "8.5",   "4294967296"};
    shmb_request q;
    char m[SHMB_MSG_MAX], req[128];
    size_t i;

    CHECK_INT(
        parse("{\"id\":1,\"op\":\"create\",\"name\":\"a\",\"size\":1}", &q, m),
        SHMB_OK);
    CHECK_INT(q.doorbells, 0);
    for (i = 0; i <= SHMB_DOORBELLS_MAX; i++) {
        snprintf(req, sizeof(req),
                 "{\"id\":1,\"op\":\"create\",\"name\":\"a\",\"size\":1,"
                 "\"doorbells\":%u}",
                 (unsigned)i);
        CHECK_INT(parse(req, &q, m), SHMB_OK);
        CHECK_INT(q.doorbells, i);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(req, sizeof(req),
                 "{\"id\":1,\"op\":\"create\",\"name\":\"a\",\"size\":1,"
                 "\"doorbells\":%s}",
                 bad[i]);
        CHECK_INT(parse(req, &q, m), SHMB_E_BAD_REQUEST);
        CHECK_STR(m, "field 'doorbells' must be an integer in 0..8");
    }
    /* Only create takes it: a grant carries what the region has. */
    CHECK_INT(parse("{\"id\":1,\"op\":\"open\",\"name\":\"a\",\"access\":"
                    "\"rw\",\"doorbells\":1}",
                    &q, m),
              SHMB_E_BAD_REQUEST);
    CHECK_STR(m, "field 'doorbells' is not valid for op 'open'");
done:
    return TEST_RESULT;
}

int test_proto_versions(void)
{
    shmb_request q;
    char m[SHMB_MSG_MAX];
    CHECK_INT(parse("{\"id\":1,\"op\":\"hello\",\"versions\":[1,2,40]}", &q, m),
              SHMB_OK);
    CHECK_INT(q.versions, (1u << 1) | (1u << 2));
    CHECK_INT(parse("{\"id\":1,\"op\":\"hello\",\"versions\":[]}", &q, m),
              SHMB_E_BAD_REQUEST);
    CHECK_INT(parse("{\"id\":1,\"op\":\"hello\",\"versions\":[0]}", &q, m),
              SHMB_E_BAD_REQUEST);
    CHECK_INT(parse("{\"id\":1,\"op\":\"hello\",\"versions\":[\"1\"]}", &q, m),
              SHMB_E_BAD_REQUEST);
    CHECK_INT(parse("{\"id\":1,\"op\":\"hello\"}", &q, m), SHMB_E_BAD_REQUEST);
    CHECK_STR(m, "missing field 'versions'");
done:
    return TEST_RESULT;
}

int test_proto_error_reply(void)
{
    char *s = shmb_reply_error(1, 7, SHMB_E_NOT_FOUND, "no region named 'x'");
    CHECK(s != NULL);
    CHECK_STR(s, "{\"id\":7,\"error\":{\"code\":\"not_found\",\"message\":"
                 "\"no region named 'x'\"}}");
    free(s);
    s = shmb_reply_error(0, 0, SHMB_E_BAD_FRAME, NULL);
    CHECK_STR(s, "{\"id\":null,\"error\":{\"code\":\"bad_frame\",\"message\":"
                 "\"frame length is zero or larger than the limit\"}}");
done:
    free(s);
    return TEST_RESULT;
}

static int reply(const char *json, shmb_reply *r)
{
    return shmb_reply_parse((const uint8_t *)json, strlen(json), r);
}

int test_proto_reply_parse(void)
{
    shmb_reply r;
    uint64_t v;

    memset(&r, 0, sizeof(r));
    CHECK_INT(
        reply("{\"id\":3,\"result\":{\"handle\":1234,\"name\":\"n\"}}", &r),
        SHMB_OK);
    CHECK_INT(r.code, SHMB_OK);
    CHECK_INT(r.id, 3);
    CHECK_INT(shmb_reply_get_u64(&r, "handle", &v), SHMB_OK);
    CHECK_INT(v, 1234);
    CHECK_STR(shmb_reply_get_str(&r, "name"), "n");
    CHECK(shmb_reply_get_str(&r, "handle") == NULL);
    CHECK_INT(shmb_reply_get_u64(&r, "name", &v), SHMB_E_PROTOCOL);
    shmb_reply_free(&r);
    CHECK_INT(reply("{\"id\":4,\"error\":{\"code\":\"quota_exceeded\","
                    "\"message\":\"m\"}}",
                    &r),
              SHMB_OK);
    CHECK_INT(r.code, SHMB_E_QUOTA_EXCEEDED);
    CHECK_STR(r.message, "m");
    shmb_reply_free(&r);
    CHECK_INT(reply("{\"id\":4,\"error\":{\"code\":\"ok\"}}", &r), SHMB_OK);
    CHECK_INT(r.code, SHMB_E_PROTOCOL);
    shmb_reply_free(&r);
    /* Codes only the library raises never come from a broker. */
    CHECK_INT(reply("{\"id\":4,\"error\":{\"code\":\"server_untrusted\"}}", &r),
              SHMB_OK);
    CHECK_INT(r.code, SHMB_E_PROTOCOL);
    shmb_reply_free(&r);
    /* ...but a broker that ran out of memory says so (protocol.md 6). */
    CHECK_INT(reply("{\"id\":4,\"error\":{\"code\":\"out_of_memory\"}}", &r),
              SHMB_OK);
    CHECK_INT(r.code, SHMB_E_NOMEM);
    shmb_reply_free(&r);
    CHECK_INT(reply("{\"id\":null,\"error\":{\"code\":\"bad_frame\"}}", &r),
              SHMB_OK);
    CHECK_INT(r.id_null, 1);
    CHECK_INT(r.code, SHMB_E_BAD_FRAME);
    shmb_reply_free(&r);
    CHECK_INT(reply("{\"id\":4}", &r), SHMB_E_PROTOCOL);
    CHECK_INT(reply("{\"id\":4,\"result\":{},\"error\":{}}", &r),
              SHMB_E_PROTOCOL);
    CHECK_INT(reply("[]", &r), SHMB_E_PROTOCOL);
done:
    shmb_reply_free(&r);
    return TEST_RESULT;
}

/* The strict reader's number grammar (RFC 8259): what cJSON alone would
 * accept ("05", "1.", "+1") is bad_json; a number that is JSON is read. */
int test_proto_number_grammar(void)
{
    static const struct {
        const char *id;
        const char *msg;
    } bad[] = {
        {"05", "invalid JSON number at byte 6: a number must not have a "
               "leading zero"},
        {"-01", "invalid JSON number at byte 6: a number must not have a "
                "leading zero"},
        {"1.", "invalid JSON number at byte 6: a '.' must be followed by a "
               "digit"},
        {"1.e3", "invalid JSON number at byte 6: a '.' must be followed by "
                 "a digit"},
        {"+1", "invalid JSON number at byte 6: a number starts with '-' or "
               "a digit"},
        {".5", "invalid JSON number at byte 6: a number starts with '-' or "
               "a digit"},
        {"-", "invalid JSON number at byte 6: a '-' must be followed by a "
              "digit"},
        {"-x", "invalid JSON number at byte 6: a '-' must be followed by a "
               "digit"},
        {"1e", "invalid JSON number at byte 6: an exponent must have digits"},
        {"1e+", "invalid JSON number at byte 6: an exponent must have "
                "digits"},
        {"0x10", "invalid JSON number at byte 6: a number must not go on "
                 "with this character"},
        {"1.5.2", "invalid JSON number at byte 6: a number must not go on "
                  "with this character"},
        {"1e5e3", "invalid JSON number at byte 6: a number must not go on "
                  "with this character"},
    };
    static const struct {
        const char *id;
        uint32_t value;
    } good[] = {
        {"0", 0},       {"-0", 0},       {"10", 10},        {"1e0", 1},
        {"1.0E+1", 10}, {"2500e-2", 25}, {"4.096e3", 4096},
    };
    shmb_request q;
    char m[SHMB_MSG_MAX], req[128];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(req, sizeof(req), "{\"id\":%s,\"op\":\"ping\"}", bad[i].id);
        CHECK_INT(parse(req, &q, m), SHMB_E_BAD_JSON);
        CHECK_STR(m, bad[i].msg);
        CHECK_INT(q.has_id, 0);
    }
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(req, sizeof(req), "{\"id\":%s,\"op\":\"ping\"}", good[i].id);
        CHECK_INT(parse(req, &q, m), SHMB_OK);
        CHECK_INT(q.id, good[i].value);
    }
    /* Inside arrays and after other fields, too. */
    CHECK_INT(parse("{\"id\":1,\"op\":\"hello\",\"versions\":[1,01]}", &q, m),
              SHMB_E_BAD_JSON);
    CHECK_STR(m, "invalid JSON number at byte 35: a number must not have a "
                 "leading zero");
    CHECK_INT(parse("{\"id\":1,\"op\":\"create\",\"name\":\"a\",\"size\":"
                    "+4096}",
                    &q, m),
              SHMB_E_BAD_JSON);
done:
    return TEST_RESULT;
}

/* Repeated keys are refused at any depth, compared after unescaping. */
int test_proto_duplicate_keys(void)
{
    shmb_request q;
    char m[SHMB_MSG_MAX];

    CHECK_INT(parse("{\"id\":1,\"op\":\"ping\",\"\\u0069d\":2}", &q, m),
              SHMB_E_BAD_REQUEST);
    CHECK_STR(m, "duplicate field 'id'");
    CHECK_INT(parse("{\"id\":1,\"op\":\"hello\",\"versions\":[1],"
                    "\"client\":{\"a\":1,\"b\":[{\"c\":1,\"c\":2}]}}",
                    &q, m),
              SHMB_E_BAD_REQUEST);
    CHECK_STR(m, "duplicate field 'c'");
    /* The key is sanitized before it reaches a message or a log line. */
    CHECK_INT(parse("{\"id\":1,\"op\":\"ping\",\"x\":{\"a\\nb\":1,"
                    "\"a\\nb\":2}}",
                    &q, m),
              SHMB_E_BAD_REQUEST);
    CHECK_STR(m, "duplicate field 'a?b'");
    /* A large object is sorted, yet the first repeated key in the text is
     * the one named. */
    {
        char big[512];
        size_t n = 0, i;
        n += (size_t)snprintf(big + n, sizeof(big) - n, "{\"id\":1,\"x\":{");
        for (i = 0; i < 20; i++)
            n += (size_t)snprintf(big + n, sizeof(big) - n, "\"k%zu\":1,", i);
        snprintf(big + n, sizeof(big) - n,
                 "\"k5\":2,\"k2\":3},\"op\":\"ping\"}");
        CHECK_INT(parse(big, &q, m), SHMB_E_BAD_REQUEST);
        CHECK_STR(m, "duplicate field 'k2'");
    }
    /* Lone surrogates are not text. */
    CHECK_INT(parse("{\"id\":1,\"op\":\"\\ud800\"}", &q, m), SHMB_E_BAD_JSON);
    CHECK_INT(parse("{\"id\":1,\"op\":\"\\udc00\"}", &q, m), SHMB_E_BAD_JSON);
    CHECK_INT(parse("{\"id\":1,\"op\":\"\\ud83d\\ude00\"}", &q, m),
              SHMB_E_UNKNOWN_OP);
done:
    return TEST_RESULT;
}

/* Text must be UTF-8 (RFC 8259, 3629): anything else is bad_json before
 * cJSON sees it, wherever it is - a name, hello's client, a key. */
int test_proto_utf8(void)
{
    static const struct {
        const char *bytes; /* put in a name */
        size_t at;         /* offending byte in the request */
    } bad[] = {
        {"a\x80", 29},             /* a lone continuation byte */
        {"a\xc3", 29},             /* cut short by the quote */
        {"a\xc0\xaf", 29},         /* overlong '/' */
        {"a\xe0\x80\xaf", 29},     /* overlong, 3 bytes */
        {"a\xed\xa0\x80", 29},     /* U+D800, a surrogate */
        {"a\xf4\x90\x80\x80", 29}, /* above U+10FFFF */
        {"a\xf5\x80\x80\x80", 29}, /* never a lead byte */
        {"a\xff", 29},             /* never in UTF-8 */
        {"ab\xf0\x9f\x98", 30},    /* a 4-byte form cut short */
    };
    static const char *good[] = {
        "caf\xc3\xa9",  "\xe2\x82\xac",     "\xf0\x9f\x98\x80",
        "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf",
    };
    shmb_request q;
    char m[SHMB_MSG_MAX], want[64], req[256];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(req, sizeof(req), "{\"id\":1,\"op\":\"stat\",\"name\":\"%s\"}",
                 bad[i].bytes);
        CHECK_INT(parse(req, &q, m), SHMB_E_BAD_JSON);
        snprintf(want, sizeof(want), "invalid UTF-8 at byte %zu", bad[i].at);
        CHECK_STR(m, want);
        CHECK_INT(q.has_id, 0);
    }
    /* Valid UTF-8 is text: outside the name charset it is invalid_name. */
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(req, sizeof(req),
                 "{\"id\":1,\"op\":\"stat\",\"name\":\"a%s\"}", good[i]);
        CHECK_INT(parse(req, &q, m), SHMB_E_INVALID_NAME);
    }
    /* hello's client, a key, and a byte cut at the very end. */
    CHECK_INT(parse("{\"id\":1,\"op\":\"hello\",\"versions\":[1],"
                    "\"client\":\"x\xfe\"}",
                    &q, m),
              SHMB_E_BAD_JSON);
    CHECK_INT(parse("{\"id\":1,\"op\":\"ping\",\"\xc3\x28\":1}", &q, m),
              SHMB_E_BAD_JSON);
    CHECK_INT(parse("{\"id\":1,\"op\":\"ping\"}\xc3", &q, m), SHMB_E_BAD_JSON);
    CHECK_STR(m, "invalid UTF-8 at byte 20");
    /* Escapes are UTF-8 once decoded, and still allowed. */
    CHECK_INT(parse("{\"id\":1,\"op\":\"hello\",\"versions\":[1],"
                    "\"client\":\"caf\xc3\xa9 \\u00e9\"}",
                    &q, m),
              SHMB_OK);
    CHECK_STR(q.client, "caf?? ??");
done:
    return TEST_RESULT;
}

/* The reply carries the request's id whenever it could be read: after a
 * repeated key, more than 16 keys, an unknown field or op; never from text
 * that is not JSON, and never when "id" itself is repeated. */
int test_proto_id_echoed(void)
{
    static const struct {
        const char *in;
        int code;
        int has_id;
    } cases[] = {
        {"{\"id\":7,\"op\":\"ping\",\"op\":\"ping\"}", SHMB_E_BAD_REQUEST, 1},
        {"{\"op\":\"ping\",\"x\":{\"a\":1,\"a\":2},\"id\":7}",
         SHMB_E_BAD_REQUEST, 1},
        {"{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,\"h\":1,"
         "\"i\":1,\"j\":1,\"k\":1,\"l\":1,\"m\":1,\"n\":1,\"o\":1,\"p\":1,"
         "\"id\":7}",
         SHMB_E_BAD_REQUEST, 1},
        {"{\"id\":7,\"op\":\"ping\",\"extra\":1}", SHMB_E_BAD_REQUEST, 1},
        {"{\"id\":7,\"op\":\"fly\"}", SHMB_E_UNKNOWN_OP, 1},
        {"{\"id\":7,\"op\":\"stat\",\"name\":\"a b\"}", SHMB_E_INVALID_NAME, 1},
        /* Not readable: id repeated, id of the wrong type, not JSON. */
        {"{\"id\":7,\"op\":\"ping\",\"id\":7}", SHMB_E_BAD_REQUEST, 0},
        {"{\"id\":\"7\",\"op\":\"ping\",\"op\":\"ping\"}", SHMB_E_BAD_REQUEST,
         0},
        {"{\"id\":7,\"op\":\"ping\",\"n\":05}", SHMB_E_BAD_JSON, 0},
        {"{\"id\":7,\"op\":\"ping\xff\"}", SHMB_E_BAD_JSON, 0},
    };
    shmb_request q;
    char m[SHMB_MSG_MAX];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = parse(cases[i].in, &q, m);
        if (rc != cases[i].code || q.has_id != cases[i].has_id ||
            (q.has_id && q.id != 7))
            ADD_FAILURE("case %zu: %s -> %d has_id %d id %u '%s'", i,
                        cases[i].in, rc, q.has_id, (unsigned)q.id, m);
    }
    return TEST_RESULT;
}
