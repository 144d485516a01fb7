/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmb_types.h - the vocabulary shared by the wire protocol, the service, the
 * client library and shmbctl: error codes, access modes and lifetimes.
 *
 * Error codes are negative integers with a stable wire name ("not_found"),
 * so that an error that crossed the pipe is the same value a local failure
 * would return. The wire names are the contract; the numbers are stable too
 * but only matter inside one process.
 */
#ifndef SHMB_TYPES_H
#define SHMB_TYPES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exported from shmb.dll when building it; imported by its users. */
#ifndef SHMB_API
#if defined(_WIN32) && defined(SHMB_SHARED)
#if defined(SHMB_BUILDING)
#define SHMB_API __declspec(dllexport)
#else
#define SHMB_API __declspec(dllimport)
#endif
#else
#define SHMB_API
#endif
#endif

/* Bytes of a principal id (a SID's "S-1-..." text form), generous. */
#define SHMB_SID_MAX 192
/* Events a region may be created with (create's "doorbells"). */
#define SHMB_DOORBELLS_MAX 8

/* The error codes: XX(suffix, value, wire name, message). This one table
 * generates the enum and every name and message (common/errors.c), so a
 * code and its name cannot drift. Values and wire names are the contract
 * (docs/protocol.md): append, never renumber. */
#define SHMB_ERRNO_MAP(XX)                                                     \
    XX(OK, 0, "ok", "success")                                                 \
    XX(E_BAD_FRAME, -1, "bad_frame",                                           \
       "frame length is zero or larger than the limit")                        \
    XX(E_BAD_JSON, -2, "bad_json",                                             \
       "frame payload is not a single JSON object")                            \
    XX(E_BAD_REQUEST, -3, "bad_request",                                       \
       "request has a missing, mistyped or unknown field")                     \
    XX(E_UNSUPPORTED_VERSION, -4, "unsupported_version",                       \
       "no protocol version in common")                                        \
    XX(E_HANDSHAKE_REQUIRED, -5, "handshake_required",                         \
       "the first request must be hello")                                      \
    XX(E_UNKNOWN_OP, -6, "unknown_op", "unknown operation")                    \
    XX(E_INVALID_NAME, -7, "invalid_name", "region name is not valid")         \
    XX(E_INVALID_SIZE, -8, "invalid_size", "region size is not valid")         \
    XX(E_NOT_FOUND, -9, "not_found", "no such region")                         \
    XX(E_EXISTS, -10, "exists", "a region with that name already exists")      \
    XX(E_ACCESS_DENIED, -11, "access_denied", "access denied by policy")       \
    XX(E_QUOTA_EXCEEDED, -12, "quota_exceeded", "commit quota exceeded")       \
    XX(E_LIMIT_REACHED, -13, "limit_reached",                                  \
       "a configured limit was reached")                                       \
    XX(E_NOT_HELD, -14, "not_held",                                            \
       "the caller holds no grant on that region")                             \
    /* The OS refused; its error code goes along where there is one. */        \
    XX(E_SYSTEM, -15, "system_error",                                          \
       "the operating system refused the operation")                           \
    XX(E_INTERNAL, -16, "internal", "internal error in the broker")            \
    /* Raised by the client library only; never sent on the wire. */           \
    XX(E_CONNECT, -17, "connect_failed", "cannot connect to the broker")       \
    XX(E_IO, -18, "io_error", "control pipe read or write failed")             \
    XX(E_PROTOCOL, -19, "protocol_error", "the broker sent a malformed reply") \
    XX(E_SERVER_UNTRUSTED, -20, "server_untrusted",                            \
       "the pipe server is not the broker service")                            \
    XX(E_INVALID_ARG, -21, "invalid_argument", "invalid argument")             \
    XX(E_NOMEM, -22, "out_of_memory", "out of memory")                         \
    /* The data plane (shmb_dataplane.h): raised in the client only. */        \
    XX(E_PEER_CORRUPT, -23, "peer_corrupt",                                    \
       "the shared memory holds what no honest peer writes")                   \
    XX(E_TIMEOUT, -24, "timeout", "nothing arrived within the timeout")        \
    XX(E_BUSY, -25, "busy", "the value kept changing while it was read")

typedef enum shmb_err {
#define SHMB_XX(suffix, value, name, message) SHMB_##suffix = value,
    SHMB_ERRNO_MAP(SHMB_XX)
#undef SHMB_XX
} shmb_err;

/* The most negative code: the last row of SHMB_ERRNO_MAP. */
#define SHMB_ERR_MIN SHMB_E_BUSY

/* Access modes: XX(suffix, value, name, requestable). A client may ask
 * for the requestable ones only. */
#define SHMB_ACCESS_MAP(XX)                                                    \
    XX(NONE, 0, "none", 0)                                                     \
    XX(RO, 1, "ro", 1)                                                         \
    XX(RW, 2, "rw", 1)

typedef enum shmb_access {
#define SHMB_XX(suffix, value, name, requestable) SHMB_ACCESS_##suffix = value,
    SHMB_ACCESS_MAP(SHMB_XX)
#undef SHMB_XX
} shmb_access;

/* Lifetimes: XX(suffix, value, name, requestable). */
#define SHMB_LIFETIME_MAP(XX)                                                  \
    /* freed when its last holder disconnects */                               \
    XX(CLIENT, 0, "client", 1)                                                 \
    /* freed on delete or service stop */                                      \
    XX(PERSISTENT, 1, "persistent", 1)                                         \
    /* declared in the config; never deleted, never asked for */               \
    XX(CONFIG, 2, "config", 0)

typedef enum shmb_lifetime {
#define SHMB_XX(suffix, value, name, requestable)                              \
    SHMB_LIFETIME_##suffix = value,
    SHMB_LIFETIME_MAP(SHMB_XX)
#undef SHMB_XX
} shmb_lifetime;

/* Human-readable text for an error code; never NULL. */
SHMB_API const char *shmb_strerror(int err);
/* Stable wire name ("not_found"); never NULL ("unknown" if out of range). */
SHMB_API const char *shmb_err_name(int err);
/* Inverse of shmb_err_name; returns SHMB_E_PROTOCOL for unknown names. */
SHMB_API int shmb_err_from_name(const char *name);

/* "ro", "rw"; "none" for anything else. */
SHMB_API const char *shmb_access_name(shmb_access a);
/* The requestable modes only ("ro", "rw"); <0 if invalid. */
SHMB_API int shmb_access_from_name(const char *s);
/* "client", "persistent", "config"; "unknown" for anything else. */
SHMB_API const char *shmb_lifetime_name(shmb_lifetime l);
/* The requestable lifetimes only ("client", "persistent"); <0 if invalid. */
SHMB_API int shmb_lifetime_from_name(const char *s);

#ifdef __cplusplus
}
#endif

#endif
