/*
 * check_handoff_owner.c - the handoff protocol against each state of the
 * owner, in the test world (ho_world.h): alive (a migration releases, a
 * restart is refused, a daemon holder releases for any reason), dead
 * (takeover exactly when the timeouts say), slow (it answers after the
 * requester gave up: its late write is fenced, its late RELEASED is
 * ignored); two requesters at once; partitions between requester, owner
 * and datastore under the patent's protocol and under sanlock leases.
 *
 * Times are exact: the world's latency (100 us) and datastore I/O
 * (200 us) are fixed, so a datastore round trip costs 2 lat + io and a
 * host round trip 2 lat.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/ho_world.h"

#define US 1000ull
#define MS 1000000ull
#define S 1000000000ull
#define FOREVER UINT64_MAX

static struct ho_world *world(const struct ho_cfg *cfg, uint64_t seed)
{
    struct ho_world *w = ho_world_new(cfg, seed);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(ho_start(w->c), 0);
    return w;
}

static void assert_safe(const struct ho_stats *s)
{
    ck_assert_uint_eq(s->double_writer, 0);
    ck_assert_uint_eq(s->double_writer_ns, 0);
    ck_assert_uint_eq(s->lost_acked, 0);
    ck_assert_uint_eq(s->split_owner, 0);
}

/* ------------------------------------------------------- owner alive */

/* A VM on h0 migrates to h1: h0's daemon flushes, closes and confirms;
 * h1 writes itself in at generation 2 with no takeover. */
START_TEST(test_handoff_live_vm_owner_releases_for_migration)
{
    struct ho_cfg cfg = ho_world_cfg(3, 1, HO_HANDOFF);
    struct ho_world *w = world(&cfg, 1);
    ho_world_run_until(w, 1 * S);
    ck_assert_int_eq(ho_need(w->c, 0, 1, HO_MIGRATE), 0);
    uint64_t t = ho_world_run_until_quiet(w, 30 * S);
    /* read + release (at most one write to flush) + compare-and-write */
    ck_assert_uint_lt(t - 1 * S, 2 * MS);
    uint64_t gen;
    ck_assert_uint_eq(ho_owner(w->c, 0, &gen), 1);
    ck_assert_uint_eq(gen, 2);
    ck_assert_uint_eq(ho_holder_host(w->c, 0), 1);
    ck_assert_uint_eq(ho_world_count_sent(w, M_RELEASED, "h0", "h1", 0, FOREVER), 1);
    ck_assert_uint_eq(ho_world_count_sent(w, M_RELAY, NULL, NULL, 0, FOREVER), 0);
    /* the release was confirmed only once the owner had stopped writing */
    uint64_t t_rel = 0;
    for (size_t i = 0; i < w->log_len; i++)
        if (w->log[i].type == M_RELEASED)
            t_rel = w->log[i].t_ns;
    ho_world_run_until(w, 3 * S);
    ck_assert_uint_eq(ho_world_count_sent(w, M_DS_WRITE, "h0", "ds", t_rel, FOREVER), 0);
    ck_assert_uint_gt(ho_world_count_sent(w, M_DS_WRITE, "h1", "ds", t_rel, FOREVER), 0);
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.takeovers, 0);
    ck_assert_uint_eq(s.false_takeovers, 0);
    ck_assert_uint_eq(s.stale_refused, 0);
    ck_assert_uint_eq(s.meta_checked, 1);
    ck_assert_uint_eq(s.sessions, 2);
    assert_safe(&s);
    ho_world_free(w);
}
END_TEST

/* A running VM refuses any need that is not a migration: HA's restart
 * (a false alarm) and a power-on elsewhere both end REFUSED. */
