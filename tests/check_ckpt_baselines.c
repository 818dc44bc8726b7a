/*
 * check_ckpt_baselines.c - Check suite "ckpt", the baselines and errors:
 * the save policies stopcopy and lazypage, every policy under write
 * errors, and the policy registry, run against the fake ports in
 * tests/fakes through the rig of ckpt_rig.h.  The buffered policy and
 * zero pages are check_ckpt_buffered.c; the file format is
 * check_ckpt_file.c; the live baselines as QEMU runs them (bgsnap,
 * precopy) are check_ckpt_live.c; the restore side is
 * check_ckpt_restore_*.c.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "base/vm_rand.h"
#include "base/vm_units.h"
#include "checkpoint/ckpt.h"
#include "checkpoint/ckpt_file.h"
#include "fakes/fake_blk.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_mem.h"

#include "ckpt_rig.h"

/* ---- stopcopy ---- */

/* mapped-ram: page p at block data_lba + p, in GPA-order chunks */
START_TEST(test_ckpt_stopcopy_image_equals_memory)
{
    struct rig r;
    rig_init(&r, "stopcopy", 1000, 1100);
    r.cfg.layout = CKPT_SC_MAPPED_RAM;
    r.cfg.io_pages = 64;
    r.cfg.io_depth = 3;
    rig_start(&r);
    ck_assert(r.pol->flags & CKPT_F_STUN_ALL);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    const struct ckpt_stats *st = stats(&r);
    ck_assert_uint_eq(st->write_reqs, 16 + 1);            /* ceil(1000/64) + header */
    ck_assert_uint_eq(st->bytes_written, 1000 * 4096 + 4096);
    ck_assert_uint_eq(st->meta_bytes, 4096);
    ck_assert_uint_eq(st->pages_copied_bg, 1000);
    ck_assert_uint_eq(r.max_queued, 3);
    ck_assert_uint_eq(st->staging_bytes_max, 3 * 64 * 4096);
    /* GPA order, contiguous chunks */
    for (size_t i = 0; i < 16; i++)
        ck_assert_uint_eq(fake_blk_log_at(r.dev, i)->lba, 1 + 64 * i);
    rig_fini(&r);
}
END_TEST

/* stream (the default, QEMU's legacy stream): the non-zero pages are
 * packed in GPA order into requests of io_pages pages appended one after
 * another, whatever the zero pages between them; the page map says where
 * each went, the zero map holds the zero pages. */
START_TEST(test_ckpt_stopcopy_stream_packs_non_zero_pages)
{
    struct rig r;
    rig_init(&r, "stopcopy", 1000, 1100);
    ck_assert_int_eq(r.cfg.layout, CKPT_SC_STREAM);      /* the default */
    r.cfg.io_pages = 64;
    r.cfg.io_depth = 3;
    fake_mem_set_zero(r.mem, 64, 64);
    fake_mem_set_zero(r.mem, 200, 10);
    fake_mem_set_zero(r.mem, 250, 10);
    fake_mem_set_zero(r.mem, 990, 10);
    rig_start(&r);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    const struct ckpt_stats *st = stats(&r);
    ck_assert_uint_eq(st->zero_pages, 94);
    ck_assert_uint_eq(st->pages_copied_bg, 906);
    /* ceil(906 / 64) = 15 requests of one I/O each, then the maps extent
     * (the page map and the zero map: 2 blocks) and the header */
    ck_assert_uint_eq(st->write_reqs, 15 + 2);
    ck_assert_uint_eq(st->write_ios, 15 + 2);
    ck_assert_uint_eq(st->bytes_written, (906 + 2 + 1) * 4096ull);
    ck_assert_uint_le(r.max_queued, 3);
    for (size_t i = 0; i < 15; i++) {
        const struct fake_blk_logent *e = fake_blk_log_at(r.dev, i);
        ck_assert_uint_eq(e->lba, 1 + 64 * i);            /* appended */
        ck_assert_uint_eq(e->nr_blocks, i < 14 ? 64 : 906 - 14 * 64);
        ck_assert_uint_le(e->nr_ios, 1);
    }
    struct ckpt_image *img = NULL;
    struct vm_diag d;
    ck_assert_int_eq(ckpt_image_load_store(r.dev->store, &img, &d), 0);
    ck_assert_uint_eq(img->hdr.layout, CKPT_LAYOUT_STREAM);
    ck_assert_uint_eq(img->page_lba[63], 1 + 63);
    ck_assert_uint_eq(img->page_lba[128], 1 + 64);       /* after the 64 zero pages */
    ck_assert_uint_eq(img->page_lba[210], 1 + 200 - 64);
    ck_assert_uint_eq(ckpt_image_nr_zero(img), 94);
    ckpt_image_free(img);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_stopcopy_small_file_is_enospc)
{
    struct rig r;
    rig_init(&r, "stopcopy", 100, 100);
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(r.pol->start(&r.cfg, &r.env, &r.s, &d), VM_ENOSPC);
    ck_assert_int_eq(d.code, VM_ENOSPC);
    rig_fini(&r);
}
END_TEST

