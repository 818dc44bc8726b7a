/*
 * at_dc.c - one run of the datacenter model: its configuration checked,
 * the universe of package versions built (the base catalog, each
 * release's new versions and new vendor packages, their file hashes
 * derived from the seed with real SHA-256), hosts, nodes, depot and administrator made; the
 * schedule armed (boots, releases, waves, attacks); messages dispatched
 * to racks, nodes and the depot; the figures gathered.
 *
 * Parameter defaults (at_params_default) and where they come from:
 *   req_timeout 5 s: our choice (an attestation is a few round trips and
 *     a signature check; Keylime's agent retries its quote after seconds).
 *   token_ttl 1 h: our assumption (vSphere Trust Authority's attestation
 *     tokens and Keylime's re-attestation periods are minutes to hours).
 *   cache_ttl 300 s: Trustee's TTL cache of reference values (PR #187).
 *   min_refetch 10 s: our choice (a miss storm costs one fetch per 10 s).
 *   ts_period 60 s, ts_expiry 1 day, targets_expiry 30 days: our choices
 *     in TUF's spirit (a short-lived online timestamp, longer targets).
 *   admin delay U[1 h, 72 h]: an assumption (a change ticket's latency).
 *   export_delay 4 h, import_time 30 min: assumptions (vSphere TA's
 *     export from a test host, then one import per attestation cluster).
 *   union_window 7 days: an assumption (a rollout window).
 *   admin_retry 1 s: an assumption standing for "the administrator re-runs
 *     the command until the node answers"; the console keeps the update
 *     until the node is back.  (A Keylime deployment with a shared database
 *     would reload its policies on restart instead: not modelled.)
 *   retry 60 s doubling up to 1 h: our choice (a refused host asks again
 *     a minute later, then backs off, so a baseline's refused hosts do
 *     not flood the nodes for the days an administrator may take).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/at_int.h"

#define MS 1000000ull
#define S 1000000000ull

static const char *const method_names[AT_NR_METHODS] = {
    [AT_DEPOT] = "depot", [AT_DEPOT_CACHE] = "depot-cache", [AT_DEPOT_FEED] = "depot-feed",
    [AT_MANUAL] = "manual", [AT_EXPORT_IMPORT] = "export-import", [AT_UNION] = "union",
    [AT_BROKEN_NONCE] = "broken-nonce", [AT_BROKEN_ROLLBACK] = "broken-rollback",
    [AT_BROKEN_FREEZE] = "broken-freeze", [AT_BROKEN_WITHDRAW] = "broken-withdraw",
    [AT_BROKEN_REVOKED] = "broken-revoked",
};

const char *at_method_name(enum at_method m)
{
    return (unsigned)m < AT_NR_METHODS ? method_names[m] : "?";
}

bool at_method_uses_depot(enum at_method m)
{
    return m == AT_DEPOT || m == AT_DEPOT_CACHE || m == AT_DEPOT_FEED || m == AT_BROKEN_NONCE ||
           m == AT_BROKEN_ROLLBACK || m == AT_BROKEN_FREEZE || m == AT_BROKEN_WITHDRAW ||
           m == AT_BROKEN_REVOKED;
}

static const char *const attack_names[AT_NR_ATTACKS] = {
    [AT_ATK_TAMPER] = "tamper", [AT_ATK_UNKNOWN] = "unknown-component",
    [AT_ATK_REPLAY] = "replay", [AT_ATK_WRONG_KEY] = "wrong-key",
    [AT_ATK_MALFORMED] = "malformed", [AT_ATK_WITHDRAW] = "withdraw",
    [AT_ATK_FREEZE] = "freeze", [AT_ATK_ROLLBACK] = "rollback", [AT_ATK_BAD_SIG] = "bad-sig",
    [AT_ATK_BAD_ALG] = "bad-alg", [AT_ATK_DEPOT_DOWN] = "depot-down",
    [AT_ATK_NODE_CRASH] = "node-crash", [AT_ATK_REVOKED_KEY] = "revoked-key",
    [AT_ATK_MIX] = "mix-and-match",
};

const char *at_attack_name(enum at_attack_kind k)
{
    return (unsigned)k < AT_NR_ATTACKS ? attack_names[k] : "?";
}

static const char *const reason_names[R_NR] = {
    [R_OK] = "ok", [R_MALFORMED] = "malformed", [R_WRONG_HOST] = "wrong-host",
    [R_NONCE] = "nonce", [R_PCR] = "pcr", [R_SIG] = "signature", [R_UNKNOWN] = "unknown",
    [R_HASH] = "hash", [R_WITHDRAWN] = "withdrawn", [R_NOT_ALLOWED] = "not-allowed",
    [R_NO_VIEW] = "no-view", [R_META] = "depot-metadata", [R_DEPOT_TIMEOUT] = "depot-timeout",
};

const char *at_reason_name(enum at_reason r)
{
    return (unsigned)r < R_NR ? reason_names[r] : "?";
}

void at_params_default(struct at_params *p, enum at_method m)
{
    memset(p, 0, sizeof *p);
    p->method = m;
    p->req_timeout_ns = 5 * S;
    p->token_ttl_ns = 3600 * S;
    p->cache_ttl_ns = 300 * S;
    p->min_refetch_ns = 10 * S;
    p->ts_period_ns = 60 * S;
    p->ts_expiry_ns = 86400 * S;
    p->targets_expiry_ns = 30 * 86400 * S;
    p->admin_min_ns = 3600 * S;
    p->admin_max_ns = 72 * 3600 * S;
    p->export_delay_ns = 4 * 3600 * S;
    p->import_time_ns = 1800 * S;
    p->union_window_ns = 7 * 86400 * S;
    p->retry_ns = 60 * S;
    p->retry_max_ns = 3600 * S;
    p->admin_retry_ns = 1 * S;
}

void at_stats_init(struct at_stats *s)
{
    memset(s, 0, sizeof *s);
    vm_hist_init(&s->latency_ns);
    vm_hist_init(&s->staleness_ns);
}

uint64_t at_now(const struct at_dc *dc)
{
    return port_clock_now_ns(dc->p.clock);
}

/* ------------------------------------------------------------- timers */

