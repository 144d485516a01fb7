/* SPDX-License-Identifier: MPL-2.0 */
/*
 * proto.c - strict parsing of protocol v1 requests and replies.
 *
 * Every request comes from a possibly hostile process, so the rules are
 * written as a table (which fields each op requires and allows) and checked
 * before any field is used. Text copied from a request into an error message
 * is sanitized (printable ASCII, truncated) so it cannot forge log lines.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "shmb_json.h"
#include "shmb_proto.h"

enum field_bit {
    F_ID = 1u << 0,
    F_OP = 1u << 1,
    F_VERSIONS = 1u << 2,
    F_CLIENT = 1u << 3,
    F_NAME = 1u << 4,
    F_SIZE = 1u << 5,
    F_ACCESS = 1u << 6,
    F_LIFETIME = 1u << 7,
    F_DOORBELLS = 1u << 8
};

static const char *const field_names[] = {
    "id",   "op",     "versions", "client",    "name",
    "size", "access", "lifetime", "doorbells",
};
#define FIELD_COUNT (sizeof(field_names) / sizeof(field_names[0]))
#define MAX_FIELDS 16
#define MAX_VERSIONS 16

static const char *const op_names[SHMB_OP_COUNT_] = {
#define SHMB_XX(suffix, name) name,
    SHMB_OP_MAP(SHMB_XX)
#undef SHMB_XX
};

/* Which fields each op requires and allows (in addition to required). */
struct op_spec {
    unsigned required;
    unsigned allowed;
};

static const struct op_spec op_specs[SHMB_OP_COUNT_] = {
    [SHMB_OP_HELLO] = {F_ID | F_OP | F_VERSIONS, F_CLIENT},
    [SHMB_OP_PING] = {F_ID | F_OP, 0},
    [SHMB_OP_CREATE] = {F_ID | F_OP | F_NAME | F_SIZE,
                        F_ACCESS | F_LIFETIME | F_DOORBELLS},
    [SHMB_OP_OPEN] = {F_ID | F_OP | F_NAME | F_ACCESS, 0},
    [SHMB_OP_RELEASE] = {F_ID | F_OP | F_NAME, 0},
    [SHMB_OP_DELETE] = {F_ID | F_OP | F_NAME, 0},
    [SHMB_OP_LIST] = {F_ID | F_OP, 0},
    [SHMB_OP_STAT] = {F_ID | F_OP | F_NAME, 0},
    [SHMB_OP_STATS] = {F_ID | F_OP, 0},
};

const char *shmb_op_name(shmb_op op)
{
    if ((unsigned)op >= SHMB_OP_COUNT_)
        return "unknown";
    return op_names[op];
}

