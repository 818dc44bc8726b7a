/*
 * vm_prefetch.h - cache prefetch hints that the compiler keeps.
 *
 * GCC (12.2, -O2) treats __builtin_prefetch as free of side effects: a
 * function whose only effect is prefetching is found pure by its
 * interprocedural analysis and its prefetches are dropped.  Measured here:
 * guest_pt_prefetch() compiled to a bare `ret`, and vm_fpstore's
 * prefetch_near() calls vanished, so the replay loop's page-table
 * prefetch never happened.  An `asm volatile` instruction is never
 * removed, so on x86-64 and AArch64 the hints below are written as the
 * instruction itself (PREFETCHT0, what __builtin_prefetch(p, rw, 3) emits
 * without -mprfchw; PRFM PLDL1KEEP / PSTL1KEEP); elsewhere they fall back
 * to __builtin_prefetch.
 *
 * A prefetch never faults and changes no state: p may be any address,
 * even NULL, one past an array or memory not mapped (the address is
 * passed in a register, so no C dereference is formed).  Hints only: nothing
 * may depend on them but speed.
 */
#ifndef VM_PREFETCH_H
#define VM_PREFETCH_H

/* Bring the cache line holding p towards the core, for a read. */
static inline void vm_prefetch(const void *p)
{
#if defined(__GNUC__) && defined(__x86_64__)
    __asm__ volatile("prefetcht0 (%0)" : : "r"(p));
#elif defined(__GNUC__) && defined(__aarch64__)
    __asm__ volatile("prfm pldl1keep, [%0]" : : "r"(p));
#else
    __builtin_prefetch(p, 0, 3);
#endif
}

/* The same, for a line about to be written. */
static inline void vm_prefetch_w(const void *p)
{
#if defined(__GNUC__) && defined(__x86_64__)
    __asm__ volatile("prefetcht0 (%0)" : : "r"(p));
#elif defined(__GNUC__) && defined(__aarch64__)
    __asm__ volatile("prfm pstl1keep, [%0]" : : "r"(p));
#else
    __builtin_prefetch(p, 1, 3);
#endif
}

#endif
