/*
 * check_cons.c - the consolidation engine with fake ports: a fake block
 * device that completes requests in any order the test picks, a fake
 * clock and fake timers.
 *
 * The mirror's ordering is checked in every order: a small chain, a guest
 * write racing the copy of the grain it falls in, and every schedule of
 * completions and timer events enumerated (an odometer over the choices
 * each step offers); every schedule must leave the target holding the
 * last acknowledged write, and the deliberately racy method must lose in
 * some schedule.  Then each baseline's decisions (the helper's iteration,
 * its 12 s threshold at the estimate's boundary and its estimate, QEMU's
 * dirty-bitmap re-copy), Storage vMotion's selective mirror (a write into
 * a grain still to be copied stays on the delta, and less is mirrored than
 * by the mechanism), the end-of-run check's two halves, and a host crash
 * after each request completion, for the mechanism and for the broken
 * methods.  The copier's own tests are in check_cons_copy.c.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "consolidation/cons_int.h"
#include "fakes/fake_blk.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_timer.h"
#include "cons_rig.h"


static const uint64_t *lower;            /* grains of an extra delta under the top one */
static uint64_t nr_lower;

/* A base and one delta holding grains g[0..ng) (on a delta holding
 * lower[] when nr_lower), a load of ios, method m; everything above the
 * base is consolidated into it. */
static void rig_init(struct rig *r, const char *method, const uint64_t *g, uint64_t ng,
                     const struct vm_blkio *ios, size_t nios, struct cons_method_cfg mc,
                     uint64_t crash_at)
{
    cons_rig_init(r, method, g, ng, lower, nr_lower, ios, nios, mc, crash_at);
}

/* ------------------------------------------------------------ schedules */

#define MAX_STEPS 512

struct odometer {
    uint32_t v[MAX_STEPS], n[MAX_STEPS];
    uint32_t len, step;
};

static size_t choose(struct odometer *o, size_t nopts)
{
    ck_assert_uint_lt(o->step, MAX_STEPS);
    if (o->step >= o->len) {
        o->v[o->step] = 0;
        o->len = o->step + 1;
    }
    o->n[o->step] = (uint32_t)nopts;
    ck_assert_uint_lt(o->v[o->step], nopts);
    return o->v[o->step++];
}

static bool next_schedule(struct odometer *o)
{
    o->len = o->step;
    while (o->len > 0) {
        uint32_t k = o->len - 1;
        if (o->v[k] + 1 < o->n[k]) {
            o->v[k]++;
            o->step = 0;
            return true;
        }
        o->len--;
    }
    return false;
}

static size_t pick(void *o, size_t options)
{
    return choose(o, options);
}

/* Run to the end, each step as o picks (o NULL: cons_rig_finish's FIFO). */
static void rig_finish(struct rig *r, struct odometer *o)
{
    cons_rig_finish(r, o ? pick : NULL, o);
}

/* Start the run, then as rig_finish(). */
static void rig_run(struct rig *r, struct odometer *o)
{
    cons_engine_start(r->e);
    rig_finish(r, o);
}

/* One grain in the delta; a write into it arrives just after the job
 * starts (so in some schedules while its copy is in flight), then a read
 * of it. */
static const uint64_t race_grains[] = { 0 };
static const struct vm_blkio race_ios[] = {
    { .t_ns = 1000001, .sector = 3, .nr = 2, .op = VM_BLKIO_WRITE },
    { .t_ns = 1000002, .sector = 0, .nr = 16, .op = VM_BLKIO_READ },
};

static uint64_t every_schedule(const char *method, uint64_t *bad_runs, uint64_t *runs)
{
    struct odometer *o = calloc(1, sizeof *o);
    uint64_t worst = 0;
    *bad_runs = *runs = 0;
    do {
        struct rig r;
        rig_init(&r, method, race_grains, 1, race_ios, 2, cons_rig_mcfg(), 0);
        rig_run(&r, o);
        ck_assert_int_eq(r.res.rc, 0);
        ck_assert_uint_gt(r.res.final_checked, 0);
        uint64_t bad = r.res.final_mismatch + r.res.read_mismatch;
        if (bad)
            (*bad_runs)++;
        if (bad > worst)
            worst = bad;
        (*runs)++;
        rig_fini(&r);
    } while (next_schedule(o) && *runs < 50000);
    ck_assert_uint_lt(*runs, 50000);        /* every schedule was tried */
    free(o);
    return worst;
}

