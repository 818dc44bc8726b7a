/*
 * sim_rx.h - receivers for event-driven models: one SimGrid actor per
 * transport endpoint waits for the endpoint's messages and hands each to
 * a callback, so a model written as callbacks (a cluster of hosts, a
 * datacenter of servers) never blocks and the world needs no actor per
 * simulated host.
 *
 *     struct sim_rx *rx = sim_rx_new(tr, 16, deliver, world, d);
 *     sim_rx_endpoint(rx, "ds", ds_host, d);    // makes the endpoint too
 *     ... run ...
 *     sim_rx_stop(rx, "ds");                    // before sim_transport_free
 *     sim_rx_free(rx);
 *
 * Activities: none of its own beyond the transport's (one per message).
 * Memory: ~24 KB per receiver actor (SimGrid's context), alive until
 * stopped.  Tag SIM_RX_STOP is reserved: a model's messages must not use
 * it.
 */
#ifndef SIM_RX_H
#define SIM_RX_H

#include <simgrid/forward.h>

#include "base/vm_err.h"
#include "ports/port_transport.h"
#include "sim_transport.h"

#define SIM_RX_STOP 0xffffu             /* the tag that ends a receiver */

/* Called in the receiver's actor for each message to endpoint `self` (the
 * message stays the caller's: do not free its blob). */
typedef void (*sim_rx_fn)(void *arg, const char *self, const struct port_transport_msg *m);

struct sim_rx;

/* Receivers over transport tr for at most max endpoints, calling fn(arg,
 * ...) for each message.  NULL with a diag when out of memory. */
struct sim_rx *sim_rx_new(struct sim_transport *tr, int max, sim_rx_fn fn, void *arg,
                          struct vm_diag *d);
/* Make endpoint `name` on host `on` (sim_transport_endpoint) and start its
 * receiver, an actor named "rx-<name>".  0, VM_ENOSPC (max endpoints
 * reached), or the transport's error with its diag. */
int sim_rx_endpoint(struct sim_rx *rx, const char *name, sg_host_t on, struct vm_diag *d);
/* End every receiver: a SIM_RX_STOP message from endpoint `from` to each,
 * then wait until all have ended (call from an actor, before the
 * transport is freed).  Messages queued before the stop are delivered. */
void sim_rx_stop(struct sim_rx *rx, const char *from);
/* Free it (after sim_rx_stop, or when no receiver was started).  NULL-safe. */
void sim_rx_free(struct sim_rx *rx);

#endif
