/*
 * check_ckpt_live.c - Check suite "ckpt_live": the live-save baselines as
 * QEMU runs them, against the fake ports through the rig of ckpt_rig.h:
 *   bgsnap   background snapshot: a faulting page goes into the stream,
 *            the stream is written in io_pages writes, io_depth in flight
 *   precopy  pre-copy to a file: rounds until the rest fits the downtime
 *            limit, a forced stop when the dirty set stops shrinking, and
 *            auto-converge's throttle steps.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_rand.h"
#include "base/vm_units.h"
#include "checkpoint/ckpt.h"
#include "checkpoint/ckpt_file.h"
#include "ckpt_rig.h"

/* ---- bgsnap ---- */

static void bgsnap_cfg(struct rig *r, uint32_t io_pages, uint32_t depth, uint32_t chunks)
{
    r->cfg.io_pages = io_pages;
    r->cfg.io_depth = depth;
    r->cfg.buffer_bytes = (uint64_t)chunks * io_pages * VM_PAGE_SIZE;
}

START_TEST(test_ckpt_bgsnap_stream_is_written_in_io_pages_writes)
{
    struct rig r;
    rig_init(&r, "bgsnap", 1000, 4096);
    bgsnap_cfg(&r, 64, 2, 8);
    rig_start(&r);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    /* 1000 pages: 15 writes of 64 and one of 40, each one device I/O,
     * appended back to back; then the map and the header */
    const struct ckpt_stats *st = stats(&r);
    ck_assert_uint_eq(st->pages_copied_bg, 1000);
    ck_assert_uint_eq(st->payload_bytes, 1000 * VM_PAGE_SIZE);
    /* as QEMU: each page's record flushed with one write(), then the page
     * un-protected with one call (ram_save_release_protection) */
    ck_assert_uint_eq(st->stream_writes_bg, 1000);
    ck_assert_uint_eq(st->unprotects_bg, 1000);
    ck_assert_uint_eq(st->stream_writes_fault, 0);
    ck_assert_uint_eq(nr_logged_writes(&r), 16 + 2);
    uint64_t next = CKPT_DATA_LBA;
    for (size_t i = 0; i < 16; i++) {
        const struct fake_blk_logent *e = fake_blk_log_at(r.dev, i);
        ck_assert_int_eq(e->op, PORT_BLK_WRITE);
        ck_assert_uint_eq(e->lba, next);
        ck_assert_uint_eq(e->nr_blocks, i < 15 ? 64 : 40);
        ck_assert_uint_le(e->nr_ios, 1);
        next += e->nr_blocks;
    }
    ck_assert_uint_le(r.max_queued, 2);               /* io_depth */
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_bgsnap_fault_copies_one_page_and_the_write_proceeds)
{
    struct rig r;
    rig_init(&r, "bgsnap", 512, 4096);
    bgsnap_cfg(&r, 32, 2, 4);
    rig_start(&r);
    ck_assert_uint_eq(fake_mem_nr_traced(r.mem), 512);
    uint64_t before = r.mem->fp[300];
    ck_assert_int_eq(vcpu(&r, 300, true), 0);
    ck_assert_uint_ne(r.mem->fp[300], before);        /* the write happened */
    ck_assert_uint_eq(stats(&r)->pages_copied_fault, 1);
    ck_assert_uint_eq(stats(&r)->stream_writes_fault, 1);
    ck_assert_uint_eq(stats(&r)->unprotects_bg, 0);   /* the fault's is in the fault */
    ck_assert_uint_eq(fake_mem_nr_traced(r.mem), 511); /* only that page */
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 301), PORT_MEM_TRACE_WRITE);
    /* a read of an unsaved page does not fault */
    ck_assert_int_eq(vcpu(&r, 10, false), 0);
    ck_assert_uint_eq(stats(&r)->faults, 1);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);                               /* page 300 as it was */
    rig_fini(&r);
}
END_TEST

/* The saver leaves the last free chunk to the guest; a guest that fills
 * every chunk itself waits for a write to complete. */
