/*
 * check_calibrate.c - suite "calibrate": the costs file of `vmsim
 * calibrate` (sim_calib_file.c: its JSON, the loader's located errors,
 * the atomic write), the checkpoint costs it fills (sim_ckpt_costs.c:
 * the mapping, a costs file named in a config, inline values winning,
 * the defaults equal to the shipped calibration), and one small run of
 * the measurements themselves (positive, finite figures; no time limits).
 * The crypto figures have their own suite (check_calib_crypto.c); the
 * scratch directory and the known calibration are tests/calib_rig.*.
 *
 * Costs files are built from one known struct sim_calib, then broken one
 * key at a time; error lines are compared whole.
 */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "base/vm_units.h"
#include "checkpoint/sim_ckpt.h"
#include "checkpoint/sim_ckpt_costs.h"
#include "sim_calib.h"
#include "sim_cli.h"
#include "sim_config.h"
#include "sim_content.h"
#include "sim_json.h"
#include "calib_rig.h"

static const char *srcdir(void)
{
    const char *s = getenv("VMSIM_SRCDIR");
    return s && *s ? s : VMSIM_SRCDIR;
}

/* ------------------------------------------------------------ the file */

START_TEST(test_calib_json_has_provenance_method_and_figures_with_units)
{
    struct sim_calib c;
    calib_known(&c);
    cJSON *root = sim_calib_to_json(&c);
    ck_assert_str_eq(calib_get(root, "format")->valuestring, "vmsim-costs/1");
    const cJSON *p = calib_get(root, "provenance");
    ck_assert_str_eq(calib_get(p, "cpu_model")->valuestring, "Test CPU @ 1.00GHz");
    ck_assert_int_eq(calib_get(p, "cores")->valueint, 4);
    ck_assert_str_eq(calib_get(p, "kernel")->valuestring, "Linux 6.1.0 #1 SMP x86_64");
    ck_assert_str_eq(calib_get(p, "date")->valuestring, "2026-01-02T03:04:05Z");
    ck_assert_str_eq(calib_get(p, "vmsim_version")->valuestring, "0.1.0");
    ck_assert_double_eq(calib_get(p, "buffer_bytes")->valuedouble, 1073741824.0);
    ck_assert_double_eq(calib_get(p, "loadavg_before")->valuedouble, 0.5);
    ck_assert(cJSON_IsFalse(calib_get(p, "quick")));
    ck_assert_str_eq(calib_get(root, "wp_fault_method")->valuestring, "userfaultfd-wp");
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(root, "wp_fault_note"));
    /* times rounded to 0.1 ns, rates to whole bytes/s */
    ck_assert_double_eq_tol(calib_get(root, "page_copy_ns")->valuedouble, 412.3, 1e-9);
    ck_assert_double_eq_tol(calib_get(root, "page_install_ns")->valuedouble, 380.1, 1e-9);
    ck_assert_double_eq_tol(calib_get(root, "zero_scan_ns")->valuedouble, 200.0, 1e-9);
    ck_assert_double_eq_tol(calib_get(root, "wp_fault_ns")->valuedouble, 3456.8, 1e-9);
    ck_assert_double_eq_tol(calib_get(root, "wp_unprotect_ns")->valuedouble, 1234.6, 1e-9);
    ck_assert_double_eq_tol(calib_get(root, "small_write_ns")->valuedouble, 2345.6, 1e-9);
    ck_assert_double_eq_tol(calib_get(root, "anon_fault_ns")->valuedouble, 987.7, 1e-9);
    ck_assert_str_eq(calib_get(root, "anon_fault_method")->valuestring, "anon-first-write");
    ck_assert_double_eq(calib_get(calib_get(calib_get(root, "spread"), "anon_fault_ns"), "p90")->valuedouble, 1200);
    ck_assert_str_eq(calib_get(root, "wp_unprotect_method")->valuestring, "userfaultfd-wp");
    ck_assert_str_eq(calib_get(root, "zero_scan_method")->valuestring, "avx2");
    ck_assert_str_eq(calib_get(p, "small_write_fs")->valuestring, "ext4");
    ck_assert_str_eq(calib_get(calib_get(calib_get(root, "spread"), "wp_unprotect_ns"), "sample")->valuestring,
                     "16 pages");
    const cJSON *l1 = calib_get(calib_get(root, "compress_bps"), "level_1");
    const cJSON *l3 = calib_get(calib_get(root, "decompress_bps"), "level_3");
    for (int k = 0; k < SIM_CALIB_NR_RATES; k++) {
        ck_assert_double_eq(calib_get(l1, sim_calib_rate_names[k])->valuedouble, 1e8 * (k + 1));
        ck_assert_double_eq(calib_get(l3, sim_calib_rate_names[k])->valuedouble, 2e8 * (k + 1) + 1);
    }
    ck_assert_int_eq(cJSON_GetArraySize(l1), 5);
    const cJSON *s = calib_get(calib_get(root, "spread"), "page_copy_ns");
    ck_assert_double_eq(calib_get(s, "p10")->valuedouble, 400);
    ck_assert_double_eq(calib_get(s, "p90")->valuedouble, 450);
    ck_assert_int_eq(calib_get(s, "samples")->valueint, 100);
    ck_assert_str_eq(calib_get(s, "sample")->valuestring, "64 pages");
    const cJSON *n = calib_get(root, "notes");
    ck_assert_ptr_nonnull(strstr(calib_get(n, "trace_arm")->valuestring, "not measured"));
    ck_assert_ptr_nonnull(strstr(calib_get(n, "device_state")->valuestring, "not measured"));
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_calib_fallback_note_is_written_with_the_method)
{
    struct sim_calib c;
    calib_known(&c);
    snprintf(c.wp_method, sizeof c.wp_method, SIM_CALIB_METHOD_MPROTECT);
    snprintf(c.wp_note, sizeof c.wp_note, "userfaultfd: not permitted");
    snprintf(c.unprotect_method, sizeof c.unprotect_method, SIM_CALIB_UNPROTECT_MPROTECT);
    snprintf(c.unprotect_note, sizeof c.unprotect_note, "userfaultfd: not permitted; mprotect used");
    cJSON *root = sim_calib_to_json(&c);
    ck_assert_str_eq(calib_get(root, "wp_fault_method")->valuestring, "mprotect-sigsegv");
    ck_assert_str_eq(calib_get(root, "wp_fault_note")->valuestring, "userfaultfd: not permitted");
    ck_assert_str_eq(calib_get(root, "wp_unprotect_method")->valuestring, "mprotect");
    ck_assert_str_eq(calib_get(root, "wp_unprotect_note")->valuestring,
                     "userfaultfd: not permitted; mprotect used");
    struct sim_calib back;
    struct vm_diag d = { 0 };
    ck_assert_int_eq(sim_calib_from_json("x.json", root, &back, &d), 0);
    ck_assert_str_eq(back.wp_method, "mprotect-sigsegv");
    ck_assert_str_eq(back.wp_note, "userfaultfd: not permitted");
    ck_assert_str_eq(back.unprotect_method, "mprotect");
    ck_assert_str_eq(back.unprotect_note, "userfaultfd: not permitted; mprotect used");
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_calib_file_reads_back_what_was_written)
{
    struct sim_calib c, back;
    struct vm_diag d = { 0 };
    char path[512];
    calib_known(&c);
    calib_path_in(path, sizeof path, "costs.json");
    ck_assert_int_eq(sim_calib_write(path, &c, &d), 0);
    ck_assert_int_eq(sim_calib_load(path, &back, &d), 0);
    ck_assert_str_eq(back.cpu_model, c.cpu_model);
    ck_assert_int_eq(back.cores, 4);
    ck_assert_str_eq(back.kernel, c.kernel);
    ck_assert_str_eq(back.date, c.date);
    ck_assert_str_eq(back.wp_method, "userfaultfd-wp");
    ck_assert_double_eq_tol(back.page_copy_ns.median, 412.3, 1e-9);
    ck_assert_double_eq_tol(back.wp_fault_ns.median, 3456.8, 1e-9);
    ck_assert_double_eq_tol(back.wp_unprotect_ns.median, 1234.6, 1e-9);
    ck_assert_double_eq_tol(back.small_write_ns.median, 2345.6, 1e-9);
    ck_assert_double_eq_tol(back.anon_fault_ns.median, 987.7, 1e-9);
    ck_assert_str_eq(back.anon_method, "anon-first-write");
    ck_assert_str_eq(back.unprotect_method, "userfaultfd-wp");
    ck_assert_str_eq(back.zero_method, "avx2");
    ck_assert_int_eq(back.nr_levels, 2);
    ck_assert_int_eq(sim_calib_level_index(&back, 3), 1);
    ck_assert_int_eq(sim_calib_level_index(&back, 2), -1);
    ck_assert_double_eq(back.compress_bps[0][SIM_CALIB_MIX].median, 5e8);
    ck_assert_double_eq(back.decompress_bps[1][SIM_CONTENT_TEXT].median, 4e8 + 1);
}
END_TEST

