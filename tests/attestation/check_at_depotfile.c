/*
 * check_at_depotfile.c - the depot metadata file (sim_at_depotfile.h)
 * with real keys: a generated depot is deterministic, writes and reads
 * back to the same catalog with a signature that verifies; an edited
 * file is refused until signed again; every kind of bad file is refused
 * with its located line (the e2e script checks the same through vmsim).
 * And the "costs" section's defaults are the shipped calibration's crypto
 * figures.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/sim_at_depotfile.h"
#include "attestation/sim_at_int.h"
#include "sim_calib.h"
#include "sim_json.h"
#include "test_tmpdir.h"

#define HEX64 "0000000000000000000000000000000000000000000000000000000000000000"

static char dir[256];
static struct sim_at_keyset key, other;   /* the depot's keys of seeds 1 and 7 */

static void setup(void)
{
    struct vm_diag d = { 0 };
    test_tmpdir_make(dir, sizeof dir, "check_at_depotfile");
    ck_assert_int_eq(sim_at_keyset_init(&key, 1, &d), 0);
    ck_assert_int_eq(sim_at_keyset_init(&other, 7, &d), 0);
}

static void teardown(void)
{
    sim_at_keyset_free(&key);
    sim_at_keyset_free(&other);
    test_tmpdir_remove(dir);
}

static void path_of(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

/* Parse text as a depot file "f.json" with the depot's keys (or none). */
static int parse(const char *text, const struct sim_at_keyset *pub, struct vm_diag *d)
{
    cJSON *root = NULL;
    int rc = sim_json_parse("f.json", text, &root, d);
    if (rc)
        return rc;
    struct at_catalog c;
    rc = sim_at_depot_parse("f.json", root, pub, &c, d);
    at_catalog_free(&c);
    cJSON_Delete(root);
    return rc;
}

#define SIG "[{\"keyid\": \"" HEX64 "\", \"alg\": \"ed25519\", \"sig\": \"" HEX64 HEX64 "\"}]"
#define ROLE "{\"keyids\": [\"" HEX64 "\"], \"threshold\": 1}"
/* The root and snapshot roles of a hand-written file (dummy keys and
 * signatures: well formed); ROLES replaces the root's roles. */
static const char *roles_of(const char *roles)
{
    static char buf[4096];
    snprintf(buf, sizeof buf,
             "\"root\": {\"signed\": {\"_type\": \"root\", \"version\": 1, \"expires\": "
             "\"365d\", \"roles\": %s}, \"signatures\": " SIG "}, \"snapshot\": {\"signed\": "
             "{\"_type\": \"snapshot\", \"version\": 1, \"expires\": \"30d\", "
             "\"targets_version\": 1, \"targets_sha256\": \"" HEX64 "\"}, \"signatures\": "
             SIG "}",
             roles ? roles : "{\"root\": " ROLE ", \"timestamp\": " ROLE ", \"snapshot\": "
                             ROLE ", \"targets\": " ROLE "}");
    return buf;
}

/* A one-package file with dummy signatures, PKG for the package, ROLES
 * for the root's roles (NULL: well formed). */
static char *doc2(const char *pkg, const char *roles)
{
    static char buf[8192];
    snprintf(buf, sizeof buf,
             "{\"format\": \"vmsim-depot/2\", \"signed\": {\"_type\": \"targets\", "
             "\"version\": 1, \"expires\": \"30d\", \"packages\": [%s]}, \"signatures\": "
             SIG ", %s}", pkg, roles_of(roles));
    return buf;
}

static char *doc(const char *pkg)
{
    return doc2(pkg, NULL);
}

START_TEST(test_depot_generate_is_deterministic_and_esxi_like)
{
    struct at_catalog a, b;
    struct vm_diag d = { 0 };
    ck_assert_int_eq(sim_at_depot_generate(&a, 40, 20, 200, 1, 30 * 86400000000000ull, &d), 0);
    ck_assert_int_eq(sim_at_depot_generate(&b, 40, 20, 200, 1, 30 * 86400000000000ull, &d), 0);
    ck_assert_uint_eq(a.nr_pkgs, 40);
    ck_assert_str_eq(a.pkgs[0].name, "esx-base");
    uint8_t ha[AT_HASH_LEN], hb[AT_HASH_LEN];
    at_targets_hash(&a, ha);
    at_targets_hash(&b, hb);
    ck_assert_mem_eq(ha, hb, AT_HASH_LEN);
    for (uint32_t i = 0; i < a.nr_pkgs; i++)
        ck_assert(a.pkgs[i].nr_files >= 20 && a.pkgs[i].nr_files <= 200);
    at_catalog_free(&b);
    ck_assert_int_eq(sim_at_depot_generate(&b, 40, 20, 200, 2, 30 * 86400000000000ull, &d), 0);
    at_targets_hash(&b, hb);
    ck_assert(memcmp(ha, hb, AT_HASH_LEN) != 0);
    at_catalog_free(&a);
    at_catalog_free(&b);
}
END_TEST

START_TEST(test_depot_write_then_load_gives_the_same_signed_catalog)
{
    struct at_catalog a, b;
    struct vm_diag d = { 0 };
    char f[512];
    path_of(f, sizeof f, "depot.json");
    ck_assert_int_eq(sim_at_depot_generate(&a, 6, 3, 9, 5, 86400000000000ull, &d), 0);
    ck_assert_int_eq(at_catalog_withdraw(&a, a.pkgs[2].name, a.pkgs[2].version), 0);
    ck_assert_int_eq(sim_at_depot_write(f, &a, &key, &d), 0);
    ck_assert_int_eq(test_tmpdir_count(dir), 1);    /* no temporary file left */
    ck_assert_int_eq(sim_at_depot_load(f, &key, &b, &d), 0);
    uint8_t ha[AT_HASH_LEN], hb[AT_HASH_LEN];
    at_targets_hash(&a, ha);
    at_targets_hash(&b, hb);
    ck_assert_mem_eq(ha, hb, AT_HASH_LEN);
    ck_assert(b.pkgs[2].withdrawn);
    ck_assert_uint_eq(b.expires_ns, 86400000000000ull);
    at_catalog_free(&b);
    /* the same file is another key's: refused as an unknown key */
    d = (struct vm_diag){ 0 };
    ck_assert_int_eq(sim_at_depot_load(f, &other, &b, &d), VM_EINVAL);
    ck_assert_ptr_nonnull(strstr(d.msg, "$.signatures[0].keyid: unknown key"));
    at_catalog_free(&b);
    /* the snapshot of other targets (mix-and-match in the file) */
    cJSON *root = NULL;
    ck_assert_int_eq(sim_json_load(f, &root, &d), 0);
    cJSON *sn = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "snapshot"), "signed");
    cJSON_ReplaceItemInObject(sn, "targets_sha256", cJSON_CreateString(HEX64));
    d = (struct vm_diag){ 0 };
    ck_assert_int_eq(sim_at_depot_parse(f, root, &key, &b, &d), VM_EINVAL);
    ck_assert_ptr_nonnull(strstr(d.msg, "$.snapshot.signed.targets_sha256: not the hash"));
    cJSON_Delete(root);
    at_catalog_free(&b);
    at_catalog_free(&a);
}
END_TEST

