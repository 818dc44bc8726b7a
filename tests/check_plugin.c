/*
 * check_plugin.c - suite "plugin": the simulator core hosts a mechanism
 * it has never heard of.  A tiny mechanism, "toy", is defined here (not
 * in vmsim's registry) and this program links the core library alone, so
 * nothing of checkpointing is in it.  Through the core's own code paths
 * the toy's experiment config is validated (with the deep checks: the
 * platform in a SimGrid child), run over a sweep with -j 2, written to
 * result.json and CSV from the toy's metric declarations, checked with
 * `vmsim check`'s code, and listed.
 *
 * The toy: a job of `units` units of work, each `unit_time` of simulated
 * compute.  Policy "serial" sleeps once per unit; "batched" once per
 * `batch` units; "lossy" (hidden, deliberately broken) forgets one unit,
 * which its invariant checker must catch.  It also takes the core's
 * shared "vm" section at an offset of its own struct.
 */
#include <check.h>
#include <ftw.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_cfg_vm.h"
#include "sim_config.h"
#include "sim_json.h"
#include "sim_list.h"
#include "sim_mech.h"
#include "sim_result.h"
#include "sim_runner.h"
#include "sim_world.h"

#ifndef VMSIM_SRCDIR
#define VMSIM_SRCDIR "."
#endif

/* ------------------------------------------------------------ the toy */

struct toy_cfg {
    struct sim_exp_vm vm;
    uint64_t units;
    uint64_t unit_ns;
};

struct toy_params {
    uint32_t batch;
    bool lose_one;
    bool hang;                  /* wait for a wake-up that never comes */
};

enum { TOY_ELAPSED, TOY_SLEEPS, TOY_UNITS_PER_S, TOY_NR_METRICS };
enum { TOY_UNITS_CHECKED, TOY_UNITS_LOST, TOY_NR_INV };

static const struct vm_param batched_params[] = {
    { "batch", VM_PARAM_U32, offsetof(struct toy_params, batch), .min = 1, .max = 64,
      .def = "4", .help = "units per sleep" },
    { NULL },
};

static const struct vm_param serial_params[] = {
    { "batch", VM_PARAM_U32, offsetof(struct toy_params, batch), .min = 1, .max = 1,
      .def = "1", .help = "always 1" },
    { NULL },
};

static const struct vm_param lossy_params[] = {
    { "batch", VM_PARAM_U32, offsetof(struct toy_params, batch), .min = 1, .max = 1,
      .def = "1" },
    { "lose_one", VM_PARAM_BOOL, offsetof(struct toy_params, lose_one), .def = "true" },
    { NULL },
};

static const struct vm_param stuck_params[] = {
    { "batch", VM_PARAM_U32, offsetof(struct toy_params, batch), .min = 1, .max = 1,
      .def = "1" },
    { "hang", VM_PARAM_BOOL, offsetof(struct toy_params, hang), .def = "true" },
    { NULL },
};

static bool toy_get(int i, struct sim_policy_info *out)
{
    static const struct sim_policy_info all[] = {
        { "serial", "one sleep per unit", serial_params, false },
        { "batched", "one sleep per batch of units", batched_params, false },
        { "lossy", "broken on purpose: forgets a unit", lossy_params, true },
        { "stuck", "broken on purpose: never finishes", stuck_params, true },
    };
    if (i < 0 || i >= 4)
        return false;
    *out = all[i];
    return true;
}

static const struct sim_policy_set toy_set = {
    .name = "job", .used_by = "variants[].policy", .cfg_size = sizeof(struct toy_params),
    .get = toy_get,
};
static const struct sim_policy_set *const toy_sets[] = { &toy_set, NULL };

static const struct sim_policy_set *toy_variant_set(const cJSON *doc)
{
    return &toy_set;
}