static void tnode_fire(void *arg)
{
    struct at_tnode *t = arg;
    t->prev->next = t->next;
    t->next->prev = t->prev;
    t->fn(t);
    free(t);
}

void *at_timer(struct at_dc *dc, uint64_t when_ns, size_t size, void (*fn)(void *self))
{
    struct at_tnode *t = calloc(1, size);
    if (!t)
        return NULL;
    t->dc = dc;
    t->fn = fn;
    t->id = port_timer_arm(dc->p.timer, when_ns, tnode_fire, t);
    if (!t->id) {
        free(t);
        return NULL;
    }
    t->next = dc->tq.next;
    t->prev = &dc->tq;
    dc->tq.next->prev = t;
    dc->tq.next = t;
    return t;
}

void at_dc_sched(struct at_dc *dc, uint64_t when_ns)
{
    if (when_ns > dc->last_sched_ns)
        dc->last_sched_ns = when_ns;
    if (dc->nr_sched == dc->cap_sched) {
        uint32_t cap = dc->cap_sched ? 2 * dc->cap_sched : 64;
        uint64_t *p = realloc(dc->sched, cap * sizeof *p);
        if (!p)
            return;
        dc->sched = p;
        dc->cap_sched = cap;
    }
    dc->sched[dc->nr_sched++] = when_ns;
}

bool at_sampled(const struct at_dc *dc, uint32_t h, uint32_t attempt)
{
    double s = dc->cfg.sample;
    if (s >= 1.0)
        return true;
    if (s <= 0.0)
        return false;
    uint64_t z = dc->cfg.seed ^ ((uint64_t)h << 32 | attempt) ^ 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53 < s;
}

/* --------------------------------------------------------------- jobs */

struct at_job *at_job_new(struct at_dc *dc)
{
    if (dc->nr_jobs == dc->cap_jobs) {
        uint32_t cap = dc->cap_jobs ? 2 * dc->cap_jobs : 256;
        struct at_job **p = realloc(dc->jobs, cap * sizeof *p);
        if (!p)
            return NULL;
        memset(p + dc->cap_jobs, 0, (cap - dc->cap_jobs) * sizeof *p);
        dc->jobs = p;
        dc->free_job = dc->cap_jobs;
        dc->cap_jobs = cap;
    }
    while (dc->jobs[dc->free_job])
        dc->free_job = (dc->free_job + 1) % dc->cap_jobs;
    struct at_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->dc = dc;
    j->slot = dc->free_job;
    j->gen = ++dc->job_gen;
    dc->jobs[j->slot] = j;
    dc->nr_jobs++;
    return j;
}

uint64_t at_job_id(const struct at_job *j)
{
    return (uint64_t)j->gen << 32 | j->slot;
}

struct at_job *at_job_find(struct at_dc *dc, uint64_t id)
{
    uint32_t slot = (uint32_t)id;
    if (slot >= dc->cap_jobs || !dc->jobs[slot] || dc->jobs[slot]->gen != (uint32_t)(id >> 32))
        return NULL;
    return dc->jobs[slot];
}

void at_job_free(struct at_dc *dc, struct at_job *j)
{
    if (j->tmr)
        port_timer_cancel(dc->p.timer, j->tmr);
    dc->jobs[j->slot] = NULL;
    dc->nr_jobs--;
    free(j->ev);
    free(j);
}

/* ----------------------------------------------------------- building */

