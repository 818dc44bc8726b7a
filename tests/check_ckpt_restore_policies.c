/*
 * check_ckpt_restore_policies.c - Check suite "ckpt_restore", the
 * policies at work: eager (every page before the guest runs), lazy (a
 * fault reads its block; a background pass completes the rest) and
 * sblock (a fault installs its whole storage block), on every image
 * layout, with fake ports.  The images and the restore driver are
 * tests/ckpt_restore_rig.*; corrupt images, I/O errors, zero pages and
 * the registry are check_ckpt_restore_errors.c.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "base/vm_units.h"
#include "checkpoint/ckpt.h"
#include "checkpoint/ckpt_file.h"
#include "checkpoint/ckpt_restore_common.h"
#include "fakes/fake_blk.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_mem.h"
#include "ckpt_restore_rig.h"

/* ---- eager ----------------------------------------------------------------- */

static void eager_restores(enum img_kind kind)
{
    struct image im;
    make_image(kind, &im);
    struct rst t;
    ck_assert_int_eq(rst_start(&t, "eager", NULL, &im, NR_PAGES), 0);
    int rc;
    for (;;) {
        rc = t.pol->step(t.r);
        if (rc != CKPT_STEP_WAIT)
            break;
        ck_assert(!t.pol->runnable(t.r));
        ck_assert_uint_le(fake_blk_nr_queued(im.dev), 8);     /* io_depth */
        ck_assert_uint_eq(fake_blk_run_one(im.dev), 1);
    }
    ck_assert_int_eq(rc, CKPT_STEP_DONE);
    ck_assert(t.pol->runnable(t.r));
    assert_restored(&t, &im);
    ck_assert_uint_eq(rst_stats(&t)->restore_faults, 0);
    ck_assert_uint_eq(rst_stats(&t)->pages_prefetched, NR_PAGES);
    ck_assert_uint_eq(rst_stats(&t)->read_ios, rst_stats(&t)->read_reqs);
    if (kind == IMG_FLAT) {
        /* header + ceil(1030 / 256) = 5 runs of 256 blocks */
        ck_assert_uint_eq(rst_stats(&t)->read_reqs, 1 + 5);
        ck_assert_uint_eq(rst_stats(&t)->bytes_read, (1 + NR_PAGES) * 4096ull);
    } else if (kind != IMG_STREAM) {
        ck_assert_uint_eq(data_reads(&im), nr_sblocks(&im));
        ck_assert_uint_eq(rst_stats(&t)->read_reqs, 2 + nr_sblocks(&im));
    }
    ck_assert_uint_eq(rst_stats(&t)->decompress_out,
                      kind == IMG_SBLOCK_Z ? NR_PAGES * 4096ull : 0);
    rst_end(&t);
    free_image(&im);
}

START_TEST(test_ckpt_restore_eager_flat_restores_every_page_before_runnable)
{
    eager_restores(IMG_FLAT);
}
END_TEST

START_TEST(test_ckpt_restore_eager_stream_installs_latest_copies)
{
    eager_restores(IMG_STREAM);
}
END_TEST

START_TEST(test_ckpt_restore_eager_sblock_reads_one_request_per_storage_block)
{
    eager_restores(IMG_SBLOCK);
}
END_TEST

START_TEST(test_ckpt_restore_eager_compressed_sblock_counts_decompression)
{
    eager_restores(IMG_SBLOCK_Z);
}
END_TEST

START_TEST(test_ckpt_restore_eager_abits_sblock_restores_grouped_pages)
{
    eager_restores(IMG_SBLOCK_ABITS);
}
END_TEST

