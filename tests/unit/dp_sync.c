/* SPDX-License-Identifier: MPL-2.0 */
/* dp_sync.c - threads and doorbells for the data-plane tests. */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#include <windows.h>
#include <malloc.h>
#else
#include <pthread.h>
#include <time.h>
#endif

#include "harness.h"
#include "dp_sync.h"

struct dp_bell {
#if defined(_WIN32)
    HANDLE ev;
#else
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int signalled;
#endif
    volatile unsigned waits;
};

struct dp_thread {
    int (*fn)(void *);
    void *arg;
    int rc;
#if defined(_WIN32)
    HANDLE h;
#else
    pthread_t t;
#endif
};

dp_bell *dp_bell_new(void)
{
    dp_bell *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return NULL;
#if defined(_WIN32)
    b->ev = CreateEventW(NULL, FALSE, FALSE, NULL); /* auto-reset */
    if (b->ev == NULL) {
        free(b);
        return NULL;
    }
#else
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
#endif
    return b;
}

void dp_bell_free(dp_bell *b)
{
    if (b == NULL)
        return;
#if defined(_WIN32)
    CloseHandle(b->ev);
#else
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
#endif
    free(b);
}

unsigned dp_bell_waits(dp_bell *b)
{
    return b->waits;
}

static void bell_wait(void *ctx, uint32_t timeout_ms)
{
    dp_bell *b = ((dp_end *)ctx)->mine;

    b->waits++;
#if defined(_WIN32)
    WaitForSingleObject(b->ev, timeout_ms);
#else
    {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t)(timeout_ms / 1000);
        ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&b->mu);
        while (!b->signalled)
            if (pthread_cond_timedwait(&b->cv, &b->mu, &ts) != 0)
                break;
        b->signalled = 0;
        pthread_mutex_unlock(&b->mu);
    }
#endif
}

static void bell_wake(void *ctx)
{
    dp_bell *b = ((dp_end *)ctx)->peer;

#if defined(_WIN32)
    SetEvent(b->ev);
#else
    pthread_mutex_lock(&b->mu);
    b->signalled = 1;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
#endif
}

static uint64_t bell_now(void *ctx)
{
    (void)ctx;
    return shmb_clock_ms();
}

void dp_ops(shmb_wait_ops *ops, dp_end *end)
{
    ops->wait = bell_wait;
    ops->wake = bell_wake;
    ops->now_ms = bell_now;
    ops->ctx = end;
}

#if defined(_WIN32)
static DWORD WINAPI thread_main(LPVOID p)
#else
static void *thread_main(void *p)
#endif
{
    dp_thread *t = p;

    t->rc = t->fn(t->arg);
#if defined(_WIN32)
    return 0;
#else
    return NULL;
#endif
}

dp_thread *dp_thread_start(int (*fn)(void *), void *arg)
{
    dp_thread *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    t->fn = fn;
    t->arg = arg;
#if defined(_WIN32)
    t->h = CreateThread(NULL, 0, thread_main, t, 0, NULL);
    if (t->h == NULL) {
        free(t);
        return NULL;
    }
#else
    if (pthread_create(&t->t, NULL, thread_main, t) != 0) {
        free(t);
        return NULL;
    }
#endif
    return t;
}

int dp_thread_join(dp_thread *t)
{
    int rc;

#if defined(_WIN32)
    WaitForSingleObject(t->h, INFINITE);
    CloseHandle(t->h);
#else
    pthread_join(t->t, NULL);
#endif
    rc = t->rc;
    free(t);
    return rc;
}

void *dp_alloc(size_t size)
{
    void *p;

#if defined(_WIN32)
    p = _aligned_malloc(size, 64);
#else
    if (posix_memalign(&p, 64, size) != 0)
        p = NULL;
#endif
    if (p != NULL)
        memset(p, 0, size);
    return p;
}

void dp_free(void *p)
{
#if defined(_WIN32)
    _aligned_free(p);
#else
    free(p);
#endif
}

static void vw_wait(void *ctx, uint32_t timeout_ms)
{
    dp_virtual_wait *v = ctx;
    v->waits++;
    if (timeout_ms > v->longest)
        v->longest = timeout_ms;
    v->now += timeout_ms;
}

static void vw_wake(void *ctx)
{
    ((dp_virtual_wait *)ctx)->wakes++;
}

static uint64_t vw_now(void *ctx)
{
    return ((dp_virtual_wait *)ctx)->now;
}

void dp_virtual_ops(shmb_wait_ops *ops, dp_virtual_wait *v)
{
    memset(v, 0, sizeof(*v));
    ops->wait = vw_wait;
    ops->wake = vw_wake;
    ops->now_ms = vw_now;
    ops->ctx = v;
}