static int check_cfg(const struct at_cfg *c, struct vm_diag *d)
{
    const struct at_params *p = &c->params;
    if (!c->nr_hosts || c->nr_hosts > AT_MAX_HOSTS)
        return vm_diag_set(d, VM_EINVAL, "'nr_hosts' must be in 1..%u", AT_MAX_HOSTS);
    if (!c->rack_hosts || (c->nr_hosts + c->rack_hosts - 1) / c->rack_hosts > AT_MAX_RACKS)
        return vm_diag_set(d, VM_EINVAL, "'rack_hosts' must give 1..%u racks", AT_MAX_RACKS);
    if (!c->nr_nodes || c->nr_nodes > AT_MAX_NODES)
        return vm_diag_set(d, VM_EINVAL, "'nr_nodes' must be in 1..%u", AT_MAX_NODES);
    if (!c->cluster_nodes || c->cluster_nodes > 63 || c->nr_nodes % c->cluster_nodes)
        return vm_diag_set(d, VM_EINVAL,
                           "'cluster_nodes' must divide 'nr_nodes' and be in 1..63");
    if (!c->cluster_hosts)
        return vm_diag_set(d, VM_EINVAL, "'cluster_hosts' must be >= 1");
    if (!c->base || !c->base->nr_pkgs)
        return vm_diag_set(d, VM_EINVAL, "the base catalog is empty");
    if (!c->depot_targets_key.pkey || !c->depot_ts_key.pkey)
        return vm_diag_set(d, VM_EINVAL, "the depot's keys are not made");
    if (c->nr_releases + 1 > AT_MAX_RELEASES)
        return vm_diag_set(d, VM_EINVAL, "at most %u releases", AT_MAX_RELEASES - 1);
    if (c->nr_attacks > AT_MAX_ATTACKS)
        return vm_diag_set(d, VM_EINVAL, "at most %u attacks", AT_MAX_ATTACKS);
    if (c->nr_rotations > AT_MAX_ROTATIONS)
        return vm_diag_set(d, VM_EINVAL, "at most %u key rotations", AT_MAX_ROTATIONS);
    for (uint32_t i = 0; i < c->nr_rotations; i++)
        if (!c->rotate_ns[i] || (i && c->rotate_ns[i] <= c->rotate_ns[i - 1]))
            return vm_diag_set(d, VM_EINVAL, "key rotations must be after 0 and increasing");
    for (uint32_t i = 0; i < c->nr_attacks; i++)
        if (c->attacks[i].kind == AT_ATK_REVOKED_KEY &&
            (!c->nr_rotations || c->rotate_ns[0] >= c->attacks[i].at_ns))
            return vm_diag_set(d, VM_EINVAL, "attack %u (revoked-key) needs a key rotation "
                               "before it", i);
    if ((unsigned)p->method >= AT_NR_METHODS)
        return vm_diag_set(d, VM_EINVAL, "unknown method");
    if (!p->req_timeout_ns || !p->token_ttl_ns || !p->ts_period_ns || !p->ts_expiry_ns ||
        !p->targets_expiry_ns || !p->retry_ns || p->retry_max_ns < p->retry_ns)
        return vm_diag_set(d, VM_EINVAL, "timeouts, ttls, periods and expiries must be > 0 "
                           "and 'retry_max' >= 'retry'");
    if (p->admin_max_ns < p->admin_min_ns)
        return vm_diag_set(d, VM_EINVAL, "'admin_max' is below 'admin_min'");
    if (!(c->sample >= 0.0 && c->sample <= 1.0))
        return vm_diag_set(d, VM_EINVAL, "'sample' must be in [0, 1]");
    if (c->costs.sign_ns < 0 || c->costs.verify_ns < 0 || c->costs.lookup_ns < 0 ||
        c->costs.sha256_small_ns < 0 || c->costs.sha256_ns_per_byte < 0 ||
        c->costs.ecdsa_sign_ns < 0 || c->costs.ecdsa_verify_ns < 0)
        return vm_diag_set(d, VM_EINVAL, "costs must be >= 0");
    if (!at_pub_len(c->quote_alg) || !at_pub_len(c->token_alg))
        return vm_diag_set(d, VM_EINVAL, "'quote_alg' and 'token_alg' must be ed25519 or "
                           "ecdsa-p256");
    uint64_t log = c->base->nr_pkgs;
    for (uint32_t i = 0; i < c->nr_releases; i++) {
        const struct at_release *r = &c->releases[i];
        if (r->nr_pkgs > c->base->nr_pkgs)
            return vm_diag_set(d, VM_EINVAL, "release %u: 'nr_pkgs' beyond the catalog", i + 1);
        log += r->new_pkgs;
        if (r->new_pkgs > AT_MAX_NEW_PKGS || (r->new_pkgs && log > AT_MAX_LOG))
            return vm_diag_set(d, VM_EINVAL, "release %u: 'new_pkgs' must be in 0..%u and a "
                               "host's log (the catalog's %u packages and the new ones) at "
                               "most %u events", i + 1, AT_MAX_NEW_PKGS, c->base->nr_pkgs,
                               AT_MAX_LOG);
        if (r->wave_rate < 0 || r->wave_hosts > c->nr_hosts)
            return vm_diag_set(d, VM_EINVAL, "release %u: impossible wave", i + 1);
        if (i && r->at_ns < c->releases[i - 1].at_ns)
            return vm_diag_set(d, VM_EINVAL, "release %u: published before release %u", i + 1,
                               i);
    }
    for (uint32_t i = 0; i < c->nr_attacks; i++) {
        const struct at_attack *a = &c->attacks[i];
        if ((unsigned)a->kind >= AT_NR_ATTACKS)
            return vm_diag_set(d, VM_EINVAL, "attack %u: unknown kind", i);
        bool on_hosts = a->kind <= AT_ATK_MALFORMED;
        if (on_hosts && (a->first_host >= c->nr_hosts || a->nr_hosts > c->nr_hosts - a->first_host))
            return vm_diag_set(d, VM_EINVAL, "attack %u: hosts beyond 'nr_hosts'", i);
        if (a->kind == AT_ATK_WITHDRAW && a->release > c->nr_releases)
            return vm_diag_set(d, VM_EINVAL, "attack %u: no release %u", i, a->release);
        if (a->kind == AT_ATK_NODE_CRASH && a->node >= c->nr_nodes)
            return vm_diag_set(d, VM_EINVAL, "attack %u: no node %u", i, a->node);
    }
    return 0;
}

