/* SPDX-License-Identifier: MPL-2.0 */
/*
 * errors.c - names and messages for shmb_err, access modes and lifetimes.
 * One table, indexed by -code, so the wire name and the message cannot drift.
 */
#include <string.h>

#include "shmb_types.h"

struct err_entry {
    const char *name;
    const char *message;
};

static const struct err_entry err_table[] = {
    {"ok", "success"},
    {"bad_frame", "frame length is zero or larger than the limit"},
    {"bad_json", "frame payload is not a single JSON object"},
    {"bad_request", "request has a missing, mistyped or unknown field"},
    {"unsupported_version", "no protocol version in common"},
    {"handshake_required", "the first request must be hello"},
    {"unknown_op", "unknown operation"},
    {"invalid_name", "region name is not valid"},
    {"invalid_size", "region size is not valid"},
    {"not_found", "no such region"},
    {"exists", "a region with that name already exists"},
    {"access_denied", "access denied by policy"},
    {"quota_exceeded", "commit quota exceeded"},
    {"limit_reached", "a configured limit was reached"},
    {"not_held", "the caller holds no grant on that region"},
    {"system_error", "the operating system refused the operation"},
    {"internal", "internal error in the broker"},
    {"connect_failed", "cannot connect to the broker"},
    {"io_error", "control pipe read or write failed"},
    {"protocol_error", "the broker sent a malformed reply"},
    {"server_untrusted", "the pipe server is not the broker service"},
    {"invalid_argument", "invalid argument"},
    {"out_of_memory", "out of memory"},
};

static const struct err_entry *err_lookup(int err)
{
    if (err > 0 || err < SHMB_ERR_MIN)
        return NULL;
    return &err_table[-err];
}

const char *shmb_strerror(int err)
{
    const struct err_entry *e = err_lookup(err);
    return e ? e->message : "unknown error";
}

const char *shmb_err_name(int err)
{
    const struct err_entry *e = err_lookup(err);
    return e ? e->name : "unknown";
}

int shmb_err_from_name(const char *name)
{
    int i;
    if (name == NULL)
        return SHMB_E_PROTOCOL;
    for (i = 0; i <= -SHMB_ERR_MIN; i++) {
        if (strcmp(err_table[i].name, name) == 0)
            return -i;
    }
    return SHMB_E_PROTOCOL;
}

const char *shmb_access_name(shmb_access a)
{
    switch (a) {
    case SHMB_ACCESS_RO:
        return "ro";
    case SHMB_ACCESS_RW:
        return "rw";
    default:
        return "none";
    }
}

int shmb_access_from_name(const char *s)
{
    if (s == NULL)
        return -1;
    if (strcmp(s, "ro") == 0)
        return SHMB_ACCESS_RO;
    if (strcmp(s, "rw") == 0)
        return SHMB_ACCESS_RW;
    return -1;
}

const char *shmb_lifetime_name(shmb_lifetime l)
{
    switch (l) {
    case SHMB_LIFETIME_CLIENT:
        return "client";
    case SHMB_LIFETIME_PERSISTENT:
        return "persistent";
    case SHMB_LIFETIME_CONFIG:
        return "config";
    default:
        return "unknown";
    }
}

int shmb_lifetime_from_name(const char *s)
{
    if (s == NULL)
        return -1;
    if (strcmp(s, "client") == 0)
        return SHMB_LIFETIME_CLIENT;
    if (strcmp(s, "persistent") == 0)
        return SHMB_LIFETIME_PERSISTENT;
    return -1; /* "config" is never requested by a client */
}
