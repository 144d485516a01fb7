/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmb_bench_dataplane.c - what the data plane is worth: the same bytes
 * moved between two processes through shmb_ring (a region with two
 * doorbells, created by this process and opened read-write by its child),
 * through a named pipe and through TCP loopback, beside one process's
 * memcpy as the ceiling; then small-record round trips through two rings
 * and through a named pipe. Prints a table with the targets of issue 10
 * beside the ratios ("met" / "not met"); asserts nothing about speed.
 *
 *   shmb_bench_dataplane [--pipe NAME] [--service NAME] [--prefix REGIONS]
 *                        [--gib G | --mib M] [--roundtrips N]
 *                        [--ring-mib M] [--json FILE]
 *
 * The second process is this program again, started as
 * `--child PARENT_PID ...`: its stdin carries the parent's commands (one
 * letter per phase, then 'G' to start), its stdout one 'R' per phase when
 * it is connected and ready, so nothing it sets up is on the clock.
 *
 * A broken transport must not look fast: every record carries its
 * sequence number in each 4 KiB page and at its end, the receiver checks
 * them all, and every 64th record is compared byte for byte.
 */
#include <winsock2.h>
#include <windows.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmb.h"
#include "shmb_dataplane.h"

#define RECORD (64u * 1024u)
#define SMALL 64u         /* a round trip's record */
#define IO_TIMEOUT 30000u /* ms: any single wait; a stall is a failure */
#define FULL_CHECK_EVERY 64

/* Targets from issue 10 (printed, never asserted). */
#define TARGET_VS_PIPE 10.0
#define TARGET_VS_TCP 3.0
#define TARGET_VS_MEMCPY 0.5

typedef struct options {
    const char *pipe;
    const char *service;
    const char *prefix;
    const char *json;
    uint64_t bytes;
    int roundtrips;
    uint32_t ring_mib;
    unsigned long parent_pid; /* child only */
    int port;                 /* child only */
} options;

typedef struct results {
    double ring_gbps, pipe_gbps, tcp_gbps, memcpy_gbps;
    double ring_p50, ring_p99, pipe_p50, pipe_p99;
} results;

/* ---- Shared helpers ---------------------------------------------------- */

static double now_s(void)
{
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart / (double)f.QuadPart;
}

static void fail(const char *what, const char *why)
{
    fprintf(stderr, "shmb_bench_dataplane[%lu]: %s: %s\n",
            GetCurrentProcessId(), what, why);
}

static void fail_sys(const char *what)
{
    char why[32];
    snprintf(why, sizeof(why), "system error %lu", GetLastError());
    fail(what, why);
}

/* The bytes every record starts from, the same in both processes. */
static void fill_pattern(unsigned char *p, size_t n)
{
    uint32_t x = 0x2545F491u;
    size_t i;
    for (i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        p[i] = (unsigned char)(x >> 24);
    }
}

static uint64_t stamp_word(uint64_t seq, size_t off)
{
    return (seq + 1) * 0x9E3779B97F4A7C15ull ^ (uint64_t)off;
}

/* Record `seq` is the pattern with its sequence in each 4 KiB page and
 * its complement in the last 8 bytes (len: a multiple of 8, >= 16). */
static void stamp(unsigned char *rec, size_t len, uint64_t seq)
{
    uint64_t v;
    size_t off;
    for (off = 0; off + 8 <= len; off += 4096) {
        v = stamp_word(seq, off);
        memcpy(rec + off, &v, 8);
    }
    v = ~seq;
    memcpy(rec + len - 8, &v, 8);
}

typedef struct checker {
    unsigned char *pattern;
    unsigned char *expect;
    size_t len;
    uint64_t seq; /* the next record expected */
} checker;

static int checker_init(checker *k, size_t len)
{
    k->pattern = malloc(len);
    k->expect = malloc(len);
    k->len = len;
    k->seq = 0;
    if (k->pattern == NULL || k->expect == NULL)
        return -1;
    fill_pattern(k->pattern, len);
    return 0;
}

static void checker_free(checker *k)
{
    free(k->pattern);
    free(k->expect);
}

