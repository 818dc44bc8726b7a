/*
 * fake_timer.h - a port_timer for unit tests over a fake_clock: armed
 * timers wait until the test runs them, so a test decides exactly when
 * simulated time moves and can interleave other events between deadlines.
 * Same order as the simulator's (vm_timerq.h): deadline, then arming order.
 *
 *   struct fake_clock clk;
 *   fake_clock_init(&clk, 0);
 *   struct fake_timer *ft = fake_timer_new(&clk);
 *   port_timer_arm(fake_timer_port(ft), 1000, fn, arg);
 *   while (fake_timer_run_next(ft))       // clk.now_ns == 1000 inside fn
 *       ;
 *   fake_timer_free(ft);
 */
#ifndef FAKE_TIMER_H
#define FAKE_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fakes/fake_clock.h"
#include "ports/port_timer.h"

struct fake_timer;

/* A timer port over clk (borrowed: it must outlive the timer).  NULL when
 * out of memory. */
struct fake_timer *fake_timer_new(struct fake_clock *clk);
/* Free it; pending timers are dropped.  NULL is a no-op. */
void fake_timer_free(struct fake_timer *ft);
struct port_timer *fake_timer_port(struct fake_timer *ft);

/* Advance the clock to the earliest deadline (never backwards: a deadline
 * already past runs at the clock's time) and run every timer due then,
 * those the callbacks arm for that instant or earlier included.  false
 * when nothing was pending (the clock does not move). */
bool fake_timer_run_next(struct fake_timer *ft);
/* Run the timers due up to t_ns in order, each at its own deadline, then
 * set the clock to t_ns (if it is behind).  Returns how many ran. */
size_t fake_timer_run_until(struct fake_timer *ft, uint64_t t_ns);
/* Timers armed and neither run nor cancelled. */
size_t fake_timer_pending(const struct fake_timer *ft);

#endif
