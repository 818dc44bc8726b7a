/*
 * sim_ckpt_mech.c - the checkpoint mechanism as a plug-in of the
 * simulator core (struct sim_mech, sim_mech.h): its config sections,
 * policy sets (save and restore policies from models/checkpoint/), metric
 * and invariant tables, and the finish/check hooks.  The driver that runs
 * a point is sim_ckpt.c.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/vm_units.h"
#include "checkpoint/ckpt_file.h"
#include "checkpoint/sim_ckpt.h"
#include "checkpoint/sim_ckpt_costs.h"
#include "sim_platform.h"
#include "sim_cfg_vm.h"
#include "sim_json.h"

#define TIME_MAX_NS SIM_CFG_TIME_MAX_NS
#define DEFAULT_FROM "buffered"               /* restore.from's policy when none is given */

/* ------------------------------------------------------------ policy sets */

/* The i-th policy of a NULL-terminated registry table (save and restore
 * policies are different structs with the same leading fields). */
#define POLICY_GET(fn, table)                                                           \
    static bool fn(int i, struct sim_policy_info *out)                                  \
    {                                                                                   \
        for (int j = 0; j <= i; j++)                                                    \
            if (!table[j])                                                              \
                return false;                                                           \
        *out = (struct sim_policy_info){ .name = table[i]->name, .desc = table[i]->desc, \
                                         .params = table[i]->params,                      \
                                         .hidden = (table[i]->flags & CKPT_F_HIDDEN) != 0 }; \
        return true;                                                                    \
    }
POLICY_GET(save_get, ckpt_save_policies)
POLICY_GET(restore_get, ckpt_restore_policies)

static const struct sim_policy_set save_set = {
    .name = "save",
    .used_by = "variants[].policy when \"phase\" is \"save\"; restore.from.policy",
    .cfg_size = sizeof(struct ckpt_cfg),
    .get = save_get,
};

static const struct sim_policy_set restore_set = {
    .name = "restore",
    .used_by = "variants[].policy when \"phase\" is \"restore\"",
    .cfg_size = sizeof(struct ckpt_restore_cfg),
    .get = restore_get,
};

static const struct sim_policy_set *const policy_sets[] = { &save_set, &restore_set, NULL };

static const struct sim_policy_set *save_policies(const cJSON *doc)
{
    return &save_set;
}

/* The variants are restore policies when the document's phase is "restore". */
static const struct sim_policy_set *variant_set(const cJSON *doc)
{
    const cJSON *phase = cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "phase")
                                             : NULL;
    return cJSON_IsString(phase) && strcmp(phase->valuestring, "restore") == 0 ? &restore_set
                                                                                : &save_set;
}

/* ------------------------------------------------------------ sections */

static int set_from(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj)
{
    struct sim_ckpt_cfg *c = obj;
    int rc = sim_cfg_walk_object(w, v, k->sub, obj);
    if (rc)
        return rc;
    c->from_given = true;
    return sim_cfg_resolve_policy(w, &save_set, c->from_policy,
                                  cJSON_GetObjectItemCaseSensitive(v, "params"), &c->from_save);
}

#define C(field) offsetof(struct sim_ckpt_cfg, field)
static const struct sim_key save_keys[] = {
    SIM_KEY_SCALAR_ROW("warmup", 0, VM_PARAM_TIME, C(warmup_ns), 0, TIME_MAX_NS, "50ms",
                       "guest time before the save starts"),
    SIM_KEY_ENUM_ROW("cache", 0, C(cache), "writeback|direct", "writeback",
                     "the file's writes: through the host's page cache (QEMU's default), or "
                     "O_DIRECT (QEMU direct-io)"),
    SIM_KEY_SCALAR_ROW("dirty_ratio", 0, VM_PARAM_U32, C(dirty_ratio), 1, 100, "20",
                       "writers wait above this % of available memory (Linux vm.dirty_ratio)"),
    SIM_KEY_SCALAR_ROW("dirty_background_ratio", 0, VM_PARAM_U32, C(dirty_background_ratio),
                       0, 100, "10", "writeback starts at this % (vm.dirty_background_ratio)"),
    SIM_KEY_SCALAR_ROW("dirty_bytes", 0, VM_PARAM_SIZE, C(dirty_bytes), 0, 1ull << 50, "0",
                       "the limit in bytes instead of the ratio (vm.dirty_bytes; 0: the ratio)"),
    SIM_KEY_SCALAR_ROW("dirty_background_bytes", 0, VM_PARAM_SIZE, C(dirty_background_bytes),
                       0, 1ull << 50, "0", "writeback start in bytes (0: the ratio)"),
    SIM_KEY_SCALAR_ROW("dirty_expire", 0, VM_PARAM_TIME, C(dirty_expire_ns), 0, TIME_MAX_NS,
                       "30s", "dirty data this old is written back (vm.dirty_expire_centisecs)"),
    SIM_KEY_SCALAR_ROW("writeback_io", 0, VM_PARAM_SIZE, C(writeback_io_bytes), 4096,
                       1ull << 30, "1MiB", "largest writeback I/O (the queue's max_sectors_kb)"),
    SIM_KEY_SCALAR_ROW("fsync", 0, VM_PARAM_BOOL, C(fsync), 0, 0, "true",
                       "fdatasync() the file at the end: completion is when it is durable "
                       "(libvirt's iohelper does)"),
    SIM_KEY_SCALAR_ROW("sync_paused", 0, VM_PARAM_BOOL, C(sync_paused), 0, 0, "true",
                       "a save that ends with the VM stopped (stop-and-copy, pre-copy) keeps "
                       "it stopped until the fdatasync completes, as libvirt does"),
    SIM_KEY_END,
};

