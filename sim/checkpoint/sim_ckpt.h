/*
 * sim_ckpt.h - the checkpoint mechanism in the simulator: its config
 * sections, metrics and invariants, and the driver that runs one save
 * policy (phase "save") or one restore policy after a save (phase
 * "restore") with the guest replaying its workload.  The policies are
 * in models/checkpoint/ (ckpt.h); the plug-in is sim_ckpt_mech.
 *
 * Its config sections (besides the core's keys, sim_exp.h):
 *   phase     "save" | "restore"                  default "save"
 *   vm, workload                                  the shared sections (sim_cfg_vm.h)
 *   costs     "FILE" | { file: "FILE", trace_fault, page_copy, compress,
 *               decompress, trace_arm (per page), device_state, page_install,
 *               zero_scan, unprotect, stream_write }         all optional
 *   save      { warmup: time default "50ms" (guest runs before the save) }
 *   restore   { from: { policy: save policy, params: {...} } default buffered,
 *               ttr_window: time "1ms" (resolution; any length costs O(1) memory),
               ttr_stall: 0..1 default 0.1,
 *               run_time: time default "2s" (guest time after it can run) }
 * variants[].policy is a save policy when phase is "save", a restore
 * policy when it is "restore".
 *
 * Costs (sim_ckpt_costs.c).  Each cost is, by precedence: the value given
 * inline in "costs"; else the figure of the costs file "costs" names (a
 * string, or the object's "file"; a path relative to the config's
 * directory, like "platform"; written by `vmsim calibrate -o`, checked by
 * sim_calib_load, refused with a located error); else the key table's
 * default.  From a costs file: page_copy <- page_copy_ns, trace_fault <-
 * wp_fault_ns, page_install <- page_install_ns, zero_scan <- zero_scan_ns,
 * unprotect <- wp_unprotect_ns, stream_write <- small_write_ns (rounded to
 * whole ns), compress / decompress <- compress_bps /
 * decompress_bps of the default content mix at zstd level
 * SIM_CONTENT_ZSTD_LEVEL (the level of the save stream's sizes; whole
 * bytes/s).  trace_arm and device_state are not measured: configured
 * constants, estimates.  The defaults are the figures of the shipped
 * calibration, workloads/costs/calibration.json, copied into the key
 * table (a test keeps the two equal), so a config without "costs" gives
 * the same result from any directory and with no file read.
 */
#ifndef SIM_CKPT_H
#define SIM_CKPT_H

#include <stdbool.h>
#include <stdint.h>

#include "checkpoint/ckpt.h"
#include "sim_exp.h"
#include "sim_mech.h"
#include "sim_pagecache.h"

/* CPU costs the driver charges for the work a policy counts. */
struct sim_ckpt_costs {
    uint64_t trace_fault_ns;           /* exit + handler per trace fault */
    uint64_t page_copy_ns;             /* copy one 4 KiB page */
    double compress_bps;               /* compressor input bytes/s, one core */
    double decompress_bps;             /* decompressor output bytes/s */
    uint64_t trace_arm_ns;             /* per page, during the start stun */
    uint64_t device_state_ns;          /* device state save, in the start stun */
    uint64_t page_install_ns;          /* restore: install one page */
    uint64_t zero_scan_ns;             /* scan one zero page for zeros (a full scan) */
    uint64_t unprotect_ns;             /* remove one page's write protection, no fault
                                          pending (per ckpt_stats.unprotects_bg) */
    uint64_t stream_write_ns;          /* one write() of a page's record into the page
                                          cache (per ckpt_stats.stream_writes_*) */
};

/* What the checkpoint sections of one run point say (struct sim_exp.mech_cfg). */
/* What a deleted checkpoint file's header block reads as: no header. */
#define SIM_CKPT_DELETED_FP UINT64_C(0x44454c4554454421)

enum { SIM_CKPT_CACHE_WRITEBACK = 0, SIM_CKPT_CACHE_DIRECT = 1 };