START_TEST(test_ckpt_bgsnap_eagain_only_when_the_guest_fills_the_buffer)
{
    struct rig r;
    rig_init(&r, "bgsnap", 4096, 8192);
    bgsnap_cfg(&r, 16, 8, 4);
    rig_start(&r);
    /* the saver takes 3 chunks and stops short of the 4th */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(r.pol->step(r.s), CKPT_STEP_MORE);
    ck_assert_int_eq(r.pol->step(r.s), CKPT_STEP_WAIT);
    ck_assert_uint_eq(fake_blk_nr_queued(r.dev), 3);
    /* 16 guest faults fill the 4th chunk; the 17th finds no room */
    for (uint64_t p = 0; p < 16; p++)
        ck_assert_int_eq(r.pol->fault(r.s, 2000 + p, true), 0);
    ck_assert_int_eq(r.pol->fault(r.s, 2100, true), VM_EAGAIN);
    ck_assert_uint_eq(stats(&r)->fault_waits, 1);
    ck_assert_int_eq(fake_blk_run_one(r.dev), 1);
    ck_assert_int_eq(r.pol->fault(r.s, 2100, true), 0);
    ck_assert_uint_le(stats(&r)->staging_bytes_max, 4 * 16 * VM_PAGE_SIZE);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_bgsnap_cow_under_interleaving)
{
    struct rig r;
    rig_init(&r, "bgsnap", 700, 4096);
    bgsnap_cfg(&r, 8 + (uint32_t)_i, 1 + (uint32_t)_i % 3, 2 + (uint32_t)_i % 4);
    rig_start(&r);
    struct vm_rand rnd;
    vm_rand_init(&rnd, (uint64_t)_i, 3);
    for (;;) {
        for (int k = 0; k < 3; k++)
            ck_assert_int_eq(vcpu(&r, vm_rand_below(&rnd, 700), vm_rand_below(&rnd, 4) != 0), 0);
        int rc = step_once(&r);
        ck_assert_int_ge(rc, 0);
        if (rc == CKPT_STEP_DONE)
            break;
    }
    assert_image_ok(&r);
    ck_assert_uint_eq(stats(&r)->pages_copied_fault + stats(&r)->pages_copied_bg, 700);
    ck_assert_uint_le(r.max_queued, r.cfg.io_depth);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_bgsnap_rejects_bad_cfg)
{
    struct rig r;
    rig_init(&r, "bgsnap", 64, 256);
    struct vm_diag d = { 0 };
    r.cfg.buffer_bytes = 1000;               /* less than one write */
    ck_assert_int_eq(r.pol->start(&r.cfg, &r.env, &r.s, &d), VM_EINVAL);
    ck_assert_ptr_null(r.s);
    rig_fini(&r);
}
END_TEST

/* Zero pages stay out of the stream; a fault on one needs no room in it. */
START_TEST(test_ckpt_bgsnap_zero_pages_stay_out_of_the_stream)
{
    struct rig r;
    rig_init(&r, "bgsnap", 512, 4096);
    bgsnap_cfg(&r, 4, 1, 1);                           /* one chunk of 4 pages */
    fake_mem_set_zero(r.mem, 64, 128);
    rig_start(&r);
    for (uint64_t p = 0; p < 4; p++)
        ck_assert_int_eq(r.pol->fault(r.s, p, true), 0);  /* fills it: written */
    ck_assert_uint_eq(fake_blk_nr_queued(r.dev), 1);
    ck_assert_int_eq(r.pol->fault(r.s, 5, true), VM_EAGAIN);
    ck_assert_int_eq(r.pol->fault(r.s, 100, true), 0); /* zero: the map takes it */
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 100), PORT_MEM_TRACE_NONE);
    ck_assert_int_eq(fake_mem_guest_access(r.mem, 100, true), 0);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    const struct ckpt_stats *st = stats(&r);
    ck_assert_uint_eq(st->zero_pages, 128);
    ck_assert_uint_eq(st->zero_pages_fault, 1);
    ck_assert_uint_eq(st->zero_pages_bg, 127);
    ck_assert_uint_eq(st->pages_copied_fault + st->pages_copied_bg, 512 - 128);
    /* a zero page's record (a header) is flushed too; the fault that
     * answered VM_EAGAIN saved nothing (the saver saved page 5) */
    ck_assert_uint_eq(st->stream_writes_fault, 4 + 1);
    ck_assert_uint_eq(st->stream_writes_bg, 512 - 5);
    ck_assert_uint_eq(st->unprotects_bg, 512 - 5);
    /* the stream holds the other pages once each; one maps block, the header */
    ck_assert_uint_eq(st->bytes_written, (512 - 128 + 2) * 4096ull);
    struct ckpt_image *img = NULL;
    ck_assert_int_eq(ckpt_image_load_store(r.dev->store, &img, NULL), 0);
    ck_assert_uint_eq(img->page_lba[100], 0);
    ck_assert(ckpt_image_is_zero(img, 100));
    ck_assert_uint_ne(img->page_lba[63], 0);
    ckpt_image_free(img);
    rig_fini(&r);
}
END_TEST

