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
 * rule or limit refused, and why).
 *
 * Threads: a shmb_client may be used by several threads at once; each
 * request and its reply run under the client's own lock, so calls on one
 * client are serialized (one request in flight per connection). For
 * parallel requests use one client per thread. shmb_client_message() and
 * shmb_client_syserr() describe the last failed call made on the client by
 * any thread: read them from the thread that made the call only when no
 * other thread uses the client meanwhile. shmb_disconnect() must not run
 * while another thread is still in a call on the same client. shmb_connect()
 * may run in any number of threads at once. A shmb_region belongs to the
 * caller and is not locked: share one between threads only read-only (its
 * view may of course be used by any thread).
 *
 * Service restarts: see "Reconnect" below shmb_connect().
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
    uint32_t flags;           /* SHMB_CONNECT_* below; 0 for the defaults */
} shmb_connect_options;

/* shmb_connect_options.flags: do not reconnect after the broker went away
 * (a call then fails with SHMB_E_IO, and every later one with SHMB_E_IO
 * "the connection is closed", as before reconnecting existed). */
#define SHMB_CONNECT_NO_RECONNECT 0x1u

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
    /* The region's doorbells: event handle values in this process (a
     * read-write grant may signal and wait; a read-only grant may only
     * wait). Closed by shmb_region_close. */
    uint32_t ndoorbells;
    uint64_t doorbells[8];
} shmb_region;

/* Connects to the broker and performs the version handshake. On failure
 * *out is still set (unless out is NULL or memory ran out) so that
 * shmb_client_message() can say why; such a client is unusable (it never
 * reconnects) and must be freed with shmb_disconnect(). */
SHMB_API int shmb_connect(const shmb_connect_options *opts, shmb_client **out);
SHMB_API void shmb_disconnect(shmb_client *c);

/*
 * Reconnect. When the broker goes away under a connected client (the
 * service stopped or restarted: the pipe breaks, or a read finds it
 * closed), the call that notices it reconnects once - the same pipe, the
 * same server verification as shmb_connect() (shmb_server_trust), a new
 * hello. A request that changes nothing (ping, open, stat, list, stats)
 * is then sent again and returns its normal result; one that does (create,
 * release, delete) is not: the call returns SHMB_E_IO, with a message that
 * the broker went away during it and whether it took effect is unknown
 * (look with stat), on a connection that is usable again. A call made while
 * the connection is already known to be lost first reconnects the same way
 * and then sends its request normally. If reconnecting fails, the call
 * returns SHMB_E_CONNECT or SHMB_E_SERVER_UNTRUSTED (or the error of the
 * new hello; the message says the broker went away and why reconnecting
 * failed) and the next call tries again.
 *
 * Never reconnected: after a reply timeout (the broker may still act on the
 * request: SHMB_E_IO, connection closed), after a malformed or mismatched
 * reply (SHMB_E_PROTOCOL), with SHMB_CONNECT_NO_RECONNECT, and for a client
 * whose shmb_connect() failed. Then every later call fails with SHMB_E_IO
 * "the connection is closed".
 *
 * What a reconnect says: shmb_client_reconnects() counts them; compare it
 * before and after a call (the call's own result is unchanged). Nothing is
 * re-created or re-requested behind the caller's back:
 *
 *   survives a restart             | does not survive
 *   -------------------------------+---------------------------------------
 *   views already mapped           | the new broker knows none of this
 *   (shmb_region_map), and the     |   client's grants: release/delete of
 *   bytes in them                  |   an old name gets not_held/not_found
 *   section handles in             | `client` regions: freed when the old
 *   shmb_region.handle (map again  |   broker stopped (its holders' views
 *   at will), hand-offs made       |   and handles keep the memory alive,
 *   from them                      |   unreachable by name)
 *   this shmb_client (same object, | `persistent` regions: gone too (the
 *   new connection, new client_id) |   broker frees every region at stop)
 *                                  | `config` regions: made again by the
 *                                  |   new broker from its config - new,
 *                                  |   empty memory, except a Global\ named
 *                                  |   one still held open somewhere, which
 *                                  |   it adopts (same memory): open them
 *                                  |   again either way
 *
 * So after a reconnect, a program that needs its regions shared again
 * creates or opens them again itself (the old views are not the new
 * regions' memory).
 */
/* How many times this client reconnected since shmb_connect() (0 for
 * NULL). Thread-safe. */
SHMB_API uint32_t shmb_client_reconnects(const shmb_client *c);

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
/* Like shmb_region_create, with `doorbells` (0..8) events that belong to the
 * region; every grant on it carries them (shmb_region.doorbells). */
