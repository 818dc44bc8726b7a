/*
 * check_disk_requests.c - suite "disk", what requests to the simulated
 * disk (sim_disk.c) carry and how they fail: contents written and read
 * back, packed extents, vectored runs of unequal I/Os, out-of-range
 * requests, injected faults (errors, slow windows) and the disk's
 * properties.  What the disk takes time for is check_disk_timing.c; the
 * SimGrid glue under the disk is suite "world" (check_world.c).
 *
 * As there, every test runs in its own process (SimGrid runs once per
 * process), writes a small platform, runs its actors and asserts on what
 * they recorded (tests/disk_rig.*, tests/sim_rig.*); times are simulated
 * and asserted exactly.
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
#include "disk_rig.h"
#include "sim_disk.h"
#include "sim_platform.h"
#include "sim_rig.h"
#include "sim_world.h"

#ifndef VMSIM_SRCDIR
#define VMSIM_SRCDIR "."
#endif

/* ---- contents ---- */

static uint64_t got_fps[64];
static uint32_t got_nr_fps, got_len;
static char got_bytes[64];
static int rc_c, rc_d;

static void body_plain_read_back(void)
{
    struct port_blk *dev = sim_disk_port(disk_a);
    uint64_t fps[16];
    struct io io;

    for (int i = 0; i < 16; i++)
        fps[i] = vm_fp_page(11, 100 + (uint64_t)i, 1);
    /* a run of 4 I/Os of 4 blocks */
    io_prep(&io, PORT_BLK_WRITE, 100, 16, 4, fps);
    rc_a = io_run(dev, &io);
    memset(got_fps, 0xff, sizeof(got_fps));
    io_prep(&io, PORT_BLK_READ, 98, 20, 1, got_fps);
    rc_b = io_run(dev, &io);
}

START_TEST(test_disk_written_fingerprints_read_back)
{
    char d1[1024];
    world_with_disks(disk_xml(d1, sizeof(d1), "d0", "100MBps",
                              PROP("read_lat", "100us") PROP("write_lat", "100us")
                              PROP("qdepth", "4")));
    disk_a = open_disk("d0");
    wq = sim_waitq_new();
    run_in_sim(body_plain_read_back);

    ck_assert_int_eq(rc_a, 0);
    ck_assert_int_eq(rc_b, 0);
    ck_assert_uint_eq(got_fps[0], 0);                   /* never written */
    ck_assert_uint_eq(got_fps[1], 0);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(got_fps[2 + i], vm_fp_page(11, 100 + (uint64_t)i, 1));
    ck_assert_uint_eq(got_fps[18], 0);
    ck_assert_uint_eq(got_fps[19], 0);
    const struct sim_disk_stats *s = sim_disk_stats(disk_a);
    ck_assert_uint_eq(s->write_ios, 4);
    ck_assert_uint_eq(s->read_reqs, 1);
    ck_assert_uint_eq(s->read_bytes, 20ull * VM_PAGE_SIZE);
    sim_disk_close(disk_a);
    sim_waitq_free(wq);
}
END_TEST

static void body_packed_read_back(void)
{
    struct port_blk *dev = sim_disk_port(disk_a);
    uint64_t fps[10];
    static const char blob[] = "ckpt-hdr";
    struct io io;

    for (int i = 0; i < 10; i++)
        fps[i] = vm_fp_page(13, (uint64_t)i, 2);
    io_prep(&io, PORT_BLK_WRITE, 500, 3, 1, fps);
    io.req.packed = 1;
    io.req.nr_fps = 10;
    io.req.bytes = (void *)blob;
    io.req.len = sizeof(blob);
    rc_a = io_run(dev, &io);

    io_prep(&io, PORT_BLK_READ, 500, 3, 1, got_fps);
    io.req.packed = 1;
    io.req.nr_fps = 64;
    io.req.bytes = got_bytes;
    io.req.len = sizeof(got_bytes);
    rc_b = io_run(dev, &io);
    got_nr_fps = io.req.nr_fps;
    got_len = io.req.len;

    /* not the extent's first block */
    uint64_t other[4];
    io_prep(&io, PORT_BLK_READ, 501, 1, 1, other);
    io.req.packed = 1;
    io.req.nr_fps = 4;
    rc_c = io_run(dev, &io);
    /* a plain read over the packed extent */
    io_prep(&io, PORT_BLK_READ, 499, 2, 1, other);
    rc_d = io_run(dev, &io);
}

