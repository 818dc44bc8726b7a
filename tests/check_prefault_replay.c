/*
 * check_prefault_replay.c - unit tests of models/prefault's record and
 * replay: the record pass's recorder, the checked copy of a recorded
 * working set, REAP (the whole set through bulk() at the first fault,
 * then fault-only) and Halite (the locality block of the fault), each
 * with the fake backing store; a record pass and a replay pass of the
 * same trace through the rig's small world; and the deliberately broken
 * test-only policies' answers.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefault_rig.h"

#define NR_FRAMES PREFAULT_RIG_FRAMES

/* ================================================================ recorder */

START_TEST(test_prefault_recorder_keeps_first_touches_in_order)
{
    struct prefault_recorder *rec;
    ck_assert_int_eq(prefault_recorder_new(NR_FRAMES, &rec), 0);
    const uint64_t touches[] = { 5, 3, 5, 9, 3, 7, 9 };
    for (size_t i = 0; i < sizeof touches / sizeof touches[0]; i++)
        ck_assert_int_eq(prefault_recorder_touch(rec, touches[i]), 0);
    ck_assert_int_eq(prefault_recorder_touch(rec, NR_FRAMES), VM_ERANGE);
    struct prefault_ws ws;
    prefault_recorder_ws(rec, &ws);
    ck_assert_uint_eq(ws.nr, 4);
    const uint64_t want[] = { 5, 3, 9, 7 };
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(ws.frames[i], want[i]);
    for (uint64_t g = 0; g < 3000; g++)                    /* grows past its first array */
        ck_assert_int_eq(prefault_recorder_touch(rec, 4000 + g), 0);
    prefault_recorder_ws(rec, &ws);
    ck_assert_uint_eq(ws.nr, 3004);
    ck_assert_uint_eq(ws.frames[3003], 6999);
    prefault_recorder_free(rec);
}
END_TEST

START_TEST(test_prefault_replay_policies_refuse_a_bad_set_and_take_an_empty_one)
{
    static const char *const names[] = { "reap", "halite" };
    for (int i = 0; i < 2; i++) {
        const struct prefault_policy *p = prefault_policy_find(names[i]);
        ck_assert(p->flags & PREFAULT_F_NEEDS_WS);
        ck_assert(!(p->flags & PREFAULT_F_HIDDEN));
        struct prefault_cfg cfg;
        ck_assert_int_eq(prefault_cfg_defaults(p, &cfg, NULL), 0);
        struct fake_backing *fb = fake_backing_new(64, 64);
        struct prefault_env env = { .backing = &fb->base };
        struct prefault_state *s;
        struct vm_diag d;
        char want[160];
        vm_diag_clear(&d);
        ck_assert_int_eq(prefault_start(p, &cfg, &env, &s, &d), VM_EINVAL);
        snprintf(want, sizeof want, "'%s': needs a recorded working set (run a record "
                 "pass first)", names[i]);
        ck_assert_str_eq(d.msg, want);
        ck_assert_ptr_null(s);
        const uint64_t frames[] = { 3, 64 };
        struct prefault_ws ws = { frames, 2 };
        env.ws = &ws;
        vm_diag_clear(&d);
        ck_assert_int_eq(prefault_start(p, &cfg, &env, &s, &d), VM_EINVAL);
        snprintf(want, sizeof want, "'%s': recorded frame 64 (entry 1) beyond guest memory "
                 "(64 frames)", names[i]);
        ck_assert_str_eq(d.msg, want);
        ck_assert_ptr_null(s);
        /* An empty recording is valid: every fault is served alone. */
        ws.nr = 0;
        ck_assert_int_eq(prefault_start(p, &cfg, &env, &s, NULL), 0);
        fake_backing_swap_out_range(fb, 0, 64);
        uint64_t out[PREFAULT_MAX_PAGES];
        struct prefault_fault f = { .gfn = 10 };
        ck_assert_uint_eq(s->policy->fault(s, &f, out), p == &prefault_halite_policy ? 16 : 1);
        ck_assert_uint_eq(prefault_bulk(s, out), 0);
        s->policy->destroy(s);
        fake_backing_free(fb);
    }
}
END_TEST

/* ==================================================================== REAP */

