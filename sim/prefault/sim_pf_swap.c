/*
 * sim_pf_swap.c - the swap scenario: the guest's host memory is smaller
 * than its working set (models/hostmem: a clock evictor reading the EPT
 * accessed bits, swap slots taken in eviction order, a swap cache that
 * keeps a clean page's slot).  Guest memory the processes do not use
 * (pages with content: kernel, page cache) starts in swap, and a warm
 * pass of the trace fills swap further as a host that has been running
 * the guest would; in the measured pass a fault's answer is
 * trimmed to the room that evicts no unused prefetch, admitted, read from
 * its slots (sim_pf_fault.c), and the evictions it caused are written to
 * new slots in the background, grouped into runs of neighbouring slots.
 *
 * Content: an evicted frame's content goes to its slot when it leaves
 * (the swap cache holds it until writeback, so a read of the slot is
 * always right), the frame is poisoned and its restore check re-armed, so
 * the guest's next use compares it with what it held.  Pages mapped from
 * the swap cache are write-protected (do_swap_page maps a page that keeps
 * its slot read-only; the write fault frees the slot).
 *
 * The demand-paging reference: a replay of the measured pass without
 * prefetch on a second host memory with its own referenced bits, in plain
 * C, counting the pages it reads (one vCPU order: vCPUs replayed one
 * after the other).
 *
 * Reclaim kswapd (swap.reclaim; models/hostmem "Reclaim"): a fault that
 * takes memory to the low watermark wakes the kswapd actor once its CPU
 * work is done (pf_defer, after its reads and writes; Linux wakes it in
 * __alloc_pages_slowpath(), before the fault's I/O, so on a slow disk
 * this kswapd starts an I/O later and more faults reclaim directly);
 * kswapd evicts batches of SWAP_CLUSTER_MAX (32) pages and submits each batch's dirty
 * pages as one write request (one I/O per run of neighbouring slots) on
 * the swap disk the faults read, without waiting for it, until free plus
 * under write-back is at high; a write's end frees its frames and wakes
 * kswapd again, which sleeps once free is at high.  Its evictions re-arm
 * the content check as a fault's do; it may take a page prefetched and
 * unused (counted wasted), whose frame is then owed to the faults:
 * audit_owed counts a prefetch that took one as evict_unused_prefetch (a
 * prefetch pushing out an unused prefetch through kswapd).  The warm pass
 * and the reference run kswapd at once when asked, its writes ending at
 * once (no time passes there).
 */
#include <stdlib.h>

#include <simgrid/actor.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "hostmem/hostmem.h"
#include "prefault/sim_pf_int.h"
#include "sim_disk.h"
#include "sim_world.h"

/* A write-back the faulting vCPU waits for (the frames it took are free
 * only once their content is on the swap device: memcg reclaim waiting on
 * the page it evicted, as cgroup v1's does; models/hostmem "Reclaim"). */
struct wio {
    struct port_blk_req req;
    struct pf_exit *x;
};

static void wio_done(struct port_blk_req *req, int rc)
{
    struct wio *w = req->data;
    (void)rc;                          /* the content went to the slot at eviction */
    w->x->writes_pending--;
    w->x->r->ios_pending--;
    free(w);
}

/* The evictions' content into their slots, at once (the swap cache holds
 * a page until its write-back ends, so a read of the slot finds it). */
static int store_writes(struct pf_run *r, const struct hostmem_admission *a, bool measured)
{
    struct vm_fpstore *store = sim_disk_store(r->disk);
    for (uint32_t i = 0; i < a->nr_writes; i++) {
        /* measured pass: evict() kept the content and poisoned the frame */
        uint64_t f = a->writes[i].frame, fp = measured ? r->expect[f] : sim_mem_fp(r->mem, f);
        if (vm_fpstore_put(store, r->st.lba0 + a->writes[i].slot, 1, &fp) < 0)
            return VM_ENOMEM;
    }
    return 0;
}

/* The evictions' write-back: one request standing for one I/O per run of
 * neighbouring slots (the device charges each I/O and the blocks; which
 * blocks is not timed), filled from an admission with writes. */
