/*
 * sim_pf.c - the prefault driver: one run point (sim_pf.h says what a run
 * point does).  The world: the guest memory model with its page tables
 * (sim_mem), the vCPUs replaying the traces (sim_vcpus), the disk holding
 * swap or the suspend image (sim_disk); the fault path is
 * sim_pf_fault.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "base/vm_units.h"
#include "hostmem/hostmem.h"
#include "prefault/sim_pf_int.h"
#include "sim_content.h"
#include "sim_disk.h"
#include "sim_world.h"

static void set_metric(struct sim_outcome *o, enum sim_pf_metric id, double v)
{
    sim_outcome_set(o, id, v);
}

static void io_notify(void *arg)
{
    sim_waitq_wake_all(arg);
}

static uint64_t *bitmap_new(uint64_t bits)
{
    return calloc((bits + 63) / 64, sizeof(uint64_t));
}

/* ------------------------------------------------------------ recording */

int pf_replay(struct pf_run *r, pf_access_fn fn, void *arg, struct vm_diag *d)
{
    sim_mem_tlb_flush(r->mem, UINT32_MAX);
    unsigned levels = guest_vm_levels(sim_mem_guest(r->mem));
    for (uint32_t i = 0; i < r->vcpus.n; i++) {
        const struct sim_vcpu *v = r->vcpus.v[i];
        const struct sim_access *recs = sim_trace_records(v->trace);
        uint64_t n = sim_trace_nr_records(v->trace);
        for (uint64_t k = 0, idx = v->trace_start; k < n; k++, idx = idx + 1 == n ? 0 : idx + 1) {
            const struct sim_access *a = &recs[idx];
            uint64_t gpa, page = sim_access_page(a);
            bool is_write = sim_access_op(a) == SIM_OP_WRITE;
            int rc = sim_mem_translate_as(r->mem, v->asid, page, is_write, &gpa);
            bool walk = rc == SIM_MEM_XLAT_WALK;
            if (walk)                  /* the guest maps the page first if it must */
                rc = sim_mem_translate_fill(r->mem, v->asid, page, is_write, &gpa);
            if (rc < 0)
                return vm_diag_set(d, rc, "vCPU %u, record %llu: guest page 0x%llx does not "
                                   "translate: %s", i, (unsigned long long)idx,
                                   (unsigned long long)page, vm_strerror(rc));
            if (walk) {
                uint64_t tf[GUEST_MAX_LEVELS];
                unsigned nt = sim_mem_walk_tables(r->mem, v->asid, page, tf);
                for (unsigned t = 0; t < nt; t++)
                    if ((rc = fn(r, arg, v->asid, page, tf[t], levels - t, false, d)) < 0)
                        return rc;
            }
            if ((rc = fn(r, arg, v->asid, page, gpa, 0, is_write, d)) < 0)
                return rc;
        }
    }
    return 0;
}

/* The GVA-order key of a frame (sort_by_gva): address space, then the
 * first guest-virtual page it maps (a table: the first page of its span),
 * then, at the same page, the tables from the top down before the page
 * itself: the order of a depth-first walk of each process's tables, which
 * visits a table before what it maps.  45 bits of page: the index bits of
 * 5-level paging (an upper-half address sorts after the lower half). */
static uint64_t gva_key(uint32_t asid, uint64_t gva_page, unsigned level)
{
    uint64_t span = level ? (UINT64_C(1) << (9 * level)) - 1 : 0;
    uint64_t first = gva_page & ~span & ((UINT64_C(1) << 45) - 1);
    unsigned sub = level ? GUEST_MAX_LEVELS - level : GUEST_MAX_LEVELS;   /* 0 .. 5 */
    return (uint64_t)asid << 48 | first << 3 | sub;
}

/*
 * The recording pass: the guest's processes map their pages and write
 * them, and their walks read the tables.  First touches go to ws_order
 * (a walk's tables before its page); gva_of[frame] (the arg) gets the
 * frame's GVA-order key (gva_key) from the walk that first touched it.
 */
