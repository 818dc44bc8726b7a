/*
 * cons_m_offline.c - offline consolidation: the VM is stopped for the
 * whole copy (a powered-off VM's "Consolidate", qemu-img commit), which
 * is the bound on copy time and the worst case of downtime.  The stun is
 * the copy; its fixed part is the power-off / power-on, not modelled
 * (0 by default).
 */
#include <stddef.h>

#include "consolidation/cons_int.h"

static const struct vm_param offline_params[] = {
    { "chunk", VM_PARAM_SIZE, offsetof(struct cons_method_cfg, chunk_bytes), .min = 4096,
      .max = 64 << 20, .def = "1MiB", .help = "largest copy operation" },
    CONS_DM_PARAMS,
    { "stun_fixed", VM_PARAM_TIME, offsetof(struct cons_method_cfg, stun_fixed_ns), .min = 0,
      .max = 3600e9, .def = "0s", .help = "fixed part of the downtime (power off and on)" },
    { NULL },
};

static void copy_all(struct cons_engine *e)
{
    int top = cons_chain_nr_layers(e->ch) - 1;
    cons_copy_begin(e, top, cons_grains_above(e, top), false);
}

static void start(struct cons_engine *e)
{
    e->res.iterations++;
    cons_stun(e, copy_all);
}

static void copy_idle(struct cons_engine *e)
{
    if (e->phase_state)
        return;
    e->phase_state = 1;
    cons_switch_over(e);
}

const struct cons_method cons_m_offline = {
    .name = "offline",
    .desc = "the VM is off for the whole copy (powered-off consolidation, qemu-img commit)",
    .params = offline_params, .stun_kind = CONS_STUN_OFF,
    .start = start, .copy_idle = copy_idle,
};
