/*
 * transport_rig.h - what the SimGrid transport suites (check_transport,
 * check_transport_faults) share: the world on the shipped two-host
 * platform, endpoints, actors running a plain function, and what the
 * actors saw, asserted after simgrid_run().
 *
 * Each test runs in its own process (Check's fork mode: SimGrid runs once
 * per process), so the state is plain globals.  The platform
 * workloads/platforms/hosts2-nvme-25g.xml has a 25 Gb/s (3.125 GB/s)
 * link with 25 us latency, so 1 MB alone takes 25 us + 320 us.
 */
#ifndef TRANSPORT_RIG_H
#define TRANSPORT_RIG_H

#include <stddef.h>
#include <stdint.h>

#include "sim_transport.h"

#define LAT_NS 25000ull
#define BPS 3.125e9                      /* 25 Gb/s in bytes per second */
#define FOREVER PORT_TRANSPORT_FOREVER
#define MAX_SEEN 512

extern struct sim_transport *tr;
extern struct port_transport *pt;
extern struct port_transport_msg seen[MAX_SEEN];  /* kept by keep(), in order */
extern int nr_seen;
extern uint64_t t_done[16];                       /* times or counts actors record */
extern int rcs[16];                               /* return codes actors record */

/* latency + bytes at the full link rate, in ns */
uint64_t xfer_ns(uint64_t bytes);
/* $VMSIM_SRCDIR/workloads/platforms/<file> */
void platform_path(char *buf, size_t len, const char *file);
/* SimGrid on hosts2-nvme-25g.xml and a transport with seed in tr, pt. */
void world(uint64_t seed);
void endpoint(const char *name, const char *host);
/* An actor `name` on host running fn. */
void spawn(const char *name, const char *host, void (*fn)(void));
struct port_transport_out out_of(uint32_t tag, const void *blob, size_t len, uint64_t wire);
void add_fault(const struct sim_transport_fault *f);
void keep(struct port_transport_msg *m);
void forget_all(void);

/* Actor bodies used by several tests. */
void recv_one(void);                 /* one message for "b", kept */
void drain_b(void);                  /* messages for "b" until 10 ms pass without one */
void send_n(int n, const char *from, const char *to);  /* n x 1000 B, tags 0..n-1 */

#endif
