/*
 * check_ckpt_restore.c - unit tests of the restore policies (eager, lazy,
 * sblock) with fake ports.
 *
 * Every image is made by the real save policies (stopcopy with layout
 * mapped-ram -> FLAT, precopy -> STREAM, buffered -> SBLOCK plain,
 * compressed and A-bit grouped) running against the fakes, with guest
 * writes during the save, so the image differs from the memory at the end of the save.  The
 * restore then runs into a fresh fake_mem whose pages are all absent and
 * different, and the test checks every page against the memory at the
 * checkpoint instant.
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

#define NR_PAGES 1030u          /* B = 8: 129 blocks, the last one 6 pages */
#define BLOCK_PAGES 8u
#define SBLOCK_BLOCKS 4u        /* N = 4: 33 storage blocks, the last one 1 block */
#define DEV_BLOCKS 8192u

enum img_kind { IMG_FLAT, IMG_STREAM, IMG_SBLOCK, IMG_SBLOCK_Z, IMG_SBLOCK_ABITS };

/* An image on a fake device and the memory it must reproduce. */
struct image {
    struct fake_blk *dev;
    uint64_t *expect;           /* content of each page at the checkpoint instant */
    struct ckpt_header hdr;
    uint64_t *zero;             /* the image's zero map (NULL: none) */
    uint64_t nr_zero;
};

/* Pages made zero before the save by make_image_zero(): with B = 8 the
 * blocks 13..49 are all zero, 12 and 49 mixed. */
#define ZERO_FIRST 100u
#define ZERO_PAGES 300u

/* A restore in progress. */
struct rst {
    const struct ckpt_restore_policy *pol;
    struct ckpt_restore *r;
    struct fake_mem *mem;
    struct fake_clock clk;
    struct ckpt_env env;
    struct vm_diag diag;
};

/* ---- making images with the save policies --------------------------------- */

/* Guest write that goes through the save policy's fault handler. */
static void save_write(const struct ckpt_policy *pol, struct ckpt_save *s, struct fake_mem *m,
                       struct fake_blk *dev, uint64_t page)
{
    for (int tries = 0; tries < 10000; tries++) {
        int rc = fake_mem_guest_access(m, page, true);
        if (rc == 0)
            return;
        ck_assert_int_eq(rc, VM_EBUSY);
        rc = pol->fault(s, page, true);
        if (rc == VM_EAGAIN)
            ck_assert_uint_eq(fake_blk_run_one(dev), 1);
        else
            ck_assert_int_eq(rc, 0);
    }
    ck_abort_msg("guest write to page %llu never proceeded", (unsigned long long)page);
}

static void make_image_with(enum img_kind kind, struct image *im, uint64_t zero_n);

static void make_image(enum img_kind kind, struct image *im)
{
    make_image_with(kind, im, 0);
}

/* An image whose memory had pages [ZERO_FIRST, + ZERO_PAGES) zero when the
 * save started (the guest writes some of them during the save). */
static void make_image_zero(enum img_kind kind, struct image *im)
{
    make_image_with(kind, im, ZERO_PAGES);
}