/* ---- precopy ---- */

/* Run pre-copy with the guest rewriting pages [0, hot(round)) before every
 * saver step until the stun. */
static int drive_precopy_with(struct rig *r, uint64_t (*hot)(uint64_t round))
{
    for (long i = 0; i < 1000000; i++) {
        if (r->stuns == 0) {
            uint64_t n = hot(stats(r)->rounds);
            for (uint64_t p = 0; p < n; p++)
                ck_assert_int_eq(vcpu(r, p, true), 0);
        }
        int rc = step_once(r);
        if (rc == CKPT_STEP_DONE)
            return 0;
        if (rc < 0)
            return rc;
    }
    ck_abort_msg("precopy never finishes");
    return VM_EINVAL;
}

static uint64_t g_hot;
static uint64_t hot_fixed(uint64_t round) { return g_hot; }
/* 60 hot pages at first, one fewer every round */
static uint64_t hot_shrinking(uint64_t round) { return round < 60 ? 60 - round : 0; }

static int drive_precopy(struct rig *r, uint64_t hot)
{
    g_hot = hot;
    return drive_precopy_with(r, hot_fixed);
}

/* A dirty set that stops shrinking ends in a forced final stop after
 * stall_rounds rounds without a new minimum. */
START_TEST(test_ckpt_precopy_forced_stop_when_the_set_stops_shrinking)
{
    struct rig r;
    rig_init(&r, "precopy", 512, 4096);
    r.cfg.io_pages = 32;
    r.cfg.stall_rounds = 3;
    r.cfg.max_downtime_ns = 1;        /* never fits */
    rig_start(&r);
    ck_assert(r.pol->flags & CKPT_F_INSTANT_AT_STUN);
    ck_assert_int_eq(drive_precopy(&r, 40), 0);
    const struct ckpt_stats *st = stats(&r);
    /* round 1: all 512 pages; round 2 sets the minimum (40); rounds 3, 4
     * and 5 do not beat it: the final stop is forced after round 5 */
    ck_assert_uint_eq(st->rounds, 5);
    ck_assert(st->forced_stop);
    ck_assert_uint_eq(st->pages_copied_bg, 512 + 4 * 40);
    ck_assert_uint_eq(st->pages_rewritten, 4 * 40);
    ck_assert_int_eq(r.stuns, 1);
    assert_image_ok(&r);
    rig_fini(&r);
}
END_TEST

/* No round count caps a set that keeps shrinking. */
START_TEST(test_ckpt_precopy_no_cap_while_the_set_shrinks)
{
    struct rig r;
    rig_init(&r, "precopy", 512, 1 << 16);
    r.cfg.io_pages = 32;
    r.cfg.stall_rounds = 2;
    r.cfg.max_downtime_ns = 1;        /* only an empty set fits */
    rig_start(&r);
    ck_assert_int_eq(drive_precopy_with(&r, hot_shrinking), 0);
    const struct ckpt_stats *st = stats(&r);
    ck_assert_uint_gt(st->rounds, 50);
    ck_assert(!st->forced_stop);
    assert_image_ok(&r);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_precopy_stops_when_rest_fits_downtime)
{
    struct rig r;
    rig_init(&r, "precopy", 512, 4096);
    r.cfg.io_pages = 32;
    /* the fake writes 32 pages in 10 us + 32 us: 40 pages take ~52 us */
    r.cfg.max_downtime_ns = 100 * VM_NS_PER_US;
    rig_start(&r);
    ck_assert_int_eq(drive_precopy(&r, 40), 0);
    ck_assert_uint_eq(stats(&r)->rounds, 2);
    ck_assert(!stats(&r)->forced_stop);
    ck_assert_int_eq(r.stuns, 1);
    assert_image_ok(&r);
    rig_fini(&r);
}
END_TEST

