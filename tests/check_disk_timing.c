/*
 * check_disk_timing.c - suite "disk", what the simulated disk
 * (sim_disk.c) takes time for: latency of QD1 writes (and the worker's
 * hand-over to a fresh actor: busy, idle, as the simulation ends),
 * bandwidth of a
 * large write, queue depth, a million writes as runs, the IOPS limit and
 * fair sharing between streams.  What requests carry and how they fail is
 * check_disk_requests.c; the SimGrid glue under the disk is suite "world"
 * (check_world.c).
 *
 * SimGrid runs once per process, so every test runs in its own process
 * (Check's fork mode, forced in main): it writes a small platform to a
 * temporary file, initialises SimGrid, runs its actors and asserts on what
 * they recorded once simgrid_run() has returned (tests/disk_rig.*,
 * tests/sim_rig.*).  Times are simulated, so they are asserted exactly (to
 * the nanosecond where the model is exact, to 1 us where SimGrid's
 * bandwidth sharing rounds).
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

/* ---- latency: 10,000 QD1 4 KiB writes ---- */

static uint64_t qd1_writes = 10000;
static uint64_t qd1_pause_ns;           /* after each write */

static void body_qd1_writes(void)
{
    struct port_blk *dev = sim_disk_port(disk_a);
    struct io io;

    t_start = sim_now_ns();
    for (uint64_t i = 0; i < qd1_writes; i++) {
        uint64_t fp = vm_fp_page(1, i, 1);
        io_prep(&io, PORT_BLK_WRITE, i, 1, 1, &fp);
        int rc = io_run(dev, &io);
        if (rc != 0 && rc_a == 0)
            rc_a = rc;
        sim_sleep_ns(qd1_pause_ns);
    }
    t_end = sim_now_ns();
}

/* A 100 MB/s disk with 100 us latencies at queue depth 1, and the wait
 * queue the I/O helpers use. */
static void qd1_world(void)
{
    char d1[1024];
    world_with_disks(disk_xml(d1, sizeof(d1), "d0", "100MBps",
                              PROP("read_lat", "100us") PROP("write_lat", "100us")
                              PROP("qdepth", "1")));
    disk_a = open_disk("d0");
    wq = sim_waitq_new();
}

static void qd1_close(void)
{
    sim_disk_close(disk_a);
    sim_waitq_free(wq);
}

/* Block i holds what body_qd1_writes wrote there. */
static void assert_written(uint64_t i)
{
    uint64_t fp = 0;
    ck_assert_int_eq(vm_fpstore_get(sim_disk_store(disk_a), i, 1, &fp), 0);
    ck_assert_uint_eq(fp, vm_fp_page(1, i, 1));
}

START_TEST(test_disk_qd1_4k_writes_pay_latency_each)
{
    qd1_world();
    uint64_t act0 = sim_activity_count();
    run_in_sim(body_qd1_writes);

    ck_assert_int_eq(rc_a, 0);
    uint64_t elapsed = t_end - t_start;
    uint64_t xfer = xfer_ns(VM_PAGE_SIZE, 100 * MB);      /* 40,960 ns */
    ck_assert_uint_ge(elapsed, 1000000000ull);          /* >= 10,000 x 100 us */
    ck_assert_uint_le(elapsed, 1000000000ull + 10000 * xfer + 1000);
    ck_assert_uint_ge(elapsed, 1000000000ull + 10000 * xfer - 1000);
    const struct sim_disk_stats *s = sim_disk_stats(disk_a);
    ck_assert_uint_eq(s->write_reqs, 10000);
    ck_assert_uint_eq(s->write_ios, 10000);
    ck_assert_uint_eq(s->write_bytes, 10000ull * VM_PAGE_SIZE);
    ck_assert_uint_eq(s->write_lat_ns.count, 10000);
    ck_assert_uint_eq(s->errors, 0);
    /* one sleep and one disk activity per request */
    ck_assert_uint_eq(sim_activity_count() - act0, 20000);
    assert_written(9999);
    /* At QD1 the body queues its next write before the worker looks for
     * one (the completion's wake is a simcall): the worker is busy when
     * it has served 4,096, and hands over with the queue not empty, twice */
    ck_assert_uint_eq(s->workers, 3);
    qd1_close();
}
END_TEST

