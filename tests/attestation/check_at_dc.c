/*
 * check_at_dc.c - the datacenter model (at.h) in the fake world: clean
 * boots under every method, the upgrade wave per method, a release's new
 * vendor packages (depot methods, manual, a withdrawal), determinism,
 * strict decoding of blobs, and a 20,000-host run.  Every quote is really
 * signed and verified (sample 1.0) except in the large run.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestation/at_world.h"

#define S AT_S
#define H (3600 * S)

static const enum at_method all_methods[] = { AT_DEPOT, AT_DEPOT_CACHE, AT_DEPOT_FEED,
                                              AT_MANUAL, AT_EXPORT_IMPORT, AT_UNION };
#define NR_METHODS (sizeof all_methods / sizeof all_methods[0])

static struct at_world *built(uint32_t hosts, enum at_method m)
{
    struct at_world *w = at_world_new(hosts, m);
    ck_assert_ptr_nonnull(w);
    return w;
}

START_TEST(test_at_clean_boot_gives_every_host_a_token)
{
    enum at_method m = all_methods[_i];
    struct at_world *w = built(50, m);
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 120 * S);
    ck_assert(at_quiet(w->dc, 130 * S));
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_eq(st.tokens, 50);
    ck_assert_uint_eq(st.refusals, 0);
    ck_assert_uint_eq(st.timeouts, 0);
    ck_assert_uint_eq(st.false_accepts, 0);
    ck_assert_uint_eq(st.false_rejects, 0);
    ck_assert_uint_eq(st.tokens_checked, 50);
    for (int e = 0; e < 8; e++)
        ck_assert_uint_eq(st.meta_refused[e], 0);
    ck_assert_uint_eq(st.latency_ns.count, 50);
    ck_assert_uint_ge(st.real_verifies, 100);  /* every quote and every token */
    ck_assert_uint_ge(st.real_signs, 100);     /* every quote and every token */
    ck_assert_uint_gt(st.release_first_ns[0], 0);
    if (m == AT_DEPOT)
        ck_assert_uint_eq(st.policy_bytes_max, 0);
    else
        ck_assert_uint_gt(st.policy_bytes_max, 0);
    if (at_method_uses_depot(m))
        ck_assert_uint_gt(st.depot_requests, 0);
    else
        ck_assert_uint_eq(st.depot_requests, 0);
    at_world_free(w);
}
END_TEST

/* A release at 10 min, a wave of all 50 hosts from 11 min at 1 host/s. */
static void add_wave(struct at_world *w)
{
    w->rel[0] = (struct at_release){ .at_ns = 600 * S, .nr_pkgs = 3, .wave_start_ns = 660 * S,
                                     .wave_rate = 1.0 };
    w->cfg.nr_releases = 1;
}

START_TEST(test_at_upgrade_wave_depot_methods_no_false_rejects)
{
    enum at_method m = all_methods[_i];   /* the depot methods: 0..2 */
    struct at_world *w = built(50, m);
    add_wave(w);
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 2 * H);
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_eq(st.false_rejects, 0);
    ck_assert_uint_eq(st.false_accepts, 0);
    ck_assert_uint_gt(st.release_first_ns[1], 660 * S);
    ck_assert_uint_lt(st.release_last_ns[1], 900 * S);
    ck_assert_uint_ge(st.tokens, 100);        /* the boot and the upgrade */
    ck_assert_uint_gt(st.staleness_ns.count, 0);
    at_world_free(w);
}
END_TEST

START_TEST(test_at_upgrade_wave_manual_rejects_until_the_admin_updates)
{
    struct at_world *w = built(50, AT_MANUAL);
    add_wave(w);
    w->cfg.params.admin_min_ns = 2 * H;
    w->cfg.params.admin_max_ns = 3 * H;
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 2 * H);
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_gt(st.false_rejects, 50);   /* every upgraded host, every minute */
    ck_assert_uint_gt(st.false_rejects_wave, 0);
    ck_assert_uint_le(st.false_rejects_wave, st.false_rejects);
    ck_assert_uint_eq(st.release_first_ns[1], 0);
    ck_assert_uint_eq(st.refused_by[R_NOT_ALLOWED], st.refusals);
    at_world_run_until(w, 4 * H);
    struct at_stats st2 = at_world_finish(w);
    ck_assert_uint_gt(st2.release_first_ns[1], 2 * H + 600 * S);
    ck_assert_uint_gt(st2.release_last_ns[1], st2.release_first_ns[1]);
    /* every host got its token once every node was updated */
    uint64_t fr = st2.false_rejects;
    at_world_run_until(w, 5 * H);
    struct at_stats st3 = at_world_finish(w);
    ck_assert_uint_eq(st3.false_rejects, fr);
    /* the gauge: all 50 upgraded hosts refused an hour in, none at the end
     * (refused hosts back off: fewer refusals than minutes) */
    ck_assert_uint_eq(st3.bin_hosts_refused[90], 50);
    ck_assert_uint_eq(st3.bin_hosts_refused[st3.nr_bins - 1], 0);
    ck_assert_uint_lt(st.false_rejects, 50 * 60);
    ck_assert_uint_eq(st3.false_accepts, 0);
    at_world_free(w);
}
END_TEST

