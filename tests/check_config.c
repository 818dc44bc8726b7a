/*
 * check_config.c - suite "config": experiment configs (sim_config.c,
 * sim_json.c) and result files and `check` (sim_result.c).
 *
 * Each test writes its config into a fresh temporary directory (the
 * platform file there only has to be readable: loading does not start
 * SimGrid; the validate tests use a shipped platform).  Configs are
 * written with ' for " to keep them readable here.  Error lines are
 * compared whole: file, JSON path and message.
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

static char g_dir[256];
static char g_file[320];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "%s/vmsim-config.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
    snprintf(g_file, sizeof g_file, "%s/exp.json", g_dir);
}

static void teardown(void)
{
    nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write text to g_dir/name, turning ' into " (configs only). */
static void write_text(const char *name, const char *text, bool quotes)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0777);
    *slash = '/';
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    for (const char *p = text; *p; p++)
        fputc(quotes && *p == '\'' ? '"' : *p, f);
    fclose(f);
}

static void write_cfg(const char *json)
{
    write_text("plat.xml", "<platform/>\n", false);
    write_text("exp.json", json, true);
}

static const char *srcdir(void)
{
    const char *s = getenv("VMSIM_SRCDIR");
    return s && *s ? s : VMSIM_SRCDIR;
}

/* Like write_cfg with a shipped platform as plat.xml (for validate, which
 * loads it); false when the tree has none. */
static bool write_cfg_real_platform(const char *json)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/workloads/platforms/host-sata.xml", srcdir());
    char *xml = sim_json_read_file(path, NULL);
    if (!xml)
        return false;
    write_text("plat.xml", xml, false);
    write_text("exp.json", json, true);
    free(xml);
    return true;
}

#define HEAD "{'name': 't1', 'mechanism': 'checkpoint', 'platform': 'plat.xml', "
#define VM "'vm': {'memory': '8GiB'}, "
#define WL "'workload': {'kind': 'synthetic', 'pattern': 'zipf'}, "
#define VARS "'variants': [{'name': 'sc', 'policy': 'stopcopy'}, " \
             "{'name': 'buf', 'policy': 'buffered', 'params': {'block_pages': 8}}]"
#define GOOD HEAD VM WL VARS "}"

static struct sim_config *load_ok(const char *json, const struct sim_config_opts *o)
{
    struct sim_config *cfg = NULL;
    struct sim_diag_list errs = { 0 };
    write_cfg(json);
    int rc = sim_config_load(g_file, o, &cfg, &errs);
    ck_assert_msg(rc == 0, "load failed: %s", errs.n ? errs.lines[0] : "(no message)");
    ck_assert_int_eq(errs.n, 0);
    ck_assert_ptr_nonnull(cfg);
    sim_diag_list_free(&errs);
    return cfg;
}