/* A working set of 3000 frames recorded in a scrambled order: frame
 * 1000 + (i * 7) % 3000 was the i-th first touch. */
#define WS_NR 3000
static void scrambled_ws(uint64_t *ws)
{
    for (uint64_t i = 0; i < WS_NR; i++)
        ws[i] = 1000 + (i * 7) % WS_NR;
}

START_TEST(test_prefault_reap_brings_the_whole_working_set_at_the_first_fault)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, NR_FRAMES);      /* resumed: nothing resident */
    fake_backing_bring_in(r.fb, 1500);                     /* already in: left out */
    fake_backing_bring_in(r.fb, 3999);
    uint64_t *ws = malloc(WS_NR * sizeof *ws);
    scrambled_ws(ws);
    ws[17] = ws[3];                                        /* a repeat is no new touch */
    rig_start_ws(&r, "reap", NULL, ws, WS_NR);
    free(ws);                                              /* the policy keeps a copy */
    const uint64_t nr = WS_NR - 1;                         /* distinct frames */
    ck_assert_uint_eq(prefault_stats(r.s)->ws_pages, nr);
    uint64_t missing = 1000 + (17 * 7) % WS_NR;            /* the frame ws[17] replaced */
    /* The first fault: the faulting frame (from the WS file), the rest in bulk. */
    EXPECT(&r, rig_fault_gfn(&r, 2000), 2000);
    ck_assert_uint_eq(prefault_answer_flags(r.s), PREFAULT_ANS_CONTIGUOUS);
    uint64_t got = 0, prev = 0;
    uint32_t m, calls = 0;
    while ((m = prefault_bulk(r.s, r.out)) > 0) {
        calls++;
        ck_assert_uint_le(m, PREFAULT_MAX_PAGES);
        ck_assert_uint_eq(prefault_answer_flags(r.s), PREFAULT_ANS_CONTIGUOUS);
        for (uint32_t i = 0; i < m; i++) {
            uint64_t g = r.out[i];
            ck_assert_uint_gt(g, prev);                    /* the WS file's order */
            ck_assert(g >= 1000 && g < 4000);
            ck_assert(g != 2000 && g != 1500 && g != 3999 && g != missing);
            prev = g;
            got++;
        }
    }
    ck_assert_uint_eq(calls, 3);                           /* 1024 + 1024 + 948 */
    ck_assert_uint_eq(got, nr - 3);
    ck_assert_uint_eq(prefault_answer_flags(r.s), 0);
    const struct prefault_stats *st = prefault_stats(r.s);
    ck_assert_uint_eq(st->ws_fetched, got);
    ck_assert_uint_eq(st->bulk_frames, got);
    ck_assert_uint_eq(st->prefetched, got);
    /* Later faults: alone, no bulk, whatever the set held. */
    EXPECT(&r, rig_fault_gfn(&r, missing), missing);
    ck_assert_uint_eq(prefault_answer_flags(r.s), 0);
    ck_assert_uint_eq(prefault_bulk(r.s, r.out), 0);
    EXPECT(&r, rig_fault_gfn(&r, 5000), 5000);
    ck_assert_uint_eq(prefault_bulk(r.s, r.out), 0);
    ck_assert_uint_eq(prefault_stats(r.s)->faults, 3);
    rig_fini(&r);
}
END_TEST

START_TEST(test_prefault_reap_first_fault_outside_the_set_is_read_alone)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, NR_FRAMES);
    const uint64_t ws[] = { 40, 10, 30, 20 };
    rig_start_ws(&r, "reap", NULL, ws, 4);
    EXPECT(&r, rig_fault_gfn(&r, 7), 7);
    ck_assert_uint_eq(prefault_answer_flags(r.s), 0);      /* from the image, not the WS file */
    EXPECT(&r, prefault_bulk(r.s, r.out), 10, 20, 30, 40);
    ck_assert_uint_eq(prefault_answer_flags(r.s), PREFAULT_ANS_CONTIGUOUS);
    ck_assert_uint_eq(prefault_bulk(r.s, r.out), 0);
    rig_fini(&r);
}
END_TEST