START_TEST(test_at_upgrade_wave_union_no_false_rejects_in_window)
{
    struct at_world *w = built(50, AT_UNION);
    w->rel[0] = (struct at_release){ .at_ns = 600 * S, .nr_pkgs = 3, .wave_start_ns = 2 * H,
                                     .wave_rate = 1.0 };
    w->cfg.nr_releases = 1;
    w->cfg.params.admin_min_ns = 10 * 60 * S;
    w->cfg.params.admin_max_ns = 60 * 60 * S;
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 6 * H);
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_eq(st.false_rejects, 0);
    ck_assert_uint_gt(st.release_first_ns[1], 0);
    at_world_free(w);
}
END_TEST

START_TEST(test_at_union_window_closing_refuses_hosts_left_behind)
{
    struct at_world *w = built(50, AT_UNION);
    /* a wave of 25 hosts only; the window closes after 2 h */
    w->rel[0] = (struct at_release){ .at_ns = 600 * S, .nr_pkgs = 3, .wave_start_ns = 700 * S,
                                     .wave_rate = 1.0, .wave_hosts = 25 };
    w->cfg.nr_releases = 1;
    w->cfg.params.admin_min_ns = 60 * S;
    w->cfg.params.admin_max_ns = 120 * S;
    w->cfg.params.union_window_ns = 2 * H;
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 4 * H);
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_gt(st.false_rejects, 0);    /* the 25 hosts still on release 0 */
    ck_assert_uint_eq(st.false_accepts, 0);
    at_world_free(w);
}
END_TEST

START_TEST(test_at_export_import_reaches_clusters_in_turn)
{
    struct at_world *w = built(50, AT_EXPORT_IMPORT);
    add_wave(w);
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 6 * H);
    struct at_stats st = at_world_finish(w);
    /* export at 4 h 10 min, first cluster imported 30 min later */
    ck_assert_uint_ge(st.release_first_ns[1], 600 * S + 4 * H + 1800 * S);
    ck_assert_uint_gt(st.false_rejects, 0);
    ck_assert_uint_eq(st.false_accepts, 0);
    at_world_free(w);
}
END_TEST

/* Release 1 at 10 min: 3 new versions and 2 new vendor packages, a wave
 * of all 50 hosts from 11 min; release 2 at 30 min upgrades one package,
 * no wave.  The hosts on release 1 measure the 8 base packages and the
 * 2 new ones; release 2 keeps them. */
static void add_vendor_wave(struct at_world *w)
{
    w->rel[0] = (struct at_release){ .at_ns = 600 * S, .nr_pkgs = 3, .new_pkgs = 2,
                                     .wave_start_ns = 660 * S, .wave_rate = 1.0 };
    w->rel[1] = (struct at_release){ .at_ns = 1800 * S, .nr_pkgs = 1 };
    w->cfg.nr_releases = 2;
}

