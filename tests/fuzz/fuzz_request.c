/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_request.c - libFuzzer target: one frame payload through the request
 * parser (common/proto.c over the strict JSON reader, common/json.c), as
 * the broker sees it before any policy.
 *
 * Invariants checked:
 *   - the parser returns SHMB_OK or one of the request errors
 *     docs/protocol.md lists, with a NUL-terminated message;
 *   - it agrees with the strict reader: a text that reader refuses for
 *     anything but a repeated key is bad_json, and an accepted request is
 *     text the reader accepts;
 *   - an accepted request is well-formed: a known op, a valid name for the
 *     ops that take one, printable client text, fields in range;
 *   - the error reply built from the outcome is one the client library
 *     reads back with the same id and code.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "shmb_json.h"
#include "shmb_proto.h"

static int request_error(int rc)
{
    return rc == SHMB_E_BAD_JSON || rc == SHMB_E_BAD_REQUEST ||
           rc == SHMB_E_UNKNOWN_OP || rc == SHMB_E_INVALID_NAME ||
           rc == SHMB_E_INVALID_SIZE || rc == SHMB_E_INTERNAL;
}

static void check_request(const shmb_request *req)
{
    char msg[SHMB_MSG_MAX + 1];
    const char *p;

    if (!req->has_id || (unsigned)req->op >= SHMB_OP_COUNT_)
        abort();
    switch (req->op) {
    case SHMB_OP_HELLO:
        for (p = req->client; *p != '\0'; p++)
            if (*p < 0x20 || *p >= 0x7f)
                abort(); /* client text goes into logs as is */
        break;
    case SHMB_OP_CREATE:
        if (req->size < 1 || req->size > (uint64_t)SHMB_JSON_INT_MAX ||
            req->doorbells > SHMB_DOORBELLS_MAX)
            abort();
        /* fall through */
    case SHMB_OP_OPEN:
    case SHMB_OP_RELEASE:
    case SHMB_OP_DELETE:
    case SHMB_OP_STAT:
        if (strlen(req->name) > SHMB_NAME_MAX ||
            shmb_name_validate(req->name, msg, sizeof(msg)) != SHMB_OK)
            abort();
        break;
    default:
        break;
    }
    if ((req->access != SHMB_ACCESS_RO && req->access != SHMB_ACCESS_RW) ||
        (req->lifetime != SHMB_LIFETIME_CLIENT &&
         req->lifetime != SHMB_LIFETIME_PERSISTENT))
        abort();
}

/* The reply the broker would send; the client must read it back. */
static void check_error_reply(const shmb_request *req, int rc, const char *msg)
{
    shmb_reply rep;
    char *json = shmb_reply_error(req->has_id, req->id, rc, msg);

    if (json == NULL)
        abort();
    if (shmb_reply_parse((const uint8_t *)json, strlen(json), &rep) !=
            SHMB_OK ||
        rep.code != rc || rep.result != NULL || rep.id_null != !req->has_id ||
        (req->has_id && rep.id != req->id))
        abort();
    shmb_reply_free(&rep);
    free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    shmb_request req;
    shmb_json_error jerr;
    shmb_json_status st;
    cJSON *root = NULL;
    char msg[SHMB_MSG_MAX + 1];
    int rc;

    memset(msg, 'x', sizeof(msg));
    rc = shmb_request_parse(data, size, &req, msg, sizeof(msg));
    if (memchr(msg, '\0', sizeof(msg)) == NULL)
        abort();
    if (rc != SHMB_OK && !request_error(rc))
        abort();

    memset(&jerr, 0, sizeof(jerr));
    st = shmb_json_parse_object((const char *)data, size, &root, &jerr);
    if ((st == SHMB_JSON_OK) != (root != NULL))
        abort(); /* a tree exactly when the text was accepted */
    if (st != SHMB_JSON_OK && size > 0 && jerr.offset >= size)
        abort(); /* the error points inside the text */
    cJSON_Delete(root);
    if (rc == SHMB_OK && st != SHMB_JSON_OK)
        abort();
    if (st != SHMB_JSON_OK && st != SHMB_JSON_E_DUPLICATE &&
        st != SHMB_JSON_E_NOMEM && rc != SHMB_E_BAD_JSON)
        abort();

    if (rc == SHMB_OK)
        check_request(&req);
    else
        check_error_reply(&req, rc, msg);
    return 0;
}
