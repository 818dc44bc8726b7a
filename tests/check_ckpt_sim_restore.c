/*
 * check_ckpt_sim_restore.c - suite "ckpt_sim", zero pages and restores:
 * end to end on a shipped platform (workloads/platforms/host-sata.xml),
 * the zero pages a save scans instead of writing and a restore installs
 * without reads, the image checks that catch an unsafe policy or a
 * corrupt maps section, and each restore policy run by the checkpoint
 * driver (sim/checkpoint/sim_ckpt_restore.c) from a save it makes first.
 * The other saves are in check_ckpt_sim_save.c.
 *
 * As there, each test writes a small config into a fresh temporary
 * directory, loads it and runs ONE point (tests/ckpt_sim_rig.*), every
 * test in its own process (SimGrid runs once per process); bounds come
 * from the model, each with its reasoning.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/vm_units.h"
#include "checkpoint/sim_ckpt.h"
#include "ckpt_sim_rig.h"
#include "sim_config.h"
#include "sim_json.h"
#include "sim_runner.h"

/* ---- zero pages ---- */

#define VM64_HALF_ZERO "'vm': {'memory': '64MiB', 'content': {'zero': 0.5, 'text': 0.2, " \
                       "'random': 0.3}}, "

/* A read-only guest leaves every zero-class page zero: the saver scans
 * them (zero_scan each), records them and writes the rest only, leaving
 * holes in a mapped-ram file; off (_i = 1), it writes every page as
 * before. */
START_TEST(test_sim_stopcopy_zero_pages_are_scanned_not_written)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64_HALF_ZERO READ_ONLY WARMUP
                                      "'costs': {'zero_scan': '20us'}, "
                                      "'variants': [{'name': 'zp', 'policy': 'stopcopy', "
                                      "'params': {'layout': 'mapped-ram'}}, "
                                      "{'name': 'off', 'policy': 'stopcopy', "
                                      "'params': {'layout': 'mapped-ram', "
                                      "'zero_pages': false}}]");
    cJSON *rec = ckpt_sim_run_point(cfg, _i);
    ckpt_sim_assert_clean(rec);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_pages_checked"), NR_PAGES);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_mismatch"), 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_missing"), 0);
    if (_i == 1) {
        ck_assert_double_eq(ckpt_sim_metric(rec, "zero_pages"), 0);
        ck_assert_double_eq(ckpt_sim_metric(rec, "bytes_written"), 64 * MIB + VM_PAGE_SIZE);
        ck_assert_double_eq(ckpt_sim_metric(rec, "write_ios"), 64 + 1);
        ck_assert_double_eq(ckpt_sim_metric(rec, "file_allocated_bytes"), 64 * MIB + VM_PAGE_SIZE);
        ck_assert_double_eq(ckpt_sim_metric(rec, "file_size_bytes"), 64 * MIB + VM_PAGE_SIZE);
    } else {
        double zero = ckpt_sim_metric(rec, "zero_pages");
        ck_assert(zero > NR_PAGES / 4 && zero < 3 * NR_PAGES / 4);
        ck_assert_double_eq(fmod(zero, 512), 0);             /* whole 2 MiB regions */
        /* the non-zero pages, the zero map (one maps block) and the header */
        ck_assert_double_eq(ckpt_sim_metric(rec, "bytes_written"),
                            (NR_PAGES - zero) * VM_PAGE_SIZE + 2 * VM_PAGE_SIZE);
        ck_assert_double_eq(ckpt_sim_metric(rec, "payload_bytes"),
                            (NR_PAGES - zero) * VM_PAGE_SIZE);
        /* written once each: the allocated blocks are the blocks written;
         * the zero pages are holes between header and maps */
        ck_assert_double_eq(ckpt_sim_metric(rec, "file_allocated_bytes"), ckpt_sim_metric(rec,
                            "bytes_written"));
        ck_assert_double_eq(ckpt_sim_metric(rec, "file_size_bytes"), (NR_PAGES + 2) * VM_PAGE_SIZE);
        ck_assert(ckpt_sim_metric(rec, "write_ios") < 64 + 2);
        /* every zero page costs the saver a full scan, the VM stunned */
        ck_assert(ckpt_sim_metric(rec, "completion_ns") >= zero * 20000);
    }
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* A guest writing all over zero memory from the start: each write fault
 * tests a zero page (a full scan) on the guest's own time, and needs no
 * staging space.  _i: lazypage, bgsnap, buffered. */
