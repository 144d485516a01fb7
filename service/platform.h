/* SPDX-License-Identifier: MPL-2.0 */
/*
 * platform.h - everything the portable service asks of the operating
 * system, and nothing else. The portable files (service.c, server.c,
 * broker*.c) call these; a backend implements them. Windows: section_win.c
 * (sections and grants), listener_win.c and peer_win.c (the control pipe and
 * who is on it), trust_win.c (files only administrators control), log_win.c
 * (log file and Event Log), scm_win.c (status for the service control
 * manager); main_win.c is the program's entry point and drives service.h.
 * A POSIX backend (memfd + seals, a Unix socket with SO_PEERCRED and
 * SCM_RIGHTS, systemd notify, syslog) writes the same calls in *_posix.c.
 *
 * Dependencies run one way. The platform's program entry (main_win.c)
 * drives service.h; beyond that, the platform calls back into portable code
 * through exactly one entry: the plat_accept_cb given to
 * plat_listener_start.
 */
#ifndef SHMB_PLATFORM_H
#define SHMB_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "shmb_conventions.h"
#include "shmb_identity.h"
#include "shmb_log.h"
#include "shmb_types.h"

/* ---- sections and grants -------------------------------------------- */

/* A pagefile-backed section owned by the broker. */
typedef struct plat_section plat_section;
/* The connected client's process, as the platform identified it. */
typedef struct plat_peer plat_peer;

/* What one grant put into the peer's process: the section handle and one
 * handle per doorbell of the region. */
typedef struct plat_grant {
    uint64_t handle;
    uint32_t ndoorbells;
    uint64_t doorbells[SHMB_DOORBELLS_MAX];
} plat_grant;

/* Creates a section of `size` bytes, with `doorbells` (0..SHMB_DOORBELLS_MAX)
 * unnamed auto-reset events that belong to it and are closed with it. Unnamed
 * (global_name NULL): nobody can open it by name. Named (config regions only):
 * created under global_name with the SDDL's DACL and mandatory label;
 * SHMB_E_EXISTS if the name was already taken (never open someone else's
 * object). On SHMB_E_SYSTEM or SHMB_E_INVALID_ARG (bad SDDL), *syserr holds the
 * OS error. */
int plat_section_create(uint64_t size, uint32_t doorbells,
                        const char *global_name, const char *sddl,
                        plat_section **out, uint32_t *syserr);

/* Gives up the broker's own reference to the section. */
void plat_section_close(plat_section *section);

/* Puts a handle to `section` into the peer's process with exactly the
 * rights of `access` (never more, never inheritable), and one to each of
 * its doorbells (read-write: EVENT_MODIFY_STATE | SYNCHRONIZE; read-only:
 * SYNCHRONIZE, wait only), and returns their values there. On failure
 * nothing is left in the peer. Remembers the peer's process as a grantee
 * (plat_section_in_use). */
int plat_section_grant(plat_section *section, plat_peer *peer,
                       shmb_access access, plat_grant *out, uint32_t *syserr);

/* Closes, inside the peer's process, every handle of a grant whose reply
 * could not be delivered, so none leaks there. */
void plat_grant_revoke(plat_peer *peer, const plat_grant *grant);

/* 1 while the section's memory may still be in use outside the broker:
 * another handle to it exists, or a process it was granted to is still
 * alive (a process can keep a view after closing its handle, and nothing
 * outside it can tell). Commit stays charged until this returns 0. */
int plat_section_in_use(plat_section *section);

/* Says that plat_section_in_use will never be asked about `section` (a
 * config region lives until the service stops and its charge is never
 * returned), so the platform need not remember who it was granted to.
 * Added in issue 8 (item 5): without it every grantee's process handle was
 * kept for the service's lifetime. */
void plat_section_untrack(plat_section *section);

/* How many process handles the platform holds, over every section it has
 * not closed (draining ones included), to tell when grantees have exited
 * (plat_section_in_use). Shown by the "stats" op (issue 9, item 5): it
 * must come back down as grantees exit and regions go, and a leak check
 * reads it. */
size_t plat_grantee_handles(void);

/* Commit is charged in units of this many bytes. */
uint64_t plat_commit_granularity(void);

/* ---- the control channel -------------------------------------------- */

