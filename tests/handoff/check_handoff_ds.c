/*
 * check_handoff_ds.c - the datastore side of the handoff model alone: the
 * compare-and-write on the lock record (concurrent writers with the same
 * expected generation, a resent one whose first copy landed) and the
 * safety checker (it must catch a double writer and a lost acknowledged
 * write when the datastore does not fence, and stay silent on a proper
 * A -> B -> A handoff).
 *
 * Datastore operations are injected as wire messages through the test
 * world's transport (ho_world.h), so they arrive, are logged and are
 * answered exactly as the protocol's own; replies for hosts with no
 * matching need or open are dropped by the model, but stay in the log.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/ho_world.h"

#define MS 1000000ull
#define S 1000000000ull
#define FOREVER UINT64_MAX

static const struct ho_disk_cfg closed_disk = {
    .holder_host = HO_NONE, .holder = HO_HOLD_NONE,
    .actors = { HO_NONE, HO_NONE, HO_NONE, HO_NONE } };

static struct ho_world *world(const struct ho_cfg *cfg)
{
    struct ho_world *w = ho_world_new(cfg, 1);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(ho_start(w->c), 0);
    return w;
}

/* Send m from host `from` to the datastore now, as the model would. */
static void inject(struct ho_world *w, uint32_t from, struct ho_msg m)
{
    char fb[16];
    snprintf(fb, sizeof fb, "h%u", from);
    m.epoch = 1;
    m.host = from;
    m.slot_kind = S_OPEN;
    m.slot = 9999;                      /* no such open: the reply is dropped at the host */
    struct port_transport_out out = { .tag = m.type, .blob = &m, .blob_len = sizeof m,
                                      .wire_bytes = 256 };
    ck_assert_int_eq(port_transport_send(&w->net, fb, "ds", &out, 0), 0);
}

static void inject_caw(struct ho_world *w, uint32_t from, uint64_t expect_gen)
{
    inject(w, from, (struct ho_msg){ .type = M_DS_CAW, .owner = from, .gen = expect_gen,
                                     .id = 1000 + from });
}

static void inject_write(struct ho_world *w, uint32_t from, uint64_t gen, uint64_t block)
{
    inject(w, from, (struct ho_msg){ .type = M_DS_WRITE, .gen = gen, .block = block,
                                     .id = 2000 + from });
}

/* The last logged reply from the datastore to host h. */
static const struct ho_world_sent *reply_to(const struct ho_world *w, uint32_t h)
{
    char hb[16];
    snprintf(hb, sizeof hb, "h%u", h);
    for (size_t i = w->log_len; i-- > 0;)
        if (!strcmp(w->log[i].from, "ds") && !strcmp(w->log[i].to, hb))
            return &w->log[i];
    return NULL;
}

/* ----------------------------------------------------- compare-and-write */

/* Eight hosts compare-and-write "generation 1 -> me" at the same instant
 * (in order h0..h7, or h7..h0): the first to arrive wins generation 2;
 * every other is refused and told the winner and generation 2.  A later
 * round expecting 2 wins 3; a stale one still expecting 1 fails. */
START_TEST(test_handoff_caw_same_generation_one_wins)
{
    const bool reverse = _i == 1;
    struct ho_cfg cfg = ho_world_cfg(8, 1, HO_HANDOFF);
    cfg.disks = &closed_disk;
    struct ho_world *w = world(&cfg);
    ho_world_run_until(w, 1 * S);
    for (uint32_t k = 0; k < 8; k++)
        inject_caw(w, reverse ? 7 - k : k, 1);
    ho_world_run_until(w, 1 * S + 1 * MS);
    const uint32_t win = reverse ? 7 : 0;
    uint64_t gen;
    ck_assert_uint_eq(ho_owner(w->c, 0, &gen), win);
    ck_assert_uint_eq(gen, 2);
    for (uint32_t h = 0; h < 8; h++) {
        const struct ho_world_sent *r = reply_to(w, h);
        ck_assert_ptr_nonnull(r);
        ck_assert_int_eq(r->type, h == win ? M_DS_CAW_OK : M_DS_CAW_FAIL);
        ck_assert_uint_eq(r->m.owner, win);
        ck_assert_uint_eq(r->m.gen, 2);
        ck_assert_uint_eq(r->m.id, 1000 + h);
    }
    ck_assert_uint_eq(ho_world_count_sent(w, M_DS_CAW_OK, "ds", NULL, 0, FOREVER), 1);
    ck_assert_uint_eq(ho_world_count_sent(w, M_DS_CAW_FAIL, "ds", NULL, 0, FOREVER), 7);

    const uint32_t next = reverse ? 0 : 7, stale = 3;
    inject_caw(w, next, 2);
    inject_caw(w, stale, 1);
    ho_world_run_until(w, 2 * S);
    ck_assert_uint_eq(ho_owner(w->c, 0, &gen), next);
    ck_assert_uint_eq(gen, 3);
    ck_assert_int_eq(reply_to(w, next)->type, M_DS_CAW_OK);
    ck_assert_int_eq(reply_to(w, stale)->type, M_DS_CAW_FAIL);
    ck_assert_uint_eq(reply_to(w, stale)->m.owner, next);
    ck_assert_uint_eq(reply_to(w, stale)->m.gen, 3);
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.meta_checked, 2);
    ck_assert_uint_eq(s.split_owner, 0);
    ho_world_free(w);
}
END_TEST

