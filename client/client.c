/* SPDX-License-Identifier: MPL-2.0 */
/*
 * client.c - the portable half of the client library: requests, replies and
 * region bookkeeping over the byte stream that client_plat.h provides.
 *
 * The broker is trusted to be the broker (the transport checks that), but
 * its replies are still parsed strictly: a malformed reply is
 * SHMB_E_PROTOCOL, never a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "client_plat.h"
#include "shmb.h"
#include "shmb_frame.h"
#include "shmb_proto.h"
#include "shmb_version.h"

#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_IO_TIMEOUT_MS 30000

/* What shmb_connect() was asked, kept to reconnect the same way. */
typedef struct connect_params {
    char *pipe;
    char *service;
    char *client_name; /* may be NULL */
    uint32_t timeout_ms;
    uint32_t io_timeout_ms;
    int trust;
    uint32_t flags;
} connect_params;

struct shmb_client {
    cplat_mutex *lock; /* held for each request and its reply */
    cplat_conn *conn;
    connect_params params;
    /* The connection was lost because the broker went away (not a
     * timeout, not a malformed reply): the next call may reconnect. */
    int lost;
    uint32_t reconnects;
    uint32_t next_id;
    uint32_t max_frame;
    int version;
    uint32_t syserr;
    char message[SHMB_MSG_MAX + 1];
};

static int set_msg(shmb_client *c, int code, const char *msg)
{
    snprintf(c->message, sizeof(c->message), "%s",
             msg != NULL ? msg : shmb_strerror(code));
    return code;
}

const char *shmb_client_message(const shmb_client *c)
{
    return c != NULL ? c->message : "";
}

uint32_t shmb_client_syserr(const shmb_client *c)
{
    return c != NULL ? c->syserr : 0;
}

int shmb_client_version(const shmb_client *c)
{
    return c != NULL ? c->version : 0;
}

const char *shmb_version(void)
{
    return SHMB_VERSION_STRING;
}

void shmb_free(void *p)
{
    free(p);
}

/* After an I/O or protocol error the stream is out of step (a reply may
 * still arrive, half a frame may be read): the connection is dead. Closing
 * it also makes the broker close any handle it was about to deliver. */
static int conn_dead(shmb_client *c, int code, const char *msg)
{
    cplat_close(c->conn);
    c->conn = NULL;
    return set_msg(c, code, msg);
}

/* The stream broke because the broker is gone: dead, but reconnectable. */
static int conn_gone(shmb_client *c)
{
    c->lost = (c->params.flags & SHMB_CONNECT_NO_RECONNECT) == 0;
    return conn_dead(c, SHMB_E_IO, "the broker closed the connection");
}

