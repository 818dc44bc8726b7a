/*
 * sim_cfg_vm.h - config sections the core offers every mechanism that
 * runs a guest: "vm" (struct sim_exp_vm) and the memory "workload"
 * (struct sim_exp_workload).  A mechanism puts the rows in its sections
 * table at the offset of the struct in its own config struct:
 *
 *   static const struct sim_key my_sections[] = {
 *       SIM_CFG_VM_ROW(offsetof(struct my_cfg, vm)),
 *       SIM_CFG_WORKLOAD_ROW(offsetof(struct my_cfg, workload)),
 *       ...
 *   };
 *
 * and calls sim_cfg_workload_finish() from its finish hook and
 * sim_cfg_workload_check() from its check hook.
 *
 *   vm        { memory: size 1MiB..8TiB, multiple of 4KiB, required,
 *               vcpus: 1..64 default 1 (each replays its own stream: a
 *                      synthetic generator seeded per vCPU, or its trace),
 *               content: { zero, text, code, random: numbers >= 0 summing to 1 }
 *                        default {0.25, 0.25, 0.10, 0.40},
 *               aging: 0..1 default 0 (guest page cache at the start, guest_buddy.h),
 *               paging_levels: 4 or 5 default 4 (LA57) }
 *   workload  { name: string (default = pattern or trace file stem),
 *               kind: "synthetic" | "trace"   required,
 *               synthetic: pattern: uniform|zipf|sequential|strided (required),
 *                          footprint: size (default = vm.memory; clamped to it),
 *                          zipf_s: number (0,5] default 0.99,
 *                          stride: integer pages >= 1 default 16,
 *                          write_fraction: 0..1 default 0.2,
 *                          access_time: time per page touch 1ns..1s, default "100ns"
 *               trace:     file: path, or [paths] one per vCPU (required; one
 *                                path for several vCPUs: each replays it as
 *                                its own process), format: auto|pagetrace|lackey,
 *                          access_time: time per raw access 1ns..1s, default "2ns",
 *                          loop: bool default true }
 */
#ifndef SIM_CFG_VM_H
#define SIM_CFG_VM_H

#include "sim_cfg.h"
#include "sim_exp.h"

extern const struct sim_key sim_cfg_vm_keys[];         /* rows of struct sim_exp_vm */
extern const struct sim_key sim_cfg_synthetic_keys[];  /* rows of a synthetic workload */
extern const struct sim_key sim_cfg_trace_keys[];      /* rows of a trace workload */
/* Both, in the order of the workload's "kind" choices (synthetic|trace). */
extern const struct sim_key *const sim_cfg_workload_kinds[];

int sim_cfg_set_vm(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj);
int sim_cfg_set_workload(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                         void *obj);

#define SIM_CFG_VM_ROW(off)                                                              \
    SIM_KEY_OBJ_ROW("vm", SIM_KEY_REQ | SIM_KEY_DEFAULTS, sim_cfg_set_vm, off,          \
                    sim_cfg_vm_keys, NULL, "the guest: memory size, content, aging, paging levels")
#define SIM_CFG_WORKLOAD_ROW(off)                                                        \
    SIM_KEY_OBJ_ROW("workload", SIM_KEY_REQ, sim_cfg_set_workload, off,                  \
                    sim_cfg_synthetic_keys, sim_cfg_workload_kinds,                      \
                    "what the guest runs: a synthetic access pattern or a memory trace")

/* Derived fields of a point's workload (its default name, the footprint
 * clamped to the VM) and its cross-field checks, reported under `at`, the
 * workload's JSON path ("$.workload"). */
int sim_cfg_workload_finish(struct sim_cfg_walk *w, const char *at, const struct sim_exp_vm *vm,
                            struct sim_exp_workload *wl);

/* Deep check of a trace workload: the whole trace reads (nothing is
 * written: the run points build its binary cache), it touches no more
 * distinct pages than the VM has (each guest-virtual page it touches
 * needs a guest frame), and no page beyond the guest page table's reach.
 * Reported at `at`.file. */
int sim_cfg_workload_check(struct sim_cfg_walk *w, const char *at, const struct sim_exp_vm *vm,
                           const struct sim_exp_workload *wl);

/* Trace i (0..nr_files-1) of a trace workload; the one file for any i
 * when it has one. */
const char *sim_exp_workload_file(const struct sim_exp_workload *wl, uint32_t i);

#endif
