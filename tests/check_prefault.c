/*
 * check_prefault.c - unit tests of models/prefault: which frames each
 * policy asks for, given a fault history, with a fake backing store
 * (tests/fakes/fake_backing.h) and real guest page tables
 * (models/guest/guest_pt.h), through the shared rig (prefault_rig.h):
 * answers within the host's room, fault-only, guest-physical window, Linux
 * swap cluster readahead (fixed and adaptive), Linux VMA readahead (gpa
 * and gva), Leap (trend, cluster fallback, slot/gpa/gva spaces, a
 * sequential scan), and the patent's GVA windows (sym, fwd, table,
 * adaptive); that no policy asks for a neighbour without content; the
 * registry and properties every listed policy keeps (and
 * the broken test-only ones do not).  Record-and-replay policies and the
 * broken ones have their own cases in check_prefault_replay.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_rand.h"
#include "prefault_rig.h"

#define NR_FRAMES PREFAULT_RIG_FRAMES

static uint32_t fault_gfn(struct rig *r, uint64_t gfn) { return rig_fault_gfn(r, gfn); }
static uint32_t fault_gva(struct rig *r, uint64_t gva) { return rig_fault_gva(r, gva); }

/* gva page p of a 64-page region maps to frame 5000 - 3p: GPA order is the
 * reverse of GVA order, and not adjacent.  All of them swapped out. */
#define REGION 0x7f0000000000ull
static uint64_t region_gfn(uint64_t p) { return 5000 - 3 * p; }
static void map_region(struct rig *r, uint64_t pages)
{
    for (uint64_t p = 0; p < pages; p++) {
        ck_assert_int_eq(guest_pt_map(r->as, REGION + p * 4096, region_gfn(p), GUEST_PTE_RW, NULL), 0);
        fake_backing_swap_out(r->fb, region_gfn(p));
    }
}

/* =============================================================== baselines */

START_TEST(test_prefault_faultonly_brings_the_faulting_frame_only)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, 100);
    rig_start(&r, "faultonly", NULL);
    EXPECT(&r, fault_gfn(&r, 50), 50);
    ck_assert_uint_eq(prefault_stats(r.s)->faults, 1);
    ck_assert_uint_eq(prefault_stats(r.s)->prefetched, 0);
    rig_fini(&r);
}
END_TEST

static void k2(struct prefault_cfg *c) { c->k = 2; }

START_TEST(test_prefault_gpa_window_takes_absent_neighbours_nearest_first)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, 20);
    fake_backing_bring_in(r.fb, 11);
    rig_start(&r, "gpa-window", k2);
    EXPECT(&r, fault_gfn(&r, 10), 10, 9, 12, 8);
    EXPECT(&r, fault_gfn(&r, 0), 0, 1, 2);                 /* nothing below frame 0 */
    fake_backing_swap_out(r.fb, NR_FRAMES - 1);
    fake_backing_swap_out(r.fb, NR_FRAMES - 2);
    EXPECT(&r, fault_gfn(&r, NR_FRAMES - 1), NR_FRAMES - 1, NR_FRAMES - 2);
    ck_assert_uint_eq(prefault_stats(r.s)->prefetched, 3 + 2 + 1);
    rig_fini(&r);
}
END_TEST

START_TEST(test_prefault_gpa_window_never_requests_a_frame_without_content)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, 20);
    fake_backing_drop(r.fb, 9);                            /* never touched */
    fake_backing_drop(r.fb, 12);
    rig_start(&r, "gpa-window", k2);
    EXPECT(&r, fault_gfn(&r, 10), 10, 11, 8);
    ck_assert_uint_eq(prefault_stats(r.s)->no_content, 2);
    ck_assert_uint_eq(prefault_stats(r.s)->prefetched, 2);
    /* A fault on such a frame is still answered (the world zero-fills it). */
    EXPECT(&r, fault_gfn(&r, 12), 12, 13, 11, 14, 10);
    rig_fini(&r);
}
END_TEST

START_TEST(test_prefault_answers_stay_within_the_hosts_room)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, 100);
    rig_start(&r, "gpa-window", NULL);                     /* k = 8: 16 neighbours */
    r.fb->room = 3;                                        /* the faulting frame and 2 */
    EXPECT(&r, fault_gfn(&r, 50), 50, 51, 49);
    ck_assert_uint_eq(prefault_stats(r.s)->clipped, 14);
    r.fb->room = 0;                                        /* the faulting frame always */
    EXPECT(&r, fault_gfn(&r, 20), 20);
    ck_assert_uint_eq(prefault_stats(r.s)->clipped, 14 + 16);
    ck_assert_uint_eq(prefault_stats(r.s)->prefetched, 2);
    rig_fini(&r);
}
END_TEST

static void fixed_cluster(struct prefault_cfg *c) { c->adaptive = false; }