/* A file from before anon_fault_ns loads as "not measured" and is
 * written back without it. */
static void del_anon(cJSON *r)
{
    cJSON_DeleteItemFromObject(r, "anon_fault_ns");
    cJSON_DeleteItemFromObject(r, "anon_fault_method");
}

START_TEST(test_calib_older_file_without_anon_fault_loads_as_not_measured)
{
    struct sim_calib back;
    struct vm_diag d = { 0 };
    char path[512];
    calib_path_in(path, sizeof path, "old.json");
    calib_write_costs("old.json", del_anon);
    ck_assert_msg(sim_calib_load(path, &back, &d) == 0, "%s", d.msg);
    ck_assert_double_eq(back.anon_fault_ns.median, 0);
    ck_assert_str_eq(back.anon_method, "");
    ck_assert_double_eq_tol(back.small_write_ns.median, 2345.6, 1e-9);
    cJSON *root = sim_calib_to_json(&back);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(root, "anon_fault_ns"));
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(root, "anon_fault_method"));
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(calib_get(root, "spread"), "anon_fault_ns"));
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_calib_write_leaves_only_the_file)
{
    struct sim_calib c;
    struct vm_diag d = { 0 };
    char path[512];
    calib_known(&c);
    calib_path_in(path, sizeof path, "out.json");
    ck_assert_int_eq(sim_calib_write(path, &c, &d), 0);
    ck_assert_int_eq(sim_calib_write(path, &c, &d), 0);     /* over an existing one */
    DIR *dir = opendir(calib_dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(dir));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            ck_assert_str_eq(e->d_name, "out.json");
            n++;
        }
    closedir(dir);
    ck_assert_int_eq(n, 1);
}
END_TEST

