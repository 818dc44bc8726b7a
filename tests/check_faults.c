/*
 * check_faults.c - suite "faults": fault injection as a core service
 * (sim/sim_faults.h) without SimGrid: message decisions (a partition's
 * window edges and both directions, seeded loss, delays that add up),
 * host faults delivered through the fake timer at their begin and end
 * relative to the origin, cancelling on free, random schedules (same
 * seed, same schedule; within the space's bounds) and their JSON text.
 * The text read back by the config walk is check_config_faults'.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakes/fake_clock.h"
#include "fakes/fake_timer.h"
#include "sim_faults.h"

#define MS 1000000ull
#define S 1000000000ull

static struct sim_exp_fault partition(const char *a, const char *b, uint64_t from,
                                      uint64_t until)
{
    struct sim_exp_fault f = { .kind = SIM_FAULT_PARTITION, .from_ns = from, .until_ns = until };
    snprintf(f.a, sizeof f.a, "%s", a);
    snprintf(f.b, sizeof f.b, "%s", b);
    return f;
}

static struct sim_exp_fault msg_fault(enum sim_fault_kind kind, const char *a, const char *b,
                                      double p, uint64_t delay)
{
    struct sim_exp_fault f = { .kind = kind, .until_ns = UINT64_MAX, .p = p, .delay_ns = delay };
    snprintf(f.a, sizeof f.a, "%s", a);
    snprintf(f.b, sizeof f.b, "%s", b);
    return f;
}

static struct sim_faults *service(const struct sim_exp_fault *x, int n, uint64_t t0,
                                  uint64_t seed)
{
    struct vm_diag d = { 0 };
    struct sim_faults *f = sim_faults_new(x, n, t0, seed, "h0", &d);
    ck_assert_msg(f != NULL, "%s", d.msg);
    return f;
}

/* ------------------------------------------------------------ messages */

START_TEST(test_faults_partition_loses_both_ways_inside_its_window_only)
{
    struct sim_exp_fault x = partition("h0", "h1", 1 * S, 3 * S);
    struct sim_faults *f = service(&x, 1, 10 * S, 1);
    uint64_t delay = 99;
    ck_assert(!sim_faults_msg(f, "h0", "h1", 11 * S - 1, &delay));    /* before from */
    ck_assert_uint_eq(delay, 0);
    ck_assert(sim_faults_msg(f, "h0", "h1", 11 * S, &delay));         /* from: in */
    ck_assert(sim_faults_msg(f, "h1", "h0", 11 * S, &delay));         /* the other way */
    ck_assert(sim_faults_msg(f, "h1", "h0", 13 * S - 1, NULL));
    ck_assert(!sim_faults_msg(f, "h0", "h1", 13 * S, NULL));          /* until: out */
    ck_assert(!sim_faults_msg(f, "h0", "h2", 12 * S, NULL));          /* another pair */
    ck_assert(!sim_faults_msg(f, "h2", "h1", 12 * S, NULL));
    ck_assert(!sim_faults_msg(f, "h0", "h1", 1 * S, NULL));           /* before t0 */
    sim_faults_free(f);
}
END_TEST

START_TEST(test_faults_partition_to_the_end_and_from_origin)
{
    struct sim_exp_fault x = partition("h0", "store", 0, UINT64_MAX);
    struct sim_faults *f = service(&x, 1, 5 * S, 1);
    ck_assert(sim_faults_msg(f, "store", "h0", 5 * S, NULL));
    ck_assert(sim_faults_msg(f, "h0", "store", UINT64_MAX - 1, NULL));
    ck_assert(!sim_faults_msg(f, "h0", "h0", 6 * S, NULL));
    sim_faults_free(f);
}
END_TEST

/* Which of 400 messages h0 -> h1 a service loses, as bits. */
static void losses(uint64_t seed, const struct sim_exp_fault *x, int n, unsigned char *lost)
{
    struct sim_faults *f = service(x, n, 0, seed);
    for (int i = 0; i < 400; i++)
        lost[i] = sim_faults_msg(f, "h0", "h1", (uint64_t)i * MS, NULL);
    sim_faults_free(f);
}

