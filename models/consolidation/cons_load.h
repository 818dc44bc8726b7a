/*
 * cons_load.h - the guest's disk I/O as a stream of arrivals: synthetic
 * (an open-loop generator in the way fio's rate/iodepth options shape a
 * job) or a recorded file-I/O trace mapped onto the virtual disk.
 *
 * The stream only says what arrives when; whoever consumes it decides
 * when a request is issued (at most qdepth in flight, later arrivals
 * wait in FIFO order, and their latency counts from arrival) and where
 * it goes.  A closed-loop stream (cons_load_set_closed) leaves the times
 * to the consumer too: its requests come one for each free slot, as
 * fio's iodepth shapes a job without a rate.  Units: sectors are 4 KiB,
 * times ns from the stream's start.
 */
#ifndef CONS_LOAD_H
#define CONS_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/vm_blkio.h"

/* The synthetic generator's knobs. */
struct cons_load_cfg {
    double write_bps;       /* lambda: guest write bytes per second, > 0 (reads derive from it) */
    double read_fraction;   /* share of requests that are reads, [0, 1) */
    uint32_t req_sectors;   /* request size, sectors >= 1 */
    bool sequential;        /* hot-set requests follow one sequential stream (wraps in the
                             * hot set; reads and writes share it); else uniform random */
    uint64_t hot_sectors;   /* the hot set: sectors [hot_start, hot_start + hot_sectors);
                             * 0: the whole disk (hot_start must then be 0) */
    uint64_t hot_start;
    double hot_share;       /* share of requests in the hot set, [0, 1]; the rest uniform
                             * random over the whole disk */
    bool poisson;           /* exponential inter-arrival times (else evenly spaced) */
    uint32_t qdepth;        /* the consumer's limit, carried here for it: >= 1 */
};

struct cons_load;

/*
 * A synthetic stream over a disk of nr_sectors, drawn from seed (the same
 * cfg and seed give the same stream; arrival gaps, the read/write choice,
 * the hot/cold choice and offsets each draw from a stream of their own).
 * Request rate: write_bps / (req_sectors * 4096) writes per second, and
 * reads making read_fraction of all requests, so requests arrive at
 * write rate / (1 - read_fraction) per second; with poisson the gaps are
 * exponential with that mean, else arrival k (from 1) comes at exactly
 * k / rate s.  Random requests start at a multiple of req_sectors (the
 * disk's alignment, not the hot set's); the sequential stream starts at
 * hot_start, advances by req_sectors and goes back to hot_start when the
 * next request would cross the hot set's end.  No request goes past the
 * disk's end; a hot-set request lies wholly inside the hot set (a cold
 * one is uniform over the disk's aligned slots, so it may land in the
 * hot set or, when the hot set is not aligned, straddle its edge).  The
 * stream never ends.
 *
 * NULL when cfg is NULL, out of range (write_bps not > 0, read_fraction
 * outside [0, 1), hot_share outside [0, 1], req_sectors or qdepth 0, a
 * request larger than the disk or the hot set, the hot set beyond the
 * disk, hot_start without hot_sectors, random requests and no aligned
 * request that fits in the hot set) or out of memory.
 */
struct cons_load *cons_load_new_synth(const struct cons_load_cfg *cfg, uint64_t nr_sectors,
                                      uint64_t seed);
/*
 * A stream replaying ios[0..n) (arrival times non-decreasing; copied, the
 * caller keeps ios), time-scaled by 1/speed (speed 2: twice as fast;
 * arrival t becomes round(t / speed)), and, with loop, again from the
 * start once the last arrived: lap k adds k * P before scaling, where P
 * is the trace's duration (last arrival - first) plus the gap between its
 * first two arrivals, at least 1 us.  Sectors are not checked (the
 * stream does not know the disk).  NULL when ios is NULL, n == 0, speed
 * is not > 0 and finite, qdepth is 0, an op is not a cons_op, the times
 * go backwards, or out of memory.
 */
struct cons_load *cons_load_new_trace(const struct vm_blkio *ios, size_t n, double speed,
                                      bool loop, uint32_t qdepth);
/* l may be NULL. */
void cons_load_free(struct cons_load *l);

/* The next arrival into *out (arrivals are non-decreasing in time);
 * false when the stream has ended (a trace without loop) or l or out is
 * NULL. */
bool cons_load_next(struct cons_load *l, struct vm_blkio *out);
/* cfg.qdepth or the trace's qdepth; 0 for NULL. */
uint32_t cons_load_qdepth(const struct cons_load *l);

/* Closed loop (false at creation): the consumer keeps qdepth requests
 * outstanding, taking the next one from the stream as soon as one is
 * acknowledged, arrived then; the stream's times are not used (fio with
 * iodepth and no rate; a guest whose threads each wait for their I/O).
 * The order and content of the requests stay the stream's.  l may be
 * NULL (nothing done; cons_load_closed() is then false). */
void cons_load_set_closed(struct cons_load *l, bool closed);
bool cons_load_closed(const struct cons_load *l);

#endif
