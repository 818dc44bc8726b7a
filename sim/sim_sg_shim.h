/*
 * sim_sg_shim.h - the few SimGrid 3.32 calls that exist only in C++,
 * wrapped for C (sim_sg_shim.cpp).
 *
 * SimGrid's C API in 3.32 has no disk properties, no host-to-host
 * transfer without mailboxes, no route query, no way to start an actor
 * or to make one a daemon in a single simcall, and reports platform
 * errors by throwing C++ exceptions, which would abort a C caller.  The
 * shim catches them and hands back SimGrid's message.  Nothing else of
 * vmsim is C++.
 */
#ifndef SIM_SG_SHIM_H
#define SIM_SG_SHIM_H

#include <stddef.h>

#include <simgrid/forward.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * simgrid_load_platform(path) with every exception caught: 0, or -1 with
 * the first line of the exception's message in msg (always NUL-terminated,
 * truncated to len).
 */
int sim_sg_load_platform(const char *path, char *msg, size_t len);

/* Value of a <prop> on a <disk> (s4u::Disk::get_property), NULL if unset. */
const char *sim_sg_disk_property(const_sg_disk_t disk, const char *key);
/* The first (in byte order) of disk's <prop> names not in known (a NULL-
 * ended list), copied into name (len bytes, cut); 1 when there is one,
 * 0 when every name is known, -1 on failure. */
int sim_sg_disk_unknown_prop(const_sg_disk_t disk, const char *const *known, char *name,
                             size_t len);

/* Read (is_write false) or write `bytes` on `disk` with SimGrid's disk
 * model, blocking the calling actor until the transfer is done, with
 * `weight` shares of the bandwidth where an activity of weight 1 gets one
 * (s4u::Disk::read/write(size, priority); the max-min system gives each
 * activity its weight's part of the constraint that limits it - the
 * disk's, or its read or write bandwidth - SimGrid 3.32
 * src/s4u/s4u_Io.cpp: priority p is a sharing penalty of 1/p).
 * weight > 0.
 *
 * The same activity as s4u::Disk::read/write, in fewer simcalls: each
 * simcall of an actor is a yield to maestro and back, and Disk::read
 * makes one per setter (disk, size, type, start: four, five with a
 * priority) before the wait; here the activity is made in the actor (so
 * it is the actor's, as there), then set up and started in one simcall,
 * then waited for.  A weight other than 1 first sets the priority in a
 * simcall of its own, so, as with Disk::read(size, priority), such a
 * transfer starts one scheduling sub-round after one of weight 1 begun
 * at the same instant: the order of the transfers started within an
 * instant, and with it every result, is the one Disk::read gave (the 30
 * quick experiments byte-identical; 6% fewer instructions on a 10 GiB
 * consolidation under load). */
void sim_sg_disk_io(sg_disk_t disk, unsigned long long bytes, int is_write, double weight);

/* Transfer bytes from host `from` to host `to` over the platform's route
 * (s4u::Comm::sendto), blocking the calling actor until it arrives.
 * 0, or -1 if SimGrid threw (the transfer did not happen). */
int sim_sg_sendto(sg_host_t from, sg_host_t to, unsigned long long bytes);

/* The number of links on the route from `from` to `to` (s4u::Host::
 * route_to), and its latency in seconds in *lat_s.  SimGrid 3.32 gives an
 * empty route, not an error, when the platform declares none between two
 * hosts.  -1 if SimGrid threw. */
int sim_sg_route_links(sg_host_t from, sg_host_t to, double *lat_s);

/*
 * Start an actor named `name` on `host` running code(), with `data` as its
 * actor data and a stack of stack_kib KiB (0: SimGrid's default,
 * contexts/stack-size, 8 MiB), in one simcall: a calling actor killed
 * half-way between sg_actor_init() and sg_actor_start() (two simcalls in
 * SimGrid 3.32) would leak the record of an actor made but never started.
 * Works from an actor and from maestro (set-up).  0, or -1 if SimGrid
 * threw (no actor was started).  A ForcefulKillException of the caller is
 * not caught: it must unwind for the kill to work.
 */
int sim_sg_actor_start(const char *name, sg_host_t host, void (*code)(void), void *data,
                       unsigned stack_kib);

/*
 * Make the calling actor a daemon and register on_exit(failed, arg) to run
 * when it ends or is killed, in one simcall.  An actor started by another
 * actor becomes a daemon itself this way, not by its creator: a daemon
 * started as the simulation ends is killed before it first runs, and
 * SimGrid 3.32 would still run it into its first blocking call ("Daemon
 * actors cannot do any blocking activity once the simulation is over");
 * an ordinary actor there runs, becomes a daemon and is killed in its
 * wait like any other.
 */
void sim_sg_self_daemonize_on_exit(void (*on_exit)(int failed, void *arg), void *arg);

#ifdef __cplusplus
}
#endif

#endif