static void write_req(struct pf_run *r, struct hostmem_admission *a, struct port_blk_req *req,
                      void (*cb)(struct port_blk_req *, int), void *data)
{
    hostmem_io_sort(a->writes, a->nr_writes);
    uint32_t ios = 0;
    for (uint32_t i = 0; i < a->nr_writes;) {
        uint32_t n = hostmem_io_run(a->writes, a->nr_writes, i);
        ios += (n + r->max_io_pages - 1) / r->max_io_pages;
        i += n;
    }
    req->op = PORT_BLK_WRITE;
    req->lba = r->st.lba0 + a->writes[0].slot;
    req->nr_blocks = a->nr_writes;
    req->nr_ios = ios;
    req->fps = NULL;                   /* timing only: the store has the content */
    req->cb = cb;
    req->data = data;
}

/* The write-back a faulting vCPU waits for, built from the admission
 * before any simcall (the admission buffer is the next fault's once
 * another vCPU runs); NULL when nothing is written, or out of memory
 * (*rc). */
static struct wio *prepare_writes(struct pf_run *r, struct pf_exit *x,
                                  struct hostmem_admission *a, int *rc)
{
    *rc = 0;
    if (!a->nr_writes)
        return NULL;
    struct wio *w = calloc(1, sizeof *w);
    if (!w) {
        *rc = VM_ENOMEM;
        return NULL;
    }
    w->x = x;
    write_req(r, a, &w->req, wio_done, w);
    x->writes_pending++;               /* before any simcall */
    return w;
}

static void drop_writes(void *arg)
{
    struct wio *w = arg;
    w->x->writes_pending--;
    free(w);
}

static int submit_writes(struct pf_run *r, void *arg)
{
    struct wio *w = arg;
    r->write_blocks += w->req.nr_blocks;
    r->ios_pending++;
    int rc = sim_disk_submit_timing(r->disk, &w->req);
    if (rc < 0) {
        r->ios_pending--;
        w->x->writes_pending--;
        free(w);
    }
    return rc < 0 ? rc : 0;
}

/* kswapd in plain C (warm pass, reference): batches until balanced, the
 * writes' content stored (store) and their write-back ended at once. */
static int kswapd_now(struct pf_run *r, struct hostmem *hm, bool store)
{
    while (hostmem_kswapd(hm, HOSTMEM_KSWAPD_BATCH, r->adm) > 0) {
        sim_mem_tlb_flush(r->mem, UINT32_MAX);   /* INVEPT (see flush_evicted) */
        if (store && store_writes(r, r->adm, false) < 0)
            return VM_ENOMEM;
        hostmem_writeback_end(hm, r->adm->nr_writes);
    }
    return 0;
}

/* ------------------------------------------------------------ warm pass */

static int warm_access(struct pf_run *r, void *arg, uint32_t asid, uint64_t gva_page,
                       uint64_t gpa, unsigned level, bool is_write, struct vm_diag *d)
{
    (void)arg;
    (void)asid;
    (void)gva_page;
    (void)level;
    if (!hostmem_is_resident(r->hm, gpa)) {
        int rc = hostmem_admit(r->hm, &gpa, 1, r->adm);
        if (rc == 0 && r->adm->nr_evicted)
            sim_mem_tlb_flush(r->mem, UINT32_MAX);   /* INVEPT (see flush_evicted) */
        if (rc == 0)
            rc = store_writes(r, r->adm, false);
        if (rc == 0 && r->adm->wake_kswapd)
            rc = kswapd_now(r, r->hm, true);
        if (rc < 0)
            return vm_diag_set(d, rc, "host memory: the warm pass failed: %s", vm_strerror(rc));
    }
    sim_mem_apply(r->mem, gpa, is_write);
    if (is_write)
        hostmem_write(r->hm, gpa);
    else
        hostmem_use(r->hm, gpa);
    return 0;
}

/* ------------------------------------------------------------ reference */

struct shadow {
    struct hostmem *hm;
    uint64_t *young;                   /* its own referenced bits */
    uint64_t reads;
    bool counting;
};

static bool shadow_young(void *data, uint64_t frame)
{
    struct shadow *s = data;
    bool y = vm_bitmap_test(s->young, frame);
    vm_bitmap_clear(s->young, frame);
    return y;
}