START_TEST(test_at_new_vendor_packages_depot_methods_no_false_rejects)
{
    enum at_method m = all_methods[_i];   /* the depot methods: 0..2 */
    struct at_world *w = built(50, m);
    add_vendor_wave(w);
    ck_assert_int_eq(at_world_build(w), 0);
    const struct at_dc *dc = w->dc;
    ck_assert_uint_eq(dc->ri[0].nr_log, 8);
    ck_assert_uint_eq(dc->ri[1].nr_log, 10);
    ck_assert_uint_eq(dc->ri[2].nr_log, 10);   /* release 2 keeps them */
    ck_assert_uint_eq(dc->ri[1].nr_new, 5);
    ck_assert_str_eq(dc->ri[1].log[8].name, "partner-drv-1-0");
    ck_assert_str_eq(dc->ri[1].log[9].name, "partner-drv-1-1");
    ck_assert_str_eq(dc->ri[1].log[9].vendor, "Partner1");
    ck_assert_str_eq(dc->ri[1].log[9].version, "1.0.0");
    ck_assert_str_eq(dc->ri[2].log[9].name, "partner-drv-1-1");
    ck_assert(dc->ri[2].uses >> 1 & 1);        /* a withdrawal of release 1 hits them */
    const struct at_pkg *p = at_catalog_find(&dc->uni, "partner-drv-1-1", "1.0.0");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->nr_files, AT_NEW_PKG_FILES);
    ck_assert(memcmp(p->files[0].sha256, p->files[1].sha256, AT_HASH_LEN) != 0);
    at_world_run_until(w, 500 * S);
    ck_assert_uint_eq(w->dc->depot.nr_hist, 1);
    ck_assert_ptr_null(at_catalog_find(&w->dc->depot.hist[0].cat, "partner-drv-1-0", "1.0.0"));
    at_world_run_until(w, 2 * H);
    /* published with the release */
    const struct at_catalog *c = &w->dc->depot.hist[w->dc->depot.rel_version[1] - 1].cat;
    ck_assert_ptr_nonnull(at_catalog_find(c, "partner-drv-1-0", "1.0.0"));
    ck_assert_ptr_nonnull(at_catalog_find(c, "partner-drv-1-1", "1.0.0"));
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_eq(st.false_rejects, 0);
    ck_assert_uint_eq(st.false_accepts, 0);
    ck_assert_uint_eq(st.refusals, 0);
    ck_assert_uint_gt(st.release_first_ns[1], 660 * S);
    ck_assert_uint_lt(st.release_last_ns[1], 900 * S);
    ck_assert_uint_ge(st.tokens, 100);        /* the boot and the upgrade */
    at_world_free(w);
}
END_TEST

/* hold_wave: the operator starts the wave once every node's policy has
 * the release (Keylime's union workflow, vSphere TA's import before
 * remediation): no false reject, the first token after the last update */
START_TEST(test_at_held_wave_waits_for_every_node)
{
    static const enum at_method held[] = { AT_MANUAL, AT_EXPORT_IMPORT, AT_UNION };
    enum at_method m = held[_i];
    struct at_world *w = built(50, m);
    add_wave(w);
    w->cfg.params.hold_wave = true;
    w->cfg.params.admin_min_ns = 60 * S;
    w->cfg.params.admin_max_ns = 2 * H;
    w->cfg.params.export_delay_ns = H;
    w->cfg.params.import_time_ns = 600 * S;
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 8 * H);
    uint64_t ready = w->dc->ri[1].policy_ready_ns;
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_gt(ready, 600 * S);
    ck_assert_uint_eq(st.false_rejects, 0);
    ck_assert_uint_eq(st.false_accepts, 0);
    ck_assert_uint_ge(st.release_first_ns[1], ready);
    ck_assert_uint_gt(st.release_last_ns[1], st.release_first_ns[1]);
    at_world_free(w);
}
END_TEST

START_TEST(test_at_new_vendor_packages_manual_refused_until_the_admin_adds_them)
{
    struct at_world *w = built(50, AT_MANUAL);
    add_vendor_wave(w);
    w->cfg.params.admin_min_ns = 2 * H;
    w->cfg.params.admin_max_ns = 3 * H;
    ck_assert_int_eq(at_world_build(w), 0);
    uint32_t pv = (uint32_t)(at_catalog_find(&w->dc->uni, "partner-drv-1-0", "1.0.0") -
                             w->dc->uni.pkgs);
    at_world_run_until(w, 2 * H);
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_gt(st.false_rejects, 50);
    ck_assert_uint_eq(st.refused_by[R_NOT_ALLOWED], st.refusals);
    ck_assert_uint_eq(st.release_first_ns[1], 0);
    for (uint32_t j = 0; j < w->cfg.nr_nodes; j++)
        ck_assert(!(w->dc->nodes[j].allow[pv / 8] >> (pv % 8) & 1));
    at_world_run_until(w, 4 * H);
    /* the administrator's update added them with the new versions */
    for (uint32_t j = 0; j < w->cfg.nr_nodes; j++)
        ck_assert(w->dc->nodes[j].allow[pv / 8] >> (pv % 8) & 1);
    struct at_stats st2 = at_world_finish(w);
    ck_assert_uint_gt(st2.release_first_ns[1], 2 * H + 600 * S);
    uint64_t fr = st2.false_rejects;
    at_world_run_until(w, 5 * H);
    struct at_stats st3 = at_world_finish(w);
    ck_assert_uint_eq(st3.false_rejects, fr);
    ck_assert_uint_eq(st3.bin_hosts_refused[st3.nr_bins - 1], 0);
    ck_assert_uint_eq(st3.false_accepts, 0);
    at_world_free(w);
}
END_TEST