#define TC(field) offsetof(struct toy_cfg, field)
static const struct sim_key toy_job_keys[] = {
    SIM_KEY_SCALAR_ROW("units", 0, VM_PARAM_U64, TC(units), 0, 1e6, "10", "units of work"),
    SIM_KEY_SCALAR_ROW("unit_time", 0, VM_PARAM_TIME, TC(unit_ns), 1, 1e9, "1ms",
                       "compute per unit"),
    SIM_KEY_END,
};

static const struct sim_key toy_sections[] = {
    SIM_CFG_VM_ROW(TC(vm)),
    SIM_KEY_OBJ_ROW("job", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, toy_job_keys, NULL,
                    "the work"),
    SIM_KEY_END,
};

static int toy_finish(struct sim_cfg_walk *w, void *cfg)
{
    const struct toy_cfg *c = cfg;
    if (c->units == 0)
        return sim_cfg_err_at(w, VM_EINVAL, "$.job.units", "expected at least one unit, got 0");
    return 0;
}

static const struct sim_metric_def toy_metrics[TOY_NR_METRICS] = {
    [TOY_ELAPSED] = { "elapsed_ns", "ns", false, "start to the last unit done" },
    [TOY_SLEEPS] = { "sleeps", "count", false, "simulated sleeps taken" },
    [TOY_UNITS_PER_S] = { "units_per_s", "1/s", true, "units done per simulated second" },
};

static const struct sim_inv_def toy_invariants[TOY_NR_INV] = {
    [TOY_UNITS_CHECKED] = { "units_checked", false, "units counted at the end" },
    [TOY_UNITS_LOST] = { "units_lost", true, "units the job never did" },
};

static void toy_run(const struct sim_exp *e, sg_host_t host, struct sim_outcome *out)
{
    const struct toy_cfg *c = e->mech_cfg;
    const struct toy_params *p = e->policy_cfg;
    uint64_t t0 = sim_now_ns(), done = 0, sleeps = 0;
    uint64_t todo = p->lose_one ? c->units - 1 : c->units;
    if (p->hang) {
        struct sim_waitq *q = sim_waitq_new();
        sim_waitq_wait(q);                  /* nobody wakes it: SimGrid ends the run */
    }
    while (done < todo) {
        uint64_t n = todo - done < p->batch ? todo - done : p->batch;
        sim_sleep_ns(n * c->unit_ns);
        done += n;
        sleeps++;
    }
    uint64_t elapsed = sim_now_ns() - t0;
    sim_outcome_set(out, TOY_ELAPSED, (double)elapsed);
    sim_outcome_set(out, TOY_SLEEPS, (double)sleeps);
    sim_outcome_set(out, TOY_UNITS_PER_S, (double)done * 1e9 / (double)elapsed);
    out->inv[TOY_UNITS_CHECKED] = c->units;
    out->inv[TOY_UNITS_LOST] = c->units - done;
}

static const struct sim_mech toy_mech = {
    .name = "toy",
    .summary = "a job of units of simulated work (a test mechanism)",
    .sections = toy_sections,
    .cfg_size = sizeof(struct toy_cfg),
    .policy_sets = toy_sets,
    .variant_set = toy_variant_set,
    .finish = toy_finish,
    .metrics = toy_metrics,
    .nr_metrics = TOY_NR_METRICS,
    .invariants = toy_invariants,
    .nr_invariants = TOY_NR_INV,
    .run = toy_run,
};

/* ------------------------------------------------------------ fixtures */

static char g_dir[256], g_file[320];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/vmsim-plugin.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
    snprintf(g_file, sizeof g_file, "%s/toy.json", g_dir);
}

