/*
 * sim_calib_cli.c - `vmsim calibrate [-o FILE] [--quick] [--only crypto]`:
 * measure this machine's CPU costs (sim_calib.h), print them as a table
 * and, with -o, write them as a costs file that experiments take
 * ("costs": "FILE").  --only crypto measures the crypto figures alone and
 * adds them to an existing costs file: the file is read as a tree and
 * checked, the "crypto" keys set in it, and the tree printed back, so
 * every other figure stays byte for byte (sim_calib_json_set_crypto).
 *
 * With -o the existing file (--only) is checked and the temporary file
 * created before anything is measured, so a file or directory that cannot
 * be used fails at once (exit 2), and an interrupted run leaves nothing
 * behind (sim_tempfile.h).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/vm_units.h"
#include "sim_calib.h"
#include "sim_cli.h"
#include "sim_json.h"

static const char calib_usage[] =
    "usage: vmsim calibrate [-o FILE] [--quick] [--only crypto]\n"
    "\n"
    "Measure this machine's CPU costs: 4 KiB page copies out of and into a buffer far\n"
    "larger than the caches, zero-page scans, zstd compression and decompression of\n"
    "the content samples (levels 1 and 3), a write-protect fault round trip\n"
    "(userfaultfd-wp where the kernel allows it, else mprotect + SIGSEGV), the removal\n"
    "of one page's write protection, a 4 KiB write() into the page cache (a file\n"
    "in $TMPDIR, or /tmp) and an anonymous page fault; with OpenSSL's libcrypto:\n"
    "SHA-256 of 64 bytes and of 4 KiB, Ed25519 and ECDSA P-256 signatures and\n"
    "verifications, and one probe of a 100,000-entry index keyed by digests.\n"
    "Prints a table; takes about 10 s.\n"
    "\n"
    "  -o FILE        also write the figures and their provenance (CPU, cores, kernel,\n"
    "                 date, method) as a costs file, which an experiment takes\n"
    "                 with \"costs\": \"FILE\"\n"
    "  --quick        a smoke test: a small buffer and few repetitions (not figures\n"
    "                 to use)\n"
    "  --only crypto  measure the crypto figures alone (about a second); with -o FILE,\n"
    "                 add them to the existing costs file FILE, replacing its crypto\n"
    "                 figures if it has them and leaving the rest of it as it was\n";

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
    va_list ap;
    fputs("vmsim: calibrate: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return SIM_EXIT_BAD_INPUT;
}

/* "312.4 ns", "4.21 us", "1.2 ms" */
static void fmt_ns(double ns, char *buf, size_t len)
{
    if (ns < 1e3)
        snprintf(buf, len, "%.1f ns", ns);
    else if (ns < 1e6)
        snprintf(buf, len, "%.2f us", ns / 1e3);
    else
        snprintf(buf, len, "%.2f ms", ns / 1e6);
}

static void print_fig(FILE *f, const char *name, const struct sim_calib_fig *g, const char *per)
{
    char m[32], lo[32], hi[32];
    fmt_ns(g->median, m, sizeof m);
    if (!g->samples) {
        fprintf(f, "  %-20s %12s\n", name, m);
        return;
    }
    fmt_ns(g->p10, lo, sizeof lo);
    fmt_ns(g->p90, hi, sizeof hi);
    fprintf(f, "  %-20s %12s   %12s .. %-12s %6u x %s\n", name, m, lo, hi, g->samples, per);
}