/* The end-of-run check: a delta of all 64 grains (64 runs) and guest
 * writes into the oracle's 4 leaves (4 runs more), consolidated. */
static const struct vm_blkio leaf_ios[] = {
    { .t_ns = 1000001, .sector = 0, .nr = 8, .op = VM_BLKIO_WRITE },
    { .t_ns = 1000002, .sector = 256, .nr = 8, .op = VM_BLKIO_WRITE },
    { .t_ns = 1000003, .sector = 512, .nr = 8, .op = VM_BLKIO_WRITE },
    { .t_ns = 1000004, .sector = 768, .nr = 8, .op = VM_BLKIO_WRITE },
};

static void run_check_rig(struct rig *r, uint64_t fail_sector, uint64_t no_grain,
                          size_t nr_leaves)
{
    uint64_t g[64], ng = 0;
    for (uint64_t i = 0; i < 64; i++)
        if (i != no_grain)
            g[ng++] = i;
    rig_init(r, "mirror", g, ng, leaf_ios, nr_leaves, cons_rig_mcfg(), 0);
    rig_peek_fail_lba = fail_sector == UINT64_MAX ? UINT64_MAX
                                                  : cons_chain_map(r->e->ch, 0, fail_sector);
    rig_run(r, NULL);
    rig_peek_fail_lba = UINT64_MAX;
}

/* The oracle's parts together hold every run once: the check's two
 * halves (the second in a thread of its own) compare all of them. */
static int count_run(void *arg, uint64_t s, uint64_t n)
{
    uint64_t *seen = arg;
    seen[s / 16] += n;
    return 0;
}

START_TEST(check_halves_cover_every_run)
{
    struct rig r;
    run_check_rig(&r, UINT64_MAX, UINT64_MAX, 4);
    ck_assert_int_eq(r.res.rc, 0);
    ck_assert_uint_eq(r.res.final_mismatch, 0);
    /* 64 grain runs of 16 sectors, 4 leaf runs of 256: the leaf runs are
     * the 65th to 68th, the second half's */
    ck_assert_uint_eq(r.res.final_checked, 64 * 16 + 4 * 256);
    for (unsigned nparts = 1; nparts <= 3; nparts++) {
        uint64_t whole[NR_SECTORS / 16] = { 0 }, parts[NR_SECTORS / 16] = { 0 };
        ck_assert_int_eq(cons_oracle_each(r.e->oracle, count_run, whole), 0);
        for (unsigned p = 0; p < nparts; p++)
            ck_assert_int_eq(cons_oracle_each_part(r.e->oracle, p, nparts, count_run, parts), 0);
        ck_assert_mem_eq(whole, parts, sizeof whole);
    }
    rig_fini(&r);
}
END_TEST

/* A read failing in either half stops the check where one pass in order
 * stops: the runs before the failing one are counted, none after. */
START_TEST(check_read_error_counts_as_one_pass)
{
    struct rig r;
    run_check_rig(&r, 10 * 16 + 3, UINT64_MAX, 4);  /* grain run 10, and leaf run 0 */
    ck_assert_int_eq(r.res.rc, VM_EIO);
    ck_assert_uint_eq(r.res.final_checked, 10 * 16);
    rig_fini(&r);
    /* grain run 32 (the first half's, after 32 runs) and leaf run 2 (the
     * second half's, after 2): one pass stops at the grain */
    run_check_rig(&r, 512 + 7, UINT64_MAX, 4);
    ck_assert_int_eq(r.res.rc, VM_EIO);
    ck_assert_uint_eq(r.res.final_checked, 32 * 16);
    rig_fini(&r);
    /* grain 40 not in the delta: only leaf run 2 (the second half's) fails,
     * at its 9th grain's part (every run of the first half comes before
     * it: this catches a lost error, not a missing second pass) */
    run_check_rig(&r, 40 * 16 + 5, 40, 4);
    ck_assert_int_eq(r.res.rc, VM_EIO);
    ck_assert_uint_eq(r.res.final_checked, 63 * 16 + 2 * 256 + 8 * 16);
    rig_fini(&r);
    /* no leaf over grain 50: only grain run 50 (the first half's) fails,
     * while the second half compares its 3 leaf runs whole */
    run_check_rig(&r, 50 * 16 + 1, UINT64_MAX, 3);
    ck_assert_int_eq(r.res.rc, VM_EIO);
    ck_assert_uint_eq(r.res.final_checked, 50 * 16);
    rig_fini(&r);
}
END_TEST