/* Sends `req` (its "id" is set here) and reads the matching reply. */
static int exchange(shmb_client *c, cJSON *req, shmb_reply *reply)
{
    uint32_t id = c->next_id++;
    char *text;
    uint8_t *frame, hdr[SHMB_FRAME_HEADER], *payload;
    size_t flen;
    uint32_t plen;
    int rc;

    if (c->conn == NULL)
        return set_msg(c, SHMB_E_IO, "the connection is closed");
    cJSON_DeleteItemFromObjectCaseSensitive(req, "id");
    if (!cJSON_AddNumberToObject(req, "id", (double)id))
        return set_msg(c, SHMB_E_NOMEM, NULL);
    text = cJSON_PrintUnformatted(req);
    if (text == NULL)
        return set_msg(c, SHMB_E_NOMEM, NULL);
    frame = shmb_frame_encode(text, strlen(text), c->max_frame, &flen);
    free(text);
    if (frame == NULL)
        return set_msg(c, SHMB_E_INVALID_ARG, "request larger than max_frame");
    (void)cplat_write(c->conn, frame, flen, &c->syserr);
    free(frame);
    /* Read even if the write failed: the server may have said why before
     * it hung up (a refused connection). If it did not, the read fails. */
    rc = cplat_read(c->conn, hdr, sizeof(hdr), &c->syserr);
    if (rc != SHMB_OK && cplat_is_gone(c->syserr))
        return conn_gone(c);
    if (rc != SHMB_OK)
        return conn_dead(c, rc,
                         cplat_is_timeout(c->syserr)
                             ? "the broker did not answer in time"
                             : "the broker closed the connection");
    plen = shmb_frame_get_header(hdr);
    if (plen == 0 || plen > c->max_frame)
        return conn_dead(c, SHMB_E_PROTOCOL, "reply frame length is invalid");
    payload = malloc(plen);
    if (payload == NULL)
        return conn_dead(c, SHMB_E_NOMEM, NULL);
    rc = cplat_read(c->conn, payload, plen, &c->syserr);
    if (rc != SHMB_OK) {
        free(payload);
        if (cplat_is_gone(c->syserr))
            return conn_gone(c);
        return conn_dead(c, rc, "the broker closed the connection");
    }
    rc = shmb_reply_parse(payload, plen, reply);
    free(payload);
    /* A result must answer this request; an error may also have id null
     * (the broker could not read ours, or refused the connection). */
    if (rc == SHMB_OK && reply->id != id &&
        (reply->code == SHMB_OK || !reply->id_null)) {
        shmb_reply_free(reply);
        rc = SHMB_E_PROTOCOL;
    }
    if (rc != SHMB_OK)
        return conn_dead(c, rc, "malformed or mismatched reply");
    if (reply->code != SHMB_OK) {
        set_msg(c, reply->code, reply->message);
        rc = reply->code;
        shmb_reply_free(reply);
        return rc;
    }
    c->message[0] = '\0';
    return SHMB_OK;
}

static int hello(shmb_client *c, const char *client_name);

/* Opens the connection and checks the server (shmb_connect and
 * reconnect). */
static int open_conn(shmb_client *c)
{
    const connect_params *p = &c->params;
    int rc;

    c->max_frame = SHMB_FRAME_LIMIT_DEFAULT;
    c->message[0] = '\0';
    rc = cplat_connect(p->pipe, p->timeout_ms, p->io_timeout_ms, &c->conn,
                       &c->syserr);
    if (rc == SHMB_OK)
        rc = cplat_verify_server(c->conn, p->trust, p->service, c->message,
                                 sizeof(c->message), &c->syserr);
    if (rc == SHMB_OK)
        rc = hello(c, p->client_name);
    if (rc != SHMB_OK) {
        if (c->message[0] == '\0')
            set_msg(c, rc, NULL);
        cplat_close(c->conn);
        c->conn = NULL;
    }
    return rc;
}

/* The broker went away: connect again, exactly as shmb_connect did. */
static int reconnect(shmb_client *c)
{
    char why[SHMB_MSG_MAX + 1];
    int rc = open_conn(c);
    if (rc != SHMB_OK) {
        /* Stay reconnectable: the service may be on its way back. */
        snprintf(why, sizeof(why), "%s", c->message);
        snprintf(c->message, sizeof(c->message),
                 "the broker went away and reconnecting failed: %s", why);
        return rc;
    }
    c->lost = 0;
    c->reconnects++;
    return SHMB_OK;
}

/* Requests that change nothing on the broker may be sent again after a
 * reconnect; create, release and delete may not. */
static int resend_is_safe(const cJSON *req)
{
    static const char *const safe[] = {"ping", "open", "stat", "list", "stats"};
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(req, "op");
    size_t i;
    for (i = 0; cJSON_IsString(op) && i < sizeof(safe) / sizeof(safe[0]); i++) {
        if (strcmp(op->valuestring, safe[i]) == 0)
            return 1;
    }
    return 0;
}

/* exchange(), reconnecting first if the broker went away earlier, or once
 * after if it goes away during this call; then the request is sent again
 * (the broker that may have seen it is gone, and all it did with it). */
