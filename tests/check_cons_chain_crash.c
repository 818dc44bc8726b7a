/*
 * check_cons_chain_crash.c - recovery of the disk chain (cons_chain.h):
 * a crash at every step of a scenario of allocating and in-place writes
 * and an unmap,
 * in several completion orders, must leave every acknowledged write
 * readable and no sector holding anything but its old or a new content;
 * each deliberate mutation (CONS_MUT_*) must be caught by the same sweep;
 * a write request failed at every step, then writes over the same
 * sectors, must read back before and after a crash (the tables in memory
 * go back to what the disk holds);
 * open() refuses corrupt blocks with VM_EPARSE and says why.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_err.h"
#include "base/vm_fp.h"
#include "base/vm_fpstore.h"
#include "cons_chain_rig.h"
#include "consolidation/cons_chain_int.h"

#define NR_SECTORS 4096u        /* grains of 4 sectors: 1024 grains, 2 GTs */
#define SHIFT 2u

/* The scenario: writes into layer 1, issued together; distinct sectors. */
struct sw {
    uint64_t s;
    uint32_t n;
};
static const struct sw scen[] = {
    { 1, 2 },       /* grain 0: in place */
    { 9, 2 },       /* grain 2: allocation, head and tail filled */
    { 12, 4 },      /* grain 3: whole grain, same GT: group commit */
    { 11, 1 },      /* grain 2 again: waits for the allocation, then in place */
    { 2801, 1 },    /* grain 700: a new GT, so a GD update */
    { 3, 6 },       /* grains 0, 1 in place, grain 2 after it lands */
    { 2816, 8 },    /* grains 704, 705 whole, in the new GT */
};
#define NR_SCEN (sizeof(scen) / sizeof(scen[0]))
/* The sectors checked: every one the scenario touches, and their grains. */
/* And an unmap of grain UNMAP_G, which layer 1 holds from the set-up. */
#define UNMAP_G 20u
static const struct sw region[] = { { 0, 24 }, { 2800, 4 }, { 2816, 8 }, { UNMAP_G * 4, 4 } };
#define NR_REGION (sizeof(region) / sizeof(region[0]))

static uint64_t new_fp(unsigned w, uint64_t s) { return vm_fp_page(100 + w, s, 1); }

enum order { ORDER_FIFO, ORDER_LIFO, ORDER_RANDOM };

struct run {
    struct cons_chain_cfg cfg;
    struct fake_blk *dev;
    struct cons_chain *ch;
    uint64_t wfps[NR_SCEN][8];
    struct rig_done done[NR_SCEN];
    struct rig_done unmapped;
    uint64_t old[NR_REGION][24];
};

/* fail_k >= 0: the fail_k-th write request of the scenario fails once */
static void run_init_failing(struct run *r, enum cons_mutation mut, int fail_k);

static void run_init(struct run *r, enum cons_mutation mut)
{
    run_init_failing(r, mut, -1);
}

static void run_init_failing(struct run *r, enum cons_mutation mut, int fail_k)
{
    r->cfg = rig_cfg(NR_SECTORS, SHIFT, 3);
    r->cfg.mutation = mut;
    r->dev = rig_dev(&r->cfg);
    ck_assert_ptr_nonnull(r->dev);
    rig_fill_base(r->dev, &r->cfg);
    r->ch = cons_chain_new(&r->dev->base, &r->cfg);
    ck_assert_ptr_nonnull(r->ch);
    static const uint64_t d1[] = { 0, 1, UNMAP_G };
    struct cons_setup su = rig_setup(r->dev);
    ck_assert_int_eq(cons_chain_setup_delta(r->ch, &su, 3, rig_pick, rig_fp, (void *)d1), 0);
    for (unsigned i = 0; i < NR_REGION; i++)
        ck_assert_int_eq(rig_read(r->ch, r->dev, 1, region[i].s, region[i].n, r->old[i]), 0);
    memset(r->done, 0, sizeof(r->done));
    memset(&r->unmapped, 0, sizeof(r->unmapped));
    if (fail_k >= 0)
        fake_blk_fail_writes(r->dev, (uint64_t)fail_k, VM_FAULT_ONCE, VM_EIO);
    for (unsigned w = 0; w < NR_SCEN; w++) {
        for (uint32_t k = 0; k < scen[w].n; k++)
            r->wfps[w][k] = new_fp(w, scen[w].s + k);
        ck_assert_int_eq(cons_chain_write(r->ch, 1, scen[w].s, scen[w].n, r->wfps[w],
                                          rig_done_fn, &r->done[w]), 0);
        if (w == 2)
            ck_assert_int_eq(cons_chain_unmap(r->ch, 1, UNMAP_G, rig_done_fn, &r->unmapped), 0);
    }
}