START_TEST(test_prefault_cluster_reads_the_aligned_eight_slots)
{
    struct rig r;
    rig_init(&r);
    /* Slots in eviction order: slot i holds frame 1000 + 7 i. */
    for (uint64_t i = 0; i < 14; i++)
        fake_backing_swap_out(r.fb, 1000 + 7 * i);
    fake_backing_bring_in(r.fb, 1000 + 7 * 12);            /* slot 12: in memory */
    rig_start(&r, "cluster", fixed_cluster);
    ck_assert_uint_eq(r.s->cfg.page_cluster, 3);           /* the kernel's default */
    /* Fault on slot 10: slots 8..15; 12 is resident, 14 and 15 are free. */
    EXPECT(&r, fault_gfn(&r, 1000 + 7 * 10), 1070, 1056, 1063, 1077, 1091);
    /* A frame with no slot: nothing to read around. */
    EXPECT(&r, fault_gfn(&r, 3), 3);
    rig_fini(&r);
}
END_TEST

START_TEST(test_prefault_cluster_adaptive_follows_swapin_nr_pages)
{
    struct rig r;
    rig_init(&r);
    for (uint64_t i = 0; i < 64; i++)
        fake_backing_swap_out(r.fb, 2000 + i);             /* slot i = frame 2000 + i */
    rig_start(&r, "cluster", NULL);
    ck_assert(r.s->cfg.adaptive);
    /* No hits, not adjacent to the previous fault (slot 0): no readahead. */
    EXPECT(&r, fault_gfn(&r, 2010), 2010);
    ck_assert_uint_eq(prefault_stats(r.s)->window, 1);
    /* Adjacent: 2 slots, aligned: 10..11. */
    EXPECT(&r, fault_gfn(&r, 2011), 2011, 2010);
    ck_assert_uint_eq(prefault_stats(r.s)->window, 2);
    /* Three hits: 3 + 2 = 5 rounds up to 8: slots 16..23. */
    for (int i = 0; i < 3; i++)
        r.s->policy->hit(r.s, 2010);
    EXPECT(&r, fault_gfn(&r, 2020), 2020, 2016, 2017, 2018, 2019, 2021, 2022, 2023);
    /* No hits, far away: 1, but never below half the last window: 4. */
    EXPECT(&r, fault_gfn(&r, 2041), 2041, 2040, 2042, 2043);
    ck_assert_uint_eq(prefault_stats(r.s)->window, 4);
    ck_assert_uint_eq(prefault_stats(r.s)->hits, 3);
    rig_fini(&r);
}
END_TEST

static void cluster_gpa(struct prefault_cfg *c) { c->adaptive = false; c->space = 1; }

START_TEST(test_prefault_cluster_never_requests_a_frame_without_content)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 16, 8);
    fake_backing_drop(r.fb, 18);
    rig_start(&r, "cluster", cluster_gpa);
    EXPECT(&r, fault_gfn(&r, 20), 20, 16, 17, 19, 21, 22, 23);
    ck_assert_uint_eq(prefault_stats(r.s)->no_content, 1);
    rig_fini(&r);
}
END_TEST

START_TEST(test_prefault_linux_ra_pages_matches_the_kernel)
{
    ck_assert_uint_eq(prefault_linux_ra_pages(10, 20, 0, 8, 0), 1);   /* random, no hits */
    ck_assert_uint_eq(prefault_linux_ra_pages(10, 11, 0, 8, 0), 2);   /* adjacent */
    ck_assert_uint_eq(prefault_linux_ra_pages(10, 9, 0, 8, 0), 2);
    ck_assert_uint_eq(prefault_linux_ra_pages(10, 20, 1, 8, 0), 4);   /* 3 -> 4 */
    ck_assert_uint_eq(prefault_linux_ra_pages(10, 20, 5, 8, 0), 8);   /* 7 -> 8 */
    ck_assert_uint_eq(prefault_linux_ra_pages(10, 20, 30, 8, 0), 8);  /* capped */
    ck_assert_uint_eq(prefault_linux_ra_pages(10, 20, 0, 8, 8), 4);   /* half the last */
    ck_assert_uint_eq(prefault_linux_ra_pages(10, 20, 0, 32, 32), 16);
}
END_TEST

START_TEST(test_prefault_vma_gpa_window_goes_forward_after_a_sequential_fault)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, 2048);
    rig_start(&r, "vma", NULL);
    EXPECT(&r, fault_gfn(&r, 100), 100);                   /* first: window 1 */
    EXPECT(&r, fault_gfn(&r, 101), 101, 102);              /* adjacent above: forward, 2 */
    fake_backing_bring_in(r.fb, 102);
    r.s->policy->hit(r.s, 102);
    /* 1 hit: 4 pages; not adjacent to 101: centred, 102..105 (102 is in). */
    EXPECT(&r, fault_gfn(&r, 103), 103, 104, 105);
    ck_assert_uint_eq(prefault_stats(r.s)->window, 4);
    rig_fini(&r);
}
END_TEST