START_TEST(test_prefault_reap_drops_an_undrained_set_at_the_next_fault)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, NR_FRAMES);
    uint64_t *ws = malloc(WS_NR * sizeof *ws);
    scrambled_ws(ws);
    rig_start_ws(&r, "reap", NULL, ws, WS_NR);
    free(ws);
    rig_fault_gfn(&r, 1000);
    ck_assert_uint_eq(prefault_bulk(r.s, r.out), PREFAULT_MAX_PAGES);
    EXPECT(&r, rig_fault_gfn(&r, 3500), 3500);             /* the world stopped draining */
    ck_assert_uint_eq(prefault_bulk(r.s, r.out), 0);
    ck_assert_uint_eq(prefault_stats(r.s)->ws_fetched, PREFAULT_MAX_PAGES);
    rig_fini(&r);
}
END_TEST

START_TEST(test_prefault_reap_counts_working_set_pages_never_used)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, NR_FRAMES);
    const uint64_t ws[] = { 100, 101, 102, 103, 104, 105 };
    rig_start_ws(&r, "reap", NULL, ws, 6);
    rig_fault_gfn(&r, 100);
    ck_assert_uint_eq(prefault_bulk(r.s, r.out), 5);
    r.s->policy->hit(r.s, 101);
    r.s->policy->hit(r.s, 104);
    const struct prefault_stats *st = prefault_stats(r.s);
    ck_assert_uint_eq(st->ws_hits, 2);
    ck_assert_uint_eq(st->hits, 2);
    ck_assert_uint_eq(st->ws_fetched - st->ws_hits, 3);   /* never used */
    rig_fini(&r);
}
END_TEST

START_TEST(test_prefault_reap_takes_what_fits_the_room_and_drops_the_rest)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, NR_FRAMES);
    uint64_t ws[100];
    for (int i = 0; i < 100; i++)
        ws[i] = 300 + (uint64_t)i;
    rig_start_ws(&r, "reap", NULL, ws, 100);
    r.fb->room = 40;
    EXPECT(&r, rig_fault_gfn(&r, 300), 300);
    fake_backing_bring_in(r.fb, 300);
    r.fb->room = 39;                                       /* the world took one */
    uint32_t m = prefault_bulk(r.s, r.out);
    ck_assert_uint_eq(m, 39);
    ck_assert_uint_eq(r.out[0], 301);
    ck_assert_uint_eq(r.out[38], 339);
    ck_assert_uint_eq(prefault_bulk(r.s, r.out), 0);       /* the rest would evict it */
    ck_assert_uint_eq(prefault_stats(r.s)->clipped, 60);
    ck_assert_uint_eq(prefault_stats(r.s)->ws_fetched, 39);
    rig_fini(&r);
}
END_TEST

/* ================================================================== Halite */

static void block4(struct prefault_cfg *c) { c->block_pages = 4; }

START_TEST(test_prefault_halite_loads_the_locality_block_of_the_fault)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, NR_FRAMES);
    /* first touches: blocks {50 7 900 33} {12 600 5 71} {2000 2001} */
    const uint64_t ws[] = { 50, 7, 900, 33, 12, 600, 5, 71, 2000, 2001 };
    rig_start_ws(&r, "halite", block4, ws, 10);
    ck_assert_uint_eq(prefault_stats(r.s)->ws_pages, 10);
    EXPECT(&r, rig_fault_gfn(&r, 900), 900, 50, 7, 33);
    ck_assert_uint_eq(prefault_answer_flags(r.s), PREFAULT_ANS_CONTIGUOUS);
    fake_backing_bring_in(r.fb, 600);
    EXPECT(&r, rig_fault_gfn(&r, 71), 71, 12, 5);          /* 600 is resident */
    EXPECT(&r, rig_fault_gfn(&r, 2001), 2001, 2000);       /* the last block is short */
    /* Unprofiled frames: their aligned group, less the recorded frames. */
    EXPECT(&r, rig_fault_gfn(&r, 1001), 1001, 1000, 1002, 1003);
    EXPECT(&r, rig_fault_gfn(&r, 34), 34, 32, 35);         /* 33 is in a locality block */
    ck_assert_uint_eq(prefault_bulk(r.s, r.out), 0);
    const struct prefault_stats *st = prefault_stats(r.s);
    ck_assert_uint_eq(st->ws_fetched, 3 + 2 + 1);
    ck_assert_uint_eq(st->prefetched, 3 + 2 + 1 + 3 + 2);
    r.s->policy->hit(r.s, 50);                             /* recorded */
    r.s->policy->hit(r.s, 1000);                           /* not recorded */
    ck_assert_uint_eq(st->hits, 2);
    ck_assert_uint_eq(st->ws_hits, 1);
    rig_fini(&r);
}
END_TEST

