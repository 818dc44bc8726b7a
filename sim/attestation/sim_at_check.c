/*
 * sim_at_check.c - what the attestation plug-in checks in files, in
 * `vmsim validate` and `vmsim run` alike before any run point starts: the
 * platform has the endpoints' hosts (r0, a0..a<nodes-1>, depot, admin),
 * the depot metadata file parses and its signature verifies with the
 * depot's targets key, releases upgrade no more packages than it has
 * and add no more new ones than a host's log holds,
 * method parameters that must be ordered (retry <= retry_max, admin_min <=
 * admin_max); every fault begins within the run, and a host_crash names an
 * attestation node, gives restart_after and does not crash a node still
 * down; and the "costs" section (a costs file, or figures given inline).
 */
#include <stdio.h>
#include <string.h>

#include "attestation/sim_at_depotfile.h"
#include "attestation/sim_at_int.h"
#include "sim_calib.h"
#include "sim_json.h"
#include "sim_platform.h"

/* ------------------------------------------------------------- costs */

#define K(field) offsetof(struct sim_at_costs, ns.field)
/* Defaults: the "crypto" figures of workloads/costs/calibration.json, the
 * calibration shipped with vmsim (AMD EPYC, 2 cores, OpenSSL 3.0.19,
 * 2026-11-30T13:45:16Z), through sim_calib_crypto_costs: sha256_4k_ns
 * 2450.3 / 4096 per byte, sha256_64_ns 123.7, ed25519_sign_ns 28930,
 * ed25519_verify_ns 76750.5, ecdsa_p256_sign_ns 20568.5,
 * ecdsa_p256_verify_ns 51097, policy_lookup_ns 51.5.  Copied here, as the
 * checkpoint mechanism's are, so a config without "costs" reads no file;
 * tests/attestation/check_at_depotfile.c fails when they disagree. */
const struct sim_key sim_at_cost_keys[] = {
    SIM_KEY_STR_ROW("file", 0, sim_cfg_set_skip, 0, SIM_PATH_MAX,
                    "costs file of vmsim calibrate -o (its \"crypto\" figures); the keys "
                    "given here win"),
    SIM_KEY_SCALAR_ROW("sha256_ns_per_byte", 0, VM_PARAM_DOUBLE, K(sha256_ns_per_byte), 0, 1e6,
                       "0.598217773", "bulk SHA-256, ns per byte (4 KiB blocks)"),
    SIM_KEY_SCALAR_ROW("sha256_small_ns", 0, VM_PARAM_DOUBLE, K(sha256_small_ns), 0, 1e9,
                       "123.7", "one SHA-256 of at most 64 bytes, ns"),
    SIM_KEY_SCALAR_ROW("sign_ns", 0, VM_PARAM_DOUBLE, K(sign_ns), 0, 1e9, "28930",
                       "one Ed25519 signature, ns"),
    SIM_KEY_SCALAR_ROW("verify_ns", 0, VM_PARAM_DOUBLE, K(verify_ns), 0, 1e9, "76750.5",
                       "one Ed25519 verification, ns"),
    SIM_KEY_SCALAR_ROW("ecdsa_sign_ns", 0, VM_PARAM_DOUBLE, K(ecdsa_sign_ns), 0, 1e9, "20568.5",
                       "one ECDSA P-256 signature of a SHA-256 digest, ns"),
    SIM_KEY_SCALAR_ROW("ecdsa_verify_ns", 0, VM_PARAM_DOUBLE, K(ecdsa_verify_ns), 0, 1e9,
                       "51097", "one ECDSA P-256 verification, ns"),
    SIM_KEY_SCALAR_ROW("lookup_ns", 0, VM_PARAM_DOUBLE, K(lookup_ns), 0, 1e9, "51.5",
                       "one package looked up in a policy index, ns (a digest-index probe)"),
    SIM_KEY_END,
};

