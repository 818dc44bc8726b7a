/*
 * at.h - depot attestation in a datacenter: hosts boot measured software
 * and attest to attestation nodes, which confirm a host only when every
 * component it measured is described in the software depot
 * (US20210382706, VMware: "automated configuration of attestation nodes
 * using a software depot"), against the baselines that need an
 * administrator to configure golden values.
 *
 * The world.  Hosts 0..N-1 sit in racks of rack_hosts hosts; a rack is one
 * transport endpoint "r<k>" (its top-of-rack uplink): the messages of all
 * its hosts travel through it, and a host is addressed inside the blob,
 * so a 100,000-host datacenter is ~100 endpoints, not 100,000 actors.
 * Messages a rack sends to one node within `batch` of each other travel as
 * one message (their wire bytes summed) - a simulation granularity, not a
 * protocol feature; latencies are measured per host from its own request.
 * Attestation nodes are "a<j>" (j < nr_nodes), grouped into attestation
 * clusters of cluster_nodes nodes; host h belongs to workload cluster
 * h / cluster_hosts and attests to a node of the matching attestation
 * cluster (h mod cluster_nodes first; the next node of that cluster after
 * a timeout).  The depot server is "depot"; the administrator's console
 * is "admin".  The world maps endpoints to platform hosts.
 *
 * CPU.  Every node has `cores` workers; each operation charges its
 * measured cost (struct at_costs, from `vmsim calibrate`) to the first
 * free worker, FIFO: a request waits for a worker when all are busy.  The
 * depot has its own workers.  Costs are charged whether or not the real
 * operation runs (below).
 *
 * Real cryptography, sampled.  Every host has a key of cfg.quote_alg
 * (ECDSA P-256, as a TPM 2.0's attestation key, or Ed25519), every node a
 * token key of cfg.token_alg; the depot signs its targets and timestamp
 * documents (at_meta.h, Ed25519) and the nodes every token with real
 * keys.  A quote is really signed and verified (at_quote_sign,
 * at_quote_verify: PCR recomputed from the event log) for a fraction
 * `sample` of requests drawn from the seed (1.0 in tests); for the others
 * the quote carries the id of the key that would have signed it and the
 * PCR is not recomputed: the node compares the id with the registered
 * one, the nonce with the one it issued, and every event's data_hash with
 * the depot's - the comparisons the real check makes, without the
 * signature arithmetic.  Depot documents are always really signed and
 * verified (they are few).  Costs are charged alike in both cases.
 *
 * The protocol of one attestation (Keylime's and vSphere Trust
 * Authority's shape): host -> node ATTEST; node -> host NONCE (32 random
 * bytes); the host's TPM makes the quote (cfg.tpm_quote_ns, a discrete
 * TPM's TPM2_Quote: the TPM executes one command at a time, so a host's
 * quotes queue on it); host -> node QUOTE (quote + event log); node checks the quote
 * (host, nonce, PCR, signature), then the components against its policy,
 * and answers TOKEN (signed, expiring at now + token_ttl) or REFUSE (the
 * first failing check: which component and why).  A host re-attests
 * before its token expires, and after every boot.  A host that gets no
 * answer within req_timeout tries the next node of its cluster.
 *
 * A node crash (AT_ATK_NODE_CRASH in the schedule, or at_crash_node()
 * from outside it: the simulator's host_crash fault) loses what a real
 * restart loses, memory: the requests queued on its workers and in
 * flight (nothing it decided before leaves), the nonces it issued (a
 * quote for one is refused as R_NONCE after the restart), its cached
 * depot targets and last timestamp.  It hears nothing while down, so its
 * hosts time out and try the next node.  Its TUF view's versions persist
 * (TUF keeps the trusted metadata on disk: no rollback across a
 * restart), and so do the allow-lists (an administrator's configuration).
 * An allow-list update the admin console sends while the node is down
 * (or that arrives once it is) is not lost: the console keeps it, in
 * order with the node's later updates, and resends them every
 * admin_retry until the node is up (as a Keylime tenant retries a
 * verifier it cannot reach and vSphere Trust Authority's import is
 * re-run): st.policy_queued counts them.
 * At the restart it starts afresh: a cache or feed node fetches the
 * depot's targets again, through the same checks, before it decides.
 * Crashes nest: a node crashed twice is up again at the later restart.
 *
 * Methods (struct at_params.method):
 *   AT_DEPOT        the patent, per request: after the quote the node
 *                   asks the depot for the host's components (one lookup
 *                   message); the depot answers with the entries it has
 *                   and its current signed timestamp, signing the answer
 *                   (one signature per lookup); the node verifies it.
 *   AT_DEPOT_CACHE  the node keeps the depot's signed targets (every
 *                   package's name, version, vendor, data_hash and the
 *                   withdrawn flags) for cache_ttl, re-fetching it when it
 *                   expired or when a host names a component it does not
 *                   hold (at most once per min_refetch).
 *   AT_DEPOT_FEED   the node subscribes: the depot pushes every new
 *                   targets version and a fresh timestamp every
 *                   ts_period; the node fetches once at start.
 *   All three apply TUF's rules (at_view): signature, known algorithm, no
 *   rollback, no expired document; with no fresh view a node refuses
 *   (fail closed).  A token names the depot version it was decided on.
 *   AT_MANUAL       each node holds an allow-list (every file's path and
 *                   hash of the allowed packages, as Keylime's runtime
 *                   policies do); after each release or withdrawal an
 *                   administrator updates each node after a delay drawn
 *                   uniformly from [admin_min, admin_max].
 *   AT_EXPORT_IMPORT  vSphere Trust Authority: after each release an
 *                   administrator upgrades a test host and exports its
 *                   base image (export_delay after the release), then
 *                   imports it into each attestation cluster in turn
 *                   (import_time each); a withdrawal is removed the same
 *                   way.
 *   AT_UNION        a Keylime-style union list during a rollout: the
 *                   administrator installs old + new on every node at the
 *                   release (after admin delay), and removes the old
 *                   versions union_window after the release (after admin
 *                   delay).
 *   With hold_wave the three allow-list methods delay each release's wave
 *   until the last node's update is in (the administrator coordinates the
 *   rollout); without it the wave starts at wave_start regardless.
 *   AT_BROKEN_NONCE     (test only) AT_DEPOT that does not check the nonce.
 *   AT_BROKEN_FREEZE    (test only) AT_DEPOT_CACHE that takes an expired
 *                   timestamp (no freeze protection).
 *   AT_BROKEN_ROLLBACK  (test only) AT_DEPOT_CACHE that accepts an older
 *                   targets version.
 *   AT_BROKEN_WITHDRAW  (test only) AT_DEPOT that ignores the depot's
 *                   withdrawn flag: it accepts a version its own lookup
 *                   answer says is withdrawn.
 *   AT_BROKEN_REVOKED   (test only) AT_DEPOT_CACHE that still believes a
 *                   timestamp and snapshot signed with the keys of the
 *                   root it shipped with after a rotation revoked them.
 *
 * Software over time.  The depot starts with the catalog it is given
 * (release 0: every package in it, hosts run release 0).  Releases
 * (struct at_release) publish new versions of some packages at an
 * instant: new file hashes, derived from the seed; a release may also
 * introduce new packages from a new vendor (new_pkgs: "partner-drv-<k>-<i>"
 * version "1.0.0" of vendor "Partner<k>", AT_NEW_PKG_FILES files each,
 * hashes from the seed), published with it, installed by its wave and
 * kept by later releases, added to the allow-lists as its new versions
 * are, and withdrawn with them (AT_ATK_WITHDRAW of that release).  A
 * host's log is the base catalog's packages (each at the
 * newest version its release has) then the new packages of releases
 * 1..its release, in release order: it follows from the release index
 * alone.  A wave upgrades hosts
 * in id order at wave_rate hosts/s from wave_start, each host rebooting
 * (boot_time) and attesting; a withdrawal marks a version vulnerable at an
 * instant (hosts running it are refused from then on, by a method whose
 * view has caught up).
 *
 * Attacks (struct at_attack), each on a set of hosts or on the depot
 * channel from an instant: a tampered binary (one file's hash changed), a
 * component in no depot, a replayed quote (an old nonce's quote sent
 * again), a quote signed by another host's key, a malformed request
 * (refused and counted, never a crash), and on the depot's replies to the
 * nodes: a frozen view (the timestamp stops being re-signed), a rolled
 * back targets version, a bad signature, an unknown algorithm, metadata
 * signed with a revoked key, a mix of documents from two versions.
 *
 * Depot keys and roots (TUF roles, at_meta.h, at_root.h).  The depot has
 * a key per role (root, timestamp, snapshot, targets) per generation;
 * the nodes ship with root version 1 (generation 0's keys).  At each
 * cfg.rotate_ns the depot rotates every role's key: it publishes root
 * g + 1 signed by the old and the new root key, then re-signs the
 * current catalog as a new targets version, a snapshot and a timestamp
 * with the new keys.  Every reply names the depot's newest root version
 * and a node behind it walks the roots one by one (TUF 5.3), charging a
 * verification per root signature it checks; the snapshot is verified
 * (and charged) only when it changed.
 *
 * Invariants (at_check.c), checked on every token issued, from the
 * ground truth the attack schedule and the depot's history give, not from
 * the node's reasoning: no token for a host whose evidence is forged
 * (tampered, unknown component, replayed, wrong key); no token decided on
 * a depot view older than one the node accepted before, or expired; no
 * token decided on a timestamp the depot never signed (a version above
 * the depot's own: a revoked key's forgery); no token for a withdrawn
 * version after the node's policy received the withdrawal.  Tokens for a withdrawn version before that are counted as
 * stale accepts (a figure: the exposure each method leaves).
 *
 * Everything runs in callbacks of the ports (message arrivals, timers):
 * no call blocks.  One struct at_dc is one run.
 */
