/*
 * sim_at.h - depot attestation in the simulator: a datacenter of hosts,
 * attestation nodes, a software depot and an administrator's console on
 * a SimGrid platform (workloads/platforms/dc-attest.xml), the model of
 * models/attestation/at.h driven through the transport and timer ports,
 * message faults from the core (sim_faults.h: a depot outage is a
 * msg_loss of p 1 from the depot's host, or a partition) and its
 * host_crash on an attestation node (host "a<j>", restart_after required:
 * the node crashes and restarts with empty memory, at.h "A node crash").
 *
 * The config's sections (vmsim list attestation prints every key):
 *   datacenter  hosts, rack_hosts, nodes, cluster_nodes, cluster_hosts,
 *               boot_at, boot_spread, boot_time, batch, msg_size, sample,
 *               quote_alg, token_alg, tpm_quote
 *   depot       metadata (the depot file, sim_at_depotfile.h), key_seed,
 *               ts_period, ts_expiry, targets_expiry, key_rotation (one rotation
 *               of every depot key: root 2)
 *   releases    [{at, packages, new_packages, wave_start, wave_rate, wave_hosts}]
 *   attacks     [{kind, at, len, first, hosts, release, node}]
 *   scenario    duration, until_quiet, bin
 *   costs       a costs file (vmsim calibrate -o) or {file, sha256_64, ...}
 * Methods (variants[].policy): depot, depot-cache, depot-feed, manual,
 * export-import, union; hidden broken-nonce, broken-rollback, broken-freeze,
 * broken-withdraw (test only: their runs must fail the invariants).
 *
 * Where things live.  Rack k (hosts [k * rack_hosts, (k + 1) * rack_hosts))
 * is endpoint "r<k>" on platform host "r<k mod R>", R the racks the
 * platform has (r0, r1, ...): with more racks than that, a platform host
 * stands for a row's uplink.  Node j is endpoint and host "a<j>", the
 * depot "depot", the console "admin".  A node's workers are its host's
 * cores, the depot's likewise.
 *
 * Results: the metric table below; the timeline per bin (tokens, false
 * rejects, legitimate hosts refused) goes into the record's "detail"
 * (whole) and into 24 CSV columns refused_hosts_t00 .. _t23 (legitimate
 * hosts whose last answer was a refusal, the most at once in each 24th of
 * the run: a gauge that does not depend on how often they retry) that
 * the plots read.
 */
#ifndef SIM_AT_H
#define SIM_AT_H

#include <stdbool.h>
#include <stdint.h>

#include <simgrid/forward.h>

#include "attestation/at.h"
#include "sim_exp.h"
#include "sim_mech.h"

#define SIM_AT_TL_SLOTS 24           /* timeline columns in the CSV */

struct sim_at_release {
    uint64_t at_ns;
    uint32_t packages;               /* 0: all */
    uint32_t new_packages;           /* new vendor packages it introduces */
    uint64_t wave_start_ns;
    double wave_rate;                /* hosts/s, 0: no wave */
    uint32_t wave_hosts;             /* 0: all */
};

struct sim_at_attack {
    int kind;                        /* enum at_attack_kind */
    uint64_t at_ns, len_ns;
    uint32_t first, hosts;
    uint32_t release, node;
};

/* The costs charged (struct at_costs) and where they came from. */
struct sim_at_costs {
    struct at_costs ns;
    char file[SIM_PATH_MAX];         /* "" (the defaults) or the costs file read */
};

struct sim_at_cfg {
    /* datacenter */
    uint32_t hosts, rack_hosts, nodes, cluster_nodes, cluster_hosts;
    uint64_t boot_at_ns, boot_spread_ns, boot_time_ns, batch_ns, msg_bytes;
    uint64_t tpm_quote_ns;           /* a host's TPM2_Quote (0: none) */
    double sample;
    int quote_alg, token_alg;        /* enum at_alg: 0 ed25519, 1 ecdsa-p256 */
    /* depot */
    char metadata[SIM_PATH_MAX];     /* absolute */
    uint64_t key_seed;
    uint64_t ts_period_ns, ts_expiry_ns, targets_expiry_ns;
    uint64_t key_rotation_ns;        /* the depot rotates its keys then (0: never) */
    /* releases, attacks */
    uint32_t nr_releases;
    struct sim_at_release releases[AT_MAX_RELEASES - 1];
    uint32_t nr_attacks;
    struct sim_at_attack attacks[AT_MAX_ATTACKS];
    /* scenario */
    uint64_t duration_ns, bin_ns;
    bool until_quiet;                /* end once at_quiet() (no steady state) */
    struct sim_at_costs costs;
};