/* Complete k requests in the given order; false when fewer were left. */
static bool run_steps(struct run *r, size_t k, enum order order, unsigned seed)
{
    srand(seed);
    for (size_t i = 0; i < k; i++) {
        size_t q = fake_blk_nr_queued(r->dev);
        if (q == 0)
            return false;
        size_t pick = order == ORDER_FIFO ? 0 : order == ORDER_LIFO ? q - 1 : (size_t)rand() % q;
        fake_blk_run_nth(r->dev, pick);
    }
    return true;
}

/* Which scenario write covers sector s (or -1). */
static int writer_of(uint64_t s)
{
    for (unsigned w = 0; w < NR_SCEN; w++)
        if (s >= scen[w].s && s < scen[w].s + scen[w].n)
            return (int)w;
    return -1;
}

/* After the crash: open a fresh chain over the store and check each
 * sector.  Returns a description of the first violation, or NULL. */
static const char *check_recovered(struct run *r, char *why, size_t len)
{
    int rc;
    char err[256];
    struct cons_chain *re = rig_reopen(r->dev, &r->cfg, &rc, err);
    if (!re) {
        snprintf(why, len, "open failed: %s", err);
        return why;
    }
    const char *bad = NULL;
    for (unsigned i = 0; i < NR_REGION && !bad; i++) {
        uint64_t fps[24];
        rc = rig_read(re, r->dev, 1, region[i].s, region[i].n, fps);
        ck_assert_int_eq(rc, 0);
        for (uint32_t k = 0; k < region[i].n && !bad; k++) {
            uint64_t s = region[i].s + k;
            int w = writer_of(s);
            bool acked = w >= 0 && r->done[w].calls == 1 && r->done[w].rc == 0;
            uint64_t nf = w >= 0 ? new_fp((unsigned)w, s) : 0;
            if (s / 4 == UNMAP_G) {     /* the old content, or the base once unmapped */
                if (fps[k] != rig_base_fp(s) && (r->unmapped.calls || fps[k] != r->old[i][k])) {
                    snprintf(why, len, "sector %lu: %s", (unsigned long)s,
                             r->unmapped.calls ? "acknowledged unmap lost" : "garbage");
                    bad = why;
                }
            } else if (acked && fps[k] != nf) {
                snprintf(why, len, "sector %lu: acknowledged write %d lost", (unsigned long)s, w);
                bad = why;
            } else if (fps[k] != r->old[i][k] && (w < 0 || fps[k] != nf)) {
                snprintf(why, len, "sector %lu: garbage (neither old nor new)", (unsigned long)s);
                bad = why;
            }
        }
    }
    cons_chain_free(re);
    return bad;
}

/* Sweep k over every step for one order; returns violations found (and
 * the first in first_why). */
static int sweep(enum cons_mutation mut, enum order order, unsigned seed, char *first_why,
                 int *steps)
{
    int violations = 0;
    for (size_t k = 0;; k++) {
        struct run r;
        run_init(&r, mut);
        bool more = run_steps(&r, k, order, seed);
        bool finished = fake_blk_nr_queued(r.dev) == 0;
        if (finished) {
            for (unsigned w = 0; w < NR_SCEN; w++) {
                ck_assert_int_eq(r.done[w].calls, 1);
                ck_assert_int_eq(r.done[w].rc, 0);
            }
            ck_assert_int_eq(r.unmapped.calls, 1);
            ck_assert_int_eq(r.unmapped.rc, 0);
        }
        fake_blk_crash(r.dev);
        char why[400];
        const char *bad = check_recovered(&r, why, sizeof(why));
        if (bad && violations++ == 0 && first_why)
            snprintf(first_why, 400, "k=%zu: %.360s", k, bad);
        cons_chain_free(r.ch);
        fake_blk_free(r.dev);
        if (!more || finished) {
            *steps = (int)k;
            break;
        }
    }
    return violations;
}

