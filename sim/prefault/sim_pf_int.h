/*
 * sim_pf_int.h - what the prefault driver's files share (sim_pf.c: the
 * world, the recording pass and the run; sim_pf_fault.c: the fault path
 * and the fetches).  Private to sim/prefault/.
 */
#ifndef SIM_PF_INT_H
#define SIM_PF_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <simgrid/forward.h>

#include "base/vm_hist.h"
#include "ports/port_backing.h"
#include "ports/port_blk.h"
#include "prefault/prefault.h"
#include "prefault/sim_pf.h"
#include "sim_mech.h"
#include "sim_mem.h"
#include "sim_vcpus.h"

#define PF_NO_SLOT UINT32_MAX

/* Where the absent pages' contents are (port_backing for the policies):
 * slot s holds frame frame_of[s]; a frame's slot is slot_of[f]
 * (PF_NO_SLOT: a zero page, or resident with no copy kept). */
struct pf_store {
    struct port_backing base;          /* first: a pf_store is a port_backing */
    struct pf_run *r;
    uint64_t nr_frames, nr_slots;
    uint32_t *slot_of;                 /* nr_frames */
    uint32_t *frame_of;                /* nr_slots (UINT32_MAX: free) */
    uint64_t lba0;                     /* device block of slot 0 */
};

/* A vCPU's fault state: its hook's argument. */
struct pf_exit {
    struct pf_run *r;
    struct sim_vcpu *v;
    bool in_fault;                     /* inside one fault (retries follow) */
    bool started;                      /* its fetch was started (or found on its way) */
    bool major;                        /* the current fault fetched its page */
    uint64_t start_ns;                 /* its start on the vCPU's clock */
    uint64_t *wait;                    /* frames of a bulk answer it waits for */
    uint32_t nwait, wcur, wait_cap;    /* wait[wcur..nwait) not checked present yet */
    uint32_t writes_pending;           /* swap: write-backs of the frames it took */
    /* I/O the fault prepared, submitted once its CPU work is done on the
     * vCPU's clock (pf_defer) */
    struct pf_deferred {
        int (*submit)(struct pf_run *r, void *arg);
        void (*drop)(void *arg);        /* frees arg when it is never submitted */
        void *arg;
    } *deferred;
    uint32_t nr_deferred, deferred_cap;
};

struct hostmem;
struct hostmem_admission;
struct sim_transport;
struct port_transport;

