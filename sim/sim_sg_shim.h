/*
 * sim_sg_shim.h - the few SimGrid 3.32 calls that exist only in C++,
 * wrapped for C (sim_sg_shim.cpp).
 *
 * SimGrid's C API in 3.32 has no disk properties, no host-to-host
 * transfer without mailboxes, no route query, and reports platform
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

/* Transfer bytes from host `from` to host `to` over the platform's route
 * (s4u::Comm::sendto), blocking the calling actor until it arrives.
 * 0, or -1 if SimGrid threw (the transfer did not happen). */
int sim_sg_sendto(sg_host_t from, sg_host_t to, unsigned long long bytes);

/* The number of links on the route from `from` to `to` (s4u::Host::
 * route_to), and its latency in seconds in *lat_s.  SimGrid 3.32 gives an
 * empty route, not an error, when the platform declares none between two
 * hosts.  -1 if SimGrid threw. */
int sim_sg_route_links(sg_host_t from, sg_host_t to, double *lat_s);

#ifdef __cplusplus
}
#endif

#endif
