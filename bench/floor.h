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

#ifdef _WIN32
#include <windows.h>

/* The client side (floor_client_win.c), with the library's I/O pattern:
 * an overlapped handle, each read or write waited for on an event. */
typedef struct floor_conn {
    HANDLE pipe;
    HANDLE event;
} floor_conn;

/* Opens `name` with SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION,
 * retrying while it is busy or not there yet (up to timeout_ms). With
 * `verify`, also does the kernel work of the client's server check: the
 * server's pid and the pipe's owner. 1 on success. */
int floor_open(floor_conn *c, const char *name, int verify, DWORD timeout_ms);
/* One FLOOR_FRAME request and reply (header, then body, as the library
 * reads). 1 on success. */
int floor_round_trip(floor_conn *c, char *frame);
/* A grant floor operation: the round trip, then map the handle read-write,
 * touch the first page, unmap, close. 1 on success. */
int floor_grant(floor_conn *c, uint64_t size);
void floor_close(floor_conn *c);
#endif

#endif