/*
 * max_bandwidth (QEMU max-bandwidth): 32 pages a 100 ms window here, one
 * request; once a window's quota is written the saver waits for the
 * window's end (stats.rate_wait_ns, which the world sleeps and the test
 * sleeps for it).  Round 1's 16 requests take 15 waits; the final stop
 * writes at full speed.
 */
START_TEST(test_ckpt_precopy_max_bandwidth_waits_per_window_until_the_stop)
{
    struct rig r;
    rig_init(&r, "precopy", 512, 4096);
    r.cfg.io_pages = 32;
    r.cfg.max_bandwidth_bps = 32.0 * 4096 * 10;
    r.cfg.max_downtime_ns = 1000 * VM_NS_PER_MS;     /* round 2's set fits */
    rig_start(&r);
    uint64_t waited = 0, waited_at_stun = 0;
    for (;;) {
        if (r.stuns == 0)
            for (uint64_t p = 0; p < 64; p++)
                ck_assert_int_eq(vcpu(&r, p, true), 0);
        int rc = step_once(&r);
        ck_assert_int_ge(rc, 0);
        uint64_t w = stats(&r)->rate_wait_ns;
        fake_clock_advance(&r.clk, w - waited);       /* the world's sleep */
        waited = w;
        if (rc == CKPT_STEP_STUN)
            waited_at_stun = waited;
        if (rc == CKPT_STEP_DONE)
            break;
    }
    const struct ckpt_stats *st = stats(&r);
    ck_assert_int_eq(r.stuns, 1);
    ck_assert(!st->forced_stop);
    ck_assert_uint_eq(st->rounds, 2);
    /* 15 windows of 100 ms, less the ~42 us each request's write takes */
    ck_assert_uint_gt(waited, 15 * 99 * VM_NS_PER_MS);
    ck_assert_uint_le(waited, 15 * 100 * VM_NS_PER_MS);
    ck_assert_uint_eq(waited, waited_at_stun);       /* no limit in the stop */
    assert_image_ok(&r);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_precopy_image_equals_memory_at_stun)
{
    struct rig r;
    rig_init(&r, "precopy", 256, 4096);
    r.cfg.io_pages = 16;
    r.cfg.stall_rounds = 2;
    rig_start(&r);
    uint64_t before = r.snap[7];
    struct vm_rand rnd;
    vm_rand_init(&rnd, 9, 2);
    for (;;) {
        if (r.stuns == 0)
            ck_assert_int_eq(vcpu(&r, vm_rand_below(&rnd, 256), true), 0);
        int rc = step_once(&r);
        ck_assert_int_ge(rc, 0);
        if (rc == CKPT_STEP_STUN) {
            /* the last writes before the stop must be in the image */
            ck_assert_int_eq(vcpu(&r, 7, true), 0);
            snapshot(&r);
        }
        if (rc == CKPT_STEP_DONE)
            break;
    }
    ck_assert_int_eq(r.stuns, 1);
    ck_assert_uint_ne(r.snap[7], before);
    assert_image_ok(&r);
    rig_fini(&r);
}
END_TEST

/*
 * Auto-converge: every round lasts more than a throttle period (1 s: 10 ms
 * a block here) and dirties more than half of what it wrote, so every
 * second sync throttles: 20, 30, ... capped at throttle_max; the throttle
 * counts as progress until it is capped, then stall_rounds rounds force
 * the stop; the throttle is gone once the VM is stopped.
 */
