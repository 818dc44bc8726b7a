/*
 * sim_transport.h - the transport port (models/ports/port_transport.h) on
 * SimGrid's network: endpoints live on hosts of the platform and a
 * message costs what SimGrid's network model charges for wire_bytes
 * from one host to the other over the platform's route.
 *
 * Network model: vmsim starts SimGrid with network/model:CM02 and
 * network/crosstraffic:0 (sim_world.c), so a message alone on its route
 * takes exactly
 *
 *     route latency + wire_bytes / bottleneck bandwidth
 *
 * and concurrent messages share each link max-min fairly.  CM02 also
 * bounds one flow's rate by network/TCP-gamma / (2 x route latency)
 * (a TCP window of 4 MiB by default): 84 GB/s on a 25 us route, no bound
 * in a rack, but 210 MB/s across a 10 ms WAN route.  SimGrid's default
 * model (LV08) would multiply latency by 13.01 and bandwidth by 0.97.
 * Same-host endpoints use the host's loopback (SimGrid's defaults).
 *
 * Usage, from SimGrid actors (every call but _new/_endpoint/_add_fault/
 * _set_filter/_free may block the calling actor):
 *
 *     struct sim_transport *tr = sim_transport_new(seed, d);
 *     sim_transport_endpoint(tr, "src", sg_host_by_name("host0"), d);
 *     sim_transport_endpoint(tr, "dst", sg_host_by_name("host1"), d);
 *     struct port_transport *t = sim_transport_port(tr);
 *     // server actor:  port_transport_recv(t, "src", FOREVER, &m); ...
 *     //                port_transport_reply(t, "src", &m, &rep);
 *     // vCPU actors:   port_transport_call(t, "dst", "src", &req, timeout, &r);
 *
 * How it is built.  A message in flight is carried by a carrier actor: a
 * pool of daemon actors (grown on demand up to SIM_TRANSPORT_MAX_CARRIERS,
 * reused, like sim_disk's workers) each takes the next message, sleeps
 * its injected extra delay, transfers wire_bytes host to host
 * (s4u::Comm::sendto, through the C++ shim) and delivers it.  So sends do
 * not block the sender, every message in flight shares the links with the
 * others, and there is one SimGrid activity per message (plus one sleep
 * when delayed).  Beyond SIM_TRANSPORT_MAX_CARRIERS messages in flight,
 * further messages wait for a carrier in FIFO order (a send queue whose
 * wait adds to their time; stats count such sends): a protocol with
 * more outstanding messages than that should batch them.  So a stream of
 * small asynchronous messages is window-limited as TCP is: 64 x 4 KiB in
 * flight over 25 us reach 2.4 GB/s of a 3.125 GB/s link
 * (bench/bench_transport); 64 KiB messages reach 98% of it.
 * A send with PORT_TRANSPORT_F_WAIT is carried by the sender itself.
 *
 * Ordering: each (from, to) pair delivers in send order; a message that
 * arrives before an earlier one of its pair waits for it at the receiver
 * (TCP's in-order delivery).  A lost message is still carried (it used
 * the link) and holds later ones of its pair until its transfer ends;
 * retransmission is not modelled.
 *
 * Faults: rules (sim_transport_add_fault) match messages by sender,
 * receiver and send time; a matching message may be lost (the n-th match,
 * the n-th and every later one, or each with a seeded probability) or
 * delayed by a fixed extra time.  Loss draws come from one vm_rand stream
 * per rule, seeded from the transport's seed: the same seed and the same
 * sends lose the same messages.  A filter (sim_transport_set_filter) sees
 * every message by its hosts' names, as fault injection by host needs it
 * (sim_faults.h: partitions, loss, delay); it combines with the rules.
 *
 * Memory: per endpoint, 24 bytes per other endpoint (sequence numbers and
 * route checks); per message in flight, its blob plus ~120 bytes; ~24 KB
 * per carrier actor (they live until the simulation ends).
 */
#ifndef SIM_TRANSPORT_H
#define SIM_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <simgrid/forward.h>

#include "base/vm_err.h"
#include "ports/port_transport.h"

#define SIM_TRANSPORT_MAX_CARRIERS 64
#define SIM_TRANSPORT_MAX_FAULTS 16
#define SIM_TRANSPORT_NAME_MAX 64       /* endpoint names, NUL included */

