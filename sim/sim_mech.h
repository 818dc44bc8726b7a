/*
 * sim_mech.h - the mechanism plug-in interface.  The simulator core hosts
 * mechanisms and never names one; a mechanism fills one struct sim_mech
 * and the program registers it (one line in programs/vmsim.c), in the
 * spirit of fio's ioengine_ops and SQLite's VFS.
 *
 * What a mechanism provides:
 *   - its name (the config's "mechanism") and a one-line summary;
 *   - the key tables of the config sections it owns (sim_cfg.h), filling
 *     a struct of cfg_size bytes that each run point carries (mech_cfg);
 *     it may embed the core's shared sections (sim_cfg_vm.h: "vm", the
 *     memory "workload");
 *   - its policy sets (save/restore, prefetch, ...): each policy with its
 *     vm_param table, and which set variants[].policy names;
 *   - finish: derived fields and cross-field checks of one run point;
 *   - check: file checks (traces, images) that `validate` and `run` both
 *     make before any run point starts;
 *   - which kinds of the config's "faults" it applies (fault_kinds): the
 *     walk refuses the others, so a fault is never silently ignored;
 *   - its metric and invariant-counter tables (name with unit, direction,
 *     description), from which result.json, the CSV, `vmsim check` and
 *     `vmsim list` work;
 *   - run: one run point inside a SimGrid actor, filling a sim_outcome.
 * The core gives every mechanism alike: config parsing and errors,
 * overrides, sweeps, -j, result files, check, list, determinism.
 */
#ifndef SIM_MECH_H
#define SIM_MECH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <simgrid/forward.h>

#include "base/vm_err.h"
#include "base/vm_param.h"
#include "sim_cfg.h"

#define SIM_MAX_METRICS 64       /* per mechanism, the core's own included */
#define SIM_MAX_INVARIANTS 32
#define SIM_POLICY_CFG_MAX 512   /* bytes of a policy's parameter struct */

struct sim_exp;

/* One metric a run reports.  Units are in the name ("completion_ns"). */
struct sim_metric_def {
    const char *name;
    const char *unit;                   /* "ns", "bytes", "count", "%" */
    bool higher_is_better;              /* direction when the config gives none */
    const char *desc;
};

/* One invariant counter: violations fail the run (exit 1); the others
 * count what was verified, so a check that checked nothing shows. */
struct sim_inv_def {
    const char *name;
    bool is_violation;
    const char *desc;
};

/* One policy as the core sees it. */
struct sim_policy_info {
    const char *name;
    const char *desc;                   /* one line for `vmsim list` */
    const struct vm_param *params;      /* keys of the set's parameter struct */
    bool hidden;                        /* test-only: neither listed nor suggested */
};

/* A registry of interchangeable policies (the mechanism and its baselines). */
struct sim_policy_set {
    const char *name;                   /* "save" */
    const char *used_by;                /* where configs name them, for `vmsim list` */
    size_t cfg_size;                    /* the struct params fill, <= SIM_POLICY_CFG_MAX */
    /* The i-th policy (0-based) into *out; false past the last. */
    bool (*get)(int i, struct sim_policy_info *out);
};

/* What one run point produced.  Arrays are indexed like the mechanism's
 * tables; sim_mech_core_metric() indexes come after its own metrics. */
struct sim_outcome {
    bool have[SIM_MAX_METRICS];
    double metric[SIM_MAX_METRICS];
    uint64_t inv[SIM_MAX_INVARIANTS];
    int rc;                             /* 0, or the error that ended the run */
    char error[1024];                   /* set with rc */
    char detail[16384];                 /* "" or a JSON object the record carries as
                                           "detail" (what figures cannot say: a
                                           reproducing fault schedule) */
};

struct sim_mech {
    const char *name;
    const char *summary;
    const char *notes;                  /* more lines for `vmsim list NAME`, or NULL */
    /* configuration */
    const struct sim_key *sections;     /* top-level rows it owns (into mech_cfg) */
    size_t cfg_size;                    /* bytes of mech_cfg */
    void (*cfg_init)(void *cfg);        /* defaults no table row holds; may be NULL */
    const struct sim_policy_set *const *policy_sets;    /* NULL-terminated */
    /* the set variants[].policy names, by the document (NULL doc: the default) */
    const struct sim_policy_set *(*variant_set)(const cJSON *doc);
    /* derived fields of cfg (its mech_cfg) and cross-field checks once a
     * point walked clean; report through sim_cfg_err*(); may be NULL */
    int (*finish)(struct sim_cfg_walk *w, void *cfg);
    /* file checks before any run point, in validate and run alike; they
     * write nothing; may be NULL */
    int (*check)(struct sim_cfg_walk *w, const struct sim_exp *e);
    /* the fault kinds its run applies: SIM_FAULT_BIT(enum sim_fault_kind)s
     * (sim_exp.h), 0 = none; a config's fault of another kind is an error.
     * Host and message kinds are applied through sim_faults.h; the core
     * checks every host a fault names against the platform */
    unsigned fault_kinds;
    /* results */
    const struct sim_metric_def *metrics;
    int nr_metrics;
    const struct sim_inv_def *invariants;
    int nr_invariants;
    /* one run point, called from an actor on `host`; problems go to
     * out->rc / out->error, never silently */
    void (*run)(const struct sim_exp *e, sg_host_t host, struct sim_outcome *out);
    /* host side: `vmsim run` of points that all set it runs with glibc's
     * malloc on transparent huge pages and a larger thread cache
     * (sim_cli.c); for runs that fill hundreds of megabytes of heap or
     * more: SimGrid's activity and actor records, the models' tables */
    bool huge_heap;
};

/*
 * Add a mechanism to the registry (the program does it for each, before
 * anything else; tests may add their own).  Checks the tables: names
 * unique, within SIM_MAX_*, policy structs within SIM_POLICY_CFG_MAX.
 * 0, VM_EINVAL (with why), VM_EBUSY (that name is taken) or VM_ENOSPC.
 */
int sim_mech_register(const struct sim_mech *m, struct vm_diag *d);
/* The mechanism called name, or NULL. */
const struct sim_mech *sim_mech_find(const char *name);
/* The i-th registered mechanism, or NULL past the last. */
const struct sim_mech *sim_mech_at(int i);
/* For a message about an unknown mechanism `name` (may be NULL): "(did
 * you mean 'x'?)" or "(known: a, b)", in buf; returns buf. */
const char *sim_mech_hint(const char *name, char *buf, size_t len);

/* Metrics of m: its own, then the core's (sim_activities); i in
 * [0, sim_mech_nr_metrics(m)). */
int sim_mech_nr_metrics(const struct sim_mech *m);
const struct sim_metric_def *sim_mech_metric(const struct sim_mech *m, int i);
/* Index of the metric called name in m, or -1. */
int sim_mech_metric_find(const struct sim_mech *m, const char *name);
/* Index of the core metric "sim_activities" in m's outcome. */
int sim_mech_activities_metric(const struct sim_mech *m);

/* The policy called name in set, or false. */
bool sim_policy_find(const struct sim_policy_set *set, const char *name,
                     struct sim_policy_info *out);

/* Outcome helpers for drivers. */
void sim_outcome_set(struct sim_outcome *o, int metric, double value);
/* Record the error that ended the run (the first one wins). */
void sim_outcome_fail(struct sim_outcome *o, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
