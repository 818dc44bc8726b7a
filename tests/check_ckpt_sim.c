/*
 * check_ckpt_sim.c - suite "ckpt_sim": the checkpoint mechanism's driver
 * (sim/checkpoint/sim_ckpt.c), the vCPU replay (sim_vcpu.c) and one run point of the
 * runner (sim_runner.c), end to end on a shipped platform
 * (workloads/platforms/host-sata.xml).
 *
 * Each test writes a small experiment config into a fresh temporary
 * directory (with ' for " to keep the JSON readable here), loads it and
 * runs ONE point with sim_runner_run_point().  SimGrid runs once per
 * process, so every test runs in its own process (Check's fork mode,
 * forced in main); the determinism test forks its two runs itself.
 * Assertions are on the record the runner builds: exact where the model
 * is exact (counts of I/Os, equal stuns), bounds derived from the model
 * elsewhere (each bound's reasoning is in a comment).  VMs are 64 MiB and
 * simulated windows short, so the suite takes seconds even under ASan.
 * CHECK_SIM_DUMP=1 in the environment prints every record on stderr.
 */
#include <check.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/vm_units.h"
#include "checkpoint/sim_ckpt.h"
#include "sim_config.h"
#include "sim_json.h"
#include "sim_runner.h"

#ifndef VMSIM_SRCDIR
#define VMSIM_SRCDIR "."
#endif

#define MIB (1024ull * 1024ull)

static char g_dir[256];

static const char *srcdir(void)
{
    const char *s = getenv("VMSIM_SRCDIR");
    return s != NULL && s[0] != '\0' ? s : VMSIM_SRCDIR;
}

static void platform_path(char *buf, size_t len)
{
    snprintf(buf, len, "%s/workloads/platforms/host-sata.xml", srcdir());
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/vmsim-sim.XXXXXX", tmp != NULL && tmp[0] ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
}

static void teardown(void)
{
    nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Write the config "{ name, mechanism, platform, <body> }" (body with '
 * for ") to g_dir/exp.json and load it.
 */
static struct sim_config *load_cfg(const char *body)
{
    char plat[1024], file[512];
    platform_path(plat, sizeof plat);
    snprintf(file, sizeof file, "%s/exp.json", g_dir);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\"name\": \"sim-test\", \"mechanism\": \"checkpoint\", \"platform\": \"%s\", ",
            plat);
    if (!strstr(body, "'save'"))
        fputs("\"save\": {\"cache\": \"direct\"}, ", f);
    for (const char *p = body; *p; p++)
        fputc(*p == '\'' ? '"' : *p, f);
    fputs("}\n", f);
    ck_assert_int_eq(fclose(f), 0);

    struct sim_config_opts opts;
    memset(&opts, 0, sizeof opts);
    struct sim_diag_list errs = { 0, NULL };
    struct sim_config *cfg = NULL;
    int rc = sim_config_load(file, &opts, &cfg, &errs);
    ck_assert_msg(rc == 0, "config does not load: %s", errs.n ? errs.lines[0] : "?");
    sim_diag_list_free(&errs);
    return cfg;
}

/* Run point `idx` of a config in this process; the record. */
static cJSON *run_point(const struct sim_config *cfg, int idx)
{
    ck_assert_int_lt(idx, cfg->nr_points);
    struct vm_diag d;
    vm_diag_clear(&d);
    cJSON *rec = NULL;
    int rc = sim_runner_run_point(&cfg->points[idx], 0, NULL, &rec, &d);
    ck_assert_msg(rc == 0, "run_point failed: %s", d.msg);
    ck_assert_ptr_nonnull(rec);
    if (getenv("CHECK_SIM_DUMP") != NULL) {     /* to look at a record */
        char *txt = cJSON_Print(rec);
        fprintf(stderr, "%s\n", txt);
        free(txt);
    }
    return rec;
}

static const cJSON *field(const cJSON *rec, const char *block, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, block), name);
}

static bool has_metric(const cJSON *rec, const char *name)
{
    return cJSON_IsNumber(field(rec, "metrics", name));
}

static double metric(const cJSON *rec, const char *name)
{
    const cJSON *m = field(rec, "metrics", name);
    ck_assert_msg(cJSON_IsNumber(m), "metric '%s' missing", name);
    return m->valuedouble;
}

static double inv(const cJSON *rec, const char *name)
{
    const cJSON *m = field(rec, "invariants", name);
    ck_assert_msg(cJSON_IsNumber(m), "invariant '%s' missing", name);
    return m->valuedouble;
}

static double violations(const cJSON *rec)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, "violations");
    ck_assert(cJSON_IsNumber(v));
    return v->valuedouble;
}

/* Run point idx in a child process (SimGrid runs once per process) and
 * return n of its metrics in out; a violation fails the child, so the
 * read here fails. */