START_TEST(test_cons_chain_crash_at_every_step_keeps_every_acknowledged_write)
{
    for (int o = ORDER_FIFO; o <= ORDER_RANDOM; o++)
        for (unsigned seed = 1; seed <= (o == ORDER_RANDOM ? 8u : 1u); seed++) {
            char why[400] = "";
            int steps = 0;
            int v = sweep(CONS_MUT_NONE, (enum order)o, seed, why, &steps);
            ck_assert_msg(v == 0, "order %d seed %u: %s", o, seed, why);
            ck_assert_int_gt(steps, 10);
        }
}
END_TEST

/* Each mutation breaks the order; the same sweep must catch it. */
START_TEST(test_cons_chain_crash_sweep_catches_each_mutation)
{
    static const enum cons_mutation muts[] = { CONS_MUT_GT_BEFORE_DATA, CONS_MUT_ACK_BEFORE_GT };
    for (unsigned m = 0; m < 2; m++) {
        int total = 0;
        char why[400] = "";
        for (int o = ORDER_FIFO; o <= ORDER_RANDOM; o++)
            for (unsigned seed = 1; seed <= (o == ORDER_RANDOM ? 8u : 1u); seed++) {
                int steps = 0;
                total += sweep(muts[m], (enum order)o, seed, total ? NULL : why, &steps);
            }
        ck_assert_msg(total > 0, "mutation %d not caught", (int)muts[m]);
        if (muts[m] == CONS_MUT_ACK_BEFORE_GT)
            ck_assert_msg(strstr(why, "acknowledged") != NULL, "mutation %d: %s", (int)muts[m],
                          why);
    }
}
END_TEST

/* ---- a failed write, then writes over it, then a crash -------------------- */

/* The scenario with its k-th write request failing (data, GT or GD),
 * run to the end; then a write over each scenario write's range, all
 * acknowledged; then a crash.  Each of those must read back before and
 * after the reopen: a failed allocation's entry left in memory would take
 * the second write in place, acknowledged on a table the disk never got.
 * Returns the violations (the first in why); *failed: some request of
 * the scenario failed at all (false: k is past its last write). */
static int fail_then_overwrite(enum cons_mutation mut, int k, bool *failed, char *why)
{
    struct run r;
    run_init_failing(&r, mut, k);
    fake_blk_run(r.dev);
    *failed = fake_blk_nr_failed(r.dev) > 0;
    fake_blk_fail_writes(r.dev, 0, VM_FAULT_OFF, 0);   /* k may be past the scenario */
    int bad_ops = 0;
    for (unsigned w = 0; w < NR_SCEN; w++) {
        ck_assert_int_eq(r.done[w].calls, 1);
        bad_ops += r.done[w].rc != 0;
    }
    ck_assert_int_eq(r.unmapped.calls, 1);
    bad_ops += r.unmapped.rc != 0;
    /* the failure reaches an operation it served */
    ck_assert_msg(!*failed || bad_ops > 0, "k=%d: a write failed, no operation did", k);
    uint64_t again[NR_SCEN][8];
    for (unsigned w = 0; w < NR_SCEN; w++) {
        for (uint32_t i = 0; i < scen[w].n; i++)
            again[w][i] = vm_fp_page(900 + w, scen[w].s + i, 2);
        ck_assert_int_eq(rig_write(r.ch, r.dev, 1, scen[w].s, scen[w].n, again[w]), 0);
    }
    int violations = 0;
    for (int pass = 0; pass < 2; pass++) {
        struct cons_chain *ch = r.ch;
        if (pass == 1) {
            fake_blk_crash(r.dev);
            int rc;
            char err[256];
            ch = rig_reopen(r.dev, &r.cfg, &rc, err);
            ck_assert_msg(ch != NULL, "k=%d: %s", k, err);
        }
        for (unsigned w = 0; w < NR_SCEN; w++) {
            uint64_t fps[8];
            ck_assert_int_eq(rig_read(ch, r.dev, 1, scen[w].s, scen[w].n, fps), 0);
            for (uint32_t i = 0; i < scen[w].n; i++)
                if (fps[i] != again[w][i] && violations++ == 0)
                    snprintf(why, 400, "k=%d %s: sector %lu: acknowledged write lost", k,
                             pass ? "after the crash" : "live", (unsigned long)(scen[w].s + i));
        }

        if (pass == 1)
            cons_chain_free(ch);
    }
    cons_chain_free(r.ch);
    fake_blk_free(r.dev);
    return violations;
}

