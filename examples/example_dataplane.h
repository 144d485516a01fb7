/* SPDX-License-Identifier: MPL-2.0 */
/*
 * example_dataplane.h - what the data-plane examples share: the record the
 * ring producer sends, the value the telemetry writer publishes, a
 * checksum, connecting, and "~/NAME" for the caller's own namespace.
 */
#ifndef EXAMPLE_DATAPLANE_H
#define EXAMPLE_DATAPLANE_H

#include <windows.h>

#include <sddl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmb.h"
#include "shmb_dataplane.h"

/* One ring message: a header, then `len` payload bytes. A zero-length
 * record ends the stream. */
typedef struct example_record {
    uint64_t seq;      /* 0, 1, 2, ... */
    uint32_t len;      /* payload bytes after this header */
    uint32_t checksum; /* example_fnv1a of the payload */
} example_record;

/* The telemetry value: the latest one is all a reader wants. */
typedef struct example_telemetry {
    uint64_t sample; /* 1, 2, 3, ... */
    uint32_t writer_pid;
    uint32_t last; /* 1 in the writer's final sample */
    double load[4];
    uint32_t checksum; /* example_fnv1a of everything before it */
    uint32_t pad;
} example_telemetry;

static inline uint32_t example_fnv1a(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint32_t h = 2166136261u;
    while (n-- > 0)
        h = (h ^ *b++) * 16777619u;
    return h;
}

/* Connects as `who`; prints the broker's reason and returns NULL if not. */
static inline shmb_client *example_connect(const char *who)
{
    shmb_connect_options opts;
    shmb_client *c = NULL;
    int rc;

    memset(&opts, 0, sizeof(opts));
    opts.pipe_name = getenv("SHMB_PIPE");
    opts.client_name = who;
    rc = shmb_connect(&opts, &c);
    if (rc != SHMB_OK) {
        fprintf(stderr, "%s: connect: %s: %s\n", who, shmb_err_name(rc),
                shmb_client_message(c));
        shmb_disconnect(c);
        return NULL;
    }
    return c;
}

/* "~/rest" becomes "users/<our user SID>/rest": the namespace the default
 * policy gives every user (docs/configuration.md, Principals). Any other
 * name is used as it is. */
static inline const char *example_region_name(const char *arg, char *out,
                                              size_t cap)
{
    HANDLE tok = NULL;
    union {
        TOKEN_USER user;
        unsigned char buf[256];
    } u;
    DWORD n = 0;
    char *sid = NULL;

    if (strncmp(arg, "~/", 2) != 0)
        return arg;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok) ||
        !GetTokenInformation(tok, TokenUser, &u, sizeof(u), &n) ||
        !ConvertSidToStringSidA(u.user.User.Sid, &sid)) {
        if (tok != NULL)
            CloseHandle(tok);
        return arg;
    }
    snprintf(out, cap, "users/%s/%s", sid, arg + 2);
    LocalFree(sid);
    CloseHandle(tok);
    return out;
}

#endif