static int roundtrip(shmb_client *c, cJSON *req, shmb_reply *reply)
{
    int rc, again = 0;

    if (c->conn == NULL && c->lost) {
        rc = reconnect(c);
        if (rc != SHMB_OK)
            return rc;
        again = 1; /* already reconnected for this call */
    }
    rc = exchange(c, req, reply);
    if (rc == SHMB_E_IO && c->conn == NULL && c->lost && !again) {
        rc = reconnect(c);
        if (rc == SHMB_OK && resend_is_safe(req)) {
            rc = exchange(c, req, reply);
        } else if (rc == SHMB_OK) {
            /* The old broker may have acted on it before it went: doing
             * it again could report a false failure (exists, not_found)
             * for what in fact succeeded. Say so instead. */
            const cJSON *op = cJSON_GetObjectItemCaseSensitive(req, "op");
            snprintf(c->message, sizeof(c->message),
                     "the broker went away during '%s' and the client "
                     "reconnected; whether it took effect is unknown (look "
                     "with stat)",
                     cJSON_IsString(op) ? op->valuestring : "?");
            rc = SHMB_E_IO;
        }
    }
    return rc;
}

/* Runs a request built in `req` (consumed) and frees the reply. */
static int call_simple(shmb_client *c, cJSON *req)
{
    shmb_reply reply;
    int rc;
    if (req == NULL)
        return set_msg(c, SHMB_E_NOMEM, NULL);
    cplat_mutex_lock(c->lock);
    rc = roundtrip(c, req, &reply);
    if (rc == SHMB_OK)
        shmb_reply_free(&reply);
    cplat_mutex_unlock(c->lock);
    cJSON_Delete(req);
    return rc;
}