/* A release's new version of a package: its files' hashes from the seed. */
static int add_version(struct at_dc *dc, const struct at_pkg *b, uint32_t k, struct vm_diag *d)
{
    /* copies: adding to the universe may move b */
    char name[AT_NAME_MAX], vendor[AT_VENDOR_MAX], ver[AT_VERSION_MAX + 16];
    uint32_t nr = b->nr_files;
    strcpy(name, b->name);
    strcpy(vendor, b->vendor);
    snprintf(ver, sizeof ver, "%s+r%u", b->version, k);
    if (strlen(ver) >= AT_VERSION_MAX)
        return vm_diag_set(d, VM_EINVAL, "package '%s': version '%s' too long for release %u",
                           name, b->version, k);
    struct at_file *f = malloc((size_t)nr * sizeof *f);
    if (!f)
        return VM_ENOMEM;
    for (uint32_t i = 0; i < nr; i++) {
        struct at_sha256_ctx c;
        memcpy(f[i].path, b->files[i].path, AT_PATH_MAX);
        at_sha256_init(&c);
        at_sha256_update(&c, &dc->cfg.seed, 8);
        at_sha256_update(&c, name, strlen(name));
        at_sha256_update(&c, &k, 4);
        at_sha256_update(&c, &i, 4);
        at_sha256_final(&c, f[i].sha256);
    }
    int rc = at_catalog_add(&dc->uni, name, ver, vendor, false, f, nr, d);
    free(f);
    return rc;
}

/* Release k's new package i: "partner-drv-<k>-<i>" 1.0.0 of vendor
 * "Partner<k>", AT_NEW_PKG_FILES files whose hashes come from the seed. */
static int add_new_pkg(struct at_dc *dc, uint32_t k, uint32_t i, struct vm_diag *d)
{
    static const char *const leaf[AT_NEW_PKG_FILES] = { "driver.ko", "libpartner.so",
                                                        "firmware.bin", "descriptor.xml" };
    char name[AT_NAME_MAX], vendor[AT_VENDOR_MAX];
    struct at_file f[AT_NEW_PKG_FILES];
    snprintf(name, sizeof name, "partner-drv-%u-%u", k, i);
    snprintf(vendor, sizeof vendor, "Partner%u", k);
    memset(f, 0, sizeof f);
    for (uint32_t j = 0; j < AT_NEW_PKG_FILES; j++) {
        struct at_sha256_ctx c;
        snprintf(f[j].path, sizeof f[j].path, "opt/partner%u/%s/%s", k, name, leaf[j]);
        at_sha256_init(&c);
        at_sha256_update(&c, &dc->cfg.seed, 8);
        at_sha256_update(&c, name, strlen(name));
        at_sha256_update(&c, &k, 4);
        at_sha256_update(&c, &j, 4);
        at_sha256_final(&c, f[j].sha256);
    }
    return at_catalog_add(&dc->uni, name, "1.0.0", vendor, false, f, AT_NEW_PKG_FILES, d);
}

static void event_of(const struct at_pkg *p, struct at_event *e)
{
    memset(e, 0, sizeof *e);
    strcpy(e->name, p->name);
    strcpy(e->version, p->version);
    strcpy(e->vendor, p->vendor);
    memcpy(e->data_hash, p->data_hash, AT_HASH_LEN);
}

