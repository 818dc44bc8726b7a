/*
 * sim_at_mech.c - depot attestation as a plug-in of the simulator core
 * (struct sim_mech, sim_mech.h): its config sections (datacenter, depot,
 * releases, attacks, scenario, costs), the method set (the patent's three
 * variants and the baselines that need an administrator, each with its
 * parameter table and where its defaults come from), the cross-field
 * checks of a run point (finish), and the metric and invariant tables.
 * The driver is sim_at.c; the checks that read files, sim_at_check.c.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/sim_at_int.h"
#include "sim_calib.h"
#include "sim_json.h"

#define TIME_MAX_NS SIM_CFG_TIME_MAX_NS
#define LONG_TIME_MAX_NS (400 * 86400e9)     /* expiries: beyond any run */
#define RUN_MAX_NS (30 * 86400e9)            /* a run and its events: 30 days, so a
                                              * golden-value baseline's days-long admin
                                              * delays can be seen to the end */

/* ------------------------------------------------------------ methods */

#define P(field) offsetof(struct at_params, field)
#define ROW_REQ_TIMEOUT                                                                    \
    { "req_timeout", VM_PARAM_TIME, P(req_timeout_ns), .min = 1e6, .max = 3600e9,           \
      .def = "5s", .help = "a host's request unanswered this long goes to the next node of " \
      "its cluster (our choice: well above an answer's tpm_quote plus a round trip)" }
#define ROW_TOKEN_TTL                                                                      \
    { "token_ttl", VM_PARAM_TIME, P(token_ttl_ns), .min = 1e9, .max = TIME_MAX_NS,         \
      .def = "3600s", .help = "a token's validity; hosts re-attest at 3/4 of it (an "       \
      "assumption: attestation tokens live minutes to hours)" }
#define ROW_RETRY                                                                          \
    { "retry", VM_PARAM_TIME, P(retry_ns), .min = 1e6, .max = TIME_MAX_NS, .def = "60s",    \
      .help = "a refused host asks again after this, doubling at each refusal in a row "    \
      "(our choice)" },                                                                    \
    { "retry_max", VM_PARAM_TIME, P(retry_max_ns), .min = 1e6, .max = TIME_MAX_NS,          \
      .def = "3600s", .help = "... up to this (our choice)" }
#define ROWS_CACHE                                                                         \
    { "cache_ttl", VM_PARAM_TIME, P(cache_ttl_ns), .min = 1e6, .max = TIME_MAX_NS,          \
      .def = "300s", .help = "the cached targets are fetched again after this (300 s: "    \
      "Trustee's TTL cache of reference values)" },                                          \
    { "min_refetch", VM_PARAM_TIME, P(min_refetch_ns), .min = 0, .max = TIME_MAX_NS,        \
      .def = "10s", .help = "a component the cache lacks re-fetches at most this often "    \
      "(our choice: bounds the depot load a forged component can cause)" }
#define ROWS_ADMIN                                                                         \
    { "admin_min", VM_PARAM_TIME, P(admin_min_ns), .min = 0, .max = LONG_TIME_MAX_NS,            \
      .def = "3600s", .help = "an administrator updates each node's allow-list after a "    \
      "delay drawn uniformly from [admin_min, admin_max] after a release (an assumption: "  \
      "a change ticket's latency)" },                                            \
    { "admin_max", VM_PARAM_TIME, P(admin_max_ns), .min = 0, .max = LONG_TIME_MAX_NS,            \
      .def = "259200s", .help = "upper end of that delay (72 h: a ticket over a weekend)" }, \
    { "admin_shared", VM_PARAM_BOOL, P(admin_shared), .def = "false", .help = "one delay "  \
      "per update for every node (one policy store behind the nodes, as Keylime's "         \
      "verifiers share a database); false: each node its own (an assumption: separately "  \
      "administered attestation nodes)" }
#define ROW_ADMIN_RETRY                                                                    \
    { "admin_retry", VM_PARAM_TIME, P(admin_retry_ns), .min = 1e6, .max = TIME_MAX_NS,      \
      .def = "1s", .help = "the admin console resends an update a down attestation node "   \
      "did not take this often, until the node is back (1 s: an assumption for "   \
      "'the administrator re-runs the command until the node answers'; a Keylime "        \
      "deployment with a shared database would reload instead, not modelled)" }