/* 8,192 QD1 writes: the second worker has served its 4,096 when the
 * body is done, finds the queue empty and hands over as the simulation
 * ends (its last ordinary actor, the body, has returned).  The new worker
 * must become a daemon and be killed like the others: the run ends (no
 * "daemon actors cannot do any blocking activity" abort) and, under
 * LeakSanitizer, no SimGrid actor record is left behind. */
START_TEST(test_disk_worker_hands_over_as_the_simulation_ends)
{
    qd1_world();
    qd1_writes = 8192;
    run_in_sim(body_qd1_writes);

    ck_assert_int_eq(rc_a, 0);
    const struct sim_disk_stats *s = sim_disk_stats(disk_a);
    ck_assert_uint_eq(s->write_reqs, 8192);
    ck_assert_uint_eq(s->workers, 3);
    assert_written(8191);
    qd1_close();
}
END_TEST

/* 5,000 QD1 writes with a 1 ms pause after each, so the worker finds the
 * queue empty after every one: it hands over after its 4,096th, mid-run;
 * the second serves the other 904, too few to hand over at the end. */
START_TEST(test_disk_idle_worker_hands_over_mid_run)
{
    qd1_world();
    qd1_writes = 5000;
    qd1_pause_ns = 1000000;
    run_in_sim(body_qd1_writes);

    ck_assert_int_eq(rc_a, 0);
    const struct sim_disk_stats *s = sim_disk_stats(disk_a);
    ck_assert_uint_eq(s->write_reqs, 5000);
    ck_assert_uint_eq(s->workers, 2);
    for (uint64_t i = 0; i < 5000; i += 999)
        assert_written(i);
    qd1_close();
}
END_TEST

/* ---- bandwidth: one 1 GiB write on the shipped NVMe platform ---- */

static void body_one_gib_write(void)
{
    uint32_t n = (uint32_t)((1ull << 30) / VM_PAGE_SIZE);
    uint64_t *fps = malloc(n * sizeof(*fps));
    struct io io;

    for (uint32_t i = 0; i < n; i++)
        fps[i] = vm_fp_page(7, i, 1);
    io_prep(&io, PORT_BLK_WRITE, 0, n, 1, fps);
    rc_a = io_run(sim_disk_port(disk_a), &io);
    lat_a = latency_ns(&io);
    free(fps);
}

START_TEST(test_disk_large_write_runs_at_disk_bandwidth)
{
    char path[2048];
    struct vm_diag d;

    snprintf(path, sizeof(path), "%s/workloads/platforms/host-nvme.xml", srcdir());
    vm_diag_clear(&d);
    sim_world_init(NULL, NULL);
    ck_assert_msg(sim_world_load_platform(path, &d) == 0, "%s", d.msg);
    disk_a = open_disk("nvme0");
    const struct sim_disk_props *p = sim_disk_props(disk_a);
    ck_assert_uint_eq(p->read_lat_ns, 80000);
    ck_assert_uint_eq(p->write_lat_ns, 20000);
    ck_assert_uint_eq(p->flush_lat_ns, 20000);
    ck_assert_uint_eq(p->qdepth, 32);
    ck_assert(p->iops == 700000.0);
    ck_assert(p->write_bps == 3000 * MB);
    ck_assert(p->read_bps == 3500 * MB);
    ck_assert_uint_eq(p->capacity_bytes, 4000000000000ull);
    wq = sim_waitq_new();
    run_in_sim(body_one_gib_write);

    ck_assert_int_eq(rc_a, 0);
    double ideal = (double)(1ull << 30) / (3000 * MB) * 1e9;
    ck_assert_msg(fabs((double)lat_a - ideal) <= 0.01 * ideal,
                  "1 GiB took %llu ns, size/bandwidth is %.0f ns", (unsigned long long)lat_a, ideal);
    /* exactly: one latency, then the transfer */
    ck_assert_uint_le(llabs((long long)lat_a - (long long)(20000 + llround(ideal))), 1000);
    sim_disk_close(disk_a);
    sim_waitq_free(wq);
}
END_TEST