static void make_image_with(enum img_kind kind, struct image *im, uint64_t zero_n)
{
    static const char *const names[] = { "stopcopy", "precopy", "buffered", "buffered",
                                         "buffered" };
    const struct ckpt_policy *pol = ckpt_save_policy_find(names[kind]);
    ck_assert_ptr_nonnull(pol);
    struct fake_mem *m = fake_mem_new(NR_PAGES, 7);
    ck_assert_ptr_nonnull(m);
    im->dev = fake_blk_new(DEV_BLOCKS);
    ck_assert_ptr_nonnull(im->dev);
    im->expect = calloc(NR_PAGES, sizeof(uint64_t));
    ck_assert_ptr_nonnull(im->expect);

    struct ckpt_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_defaults(pol->params, &cfg, &d), 0);
    cfg.layout = CKPT_SC_MAPPED_RAM;    /* stopcopy: FLAT (its default is a stream) */
    cfg.block_pages = BLOCK_PAGES;
    cfg.sblock_blocks = SBLOCK_BLOCKS;
    cfg.compress = kind == IMG_SBLOCK_Z;
    cfg.grouping = kind == IMG_SBLOCK_ABITS ? CKPT_GROUP_ABITS : CKPT_GROUP_GPA;
    if (kind == IMG_SBLOCK_ABITS)       /* some A bits to group by: every 3rd page */
        for (uint64_t p = 0; p < NR_PAGES; p += 3)
            ck_assert_int_eq(fake_mem_guest_access(m, p, false), 0);
    if (zero_n)
        fake_mem_set_zero(m, ZERO_FIRST, zero_n);

    struct fake_clock clk;
    fake_clock_init(&clk, 0);
    struct ckpt_env env = { .mem = &m->base, .file = &im->dev->base, .clock = &clk.base };
    struct ckpt_save *s = NULL;
    ck_assert_msg(pol->start(&cfg, &env, &s, &d) == 0, "%s start: %s", pol->name, d.msg);
    bool at_stun = pol->flags & CKPT_F_INSTANT_AT_STUN;
    bool stunned = pol->flags & CKPT_F_STUN_ALL;
    if (!at_stun)
        memcpy(im->expect, m->fp, NR_PAGES * sizeof(uint64_t));
    uint64_t it = 0;
    for (;; it++) {
        ck_assert_uint_lt(it, 1000000);
        if (!stunned && it % 3 == 0)
            save_write(pol, s, m, im->dev, (it * 37) % NR_PAGES);
        int rc = pol->step(s);
        ck_assert_msg(rc >= 0, "%s step: %s", pol->name, vm_err_name(rc));
        if (rc == CKPT_STEP_DONE)
            break;
        if (rc == CKPT_STEP_STUN)
            stunned = true;
        if (rc == CKPT_STEP_WAIT)
            ck_assert_uint_eq(fake_blk_run_one(im->dev), 1);
    }
    if (at_stun)
        memcpy(im->expect, m->fp, NR_PAGES * sizeof(uint64_t));
    pol->destroy(s);
    ck_assert_uint_eq(fake_blk_nr_queued(im->dev), 0);

    /* the image itself holds the checkpoint-instant memory */
    struct ckpt_image *img = NULL;
    int lrc = ckpt_image_load_store(im->dev->store, &img, &d);
    ck_assert_msg(lrc == 0, "%s image: %s", pol->name, d.msg);
    im->hdr = img->hdr;
    im->nr_zero = ckpt_image_nr_zero(img);
    im->zero = NULL;
    if (im->nr_zero) {
        im->zero = vm_bitmap_new(NR_PAGES);
        ck_assert_ptr_nonnull(im->zero);
        memcpy(im->zero, img->zero, VM_BITMAP_WORDS(NR_PAGES) * sizeof(uint64_t));
    }
    ck_assert_uint_eq(im->nr_zero == 0, zero_n == 0);
    if (kind == IMG_STREAM) {       /* pages written between rounds have later copies */
        uint64_t moved = 0;
        for (uint64_t p = 0; p < NR_PAGES; p++)
            moved += img->page_lba[p] != img->hdr.data_lba + p;
        ck_assert_uint_gt(moved, 0);
    }
    ckpt_image_free(img);
    static const uint32_t layouts[] = { CKPT_LAYOUT_FLAT, CKPT_LAYOUT_STREAM, CKPT_LAYOUT_SBLOCK,
                                        CKPT_LAYOUT_SBLOCK, CKPT_LAYOUT_SBLOCK };
    ck_assert_uint_eq(im->hdr.layout, layouts[kind]);
    ck_assert_uint_eq(im->hdr.compressed, kind == IMG_SBLOCK_Z);
    /* the VM runs on after the save: the image is not the final memory */
    for (uint64_t p = 1; p < NR_PAGES; p += 101)
        ck_assert_int_eq(fake_mem_guest_access(m, p, true), 0);
    ck_assert(memcmp(im->expect, m->fp, NR_PAGES * sizeof(uint64_t)) != 0);
    fake_mem_free(m);
    fake_blk_log_clear(im->dev);
}

static void free_image(struct image *im)
{
    fake_blk_free(im->dev);
    free(im->expect);
    vm_bitmap_free(im->zero);
}

/* ---- driving a restore ------------------------------------------------------ */

static struct ckpt_restore_cfg default_cfg(const struct ckpt_restore_policy *pol)
{
    struct ckpt_restore_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_defaults(pol->params, &cfg, &d), 0);
    return cfg;
}

static int rst_start(struct rst *t, const char *name, const struct ckpt_restore_cfg *cfg,
                     struct image *im, uint64_t nr_pages)
{
    memset(t, 0, sizeof *t);
    t->pol = ckpt_restore_policy_find(name);
    ck_assert_ptr_nonnull(t->pol);
    t->mem = fake_mem_new(nr_pages, 99);     /* other content than the image */
    ck_assert_ptr_nonnull(t->mem);
    port_mem_set_present(&t->mem->base, 0, nr_pages, false);
    fake_clock_init(&t->clk, 0);
    t->env = (struct ckpt_env){ .mem = &t->mem->base, .file = &im->dev->base,
                                .clock = &t->clk.base };
    vm_diag_clear(&t->diag);
    struct ckpt_restore_cfg c = cfg ? *cfg : default_cfg(t->pol);
    return t->pol->start(&c, &t->env, &t->r, &t->diag);
}

