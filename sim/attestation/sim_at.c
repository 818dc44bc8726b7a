/*
 * sim_at.c - the attestation driver (sim_at.h): the datacenter's
 * endpoints on the platform's hosts, one receiving actor per endpoint
 * handing messages to the model (at_deliver), the model's timers on one
 * timer actor, the config's message faults in the transport's filter,
 * its host_crash faults (a node's crash and restart, at.h's "A node
 * crash") armed on the same timer, as the handoff driver arms its
 * hosts', and the run for the scenario's duration (or, with until_quiet,
 * until every host has an answer and no world event is pending).
 *
 * Hosts are state machines inside the model, multiplexed on their rack's
 * endpoint: a 100,000-host run has ~100 racks' actors, not 100,000.
 * Activities: one per message (its carrier), one per distinct timer
 * deadline, one per second of the run for the end check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <simgrid/actor.h>
#include <simgrid/host.h>

#include "attestation/sim_at_depotfile.h"
#include "attestation/sim_at_int.h"
#include "sim_faults.h"
#include "sim_rx.h"
#include "sim_timer.h"
#include "sim_transport.h"
#include "sim_world.h"

#define END_CHECK_NS 1000000000ull      /* the end check's period */

struct sim_at_world {
    const struct sim_exp *e;
    const struct sim_at_cfg *c;
    struct sim_transport *tr;
    struct port_transport *port;
    struct port_timer *timer;
    struct sim_faults *faults;
    struct sim_rx *rx;                  /* a receiver per endpoint */
    struct at_dc *dc;                   /* NULL: messages are dropped */
    struct sim_at_keyset keys;       /* the depot's, generation 0 */
    bool have_keys;
    struct at_catalog base;
    uint32_t platform_racks;
    unsigned node_cores, depot_cores;
};

/* ------------------------------------------------------- receivers */

static void deliver(void *arg, const char *self, const struct port_transport_msg *m)
{
    struct sim_at_world *w = arg;
    if (w->dc)
        at_deliver(w->dc, self, m);
}

/* ------------------------------------------------------------ faults */

/* A host_crash on node a<j> (sim_at_check made sure it names one). */
static void on_fault(void *arg, const struct sim_fault_event *ev)
{
    struct sim_at_world *w = arg;
    uint32_t j;
    if (!w->dc || ev->kind != SIM_FAULT_HOST_CRASH || !sim_at_node_index(w->c, ev->host, &j))
        return;
    (void)(ev->begin ? at_crash_node : at_restart_node)(w->dc, j);
}

/* A crash or a restart of the faults is due in (now, end): not quiet. */
static bool crash_pending(const struct sim_at_world *w, uint64_t now, uint64_t end)
{
    for (int i = 0; i < w->e->nr_faults; i++) {
        uint64_t at, down;
        if (sim_exp_host_crash(w->e, i, &at, &down))
            continue;
        uint64_t back = at + down < at ? UINT64_MAX : at + down;
        if ((at > now && at < end) || (back > now && back < end))
            return true;
    }
    return false;
}

/* ------------------------------------------------------------- setup */

void sim_at_params(const struct sim_exp *e, struct at_params *p)
{
    const struct sim_at_cfg *c = e->mech_cfg;
    enum at_method m = sim_at_method(e->policy);
    at_params_default(p, m);
    p->method = m;
    struct sim_policy_info pi;
    if (sim_policy_find(e->policy_set, e->policy, &pi) && pi.params)
        for (const struct vm_param *r = pi.params; r->name; r++)
            memcpy((char *)p + r->off, (const char *)e->policy_cfg + r->off, sizeof(uint64_t));
    p->ts_period_ns = c->ts_period_ns;
    p->ts_expiry_ns = c->ts_expiry_ns;
    p->targets_expiry_ns = c->targets_expiry_ns;
}

