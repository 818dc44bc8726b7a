/*
 * check_handoff_faults.c - the handoff protocol under a fault at each of
 * its steps, swept as SQLite's test_vfs sweeps its countdown: every
 * message lost once (the k-th sent after the need arose, k = 1 .. the
 * last one before the open), every message of one type lost, and the
 * requester's host crashed (or frozen) just before and just after each
 * instant a message leaves or arrives (found from a clean run's send
 * log), back 5 s later; and the owner's daemon frozen at each of them.
 *
 * Three scenarios, all HO_HANDOFF in the test world (ho_world.h):
 *   DEAD    h0 (a VM's host) crashed; h3 restarts the VM; h1, h2 relay.
 *   IDLE    a daemon on h2 holds the disk (backup proxy) and has no
 *           write in flight; h1 powers the VM on; h3 can relay.
 *   FLUSH   the same, but the release arrives while h2's write is in
 *           flight: h2 must wait for its reply before it confirms.
 * After every fault: no double writer, no lost acknowledged write, one
 * owner per generation; and the need is met (or, where the loss makes
 * that impossible, ends exactly as commented).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/ho_world.h"

#define US 1000ull
#define MS 1000000ull
#define S 1000000000ull
#define FOREVER UINT64_MAX
#define GIVE_UP (60 * S)

enum scn { DEAD, IDLE, FLUSH, NR_SCN };
static const char *const scn_name[NR_SCN] = { "dead", "idle", "flush" };

struct scn_info {
    uint32_t requester, owner;
    enum ho_reason why;
};
static const struct scn_info scn_info[NR_SCN] = {
    [DEAD] = { 3, 0, HO_RESTART },
    [IDLE] = { 1, 2, HO_POWER_ON },
    [FLUSH] = { 1, 2, HO_POWER_ON },
};

static struct ho_cfg scn_cfg(enum scn k)
{
    static const struct ho_disk_cfg daemon = { .holder_host = 2, .holder = HO_HOLD_DAEMON,
                                               .actors = { 2, 3, HO_NONE, HO_NONE } };
    struct ho_cfg cfg = ho_world_cfg(4, 1, HO_HANDOFF);
    if (k != DEAD)
        cfg.disks = &daemon;
    cfg.params.give_up_ns = GIVE_UP;
    return cfg;
}

/* When the need arises: DEAD at 1 s; IDLE 1 ms after a write's reply
 * reached h2 (its next write is >= 50 ms away); FLUSH so that the release
 * reaches h2 just after it sent a write: the read's round trip plus one
 * hop after the need, i.e. one datastore round trip before the write. */
static uint64_t scn_t_need(enum scn k)
{
    if (k == DEAD)
        return 1 * S;
    struct ho_cfg cfg = scn_cfg(k);
    struct ho_world *w = ho_world_new(&cfg, 1);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(ho_start(w->c), 0);
    ho_world_run_until(w, 1 * S);
    size_t seen = w->log_len;
    while (ho_world_count_sent(w, M_DS_WRITE, "h2", "ds", 1 * S, FOREVER) == 0)
        ck_assert(fake_timer_run_next(w->ft));
    uint64_t t_w = 0, rtt = 2 * w->lat_ns + w->io_ns;
    for (size_t i = seen; i < w->log_len; i++)
        if (w->log[i].type == M_DS_WRITE)
            t_w = w->log[i].t_ns;
    ho_world_free(w);
    return k == FLUSH ? t_w - rtt : t_w + rtt + 1 * MS;
}

/* The scenario's world, run up to t_need (the need not yet raised). */
static struct ho_world *scn_world(enum scn k, uint64_t t_need)
{
    struct ho_cfg cfg = scn_cfg(k);
    struct ho_world *w = ho_world_new(&cfg, 1);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(ho_start(w->c), 0);
    ho_world_run_until(w, k == DEAD ? 1 * S : t_need);
    if (k == DEAD)
        ho_host_crash(w->c, 0);
    return w;
}

static void raise_need(struct ho_world *w, enum scn k)
{
    const struct scn_info *x = &scn_info[k];
    ck_assert_int_eq(ho_need(w->c, 0, x->requester, x->why), 0);
}

