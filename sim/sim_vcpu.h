/*
 * sim_vcpu.h - a virtual CPU that replays a workload against the guest
 * memory model.
 *
 * The vCPU actor pulls batches of accesses from its source (a synthetic
 * generator or an mmap'ed trace), translates trace pages GVA -> GPA, and
 * for each access checks the page's bits in plain C (sim_mem_check).  It
 * advances simulated time only by the compute cost of what it replayed,
 * in quanta (one SimGrid sleep per quantum, not per access), and blocks
 * only on an exit: a traced or absent page calls the mechanism's hook,
 * which may answer "wait for I/O and retry".  An exit that needs no wait
 * costs no activity either: its handling time joins the quantum's sleep
 * (accounted as stall), so the vCPU may run ahead of the clock by up to a
 * quantum, as with any quantum-based CPU model.  The driver can stun it
 * (it stops at the next quantum boundary) and resume it.
 *
 * Stunned accesses: sim_vcpu_stun() returns once the vCPU says it has
 * stopped and then marks the VM held (driver_stopped) until
 * sim_vcpu_resume(); both run in the driver's actor, so the mark is the
 * driver's view, not the vCPU's.  Every access the vCPU applies while it
 * is set counts in stunned_accesses (an invariant: it must stay 0).  Only
 * a vCPU that does not honour a stun can make it non-zero: the test build
 * tests/vmsim-test-ignore-stun (SIM_VCPU_TEST_IGNORE_STUN) is such a vCPU.
 *
 * Page walks: with the memory's table reads on (sim_mem.h), a software-TLB
 * miss reads the walk's table frames, top first, each checked like a page:
 * an absent or traced one is an exit on that frame with fault_walk set,
 * after which the walk starts again; an access whose translation was
 * flushed while its exit waited translates again.
 *
 * Not modelled: the guest's own scheduling, the time of TLB misses and
 * walks, cache effects; a fault costs what the mechanism charges plus the
 * waiting.
 */
#ifndef SIM_VCPU_H
#define SIM_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "base/vm_hist.h"
#include "base/vm_units.h"
#include "sim_access.h"
#include "sim_mem.h"
#include "sim_trace.h"
#include "sim_workload.h"
#include "sim_world.h"

#define SIM_VCPU_BATCH 4096
/* Longest compute slept at once: a stun waits at most this long for a
 * vCPU inside one huge trace record (counts go up to 10^19). */
#define SIM_VCPU_MAX_SLICE_NS (10 * VM_NS_PER_MS)

/* Called in the vCPU actor on an exit (kind: SIM_MEM_FAULT_TRACE or
 * SIM_MEM_FAULT_ABSENT).  Return 0 when the access may proceed, VM_EAGAIN
 * to wait for an I/O completion and be called again, <0 to stop the vCPU.
 * The handling cost goes in *cost_ns: the vCPU accounts it as stall at its
 * next scheduling point instead of sleeping now (the hook may still sleep,
 * e.g. before answering VM_EAGAIN). */
typedef int (*sim_vcpu_fault_fn)(void *arg, uint64_t gpa, bool is_write, int kind,
                                 uint64_t *cost_ns);

