/*
 * sim_world.h - the SimGrid glue every simulated component uses: engine
 * start-up, platform loading (exceptions caught in a C++ shim), the clock
 * port, sleeping with an activity count, and wait queues for actors.
 *
 * One simulation per process: SimGrid's engine cannot be reset, so the
 * runner (sim_runner.c) forks a child per run point and the child calls
 * sim_world_init() + sim_world_load_platform() + simgrid_run().
 */
#ifndef SIM_WORLD_H
#define SIM_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include <simgrid/forward.h>

#include "base/vm_err.h"
#include "ports/port_clock.h"

/* simgrid_init() with vmsim's defaults (CM02 network model, quiet
 * "Configuration change" lines, logs at warning unless --log raised them).
 * argv may carry --cfg= / --log= options; they are consumed.  Once per
 * process. */
void sim_world_init(int *argc, char **argv);

/* Most --cfg= / --log= options a run passes to SimGrid. */
#define SIM_WORLD_MAX_OPTIONS 32

/* sim_world_init() for a run point or a check: argv is "vmsim" and the
 * nr (<= SIM_WORLD_MAX_OPTIONS) options given; more are an assertion. */
void sim_world_init_options(int nr, char *const *options);

/* Load a SimGrid platform XML.  Parse errors (SimGrid throws) come back as
 * VM_EPARSE with SimGrid's message; a missing file as VM_ENOENT. */
int sim_world_load_platform(const char *path, struct vm_diag *d);

/* The host called name, or when name is "" the first host (by id order)
 * that has a disk.  NULL with a diag if none. */
sg_host_t sim_world_host(const char *name, struct vm_diag *d);
/* The host's RAM from its <prop id="memory" value="128GiB"/> in *bytes,
 * 0 when it has none; VM_EINVAL naming the host for a value that is not
 * a size. */
int sim_world_host_memory(sg_host_t h, uint64_t *bytes, struct vm_diag *d);
/* The disk called name on host, or its first disk when name is "".  NULL
 * with a diag (VM_ENOENT) if none. */
sg_disk_t sim_world_disk(sg_host_t host, const char *name, struct vm_diag *d);

/* Simulated time in ns (SimGrid's double seconds, rounded to ns). */
uint64_t sim_now_ns(void);
/* The clock as a port for models. */
const struct port_clock *sim_world_clock(void);
/* Sleep the calling actor; 0 returns at once without an activity. */
void sim_sleep_ns(uint64_t ns);
/* Activities issued so far in this process (sleeps, disk I/Os, execs). */
uint64_t sim_activity_count(void);
void sim_activity_add(uint64_t n);

/* A wait queue: actors block until another actor wakes them.  Spurious
 * wakeups are allowed; callers re-check their condition in a loop.
 *
 * A wake is a simcall, so it lets other actors run, and so does any port
 * call: a caller whose check of its condition makes such calls (a policy
 * step that submits I/O) takes a ticket before it and waits with it - a
 * wake after the ticket makes the wait return at once:
 *
 *     uint64_t t = sim_waitq_ticket(q);
 *     rc = step();                   // may submit, and be woken meanwhile
 *     if (rc == WAIT)
 *         sim_waitq_wait_ticket(q, t);
 *
 * sim_waitq_wait(q) takes its ticket itself: right when nothing between
 * the caller's check and the call lets other actors run. */
struct sim_waitq;
struct sim_waitq *sim_waitq_new(void);
void sim_waitq_free(struct sim_waitq *q);
uint64_t sim_waitq_ticket(const struct sim_waitq *q);
void sim_waitq_wait(struct sim_waitq *q);
void sim_waitq_wait_ticket(struct sim_waitq *q, uint64_t ticket);
/* Wait at most timeout_ns; returns 0 if woken, VM_ETIMEDOUT otherwise. */
int sim_waitq_wait_for(struct sim_waitq *q, uint64_t timeout_ns);
int sim_waitq_wait_for_ticket(struct sim_waitq *q, uint64_t ticket, uint64_t timeout_ns);
void sim_waitq_wake_all(struct sim_waitq *q);
/* Wake one waiter (the longest waiting), if any. */
void sim_waitq_wake_one(struct sim_waitq *q);

#endif