SHMB_API int shmb_region_create_ex(shmb_client *c, const char *name,
                                   uint64_t size, shmb_access access,
                                   shmb_lifetime lifetime, uint32_t doorbells,
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

/* ---- Hand-off to a child process --------------------------------------
 *
 * A granted region can be given to a child process that has no connection
 * to the broker (and may be unable to make one): the parent duplicates its
 * section handle for the child, with at most the access of its own grant,
 * and passes the child a short text (command line, environment, a pipe)
 * that shmb_region_from_handoff() turns back into a shmb_region to map.
 * Two ways to get the handle into the child:
 *
 *  - shmb_region_share_inheritable(): an inheritable duplicate in this
 *    process. Start the child with bInheritHandles TRUE and exactly that
 *    handle in PROC_THREAD_ATTRIBUTE_HANDLE_LIST (STARTUPINFOEX), so that
 *    nothing else leaks into it; the handle value is the same in the
 *    child. Then shmb_handoff_close() the parent's copy (also when the
 *    child could not be started).
 *  - shmb_region_share_with_process(): a duplicate made straight into a
 *    process the caller already has a handle to (with PROCESS_DUP_HANDLE;
 *    e.g. a child created suspended). The text names the handle value in
 *    that process. If the child never takes it, shmb_handoff_revoke()
 *    closes it there; otherwise it is the child's.
 *
 * The duplicate's access is exactly the grant's mask for `access` (read-
 * only: FILE_MAP_READ | SECTION_QUERY; read-write adds FILE_MAP_WRITE), not
 * a copy of the parent's handle rights: a read-only parent asking to hand
 * off SHMB_ACCESS_RW gets SHMB_E_ACCESS_DENIED before anything is
 * duplicated (and the kernel would refuse too). A child given read-only
 * cannot map for write: the kernel refuses (shmb_region_map_as(RW) fails
 * with SHMB_E_SYSTEM and the access-denied error in syserr).
 *
 * The text (at most SHMB_HANDOFF_TEXT_MAX bytes with its NUL) is
 *
 *   shmb1:<ro|rw>:<size>:0x<handle>:<client|persistent|config>:<name>
 *
 * e.g. "shmb1:ro:4096:0x1a4:client:video/frames": a version tag, the access
 * of the duplicate, the region size in decimal (no sign, no leading zero),
 * the handle value in the child in lowercase hex (1 to 8 digits, nonzero, a
 * multiple of 4), the region's lifetime, and the region name (the broker's
 * name rules). It holds no secret: the handle is only usable in the process
 * it was duplicated into.
 *
 * These calls need no shmb_client and are thread-safe; the handle and view
 * of a shmb_region from shmb_region_from_handoff() belong to the child like
 * those of a grant (shmb_region_close() unmaps and closes).
 */
#define SHMB_HANDOFF_TEXT_MAX 192

typedef struct shmb_handoff {
    uint64_t handle; /* the duplicate: in this process (inheritable) or in
                        the target process */
    shmb_access access;
    int inheritable; /* 1: made by shmb_region_share_inheritable */
    uint32_t syserr; /* OS error of a failed call, or 0 */
    char text[SHMB_HANDOFF_TEXT_MAX]; /* for shmb_region_from_handoff */
} shmb_handoff;

/* Makes an inheritable duplicate of r's section handle with `access`
 * (SHMB_ACCESS_RO or SHMB_ACCESS_RW, at most r->access) and fills `out`.
 * Errors: SHMB_E_INVALID_ARG (NULL, no handle in r, bad access),
 * SHMB_E_ACCESS_DENIED (more than the grant; nothing duplicated),
 * SHMB_E_SYSTEM (the system refused the duplicate; out->syserr: e.g.
 * access denied when the handle itself has less than `access`). */
SHMB_API int shmb_region_share_inheritable(const shmb_region *r,
                                           shmb_access access,
                                           shmb_handoff *out);
/* Duplicates r's section handle with `access` (as above) into `process`
 * (a process handle with PROCESS_DUP_HANDLE access; never inheritable there)
 * and fills `out` with the value in that process. Same errors as above. */
SHMB_API int shmb_region_share_with_process(const shmb_region *r,
                                            shmb_access access, void *process,
                                            shmb_handoff *out);
/* Closes the parent's inheritable copy (after CreateProcess, whether it
 * succeeded or not). Does nothing for a shmb_region_share_with_process
 * hand-off or a closed one. */
SHMB_API void shmb_handoff_close(shmb_handoff *h);
/* Closes a shmb_region_share_with_process duplicate inside `process` (the
 * child never took it). Returns SHMB_OK, SHMB_E_INVALID_ARG, or
 * SHMB_E_SYSTEM with h->syserr. */
SHMB_API int shmb_handoff_revoke(shmb_handoff *h, void *process);
/* In the child: parses a hand-off text strictly (see the format above) and
 * fills `out` (handle, size, access, lifetime, name; no view yet: map with
 * shmb_region_map). Checks that the handle is open in this process.
 * Errors: SHMB_E_INVALID_ARG for a malformed text or a handle that is not
 * open here, with the reason in `why` (may be NULL; whycap bytes). */
SHMB_API int shmb_region_from_handoff(const char *text, shmb_region *out,
                                      char *why, size_t whycap);

#ifdef __cplusplus
}
#endif

#endif
