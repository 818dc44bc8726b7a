/*
 * sim_vcpu.c - the vCPU replay actor (see sim_vcpu.h).
 *
 * Cost model: each raw access costs access_ns of guest compute; a trace
 * record of `count` accesses costs count x access_ns and checks its page
 * once.  Compute accumulates in pending_ns and becomes one SimGrid sleep
 * per quantum, or just before an exit so the exit happens at the right
 * simulated time.  Scheduling points (stun, quit) come after each sleep.
 *
 * Counts are 64-bit (a pagetrace count may be up to 10^19 - 1), so the
 * time and access sums saturate at UINT64_MAX instead of wrapping.
 *
 * Built with SIM_VCPU_TEST_IGNORE_STUN (tests/e2e.mk's
 * tests/vmsim-test-ignore-stun only, never vmsim itself), a scheduling
 * point acknowledges a stun without stopping: the mutation that shows the
 * stunned-access invariant can fail.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <simgrid/actor.h>
#include <simgrid/host.h>
#include <xbt/log.h>

#include "base/vm_prefetch.h"
#include "base/vm_units.h"
#include "sim_vcpu.h"

XBT_LOG_NEW_DEFAULT_SUBCATEGORY(vmsim_vcpu, vmsim, "vCPU replay");

/* Records ahead whose guest memory line a synthetic replay prefetches. */
#define VCPU_PREFETCH 8

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

static bool responsive(const struct sim_vcpu *v, uint64_t useful_ns)
{
    return (double)useful_ns >= v->win_need_ns - 0.5;
}

/* Close the windows before idx: the one being filled, then the empty
 * ones up to idx (responsive only when a window needs no compute). */
static void close_windows(struct sim_vcpu *v, uint64_t idx)
{
    if (responsive(v, v->win_cur_useful_ns))
        v->win_first = v->win_cur;
    else if (idx > v->win_cur + 1 && responsive(v, 0))
        v->win_first = v->win_cur + 1;
    v->win_cur = idx;
    v->win_cur_useful_ns = 0;
}

/* Credit [start_ns, start_ns + len_ns) of useful compute.  Compute is
 * credited in time order (the vCPU credits what it is about to sleep), so
 * a window is final once compute lands in a later one. */
static void credit_windows(struct sim_vcpu *v, uint64_t start_ns, uint64_t len_ns)
{
    if (!v->win_ns || len_ns == 0 || v->win_first != UINT64_MAX)
        return;
    uint64_t t = start_ns, end = sat_add(start_ns, len_ns);
    if (end <= v->win_origin_ns)
        return;
    if (t < v->win_origin_ns)
        t = v->win_origin_ns;
    while (t < end) {
        /* the rest of t's window, without forming its (maybe unrepresentable) end */
        uint64_t idx = (t - v->win_origin_ns) / v->win_ns;
        uint64_t room = v->win_ns - (t - v->win_origin_ns) % v->win_ns;
        uint64_t chunk = end - t < room ? end - t : room;
        assert(idx >= v->win_cur && "compute credited out of time order");
        if (idx != v->win_cur) {
            close_windows(v, idx);
            if (v->win_first != UINT64_MAX)
                return;
        }
        v->win_cur_useful_ns += chunk;
        t += chunk;
    }
}

/* Scheduling point: honour stun and quit requests.  true = keep running. */
static bool sched_point(struct sim_vcpu *v)
{
#ifdef SIM_VCPU_TEST_IGNORE_STUN
    /* the test build's deliberate bug: acknowledge the stun, let the
     * driver see it, then run on with its own flag saying "running" (a
     * check that trusted the vCPU's flag would see nothing) */
    if (v->stun_req && !v->quit) {
        v->stunned = true;
        sim_waitq_wake_all(v->ctl_wq);
        sg_actor_yield();
        v->stunned = false;
        return !v->quit;
    }
#endif
    while (v->stun_req && !v->quit) {
        v->stunned = true;
        sim_waitq_wake_all(v->ctl_wq);
        sim_waitq_wait(v->ctl_wq);
    }
    v->stunned = false;
    return !v->quit;
}

/* The throttle's sleep for `compute` ns of guest compute. */
static uint64_t throttle_of(const struct sim_vcpu *v, uint64_t compute)
{
    if (!v->throttle_pct)
        return 0;
    double t = (double)compute * v->throttle_pct / (100.0 - v->throttle_pct);
    return t >= 1.8e19 ? UINT64_MAX : (uint64_t)t;
}

