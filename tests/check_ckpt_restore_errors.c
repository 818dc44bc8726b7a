/*
 * check_ckpt_restore_errors.c - Check suite "ckpt_restore", what goes
 * wrong and the edges: corrupt headers and maps, read errors at each
 * read, zero pages installed without reads, the registry and bad
 * parameters, for every restore policy with fake ports.  The images and
 * the restore driver are tests/ckpt_restore_rig.*; the policies at work
 * are check_ckpt_restore_policies.c.
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

/* ---- corrupt images and I/O errors ---------------------------------------- */

/* Flip one byte of the packed metadata extent at lba. */
static void corrupt_packed(struct image *im, uint64_t lba, size_t at)
{
    static uint8_t buf[1 << 16];
    uint32_t len = 0;
    uint64_t nb = 0;
    ck_assert_int_eq(vm_fpstore_get_packed(im->dev->store, lba, NULL, 0, NULL, buf, sizeof buf,
                                           &len, &nb), 0);
    ck_assert_uint_lt(at, len);
    buf[at] ^= 0x5a;
    ck_assert_int_eq(vm_fpstore_put_packed(im->dev->store, lba, nb, NULL, 0, buf, len), 0);
}

START_TEST(test_ckpt_restore_corrupt_header_fails_step_with_ecorrupt)
{
    static const char *const pols[] = { "eager", "lazy", "sblock" };
    for (int i = 0; i < 3; i++) {
        struct image im;
        make_image(IMG_SBLOCK, &im);
        corrupt_packed(&im, CKPT_HEADER_LBA, 20);
        struct rst t;
        ck_assert_int_eq(rst_start(&t, pols[i], NULL, &im, NR_PAGES), 0);
        ck_assert_int_eq(rst_drive(&t, &im), VM_ECORRUPT);
        ck_assert(!t.pol->runnable(t.r));
        ck_assert_ptr_nonnull(strstr(ckpt_restore_common_diag(t.r), "header"));
        ck_assert_uint_eq(rst_stats(&t)->pages_installed, 0);
        rst_end(&t);
        free_image(&im);
    }
}
END_TEST

/* Every policy on every image with maps: the restore fails (no hang),
 * and its diag carries the decoder's reason. */
START_TEST(test_ckpt_restore_corrupt_maps_fail_step_with_ecorrupt)
{
    static const enum img_kind kinds[] = { IMG_STREAM, IMG_SBLOCK, IMG_SBLOCK_ABITS };
    static const char *const pols[] = { "eager", "lazy", "sblock" };
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            if (kinds[i] == IMG_STREAM && j == 2)
                continue;       /* sblock refuses a stream image before its maps */
            struct image im;
            make_image(kinds[i], &im);
            corrupt_packed(&im, im.hdr.maps_lba, 30);
            struct rst t;
            ck_assert_int_eq(rst_start(&t, pols[j], NULL, &im, NR_PAGES), 0);
            ck_assert_int_eq(rst_drive(&t, &im), VM_ECORRUPT);
            ck_assert(!t.pol->runnable(t.r));
            ck_assert_uint_eq(fake_blk_nr_queued(im.dev), 0);
            const char *why = t.pol->diag(t.r);
            ck_assert_str_eq(why, ckpt_restore_common_diag(t.r));
            ck_assert_msg(strstr(why, "maps: checkpoint maps: checksum mismatch"), "%s: %s",
                          pols[j], why);
            ck_assert_uint_eq(rst_stats(&t)->pages_installed, 0);
            rst_end(&t);
            free_image(&im);
        }
    }
}
END_TEST

START_TEST(test_ckpt_restore_missing_header_fails_with_ecorrupt)
{
    struct image im;
    memset(&im, 0, sizeof im);
    im.dev = fake_blk_new(64);
    struct rst t;
    ck_assert_int_eq(rst_start(&t, "eager", NULL, &im, NR_PAGES), 0);
    ck_assert_int_eq(rst_drive(&t, &im), VM_ECORRUPT);
    rst_end(&t);
    free_image(&im);
}
END_TEST

START_TEST(test_ckpt_restore_image_larger_than_memory_is_rejected)
{
    struct image im;
    make_image(IMG_FLAT, &im);
    struct rst t;
    ck_assert_int_eq(rst_start(&t, "lazy", NULL, &im, NR_PAGES - 1), 0);
    ck_assert_int_eq(rst_drive(&t, &im), VM_EINVAL);
    ck_assert_ptr_nonnull(strstr(ckpt_restore_common_diag(t.r), "1030 pages"));
    rst_end(&t);
    free_image(&im);
}
END_TEST

/* Fail the k-th read of a full restore, for every k: the restore reports
 * VM_EIO and settles (no hang, no read left in flight). */
