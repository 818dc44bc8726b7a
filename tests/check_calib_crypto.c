/*
 * check_calib_crypto.c - suite "calib_crypto": the crypto figures of
 * `vmsim calibrate` (sim_calib_crypto.c): their place in the costs file
 * (one optional "crypto" object, spreads and a note), an older file
 * without them, the loader's located errors inside it, the costs a
 * simulation takes from them (sim_calib_crypto_costs), adding them to an
 * existing file without touching the rest (sim_calib_json_set_crypto,
 * `--only crypto`), and one small measurement (plausible, positive
 * figures; no wall-clock limits).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calib_rig.h"
#include "sim_calib.h"
#include "sim_cli.h"

/* ------------------------------------------------------------ the file */

START_TEST(test_calib_crypto_is_one_object_before_the_spread_with_its_own_spreads)
{
    struct sim_calib c;
    calib_known(&c);
    cJSON *root = sim_calib_to_json(&c);
    const cJSON *k = calib_get(root, "crypto");
    ck_assert_str_eq(k->next->string, "spread");
    ck_assert_str_eq(calib_get(k, "openssl_version")->valuestring, "OpenSSL 3.0.19 27 Jan 2026");
    ck_assert_str_eq(calib_get(k, "date")->valuestring, "2026-01-02T04:05:06Z");
    ck_assert_double_eq(calib_get(k, "loadavg_after")->valuedouble, 1.5);
    ck_assert(cJSON_IsFalse(calib_get(k, "quick")));
    ck_assert_double_eq_tol(calib_get(k, "sha256_64_ns")->valuedouble, 120.0, 1e-9);
    ck_assert_double_eq_tol(calib_get(k, "ed25519_sign_ns")->valuedouble, 28000.4, 1e-9);
    ck_assert_double_eq_tol(calib_get(k, "policy_lookup_ns")->valuedouble, 101.2, 1e-9);
    ck_assert_int_eq(cJSON_GetArraySize(k), 5 + CALIB_NR_CRYPTO);
    const cJSON *s = calib_get(calib_get(root, "spread"), "crypto");
    ck_assert_int_eq(cJSON_GetArraySize(s), CALIB_NR_CRYPTO);
    ck_assert_double_eq(calib_get(calib_get(s, "ed25519_verify_ns"), "p90")->valuedouble, 80000);
    ck_assert_int_eq(calib_get(calib_get(s, "sha256_4k_ns"), "samples")->valueint, 1024);
    ck_assert_str_eq(calib_get(calib_get(s, "policy_lookup_ns"), "sample")->valuestring,
                     "64 probes");
    const cJSON *note = calib_get(calib_get(root, "notes"), "crypto");
    ck_assert_ptr_nonnull(strstr(note->valuestring, "EVP"));
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_calib_crypto_figures_read_back_what_was_written)
{
    struct sim_calib c, back;
    struct vm_diag d = { 0 };
    char path[512];
    calib_known(&c);
    c.crypto.quick = true;
    calib_path_in(path, sizeof path, "costs.json");
    ck_assert_int_eq(sim_calib_write(path, &c, &d), 0);
    ck_assert_msg(sim_calib_load(path, &back, &d) == 0, "%s", d.msg);
    ck_assert_str_eq(back.crypto.openssl_version, "OpenSSL 3.0.19 27 Jan 2026");
    ck_assert_str_eq(back.crypto.date, "2026-01-02T04:05:06Z");
    ck_assert_double_eq(back.crypto.loadavg[0], 1.25);
    ck_assert_double_eq(back.crypto.loadavg[1], 1.5);
    ck_assert(back.crypto.quick);
    for (int i = 0; i < CALIB_NR_CRYPTO; i++)
        ck_assert_msg(fabs(calib_crypto_fig(&back.crypto, i)->median -
                           round(calib_crypto_fig(&c.crypto, i)->median * 10) / 10) < 1e-9,
                      "%s: %g", calib_crypto_keys[i], calib_crypto_fig(&back.crypto, i)->median);
    double per_byte = 0, small = 0, sign = 0, verify = 0, lookup = 0;
    ck_assert_int_eq(sim_calib_crypto_costs(&back, &per_byte, &small, &sign, &verify, &lookup,
                                            &d), 0);
    ck_assert_double_eq_tol(per_byte, 2400.1 / 4096, 1e-12);
    ck_assert_double_eq_tol(small, 120.0, 1e-9);
    ck_assert_double_eq_tol(sign, 28000.4, 1e-9);
    ck_assert_double_eq_tol(verify, 75000.3, 1e-9);
    ck_assert_double_eq_tol(lookup, 101.2, 1e-9);
    ck_assert_int_eq(sim_calib_crypto_costs(&back, NULL, NULL, NULL, NULL, NULL, &d), 0);
    /* read back and written again: the same text (what --only crypto relies on) */
    cJSON *a = sim_calib_to_json(&c), *b = sim_calib_to_json(&back);
    cJSON_DeleteItemFromObject(a, "spread");
    cJSON_DeleteItemFromObject(b, "spread");
    ck_assert(cJSON_Compare(calib_get(a, "crypto"), calib_get(b, "crypto"), 1));
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

static void del_crypto(cJSON *r)
{
    cJSON_DeleteItemFromObject(r, "crypto");
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(r, "spread"), "crypto");
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(r, "notes"), "crypto");
}

