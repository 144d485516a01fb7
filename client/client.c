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

struct shmb_client {
    cplat_conn *conn;
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

/* Sends `req` (its "id" is set here) and reads the matching reply. */
static int roundtrip(shmb_client *c, cJSON *req, shmb_reply *reply)
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

/* Runs a request built in `req` (consumed) and frees the reply. */
static int call_simple(shmb_client *c, cJSON *req)
{
    shmb_reply reply;
    int rc;
    if (req == NULL)
        return set_msg(c, SHMB_E_NOMEM, NULL);
    rc = roundtrip(c, req, &reply);
    cJSON_Delete(req);
    if (rc == SHMB_OK)
        shmb_reply_free(&reply);
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
    rc = roundtrip(c, req, &reply);
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

int shmb_connect(const shmb_connect_options *opts, shmb_client **out)
{
    shmb_client *c;
    const char *pipe =
        opts && opts->pipe_name ? opts->pipe_name : SHMB_DEFAULT_PIPE;
    uint32_t timeout =
        opts && opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
    int rc;

    if (out == NULL)
        return SHMB_E_INVALID_ARG;
    *out = NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return SHMB_E_NOMEM;
    c->next_id = 1;
    c->max_frame = SHMB_FRAME_LIMIT_DEFAULT;
    rc = cplat_connect(pipe, timeout,
                       opts && opts->io_timeout_ms ? opts->io_timeout_ms
                                                   : DEFAULT_IO_TIMEOUT_MS,
                       &c->conn, &c->syserr);
    if (rc == SHMB_OK) {
        rc = cplat_verify_server(c->conn, trust_level(opts),
                                 opts && opts->service_name ? opts->service_name
                                                            : "shmbroker",
                                 c->message, sizeof(c->message), &c->syserr);
    }
    if (rc == SHMB_OK)
        rc = hello(c, opts ? opts->client_name : NULL);
    if (rc != SHMB_OK) {
        /* Keep the client so the caller can read why; it is unusable. */
        if (c->message[0] == '\0')
            set_msg(c, rc, NULL);
        cplat_close(c->conn);
        c->conn = NULL;
    }
    *out = c;
    return rc;
}

void shmb_disconnect(shmb_client *c)
{
    if (c == NULL)
        return;
    cplat_close(c->conn);
    free(c);
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

/* Fills `out` from a grant reply (create or open) for `want_name` with
 * `want_access`: a reply about anything else is a protocol error. */
static int region_from_reply(shmb_client *c, const shmb_reply *reply,
                             const char *want_name, shmb_access want_access,
                             shmb_region *out)
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
        a != (int)want_access || l < 0 || !handle_ok(out->handle))
        return set_msg(c, SHMB_E_PROTOCOL, "grant reply is not valid");
    strcpy(out->name, name);
    out->access = (shmb_access)a;
    out->lifetime = (shmb_lifetime)l;
    return SHMB_OK;
}

static int grant_call(shmb_client *c, cJSON *req, const char *name,
                      shmb_access access, shmb_region *out)
{
    shmb_reply reply;
    uint64_t h;
    int rc;
    if (req == NULL)
        return set_msg(c, SHMB_E_NOMEM, NULL);
    rc = roundtrip(c, req, &reply);
    cJSON_Delete(req);
    if (rc != SHMB_OK)
        return rc;
    rc = region_from_reply(c, &reply, name, access, out);
    /* Do not leak a handle we will not use - but never close a value that
     * is not a plausible handle of ours (a strict-handle-checking process
     * would die of it). */
    if (rc != SHMB_OK && shmb_reply_get_u64(&reply, "handle", &h) == SHMB_OK &&
        handle_ok(h))
        cplat_close_handle(h);
    shmb_reply_free(&reply);
    return rc;
}

int shmb_region_create(shmb_client *c, const char *name, uint64_t size,
                       shmb_access access, shmb_lifetime lifetime,
                       shmb_region *out)
{
    cJSON *req;
    if (c == NULL || name == NULL || out == NULL ||
        (lifetime != SHMB_LIFETIME_CLIENT &&
         lifetime != SHMB_LIFETIME_PERSISTENT) ||
        (access != SHMB_ACCESS_RO && access != SHMB_ACCESS_RW))
        return SHMB_E_INVALID_ARG;
    req = request_new("create", name);
    if (req != NULL &&
        (!cJSON_AddNumberToObject(req, "size", (double)size) ||
         !cJSON_AddStringToObject(req, "access", shmb_access_name(access)) ||
         !cJSON_AddStringToObject(req, "lifetime",
                                  shmb_lifetime_name(lifetime)))) {
        cJSON_Delete(req);
        req = NULL;
    }
    return grant_call(c, req, name, access, out);
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
    return grant_call(c, req, name, access, out);
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
    rc = roundtrip(c, req, &reply);
    cJSON_Delete(req);
    if (rc != SHMB_OK)
        return rc;
    *reply_json = cJSON_PrintUnformatted((cJSON *)reply.root);
    shmb_reply_free(&reply);
    return *reply_json != NULL ? SHMB_OK : SHMB_E_NOMEM;
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
}
