/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmb_bench.c - how fast the broker hands out grants, and what sharing
 * saves over copying through a pipe. Prints a table; asserts nothing.
 *
 *   shmb_bench [--pipe NAME] [--service NAME] [--iterations N]
 *              [--megabytes M]
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmb.h"

static double now_us(void)
{
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart * 1e6 / (double)f.QuadPart;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void row(const char *what, int n, double *lat_us)
{
    double sum = 0;
    int i;
    qsort(lat_us, (size_t)n, sizeof(double), cmp_double);
    for (i = 0; i < n; i++)
        sum += lat_us[i];
    printf("| %-34s | %8d | %10.0f | %9.1f | %9.1f | %9.1f |\n", what, n,
           n / (sum / 1e6), sum / n, lat_us[n / 2], lat_us[(n * 99) / 100]);
}

static int bench_connect(const shmb_connect_options *o, int n)
{
    double *lat = malloc((size_t)n * sizeof(double));
    int i;
    if (lat == NULL)
        return 1;
    for (i = 0; i < n; i++) {
        shmb_client *c = NULL;
        double t0 = now_us();
        if (shmb_connect(o, &c) != SHMB_OK) {
            fprintf(stderr, "connect: %s\n", shmb_client_message(c));
            shmb_disconnect(c);
            free(lat);
            return 1;
        }
        shmb_disconnect(c);
        lat[i] = now_us() - t0;
    }
    row("connect + hello + close", n, lat);
    free(lat);
    return 0;
}

static int bench_grants(shmb_client *c, int n)
{
    double *lat = malloc((size_t)n * sizeof(double));
    double *plat = malloc((size_t)n * sizeof(double));
    shmb_region owner, r;
    char name[64];
    int i;

    if (lat == NULL || plat == NULL)
        return 1;
    snprintf(name, sizeof(name), "bench/%lu", GetCurrentProcessId());
    if (shmb_region_create(c, name, 1 << 20, SHMB_ACCESS_RW,
                           SHMB_LIFETIME_CLIENT, &owner) != SHMB_OK) {
        fprintf(stderr, "create: %s\n", shmb_client_message(c));
        return 1;
    }
    for (i = 0; i < n; i++) {
        double t0 = now_us();
        if (shmb_ping(c) != SHMB_OK)
            return 1;
        plat[i] = now_us() - t0;
        t0 = now_us();
        if (shmb_region_open(c, name, SHMB_ACCESS_RO, &r) != SHMB_OK)
            return 1;
        lat[i] = now_us() - t0;
        shmb_region_close(&r);
    }
    row("ping (control round trip)", n, plat);
    row("open ro (policy + DuplicateHandle)", n, lat);
    for (i = 0; i < n; i++) {
        double t0 = now_us();
        snprintf(name, sizeof(name), "bench/%lu/%d", GetCurrentProcessId(), i);
        if (shmb_region_create(c, name, 4096, SHMB_ACCESS_RW,
                               SHMB_LIFETIME_CLIENT, &r) != SHMB_OK ||
            shmb_region_release(c, name) != SHMB_OK)
            return 1;
        lat[i] = now_us() - t0;
        shmb_region_close(&r);
    }
    row("create 4 KiB + release (free)", n, lat);
    shmb_region_close(&owner);
    free(lat);
    free(plat);
    return 0;
}

typedef struct pipe_sink {
    HANDLE rd;
    size_t bytes;
    char *buf;
} pipe_sink;

static DWORD WINAPI sink_run(LPVOID arg)
{
    pipe_sink *s = arg;
    size_t got = 0;
    DWORD n;
    while (got < s->bytes && ReadFile(s->rd, s->buf, 1 << 16, &n, NULL) && n)
        got += n;
    return 0;
}

/* Moving M MiB: through a pipe (copied twice by the kernel) versus
 * written once into a region another view already sees. */
static int bench_transfer(shmb_client *c, int mib)
{
    size_t bytes = (size_t)mib << 20, off;
    char *src = malloc(1 << 16);
    pipe_sink s;
    HANDLE wr, th;
    shmb_region r, view2;
    char name[64];
    DWORD n;
    double t0, pipe_s, shm_s, first_s = 0, best_s = 0;
    volatile char sink = 0;
    int i;

    if (src == NULL)
        return 1;
    memset(src, 0x5a, 1 << 16);
    memset(&s, 0, sizeof(s));
    s.bytes = bytes;
    s.buf = malloc(1 << 16);
    if (s.buf == NULL || !CreatePipe(&s.rd, &wr, NULL, 1 << 16))
        return 1;
    th = CreateThread(NULL, 0, sink_run, &s, 0, NULL);
    t0 = now_us();
    for (off = 0; off < bytes; off += 1 << 16)
        WriteFile(wr, src, 1 << 16, &n, NULL);
    WaitForSingleObject(th, INFINITE);
    pipe_s = (now_us() - t0) / 1e6;
    CloseHandle(th);
    CloseHandle(wr);
    CloseHandle(s.rd);

    snprintf(name, sizeof(name), "bench/xfer/%lu", GetCurrentProcessId());
    if (shmb_region_create(c, name, bytes, SHMB_ACCESS_RW, SHMB_LIFETIME_CLIENT,
                           &r) != SHMB_OK ||
        shmb_region_map(&r) != SHMB_OK ||
        shmb_region_open(c, name, SHMB_ACCESS_RO, &view2) != SHMB_OK ||
        shmb_region_map(&view2) != SHMB_OK) {
        fprintf(stderr, "region: %s\n", shmb_client_message(c));
        return 1;
    }
    /* Pass 1 pays for first touch (committed pages are faulted in, in both
     * views); later passes are the steady state of a reused region. */
    for (i = 0; i < 4; i++) {
        t0 = now_us();
        for (off = 0; off < bytes; off += 1 << 16)
            memcpy((char *)r.view + off, src, 1 << 16);
        for (off = 0; off < bytes; off += 4096) /* the reader sees it all */
            sink ^= ((volatile char *)view2.view)[off];
        shm_s = (now_us() - t0) / 1e6;
        if (i == 0)
            first_s = shm_s;
        else if (shm_s < best_s || best_s == 0)
            best_s = shm_s;
    }
    (void)sink;
    printf("| %-34s | %8d | %10.0f |\n", "pipe: write + read (MiB/s)", mib,
           mib / pipe_s);
    printf("| %-34s | %8d | %10.0f |\n", "region, first touch (MiB/s)", mib,
           mib / first_s);
    printf("| %-34s | %8d | %10.0f |\n", "region, reused (MiB/s)", mib,
           mib / best_s);
    shmb_region_close(&view2);
    shmb_region_close(&r);
    free(src);
    free(s.buf);
    return 0;
}

int main(int argc, char **argv)
{
    shmb_connect_options o;
    shmb_client *c = NULL;
    int i, n = 2000, mib = 64, rc;

    memset(&o, 0, sizeof(o));
    o.client_name = "shmb_bench";
    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--pipe") == 0)
            o.pipe_name = argv[i + 1];
        else if (strcmp(argv[i], "--service") == 0)
            o.service_name = argv[i + 1];
        else if (strcmp(argv[i], "--iterations") == 0)
            n = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--megabytes") == 0)
            mib = atoi(argv[i + 1]);
    }
    if (n < 10 || mib < 1 || mib > 512) {
        fprintf(stderr, "usage: shmb_bench [--pipe NAME] [--iterations N>=10] "
                        "[--megabytes 1..512]\n");
        return 2;
    }
    printf("| %-34s | %8s | %10s | %9s | %9s | %9s |\n", "operation", "n",
           "per second", "mean us", "p50 us", "p99 us");
    printf("|%s|%s|%s|%s|%s|%s|\n", "------------------------------------",
           "----------", "------------", "-----------", "-----------",
           "-----------");
    if (bench_connect(&o, n / 10) != 0)
        return 1;
    if (shmb_connect(&o, &c) != SHMB_OK) {
        fprintf(stderr, "connect: %s\n", shmb_client_message(c));
        return 1;
    }
    rc = bench_grants(c, n) || bench_transfer(c, mib);
    shmb_disconnect(c);
    return rc;
}