/* Load must fail with exactly one line: g_file followed by `rest`. */
static void expect_error(const char *json, const struct sim_config_opts *o, int code,
                         const char *rest)
{
    struct sim_config *cfg = NULL;
    struct sim_diag_list errs = { 0 };
    char want[1024];
    write_cfg(json);
    int rc = sim_config_load(g_file, o, &cfg, &errs);
    ck_assert_int_eq(rc, code);
    ck_assert_ptr_null(cfg);
    ck_assert_int_eq(errs.n, 1);
    snprintf(want, sizeof want, "%s%s", g_file, rest);
    ck_assert_str_eq(errs.lines[0], want);
    sim_diag_list_free(&errs);
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

/* ------------------------------------------------------------ bad input */

START_TEST(test_config_malformed_json_names_line_and_column)
{
    expect_error("{'name': 't1',\n  'seed': 1\n  'vm': {}}", NULL, VM_EPARSE,
                 ":3:3: malformed JSON: expected ',' or '}', got '\"'");
}
END_TEST

START_TEST(test_config_trailing_comma_is_malformed)
{
    expect_error("{'name': 't1',}", NULL, VM_EPARSE,
                 ":1:15: malformed JSON: expected a string key in double quotes, got '}'");
}
END_TEST

START_TEST(test_config_unterminated_string_points_at_its_start)
{
    expect_error("{\n 'name': 't1}", NULL, VM_EPARSE, ":2:10: malformed JSON: "
                 "unterminated string");
    expect_error("{'name': 't1\n'}", NULL, VM_EPARSE, ":1:13: malformed JSON: "
                 "expected '\"' before the end of the line (control characters must be "
                 "escaped), got end of line");
}
END_TEST

START_TEST(test_config_missing_config_file_is_enoent)
{
    struct sim_config *cfg = NULL;
    struct sim_diag_list errs = { 0 };
    char want[512];
    ck_assert_int_eq(sim_config_load("/nonexistent/exp.json", NULL, &cfg, &errs), VM_ENOENT);
    snprintf(want, sizeof want, "/nonexistent/exp.json: cannot read: No such file or directory");
    ck_assert_str_eq(errs.lines[0], want);
    sim_diag_list_free(&errs);
}
END_TEST

START_TEST(test_config_unknown_key_suggests_the_closest)
{
    expect_error(HEAD "'vm': {'memory': '8GiB', 'paging_level': 5}, " WL VARS "}", NULL,
                 VM_EINVAL, ": $.vm: unknown key 'paging_level' (did you mean 'paging_levels'?)");
}
END_TEST

START_TEST(test_config_unknown_top_level_key_without_suggestion)
{
    expect_error(HEAD VM WL VARS ", 'zzz': 1}", NULL, VM_EINVAL, ": $: unknown key 'zzz'");
}
END_TEST

START_TEST(test_config_wrong_type_names_expected_and_got)
{
    expect_error(HEAD VM "'workload': {'kind': 'synthetic', 'pattern': 'zipf', "
                 "'write_fraction': 'half'}, " VARS "}", NULL, VM_EINVAL,
                 ": $.workload.write_fraction: expected number 0..1, got string \"half\"");
}
END_TEST

START_TEST(test_config_string_where_object_expected)
{
    expect_error(HEAD "'vm': '8GiB', " WL VARS "}", NULL, VM_EINVAL,
                 ": $.vm: expected object, got \"8GiB\"");
}
END_TEST

START_TEST(test_config_bad_unit_shows_an_example)
{
    expect_error(HEAD "'vm': {'memory': '8GB/s'}, " WL VARS "}", NULL, VM_EINVAL,
                 ": $.vm.memory: expected size like \"8GiB\", got \"8GB/s\"");
}
END_TEST

START_TEST(test_config_time_without_unit_is_rejected)
{
    expect_error(HEAD VM WL "'save': {'warmup': 50}, " VARS "}", NULL, VM_EINVAL,
                 ": $.save.warmup: expected time like \"250us\", got 50");
}
END_TEST

START_TEST(test_config_out_of_range_policy_param)
{
    expect_error(HEAD VM WL "'variants': [{'name': 'b', 'policy': 'buffered', 'params': "
                 "{'sblock_blocks': 1}}]}", NULL, VM_EINVAL,
                 ": $.variants[0].params.sblock_blocks: expected integer 2..64, got 1");
}
END_TEST

START_TEST(test_config_memory_below_minimum_or_unaligned)
{
    expect_error(HEAD "'vm': {'memory': '512KiB'}, " WL VARS "}", NULL, VM_EINVAL,
                 ": $.vm.memory: expected size 1MiB..8TiB, got \"512KiB\"");
    expect_error(HEAD "'vm': {'memory': 1048577}, " WL VARS "}", NULL, VM_EINVAL,
                 ": $.vm.memory: expected size that is a multiple of 4KiB, got 1048577");
}
END_TEST

START_TEST(test_config_content_fractions_must_sum_to_one)
{
    expect_error(HEAD "'vm': {'memory': '8GiB', 'content': {'zero': 0.5, 'random': 0.4}}, " WL
                 VARS "}", NULL, VM_EINVAL,
                 ": $.vm.content: expected fractions summing to 1, got sum 0.9");
}
END_TEST

START_TEST(test_config_unknown_policy_lists_the_known_ones)
{
    expect_error(HEAD VM WL "'variants': [{'name': 'x', 'policy': 'stopcpy'}]}", NULL, VM_EINVAL,
                 ": $.variants[0].policy: unknown policy 'stopcpy' "
                 "(known: stopcopy, lazypage, bgsnap, precopy, buffered)");
}
END_TEST

START_TEST(test_config_restore_variant_must_be_a_restore_policy)
{
    expect_error(HEAD "'phase': 'restore', " VM WL "'variants': [{'name': 'x', 'policy': "
                 "'buffered'}]}", NULL, VM_EINVAL,
                 ": $.variants[0].policy: unknown policy 'buffered' (known: eager, lazy, sblock)");
}
END_TEST

START_TEST(test_config_unknown_param_of_a_policy)
{
    expect_error(HEAD VM WL "'variants': [{'name': 'b', 'policy': 'buffered', 'params': "
                 "{'blok_pages': 8}}]}", NULL, VM_EINVAL,
                 ": $.variants[0].params: unknown key 'blok_pages' (did you mean 'block_pages'?)");
    expect_error(HEAD VM WL "'variants': [{'name': 's', 'policy': 'stopcopy', 'params': "
                 "{'block_pages': 8}}]}", NULL, VM_EINVAL,
                 ": $.variants[0].params: unknown key 'block_pages' "
                 "(policy 'stopcopy' takes: layout, io_pages, io_depth, channels, zero_pages)");
}
END_TEST

START_TEST(test_config_missing_required_key)
{
    expect_error(HEAD WL VARS "}", NULL, VM_EINVAL, ": $: missing required key 'vm'");
    expect_error(HEAD VM "'workload': {'kind': 'synthetic'}, " VARS "}", NULL, VM_EINVAL,
                 ": $.workload: missing required key 'pattern'");
}
END_TEST

START_TEST(test_config_missing_platform_file_is_enoent_at_its_path)
{
    expect_error("{'name': 't1', 'mechanism': 'checkpoint', 'platform': 'nope.xml', " VM WL VARS
                 "}", NULL, VM_ENOENT,
                 ": $.platform: expected a readable file, got \"nope.xml\" "
                 "(No such file or directory)");
}
END_TEST

START_TEST(test_config_duplicate_variant_names)
{
    expect_error(HEAD VM WL "'variants': [{'name': 'a', 'policy': 'stopcopy'}, {'name': 'a', "
                 "'policy': 'lazypage'}]}", NULL, VM_EINVAL,
                 ": $.variants[1].name: duplicate variant name 'a' (also $.variants[0].name)");
}
END_TEST

START_TEST(test_config_duplicate_json_key)
{
    expect_error(HEAD "'vm': {'memory': '8GiB', 'memory': '4GiB'}, " WL VARS "}", NULL,
                 VM_EINVAL, ": $.vm: duplicate key 'memory'");
}
END_TEST

START_TEST(test_config_unknown_metric_suggests)
{
    expect_error(HEAD VM WL VARS ", 'metrics': [{'name': 'completion_ms', 'direction': "
                 "'lower'}]}", NULL, VM_EINVAL,
                 ": $.metrics[0].name: unknown metric 'completion_ms' "
                 "(did you mean 'completion_ns'?)");
}
END_TEST

START_TEST(test_config_key_of_the_other_workload_kind)
{
    expect_error(HEAD VM "'workload': {'kind': 'synthetic', 'pattern': 'zipf', 'file': 'x'}, "
                 VARS "}", NULL, VM_EINVAL,
                 ": $.workload: key 'file' is for kind 'trace', not 'synthetic'");
}
END_TEST

START_TEST(test_config_name_must_be_a_plain_name)
{
    expect_error("{'name': 'Bad Name', 'mechanism': 'checkpoint', 'platform': 'plat.xml', " VM
                 WL VARS "}", NULL, VM_EINVAL,
                 ": $.name: expected name of characters a-z 0-9 _ -, got \"Bad Name\"");
}
END_TEST

START_TEST(test_config_empty_variants)
{
    expect_error(HEAD VM WL "'variants': []}", NULL, VM_EINVAL,
                 ": $.variants: expected non-empty array of variants, got []");
}
END_TEST

START_TEST(test_config_bad_sweep_path_is_an_unknown_key)
{
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'vm.memroy', 'values': ['1GiB']}]}",
                 NULL, VM_EINVAL, ": $.sweep[0].path: unknown key 'memroy' in 'vm.memroy' "
                 "(did you mean 'memory'?)");
}
END_TEST