START_TEST(test_faults_loss_is_the_seeds_and_about_p)
{
    struct sim_exp_fault x = msg_fault(SIM_FAULT_MSG_LOSS, "", "", 0.25, 0);
    unsigned char a[400], b[400], c[400];
    losses(7, &x, 1, a);
    losses(7, &x, 1, b);
    losses(8, &x, 1, c);
    ck_assert(memcmp(a, b, sizeof a) == 0);            /* same seed, same losses */
    ck_assert(memcmp(a, c, sizeof a) != 0);
    int n = 0;
    for (int i = 0; i < 400; i++)
        n += a[i];
    ck_assert_int_ge(n, 60);                            /* 100 expected */
    ck_assert_int_le(n, 140);
    /* another loss fault draws from its own stream: the same losses */
    struct sim_exp_fault two[2] = { x, msg_fault(SIM_FAULT_MSG_LOSS, "h0", "", 0.5, 0) };
    losses(7, two, 2, c);
    for (int i = 0; i < 400; i++)
        ck_assert(!a[i] || c[i]);                       /* lost by the first: still lost */
    x.p = 0;
    losses(7, &x, 1, c);
    for (int i = 0; i < 400; i++)
        ck_assert(!c[i]);
    x.p = 1;
    losses(7, &x, 1, c);
    for (int i = 0; i < 400; i++)
        ck_assert(c[i]);
}
END_TEST

START_TEST(test_faults_loss_with_one_end_matches_its_messages_only)
{
    struct sim_exp_fault x = msg_fault(SIM_FAULT_MSG_LOSS, "h1", "", 1, 0);
    struct sim_faults *f = service(&x, 1, 0, 1);
    ck_assert(sim_faults_msg(f, "h0", "h1", 0, NULL));
    ck_assert(sim_faults_msg(f, "h1", "h2", 0, NULL));
    ck_assert(!sim_faults_msg(f, "h0", "h2", 0, NULL));
    sim_faults_free(f);
}
END_TEST

START_TEST(test_faults_delays_add_up_and_a_lost_message_has_none)
{
    struct sim_exp_fault x[3] = {
        msg_fault(SIM_FAULT_MSG_DELAY, "", "", 0, 5 * MS),
        msg_fault(SIM_FAULT_MSG_DELAY, "h0", "h1", 0, 7 * MS),
        partition("h0", "h2", 2 * S, 3 * S),
    };
    x[1].from_ns = 1 * S;
    x[1].until_ns = 2 * S;
    struct sim_faults *f = service(x, 3, 0, 1);
    uint64_t delay;
    ck_assert(!sim_faults_msg(f, "h1", "h0", 0, &delay));
    ck_assert_uint_eq(delay, 5 * MS);
    ck_assert(!sim_faults_msg(f, "h1", "h0", 1 * S, &delay));
    ck_assert_uint_eq(delay, 12 * MS);
    ck_assert(!sim_faults_msg(f, "h2", "h0", 1 * S, &delay));
    ck_assert_uint_eq(delay, 5 * MS);
    ck_assert(sim_faults_msg(f, "h2", "h0", 2 * S, &delay));
    ck_assert_uint_eq(delay, 0);
    /* the transport's hook is the same decision */
    ck_assert(!sim_faults_transport_filter(f, "h0", "h1", 1 * S, &delay));
    ck_assert_uint_eq(delay, 12 * MS);
    sim_faults_free(f);
}
END_TEST

START_TEST(test_faults_new_refuses_too_many)
{
    struct vm_diag d = { 0 };
    ck_assert_ptr_null(sim_faults_new(NULL, SIM_MAX_FAULTS + 1, 0, 1, NULL, &d));
    ck_assert_int_eq(d.code, VM_EINVAL);
    struct sim_faults *f = sim_faults_new(NULL, 0, 0, 1, NULL, &d);
    ck_assert_ptr_nonnull(f);
    ck_assert(!sim_faults_msg(f, "a", "b", 0, NULL));
    sim_faults_free(f);
    sim_faults_free(NULL);
}
END_TEST

