/*
 * vmsim_depot.c - the vmsim-depot program: make, sign and check the depot
 * metadata files the attestation mechanism reads
 * (sim/attestation/sim_at_depotfile.h).  A separate program, so that the
 * simulator core's command line names no mechanism.
 *
 *   vmsim-depot generate -o FILE [--packages P] [--min-files N] [--max-files M]
 *                        [--seed S] [--key-seed K] [--expires T]
 *   vmsim-depot sign FILE [--key-seed K]      re-sign a file after editing it
 *   vmsim-depot verify FILE [--key-seed K]    check it as vmsim would
 *
 * A file carries TUF's root (every role's depot key), snapshot and
 * targets roles (sim_at_depotfile.h).
 *
 * Exit status: 0, 1 (a signature or libcrypto failed), 2 (bad arguments
 * or a bad file: one located line on stderr).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/sim_at_depotfile.h"
#include "attestation/sim_at_int.h"

static const char usage[] =
    "usage: vmsim-depot generate -o FILE [--packages P] [--min-files N] [--max-files M]\n"
    "                            [--seed S] [--key-seed K] [--expires T]\n"
    "       vmsim-depot sign FILE [--key-seed K]\n"
    "       vmsim-depot verify FILE [--key-seed K]\n"
    "\n"
    "Depot metadata files (vmsim-depot/2: TUF's root, snapshot and targets\n"
    "roles) for the attestation mechanism.\n"
    "  generate  a synthetic ESXi-like depot: P packages (default 40) of N..M files\n"
    "            (default 20..200) with deterministic SHA-256 file hashes from S\n"
    "            (default 1), with root 1 listing the depot keys of K (default 1:\n"
    "            an experiment's depot.key_seed) and a snapshot naming the\n"
    "            targets, each signed with them, the targets and snapshot\n"
    "            expiring T after a run's start (default 30d), the root in 365d\n"
    "  sign      re-sign FILE in place after editing it (its content is checked,\n"
    "            its old signatures are not; root 1 and the snapshot are made again)\n"
    "  verify    check FILE, its roles and signatures as vmsim does\n";

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "vmsim-depot: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (vmsim-depot --help)\n");
    return 2;
}

static int num(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-' || v > max) {
        fprintf(stderr, "vmsim-depot: %s: expected an integer 0..%llu, got '%s'\n", opt,
                (unsigned long long)max, s);
        return 2;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1], *file = NULL, *expires = "30d";
    uint64_t pkgs = 40, minf = 20, maxf = 200, seed = 1, key_seed = 1;
    bool gen = strcmp(cmd, "generate") == 0;
    if (!gen && strcmp(cmd, "sign") != 0 && strcmp(cmd, "verify") != 0)
        return bad("unknown command '%s'", cmd);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (a[0] != '-') {
            if (gen || file)
                return bad("unexpected argument '%s'", a);
            file = a;
            continue;
        }
        if (!v)
            return bad("option '%s' needs a value", a);
        i++;
        if (strcmp(a, "--key-seed") == 0)
            rc = num(a, v, 9007199254740991ull, &key_seed);
        else if (gen && strcmp(a, "-o") == 0)
            file = v;
        else if (gen && strcmp(a, "--packages") == 0)
            rc = num(a, v, 100000, &pkgs);
        else if (gen && strcmp(a, "--min-files") == 0)
            rc = num(a, v, AT_MAX_FILES, &minf);
        else if (gen && strcmp(a, "--max-files") == 0)
            rc = num(a, v, AT_MAX_FILES, &maxf);
        else if (gen && strcmp(a, "--seed") == 0)
            rc = num(a, v, 9007199254740991ull, &seed);
        else if (gen && strcmp(a, "--expires") == 0)
            expires = v;
        else
            return bad("unknown option '%s'", a);
        if (rc)
            return rc;
    }
    if (!file)
        return bad("%s", gen ? "generate needs -o FILE" : "which file?");
    struct vm_diag d = { 0 };
    struct sim_at_keyset ks;
    if (sim_at_keyset_init(&ks, key_seed, &d) != 0) {
        fprintf(stderr, "vmsim-depot: %s\n", d.msg);
        return 1;
    }
    struct at_catalog c;
    int rc;
    if (gen) {
        uint64_t exp_ns;
        if (sim_at_depot_parse_expires(expires, &exp_ns) != 0 || exp_ns == 0) {
            sim_at_keyset_free(&ks);
            return bad("--expires: expected a time like \"30d\" or \"3600s\", got '%s'",
                       expires);
        }
        rc = sim_at_depot_generate(&c, (uint32_t)pkgs, (uint32_t)minf, (uint32_t)maxf, seed,
                                   exp_ns, &d);
    } else {
        rc = sim_at_depot_load(file, strcmp(cmd, "verify") == 0 ? &ks : NULL, &c, &d);
    }
    if (!rc && strcmp(cmd, "verify") != 0)
        rc = sim_at_depot_write(file, &c, &ks, &d);
    if (!rc) {
        uint64_t files = 0;
        for (uint32_t i = 0; i < c.nr_pkgs; i++)
            files += c.pkgs[i].nr_files;
        printf("%s: %u packages, %llu files, version %llu: %s\n", file, c.nr_pkgs,
               (unsigned long long)files, (unsigned long long)c.version,
               strcmp(cmd, "verify") == 0 ? "signature good" : "signed");
    } else {
        fprintf(stderr, "vmsim-depot: %s\n", d.msg);
    }
    at_catalog_free(&c);
    sim_at_keyset_free(&ks);
    return rc == 0 ? 0 : rc == VM_EIO || rc == VM_ENOMEM ? 1 : 2;
}