void sim_calib_print(FILE *f, const struct sim_calib *c)
{
    char sz[32], per[32];
    vm_units_fmt_size(c->buffer_bytes, sz, sizeof sz);
    fprintf(f, "vmsim calibrate: %s, %d core%s, %s\n", c->cpu_model, c->cores,
            c->cores == 1 ? "" : "s", c->kernel);
    fprintf(f, "  %s, vmsim %s, zstd %s%s\n", c->date, c->vmsim_version, c->zstd_version,
            c->quick ? "  (--quick: a smoke test, not figures to use)" : "");
    if (c->buffer_bytes)
        fprintf(f, "  page figures: a %s buffer, pages in random order; load average %.2f "
                "before, %.2f after\n", sz, c->loadavg[0], c->loadavg[1]);
    fprintf(f, "  write-protect faults: %s%s%s\n", c->wp_method, c->wp_note[0] ? " - " : "",
            c->wp_note);
    fprintf(f, "  write-protect removal: %s%s%s\n", c->unprotect_method,
            c->unprotect_note[0] ? " - " : "", c->unprotect_note);
    fprintf(f, "  zero test: %s; small writes: %s\n", c->zero_method[0] ? c->zero_method : "?",
            c->small_write_fs[0] ? c->small_write_fs : "?");
    if (c->anon_method[0])
        fprintf(f, "  anonymous faults: %s (first write to each page of a fresh mapping, "
                "minus the loop over faulted pages)\n", c->anon_method);
    fprintf(f, "\n  %-20s %12s   %28s   %s\n", "figure", "median", "p10 .. p90", "samples");
    snprintf(per, sizeof per, "%u pages", c->batch_pages);
    print_fig(f, "page_copy_ns", &c->page_copy_ns, per);
    print_fig(f, "page_install_ns", &c->page_install_ns, per);
    print_fig(f, "zero_scan_ns", &c->zero_scan_ns, per);
    print_fig(f, "wp_fault_ns", &c->wp_fault_ns, "1 fault");
    snprintf(per, sizeof per, "%d pages", SIM_CALIB_UNPROTECT_BATCH);
    print_fig(f, "wp_unprotect_ns", &c->wp_unprotect_ns, per);
    snprintf(per, sizeof per, "%u writes", c->batch_pages);
    print_fig(f, "small_write_ns", &c->small_write_ns, per);
    snprintf(per, sizeof per, "%u pages", c->batch_pages);
    if (c->anon_fault_ns.median > 0)
        print_fig(f, "anon_fault_ns", &c->anon_fault_ns, per);
    else
        fprintf(f, "  %-20s %12s\n", "anon_fault_ns", "not measured");
    fprintf(f, "\n  zstd, MB/s (compress: input bytes, decompress: output bytes; 16-page "
               "frames, %u repetitions)\n", c->compress_bps[0][0].samples);
    fprintf(f, "  %-5s %-10s", "level", "");
    for (int k = 0; k < SIM_CALIB_NR_RATES; k++)
        fprintf(f, " %9s", sim_calib_rate_names[k]);
    fprintf(f, "\n");
    for (int l = 0; l < c->nr_levels; l++)
        for (int op = 0; op < 2; op++) {
            const struct sim_calib_fig *r = op ? c->decompress_bps[l] : c->compress_bps[l];
            fprintf(f, "  %-5d %-10s", c->levels[l], op ? "decompress" : "compress");
            for (int k = 0; k < SIM_CALIB_NR_RATES; k++)
                fprintf(f, " %9.1f", r[k].median / 1e6);
            fprintf(f, "\n");
        }
    fprintf(f, "  mix: %.2f zero, %.2f text, %.2f code, %.2f random pages\n", sim_calib_mix[0],
            sim_calib_mix[1], sim_calib_mix[2], sim_calib_mix[3]);
    fprintf(f, "\n");
    sim_calib_print_crypto(f, &c->crypto);
}

void sim_calib_print_crypto(FILE *f, const struct sim_calib_crypto *c)
{
    fprintf(f, "  crypto: %s%s\n", c->openssl_version[0] ? c->openssl_version : "not measured",
            c->quick ? "  (--quick: a smoke test, not figures to use)" : "");
    if (!(c->sha256_64_ns.median > 0))
        return;
    if (c->date[0])
        fprintf(f, "  measured %s; load average %.2f before, %.2f after\n", c->date,
                c->loadavg[0], c->loadavg[1]);
    print_fig(f, "sha256_64_ns", &c->sha256_64_ns, "64 hashes");
    print_fig(f, "sha256_4k_ns", &c->sha256_4k_ns, "16 hashes");
    print_fig(f, "ed25519_sign_ns", &c->ed25519_sign_ns, "1 signature");
    print_fig(f, "ed25519_verify_ns", &c->ed25519_verify_ns, "1 verification");
    print_fig(f, "ecdsa_p256_sign_ns", &c->ecdsa_p256_sign_ns, "1 signature");
    print_fig(f, "ecdsa_p256_verify_ns", &c->ecdsa_p256_verify_ns, "1 verification");
    print_fig(f, "policy_lookup_ns", &c->policy_lookup_ns, "64 probes");
}