START_TEST(test_depot_edited_file_refused_until_signed_again)
{
    struct at_catalog a, b;
    struct vm_diag d = { 0 };
    char f[512];
    path_of(f, sizeof f, "depot.json");
    ck_assert_int_eq(sim_at_depot_generate(&a, 3, 2, 2, 1, 86400000000000ull, &d), 0);
    ck_assert_int_eq(sim_at_depot_write(f, &a, &key, &d), 0);
    /* a tampered file hash: the signature no longer verifies */
    cJSON *root = NULL;
    ck_assert_int_eq(sim_json_load(f, &root, &d), 0);
    cJSON *file0 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "signed"), "packages"), 1), "files"), 0);
    cJSON_ReplaceItemInObject(file0, "sha256", cJSON_CreateString(HEX64));
    d = (struct vm_diag){ 0 };
    ck_assert_int_eq(sim_at_depot_parse(f, root, &key, &b, &d), VM_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(d.msg, "$.signatures[0].sig: bad signature"));
    at_catalog_free(&b);
    /* without a key (vmsim-depot sign) it parses, and signed again it loads */
    ck_assert_int_eq(sim_at_depot_parse(f, root, NULL, &b, &d), 0);
    ck_assert_int_eq(sim_at_depot_write(f, &b, &key, &d), 0);
    at_catalog_free(&b);
    ck_assert_int_eq(sim_at_depot_load(f, &key, &b, &d), 0);
    ck_assert_mem_eq(b.pkgs[1].files[0].sha256, (uint8_t[AT_HASH_LEN]){ 0 }, AT_HASH_LEN);
    at_catalog_free(&b);
    at_catalog_free(&a);
    cJSON_Delete(root);
}
END_TEST