static int load_costs_file(struct sim_cfg_walk *w, const cJSON *v, void *arg)
{
    struct sim_at_costs *costs = arg;
    char path[SIM_PATH_MAX];
    const struct sim_key pk = { .name = "file", .len = sizeof path };
    if (sim_cfg_set_path(w, &pk, v, path) != 0)
        return VM_EINVAL;
    struct sim_calib c;
    struct vm_diag d = { 0 };
    if (sim_calib_load(path, &c, &d) != 0)
        return sim_cfg_err(w, "%s", d.msg);
    struct at_costs *n = &costs->ns;
    if (sim_calib_crypto_costs(&c, &n->sha256_ns_per_byte, &n->sha256_small_ns, &n->sign_ns,
                               &n->verify_ns, &n->lookup_ns, &d) != 0 ||
        sim_calib_crypto_ecdsa_costs(&c, &n->ecdsa_sign_ns, &n->ecdsa_verify_ns, &d) != 0)
        return sim_cfg_err(w, "%s", d.msg);
    snprintf(costs->file, sizeof costs->file, "%s", path);
    return 0;
}

int sim_at_costs_set(struct sim_cfg_walk *w, const struct sim_key *k, const cJSON *v, void *obj)
{
    return sim_cfg_set_costs(w, k, v, (char *)obj + k->p.off, load_costs_file);
}

/* ------------------------------------------------------------- checks */

/* The platform has r0, a0..a<nodes-1>, depot and admin (one platform
 * load per platform and node count). */
static int check_hosts(struct sim_cfg_walk *w, const struct sim_exp *e)
{
    const struct sim_at_cfg *c = e->mech_cfg;
    char key[SIM_PATH_MAX + 16];
    snprintf(key, sizeof key, "%s|%u", e->platform, c->nodes);
    struct sim_cfg_memo m;
    if (!sim_cfg_memo_get(w, "at-hosts", key, &m)) {
        char list[AT_MAX_NODES * 7 + 32];
        size_t len = (size_t)snprintf(list, sizeof list, "r0,depot,admin");
        for (uint32_t j = 0; j < c->nodes; j++)
            len += (size_t)snprintf(list + len, sizeof list - len, ",a%u", j);
        struct vm_diag d = { 0 };
        enum sim_platform_part part;
        memset(&m, 0, sizeof m);
        m.rc = sim_platform_check(e->platform, list, NULL, 0, NULL, &part, NULL, &d);
        snprintf(m.msg, sizeof m.msg, "%s", d.msg);
        sim_cfg_memo_put(w, "at-hosts", key, &m);
    }
    if (!m.rc)
        return 0;
    const char *path = strstr(m.msg, "unknown host 'a") ? "$.datacenter.nodes" : "$.platform";
    return sim_cfg_err_at(w, VM_EINVAL, path, "expected a platform with hosts r0.., a0..a%u, "
                          "depot and admin (workloads/platforms/dc-attest.xml): %s",
                          c->nodes - 1, m.msg);
}

/* The depot file loads and verifies; value[0] = its packages. */
static int check_depot(struct sim_cfg_walk *w, const struct sim_exp *e, uint32_t *nr_pkgs)
{
    const struct sim_at_cfg *c = e->mech_cfg;
    char key[SIM_PATH_MAX + 24];
    snprintf(key, sizeof key, "%s|%llu", c->metadata, (unsigned long long)c->key_seed);
    struct sim_cfg_memo m;
    if (!sim_cfg_memo_get(w, "at-depot", key, &m)) {
        struct vm_diag d = { 0 };
        struct sim_at_keyset ks;
        struct at_catalog cat;
        memset(&m, 0, sizeof m);
        m.rc = sim_at_keyset_init(&ks, c->key_seed, &d);
        if (!m.rc) {
            m.rc = sim_at_depot_load(c->metadata, &ks, &cat, &d);
            m.value[0] = cat.nr_pkgs;
            at_catalog_free(&cat);
            sim_at_keyset_free(&ks);
        }
        snprintf(m.msg, sizeof m.msg, "%s", d.msg);
        sim_cfg_memo_put(w, "at-depot", key, &m);
    }
    *nr_pkgs = (uint32_t)m.value[0];
    if (!m.rc)
        return 0;
    return sim_cfg_err_at(w, VM_EINVAL, "$.depot.metadata", "%s", m.msg);
}