START_TEST(test_disk_packed_extent_reads_back_whole)
{
    char d1[1024];
    world_with_disks(disk_xml(d1, sizeof(d1), "d0", "100MBps",
                              PROP("read_lat", "100us") PROP("write_lat", "100us")
                              PROP("qdepth", "4")));
    disk_a = open_disk("d0");
    wq = sim_waitq_new();
    run_in_sim(body_packed_read_back);

    ck_assert_int_eq(rc_a, 0);
    ck_assert_int_eq(rc_b, 0);
    ck_assert_uint_eq(got_nr_fps, 10);
    ck_assert_uint_eq(got_len, sizeof("ckpt-hdr"));
    ck_assert_str_eq(got_bytes, "ckpt-hdr");
    for (int i = 0; i < 10; i++)
        ck_assert_uint_eq(got_fps[i], vm_fp_page(13, (uint64_t)i, 2));
    ck_assert_int_eq(rc_c, VM_ENOENT);
    ck_assert_int_eq(rc_d, VM_EINVAL);
    sim_disk_close(disk_a);
    sim_waitq_free(wq);
}
END_TEST

/* ---- a vectored run of unequal I/Os: the non-zero runs of a chunk ---- */

static uint64_t run_fps[8];

static void body_unequal_run(void)
{
    struct port_blk *dev = sim_disk_port(disk_a);
    static const uint64_t lbas[3] = { 10, 50, 20 };
    static const uint32_t lens[3] = { 4, 1, 2 };
    uint64_t fps[7];
    struct io io;

    for (int i = 0; i < 7; i++)
        fps[i] = 100 + (uint64_t)i;
    io_prep(&io, PORT_BLK_WRITE, 10, 7, 3, fps);
    io.req.lbas = lbas;
    io.req.io_blocks = lens;
    rc_a = io_run(dev, &io);
    lat_a = latency_ns(&io);
    /* lengths that do not add up, and lengths without a vectored run */
    static const uint32_t short_lens[3] = { 4, 1, 1 };
    io_prep(&io, PORT_BLK_WRITE, 10, 7, 3, fps);
    io.req.lbas = lbas;
    io.req.io_blocks = short_lens;
    rc_b = io_submit(dev, &io) == 0 ? (io_wait(&io), io.rc) : VM_EINVAL;
    io_prep(&io, PORT_BLK_WRITE, 10, 7, 3, fps);
    io.req.io_blocks = lens;
    rc_c = io_submit(dev, &io);
    io_prep(&io, PORT_BLK_READ, 10, 1, 1, run_fps);
    io_run(dev, &io);
    io_prep(&io, PORT_BLK_READ, 20, 6, 1, run_fps + 1);
    io_run(dev, &io);
    io_prep(&io, PORT_BLK_READ, 50, 1, 1, run_fps + 7);
    io_run(dev, &io);
}

/* Each run is its own I/O (one latency each at depth 1) and its blocks
 * land where the run says; the time depends on nr_ios and nr_blocks only. */
START_TEST(test_disk_vectored_run_of_unequal_ios_lands_each_run)
{
    char d1[1024];
    world_with_disks(disk_xml(d1, sizeof(d1), "d0", "100MBps",
                              PROP("read_lat", "100us") PROP("write_lat", "100us")
                              PROP("qdepth", "1")));
    disk_a = open_disk("d0");
    wq = sim_waitq_new();
    run_in_sim(body_unequal_run);

    ck_assert_int_eq(rc_a, 0);
    uint64_t xfer = xfer_ns(7ull * VM_PAGE_SIZE, 100 * MB);
    ck_assert_uint_le(llabs((long long)lat_a - (long long)(3 * 100000 + xfer)), 1000);
    ck_assert_int_eq(rc_b, VM_ERANGE);                 /* 6 blocks of lengths for 7 */
    ck_assert_int_eq(rc_c, VM_EINVAL);
    ck_assert_uint_eq(run_fps[0], 100);                /* lba 10: the first run */
    ck_assert_uint_eq(run_fps[1], 105);                /* lba 20, 21: the third */
    ck_assert_uint_eq(run_fps[2], 106);
    ck_assert_uint_eq(run_fps[3], 0);                  /* lba 22: a hole */
    ck_assert_uint_eq(run_fps[7], 104);                /* lba 50: the second */
    ck_assert_uint_eq(sim_disk_stats(disk_a)->write_ios, 3);
    sim_disk_close(disk_a);
    sim_waitq_free(wq);
}
END_TEST

