/*
 * ckpt.h - checkpointing VM memory to a file: the save and restore policy
 * interfaces shared by the mechanism (buffered, US9053064 / US9053065) and
 * its baselines.
 *
 * A policy is a state machine driven by the world (sim/sim_ckpt.c, or a
 * test with fake ports).  It never sleeps, never reads a clock except
 * through env->clock, and moves data only through env->mem and env->file.
 * It *counts* the work it does (pages copied, bytes compressed) in struct
 * ckpt_stats and the world charges the CPU time for it.
 *
 * Save protocol (the world's side):
 *   1. stun the VM, save device state; s = policy->start(cfg, env)
 *      (arms traces / dirty log; the world charges trace_arm per page in
 *      the stun).  A CKPT_F_LIVE_START policy (iterative pre-copy) starts
 *      with the VM running: no stun, its saver pays for arming the dirty
 *      log, and device state is saved inside its final stop (step 4's
 *      STUN), as QEMU's pre-copy does (see the flag).
 *   2. unless the policy has CKPT_F_STUN_ALL, resume the VM
 *   3. guest access to a traced page -> rc = policy->fault(s, page, write):
 *        0          the access proceeds (the page is saved or untraced now)
 *        VM_EAGAIN  no staging space: wait for one I/O completion, call again
 *        <0         the save failed
 *   4. a background saver loops rc = policy->step(s) (cfg->channels of
 *      them when the policy takes that parameter; the world never runs two
 *      step() calls at once, but a fault() may run while a step() waits in
 *      a port call and vice versa: a policy updates its state before it
 *      calls a port, which may let other actors run):
 *        CKPT_STEP_MORE   did some work, call again (after sleeping the
 *                         work it counted, and stats()->rate_wait_ns
 *                         grown since the last call: a bandwidth limit)
 *        CKPT_STEP_WAIT   waiting for I/O: call again after a completion
 *        CKPT_STEP_STUN   stop the VM before calling again (it stays
 *                         stopped until DONE)
 *        CKPT_STEP_DONE   image complete on the device, header and maps
 *                         written and acknowledged
 *        <0               the save failed (VM_EIO ...); no image is valid
 *   5. resume the VM if stunned; policy->destroy(s).
 * After every step() the world reads stats()->throttle_pct and throttles
 * the guest's vCPUs to it (QEMU's cpu-throttle: a vCPU throttled at p%
 * sleeps p/(100-p) of the time it computes); 0 = full speed.
 * The checkpoint instant - the moment whose memory the image must hold -
 * is the start stun, or the final stun for CKPT_F_INSTANT_AT_STUN policies
 * (iterative pre-copy, whose image is the memory when it stops the VM).
 *
 * Zero pages (cfg.zero_pages, on by default, every save policy): a saver
 * tests each page it saves for zero content (VM_FP_ZERO) as QEMU's
 * buffer_is_zero does - a non-zero page fails at its first word, nearly
 * free; a zero page takes a full scan, which the policy counts in
 * zero_pages_fault / zero_pages_bg and the world charges - and records a
 * zero page in the image's zero map instead of copying and writing it
 * (ckpt_file.h).  A restore makes every zero page present as soon as the
 * maps are loaded, without reading anything (zero_pages_installed: fresh
 * anonymous memory is zero already, so nothing is charged).  Off, every
 * policy saves exactly as it did before zero pages were modelled.
 *
 * Restore protocol: the VM starts with every page not present.
 *   r = policy->start(rcfg, env)  (submits header/map reads)
 *   the world runs policy->step(r) in the background and lets the vCPU run
 *   once policy->runnable(r); an access to a non-present page calls
 *   policy->fault(r, page): 0 = now present, VM_EAGAIN = wait for a
 *   completion and call again, <0 = failed (policy->diag(r) says why).
 *   DONE = every page installed.
 */
#ifndef CKPT_H
#define CKPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/vm_err.h"
#include "base/vm_param.h"
#include "ports/port_blk.h"
#include "ports/port_clock.h"
#include "ports/port_mem.h"

