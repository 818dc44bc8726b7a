/*
 * ckpt_restore_rig.c - what the restore policies' suites share
 * (ckpt_restore_rig.h): images made by the real save policies on the
 * fakes, and a restore driven one device request at a time.
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
#include "ckpt_restore_rig.h"
#include "fakes/fake_blk.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_mem.h"

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

void make_image(enum img_kind kind, struct image *im)
{
    make_image_with(kind, im, 0);
}

/* An image whose memory had pages [ZERO_FIRST, + ZERO_PAGES) zero when the
 * save started (the guest writes some of them during the save). */
void make_image_zero(enum img_kind kind, struct image *im)
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

void free_image(struct image *im)
{
    fake_blk_free(im->dev);
    free(im->expect);
    vm_bitmap_free(im->zero);
}

/* ---- driving a restore ------------------------------------------------------ */

struct ckpt_restore_cfg default_cfg(const struct ckpt_restore_policy *pol)
{
    struct ckpt_restore_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_defaults(pol->params, &cfg, &d), 0);
    return cfg;
}

int rst_start(struct rst *t, const char *name, const struct ckpt_restore_cfg *cfg,
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

void rst_end(struct rst *t)
{
    if (t->r)
        t->pol->destroy(t->r);
    fake_mem_free(t->mem);
}

/* step() until it returns something other than WAIT with work queued,
 * completing one device request between calls.  Returns DONE, an error,
 * or WAIT when nothing is queued (the restore waits for faults). */
int rst_drive(struct rst *t, struct image *im)
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
void rst_load(struct rst *t, struct image *im)
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
int rst_touch(struct rst *t, struct image *im, uint64_t page, bool is_write)
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

const struct ckpt_stats *rst_stats(struct rst *t)
{
    return t->pol->stats(t->r);
}

/* Every page present with the checkpoint-instant content. */
void assert_restored(struct rst *t, struct image *im)
{
    for (uint64_t p = 0; p < NR_PAGES; p++) {
        ck_assert_msg(port_mem_is_present(&t->mem->base, p), "page %llu absent",
                      (unsigned long long)p);
        ck_assert_msg(t->mem->fp[p] == im->expect[p], "page %llu: %016llx, image %016llx",
                      (unsigned long long)p, (unsigned long long)t->mem->fp[p],
                      (unsigned long long)im->expect[p]);
    }
    ck_assert_uint_eq(rst_stats(t)->pages_installed + rst_stats(t)->zero_pages_installed,
                      NR_PAGES);
    ck_assert_uint_eq(rst_stats(t)->zero_pages_installed, im->nr_zero);
}

uint64_t nr_sblocks(const struct image *im)
{
    uint64_t blocks = (NR_PAGES + BLOCK_PAGES - 1) / BLOCK_PAGES;
    (void)im;
    return (blocks + SBLOCK_BLOCKS - 1) / SBLOCK_BLOCKS;
}

/* Requests logged since the restore started, excluding header and maps. */
size_t data_reads(const struct image *im)
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