/* Release 2 replaces release 1's one new version but keeps its new
 * packages: withdrawing release 1 withdraws them, so its hosts are
 * refused, and the checker (their log uses release 1) counts no false
 * reject. */
START_TEST(test_at_withdrawn_new_packages_refuse_later_releases)
{
    struct at_world *w = built(50, AT_DEPOT);
    w->rel[0] = (struct at_release){ .at_ns = 600 * S, .nr_pkgs = 1, .new_pkgs = 2,
                                     .wave_start_ns = 660 * S, .wave_rate = 1.0 };
    w->rel[1] = (struct at_release){ .at_ns = 1800 * S, .nr_pkgs = 1, .wave_start_ns = 1860 * S,
                                     .wave_rate = 1.0 };
    w->cfg.nr_releases = 2;
    w->atk[w->cfg.nr_attacks++] = (struct at_attack){ .kind = AT_ATK_WITHDRAW, .at_ns = H,
                                                      .release = 1 };
    ck_assert_int_eq(at_world_build(w), 0);
    ck_assert_uint_eq(w->dc->ri[2].uses, 1u << 0 | 1u << 1 | 1u << 2);
    at_world_run_until(w, H);
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_eq(st.refusals, 0);
    ck_assert_uint_gt(st.release_last_ns[2], 0);
    at_world_run_until(w, 2 * H);
    st = at_world_finish(w);
    ck_assert_uint_gt(st.refusals, 0);
    ck_assert_uint_eq(st.refused_by[R_WITHDRAWN], st.refusals);
    ck_assert_uint_eq(st.false_rejects, 0);
    ck_assert_uint_eq(st.false_accepts, 0);
    at_world_free(w);
}
END_TEST

/* admin_shared: one update for every node (Keylime's verifiers share a
 * database): no upgraded host is accepted before it, every node has it */
START_TEST(test_at_shared_admin_updates_every_node_at_once)
{
    struct at_world *w = built(50, _i ? AT_UNION : AT_MANUAL);
    add_wave(w);
    w->cfg.params.admin_shared = true;
    w->cfg.params.admin_min_ns = 60 * S;
    w->cfg.params.admin_max_ns = 2 * H;
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 6 * H);
    uint64_t ready = w->dc->ri[1].policy_ready_ns;
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_gt(st.release_first_ns[1], 0);
    ck_assert_uint_ge(st.release_first_ns[1], ready);
    /* every node's update is sent at the same instant: staleness the same
     * but for the message's transit */
    ck_assert_uint_eq(st.staleness_ns.count, w->cfg.nr_nodes);
    ck_assert_uint_ge(st.staleness_ns.min, ready - 600 * S);
    ck_assert_uint_lt(st.staleness_ns.max - st.staleness_ns.min, 1000000);
    ck_assert_uint_eq(st.false_accepts, 0);
    at_world_free(w);
}
END_TEST

START_TEST(test_at_rack_batches_carry_many_hosts)
{
    struct at_world *w = built(50, AT_DEPOT);
    w->cfg.boot_spread_ns = 0;   /* a power event: every host at once */
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 60 * S);
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_eq(st.tokens, 50);
    /* 50 hosts x 4 messages (+ 50 lookups and replies) in far fewer sends */
    ck_assert_uint_lt(w->sent, 150);
    ck_assert_uint_lt(st.depot_requests, 100);
    ck_assert_uint_eq(st.depot_requests, 50);   /* records, one per attestation */
    at_world_free(w);
}
END_TEST

START_TEST(test_at_latency_leaves_batching_out)
{
    struct at_world *w = built(50, AT_DEPOT);
    w->cfg.batch_ns = 50 * AT_MS;
    w->cfg.boot_spread_ns = 0;
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 60 * S);
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_eq(st.tokens, 50);
    /* 6 hops of 200 us and the CPU queue of 4 workers, not 6 x 50 ms */
    ck_assert_uint_ge(st.latency_ns.min, 6 * 200000);
    ck_assert_uint_lt(st.latency_ns.max, 10 * AT_MS);
    ck_assert_uint_gt(st.last_ns, 50 * AT_MS);   /* the batches did wait */
    at_world_free(w);
}
END_TEST

/* The host's TPM makes each quote in tpm_quote: it is in every host's
 * latency, and a host's TPM takes one command at a time (a second quote
 * waits for the first). */
