/*
 * port_timer.h - timers for models: "call fn(arg) at simulated time t".
 *
 * A model that must act at a time of its own choosing (a Poisson arrival,
 * the end of a stun, a retry backoff) arms a timer; the world calls the
 * callback at that instant of its clock (port_clock.h).  Callbacks run
 * exactly once, never from inside arm(), in deadline order; timers with
 * the same deadline run in the order they were armed (FIFO), so a run is
 * deterministic.  A callback may arm and cancel timers, and submit I/O.
 *
 * In the simulator (sim/sim_timer.c) one actor sleeps until the earliest
 * deadline: one SimGrid activity per deadline, not per timer armed.  In
 * tests (tests/fakes/fake_timer.h) the test advances a fake clock and the
 * due timers run.  Both keep their timers in a vm_timerq (base/vm_timerq.h),
 * so both order them alike.  "Never from inside arm()" holds across actors
 * too: a callback does not run before the arm() that queued it returned.
 */
#ifndef PORT_TIMER_H
#define PORT_TIMER_H

#include <stdint.h>

#define PORT_TIMER_VERSION 1

struct port_timer;
typedef void (*port_timer_fn)(void *arg);

struct port_timer_ops {
    int version;                /* PORT_TIMER_VERSION */
    const char *name;           /* "sim", "fake" */
    /* Call fn(arg) at absolute time when_ns (a time already past: as soon
     * as possible, after arm() returned).  Returns an id > 0 for cancel(),
     * or 0 when out of memory (fn will not run). */
    uint64_t (*arm)(struct port_timer *t, uint64_t when_ns, port_timer_fn fn, void *arg);
    /* Cancel a timer that has not run yet; 0, or VM_ENOENT when it already
     * ran or was cancelled (harmless). */
    int (*cancel)(struct port_timer *t, uint64_t id);
};
struct port_timer { const struct port_timer_ops *ops; };   /* implementations embed it first */

static inline uint64_t port_timer_arm(struct port_timer *t, uint64_t when_ns,
                                      port_timer_fn fn, void *arg)
{ return t->ops->arm(t, when_ns, fn, arg); }
static inline int port_timer_cancel(struct port_timer *t, uint64_t id)
{ return t->ops->cancel(t, id); }

#endif