static void teardown(void)
{
    nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *srcdir(void)
{
    const char *s = getenv("VMSIM_SRCDIR");
    return s && *s ? s : VMSIM_SRCDIR;
}

/* Write "{name, mechanism toy, platform, vm, <body>}" with ' for ". */
static void write_cfg(const char *body)
{
    FILE *f = fopen(g_file, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\"name\": \"toy-test\", \"mechanism\": \"toy\", \"platform\": "
            "\"%s/workloads/platforms/host-sata.xml\", \"vm\": {\"memory\": \"64MiB\"}, ",
            srcdir());
    for (const char *p = body; *p; p++)
        fputc(*p == '\'' ? '"' : *p, f);
    fputs("}\n", f);
    ck_assert_int_eq(fclose(f), 0);
}

#define SWEEP_BODY                                                                        \
    "'job': {'unit_time': '2ms'}, "                                                       \
    "'variants': [{'name': 'serial', 'policy': 'serial'}, "                               \
    "{'name': 'batched', 'policy': 'batched', 'params': {'batch': 5}}], "                 \
    "'sweep': [{'path': 'job.units', 'label': 'units', 'values': [10, 20]}], "            \
    "'metrics': [{'name': 'elapsed_ns', 'tolerance': 0}, "                                \
    "{'name': 'units_per_s', 'tolerance': 0}]"

static struct sim_config *load(const char *body, bool deep)
{
    struct sim_config_opts opts = { .deep = deep };
    struct sim_diag_list errs = { 0 };
    struct sim_config *cfg = NULL;
    write_cfg(body);
    int rc = sim_config_load(g_file, &opts, &cfg, &errs);
    ck_assert_msg(rc == 0, "load: %s", errs.n ? errs.lines[0] : "?");
    sim_diag_list_free(&errs);
    return cfg;
}

/* The one error line loading body gives, after "FILE: ". */
static void expect_error(const char *body, const char *rest)
{
    struct sim_diag_list errs = { 0 };
    struct sim_config *cfg = NULL;
    char want[1024];
    write_cfg(body);
    ck_assert_int_ne(sim_config_load(g_file, NULL, &cfg, &errs), 0);
    ck_assert_ptr_null(cfg);
    ck_assert_int_eq(errs.n, 1);
    snprintf(want, sizeof want, "%s: %s", g_file, rest);
    ck_assert_str_eq(errs.lines[0], want);
    sim_diag_list_free(&errs);
}

static double num(const cJSON *obj, const char *block, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, block), name);
    ck_assert_msg(cJSON_IsNumber(v), "%s.%s missing", block, name);
    return v->valuedouble;
}

/* ------------------------------------------------------------ tests */

START_TEST(test_plugin_config_validates_with_deep_checks)
{
    struct sim_diag_list errs = { 0 };
    write_cfg(SWEEP_BODY);
    ck_assert_int_eq(sim_config_validate(g_file, &errs), 0);
    ck_assert_int_eq(errs.n, 0);
    struct sim_config *cfg = load(SWEEP_BODY, true);
    ck_assert_ptr_eq(cfg->mech, &toy_mech);
    ck_assert_int_eq(cfg->nr_points, 4);
    ck_assert_str_eq(cfg->points[0].id, "serial/units=10");
    ck_assert_str_eq(cfg->points[3].id, "batched/units=20");
    const struct toy_cfg *c = cfg->points[3].mech_cfg;
    ck_assert_uint_eq(c->units, 20);
    ck_assert_uint_eq(c->unit_ns, 2000000);
    ck_assert_uint_eq(c->vm.memory_bytes, 64ull << 20);          /* the shared section */
    ck_assert_double_eq(c->vm.content[SIM_CONTENT_RANDOM], 0.40); /* and its defaults */
    ck_assert_uint_eq(((const struct toy_params *)cfg->points[3].policy_cfg)->batch, 5);
    ck_assert_uint_eq(((const struct toy_params *)cfg->points[0].policy_cfg)->batch, 1);
    /* the direction comes from the declaration when the config gives none */
    ck_assert(!cfg->metrics[0].higher_is_better);
    ck_assert(cfg->metrics[1].higher_is_better);
    sim_config_free(cfg);
    sim_diag_list_free(&errs);
}
END_TEST