#define ROW_HOLD                                                                           \
    { "hold_wave", VM_PARAM_BOOL, P(hold_wave), .def = "false", .help = "start each "      \
      "release's wave only once every node's allow-list has its versions (the operator "   \
      "coordinates the rollout, as Keylime's union-list workflow and vSphere TA's "        \
      "import-before-remediate do); false: the wave starts at wave_start regardless" }

static const struct vm_param depot_params[] = { ROW_REQ_TIMEOUT, ROW_TOKEN_TTL, ROW_RETRY,
                                                { NULL } };
static const struct vm_param cache_params[] = { ROW_REQ_TIMEOUT, ROW_TOKEN_TTL, ROW_RETRY,
                                                ROWS_CACHE, { NULL } };
static const struct vm_param manual_params[] = { ROW_REQ_TIMEOUT, ROW_TOKEN_TTL, ROW_RETRY,
                                                 ROWS_ADMIN, ROW_ADMIN_RETRY, ROW_HOLD,
                                                 { NULL } };
static const struct vm_param export_params[] = {
    ROW_REQ_TIMEOUT, ROW_TOKEN_TTL, ROW_RETRY,
    { "export_delay", VM_PARAM_TIME, P(export_delay_ns), .min = 0, .max = LONG_TIME_MAX_NS,
      .def = "14400s", .help = "release to the base image exported from an upgraded test "
      "host (an assumption: upgrade one host, check it, export)" },
    { "import_time", VM_PARAM_TIME, P(import_time_ns), .min = 0, .max = LONG_TIME_MAX_NS,
      .def = "1800s", .help = "one attestation cluster's import, clusters in turn (an "
      "assumption: an administrator's session per Trust Authority cluster)" },
    ROW_ADMIN_RETRY,
    ROW_HOLD,
    { NULL },
};
static const struct vm_param union_params[] = {
    ROW_REQ_TIMEOUT, ROW_TOKEN_TTL, ROW_RETRY, ROWS_ADMIN,
    { "union_window", VM_PARAM_TIME, P(union_window_ns), .min = 0, .max = LONG_TIME_MAX_NS,
      .def = "604800s", .help = "release to the old versions removed from the union list "
      "(an assumption: a one-week rollout window)" },
    ROW_ADMIN_RETRY,
    ROW_HOLD,
    { NULL },
};

/* In enum at_method order. */
static const struct sim_policy_info methods[AT_NR_METHODS] = {
    [AT_DEPOT] = { "depot", "the patent (US20210382706), per request: the node asks the depot "
                   "for the host's components and checks its signed, fresh answer",
                   depot_params, false },
    [AT_DEPOT_CACHE] = { "depot-cache", "the patent with a local cache of the depot's signed "
                         "targets, fetched again on expiry or on a component it lacks",
                         cache_params, false },
    [AT_DEPOT_FEED] = { "depot-feed", "the patent with the cache kept fresh by the depot's "
                        "change feed (each new targets version and timestamp pushed)",
                        depot_params, false },
    [AT_MANUAL] = { "manual", "golden values: an administrator updates each node's allow-list "
                    "some time after each release", manual_params, false },
    [AT_EXPORT_IMPORT] = { "export-import", "vSphere Trust Authority style: one base image "
                           "exported per new version and imported into each attestation "
                           "cluster in turn", export_params, false },
    [AT_UNION] = { "union", "a Keylime-style union list (old and new versions) installed for "
                   "the upgrade window", union_params, false },
    [AT_BROKEN_NONCE] = { "broken-nonce", "test only: depot without the nonce check",
                          depot_params, true },
    [AT_BROKEN_ROLLBACK] = { "broken-rollback", "test only: depot-cache that accepts an older "
                             "targets version", cache_params, true },
    [AT_BROKEN_FREEZE] = { "broken-freeze", "test only: depot-cache that takes an expired "
                           "timestamp", cache_params, true },
    [AT_BROKEN_WITHDRAW] = { "broken-withdraw", "test only: depot that accepts a version its "
                             "lookup answer says is withdrawn", depot_params, true },
    [AT_BROKEN_REVOKED] = { "broken-revoked", "test only: depot-cache that believes a timestamp "
                            "signed with its shipped root's timestamp key after a rotation "
                            "revoked it", cache_params, true },
};