START_TEST(test_calib_file_without_crypto_loads_as_not_measured)
{
    struct sim_calib back;
    struct vm_diag d = { 0 };
    char path[512];
    calib_path_in(path, sizeof path, "old.json");
    calib_write_costs("old.json", del_crypto);
    ck_assert_msg(sim_calib_load(path, &back, &d) == 0, "%s", d.msg);
    for (int i = 0; i < CALIB_NR_CRYPTO; i++)
        ck_assert_double_eq(calib_crypto_fig(&back.crypto, i)->median, 0);
    ck_assert_str_eq(back.crypto.openssl_version, "");
    ck_assert_double_eq_tol(back.anon_fault_ns.median, 987.7, 1e-9);
    double sign = -1;
    ck_assert_int_eq(sim_calib_crypto_costs(&back, NULL, NULL, &sign, NULL, NULL, &d),
                     VM_ENOENT);
    ck_assert_double_eq(sign, -1);
    ck_assert_ptr_nonnull(strstr(d.msg, "no crypto figures"));
    ck_assert_ptr_nonnull(strstr(d.msg, "vmsim calibrate --only crypto -o FILE"));
    cJSON *root = sim_calib_to_json(&back);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(root, "crypto"));
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(calib_get(root, "spread"), "crypto"));
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(calib_get(root, "notes"), "crypto"));
    cJSON_Delete(root);
}
END_TEST

/* Setting crypto figures in a file's tree adds exactly them: removing them
 * again gives the file's text back, byte for byte; setting them twice
 * replaces them in place. */
START_TEST(test_calib_set_crypto_changes_nothing_else_in_the_file)
{
    struct sim_calib c;
    struct vm_diag d = { 0 };
    calib_known(&c);
    cJSON *root = sim_calib_to_json(&c);
    del_crypto(root);
    char *before = cJSON_Print(root);
    cJSON *tree = cJSON_Parse(before);
    ck_assert_int_eq(sim_calib_json_set_crypto(tree, &c, &d), 0);
    ck_assert_str_eq(calib_get(tree, "crypto")->next->string, "spread");
    c.crypto.sha256_64_ns.median = 130;
    ck_assert_int_eq(sim_calib_json_set_crypto(tree, &c, &d), 0);
    ck_assert_double_eq(calib_get(calib_get(tree, "crypto"), "sha256_64_ns")->valuedouble, 130);
    ck_assert_str_eq(calib_get(tree, "crypto")->next->string, "spread");
    int n = 0;
    for (const cJSON *i = tree->child; i; i = i->next)
        n += strcmp(i->string, "crypto") == 0;
    ck_assert_int_eq(n, 1);
    struct sim_calib back;
    ck_assert_msg(sim_calib_from_json("t.json", tree, &back, &d) == 0, "%s", d.msg);
    ck_assert_double_eq(back.crypto.sha256_64_ns.median, 130);
    struct sim_calib none;
    calib_known(&none);
    memset(&none.crypto, 0, sizeof none.crypto);
    ck_assert_int_eq(sim_calib_json_set_crypto(tree, &none, &d), 0);
    char *after = cJSON_Print(tree);
    ck_assert_str_eq(after, before);
    /* first member, no spread: still works */
    cJSON *bare = cJSON_CreateObject();
    ck_assert_int_eq(sim_calib_json_set_crypto(bare, &c, &d), 0);
    ck_assert_str_eq(bare->child->string, "crypto");
    ck_assert_ptr_nonnull(calib_get(calib_get(bare, "spread"), "crypto"));
    cJSON_Delete(bare);
    cJSON *first = cJSON_Parse("{\"spread\": {}, \"x\": 1}");
    ck_assert_int_eq(sim_calib_json_set_crypto(first, &c, &d), 0);
    ck_assert_str_eq(first->child->string, "crypto");
    ck_assert_str_eq(first->child->next->string, "spread");
    ck_assert_str_eq(first->child->prev->string, "notes");   /* cJSON's tail link */
    cJSON_Delete(first);
    free(before);
    free(after);
    cJSON_Delete(tree);
    cJSON_Delete(root);
}
END_TEST