/* Sleep the compute and exit handling replayed since the last sleep;
 * only the compute counts as useful in the responsiveness windows.
 * Compute longer than SIM_VCPU_MAX_SLICE_NS (one record of millions of
 * accesses) is slept in slices with a scheduling point between them, so
 * a stun or a stop takes effect within a slice, not after the record. */
static void flush_compute(struct sim_vcpu *v)
{
    uint64_t total = sat_add(v->pending_ns, v->pending_stall_ns);
    if (!total)
        return;
    if (v->pending_ns <= SIM_VCPU_MAX_SLICE_NS) {
        credit_windows(v, sim_now_ns(), v->pending_ns);
        v->compute_ns = sat_add(v->compute_ns, v->pending_ns);
        uint64_t thr = throttle_of(v, v->pending_ns);
        v->throttle_ns = sat_add(v->throttle_ns, thr);
        sim_sleep_ns(sat_add(total, thr));
        v->pending_ns = 0;
        v->pending_stall_ns = 0;
        return;
    }
    uint64_t stall = v->pending_stall_ns;
    v->pending_stall_ns = 0;
    while (v->pending_ns) {
        uint64_t slice = v->pending_ns < SIM_VCPU_MAX_SLICE_NS ? v->pending_ns
                                                                 : SIM_VCPU_MAX_SLICE_NS;
        credit_windows(v, sim_now_ns(), slice);
        v->compute_ns = sat_add(v->compute_ns, slice);
        v->pending_ns -= slice;
        uint64_t thr = throttle_of(v, slice);
        v->throttle_ns = sat_add(v->throttle_ns, thr);
        sim_sleep_ns(sat_add(sat_add(slice, stall), thr));
        stall = 0;
        if (v->pending_ns && (v->stun_req || v->quit) && !sched_point(v))
            v->pending_ns = 0;          /* stopped: the rest is never run */
    }
}

static bool refill(struct sim_vcpu *v)
{
    v->buf_pos = 0;
    v->pf.next = 0;
    if (v->gen) {
        v->buf_len = sim_gen_next(v->gen, v->buf, SIM_VCPU_BATCH, &v->recs);
        return v->buf_len > 0;
    }
    uint64_t n = sim_trace_nr_records(v->trace);
    uint64_t start = v->trace_start < n ? v->trace_start : 0;
    if (v->trace_wrapped && v->trace_pos >= start) {
        /* back where it began: one whole pass done */
        if (!v->loop || n == 0)
            return false;
        v->trace_wrapped = false;
    }
    if (v->trace_pos >= n) {
        if (n == 0 || (!v->loop && start == 0))
            return false;
        v->trace_pos = 0;
        v->trace_wrapped = start > 0;
        if (v->trace_wrapped && v->trace_pos >= start)
            return false;
    }
    uint64_t end = v->trace_wrapped ? start : n;
    uint64_t take = end - v->trace_pos;
    if (take > SIM_VCPU_BATCH)
        take = SIM_VCPU_BATCH;
    v->recs = sim_trace_records(v->trace) + v->trace_pos;     /* read in place */
    v->trace_pos += take;
    v->buf_len = take;
    return true;
}

/*
 * Take an exit on gpa; returns 0 to proceed, <0 to stop.  The hook's cost
 * joins the pending stall.  Before waiting for an I/O completion the
 * vCPU sleeps what it owes (so the wait starts at the right time) and asks
 * the hook again: a completion during that sleep would wake nobody.
 */
static int take_exit(struct sim_vcpu *v, uint64_t gpa, bool is_write, int kind)
{
    uint64_t cost = 0, waited_ns = 0;
    int rc;
    for (;;) {
        uint64_t before = cost, ticket = sim_waitq_ticket(v->io_wq);
        rc = v->on_fault ? v->on_fault(v->fault_arg, gpa, is_write, kind, &cost) : VM_ENOTSUP;
        v->pending_stall_ns = sat_add(v->pending_stall_ns, cost - before);
        if (rc != VM_EAGAIN)
            break;
        if (v->quit) {              /* the run is over; do not wait forever */
            rc = VM_EBUSY;
            break;
        }
        if (v->pending_ns || v->pending_stall_ns) {
            flush_compute(v);
            continue;
        }
        uint64_t t = sim_now_ns();
        sim_waitq_wait_ticket(v->io_wq, ticket);
        waited_ns += sim_now_ns() - t;
    }
    uint64_t lat = cost + waited_ns;
    v->exits++;
    v->stall_ns += lat;
    vm_hist_add(&v->exit_lat_ns, lat);
    return rc;
}

