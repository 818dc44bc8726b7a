/*
 * check_world.c - suite "world": the SimGrid glue of sim_world.c and
 * sim_platform.c: platforms that do not load, the platform check run
 * without SimGrid in the caller, SimGrid aborts turned into one line, the
 * clock and timed waits, SimGrid's options.
 *
 * SimGrid runs once per process, so every test runs in its own process
 * (Check's fork mode, forced in main).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <simgrid/actor.h>
#include <simgrid/engine.h>
#include <simgrid/host.h>

#include "base/vm_fp.h"
#include "base/vm_units.h"
#include "sim_disk.h"
#include "sim_platform.h"
#include "sim_rig.h"
#include "sim_world.h"

#ifndef VMSIM_SRCDIR
#define VMSIM_SRCDIR "."
#endif

#define MB 1000000.0


static struct sim_waitq *wq;

/* ---- platforms ---- */

START_TEST(test_world_malformed_platform_is_eparse)
{
    char path[256];
    struct vm_diag d;

    write_temp(path, sizeof(path),
               "<?xml version='1.0'?>\n"
               "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
               "<platform version=\"4.1\">\n"
               "  <zone id=\"AS0\" routing=\"Full\">\n"
               "    <host id=\"h\" speed=\"1Gf\"><disk id=\"d\" read_bw=\"1MBps\" write_bw=\"1MBps\">\n"
               "    </host>\n  </zone>\n</platform>\n");
    sim_world_init(NULL, NULL);
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_world_load_platform(path, &d), VM_EPARSE);
    ck_assert_msg(strstr(d.msg, "Parse error") != NULL && strstr(d.msg, path) != NULL,
                  "got \"%s\"", d.msg);
    ck_assert_ptr_null(strchr(d.msg, '\n'));
    unlink(path);
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_world_load_platform("/nonexistent/p.xml", &d), VM_ENOENT);
    ck_assert_str_eq(d.msg, "platform '/nonexistent/p.xml': No such file or directory");
}
END_TEST

#define PROPS "<prop id=\"read_lat\" value=\"100us\"/><prop id=\"write_lat\" value=\"50us\"/>" \
              "<prop id=\"qdepth\" value=\"4\"/>"

/* Check a platform of hosts_xml; its rc, with the message in d. */
static int check_text(const char *hosts_xml, const char *host, const char *disk, int nr_sg,
                      char **sg, enum sim_platform_part *part, struct vm_diag *d)
{
    char xml[8192], path[256];
    platform_text(xml, sizeof(xml), hosts_xml);
    write_temp(path, sizeof(path), xml);
    vm_diag_clear(d);
    int rc = sim_platform_check(path, host, disk, nr_sg, sg, part, NULL, d);
    unlink(path);
    return rc;
}