/* ------------------------------------------------------------ host faults */

#define MAX_EV 16
static struct sim_fault_event evs[MAX_EV];
static char ev_host[MAX_EV][SIM_NAME_MAX];
static uint64_t ev_clock[MAX_EV];
static int nr_ev;
static struct fake_clock clk;
static struct sim_faults *freed_by_handler;

static void record(void *arg, const struct sim_fault_event *ev)
{
    ck_assert_ptr_eq(arg, &clk);
    ck_assert_int_lt(nr_ev, MAX_EV);
    evs[nr_ev] = *ev;
    snprintf(ev_host[nr_ev], SIM_NAME_MAX, "%s", ev->host);
    ev_clock[nr_ev] = clk.now_ns;
    nr_ev++;
    if (freed_by_handler) {
        sim_faults_free(freed_by_handler);
        freed_by_handler = NULL;
    }
}

static struct sim_exp_fault host_fault(enum sim_fault_kind kind, const char *host, uint64_t at,
                                       uint64_t len)
{
    struct sim_exp_fault f = { .kind = kind, .at_ns = at, .until_ns = UINT64_MAX };
    snprintf(f.host, sizeof f.host, "%s", host);
    if (kind == SIM_FAULT_CLOCK_PAUSE)
        f.duration_ns = len;
    else
        f.restart_after_ns = len;
    return f;
}

START_TEST(test_faults_arm_calls_begin_and_end_relative_to_t0)
{
    struct sim_exp_fault x[4] = {
        host_fault(SIM_FAULT_HOST_CRASH, "", 2 * S, 5 * S),        /* the default host */
        host_fault(SIM_FAULT_CLOCK_PAUSE, "h1", 1 * S, 500 * MS),
        partition("h0", "h1", 0, UINT64_MAX),                       /* no timers */
        host_fault(SIM_FAULT_DAEMON_CRASH, "h2", 0, 1 * S),
    };
    x[3].drawn = true;                                              /* in [3s, 4s) */
    x[3].from_ns = 3 * S;
    x[3].until_ns = 4 * S;
    fake_clock_init(&clk, 0);
    struct fake_timer *ft = fake_timer_new(&clk);
    struct sim_faults *f = service(x, 4, 100 * S, 42);
    nr_ev = 0;
    ck_assert_int_eq(sim_faults_arm(f, fake_timer_port(ft), record, &clk), 0);
    ck_assert_int_eq(sim_faults_arm(f, fake_timer_port(ft), record, &clk), VM_EBUSY);
    ck_assert_uint_eq(fake_timer_pending(ft), 6);
    ck_assert_int_eq(sim_faults_pending(f), 3);
    while (fake_timer_run_next(ft))
        ;
    ck_assert_int_eq(nr_ev, 6);
    uint64_t daemon_at = 100 * S + sim_exp_fault_at(&x[3], 42, 3);
    ck_assert(daemon_at >= 103 * S && daemon_at < 104 * S);
    struct { enum sim_fault_kind kind; const char *host; bool begin; uint64_t at; int index; }
    want[6] = {
        { SIM_FAULT_CLOCK_PAUSE, "h1", true, 101 * S, 1 },
        { SIM_FAULT_CLOCK_PAUSE, "h1", false, 101 * S + 500 * MS, 1 },
        { SIM_FAULT_HOST_CRASH, "h0", true, 102 * S, 0 },
        { SIM_FAULT_DAEMON_CRASH, "h2", true, daemon_at, 3 },
        { SIM_FAULT_DAEMON_CRASH, "h2", false, daemon_at + 1 * S, 3 },
        { SIM_FAULT_HOST_CRASH, "h0", false, 107 * S, 0 },
    };
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(evs[i].kind, want[i].kind);
        ck_assert_str_eq(ev_host[i], want[i].host);
        ck_assert_int_eq(evs[i].begin, want[i].begin);
        ck_assert_int_eq(evs[i].index, want[i].index);
        ck_assert_uint_eq(evs[i].now_ns, want[i].at);
        ck_assert_uint_eq(ev_clock[i], want[i].at);            /* called at that instant */
    }
    ck_assert_uint_eq(evs[2].begin_ns, 102 * S);
    ck_assert_uint_eq(evs[2].end_ns, 107 * S);
    ck_assert_int_eq(sim_faults_pending(f), 0);
    sim_faults_free(f);
    fake_timer_free(ft);
}
END_TEST

