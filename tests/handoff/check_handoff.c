/*
 * check_handoff.c - the handoff protocol and its baselines, end to end in
 * the test world (ho_world.h): owner alive, dead, paused; backup proxy;
 * the unsafe baselines' double writers; sanlock's and the operator's
 * timelines.
 */
#include <check.h>
#include <stdlib.h>

#include "handoff/ho_world.h"

#define MS 1000000ull
#define S 1000000000ull

static struct ho_stats finish(struct ho_world *w)
{
    struct ho_stats s;
    ho_stats_init(&s);
    ho_finish(w->c, &s);
    return s;
}

/* A backup proxy's daemon on h2 holds disk 0; h1 powers the VM on. */
START_TEST(backup_proxy_releases)
{
    struct ho_cfg cfg = ho_world_cfg(4, 1, HO_HANDOFF);
    struct ho_disk_cfg dk = { .holder_host = 2, .holder = HO_HOLD_DAEMON,
                              .actors = { 2, 3, HO_NONE, HO_NONE } };
    cfg.disks = &dk;
    struct ho_world *w = ho_world_new(&cfg, 1);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(ho_start(w->c), 0);
    ho_world_run_until(w, 1 * S);
    ck_assert_int_eq(ho_need(w->c, 0, 1, HO_POWER_ON), 0);
    ho_world_run_until(w, 5 * S);
    uint64_t gen;
    ck_assert_uint_eq(ho_owner(w->c, 0, &gen), 1);
    ck_assert_uint_eq(gen, 2);
    ck_assert_uint_eq(ho_holder_host(w->c, 0), 1);
    struct ho_stats s = finish(w);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.takeovers, 0);
    ck_assert_uint_lt(vm_hist_quantile(&s.open_ns, 1.0), 50 * MS);
    ck_assert_uint_eq(s.double_writer + s.lost_acked + s.split_owner, 0);
    ck_assert_uint_gt(s.writes_checked, 0);
    ho_world_free(w);
}
END_TEST

/* The owner's host is dead: nobody answers; takeover after the timeouts. */
START_TEST(dead_owner_taken_over)
{
    struct ho_cfg cfg = ho_world_cfg(4, 1, HO_HANDOFF);
    struct ho_world *w = ho_world_new(&cfg, 1);
    ho_start(w->c);
    ho_world_run_until(w, 1 * S);
    ho_host_crash(w->c, 0);
    ho_need(w->c, 0, 3, HO_RESTART);
    ho_world_run_until(w, 30 * S);
    ck_assert_uint_eq(ho_owner(w->c, 0, NULL), 3);
    struct ho_stats s = finish(w);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.takeovers, 1);
    ck_assert_uint_eq(s.false_takeovers, 0);
    /* the owner 0.5 + 1 + 2 s, then relays 1 and 2 (3 is the requester),
     * each UNREACHABLE after its own 0.5 s */
    uint64_t t = vm_hist_quantile(&s.open_ns, 1.0);
    ck_assert_uint_gt(t, 4500 * MS);
    ck_assert_uint_lt(t, 4600 * MS);
    ho_world_free(w);
}
END_TEST

/* The owner is paused past the timeouts; it wakes and writes: fenced. */
static struct ho_stats paused_owner(enum ho_method m)
{
    struct ho_cfg cfg = ho_world_cfg(3, 1, m);
    struct ho_world *w = ho_world_new(&cfg, 7);
    ho_start(w->c);
    ho_world_run_until(w, 1 * S);
    ho_host_pause(w->c, 0);
    ho_need(w->c, 0, 1, HO_RESTART);
    ho_world_run_until(w, 40 * S);
    ho_host_wake(w->c, 0);
    ho_world_run_until(w, 60 * S);
    struct ho_stats s = finish(w);
    ho_world_free(w);
    return s;
}

START_TEST(paused_owner_fenced)
{
    struct ho_stats s = paused_owner(HO_HANDOFF);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.false_takeovers, 1);
    ck_assert_uint_ge(s.stale_refused, 1);
    ck_assert_uint_eq(s.double_writer, 0);
    ck_assert_uint_eq(s.lost_acked, 0);
}
END_TEST

