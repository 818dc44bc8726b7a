/*
 * check_ckpt_sim_save.c - suite "ckpt_sim", the saves: the checkpoint
 * mechanism's driver (sim/checkpoint/sim_ckpt.c), the vCPU replay
 * (sim_vcpu.c) and one run point of the runner (sim_runner.c) saving with
 * each policy end to end on a shipped platform
 * (workloads/platforms/host-sata.xml): stuns, completion times, faults,
 * channels, vCPUs, and the same point twice giving identical records.
 * The zero-page and restore tests are in check_ckpt_sim_restore.c.
 *
 * Each test writes a small experiment config into a fresh temporary
 * directory (with ' for " to keep the JSON readable here), loads it and
 * runs ONE point with sim_runner_run_point() (tests/ckpt_sim_rig.*).
 * SimGrid runs once per process, so every test runs in its own process
 * (Check's fork mode, forced in main); the determinism test forks its two
 * runs itself.  Assertions are on the record the runner builds: exact
 * where the model is exact (counts of I/Os, equal stuns), bounds derived
 * from the model elsewhere (each bound's reasoning is in a comment).  VMs
 * are 64 MiB and simulated windows short, so the suite takes seconds even
 * under ASan.  CHECK_SIM_DUMP=1 in the environment prints every record on
 * stderr.
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

/* ---- save ---- */

START_TEST(test_sim_stopcopy_stuns_the_vm_for_the_whole_save)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64 WRITE_HEAVY WARMUP
                                      "'variants': [{'name': 'sc', 'policy': 'stopcopy'}]");
    cJSON *rec = ckpt_sim_run_point(cfg, 0);
    ckpt_sim_assert_clean(rec);
    double completion = ckpt_sim_metric(rec, "completion_ns");
    ck_assert(completion > 0);
    /* the stun starts the save and ends once the header is acknowledged
     * and the fdatasync (the disk's flush) done, the VM stopped throughout */
    ck_assert_double_eq(ckpt_sim_metric(rec, "stun_max_ns"), completion);
    ck_assert_double_eq(ckpt_sim_metric(rec, "stun_total_ns"), ckpt_sim_metric(rec, "stun_max_ns"));
    /* the guest runs again during the sync only (accesses are counted up to
     * completion): none while stunned */
    ck_assert_double_eq(ckpt_sim_inv(rec, "stunned_guest_accesses"), 0);
    ck_assert_double_eq(ckpt_sim_metric(rec, "guest_stall_ns"), 0);
    if (ckpt_sim_has_metric(rec, "faults"))
        ck_assert_double_eq(ckpt_sim_metric(rec, "faults"), 0);
    ck_assert(!ckpt_sim_has_metric(rec, "fault_p50_ns"));
    ck_assert_double_eq(ckpt_sim_metric(rec, "guest_slowdown_pct"), 100);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_pages_checked"), NR_PAGES);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_mismatch"), 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_missing"), 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "stunned_guest_accesses"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* A trace record of 10^19 accesses (a legal count) is centuries of guest
 * compute; a save still runs clean and measures what it measures without
 * one (check_vcpu checks that the stun waits only a slice). */
