/*
 * sim_cons.h - snapshot consolidation in the simulator: a VM's virtual
 * disk as a chain (flat base + delta disks, models/consolidation/
 * cons_chain.h) on one of the platform's disks, the guest's disk I/O
 * (synthetic, or a recorded file-I/O trace mapped onto the disk), and one
 * consolidation method (the mechanism, US10956041, or a baseline) merging
 * the deltas into their parent or the base while the guest runs.
 *
 * A run point:
 *   1. Set-up without time: the chain's files are written straight into
 *      the disk's store (the base's original data is fingerprint 0, each
 *      delta's grains hold their own content).
 *   2. The load runs `before`; then the method starts; when it is done
 *      (or at the timeout) the load runs `after`, stops, and drains.
 *   3. An optional host crash (the core's `host_crash` fault): the host
 *      stops, restarts after restart_after, reopens the chain from the
 *      disk and starts the method again.
 *   4. Checks: every read returned the last acknowledged write; after a
 *      crash every acknowledged write is still there; at the end every
 *      sector of the disk holds the last acknowledged write (or its
 *      original data).  A violation fails the run.
 */
#ifndef SIM_CONS_H
#define SIM_CONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <simgrid/forward.h>

#include "consolidation/cons.h"
#include "sim_exp.h"
#include "sim_mech.h"

enum sim_cons_layout { SIM_CONS_RANDOM, SIM_CONS_SEQUENTIAL };
enum sim_cons_target { SIM_CONS_PARENT, SIM_CONS_BASE };
/* load.arrivals, in the order of its enum's names */
enum sim_cons_arrivals {
    SIM_CONS_ARRIVALS_POISSON,      /* open loop, exponential gaps at the rate */
    SIM_CONS_ARRIVALS_EVEN,         /* open loop, evenly spaced */
    SIM_CONS_ARRIVALS_CLOSED,       /* closed loop: qdepth outstanding, no rate */
};

#define SIM_CONS_MAX_DELTAS 8
#define SIM_CONS_DISK_NAME_MAX 32

/* One element of chain.disks as the user wrote it (the finish hook checks
 * the list is one chain and orders it base-first into deltas/delta_sizes). */
struct sim_cons_disk {
    char name[SIM_CONS_DISK_NAME_MAX];
    char parent[SIM_CONS_DISK_NAME_MAX];    /* "": the base */
    uint64_t size_bytes;                    /* allocated at the start; deltas only */
    bool has_parent, has_size;              /* the keys were given */
};

struct sim_cons_cfg {
    /* disk and chain */
    uint64_t disk_bytes;
    uint64_t grain_bytes;
    uint32_t deltas;                /* 1..SIM_CONS_MAX_DELTAS (from disks when given) */
    uint64_t delta_bytes;           /* chain.delta_size: every delta's, without disks */
    uint64_t delta_sizes[SIM_CONS_MAX_DELTAS];  /* delta k+1's allocated bytes at the
                                                   start, base-first (finish sets them) */
    int nr_disks;                   /* chain.disks: 0 when absent */
    struct sim_cons_disk disks[SIM_CONS_MAX_DELTAS + 1];
    int layout;                     /* enum sim_cons_layout */
    int target;                     /* enum sim_cons_target */
    /* load */
    double write_ratio;             /* lambda / B (B: the disk's write bandwidth) */
    double write_rate;              /* lambda in bytes/s; 0: from write_ratio */
    double read_fraction;
    uint64_t request_bytes;
    int pattern;                    /* 0 random, 1 sequential */
    uint64_t hot_set_bytes;         /* 0: the whole disk */
    double hot_share;
    uint32_t qdepth;
    int arrivals;                   /* enum sim_cons_arrivals */
    char trace[SIM_PATH_MAX];       /* a blocktrace replaces the generator */
    double speed;
    bool loop;
    uint64_t align_bytes;
    /* run */
    uint64_t before_ns, after_ns, timeout_ns;
};