/* ------------------------------------------------------------ loader errors */

static cJSON *crypto_of(cJSON *r) { return cJSON_GetObjectItem(r, "crypto"); }
static void crypto_zero(cJSON *r) { cJSON_ReplaceItemInObject(crypto_of(r), "ed25519_sign_ns", cJSON_CreateNumber(0)); }
static void crypto_neg(cJSON *r) { cJSON_ReplaceItemInObject(crypto_of(r), "sha256_64_ns", cJSON_CreateNumber(-3)); }
static void crypto_huge(cJSON *r) { cJSON_ReplaceItemInObject(crypto_of(r), "ecdsa_p256_verify_ns", cJSON_CreateNumber(1.5e9)); }
static void crypto_str(cJSON *r) { cJSON_ReplaceItemInObject(crypto_of(r), "sha256_4k_ns", cJSON_CreateString("2us")); }
static void crypto_typo(cJSON *r) { cJSON_AddNumberToObject(crypto_of(r), "ed25519_sgn_ns", 1); }
static void crypto_unknown(cJSON *r) { cJSON_AddNumberToObject(crypto_of(r), "rsa_sign_ns", 1); }
static void crypto_del_fig(cJSON *r) { cJSON_DeleteItemFromObject(crypto_of(r), "policy_lookup_ns"); }
static void crypto_del_version(cJSON *r) { cJSON_DeleteItemFromObject(crypto_of(r), "openssl_version"); }
static void crypto_arr(cJSON *r) { cJSON_ReplaceItemInObject(r, "crypto", cJSON_CreateArray()); }
static void crypto_load_str(cJSON *r) { cJSON_ReplaceItemInObject(crypto_of(r), "loadavg_before", cJSON_CreateString("low")); }
static void crypto_quick_num(cJSON *r) { cJSON_ReplaceItemInObject(crypto_of(r), "quick", cJSON_CreateNumber(1)); }
static void crypto_top_typo(cJSON *r) { cJSON_AddItemToObject(r, "cryptos", cJSON_CreateObject()); }

static void zero_write(cJSON *r) { cJSON_ReplaceItemInObject(r, "small_write_ns", cJSON_CreateNumber(0)); }

static const struct {
    void (*edit)(cJSON *);
    const char *want;                   /* after "FILE: " */
} bad_files[] = {
    { crypto_zero, "$.crypto.ed25519_sign_ns: expected number > 0 and <= 1000000000, got 0" },
    { crypto_neg, "$.crypto.sha256_64_ns: expected number > 0 and <= 1000000000, got -3" },
    { crypto_huge, "$.crypto.ecdsa_p256_verify_ns: expected number > 0 and <= 1000000000, "
                   "got 1500000000" },
    { crypto_str, "$.crypto.sha256_4k_ns: expected number > 0 and <= 1000000000, got \"2us\"" },
    { crypto_typo, "$.crypto: unknown key 'ed25519_sgn_ns' (did you mean 'ed25519_sign_ns'?)" },
    { crypto_unknown, "$.crypto: unknown key 'rsa_sign_ns'" },
    { crypto_del_fig, "$.crypto: missing required key 'policy_lookup_ns'" },
    { crypto_del_version, "$.crypto: missing required key 'openssl_version'" },
    { crypto_arr, "$.crypto: expected object, got array" },
    { crypto_load_str, "$.crypto.loadavg_before: expected number, got \"low\"" },
    { crypto_quick_num, "$.crypto.quick: expected true or false, got 1" },
    { crypto_top_typo, "$: unknown key 'cryptos' (did you mean 'crypto'?)" },
};

START_TEST(test_calib_bad_crypto_is_refused_at_its_json_path)
{
    struct sim_calib c;
    struct vm_diag d = { 0 };
    char path[512], want[1200];
    calib_path_in(path, sizeof path, "bad.json");
    calib_write_costs("bad.json", bad_files[_i].edit);
    ck_assert_int_eq(sim_calib_load(path, &c, &d), VM_EINVAL);
    snprintf(want, sizeof want, "%s: %s", path, bad_files[_i].want);
    ck_assert_str_eq(d.msg, want);
    ck_assert_double_eq(c.crypto.sha256_64_ns.median, 0);
}
END_TEST

/* ------------------------------------------------------------ measuring */