/* ---- queue depth: a run of 10,000 I/Os pays ceil(n / qdepth) latencies ---- */

static void body_run_waves(void)
{
    uint64_t *fps = calloc(10000, sizeof(*fps));
    struct io io;

    for (int i = 0; i < 10000; i++)
        fps[i] = vm_fp_page(3, (uint64_t)i, 1);
    io_prep(&io, PORT_BLK_WRITE, 0, 10000, 10000, fps);
    rc_a = io_run(sim_disk_port(disk_a), &io);
    lat_a = latency_ns(&io);
    io_prep(&io, PORT_BLK_WRITE, 0, 10000, 10000, fps);
    rc_b = io_run(sim_disk_port(disk_b), &io);
    lat_b = latency_ns(&io);
    free(fps);
}

START_TEST(test_disk_run_request_pays_one_latency_per_queue_wave)
{
    char d1[1024], d2[1024], both[2048];
    disk_xml(d1, sizeof(d1), "qd32", "100MBps",
             PROP("read_lat", "100us") PROP("write_lat", "100us") PROP("qdepth", "32"));
    /* deeper than the 64 worker actors: the waves still use 100 */
    disk_xml(d2, sizeof(d2), "qd100", "100MBps",
             PROP("read_lat", "100us") PROP("write_lat", "100us") PROP("qdepth", "100"));
    snprintf(both, sizeof(both), "%s%s", d1, d2);
    world_with_disks(both);
    disk_a = open_disk("qd32");
    disk_b = open_disk("qd100");
    wq = sim_waitq_new();
    run_in_sim(body_run_waves);

    ck_assert_int_eq(rc_a, 0);
    ck_assert_int_eq(rc_b, 0);
    uint64_t xfer = xfer_ns(10000ull * VM_PAGE_SIZE, 100 * MB);
    ck_assert_uint_le(llabs((long long)lat_a - (long long)(313 * 100000 + xfer)), 1000);
    ck_assert_uint_le(llabs((long long)lat_b - (long long)(100 * 100000 + xfer)), 1000);
    ck_assert_uint_eq(sim_disk_stats(disk_a)->write_ios, 10000);
    ck_assert_uint_eq(sim_disk_stats(disk_a)->write_reqs, 1);
    sim_disk_close(disk_a);
    sim_disk_close(disk_b);
    sim_waitq_free(wq);
}
END_TEST

/* ---- scale: 1,000,000 4 KiB writes as 1,000 runs of 1,000 ---- */

static void body_million_writes(void)
{
    struct port_blk *dev = sim_disk_port(disk_a);
    uint64_t *fps = malloc(1000 * sizeof(*fps));
    struct io io;

    t_start = sim_now_ns();
    for (uint64_t r = 0; r < 1000; r++) {
        for (uint64_t i = 0; i < 1000; i++)
            fps[i] = vm_fp_page(21, r * 1000 + i, 1);
        io_prep(&io, PORT_BLK_WRITE, r * 1000, 1000, 1000, fps);
        int rc = io_run(dev, &io);
        if (rc != 0 && rc_a == 0)
            rc_a = rc;
    }
    t_end = sim_now_ns();
    free(fps);
}