START_TEST(test_calib_write_refuses_a_directory_or_a_missing_one)
{
    struct sim_calib c;
    struct vm_diag d = { 0 };
    char path[512], want[600];
    calib_known(&c);
    ck_assert_int_eq(sim_calib_write(calib_dir, &c, &d), VM_EINVAL);
    snprintf(want, sizeof want, "%s: is a directory, expected a file name", calib_dir);
    ck_assert_str_eq(d.msg, want);
    vm_diag_clear(&d);
    calib_path_in(path, sizeof path, "no-such-dir/out.json");
    ck_assert_int_eq(sim_calib_write(path, &c, &d), VM_EIO);
    snprintf(want, sizeof want, "%s: cannot create: No such file or directory", path);
    ck_assert_str_eq(d.msg, want);
}
END_TEST

START_TEST(test_calib_aborted_output_leaves_nothing)
{
    struct sim_calib_out o;
    struct vm_diag d = { 0 };
    char path[512];
    calib_path_in(path, sizeof path, "out.json");
    ck_assert_int_eq(sim_calib_out_open(path, &o, &d), 0);
    ck_assert_int_eq(access(o.tmp, F_OK), 0);
    sim_calib_out_abort(&o);
    ck_assert_int_ne(access(o.tmp, F_OK), 0);
    ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

/* ------------------------------------------------------------ loader errors */

static void set_neg_copy(cJSON *r) { cJSON_ReplaceItemInObject(r, "page_copy_ns", cJSON_CreateNumber(-1)); }
static void set_str_fault(cJSON *r) { cJSON_ReplaceItemInObject(r, "wp_fault_ns", cJSON_CreateString("2us")); }
static void set_huge_scan(cJSON *r) { cJSON_ReplaceItemInObject(r, "zero_scan_ns", cJSON_CreateNumber(2e9)); }
static void del_install(cJSON *r) { cJSON_DeleteItemFromObject(r, "page_install_ns"); }
static void del_format(cJSON *r) { cJSON_DeleteItemFromObject(r, "format"); }
static void set_format(cJSON *r) { cJSON_ReplaceItemInObject(r, "format", cJSON_CreateString("vmsim-costs/2")); }
static void typo_key(cJSON *r) { cJSON_AddNumberToObject(r, "page_copy_nss", 1); }
static void del_cpu(cJSON *r) { cJSON_DeleteItemFromObject(cJSON_GetObjectItem(r, "provenance"), "cpu_model"); }
static void del_prov(cJSON *r) { cJSON_DeleteItemFromObject(r, "provenance"); }
static void zero_cores(cJSON *r) { cJSON_ReplaceItemInObject(cJSON_GetObjectItem(r, "provenance"), "cores", cJSON_CreateNumber(0)); }
static void bad_method(cJSON *r) { cJSON_ReplaceItemInObject(r, "wp_fault_method", cJSON_CreateString("trap")); }
static void del_level1(cJSON *r) { cJSON_DeleteItemFromObject(cJSON_GetObjectItem(r, "compress_bps"), "level_1"); }
static void bad_level(cJSON *r) { cJSON_AddObjectToObject(cJSON_GetObjectItem(r, "decompress_bps"), "level_x"); }
static void del_mix(cJSON *r) { cJSON_DeleteItemFromObject(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "decompress_bps"), "level_3"), "mix"); }
static void typo_class(cJSON *r) { cJSON_AddNumberToObject(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "compress_bps"), "level_1"), "rnd", 1); }
static void zero_rate(cJSON *r) { cJSON_ReplaceItemInObject(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "compress_bps"), "level_3"), "zero", cJSON_CreateNumber(0)); }
static void only_c3(cJSON *r) { cJSON_AddItemToObject(cJSON_GetObjectItem(r, "compress_bps"), "level_5", cJSON_Duplicate(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "compress_bps"), "level_3"), 1)); }
static void note_num(cJSON *r) { cJSON_AddNumberToObject(r, "wp_fault_note", 3); }
static void spread_arr(cJSON *r) { cJSON_ReplaceItemInObject(r, "spread", cJSON_CreateArray()); }
static void del_unprotect(cJSON *r) { cJSON_DeleteItemFromObject(r, "wp_unprotect_ns"); }
static void zero_write(cJSON *r) { cJSON_ReplaceItemInObject(r, "small_write_ns", cJSON_CreateNumber(0)); }
static void del_unprot_method(cJSON *r) { cJSON_DeleteItemFromObject(r, "wp_unprotect_method"); }
static void bad_unprot_method(cJSON *r) { cJSON_ReplaceItemInObject(r, "wp_unprotect_method", cJSON_CreateString("mprotect-sigsegv")); }
static void zero_anon(cJSON *r) { cJSON_ReplaceItemInObject(r, "anon_fault_ns", cJSON_CreateNumber(0)); }
static void del_anon_method(cJSON *r) { cJSON_DeleteItemFromObject(r, "anon_fault_method"); }
static void del_anon_fig(cJSON *r) { cJSON_DeleteItemFromObject(r, "anon_fault_ns"); }
static void bad_anon_method(cJSON *r) { cJSON_ReplaceItemInObject(r, "anon_fault_method", cJSON_CreateString("populate")); }
static void zero_method_num(cJSON *r) { cJSON_ReplaceItemInObject(r, "zero_scan_method", cJSON_CreateNumber(2)); }