#define SIM_CONS_METRICS(X) \
    X(TOTAL,        "total_ns",          "ns",    false, "job start to consolidated (or to the timeout)") \
    X(READY,        "ready_ns",          "ns",    false, "job start to the copy converged (READY)") \
    X(STUN_MAX,     "stun_max_ns",       "ns",    false, "longest stun") \
    X(STUN_TOTAL,   "stun_total_ns",     "ns",    false, "stuns added up") \
    X(STUNS,        "stuns",             "count", false, "stuns") \
    X(ITERATIONS,   "iterations",        "count", false, "copy passes (helper deltas, dirty-bitmap passes)") \
    X(CONVERGED,    "converged",         "bool",  true,  "1 when the chain ends at the target") \
    X(COPY_RATIO,   "copy_ratio",        "ratio", false, "bytes copied / bytes to consolidate at the start") \
    X(MIRROR,       "mirror_bytes",      "bytes", false, "bytes guest writes added to the target") \
    X(PEAK_DELTA,   "peak_delta_bytes",  "bytes", false, "deltas' files on the disk, at most") \
    X(W50_BEFORE,   "write_p50_before_ns", "ns",  false, "guest write latency p50, before the job") \
    X(W99_BEFORE,   "write_p99_before_ns", "ns",  false, "guest write latency p99, before the job") \
    X(W999_BEFORE,  "write_p999_before_ns", "ns", false, "guest write latency p99.9, before the job") \
    X(W50_DURING,   "write_p50_during_ns", "ns",  false, "guest write latency p50, during the job") \
    X(W99_DURING,   "write_p99_during_ns", "ns",  false, "guest write latency p99, during the job") \
    X(W999_DURING,  "write_p999_during_ns", "ns", false, "guest write latency p99.9, during the job") \
    X(WMAX_DURING,  "write_max_during_ns", "ns",  false, "guest write latency, the longest during the job (fio's max clat)") \
    X(W50_AFTER,    "write_p50_after_ns", "ns",   false, "guest write latency p50, after the job") \
    X(W99_AFTER,    "write_p99_after_ns", "ns",   false, "guest write latency p99, after the job") \
    X(W999_AFTER,   "write_p999_after_ns", "ns",  false, "guest write latency p99.9, after the job") \
    X(TPUT_BEFORE,  "write_tput_before", "bytes/s", true, "guest bytes written per second, before") \
    X(TPUT_DURING,  "write_tput_during", "bytes/s", true, "guest bytes written per second, during") \
    X(TPUT_AFTER,   "write_tput_after",  "bytes/s", true, "guest bytes written per second, after") \
    X(R99_DURING,   "read_p99_during_ns", "ns",   false, "guest read latency p99, during the job") \
    X(GUEST_WRITES, "guest_writes",      "count", true,  "guest writes acknowledged") \
    X(CRASHES,      "crashes",           "count", false, "host crashes") \
    X(RECOVERY,     "recovery_ns",       "ns",    false, "restart to the chain reopened and checked") \
    X(DELTA,        "delta_bytes",       "bytes", false, "bytes to consolidate at the start") \
    X(LEFT,         "left_bytes",        "bytes", false, "a job ended unconsolidated: bytes of the grains the target does not hold as the guest sees them (0: consolidated)") \
    X(JOB_FAILED,   "job_failed",        "bool",  false, "1 when a device error (disk_error) in the job's own I/O failed the job") \
    X(IO_ERRORS,    "io_errors",         "count", false, "guest requests that got an I/O error")

enum sim_cons_metric {
#define X(id, nm, un, hi, ds) SIM_CONS_M_##id,
    SIM_CONS_METRICS(X)
#undef X
    SIM_CONS_M_NR
};

#define SIM_CONS_INVARIANTS(X) \
    X(FINAL_CHECKED,  "final_checked",  false, "sectors compared with the last acknowledged write at the end") \
    X(FINAL_MISMATCH, "final_mismatch", true,  "sectors that did not hold it") \
    X(READ_CHECKED,   "read_checked",   false, "sectors guest reads returned, compared") \
    X(READ_MISMATCH,  "read_mismatch",  true,  "read sectors that were not the last acknowledged write") \
    X(READ_SKIPPED,   "read_skipped",   false, "read sectors not compared (a write to them in flight)") \
    X(CRASH_CHECKED,  "crash_checked",  false, "sectors compared after a crash and recovery") \
    X(LOST_WRITES,    "lost_writes",    true,  "of them, acknowledged writes the recovered disk lost") \
    X(OPEN_ERRORS,    "open_errors",    true,  "recovered chains that did not parse")

enum sim_cons_inv {
#define X(id, nm, bad, ds) SIM_CONS_INV_##id,
    SIM_CONS_INVARIANTS(X)
#undef X
    SIM_CONS_INV_NR
};

extern const struct sim_mech sim_cons_mech;

/* The chain's place on a disk of capacity_bytes for config c: slots for
 * the base, the deltas and a helper.  0, or VM_EINVAL with why. */
int sim_cons_chain_cfg(const struct sim_cons_cfg *c, uint64_t capacity_bytes,
                       struct cons_chain_cfg *out, char *why, size_t len);

/* One run point (sim_mech.run). */
void sim_cons_run(const struct sim_exp *e, sg_host_t host, struct sim_outcome *out);

#endif
