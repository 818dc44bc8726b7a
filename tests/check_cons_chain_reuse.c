/*
 * check_cons_chain_reuse.c - the reuse of unmapped grain places in a
 * delta (cons_chain_int.h): a place is reused, lowest first, once the GT
 * write that clears it is durable and not while a read that found it is
 * in flight; a crash at every step of writes that reuse places, in
 * several completion orders, leaves every acknowledged write readable and
 * no sector holding another grain's data; the deliberate mutation
 * CONS_MUT_REUSE_BEFORE_GT is caught by the same sweep.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_err.h"
#include "base/vm_fp.h"
#include "cons_chain_rig.h"
#include "consolidation/cons_chain_int.h"

#define NR_SECTORS 4096u        /* grains of 4 sectors: 1024 grains, 2 GTs */
#define SHIFT 2u
#define G 4u

static uint64_t new_fp(unsigned w, uint64_t s) { return vm_fp_page(100 + w, s, 1); }

enum order { ORDER_FIFO, ORDER_LIFO, ORDER_RANDOM };

/* ---- reuse -------------------------------------------------------------- */

/* An unmapped grain's place is reused (lowest first) for the next
 * allocation once the GT write that clears it is durable, not before: the
 * file does not grow, and a reopen sees only the new grain there. */
START_TEST(test_cons_chain_unmapped_place_is_reused_after_its_gt_is_durable)
{
    struct fix f;
    fix_init(&f, NR_SECTORS, SHIFT);
    static const uint64_t d1[] = { 3, 4, 5 };
    fix_delta(&f, d1, 3);
    struct cons_layer *ly = f.ch->layers[1];
    uint32_t p3 = cons_gt_entry(ly, 3), p5 = cons_gt_entry(ly, 5);
    ck_assert_uint_eq(p3, f.ch->grains0);
    struct rig_done du = { 0 }, du5 = { 0 }, dw = { 0 };
    ck_assert_int_eq(cons_chain_unmap(f.ch, 1, 5, rig_done_fn, &du5), 0);
    ck_assert_int_eq(cons_chain_unmap(f.ch, 1, 3, rig_done_fn, &du), 0);
    uint64_t w[G] = { 11, 12, 13, 14 };
    /* the unmaps' GT write is not down: grain 10 goes at the end */
    ck_assert_int_eq(cons_chain_write(f.ch, 1, 10 * G, G, w, rig_done_fn, &dw), 0);
    fake_blk_run(f.dev);
    ck_assert_int_eq(du.rc, 0);
    ck_assert_int_eq(du5.rc, 0);
    ck_assert_int_eq(dw.rc, 0);
    ck_assert_uint_eq(cons_gt_entry(ly, 10), f.ch->grains0 + 3 * G);
    ck_assert_uint_eq(ly->nr_grains_appended, 4);
    /* now both places are free: the lowest first, and the file stays */
    uint64_t x[G] = { 21, 22, 23, 24 }, y[G] = { 31, 32, 33, 34 };
    ck_assert_int_eq(rig_write(f.ch, f.dev, 1, 11 * G, G, x), 0);
    ck_assert_int_eq(rig_write(f.ch, f.dev, 1, 12 * G + 1, 1, y), 0);   /* filled from below */
    ck_assert_uint_eq(cons_gt_entry(ly, 11), p3);
    ck_assert_uint_eq(cons_gt_entry(ly, 12), p5);
    ck_assert_uint_eq(ly->nr_grains_appended, 4);
    uint64_t e[G] = { 41, 42, 43, 44 };
    ck_assert_int_eq(rig_write(f.ch, f.dev, 1, 13 * G, G, e), 0);      /* none left: append */
    ck_assert_uint_eq(cons_gt_entry(ly, 13), f.ch->grains0 + 4 * G);
    ck_assert_uint_eq(ly->nr_grains_appended, 5);
    uint64_t fps[G];
    ck_assert_int_eq(rig_read(f.ch, f.dev, 1, 3 * G, G, fps), 0);
    ck_assert_uint_eq(fps[0], rig_base_fp(3 * G));
    ck_assert_int_eq(rig_read(f.ch, f.dev, 1, 11 * G, G, fps), 0);
    ck_assert_uint_eq(fps[3], 24);
    int rc;
    struct cons_chain *re = rig_reopen(f.dev, &f.cfg, &rc, NULL);
    ck_assert_int_eq(rc, 0);
    ck_assert(!cons_chain_allocated(re, 1, 3));
    ck_assert(!cons_chain_allocated(re, 1, 5));
    ck_assert_uint_eq(cons_gt_entry(re->layers[1], 11), p3);
    ck_assert_uint_eq(cons_gt_entry(re->layers[1], 12), p5);
    ck_assert_int_eq(rig_read(re, f.dev, 1, 12 * G, G, fps), 0);
    ck_assert_uint_eq(fps[0], rig_base_fp(12 * G));
    ck_assert_uint_eq(fps[1], 31);
    cons_chain_free(re);
    fix_free(&f);
}
END_TEST