START_TEST(mirror_every_order)
{
    const char *ok[] = { "mirror", "mirror-target-only", "mirror-selective",
                         "qemu-write-blocking", "qemu-background" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t bad, runs;
        ck_assert_uint_eq(every_schedule(ok[i], &bad, &runs), 0);
        ck_assert_uint_gt(runs, 10);
        fprintf(stderr, "%s: %llu schedules\n", ok[i], (unsigned long long)runs);
    }
}
END_TEST

START_TEST(race_caught)
{
    uint64_t bad, runs;
    every_schedule("broken-copy-race", &bad, &runs);
    ck_assert_uint_gt(bad, 0);              /* some order lands old data on the write */
    ck_assert_uint_lt(bad, runs);           /* and not every order: it is a race */
}
END_TEST

/* ------------------------------------------------------------ decisions */

/* A steady write stream into grains 0..15 every 100 us for 50 ms. */
static struct vm_blkio *stream(size_t *n, uint32_t grains, uint64_t every_ns, uint64_t until_ns)
{
    size_t cap = until_ns / every_ns + 1, k = 0;
    struct vm_blkio *ios = calloc(cap, sizeof *ios);
    for (uint64_t t = 0; t < until_ns; t += every_ns, k++)
        ios[k] = (struct vm_blkio){ .t_ns = t, .sector = (k * 16 + 5) % (grains * 16), .nr = 1,
                                   .op = VM_BLKIO_WRITE };
    *n = k;
    return ios;
}

static const uint64_t eight[] = { 2, 5, 9, 20, 33, 40, 51, 60 };

/* Run method m with mc over the eight-grain delta under ios, every
 * request taking 10 us + 1 us a block; the run must end without error. */
static void run_timed(struct rig *r, const char *m, const struct vm_blkio *ios, size_t n,
                      struct cons_method_cfg mc)
{
    rig_init(r, m, eight, 8, ios, n, mc, 0);
    fake_blk_set_timing(r->dev, &r->clk, 10000, 1000);
    rig_run(r, NULL);
    ck_assert_int_eq(r->res.rc, 0);
}


/* Run the helper method with mc over a write stream into grains 0..15
 * (every 100 us for 20 ms) and check its outcome: done or not, helpers,
 * stuns, and every sector right at the end.  Returns whether it was READY. */
static bool helper_run(struct cons_method_cfg mc, bool done, uint64_t iterations,
                       uint64_t stuns)
{
    size_t n;
    struct vm_blkio *ios = stream(&n, 16, 100000, 20000000);
    struct rig r;
    run_timed(&r, "helper", ios, n, mc);
    ck_assert(r.res.done == done);
    ck_assert_uint_eq(r.res.iterations, iterations);
    ck_assert_uint_eq(r.res.stuns, stuns);
    ck_assert_uint_eq(r.res.final_mismatch, 0);
    ck_assert_uint_gt(r.res.final_checked, 0);
    bool ready = r.res.ready;
    rig_fini(&r);
    free(ios);
    return ready;
}

/* The helper fits in 12 s: create it, then commit it. */
START_TEST(helper_converges_under_threshold)
{
    helper_run(cons_rig_mcfg(), true, 1, 2);
}
END_TEST

START_TEST(helper_iterates_then_forces)
{
    struct cons_method_cfg mc = cons_rig_mcfg();
    mc.stun_threshold_ns = 1;                   /* never fits: iterate to the cap */
    mc.max_iterations = 3;
    helper_run(mc, true, 3, 4);                 /* three helpers, one forced commit */
}
END_TEST

/* The threshold decides at its boundary (an estimate at most the
 * threshold commits, one above it makes another helper), and the
 * method's defaults are vSphere's: 12 s (snapshot.maxConsolidateTime) and
 * 9 helpers (snapshot.maxIterations), forced (forceSync true). */