static const struct {
    void (*edit)(cJSON *);
    const char *want;                   /* after "FILE: "; %d..%d: zstd's levels */
} bad_files[] = {
    { set_neg_copy, "$.page_copy_ns: expected number > 0 and <= 1000000000, got -1" },
    { set_str_fault, "$.wp_fault_ns: expected number > 0 and <= 1000000000, got \"2us\"" },
    { set_huge_scan, "$.zero_scan_ns: expected number > 0 and <= 1000000000, got 2000000000" },
    { del_install, "$: missing required key 'page_install_ns'" },
    { del_format, "$: missing required key 'format'" },
    { set_format, "$.format: expected \"vmsim-costs/1\", got \"vmsim-costs/2\"" },
    { typo_key, "$: unknown key 'page_copy_nss' (did you mean 'page_copy_ns'?)" },
    { del_cpu, "$.provenance: missing required key 'cpu_model'" },
    { del_prov, "$: missing required key 'provenance'" },
    { zero_cores, "$.provenance.cores: expected number > 0 and <= 1000000, got 0" },
    { bad_method, "$.wp_fault_method: expected \"userfaultfd-wp\" or \"mprotect-sigsegv\", "
                  "got \"trap\"" },
    { del_level1, "$.compress_bps: missing required key 'level_1' (the level of the save "
                  "stream's sizes)" },
    { bad_level, "$.decompress_bps: unknown key 'level_x' (expected level_N, N a zstd level "
                 "%d..%d)" },
    { del_mix, "$.decompress_bps.level_3: missing required key 'mix'" },
    { typo_class, "$.compress_bps.level_1: unknown key 'rnd' (expected zero, text, code, "
                  "random, mix)" },
    { zero_rate, "$.compress_bps.level_3.zero: expected number > 0 and <= 1000000000000000, "
                 "got 0" },
    { only_c3, "$.decompress_bps: missing required key 'level_5' (the other rates have it)" },
    { note_num, "$.wp_fault_note: expected string, got 3" },
    { spread_arr, "$.spread: expected object, got array" },
    { del_unprotect, "$: missing required key 'wp_unprotect_ns'" },
    { zero_write, "$.small_write_ns: expected number > 0 and <= 1000000000, got 0" },
    { del_unprot_method, "$: missing required key 'wp_unprotect_method'" },
    { bad_unprot_method, "$.wp_unprotect_method: expected \"userfaultfd-wp\" or \"mprotect\", "
                         "got \"mprotect-sigsegv\"" },
    { zero_method_num, "$.zero_scan_method: expected string, got 2" },
    { zero_anon, "$.anon_fault_ns: expected number > 0 and <= 1000000000, got 0" },
    { del_anon_method, "$: missing required key 'anon_fault_method'" },
    { del_anon_fig, "$: missing required key 'anon_fault_ns'" },
    { bad_anon_method, "$.anon_fault_method: expected \"anon-first-write\", got \"populate\"" },
};

START_TEST(test_calib_bad_file_is_refused_at_its_json_path)
{
    struct sim_calib c;
    struct vm_diag d = { 0 };
    char path[512], want[1200];
    calib_path_in(path, sizeof path, "bad.json");
    calib_write_costs("bad.json", bad_files[_i].edit);
    ck_assert_int_eq(sim_calib_load(path, &c, &d), VM_EINVAL);
    char tail[512];
    snprintf(tail, sizeof tail, bad_files[_i].want, ZSTD_minCLevel(), ZSTD_maxCLevel());
    snprintf(want, sizeof want, "%s: %s", path, tail);
    ck_assert_str_eq(d.msg, want);
}
END_TEST

START_TEST(test_calib_not_an_object_or_not_json)
{
    struct sim_calib c;
    struct vm_diag d = { 0 };
    cJSON *arr = cJSON_CreateArray();
    ck_assert_int_eq(sim_calib_from_json("a.json", arr, &c, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "a.json: $: expected a costs file object (vmsim calibrate -o), "
                            "got array");
    cJSON_Delete(arr);
    char path[512], want[600];
    calib_path_in(path, sizeof path, "m.json");
    FILE *f = fopen(path, "w");
    fputs("{\"format\": \"vmsim-costs/1\",\n  \"x\" }\n", f);
    fclose(f);
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_calib_load(path, &c, &d), VM_EPARSE);
    snprintf(want, sizeof want, "%s:2:7: malformed JSON: expected ':' after the key, got '}'",
             path);
    ck_assert_str_eq(d.msg, want);
}
END_TEST

/* ------------------------------------------------------------ into costs */

START_TEST(test_ckpt_costs_from_calibration_round_and_take_the_stream_level_mix)
{
    struct sim_calib c;
    calib_known(&c);
    struct sim_ckpt_costs k = { .trace_arm_ns = 7, .device_state_ns = 9 };
    sim_ckpt_costs_from_calib(&c, &k);
    ck_assert_uint_eq(k.page_copy_ns, 412);
    ck_assert_uint_eq(k.page_install_ns, 380);
    ck_assert_uint_eq(k.zero_scan_ns, 200);
    ck_assert_uint_eq(k.trace_fault_ns, 3457);
    ck_assert_uint_eq(k.unprotect_ns, 1235);
    ck_assert_uint_eq(k.stream_write_ns, 2346);
    /* level 1 (SIM_CONTENT_ZSTD_LEVEL), not 3: 1e8 * 5 + 0.4 and 4e8 * 5 + 0.6 */
    ck_assert_int_eq(SIM_CONTENT_ZSTD_LEVEL, 1);
    ck_assert_double_eq(k.compress_bps, 5e8);
    ck_assert_double_eq(k.decompress_bps, 2e9 + 1);
    /* not measured: left as they were */
    ck_assert_uint_eq(k.trace_arm_ns, 7);
    ck_assert_uint_eq(k.device_state_ns, 9);
}
END_TEST