static void metrics_in_child(const struct sim_config *cfg, int idx, const char *const *names,
                             int n, double *out)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        cJSON *rec = run_point(cfg, idx);
        for (int i = 0; i < n; i++)
            out[i] = metric(rec, names[i]);
        if (violations(rec) == 0)
            ck_assert_int_eq(write(fds[1], out, sizeof *out * (size_t)n), (int)(sizeof *out * n));
        _exit(0);
    }
    close(fds[1]);                  /* EOF if the child dies without writing */
    ck_assert_msg(read(fds[0], out, sizeof *out * (size_t)n) == (ssize_t)(sizeof *out * n),
                  "point %d: no metrics (it crashed or had violations)", idx);
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
}

static bool rec_ok(const cJSON *rec)
{
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(rec, "ok");
    ck_assert(cJSON_IsBool(ok));
    return cJSON_IsTrue(ok);
}

/* A clean run: ok, no violations, no error. */
static void assert_clean(const cJSON *rec)
{
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(rec, "error");
    ck_assert_msg(err == NULL, "run error: %s", cJSON_IsString(err) ? err->valuestring : "?");
    ck_assert_double_eq(violations(rec), 0);
    ck_assert(rec_ok(rec));
}

/* The shipped platform's disk write bandwidth (bytes/s), read from its XML. */
static double platform_write_bps(void)
{
    char plat[1024];
    platform_path(plat, sizeof plat);
    char *xml = sim_json_read_file(plat, NULL);
    ck_assert_msg(xml != NULL, "cannot read %s", plat);
    const char *p = strstr(xml, "write_bw=\"");
    ck_assert_ptr_nonnull(p);
    p += strlen("write_bw=\"");
    const char *q = strchr(p, '"');
    ck_assert_ptr_nonnull(q);
    char val[64];
    snprintf(val, sizeof val, "%.*s", (int)(q - p), p);
    free(xml);
    double bps = 0;
    ck_assert_int_eq(vm_units_parse_rate(val, &bps), 0);
    ck_assert(bps > 0);
    return bps;
}

/* 64 MiB = 16384 pages throughout */
#define NR_PAGES (64 * MIB / VM_PAGE_SIZE)
#define VM64 "'vm': {'memory': '64MiB'}, "
/* ... without zero pages: for the checks that count every page's I/O */
#define VM64_NZ "'vm': {'memory': '64MiB', 'content': {'text': 0.35, 'code': 0.15, " \
                "'random': 0.5}}, "
#define READ_ONLY "'workload': {'kind': 'synthetic', 'pattern': 'zipf', 'write_fraction': 0, " \
                  "'access_time': '500ns'}, "
#define WRITE_HEAVY "'workload': {'kind': 'synthetic', 'pattern': 'uniform', " \
                    "'write_fraction': 0.5, 'access_time': '200ns'}, "
/* O_DIRECT: the disk sees each policy's own I/Os (load_cfg adds it to a
 * config without a save section; test_sim_save_through_the_page_cache
 * takes the default) */
#define WARMUP "'save': {'warmup': '10ms', 'cache': 'direct'}, "

/* ---- save ---- */