/* The reply to the requester's compare-and-write is lost: it resends the
 * same "1 -> me", which fails, but names the requester at 2: its first
 * copy landed, and that is success (one record update, generation 2), one
 * datastore timeout later.  The owner is dead (no relays), or a daemon
 * that released. */
START_TEST(test_handoff_resent_caw_first_copy_landed_is_success)
{
    const bool dead = _i == 0;
    struct ho_cfg cfg = ho_world_cfg(3, 1, HO_HANDOFF);
    struct ho_disk_cfg dk = { .holder_host = 0, .holder = dead ? HO_HOLD_VM : HO_HOLD_DAEMON,
                              .actors = { 0, HO_NONE, HO_NONE, HO_NONE } };
    cfg.disks = &dk;
    struct ho_world *w = world(&cfg);
    ho_world_run_until(w, 1 * S);
    if (dead)
        ho_host_crash(w->c, 0);
    w->drop_type = M_DS_CAW_OK;
    ck_assert_int_eq(ho_need(w->c, 0, 1, dead ? HO_RESTART : HO_POWER_ON), 0);
    uint64_t t = ho_world_run_until_quiet(w, 60 * S);
    ck_assert_uint_ne(t, FOREVER);
    uint64_t rtt = 2 * w->lat_ns + w->io_ns;
    if (dead)       /* read, 0.5 + 1 + 2 s on the owner, the CAW's timeout, its resend */
        ck_assert_uint_eq(t - 1 * S, rtt + 3500 * MS + 2 * S + rtt);
    else            /* read, release, the CAW's timeout, its resend; a write may be flushed */
        ck_assert_uint_le(t - 1 * S, rtt + 2 * w->lat_ns + rtt + 2 * S + rtt);
    ck_assert_uint_eq(ho_world_count_sent(w, M_DS_CAW, "h1", "ds", 0, FOREVER), 2);
    ck_assert_uint_eq(ho_world_count_sent(w, M_DS_CAW_FAIL, "ds", "h1", 0, FOREVER), 1);
    ck_assert_uint_eq(ho_world_count_sent(w, M_DS_READ, "h1", "ds", 0, FOREVER), 1);
    uint64_t gen;
    ck_assert_uint_eq(ho_owner(w->c, 0, &gen), 1);
    ck_assert_uint_eq(gen, 2);
    ho_world_run_until(w, t + 1 * S);
    ck_assert_uint_eq(ho_holder_host(w->c, 0), 1);
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.failed + s.refused, 0);
    ck_assert_uint_eq(s.retries, dead ? 3 + 1 : 1);     /* three release timeouts, the CAW */
    ck_assert_uint_eq(s.meta_checked, 1);
    ck_assert_uint_eq(s.split_owner + s.double_writer + s.lost_acked, 0);
    ho_world_free(w);
}
END_TEST

/* The same lost reply, but before the resend another host moves the
 * record on (2 -> h2, generation 3).  The resend's failure names h2: not
 * our copy.  The requester reads again and asks h2, which holds nothing
 * and releases; it then writes itself in at 4.  It never opens at 2. */