START_TEST(test_world_check_platform_reports_without_simgrid_in_caller)
{
    char good[256], bad[256], xml[4096], path[2048];
    struct vm_diag d;
    enum sim_platform_part part;

    platform_text(xml, sizeof(xml),
                  "    <host id=\"a\" speed=\"1Gf\"/>\n"
                  "    <host id=\"c\" speed=\"1Gf\"><disk id=\"d1\" read_bw=\"1MBps\" write_bw=\"1MBps\">"
                  PROPS "</disk></host>\n"
                  "    <host id=\"b\" speed=\"1Gf\"><disk id=\"d2\" read_bw=\"1MBps\" write_bw=\"1MBps\">"
                  PROPS "</disk></host>\n");
    write_temp(good, sizeof(good), xml);
    platform_text(xml, sizeof(xml), "    <host id=\"a\" speed=\"fast\"/>\n");
    write_temp(bad, sizeof(bad), xml);

    vm_diag_clear(&d);
    ck_assert_int_eq(sim_platform_check(good, "", "", 0, NULL, &part, NULL, &d), 0);
    /* the default host is the first with a disk by id: b */
    ck_assert_int_eq(sim_platform_check(good, "", "d2", 0, NULL, &part, NULL, &d), 0);
    ck_assert_int_eq(sim_platform_check(good, "c", "d1", 0, NULL, &part, NULL, &d), 0);
    ck_assert_int_eq(sim_platform_check(good, "", "d1", 0, NULL, &part, NULL, &d), VM_ENOENT);
    ck_assert_str_eq(d.msg, "host 'b' has no disk 'd1'");
    ck_assert_int_eq(part, SIM_PLATFORM_DISK);
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_platform_check(good, "zz", "", 0, NULL, &part, NULL, &d), VM_ENOENT);
    ck_assert_str_eq(d.msg, "no host 'zz' in the platform");
    ck_assert_int_eq(part, SIM_PLATFORM_HOST);
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_platform_check(good, "a", "", 0, NULL, &part, NULL, &d), VM_ENOENT);
    ck_assert_str_eq(d.msg, "host 'a' has no disk");
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_platform_check(bad, "", "", 0, NULL, &part, NULL, &d), VM_EPARSE);
    ck_assert_msg(strstr(d.msg, "cannot parse number") != NULL, "got \"%s\"", d.msg);
    ck_assert_int_eq(part, SIM_PLATFORM_FILE);
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_platform_check("/nonexistent.xml", "", "", 0, NULL, &part, NULL, &d),
                     VM_ENOENT);
    unlink(good);
    unlink(bad);

    static const char *const shipped[][2] = {
        { "host-nvme.xml", "nvme0" }, { "host-sata.xml", "ssd0" }, { "host-hdd.xml", "hdd0" },
    };
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/workloads/platforms/%s", srcdir(), shipped[i][0]);
        vm_diag_clear(&d);
        struct sim_platform_info pi = { 0 };
        ck_assert_msg(sim_platform_check(path, "host0", shipped[i][1], 0, NULL, &part, &pi,
                                         &d) == 0, "%s: %s", path, d.msg);
        /* what the platforms say: 16 cores, at least 1 TiB */
        ck_assert_uint_eq(pi.host_cores, 16);
        ck_assert_uint_ge(pi.disk_capacity_bytes, 1ull << 40);
    }
}
END_TEST