START_TEST(test_disk_million_writes_as_runs_cost_two_activities_per_run)
{
    char path[2048];
    struct vm_diag d;

    snprintf(path, sizeof(path), "%s/workloads/platforms/host-nvme.xml", srcdir());
    vm_diag_clear(&d);
    sim_world_init(NULL, NULL);
    ck_assert_msg(sim_world_load_platform(path, &d) == 0, "%s", d.msg);
    disk_a = open_disk("nvme0");
    wq = sim_waitq_new();
    uint64_t act0 = sim_activity_count();
    run_in_sim(body_million_writes);

    ck_assert_int_eq(rc_a, 0);
    const struct sim_disk_stats *s = sim_disk_stats(disk_a);
    ck_assert_uint_eq(s->write_reqs, 1000);
    ck_assert_uint_eq(s->write_ios, 1000000);
    ck_assert_uint_eq(s->write_bytes, 1000000ull * VM_PAGE_SIZE);
    ck_assert_uint_eq(sim_activity_count() - act0, 2000);
    /* per run: max(ceil(1000/32) x 20 us, 1000 / 700,000 IOPS) then 4 MB at 3 GB/s */
    uint64_t hold = (uint64_t)ceil(1000 * 1e9 / 700000);        /* 1,428,572 ns > 640 us */
    uint64_t per_run = hold + xfer_ns(1000ull * VM_PAGE_SIZE, 3000 * MB);
    ck_assert_uint_le(llabs((long long)(t_end - t_start) - (long long)(1000 * per_run)), 2000);
    uint64_t fp = 0;
    ck_assert_int_eq(vm_fpstore_get(sim_disk_store(disk_a), 999999, 1, &fp), 0);
    ck_assert_uint_eq(fp, vm_fp_page(21, 999999, 1));
    sim_disk_close(disk_a);
    sim_waitq_free(wq);
}
END_TEST

/* ---- IOPS limit ---- */

static void body_iops(void)
{
    struct port_blk *dev = sim_disk_port(disk_a);
    struct io *ios = calloc(5000, sizeof(*ios));
    uint64_t *fps = calloc(5000, sizeof(*fps));

    /* 5,000 single I/Os submitted at once, 32 in flight */
    t_start = sim_now_ns();
    for (uint32_t i = 0; i < 5000; i++) {
        fps[i] = vm_fp_page(5, i, 1);
        io_prep(&ios[i], PORT_BLK_WRITE, i, 1, 1, &fps[i]);
        ck_assert_int_eq(io_submit(dev, &ios[i]), 0);
    }
    for (uint32_t i = 0; i < 5000; i++) {
        io_wait(&ios[i]);
        if (ios[i].rc != 0 && rc_a == 0)
            rc_a = ios[i].rc;
    }
    t_mid = sim_now_ns();
    /* the same as one run request */
    io_prep(&ios[0], PORT_BLK_WRITE, 0, 5000, 5000, fps);
    rc_b = io_run(dev, &ios[0]);
    t_end = sim_now_ns();
    free(fps);
    free(ios);
}

START_TEST(test_disk_iops_limit_holds)
{
    char d1[1024];
    world_with_disks(disk_xml(d1, sizeof(d1), "d0", "1000MBps",
                              PROP("read_lat", "10us") PROP("write_lat", "10us")
                              PROP("qdepth", "32") PROP("iops", "1000")));
    disk_a = open_disk("d0");
    wq = sim_waitq_new();
    run_in_sim(body_iops);

    ck_assert_int_eq(rc_a, 0);
    ck_assert_int_eq(rc_b, 0);
    uint64_t one = xfer_ns(VM_PAGE_SIZE, 1000 * MB);
    /* the last single I/O is released at 5 s and then moves 4 KiB */
    ck_assert_uint_ge(t_mid - t_start, 5000000000ull);
    ck_assert_uint_le(t_mid - t_start, 5000000000ull + one + 1000);
    ck_assert_uint_ge(t_end - t_mid, 5000000000ull);
    ck_assert_uint_le(t_end - t_mid, 5000000000ull + 5000 * one + 1000);
    sim_disk_close(disk_a);
    sim_waitq_free(wq);
}
END_TEST

/* ---- fair sharing between streams ---- */

struct stream {
    struct sim_disk *disk;
    uint64_t first_lba;
    uint32_t nr_reqs, nr_blocks;
    uint64_t start_ns, end_ns;
    int rc;
};