static int setup(struct sim_at_world *w, struct vm_diag *d)
{
    const struct sim_at_cfg *c = w->c;
    uint32_t racks = sim_at_racks(c);
    sg_host_t depot = sim_world_host("depot", d), admin = sim_world_host("admin", d);
    if (!depot || !admin)
        return d->code ? d->code : VM_EINVAL;
    while (w->platform_racks < AT_MAX_RACKS) {
        char name[16];
        snprintf(name, sizeof name, "r%u", w->platform_racks);
        if (!sg_host_by_name(name))
            break;
        w->platform_racks++;
    }
    if (w->platform_racks == 0)
        return vm_diag_set(d, VM_EINVAL, "the platform has no rack host r0");
    w->depot_cores = (unsigned)sg_host_core_count(depot);
    if (!(w->timer = sim_timer_new(depot)))
        return vm_diag_set(d, VM_ENOMEM, "out of memory");
    if (!(w->tr = sim_transport_new(w->e->seed, d)))
        return d->code;
    w->port = sim_transport_port(w->tr);
    if (!(w->rx = sim_rx_new(w->tr, (int)(racks + c->nodes + 2), deliver, w, d)))
        return d->code;
    int rc = sim_rx_endpoint(w->rx, "depot", depot, d);
    if (!rc)
        rc = sim_rx_endpoint(w->rx, "admin", admin, d);
    for (uint32_t j = 0; j < c->nodes && !rc; j++) {
        char name[16];
        snprintf(name, sizeof name, "a%u", j);
        sg_host_t h = sim_world_host(name, d);
        if (!h)
            return d->code ? d->code : VM_EINVAL;
        unsigned cores = (unsigned)sg_host_core_count(h);
        if (j == 0 || cores < w->node_cores)
            w->node_cores = cores;      /* the smallest node's, if they differ */
        rc = sim_rx_endpoint(w->rx, name, h, d);
    }
    for (uint32_t k = 0; k < racks && !rc; k++) {
        char name[16], on[16];
        snprintf(name, sizeof name, "r%u", k);
        snprintf(on, sizeof on, "r%u", k % w->platform_racks);
        rc = sim_rx_endpoint(w->rx, name, sg_host_by_name(on), d);
    }
    if (rc)
        return rc;
    if (!(w->faults = sim_faults_new(w->e->faults, w->e->nr_faults, 0, w->e->seed, "", d)))
        return d->code;
    sim_transport_set_filter(w->tr, sim_faults_transport_filter, w->faults);
    if ((rc = sim_at_keyset_init(&w->keys, c->key_seed, d)) != 0)
        return rc;
    w->have_keys = true;
    return sim_at_depot_load(c->metadata, &w->keys, &w->base, d);
}

static int make_dc(struct sim_at_world *w, struct vm_diag *d)
{
    const struct sim_at_cfg *c = w->c;
    struct at_release rel[AT_MAX_RELEASES];
    struct at_attack atk[AT_MAX_ATTACKS];
    for (uint32_t i = 0; i < c->nr_releases; i++) {
        const struct sim_at_release *r = &c->releases[i];
        rel[i] = (struct at_release){ .at_ns = r->at_ns, .nr_pkgs = r->packages,
                                      .new_pkgs = r->new_packages,
                                      .wave_start_ns = r->wave_start_ns,
                                      .wave_rate = r->wave_rate, .wave_hosts = r->wave_hosts };
    }
    for (uint32_t i = 0; i < c->nr_attacks; i++) {
        const struct sim_at_attack *a = &c->attacks[i];
        atk[i] = (struct at_attack){ .kind = (enum at_attack_kind)a->kind, .at_ns = a->at_ns,
                                     .len_ns = a->len_ns, .first_host = a->first,
                                     .nr_hosts = a->hosts, .release = a->release,
                                     .node = a->node };
    }
    struct at_cfg cfg = {
        .nr_hosts = c->hosts, .rack_hosts = c->rack_hosts, .nr_nodes = c->nodes,
        .cluster_nodes = c->cluster_nodes, .cluster_hosts = c->cluster_hosts,
        .node_cores = w->node_cores, .depot_cores = w->depot_cores, .base = &w->base,
        .depot_targets_key = w->keys.k[AT_ROLE_TARGETS],
        .depot_ts_key = w->keys.k[AT_ROLE_TIMESTAMP],
        .depot_key_seed = c->key_seed, .nr_rotations = c->key_rotation_ns ? 1 : 0,
        .rotate_ns = { c->key_rotation_ns },
        .nr_releases = c->nr_releases, .releases = rel,
        .nr_attacks = c->nr_attacks, .attacks = atk,
        .boot_at_ns = c->boot_at_ns, .boot_spread_ns = c->boot_spread_ns,
        .boot_time_ns = c->boot_time_ns, .tpm_quote_ns = c->tpm_quote_ns,
        .batch_ns = c->batch_ns, .msg_bytes = c->msg_bytes,
        .sample = c->sample, .bin_ns = c->bin_ns, .costs = c->costs.ns, .seed = w->e->seed,
        .quote_alg = (enum at_alg)c->quote_alg, .token_alg = (enum at_alg)c->token_alg,
    };
    sim_at_params(w->e, &cfg.params);
    struct at_ports p = { .clock = (struct port_clock *)sim_world_clock(), .timer = w->timer,
                          .net = w->port };
    if (!(w->dc = at_dc_new(&cfg, &p, d)))
        return d->code ? d->code : VM_ENOMEM;
    int rc = at_start(w->dc);
    /* after the model's own schedule: with no host_crash nothing is armed */
    if (!rc && (rc = sim_faults_arm(w->faults, w->timer, on_fault, w)) != 0)
        vm_diag_set(d, rc, "cannot arm the faults: %s", vm_strerror(rc));
    return rc;
}

