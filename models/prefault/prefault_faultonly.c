/*
 * prefault_faultonly.c - demand paging, the baseline of every scenario:
 * bring in the faulting frame and nothing else (Linux with
 * vm.page-cluster = 0; QEMU post-copy's page request for the faulting
 * page only; a lazy restore's per-page fault).
 */
#include <stdlib.h>

#include "prefault/prefault.h"

static int faultonly_start(const struct prefault_cfg *cfg, const struct prefault_env *env,
                           struct prefault_state **out, struct vm_diag *d)
{
    *out = prefault_state_new(sizeof **out, &prefault_faultonly_policy, cfg, env);
    return *out ? 0 : VM_ENOMEM;
}

static uint32_t faultonly_fault(struct prefault_state *s, const struct prefault_fault *f,
                                uint64_t *out)
{
    return prefault_answer_begin(s, f->gfn, out);
}

static void faultonly_hit(struct prefault_state *s, uint64_t gfn)
{
    s->st.hits++;
}

static void faultonly_destroy(struct prefault_state *s)
{
    free(s);
}

const struct prefault_policy prefault_faultonly_policy = {
    .name = "faultonly",
    .desc = "demand paging: the faulting page only",
    .params = NULL,
    .start = faultonly_start,
    .fault = faultonly_fault,
    .hit = faultonly_hit,
    .destroy = faultonly_destroy,
};