START_TEST(helper_threshold_boundary)
{
    size_t n;
    struct vm_blkio *ios = stream(&n, 16, 100000, 20000000);
    struct cons_method_cfg mc = cons_rig_mcfg();
    struct rig r;
    run_timed(&r, "helper", ios, n, mc);
    ck_assert_uint_eq(r.res.iterations, 1);
    double est = r.e->helper_est_ns;
    rig_fini(&r);
    ck_assert(est > 1000 && est < 1e9);
    mc.stun_threshold_ns = (uint64_t)ceil(est);         /* at it: fits */
    run_timed(&r, "helper", ios, n, mc);
    ck_assert_uint_eq(r.res.iterations, 1);
    ck_assert(r.e->helper_est_ns == est);
    rig_fini(&r);
    mc.stun_threshold_ns = (uint64_t)ceil(est) - 1;     /* a ns under it: another helper */
    if (mc.stun_threshold_ns >= est)
        mc.stun_threshold_ns--;
    run_timed(&r, "helper", ios, n, mc);
    ck_assert_uint_ge(r.res.iterations, 2);
    ck_assert(r.res.done);
    ck_assert_uint_eq(r.res.final_mismatch, 0);
    rig_fini(&r);
    free(ios);

    struct cons_method_cfg def = { 0 };
    struct vm_diag d = { 0 };
    const struct cons_method *m = cons_method_find("helper");
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(vm_param_defaults(m->params, &def, &d), 0);
    ck_assert_uint_eq(def.stun_threshold_ns, 12000000000ull);
    ck_assert_uint_eq(def.max_iterations, 9);
    ck_assert(def.force_sync);
    ck_assert_uint_eq(def.max_in_flight, 32);           /* the data mover's copy */
    ck_assert_uint_eq(def.io_bytes, 64 << 10);
}
END_TEST

/* snapshot.maxIterations 0: no helper, one stun for the whole commit. */
START_TEST(helper_zero_iterations_commits_stunned)
{
    struct cons_method_cfg mc = cons_rig_mcfg();
    mc.max_iterations = 0;
    helper_run(mc, true, 0, 1);
}
END_TEST

/* KB 337175's first step: deltas that the stunned datastore copies
 * within the threshold are committed at once, with no helper; deltas that
 * it does not, or an unknown rate, or the check off, get a helper first. */
START_TEST(helper_size_check)
{
    static const struct {
        bool check;
        double bps, iops;
        uint64_t iterations, stuns;
    } c[] = {
        { true, 1e9, 0, 0, 1 },     /* 8 grains in microseconds: one stunned commit */
        { true, 1.0, 0, 1, 2 },     /* days at 1 B/s: a helper, then its commit */
        { true, 1e9, 1, 1, 2 },     /* the bytes fit, but 16+ I/Os at 1 a second do not */
        { true, 0.0, 0, 1, 2 },     /* rate unknown: no check */
        { false, 1e9, 0, 1, 2 },    /* check off (KB 2039754's reading) */
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct cons_method_cfg mc = cons_rig_mcfg();
        mc.size_check = c[i].check;
        mc.dev = (struct cons_device){ .copy_bps = c[i].bps, .read_bps = c[i].bps,
                                       .write_bps = c[i].bps, .iops = c[i].iops };
        helper_run(mc, true, c[i].iterations, c[i].stuns);
    }
}
END_TEST

/* The first check's estimate (cons_copy_estimate_ns): 1 MiB batches of
 * 64 KiB grains, 16 I/Os in flight, on a device of 100 MB/s each way
 * (50 MB/s for a copy with reads and writes overlapping), 100 us a
 * request, 4 I/Os a wave. */