START_TEST(test_ckpt_precopy_auto_converge_steps_the_throttle)
{
    struct rig r;
    rig_init(&r, "precopy", 512, 1 << 16);
    fake_blk_set_timing(r.dev, &r.clk, 10000, 10 * 1000 * 1000);
    r.cfg.io_pages = 32;
    r.cfg.stall_rounds = 3;
    r.cfg.max_downtime_ns = 1;
    r.cfg.auto_converge = true;
    r.cfg.throttle_max = 50;
    rig_start(&r);
    uint32_t seen[100] = { 0 };
    g_hot = 200;
    for (;;) {
        if (r.stuns == 0)
            for (uint64_t p = 0; p < g_hot; p++)
                ck_assert_int_eq(vcpu(&r, p, true), 0);
        int rc = step_once(&r);
        ck_assert_int_ge(rc, 0);
        if (stats(&r)->rounds < 100)
            seen[stats(&r)->rounds] = stats(&r)->throttle_pct;
        if (rc == CKPT_STEP_DONE)
            break;
    }
    const struct ckpt_stats *st = stats(&r);
    /* the sync after round 1 saw 200 pages dirtied while 512 were written
     * (not high); from the 2nd sync on every one is high, and every second
     * high one throttles: at the syncs that start rounds 4, 6, 8, 10 */
    ck_assert_uint_eq(seen[3], 0);
    ck_assert_uint_eq(seen[4], 20);
    ck_assert_uint_eq(seen[5], 20);
    ck_assert_uint_eq(seen[6], 30);
    ck_assert_uint_eq(seen[8], 40);
    ck_assert_uint_eq(seen[10], 50);
    ck_assert_uint_eq(seen[12], 50);       /* capped: no longer progress */
    ck_assert_uint_eq(st->throttle_max_pct, 50);
    ck_assert(st->forced_stop);
    ck_assert_uint_eq(st->rounds, 13);     /* 10 raised it last; 11, 12, 13 stall */
    ck_assert_uint_eq(st->throttle_pct, 0);
    ck_assert_uint_eq(st->throttle_checks, 12);   /* every sync but the first and last */
    ck_assert_uint_eq(st->forced_syncs, 0);       /* a sync every 2 s: no timer sync */
    assert_image_ok(&r);
    rig_fini(&r);
}
END_TEST

/*
 * Rounds shorter than a period (100 blocks at 2 ms: 0.2 s): the throttle
 * is judged only at the first sync more than 1 s into a period, on the
 * pages dirtied by all of the period's syncs against the bytes written
 * during it; the short rounds between do not count towards a forced stop.
 */
START_TEST(test_ckpt_precopy_auto_converge_judges_periods_of_a_second)
{
    struct rig r;
    rig_init(&r, "precopy", 512, 1 << 16);
    fake_blk_set_timing(r.dev, &r.clk, 10000, 2 * 1000 * 1000);
    r.cfg.io_pages = 32;
    r.cfg.max_downtime_ns = 1;
    r.cfg.stall_rounds = 2;
    r.cfg.auto_converge = true;
    r.cfg.throttle_max = 30;
    rig_start(&r);
    uint32_t rise_round[2] = { 0 };
    uint64_t rise_ns[2] = { 0 };
    g_hot = 100;
    for (;;) {
        if (r.stuns == 0)
            for (uint64_t p = 0; p < g_hot; p++)
                ck_assert_int_eq(vcpu(&r, p, true), 0);
        uint32_t was = stats(&r)->throttle_pct;
        int rc = step_once(&r);
        ck_assert_int_ge(rc, 0);
        uint32_t now = stats(&r)->throttle_pct;
        if (now > was) {
            uint32_t i = now == 20 ? 0 : 1;
            rise_round[i] = stats(&r)->rounds;
            rise_ns[i] = r.clk.now_ns;
        }
        if (rc == CKPT_STEP_DONE)
            break;
    }
    const struct ckpt_stats *st = stats(&r);
    ck_assert_uint_eq(st->throttle_max_pct, 30);
    /* every rise takes two periods of more than 1 s, several rounds each */
    ck_assert_uint_gt(rise_ns[0], 2000ull * 1000 * 1000);
    ck_assert_uint_gt(rise_ns[1] - rise_ns[0], 2000ull * 1000 * 1000);
    ck_assert_uint_gt(rise_round[1] - rise_round[0], 5);
    ck_assert_uint_lt(st->throttle_checks, st->rounds / 4);
    ck_assert(st->forced_stop);                   /* capped, then 2 periods */
    ck_assert_uint_gt(r.clk.now_ns - rise_ns[1], 2000ull * 1000 * 1000);
    assert_image_ok(&r);
    rig_fini(&r);
}
END_TEST

/* A page's latest save wins: found zero in round 1 and written since, it
 * leaves the zero map for a stream copy; with data in round 1 and zero
 * since, its copy is dropped for the zero map. */