enum ckpt_step {
    CKPT_STEP_MORE = 0,
    CKPT_STEP_WAIT = 1,
    CKPT_STEP_STUN = 2,
    CKPT_STEP_DONE = 3,
};

enum ckpt_grouping {
    CKPT_GROUP_GPA = 0,       /* block = B contiguous guest-physical pages */
    CKPT_GROUP_ABITS = 1,     /* block = B pages grouped by accessed bits (claim 5) */
};

enum ckpt_trace_mode {
    CKPT_TRACE_WRITE = 0,     /* write-only tracing (claim 3) */
    CKPT_TRACE_RW = 1,        /* read+write tracing (claim 2) */
};

/* Save parameters; each policy's table says which ones it takes. */
struct ckpt_cfg {
    uint32_t block_pages;         /* B: pages per block */
    uint32_t sblock_blocks;       /* N: blocks per storage block (>= 2) */
    uint32_t nr_buffers;          /* staging buffers of N blocks each */
    bool compress;                /* zstd-compress blocks before staging */
    int trace;                    /* enum ckpt_trace_mode */
    int grouping;                 /* enum ckpt_grouping */
    uint32_t io_pages;            /* pages per request: stop-copy / pre-copy chunks,
                                     per-page saver runs (each page its own I/O) */
    uint32_t io_depth;            /* requests in flight for the background saver */
    uint64_t max_downtime_ns;     /* pre-copy: stop when the rest fits in this
                                     (QEMU downtime-limit) */
    double max_bandwidth_bps;     /* pre-copy: bytes/s while the VM runs, 0 = no limit
                                     (QEMU max-bandwidth, lifted in the final stop) */
    uint32_t stall_rounds;        /* pre-copy: rounds without a smaller dirty set before
                                     the final stop is forced (vmsim's rule; with
                                     auto-converge only rounds that ended a period) */
    bool auto_converge;           /* pre-copy: throttle the guest (QEMU auto-converge) */
    uint32_t throttle_initial;    /* pre-copy: first throttle, percent */
    uint32_t throttle_increment;  /* pre-copy: added per step, percent */
    uint32_t throttle_max;        /* pre-copy: ceiling, percent */
    uint32_t throttle_threshold;  /* pre-copy: dirtied > this % of written in a period
                                     of > 1 s, twice -> throttle (migration_bitmap_sync,
                                     migration_trigger_throttle, migration/ram.c) */
    uint64_t buffer_bytes;        /* bgsnap: stream data that may wait for the disk */
    uint32_t channels;            /* background saver threads (QEMU multifd-channels);
                                     the world runs step() on this many, at most the
                                     host's cores, and start() sees that number.
                                     Not pre-copy's: QEMU's stream has one writer */
    bool zero_pages;              /* every policy: record zero pages in the zero map,
                                     write none of them */
    int layout;                   /* stop-and-copy: enum ckpt_sc_layout */
};

/*
 * Stop-and-copy's file layouts (ckpt_stopcopy.c), QEMU's two formats of a
 * migration to a file.  STREAM is QEMU's default: a save writes the legacy
 * stream unless the mapped-ram capability (QEMU >= 9.0) is set.
 */
enum ckpt_sc_layout {
    CKPT_SC_STREAM = 0,           /* legacy stream: pages in RAM order, each behind an
                                     8-byte header (save_page_header), zero pages as
                                     headers only; data packed (STREAM layout) */
    CKPT_SC_MAPPED_RAM = 1,       /* mapped-ram: page p at a fixed offset, a bitmap of
                                     the pages present, zero pages as holes (FLAT);
                                     the only layout multifd channels can write */
};

/* The zero_pages row every save policy's parameter table has. */
#define CKPT_PARAM_ZERO_PAGES                                                             \
    { "zero_pages", VM_PARAM_BOOL, offsetof(struct ckpt_cfg, zero_pages), .def = "true",  \
      .help = "skip zero pages: test each page, record zero ones in the maps, write none" }