START_TEST(test_at_tpm_quote_is_in_the_latency_and_serialised)
{
    struct at_world *w = built(50, AT_DEPOT);
    w->cfg.tpm_quote_ns = 200 * AT_MS;
    w->cfg.boot_spread_ns = 0;
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 60 * S);
    /* serialised per host: two quotes asked at once end 200 ms apart;
     * another host's TPM is its own */
    uint64_t now = 61 * S;
    uint64_t a = at_host_tpm_reserve(w->dc, 7, now), b = at_host_tpm_reserve(w->dc, 7, now);
    ck_assert_uint_eq(a, now + 200 * AT_MS);
    ck_assert_uint_eq(b, now + 400 * AT_MS);
    ck_assert_uint_eq(at_host_tpm_reserve(w->dc, 8, now), now + 200 * AT_MS);
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_eq(st.tokens, 50);
    ck_assert_uint_eq(st.timeouts, 0);
    ck_assert_uint_ge(st.latency_ns.min, 200 * AT_MS + 6 * 200000);
    ck_assert_uint_lt(st.latency_ns.max, 210 * AT_MS);
    at_world_free(w);
}
END_TEST

/* A host that times out while its TPM makes a quote asks the next node; the
 * new nonce's quote waits for the first one on the TPM, so the answer comes
 * at least 2 x tpm_quote after the first ATTEST.  req_timeout (300 ms, below
 * the 400 ms quote) is raised once every first request is out, as an
 * operator would, so the second request is answered. */
START_TEST(test_at_tpm_retry_quote_waits_for_the_first)
{
    struct at_world *w = built(10, AT_DEPOT);
    w->cfg.tpm_quote_ns = 400 * AT_MS;
    w->cfg.params.req_timeout_ns = 300 * AT_MS;
    w->cfg.boot_spread_ns = 0;
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 100 * AT_MS);
    ck_assert_uint_eq(w->dc->st.attests, 10);       /* every first request out */
    w->dc->cfg.params.req_timeout_ns = 5 * S;
    at_world_run_until(w, 10 * S);
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_eq(st.tokens, 10);
    ck_assert_uint_eq(st.timeouts, 10);             /* one per host, while quoting */
    ck_assert_uint_ge(st.latency_ns.min, 2 * 400 * AT_MS);
    at_world_free(w);
}
END_TEST

/* Tokens signed with P-256 are charged the ECDSA signing cost, not
 * Ed25519's. */
START_TEST(test_at_p256_token_signing_is_charged_its_cost)
{
    struct at_world *w = built(10, AT_DEPOT);
    w->cfg.token_alg = AT_ALG_ECDSA_P256;
    w->cfg.costs.sign_ns = 1;
    w->cfg.costs.ecdsa_sign_ns = 50e6;              /* 50 ms */
    w->cfg.boot_spread_ns = 0;
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 60 * S);
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_eq(st.tokens, 10);
    ck_assert_uint_ge(st.latency_ns.min, 50 * AT_MS);
    at_world_free(w);
}
END_TEST

/* A TPM slower than the request timeout: each request times out while its
 * quote is made, the next one's quote queues behind it, and no host ever
 * gets an answer (an operator must raise req_timeout above the TPM's
 * time); nothing is sent for a request the host gave up. */
START_TEST(test_at_tpm_slower_than_the_timeout_never_answers)
{
    struct at_world *w = built(10, AT_DEPOT);
    w->cfg.tpm_quote_ns = 400 * AT_MS;
    w->cfg.params.req_timeout_ns = 300 * AT_MS;
    w->cfg.boot_spread_ns = 0;
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 10 * S);
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_eq(st.tokens + st.refusals, 0);
    ck_assert_uint_ge(st.timeouts, 10 * 30);
    at_world_free(w);
}
END_TEST

START_TEST(test_at_loaded_depot_answers_never_look_rolled_back)
{
    /* a power event on a per-request depot with lookups of two sizes:
     * answers finish out of arrival order on the depot's workers, while
     * the timestamp is re-signed every second */
    struct at_world *w = built(3000, AT_DEPOT);
    w->cfg.rack_hosts = 50;
    w->cfg.cluster_hosts = 1000;
    w->cfg.node_cores = 1;
    w->cfg.depot_cores = 3;
    w->cfg.sample = 0.05;
    w->cfg.boot_spread_ns = 2 * S;
    w->cfg.params.ts_period_ns = 1 * S;
    w->cfg.costs.lookup_ns = 400000;
    w->atk[0] = (struct at_attack){ .kind = AT_ATK_UNKNOWN, .first_host = 0, .nr_hosts = 300 };
    w->cfg.nr_attacks = 1;
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 120 * S);
    struct at_stats st = at_world_finish(w);
    for (int e = 0; e < 8; e++)
        ck_assert_uint_eq(st.meta_refused[e], 0);
    ck_assert_uint_eq(st.tokens, 2700);
    ck_assert_uint_eq(st.refused_by[R_UNKNOWN], 600);   /* at boot and a minute later */
    ck_assert_uint_eq(st.false_rejects, 0);
    ck_assert_uint_gt(vm_hist_quantile(&st.latency_ns, 0.99), 100 * AT_MS);  /* it queued */
    at_world_free(w);
}
END_TEST

