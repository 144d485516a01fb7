/* SPDX-License-Identifier: MPL-2.0 */
/*
 * dataplane_win.c - shmb_wait_ops over a region's brokered doorbells.
 *
 * The doorbells are auto-reset events the broker duplicated into this
 * process with the grant's access; waiting and ringing are one kernel call
 * each. A ring that fails (a read-only grant's doorbell, a handle closed
 * under us) is not reported: the ring and snapshot never rely on a wake
 * arriving - every wait has a timeout and rechecks the shared indices.
 */
#include <windows.h>

#include "shmb.h"
#include "shmb_dataplane.h"

static void bell_wait(void *ctx, uint32_t timeout_ms)
{
    const shmb_doorbell_ctx *d = ctx;

    /* A caller's UINT32_MAX is a long timeout, never INFINITE. */
    if (timeout_ms == INFINITE)
        timeout_ms = INFINITE - 1;
    if (d->wait_event == 0) {
        Sleep(timeout_ms);
        return;
    }
    WaitForSingleObject((HANDLE)(uintptr_t)d->wait_event, timeout_ms);
}

static void bell_wake(void *ctx)
{
    const shmb_doorbell_ctx *d = ctx;

    if (d->wake_event != 0)
        SetEvent((HANDLE)(uintptr_t)d->wake_event);
}

static uint64_t bell_now_ms(void *ctx)
{
    (void)ctx;
    return GetTickCount64();
}

static int bell_handle(const shmb_region *r, uint32_t bell, uint64_t *out)
{
    if (bell == SHMB_NO_DOORBELL) {
        *out = 0;
        return SHMB_OK;
    }
    if (bell >= r->ndoorbells || r->doorbells[bell] == 0)
        return SHMB_E_INVALID_ARG;
    *out = r->doorbells[bell];
    return SHMB_OK;
}

int shmb_wait_ops_doorbells(shmb_wait_ops *ops, shmb_doorbell_ctx *ctx,
                            const shmb_region *r, uint32_t wait_bell,
                            uint32_t wake_bell)
{
    shmb_doorbell_ctx d;

    if (ops == NULL || ctx == NULL || r == NULL)
        return SHMB_E_INVALID_ARG;
    if (bell_handle(r, wait_bell, &d.wait_event) != SHMB_OK ||
        bell_handle(r, wake_bell, &d.wake_event) != SHMB_OK)
        return SHMB_E_INVALID_ARG;
    *ctx = d;
    ops->wait = bell_wait;
    ops->wake = bell_wake;
    ops->now_ms = bell_now_ms;
    ops->ctx = ctx;
    return SHMB_OK;
}

int shmb_wait_ops_ring(shmb_wait_ops *ops, shmb_doorbell_ctx *ctx,
                       const shmb_region *r, int role)
{
    if (role == SHMB_RING_PRODUCER)
        return shmb_wait_ops_doorbells(ops, ctx, r, SHMB_RING_BELL_ROOM,
                                       SHMB_RING_BELL_DATA);
    if (role == SHMB_RING_CONSUMER)
        return shmb_wait_ops_doorbells(ops, ctx, r, SHMB_RING_BELL_DATA,
                                       SHMB_RING_BELL_ROOM);
    return SHMB_E_INVALID_ARG;
}