START_TEST(test_config_sweep_index_out_of_range)
{
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'variants[5].params.block_pages', "
                 "'values': [4]}]}", NULL, VM_EINVAL,
                 ": $.sweep[0].path: index 5 out of range in 'variants[5].params.block_pages' "
                 "('variants' has 2)");
}
END_TEST

START_TEST(test_config_sweep_of_metrics_is_refused)
{
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'metrics', 'values': [[]]}]}", NULL,
                 VM_EINVAL, ": $.sweep[0].path: 'metrics' cannot be swept");
}
END_TEST

START_TEST(test_config_bad_sweep_value_names_the_value)
{
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'vm.memory', 'values': ['1GiB', "
                 "'8x']}]}", NULL, VM_EINVAL,
                 ": $.sweep[0].values[1]: expected size like \"8GiB\", got \"8x\"");
}
END_TEST

START_TEST(test_config_sweep_param_of_the_wrong_policy)
{
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'variants[0].params.block_pages', "
                 "'values': [4]}]}", NULL, VM_EINVAL,
                 ": $.sweep[0].path: unknown key 'block_pages' in "
                 "'variants[0].params.block_pages' (policy 'stopcopy' takes: layout, io_pages, "
                 "io_depth, channels, zero_pages)");
}
END_TEST

START_TEST(test_config_bad_set_path)
{
    const char *sets[] = { "vm.memroy=4GiB" };
    struct sim_config_opts o = { .nr_sets = 1, .sets = sets };
    expect_error(GOOD, &o, VM_EINVAL, ": --set vm.memroy: unknown key 'memroy' in 'vm.memroy' "
                 "(did you mean 'memory'?)");
}
END_TEST

START_TEST(test_config_bad_set_value_names_the_option)
{
    const char *sets[] = { "variants[1].params.block_pages=lots" };
    struct sim_config_opts o = { .nr_sets = 1, .sets = sets };
    expect_error(GOOD, &o, VM_EINVAL, ": --set variants[1].params.block_pages: "
                 "expected integer 1..4096, got string \"lots\"");
}
END_TEST

