/*
 * cons_registry.c - the consolidation methods by name: the mechanism, its
 * baselines, and the deliberately broken test-only ones (hidden from
 * `vmsim list`).  Adding a method: its file and one line here.
 */
#include <string.h>

#include "consolidation/cons_int.h"

extern const struct cons_method cons_m_mirror, cons_m_mirror_tonly, cons_m_mirror_selective,
    cons_m_offline,
    cons_m_helper, cons_m_qemu_bg, cons_m_qemu_wb, cons_m_qemu_wb_unfixed,
    cons_m_broken_nomirror, cons_m_broken_race, cons_m_broken_read, cons_m_broken_early_ack,
    cons_m_broken_gt_order, cons_m_broken_ack_gt;

const struct cons_method *const cons_methods[] = {
    &cons_m_mirror,
    &cons_m_mirror_tonly,
    &cons_m_mirror_selective,
    &cons_m_offline,
    &cons_m_helper,
    &cons_m_qemu_bg,
    &cons_m_qemu_wb,
    &cons_m_qemu_wb_unfixed,
    &cons_m_broken_nomirror,
    &cons_m_broken_race,
    &cons_m_broken_read,
    &cons_m_broken_early_ack,
    &cons_m_broken_gt_order,
    &cons_m_broken_ack_gt,
    NULL,
};

const struct cons_method *cons_method_find(const char *name)
{
    for (int i = 0; cons_methods[i]; i++)
        if (strcmp(cons_methods[i]->name, name) == 0)
            return cons_methods[i];
    return NULL;
}
