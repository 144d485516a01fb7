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

/* Left out when there are none, so that replies about regions without
 * doorbells stay what they were before doorbells existed. */
static int add_doorbells(cJSON *o, const shmb_grant_result *g)
{
    cJSON *arr;
    uint32_t i;
    if (g->ndoorbells == 0)
        return 1;
    arr = cJSON_AddArrayToObject(o, "doorbells");
    if (arr == NULL)
        return 0;
    for (i = 0; i < g->ndoorbells; i++) {
        cJSON *n = cJSON_CreateNumber((double)g->doorbells[i]);
        if (n == NULL || !cJSON_AddItemToArray(arr, n)) {
            cJSON_Delete(n);
            return 0;
        }
    }
    return 1;
}

char *shmb_reply_grant(uint32_t id, const shmb_grant_result *g)
{
    cJSON *res = cJSON_CreateObject();
    int ok = res != NULL && add_region(res, &g->region) &&
             add_str(res, "access", shmb_access_name(g->access)) &&
             add_num(res, "handle", (double)g->handle) && add_doorbells(res, g);
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

/* {"total":..,"limit":..} and friends: one object of named numbers. */
static cJSON *add_obj(cJSON *o, const char *key)
{
    return cJSON_AddObjectToObject(o, key);
}

static int add_usage(cJSON *arr, const shmb_stats_usage *u, int principal)
{
    cJSON *o = cJSON_CreateObject();
    int ok = o != NULL && add_str(o, "user", u->user);
    if (ok && principal)
        ok = (u->appcontainer[0]
                  ? add_str(o, "appcontainer", u->appcontainer)
                  : cJSON_AddNullToObject(o, "appcontainer") != NULL) &&
             add_str(o, "band", u->band);
    ok = ok && add_num(o, "clients", (double)u->clients) &&
         add_num(o, "clients_limit", (double)u->clients_limit) &&
         add_num(o, "regions", (double)u->regions) &&
         add_num(o, "regions_limit", (double)u->regions_limit) &&
         add_num(o, "commit", (double)u->commit) &&
         add_num(o, "commit_draining", (double)u->commit_draining) &&
         add_num(o, "commit_limit", (double)u->commit_limit) &&
         cJSON_AddItemToArray(arr, o);
    if (!ok)
        cJSON_Delete(o);
    return ok;
}

char *shmb_reply_stats(uint32_t id, const shmb_stats_result *s)
{
    cJSON *res = cJSON_CreateObject(), *o = NULL, *arr = NULL;
    int ok = res != NULL;
    size_t i;

    ok = ok && (o = add_obj(res, "connections")) != NULL &&
         add_num(o, "total", (double)s->connections) &&
         add_num(o, "limit", (double)s->max_clients);
    ok = ok && (o = add_obj(res, "regions")) != NULL &&
         add_num(o, "total", (double)s->regions) &&
         add_num(o, "client", (double)s->regions_client) &&
         add_num(o, "persistent", (double)s->regions_persistent) &&
         add_num(o, "config", (double)s->regions_config) &&
         add_num(o, "draining", (double)s->regions_draining) &&
         add_num(o, "limit", (double)s->max_regions);
    ok = ok && (o = add_obj(res, "commit")) != NULL &&
         add_num(o, "total", (double)s->commit) &&
         add_num(o, "draining", (double)s->commit_draining) &&
         add_num(o, "limit", (double)s->commit_limit);
    ok = ok && add_num(res, "grantee_handles", (double)s->grantee_handles);
    ok = ok && (o = add_obj(res, "server")) != NULL &&
         add_num(o, "connections", (double)s->server_connections) &&
         add_num(o, "paused", (double)s->server_paused) &&
         add_num(o, "yielded", (double)s->server_yielded) &&
         add_num(o, "writes", (double)s->server_writes) &&
         add_num(o, "frames", (double)s->server_frames);
    ok = ok && (arr = cJSON_AddArrayToObject(res, "principals")) != NULL;
    for (i = 0; ok && i < s->nprincipals; i++)
        ok = add_usage(arr, &s->principals[i], 1);
    ok = ok && (arr = cJSON_AddArrayToObject(res, "users")) != NULL;
    for (i = 0; ok && i < s->nusers; i++)
        ok = add_usage(arr, &s->users[i], 0);
    ok = ok && add_bool(res, "truncated", s->truncated);
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
