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

/* The control pipe the service listens on unless configured otherwise. */
#define SHMB_DEFAULT_PIPE "\\\\.\\pipe\\shmbroker"

/* Keep in step with the table in common/errors.c and docs/protocol.md. */
typedef enum shmb_err {
    SHMB_OK = 0,
    SHMB_E_BAD_FRAME = -1,   /* frame length zero or above the limit */
    SHMB_E_BAD_JSON = -2,    /* payload is not one JSON object */
    SHMB_E_BAD_REQUEST = -3, /* missing, mistyped or unknown field */
    SHMB_E_UNSUPPORTED_VERSION = -4,
    SHMB_E_HANDSHAKE_REQUIRED = -5,
    SHMB_E_UNKNOWN_OP = -6,
    SHMB_E_INVALID_NAME = -7,
    SHMB_E_INVALID_SIZE = -8,
    SHMB_E_NOT_FOUND = -9,
    SHMB_E_EXISTS = -10,
    SHMB_E_ACCESS_DENIED = -11,
    SHMB_E_QUOTA_EXCEEDED = -12,
    SHMB_E_LIMIT_REACHED = -13,
    SHMB_E_NOT_HELD = -14,
    SHMB_E_SYSTEM = -15, /* the OS refused; a Win32 error goes along */
    SHMB_E_INTERNAL = -16,
    /* Raised by the client library only; never sent on the wire. */
    SHMB_E_CONNECT = -17,
    SHMB_E_IO = -18,
    SHMB_E_PROTOCOL = -19,
    SHMB_E_SERVER_UNTRUSTED = -20,
    SHMB_E_INVALID_ARG = -21,
    SHMB_E_NOMEM = -22
} shmb_err;

#define SHMB_ERR_MIN SHMB_E_NOMEM

typedef enum shmb_access {
    SHMB_ACCESS_NONE = 0,
    SHMB_ACCESS_RO = 1,
    SHMB_ACCESS_RW = 2
} shmb_access;

typedef enum shmb_lifetime {
    SHMB_LIFETIME_CLIENT = 0,     /* freed when its last holder disconnects */
    SHMB_LIFETIME_PERSISTENT = 1, /* freed on delete or service stop */
    SHMB_LIFETIME_CONFIG = 2      /* declared in the config; never deleted */
} shmb_lifetime;

/* Human-readable text for an error code; never NULL. */
SHMB_API const char *shmb_strerror(int err);
/* Stable wire name ("not_found"); never NULL ("unknown" if out of range). */
SHMB_API const char *shmb_err_name(int err);
/* Inverse of shmb_err_name; returns SHMB_E_PROTOCOL for unknown names. */
SHMB_API int shmb_err_from_name(const char *name);

SHMB_API const char *shmb_access_name(shmb_access a);     /* "ro", "rw" */
SHMB_API int shmb_access_from_name(const char *s);        /* <0 if invalid */
SHMB_API const char *shmb_lifetime_name(shmb_lifetime l); /* "client", ... */
SHMB_API int shmb_lifetime_from_name(const char *s);      /* <0 if invalid */

#ifdef __cplusplus
}
#endif

#endif