START_TEST(test_plugin_sweep_runs_with_two_jobs_and_checks)
{
    struct sim_config *cfg = load(SWEEP_BODY, true);
    struct sim_run_opts ro = { .jobs = 2 };
    cJSON *records = NULL, *host = NULL;
    struct vm_diag d = { 0 };
    ck_assert_int_eq(sim_runner_run(cfg, &ro, &records, &host, &d), 0);
    ck_assert_int_eq(cJSON_GetArraySize(records), 4);
    /* records in point order whatever finished first; exact figures */
    static const double elapsed[] = { 20e6, 20e6, 40e6, 40e6 };
    static const double sleeps[] = { 10, 2, 20, 4 };
    for (int i = 0; i < 4; i++) {
        const cJSON *r = cJSON_GetArrayItem(records, i);
        ck_assert_str_eq(cJSON_GetObjectItem(r, "id")->valuestring, cfg->points[i].id);
        ck_assert_double_eq(num(r, "metrics", "elapsed_ns"), elapsed[i]);
        ck_assert_double_eq(num(r, "metrics", "sleeps"), sleeps[i]);
        ck_assert_double_eq(num(r, "metrics", "units_per_s"), 500);
        ck_assert_double_eq(num(r, "metrics", "sim_activities"), sleeps[i]);  /* the core's */
        ck_assert_double_eq(num(r, "invariants", "units_lost"), 0);
        ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")));
    }
    char out[400], res[500], csv[500];
    snprintf(out, sizeof out, "%s/out", g_dir);
    ck_assert_int_eq(sim_result_write(out, cfg, records, host, &d), 0);
    snprintf(res, sizeof res, "%s/result.json", out);
    snprintf(csv, sizeof csv, "%s/toy-test.csv", out);
    char *text = sim_json_read_file(csv, NULL);
    ck_assert_ptr_nonnull(text);
    /* columns in the toy's declaration order, the core's metric last */
    ck_assert_msg(strncmp(text, "id,variant,policy,units,elapsed_ns,sleeps,units_per_s,"
                                "sim_activities,violations,ok\n", 80) == 0, "%s", text);
    ck_assert_ptr_nonnull(strstr(text, "batched/units=20,batched,batched,20,40000000,4,500,4,0,"
                                       "true\n"));
    free(text);
    text = sim_json_read_file(res, NULL);
    ck_assert_ptr_nonnull(strstr(text, "\"unit\":\t\"1/s\""));
    free(text);
    /* vmsim check: the result against itself holds; against a baseline
     * that was faster it regresses */
    ck_assert_int_eq(sim_result_check(res, res, &d), 0);
    cJSON *base = NULL;
    ck_assert_int_eq(sim_json_load(res, &base, &d), 0);
    cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItem(base, "records"), 0);
    cJSON_SetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(r0, "metrics"), "elapsed_ns"),
                         10e6);
    char basefile[500];
    snprintf(basefile, sizeof basefile, "%s/base.json", g_dir);
    FILE *f = fopen(basefile, "w");
    char *btxt = cJSON_Print(base);
    fputs(btxt, f);
    fclose(f);
    free(btxt);
    cJSON_Delete(base);
    ck_assert_int_eq(sim_result_check(res, basefile, &d), 1);
    cJSON_Delete(records);
    cJSON_Delete(host);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_plugin_invariant_violation_fails_the_record)
{
    struct sim_config *cfg = load("'variants': [{'name': 'broken', 'policy': 'lossy'}]", false);
    struct sim_run_opts ro = { .jobs = 1 };
    cJSON *records = NULL, *host = NULL;
    struct vm_diag d = { 0 };
    ck_assert_int_eq(sim_runner_run(cfg, &ro, &records, &host, &d), 0);
    const cJSON *r = cJSON_GetArrayItem(records, 0);
    ck_assert_double_eq(num(r, "invariants", "units_lost"), 1);
    ck_assert_double_eq(cJSON_GetObjectItem(r, "violations")->valuedouble, 1);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r, "ok")));
    cJSON_Delete(records);
    cJSON_Delete(host);
    sim_config_free(cfg);
}
END_TEST

/* A point whose driver never returns (SimGrid detects the deadlock and
 * ends the simulation) is a failed record, not an empty one. */