START_TEST(test_calib_crypto_measures_plausible_figures)
{
    struct sim_calib_crypto k = { .quick = true };
    struct vm_diag d = { 0 };
    ck_assert_msg(sim_calib_crypto(16, &k, &d) == 0, "%s", d.msg);
    for (int i = 0; i < CALIB_NR_CRYPTO; i++) {
        const struct sim_calib_fig *f = calib_crypto_fig(&k, i);
        calib_assert_fig(calib_crypto_keys[i], f);
        ck_assert_uint_eq(f->samples, 16);
        ck_assert_msg(f->median < 1e9, "%s: %g ns", calib_crypto_keys[i], f->median);
    }
    ck_assert(k.quick);
    ck_assert_ptr_nonnull(strstr(k.openssl_version, "OpenSSL"));
    ck_assert_uint_eq(strlen(k.date), 20);
    /* no wall-clock limits, only what cannot be otherwise: 64x the bytes
     * take longer, and public-key operations are dearer than a small hash */
    ck_assert(k.sha256_4k_ns.median > k.sha256_64_ns.median);
    ck_assert(k.ed25519_sign_ns.median > k.sha256_64_ns.median);
    ck_assert(k.ecdsa_p256_verify_ns.median > k.sha256_64_ns.median);
    ck_assert_int_eq(sim_calib_crypto(0, &k, &d), VM_EINVAL);
    ck_assert_double_eq(k.sha256_64_ns.median, 0);
}
END_TEST

/* ------------------------------------------------------------ command line */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

/* --only crypto -o FILE: refuses a missing or bad FILE before measuring,
 * leaving it as it was; adds the figures to a good one, nothing else. */
START_TEST(test_calib_cli_only_crypto_adds_to_an_existing_file)
{
    char path[512], missing[512];
    calib_path_in(missing, sizeof missing, "none.json");
    char *a1[] = { "--only", "crypto", "--quick", "-o", missing };
    ck_assert_int_eq(sim_calib_main(5, a1), SIM_EXIT_BAD_INPUT);
    ck_assert_int_ne(access(missing, F_OK), 0);
    calib_write_costs("bad.json", zero_write);
    calib_path_in(path, sizeof path, "bad.json");
    char *was = slurp(path);
    char *a2[] = { "--only=crypto", "--quick", "-o", path };
    ck_assert_int_eq(sim_calib_main(4, a2), SIM_EXIT_BAD_INPUT);
    char *now = slurp(path);
    ck_assert_str_eq(now, was);
    free(was);
    free(now);
    calib_write_costs("old.json", del_crypto);
    calib_path_in(path, sizeof path, "old.json");
    was = slurp(path);
    char *a3[] = { "--only", "crypto", "--quick", "-o", path };
    ck_assert_int_eq(sim_calib_main(5, a3), SIM_EXIT_OK);
    struct sim_calib back;
    struct vm_diag d = { 0 };
    ck_assert_msg(sim_calib_load(path, &back, &d) == 0, "%s", d.msg);
    for (int i = 0; i < CALIB_NR_CRYPTO; i++)
        ck_assert_msg(calib_crypto_fig(&back.crypto, i)->median > 0, "%s", calib_crypto_keys[i]);
    ck_assert(back.crypto.quick);
    /* the rest as it was: without its crypto keys it prints as before */
    cJSON *tree = cJSON_Parse(now = slurp(path));
    struct sim_calib none = { 0 };
    ck_assert_int_eq(sim_calib_json_set_crypto(tree, &none, &d), 0);
    char *text = cJSON_Print(tree);
    ck_assert_str_eq(text, was);         /* write_costs writes no final newline */
    free(text);
    free(now);
    free(was);
    cJSON_Delete(tree);
}
END_TEST

static Suite *calib_crypto_suite(void)
{
    Suite *s = suite_create("calib_crypto");
    TCase *file = tcase_create("file");
    tcase_add_checked_fixture(file, calib_setup, calib_teardown);
    tcase_set_timeout(file, 0);          /* no wall-clock limits anywhere */
    tcase_add_test(file, test_calib_crypto_is_one_object_before_the_spread_with_its_own_spreads);
    tcase_add_test(file, test_calib_crypto_figures_read_back_what_was_written);
    tcase_add_test(file, test_calib_file_without_crypto_loads_as_not_measured);
    tcase_add_test(file, test_calib_set_crypto_changes_nothing_else_in_the_file);
    tcase_add_loop_test(file, test_calib_bad_crypto_is_refused_at_its_json_path, 0,
                        (int)(sizeof bad_files / sizeof bad_files[0]));
    suite_add_tcase(s, file);

    TCase *meas = tcase_create("measure");
    tcase_add_checked_fixture(meas, calib_setup, calib_teardown);
    tcase_set_timeout(meas, 0);
    tcase_add_test(meas, test_calib_crypto_measures_plausible_figures);
    tcase_add_test(meas, test_calib_cli_only_crypto_adds_to_an_existing_file);
    suite_add_tcase(s, meas);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(calib_crypto_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