static int fail(char *msg, size_t cap, int code, const char *fmt, ...)
{
    va_list ap;
    if (msg != NULL && cap > 0) {
        va_start(ap, fmt);
        vsnprintf(msg, cap, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Copies at most 32 printable ASCII characters; others become '?'. */
static void sanitize(char out[40], const char *in)
{
    size_t i;
    for (i = 0; in[i] != '\0' && i < 32; i++)
        out[i] = (in[i] >= 0x20 && in[i] < 0x7f && in[i] != '\'') ? in[i] : '?';
    out[i] = '\0';
    if (in[i] != '\0')
        strcpy(out + i, "...");
}

static int field_bit_of(const char *name)
{
    size_t i;
    for (i = 0; i < FIELD_COUNT; i++) {
        if (strcmp(field_names[i], name) == 0)
            return (int)(1u << i);
    }
    return 0;
}

static const char *field_name_of(unsigned bit)
{
    size_t i;
    for (i = 0; i < FIELD_COUNT; i++) {
        if (bit == (1u << i))
            return field_names[i];
    }
    return "?";
}

/* An integer-valued finite JSON number in [lo, hi]. */
static int json_int(const cJSON *v, double lo, double hi, double *out)
{
    double d;
    if (!cJSON_IsNumber(v))
        return 0;
    d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < lo || d > hi)
        return 0;
    *out = d;
    return 1;
}

/* The request's id, when it can be read without guessing: exactly one
 * top-level "id" key holding an integer in 0..2^32-1. Read from any tree
 * the strict reader built, so a request refused for a repeated key or too
 * many keys is still answered with its id. */
static void read_id(const cJSON *root, shmb_request *req)
{
    const cJSON *a, *id = NULL;
    double d;

    for (a = root->child; a != NULL; a = a->next) {
        if (strcmp(a->string, "id") != 0)
            continue;
        if (id != NULL)
            return; /* two ids: answering either would be a guess */
        id = a;
    }
    if (id != NULL && json_int(id, 0, 4294967295.0, &d)) {
        req->has_id = 1;
        req->id = (uint32_t)d;
    }
}

/* Parses `payload` as exactly one JSON object (shmb_json.h) with at most
 * MAX_FIELDS keys. Text that is not JSON (bytes, UTF-8, grammar) is
 * bad_json and ends the connection; a repeated key or too many keys is a
 * bad request and does not. Whenever a tree could be built, `req` (if not
 * NULL) gets the id first, so every bad_request carries it. */
static int parse_object(const uint8_t *payload, size_t len, cJSON **out,
                        shmb_request *req, char *msg, size_t cap)
{
    shmb_json_error e;
    shmb_json_status st;
    cJSON *root = NULL;
    const cJSON *a;
    char s[40];
    int count = 0;

    st = shmb_json_parse_object_keep((const char *)payload, len, &root, &e);
    if (root != NULL && req != NULL)
        read_id(root, req);
    switch (st) {
    case SHMB_JSON_OK:
        break;
    case SHMB_JSON_E_NUL:
        return fail(msg, cap, SHMB_E_BAD_JSON, "payload contains a NUL byte");
    case SHMB_JSON_E_CONTROL:
        return fail(msg, cap, SHMB_E_BAD_JSON,
                    "control character, \\u0000 or BOM at byte %zu", e.offset);
    case SHMB_JSON_E_UTF8:
        return fail(msg, cap, SHMB_E_BAD_JSON, "invalid UTF-8 at byte %zu",
                    e.offset);
    case SHMB_JSON_E_NUMBER:
        return fail(msg, cap, SHMB_E_BAD_JSON,
                    "invalid JSON number at byte %zu: %s", e.offset, e.reason);
    case SHMB_JSON_E_NOT_OBJECT:
        return fail(msg, cap, SHMB_E_BAD_JSON, "payload is not a JSON object");
    case SHMB_JSON_E_TRAILING:
        return fail(msg, cap, SHMB_E_BAD_JSON,
                    "trailing bytes after the JSON object");
    case SHMB_JSON_E_DUPLICATE:
        cJSON_Delete(root);
        sanitize(s, e.key);
        return fail(msg, cap, SHMB_E_BAD_REQUEST, "duplicate field '%s'", s);
    case SHMB_JSON_E_NOMEM:
        return fail(msg, cap, SHMB_E_INTERNAL, "out of memory");
    default:
        return fail(msg, cap, SHMB_E_BAD_JSON, "invalid JSON at byte %zu",
                    e.offset);
    }
    for (a = root->child; a != NULL; a = a->next) {
        if (++count > MAX_FIELDS) {
            cJSON_Delete(root);
            return fail(msg, cap, SHMB_E_BAD_REQUEST, "more than %d fields",
                        MAX_FIELDS);
        }
    }
    *out = root;
    return SHMB_OK;
}

int shmb_name_validate(const char *name, char *msg, size_t cap)
{
    size_t i, n = strlen(name);
    char c;

    if (n == 0)
        return fail(msg, cap, SHMB_E_INVALID_NAME, "name is empty");
    if (n > SHMB_NAME_MAX)
        return fail(msg, cap, SHMB_E_INVALID_NAME,
                    "name is longer than %d bytes", SHMB_NAME_MAX);
    c = name[0];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9')))
        return fail(msg, cap, SHMB_E_INVALID_NAME,
                    "name must start with a letter or digit");
    for (i = 0; i < n; i++) {
        c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
              c == '/'))
            return fail(msg, cap, SHMB_E_INVALID_NAME,
                        "name has a character outside [A-Za-z0-9._-/] at "
                        "byte %zu",
                        i);
        if (c == '/' && (name[i + 1] == '/' || name[i + 1] == '\0'))
            return fail(msg, cap, SHMB_E_INVALID_NAME,
                        "name has an empty path segment");
        if (c == '.' && name[i + 1] == '.')
            return fail(msg, cap, SHMB_E_INVALID_NAME, "name contains '..'");
    }
    return SHMB_OK;
}

static int parse_versions(const cJSON *v, shmb_request *req, char *msg,
                          size_t cap)
{
    const cJSON *e;
    int n = 0;
    double d;

    if (!cJSON_IsArray(v))
        return fail(msg, cap, SHMB_E_BAD_REQUEST,
                    "field 'versions' must be an array of integers");
    cJSON_ArrayForEach(e, v)
    {
        if (++n > MAX_VERSIONS || !json_int(e, 1, 65535, &d))
            return fail(msg, cap, SHMB_E_BAD_REQUEST,
                        "field 'versions' must hold 1 to %d integers in "
                        "1..65535",
                        MAX_VERSIONS);
        if (d < 32)
            req->versions |= 1u << (unsigned)d;
    }
    if (n == 0)
        return fail(msg, cap, SHMB_E_BAD_REQUEST, "field 'versions' is empty");
    return SHMB_OK;
}