START_TEST(test_handoff_live_vm_owner_refuses_restart_and_power_on)
{
    const enum ho_reason why = _i == 0 ? HO_RESTART : HO_POWER_ON;
    struct ho_cfg cfg = ho_world_cfg(3, 1, HO_HANDOFF);
    struct ho_world *w = world(&cfg, 1);
    ho_world_run_until(w, 1 * S);
    ck_assert_int_eq(ho_need(w->c, 0, 2, why), 0);
    uint64_t t = ho_world_run_until_quiet(w, 30 * S);
    ck_assert_uint_eq(t - 1 * S, 2 * (2 * w->lat_ns) + w->io_ns);  /* read, then refused */
    ck_assert_uint_eq(ho_world_count_sent(w, M_REFUSED, "h0", "h2", 0, FOREVER), 1);
    ck_assert_uint_eq(ho_world_count_sent(w, M_DS_CAW, NULL, NULL, 0, FOREVER), 0);
    ho_world_run_until(w, 3 * S);
    ck_assert_uint_gt(ho_world_count_sent(w, M_DS_WRITE, "h0", "ds", t, FOREVER), 0);
    uint64_t gen;
    ck_assert_uint_eq(ho_owner(w->c, 0, &gen), 0);
    ck_assert_uint_eq(gen, 1);
    ck_assert_uint_eq(ho_holder_host(w->c, 0), 0);
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.refused, 1);
    ck_assert_uint_eq(s.opened + s.failed + s.takeovers + s.stale_refused, 0);
    ck_assert_uint_eq(s.meta_checked, 0);
    assert_safe(&s);
    ho_world_free(w);
}
END_TEST

/* A daemon (backup proxy hot-add) releases whatever the reason. */
START_TEST(test_handoff_daemon_holder_releases_for_every_reason)
{
    const enum ho_reason why = (enum ho_reason)_i;
    struct ho_cfg cfg = ho_world_cfg(3, 1, HO_HANDOFF);
    struct ho_disk_cfg dk = { .holder_host = 0, .holder = HO_HOLD_DAEMON,
                              .actors = { 0, 2, HO_NONE, HO_NONE } };
    cfg.disks = &dk;
    struct ho_world *w = world(&cfg, 3);
    ho_world_run_until(w, 1 * S);
    ck_assert_int_eq(ho_need(w->c, 0, 1, why), 0);
    uint64_t t = ho_world_run_until_quiet(w, 30 * S);
    ck_assert_uint_lt(t - 1 * S, 2 * MS);
    uint64_t gen;
    ck_assert_uint_eq(ho_owner(w->c, 0, &gen), 1);
    ck_assert_uint_eq(gen, 2);
    ck_assert_uint_eq(ho_holder_host(w->c, 0), 1);
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.takeovers + s.refused + s.failed + s.stale_refused, 0);
    assert_safe(&s);
    ho_world_free(w);
}
END_TEST

/* -------------------------------------------------------- owner dead */

struct dead_case {
    uint64_t req_timeout_ns;
    uint32_t attempts;
    double backoff;
    uint32_t relays;             /* relays asked (h1, h2 available) */
    bool relay_h1_dead;          /* h1 crashed too: its relay times out */
};

static const struct dead_case dead_cases[] = {
    { 500 * MS, 3, 2.0, 2, false },      /* the defaults: 3.5 s + 2 x 0.5 s */
    { 200 * MS, 2, 3.0, 1, false },      /* 0.2 + 0.6 s + 0.2 s */
    { 1 * S, 1, 1.0, 0, false },         /* no relay: 1 s, then take over */
    { 500 * MS, 3, 2.0, 2, true },       /* relay h1 dead: 2 x (0.5 + 1 + 2) s */
};

/* h0 crashed; h3 restarts its VM.  The need is met exactly after the
 * owner's attempts (each timeout `backoff` times the last), each relay's
 * answer (UNREACHABLE after the relay's own req_timeout, or, for a dead
 * relay, the requester's doubled timeouts) and two datastore round trips
 * (read, compare-and-write). */