static void stream_run(struct stream *s)
{
    uint64_t *fps = calloc(s->nr_blocks, sizeof(*fps));
    struct io io;

    for (uint32_t i = 0; i < s->nr_blocks; i++)
        fps[i] = vm_fp_page(9, s->first_lba + i, 1);
    s->start_ns = sim_now_ns();
    for (uint32_t r = 0; r < s->nr_reqs; r++) {
        io_prep(&io, PORT_BLK_WRITE, s->first_lba + (uint64_t)r * s->nr_blocks, s->nr_blocks,
                1, fps);
        int rc = io_run(sim_disk_port(s->disk), &io);
        if (rc != 0 && s->rc == 0)
            s->rc = rc;
    }
    s->end_ns = sim_now_ns();
    free(fps);
}

static void stream_actor(int argc, char **argv)
{
    stream_run(sg_actor_self_get_data());
}

static sg_actor_t stream_start(struct stream *s, const char *name)
{
    sg_actor_t a = sg_actor_init(name, sg_host_by_name("host0"));
    sg_actor_set_data(a, s);
    sg_actor_start(a, stream_actor, 0, NULL);
    return a;
}

static struct stream st_alone, st_1, st_2, st_small, st_small_alone;

static void body_two_bulk(void)
{
    stream_run(&st_alone);
    sg_actor_t a = stream_start(&st_1, "bulk1");
    sg_actor_t b = stream_start(&st_2, "bulk2");
    sg_actor_join(a, -1);
    sg_actor_join(b, -1);
}

START_TEST(test_disk_two_bulk_streams_each_get_half_the_bandwidth)
{
    char d1[1024];
    world_with_disks(disk_xml(d1, sizeof(d1), "d0", "100MBps",
                              PROP("read_lat", "100us") PROP("write_lat", "100us")
                              PROP("qdepth", "32")));
    disk_a = open_disk("d0");
    wq = sim_waitq_new();
    /* 4 x 25 MiB each, QD1 */
    st_alone = (struct stream){ .disk = disk_a, .first_lba = 0, .nr_reqs = 4, .nr_blocks = 6400 };
    st_1 = st_alone;
    st_2 = st_alone;
    st_2.first_lba = 100000;
    run_in_sim(body_two_bulk);

    ck_assert_int_eq(st_alone.rc, 0);
    ck_assert_int_eq(st_1.rc, 0);
    ck_assert_int_eq(st_2.rc, 0);
    uint64_t xfer = xfer_ns(6400ull * VM_PAGE_SIZE, 100 * MB);
    uint64_t alone = st_alone.end_ns - st_alone.start_ns;
    ck_assert_uint_le(llabs((long long)alone - (long long)(4 * (100000 + xfer))), 1000);
    uint64_t t1 = st_1.end_ns - st_1.start_ns, t2 = st_2.end_ns - st_2.start_ns;
    /* each transfer runs at half the bandwidth: 4 x (latency + 2 x transfer) */
    ck_assert_uint_le(llabs((long long)t1 - (long long)(4 * (100000 + 2 * xfer))), 1000);
    ck_assert_uint_le(llabs((long long)t2 - (long long)(4 * (100000 + 2 * xfer))), 1000);
    ck_assert(fabs((double)t1 / (double)alone - 2.0) < 0.01);
    sim_disk_close(disk_a);
    sim_waitq_free(wq);
}
END_TEST

static void body_small_vs_bulk(void)
{
    stream_run(&st_small_alone);
    sg_actor_t a = stream_start(&st_1, "bulk");
    sg_actor_t b = stream_start(&st_small, "small");
    sg_actor_join(b, -1);
    sg_actor_join(a, -1);
}