START_TEST(test_faults_free_cancels_what_has_not_run)
{
    struct sim_exp_fault x[2] = {
        host_fault(SIM_FAULT_HOST_CRASH, "h0", 1 * S, 1 * S),
        host_fault(SIM_FAULT_CLOCK_PAUSE, "h1", 5 * S, 1 * S),
    };
    fake_clock_init(&clk, 0);
    struct fake_timer *ft = fake_timer_new(&clk);
    struct sim_faults *f = service(x, 2, 0, 1);
    nr_ev = 0;
    ck_assert_int_eq(sim_faults_arm(f, fake_timer_port(ft), record, &clk), 0);
    ck_assert_uint_eq(fake_timer_run_until(ft, 1 * S), 1);     /* the crash */
    ck_assert_int_eq(sim_faults_pending(f), 2);
    sim_faults_free(f);
    ck_assert_uint_eq(fake_timer_pending(ft), 0);
    ck_assert(!fake_timer_run_next(ft));
    ck_assert_int_eq(nr_ev, 1);
    fake_timer_free(ft);
}
END_TEST

START_TEST(test_faults_handler_may_free_the_service)
{
    struct sim_exp_fault x[2] = {
        host_fault(SIM_FAULT_HOST_CRASH, "h0", 1 * S, 1 * S),
        host_fault(SIM_FAULT_DAEMON_CRASH, "h1", 1 * S, 1 * S),
    };
    fake_clock_init(&clk, 0);
    struct fake_timer *ft = fake_timer_new(&clk);
    struct sim_faults *f = service(x, 2, 0, 1);
    nr_ev = 0;
    ck_assert_int_eq(sim_faults_arm(f, fake_timer_port(ft), record, &clk), 0);
    freed_by_handler = f;                                        /* at the first event */
    while (fake_timer_run_next(ft))
        ;
    ck_assert_int_eq(nr_ev, 1);
    fake_timer_free(ft);
}
END_TEST

/* ------------------------------------------------------------ schedules */

static const char *const hosts[] = { "h0", "h1", "h2" };

static struct sim_fault_space space(void)
{
    return (struct sim_fault_space){
        .kinds = SIM_FAULT_HOST_KINDS | SIM_FAULT_MSG_KINDS,
        .hosts = hosts, .nr_hosts = 3, .storage_host = "store",
        .horizon_ns = 60 * S, .min_faults = 2, .max_faults = 8,
        .down_min_ns = 1 * S, .down_max_ns = 10 * S,
        .pause_min_ns = 100 * MS, .pause_max_ns = 2 * S,
        .cut_min_ns = 1 * S, .cut_max_ns = 20 * S,
        .p_min = 0.1, .p_max = 0.5,
        .delay_min_ns = 1 * MS, .delay_max_ns = 50 * MS,
    };
}

static bool is_host(const char *h)
{
    return strcmp(h, "h0") == 0 || strcmp(h, "h1") == 0 || strcmp(h, "h2") == 0;
}

START_TEST(test_faults_draw_same_seed_same_schedule)
{
    struct sim_fault_space sp = space();
    struct sim_exp_fault a[8], b[8];
    char ta[8192], tb[8192];
    int differ = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        int na = sim_faults_draw(seed, &sp, a, 8), nb = sim_faults_draw(seed, &sp, b, 8);
        ck_assert_int_eq(na, nb);
        ck_assert_int_lt(sim_faults_format(a, na, ta, sizeof ta), (int)sizeof ta);
        ck_assert_int_lt(sim_faults_format(b, nb, tb, sizeof tb), (int)sizeof tb);
        ck_assert_str_eq(ta, tb);
        int nc = sim_faults_draw(seed + 1000, &sp, b, 8);
        sim_faults_format(b, nc, tb, sizeof tb);
        differ += strcmp(ta, tb) != 0;
    }
    ck_assert_int_eq(differ, 20);
}
END_TEST

