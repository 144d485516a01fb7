/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmb_proto.h - the JSON messages of protocol v1 (docs/protocol.md).
 *
 * Requests are parsed strictly: one JSON object read by the strict reader
 * (shmb_json.h), every field of the right type, unknown fields rejected. The
 * parser fills a plain struct so the broker never touches cJSON for input.
 */
#ifndef SHMB_PROTO_H
#define SHMB_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "shmb_types.h"

#define SHMB_PROTOCOL_VERSION 1
#define SHMB_NAME_MAX 128 /* bytes, excluding the terminator */
#define SHMB_CLIENT_NAME_MAX 64
#define SHMB_MSG_MAX 512 /* error message text, excluding NUL */
/* Sizes travel as JSON numbers; above 2^53 a double loses integers. */
#define SHMB_JSON_INT_MAX 9007199254740991.0

/* The operations: XX(suffix, wire name). Generates shmb_op and
 * shmb_op_name(); proto.c adds which fields each one takes. */
#define SHMB_OP_MAP(XX)                                                        \
    XX(HELLO, "hello")                                                         \
    XX(PING, "ping")                                                           \
    XX(CREATE, "create")                                                       \
    XX(OPEN, "open")                                                           \
    XX(RELEASE, "release")                                                     \
    XX(DELETE, "delete")                                                       \
    XX(LIST, "list")                                                           \
    XX(STAT, "stat")                                                           \
    XX(STATS, "stats")

typedef enum shmb_op {
#define SHMB_XX(suffix, name) SHMB_OP_##suffix,
    SHMB_OP_MAP(SHMB_XX)
#undef SHMB_XX
        SHMB_OP_COUNT_
} shmb_op;

typedef struct shmb_request {
    int has_id;
    uint32_t id;
    shmb_op op;
    /* hello */
    uint32_t versions; /* bit v set when the client speaks version v (1..31) */
    char client[SHMB_CLIENT_NAME_MAX + 1];
    /* create, open, release, delete, stat */
    char name[SHMB_NAME_MAX + 1];
    uint64_t size;
    shmb_access access;
    shmb_lifetime lifetime;
    uint32_t doorbells; /* create: 0..SHMB_DOORBELLS_MAX */
} shmb_request;

/* The wire name ("create"); "unknown" if out of range. */
const char *shmb_op_name(shmb_op op);

/* Parses one request payload. On failure returns a shmb_err, writes a
 * message naming the offending field into msg, and still sets req->has_id /
 * req->id when the id could be read so the error reply can carry it. */
int shmb_request_parse(const uint8_t *payload, size_t len, shmb_request *req,
                       char *msg, size_t msgcap);

/* Region names: 1..SHMB_NAME_MAX bytes of [A-Za-z0-9._-/], starting with a
 * letter or digit, no "//", no "..", not ending in '/'. */
int shmb_name_validate(const char *name, char *msg, size_t msgcap);

/* Builds {"id":..,"error":{"code":..,"message":..}} (id null when absent).
 * Returns a malloc'd string or NULL. */
char *shmb_reply_error(int has_id, uint32_t id, int code, const char *message);

/* Client side: a parsed reply. `result` is owned by `root`. */
typedef struct shmb_reply {
    void *root;   /* cJSON *, freed by shmb_reply_free */
    void *result; /* cJSON * of "result", or NULL on error */
    uint32_t id;
    int id_null; /* the reply's id was null (or absent) */
    int code;    /* SHMB_OK or the error's code */
    char message[SHMB_MSG_MAX + 1];
} shmb_reply;

/* Parses a reply payload; returns SHMB_OK (whether the reply is a result or
 * an error - see reply->code) or SHMB_E_PROTOCOL if it is malformed. */
int shmb_reply_parse(const uint8_t *payload, size_t len, shmb_reply *reply);
void shmb_reply_free(shmb_reply *reply);

/* Reads an integer-valued number field of reply->result in [0, 2^53). */
int shmb_reply_get_u64(const shmb_reply *reply, const char *field,
                       uint64_t *out);
/* Returns a string field of reply->result, or NULL. */
const char *shmb_reply_get_str(const shmb_reply *reply, const char *field);

#endif

/* ---- Replies (common/proto_reply.c) --------------------------------------
 * Every reply the service sends is built by one family of functions, from
 * plain structs: the broker and the server never write JSON. Each returns
 * the frame payload, {"id":id,"result":{...}}, as malloc'd text, or NULL
 * when memory is exhausted. Key order and number format are part of the
 * protocol (docs/protocol.md shows them) and are fixed here. Error replies
 * come from shmb_reply_error above, which lives in proto_reply.c too. */
