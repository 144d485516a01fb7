/* SPDX-License-Identifier: MPL-2.0 */
/*
 * atomic_ops.h - the few atomic operations the data plane needs on memory
 * it shares with another process: 64- and 32-bit acquire loads, release
 * stores, relaxed loads/stores, and fences.
 *
 * The shared layout is plain integers (another process, perhaps built by
 * another compiler, sees the same bytes), so these take plain pointers.
 * gcc, clang and MinGW use C11 <stdatomic.h>; MSVC's C11 atomics need
 * /experimental:c11atomics, so it gets its interlocked intrinsics instead.
 * Every location must be naturally aligned.
 */
#ifndef SHMB_ATOMIC_OPS_H
#define SHMB_ATOMIC_OPS_H

#include <stdint.h>

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>

#if defined(_M_ARM64) || defined(_M_ARM64EC)
#define SHMB_HW_FENCE() __dmb(_ARM64_BARRIER_ISH)
#elif defined(_M_ARM)
#define SHMB_HW_FENCE() __dmb(_ARM_BARRIER_ISH)
#else
/* x86/x64 loads are acquire and stores release in hardware: stopping the
 * compiler from moving accesses across is enough. */
#define SHMB_HW_FENCE() ((void)0)
#endif

static __inline uint64_t shmb_load_acquire64(const volatile uint64_t *p)
{
    uint64_t v = (uint64_t)__iso_volatile_load64((const volatile __int64 *)p);
    SHMB_HW_FENCE();
    _ReadWriteBarrier();
    return v;
}

static __inline void shmb_store_release64(volatile uint64_t *p, uint64_t v)
{
    _ReadWriteBarrier();
    SHMB_HW_FENCE();
    __iso_volatile_store64((volatile __int64 *)p, (__int64)v);
}

static __inline uint64_t shmb_load_relaxed64(const volatile uint64_t *p)
{
    return (uint64_t)__iso_volatile_load64((const volatile __int64 *)p);
}

static __inline void shmb_store_relaxed64(volatile uint64_t *p, uint64_t v)
{
    __iso_volatile_store64((volatile __int64 *)p, (__int64)v);
}

static __inline uint32_t shmb_load_relaxed32(const volatile uint32_t *p)
{
    return (uint32_t)__iso_volatile_load32((const volatile __int32 *)p);
}

static __inline void shmb_store_relaxed32(volatile uint32_t *p, uint32_t v)
{
    __iso_volatile_store32((volatile __int32 *)p, (__int32)v);
}

static __inline void shmb_fence_acquire(void)
{
    SHMB_HW_FENCE();
    _ReadWriteBarrier();
}

static __inline void shmb_fence_release(void)
{
    _ReadWriteBarrier();
    SHMB_HW_FENCE();
}

/* A full barrier (store-load ordering too): a locked instruction on x86. */
static __inline void shmb_fence_seq_cst(void)
{
    volatile __int64 guard = 0;
    _InterlockedCompareExchange64(&guard, 0, 0);
    SHMB_HW_FENCE();
}

#else
#include <stdatomic.h>

#define SHMB_A64(p) ((volatile _Atomic uint64_t *)(p))
#define SHMB_A32(p) ((volatile _Atomic uint32_t *)(p))

static inline uint64_t shmb_load_acquire64(const volatile uint64_t *p)
{
    return atomic_load_explicit(SHMB_A64(p), memory_order_acquire);
}

static inline void shmb_store_release64(volatile uint64_t *p, uint64_t v)
{
    atomic_store_explicit(SHMB_A64(p), v, memory_order_release);
}

static inline uint64_t shmb_load_relaxed64(const volatile uint64_t *p)
{
    return atomic_load_explicit(SHMB_A64(p), memory_order_relaxed);
}

static inline void shmb_store_relaxed64(volatile uint64_t *p, uint64_t v)
{
    atomic_store_explicit(SHMB_A64(p), v, memory_order_relaxed);
}

static inline uint32_t shmb_load_relaxed32(const volatile uint32_t *p)
{
    return atomic_load_explicit(SHMB_A32(p), memory_order_relaxed);
}

static inline void shmb_store_relaxed32(volatile uint32_t *p, uint32_t v)
{
    atomic_store_explicit(SHMB_A32(p), v, memory_order_relaxed);
}

static inline void shmb_fence_acquire(void)
{
    atomic_thread_fence(memory_order_acquire);
}

static inline void shmb_fence_release(void)
{
    atomic_thread_fence(memory_order_release);
}

static inline void shmb_fence_seq_cst(void)
{
    atomic_thread_fence(memory_order_seq_cst);
}

#endif

/* A hint inside a spin loop (x86 PAUSE, ARM YIELD): the other hardware
 * thread of the core runs, and leaving the loop costs no pipeline flush. */
#if defined(_MSC_VER) && !defined(__clang__)
#if defined(_M_ARM64) || defined(_M_ARM64EC) || defined(_M_ARM)
#define shmb_cpu_relax() __yield()
#else
#define shmb_cpu_relax() _mm_pause()
#endif
#elif defined(__x86_64__) || defined(__i386__)
#define shmb_cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define shmb_cpu_relax() __asm__ __volatile__("yield")
#else
#define shmb_cpu_relax() ((void)0)
#endif

#endif
