/*
 * check_config_faults.c - suite "config_faults": the experiment config's
 * "faults" (sim_cfg_top.c) and the instants the core derives from them
 * (sim_exp.c): the three kinds' keys, a host crash at a fixed instant or
 * drawn in a window from the seed, each error as one located line, and a
 * mechanism refusing the kinds it does not take (struct sim_mech
 * fault_kinds).
 *
 * The new kinds (daemon_crash, partition, msg_loss, msg_delay,
 * clock_pause) each with its keys, defaults and errors, and a schedule
 * drawn and formatted by sim_faults read back by the walk as it was.
 *
 * The suite registers the checkpoint mechanism three more times under
 * other names: "ckpt-crash" taking the disk kinds and host_crash,
 * "ckpt-all" taking every kind and "ckpt-nofaults" taking none.  Configs
 * are written with ' for " and loaded without SimGrid, as in
 * check_config_*.c.
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint/sim_ckpt.h"
#include "sim_config.h"
#include "sim_exp.h"
#include "sim_faults.h"
#include "sim_mech.h"

#define S 1000000000ull

static char g_dir[256];
static char g_file[320];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "%s/vmsim-faults.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
    snprintf(g_file, sizeof g_file, "%s/exp.json", g_dir);
}

static void teardown(void)
{
    nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write the config (' turned into ") and a platform file to load it with. */
static void write_cfg(const char *json)
{
    char path[512];
    snprintf(path, sizeof path, "%s/plat.xml", g_dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("<platform/>\n", f);
    fclose(f);
    f = fopen(g_file, "w");
    ck_assert_ptr_nonnull(f);
    for (const char *p = json; *p; p++)
        fputc(*p == '\'' ? '"' : *p, f);
    fclose(f);
}

#define HEAD(mech) "{'name': 't1', 'mechanism': '" mech "', 'platform': 'plat.xml', " \
                   "'vm': {'memory': '8GiB'}, " \
                   "'workload': {'kind': 'synthetic', 'pattern': 'zipf'}, " \
                   "'variants': [{'name': 'sc', 'policy': 'stopcopy'}], "
#define CRASH HEAD("ckpt-crash")
#define ALL HEAD("ckpt-all")
#define MS 1000000ull

static struct sim_config *load_ok(const char *json, const struct sim_config_opts *o)
{
    struct sim_config *cfg = NULL;
    struct sim_diag_list errs = { 0 };
    write_cfg(json);
    int rc = sim_config_load(g_file, o, &cfg, &errs);
    ck_assert_msg(rc == 0, "load failed: %s", errs.n ? errs.lines[0] : "(no message)");
    ck_assert_ptr_nonnull(cfg);
    sim_diag_list_free(&errs);
    return cfg;
}

/* Load must fail with exactly one line: g_file followed by `rest`. */
static void expect_error(const char *json, const char *rest)
{
    struct sim_config *cfg = NULL;
    struct sim_diag_list errs = { 0 };
    char want[1024];
    write_cfg(json);
    int rc = sim_config_load(g_file, NULL, &cfg, &errs);
    ck_assert_int_eq(rc, VM_EINVAL);
    ck_assert_ptr_null(cfg);
    ck_assert_int_eq(errs.n, 1);
    snprintf(want, sizeof want, "%s%s", g_file, rest);
    ck_assert_str_eq(errs.lines[0], want);
    sim_diag_list_free(&errs);
}

/* ------------------------------------------------------------ good configs */

START_TEST(test_faults_host_crash_at_or_window_with_defaults)
{
    struct sim_config *cfg = load_ok(
        CRASH "'faults': [{'kind': 'host_crash', 'at': '30s'}, "
        "{'kind': 'host_crash', 'from': '10s', 'until': '60s', 'restart_after': '2s', "
        "'host': 'host1'}, {'kind': 'disk_slow', 'factor': 2}]}", NULL);
    const struct sim_exp *e = &cfg->points[0];
    ck_assert_int_eq(e->nr_faults, 3);
    ck_assert_int_eq(e->faults[0].kind, SIM_FAULT_HOST_CRASH);
    ck_assert(!e->faults[0].drawn);
    ck_assert_uint_eq(e->faults[0].at_ns, 30 * S);
    ck_assert_uint_eq(e->faults[0].restart_after_ns, 5 * S);      /* default */
    ck_assert_str_eq(e->faults[0].host, "");                        /* the experiment's */
    ck_assert(e->faults[1].drawn);
    ck_assert_uint_eq(e->faults[1].from_ns, 10 * S);
    ck_assert_uint_eq(e->faults[1].until_ns, 60 * S);
    ck_assert_uint_eq(e->faults[1].restart_after_ns, 2 * S);
    ck_assert_str_eq(e->faults[1].host, "host1");
    ck_assert_int_eq(e->faults[2].kind, SIM_FAULT_DISK_SLOW);
    ck_assert_uint_eq(e->faults[2].until_ns, UINT64_MAX);          /* still to the end */

    uint64_t at, down;
    ck_assert_int_eq(sim_exp_host_crash(e, 0, &at, &down), 0);
    ck_assert_uint_eq(at, 30 * S);
    ck_assert_uint_eq(down, 5 * S);
    ck_assert_int_eq(sim_exp_host_crash(e, 2, &at, &down), VM_EINVAL);   /* not a crash */
    ck_assert_int_eq(sim_exp_host_crash(e, 3, &at, &down), VM_EINVAL);   /* no such fault */
    ck_assert_int_eq(sim_exp_host_crash(e, -1, &at, &down), VM_EINVAL);
    sim_config_free(cfg);
}
END_TEST

/* The i-th fault's instant in a config loaded with seed. */
static uint64_t crash_at(const char *json, uint64_t seed, int i)
{
    struct sim_config_opts o = { .have_seed = true, .seed = seed };
    struct sim_config *cfg = load_ok(json, &o);
    uint64_t at, down;
    ck_assert_int_eq(sim_exp_host_crash(&cfg->points[0], i, &at, &down), 0);
    ck_assert_uint_eq(down, 1 * S);
    sim_config_free(cfg);
    return at;
}

START_TEST(test_faults_drawn_crash_instant_is_the_seeds_and_in_the_window)
{
    const char *json = CRASH "'faults': [{'kind': 'host_crash', 'from': '10s', 'until': '60s', "
                             "'restart_after': '1s'}, {'kind': 'host_crash', 'from': '10s', "
                             "'until': '60s', 'restart_after': '1s'}]}";
    uint64_t first[8];
    int differ = 0, twins = 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        uint64_t a = crash_at(json, seed, 0);
        ck_assert_uint_eq(crash_at(json, seed, 0), a);     /* same seed, same instant */
        ck_assert(a >= 10 * S && a < 60 * S);
        first[seed - 1] = a;
        differ += seed > 1 && a != first[0];
        twins += crash_at(json, seed, 1) == a;             /* each fault its own stream */
    }
    ck_assert_int_gt(differ, 0);
    ck_assert_int_eq(twins, 0);
    /* a one-nanosecond window has one instant */
    ck_assert_uint_eq(crash_at(CRASH "'faults': [{'kind': 'host_crash', 'from': '3s', "
                               "'until': '3000000001ns', 'restart_after': '1s'}]}", 5, 0),
                      3 * S);
}
END_TEST

