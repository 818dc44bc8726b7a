/*
 * check_config_good.c - suite "config", good configs: what an experiment
 * config (sim_config.c, sim_json.c) loads into: units and defaults,
 * policy parameters, paths, sweeps and their labels, vCPUs and traces,
 * --set, --quick and --seed, the restore phase, faults, and every shipped
 * experiment.  Bad input is check_config_bad.c; result files and `check`
 * are check_config_result.c.
 *
 * Each test writes its config into a fresh temporary directory
 * (tests/config_rig.*; the platform file there only has to be readable:
 * loading does not start SimGrid; the validate tests use a shipped
 * platform).  Configs are written with ' for " to keep them readable
 * here.  Error lines are compared whole: file, JSON path and message.
 */
#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint/sim_ckpt.h"
#include "config_rig.h"
#include "sim_cfg_vm.h"
#include "sim_config.h"
#include "sim_json.h"
#include "sim_result.h"

/* The checkpoint sections of a run point, and the save and restore
 * parameters it runs with (a restore point's save is restore.from). */
static const struct sim_ckpt_cfg *CK(const struct sim_exp *e)
{
    return e->mech_cfg;
}

static const struct ckpt_cfg *SAVE(const struct sim_exp *e)
{
    return CK(e)->restore_phase ? &CK(e)->from_save : e->policy_cfg;
}

static const char *SAVE_POLICY(const struct sim_exp *e)
{
    return CK(e)->restore_phase ? CK(e)->from_policy : e->policy;
}

static const struct ckpt_restore_cfg *RESTORE(const struct sim_exp *e)
{
    ck_assert(CK(e)->restore_phase);
    return e->policy_cfg;
}

/* ------------------------------------------------------------ good configs */

START_TEST(test_config_load_fills_units_and_defaults)
{
    struct sim_config *cfg = load_ok(HEAD VM WL VARS ", 'metrics': [{'name': 'completion_ns', "
                                     "'direction': 'lower'}]}", NULL);
    ck_assert_str_eq(cfg->name, "t1");
    ck_assert_uint_eq(cfg->seed, 1);
    ck_assert(!cfg->quick);
    ck_assert_int_eq(cfg->nr_points, 2);
    const struct sim_exp *e = &cfg->points[0];
    ck_assert_str_eq(e->config_file, g_file);
    ck_assert_uint_eq(CK(e)->vm.memory_bytes, 8ull << 30);
    ck_assert(!CK(e)->restore_phase);
    ck_assert_double_eq(CK(e)->vm.content[SIM_CONTENT_ZERO], 0.25);
    ck_assert_double_eq(CK(e)->vm.content[SIM_CONTENT_CODE], 0.10);
    ck_assert_double_eq(CK(e)->vm.content[SIM_CONTENT_RANDOM], 0.40);
    ck_assert_double_eq(CK(e)->vm.aging, 0);
    ck_assert_uint_eq(CK(e)->vm.paging_levels, 4);
    /* the shipped calibration's figures (workloads/costs/calibration.json) */
    ck_assert_uint_eq(CK(e)->costs.trace_fault_ns, 23515);
    ck_assert_uint_eq(CK(e)->costs.page_copy_ns, 521);
    ck_assert_double_eq(CK(e)->costs.compress_bps, 875787907);
    ck_assert_double_eq(CK(e)->costs.decompress_bps, 3722157943);
    ck_assert_uint_eq(CK(e)->costs.trace_arm_ns, 2);
    ck_assert_uint_eq(CK(e)->costs.device_state_ns, 5000000);
    ck_assert_uint_eq(CK(e)->costs.page_install_ns, 497);
    ck_assert_uint_eq(CK(e)->costs.zero_scan_ns, 517);
    ck_assert_uint_eq(CK(e)->costs.unprotect_ns, 6482);
    ck_assert_uint_eq(CK(e)->costs.stream_write_ns, 2989);
    ck_assert_uint_eq(CK(e)->warmup_ns, 50000000);
    ck_assert_uint_eq(CK(e)->ttr_window_ns, 1000000);
    ck_assert_double_eq(CK(e)->ttr_stall, 0.1);
    ck_assert_uint_eq(CK(e)->run_time_ns, 2000000000);
    ck_assert_str_eq(e->host, "");
    ck_assert_str_eq(e->disk, "");
    ck_assert_int_eq(e->nr_faults, 0);
    ck_assert_int_eq(e->nr_point_keys, 0);
    ck_assert_str_eq(e->id, "sc");
    ck_assert_str_eq(cfg->points[1].id, "buf");
    ck_assert_int_eq(cfg->nr_metrics, 1);
    ck_assert_str_eq(cfg->metrics[0].name, "completion_ns");
    ck_assert(!cfg->metrics[0].higher_is_better);
    ck_assert_double_eq(cfg->metrics[0].tolerance, 0.05);
    ck_assert_double_eq(cfg->metrics[0].abs_tolerance, 0);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_config_synthetic_workload_defaults)
{
    struct sim_config *cfg = load_ok(GOOD, NULL);
    const struct sim_exp_workload *w = &CK(&cfg->points[0])->workload;
    ck_assert(!w->is_trace);
    ck_assert_str_eq(w->name, "zipf");
    ck_assert_int_eq(w->pattern, SIM_PAT_ZIPF);
    ck_assert_uint_eq(w->footprint_bytes, 8ull << 30);     /* = vm.memory */
    ck_assert_double_eq(w->zipf_s, 0.99);
    ck_assert_uint_eq(w->stride_pages, 16);
    ck_assert_double_eq(w->write_fraction, 0.2);
    ck_assert_uint_eq(w->access_ns, 100);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_config_footprint_larger_than_memory_is_clamped)
{
    struct sim_config *cfg = load_ok(HEAD VM "'workload': {'kind': 'synthetic', 'pattern': "
                                     "'uniform', 'footprint': '16GiB'}, " VARS "}", NULL);
    ck_assert_uint_eq(CK(&cfg->points[0])->workload.footprint_bytes, 8ull << 30);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_config_variant_params_start_from_policy_defaults)
{
    struct sim_config *cfg = load_ok(GOOD, NULL);
    const struct sim_exp *sc = &cfg->points[0], *buf = &cfg->points[1];
    ck_assert_str_eq(sc->variant, "sc");
    ck_assert_str_eq(sc->policy, "stopcopy");
    ck_assert_str_eq(SAVE_POLICY(sc), "stopcopy");
    ck_assert_uint_eq(SAVE(sc)->io_pages, 256);
    ck_assert_str_eq(buf->policy, "buffered");
    ck_assert_str_eq(SAVE_POLICY(buf), "buffered");
    ck_assert_uint_eq(SAVE(buf)->block_pages, 8);           /* given */
    ck_assert_uint_eq(SAVE(buf)->sblock_blocks, 8);         /* default */
    ck_assert_uint_eq(SAVE(buf)->nr_buffers, 2);
    ck_assert(!SAVE(buf)->compress);
    sim_config_free(cfg);
}
END_TEST