START_TEST(test_handoff_dead_owner_takeover_time_matches_parameters)
{
    const struct dead_case *k = &dead_cases[_i];
    struct ho_cfg cfg = ho_world_cfg(4, 1, HO_HANDOFF);
    cfg.params.req_timeout_ns = k->req_timeout_ns;
    cfg.params.attempts = k->attempts;
    cfg.params.backoff = k->backoff;
    cfg.params.relays = k->relays;
    struct ho_world *w = world(&cfg, 1);
    ho_world_run_until(w, 1 * S);
    ho_host_crash(w->c, 0);
    if (k->relay_h1_dead)
        ho_host_crash(w->c, 1);
    ck_assert_int_eq(ho_need(w->c, 0, 3, HO_RESTART), 0);
    uint64_t t = ho_world_run_until_quiet(w, 60 * S);

    uint64_t lat = w->lat_ns, ds_rtt = 2 * lat + w->io_ns, owner_ns = 0, relays_ns = 0;
    double to = (double)k->req_timeout_ns;
    for (uint32_t a = 0; a < k->attempts; a++, to *= k->backoff)
        owner_ns += (uint64_t)to;
    for (uint32_t r = 0; r < k->relays; r++)
        relays_ns += r == 0 && k->relay_h1_dead ? 2 * owner_ns : k->req_timeout_ns + 2 * lat;
    ck_assert_uint_eq(t - 1 * S, 2 * ds_rtt + owner_ns + relays_ns);

    ck_assert_uint_eq(ho_world_count_sent(w, M_RELEASE, "h3", "h0", 0, FOREVER), k->attempts);
    ck_assert_uint_eq(ho_world_count_sent(w, M_RELAY, "h3", NULL, 0, FOREVER),
                      k->relays + (k->relay_h1_dead ? k->attempts - 1 : 0));
    uint64_t gen;
    ck_assert_uint_eq(ho_owner(w->c, 0, &gen), 3);
    ck_assert_uint_eq(gen, 2);
    ck_assert_uint_eq(ho_holder_host(w->c, 0), 3);
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.takeovers, 1);
    ck_assert_uint_eq(s.false_takeovers, 0);
    assert_safe(&s);
    ho_world_free(w);
}
END_TEST

/* -------------------------------------------------------- owner slow */

/* h0 holds disk 0 (a daemon, or a VM that is migrating) and freezes at
 * 1 s; a write timer fires while it is frozen.  h1 asks from 1.2 s; h0
 * answers nothing, nor does relay h2 reach it, so h1 takes over.  At 10 s
 * h0 carries on: its pending write goes out with generation 1 and is
 * fenced, and only then does it answer the four release requests it
 * queued (three of h1's, one of h2's relay) - RELEASED, long after h1
 * gave up on it.  Those replies must change nothing. */