/* A checkpoint config in calib_dir with `costs` (JSON text, ' for "). */
static struct sim_config *load_cfg(const char *costs, struct sim_diag_list *errs)
{
    char path[512], text[2048], dir[512];
    calib_path_in(dir, sizeof dir, "sub");
    mkdir(dir, 0777);
    calib_path_in(path, sizeof path, "sub/plat.xml");
    FILE *f = fopen(path, "w");
    fputs("<platform/>\n", f);
    fclose(f);
    snprintf(text, sizeof text,
             "{'name': 'c', 'mechanism': 'checkpoint', 'platform': 'plat.xml', "
             "'vm': {'memory': '1GiB'}, 'workload': {'kind': 'synthetic', 'pattern': 'zipf'}, "
             "'variants': [{'name': 'b', 'policy': 'buffered'}]%s%s}",
             costs ? ", 'costs': " : "", costs ? costs : "");
    for (char *p = text; *p; p++)
        if (*p == '\'')
            *p = '"';
    calib_path_in(path, sizeof path, "sub/exp.json");
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    struct sim_config *cfg = NULL;
    sim_config_load(path, NULL, &cfg, errs);
    return cfg;
}

static const struct sim_ckpt_costs *COSTS(const struct sim_config *cfg)
{
    return &((const struct sim_ckpt_cfg *)cfg->points[0].mech_cfg)->costs;
}

START_TEST(test_ckpt_costs_string_names_a_file_relative_to_the_config)
{
    struct sim_diag_list errs = { 0 };
    calib_write_costs("costs.json", NULL);
    struct sim_config *cfg = load_cfg("'../costs.json'", &errs);
    ck_assert_msg(cfg != NULL, "%s", errs.n ? errs.lines[0] : "?");
    ck_assert_uint_eq(COSTS(cfg)->page_copy_ns, 412);
    ck_assert_uint_eq(COSTS(cfg)->trace_fault_ns, 3457);
    ck_assert_double_eq(COSTS(cfg)->compress_bps, 5e8);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_ckpt_costs_inline_values_win_over_the_file_whatever_the_order)
{
    struct sim_diag_list errs = { 0 };
    calib_write_costs("costs.json", NULL);
    struct sim_config *cfg = load_cfg("{'page_copy': '1us', 'file': '../costs.json', "
                                      "'trace_arm': '3ns'}", &errs);
    ck_assert_msg(cfg != NULL, "%s", errs.n ? errs.lines[0] : "?");
    ck_assert_uint_eq(COSTS(cfg)->page_copy_ns, 1000);       /* inline */
    ck_assert_uint_eq(COSTS(cfg)->trace_arm_ns, 3);          /* inline */
    ck_assert_uint_eq(COSTS(cfg)->page_install_ns, 380);     /* the file */
    ck_assert_uint_eq(COSTS(cfg)->zero_scan_ns, 200);        /* the file */
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_ckpt_costs_bad_file_is_one_located_line)
{
    struct sim_diag_list errs = { 0 };
    char want[1600], cfgfile[512], costs[512];
    calib_write_costs("costs.json", set_neg_copy);
    calib_path_in(cfgfile, sizeof cfgfile, "sub/exp.json");
    calib_path_in(costs, sizeof costs, "costs.json");
    ck_assert_ptr_null(load_cfg("{'file': '../costs.json'}", &errs));
    ck_assert_int_eq(errs.n, 1);
    snprintf(want, sizeof want, "%s: $.costs.file: %s: $.page_copy_ns: expected number > 0 and "
             "<= 1000000000, got -1", cfgfile, costs);
    ck_assert_str_eq(errs.lines[0], want);
    sim_diag_list_free(&errs);
    ck_assert_ptr_null(load_cfg("'../nope.json'", &errs));
    snprintf(want, sizeof want, "%s: $.costs: expected a readable file, got \"../nope.json\" "
             "(No such file or directory)", cfgfile);
    ck_assert_str_eq(errs.lines[0], want);
    sim_diag_list_free(&errs);
    ck_assert_ptr_null(load_cfg("7", &errs));
    snprintf(want, sizeof want, "%s: $.costs: expected object of costs or a costs file "
             "(vmsim calibrate -o), got 7", cfgfile);
    ck_assert_str_eq(errs.lines[0], want);
    sim_diag_list_free(&errs);
}
END_TEST

/* The key table's defaults are the shipped calibration's figures. */
START_TEST(test_ckpt_cost_defaults_are_the_shipped_calibration)
{
    char path[1024];
    struct sim_calib c;
    struct vm_diag d = { 0 };
    snprintf(path, sizeof path, "%s/workloads/costs/calibration.json", srcdir());
    ck_assert_msg(sim_calib_load(path, &c, &d) == 0, "%s", d.msg);
    ck_assert(!c.quick);
    struct sim_diag_list errs = { 0 };
    struct sim_config *cfg = load_cfg(NULL, &errs);
    ck_assert_msg(cfg != NULL, "%s", errs.n ? errs.lines[0] : "?");
    struct sim_ckpt_costs want = *COSTS(cfg);
    sim_ckpt_costs_from_calib(&c, &want);
    const struct sim_ckpt_costs *got = COSTS(cfg);
    ck_assert_uint_eq(got->page_copy_ns, want.page_copy_ns);
    ck_assert_uint_eq(got->trace_fault_ns, want.trace_fault_ns);
    ck_assert_uint_eq(got->page_install_ns, want.page_install_ns);
    ck_assert_uint_eq(got->zero_scan_ns, want.zero_scan_ns);
    ck_assert_uint_eq(got->unprotect_ns, want.unprotect_ns);
    ck_assert_uint_eq(got->stream_write_ns, want.stream_write_ns);
    ck_assert_double_eq(got->compress_bps, want.compress_bps);
    ck_assert_double_eq(got->decompress_bps, want.decompress_bps);
    sim_config_free(cfg);
}
END_TEST