struct clean {
    uint64_t t_need, t_open, t_caw;      /* t_caw: the compare-and-write left */
    uint64_t sent_before;                /* w->sent when the need arose */
    uint64_t nr_msgs;                    /* messages sent from the need to the open */
    uint64_t instants[256];              /* every send and arrival in [need, open] */
    size_t nr_instants;
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void add_instant(struct clean *cl, uint64_t t)
{
    for (size_t i = 0; i < cl->nr_instants; i++)
        if (cl->instants[i] == t)
            return;
    ck_assert_uint_lt(cl->nr_instants, sizeof cl->instants / sizeof cl->instants[0]);
    cl->instants[cl->nr_instants++] = t;
}

/* The scenario without a fault, and what the sweeps need from it. */
static struct clean clean_run(enum scn k)
{
    struct clean cl = { .t_need = scn_t_need(k) };
    struct ho_world *w = scn_world(k, cl.t_need);
    cl.sent_before = w->sent;
    size_t first = w->log_len;
    raise_need(w, k);
    cl.t_open = ho_world_run_until_quiet(w, GIVE_UP);
    ck_assert_uint_ne(cl.t_open, FOREVER);
    cl.nr_msgs = w->sent - cl.sent_before;
    for (size_t i = first; i < w->log_len; i++) {
        const struct ho_world_sent *e = &w->log[i];
        if (e->type == M_DS_CAW)
            cl.t_caw = e->t_ns;
        add_instant(&cl, e->t_ns);
        if (!e->dropped && e->t_ns + w->lat_ns <= cl.t_open)
            add_instant(&cl, e->t_ns + w->lat_ns);
    }
    qsort(cl.instants, cl.nr_instants, sizeof cl.instants[0], cmp_u64);
    ck_assert_uint_gt(cl.t_caw, 0);
    /* FLUSH really flushes: h2 sent its last write after the need arose
     * and confirmed the release only once that write was answered */
    if (k == FLUSH)
        ck_assert_uint_eq(ho_world_count_sent(w, M_DS_WRITE, "h2", "ds", cl.t_need, FOREVER), 1);
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.opened, 1);
    ck_assert_uint_eq(s.takeovers, k == DEAD ? 1 : 0);
    ho_world_free(w);
    return cl;
}

static void assert_safe(const struct ho_stats *s)
{
    ck_assert_uint_eq(s->double_writer, 0);
    ck_assert_uint_eq(s->double_writer_ns, 0);
    ck_assert_uint_eq(s->lost_acked, 0);
    ck_assert_uint_eq(s->split_owner, 0);
}

/* The run after the fault: met, by the requester, at generation `gen`,
 * not later than `late_ns` after the clean run's open. */
static void assert_met(struct ho_world *w, enum scn k, uint64_t gen_want)
{
    uint64_t gen;
    ck_assert_uint_eq(ho_owner(w->c, 0, &gen), scn_info[k].requester);
    ck_assert_uint_eq(gen, gen_want);
}

/* -------------------------------------------------- one message lost */

/* Lose the k-th message sent after the need arose, for every k up to the
 * last one before the clean run's open and a few past it (the new
 * holder's first writes).  Each loss costs at most one
 * timeout (a datastore operation's 2 s, or a release's) and is retried:
 * the need is met by the requester at generation 2, with no takeover of
 * a live daemon (it stays reachable for the retries), and no violation. */
START_TEST(test_handoff_each_message_lost_once)
{
    enum scn k = (enum scn)_i;
    struct clean cl = clean_run(k);
    ck_assert_uint_ge(cl.nr_msgs, 6);
    for (uint64_t nth = 1; nth <= cl.nr_msgs + 4; nth++) {
        struct ho_world *w = scn_world(k, cl.t_need);
        w->drop_nth = cl.sent_before + nth;
        raise_need(w, k);
        uint64_t t = ho_world_run_until_quiet(w, GIVE_UP);
        ck_assert_msg(t != FOREVER, "%s: message %lu lost: need not met", scn_name[k],
                      (unsigned long)nth);
        ck_assert_msg(t <= cl.t_open + 2 * S + 1 * MS, "%s: message %lu lost: open %lu ns late",
                      scn_name[k], (unsigned long)nth, (unsigned long)(t - cl.t_open));
        ho_world_run_until(w, t + 5 * S);
        ck_assert_uint_eq(w->dropped, 1);
        assert_met(w, k, 2);
        ck_assert_msg(ho_holder_host(w->c, 0) == scn_info[k].requester,
                      "%s: message %lu (type %d) lost: disk still held by h%u", scn_name[k],
                      (unsigned long)nth, w->log[cl.sent_before + nth - 1].type,
                      ho_holder_host(w->c, 0));
        struct ho_stats s = ho_world_finish(w);
        ck_assert_uint_eq(s.opened, 1);
        ck_assert_uint_eq(s.failed + s.refused + s.unresolved, 0);
        ck_assert_msg(s.takeovers == (k == DEAD ? 1u : 0u),
                      "%s: message %lu (type %d) lost: %lu takeovers", scn_name[k],
                      (unsigned long)nth, w->log[cl.sent_before + nth - 1].type,
                      (unsigned long)s.takeovers);
        ck_assert_uint_eq(s.false_takeovers, 0);
        assert_safe(&s);
        ho_world_free(w);
    }
}
END_TEST

