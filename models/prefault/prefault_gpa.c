/*
 * prefault_gpa.c - guest-physical +-k window: with the faulting frame,
 * bring in the absent frames among the k below and the k above it,
 * nearest first (alternating above and below).
 *
 * Source: the "pre-paging" of Hines & Gopalan's post-copy migration
 * (VEE'09), which pushes the pseudo-physical pages around the faulting
 * one; it is what a hypervisor can do without looking into the guest, and
 * what US9086981 argues against: guest-physical adjacency reflects the
 * guest allocator's order, not the program's locality.
 * Not modelled: VEE'09's bubbling of the background push around several
 * pivots (the push belongs to the post-copy scenario in sim/).
 */
#include <stdlib.h>

#include "prefault/prefault.h"

static const struct vm_param gpa_params[] = {
    { "k", VM_PARAM_U32, offsetof(struct prefault_cfg, k), .min = 1, .max = 511,
      .def = "8", .help = "frames brought in on each side of the faulting frame" },
    { NULL }
};

static int gpa_start(const struct prefault_cfg *cfg, const struct prefault_env *env,
                     struct prefault_state **out, struct vm_diag *d)
{
    if (cfg->k == 0 || cfg->k > 511)
        return vm_diag_set(d, VM_EINVAL, "'k' %u: expected integer 1..511", cfg->k);
    *out = prefault_state_new(sizeof **out, &prefault_gpa_policy, cfg, env);
    return *out ? 0 : VM_ENOMEM;
}

static uint32_t gpa_fault(struct prefault_state *s, const struct prefault_fault *f,
                          uint64_t *out)
{
    uint32_t n = prefault_answer_begin(s, f->gfn, out);
    for (uint64_t i = 1; i <= s->cfg.k; i++) {
        n = prefault_answer_add(s, f->gfn + i, out, n);   /* beyond memory: ignored */
        if (f->gfn >= i)
            n = prefault_answer_add(s, f->gfn - i, out, n);
    }
    return n;
}

static void gpa_hit(struct prefault_state *s, uint64_t gfn)
{
    s->st.hits++;
}

static void gpa_destroy(struct prefault_state *s)
{
    free(s);
}

const struct prefault_policy prefault_gpa_policy = {
    .name = "gpa-window",
    .desc = "guest-physical +-k frames around the fault (post-copy pre-paging, VEE'09)",
    .params = gpa_params,
    .start = gpa_start,
    .fault = gpa_fault,
    .hit = gpa_hit,
    .destroy = gpa_destroy,
};
