/*
 * mem_rig.h - what the guest-memory suites share (check_mem_ops,
 * check_mem_content): a guest memory model (sim_mem) made with given
 * size, aging, content fractions, seed and paging levels.  Every function
 * fails the running Check test when sim_mem_new fails.
 */
#ifndef MEM_RIG_H
#define MEM_RIG_H

#include <stdint.h>

#include "sim_mem.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* A guest of `bytes` (content fractions: NULL for 0.25, 0.25, 0.10, 0.40);
 * the caller frees it (sim_mem_free). */
struct sim_mem *new_vm_levels(uint64_t bytes, double aging, const double content[4],
                              uint64_t seed, uint32_t levels);
/* ... with four paging levels */
struct sim_mem *new_vm_full(uint64_t bytes, double aging, const double content[4],
                            uint64_t seed);
/* ... fresh (no aging), default content, seed 1 */
struct sim_mem *new_vm(uint64_t bytes);

#endif