#ifndef AT_H
#define AT_H

#include <stdbool.h>
#include <stdint.h>

#include "attestation/at_meta.h"
#include "base/vm_err.h"
#include "base/vm_hist.h"
#include "ports/port_clock.h"
#include "ports/port_timer.h"
#include "ports/port_transport.h"

#define AT_MAX_HOSTS 1000000
#define AT_MAX_NODES 1024
#define AT_MAX_RACKS 4096
#define AT_MAX_RELEASES 64
#define AT_MAX_ATTACKS 64
#define AT_MAX_BINS 512          /* timeline bins */
#define AT_MAX_ROTATIONS 8       /* depot key rotations in a run */
#define AT_ROOT_EXPIRY_NS (365ull * 86400 * 1000000000)
                                 /* a root's validity: 1 year, as python-tuf's
                                  * tuf/repository_tool.py gives a new root
                                  * (ROOT_EXPIRATION = 31556900 s, "1 year") */
#define AT_MAX_NEW_PKGS 256      /* new packages one release introduces */
#define AT_NEW_PKG_FILES 4       /* files of a new package (a driver's module,
                                  * library, firmware blob and descriptor) */
#define AT_MAX_LOG (AT_MAX_FILES - 1)   /* events in a host's log: a quote carries at
                                         * most AT_MAX_FILES, one kept for the
                                         * unknown-component attack's extra event */