static const struct sim_key from_keys[] = {
    SIM_KEY_STR_ROW("policy", 0, sim_cfg_set_str, C(from_policy), SIM_NAME_MAX,
                    "save policy that wrote the image (default buffered)"),
    { .name = "params", .shape = SIM_KEY_PARAMS, .set = sim_cfg_set_skip,
      .p = { .name = "params", .help = "its parameters" }, .policies = save_policies,
      .def_policy = DEFAULT_FROM },
    SIM_KEY_END,
};

static const struct sim_key restore_keys[] = {
    SIM_KEY_OBJ_ROW("from", 0, set_from, 0, from_keys, NULL, "the save whose image is restored"),
    SIM_KEY_SCALAR_ROW("ttr_window", 0, VM_PARAM_TIME, C(ttr_window_ns), 1000, TIME_MAX_NS,
                       "1ms", "window for time to responsiveness (its resolution)"),
    SIM_KEY_SCALAR_ROW("ttr_stall", 0, VM_PARAM_DOUBLE, C(ttr_stall), 0, 1, "0.1",
                       "stall share a responsive window may have"),
    SIM_KEY_SCALAR_ROW("run_time", 0, VM_PARAM_TIME, C(run_time_ns), 0, TIME_MAX_NS, "2s",
                       "guest time measured once it can run"),
    SIM_KEY_END,
};

static const struct sim_key sections[] = {
    /* it picks the variants' policy set: neither swept nor overridden */
    SIM_KEY_ENUM_ROW("phase", SIM_KEY_NOSWEEP | SIM_KEY_NOSET, C(phase), "save|restore", "save",
                     "save a running VM, or restore one from a save's image"),
    SIM_CFG_VM_ROW(C(vm)),
    SIM_CFG_WORKLOAD_ROW(C(workload)),
    SIM_KEY_OBJ_ROW("costs", SIM_KEY_DEFAULTS, sim_ckpt_costs_set, C(costs), sim_ckpt_cost_keys,
                    NULL, "CPU costs charged for the work policies count: inline, or a costs "
                    "file (vmsim calibrate -o) named by a string or \"file\""),
    SIM_KEY_OBJ_ROW("save", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, save_keys, NULL,
                    "the save"),
    SIM_KEY_OBJ_ROW("restore", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, restore_keys, NULL,
                    "the restore (phase restore)"),
    SIM_KEY_END,
};

static void cfg_init(void *cfg)
{
    struct sim_ckpt_cfg *c = cfg;
    snprintf(c->from_policy, sizeof c->from_policy, "%s", DEFAULT_FROM);
}

static int finish(struct sim_cfg_walk *w, void *cfg)
{
    struct sim_ckpt_cfg *c = cfg;
    int rc = sim_cfg_workload_finish(w, "$.workload", &c->vm, &c->workload);
    c->restore_phase = c->phase == 1;
    if (c->restore_phase && !c->from_given) {
        size_t m = sim_cfg_push_key(w, "restore");
        sim_cfg_push_key(w, "from");
        if (sim_cfg_resolve_policy(w, &save_set, c->from_policy, NULL, &c->from_save))
            rc = VM_EINVAL;
        sim_cfg_pop(w, m);
    }
    return rc;
}

/* A save policy's own checks across its parameters (ckpt_policy.check),
 * on the variant's or restore.from's parameters. */