START_TEST(test_sim_huge_trace_count_does_not_hold_off_the_stun)
{
    char trace[400], body[1200];
    snprintf(trace, sizeof trace, "%s/huge.pagetrace", ckpt_sim_dir);
    FILE *f = fopen(trace, "w");
    ck_assert_ptr_nonnull(f);
    fputs("# vmsim pagetrace v1 page_size=4096 program=huge\n"
          "W 4000 9999999999999999998\nR 4001 1\n"
          "# total_accesses=9999999999999999999 records=2 truncated=no\n", f);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(body, sizeof body, VM64 "'workload': {'kind': 'trace', 'file': '%s'}, " WARMUP
             "'variants': [{'name': 'sc', 'policy': 'stopcopy'}]", trace);
    struct sim_config *cfg = ckpt_sim_load_cfg(body);
    cJSON *rec = ckpt_sim_run_point(cfg, 0);
    ckpt_sim_assert_clean(rec);
    double completion = ckpt_sim_metric(rec, "completion_ns");
    /* 64 MiB at the SATA disk's 520 MB/s is ~130 ms, plus at most one slice */
    ck_assert_double_lt(completion, 64 * MIB / ckpt_sim_platform_write_bps() * 1e9 + 2 * 10e6);
    ck_assert_double_eq(ckpt_sim_metric(rec, "stun_max_ns"), completion);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_mismatch"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* Saver channels: with copying made CPU-bound (20 us a page), two
 * channels copy twice as fast; more channels than the host's 16 cores
 * are clamped to 16. */
START_TEST(test_sim_save_channels_share_the_cpu_work)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64_NZ WRITE_HEAVY WARMUP
                                      "'costs': {'page_copy': '20us'}, "
                                      "'variants': [{'name': 'c1', 'policy': 'stopcopy', "
                                      "'params': {'layout': 'mapped-ram'}}, "
                                      "{'name': 'c2', 'policy': 'stopcopy', "
                                      "'params': {'layout': 'mapped-ram', 'channels': 2}}, "
                                      "{'name': 'c16', 'policy': 'stopcopy', "
                                      "'params': {'layout': 'mapped-ram', 'channels': 16}}, "
                                      "{'name': 'c64', 'policy': 'stopcopy', "
                                      "'params': {'layout': 'mapped-ram', 'channels': 64}}]");
    static const double want[] = { 1, 2, 16, 16 };
    static const char *const names[] = { "completion_ns", "save_channels" };
    double completion[4];
    for (int i = 0; i < 4; i++) {
        double v[2];
        ckpt_sim_metrics_in_child(cfg, i, names, 2, v, NULL);
        completion[i] = v[0];
        ck_assert_double_eq(v[1], want[i]);
    }
    /* 16384 pages x 20 us = 328 ms of copying on one channel */
    ck_assert_double_ge(completion[0], 16384 * 20e3);
    ck_assert_double_lt(completion[1], 0.6 * completion[0]);
    ck_assert_double_lt(completion[2], completion[1]);
    ck_assert_double_eq(completion[3], completion[2]);
    sim_config_free(cfg);
}
END_TEST

/* Four vCPUs each replay their own stream: a read-only guest, which
 * never exits, makes four times the accesses of one in the same save; a
 * write-heavy one exits and waits more.  Every record is also checked for
 * accesses while stunned (all four stop) and for the image's content. */
START_TEST(test_sim_save_with_four_vcpus)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64 READ_ONLY WARMUP
                                      "'variants': [{'name': 'b', 'policy': 'buffered'}], "
                                      "'sweep': [{'path': 'workload', 'values': ["
                                      "{'name': 'ro', 'kind': 'synthetic', 'pattern': 'zipf', "
                                      "'write_fraction': 0, 'access_time': '500ns'}, "
                                      "{'name': 'wh', 'kind': 'synthetic', 'pattern': 'uniform', "
                                      "'write_fraction': 0.5, 'access_time': '200ns'}]}, "
                                      "{'path': 'vm.vcpus', 'values': [1, 4]}]");
    static const char *const names[] = { "guest_accesses", "fault_waits", "completion_ns" };
    double ro1[3], ro4[3], wh1[3], wh4[3];
    /* points: the first entry outermost */
    ckpt_sim_metrics_in_child(cfg, 0, names, 3, ro1, NULL);
    ckpt_sim_metrics_in_child(cfg, 1, names, 3, ro4, NULL);
    ckpt_sim_metrics_in_child(cfg, 2, names, 3, wh1, NULL);
    ckpt_sim_metrics_in_child(cfg, 3, names, 3, wh4, NULL);
    /* the same save window, four streams */
    ck_assert_double_lt(fabs(ro4[2] - ro1[2]), 0.01 * ro1[2]);
    ck_assert_double_gt(ro4[0], 3.9 * ro1[0]);
    ck_assert_double_lt(ro4[0], 4.1 * ro1[0]);
    ck_assert_double_gt(wh4[0], wh1[0]);
    ck_assert_double_gt(wh4[1], wh1[1]);
    sim_config_free(cfg);
}
END_TEST

