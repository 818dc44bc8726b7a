/*
 * sim_exp.c - what the core derives from a run point (sim_exp.h) for any
 * mechanism: the names of the fault kinds, and the instant a host fault
 * (a host or daemon crash, a clock pause) begins, fixed or drawn from the
 * experiment's seed.
 */
#include "sim_exp.h"

#include <stdio.h>
#include <string.h>

#include "base/vm_err.h"
#include "base/vm_rand.h"

/* The host faults' instants' streams (named for the first, host_crash): this base plus the fault's index, so each
 * fault draws alone and no other stream of the seed moves them. */
enum { STREAM_HOST_CRASH = 0x63726100 };

static const char *const kind_names[SIM_FAULT_NR] = {
    [SIM_FAULT_DISK_ERROR] = "disk_error",
    [SIM_FAULT_DISK_SLOW] = "disk_slow",
    [SIM_FAULT_HOST_CRASH] = "host_crash",
    [SIM_FAULT_DAEMON_CRASH] = "daemon_crash",
    [SIM_FAULT_PARTITION] = "partition",
    [SIM_FAULT_MSG_LOSS] = "msg_loss",
    [SIM_FAULT_MSG_DELAY] = "msg_delay",
    [SIM_FAULT_CLOCK_PAUSE] = "clock_pause",
};

const char *sim_fault_kind_name(enum sim_fault_kind kind)
{
    return (unsigned)kind < SIM_FAULT_NR ? kind_names[kind] : "?";
}

const char *sim_fault_kinds_text(unsigned mask, char *buf, size_t len)
{
    size_t n = 0;

    buf[0] = '\0';
    for (int k = 0; k < SIM_FAULT_NR; k++) {
        if (!(mask & SIM_FAULT_BIT(k)))
            continue;
        int w = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", kind_names[k]);
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
    }
    if (n == 0)
        snprintf(buf, len, "none");
    return buf;
}

uint64_t sim_exp_fault_at(const struct sim_exp_fault *f, uint64_t seed, int i)
{
    if (!(SIM_FAULT_HOST_KINDS & SIM_FAULT_BIT(f->kind)))
        return f->from_ns;
    if (!f->drawn)
        return f->at_ns;
    /* the walk made from < until */
    struct vm_rand r;
    vm_rand_init(&r, seed, STREAM_HOST_CRASH + (uint64_t)i);
    return f->from_ns + vm_rand_below(&r, f->until_ns - f->from_ns);
}

int sim_exp_host_crash(const struct sim_exp *e, int i, uint64_t *at_ns,
                       uint64_t *restart_after_ns)
{
    if (i < 0 || i >= e->nr_faults || e->faults[i].kind != SIM_FAULT_HOST_CRASH)
        return VM_EINVAL;
    *restart_after_ns = e->faults[i].restart_after_ns;
    *at_ns = sim_exp_fault_at(&e->faults[i], e->seed, i);
    return 0;
}