static struct at_stats run_release(enum at_method m)
{
    struct at_world *w = built(50, m);
    add_wave(w);
    w->cfg.params.admin_min_ns = 10 * 60 * S;
    w->cfg.params.admin_max_ns = 20 * 60 * S;
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 2 * H);
    struct at_stats st = at_world_finish(w);
    at_world_free(w);
    return st;
}

START_TEST(test_at_feed_is_current_at_publish_cache_within_its_ttl)
{
    struct at_stats feed = run_release(AT_DEPOT_FEED);
    struct at_stats cache = run_release(AT_DEPOT_CACHE);
    struct at_stats manual = run_release(AT_MANUAL);
    /* the push reaches every node within a round trip */
    ck_assert_uint_eq(feed.staleness_ns.count, 4);
    ck_assert_uint_lt(feed.staleness_ns.max, S);
    /* a cache learns at its next fetch (a miss or the ttl) */
    ck_assert_uint_eq(cache.staleness_ns.count, 4);
    ck_assert_uint_le(cache.staleness_ns.max, 300 * S + S);
    /* the administrator's delay */
    ck_assert_uint_ge(manual.staleness_ns.min, 10 * 60 * S);
    ck_assert_uint_le(manual.staleness_ns.max, 20 * 60 * S + S);
    /* the feed's depot load: one fetch per node, then pushes */
    ck_assert_uint_eq(feed.depot_requests, 4);
    ck_assert_uint_gt(cache.depot_requests, 4);
}
END_TEST

START_TEST(test_at_policy_memory_allow_list_beats_depot_index)
{
    struct at_stats depot = run_release(AT_DEPOT);
    struct at_stats cache = run_release(AT_DEPOT_CACHE);
    struct at_stats manual = run_release(AT_MANUAL);
    struct at_stats uni = run_release(AT_UNION);
    ck_assert_uint_eq(depot.policy_bytes_max, 0);
    /* per package: name, version, vendor, hash; per file: path and hash */
    ck_assert_uint_eq(cache.policy_bytes_max, 11 * (48 + 32 + 32 + 32 + 1));
    ck_assert_uint_gt(manual.policy_bytes_max, 8 * 4 * 64);
    ck_assert_uint_eq(uni.policy_bytes_max, manual.policy_bytes_max);
}
END_TEST

static void run_once(struct at_stats *out)
{
    struct at_world *w = built(60, AT_DEPOT_CACHE);
    add_wave(w);
    w->cfg.sample = 0.3;
    w->atk[0] = (struct at_attack){ .kind = AT_ATK_TAMPER, .at_ns = 0, .first_host = 5,
                                    .nr_hosts = 3 };
    w->cfg.nr_attacks = 1;
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 2 * H);
    *out = at_world_finish(w);
    at_world_free(w);
}

START_TEST(test_at_same_config_same_stats)
{
    struct at_stats *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    run_once(a);
    run_once(b);
    ck_assert_uint_gt(a->tokens, 0);
    ck_assert_uint_gt(a->refusals, 0);
    ck_assert(memcmp(a, b, sizeof *a) == 0);
    free(a);
    free(b);
}
END_TEST