/* Every disk must suit the disk model, as sim_disk_open would find. */
START_TEST(test_world_check_platform_checks_every_disks_props)
{
    struct vm_diag d;
    enum sim_platform_part part;
    ck_assert_int_eq(check_text("    <host id=\"h\" speed=\"1Gf\"><disk id=\"d\" read_bw=\"1MBps\" "
                                "write_bw=\"0MBps\">" PROPS "</disk></host>\n", "", "", 0, NULL,
                                &part, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "host 'h': disk 'd': read_bw and write_bw must be > 0 and finite");
    ck_assert_int_eq(check_text("    <host id=\"h\" speed=\"1Gf\"><disk id=\"d\" read_bw=\"1MBps\" "
                                "write_bw=\"-5MBps\">" PROPS "</disk></host>\n", "", "", 0, NULL,
                                &part, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "host 'h': disk 'd': read_bw and write_bw must be > 0 and finite");
    ck_assert_int_eq(check_text("    <host id=\"h\" speed=\"1Gf\"><disk id=\"d\" read_bw=\"1MBps\" "
                                "write_bw=\"1MBps\"/></host>\n", "", "", 0, NULL, &part, &d),
                     VM_EINVAL);
    ck_assert_msg(strstr(d.msg, "host 'h': disk 'd': missing prop 'read_lat'"), "%s", d.msg);
    /* a disk the run does not use counts too: the platform is one unit */
    ck_assert_int_eq(check_text("    <host id=\"h\" speed=\"1Gf\"><disk id=\"d\" read_bw=\"1MBps\" "
                                "write_bw=\"1MBps\">" PROPS "</disk>"
                                "<disk id=\"e\" read_bw=\"1MBps\" write_bw=\"1MBps\">"
                                "<prop id=\"read_lat\" value=\"fast\"/></disk></host>\n",
                                "h", "d", 0, NULL, &part, &d), VM_EINVAL);
    ck_assert_msg(strstr(d.msg, "disk 'e': prop 'read_lat'"), "%s", d.msg);
}
END_TEST

/* SimGrid aborts (xbt_die) or refuses: one line, SimGrid's own words. */
START_TEST(test_world_check_platform_turns_simgrid_aborts_into_one_line)
{
    struct vm_diag d;
    enum sim_platform_part part;
    ck_assert_int_eq(check_text("    <host id=\"h\" speed=\"1Gf\" core=\"0\"><disk id=\"d\" "
                                "read_bw=\"1MBps\" write_bw=\"1MBps\">" PROPS "</disk></host>\n",
                                "", "", 0, NULL, &part, &d), VM_EPARSE);
    ck_assert_int_eq(part, SIM_PLATFORM_FILE);
    ck_assert_msg(strstr(d.msg, "SimGrid cannot load it: Host h must have at least one core, "
                                "not 0") && !strchr(d.msg, '\n'), "%s", d.msg);
    ck_assert_int_eq(check_text("  <storage_type id=\"s\" size=\"1GiB\"/>\n", "", "", 0, NULL,
                                &part, &d), VM_EPARSE);
    ck_assert_msg(strstr(d.msg, "SimGrid cannot load it: <storage_type> tag was removed"),
                  "%s", d.msg);
    char bad_cfg[] = "--cfg=no/such:1";
    char *sg[] = { bad_cfg };
    ck_assert_int_eq(check_text("    <host id=\"h\" speed=\"1Gf\"><disk id=\"d\" read_bw=\"1MBps\" "
                                "write_bw=\"1MBps\">" PROPS "</disk></host>\n", "", "", 1, sg,
                                &part, &d), VM_EINVAL);
    ck_assert_int_eq(part, SIM_PLATFORM_OPTIONS);
    ck_assert_str_eq(d.msg, "SimGrid refused the options '--cfg=no/such:1': Bad config key: "
                            "no/such");
}
END_TEST

static uint64_t clock_a, clock_b;
static int wait_rc;

static void body_clock(void)
{
    const struct port_clock *c = sim_world_clock();
    sim_sleep_ns(1500);
    clock_a = port_clock_now_ns(c);
    wait_rc = sim_waitq_wait_for(wq, 250000);
    clock_b = port_clock_now_ns(c);
}

START_TEST(test_world_clock_sleep_and_wait_timeout_are_exact)
{
    char xml[2048], path[256];
    struct vm_diag d;

    platform_text(xml, sizeof(xml),
                  "    <host id=\"a\" speed=\"1Gf\"/>\n"
                  "    <host id=\"host0\" speed=\"1Gf\"><disk id=\"d\" read_bw=\"1MBps\" write_bw=\"1MBps\"/></host>\n");
    write_temp(path, sizeof(path), xml);
    sim_world_init(NULL, NULL);
    vm_diag_clear(&d);
    ck_assert_int_eq(sim_world_load_platform(path, &d), 0);
    unlink(path);
    ck_assert_str_eq(sg_host_get_name(sim_world_host("", &d)), "host0");
    ck_assert_ptr_null(sim_world_host("nope", &d));
    ck_assert_int_eq(d.code, VM_ENOENT);
    wq = sim_waitq_new();
    uint64_t act0 = sim_activity_count();
    run_in_sim(body_clock);
    ck_assert_uint_eq(clock_a, 1500);
    ck_assert_int_eq(wait_rc, VM_ETIMEDOUT);
    ck_assert_uint_eq(clock_b, 251500);
    ck_assert_uint_eq(sim_activity_count() - act0, 1);
    sim_waitq_free(wq);
}
END_TEST

START_TEST(test_world_init_consumes_simgrid_options)
{
    char a0[] = "prog", a1[] = "--cfg=contexts/stack-size:64", a2[] = "keep",
         a3[] = "--log=vmsim.thres:debug", a4[] = "too";
    char *argv[] = { a0, a1, a2, a3, a4, NULL };
    int argc = 5;

    sim_world_init(&argc, argv);
    ck_assert_int_eq(argc, 3);
    ck_assert_str_eq(argv[0], "prog");
    ck_assert_str_eq(argv[1], "keep");
    ck_assert_str_eq(argv[2], "too");
    ck_assert_ptr_null(argv[3]);
}
END_TEST

/* ---- close while the simulation runs ---- */

static Suite *world_suite(void)
{
    Suite *s = suite_create("world");
    TCase *tc = tcase_create("world");
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_world_malformed_platform_is_eparse);
    tcase_add_test(tc, test_world_check_platform_reports_without_simgrid_in_caller);
    tcase_add_test(tc, test_world_check_platform_checks_every_disks_props);
    tcase_add_test(tc, test_world_check_platform_turns_simgrid_aborts_into_one_line);
    tcase_add_test(tc, test_world_clock_sleep_and_wait_timeout_are_exact);
    tcase_add_test(tc, test_world_init_consumes_simgrid_options);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(world_suite());

    /* SimGrid runs once per process: every test needs its own. */
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