START_TEST(test_handoff_slow_owner_late_write_fenced_late_released_ignored)
{
    const bool vm = _i == 1;
    struct ho_cfg cfg = ho_world_cfg(3, 1, HO_HANDOFF);
    struct ho_disk_cfg dk = { .holder_host = 0, .holder = vm ? HO_HOLD_VM : HO_HOLD_DAEMON,
                              .actors = { 0, 2, HO_NONE, HO_NONE } };
    cfg.disks = &dk;
    cfg.params.relays = 1;
    struct ho_world *w = world(&cfg, 5);
    ho_world_run_until(w, 1 * S);
    /* precondition: no write of h0's in flight (its reply would come first) */
    size_t last = 0;
    for (size_t i = 0; i < w->log_len; i++)
        if (w->log[i].type == M_DS_WRITE)
            last = i;
    ck_assert_uint_lt(w->log[last].t_ns + 2 * w->lat_ns + w->io_ns, 1 * S);
    ho_host_pause(w->c, 0);
    ho_world_run_until(w, 1200 * MS);
    ck_assert_int_eq(ho_need(w->c, 0, 1, vm ? HO_MIGRATE : HO_POWER_ON), 0);
    uint64_t t_open = ho_world_run_until_quiet(w, 30 * S);
    ck_assert_uint_lt(t_open, 10 * S);
    ck_assert_uint_eq(ho_owner(w->c, 0, NULL), 1);
    ho_world_run_until(w, 10 * S);
    ho_host_wake(w->c, 0);
    ho_world_run_until(w, 15 * S);

    ck_assert_uint_eq(ho_world_count_sent(w, M_DS_WRITE, "h0", "ds", 10 * S, FOREVER), 1);
    ck_assert_uint_eq(ho_world_count_sent(w, M_DS_FENCED, "ds", "h0", 10 * S, FOREVER), 1);
    ck_assert_uint_eq(ho_world_count_sent(w, M_RELEASED, "h0", "h1", 10 * S, FOREVER), 3);
    ck_assert_uint_eq(ho_world_count_sent(w, M_RELEASED, "h0", "h2", 10 * S, FOREVER), 1);
    /* ignored: no second compare-and-write, no read, the record unchanged */
    ck_assert_uint_eq(ho_world_count_sent(w, 0, "h1", "ds", t_open, FOREVER),
                      ho_world_count_sent(w, M_DS_WRITE, "h1", "ds", t_open, FOREVER));
    uint64_t gen;
    ck_assert_uint_eq(ho_owner(w->c, 0, &gen), 1);
    ck_assert_uint_eq(gen, 2);
    ck_assert_uint_eq(ho_holder_host(w->c, 0), 1);
    ck_assert_ptr_null(ho_open_find(w->c, 0, 0));
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.takeovers, 1);
    ck_assert_uint_eq(s.false_takeovers, 1);      /* h0 was up and held it */
    ck_assert_uint_eq(s.stale_refused, 1);
    ck_assert_uint_eq(s.meta_checked, 1);
    assert_safe(&s);
    ho_world_free(w);
}
END_TEST

/* ---------------------------------------------------- two requesters */

/* h1 and h2 need disk 0 at the same instant: the owner (dead, or a live
 * daemon) is handed to exactly one; the other's compare-and-write fails,
 * it reads again, asks the winner, whose running VM refuses (or, with
 * max_rounds 1, it fails at once). */
START_TEST(test_handoff_two_requesters_exactly_one_opens)
{
    const bool dead = _i & 1, one_round = _i & 2;
    struct ho_cfg cfg = ho_world_cfg(4, 1, HO_HANDOFF);
    struct ho_disk_cfg dk = { .holder_host = 0, .holder = dead ? HO_HOLD_VM : HO_HOLD_DAEMON,
                              .actors = { 0, 1, 2, HO_NONE } };
    cfg.disks = &dk;
    if (one_round)
        cfg.params.max_rounds = 1;
    struct ho_world *w = world(&cfg, 11);
    ho_world_run_until(w, 1 * S);
    if (dead)
        ho_host_crash(w->c, 0);
    enum ho_reason why = dead ? HO_RESTART : HO_POWER_ON;
    ck_assert_int_eq(ho_need(w->c, 0, 1, why), 0);
    ck_assert_int_eq(ho_need(w->c, 0, 2, why), 0);
    ck_assert_int_eq(ho_need(w->c, 0, 2, why), VM_EBUSY);
    ck_assert_uint_ne(ho_world_run_until_quiet(w, 60 * S), FOREVER);
    ho_world_run_until(w, 65 * S);
    uint64_t gen;
    uint32_t win = ho_owner(w->c, 0, &gen), lose = win == 1 ? 2 : 1;
    ck_assert(win == 1 || win == 2);
    ck_assert_uint_eq(gen, 2);                   /* one handoff, one step */
    ck_assert_uint_eq(ho_holder_host(w->c, 0), win);
    ck_assert_ptr_null(ho_open_find(w->c, 0, lose));
    char wb[16], lb[16];
    snprintf(wb, sizeof wb, "h%u", win);
    snprintf(lb, sizeof lb, "h%u", lose);
    ck_assert_uint_eq(ho_world_count_sent(w, M_DS_CAW_FAIL, "ds", lb, 0, FOREVER), 1);
    ck_assert_uint_eq(ho_world_count_sent(w, M_REFUSED, wb, lb, 0, FOREVER), one_round ? 0 : 1);
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.needs, 2);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.refused, one_round ? 0 : 1);
    ck_assert_uint_eq(s.failed, one_round ? 1 : 0);
    ck_assert_uint_eq(s.meta_checked, 1);
    ck_assert_uint_eq(s.takeovers, dead ? 1 : 0);
    ck_assert_uint_eq(s.stale_refused, 0);
    assert_safe(&s);
    ho_world_free(w);
}
END_TEST

