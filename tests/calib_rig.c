/*
 * calib_rig.c - what the costs-file suites share (calib_rig.h).
 */
#include <check.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "calib_rig.h"

char calib_dir[256];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

void calib_setup(void)
{
    snprintf(calib_dir, sizeof calib_dir, "%s/vmsim-calib.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(calib_dir));
}

void calib_teardown(void)
{
    nftw(calib_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void calib_path_in(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", calib_dir, name);
}

/* A calibration with known figures: levels 1 and 3, every class. */
void calib_known(struct sim_calib *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->cpu_model, sizeof c->cpu_model, "Test CPU @ 1.00GHz");
    c->cores = 4;
    snprintf(c->kernel, sizeof c->kernel, "Linux 6.1.0 #1 SMP x86_64");
    snprintf(c->date, sizeof c->date, "2026-01-02T03:04:05Z");
    snprintf(c->vmsim_version, sizeof c->vmsim_version, "0.1.0");
    snprintf(c->zstd_version, sizeof c->zstd_version, "1.5.4");
    c->buffer_bytes = 1ull << 30;
    c->llc_bytes = 32ull << 20;
    c->loadavg[0] = 0.5;
    c->loadavg[1] = 0.75;
    c->batch_pages = 64;
    snprintf(c->wp_method, sizeof c->wp_method, SIM_CALIB_METHOD_UFFD);
    c->page_copy_ns = (struct sim_calib_fig){ 412.34, 400, 450, 100 };
    c->page_install_ns = (struct sim_calib_fig){ 380.06, 370, 400, 100 };
    c->zero_scan_ns = (struct sim_calib_fig){ 199.96, 190, 210, 100 };
    c->wp_fault_ns = (struct sim_calib_fig){ 3456.78, 3000, 5000, 1000 };
    snprintf(c->unprotect_method, sizeof c->unprotect_method, SIM_CALIB_METHOD_UFFD);
    snprintf(c->zero_method, sizeof c->zero_method, SIM_CALIB_ZERO_AVX2);
    snprintf(c->small_write_fs, sizeof c->small_write_fs, "ext4");
    c->wp_unprotect_ns = (struct sim_calib_fig){ 1234.56, 1100, 1500, 64 };
    c->small_write_ns = (struct sim_calib_fig){ 2345.64, 2200, 2600, 100 };
    snprintf(c->anon_method, sizeof c->anon_method, SIM_CALIB_ANON_METHOD);
    c->anon_fault_ns = (struct sim_calib_fig){ 987.66, 900, 1200, 100 };
    struct sim_calib_crypto *cr = &c->crypto;
    snprintf(cr->openssl_version, sizeof cr->openssl_version, "OpenSSL 3.0.19 27 Jan 2026");
    snprintf(cr->date, sizeof cr->date, "2026-01-02T04:05:06Z");
    cr->loadavg[0] = 1.25;
    cr->loadavg[1] = 1.5;
    cr->sha256_64_ns = (struct sim_calib_fig){ 120.04, 119, 125, 1024 };
    cr->sha256_4k_ns = (struct sim_calib_fig){ 2400.06, 2390, 2500, 1024 };
    cr->ed25519_sign_ns = (struct sim_calib_fig){ 28000.44, 27900, 29000, 1024 };
    cr->ed25519_verify_ns = (struct sim_calib_fig){ 75000.26, 74000, 80000, 1024 };
    cr->ecdsa_p256_sign_ns = (struct sim_calib_fig){ 20000.5, 19900, 21000, 1024 };
    cr->ecdsa_p256_verify_ns = (struct sim_calib_fig){ 50000.7, 49000, 52000, 1024 };
    cr->policy_lookup_ns = (struct sim_calib_fig){ 101.23, 80, 200, 1024 };
    c->nr_levels = 2;
    c->levels[0] = 1;
    c->levels[1] = 3;
    for (int l = 0; l < 2; l++)
        for (int k = 0; k < SIM_CALIB_NR_RATES; k++) {
            double base = (l ? 0.5 : 1) * 1e8 * (k + 1);
            c->compress_bps[l][k] = (struct sim_calib_fig){ base + 0.4, base, base, 9 };
            c->decompress_bps[l][k] = (struct sim_calib_fig){ 4 * base + 0.6, base, base, 9 };
        }
}

void calib_write_costs(const char *name, void (*edit)(cJSON *root))
{
    struct sim_calib c;
    calib_known(&c);
    cJSON *root = sim_calib_to_json(&c);
    ck_assert_ptr_nonnull(root);
    if (edit)
        edit(root);
    char *text = cJSON_Print(root);
    char path[512];
    calib_path_in(path, sizeof path, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    free(text);
    cJSON_Delete(root);
}

const cJSON *calib_get(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(v != NULL, "missing key '%s'", key);
    return v;
}

void calib_assert_fig(const char *name, const struct sim_calib_fig *f)
{
    ck_assert_msg(isfinite(f->median) && f->median > 0, "%s median %g", name, f->median);
    ck_assert_msg(f->p10 <= f->median && f->median <= f->p90, "%s spread %g..%g", name, f->p10,
                  f->p90);
    ck_assert_msg(f->samples > 0, "%s: no samples", name);
}

const char *const calib_crypto_keys[CALIB_NR_CRYPTO] = {
    "sha256_64_ns", "sha256_4k_ns", "ed25519_sign_ns", "ed25519_verify_ns",
    "ecdsa_p256_sign_ns", "ecdsa_p256_verify_ns", "policy_lookup_ns",
};

const struct sim_calib_fig *calib_crypto_fig(const struct sim_calib_crypto *k, int i)
{
    const struct sim_calib_fig *f[CALIB_NR_CRYPTO] = {
        &k->sha256_64_ns, &k->sha256_4k_ns, &k->ed25519_sign_ns, &k->ed25519_verify_ns,
        &k->ecdsa_p256_sign_ns, &k->ecdsa_p256_verify_ns, &k->policy_lookup_ns,
    };
    return f[i];
}