START_TEST(test_plugin_deadlocked_point_is_a_failed_record)
{
    struct sim_config *cfg = load("'variants': [{'name': 'stuck', 'policy': 'stuck'}]", false);
    struct sim_run_opts ro = { .jobs = 1 };
    cJSON *records = NULL, *host = NULL;
    struct vm_diag d = { 0 };
    ck_assert_int_eq(sim_runner_run(cfg, &ro, &records, &host, &d), 0);
    const cJSON *r = cJSON_GetArrayItem(records, 0);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r, "ok")));
    ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(r, "error")->valuestring, "deadlock"));
    cJSON_Delete(records);
    cJSON_Delete(host);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_plugin_bad_input_is_located_in_the_toys_tables)
{
    expect_error("'job': {'unitz': 3}, 'variants': [{'name': 'a', 'policy': 'serial'}]",
                 "$.job: unknown key 'unitz' (did you mean 'units'?)");
    expect_error("'job': {'unit_time': '0ns'}, 'variants': [{'name': 'a', 'policy': 'serial'}]",
                 "$.job.unit_time: expected time 1ns..1s, got \"0ns\"");
    expect_error("'job': {'units': 0}, 'variants': [{'name': 'a', 'policy': 'serial'}]",
                 "$.job.units: expected at least one unit, got 0");
    expect_error("'variants': [{'name': 'a', 'policy': 'bached'}]",
                 "$.variants[0].policy: unknown policy 'bached' (known: serial, batched)");
    expect_error("'variants': [{'name': 'a', 'policy': 'batched', 'params': {'bach': 2}}]",
                 "$.variants[0].params: unknown key 'bach' (did you mean 'batch'?)");
    /* a metric of another mechanism is unknown here */
    expect_error("'variants': [{'name': 'a', 'policy': 'serial'}], "
                 "'metrics': [{'name': 'completion_ns'}]",
                 "$.metrics[0].name: unknown metric 'completion_ns' of mechanism 'toy' "
                 "(see 'vmsim list toy')");
    /* a sweep or --set path is checked against the toy's tables */
    expect_error("'variants': [{'name': 'a', 'policy': 'serial'}], "
                 "'sweep': [{'path': 'job.unit', 'values': [1]}]",
                 "$.sweep[0].path: unknown key 'unit' in 'job.unit' (did you mean 'units'?)");
    /* a value the sweep replaces is still validated as written */
    expect_error("'job': {'units': 'many'}, 'variants': [{'name': 'a', 'policy': 'serial'}], "
                 "'sweep': [{'path': 'job.units', 'values': [1, 2]}]",
                 "$.job.units: expected integer 0..1000000, got string \"many\"");
}
END_TEST

START_TEST(test_plugin_core_knows_no_other_mechanism)
{
    struct sim_diag_list errs = { 0 };
    struct sim_config *cfg = NULL;
    FILE *f = fopen(g_file, "w");
    fprintf(f, "{\"name\": \"x\", \"mechanism\": \"checkpoint\", \"platform\": \"%s\", "
            "\"variants\": [{\"name\": \"a\", \"policy\": \"buffered\"}]}\n", g_file);
    fclose(f);
    ck_assert_int_eq(sim_config_load(g_file, NULL, &cfg, &errs), VM_EINVAL);
    char want[600];
    snprintf(want, sizeof want, "%s: $.mechanism: unknown mechanism 'checkpoint' (known: toy)",
             g_file);
    ck_assert_str_eq(errs.lines[0], want);
    ck_assert_ptr_null(sim_mech_find("checkpoint"));
    sim_diag_list_free(&errs);
}
END_TEST