/* ---- lazypage ---- */

START_TEST(test_ckpt_lazypage_one_io_per_page)
{
    struct rig r;
    rig_init(&r, "lazypage", 300, 400);
    rig_start(&r);                                        /* io_pages 64, depth 4 */
    ck_assert_int_eq(fake_mem_nr_traced(r.mem), 300);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    const struct ckpt_stats *st = stats(&r);
    ck_assert_uint_eq(st->write_ios, 300 + 1);            /* one I/O per page + header */
    ck_assert_uint_eq(st->write_reqs, 5 + 1);             /* runs of 64 */
    ck_assert_uint_eq(fake_blk_log_at(r.dev, 0)->nr_ios, 64);
    ck_assert_uint_eq(r.dev->nr_write_ios, 301);
    ck_assert_uint_eq(fake_mem_nr_traced(r.mem), 0);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_lazypage_fault_copies_single_page)
{
    struct rig r;
    rig_init(&r, "lazypage", 100, 200);
    rig_start(&r);
    ck_assert_int_eq(vcpu(&r, 50, true), 0);
    ck_assert_uint_eq(stats(&r)->pages_copied_fault, 1);
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 49), PORT_MEM_TRACE_WRITE);
    ck_assert_int_eq(fake_mem_trace_of(r.mem, 51), PORT_MEM_TRACE_WRITE);
    ck_assert_int_eq(vcpu(&r, 50, true), 0);              /* no second trap */
    ck_assert_uint_eq(stats(&r)->faults, 1);
    /* the bounce page waits in its buffer; the saver's requests skip it:
     * 0..49 + 51..64 (64 pages, vectored), then 65..99, then the partial
     * bounce buffer goes out */
    ck_assert_ptr_null(fake_blk_log_at(r.dev, 0));
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    ck_assert_uint_eq(fake_blk_log_at(r.dev, 0)->nr_blocks, 64);
    ck_assert_uint_eq(fake_blk_log_at(r.dev, 0)->nr_ios, 64);
    ck_assert_uint_eq(fake_blk_log_at(r.dev, 1)->lba, 1 + 65);
    ck_assert_uint_eq(fake_blk_log_at(r.dev, 1)->nr_blocks, 35);
    const struct fake_blk_logent *e = fake_blk_log_at(r.dev, 2);
    ck_assert_uint_eq(e->lba, 1 + 50);
    ck_assert_uint_eq(e->nr_blocks, 1);
    ck_assert_uint_eq(e->nr_ios, 1);
    ck_assert_uint_eq(stats(&r)->write_ios, 100 + 1);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_lazypage_fault_pages_go_out_as_one_vectored_run)
{
    struct rig r;
    rig_init(&r, "lazypage", 100, 200);
    r.cfg.io_pages = 3;
    rig_start(&r);
    /* three scattered faults fill a bounce buffer of three pages, which
     * goes out at once as one vectored run */
    ck_assert_int_eq(vcpu(&r, 70, true), 0);
    ck_assert_int_eq(vcpu(&r, 10, true), 0);
    ck_assert_ptr_null(fake_blk_log_at(r.dev, 0));
    ck_assert_int_eq(vcpu(&r, 90, true), 0);
    const struct fake_blk_logent *e = fake_blk_log_at(r.dev, 0);
    ck_assert_uint_eq(e->nr_blocks, 3);
    ck_assert_uint_eq(e->nr_ios, 3);                       /* one 4 KiB I/O per page */
    ck_assert_uint_eq(e->lba, 1 + 70);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);                                   /* each page at its own offset */
    ck_assert_uint_eq(stats(&r)->write_ios, 100 + 1);      /* still one I/O per page */
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_lazypage_eagain_when_bounce_pool_empty)
{
    struct rig r;
    rig_init(&r, "lazypage", 100, 200);
    r.cfg.io_pages = 1;
    r.cfg.io_depth = 2;
    rig_start(&r);
    ck_assert_int_eq(r.pol->fault(r.s, 10, true), 0);
    ck_assert_int_eq(r.pol->fault(r.s, 20, true), 0);
    ck_assert_int_eq(r.pol->fault(r.s, 30, true), VM_EAGAIN);
    ck_assert_uint_eq(stats(&r)->fault_waits, 1);
    ck_assert_uint_eq(fake_blk_run_one(r.dev), 1);
    ck_assert_int_eq(r.pol->fault(r.s, 30, true), 0);
    ck_assert_int_eq(drive(&r), 0);
    assert_image_ok(&r);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_lazypage_cow_under_interleaving)
{
    struct rig r;
    rig_init(&r, "lazypage", 400, 500);
    r.cfg.io_pages = 16;
    r.cfg.io_depth = 2;
    rig_start(&r);
    struct vm_rand rnd;
    vm_rand_init(&rnd, 3, 1);
    for (;;) {
        for (int i = 0; i < 4; i++)
            ck_assert_int_eq(vcpu(&r, vm_rand_below(&rnd, 400), true), 0);
        int rc = step_once(&r);
        ck_assert_int_ge(rc, 0);
        if (rc == CKPT_STEP_DONE)
            break;
    }
    assert_image_ok(&r);
    ck_assert_uint_eq(stats(&r)->write_ios, 400 + 1);
    ck_assert_uint_gt(stats(&r)->pages_copied_fault, 0);
    rig_fini(&r);
}
END_TEST

