/* SPDX-License-Identifier: MPL-2.0 */
/*
 * client_plat.h - what the client library needs from the OS: a byte stream
 * to the broker, a way to map a granted handle, and the service manager
 * (shmb_service_reload, declared in shmb.h). client_win.c implements it
 * for Windows.
 */
#ifndef SHMB_CLIENT_PLAT_H
#define SHMB_CLIENT_PLAT_H

#include <stddef.h>
#include <stdint.h>

#include "shmb_types.h"

typedef struct cplat_conn cplat_conn;

/* timeout_ms bounds waiting for a free instance; io_timeout_ms bounds
 * every later read or write (a stuck server cannot hang the client). */
int cplat_connect(const char *pipe_name, uint32_t timeout_ms,
                  uint32_t io_timeout_ms, cplat_conn **out, uint32_t *syserr);
/* Checks the server end of the pipe (see shmb_server_trust). Returns
 * SHMB_OK or SHMB_E_SERVER_UNTRUSTED with the reason in why. */
int cplat_verify_server(cplat_conn *c, int trust, const char *service_name,
                        char *why, size_t whycap, uint32_t *syserr);
/* Writes or reads exactly len bytes; SHMB_E_IO with the OS error in
 * *syserr on failure, including when io_timeout_ms expired. */
int cplat_write(cplat_conn *c, const void *buf, size_t len, uint32_t *syserr);
int cplat_read(cplat_conn *c, void *buf, size_t len, uint32_t *syserr);
/* 1 if a syserr from cplat_read/cplat_write means io_timeout_ms expired
 * (the broker did not answer in time) rather than a broken stream. */
int cplat_is_timeout(uint32_t syserr);
void cplat_close(cplat_conn *c);
/* The OS handle of the connection (the pipe handle), for the
 * benchmark's connect floor (bench/floor_client_win.c), which does the
 * kernel work of the server check without its verdict. */
void *cplat_os_handle(cplat_conn *c);

int cplat_map(uint64_t handle, uint64_t size, shmb_access access, void **view,
              uint32_t *syserr);
void cplat_unmap(void *view);
void cplat_close_handle(uint64_t handle);
/* 1 for values that are pseudo-handles (current process, thread, ...). */
int cplat_handle_is_pseudo(uint64_t handle);

/* A lock per shmb_client: one request/reply at a time on a connection. */
typedef struct cplat_mutex cplat_mutex;
cplat_mutex *cplat_mutex_new(void);
void cplat_mutex_lock(cplat_mutex *m);
void cplat_mutex_unlock(cplat_mutex *m);
void cplat_mutex_free(cplat_mutex *m);
/* 1 if a syserr from cplat_read/cplat_write means the other end is gone
 * (closed, broken, disconnected) - the broker stopped - rather than a
 * timeout or a local failure. */
int cplat_is_gone(uint32_t syserr);

/* Hand-off (shmb.h): duplicates `handle` with exactly the grant mask for
 * `access`, inheritable in this process (process == NULL) or into
 * `process` (never inheritable there). */
int cplat_handoff_dup(uint64_t handle, shmb_access access, void *process,
                      uint64_t *out, uint32_t *syserr);
/* Closes `handle` inside `process` (DUPLICATE_CLOSE_SOURCE). */
int cplat_handoff_revoke(uint64_t handle, void *process, uint32_t *syserr);
/* 1 if `handle` is an open handle in this process. */
int cplat_handle_is_open(uint64_t handle);
/* The service manager's state code for `service_name` and its process id
 * (0 when not running): SHMB_OK, or an error with the OS error in *syserr.
 * Serialized and retried as the service manager needs (client_win.c). */
int cplat_service_status(const char *service_name, uint32_t *state,
                         uint32_t *pid, uint32_t *syserr);
/* Takes a handed-off handle: SHMB_OK if it is a section handle of `size`
 * bytes (as the system rounds it), and then no longer inheritable; else an
 * error with the reason in why. */
int cplat_handoff_accept(uint64_t handle, uint64_t size, char *why,
                         size_t whycap);

#endif
