/*
 * sim_exp.h - an experiment as the simulator runs it: the validated,
 * typed form of one run point of an experiment config (JSON).
 *
 * sim_config.c turns a config file (plus --set overrides, --quick and the
 * sweep) into a list of run points; each run point is one struct sim_exp
 * with exactly one variant.  Everything here is plain data: paths are
 * resolved to absolute paths, sizes to bytes, times to ns, rates to
 * bytes/s.  Strings are fixed arrays so a run point can be copied into a
 * forked child as is.
 *
 * Config schema (JSON; unknown keys are errors; paths relative to the
 * config file's directory):
 *
 *   name         string [a-z0-9_-]+, required
 *   description  string
 *   seed         integer >= 0                      default 1
 *   mechanism    "checkpoint"                      required
 *   phase        "save" | "restore"                default "save"
 *   platform     path to SimGrid XML               required
 *   host         host id                           default: first host with a disk
 *   disk         disk id on that host              default: its first disk
 *   vm           { memory: size (>= 1MiB, multiple of 4KiB) required,
 *                  content: { zero, text, code, random: numbers >= 0 summing to 1 }
 *                           default {0.25, 0.25, 0.10, 0.40},
 *                  fragmentation: 0..1 default 0 }
 *   workload     { name: string (default = pattern or trace file stem),
 *                  kind: "synthetic" | "trace"   required,
 *                  synthetic: pattern: uniform|zipf|sequential|strided (required),
 *                             footprint: size (default = vm.memory; clamped to it),
 *                             zipf_s: number (0,5] default 0.99,
 *                             stride: integer pages >= 1 default 16,
 *                             write_fraction: 0..1 default 0.2,
 *                             access_time: time per page touch, default "100ns"
 *                  trace:     file: path (required), format: auto|pagetrace|lackey,
 *                             access_time: time per raw access, default "2ns",
 *                             loop: bool default true }
 *   costs        { trace_fault "2us", page_copy "250ns", compress "510MB/s",
 *                  decompress "1550MB/s", trace_arm "2ns" (per page),
 *                  device_state "5ms", page_install "250ns" }   all optional
 *   save         { warmup: time default "50ms" (guest runs before the save) }
 *   restore      { from: { policy: save policy, params: {...} } default buffered,
 *                  ttr_window: time "20ms", ttr_stall: 0..1 default 0.1,
 *                  run_time: time default "2s" (guest time after it can run) }
 *   variants     [ { name: unique string, policy: policy name (a save policy when
 *                    phase = save, a restore policy when phase = restore),
 *                    params: { keys of that policy's parameter table } } ]  non-empty
 *   sweep        [ { path: "vm.memory" | "$.workload" | "variants[0].params.block_pages",
 *                    values: [ non-empty array ], label: string } ]  cartesian product
 *   metrics      [ { name: known metric, direction: lower|higher,
 *                    tolerance: number >= 0 (relative) default 0.05,
 *                    abs_tolerance: number >= 0 default 0 } ]
 *   faults       [ { kind: disk_error | disk_slow, op: read|write (disk_error),
 *                    after_ios: integer >= 0, count: integer >= 0 (0 = persistent),
 *                    factor: number >= 1, from: time, until: time (disk_slow) } ]
 *   quick        { "<path>": value, ... }   overrides applied by --quick
 */
#ifndef SIM_EXP_H
#define SIM_EXP_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "checkpoint/ckpt.h"

#define SIM_NAME_MAX 64
#define SIM_PATH_MAX 1024
#define SIM_MAX_POINT_KEYS 8
#define SIM_MAX_FAULTS 8

enum sim_content_class {
    SIM_CONTENT_ZERO = 0, SIM_CONTENT_TEXT, SIM_CONTENT_CODE, SIM_CONTENT_RANDOM,
    SIM_CONTENT_NR
};

enum sim_pattern { SIM_PAT_UNIFORM, SIM_PAT_ZIPF, SIM_PAT_SEQUENTIAL, SIM_PAT_STRIDED };
enum sim_trace_format { SIM_TRACE_AUTO, SIM_TRACE_PAGETRACE, SIM_TRACE_LACKEY };

struct sim_exp_vm {
    uint64_t memory_bytes;
    double content[SIM_CONTENT_NR];    /* fractions, sum 1 */
    double fragmentation;              /* 0 fresh boot .. 1 fully aged */
};

struct sim_exp_workload {
    char name[SIM_NAME_MAX];
    bool is_trace;
    /* synthetic */
    enum sim_pattern pattern;
    uint64_t footprint_bytes;
    double zipf_s;
    uint64_t stride_pages;
    double write_fraction;
    /* trace */
    char file[SIM_PATH_MAX];
    enum sim_trace_format format;
    bool loop;
    /* both: compute time per access (a pagetrace record charges count x) */
    uint64_t access_ns;
};

struct sim_exp_costs {
    uint64_t trace_fault_ns;           /* exit + handler per trace fault */
    uint64_t page_copy_ns;             /* copy one 4 KiB page */
    double compress_bps;               /* compressor input bytes/s, one core */
    double decompress_bps;             /* decompressor output bytes/s */
    uint64_t trace_arm_ns;             /* per page, during the start stun */
    uint64_t device_state_ns;          /* device state save, in the start stun */
    uint64_t page_install_ns;          /* restore: install one page */
};

enum sim_fault_kind { SIM_FAULT_DISK_ERROR, SIM_FAULT_DISK_SLOW };
struct sim_exp_fault {
    enum sim_fault_kind kind;
    bool on_write;                     /* disk_error: writes (true) or reads */
    uint64_t after_ios;                /* disk_error: fail the I/O after this many */
    uint64_t count;                    /* disk_error: how many fail; 0 = all after */
    double factor;                     /* disk_slow: latency multiplier */
    uint64_t from_ns, until_ns;        /* disk_slow: window */
};

struct sim_exp_metric {
    char name[SIM_NAME_MAX];
    bool higher_is_better;
    double tolerance;                  /* relative */
    double abs_tolerance;
};

/* One run point: the experiment with one variant and one sweep point. */
struct sim_exp {
    char config_file[SIM_PATH_MAX];
    char name[SIM_NAME_MAX];
    uint64_t seed;
    bool restore_phase;                /* phase = "restore" */
    char platform[SIM_PATH_MAX];       /* absolute */
    char host[SIM_NAME_MAX];           /* "" = default */
    char disk[SIM_NAME_MAX];           /* "" = default */
    struct sim_exp_vm vm;
    struct sim_exp_workload workload;
    struct sim_exp_costs costs;
    uint64_t warmup_ns;
    /* the variant */
    char variant[SIM_NAME_MAX];
    char policy[SIM_NAME_MAX];
    struct ckpt_cfg save;              /* phase save: the variant's; restore: restore.from */
    char save_policy[SIM_NAME_MAX];    /* = policy for phase save; restore.from.policy otherwise */
    struct ckpt_restore_cfg restore;   /* phase restore: the variant's params */
    uint64_t ttr_window_ns;
    double ttr_stall;
    uint64_t run_time_ns;
    /* fault injection */
    struct sim_exp_fault faults[SIM_MAX_FAULTS];
    int nr_faults;
    /* the sweep point: labels for records, CSV columns and plots */
    int nr_point_keys;
    char point_keys[SIM_MAX_POINT_KEYS][SIM_NAME_MAX];    /* "vm.memory" or the sweep's label */
    char point_values[SIM_MAX_POINT_KEYS][SIM_NAME_MAX];  /* "8GiB", "write-heavy" */
    char id[256];                      /* "variant/key=value/..." unique in the experiment */
};

#endif