/* ---- every policy: I/O errors ---- */

static const char *const all_policies[] = {
    "stopcopy", "lazypage", "bgsnap", "precopy", "buffered", "buffered-unsafe-test",
    "buffered-corrupt-maps-test",
};

/* One save with guest writes interleaved; returns drive()'s result. */
static int run_with_guest(struct rig *r, struct vm_rand *rnd)
{
    bool stun_all = r->pol->flags & CKPT_F_STUN_ALL;
    for (long i = 0; i < 1000000; i++) {
        if (!stun_all && r->stuns == 0)
            ck_assert_int_eq(vcpu(r, vm_rand_below(rnd, r->nr_pages), true), 0);
        int rc = step_once(r);
        if (rc == CKPT_STEP_DONE)
            return 0;
        if (rc < 0)
            return rc;
    }
    ck_abort_msg("save never finishes");
    return VM_EINVAL;
}

START_TEST(test_ckpt_every_policy_fails_cleanly_on_each_write_error)
{
    const char *name = all_policies[_i];
    int k;
    for (k = 0;; k++) {
        struct rig r;
        rig_init(&r, name, 150, 1024);
        r.cfg.io_pages = 16;
        r.cfg.block_pages = 4;
        r.cfg.sblock_blocks = 3;
        r.cfg.compress = k % 2;
        r.cfg.stall_rounds = 2;
        r.cfg.buffer_bytes = 3 * 16 * VM_PAGE_SIZE;
        fake_mem_set_zero(r.mem, 40, 50);        /* zero pages and blocks too */
        fake_blk_fail_writes(r.dev, (uint64_t)k, VM_FAULT_ONCE, VM_EIO);
        rig_start(&r);
        struct vm_rand rnd;
        vm_rand_init(&rnd, (uint64_t)k, 5);
        int rc = run_with_guest(&r, &rnd);
        if (fake_blk_nr_failed(r.dev) == 0) {
            ck_assert_int_eq(rc, 0);              /* past the last write */
            rig_fini(&r);
            break;
        }
        ck_assert_msg(rc == VM_EIO, "%s: write %d failed, step gave %d", name, k, rc);
        ck_assert_msg(!has_header(&r), "%s: header after failed write %d", name, k);
        /* no image, the guest is free, and the error sticks */
        ck_assert_uint_eq(fake_mem_nr_traced(r.mem), 0);
        ck_assert_int_eq(r.pol->fault(r.s, 3, true), 0);
        ck_assert_int_eq(vcpu(&r, 3, true), 0);
        ck_assert_int_eq(r.pol->step(r.s), VM_EIO);
        ck_assert_uint_eq(fake_blk_nr_queued(r.dev), 0);
        rig_fini(&r);
    }
    ck_assert_int_ge(k, 3);
}
END_TEST