/* As above (live daemon on h0, h1 and h2 power on at once), but the
 * winner's CAW_OK is lost.  The record names h1 at 2, yet h1 has opened
 * nothing, so when the loser h2 reads again and asks h1, h1's daemon
 * holds no open and releases; h2 writes itself in at 3 and opens.  h1's
 * resent compare-and-write then fails naming h2 (not its own copy), it
 * reads again, asks h2, whose VM refuses.  Still exactly one opens and no
 * violation, but the record moved twice for one open: the generation
 * ends at 3, not 2. */
START_TEST(test_handoff_two_requesters_winner_reply_lost)
{
    struct ho_cfg cfg = ho_world_cfg(4, 1, HO_HANDOFF);
    struct ho_disk_cfg dk = { .holder_host = 0, .holder = HO_HOLD_DAEMON,
                              .actors = { 0, 1, 2, HO_NONE } };
    cfg.disks = &dk;
    uint64_t nth = 0;
    for (int run = 0; run < 2; run++) {         /* find the CAW_OK, then lose it */
        struct ho_world *w = world(&cfg, 11);
        ho_world_run_until(w, 1 * S);
        w->drop_nth = nth;
        ck_assert_int_eq(ho_need(w->c, 0, 1, HO_POWER_ON), 0);
        ck_assert_int_eq(ho_need(w->c, 0, 2, HO_POWER_ON), 0);
        ck_assert_uint_ne(ho_world_run_until_quiet(w, 60 * S), FOREVER);
        ho_world_run_until(w, 65 * S);
        uint64_t gen;
        uint32_t own = ho_owner(w->c, 0, &gen);
        struct ho_stats s = ho_world_finish(w);
        ck_assert_uint_eq(s.opened, 1);
        ck_assert_uint_eq(s.refused, 1);
        ck_assert_uint_eq(s.stale_refused + s.takeovers, 0);
        assert_safe(&s);
        if (run == 0) {
            ck_assert_uint_eq(own, 1);
            ck_assert_uint_eq(gen, 2);
            for (size_t i = 0; i < w->log_len && !nth; i++)
                if (w->log[i].type == M_DS_CAW_OK)
                    nth = w->log[i].nr;
            ck_assert_uint_gt(nth, 0);
        } else {
            ck_assert_uint_eq(w->dropped, 1);
            ck_assert_uint_eq(own, 2);
            ck_assert_uint_eq(gen, 3);
            ck_assert_uint_eq(ho_holder_host(w->c, 0), 2);
            ck_assert_ptr_null(ho_open_find(w->c, 0, 1));
            ck_assert_uint_eq(ho_world_count_sent(w, M_RELEASED, "h1", "h2", 0, FOREVER), 1);
            ck_assert_uint_eq(ho_world_count_sent(w, M_REFUSED, "h2", "h1", 0, FOREVER), 1);
            ck_assert_uint_eq(s.meta_checked, 2);
        }
        ho_world_free(w);
    }
}
END_TEST

/* Two lock breakers at once (HO_FORCE): both read generation 1, both
 * write themselves in at 2 without comparing.  The record's second update
 * does not advance the generation (two owners of generation 2), and both
 * open and write: the checker must see both. */
