/*
 * check_transport_faults.c - suite "transport_faults": the fault hooks of
 * the transport on SimGrid (sim/sim_transport.h): drop the n-th message,
 * a partition from then on, a rule's time window, seeded loss that a
 * second run with the seed repeats, a fixed extra delay and the
 * in-order delivery behind a delayed message, and a call whose request
 * is lost, retried; a filter by host names (sim_transport_set_filter)
 * driven by sim_faults: a partition's window, and its delays added to a
 * rule's.  The world and actors are tests/transport_rig.h's.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <simgrid/engine.h>
#include <simgrid/host.h>

#include "sim_faults.h"
#include "sim_world.h"
#include "transport_rig.h"

static void send_five(void)
{
    send_n(5, "a", "b");
}

START_TEST(test_transport_drop_nth_loses_exactly_that_message)
{
    world(1);
    endpoint("a", "host0");
    endpoint("b", "host1");
    struct sim_transport_fault f = { .from = "a", .to = "b", .drop_nth = 2 };
    add_fault(&f);
    spawn("s", "host0", send_five);
    spawn("r", "host1", drain_b);
    simgrid_run();
    ck_assert_int_eq(nr_seen, 4);
    uint32_t tags[] = { 0, 2, 3, 4 };
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(seen[i].tag, tags[i]);
    ck_assert_uint_eq(sim_transport_stats(tr)->lost, 1);
    ck_assert_uint_eq(sim_transport_stats(tr)->sent, 5);
    forget_all();
    sim_transport_free(tr);
}
END_TEST

START_TEST(test_transport_drop_after_partitions_from_nth_on)
{
    world(1);
    endpoint("a", "host0");
    endpoint("b", "host1");
    struct sim_transport_fault f = { .to = "b", .drop_nth = 3, .drop_after = true };
    add_fault(&f);
    spawn("s", "host0", send_five);
    spawn("r", "host1", drain_b);
    simgrid_run();
    ck_assert_int_eq(nr_seen, 2);
    ck_assert_uint_eq(seen[1].tag, 1);
    ck_assert_uint_eq(sim_transport_stats(tr)->lost, 3);
    forget_all();
    sim_transport_free(tr);
}
END_TEST

START_TEST(test_transport_rule_window_limits_it_in_time)
{
    world(1);
    endpoint("a", "host0");
    endpoint("b", "host1");
    /* every message sent from 1 s on is lost: all five are sent at 0 */
    struct sim_transport_fault f = { .from_ns = 1000000000, .drop_nth = 1, .drop_after = true };
    add_fault(&f);
    spawn("s", "host0", send_five);
    spawn("r", "host1", drain_b);
    simgrid_run();
    ck_assert_int_eq(nr_seen, 5);
    forget_all();
    sim_transport_free(tr);
}
END_TEST

/* Two transports with the same seed and the same sends lose the same
 * messages; about half of them at loss 0.5. */
static struct sim_transport *tr2;
static uint8_t got1[200], got2[200];

static void send_200_both(void)
{
    struct port_transport *p2 = sim_transport_port(tr2);
    for (uint32_t i = 0; i < 200; i++) {
        struct port_transport_out o = out_of(i, NULL, 0, 100);
        /* carried by the sender: no carrier actors (slow under ASan) */
        ck_assert_int_eq(port_transport_send(pt, "a", "b", &o, PORT_TRANSPORT_F_WAIT), 0);
        ck_assert_int_eq(port_transport_send(p2, "a", "b", &o, PORT_TRANSPORT_F_WAIT), 0);
    }
}

static void drain_both(void)
{
    struct port_transport_msg m;
    while (port_transport_recv(pt, "b", 10000000, &m) == 0)
        got1[m.tag] = 1;
    while (port_transport_recv(sim_transport_port(tr2), "b", 0, &m) == 0)
        got2[m.tag] = 1;
}

START_TEST(test_transport_seeded_loss_is_reproducible)
{
    world(99);
    struct vm_diag d;
    tr2 = sim_transport_new(99, &d);
    endpoint("a", "host0");
    endpoint("b", "host1");
    ck_assert_int_eq(sim_transport_endpoint(tr2, "a", sg_host_by_name("host0"), NULL), 0);
    ck_assert_int_eq(sim_transport_endpoint(tr2, "b", sg_host_by_name("host1"), NULL), 0);
    struct sim_transport_fault f = { .loss = 0.5 };
    add_fault(&f);
    ck_assert_int_eq(sim_transport_add_fault(tr2, &f, NULL), 0);
    spawn("s", "host0", send_200_both);
    spawn("r", "host1", drain_both);
    simgrid_run();
    ck_assert(memcmp(got1, got2, sizeof(got1)) == 0);
    int n = 0;
    for (int i = 0; i < 200; i++)
        n += got1[i];
    ck_assert_int_ge(n, 70);
    ck_assert_int_le(n, 130);
    ck_assert_uint_eq(sim_transport_stats(tr)->lost, (uint64_t)(200 - n));
    sim_transport_free(tr);
    sim_transport_free(tr2);
}
END_TEST