static bool method_get(int i, struct sim_policy_info *out)
{
    if (i < 0 || i >= AT_NR_METHODS)
        return false;
    *out = methods[i];
    return true;
}

static const struct sim_policy_set method_set = {
    .name = "method",
    .used_by = "variants[].policy",
    .cfg_size = sizeof(struct at_params),
    .get = method_get,
};

static const struct sim_policy_set *const policy_sets[] = { &method_set, NULL };

static const struct sim_policy_set *variant_set(const cJSON *doc)
{
    (void)doc;
    return &method_set;
}

enum at_method sim_at_method(const char *name)
{
    for (int i = 0; i < AT_NR_METHODS; i++)
        if (strcmp(name, methods[i].name) == 0)
            return (enum at_method)i;
    return AT_DEPOT;
}

/* ------------------------------------------------------------ sections */

#define C(field) offsetof(struct sim_at_cfg, field)

static const struct sim_key dc_keys[] = {
    SIM_KEY_SCALAR_ROW("hosts", 0, VM_PARAM_U32, C(hosts), 1, AT_MAX_HOSTS, "1000",
                       "hosts that boot measured software and attest"),
    SIM_KEY_SCALAR_ROW("rack_hosts", 0, VM_PARAM_U32, C(rack_hosts), 1, AT_MAX_HOSTS, "40",
                       "hosts per rack, one endpoint r<k> each (40: a 42U rack of 1U "
                       "servers and its switches, an assumption)"),
    SIM_KEY_SCALAR_ROW("nodes", 0, VM_PARAM_U32, C(nodes), 1, AT_MAX_NODES, "4",
                       "attestation nodes a0.. (the platform must have them)"),
    SIM_KEY_SCALAR_ROW("cluster_nodes", 0, VM_PARAM_U32, C(cluster_nodes), 1, 63,
                       "2", "nodes per attestation cluster (2: the smallest redundant "
                       "Trust Authority cluster)"),
    SIM_KEY_SCALAR_ROW("cluster_hosts", 0, VM_PARAM_U32, C(cluster_hosts), 1, AT_MAX_HOSTS,
                       "96", "hosts per workload cluster (96: vSphere 8's maximum hosts per "
                       "cluster, Configuration Maximums)"),
    SIM_KEY_SCALAR_ROW("boot_at", 0, VM_PARAM_TIME, C(boot_at_ns), 0, RUN_MAX_NS, "0s",
                       "the hosts boot (a power event) from this instant"),
    SIM_KEY_SCALAR_ROW("boot_spread", 0, VM_PARAM_TIME, C(boot_spread_ns), 0, TIME_MAX_NS,
                       "60s", "... uniformly over this long"),
    SIM_KEY_SCALAR_ROW("boot_time", 0, VM_PARAM_TIME, C(boot_time_ns), 0, TIME_MAX_NS, "300s",
                       "an upgrade's reboot (an assumption: an ESXi server's POST and boot "
                       "take minutes)"),
    SIM_KEY_SCALAR_ROW("batch", 0, VM_PARAM_TIME, C(batch_ns), 0, 1e9, "1ms",
                       "a rack's messages to one node within this window travel as one "
                       "(simulation granularity, not protocol)"),
    SIM_KEY_SCALAR_ROW("msg_size", 0, VM_PARAM_SIZE, C(msg_bytes), 64, 1 << 20, "512B",
                       "a control message on the wire, headers included (an assumption)"),
    SIM_KEY_SCALAR_ROW("sample", 0, VM_PARAM_DOUBLE, C(sample), 0, 1, "0.01",
                       "fraction of quotes really signed and verified (the others are "
                       "charged alike; 1 in tests)"),
    SIM_KEY_ENUM_ROW("quote_alg", 0, C(quote_alg), "ed25519|ecdsa-p256", "ecdsa-p256",
                     "the hosts' attestation keys sign quotes with this (ecdsa-p256: one "
                     "choice for a TPM 2.0 quote, TPM_ALG_ECDSA on TPM_ECC_NIST_P256, TCG TPM 2.0 Library "
                     "Part 2 sections 6.3 and 6.4, TPM2_Quote in Part 3; ed25519: a "
                     "software signer, no TPM signs Ed25519; Keylime's defaults are "
                     "rsassa, RSA-2048, not modelled); the nodes verify it at its "
                     "measured cost"),
    SIM_KEY_SCALAR_ROW("tpm_quote", 0, VM_PARAM_TIME, C(tpm_quote_ns), 0, 60e9, "200ms",
                       "a host's TPM makes a quote (TPM2_Quote) in this long, one command at "
                       "a time per host (0: no TPM delay).  200 ms: second-hand client-device "
                       "data, not a server TPM2_Quote measurement: the median of Chrome's "
                       "field study of TPM2_Sign ECDSA P-256 on client devices, p95 600 ms, "
                       "as reported in \"Is TPM performance good enough to sign every "
                       "request?\" (stiankri.substack.com/p/tpm-performance); firmware TPMs "
                       "can be far faster (an AMD fTPM: ~178 RSA-2048 signatures/s, "
                       "hackmd.io/@nemoz/BkjT3ygh9): give the measured time of the TPM modelled"),
    SIM_KEY_ENUM_ROW("token_alg", 0, C(token_alg), "ed25519|ecdsa-p256", "ed25519",
                     "the nodes sign tokens with this (ed25519 or ecdsa-p256, as JWS's EdDSA "
                     "and ES256), at its measured cost"),
    SIM_KEY_END,
};