enum at_method { AT_DEPOT, AT_DEPOT_CACHE, AT_DEPOT_FEED, AT_MANUAL, AT_EXPORT_IMPORT,
                 AT_UNION, AT_BROKEN_NONCE, AT_BROKEN_ROLLBACK, AT_BROKEN_FREEZE,
                 AT_BROKEN_WITHDRAW, AT_BROKEN_REVOKED, AT_NR_METHODS };

/* CPU cost of each operation, ns (measured: sim/sim_calib.h "crypto"). */
struct at_costs {
    double sha256_ns_per_byte;   /* bulk SHA-256 */
    double sha256_small_ns;      /* one SHA-256 of <= 64 bytes */
    double sign_ns;              /* one Ed25519 signature */
    double verify_ns;            /* one Ed25519 verification */
    double ecdsa_sign_ns;        /* one ECDSA P-256 signature (of a SHA-256 digest) */
    double ecdsa_verify_ns;      /* one ECDSA P-256 verification */
    double lookup_ns;            /* one package looked up in a policy index */
};
/* The cost of one signature / verification of alg (Ed25519 for anything
 * but AT_ALG_ECDSA_P256). */
double at_sign_cost(const struct at_costs *c, enum at_alg alg);
double at_verify_cost(const struct at_costs *c, enum at_alg alg);