/* vm.vcpus defaults to 1; a trace workload may list one trace per vCPU */
START_TEST(test_config_vcpus_and_one_trace_per_vcpu)
{
    struct sim_config *cfg = load_ok(GOOD, NULL);
    ck_assert_uint_eq(CK(&cfg->points[0])->vm.vcpus, 1);
    sim_config_free(cfg);
    write_text("a.pagetrace", "x", false);
    write_text("b.pagetrace", "x", false);
    cfg = load_ok(HEAD "'vm': {'memory': '8GiB', 'vcpus': 2}, 'workload': {'kind': 'trace', "
                  "'file': ['a.pagetrace', 'b.pagetrace']}, " VARS "}", NULL);
    const struct sim_exp_workload *wl = &CK(&cfg->points[0])->workload;
    ck_assert_uint_eq(CK(&cfg->points[0])->vm.vcpus, 2);
    ck_assert_uint_eq(wl->nr_files, 2);
    ck_assert_str_eq(wl->name, "a");
    ck_assert(strstr(sim_exp_workload_file(wl, 0), "/a.pagetrace") != NULL);
    ck_assert(strstr(sim_exp_workload_file(wl, 1), "/b.pagetrace") != NULL);
    ck_assert_str_eq(wl->file, sim_exp_workload_file(wl, 0));
    sim_config_free(cfg);
    expect_error(HEAD "'vm': {'memory': '8GiB', 'vcpus': 0}, " WL VARS "}", NULL, VM_EINVAL,
                 ": $.vm.vcpus: expected integer 1..64, got 0");
    expect_error(HEAD "'vm': {'memory': '8GiB', 'vcpus': 2}, 'workload': {'kind': 'trace', "
                 "'file': []}, " VARS "}", NULL, VM_EINVAL,
                 ": $.workload.file: expected 1..64 trace files (one per vCPU), got 0");
    expect_error(HEAD "'vm': {'memory': '8GiB', 'vcpus': 2}, 'workload': {'kind': 'trace', "
                 "'file': ['a.pagetrace', 7]}, " VARS "}", NULL, VM_EINVAL,
                 ": $.workload.file[1]: expected file path, got 7");
}
END_TEST

