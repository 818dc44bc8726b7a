/*
 * check_pagecache.c - suite "pagecache": the host's page cache in front of
 * a simulated disk (sim_pagecache.c), its dirty map (sim_dirtymap.c) and
 * the wait queues it relies on (sim_world.c).
 *
 * As in check_disk_timing.c, SimGrid runs once per process, so each test runs in
 * its own (Check's fork mode): it writes a one-host platform with a
 * 100 MB/s disk (100 us per I/O, queue depth 4), runs a body in an actor
 * and asserts on what the body recorded.  Times are simulated and exact.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <simgrid/actor.h>
#include <simgrid/engine.h>
#include <simgrid/host.h>

#include "base/vm_fp.h"
#include "base/vm_units.h"
#include "sim_dirtymap.h"
#include "sim_disk.h"
#include "sim_pagecache.h"
#include "sim_world.h"

#define KIB 1024ull
#define MIB (1024ull * 1024)

/* ---- the world: one host, one disk ---- */

static struct sim_disk *disk;
static struct sim_pagecache *pc;
static struct sim_waitq *wq;           /* the body waits here for its callbacks */

static void world(void)
{
    const char *tmp = getenv("TMPDIR");
    char path[256];
    snprintf(path, sizeof path, "%s/check_pagecache_XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fputs("<?xml version='1.0'?>\n"
          "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
          "<platform version=\"4.1\">\n  <zone id=\"AS0\" routing=\"Full\">\n"
          "    <host id=\"host0\" speed=\"1Gf\">\n"
          "      <disk id=\"d0\" read_bw=\"100MBps\" write_bw=\"100MBps\">\n"
          "        <prop id=\"read_lat\" value=\"100us\"/>\n"
          "        <prop id=\"write_lat\" value=\"100us\"/>\n"
          "        <prop id=\"qdepth\" value=\"4\"/>\n"
          "      </disk>\n    </host>\n  </zone>\n</platform>\n", f);
    ck_assert_int_eq(fclose(f), 0);
    struct vm_diag d;
    vm_diag_clear(&d);
    sim_world_init(NULL, NULL);
    int rc = sim_world_load_platform(path, &d);
    unlink(path);
    ck_assert_msg(rc == 0, "load failed: %s", d.msg);
    disk = sim_disk_open(sim_world_host("host0", &d), "d0", &d);
    ck_assert_msg(disk != NULL, "open failed: %s", d.msg);
    wq = sim_waitq_new();
}

static void cache(uint64_t limit, uint64_t background, uint64_t expire_ns)
{
    struct sim_pagecache_cfg cfg = { .dirty_bytes = limit, .dirty_background_bytes = background,
                                     .dirty_expire_ns = expire_ns,
                                     .writeback_io_bytes = MIB };
    struct vm_diag d;
    vm_diag_clear(&d);
    pc = sim_pagecache_new(disk, sg_host_by_name("host0"), &cfg, &d);
    ck_assert_msg(pc != NULL, "cache: %s", d.msg);
}

static void (*body)(void);

static void body_actor(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    body();
}

static void run(void (*fn)(void))
{
    body = fn;
    sg_actor_create("test", sg_host_by_name("host0"), body_actor, 0, NULL);
    simgrid_run();
}

static void teardown(void)
{
    sim_pagecache_close(pc);
    sim_disk_close(disk);
    sim_waitq_free(wq);
}

/* ---- I/O through the cache ---- */

struct io {
    struct port_blk_req req;           /* first: the callback gets it back */
    int rc;
    int done;
    uint64_t done_ns;
};

static void io_cb(struct port_blk_req *req, int rc)
{
    struct io *io = (struct io *)req;
    io->rc = rc;
    io->done = 1;
    io->done_ns = sim_now_ns();
    sim_waitq_wake_all(wq);
}

/* Write nr_blocks at lba (contents: fingerprints of seed 7); wait. */
static int write_blocks(uint64_t lba, uint32_t nr_blocks, uint64_t *done_ns)
{
    uint64_t *fps = malloc(nr_blocks * sizeof *fps);
    ck_assert_ptr_nonnull(fps);
    for (uint32_t i = 0; i < nr_blocks; i++)
        fps[i] = vm_fp_page(7, lba + i, 1);
    struct io io = { .req = { .op = PORT_BLK_WRITE, .lba = lba, .nr_blocks = nr_blocks,
                              .nr_ios = 1, .fps = fps, .cb = io_cb } };
    int rc = port_blk_submit(sim_pagecache_port(pc), &io.req);
    while (rc == 0 && !io.done)
        sim_waitq_wait(wq);
    free(fps);
    if (done_ns)
        *done_ns = io.done_ns;
    return rc ? rc : io.rc;
}