START_TEST(test_plugin_list_prints_the_toys_declarations)
{
    char path[400];
    snprintf(path, sizeof path, "%s/list.txt", g_dir);
    FILE *f = fopen(path, "w");
    struct vm_diag d = { 0 };
    ck_assert_int_eq(sim_list_print(f, "toy", NULL, &d), 0);
    fclose(f);
    char *text = sim_json_read_file(path, NULL);
    ck_assert_ptr_nonnull(strstr(text, "toy: a job of units of simulated work"));
    ck_assert_ptr_nonnull(strstr(text, "job policies (variants[].policy):"));
    ck_assert_ptr_nonnull(strstr(text, "batched"));
    ck_assert_ptr_null(strstr(text, "lossy"));                    /* hidden */
    ck_assert_ptr_nonnull(strstr(text, "unit_time"));
    ck_assert_ptr_nonnull(strstr(text, "memory"));                /* the shared vm rows */
    ck_assert_ptr_nonnull(strstr(text, "units_per_s"));
    ck_assert_ptr_nonnull(strstr(text, "units_lost"));
    free(text);
    ck_assert_int_eq(sim_list_print(stdout, "toi", NULL, &d), VM_ENOENT);
    ck_assert_str_eq(d.msg, "list: unknown mechanism 'toi' (did you mean 'toy'?)");
}
END_TEST

static bool tagged_get(int i, struct sim_policy_info *out)
{
    static const struct vm_param str_params[] = {
        { "tag", VM_PARAM_STRING, 0, .help = "" },
        { NULL, 0, 0, .help = NULL },
    };
    if (i != 0)
        return false;
    *out = (struct sim_policy_info){ "tagged", "", str_params, false };
    return true;
}

START_TEST(test_plugin_registry_refuses_bad_tables)
{
    struct vm_diag d = { 0 };
    ck_assert_int_eq(sim_mech_register(&toy_mech, &d), VM_EBUSY);
    struct sim_mech dup = toy_mech;
    static const struct sim_metric_def twice[] = {
        { "x_ns", "ns", false, "" }, { "x_ns", "ns", false, "" },
    };
    dup.name = "dup";
    dup.metrics = twice;
    dup.nr_metrics = 2;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_mech_register(&dup, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "mechanism 'dup': metric 'x_ns' declared twice");

    /* a section that shadows a key of the core */
    static const struct sim_key clash_rows[] = {
        SIM_KEY_SCALAR_ROW("seed", 0, VM_PARAM_U64, 0, 0, 0, NULL, NULL),
        SIM_KEY_END,
    };
    struct sim_mech clash = toy_mech;
    clash.name = "clash";
    clash.sections = clash_rows;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_mech_register(&clash, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "mechanism 'clash': section 'seed' is a key of the core");

    /* a string parameter would point into a JSON tree freed after loading */
    struct sim_policy_set *str_set = calloc(1, sizeof *str_set);
    const struct sim_policy_set *str_sets[2] = { str_set, NULL };
    *str_set = toy_set;
    str_set->get = tagged_get;
    struct sim_mech strm = toy_mech;
    strm.name = "strm";
    strm.policy_sets = str_sets;
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_mech_register(&strm, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "mechanism 'strm': policy 'tagged': string parameter 'tag' is not "
                            "supported");
    free(str_set);
}
END_TEST

static Suite *plugin_suite(void)
{
    Suite *s = suite_create("plugin");
    TCase *tc = tcase_create("toy");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_plugin_config_validates_with_deep_checks);
    tcase_add_test(tc, test_plugin_sweep_runs_with_two_jobs_and_checks);
    tcase_add_test(tc, test_plugin_invariant_violation_fails_the_record);
    tcase_add_test(tc, test_plugin_deadlocked_point_is_a_failed_record);
    tcase_add_test(tc, test_plugin_bad_input_is_located_in_the_toys_tables);
    tcase_add_test(tc, test_plugin_core_knows_no_other_mechanism);
    tcase_add_test(tc, test_plugin_list_prints_the_toys_declarations);
    tcase_add_test(tc, test_plugin_registry_refuses_bad_tables);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    struct vm_diag d = { 0 };
    if (sim_mech_register(&toy_mech, &d) != 0) {
        fprintf(stderr, "%s\n", d.msg);
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(plugin_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
