/* SPDX-License-Identifier: MPL-2.0 */
/*
 * proto_reply.c - builds every reply the service sends (docs/protocol.md),
 * from the plain structs of shmb_proto.h. Nothing else writes reply JSON,
 * so the key order and the number format that clients see are decided in
 * this one file. Numbers travel as JSON numbers (integers up to 2^53, as
 * the protocol says); cJSON prints integral values without a fraction.
 */
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "shmb_proto.h"

static int add_num(cJSON *o, const char *key, double v)
{
    return cJSON_AddNumberToObject(o, key, v) != NULL;
}

static int add_str(cJSON *o, const char *key, const char *v)
{
    return cJSON_AddStringToObject(o, key, v) != NULL;
}

static int add_bool(cJSON *o, const char *key, int v)
{
    return cJSON_AddBoolToObject(o, key, v != 0) != NULL;
}

static int add_region(cJSON *o, const shmb_region_info *r)
{
    return add_str(o, "name", r->name) && add_num(o, "size", (double)r->size) &&
           add_str(o, "lifetime", shmb_lifetime_name(r->lifetime));
}

/* Wraps `res` as {"id":id,"result":res} and prints it. Takes `res`; `ok`
 * says whether filling it succeeded (a half-built reply is never sent). */
static char *result_reply(uint32_t id, cJSON *res, int ok)
{
    cJSON *root = NULL;
    char *out = NULL;

    if (res == NULL || !ok)
        goto cleanup;
    root = cJSON_CreateObject();
    if (root == NULL || !add_num(root, "id", (double)id))
        goto cleanup;
    if (!cJSON_AddItemToObject(root, "result", res))
        goto cleanup;
    res = NULL;
    out = cJSON_PrintUnformatted(root);
cleanup:
    cJSON_Delete(res);
    cJSON_Delete(root);
    return out;
}

char *shmb_reply_hello(uint32_t id, const shmb_hello_result *h)
{
    cJSON *res = cJSON_CreateObject();
    int ok = res != NULL && add_num(res, "version", (double)h->version) &&
             add_str(res, "server", h->server) &&
             add_num(res, "max_frame", (double)h->max_frame) &&
             add_num(res, "max_region_size", (double)h->max_region_size) &&
             add_num(res, "granularity", (double)h->granularity) &&
             add_num(res, "client_id", (double)h->client_id);
    return result_reply(id, res, ok);
}

char *shmb_reply_ping(uint32_t id)
{
    cJSON *res = cJSON_CreateObject();
    int ok = res != NULL && add_bool(res, "pong", 1);
    return result_reply(id, res, ok);
}

char *shmb_reply_grant(uint32_t id, const shmb_grant_result *g)
{
    cJSON *res = cJSON_CreateObject();
    int ok = res != NULL && add_region(res, &g->region) &&
             add_str(res, "access", shmb_access_name(g->access)) &&
             add_num(res, "handle", (double)g->handle);
    return result_reply(id, res, ok);
}

char *shmb_reply_release(uint32_t id, const char *name)
{
    cJSON *res = cJSON_CreateObject();
    int ok = res != NULL && add_str(res, "name", name);
    return result_reply(id, res, ok);
}

char *shmb_reply_delete(uint32_t id, const shmb_delete_result *d)
{
    cJSON *res = cJSON_CreateObject();
    int ok = res != NULL && add_str(res, "name", d->name) &&
             add_num(res, "holders", (double)d->holders);
    return result_reply(id, res, ok);
}

char *shmb_reply_stat(uint32_t id, const shmb_stat_result *s)
{
    cJSON *res = cJSON_CreateObject();
    int ok = res != NULL && add_region(res, &s->region) &&
             add_num(res, "charge", (double)s->charge) &&
             add_num(res, "holders", (double)s->holders) &&
             add_num(res, "your_grants", (double)s->your_grants) &&
             add_bool(res, "owner", s->owner);
    return result_reply(id, res, ok);
}

char *shmb_reply_list(uint32_t id, const shmb_list_entry *entries, size_t n,
                      int truncated)
{
    cJSON *res = cJSON_CreateObject();
    cJSON *arr = res != NULL ? cJSON_AddArrayToObject(res, "regions") : NULL;
    int ok = arr != NULL;
    size_t i;

    for (i = 0; ok && i < n; i++) {
        const shmb_list_entry *e = &entries[i];
        cJSON *o = cJSON_CreateObject();
        ok = o != NULL && add_region(o, &e->region) &&
             add_num(o, "holders", (double)e->holders) &&
             add_bool(o, "held", e->held) && cJSON_AddItemToArray(arr, o);
        if (!ok)
            cJSON_Delete(o);
    }
    ok = ok && add_bool(res, "truncated", truncated);
    return result_reply(id, res, ok);
}

char *shmb_reply_error(int has_id, uint32_t id, int code, const char *message)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *err = cJSON_CreateObject();
    char *out = NULL;

    if (root == NULL || err == NULL)
        goto cleanup;
    if (!(has_id ? cJSON_AddNumberToObject(root, "id", (double)id)
                 : cJSON_AddNullToObject(root, "id")))
        goto cleanup;
    if (!cJSON_AddStringToObject(err, "code", shmb_err_name(code)) ||
        !cJSON_AddStringToObject(err, "message",
                                 message && *message ? message
                                                     : shmb_strerror(code)))
        goto cleanup;
    cJSON_AddItemToObject(root, "error", err);
    err = NULL;
    out = cJSON_PrintUnformatted(root);
cleanup:
    cJSON_Delete(err);
    cJSON_Delete(root);
    return out;
}