static int build_releases(struct at_dc *dc, struct vm_diag *d)
{
    const struct at_catalog *base = dc->cfg.base;
    uint32_t nb = base->nr_pkgs;
    int rc = at_catalog_copy(&dc->uni, base);
    if (rc)
        return rc;
    for (uint32_t i = 0; i < nb; i++)
        dc->uni.pkgs[i].withdrawn = false;
    uint32_t *cur = malloc(nb * sizeof *cur), *orig = calloc(nb, sizeof *orig);
    if (!cur || !orig) {
        free(cur);
        free(orig);
        return VM_ENOMEM;
    }
    for (uint32_t i = 0; i < nb; i++)
        cur[i] = i;
    /* the new packages so far: universe ids and the release of each */
    uint32_t nr_add = 0, *add = NULL, *add_rel = NULL;
    for (uint32_t k = 1; k < dc->nr_rel; k++)
        nr_add += dc->rel[k].new_pkgs;
    if (nr_add) {
        add = malloc((size_t)nr_add * sizeof *add);
        add_rel = malloc((size_t)nr_add * sizeof *add_rel);
        if (!add || !add_rel)
            rc = VM_ENOMEM;
    }
    nr_add = 0;
    for (uint32_t k = 0; k < dc->nr_rel && !rc; k++) {
        struct at_relinfo *ri = &dc->ri[k];
        uint32_t n = k == 0 ? nb : (dc->rel[k].nr_pkgs ? dc->rel[k].nr_pkgs : nb);
        uint32_t nn = k == 0 ? 0 : dc->rel[k].new_pkgs;
        ri->new_pv = malloc((size_t)(n + nn) * sizeof *ri->new_pv);
        ri->old_pv = malloc((size_t)n * sizeof *ri->old_pv);
        ri->log = malloc((size_t)(nb + nr_add + nn) * sizeof *ri->log);
        if (!ri->new_pv || !ri->old_pv || !ri->log) {
            rc = VM_ENOMEM;
            break;
        }
        for (uint32_t i = 0; i < n && !rc; i++) {
            if (k == 0) {
                ri->new_pv[ri->nr_new++] = i;
                continue;
            }
            rc = add_version(dc, &dc->uni.pkgs[i], k, d);
            if (rc)
                break;
            ri->old_pv[ri->nr_old++] = cur[i];
            cur[i] = dc->uni.nr_pkgs - 1;
            orig[i] = k;
            ri->new_pv[ri->nr_new++] = cur[i];
        }
        for (uint32_t i = 0; i < nn && !rc; i++) {
            rc = add_new_pkg(dc, k, i, d);
            if (rc)
                break;
            add[nr_add] = dc->uni.nr_pkgs - 1;
            add_rel[nr_add++] = k;
            ri->new_pv[ri->nr_new++] = dc->uni.nr_pkgs - 1;
        }
        for (uint32_t i = 0; i < nb && !rc; i++) {
            event_of(&dc->uni.pkgs[cur[i]], &ri->log[i]);
            if (orig[i] < 64)
                ri->uses |= 1ull << orig[i];
        }
        /* and every new package of releases 1..k, which later releases keep */
        for (uint32_t i = 0; i < nr_add && !rc; i++) {
            event_of(&dc->uni.pkgs[add[i]], &ri->log[nb + i]);
            if (add_rel[i] < 64)
                ri->uses |= 1ull << add_rel[i];
        }
        ri->nr_log = nb + nr_add;
    }
    free(add);
    free(add_rel);
    free(cur);
    free(orig);
    return rc;
}