/* ------------------------------------------- every message of a type */

struct outcome {
    bool opened;                 /* else failed at give-up */
    uint32_t takeovers, false_takeovers;
    int stale_refused;           /* -1: not checked */
};

/* What losing every message of type t (from the need on) does. */
static struct outcome type_outcome(enum scn k, int t)
{
    struct outcome met = { true, k == DEAD ? 1 : 0, 0, 0 };
    switch (t) {
    case M_DS_READ: case M_DS_META: case M_DS_CAW:
        /* the lock record cannot be read or written: the requester
         * retries every ds_timeout until give_up, then fails */
        return (struct outcome){ false, 0, 0, 0 };
    case M_RELEASE:
        /* the owner never hears the request, not even through a relay,
         * so it looks dead: a live daemon is taken over while it still
         * holds the disk, and its next write is fenced */
        return k == DEAD ? met : (struct outcome){ true, 1, 1, 1 };
    case M_RELEASED:
        /* the daemon closes but its confirmations are lost: taken over
         * after the timeouts, the disk already closed (no false one) */
        return k == DEAD ? met : (struct outcome){ true, 1, 0, 0 };
    case M_DS_WRITE:
        /* FLUSH: the write being flushed never lands (nor do its resends),
         * so the daemon never confirms and is taken over while closing;
         * its resends never reach the datastore either */
        return k == FLUSH ? (struct outcome){ true, 1, 0, 0 } : met;
    case M_DS_ACK:
        /* FLUSH: the flushed write's reply never comes; its resends land
         * (same session) until the takeover, then one is fenced, which
         * closes the daemon's open */
        return k == FLUSH ? (struct outcome){ true, 1, 0, 1 } : met;
    default:
        /* CAW_OK: the resent compare-and-write finds the record already
         * ours (success); RELAY, UNREACHABLE: the relays cost the longer
         * timeouts; the rest are not sent in these scenarios */
        return met;
    }
}

START_TEST(test_handoff_every_message_of_a_type_lost)
{
    enum scn k = (enum scn)(_i / (M_NR - 1));
    int type = 1 + _i % (M_NR - 1);             /* every type, from M_DS_READ */
    uint64_t t_need = scn_t_need(k);
    struct ho_world *w = scn_world(k, t_need);
    w->drop_type = type;
    raise_need(w, k);
    uint64_t t = ho_world_run_until_quiet(w, 2 * GIVE_UP);
    ck_assert_uint_ne(t, FOREVER);
    ho_world_run_until(w, t + 10 * S);
    struct outcome o = type_outcome(k, type);
    uint64_t gen;
    uint32_t owner = ho_owner(w->c, 0, &gen);
    struct ho_stats s = ho_world_finish(w);
    ck_assert_msg(s.opened == (o.opened ? 1u : 0u) && s.failed == (o.opened ? 0u : 1u),
                  "%s, type %d lost: opened %lu failed %lu", scn_name[k], type,
                  (unsigned long)s.opened, (unsigned long)s.failed);
    if (o.opened) {
        ck_assert_uint_eq(owner, scn_info[k].requester);
        ck_assert_uint_eq(gen, 2);
        ck_assert_uint_le(t - t_need, 30 * S);
    } else {
        ck_assert_uint_eq(owner, scn_info[k].owner);
        ck_assert_uint_eq(gen, 1);
        ck_assert_uint_ge(t - t_need, GIVE_UP);
    }
    ck_assert_msg(s.takeovers == o.takeovers && s.false_takeovers == o.false_takeovers,
                  "%s, type %d lost: takeovers %lu false %lu", scn_name[k], type,
                  (unsigned long)s.takeovers, (unsigned long)s.false_takeovers);
    if (o.stale_refused >= 0)
        ck_assert_msg(s.stale_refused == (uint64_t)o.stale_refused,
                      "%s, type %d lost: stale_refused %lu", scn_name[k], type,
                      (unsigned long)s.stale_refused);
    ck_assert_uint_eq(s.refused + s.unresolved, 0);
    assert_safe(&s);
    ho_world_free(w);
}
END_TEST

/* --------------------------------------------------- requester crash */

/* Crash the requester just before and just after each instant where a
 * message leaves or arrives, restart it 5 s later.  Without HA the need
 * waits for the host and starts over from the read.  Once its
 * compare-and-write has left, it lands even though its sender died: the
 * record already names the requester and the restarted need writes
 * itself in once more (generation 3).  A crash after the open leaves the
 * disk closed (no HA to restart the VM).
 * The daemon, if any, is never taken over; the record never splits. */