static void send_two_small(void)
{
    send_n(2, "a", "b");
}

START_TEST(test_transport_delay_adds_fixed_time_to_each_matching_message)
{
    world(1);
    endpoint("a", "host0");
    endpoint("b", "host1");
    struct sim_transport_fault f = { .from = "a", .delay_ns = 1000000 };
    add_fault(&f);
    spawn("s", "host0", send_two_small);
    spawn("r", "host1", drain_b);
    simgrid_run();
    ck_assert_int_eq(nr_seen, 2);
    /* both wait 1 ms, then share the link: 2 x 1000 B */
    ck_assert_uint_eq(seen[0].recv_ns, 1000000 + xfer_ns(2000));
    ck_assert_uint_eq(seen[1].recv_ns, 1000000 + xfer_ns(2000));
    ck_assert_uint_eq(sim_transport_stats(tr)->delayed, 2);
    forget_all();
    sim_transport_free(tr);
}
END_TEST

static void send_then_more_later(void)
{
    send_n(1, "a", "b");
    sim_sleep_ns(10);
    send_n(1, "a", "b");
}

START_TEST(test_transport_delayed_message_holds_the_next_one_behind_it)
{
    world(1);
    endpoint("a", "host0");
    endpoint("b", "host1");
    struct sim_transport_fault f = { .from = "a", .delay_ns = 1000000, .until_ns = 5 };
    add_fault(&f);
    spawn("s", "host0", send_then_more_later);
    spawn("r", "host1", drain_b);
    simgrid_run();
    ck_assert_int_eq(nr_seen, 2);
    ck_assert_uint_eq(seen[0].tag, 0);
    ck_assert_uint_eq(seen[0].recv_ns, 1000000 + xfer_ns(1000));
    /* the second (not delayed) arrived long before; it waited in order */
    ck_assert_uint_eq(seen[1].recv_ns, seen[0].recv_ns);
    ck_assert_uint_eq(sim_transport_stats(tr)->delayed, 1);
    forget_all();
    sim_transport_free(tr);
}
END_TEST


/* The filter sees the hosts' names and the send time. */
static char filter_from[32], filter_to[32];
static uint64_t filter_now = UINT64_MAX;

static bool note_filter(void *arg, const char *from_host, const char *to_host, uint64_t now_ns,
                        uint64_t *delay_ns)
{
    ck_assert_ptr_eq(arg, filter_from);
    ck_assert_uint_eq(*delay_ns, 0);
    snprintf(filter_from, sizeof filter_from, "%s", from_host);
    snprintf(filter_to, sizeof filter_to, "%s", to_host);
    filter_now = now_ns;
    return false;
}

static void send_one_late(void)
{
    sim_sleep_ns(1000);
    send_n(1, "a", "b");
}

START_TEST(test_transport_filter_sees_host_names_and_send_time)
{
    world(1);
    endpoint("a", "host0");
    endpoint("b", "host1");
    sim_transport_set_filter(tr, note_filter, filter_from);
    spawn("s", "host0", send_one_late);
    spawn("r", "host1", drain_b);
    simgrid_run();
    ck_assert_int_eq(nr_seen, 1);
    ck_assert_str_eq(filter_from, "host0");
    ck_assert_str_eq(filter_to, "host1");
    ck_assert_uint_eq(filter_now, 1000);
    forget_all();
    sim_transport_free(tr);
}
END_TEST