static int flush(uint64_t *done_ns)
{
    struct io io = { .req = { .op = PORT_BLK_FLUSH, .cb = io_cb } };
    int rc = port_blk_submit(sim_pagecache_port(pc), &io.req);
    while (rc == 0 && !io.done)
        sim_waitq_wait(wq);
    if (done_ns)
        *done_ns = io.done_ns;
    return rc ? rc : io.rc;
}

/* transfer time of bytes at 100 MB/s, in ns */
static uint64_t xfer_ns(uint64_t bytes)
{
    return bytes * 10;
}

/* ---- what the bodies record ---- */

static uint64_t t_write_done, t_flush_done, t_start;
static int rc_write, rc_flush;
static uint64_t disk_ios_before_flush;

static uint64_t write_gap_ns;          /* between writes */

/* 16 MiB as 256 contiguous 64 KiB writes, then fdatasync() */
static void body_contiguous_then_flush(void)
{
    t_start = sim_now_ns();
    for (uint64_t i = 0; i < 256 && rc_write == 0; i++) {
        if (i && write_gap_ns)
            sim_sleep_ns(write_gap_ns);
        rc_write = write_blocks(i * 16, 16, &t_write_done);
    }
    disk_ios_before_flush = sim_disk_stats(disk)->write_ios;
    rc_flush = flush(&t_flush_done);
}

START_TEST(test_writes_within_the_limit_complete_at_once_and_flush_writes_back_merged)
{
    world();
    cache(64 * MIB, 32 * MIB, 30ull * 1000000000);
    run(body_contiguous_then_flush);
    ck_assert_int_eq(rc_write, 0);
    ck_assert_int_eq(rc_flush, 0);
    /* accepted at once: no simulated time, nothing at the disk yet */
    ck_assert_uint_eq(t_write_done, t_start);
    ck_assert_uint_eq(disk_ios_before_flush, 0);
    const struct sim_pagecache_stats *s = sim_pagecache_stats(pc);
    ck_assert_uint_eq(s->accepted, 256);
    ck_assert_uint_eq(s->throttled, 0);
    ck_assert_uint_eq(s->dirty_max_bytes, 16 * MIB);
    /* written back as 16 I/Os of 1 MiB (writeback_io), 4 in flight */
    ck_assert_uint_eq(s->writeback_ios, 16);
    ck_assert_uint_eq(sim_disk_stats(disk)->write_ios, 16);
    /* the flush waited for all of it: 16 MiB at 100 MB/s, at least */
    ck_assert_uint_ge(t_flush_done - t_start, xfer_ns(16 * MIB));
    ck_assert_uint_le(t_flush_done - t_start, xfer_ns(16 * MIB) + 16 * 100000 + 100000);
    ck_assert_uint_eq(sim_pagecache_dirty_bytes(pc), 0);
    /* the content is on the disk */
    uint64_t fp = 0;
    ck_assert_int_eq(vm_fpstore_get(sim_disk_store(disk), 4095, 1, &fp), 0);
    ck_assert_uint_eq(fp, vm_fp_page(7, 4095, 1));
    teardown();
}
END_TEST

START_TEST(test_a_writer_over_the_dirty_limit_waits_for_writeback)
{
    world();
    cache(2 * MIB, 1 * MIB, 30ull * 1000000000);
    run(body_contiguous_then_flush);
    ck_assert_int_eq(rc_write, 0);
    ck_assert_int_eq(rc_flush, 0);
    const struct sim_pagecache_stats *s = sim_pagecache_stats(pc);
    ck_assert_uint_gt(s->throttled, 0);
    ck_assert_uint_gt(s->throttled_ns, 0);
    ck_assert_uint_le(s->dirty_max_bytes, 2 * MIB);
    /* the writer ran at the disk's pace: 14 MiB had to be written back
     * before the last write was accepted */
    ck_assert_uint_ge(t_write_done - t_start, xfer_ns(14 * MIB));
    ck_assert_uint_eq(sim_disk_stats(disk)->write_bytes, 16 * MIB);
    teardown();
}
END_TEST