START_TEST(test_prefault_vma_gpa_window_is_centred_and_clipped_to_the_pmd)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, 2048);
    rig_start(&r, "vma", NULL);
    fault_gfn(&r, 700);
    for (int i = 0; i < 6; i++)
        r.s->policy->hit(r.s, 0);
    /* 6 hits: 8 pages; not adjacent: centred, 3 before: 1019..1026, clipped
     * to the 2 MiB region 512..1023. */
    EXPECT(&r, fault_gfn(&r, 1022), 1022, 1019, 1020, 1021, 1023);
    ck_assert_uint_eq(prefault_stats(r.s)->window, 8);
    /* Backward after a fault just above. */
    for (int i = 0; i < 6; i++)
        r.s->policy->hit(r.s, 0);
    EXPECT(&r, fault_gfn(&r, 1021), 1021, 1014, 1015, 1016, 1017, 1018, 1019, 1020);
    rig_fini(&r);
}
END_TEST

static void vma_gva(struct prefault_cfg *c) { c->space = 1; }

START_TEST(test_prefault_vma_gva_translates_the_virtual_window)
{
    struct rig r;
    rig_init(&r);
    map_region(&r, 64);
    rig_start(&r, "vma", vma_gva);
    EXPECT(&r, fault_gva(&r, REGION + 10 * 4096), region_gfn(10));
    EXPECT(&r, fault_gva(&r, REGION + 11 * 4096), region_gfn(11), region_gfn(12));
    ck_assert_uint_eq(prefault_stats(r.s)->walks, 1);
    /* Without the GVA, the gva space can do nothing. */
    struct prefault_fault f = { .gfn = region_gfn(20) };
    ck_assert_uint_eq(r.s->policy->fault(r.s, &f, r.out), 1);
    ck_assert_uint_eq(prefault_stats(r.s)->no_gva, 1);
    rig_fini(&r);
}
END_TEST

START_TEST(test_prefault_vma_never_requests_a_frame_without_content)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, 2048);
    fake_backing_drop(r.fb, 102);                          /* pte_none: skipped */
    rig_start(&r, "vma", NULL);
    fault_gfn(&r, 100);
    EXPECT(&r, fault_gfn(&r, 101), 101);                   /* forward, 2: 102 has nothing */
    ck_assert_uint_eq(prefault_stats(r.s)->window, 2);
    ck_assert_uint_eq(prefault_stats(r.s)->no_content, 1);
    rig_fini(&r);
    /* The same in the guest's virtual order. */
    rig_init(&r);
    map_region(&r, 64);
    fake_backing_drop(r.fb, region_gfn(12));
    rig_start(&r, "vma", vma_gva);
    fault_gva(&r, REGION + 10 * 4096);
    EXPECT(&r, fault_gva(&r, REGION + 11 * 4096), region_gfn(11));
    ck_assert_uint_eq(prefault_stats(r.s)->no_content, 1);
    rig_fini(&r);
}
END_TEST

static void leap_gpa(struct prefault_cfg *c) { c->space = 1; }

START_TEST(test_prefault_leap_follows_the_majority_stride)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, 4096);
    rig_start(&r, "leap", leap_gpa);
    ck_assert_uint_eq(r.s->cfg.history, 32);
    ck_assert_uint_eq(r.s->cfg.nsplit, 4);                 /* the code: max_size / 4 */
    /* No deltas, then one: no trend; the cluster fallback reads around. */
    EXPECT(&r, fault_gfn(&r, 100), 100, 101, 102, 103);
    EXPECT(&r, fault_gfn(&r, 110), 110, 108, 109, 111);
    /* +10 twice: a trend; no hits: 1 page along it. */
    EXPECT(&r, fault_gfn(&r, 120), 120, 130);
    ck_assert_uint_eq(prefault_stats(r.s)->window, 1);
    EXPECT(&r, fault_gfn(&r, 130), 130, 140);
    fake_backing_bring_in(r.fb, 140);
    r.s->policy->hit(r.s, 140);                            /* logged: +10 again */
    /* 1 hit: 2 pages along +10 from 150. */
    EXPECT(&r, fault_gfn(&r, 150), 150, 160, 170);
    ck_assert_uint_eq(prefault_stats(r.s)->window, 2);
    /* Majority, not unanimity: one stray fault keeps the trend; the
     * window shrinks to half the last. */
    EXPECT(&r, fault_gfn(&r, 2000), 2000, 2010);
    ck_assert_uint_eq(prefault_stats(r.s)->window, 1);
    rig_fini(&r);
}
END_TEST