static const struct sim_key depot_keys[] = {
    SIM_KEY_STR_ROW("metadata", SIM_KEY_REQ, sim_cfg_set_path, C(metadata), SIM_PATH_MAX,
                    "the depot metadata file (vmsim-depot/2: TUF root, snapshot, targets)"),
    SIM_KEY_SCALAR_ROW("key_seed", 0, VM_PARAM_U64, C(key_seed), 0, SIM_CFG_SEED_MAX, "1",
                       "the depot's keys: at_key_seed(\"depot-targets\" | "
                       "\"depot-timestamp\" | \"depot-snapshot\" | \"depot-root\", "
                       "key_seed, generation)"),
    SIM_KEY_SCALAR_ROW("key_rotation", 0, VM_PARAM_TIME, C(key_rotation_ns), 0, RUN_MAX_NS,
                       "0s", "the depot rotates every role's key then: root 2 signed by "
                       "the old and the new root key, the catalog re-signed as a new "
                       "targets version (TUF 5.3; 0s: never)"),
    SIM_KEY_SCALAR_ROW("ts_period", 0, VM_PARAM_TIME, C(ts_period_ns), 1e6, TIME_MAX_NS, "60s",
                       "the depot signs a new timestamp this often (our choice)"),
    SIM_KEY_SCALAR_ROW("ts_expiry", 0, VM_PARAM_TIME, C(ts_expiry_ns), 1e6, TIME_MAX_NS,
                       "1440min", "a timestamp's validity: a frozen view is refused after "
                       "this (1 day: TUF's reference default for the timestamp role)"),
    SIM_KEY_SCALAR_ROW("targets_expiry", 0, VM_PARAM_TIME, C(targets_expiry_ns), 1e6,
                       LONG_TIME_MAX_NS, "43200min",
                       "a new targets version's validity (30 days: the model's choice, in "
                       "TUF's spirit of longer-lived targets)"),
    SIM_KEY_END,
};

#define R(field) offsetof(struct sim_at_release, field)
static const struct sim_key release_keys[] = {
    SIM_KEY_SCALAR_ROW("at", SIM_KEY_REQ, VM_PARAM_TIME, R(at_ns), 0, RUN_MAX_NS, NULL,
                       "the new versions are published in the depot"),
    SIM_KEY_SCALAR_ROW("packages", 0, VM_PARAM_U32, R(packages), 0, 1 << 20, "0",
                       "packages upgraded: the depot file's first n (0: all)"),
    SIM_KEY_SCALAR_ROW("new_packages", 0, VM_PARAM_U32, R(new_packages), 0, AT_MAX_NEW_PKGS,
                       "0", "new packages from a new vendor it introduces (partner-drv-<k>-<i> "
                       "1.0.0 of Partner<k>, 4 files each): published with it, installed by "
                       "its wave, kept by later releases, added to allow-lists with it"),
    SIM_KEY_SCALAR_ROW("wave_start", 0, VM_PARAM_TIME, R(wave_start_ns), 0, RUN_MAX_NS, NULL,
                       "hosts start upgrading (default: at)"),
    SIM_KEY_SCALAR_ROW("wave_rate", 0, VM_PARAM_DOUBLE, R(wave_rate), 0, 1e6, "0",
                       "hosts upgraded per second, in id order (0: no wave)"),
    SIM_KEY_SCALAR_ROW("wave_hosts", 0, VM_PARAM_U32, R(wave_hosts), 0, AT_MAX_HOSTS, "0",
                       "hosts the wave upgrades (0: all)"),
    SIM_KEY_END,
};

