/*
 * check_timer.c - suite "timer": the timer port (port_timer.h) as the
 * queue both implementations share (vm_timerq.c), as the test fake
 * (fake_timer.c) and on SimGrid (sim_timer.c): deadline order, FIFO at
 * equal deadlines, cancel, arming from a callback, a past deadline, and
 * the simulated instants and activity count of the SimGrid one.
 *
 * SimGrid runs once per process, so every test runs in its own process
 * (Check's fork mode, forced in main).
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <simgrid/host.h>

#include "base/vm_err.h"
#include "base/vm_timerq.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_timer.h"
#include "sim_rig.h"
#include "sim_timer.h"
#include "sim_world.h"

#define MS 1000000ull

/* ---- what the callbacks saw ---- */

#define MAX_FIRED 64

static const struct port_clock *clock_port;  /* the clock callbacks read */
static struct port_timer *timer_port;        /* the port callbacks arm on */
static int fired[MAX_FIRED];                 /* tags in firing order */
static uint64_t fired_ns[MAX_FIRED];         /* the clock at each */
static int nr_fired;
static bool in_arm;                          /* a callback must never see this set */

static void record(void *arg)
{
    ck_assert_msg(!in_arm, "a callback ran inside arm()");
    ck_assert_int_lt(nr_fired, MAX_FIRED);
    fired[nr_fired] = (int)(intptr_t)arg;
    fired_ns[nr_fired] = port_clock_now_ns(clock_port);
    nr_fired++;
}

static uint64_t arm(uint64_t when_ns, port_timer_fn fn, int tag)
{
    in_arm = true;
    uint64_t id = port_timer_arm(timer_port, when_ns, fn, (void *)(intptr_t)tag);
    in_arm = false;
    ck_assert_uint_gt(id, 0);
    return id;
}

static void reset_fired(void)
{
    nr_fired = 0;
}

/* Tag 100 + n arms tag n at the same instant and tag n + 1 one ms later. */
static void arm_more(void *arg)
{
    int tag = (int)(intptr_t)arg;
    uint64_t now = port_clock_now_ns(clock_port);
    record(arg);
    arm(now, record, tag - 100);
    arm(now + MS, record, tag - 99);
}

/* ---- the queue ---- */

START_TEST(test_timerq_pops_by_deadline_then_arming_order_after_cancels)
{
    struct vm_timerq *q = vm_timerq_new();
    uint64_t ids[200], when;
    struct vm_timerq_entry e;

    ck_assert_ptr_nonnull(q);
    ck_assert(!vm_timerq_peek(q, &when));
    /* deadlines 0..9 ms in a scrambled order, 20 timers each */
    for (int i = 0; i < 200; i++)
        ids[i] = vm_timerq_push(q, (uint64_t)((i * 7) % 10) * MS, record, (void *)(intptr_t)i);
    for (int i = 0; i < 200; i += 3)
        ck_assert_int_eq(vm_timerq_cancel(q, ids[i]), 0);
    ck_assert_int_eq(vm_timerq_cancel(q, ids[0]), VM_ENOENT);
    ck_assert_int_eq(vm_timerq_cancel(q, 0), VM_ENOENT);
    ck_assert_int_eq(vm_timerq_cancel(q, 1000000), VM_ENOENT);
    ck_assert_uint_eq(vm_timerq_len(q), 200 - 67);
    uint64_t last_when = 0;
    int last_tag = -1, n = 0;
    while (vm_timerq_pop(q, &e)) {
        int tag = (int)(intptr_t)e.arg;
        ck_assert_int_ne(tag % 3, 0);
        ck_assert_uint_eq(e.when_ns, (uint64_t)((tag * 7) % 10) * MS);
        ck_assert_uint_eq(e.id, ids[tag]);
        ck_assert(e.when_ns > last_when || (e.when_ns == last_when && tag > last_tag));
        last_when = e.when_ns;
        last_tag = tag;
        n++;
    }
    ck_assert_int_eq(n, 200 - 67);
    /* a slot reused by a new timer does not answer to the old id */
    uint64_t id = vm_timerq_push(q, 5, record, NULL);
    ck_assert_int_eq(vm_timerq_cancel(q, ids[1]), VM_ENOENT);
    ck_assert_int_eq(vm_timerq_cancel(q, id), 0);
    vm_timerq_free(q);
}
END_TEST

