/* SPDX-License-Identifier: MPL-2.0 */
/*
 * sweeper.h - drives broker_sweep_step on a libuv loop: a pass every
 * interval, its further steps one per loop turn, so that the loop serves
 * its connections between them (service.c uses it; tests/server tests it).
 */
#ifndef SHMB_SWEEPER_H
#define SHMB_SWEEPER_H

#include <stdint.h>
#include <uv.h>

#include "broker.h"

/* Retired regions looked at per step. */
#define SWEEPER_BUDGET 64

typedef struct sweeper {
    uv_timer_t tick; /* starts a pass every interval */
    uv_idle_t more;  /* runs its further steps, one per loop turn */
    broker *b;
    uint64_t steps;  /* broker_sweep_step calls so far */
    uint64_t passes; /* passes completed */
} sweeper;

void sweeper_start(sweeper *w, uv_loop_t *loop, broker *b,
                   uint64_t interval_ms);
/* Closes both handles (uv_close: the loop must run for them to finish). */
void sweeper_close(sweeper *w);

#endif
