/*
 * sim_workload.h - synthetic guest access generators.  They produce
 * guest-physical page accesses (struct sim_access, count = 1):
 *   uniform     pages drawn uniformly from the footprint
 *   zipf        pages drawn Zipf(zipf_s) over the footprint; popular ranks
 *               scattered over the footprint by a fixed seeded bijection
 *               (no table) so the hot set is not one contiguous range
 *   sequential  a scan over the footprint, wrapping
 *   strided     a scan with `stride` pages between accesses, wrapping with
 *               an offset so every page is visited
 * Each access is a write with probability write_fraction.  The stream is
 * a pure function of (workload, vm size, seed); pages occupy [0, footprint)
 * (footprint 0 or larger than the VM means the whole VM).  Pages and the
 * read/write decisions come from separate streams, so changing
 * write_fraction does not change the page sequence.
 */
#ifndef SIM_WORKLOAD_H
#define SIM_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "base/vm_err.h"
#include "sim_access.h"
#include "sim_exp.h"

struct sim_gen;

int sim_gen_new(const struct sim_exp_workload *w, uint64_t vm_pages, uint64_t seed,
                struct sim_gen **out, struct vm_diag *d);
void sim_gen_free(struct sim_gen *g);
/* Fill buf with n accesses; returns n. */
size_t sim_gen_fill(struct sim_gen *g, struct sim_access *buf, size_t n);
/*
 * The next accesses of the same stream without a copy where it can: up
 * to n of them (at least 1 for n > 0; 0 for n == 0) in *recs, which is
 * either a part of the generator's ring of accesses drawn ahead, lent
 * until the next call on g, or scratch (n entries, the caller's) filled
 * with them.  Calls with the same n give the same records as
 * sim_gen_fill() would; a smaller count is returned when a ring chunk
 * ends first.
 */
size_t sim_gen_next(struct sim_gen *g, struct sim_access *scratch, size_t n,
                    const struct sim_access **recs);

#endif
