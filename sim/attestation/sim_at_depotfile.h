/*
 * sim_at_depotfile.h - the software depot's metadata file: the catalog a
 * run's depot starts with (release 0), signed by the depot's targets key,
 * read by a parser as strict as the config parser.
 *
 * Format (JSON), TUF's four roles (The Update Framework specification
 * 1.0, 4.3-4.5) in one file:
 *   { "format": "vmsim-depot/2",
 *     "root": { "signed": { "_type": "root", "version": integer >= 1,
 *                           "expires": time from the run's start,
 *                           "roles": { "root" | "timestamp" | "snapshot" | "targets":
 *                                      { "keyids": [ 64 hex digits (a public key),
 *                                                    1 to 4, distinct ],
 *                                        "threshold": 1 to the number of keyids } } },
 *               "signatures": [ { "keyid", "alg", "sig" }, 1 to 8 ] },
 *     "snapshot": { "signed": { "_type": "snapshot", "version": integer >= 1,
 *                               "expires": time, "targets_version": integer >= 1,
 *                               "targets_sha256": 64 hex digits },
 *                   "signatures": [ { "keyid", "alg", "sig" } ] },
 *     "signed": { "_type": "targets",
 *                 "version": integer >= 1,
 *                 "expires": time from the run's start ("30d", "720min",
 *                            "3600s": the config's time units plus "d"),
 *                 "packages": [ { "name": string, "version": string,
 *                                 "vendor": string, "withdrawn": bool (optional),
 *                                 "files": [ { "path": string,
 *                                              "sha256": 64 hex digits } ] } ] },
 *     "signatures": [ { "keyid": 64 hex digits (the signing public key),
 *                       "alg": "ed25519",
 *                       "sig": 128 hex digits } ] }
 * The targets signature is at_targets_sign()'s over the parsed catalog
 * (Ed25519 over at_targets_hash, the SHA-256 of its canonical encoding:
 * at_meta.h), the snapshot's at_snapshot_sign()'s, the root's
 * at_root_sign()'s, so the file's spacing and key order do not matter.
 * Checked with the depot's keys (struct sim_at_keyset, from the config's
 * depot.key_seed): the root lists each role's depot key, a threshold of
 * its root keys signed it; the snapshot names the targets' version and
 * hash (else mix-and-match) and the depot's snapshot key signed it; every
 * targets signature names the depot's targets key, a known algorithm, and
 * verifies; at least one is required.  A run's nodes ship with the
 * depot's root 1 (the same keys).
 *
 * Refused, each with one line "FILE: $.signed.packages[3].files[2].sha256:
 * expected 64 hex digits, got ..." (or "FILE:LINE:COL: malformed JSON:
 * ..."): truncated or invalid JSON, wrong types, unknown keys (with "did
 * you mean"; an unknown role too), duplicate keys, missing keys (a
 * missing role too), duplicate packages (same name and version),
 * duplicate file paths in a package, duplicate key ids in a role, a
 * threshold of 0 or above the role's keys, strings too long or empty, bad
 * hex, an unknown algorithm, a keyid other than the depot's key, a
 * signature that does not verify.
 *
 * The catalog's package order is the file's (releases upgrade the first
 * N packages in that order).
 */
#ifndef SIM_AT_DEPOTFILE_H
#define SIM_AT_DEPOTFILE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "attestation/at_meta.h"
#include "base/vm_err.h"

#define SIM_AT_DEPOT_FORMAT "vmsim-depot/2"
/* The largest depot file read or written: 64 MiB, about 450,000 file
 * entries (the shipped ESXi-like depot is 0.6 MB).  Parsing takes about
 * 4 bytes of memory per byte of file, so the cap bounds that to ~256 MiB. */
#define SIM_AT_DEPOT_MAX_BYTES (64ull << 20)

/* The depot's keys of generation 0, one per role: at_key_seed("depot-" +
 * at_role_name(role), key_seed, 0) (the datacenter model's derivation). */
struct sim_at_keyset {
    struct at_key k[AT_NR_ROLES];
};
/* Make them.  0 or VM_EIO (with d); free with sim_at_keyset_free. */
int sim_at_keyset_init(struct sim_at_keyset *ks, uint64_t key_seed, struct vm_diag *d);
void sim_at_keyset_free(struct sim_at_keyset *ks);

/*
 * Check the tree of a depot file (`file` names it in messages) and fill
 * *c (initialised by this call; at_catalog_free it, also on error).  With
 * ks non-NULL the roles and signatures are checked against the depot's
 * keys (above); with NULL they are checked for form only (a file about to
 * be re-signed).  0, VM_EINVAL (a located problem), VM_ECORRUPT (a
 * signature that does not verify), VM_ENOMEM; the line in d.
 */
int sim_at_depot_parse(const char *file, const cJSON *root, const struct sim_at_keyset *ks,
                       struct at_catalog *c, struct vm_diag *d);

/* Read, parse and check the file: as above, plus VM_ENOENT (cannot read),
 * VM_EINVAL (larger than SIM_AT_DEPOT_MAX_BYTES) and VM_EPARSE (malformed
 * JSON, with line and column). */
int sim_at_depot_load(const char *file, const struct sim_at_keyset *ks, struct at_catalog *c,
                      struct vm_diag *d);

/* The file's JSON for catalog c with root 1 (every role the depot's key
 * of ks, threshold 1, expiring in 365 days), a snapshot naming c (its
 * version and expiry) and the targets, each signed with ks (a new tree;
 * NULL with d on no memory or VM_EIO from libcrypto). */
cJSON *sim_at_depot_to_json(const struct at_catalog *c, const struct sim_at_keyset *ks,
                            struct vm_diag *d);

/* Write that JSON to `file` atomically (a temporary file in its directory,
 * renamed over it).  0, VM_EINVAL (the text would be larger than
 * SIM_AT_DEPOT_MAX_BYTES: nothing written), VM_EIO, VM_ENOMEM. */
int sim_at_depot_write(const char *file, const struct at_catalog *c,
                       const struct sim_at_keyset *ks, struct vm_diag *d);

/*
 * A synthetic depot in *c (initialised by this call): nr_pkgs packages
 * named like an ESXi image's VIBs (esx-base, vsan, native drivers, ...;
 * "pkg-<i>" past the list), vendors VMware and the driver vendors,
 * each with a file count drawn uniformly from [min_files, max_files] and
 * file hashes SHA-256("vmsim-depot-file/1", seed, package, file): the
 * same arguments give the same depot.  version 1, expiring expires_ns
 * after the run's start.  0, VM_EINVAL, VM_ENOMEM.
 */
int sim_at_depot_generate(struct at_catalog *c, uint32_t nr_pkgs, uint32_t min_files,
                          uint32_t max_files, uint64_t seed, uint64_t expires_ns,
                          struct vm_diag *d);

/* "expires" text: "<n>d" or a time with the config's units, into ns.
 * 0 or VM_EINVAL. */
int sim_at_depot_parse_expires(const char *s, uint64_t *ns);

#endif
