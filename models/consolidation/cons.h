/*
 * cons.h - snapshot consolidation: merge the delta disks above a target
 * layer of a virtual disk chain (cons_chain.h) into that target while
 * the VM keeps running, by one of several methods, and measure what the
 * guest feels.
 *
 * The mechanism is US10956041 (VMware, "online snapshot consolidation
 * using I/O mirroring"): copy every allocated grain of the delta to the
 * target in a single pass while a mirror driver sends every guest write
 * to both the delta and the target, acknowledging it when both are done;
 * then a short stun re-points the VM at the target and drops the delta.
 * The baselines are what the real systems do (each method's file says
 * which and with which defaults): offline consolidation, vSphere's
 * iterative helper snapshots (before 6.0), QEMU's mirror job in its
 * background and write-blocking copy modes.
 *
 * The engine (struct cons_engine) runs one VM: the guest's disk I/O
 * stream (cons_load.h) issued at its queue depth, the consolidation job,
 * the stuns, an optional host crash with restart and recovery from the
 * device, and the invariant checks against an oracle of acknowledged
 * writes (cons_oracle.h).  It talks to the world only through ports:
 * block device, clock, timers.  It charges no CPU time: the costs that
 * matter are the disk's (per-operation latency, bandwidth shared between
 * guest and copy, from the platform) and the stuns' fixed parts
 * (parameters with their sources).
 */
#ifndef CONS_H
#define CONS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/vm_hist.h"
#include "base/vm_param.h"
#include "consolidation/cons_chain.h"
#include "consolidation/cons_load.h"
#include "ports/port_blk.h"
#include "ports/port_clock.h"
#include "ports/port_timer.h"

/* What the caller knows of the device under the chain (all of it on one
 * device), for estimates of a copy on it with nothing else running (the
 * helper's first size check).  Zeros: unknown. */
struct cons_device {
    double copy_bps;            /* a copy within it, reads and writes overlapping, bytes/s */
    double read_bps, write_bps; /* each alone, bytes/s */
    uint64_t read_lat_ns, write_lat_ns;    /* per request (its I/Os in waves of qdepth) */
    uint32_t qdepth;
    uint32_t requests;          /* requests it serves at once; 0: no limit */
    double iops;                /* I/Os per second at most; 0: no limit */
};

/* Every method's parameters (each method's vm_param table names the keys
 * it reads). */
struct cons_method_cfg {
    uint64_t chunk_bytes;       /* largest copy operation */
    uint32_t max_in_flight;     /* copy I/Os in flight (QEMU: operations) */
    uint64_t io_bytes;          /* largest device I/O of the copy, a run of
                                 * grains split into I/Os of this size (the
                                 * ESX data mover's 64 KiB); 0: a run is one
                                 * I/O (QEMU's operations) */
    uint64_t stun_fixed_ns;     /* fixed part of every stun (quiesce, re-open) */
    uint64_t stun_threshold_ns; /* helper: commit synchronously when the estimate fits */
    uint32_t max_iterations;    /* helper: then a forced synchronous commit */
    bool force_sync;            /* helper: force it (else give up, the VM left on the helper) */
    bool size_check;            /* helper: first review the deltas' size (KB 337175) */
    struct cons_device dev;     /* the caller's, not a parameter */
    uint64_t ready_threshold_bytes; /* qemu background: READY once the dirty bytes are <= */
};

enum cons_phase { CONS_BEFORE = 0, CONS_DURING = 1, CONS_AFTER = 2, CONS_NR_PHASES };