struct sim_ckpt_cfg {
    int phase;                         /* 0 save, 1 restore */
    bool restore_phase;                /* phase == 1 */
    struct sim_exp_vm vm;
    struct sim_exp_workload workload;
    struct sim_ckpt_costs costs;
    uint64_t warmup_ns;
    /* the checkpoint file's write path (sim_pagecache.h) */
    int cache;                         /* SIM_CKPT_CACHE_* */
    uint32_t dirty_ratio, dirty_background_ratio;  /* % of the host's available memory */
    uint64_t dirty_bytes, dirty_background_bytes;  /* 0: use the ratios */
    uint64_t dirty_expire_ns;
    uint64_t writeback_io_bytes;
    bool fsync;                        /* fdatasync() the file at the end of the save */
    bool sync_paused;                  /* a save ending stopped stays stopped through it */
    /* restore: the save before it (restore.from) and the measurement */
    char from_policy[SIM_NAME_MAX];
    bool from_given;
    struct ckpt_cfg from_save;
    uint64_t ttr_window_ns;
    double ttr_stall;
    uint64_t run_time_ns;
};

#define SIM_CKPT_METRICS(X) \
    X(COMPLETION_NS,      "completion_ns",      "ns",    false, "checkpoint completion: start stun to image and maps acknowledged, and durable (fsync)") \
    X(SYNC_NS,            "sync_ns",            "ns",    false, "the final fdatasync: dirty data written back and the disk flushed") \
    X(DIRTY_MAX_BYTES,    "dirty_max_bytes",    "bytes", false, "most of the file's data in the page cache, not yet on the disk") \
    X(SAVE_CHANNELS,      "save_channels",      "count", false, "saver threads used (the policy's channels, at most the host's cores)") \
    X(STUN_MAX_NS,        "stun_max_ns",        "ns",    false, "longest VM stun") \
    X(STUN_TOTAL_NS,      "stun_total_ns",      "ns",    false, "sum of VM stuns") \
    X(GUEST_STALL_NS,     "guest_stall_ns",     "ns",    false, "guest time lost to trace faults (handling and waiting)") \
    X(GUEST_SLOWDOWN_PCT, "guest_slowdown_pct", "%",     false, "guest time lost (stall + throttle + stun) over the save window") \
    X(GUEST_ACCESSES,     "guest_accesses",     "count", true,  "guest accesses replayed during the save or restore window") \
    X(FAULTS,             "faults",             "count", false, "trace faults (save) taken by the guest") \
    X(FAULT_WAITS,        "fault_waits",        "count", false, "trace faults that had to wait for staging space (an I/O completion)") \
    X(FAULT_P50_NS,       "fault_p50_ns",       "ns",    false, "trace fault latency, median") \
    X(FAULT_P99_NS,       "fault_p99_ns",       "ns",    false, "trace fault latency, 99th percentile") \
    X(FAULT_P999_NS,      "fault_p999_ns",      "ns",    false, "trace fault latency, 99.9th percentile") \
    X(FAULT_MAX_NS,       "fault_max_ns",       "ns",    false, "trace fault latency, maximum") \
    X(WRITE_IOS,          "write_ios",          "count", false, "checkpoint-file write I/Os at the device (after the page cache merged them)") \
    X(WRITE_IO_MEAN_BYTES,"write_io_mean_bytes","bytes", true,  "mean write I/O size") \
    X(BYTES_WRITTEN,      "bytes_written",      "bytes", false, "bytes the device wrote to the checkpoint file (a page written in several rounds each time), maps and header included") \
    X(FILE_SIZE_BYTES,    "file_size_bytes",    "bytes", false, "the checkpoint file's apparent size after the save: up to its last block holding data, holes included") \
    X(FILE_ALLOCATED_BYTES,"file_allocated_bytes","bytes",false, "the checkpoint file's allocated size after the save: blocks holding data, holes (zero pages) not counted") \
    X(ZERO_PAGES,         "zero_pages",         "count", true,  "pages the image holds as zero pages: in its zero map, not written") \
    X(PAYLOAD_BYTES,      "payload_bytes",      "bytes", false, "page bytes saved before compression") \
    X(STAGING_BYTES_MAX,  "staging_bytes_max",  "bytes", false, "staging / bounce buffer memory, high-water mark") \
    X(WRITE_P50_NS,       "write_p50_ns",       "ns",    false, "device write request latency, median") \
    X(WRITE_P99_NS,       "write_p99_ns",       "ns",    false, "device write request latency, 99th percentile") \
    X(WRITE_P999_NS,      "write_p999_ns",      "ns",    false, "device write request latency, 99.9th percentile") \
    X(WRITE_MAX_NS,       "write_max_ns",       "ns",    false, "device write request latency, maximum") \
    X(ROUNDS,             "rounds",             "count", false, "pre-copy rounds including the final one") \
    X(PAGES_REWRITTEN,    "pages_rewritten",    "count", false, "pages saved more than once") \
    X(FORCED_STOP,        "forced_stop",        "count", false, "pre-copy: 1 when the final stop was forced (the dirty set stopped shrinking)") \
    X(GUEST_THROTTLE_NS,  "guest_throttle_ns",  "ns",    false, "guest time lost to vCPU throttling (pre-copy auto-converge)") \
    X(THROTTLE_MAX_PCT,   "throttle_max_pct",   "%",     false, "highest vCPU throttle applied") \
    X(RESTORE_NS,         "restore_ns",         "ns",    false, "restore: start to every page installed") \
    X(TTR_NS,             "ttr_ns",             "ns",    false, "time to responsiveness: start to the first window with stall <= ttr_stall") \
    X(RESTORE_FAULTS,     "restore_faults",     "count", false, "restore: guest accesses to pages not yet present") \
    X(RESTORE_FAULT_P50_NS,"restore_fault_p50_ns","ns",  false, "restore fault latency, median") \
    X(RESTORE_FAULT_P99_NS,"restore_fault_p99_ns","ns",  false, "restore fault latency, 99th percentile") \
    X(RESTORE_FAULT_P999_NS,"restore_fault_p999_ns","ns",false, "restore fault latency, 99.9th percentile") \
    X(RESTORE_FAULT_MAX_NS,"restore_fault_max_ns","ns",  false, "restore fault latency, maximum") \
    X(READ_IOS,           "read_ios",           "count", false, "restore: checkpoint-file read I/Os") \
    X(BYTES_READ,         "bytes_read",         "bytes", false, "restore: bytes read from the checkpoint file") \
    X(WASTED_PREFETCH_BYTES,"wasted_prefetch_bytes","bytes",false,"restore: bytes of pages installed before any fault that the guest never touched in the run")

