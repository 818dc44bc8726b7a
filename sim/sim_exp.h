/*
 * sim_exp.h - an experiment as the simulator runs it: one run point of an
 * experiment config (JSON), validated and typed, and the data types of
 * the sections the core offers to every mechanism.
 *
 * sim_config.c turns a config file (plus --set overrides, --quick and the
 * sweep) into a list of run points; each run point is one struct sim_exp
 * with exactly one variant.  Paths are resolved to absolute paths, sizes
 * to bytes, times to ns, rates to bytes/s.  Strings are fixed arrays; the
 * mechanism's struct and the variant's parameters are one allocation per
 * run point (mech_cfg, with policy_cfg inside it), owned by the config
 * (sim_config_free), and a forked child inherits them as they are.
 *
 * The core's keys (every mechanism has them; unknown keys are errors,
 * paths are relative to the config file's directory):
 *
 *   name         string [a-z0-9_-]+, required
 *   description  string
 *   seed         integer >= 0                      default 1
 *   mechanism    a registered mechanism's name     required (vmsim list)
 *   platform     path to SimGrid XML               required
 *   host         host id                           default: first host with a disk
 *   disk         disk id on that host              default: its first disk
 *   variants     [ { name: unique string, policy: a policy of the mechanism's
 *                    variant set, params: { keys of that policy's table } } ]
 *   sweep        [ { path: "vm.memory" | "$.workload" | "variants[0].params.x"
 *                    | "variants[*].params.x" (every variant; each must take x),
 *                    values: [ non-empty array ], label: string,
 *                    with: [ { path, values: [ one per value ] } ] } ]
 *                  a cartesian product of the entries; an entry's "with" paths
 *                  change with it (value i of each with value i: a zip, not a
 *                  product), and the points are labelled by the entry alone:
 *                  an object value's "name", a path's base name without
 *                  extension, or a scalar's text
 *   metrics      [ { name: a metric of the mechanism, direction: lower|higher
 *                    (default: the metric's own), tolerance: number >= 0
 *                    (relative) default 0.05, abs_tolerance: number >= 0 default 0 } ]
 *   faults       [ { kind: disk_error | disk_slow | host_crash | daemon_crash
 *                          | partition | msg_loss | msg_delay | clock_pause,
 *                    disk_error: op: read|write, after_ios: integer >= 0,
 *                      count: integer >= 0 (0 = persistent);
 *                    disk_slow: factor: number >= 1, from: time, until: time;
 *                    host_crash: at: time, or from: time, until: time (an
 *                      instant drawn uniformly in [from, until) from the seed:
 *                      sim_exp_fault_at()), restart_after: time (default
 *                      5s: down that long, then it restarts and recovers),
 *                      host: host id (default: the experiment's host);
 *                    daemon_crash: host: host id (required), at, or from and
 *                      until (drawn as for host_crash), restart_after: time
 *                      (default 5s): the host's management daemon dies and
 *                      restarts; the host and its VMs stay up;
 *                    partition: a, b: host ids (required, different; b may
 *                      be the storage host), from: time (default 0), until:
 *                      time (default: the end of the run): every message
 *                      between a and b, either way, sent in [from, until)
 *                      is lost;
 *                    msg_loss: p: probability 0..1 (required), a, b: host
 *                      ids (absent: any host), from, until: each message
 *                      between them in the window is lost with probability
 *                      p (a seeded draw);
 *                    msg_delay: delay: time > 0 (required), a, b, from,
 *                      until: each such message arrives that much later;
 *                    clock_pause: host: host id (required), at, or from and
 *                      until (drawn), duration: time > 0 (required): every
 *                      process of the host freezes that long, then carries
 *                      on as if nothing happened (a process paused past its
 *                      lease) }
 *                  a mechanism takes only the kinds in its fault_kinds
 *                  (sim_mech.h); the walk refuses the others.  Every host
 *                  id must name a host of the platform (checked before any
 *                  run point starts).  Times are relative to the start of
 *                  the run, or of the episode a mechanism builds a
 *                  sim_faults service for (sim_faults.h).
 *   quick        { "<path>": value, ... }   overrides applied by --quick
 *
 * Shared sections a mechanism may take (sim_cfg_vm.h): "vm" (struct
 * sim_exp_vm) and the memory "workload" (struct sim_exp_workload).  The
 * mechanism's own sections fill its struct (mech_cfg); `vmsim list NAME`
 * prints them.
 */