/* ------------------------------------------------------------ measuring */

START_TEST(test_calib_fig_percentiles_interpolate_between_ranks)
{
    double v[] = { 9, 1, 5, 3, 7 };
    struct sim_calib_fig f;
    sim_calib_fig_from(v, 5, &f);
    ck_assert_double_eq(f.median, 5);
    ck_assert_double_eq_tol(f.p10, 1.8, 1e-12);
    ck_assert_double_eq_tol(f.p90, 8.2, 1e-12);
    ck_assert_uint_eq(f.samples, 5);
    double w[] = { 4, 2 };
    sim_calib_fig_from(w, 2, &f);
    ck_assert_double_eq(f.median, 3);
}
END_TEST

START_TEST(test_calib_measure_small_run_gives_positive_finite_figures)
{
    struct sim_calib_opts o = { .buffer_bytes = 16ull << 20, .batch_pages = 16,
                                .max_samples = 32, .zstd_reps = 3, .nr_faults = 64,
                                .quick = true };
    static struct sim_calib c;
    struct vm_diag d = { 0 };
    ck_assert_msg(sim_calib_measure(&o, &c, &d) == 0, "%s", d.msg);
    calib_assert_fig("page_copy_ns", &c.page_copy_ns);
    calib_assert_fig("page_install_ns", &c.page_install_ns);
    calib_assert_fig("zero_scan_ns", &c.zero_scan_ns);
    calib_assert_fig("wp_fault_ns", &c.wp_fault_ns);
    calib_assert_fig("wp_unprotect_ns", &c.wp_unprotect_ns);
    calib_assert_fig("small_write_ns", &c.small_write_ns);
    calib_assert_fig("anon_fault_ns", &c.anon_fault_ns);
    ck_assert_uint_eq(c.anon_fault_ns.samples, 32);
    for (int i = 0; i < CALIB_NR_CRYPTO; i++) {
        calib_assert_fig(calib_crypto_keys[i], calib_crypto_fig(&c.crypto, i));
        ck_assert_uint_eq(calib_crypto_fig(&c.crypto, i)->samples, 32);
    }
    ck_assert(c.crypto.quick);
    ck_assert_str_eq(c.anon_method, SIM_CALIB_ANON_METHOD);
    ck_assert_uint_eq(c.wp_unprotect_ns.samples, 64 / SIM_CALIB_UNPROTECT_BATCH);
    ck_assert_uint_eq(c.small_write_ns.samples, 32);
    ck_assert_ptr_nonnull(sim_calib_zero_variant(c.zero_method));
    ck_assert_uint_eq(c.page_copy_ns.samples, 32);
    ck_assert_uint_eq(c.wp_fault_ns.samples, 64);
    ck_assert_int_eq(c.nr_levels, 2);
    ck_assert_int_ge(sim_calib_level_index(&c, SIM_CONTENT_ZSTD_LEVEL), 0);
    ck_assert_int_ge(sim_calib_level_index(&c, 3), 0);
    for (int l = 0; l < c.nr_levels; l++) {
        double lo = INFINITY, hi = 0;
        for (int k = 0; k < SIM_CONTENT_NR; k++) {
            calib_assert_fig("compress_bps", &c.compress_bps[l][k]);
            calib_assert_fig("decompress_bps", &c.decompress_bps[l][k]);
            lo = fmin(lo, c.compress_bps[l][k].median);
            hi = fmax(hi, c.compress_bps[l][k].median);
        }
        double mix = c.compress_bps[l][SIM_CALIB_MIX].median;
        ck_assert(isfinite(mix) && mix >= lo && mix <= hi);
    }
    ck_assert(strcmp(c.wp_method, SIM_CALIB_METHOD_UFFD) == 0 ||
              strcmp(c.wp_method, SIM_CALIB_METHOD_MPROTECT) == 0);
    /* a fallback says why */
    ck_assert(strcmp(c.wp_method, SIM_CALIB_METHOD_MPROTECT) != 0 || c.wp_note[0]);
    ck_assert(strcmp(c.unprotect_method, SIM_CALIB_METHOD_UFFD) == 0 ||
              (strcmp(c.unprotect_method, SIM_CALIB_UNPROTECT_MPROTECT) == 0 &&
               c.unprotect_note[0]));
    ck_assert_str_ne(c.cpu_model, "");
    ck_assert_int_ge(c.cores, 1);
    ck_assert_uint_eq(strlen(c.date), 20);
    ck_assert(c.quick);
    /* what it measured is a valid costs file */
    cJSON *root = sim_calib_to_json(&c);
    struct sim_calib back;
    ck_assert_msg(sim_calib_from_json("m.json", root, &back, &d) == 0, "%s", d.msg);
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_calib_wp_fault_by_mprotect_works_everywhere)
{
    struct sim_calib_fig f;
    char method[32], note[256];
    struct vm_diag d = { 0 };
    ck_assert_msg(sim_calib_wp_fault(SIM_CALIB_WP_MPROTECT, 32, &f, method, note, &d) == 0,
                  "%s", d.msg);
    calib_assert_fig("wp_fault_ns", &f);
    ck_assert_str_eq(method, "mprotect-sigsegv");
    ck_assert_str_eq(note, "");
}
END_TEST