/* A restore with four vCPUs: responsive once all four are (storage-block
 * restore), more faults, more accesses, and every page's content checked
 * whichever vCPU touched it (in every record). */
START_TEST(test_sim_restore_with_four_vcpus)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64 WRITE_HEAVY
                                      "'phase': 'restore', 'restore': {'from': {'policy': "
                                      "'buffered'}, 'run_time': '200ms'}, "
                                      "'variants': [{'name': 'sb', 'policy': 'sblock'}], "
                                      "'sweep': [{'path': 'vm.vcpus', 'values': [1, 4]}]");
    static const char *const names[] = { "ttr_ns", "guest_accesses", "restore_faults" };
    double one[3], four[3];
    ckpt_sim_metrics_in_child(cfg, 0, names, 3, one, NULL);
    ckpt_sim_metrics_in_child(cfg, 1, names, 3, four, NULL);
    ck_assert_double_gt(four[1], 2.0 * one[1]);
    ck_assert_double_gt(four[2], one[2]);
    ck_assert_double_gt(four[0], 0);
    sim_config_free(cfg);
}
END_TEST

/* The default: the file goes through the host's page cache, a write()
 * copies into it at the calibrated cost, and the fdatasync at the end
 * writes it all, the VM still stopped (as libvirt keeps it); with
 * sync_paused false it resumes first. */