START_TEST(test_config_set_without_equals)
{
    const char *sets[] = { "vm.memory" };
    struct sim_config_opts o = { .nr_sets = 1, .sets = sets };
    expect_error(GOOD, &o, VM_EINVAL, ": --set: expected path=value, got 'vm.memory'");
}
END_TEST

START_TEST(test_config_bad_quick_value_names_the_quick_key)
{
    struct sim_config_opts o = { .quick = true };
    expect_error(HEAD VM WL VARS ", 'quick': {'vm.memory': '1 gig'}}", &o, VM_EINVAL,
                 ": $.quick[\"vm.memory\"]: expected size like \"8GiB\", got \"1 gig\"");
}
END_TEST

/* 8 sweeps of 256 values: the product is checked before it overflows */
START_TEST(test_config_huge_sweep_product_is_refused)
{
    char body[8192] = HEAD VM WL VARS ", 'sweep': [";
    static const char *const paths[] = { "seed", "vm.aging", "vm.content.zero",
        "vm.content.text", "workload.zipf_s", "workload.write_fraction",
        "workload.access_time", "workload.stride" };
    for (int i = 0; i < 8; i++) {
        size_t o = strlen(body);
        o += (size_t)snprintf(body + o, sizeof body - o, "%s{'path': '%s', 'values': [",
                              i ? ", " : "", paths[i]);
        for (int v = 0; v < 256; v++)
            o += (size_t)snprintf(body + o, sizeof body - o, "%s%d", v ? "," : "", v + 1);
        snprintf(body + o, sizeof body - o, "]}");
    }
    strcat(body, "]}");
    expect_error(body, NULL, VM_EINVAL,
                 ": $.sweep: expected at most 10000 sweep points, got more");
}
END_TEST

START_TEST(test_config_overlapping_sweeps_are_refused)
{
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'workload.write_fraction', 'label': 'wf', "
                 "'values': [0, 0.9]}, {'path': 'workload', 'values': [{'kind': 'synthetic', "
                 "'pattern': 'zipf'}]}]}", NULL, VM_EINVAL,
                 ": $.sweep[1]: 'workload' overlaps $.sweep[0] ('workload.write_fraction'): "
                 "one would overwrite the other at every point");
}
END_TEST

START_TEST(test_config_override_of_a_swept_value_is_refused)
{
    const char *sets[] = { "workload.write_fraction=0.5" };
    struct sim_config_opts o = { .nr_sets = 1, .sets = sets };
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'workload', 'values': [{'kind': "
                 "'synthetic', 'pattern': 'zipf'}]}]}", &o, VM_EINVAL,
                 ": --set workload.write_fraction: 'workload' is swept ($.sweep[0]), so the "
                 "sweep would replace this value at every point; change the sweep's values "
                 "instead");
}
END_TEST

START_TEST(test_config_bad_quick_sweep_value_names_the_quick_key)
{
    struct sim_config_opts o = { .quick = true };
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'vm.memory', 'values': ['1GiB', '2GiB']}], "
                 "'quick': {'sweep[0].values': ['1GiB', '9x']}}", &o, VM_EINVAL,
                 ": $.quick[\"sweep[0].values\"][1]: expected size like \"8GiB\", got \"9x\"");
}
END_TEST

START_TEST(test_config_sweep_label_that_is_a_column_is_refused)
{
    expect_error(HEAD VM WL VARS ", 'sweep': [{'path': 'vm.memory', 'label': 'completion_ns', "
                 "'values': ['1GiB']}]}", NULL, VM_EINVAL,
                 ": $.sweep[0]: expected a sweep key that is not a column of the results, got "
                 "'completion_ns' (give another 'label')");
}
END_TEST

START_TEST(test_config_phase_cannot_be_overridden)
{
    const char *sets[] = { "phase=restore" };
    struct sim_config_opts o = { .nr_sets = 1, .sets = sets };
    expect_error(GOOD, &o, VM_EINVAL, ": --set phase: 'phase' cannot be overridden");
}
END_TEST

START_TEST(test_config_unknown_mechanism_is_the_only_problem)
{
    struct sim_diag_list errs = { 0 };
    write_cfg("{'name': 't1', 'mechanism': 'checkpoin', 'platform': 'plat.xml', " VM WL VARS
              ", 'sweep': [{'path': 'vm.memory', 'values': ['1GiB']}], "
              "'quick': {'workload.zipf_s': 0.5}}");
    ck_assert_int_ne(sim_config_validate(g_file, &errs), 0);
    char want[600];
    snprintf(want, sizeof want, "%s: $.mechanism: unknown mechanism 'checkpoin' (did you mean "
             "'checkpoint'?)", g_file);
    for (int i = 0; i < errs.n; i++)
        ck_assert_msg(strstr(errs.lines[i], "unknown key") == NULL, "%s", errs.lines[i]);
    ck_assert_str_eq(errs.lines[0], want);
    sim_diag_list_free(&errs);
}
END_TEST

