/*
 * cons_rig.h - the consolidation engine on fake ports, as the Check suites
 * check_cons.c and check_cons_qemu.c drive it: a base disk and one or two
 * deltas on a fake block device (tests/fakes/fake_blk.h), a trace load, a
 * fake clock and timers; requests stay queued until the test completes
 * them, in the order it picks.  Sizes: 64 grains of 16 blocks (4 KiB
 * each), 4 MiB of disk.
 */
#ifndef CONS_RIG_H
#define CONS_RIG_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "consolidation/cons_int.h"
#include "fakes/fake_blk.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_timer.h"

#define GS 4                    /* grain: 16 blocks of 4 KiB, 64 KiB */
#define GB 16                   /* blocks per grain */
#define NR_SECTORS 1024         /* 64 grains, 4 MiB */

struct rig {
    struct fake_clock clk;
    struct fake_blk *dev;
    struct fake_timer *ft;
    struct cons_engine *e;
    struct cons_result res;
};

/* The checks' reading of the device fails with VM_EIO on a range holding
 * this block (UINT64_MAX, the default: never). */
extern uint64_t rig_peek_fail_lba;

/* The content a layer's setup writes at sector s (a pure function). */
uint64_t rig_fp(void *arg, int layer, uint64_t s);

/* A base and a delta holding grains g[0..ng) - on a delta holding
 * lower[0..nr_lower) when nr_lower - a trace load of ios, method `method`
 * with mc consolidating everything above the base into it; a host crash
 * at crash_at ns (0: none).  Fails the test on any error. */
void cons_rig_init(struct rig *r, const char *method, const uint64_t *g, uint64_t ng,
                   const uint64_t *lower, uint64_t nr_lower, const struct vm_blkio *ios,
                   size_t nios, struct cons_method_cfg mc, uint64_t crash_at);
/* The same with a load of the caller's (the engine takes it over). */
void cons_rig_init_load(struct rig *r, const char *method, const uint64_t *g, uint64_t ng,
                        const uint64_t *lower, uint64_t nr_lower, struct cons_load *load,
                        struct cons_method_cfg mc, uint64_t crash_at);
/* Complete what is queued and free everything. */
void rig_fini(struct rig *r);

#define WG 5                    /* sector of a guest write inside its grain */

/* The suites' method parameters: 64 KiB batches, one I/O in flight, a
 * 1 us stun, vSphere's 12 s threshold and 9 helpers, forced. */
struct cons_method_cfg cons_rig_mcfg(void);
/* Run the started engine to the end: each step completes one queued
 * request or runs the next timer instant, as choose(arg, options) picks
 * (0..options-1: a queued request by its index, options-1 the next timer
 * when one is pending); choose NULL: what is due by the clock first, then
 * the oldest request (the fake's timing moves the clock on), then the next
 * timer.  Then the result into r->res. */
void cons_rig_finish(struct rig *r, size_t (*choose)(void *arg, size_t options), void *arg);

/* Run the started engine to the end as cons_rig_finish(r, NULL, NULL),
 * then check that the job consolidated cleanly: no error, the chain ends
 * at the target, every sector the last acknowledged write. */
void cons_rig_consolidated(struct rig *r);

/* One case of a suite: its name and its test (START_TEST's name). */
struct cons_rig_case {
    const char *name;
    const TTest *test;
};
/* Run the cases as the Check suite `name`, each its own TCase with a
 * timeout of timeout_s seconds and, if fixture is not NULL, that checked
 * fixture run before it; EXIT_SUCCESS when none failed, else
 * EXIT_FAILURE (main()'s status). */
int cons_rig_main(const char *name, const struct cons_rig_case *cases, size_t n,
                  double timeout_s, void (*fixture)(void));

/* The i-th queued request (0: the oldest). */
struct port_blk_req *queued_req(struct rig *r, size_t i);
/* The grain whose first block layer `top` keeps at lba (64 on none). */
uint64_t grain_at(struct rig *r, int top, uint64_t lba);
/* The grains of a queued copy request (whole grains read through the
 * delta or written into the base), increasing, into g; their number. */
uint32_t copy_grains(struct rig *r, struct port_blk_req *req, uint64_t *g);
/* Complete the copy op starting at grain g: its read, then its write. */
void run_copy(struct rig *r, uint64_t g);
/* The queued write request at lba (SIZE_MAX: none). */
size_t queued_write_at(struct rig *r, uint64_t lba);
/* Start the engine and run timers until the job runs and `writes` guest
 * writes are in flight. */
void start_job(struct rig *r, uint32_t writes);

#endif
