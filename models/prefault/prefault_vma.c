/*
 * prefault_vma.c - Linux VMA-based swap readahead (mm/swap_state.c
 * swap_vma_readahead() and swap_ra_info(), Linux 4.14 .. 6.x; Huang
 * Ying's series, commit 61b639723be5): read ahead the *virtual*
 * neighbours of the faulting address instead of its swap-slot neighbours.
 *
 * Window (swap_ra_info(), swap_vma_ra_win() in Linux 6.x): win = __swapin_nr_pages(previous fault's page,
 * this page, readahead hits since, 2^min(page-cluster, 5), previous win);
 * the previous fault and the hits are kept per VMA and reset at each
 * fault.  Placement: after a fault on the page just below, the window
 * runs forward from the fault; after one just above, backward; otherwise
 * it is centred ((win - 1) / 2 pages before).  It is clipped to the VMA
 * and to the 2 MiB region of one last-level page table (PMD), and every
 * absent page mapped in it is read.
 *
 * Space: the kernel sees the host's virtual addresses.  A VM's memory is
 * one VMA of the VMM's process, so for host swap of a guest the
 * "virtual" neighbours are guest-physical frames: "gpa" (the default) is
 * what Linux does under a VM.  "gva" runs the same algorithm on the
 * guest's own virtual addresses through its page tables, as if the host
 * could see them (one window per address space); it is the nearest
 * baseline to the adaptive GVA window; it reads only the table frames
 * f->tables allows (the window stays in the faulting page's last-level
 * table, which the faulting walk has just read).
 * Not modelled: several VMAs per guest (guest RAM is one), the kernel's
 * per-VMA atomic packing of the state.
 */
#include <stdlib.h>

#include "prefault/prefault.h"

struct vma_ra {
    struct prefault_state s;         /* first */
    uint64_t prev_pfn;               /* SWAP_RA_ADDR: page of the previous fault */
    uint32_t prev_win;               /* SWAP_RA_WIN */
    uint32_t hits;                   /* SWAP_RA_HITS */
    const struct guest_as *prev_as;  /* gva space: whose window it is */
    struct guest_xlat xl[64];
};

static const struct vm_param vma_params[] = {
    { "page_cluster", VM_PARAM_U32, offsetof(struct prefault_cfg, page_cluster),
      .min = 0, .max = 9, .def = "3",
      .help = "log2 of the largest window (capped at 5, SWAP_RA_ORDER_CEILING)" },
    { "space", VM_PARAM_ENUM, offsetof(struct prefault_cfg, space), .choices = "gpa|gva",
      .def = "gpa", .help = "the host's view (guest frames) or the guest's virtual pages" },
    { NULL }
};

static int vma_start(const struct prefault_cfg *cfg, const struct prefault_env *env,
                     struct prefault_state **out, struct vm_diag *d)
{
    if (cfg->page_cluster > 9)
        return vm_diag_set(d, VM_EINVAL, "'page_cluster' %u: expected integer 0..9",
                           cfg->page_cluster);
    struct vma_ra *v = (struct vma_ra *)prefault_state_new(sizeof *v, &prefault_vma_policy,
                                                           cfg, env);
    if (!v)
        return VM_ENOMEM;
    *out = &v->s;
    return 0;
}

static uint32_t vma_fault(struct prefault_state *s, const struct prefault_fault *f,
                          uint64_t *out)
{
    struct vma_ra *v = (struct vma_ra *)s;
    bool gva = s->cfg.space == 1;
    uint32_t n = prefault_answer_begin(s, f->gfn, out);
    unsigned order = s->cfg.page_cluster < PREFAULT_VMA_ORDER_CEILING ?
                     s->cfg.page_cluster : PREFAULT_VMA_ORDER_CEILING;
    uint32_t max_win = 1u << order;
    if (max_win == 1)
        return n;
    if (gva && (!f->gva_known || !f->as)) {
        s->st.no_gva++;
        return n;
    }
    uint64_t fpfn = gva ? f->gva >> GUEST_PAGE_SHIFT : f->gfn;
    if (gva && f->as != v->prev_as) {    /* another process: another VMA */
        v->prev_as = f->as;
        v->prev_pfn = 0;
        v->prev_win = 0;
        v->hits = 0;
    }
    uint64_t pfn = v->prev_pfn;
    uint32_t win = prefault_linux_ra_pages(pfn, fpfn, v->hits, max_win, v->prev_win);
    v->prev_pfn = fpfn;
    v->prev_win = win;
    v->hits = 0;
    s->st.window = win;
    if (win == 1)
        return n;
    int64_t lpfn, rpfn;                  /* [lpfn, rpfn) */
    int64_t fp = (int64_t)fpfn;
    if (fpfn == pfn + 1) {
        lpfn = fp;
        rpfn = fp + win;
    } else if (pfn == fpfn + 1) {
        lpfn = fp - win + 1;
        rpfn = fp + 1;
    } else {
        int64_t left = (win - 1) / 2;
        lpfn = fp - left;
        rpfn = fp + win - left;
    }
    /* Clip to the PMD (512 pages) and, for gpa, to guest memory (the VMA). */
    int64_t pmd = fp & ~511ll;
    if (lpfn < pmd)
        lpfn = pmd;
    if (rpfn > pmd + 512)
        rpfn = pmd + 512;
    if (!gva) {
        int64_t nr = (int64_t)port_backing_nr_frames(s->env.backing);
        if (rpfn > nr)
            rpfn = nr;
        for (int64_t p = lpfn; p < rpfn; p++)
            if (p != fp)
                n = prefault_answer_add(s, (uint64_t)p, out, n);
        return n;
    }
    struct guest_walk_cost c = { 0, 0 };
    uint32_t got = guest_pt_xlat_range_rd(f->as, f->tables, (uint64_t)lpfn << GUEST_PAGE_SHIFT,
                                          (uint32_t)(rpfn - lpfn), v->xl, &c);
    s->st.walks += c.walks;
    s->st.entries += c.entries;
    for (uint32_t i = 0; i < got; i++)
        n = prefault_answer_add(s, v->xl[i].gfn, out, n);
    return n;
}

static void vma_hit(struct prefault_state *s, uint64_t gfn)
{
    s->st.hits++;
    ((struct vma_ra *)s)->hits++;
}

static void vma_destroy(struct prefault_state *s)
{
    free(s);
}

const struct prefault_policy prefault_vma_policy = {
    .name = "vma",
    .desc = "Linux VMA-based swap readahead: hit-adaptive window of virtual neighbours "
            "(guest frames under a VM), at most 2^page_cluster",
    .params = vma_params,
    .start = vma_start,
    .fault = vma_fault,
    .hit = vma_hit,
    .destroy = vma_destroy,
};