/* The scenario with its k-th write failing, then a crash at once: the
 * unmapped grain reads the same before and after the reopen (a failed
 * unmap leaves the entry the disk still has; the writes over the others
 * in fail_then_overwrite would rewrite its table).  1 if not. */
static int fail_then_crash(int k, bool *failed, char *why)
{
    struct run r;
    run_init_failing(&r, CONS_MUT_NONE, k);
    fake_blk_run(r.dev);
    *failed = fake_blk_nr_failed(r.dev) > 0;
    uint64_t live[4], after[4];
    ck_assert_int_eq(rig_read(r.ch, r.dev, 1, UNMAP_G * 4, 4, live), 0);
    fake_blk_crash(r.dev);
    int rc;
    char err[256];
    struct cons_chain *re = rig_reopen(r.dev, &r.cfg, &rc, err);
    ck_assert_msg(re != NULL, "k=%d: %s", k, err);
    ck_assert_int_eq(rig_read(re, r.dev, 1, UNMAP_G * 4, 4, after), 0);
    int bad = memcmp(live, after, sizeof live) != 0;
    if (bad)
        snprintf(why, 400, "k=%d: grain %u reads otherwise after the reopen (unmap %s)", k,
                 UNMAP_G, r.unmapped.rc ? "failed" : "done");
    cons_chain_free(re);
    cons_chain_free(r.ch);
    fake_blk_free(r.dev);
    return bad;
}

START_TEST(test_cons_chain_failed_write_leaves_tables_as_the_disk_has_them)
{
    int k = 0;
    for (;; k++) {
        bool failed;
        char why[400] = "";
        int v = fail_then_overwrite(CONS_MUT_NONE, k, &failed, why);
        ck_assert_msg(v == 0, "%s", why);
        ck_assert_msg(fail_then_crash(k, &failed, why) == 0, "%s", why);
        if (!failed)
            break;
    }
    ck_assert_int_gt(k, 8);         /* data, GT and GD writes were each failed */
}
END_TEST

/* Grain UNMAP_G of layer 1 reads old[] live and, after a crash, from a
 * chain reopened over the disk. */
static void expect_grain_old(struct fix *f, const uint64_t *old)
{
    uint64_t got[4];
    ck_assert_int_eq(rig_read(f->ch, f->dev, 1, UNMAP_G * 4, 4, got), 0);
    ck_assert_mem_eq(got, old, sizeof got);
    fake_blk_crash(f->dev);
    int rc;
    char err[256];
    struct cons_chain *re = rig_reopen(f->dev, &f->cfg, &rc, err);
    ck_assert_msg(re != NULL, "%s", err);
    ck_assert_int_eq(rig_read(re, f->dev, 1, UNMAP_G * 4, 4, got), 0);
    ck_assert_mem_eq(got, old, sizeof got);
    cons_chain_free(re);
}

/* An unmap alone whose GT write fails: the grain reads its old content
 * live and after a reopen (the entry is restored, as the disk has it). */