/* ---- the fake ---- */

static struct fake_clock clk;
static struct fake_timer *ft;

static void fake_setup(void)
{
    fake_clock_init(&clk, 0);
    ft = fake_timer_new(&clk);
    ck_assert_ptr_nonnull(ft);
    clock_port = &clk.base;
    timer_port = fake_timer_port(ft);
    reset_fired();
}

static void fake_teardown(void)
{
    fake_timer_free(ft);
}

START_TEST(test_fake_timer_runs_in_deadline_order_at_each_deadline)
{
    fake_setup();
    arm(5 * MS, record, 5);
    arm(1 * MS, record, 1);
    arm(3 * MS, record, 3);
    ck_assert_uint_eq(fake_timer_pending(ft), 3);
    ck_assert_int_eq(nr_fired, 0);
    ck_assert(fake_timer_run_next(ft));
    ck_assert_int_eq(nr_fired, 1);
    ck_assert_uint_eq(clk.now_ns, 1 * MS);
    while (fake_timer_run_next(ft))
        ;
    ck_assert_int_eq(nr_fired, 3);
    ck_assert_int_eq(fired[0], 1);
    ck_assert_int_eq(fired[1], 3);
    ck_assert_int_eq(fired[2], 5);
    ck_assert_uint_eq(fired_ns[1], 3 * MS);
    ck_assert_uint_eq(fired_ns[2], 5 * MS);
    ck_assert_uint_eq(fake_timer_pending(ft), 0);
    ck_assert(!fake_timer_run_next(ft));
    ck_assert_uint_eq(clk.now_ns, 5 * MS);
    fake_teardown();
}
END_TEST

START_TEST(test_fake_timer_equal_deadlines_run_in_arming_order)
{
    fake_setup();
    for (int i = 0; i < 10; i++)
        arm(2 * MS, record, i);
    arm(1 * MS, record, 99);
    ck_assert(fake_timer_run_next(ft));
    ck_assert_int_eq(nr_fired, 1);
    /* one run_next runs every timer due at that instant */
    ck_assert(fake_timer_run_next(ft));
    ck_assert_int_eq(nr_fired, 11);
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(fired[1 + i], i);
        ck_assert_uint_eq(fired_ns[1 + i], 2 * MS);
    }
    fake_teardown();
}
END_TEST

START_TEST(test_fake_timer_cancelled_timer_never_runs)
{
    fake_setup();
    uint64_t a = arm(1 * MS, record, 1);
    uint64_t b = arm(2 * MS, record, 2);
    arm(3 * MS, record, 3);
    ck_assert_int_eq(port_timer_cancel(timer_port, b), 0);
    ck_assert_int_eq(port_timer_cancel(timer_port, b), VM_ENOENT);
    ck_assert_uint_eq(fake_timer_pending(ft), 2);
    ck_assert(fake_timer_run_next(ft));
    ck_assert_int_eq(port_timer_cancel(timer_port, a), VM_ENOENT);   /* already ran */
    ck_assert(fake_timer_run_next(ft));
    ck_assert(!fake_timer_run_next(ft));
    ck_assert_int_eq(nr_fired, 2);
    ck_assert_int_eq(fired[0], 1);
    ck_assert_int_eq(fired[1], 3);
    ck_assert_uint_eq(fired_ns[1], 3 * MS);
    fake_teardown();
}
END_TEST

