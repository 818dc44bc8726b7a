/*
 * check_hostmem_kswapd.c - suite "hostmem_kswapd": host memory whose
 * reclaim is kswapd's (models/hostmem/hostmem.h, "Reclaim"): Linux's
 * watermark arithmetic (min_free_kbytes, min/low/high), an admission
 * above min takes a free frame and waits for nothing, at min or below it
 * reclaims directly, kswapd's batches stop at high and count frames under
 * write-back, which are not free until their write-back ends, kswapd
 * never takes a locked frame and the frames it frees from unused
 * prefetches are demand's only (a deliberately broken evictor is caught
 * breaking either), bad
 * config, and a random run that keeps every invariant.
 *
 * The referenced bits are a bitmap the test sets, as in check_hostmem.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_rand.h"
#include "hostmem/hostmem.h"

struct rig {
    struct hostmem *hm;
    uint64_t *young;
    struct hostmem_admission *adm;
};

static bool young_cb(void *data, uint64_t frame)
{
    struct rig *r = data;
    bool was = vm_bitmap_test(r->young, frame);
    vm_bitmap_clear(r->young, frame);
    return was;
}

/* 1000 frames, 200 resident; min_free_kbytes 40 (min 10 frames) and a
 * scale factor of 500 (gap max(10 / 4, 200 * 500 / 10000) = 10): min 10,
 * low 20, high 30. */
static void rig_init(struct rig *r)
{
    memset(r, 0, sizeof(*r));
    r->young = vm_bitmap_new(1000);
    r->adm = malloc(sizeof(*r->adm));
    ck_assert_ptr_nonnull(r->young);
    ck_assert_ptr_nonnull(r->adm);
    struct hostmem_cfg cfg = { .nr_frames = 1000, .max_resident = 200,
                               .reclaim = HOSTMEM_RECLAIM_KSWAPD, .min_free_kbytes = 40,
                               .watermark_scale_factor = 500 };
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_msg(hostmem_new(&cfg, young_cb, r, &r->hm, &d) == 0, "%s", d.msg);
    const struct hostmem_wmarks *wm = hostmem_wmarks(r->hm);
    ck_assert_uint_eq(wm->min, 10);
    ck_assert_uint_eq(wm->low, 20);
    ck_assert_uint_eq(wm->high, 30);
}

static void rig_fini(struct rig *r)
{
    ck_assert_uint_eq(hostmem_check(r->hm), 0);
    hostmem_free(r->hm);
    vm_bitmap_free(r->young);
    free(r->adm);
}

static void fault(struct rig *r, uint64_t frame)
{
    ck_assert_int_eq(hostmem_admit(r->hm, &frame, 1, r->adm), 0);
    ck_assert_uint_eq(r->adm->nr_admitted, 1);
}

START_TEST(test_kswapd_min_free_kbytes_follows_linux)
{
    ck_assert_uint_eq(hostmem_min_free_kbytes(0), 128);          /* the floor */
    ck_assert_uint_eq(hostmem_min_free_kbytes(1024), 128);       /* sqrt(16384) = 128 */
    ck_assert_uint_eq(hostmem_min_free_kbytes(4216), 259);       /* 4 MiB + 120 KiB */
    ck_assert_uint_eq(hostmem_min_free_kbytes(65536), 1024);     /* 64 MiB (the table) */
    ck_assert_uint_eq(hostmem_min_free_kbytes(1048576), 4096);   /* 1 GiB */
    ck_assert_uint_eq(hostmem_min_free_kbytes(16777216), 16384); /* 16 GiB */
    ck_assert_uint_eq(hostmem_min_free_kbytes(1ull << 40), 262144); /* the ceiling */
}
END_TEST