START_TEST(test_sim_zero_scan_on_the_fault_path_stalls_the_guest)
{
    struct sim_config *cfg = ckpt_sim_load_cfg("'vm': {'memory': '64MiB', 'content': {'zero': 1}}, "
                                      WRITE_HEAVY "'save': {'warmup': '0ns'}, "
                                      "'costs': {'trace_fault': '3us', 'zero_scan': '100us'}, "
                                      "'variants': [{'name': 'lp', 'policy': 'lazypage'}, "
                                      "{'name': 'bg', 'policy': 'bgsnap'}, "
                                      "{'name': 'b', 'policy': 'buffered'}]");
    cJSON *rec = ckpt_sim_run_point(cfg, _i);
    ckpt_sim_assert_clean(rec);
    ck_assert(ckpt_sim_metric(rec, "faults") > 0);
    ck_assert_double_eq(ckpt_sim_metric(rec, "fault_waits"), 0);
    ck_assert_msg(ckpt_sim_metric(rec, "fault_p50_ns") >= 103000, "p50 %.0f",
                  ckpt_sim_metric(rec, "fault_p50_ns"));
    /* a page is saved zero unless the guest wrote it in the moments
     * before the stun; only the written ones reach the file (for
     * buffered, with the other pages of their blocks, stored whole) */
    double zero = ckpt_sim_metric(rec, "zero_pages");
    ck_assert_msg(zero > (_i == 2 ? 0.5 : 0.9) * NR_PAGES, "zero pages %.0f", zero);
    ck_assert_double_eq(ckpt_sim_metric(rec, "payload_bytes"), (NR_PAGES - zero) * VM_PAGE_SIZE);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_mismatch"), 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_missing"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* Pre-copy writes a page each round it is dirty; the stream appends every
 * copy, so the file holds each write: no hole, nothing written in place. */
START_TEST(test_sim_precopy_stream_allocates_every_byte_written)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64_HALF_ZERO WARMUP
                                      "'workload': {'kind': 'synthetic', 'pattern': 'zipf', "
                                      "'footprint': '16MiB', 'write_fraction': 0.3, "
                                      "'access_time': '200ns'}, "
                                      "'variants': [{'name': 'pc', 'policy': 'precopy'}]");
    cJSON *rec = ckpt_sim_run_point(cfg, 0);
    ckpt_sim_assert_clean(rec);
    ck_assert(ckpt_sim_metric(rec, "pages_rewritten") > 0);
    ck_assert(ckpt_sim_metric(rec, "zero_pages") > 0);
    ck_assert_double_eq(ckpt_sim_metric(rec, "file_allocated_bytes"), ckpt_sim_metric(rec,
                        "bytes_written"));
    ck_assert_double_eq(ckpt_sim_metric(rec, "file_size_bytes"), ckpt_sim_metric(rec,
                        "bytes_written"));
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_mismatch"), 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_missing"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* Every restore makes the zero pages present without reading them: _i =
 * save policy (stopcopy, precopy, buffered) x 3 + restore policy (eager,
 * lazy, sblock; sblock reads storage-block images only). */