struct at_params {
    enum at_method method;
    uint64_t req_timeout_ns;     /* a host's request to answer (then the next node) */
    uint64_t token_ttl_ns;       /* a token's validity; hosts re-attest at 3/4 of it */
    uint64_t cache_ttl_ns;       /* depot-cache: the held targets expire */
    uint64_t min_refetch_ns;     /* depot-cache: a miss re-fetches at most this often */
    uint64_t ts_period_ns;       /* depot: a new timestamp this often */
    uint64_t ts_expiry_ns;       /* depot: a timestamp's validity */
    uint64_t targets_expiry_ns;  /* depot: a targets document's validity */
    uint64_t admin_min_ns, admin_max_ns;   /* manual, union: an admin update's delay */
    uint64_t export_delay_ns;    /* export-import: release -> export */
    uint64_t import_time_ns;     /* export-import: one attestation cluster's import */
    uint64_t union_window_ns;    /* union: release -> old versions removed */
    bool admin_shared;           /* manual, union: one delay per update for every node
                                  * (one policy store behind all nodes, as Keylime's
                                  * verifiers share their database) instead of one per
                                  * node */
    bool test_drop_policy;       /* test only (a mutation): the console drops an update
                                  * a down node did not take, as it did before it kept
                                  * them */
    bool hold_wave;              /* manual, export-import, union: the operator starts a
                                  * release's wave only once every node's policy has
                                  * its versions (as Keylime's union-list workflow and
                                  * vSphere TA's import-before-remediate do); the wave
                                  * then starts at the later of wave_start and that */
    uint64_t retry_ns;           /* a refused host asks again after this, doubling
                                  * at each refusal in a row ... */
    uint64_t retry_max_ns;       /* ... up to this */
    uint64_t admin_retry_ns;     /* manual, export-import, union: the console resends an
                                  * update a down node did not take this often, until
                                  * it is back */
};

void at_params_default(struct at_params *p, enum at_method m);
const char *at_method_name(enum at_method m);
/* The method consults the depot (AT_DEPOT, _CACHE, _FEED and the broken ones). */
bool at_method_uses_depot(enum at_method m);

/* A release: new versions of some packages of the catalog. */
struct at_release {
    uint64_t at_ns;              /* published in the depot */
    uint32_t nr_pkgs;            /* packages upgraded: the first nr_pkgs of the catalog
                                  * in catalog order (0: all); versions get "+r<k>" */
    uint32_t new_pkgs;           /* new packages it introduces (0..AT_MAX_NEW_PKGS; the
                                  * base catalog plus every release's new packages at
                                  * most AT_MAX_LOG) */
    uint64_t wave_start_ns;      /* hosts start upgrading (may be before at_ns) */
    double wave_rate;            /* hosts per second (0: no wave) */
    uint32_t wave_hosts;         /* hosts upgraded (0: all) */
};