#define A(field) offsetof(struct sim_at_attack, field)
#define ATTACK_KINDS "tamper|unknown|replay|wrong_key|malformed|withdraw|freeze|rollback|" \
                     "bad_sig|bad_alg|depot_down|node_crash|revoked_key|mix_and_match"
static const struct sim_key attack_keys[] = {
    SIM_KEY_ENUM_ROW("kind", SIM_KEY_REQ, A(kind), ATTACK_KINDS, NULL,
                     "hosts: tamper, unknown, replay, wrong_key, malformed; depot: withdraw "
                     "(a release's versions), freeze, rollback, bad_sig, bad_alg, depot_down, "
                     "revoked_key (fresh metadata signed with the keys depot.key_rotation "
                     "revoked), mix_and_match (targets of another snapshot); node_crash"),
    SIM_KEY_SCALAR_ROW("at", SIM_KEY_REQ, VM_PARAM_TIME, A(at_ns), 0, RUN_MAX_NS, NULL,
                       "it begins"),
    SIM_KEY_SCALAR_ROW("len", 0, VM_PARAM_TIME, A(len_ns), 0, RUN_MAX_NS, "0s",
                       "it lasts (0: to the end; node_crash: down time)"),
    SIM_KEY_SCALAR_ROW("first", 0, VM_PARAM_U32, A(first), 0, AT_MAX_HOSTS, "0",
                       "host attacks: the first host attacked"),
    SIM_KEY_SCALAR_ROW("hosts", 0, VM_PARAM_U32, A(hosts), 1, AT_MAX_HOSTS, "1",
                       "host attacks: hosts [first, first + hosts)"),
    SIM_KEY_SCALAR_ROW("release", 0, VM_PARAM_U32, A(release), 0, AT_MAX_RELEASES - 1, "1",
                       "withdraw: the release whose versions are withdrawn (0: the base)"),
    SIM_KEY_SCALAR_ROW("node", 0, VM_PARAM_U32, A(node), 0, AT_MAX_NODES - 1, "0",
                       "node_crash: the node"),
    SIM_KEY_END,
};

/* An array of objects of k->sub rows into elements of `size` bytes at
 * base, at most max; *count set. */
static int set_array(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                     void *base, size_t size, int max, uint32_t *count, size_t unset_off)
{
    char got[64];
    if (!cJSON_IsArray(v))
        return sim_cfg_err(w, "expected array of objects, got %s", sim_json_got(v, got, sizeof got));
    int n = cJSON_GetArraySize(v);
    if (n > max)
        return sim_cfg_err(w, "expected at most %d entries, got %d", max, n);
    int i = 0, before = sim_cfg_nr_errors(w);
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        void *el = (char *)base + (size_t)i * size;
        size_t mark = sim_cfg_push_index(w, i);
        memset(el, 0, size);
        sim_cfg_apply_defaults(k->sub, el);
        if (unset_off != (size_t)-1)
            *(uint64_t *)(void *)((char *)el + unset_off) = UINT64_MAX;
        if (!cJSON_IsObject(e))
            sim_cfg_err(w, "expected object, got %s", sim_json_got(e, got, sizeof got));
        else
            sim_cfg_walk_object(w, e, k->sub, el);
        sim_cfg_pop(w, mark);
    }
    *count = (uint32_t)n;
    return sim_cfg_nr_errors(w) == before ? 0 : VM_EINVAL;
}

static int set_releases(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                        void *obj)
{
    struct sim_at_cfg *c = obj;
    return set_array(w, k, v, c->releases, sizeof c->releases[0], AT_MAX_RELEASES - 1,
                     &c->nr_releases, R(wave_start_ns));
}

static int set_attacks(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v,
                       void *obj)
{
    struct sim_at_cfg *c = obj;
    return set_array(w, k, v, c->attacks, sizeof c->attacks[0], AT_MAX_ATTACKS,
                     &c->nr_attacks, (size_t)-1);
}