static int record_access(struct pf_run *r, void *arg, uint32_t asid, uint64_t gva_page,
                         uint64_t gpa, unsigned level, bool is_write, struct vm_diag *d)
{
    uint64_t *gva_of = arg;
    (void)d;
    sim_mem_apply(r->mem, gpa, is_write);
    if (!vm_bitmap_test_and_set(r->in_ws, gpa)) {
        r->ws_order[r->nr_ws++] = gpa;
        gva_of[gpa] = gva_key(asid, gva_page, level);
    }
    return 0;
}

/* ------------------------------------------------------------ start states */

struct gva_frame { uint64_t key, frame; };

static int cmp_gva(const void *a, const void *b)
{
    uint64_t x = ((const struct gva_frame *)a)->key, y = ((const struct gva_frame *)b)->key;
    return (x > y) - (x < y);
}

/* Sort frames by the (address space, GVA) that first mapped them. */
static int sort_by_gva(uint64_t *frames, uint64_t n, const uint64_t *gva_of)
{
    struct gva_frame *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return VM_ENOMEM;
    for (uint64_t i = 0; i < n; i++)
        v[i] = (struct gva_frame){ gva_of[frames[i]], frames[i] };
    qsort(v, n, sizeof *v, cmp_gva);
    for (uint64_t i = 0; i < n; i++)
        frames[i] = v[i].frame;
    free(v);
    return 0;
}

/*
 * Resume: the working set in a suspend image on the disk, slot s at block
 * s, in guest-physical order or in guest-virtual order; every page
 * absent.  0, or VM_ENOSPC / VM_ENOMEM with the reason in d.
 */
static int start_resume(struct pf_run *r, const uint64_t *gva_of, struct vm_diag *d)
{
    struct pf_store *st = &r->st;
    uint64_t *order = malloc(r->nr_pages * sizeof *order);
    uint64_t *fps = malloc(r->nr_pages * sizeof *fps);
    if (!order || !fps) {
        free(order);
        free(fps);
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    }
    /* every page with content: the processes' pages first when the image
     * is in guest-virtual order (each process's in the order of a walk of
     * its tables), then the others (kernel, page cache) by frame */
    uint64_t n = 0;
    bool gva = r->cfg->image_order == SIM_PF_ORDER_GVA;
    for (uint64_t f = 0; f < r->nr_pages; f++)
        if (r->expect[f] != VM_FP_ZERO && (!gva || vm_bitmap_test(r->in_ws, f)))
            order[n++] = f;
    if (gva && sort_by_gva(order, n, gva_of) < 0) {
        free(order);
        free(fps);
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    }
    if (gva) {
        for (uint64_t f = 0; f < r->nr_pages; f++)
            if (r->expect[f] != VM_FP_ZERO && !vm_bitmap_test(r->in_ws, f))
                order[n++] = f;
    }
    uint64_t cap = port_blk_nr_blocks(sim_disk_port(r->disk));
    int rc = 0;
    if (n > cap) {
        rc = vm_diag_set(d, VM_ENOSPC, "the suspend image needs %llu blocks, the disk has %llu",
                         (unsigned long long)n, (unsigned long long)cap);
    } else {
        for (uint64_t s = 0; s < n; s++) {
            st->slot_of[order[s]] = (uint32_t)s;
            st->frame_of[s] = (uint32_t)order[s];
            fps[s] = r->expect[order[s]];
        }
        st->nr_slots = n;
        st->lba0 = 0;
        /* after the image: room for the policies' compact copy of the
         * recorded set (REAP's working-set file, Halite's blocks) */
        r->copy_lba0 = n;
        r->copy_cap = cap - n < n ? cap - n : n;
        if (n && vm_fpstore_put(sim_disk_store(r->disk), 0, n, fps) < 0)
            rc = vm_diag_set(d, VM_ENOMEM, "out of memory writing the suspend image");
    }
    free(order);
    free(fps);
    return rc;
}

/* ------------------------------------------------------------ the run */

static void fail(struct pf_run *r, int rc, const char *what, const struct vm_diag *d)
{
    if (!r->out->rc)
        sim_outcome_fail(r->out, rc, "%s: %s", what, d && d->code ? d->msg : vm_strerror(rc));
}