START_TEST(test_handoff_force_two_breakers_split_owner_and_double_writer)
{
    struct ho_cfg cfg = ho_world_cfg(3, 1, HO_FORCE);
    struct ho_world *w = world(&cfg, 1);
    ho_world_run_until(w, 1 * S);
    ho_host_crash(w->c, 0);
    ck_assert_int_eq(ho_need(w->c, 0, 1, HO_RESTART), 0);
    ck_assert_int_eq(ho_need(w->c, 0, 2, HO_RESTART), 0);
    ck_assert_uint_eq(ho_world_run_until_quiet(w, 10 * S) - 1 * S,
                      2 * (2 * w->lat_ns + w->io_ns));
    ho_world_run_until(w, 6 * S);
    uint64_t gen;
    (void)ho_owner(w->c, 0, &gen);
    ck_assert_uint_eq(gen, 2);
    ck_assert_ptr_nonnull(ho_open_find(w->c, 0, 1));
    ck_assert_ptr_nonnull(ho_open_find(w->c, 0, 2));
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.opened, 2);
    ck_assert_uint_eq(s.split_owner, 1);
    ck_assert_uint_eq(s.double_writer, 1);       /* one window, open to the end */
    ck_assert_uint_gt(s.double_writer_ns, 4 * S);
    ck_assert_uint_gt(s.lost_acked, 0);
    ho_world_free(w);
}
END_TEST

/* -------------------------------------------------------- partitions */

/* h2 cannot reach h0, but h0 is alive and reaches everyone else: the
 * relay h1 carries the release to h0, whose VM refuses a restart, and the
 * refusal comes back through h1.  No takeover of a running VM. */
START_TEST(test_handoff_cut_requester_owner_relay_brings_refusal)
{
    struct ho_cfg cfg = ho_world_cfg(3, 1, HO_HANDOFF);
    struct ho_world *w = world(&cfg, 1);
    ho_world_cut(w, "h0", "h2", 0, FOREVER);
    ho_world_run_until(w, 1 * S);
    ck_assert_int_eq(ho_need(w->c, 0, 2, HO_RESTART), 0);
    uint64_t t = ho_world_run_until_quiet(w, 60 * S);
    /* 3.5 s on h0, then the relay's round trip to h0 */
    ck_assert_uint_eq(t - 1 * S, 3500 * MS + (2 * w->lat_ns + w->io_ns) + 4 * w->lat_ns);
    ck_assert_uint_eq(ho_world_count_sent(w, M_REFUSED, "h0", "h1", 0, FOREVER), 1);
    ck_assert_uint_eq(ho_world_count_sent(w, M_REFUSED, "h1", "h2", 0, FOREVER), 1);
    ck_assert_uint_eq(ho_world_count_sent(w, M_DS_CAW, NULL, NULL, 0, FOREVER), 0);
    uint64_t gen;
    ck_assert_uint_eq(ho_owner(w->c, 0, &gen), 0);
    ck_assert_uint_eq(gen, 1);
    ck_assert_uint_eq(ho_holder_host(w->c, 0), 0);
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.refused, 1);
    ck_assert_uint_eq(s.opened + s.takeovers + s.false_takeovers + s.stale_refused, 0);
    assert_safe(&s);
    ho_world_free(w);
}
END_TEST

/* h0 reaches only the datastore: nobody can ask it, so h3 takes over (a
 * false takeover: h0 runs on) and the datastore fences h0's next write,
 * which closes its open.  One writer throughout. */