struct sim_vcpu {
    /* set up by the owner */
    struct sim_mem *mem;
    struct sim_gen *gen;               /* synthetic source, or */
    struct sim_trace *trace;           /* trace source (GVA pages) */
    uint32_t asid;                     /* the trace's address space (sim_mem) */
    uint64_t trace_start;              /* first record replayed: the trace runs from
                                          here to its end, then from 0 up to here */
    bool loop;                         /* replay the trace again and again */
    uint32_t index;                    /* vCPU number: names the actor */
    uint64_t access_ns;                /* compute per raw access */
    uint64_t quantum_ns;               /* time between scheduling points */
    sim_vcpu_fault_fn on_fault;
    void *fault_arg;
    struct sim_waitq *io_wq;           /* woken on every I/O completion */
    /* control (driver <-> vCPU) */
    bool stun_req, stunned, quit, exited;
    bool driver_stopped;               /* written only by sim_vcpu_stun/resume */
    struct sim_waitq *ctl_wq;          /* both directions */
    int error;                         /* hook or translation error that stopped it */
    uint64_t fault_gva_page;           /* trace source: the GVA page of the access being
                                          checked (a hook reads it as the faulting GVA) */
    bool fault_walk;                   /* the exit is the walk's read of a table frame of
                                          fault_gva_page's translation (table reads on,
                                          sim_mem.h), not an access to the page itself */
    /* counters */
    uint64_t records, raw_accesses;
    uint64_t exits;
    uint64_t stall_ns;                 /* time spent in exits */
    uint64_t compute_ns;               /* guest compute time replayed */
    uint32_t throttle_pct;             /* 0..99: sleep throttle/(100-throttle) of compute */
    uint64_t throttle_ns;              /* time lost to the throttle */
    uint64_t stunned_accesses;         /* applied while driver_stopped: must stay 0 */
    struct vm_hist exit_lat_ns;
    /* time to responsiveness: windows of win_ns from win_origin_ns on,
     * looked at one at a time as compute is credited (so a run of any
     * length at any resolution costs these few fields, not an array) */
    uint64_t win_origin_ns, win_ns;
    double win_need_ns;                /* useful compute a responsive window holds */
    uint64_t win_cur;                  /* window being filled */
    uint64_t win_cur_useful_ns;        /* its useful compute so far */
    uint64_t win_first;                /* first responsive window; UINT64_MAX: none yet */
    /* private */
    sg_actor_t actor;                  /* referenced until sim_vcpu_stop joins it */
    struct sim_access buf[SIM_VCPU_BATCH]; /* the generator's scratch */
    const struct sim_access *recs;     /* the records being replayed: buf, the
                                        * generator's ring, or the trace's own */
    uint64_t buf_len, buf_pos, trace_pos;
    struct sim_mem_pf pf;              /* sim_mem_prefetch_replay()'s state */
    bool trace_wrapped;                /* past the end, replaying 0..trace_start */
    uint64_t pending_ns;               /* compute not yet slept */
    uint64_t pending_stall_ns;         /* exit handling not yet slept */
};

/* How far the vCPU has run ahead of the simulated clock: compute and exit
 * handling it has replayed but not slept yet (it sleeps them at its next
 * scheduling point).  Its own clock, at a hook, is sim_now + this. */
static inline uint64_t sim_vcpu_ahead_ns(const struct sim_vcpu *v)
{
    uint64_t t = v->pending_ns + v->pending_stall_ns;
    return t < v->pending_ns ? UINT64_MAX : t;
}

/* Start the vCPU actor on host; v must outlive the simulation. */
void sim_vcpu_start(struct sim_vcpu *v, sg_host_t host);
/* Driver side: stop the vCPU at its next scheduling point and wait until
 * it has (returns at once if it has exited); the VM is held stopped
 * (driver_stopped) until sim_vcpu_resume().  sim_vcpu_stun() is
 * stun_request() then stun_wait(): several vCPUs are asked first, then
 * waited for, so they stop together. */
void sim_vcpu_stun(struct sim_vcpu *v);
void sim_vcpu_stun_request(struct sim_vcpu *v);
void sim_vcpu_stun_wait(struct sim_vcpu *v);
void sim_vcpu_resume(struct sim_vcpu *v);
/* Ask it to end at its next scheduling point and wait until its actor
 * has ended (its last wake-up handled: its wait queues may then be
 * freed).  Safe to call again, or after it exited on its own. */
void sim_vcpu_stop(struct sim_vcpu *v);
/* Throttle the vCPU to pct (0..99) percent, as QEMU's cpu-throttle does:
 * for every unit of compute it then sleeps pct/(100-pct) units (counted
 * in throttle_ns).  Takes effect at its next sleep. */
void sim_vcpu_set_throttle(struct sim_vcpu *v, uint32_t pct);
/* Look for the first window of win_ns (> 0) from origin_ns on whose
 * useful compute (guest compute, not exit handling) reaches need_ns
 * (within half a nanosecond); forgets any earlier tracking. */
void sim_vcpu_track_windows(struct sim_vcpu *v, uint64_t origin_ns, uint64_t win_ns,
                            double need_ns);
/* The end of that window, relative to origin_ns, in *end_ns: true once a
 * window qualified, counting the window being filled as it stands (the
 * run's last one); false when none did. */
bool sim_vcpu_responsive(const struct sim_vcpu *v, uint64_t *end_ns);
void sim_vcpu_free(struct sim_vcpu *v);

#endif
