/*
 * sim_metrics.h - the metrics a run reports, one X-macro table: name (units
 * in the name), unit, what it measures.  Records hold one double per
 * metric; a metric a mechanism does not produce stays absent (NaN) and is
 * left out of result.json.  Invariant counters are separate (sim_inv.h):
 * they are not performance figures and any non-zero violation fails a run.
 */
#ifndef SIM_METRICS_H
#define SIM_METRICS_H

#include <stdbool.h>

#define SIM_METRICS(X) \
    X(COMPLETION_NS,      "completion_ns",      "ns",    "checkpoint completion: start stun to image and maps acknowledged") \
    X(STUN_MAX_NS,        "stun_max_ns",        "ns",    "longest VM stun") \
    X(STUN_TOTAL_NS,      "stun_total_ns",      "ns",    "sum of VM stuns") \
    X(GUEST_STALL_NS,     "guest_stall_ns",     "ns",    "guest time lost to trace faults (handling and waiting)") \
    X(GUEST_SLOWDOWN_PCT, "guest_slowdown_pct", "%",     "guest time lost (stall + stun) over the save window") \
    X(GUEST_ACCESSES,     "guest_accesses",     "count", "guest accesses replayed during the save or restore window") \
    X(FAULTS,             "faults",             "count", "trace faults (save) taken by the guest") \
    X(FAULT_WAITS,        "fault_waits",        "count", "trace faults that had to wait for staging space (an I/O completion)") \
    X(FAULT_P50_NS,       "fault_p50_ns",       "ns",    "trace fault latency, median") \
    X(FAULT_P99_NS,       "fault_p99_ns",       "ns",    "trace fault latency, 99th percentile") \
    X(FAULT_P999_NS,      "fault_p999_ns",      "ns",    "trace fault latency, 99.9th percentile") \
    X(FAULT_MAX_NS,       "fault_max_ns",       "ns",    "trace fault latency, maximum") \
    X(WRITE_IOS,          "write_ios",          "count", "checkpoint-file write I/Os") \
    X(WRITE_IO_MEAN_BYTES,"write_io_mean_bytes","bytes", "mean write I/O size") \
    X(BYTES_WRITTEN,      "bytes_written",      "bytes", "bytes written to the checkpoint file, maps and header included") \
    X(PAYLOAD_BYTES,      "payload_bytes",      "bytes", "page bytes saved before compression") \
    X(STAGING_BYTES_MAX,  "staging_bytes_max",  "bytes", "staging / bounce buffer memory, high-water mark") \
    X(WRITE_P50_NS,       "write_p50_ns",       "ns",    "device write request latency, median") \
    X(WRITE_P99_NS,       "write_p99_ns",       "ns",    "device write request latency, 99th percentile") \
    X(WRITE_P999_NS,      "write_p999_ns",      "ns",    "device write request latency, 99.9th percentile") \
    X(WRITE_MAX_NS,       "write_max_ns",       "ns",    "device write request latency, maximum") \
    X(ROUNDS,             "rounds",             "count", "pre-copy rounds including the final one") \
    X(PAGES_REWRITTEN,    "pages_rewritten",    "count", "pages saved more than once") \
    X(RESTORE_NS,         "restore_ns",         "ns",    "restore: start to every page installed") \
    X(TTR_NS,             "ttr_ns",             "ns",    "time to responsiveness: start to the first window with stall <= ttr_stall") \
    X(RESTORE_FAULTS,     "restore_faults",     "count", "restore: guest accesses to pages not yet present") \
    X(RESTORE_FAULT_P50_NS,"restore_fault_p50_ns","ns",  "restore fault latency, median") \
    X(RESTORE_FAULT_P99_NS,"restore_fault_p99_ns","ns",  "restore fault latency, 99th percentile") \
    X(RESTORE_FAULT_P999_NS,"restore_fault_p999_ns","ns","restore fault latency, 99.9th percentile") \
    X(RESTORE_FAULT_MAX_NS,"restore_fault_max_ns","ns",  "restore fault latency, maximum") \
    X(READ_IOS,           "read_ios",           "count", "restore: checkpoint-file read I/Os") \
    X(BYTES_READ,         "bytes_read",         "bytes", "restore: bytes read from the checkpoint file") \
    X(WASTED_PREFETCH_BYTES,"wasted_prefetch_bytes","bytes","restore: bytes of pages installed before any fault that the guest never touched in the run") \
    X(SIM_EVENTS,         "sim_activities",     "count", "SimGrid activities the run issued (sleeps, disk I/Os)")

enum sim_metric_id {
#define X(id, name, unit, desc) SIM_M_##id,
    SIM_METRICS(X)
#undef X
    SIM_M_NR
};

struct sim_metric_info {
    const char *name;
    const char *unit;
    const char *desc;
};

extern const struct sim_metric_info sim_metric_info[SIM_M_NR];

/* Index of the metric called `name`, or -1. */
int sim_metric_find(const char *name);

/* Invariant counters: *_checked count what was verified, the others are
 * violations (any non-zero fails the run). */
#define SIM_INVARIANTS(X) \
    X(IMAGE_PAGES_CHECKED,   "image_pages_checked",   false, "pages whose saved content was compared with the memory at the checkpoint instant") \
    X(IMAGE_MISMATCH,        "image_mismatch",        true,  "pages whose saved content differs from the memory at the checkpoint instant") \
    X(IMAGE_MISSING,         "image_missing",         true,  "pages the image does not hold at all") \
    X(RESTORE_PAGES_CHECKED, "restore_pages_checked", false, "pages installed by the restore and compared with the image") \
    X(RESTORE_MISMATCH,      "restore_mismatch",      true,  "installed pages whose content differs from the image") \
    X(RESTORE_UNINSTALLED,   "restore_uninstalled",   true,  "pages never installed when the restore reported done") \
    X(STUNNED_WRITES,        "stunned_guest_accesses",true,  "guest accesses while the VM was stunned") \
    X(SAVE_FAILED,           "save_failed",           false, "saves that ended in an error (expected under injected disk faults)") \
    X(FAILED_SAVE_VALID,     "failed_save_left_image",true,  "failed saves that still left a valid header (an image claimed valid)") \
    X(VCPU_ERRORS,           "vcpu_errors",           true,  "vCPU stopped by an error (translation or fault handling)")

enum sim_inv_id {
#define X(id, name, bad, desc) SIM_INV_##id,
    SIM_INVARIANTS(X)
#undef X
    SIM_INV_NR
};

struct sim_inv_info {
    const char *name;
    bool is_violation;
    const char *desc;
};

extern const struct sim_inv_info sim_inv_info[SIM_INV_NR];

#endif
