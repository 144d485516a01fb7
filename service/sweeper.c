/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sweeper.c - a sweep pass every interval, in steps of SWEEPER_BUDGET
 * retired regions, one step per loop turn.
 *
 * The further steps run from an idle handle, not a timer re-armed at 0 ms
 * in its own callback: libuv runs such a timer again in the same turn,
 * before any I/O, so a whole pass would still block the loop. While an
 * idle handle is active, every turn runs the idle callback once and then
 * polls for I/O without blocking, so each step is followed by the I/O that
 * came meanwhile.
 */
#include "sweeper.h"

static void step(sweeper *w)
{
    w->steps++;
    if (broker_sweep_step(w->b, SWEEPER_BUDGET))
        return;
    w->passes++;
    uv_idle_stop(&w->more);
}

static void on_more(uv_idle_t *h)
{
    step(h->data);
}

static void on_tick(uv_timer_t *t)
{
    sweeper *w = t->data;
    if (uv_is_active((uv_handle_t *)&w->more))
        return; /* the last pass is still going */
    uv_idle_start(&w->more, on_more);
    step(w);
}

void sweeper_start(sweeper *w, uv_loop_t *loop, broker *b, uint64_t interval_ms)
{
    w->b = b;
    w->steps = w->passes = 0;
    uv_timer_init(loop, &w->tick);
    uv_idle_init(loop, &w->more);
    w->tick.data = w->more.data = w;
    uv_timer_start(&w->tick, on_tick, interval_ms, interval_ms);
}

void sweeper_close(sweeper *w)
{
    uv_close((uv_handle_t *)&w->tick, NULL);
    uv_close((uv_handle_t *)&w->more, NULL);
}
