/*
 * ckpt_registry.c - the checkpoint policies by name (fio's engine list
 * idea): adding a policy is one file plus one line here.  Hidden
 * (CKPT_F_HIDDEN) policies are in the table so that tests and the
 * invariant-checker demonstration can run them; `vmsim list` skips them.
 */
#include <stddef.h>
#include <string.h>

#include "checkpoint/ckpt.h"

extern const struct ckpt_policy ckpt_stopcopy_policy;
extern const struct ckpt_policy ckpt_lazypage_policy;
extern const struct ckpt_policy ckpt_bgsnap_policy;
extern const struct ckpt_policy ckpt_precopy_policy;
extern const struct ckpt_policy ckpt_buffered_policy;
extern const struct ckpt_policy ckpt_buffered_unsafe_test_policy;
extern const struct ckpt_policy ckpt_buffered_corrupt_maps_test_policy;

extern const struct ckpt_restore_policy ckpt_restore_eager_policy;
extern const struct ckpt_restore_policy ckpt_restore_lazy_policy;
extern const struct ckpt_restore_policy ckpt_restore_sblock_policy;
extern const struct ckpt_restore_policy ckpt_restore_sblock_lazy_present_test_policy;

const struct ckpt_policy *const ckpt_save_policies[] = {
    &ckpt_stopcopy_policy,
    &ckpt_lazypage_policy,
    &ckpt_bgsnap_policy,
    &ckpt_precopy_policy,
    &ckpt_buffered_policy,
    &ckpt_buffered_unsafe_test_policy,
    &ckpt_buffered_corrupt_maps_test_policy,
    NULL,
};

const struct ckpt_restore_policy *const ckpt_restore_policies[] = {
    &ckpt_restore_eager_policy,
    &ckpt_restore_lazy_policy,
    &ckpt_restore_sblock_policy,
    &ckpt_restore_sblock_lazy_present_test_policy,
    NULL,
};

const struct ckpt_policy *ckpt_save_policy_find(const char *name)
{
    for (size_t i = 0; ckpt_save_policies[i]; i++)
        if (strcmp(ckpt_save_policies[i]->name, name) == 0)
            return ckpt_save_policies[i];
    return NULL;
}

const struct ckpt_restore_policy *ckpt_restore_policy_find(const char *name)
{
    for (size_t i = 0; ckpt_restore_policies[i]; i++)
        if (strcmp(ckpt_restore_policies[i]->name, name) == 0)
            return ckpt_restore_policies[i];
    return NULL;
}