/*
 * Translate page with table reads on (sim_mem.h): the walk reads each
 * table frame as the MMU does, top first.  One that is absent or traced
 * is an exit on that frame (fault_walk set: the EPT violation of a
 * paging-structure access); after it the walk starts again from the
 * root, as the faulting instruction is executed again, except that a
 * frame at a level whose exit the hook let through is read whatever its
 * bits (the hook answered 0: a buggy handler's frame is read as it is,
 * and the content check sees it, as for a data page).  Then the
 * translation itself (sim_mem_translate_fill).  0 or <0.
 */
static int walk_tables(struct sim_vcpu *v, uint64_t page, bool is_write, uint64_t *gpa)
{
    uint64_t let[GUEST_MAX_LEVELS];
    for (unsigned l = 0; l < GUEST_MAX_LEVELS; l++)
        let[l] = UINT64_MAX;
    for (;;) {
        uint64_t tf[GUEST_MAX_LEVELS];
        unsigned n = sim_mem_walk_tables(v->mem, v->asid, page, tf), i = 0;
        int kind = SIM_MEM_OK;
        for (; i < n; i++) {
            kind = sim_mem_check(v->mem, tf[i], false);
            if (kind != SIM_MEM_OK && tf[i] != let[i])
                break;
            sim_mem_apply(v->mem, tf[i], false);
        }
        if (i == n)
            return sim_mem_translate_fill(v->mem, v->asid, page, is_write, gpa);
        v->fault_walk = true;
        int rc = take_exit(v, tf[i], false, kind);
        v->fault_walk = false;
        if (rc < 0)
            return rc;
        let[i] = tf[i];
    }
}

static void vcpu_main(int argc, char **argv)
{
    struct sim_vcpu *v = sg_actor_self_get_data();
    bool synthetic = v->gen != NULL;
    uint64_t nr_pages = v->mem->nr_pages;

    while (sched_point(v)) {
        if (v->buf_pos >= v->buf_len && !refill(v))
            break;
        while (v->buf_pos < v->buf_len) {
            const struct sim_access *a = &v->recs[v->buf_pos++];
            uint64_t gpa, page = sim_access_page(a);
            if (synthetic) {
                /* a generator's pages are below nr_pages already: no
                 * division on the hot path */
                gpa = page < nr_pages ? page : page % nr_pages;
                /* the page's line is a cache miss on a large guest: ask
                 * for the line of an access a few records ahead */
                if (v->buf_pos + VCPU_PREFETCH < v->buf_len) {
                    uint64_t ahead = sim_access_page(&v->recs[v->buf_pos + VCPU_PREFETCH]);
                    if (ahead < nr_pages)
                        vm_prefetch(&v->mem->lines[ahead >> 6]);
                }
                /* and, for a write nearer by (its line is in by now), the
                 * contents of that line's own pages, which the write updates */
                if (v->buf_pos + VCPU_PREFETCH / 2 < v->buf_len) {
                    const struct sim_access *w = &v->recs[v->buf_pos + VCPU_PREFETCH / 2];
                    uint64_t near = sim_access_page(w);
                    if (near < nr_pages && sim_access_op(w) == SIM_OP_WRITE)
                        vm_prefetch_w(v->mem->lines[near >> 6].fps);
                }
            } else {
                /* the walks and lines of the records ahead, a group at a
                 * time (no state changes: a speed-up only) */
                sim_mem_prefetch_replay(v->mem, v->asid, v->recs, v->buf_len, v->buf_pos - 1,
                                        &v->pf);
                v->fault_gva_page = page;
            }
            bool is_write = sim_access_op(a) == SIM_OP_WRITE;
            int rc;
        translate:
            /* (with table reads on, a miss answers SIM_MEM_XLAT_WALK: no
             * kept table serves it) */
            if (!synthetic &&
                (rc = sim_mem_translate_replay(v->mem, v->asid, page, is_write, &gpa, &v->pf,
                                               v->buf_pos - 1)) != 0) {
                /* a TLB miss with table reads on: the walk reads the tables */
                bool walked = rc == SIM_MEM_XLAT_WALK;
                if (walked)
                    rc = walk_tables(v, page, is_write, &gpa);
                if (rc < 0) {
                    if (!walked || !v->quit)     /* a walk's exit ends with the run */
                        v->error = rc;
                    goto out;
                }
            }
            int kind = sim_mem_check(v->mem, gpa, is_write);
            if (kind != SIM_MEM_OK) {
                rc = take_exit(v, gpa, is_write, kind);
                if (rc < 0) {
                    if (!v->quit)
                        v->error = rc;
                    goto out;
                }
                /* the faulting instruction runs again: its translation
                 * was flushed while it waited (an eviction's INVEPT), so
                 * it walks again (table reads only: otherwise the TLB
                 * changes no result) */
                if (!synthetic && v->mem->table_reads &&
                    !sim_mem_tlb_holds(v->mem, v->asid, page))
                    goto translate;
                /* the hook may have let the access through without
                 * clearing the exit (a buggy policy): apply it anyway,
                 * the invariant checker is what catches that */
            }
            if (v->driver_stopped)
                v->stunned_accesses++;
            sim_mem_apply(v->mem, gpa, is_write);
            v->records++;
            v->raw_accesses = sat_add(v->raw_accesses, a->count);
            v->pending_ns = sat_add(v->pending_ns, sim_access_cost_ns(a->count, v->access_ns));
            if (sat_add(v->pending_ns, v->pending_stall_ns) >= v->quantum_ns) {
                flush_compute(v);
                if (v->stun_req || v->quit)
                    break;
            }
        }
    }
out:
    flush_compute(v);
    v->exited = true;
    sim_waitq_wake_all(v->ctl_wq);
    XBT_DEBUG("vcpu exits: %llu records, error %d", (unsigned long long)v->records, v->error);
}