START_TEST(helper_estimate)
{
    struct cons_method_cfg mc = cons_rig_mcfg();
    mc.chunk_bytes = 1 << 20;
    mc.max_in_flight = 16;
    size_t n;
    struct vm_blkio *ios = stream(&n, 16, 100000, 2000000);
    struct rig r;
    rig_init(&r, "helper", eight, 0, ios, n, mc, 0);   /* every grain read from the base */
    uint64_t ng = cons_chain_nr_grains(r.e->ch);
    ck_assert_uint_ge(ng, 64);
    ck_assert_uint_eq(cons_chain_grain_sectors(r.e->ch) * 4096, 64 << 10);
    uint64_t *set = vm_bitmap_new(ng);
    struct cons_device dev = { .copy_bps = 50e6, .read_bps = 100e6, .write_bps = 100e6,
                               .read_lat_ns = 100000, .write_lat_ns = 100000, .qdepth = 4 };
    double mib = 1 << 20;

    /* one run of 16 grains: one batch of one I/O, read then written */
    vm_bitmap_set_range(set, 0, 16);
    ck_assert_double_eq_tol(cons_copy_estimate_ns(r.e, set, &dev),
                            2 * (100000 + mib / 100e6 * 1e9), 1);
    /* 64 such grains: four batches in flight together, their reads and
     * writes overlapping: the copy rate bounds it */
    vm_bitmap_set_range(set, 0, 64);
    ck_assert_double_eq_tol(cons_copy_estimate_ns(r.e, set, &dev), 4 * mib / 50e6 * 1e9, 1);
    /* every other grain: one batch of 16 I/Os, alone in flight: 4 waves
     * of latency and the transfer, read then write */
    vm_bitmap_clear_range(set, 0, ng);
    for (uint64_t g = 0; g < 32; g += 2)
        vm_bitmap_set(set, g);
    double serial = 2 * (4 * 100000 + mib / 100e6 * 1e9);
    ck_assert_double_eq_tol(cons_copy_estimate_ns(r.e, set, &dev), serial, 1);
    /* an IOPS limit of 1,000: each request of 16 I/Os waits 16 ms for
     * its turn (longer than its latency), then transfers */
    dev.iops = 1000;
    ck_assert_double_eq_tol(cons_copy_estimate_ns(r.e, set, &dev),
                            2 * (16e6 + mib / 100e6 * 1e9), 1);
    /* one run of 48 grains: three batches of one I/O, all in flight at
     * once; at 50 I/Os a second the device's limit bounds the copy: six
     * I/Os, 120 ms */
    vm_bitmap_clear_range(set, 0, ng);
    vm_bitmap_set_range(set, 0, 48);
    dev.iops = 50;
    ck_assert_double_eq_tol(cons_copy_estimate_ns(r.e, set, &dev), 120e6, 1);
    /* latency bound: 64 batches of one grain (a chunk of 64 KiB), at
     * most (16 - 8) / 1 + 1 = 9 in flight as the copier starts them, 200 us
     * each; a device that serves 4 requests at once takes 4 */
    r.e->cfg.mcfg.chunk_bytes = 64 << 10;
    vm_bitmap_set_range(set, 0, 64);
    struct cons_device fast = { .copy_bps = 1e15, .read_bps = 1e15, .write_bps = 1e15,
                                .read_lat_ns = 100000, .write_lat_ns = 100000, .qdepth = 32 };
    double each = 200000 + 2 * 65536 / 1e15 * 1e9;
    ck_assert_double_eq_tol(cons_copy_estimate_ns(r.e, set, &fast), 64 * each / 9, 1);
    fast.requests = 4;
    ck_assert_double_eq_tol(cons_copy_estimate_ns(r.e, set, &fast), 64 * each / 4, 1);
    r.e->cfg.mcfg.chunk_bytes = 1 << 20;
    /* nothing to copy; an unknown device */
    vm_bitmap_clear_range(set, 0, ng);
    ck_assert(cons_copy_estimate_ns(r.e, set, &dev) == 0);
    dev.copy_bps = 0;
    ck_assert(cons_copy_estimate_ns(r.e, set, &dev) > 1e20);
    vm_bitmap_free(set);
    rig_fini(&r);

    /* grains scattered over the disk are one run in the delta's file,
     * where they were allocated one after the other: a read of 16 such
     * grains is one I/O (cons_chain_read_runs), their write 16 */
    static const uint64_t spread[] = { 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31 };
    rig_init(&r, "helper", spread, 16, ios, n, mc, 0);
    ck_assert_uint_eq(cons_chain_read_runs(r.e->ch, 1, spread, 16, 0), 1);
    ck_assert_uint_eq(cons_chain_read_runs(r.e->ch, 1, spread + 1, 2, 0), 1);
    static const uint64_t base_only[] = { 0, 2, 4, 6 };
    ck_assert_uint_eq(cons_chain_read_runs(r.e->ch, 1, base_only, 4, 0), 4);
    static const uint64_t base_run[] = { 32, 33, 34, 40 };
    ck_assert_uint_eq(cons_chain_read_runs(r.e->ch, 1, base_run, 4, 0), 2);
    /* split at 64 KiB (a grain each), or at 128 KiB (32 to 34: two I/Os) */
    ck_assert_uint_eq(cons_chain_read_runs(r.e->ch, 1, spread, 16, GB), 16);
    ck_assert_uint_eq(cons_chain_read_runs(r.e->ch, 1, base_run, 4, GB), 4);
    ck_assert_uint_eq(cons_chain_read_runs(r.e->ch, 1, base_run, 4, 2 * GB), 3);
    ck_assert_uint_eq(cons_chain_read_runs(r.e->ch, 1, spread, 16, 8 * GB), 2);
    set = vm_bitmap_new(ng);
    for (size_t i = 0; i < 16; i++)
        vm_bitmap_set(set, spread[i]);
    dev.copy_bps = 50e6;
    dev.iops = 0;
    ck_assert_double_eq_tol(cons_copy_estimate_ns(r.e, set, &dev),
                            100000 + 4 * 100000 + 2 * mib / 100e6 * 1e9, 1);
    /* the data mover's 64 KiB I/Os: the read is 16 I/Os too, 4 waves */
    r.e->cfg.mcfg.io_bytes = 64 << 10;
    ck_assert_double_eq_tol(cons_copy_estimate_ns(r.e, set, &dev),
                            2 * (4 * 100000 + mib / 100e6 * 1e9), 1);
    /* two batches of 16 I/Os in flight with 32: the copy rate bounds them */
    r.e->cfg.mcfg.max_in_flight = 32;
    for (uint64_t g = 33; g < 64; g += 2)
        vm_bitmap_set(set, g);
    ck_assert_double_eq_tol(cons_copy_estimate_ns(r.e, set, &dev), 2 * mib / 50e6 * 1e9, 1);
    vm_bitmap_free(set);
    rig_fini(&r);
    free(ios);
}
END_TEST