static const struct sim_key scenario_keys[] = {
    SIM_KEY_SCALAR_ROW("duration", 0, VM_PARAM_TIME, C(duration_ns), 1e9, RUN_MAX_NS, "3600s",
                       "the run's length"),
    SIM_KEY_SCALAR_ROW("until_quiet", 0, VM_PARAM_BOOL, C(until_quiet), 0, 0, "false",
                       "end earlier, once every host has an answer and no release, wave or "
                       "attack is pending (re-attestations are not waited for): a power "
                       "event's figures without its steady state"),
    SIM_KEY_SCALAR_ROW("bin", 0, VM_PARAM_TIME, C(bin_ns), 1e6, RUN_MAX_NS, "60s",
                       "timeline bin width (answers per bin, in the record's detail)"),
    SIM_KEY_END,
};

static const struct sim_key sections[] = {
    SIM_KEY_OBJ_ROW("datacenter", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, dc_keys, NULL,
                    "the hosts, racks, attestation nodes and clusters"),
    SIM_KEY_OBJ_ROW("depot", SIM_KEY_REQ | SIM_KEY_DEFAULTS, sim_cfg_set_object, 0,
                    depot_keys, NULL, "the software depot: its metadata file, keys and "
                    "timestamp schedule"),
    SIM_KEY_ARR_ROW("releases", 0, set_releases, release_keys, NULL,
                    "[{at, packages, new_packages, wave_start, wave_rate, wave_hosts}]: new "
                    "versions, new vendor packages and the rolling upgrades that install them"),
    SIM_KEY_ARR_ROW("attacks", 0, set_attacks, attack_keys, NULL,
                    "[{kind, at, len, first, hosts, release, node}]"),
    SIM_KEY_OBJ_ROW("scenario", SIM_KEY_DEFAULTS, sim_cfg_set_object, 0, scenario_keys, NULL,
                    "the run's length and timeline"),
    SIM_KEY_OBJ_ROW("costs", SIM_KEY_DEFAULTS, sim_at_costs_set, C(costs), sim_at_cost_keys,
                    NULL, "CPU cost per operation: a costs file (vmsim calibrate -o) or "
                    "{file, sha256_ns_per_byte, ...}; keys given win"),
    SIM_KEY_END,
};

/* ------------------------------------------------------------ checks */

bool sim_at_node_index(const struct sim_at_cfg *c, const char *name, uint32_t *j)
{
    char canon[16];
    char *end;
    if (name[0] != 'a' || name[1] < '0' || name[1] > '9')
        return false;
    unsigned long v = strtoul(name + 1, &end, 10);
    if (*end || v >= c->nodes)
        return false;
    snprintf(canon, sizeof canon, "a%lu", v);
    if (strcmp(canon, name) != 0)
        return false;            /* "a01" is no node's name */
    *j = (uint32_t)v;
    return true;
}

uint32_t sim_at_racks(const struct sim_at_cfg *c)
{
    return (uint32_t)(((uint64_t)c->hosts + c->rack_hosts - 1) / c->rack_hosts);
}

static bool host_attack(int kind)
{
    return kind == AT_ATK_TAMPER || kind == AT_ATK_UNKNOWN || kind == AT_ATK_REPLAY ||
           kind == AT_ATK_WRONG_KEY || kind == AT_ATK_MALFORMED;
}

