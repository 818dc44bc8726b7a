/*
 * sim_pf_fault.c - the prefault mechanism's fault path: a vCPU's access to
 * an absent guest frame asks the policy which frames to bring in, the
 * world checks its answer, installs zero pages at once, and reads the
 * others from the backing store, the faulting page's run of contiguous
 * slots as one I/O the vCPU waits for and the other runs as one vectored
 * request it does not wait for (the kernel's swap readahead does the
 * same: the faulting page's bio is waited on, readahead pages arrive in
 * the swap cache).  A prefetched page is installed read-traced so that the
 * guest's first use shows (the policy's hit(), Linux's swap-cache hit).
 */
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "hostmem/hostmem.h"
#include "prefault/sim_pf_int.h"
#include "sim_disk.h"
#include "sim_world.h"

/* ------------------------------------------------------------ backing port */

static uint64_t st_nr_frames(const struct port_backing *b)
{
    return ((const struct pf_store *)b)->nr_frames;
}

static uint64_t st_nr_slots(const struct port_backing *b)
{
    return ((const struct pf_store *)b)->nr_slots;
}

static bool st_is_resident(const struct port_backing *b, uint64_t frame)
{
    const struct pf_store *st = (const struct pf_store *)b;
    return frame < st->nr_frames && sim_mem_test(st->r->mem, SIM_MEM_PRESENT, frame);
}

static uint64_t st_slot_of(const struct port_backing *b, uint64_t frame)
{
    const struct pf_store *st = (const struct pf_store *)b;
    if (frame >= st->nr_frames || st->slot_of[frame] == PF_NO_SLOT)
        return PORT_BACKING_NONE;
    return st->slot_of[frame];
}

static uint64_t st_frame_of(const struct port_backing *b, uint64_t slot)
{
    const struct pf_store *st = (const struct pf_store *)b;
    if (slot >= st->nr_slots || st->frame_of[slot] == UINT32_MAX)
        return PORT_BACKING_NONE;
    return st->frame_of[slot];
}

static const struct port_backing_ops store_ops = {
    .version = PORT_BACKING_VERSION,
    .name = "sim-pf",
    .nr_frames = st_nr_frames,
    .nr_slots = st_nr_slots,
    .is_resident = st_is_resident,
    .slot_of = st_slot_of,
    .frame_of = st_frame_of,
};

void pf_store_init(struct pf_store *st, struct pf_run *r)
{
    st->base.ops = &store_ops;
    st->r = r;
}

/* ------------------------------------------------------------ installs */

void pf_install(struct pf_run *r, uint64_t f, uint64_t fp, bool prefetched)
{
    struct port_mem *pm = &r->mem->base;
    port_mem_write(pm, f, 1, &fp);
    port_mem_set_present(pm, f, 1, true);
    if (prefetched) {
        vm_bitmap_set(r->unused, f);
        port_mem_set_trace(pm, f, 1, PORT_MEM_TRACE_RW);
    } else if (r->hm && hostmem_slot_of(r->hm, f) != HOSTMEM_NONE) {
        port_mem_set_trace(pm, f, 1, PORT_MEM_TRACE_WRITE);   /* swap cache: mapped read-only */
    }
}

/* One fetch on its way: a request and the frames it carries. */
struct pf_io {
    struct port_blk_req req;
    struct pf_run *r;
    uint64_t faulting;                 /* the frame a vCPU waits for, or UINT64_MAX */
    uint32_t n;
    uint64_t *frames;                  /* n, in the request's block order */
    uint64_t *fps;                     /* n: what the read returns */
    uint64_t *lbas;                    /* vectored: nr_ios starts */
    uint32_t *io_blocks;               /* vectored: nr_ios lengths */
};

static void io_free(struct pf_io *io)
{
    if (!io)
        return;
    free(io->frames);
    free(io->fps);
    free(io->lbas);
    free(io->io_blocks);
    free(io);
}

static void io_done(struct port_blk_req *req, int rc)
{
    struct pf_io *io = req->data;
    struct pf_run *r = io->r;
    r->ios_pending--;
    for (uint32_t i = 0; i < io->n; i++) {
        uint64_t f = io->frames[i];
        vm_bitmap_clear(r->inflight, f);
        if (r->hm)
            hostmem_unlock(r->hm, f);
        if (rc < 0)
            continue;                  /* the vCPU that waits for it fails the run */
#ifdef SIM_PF_TEST_MUTANT
        if (sim_pf_test_mutant("skip-install")) {
            /* the mutation: the page is made present without its content */
            port_mem_set_present(&r->mem->base, f, 1, true);
            continue;
        }
#endif
        pf_install(r, f, io->fps[i], f != io->faulting);
    }
    if (rc < 0 && !r->io_error)
        r->io_error = rc;
    /* installs of pages read ahead are the I/O thread's CPU, not the vCPU's */
    r->hv_cpu_ns += (uint64_t)io->n * r->cfg->costs.install_ns;
    io_free(io);
}