START_TEST(test_faults_draw_stays_in_the_space)
{
    struct sim_fault_space sp = space();
    struct sim_exp_fault x[8];
    int seen_kinds = 0, counts[9] = { 0 };
    for (uint64_t seed = 1; seed <= 300; seed++) {
        int n = sim_faults_draw(seed, &sp, x, 8);
        ck_assert_int_ge(n, 2);
        ck_assert_int_le(n, 8);
        counts[n]++;
        uint64_t last = 0;
        for (int i = 0; i < n; i++) {
            const struct sim_exp_fault *f = &x[i];
            seen_kinds |= (int)SIM_FAULT_BIT(f->kind);
            ck_assert(!f->drawn);
            if (SIM_FAULT_HOST_KINDS & SIM_FAULT_BIT(f->kind)) {
                ck_assert(is_host(f->host));                    /* never the storage host */
                ck_assert_uint_lt(f->at_ns, 60 * S);
                ck_assert_uint_ge(f->at_ns, last);              /* sorted by begin */
                last = f->at_ns;
                if (f->kind == SIM_FAULT_CLOCK_PAUSE)
                    ck_assert(f->duration_ns >= 100 * MS && f->duration_ns <= 2 * S);
                else
                    ck_assert(f->restart_after_ns >= 1 * S && f->restart_after_ns <= 10 * S);
                continue;
            }
            ck_assert_str_ne(f->a, f->b);
            ck_assert(is_host(f->a) || strcmp(f->a, "store") == 0);
            ck_assert(is_host(f->b) || strcmp(f->b, "store") == 0);
            ck_assert_uint_lt(f->from_ns, 60 * S);
            ck_assert_uint_ge(f->from_ns, last);
            last = f->from_ns;
            ck_assert(f->until_ns - f->from_ns >= 1 * S && f->until_ns - f->from_ns <= 20 * S);
            if (f->kind == SIM_FAULT_MSG_LOSS)
                ck_assert(f->p >= 0.1 && f->p <= 0.5);
            if (f->kind == SIM_FAULT_MSG_DELAY)
                ck_assert(f->delay_ns >= 1 * MS && f->delay_ns <= 50 * MS);
        }
    }
    ck_assert_int_eq(seen_kinds, (int)(SIM_FAULT_HOST_KINDS | SIM_FAULT_MSG_KINDS));
    ck_assert_int_gt(counts[2], 0);                             /* both ends of the count */
    ck_assert_int_gt(counts[8], 0);
}
END_TEST

START_TEST(test_faults_draw_refuses_a_bad_space)
{
    struct sim_exp_fault x[8];
    struct sim_fault_space sp = space();
    ck_assert_int_eq(sim_faults_draw(1, &sp, x, 7), VM_ENOSPC);
    sp.kinds = SIM_FAULT_DISK_KINDS;
    ck_assert_int_eq(sim_faults_draw(1, &sp, x, 8), VM_EINVAL);
    sp = space();
    sp.kinds = 0;
    ck_assert_int_eq(sim_faults_draw(1, &sp, x, 8), VM_EINVAL);
    sp = space();
    sp.min_faults = 9;
    ck_assert_int_eq(sim_faults_draw(1, &sp, x, 8), VM_EINVAL);
    sp = space();
    sp.pause_min_ns = 0;                                        /* a pause of nothing */
    ck_assert_int_eq(sim_faults_draw(1, &sp, x, 8), VM_EINVAL);
    sp = space();
    sp.p_max = 1.5;
    ck_assert_int_eq(sim_faults_draw(1, &sp, x, 8), VM_EINVAL);
    sp = space();
    sp.nr_hosts = 1;                                            /* h0 and the store: enough */
    ck_assert_int_ge(sim_faults_draw(1, &sp, x, 8), 2);
    sp.storage_host = NULL;                                     /* one end only */
    ck_assert_int_eq(sim_faults_draw(1, &sp, x, 8), VM_EINVAL);
    sp.kinds = SIM_FAULT_HOST_KINDS;                            /* no message faults: fine */
    ck_assert_int_ge(sim_faults_draw(1, &sp, x, 8), 2);
    sp = space();
    sp.horizon_ns = 86400 * S;                                  /* until past a config's day */
    ck_assert_int_eq(sim_faults_draw(1, &sp, x, 8), VM_EINVAL);
}
END_TEST