struct at_dc *at_dc_new(const struct at_cfg *cfg, const struct at_ports *ports, struct vm_diag *d)
{
    if (!cfg || !ports || check_cfg(cfg, d))
        return NULL;
    struct at_dc *dc = calloc(1, sizeof *dc);
    if (!dc) {
        vm_diag_set(d, VM_ENOMEM, "no memory for the datacenter");
        return NULL;
    }
    dc->cfg = *cfg;
    dc->p = *ports;
    dc->tq.next = dc->tq.prev = &dc->tq;
    at_stats_init(&dc->st);
    dc->nr_rel = cfg->nr_releases + 1;
    for (uint32_t k = 1; k < dc->nr_rel; k++)
        dc->rel[k] = cfg->releases[k - 1];
    memcpy(dc->atk, cfg->attacks, (size_t)cfg->nr_attacks * sizeof *dc->atk);
    dc->cfg.releases = NULL;
    dc->cfg.attacks = NULL;
    dc->nr_comp = cfg->base->nr_pkgs;
    dc->nr_racks = (cfg->nr_hosts + cfg->rack_hosts - 1) / cfg->rack_hosts;
    dc->nr_aclusters = cfg->nr_nodes / cfg->cluster_nodes;
    vm_rand_init(&dc->r_boot, cfg->seed, 0xa7001);
    vm_rand_init(&dc->r_admin, cfg->seed, 0xa7002);
    at_catalog_init(&dc->uni);
    int rc = build_releases(dc, d);
    dc->hosts = calloc(cfg->nr_hosts, sizeof *dc->hosts);
    dc->issued = calloc(cfg->nr_hosts, sizeof *dc->issued);
    dc->nodes = calloc(cfg->nr_nodes, sizeof *dc->nodes);
    if (!rc && (!dc->hosts || !dc->issued || !dc->nodes))
        rc = VM_ENOMEM;
    if (!rc && cfg->tpm_quote_ns && !(dc->tpm_free_at = calloc(cfg->nr_hosts, sizeof *dc->tpm_free_at)))
        rc = VM_ENOMEM;
    for (uint32_t h = 0; !rc && h < cfg->nr_hosts; h++) {
        dc->hosts[h].dc = dc;
        dc->hosts[h].forged = AT_NR_ATTACKS;
    }
    dc->nr_busy = cfg->nr_hosts;
    for (uint32_t j = 0; !rc && j < cfg->nr_nodes; j++) {
        struct at_node *n = &dc->nodes[j];
        uint8_t seed[AT_SEED_LEN];
        n->dc = dc;
        n->idx = j;
        at_key_seed(n->secret, "node-secret", cfg->seed, j);
        at_key_seed(seed, "node", cfg->seed, j);
        rc = at_cpu_init(&n->cpu, cfg->node_cores);
        if (!rc)
            rc = at_key_init_alg(&n->key, cfg->token_alg, seed, d);
    }
    if (!rc)
        rc = at_depot_init(dc);
    for (uint32_t j = 0; !rc && j < cfg->nr_nodes; j++)   /* the root shipped with them */
        if (at_view_trust(&dc->nodes[j].view, &dc->depot.roots[0].root,
                          &dc->depot.roots[0].sigs) != AT_META_OK)
            rc = VM_ECORRUPT;
    if (!rc)
        rc = at_admin_init(dc);
    if (rc) {
        vm_diag_set(d, rc, "cannot build the datacenter: %s", vm_strerror(rc));
        at_dc_free(dc);
        return NULL;
    }
    return dc;
}

void at_dc_free(struct at_dc *dc)
{
    if (!dc)
        return;
    for (uint32_t h = 0; dc->hosts && h < dc->cfg.nr_hosts; h++)
        if (dc->hosts[h].tmr)
            port_timer_cancel(dc->p.timer, dc->hosts[h].tmr);
    for (uint32_t j = 0; dc->nodes && j < dc->cfg.nr_nodes; j++)
        if (dc->nodes[j].dc)
            at_node_free(&dc->nodes[j]);
    for (uint32_t i = 0; i < dc->cap_jobs; i++)
        if (dc->jobs[i])
            at_job_free(dc, dc->jobs[i]);
    free(dc->jobs);
    while (dc->tq.next && dc->tq.next != &dc->tq) {
        struct at_tnode *t = dc->tq.next;
        port_timer_cancel(dc->p.timer, t->id);
        dc->tq.next = t->next;
        free(t);
    }
    at_depot_free(dc);
    at_admin_free(dc);
    at_batches_free(dc);
    for (uint32_t k = 0; k < AT_MAX_RELEASES; k++) {
        free(dc->ri[k].log);
        free(dc->ri[k].new_pv);
        free(dc->ri[k].old_pv);
    }
    at_catalog_free(&dc->uni);
    for (unsigned s = 0; s < AT_KEY_CACHE; s++)
        if (dc->keys[s].used)
            at_key_free(&dc->keys[s].k);
    free(dc->sched);
    free(dc->hosts);
    free(dc->issued);
    free(dc->tpm_free_at);
    free(dc->nodes);
    free(dc);
}

/* --------------------------------------------------------- the schedule */

struct wev { struct at_tnode t; uint32_t kind, idx; };
enum { W_RELEASE, W_WAVE, W_WITHDRAW, W_CRASH, W_RESTART, W_CHANNEL, W_ROTATE };

static void wave_step(struct at_dc *dc, uint32_t k);

static void wev_fire(void *arg)
{
    struct wev *w = arg;
    struct at_dc *dc = w->t.dc;
    switch (w->kind) {
    case W_RELEASE: (void)at_depot_publish_release(dc, w->idx); break;
    case W_WAVE: wave_step(dc, w->idx); break;
    case W_WITHDRAW: (void)at_depot_publish_withdrawal(dc, w->idx); break;
    case W_CRASH: at_node_crash(dc, dc->atk[w->idx].node); break;
    case W_RESTART: at_node_restart(dc, dc->atk[w->idx].node); break;
    case W_CHANNEL: at_depot_attack_begin(dc, w->idx); break;
    case W_ROTATE: (void)at_depot_rotate(dc); break;
    default: break;
    }
}