START_TEST(test_ckpt_precopy_latest_round_decides_zero_or_data)
{
    struct rig r;
    rig_init(&r, "precopy", 512, 4096);
    r.cfg.io_pages = 32;
    fake_mem_set_zero(r.mem, 0, 64);
    rig_start(&r);                 /* starts a clean dirty log: the zeros are not dirty */
    bool changed = false;
    for (;;) {
        if (!changed && stats(&r)->pages_copied_bg >= 128) {
            /* round 1 is past pages 0..191: 0..9 get data, 100..104 zeros */
            ck_assert_uint_eq(stats(&r)->rounds, 1);
            for (uint64_t p = 0; p < 10; p++)
                ck_assert_int_eq(vcpu(&r, p, true), 0);
            fake_mem_set_zero(r.mem, 100, 5);
            changed = true;
        }
        int rc = step_once(&r);
        ck_assert_int_ge(rc, 0);
        if (rc == CKPT_STEP_DONE)
            break;
    }
    ck_assert(changed);
    ck_assert_int_eq(r.stuns, 1);
    assert_image_ok(&r);                               /* the memory at the stop */
    const struct ckpt_stats *st = stats(&r);
    ck_assert_uint_eq(st->zero_pages, 64 - 10 + 5);
    ck_assert_uint_eq(st->pages_rewritten, 15);
    struct ckpt_image *img = NULL;
    ck_assert_int_eq(ckpt_image_load_store(r.dev->store, &img, NULL), 0);
    ck_assert(!ckpt_image_is_zero(img, 3));
    ck_assert_uint_ne(img->page_lba[3], 0);
    ck_assert(ckpt_image_is_zero(img, 102));
    ck_assert_uint_eq(img->page_lba[102], 0);
    ck_assert(ckpt_image_is_zero(img, 10));
    ckpt_image_free(img);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_precopy_stream_longer_than_file_is_enospc)
{
    struct rig r;
    rig_init(&r, "precopy", 64, 100);
    r.cfg.stall_rounds = 10;
    r.cfg.max_downtime_ns = 0;
    rig_start(&r);
    ck_assert_int_eq(drive_precopy(&r, 30), VM_ENOSPC);
    ck_assert(!has_header(&r));
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_precopy_rejects_bad_throttle)
{
    struct rig r;
    rig_init(&r, "precopy", 64, 256);
    struct vm_diag d = { 0 };
    r.cfg.auto_converge = true;
    r.cfg.throttle_initial = 60;
    r.cfg.throttle_max = 50;
    ck_assert_int_eq(r.pol->start(&r.cfg, &r.env, &r.s, &d), VM_EINVAL);
    ck_assert_str_eq(d.msg, "precopy: expected 1 <= throttle_initial <= throttle_max <= 99");
    rig_fini(&r);
}
END_TEST

static Suite *live_suite(void)
{
    Suite *s = suite_create("ckpt_live");
    TCase *tb = tcase_create("bgsnap");
    tcase_add_test(tb, test_ckpt_bgsnap_stream_is_written_in_io_pages_writes);
    tcase_add_test(tb, test_ckpt_bgsnap_fault_copies_one_page_and_the_write_proceeds);
    tcase_add_test(tb, test_ckpt_bgsnap_zero_pages_stay_out_of_the_stream);
    tcase_add_test(tb, test_ckpt_bgsnap_eagain_only_when_the_guest_fills_the_buffer);
    tcase_add_loop_test(tb, test_ckpt_bgsnap_cow_under_interleaving, 0, 8);
    tcase_add_test(tb, test_ckpt_bgsnap_rejects_bad_cfg);
    suite_add_tcase(s, tb);
    TCase *tp = tcase_create("precopy");
    tcase_set_timeout(tp, 30);          /* the auto-converge tests drive ~100 rounds */
    tcase_add_test(tp, test_ckpt_precopy_forced_stop_when_the_set_stops_shrinking);
    tcase_add_test(tp, test_ckpt_precopy_no_cap_while_the_set_shrinks);
    tcase_add_test(tp, test_ckpt_precopy_stops_when_rest_fits_downtime);
    tcase_add_test(tp, test_ckpt_precopy_max_bandwidth_waits_per_window_until_the_stop);
    tcase_add_test(tp, test_ckpt_precopy_image_equals_memory_at_stun);
    tcase_add_test(tp, test_ckpt_precopy_auto_converge_steps_the_throttle);
    tcase_add_test(tp, test_ckpt_precopy_auto_converge_judges_periods_of_a_second);
    tcase_add_test(tp, test_ckpt_precopy_latest_round_decides_zero_or_data);
    tcase_add_test(tp, test_ckpt_precopy_stream_longer_than_file_is_enospc);
    tcase_add_test(tp, test_ckpt_precopy_rejects_bad_throttle);
    suite_add_tcase(s, tp);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(live_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