static const struct { const char *pkg, *want; int rc; } bad[] = {
    { "{\"name\": \"a\", \"version\": \"1\", \"vendr\": \"V\", \"files\": []}",
      "f.json: $.signed.packages[0]: unknown key 'vendr' (did you mean 'vendor'?)", VM_EINVAL },
    { "{\"name\": \"a\", \"version\": \"1\", \"files\": []}",
      "f.json: $.signed.packages[0]: missing key 'vendor'", VM_EINVAL },
    { "{\"name\": 7, \"version\": \"1\", \"vendor\": \"V\", \"files\": []}",
      "f.json: $.signed.packages[0].name: expected string, got 7", VM_EINVAL },
    { "{\"name\": \"a\", \"version\": \"1\", \"vendor\": \"V\", \"files\": [{\"path\": \"x\", "
      "\"sha256\": \"" HEX64 "\"}]}, {\"name\": \"a\", \"version\": \"1\", \"vendor\": \"W\", "
      "\"files\": [{\"path\": \"x\", \"sha256\": \"" HEX64 "\"}]}",
      "f.json: $.signed.packages[1]: duplicate package 'a' version '1' (packages[0] has it)",
      VM_EINVAL },
    { "{\"name\": \"a\", \"version\": \"1\", \"vendor\": \"V\", \"files\": [{\"path\": \"x\", "
      "\"sha256\": \"00g0\"}]}",
      "f.json: $.signed.packages[0].files[0].sha256: expected 64 hex digits, got \"00g0\"",
      VM_EINVAL },
    { "{\"name\": \"a\", \"version\": \"1\", \"vendor\": \"V\", \"withdrawn\": 1, \"files\": "
      "[{\"path\": \"x\", \"sha256\": \"" HEX64 "\"}]}",
      "f.json: $.signed.packages[0].withdrawn: expected boolean, got 1", VM_EINVAL },
    { "{\"name\": \"a\", \"version\": \"1\", \"vendor\": \"V\", \"files\": {}}",
      "f.json: $.signed.packages[0].files: expected an array of files, got object", VM_EINVAL },
};

START_TEST(test_depot_bad_file_refused_with_its_location)
{
    struct vm_diag d = { 0 };
    ck_assert_int_eq(parse(doc(bad[_i].pkg), NULL, &d), bad[_i].rc);
    ck_assert_str_eq(d.msg, bad[_i].want);
}
END_TEST

#define PKG "{\"name\": \"a\", \"version\": \"1\", \"vendor\": \"V\", \"files\": [{\"path\": " \
            "\"x\", \"sha256\": \"" HEX64 "\"}]}"
#define K1 "\"" HEX64 "\""
#define K2 "\"1111111111111111111111111111111111111111111111111111111111111111\""
static const struct { const char *roles, *want; } bad_roles[] = {
    { "{\"root\": " ROLE ", \"timestamp\": " ROLE ", \"targets\": " ROLE "}",
      "f.json: $.root.signed.roles: missing key 'snapshot'" },
    { "{\"root\": " ROLE ", \"timestamp\": " ROLE ", \"snapshot\": " ROLE ", \"targets\": "
      ROLE ", \"mirror\": " ROLE "}",
      "f.json: $.root.signed.roles: unknown key 'mirror'" },
    { "{\"root\": {\"keyids\": [" K1 "], \"threshold\": 0}, \"timestamp\": " ROLE ", "
      "\"snapshot\": " ROLE ", \"targets\": " ROLE "}",
      "f.json: $.root.signed.roles.root.threshold: expected an integer from 1 to 1 (the role's "
      "keyids), got 0" },
    { "{\"root\": " ROLE ", \"timestamp\": " ROLE ", \"snapshot\": " ROLE ", \"targets\": "
      "{\"keyids\": [" K1 ", " K2 "], \"threshold\": 3}}",
      "f.json: $.root.signed.roles.targets.threshold: expected an integer from 1 to 2 (the "
      "role's keyids), got 3" },
    { "{\"root\": " ROLE ", \"timestamp\": {\"keyids\": [" K2 ", " K2 "], \"threshold\": 1}, "
      "\"snapshot\": " ROLE ", \"targets\": " ROLE "}",
      "f.json: $.root.signed.roles.timestamp.keyids[1]: duplicate key id (keyids[0] has it)" },
    { "{\"root\": " ROLE ", \"timestamp\": " ROLE ", \"snapshot\": {\"keyids\": \"" HEX64
      "\", \"threshold\": 1}, \"targets\": " ROLE "}",
      "f.json: $.root.signed.roles.snapshot.keyids: expected an array of 1 to 4 key ids, got "
      "\"0000000000000000000000000000000000000...\"" },
};