START_TEST(test_prefault_halite_never_requests_a_frame_without_content)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, NR_FRAMES);
    fake_backing_drop(r.fb, 1002);                         /* never touched: no copy */
    fake_backing_drop(r.fb, 7);                            /* a recorded zero page */
    const uint64_t ws[] = { 50, 7, 900, 33 };
    rig_start_ws(&r, "halite", block4, ws, 4);
    /* An unprofiled group: 1002 has nothing to read. */
    EXPECT(&r, rig_fault_gfn(&r, 1001), 1001, 1000, 1003);
    /* A locality block: the same filter. */
    EXPECT(&r, rig_fault_gfn(&r, 900), 900, 50, 33);
    ck_assert_uint_eq(prefault_stats(r.s)->no_content, 2);
    ck_assert_uint_eq(prefault_stats(r.s)->ws_fetched, 2);
    /* The faulting frame itself is never filtered. */
    EXPECT(&r, rig_fault_gfn(&r, 1002), 1002, 1000, 1001, 1003);
    rig_fini(&r);
}
END_TEST

START_TEST(test_prefault_halite_blocks_default_to_16_frames_and_refuse_0)
{
    const struct prefault_policy *p = prefault_policy_find("halite");
    struct prefault_cfg cfg;
    ck_assert_int_eq(prefault_cfg_defaults(p, &cfg, NULL), 0);
    ck_assert_uint_eq(cfg.block_pages, 16);
    cfg.block_pages = 0;
    struct fake_backing *fb = fake_backing_new(64, 64);
    const uint64_t frames[] = { 1 };
    struct prefault_ws ws = { frames, 1 };
    struct prefault_env env = { .backing = &fb->base, .ws = &ws };
    struct prefault_state *s;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(prefault_start(p, &cfg, &env, &s, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "'block_pages' 0: expected integer 1..512");
    fake_backing_free(fb);
}
END_TEST

/* ========================================================= record, replay */

/* A program that walks 600 frames scattered over memory in a fixed order,
 * twice, with repeats: its recorded set is what it touches. */
static size_t program_trace(uint64_t *t)
{
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (uint64_t i = 0; i < 600; i++) {
            t[n++] = (i * 2654435761u) % NR_FRAMES;
            if (i % 5 == 0)
                t[n++] = (i * 2654435761u) % NR_FRAMES;
        }
    return n;
}

START_TEST(test_prefault_record_pass_then_replay_pass_on_the_same_trace)
{
    uint64_t *trace = malloc(2000 * sizeof *trace);
    size_t n = program_trace(trace);
    struct prefault_recorder *rec;
    ck_assert_int_eq(prefault_recorder_new(NR_FRAMES, &rec), 0);
    /* Record pass: demand paging, every first touch faults. */
    uint64_t faults = rig_run_trace("faultonly", NULL, NULL, trace, n, rec, NULL);
    struct prefault_ws ws;
    prefault_recorder_ws(rec, &ws);
    ck_assert_uint_eq(ws.nr, 600);
    ck_assert_uint_eq(faults, 600);
    /* Replay with REAP: one fault brings everything; every page used. */
    struct prefault_stats st;
    ck_assert_uint_eq(rig_run_trace("reap", NULL, &ws, trace, n, NULL, &st), 1);
    ck_assert_uint_eq(st.ws_fetched, 599);
    ck_assert_uint_eq(st.ws_hits, 599);
    /* Halite: one fault per locality block (600 / 16, rounded up), each
     * block's other pages used. */
    ck_assert_uint_eq(rig_run_trace("halite", NULL, &ws, trace, n, NULL, &st), 38);
    ck_assert_uint_eq(st.ws_hits, st.ws_fetched);
    ck_assert_uint_eq(st.ws_fetched, 600 - 38);
    prefault_recorder_free(rec);
    free(trace);
}
END_TEST

/* ========================================================== broken, test-only */

START_TEST(test_prefault_broken_fetch_resident_answers_the_previous_frame)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, 100);
    rig_start(&r, "broken-fetch-resident", NULL);
    ck_assert(r.s->policy->flags & PREFAULT_F_HIDDEN);
    EXPECT(&r, rig_fault_gfn(&r, 10), 10, 100);            /* first resident frame above */
    fake_backing_bring_in(r.fb, 10);
    EXPECT(&r, rig_fault_gfn(&r, 50), 50, 10);             /* the previous fault's, resident */
    rig_fini(&r);
}
END_TEST

