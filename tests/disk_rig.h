/*
 * disk_rig.h - what the simulated-disk suites share (check_disk_timing,
 * check_disk_requests): synchronous I/O from an actor (submit a request
 * to a port_blk, wait on the test's wait queue until its callback runs)
 * and the values the tests' actors record for the assertions made after
 * simgrid_run() returns.
 */
#ifndef DISK_RIG_H
#define DISK_RIG_H

#include <stdint.h>

#include "ports/port_blk.h"
#include "sim_disk.h"

#define MB 1000000.0

struct io {
    struct port_blk_req req;      /* first: the callback gets it back */
    int rc;
    int done;
    int done_in_submit;           /* the callback ran before submit returned */
};

/* Every waiter of the test, woken on each completion: the test makes it
 * (sim_waitq_new) before its actors run and frees it after. */
extern struct sim_waitq *wq;

/* A request of op on [lba, + nr_blocks) in nr_ios I/Os, fingerprints fps;
 * its callback records the completion in io. */
void io_prep(struct io *io, enum port_blk_op op, uint64_t lba, uint32_t nr_blocks,
             uint32_t nr_ios, uint64_t *fps);
/* Submit io to dev; submit()'s result. */
int io_submit(struct port_blk *dev, struct io *io);
/* Wait (in an actor) until io's callback has run. */
void io_wait(struct io *io);
/* Submit and wait; the request's completion code. */
int io_run(struct port_blk *dev, struct io *io);
/* Simulated time from submit to completion. */
uint64_t latency_ns(const struct io *io);
/* Time to move bytes at bps, rounded to the nanosecond. */
uint64_t xfer_ns(uint64_t bytes, double bps);

/* What the tests' actors record: their disks, instants, completion codes
 * and latencies. */
extern struct sim_disk *disk_a, *disk_b;
extern uint64_t t_start, t_end, t_mid;
extern int rc_a, rc_b;
extern uint64_t lat_a, lat_b, lat_c;

#endif
