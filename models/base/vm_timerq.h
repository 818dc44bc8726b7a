/*
 * vm_timerq.h - the queue behind every timer port (port_timer.h): a binary
 * min-heap of pending timers keyed on (deadline, arming sequence), so the
 * earliest deadline comes first and equal deadlines come out in the order
 * they were armed (FIFO: a run is deterministic).  Cancel by id in
 * O(log n): each timer lives in a slot that knows its heap position.
 *
 * Plain C, no clock: sim/sim_timer.c (SimGrid) and tests/fakes/fake_timer.c
 * decide when to pop; this file only orders.  Not thread-safe.
 *
 *   struct vm_timerq *q = vm_timerq_new();
 *   uint64_t id = vm_timerq_push(q, 1000, fn, arg);   // 0: out of memory
 *   uint64_t when;
 *   while (vm_timerq_peek(q, &when) && when <= now) {
 *       struct vm_timerq_entry e;
 *       vm_timerq_pop(q, &e);
 *       e.fn(e.arg);                                  // may push and cancel
 *   }
 *   vm_timerq_free(q);                                // pending timers dropped
 */
#ifndef VM_TIMERQ_H
#define VM_TIMERQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ports/port_timer.h"

/* A timer taken off the queue: what to call and when it was due. */
struct vm_timerq_entry {
    uint64_t when_ns;
    uint64_t id;
    port_timer_fn fn;
    void *arg;
};

struct vm_timerq;

/* An empty queue, or NULL when out of memory. */
struct vm_timerq *vm_timerq_new(void);
/* Free the queue; pending timers are dropped without running.  NULL is a
 * no-op. */
void vm_timerq_free(struct vm_timerq *q);

/* Queue fn(arg) at when_ns.  Returns its id (> 0, never reused while the
 * timer is pending), or 0 when out of memory (nothing queued). */
uint64_t vm_timerq_push(struct vm_timerq *q, uint64_t when_ns, port_timer_fn fn, void *arg);
/* Remove a pending timer: 0, or VM_ENOENT when id is not pending (it ran,
 * was cancelled, or never existed). */
int vm_timerq_cancel(struct vm_timerq *q, uint64_t id);
/* The earliest deadline into *when_ns: true, or false when empty. */
bool vm_timerq_peek(const struct vm_timerq *q, uint64_t *when_ns);
/* Take the first timer (earliest deadline, then earliest armed) into *e:
 * true, or false when empty.  Its id is no longer pending. */
bool vm_timerq_pop(struct vm_timerq *q, struct vm_timerq_entry *e);
/* Timers pending. */
size_t vm_timerq_len(const struct vm_timerq *q);

#endif