START_TEST(test_at_garbage_blobs_are_counted_never_crash)
{
    struct at_world *w = built(20, AT_DEPOT);
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 60 * S);
    struct at_stats before = at_world_finish(w);
    struct vm_rand r;
    vm_rand_init(&r, 7, 1);
    uint8_t buf[600];
    const char *to[] = { "a0", "a1", "depot", "r0", "r1", "admin", "zz" };
    for (int i = 0; i < 3000; i++) {
        size_t len = vm_rand_below(&r, sizeof buf);
        for (size_t k = 0; k < len; k++)
            buf[k] = (uint8_t)vm_rand_u64(&r);
        if (i % 2 && len >= 8) {   /* a valid batch header, garbage records */
            uint32_t hdr[2] = { AT_BATCH_MAGIC, 1 + (uint32_t)(i % 3) };
            memcpy(buf, hdr, 8);
        }
        struct port_transport_msg m = { .blob = buf, .blob_len = len, .from = "a0" };
        at_deliver(w->dc, to[i % 7], &m);
    }
    /* a well-framed record of each type with a wrong payload size */
    for (uint8_t t = 0; t < M_NR + 2; t++) {
        struct at_wbuf b = { 0 };
        uint8_t junk[8] = { 0 };
        struct at_rec h = { .type = t, .len = 3, .host = 1, .attempt = 1 };
        ck_assert_int_eq(at_wbuf_add(&b, &h, junk, 0), 0);
        struct port_transport_msg m = { .blob = b.p, .blob_len = b.len, .from = "a0" };
        at_deliver(w->dc, "a0", &m);
        at_deliver(w->dc, "depot", &m);
        at_deliver(w->dc, "r0", &m);
        at_wbuf_free(&b);
    }
    at_world_run_until(w, 300 * S);
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_gt(st.malformed, before.malformed + 1000);
    ck_assert_uint_eq(st.false_accepts, 0);
    ck_assert_uint_ge(st.tokens, 20);          /* the hosts were not disturbed */
    at_world_free(w);
}
END_TEST

START_TEST(test_at_records_from_the_wrong_sender_are_refused)
{
    struct at_world *w = built(20, AT_MANUAL);
    add_wave(w);                 /* release 1's versions: ids 8..10 */
    w->cfg.params.admin_min_ns = 5 * H;
    w->cfg.params.admin_max_ns = 5 * H;
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 700 * S);
    /* a rack forging the admin's update that would allow release 1 */
    uint8_t buf[sizeof(struct at_policy_rec) + 12];
    struct at_policy_rec p = { .add = 1, .nr = 3 };
    uint32_t pv[3] = { 8, 9, 10 };
    memcpy(buf, &p, sizeof p);
    memcpy(buf + sizeof p, pv, sizeof pv);
    struct at_wbuf b = { 0 };
    struct at_rec h = { .type = M_POLICY, .len = sizeof buf };
    ck_assert_int_eq(at_wbuf_add(&b, &h, buf, 0), 0);
    struct at_rec t = { .type = M_TOKEN, .len = sizeof(struct at_token_rec), .host = 1 };
    struct at_token_rec tok = { .host = 1 };
    ck_assert_int_eq(at_wbuf_add(&b, &t, &tok, 0), 0);
    struct at_stats before = at_world_finish(w);
    for (uint32_t j = 0; j < 4; j++) {
        char self[8];
        snprintf(self, sizeof self, "a%u", j);
        struct port_transport_msg m = { .blob = b.p, .blob_len = b.len, .from = "r0" };
        at_deliver(w->dc, self, &m);
    }
    at_wbuf_free(&b);
    at_world_run_until(w, 2 * H);
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_eq(st.malformed, before.malformed + 8);
    ck_assert_uint_eq(st.release_first_ns[1], 0);   /* still not allowed */
    ck_assert_uint_gt(st.refused_by[R_NOT_ALLOWED], 0);
    at_world_free(w);
}
END_TEST

START_TEST(test_at_bad_config_is_refused_with_a_message)
{
    struct at_world *w = built(20, AT_DEPOT);
    struct vm_diag d = { 0 };
    struct at_ports p = { .clock = &w->clk.base, .timer = fake_timer_port(w->ft), .net = &w->net };
    w->cfg.cluster_nodes = 3;  /* does not divide 4 nodes */
    ck_assert_ptr_null(at_dc_new(&w->cfg, &p, &d));
    ck_assert_int_eq(d.code, VM_EINVAL);
    ck_assert_ptr_nonnull(strstr(d.msg, "cluster_nodes"));
    w->cfg.cluster_nodes = 2;
    w->rel[0] = (struct at_release){ .at_ns = 10 * S, .nr_pkgs = 99 };
    w->cfg.nr_releases = 1;
    vm_diag_clear(&d);
    ck_assert_ptr_null(at_dc_new(&w->cfg, &p, &d));
    ck_assert_ptr_nonnull(strstr(d.msg, "nr_pkgs"));
    w->rel[0] = (struct at_release){ .at_ns = 10 * S, .new_pkgs = AT_MAX_NEW_PKGS + 1 };
    vm_diag_clear(&d);
    ck_assert_ptr_null(at_dc_new(&w->cfg, &p, &d));
    ck_assert_ptr_nonnull(strstr(d.msg, "new_pkgs"));
    w->cfg.nr_releases = 0;
    w->cfg.quote_alg = AT_ALG_UNKNOWN;   /* a quote algorithm the model cannot sign */
    vm_diag_clear(&d);
    ck_assert_ptr_null(at_dc_new(&w->cfg, &p, &d));
    ck_assert_ptr_nonnull(strstr(d.msg, "quote_alg"));
    w->cfg.quote_alg = AT_ALG_ECDSA_P256;
    w->cfg.costs.ecdsa_verify_ns = -1;
    vm_diag_clear(&d);
    ck_assert_ptr_null(at_dc_new(&w->cfg, &p, &d));
    ck_assert_ptr_nonnull(strstr(d.msg, "costs"));
    at_world_free(w);
}
END_TEST