/* forceSync false: at the cap the job gives up, the VM on the helper; the
 * chain still holds every acknowledged write. */
START_TEST(helper_cap_without_force_sync_gives_up)
{
    struct cons_method_cfg mc = cons_rig_mcfg();
    mc.stun_threshold_ns = 1;                   /* never fits: iterate to the cap */
    mc.max_iterations = 3;
    mc.force_sync = false;
    ck_assert(!helper_run(mc, false, 3, 3));    /* three helpers created, no commit */
}
END_TEST

START_TEST(qemu_background_recopies_dirty)
{
    size_t n;
    struct vm_blkio *ios = stream(&n, 8, 50000, 20000000);
    struct rig r;
    run_timed(&r, "qemu-background", ios, n, cons_rig_mcfg());
    ck_assert(r.res.done);
    ck_assert_uint_gt(r.res.copied_bytes, r.res.delta_bytes);  /* dirtied grains again */
    ck_assert_uint_eq(r.res.mirror_bytes, 0);
    ck_assert_uint_eq(r.res.final_mismatch, 0);
    rig_fini(&r);

    run_timed(&r, "mirror", ios, n, cons_rig_mcfg());
    ck_assert(r.res.done);
    ck_assert_uint_eq(r.res.copied_bytes, r.res.delta_bytes);  /* one pass, never again */
    ck_assert_uint_gt(r.res.mirror_bytes, 0);
    ck_assert_uint_eq(r.res.final_mismatch, 0);
    rig_fini(&r);
    free(ios);
}
END_TEST

/* ------------------------------------------------------------ selective mirror */

/* Storage vMotion's mirror (mirror-selective): a write into a grain still
 * to be copied goes to the delta only and is acknowledged once that is
 * down, the grain staying in the copy set; a write into a grain the delta
 * does not hold is mirrored (nothing would copy it); a write spanning
 * both kinds sends the target only its part in the second. */