START_TEST(test_ckpt_every_policy_fails_on_persistent_write_error)
{
    const char *name = all_policies[_i];
    struct rig r;
    rig_init(&r, name, 200, 1024);
    fake_blk_fail_writes(r.dev, 1, VM_FAULT_PERSIST, VM_EIO);
    rig_start(&r);
    struct vm_rand rnd;
    vm_rand_init(&rnd, 1, 1);
    ck_assert_int_eq(run_with_guest(&r, &rnd), VM_EIO);
    ck_assert(!has_header(&r));
    ck_assert_uint_ge(fake_blk_nr_failed(r.dev), 1);
    rig_fini(&r);
}
END_TEST

START_TEST(test_ckpt_registry_finds_policies_and_defaults_apply)
{
    static const char *const visible[] = { "stopcopy", "lazypage", "bgsnap", "precopy",
                                           "buffered" };
    size_t n = 0;
    for (; ckpt_save_policies[n]; n++) {
        struct ckpt_cfg cfg;
        memset(&cfg, 0, sizeof(cfg));
        ck_assert_int_eq(vm_param_defaults(ckpt_save_policies[n]->params, &cfg, NULL), 0);
        /* every policy, hidden ones too, skips zero pages unless told not to */
        ck_assert_ptr_nonnull(vm_param_find(ckpt_save_policies[n]->params, "zero_pages"));
        ck_assert(cfg.zero_pages);
    }
    ck_assert_uint_eq(n, 7);
    for (size_t i = 0; i < 5; i++) {
        ck_assert_ptr_eq(ckpt_save_policy_find(visible[i]), ckpt_save_policies[i]);
        ck_assert(!(ckpt_save_policies[i]->flags & CKPT_F_HIDDEN));
    }
    ck_assert(ckpt_save_policy_find("buffered-unsafe-test")->flags & CKPT_F_HIDDEN);
    ck_assert(ckpt_save_policy_find("buffered-corrupt-maps-test")->flags & CKPT_F_HIDDEN);
    ck_assert_ptr_null(ckpt_save_policy_find("bufferd"));
    ck_assert_ptr_nonnull(ckpt_restore_policy_find("eager"));
    ck_assert_ptr_nonnull(ckpt_restore_policy_find("lazy"));
    ck_assert_ptr_nonnull(ckpt_restore_policy_find("sblock"));
    ck_assert_ptr_null(ckpt_restore_policy_find("buffered"));
    struct ckpt_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    vm_param_defaults(ckpt_save_policy_find("precopy")->params, &cfg, NULL);
    ck_assert_uint_eq(cfg.max_downtime_ns, 300 * VM_NS_PER_MS);
    ck_assert_uint_eq(cfg.stall_rounds, 5);
    ck_assert(!cfg.auto_converge);
    ck_assert_uint_eq(cfg.throttle_initial, 20);
    ck_assert_uint_eq(cfg.throttle_increment, 10);
    ck_assert_uint_eq(cfg.throttle_max, 99);
    ck_assert_uint_eq(cfg.throttle_threshold, 50);
    memset(&cfg, 0, sizeof(cfg));
    vm_param_defaults(ckpt_save_policy_find("bgsnap")->params, &cfg, NULL);
    ck_assert_uint_eq(cfg.io_pages, 256);
    ck_assert_uint_eq(cfg.io_depth, 4);
    ck_assert_uint_eq(cfg.buffer_bytes, 256ull << 20);
    memset(&cfg, 0, sizeof(cfg));
    vm_param_defaults(ckpt_save_policy_find("buffered")->params, &cfg, NULL);
    ck_assert_uint_eq(cfg.block_pages, 16);
    ck_assert_uint_eq(cfg.sblock_blocks, 8);
    ck_assert_uint_eq(cfg.nr_buffers, 2);
    ck_assert_int_eq(cfg.trace, CKPT_TRACE_WRITE);
    ck_assert_int_eq(cfg.grouping, CKPT_GROUP_GPA);
    ck_assert_ptr_null(vm_param_find(ckpt_save_policy_find("stopcopy")->params, "block_pages"));
}
END_TEST