START_TEST(test_handoff_requester_crash_at_each_step)
{
    enum scn k = (enum scn)_i;
    const uint32_t rq = scn_info[k].requester;
    struct clean cl = clean_run(k);
    ck_assert_uint_ge(cl.nr_instants, 6);
    for (size_t i = 0; i < 2 * cl.nr_instants; i++) {
        uint64_t t_crash = cl.instants[i / 2] - (i % 2 == 0 ? 1 : 0);
        if (t_crash < cl.t_need)
            continue;
        struct ho_world *w = scn_world(k, cl.t_need);
        raise_need(w, k);
        ho_world_run_until(w, t_crash);
        ho_host_crash(w->c, rq);
        ho_world_run_until(w, t_crash + 5 * S);
        ho_host_restart(w->c, rq);
        uint64_t t = ho_world_run_until_quiet(w, t_crash + GIVE_UP);
        ck_assert_msg(t != FOREVER, "%s: crash at %lu: need not met", scn_name[k],
                      (unsigned long)t_crash);
        ho_world_run_until(w, t + 5 * S);
        /* a compare-and-write already sent lands even though its sender died */
        bool landed = t_crash >= cl.t_caw, after_open = t_crash >= cl.t_open;
        assert_met(w, k, landed && !after_open ? 3 : 2);
        ck_assert_uint_eq(ho_holder_host(w->c, 0), after_open ? HO_NONE : rq);
        if (!after_open)        /* met within one clean run of the restart */
            ck_assert_uint_le(t, t_crash + 5 * S + (cl.t_open - cl.t_need) + 1 * MS);
        struct ho_stats s = ho_world_finish(w);
        ck_assert_uint_eq(s.needs, 1);
        ck_assert_uint_eq(s.opened, 1);
        ck_assert_uint_eq(s.failed + s.refused + s.unresolved, 0);
        /* the takeover from dead h0 is counted only when the requester
         * opens from a record that still names h0 */
        ck_assert_uint_eq(s.takeovers, k == DEAD && !(landed && !after_open) ? 1 : 0);
        ck_assert_uint_eq(s.false_takeovers, 0);
        ck_assert_uint_eq(s.stale_refused, 0);
        assert_safe(&s);
        ho_world_free(w);
    }
}
END_TEST

/* The same instants, but the requester's host freezes for 5 s instead
 * (a stalled hypervisor): its timers and arrivals wait and run, in order,
 * when it wakes.  Nothing is lost, so the need goes on where it stopped:
 * one compare-and-write, generation 2, within 5 s of the clean run. */
START_TEST(test_handoff_requester_pause_at_each_step)
{
    enum scn k = (enum scn)_i;
    const uint32_t rq = scn_info[k].requester;
    struct clean cl = clean_run(k);
    for (size_t i = 0; i < 2 * cl.nr_instants; i++) {
        uint64_t t_pause = cl.instants[i / 2] - (i % 2 == 0 ? 1 : 0);
        if (t_pause < cl.t_need)
            continue;
        struct ho_world *w = scn_world(k, cl.t_need);
        raise_need(w, k);
        ho_world_run_until(w, t_pause);
        ho_host_pause(w->c, rq);
        ho_world_run_until(w, t_pause + 5 * S);
        ho_host_wake(w->c, rq);
        uint64_t t = ho_world_run_until_quiet(w, t_pause + GIVE_UP);
        ck_assert_msg(t != FOREVER, "%s: pause at %lu: need not met", scn_name[k],
                      (unsigned long)t_pause);
        ck_assert_uint_le(t, cl.t_open + 5 * S);
        ho_world_run_until(w, t + 5 * S);
        assert_met(w, k, 2);
        ck_assert_uint_eq(ho_holder_host(w->c, 0), rq);
        ck_assert_uint_eq(ho_world_count_sent(w, M_DS_CAW, NULL, NULL, 0, FOREVER), 1);
        struct ho_stats s = ho_world_finish(w);
        ck_assert_uint_eq(s.opened, 1);
        ck_assert_uint_eq(s.failed + s.refused + s.unresolved, 0);
        ck_assert_uint_eq(s.takeovers, k == DEAD ? 1 : 0);
        ck_assert_uint_eq(s.false_takeovers + s.stale_refused, 0);
        assert_safe(&s);
        ho_world_free(w);
    }
}
END_TEST

/* A need raised on a host that is frozen starts when it wakes (it used to
 * wait for ever: only a restart started a waiting need). */