static int check_releases(struct sim_cfg_walk *w, struct sim_at_cfg *c)
{
    int rc = 0;
    char path[96];
    for (uint32_t i = 0; i < c->nr_releases; i++) {
        struct sim_at_release *r = &c->releases[i];
        if (r->wave_start_ns == UINT64_MAX)
            r->wave_start_ns = r->at_ns;
        if (i > 0 && r->at_ns <= c->releases[i - 1].at_ns) {
            snprintf(path, sizeof path, "$.releases[%u].at", i);
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected a time after releases[%u].at "
                                "(%.9g s): releases are in time order, got %.9g s", i - 1,
                                (double)c->releases[i - 1].at_ns / 1e9, (double)r->at_ns / 1e9);
        }
        if (r->at_ns >= c->duration_ns) {
            snprintf(path, sizeof path, "$.releases[%u].at", i);
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected a time within the run "
                                "(scenario.duration %.9g s), got %.9g s",
                                (double)c->duration_ns / 1e9, (double)r->at_ns / 1e9);
        }
        if (r->wave_hosts > c->hosts) {
            snprintf(path, sizeof path, "$.releases[%u].wave_hosts", i);
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected at most datacenter.hosts (%u), "
                                "got %u", c->hosts, r->wave_hosts);
        } else if (r->wave_rate > 0) {
            uint32_t n = r->wave_hosts ? r->wave_hosts : c->hosts;
            double end_s = (double)r->wave_start_ns / 1e9 + (double)n / r->wave_rate;
            if (end_s > (double)c->duration_ns / 1e9) {
                snprintf(path, sizeof path, "$.releases[%u].wave_rate", i);
                rc = sim_cfg_err_at(w, VM_EINVAL, path, "impossible schedule: %u hosts at "
                                    "%g hosts/s from %.9g s end at %.9g s, past the run's end "
                                    "(scenario.duration %.9g s)", n, r->wave_rate,
                                    (double)r->wave_start_ns / 1e9, end_s,
                                    (double)c->duration_ns / 1e9);
            }
        }
    }
    return rc;
}

static int check_attacks(struct sim_cfg_walk *w, const struct sim_at_cfg *c)
{
    int rc = 0;
    char path[96];
    for (uint32_t i = 0; i < c->nr_attacks; i++) {
        const struct sim_at_attack *a = &c->attacks[i];
        if (a->at_ns >= c->duration_ns) {
            snprintf(path, sizeof path, "$.attacks[%u].at", i);
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected a time within the run "
                                "(scenario.duration %.9g s), got %.9g s",
                                (double)c->duration_ns / 1e9, (double)a->at_ns / 1e9);
        }
        if (host_attack(a->kind) && (uint64_t)a->first + a->hosts > c->hosts) {
            snprintf(path, sizeof path, "$.attacks[%u].%s", i, a->first >= c->hosts ? "first"
                                                                                  : "hosts");
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "attack hosts beyond the datacenter: "
                                "hosts %u..%llu, the datacenter has 0..%u", a->first,
                                (unsigned long long)a->first + a->hosts - 1, c->hosts - 1);
        }
        if (a->kind == AT_ATK_NODE_CRASH && a->node >= c->nodes) {
            snprintf(path, sizeof path, "$.attacks[%u].node", i);
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "unknown node %u (the datacenter has "
                                "nodes 0..%u)", a->node, c->nodes - 1);
        }
        if (a->kind == AT_ATK_REVOKED_KEY &&
            (!c->key_rotation_ns || c->key_rotation_ns >= a->at_ns)) {
            snprintf(path, sizeof path, "$.attacks[%u].at", i);
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "a revoked_key attack needs a key rotation "
                                "before it: depot.key_rotation %s, the attack at %.9g s",
                                c->key_rotation_ns ? "is not before it" : "is 0s (never)",
                                (double)a->at_ns / 1e9);
        }
        if (a->kind == AT_ATK_WITHDRAW && a->release > c->nr_releases) {
            snprintf(path, sizeof path, "$.attacks[%u].release", i);
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "unknown release %u (the config has "
                                "releases 1..%u, and 0 the base)", a->release, c->nr_releases);
        }
        if (a->kind == AT_ATK_WITHDRAW && a->release > 0 &&
            a->at_ns < c->releases[a->release - 1].at_ns) {
            snprintf(path, sizeof path, "$.attacks[%u].at", i);
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected a time at or after release "
                                "%u is published (%.9g s), got %.9g s", a->release,
                                (double)c->releases[a->release - 1].at_ns / 1e9,
                                (double)a->at_ns / 1e9);
        }
    }
    return rc;
}

