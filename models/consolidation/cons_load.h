/*
 * cons_load.h - the guest's disk I/O as a stream of arrivals: synthetic
 * (an open-loop generator in the way fio's rate/iodepth options shape a
 * job) or a recorded file-I/O trace mapped onto the virtual disk.
 *
 * The stream only says what arrives when; whoever consumes it decides
 * when a request is issued (at most qdepth in flight, later arrivals
 * wait in FIFO order, and their latency counts from arrival) and where
 * it goes.  Units: sectors are 4 KiB, times ns from the stream's start.
 */
#ifndef CONS_LOAD_H
#define CONS_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cons_op { CONS_OP_READ, CONS_OP_WRITE, CONS_OP_FLUSH };

/* One guest request. */
struct cons_io {
    uint64_t t_ns;          /* arrival, from the stream's start */
    uint64_t sector;        /* first 4 KiB sector (FLUSH: 0) */
    uint32_t nr;            /* sectors, >= 1 (FLUSH: 0) */
    uint8_t op;             /* enum cons_op */
};

/* The synthetic generator's knobs. */
struct cons_load_cfg {
    double write_bps;       /* lambda: guest write bytes per second (0: no writes) */
    double read_fraction;   /* share of requests that are reads, [0, 1) */
    uint32_t req_sectors;   /* request size, sectors >= 1 */
    bool sequential;        /* one sequential stream (wraps in the hot set) or uniform random */
    uint64_t hot_sectors;   /* the hot set: sectors [hot_start, hot_start + hot_sectors) */
    uint64_t hot_start;
    double hot_share;       /* share of requests in the hot set; the rest uniform over the disk */
    bool poisson;           /* exponential inter-arrival times (else evenly spaced) */
    uint32_t qdepth;        /* the consumer's limit, carried here for it: >= 1 */
};

struct cons_load;

/*
 * A synthetic stream over a disk of nr_sectors, drawn from seed (the same
 * seed gives the same stream).  Requests never cross the disk's end nor
 * the hot set's end.  Request rate: write_bps / (req_sectors * 4096) writes
 * per second, plus reads in read_fraction of all requests.  NULL when
 * out of memory or cfg is out of range (no writes and no reads, a request
 * larger than the hot set, hot set beyond the disk).
 */
struct cons_load *cons_load_new_synth(const struct cons_load_cfg *cfg, uint64_t nr_sectors,
                                      uint64_t seed);
/*
 * A stream replaying ios[0..n) (arrival times non-decreasing; copied),
 * time-scaled by 1/speed (speed 2: twice as fast), and, with loop, again
 * from the start once the last arrived (shifted by the trace's duration
 * plus the gap between its first two arrivals).  NULL when out of memory
 * or n == 0.
 */
struct cons_load *cons_load_new_trace(const struct cons_io *ios, size_t n, double speed,
                                      bool loop, uint32_t qdepth);
void cons_load_free(struct cons_load *l);

/* The next arrival into *out; false when the stream has ended. */
bool cons_load_next(struct cons_load *l, struct cons_io *out);
uint32_t cons_load_qdepth(const struct cons_load *l);

#endif