static void report(struct pf_run *r, uint64_t completion_ns)
{
    struct sim_outcome *o = r->out;
    struct sim_vcpus_totals t;
    sim_vcpus_totals(&r->vcpus, &t);
    const struct prefault_stats *ps = prefault_stats(r->ps);
    uint64_t ref = r->faultonly_ref;
    set_metric(o, SIM_PF_M_COMPLETION_NS, (double)completion_ns);
    set_metric(o, SIM_PF_M_STALL_NS, (double)t.stall_ns);
    set_metric(o, SIM_PF_M_MAJOR_FAULTS, (double)r->major);
    set_metric(o, SIM_PF_M_MINOR_FAULTS, (double)r->minor);
    set_metric(o, SIM_PF_M_TABLE_FAULTS, (double)r->table_faults);
    set_metric(o, SIM_PF_M_FAULTONLY_FAULTS, (double)ref);
    if (r->hm)
        set_metric(o, SIM_PF_M_HOST_PAGES, (double)r->host_pages);
    if (ref)
        set_metric(o, SIM_PF_M_COVERAGE_PCT, 100.0 * (1.0 - (double)r->major / (double)ref));
    set_metric(o, SIM_PF_M_PREFETCHED, (double)r->prefetched);
    set_metric(o, SIM_PF_M_PREFETCH_USED, (double)r->used);
    if (r->prefetched)
        set_metric(o, SIM_PF_M_ACCURACY_PCT, 100.0 * (double)r->used / (double)r->prefetched);
    set_metric(o, SIM_PF_M_READ_IOS, (double)r->read_ios);
    set_metric(o, SIM_PF_M_BYTES_READ, (double)r->read_blocks * VM_PAGE_SIZE);
    set_metric(o, SIM_PF_M_BYTES_WRITTEN, (double)r->write_blocks * VM_PAGE_SIZE);
    set_metric(o, SIM_PF_M_EVICTIONS, (double)r->evictions);
    if (r->faults)
        set_metric(o, SIM_PF_M_FAULT_CPU_NS, (double)r->vcpu_cpu_ns / (double)r->faults);
    set_metric(o, SIM_PF_M_HV_CPU_NS, (double)r->hv_cpu_ns);
    if (r->fault_lat.count) {
        set_metric(o, SIM_PF_M_FAULT_P50_NS, (double)vm_hist_quantile(&r->fault_lat, 0.5));
        set_metric(o, SIM_PF_M_FAULT_P99_NS, (double)vm_hist_quantile(&r->fault_lat, 0.99));
    }
    uint64_t ttr;
    if (sim_vcpus_responsive(&r->vcpus, &ttr))
        set_metric(o, SIM_PF_M_TTR_NS, (double)ttr);
    set_metric(o, SIM_PF_M_ACCESSES, (double)t.raw_accesses);
    set_metric(o, SIM_PF_M_WS_PAGES, (double)r->nr_ws);
    struct guest_frag fr;
    sim_mem_frag(r->mem, &fr);
    set_metric(o, SIM_PF_M_FRAG_RUN_PAGES, fr.mean_run_pages);
    set_metric(o, SIM_PF_M_WALK_ENTRIES, (double)ps->entries);
    set_metric(o, SIM_PF_M_DECODES, (double)ps->decodes);
    pf_net_report(r, completion_ns);
    pf_swap_report(r);
    o->inv[SIM_PF_INV_CONTENT_CHECKED] = r->mem->restore_checked;
    o->inv[SIM_PF_INV_CONTENT_MISMATCH] = r->mem->restore_mismatch;
}

/* Every vCPU replays its stream once; returns when the last one ended. */
static uint64_t measured_pass(struct pf_run *r)
{
    uint64_t t0 = sim_now_ns();
    sim_vcpus_track_windows(&r->vcpus, t0, r->cfg->ttr_window_ns,
                            (1.0 - r->cfg->ttr_stall) * (double)r->cfg->ttr_window_ns);
    sim_vcpus_start(&r->vcpus, r->host);
    for (uint32_t i = 0; i < r->vcpus.n; i++) {
        struct sim_vcpu *v = r->vcpus.v[i];
        while (!v->exited)
            sim_waitq_wait(v->ctl_wq);
    }
    uint64_t done = sim_now_ns() - t0;
    sim_vcpus_stop(&r->vcpus);        /* joins the actors */
    return done;
}