START_TEST(test_config_validate_collects_every_problem)
{
    struct sim_diag_list errs = { 0 };
    write_cfg(HEAD "'vm': {'memory': '8x'}, " WL "'variants': [{'name': 'a', 'policy': 'nope'}, "
              "{'name': 'b', 'policy': 'buffered', 'params': {'block_pages': 0}}], "
              "'metrics': [{'name': 'stun_ns', 'direction': 'down'}]}");
    ck_assert_int_eq(sim_config_validate(g_file, &errs), VM_EINVAL);
    ck_assert_int_eq(errs.n, 5);
    char want[5][512];
    snprintf(want[0], sizeof want[0], "%s: $.vm.memory: expected size like \"8GiB\", got \"8x\"",
             g_file);
    snprintf(want[1], sizeof want[1], "%s: $.variants[0].policy: unknown policy 'nope' (known: "
             "stopcopy, lazypage, bgsnap, precopy, buffered)", g_file);
    snprintf(want[2], sizeof want[2], "%s: $.variants[1].params.block_pages: expected integer "
             "1..4096, got 0", g_file);
    snprintf(want[3], sizeof want[3], "%s: $.metrics[0].name: unknown metric 'stun_ns' of "
             "mechanism 'checkpoint' (see 'vmsim list checkpoint')", g_file);
    snprintf(want[4], sizeof want[4], "%s: $.metrics[0].direction: expected one of lower|higher, "
             "got \"down\"", g_file);
    for (int i = 0; i < 5; i++)
        ck_assert_str_eq(errs.lines[i], want[i]);
    sim_diag_list_free(&errs);
}
END_TEST

START_TEST(test_config_validate_checks_the_platform_host)
{
    struct sim_diag_list errs = { 0 };
    if (!write_cfg_real_platform(GOOD))
        return;                             /* platforms not shipped in this tree */
    ck_assert_int_eq(sim_config_validate(g_file, &errs), 0);
    ck_assert_int_eq(errs.n, 0);
    write_cfg_real_platform(HEAD "'host': 'no-such-host', " VM WL VARS "}");
    ck_assert_int_ne(sim_config_validate(g_file, &errs), 0);
    ck_assert_int_eq(errs.n, 1);
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s: $.host: ", g_file);      /* at the key at fault */
    ck_assert_msg(strncmp(errs.lines[0], prefix, strlen(prefix)) == 0, "%s", errs.lines[0]);
    ck_assert_ptr_nonnull(strstr(errs.lines[0], "no-such-host"));
    sim_diag_list_free(&errs);
}
END_TEST

START_TEST(test_config_validate_checks_the_quick_form)
{
    struct sim_diag_list errs = { 0 };
    if (!write_cfg_real_platform(HEAD VM WL VARS ", 'quick': {'vm.memroy': '1GiB'}}"))
        return;
    ck_assert_int_ne(sim_config_validate(g_file, &errs), 0);
    ck_assert_int_eq(errs.n, 1);
    char want[512];
    snprintf(want, sizeof want, "%s: $.quick[\"vm.memroy\"]: unknown key 'memroy' in "
             "'vm.memroy' (did you mean 'memory'?)", g_file);
    ck_assert_str_eq(errs.lines[0], want);
    sim_diag_list_free(&errs);
}
END_TEST

START_TEST(test_json_path_parse_segments)
{
    struct sim_json_path p;
    struct vm_diag d = { 0 };
    ck_assert_int_eq(sim_json_path_parse("$.variants[2].params[\"a.b\"]", &p, &d), 0);
    ck_assert_int_eq(p.n, 4);
    ck_assert_str_eq(p.seg[0].key, "variants");
    ck_assert(p.seg[1].is_index);
    ck_assert_int_eq(p.seg[1].index, 2);
    ck_assert_str_eq(p.seg[2].key, "params");
    ck_assert_str_eq(p.seg[3].key, "a.b");
    char text[128];
    sim_json_path_text(&p, p.n, text, sizeof text);
    ck_assert_str_eq(text, "variants[2].params[\"a.b\"]");
    ck_assert_int_eq(sim_json_path_parse("vm..memory", &p, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "expected a path like 'vm.memory' or "
                     "'variants[0].params.block_pages', got 'vm..memory'");
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_json_path_parse("a[x]", &p, &d), VM_EINVAL);
    ck_assert_int_eq(sim_json_path_parse("$", &p, &d), VM_EINVAL);
}
END_TEST

/* ------------------------------------------------------------ results */

static cJSON *record(const char *id, const char *variant, const char *wl, double completion,
                     double bytes, int violations, bool ok)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "id", id);
    cJSON_AddStringToObject(r, "variant", variant);
    cJSON_AddStringToObject(r, "policy", variant);
    cJSON *pt = cJSON_AddObjectToObject(r, "point");
    cJSON_AddStringToObject(pt, "wl", wl);
    cJSON *m = cJSON_AddObjectToObject(r, "metrics");
    if (!isnan(completion))
        cJSON_AddNumberToObject(m, "completion_ns", completion);
    cJSON_AddNumberToObject(m, "bytes_written", bytes);
    cJSON_AddObjectToObject(r, "invariants");
    cJSON_AddNumberToObject(r, "violations", violations);
    cJSON_AddBoolToObject(r, "ok", ok);
    return r;
}