START_TEST(test_calib_wp_fault_by_userfaultfd_or_a_reason)
{
    struct sim_calib_fig f;
    char method[32], note[256];
    struct vm_diag d = { 0 };
    int rc = sim_calib_wp_fault(SIM_CALIB_WP_UFFD, 32, &f, method, note, &d);
    if (rc == 0) {
        calib_assert_fig("wp_fault_ns", &f);
        ck_assert_str_eq(method, "userfaultfd-wp");
    } else {
        ck_assert_int_eq(rc, VM_ENOTSUP);
        ck_assert_ptr_nonnull(strstr(d.msg, "userfaultfd"));
    }
}
END_TEST

START_TEST(test_calib_wp_unprotect_by_mprotect_works_everywhere)
{
    struct sim_calib_fig f;
    char method[32], note[256];
    struct vm_diag d = { 0 };
    ck_assert_msg(sim_calib_wp_unprotect(SIM_CALIB_WP_MPROTECT, 64, &f, method, note, &d) == 0,
                  "%s", d.msg);
    calib_assert_fig("wp_unprotect_ns", &f);
    ck_assert_uint_eq(f.samples, 64 / SIM_CALIB_UNPROTECT_BATCH);
    ck_assert_str_eq(method, "mprotect");
    ck_assert_str_eq(note, "");
    ck_assert_int_eq(sim_calib_wp_unprotect(SIM_CALIB_WP_AUTO, SIM_CALIB_UNPROTECT_BATCH - 1, &f,
                                            method, note, &d), VM_EINVAL);
}
END_TEST

START_TEST(test_calib_wp_unprotect_by_userfaultfd_or_a_reason)
{
    struct sim_calib_fig f;
    char method[32], note[256];
    struct vm_diag d = { 0 };
    int rc = sim_calib_wp_unprotect(SIM_CALIB_WP_UFFD, 64, &f, method, note, &d);
    if (rc == 0) {
        calib_assert_fig("wp_unprotect_ns", &f);
        ck_assert_str_eq(method, "userfaultfd-wp");
    } else {
        ck_assert_int_eq(rc, VM_ENOTSUP);
        ck_assert_ptr_nonnull(strstr(d.msg, "userfaultfd"));
    }
}
END_TEST

START_TEST(test_calib_small_write_measures_and_leaves_nothing)
{
    struct sim_calib_fig f;
    char fs[32];
    struct vm_diag d = { 0 };
    ck_assert_msg(sim_calib_small_write(calib_dir, 8, 16, &f, fs, &d) == 0, "%s", d.msg);
    calib_assert_fig("small_write_ns", &f);
    ck_assert_uint_eq(f.samples, 16);
    ck_assert_str_ne(fs, "");
    DIR *dir = opendir(calib_dir);
    for (struct dirent *e; (e = readdir(dir));)
        ck_assert_msg(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0,
                      "left %s", e->d_name);
    closedir(dir);
    char missing[512];
    calib_path_in(missing, sizeof missing, "no-such-dir");
    ck_assert_int_eq(sim_calib_small_write(missing, 8, 16, &f, fs, &d), VM_EIO);
    ck_assert_ptr_nonnull(strstr(d.msg, "cannot create a file in"));
    ck_assert_int_eq(sim_calib_small_write(calib_dir, 0, 16, &f, fs, &d), VM_EINVAL);
}
END_TEST

START_TEST(test_calib_anon_fault_measures_over_fresh_mappings)
{
    struct sim_calib_fig f;
    struct vm_diag d = { 0 };
    /* 20 samples of 8 pages from mappings of 5 samples (42 pages: 2 left) */
    ck_assert_msg(sim_calib_anon_fault(42, 8, 20, &f, &d) == 0, "%s", d.msg);
    calib_assert_fig("anon_fault_ns", &f);
    ck_assert_uint_eq(f.samples, 20);
    ck_assert_int_eq(sim_calib_anon_fault(4, 8, 20, &f, &d), VM_EINVAL);
    ck_assert_double_eq(f.median, 0);
    ck_assert_int_eq(sim_calib_anon_fault(64, 0, 20, &f, &d), VM_EINVAL);
    ck_assert_int_eq(sim_calib_anon_fault(64, 8, 0, &f, &d), VM_EINVAL);
}
END_TEST

/* Every zero test this CPU has answers as QEMU's buffer_is_zero: a page is
 * zero only when every byte is, wherever the one non-zero byte is. */
START_TEST(test_calib_zero_variants_agree_on_every_byte)
{
    static _Alignas(32) unsigned char page[VM_PAGE_SIZE];
    const char *names[] = { SIM_CALIB_ZERO_AVX2, SIM_CALIB_ZERO_SSE2, SIM_CALIB_ZERO_INT };
    const char *best = NULL;
    ck_assert_ptr_nonnull(sim_calib_zero_best(&best));
    ck_assert_ptr_nonnull(sim_calib_zero_variant(best));
    ck_assert_ptr_nonnull(sim_calib_zero_variant(SIM_CALIB_ZERO_INT));   /* always there */
    ck_assert_ptr_null(sim_calib_zero_variant("avx512"));
    ck_assert_ptr_null(sim_calib_zero_variant(NULL));
    int tested = 0;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        sim_calib_zero_test fn = sim_calib_zero_variant(names[k]);
        if (!fn)
            continue;
        tested++;
        memset(page, 0, sizeof page);
        ck_assert_msg(fn(page, sizeof page), "%s: zero page", names[k]);
        ck_assert_msg(fn(page, 256), "%s: 256 zero bytes", names[k]);
        for (size_t i = 0; i < sizeof page; i++) {
            page[i] = (unsigned char)(1u << (i % 8));
            ck_assert_msg(!fn(page, sizeof page), "%s: byte %zu set", names[k], i);
            page[i] = 0;
        }
        page[300] = 1;                  /* outside the first 256 bytes */
        ck_assert_msg(fn(page, 256), "%s: looked past len", names[k]);
        page[300] = 0;
    }
    ck_assert_int_ge(tested, 1);
}
END_TEST