START_TEST(test_prefault_leap_without_a_trend_reads_the_aligned_cluster)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, 4096);
    rig_start(&r, "leap", leap_gpa);
    EXPECT(&r, fault_gfn(&r, 100), 100, 101, 102, 103);    /* swapin_nr_pages: at least 4 */
    ck_assert_uint_eq(prefault_stats(r.s)->window, 4);
    EXPECT(&r, fault_gfn(&r, 900), 900, 901, 902, 903);
    EXPECT(&r, fault_gfn(&r, 42), 42, 40, 41, 43);         /* 800, -858: no majority */
    for (uint64_t g = 40; g < 44; g++)
        fake_backing_bring_in(r.fb, g);
    r.s->policy->hit(r.s, 41);                             /* deltas -1, 2, 1: still none */
    r.s->policy->hit(r.s, 43);
    r.s->policy->hit(r.s, 40);
    /* 3 hits: 5 rounds up to 8, the aligned 3000..3007. */
    EXPECT(&r, fault_gfn(&r, 3003), 3003, 3000, 3001, 3002, 3004, 3005, 3006, 3007);
    ck_assert_uint_eq(prefault_stats(r.s)->window, 8);
    /* No hits, far away: 4, but never below half the last cluster. */
    EXPECT(&r, fault_gfn(&r, 1234), 1234, 1232, 1233, 1235);
    ck_assert_uint_eq(prefault_stats(r.s)->prefetched, 3 + 3 + 3 + 7 + 3);
    rig_fini(&r);
}
END_TEST

START_TEST(test_prefault_leap_watches_swap_slots_by_default)
{
    struct rig r;
    rig_init(&r);
    for (uint64_t i = 0; i < 64; i++)
        fake_backing_swap_out(r.fb, 1000 + 7 * i);         /* slot i holds frame 1000 + 7 i */
    rig_start(&r, "leap", NULL);
    ck_assert_int_eq(r.s->cfg.space, PREFAULT_SPACE_SLOT);
    /* Slot 0: the aligned slots 0..3. */
    EXPECT(&r, fault_gfn(&r, 1000), 1000, 1007, 1014, 1021);
    for (uint64_t i = 1; i < 4; i++) {                     /* swap-cache hits, logged as slots */
        fake_backing_bring_in(r.fb, 1000 + 7 * i);
        r.s->policy->hit(r.s, 1000 + 7 * i);
    }
    /* Slot deltas 1, 1, 1, 1: trend +1 slot; 3 hits: 4 slots along it. */
    EXPECT(&r, fault_gfn(&r, 1028), 1028, 1035, 1042, 1049, 1056);
    ck_assert_uint_eq(prefault_stats(r.s)->window, 4);
    /* A frame with no slot is no swap entry: the fault alone. */
    fake_backing_drop(r.fb, 3);
    EXPECT(&r, fault_gfn(&r, 3), 3);
    rig_fini(&r);
}
END_TEST

static void leap_gva(struct prefault_cfg *c) { c->space = 2; }

START_TEST(test_prefault_leap_gva_logs_hits_at_their_virtual_page)
{
    struct rig r;
    rig_init(&r);
    map_region(&r, 64);                                    /* GPA order: -3 per page */
    rig_start(&r, "leap", leap_gva);
    EXPECT(&r, fault_gva(&r, REGION), region_gfn(0), region_gfn(1), region_gfn(2),
           region_gfn(3));
    for (uint64_t p = 1; p < 4; p++) {
        fake_backing_bring_in(r.fb, region_gfn(p));
        r.s->policy->hit(r.s, region_gfn(p));
    }
    /* Virtual deltas +1 (guest frames would say -3): 4 pages ahead. */
    EXPECT(&r, fault_gva(&r, REGION + 4 * 4096), region_gfn(4), region_gfn(5),
           region_gfn(6), region_gfn(7), region_gfn(8));
    struct prefault_fault f = { .gfn = region_gfn(20) };   /* no GVA: the fault alone */
    ck_assert_uint_eq(r.s->policy->fault(r.s, &f, r.out), 1);
    ck_assert_uint_eq(prefault_stats(r.s)->no_gva, 1);
    rig_fini(&r);
}
END_TEST

/*
 * A sequential scan with every frame swapped out in address order: the
 * first fault reads the cluster 0..3, whose hits log deltas of 1, so the
 * trend holds at every later fault and the window grows with the hits:
 * 4 pages at fault 4, then 8 (win_max) from fault 9 on, a fault every 9
 * pages.  Logging faults alone would see deltas of 4, 5, 9 and follow +9.
 */
START_TEST(test_prefault_leap_sequential_scan_keeps_its_trend_with_prefetching)
{
    uint64_t trace[1000];
    for (uint64_t i = 0; i < 1000; i++)
        trace[i] = i;
    struct prefault_stats st;
    uint64_t faults = rig_run_trace("leap", NULL, NULL, trace, 1000, NULL, &st);
    ck_assert_uint_eq(faults, 2 + 111);                    /* 0, 4, then 9, 18, .., 999 */
    ck_assert_uint_eq(st.window, 8);
    ck_assert_uint_eq(st.grows, 1);
    ck_assert_uint_eq(st.shrinks, 0);
    ck_assert_uint_eq(st.hits, 1000 - faults);
}
END_TEST