START_TEST(test_handoff_resent_caw_after_record_moved_is_not_success)
{
    struct ho_cfg cfg = ho_world_cfg(3, 1, HO_HANDOFF);
    struct ho_disk_cfg dk = { .holder_host = 0, .holder = HO_HOLD_DAEMON,
                              .actors = { 0, HO_NONE, HO_NONE, HO_NONE } };
    cfg.disks = &dk;
    struct ho_world *w = world(&cfg);
    ho_world_run_until(w, 1 * S);
    w->drop_type = M_DS_CAW_OK;
    ck_assert_int_eq(ho_need(w->c, 0, 1, HO_POWER_ON), 0);
    ho_world_run_until(w, 1500 * MS);
    uint64_t gen;
    ck_assert_uint_eq(ho_owner(w->c, 0, &gen), 1);
    ck_assert_uint_eq(gen, 2);
    ck_assert_int_eq(w->c->needs[0].st, R_CAW);
    w->drop_type = 0;
    inject_caw(w, 2, 2);
    uint64_t t = ho_world_run_until_quiet(w, 60 * S);
    ck_assert_uint_ne(t, FOREVER);
    ck_assert_uint_eq(ho_owner(w->c, 0, &gen), 1);
    ck_assert_uint_eq(gen, 4);
    ck_assert_uint_eq(ho_world_count_sent(w, M_RELEASE, "h1", "h2", 0, FOREVER), 1);
    ck_assert_ptr_nonnull(ho_open_find(w->c, 0, 1));
    ck_assert_uint_eq(ho_open_find(w->c, 0, 1)->gen, 4);     /* opened with what it won */
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.meta_checked, 3);
    ck_assert_uint_eq(s.split_owner + s.double_writer + s.lost_acked, 0);
    ho_world_free(w);
}
END_TEST

/* A lock break (HO_FORCE) whose reply is lost is sent again: the record
 * already holds exactly what it writes (the breaker at generation 2), so
 * writing it again makes nobody a second owner of generation 2: no split
 * is counted (a real split needs two breakers: check_handoff_owner). */
START_TEST(test_handoff_resent_lock_break_is_not_a_split)
{
    struct ho_cfg cfg = ho_world_cfg(3, 1, HO_FORCE);
    struct ho_world *w = world(&cfg);
    ho_world_run_until(w, 1 * S);
    ho_host_crash(w->c, 0);
    w->drop_type = M_DS_CAW_OK;
    ck_assert_int_eq(ho_need(w->c, 0, 1, HO_RESTART), 0);
    ho_world_run_until(w, 2500 * MS);
    w->drop_type = 0;                   /* the resend's reply comes back */
    uint64_t t = ho_world_run_until_quiet(w, 60 * S);
    ck_assert_uint_ne(t, FOREVER);
    ck_assert_uint_eq(ho_world_count_sent(w, M_DS_SET, "h1", "ds", 0, FOREVER), 2);
    uint64_t gen;
    ck_assert_uint_eq(ho_owner(w->c, 0, &gen), 1);
    ck_assert_uint_eq(gen, 2);
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.split_owner, 0);
    ck_assert_uint_eq(s.meta_checked, 1);
    ho_world_free(w);
}
END_TEST

/* A release request about an older session than the one the daemon holds
 * (its requester read the record before this host took the disk) is
 * refused with the open's generation, and the newer session stays open. */
START_TEST(test_handoff_release_of_older_session_refused)
{
    struct ho_cfg cfg = ho_world_cfg_daemon(3, HO_HANDOFF);
    struct ho_world *w = world(&cfg);
    ho_world_run_until(w, 1 * S);
    /* h2's daemon holds the disk at generation 1; a request read at 0 */
    struct ho_msg rel = { .type = M_RELEASE, .epoch = 1, .host = 1, .disk = 0, .gen = 0,
                          .reason = HO_POWER_ON, .slot_kind = S_OPEN, .slot = 9999,
                          .id = 77 };
    struct port_transport_out out = { .tag = M_RELEASE, .blob = &rel, .blob_len = sizeof rel,
                                      .wire_bytes = 256 };
    ck_assert_int_eq(port_transport_send(&w->net, "h1", "h2", &out, 0), 0);
    ho_world_run_until(w, 2 * S);
    const struct ho_world_sent *r = NULL;
    for (size_t i = 0; i < w->log_len; i++)
        if (!strcmp(w->log[i].from, "h2") && !strcmp(w->log[i].to, "h1"))
            r = &w->log[i];
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->type, M_REFUSED);
    ck_assert_uint_eq(r->m.gen, 1);
    ck_assert_uint_eq(ho_holder_host(w->c, 0), 2);
    /* the same request read at 1 is served: the daemon releases */
    rel.gen = 1;
    rel.id = 78;
    ck_assert_int_eq(port_transport_send(&w->net, "h1", "h2", &out, 0), 0);
    ho_world_run_until(w, 3 * S);
    ck_assert_uint_eq(ho_holder_host(w->c, 0), HO_NONE);
    ho_world_free(w);
}
END_TEST

