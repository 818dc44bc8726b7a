/*
 * sim_pf_mech.c - the prefault mechanism as a plug-in of the simulator
 * core (struct sim_mech, sim_mech.h): its config sections, the policy set
 * (models/prefault/ registry), metric and invariant tables, and the
 * finish/check hooks.  The driver is sim_pf.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/vm_units.h"
#include "prefault/sim_pf.h"
#include "sim_cfg_vm.h"
#include "sim_platform.h"

#define TIME_MAX_NS SIM_CFG_TIME_MAX_NS

/* ------------------------------------------------------------ policies */

static bool policy_get(int i, struct sim_policy_info *out)
{
    for (int j = 0; j <= i; j++)
        if (!prefault_policies[j])
            return false;
    const struct prefault_policy *p = prefault_policies[i];
    *out = (struct sim_policy_info){ .name = p->name, .desc = p->desc, .params = p->params,
                                     .hidden = (p->flags & PREFAULT_F_HIDDEN) != 0 };
    return true;
}

static const struct sim_policy_set policy_set = {
    .name = "prefetch",
    .used_by = "variants[].policy",
    .cfg_size = sizeof(struct prefault_cfg),
    .get = policy_get,
};

static const struct sim_policy_set *const policy_sets[] = { &policy_set, NULL };

static const struct sim_policy_set *variant_set(const cJSON *doc)
{
    (void)doc;
    return &policy_set;
}

/* ------------------------------------------------------------ sections */

#define C(field) offsetof(struct sim_pf_cfg, field)
#define K(field) (offsetof(struct sim_pf_cfg, costs) + offsetof(struct sim_pf_costs, field))

/* uffd_fault and install: workloads/costs/calibration.json (AMD EPYC, 2
 * cores, Linux 6.18.44, 2026-11-30T02:44:54Z): wp_fault_ns, a userfaultfd
 * fault round trip (fault, handler thread woken, ioctl, vCPU woken), and
 * page_install_ns; kernel_fault: its anon_fault_ns (first write to a page
 * of a fresh anonymous mapping: the kernel's fault path without I/O, page
 * zeroing included; measured later on the same machine, a VM whose
 * nested paging makes every fault dear: bare metal is about 1 us).  walk_entry:
 * bench/bench_guest on the same machine, 24.5 M four-level walks/s, about
 * 10 ns per entry read.  decode is an estimate, not measured (KVM's
 * emulator fetching and decoding one instruction). */
static const struct sim_key cost_keys[] = {
    SIM_KEY_SCALAR_ROW("uffd_fault", 0, VM_PARAM_TIME, K(uffd_fault_ns), 0, 1e9, "23.515us",
                       "a fault's round trip through a user-space handler: post-copy and "
                       "resume (wp_fault_ns)"),
    SIM_KEY_SCALAR_ROW("kernel_fault", 0, VM_PARAM_TIME, K(kernel_fault_ns), 0, 1e9, "14.651us",
                       "a fault the host kernel serves without I/O: host swap-in's path, a "
                       "swap-cache hit, mapping an installed page (anon_fault_ns)"),
    SIM_KEY_SCALAR_ROW("decode", 0, VM_PARAM_TIME, K(decode_ns), 0, 1e9, "2us",
                       "decode the faulting instruction to find its GVA (estimate)"),
    SIM_KEY_SCALAR_ROW("walk_entry", 0, VM_PARAM_TIME, K(walk_entry_ns), 0, 1e9, "10ns",
                       "read one guest page-table entry (bench_guest)"),
    SIM_KEY_SCALAR_ROW("install", 0, VM_PARAM_TIME, K(install_ns), 0, 1e9, "497ns",
                       "install one 4 KiB page (page_install_ns)"),
    SIM_KEY_END,
};

static const struct sim_key swap_keys[] = {
    SIM_KEY_SCALAR_ROW("memory_fraction", 0, VM_PARAM_DOUBLE, C(memory_fraction), 0.01, 1,
                       "0.5", "host memory for the guest, as a fraction of its working set"),
    SIM_KEY_SCALAR_ROW("host_memory", 0, VM_PARAM_SIZE, C(host_memory_bytes), 0,
                       1ull << 50, "0", "host memory for the guest in bytes (0: the fraction)"),
    SIM_KEY_END,
};

static const struct sim_key resume_keys[] = {
    SIM_KEY_ENUM_ROW("image_order", 0, C(image_order), "gpa|gva", "gpa",
                     "suspend image in guest-physical order, or guest-virtual order "
                     "(US9086981's suspend claim)"),
    SIM_KEY_END,
};

static const struct sim_key postcopy_keys[] = {
    SIM_KEY_STR_ROW("source", 0, sim_cfg_set_str, C(source), SIM_NAME_MAX,
                    "the source host in the platform"),
    SIM_KEY_SCALAR_ROW("push", 0, VM_PARAM_BOOL, C(push), 0, 0, "true",
                       "the source pushes the pages not requested, in the background"),
    SIM_KEY_SCALAR_ROW("preempt", 0, VM_PARAM_BOOL, C(preempt), 0, 0, "true",
                       "the push goes on from just after the last requested page "
                       "(QEMU's postcopy page requests reorder the stream)"),
    SIM_KEY_SCALAR_ROW("push_pages", 0, VM_PARAM_U32, C(push_pages), 1, 4096, "64",
                       "pages per push message"),
    SIM_KEY_END,
};