START_TEST(test_sim_save_through_the_page_cache)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64 WRITE_HEAVY "'save': {'warmup': '10ms'}, "
                                      "'variants': [{'name': 'sc', 'policy': 'stopcopy'}]");
    cJSON *rec = ckpt_sim_run_point(cfg, 0);
    ckpt_sim_assert_clean(rec);
    double completion = ckpt_sim_metric(rec, "completion_ns");
    double sync = ckpt_sim_metric(rec, "sync_ns");
    /* 64 MiB under a dirty limit of GiBs: nothing reaches the disk before
     * the sync, which then writes it at the disk's pace, the VM stopped */
    ck_assert_double_eq(ckpt_sim_metric(rec, "stun_max_ns"), completion);
    ck_assert(sync > completion / 2);
    ck_assert(ckpt_sim_metric(rec, "dirty_max_bytes") >= 48.0 * 1024 * 1024);
    /* the copies into the cache: 3 us per 4 KiB at least, before the sync */
    ck_assert(completion - sync >= ckpt_sim_metric(rec, "dirty_max_bytes") / 4096 * 2000);
    /* written back in merged I/Os of at most 1 MiB */
    ck_assert(ckpt_sim_metric(rec, "write_io_mean_bytes") >= 64 * 1024.0);
    ck_assert(ckpt_sim_metric(rec, "write_io_mean_bytes") <= 1024 * 1024.0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* sync_paused false: the VM resumes before the sync */
START_TEST(test_sim_save_resumed_before_the_sync)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64 WRITE_HEAVY
                                      "'save': {'warmup': '10ms', 'sync_paused': false}, "
                                      "'variants': [{'name': 'sc', 'policy': 'stopcopy'}]");
    cJSON *rec = ckpt_sim_run_point(cfg, 0);
    ckpt_sim_assert_clean(rec);
    ck_assert(ckpt_sim_metric(rec, "sync_ns") > ckpt_sim_metric(rec, "stun_max_ns"));
    ck_assert_double_eq(ckpt_sim_metric(rec, "stun_max_ns") + ckpt_sim_metric(rec, "sync_ns"),
                        ckpt_sim_metric(rec, "completion_ns"));
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_sim_stopcopy_completion_is_memory_over_write_bandwidth)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64_NZ WRITE_HEAVY WARMUP
                                      "'costs': {'device_state': '5ms'}, "
                                      "'variants': [{'name': 'sc', 'policy': 'stopcopy'}]");
    cJSON *rec = ckpt_sim_run_point(cfg, 0);
    ckpt_sim_assert_clean(rec);
    double bps = ckpt_sim_platform_write_bps();
    double stream_ns = (double)(64 * MIB) * 1e9 / bps;       /* 129 ms at 520 MB/s */
    double completion = ckpt_sim_metric(rec, "completion_ns");
    /* every byte goes through the disk at write_bw at best, after the
     * device-state stun; the rest (per-wave latency of 4 x 1 MiB requests,
     * the header's 4 KiB, background copy cost 250 ns/page = 4 ms over
     * 64 MiB, overlapped or not) stays within 10% of the stream time */
    ck_assert_msg(completion >= stream_ns + 5e6, "completion %.0f < %.0f", completion,
                  stream_ns + 5e6);
    ck_assert_msg(completion <= 1.10 * stream_ns + 5e6, "completion %.0f > %.0f", completion,
                  1.10 * stream_ns + 5e6);
    /* the stream: 64 requests of 256 pages, the maps (the page map, 4
     * bytes a page: 16 blocks, and the empty zero map's block) in one
     * request, and the header */
    ck_assert_double_eq(ckpt_sim_metric(rec, "write_ios"), 64 + 1 + 1);
    ck_assert_double_eq(ckpt_sim_metric(rec, "bytes_written"),
                        64 * MIB + (16 + 1 + 1) * VM_PAGE_SIZE);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_sim_buffered_read_only_guest_takes_no_faults)
{
    /* B = 16, N = 6: 1024 blocks make 170 full storage blocks and a last
     * one of 4 blocks */
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64_NZ READ_ONLY WARMUP
                                      "'variants': [{'name': 'b', 'policy': 'buffered', "
                                      "'params': {'block_pages': 16, 'sblock_blocks': 6}}]");
    cJSON *rec = ckpt_sim_run_point(cfg, 0);
    ckpt_sim_assert_clean(rec);
    /* write-only tracing and a guest that never writes: no exit at all */
    ck_assert_double_eq(ckpt_sim_metric(rec, "faults"), 0);
    ck_assert_double_eq(ckpt_sim_metric(rec, "guest_stall_ns"), 0);
    ck_assert(!ckpt_sim_has_metric(rec, "fault_p50_ns"));
    ck_assert(ckpt_sim_metric(rec, "guest_accesses") > 0);
    /* one write per storage block, ceil(16384 / 96) = 171, + maps + header */
    uint64_t per_sblock = 16 * 6;
    ck_assert_double_eq(ckpt_sim_metric(rec, "write_ios"),
                        (NR_PAGES + per_sblock - 1) / per_sblock + 2);
    ck_assert_double_eq(ckpt_sim_metric(rec, "payload_bytes"), 64 * MIB);
    /* the only stun is the start: device state + arming the trace */
    const struct sim_ckpt_cfg *ck = cfg->points[0].mech_cfg;
    const struct sim_ckpt_costs *costs = &ck->costs;
    uint64_t start_stun = costs->device_state_ns + costs->trace_arm_ns * NR_PAGES;
    ck_assert_double_eq(ckpt_sim_metric(rec, "stun_max_ns"), start_stun);
    ck_assert_double_eq(ckpt_sim_metric(rec, "stun_total_ns"), start_stun);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_pages_checked"), NR_PAGES);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_mismatch"), 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_missing"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_sim_buffered_write_fault_costs_exit_plus_block_copy)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64 WRITE_HEAVY WARMUP
                                      "'costs': {'trace_fault': '3us', 'page_copy': '500ns'}, "
                                      "'variants': [{'name': 'b', 'policy': 'buffered', "
                                      "'params': {'block_pages': 16, 'sblock_blocks': 8}}]");
    cJSON *rec = ckpt_sim_run_point(cfg, 0);
    ckpt_sim_assert_clean(rec);
    double faults = ckpt_sim_metric(rec, "faults");
    ck_assert(faults > 0);
    /* every fault pays the exit and copies its whole block of B pages
     * before the write proceeds (a wait for staging space only adds):
     * 3 us + 16 x 500 ns = 11 us at least; the histogram reports a
     * bucket's upper bound, never below the true value */
    double floor_ns = 3000 + 16 * 500;
    ck_assert_msg(ckpt_sim_metric(rec, "fault_p50_ns") >= floor_ns, "p50 %.0f < %.0f",
                  ckpt_sim_metric(rec, "fault_p50_ns"), floor_ns);
    ck_assert(ckpt_sim_metric(rec, "fault_max_ns") >= ckpt_sim_metric(rec, "fault_p99_ns"));
    ck_assert(ckpt_sim_metric(rec, "fault_p99_ns") >= ckpt_sim_metric(rec, "fault_p50_ns"));
    /* and the guest lost at least that per fault */
    ck_assert(ckpt_sim_metric(rec, "guest_stall_ns") >= faults * floor_ns);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_pages_checked"), NR_PAGES);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_mismatch"), 0);
    ck_assert_double_eq(ckpt_sim_inv(rec, "stunned_guest_accesses"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_sim_lazypage_writes_one_io_per_page)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64_NZ WRITE_HEAVY WARMUP
                                      "'variants': [{'name': 'lp', 'policy': 'lazypage'}]");
    cJSON *rec = ckpt_sim_run_point(cfg, 0);
    ckpt_sim_assert_clean(rec);
    /* guest writes save their page first (a fault and one 4 KiB write);
     * the saver writes the rest page by page: one I/O per page either
     * way, plus the header, and no maps in a flat file */
    ck_assert(ckpt_sim_metric(rec, "faults") > 0);
    ck_assert_double_eq(ckpt_sim_metric(rec, "write_ios"), NR_PAGES + 1);
    ck_assert_double_eq(ckpt_sim_metric(rec, "bytes_written"), (NR_PAGES + 1) * VM_PAGE_SIZE);
    ck_assert_double_eq(ckpt_sim_metric(rec, "write_io_mean_bytes"), VM_PAGE_SIZE);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_pages_checked"), NR_PAGES);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_mismatch"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_sim_fault_waits_count_each_waiting_fault_once)
{
    /* one staging buffer of two 4-page blocks under a write-heavy guest:
     * a fault that finds the buffer in flight waits for its write, then
     * fills half of it, so the next fault finds room unless the saver
     * filled the other half meanwhile - about every other fault waits.
     * The policy answers a waiting fault VM_EAGAIN at least twice (before
     * and after the vCPU sleeps the exit's cost), so counting answers
     * instead of faults would give about as many waits as faults */
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64 WRITE_HEAVY WARMUP
                                      "'variants': [{'name': 'b', 'policy': 'buffered', "
                                      "'params': {'block_pages': 4, 'sblock_blocks': 2, "
                                      "'nr_buffers': 1}}]");
    cJSON *rec = ckpt_sim_run_point(cfg, 0);
    ckpt_sim_assert_clean(rec);
    double faults = ckpt_sim_metric(rec, "faults"), waits = ckpt_sim_metric(rec, "fault_waits");
    ck_assert(faults > 1000);
    ck_assert_msg(waits >= 0.4 * faults && waits <= 0.6 * faults,
                  "fault_waits %.0f for %.0f faults", waits, faults);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_mismatch"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_sim_precopy_read_only_guest_stops_after_one_round)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64 READ_ONLY WARMUP
                                      "'variants': [{'name': 'pc', 'policy': 'precopy'}]");
    cJSON *rec = ckpt_sim_run_point(cfg, 0);
    ckpt_sim_assert_clean(rec);
    /* round 1 writes every page; nothing is dirtied, so the final round
     * is empty and fits any downtime: 2 rounds, nothing rewritten */
    ck_assert_double_le(ckpt_sim_metric(rec, "rounds"), 2);
    ck_assert_double_eq(ckpt_sim_metric(rec, "pages_rewritten"), 0);
    /* no start stun (QEMU arms the dirty log with the VM running): the
     * only stop is the final one, which saves the device state and writes
     * the maps (4 bytes a page, 64 KiB) and the header: well under 10 ms */
    const struct sim_ckpt_cfg *ck = cfg->points[0].mech_cfg;
    const struct sim_ckpt_costs *costs = &ck->costs;
    double final_stun = ckpt_sim_metric(rec, "stun_total_ns");
    ck_assert_msg(final_stun > (double)costs->device_state_ns && final_stun < 10e6,
                  "final stun %.0f ns", final_stun);
    ck_assert_double_eq(ckpt_sim_metric(rec, "stun_max_ns"), final_stun);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_pages_checked"), NR_PAGES);
    ck_assert_double_eq(ckpt_sim_inv(rec, "image_mismatch"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* ---- determinism ---- */

/* In a child: run the point, write the record's text to fd, exit. */
static void child_run(const struct sim_exp *exp, int fd)
{
    struct vm_diag d;
    vm_diag_clear(&d);
    cJSON *rec = NULL;
    if (sim_runner_run_point(exp, 0, NULL, &rec, &d) < 0 || rec == NULL)
        _exit(2);
    char *txt = cJSON_PrintUnformatted(rec);
    size_t len = txt ? strlen(txt) : 0, off = 0;
    while (off < len) {
        ssize_t w = write(fd, txt + off, len - off);
        if (w <= 0)
            _exit(3);
        off += (size_t)w;
    }
    _exit(txt ? 0 : 4);
}

/* Run the point in a child of its own; its record's text (malloc'ed). */
static char *run_in_child(const struct sim_exp *exp)
{
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(pfd[0]);
        child_run(exp, pfd[1]);
    }
    close(pfd[1]);
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    for (;;) {
        if (cap - len < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        ssize_t n = read(pfd[0], buf + len, cap - len - 1);
        ck_assert_int_ge(n, 0);
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    close(pfd[0]);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed (status %d)",
                  status);
    return buf;
}

START_TEST(test_sim_same_point_twice_gives_identical_records)
{
    struct sim_config *cfg = ckpt_sim_load_cfg(VM64 WRITE_HEAVY WARMUP
                                      "'variants': [{'name': 'b', 'policy': 'buffered'}]");
    char *a = run_in_child(&cfg->points[0]);
    char *b = run_in_child(&cfg->points[0]);
    ck_assert(strlen(a) > 100);
    ck_assert(strstr(a, "\"faults\"") != NULL);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    sim_config_free(cfg);
}
END_TEST

static Suite *sim_suite(void)
{
    Suite *s = suite_create("ckpt_sim");
    TCase *save = tcase_create("save");
    tcase_add_checked_fixture(save, ckpt_sim_setup, ckpt_sim_teardown);
    tcase_set_timeout(save, 0);
    tcase_add_test(save, test_sim_stopcopy_stuns_the_vm_for_the_whole_save);
    tcase_add_test(save, test_sim_save_through_the_page_cache);
    tcase_add_test(save, test_sim_save_resumed_before_the_sync);
    tcase_add_test(save, test_sim_stopcopy_completion_is_memory_over_write_bandwidth);
    tcase_add_test(save, test_sim_huge_trace_count_does_not_hold_off_the_stun);
    tcase_add_test(save, test_sim_save_channels_share_the_cpu_work);
    tcase_add_test(save, test_sim_save_with_four_vcpus);
    tcase_add_test(save, test_sim_restore_with_four_vcpus);
    tcase_add_test(save, test_sim_buffered_read_only_guest_takes_no_faults);
    tcase_add_test(save, test_sim_buffered_write_fault_costs_exit_plus_block_copy);
    tcase_add_test(save, test_sim_lazypage_writes_one_io_per_page);
    tcase_add_test(save, test_sim_fault_waits_count_each_waiting_fault_once);
    tcase_add_test(save, test_sim_precopy_read_only_guest_stops_after_one_round);
    tcase_add_test(save, test_sim_same_point_twice_gives_identical_records);
    suite_add_tcase(s, save);
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
