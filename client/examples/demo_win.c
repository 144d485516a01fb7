/* SPDX-License-Identifier: MPL-2.0 */
/*
 * demo_win.c (shmb_demo.exe) - two processes sharing memory through the broker.
 *
 *   shmb_demo writer NAME SECONDS  create NAME (rw), write a greeting, tick a
 *                                  counter for SECONDS, then exit (the region
 *                                  goes with it: lifetime "client")
 *   shmb_demo reader NAME          open NAME read-only, print what the writer
 *                                  wrote, watch the counter move, then try to
 *                                  map it for writing (the kernel refuses)
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmb.h"

typedef struct demo_page {
    char greeting[240];
    volatile LONG counter;
} demo_page;

static int fail(shmb_client *c, const char *what, int rc)
{
    fprintf(stderr, "%s: %s: %s\n", what, shmb_err_name(rc),
            shmb_client_message(c));
    return 1;
}

static int writer(shmb_client *c, const char *name, int seconds)
{
    shmb_region r;
    demo_page *page;
    int rc, i;

    rc = shmb_region_create(c, name, 65536, SHMB_ACCESS_RW,
                            SHMB_LIFETIME_CLIENT, &r);
    if (rc != SHMB_OK)
        return fail(c, "writer: create", rc);
    rc = shmb_region_map(&r);
    if (rc != SHMB_OK)
        return fail(c, "writer: map", rc);
    page = r.view;
    snprintf(page->greeting, sizeof(page->greeting),
             "hello from writer pid %lu", GetCurrentProcessId());
    printf("writer: pid %lu created '%s' (%llu bytes, rw grant, handle "
           "0x%llx)\n",
           GetCurrentProcessId(), r.name, (unsigned long long)r.size,
           (unsigned long long)r.handle);
    printf("writer: wrote \"%s\"\nwriter: ready\n", page->greeting);
    fflush(stdout);
    for (i = 0; i < seconds * 20; i++) {
        InterlockedIncrement(&page->counter);
        Sleep(50);
    }
    printf("writer: done after %ld ticks; exiting frees the region\n",
           (long)page->counter);
    shmb_region_close(&r);
    return 0;
}

static int reader(shmb_client *c, const char *name)
{
    shmb_region r;
    const demo_page *page;
    LONG first, second;
    void *w;
    int rc;

    /* Asking for more than the policy grants: the broker says why not. */
    rc = shmb_region_open(c, name, SHMB_ACCESS_RW, &r);
    if (rc == SHMB_OK) {
        printf("reader: note: the policy grants this reader read-write\n");
        shmb_region_close(&r);
    } else {
        printf("reader: asked for rw, broker said %s: %s\n", shmb_err_name(rc),
               shmb_client_message(c));
    }
    rc = shmb_region_open(c, name, SHMB_ACCESS_RO, &r);
    if (rc != SHMB_OK)
        return fail(c, "reader: open", rc);
    rc = shmb_region_map(&r);
    if (rc != SHMB_OK)
        return fail(c, "reader: map", rc);
    page = r.view;
    printf("reader: pid %lu opened '%s' read-only (handle 0x%llx)\n",
           GetCurrentProcessId(), r.name, (unsigned long long)r.handle);
    printf("reader: read \"%.*s\"\n", (int)sizeof(page->greeting),
           page->greeting);
    first = page->counter;
    Sleep(400);
    second = page->counter;
    printf("reader: counter %ld -> %ld (%s)\n", (long)first, (long)second,
           second > first ? "live: same memory as the writer" : "did not move");
    /* The grant is FILE_MAP_READ|SECTION_QUERY: a write view is refused by
     * the kernel, whatever this process tries. */
    w = MapViewOfFile((HANDLE)(uintptr_t)r.handle, FILE_MAP_WRITE, 0, 0, 0);
    if (w == NULL)
        printf("reader: write mapping refused by the kernel: error %lu%s\n",
               GetLastError(),
               GetLastError() == ERROR_ACCESS_DENIED ? " (access denied)" : "");
    else
        printf("reader: UNEXPECTED: write mapping succeeded\n");
    shmb_region_close(&r);
    return (w == NULL && second > first) ? 0 : 1;
}

int main(int argc, char **argv)
{
    shmb_connect_options o;
    shmb_client *c = NULL;
    int rc;

    if (argc < 3 || (strcmp(argv[1], "writer") == 0 && argc < 4)) {
        fprintf(stderr, "usage: shmb_demo writer NAME SECONDS | reader NAME\n");
        return 2;
    }
    memset(&o, 0, sizeof(o));
    o.client_name = argv[1];
    o.pipe_name = getenv("SHMB_PIPE");
    rc = shmb_connect(&o, &c);
    if (rc != SHMB_OK) {
        fail(c, "connect", rc);
        shmb_disconnect(c);
        return 1;
    }
    if (strcmp(argv[1], "writer") == 0)
        rc = writer(c, argv[2], atoi(argv[3]));
    else if (strcmp(argv[1], "reader") == 0)
        rc = reader(c, argv[2]);
    else
        rc = 2;
    shmb_disconnect(c);
    return rc;
}