static int check_save_params(struct sim_cfg_walk *w, const char *policy,
                             const struct ckpt_cfg *cfg, const char *path, const char *what)
{
    const struct ckpt_policy *sp = ckpt_save_policy_find(policy);
    struct vm_diag d;
    vm_diag_clear(&d);
    if (!sp || !sp->check || sp->check(cfg, &d) == 0)
        return 0;
    return sim_cfg_err_at(w, d.code, path, "%s: %s", what, d.msg);
}

/* Files and the disk, before any run point: the trace fits the VM, and
 * the checkpoint file (the whole disk) holds at least one copy of memory
 * and the header; a pre-copy stream longer than that still fails at run
 * time (VM_ENOSPC), as it would on a real disk.  And the save policy's
 * checks across parameters. */
static int check(struct sim_cfg_walk *w, const struct sim_exp *e)
{
    const struct sim_ckpt_cfg *c = e->mech_cfg;
    struct sim_platform_info pi;
    int rc = sim_cfg_workload_check(w, "$.workload", &c->vm, &c->workload);
    char what[SIM_NAME_MAX + 16];
    snprintf(what, sizeof what, "variant '%s'", e->variant);
    if (c->restore_phase) {
        if (check_save_params(w, c->from_policy, &c->from_save, "$.restore.from.params",
                              "restore.from"))
            rc = VM_EINVAL;
    } else if (check_save_params(w, e->policy, e->policy_cfg, "$.variants", what)) {
        rc = VM_EINVAL;
    }
    if (sim_cfg_check_platform(w, e->platform, e->host, e->disk, "$.platform", "$.host",
                               "$.disk", &pi) == 0) {
        uint64_t need = c->vm.memory_bytes + (uint64_t)CKPT_DATA_LBA * VM_PAGE_SIZE;
        if (pi.disk_capacity_bytes < need) {
            char want[32], have[32];
            vm_units_fmt_size(need, want, sizeof want);
            vm_units_fmt_size(pi.disk_capacity_bytes, have, sizeof have);
            rc = sim_cfg_err_at(w, VM_EINVAL, "$.vm.memory", "the checkpoint file needs at "
                                "least %s (a copy of memory and its header), the disk holds "
                                "%s (its capacity prop)", want, have);
        }
        struct sim_pagecache_cfg pcfg;
        char why[200];
        if (sim_ckpt_page_cache(c, pi.host_memory_bytes, &pcfg, why, sizeof why) < 0) {
            static const char key[] = "save.dirty_bytes: ";   /* the reason names its key */
            bool on_key = strncmp(why, key, sizeof key - 1) == 0;
            rc = sim_cfg_err_at(w, VM_EINVAL, on_key ? "$.save.dirty_bytes"
                                : pi.host_memory_bytes ? "$.vm.memory" : "$.platform",
                                "%s", on_key ? why + sizeof key - 1 : why);
        }
    }
    return rc;
}

/* ------------------------------------------------------------ results */

static const struct sim_metric_def metrics[SIM_CKPT_M_NR] = {
#define X(id, nm, un, hi, ds) [SIM_CKPT_M_##id] = { .name = nm, .unit = un, \
                                                     .higher_is_better = hi, .desc = ds },
    SIM_CKPT_METRICS(X)
#undef X
};

static const struct sim_inv_def invariants[SIM_CKPT_INV_NR] = {
#define X(id, nm, bad, ds) [SIM_CKPT_INV_##id] = { .name = nm, .is_violation = bad, .desc = ds },
    SIM_CKPT_INVARIANTS(X)
#undef X
};

const struct sim_mech sim_ckpt_mech = {
    .name = "checkpoint",
    .summary = "save VM memory to a file while the VM runs, and restore it "
               "(buffered: US9053064/US9053065)",
    .sections = sections,
    .cfg_size = sizeof(struct sim_ckpt_cfg),
    .cfg_init = cfg_init,
    .policy_sets = policy_sets,
    .variant_set = variant_set,
    .finish = finish,
    .check = check,
    /* the disk's injected errors and slow windows (sim_ckpt.c adds them) */
    .fault_kinds = SIM_FAULT_DISK_KINDS,
    .metrics = metrics,
    .nr_metrics = SIM_CKPT_M_NR,
    .invariants = invariants,
    .nr_invariants = SIM_CKPT_INV_NR,
    .run = sim_ckpt_run,
    /* a 1 TiB save keeps 1.6 M disk activities (350 MiB of SimGrid's heap):
     * on huge pages 8,000 page faults instead of 224,000 */
    .huge_heap = true,
};