/* ---------------------------------------------------------- checker */

/* Lock changes and writes injected straight at the datastore.  Without
 * fencing every write is accepted and the checker must count exactly: a
 * write of a session the record no longer names opens a window that runs
 * from the record's change to that session's last write, closed by the
 * next change (or the end); an older session's write over a block a newer
 * one wrote is a lost acknowledged write.  With fencing the datastore
 * refuses those writes and the checker sees one writer at a time. */
START_TEST(test_handoff_checker_counts_injected_writes_exactly)
{
    const bool fences = _i == 1;
    struct ho_cfg cfg = ho_world_cfg(3, 1, fences ? HO_HANDOFF : HO_BROKEN_NOFENCE);
    cfg.disks = &closed_disk;
    struct ho_world *w = world(&cfg);
    static const struct { uint64_t t_ms; bool caw; uint32_t host; uint64_t gen, block; } seq[] = {
        { 500, true, 0, 1, 0 },    /* h0 takes it: generation 2 */
        { 1000, false, 0, 2, 0 },  /* session A, current */
        { 1500, true, 1, 2, 0 },   /* h1 takes it (3): A superseded at 1.5 s */
        { 2000, false, 1, 3, 0 },  /* session B */
        { 3000, false, 0, 2, 0 },  /* A again: a window from 1.5 s; over B's block: lost */
        { 3500, false, 0, 2, 1 },  /* the window runs on; block 1 unwritten: not lost */
        { 4000, false, 1, 3, 1 },  /* the current writer */
        { 4500, true, 2, 3, 0 },   /* h2 takes it (4): the window closes (3.5 - 1.5 = 2 s) */
        { 5000, false, 2, 4, 0 },  /* session C */
        { 6000, false, 0, 2, 1 },  /* A again: a second window from 4.5 s; over B's: lost */
    };
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        ho_world_run_until(w, seq[i].t_ms * MS);
        if (seq[i].caw)
            inject_caw(w, seq[i].host, seq[i].gen);
        else
            inject_write(w, seq[i].host, seq[i].gen, seq[i].block);
    }
    ho_world_run_until(w, 7 * S);
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.meta_checked, 3);
    if (!fences) {
        ck_assert_uint_eq(s.writes_checked, 7);
        ck_assert_uint_eq(s.sessions, 3);
        ck_assert_uint_eq(s.double_writer, 2);
        /* 2 s, then 4.5 s to 6 s (the end closes it at the last write) */
        ck_assert_uint_eq(s.double_writer_ns, 2000 * MS + 1500 * MS);
        ck_assert_uint_eq(s.lost_acked, 2);
        ck_assert_uint_eq(s.stale_refused, 0);
    } else {
        /* A's three late writes are fenced */
        ck_assert_uint_eq(s.stale_refused, 3);
        ck_assert_uint_eq(ho_world_count_sent(w, M_DS_FENCED, "ds", NULL, 0, FOREVER), 3);
        ck_assert_uint_eq(s.writes_checked, 4);
        ck_assert_uint_eq(s.sessions, 3);
        ck_assert_uint_eq(s.double_writer + s.double_writer_ns + s.lost_acked, 0);
    }
    ho_world_free(w);
}
END_TEST

/* End to end: h1 takes the disk from h0 and h0 writes again.  Under
 * HO_BROKEN_NOFENCE h0 was paused past the timeouts and wakes at 10 s;
 * under HO_FORCE it simply runs on beside the breaker.  One block, so
 * every write of h0's after one of h1's is a lost acknowledged write.
 * The checker's figures must equal what the send log says. */