START_TEST(test_fake_timer_callback_arms_at_its_instant_and_later)
{
    fake_setup();
    arm(1 * MS, arm_more, 110);
    arm(1 * MS, record, 5);
    /* 110 runs, arms 10 at 1 ms (after 5, armed earlier) and 11 at 2 ms */
    ck_assert(fake_timer_run_next(ft));
    ck_assert_int_eq(nr_fired, 3);
    ck_assert_int_eq(fired[0], 110);
    ck_assert_int_eq(fired[1], 5);
    ck_assert_int_eq(fired[2], 10);
    ck_assert_uint_eq(fired_ns[2], 1 * MS);
    ck_assert_uint_eq(fake_timer_pending(ft), 1);
    ck_assert(fake_timer_run_next(ft));
    ck_assert_int_eq(fired[3], 11);
    ck_assert_uint_eq(fired_ns[3], 2 * MS);
    fake_teardown();
}
END_TEST

START_TEST(test_fake_timer_past_deadline_runs_after_arm_returns_at_now)
{
    fake_setup();
    fake_clock_set(&clk, 10 * MS);
    arm(3 * MS, record, 3);           /* record() asserts it is not inside arm() */
    ck_assert_int_eq(nr_fired, 0);
    ck_assert(fake_timer_run_next(ft));
    ck_assert_int_eq(nr_fired, 1);
    ck_assert_uint_eq(fired_ns[0], 10 * MS);      /* the clock never goes back */
    ck_assert_uint_eq(clk.now_ns, 10 * MS);
    fake_teardown();
}
END_TEST

START_TEST(test_fake_timer_run_until_stops_at_the_limit)
{
    fake_setup();
    arm(1 * MS, record, 1);
    arm(4 * MS, record, 4);
    arm(9 * MS, record, 9);
    ck_assert_uint_eq(fake_timer_run_until(ft, 4 * MS), 2);
    ck_assert_uint_eq(fired_ns[0], 1 * MS);
    ck_assert_uint_eq(fired_ns[1], 4 * MS);
    ck_assert_uint_eq(clk.now_ns, 4 * MS);
    ck_assert_uint_eq(fake_timer_run_until(ft, 6 * MS), 0);
    ck_assert_uint_eq(clk.now_ns, 6 * MS);
    ck_assert_uint_eq(fake_timer_pending(ft), 1);
    fake_teardown();
}
END_TEST

/* ---- on SimGrid ---- */

static uint64_t act_before, act_after;

static void sim_setup(void)
{
    world_with_disks("");
    clock_port = sim_world_clock();
    reset_fired();
}

static void body_three(void)
{
    timer_port = sim_timer_new(sg_host_by_name("host0"));
    ck_assert_ptr_nonnull(timer_port);
    act_before = sim_activity_count();
    arm(5 * MS, record, 5);
    arm(1 * MS, record, 1);
    arm(1 * MS, record, 2);
    sim_sleep_ns(10 * MS);
    act_after = sim_activity_count();
    sim_timer_free(timer_port);
}

START_TEST(test_sim_timer_fires_at_exact_instants_one_activity_per_deadline)
{
    sim_setup();
    run_in_sim(body_three);
    ck_assert_int_eq(nr_fired, 3);
    ck_assert_int_eq(fired[0], 1);
    ck_assert_int_eq(fired[1], 2);
    ck_assert_int_eq(fired[2], 5);
    ck_assert_uint_eq(fired_ns[0], 1 * MS);
    ck_assert_uint_eq(fired_ns[1], 1 * MS);
    ck_assert_uint_eq(fired_ns[2], 5 * MS);
    /* the body's sleep, then one wait for 1 ms and one for 5 ms */
    ck_assert_uint_eq(act_after - act_before, 3);
}
END_TEST

static void body_earlier_and_cancel(void)
{
    timer_port = sim_timer_new(sg_host_by_name("host0"));
    ck_assert_ptr_nonnull(timer_port);
    arm(5 * MS, record, 5);
    uint64_t c = arm(4 * MS, record, 4);
    sim_sleep_ns(MS / 2);
    /* the actor waits for 4 ms: an earlier deadline must wake it */
    arm(1 * MS, arm_more, 120);
    ck_assert_int_eq(port_timer_cancel(timer_port, c), 0);
    sim_sleep_ns(MS);
    /* past deadline from another actor: runs now, after arm returned */
    arm(0, record, 7);
    sim_sleep_ns(10 * MS);
    ck_assert_int_eq(port_timer_cancel(timer_port, c), VM_ENOENT);
    sim_timer_free(timer_port);
}

