/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmb.h - client library for the shmbroker service.
 *
 *   shmb_client *c;
 *   shmb_region r;
 *   shmb_connect(NULL, &c);                                  // hello done
 *   shmb_region_create(c, "video/frames", 1 << 20, SHMB_ACCESS_RW,
 *                      SHMB_LIFETIME_CLIENT, &r);            // handle is ours
 *   shmb_region_map(&r);                                     // r.view
 *   ...
 *   shmb_region_close(&r);                                   // unmap + close
 *   shmb_disconnect(c);
 *
 * Every call returns SHMB_OK or a negative shmb_err; shmb_strerror() names
 * it and shmb_client_message() gives the broker's own explanation (which
 * rule or limit refused, and why). A client is not thread-safe: use one per
 * thread or serialize calls.
 */
#ifndef SHMB_H
#define SHMB_H

#include <stddef.h>
#include <stdint.h>

#include "shmb_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SHMB_API comes from shmb_types.h. */
#define SHMB_REGION_NAME_MAX 128

/* The control pipe a broker listens on unless its config names another,
 * and the one shmb_connect() uses when pipe_name is NULL. (The service
 * takes the same string from its platform conventions,
 * shmb_conventions_windows.default_pipe in common/conventions_win.c.) */
#define SHMB_DEFAULT_PIPE "\\\\.\\pipe\\shmbroker"

typedef struct shmb_client shmb_client;

/* How the client decides that the pipe's server is the real broker
 * (DESIGN.md rule 6), checked before a single byte is sent. */
typedef enum shmb_server_trust {
    SHMB_TRUST_DEFAULT = 0, /* $SHMB_SERVER_TRUST if set, else SYSTEM */
    /* The pipe object is owned by LocalSystem or by the service's own SID
     * (NT SERVICE\<service_name>): only the service (or an administrator)
     * can create such a pipe. The production setting. */
    SHMB_TRUST_SYSTEM = 1,
    /* The pipe's server process is the process the service control manager
     * runs for <service_name>, whatever account it uses. */
    SHMB_TRUST_SERVICE = 2,
    /* No check at all: a development override for a broker started with
     * --console. Never use it in production. */
    SHMB_TRUST_ANY = 3
} shmb_server_trust;

typedef struct shmb_connect_options {
    const char *pipe_name;    /* NULL: SHMB_DEFAULT_PIPE */
    uint32_t timeout_ms;      /* wait for a free pipe instance; 0: 5000 */
    const char *client_name;  /* optional, shown in the service log */
    shmb_server_trust trust;  /* see above */
    const char *service_name; /* NULL: "shmbroker" */
    uint32_t io_timeout_ms;   /* per reply; 0: 30000. SHMB_E_IO on expiry */
} shmb_connect_options;

/* A granted region. The handle belongs to this process; the struct is the
 * caller's. */
typedef struct shmb_region {
    char name[SHMB_REGION_NAME_MAX + 1];
    uint64_t size;
    shmb_access access; /* what the grant allows */
    shmb_lifetime lifetime;
    uint64_t handle; /* section handle value in this process */
    void *view;      /* set by shmb_region_map */
    shmb_access view_access;
    uint32_t syserr; /* OS error of the last failed map, or 0 */
} shmb_region;

/* Connects to the broker and performs the version handshake. */
SHMB_API int shmb_connect(const shmb_connect_options *opts, shmb_client **out);
SHMB_API void shmb_disconnect(shmb_client *c);

/* The broker's message for the last failed call (or a local reason). */
SHMB_API const char *shmb_client_message(const shmb_client *c);
/* The OS error behind the last SHMB_E_CONNECT / SHMB_E_IO, or 0. */
SHMB_API uint32_t shmb_client_syserr(const shmb_client *c);
/* Protocol version agreed in the handshake. */
SHMB_API int shmb_client_version(const shmb_client *c);

SHMB_API int shmb_ping(shmb_client *c);

/* Creates a region and grants it to this process with `access`. */
SHMB_API int shmb_region_create(shmb_client *c, const char *name, uint64_t size,
                                shmb_access access, shmb_lifetime lifetime,
                                shmb_region *out);
/* Asks for a grant on an existing region. */
SHMB_API int shmb_region_open(shmb_client *c, const char *name,
                              shmb_access access, shmb_region *out);
/* Tells the broker this client no longer holds `name` (a `client` region
 * goes away with its last holder). Mappings already made stay valid. */
SHMB_API int shmb_region_release(shmb_client *c, const char *name);
/* Deletes a region (its creator's user only). Holders keep their mappings. */
SHMB_API int shmb_region_delete(shmb_client *c, const char *name);

/* Maps the whole region with the access of the grant. */
SHMB_API int shmb_region_map(shmb_region *r);
/* Maps with `access`; asking for more than the grant fails in the kernel
 * (SHMB_E_SYSTEM, r->syserr = the system's access-denied error). */
SHMB_API int shmb_region_map_as(shmb_region *r, shmb_access access);
SHMB_API void shmb_region_unmap(shmb_region *r);
/* Unmaps and closes the handle. Does not tell the broker (see release). */
SHMB_API void shmb_region_close(shmb_region *r);

/* The library's version, "MAJOR.MINOR.PATCH" (the project's version). */
SHMB_API const char *shmb_version(void);

/* Asks the system's service manager to have the broker service
 * `service_name` (NULL: "shmbroker") re-read its configuration; the
 * service's log says whether the new file was taken. Needs the right to
 * control the service (an administrator). Returns SHMB_OK once the request
 * was delivered, else SHMB_E_SYSTEM (or SHMB_E_INVALID_ARG) with the OS
 * error in *syserr (may be NULL). On Windows the service control manager
 * sends the service SERVICE_CONTROL_PARAMCHANGE (client_win.c). */
SHMB_API int shmb_service_reload(const char *service_name, uint32_t *syserr);

/* Sends one request object (without "id"; the library adds it) and returns
 * the reply payload as text (free with shmb_free). For tools and tests. */
SHMB_API int shmb_request_json(shmb_client *c, const char *request_json,
                               char **reply_json);
SHMB_API void shmb_free(void *p);

#ifdef __cplusplus
}
#endif

#endif