START_TEST(test_depot_bad_roles_refused_with_their_location)
{
    struct vm_diag d = { 0 };
    ck_assert_int_eq(parse(doc2(PKG, bad_roles[_i].roles), NULL, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, bad_roles[_i].want);
}
END_TEST

START_TEST(test_depot_unknown_algorithm_and_truncation_refused)
{
    struct vm_diag d = { 0 };
    char *t = doc("{\"name\": \"a\", \"version\": \"1\", \"vendor\": \"V\", \"files\": "
                  "[{\"path\": \"x\", \"sha256\": \"" HEX64 "\"}]}");
    char *alg = strstr(t, "ed25519");
    memcpy(alg, "ed448xx", 7);
    ck_assert_int_eq(parse(t, &key, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "f.json: $.signatures[0].alg: unknown algorithm \"ed448xx\" "
                            "(known: ed25519)");
    t[40] = '\0';
    d = (struct vm_diag){ 0 };
    ck_assert_int_eq(parse(t, &key, &d), VM_EPARSE);
    ck_assert_str_eq(d.msg, "f.json:1:40: malformed JSON: unterminated string");
}
END_TEST

START_TEST(test_depot_expires_takes_days_and_config_times)
{
    uint64_t ns;
    ck_assert_int_eq(sim_at_depot_parse_expires("30d", &ns), 0);
    ck_assert_uint_eq(ns, 30 * 86400000000000ull);
    ck_assert_int_eq(sim_at_depot_parse_expires("90min", &ns), 0);
    ck_assert_uint_eq(ns, 5400000000000ull);
    ck_assert_int_eq(sim_at_depot_parse_expires("d", &ns), VM_EINVAL);
    ck_assert_int_eq(sim_at_depot_parse_expires("1.5d", &ns), VM_EINVAL);
    ck_assert_int_eq(sim_at_depot_parse_expires("-1d", &ns), VM_EINVAL);
}
END_TEST

/* The cost keys' defaults are the shipped calibration's crypto figures. */
START_TEST(test_at_cost_defaults_are_the_shipped_calibration)
{
    char path[1024];
    struct sim_calib c;
    struct vm_diag d = { 0 };
    snprintf(path, sizeof path, "%s/workloads/costs/calibration.json", VMSIM_SRCDIR);
    ck_assert_msg(sim_calib_load(path, &c, &d) == 0, "%s", d.msg);
    struct at_costs want;
    ck_assert_int_eq(sim_calib_crypto_costs(&c, &want.sha256_ns_per_byte, &want.sha256_small_ns,
                                            &want.sign_ns, &want.verify_ns, &want.lookup_ns, &d), 0);
    struct sim_at_costs got = { 0 };
    sim_cfg_apply_defaults(sim_at_cost_keys, &got);
    ck_assert_double_eq_tol(got.ns.sha256_ns_per_byte, want.sha256_ns_per_byte, 1e-9);
    ck_assert_double_eq(got.ns.sha256_small_ns, want.sha256_small_ns);
    ck_assert_double_eq(got.ns.sign_ns, want.sign_ns);
    ck_assert_double_eq(got.ns.verify_ns, want.verify_ns);
    ck_assert_double_eq(got.ns.lookup_ns, want.lookup_ns);
    ck_assert_int_eq(sim_calib_crypto_ecdsa_costs(&c, &want.ecdsa_sign_ns, &want.ecdsa_verify_ns,
                                                  &d), 0);
    ck_assert_double_eq(got.ns.ecdsa_sign_ns, want.ecdsa_sign_ns);
    ck_assert_double_eq(got.ns.ecdsa_verify_ns, want.ecdsa_verify_ns);
}
END_TEST

/* The signed root of a file written with `key`, its root role edited to
 * [depot root, other's root] (threshold 1) or its targets role to [depot
 * targets, a dummy] (threshold 2), re-signed by the keys given. */
static int edited_root(const char *f, bool self_signed, struct vm_diag *d)
{
    cJSON *root = NULL;
    ck_assert_int_eq(sim_json_load(f, &root, d), 0);
    cJSON *rs = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "root"), "signed");
    cJSON *roles = cJSON_GetObjectItem(rs, "roles");
    struct at_root r;
    memset(&r, 0, sizeof r);
    r.version = 1;
    r.expires_ns = 365 * 86400000000000ull;
    for (int i = 0; i < AT_NR_ROLES; i++) {
        r.roles[i].nr_keys = 1;
        r.roles[i].threshold = 1;
        memcpy(r.roles[i].keyids[0], key.k[i].pub, AT_PUB_LEN);
    }
    char hex[2 * AT_SIG_LEN + 1];
    enum at_role edit = self_signed ? AT_ROLE_ROOT : AT_ROLE_TARGETS;
    const uint8_t *extra = self_signed ? other.k[AT_ROLE_ROOT].pub
                                       : (const uint8_t[AT_PUB_LEN]){ 1 };
    memcpy(r.roles[edit].keyids[1], extra, AT_PUB_LEN);
    r.roles[edit].nr_keys = 2;
    r.roles[edit].threshold = self_signed ? 1 : 2;
    cJSON *ro = cJSON_GetObjectItem(roles, at_role_name(edit));
    at_hex_encode(extra, AT_PUB_LEN, hex);
    cJSON_AddItemToArray(cJSON_GetObjectItem(ro, "keyids"), cJSON_CreateString(hex));
    cJSON_ReplaceItemInObject(ro, "threshold", cJSON_CreateNumber(r.roles[edit].threshold));
    struct at_root_sigs sigs;
    memset(&sigs, 0, sizeof sigs);
    /* the attacker signs alone; the targets edit keeps the depot's key */
    ck_assert_int_eq(at_root_sign(&r, self_signed ? &other.k[AT_ROLE_ROOT]
                                                  : &key.k[AT_ROLE_ROOT], &sigs), 0);
    cJSON *sig = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "root"),
                                                        "signatures"), 0);
    at_hex_encode(sigs.sig[0].keyid, AT_PUB_LEN, hex);
    cJSON_ReplaceItemInObject(sig, "keyid", cJSON_CreateString(hex));
    at_hex_encode(sigs.sig[0].sig, AT_SIG_LEN, hex);
    cJSON_ReplaceItemInObject(sig, "sig", cJSON_CreateString(hex));
    struct at_catalog b;
    int rc = sim_at_depot_parse(f, root, &key, &b, d);
    at_catalog_free(&b);
    cJSON_Delete(root);
    return rc;
}