START_TEST(test_config_paths_resolve_against_the_config_directory)
{
    write_text("plat.xml", "<platform/>\n", false);
    write_text("traces/app.pagetrace.gz", "x", false);
    write_text("sub/exp.json", "{'name': 't1', 'mechanism': 'checkpoint', 'platform': "
               "'../plat.xml', " VM "'workload': {'kind': 'trace', 'file': "
               "'../traces/app.pagetrace.gz'}, " VARS "}", true);
    char file[400], plat[400], trace[400], real_dir[300];
    snprintf(file, sizeof file, "%s/sub/exp.json", g_dir);
    ck_assert_ptr_nonnull(realpath(g_dir, real_dir));
    snprintf(plat, sizeof plat, "%s/plat.xml", real_dir);
    snprintf(trace, sizeof trace, "%s/traces/app.pagetrace.gz", real_dir);
    ck_assert_int_eq(chdir("/"), 0);                       /* not relative to the cwd */
    struct sim_config *cfg = NULL;
    struct sim_diag_list errs = { 0 };
    ck_assert_int_eq(sim_config_load(file, NULL, &cfg, &errs), 0);
    const struct sim_exp *e = &cfg->points[0];
    ck_assert_str_eq(e->platform, plat);
    ck_assert_str_eq(CK(e)->workload.file, trace);
    ck_assert(CK(e)->workload.is_trace);
    ck_assert_str_eq(CK(e)->workload.name, "app");             /* the file's stem */
    ck_assert_int_eq(CK(e)->workload.format, SIM_TRACE_AUTO);
    ck_assert_uint_eq(CK(e)->workload.access_ns, 2);
    ck_assert(CK(e)->workload.loop);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_config_sweep_expands_first_entry_outermost)
{
    struct sim_config *cfg = load_ok(
        HEAD VM WL VARS ", 'sweep': [{'path': 'vm.memory', 'values': ['1GiB', '2GiB']}, "
        "{'path': '$.variants[1].params.block_pages', 'label': 'B', 'values': [4, 16]}]}", NULL);
    static const char *const ids[] = {
        "sc/vm.memory=1GiB/B=4", "buf/vm.memory=1GiB/B=4",
        "sc/vm.memory=1GiB/B=16", "buf/vm.memory=1GiB/B=16",
        "sc/vm.memory=2GiB/B=4", "buf/vm.memory=2GiB/B=4",
        "sc/vm.memory=2GiB/B=16", "buf/vm.memory=2GiB/B=16",
    };
    ck_assert_int_eq(cfg->nr_points, 8);
    for (int i = 0; i < 8; i++)
        ck_assert_str_eq(cfg->points[i].id, ids[i]);
    const struct sim_exp *e = &cfg->points[7];
    ck_assert_int_eq(e->nr_point_keys, 2);
    ck_assert_str_eq(e->point_keys[0], "vm.memory");
    ck_assert_str_eq(e->point_keys[1], "B");
    ck_assert_str_eq(e->point_values[0], "2GiB");
    ck_assert_str_eq(e->point_values[1], "16");
    ck_assert_uint_eq(CK(e)->vm.memory_bytes, 2ull << 30);
    ck_assert_uint_eq(SAVE(e)->block_pages, 16);
    ck_assert_uint_eq(SAVE(&cfg->points[1])->block_pages, 4);
    ck_assert_uint_eq(CK(&cfg->points[1])->vm.memory_bytes, 1ull << 30);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_config_sweep_labels_objects_by_name_and_scalars_by_text)
{
    struct sim_config *cfg = load_ok(
        HEAD VM WL VARS ", 'sweep': [{'path': 'workload', 'label': 'wl', 'values': ["
        "{'name': 'hot', 'kind': 'synthetic', 'pattern': 'zipf', 'write_fraction': 0.5}, "
        "{'name': 'scan', 'kind': 'synthetic', 'pattern': 'sequential'}]}, "
        "{'path': 'variants[1].params.compress', 'values': [false, true]}]}", NULL);
    ck_assert_int_eq(cfg->nr_points, 8);
    ck_assert_str_eq(cfg->points[0].id, "sc/wl=hot/variants[1].params.compress=false");
    ck_assert_str_eq(cfg->points[3].id, "buf/wl=hot/variants[1].params.compress=true");
    ck_assert_str_eq(CK(&cfg->points[3])->workload.name, "hot");
    ck_assert_double_eq(CK(&cfg->points[3])->workload.write_fraction, 0.5);
    ck_assert(SAVE(&cfg->points[3])->compress);
    ck_assert_int_eq(CK(&cfg->points[5])->workload.pattern, SIM_PAT_SEQUENTIAL);
    ck_assert_str_eq(cfg->points[5].point_values[0], "scan");
    sim_config_free(cfg);
}
END_TEST