START_TEST(test_handoff_checker_catches_retired_session_writing)
{
    const bool force = _i == 1;
    struct ho_cfg cfg = ho_world_cfg(3, 1, force ? HO_FORCE : HO_BROKEN_NOFENCE);
    cfg.blocks_per_disk = 1;
    cfg.params.relays = 0;
    struct ho_world *w = world(&cfg);
    ho_world_run_until(w, 1 * S);
    if (!force)
        ho_host_pause(w->c, 0);
    ck_assert_int_eq(ho_need(w->c, 0, 1, HO_RESTART), 0);
    ck_assert_uint_ne(ho_world_run_until_quiet(w, 30 * S), FOREVER);
    ho_world_run_until(w, 10 * S);
    if (!force)
        ho_host_wake(w->c, 0);
    const uint64_t t_end = 15 * S, lat = w->lat_ns;
    ho_world_run_until(w, t_end);

    /* replay the writes in arrival order (one latency: send order); h0 is
     * superseded when h1's compare-and-write (or break) reaches the record */
    uint64_t h1_first = 0, h0_last = 0, lost = 0, retired_writes = 0, taken = 0;
    char last = 0;
    for (size_t i = 0; i < w->log_len; i++) {
        const struct ho_world_sent *e = &w->log[i];
        if ((e->type == M_DS_CAW || e->type == M_DS_SET) && e->from[1] == '1' && !taken)
            taken = e->t_ns + lat;
        if (e->type != M_DS_WRITE || e->dropped || e->t_ns + lat > t_end)
            continue;
        if (e->from[1] == '1' && !h1_first)
            h1_first = e->t_ns + lat;
        if (e->from[1] == '0' && h1_first) {
            h0_last = e->t_ns + lat;
            retired_writes++;
            lost += last == '1';
        }
        last = e->from[1];
    }
    ck_assert_uint_gt(h1_first, 0);
    ck_assert_uint_gt(retired_writes, 0);
    ck_assert_uint_gt(lost, 0);
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.stale_refused, 0);
    ck_assert_uint_eq(s.sessions, 2);
    ck_assert_uint_eq(s.double_writer, 1);
    ck_assert_uint_gt(taken, 0);
    ck_assert_uint_eq(s.double_writer_ns, h0_last - taken);
    ck_assert_uint_gt(s.double_writer_ns, 0);
    ck_assert_uint_eq(s.lost_acked, lost);
    ck_assert_uint_eq(s.split_owner, 0);
    ho_world_free(w);
}
END_TEST

/* A -> B -> A by proper releases (two migrations): three sessions, each
 * beginning after the last one stopped; no violation, even on a datastore
 * that does not fence (the checker has no false positives). */
START_TEST(test_handoff_checker_silent_on_proper_a_b_a)
{
    const enum ho_method m = _i == 0 ? HO_HANDOFF : HO_BROKEN_NOFENCE;
    struct ho_cfg cfg = ho_world_cfg(3, 1, m);
    cfg.blocks_per_disk = 1;
    struct ho_world *w = world(&cfg);
    ho_world_run_until(w, 1 * S);
    ck_assert_int_eq(ho_need(w->c, 0, 1, HO_MIGRATE), 0);
    ck_assert_uint_ne(ho_world_run_until_quiet(w, 30 * S), FOREVER);
    ho_world_run_until(w, 3 * S);
    ck_assert_uint_eq(ho_holder_host(w->c, 0), 1);
    ck_assert_int_eq(ho_need(w->c, 0, 0, HO_MIGRATE), 0);
    ck_assert_uint_ne(ho_world_run_until_quiet(w, 30 * S), FOREVER);
    ho_world_run_until(w, 5 * S);
    uint64_t gen;
    ck_assert_uint_eq(ho_owner(w->c, 0, &gen), 0);
    ck_assert_uint_eq(gen, 3);
    ck_assert_uint_eq(ho_holder_host(w->c, 0), 0);
    ck_assert_ptr_null(ho_open_find(w->c, 0, 1));
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.opened, 2);
    ck_assert_uint_eq(s.takeovers + s.false_takeovers + s.stale_refused, 0);
    ck_assert_uint_eq(s.sessions, 3);
    ck_assert_uint_eq(s.meta_checked, 2);
    ck_assert_uint_gt(s.writes_checked, 30);
    ck_assert_uint_eq(s.double_writer + s.double_writer_ns + s.lost_acked + s.split_owner, 0);
    ho_world_free(w);
}
END_TEST

static Suite *handoff_ds_suite(void)
{
    Suite *s = suite_create("handoff_ds");
    TCase *t = tcase_create("caw");
    tcase_add_loop_test(t, test_handoff_caw_same_generation_one_wins, 0, 2);
    tcase_add_loop_test(t, test_handoff_resent_caw_first_copy_landed_is_success, 0, 2);
    tcase_add_test(t, test_handoff_resent_caw_after_record_moved_is_not_success);
    tcase_add_test(t, test_handoff_resent_lock_break_is_not_a_split);
    tcase_add_test(t, test_handoff_release_of_older_session_refused);
    suite_add_tcase(s, t);
    t = tcase_create("checker");
    tcase_add_loop_test(t, test_handoff_checker_counts_injected_writes_exactly, 0, 2);
    tcase_add_loop_test(t, test_handoff_checker_catches_retired_session_writing, 0, 2);
    tcase_add_loop_test(t, test_handoff_checker_silent_on_proper_a_b_a, 0, 2);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(handoff_ds_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