/* What a run measured; times in ns of simulated time. */
struct cons_result {
    bool done;                  /* consolidated: the chain ends at the target */
    uint64_t start_ns;          /* the job started (end of the warm-up) */
    uint64_t total_ns;          /* start to done (or to the timeout) */
    uint64_t ready_ns;          /* start to the copy converged (READY) */
    bool ready;
    uint64_t stun_max_ns, stun_total_ns, stuns;
    uint64_t iterations;        /* copy passes (helper: helper deltas; qemu: dirty passes) */
    uint64_t delta_bytes;       /* bytes of grains to consolidate at the start */
    uint64_t copied_bytes;      /* bytes the copy moved into the target */
    uint64_t mirror_bytes;      /* bytes guest writes added to the target (mirroring) */
    uint64_t peak_delta_bytes;  /* deltas' files on the device, at most */
    bool job_failed;            /* a device error (VM_EIO) in the job's own I/O ended it */
    char job_error[160];        /* what failed, when job_failed */
    uint64_t io_errors;         /* guest requests completed with VM_EIO */
    uint64_t left_bytes;        /* a job ended unconsolidated (timeout, given up, failed):
                                 * bytes of the grains whose content in the target
                                 * differs from what the guest sees; 0 when done */
    struct vm_hist write_lat[CONS_NR_PHASES];   /* per guest write, arrival to ack */
    struct vm_hist read_lat[CONS_NR_PHASES];
    uint64_t write_bytes[CONS_NR_PHASES];       /* acknowledged in the phase */
    uint64_t phase_ns[CONS_NR_PHASES];          /* the phase's length */
    uint64_t guest_writes, guest_reads, guest_flushes;
    /* crash and recovery */
    uint64_t crashes;
    uint64_t recovery_ns;       /* restart to the chain reopened and the job restarted */
    uint64_t lost_writes;       /* acknowledged writes a recovered chain no longer held */
    uint64_t open_errors;       /* recovered chains that did not parse */
    /* invariant counters */
    uint64_t final_checked, final_mismatch;
    uint64_t read_checked, read_mismatch, read_skipped;
    uint64_t crash_checked;
    char error[256];            /* first engine error (rc != 0) */
    int rc;
};

struct cons_method;

struct cons_engine_cfg {
    const struct cons_method *method;
    struct cons_method_cfg mcfg;
    int target;                 /* layer consolidated into (0 = base) */
    uint64_t before_ns;         /* load before the job starts */
    uint64_t after_ns;          /* load after it ends */
    uint64_t timeout_ns;        /* give up (not converged) after this long */
    uint64_t seed;              /* guest write contents */
    /* a host crash when crash is set: at crash_at_ns (0: as the run
     * starts), down for restart_ns */
    bool crash;
    uint64_t crash_at_ns, restart_ns;
};

struct cons_ports {
    struct port_blk *blk;
    const struct port_clock *clock;
    struct port_timer *timer;
    void (*finished)(void *arg);    /* called once when the run is over (may be NULL) */
    void *arg;
};

/* The checker's reading of the device (omniscient, no time): n
 * fingerprints at lba.  The driver gives the store's.  A pure read, safe
 * in two threads at once while nothing writes: the end-of-run checks
 * compare half the sectors in a thread of their own (vm_fpstore_peek(),
 * not vm_fpstore_get(), which notes whole leaves read). */
struct cons_peek {
    int (*get)(void *arg, uint64_t lba, uint64_t n, uint64_t *fps);
    void *arg;
};

struct cons_engine;

/*
 * An engine over a chain already set up on the device (cons_chain_setup_*)
 * with the initial content fp(arg, layer, sector) that set it up (the
 * oracle's "original data"), and the load (ownership passes to the engine).
 * The chain is the engine's from here (freed with it; after a crash the
 * engine reopens a new one over the same device).  NULL when out of memory.
 */
struct cons_engine *cons_engine_new(const struct cons_engine_cfg *cfg, const struct cons_ports *p,
                                    const struct cons_peek *peek, struct cons_chain *ch,
                                    uint64_t (*fp)(void *arg, int layer, uint64_t sector),
                                    void *fp_arg, struct cons_load *load);
/* Arm the first timers (load, job start, crash); the world then runs
 * until cons_engine_finished(). */
void cons_engine_start(struct cons_engine *e);
bool cons_engine_finished(const struct cons_engine *e);
/* The host crashes now (what cfg.crash_at_ns schedules): everything the
 * host was doing stops; after cfg.restart_ns it reopens the chain from
 * the device, checks it and starts the job again.  For tests that crash
 * at chosen points. */
void cons_engine_crash(struct cons_engine *e);
/* After finished: run the final checks and fill *out.  Call once. */
void cons_engine_result(struct cons_engine *e, struct cons_result *out);
/* Free; only once no port request of the engine is in flight (the world
 * drains its device first). */
void cons_engine_free(struct cons_engine *e);

#endif