START_TEST(test_faults_format_writes_each_kinds_keys)
{
    struct sim_exp_fault x[5] = {
        partition("h0", "store", 1500 * MS, UINT64_MAX),
        msg_fault(SIM_FAULT_MSG_LOSS, "h1", "", 0.25, 0),
        host_fault(SIM_FAULT_CLOCK_PAUSE, "h1", 7, 2 * S),
        host_fault(SIM_FAULT_HOST_CRASH, "", 30 * S, 5 * S),
        { .kind = SIM_FAULT_DISK_ERROR, .on_write = true, .after_ios = 3, .count = 1 },
    };
    x[1].from_ns = 2 * S;
    x[1].until_ns = 4 * S;
    char buf[1024];
    int n = sim_faults_format(x, 5, buf, sizeof buf);
    const char *want =
        "[\n"
        "  {\"kind\": \"partition\", \"a\": \"h0\", \"b\": \"store\", \"from\": \"1500ms\"},\n"
        "  {\"kind\": \"msg_loss\", \"p\": 0.25, \"a\": \"h1\", \"from\": \"2s\", \"until\": \"4s\"},\n"
        "  {\"kind\": \"clock_pause\", \"host\": \"h1\", \"at\": \"7ns\", \"duration\": \"2s\"},\n"
        "  {\"kind\": \"host_crash\", \"at\": \"30s\", \"restart_after\": \"5s\"},\n"
        "  {\"kind\": \"disk_error\", \"op\": \"write\", \"after_ios\": 3, \"count\": 1}\n"
        "]";
    ck_assert_str_eq(buf, want);
    ck_assert_int_eq(n, (int)strlen(want));
    /* cut short: snprintf's rules */
    char small[16];
    ck_assert_int_eq(sim_faults_format(x, 5, small, sizeof small), n);
    ck_assert_uint_eq(strlen(small), sizeof small - 1);
    ck_assert_int_eq(sim_faults_format(x, 0, buf, sizeof buf), 2);
    ck_assert_str_eq(buf, "[]");
    x[0].kind = SIM_FAULT_NR;
    ck_assert_int_eq(sim_faults_format(x, 1, buf, sizeof buf), VM_EINVAL);
}
END_TEST

static Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *msg = tcase_create("messages");
    tcase_add_test(msg, test_faults_partition_loses_both_ways_inside_its_window_only);
    tcase_add_test(msg, test_faults_partition_to_the_end_and_from_origin);
    tcase_add_test(msg, test_faults_loss_is_the_seeds_and_about_p);
    tcase_add_test(msg, test_faults_loss_with_one_end_matches_its_messages_only);
    tcase_add_test(msg, test_faults_delays_add_up_and_a_lost_message_has_none);
    tcase_add_test(msg, test_faults_new_refuses_too_many);
    suite_add_tcase(s, msg);

    TCase *host = tcase_create("hosts");
    tcase_add_test(host, test_faults_arm_calls_begin_and_end_relative_to_t0);
    tcase_add_test(host, test_faults_free_cancels_what_has_not_run);
    tcase_add_test(host, test_faults_handler_may_free_the_service);
    suite_add_tcase(s, host);

    TCase *sched = tcase_create("schedules");
    tcase_add_test(sched, test_faults_draw_same_seed_same_schedule);
    tcase_add_test(sched, test_faults_draw_stays_in_the_space);
    tcase_add_test(sched, test_faults_draw_refuses_a_bad_space);
    tcase_add_test(sched, test_faults_format_writes_each_kinds_keys);
    suite_add_tcase(s, sched);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(faults_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
