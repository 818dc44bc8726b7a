/*
 * check_vcpu.c - suite "vcpu": the vCPU replay actor (sim_vcpu.c) on its
 * own, in a one-host world: how a stun takes effect, what a trace
 * record of a huge (legal) count costs, and how a walk with table reads
 * on takes exits on absent table frames.
 *
 * SimGrid runs once per process, so every test runs in its own process
 * (Check's fork mode, forced in main).
 */
#include <check.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <simgrid/actor.h>
#include <simgrid/engine.h>
#include <simgrid/host.h>

#include "sim_mem.h"
#include "sim_trace.h"
#include "sim_vcpu.h"
#include "sim_world.h"

static char g_dir[256];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/vmsim-vcpu.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
}

static void teardown(void)
{
    nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A one-host world; the vCPU's memory and a trace of `lines`. */
static struct sim_vcpu *vcpu_on_trace(const char *lines)
{
    char plat[400], trace[400];
    snprintf(plat, sizeof plat, "%s/p.xml", g_dir);
    snprintf(trace, sizeof trace, "%s/t.pagetrace", g_dir);
    FILE *f = fopen(plat, "w");
    fputs("<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
          "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">"
          "<host id=\"h\" speed=\"1Gf\"/></zone></platform>\n", f);
    fclose(f);
    f = fopen(trace, "w");
    fputs(lines, f);
    fclose(f);
    struct vm_diag d = { 0 };
    sim_world_init(NULL, NULL);
    ck_assert_int_eq(sim_world_load_platform(plat, &d), 0);
    struct sim_vcpu *v = calloc(1, sizeof *v);
    struct sim_exp_vm vm = { .memory_bytes = 64 << 20, .content = { 1, 0, 0, 0 } };
    ck_assert_int_eq(sim_mem_new(&vm, 1, &v->mem, &d), 0);
    ck_assert_msg(sim_trace_open_in(trace, SIM_TRACE_AUTO, g_dir, &v->trace, &d) == 0, "%s",
                  d.msg);
    v->access_ns = 2;
    v->loop = true;
    v->io_wq = sim_waitq_new();
    v->ctl_wq = sim_waitq_new();
    return v;
}

static struct sim_vcpu *g_v;
static uint64_t g_stunned_at, g_stopped_at;
static uint64_t g_records_at_stun, g_records_after_hold;
static bool g_held_in_stun, g_held_after_resume;

static void driver(int argc, char **argv)
{
    sim_vcpu_start(g_v, sg_host_by_name("h"));
    sim_sleep_ns(5 * VM_NS_PER_MS);
    sim_vcpu_stun(g_v);
    g_stunned_at = sim_now_ns();
    g_records_at_stun = g_v->records;
    g_held_in_stun = g_v->driver_stopped;
    sim_sleep_ns(VM_NS_PER_MS);
    g_records_after_hold = g_v->records;
    sim_vcpu_resume(g_v);
    g_held_after_resume = g_v->driver_stopped;
    sim_sleep_ns(VM_NS_PER_MS);
    sim_vcpu_stop(g_v);
    g_stopped_at = sim_now_ns();
}

/* A driver that holds the VM stopped without stunning the vCPU: what a
 * vCPU that ignores a stun looks like from the driver's side. */
static void driver_without_stun(int argc, char **argv)
{
    sim_vcpu_start(g_v, sg_host_by_name("h"));
    sim_sleep_ns(VM_NS_PER_MS);
    g_v->driver_stopped = true;
    sim_sleep_ns(VM_NS_PER_MS);
    g_v->driver_stopped = false;
    sim_vcpu_stop(g_v);
}

static void run_with(void (*fn)(int, char **))
{
    sg_actor_create("driver", sg_host_by_name("h"), fn, 0, NULL);
    simgrid_run();
}

static void run(void)
{
    run_with(driver);
}

/* A record of 10^19 - 2 accesses is centuries of compute: slept in
 * slices, so a stun and a stop each wait at most one slice. */
START_TEST(test_vcpu_huge_record_is_slept_in_slices)
{
    g_v = vcpu_on_trace("# vmsim pagetrace v1 page_size=4096 program=huge\n"
                        "W 4000 9999999999999999998\nR 4001 1\n"
                        "# total_accesses=9999999999999999999 records=2 truncated=no\n");
    run();
    ck_assert_uint_ge(g_stunned_at, 5 * VM_NS_PER_MS);
    ck_assert_uint_le(g_stunned_at, 5 * VM_NS_PER_MS + SIM_VCPU_MAX_SLICE_NS);
    ck_assert_uint_le(g_stopped_at, g_stunned_at + 2 * VM_NS_PER_MS + SIM_VCPU_MAX_SLICE_NS);
    ck_assert(g_v->exited);
    ck_assert_int_eq(g_v->error, 0);
    ck_assert_uint_eq(g_v->stunned_accesses, 0);
    /* the compute it did is what it slept, not the record's full cost */
    ck_assert_uint_le(g_v->compute_ns, g_stopped_at);
}
END_TEST

/* Ordinary records: a stun waits at most one quantum plus one record. */
START_TEST(test_vcpu_stun_takes_effect_within_a_quantum)
{
    g_v = vcpu_on_trace("# vmsim pagetrace v1 page_size=4096 program=small\n"
                        "W 4000 1000\nR 4001 7\n"
                        "# total_accesses=1007 records=2 truncated=no\n");
    run();
    ck_assert_uint_le(g_stunned_at, 5 * VM_NS_PER_MS + 100 * VM_NS_PER_US + 2000);
    ck_assert_uint_gt(g_v->records, 2);            /* looped over the trace */
}
END_TEST

/* Between sim_vcpu_stun() and sim_vcpu_resume() the driver holds the VM
 * stopped, and the vCPU applies no access. */
START_TEST(test_vcpu_applies_no_access_while_the_driver_holds_it_stunned)
{
    g_v = vcpu_on_trace("# vmsim pagetrace v1 page_size=4096 program=small\n"
                        "W 4000 1000\nR 4001 7\n"
                        "# total_accesses=1007 records=2 truncated=no\n");
    run();
    ck_assert(g_held_in_stun);
    ck_assert(!g_held_after_resume);
    ck_assert_uint_gt(g_records_at_stun, 0);
    ck_assert_uint_eq(g_records_after_hold, g_records_at_stun);
    ck_assert_uint_gt(g_v->records, g_records_after_hold);     /* ran again after */
    ck_assert_uint_eq(g_v->stunned_accesses, 0);
}
END_TEST

/* The count observes real accesses: with the VM held stopped by the
 * driver and the vCPU running on, every access it applies counts. */
START_TEST(test_vcpu_counts_accesses_applied_while_the_driver_holds_the_vm)
{
    g_v = vcpu_on_trace("# vmsim pagetrace v1 page_size=4096 program=small\n"
                        "W 4000 1000\nR 4001 7\n"
                        "# total_accesses=1007 records=2 truncated=no\n");
    run_with(driver_without_stun);
    /* 1 ms of records of 2 us and 14 ns: hundreds of them */
    ck_assert_uint_gt(g_v->stunned_accesses, 100);
    ck_assert_uint_lt(g_v->stunned_accesses, g_v->records);
}
END_TEST

/* Responsiveness windows: the VM is held stopped from the start for
 * hold_ns, then computes without a fault. */
static const struct {
    uint64_t win_ns, hold_ns, ttr_ns;
} g_win_cases[] = {
    /* resumed on a window boundary: that window is the first full one */
    { VM_NS_PER_MS, 5 * VM_NS_PER_MS, 6 * VM_NS_PER_MS },
    /* resumed mid-window: half a window of compute is not 90% of one */
    { VM_NS_PER_MS, 5 * VM_NS_PER_MS + 500 * VM_NS_PER_US, 7 * VM_NS_PER_MS },
    /* a million empty 1 us windows first: looked at one at a time, with no
     * array of windows to grow (it was 8 bytes a window) */
    { VM_NS_PER_US, 1000 * VM_NS_PER_MS, 1000 * VM_NS_PER_MS + VM_NS_PER_US },
};
static int g_case;
static bool g_responsive;
static uint64_t g_ttr;

static void driver_windows(int argc, char **argv)
{
    uint64_t win = g_win_cases[g_case].win_ns;
    sim_vcpu_start(g_v, sg_host_by_name("h"));
    sim_vcpu_stun(g_v);                     /* parked before its first access */
    sim_vcpu_track_windows(g_v, sim_now_ns(), win, 0.9 * (double)win);
    sim_sleep_ns(g_win_cases[g_case].hold_ns);
    sim_vcpu_resume(g_v);
    sim_sleep_ns(3 * VM_NS_PER_MS);
    sim_vcpu_stop(g_v);
    g_responsive = sim_vcpu_responsive(g_v, &g_ttr);
}

START_TEST(test_vcpu_first_responsive_window_ends_ttr)
{
    g_v = vcpu_on_trace("# vmsim pagetrace v1 page_size=4096 program=small\n"
                        "W 4000 1000\nR 4001 7\n"
                        "# total_accesses=1007 records=2 truncated=no\n");
    g_case = _i;
    run_with(driver_windows);
    ck_assert(g_responsive);
    ck_assert_uint_eq(g_ttr, g_win_cases[_i].ttr_ns);
    ck_assert_uint_eq(g_v->stunned_accesses, 0);
}
END_TEST

/* Not tracking, or no window good enough: no time to responsiveness. */
START_TEST(test_vcpu_no_responsive_window_without_one)
{
    struct sim_vcpu v;
    memset(&v, 0, sizeof v);
    uint64_t ttr = 7;
    ck_assert(!sim_vcpu_responsive(&v, &ttr));
    sim_vcpu_track_windows(&v, 0, VM_NS_PER_MS, 0.9 * VM_NS_PER_MS);
    ck_assert(!sim_vcpu_responsive(&v, &ttr));
    ck_assert_uint_eq(ttr, 7);
    /* a window that needs no compute at all (ttr_stall 1) is the first */
    sim_vcpu_track_windows(&v, 0, VM_NS_PER_MS, 0);
    ck_assert(sim_vcpu_responsive(&v, &ttr));
    ck_assert_uint_eq(ttr, VM_NS_PER_MS);
}
END_TEST

/* Ten records, pages 0..9, one access each. */
#define TEN_PAGES "# vmsim pagetrace v1 page_size=4096 program=ten\n" \
    "W 0 1\nW 1 1\nW 2 1\nW 3 1\nW 4 1\nW 5 1\nW 6 1\nW 7 1\nW 8 1\nW 9 1\n" \
    "# total_accesses=10 records=10 truncated=no\n"

static struct sim_vcpu *g_v2;

/* Run the vCPUs (g_v, and g_v2 if set) until both end on their own. */
static void driver_to_end(int argc, char **argv)
{
    sim_vcpu_start(g_v, sg_host_by_name("h"));
    if (g_v2)
        sim_vcpu_start(g_v2, sg_host_by_name("h"));
    while (!g_v->exited || (g_v2 && !g_v2->exited))
        sim_sleep_ns(VM_NS_PER_MS);
    sim_vcpu_stop(g_v);
    if (g_v2)
        sim_vcpu_stop(g_v2);
}

/* A vCPU that starts inside its trace (a copy of the program started at
 * another point) replays every record once: from its start to the end,
 * then from the beginning up to its start. */
START_TEST(test_vcpu_trace_start_wraps_and_replays_each_record_once)
{
    g_v = vcpu_on_trace(TEN_PAGES);
    g_v->loop = false;
    g_v->trace_start = 7;
    g_v2 = NULL;
    run_with(driver_to_end);
    ck_assert_int_eq(g_v->error, 0);
    ck_assert_uint_eq(g_v->records, 10);
    ck_assert_uint_eq(g_v->mem->mapped_pages, 10);
    /* frames go out in order of first touch: 7 (frame 1: frame 0 is the
     * PML4, and the PDPT, PD and PT come next, 2..4), 8, 9, then 0.. */
    uint64_t gpa;
    ck_assert_int_eq(sim_mem_translate(g_v->mem, 7, &gpa), 0);
    ck_assert_uint_eq(gpa, 1);
    ck_assert_int_eq(sim_mem_translate(g_v->mem, 0, &gpa), 0);
    ck_assert_uint_eq(gpa, 7);
    ck_assert_uint_eq(g_v->mem->mapped_pages, 10);
}
END_TEST

/* Two vCPUs replaying the same trace as two processes: the same
 * guest-virtual pages are different frames, from one allocator. */
START_TEST(test_vcpu_address_spaces_map_the_same_page_to_different_frames)
{
    g_v = vcpu_on_trace(TEN_PAGES);
    g_v->loop = false;
    g_v2 = calloc(1, sizeof *g_v2);
    *g_v2 = (struct sim_vcpu){ .mem = g_v->mem, .trace = g_v->trace, .asid = 1, .index = 1,
                               .access_ns = 2, .io_wq = g_v->io_wq,
                               .ctl_wq = sim_waitq_new() };
    ck_assert_int_eq(sim_mem_set_address_spaces(g_v->mem, 2), 0);
    run_with(driver_to_end);
    ck_assert_int_eq(g_v->error, 0);
    ck_assert_int_eq(g_v2->error, 0);
    ck_assert_uint_eq(g_v->records + g_v2->records, 20);
    ck_assert_uint_eq(g_v->mem->mapped_pages, 20);
    uint64_t a, b;
    ck_assert_int_eq(sim_mem_translate_as(g_v->mem, 0, 5, false, &a), 0);
    ck_assert_int_eq(sim_mem_translate_as(g_v->mem, 1, 5, false, &b), 0);
    ck_assert_uint_ne(a, b);
    ck_assert_int_eq(sim_mem_translate_as(g_v->mem, 2, 5, false, &b), VM_EINVAL);
}
END_TEST


/* Table reads: exits the hook saw, in order (frame, whether of the walk). */
static uint64_t g_exit_gpa[64];
static bool g_exit_walk[64];
static unsigned g_nr_exits;
static bool g_bring_in;               /* the hook makes the frame present */

static int record_exit(void *arg, uint64_t gpa, bool is_write, int kind, uint64_t *cost_ns)
{
    struct sim_vcpu *v = arg;
    (void)is_write;
    (void)kind;
    *cost_ns += 1000;
    if (g_nr_exits < 64) {
        g_exit_gpa[g_nr_exits] = gpa;
        g_exit_walk[g_nr_exits] = v->fault_walk;
    }
    g_nr_exits++;
    if (g_bring_in)
        port_mem_set_present(&v->mem->base, gpa, 1, true);
    return 0;
}

/* The ten pages mapped, table reads on, every frame absent. */
static void table_world(bool bring_in)
{
    g_v = vcpu_on_trace(TEN_PAGES);
    g_v->loop = false;
    g_v2 = NULL;
    uint64_t gpa;
    for (uint64_t p = 0; p < 10; p++)
        ck_assert_int_eq(sim_mem_translate_as(g_v->mem, 0, p, true, &gpa), 0);
    sim_mem_set_table_reads(g_v->mem, true);
    port_mem_set_present(&g_v->mem->base, 0, g_v->mem->nr_pages, false);
    g_v->on_fault = record_exit;
    g_v->fault_arg = g_v;
    g_nr_exits = 0;
    g_bring_in = bring_in;
}

/* A TLB miss reads the walk's table frames top first: each absent one is
 * an exit of the walk (fault_walk), the walk starting again after it;
 * then the page itself.  The ten pages share their tables: four table
 * exits in all, then one per page. */
START_TEST(test_vcpu_walk_faults_each_absent_table_frame_top_first)
{
    table_world(true);
    uint64_t tf[GUEST_MAX_LEVELS];
    ck_assert_uint_eq(sim_mem_walk_tables(g_v->mem, 0, 0, tf), 4);
    run_with(driver_to_end);
    ck_assert_int_eq(g_v->error, 0);
    ck_assert_uint_eq(g_v->records, 10);
    ck_assert_uint_eq(g_nr_exits, 4 + 10);
    for (unsigned i = 0; i < 4; i++) {
        ck_assert_uint_eq(g_exit_gpa[i], tf[i]);
        ck_assert(g_exit_walk[i]);
    }
    uint64_t gpa;
    for (unsigned p = 0; p < 10; p++) {
        ck_assert_int_eq(sim_mem_translate_fill(g_v->mem, 0, p, false, &gpa), 0);
        ck_assert_uint_eq(g_exit_gpa[4 + p], gpa);
        ck_assert(!g_exit_walk[4 + p]);
    }
    /* the walks read the table frames: their accessed bits are set */
    for (unsigned i = 0; i < 4; i++)
        ck_assert(sim_mem_test(g_v->mem, SIM_MEM_ACCESSED, tf[i]));
}
END_TEST

/* A hook that lets a walk's exit through without bringing the frame in
 * (a buggy handler): the walk reads the frame as it is and goes on, one
 * exit per level and per access, never looping. */
START_TEST(test_vcpu_walk_goes_on_when_the_hook_lets_an_absent_table_through)
{
    table_world(false);
    run_with(driver_to_end);
    ck_assert_int_eq(g_v->error, 0);
    ck_assert_uint_eq(g_v->records, 10);
    /* nothing becomes present: each page's walk exits at each level once */
    ck_assert_uint_eq(g_nr_exits, 10 * (4 + 1));
    for (unsigned i = 0; i < 5; i++)
        ck_assert(g_exit_walk[i] == (i < 4));
}
END_TEST

static Suite *vcpu_suite(void)
{
    Suite *s = suite_create("vcpu");
    TCase *tc = tcase_create("replay");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_vcpu_huge_record_is_slept_in_slices);
    tcase_add_test(tc, test_vcpu_stun_takes_effect_within_a_quantum);
    tcase_add_test(tc, test_vcpu_applies_no_access_while_the_driver_holds_it_stunned);
    tcase_add_test(tc, test_vcpu_counts_accesses_applied_while_the_driver_holds_the_vm);
    tcase_add_loop_test(tc, test_vcpu_first_responsive_window_ends_ttr, 0,
                        (int)(sizeof g_win_cases / sizeof g_win_cases[0]));
    tcase_add_test(tc, test_vcpu_no_responsive_window_without_one);
    tcase_add_test(tc, test_vcpu_trace_start_wraps_and_replays_each_record_once);
    tcase_add_test(tc, test_vcpu_address_spaces_map_the_same_page_to_different_frames);
    tcase_add_test(tc, test_vcpu_walk_faults_each_absent_table_frame_top_first);
    tcase_add_test(tc, test_vcpu_walk_goes_on_when_the_hook_lets_an_absent_table_through);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(vcpu_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