static void read_error_sweep(const char *policy, enum img_kind kind)
{
    struct image im;
    make_image(kind, &im);
    for (uint64_t k = 0;; k++) {
        ck_assert_uint_lt(k, 1000);
        struct rst t;
        fake_blk_fail_reads(im.dev, k, VM_FAULT_ONCE, VM_EIO);   /* k = 0: the header */
        ck_assert_int_eq(rst_start(&t, policy, NULL, &im, NR_PAGES), 0);
        int rc = rst_drive(&t, &im);
        /* after the maps, the guest touches pages (eager: none) */
        for (uint64_t p = 0; rc >= 0 && rc != CKPT_STEP_DONE && t.pol->runnable(t.r) &&
                             p < NR_PAGES; p += 97) {
            int frc = rst_touch(&t, &im, p, false);
            if (frc < 0) {
                ck_assert_int_eq(frc, VM_EIO);
                break;
            }
        }
        if (rc >= 0 && rc != CKPT_STEP_DONE)
            rc = rst_drive(&t, &im);
        ck_assert_uint_eq(fake_blk_nr_queued(im.dev), 0);
        uint64_t failed = fake_blk_nr_failed(im.dev);
        fake_blk_fail_reads(im.dev, 0, VM_FAULT_OFF, 0);
        rst_end(&t);
        fake_blk_log_clear(im.dev);
        if (failed == 0) {
            ck_assert_int_eq(rc, CKPT_STEP_DONE);     /* past the last read */
            ck_assert_uint_gt(k, 2);
            break;
        }
        ck_assert_int_eq(rc, VM_EIO);
    }
    free_image(&im);
}

START_TEST(test_ckpt_restore_eager_read_error_at_each_read_fails_without_hang)
{
    read_error_sweep("eager", IMG_FLAT);
    read_error_sweep("eager", IMG_SBLOCK_Z);
}
END_TEST

START_TEST(test_ckpt_restore_lazy_read_error_at_each_read_fails_without_hang)
{
    read_error_sweep("lazy", IMG_STREAM);
}
END_TEST

START_TEST(test_ckpt_restore_sblock_read_error_at_each_read_fails_without_hang)
{
    read_error_sweep("sblock", IMG_SBLOCK);
}
END_TEST

START_TEST(test_ckpt_restore_lazy_fault_read_error_is_returned_by_fault_and_step)
{
    struct image im;
    make_image(IMG_FLAT, &im);
    struct rst t;
    struct ckpt_restore_cfg cfg = { .background = false };
    ck_assert_int_eq(rst_start(&t, "lazy", &cfg, &im, NR_PAGES), 0);
    rst_load(&t, &im);
    fake_blk_fail_reads(im.dev, 0, VM_FAULT_ONCE, VM_EIO);
    ck_assert_int_eq(t.pol->fault(t.r, 10), VM_EAGAIN);
    ck_assert_uint_eq(fake_blk_run(im.dev), 1);
    ck_assert_int_eq(t.pol->fault(t.r, 10), VM_EIO);
    ck_assert_int_eq(t.pol->fault(t.r, 11), VM_EIO);
    ck_assert_int_eq(t.pol->step(t.r), VM_EIO);
    ck_assert(!port_mem_is_present(&t.mem->base, 10));
    rst_end(&t);
    free_image(&im);
}
END_TEST

/* ---- zero pages ----------------------------------------------------------- */

/* Data blocks of the image a read covers that hold a zero page of a FLAT
 * image (its holes); other layouts keep no block for a zero page. */
static uint64_t reads_of_holes(const struct image *im)
{
    uint64_t n = 0;
    for (size_t i = 0; i < fake_blk_log_len(im->dev); i++) {
        const struct fake_blk_logent *e = fake_blk_log_at(im->dev, i);
        if (im->hdr.layout != CKPT_LAYOUT_FLAT || e->packed)
            continue;
        for (uint64_t b = e->lba; b < e->lba + e->nr_blocks; b++)
            if (b >= im->hdr.data_lba && b < im->hdr.data_lba + NR_PAGES &&
                vm_bitmap_test(im->zero, b - im->hdr.data_lba))
                n++;
    }
    return n;
}

/*
 * _i = restore policy x image kind: once the maps are loaded every zero
 * page is present as a zero page, before any read of data, and none is
 * ever read, faulted on or streamed; the restore ends with the image.
 */