START_TEST(test_cons_chain_failed_unmap_restores_the_entry)
{
    struct fix f;
    fix_init(&f, NR_SECTORS, SHIFT);
    static const uint64_t d1[] = { UNMAP_G };
    fix_delta(&f, d1, 1);
    uint64_t old[4];
    ck_assert_int_eq(rig_read(f.ch, f.dev, 1, UNMAP_G * 4, 4, old), 0);
    fake_blk_fail_writes(f.dev, 0, VM_FAULT_ONCE, VM_EIO);
    struct rig_done d = { 0 }, waited = { 0 };
    ck_assert_int_eq(cons_chain_unmap_wait(f.ch, 1, UNMAP_G, rig_done_fn, &waited), 0);
    ck_assert_int_eq(cons_chain_unmap(f.ch, 1, UNMAP_G, rig_done_fn, &d), 0);
    /* a write meeting the grain waits for the unmap, and gets its result */
    ck_assert_int_eq(cons_chain_unmap_wait(f.ch, 1, UNMAP_G, rig_done_fn, &waited), 1);
    ck_assert_int_eq(cons_chain_unmap_wait(f.ch, 1, UNMAP_G + 1, rig_done_fn, &waited), 0);
    fake_blk_run(f.dev);
    ck_assert_int_eq(d.calls, 1);
    ck_assert_int_eq(d.rc, VM_EIO);
    ck_assert_int_eq(waited.calls, 1);
    ck_assert_int_eq(waited.rc, VM_EIO);
    ck_assert_uint_eq(fake_blk_nr_failed(f.dev), 1);
    expect_grain_old(&f, old);
    fix_free(&f);
}
END_TEST

/* An unmap whose GT write fails while a write allocates the grain anew,
 * and that allocation fails too: the entry goes back to the place the
 * disk still names, live and after a reopen. */
START_TEST(test_cons_chain_failed_unmap_then_failed_allocation_restores_the_entry)
{
    struct fix f;
    fix_init(&f, NR_SECTORS, SHIFT);
    static const uint64_t d1[] = { UNMAP_G };
    fix_delta(&f, d1, 1);
    uint64_t old[4], w[1] = { vm_fp_page(55, UNMAP_G * 4 + 1, 1) };
    ck_assert_int_eq(rig_read(f.ch, f.dev, 1, UNMAP_G * 4, 4, old), 0);
    fake_blk_fail_writes(f.dev, 0, VM_FAULT_PERSIST, VM_EIO);
    struct rig_done du = { 0 }, dw = { 0 };
    ck_assert_int_eq(cons_chain_unmap(f.ch, 1, UNMAP_G, rig_done_fn, &du), 0);
    ck_assert_int_eq(cons_chain_write(f.ch, 1, UNMAP_G * 4 + 1, 1, w, rig_done_fn, &dw), 0);
    fake_blk_run(f.dev);
    ck_assert_int_eq(du.calls, 1);
    ck_assert_int_eq(du.rc, VM_EIO);
    ck_assert_int_eq(dw.calls, 1);
    ck_assert_int_eq(dw.rc, VM_EIO);
    fake_blk_fail_writes(f.dev, 0, VM_FAULT_OFF, 0);
    expect_grain_old(&f, old);
    fix_free(&f);
}
END_TEST

/* Keeping a failed write's entries in memory loses writes. */
START_TEST(test_cons_chain_failed_write_sweep_catches_kept_entries)
{
    int total = 0;
    char first[400] = "";
    for (int k = 0;; k++) {
        bool failed;
        char why[400] = "";
        int v = fail_then_overwrite(CONS_MUT_KEEP_FAILED, k, &failed, why);
        if (v && !total)
            snprintf(first, sizeof first, "%s", why);
        total += v;
        if (!failed)
            break;
    }
    ck_assert_msg(total > 0, "CONS_MUT_KEEP_FAILED not caught");
    ck_assert_msg(strstr(first, "after the crash") != NULL, "%s", first);
}
END_TEST

/* ---- a snapshot, crashed at every step ------------------------------------ */

/* create_delta -> write_desc -> a write into the new layer, each started
 * from the previous one's done; a write into layer 1 races them. */
