/*
 * sim_ckpt_int.h - what the checkpoint driver's files share (sim_ckpt.c:
 * world, stuns, exits, costs and the save; sim_ckpt_restore.c: the
 * restore).  Private to sim/checkpoint/.
 */
#ifndef SIM_CKPT_INT_H
#define SIM_CKPT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <simgrid/forward.h>

#include "base/vm_hist.h"
#include "checkpoint/ckpt.h"
#include "checkpoint/sim_ckpt.h"
#include "sim_mech.h"
#include "sim_mem.h"
#include "sim_pagecache.h"
#include "sim_vcpus.h"

struct ckpt_run {
    const struct sim_exp *exp;
    sg_host_t host;
    const struct sim_ckpt_cfg *cfg;    /* exp->mech_cfg */
    struct sim_outcome *out;
    struct sim_mem *mem;
    struct sim_disk *disk;
    struct sim_pagecache *pc;      /* the file's page cache (NULL: O_DIRECT) */
    struct sim_vcpus vcpus;
    struct ckpt_exit *exits;       /* per vCPU: its hook's argument */
    bool in_fault;                 /* a vCPU is inside the policy's fault handler */
    struct sim_waitq *fault_wq;    /* vCPUs waiting for it (NULL: one vCPU) */
    uint64_t fault_server_free_ns; /* CKPT_F_SERIAL_FAULTS: when the one thread serving
                                      faults is free, on the vCPUs' clocks */
    struct sim_waitq *io_wq;
    struct ckpt_env env;
    const struct ckpt_policy *sp;
    struct ckpt_save *save;
    const struct ckpt_restore_policy *rp;
    struct ckpt_restore *rest;
    struct ckpt_stats charged;     /* counters already turned into time */
    uint64_t fault_waits;          /* save exits that waited for an I/O completion */
    bool stunned;
    uint64_t stun_began_ns, stun_total_ns, stun_max_ns;
};

/* A vCPU's exit state: its hook's argument. */
struct ckpt_exit {
    struct ckpt_run *r;
    const struct sim_vcpu *v;      /* the vCPU it belongs to */
    bool retrying;                 /* the current exit already paid its entry */
};

/* Set metric id of the outcome (its mechanism's table: sim_ckpt.h). */
void ckpt_set_metric(struct sim_outcome *o, enum sim_ckpt_metric id, double v);
/* Record an error in the outcome: fmt has a %s for the message (rc's
 * text) then one for what (a name or detail). */
void ckpt_fail(struct ckpt_run *r, int rc, const char *fmt, const char *what);
/* Installs by the restore policy since the last call, as time (ns). */
uint64_t ckpt_charge_installs(struct ckpt_run *r, const struct ckpt_stats *st);
/* Every vCPU's fault hook: fn, with its struct ckpt_exit (NULL: none). */
void ckpt_set_hooks(struct ckpt_run *r, sim_vcpu_fault_fn fn);
int ckpt_restore_fault_hook(void *arg, uint64_t gpa, bool is_write, int kind,
                            uint64_t *cost_ns);
/* p50/p99/p999/max of h into the four metrics (nothing when h is empty). */
void ckpt_record_hist(struct sim_outcome *o, const struct vm_hist *h, enum sim_ckpt_metric p50,
                      enum sim_ckpt_metric p99, enum sim_ckpt_metric p999,
                      enum sim_ckpt_metric max);
/* Save with policy sp and its cfg; report: its metrics go into the
 * outcome.  0, or <0 when it failed (the outcome says why). */
int ckpt_run_save(struct ckpt_run *r, const struct ckpt_policy *sp, const struct ckpt_cfg *asked,
                  bool report);
/* Save with restore.from, then restore with the run point's policy. */
void ckpt_run_restore(struct ckpt_run *r);

#endif