/* A read that found a grain's place before the grain was unmapped keeps
 * the place from reuse until it ends, so it returns the old data. */
START_TEST(test_cons_chain_read_in_flight_keeps_an_unmapped_place_until_it_ends)
{
    struct fix f;
    fix_init(&f, NR_SECTORS, SHIFT);
    static const uint64_t d1[] = { 3 };
    fix_delta(&f, d1, 1);
    struct cons_layer *ly = f.ch->layers[1];
    uint32_t p3 = cons_gt_entry(ly, 3);
    uint64_t fps[G];
    struct rig_done dr = { 0 }, du = { 0 }, dw = { 0 };
    ck_assert_int_eq(cons_chain_read(f.ch, 1, 3 * G, G, fps, rig_done_fn, &dr), 0);
    ck_assert_int_eq(cons_chain_unmap(f.ch, 1, 3, rig_done_fn, &du), 0);
    ck_assert_uint_eq(fake_blk_nr_queued(f.dev), 2);
    fake_blk_run_nth(f.dev, 1);                 /* the GT write, before the read */
    ck_assert_int_eq(du.calls, 1);
    ck_assert_int_eq(du.rc, 0);
    uint64_t w[G] = { 11, 12, 13, 14 };
    ck_assert_int_eq(cons_chain_write(f.ch, 1, 20 * G, G, w, rig_done_fn, &dw), 0);
    fake_blk_run(f.dev);
    ck_assert_int_eq(dr.rc, 0);
    ck_assert_int_eq(dw.rc, 0);
    ck_assert_uint_ne(cons_gt_entry(ly, 20), p3);
    for (uint32_t k = 0; k < G; k++)
        ck_assert_uint_eq(fps[k], rig_fp(NULL, 1, 3 * G + k));
    /* the read is over: the place is free now */
    ck_assert_int_eq(rig_write(f.ch, f.dev, 1, 21 * G, G, w), 0);
    ck_assert_uint_eq(cons_gt_entry(ly, 21), p3);
    fix_free(&f);
}
END_TEST

/* ---- reuse of unmapped places, crashed at every step ---------------------- */

/* Delta grains 3 and 4; unmap 3 (settled first, or racing), then writes
 * of grain 11 (whole) and 12 (one sector), which may take 3's place, and
 * an unmap of 4 racing them.  After a crash at any step: 3 and 4 hold
 * their delta data or, once unmapped, the base; 11 and 12 the base or,
 * once acknowledged, the new data; never another grain's. */
struct reuse {
    struct cons_chain_cfg cfg;
    struct fake_blk *dev;
    struct cons_chain *ch;
    struct rig_done u3, u4, w11, w12;
    uint64_t x[4], y;
};

static void reuse_init(struct reuse *r, enum cons_mutation mut, bool settle)
{
    memset(r, 0, sizeof(*r));
    r->cfg = rig_cfg(NR_SECTORS, SHIFT, 3);
    r->cfg.mutation = mut;
    r->dev = rig_dev(&r->cfg);
    ck_assert_ptr_nonnull(r->dev);
    rig_fill_base(r->dev, &r->cfg);
    r->ch = cons_chain_new(&r->dev->base, &r->cfg);
    ck_assert_ptr_nonnull(r->ch);
    static const uint64_t d1[] = { 3, 4 };
    struct cons_setup su = rig_setup(r->dev);
    ck_assert_int_eq(cons_chain_setup_delta(r->ch, &su, 2, rig_pick, rig_fp, (void *)d1), 0);
    ck_assert_int_eq(cons_chain_unmap(r->ch, 1, 3, rig_done_fn, &r->u3), 0);
    if (settle)
        fake_blk_run(r->dev);
    for (uint32_t k = 0; k < 4; k++)
        r->x[k] = new_fp(11, 44 + k);
    r->y = new_fp(12, 49);
    ck_assert_int_eq(cons_chain_write(r->ch, 1, 44, 4, r->x, rig_done_fn, &r->w11), 0);
    ck_assert_int_eq(cons_chain_unmap(r->ch, 1, 4, rig_done_fn, &r->u4), 0);
    ck_assert_int_eq(cons_chain_write(r->ch, 1, 49, 1, &r->y, rig_done_fn, &r->w12), 0);
}