static cJSON *request_new(const char *op, const char *name)
{
    cJSON *req = cJSON_CreateObject();
    if (req == NULL)
        return NULL;
    if (!cJSON_AddStringToObject(req, "op", op) ||
        (name != NULL && !cJSON_AddStringToObject(req, "name", name))) {
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

static int hello(shmb_client *c, const char *client_name)
{
    cJSON *req = request_new("hello", NULL);
    cJSON *versions;
    shmb_reply reply;
    uint64_t v = 0, max_frame = 0;
    int rc;

    if (req == NULL)
        return set_msg(c, SHMB_E_NOMEM, NULL);
    versions = cJSON_AddArrayToObject(req, "versions");
    if (versions != NULL)
        cJSON_AddItemToArray(versions,
                             cJSON_CreateNumber(SHMB_PROTOCOL_VERSION));
    if (client_name != NULL)
        cJSON_AddStringToObject(req, "client", client_name);
    rc = exchange(c, req, &reply);
    cJSON_Delete(req);
    if (rc != SHMB_OK)
        return rc;
    if (shmb_reply_get_u64(&reply, "version", &v) != SHMB_OK ||
        v != SHMB_PROTOCOL_VERSION ||
        shmb_reply_get_u64(&reply, "max_frame", &max_frame) != SHMB_OK ||
        max_frame < 256 || max_frame > SHMB_FRAME_LIMIT_CEILING)
        rc = set_msg(c, SHMB_E_PROTOCOL, "hello reply is not valid");
    else {
        c->version = (int)v;
        c->max_frame = (uint32_t)max_frame;
    }
    shmb_reply_free(&reply);
    return rc;
}

/* The trust level: the caller's, else SYSTEM - or SERVICE if
 * $SHMB_SERVER_TRUST says "service". The environment can choose between
 * the two checks but never turn checking off: a user's environment also
 * reaches that user's elevated programs, so "any" must be asked for in
 * code (or on shmbctl's command line). */
static int trust_level(const shmb_connect_options *opts)
{
    const char *env;
    if (opts != NULL && opts->trust != SHMB_TRUST_DEFAULT)
        return opts->trust;
    env = getenv("SHMB_SERVER_TRUST");
    if (env != NULL && strcmp(env, "service") == 0)
        return SHMB_TRUST_SERVICE;
    return SHMB_TRUST_SYSTEM;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

static void client_free(shmb_client *c)
{
    if (c == NULL)
        return;
    cplat_close(c->conn);
    if (c->lock != NULL)
        cplat_mutex_free(c->lock);
    free(c->params.pipe);
    free(c->params.service);
    free(c->params.client_name);
    free(c);
}

int shmb_connect(const shmb_connect_options *opts, shmb_client **out)
{
    shmb_client *c;
    connect_params *p;
    int rc;

    if (out == NULL)
        return SHMB_E_INVALID_ARG;
    *out = NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return SHMB_E_NOMEM;
    p = &c->params;
    p->pipe =
        dup_str(opts && opts->pipe_name ? opts->pipe_name : SHMB_DEFAULT_PIPE);
    p->service =
        dup_str(opts && opts->service_name ? opts->service_name : "shmbroker");
    p->client_name =
        opts && opts->client_name ? dup_str(opts->client_name) : NULL;
    p->timeout_ms =
        opts && opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
    p->io_timeout_ms = opts && opts->io_timeout_ms ? opts->io_timeout_ms
                                                   : DEFAULT_IO_TIMEOUT_MS;
    p->trust = trust_level(opts);
    p->flags = opts ? opts->flags : 0;
    c->lock = cplat_mutex_new();
    if (p->pipe == NULL || p->service == NULL || c->lock == NULL ||
        (opts && opts->client_name && p->client_name == NULL)) {
        client_free(c);
        return SHMB_E_NOMEM;
    }
    c->next_id = 1;
    /* Keep a failed client so the caller can read why; it is unusable
     * (never reconnects: c->lost stays 0). */
    rc = open_conn(c);
    if (rc != SHMB_OK)
        c->lost = 0; /* even if the broker dropped the pipe mid-hello */
    *out = c;
    return rc;
}

void shmb_disconnect(shmb_client *c)
{
    client_free(c);
}

uint32_t shmb_client_reconnects(const shmb_client *c)
{
    uint32_t n;
    if (c == NULL)
        return 0;
    cplat_mutex_lock(c->lock);
    n = c->reconnects;
    cplat_mutex_unlock(c->lock);
    return n;
}

int shmb_ping(shmb_client *c)
{
    if (c == NULL)
        return SHMB_E_INVALID_ARG;
    return call_simple(c, request_new("ping", NULL));
}

/* A handle value that may be used (and closed) in this process. */
static int handle_ok(uint64_t h)
{
    return h != 0 && h <= 0xffffffffu && !cplat_handle_is_pseudo(h);
}

/* The reply's "doorbells" (absent: none), each a usable handle value. */
static int doorbells_from_reply(const shmb_reply *reply, shmb_region *out)
{
    const cJSON *arr, *e;
    double d;
    arr = cJSON_GetObjectItemCaseSensitive((const cJSON *)reply->result,
                                           "doorbells");
    if (arr == NULL)
        return 1;
    if (!cJSON_IsArray(arr))
        return 0;
    cJSON_ArrayForEach(e, arr)
    {
        if (out->ndoorbells >= SHMB_DOORBELLS_MAX || !cJSON_IsNumber(e))
            return 0;
        d = e->valuedouble;
        if (!(d >= 1 && d <= 4294967295.0) || d != (double)(uint64_t)d ||
            !handle_ok((uint64_t)d))
            return 0;
        out->doorbells[out->ndoorbells++] = (uint64_t)d;
    }
    return 1;
}

/* Closes every plausible handle a reply we will not use carried - but never
 * a value that is not a plausible handle of ours (a strict-handle-checking
 * process would die of it). */
static void reply_handles_close(const shmb_reply *reply)
{
    const cJSON *arr, *e;
    uint64_t h;
    int n = 0;
    if (shmb_reply_get_u64(reply, "handle", &h) == SHMB_OK && handle_ok(h))
        cplat_close_handle(h);
    if (reply->result == NULL)
        return;
    arr = cJSON_GetObjectItemCaseSensitive((const cJSON *)reply->result,
                                           "doorbells");
    if (!cJSON_IsArray(arr))
        return;
    cJSON_ArrayForEach(e, arr)
    {
        double d = cJSON_IsNumber(e) ? e->valuedouble : 0;
        if (n++ >= SHMB_DOORBELLS_MAX)
            break;
        if (d >= 1 && d <= 4294967295.0 && d == (double)(uint64_t)d &&
            handle_ok((uint64_t)d))
            cplat_close_handle((uint64_t)d);
    }
}

/* Fills `out` from a grant reply (create or open) for `want_name` with
 * `want_access` and, unless negative, `want_bells` doorbells: a reply about
 * anything else is a protocol error. */
static int region_from_reply(shmb_client *c, const shmb_reply *reply,
                             const char *want_name, shmb_access want_access,
                             int want_bells, shmb_region *out)
{
    const char *name = shmb_reply_get_str(reply, "name");
    const char *acc = shmb_reply_get_str(reply, "access");
    const char *life = shmb_reply_get_str(reply, "lifetime");
    int a = shmb_access_from_name(acc);
    int l = life && strcmp(life, "config") == 0 ? SHMB_LIFETIME_CONFIG
                                                : shmb_lifetime_from_name(life);

    memset(out, 0, sizeof(*out));
    if (shmb_reply_get_u64(reply, "handle", &out->handle) != SHMB_OK ||
        shmb_reply_get_u64(reply, "size", &out->size) != SHMB_OK ||
        out->size == 0 || name == NULL || strcmp(name, want_name) != 0 ||
        a != (int)want_access || l < 0 || !handle_ok(out->handle) ||
        !doorbells_from_reply(reply, out) ||
        (want_bells >= 0 && out->ndoorbells != (uint32_t)want_bells)) {
        memset(out, 0, sizeof(*out));
        return set_msg(c, SHMB_E_PROTOCOL, "grant reply is not valid");
    }
    strcpy(out->name, name);
    out->access = (shmb_access)a;
    out->lifetime = (shmb_lifetime)l;
    return SHMB_OK;
}

static int grant_call(shmb_client *c, cJSON *req, const char *name,
                      shmb_access access, int bells, shmb_region *out)
{
    shmb_reply reply;
    int rc;
    if (req == NULL)
        return set_msg(c, SHMB_E_NOMEM, NULL);
    cplat_mutex_lock(c->lock);
    rc = roundtrip(c, req, &reply);
    cJSON_Delete(req);
    if (rc != SHMB_OK) {
        cplat_mutex_unlock(c->lock);
        return rc;
    }
    rc = region_from_reply(c, &reply, name, access, bells, out);
    if (rc != SHMB_OK) /* do not leak handles we will not use */
        reply_handles_close(&reply);
    shmb_reply_free(&reply);
    cplat_mutex_unlock(c->lock);
    return rc;
}

int shmb_region_create(shmb_client *c, const char *name, uint64_t size,
                       shmb_access access, shmb_lifetime lifetime,
                       shmb_region *out)
{
    return shmb_region_create_ex(c, name, size, access, lifetime, 0, out);
}

int shmb_region_create_ex(shmb_client *c, const char *name, uint64_t size,
                          shmb_access access, shmb_lifetime lifetime,
                          uint32_t doorbells, shmb_region *out)
{
    cJSON *req;
    if (c == NULL || name == NULL || out == NULL ||
        doorbells > SHMB_DOORBELLS_MAX ||
        (lifetime != SHMB_LIFETIME_CLIENT &&
         lifetime != SHMB_LIFETIME_PERSISTENT) ||
        (access != SHMB_ACCESS_RO && access != SHMB_ACCESS_RW))
        return SHMB_E_INVALID_ARG;
    req = request_new("create", name);
    if (req != NULL &&
        (!cJSON_AddNumberToObject(req, "size", (double)size) ||
         !cJSON_AddStringToObject(req, "access", shmb_access_name(access)) ||
         !cJSON_AddStringToObject(req, "lifetime",
                                  shmb_lifetime_name(lifetime)) ||
         /* Without doorbells the request stays what it always was. */
         (doorbells > 0 &&
          !cJSON_AddNumberToObject(req, "doorbells", (double)doorbells)))) {
        cJSON_Delete(req);
        req = NULL;
    }
    return grant_call(c, req, name, access, (int)doorbells, out);
}

int shmb_region_open(shmb_client *c, const char *name, shmb_access access,
                     shmb_region *out)
{
    cJSON *req;
    if (c == NULL || name == NULL || out == NULL ||
        (access != SHMB_ACCESS_RO && access != SHMB_ACCESS_RW))
        return SHMB_E_INVALID_ARG;
    req = request_new("open", name);
    if (req != NULL &&
        !cJSON_AddStringToObject(req, "access", shmb_access_name(access))) {
        cJSON_Delete(req);
        req = NULL;
    }
    return grant_call(c, req, name, access, -1, out);
}

int shmb_region_release(shmb_client *c, const char *name)
{
    if (c == NULL || name == NULL)
        return SHMB_E_INVALID_ARG;
    return call_simple(c, request_new("release", name));
}

int shmb_region_delete(shmb_client *c, const char *name)
{
    if (c == NULL || name == NULL)
        return SHMB_E_INVALID_ARG;
    return call_simple(c, request_new("delete", name));
}

int shmb_request_json(shmb_client *c, const char *request_json,
                      char **reply_json)
{
    cJSON *req;
    shmb_reply reply;
    int rc;

    if (c == NULL || request_json == NULL || reply_json == NULL)
        return SHMB_E_INVALID_ARG;
    *reply_json = NULL;
    req = cJSON_Parse(request_json);
    if (!cJSON_IsObject(req)) {
        cJSON_Delete(req);
        return set_msg(c, SHMB_E_INVALID_ARG, "request is not a JSON object");
    }
    cplat_mutex_lock(c->lock);
    rc = roundtrip(c, req, &reply);
    if (rc == SHMB_OK) {
        *reply_json = cJSON_PrintUnformatted((cJSON *)reply.root);
        shmb_reply_free(&reply);
        if (*reply_json == NULL)
            rc = SHMB_E_NOMEM;
    }
    cplat_mutex_unlock(c->lock);
    cJSON_Delete(req);
    return rc;
}

int shmb_region_map_as(shmb_region *r, shmb_access access)
{
    void *view = NULL;
    int rc;
    if (r == NULL || r->view != NULL ||
        (access != SHMB_ACCESS_RO && access != SHMB_ACCESS_RW))
        return SHMB_E_INVALID_ARG;
    r->syserr = 0;
    rc = cplat_map(r->handle, r->size, access, &view, &r->syserr);
    if (rc != SHMB_OK)
        return rc;
    r->view = view;
    r->view_access = access;
    return SHMB_OK;
}

int shmb_region_map(shmb_region *r)
{
    if (r == NULL)
        return SHMB_E_INVALID_ARG;
    return shmb_region_map_as(r, r->access);
}

void shmb_region_unmap(shmb_region *r)
{
    if (r == NULL || r->view == NULL)
        return;
    cplat_unmap(r->view);
    r->view = NULL;
    r->view_access = SHMB_ACCESS_NONE;
}

void shmb_region_close(shmb_region *r)
{
    if (r == NULL)
        return;
    shmb_region_unmap(r);
    if (r->handle != 0)
        cplat_close_handle(r->handle);
    r->handle = 0;
    while (r->ndoorbells > 0 && r->ndoorbells <= SHMB_DOORBELLS_MAX) {
        uint64_t h = r->doorbells[--r->ndoorbells];
        if (h != 0)
            cplat_close_handle(h);
        r->doorbells[r->ndoorbells] = 0;
    }
    r->ndoorbells = 0;
}

/* ---- Hand-off to a child process (shmb.h) ------------------------------ */

#define HANDOFF_TAG "shmb1"

static int handoff_fill(const shmb_region *r, shmb_access access, int inherit,
                        shmb_handoff *out)
{
    int n =
        snprintf(out->text, sizeof(out->text),
                 HANDOFF_TAG ":%s:%llu:0x%llx:%s:%s", shmb_access_name(access),
                 (unsigned long long)r->size, (unsigned long long)out->handle,
                 shmb_lifetime_name(r->lifetime), r->name);
    out->access = access;
    out->inheritable = inherit;
    /* Cannot happen for a valid region (the name is bounded); checked so
     * that a truncated text is never handed out. */
    return n > 0 && (size_t)n < sizeof(out->text) ? SHMB_OK
                                                  : SHMB_E_INVALID_ARG;
}

static int handoff_make(const shmb_region *r, shmb_access access, void *process,
                        shmb_handoff *out)
{
    int rc;
    if (out == NULL)
        return SHMB_E_INVALID_ARG;
    memset(out, 0, sizeof(*out));
    if (r == NULL || r->handle == 0 || r->size == 0 ||
        (access != SHMB_ACCESS_RO && access != SHMB_ACCESS_RW) ||
        (r->access != SHMB_ACCESS_RO && r->access != SHMB_ACCESS_RW) ||
        shmb_name_validate(r->name, NULL, 0) != SHMB_OK ||
        (unsigned)r->lifetime > SHMB_LIFETIME_CONFIG)
        return SHMB_E_INVALID_ARG;
    /* Never more than our own grant - checked before anything is
     * duplicated (the kernel would refuse as well: the section's empty
     * DACL allows no access beyond what a handle already has). */
    if (access == SHMB_ACCESS_RW && r->access != SHMB_ACCESS_RW)
        return SHMB_E_ACCESS_DENIED;
    rc = cplat_handoff_dup(r->handle, access, process, &out->handle,
                           &out->syserr);
    if (rc != SHMB_OK)
        return rc;
    rc = handoff_fill(r, access, process == NULL, out);
    if (rc != SHMB_OK) {
        if (process == NULL)
            cplat_close_handle(out->handle);
        else
            (void)cplat_handoff_revoke(out->handle, process, &out->syserr);
        out->handle = 0;
    }
    return rc;
}

int shmb_region_share_inheritable(const shmb_region *r, shmb_access access,
                                  shmb_handoff *out)
{
    return handoff_make(r, access, NULL, out);
}

int shmb_region_share_with_process(const shmb_region *r, shmb_access access,
                                   void *process, shmb_handoff *out)
{
    if (process == NULL) {
        if (out != NULL)
            memset(out, 0, sizeof(*out));
        return SHMB_E_INVALID_ARG;
    }
    return handoff_make(r, access, process, out);
}

void shmb_handoff_close(shmb_handoff *h)
{
    if (h == NULL || !h->inheritable || h->handle == 0)
        return;
    cplat_close_handle(h->handle);
    h->handle = 0;
}

int shmb_handoff_revoke(shmb_handoff *h, void *process)
{
    int rc;
    if (h == NULL || h->inheritable || h->handle == 0 || process == NULL)
        return SHMB_E_INVALID_ARG;
    rc = cplat_handoff_revoke(h->handle, process, &h->syserr);
    if (rc == SHMB_OK)
        h->handle = 0;
    return rc;
}

static int handoff_bad(char *why, size_t cap, const char *reason)
{
    if (why != NULL && cap > 0)
        snprintf(why, cap, "hand-off text refused: %s", reason);
    return SHMB_E_INVALID_ARG;
}

/* The next ':'-terminated field of *p, into buf (at most cap-1 chars). */
static int next_field(const char **p, char *buf, size_t cap)
{
    const char *colon = strchr(*p, ':');
    size_t n;
    if (colon == NULL)
        return 0;
    n = (size_t)(colon - *p);
    if (n == 0 || n >= cap)
        return 0;
    memcpy(buf, *p, n);
    buf[n] = '\0';
    *p = colon + 1;
    return 1;
}

/* Decimal, no sign, no leading zero, no overflow, 1..2^63. */
static int parse_size(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '0' || *s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v > ((uint64_t)1 << 63))
        return 0;
    *out = v;
    return 1;
}

/* "0x" and 1..8 lowercase hex digits, no leading zero. */
static int parse_handle(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;
    if (s[0] != '0' || s[1] != 'x' || s[2] == '0')
        return 0;
    for (s += 2; *s != '\0'; s++, n++) {
        int d = *s >= '0' && *s <= '9'   ? *s - '0'
                : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
                                         : -1;
        if (d < 0 || n == 8)
            return 0;
        v = (v << 4) | (uint64_t)d;
    }
    if (n == 0)
        return 0;
    *out = v;
    return 1;
}

int shmb_region_from_handoff(const char *text, shmb_region *out, char *why,
                             size_t whycap)
{
    char field[32], msg[SHMB_MSG_MAX + 1];
    const char *p = text;
    int acc, life;
    uint64_t size = 0, handle = 0;

    if (why != NULL && whycap > 0)
        why[0] = '\0';
    if (out == NULL)
        return SHMB_E_INVALID_ARG;
    memset(out, 0, sizeof(*out));
    if (text == NULL)
        return handoff_bad(why, whycap, "no text");
    if (strlen(text) >= SHMB_HANDOFF_TEXT_MAX)
        return handoff_bad(why, whycap, "longer than SHMB_HANDOFF_TEXT_MAX");
    if (!next_field(&p, field, sizeof(field)) ||
        strcmp(field, HANDOFF_TAG) != 0)
        return handoff_bad(why, whycap,
                           "does not start with the version tag \"" HANDOFF_TAG
                           ":\"");
    if (!next_field(&p, field, sizeof(field)) ||
        ((acc = shmb_access_from_name(field)) != SHMB_ACCESS_RO &&
         acc != SHMB_ACCESS_RW))
        return handoff_bad(why, whycap, "access is not \"ro\" or \"rw\"");
    if (!next_field(&p, field, sizeof(field)) || !parse_size(field, &size))
        return handoff_bad(why, whycap, "size is not a decimal number > 0");
    if (!next_field(&p, field, sizeof(field)) || !parse_handle(field, &handle))
        return handoff_bad(why, whycap,
                           "handle is not 0x and 1 to 8 lowercase hex digits");
    if ((handle & 3) != 0 || cplat_handle_is_pseudo(handle))
        return handoff_bad(why, whycap, "handle is not a handle value");
    if (!next_field(&p, field, sizeof(field)) ||
        ((life = shmb_lifetime_from_name(field)) < 0 &&
         strcmp(field, shmb_lifetime_name(SHMB_LIFETIME_CONFIG)) != 0))
        return handoff_bad(why, whycap, "lifetime is not valid");
    if (life < 0)
        life = SHMB_LIFETIME_CONFIG; /* config regions are handed off too */
    if (shmb_name_validate(p, msg, sizeof(msg)) != SHMB_OK)
        return handoff_bad(why, whycap, msg);
    /* The text may be right and still name nothing here (the parent did
     * not put the handle in our handle list, or another process's text). */
    if (!cplat_handle_is_open(handle))
        return handoff_bad(why, whycap,
                           "its handle is not open in this process (was it "
                           "inherited or duplicated into this process?)");
    /* An open handle may still be something else (a stale or mistyped
     * text): only a section of that size is taken, and it goes no further
     * down the process tree. */
    if (cplat_handoff_accept(handle, size, msg, sizeof(msg)) != SHMB_OK)
        return handoff_bad(why, whycap, msg);
    strcpy(out->name, p);
    out->size = size;
    out->access = (shmb_access)acc;
    out->lifetime = (shmb_lifetime)life;
    out->handle = handle;
    return SHMB_OK;
}