struct pf_run {
    const struct sim_exp *exp;
    sg_host_t host;
    const struct sim_pf_cfg *cfg;
    struct sim_outcome *out;
    struct sim_mem *mem;
    struct sim_disk *disk;
    struct sim_vcpus vcpus;
    struct pf_exit *exits;
    struct sim_waitq *io_wq;
    const struct prefault_policy *pol;
    struct prefault_state *ps;
    struct pf_store st;                /* resume and post-copy: where pages are */
    struct hostmem *hm;                /* swap: host memory (models/hostmem) */
    struct hostmem_admission *adm;     /* swap: the last admission (40 KiB) */
    uint64_t host_pages;               /* swap: host memory for the guest */
    /* swap with reclaim kswapd (sim_pf_swap.c) */
    sg_actor_t ks_actor;               /* NULL under memcg */
    struct sim_waitq *ks_wq;           /* kswapd sleeps here: woken by a fault
                                          that took memory to low, its writes' ends */
    struct hostmem_admission *ks_adm;  /* its batch */
    bool ks_awake, ks_stop;
    uint64_t wb_waits, ks_write_ios;   /* faults that waited for write-back; kswapd's I/Os */
    uint64_t direct_evictions;         /* evictions by the faults' admissions */
    uint64_t ks_evictions;             /* kswapd's, in the measured pass */
    uint64_t ks_owed;                  /* frames kswapd freed from unused prefetches,
                                          not yet taken by a fault: the audit's count */
    uint64_t copy_lba0, copy_cap, copy_next;   /* resume: the policies' compact copy */
    /* post-copy (sim_pf_postcopy.c) */
    struct sim_transport *pc_tr;
    struct port_transport *pc_port;
    uint64_t *pc_sent;                 /* bitmap: the source sent the page */
    uint64_t *pc_faulting;             /* bitmap: requested as a faulting page */
    uint64_t pc_cursor;                /* the stream's next frame */
    uint64_t pc_pages_sent, pc_push_done_ns;
    sg_actor_t pc_actors[4];
    int pc_nr_actors;
    /* post-copy under network faults (sim_pf_net.c; NULL/0 without faults) */
    struct pf_net *pc_net;
    uint64_t *pc_late;                 /* per frame: extra delay of the messages
                                          that asked for it and carried it */
    const uint64_t *pc_ctx;            /* frames of the message being sent */
    uint32_t pc_ctx_n;
    uint32_t pc_ctx_conn;              /* its connection and way, 0..3 */
    uint64_t pc_ctx_wire;              /* its wire bytes */
    bool pc_ctx_more;                  /* more stream data follows it at once (the push) */
    uint64_t pc_retrans;               /* retransmission timeouts that expired */
    uint64_t pc_probes;                /* tail loss probes sent */
    uint64_t pc_fast_retrans;          /* segments recovered by SACK/RACK, no timer */
    uint64_t pc_net_stall_ns;          /* stall attributed to the faults */
    uint64_t faultonly_ref;            /* major faults of demand paging (coverage) */
    uint64_t nr_pages;
    uint32_t max_io_pages;
    /* per frame */
    uint64_t *expect;                  /* content a page must hold when used */
    uint64_t *in_ws;                   /* bitmap: touched by the recording pass */
    uint64_t *inflight;                /* bitmap: a fetch is on its way */
    uint64_t *unused;                  /* bitmap: prefetched, not used yet */
    /* the recording */
    uint64_t *ws_order;                /* frames in first-touch order */
    uint64_t nr_ws;
    /* counters of the measured pass */
    uint64_t major, minor, prefetched, used, read_ios, read_blocks;
    uint64_t evictions, write_blocks;
    uint64_t hv_cpu_ns;                /* entry, decode, walks and installs, all faults */
    uint64_t vcpu_cpu_ns;              /* the part on the faulting vCPUs' own path */
    uint64_t faults;                   /* every fault the vCPUs took */
    uint64_t table_faults;             /* major faults on table frames (the walks') */
    uint64_t *tables;                  /* bitmap: frames holding the guest's page tables */
    struct guest_pt_reader reader;     /* table frames the hypervisor may read: present */
    struct pf_exit *defer_to;          /* the fault being started: its I/O waits */
    struct vm_hist fault_lat;
    struct prefault_stats charged;     /* policy work already turned into time */
    int io_error;                      /* first failed fetch */
    uint64_t ios_pending;              /* disk requests submitted, not completed */
};

/* One access of a replay in plain C: asid's GVA page translated to gpa
 * (level 0), or a table frame gpa of level `level` (1: the last-level
 * table) that the walk translating gva_page read; arg is the replay's
 * caller's. */
typedef int (*pf_access_fn)(struct pf_run *r, void *arg, uint32_t asid, uint64_t gva_page,
                            uint64_t gpa, unsigned level, bool is_write, struct vm_diag *d);
/* Replay every vCPU's stream once in the order its vCPU would, calling fn
 * per access with arg (sim_pf.c); on a TLB miss fn first sees the walk's
 * table frames, top first (the TLBs are flushed at the start; whoever
 * evicts flushes them, as the measured pass does).  0 or the first error
 * (translation, fn's). */
int pf_replay(struct pf_run *r, pf_access_fn fn, void *arg, struct vm_diag *d);
/* Make frame f present with content fp; a prefetched one is marked unused
 * and read-traced until its first use (sim_pf_fault.c). */
