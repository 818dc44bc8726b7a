/*
 * vmsim.c - the vmsim program: the simulator core (libvmsim_core) and the
 * mechanisms it is built with.  This table is the mechanism registry: a
 * mechanism is its folders (models/<m>/, sim/<m>/, plots, experiments,
 * baselines, tests) plus one line here, and one include of its make
 * fragment in Makefile.am.  The core itself names no mechanism.
 */
#include <stdio.h>

#include "attestation/sim_at.h"
#include "checkpoint/sim_ckpt.h"
#include "consolidation/sim_cons.h"
#include "handoff/sim_ho.h"
#include "prefault/sim_pf.h"
#include "sim_cli.h"
#include "sim_mech.h"

static const struct sim_mech *const mechanisms[] = {
    &sim_ckpt_mech,
    &sim_pf_mech,
    &sim_cons_mech,
    &sim_ho_mech,
    &sim_at_mech,
};

int main(int argc, char **argv)
{
    for (size_t i = 0; i < sizeof mechanisms / sizeof mechanisms[0]; i++) {
        struct vm_diag d = { 0 };
        if (sim_mech_register(mechanisms[i], &d) != 0) {
            fprintf(stderr, "vmsim: %s\n", d.msg);      /* a broken build, not bad input */
            return SIM_EXIT_FAIL;
        }
    }
    return sim_cli_main(argc, argv);
}