enum at_attack_kind {
    AT_ATK_TAMPER,               /* one file of a component changed on the hosts */
    AT_ATK_UNKNOWN,              /* an extra component in no depot */
    AT_ATK_REPLAY,               /* a quote made for an old nonce sent again */
    AT_ATK_WRONG_KEY,            /* quotes signed with another host's key */
    AT_ATK_MALFORMED,            /* a request that does not parse */
    AT_ATK_WITHDRAW,             /* the depot withdraws release `release`'s versions */
    AT_ATK_FREEZE,               /* the depot's replies carry the timestamp of `at` */
    AT_ATK_ROLLBACK,             /* the depot's replies carry targets version 1 */
    AT_ATK_BAD_SIG,              /* the depot's replies carry a corrupted signature */
    AT_ATK_BAD_ALG,              /* the depot's replies name an unknown algorithm */
    AT_ATK_DEPOT_DOWN,           /* the depot answers nothing (an outage) */
    AT_ATK_NODE_CRASH,           /* node `node` crashes (restarts after `len`) */
    AT_ATK_REVOKED_KEY,          /* the depot's replies carry a fresh timestamp and
                                  * snapshot signed with the keys the first rotation
                                  * revoked (needs a rotation before `at`) */
    AT_ATK_MIX,                  /* mix-and-match: the replies carry the previous
                                  * targets version under the current snapshot (a
                                  * lookup answer: the previous snapshot under the
                                  * current timestamp) */
    AT_NR_ATTACKS                /* at most 15: struct at_host.forged has 4 bits */
};
const char *at_attack_name(enum at_attack_kind k);

struct at_attack {
    enum at_attack_kind kind;
    uint64_t at_ns, len_ns;      /* from at for len (0: to the end) */
    uint32_t first_host, nr_hosts;   /* host attacks: hosts [first, first + nr) */
    uint32_t release;            /* withdraw: which release (0: the base) */
    uint32_t node;               /* node crash */
};

struct at_cfg {
    uint32_t nr_hosts, rack_hosts;       /* hosts, hosts per rack */
    uint32_t nr_nodes, cluster_nodes;    /* attestation nodes, nodes per attestation cluster
                                          * (1..63, dividing nr_nodes) */
    uint32_t cluster_hosts;              /* hosts per workload cluster */
    uint32_t node_cores, depot_cores;    /* workers (the platform hosts' cores) */
    const struct at_catalog *base;       /* release 0 (the caller's; copied) */
    struct at_key depot_targets_key, depot_ts_key;   /* the caller's; used, not freed:
                                          * generation 0's targets and timestamp keys */
    uint64_t depot_key_seed;             /* the depot's other keys: at_key_seed(
                                          * "depot-root" | "depot-snapshot" |
                                          * "depot-timestamp" | "depot-targets",
                                          * depot_key_seed, generation) */
    uint32_t nr_rotations;               /* <= AT_MAX_ROTATIONS */
    uint64_t rotate_ns[AT_MAX_ROTATIONS];    /* increasing: the depot rotates every
                                          * role's key then (a new root) */
    uint32_t nr_releases;                /* < AT_MAX_RELEASES */
    const struct at_release *releases;   /* the caller's; copied.  releases[i] is
                                          * release i + 1 (release 0 is `base`) */
    uint32_t nr_attacks;
    const struct at_attack *attacks;     /* the caller's; copied */
    uint64_t boot_at_ns, boot_spread_ns; /* hosts boot uniformly in [at, at + spread) */
    uint64_t boot_time_ns;               /* a reboot's length (an upgrade) */
    uint64_t tpm_quote_ns;               /* a host's TPM2_Quote: NONCE in -> QUOTE out (0:
                                          * none); one command at a time per host's TPM */
    uint64_t batch_ns;                   /* rack message batching window */
    uint64_t msg_bytes;                  /* control message wire size (headers included) */
    double sample;                       /* fraction of quotes really signed and verified */
    enum at_alg quote_alg;               /* the hosts' quote keys (Ed25519 or ECDSA P-256) */
    enum at_alg token_alg;               /* the nodes' token keys */
    uint64_t bin_ns;                     /* timeline bin width (answers per bin) */
    struct at_costs costs;
    struct at_params params;
    uint64_t seed;
};

/* The ports a run uses; all outlive it. */
struct at_ports {
    struct port_clock *clock;
    struct port_timer *timer;
    struct port_transport *net;
};