START_TEST(test_disk_small_stream_is_not_starved_by_bulk_stream)
{
    char d1[1024];
    world_with_disks(disk_xml(d1, sizeof(d1), "d0", "100MBps",
                              PROP("read_lat", "100us") PROP("write_lat", "100us")
                              PROP("qdepth", "32")));
    disk_a = open_disk("d0");
    wq = sim_waitq_new();
    /* bulk: 4 x 64 MiB (0.67 s each alone); small: 1,000 x 4 KiB at QD1 */
    st_1 = (struct stream){ .disk = disk_a, .first_lba = 0, .nr_reqs = 4, .nr_blocks = 16384 };
    st_small = (struct stream){ .disk = disk_a, .first_lba = 200000, .nr_reqs = 1000, .nr_blocks = 1 };
    st_small_alone = st_small;
    run_in_sim(body_small_vs_bulk);

    ck_assert_int_eq(st_1.rc, 0);
    ck_assert_int_eq(st_small.rc, 0);
    uint64_t x4k = xfer_ns(VM_PAGE_SIZE, 100 * MB);
    uint64_t alone = st_small_alone.end_ns - st_small_alone.start_ns;
    uint64_t shared = st_small.end_ns - st_small.start_ns;
    ck_assert_uint_le(llabs((long long)alone - (long long)(1000 * (100000 + x4k))), 1000);
    /* each 4 KiB transfer gets half the disk while the bulk one runs */
    ck_assert_uint_le(llabs((long long)shared - (long long)(1000 * (100000 + 2 * x4k))), 1000);
    /* and the small stream ends long before the first bulk write would */
    ck_assert_uint_lt(shared, xfer_ns(16384ull * VM_PAGE_SIZE, 100 * MB));
    ck_assert_uint_gt(st_1.end_ns, st_small.end_ns);
    sim_disk_close(disk_a);
    sim_waitq_free(wq);
}
END_TEST

/* ---- bandwidth shares per I/O ---- */

/* One transfer of 6400 blocks against another of one I/O, side by side,
 * no latency: the first of `n` I/Os (equal, or a vectored run of the
 * lengths `lens`) should get `shares` shares of the bandwidth to the
 * second's one while both run; then the second has the disk alone. */
struct wcase {
    const char *what;
    uint32_t qdepth, n;
    enum port_blk_op op1, op2;
    const uint32_t *lens;       /* NULL: n equal I/Os of a plain run */
    double shares;
};

static const uint32_t lens_uneven[4] = { 3200, 1600, 800, 800 };

static const struct wcase wcases[] = {
    { "4 equal writes: 4 shares", 32, 4, PORT_BLK_WRITE, PORT_BLK_WRITE, NULL, 4 },
    { "4 equal reads: 4 shares", 32, 4, PORT_BLK_READ, PORT_BLK_READ, NULL, 4 },
    { "4 reads against a write: 4 shares", 32, 4, PORT_BLK_READ, PORT_BLK_WRITE, NULL, 4 },
    { "80 I/Os at qdepth 100, beyond the 64 workers: 80", 100, 80, PORT_BLK_WRITE,
      PORT_BLK_WRITE, NULL, 80 },
    { "8 I/Os at qdepth 2: 4 waves of 2", 2, 8, PORT_BLK_WRITE, PORT_BLK_WRITE, NULL, 2 },
    { "3 I/Os at qdepth 2: 2 waves, 1.5 on average", 2, 3, PORT_BLK_WRITE, PORT_BLK_WRITE,
      NULL, 1.5 },
    { "a vectored run of 3200+1600+800+800: 6400 / 3200 = 2", 32, 4, PORT_BLK_WRITE,
      PORT_BLK_WRITE, lens_uneven, 2 },
};

static const struct wcase *wc;
static uint64_t w_end[2];
static int w_rc[2];

static void weighted_actor(int argc, char **argv)
{
    int k = argc > 1 && argv[1][0] == '1';
    uint32_t nr = 6400;
    uint64_t *fps = calloc(nr, sizeof(*fps));
    uint64_t lbas[4];
    uint32_t lens[4];
    uint64_t first = k ? 0 : 100000;
    struct io io;

    for (uint32_t i = 0; i < nr; i++)
        fps[i] = vm_fp_page(5, first + i, 1);
    io_prep(&io, k ? wc->op1 : wc->op2, first, nr, k ? wc->n : 1, fps);
    if (k && wc->lens) {                /* runs 10000 blocks apart */
        for (uint32_t i = 0; i < wc->n; i++) {
            lens[i] = wc->lens[i];
            lbas[i] = first + 10000ull * i;
        }
        io.req.lbas = lbas;
        io.req.io_blocks = lens;
    }
    uint64_t t0 = sim_now_ns();
    w_rc[k] = io_run(sim_disk_port(disk_a), &io);
    w_end[k] = sim_now_ns() - t0;
    free(fps);
}