/* "variants[*]" sets the key in every variant; a file path's label is its
 * base name */
START_TEST(test_config_sweep_every_variant_and_file_labels)
{
    struct sim_config *cfg = load_ok(
        HEAD VM WL VARS ", 'sweep': [{'path': 'variants[*].params.channels', 'label': 'ch', "
        "'values': [1, 4]}, {'path': 'platform', 'label': 'disk', "
        "'values': ['plat.xml', './plat.xml']}]}", NULL);
    ck_assert_int_eq(cfg->nr_points, 8);
    ck_assert_str_eq(cfg->points[0].id, "sc/ch=1/disk=plat.xml");
    ck_assert_str_eq(cfg->points[7].id, "buf/ch=4/disk=plat");
    ck_assert_uint_eq(SAVE(&cfg->points[0])->channels, 1);
    ck_assert_uint_eq(SAVE(&cfg->points[1])->channels, 1);
    ck_assert_uint_eq(SAVE(&cfg->points[6])->channels, 4);
    ck_assert_uint_eq(SAVE(&cfg->points[7])->channels, 4);
    ck_assert_uint_eq(SAVE(&cfg->points[7])->block_pages, 8);    /* the rest of params kept */
    sim_config_free(cfg);
}
END_TEST

/* A "with" companion takes its value at the entry's index: a zip, not a
 * product; the points keep the entry's labels only. */
START_TEST(test_config_sweep_with_sets_a_second_path_per_value)
{
    struct sim_config *cfg = load_ok(
        HEAD VM WL VARS ", 'sweep': [{'path': 'workload', 'label': 'wl', 'values': ["
        "{'name': 'busy', 'kind': 'synthetic', 'pattern': 'zipf'}, "
        "{'name': 'idle', 'kind': 'synthetic', 'pattern': 'uniform', 'access_time': '1ms'}], "
        "'with': [{'path': 'vm.content', 'values': [{'zero': 0.25, 'text': 0.75}, "
        "{'zero': 0.9, 'random': 0.1}]}, {'path': 'save.warmup', 'values': ['1ms', '2ms']}]}]}",
        NULL);
    ck_assert_int_eq(cfg->nr_points, 4);
    ck_assert_str_eq(cfg->points[0].id, "sc/wl=busy");
    ck_assert_str_eq(cfg->points[3].id, "buf/wl=idle");
    ck_assert_int_eq(cfg->points[3].nr_point_keys, 1);
    const struct sim_exp *busy = &cfg->points[1], *idle = &cfg->points[2];
    ck_assert_double_eq(CK(busy)->vm.content[SIM_CONTENT_ZERO], 0.25);
    ck_assert_double_eq(CK(busy)->vm.content[SIM_CONTENT_TEXT], 0.75);
    ck_assert_uint_eq(CK(busy)->warmup_ns, 1000000);
    ck_assert_double_eq(CK(idle)->vm.content[SIM_CONTENT_ZERO], 0.9);
    ck_assert_double_eq(CK(idle)->vm.content[SIM_CONTENT_TEXT], 0);
    ck_assert_uint_eq(CK(idle)->warmup_ns, 2000000);
    ck_assert_uint_eq(CK(idle)->workload.access_ns, 1000000);
    ck_assert_uint_eq(CK(idle)->vm.memory_bytes, 8ull << 30);     /* the rest as written */
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_config_sweep_every_variant_needs_every_policy_to_take_it)
{
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'variants[*].params.block_pages', "
                 "'values': [4]}]}", NULL, VM_EINVAL,
                 ": $.sweep[0].path: unknown key 'block_pages' in "
                 "'variants[0].params.block_pages' (policy 'stopcopy' takes: layout, io_pages, "
                 "io_depth, channels, zero_pages)");
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'variants[*].params.channels', "
                 "'values': [4]}, {'path': 'variants[1].params.channels', 'label': 'c1', "
                 "'values': [2]}]}", NULL, VM_EINVAL,
                 ": $.sweep[1]: 'variants[1].params.channels' is swept twice (also $.sweep[0])");
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'vm[*].memory', 'values': ['1GiB']}]}",
                 NULL, VM_EINVAL, ": $.sweep[0].path: expected 'vm' to be a non-empty array for "
                 "'[*]' in 'vm[*].memory'");
    const char *sets[] = { "variants[*].params.channels=2" };
    struct sim_config_opts o = { .nr_sets = 1, .sets = sets };
    expect_error(GOOD, &o, VM_EINVAL, ": --set variants[*].params.channels: expected "
                 "'variants[N]': '[*]' (every element) is for a sweep's path only, got "
                 "'variants[*].params.channels'");
}
END_TEST

