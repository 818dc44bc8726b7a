/*
 * check_ckpt_bgcost.c - suite "ckpt_bgcost": what the driver charges the
 * background snapshot (bgsnap) for, as QEMU pays it (ckpt_bgsnap.c): per
 * saved page a stream write() and, on the saver's side, an un-protect;
 * per write fault the round trip, the copy and the write; the faults of
 * several vCPUs served one at a time, by one thread.  End to end on
 * the shipped platform, one run point per child process (SimGrid runs
 * once per process), with the rig of check_ckpt_sim_*.c
 * (tests/ckpt_sim_rig.*); the bounds come from the configured costs, each
 * with its reasoning.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/vm_units.h"
#include "checkpoint/sim_ckpt.h"
#include "ckpt_sim_rig.h"
#include "sim_config.h"
#include "sim_runner.h"

/* The child answers only when the image equals the memory at the instant. */
static const char *const image_clean[] = { "image_mismatch", "image_missing", NULL };

/* 64 MiB without zero pages (VM64_NZ): every page goes into the stream;
 * the saves go O_DIRECT (WARMUP): the policy's own I/Os */
/* small copies, a big write and un-protect: they dominate what is charged */
#define COSTS(w, u) "'costs': {'trace_fault': '3us', 'page_copy': '100ns', " \
                    "'stream_write': '" w "', 'unprotect': '" u "'}, "

/* The saver pays a write() and an un-protect for every page it saves: a
 * read-only guest takes no fault, so it saves all NR_PAGES itself. */
START_TEST(test_bgsnap_saver_pays_a_write_and_an_unprotect_per_page)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64_NZ READ_ONLY WARMUP COSTS("0ns", "0ns")
                                      "'variants': [{'name': 'bg', 'policy': 'bgsnap'}], "
                                      "'sweep': [{'path': 'costs.stream_write', "
                                      "'values': ['0ns', '20us']}, "
                                      "{'path': 'costs.unprotect', 'values': ['0ns', '30us']}]");
    static const char *const names[] = { "completion_ns", "faults" };
    double none[2], wr[2], both[2];
    ckpt_sim_metrics_in_child(cfg, 0, names, 2, none, image_clean);
    ckpt_sim_metrics_in_child(cfg, 2, names, 2, wr, image_clean);
    ckpt_sim_metrics_in_child(cfg, 3, names, 2, both, image_clean);
    ck_assert_double_eq(none[1], 0);
    ck_assert_double_eq(both[1], 0);
    /* one saver thread: 16384 x 20 us = 328 ms more with the writes, and
     * 16384 x 30 us = 492 ms more with the un-protects (the disk, 64 MiB
     * at 520 MB/s = 129 ms, no longer sets the pace) */
    ck_assert_double_ge(wr[0], NR_PAGES * 20e3);
    ck_assert_double_ge(both[0], NR_PAGES * 50e3);
    ck_assert_double_gt(wr[0], none[0]);
    ck_assert_double_lt(both[0], NR_PAGES * 50e3 + none[0] + 20e6);
    sim_config_free(cfg);
}
END_TEST

/* A write fault pays the round trip, the copy and the write of its page
 * (its un-protect is in the round trip): 3 us + 100 ns + 40 us at least. */
START_TEST(test_bgsnap_write_fault_pays_round_trip_copy_and_write)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64_NZ WRITE_HEAVY WARMUP COSTS("40us", "1ms")
                                      "'variants': [{'name': 'bg', 'policy': 'bgsnap'}]");
    static const char *const names[] = { "faults", "fault_p50_ns", "fault_max_ns",
                                         "guest_stall_ns" };
    double m[4];
    ckpt_sim_metrics_in_child(cfg, 0, names, 4, m, image_clean);
    ck_assert(m[0] > 0);
    double floor_ns = 3000 + 100 + 40000;
    ck_assert_msg(m[1] >= floor_ns, "p50 %.0f < %.0f", m[1], floor_ns);
    /* the saver's 1 ms un-protects never stall the guest: one vCPU, no
     * wait for staging space in a 256 MiB buffer, so no fault waits ~1 ms */
    ck_assert_msg(m[2] < 1e6, "max %.0f", m[2]);
    /* (a fault or two still pending when the run ends is not in the stall) */
    ck_assert_msg(m[3] >= 0.99 * m[0] * floor_ns, "stall %.0f, faults %.0f", m[3], m[0]);
    sim_config_free(cfg);
}
END_TEST

/*
 * One thread serves every fault (QEMU's migration thread): with four vCPUs
 * writing all over memory, the faults served can take no more than the
 * save's time, 200 us each (the write); with one thread per vCPU they
 * would take about four times as long (the four vCPUs fault nearly all
 * the time).
 */
START_TEST(test_bgsnap_faults_of_four_vcpus_are_served_one_at_a_time)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64_NZ WRITE_HEAVY WARMUP COSTS("200us", "0ns")
                                      "'variants': [{'name': 'bg', 'policy': 'bgsnap'}], "
                                      "'sweep': [{'path': 'vm.vcpus', 'values': [1, 4]}]");
    static const char *const names[] = { "faults", "completion_ns", "fault_p50_ns" };
    double bg1[3], bg4[3];
    /* points: variant, then the sweep */
    ckpt_sim_metrics_in_child(cfg, 0, names, 3, bg1, image_clean);
    ckpt_sim_metrics_in_child(cfg, 1, names, 3, bg4, image_clean);
    /* served back to back at most, within the save (plus one fault and a
     * quantum of run-ahead per vCPU at the ends) */
    double serve_ns = 200e3 + 100;
    ck_assert_msg(bg4[0] * serve_ns <= bg4[1] + 4 * (serve_ns + 100e3),
                  "%.0f faults x %.0f ns > %.0f ns", bg4[0], serve_ns, bg4[1]);
    ck_assert_double_le(bg1[0] * serve_ns, bg1[1] + serve_ns + 100e3);
    /* a fault of four vCPUs waits for the others' */
    ck_assert_msg(bg4[2] > 1.5 * bg1[2], "p50 %.0f vs %.0f", bg4[2], bg1[2]);
    sim_config_free(cfg);
}
END_TEST

static Suite *bgcost_suite(void)
{
    Suite *s = suite_create("ckpt_bgcost");
    TCase *tc = tcase_create("charges");
    tcase_add_checked_fixture(tc, ckpt_sim_setup, ckpt_sim_teardown);
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_bgsnap_saver_pays_a_write_and_an_unprotect_per_page);
    tcase_add_test(tc, test_bgsnap_write_fault_pays_round_trip_copy_and_write);
    tcase_add_test(tc, test_bgsnap_faults_of_four_vcpus_are_served_one_at_a_time);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    struct vm_diag d = { 0 };
    if (sim_mech_register(&sim_ckpt_mech, &d) != 0) {
        fprintf(stderr, "%s\n", d.msg);
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(bgcost_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
