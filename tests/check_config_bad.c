/*
 * check_config_bad.c - suite "config", bad input: the one exact error
 * line (file, JSON path, message) an experiment config (sim_config.c,
 * sim_json.c) gets for malformed JSON, unknown keys and policies, wrong
 * types, bad units, out-of-range values, bad sweeps and overrides, and
 * what validate collects.  Good configs are check_config_good.c.
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

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *good = tcase_create("good");
    tcase_add_checked_fixture(good, config_setup, config_teardown);
    tcase_add_test(good, test_json_path_parse_segments);
    suite_add_tcase(s, good);

    TCase *bad = tcase_create("bad");
    tcase_add_checked_fixture(bad, config_setup, config_teardown);
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