START_TEST(test_ckpt_restore_eager_flat_reads_io_pages_blocks_per_request)
{
    struct image im;
    make_image(IMG_FLAT, &im);
    struct rst t;
    struct ckpt_restore_cfg cfg = { .io_pages = 100, .io_depth = 2 };
    ck_assert_int_eq(rst_start(&t, "eager", &cfg, &im, NR_PAGES), 0);
    int rc;
    while ((rc = t.pol->step(t.r)) == CKPT_STEP_WAIT) {
        ck_assert_uint_le(fake_blk_nr_queued(im.dev), 2);
        ck_assert_uint_eq(fake_blk_run_one(im.dev), 1);
    }
    ck_assert_int_eq(rc, CKPT_STEP_DONE);
    /* header, then 11 sequential reads: 10 x 100 blocks and 30 */
    ck_assert_uint_eq(fake_blk_log_len(im.dev), 12);
    for (size_t i = 1; i < 12; i++) {
        const struct fake_blk_logent *e = fake_blk_log_at(im.dev, i);
        ck_assert_uint_eq(e->lba, im.hdr.data_lba + (i - 1) * 100);
        ck_assert_uint_eq(e->nr_blocks, i < 11 ? 100 : 30);
        ck_assert_int_eq(e->packed, 0);
    }
    assert_restored(&t, &im);
    rst_end(&t);
    free_image(&im);
}
END_TEST

/* ---- lazy ------------------------------------------------------------------ */

START_TEST(test_ckpt_restore_lazy_flat_issues_one_block_read_per_fault)
{
    struct image im;
    make_image(IMG_FLAT, &im);
    struct rst t;
    struct ckpt_restore_cfg cfg = { .background = false };
    ck_assert_int_eq(rst_start(&t, "lazy", &cfg, &im, NR_PAGES), 0);
    ck_assert(!t.pol->runnable(t.r));
    rst_load(&t, &im);
    fake_blk_log_clear(im.dev);
    static const uint64_t pages[] = { 5, 900, 6, 1029, 0 };
    for (size_t i = 0; i < 5; i++) {
        ck_assert_int_eq(rst_touch(&t, &im, pages[i], i % 2), 0);
        ck_assert_uint_eq(fake_blk_log_len(im.dev), i + 1);
        const struct fake_blk_logent *e = fake_blk_log_at(im.dev, i);
        ck_assert_uint_eq(e->lba, im.hdr.data_lba + pages[i]);
        ck_assert_uint_eq(e->nr_blocks, 1);
        ck_assert_int_eq(e->packed, 0);
    }
    ck_assert_uint_eq(rst_stats(&t)->restore_faults, 5);
    ck_assert_uint_eq(rst_stats(&t)->pages_installed, 5);
    ck_assert_uint_eq(rst_stats(&t)->pages_prefetched, 0);
    ck_assert_uint_eq(rst_stats(&t)->read_reqs, 1 + 5);
    /* an installed page is never faulted or read again */
    ck_assert_int_eq(t.pol->fault(t.r, 900), 0);
    ck_assert_uint_eq(fake_blk_log_len(im.dev), 5);
    /* the page the guest read has the image content (1029 was written since) */
    ck_assert_uint_eq(t.mem->fp[5], im.expect[5]);
    ck_assert_uint_eq(t.mem->fp[6], im.expect[6]);
    ck_assert_uint_ne(t.mem->fp[900], im.expect[900]);
    rst_end(&t);
    free_image(&im);
}
END_TEST

START_TEST(test_ckpt_restore_lazy_fault_while_read_in_flight_issues_no_second_read)
{
    struct image im;
    make_image(IMG_FLAT, &im);
    struct rst t;
    struct ckpt_restore_cfg cfg = { .background = false };
    ck_assert_int_eq(rst_start(&t, "lazy", &cfg, &im, NR_PAGES), 0);
    rst_load(&t, &im);
    fake_blk_log_clear(im.dev);
    ck_assert_int_eq(t.pol->fault(t.r, 42), VM_EAGAIN);
    ck_assert_int_eq(t.pol->fault(t.r, 42), VM_EAGAIN);    /* second vCPU, same page */
    ck_assert_uint_eq(fake_blk_nr_queued(im.dev), 1);
    ck_assert_uint_eq(rst_stats(&t)->restore_faults, 1);
    ck_assert_uint_eq(fake_blk_run(im.dev), 1);
    ck_assert_int_eq(t.pol->fault(t.r, 42), 0);
    ck_assert_uint_eq(t.mem->fp[42], im.expect[42]);
    ck_assert_uint_eq(fake_blk_log_len(im.dev), 1);
    rst_end(&t);
    free_image(&im);
}
END_TEST

