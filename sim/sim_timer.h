/*
 * sim_timer.h - the timer port (port_timer.h) on SimGrid: one daemon actor
 * per timer port sleeps until the earliest deadline and runs the timers
 * due then, in deadline order and, at equal deadlines, in arming order.
 *
 * Cost: one SimGrid activity (a timed wait, counted in
 * sim_activity_count()) per distinct deadline the actor sleeps to, plus
 * one per earlier deadline armed while it sleeps (arm() wakes it).
 * Callbacks run in the timer actor, on the host given to sim_timer_new();
 * they may arm and cancel timers, submit I/O, and call sim_timer_free().
 *
 * The actor is a daemon: a pending timer keeps no simulation alive, so
 * timers still pending when the last ordinary actor ends never run.
 */
#ifndef SIM_TIMER_H
#define SIM_TIMER_H

#include <simgrid/forward.h>

#include "ports/port_timer.h"

/* A timer port whose actor runs on host.  Starts the actor, so call it
 * from inside the simulation (an actor) or before simgrid_run().  NULL
 * when out of memory. */
struct port_timer *sim_timer_new(sg_host_t host);

/* Release the port; timers still pending are dropped without running.
 * From an actor (a callback included): the timer actor ends at its next
 * turn and takes the memory with it.  After simgrid_run() returned: freed
 * at once.  The port must not be used afterwards.  NULL is a no-op. */
void sim_timer_free(struct port_timer *pt);

#endif