struct snap {
    struct cons_chain *ch;
    int layer;
    struct rig_done created, described, wrote, raced;
    uint64_t w[4], r[4];
};

static void snap_wrote(void *arg, int rc) { rig_done_fn(&((struct snap *)arg)->wrote, rc); }

static void snap_described(void *arg, int rc)
{
    struct snap *sn = arg;
    rig_done_fn(&sn->described, rc);
    ck_assert_int_eq(cons_chain_write(sn->ch, sn->layer, 41, 4, sn->w, snap_wrote, sn), 0);
}

static void snap_created(void *arg, int rc)
{
    struct snap *sn = arg;
    rig_done_fn(&sn->created, rc);
    ck_assert_int_eq(cons_chain_write_desc(sn->ch, "snap", 4, snap_described, sn), 0);
}

START_TEST(test_cons_chain_crash_during_snapshot_opens_old_or_new_chain)
{
    for (size_t k = 0;; k++) {
        struct run r;
        r.cfg = rig_cfg(NR_SECTORS, SHIFT, 3);
        r.dev = rig_dev(&r.cfg);
        rig_fill_base(r.dev, &r.cfg);
        r.ch = cons_chain_new(&r.dev->base, &r.cfg);
        static const uint64_t d1[] = { 10 };
        struct cons_setup su = rig_setup(r.dev);
        ck_assert_int_eq(cons_chain_setup_delta(r.ch, &su, 1, rig_pick, rig_fp, (void *)d1), 0);
        struct snap sn = { .ch = r.ch };
        for (int i = 0; i < 4; i++) {
            sn.w[i] = new_fp(50, 41 + (uint64_t)i);
            sn.r[i] = new_fp(60, 40 + (uint64_t)i);
        }
        ck_assert_int_eq(cons_chain_write(r.ch, 1, 40, 4, sn.r, rig_done_fn, &sn.raced), 0);
        ck_assert_int_eq(cons_chain_create_delta(r.ch, &sn.layer, snap_created, &sn), 0);
        bool more = run_steps(&r, k, ORDER_FIFO, 1);
        bool finished = fake_blk_nr_queued(r.dev) == 0;
        fake_blk_crash(r.dev);
        int rc;
        char err[256];
        struct cons_chain *re = rig_reopen(r.dev, &r.cfg, &rc, err);
        ck_assert_msg(re != NULL, "k=%zu: %s", k, err);
        ck_assert_int_eq(cons_chain_nr_layers(re), sn.described.calls ? 3 : 2);
        uint64_t fps[8];
        ck_assert_int_eq(rig_read(re, r.dev, cons_chain_nr_layers(re) - 1, 40, 8, fps), 0);
        if (sn.raced.calls)
            ck_assert_uint_eq(fps[0], sn.r[0]);
        if (sn.wrote.calls)
            ck_assert_mem_eq(fps + 1, sn.w, sizeof(sn.w));
        for (int i = 0; i < 8; i++) {
            uint64_t s = 40 + (uint64_t)i;
            uint64_t old = s < 44 ? rig_fp(NULL, 1, s) : rig_base_fp(s);   /* grain 10 */
            bool ok = fps[i] == old || (i < 4 && fps[i] == sn.r[i]) ||
                      (i >= 1 && i < 5 && fps[i] == sn.w[i - 1]);
            ck_assert_msg(ok, "k=%zu: sector %d garbage", k, (int)s);
        }
        cons_chain_free(re);
        cons_chain_free(r.ch);
        fake_blk_free(r.dev);
        if (!more || finished) {
            ck_assert_int_eq(sn.wrote.calls, 1);
            ck_assert_int_eq(sn.wrote.rc, 0);
            break;
        }
    }
}
END_TEST

/* ---- corrupt blocks ------------------------------------------------------- */

struct cfix {
    struct cons_chain_cfg cfg;
    struct fake_blk *dev;
    struct cons_chain *ch;
    uint64_t lba0;              /* layer 1's slot */
};