static const char *reuse_check(struct reuse *r, char *why, size_t len)
{
    int rc;
    char err[256];
    struct cons_chain *re = rig_reopen(r->dev, &r->cfg, &rc, err);
    if (!re) {
        snprintf(why, len, "open failed: %s", err);
        return why;
    }
    const char *bad = NULL;
    uint64_t fps[20];
    ck_assert_int_eq(rig_read(re, r->dev, 1, 12, 20, fps), 0);     /* grains 3 .. 7 */
    uint64_t fps2[8];
    ck_assert_int_eq(rig_read(re, r->dev, 1, 44, 8, fps2), 0);     /* grains 11, 12 */
    for (uint64_t s = 12; s < 20 && !bad; s++) {
        uint64_t v = fps[s - 12], old = rig_fp(NULL, 1, s);
        bool unmapped = s < 16 ? r->u3.calls == 1 : r->u4.calls == 1;
        if (v != rig_base_fp(s) && (unmapped || v != old)) {
            snprintf(why, len, "sector %lu: %s", (unsigned long)s,
                     unmapped ? "acknowledged unmap lost or garbage" : "garbage");
            bad = why;
        }
    }
    for (uint64_t s = 44; s < 52 && !bad; s++) {
        uint64_t v = fps2[s - 44];
        bool in11 = s < 48, in12 = s == 49;
        uint64_t nf = in11 ? r->x[s - 44] : in12 ? r->y : rig_base_fp(s);
        bool acked = in11 ? r->w11.calls == 1 : in12 ? r->w12.calls == 1 : true;
        if (acked ? v != nf : (v != nf && v != rig_base_fp(s))) {
            snprintf(why, len, "sector %lu: %s", (unsigned long)s,
                     acked && v != rig_base_fp(s) ? "another grain's data"
                     : acked ? "acknowledged write lost" : "garbage");
            bad = why;
        }
    }
    cons_chain_free(re);
    return bad;
}

static int reuse_sweep(enum cons_mutation mut, bool settle, enum order order, unsigned seed,
                       char *first_why, int *steps)
{
    int violations = 0;
    for (size_t k = 0;; k++) {
        struct reuse r;
        reuse_init(&r, mut, settle);
        if (settle || mut != CONS_MUT_NONE) {   /* 3's place goes to grain 11 */
            const struct cons_galloc *ga = cons_inflight_find(r.ch, r.ch->layers[1]->slot, 11);
            ck_assert_ptr_nonnull(ga);
            ck_assert_uint_eq(ga->pos, r.ch->grains0);
        } else {                                /* 3's unmap is not down: append */
            const struct cons_galloc *ga = cons_inflight_find(r.ch, r.ch->layers[1]->slot, 11);
            ck_assert_ptr_nonnull(ga);
            ck_assert_uint_gt(ga->pos, r.ch->grains0 + 4);
        }
        srand(seed);
        bool more = true;
        for (size_t i = 0; i < k && more; i++) {
            size_t q = fake_blk_nr_queued(r.dev);
            if (q == 0) {
                more = false;
                break;
            }
            fake_blk_run_nth(r.dev, order == ORDER_FIFO ? 0 : order == ORDER_LIFO
                                                         ? q - 1 : (size_t)rand() % q);
        }
        bool finished = fake_blk_nr_queued(r.dev) == 0;
        if (finished) {
            ck_assert_int_eq(r.w11.rc, 0);
            ck_assert_int_eq(r.w12.rc, 0);
            ck_assert_int_eq(r.u3.calls + r.u4.calls, 2);
        }
        fake_blk_crash(r.dev);
        char why[400];
        const char *bad = reuse_check(&r, why, sizeof(why));
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

START_TEST(test_cons_chain_crash_with_reused_places_keeps_every_acknowledged_write)
{
    for (int settle = 0; settle <= 1; settle++)
        for (int o = ORDER_FIFO; o <= ORDER_RANDOM; o++)
            for (unsigned seed = 1; seed <= (o == ORDER_RANDOM ? 8u : 1u); seed++) {
                char why[400] = "";
                int steps = 0;
                int v = reuse_sweep(CONS_MUT_NONE, settle, (enum order)o, seed, why, &steps);
                ck_assert_msg(v == 0, "settle %d order %d seed %u: %s", settle, o, seed, why);
                ck_assert_int_gt(steps, 4);
            }
}
END_TEST

/* Reusing a place before the GT write that clears it is down: a crash
 * then reopens the old entry over the new grain's data. */
START_TEST(test_cons_chain_crash_sweep_catches_reuse_before_gt)
{
    int total = 0;
    char why[400] = "";
    for (int o = ORDER_FIFO; o <= ORDER_RANDOM; o++)
        for (unsigned seed = 1; seed <= (o == ORDER_RANDOM ? 8u : 1u); seed++) {
            int steps = 0;
            total += reuse_sweep(CONS_MUT_REUSE_BEFORE_GT, false, (enum order)o, seed,
                                 total ? NULL : why, &steps);
        }
    ck_assert_msg(total > 0, "reuse before the GT not caught");
    ck_assert_msg(strstr(why, "garbage") || strstr(why, "open failed"), "%s", why);
}
END_TEST

static Suite *cons_chain_reuse_suite(void)
{
    Suite *s = suite_create("cons_chain_reuse");
    TCase *tc = tcase_create("reuse");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_cons_chain_unmapped_place_is_reused_after_its_gt_is_durable);
    tcase_add_test(tc, test_cons_chain_read_in_flight_keeps_an_unmapped_place_until_it_ends);
    tcase_add_test(tc, test_cons_chain_crash_with_reused_places_keeps_every_acknowledged_write);
    tcase_add_test(tc, test_cons_chain_crash_sweep_catches_reuse_before_gt);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cons_chain_reuse_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