static int parse_string(const cJSON *v, const char *field, char *dst,
                        size_t dstcap, char *msg, size_t cap)
{
    size_t n;
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return fail(msg, cap, SHMB_E_BAD_REQUEST, "field '%s' must be a string",
                    field);
    n = strlen(v->valuestring);
    if (n >= dstcap)
        return fail(msg, cap,
                    strcmp(field, "name") == 0 ? SHMB_E_INVALID_NAME
                                               : SHMB_E_BAD_REQUEST,
                    "field '%s' is longer than %zu bytes", field, dstcap - 1);
    memcpy(dst, v->valuestring, n + 1);
    return SHMB_OK;
}

static int parse_field(unsigned bit, const cJSON *v, shmb_request *req,
                       char *msg, size_t cap)
{
    double d;
    int r;

    switch (bit) {
    case F_VERSIONS:
        return parse_versions(v, req, msg, cap);
    case F_CLIENT:
        r = parse_string(v, "client", req->client, sizeof(req->client), msg,
                         cap);
        if (r == SHMB_OK) {
            char *p;
            for (p = req->client; *p; p++)
                if (*p < 0x20 || *p >= 0x7f)
                    *p = '?';
        }
        return r;
    case F_NAME:
        r = parse_string(v, "name", req->name, sizeof(req->name), msg, cap);
        return r == SHMB_OK ? shmb_name_validate(req->name, msg, cap) : r;
    case F_SIZE:
        if (!json_int(v, 0, SHMB_JSON_INT_MAX, &d))
            return fail(msg, cap, SHMB_E_INVALID_SIZE,
                        "field 'size' must be an integer in 1..2^53-1");
        if (d < 1)
            return fail(msg, cap, SHMB_E_INVALID_SIZE,
                        "field 'size' must be at least 1");
        req->size = (uint64_t)d;
        return SHMB_OK;
    case F_ACCESS:
        r = cJSON_IsString(v) ? shmb_access_from_name(v->valuestring) : -1;
        if (r < 0)
            return fail(msg, cap, SHMB_E_BAD_REQUEST,
                        "field 'access' must be \"ro\" or \"rw\"");
        req->access = (shmb_access)r;
        return SHMB_OK;
    case F_LIFETIME:
        r = cJSON_IsString(v) ? shmb_lifetime_from_name(v->valuestring) : -1;
        if (r < 0)
            return fail(msg, cap, SHMB_E_BAD_REQUEST,
                        "field 'lifetime' must be \"client\" or "
                        "\"persistent\"");
        req->lifetime = (shmb_lifetime)r;
        return SHMB_OK;
    case F_DOORBELLS:
        if (!json_int(v, 0, SHMB_DOORBELLS_MAX, &d))
            return fail(msg, cap, SHMB_E_BAD_REQUEST,
                        "field 'doorbells' must be an integer in 0..%d",
                        SHMB_DOORBELLS_MAX);
        req->doorbells = (uint32_t)d;
        return SHMB_OK;
    default:
        return SHMB_OK; /* id and op are read before the loop */
    }
}

static int parse_id_op(const cJSON *root, shmb_request *req, char *msg,
                       size_t cap)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(root, "op");
    double d;
    int i;

    if (id == NULL)
        return fail(msg, cap, SHMB_E_BAD_REQUEST, "missing field 'id'");
    if (!json_int(id, 0, 4294967295.0, &d))
        return fail(msg, cap, SHMB_E_BAD_REQUEST,
                    "field 'id' must be an integer in 0..4294967295");
    req->has_id = 1;
    req->id = (uint32_t)d;
    if (op == NULL)
        return fail(msg, cap, SHMB_E_BAD_REQUEST, "missing field 'op'");
    if (!cJSON_IsString(op))
        return fail(msg, cap, SHMB_E_BAD_REQUEST,
                    "field 'op' must be a string");
    for (i = 0; i < SHMB_OP_COUNT_; i++) {
        if (strcmp(op_names[i], op->valuestring) == 0) {
            req->op = (shmb_op)i;
            return SHMB_OK;
        }
    }
    {
        char s[40];
        sanitize(s, op->valuestring);
        return fail(msg, cap, SHMB_E_UNKNOWN_OP, "unknown op '%s'", s);
    }
}