static void cfix_init(struct cfix *f)
{
    f->cfg = rig_cfg(NR_SECTORS, SHIFT, 3);
    f->dev = rig_dev(&f->cfg);
    f->ch = cons_chain_new(&f->dev->base, &f->cfg);
    static const uint64_t d1[] = { 0, 5, 600 };
    struct cons_setup su = rig_setup(f->dev);
    ck_assert_int_eq(cons_chain_setup_delta(f->ch, &su, 3, rig_pick, rig_fp, (void *)d1), 0);
    f->lba0 = f->cfg.slot0_lba + f->ch->layers[1]->slot * f->cfg.slot_blocks;
}

static void cfix_free(struct cfix *f)
{
    cons_chain_free(f->ch);
    fake_blk_free(f->dev);
}

/* Open a fresh chain: must fail with VM_EPARSE and a reason holding want. */
static void expect_parse_error(struct cfix *f, const char *want)
{
    int rc;
    char err[256];
    struct cons_chain *re = rig_reopen(f->dev, &f->cfg, &rc, err);
    ck_assert_ptr_null(re);
    ck_assert_int_eq(rc, VM_EPARSE);
    ck_assert_msg(strstr(err, want) != NULL, "reason '%s' lacks '%s'", err, want);
}

/* A copy of the metadata blob at lba, to be edited and put back. */
static uint32_t get_blob(struct cfix *f, uint64_t lba, uint8_t *buf)
{
    const void *bytes;
    uint32_t len;
    ck_assert_int_eq(vm_fpstore_peek_packed(f->dev->store, lba, NULL, NULL, &bytes, &len, NULL),
                     0);
    memcpy(buf, bytes, len);
    return len;
}

static void put_blob(struct cfix *f, uint64_t lba, const uint8_t *buf, uint32_t len)
{
    ck_assert_int_eq(vm_fpstore_put_packed(f->dev->store, lba, 1, NULL, 0, buf, len), 0);
}

START_TEST(test_cons_chain_open_bad_magic_in_header_fails_with_eparse)
{
    struct cfix f;
    cfix_init(&f);
    uint8_t b[CONS_BLOB_MAX];
    uint32_t len = get_blob(&f, f.lba0, b);
    b[0] ^= 0x55;
    put_blob(&f, f.lba0, b, len);
    expect_parse_error(&f, "header: bad magic");
    cfix_free(&f);
}
END_TEST

START_TEST(test_cons_chain_open_bad_checksum_in_gt_fails_with_eparse)
{
    struct cfix f;
    cfix_init(&f);
    uint8_t b[CONS_BLOB_MAX];
    uint64_t lba = f.lba0 + f.ch->layers[1]->gt_pos[0];
    uint32_t len = get_blob(&f, lba, b);
    b[CONS_TBL_HEAD + 4 * 5] ^= 1;          /* grain 5's entry, torn */
    put_blob(&f, lba, b, len);
    expect_parse_error(&f, "GT block: bad checksum");
    cfix_free(&f);
}
END_TEST

START_TEST(test_cons_chain_open_gt_entry_outside_file_fails_with_eparse)
{
    struct cfix f;
    cfix_init(&f);
    uint8_t b[CONS_BLOB_MAX];
    uint32_t ent[CONS_GT_ENTRIES];
    memcpy(ent, f.ch->layers[1]->gt[0], sizeof(ent));
    ent[5] = (uint32_t)f.cfg.slot_blocks + 8;
    cons_fmt_put_tbl(b, CONS_GT_MAGIC, f.ch->layers[1]->slot, 0, ent, CONS_GT_ENTRIES,
                     CONS_GT_ENTRIES);
    put_blob(&f, f.lba0 + f.ch->layers[1]->gt_pos[0], b, CONS_GT_LEN);
    expect_parse_error(&f, "outside the file");
    cfix_free(&f);
}
END_TEST