START_TEST(test_ckpt_restore_every_policy_installs_zero_pages_without_reads)
{
    static const char *const pols[] = { "eager", "lazy", "sblock" };
    const char *pol = pols[_i / 5];
    enum img_kind kind = (enum img_kind)(_i % 5);
    if (strcmp(pol, "sblock") == 0 && kind < IMG_SBLOCK)
        return;                         /* storage-block images only */
    struct image im;
    make_image_zero(kind, &im);
    ck_assert_uint_gt(im.nr_zero, 0);
    struct rst t;
    ck_assert_int_eq(rst_start(&t, pol, NULL, &im, NR_PAGES), 0);
    /* header, then maps: two reads, and the zero pages are in */
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(fake_blk_run_one(im.dev), 1);
        t.pol->step(t.r);
    }
    ck_assert_uint_eq(rst_stats(&t)->zero_pages_installed, im.nr_zero);
    ck_assert_uint_eq(rst_stats(&t)->pages_installed, 0);
    for (uint64_t p = 0; p < NR_PAGES; p++) {
        bool zero = vm_bitmap_test(im.zero, p);
        ck_assert_int_eq(port_mem_is_present(&t.mem->base, p), zero);
        if (zero)
            ck_assert_uint_eq(t.mem->fp[p], VM_FP_ZERO);
    }
    /* a guest access to a zero page is no fault */
    if (t.pol->runnable(t.r)) {
        uint64_t z = vm_bitmap_next_set(im.zero, NR_PAGES, 0);
        ck_assert_int_eq(fake_mem_guest_access(t.mem, z, false), 0);
        ck_assert_uint_eq(rst_stats(&t)->restore_faults, 0);
    }
    ck_assert_int_eq(rst_drive(&t, &im), CKPT_STEP_DONE);
    assert_restored(&t, &im);
    ck_assert_uint_eq(reads_of_holes(&im), 0);
    if (kind == IMG_FLAT || kind == IMG_STREAM) {
        /* every other page read once, in runs that stop at the zero pages */
        ck_assert_uint_eq(rst_stats(&t)->bytes_read,
                          (NR_PAGES - im.nr_zero + 1 + im.hdr.maps_blocks) *
                              (uint64_t)VM_PAGE_SIZE);
    }
    rst_end(&t);
    free_image(&im);
}
END_TEST

/* ---- registry and parameters ------------------------------------------------ */

START_TEST(test_ckpt_restore_registry_lists_three_policies_with_defaults)
{
    static const char *const names[] = { "eager", "lazy", "sblock" };
    for (int i = 0; i < 3; i++) {
        const struct ckpt_restore_policy *p = ckpt_restore_policy_find(names[i]);
        ck_assert_ptr_nonnull(p);
        ck_assert_str_eq(p->name, names[i]);
        ck_assert_ptr_nonnull(p->desc);
    }
    /* every policy, hidden ones too, can say why it failed */
    for (size_t i = 0; ckpt_restore_policies[i]; i++)
        ck_assert_ptr_nonnull(ckpt_restore_policies[i]->diag);
    struct ckpt_restore_cfg c = default_cfg(ckpt_restore_policy_find("eager"));
    ck_assert_uint_eq(c.io_pages, 256);
    ck_assert_uint_eq(c.io_depth, 8);
    c = default_cfg(ckpt_restore_policy_find("lazy"));
    ck_assert_uint_eq(c.io_pages, 64);
    ck_assert_uint_eq(c.io_depth, 1);
    ck_assert(c.background);
    c = default_cfg(ckpt_restore_policy_find("sblock"));
    ck_assert(c.install_all);
    ck_assert(c.background);
    ck_assert_uint_eq(c.io_depth, 1);
    ck_assert_ptr_null(vm_param_find(ckpt_restore_policy_find("sblock")->params, "io_pages"));
    ck_assert_ptr_null(ckpt_restore_policy_find("nosuch"));
}
END_TEST

START_TEST(test_ckpt_restore_bad_parameters_are_rejected_by_start)
{
    struct image im;
    make_image(IMG_FLAT, &im);
    struct rst t;
    struct ckpt_restore_cfg cfg = { .io_pages = 0, .io_depth = 8 };
    ck_assert_int_eq(rst_start(&t, "eager", &cfg, &im, NR_PAGES), VM_EINVAL);
    ck_assert_ptr_null(t.r);
    ck_assert_ptr_nonnull(strstr(t.diag.msg, "io_pages"));
    ck_assert_uint_eq(fake_blk_nr_queued(im.dev), 0);
    rst_end(&t);
    free_image(&im);
}
END_TEST

static Suite *ckpt_restore_suite(void)
{
    Suite *s = suite_create("ckpt_restore");
    TCase *tc = tcase_create("errors");
    tcase_add_test(tc, test_ckpt_restore_corrupt_header_fails_step_with_ecorrupt);
    tcase_add_test(tc, test_ckpt_restore_corrupt_maps_fail_step_with_ecorrupt);
    tcase_add_test(tc, test_ckpt_restore_missing_header_fails_with_ecorrupt);
    tcase_add_test(tc, test_ckpt_restore_image_larger_than_memory_is_rejected);
    tcase_add_test(tc, test_ckpt_restore_eager_read_error_at_each_read_fails_without_hang);
    tcase_add_test(tc, test_ckpt_restore_lazy_read_error_at_each_read_fails_without_hang);
    tcase_add_test(tc, test_ckpt_restore_sblock_read_error_at_each_read_fails_without_hang);
    tcase_add_test(tc, test_ckpt_restore_lazy_fault_read_error_is_returned_by_fault_and_step);
    tcase_add_test(tc, test_ckpt_restore_registry_lists_three_policies_with_defaults);
    tcase_add_loop_test(tc, test_ckpt_restore_every_policy_installs_zero_pages_without_reads,
                        0, 15);
    tcase_add_test(tc, test_ckpt_restore_bad_parameters_are_rejected_by_start);
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
