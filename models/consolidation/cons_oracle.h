/*
 * cons_oracle.h - what every sector of a virtual disk must read as: the
 * last acknowledged guest write, or the content the chain held when the
 * run began.  The invariant checks compare the device against it.
 *
 * Storage: a two-level table of 256-sector leaves (per sector the
 * 32-bit version of the guest write that set it, whose fingerprint is
 * computed again when asked, or else its fingerprint; and in-flight write
 * counts while writes into the leaf are in flight), leaves allocated when
 * a sector is first written: memory proportional to what the guest wrote.  The
 * initial content is computed, not stored: the highest initial delta
 * whose grain map (a bitmap copied at the start) holds the sector gives
 * fp(arg, layer, sector); the base's original data is fingerprint 0.
 */
#ifndef CONS_ORACLE_H
#define CONS_ORACLE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/vm_fp.h"
#include "consolidation/cons_chain.h"

struct cons_oracle;

/* The content of the guest's write number `version` at `sector`: a
 * bijection of k = sector << 32 ^ version (exact while both are below
 * 2^32: sectors of a disk up to 16 TiB, versions as the oracle keeps
 * them) for a given seed, so no two such writes share a fingerprint;
 * the mixing is splitmix64's finalizer (Steele, Lea and Flood, "Fast
 * splittable pseudorandom number generators", OOPSLA 2014), a tenth of
 * the instructions of vm_fp_page()'s XXH3 (13 M writes' sectors and
 * checks in the 100 GiB speed run).  Never 0 or VM_FP_ZERO. */
static inline uint64_t cons_fp_write(uint64_t seed, uint64_t sector, uint64_t version)
{
    uint64_t z = (sector << 32 ^ version) + seed * UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    z ^= z >> 31;
    return z == 0 || z == VM_FP_ZERO ? ~z : z;
}

/* An oracle for the chain as it is now (its deltas' grain maps are
 * copied) with initial content fp, for guest writes whose fingerprints
 * are cons_fp_write(seed, sector, version).  NULL when out of memory. */
struct cons_oracle *cons_oracle_new(const struct cons_chain *ch, uint64_t seed,
                                    uint64_t (*fp)(void *arg, int layer, uint64_t sector),
                                    void *arg);
void cons_oracle_free(struct cons_oracle *o);

/* A guest write of n sectors from s was issued / acknowledged with fps /
 * failed (not acknowledged).  0 or VM_ENOMEM (begin, ack).  Ack: fps[i]
 * is cons_fp_write(seed, s + i, ver0 + i) (the oracle then keeps versions),
 * or ver0 is 0 (it keeps fps, in an array a leaf gets at its first such
 * write: VM_ENOMEM when it cannot, and the sectors' expectations are
 * then unknown: the caller must end the run). */
int cons_oracle_begin(struct cons_oracle *o, uint64_t s, uint32_t n);
int cons_oracle_ack(struct cons_oracle *o, uint64_t s, uint32_t n, const uint64_t *fps,
                     uint64_t ver0);
void cons_oracle_fail(struct cons_oracle *o, uint64_t s, uint32_t n);
/* Forget every in-flight count (after a crash: those writes are settled). */
void cons_oracle_clear_inflight(struct cons_oracle *o);
/* Settle a sector whose write was in flight at a crash: its content is
 * now fp (the old one or the write's). */
void cons_oracle_set(struct cons_oracle *o, uint64_t s, uint64_t fp);

/* The sector's expected content, and whether a write to it is in flight. */
uint64_t cons_oracle_expect(const struct cons_oracle *o, uint64_t s);
/* The expected content of the n sectors from s, into out[n] (the
 * caller's): cons_oracle_expect() of each, a leaf looked up once. */
void cons_oracle_expect_run(const struct cons_oracle *o, uint64_t s, uint64_t n,
                            uint64_t *out);
bool cons_oracle_busy(const struct cons_oracle *o, uint64_t s);

/* Call fn(arg, s, n) for runs of sectors that hold data worth checking:
 * the initial deltas' grains and every leaf the guest wrote (runs may
 * overlap; a checker may see a sector twice).  Stops at fn's non-zero. */
int cons_oracle_each(const struct cons_oracle *o,
                     int (*fn)(void *arg, uint64_t s, uint64_t n), void *arg);
/* cons_oracle_each() of part `part` of nparts (>= 1) only: the parts
 * together call fn for every run exactly once, in shares of about equal
 * size.  The oracle is only read, so parts may run in threads of their
 * own while nothing changes it. */
int cons_oracle_each_part(const struct cons_oracle *o, unsigned part, unsigned nparts,
                          int (*fn)(void *arg, uint64_t s, uint64_t n), void *arg);

#endif
