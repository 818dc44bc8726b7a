/*
 * fake_transport.h - a transport port (models/ports/port_transport.h) for
 * model-level unit tests: deterministic, single-threaded, never blocks.
 *
 * Time is a fake_clock the test owns.  A message sent at t on the pair
 * (from, to) starts when the pair's previous message has left (one
 * stream per pair, no sharing between pairs) and arrives at
 *
 *     start + injected delay + lat_ns + wire_bytes / bytes_per_s
 *
 * and never before the pair's previous arrival (in-order delivery).
 * Nothing arrives until time moves: recv(), call() and a send with
 * PORT_TRANSPORT_F_WAIT move the clock from arrival to arrival, as far as
 * they need to and never past their deadline; fake_transport_run() moves
 * it for a test that drives the serving side itself.
 *
 * Serving side: an endpoint made with a handler gets each MSG and REQUEST
 * delivered to it by a call to the handler, with the clock at the
 * arrival; the handler may send() and reply() (its replies are delivered
 * in turn) but must not recv() or call(): those return VM_EBUSY inside a
 * handler.  An endpoint without a handler keeps its messages for recv().
 * REPLYs go to the call() waiting for their id; one nobody waits for is
 * dropped and counted (late_replies).
 *
 * Where the simulator would block forever (recv or call with
 * PORT_TRANSPORT_FOREVER and nothing left to arrive), the fake returns
 * VM_ETIMEDOUT at once and leaves the clock alone.
 *
 * Faults: rules as in sim/sim_transport.h (drop the n-th match, or from
 * it on; seeded loss probability; extra delay), drawn from vm_rand
 * streams seeded by fake_transport_new()'s seed.
 *
 * Every message sent is logged (fake_transport_sent()) so tests can
 * assert what a model asked for, in order.
 */
#ifndef FAKE_TRANSPORT_H
#define FAKE_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "fakes/fake_clock.h"
#include "ports/port_transport.h"

#define FAKE_TRANSPORT_MAX_ENDPOINTS 16
#define FAKE_TRANSPORT_MAX_FAULTS 8

struct fake_transport;

/* Handle a MSG or REQUEST delivered to endpoint `self`; m and its blob
 * are the fake's (copy what you keep).  data is the test's. */
typedef void (*fake_transport_handler)(void *data, struct port_transport *t, const char *self,
                                       const struct port_transport_msg *m);

/* A transport on clock (the caller's; must outlive it); every pair has
 * latency lat_ns and bytes_per_s > 0.  NULL when out of memory. */
struct fake_transport *fake_transport_new(struct fake_clock *clock, uint64_t lat_ns,
                                          double bytes_per_s, uint64_t seed);
void fake_transport_free(struct fake_transport *ft);
struct port_transport *fake_transport_port(struct fake_transport *ft);

/* Add endpoint `name` (copied, < 64 characters), served by handler(data)
 * or, with handler NULL, read by recv().  0, VM_EINVAL, VM_EBUSY (name
 * taken), VM_ENOSPC (FAKE_TRANSPORT_MAX_ENDPOINTS). */
int fake_transport_endpoint(struct fake_transport *ft, const char *name,
                            fake_transport_handler handler, void *data);

/* As struct sim_transport_fault, without the time window. */
struct fake_transport_fault {
    const char *from, *to;           /* NULL: any; copied */
    uint64_t drop_nth;               /* 1-based among matches; 0: none */
    bool drop_after;                 /* and every later match */
    double loss;                     /* probability in [0, 1] */
    uint64_t delay_ns;
};
/* 0, VM_EINVAL (loss out of range, unknown name), VM_ENOSPC. */
int fake_transport_add_fault(struct fake_transport *ft, const struct fake_transport_fault *f);

/* Deliver everything that arrives up to until_ns, moving the clock to
 * each arrival; the clock ends at until_ns (if it was earlier).  Returns
 * the number of messages delivered (lost ones not counted). */
uint64_t fake_transport_run(struct fake_transport *ft, uint64_t until_ns);

struct fake_transport_sent {         /* one logged send */
    const char *from, *to;           /* the endpoints' names (the fake's) */
    enum port_transport_kind kind;
    uint32_t tag;
    uint64_t id, wire_bytes, sent_ns, arrive_ns;
    bool lost;
};
uint64_t fake_transport_nr_sent(const struct fake_transport *ft);
const struct fake_transport_sent *fake_transport_sent(const struct fake_transport *ft,
                                                      uint64_t i);

struct fake_transport_stats {
    uint64_t sent, delivered, lost, wire_bytes, calls, call_timeouts, late_replies;
};
const struct fake_transport_stats *fake_transport_stats(const struct fake_transport *ft);

#endif