/* A fetch that will not happen: its frames are no longer on their way. */
static void unmark(struct pf_run *r, const struct pf_io *io)
{
    for (uint32_t m = 0; m < io->n; m++) {
        vm_bitmap_clear(r->inflight, io->frames[m]);
        if (r->hm)
            hostmem_unlock(r->hm, io->frames[m]);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int submit_io(struct pf_run *r, void *arg);
static void drop_io(void *arg);

/* The run holding `faulting` as one request, the other runs of
 * consecutive slots as one vectored request. */
int pf_fetch(struct pf_run *r, const uint64_t *frames, uint64_t *keys, uint32_t n,
             uint64_t faulting, uint64_t lba0)
{
    qsort(keys, n, sizeof *keys, cmp_u64);
    struct pf_io *sync = NULL, *rest = NULL;
    uint32_t i = 0;
    int rc = 0;
    while (i < n && rc == 0) {
        uint32_t j = i + 1;
        while (j < n && (keys[j] >> 32) == (keys[j - 1] >> 32) + 1 &&
               j - i < r->max_io_pages)
            j++;
        bool has_fault = false;
        for (uint32_t k = i; k < j; k++)
            has_fault |= frames[(uint32_t)keys[k]] == faulting;
        struct pf_io **slot = has_fault ? &sync : &rest;
        if (!*slot) {
            struct pf_io *io = calloc(1, sizeof *io);
            if (!io || !(io->frames = malloc(n * sizeof *io->frames)) ||
                !(io->fps = malloc(n * sizeof *io->fps)) ||
                !(io->lbas = malloc(n * sizeof *io->lbas)) ||
                !(io->io_blocks = malloc(n * sizeof *io->io_blocks))) {
                io_free(io);
                rc = VM_ENOMEM;
                break;
            }
            io->r = r;
            io->faulting = has_fault ? faulting : UINT64_MAX;
            *slot = io;
        }
        struct pf_io *io = *slot;
        io->lbas[io->req.nr_ios] = lba0 + (keys[i] >> 32);
        io->io_blocks[io->req.nr_ios] = j - i;
        io->req.nr_ios++;
        for (uint32_t k = i; k < j; k++)
            io->frames[io->n++] = frames[(uint32_t)keys[k]];
        i = j;
    }
    struct pf_io *ios[2] = { sync, rest };
    /* every frame is marked on its way (and locked against eviction)
     * before the first submit: a submit is a simcall, and other vCPUs may
     * run before this one goes on */
    for (int k = 0; k < 2 && rc == 0; k++)
        for (uint32_t m = 0; ios[k] && m < ios[k]->n; m++) {
            vm_bitmap_set(r->inflight, ios[k]->frames[m]);
            if (r->hm)
                hostmem_lock(r->hm, ios[k]->frames[m]);   /* not evicted under its read */
        }
    bool marked = rc == 0;
    for (int k = 0; k < 2; k++) {
        struct pf_io *io = ios[k];
        if (!io)
            continue;
        if (rc < 0) {
            if (marked)
                unmark(r, io);
            io_free(io);
            continue;
        }
        rc = pf_defer(r, submit_io, drop_io, io);
    }
    return rc;
}

int pf_defer(struct pf_run *r, int (*fn)(struct pf_run *r, void *arg), void (*drop)(void *arg),
             void *arg)
{
    struct pf_exit *x = r->defer_to;
    if (!x)
        return fn(r, arg);
    if (x->nr_deferred == x->deferred_cap) {
        uint32_t cap = x->deferred_cap ? 2 * x->deferred_cap : 8;
        struct pf_deferred *d = realloc(x->deferred, cap * sizeof *d);
        if (!d) {
            drop(arg);
            return VM_ENOMEM;
        }
        x->deferred = d;
        x->deferred_cap = cap;
    }
    x->deferred[x->nr_deferred++] = (struct pf_deferred){ .submit = fn, .drop = drop, .arg = arg };
    return 0;
}

void pf_defer_drop(struct pf_exit *x)
{
    for (uint32_t i = 0; i < x->nr_deferred; i++)
        x->deferred[i].drop(x->deferred[i].arg);
    x->nr_deferred = 0;
    free(x->deferred);
    x->deferred = NULL;
}

static void drop_io(void *arg)
{
    io_free(arg);
}

/* Submit one prepared read (its frames are marked on their way). */
static int submit_io(struct pf_run *r, void *arg)
{
    struct pf_io *io = arg;
    io->req.op = PORT_BLK_READ;
    io->req.lba = io->lbas[0];
    io->req.nr_blocks = io->n;
    io->req.fps = io->fps;
    if (io->req.nr_ios > 1) {
        io->req.lbas = io->lbas;
        io->req.io_blocks = io->io_blocks;
    } else {
        io->req.nr_ios = 1;
    }
    io->req.cb = io_done;
    io->req.data = io;
    r->read_ios += io->req.nr_ios;
    r->read_blocks += io->n;
    r->ios_pending++;
    int rc = port_blk_submit(sim_disk_port(r->disk), &io->req);
    if (rc < 0) {
        r->ios_pending--;
        unmark(r, io);
        io_free(io);
    }
    return rc;
}

/* ------------------------------------------------------------ the hook */

/* Policy work since the last charge, as time (walks, decodes). */
static uint64_t charge_policy(struct pf_run *r)
{
    const struct prefault_stats *s = prefault_stats(r->ps);
    uint64_t ns = (s->entries - r->charged.entries) * r->cfg->costs.walk_entry_ns +
                  (s->decodes - r->charged.decodes) * r->cfg->costs.decode_ns;
    r->charged = *s;
    return ns;
}

/* Where a policy's compact copy (PREFAULT_ANS_CONTIGUOUS) keeps frame p:
 * the copy is written at suspend time next to the image, in the order the
 * policy reads it, from the image's content (REAP's working-set file,
 * Halite's locality blocks).  Position in the copy, or UINT64_MAX when
 * the copy area is full. */
static uint64_t copy_put(struct pf_run *r, uint64_t p)
{
    if (r->copy_next >= r->copy_cap)
        return UINT64_MAX;
    struct vm_fpstore *store = sim_disk_store(r->disk);
    uint64_t fp;
    if (vm_fpstore_get(store, r->st.lba0 + r->st.slot_of[p], 1, &fp) < 0 ||
        vm_fpstore_put(store, r->copy_lba0 + r->copy_next, 1, &fp) < 0)
        return UINT64_MAX;
    return r->copy_next++;
}

/* The vCPU of x waits for frame p too before it goes on (REAP installs its
 * whole working set before the vCPU resumes). */
static int wait_for(struct pf_exit *x, uint64_t p)
{
    if (x->nwait == x->wait_cap) {
        uint32_t cap = x->wait_cap ? 2 * x->wait_cap : 1024;
        uint64_t *w = realloc(x->wait, cap * sizeof *w);
        if (!w)
            return VM_ENOMEM;
        x->wait = w;
        x->wait_cap = cap;
    }
    x->wait[x->nwait++] = p;
    return 0;
}

/* One call's answer (fault() or bulk()): each frame checked absent, zero
 * pages installed at once, the others fetched, from the image's slots, the
 * policy's compact copy, or the migration source.  A bulk call's frames
 * are waited for by the faulting vCPU. */
static int take(struct pf_exit *x, uint64_t gpa, uint64_t *frames, uint32_t n, unsigned flags,
                bool bulk, uint64_t *cpu, bool *own)
{
    struct pf_run *r = x->r;
    uint64_t keys[PREFAULT_MAX_PAGES];
    bool copy = (flags & PREFAULT_ANS_CONTIGUOUS) && r->copy_cap && !r->pc_port;
    uint32_t nk = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t p = frames[i];
        if (p >= r->nr_pages)
            continue;
        r->out->inv[SIM_PF_INV_FETCH_CHECKED]++;
        if (sim_mem_test(r->mem, SIM_MEM_PRESENT, p)) {
            r->out->inv[SIM_PF_INV_FETCH_PRESENT]++;   /* the policy asked for a resident page */
            continue;
        }
        if (vm_bitmap_test(r->inflight, p))
            continue;                  /* already on its way */
        if (p != gpa)
            r->prefetched++;
        if (r->st.slot_of[p] == PF_NO_SLOT) {
            /* a zero page: installed now, no I/O (UFFDIO_ZEROPAGE) */
            pf_install(r, p, r->expect[p], p != gpa);
            *cpu += r->cfg->costs.install_ns;
            continue;
        }
        *own |= p == gpa;
        if (bulk && wait_for(x, p) < 0)
            return VM_ENOMEM;
        if (r->pc_port) {              /* post-copy: ask the source */
            keys[nk++] = p;
            continue;
        }
        uint64_t pos = copy ? copy_put(r, p) : UINT64_MAX;
        if (copy && pos == UINT64_MAX) {
            /* the copy area is full: what is keyed so far comes from the
             * copy, the rest from the image */
            int rc = nk ? pf_fetch(r, frames, keys, nk, gpa, r->copy_lba0) : 0;
            if (rc < 0)
                return rc;
            nk = 0;
            copy = false;
        }
        keys[nk++] = (copy ? pos : r->st.slot_of[p]) << 32 | i;
    }
    if (!nk)
        return 0;
    if (r->pc_port)
        return pf_postcopy_request(r, keys, nk, gpa);
    return pf_fetch(r, frames, keys, nk, gpa, copy ? r->copy_lba0 : r->st.lba0);
}

/* A fault on absent frame gpa by the vCPU of x: ask the policy, check its
 * answer, install zero pages, start the fetches; its CPU time into cpu. */
static int start_fault(struct pf_exit *x, uint64_t gpa, uint64_t *cpu)
{
    struct pf_run *r = x->r;
    uint64_t answer[PREFAULT_MAX_PAGES];
    /* A fault of the walk on a table frame takes KVM's path for any guest
     * frame (the same EPT violation, the same swap-in or userfault), so
     * the policy sees it like any fault.  Hardware reports the linear
     * address being translated (exit qualification bit 7 set, bit 8
     * clear: a paging-structure access; KVM's PFERR_GUEST_PAGE_MASK), and
     * no guest-virtual page maps the table frame: the policy is told no
     * GVA, so the GVA policies bring the table in alone (fault-only,
     * counted in no_gva) and the guest-physical and slot policies read
     * around it as around any frame. */
    struct prefault_fault f = {
        .gfn = gpa,
        .gva = x->v->fault_gva_page << 12,
        .gva_known = !x->v->fault_walk,
        .as = sim_mem_as(r->mem, x->v->asid),
        .tables = &r->reader,
    };
    uint32_t n = r->pol->fault(r->ps, &f, answer);
    unsigned flags = prefault_answer_flags(r->ps);
    *cpu += charge_policy(r);
    bool own = false;
    int rc = 0;
    if (flags & PREFAULT_ANS_TEST_NO_FETCH) {
        /* a deliberately broken policy (test only): the faulting page is
         * made present without its content, which the content check sees */
        port_mem_set_present(&r->mem->base, gpa, 1, true);
    } else if (r->hm) {
        rc = pf_swap_fault(r, x, gpa, answer, n, cpu, &own);
    } else {
        rc = take(x, gpa, answer, n, flags, false, cpu, &own);
        /* the rest of the set, a call at a time (REAP's working set) */
        while (rc == 0 && (n = prefault_bulk(r->ps, answer)) > 0)
            rc = take(x, gpa, answer, n, prefault_answer_flags(r->ps), true, cpu, &own);
    }
    *cpu += charge_policy(r);
    x->major = own;
    if (own) {
        r->major++;
        r->table_faults += x->v->fault_walk;
    } else {
        r->minor++;
    }
    return rc;
}

/* Charge the vCPU of a fault ns of hypervisor CPU on its own path. */
static void charge(struct pf_run *r, uint64_t *cost_ns, uint64_t ns)
{
    *cost_ns += ns;
    r->vcpu_cpu_ns += ns;
    r->hv_cpu_ns += ns;
}

/* The first use of a resident page the vCPU could not touch freely: a
 * prefetched page (read-traced at install) or, under host swap, a page in
 * the swap cache written for the first time (write-protected while it
 * keeps its slot).  Each is a real fault: a swap-cache hit or do_wp_page
 * in the host kernel, or the EPT violation that maps a page the
 * hypervisor installed with UFFDIO_COPY.  The hit goes to the policy. */
static void first_use(struct pf_run *r, uint64_t gpa, bool is_write, uint64_t *cost_ns)
{
    bool hit = vm_bitmap_test(r->unused, gpa), wp = false;
    if (r->hm)
        wp = pf_swap_traced(r, gpa, is_write);
    else
        port_mem_set_trace(&r->mem->base, gpa, 1, PORT_MEM_TRACE_NONE);
    if (hit) {
        vm_bitmap_clear(r->unused, gpa);
        r->used++;
        if (r->pol->hit)
            r->pol->hit(r->ps, gpa);
    }
    if (hit || wp) {
        charge(r, cost_ns, r->cfg->costs.kernel_fault_ns);
        r->minor++;
        r->faults++;
    }
}

/* Whether everything the vCPU's fault waits for is in: its page, a bulk
 * answer's pages, the write-back of the frames it took. */
static bool fault_done(struct pf_exit *x, uint64_t gpa)
{
    struct pf_run *r = x->r;
    if (!sim_mem_test(r->mem, SIM_MEM_PRESENT, gpa) || x->writes_pending)
        return false;
    while (x->wcur < x->nwait && sim_mem_test(r->mem, SIM_MEM_PRESENT, x->wait[x->wcur]))
        x->wcur++;
    return x->wcur == x->nwait;
}

int pf_fault_hook(void *arg, uint64_t gpa, bool is_write, int kind, uint64_t *cost_ns)
{
    struct pf_exit *x = arg;
    struct pf_run *r = x->r;
    uint64_t cost_in = *cost_ns;
#ifdef SIM_PF_TEST_MUTANT
    if (x->v->fault_walk && kind == SIM_MEM_FAULT_ABSENT &&
        sim_pf_test_mutant("walk-skips-table"))
        return 0;   /* the mutation: the walk reads an absent table frame as it is */
#endif
    if (kind == SIM_MEM_FAULT_TRACE) {
        first_use(r, gpa, is_write, cost_ns);
        return 0;
    }
    uint64_t now = sim_now_ns() + sim_vcpu_ahead_ns(x->v);
    if (!x->in_fault) {
        x->in_fault = true;
        x->started = false;
        x->major = false;
        x->start_ns = now;
        x->nwait = x->wcur = 0;
        r->faults++;
        /* the exit and its handler: the kernel's fault path under host
         * swap, a round trip through the user-space handler otherwise */
        uint64_t entry = r->hm ? r->cfg->costs.kernel_fault_ns : r->cfg->costs.uffd_fault_ns;
        charge(r, cost_ns, entry);
        now += entry;
    }
again:
    if (!x->started) {
        if (vm_bitmap_test(r->inflight, gpa) || sim_mem_test(r->mem, SIM_MEM_PRESENT, gpa)) {
            r->minor++;                /* another vCPU's fetch brings it */
        } else if (r->hm && !hostmem_can_admit(r->hm)) {
            return VM_EAGAIN;          /* every host frame is under a read: wait for one */
        } else {
            uint64_t cpu = 0;
            r->defer_to = x;
            int rc = start_fault(x, gpa, &cpu);
            r->defer_to = NULL;
            charge(r, cost_ns, cpu);
            now += cpu;
            if (rc < 0) {
                x->in_fault = false;
                return rc;
            }
        }
        x->started = true;
    }
    if (x->nr_deferred) {
        /* the handler's CPU work first: the vCPU sleeps what it is ahead
         * of the clock (this call's charges included), then calls again */
        if (sim_vcpu_ahead_ns(x->v) + (*cost_ns - cost_in))
            return VM_EAGAIN;
        uint32_t n = x->nr_deferred;
        x->nr_deferred = 0;
        for (uint32_t i = 0; i < n; i++) {
            int rc = x->deferred[i].submit(r, x->deferred[i].arg);
            if (rc < 0 && !r->io_error)
                r->io_error = rc;
        }
    }
    if (r->io_error) {
        x->in_fault = false;
        return r->io_error;
    }
    if (!sim_mem_test(r->mem, SIM_MEM_PRESENT, gpa) && !vm_bitmap_test(r->inflight, gpa)) {
        /* it came in and was evicted again before this vCPU ran (the page
         * was not used yet, so its accessed bit was clear): the fault
         * starts over, as a kernel fault handler retries */
        x->started = false;
        goto again;
    }
    if (!fault_done(x, gpa))
        return VM_EAGAIN;              /* woken by an I/O completion */
    if (x->major) {
        charge(r, cost_ns, r->cfg->costs.install_ns);
        now += r->cfg->costs.install_ns;
    } else if (vm_bitmap_test(r->unused, gpa)) {
        /* it came in as another fault's prefetch: this access uses it */
        vm_bitmap_clear(r->unused, gpa);
        if (!r->hm)
            port_mem_set_trace(&r->mem->base, gpa, 1, PORT_MEM_TRACE_NONE);
        r->used++;
        if (r->pol->hit)
            r->pol->hit(r->ps, gpa);
    }
    /* the access goes on without a trace exit: a write fault maps the page
     * writable and frees its swap slot (do_swap_page), a read leaves it
     * write-protected in the swap cache */
    if (r->hm)
        pf_swap_traced(r, gpa, is_write);
    x->in_fault = false;
    vm_hist_add(&r->fault_lat, now - x->start_ns);
    if (r->pc_late)                    /* post-copy under network faults (sim_pf_net.c) */
        r->pc_net_stall_ns += r->pc_late[gpa] < now - x->start_ns ? r->pc_late[gpa]
                                                                  : now - x->start_ns;
    return 0;
}