/* The hypervisor reads a table frame only when it is in host memory with
 * its content (present): the neighbour translations skip what lies below
 * any other, rather than wait for it inside the fault. */
static bool table_readable(void *arg, uint64_t gfn)
{
    const struct pf_run *r = arg;
    return gfn < r->nr_pages && sim_mem_test(r->mem, SIM_MEM_PRESENT, gfn);
}

static int setup(struct pf_run *r, struct vm_diag *d)
{
    const struct sim_pf_cfg *c = r->cfg;
    int rc = sim_content_init(d);
    if (rc == 0)
        rc = sim_mem_new(&c->vm, r->exp->seed, &r->mem, d);
    if (rc < 0)
        return rc;
    /* the guest's page tables are guest memory: every walk reads them */
    sim_mem_set_table_reads(r->mem, true);
    r->nr_pages = r->mem->nr_pages;
    if (c->scenario != SIM_PF_POSTCOPY && !(r->disk = sim_disk_open(r->host, r->exp->disk, d)))
        return d->code ? d->code : VM_EINVAL;
    if (!(r->io_wq = sim_waitq_new()))
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    rc = sim_vcpus_new(&r->vcpus, &c->vm, &c->workload, r->mem, r->exp->seed, r->io_wq, d);
    if (rc < 0)
        return rc;
    r->in_ws = bitmap_new(r->nr_pages);
    r->tables = bitmap_new(r->nr_pages);
    r->inflight = bitmap_new(r->nr_pages);
    r->unused = bitmap_new(r->nr_pages);
    r->ws_order = malloc(r->nr_pages * sizeof *r->ws_order);
    r->expect = malloc(r->nr_pages * sizeof *r->expect);
    r->st.slot_of = malloc(r->nr_pages * sizeof *r->st.slot_of);
    r->st.frame_of = malloc(r->nr_pages * sizeof *r->st.frame_of);
    r->exits = calloc(r->vcpus.n, sizeof *r->exits);
    if (!r->in_ws || !r->tables || !r->inflight || !r->unused || !r->ws_order || !r->expect ||
        !r->st.slot_of || !r->st.frame_of || !r->exits)
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    memset(r->st.slot_of, 0xff, r->nr_pages * sizeof *r->st.slot_of);
    memset(r->st.frame_of, 0xff, r->nr_pages * sizeof *r->st.frame_of);
    pf_store_init(&r->st, r);
    r->reader = (struct guest_pt_reader){ .readable = table_readable, .arg = r };
    r->st.nr_frames = r->nr_pages;
    r->max_io_pages = (uint32_t)(c->max_io_bytes / VM_PAGE_SIZE);
    vm_hist_init(&r->fault_lat);
    return 0;
}

static void teardown(struct pf_run *r)
{
    for (uint32_t i = 0; r->exits && i < r->vcpus.n; i++) {
        free(r->exits[i].wait);
        pf_defer_drop(&r->exits[i]);
    }
    if (r->ps)
        r->pol->destroy(r->ps);
    pf_swap_stop(r);                  /* a run that failed before its pass */
    pf_swap_free(r);
    pf_postcopy_stop(r);              /* a run that failed before its pass */
    pf_postcopy_free(r);
    sim_vcpus_free(&r->vcpus);
    free(r->exits);
    free(r->in_ws);
    free(r->tables);
    free(r->inflight);
    free(r->unused);
    free(r->ws_order);
    free(r->expect);
    free(r->st.slot_of);
    free(r->st.frame_of);
    if (r->disk)
        sim_disk_close(r->disk);
    if (r->io_wq)
        sim_waitq_free(r->io_wq);
    sim_mem_free(r->mem);
}