/* ------------------------------------------------------------ command line */

START_TEST(test_calib_cli_bad_arguments_are_bad_input)
{
    char out[512];
    calib_path_in(out, sizeof out, "no-such-dir/c.json");
    char *a1[] = { "--fast" }, *a2[] = { "extra" }, *a3[] = { "-o" }, *a4[] = { "-o", out },
         *a5[] = { "-o", calib_dir };
    ck_assert_int_eq(sim_calib_main(1, a1), SIM_EXIT_BAD_INPUT);
    ck_assert_int_eq(sim_calib_main(1, a2), SIM_EXIT_BAD_INPUT);
    ck_assert_int_eq(sim_calib_main(1, a3), SIM_EXIT_BAD_INPUT);
    ck_assert_int_eq(sim_calib_main(2, a4), SIM_EXIT_BAD_INPUT);
    ck_assert_int_eq(sim_calib_main(2, a5), SIM_EXIT_BAD_INPUT);
    char *a6[] = { "--only", "pages" }, *a7[] = { "--only" }, *a8[] = { "--only=", "-o", out };
    ck_assert_int_eq(sim_calib_main(2, a6), SIM_EXIT_BAD_INPUT);
    ck_assert_int_eq(sim_calib_main(1, a7), SIM_EXIT_BAD_INPUT);
    ck_assert_int_eq(sim_calib_main(3, a8), SIM_EXIT_BAD_INPUT);
}
END_TEST

static Suite *calibrate_suite(void)
{
    Suite *s = suite_create("calibrate");
    TCase *file = tcase_create("file");
    tcase_add_checked_fixture(file, calib_setup, calib_teardown);
    tcase_set_timeout(file, 0);          /* no wall-clock limits anywhere */
    tcase_add_test(file, test_calib_json_has_provenance_method_and_figures_with_units);
    tcase_add_test(file, test_calib_fallback_note_is_written_with_the_method);
    tcase_add_test(file, test_calib_file_reads_back_what_was_written);
    tcase_add_test(file, test_calib_older_file_without_anon_fault_loads_as_not_measured);
    tcase_add_test(file, test_calib_write_leaves_only_the_file);
    tcase_add_test(file, test_calib_write_refuses_a_directory_or_a_missing_one);
    tcase_add_test(file, test_calib_aborted_output_leaves_nothing);
    tcase_add_loop_test(file, test_calib_bad_file_is_refused_at_its_json_path, 0,
                        (int)(sizeof bad_files / sizeof bad_files[0]));
    tcase_add_test(file, test_calib_not_an_object_or_not_json);
    suite_add_tcase(s, file);

    TCase *costs = tcase_create("costs");
    tcase_add_checked_fixture(costs, calib_setup, calib_teardown);
    tcase_set_timeout(costs, 0);
    tcase_add_test(costs, test_ckpt_costs_from_calibration_round_and_take_the_stream_level_mix);
    tcase_add_test(costs, test_ckpt_costs_string_names_a_file_relative_to_the_config);
    tcase_add_test(costs, test_ckpt_costs_inline_values_win_over_the_file_whatever_the_order);
    tcase_add_test(costs, test_ckpt_costs_bad_file_is_one_located_line);
    tcase_add_test(costs, test_ckpt_cost_defaults_are_the_shipped_calibration);
    suite_add_tcase(s, costs);

    TCase *meas = tcase_create("measure");
    tcase_add_checked_fixture(meas, calib_setup, calib_teardown);
    tcase_set_timeout(meas, 0);
    tcase_add_test(meas, test_calib_fig_percentiles_interpolate_between_ranks);
    tcase_add_test(meas, test_calib_measure_small_run_gives_positive_finite_figures);
    tcase_add_test(meas, test_calib_wp_fault_by_mprotect_works_everywhere);
    tcase_add_test(meas, test_calib_wp_fault_by_userfaultfd_or_a_reason);
    tcase_add_test(meas, test_calib_wp_unprotect_by_mprotect_works_everywhere);
    tcase_add_test(meas, test_calib_wp_unprotect_by_userfaultfd_or_a_reason);
    tcase_add_test(meas, test_calib_small_write_measures_and_leaves_nothing);
    tcase_add_test(meas, test_calib_anon_fault_measures_over_fresh_mappings);
    tcase_add_test(meas, test_calib_zero_variants_agree_on_every_byte);
    tcase_add_test(meas, test_calib_cli_bad_arguments_are_bad_input);
    suite_add_tcase(s, meas);
    return s;
}

int main(void)
{
    struct vm_diag d = { 0 };
    if (sim_mech_register(&sim_ckpt_mech, &d) != 0) {
        fprintf(stderr, "%s\n", d.msg);
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(calibrate_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
