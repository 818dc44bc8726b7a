/*
 * mem_rig.c - what the guest-memory suites share (mem_rig.h).
 */
#include <check.h>
#include <string.h>

#include "mem_rig.h"

struct sim_mem *new_vm_levels(uint64_t bytes, double aging, const double content[4],
                              uint64_t seed, uint32_t levels)
{
    struct sim_exp_vm vm = { .memory_bytes = bytes, .aging = aging, .paging_levels = levels };
    static const double def[4] = { 0.25, 0.25, 0.10, 0.40 };
    memcpy(vm.content, content ? content : def, sizeof vm.content);
    struct sim_mem *m = NULL;
    struct vm_diag d = { 0 };
    int rc = sim_mem_new(&vm, seed, &m, &d);
    ck_assert_msg(rc == 0, "sim_mem_new: %s", d.msg);
    ck_assert_ptr_nonnull(m);
    return m;
}

struct sim_mem *new_vm_full(uint64_t bytes, double aging, const double content[4],
                            uint64_t seed)
{
    return new_vm_levels(bytes, aging, content, seed, 4);
}

struct sim_mem *new_vm(uint64_t bytes)
{
    return new_vm_full(bytes, 0, NULL, 1);
}