/* --only crypto: check FILE (when given), measure, add the figures to it. */
static int only_crypto(const char *out, bool quick)
{
    static struct sim_calib c;
    struct sim_calib_out o = { .fd = -1 };
    struct vm_diag d = { 0 };
    cJSON *root = NULL;
    if (out) {
        int rc = sim_json_load(out, &root, &d);
        if (rc == VM_ENOENT)
            return bad("%s: no such costs file: --only crypto adds figures to an existing "
                       "one (write it with vmsim calibrate -o %s)", out, out);
        if (rc == 0)
            rc = sim_calib_from_json(out, root, &c, &d);
        if (rc == 0)
            rc = sim_calib_out_open(out, &o, &d);
        if (rc) {
            cJSON_Delete(root);
            return bad("%s", d.msg);
        }
    }
    c.crypto.quick = quick;
    int rc = sim_calib_crypto(quick ? 64 : SIM_CALIB_DEF_SAMPLES, &c.crypto, &d);
    if (rc == 0) {
        printf("vmsim calibrate --only crypto\n");
        sim_calib_print_crypto(stdout, &c.crypto);
    }
    if (rc == 0 && out && (rc = sim_calib_json_set_crypto(root, &c, &d)) == 0 &&
        (rc = sim_calib_out_commit_json(&o, root, &d)) == 0)
        printf("wrote %s (its crypto figures; the rest as it was)\n", out);
    else if (rc && out)
        sim_calib_out_abort(&o);
    cJSON_Delete(root);
    if (rc) {
        fprintf(stderr, "vmsim: calibrate: %s\n", d.msg);
        return SIM_EXIT_FAIL;
    }
    return SIM_EXIT_OK;
}

int sim_calib_main(int argc, char **argv)
{
    const char *out = NULL, *only = NULL;
    bool quick = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(calib_usage, stdout);
            return SIM_EXIT_OK;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0])
                return bad("%s: expected a file, got nothing", a);
            out = argv[++i];
        } else if (strncmp(a, "-o", 2) == 0 && a[2]) {
            out = a + 2;
        } else if (strncmp(a, "--output=", 9) == 0) {
            if (!a[9])
                return bad("--output: expected a file, got nothing");
            out = a + 9;
        } else if (strcmp(a, "--quick") == 0) {
            quick = true;
        } else if (strcmp(a, "--only") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0])
                return bad("--only: expected 'crypto', got nothing");
            only = argv[++i];
        } else if (strncmp(a, "--only=", 7) == 0) {
            only = a + 7;
        } else if (a[0] == '-') {
            return bad("unknown option '%s' (see vmsim calibrate --help)", a);
        } else {
            return bad("unexpected argument '%s' (the file goes after -o)", a);
        }
    }
    if (only && strcmp(only, "crypto") != 0)
        return bad("--only: expected 'crypto' (the figures it can measure alone), got '%s'",
                   only);
    if (only)
        return only_crypto(out, quick);
    struct sim_calib_out o = { .fd = -1 };
    struct vm_diag d = { 0 };
    if (out && sim_calib_out_open(out, &o, &d) != 0)
        return bad("%s", d.msg);
    struct sim_calib_opts opts = { .quick = quick, .progress = isatty(STDERR_FILENO) != 0 };
    if (quick) {
        opts.buffer_bytes = 64ull << 20;
        opts.max_samples = 64;
        opts.zstd_reps = 5;
        opts.nr_faults = 512;
    }
    static struct sim_calib c;
    if (sim_calib_measure(&opts, &c, &d) != 0) {
        sim_calib_out_abort(&o);
        fprintf(stderr, "vmsim: calibrate: %s\n", d.msg);
        return SIM_EXIT_FAIL;
    }
    sim_calib_print(stdout, &c);
    if (out) {
        if (sim_calib_out_commit(&o, &c, &d) != 0) {
            fprintf(stderr, "vmsim: calibrate: %s\n", d.msg);
            return SIM_EXIT_FAIL;
        }
        printf("wrote %s\n", out);
    }
    return SIM_EXIT_OK;
}
