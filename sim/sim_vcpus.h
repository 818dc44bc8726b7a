/*
 * sim_vcpus.h - a guest's vCPUs (vm.vcpus) as one: each replays its own
 * access stream, they stop together on a stun, and their counters add up.
 *
 * Streams: a synthetic workload gives every vCPU its own generator over
 * the same footprint (threads of one guest sharing memory), seeded from
 * the run's seed and the vCPU number (vCPU 0 gets the run's seed, so one
 * vCPU replays exactly what a single-vCPU guest did).  A trace workload
 * gives vCPU i trace i, each in its own address space (its own guest
 * process and page table; frames come from the one guest allocator); with
 * one trace for several vCPUs, each replays all of it as its own process,
 * vCPU i starting at record i x records / vcpus and wrapping around, so
 * the copies are not in lockstep.
 *
 * Faults: each vCPU calls its own on_fault/fault_arg (the owner sets them
 * on v[i]), in its own actor, so exits of different vCPUs overlap in
 * simulated time; a hook that touches shared state must serialise itself.
 *
 * Ownership: sim_vcpus_new() creates the vCPUs, their control wait queues
 * and their sources; sim_vcpus_free() releases all of it (after
 * sim_vcpus_stop()).  The mem and io_wq passed in stay the caller's.
 */
#ifndef SIM_VCPUS_H
#define SIM_VCPUS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/vm_hist.h"
#include "sim_exp.h"
#include "sim_vcpu.h"

struct sim_vcpus {
    uint32_t n;
    struct sim_vcpu **v;               /* n vCPUs */
    struct sim_trace **traces;         /* the open traces (shared when one file) */
    uint32_t nr_traces;
};

/* Sum of the vCPUs' counters (sim_vcpu.h), in vCPU-nanoseconds and
 * accesses. */
struct sim_vcpus_totals {
    uint64_t stall_ns, throttle_ns, compute_ns, raw_accesses, stunned_accesses, exits;
};

/* vm->vcpus vCPUs (0 counts as 1) replaying wl over mem; io_wq is woken on
 * every I/O completion (the vCPUs wait on it in exits).  VM_ENOMEM, or a
 * source's error (sim_gen_new, sim_trace_open) in d. */
int sim_vcpus_new(struct sim_vcpus *s, const struct sim_exp_vm *vm,
                  const struct sim_exp_workload *wl, struct sim_mem *mem, uint64_t seed,
                  struct sim_waitq *io_wq, struct vm_diag *d);
void sim_vcpus_start(struct sim_vcpus *s, sg_host_t host);
/* Ask every vCPU to stop, then wait for each: the guest is stunned. */
void sim_vcpus_stun(struct sim_vcpus *s);
void sim_vcpus_resume(struct sim_vcpus *s);
/* End every vCPU and join its actor (sim_vcpu_stop). */
void sim_vcpus_stop(struct sim_vcpus *s);
void sim_vcpus_set_throttle(struct sim_vcpus *s, uint32_t pct);
void sim_vcpus_totals(const struct sim_vcpus *s, struct sim_vcpus_totals *t);
/* Forget every vCPU's exit latencies, keeping them in *kept (merged). */
void sim_vcpus_take_exit_hist(struct sim_vcpus *s, struct vm_hist *kept);
/* All vCPUs' exit latencies since the last take, merged into *h. */
void sim_vcpus_exit_hist(const struct sim_vcpus *s, struct vm_hist *h);
/* Give every vCPU back the latencies kept by take (merged into vCPU 0). */
void sim_vcpus_restore_exit_hist(struct sim_vcpus *s, const struct vm_hist *kept);
/* Time to responsiveness of the guest: every vCPU tracks its windows
 * (sim_vcpu_track_windows); the guest is responsive when all are, at the
 * latest vCPU's window end.  false while one is not. */
void sim_vcpus_track_windows(struct sim_vcpus *s, uint64_t origin_ns, uint64_t win_ns,
                             double need_ns);
bool sim_vcpus_responsive(const struct sim_vcpus *s, uint64_t *end_ns);
/* The first error a vCPU stopped on, or 0. */
int sim_vcpus_error(const struct sim_vcpus *s);
void sim_vcpus_free(struct sim_vcpus *s);

#endif