struct sim_transport;

/* A new transport with no endpoints; seed feeds the loss draws.  NULL
 * with a diag when out of memory.  Needs a loaded platform when messages
 * are sent, not when created. */
struct sim_transport *sim_transport_new(uint64_t seed, struct vm_diag *d);

/* Free it, from an actor or after simgrid_run() has returned: messages
 * still queued or waiting at receivers are freed; carriers still
 * transferring finish their transfer, then drop the message and end
 * (they hold a reference).  Calls blocked in recv() or call() must have
 * returned.  NULL is ignored. */
void sim_transport_free(struct sim_transport *tr);

/* The port (valid until sim_transport_free()). */
struct port_transport *sim_transport_port(struct sim_transport *tr);

/* Add endpoint `name` (1..SIM_TRANSPORT_NAME_MAX-1 characters) living on
 * host.  0, VM_EINVAL (empty, too long or NULL host), VM_EBUSY (the name
 * is taken), VM_ENOMEM. */
int sim_transport_endpoint(struct sim_transport *tr, const char *name, sg_host_t host,
                           struct vm_diag *d);

/* A fault rule.  A message matches when its sender and receiver match
 * (NULL: any endpoint) and it is sent in [from_ns, until_ns) (until_ns 0:
 * forever).  Of the matching messages (counted from 1 in send order):
 *   - drop_nth > 0: the drop_nth-th is lost; with drop_after also every
 *     later one (a partition from then on);
 *   - loss in [0, 1]: each is lost with that probability;
 *   - delay_ns: each that is not lost arrives delay_ns later (queued
 *     behind it: later messages of the same pair wait too).
 * Rules combine: a message is lost if any rule loses it, and delayed by
 * the sum of the delays of the rules it matches. */
struct sim_transport_fault {
    const char *from, *to;           /* endpoint names or NULL; copied */
    uint64_t from_ns, until_ns;
    uint64_t drop_nth;
    bool drop_after;
    double loss;
    uint64_t delay_ns;
};

/* Add a rule (at most SIM_TRANSPORT_MAX_FAULTS).  0, VM_EINVAL (loss out
 * of [0, 1], until_ns <= from_ns, unknown endpoint name), VM_ENOSPC. */
int sim_transport_add_fault(struct sim_transport *tr, const struct sim_transport_fault *f,
                            struct vm_diag *d);

/*
 * A filter on every message sent: from_host and to_host are the names of
 * the sender's and the receiver's hosts, now_ns the send time.  Returns
 * true when the message is lost; *delay_ns (0 on entry) gets an extra
 * delay.  It combines with the rules: a message is lost if the filter or
 * any rule loses it (it is then carried and dropped like one a rule lost,
 * and counted in stats.lost), and delayed by the filter's delay plus the
 * rules'.  It is called once per message, after the rules, from the
 * sending actor; it must not block.
 */
typedef bool (*sim_transport_filter_fn)(void *arg, const char *from_host, const char *to_host,
                                        uint64_t now_ns, uint64_t *delay_ns);

/* Set the filter (NULL: none) and its arg; replaces the previous one. */
void sim_transport_set_filter(struct sim_transport *tr, sim_transport_filter_fn fn, void *arg);

struct sim_transport_stats {
    uint64_t sent;                   /* messages handed to the network */
    uint64_t delivered;              /* delivered to an endpoint or a call */
    uint64_t lost;                   /* dropped by a fault rule */
    uint64_t delayed;                /* delayed by a fault rule */
    uint64_t wire_bytes;             /* wire bytes of the messages sent */
    uint64_t calls, call_timeouts;   /* call()s and those that timed out */
    uint64_t late_replies;           /* replies that found no waiting call */
    uint64_t queued_for_carrier;     /* sends that waited for a free carrier */
    uint64_t carriers;               /* carrier actors started */
};
const struct sim_transport_stats *sim_transport_stats(const struct sim_transport *tr);

/* Wire bytes endpoint `name` sent and received (delivered to it);
 * VM_ENOENT for an unknown name. */
int sim_transport_endpoint_bytes(const struct sim_transport *tr, const char *name,
                                 uint64_t *sent, uint64_t *received);

#endif