static int shadow_access(struct pf_run *r, void *arg, uint32_t asid, uint64_t gva_page,
                         uint64_t gpa, unsigned level, bool is_write, struct vm_diag *d)
{
    struct shadow *s = arg;
    (void)asid;
    (void)gva_page;
    (void)level;
    if (!hostmem_is_resident(s->hm, gpa)) {
        int rc = hostmem_admit(s->hm, &gpa, 1, r->adm);
        if (rc < 0)
            return vm_diag_set(d, rc, "host memory: the reference replay failed");
        if (r->adm->nr_evicted)
            sim_mem_tlb_flush(r->mem, UINT32_MAX);   /* INVEPT (see flush_evicted) */
        if (s->counting)
            s->reads += r->adm->nr_reads;
        if (r->adm->wake_kswapd)
            kswapd_now(r, s->hm, false);
    }
    vm_bitmap_set(s->young, gpa);
    if (is_write)
        hostmem_write(s->hm, gpa);
    return 0;
}

/* The rest of guest memory (pages with content the processes do not
 * use: kernel, page cache) went to swap long ago, by frame: into hm's
 * slots, and (store non-NULL) their contents onto the swap device. */
static int preload_cold(struct pf_run *r, struct hostmem *hm, struct vm_fpstore *store)
{
    for (uint64_t f = 0; f < r->nr_pages; f++) {
        if (r->expect[f] == VM_FP_ZERO || vm_bitmap_test(r->in_ws, f))
            continue;
        int rc = hostmem_preload(hm, f);
        if (rc == 0 && store &&
            vm_fpstore_put(store, r->st.lba0 + hostmem_slot_of(hm, f), 1, &r->expect[f]) < 0)
            rc = VM_ENOMEM;
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Demand paging's major faults on the measured pass: warm pass then
 * measured pass on a second host memory, no prefetch. */
static int reference(struct pf_run *r, const struct hostmem_cfg *cfg, struct vm_diag *d)
{
    struct shadow s = { 0 };
    int rc = hostmem_new(cfg, shadow_young, &s, &s.hm, d);
    if (rc < 0)
        return rc;
    if ((rc = preload_cold(r, s.hm, NULL)) < 0) {
        hostmem_free(s.hm);
        return vm_diag_set(d, rc, "host memory: swapping out the cold pages failed");
    }
    if (!(s.young = calloc((r->nr_pages + 63) / 64, sizeof(uint64_t)))) {
        hostmem_free(s.hm);
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    }
    rc = pf_replay(r, shadow_access, &s, d);
    s.counting = true;
    if (rc == 0)
        rc = pf_replay(r, shadow_access, &s, d);
    r->faultonly_ref = s.reads;
    free(s.young);
    hostmem_free(s.hm);
    return rc;
}

/* ------------------------------------------------------------ setup */

static int kswapd_start(struct pf_run *r, struct vm_diag *d);

int pf_swap_setup(struct pf_run *r, struct vm_diag *d)
{
    const struct sim_pf_cfg *c = r->cfg;
    uint64_t pages = c->host_memory_bytes
                         ? c->host_memory_bytes / VM_PAGE_SIZE
                         : (uint64_t)((double)r->nr_ws * c->memory_fraction + 0.5);
    if (pages < 1)
        pages = 1;
    if (pages > r->nr_pages)
        pages = r->nr_pages;
    r->host_pages = pages;
    uint64_t cap = port_blk_nr_blocks(sim_disk_port(r->disk));
    if (cap < r->nr_pages)
        return vm_diag_set(d, VM_ENOSPC, "swap needs %llu blocks (the guest's pages), the disk "
                           "has %llu", (unsigned long long)r->nr_pages,
                           (unsigned long long)cap);
    if (!(r->adm = malloc(sizeof *r->adm)))
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    struct hostmem_cfg hc = { .nr_frames = r->nr_pages, .max_resident = pages,
                              .reclaim = c->reclaim, .min_free_kbytes = c->min_free_kbytes,
                              .watermark_scale_factor = c->watermark_scale_factor };
    /* the evictor's referenced bit: the frame's EPT accessed bit, read and
     * cleared (frames under a read are locked: the hand never asks) */
    int rc = hostmem_new(&hc, sim_mem_young, r->mem, &r->hm, d);
    if (rc < 0)
        return rc;
#ifdef SIM_PF_TEST_MUTANT
    /* the mutation: an evictor that ignores the prefetch protection */
    hostmem_test_break_evictor(r->hm, sim_pf_test_mutant("break-evictor"));
#endif
    r->st.lba0 = 0;
    if ((rc = preload_cold(r, r->hm, sim_disk_store(r->disk))) < 0)
        return vm_diag_set(d, rc, "host memory: swapping out the cold pages failed");
    if ((rc = reference(r, &hc, d)) < 0)
        return rc;
    /* the recording pass touched every page: the warm pass starts with
     * the accessed bits clear, as the reference does */
    for (uint64_t l = 0; l < r->mem->nr_lines; l++)
        r->mem->lines[l].w[SIM_MEM_ACCESSED] = 0;
    if ((rc = pf_replay(r, warm_access, NULL, d)) < 0)
        return rc;
    /* the warm pass wrote pages: what they hold now is what they must hold */
    for (uint64_t f = 0; f < r->nr_pages; f++)
        if (vm_bitmap_test(r->in_ws, f))
            r->expect[f] = sim_mem_fp(r->mem, f);
    if (c->reclaim == HOSTMEM_RECLAIM_KSWAPD)
        return kswapd_start(r, d);
    return 0;
}

void pf_swap_reinstall(struct pf_run *r)
{
    for (uint64_t f = 0; f < r->nr_pages; f++)
        if (hostmem_is_resident(r->hm, f))
            pf_install(r, f, r->expect[f], false);
}

/* ------------------------------------------------------------ evictions */

static void evict(struct pf_run *r, uint64_t e, bool by_prefetch)
{
    struct port_mem *pm = &r->mem->base;
    uint64_t poison = SIM_MEM_POISON_FP;
    r->out->inv[SIM_PF_INV_EVICT_CHECKED]++;
    if (vm_bitmap_test(r->unused, e)) {
        /* a prefetch may not push out what a prefetch brought and the
         * guest has not used; demand paging may (the prefetch was wasted) */
        if (by_prefetch)
            r->out->inv[SIM_PF_INV_EVICT_UNUSED]++;
        vm_bitmap_clear(r->unused, e);
    }
    r->expect[e] = sim_mem_fp(r->mem, e);
    /* its next use is compared again (and the poison is not: an install
     * over a page already compared would be) */
    if (r->mem->rs_checked)
        vm_bitmap_clear(r->mem->rs_checked, e);
    port_mem_set_trace(pm, e, 1, PORT_MEM_TRACE_NONE);
    port_mem_write(pm, e, 1, &poison);
    port_mem_set_present(pm, e, 1, false);
    r->evictions++;
}

/* After evictions: KVM's MMU notifier zaps the frames' EPT entries and
 * flushes the guest's TLBs (kvm_flush_remote_tlbs(): INVEPT
 * single-context, which drops every translation cached for the VM, the
 * combined GVA -> host ones included), so every vCPU's next access to any
 * page walks the guest's tables again.  That keeps every software-TLB
 * entry backed by resident table frames (a walk that reads an evicted
 * table frame faults on it), and it is what makes the walks set the
 * table frames' accessed bits as often as on a real host. */
static void flush_evicted(struct pf_run *r, uint32_t nr_evicted)
{
    if (nr_evicted)
        sim_mem_tlb_flush(r->mem, UINT32_MAX);
}

/* ------------------------------------------------------------ kswapd */

/* A batch's write-back: one request standing for one I/O per run of
 * neighbouring slots; its frames are free when it ends. */
struct kwio {
    struct port_blk_req req;
    struct pf_run *r;
};

static void kwio_done(struct port_blk_req *req, int rc)
{
    struct kwio *w = req->data;
    struct pf_run *r = w->r;
    (void)rc;                          /* the content went to the slots at eviction */
    hostmem_writeback_end(r->hm, w->req.nr_blocks);
    r->ios_pending--;
    free(w);
    sim_waitq_wake_all(r->ks_wq);      /* free frames: balanced yet? */
}

/* Batches until free plus under write-back is at high (or nothing is
 * left to take); each batch's writes submitted without waiting. */
static int kswapd_balance(struct pf_run *r)
{
    struct hostmem_admission *a = r->ks_adm;
    while (!r->ks_stop && hostmem_kswapd(r->hm, HOSTMEM_KSWAPD_BATCH, a) > 0) {
        for (uint32_t i = 0; i < a->nr_evicted; i++) {
            /* an unused prefetch's frame is owed to demand (audit_owed) */
            r->ks_owed += vm_bitmap_test(r->unused, a->evicted[i]);
            evict(r, a->evicted[i], false);
        }
        flush_evicted(r, a->nr_evicted);
        r->ks_evictions += a->nr_evicted;
        if (store_writes(r, a, true) < 0)
            return VM_ENOMEM;
        if (!a->nr_writes)
            continue;                  /* clean pages: free at once */
        struct kwio *w = calloc(1, sizeof *w);
        if (!w)
            return VM_ENOMEM;
        w->r = r;
        write_req(r, a, &w->req, kwio_done, w);
        r->write_blocks += a->nr_writes;
        r->ks_write_ios += w->req.nr_ios;
        r->ios_pending++;
        int rc = sim_disk_submit_timing(r->disk, &w->req);   /* lets others run */
        if (rc < 0) {
            r->ios_pending--;
            hostmem_writeback_end(r->hm, w->req.nr_blocks);
            free(w);
            return rc;
        }
    }
    return 0;
}

/* kswapd: asleep until a fault takes memory to low; awake, it balances,
 * and sleeps again once free is at high (kswapd_try_to_sleep). */
static void kswapd_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct pf_run *r = sg_actor_self_get_data();
    while (!r->ks_stop) {
        uint64_t t = sim_waitq_ticket(r->ks_wq);
        if (r->ks_awake && hostmem_nr_free(r->hm) >= hostmem_wmarks(r->hm)->high)
            r->ks_awake = false;
        if (r->ks_awake) {
            int rc = kswapd_balance(r);
            if (rc < 0 && !r->io_error)
                r->io_error = rc;      /* the vCPUs fail the run */
        }
        if (!r->ks_stop)
            sim_waitq_wait_ticket(r->ks_wq, t);
    }
}

static int kswapd_start(struct pf_run *r, struct vm_diag *d)
{
    if (!(r->ks_adm = malloc(sizeof *r->ks_adm)) || !(r->ks_wq = sim_waitq_new()))
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    r->ks_actor = sg_actor_init("kswapd", r->host);
    sg_actor_set_data(r->ks_actor, r);
    sg_actor_ref(r->ks_actor);
    sg_actor_start(r->ks_actor, kswapd_main, 0, NULL);
    return 0;
}

/* A fault took memory to low (wakeup_kswapd), once its CPU work is done. */
static int kswapd_wake(struct pf_run *r, void *arg)
{
    (void)arg;
    r->ks_awake = true;
    sim_waitq_wake_all(r->ks_wq);
    return 0;
}

static void kswapd_wake_drop(void *arg)
{
    (void)arg;
}

void pf_swap_stop(struct pf_run *r)
{
    if (!r->ks_actor)
        return;
    r->ks_stop = true;
    sim_waitq_wake_all(r->ks_wq);
    sg_actor_join(r->ks_actor, -1);
    sg_actor_unref(r->ks_actor);
    r->ks_actor = NULL;
}

void pf_swap_report(struct pf_run *r)
{
    if (!r->hm || r->cfg->reclaim != HOSTMEM_RECLAIM_KSWAPD)
        return;                        /* memcg: every eviction is a fault's */
    sim_outcome_set(r->out, SIM_PF_M_WRITEBACK_WAITS, (double)r->wb_waits);
    sim_outcome_set(r->out, SIM_PF_M_DIRECT_EVICTIONS, (double)r->direct_evictions);
    sim_outcome_set(r->out, SIM_PF_M_KSWAPD_EVICTIONS, (double)r->ks_evictions);
    sim_outcome_set(r->out, SIM_PF_M_KSWAPD_WRITE_IOS, (double)r->ks_write_ios);
}

/* ------------------------------------------------------------ faults */

/* The prefetch rule under kswapd, audited apart from hostmem's choice: a
 * frame kswapd freed from an unused prefetch is the faulting frames'
 * (the first free frame a fault takes), and an admission's prefetches
 * take free frames only down to min plus those; one more is a prefetch
 * that pushed out an unused prefetch through kswapd.  free0: the free
 * frames before the admission a. */
static void audit_owed(struct pf_run *r, const struct hostmem_admission *a, uint64_t free0)
{
    uint64_t from_free = a->nr_admitted - a->nr_evicted;   /* direct reclaim: 1 for 1 */
    uint64_t free = free0;
    if (!a->demand_evict) {            /* the faulting frame took a free one */
        free--;
        from_free--;
        r->ks_owed -= r->ks_owed > 0;
    }
    uint64_t floor = hostmem_wmarks(r->hm)->min + r->ks_owed;
    uint64_t allowed = free > floor ? free - floor : 0;
    if (from_free > allowed)
        r->out->inv[SIM_PF_INV_EVICT_UNUSED] += from_free - allowed;
}

int pf_swap_fault(struct pf_run *r, struct pf_exit *x, uint64_t gpa, uint64_t *answer,
                  uint32_t n, uint64_t *cpu_ns, bool *own_fetch)
{
    uint64_t batch[HOSTMEM_MAX_BATCH], keys[HOSTMEM_MAX_BATCH];
    uint32_t nb = 0;
    for (uint32_t i = 0; i < n && nb < HOSTMEM_MAX_BATCH; i++) {
        uint64_t p = answer[i];
        if (p >= r->nr_pages)
            continue;
        r->out->inv[SIM_PF_INV_FETCH_CHECKED]++;
        if (sim_mem_test(r->mem, SIM_MEM_PRESENT, p) || hostmem_is_resident(r->hm, p)) {
            r->out->inv[SIM_PF_INV_FETCH_PRESENT]++;
            continue;
        }
        if (vm_bitmap_test(r->inflight, p))
            continue;
        if (i > 0 && nb == 0)
            continue;                  /* the faulting frame leads the batch */
        batch[nb++] = p;
    }
    if (!nb || batch[0] != gpa)
        return VM_EINVAL;              /* the policy left out the faulting frame */
    uint64_t room = hostmem_room(r->hm);
    if (room < 1)
        room = 1;
    if (nb > room)
        nb = (uint32_t)room;
    uint64_t free0 = hostmem_nr_free(r->hm);
    int rc = hostmem_admit(r->hm, batch, nb, r->adm);
    if (rc < 0)
        return rc;
    struct hostmem_admission *a = r->adm;
    bool wake = a->wake_kswapd;
    if (r->ks_actor)
        audit_owed(r, a, free0);
    for (uint32_t i = 0; i < a->nr_evicted; i++)
        evict(r, a->evicted[i], !(a->demand_evict && i == 0));
    flush_evicted(r, a->nr_evicted);
    r->direct_evictions += a->nr_evicted;
    if ((rc = store_writes(r, a, true)) < 0)
        return rc;
    struct wio *w = prepare_writes(r, x, a, &rc);
    if (rc < 0)
        return rc;
    r->wb_waits += w != NULL;
    uint32_t nk = 0, k = 0;
    for (uint32_t i = 0; i < a->nr_admitted; i++) {
        if (i > 0)
            r->prefetched++;
        /* reads[] lists the admitted frames that have a slot, in order */
        bool read = k < a->nr_reads && a->reads[k].frame == batch[i];
        uint64_t slot = read ? a->reads[k++].slot : 0;
        if (!read) {                   /* never touched: a zero page, no I/O */
            pf_install(r, batch[i], r->expect[batch[i]], i > 0);
            *cpu_ns += r->cfg->costs.install_ns;
            continue;
        }
        *own_fetch |= i == 0;
        keys[nk++] = slot << 32 | i;
    }
    /* the reads first: their frames are marked before any simcall (a
     * submit lets other vCPUs run); then the evictions' writes */
    rc = nk ? pf_fetch(r, batch, keys, nk, gpa, r->st.lba0) : 0;
    int wrc = w ? pf_defer(r, submit_writes, drop_writes, w) : 0;
    if (wake && rc == 0 && wrc == 0)
        wrc = pf_defer(r, kswapd_wake, kswapd_wake_drop, r);
    return rc < 0 ? rc : wrc;
}

bool pf_swap_traced(struct pf_run *r, uint64_t gpa, bool is_write)
{
    struct port_mem *pm = &r->mem->base;
    bool slot = hostmem_slot_of(r->hm, gpa) != HOSTMEM_NONE;
    if (is_write) {
        hostmem_write(r->hm, gpa);
        port_mem_set_trace(pm, gpa, 1, PORT_MEM_TRACE_NONE);
        return slot;
    }
    hostmem_use(r->hm, gpa);
    port_mem_set_trace(pm, gpa, 1, slot ? PORT_MEM_TRACE_WRITE : PORT_MEM_TRACE_NONE);
    return false;
}

void pf_swap_free(struct pf_run *r)
{
    if (r->hm)
        hostmem_free(r->hm);
    free(r->adm);
    free(r->ks_adm);
    if (r->ks_wq)
        sim_waitq_free(r->ks_wq);
}