/* 512 KiB, below the background threshold, then sleep past the expiry */
static void body_small_write_then_idle(void)
{
    t_start = sim_now_ns();
    rc_write = write_blocks(1000, 128, &t_write_done);
    sim_sleep_ns(500000000);              /* 0.5 s: not expired yet */
    disk_ios_before_flush = sim_disk_stats(disk)->write_ios;
    sim_sleep_ns(1000000000);             /* 1.5 s: expired at 1 s */
}

START_TEST(test_dirty_data_below_the_background_limit_is_written_back_when_it_expires)
{
    world();
    cache(64 * MIB, 32 * MIB, 1000000000ull);
    run(body_small_write_then_idle);
    ck_assert_int_eq(rc_write, 0);
    ck_assert_uint_eq(disk_ios_before_flush, 0);
    ck_assert_uint_eq(sim_disk_stats(disk)->write_ios, 1);
    ck_assert_uint_eq(sim_disk_stats(disk)->write_bytes, 512 * KIB);
    ck_assert_uint_eq(sim_pagecache_dirty_bytes(pc), 0);
    teardown();
}
END_TEST

START_TEST(test_background_writeback_starts_at_its_threshold_without_a_flush)
{
    world();
    cache(64 * MIB, 4 * MIB, 30ull * 1000000000);
    write_gap_ns = 1000000;               /* 64 MB/s: slower than the disk */
    run(body_contiguous_then_flush);
    /* writeback ran while the writer went on: most was on the disk before
     * the flush, dirty data stayed near the threshold, nobody waited */
    ck_assert_uint_eq(sim_pagecache_stats(pc)->throttled, 0);
    ck_assert_uint_ge(disk_ios_before_flush, 10);
    /* the threshold, plus what arrives while the queue (4 x 1 MiB) drains */
    ck_assert_uint_le(sim_pagecache_stats(pc)->dirty_max_bytes, 8 * MIB);
    ck_assert_int_eq(rc_flush, 0);
    teardown();
}
END_TEST

START_TEST(test_a_writeback_error_is_returned_by_the_next_flush)
{
    world();
    struct sim_exp_fault f = { .kind = SIM_FAULT_DISK_ERROR, .on_write = true,
                               .after_ios = 5, .count = 1 };
    ck_assert_int_eq(sim_disk_add_fault(disk, &f), 0);
    cache(64 * MIB, 32 * MIB, 30ull * 1000000000);
    run(body_contiguous_then_flush);
    ck_assert_int_eq(rc_write, 0);                 /* the writes were accepted */
    ck_assert_int_eq(rc_flush, VM_EIO);            /* as fdatasync() reports EIO */
    teardown();
}
END_TEST


/* ---- the dirty map (no simulation) ---- */

START_TEST(test_dirtymap_marks_once_and_takes_runs_in_offset_order_from_the_cursor)
{
    struct sim_dirtymap *m = sim_dirtymap_new(100000);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(sim_dirtymap_mark(m, 50, 10), 10);
    ck_assert_int_eq(sim_dirtymap_mark(m, 55, 10), 5);        /* 55..59 were dirty */
    ck_assert_int_eq(sim_dirtymap_mark(m, 10, 1), 1);
    /* across the 32768-block chunk boundary */
    ck_assert_int_eq(sim_dirtymap_mark(m, 32760, 16), 16);
    ck_assert_uint_eq(sim_dirtymap_count(m), 32);
    ck_assert_int_eq(sim_dirtymap_mark(m, 99999, 2), -1);     /* past the end */
    uint64_t cursor = 40, lba = 0;
    ck_assert_uint_eq(sim_dirtymap_take(m, &cursor, 8, &lba), 8);
    ck_assert_uint_eq(lba, 50);
    ck_assert_uint_eq(sim_dirtymap_take(m, &cursor, 100, &lba), 7);
    ck_assert_uint_eq(lba, 58);
    ck_assert_uint_eq(sim_dirtymap_take(m, &cursor, 100, &lba), 16);  /* one run, two chunks */
    ck_assert_uint_eq(lba, 32760);
    ck_assert_uint_eq(sim_dirtymap_take(m, &cursor, 100, &lba), 1);   /* wrapped */
    ck_assert_uint_eq(lba, 10);
    ck_assert_uint_eq(sim_dirtymap_count(m), 0);
    ck_assert_uint_eq(sim_dirtymap_take(m, &cursor, 100, &lba), 0);
    sim_dirtymap_free(m);
}
END_TEST