/* ---- out of range and bad requests ---- */

static struct io io_x[4];
static int submit_rc[5];

static void body_out_of_range(void)
{
    struct port_blk *dev = sim_disk_port(disk_a);
    static uint64_t fps[16];

    for (int i = 0; i < 16; i++)
        fps[i] = 1 + (uint64_t)i;
    io_prep(&io_x[0], PORT_BLK_WRITE, 250, 10, 1, fps);   /* crosses the end */
    io_prep(&io_x[1], PORT_BLK_WRITE, 256, 1, 1, fps);    /* just past it */
    io_prep(&io_x[2], PORT_BLK_READ, UINT64_MAX, 1, 1, fps);
    io_prep(&io_x[3], PORT_BLK_WRITE, 255, 1, 1, fps);    /* the last block */
    for (int i = 0; i < 4; i++)
        submit_rc[i] = io_submit(dev, &io_x[i]);
    /* malformed: refused by submit, no callback */
    struct io bad;
    io_prep(&bad, PORT_BLK_WRITE, 0, 2, 3, fps);
    submit_rc[4] = io_submit(dev, &bad);
    for (int i = 0; i < 4; i++)
        io_wait(&io_x[i]);
}

START_TEST(test_disk_out_of_range_request_fails_with_erange)
{
    char d1[1024];
    world_with_disks(disk_xml(d1, sizeof(d1), "d0", "100MBps",
                              PROP("read_lat", "100us") PROP("write_lat", "100us")
                              PROP("qdepth", "4") PROP("capacity", "1MiB")));
    disk_a = open_disk("d0");
    ck_assert_uint_eq(port_blk_nr_blocks(sim_disk_port(disk_a)), 256);
    wq = sim_waitq_new();
    run_in_sim(body_out_of_range);

    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(submit_rc[i], 0);
        ck_assert_int_eq(io_x[i].done_in_submit, 0);
    }
    ck_assert_int_eq(submit_rc[4], VM_EINVAL);
    ck_assert_int_eq(io_x[0].rc, VM_ERANGE);
    ck_assert_int_eq(io_x[1].rc, VM_ERANGE);
    ck_assert_int_eq(io_x[2].rc, VM_ERANGE);
    ck_assert_int_eq(io_x[3].rc, 0);
    ck_assert_uint_eq(sim_disk_stats(disk_a)->write_reqs, 1);
    sim_disk_close(disk_a);
    sim_waitq_free(wq);
}
END_TEST

/* ---- injected faults ---- */

static int rcs[8];
static uint64_t lats[8];
static uint64_t after_fp;

static void body_write_sequence(void)
{
    struct port_blk *dev = sim_disk_port(disk_a);
    struct io io;

    for (int i = 0; i < 6; i++) {
        uint64_t fp = vm_fp_page(17, (uint64_t)i, 1);
        io_prep(&io, PORT_BLK_WRITE, (uint64_t)i, 1, 1, &fp);
        rcs[i] = io_run(dev, &io);
        lats[i] = latency_ns(&io);
    }
    /* reads are not affected by write faults */
    io_prep(&io, PORT_BLK_READ, 3, 1, 1, &after_fp);
    rcs[6] = io_run(dev, &io);
    /* a run of 20 I/Os */
    uint64_t fps[20] = { 0 };
    for (int i = 0; i < 20; i++)
        fps[i] = 1 + (uint64_t)i;
    io_prep(&io, PORT_BLK_WRITE, 100, 20, 20, fps);
    rcs[7] = io_run(dev, &io);
}

static void fault_world(void)
{
    char d1[1024];
    world_with_disks(disk_xml(d1, sizeof(d1), "d0", "100MBps",
                              PROP("read_lat", "100us") PROP("write_lat", "100us")
                              PROP("qdepth", "1")));
    disk_a = open_disk("d0");
    wq = sim_waitq_new();
}