void sim_pf_run(const struct sim_exp *exp, sg_host_t host, struct sim_outcome *out)
{
    struct pf_run run = { .exp = exp, .host = host, .cfg = exp->mech_cfg, .out = out };
    struct pf_run *r = &run;
    struct vm_diag d;
    vm_diag_clear(&d);
    uint64_t *gva_of = NULL;

    int rc = setup(r, &d);
    if (rc < 0) {
        fail(r, rc, "setting up the world", &d);
        goto out;
    }
    if (!(gva_of = malloc(r->nr_pages * sizeof *gva_of))) {
        fail(r, VM_ENOMEM, "recording pass", NULL);
        goto out;
    }
    if ((rc = pf_replay(r, record_access, gva_of, &d)) < 0) {
        fail(r, rc, "recording pass", &d);
        goto out;
    }
    /* the table frames hold what the guest kernel wrote in them: content
     * of their own (never a zero page: each has entries) */
    guest_vm_table_map(sim_mem_guest(r->mem), r->tables);
    for (uint64_t f = 0; f < r->nr_pages; f++)
        if (vm_bitmap_test(r->tables, f))
            sim_mem_write_page(r->mem, f);
    /* what every page holds now is what it must hold when the guest next
     * uses it: the processes' pages and tables, and the rest of guest
     * memory (kernel, page cache: the content classes of vm.content),
     * zero pages excepted */
    for (uint64_t f = 0; f < r->nr_pages; f++)
        r->expect[f] = sim_mem_fp(r->mem, f);
    for (uint64_t i = 0; i < r->nr_ws; i++)
        r->faultonly_ref += r->expect[r->ws_order[i]] != VM_FP_ZERO;
    switch (r->cfg->scenario) {
    case SIM_PF_RESUME:
        rc = start_resume(r, gva_of, &d);  /* demand paging reads each page of the set once */
        break;
    case SIM_PF_SWAP:
        rc = pf_swap_setup(r, &d);
        break;
    case SIM_PF_POSTCOPY:
        rc = pf_postcopy_setup(r, &d);
        break;
    default:
        rc = vm_diag_set(&d, VM_EINVAL, "unknown scenario %d", r->cfg->scenario);
        break;
    }
    free(gva_of);
    gva_of = NULL;
    if (rc < 0) {
        fail(r, rc, "the scenario's start state", &d);
        goto out;
    }
    if ((rc = sim_mem_make_absent(r->mem, r->expect)) < 0) {
        fail(r, rc, "making guest memory absent", NULL);
        goto out;
    }
    if (r->hm)
        pf_swap_reinstall(r);

    r->pol = prefault_policy_find(exp->policy);
    /* the recorded working set, in first-touch order, for REAP and Halite */
    struct prefault_ws ws = { .frames = r->ws_order, .nr = r->nr_ws };
    struct prefault_env env = { .backing = r->hm ? hostmem_backing(r->hm) : &r->st.base,
                                .ws = &ws };
    if (!r->pol) {
        fail(r, VM_EINVAL, "unknown prefetch policy", NULL);
        goto out;
    }
    if ((rc = prefault_start(r->pol, exp->policy_cfg, &env, &r->ps, &d)) < 0) {
        fail(r, rc, "starting the policy", &d);
        r->ps = NULL;
        goto out;
    }
    for (uint32_t i = 0; i < r->vcpus.n; i++) {
        struct sim_vcpu *v = r->vcpus.v[i];
        r->exits[i] = (struct pf_exit){ .r = r, .v = v };
        v->loop = false;
        v->on_fault = pf_fault_hook;
        v->fault_arg = &r->exits[i];
    }
    if (r->disk)
        sim_disk_set_notify(r->disk, io_notify, r->io_wq);

    uint64_t completion = measured_pass(r);
    pf_swap_stop(r);
    pf_postcopy_stop(r);
    sim_mem_restore_finish(r->mem);
    report(r, completion);
    /* read-ahead and write-back still on their way when the trace ended:
     * their completions use this run's state, so it waits for them */
    while (r->ios_pending)
        sim_waitq_wait(r->io_wq);
    for (uint32_t i = 0; i < r->vcpus.n; i++)
        if (r->vcpus.v[i]->error)
            out->inv[SIM_PF_INV_VCPU_ERRORS]++;
    if (sim_vcpus_error(&r->vcpus))
        fail(r, sim_vcpus_error(&r->vcpus), "a vCPU stopped", NULL);
    else if (r->io_error)
        fail(r, r->io_error, "a fetch failed", NULL);
out:
    free(gva_of);
    teardown(r);
}