#define SIM_AT_METRICS(X) \
    X(LAT_P50,   "latency_p50_ns",      "ns",    false, "attest request to token or refusal, median") \
    X(LAT_P99,   "latency_p99_ns",      "ns",    false, "attest request to token or refusal, p99") \
    X(ATTESTS,   "attests",             "count", true,  "attestations answered") \
    X(TOKENS,    "tokens",              "count", true,  "tokens issued (accepts)") \
    X(REFUSALS,  "refusals",            "count", false, "refusals (rejects)") \
    X(TIMEOUTS,  "timeouts",            "count", false, "requests that got no answer in time") \
    X(RATE,      "attest_per_s",        "1/s",   true,  "answers per second, first to last answer, all nodes") \
    X(RATE_NODE, "attest_per_s_node",   "1/s",   true,  "answers per second of the busiest node") \
    X(FA,        "false_accepts",       "count", false, "tokens for forged evidence (must be 0)") \
    X(FR,        "false_rejects",       "count", false, "legitimate hosts refused") \
    X(FR_WAVE,   "false_rejects_wave",  "count", false, "... while an upgrade wave ran") \
    X(FR_AFTER,  "false_rejects_after", "count", false, "... outside the waves") \
    X(STALE,     "stale_accepts",       "count", false, "tokens for a withdrawn version before the policy knew") \
    X(MALFORMED, "malformed_refused",   "count", false, "requests that did not parse, refused") \
    X(REL_FIRST, "release_first_ns",    "ns",    false, "release to the first host token on it, worst release") \
    X(REL_LAST,  "release_last_ns",     "ns",    false, "release to the last host token on it, worst release") \
    X(DEPOT_RPS, "depot_req_per_s",     "1/s",   false, "requests to the depot per second of the run") \
    X(DEPOT_B,   "depot_bytes",         "bytes", false, "bytes to and from the depot") \
    X(STALE_P50, "staleness_p50_ns",    "ns",    false, "depot publish to a node's view holding it, median") \
    X(STALE_MAX, "staleness_max_ns",    "ns",    false, "... worst") \
    X(POLICY_B,  "policy_bytes_node",   "bytes", false, "policy memory of the largest node") \
    X(SIGNS,     "real_signs",          "count", true,  "signatures really made (Ed25519, ECDSA P-256)") \
    X(VERIFIES,  "real_verifies",       "count", true,  "verifications really made (Ed25519, ECDSA P-256)") \
    X(META_REF,  "meta_refused",        "count", false, "depot documents a node refused (signature, algorithm, rollback, expiry)") \
    X(POLICY_Q,  "policy_queued",       "count", false, "allow-list updates a down node did not take, kept and resent by the admin console") \
    X(TL00, "refused_hosts_t00", "count", false, "legitimate hosts refused at once, the most in the 1st 24th of the run") \
    X(TL01, "refused_hosts_t01", "count", false, "... the 2nd") \
    X(TL02, "refused_hosts_t02", "count", false, "... the 3rd") \
    X(TL03, "refused_hosts_t03", "count", false, "... the 4th") \
    X(TL04, "refused_hosts_t04", "count", false, "... the 5th") \
    X(TL05, "refused_hosts_t05", "count", false, "... the 6th") \
    X(TL06, "refused_hosts_t06", "count", false, "... the 7th") \
    X(TL07, "refused_hosts_t07", "count", false, "... the 8th") \
    X(TL08, "refused_hosts_t08", "count", false, "... the 9th") \
    X(TL09, "refused_hosts_t09", "count", false, "... the 10th") \
    X(TL10, "refused_hosts_t10", "count", false, "... the 11th") \
    X(TL11, "refused_hosts_t11", "count", false, "... the 12th") \
    X(TL12, "refused_hosts_t12", "count", false, "... the 13th") \
    X(TL13, "refused_hosts_t13", "count", false, "... the 14th") \
    X(TL14, "refused_hosts_t14", "count", false, "... the 15th") \
    X(TL15, "refused_hosts_t15", "count", false, "... the 16th") \
    X(TL16, "refused_hosts_t16", "count", false, "... the 17th") \
    X(TL17, "refused_hosts_t17", "count", false, "... the 18th") \
    X(TL18, "refused_hosts_t18", "count", false, "... the 19th") \
    X(TL19, "refused_hosts_t19", "count", false, "... the 20th") \
    X(TL20, "refused_hosts_t20", "count", false, "... the 21st") \
    X(TL21, "refused_hosts_t21", "count", false, "... the 22nd") \
    X(TL22, "refused_hosts_t22", "count", false, "... the 23rd") \
    X(TL23, "refused_hosts_t23", "count", false, "... the 24th")

enum sim_at_metric {
#define X(id, nm, un, hi, ds) SIM_AT_M_##id,
    SIM_AT_METRICS(X)
#undef X
    SIM_AT_M_NR
};

#define SIM_AT_INVARIANTS(X) \
    X(CHECKED,   "tokens_checked",  false, "tokens the checker verified against the ground truth") \
    X(FA,        "false_accepts",   true,  "a token for forged evidence") \
    X(ROLLBACK,  "rollback_used",   true,  "a token decided on a rolled-back depot view") \
    X(EXPIRED,   "expired_used",    true,  "a token decided on an expired depot view") \
    X(FORGED,    "forged_meta_used", true, "a token decided on a timestamp the depot never " \
                                           "signed (a revoked key's forgery)") \
    X(WITHDRAWN, "withdrawn_known", true,  "a token for a version the node knew withdrawn")

enum sim_at_inv {
#define X(id, nm, bad, ds) SIM_AT_INV_##id,
    SIM_AT_INVARIANTS(X)
#undef X
    SIM_AT_INV_NR
};

extern const struct sim_mech sim_at_mech;

void sim_at_run(const struct sim_exp *e, sg_host_t host, struct sim_outcome *out);

#endif