START_TEST(test_sim_every_restore_installs_zero_pages_without_reads)
{
    static const char *const from[] = { "stopcopy", "precopy", "buffered" };
    int f = _i / 3, v = _i % 3;
    if (v == 2 && f < 2)
        return;
    char body[2048];
    snprintf(body, sizeof body, VM64_HALF_ZERO READ_ONLY WARMUP
             "'phase': 'restore', 'restore': {'from': {'policy': '%s'}, 'run_time': '400ms'}, "
             "'variants': [{'name': 'eager', 'policy': 'eager'}, "
             "{'name': 'lazy', 'policy': 'lazy'}, {'name': 'sblock', 'policy': 'sblock'}]",
             from[f]);
    struct sim_config *cfg = ckpt_sim_load_cfg(body);
    cJSON *rec = ckpt_sim_run_point(cfg, v);
    ckpt_sim_assert_clean(rec);
    /* at most the non-zero part of memory (under 3/4), header and maps */
    ck_assert_msg(ckpt_sim_metric(rec, "bytes_read") < 0.75 * 64 * MIB, "%.0f",
                  ckpt_sim_metric(rec, "bytes_read"));
    ck_assert(ckpt_sim_metric(rec, "restore_ns") > 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "restore_pages_checked"), NR_PAGES);
    ck_assert_double_eq(ckpt_sim_inv(rec, "restore_mismatch"), 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "restore_uninstalled"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_sim_unsafe_policy_image_check_catches_writes_before_copy)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64 WRITE_HEAVY WARMUP
                                      "'variants': [{'name': 'u', 'policy': "
                                      "'buffered-unsafe-test'}]");
    cJSON *rec = ckpt_sim_run_point(cfg, 0);
    ck_assert(ckpt_sim_metric(rec, "faults") > 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_pages_checked"), NR_PAGES);
    ck_assert(ckpt_sim_inv(rec, "image_mismatch") > 0);
    ck_assert(ckpt_sim_violations(rec) >= ckpt_sim_inv(rec, "image_mismatch"));
    ck_assert(!ckpt_sim_rec_ok(rec));
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_sim_injected_disk_error_fails_the_save_cleanly)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64 WRITE_HEAVY WARMUP
                                      "'variants': [{'name': 'b', 'policy': 'buffered'}], "
                                      "'faults': [{'kind': 'disk_error', 'op': 'write', "
                                      "'after_ios': 5, 'count': 1}]");
    cJSON *rec = ckpt_sim_run_point(cfg, 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "save_failed"), 1);
    ck_assert_double_eq(ckpt_sim_inv(rec, "failed_save_left_image"), 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "vcpu_errors"), 0);
    /* an expected failure, failed cleanly: nothing to check, no error */
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_pages_checked"), 0);
    ckpt_sim_assert_clean(rec);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* ---- restore ---- */

/* Saved by buffered with B = 16, N = 8: 16384 / 128 = 128 storage blocks. */
#define NR_SBLOCKS (NR_PAGES / (16 * 8))
#define RESTORE_CFG VM64_NZ WARMUP \
    "'phase': 'restore', " \
    "'workload': {'kind': 'synthetic', 'pattern': 'zipf', 'footprint': '16MiB', " \
    "'write_fraction': 0.05, 'access_time': '500ns'}, " \
    "'restore': {'from': {'policy': 'buffered', 'params': {'block_pages': 16, " \
    "'sblock_blocks': 8}}, 'ttr_window': '10ms', 'ttr_stall': 0.1, 'run_time': '400ms'}, " \
    "'variants': [{'name': 'eager', 'policy': 'eager'}, {'name': 'lazy', 'policy': 'lazy'}, " \
    "{'name': 'sblock', 'policy': 'sblock'}]"