static void body_weighted(void)
{
    static char *a1[] = { "w", "1", NULL }, *a2[] = { "w", "0", NULL };
    sg_actor_t a = sg_actor_init("many-ios", sg_host_by_name("host0"));
    sg_actor_start(a, weighted_actor, 2, a1);
    sg_actor_t b = sg_actor_init("one-io", sg_host_by_name("host0"));
    sg_actor_start(b, weighted_actor, 2, a2);
    sg_actor_join(a, -1);
    sg_actor_join(b, -1);
}

START_TEST(test_disk_bandwidth_is_shared_per_io)
{
    char d1[1024], props[256];
    wc = &wcases[_i];
    snprintf(props, sizeof(props),
             PROP("read_lat", "0us") PROP("write_lat", "0us") "<prop id=\"qdepth\" value=\"%u\"/>",
             wc->qdepth);
    world_with_disks(disk_xml(d1, sizeof(d1), "d0", "100MBps", props));
    disk_a = open_disk("d0");
    wq = sim_waitq_new();
    run_in_sim(body_weighted);

    ck_assert_int_eq(w_rc[0], 0);
    ck_assert_int_eq(w_rc[1], 0);
    uint64_t x = xfer_ns(6400ull * VM_PAGE_SIZE, 100 * MB);
    /* the first at shares / (shares + 1) of the bandwidth */
    uint64_t want = (uint64_t)llround((double)x * (wc->shares + 1) / wc->shares);
    ck_assert_msg(llabs((long long)w_end[1] - (long long)want) <= 1000,
                  "%s: took %llu ns, expected %llu", wc->what, (unsigned long long)w_end[1],
                  (unsigned long long)want);
    /* the work is conserved: the single I/O ends as two transfers in a row would */
    ck_assert_msg(llabs((long long)w_end[0] - (long long)(2 * x)) <= 1000,
                  "%s: the single I/O took %llu ns", wc->what, (unsigned long long)w_end[0]);
    sim_disk_close(disk_a);
    sim_waitq_free(wq);
}
END_TEST

static Suite *disk_suite(void)
{
    Suite *s = suite_create("disk");
    /* one case per scale test, so CK_RUN_CASE=qd1 or =runs can time one */
    TCase *qd1 = tcase_create("qd1");
    TCase *runs = tcase_create("runs");
    TCase *tc = tcase_create("model");

    /* simulated time only; no wall-clock limit */
    tcase_set_timeout(qd1, 0);
    tcase_set_timeout(runs, 0);
    tcase_set_timeout(tc, 0);
    tcase_add_test(qd1, test_disk_qd1_4k_writes_pay_latency_each);
    tcase_add_test(qd1, test_disk_worker_hands_over_as_the_simulation_ends);
    tcase_add_test(qd1, test_disk_idle_worker_hands_over_mid_run);
    tcase_add_test(runs, test_disk_million_writes_as_runs_cost_two_activities_per_run);
    tcase_add_test(tc, test_disk_large_write_runs_at_disk_bandwidth);
    tcase_add_test(tc, test_disk_run_request_pays_one_latency_per_queue_wave);
    tcase_add_test(tc, test_disk_iops_limit_holds);
    tcase_add_test(tc, test_disk_two_bulk_streams_each_get_half_the_bandwidth);
    tcase_add_test(tc, test_disk_small_stream_is_not_starved_by_bulk_stream);
    tcase_add_loop_test(tc, test_disk_bandwidth_is_shared_per_io, 0,
                        (int)(sizeof(wcases) / sizeof(wcases[0])));
    suite_add_tcase(s, qd1);
    suite_add_tcase(s, runs);
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
