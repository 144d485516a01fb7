/* SPDX-License-Identifier: MPL-2.0 */
/*
 * floor.h - what the floor servers (floor_win.c) and the benchmark's floor
 * clients (floor_client_win.c) agree on. A floor is the kernel work a broker
 * operation cannot avoid, done by the least code that can do it, so that
 * each broker figure is read as a ratio to its floor measured in the same
 * run on the same machine.
 *
 * Every exchange is one FLOOR_FRAME-byte request and one FLOOR_FRAME-byte
 * reply, each a 4-byte little-endian length and a payload, like a broker
 * frame: a ping is about this size both ways.
 */
#ifndef SHMB_BENCH_FLOOR_H
#define SHMB_BENCH_FLOOR_H

#include <stdint.h>

#define FLOOR_FRAME 32

/* The four servers listen on <prefix>-raw, -uv, -grant and -connect. */
#define FLOOR_RAW "-raw"
#define FLOOR_UV "-uv"
#define FLOOR_GRANT "-grant"
#define FLOOR_CONNECT "-connect"

/* A grant request carries the section size at payload offset 0 (uint64);
 * the reply carries the handle value, valid in the client, at offset 0.
 * Size 0 asks for the connection's one section of FLOOR_KEEP_SIZE bytes,
 * made once and duplicated again each time. */
#define FLOOR_PAYLOAD 4
#define FLOOR_KEEP_SIZE 65536

/* A size of FLOOR_RELEASE asks the grant floor to close the section it
 * made for the last grant (of size > 0) and still holds, as the service
 * holds a created region until its release. The reply carries 1 at offset
 * 0 if there was one. */
#define FLOOR_RELEASE UINT64_MAX

#ifdef _WIN32
#include <windows.h>

struct cplat_conn;

/* The client side (floor_client_win.c): the client library's own transport
 * (client/client_plat.h: cplat_connect, cplat_write, cplat_read), so a
 * floor makes exactly the kernel calls the library makes for the same
 * exchange. */
typedef struct floor_conn {
    struct cplat_conn *conn;
} floor_conn;

/* Opens `name` as cplat_connect does (SECURITY_SQOS_PRESENT |
 * SECURITY_IDENTIFICATION, retrying while busy or not there, up to
 * timeout_ms). With `verify`, also does the kernel work of the client's
 * server check: the server's pid and the pipe's owner. 1 on success. */
int floor_open(floor_conn *c, const char *name, int verify, DWORD timeout_ms);
/* One FLOOR_FRAME request and reply, written and read as the library
 * writes a request and reads its reply (header, then body, through its
 * receive buffer). 1 on success. */
int floor_round_trip(floor_conn *c, char *frame);
/* A grant floor operation: the round trip, then map the handle read-write,
 * touch the first page, unmap, close. Size 0 is the open floor (the
 * connection's one section duplicated again). With size > 0 and `release`,
 * a second round trip then has the server close the section it made (the
 * create floor: create + map + unmap + release). 1 on success. */
int floor_grant(floor_conn *c, uint64_t size, int release);
void floor_close(floor_conn *c);
#endif

#endif