START_TEST(test_disk_injected_write_error_fails_once)
{
    fault_world();
    struct sim_exp_fault f = { .kind = SIM_FAULT_DISK_ERROR, .on_write = true,
                               .after_ios = 3, .count = 1 };
    ck_assert_int_eq(sim_disk_add_fault(disk_a, &f), 0);
    run_in_sim(body_write_sequence);

    uint64_t x4k = xfer_ns(VM_PAGE_SIZE, 100 * MB);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(rcs[i], 0);
        ck_assert_uint_le(llabs((long long)lats[i] - (long long)(100000 + x4k)), 10);
    }
    ck_assert_int_eq(rcs[3], VM_EIO);
    ck_assert_uint_eq(lats[3], 100000);                 /* its latency, no transfer */
    ck_assert_int_eq(rcs[4], 0);
    ck_assert_int_eq(rcs[5], 0);
    ck_assert_int_eq(rcs[6], 0);
    ck_assert_uint_eq(after_fp, 0);                      /* the failed write left nothing */
    ck_assert_int_eq(rcs[7], 0);
    ck_assert_uint_eq(sim_disk_stats(disk_a)->errors, 1);
    sim_disk_close(disk_a);
    sim_waitq_free(wq);
}
END_TEST

START_TEST(test_disk_persistent_write_error_fails_every_later_write)
{
    fault_world();
    struct sim_exp_fault f = { .kind = SIM_FAULT_DISK_ERROR, .on_write = true,
                               .after_ios = 2, .count = 0 };
    ck_assert_int_eq(sim_disk_add_fault(disk_a, &f), 0);
    run_in_sim(body_write_sequence);

    ck_assert_int_eq(rcs[0], 0);
    ck_assert_int_eq(rcs[1], 0);
    for (int i = 2; i < 6; i++)
        ck_assert_int_eq(rcs[i], VM_EIO);
    ck_assert_int_eq(rcs[6], 0);                         /* reads still work */
    ck_assert_int_eq(rcs[7], VM_EIO);
    ck_assert_uint_eq(sim_disk_stats(disk_a)->errors, 5);
    sim_disk_close(disk_a);
    sim_waitq_free(wq);
}
END_TEST

START_TEST(test_disk_error_inside_a_run_fails_the_run)
{
    fault_world();
    /* the 6 single writes are I/Os 0..5; the run covers 6..25 */
    struct sim_exp_fault f = { .kind = SIM_FAULT_DISK_ERROR, .on_write = true,
                               .after_ios = 20, .count = 1 };
    ck_assert_int_eq(sim_disk_add_fault(disk_a, &f), 0);
    run_in_sim(body_write_sequence);

    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(rcs[i], 0);
    ck_assert_int_eq(rcs[7], VM_EIO);
    ck_assert_uint_eq(sim_disk_stats(disk_a)->errors, 1);
    sim_disk_close(disk_a);
    sim_waitq_free(wq);
}
END_TEST

static void body_slow(void)
{
    struct port_blk *dev = sim_disk_port(disk_a);
    struct io io;

    io_prep(&io, PORT_BLK_FLUSH, 0, 0, 1, NULL);
    rc_a = io_run(dev, &io);                              /* at 0: slowed */
    lat_a = latency_ns(&io);
    sim_sleep_ns(2000000 - sim_now_ns());                 /* to 2 ms: not covered */
    io_prep(&io, PORT_BLK_FLUSH, 0, 0, 1, NULL);
    rc_b = io_run(dev, &io);
    lat_b = latency_ns(&io);
    sim_sleep_ns(5000000 - sim_now_ns());                 /* to 5 ms: two windows */
    io_prep(&io, PORT_BLK_FLUSH, 0, 0, 1, NULL);
    rc_c = io_run(dev, &io);
    lat_c = latency_ns(&io);
}

