/*
 * sim_ckpt_restore.c - the checkpoint mechanism's restore run: a save with
 * restore.from, then the run point's restore policy into fresh memory,
 * the VM runnable when the policy says so, and the restore's checks
 * (every page present or accessed holds the image's content).
 */
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_units.h"
#include "checkpoint/ckpt_file.h"
#include "checkpoint/sim_ckpt_int.h"
#include "sim_world.h"

void ckpt_run_restore(struct ckpt_run *r)
{
    const struct sim_exp *exp = r->exp;
    struct sim_outcome *o = r->out;
    struct sim_vcpus *vs = &r->vcpus;
    struct vm_diag d;
    vm_diag_clear(&d);

    const struct ckpt_policy *sp = ckpt_save_policy_find(r->cfg->from_policy);
    if (!sp) {
        ckpt_fail(r, VM_EINVAL, "unknown save policy '%s' (%s)", r->cfg->from_policy);
        return;
    }
    if (ckpt_run_save(r, sp, &r->cfg->from_save, false) < 0)
        return;

    /* the VM is now stopped and restored from the image into fresh memory */
    uint64_t n = r->mem->nr_pages;
    uint64_t *expect = malloc(n * sizeof(*expect));
    uint64_t *scratch = vm_bitmap_new(n);
    if (!expect || !scratch) {
        free(expect);
        vm_bitmap_free(scratch);
        ckpt_fail(r, VM_ENOMEM, "%s: %s", "restore");
        return;
    }
    sim_vcpus_stun(vs);
    sim_mem_instant_range(r->mem, 0, n, expect);
    sim_mem_checker_disarm(r->mem);
    if (sim_mem_make_absent(r->mem, expect) < 0) {
        free(expect);
        vm_bitmap_free(scratch);
        ckpt_fail(r, VM_ENOMEM, "%s: %s", "restore check");
        return;
    }
    port_mem_collect_accessed(&r->mem->base, scratch);
    port_mem_collect_dirty(&r->mem->base, scratch);

    memset(&r->charged, 0, sizeof(r->charged));
    ckpt_set_hooks(r, NULL);
    uint64_t t0 = sim_now_ns();
    /* responsive: the first window whose useful compute is at least
     * (1 - ttr_stall) of it */
    sim_vcpus_track_windows(vs, t0, r->cfg->ttr_window_ns,
                            (1.0 - r->cfg->ttr_stall) * (double)r->cfg->ttr_window_ns);
    struct sim_vcpus_totals a0, a1;
    sim_vcpus_totals(vs, &a0);
    struct vm_hist before;
    sim_vcpus_take_exit_hist(vs, &before);

    const struct ckpt_restore_cfg *rcfg = exp->policy_cfg;
    int rc = r->rp->start(rcfg, &r->env, &r->rest, &d);
    if (rc < 0) {
        ckpt_fail(r, rc, "restore policy start failed: %s (%s)", d.code ? d.msg : r->rp->name);
        sim_mem_restore_finish(r->mem);
        free(expect);
        vm_bitmap_free(scratch);
        return;
    }
    ckpt_set_hooks(r, ckpt_restore_fault_hook);

    bool running = false, done = false;
    uint64_t deadline = UINT64_MAX, t_done = 0;
    for (;;) {
        uint64_t ticket = sim_waitq_ticket(r->io_wq);
        rc = r->rp->step(r->rest);
        uint64_t ns = ckpt_charge_installs(r, r->rp->stats(r->rest));
        if (ns)
            sim_sleep_ns(ns);
        if (!running && r->rp->runnable(r->rest)) {
            running = true;
            deadline = sim_now_ns() + r->cfg->run_time_ns;
            sim_vcpus_resume(vs);
        }
        if (rc < 0) {
            const char *why = r->rp->diag ? r->rp->diag(r->rest) : "";
            ckpt_fail(r, rc, "restore failed: %s (%s)", why && why[0] ? why : r->rp->name);
            break;
        }
        if (rc == CKPT_STEP_DONE) {
            done = true;
            t_done = sim_now_ns();
            break;
        }
        uint64_t now = sim_now_ns();
        if (running && now >= deadline)
            break;
        if (ns)
            continue;
        if (rc == CKPT_STEP_WAIT) {
            if (running)
                sim_waitq_wait_for_ticket(r->io_wq, ticket, deadline - now);
            else
                sim_waitq_wait_ticket(r->io_wq, ticket);
        }
    }
    if (done && !running) {        /* eager: runnable exactly when done */
        running = true;
        deadline = sim_now_ns() + r->cfg->run_time_ns;
        sim_vcpus_resume(vs);
    }
    if (running && sim_now_ns() < deadline && rc >= 0)
        sim_sleep_ns(deadline - sim_now_ns());
    sim_vcpus_stop(vs);

    const struct ckpt_stats *st = r->rp->stats(r->rest);
    if (done)
        ckpt_set_metric(o, SIM_CKPT_M_RESTORE_NS, (double)(t_done - t0));
    uint64_t ttr;
    if (sim_vcpus_responsive(vs, &ttr))
        ckpt_set_metric(o, SIM_CKPT_M_TTR_NS, (double)ttr);
    ckpt_set_metric(o, SIM_CKPT_M_RESTORE_FAULTS, (double)st->restore_faults);
    struct vm_hist exits;
    vm_hist_init(&exits);
    sim_vcpus_exit_hist(vs, &exits);
    ckpt_record_hist(o, &exits, SIM_CKPT_M_RESTORE_FAULT_P50_NS, SIM_CKPT_M_RESTORE_FAULT_P99_NS,
                SIM_CKPT_M_RESTORE_FAULT_P999_NS, SIM_CKPT_M_RESTORE_FAULT_MAX_NS);
    ckpt_set_metric(o, SIM_CKPT_M_READ_IOS, (double)st->read_ios);
    ckpt_set_metric(o, SIM_CKPT_M_BYTES_READ, (double)st->bytes_read);
    sim_vcpus_totals(vs, &a1);
    ckpt_set_metric(o, SIM_CKPT_M_GUEST_STALL_NS, (double)(a1.stall_ns - a0.stall_ns));
    ckpt_set_metric(o, SIM_CKPT_M_GUEST_ACCESSES, (double)(a1.raw_accesses - a0.raw_accesses));

    /* wasted prefetch: installed pages the guest never touched */
    vm_bitmap_clear_range(scratch, 0, n);
    port_mem_collect_accessed(&r->mem->base, scratch);
    uint64_t present = sim_mem_count_present(r->mem, NULL);
    uint64_t wasted = sim_mem_count_present(r->mem, scratch);
    ckpt_set_metric(o, SIM_CKPT_M_WASTED_PREFETCH_BYTES, (double)(wasted * VM_PAGE_SIZE));

    if (done)
        o->inv[SIM_CKPT_INV_RESTORE_UNINSTALLED] += n - present;

    /* reads still in flight (faults cut short by the end of the run, a
     * background stream) complete before the policy's state goes away */
    while (r->rp->stats(r->rest)->ios_inflight)
        sim_waitq_wait(r->io_wq);
    /* every page present now, whatever made it present and whether or not
     * the restore finished, holds the image's content (pages the guest
     * touched were compared at their first access) */
    sim_mem_restore_finish(r->mem);
    o->inv[SIM_CKPT_INV_RESTORE_PAGES_CHECKED] += r->mem->restore_checked;
    o->inv[SIM_CKPT_INV_RESTORE_MISMATCH] += r->mem->restore_mismatch;
    r->rp->destroy(r->rest);
    r->rest = NULL;
    free(expect);
    vm_bitmap_free(scratch);
}