static void rst_end(struct rst *t)
{
    if (t->r)
        t->pol->destroy(t->r);
    fake_mem_free(t->mem);
}

/* step() until it returns something other than WAIT with work queued,
 * completing one device request between calls.  Returns DONE, an error,
 * or WAIT when nothing is queued (the restore waits for faults). */
static int rst_drive(struct rst *t, struct image *im)
{
    for (int i = 0; i < 1000000; i++) {
        int rc = t->pol->step(t->r);
        if (rc == CKPT_STEP_DONE || rc < 0)
            return rc;
        if (rc == CKPT_STEP_WAIT && fake_blk_run_one(im->dev) == 0)
            return rc;
    }
    ck_abort_msg("restore step never settled");
    return 0;
}

/* Load the header and maps: step until runnable. */
static void rst_load(struct rst *t, struct image *im)
{
    for (int i = 0; i < 10 && !t->pol->runnable(t->r); i++) {
        int rc = t->pol->step(t->r);
        ck_assert_int_eq(rc, CKPT_STEP_WAIT);
        ck_assert_uint_eq(fake_blk_run_one(im->dev), 1);
        rc = t->pol->step(t->r);
        ck_assert_int_ge(rc, 0);
    }
    ck_assert(t->pol->runnable(t->r));
}

/* The test's vCPU: access a page, taking restore faults; completes one
 * device request per VM_EAGAIN (and lets step() run, as the world does). */
static int rst_touch(struct rst *t, struct image *im, uint64_t page, bool is_write)
{
    for (int i = 0; i < 100000; i++) {
        int rc = fake_mem_guest_access(t->mem, page, is_write);
        if (rc == 0)
            return 0;
        ck_assert_int_eq(rc, VM_EBUSY);
        rc = t->pol->fault(t->r, page);
        if (rc == 0)
            continue;
        if (rc != VM_EAGAIN)
            return rc;
        if (fake_blk_run_one(im->dev) == 0)
            return VM_EAGAIN;       /* nothing to wait for: a hang */
        rc = t->pol->step(t->r);
        if (rc < 0)
            return rc;
    }
    ck_abort_msg("access to page %llu never proceeded", (unsigned long long)page);
    return 0;
}

static const struct ckpt_stats *st(struct rst *t) { return t->pol->stats(t->r); }

/* Every page present with the checkpoint-instant content. */
static void assert_restored(struct rst *t, struct image *im)
{
    for (uint64_t p = 0; p < NR_PAGES; p++) {
        ck_assert_msg(port_mem_is_present(&t->mem->base, p), "page %llu absent",
                      (unsigned long long)p);
        ck_assert_msg(t->mem->fp[p] == im->expect[p], "page %llu: %016llx, image %016llx",
                      (unsigned long long)p, (unsigned long long)t->mem->fp[p],
                      (unsigned long long)im->expect[p]);
    }
    ck_assert_uint_eq(st(t)->pages_installed + st(t)->zero_pages_installed, NR_PAGES);
    ck_assert_uint_eq(st(t)->zero_pages_installed, im->nr_zero);
}

static uint64_t nr_sblocks(const struct image *im)
{
    uint64_t blocks = (NR_PAGES + BLOCK_PAGES - 1) / BLOCK_PAGES;
    (void)im;
    return (blocks + SBLOCK_BLOCKS - 1) / SBLOCK_BLOCKS;
}