void sim_vcpu_start(struct sim_vcpu *v, sg_host_t host)
{
    if (!v->quantum_ns)
        v->quantum_ns = 100 * VM_NS_PER_US;
    vm_hist_init(&v->exit_lat_ns);
    v->buf_len = v->buf_pos = 0;
    v->trace_pos = v->trace && v->trace_start < sim_trace_nr_records(v->trace) ? v->trace_start
                                                                               : 0;
    v->trace_wrapped = false;
    char name[24];
    snprintf(name, sizeof name, "vcpu%u", v->index);
    sg_actor_t a = sg_actor_init(name, host);
    sg_actor_set_data(a, v);
    sg_actor_ref(a);              /* joined by sim_vcpu_stop, even once it ended */
    v->actor = a;
    sg_actor_start(a, vcpu_main, 0, NULL);
}

void sim_vcpu_stun_request(struct sim_vcpu *v)
{
    v->stun_req = true;
}

void sim_vcpu_stun_wait(struct sim_vcpu *v)
{
    while (!v->stunned && !v->exited)
        sim_waitq_wait(v->ctl_wq);
    v->driver_stopped = true;
}

void sim_vcpu_stun(struct sim_vcpu *v)
{
    sim_vcpu_stun_request(v);
    sim_vcpu_stun_wait(v);
}

void sim_vcpu_resume(struct sim_vcpu *v)
{
    v->driver_stopped = false;
    v->stun_req = false;
    sim_waitq_wake_all(v->ctl_wq);
}

void sim_vcpu_stop(struct sim_vcpu *v)
{
    v->quit = true;
    sim_waitq_wake_all(v->ctl_wq);
    sim_waitq_wake_all(v->io_wq);
    while (!v->exited)
        sim_waitq_wait(v->ctl_wq);
    /* `exited` is set just before the actor's last wake of ctl_wq, a
     * simcall that may still be pending when this actor runs on: join, or
     * a caller that frees ctl_wq now has SimGrid signal a freed condition
     * variable (a restore that fails before the guest ever ran did) */
    if (v->actor) {
        sg_actor_join(v->actor, -1);
        sg_actor_unref(v->actor);
        v->actor = NULL;
    }
}

void sim_vcpu_set_throttle(struct sim_vcpu *v, uint32_t pct)
{
    v->throttle_pct = pct > 99 ? 99 : pct;
}

void sim_vcpu_track_windows(struct sim_vcpu *v, uint64_t origin_ns, uint64_t win_ns,
                            double need_ns)
{
    v->win_origin_ns = origin_ns;
    v->win_ns = win_ns;
    v->win_need_ns = need_ns;
    v->win_cur = 0;
    v->win_cur_useful_ns = 0;
    v->win_first = UINT64_MAX;
}

bool sim_vcpu_responsive(const struct sim_vcpu *v, uint64_t *end_ns)
{
    if (!v->win_ns)
        return false;           /* not tracking */
    uint64_t w = v->win_first;
    if (w == UINT64_MAX && responsive(v, v->win_cur_useful_ns))
        w = v->win_cur;
    if (w == UINT64_MAX)
        return false;
    *end_ns = __builtin_mul_overflow(w + 1, v->win_ns, end_ns) ? UINT64_MAX : *end_ns;
    return true;
}

void sim_vcpu_free(struct sim_vcpu *v)
{
    if (!v)
        return;
    if (v->actor)
        sg_actor_unref(v->actor);
    free(v);
}
