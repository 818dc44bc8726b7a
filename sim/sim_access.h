/*
 * sim_access.h - one guest memory access record, the unit every workload
 * source produces (synthetic generators, trace readers, the binary trace
 * cache, which stores exactly this struct).
 *
 * A record stands for `count` raw accesses to one 4 KiB page (pagetrace
 * semantics): the first is `op`, the rest are accesses that did not change
 * the page's state (see workloads/traces/README.md); a replayer charges
 * compute time for all `count` of them and checks the page once.
 */
#ifndef SIM_ACCESS_H
#define SIM_ACCESS_H

#include <stdint.h>

enum sim_op { SIM_OP_READ = 'R', SIM_OP_WRITE = 'W', SIM_OP_EXEC = 'X' };

struct sim_access {
    uint64_t page;      /* guest-virtual page (traces) or guest-physical page (synthetic) */
    uint32_t count;     /* raw accesses this record stands for, >= 1 */
    uint8_t op;         /* enum sim_op */
    uint8_t pad[3];     /* zero */
};

_Static_assert(sizeof(struct sim_access) == 16, "binary trace cache layout");

#endif