START_TEST(test_at_twenty_thousand_hosts_run)
{
    struct at_world *w = built(20000, AT_DEPOT_FEED);
    w->cfg.rack_hosts = 40;
    w->cfg.nr_nodes = 16;
    w->cfg.cluster_nodes = 4;
    w->cfg.cluster_hosts = 1000;
    w->cfg.sample = 0.01;
    w->cfg.boot_spread_ns = 60 * S;
    w->rel[0] = (struct at_release){ .at_ns = 300 * S, .nr_pkgs = 2, .wave_start_ns = 400 * S,
                                     .wave_rate = 100 };
    w->cfg.nr_releases = 1;
    ck_assert_int_eq(at_world_build(w), 0);
    at_world_run_until(w, 1200 * S);
    struct at_stats st = at_world_finish(w);
    ck_assert_uint_ge(st.tokens, 40000);
    ck_assert_uint_eq(st.false_rejects, 0);
    ck_assert_uint_eq(st.false_accepts, 0);
    ck_assert_uint_gt(st.real_verifies, 100);
    ck_assert_uint_lt(st.real_verifies, 5000);  /* sampled, not every quote */
    at_world_free(w);
}
END_TEST

static Suite *at_dc_suite(void)
{
    Suite *s = suite_create("at_dc");
    TCase *tc = tcase_create("dc");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_at_clean_boot_gives_every_host_a_token, 0, NR_METHODS);
    tcase_add_loop_test(tc, test_at_upgrade_wave_depot_methods_no_false_rejects, 0, 3);
    tcase_add_test(tc, test_at_upgrade_wave_manual_rejects_until_the_admin_updates);
    tcase_add_test(tc, test_at_upgrade_wave_union_no_false_rejects_in_window);
    tcase_add_test(tc, test_at_union_window_closing_refuses_hosts_left_behind);
    tcase_add_test(tc, test_at_export_import_reaches_clusters_in_turn);
    tcase_add_loop_test(tc, test_at_new_vendor_packages_depot_methods_no_false_rejects, 0, 3);
    tcase_add_test(tc, test_at_new_vendor_packages_manual_refused_until_the_admin_adds_them);
    tcase_add_test(tc, test_at_withdrawn_new_packages_refuse_later_releases);
    tcase_add_loop_test(tc, test_at_held_wave_waits_for_every_node, 0, 3);
    tcase_add_loop_test(tc, test_at_shared_admin_updates_every_node_at_once, 0, 2);
    tcase_add_test(tc, test_at_rack_batches_carry_many_hosts);
    tcase_add_test(tc, test_at_latency_leaves_batching_out);
    tcase_add_test(tc, test_at_tpm_quote_is_in_the_latency_and_serialised);
    tcase_add_test(tc, test_at_tpm_slower_than_the_timeout_never_answers);
    tcase_add_test(tc, test_at_tpm_retry_quote_waits_for_the_first);
    tcase_add_test(tc, test_at_p256_token_signing_is_charged_its_cost);
    tcase_add_test(tc, test_at_loaded_depot_answers_never_look_rolled_back);
    tcase_add_test(tc, test_at_feed_is_current_at_publish_cache_within_its_ttl);
    tcase_add_test(tc, test_at_policy_memory_allow_list_beats_depot_index);
    tcase_add_test(tc, test_at_same_config_same_stats);
    tcase_add_test(tc, test_at_garbage_blobs_are_counted_never_crash);
    tcase_add_test(tc, test_at_records_from_the_wrong_sender_are_refused);
    tcase_add_test(tc, test_at_bad_config_is_refused_with_a_message);
    tcase_add_test(tc, test_at_twenty_thousand_hosts_run);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(at_dc_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