/* A callback that records rc through req->data. */
static void cb_rec(struct port_blk_req *q, int rc) { *(int *)q->data = rc; }

START_TEST(test_ckpt_fake_blk_fails_the_kth_write_once)
{
    struct fake_blk *dev = fake_blk_new(8);
    uint64_t fp = 5;
    struct port_blk_req req[4];
    int got[4];
    for (int i = 0; i < 4; i++)
        got[i] = 1;
    fake_blk_fail_writes(dev, 1, VM_FAULT_ONCE, VM_EIO);
    for (int i = 0; i < 4; i++) {
        req[i] = (struct port_blk_req){ .op = PORT_BLK_WRITE, .lba = (uint64_t)i,
                                        .nr_blocks = 1, .fps = &fp, .cb = cb_rec,
                                        .data = &got[i] };
        ck_assert_int_eq(port_blk_submit(&dev->base, &req[i]), 0);
    }
    ck_assert_uint_eq(fake_blk_nr_queued(dev), 4);
    ck_assert_uint_eq(fake_blk_run(dev), 4);
    ck_assert_int_eq(got[0], 0);
    ck_assert_int_eq(got[1], VM_EIO);
    ck_assert_int_eq(got[2], 0);
    ck_assert_int_eq(fake_blk_nr_failed(dev), 1);
    uint64_t out[4];
    ck_assert_int_eq(vm_fpstore_get(dev->store, 0, 4, out), 0);
    ck_assert_uint_eq(out[0], 5);
    ck_assert_uint_eq(out[1], 0);                 /* the failed write left nothing */
    ck_assert_int_eq(fake_blk_log_at(dev, 1)->rc, VM_EIO);
    struct port_blk_req bad = { .op = PORT_BLK_WRITE, .lba = 7, .nr_blocks = 2, .fps = &fp,
                                .cb = cb_rec };
    ck_assert_int_eq(port_blk_submit(&dev->base, &bad), VM_ERANGE);
    fake_blk_free(dev);
}
END_TEST

static Suite *ckpt_suite(void)
{
    Suite *s = suite_create("ckpt");

    TCase *tp = tcase_create("baselines");
    tcase_add_test(tp, test_ckpt_stopcopy_image_equals_memory);
    tcase_add_test(tp, test_ckpt_stopcopy_stream_packs_non_zero_pages);
    tcase_add_test(tp, test_ckpt_stopcopy_small_file_is_enospc);
    tcase_add_test(tp, test_ckpt_lazypage_one_io_per_page);
    tcase_add_test(tp, test_ckpt_lazypage_fault_copies_single_page);
    tcase_add_test(tp, test_ckpt_lazypage_fault_pages_go_out_as_one_vectored_run);
    tcase_add_test(tp, test_ckpt_lazypage_eagain_when_bounce_pool_empty);
    tcase_add_test(tp, test_ckpt_lazypage_cow_under_interleaving);
    suite_add_tcase(s, tp);

    TCase *te = tcase_create("errors");
    tcase_add_test(te, test_ckpt_fake_blk_fails_the_kth_write_once);
    tcase_add_loop_test(te, test_ckpt_every_policy_fails_cleanly_on_each_write_error, 0,
                        (int)(sizeof all_policies / sizeof all_policies[0]));
    tcase_add_loop_test(te, test_ckpt_every_policy_fails_on_persistent_write_error, 0,
                        (int)(sizeof all_policies / sizeof all_policies[0]));
    tcase_add_test(te, test_ckpt_registry_finds_policies_and_defaults_apply);
    suite_add_tcase(s, te);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ckpt_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
