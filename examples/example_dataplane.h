/* SPDX-License-Identifier: MPL-2.0 */
/*
 * example_dataplane.h - what the data-plane examples share: the record the
 * ring producer sends, the value the telemetry writer publishes, a
 * checksum, "~/NAME" for the caller's own namespace, and a session (the
 * connection, the region and the waits on its doorbells) with the way a
 * reader opens a region the other process may not have made yet.
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

/* What each example holds while it runs. */
typedef struct example_session {
    const char *who; /* "ring producer", ...: prefixes every message */
    shmb_client *c;
    shmb_region r;
    shmb_wait_ops ops;       /* waits on and rings r's doorbells */
    shmb_doorbell_ctx bells; /* what ops points into */
    const char *name;        /* the region's name, "~/" resolved */
    char namebuf[SHMB_REGION_NAME_MAX + 1];
} example_session;

/* Resolves the region name `arg` and connects as `who`: 0, or -1 (the
 * reason printed). */
static inline int example_session_start(example_session *s, const char *who,
                                        const char *arg)
{
    memset(s, 0, sizeof(*s));
    s->who = who;
    s->name = example_region_name(arg, s->namebuf, sizeof(s->namebuf));
    s->c = example_connect(who);
    return s->c != NULL ? 0 : -1;
}

/* Closes the region (if any) and the connection. */
static inline void example_session_end(example_session *s)
{
    shmb_region_close(&s->r);
    shmb_disconnect(s->c);
    s->c = NULL;
}

/* Lays the ring or snapshot over s->r, mapped; SHMB_E_PEER_CORRUPT while
 * the other side has not formatted it yet. */
typedef int (*example_attach_fn)(example_session *s, void *what);

/* Opens s->name with `access` once the other process has created and
 * formatted it: retries for up to 30 s while the region is not there
 * (not_found) or not formatted yet (peer_corrupt). */
static inline int example_open_when_ready(example_session *s,
                                          shmb_access access,
                                          example_attach_fn attach, void *what)
{
    ULONGLONG deadline = GetTickCount64() + 30000;
    int rc;

    for (;;) {
        rc = shmb_region_open(s->c, s->name, access, &s->r);
        if (rc == SHMB_OK) {
            if ((rc = shmb_region_map(&s->r)) == SHMB_OK &&
                (rc = attach(s, what)) == SHMB_OK)
                return SHMB_OK;
            shmb_region_close(&s->r);
        }
        if ((rc != SHMB_E_NOT_FOUND && rc != SHMB_E_PEER_CORRUPT) ||
            GetTickCount64() > deadline) {
            fprintf(stderr, "%s: open '%s': %s: %s\n", s->who, s->name,
                    shmb_err_name(rc), shmb_client_message(s->c));
            return rc;
        }
        Sleep(50);
    }
}

#endif