#define SWEPT HEAD VM WL "'variants': [{'name': 'sc', 'policy': 'stopcopy'}], " \
    "'sweep': [{'path': 'workload.pattern', 'label': 'wl', 'values': ['zipf', 'uniform']}], " \
    "'metrics': [{'name': 'completion_ns', 'direction': 'lower', 'tolerance': 0.1, " \
    "'abs_tolerance': 5}, {'name': 'bytes_written', 'direction': 'higher', 'tolerance': 0}]}"

static char *slurp(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = sim_json_read_file(path, NULL);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    return text;
}

/* Write a result with two records (ids sc/wl=zipf, sc/wl=uniform) into g_dir/name. */
static void write_result(const char *name, double c0, double c1, double b0, int viol, bool two)
{
    struct sim_config *cfg = load_ok(SWEPT, NULL);
    cJSON *recs = cJSON_CreateArray();
    cJSON_AddItemToArray(recs, record("sc/wl=zipf", "sc", "zipf", c0, b0, viol, viol == 0));
    if (two)
        cJSON_AddItemToArray(recs, record("sc/wl=uniform", "sc", "uniform", c1, 4096, 0, true));
    char dir[512];
    struct vm_diag d = { 0 };
    snprintf(dir, sizeof dir, "%s/%s", g_dir, name);
    ck_assert_int_eq(sim_result_write(dir, cfg, recs, NULL, &d), 0);
    cJSON_Delete(recs);
    sim_config_free(cfg);
}

static int check(const char *result, const char *baseline)
{
    char r[512], b[512];
    struct vm_diag d = { 0 };
    snprintf(r, sizeof r, "%s/%s/result.json", g_dir, result);
    snprintf(b, sizeof b, "%s/%s/result.json", g_dir, baseline);
    return sim_result_check(r, b, &d);
}

START_TEST(test_result_write_is_byte_identical_for_the_same_records)
{
    write_result("a", 1000, 2000, 8192, 0, true);
    write_result("b", 1000, 2000, 8192, 0, true);
    char *ja = slurp(g_dir, "a/result.json"), *jb = slurp(g_dir, "b/result.json");
    char *ca = slurp(g_dir, "a/t1.csv"), *cb = slurp(g_dir, "b/t1.csv");
    ck_assert_str_eq(ja, jb);
    ck_assert_str_eq(ca, cb);
    free(ja);
    free(jb);
    free(ca);
    free(cb);
}
END_TEST

START_TEST(test_result_json_holds_versions_config_specs_and_totals)
{
    write_result("a", 1000, 2000, 8192, 3, true);
    char *text = slurp(g_dir, "a/result.json");
    cJSON *doc = cJSON_Parse(text);
    ck_assert_ptr_nonnull(doc);
    static const char *const order[] = { "vmsim_version", "simgrid_version", "experiment",
                                         "description", "config_file", "seed", "quick",
                                         "config", "metric_specs", "records", "violations",
                                         "host" };
    int i = 0;
    for (const cJSON *c = doc->child; c; c = c->next, i++)
        ck_assert_str_eq(c->string, order[i]);
    ck_assert_int_eq(i, 12);
    ck_assert_str_eq(cJSON_GetObjectItem(doc, "experiment")->valuestring, "t1");
    ck_assert_str_eq(cJSON_GetObjectItem(doc, "config_file")->valuestring, g_file);
    ck_assert_double_eq(cJSON_GetObjectItem(doc, "violations")->valuedouble, 3);
    const cJSON *spec = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "metric_specs"), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(spec, "name")->valuestring, "completion_ns");
    ck_assert_str_eq(cJSON_GetObjectItem(spec, "unit")->valuestring, "ns");
    ck_assert_str_eq(cJSON_GetObjectItem(spec, "direction")->valuestring, "lower");
    ck_assert_double_eq(cJSON_GetObjectItem(spec, "tolerance")->valuedouble, 0.1);
    ck_assert_double_eq(cJSON_GetObjectItem(spec, "abs_tolerance")->valuedouble, 5);
    ck_assert_ptr_nonnull(strstr(text, "\"seed\":\t1,"));   /* integers print as integers */
    cJSON_Delete(doc);
    free(text);
}
END_TEST

