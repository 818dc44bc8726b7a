/*
 * prefault_cluster.c - Linux swap cluster readahead (mm/swap_state.c
 * swap_cluster_readahead(), Linux 4.14 .. 6.x): on a fault, read the
 * aligned cluster of 2^page-cluster swap slots that holds the faulting
 * slot (vm.page-cluster, default 3: the aligned 8 slots), skipping free
 * slots and pages already in memory.
 *
 * Window: with `adaptive` (what the kernel does), the cluster size is
 * swapin_nr_pages(): the readahead hits since the last fault plus 2,
 * rounded up to a power of two, capped at 2^page-cluster, shrinking by at
 * most half per fault, and 1 (no readahead) after a non-adjacent fault
 * with no hits.  Without it, the fixed aligned 2^page-cluster slots.
 *
 * Space: "slot" is the kernel's (slots in the order the host swapped
 * pages out); "gpa" takes guest frames instead, for a backing store that
 * has no slot order of its own (a post-copy source, a GPA-ordered image).
 * Not modelled: slot 0 as the swap header (slots here start at the first
 * data page), swap device types, the per-CPU swap slot caches.
 */
#include <stdlib.h>

#include "prefault/prefault.h"

struct cluster {
    struct prefault_state s;         /* first */
    uint64_t prev_offset;            /* swapin_nr_pages()'s static prev_offset */
    uint32_t last_ra_pages;          /* its last_readahead_pages */
    uint32_t hits;                   /* swapin_readahead_hits */
};

static const struct vm_param cluster_params[] = {
    { "page_cluster", VM_PARAM_U32, offsetof(struct prefault_cfg, page_cluster),
      .min = 0, .max = 9, .def = "3",
      .help = "log2 of the cluster in slots (vm.page-cluster; 0 turns readahead off)" },
    { "adaptive", VM_PARAM_BOOL, offsetof(struct prefault_cfg, adaptive), .def = "true",
      .help = "size the cluster from readahead hits (swapin_nr_pages)" },
    { "space", VM_PARAM_ENUM, offsetof(struct prefault_cfg, space), .choices = "slot|gpa",
      .def = "slot", .help = "cluster swap slots (the kernel) or guest frames" },
    { NULL }
};

static int cluster_start(const struct prefault_cfg *cfg, const struct prefault_env *env,
                         struct prefault_state **out, struct vm_diag *d)
{
    if (cfg->page_cluster > 9)
        return vm_diag_set(d, VM_EINVAL, "'page_cluster' %u: expected integer 0..9",
                           cfg->page_cluster);
    struct cluster *c = (struct cluster *)prefault_state_new(sizeof *c,
                                                             &prefault_cluster_policy, cfg, env);
    if (!c)
        return VM_ENOMEM;
    *out = &c->s;
    return 0;
}

static uint32_t cluster_fault(struct prefault_state *s, const struct prefault_fault *f,
                              uint64_t *out)
{
    struct cluster *c = (struct cluster *)s;
    const struct port_backing *b = s->env.backing;
    bool slots = s->cfg.space == 0;
    uint32_t n = prefault_answer_begin(s, f->gfn, out);
    uint64_t offset = slots ? port_backing_slot_of(b, f->gfn) : f->gfn;
    uint64_t nr = slots ? port_backing_nr_slots(b) : port_backing_nr_frames(b);
    if (offset == PORT_BACKING_NONE || offset >= nr)
        return n;                    /* nothing on the store to read around */
    uint32_t max_pages = 1u << s->cfg.page_cluster;
    uint32_t win = max_pages;
    if (s->cfg.adaptive) {
        if (max_pages <= 1) {
            win = 1;
        } else {
            uint32_t hits = c->hits;
            c->hits = 0;
            win = prefault_linux_ra_pages(c->prev_offset, offset, hits, max_pages,
                                          c->last_ra_pages);
            if (!hits)
                c->prev_offset = offset;
            c->last_ra_pages = win;
        }
        s->st.window = win;
    }
    uint64_t mask = (uint64_t)win - 1;
    if (!mask)
        return n;
    uint64_t start = offset & ~mask, end = offset | mask;
    if (end >= nr)
        end = nr - 1;
    for (uint64_t o = start; o <= end; o++) {
        if (o == offset)
            continue;
        uint64_t g = slots ? port_backing_frame_of(b, o) : o;
        if (g != PORT_BACKING_NONE)
            n = prefault_answer_add(s, g, out, n);
    }
    return n;
}

static void cluster_hit(struct prefault_state *s, uint64_t gfn)
{
    s->st.hits++;
    ((struct cluster *)s)->hits++;
}

static void cluster_destroy(struct prefault_state *s)
{
    free(s);
}

const struct prefault_policy prefault_cluster_policy = {
    .name = "cluster",
    .desc = "Linux swap cluster readahead: the aligned 2^page_cluster slots around the fault",
    .params = cluster_params,
    .start = cluster_start,
    .fault = cluster_fault,
    .hit = cluster_hit,
    .destroy = cluster_destroy,
};