START_TEST(test_ckpt_restore_lazy_without_background_waits_until_every_page_faulted)
{
    struct image im;
    make_image(IMG_SBLOCK, &im);
    struct rst t;
    struct ckpt_restore_cfg cfg = { .background = false };
    ck_assert_int_eq(rst_start(&t, "lazy", &cfg, &im, NR_PAGES), 0);
    rst_load(&t, &im);
    ck_assert_int_eq(rst_drive(&t, &im), CKPT_STEP_WAIT);
    ck_assert_uint_eq(rst_stats(&t)->pages_installed, 0);
    for (uint64_t p = NR_PAGES; p-- > 0;) {
        ck_assert_int_eq(t.pol->step(t.r), CKPT_STEP_WAIT);
        ck_assert_int_eq(rst_touch(&t, &im, p, false), 0);
    }
    ck_assert_int_eq(t.pol->step(t.r), CKPT_STEP_DONE);
    assert_restored(&t, &im);
    ck_assert_uint_eq(rst_stats(&t)->restore_faults, NR_PAGES);
    ck_assert_uint_eq(rst_stats(&t)->pages_prefetched, 0);
    ck_assert_uint_eq(data_reads(&im), NR_PAGES);
    rst_end(&t);
    free_image(&im);
}
END_TEST

/* Background streaming alone restores the image: no fault at all. */
static void lazy_background_restores(enum img_kind kind)
{
    struct image im;
    make_image(kind, &im);
    struct rst t;
    ck_assert_int_eq(rst_start(&t, "lazy", NULL, &im, NR_PAGES), 0);
    int rc;
    while ((rc = t.pol->step(t.r)) == CKPT_STEP_WAIT) {
        ck_assert_uint_le(fake_blk_nr_queued(im.dev), 4);     /* io_depth */
        ck_assert_uint_eq(fake_blk_run_one(im.dev), 1);
    }
    ck_assert_int_eq(rc, CKPT_STEP_DONE);
    assert_restored(&t, &im);
    ck_assert_uint_eq(rst_stats(&t)->restore_faults, 0);
    ck_assert_uint_eq(rst_stats(&t)->pages_prefetched, NR_PAGES);
    if (kind == IMG_FLAT)   /* header + ceil(1030 / 64) = 17 runs */
        ck_assert_uint_eq(rst_stats(&t)->read_reqs, 1 + 17);
    rst_end(&t);
    free_image(&im);
}

START_TEST(test_ckpt_restore_lazy_background_completes_flat_without_faults)
{
    lazy_background_restores(IMG_FLAT);
}
END_TEST

START_TEST(test_ckpt_restore_lazy_background_completes_stream_without_faults)
{
    lazy_background_restores(IMG_STREAM);
}
END_TEST

START_TEST(test_ckpt_restore_lazy_background_completes_compressed_sblock)
{
    lazy_background_restores(IMG_SBLOCK_Z);
}
END_TEST

START_TEST(test_ckpt_restore_lazy_stream_fault_reads_the_latest_copy)
{
    struct image im;
    make_image(IMG_STREAM, &im);
    struct ckpt_image *img = NULL;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(ckpt_image_load_store(im.dev->store, &img, &d), 0);
    struct rst t;
    struct ckpt_restore_cfg cfg = { .background = false };
    ck_assert_int_eq(rst_start(&t, "lazy", &cfg, &im, NR_PAGES), 0);
    rst_load(&t, &im);
    fake_blk_log_clear(im.dev);
    for (uint64_t p = 0; p < NR_PAGES; p += 37) {
        size_t before = fake_blk_log_len(im.dev);
        ck_assert_int_eq(rst_touch(&t, &im, p, false), 0);
        ck_assert_uint_eq(fake_blk_log_len(im.dev), before + 1);
        ck_assert_uint_eq(fake_blk_log_at(im.dev, before)->lba, img->page_lba[p]);
        ck_assert_uint_eq(t.mem->fp[p], im.expect[p]);
    }
    ckpt_image_free(img);
    rst_end(&t);
    free_image(&im);
}
END_TEST