/* Checks the next record; 0 if it is the one expected. */
static int checker_take(checker *k, const unsigned char *rec, size_t len)
{
    uint64_t v, seq = k->seq++;
    size_t off;

    if (len != k->len)
        return -1;
    if (seq % FULL_CHECK_EVERY == 0) {
        memcpy(k->expect, k->pattern, len);
        stamp(k->expect, len, seq);
        return memcmp(rec, k->expect, len) == 0 ? 0 : -1;
    }
    for (off = 0; off + 8 <= len; off += 4096) {
        memcpy(&v, rec + off, 8);
        if (v != stamp_word(seq, off))
            return -1;
    }
    memcpy(&v, rec + len - 8, 8);
    return v == ~seq ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void percentiles(double *lat, int n, double *p50, double *p99)
{
    qsort(lat, (size_t)n, sizeof(double), cmp_double);
    *p50 = lat[n / 2];
    *p99 = lat[((size_t)n * 99) / 100];
}

static int write_all(HANDLE h, const void *buf, size_t len)
{
    const char *p = buf;
    DWORD n;
    while (len > 0) {
        if (!WriteFile(h, p, (DWORD)len, &n, NULL) || n == 0)
            return -1;
        p += n;
        len -= n;
    }
    return 0;
}

static int read_all(HANDLE h, void *buf, size_t len)
{
    char *p = buf;
    DWORD n;
    while (len > 0) {
        if (!ReadFile(h, p, (DWORD)len, &n, NULL) || n == 0)
            return -1;
        p += n;
        len -= n;
    }
    return 0;
}

static int send_all(SOCKET s, const char *p, size_t len)
{
    while (len > 0) {
        int n = send(s, p, (int)len, 0);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void region_name(char *out, size_t cap, const options *o,
                        unsigned long pid, const char *what)
{
    snprintf(out, cap, "%s/%lu/%s", o->prefix, pid, what);
}

static void pipe_name(WCHAR *out, size_t cap, unsigned long pid,
                      const char *what)
{
    _snwprintf(out, cap, L"\\\\.\\pipe\\shmb-dpbench-%lu-%hs", pid, what);
    out[cap - 1] = 0;
}

static shmb_client *broker_connect(const options *o, const char *who)
{
    shmb_connect_options co;
    shmb_client *c = NULL;
    int rc;

    memset(&co, 0, sizeof(co));
    co.pipe_name = o->pipe;
    co.service_name = o->service;
    co.client_name = who;
    rc = shmb_connect(&co, &c);
    if (rc != SHMB_OK) {
        fail("connect", c != NULL ? shmb_client_message(c) : shmb_strerror(rc));
        shmb_disconnect(c);
        return NULL;
    }
    return c;
}

/* A ring end over an open region; ctx must outlive ring. */
static int ring_end(shmb_ring *ring, shmb_doorbell_ctx *ctx, shmb_region *r,
                    shmb_ring_role role)
{
    shmb_wait_ops ops;
    int rc = r->view != NULL ? SHMB_OK : shmb_region_map(r);
    if (rc == SHMB_OK)
        rc = shmb_wait_ops_ring(&ops, ctx, r, (int)role);
    if (rc == SHMB_OK)
        rc = shmb_ring_attach(ring, r->view, (size_t)r->size, role, &ops);
    if (rc != SHMB_OK)
        fail(r->name, shmb_strerror(rc));
    return rc;
}

/* ---- The child: the other process of every pair ------------------------ */

typedef struct child {
    const options *o;
    shmb_client *c;
    HANDLE ctl_in, ctl_out;
    unsigned char *rec; /* the pattern, stamped before each send */
    uint64_t nrec;
} child;

/* Tells the parent we are set up, then waits for its 'G'. */
static int child_ready(child *ch)
{
    char b = 'R';
    if (write_all(ch->ctl_out, &b, 1) != 0 || read_all(ch->ctl_in, &b, 1) != 0)
        return -1;
    return b == 'G' ? 0 : -1;
}

static int child_open(child *ch, const char *what, shmb_region *r)
{
    char name[SHMB_REGION_NAME_MAX + 1];
    memset(r, 0, sizeof(*r));
    region_name(name, sizeof(name), ch->o, ch->o->parent_pid, what);
    if (shmb_region_open(ch->c, name, SHMB_ACCESS_RW, r) != SHMB_OK) {
        fail(name, shmb_client_message(ch->c));
        memset(r, 0, sizeof(*r));
        return -1;
    }
    return 0;
}

/* Sends one record over a ring, pipe or socket: 0, or -1 when it failed. */
typedef int (*send_fn)(void *dst, const unsigned char *rec, size_t len);

static int ring_send(void *dst, const unsigned char *rec, size_t len)
{
    if (shmb_ring_write(dst, rec, len, IO_TIMEOUT) != SHMB_OK) {
        fail("ring write", "timed out or the ring is corrupt");
        return -1;
    }
    return 0;
}

static int pipe_send(void *dst, const unsigned char *rec, size_t len)
{
    return write_all(*(HANDLE *)dst, rec, len);
}

static int sock_send(void *dst, const unsigned char *rec, size_t len)
{
    return send_all(*(SOCKET *)dst, (const char *)rec, len);
}

/* Once the parent says go, sends the stream of nrec stamped records. */
static int child_send(child *ch, send_fn send_rec, void *dst)
{
    uint64_t i;
    if (child_ready(ch) != 0)
        return -1;
    for (i = 0; i < ch->nrec; i++) {
        stamp(ch->rec, RECORD, i);
        if (send_rec(dst, ch->rec, RECORD) != 0)
            return -1;
    }
    return 0;
}

static int child_ring_stream(child *ch)
{
    shmb_region r;
    shmb_ring ring;
    shmb_doorbell_ctx ctx;
    int rc = -1;

    if (child_open(ch, "stream", &r) != 0)
        return -1;
    if (ring_end(&ring, &ctx, &r, SHMB_RING_PRODUCER) == SHMB_OK)
        rc = child_send(ch, ring_send, &ring);
    shmb_region_close(&r);
    return rc;
}

static int child_ring_echo(child *ch)
{
    shmb_region ping, pong;
    shmb_ring in, out;
    shmb_doorbell_ctx cin, cout;
    unsigned char buf[SMALL];
    size_t len;
    int rc = -1, ok;

    memset(&pong, 0, sizeof(pong));
    if (child_open(ch, "ping", &ping) != 0)
        return -1;
    if (child_open(ch, "pong", &pong) != 0 ||
        ring_end(&in, &cin, &ping, SHMB_RING_CONSUMER) != SHMB_OK ||
        ring_end(&out, &cout, &pong, SHMB_RING_PRODUCER) != SHMB_OK ||
        child_ready(ch) != 0)
        goto done;
    /* Echoes until the parent's empty record (its way to say "done"). */
    for (;;) {
        ok = shmb_ring_read(&in, buf, sizeof(buf), &len, IO_TIMEOUT);
        if (ok != SHMB_OK) {
            fail("ring echo read", shmb_strerror(ok));
            goto done;
        }
        if (len == 0)
            break;
        if (shmb_ring_write(&out, buf, len, IO_TIMEOUT) != SHMB_OK)
            goto done;
    }
    rc = 0;
done:
    shmb_region_close(&pong);
    shmb_region_close(&ping);
    return rc;
}

static HANDLE child_pipe(child *ch, const char *what, DWORD access)
{
    WCHAR name[128];
    HANDLE h;
    pipe_name(name, 128, ch->o->parent_pid, what);
    h = CreateFileW(name, access, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        fail_sys("open pipe");
    return h;
}

static int child_pipe_stream(child *ch)
{
    HANDLE h = child_pipe(ch, "stream", GENERIC_WRITE);
    int rc;

    if (h == INVALID_HANDLE_VALUE)
        return -1;
    rc = child_send(ch, pipe_send, &h);
    if (rc == 0)
        FlushFileBuffers(h);
    CloseHandle(h);
    return rc;
}

static int child_pipe_echo(child *ch)
{
    HANDLE h = child_pipe(ch, "rtt", GENERIC_READ | GENERIC_WRITE);
    unsigned char buf[SMALL];
    int rc = -1;

    if (h == INVALID_HANDLE_VALUE)
        return -1;
    if (child_ready(ch) != 0)
        goto done;
    /* Echoes until the parent closes its end. */
    while (read_all(h, buf, SMALL) == 0)
        if (write_all(h, buf, SMALL) != 0)
            goto done;
    rc = 0;
done:
    CloseHandle(h);
    return rc;
}

static int child_tcp_stream(child *ch)
{
    struct sockaddr_in a;
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    int rc = -1;

    if (s == INVALID_SOCKET)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((u_short)ch->o->port);
    if (connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
        fail("tcp connect", "refused");
        goto done;
    }
    rc = child_send(ch, sock_send, &s);
    if (rc == 0)
        shutdown(s, SD_SEND);
done:
    closesocket(s);
    return rc;
}

/* The parent's phase letters, each the child's half of one measurement. */
static const struct {
    char cmd;
    int (*run)(child *ch);
} phases[] = {
    {'r', child_ring_stream}, {'l', child_ring_echo},  {'p', child_pipe_stream},
    {'e', child_pipe_echo},   {'t', child_tcp_stream},
};

static int child_main(const options *o)
{
    child ch;
    char cmd;
    size_t i;
    int rc = 0;

    memset(&ch, 0, sizeof(ch));
    ch.o = o;
    ch.nrec = o->bytes / RECORD;
    ch.ctl_in = GetStdHandle(STD_INPUT_HANDLE);
    ch.ctl_out = GetStdHandle(STD_OUTPUT_HANDLE);
    ch.rec = malloc(RECORD);
    if (ch.rec == NULL)
        return 1;
    fill_pattern(ch.rec, RECORD);
    ch.c = broker_connect(o, "shmb_bench_dataplane child");
    if (ch.c == NULL)
        return 1;
    while (rc == 0 && read_all(ch.ctl_in, &cmd, 1) == 0 && cmd != 'q') {
        for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
            if (phases[i].cmd == cmd)
                break;
        rc = i < sizeof(phases) / sizeof(phases[0]) ? phases[i].run(&ch) : -1;
    }
    shmb_disconnect(ch.c);
    free(ch.rec);
    return rc == 0 ? 0 : 1;
}

/* ---- The parent: receives, times and checks ---------------------------- */

typedef struct parent {
    const options *o;
    shmb_client *c;
    HANDLE process, ctl_in, ctl_out; /* the child and its control pipes */
    unsigned char *rec;
    uint64_t nrec;
    SOCKET listener;
} parent;

/* Sends the phase's letter and waits until the child is ready. */
static int parent_phase(parent *pa, char cmd)
{
    char b = cmd;
    if (write_all(pa->ctl_out, &b, 1) != 0 ||
        read_all(pa->ctl_in, &b, 1) != 0 || b != 'R') {
        fail("child", "did not get ready (see its message above)");
        return -1;
    }
    return 0;
}

static int parent_go(parent *pa)
{
    char b = 'G';
    return write_all(pa->ctl_out, &b, 1);
}

static double gbps(const parent *pa, double secs)
{
    return (double)(pa->nrec * RECORD) / secs / 1e9;
}

/* Releases and closes a region parent_region made (or zeroed). */
static void parent_region_done(parent *pa, shmb_region *r)
{
    if (r->name[0] != 0)
        shmb_region_release(pa->c, r->name);
    shmb_region_close(r);
    memset(r, 0, sizeof(*r));
}

static int parent_region(parent *pa, const char *what, uint64_t capacity,
                         shmb_region *r)
{
    char name[SHMB_REGION_NAME_MAX + 1];
    uint64_t size = (shmb_ring_footprint(capacity) + 4095) & ~(uint64_t)4095;
    memset(r, 0, sizeof(*r));
    region_name(name, sizeof(name), pa->o, GetCurrentProcessId(), what);
    if (shmb_region_create_ex(pa->c, name, size, SHMB_ACCESS_RW,
                              SHMB_LIFETIME_CLIENT, 2, r) != SHMB_OK) {
        fail(name, shmb_client_message(pa->c));
        memset(r, 0, sizeof(*r));
        return -1;
    }
    if (shmb_region_map(r) != SHMB_OK ||
        shmb_ring_format(r->view, (size_t)r->size, capacity) != SHMB_OK) {
        fail(name, "cannot map or format");
        parent_region_done(pa, r);
        return -1;
    }
    return 0;
}

/* The ceiling: the producer's half of the ring's work alone - the same
 * stamped 64 KiB records copied once into a window the size of the ring's
 * data area (so the same cache footprint), no second process, no indices,
 * no doorbells. The ring copies every byte twice (in and out), on two
 * cores when it has them. */
static int parent_memcpy(parent *pa, double *out)
{
    size_t window = (size_t)pa->o->ring_mib << 20, off = 0;
    unsigned char *dst = malloc(window);
    checker k;
    uint64_t i;
    double t0, secs;
    int rc = -1;

    if (dst == NULL || checker_init(&k, RECORD) != 0)
        goto done;
    memset(dst, 0, window); /* first touch off the clock */
    t0 = now_s();
    for (i = 0; i < pa->nrec; i++) {
        stamp(pa->rec, RECORD, i);
        if (off + RECORD > window)
            off = 0;
        memcpy(dst + off, pa->rec, RECORD);
        off += RECORD;
    }
    secs = now_s() - t0;
    /* The last record landed (and the copies could not be optimised out). */
    k.seq = pa->nrec - 1;
    if (checker_take(&k, dst + off - RECORD, RECORD) != 0) {
        fail("memcpy", "the last record is not what was copied");
        goto done;
    }
    *out = gbps(pa, secs);
    rc = 0;
done:
    checker_free(&k);
    free(dst);
    return rc;
}

/* Reads one record of at most cap bytes from a ring, pipe or socket: its
 * length, or -1 after saying why. */
typedef int (*record_fn)(void *src, unsigned char *buf, size_t cap);

/* Reads up to cap bytes from a pipe or socket: how many, 0 at the end. */
typedef int (*read_fn)(void *src, unsigned char *buf, size_t cap);

static int pipe_read(void *src, unsigned char *buf, size_t cap)
{
    DWORD n;
    if (!ReadFile(*(HANDLE *)src, buf, (DWORD)cap, &n, NULL))
        return -1;
    return (int)n;
}

static int sock_read(void *src, unsigned char *buf, size_t cap)
{
    return recv(*(SOCKET *)src, (char *)buf, (int)cap, 0);
}

/* A byte stream has no records: a whole one is cap bytes, however many
 * reads it takes. */
static int whole_record(read_fn rd, void *src, unsigned char *buf, size_t cap)
{
    size_t have;
    int n;
    for (have = 0; have < cap; have += (size_t)n) {
        n = rd(src, buf + have, cap - have);
        if (n <= 0) {
            fail("receive", "the stream ended early");
            return -1;
        }
    }
    return (int)cap;
}

static int pipe_record(void *src, unsigned char *buf, size_t cap)
{
    return whole_record(pipe_read, src, buf, cap);
}

static int sock_record(void *src, unsigned char *buf, size_t cap)
{
    return whole_record(sock_read, src, buf, cap);
}

static int ring_record(void *src, unsigned char *buf, size_t cap)
{
    size_t len;
    int e = shmb_ring_read(src, buf, cap, &len, IO_TIMEOUT);
    if (e != SHMB_OK) {
        fail("ring read", shmb_strerror(e));
        return -1;
    }
    return (int)len;
}

/* Times the stream of nrec records from the child, each checked as it
 * arrives; `what` names the path in a failure. */
static int parent_receive(parent *pa, const char *what, record_fn rd, void *src,
                          double *out)
{
    checker k;
    uint64_t i;
    double t0;
    int n, rc = -1;

    if (checker_init(&k, RECORD) != 0)
        goto done;
    t0 = now_s();
    if (parent_go(pa) != 0)
        goto done;
    for (i = 0; i < pa->nrec; i++) {
        n = rd(src, pa->rec, RECORD);
        if (n < 0)
            goto done;
        if (checker_take(&k, pa->rec, (size_t)n) != 0) {
            fail(what, "a record is not the one sent");
            goto done;
        }
    }
    *out = gbps(pa, now_s() - t0);
    rc = 0;
done:
    checker_free(&k);
    return rc;
}

static HANDLE parent_pipe(const char *what, DWORD access)
{
    WCHAR name[128];
    HANDLE h;
    pipe_name(name, 128, GetCurrentProcessId(), what);
    h = CreateNamedPipeW(name, access,
                         PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT |
                             PIPE_REJECT_REMOTE_CLIENTS,
                         1, RECORD, RECORD, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        fail_sys("create pipe");
    return h;
}

static int parent_accept_pipe(HANDLE h)
{
    if (!ConnectNamedPipe(h, NULL) && GetLastError() != ERROR_PIPE_CONNECTED) {
        fail_sys("connect pipe");
        return -1;
    }
    return 0;
}

static int parent_pipe_stream(parent *pa, double *out)
{
    HANDLE h = parent_pipe("stream", PIPE_ACCESS_INBOUND);
    int rc = -1;

    if (h == INVALID_HANDLE_VALUE)
        return -1;
    if (parent_phase(pa, 'p') == 0 && parent_accept_pipe(h) == 0)
        rc = parent_receive(pa, "receive", pipe_record, &h, out);
    CloseHandle(h);
    return rc;
}

static int parent_ring_stream(parent *pa, double *out)
{
    shmb_region r;
    shmb_ring ring;
    shmb_doorbell_ctx ctx;
    int rc = -1;

    if (parent_region(pa, "stream", (uint64_t)pa->o->ring_mib << 20, &r) != 0)
        return -1;
    if (ring_end(&ring, &ctx, &r, SHMB_RING_CONSUMER) == SHMB_OK &&
        parent_phase(pa, 'r') == 0)
        rc = parent_receive(pa, "ring", ring_record, &ring, out);
    parent_region_done(pa, &r);
    return rc;
}

static int parent_tcp_stream(parent *pa, double *out)
{
    SOCKET s;
    int rc = -1;

    if (parent_phase(pa, 't') != 0)
        return -1;
    s = accept(pa->listener, NULL, NULL);
    if (s == INVALID_SOCKET) {
        fail("tcp accept", "failed");
        return -1;
    }
    rc = parent_receive(pa, "receive", sock_record, &s, out);
    closesocket(s);
    return rc;
}

static int parent_ring_pingpong(parent *pa, double *p50, double *p99)
{
    shmb_region ping, pong;
    shmb_ring out, in;
    shmb_doorbell_ctx cout, cin;
    checker k;
    int i, n = pa->o->roundtrips, warm = n / 10 < 100 ? n / 10 : 100, e;
    double *lat = malloc((size_t)n * sizeof(double)), t0;
    unsigned char buf[SMALL];
    size_t len;
    int rc = -1;

    memset(&k, 0, sizeof(k));
    memset(&pong, 0, sizeof(pong));
    if (lat == NULL ||
        parent_region(pa, "ping", SHMB_RING_MIN_CAPACITY * 64, &ping) != 0) {
        free(lat);
        return -1;
    }
    if (parent_region(pa, "pong", SHMB_RING_MIN_CAPACITY * 64, &pong) != 0 ||
        ring_end(&out, &cout, &ping, SHMB_RING_PRODUCER) != SHMB_OK ||
        ring_end(&in, &cin, &pong, SHMB_RING_CONSUMER) != SHMB_OK ||
        checker_init(&k, SMALL) != 0 || parent_phase(pa, 'l') != 0 ||
        parent_go(pa) != 0)
        goto done;
    for (i = -warm; i < n; i++) {
        t0 = now_s();
        memcpy(buf, k.pattern, SMALL);
        stamp(buf, SMALL, k.seq);
        if (shmb_ring_write(&out, buf, SMALL, IO_TIMEOUT) != SHMB_OK)
            goto done;
        e = shmb_ring_read(&in, buf, sizeof(buf), &len, IO_TIMEOUT);
        if (e != SHMB_OK) {
            fail("ring ping-pong", shmb_strerror(e));
            goto done;
        }
        if (i >= 0)
            lat[i] = (now_s() - t0) * 1e6;
        if (checker_take(&k, buf, len) != 0) {
            fail("ring ping-pong", "the echo is not the record sent");
            goto done;
        }
    }
    if (shmb_ring_write(&out, buf, 0, IO_TIMEOUT) != SHMB_OK)
        goto done;
    percentiles(lat, n, p50, p99);
    rc = 0;
done:
    checker_free(&k);
    free(lat);
    parent_region_done(pa, &pong);
    parent_region_done(pa, &ping);
    return rc;
}

static int parent_pipe_rtt(parent *pa, double *p50, double *p99)
{
    HANDLE h = parent_pipe("rtt", PIPE_ACCESS_DUPLEX);
    checker k;
    int i, n = pa->o->roundtrips, warm = n / 10 < 100 ? n / 10 : 100;
    double *lat = malloc((size_t)n * sizeof(double)), t0;
    unsigned char buf[SMALL];
    int rc = -1;

    memset(&k, 0, sizeof(k));
    if (h == INVALID_HANDLE_VALUE || lat == NULL ||
        checker_init(&k, SMALL) != 0 || parent_phase(pa, 'e') != 0 ||
        parent_accept_pipe(h) != 0 || parent_go(pa) != 0)
        goto done;
    for (i = -warm; i < n; i++) {
        t0 = now_s();
        memcpy(buf, k.pattern, SMALL);
        stamp(buf, SMALL, k.seq);
        if (write_all(h, buf, SMALL) != 0 || read_all(h, buf, SMALL) != 0) {
            fail_sys("pipe round trip");
            goto done;
        }
        if (i >= 0)
            lat[i] = (now_s() - t0) * 1e6;
        if (checker_take(&k, buf, SMALL) != 0) {
            fail("pipe round trip", "the echo is not the record sent");
            goto done;
        }
    }
    percentiles(lat, n, p50, p99);
    rc = 0;
done:
    checker_free(&k);
    free(lat);
    if (h != INVALID_HANDLE_VALUE)
        CloseHandle(h); /* the child's echo loop ends on this */
    return rc;
}

static int listen_loopback(parent *pa, int *port)
{
    struct sockaddr_in a;
    int alen = sizeof(a);

    pa->listener = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (pa->listener == INVALID_SOCKET)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(pa->listener, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(pa->listener, 1) != 0 ||
        getsockname(pa->listener, (struct sockaddr *)&a, &alen) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return 0;
}

/* Starts this program as the child, its stdin and stdout our control
 * pipes (stderr shared, for its messages). */
static int spawn_child(parent *pa, int port)
{
    WCHAR exe[MAX_PATH], cmd[2048], wargs[1024];
    char args[1024];
    SECURITY_ATTRIBUTES sa;
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    HANDLE in_rd = NULL, out_wr = NULL, err_wr = NULL;
    const options *o = pa->o;
    BOOL ok;

    if (GetModuleFileNameW(NULL, exe, MAX_PATH) == 0)
        return -1;
    snprintf(args, sizeof(args),
             "--child %lu --prefix %s --port %d --bytes %llu%s%s%s%s",
             GetCurrentProcessId(), o->prefix, port,
             (unsigned long long)o->bytes, o->pipe ? " --pipe " : "",
             o->pipe ? o->pipe : "", o->service ? " --service " : "",
             o->service ? o->service : "");
    MultiByteToWideChar(CP_UTF8, 0, args, -1, wargs, 1024);
    _snwprintf(cmd, 2048, L"\"%ls\" %ls", exe, wargs);
    cmd[2047] = 0;
    sa.nLength = sizeof(sa);
    sa.lpSecurityDescriptor = NULL;
    sa.bInheritHandle = TRUE;
    /* Only the child's ends are inheritable: when either side dies the
     * other reads EOF instead of waiting forever. */
    if (!CreatePipe(&in_rd, &pa->ctl_out, &sa, 0) ||
        !SetHandleInformation(pa->ctl_out, HANDLE_FLAG_INHERIT, 0) ||
        !CreatePipe(&pa->ctl_in, &out_wr, &sa, 0) ||
        !SetHandleInformation(pa->ctl_in, HANDLE_FLAG_INHERIT, 0)) {
        fail_sys("control pipes");
        return -1;
    }
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = in_rd;
    si.hStdOutput = out_wr;
    /* Our stderr need not be inheritable: the child gets a copy that is. */
    if (!DuplicateHandle(GetCurrentProcess(), GetStdHandle(STD_ERROR_HANDLE),
                         GetCurrentProcess(), &err_wr, 0, TRUE,
                         DUPLICATE_SAME_ACCESS))
        err_wr = NULL;
    si.hStdError = err_wr;
    ok = CreateProcessW(exe, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
    CloseHandle(in_rd);
    CloseHandle(out_wr);
    if (err_wr != NULL)
        CloseHandle(err_wr);
    if (!ok) {
        fail_sys("start the child");
        return -1;
    }
    CloseHandle(pi.hThread);
    pa->process = pi.hProcess;
    return 0;
}

/* Ends the child: 'q', then its exit code. After a failure here it may be
 * blocked on a ring or pipe we stopped reading: end it at once. */
static int reap_child(parent *pa, int failed)
{
    DWORD code = 1;
    char q = 'q';

    if (pa->process == NULL)
        return -1;
    write_all(pa->ctl_out, &q, 1);
    CloseHandle(pa->ctl_out);
    pa->ctl_out = NULL;
    if (failed)
        TerminateProcess(pa->process, 98);
    if (WaitForSingleObject(pa->process, IO_TIMEOUT) != WAIT_OBJECT_0)
        TerminateProcess(pa->process, 99);
    GetExitCodeProcess(pa->process, &code);
    CloseHandle(pa->process);
    CloseHandle(pa->ctl_in);
    pa->process = NULL;
    return code == 0 ? 0 : -1;
}

/* ---- Report ------------------------------------------------------------- */

static const char *verdict(double ratio, double target)
{
    return ratio >= target ? "met" : "not met";
}

static void print_table(const options *o, const results *r)
{
    double vp = r->ring_gbps / r->pipe_gbps, vt = r->ring_gbps / r->tcp_gbps;
    double vm = r->ring_gbps / r->memcpy_gbps;

    printf("data plane: %.3f GiB in 64 KiB records, ring %u MiB, %d round "
           "trips of %u bytes (GB/s = 1e9 bytes/s; every record checked)\n",
           (double)o->bytes / (1 << 30), o->ring_mib, o->roundtrips, SMALL);
    printf("| %-38s | %8s | %11s | %8s | %-7s |\n", "path (2 processes)",
           "GB/s", "ring / path", "target", "target?");
    printf("|%s|%s|%s|%s|%s|\n", "----------------------------------------",
           "----------", "-------------", "----------", "---------");
    printf("| %-38s | %8.3f | %11s | %8s | %-7s |\n",
           "shmb_ring (doorbells, shmb_wait_ops)", r->ring_gbps, "", "", "");
    printf("| %-38s | %8.3f | %10.2fx | >= %4.1fx | %-7s |\n",
           "named pipe (64 KiB writes)", r->pipe_gbps, vp, TARGET_VS_PIPE,
           verdict(vp, TARGET_VS_PIPE));
    printf("| %-38s | %8.3f | %10.2fx | >= %4.1fx | %-7s |\n",
           "TCP loopback (Winsock)", r->tcp_gbps, vt, TARGET_VS_TCP,
           verdict(vt, TARGET_VS_TCP));
    printf("| %-38s | %8.3f | %10.2fx | >= %4.1fx | %-7s |\n",
           "memcpy, 1 process (ceiling)", r->memcpy_gbps, vm, TARGET_VS_MEMCPY,
           verdict(vm, TARGET_VS_MEMCPY));
    printf("\n| %-38s | %9s | %9s | %17s |\n", "round trip (2 processes)",
           "p50 us", "p99 us", "ring / pipe (p50)");
    printf("|%s|%s|%s|%s|\n", "----------------------------------------",
           "-----------", "-----------", "-------------------");
    printf("| %-38s | %9.1f | %9.1f | %16.2fx |\n",
           "shmb_ring ping-pong (spin, doorbells)", r->ring_p50, r->ring_p99,
           r->ring_p50 / r->pipe_p50);
    printf("| %-38s | %9.1f | %9.1f | %17s |\n", "named pipe round trip",
           r->pipe_p50, r->pipe_p99, "");
    fflush(stdout);
}

/* JSON has no inf or nan (a ratio over a figure that failed as 0): such a
 * value is written as 0, which bench_dataplane_check (and so bench.sh
 * --check) rejects as not positive, and said here. */
static double fin(const char *key, double v)
{
    if (isfinite(v))
        return v;
    fprintf(stderr, "%s is not a finite number (%f): written as 0\n", key, v);
    return 0;
}

static int write_json(const options *o, const results *r)
{
    FILE *f = fopen(o->json, "wb"); /* LF: read by shell tools */
    if (f == NULL) {
        fail(o->json, "cannot write");
        return -1;
    }
    fprintf(f,
            "{\n  \"ring_gbps\": %.6f,\n  \"pipe_gbps\": %.6f,\n"
            "  \"tcp_gbps\": %.6f,\n  \"memcpy_gbps\": %.6f,\n"
            "  \"ring_vs_pipe\": %.6f,\n  \"ring_vs_tcp\": %.6f,\n"
            "  \"ring_vs_memcpy\": %.6f,\n"
            "  \"ring_pingpong_p50_us\": %.3f,\n"
            "  \"ring_pingpong_p99_us\": %.3f,\n"
            "  \"dp_pipe_rtt_p50_us\": %.3f,\n  \"dp_pipe_rtt_p99_us\": %.3f,\n"
            "  \"ring_pingpong_vs_pipe_rtt_p50\": %.6f,\n"
            "  \"dp_bytes\": %llu,\n  \"dp_roundtrips\": %d\n}\n",
            fin("ring_gbps", r->ring_gbps), fin("pipe_gbps", r->pipe_gbps),
            fin("tcp_gbps", r->tcp_gbps), fin("memcpy_gbps", r->memcpy_gbps),
            fin("ring_vs_pipe", r->ring_gbps / r->pipe_gbps),
            fin("ring_vs_tcp", r->ring_gbps / r->tcp_gbps),
            fin("ring_vs_memcpy", r->ring_gbps / r->memcpy_gbps),
            fin("ring_pingpong_p50_us", r->ring_p50),
            fin("ring_pingpong_p99_us", r->ring_p99),
            fin("dp_pipe_rtt_p50_us", r->pipe_p50),
            fin("dp_pipe_rtt_p99_us", r->pipe_p99),
            fin("ring_pingpong_vs_pipe_rtt_p50", r->ring_p50 / r->pipe_p50),
            (unsigned long long)o->bytes, o->roundtrips);
    return fclose(f) == 0 ? 0 : -1;
}

static int parent_main(const options *o)
{
    parent pa;
    results r;
    int port = 0, rc = -1;

    memset(&pa, 0, sizeof(pa));
    memset(&r, 0, sizeof(r));
    pa.o = o;
    pa.nrec = o->bytes / RECORD;
    pa.listener = INVALID_SOCKET;
    pa.rec = malloc(RECORD);
    if (pa.rec == NULL)
        return 1;
    fill_pattern(pa.rec, RECORD);
    pa.c = broker_connect(o, "shmb_bench_dataplane");
    if (pa.c == NULL)
        goto done;
    if (listen_loopback(&pa, &port) != 0) {
        fail("tcp listen", "cannot listen on 127.0.0.1");
        goto done;
    }
    if (spawn_child(&pa, port) != 0)
        goto done;
    if (parent_memcpy(&pa, &r.memcpy_gbps) != 0 ||
        parent_ring_stream(&pa, &r.ring_gbps) != 0 ||
        parent_pipe_stream(&pa, &r.pipe_gbps) != 0 ||
        parent_tcp_stream(&pa, &r.tcp_gbps) != 0 ||
        parent_ring_pingpong(&pa, &r.ring_p50, &r.ring_p99) != 0 ||
        parent_pipe_rtt(&pa, &r.pipe_p50, &r.pipe_p99) != 0)
        goto done;
    rc = 0;
done:
    if (reap_child(&pa, rc != 0) != 0 && rc == 0) {
        fail("child", "failed");
        rc = -1;
    }
    if (pa.listener != INVALID_SOCKET)
        closesocket(pa.listener);
    shmb_disconnect(pa.c);
    free(pa.rec);
    if (rc == 0) {
        print_table(o, &r);
        if (o->json != NULL && write_json(o, &r) != 0)
            rc = -1;
    }
    return rc == 0 ? 0 : 1;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: shmb_bench_dataplane [--pipe NAME] [--service NAME] "
            "[--prefix REGIONS] [--gib G | --mib M] [--roundtrips N>=10] "
            "[--ring-mib 1..512] [--json FILE]\n");
    return 2;
}

int main(int argc, char **argv)
{
    options o;
    WSADATA wsa;
    double gib;
    int i, rc;

    memset(&o, 0, sizeof(o));
    o.prefix = "bench/dp";
    o.bytes = (uint64_t)2 << 30;
    o.roundtrips = 10000;
    o.ring_mib = 4;
    for (i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--pipe") == 0)
            o.pipe = v;
        else if (strcmp(k, "--service") == 0)
            o.service = v;
        else if (strcmp(k, "--prefix") == 0)
            o.prefix = v;
        else if (strcmp(k, "--json") == 0)
            o.json = v;
        else if (strcmp(k, "--gib") == 0) {
            gib = strtod(v, NULL);
            o.bytes =
                gib > 0 && gib <= 1024 ? (uint64_t)(gib * 1073741824.0) : 0;
        } else if (strcmp(k, "--mib") == 0 || strcmp(k, "--bytes") == 0)
            o.bytes = strtoull(v, NULL, 10) << (k[2] == 'm' ? 20 : 0);
        else if (strcmp(k, "--roundtrips") == 0)
            o.roundtrips = atoi(v);
        else if (strcmp(k, "--ring-mib") == 0)
            o.ring_mib = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(k, "--child") == 0)
            o.parent_pid = strtoul(v, NULL, 10);
        else if (strcmp(k, "--port") == 0)
            o.port = atoi(v);
        else
            return usage();
    }
    if (i != argc || o.bytes < RECORD || o.roundtrips < 10 || o.ring_mib < 1 ||
        o.ring_mib > 512)
        return usage();
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
        fail("WSAStartup", "failed");
        return 1;
    }
    rc = o.parent_pid != 0 ? child_main(&o) : parent_main(&o);
    WSACleanup();
    return rc;
}