static const struct sim_key sections[] = {
    SIM_KEY_ENUM_ROW("scenario", 0, C(scenario), "swap|postcopy|resume", "swap",
                     "where absent pages are: host swap, the migration source, a suspend image"),
    SIM_CFG_VM_ROW(C(vm)),
    SIM_CFG_WORKLOAD_ROW(C(workload)),
    SIM_KEY_OBJ_ROW("costs", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, cost_keys, NULL,
                    "CPU costs charged per fault, decode, walk and install"),
    SIM_KEY_OBJ_ROW("swap", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, swap_keys, NULL,
                    "scenario swap: host memory smaller than the guest"),
    SIM_KEY_OBJ_ROW("resume", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, resume_keys, NULL,
                    "scenario resume: the suspend image"),
    SIM_KEY_OBJ_ROW("postcopy", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, postcopy_keys, NULL,
                    "scenario postcopy: the source and the background push"),
    SIM_KEY_SCALAR_ROW("max_io", 0, VM_PARAM_SIZE, C(max_io_bytes), 4096, 64 << 20, "1MiB",
                       "largest read I/O (the queue's max_sectors_kb)"),
    SIM_KEY_SCALAR_ROW("ttr_window", 0, VM_PARAM_TIME, C(ttr_window_ns), 1000, TIME_MAX_NS,
                       "1ms", "window for time to responsiveness (its resolution)"),
    SIM_KEY_SCALAR_ROW("ttr_stall", 0, VM_PARAM_DOUBLE, C(ttr_stall), 0, 1, "0.1",
                       "stall share a responsive window may have"),
    SIM_KEY_END,
};

static int finish(struct sim_cfg_walk *w, void *cfg)
{
    struct sim_pf_cfg *c = cfg;
    int rc = sim_cfg_workload_finish(w, "$.workload", &c->vm, &c->workload);
    if (c->host_memory_bytes > c->vm.memory_bytes) {
        char h[32], g[32];
        vm_units_fmt_size(c->host_memory_bytes, h, sizeof h);
        vm_units_fmt_size(c->vm.memory_bytes, g, sizeof g);
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.swap.host_memory", "expected at most the guest's "
                            "memory (%s), got %s: with more host memory nothing is swapped",
                            g, h);
    }
    if (c->scenario == SIM_PF_POSTCOPY && !c->source[0])
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.postcopy.source",
                            "scenario postcopy needs the source host's name");
    return rc;
}

static int check(struct sim_cfg_walk *w, const struct sim_exp *e)
{
    const struct sim_pf_cfg *c = e->mech_cfg;
    int rc = sim_cfg_workload_check(w, "$.workload", &c->vm, &c->workload);
    if (!c->workload.is_trace)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.workload", "the prefault mechanism replays "
                            "memory traces (kind \"trace\"): a policy needs guest-virtual "
                            "addresses");
    struct sim_platform_info pi;
    if (sim_cfg_check_platform(w, e->platform, e->host, e->disk, "$.platform", "$.host",
                               "$.disk", &pi) == 0 && c->scenario == SIM_PF_POSTCOPY &&
        sim_cfg_check_platform(w, e->platform, c->source, e->disk, "$.platform",
                               "$.postcopy.source", "$.disk", NULL))
        rc = VM_EINVAL;
    return rc;
}

/* ------------------------------------------------------------ results */

static const struct sim_metric_def metrics[SIM_PF_M_NR] = {
#define X(id, nm, un, hi, ds) [SIM_PF_M_##id] = { .name = nm, .unit = un, \
                                                   .higher_is_better = hi, .desc = ds },
    SIM_PF_METRICS(X)
#undef X
};

static const struct sim_inv_def invariants[SIM_PF_INV_NR] = {
#define X(id, nm, bad, ds) [SIM_PF_INV_##id] = { .name = nm, .is_violation = bad, .desc = ds },
    SIM_PF_INVARIANTS(X)
#undef X
};

const struct sim_mech sim_pf_mech = {
    .name = "prefault",
    .summary = "on a fault for an absent guest page, bring in its guest-virtual neighbours "
               "(US9086981/US9454489); swap-in, post-copy, resume",
    .sections = sections,
    .cfg_size = sizeof(struct sim_pf_cfg),
    .policy_sets = policy_sets,
    .variant_set = variant_set,
    .finish = finish,
    .check = check,
    .fault_kinds = 0,                   /* its runs inject none (no sim_disk_add_fault) */
    .metrics = metrics,
    .nr_metrics = SIM_PF_M_NR,
    .invariants = invariants,
    .nr_invariants = SIM_PF_INV_NR,
    .run = sim_pf_run,
};