START_TEST(test_prefault_leap_never_requests_a_frame_without_content)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, 200);
    fake_backing_drop(r.fb, 102);
    rig_start(&r, "leap", leap_gpa);
    EXPECT(&r, fault_gfn(&r, 100), 100, 101, 103);         /* the cluster, less 102 */
    ck_assert_uint_eq(prefault_stats(r.s)->no_content, 1);
    rig_fini(&r);
}
END_TEST

/* ================================================================ the patent */

START_TEST(test_prefault_gva_sym_translates_virtual_neighbours)
{
    struct rig r;
    rig_init(&r);
    map_region(&r, 64);
    fake_backing_bring_in(r.fb, region_gfn(31));           /* resident: skipped */
    ck_assert_int_eq(guest_pt_unmap(r.as, REGION + 29 * 4096), 0);   /* a hole */
    rig_start(&r, "gva", k2);
    EXPECT(&r, fault_gva(&r, REGION + 30 * 4096 + 123), region_gfn(30), region_gfn(28),
           region_gfn(32));
    ck_assert_uint_eq(prefault_stats(r.s)->walks, 1);
    ck_assert_uint_eq(prefault_stats(r.s)->entries, 3 + 5);
    ck_assert_uint_eq(prefault_stats(r.s)->decodes, 0);
    /* At the start of the region: page 0's lower neighbours are unmapped. */
    EXPECT(&r, fault_gva(&r, REGION), region_gfn(0), region_gfn(1), region_gfn(2));
    rig_fini(&r);
}
END_TEST


/* The world's table reader: a table frame may be read while resident. */
static bool resident_table(void *arg, uint64_t gfn)
{
    return port_backing_is_resident(arg, gfn);
}

START_TEST(test_prefault_gva_skips_neighbours_below_a_table_not_in_memory)
{
    struct rig r;
    rig_init(&r);
    /* the last 4 pages of one 2 MiB region and the first 4 of the next */
    const uint64_t a = REGION + (512 - 4) * 4096ull, b = REGION + 512 * 4096ull;
    for (uint64_t p = 0; p < 4; p++) {
        ck_assert_int_eq(guest_pt_map(r.as, a + p * 4096, 3000 + p, GUEST_PTE_RW, NULL), 0);
        ck_assert_int_eq(guest_pt_map(r.as, b + p * 4096, 4000 + p, GUEST_PTE_RW, NULL), 0);
        fake_backing_swap_out(r.fb, 3000 + p);
        fake_backing_swap_out(r.fb, 4000 + p);
    }
    uint64_t tf[GUEST_MAX_LEVELS];
    ck_assert_uint_eq(guest_pt_walk_tables(r.as, b, tf), 4);
    rig_start(&r, "gva", k2);
    struct guest_pt_reader rd = { resident_table, &r.fb->base };
    /* every table resident: the window crosses into the next region */
    struct prefault_fault f = { .gfn = 3003, .gva = a + 3 * 4096, .gva_known = true,
                                .as = r.as, .tables = &rd };
    EXPECT(&r, r.s->policy->fault(r.s, &f, r.out), 3003, 3001, 3002, 4000, 4001);
    uint64_t entries = prefault_stats(r.s)->entries;
    /* the next region's last-level table swapped out: its pages are
     * skipped, and its entries not read (nor charged) */
    fake_backing_swap_out(r.fb, tf[3]);
    EXPECT(&r, r.s->policy->fault(r.s, &f, r.out), 3003, 3001, 3002);
    ck_assert_uint_eq(prefault_stats(r.s)->entries - entries, entries - 2);
    /* a fault of the walk on a table frame has no GVA: the table alone */
    struct prefault_fault t = { .gfn = tf[3], .gva = b, .gva_known = false, .as = r.as,
                                .tables = &rd };
    uint64_t no_gva = prefault_stats(r.s)->no_gva;
    EXPECT(&r, r.s->policy->fault(r.s, &t, r.out), tf[3]);
    ck_assert_uint_eq(prefault_stats(r.s)->no_gva, no_gva + 1);
    rig_fini(&r);
}
END_TEST

static void fwd3_decode(struct prefault_cfg *c)
{
    c->shape = PREFAULT_SHAPE_FWD;
    c->k = 3;
    c->gva_source = PREFAULT_GVA_DECODE;
}