START_TEST(test_handoff_isolated_owner_taken_over_and_fenced)
{
    struct ho_cfg cfg = ho_world_cfg(4, 1, HO_HANDOFF);
    struct ho_world *w = world(&cfg, 1);
    ho_world_run_until(w, 1 * S);
    for (int h = 1; h < 4; h++) {
        char b[16];
        snprintf(b, sizeof b, "h%d", h);
        ho_world_cut(w, "h0", b, 1 * S, FOREVER);
    }
    ck_assert_int_eq(ho_need(w->c, 0, 3, HO_RESTART), 0);
    uint64_t t = ho_world_run_until_quiet(w, 60 * S);
    ck_assert_uint_eq(t - 1 * S, 2 * (2 * w->lat_ns + w->io_ns) + 3500 * MS +
                                     2 * (500 * MS + 2 * w->lat_ns));
    ho_world_run_until(w, t + 1 * S);
    ck_assert_uint_gt(ho_world_count_sent(w, M_DS_WRITE, "h0", "ds", 1 * S, FOREVER), 0);
    ck_assert_uint_eq(ho_world_count_sent(w, M_DS_FENCED, "ds", "h0", 0, FOREVER), 1);
    uint64_t t_fenced = 0;
    for (size_t i = 0; i < w->log_len; i++)
        if (w->log[i].type == M_DS_FENCED)
            t_fenced = w->log[i].t_ns;
    ck_assert_uint_ge(t_fenced, t - (w->lat_ns + w->io_ns));    /* after the takeover */
    ck_assert_uint_eq(ho_world_count_sent(w, M_DS_WRITE, "h0", "ds", t_fenced, FOREVER), 0);
    ck_assert_ptr_null(ho_open_find(w->c, 0, 0));
    ck_assert_uint_eq(ho_holder_host(w->c, 0), 3);
    ck_assert_uint_eq(ho_owner(w->c, 0, NULL), 3);
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.takeovers, 1);
    ck_assert_uint_eq(s.false_takeovers, 1);
    ck_assert_uint_eq(s.stale_refused, 1);
    assert_safe(&s);
    ho_world_free(w);
}
END_TEST

/* sanlock: h0 is cut from the datastore at 60 s.  Its renewals fail; 80 s
 * (8 x io_timeout) after the start of its last good renewal it kills its
 * lease holders; h1 acquires only once it has seen h0's delta lease still
 * for host_dead = 140 s (checked at its renewals and polls).  The kill
 * comes first: one writer throughout. */
START_TEST(test_handoff_lease_owner_cut_from_ds_killed_then_taken)
{
    struct ho_cfg cfg = ho_world_cfg(3, 1, HO_LEASE);
    struct ho_world *w = world(&cfg, 1);
    ho_world_run_until(w, 60 * S);
    ho_world_cut(w, "h0", "ds", 60 * S, FOREVER);
    ck_assert_int_eq(ho_need(w->c, 0, 1, HO_RESTART), 0);
    uint64_t t_kill = 0;
    while (!ho_quiet(w->c) && w->clk.now_ns < 400 * S) {
        ck_assert(fake_timer_run_next(w->ft));
        if (!t_kill && w->c->st.lease_kills)
            t_kill = w->clk.now_ns;
    }
    ck_assert(ho_quiet(w->c));
    uint64_t t_open = w->clk.now_ns;
    uint64_t t_renew = 0;                       /* h0's last renewal that landed */
    for (size_t i = 0; i < w->log_len; i++)
        if (w->log[i].type == M_DS_RENEW && !strcmp(w->log[i].from, "h0") && !w->log[i].dropped)
            t_renew = w->log[i].t_ns;
    ck_assert_uint_gt(t_renew, 0);
    ck_assert_uint_eq(t_kill, t_renew + 80 * S);
    ck_assert_uint_ge(t_open, t_renew + 140 * S);
    ck_assert_uint_le(t_open, t_renew + 140 * S + 20 * S + 10 * S + 10 * MS);
    ck_assert_uint_eq(ho_owner(w->c, 0, NULL), 1);
    ho_world_run_until(w, t_open + 5 * S);
    ck_assert_uint_eq(ho_holder_host(w->c, 0), 1);
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.lease_kills, 1);
    ck_assert_uint_eq(s.watchdog_resets, 0);
    ck_assert_uint_eq(s.takeovers, 1);
    ck_assert_uint_eq(s.false_takeovers, 0);
    assert_safe(&s);
    ho_world_free(w);
}
END_TEST

/* sanlock: h0 freezes at 60 s for 200 s.  Its watchdog is not petted and
 * resets it 60 s later (its holders die with it); h1 acquires only host_dead
 * after h0's last renewal; h0 reboots at wake holding nothing.  A
 * freeze shorter than 8 x io_timeout (50 s) costs nothing: h0 resumes its
 * renewals and keeps the disk, and h1 has not taken it meanwhile. */