START_TEST(test_disk_slow_window_multiplies_latency)
{
    char d1[1024];
    world_with_disks(disk_xml(d1, sizeof(d1), "d0", "100MBps",
                              PROP("read_lat", "100us") PROP("write_lat", "100us")
                              PROP("flush_lat", "200us") PROP("qdepth", "1")));
    disk_a = open_disk("d0");
    wq = sim_waitq_new();
    struct sim_exp_fault s1 = { .kind = SIM_FAULT_DISK_SLOW, .factor = 10,
                                .from_ns = 0, .until_ns = 2000000 };
    struct sim_exp_fault s2 = { .kind = SIM_FAULT_DISK_SLOW, .factor = 3,
                                .from_ns = 4000000, .until_ns = 6000000 };
    struct sim_exp_fault s3 = { .kind = SIM_FAULT_DISK_SLOW, .factor = 2,
                                .from_ns = 5000000, .until_ns = 5000001 };
    ck_assert_int_eq(sim_disk_add_fault(disk_a, &s1), 0);
    ck_assert_int_eq(sim_disk_add_fault(disk_a, &s2), 0);
    ck_assert_int_eq(sim_disk_add_fault(disk_a, &s3), 0);
    uint64_t act0 = sim_activity_count();
    run_in_sim(body_slow);

    ck_assert_int_eq(rc_a, 0);
    ck_assert_int_eq(rc_b, 0);
    ck_assert_int_eq(rc_c, 0);
    ck_assert_uint_eq(lat_a, 2000000);                   /* 200 us x 10 */
    ck_assert_uint_eq(lat_b, 200000);                    /* [from, until): 2 ms is out */
    ck_assert_uint_eq(lat_c, 1200000);                   /* 200 us x 3 x 2 */
    ck_assert_uint_eq(sim_disk_stats(disk_a)->flushes, 3);
    /* a flush is one sleep; the test slept once (at 2 ms it had nothing to wait) */
    ck_assert_uint_eq(sim_activity_count() - act0, 4);
    for (int i = 0; i < SIM_MAX_FAULTS - 3; i++)
        ck_assert_int_eq(sim_disk_add_fault(disk_a, &s3), 0);
    ck_assert_int_eq(sim_disk_add_fault(disk_a, &s3), VM_ENOSPC);
    sim_disk_close(disk_a);
    sim_waitq_free(wq);
}
END_TEST

/* Faults set with an origin (a mechanism's episode): windows count from
 * t0, a fault of another kind is left out, the earlier list is replaced. */
START_TEST(test_disk_set_faults_counts_windows_from_t0)
{
    char d1[1024];
    world_with_disks(disk_xml(d1, sizeof(d1), "d0", "100MBps",
                              PROP("read_lat", "100us") PROP("write_lat", "100us")
                              PROP("flush_lat", "200us") PROP("qdepth", "1")));
    disk_a = open_disk("d0");
    wq = sim_waitq_new();
    struct sim_exp_fault old = { .kind = SIM_FAULT_DISK_SLOW, .factor = 7,
                                 .from_ns = 0, .until_ns = UINT64_MAX };
    ck_assert_int_eq(sim_disk_add_fault(disk_a, &old), 0);
    const struct sim_exp_fault f[] = {
        { .kind = SIM_FAULT_DISK_SLOW, .factor = 10, .from_ns = 0, .until_ns = 2000000 },
        { .kind = SIM_FAULT_HOST_CRASH, .at_ns = 0 },
        { .kind = SIM_FAULT_DISK_SLOW, .factor = 3, .from_ns = 4000000, .until_ns = 6000000 },
    };
    ck_assert_int_eq(sim_disk_set_faults(disk_a, f, 3, 1000000), 0);
    run_in_sim(body_slow);

    ck_assert_uint_eq(lat_a, 200000);                    /* at 0, before t0 = 1 ms */
    ck_assert_uint_eq(lat_b, 2000000);                   /* at 2 ms: t0 + [0, 2 ms), x 10 */
    ck_assert_uint_eq(lat_c, 600000);                    /* at 5 ms: t0 + [4, 6 ms), x 3 */
    ck_assert_int_eq(sim_disk_set_faults(disk_a, NULL, 0, 0), 0);
    sim_disk_close(disk_a);
    sim_waitq_free(wq);
}
END_TEST

/* ---- props ---- */