void pf_install(struct pf_run *r, uint64_t f, uint64_t fp, bool prefetched);
/* Start reads of the frames whose keys (slot << 32 | index in frames[])
 * are listed, position s at block lba0 + s of the disk (sim_pf_fault.c). */
int pf_fetch(struct pf_run *r, const uint64_t *frames, uint64_t *keys, uint32_t n,
             uint64_t faulting, uint64_t lba0);

/* Submit arg with fn now, or, while a fault is being started
 * (r->defer_to), once that fault's CPU work has passed on its vCPU's clock
 * (the handler issues its I/O after it decided what to read).  0 or fn's
 * error, or VM_ENOMEM (arg dropped with drop). */
int pf_defer(struct pf_run *r, int (*fn)(struct pf_run *r, void *arg), void (*drop)(void *arg),
             void *arg);
/* Drop what a vCPU's fault left unsubmitted (the end of a run). */
void pf_defer_drop(struct pf_exit *x);

/* Swap (sim_pf_swap.c): host memory and the warm pass that fills swap
 * (after the recording pass); the resident set installed again after
 * make_absent; one fault's admission and evictions; the end checks. */
int pf_swap_setup(struct pf_run *r, struct vm_diag *d);
void pf_swap_reinstall(struct pf_run *r);
int pf_swap_fault(struct pf_run *r, struct pf_exit *x, uint64_t gpa, uint64_t *answer,
                  uint32_t n, uint64_t *cpu_ns, bool *own_fetch);
/* A traced access to a resident page (first use of a prefetch, or a
 * write to a swap-cache page): true when it is a write that took the
 * page's slot away (a write-protect fault). */
bool pf_swap_traced(struct pf_run *r, uint64_t gpa, bool is_write);
/* Stop the kswapd actor (the end of the measured pass; nothing without
 * it); the swap metrics of reclaim kswapd; memory released. */
void pf_swap_stop(struct pf_run *r);
void pf_swap_report(struct pf_run *r);
void pf_swap_free(struct pf_run *r);

/* Post-copy (sim_pf_postcopy.c): endpoints and the source's and the
 * destination's threads; a page request for frames (each absent and not
 * requested yet; `faulting` among them or not), sent without waiting;
 * the threads stopped and joined; memory released. */
int pf_postcopy_setup(struct pf_run *r, struct vm_diag *d);
int pf_postcopy_request(struct pf_run *r, const uint64_t *frames, uint32_t n, uint64_t faulting);
void pf_postcopy_stop(struct pf_run *r);
void pf_postcopy_free(struct pf_run *r);

/* Post-copy's link under the run point's network faults (sim_pf_net.c):
 * the transport's filter (TCP's SACK/RACK, loss probe and retransmission
 * timeouts, postcopy-paused), set up
 * after pf_postcopy_setup made the transport (nothing without faults);
 * taken off before the stop messages; the metrics net_stall_ns,
 * retransmissions, loss_probes, fast_retransmits and paused_ns for a pass
 * of completion_ns; freed. */
int pf_net_setup(struct pf_run *r, struct vm_diag *d);
void pf_net_off(struct pf_run *r);
void pf_net_report(struct pf_run *r, uint64_t completion_ns);
void pf_net_free(struct pf_run *r);

/* The backing store as the policies see it (sim_pf_fault.c). */
void pf_store_init(struct pf_store *st, struct pf_run *r);
/* Every vCPU's fault hook (sim_vcpu_fault_fn) with its struct pf_exit. */
int pf_fault_hook(void *arg, uint64_t gpa, bool is_write, int kind, uint64_t *cost_ns);

#ifdef SIM_PF_TEST_MUTANT
/* Test builds only (tests/vmsim-test-pf-mutant): whether the environment
 * variable VMSIM_PF_MUTANT names this mutation of the driver. */
#include <stdlib.h>
#include <string.h>
static inline bool sim_pf_test_mutant(const char *name)
{
    const char *m = getenv("VMSIM_PF_MUTANT");
    return m && strcmp(m, name) == 0;
}
#endif

#endif