START_TEST(test_config_sweep_with_errors_are_located)
{
    /* one value per value of the entry */
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'vm.memory', 'values': ['1GiB', '2GiB'], "
                 "'with': [{'path': 'save.warmup', 'values': ['1ms']}]}]}", NULL, VM_EINVAL,
                 ": $.sweep[0].with[0].values: expected 2 values, one per value of "
                 "$.sweep[0].values, got 1");
    /* a path the schema knows */
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'vm.memory', 'values': ['1GiB'], "
                 "'with': [{'path': 'vm.contnet', 'values': [{}]}]}]}", NULL, VM_EINVAL,
                 ": $.sweep[0].with[0].path: unknown key 'contnet' in 'vm.contnet' "
                 "(did you mean 'content'?)");
    /* clear of its own entry's path, and of the other entries' */
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'workload', 'values': [{'kind': "
                 "'synthetic', 'pattern': 'zipf'}], 'with': [{'path': 'workload.zipf_s', "
                 "'values': [0.5]}]}]}", NULL, VM_EINVAL,
                 ": $.sweep[0].with[0]: 'workload.zipf_s' overlaps $.sweep[0] ('workload'): "
                 "one would overwrite the other at every point");
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'vm.memory', 'values': ['1GiB'], "
                 "'with': [{'path': 'save.warmup', 'values': ['1ms']}]}, {'path': 'save.warmup', "
                 "'values': ['2ms']}]}", NULL, VM_EINVAL,
                 ": $.sweep[1]: 'save.warmup' is swept twice (also $.sweep[0].with[0])");
    /* a bad value is named where it is */
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'vm.memory', 'values': ['1GiB', '2GiB'], "
                 "'with': [{'path': 'save.warmup', 'values': ['1ms', '2x']}]}]}", NULL, VM_EINVAL,
                 ": $.sweep[0].with[0].values[1]: expected time like \"250us\", got \"2x\"");
    /* and an override inside a companion would be dropped */
    const char *sets[] = { "vm.content.zero=1" };
    struct sim_config_opts o = { .nr_sets = 1, .sets = sets };
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'vm.memory', 'values': ['1GiB'], "
                 "'with': [{'path': 'vm.content', 'values': [{'zero': 1}]}]}]}", &o, VM_EINVAL,
                 ": --set vm.content.zero: 'vm.content' is swept ($.sweep[0]), so the sweep "
                 "would replace this value at every point; change the sweep's values instead");
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'vm.memory', 'values': ['1GiB'], "
                 "'with': []}]}", NULL, VM_EINVAL,
                 ": $.sweep[0].with: expected array of 1 to 4 {path, values}, got []");
}
END_TEST