START_TEST(test_sim_eager_restore_runs_the_guest_only_when_done)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(RESTORE_CFG);
    cJSON *rec = ckpt_sim_run_point(cfg, 0);
    ckpt_sim_assert_clean(rec);
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "policy")->valuestring, "eager");
    double restore_ns = ckpt_sim_metric(rec, "restore_ns");
    /* reading 64 MiB at 550 MB/s takes 122 ms at least */
    ck_assert(restore_ns >= (double)(64 * MIB) * 1e9 / 550e6);
    /* the guest starts only when every page is in: no fault, and no
     * responsive window can end before the restore */
    ck_assert_double_eq(ckpt_sim_metric(rec, "restore_faults"), 0);
    ck_assert(ckpt_sim_metric(rec, "ttr_ns") >= restore_ns);
    ck_assert(ckpt_sim_metric(rec, "guest_accesses") > 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "restore_pages_checked"), NR_PAGES);
    ck_assert_double_eq(ckpt_sim_inv(rec, "restore_mismatch"), 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "restore_uninstalled"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_sim_sblock_restore_installs_whole_storage_blocks)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(RESTORE_CFG);
    cJSON *rec = ckpt_sim_run_point(cfg, 2);
    ckpt_sim_assert_clean(rec);
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "policy")->valuestring, "sblock");
    /* a fault installs its whole storage block, so a storage block faults
     * at most once, and each is read once (fault or background stream,
     * never both: a fault joins an in-flight read) after header and maps */
    double faults = ckpt_sim_metric(rec, "restore_faults");
    ck_assert(faults > 0);
    ck_assert_double_le(faults, NR_SBLOCKS);
    ck_assert_double_le(ckpt_sim_metric(rec, "read_ios"), NR_SBLOCKS + 2);
    ck_assert(ckpt_sim_inv(rec, "restore_pages_checked") > 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "restore_mismatch"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* Loop over the three restore variants (eager, lazy, sblock). */
START_TEST(test_sim_every_restore_installs_pages_equal_to_the_image)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(RESTORE_CFG);
    cJSON *rec = ckpt_sim_run_point(cfg, _i);
    ckpt_sim_assert_clean(rec);
    /* 400 ms of guest time is enough for every variant to finish (the
     * lazy ones stream the rest in the background): every page is then
     * installed once and checked against the image */
    ck_assert(ckpt_sim_metric(rec, "restore_ns") > 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "restore_pages_checked"), NR_PAGES);
    ck_assert_double_eq(ckpt_sim_inv(rec, "restore_mismatch"), 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "restore_uninstalled"), 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "stunned_guest_accesses"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* A restore that makes pages present without their content: every
 * install it does is right, so only the check of what the guest sees and
 * of every present page at the end can catch it. */
START_TEST(test_sim_restore_check_catches_pages_present_without_content)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64 WARMUP
        "'phase': 'restore', "
        "'workload': {'kind': 'synthetic', 'pattern': 'zipf', 'footprint': '16MiB', "
        "'write_fraction': 0.05, 'access_time': '500ns'}, "
        "'restore': {'run_time': '400ms'}, "
        "'variants': [{'name': 'lp', 'policy': 'sblock-lazy-present-test'}]");
    cJSON *rec = ckpt_sim_run_point(cfg, 0);
    ck_assert(ckpt_sim_metric(rec, "restore_faults") > 0);
    /* done: every page is present and compared once */
    ck_assert(ckpt_sim_metric(rec, "restore_ns") > 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "restore_pages_checked"), NR_PAGES);
    ck_assert_double_eq(ckpt_sim_inv(rec, "restore_uninstalled"), 0);
    /* only the pages the guest faulted on hold their content */
    ck_assert_double_ge(ckpt_sim_inv(rec, "restore_mismatch"), NR_PAGES - ckpt_sim_metric(rec,
                        "restore_faults"));
    ck_assert(!ckpt_sim_rec_ok(rec));
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* A restore that has not finished when the run ends: every page present
 * by then is still compared, not only those that went through an install
 * the check saw. */
START_TEST(test_sim_unfinished_restore_checks_every_present_page)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64_NZ WARMUP
        "'phase': 'restore', "
        "'workload': {'kind': 'synthetic', 'pattern': 'zipf', 'footprint': '16MiB', "
        "'write_fraction': 0.05, 'access_time': '500ns'}, "
        "'restore': {'run_time': '20ms'}, "
        "'variants': [{'name': 'lazy', 'policy': 'lazy', 'params': {'background': false}}]");
    cJSON *rec = ckpt_sim_run_point(cfg, 0);
    ckpt_sim_assert_clean(rec);
    ck_assert(!ckpt_sim_has_metric(rec, "restore_ns"));
    double checked = ckpt_sim_inv(rec, "restore_pages_checked");
    /* without background reads a page is present only once faulted */
    ck_assert(checked > 0);
    ck_assert_double_eq(checked, ckpt_sim_metric(rec, "restore_faults"));
    ck_assert_double_lt(checked, NR_PAGES);
    ck_assert_double_eq(ckpt_sim_inv(rec, "restore_mismatch"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* The maps reach the file with one byte flipped: the image check counts
 * every page missing and the record's error gives the decoder's reason. */
START_TEST(test_sim_corrupt_maps_error_names_the_decoders_reason)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64 WRITE_HEAVY WARMUP
                                      "'variants': [{'name': 'cm', 'policy': "
                                      "'buffered-corrupt-maps-test'}]");
    cJSON *rec = ckpt_sim_run_point(cfg, 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_missing"), NR_PAGES);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_pages_checked"), 0);
    ck_assert(!ckpt_sim_rec_ok(rec));
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(rec, "error");
    ck_assert(cJSON_IsString(err));
    ck_assert_msg(strstr(err->valuestring, "image check: the saved image does not load: "
                                           "checkpoint maps: checksum mismatch"),
                  "%s", err->valuestring);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* Each restore policy on that image fails with the decoder's reason, and
 * the run ends (no hang, no guest left waiting). */