/* The variant's index in the document, for a path (-1: not found). */
static int variant_index(struct sim_cfg_walk *w, const struct sim_exp *e)
{
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(sim_cfg_doc(w), "variants");
    int i = 0;
    for (const cJSON *v = vs ? vs->child : NULL; v; v = v->next, i++) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(v, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, e->variant) == 0)
            return i;
    }
    return -1;
}

/* Pairs of a method's parameters that must be ordered. */
static int check_params(struct sim_cfg_walk *w, const struct sim_exp *e)
{
    struct at_params p;
    char path[96];
    int rc = 0, vi;
    sim_at_params(e, &p);
    if (p.retry_max_ns < p.retry_ns) {
        vi = variant_index(w, e);
        snprintf(path, sizeof path, "$.variants[%d].params.retry_max", vi < 0 ? 0 : vi);
        rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected at least retry (%.9g s), got %.9g s",
                            (double)p.retry_ns / 1e9, (double)p.retry_max_ns / 1e9);
    }
    if ((p.method == AT_MANUAL || p.method == AT_UNION) && p.admin_max_ns < p.admin_min_ns) {
        vi = variant_index(w, e);
        snprintf(path, sizeof path, "$.variants[%d].params.admin_max", vi < 0 ? 0 : vi);
        rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected at least admin_min (%.9g s), got "
                            "%.9g s", (double)p.admin_min_ns / 1e9, (double)p.admin_max_ns / 1e9);
    }
    return rc;
}

/* ------------------------------------------------------------- faults */

/* Fault i of the document as written has key `key` (the walk filled the
 * core's default for an absent one, so the struct cannot tell). */
static bool fault_has(struct sim_cfg_walk *w, int i, const char *key)
{
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(sim_cfg_doc(w), "faults");
    const cJSON *f = cJSON_IsArray(fs) ? cJSON_GetArrayItem(fs, i) : NULL;
    return !f || cJSON_GetObjectItemCaseSensitive(f, key);   /* not found: not ours to judge */
}

/* A host_crash names a node a0..a<nodes-1> (a host the platform lacks is
 * the core's line), gives its down time, and begins within the run. */