START_TEST(test_cons_chain_open_gt_entries_misaligned_or_shared_fail_with_eparse)
{
    for (int c = 0; c < 3; c++) {
        struct cfix f;
        cfix_init(&f);
        uint8_t b[CONS_BLOB_MAX];
        uint32_t ent[CONS_GT_ENTRIES];
        memcpy(ent, f.ch->layers[1]->gt[0], sizeof(ent));
        const char *want;
        if (c == 0) {
            ent[5] += 1;
            want = "not grain-aligned";
        } else if (c == 1) {
            ent[5] = ent[0];
            want = "another entry";
        } else {
            ent[5] = f.ch->layers[1]->gt_pos[0] & ~(uint32_t)3;
            want = "outside the file's grains";     /* the GTs' places come first */
        }
        cons_fmt_put_tbl(b, CONS_GT_MAGIC, f.ch->layers[1]->slot, 0, ent, CONS_GT_ENTRIES,
                         CONS_GT_ENTRIES);
        put_blob(&f, f.lba0 + f.ch->layers[1]->gt_pos[0], b, CONS_GT_LEN);
        expect_parse_error(&f, want);
        cfix_free(&f);
    }
}
END_TEST

START_TEST(test_cons_chain_open_foreign_or_missing_blocks_fail_with_eparse)
{
    struct cfix f;
    cfix_init(&f);
    /* a GD block naming a GT outside the file */
    uint8_t b[CONS_BLOB_MAX];
    uint32_t gd[CONS_GD_PER_BLOCK] = { 0 };
    gd[0] = (uint32_t)f.cfg.slot_blocks;
    cons_fmt_put_tbl(b, CONS_GD_MAGIC, f.ch->layers[1]->slot, 0, gd, 2, CONS_GD_PER_BLOCK);
    put_blob(&f, f.lba0 + 1, b, CONS_GD_LEN);
    expect_parse_error(&f, "GD entry");
    /* a GT block of another slot where the GD points */
    cfix_free(&f);
    cfix_init(&f);
    uint32_t ent[CONS_GT_ENTRIES] = { 0 };
    cons_fmt_put_tbl(b, CONS_GT_MAGIC, f.ch->layers[1]->slot + 1, 0, ent, 0, CONS_GT_ENTRIES);
    put_blob(&f, f.lba0 + f.ch->layers[1]->gt_pos[0], b, CONS_GT_LEN);
    expect_parse_error(&f, "expected slot");
    /* no descriptor at all */
    cfix_free(&f);
    cfix_init(&f);
    uint64_t zero = 1;
    ck_assert_int_eq(vm_fpstore_put(f.dev->store, f.cfg.desc_lba, 1, &zero), 0);
    expect_parse_error(&f, "no descriptor");
    cfix_free(&f);
}
END_TEST

static Suite *cons_chain_crash_suite(void)
{
    Suite *s = suite_create("cons_chain_crash");
    TCase *tc = tcase_create("crash");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_cons_chain_crash_at_every_step_keeps_every_acknowledged_write);
    tcase_add_test(tc, test_cons_chain_crash_sweep_catches_each_mutation);
    tcase_add_test(tc, test_cons_chain_crash_during_snapshot_opens_old_or_new_chain);
    tcase_add_test(tc, test_cons_chain_failed_write_leaves_tables_as_the_disk_has_them);
    tcase_add_test(tc, test_cons_chain_failed_write_sweep_catches_kept_entries);
    tcase_add_test(tc, test_cons_chain_failed_unmap_restores_the_entry);
    tcase_add_test(tc, test_cons_chain_failed_unmap_then_failed_allocation_restores_the_entry);
    suite_add_tcase(s, tc);

    tc = tcase_create("corrupt");
    tcase_add_test(tc, test_cons_chain_open_bad_magic_in_header_fails_with_eparse);
    tcase_add_test(tc, test_cons_chain_open_bad_checksum_in_gt_fails_with_eparse);
    tcase_add_test(tc, test_cons_chain_open_gt_entry_outside_file_fails_with_eparse);
    tcase_add_test(tc, test_cons_chain_open_gt_entries_misaligned_or_shared_fail_with_eparse);
    tcase_add_test(tc, test_cons_chain_open_foreign_or_missing_blocks_fail_with_eparse);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cons_chain_crash_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
