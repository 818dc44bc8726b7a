/*
 * prefault_registry.c - the prefault policies by name (fio's engine list
 * idea): adding a policy is one file plus one line here.  The
 * deliberately broken (PREFAULT_F_HIDDEN) policies are in the table so
 * that tests and the world's invariant checks can start them by name;
 * listings skip them.
 */
#include <stddef.h>
#include <string.h>

#include "prefault/prefault.h"

const struct prefault_policy *const prefault_policies[] = {
    &prefault_faultonly_policy,
    &prefault_gpa_policy,
    &prefault_cluster_policy,
    &prefault_vma_policy,
    &prefault_leap_policy,
    &prefault_gva_policy,
    &prefault_gva_adaptive_policy,
    &prefault_reap_policy,
    &prefault_halite_policy,
    &prefault_broken_fetch_resident_policy,
    &prefault_broken_huge_window_policy,
    &prefault_broken_present_nofetch_policy,
    NULL,
};

const struct prefault_policy *prefault_policy_find(const char *name)
{
    for (size_t i = 0; prefault_policies[i]; i++)
        if (strcmp(prefault_policies[i]->name, name) == 0)
            return prefault_policies[i];
    return NULL;
}

int prefault_cfg_defaults(const struct prefault_policy *p, struct prefault_cfg *cfg,
                          struct vm_diag *d)
{
    memset(cfg, 0, sizeof *cfg);
    return p->params ? vm_param_defaults(p->params, cfg, d) : 0;
}

int prefault_start(const struct prefault_policy *p, const struct prefault_cfg *cfg,
                   const struct prefault_env *env, struct prefault_state **out,
                   struct vm_diag *d)
{
    *out = NULL;
    if (!env->backing || env->backing->ops->version != PORT_BACKING_VERSION)
        return vm_diag_set(d, VM_EINVAL, "'%s': no backing port of version %d", p->name,
                           PORT_BACKING_VERSION);
    if ((p->flags & PREFAULT_F_NEEDS_WS) && !env->ws)
        return vm_diag_set(d, VM_EINVAL, "'%s': needs a recorded working set "
                           "(run a record pass first)", p->name);
    return p->start(cfg, env, out, d);
}