static void teardown(struct sim_at_world *w)
{
    struct at_dc *dc = w->dc;
    w->dc = NULL;                       /* the receivers drop what still arrives */
    if (w->tr) {
        sim_transport_set_filter(w->tr, NULL, NULL);
        if (w->rx)
            sim_rx_stop(w->rx, "depot");
    }
    at_dc_free(dc);                     /* cancels its timers: the port is alive */
    sim_faults_free(w->faults);         /* ... and so do the faults */
    if (w->timer)
        sim_timer_free(w->timer);
    if (w->tr)
        sim_transport_free(w->tr);
    sim_rx_free(w->rx);
    at_catalog_free(&w->base);
    if (w->have_keys) {
        sim_at_keyset_free(&w->keys);
    }
}

/* ------------------------------------------------------------ report */

static uint64_t sum(const uint64_t *v, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

/* The record's detail: what the figures were charged with and the whole
 * timeline. */
static void detail(const struct sim_at_world *w, const struct at_stats *s,
                   struct sim_outcome *o)
{
    const struct at_costs *k = &w->c->costs.ns;
    size_t cap = sizeof o->detail, len = 0;
    char *p = o->detail;
#define ADD(...)                                                                         \
    do {                                                                                 \
        int n_ = snprintf(p + len, cap - len, __VA_ARGS__);                              \
        if (n_ < 0 || (size_t)n_ >= cap - len) {                                         \
            o->detail[0] = '\0';                                                         \
            return;                                                                      \
        }                                                                                \
        len += (size_t)n_;                                                               \
    } while (0)
    /* the file's name only: a record's bytes do not depend on the checkout */
    const char *slash = strrchr(w->c->costs.file, '/');
    const char *src = !w->c->costs.file[0] ? "defaults: the crypto figures of the shipped "
                                             "workloads/costs/calibration.json"
                      : slash ? slash + 1 : w->c->costs.file;
    ADD("{\"costs\": {\"source\": \"%s\", \"sha256_ns_per_byte\": %.6g, "
        "\"sha256_small_ns\": %.6g, \"sign_ns\": %.6g, \"verify_ns\": %.6g, "
        "\"ecdsa_sign_ns\": %.6g, \"ecdsa_verify_ns\": %.6g, \"lookup_ns\": %.6g}, "
        "\"quote_alg\": \"%s\", \"token_alg\": \"%s\", ", src,
        k->sha256_ns_per_byte, k->sha256_small_ns, k->sign_ns, k->verify_ns, k->ecdsa_sign_ns,
        k->ecdsa_verify_ns, k->lookup_ns, at_alg_name((enum at_alg)w->c->quote_alg),
        at_alg_name((enum at_alg)w->c->token_alg));
    ADD("\"node_cores\": %u, \"depot_cores\": %u, \"racks\": %u, \"platform_racks\": %u, ",
        w->node_cores, w->depot_cores, sim_at_racks(w->c), w->platform_racks);
    ADD("\"refused_by\": [");
    for (int i = 0; i < 16; i++)
        ADD("%s%llu", i ? ", " : "", (unsigned long long)s->refused_by[i]);
    ADD("], \"meta_refused\": [");
    for (int i = 0; i < 8; i++)
        ADD("%s%llu", i ? ", " : "", (unsigned long long)s->meta_refused[i]);
    ADD("], \"bin_ns\": %llu, \"bin_tokens\": [", (unsigned long long)w->c->bin_ns);
    uint32_t nb = s->nr_bins < AT_MAX_BINS ? s->nr_bins : AT_MAX_BINS;
    for (uint32_t i = 0; i < nb; i++)
        ADD("%s%llu", i ? "," : "", (unsigned long long)s->bin_tokens[i]);
    ADD("], \"bin_false_rejects\": [");
    for (uint32_t i = 0; i < nb; i++)
        ADD("%s%llu", i ? "," : "", (unsigned long long)s->bin_false_rejects[i]);
    ADD("], \"bin_hosts_refused\": [");
    for (uint32_t i = 0; i < nb; i++)
        ADD("%s%llu", i ? "," : "", (unsigned long long)s->bin_hosts_refused[i]);
    ADD("]}");
#undef ADD
}

static void report(const struct sim_at_world *w, const struct at_stats *s,
                   struct sim_outcome *o)
{
    const struct sim_at_cfg *c = w->c;
    double span_s = s->last_ns > s->first_ns ? (double)(s->last_ns - s->first_ns) / 1e9 : 0;
    double answers = (double)(s->tokens + s->refusals);
    uint64_t rel_first = 0, rel_last = 0;
    /* the stats hold simulated times; the metrics are from the release
     * (releases[i - 1] is release i) */
    for (uint32_t i = 1; i <= c->nr_releases && i < AT_MAX_RELEASES; i++) {
        uint64_t at = c->releases[i - 1].at_ns;
        if (s->release_first_ns[i] >= at && s->release_first_ns[i] - at > rel_first)
            rel_first = s->release_first_ns[i] - at;
        if (s->release_last_ns[i] >= at && s->release_last_ns[i] - at > rel_last)
            rel_last = s->release_last_ns[i] - at;
    }
#define SET(id, v) sim_outcome_set(o, SIM_AT_M_##id, (double)(v))
    SET(LAT_P50, vm_hist_quantile(&s->latency_ns, 0.5));
    SET(LAT_P99, vm_hist_quantile(&s->latency_ns, 0.99));
    SET(ATTESTS, s->attests);
    SET(TOKENS, s->tokens);
    SET(REFUSALS, s->refusals);
    SET(TIMEOUTS, s->timeouts);
    SET(RATE, span_s > 0 ? answers / span_s : 0);
    SET(RATE_NODE, span_s > 0 ? (double)s->per_node_max / span_s : 0);
    SET(FA, s->false_accepts);
    SET(FR, s->false_rejects);
    SET(FR_WAVE, s->false_rejects_wave);
    SET(FR_AFTER, s->false_rejects - s->false_rejects_wave);
    SET(STALE, s->stale_accepts);
    SET(MALFORMED, s->malformed);
    SET(REL_FIRST, rel_first);
    SET(REL_LAST, rel_last);
    SET(DEPOT_RPS, (double)s->depot_requests / ((double)c->duration_ns / 1e9));
    SET(DEPOT_B, s->depot_bytes);
    SET(STALE_P50, vm_hist_quantile(&s->staleness_ns, 0.5));
    SET(STALE_MAX, s->staleness_ns.count ? s->staleness_ns.max : 0);
    SET(POLICY_B, s->policy_bytes_max);
    SET(SIGNS, s->real_signs);
    SET(VERIFIES, s->real_verifies);
    SET(META_REF, sum(s->meta_refused, 8));
    SET(POLICY_Q, s->policy_queued);
#undef SET
    /* the timeline in 24 slots of the run: the most refused hosts of the
     * bins whose start falls in each */
    uint64_t slot[SIM_AT_TL_SLOTS] = { 0 };
    uint32_t nb = s->nr_bins < AT_MAX_BINS ? s->nr_bins : AT_MAX_BINS;
    for (uint32_t i = 0; i < nb; i++) {
        uint64_t at = (uint64_t)i * c->bin_ns;
        uint64_t k = at >= c->duration_ns ? SIM_AT_TL_SLOTS - 1
                                          : at * SIM_AT_TL_SLOTS / c->duration_ns;
        if (s->bin_hosts_refused[i] > slot[k])
            slot[k] = s->bin_hosts_refused[i];
    }
    for (int k = 0; k < SIM_AT_TL_SLOTS; k++)
        sim_outcome_set(o, SIM_AT_M_TL00 + k, (double)slot[k]);
    o->inv[SIM_AT_INV_CHECKED] = s->tokens_checked;
    o->inv[SIM_AT_INV_FA] = s->false_accepts;
    o->inv[SIM_AT_INV_ROLLBACK] = s->rollback_used;
    o->inv[SIM_AT_INV_EXPIRED] = s->expired_used;
    o->inv[SIM_AT_INV_FORGED] = s->forged_meta_used;
    o->inv[SIM_AT_INV_WITHDRAWN] = s->withdrawn_known;
    detail(w, s, o);
}

/* --------------------------------------------------------------- run */

void sim_at_run(const struct sim_exp *e, sg_host_t host, struct sim_outcome *out)
{
    (void)host;
    struct sim_at_world w = { .e = e, .c = e->mech_cfg };
    struct vm_diag d = { 0 };
    at_catalog_init(&w.base);
    int rc = setup(&w, &d);
    if (!rc)
        rc = make_dc(&w, &d);
    if (rc) {
        sim_outcome_fail(out, rc, "%s", d.msg[0] ? d.msg : vm_strerror(rc));
        teardown(&w);
        return;
    }
    uint64_t end = sim_now_ns() + w.c->duration_ns;
    for (;;) {
        uint64_t now = sim_now_ns();
        if (now >= end ||
            (w.c->until_quiet && at_quiet(w.dc, end) && !crash_pending(&w, now, end)))
            break;
        sim_sleep_ns(end - now < END_CHECK_NS ? end - now : END_CHECK_NS);
    }
    struct at_stats st;
    at_stats_init(&st);
    at_finish(w.dc, &st);
    report(&w, &st, out);
    teardown(&w);
}