/* Requests logged since the restore started, excluding header and maps. */
static size_t data_reads(const struct image *im)
{
    size_t n = 0;
    for (size_t i = 0; i < fake_blk_log_len(im->dev); i++) {
        const struct fake_blk_logent *e = fake_blk_log_at(im->dev, i);
        ck_assert_int_eq(e->op, PORT_BLK_READ);
        if (e->lba != CKPT_HEADER_LBA && !(im->hdr.maps_lba && e->lba == im->hdr.maps_lba))
            n++;
    }
    return n;
}

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
    ck_assert_uint_eq(st(&t)->restore_faults, 0);
    ck_assert_uint_eq(st(&t)->pages_prefetched, NR_PAGES);
    ck_assert_uint_eq(st(&t)->read_ios, st(&t)->read_reqs);
    if (kind == IMG_FLAT) {
        /* header + ceil(1030 / 256) = 5 runs of 256 blocks */
        ck_assert_uint_eq(st(&t)->read_reqs, 1 + 5);
        ck_assert_uint_eq(st(&t)->bytes_read, (1 + NR_PAGES) * 4096ull);
    } else if (kind != IMG_STREAM) {
        ck_assert_uint_eq(data_reads(&im), nr_sblocks(&im));
        ck_assert_uint_eq(st(&t)->read_reqs, 2 + nr_sblocks(&im));
    }
    ck_assert_uint_eq(st(&t)->decompress_out,
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
    ck_assert_uint_eq(st(&t)->restore_faults, 5);
    ck_assert_uint_eq(st(&t)->pages_installed, 5);
    ck_assert_uint_eq(st(&t)->pages_prefetched, 0);
    ck_assert_uint_eq(st(&t)->read_reqs, 1 + 5);
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
    ck_assert_uint_eq(st(&t)->restore_faults, 1);
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
    ck_assert_uint_eq(st(&t)->pages_installed, 0);
    for (uint64_t p = NR_PAGES; p-- > 0;) {
        ck_assert_int_eq(t.pol->step(t.r), CKPT_STEP_WAIT);
        ck_assert_int_eq(rst_touch(&t, &im, p, false), 0);
    }
    ck_assert_int_eq(t.pol->step(t.r), CKPT_STEP_DONE);
    assert_restored(&t, &im);
    ck_assert_uint_eq(st(&t)->restore_faults, NR_PAGES);
    ck_assert_uint_eq(st(&t)->pages_prefetched, 0);
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
    ck_assert_uint_eq(st(&t)->restore_faults, 0);
    ck_assert_uint_eq(st(&t)->pages_prefetched, NR_PAGES);
    if (kind == IMG_FLAT)   /* header + ceil(1030 / 64) = 17 runs */
        ck_assert_uint_eq(st(&t)->read_reqs, 1 + 17);
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
    ck_assert_uint_eq(st(&t)->pages_installed, 1);
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
    ck_assert_uint_eq(st(&t)->pages_installed, 1);
    ck_assert_uint_eq(st(&t)->pages_prefetched, 0);
    uint32_t sb = img->block_sblock[ckpt_image_page_block(img, 3)];
    ck_assert_uint_eq(img->sblocks[sb].nr_members, SBLOCK_BLOCKS);
    ck_assert_uint_eq(st(&t)->decompress_out, 4096ull * SBLOCK_BLOCKS * BLOCK_PAGES);
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
    ck_assert_uint_eq(st(&t)->restore_faults, 1);
    ck_assert_uint_eq(st(&t)->pages_installed, install_all ? nb : BLOCK_PAGES);
    ck_assert_uint_eq(st(&t)->pages_prefetched, install_all ? nb - BLOCK_PAGES : 0);
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
    ck_assert_uint_eq(st(&t)->restore_faults, 2);
    ck_assert_uint_eq(fake_blk_run(im.dev), 1);
    ck_assert_int_eq(t.pol->fault(t.r, pa[1]), 0);
    ck_assert_int_eq(t.pol->fault(t.r, pb[3]), 0);
    /* both faulting blocks installed, nothing else */
    ck_assert_uint_eq(st(&t)->pages_installed, 2 * BLOCK_PAGES);
    ck_assert_uint_eq(st(&t)->pages_prefetched, 0);
    for (uint32_t k = 0; k < BLOCK_PAGES; k++) {
        ck_assert_uint_eq(t.mem->fp[pa[k]], im.expect[pa[k]]);
        ck_assert_uint_eq(t.mem->fp[pb[k]], im.expect[pb[k]]);
    }
    ck_assert_uint_eq(st(&t)->decompress_out, 4096ull * SBLOCK_BLOCKS * BLOCK_PAGES);
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
    ck_assert_uint_eq(st(&t)->restore_faults, 0);
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
    ck_assert_uint_eq(st(&t)->pages_installed, NR_PAGES);
    ck_assert_uint_gt(st(&t)->restore_faults, 0);
    ck_assert_uint_le(st(&t)->pages_prefetched, NR_PAGES - 1);
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
        ck_assert_uint_eq(st(&t)->pages_installed, 0);
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
            ck_assert_uint_eq(st(&t)->pages_installed, 0);
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
    ck_assert_uint_eq(st(&t)->zero_pages_installed, im.nr_zero);
    ck_assert_uint_eq(st(&t)->pages_installed, 0);
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
        ck_assert_uint_eq(st(&t)->restore_faults, 0);
    }
    ck_assert_int_eq(rst_drive(&t, &im), CKPT_STEP_DONE);
    assert_restored(&t, &im);
    ck_assert_uint_eq(reads_of_holes(&im), 0);
    if (kind == IMG_FLAT || kind == IMG_STREAM) {
        /* every other page read once, in runs that stop at the zero pages */
        ck_assert_uint_eq(st(&t)->bytes_read, (NR_PAGES - im.nr_zero + 1 + im.hdr.maps_blocks) *
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

    tc = tcase_create("errors");
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