START_TEST(test_sim_timer_earlier_arm_wakes_cancel_past_and_callback_arms)
{
    sim_setup();
    run_in_sim(body_earlier_and_cancel);
    ck_assert_int_eq(nr_fired, 5);
    ck_assert_int_eq(fired[0], 120);
    ck_assert_uint_eq(fired_ns[0], 1 * MS);
    ck_assert_int_eq(fired[1], 20);           /* armed by 120 for its own instant */
    ck_assert_uint_eq(fired_ns[1], 1 * MS);
    ck_assert_int_eq(fired[2], 7);
    ck_assert_uint_eq(fired_ns[2], 1 * MS + MS / 2);
    ck_assert_int_eq(fired[3], 21);           /* armed by 120 for 2 ms */
    ck_assert_uint_eq(fired_ns[3], 2 * MS);
    ck_assert_int_eq(fired[4], 5);
    ck_assert_uint_eq(fired_ns[4], 5 * MS);
}
END_TEST

/* A callback that frees the port: the timers after it never run. */
static void free_port(void *arg)
{
    record(arg);
    sim_timer_free(timer_port);
}

static void body_free_in_callback(void)
{
    timer_port = sim_timer_new(sg_host_by_name("host0"));
    ck_assert_ptr_nonnull(timer_port);
    arm(1 * MS, free_port, 1);
    arm(1 * MS, record, 2);
    arm(2 * MS, record, 3);
    sim_sleep_ns(10 * MS);
}

START_TEST(test_sim_timer_free_from_a_callback_drops_the_rest)
{
    sim_setup();
    run_in_sim(body_free_in_callback);
    ck_assert_int_eq(nr_fired, 1);
    ck_assert_int_eq(fired[0], 1);
}
END_TEST

static void body_leave_pending(void)
{
    timer_port = sim_timer_new(sg_host_by_name("host0"));
    ck_assert_ptr_nonnull(timer_port);
    arm(1 * MS, record, 1);
    arm(50 * MS, record, 2);
    sim_sleep_ns(2 * MS);
}

START_TEST(test_sim_timer_pending_timer_keeps_no_simulation_alive_free_after_run)
{
    sim_setup();
    run_in_sim(body_leave_pending);
    ck_assert_int_eq(nr_fired, 1);
    ck_assert_uint_eq(sim_now_ns(), 2 * MS);
    sim_timer_free(timer_port);       /* after simgrid_run(): freed at once (ASan) */
}
END_TEST

static Suite *timer_suite(void)
{
    Suite *s = suite_create("timer");
    TCase *tc = tcase_create("queue_and_fake");
    tcase_add_test(tc, test_timerq_pops_by_deadline_then_arming_order_after_cancels);
    tcase_add_test(tc, test_fake_timer_runs_in_deadline_order_at_each_deadline);
    tcase_add_test(tc, test_fake_timer_equal_deadlines_run_in_arming_order);
    tcase_add_test(tc, test_fake_timer_cancelled_timer_never_runs);
    tcase_add_test(tc, test_fake_timer_callback_arms_at_its_instant_and_later);
    tcase_add_test(tc, test_fake_timer_past_deadline_runs_after_arm_returns_at_now);
    tcase_add_test(tc, test_fake_timer_run_until_stops_at_the_limit);
    suite_add_tcase(s, tc);
    tc = tcase_create("sim");
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_sim_timer_fires_at_exact_instants_one_activity_per_deadline);
    tcase_add_test(tc, test_sim_timer_earlier_arm_wakes_cancel_past_and_callback_arms);
    tcase_add_test(tc, test_sim_timer_free_from_a_callback_drops_the_rest);
    tcase_add_test(tc, test_sim_timer_pending_timer_keeps_no_simulation_alive_free_after_run);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(timer_suite());

    /* SimGrid runs once per process: every test needs its own. */
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