START_TEST(test_ckpt_restore_lazy_sblock_fault_reads_one_block_of_the_storage_block)
{
    struct image im;
    make_image(IMG_SBLOCK_ABITS, &im);
    struct ckpt_image *img = NULL;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(ckpt_image_load_store(im.dev->store, &img, &d), 0);
    struct rst t;
    struct ckpt_restore_cfg cfg = { .background = false };
    ck_assert_int_eq(rst_start(&t, "lazy", &cfg, &im, NR_PAGES), 0);
    rst_load(&t, &im);
    fake_blk_log_clear(im.dev);
    ck_assert_int_eq(rst_touch(&t, &im, 500, false), 0);
    struct ckpt_loc loc;
    ck_assert_int_eq(ckpt_image_locate(img, 500, &loc), 0);
    ck_assert_uint_eq(fake_blk_log_len(im.dev), 1);
    ck_assert_uint_eq(fake_blk_log_at(im.dev, 0)->lba, loc.lba);
    ck_assert_uint_eq(fake_blk_log_at(im.dev, 0)->nr_blocks, 1);
    ck_assert_uint_eq(t.mem->fp[500], im.expect[500]);
    ck_assert_uint_eq(rst_stats(&t)->pages_installed, 1);
    ckpt_image_free(img);
    rst_end(&t);
    free_image(&im);
}
END_TEST

START_TEST(test_ckpt_restore_lazy_compressed_fault_reads_extent_installs_one_page)
{
    struct image im;
    make_image(IMG_SBLOCK_Z, &im);
    struct ckpt_image *img = NULL;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(ckpt_image_load_store(im.dev->store, &img, &d), 0);
    struct rst t;
    struct ckpt_restore_cfg cfg = { .background = false };
    ck_assert_int_eq(rst_start(&t, "lazy", &cfg, &im, NR_PAGES), 0);
    rst_load(&t, &im);
    fake_blk_log_clear(im.dev);
    ck_assert_int_eq(rst_touch(&t, &im, 3, false), 0);
    struct ckpt_loc loc;
    ck_assert_int_eq(ckpt_image_locate(img, 3, &loc), 0);
    ck_assert(loc.packed);
    ck_assert_uint_eq(fake_blk_log_len(im.dev), 1);
    const struct fake_blk_logent *e = fake_blk_log_at(im.dev, 0);
    ck_assert_uint_eq(e->lba, loc.extent_lba);
    ck_assert_uint_eq(e->nr_blocks, loc.extent_blocks);
    ck_assert_int_eq(e->packed, 1);
    ck_assert_uint_eq(rst_stats(&t)->pages_installed, 1);
    ck_assert_uint_eq(rst_stats(&t)->pages_prefetched, 0);
    uint32_t sb = img->block_sblock[ckpt_image_page_block(img, 3)];
    ck_assert_uint_eq(img->sblocks[sb].nr_members, SBLOCK_BLOCKS);
    ck_assert_uint_eq(rst_stats(&t)->decompress_out, 4096ull * SBLOCK_BLOCKS * BLOCK_PAGES);
    ck_assert_uint_eq(t.mem->fp[3], im.expect[3]);
    ck_assert(!port_mem_is_present(&t.mem->base, 2));
    /* the next page of the same extent is read again, by its own fault */
    ck_assert_int_eq(rst_touch(&t, &im, 2, false), 0);
    ck_assert_uint_eq(fake_blk_log_len(im.dev), 2);
    ck_assert_uint_eq(t.mem->fp[2], im.expect[2]);
    ckpt_image_free(img);
    rst_end(&t);
    free_image(&im);
}
END_TEST

/* ---- sblock ---------------------------------------------------------------- */