START_TEST(test_disk_missing_or_bad_prop_is_einval_naming_it)
{
    static const struct {
        const char *id, *props, *names;
    } cases[] = {
        { "no_wlat", PROP("read_lat", "80us") PROP("qdepth", "4"), "missing prop 'write_lat'" },
        { "no_rlat", PROP("write_lat", "80us") PROP("qdepth", "4"), "missing prop 'read_lat'" },
        { "no_qd", PROP("read_lat", "80us") PROP("write_lat", "80us"), "missing prop 'qdepth'" },
        { "unitless", PROP("read_lat", "80") PROP("write_lat", "80us") PROP("qdepth", "4"),
          "prop 'read_lat': expected a time with a unit" },
        { "qd0", PROP("read_lat", "80us") PROP("write_lat", "80us") PROP("qdepth", "0"),
          "prop 'qdepth': expected an integer 1..65536, got '0'" },
        { "qdx", PROP("read_lat", "80us") PROP("write_lat", "80us") PROP("qdepth", "4x"),
          "prop 'qdepth'" },
        { "iops", PROP("read_lat", "80us") PROP("write_lat", "80us") PROP("qdepth", "4")
                  PROP("iops", "-5"), "prop 'iops'" },
        { "cap", PROP("read_lat", "80us") PROP("write_lat", "80us") PROP("qdepth", "4")
                 PROP("capacity", "12parsecs"), "prop 'capacity'" },
        { "cap0", PROP("read_lat", "80us") PROP("write_lat", "80us") PROP("qdepth", "4")
                  PROP("capacity", "100B"), "prop 'capacity'" },
        { "flush", PROP("read_lat", "80us") PROP("write_lat", "80us") PROP("qdepth", "4")
                   PROP("flush_lat", "soon"), "prop 'flush_lat'" },
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    char all[16384] = "", one[1024];

    for (size_t i = 0; i < n; i++)
        strcat(all, disk_xml(one, sizeof(one), cases[i].id, "100MBps", cases[i].props));
    world_with_disks(all);
    sg_host_t h = sg_host_by_name("host0");
    for (size_t i = 0; i < n; i++) {
        struct vm_diag d;
        vm_diag_clear(&d);
        ck_assert_ptr_null(sim_disk_open(h, cases[i].id, &d));
        ck_assert_int_eq(d.code, VM_EINVAL);
        ck_assert_msg(strstr(d.msg, cases[i].names) != NULL, "disk '%s': got \"%s\"",
                      cases[i].id, d.msg);
        ck_assert_msg(strstr(d.msg, cases[i].id) != NULL, "no disk name in \"%s\"", d.msg);
    }
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_ptr_null(sim_disk_open(h, "nosuch", &d));
    ck_assert_int_eq(d.code, VM_ENOENT);
    ck_assert_str_eq(d.msg, "host 'host0' has no disk 'nosuch'");
}
END_TEST

static struct io close_io[8];

static void body_close_drains(void)
{
    struct port_blk *dev = sim_disk_port(disk_a);
    static uint64_t fps[8];

    for (int i = 0; i < 8; i++) {
        fps[i] = 1 + (uint64_t)i;
        io_prep(&close_io[i], PORT_BLK_WRITE, (uint64_t)i, 1, 1, &fps[i]);
        ck_assert_int_eq(io_submit(dev, &close_io[i]), 0);
    }
    sim_disk_close(disk_a);        /* queued requests still complete */
    for (int i = 0; i < 8; i++)
        io_wait(&close_io[i]);
    t_end = sim_now_ns();
}

START_TEST(test_disk_close_in_simulation_completes_queued_requests)
{
    char d1[1024];
    world_with_disks(disk_xml(d1, sizeof(d1), "d0", "100MBps",
                              PROP("read_lat", "100us") PROP("write_lat", "100us")
                              PROP("qdepth", "2")));
    disk_a = open_disk("d0");
    wq = sim_waitq_new();
    run_in_sim(body_close_drains);
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(close_io[i].rc, 0);
    /* 4 waves of 2 in flight; the pair shares the bandwidth */
    uint64_t x4k = xfer_ns(VM_PAGE_SIZE, 100 * MB);
    ck_assert_uint_le(llabs((long long)t_end - (long long)(4 * (100000 + 2 * x4k))), 10);
    sim_waitq_free(wq);
}
END_TEST

static Suite *disk_suite(void)
{
    Suite *s = suite_create("disk");
    TCase *tc = tcase_create("model");

    /* simulated time only; no wall-clock limit */
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_disk_written_fingerprints_read_back);
    tcase_add_test(tc, test_disk_packed_extent_reads_back_whole);
    tcase_add_test(tc, test_disk_vectored_run_of_unequal_ios_lands_each_run);
    tcase_add_test(tc, test_disk_out_of_range_request_fails_with_erange);
    tcase_add_test(tc, test_disk_injected_write_error_fails_once);
    tcase_add_test(tc, test_disk_persistent_write_error_fails_every_later_write);
    tcase_add_test(tc, test_disk_error_inside_a_run_fails_the_run);
    tcase_add_test(tc, test_disk_slow_window_multiplies_latency);
    tcase_add_test(tc, test_disk_set_faults_counts_windows_from_t0);
    tcase_add_test(tc, test_disk_missing_or_bad_prop_is_einval_naming_it);
    tcase_add_test(tc, test_disk_close_in_simulation_completes_queued_requests);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(disk_suite());

    /* SimGrid runs once per process: every test needs its own. */
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