START_TEST(test_result_csv_has_point_keys_metrics_and_quoting)
{
    struct sim_config *cfg = load_ok(SWEPT, NULL);
    cJSON *recs = cJSON_CreateArray();
    cJSON_AddItemToArray(recs, record("sc/wl=zipf", "sc", "zipf", NAN, 8192, 0, true));
    cJSON_AddItemToArray(recs, record("sc/wl=uniform", "sc", "a,b", 1.5, 4096, 1, false));
    char dir[512];
    struct vm_diag d = { 0 };
    snprintf(dir, sizeof dir, "%s/out", g_dir);
    ck_assert_int_eq(sim_result_write(dir, cfg, recs, NULL, &d), 0);
    char *csv = slurp(g_dir, "out/t1.csv");
    ck_assert_str_eq(csv, "id,variant,policy,wl,completion_ns,bytes_written,violations,ok\n"
                     "sc/wl=zipf,sc,sc,zipf,,8192,0,true\n"
                     "sc/wl=uniform,sc,sc,\"a,b\",1.5,4096,1,false\n");
    free(csv);
    cJSON_Delete(recs);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_result_write_leaves_no_temporary_files)
{
    write_result("a", 1000, 2000, 8192, 0, true);
    char path[512];
    snprintf(path, sizeof path, "%s/a", g_dir);
    struct dirent **ents;
    int n = scandir(path, &ents, NULL, alphasort);
    ck_assert_int_eq(n, 4);                 /* . .. result.json t1.csv */
    ck_assert_str_eq(ents[2]->d_name, "result.json");
    ck_assert_str_eq(ents[3]->d_name, "t1.csv");
    for (int i = 0; i < n; i++)
        free(ents[i]);
    free(ents);
}
END_TEST

START_TEST(test_check_same_result_passes)
{
    write_result("base", 1000, 2000, 8192, 0, true);
    write_result("res", 1000, 2000, 8192, 0, true);
    ck_assert_int_eq(check("res", "base"), 0);
}
END_TEST

START_TEST(test_check_within_tolerance_passes)
{
    write_result("base", 1000, 2000, 8192, 0, true);
    write_result("res", 1105, 2000, 8192, 0, true);        /* +10% + 5 ns allowed */
    ck_assert_int_eq(check("res", "base"), 0);
}
END_TEST

START_TEST(test_check_flags_a_regression)
{
    write_result("base", 1000, 2000, 8192, 0, true);
    write_result("res", 1106, 2000, 8192, 0, true);
    ck_assert_int_eq(check("res", "base"), 1);
}
END_TEST

START_TEST(test_check_higher_is_better_regresses_when_lower)
{
    write_result("base", 1000, 2000, 8192, 0, true);
    write_result("res", 1000, 2000, 8191, 0, true);
    ck_assert_int_eq(check("res", "base"), 1);
}
END_TEST

START_TEST(test_check_improvement_is_not_a_regression)
{
    write_result("base", 1000, 2000, 8192, 0, true);
    write_result("res", 500, 1000, 16384, 0, true);
    ck_assert_int_eq(check("res", "base"), 0);
}
END_TEST

START_TEST(test_check_missing_record_fails)
{
    write_result("base", 1000, 2000, 8192, 0, true);
    write_result("res", 1000, 2000, 8192, 0, false);
    ck_assert_int_eq(check("res", "base"), 1);
    ck_assert_int_eq(check("base", "res"), 0);             /* extra records are fine */
}
END_TEST

START_TEST(test_check_missing_metric_fails)
{
    write_result("base", 1000, 2000, 8192, 0, true);
    write_result("res", NAN, 2000, 8192, 0, true);
    ck_assert_int_eq(check("res", "base"), 1);
}
END_TEST

START_TEST(test_check_violation_in_the_result_fails)
{
    write_result("base", 1000, 2000, 8192, 0, true);
    write_result("res", 1000, 2000, 8192, 2, true);
    ck_assert_int_eq(check("res", "base"), 1);
}
END_TEST

START_TEST(test_check_malformed_result_is_bad_input)
{
    write_result("base", 1000, 2000, 8192, 0, true);
    write_text("bad.json", "{'records': [}", true);
    char r[512], b[512], want[1024];
    struct vm_diag d = { 0 };
    snprintf(r, sizeof r, "%s/bad.json", g_dir);
    snprintf(b, sizeof b, "%s/base/result.json", g_dir);
    ck_assert_int_eq(sim_result_check(r, b, &d), 2);
    snprintf(want, sizeof want, "%s:1:14: malformed JSON: expected a value (object, array, "
             "string, number, true, false or null), got '}'", r);
    ck_assert_str_eq(d.msg, want);
}
END_TEST