START_TEST(test_faults_set_reaches_host_crash_keys)
{
    const char *sets[] = { "faults[0].at=40s", "faults[0].restart_after=1s" };
    struct sim_config_opts o = { .nr_sets = 2, .sets = sets };
    struct sim_config *cfg = load_ok(CRASH "'faults': [{'kind': 'host_crash', 'at': '30s'}]}",
                                     &o);
    ck_assert_uint_eq(cfg->points[0].faults[0].at_ns, 40 * S);
    ck_assert_uint_eq(cfg->points[0].faults[0].restart_after_ns, 1 * S);
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_faults_checkpoint_takes_disk_faults)
{
    struct sim_config *cfg = load_ok(HEAD("checkpoint") "'faults': [{'kind': 'disk_error'}, "
                                     "{'kind': 'disk_slow', 'factor': 3}]}", NULL);
    ck_assert_int_eq(cfg->points[0].nr_faults, 2);
    sim_config_free(cfg);
    ck_assert_uint_eq(sim_ckpt_mech.fault_kinds, SIM_FAULT_BIT(SIM_FAULT_DISK_ERROR) |
                                                     SIM_FAULT_BIT(SIM_FAULT_DISK_SLOW));
}
END_TEST

START_TEST(test_faults_kind_names_and_lists)
{
    char buf[128];
    ck_assert_str_eq(sim_fault_kind_name(SIM_FAULT_HOST_CRASH), "host_crash");
    ck_assert_str_eq(sim_fault_kind_name(SIM_FAULT_NR), "?");
    ck_assert_str_eq(sim_fault_kinds_text(0, buf, sizeof buf), "none");
    ck_assert_str_eq(sim_fault_kinds_text(SIM_FAULT_DISK_KINDS, buf, sizeof buf),
                     "disk_error, disk_slow");
    ck_assert_str_eq(sim_fault_kinds_text(SIM_FAULT_BIT(SIM_FAULT_HOST_CRASH), buf, sizeof buf),
                     "host_crash");
    ck_assert_str_eq(sim_fault_kinds_text(SIM_FAULT_HOST_KINDS | SIM_FAULT_MSG_KINDS, buf,
                                          sizeof buf),
                     "host_crash, daemon_crash, partition, msg_loss, msg_delay, clock_pause");
    ck_assert_str_eq(sim_fault_kind_name(SIM_FAULT_CLOCK_PAUSE), "clock_pause");
}
END_TEST