#ifndef SIM_EXP_H
#define SIM_EXP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_NAME_MAX 64
#define SIM_PATH_MAX 1024
#define SIM_MAX_POINT_KEYS 8
#define SIM_MAX_FAULTS 32

enum sim_content_class {
    SIM_CONTENT_ZERO = 0, SIM_CONTENT_TEXT, SIM_CONTENT_CODE, SIM_CONTENT_RANDOM,
    SIM_CONTENT_NR
};

enum sim_pattern { SIM_PAT_UNIFORM, SIM_PAT_ZIPF, SIM_PAT_SEQUENTIAL, SIM_PAT_STRIDED };
enum sim_trace_format { SIM_TRACE_AUTO, SIM_TRACE_PAGETRACE, SIM_TRACE_LACKEY };

/* vCPUs a guest may have (vm.vcpus), so traces a workload may list. */
#define SIM_MAX_VCPUS 64
/* Room for a trace workload's absolute paths, NUL-separated. */
#define SIM_TRACE_LIST_MAX 8192

struct sim_exp_vm {
    uint64_t memory_bytes;
    uint32_t vcpus;                    /* 1..SIM_MAX_VCPUS, each replays its own stream */
    double content[SIM_CONTENT_NR];    /* fractions, sum 1 */
    double aging;                      /* guest page cache at start: 0 fresh boot .. 1 aged */
    uint32_t paging_levels;            /* 4, or 5 (LA57) */
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
    /* trace: one file (every vCPU replays it, each as its own process) or
     * one per vCPU; file is the first, files all of them NUL-separated */
    char file[SIM_PATH_MAX];
    char files[SIM_TRACE_LIST_MAX];
    uint32_t nr_files;
    enum sim_trace_format format;
    bool loop;
    /* both: compute time per access (a pagetrace record charges count x) */
    uint64_t access_ns;
};

/* The order of the config's "kind" choices; struct sim_mech.fault_kinds
 * holds SIM_FAULT_BIT()s of them.  New kinds go at the end. */
enum sim_fault_kind {
    SIM_FAULT_DISK_ERROR, SIM_FAULT_DISK_SLOW, SIM_FAULT_HOST_CRASH,
    SIM_FAULT_DAEMON_CRASH, SIM_FAULT_PARTITION, SIM_FAULT_MSG_LOSS, SIM_FAULT_MSG_DELAY,
    SIM_FAULT_CLOCK_PAUSE,
    SIM_FAULT_NR
};
#define SIM_FAULT_BIT(kind) (1u << (kind))
#define SIM_FAULT_DISK_KINDS (SIM_FAULT_BIT(SIM_FAULT_DISK_ERROR) | SIM_FAULT_BIT(SIM_FAULT_DISK_SLOW))
/* The kinds that act on messages between hosts (sim_faults_msg()). */
#define SIM_FAULT_MSG_KINDS (SIM_FAULT_BIT(SIM_FAULT_PARTITION) | \
                             SIM_FAULT_BIT(SIM_FAULT_MSG_LOSS) | SIM_FAULT_BIT(SIM_FAULT_MSG_DELAY))
/* The kinds that hit one host at an instant, for a while (sim_faults_arm()). */
#define SIM_FAULT_HOST_KINDS (SIM_FAULT_BIT(SIM_FAULT_HOST_CRASH) | \
                              SIM_FAULT_BIT(SIM_FAULT_DAEMON_CRASH) | \
                              SIM_FAULT_BIT(SIM_FAULT_CLOCK_PAUSE))