START_TEST(test_handoff_lease_paused_owner_watchdog_then_taken)
{
    const bool long_pause = _i == 0;
    struct ho_cfg cfg = ho_world_cfg(3, 1, HO_LEASE);
    struct ho_world *w = world(&cfg, 1);
    ho_world_run_until(w, 60 * S);
    ho_host_pause(w->c, 0);
    ck_assert_int_eq(ho_need(w->c, 0, 1, HO_RESTART), 0);
    uint64_t t_open = 0, t_wake = long_pause ? 260 * S : 110 * S;
    while (w->clk.now_ns < t_wake) {
        ck_assert(fake_timer_run_next(w->ft));
        if (!t_open && w->c->st.opened)
            t_open = w->clk.now_ns;
    }
    ho_host_wake(w->c, 0);
    ho_world_run_until(w, 300 * S);
    uint64_t t_renew = 0;                       /* h0's last renewal before the pause */
    for (size_t i = 0; i < w->log_len; i++)
        if (w->log[i].type == M_DS_RENEW && !strcmp(w->log[i].from, "h0") &&
            w->log[i].t_ns < 60 * S)
            t_renew = w->log[i].t_ns;
    struct ho_stats s = ho_world_finish(w);
    if (long_pause) {
        ck_assert_uint_eq(s.watchdog_resets, 1);
        ck_assert_uint_eq(s.opened, 1);
        ck_assert_uint_ge(t_open, t_renew + 140 * S);
        ck_assert_uint_lt(t_open, t_wake);
        ck_assert_uint_eq(ho_owner(w->c, 0, NULL), 1);
        ck_assert_uint_eq(ho_holder_host(w->c, 0), 1);
        ck_assert_uint_eq(ho_world_count_sent(w, M_DS_WRITE, "h0", "ds", 60 * S, FOREVER), 0);
    } else {
        ck_assert_uint_eq(s.watchdog_resets + s.lease_kills + s.opened + s.takeovers, 0);
        ck_assert_uint_eq(ho_owner(w->c, 0, NULL), 0);
        ck_assert_uint_eq(ho_holder_host(w->c, 0), 0);
        ck_assert_uint_gt(ho_world_count_sent(w, M_DS_WRITE, "h0", "ds", t_wake, FOREVER), 0);
    }
    assert_safe(&s);
    ho_world_free(w);
}
END_TEST

static Suite *handoff_owner_suite(void)
{
    Suite *s = suite_create("handoff_owner");
    TCase *t = tcase_create("owner");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_handoff_live_vm_owner_releases_for_migration);
    tcase_add_loop_test(t, test_handoff_live_vm_owner_refuses_restart_and_power_on, 0, 2);
    tcase_add_loop_test(t, test_handoff_daemon_holder_releases_for_every_reason, HO_RESTART,
                        HO_MIGRATE + 1);
    tcase_add_loop_test(t, test_handoff_dead_owner_takeover_time_matches_parameters, 0,
                        (int)(sizeof dead_cases / sizeof dead_cases[0]));
    tcase_add_loop_test(t, test_handoff_slow_owner_late_write_fenced_late_released_ignored, 0, 2);
    suite_add_tcase(s, t);
    t = tcase_create("concurrent");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, test_handoff_two_requesters_exactly_one_opens, 0, 4);
    tcase_add_test(t, test_handoff_two_requesters_winner_reply_lost);
    tcase_add_test(t, test_handoff_force_two_breakers_split_owner_and_double_writer);
    suite_add_tcase(s, t);
    t = tcase_create("partition");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_handoff_cut_requester_owner_relay_brings_refusal);
    tcase_add_test(t, test_handoff_isolated_owner_taken_over_and_fenced);
    tcase_add_test(t, test_handoff_lease_owner_cut_from_ds_killed_then_taken);
    tcase_add_loop_test(t, test_handoff_lease_paused_owner_watchdog_then_taken, 0, 2);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(handoff_owner_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