START_TEST(no_fencing_double_writer)
{
    struct ho_stats s = paused_owner(HO_BROKEN_NOFENCE);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.stale_refused, 0);
    ck_assert_uint_ge(s.double_writer, 1);
    ck_assert_uint_gt(s.double_writer_ns, 0);
}
END_TEST

/* A live VM owner refuses a restart request (a false alarm). */
START_TEST(live_owner_refuses)
{
    struct ho_cfg cfg = ho_world_cfg(3, 1, HO_HANDOFF);
    struct ho_world *w = ho_world_new(&cfg, 1);
    ho_start(w->c);
    ho_need(w->c, 0, 2, HO_RESTART);
    ho_world_run_until(w, 10 * S);
    ck_assert_uint_eq(ho_owner(w->c, 0, NULL), 0);
    ck_assert_uint_eq(ho_holder_host(w->c, 0), 0);
    struct ho_stats s = finish(w);
    ck_assert_uint_eq(s.refused, 1);
    ck_assert_uint_eq(s.opened, 0);
    ho_world_free(w);
}
END_TEST

/* Force: a live owner keeps writing beside the breaker. */
START_TEST(force_double_writer)
{
    struct ho_cfg cfg = ho_world_cfg(3, 1, HO_FORCE);
    struct ho_world *w = ho_world_new(&cfg, 1);
    ho_start(w->c);
    ho_world_run_until(w, 1 * S);
    ho_need(w->c, 0, 2, HO_RESTART);
    ho_world_run_until(w, 10 * S);
    struct ho_stats s = finish(w);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.false_takeovers, 1);
    ck_assert_uint_ge(s.double_writer, 1);
    ck_assert_uint_gt(s.lost_acked, 0);
    ho_world_free(w);
}
END_TEST

/* sanlock: a dead owner's lease is taken host_dead after its last renewal. */
START_TEST(lease_takeover_time)
{
    struct ho_cfg cfg = ho_world_cfg(3, 1, HO_LEASE);
    struct ho_world *w = ho_world_new(&cfg, 1);
    ho_start(w->c);
    ho_world_run_until(w, 60 * S);
    ho_host_crash(w->c, 0);
    ho_need(w->c, 0, 1, HO_RESTART);
    ho_world_run_until(w, 400 * S);
    struct ho_stats s = finish(w);
    ck_assert_uint_eq(s.opened, 1);
    uint64_t t = vm_hist_quantile(&s.open_ns, 1.0);
    ck_assert_uint_ge(t, 100 * S);
    ck_assert_uint_le(t, 210 * S);
    ck_assert_uint_eq(s.double_writer, 0);
    ho_world_free(w);
}
END_TEST

/* sanlock: a live holder keeps its lease against an HA restart (the open
 * fails at give-up); a power-on requests it (sanlock_request, force mode):
 * the holder's host sees the request at its next renewal (every 20 s),
 * kills the holder and releases the lease. */
START_TEST(lease_live_holder_keeps)
{
    struct ho_cfg cfg = ho_world_cfg_daemon(3, HO_LEASE);
    struct ho_world *w = ho_world_new(&cfg, 1);
    ho_start(w->c);
    ho_need(w->c, 0, 1, HO_RESTART);
    ho_world_run_until(w, 700 * S);
    struct ho_stats s = finish(w);
    ck_assert_uint_eq(s.opened, 0);
    ck_assert_uint_eq(s.failed, 1);
    ck_assert_uint_eq(s.lease_kills, 0);
    ho_world_free(w);
}
END_TEST