START_TEST(test_prefault_gva_fwd_takes_the_pages_ahead_and_counts_decodes)
{
    struct rig r;
    rig_init(&r);
    map_region(&r, 64);
    rig_start(&r, "gva", fwd3_decode);
    EXPECT(&r, fault_gva(&r, REGION + 10 * 4096), region_gfn(10), region_gfn(11),
           region_gfn(12), region_gfn(13));
    ck_assert_uint_eq(prefault_stats(r.s)->decodes, 1);
    struct prefault_fault f = { .gfn = 7 };                /* no GVA: fault only */
    ck_assert_uint_eq(r.s->policy->fault(r.s, &f, r.out), 1);
    ck_assert_uint_eq(prefault_stats(r.s)->no_gva, 1);
    rig_fini(&r);
}
END_TEST

static void table_shape(struct prefault_cfg *c) { c->shape = PREFAULT_SHAPE_TABLE; }

START_TEST(test_prefault_gva_table_takes_every_present_entry_of_the_table)
{
    struct rig r;
    rig_init(&r);
    map_region(&r, 40);
    /* A page of the next table is not part of the window. */
    ck_assert_int_eq(guest_pt_map(r.as, REGION + 512 * 4096, 7000, 0, NULL), 0);
    fake_backing_swap_out(r.fb, 7000);
    rig_start(&r, "gva", table_shape);
    uint32_t n = fault_gva(&r, REGION + 5 * 4096);
    ck_assert_uint_eq(n, 40);
    ck_assert_uint_eq(r.out[0], region_gfn(5));
    for (uint32_t i = 1; i < n; i++)
        ck_assert_uint_ne(r.out[i], 7000);
    ck_assert_uint_eq(prefault_stats(r.s)->walks, 1);
    ck_assert_uint_eq(prefault_stats(r.s)->entries, 3 + 512);
    rig_fini(&r);
}
END_TEST

static void adaptive4(struct prefault_cfg *c)
{
    c->k = 4;
    c->win_min = 1;
    c->win_max = 8;
}

START_TEST(test_prefault_gva_adaptive_grows_on_hits_and_shrinks_on_misses)
{
    struct rig r;
    rig_init(&r);
    map_region(&r, 200);
    rig_start(&r, "gva-adaptive", adaptive4);
    ck_assert_uint_eq(fault_gva(&r, REGION + 50 * 4096), 1 + 8);
    ck_assert_uint_eq(prefault_stats(r.s)->window, 4);
    for (int i = 0; i < 4; i++)                            /* half used: grow */
        r.s->policy->hit(r.s, 0);
    ck_assert_uint_eq(fault_gva(&r, REGION + 100 * 4096), 1 + 16);
    ck_assert_uint_eq(prefault_stats(r.s)->window, 8);
    for (int i = 0; i < 16; i++)                           /* capped at win_max */
        r.s->policy->hit(r.s, 0);
    ck_assert_uint_eq(fault_gva(&r, REGION + 150 * 4096), 1 + 16);
    ck_assert_uint_eq(prefault_stats(r.s)->window, 8);
    ck_assert_uint_eq(fault_gva(&r, REGION + 180 * 4096), 1 + 8);   /* no hit: halve */
    ck_assert_uint_eq(prefault_stats(r.s)->window, 4);
    r.s->policy->hit(r.s, 0);                              /* 1 of 8: keep */
    fault_gva(&r, REGION + 20 * 4096);
    ck_assert_uint_eq(prefault_stats(r.s)->window, 4);
    ck_assert_uint_eq(prefault_stats(r.s)->grows, 1);
    ck_assert_uint_eq(prefault_stats(r.s)->shrinks, 1);
    rig_fini(&r);
}
END_TEST

START_TEST(test_prefault_gva_never_requests_a_frame_without_content)
{
    struct rig r;
    rig_init(&r);
    map_region(&r, 64);
    fake_backing_drop(r.fb, region_gfn(31));               /* mapped, never written out */
    rig_start(&r, "gva", k2);
    EXPECT(&r, fault_gva(&r, REGION + 30 * 4096), region_gfn(30), region_gfn(28),
           region_gfn(29), region_gfn(32));
    ck_assert_uint_eq(prefault_stats(r.s)->no_content, 1);
    rig_fini(&r);
}
END_TEST

/* ================================================================ registry */

static void bad_window(struct prefault_cfg *c) { c->win_min = 9; c->win_max = 4; }

