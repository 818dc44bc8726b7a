/*
 * check_config_result.c - suite "config", result files and `check`
 * (sim_result.c): the JSON and CSV a run writes, byte-identical for the
 * same records and without temporary files left, and `vmsim check`
 * against a baseline: tolerances, regressions, missing records and
 * metrics, violations and malformed results.  Configs are
 * check_config_good.c and check_config_bad.c.
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
    TCase *res = tcase_create("result");
    tcase_add_checked_fixture(res, config_setup, config_teardown);
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