static void sblock_one_fault(bool install_all)
{
    struct image im;
    make_image(IMG_SBLOCK, &im);
    struct ckpt_image *img = NULL;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(ckpt_image_load_store(im.dev->store, &img, &d), 0);
    struct rst t;
    struct ckpt_restore_cfg cfg = { .install_all = install_all, .background = false };
    ck_assert_int_eq(rst_start(&t, "sblock", &cfg, &im, NR_PAGES), 0);
    rst_load(&t, &im);
    fake_blk_log_clear(im.dev);
    uint64_t page = 81;          /* block 10 */
    ck_assert_int_eq(rst_touch(&t, &im, page, false), 0);
    uint32_t sb = img->block_sblock[10];
    const struct ckpt_sblock *s = &img->sblocks[sb];
    ck_assert_uint_eq(s->nr_members, SBLOCK_BLOCKS);
    ck_assert_uint_eq(fake_blk_log_len(im.dev), 1);
    const struct fake_blk_logent *e = fake_blk_log_at(im.dev, 0);
    ck_assert_uint_eq(e->lba, s->lba);
    ck_assert_uint_eq(e->nr_blocks, s->nr_blocks);
    uint64_t nb = (uint64_t)SBLOCK_BLOCKS * BLOCK_PAGES;
    ck_assert_uint_eq(rst_stats(&t)->restore_faults, 1);
    ck_assert_uint_eq(rst_stats(&t)->pages_installed, install_all ? nb : BLOCK_PAGES);
    ck_assert_uint_eq(rst_stats(&t)->pages_prefetched, install_all ? nb - BLOCK_PAGES : 0);
    /* the installed pages are exactly the storage block's (or the block's) */
    uint64_t pages[BLOCK_PAGES];
    for (uint32_t j = 0; j < s->nr_members; j++) {
        uint32_t b = img->members[s->first_member + j];
        uint32_t n = ckpt_image_block_pages(img, b, pages);
        for (uint32_t k = 0; k < n; k++) {
            bool want = install_all || b == 10;
            ck_assert_int_eq(port_mem_is_present(&t.mem->base, pages[k]), want);
            if (want)
                ck_assert_uint_eq(t.mem->fp[pages[k]], im.expect[pages[k]]);
        }
    }
    ckpt_image_free(img);
    rst_end(&t);
    free_image(&im);
}

START_TEST(test_ckpt_restore_sblock_fault_installs_whole_storage_block)
{
    sblock_one_fault(true);
}
END_TEST

START_TEST(test_ckpt_restore_sblock_without_install_all_installs_faulting_block_only)
{
    sblock_one_fault(false);
}
END_TEST

START_TEST(test_ckpt_restore_sblock_concurrent_faults_on_one_storage_block_share_a_read)
{
    struct image im;
    make_image(IMG_SBLOCK_Z, &im);
    struct ckpt_image *img = NULL;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(ckpt_image_load_store(im.dev->store, &img, &d), 0);
    struct rst t;
    struct ckpt_restore_cfg cfg = { .install_all = false, .background = false };
    ck_assert_int_eq(rst_start(&t, "sblock", &cfg, &im, NR_PAGES), 0);
    rst_load(&t, &im);
    fake_blk_log_clear(im.dev);
    /* three vCPUs fault on two blocks of one storage block */
    uint32_t sb = img->block_sblock[0];
    const struct ckpt_sblock *s = &img->sblocks[sb];
    uint64_t pa[BLOCK_PAGES], pb[BLOCK_PAGES];
    ckpt_image_block_pages(img, img->members[s->first_member], pa);
    ckpt_image_block_pages(img, img->members[s->first_member + 2], pb);
    ck_assert_int_eq(t.pol->fault(t.r, pa[1]), VM_EAGAIN);
    ck_assert_int_eq(t.pol->fault(t.r, pb[3]), VM_EAGAIN);
    ck_assert_int_eq(t.pol->fault(t.r, pa[1]), VM_EAGAIN);
    ck_assert_uint_eq(fake_blk_nr_queued(im.dev), 1);
    ck_assert_uint_eq(rst_stats(&t)->restore_faults, 2);
    ck_assert_uint_eq(fake_blk_run(im.dev), 1);
    ck_assert_int_eq(t.pol->fault(t.r, pa[1]), 0);
    ck_assert_int_eq(t.pol->fault(t.r, pb[3]), 0);
    /* both faulting blocks installed, nothing else */
    ck_assert_uint_eq(rst_stats(&t)->pages_installed, 2 * BLOCK_PAGES);
    ck_assert_uint_eq(rst_stats(&t)->pages_prefetched, 0);
    for (uint32_t k = 0; k < BLOCK_PAGES; k++) {
        ck_assert_uint_eq(t.mem->fp[pa[k]], im.expect[pa[k]]);
        ck_assert_uint_eq(t.mem->fp[pb[k]], im.expect[pb[k]]);
    }
    ck_assert_uint_eq(rst_stats(&t)->decompress_out, 4096ull * SBLOCK_BLOCKS * BLOCK_PAGES);
    ckpt_image_free(img);
    rst_end(&t);
    free_image(&im);
}
END_TEST