/* Figures of a run. */
struct at_stats {
    uint64_t attests, tokens, refusals, timeouts;
    uint64_t false_accepts;      /* tokens for forged evidence (a violation) */
    uint64_t false_rejects;      /* legitimate hosts refused */
    uint64_t false_rejects_wave; /* ... while a wave ran (release to last upgrade + ttl) */
    uint64_t stale_accepts;      /* tokens for a withdrawn version before the policy knew */
    uint64_t refused_by[16];     /* refusals per reason (enum in at_int.h) */
    uint64_t malformed;          /* requests that did not parse */
    struct vm_hist latency_ns;   /* first ATTEST sent -> TOKEN or REFUSE received
                                  * (timeouts and the next node included, the
                                  * rack batching's waits not) */
    uint64_t first_ns, last_ns;  /* first and last answer */
    uint64_t per_node_max;       /* answers of the busiest node */
    uint64_t depot_requests, depot_bytes;      /* to and from the depot */
    uint64_t policy_queued;      /* allow-list updates a down node did not take, kept and
                                  * resent by the console (one per node and update) */
    uint64_t meta_refused[8];    /* depot documents refused, per at_meta_err */
    struct vm_hist staleness_ns; /* depot publish -> node view holds it (allow-lists:
                                  * release or withdrawal -> the node updated) */
    uint64_t policy_bytes_max;   /* per-node policy memory, the largest: allow-lists
                                  * as per-file path + hash entries, the cache and
                                  * feed's held targets as a per-package index, 0
                                  * for a lookup per request */
    uint64_t release_first_ns[AT_MAX_RELEASES], release_last_ns[AT_MAX_RELEASES];
                                 /* release -> first / last host token on it (0: none) */
    uint64_t real_signs, real_verifies;   /* operations really done */
    uint32_t nr_bins;            /* timeline: bins of cfg.bin_ns from 0 */
    uint64_t bin_tokens[AT_MAX_BINS], bin_false_rejects[AT_MAX_BINS];
    uint64_t bin_hosts_refused[AT_MAX_BINS];   /* legitimate hosts whose last answer
                                  * was a refusal, the most during the bin (a gauge:
                                  * it does not depend on how often they retry) */
    /* checker */
    uint64_t tokens_checked;
    uint64_t rollback_used;      /* tokens decided on a rolled-back view (a violation) */
    uint64_t expired_used;       /* tokens decided on an expired view (a violation) */
    uint64_t forged_meta_used;   /* tokens decided on a timestamp the depot never signed
                                  * (a violation) */
    uint64_t withdrawn_known;    /* tokens for a version the policy knew withdrawn */
};

struct at_dc;

/* A new run: nothing happens until at_start().  NULL with a diag on bad
 * configuration (VM_EINVAL) or no memory. */
struct at_dc *at_dc_new(const struct at_cfg *cfg, const struct at_ports *ports,
                        struct vm_diag *d);
/* Free it; its pending timers are cancelled.  NULL is a no-op. */
void at_dc_free(struct at_dc *dc);
/* Arm the boots, releases, waves and attacks.  0 or VM_ENOMEM. */
int at_start(struct at_dc *dc);
/* A message for endpoint `self` arrived (the message stays the caller's). */
void at_deliver(struct at_dc *dc, const char *self, const struct port_transport_msg *m);
/* Node j crashes now / restarts now, from outside the schedule (the
 * simulator's host_crash fault; see "A node crash" above).  A restart
 * with no crash of j pending is ignored.  0, or VM_EINVAL when j >=
 * cfg.nr_nodes or the run has not started. */
int at_crash_node(struct at_dc *dc, uint32_t j);
int at_restart_node(struct at_dc *dc, uint32_t j);
/* Every host has an answer and nothing is scheduled before end_ns. */
bool at_quiet(const struct at_dc *dc, uint64_t end_ns);
/* End the run's accounting at now and fill *out. */
void at_finish(struct at_dc *dc, struct at_stats *out);
void at_stats_init(struct at_stats *s);

#endif