struct ckpt_env {
    struct port_mem *mem;
    struct port_blk *file;        /* the checkpoint file, block 0 = header */
    const struct port_clock *clock;
};

/* What a policy did; the world turns the counts into time and metrics. */
struct ckpt_stats {
    /* save */
    uint64_t faults;              /* trace faults taken by the guest */
    uint64_t fault_waits;         /* faults answered VM_EAGAIN (no staging space) */
    uint64_t pages_copied_fault;  /* pages copied on the guest's fault path */
    uint64_t pages_copied_bg;     /* pages copied by the background saver */
    uint64_t compress_in_fault;   /* bytes compressed on the fault path */
    uint64_t compress_in_bg;      /* bytes compressed by the saver */
    uint64_t write_reqs;          /* write requests submitted */
    uint64_t write_ios;           /* device write I/Os (sum of nr_ios) */
    uint64_t bytes_written;       /* device bytes incl. header and maps */
    uint64_t payload_bytes;       /* page bytes saved before compression */
    uint64_t meta_bytes;          /* header + persistent maps bytes */
    uint64_t staging_bytes;       /* staging / bounce memory now in use */
    uint64_t staging_bytes_max;   /* its high-water mark */
    uint64_t rounds;              /* pre-copy rounds (incl. the final one) */
    uint64_t pages_rewritten;     /* pages saved more than once */
    uint32_t throttle_pct;        /* guest vCPU throttle the policy asks for now, 0..99 */
    uint32_t throttle_max_pct;    /* its high-water mark */
    bool forced_stop;             /* pre-copy: stopped because the dirty set stopped
                                     shrinking, not because the rest fit the downtime */
    uint64_t dirty_syncs;         /* pre-copy: dirty-log syncs (at round ends, and the
                                     periodic ones of auto-converge) */
    uint64_t forced_syncs;        /* ... of them the periodic ones (no sync for 5 s) */
    uint64_t throttle_checks;     /* pre-copy: periods of >= 1 s the throttle judged */
    uint64_t rate_wait_ns;        /* time the saver must wait for a bandwidth limit
                                     (grows; the world sleeps each increase) */
    uint64_t zero_pages_fault;    /* zero pages found (a full scan each) on the fault path */
    uint64_t zero_pages_bg;       /* zero pages found by the background saver */
    uint64_t zero_pages;          /* pages the image holds as zero pages (set at the end) */
    /* a saver that writes its stream page by page through write() and
     * un-protects each page after saving it (bgsnap: QEMU's
     * ram_save_release_protection); other policies leave them 0 */
    uint64_t stream_writes_fault; /* write()s of one saved page's record on the fault path */
    uint64_t stream_writes_bg;    /* the same by the background saver */
    uint64_t unprotects_bg;       /* pages the saver un-protected one call each after saving
                                     them (a fault's un-protect is part of the fault) */
    /* restore */
    uint64_t restore_faults;      /* accesses to non-present pages */
    uint64_t read_reqs;
    uint64_t read_ios;
    uint64_t bytes_read;
    uint64_t pages_installed;     /* pages made present */
    uint64_t pages_prefetched;    /* installed without a fault on them */
    uint64_t decompress_out;      /* bytes decompressed */
    uint64_t zero_pages_installed;/* zero pages made present without a read (not in
                                     pages_installed) */
    /* both */
    uint64_t ios_inflight;        /* requests whose callback has not run yet: the
                                     world lets them drain before destroy() */
};