START_TEST(test_prefault_broken_huge_window_takes_a_whole_answer)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, NR_FRAMES);
    fake_backing_bring_in(r.fb, NR_FRAMES - 1);
    rig_start(&r, "broken-huge-window", NULL);
    uint32_t n = rig_fault_gfn(&r, NR_FRAMES - 10);
    ck_assert_uint_eq(n, PREFAULT_MAX_PAGES);
    ck_assert_uint_eq(r.out[0], NR_FRAMES - 10);
    ck_assert_uint_eq(r.out[8], NR_FRAMES - 2);
    ck_assert_uint_eq(r.out[9], 0);                        /* wrapped, NR_FRAMES - 1 resident */
    ck_assert_uint_eq(r.out[n - 1], PREFAULT_MAX_PAGES - 10);
    ck_assert_uint_eq(prefault_stats(r.s)->window, PREFAULT_MAX_PAGES - 1);
    rig_fini(&r);
}
END_TEST

START_TEST(test_prefault_broken_present_nofetch_flags_its_answer)
{
    struct rig r;
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, 100);
    rig_start(&r, "broken-present-nofetch", NULL);
    EXPECT(&r, rig_fault_gfn(&r, 42), 42);
    ck_assert_uint_eq(prefault_answer_flags(r.s), PREFAULT_ANS_TEST_NO_FETCH);
    rig_fini(&r);
    /* A real policy's answer never carries the hook. */
    rig_init(&r);
    fake_backing_swap_out_range(r.fb, 0, 100);
    rig_start(&r, "gpa-window", NULL);
    rig_fault_gfn(&r, 42);
    ck_assert_uint_eq(prefault_answer_flags(r.s), 0);
    rig_fini(&r);
}
END_TEST

static Suite *prefault_replay_suite(void)
{
    Suite *s = suite_create("prefault_replay");
    TCase *tc = tcase_create("record");
    tcase_add_test(tc, test_prefault_recorder_keeps_first_touches_in_order);
    tcase_add_test(tc, test_prefault_replay_policies_refuse_a_bad_set_and_take_an_empty_one);
    suite_add_tcase(s, tc);
    tc = tcase_create("reap");
    tcase_add_test(tc, test_prefault_reap_brings_the_whole_working_set_at_the_first_fault);
    tcase_add_test(tc, test_prefault_reap_first_fault_outside_the_set_is_read_alone);
    tcase_add_test(tc, test_prefault_reap_drops_an_undrained_set_at_the_next_fault);
    tcase_add_test(tc, test_prefault_reap_counts_working_set_pages_never_used);
    tcase_add_test(tc, test_prefault_reap_takes_what_fits_the_room_and_drops_the_rest);
    suite_add_tcase(s, tc);
    tc = tcase_create("halite");
    tcase_add_test(tc, test_prefault_halite_loads_the_locality_block_of_the_fault);
    tcase_add_test(tc, test_prefault_halite_blocks_default_to_16_frames_and_refuse_0);
    tcase_add_test(tc, test_prefault_halite_never_requests_a_frame_without_content);
    suite_add_tcase(s, tc);
    tc = tcase_create("replay");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_prefault_record_pass_then_replay_pass_on_the_same_trace);
    suite_add_tcase(s, tc);
    tc = tcase_create("broken");
    tcase_add_test(tc, test_prefault_broken_fetch_resident_answers_the_previous_frame);
    tcase_add_test(tc, test_prefault_broken_huge_window_takes_a_whole_answer);
    tcase_add_test(tc, test_prefault_broken_present_nofetch_flags_its_answer);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(prefault_replay_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