/* One connection the listener accepted and identified. */
typedef struct plat_accepted {
    /* The connected byte stream as a descriptor for uv_pipe_open; the
     * receiver owns it (plat_stream_close if it cannot be opened). */
    uv_file fd;
    /* SHMB_OK when the peer was identified; else why says why not and the
     * connection only gets that refusal. */
    int rc;
    char why[160];
    /* NULL unless rc == SHMB_OK. The receiver takes it by setting it to
     * NULL; the platform frees what is left here after the call. */
    plat_peer *peer;
    shmb_identity *id; /* from the kernel; the receiver may move its parts */
} plat_accepted;

/* Called on the loop thread once per accepted connection, and never after
 * plat_listener_stop has returned. */
typedef void (*plat_accept_cb)(void *ctx, plat_accepted *a);

typedef struct plat_listener plat_listener;

/* Creates the control channel `name` with security descriptor `sddl`,
 * refusing a name someone else already holds, and starts accepting: each
 * connection is identified off the loop and handed to `cb` on `loop`. On
 * failure says why (the service must then refuse to start). A write to a
 * stream whose client is gone must fail with an error, never raise a
 * signal (a POSIX backend ignores SIGPIPE or uses MSG_NOSIGNAL): clients
 * hang up whenever they like. */
int plat_listener_start(uv_loop_t *loop, const char *name, const char *sddl,
                        const shmb_logger *log, plat_accept_cb cb, void *ctx,
                        plat_listener **out, char *why, size_t whycap);

/* Stops accepting; connections accepted but not yet handed over are
 * closed. Call on the loop thread; frees the listener once its loop
 * handles are closed. */
void plat_listener_stop(plat_listener *l);

/* Closes an accepted stream that could not be opened with uv_pipe_open. */
void plat_stream_close(uv_file fd);

/* Lets go of a peer (its process handle). NULL is ignored. */
void plat_peer_free(plat_peer *peer);

/* 1 while the process `pid` created at `created` (shmb_identity's
 * process_created, as the listener read it) is alive; 0 once it has exited
 * or another process has its pid. 1 when it cannot tell. The broker keeps a
 * retired region's commit charged while such a process may hold a view. */
int plat_process_alive(uint32_t pid, uint64_t created);

/* ---- names and files ---------------------------------------------------- */

/* What names look like on this system (control channel, global names,
 * principals, image paths) and the built-in defaults: the configuration is
 * parsed and judged by these. */
const shmb_conventions *plat_conventions(void);

/* Where the configuration lives when no --config is given. */
void plat_default_config_path(char *out, size_t cap);

/* Reads a whole file (at most `max` bytes) that only administrators can
 * have written: the file and its folder must be owned and writable only by
 * the system, administrators or the service's own account. Returns SHMB_OK
 * with a NUL-terminated malloc'd *text, SHMB_E_NOT_FOUND if there is no such
 * file, or another error with the reason in why. */
int plat_file_read_trusted(const char *path, size_t max, char **text,
                           size_t *len, char *why, size_t whycap);

/* ---- logging and the service manager --------------------------------- */

typedef struct plat_log plat_log;

/* Opens where log lines go: stderr when `console`, the file `path` (if not
 * NULL; appended, and only in a folder administrators control) and the
 * system event log under `service_name` when not `console`. On failure
 * says why, and has told the event log where there is one. */
int plat_log_open(const char *service_name, const char *path, int console,
                  plat_log **out, char *why, size_t whycap);

/* From the configuration (limits.log_max_bytes, log_keep): the log file
 * is rotated once it would pass max_bytes, keeping `keep` old files
 * (path.1 newest). Until called, the file is never rotated. */
void plat_log_rotation(plat_log *log, uint64_t max_bytes, unsigned keep);

/* A shmb_log_sink over plat_log_open's result; safe from any thread. */
void plat_log_write(void *log, shmb_log_level level, const char *line);

/* Flushes and closes what plat_log_open opened. NULL is ignored. */
void plat_log_close(plat_log *log);

/* The service's life as a service manager sees it. */
typedef enum plat_state {
    PLAT_STATE_STARTING,
    PLAT_STATE_RUNNING,
    PLAT_STATE_STOPPING,
    PLAT_STATE_STOPPED
} plat_state;

/* Exit code of PLAT_STATE_STOPPED when the configuration (or the log file)
 * could not be used; otherwise 0, or the negative shmb_err that made the
 * start fail. */
#define PLAT_EXIT_BAD_CONFIG 1

/* Tells the service manager (if one started us) where the service is.
 * Safe from any thread (a stop request reports STOPPING from the thread
 * that asked). */
void plat_report_state(plat_state state, int exit_code);

/* The service's own process id, for the log. */
uint32_t plat_self_pid(void);

#endif