#define CKPT_F_STUN_ALL        0x1u  /* VM stays stunned for the whole save */
#define CKPT_F_INSTANT_AT_STUN 0x2u  /* image = memory at the final stun */
#define CKPT_F_HIDDEN          0x4u  /* test-only policy, not listed */
#define CKPT_F_SERIAL_FAULTS   0x8u  /* one thread serves every write fault, one at a
                                        time (QEMU's migration thread): the world makes
                                        the faults of several vCPUs queue for it */
/*
 * The save starts with the VM running (QEMU pre-copy): no start stun.
 * QEMU arms dirty logging in the migration thread, under the BQL, with
 * the vCPUs running (migration_thread -> qemu_savevm_state_setup ->
 * ram_save_setup -> ram_init_bitmaps -> memory_global_dirty_log_start,
 * migration/ram.c); vCPUs in KVM do not take the BQL, so the guest is
 * not stopped and the world charges trace_arm per page to the saver.
 * Device state is saved once the VM is stopped for the final round
 * (migration_completion -> migration_completion_precopy: stop the VM,
 * then qemu_savevm_state_complete_precopy, migration/migration.c), so the
 * world charges device_state inside the final stop.
 */
#define CKPT_F_LIVE_START      0x10u
/* The policy charges its own write() of each record into the file
 * (ckpt_stats.stream_writes_*: QEMU's per-page qemu_fflush in a background
 * snapshot): the world's page cache must not charge the copy again. */
#define CKPT_F_CHARGES_WRITES  0x20u

struct ckpt_save;                 /* policy-private state */

struct ckpt_policy {
    const char *name;
    const char *desc;             /* one line for `vmsim list` */
    unsigned flags;               /* CKPT_F_* */
    const struct vm_param *params;/* accepted keys of struct ckpt_cfg */
    int (*start)(const struct ckpt_cfg *cfg, const struct ckpt_env *env,
                 struct ckpt_save **out, struct vm_diag *d);
    int (*fault)(struct ckpt_save *s, uint64_t page, bool is_write);
    int (*step)(struct ckpt_save *s);
    const struct ckpt_stats *(*stats)(const struct ckpt_save *s);
    void (*destroy)(struct ckpt_save *s);
    /* Optional: the checks across parameters that the tables cannot say
     * (the config layer runs it on every run point before any runs;
     * start() checks again).  0, or VM_EINVAL with a diag naming the
     * parameters. */
    int (*check)(const struct ckpt_cfg *cfg, struct vm_diag *d);
};

/* Restore parameters. */
struct ckpt_restore_cfg {
    bool install_all;             /* storage-block restore: install every block read (claim 3) */
    bool background;              /* lazy methods: stream the rest in the background */
    uint32_t io_pages;            /* eager / background read chunk */
    uint32_t io_depth;            /* reads in flight */
};

struct ckpt_restore;

struct ckpt_restore_policy {
    const char *name;
    const char *desc;
    unsigned flags;
    const struct vm_param *params;
    int (*start)(const struct ckpt_restore_cfg *cfg, const struct ckpt_env *env,
                 struct ckpt_restore **out, struct vm_diag *d);
    int (*fault)(struct ckpt_restore *r, uint64_t page);
    int (*step)(struct ckpt_restore *r);
    bool (*runnable)(const struct ckpt_restore *r);
    const struct ckpt_stats *(*stats)(const struct ckpt_restore *r);
    /* Why the restore failed, once step() or fault() returned an error:
     * the first error's message, "" while none (e.g. "'sblock' restore:
     * maps: checkpoint maps: ..." with the decoder's reason). */
    const char *(*diag)(const struct ckpt_restore *r);
    void (*destroy)(struct ckpt_restore *r);
};

/* The parameter row of struct ckpt_cfg.channels, for the policies whose
 * saver's CPU work can run on several threads. */
#define CKPT_PARAM_CHANNELS                                                               \
    { "channels", VM_PARAM_U32, offsetof(struct ckpt_cfg, channels), .min = 1, .max = 64,    \
      .def = "1", .help = "saver threads copying (and compressing) in parallel, at most "     \
                          "the host's cores (QEMU multifd-channels)" }

/* Registry (ckpt_registry.c): NULL-terminated tables; lookup by name. */
extern const struct ckpt_policy *const ckpt_save_policies[];
extern const struct ckpt_restore_policy *const ckpt_restore_policies[];
const struct ckpt_policy *ckpt_save_policy_find(const char *name);
const struct ckpt_restore_policy *ckpt_restore_policy_find(const char *name);

#endif