static int check_fields(const cJSON *root, shmb_request *req, char *msg,
                        size_t cap)
{
    const struct op_spec *spec = &op_specs[req->op];
    unsigned seen = 0, missing;
    const cJSON *f;
    int r;

    for (f = root->child; f != NULL; f = f->next) {
        unsigned bit = (unsigned)field_bit_of(f->string);
        char s[40];
        if (bit == 0) {
            sanitize(s, f->string);
            return fail(msg, cap, SHMB_E_BAD_REQUEST, "unknown field '%s'", s);
        }
        if (!(bit & (spec->required | spec->allowed)))
            return fail(msg, cap, SHMB_E_BAD_REQUEST,
                        "field '%s' is not valid for op '%s'",
                        field_name_of(bit), op_names[req->op]);
        r = parse_field(bit, f, req, msg, cap);
        if (r != SHMB_OK)
            return r;
        seen |= bit;
    }
    missing = spec->required & ~seen;
    if (missing != 0)
        return fail(msg, cap, SHMB_E_BAD_REQUEST, "missing field '%s'",
                    field_name_of(missing & (~missing + 1u)));
    return SHMB_OK;
}

int shmb_request_parse(const uint8_t *payload, size_t len, shmb_request *req,
                       char *msg, size_t cap)
{
    cJSON *root = NULL;
    int r;

    memset(req, 0, sizeof(*req));
    req->access = SHMB_ACCESS_RW;
    req->lifetime = SHMB_LIFETIME_CLIENT;
    if (msg != NULL && cap > 0)
        msg[0] = '\0';
    r = parse_object(payload, len, &root, req, msg, cap);
    if (r != SHMB_OK)
        return r;
    r = parse_id_op(root, req, msg, cap);
    if (r == SHMB_OK)
        r = check_fields(root, req, msg, cap);
    cJSON_Delete(root);
    return r;
}

int shmb_reply_parse(const uint8_t *payload, size_t len, shmb_reply *reply)
{
    cJSON *root = NULL;
    const cJSON *id, *res, *err, *code, *message;
    double d;

    memset(reply, 0, sizeof(*reply));
    if (parse_object(payload, len, &root, NULL, NULL, 0) != SHMB_OK)
        return SHMB_E_PROTOCOL;
    id = cJSON_GetObjectItemCaseSensitive(root, "id");
    res = cJSON_GetObjectItemCaseSensitive(root, "result");
    err = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (id != NULL && json_int(id, 0, 4294967295.0, &d))
        reply->id = (uint32_t)d;
    else
        reply->id_null = 1;
    if (cJSON_IsObject(res) && err == NULL) {
        reply->root = root;
        reply->result = (void *)res;
        reply->code = SHMB_OK;
        return SHMB_OK;
    }
    if (!cJSON_IsObject(err) || res != NULL)
        goto bad;
    code = cJSON_GetObjectItemCaseSensitive(err, "code");
    message = cJSON_GetObjectItemCaseSensitive(err, "message");
    if (!cJSON_IsString(code))
        goto bad;
    reply->code = shmb_err_from_name(code->valuestring);
    /* "ok" is no error, and the client-only codes never travel - but
     * out_of_memory does: the broker may run out answering (protocol.md,
     * section 6). */
    if (reply->code == SHMB_OK ||
        (reply->code < SHMB_E_INTERNAL && reply->code != SHMB_E_NOMEM))
        reply->code = SHMB_E_PROTOCOL;
    snprintf(reply->message, sizeof(reply->message), "%s",
             cJSON_IsString(message) ? message->valuestring
                                     : shmb_strerror(reply->code));
    reply->root = root;
    return SHMB_OK;
bad:
    cJSON_Delete(root);
    return SHMB_E_PROTOCOL;
}

void shmb_reply_free(shmb_reply *reply)
{
    cJSON_Delete((cJSON *)reply->root);
    reply->root = NULL;
    reply->result = NULL;
}

int shmb_reply_get_u64(const shmb_reply *reply, const char *field,
                       uint64_t *out)
{
    const cJSON *v;
    double d;
    if (reply->result == NULL)
        return SHMB_E_PROTOCOL;
    v = cJSON_GetObjectItemCaseSensitive((const cJSON *)reply->result, field);
    if (!json_int(v, 0, SHMB_JSON_INT_MAX, &d))
        return SHMB_E_PROTOCOL;
    *out = (uint64_t)d;
    return SHMB_OK;
}

const char *shmb_reply_get_str(const shmb_reply *reply, const char *field)
{
    const cJSON *v;
    if (reply->result == NULL)
        return NULL;
    v = cJSON_GetObjectItemCaseSensitive((const cJSON *)reply->result, field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