/* 1 MiB as 256 single-block writes in reverse order, then fdatasync() */
static void body_reverse_then_flush(void)
{
    t_start = sim_now_ns();
    for (int i = 255; i >= 0 && rc_write == 0; i--)
        rc_write = write_blocks(2048 + (uint64_t)i, 1, &t_write_done);
    disk_ios_before_flush = sim_disk_stats(disk)->write_ios;
    rc_flush = flush(&t_flush_done);
}

START_TEST(test_writeback_merges_blocks_written_out_of_order)
{
    world();
    cache(64 * MIB, 32 * MIB, 30ull * 1000000000);
    run(body_reverse_then_flush);
    ck_assert_int_eq(rc_flush, 0);
    /* by offset, as Linux writes an inode's dirty pages: one 1 MiB I/O */
    ck_assert_uint_eq(sim_disk_stats(disk)->write_ios, 1);
    ck_assert_uint_eq(sim_disk_stats(disk)->write_bytes, MIB);
    teardown();
}
END_TEST

/* ---- wait queues: no lost wake ---- */

static int woken_at_once, waiter_waiting, waker_saw_waiter;
static uint64_t t_woken;

/* Sleeps on wq at t=1 s; the waker, started after it, wakes at the same
 * simulated time in the same scheduling round. */
static void waiter_actor(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    sim_sleep_ns(1000000000);
    waiter_waiting = 1;
    int rc = sim_waitq_wait_for(wq, 10ull * 1000000000);
    woken_at_once = rc == 0;
    t_woken = sim_now_ns();
}

static void waker_actor(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    sim_sleep_ns(1000000000);
    waker_saw_waiter = waiter_waiting;
    sim_waitq_wake_all(wq);
}

START_TEST(test_a_wake_in_the_waiters_scheduling_round_is_not_lost)
{
    world();
    sg_actor_create("waker", sg_host_by_name("host0"), waker_actor, 0, NULL);
    sg_actor_create("waiter", sg_host_by_name("host0"), waiter_actor, 0, NULL);
    simgrid_run();
    ck_assert_msg(waker_saw_waiter, "the test needs the waiter to run first in the round");
    ck_assert_int_eq(woken_at_once, 1);
    ck_assert_uint_eq(t_woken, 1000000000);
    sim_disk_close(disk);
    sim_waitq_free(wq);
}
END_TEST

static void body_ticket(void)
{
    uint64_t t = sim_waitq_ticket(wq);
    sim_waitq_wake_all(wq);               /* a wake between the check and the wait */
    t_start = sim_now_ns();
    woken_at_once = sim_waitq_wait_for_ticket(wq, t, 5ull * 1000000000) == 0;
    t_woken = sim_now_ns();
    /* without a wake since the ticket, the wait times out */
    t = sim_waitq_ticket(wq);
    rc_write = sim_waitq_wait_for_ticket(wq, t, 2000000);
}

START_TEST(test_a_ticket_taken_before_a_wake_makes_the_wait_return_at_once)
{
    world();
    run(body_ticket);
    ck_assert_int_eq(woken_at_once, 1);
    ck_assert_uint_eq(t_woken, t_start);
    ck_assert_int_eq(rc_write, VM_ETIMEDOUT);
    ck_assert_uint_eq(sim_now_ns(), t_start + 2000000);
    sim_disk_close(disk);
    sim_waitq_free(wq);
}
END_TEST

static Suite *pagecache_suite(void)
{
    Suite *s = suite_create("pagecache");
    TCase *tc = tcase_create("pagecache");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_writes_within_the_limit_complete_at_once_and_flush_writes_back_merged);
    tcase_add_test(tc, test_a_writer_over_the_dirty_limit_waits_for_writeback);
    tcase_add_test(tc, test_dirty_data_below_the_background_limit_is_written_back_when_it_expires);
    tcase_add_test(tc, test_background_writeback_starts_at_its_threshold_without_a_flush);
    tcase_add_test(tc, test_a_writeback_error_is_returned_by_the_next_flush);
    tcase_add_test(tc, test_dirtymap_marks_once_and_takes_runs_in_offset_order_from_the_cursor);
    tcase_add_test(tc, test_writeback_merges_blocks_written_out_of_order);
    tcase_add_test(tc, test_a_wake_in_the_waiters_scheduling_round_is_not_lost);
    tcase_add_test(tc, test_a_ticket_taken_before_a_wake_makes_the_wait_return_at_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pagecache_suite());
    srunner_set_fork_status(sr, CK_FORK);   /* SimGrid runs once per process */
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
