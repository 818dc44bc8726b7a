/*
 * sim_disk.h - a simulated block device: SimGrid's disk for bandwidth
 * (max-min fair sharing between the I/Os of concurrent requests, reads
 * and writes sharing one constraint) plus what SimGrid's disk lacks, modelled here in
 * C from the disk's <prop>s:
 *
 *   <prop id="read_lat"  value="80us"/>    per-operation latency (reads)
 *   <prop id="write_lat" value="20us"/>    per-operation latency (writes)
 *   <prop id="flush_lat" value="1ms"/>     flush latency (default write_lat)
 *   <prop id="qdepth"    value="32"/>      operations in flight
 *   <prop id="iops"      value="500000"/>  operation rate limit (0 = none)
 *   <prop id="capacity"  value="512GiB"/>  size (default 1TiB, at most 64TiB)
 *
 * A request of nr_ios I/Os (port_blk.h: equal, or a vectored run's own
 * lengths) is served by one of min(qdepth, 64) worker actors: it waits
 * ceil(nr_ios / qdepth) x latency, is held back so the device never
 * exceeds `iops`, then moves its bytes with one SimGrid disk activity.
 * So 10,000 4 KiB writes at QD1 and 100 us take >= 1 s, one 1 GiB write
 * runs at the disk's bandwidth, and two concurrent streams of like
 * requests each get half of it.  The bandwidth is shared per I/O, not per
 * request: a request weighs the I/Os it keeps on the device on average,
 * nr_ios / ceil(nr_ios / qdepth) for equal I/Os, against one for a
 * single I/O (sim_disk.c says how, and what is not modelled).
 * Cost: two SimGrid activities per request, whatever nr_ios is.
 *
 * Contents: a vm_fpstore (fingerprints, see vm_fpstore.h).
 * Faults: injected errors (after N I/Os, once or persistently) and slow
 * windows (latency x factor) from the experiment's `faults`.
 */
#ifndef SIM_DISK_H
#define SIM_DISK_H

#include <stdint.h>

#include <simgrid/forward.h>

#include "base/vm_err.h"
#include "base/vm_fpstore.h"
#include "base/vm_hist.h"
#include "ports/port_blk.h"
#include "sim_exp.h"

struct sim_disk_props {
    uint64_t read_lat_ns, write_lat_ns, flush_lat_ns;
    uint32_t qdepth;
    double iops;                  /* 0 = unlimited */
    double read_bps, write_bps;   /* from SimGrid's read_bw / write_bw */
    uint64_t capacity_bytes;
};

struct sim_disk_stats {
    uint64_t read_reqs, read_ios, read_bytes;
    uint64_t write_reqs, write_ios, write_bytes;
    uint64_t flushes;
    uint64_t errors;              /* requests completed with an injected error */
    uint64_t workers;             /* worker actors started, hand-overs included */
    struct vm_hist read_lat_ns;   /* per request, submit to completion */
    struct vm_hist write_lat_ns;
};

struct sim_disk;

/* Read and check the <prop>s of a SimGrid disk (the table above) and
 * its bandwidths (> 0).  0, or VM_EINVAL naming the disk and the prop. */
int sim_disk_read_props(sg_disk_t disk, struct sim_disk_props *p, struct vm_diag *d);

/* Open `name` (or the host's first disk when "") on host; reads and
 * checks the props (bad value: VM_EINVAL naming the prop).  Starts the
 * worker actors (daemons), so call it from inside the simulation (an
 * actor) or before simgrid_run(). */
struct sim_disk *sim_disk_open(sg_host_t host, const char *name, struct vm_diag *d);
/* The same with the store's plain leaves of 2^leaf_shift blocks
 * (vm_fpstore_new_leaf()), for a device written at scattered places. */
struct sim_disk *sim_disk_open_leaf(sg_host_t host, const char *name, unsigned leaf_shift,
                                    struct vm_diag *d);
/* Release the disk.  From an actor: requests already submitted still
 * complete (the workers drain the queue, then exit) and the memory goes
 * with the last worker.  After simgrid_run() returned: freed at once.
 * The disk's port, stats and store must not be used afterwards. */
void sim_disk_close(struct sim_disk *disk);

struct port_blk *sim_disk_port(struct sim_disk *disk);
const struct sim_disk_props *sim_disk_props(const struct sim_disk *disk);
/* Bytes/s of a copy from the disk to itself with its reads and writes
 * overlapping, bandwidth alone (no latency, no IOPS limit): SimGrid 3.32's
 * disk model (S19) bounds the reads by read_bw, the writes by write_bw and
 * both together by max(read_bw, write_bw), so min(r, w, max(r, w) / 2). */
double sim_disk_copy_bps(const struct sim_disk_props *p);
/* Requests the disk serves at once: one per worker actor, min(qdepth, 64). */
uint32_t sim_disk_concurrency(const struct sim_disk_props *p);
const struct sim_disk_stats *sim_disk_stats(const struct sim_disk *disk);
struct vm_fpstore *sim_disk_store(struct sim_disk *disk);
const char *sim_disk_name(const struct sim_disk *disk);

/* fn(arg) runs after every request's completion callback (in the worker
 * actor), so the world can wake actors that wait for I/O. */
void sim_disk_set_notify(struct sim_disk *disk, void (*fn)(void *arg), void *arg);

/* The checks submit() makes on a request (0 or VM_EINVAL), for a layer
 * in front of the disk (sim_pagecache.h) that accepts requests itself. */
int sim_disk_check_req(const struct port_blk_req *req);
/* Queue a write of req->nr_blocks blocks from req->lba that moves no
 * content (fps NULL, plain, not vectored): the page cache's writeback of
 * data it already stored.  Timed, counted and faulted like any write. */
int sim_disk_submit_timing(struct sim_disk *disk, struct port_blk_req *req);

/* Add an injected fault (see sim_exp.h). 0 or VM_ENOSPC when full. */
int sim_disk_add_fault(struct sim_disk *disk, const struct sim_exp_fault *f);
/* Replace the faults by the disk kinds of f[0..n), their windows counted
 * from t0_ns and their I/O counts from now (a mechanism's episodes, each
 * with its own schedule, one after another on one disk).  n 0 clears.  0
 * or VM_ENOSPC (more than SIM_MAX_FAULTS disk faults). */
int sim_disk_set_faults(struct sim_disk *disk, const struct sim_exp_fault *f, int n,
                        uint64_t t0_ns);

#endif
