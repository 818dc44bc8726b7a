/*
 * cons_chain_rig.h - shared helpers of the disk chain's suites
 * (check_cons_chain, check_cons_chain_crash): a fake device sized for a
 * chain, set-up straight into the fake's store, base content, and
 * synchronous wrappers that run the fake until an operation is done.
 */
#ifndef CONS_CHAIN_RIG_H
#define CONS_CHAIN_RIG_H

#include <stdint.h>

#include "consolidation/cons_chain.h"
#include "fakes/fake_blk.h"

/* A chain configuration: descriptor at block 0, slots from block 1, each
 * big enough for a full delta.  Mutation CONS_MUT_NONE. */
struct cons_chain_cfg rig_cfg(uint64_t nr_sectors, uint32_t grain_shift, uint32_t nr_slots);
/* A fake device that holds cfg's chain (NULL when out of memory). */
struct fake_blk *rig_dev(const struct cons_chain_cfg *cfg);
/* Set-up that writes into dev's store. */
struct cons_setup rig_setup(struct fake_blk *dev);

/* Content: the base's sector s holds rig_base_fp(s) (rig_fill_base puts
 * it), a set-up delta's sector s rig_fp(NULL, layer, s). */
uint64_t rig_base_fp(uint64_t s);
uint64_t rig_fp(void *arg, int layer, uint64_t s);
void rig_fill_base(struct fake_blk *dev, const struct cons_chain_cfg *cfg);
/* pick() for setup_delta over an array of grain numbers (arg). */
uint64_t rig_pick(void *arg, uint64_t i);

/* A completion record: calls counts done callbacks. */
struct rig_done {
    int calls;
    int rc;
};
void rig_done_fn(void *arg, int rc);

/* Synchronous I/O: issue, run the fake to empty, return the rc of the
 * call or of done (asserting done ran once). */
int rig_read(struct cons_chain *ch, struct fake_blk *dev, int top, uint64_t s, uint32_t n,
             uint64_t *fps);
int rig_write(struct cons_chain *ch, struct fake_blk *dev, int layer, uint64_t s, uint32_t n,
              const uint64_t *fps);
int rig_open(struct cons_chain *ch, struct fake_blk *dev);
/* A fresh chain over dev's store, opened from it (NULL if open fails;
 * the reason in *rc and err[256]). */
struct cons_chain *rig_reopen(struct fake_blk *dev, const struct cons_chain_cfg *cfg, int *rc,
                              char *err);

/* A chain with base content (rig_fill_base) over a fresh fake device,
 * and deltas set up from grain lists (rig_pick, rig_fp). */
struct fix {
    struct cons_chain_cfg cfg;
    struct fake_blk *dev;
    struct cons_chain *ch;
};
void fix_init(struct fix *f, uint64_t nr_sectors, uint32_t shift);
void fix_delta(struct fix *f, const uint64_t *grains, uint64_t n);
void fix_free(struct fix *f);

#endif