START_TEST(test_kswapd_watermarks_follow_linux)
{
    static const struct {
        uint64_t frames, min_free_kbytes;
        uint32_t scale;
        uint64_t min, low, high;
    } cases[] = {
        /* min_free_kbytes 259 -> min 64; gap max(16, 1) */
        { 1054, 0, 0, 64, 80, 96 },
        /* 3.8 GiB: 8000 KiB -> min 2000; the scale factor's 0.1% (1000)
         * beats min / 4 (500) */
        { 1000000, 0, 10, 2000, 3000, 4000 },
        /* override: min_free_kbytes 1024 -> min 256, gap 64 */
        { 1054, 1024, 0, 256, 320, 384 },
        /* watermark_scale_factor 3000 (30%): mult_frac(1054, 3000, 10000) = 316 */
        { 1054, 0, 3000, 64, 380, 696 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hostmem_wmarks w;
        hostmem_wmarks_calc(cases[i].frames, cases[i].min_free_kbytes, cases[i].scale, &w);
        ck_assert_uint_eq(w.min, cases[i].min);
        ck_assert_uint_eq(w.low, cases[i].low);
        ck_assert_uint_eq(w.high, cases[i].high);
    }
}
END_TEST

START_TEST(test_kswapd_allocation_above_min_waits_for_nothing)
{
    struct rig r;
    rig_init(&r);
    for (uint64_t f = 0; f < 180; f++) {       /* free 200 .. 21: above low */
        fault(&r, f);
        ck_assert_uint_eq(r.adm->nr_evicted, 0);
        ck_assert(!r.adm->wake_kswapd);
    }
    ck_assert_uint_eq(hostmem_nr_free(r.hm), 20);
    for (uint64_t f = 180; f < 190; f++) {     /* free 20 .. 11: low, above min */
        fault(&r, f);
        ck_assert_uint_eq(r.adm->nr_evicted, 0);   /* no reclaim, nothing to wait for */
        ck_assert_uint_eq(r.adm->nr_writes, 0);
        ck_assert(r.adm->wake_kswapd);             /* kswapd is asked for */
    }
    ck_assert_uint_eq(hostmem_nr_free(r.hm), 10);
    ck_assert_uint_eq(hostmem_stats(r.hm)->kswapd_wakes, 10);
    ck_assert_uint_eq(hostmem_stats(r.hm)->evictions, 0);
    rig_fini(&r);
}
END_TEST

START_TEST(test_kswapd_allocation_at_min_reclaims_directly)
{
    struct rig r;
    rig_init(&r);
    for (uint64_t f = 0; f < 190; f++)
        fault(&r, f);
    ck_assert_uint_eq(hostmem_nr_free(r.hm), 10);  /* = min */
    fault(&r, 500);
    ck_assert_uint_eq(r.adm->nr_evicted, 1);       /* direct reclaim */
    ck_assert_uint_eq(r.adm->evicted[0], 0);       /* the clock's first */
    ck_assert_uint_eq(r.adm->nr_writes, 1);        /* dirty: the fault waits for it */
    ck_assert(r.adm->demand_evict);
    ck_assert(r.adm->wake_kswapd);
    ck_assert_uint_eq(hostmem_nr_free(r.hm), 10);  /* the evicted frame's place is taken */
    ck_assert_uint_eq(hostmem_nr_writeback(r.hm), 0);
    ck_assert_uint_eq(hostmem_stats(r.hm)->direct_evictions, 1);
    /* a prefetch batch at min reclaims too, for each frame */
    uint64_t b[] = { 501, 502, 503 };
    ck_assert_int_eq(hostmem_admit(r.hm, b, 3, r.adm), 0);
    ck_assert_uint_eq(r.adm->nr_admitted, 3);
    ck_assert_uint_eq(r.adm->nr_evicted, 3);
    rig_fini(&r);
}
END_TEST

START_TEST(test_kswapd_stops_at_high_and_writeback_frames_are_not_free)
{
    struct rig r;
    rig_init(&r);
    for (uint64_t f = 0; f < 190; f++)
        fault(&r, f);
    /* a batch is at most what the caller asks */
    ck_assert_uint_eq(hostmem_kswapd(r.hm, 8, r.adm), 8);
    ck_assert_uint_eq(r.adm->nr_writes, 8);
    ck_assert_uint_eq(r.adm->nr_admitted, 0);
    ck_assert_uint_eq(hostmem_nr_writeback(r.hm), 8);
    /* then up to high: free 10 + under write-back 20 = 30 */
    ck_assert_uint_eq(hostmem_kswapd(r.hm, HOSTMEM_KSWAPD_BATCH, r.adm), 12);
    ck_assert_uint_eq(hostmem_nr_writeback(r.hm), 20);
    ck_assert_uint_eq(hostmem_nr_free(r.hm), 10);   /* not free before the write ends */
    ck_assert_uint_eq(hostmem_nr_resident(r.hm), 170);
    ck_assert_uint_eq(hostmem_kswapd(r.hm, HOSTMEM_KSWAPD_BATCH, r.adm), 0);
    ck_assert_uint_eq(hostmem_check(r.hm), 0);
    /* an allocation meanwhile still reclaims directly (free is at min) */
    fault(&r, 600);
    ck_assert_uint_eq(r.adm->nr_evicted, 1);
    ck_assert_int_eq(hostmem_writeback_end(r.hm, 21), VM_EINVAL);
    ck_assert_int_eq(hostmem_writeback_end(r.hm, 8), 0);
    ck_assert_uint_eq(hostmem_nr_free(r.hm), 18);
    ck_assert_int_eq(hostmem_writeback_end(r.hm, 12), 0);
    ck_assert_uint_eq(hostmem_nr_free(r.hm), 30);   /* high */
    ck_assert_uint_eq(hostmem_kswapd(r.hm, HOSTMEM_KSWAPD_BATCH, r.adm), 0);
    fault(&r, 601);                                 /* above low: no wake */
    ck_assert_uint_eq(r.adm->nr_evicted, 0);
    ck_assert(!r.adm->wake_kswapd);
    ck_assert_uint_eq(hostmem_stats(r.hm)->kswapd_evictions, 20);
    ck_assert_uint_eq(hostmem_stats(r.hm)->kswapd_writes, 20);
    rig_fini(&r);
}
END_TEST

START_TEST(test_kswapd_clean_frames_free_at_once)
{
    struct rig r;
    rig_init(&r);
    for (uint64_t f = 0; f < 1000; f++)             /* everything in swap */
        ck_assert_int_eq(hostmem_preload(r.hm, f), 0);
    for (uint64_t f = 0; f < 190; f++)
        fault(&r, f);                               /* read back: clean, keep slots */
    ck_assert_uint_eq(hostmem_kswapd(r.hm, HOSTMEM_KSWAPD_BATCH, r.adm), 20);
    ck_assert_uint_eq(r.adm->nr_writes, 0);
    ck_assert_uint_eq(hostmem_nr_writeback(r.hm), 0);
    ck_assert_uint_eq(hostmem_nr_free(r.hm), 30);
    rig_fini(&r);
}
END_TEST

/* 999 demand and 0..9 prefetched, unused; 10..188 faulted (free 10 =
 * min), 10..19 locked; kswapd takes 999, the unused prefetches 0..9 and
 * 20..28, their write-back ends: free 30 (high), 10 of them owed. */
static void owed_setup(struct rig *r)
{
    rig_init(r);
    uint64_t b[11];
    for (uint64_t i = 0; i < 11; i++)
        b[i] = i == 0 ? 999 : i - 1;
    ck_assert_int_eq(hostmem_admit(r->hm, b, 11, r->adm), 0);
    ck_assert_uint_eq(r->adm->nr_admitted, 11);
    for (uint64_t f = 10; f < 189; f++)
        fault(r, f);
    ck_assert_uint_eq(hostmem_nr_free(r->hm), 10);
    for (uint64_t f = 10; f < 20; f++)
        ck_assert_int_eq(hostmem_lock(r->hm, f), 0);
    ck_assert_uint_eq(hostmem_kswapd(r->hm, HOSTMEM_KSWAPD_BATCH, r->adm), 20);
    bool taken[1000] = { false };
    for (uint32_t i = 0; i < r->adm->nr_evicted; i++) {
        uint64_t e = r->adm->evicted[i];
        ck_assert(e < 10 || e >= 20);               /* never a locked frame */
        taken[e] = true;
    }
    for (uint64_t f = 0; f < 10; f++)
        ck_assert(taken[f]);                        /* unreferenced: reclaimed */
    ck_assert_uint_eq(hostmem_nr_owed(r->hm), 10);
    ck_assert_uint_eq(hostmem_stats(r->hm)->prefetch_wasted, 10);
    ck_assert_uint_eq(hostmem_stats(r->hm)->violations, 0);
    ck_assert_int_eq(hostmem_writeback_end(r->hm, hostmem_nr_writeback(r->hm)), 0);
    ck_assert_uint_eq(hostmem_nr_free(r->hm), 30);
    ck_assert_uint_eq(hostmem_nr_owed(r->hm), 10);
}

START_TEST(test_kswapd_unused_prefetch_frames_owed_to_demand)
{
    struct rig r;
    owed_setup(&r);
    /* room: free above min + owed (10) + resident unlocked (170 - 10) */
    ck_assert_uint_eq(hostmem_room(r.hm), 101);     /* the cap's 1 + 100 */
    uint64_t b[16];
    for (uint64_t i = 0; i < 16; i++)
        b[i] = 700 + i;
    ck_assert_int_eq(hostmem_admit(r.hm, b, 16, r.adm), 0);
    ck_assert_uint_eq(r.adm->nr_admitted, 16);
    /* the faulting frame took an owed frame (free 29, owed 9); the
     * prefetches took free frames down to min + owed = 19, then reclaimed
     * the other 5 directly, by the prefetch rule */
    ck_assert_uint_eq(hostmem_nr_owed(r.hm), 9);
    ck_assert_uint_eq(hostmem_nr_free(r.hm), 19);
    ck_assert_uint_eq(r.adm->nr_evicted, 5);
    ck_assert(!r.adm->demand_evict);
    ck_assert_uint_eq(hostmem_stats(r.hm)->violations, 0);
    fault(&r, 800);                                 /* demand: owed 8 */
    ck_assert_uint_eq(r.adm->nr_evicted, 0);
    ck_assert_uint_eq(hostmem_nr_owed(r.hm), 8);
    for (uint64_t f = 10; f < 20; f++)
        ck_assert_int_eq(hostmem_unlock(r.hm, f), 0);
    rig_fini(&r);
}
END_TEST

START_TEST(test_kswapd_broken_evictor_is_caught)
{
    struct rig r;
    owed_setup(&r);
    hostmem_test_break_evictor(r.hm, true);
    uint64_t b[16];
    for (uint64_t i = 0; i < 16; i++)
        b[i] = 700 + i;
    ck_assert_int_eq(hostmem_admit(r.hm, b, 16, r.adm), 0);
    /* the broken admission lets the prefetches take the owed frames:
     * free 29 down to 14, the five at 19..15 were owed */
    ck_assert_uint_eq(r.adm->nr_evicted, 0);
    ck_assert_uint_eq(hostmem_stats(r.hm)->violations, 5);
    ck_assert_uint_gt(hostmem_check(r.hm), 0);
    hostmem_free(r.hm);
    vm_bitmap_free(r.young);
    free(r.adm);
}
END_TEST

START_TEST(test_kswapd_broken_kswapd_takes_locked_frames)
{
    struct rig r;
    rig_init(&r);
    for (uint64_t f = 0; f < 190; f++) {
        fault(&r, f);
        ck_assert_int_eq(hostmem_lock(r.hm, f), 0);
    }
    ck_assert_uint_eq(hostmem_kswapd(r.hm, HOSTMEM_KSWAPD_BATCH, r.adm), 0);  /* all pinned */
    hostmem_test_break_evictor(r.hm, true);
    ck_assert_uint_eq(hostmem_kswapd(r.hm, HOSTMEM_KSWAPD_BATCH, r.adm), 20);
    ck_assert_uint_eq(hostmem_stats(r.hm)->violations, 20);
    ck_assert_uint_gt(hostmem_check(r.hm), 0);
    hostmem_free(r.hm);
    vm_bitmap_free(r.young);
    free(r.adm);
}
END_TEST

START_TEST(test_kswapd_memcg_has_no_watermarks_and_no_kswapd)
{
    struct rig r = { 0 };
    r.young = vm_bitmap_new(100);
    r.adm = malloc(sizeof(*r.adm));
    struct hostmem_cfg cfg = { .nr_frames = 100, .max_resident = 10 };
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(hostmem_new(&cfg, young_cb, &r, &r.hm, &d), 0);
    ck_assert_uint_eq(hostmem_wmarks(r.hm)->high, 0);
    for (uint64_t f = 0; f < 10; f++)
        fault(&r, f);
    ck_assert_uint_eq(hostmem_nr_free(r.hm), 0);
    ck_assert(!r.adm->wake_kswapd);
    ck_assert_uint_eq(hostmem_kswapd(r.hm, HOSTMEM_KSWAPD_BATCH, r.adm), 0);
    fault(&r, 50);
    ck_assert_uint_eq(r.adm->nr_evicted, 1);
    ck_assert(r.adm->demand_evict);
    rig_fini(&r);
}
END_TEST

START_TEST(test_kswapd_bad_config_refused_with_message)
{
    struct rig r = { 0 };
    struct hostmem *hm = NULL;
    struct vm_diag d;
    struct hostmem_cfg cfg = { .nr_frames = 1000, .max_resident = 200, .reclaim = 7 };
    vm_diag_clear(&d);
    ck_assert_int_eq(hostmem_new(&cfg, young_cb, &r, &hm, &d), VM_EINVAL);
    ck_assert_ptr_null(hm);
    ck_assert_ptr_nonnull(strstr(d.msg, "reclaim"));
    /* Linux's min for 200 frames is 128 KiB: 32 frames, high 48: fits */
    cfg.reclaim = HOSTMEM_RECLAIM_KSWAPD;
    vm_diag_clear(&d);
    ck_assert_int_eq(hostmem_new(&cfg, young_cb, &r, &hm, &d), 0);
    ck_assert_uint_eq(hostmem_wmarks(hm)->high, 48);
    hostmem_free(hm);
    hm = NULL;
    cfg.min_free_kbytes = 800;          /* min 200: nothing left */
    vm_diag_clear(&d);
    ck_assert_int_eq(hostmem_new(&cfg, young_cb, &r, &hm, &d), VM_EINVAL);
    ck_assert_ptr_null(hm);
    ck_assert_ptr_nonnull(strstr(d.msg, "high watermark"));
}
END_TEST

START_TEST(test_kswapd_random_run_keeps_invariants)
{
    struct rig r;
    rig_init(&r);
    struct vm_rand rnd;
    vm_rand_init(&rnd, 7, 0);
    uint64_t locked[4] = { HOSTMEM_NONE, HOSTMEM_NONE, HOSTMEM_NONE, HOSTMEM_NONE };
    for (int step = 0; step < 20000; step++) {
        uint64_t f = vm_rand_below(&rnd, 1000);
        unsigned op = (unsigned)vm_rand_below(&rnd, 8);
        if (op == 0) {
            hostmem_kswapd(r.hm, HOSTMEM_KSWAPD_BATCH, r.adm);
        } else if (op == 1) {
            uint64_t wb = hostmem_nr_writeback(r.hm);
            ck_assert_int_eq(hostmem_writeback_end(r.hm, (wb + 1) / 2), 0);
        } else if (op == 2 && hostmem_is_resident(r.hm, f)) {
            unsigned k = (unsigned)(f & 3);
            if (locked[k] != HOSTMEM_NONE)
                ck_assert_int_eq(hostmem_unlock(r.hm, locked[k]), 0);
            locked[k] = hostmem_lock(r.hm, f) == 0 ? f : HOSTMEM_NONE;
        } else if (hostmem_is_resident(r.hm, f)) {
            vm_bitmap_set(r.young, f);
            if (op & 1)
                hostmem_write(r.hm, f);
            else
                hostmem_use(r.hm, f);
        } else if (hostmem_can_admit(r.hm)) {
            uint64_t b[4] = { f };
            uint32_t n = 1;
            for (uint64_t g = f + 1; g < 1000 && n < 4; g++)
                if (!hostmem_is_resident(r.hm, g))
                    b[n++] = g;
            uint64_t room = hostmem_room(r.hm);
            if (n > room)
                n = room ? (uint32_t)room : 1;
            ck_assert_int_eq(hostmem_admit(r.hm, b, n, r.adm), 0);
            ck_assert_uint_eq(r.adm->nr_admitted, n);   /* room is honest */
            for (uint32_t i = 0; i < r.adm->nr_evicted; i++)
                for (unsigned k = 0; k < 4; k++)
                    ck_assert_uint_ne(r.adm->evicted[i], locked[k]);
        }
        if (step % 997 == 0)
            ck_assert_uint_eq(hostmem_check(r.hm), 0);
    }
    for (unsigned k = 0; k < 4; k++)
        if (locked[k] != HOSTMEM_NONE)
            ck_assert_int_eq(hostmem_unlock(r.hm, locked[k]), 0);
    ck_assert_uint_gt(hostmem_stats(r.hm)->kswapd_evictions, 0);
    ck_assert_uint_gt(hostmem_stats(r.hm)->direct_evictions, 0);
    rig_fini(&r);
}
END_TEST

static Suite *hostmem_kswapd_suite(void)
{
    Suite *s = suite_create("hostmem_kswapd");
    TCase *tc = tcase_create("watermarks");
    tcase_add_test(tc, test_kswapd_min_free_kbytes_follows_linux);
    tcase_add_test(tc, test_kswapd_watermarks_follow_linux);
    suite_add_tcase(s, tc);
    tc = tcase_create("reclaim");
    tcase_add_test(tc, test_kswapd_allocation_above_min_waits_for_nothing);
    tcase_add_test(tc, test_kswapd_allocation_at_min_reclaims_directly);
    tcase_add_test(tc, test_kswapd_stops_at_high_and_writeback_frames_are_not_free);
    tcase_add_test(tc, test_kswapd_clean_frames_free_at_once);
    tcase_add_test(tc, test_kswapd_unused_prefetch_frames_owed_to_demand);
    tcase_add_test(tc, test_kswapd_broken_evictor_is_caught);
    tcase_add_test(tc, test_kswapd_broken_kswapd_takes_locked_frames);
    tcase_add_test(tc, test_kswapd_memcg_has_no_watermarks_and_no_kswapd);
    tcase_add_test(tc, test_kswapd_bad_config_refused_with_message);
    tcase_add_test(tc, test_kswapd_random_run_keeps_invariants);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(hostmem_kswapd_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