START_TEST(selective_leaves_pending_grains_to_the_copy)
{
    static const struct vm_blkio ios[] = {
        { .t_ns = 1000001, .sector = 40 * 16 + WG, .nr = 1, .op = VM_BLKIO_WRITE },
        { .t_ns = 1000001, .sector = 9 * 16 + WG, .nr = 1, .op = VM_BLKIO_WRITE },
        { .t_ns = 1000001, .sector = 42 * 16 + 8, .nr = 16, .op = VM_BLKIO_WRITE },
    };
    struct rig r;
    uint64_t evens[32];                 /* the delta holds the even grains */
    for (int i = 0; i < 32; i++)
        evens[i] = 2 * (uint64_t)i;
    rig_init(&r, "mirror-selective", evens, 32, ios, 3, cons_rig_mcfg(), 0);
    start_job(&r, 3);
    uint64_t s = 40 * 16 + WG;
    size_t d = queued_write_at(&r, cons_chain_map(r.e->ch, 1, s));
    ck_assert_msg(d != SIZE_MAX, "the delta write is issued");
    ck_assert_msg(queued_write_at(&r, cons_chain_map(r.e->ch, 0, s)) == SIZE_MAX,
                  "no target write for a grain still to be copied");
    fake_blk_run_nth(r.dev, d);
    ck_assert_uint_eq(r.e->res.guest_writes, 1);        /* acknowledged on the delta's */
    ck_assert(vm_bitmap_test(r.e->copyset, 40));        /* the copy takes it later */
    ck_assert_msg(queued_write_at(&r, cons_chain_map(r.e->ch, 0, 9 * 16 + WG)) != SIZE_MAX,
                  "a grain the delta does not hold is mirrored");
    /* 42 (the delta's, not copied) and 43 (no delta's): the target gets
     * sectors 43 * 16 .. + 8 only */
    size_t t = queued_write_at(&r, cons_chain_map(r.e->ch, 0, 43 * 16));
    ck_assert_msg(t != SIZE_MAX, "the part in grain 43 is mirrored");
    ck_assert_uint_eq(queued_req(&r, t)->nr_blocks, 8);
    ck_assert_msg(queued_write_at(&r, cons_chain_map(r.e->ch, 0, 42 * 16 + 8)) == SIZE_MAX,
                  "the part in grain 42 is left to the copy");
    rig_finish(&r, NULL);
    ck_assert_int_eq(r.res.rc, 0);
    ck_assert(r.res.done);
    ck_assert_uint_eq(r.res.mirror_bytes, 9 * 4096);    /* grain 9's write, half of 42-43's */
    ck_assert_uint_eq(r.res.copied_bytes, r.res.delta_bytes);
    ck_assert_uint_eq(r.res.final_mismatch, 0);
    rig_fini(&r);
}
END_TEST

/* Under a steady stream into the delta's grains the selective mirror
 * sends fewer bytes to the target than the mechanism (the writes that
 * come before their grain's copy stay on the delta) and more than none
 * (those after it are mirrored); both copy each grain once. */
START_TEST(selective_mirrors_less_than_mirror)
{
    size_t n;
    struct vm_blkio *ios = stream(&n, 8, 50000, 20000000);
    uint64_t mb[2];
    const char *m[2] = { "mirror", "mirror-selective" };
    for (int i = 0; i < 2; i++) {
        struct rig r;
        run_timed(&r, m[i], ios, n, cons_rig_mcfg());
        ck_assert(r.res.done);
        ck_assert_uint_eq(r.res.copied_bytes, r.res.delta_bytes);
        ck_assert_uint_eq(r.res.final_mismatch, 0);
        mb[i] = r.res.mirror_bytes;
        rig_fini(&r);
    }
    ck_assert_uint_gt(mb[1], 0);
    ck_assert_uint_lt(mb[1], mb[0]);
    free(ios);
}
END_TEST

/* ------------------------------------------------------------ crashes */

/* Crash after k completions (the rest never land), for k = 0, 1, ...;
 * returns the lost writes and unreadable chains added up.  The chain has
 * two deltas, the lower one holding every grain the guest writes, so an
 * allocation in the top one copies real data up (a grain table entry
 * landing before that data would show zeroes, not the base's). */
