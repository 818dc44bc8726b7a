/*
 * sim_ckpt.h - the checkpoint experiment driver: runs one save policy
 * (phase "save") or one restore policy after a save (phase "restore")
 * inside the simulated world, with the guest replaying its workload, and
 * turns what happened into metrics and invariant counters.
 */
#ifndef SIM_CKPT_H
#define SIM_CKPT_H

#include <cjson/cJSON.h>
#include <simgrid/forward.h>

#include "base/vm_err.h"
#include "sim_exp.h"
#include "sim_metrics.h"

struct sim_outcome {
    bool have[SIM_M_NR];
    double metric[SIM_M_NR];
    uint64_t inv[SIM_INV_NR];
    int rc;                       /* 0, or the error that ended the run */
    char error[1024];             /* set with rc */
};

/* Run exp on host inside the simulation: call from an actor.  Never
 * fails silently: problems land in out->rc / out->error. */
void sim_ckpt_run(const struct sim_exp *exp, sg_host_t host, struct sim_outcome *out);

#endif