struct sim_exp_fault {
    enum sim_fault_kind kind;
    bool on_write;                     /* disk_error: writes (true) or reads */
    uint64_t after_ios;                /* disk_error: fail the I/O after this many */
    uint64_t count;                    /* disk_error: how many fail; 0 = all after */
    double factor;                     /* disk_slow: latency multiplier */
    uint64_t from_ns, until_ns;        /* disk_slow, partition, msg_*: the window
                                          (until UINT64_MAX: to the end); host kinds:
                                          the window the instant is drawn in */
    bool drawn;                        /* host kinds: from the window (else at_ns) */
    uint64_t at_ns;                    /* host kinds: the fixed instant */
    uint64_t restart_after_ns;         /* host_crash, daemon_crash: down time */
    uint64_t duration_ns;              /* clock_pause: how long the host is frozen */
    char host[SIM_NAME_MAX];           /* host kinds: host id; "" (host_crash only) =
                                          the experiment's */
    char a[SIM_NAME_MAX], b[SIM_NAME_MAX];  /* partition, msg_*: the two hosts; "" = any
                                               (msg_* only) */
    double p;                          /* msg_loss: probability a message is lost */
    uint64_t delay_ns;                 /* msg_delay: extra delay of each message */
};

struct sim_exp_metric {
    char name[SIM_NAME_MAX];
    bool higher_is_better;
    double tolerance;                  /* relative */
    double abs_tolerance;
};

struct sim_mech;
struct sim_policy_set;

/* One run point: the experiment with one variant and one sweep point. */
struct sim_exp {
    const struct sim_mech *mech;       /* the registered mechanism it runs */
    char config_file[SIM_PATH_MAX];
    char name[SIM_NAME_MAX];
    uint64_t seed;
    char platform[SIM_PATH_MAX];       /* absolute */
    char host[SIM_NAME_MAX];           /* "" = default */
    char disk[SIM_NAME_MAX];           /* "" = default */
    /* the variant */
    char variant[SIM_NAME_MAX];
    char policy[SIM_NAME_MAX];
    const struct sim_policy_set *policy_set;   /* where policy was found */
    const void *policy_cfg;            /* its params: policy_set->cfg_size bytes, inside
                                          the mech_cfg allocation (never freed alone) */
    const void *mech_cfg;              /* the mechanism's sections: mech->cfg_size bytes */
    /* fault injection */
    struct sim_exp_fault faults[SIM_MAX_FAULTS];
    int nr_faults;
    /* the sweep point: labels for records, CSV columns and plots */
    int nr_point_keys;
    char point_keys[SIM_MAX_POINT_KEYS][SIM_NAME_MAX];    /* "vm.memory" or the sweep's label */
    char point_values[SIM_MAX_POINT_KEYS][SIM_NAME_MAX];  /* "8GiB", "write-heavy" */
    char id[256];                      /* "variant/key=value/..." unique in the experiment */
};

/* "disk_error", "disk_slow", "host_crash", ...; "?" for anything else. */
const char *sim_fault_kind_name(enum sim_fault_kind kind);
/* The kinds in mask (SIM_FAULT_BIT()s) as "disk_error, disk_slow", or
 * "none", into buf (len bytes); returns buf. */
const char *sim_fault_kinds_text(unsigned mask, char *buf, size_t len);

/*
 * The instant host fault f (host_crash, daemon_crash or clock_pause; the
 * fault at index i of its array) begins, in ns from the origin of its
 * times: at_ns, or, for a window, an instant drawn uniformly in
 * [from, until) from a stream of seed of its own (one per fault index),
 * so the same seed gives the same instant, whatever else the run draws.
 * Not a host kind: from_ns.
 */
uint64_t sim_exp_fault_at(const struct sim_exp_fault *f, uint64_t seed, int i);

/*
 * The instant e's fault i (a host_crash) crashes its host, in simulated
 * ns from the start of the run, into *at_ns (sim_exp_fault_at() with
 * e->seed), and how long the host stays down into *restart_after_ns.
 * 0, or VM_EINVAL when fault i is not a host_crash.
 */
int sim_exp_host_crash(const struct sim_exp *e, int i, uint64_t *at_ns,
                       uint64_t *restart_after_ns);

#endif