START_TEST(test_prefault_registry_finds_policies_and_refuses_bad_windows)
{
    ck_assert_ptr_null(prefault_policy_find("nosuch"));
    int n = 0, listed = 0;
    for (int i = 0; prefault_policies[i]; i++, n++) {
        const struct prefault_policy *p = prefault_policies[i];
        ck_assert_ptr_eq(prefault_policy_find(p->name), p);
        /* test-only policies are hidden and say so in their name */
        ck_assert_int_eq((p->flags & PREFAULT_F_HIDDEN) != 0,
                         strncmp(p->name, "broken-", 7) == 0);
        listed += !(p->flags & PREFAULT_F_HIDDEN);
    }
    ck_assert_int_eq(n, 12);
    ck_assert_int_eq(listed, 9);
    const struct prefault_policy *p = prefault_policy_find("gva-adaptive");
    struct prefault_cfg cfg;
    ck_assert_int_eq(prefault_cfg_defaults(p, &cfg, NULL), 0);
    bad_window(&cfg);
    struct fake_backing *fb = fake_backing_new(16, 16);
    struct prefault_env env = { .backing = &fb->base };
    struct prefault_state *s;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(prefault_start(p, &cfg, &env, &s, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "'win_min' 9, 'win_max' 4: expected 1 <= win_min <= win_max <= 511");
    ck_assert_ptr_null(s);
    struct prefault_env none = { .backing = NULL };
    ck_assert_int_eq(prefault_start(p, &cfg, &none, &s, NULL), VM_EINVAL);
    fake_backing_free(fb);
}
END_TEST

/*
 * Run policy `name` over a mixed history (a sequential run, then random
 * pages, over a scattered + sequential address space, a quarter of memory
 * resident), bringing in every answer and bulk; a policy that needs a
 * recorded working set gets the frames of the history's first 300
 * accesses; the backing port's room() says `room` throughout.  NULL when
 * every answer was the faulting frame first, then distinct, absent frames
 * of the guest (bulk frames included), each answer and bulk within the
 * room, and no answer asked for a test-only hook; otherwise what went
 * wrong first.
 */
static const char *answer_violation(const char *name, int seed, uint64_t room, char *msg,
                                    size_t len)
{
    struct rig r;
    rig_init(&r);
    struct vm_rand rnd;
    vm_rand_init(&rnd, 5, (uint64_t)seed);
    uint64_t g;
    for (uint64_t p = 0; p < 3000; p++)                    /* scattered + sequential */
        ck_assert_int_eq(guest_as_fault_in(r.as, REGION + (p * 4096) * (p % 3 ? 1 : 7),
                                           false, &g, NULL), 0);
    for (uint64_t f = 0; f < NR_FRAMES; f++)
        if (vm_rand_below(&rnd, 4))
            fake_backing_swap_out(r.fb, f);
    uint64_t hist[400];
    for (uint64_t t = 1; t <= 400; t++)
        hist[t - 1] = t < 200 ? t * 2 : vm_rand_below(&rnd, 3000);
    struct prefault_recorder *rec;
    ck_assert_int_eq(prefault_recorder_new(NR_FRAMES, &rec), 0);
    for (int t = 0; t < 300; t++) {
        uint64_t p = hist[t];
        ck_assert_int_eq(guest_pt_translate(r.as, REGION + (p * 4096) * (p % 3 ? 1 : 7), &g), 0);
        ck_assert_int_eq(prefault_recorder_touch(rec, g), 0);
    }
    struct prefault_ws ws;
    prefault_recorder_ws(rec, &ws);
    rig_start_ws(&r, name, NULL, ws.frames, ws.nr);
    r.fb->room = room;
    uint64_t *seen = calloc(NR_FRAMES, sizeof *seen);
    const char *bad = NULL;
    for (uint64_t t = 1; t <= 400 && !bad; t++) {
        uint64_t p = hist[t - 1];
        uint64_t gva = REGION + (p * 4096) * (p % 3 ? 1 : 7);
        ck_assert_int_eq(guest_pt_translate(r.as, gva, &g), 0);
        if (r.fb->resident[g])
            continue;
        struct prefault_fault f = { .gfn = g, .gva = gva, .gva_known = true, .as = r.as };
        uint32_t n = r.s->policy->fault(r.s, &f, r.out);
        bool first = true;
        while (n > 0 && !bad) {
            if (first && r.out[0] != g)
                bad = "the faulting frame is not first";
            if (room != PORT_BACKING_NONE && n > (first && room == 0 ? 1 : room))
                bad = "more frames than the room";
            if (prefault_answer_flags(r.s) & PREFAULT_ANS_TEST_NO_FETCH)
                bad = "a test-only hook in the answer";
            for (uint32_t i = 0; i < n && !bad; i++) {
                if (r.out[i] >= NR_FRAMES)
                    bad = "a frame beyond guest memory";
                else if (r.fb->resident[r.out[i]])
                    bad = "a resident frame";
                else if (seen[r.out[i]] == t)
                    bad = "a frame twice";
                else
                    seen[r.out[i]] = t;
            }
            if (bad)
                snprintf(msg, len, "%s: fault %llu: %s", name, (unsigned long long)t, bad);
            for (uint32_t i = 0; i < n && !bad; i++)
                fake_backing_bring_in(r.fb, r.out[i]);
            if (!bad && first && n > 1 && t % 2)
                r.s->policy->hit(r.s, r.out[1]);
            first = false;
            n = bad ? 0 : prefault_bulk(r.s, r.out);
        }
    }
    free(seen);
    rig_fini(&r);
    prefault_recorder_free(rec);
    return bad ? msg : NULL;
}

START_TEST(test_prefault_every_policy_answers_absent_distinct_frames)
{
    char msg[160];
    for (int pi = 0; prefault_policies[pi]; pi++) {
        if (prefault_policies[pi]->flags & PREFAULT_F_HIDDEN)
            continue;
        const char *v = answer_violation(prefault_policies[pi]->name, pi, PORT_BACKING_NONE,
                                         msg, sizeof msg);
        ck_assert_msg(v == NULL, "%s", v);
        v = answer_violation(prefault_policies[pi]->name, pi, 5, msg, sizeof msg);
        ck_assert_msg(v == NULL, "%s (room 5)", v);
    }
}
END_TEST

/* The property check above is the policy side of the world's checks: it
 * must catch each broken policy by the rule it breaks - a resident frame
 * ("every fetched page was absent"), more than the room (what makes a
 * prefetch evict an unused prefetch; with no room limit its answers are
 * valid), the test-only hook (a page present without its content). */
START_TEST(test_prefault_answer_check_catches_each_broken_policy)
{
    char msg[160];
    const char *v = answer_violation("broken-fetch-resident", 1, PORT_BACKING_NONE, msg,
                                     sizeof msg);
    ck_assert_ptr_nonnull(v);
    ck_assert_msg(strstr(v, "a resident frame") != NULL, "%s", v);
    ck_assert_ptr_null(answer_violation("broken-huge-window", 1, PORT_BACKING_NONE, msg,
                                        sizeof msg));
    v = answer_violation("broken-huge-window", 1, 64, msg, sizeof msg);
    ck_assert_ptr_nonnull(v);
    ck_assert_msg(strstr(v, "more frames than the room") != NULL, "%s", v);
    v = answer_violation("broken-present-nofetch", 1, PORT_BACKING_NONE, msg, sizeof msg);
    ck_assert_ptr_nonnull(v);
    ck_assert_msg(strstr(v, "test-only hook") != NULL, "%s", v);
}
END_TEST

static Suite *prefault_suite(void)
{
    Suite *s = suite_create("prefault");
    TCase *tc = tcase_create("baselines");
    tcase_add_test(tc, test_prefault_faultonly_brings_the_faulting_frame_only);
    tcase_add_test(tc, test_prefault_gpa_window_takes_absent_neighbours_nearest_first);
    tcase_add_test(tc, test_prefault_gpa_window_never_requests_a_frame_without_content);
    tcase_add_test(tc, test_prefault_answers_stay_within_the_hosts_room);
    tcase_add_test(tc, test_prefault_cluster_reads_the_aligned_eight_slots);
    tcase_add_test(tc, test_prefault_cluster_adaptive_follows_swapin_nr_pages);
    tcase_add_test(tc, test_prefault_cluster_never_requests_a_frame_without_content);
    tcase_add_test(tc, test_prefault_linux_ra_pages_matches_the_kernel);
    tcase_add_test(tc, test_prefault_vma_gpa_window_goes_forward_after_a_sequential_fault);
    tcase_add_test(tc, test_prefault_vma_gpa_window_is_centred_and_clipped_to_the_pmd);
    tcase_add_test(tc, test_prefault_vma_gva_translates_the_virtual_window);
    tcase_add_test(tc, test_prefault_vma_never_requests_a_frame_without_content);
    tcase_add_test(tc, test_prefault_leap_follows_the_majority_stride);
    tcase_add_test(tc, test_prefault_leap_without_a_trend_reads_the_aligned_cluster);
    tcase_add_test(tc, test_prefault_leap_watches_swap_slots_by_default);
    tcase_add_test(tc, test_prefault_leap_gva_logs_hits_at_their_virtual_page);
    tcase_add_test(tc, test_prefault_leap_sequential_scan_keeps_its_trend_with_prefetching);
    tcase_add_test(tc, test_prefault_leap_never_requests_a_frame_without_content);
    suite_add_tcase(s, tc);
    tc = tcase_create("gva");
    tcase_add_test(tc, test_prefault_gva_sym_translates_virtual_neighbours);
    tcase_add_test(tc, test_prefault_gva_skips_neighbours_below_a_table_not_in_memory);
    tcase_add_test(tc, test_prefault_gva_fwd_takes_the_pages_ahead_and_counts_decodes);
    tcase_add_test(tc, test_prefault_gva_table_takes_every_present_entry_of_the_table);
    tcase_add_test(tc, test_prefault_gva_adaptive_grows_on_hits_and_shrinks_on_misses);
    tcase_add_test(tc, test_prefault_gva_never_requests_a_frame_without_content);
    suite_add_tcase(s, tc);
    tc = tcase_create("registry");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_prefault_registry_finds_policies_and_refuses_bad_windows);
    tcase_add_test(tc, test_prefault_every_policy_answers_absent_distinct_frames);
    tcase_add_test(tc, test_prefault_answer_check_catches_each_broken_policy);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(prefault_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