static void sblock_background_restores(enum img_kind kind)
{
    struct image im;
    make_image(kind, &im);
    struct rst t;
    ck_assert_int_eq(rst_start(&t, "sblock", NULL, &im, NR_PAGES), 0);
    int rc;
    while ((rc = t.pol->step(t.r)) == CKPT_STEP_WAIT) {
        ck_assert_uint_le(fake_blk_nr_queued(im.dev), 4);     /* io_depth */
        ck_assert_uint_eq(fake_blk_run_one(im.dev), 1);
    }
    ck_assert_int_eq(rc, CKPT_STEP_DONE);
    assert_restored(&t, &im);
    ck_assert_uint_eq(rst_stats(&t)->restore_faults, 0);
    ck_assert_uint_eq(data_reads(&im), nr_sblocks(&im));
    rst_end(&t);
    free_image(&im);
}

START_TEST(test_ckpt_restore_sblock_background_completes_without_faults)
{
    sblock_background_restores(IMG_SBLOCK);
}
END_TEST

START_TEST(test_ckpt_restore_sblock_background_completes_compressed_image)
{
    sblock_background_restores(IMG_SBLOCK_Z);
}
END_TEST

START_TEST(test_ckpt_restore_sblock_background_completes_abits_image)
{
    sblock_background_restores(IMG_SBLOCK_ABITS);
}
END_TEST

/*
 * Faults racing the background: every page installed exactly once, and a
 * page the guest wrote after its install keeps the guest's content.
 */
static void faults_race_background(const char *policy, enum img_kind kind)
{
    struct image im;
    make_image(kind, &im);
    struct rst t;
    ck_assert_int_eq(rst_start(&t, policy, NULL, &im, NR_PAGES), 0);
    rst_load(&t, &im);
    uint64_t *written = vm_bitmap_new(NR_PAGES);   /* pages the guest wrote */
    ck_assert_ptr_nonnull(written);
    int rc = CKPT_STEP_WAIT;
    for (uint64_t i = 0; rc != CKPT_STEP_DONE; i++) {
        ck_assert_uint_lt(i, 100000);
        uint64_t p = (i * 211 + 17) % NR_PAGES;
        bool w = i % 5 == 0;
        ck_assert_int_eq(rst_touch(&t, &im, p, w), 0);
        if (w)
            vm_bitmap_set(written, p);
        rc = t.pol->step(t.r);
        ck_assert_int_ge(rc, 0);
        if (rc == CKPT_STEP_WAIT)
            fake_blk_run_one(im.dev);
    }
    ck_assert_uint_eq(rst_stats(&t)->pages_installed, NR_PAGES);
    ck_assert_uint_gt(rst_stats(&t)->restore_faults, 0);
    ck_assert_uint_le(rst_stats(&t)->pages_prefetched, NR_PAGES - 1);
    for (uint64_t p = 0; p < NR_PAGES; p++) {
        if (vm_bitmap_test(written, p))
            ck_assert_uint_ne(t.mem->fp[p], im.expect[p]);
        else
            ck_assert_uint_eq(t.mem->fp[p], im.expect[p]);
    }
    vm_bitmap_free(written);
    rst_end(&t);
    free_image(&im);
}