static const uint64_t sixteen[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

/* Each crash that cuts a stun short: the stun up to the crash must be in
 * the run's stun figures (the VM was stunned until the host went down). */
static uint64_t stuns_cut;

/* Each case starts with no extra delta and no counts (a failed case, run
 * without forking, may leave them set). */
static void reset_state(void)
{
    lower = NULL;
    nr_lower = 0;
    stuns_cut = 0;
    rig_peek_fail_lba = UINT64_MAX;
}

static uint64_t crash_everywhere(const char *method, const struct cons_method_cfg *mc,
                                 uint64_t *points)
{
    size_t n;
    struct vm_blkio *ios = stream(&n, 16, 200000, 6000000);
    uint64_t lost = 0;
    lower = sixteen;
    nr_lower = 16;
    *points = 0;
    for (uint64_t k = 0;; k++) {
        struct rig r;
        rig_init(&r, method, eight, 8, ios, n, mc ? *mc : cons_rig_mcfg(), 0);
        cons_engine_start(r.e);
        uint64_t done = 0, cut_ns = 0;
        bool crashed = false;
        for (int guard = 0; !cons_engine_finished(r.e); guard++) {
            ck_assert_int_lt(guard, 1000000);
            if (!crashed && done == k) {
                uint64_t total0 = r.e->res.stun_total_ns;
                if (r.e->stunned) {
                    cut_ns = cons_now(r.e) - r.e->stun_start;
                    stuns_cut += cut_ns > 0;
                }
                fake_blk_crash(r.dev);
                cons_engine_crash(r.e);
                ck_assert_uint_eq(r.e->res.stun_total_ns, total0 + cut_ns);
                ck_assert(!r.e->stunned && !r.e->stun_draining);   /* counted once */
                crashed = true;
                continue;
            }
            if (fake_blk_nr_queued(r.dev)) {
                fake_blk_run_one(r.dev);
                done++;
            } else {
                ck_assert_msg(fake_timer_run_next(r.ft), "%s k=%llu: stuck (%s) q%u i%u p%u c%u d%d ls%d",
                              method, (unsigned long long)k, r.e->res.error, r.e->queued.n,
                              r.e->inflight.n, r.e->parked.n, r.e->copies, r.e->down,
                              r.e->load_stopped);
            }
        }
        cons_engine_result(r.e, &r.res);
        ck_assert_msg(r.res.rc == 0 || r.res.open_errors, "%s k=%llu: %s", method,
                      (unsigned long long)k, r.res.error);
        lost += r.res.lost_writes + r.res.open_errors + r.res.final_mismatch;
        ck_assert_uint_ge(r.res.stun_max_ns, cut_ns);
        (*points)++;
        rig_fini(&r);
        if (!crashed)
            break;                      /* k is past the run's last completion */
    }
    free(ios);
    nr_lower = 0;
    return lost;
}

START_TEST(crash_at_every_step)
{
    const char *ok[] = { "mirror", "mirror-target-only", "mirror-selective", "helper",
                         "qemu-background", "qemu-write-blocking", "offline" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t points;
        ck_assert_uint_eq(crash_everywhere(ok[i], NULL, &points), 0);
        ck_assert_uint_gt(points, 20);
    }
    /* the helper's first size check on a fast device: the whole job is
     * one stunned commit, and crashes cut it short */
    struct cons_method_cfg mc = cons_rig_mcfg();
    mc.size_check = true;
    mc.dev = (struct cons_device){ .copy_bps = 1e9, .read_bps = 1e9, .write_bps = 1e9 };
    stuns_cut = 0;
    uint64_t points;
    ck_assert_uint_eq(crash_everywhere("helper", &mc, &points), 0);
    ck_assert_uint_gt(points, 20);
    ck_assert_uint_gt(stuns_cut, 5);
}
END_TEST

START_TEST(crash_catches_broken)
{
    const char *bad[] = { "broken-target-only-early-ack", "broken-gt-before-data",
                          "broken-ack-before-gt" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t points;
        ck_assert_msg(crash_everywhere(bad[i], NULL, &points) > 0, "%s lost nothing", bad[i]);
    }
}
END_TEST

int main(void)
{
    const struct cons_rig_case cases[] = {
        { "every_order", mirror_every_order }, { "race", race_caught },
        { "helper_fits", helper_converges_under_threshold },
        { "helper_cap", helper_iterates_then_forces },
        { "helper_no_force", helper_cap_without_force_sync_gives_up },
        { "helper_zero", helper_zero_iterations_commits_stunned },
        { "helper_size_check", helper_size_check },
        { "helper_estimate", helper_estimate },
        { "bitmap", qemu_background_recopies_dirty },
        { "helper_threshold_boundary", helper_threshold_boundary },
        { "selective", selective_leaves_pending_grains_to_the_copy },
        { "selective_bytes", selective_mirrors_less_than_mirror },
        { "crash", crash_at_every_step }, { "crash_broken", crash_catches_broken },
        { "check_halves", check_halves_cover_every_run },
        { "check_read_error", check_read_error_counts_as_one_pass },
    };
    return cons_rig_main("consolidation", cases, sizeof cases / sizeof cases[0], 600, reset_state);
}