START_TEST(test_faults_registry_refuses_unknown_fault_kinds)
{
    static struct sim_mech odd;
    struct vm_diag d = { 0 };
    odd = sim_ckpt_mech;
    odd.name = "ckpt-odd";
    odd.fault_kinds = SIM_FAULT_BIT(SIM_FAULT_NR);
    ck_assert_int_eq(sim_mech_register(&odd, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "mechanism 'ckpt-odd': fault_kinds 0x100 names no fault kind");
}
END_TEST


START_TEST(test_faults_new_kinds_walk_with_their_defaults)
{
    struct sim_config *cfg = load_ok(
        ALL "'faults': [{'kind': 'daemon_crash', 'host': 'h1', 'at': '3s'}, "
        "{'kind': 'daemon_crash', 'host': 'h2', 'from': '1s', 'until': '2s', "
        "'restart_after': '250ms'}, "
        "{'kind': 'partition', 'a': 'h0', 'b': 'store'}, "
        "{'kind': 'partition', 'a': 'h0', 'b': 'h1', 'from': '1s', 'until': '4s'}, "
        "{'kind': 'msg_loss', 'p': 0.3}, "
        "{'kind': 'msg_delay', 'delay': '20ms', 'a': 'h1', 'from': '2s'}, "
        "{'kind': 'clock_pause', 'host': 'h0', 'at': '5s', 'duration': '12s'}]}", NULL);
    const struct sim_exp *e = &cfg->points[0];
    ck_assert_int_eq(e->nr_faults, 7);
    const struct sim_exp_fault *f = e->faults;
    ck_assert_int_eq(f[0].kind, SIM_FAULT_DAEMON_CRASH);
    ck_assert_str_eq(f[0].host, "h1");
    ck_assert(!f[0].drawn);
    ck_assert_uint_eq(f[0].at_ns, 3 * S);
    ck_assert_uint_eq(f[0].restart_after_ns, 5 * S);             /* default */
    ck_assert(f[1].drawn);
    ck_assert_uint_eq(f[1].restart_after_ns, 250 * MS);
    uint64_t at = sim_exp_fault_at(&f[1], e->seed, 1);
    ck_assert(at >= 1 * S && at < 2 * S);
    ck_assert_int_eq(f[2].kind, SIM_FAULT_PARTITION);
    ck_assert_str_eq(f[2].a, "h0");
    ck_assert_str_eq(f[2].b, "store");
    ck_assert_uint_eq(f[2].from_ns, 0);
    ck_assert_uint_eq(f[2].until_ns, UINT64_MAX);                 /* to the end */
    ck_assert_uint_eq(f[3].from_ns, 1 * S);
    ck_assert_uint_eq(f[3].until_ns, 4 * S);
    ck_assert_int_eq(f[4].kind, SIM_FAULT_MSG_LOSS);
    ck_assert(f[4].p == 0.3);
    ck_assert_str_eq(f[4].a, "");                                  /* any host */
    ck_assert_str_eq(f[4].b, "");
    ck_assert_int_eq(f[5].kind, SIM_FAULT_MSG_DELAY);
    ck_assert_uint_eq(f[5].delay_ns, 20 * MS);
    ck_assert_str_eq(f[5].a, "h1");
    ck_assert_uint_eq(f[5].from_ns, 2 * S);
    ck_assert_int_eq(f[6].kind, SIM_FAULT_CLOCK_PAUSE);
    ck_assert_str_eq(f[6].host, "h0");
    ck_assert_uint_eq(f[6].at_ns, 5 * S);
    ck_assert_uint_eq(f[6].duration_ns, 12 * S);
    ck_assert_uint_eq(sim_exp_fault_at(&f[6], e->seed, 6), 5 * S);
    ck_assert_uint_eq(sim_exp_fault_at(&f[2], e->seed, 2), 0);     /* not a host kind */
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_faults_set_reaches_new_kinds_keys)
{
    const char *sets[] = { "faults[0].p=0.5", "faults[1].duration=3s", "faults[2].b=h2" };
    struct sim_config_opts o = { .nr_sets = 3, .sets = sets };
    struct sim_config *cfg = load_ok(
        ALL "'faults': [{'kind': 'msg_loss', 'p': 0.1}, "
        "{'kind': 'clock_pause', 'host': 'h0', 'at': '1s', 'duration': '1s'}, "
        "{'kind': 'partition', 'a': 'h0', 'b': 'h1'}]}", &o);
    ck_assert(cfg->points[0].faults[0].p == 0.5);
    ck_assert_uint_eq(cfg->points[0].faults[1].duration_ns, 3 * S);
    ck_assert_str_eq(cfg->points[0].faults[2].b, "h2");
    sim_config_free(cfg);
}
END_TEST

START_TEST(test_faults_up_to_32)
{
    char json[8192];
    size_t o = (size_t)snprintf(json, sizeof json, "%s'faults': [", ALL);
    for (int i = 0; i < SIM_MAX_FAULTS; i++)
        o += (size_t)snprintf(json + o, sizeof json - o, "%s{'kind': 'msg_delay', 'delay': '%dms'}",
                              i ? ", " : "", i + 1);
    snprintf(json + o, sizeof json - o, "]}");
    struct sim_config *cfg = load_ok(json, NULL);
    ck_assert_int_eq(SIM_MAX_FAULTS, 32);
    ck_assert_int_eq(cfg->points[0].nr_faults, 32);
    ck_assert_uint_eq(cfg->points[0].faults[31].delay_ns, 32 * MS);
    sim_config_free(cfg);
    snprintf(json + o, sizeof json - o, ", {'kind': 'msg_loss', 'p': 1}]}");
    expect_error(json, ": $.faults: expected at most 32 faults, got 33");
}
END_TEST

/* Field by field: the walk fills what the kind has (and from/until, host,
 * a, b as they were drawn). */
static void assert_same_fault(const struct sim_exp_fault *x, const struct sim_exp_fault *y)
{
    ck_assert_int_eq(x->kind, y->kind);
    ck_assert_int_eq(x->drawn, y->drawn);
    ck_assert_uint_eq(x->at_ns, y->at_ns);
    ck_assert_uint_eq(x->from_ns, y->from_ns);
    ck_assert_uint_eq(x->until_ns, y->until_ns);
    ck_assert_uint_eq(x->restart_after_ns, y->restart_after_ns);
    ck_assert_uint_eq(x->duration_ns, y->duration_ns);
    ck_assert_uint_eq(x->delay_ns, y->delay_ns);
    ck_assert(x->p == y->p);
    ck_assert_str_eq(x->host, y->host);
    ck_assert_str_eq(x->a, y->a);
    ck_assert_str_eq(x->b, y->b);
}

START_TEST(test_faults_drawn_schedule_formats_to_a_config_that_walks_back)
{
    static const char *const hosts[] = { "h0", "h1", "h2" };
    struct sim_fault_space sp = {
        .kinds = SIM_FAULT_HOST_KINDS | SIM_FAULT_MSG_KINDS,
        .hosts = hosts, .nr_hosts = 3, .storage_host = "store",
        .horizon_ns = 30 * S + 7, .min_faults = 4, .max_faults = 12,
        .down_min_ns = 1, .down_max_ns = 10 * S,
        .pause_min_ns = 1, .pause_max_ns = 2 * S,
        .cut_min_ns = 1, .cut_max_ns = 20 * S,
        .p_min = 0, .p_max = 1,
        .delay_min_ns = 1, .delay_max_ns = 50 * MS,
    };
    for (uint64_t seed = 1; seed <= 10; seed++) {
        struct sim_exp_fault x[12];
        char text[8192], json[9000];
        int n = sim_faults_draw(seed, &sp, x, 12);
        ck_assert_int_ge(n, 4);
        ck_assert_int_lt(sim_faults_format(x, n, text, sizeof text), (int)sizeof text);
        /* the text as a config's "faults" (write_cfg turns ' into ", so none here) */
        snprintf(json, sizeof json, "%s'faults': %s}", ALL, text);
        struct sim_config *cfg = load_ok(json, NULL);
        const struct sim_exp *e = &cfg->points[0];
        ck_assert_int_eq(e->nr_faults, n);
        for (int i = 0; i < n; i++)
            assert_same_fault(&x[i], &e->faults[i]);
        sim_config_free(cfg);
    }
}
END_TEST

/* ------------------------------------------------------------ bad input */

START_TEST(test_faults_crash_at_and_window_are_exclusive)
{
    expect_error(CRASH "'faults': [{'kind': 'host_crash', 'at': '30s', 'from': '10s', "
                       "'until': '60s'}]}",
                 ": $.faults[0].at: expected either 'at' or a window 'from'..'until', not both");
    expect_error(CRASH "'faults': [{'kind': 'disk_error'}, {'kind': 'host_crash', 'at': '30s', "
                       "'until': '60s'}]}",
                 ": $.faults[1].at: expected either 'at' or a window 'from'..'until', not both");
}
END_TEST

START_TEST(test_faults_crash_needs_an_instant_or_a_whole_window)
{
    expect_error(CRASH "'faults': [{'kind': 'host_crash'}]}",
                 ": $.faults[0]: missing required key 'at' (or a window: 'from' and 'until')");
    expect_error(CRASH "'faults': [{'kind': 'host_crash', 'from': '10s'}]}",
                 ": $.faults[0]: missing required key 'until' (a window needs 'from' and "
                 "'until')");
    expect_error(CRASH "'faults': [{'kind': 'host_crash', 'until': '10s'}]}",
                 ": $.faults[0]: missing required key 'from' (a window needs 'from' and "
                 "'until')");
}
END_TEST

START_TEST(test_faults_crash_window_must_end_after_it_starts)
{
    expect_error(CRASH "'faults': [{'kind': 'host_crash', 'from': '10s', 'until': '10s'}]}",
                 ": $.faults[0].until: expected time after 'from', got \"10s\"");
    expect_error(CRASH "'faults': [{'kind': 'host_crash', 'from': '10s', 'until': '5s'}]}",
                 ": $.faults[0].until: expected time after 'from', got \"5s\"");
}
END_TEST

START_TEST(test_faults_crash_times_in_range)
{
    expect_error(CRASH "'faults': [{'kind': 'host_crash', 'at': '90000s'}]}",
                 ": $.faults[0].at: expected time 0ns..86400s, got \"90000s\"");
    expect_error(CRASH "'faults': [{'kind': 'host_crash', 'at': 30}]}",
                 ": $.faults[0].at: expected time like \"250us\", got 30");
    expect_error(CRASH "'faults': [{'kind': 'host_crash', 'at': '1s', 'restart_after': '2d'}]}",
                 ": $.faults[0].restart_after: expected time like \"250us\", got \"2d\"");
}
END_TEST

START_TEST(test_faults_key_of_another_kind_names_it)
{
    expect_error(CRASH "'faults': [{'kind': 'host_crash', 'at': '1s', 'factor': 2}]}",
                 ": $.faults[0]: key 'factor' is for kind 'disk_slow', not 'host_crash'");
    expect_error(CRASH "'faults': [{'kind': 'host_crash', 'at': '1s', 'op': 'read'}]}",
                 ": $.faults[0]: key 'op' is for kind 'disk_error', not 'host_crash'");
    expect_error(CRASH "'faults': [{'kind': 'disk_slow', 'factor': 2, 'at': '1s'}]}",
                 ": $.faults[0]: key 'at' is for kind 'host_crash', not 'disk_slow'");
    expect_error(CRASH "'faults': [{'kind': 'host_crsh', 'at': '1s'}]}",
                 ": $.faults[0].kind: expected one of disk_error|disk_slow|host_crash|"
                 "daemon_crash|partition|msg_loss|msg_delay|clock_pause, got \"host_crsh\"");
}
END_TEST

START_TEST(test_faults_mechanism_refuses_kinds_it_does_not_take)
{
    expect_error(HEAD("checkpoint") "'faults': [{'kind': 'disk_error'}, "
                 "{'kind': 'host_crash', 'at': '30s'}]}",
                 ": $.faults[1].kind: mechanism 'checkpoint' does not take host_crash faults "
                 "(it takes: disk_error, disk_slow)");
    expect_error(HEAD("ckpt-nofaults") "'faults': [{'kind': 'disk_slow', 'factor': 2}]}",
                 ": $.faults[0].kind: mechanism 'ckpt-nofaults' does not take disk_slow faults "
                 "(it takes: none)");
    expect_error(HEAD("checkpoint") "'faults': [{'kind': 'partition', 'a': 'h0', 'b': 'h1'}]}",
                 ": $.faults[0].kind: mechanism 'checkpoint' does not take partition faults "
                 "(it takes: disk_error, disk_slow)");
}
END_TEST


START_TEST(test_faults_new_kinds_keys_of_other_kinds_named)
{
    expect_error(ALL "'faults': [{'kind': 'partition', 'a': 'h0', 'b': 'h1', 'p': 0.5}]}",
                 ": $.faults[0]: key 'p' is for kind 'msg_loss', not 'partition'");
    expect_error(ALL "'faults': [{'kind': 'msg_loss', 'p': 0.5, 'delay': '1ms'}]}",
                 ": $.faults[0]: key 'delay' is for kind 'msg_delay', not 'msg_loss'");
    expect_error(ALL "'faults': [{'kind': 'clock_pause', 'host': 'h0', 'at': '1s', "
                     "'duration': '1s', 'restart_after': '1s'}]}",
                 ": $.faults[0]: key 'restart_after' is for kind 'host_crash', not "
                 "'clock_pause'");
    expect_error(ALL "'faults': [{'kind': 'host_crash', 'at': '1s', 'duration': '1s'}]}",
                 ": $.faults[0]: key 'duration' is for kind 'clock_pause', not 'host_crash'");
    expect_error(ALL "'faults': [{'kind': 'msg_delay', 'dely': '1ms'}]}",
                 ": $.faults[0]: unknown key 'dely' (did you mean 'delay'?)");
}
END_TEST

START_TEST(test_faults_partition_of_a_host_with_itself)
{
    expect_error(ALL "'faults': [{'kind': 'partition', 'a': 'h0', 'b': 'h0'}]}",
                 ": $.faults[0].b: a partition of a host with itself ('h0'): expected another "
                 "host than 'a'");
    expect_error(ALL "'faults': [{'kind': 'partition', 'a': 'h0'}]}",
                 ": $.faults[0]: missing required key 'b'");
    expect_error(ALL "'faults': [{'kind': 'partition', 'a': 'h0', 'b': 'h1', 'from': '3s', "
                     "'until': '2s'}]}",
                 ": $.faults[0].until: expected time after 'from', got \"2s\"");
}
END_TEST

START_TEST(test_faults_loss_probability_in_range)
{
    expect_error(ALL "'faults': [{'kind': 'msg_loss', 'p': 1.5}]}",
                 ": $.faults[0].p: expected number 0..1, got 1.5");
    expect_error(ALL "'faults': [{'kind': 'msg_loss', 'p': -0.1}]}",
                 ": $.faults[0].p: expected number 0..1, got -0.1");
    expect_error(ALL "'faults': [{'kind': 'msg_loss'}]}",
                 ": $.faults[0]: missing required key 'p'");
}
END_TEST

START_TEST(test_faults_durations_and_delays_above_zero)
{
    expect_error(ALL "'faults': [{'kind': 'clock_pause', 'host': 'h0', 'at': '1s', "
                     "'duration': '0s'}]}",
                 ": $.faults[0].duration: expected time 1ns..86400s, got \"0s\"");
    expect_error(ALL "'faults': [{'kind': 'clock_pause', 'host': 'h0', 'at': '1s'}]}",
                 ": $.faults[0]: missing required key 'duration'");
    expect_error(ALL "'faults': [{'kind': 'msg_delay', 'delay': '0ns'}]}",
                 ": $.faults[0].delay: expected time 1ns..86400s, got \"0ns\"");
}
END_TEST

START_TEST(test_faults_host_kinds_need_a_host_and_an_instant)
{
    expect_error(ALL "'faults': [{'kind': 'daemon_crash', 'at': '1s'}]}",
                 ": $.faults[0]: missing required key 'host'");
    expect_error(ALL "'faults': [{'kind': 'clock_pause', 'at': '1s', 'duration': '1s'}]}",
                 ": $.faults[0]: missing required key 'host'");
    expect_error(ALL "'faults': [{'kind': 'daemon_crash', 'host': 'h0'}]}",
                 ": $.faults[0]: missing required key 'at' (or a window: 'from' and 'until')");
    expect_error(ALL "'faults': [{'kind': 'clock_pause', 'host': 'h0', 'duration': '1s', "
                     "'at': '1s', 'from': '0s'}]}",
                 ": $.faults[0].at: expected either 'at' or a window 'from'..'until', not both");
}
END_TEST

START_TEST(test_faults_negative_times_refused)
{
    expect_error(ALL "'faults': [{'kind': 'msg_delay', 'delay': '-5ms'}]}",
                 ": $.faults[0].delay: expected time like \"250us\", got \"-5ms\"");
    expect_error(ALL "'faults': [{'kind': 'daemon_crash', 'host': 'h0', 'at': '-1s'}]}",
                 ": $.faults[0].at: expected time like \"250us\", got \"-1s\"");
    expect_error(ALL "'faults': [{'kind': 'partition', 'a': 'h0', 'b': 'h1', 'from': '-0.5s'}]}",
                 ": $.faults[0].from: expected time like \"250us\", got \"-0.5s\"");
}
END_TEST

static Suite *faults_suite(void)
{
    Suite *s = suite_create("config_faults");
    TCase *good = tcase_create("good");
    tcase_add_checked_fixture(good, setup, teardown);
    tcase_add_test(good, test_faults_host_crash_at_or_window_with_defaults);
    tcase_add_test(good, test_faults_drawn_crash_instant_is_the_seeds_and_in_the_window);
    tcase_add_test(good, test_faults_set_reaches_host_crash_keys);
    tcase_add_test(good, test_faults_checkpoint_takes_disk_faults);
    tcase_add_test(good, test_faults_kind_names_and_lists);
    tcase_add_test(good, test_faults_registry_refuses_unknown_fault_kinds);
    tcase_add_test(good, test_faults_new_kinds_walk_with_their_defaults);
    tcase_add_test(good, test_faults_set_reaches_new_kinds_keys);
    tcase_add_test(good, test_faults_up_to_32);
    tcase_add_test(good, test_faults_drawn_schedule_formats_to_a_config_that_walks_back);
    suite_add_tcase(s, good);

    TCase *bad = tcase_create("bad");
    tcase_add_checked_fixture(bad, setup, teardown);
    tcase_add_test(bad, test_faults_crash_at_and_window_are_exclusive);
    tcase_add_test(bad, test_faults_crash_needs_an_instant_or_a_whole_window);
    tcase_add_test(bad, test_faults_crash_window_must_end_after_it_starts);
    tcase_add_test(bad, test_faults_crash_times_in_range);
    tcase_add_test(bad, test_faults_key_of_another_kind_names_it);
    tcase_add_test(bad, test_faults_mechanism_refuses_kinds_it_does_not_take);
    tcase_add_test(bad, test_faults_new_kinds_keys_of_other_kinds_named);
    tcase_add_test(bad, test_faults_partition_of_a_host_with_itself);
    tcase_add_test(bad, test_faults_loss_probability_in_range);
    tcase_add_test(bad, test_faults_durations_and_delays_above_zero);
    tcase_add_test(bad, test_faults_host_kinds_need_a_host_and_an_instant);
    tcase_add_test(bad, test_faults_negative_times_refused);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    static struct sim_mech crash, all, nofaults;
    struct vm_diag d = { 0 };

    crash = sim_ckpt_mech;
    crash.name = "ckpt-crash";
    crash.fault_kinds = SIM_FAULT_DISK_KINDS | SIM_FAULT_BIT(SIM_FAULT_HOST_CRASH);
    all = sim_ckpt_mech;
    all.name = "ckpt-all";
    all.fault_kinds = SIM_FAULT_BIT(SIM_FAULT_NR) - 1;
    nofaults = sim_ckpt_mech;
    nofaults.name = "ckpt-nofaults";
    nofaults.fault_kinds = 0;
    if (sim_mech_register(&sim_ckpt_mech, &d) != 0 || sim_mech_register(&crash, &d) != 0 ||
        sim_mech_register(&all, &d) != 0 || sim_mech_register(&nofaults, &d) != 0) {
        fprintf(stderr, "%s\n", d.msg);
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(faults_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
