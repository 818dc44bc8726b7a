/*
 * sim_access.h - one guest memory access record, the unit every workload
 * source produces (synthetic generators, trace readers, the binary trace
 * cache, which stores exactly this struct).
 *
 * A record stands for `count` raw accesses to one 4 KiB page (pagetrace
 * semantics): the first is `op`, the rest are accesses that did not change
 * the page's state (see workloads/traces/README.md); a replayer charges
 * compute time for all `count` of them and checks the page once.
 *
 * Layout (16 bytes, the binary cache's record): the op sits in the low
 * byte of the page word, so the count keeps all 64 bits and one source
 * record is always one binary record.  Trace pages are addresses >> 12
 * (below 2^52) and synthetic pages are below the VM's page count, both
 * far under the 56 bits left for the page.  Read the fields through the
 * accessors below.
 */
#ifndef SIM_ACCESS_H
#define SIM_ACCESS_H

#include <stdint.h>

enum sim_op { SIM_OP_READ = 'R', SIM_OP_WRITE = 'W', SIM_OP_EXEC = 'X' };

#define SIM_ACCESS_PAGE_BITS 56
#define SIM_ACCESS_PAGE_MAX ((UINT64_C(1) << SIM_ACCESS_PAGE_BITS) - 1)

struct sim_access {
    uint64_t page_op;   /* page << 8 | op (enum sim_op); page <= SIM_ACCESS_PAGE_MAX */
    uint64_t count;     /* raw accesses this record stands for, >= 1 */
};

_Static_assert(sizeof(struct sim_access) == 16, "binary trace cache layout");

/* guest-virtual page (traces) or guest-physical page (synthetic) */
static inline uint64_t sim_access_page(const struct sim_access *a)
{
    return a->page_op >> 8;
}

static inline uint8_t sim_access_op(const struct sim_access *a)
{
    return (uint8_t)a->page_op;
}

/* page must be <= SIM_ACCESS_PAGE_MAX (higher bits are lost) */
static inline struct sim_access sim_access_make(uint64_t page, uint8_t op, uint64_t count)
{
    struct sim_access a = { .page_op = page << 8 | op, .count = count };
    return a;
}

/* Guest compute a record costs: count x access_ns, UINT64_MAX when that
 * does not fit in 64 bits (a count of 10^19 at 2 ns). */
static inline uint64_t sim_access_cost_ns(uint64_t count, uint64_t access_ns)
{
    uint64_t ns;
    return __builtin_mul_overflow(count, access_ns, &ns) ? UINT64_MAX : ns;
}

#endif