START_TEST(test_config_set_overrides_with_json_or_string_values)
{
    const char *sets[] = { "vm.memory=4GiB", "variants[1].params.compress=true", "seed=7",
                           "workload.write_fraction=0.5" };
    struct sim_config_opts o = { .nr_sets = 4, .sets = sets };
    struct sim_config *cfg = load_ok(GOOD, &o);
    ck_assert_uint_eq(CK(&cfg->points[1])->vm.memory_bytes, 4ull << 30);
    ck_assert(SAVE(&cfg->points[1])->compress);
    ck_assert_uint_eq(cfg->points[0].seed, 7);
    ck_assert_uint_eq(cfg->seed, 7);
    ck_assert_double_eq(CK(&cfg->points[0])->workload.write_fraction, 0.5);
    /* the echo holds the overridden config */
    const cJSON *vm = cJSON_GetObjectItem(cfg->root, "vm");
    ck_assert_str_eq(cJSON_GetObjectItem(vm, "memory")->valuestring, "4GiB");
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_config_set_creates_a_missing_object_the_schema_allows)
{
    const char *sets[] = { "costs.page_copy=1us", "restore.ttr_stall=0.25" };
    struct sim_config_opts o = { .nr_sets = 2, .sets = sets };
    struct sim_config *cfg = load_ok(GOOD, &o);
    ck_assert_uint_eq(CK(&cfg->points[0])->costs.page_copy_ns, 1000);
    ck_assert_uint_eq(CK(&cfg->points[0])->costs.trace_fault_ns, 23515);  /* the rest: defaults */
    ck_assert_double_eq(CK(&cfg->points[0])->ttr_stall, 0.25);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_config_quick_applies_before_set)
{
    const char *sets[] = { "vm.memory=2GiB" };
    struct sim_config_opts o = { .quick = true, .nr_sets = 1, .sets = sets };
    struct sim_config *cfg = load_ok(HEAD VM WL VARS ", 'quick': {'vm.memory': '1GiB', "
                                     "'save.warmup': '1ms'}}", &o);
    ck_assert(cfg->quick);
    ck_assert_uint_eq(CK(&cfg->points[0])->vm.memory_bytes, 2ull << 30);   /* --set wins */
    ck_assert_uint_eq(CK(&cfg->points[0])->warmup_ns, 1000000);             /* from quick */
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_config_quick_is_ignored_without_the_flag)
{
    struct sim_config *cfg = load_ok(HEAD VM WL VARS ", 'quick': {'vm.memory': '1GiB'}}", NULL);
    ck_assert(!cfg->quick);
    ck_assert_uint_eq(CK(&cfg->points[0])->vm.memory_bytes, 8ull << 30);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_config_seed_option_replaces_the_seed)
{
    struct sim_config_opts o = { .have_seed = true, .seed = 42 };
    struct sim_config *cfg = load_ok(HEAD "'seed': 3, " VM WL VARS "}", &o);
    ck_assert_uint_eq(cfg->seed, 42);
    ck_assert_uint_eq(cfg->points[0].seed, 42);
    ck_assert_uint_eq(cfg->points[1].seed, 42);
    ck_assert_double_eq(cJSON_GetObjectItem(cfg->root, "seed")->valuedouble, 42);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_config_restore_phase_takes_restore_policies_and_from)
{
    struct sim_config *cfg = load_ok(
        HEAD "'phase': 'restore', " VM WL "'restore': {'from': {'policy': 'buffered', "
        "'params': {'block_pages': 32}}, 'ttr_window': '5ms'}, 'variants': [{'name': 'eager', "
        "'policy': 'eager'}, {'name': 'sb', 'policy': 'sblock', 'params': {'background': "
        "false}}]}", NULL);
    ck_assert_int_eq(cfg->nr_points, 2);
    const struct sim_exp *e = &cfg->points[1];
    ck_assert(CK(e)->restore_phase);
    ck_assert_str_eq(e->policy, "sblock");
    ck_assert_str_eq(SAVE_POLICY(e), "buffered");
    ck_assert_uint_eq(SAVE(e)->block_pages, 32);
    ck_assert_uint_eq(SAVE(e)->sblock_blocks, 8);
    ck_assert(RESTORE(e)->install_all);
    ck_assert(!RESTORE(e)->background);
    ck_assert_uint_eq(CK(e)->ttr_window_ns, 5000000);
    ck_assert_uint_eq(RESTORE(&cfg->points[0])->io_pages, 256);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_config_restore_phase_defaults_to_buffered_save)
{
    struct sim_config *cfg = load_ok(HEAD "'phase': 'restore', " VM WL "'variants': "
                                     "[{'name': 'lazy', 'policy': 'lazy'}]}", NULL);
    ck_assert_str_eq(SAVE_POLICY(&cfg->points[0]), "buffered");
    ck_assert_uint_eq(SAVE(&cfg->points[0])->block_pages, 16);
    ck_assert(RESTORE(&cfg->points[0])->background);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_config_faults_by_kind)
{
    struct sim_config *cfg = load_ok(
        HEAD VM WL VARS ", 'faults': [{'kind': 'disk_error', 'op': 'read', 'after_ios': 10, "
        "'count': 1}, {'kind': 'disk_slow', 'factor': 4, 'from': '1ms', 'until': '2ms'}, "
        "{'kind': 'disk_error'}]}", NULL);
    const struct sim_exp *e = &cfg->points[0];
    ck_assert_int_eq(e->nr_faults, 3);
    ck_assert_int_eq(e->faults[0].kind, SIM_FAULT_DISK_ERROR);
    ck_assert(!e->faults[0].on_write);
    ck_assert_uint_eq(e->faults[0].after_ios, 10);
    ck_assert_uint_eq(e->faults[0].count, 1);
    ck_assert_int_eq(e->faults[1].kind, SIM_FAULT_DISK_SLOW);
    ck_assert_double_eq(e->faults[1].factor, 4);
    ck_assert_uint_eq(e->faults[1].from_ns, 1000000);
    ck_assert_uint_eq(e->faults[1].until_ns, 2000000);
    ck_assert(e->faults[2].on_write);                      /* default op */
    ck_assert_uint_eq(e->faults[2].count, 0);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_config_shipped_experiments_load)
{
    static const char *const names[] = { "checkpoint-compare", "checkpoint-block-sweep",
                                         "checkpoint-scale", "checkpoint-restore" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char file[1024];
        snprintf(file, sizeof file, "%s/workloads/experiments/%s.json", srcdir(), names[i]);
        if (access(file, R_OK) != 0)
            continue;                       /* an experiment not (yet) shipped */
        struct sim_config *cfg = NULL;
        struct sim_diag_list errs = { 0 };
        struct sim_config_opts quick = { .quick = true };
        int rc = sim_config_load(file, &quick, &cfg, &errs);
        ck_assert_msg(rc == 0, "%s", errs.n ? errs.lines[0] : file);
        ck_assert_str_eq(cfg->name, names[i]);
        ck_assert_int_gt(cfg->nr_points, 0);
        sim_config_free(cfg);
        sim_diag_list_free(&errs);
    }
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *good = tcase_create("good");
    tcase_add_checked_fixture(good, config_setup, config_teardown);
    tcase_add_test(good, test_config_load_fills_units_and_defaults);
    tcase_add_test(good, test_config_synthetic_workload_defaults);
    tcase_add_test(good, test_config_footprint_larger_than_memory_is_clamped);
    tcase_add_test(good, test_config_variant_params_start_from_policy_defaults);
    tcase_add_test(good, test_config_paths_resolve_against_the_config_directory);
    tcase_add_test(good, test_config_sweep_expands_first_entry_outermost);
    tcase_add_test(good, test_config_sweep_with_sets_a_second_path_per_value);
    tcase_add_test(good, test_config_sweep_labels_objects_by_name_and_scalars_by_text);
    tcase_add_test(good, test_config_sweep_every_variant_and_file_labels);
    tcase_add_test(good, test_config_sweep_every_variant_needs_every_policy_to_take_it);
    tcase_add_test(good, test_config_vcpus_and_one_trace_per_vcpu);
    tcase_add_test(good, test_config_set_overrides_with_json_or_string_values);
    tcase_add_test(good, test_config_set_creates_a_missing_object_the_schema_allows);
    tcase_add_test(good, test_config_quick_applies_before_set);
    tcase_add_test(good, test_config_quick_is_ignored_without_the_flag);
    tcase_add_test(good, test_config_seed_option_replaces_the_seed);
    tcase_add_test(good, test_config_restore_phase_takes_restore_policies_and_from);
    tcase_add_test(good, test_config_restore_phase_defaults_to_buffered_save);
    tcase_add_test(good, test_config_faults_by_kind);
    tcase_add_test(good, test_config_shipped_experiments_load);
    suite_add_tcase(s, good);

    TCase *bad = tcase_create("bad");
    tcase_add_checked_fixture(bad, config_setup, config_teardown);
    tcase_add_test(bad, test_config_sweep_with_errors_are_located);
    suite_add_tcase(s, bad);

    return s;
}

int main(void)
{
    struct vm_diag d = { 0 };
    if (sim_mech_register(&sim_ckpt_mech, &d) != 0) {
        fprintf(stderr, "%s\n", d.msg);
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(config_suite());
    /* each test in its own process: the validate tests start SimGrid children,
     * and chdir() in one test must not move the others */
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