#ifndef SHMB_PROTO_REPLY_H
#define SHMB_PROTO_REPLY_H

/* The fields every reply about a region starts with. */
typedef struct shmb_region_info {
    char name[SHMB_NAME_MAX + 1];
    uint64_t size; /* bytes asked for at creation */
    shmb_lifetime lifetime;
} shmb_region_info;

typedef struct shmb_hello_result {
    uint32_t version;         /* the protocol version chosen */
    const char *server;       /* product and version: "shmbroker 0.1.0" */
    uint64_t max_frame;       /* limits.max_frame */
    uint64_t max_region_size; /* limits.max_region_size */
    uint64_t granularity;     /* commit is charged in these units */
    uint64_t client_id;       /* the connection's id in the service log */
} shmb_hello_result;

/* create and open: a handle duplicated into the caller. */
typedef struct shmb_grant_result {
    shmb_region_info region;
    shmb_access access;
    uint64_t handle; /* valid in the caller's process */
    /* The region's doorbells, valid in the caller's process; the key is
     * left out when there are none. */
    uint32_t ndoorbells;
    const uint64_t *doorbells;
} shmb_grant_result;

typedef struct shmb_delete_result {
    char name[SHMB_NAME_MAX + 1];
    uint32_t holders; /* connections that still hold grants on it */
} shmb_delete_result;

typedef struct shmb_stat_result {
    shmb_region_info region;
    uint64_t charge;      /* commit charged for it */
    uint32_t holders;     /* connections holding grants */
    uint32_t your_grants; /* grants the caller's connection holds */
    int owner;            /* the caller counts as its creator */
} shmb_stat_result;

typedef struct shmb_list_entry {
    shmb_region_info region;
    uint32_t holders;
    int held; /* the caller's connection holds a grant on it */
} shmb_list_entry;

/* stats: one principal's or one user's usage against its limits. */
typedef struct shmb_stats_usage {
    char user[SHMB_SID_MAX];
    char appcontainer[SHMB_SID_MAX]; /* principals: "" = none (null) */
    char band[16];                   /* principals: "untrusted", "low",
                                        "medium+"; users: "" (no key) */
    uint32_t clients;                /* open connections */
    uint32_t clients_limit;
    uint32_t regions; /* listed regions created */
    uint32_t regions_limit;
    uint64_t commit;          /* charged, draining included */
    uint64_t commit_draining; /* of which: retired, maybe still mapped */
    uint64_t commit_limit;
} shmb_stats_usage;

/* stats: the broker as a whole (docs/protocol.md, section 5.9). */
typedef struct shmb_stats_result {
    uint32_t connections, max_clients;
    uint32_t regions, regions_client, regions_persistent, regions_config;
    uint32_t regions_draining, max_regions;
    uint64_t commit, commit_draining, commit_limit;
    uint64_t grantee_handles;
    uint64_t server_connections, server_paused, server_yielded;
    uint64_t server_writes, server_frames;
    const shmb_stats_usage *principals; /* the principals entries */
    size_t nprincipals;
    const shmb_stats_usage *users; /* the users entries (band unused) */
    size_t nusers;
    int truncated; /* entries were left out to fit one frame */
} shmb_stats_result;

/* The longest a stats usage entry prints, and what the rest of a stats
 * reply can take at most: the broker fits its lists in max_frame. */
#define SHMB_STATS_ENTRY_MAX 700
#define SHMB_STATS_FIXED_MAX 640

char *shmb_reply_hello(uint32_t id, const shmb_hello_result *res);
char *shmb_reply_ping(uint32_t id);
char *shmb_reply_grant(uint32_t id, const shmb_grant_result *res);
char *shmb_reply_release(uint32_t id, const char *name);
char *shmb_reply_delete(uint32_t id, const shmb_delete_result *res);
char *shmb_reply_stat(uint32_t id, const shmb_stat_result *res);
char *shmb_reply_stats(uint32_t id, const shmb_stats_result *res);
/* `truncated`: more regions were visible than one frame can carry. */
char *shmb_reply_list(uint32_t id, const shmb_list_entry *entries, size_t n,
                      int truncated);

#endif /* SHMB_PROTO_REPLY_H */