START_TEST(test_ckpt_restore_sblock_fault_racing_background_installs_each_page_once)
{
    faults_race_background("sblock", IMG_SBLOCK);
}
END_TEST

START_TEST(test_ckpt_restore_lazy_fault_racing_background_installs_each_page_once)
{
    faults_race_background("lazy", IMG_FLAT);
    faults_race_background("lazy", IMG_SBLOCK_Z);
}
END_TEST

START_TEST(test_ckpt_restore_sblock_on_flat_or_stream_image_is_not_supported)
{
    for (int k = 0; k < 2; k++) {
        struct image im;
        make_image(k ? IMG_STREAM : IMG_FLAT, &im);
        struct rst t;
        ck_assert_int_eq(rst_start(&t, "sblock", NULL, &im, NR_PAGES), 0);
        ck_assert_int_eq(rst_drive(&t, &im), VM_ENOTSUP);
        ck_assert(!t.pol->runnable(t.r));
        ck_assert_ptr_nonnull(strstr(ckpt_restore_common_diag(t.r),
                                     k ? "layout is 'stream'" : "layout is 'flat'"));
        rst_end(&t);
        free_image(&im);
    }
}
END_TEST

static Suite *ckpt_restore_suite(void)
{
    Suite *s = suite_create("ckpt_restore");
    TCase *tc = tcase_create("eager");
    tcase_add_test(tc, test_ckpt_restore_eager_flat_restores_every_page_before_runnable);
    tcase_add_test(tc, test_ckpt_restore_eager_stream_installs_latest_copies);
    tcase_add_test(tc, test_ckpt_restore_eager_sblock_reads_one_request_per_storage_block);
    tcase_add_test(tc, test_ckpt_restore_eager_compressed_sblock_counts_decompression);
    tcase_add_test(tc, test_ckpt_restore_eager_abits_sblock_restores_grouped_pages);
    tcase_add_test(tc, test_ckpt_restore_eager_flat_reads_io_pages_blocks_per_request);
    suite_add_tcase(s, tc);

    tc = tcase_create("lazy");
    tcase_add_test(tc, test_ckpt_restore_lazy_flat_issues_one_block_read_per_fault);
    tcase_add_test(tc, test_ckpt_restore_lazy_fault_while_read_in_flight_issues_no_second_read);
    tcase_add_test(tc, test_ckpt_restore_lazy_without_background_waits_until_every_page_faulted);
    tcase_add_test(tc, test_ckpt_restore_lazy_background_completes_flat_without_faults);
    tcase_add_test(tc, test_ckpt_restore_lazy_background_completes_stream_without_faults);
    tcase_add_test(tc, test_ckpt_restore_lazy_background_completes_compressed_sblock);
    tcase_add_test(tc, test_ckpt_restore_lazy_stream_fault_reads_the_latest_copy);
    tcase_add_test(tc, test_ckpt_restore_lazy_sblock_fault_reads_one_block_of_the_storage_block);
    tcase_add_test(tc, test_ckpt_restore_lazy_compressed_fault_reads_extent_installs_one_page);
    tcase_add_test(tc, test_ckpt_restore_lazy_fault_racing_background_installs_each_page_once);
    suite_add_tcase(s, tc);

    tc = tcase_create("sblock");
    tcase_add_test(tc, test_ckpt_restore_sblock_fault_installs_whole_storage_block);
    tcase_add_test(tc, test_ckpt_restore_sblock_without_install_all_installs_faulting_block_only);
    tcase_add_test(tc,
                   test_ckpt_restore_sblock_concurrent_faults_on_one_storage_block_share_a_read);
    tcase_add_test(tc, test_ckpt_restore_sblock_background_completes_without_faults);
    tcase_add_test(tc, test_ckpt_restore_sblock_background_completes_compressed_image);
    tcase_add_test(tc, test_ckpt_restore_sblock_background_completes_abits_image);
    tcase_add_test(tc, test_ckpt_restore_sblock_fault_racing_background_installs_each_page_once);
    tcase_add_test(tc, test_ckpt_restore_sblock_on_flat_or_stream_image_is_not_supported);
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ckpt_restore_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