/* TUF 5.2: the file's root must be signed by the trust anchor (the root
 * key of depot.key_seed), not only by some key it lists itself; and the
 * single-signature roles take no threshold above 1. */
START_TEST(test_depot_root_needs_the_anchor_and_unit_thresholds)
{
    struct at_catalog a;
    struct vm_diag d = { 0 };
    char f[512];
    path_of(f, sizeof f, "depot.json");
    ck_assert_int_eq(sim_at_depot_generate(&a, 3, 2, 2, 1, 86400000000000ull, &d), 0);
    ck_assert_int_eq(sim_at_depot_write(f, &a, &key, &d), 0);
    d = (struct vm_diag){ 0 };
    ck_assert_int_eq(edited_root(f, true, &d), VM_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(d.msg, "depot.json: $.root.signatures: not signed by the "
                                        "depot's root key ("));
    d = (struct vm_diag){ 0 };
    ck_assert_int_eq(edited_root(f, false, &d), VM_EINVAL);
    ck_assert_ptr_nonnull(strstr(d.msg, "depot.json: $.root.signed.roles.targets.threshold: "
                                        "expected 1 (the targets role's documents carry one "
                                        "signature; thresholds above 1 are not modelled), "
                                        "got 2"));
    at_catalog_free(&a);
}
END_TEST

static Suite *depotfile_suite(void)
{
    Suite *s = suite_create("at_depotfile");
    TCase *t = tcase_create("file");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, test_depot_generate_is_deterministic_and_esxi_like);
    tcase_add_test(t, test_depot_write_then_load_gives_the_same_signed_catalog);
    tcase_add_test(t, test_depot_edited_file_refused_until_signed_again);
    tcase_add_test(t, test_depot_root_needs_the_anchor_and_unit_thresholds);
    tcase_add_loop_test(t, test_depot_bad_file_refused_with_its_location, 0,
                        (int)(sizeof bad / sizeof bad[0]));
    tcase_add_loop_test(t, test_depot_bad_roles_refused_with_their_location, 0,
                        sizeof bad_roles / sizeof bad_roles[0]);
    tcase_add_test(t, test_depot_unknown_algorithm_and_truncation_refused);
    tcase_add_test(t, test_depot_expires_takes_days_and_config_times);
    suite_add_tcase(s, t);
    t = tcase_create("costs");
    tcase_add_test(t, test_at_cost_defaults_are_the_shipped_calibration);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(depotfile_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