START_TEST(test_handoff_need_raised_while_requester_paused_starts_at_wake)
{
    enum scn k = (enum scn)_i;
    const uint32_t rq = scn_info[k].requester;
    struct clean cl = clean_run(k);
    struct ho_world *w = scn_world(k, cl.t_need);
    ho_host_pause(w->c, rq);
    raise_need(w, k);
    ho_world_run_until(w, cl.t_need + 5 * S);
    ck_assert_uint_eq(ho_world_count_sent(w, 0, NULL, "ds", cl.t_need, FOREVER),
                      ho_world_count_sent(w, M_DS_WRITE, NULL, "ds", cl.t_need, FOREVER));
    ho_host_wake(w->c, rq);
    uint64_t t = ho_world_run_until_quiet(w, cl.t_need + GIVE_UP);
    ck_assert_uint_ne(t, FOREVER);
    if (k == DEAD)      /* nothing else moves: the clean run, 5 s later */
        ck_assert_uint_eq(t, cl.t_open + 5 * S);
    else
        ck_assert_uint_le(t, cl.t_open + 5 * S + 1 * MS);
    assert_met(w, k, 2);
    struct ho_stats s = ho_world_finish(w);
    ck_assert_uint_eq(s.opened, 1);
    assert_safe(&s);
    ho_world_free(w);
}
END_TEST

/* The owner's side: the daemon h2 freezes at each instant for 1 s (less
 * than the 1.5 s the requester waits on it), 5 s or 30 s (past every
 * timeout: the requester takes over, a false takeover, and h2 answers its
 * queued requests on waking, long after).  Whenever it froze: the need
 * is met at generation 2, h2 ends with nothing open, one writer. */
START_TEST(test_handoff_owner_pause_at_each_step)
{
    enum scn k = (enum scn)(IDLE + _i);
    const uint32_t owner = scn_info[k].owner;
    static const uint64_t dur_ns[] = { 1 * S, 5 * S, 30 * S };
    struct clean cl = clean_run(k);
    for (size_t d = 0; d < sizeof dur_ns / sizeof dur_ns[0]; d++) {
        for (size_t i = 0; i < 2 * cl.nr_instants; i++) {
            uint64_t t_pause = cl.instants[i / 2] - (i % 2 == 0 ? 1 : 0);
            if (t_pause < cl.t_need)
                continue;
            struct ho_world *w = scn_world(k, cl.t_need);
            raise_need(w, k);
            ho_world_run_until(w, t_pause);
            ho_host_pause(w->c, owner);
            ho_world_run_until(w, t_pause + dur_ns[d]);
            ho_host_wake(w->c, owner);
            uint64_t t = ho_world_run_until_quiet(w, t_pause + GIVE_UP);
            ck_assert_uint_ne(t, FOREVER);
            ho_world_run_until(w, t + 5 * S);
            assert_met(w, k, 2);
            ck_assert_uint_eq(ho_holder_host(w->c, 0), scn_info[k].requester);
            ck_assert_ptr_null(ho_open_find(w->c, 0, owner));
            struct ho_stats s = ho_world_finish(w);
            ck_assert_uint_eq(s.opened, 1);
            ck_assert_uint_eq(s.failed + s.refused + s.unresolved, 0);
            if (dur_ns[d] == 1 * S)
                ck_assert_uint_eq(s.takeovers, 0);
            /* a takeover is false unless h2 froze mid-flush (already closing) */
            ck_assert_uint_le(s.takeovers, 1);
            ck_assert_uint_le(s.false_takeovers, s.takeovers);
            assert_safe(&s);
            ho_world_free(w);
        }
    }
}
END_TEST

static Suite *handoff_faults_suite(void)
{
    Suite *s = suite_create("handoff_faults");
    TCase *t = tcase_create("loss");
    tcase_set_timeout(t, 300);
    tcase_add_loop_test(t, test_handoff_each_message_lost_once, 0, NR_SCN);
    tcase_add_loop_test(t, test_handoff_every_message_of_a_type_lost, 0,
                        NR_SCN * (M_NR - 1));
    suite_add_tcase(s, t);
    t = tcase_create("crash");
    tcase_set_timeout(t, 300);
    tcase_add_loop_test(t, test_handoff_requester_crash_at_each_step, 0, NR_SCN);
    tcase_add_loop_test(t, test_handoff_requester_pause_at_each_step, 0, NR_SCN);
    tcase_add_loop_test(t, test_handoff_need_raised_while_requester_paused_starts_at_wake, 0,
                        NR_SCN);
    tcase_add_loop_test(t, test_handoff_owner_pause_at_each_step, 0, 2);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(handoff_faults_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