START_TEST(test_transport_filter_partition_loses_in_its_window_whichever_way_named)
{
    world(1);
    endpoint("a", "host0");
    endpoint("b", "host1");
    /* host1 -> host0 cut from the start until 5 ns: the first send only */
    struct sim_exp_fault x = { .kind = SIM_FAULT_PARTITION, .a = "host1", .b = "host0",
                               .from_ns = 0, .until_ns = 5 };
    struct sim_faults *f = sim_faults_new(&x, 1, 0, 1, NULL, NULL);
    ck_assert_ptr_nonnull(f);
    sim_transport_set_filter(tr, sim_faults_transport_filter, f);
    spawn("s", "host0", send_then_more_later);
    spawn("r", "host1", drain_b);
    simgrid_run();
    ck_assert_int_eq(nr_seen, 1);
    ck_assert_uint_eq(seen[0].sent_ns, 10);                  /* the one sent after */
    ck_assert_uint_eq(sim_transport_stats(tr)->lost, 1);
    ck_assert_uint_eq(sim_transport_stats(tr)->sent, 2);
    forget_all();
    sim_transport_free(tr);
    sim_faults_free(f);
}
END_TEST

START_TEST(test_transport_filter_delay_adds_to_a_rules)
{
    world(1);
    endpoint("a", "host0");
    endpoint("b", "host1");
    struct sim_transport_fault rule = { .from = "a", .delay_ns = 1000000 };
    add_fault(&rule);
    struct sim_exp_fault x = { .kind = SIM_FAULT_MSG_DELAY, .a = "host1",
                               .until_ns = UINT64_MAX, .delay_ns = 2000000 };
    struct sim_faults *f = sim_faults_new(&x, 1, 0, 1, NULL, NULL);
    sim_transport_set_filter(tr, sim_faults_transport_filter, f);
    spawn("s", "host0", send_two_small);
    spawn("r", "host1", drain_b);
    simgrid_run();
    ck_assert_int_eq(nr_seen, 2);
    ck_assert_uint_eq(seen[0].recv_ns, 3000000 + xfer_ns(2000));
    ck_assert_uint_eq(seen[1].recv_ns, 3000000 + xfer_ns(2000));
    ck_assert_uint_eq(sim_transport_stats(tr)->delayed, 2);
    forget_all();
    sim_transport_free(tr);
    sim_faults_free(f);
}
END_TEST

/* A lost request: the call times out; the retry gets its answer. */
static void echo_server(void)
{
    struct port_transport_msg req;
    while (port_transport_recv(pt, "src", 50000000, &req) == 0) {
        struct port_transport_out rep = out_of(req.tag, NULL, 0, 4096);
        port_transport_reply(pt, "src", &req, &rep);
        port_transport_msg_free(&req);
    }
}

static void retrying_vcpu(void)
{
    struct port_transport_out req = out_of(1, NULL, 0, 64);
    struct port_transport_msg rep;
    rcs[0] = port_transport_call(pt, "dst", "src", &req, 1000000, &rep);
    req.tag = 2;
    rcs[1] = port_transport_call(pt, "dst", "src", &req, 1000000, &rep);
    if (rcs[1] == 0) {
        t_done[1] = rep.tag;
        port_transport_msg_free(&rep);
    }
}

START_TEST(test_transport_lost_request_times_out_and_retry_succeeds)
{
    world(1);
    endpoint("src", "host0");
    endpoint("dst", "host1");
    struct sim_transport_fault f = { .from = "dst", .drop_nth = 1 };
    add_fault(&f);
    spawn("server", "host0", echo_server);
    spawn("vcpu", "host1", retrying_vcpu);
    simgrid_run();
    ck_assert_int_eq(rcs[0], VM_ETIMEDOUT);
    ck_assert_int_eq(rcs[1], 0);
    ck_assert_uint_eq(t_done[1], 2);
    sim_transport_free(tr);
}
END_TEST

static Suite *transport_faults_suite(void)
{
    Suite *s = suite_create("transport_faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 60);   /* small simulations, but on a shared machine */
    tcase_add_test(tc, test_transport_drop_nth_loses_exactly_that_message);
    tcase_add_test(tc, test_transport_drop_after_partitions_from_nth_on);
    tcase_add_test(tc, test_transport_rule_window_limits_it_in_time);
    tcase_add_test(tc, test_transport_seeded_loss_is_reproducible);
    tcase_add_test(tc, test_transport_delay_adds_fixed_time_to_each_matching_message);
    tcase_add_test(tc, test_transport_delayed_message_holds_the_next_one_behind_it);
    tcase_add_test(tc, test_transport_lost_request_times_out_and_retry_succeeds);
    tcase_add_test(tc, test_transport_filter_sees_host_names_and_send_time);
    tcase_add_test(tc, test_transport_filter_partition_loses_in_its_window_whichever_way_named);
    tcase_add_test(tc, test_transport_filter_delay_adds_to_a_rules);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(transport_faults_suite());
    /* SimGrid runs once per process: each test in its own */
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