enum sim_ckpt_metric {
#define X(id, name, unit, higher, desc) SIM_CKPT_M_##id,
    SIM_CKPT_METRICS(X)
#undef X
    SIM_CKPT_M_NR
};

/* Invariant counters: *_checked count what was verified, the others are
 * violations (any non-zero fails the run). */
#define SIM_CKPT_INVARIANTS(X) \
    X(IMAGE_PAGES_CHECKED,   "image_pages_checked",   false, "pages whose saved content was compared with the memory at the checkpoint instant") \
    X(IMAGE_MISMATCH,        "image_mismatch",        true,  "pages whose saved content differs from the memory at the checkpoint instant") \
    X(IMAGE_MISSING,         "image_missing",         true,  "pages the image does not hold at all") \
    X(RESTORE_PAGES_CHECKED, "restore_pages_checked", false, "pages compared with the image: at the guest's first access, or present at the end of the restore") \
    X(RESTORE_MISMATCH,      "restore_mismatch",      true,  "pages the guest saw, or left present, with content other than the image's (also wrong re-installs)") \
    X(RESTORE_UNINSTALLED,   "restore_uninstalled",   true,  "pages never installed when the restore reported done") \
    X(STUNNED_WRITES,        "stunned_guest_accesses",true,  "guest accesses applied while the driver held the VM stunned") \
    X(SAVE_FAILED,           "save_failed",           false, "saves that ended in an error (expected under injected disk faults)") \
    X(FAILED_SAVE_VALID,     "failed_save_left_image",true,  "failed saves that still left a valid header (an image claimed valid)") \
    X(VCPU_ERRORS,           "vcpu_errors",           true,  "vCPU stopped by an error (translation or fault handling)")

enum sim_ckpt_inv {
#define X(id, name, bad, desc) SIM_CKPT_INV_##id,
    SIM_CKPT_INVARIANTS(X)
#undef X
    SIM_CKPT_INV_NR
};

/* The plug-in: one line in the program's mechanism registry. */
extern const struct sim_mech sim_ckpt_mech;

/* Run point e on host inside the simulation (the mechanism's run hook):
 * call from an actor.  Never fails silently: problems land in out->rc /
 * out->error. */
void sim_ckpt_run(const struct sim_exp *e, sg_host_t host, struct sim_outcome *out);

/* The page cache for the file, from c's cache keys and the host's RAM in
 * bytes (0: unknown): 1 and *out set for cache "writeback", 0 for
 * "direct" (no cache), VM_EINVAL with the reason in why when the limits
 * cannot be worked out (sim_ckpt_cache.c). */
int sim_ckpt_page_cache(const struct sim_ckpt_cfg *c, uint64_t host_memory,
                        struct sim_pagecache_cfg *out, char *why, size_t len);

#endif