static int check_crash(struct sim_cfg_walk *w, const struct sim_exp *e, int i)
{
    const struct sim_at_cfg *c = e->mech_cfg;
    const struct sim_exp_fault *f = &e->faults[i];
    char path[64];
    uint32_t j;
    int rc = 0;
    snprintf(path, sizeof path, "$.faults[%d].host", i);
    if (!f->host[0])
        rc = sim_cfg_err_at(w, VM_EINVAL, path, "missing: an attestation host_crash names "
                            "its node (a0..a%u)", c->nodes - 1);
    else if (!sim_at_node_index(c, f->host, &j))
        /* a host the platform lacks: the core's line (the same, so not repeated) */
        rc = sim_cfg_check_host(w, e->platform, f->host, path)
                 ? VM_EINVAL
                 : sim_cfg_err_at(w, VM_EINVAL, path, "expected an attestation node "
                                  "(a0..a%u), got '%s'", c->nodes - 1, f->host);
    if (!fault_has(w, i, "restart_after")) {
        snprintf(path, sizeof path, "$.faults[%d]", i);
        rc = sim_cfg_err_at(w, VM_EINVAL, path, "missing required key 'restart_after' (the "
                            "node's down time: attestation takes no default)");
    } else if (f->restart_after_ns == 0) {
        snprintf(path, sizeof path, "$.faults[%d].restart_after", i);
        rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected a down time > 0, got 0 s");
    }
    if (!f->drawn && f->at_ns >= c->duration_ns) {
        snprintf(path, sizeof path, "$.faults[%d].at", i);
        rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected a time within the run "
                            "(scenario.duration %.9g s), got %.9g s",
                            (double)c->duration_ns / 1e9, (double)f->at_ns / 1e9);
    }
    if (f->drawn && f->until_ns > c->duration_ns && f->from_ns < c->duration_ns) {
        snprintf(path, sizeof path, "$.faults[%d].until", i);
        rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected a time within the run "
                            "(scenario.duration %.9g s): the crash is drawn in [from, until), "
                            "got %.9g s", (double)c->duration_ns / 1e9,
                            (double)f->until_ns / 1e9);
    }
    /* two fixed crashes of one node, the later while it is still down
     * from the earlier (in time, whatever their order in the list) */
    for (int k = 0; k < i && !f->drawn; k++) {
        const struct sim_exp_fault *g = &e->faults[k];
        if (g->kind != SIM_FAULT_HOST_CRASH || g->drawn || strcmp(g->host, f->host) != 0)
            continue;
        const struct sim_exp_fault *first = f->at_ns >= g->at_ns ? g : f;
        const struct sim_exp_fault *second = first == g ? f : g;
        if (second->at_ns - first->at_ns < first->restart_after_ns) {
            snprintf(path, sizeof path, "$.faults[%d].at", i);
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected node '%s' to crash again only "
                                "after it restarts: faults[%d] and faults[%d] crash it at "
                                "%.9g s and %.9g s, and it restarts at %.9g s", f->host, k, i,
                                (double)g->at_ns / 1e9, (double)f->at_ns / 1e9,
                                (double)(first->at_ns + first->restart_after_ns) / 1e9);
        }
    }
    return rc;
}

static int check_faults(struct sim_cfg_walk *w, const struct sim_exp *e)
{
    const struct sim_at_cfg *c = e->mech_cfg;
    char path[64];
    int rc = 0;
    for (int i = 0; i < e->nr_faults; i++) {
        const struct sim_exp_fault *f = &e->faults[i];
        if (f->from_ns >= c->duration_ns) {
            snprintf(path, sizeof path, "$.faults[%d].from", i);
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected a time within the run "
                                "(scenario.duration %.9g s), got %.9g s",
                                (double)c->duration_ns / 1e9, (double)f->from_ns / 1e9);
        }
        if (f->kind == SIM_FAULT_HOST_CRASH && check_crash(w, e, i))
            rc = VM_EINVAL;
    }
    return rc;
}

int sim_at_check(struct sim_cfg_walk *w, const struct sim_exp *e)
{
    const struct sim_at_cfg *c = e->mech_cfg;
    int rc = 0;
    uint32_t nr_pkgs = 0;
    char path[64];
    if (check_hosts(w, e))
        rc = VM_EINVAL;
    if (check_params(w, e))
        rc = VM_EINVAL;
    if (check_depot(w, e, &nr_pkgs))
        return VM_EINVAL;
    uint64_t log = nr_pkgs;
    for (uint32_t i = 0; i < c->nr_releases; i++) {
        if (c->releases[i].packages > nr_pkgs) {
            snprintf(path, sizeof path, "$.releases[%u].packages", i);
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected at most the depot's %u "
                                "packages, got %u", nr_pkgs, c->releases[i].packages);
        }
        log += c->releases[i].new_packages;
        if (c->releases[i].new_packages && log > AT_MAX_LOG) {
            snprintf(path, sizeof path, "$.releases[%u].new_packages", i);
            rc = sim_cfg_err_at(w, VM_EINVAL, path, "expected at most %u events in a host's "
                                "log (the depot's %u packages and the new ones so far), got "
                                "%llu", AT_MAX_LOG, nr_pkgs, (unsigned long long)log);
            break;
        }
    }
    if (check_faults(w, e))
        rc = VM_EINVAL;
    return rc;
}