static int wev(struct at_dc *dc, uint64_t when, uint32_t kind, uint32_t idx)
{
    struct wev *w = at_timer(dc, when, sizeof *w, wev_fire);
    if (!w)
        return VM_ENOMEM;
    w->kind = kind;
    w->idx = idx;
    at_dc_sched(dc, when);
    return 0;
}

static uint32_t wave_hosts(const struct at_dc *dc, uint32_t k)
{
    return dc->rel[k].wave_hosts ? dc->rel[k].wave_hosts : dc->cfg.nr_hosts;
}

static uint64_t wave_at(const struct at_dc *dc, uint32_t k, uint32_t i)
{
    return dc->rel[k].wave_start_ns + (uint64_t)((double)i * 1e9 / dc->rel[k].wave_rate);
}

static void wave_step(struct at_dc *dc, uint32_t k)
{
    uint64_t now = at_now(dc);
    uint32_t n = wave_hosts(dc, k);
    /* the timer fired for the next host: it is due even when the clock,
     * rounded from SimGrid's double seconds, reads a nanosecond earlier */
    if (dc->wave_next[k] < n)
        at_host_upgrade(dc, dc->wave_next[k]++, k);
    while (dc->wave_next[k] < n && wave_at(dc, k, dc->wave_next[k]) <= now)
        at_host_upgrade(dc, dc->wave_next[k]++, k);
    if (dc->wave_next[k] < n) {
        struct wev *w = at_timer(dc, wave_at(dc, k, dc->wave_next[k]), sizeof *w, wev_fire);
        if (w) {
            w->kind = W_WAVE;
            w->idx = k;
        }
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int at_start(struct at_dc *dc)
{
    const struct at_cfg *c = &dc->cfg;
    if (dc->started)
        return 0;
    dc->started = true;
    for (uint32_t h = 0; h < c->nr_hosts; h++) {
        uint64_t at = c->boot_at_ns;
        if (c->boot_spread_ns)
            at += vm_rand_below(&dc->r_boot, c->boot_spread_ns);
        at_host_boot(dc, h, at);
    }
    at_dc_sched(dc, c->boot_at_ns + c->boot_spread_ns);
    for (uint32_t j = 0; j < c->nr_nodes; j++)
        at_node_start(dc, j);
    at_depot_start(dc);
    int rc = 0;
    bool hold = c->params.hold_wave && !at_method_uses_depot(c->params.method);
    if (hold)
        at_admin_start(dc);      /* first: the waves wait for its updates */
    for (uint32_t k = 1; k < dc->nr_rel && !rc; k++) {
        struct at_release *r = &dc->rel[k];
        if (hold && r->wave_start_ns < dc->ri[k].policy_ready_ns)
            r->wave_start_ns = dc->ri[k].policy_ready_ns;
        rc = wev(dc, r->at_ns, W_RELEASE, k);
        uint64_t from = r->at_ns < r->wave_start_ns ? r->at_ns : r->wave_start_ns;
        if (!rc && r->wave_rate > 0) {
            rc = wev(dc, r->wave_start_ns, W_WAVE, k);
            dc->ri[k].wave_end_ns = wave_at(dc, k, wave_hosts(dc, k) - 1);
            at_dc_sched(dc, dc->ri[k].wave_end_ns + c->boot_time_ns);
            if (!dc->wave_until_ns || from < dc->wave_from_ns)
                dc->wave_from_ns = from;
            uint64_t until = dc->ri[k].wave_end_ns + c->boot_time_ns + c->params.token_ttl_ns;
            if (until > dc->wave_until_ns)
                dc->wave_until_ns = until;
        }
    }
    for (uint32_t i = 0; i < c->nr_attacks && !rc; i++) {
        const struct at_attack *a = &dc->atk[i];
        switch (a->kind) {
        case AT_ATK_WITHDRAW: rc = wev(dc, a->at_ns, W_WITHDRAW, i); break;
        case AT_ATK_NODE_CRASH:
            rc = wev(dc, a->at_ns, W_CRASH, i);
            if (!rc && a->len_ns)
                rc = wev(dc, a->at_ns + a->len_ns, W_RESTART, i);
            break;
        case AT_ATK_FREEZE:
        case AT_ATK_REVOKED_KEY: rc = wev(dc, a->at_ns, W_CHANNEL, i); break;
        default:
            at_dc_sched(dc, a->at_ns);
            if (a->len_ns)
                at_dc_sched(dc, a->at_ns + a->len_ns);
            break;
        }
    }
    for (uint32_t g = 0; g < c->nr_rotations && !rc; g++)
        rc = wev(dc, c->rotate_ns[g], W_ROTATE, g);
    if (!hold)
        at_admin_start(dc);      /* after the waves, as before hold_wave (event order) */
    if (dc->nr_sched)
        qsort(dc->sched, dc->nr_sched, sizeof *dc->sched, cmp_u64);
    return rc;
}

/* ------------------------------------------------------------ delivery */

static bool parse_ep(const char *s, char c, uint32_t max, uint32_t *out)
{
    if (!s || s[0] != c || !s[1])
        return false;
    char *end;
    unsigned long v = strtoul(s + 1, &end, 10);
    if (*end || v >= max)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* The endpoint a name stands for, or AT_NONE. */
static uint32_t ep_of(const struct at_dc *dc, const char *s)
{
    uint32_t v;
    if (parse_ep(s, 'r', dc->nr_racks, &v))
        return v;
    if (parse_ep(s, 'a', dc->cfg.nr_nodes, &v))
        return EP_NODE0 + v;
    if (s && !strcmp(s, "depot"))
        return EP_DEPOT;
    if (s && !strcmp(s, "admin"))
        return EP_ADMIN;
    return AT_NONE;
}

/* A record of this type may come from this sender to this receiver: a
 * host's requests from its own rack, the depot's documents from the
 * depot, policy updates from the admin console, answers from a node. */
static bool from_ok(const struct at_dc *dc, uint32_t self, uint32_t from, const struct at_rec *h)
{
    switch (h->type) {
    case M_ATTEST:
    case M_QUOTE:
        return self >= EP_NODE0 && self < EP_DEPOT && from < EP_NODE0 &&
               h->host < dc->cfg.nr_hosts && h->host / dc->cfg.rack_hosts == from;
    case M_NONCE:
    case M_TOKEN:
    case M_REFUSE:
        return self < EP_NODE0 && from >= EP_NODE0 && from < EP_DEPOT &&
               h->host < dc->cfg.nr_hosts && h->host / dc->cfg.rack_hosts == self;
    case M_LOOKUP:
    case M_FETCH:
        return self == EP_DEPOT && from >= EP_NODE0 && from < EP_DEPOT;
    case M_LOOKUP_REPLY:
    case M_TARGETS:
    case M_TIMESTAMP:
        return self >= EP_NODE0 && self < EP_DEPOT && from == EP_DEPOT;
    case M_POLICY:
        return self >= EP_NODE0 && self < EP_DEPOT && from == EP_ADMIN;
    default:
        return false;
    }
}

void at_deliver(struct at_dc *dc, const char *self, const struct port_transport_msg *m)
{
    uint32_t me = ep_of(dc, self), from = ep_of(dc, m->from);
    bool rack = me < EP_NODE0, node = me >= EP_NODE0 && me < EP_DEPOT;
    if (me == AT_NONE || me == EP_ADMIN)
        return;
    if (node && !dc->nodes[me - EP_NODE0].up) {
        if (from == EP_ADMIN)    /* the console sees its update not taken */
            at_admin_lost(dc, me - EP_NODE0, m->blob, m->blob_len);
        return;                  /* a crashed node hears nothing */
    }
    struct at_rdr r;
    if (from == AT_NONE || at_rdr_init(&r, m->blob, m->blob_len)) {
        if (!rack)
            dc->st.malformed++;
        return;
    }
    struct at_rec h;
    const uint8_t *payload;
    int rc;
    while ((rc = at_rdr_next(&r, &h, &payload)) == 1) {
        if (!from_ok(dc, me, from, &h)) {
            if (!rack)
                dc->st.malformed++;  /* a record this sender may not send here */
            continue;
        }
        if (rack) {
            if (!at_rec_check(&h, payload))
                at_host_recv(dc, h.host, &h, payload);
        } else if (node) {
            if (!dc->nodes[me - EP_NODE0].up)
                return;
            at_node_recv(dc, me - EP_NODE0, &h, payload);
        } else {
            at_depot_recv(dc, from, &h, payload);
        }
    }
    if (rc < 0 && !rack)
        dc->st.malformed++;
}

bool at_quiet(const struct at_dc *dc, uint64_t end_ns)
{
    if (dc->nr_busy || dc->console_pending)
        return false;
    uint64_t now = at_now(dc);
    /* the first scheduled world event after now */
    uint32_t lo = 0, hi = dc->nr_sched;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (dc->sched[mid] <= now)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == dc->nr_sched || dc->sched[lo] >= end_ns;
}

void at_finish(struct at_dc *dc, struct at_stats *out)
{
    at_check_gauge(dc);
    for (uint32_t j = 0; j < dc->cfg.nr_nodes; j++)
        if (dc->nodes[j].answers > dc->st.per_node_max)
            dc->st.per_node_max = dc->nodes[j].answers;
    *out = dc->st;
}
