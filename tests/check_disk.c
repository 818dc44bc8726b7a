/*
 * check_disk.c - suite "disk": the simulated disk (sim_disk.c); the
 * SimGrid glue under it is suite "world" (check_world.c).
 *
 * SimGrid runs once per process, so every test runs in its own process
 * (Check's fork mode, forced in main): it writes a small platform to a
 * temporary file, initialises SimGrid, runs its actors and asserts on what
 * they recorded once simgrid_run() has returned.  Times are simulated, so
 * they are asserted exactly (to the nanosecond where the model is exact,
 * to 1 us where SimGrid's bandwidth sharing rounds).
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


/* ---- synchronous I/O from an actor ---- */

struct io {
    struct port_blk_req req;      /* first: the callback gets it back */
    int rc;
    int done;
    int done_in_submit;           /* the callback ran before submit returned */
};

static struct sim_waitq *wq;      /* every waiter of the test, woken on each completion */
static int in_submit;

static void io_cb(struct port_blk_req *req, int rc)
{
    struct io *io = (struct io *)req;
    io->rc = rc;
    io->done = 1;
    io->done_in_submit = in_submit;
    sim_waitq_wake_all(wq);
}

static void io_prep(struct io *io, enum port_blk_op op, uint64_t lba, uint32_t nr_blocks,
                    uint32_t nr_ios, uint64_t *fps)
{
    memset(io, 0, sizeof(*io));
    io->req.op = op;
    io->req.lba = lba;
    io->req.nr_blocks = nr_blocks;
    io->req.nr_ios = nr_ios;
    io->req.fps = fps;
    io->req.cb = io_cb;
}

static int io_submit(struct port_blk *dev, struct io *io)
{
    in_submit = 1;
    int rc = port_blk_submit(dev, &io->req);
    in_submit = 0;
    return rc;
}

static void io_wait(struct io *io)
{
    while (!io->done)
        sim_waitq_wait(wq);
}

/* Submit and wait; the request's completion code. */
static int io_run(struct port_blk *dev, struct io *io)
{
    int rc = io_submit(dev, io);
    if (rc != 0)
        return rc;
    io_wait(io);
    return io->rc;
}

static uint64_t latency_ns(const struct io *io)
{
    return io->req.done_ns - io->req.submit_ns;
}

static uint64_t xfer_ns(uint64_t bytes, double bps)
{
    return (uint64_t)llround((double)bytes / bps * 1e9);
}

static struct sim_disk *disk_a, *disk_b;
static uint64_t t_start, t_end, t_mid;
static int rc_a, rc_b;
static uint64_t lat_a, lat_b, lat_c;

/* ---- latency: 10,000 QD1 4 KiB writes ---- */

static void body_qd1_writes(void)
{
    struct port_blk *dev = sim_disk_port(disk_a);
    struct io io;

    t_start = sim_now_ns();
    for (uint64_t i = 0; i < 10000; i++) {
        uint64_t fp = vm_fp_page(1, i, 1);
        io_prep(&io, PORT_BLK_WRITE, i, 1, 1, &fp);
        int rc = io_run(dev, &io);
        if (rc != 0 && rc_a == 0)
            rc_a = rc;
    }
    t_end = sim_now_ns();
}

START_TEST(test_disk_qd1_4k_writes_pay_latency_each)
{
    char d1[1024];
    world_with_disks(disk_xml(d1, sizeof(d1), "d0", "100MBps",
                              PROP("read_lat", "100us") PROP("write_lat", "100us")
                              PROP("qdepth", "1")));
    disk_a = open_disk("d0");
    wq = sim_waitq_new();
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
    uint64_t fp = 0;
    ck_assert_int_eq(vm_fpstore_get(sim_disk_store(disk_a), 9999, 1, &fp), 0);
    ck_assert_uint_eq(fp, vm_fp_page(1, 9999, 1));
    sim_disk_close(disk_a);
    sim_waitq_free(wq);
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
    /* one case per scale test, so CK_RUN_CASE=qd1 or =runs can time one */
    TCase *qd1 = tcase_create("qd1");
    TCase *runs = tcase_create("runs");
    TCase *tc = tcase_create("model");

    /* simulated time only; no wall-clock limit */
    tcase_set_timeout(qd1, 0);
    tcase_set_timeout(runs, 0);
    tcase_set_timeout(tc, 0);
    tcase_add_test(qd1, test_disk_qd1_4k_writes_pay_latency_each);
    tcase_add_test(runs, test_disk_million_writes_as_runs_cost_two_activities_per_run);
    tcase_add_test(tc, test_disk_large_write_runs_at_disk_bandwidth);
    tcase_add_test(tc, test_disk_run_request_pays_one_latency_per_queue_wave);
    tcase_add_test(tc, test_disk_iops_limit_holds);
    tcase_add_test(tc, test_disk_two_bulk_streams_each_get_half_the_bandwidth);
    tcase_add_test(tc, test_disk_small_stream_is_not_starved_by_bulk_stream);
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