START_TEST(lease_request_taken_at_renewal)
{
    struct ho_cfg cfg = ho_world_cfg_daemon(3, HO_LEASE);
    struct ho_world *w = ho_world_new(&cfg, 1);
    ho_start(w->c);
    ho_world_run_until(w, 30 * S);
    ho_need(w->c, 0, 1, HO_POWER_ON);
    ho_world_run_until(w, 100 * S);
    ck_assert_uint_eq(ho_owner(w->c, 0, NULL), 1);
    struct ho_stats s = finish(w);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.lease_kills, 1);
    uint64_t t = vm_hist_quantile(&s.open_ns, 1.0);
    /* the requester's renewal publishes it, the holder's next one serves
     * it (each every 20 s), then an acquire poll (1 s) */
    ck_assert_uint_le(t, 42 * S);
    ck_assert_uint_eq(s.double_writer + s.lost_acked, 0);
    ho_world_free(w);
}
END_TEST

/* A request whose holder then dies is not served to the new owner: the
 * lease taken after host_dead is kept (sanlock ignores a request for an
 * older lease version). */
START_TEST(lease_stale_request_not_served)
{
    struct ho_cfg cfg = ho_world_cfg_daemon(3, HO_LEASE);
    struct ho_world *w = ho_world_new(&cfg, 1);
    ho_start(w->c);
    ho_world_run_until(w, 30 * S);
    ho_need(w->c, 0, 1, HO_POWER_ON);
    ho_world_run_until(w, 30 * S + 5 * MS);
    ho_host_crash(w->c, 2);             /* before its renewal serves the request */
    ho_world_run_until(w, 400 * S);
    ck_assert_uint_eq(ho_owner(w->c, 0, NULL), 1);
    ck_assert_uint_eq(ho_holder_host(w->c, 0), 1);
    struct ho_stats s = finish(w);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.lease_kills, 0);
    ho_world_free(w);
}
END_TEST

/* A holder process that exits releases its leases (sanlock does on a
 * client's exit): the power-on opens at once, no 140 s wait. */
START_TEST(lease_dead_daemon_releases)
{
    struct ho_cfg cfg = ho_world_cfg_daemon(3, HO_LEASE);
    struct ho_world *w = ho_world_new(&cfg, 1);
    ho_start(w->c);
    ho_world_run_until(w, 5 * S);
    ho_daemon_crash(w->c, 2);
    ho_world_run_until(w, 10 * S);
    ho_need(w->c, 0, 1, HO_POWER_ON);
    ho_world_run_until(w, 20 * S);
    struct ho_stats s = finish(w);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_lt(vm_hist_quantile(&s.open_ns, 1.0), 1 * S);
    ho_world_free(w);
}
END_TEST

/* Manual: the operator clears the lock within [op_min, op_max]. */
START_TEST(manual_operator)
{
    struct ho_cfg cfg = ho_world_cfg_daemon(3, HO_MANUAL);
    cfg.params.give_up_ns = 3600 * S;
    struct ho_world *w = ho_world_new(&cfg, 1);
    ho_start(w->c);
    ho_need(w->c, 0, 1, HO_POWER_ON);
    ho_world_run_until(w, 2000 * S);
    struct ho_stats s = finish(w);
    ck_assert_uint_eq(s.opened, 1);
    uint64_t t = vm_hist_quantile(&s.open_ns, 1.0);
    ck_assert_uint_ge(t, 300 * S);
    ck_assert_uint_le(t, 1811 * S);
    ck_assert_uint_eq(s.double_writer + s.false_takeovers, 0);
    ho_world_free(w);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("handoff");
    TCase *t = tcase_create("protocol");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, backup_proxy_releases);
    tcase_add_test(t, dead_owner_taken_over);
    tcase_add_test(t, paused_owner_fenced);
    tcase_add_test(t, no_fencing_double_writer);
    tcase_add_test(t, live_owner_refuses);
    tcase_add_test(t, force_double_writer);
    tcase_add_test(t, lease_takeover_time);
    tcase_add_test(t, lease_live_holder_keeps);
    tcase_add_test(t, lease_request_taken_at_renewal);
    tcase_add_test(t, lease_stale_request_not_served);
    tcase_add_test(t, lease_dead_daemon_releases);
    tcase_add_test(t, manual_operator);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