START_TEST(test_sim_every_restore_of_corrupt_maps_fails_with_the_decoders_reason)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64 WARMUP
        "'phase': 'restore', "
        "'workload': {'kind': 'synthetic', 'pattern': 'zipf', 'footprint': '16MiB', "
        "'write_fraction': 0.05, 'access_time': '500ns'}, "
        "'restore': {'from': {'policy': 'buffered-corrupt-maps-test'}, 'run_time': '200ms'}, "
        "'variants': [{'name': 'eager', 'policy': 'eager'}, {'name': 'lazy', 'policy': 'lazy'}, "
        "{'name': 'sblock', 'policy': 'sblock'}]");
    cJSON *rec = ckpt_sim_run_point(cfg, _i);
    ck_assert(!ckpt_sim_rec_ok(rec));
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_missing"), NR_PAGES);
    ck_assert_double_eq(ckpt_sim_inv(rec, "restore_pages_checked"), 0);
    ck_assert(!ckpt_sim_has_metric(rec, "restore_ns"));
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(rec, "error");
    ck_assert(cJSON_IsString(err));
    const char *e = err->valuestring;
    ck_assert_msg(strstr(e, "image check: the saved image does not load: checkpoint maps: "
                            "checksum mismatch"), "%s", e);
    ck_assert_msg(strstr(e, "; restore failed: ") && strstr(e, " restore: maps: checkpoint maps: "
                                                              "checksum mismatch"), "%s", e);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST


static Suite *sim_suite(void)
{
    Suite *s = suite_create("ckpt_sim");
    TCase *save = tcase_create("save");
    tcase_add_checked_fixture(save, ckpt_sim_setup, ckpt_sim_teardown);
    tcase_set_timeout(save, 0);
    tcase_add_test(save, test_sim_unsafe_policy_image_check_catches_writes_before_copy);
    tcase_add_test(save, test_sim_injected_disk_error_fails_the_save_cleanly);
    tcase_add_test(save, test_sim_corrupt_maps_error_names_the_decoders_reason);
    tcase_add_loop_test(save, test_sim_stopcopy_zero_pages_are_scanned_not_written, 0, 2);
    tcase_add_loop_test(save, test_sim_zero_scan_on_the_fault_path_stalls_the_guest, 0, 3);
    tcase_add_test(save, test_sim_precopy_stream_allocates_every_byte_written);
    suite_add_tcase(s, save);

    TCase *restore = tcase_create("restore");
    tcase_add_checked_fixture(restore, ckpt_sim_setup, ckpt_sim_teardown);
    tcase_set_timeout(restore, 0);
    tcase_add_test(restore, test_sim_eager_restore_runs_the_guest_only_when_done);
    tcase_add_test(restore, test_sim_sblock_restore_installs_whole_storage_blocks);
    tcase_add_loop_test(restore, test_sim_every_restore_installs_pages_equal_to_the_image, 0, 3);
    tcase_add_test(restore, test_sim_restore_check_catches_pages_present_without_content);
    tcase_add_test(restore, test_sim_unfinished_restore_checks_every_present_page);
    tcase_add_loop_test(restore, test_sim_every_restore_installs_zero_pages_without_reads, 0, 9);
    tcase_add_loop_test(restore, test_sim_every_restore_of_corrupt_maps_fails_with_the_decoders_reason,
                        0, 3);
    suite_add_tcase(s, restore);
    return s;
}

int main(void)
{
    struct vm_diag d = { 0 };
    if (sim_mech_register(&sim_ckpt_mech, &d) != 0) {
        fprintf(stderr, "%s\n", d.msg);
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(sim_suite());
    /* SimGrid runs once per process: every test needs its own. */
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