START_TEST(test_sim_stopcopy_stuns_the_vm_for_the_whole_save)
{
    struct sim_config *cfg = load_cfg(VM64 WRITE_HEAVY WARMUP
                                      "'variants': [{'name': 'sc', 'policy': 'stopcopy'}]");
    cJSON *rec = run_point(cfg, 0);
    assert_clean(rec);
    double completion = metric(rec, "completion_ns");
    ck_assert(completion > 0);
    /* the stun starts the save and ends once the header is acknowledged
     * and the fdatasync (the disk's flush) done, the VM stopped throughout */
    ck_assert_double_eq(metric(rec, "stun_max_ns"), completion);
    ck_assert_double_eq(metric(rec, "stun_total_ns"), metric(rec, "stun_max_ns"));
    /* the guest runs again during the sync only (accesses are counted up to
     * completion): none while stunned */
    ck_assert_double_eq(inv(rec, "stunned_guest_accesses"), 0);
    ck_assert_double_eq(metric(rec, "guest_stall_ns"), 0);
    if (has_metric(rec, "faults"))
        ck_assert_double_eq(metric(rec, "faults"), 0);
    ck_assert(!has_metric(rec, "fault_p50_ns"));
    ck_assert_double_eq(metric(rec, "guest_slowdown_pct"), 100);
    ck_assert_double_eq(inv(rec, "image_pages_checked"), NR_PAGES);
    ck_assert_double_eq(inv(rec, "image_mismatch"), 0);
    ck_assert_double_eq(inv(rec, "image_missing"), 0);
    ck_assert_double_eq(inv(rec, "stunned_guest_accesses"), 0);
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
    snprintf(trace, sizeof trace, "%s/huge.pagetrace", g_dir);
    FILE *f = fopen(trace, "w");
    ck_assert_ptr_nonnull(f);
    fputs("# vmsim pagetrace v1 page_size=4096 program=huge\n"
          "W 4000 9999999999999999998\nR 4001 1\n"
          "# total_accesses=9999999999999999999 records=2 truncated=no\n", f);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(body, sizeof body, VM64 "'workload': {'kind': 'trace', 'file': '%s'}, " WARMUP
             "'variants': [{'name': 'sc', 'policy': 'stopcopy'}]", trace);
    struct sim_config *cfg = load_cfg(body);
    cJSON *rec = run_point(cfg, 0);
    assert_clean(rec);
    double completion = metric(rec, "completion_ns");
    /* 64 MiB at the SATA disk's 520 MB/s is ~130 ms, plus at most one slice */
    ck_assert_double_lt(completion, 64 * MIB / platform_write_bps() * 1e9 + 2 * 10e6);
    ck_assert_double_eq(metric(rec, "stun_max_ns"), completion);
    ck_assert_double_eq(inv(rec, "image_mismatch"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* Saver channels: with copying made CPU-bound (20 us a page), two
 * channels copy twice as fast; more channels than the host's 16 cores
 * are clamped to 16. */
START_TEST(test_sim_save_channels_share_the_cpu_work)
{
    struct sim_config *cfg = load_cfg(VM64_NZ WRITE_HEAVY WARMUP
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
        metrics_in_child(cfg, i, names, 2, v);
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
    struct sim_config *cfg = load_cfg(VM64 READ_ONLY WARMUP
                                      "'variants': [{'name': 'b', 'policy': 'buffered'}], "
                                      "'sweep': [{'path': 'workload', 'values': ["
                                      "{'name': 'ro', 'kind': 'synthetic', 'pattern': 'zipf', "
                                      "'write_fraction': 0, 'access_time': '500ns'}, "
                                      "{'name': 'wh', 'kind': 'synthetic', 'pattern': 'uniform', "
                                      "'write_fraction': 0.5, 'access_time': '200ns'}]}, "
                                      "{'path': 'vm.vcpus', 'values': [1, 4]}]");
    static const char *const names[] = { "guest_accesses", "fault_waits", "completion_ns" };
    double ro1[3], ro4[3], wh1[3], wh4[3];
    metrics_in_child(cfg, 0, names, 3, ro1);      /* points: the first entry outermost */
    metrics_in_child(cfg, 1, names, 3, ro4);
    metrics_in_child(cfg, 2, names, 3, wh1);
    metrics_in_child(cfg, 3, names, 3, wh4);
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
    struct sim_config *cfg = load_cfg(VM64 WRITE_HEAVY
                                      "'phase': 'restore', 'restore': {'from': {'policy': "
                                      "'buffered'}, 'run_time': '200ms'}, "
                                      "'variants': [{'name': 'sb', 'policy': 'sblock'}], "
                                      "'sweep': [{'path': 'vm.vcpus', 'values': [1, 4]}]");
    static const char *const names[] = { "ttr_ns", "guest_accesses", "restore_faults" };
    double one[3], four[3];
    metrics_in_child(cfg, 0, names, 3, one);
    metrics_in_child(cfg, 1, names, 3, four);
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
    struct sim_config *cfg = load_cfg(VM64 WRITE_HEAVY "'save': {'warmup': '10ms'}, "
                                      "'variants': [{'name': 'sc', 'policy': 'stopcopy'}]");
    cJSON *rec = run_point(cfg, 0);
    assert_clean(rec);
    double completion = metric(rec, "completion_ns"), sync = metric(rec, "sync_ns");
    /* 64 MiB under a dirty limit of GiBs: nothing reaches the disk before
     * the sync, which then writes it at the disk's pace, the VM stopped */
    ck_assert_double_eq(metric(rec, "stun_max_ns"), completion);
    ck_assert(sync > completion / 2);
    ck_assert(metric(rec, "dirty_max_bytes") >= 48.0 * 1024 * 1024);
    /* the copies into the cache: 3 us per 4 KiB at least, before the sync */
    ck_assert(completion - sync >= metric(rec, "dirty_max_bytes") / 4096 * 2000);
    /* written back in merged I/Os of at most 1 MiB */
    ck_assert(metric(rec, "write_io_mean_bytes") >= 64 * 1024.0);
    ck_assert(metric(rec, "write_io_mean_bytes") <= 1024 * 1024.0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* sync_paused false: the VM resumes before the sync */
START_TEST(test_sim_save_resumed_before_the_sync)
{
    struct sim_config *cfg = load_cfg(VM64 WRITE_HEAVY
                                      "'save': {'warmup': '10ms', 'sync_paused': false}, "
                                      "'variants': [{'name': 'sc', 'policy': 'stopcopy'}]");
    cJSON *rec = run_point(cfg, 0);
    assert_clean(rec);
    ck_assert(metric(rec, "sync_ns") > metric(rec, "stun_max_ns"));
    ck_assert_double_eq(metric(rec, "stun_max_ns") + metric(rec, "sync_ns"),
                        metric(rec, "completion_ns"));
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_sim_stopcopy_completion_is_memory_over_write_bandwidth)
{
    struct sim_config *cfg = load_cfg(VM64_NZ WRITE_HEAVY WARMUP
                                      "'costs': {'device_state': '5ms'}, "
                                      "'variants': [{'name': 'sc', 'policy': 'stopcopy'}]");
    cJSON *rec = run_point(cfg, 0);
    assert_clean(rec);
    double bps = platform_write_bps();
    double stream_ns = (double)(64 * MIB) * 1e9 / bps;       /* 129 ms at 520 MB/s */
    double completion = metric(rec, "completion_ns");
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
    ck_assert_double_eq(metric(rec, "write_ios"), 64 + 1 + 1);
    ck_assert_double_eq(metric(rec, "bytes_written"), 64 * MIB + (16 + 1 + 1) * VM_PAGE_SIZE);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_sim_buffered_read_only_guest_takes_no_faults)
{
    /* B = 16, N = 6: 1024 blocks make 170 full storage blocks and a last
     * one of 4 blocks */
    struct sim_config *cfg = load_cfg(VM64_NZ READ_ONLY WARMUP
                                      "'variants': [{'name': 'b', 'policy': 'buffered', "
                                      "'params': {'block_pages': 16, 'sblock_blocks': 6}}]");
    cJSON *rec = run_point(cfg, 0);
    assert_clean(rec);
    /* write-only tracing and a guest that never writes: no exit at all */
    ck_assert_double_eq(metric(rec, "faults"), 0);
    ck_assert_double_eq(metric(rec, "guest_stall_ns"), 0);
    ck_assert(!has_metric(rec, "fault_p50_ns"));
    ck_assert(metric(rec, "guest_accesses") > 0);
    /* one write per storage block, ceil(16384 / 96) = 171, + maps + header */
    uint64_t per_sblock = 16 * 6;
    ck_assert_double_eq(metric(rec, "write_ios"), (NR_PAGES + per_sblock - 1) / per_sblock + 2);
    ck_assert_double_eq(metric(rec, "payload_bytes"), 64 * MIB);
    /* the only stun is the start: device state + arming the trace */
    const struct sim_ckpt_cfg *ck = cfg->points[0].mech_cfg;
    const struct sim_ckpt_costs *costs = &ck->costs;
    uint64_t start_stun = costs->device_state_ns + costs->trace_arm_ns * NR_PAGES;
    ck_assert_double_eq(metric(rec, "stun_max_ns"), start_stun);
    ck_assert_double_eq(metric(rec, "stun_total_ns"), start_stun);
    ck_assert_double_eq(inv(rec, "image_pages_checked"), NR_PAGES);
    ck_assert_double_eq(inv(rec, "image_mismatch"), 0);
    ck_assert_double_eq(inv(rec, "image_missing"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_sim_buffered_write_fault_costs_exit_plus_block_copy)
{
    struct sim_config *cfg = load_cfg(VM64 WRITE_HEAVY WARMUP
                                      "'costs': {'trace_fault': '3us', 'page_copy': '500ns'}, "
                                      "'variants': [{'name': 'b', 'policy': 'buffered', "
                                      "'params': {'block_pages': 16, 'sblock_blocks': 8}}]");
    cJSON *rec = run_point(cfg, 0);
    assert_clean(rec);
    double faults = metric(rec, "faults");
    ck_assert(faults > 0);
    /* every fault pays the exit and copies its whole block of B pages
     * before the write proceeds (a wait for staging space only adds):
     * 3 us + 16 x 500 ns = 11 us at least; the histogram reports a
     * bucket's upper bound, never below the true value */
    double floor_ns = 3000 + 16 * 500;
    ck_assert_msg(metric(rec, "fault_p50_ns") >= floor_ns, "p50 %.0f < %.0f",
                  metric(rec, "fault_p50_ns"), floor_ns);
    ck_assert(metric(rec, "fault_max_ns") >= metric(rec, "fault_p99_ns"));
    ck_assert(metric(rec, "fault_p99_ns") >= metric(rec, "fault_p50_ns"));
    /* and the guest lost at least that per fault */
    ck_assert(metric(rec, "guest_stall_ns") >= faults * floor_ns);
    ck_assert_double_eq(inv(rec, "image_pages_checked"), NR_PAGES);
    ck_assert_double_eq(inv(rec, "image_mismatch"), 0);
    ck_assert_double_eq(inv(rec, "stunned_guest_accesses"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_sim_lazypage_writes_one_io_per_page)
{
    struct sim_config *cfg = load_cfg(VM64_NZ WRITE_HEAVY WARMUP
                                      "'variants': [{'name': 'lp', 'policy': 'lazypage'}]");
    cJSON *rec = run_point(cfg, 0);
    assert_clean(rec);
    /* guest writes save their page first (a fault and one 4 KiB write);
     * the saver writes the rest page by page: one I/O per page either
     * way, plus the header, and no maps in a flat file */
    ck_assert(metric(rec, "faults") > 0);
    ck_assert_double_eq(metric(rec, "write_ios"), NR_PAGES + 1);
    ck_assert_double_eq(metric(rec, "bytes_written"), (NR_PAGES + 1) * VM_PAGE_SIZE);
    ck_assert_double_eq(metric(rec, "write_io_mean_bytes"), VM_PAGE_SIZE);
    ck_assert_double_eq(inv(rec, "image_pages_checked"), NR_PAGES);
    ck_assert_double_eq(inv(rec, "image_mismatch"), 0);
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
    struct sim_config *cfg = load_cfg(VM64 WRITE_HEAVY WARMUP
                                      "'variants': [{'name': 'b', 'policy': 'buffered', "
                                      "'params': {'block_pages': 4, 'sblock_blocks': 2, "
                                      "'nr_buffers': 1}}]");
    cJSON *rec = run_point(cfg, 0);
    assert_clean(rec);
    double faults = metric(rec, "faults"), waits = metric(rec, "fault_waits");
    ck_assert(faults > 1000);
    ck_assert_msg(waits >= 0.4 * faults && waits <= 0.6 * faults,
                  "fault_waits %.0f for %.0f faults", waits, faults);
    ck_assert_double_eq(inv(rec, "image_mismatch"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_sim_precopy_read_only_guest_stops_after_one_round)
{
    struct sim_config *cfg = load_cfg(VM64 READ_ONLY WARMUP
                                      "'variants': [{'name': 'pc', 'policy': 'precopy'}]");
    cJSON *rec = run_point(cfg, 0);
    assert_clean(rec);
    /* round 1 writes every page; nothing is dirtied, so the final round
     * is empty and fits any downtime: 2 rounds, nothing rewritten */
    ck_assert_double_le(metric(rec, "rounds"), 2);
    ck_assert_double_eq(metric(rec, "pages_rewritten"), 0);
    /* no start stun (QEMU arms the dirty log with the VM running): the
     * only stop is the final one, which saves the device state and writes
     * the maps (4 bytes a page, 64 KiB) and the header: well under 10 ms */
    const struct sim_ckpt_cfg *ck = cfg->points[0].mech_cfg;
    const struct sim_ckpt_costs *costs = &ck->costs;
    double final_stun = metric(rec, "stun_total_ns");
    ck_assert_msg(final_stun > (double)costs->device_state_ns && final_stun < 10e6,
                  "final stun %.0f ns", final_stun);
    ck_assert_double_eq(metric(rec, "stun_max_ns"), final_stun);
    ck_assert_double_eq(inv(rec, "image_pages_checked"), NR_PAGES);
    ck_assert_double_eq(inv(rec, "image_mismatch"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* ---- zero pages ---- */

#define VM64_HALF_ZERO "'vm': {'memory': '64MiB', 'content': {'zero': 0.5, 'text': 0.2, " \
                       "'random': 0.3}}, "

/* A read-only guest leaves every zero-class page zero: the saver scans
 * them (zero_scan each), records them and writes the rest only, leaving
 * holes in a mapped-ram file; off (_i = 1), it writes every page as
 * before. */
START_TEST(test_sim_stopcopy_zero_pages_are_scanned_not_written)
{
    struct sim_config *cfg = load_cfg(VM64_HALF_ZERO READ_ONLY WARMUP
                                      "'costs': {'zero_scan': '20us'}, "
                                      "'variants': [{'name': 'zp', 'policy': 'stopcopy', "
                                      "'params': {'layout': 'mapped-ram'}}, "
                                      "{'name': 'off', 'policy': 'stopcopy', "
                                      "'params': {'layout': 'mapped-ram', "
                                      "'zero_pages': false}}]");
    cJSON *rec = run_point(cfg, _i);
    assert_clean(rec);
    ck_assert_double_eq(inv(rec, "image_pages_checked"), NR_PAGES);
    ck_assert_double_eq(inv(rec, "image_mismatch"), 0);
    ck_assert_double_eq(inv(rec, "image_missing"), 0);
    if (_i == 1) {
        ck_assert_double_eq(metric(rec, "zero_pages"), 0);
        ck_assert_double_eq(metric(rec, "bytes_written"), 64 * MIB + VM_PAGE_SIZE);
        ck_assert_double_eq(metric(rec, "write_ios"), 64 + 1);
        ck_assert_double_eq(metric(rec, "file_allocated_bytes"), 64 * MIB + VM_PAGE_SIZE);
        ck_assert_double_eq(metric(rec, "file_size_bytes"), 64 * MIB + VM_PAGE_SIZE);
    } else {
        double zero = metric(rec, "zero_pages");
        ck_assert(zero > NR_PAGES / 4 && zero < 3 * NR_PAGES / 4);
        ck_assert_double_eq(fmod(zero, 512), 0);             /* whole 2 MiB regions */
        /* the non-zero pages, the zero map (one maps block) and the header */
        ck_assert_double_eq(metric(rec, "bytes_written"),
                            (NR_PAGES - zero) * VM_PAGE_SIZE + 2 * VM_PAGE_SIZE);
        ck_assert_double_eq(metric(rec, "payload_bytes"), (NR_PAGES - zero) * VM_PAGE_SIZE);
        /* written once each: the allocated blocks are the blocks written;
         * the zero pages are holes between header and maps */
        ck_assert_double_eq(metric(rec, "file_allocated_bytes"), metric(rec, "bytes_written"));
        ck_assert_double_eq(metric(rec, "file_size_bytes"), (NR_PAGES + 2) * VM_PAGE_SIZE);
        ck_assert(metric(rec, "write_ios") < 64 + 2);
        /* every zero page costs the saver a full scan, the VM stunned */
        ck_assert(metric(rec, "completion_ns") >= zero * 20000);
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
    struct sim_config *cfg = load_cfg("'vm': {'memory': '64MiB', 'content': {'zero': 1}}, "
                                      WRITE_HEAVY "'save': {'warmup': '0ns'}, "
                                      "'costs': {'trace_fault': '3us', 'zero_scan': '100us'}, "
                                      "'variants': [{'name': 'lp', 'policy': 'lazypage'}, "
                                      "{'name': 'bg', 'policy': 'bgsnap'}, "
                                      "{'name': 'b', 'policy': 'buffered'}]");
    cJSON *rec = run_point(cfg, _i);
    assert_clean(rec);
    ck_assert(metric(rec, "faults") > 0);
    ck_assert_double_eq(metric(rec, "fault_waits"), 0);
    ck_assert_msg(metric(rec, "fault_p50_ns") >= 103000, "p50 %.0f",
                  metric(rec, "fault_p50_ns"));
    /* a page is saved zero unless the guest wrote it in the moments
     * before the stun; only the written ones reach the file (for
     * buffered, with the other pages of their blocks, stored whole) */
    double zero = metric(rec, "zero_pages");
    ck_assert_msg(zero > (_i == 2 ? 0.5 : 0.9) * NR_PAGES, "zero pages %.0f", zero);
    ck_assert_double_eq(metric(rec, "payload_bytes"), (NR_PAGES - zero) * VM_PAGE_SIZE);
    ck_assert_double_eq(inv(rec, "image_mismatch"), 0);
    ck_assert_double_eq(inv(rec, "image_missing"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* Pre-copy writes a page each round it is dirty; the stream appends every
 * copy, so the file holds each write: no hole, nothing written in place. */
START_TEST(test_sim_precopy_stream_allocates_every_byte_written)
{
    struct sim_config *cfg = load_cfg(VM64_HALF_ZERO WARMUP
                                      "'workload': {'kind': 'synthetic', 'pattern': 'zipf', "
                                      "'footprint': '16MiB', 'write_fraction': 0.3, "
                                      "'access_time': '200ns'}, "
                                      "'variants': [{'name': 'pc', 'policy': 'precopy'}]");
    cJSON *rec = run_point(cfg, 0);
    assert_clean(rec);
    ck_assert(metric(rec, "pages_rewritten") > 0);
    ck_assert(metric(rec, "zero_pages") > 0);
    ck_assert_double_eq(metric(rec, "file_allocated_bytes"), metric(rec, "bytes_written"));
    ck_assert_double_eq(metric(rec, "file_size_bytes"), metric(rec, "bytes_written"));
    ck_assert_double_eq(inv(rec, "image_mismatch"), 0);
    ck_assert_double_eq(inv(rec, "image_missing"), 0);
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
    struct sim_config *cfg = load_cfg(body);
    cJSON *rec = run_point(cfg, v);
    assert_clean(rec);
    /* at most the non-zero part of memory (under 3/4), header and maps */
    ck_assert_msg(metric(rec, "bytes_read") < 0.75 * 64 * MIB, "%.0f",
                  metric(rec, "bytes_read"));
    ck_assert(metric(rec, "restore_ns") > 0);
    ck_assert_double_eq(inv(rec, "restore_pages_checked"), NR_PAGES);
    ck_assert_double_eq(inv(rec, "restore_mismatch"), 0);
    ck_assert_double_eq(inv(rec, "restore_uninstalled"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_sim_unsafe_policy_image_check_catches_writes_before_copy)
{
    struct sim_config *cfg = load_cfg(VM64 WRITE_HEAVY WARMUP
                                      "'variants': [{'name': 'u', 'policy': "
                                      "'buffered-unsafe-test'}]");
    cJSON *rec = run_point(cfg, 0);
    ck_assert(metric(rec, "faults") > 0);
    ck_assert_double_eq(inv(rec, "image_pages_checked"), NR_PAGES);
    ck_assert(inv(rec, "image_mismatch") > 0);
    ck_assert(violations(rec) >= inv(rec, "image_mismatch"));
    ck_assert(!rec_ok(rec));
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_sim_injected_disk_error_fails_the_save_cleanly)
{
    struct sim_config *cfg = load_cfg(VM64 WRITE_HEAVY WARMUP
                                      "'variants': [{'name': 'b', 'policy': 'buffered'}], "
                                      "'faults': [{'kind': 'disk_error', 'op': 'write', "
                                      "'after_ios': 5, 'count': 1}]");
    cJSON *rec = run_point(cfg, 0);
    ck_assert_double_eq(inv(rec, "save_failed"), 1);
    ck_assert_double_eq(inv(rec, "failed_save_left_image"), 0);
    ck_assert_double_eq(inv(rec, "vcpu_errors"), 0);
    /* an expected failure, failed cleanly: nothing to check, no error */
    ck_assert_double_eq(inv(rec, "image_pages_checked"), 0);
    assert_clean(rec);
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
    struct sim_config *cfg = load_cfg(RESTORE_CFG);
    cJSON *rec = run_point(cfg, 0);
    assert_clean(rec);
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "policy")->valuestring, "eager");
    double restore_ns = metric(rec, "restore_ns");
    /* reading 64 MiB at 550 MB/s takes 122 ms at least */
    ck_assert(restore_ns >= (double)(64 * MIB) * 1e9 / 550e6);
    /* the guest starts only when every page is in: no fault, and no
     * responsive window can end before the restore */
    ck_assert_double_eq(metric(rec, "restore_faults"), 0);
    ck_assert(metric(rec, "ttr_ns") >= restore_ns);
    ck_assert(metric(rec, "guest_accesses") > 0);
    ck_assert_double_eq(inv(rec, "restore_pages_checked"), NR_PAGES);
    ck_assert_double_eq(inv(rec, "restore_mismatch"), 0);
    ck_assert_double_eq(inv(rec, "restore_uninstalled"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_sim_sblock_restore_installs_whole_storage_blocks)
{
    struct sim_config *cfg = load_cfg(RESTORE_CFG);
    cJSON *rec = run_point(cfg, 2);
    assert_clean(rec);
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "policy")->valuestring, "sblock");
    /* a fault installs its whole storage block, so a storage block faults
     * at most once, and each is read once (fault or background stream,
     * never both: a fault joins an in-flight read) after header and maps */
    double faults = metric(rec, "restore_faults");
    ck_assert(faults > 0);
    ck_assert_double_le(faults, NR_SBLOCKS);
    ck_assert_double_le(metric(rec, "read_ios"), NR_SBLOCKS + 2);
    ck_assert(inv(rec, "restore_pages_checked") > 0);
    ck_assert_double_eq(inv(rec, "restore_mismatch"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* Loop over the three restore variants (eager, lazy, sblock). */
START_TEST(test_sim_every_restore_installs_pages_equal_to_the_image)
{
    struct sim_config *cfg = load_cfg(RESTORE_CFG);
    cJSON *rec = run_point(cfg, _i);
    assert_clean(rec);
    /* 400 ms of guest time is enough for every variant to finish (the
     * lazy ones stream the rest in the background): every page is then
     * installed once and checked against the image */
    ck_assert(metric(rec, "restore_ns") > 0);
    ck_assert_double_eq(inv(rec, "restore_pages_checked"), NR_PAGES);
    ck_assert_double_eq(inv(rec, "restore_mismatch"), 0);
    ck_assert_double_eq(inv(rec, "restore_uninstalled"), 0);
    ck_assert_double_eq(inv(rec, "stunned_guest_accesses"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* A restore that makes pages present without their content: every
 * install it does is right, so only the check of what the guest sees and
 * of every present page at the end can catch it. */
START_TEST(test_sim_restore_check_catches_pages_present_without_content)
{
    struct sim_config *cfg = load_cfg(VM64 WARMUP
        "'phase': 'restore', "
        "'workload': {'kind': 'synthetic', 'pattern': 'zipf', 'footprint': '16MiB', "
        "'write_fraction': 0.05, 'access_time': '500ns'}, "
        "'restore': {'run_time': '400ms'}, "
        "'variants': [{'name': 'lp', 'policy': 'sblock-lazy-present-test'}]");
    cJSON *rec = run_point(cfg, 0);
    ck_assert(metric(rec, "restore_faults") > 0);
    /* done: every page is present and compared once */
    ck_assert(metric(rec, "restore_ns") > 0);
    ck_assert_double_eq(inv(rec, "restore_pages_checked"), NR_PAGES);
    ck_assert_double_eq(inv(rec, "restore_uninstalled"), 0);
    /* only the pages the guest faulted on hold their content */
    ck_assert_double_ge(inv(rec, "restore_mismatch"), NR_PAGES - metric(rec, "restore_faults"));
    ck_assert(!rec_ok(rec));
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* A restore that has not finished when the run ends: every page present
 * by then is still compared, not only those that went through an install
 * the check saw. */
START_TEST(test_sim_unfinished_restore_checks_every_present_page)
{
    struct sim_config *cfg = load_cfg(VM64_NZ WARMUP
        "'phase': 'restore', "
        "'workload': {'kind': 'synthetic', 'pattern': 'zipf', 'footprint': '16MiB', "
        "'write_fraction': 0.05, 'access_time': '500ns'}, "
        "'restore': {'run_time': '20ms'}, "
        "'variants': [{'name': 'lazy', 'policy': 'lazy', 'params': {'background': false}}]");
    cJSON *rec = run_point(cfg, 0);
    assert_clean(rec);
    ck_assert(!has_metric(rec, "restore_ns"));
    double checked = inv(rec, "restore_pages_checked");
    /* without background reads a page is present only once faulted */
    ck_assert(checked > 0);
    ck_assert_double_eq(checked, metric(rec, "restore_faults"));
    ck_assert_double_lt(checked, NR_PAGES);
    ck_assert_double_eq(inv(rec, "restore_mismatch"), 0);
    cJSON_Delete(rec);
    sim_config_free(cfg);
}
END_TEST

/* The maps reach the file with one byte flipped: the image check counts
 * every page missing and the record's error gives the decoder's reason. */
START_TEST(test_sim_corrupt_maps_error_names_the_decoders_reason)
{
    struct sim_config *cfg = load_cfg(VM64 WRITE_HEAVY WARMUP
                                      "'variants': [{'name': 'cm', 'policy': "
                                      "'buffered-corrupt-maps-test'}]");
    cJSON *rec = run_point(cfg, 0);
    ck_assert_double_eq(inv(rec, "image_missing"), NR_PAGES);
    ck_assert_double_eq(inv(rec, "image_pages_checked"), 0);
    ck_assert(!rec_ok(rec));
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
    struct sim_config *cfg = load_cfg(VM64 WARMUP
        "'phase': 'restore', "
        "'workload': {'kind': 'synthetic', 'pattern': 'zipf', 'footprint': '16MiB', "
        "'write_fraction': 0.05, 'access_time': '500ns'}, "
        "'restore': {'from': {'policy': 'buffered-corrupt-maps-test'}, 'run_time': '200ms'}, "
        "'variants': [{'name': 'eager', 'policy': 'eager'}, {'name': 'lazy', 'policy': 'lazy'}, "
        "{'name': 'sblock', 'policy': 'sblock'}]");
    cJSON *rec = run_point(cfg, _i);
    ck_assert(!rec_ok(rec));
    ck_assert_double_eq(inv(rec, "image_missing"), NR_PAGES);
    ck_assert_double_eq(inv(rec, "restore_pages_checked"), 0);
    ck_assert(!has_metric(rec, "restore_ns"));
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
    struct sim_config *cfg = load_cfg(VM64 WRITE_HEAVY WARMUP
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
    tcase_add_checked_fixture(save, setup, teardown);
    tcase_set_timeout(save, 0);
    tcase_add_test(save, test_sim_stopcopy_stuns_the_vm_for_the_whole_save);
    tcase_add_test(save, test_sim_save_through_the_page_cache);
    tcase_add_test(save, test_sim_save_resumed_before_the_sync);
    tcase_add_test(save, test_sim_stopcopy_completion_is_memory_over_write_bandwidth);
    tcase_add_test(save, test_sim_huge_trace_count_does_not_hold_off_the_stun);
    tcase_add_test(save, test_sim_save_channels_share_the_cpu_work);
    tcase_add_test(save, test_sim_save_with_four_vcpus);
    tcase_add_test(save, test_sim_restore_with_four_vcpus);
    tcase_add_test(save, test_sim_save_with_four_vcpus);
    tcase_add_test(save, test_sim_restore_with_four_vcpus);
    tcase_add_test(save, test_sim_buffered_read_only_guest_takes_no_faults);
    tcase_add_test(save, test_sim_buffered_write_fault_costs_exit_plus_block_copy);
    tcase_add_test(save, test_sim_lazypage_writes_one_io_per_page);
    tcase_add_test(save, test_sim_fault_waits_count_each_waiting_fault_once);
    tcase_add_test(save, test_sim_precopy_read_only_guest_stops_after_one_round);
    tcase_add_test(save, test_sim_unsafe_policy_image_check_catches_writes_before_copy);
    tcase_add_test(save, test_sim_injected_disk_error_fails_the_save_cleanly);
    tcase_add_test(save, test_sim_corrupt_maps_error_names_the_decoders_reason);
    tcase_add_test(save, test_sim_same_point_twice_gives_identical_records);
    tcase_add_loop_test(save, test_sim_stopcopy_zero_pages_are_scanned_not_written, 0, 2);
    tcase_add_loop_test(save, test_sim_zero_scan_on_the_fault_path_stalls_the_guest, 0, 3);
    tcase_add_test(save, test_sim_precopy_stream_allocates_every_byte_written);
    suite_add_tcase(s, save);

    TCase *restore = tcase_create("restore");
    tcase_add_checked_fixture(restore, setup, teardown);
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