START_TEST(test_check_json_that_is_not_a_result_is_bad_input)
{
    write_result("base", 1000, 2000, 8192, 0, true);
    write_text("other.json", "{'name': 't1'}", true);
    char r[512], b[512], want[600];
    struct vm_diag d = { 0 };
    snprintf(r, sizeof r, "%s/other.json", g_dir);
    snprintf(b, sizeof b, "%s/base/result.json", g_dir);
    ck_assert_int_eq(sim_result_check(b, r, &d), 2);
    snprintf(want, sizeof want, "%s: $.records: expected array of records, got nothing", r);
    ck_assert_str_eq(d.msg, want);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *good = tcase_create("good");
    tcase_add_checked_fixture(good, setup, teardown);
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
    tcase_add_test(good, test_json_path_parse_segments);
    suite_add_tcase(s, good);

    TCase *bad = tcase_create("bad");
    tcase_add_checked_fixture(bad, setup, teardown);
    tcase_add_test(bad, test_config_sweep_with_errors_are_located);
    tcase_add_test(bad, test_config_malformed_json_names_line_and_column);
    tcase_add_test(bad, test_config_trailing_comma_is_malformed);
    tcase_add_test(bad, test_config_unterminated_string_points_at_its_start);
    tcase_add_test(bad, test_config_missing_config_file_is_enoent);
    tcase_add_test(bad, test_config_unknown_key_suggests_the_closest);
    tcase_add_test(bad, test_config_unknown_top_level_key_without_suggestion);
    tcase_add_test(bad, test_config_wrong_type_names_expected_and_got);
    tcase_add_test(bad, test_config_string_where_object_expected);
    tcase_add_test(bad, test_config_bad_unit_shows_an_example);
    tcase_add_test(bad, test_config_time_without_unit_is_rejected);
    tcase_add_test(bad, test_config_out_of_range_policy_param);
    tcase_add_test(bad, test_config_memory_below_minimum_or_unaligned);
    tcase_add_test(bad, test_config_content_fractions_must_sum_to_one);
    tcase_add_test(bad, test_config_unknown_policy_lists_the_known_ones);
    tcase_add_test(bad, test_config_restore_variant_must_be_a_restore_policy);
    tcase_add_test(bad, test_config_unknown_param_of_a_policy);
    tcase_add_test(bad, test_config_missing_required_key);
    tcase_add_test(bad, test_config_missing_platform_file_is_enoent_at_its_path);
    tcase_add_test(bad, test_config_duplicate_variant_names);
    tcase_add_test(bad, test_config_duplicate_json_key);
    tcase_add_test(bad, test_config_unknown_metric_suggests);
    tcase_add_test(bad, test_config_key_of_the_other_workload_kind);
    tcase_add_test(bad, test_config_name_must_be_a_plain_name);
    tcase_add_test(bad, test_config_empty_variants);
    tcase_add_test(bad, test_config_bad_sweep_path_is_an_unknown_key);
    tcase_add_test(bad, test_config_sweep_index_out_of_range);
    tcase_add_test(bad, test_config_sweep_of_metrics_is_refused);
    tcase_add_test(bad, test_config_bad_sweep_value_names_the_value);
    tcase_add_test(bad, test_config_sweep_param_of_the_wrong_policy);
    tcase_add_test(bad, test_config_bad_set_path);
    tcase_add_test(bad, test_config_bad_set_value_names_the_option);
    tcase_add_test(bad, test_config_set_without_equals);
    tcase_add_test(bad, test_config_bad_quick_value_names_the_quick_key);
    tcase_add_test(bad, test_config_validate_collects_every_problem);
    tcase_add_test(bad, test_config_huge_sweep_product_is_refused);
    tcase_add_test(bad, test_config_overlapping_sweeps_are_refused);
    tcase_add_test(bad, test_config_override_of_a_swept_value_is_refused);
    tcase_add_test(bad, test_config_bad_quick_sweep_value_names_the_quick_key);
    tcase_add_test(bad, test_config_sweep_label_that_is_a_column_is_refused);
    tcase_add_test(bad, test_config_phase_cannot_be_overridden);
    tcase_add_test(bad, test_config_unknown_mechanism_is_the_only_problem);
    tcase_add_test(bad, test_config_validate_checks_the_platform_host);
    tcase_add_test(bad, test_config_validate_checks_the_quick_form);
    suite_add_tcase(s, bad);

    TCase *res = tcase_create("result");
    tcase_add_checked_fixture(res, setup, teardown);
    tcase_add_test(res, test_result_write_is_byte_identical_for_the_same_records);
    tcase_add_test(res, test_result_json_holds_versions_config_specs_and_totals);
    tcase_add_test(res, test_result_csv_has_point_keys_metrics_and_quoting);
    tcase_add_test(res, test_result_write_leaves_no_temporary_files);
    tcase_add_test(res, test_check_same_result_passes);
    tcase_add_test(res, test_check_within_tolerance_passes);
    tcase_add_test(res, test_check_flags_a_regression);
    tcase_add_test(res, test_check_higher_is_better_regresses_when_lower);
    tcase_add_test(res, test_check_improvement_is_not_a_regression);
    tcase_add_test(res, test_check_missing_record_fails);
    tcase_add_test(res, test_check_missing_metric_fails);
    tcase_add_test(res, test_check_violation_in_the_result_fails);
    tcase_add_test(res, test_check_malformed_result_is_bad_input);
    tcase_add_test(res, test_check_json_that_is_not_a_result_is_bad_input);
    suite_add_tcase(s, res);
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