static int finish(struct sim_cfg_walk *w, void *cfg)
{
    struct sim_at_cfg *c = cfg;
    int rc = 0;
    if (c->cluster_nodes > c->nodes || c->nodes % c->cluster_nodes != 0)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.datacenter.cluster_nodes", "expected a divisor "
                            "of datacenter.nodes (%u), got %u", c->nodes, c->cluster_nodes);
    if (c->rack_hosts <= c->hosts && sim_at_racks(c) > AT_MAX_RACKS)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.datacenter.rack_hosts", "expected at least %u "
                            "(at most %d racks of %u hosts), got %u",
                            (unsigned)((c->hosts + AT_MAX_RACKS - 1) / AT_MAX_RACKS),
                            AT_MAX_RACKS, c->hosts, c->rack_hosts);
    if (c->boot_at_ns + c->boot_spread_ns >= c->duration_ns)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.datacenter.boot_spread", "impossible schedule: "
                            "the boots end at %.9g s, not before the run's end "
                            "(scenario.duration %.9g s)",
                            (double)(c->boot_at_ns + c->boot_spread_ns) / 1e9,
                            (double)c->duration_ns / 1e9);
    if (c->duration_ns / c->bin_ns >= AT_MAX_BINS)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.scenario.bin", "expected at least %.9g s "
                            "(at most %d bins in scenario.duration)",
                            ceil((double)c->duration_ns / AT_MAX_BINS / 1e6) / 1e3,
                            AT_MAX_BINS - 1);
    if (c->key_rotation_ns >= c->duration_ns)
        rc = sim_cfg_err_at(w, VM_EINVAL, "$.depot.key_rotation", "expected a time within "
                            "the run (scenario.duration %.9g s) or 0s, got %.9g s",
                            (double)c->duration_ns / 1e9, (double)c->key_rotation_ns / 1e9);
    if (check_releases(w, c))
        rc = VM_EINVAL;
    if (check_attacks(w, c))
        rc = VM_EINVAL;
    return rc;
}

/* ------------------------------------------------------------ results */

static const struct sim_metric_def metrics[SIM_AT_M_NR] = {
#define X(id, nm, un, hi, ds) [SIM_AT_M_##id] = { .name = nm, .unit = un, \
                                                   .higher_is_better = hi, .desc = ds },
    SIM_AT_METRICS(X)
#undef X
};

static const struct sim_inv_def invariants[SIM_AT_INV_NR] = {
#define X(id, nm, bad, ds) [SIM_AT_INV_##id] = { .name = nm, .is_violation = bad, .desc = ds },
    SIM_AT_INVARIANTS(X)
#undef X
};

const struct sim_mech sim_at_mech = {
    .name = "attestation",
    .summary = "attest datacenter hosts against the software depot's signed metadata "
               "(US20210382706) instead of admin-configured golden values, with real "
               "SHA-256, Ed25519 and ECDSA P-256, through upgrades, attacks and depot outages",
    .notes = "  Every token is checked against the ground truth: forged evidence, a\n"
             "  rolled-back or expired depot view, a timestamp the depot never signed\n"
             "  (a revoked key's forgery), a version the node knew withdrawn.\n"
             "  Any of them fails the run (exit 1) for every method; the hidden\n"
             "  broken-nonce, broken-rollback, broken-freeze, broken-withdraw and\n"
             "  broken-revoked methods exist to show the check bites.\n"
             "  The depot's metadata has TUF's root, snapshot, targets and timestamp\n"
             "  roles; depot.key_rotation rotates every key (root 2) and the nodes\n"
             "  follow it (TUF 5.3).\n"
             "  A depot outage: a msg_loss fault with p 1 and a \"depot\", or the\n"
             "  depot_down attack.  Rack k's endpoint lives on platform host\n"
             "  r<k mod R> (R: the platform's racks r0, r1, ...), so a fault naming\n"
             "  r5 hits every rack k = 5 mod R.  Depot files: vmsim-depot.\n"
             "  A node crash: a host_crash fault naming a node (host \"a<j>\",\n"
             "  j < datacenter.nodes) at an instant (at, or drawn in [from, until)),\n"
             "  restart_after required.  The node loses its queued and in-flight\n"
             "  work, the nonces it issued and its cached depot view; its hosts time\n"
             "  out (the timeouts metric) and try the next node of their cluster; it\n"
             "  restarts empty and fetches the depot's targets again through TUF's\n"
             "  checks (its trusted versions persist: no rollback across a restart).\n",
    .sections = sections,
    .cfg_size = sizeof(struct sim_at_cfg),
    .policy_sets = policy_sets,
    .variant_set = variant_set,
    .finish = finish,
    .check = sim_at_check,
    .metrics = metrics,
    .nr_metrics = SIM_AT_M_NR,
    .invariants = invariants,
    .nr_invariants = SIM_AT_INV_NR,
    .run = sim_at_run,
    .fault_kinds = SIM_FAULT_MSG_KINDS | SIM_FAULT_BIT(SIM_FAULT_HOST_CRASH),
};
