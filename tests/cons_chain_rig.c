/*
 * cons_chain_rig.c - helpers of the disk chain's suites (see
 * cons_chain_rig.h).
 */
#include "cons_chain_rig.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_fp.h"
#include "base/vm_fpstore.h"

struct cons_chain_cfg rig_cfg(uint64_t nr_sectors, uint32_t grain_shift, uint32_t nr_slots)
{
    uint64_t blocks = cons_delta_max_blocks(nr_sectors, grain_shift);
    return (struct cons_chain_cfg){
        .nr_sectors = nr_sectors, .grain_shift = grain_shift, .desc_lba = 0, .slot0_lba = 1,
        .slot_blocks = blocks > nr_sectors ? blocks : nr_sectors, .nr_slots = nr_slots,
    };
}

struct fake_blk *rig_dev(const struct cons_chain_cfg *cfg)
{
    return fake_blk_new(cfg->slot0_lba + cfg->nr_slots * cfg->slot_blocks);
}

static int put(void *arg, uint64_t lba, uint64_t n, const uint64_t *fps)
{
    return vm_fpstore_put(((struct fake_blk *)arg)->store, lba, n, fps);
}

static int put_meta(void *arg, uint64_t lba, const void *bytes, uint32_t len)
{
    return vm_fpstore_put_packed(((struct fake_blk *)arg)->store, lba, 1, NULL, 0, bytes, len);
}

struct cons_setup rig_setup(struct fake_blk *dev)
{
    return (struct cons_setup){ .put = put, .put_meta = put_meta, .arg = dev };
}

uint64_t rig_base_fp(uint64_t s) { return vm_fp_page(7, s, 1); }

uint64_t rig_fp(void *arg, int layer, uint64_t s)
{
    (void)arg;
    return vm_fp_page(7, s, 10 + (uint64_t)layer);
}

void rig_fill_base(struct fake_blk *dev, const struct cons_chain_cfg *cfg)
{
    uint64_t *fps = malloc(cfg->nr_sectors * sizeof(*fps));
    ck_assert_ptr_nonnull(fps);
    for (uint64_t s = 0; s < cfg->nr_sectors; s++)
        fps[s] = rig_base_fp(s);
    ck_assert_int_eq(vm_fpstore_put(dev->store, cfg->slot0_lba, cfg->nr_sectors, fps), 0);
    free(fps);
}

uint64_t rig_pick(void *arg, uint64_t i) { return ((const uint64_t *)arg)[i]; }

void rig_done_fn(void *arg, int rc)
{
    struct rig_done *d = arg;
    d->calls++;
    d->rc = rc;
}

static int finish(struct fake_blk *dev, int rc, struct rig_done *d)
{
    if (rc)
        return rc;
    ck_assert_int_eq(d->calls, 0);      /* never from inside the call */
    fake_blk_run(dev);
    ck_assert_int_eq(d->calls, 1);
    return d->rc;
}

int rig_read(struct cons_chain *ch, struct fake_blk *dev, int top, uint64_t s, uint32_t n,
             uint64_t *fps)
{
    struct rig_done d = { 0 };
    return finish(dev, cons_chain_read(ch, top, s, n, fps, rig_done_fn, &d), &d);
}

int rig_write(struct cons_chain *ch, struct fake_blk *dev, int layer, uint64_t s, uint32_t n,
              const uint64_t *fps)
{
    struct rig_done d = { 0 };
    return finish(dev, cons_chain_write(ch, layer, s, n, fps, rig_done_fn, &d), &d);
}

int rig_open(struct cons_chain *ch, struct fake_blk *dev)
{
    struct rig_done d = { 0 };
    return finish(dev, cons_chain_open(ch, NULL, NULL, rig_done_fn, &d), &d);
}

struct cons_chain *rig_reopen(struct fake_blk *dev, const struct cons_chain_cfg *cfg, int *rc,
                              char *err)
{
    struct cons_chain *ch = cons_chain_new(&dev->base, cfg);
    ck_assert_ptr_nonnull(ch);
    *rc = rig_open(ch, dev);
    if (err)
        strcpy(err, cons_chain_error(ch));
    if (*rc) {
        cons_chain_free(ch);
        return NULL;
    }
    return ch;
}

void fix_init(struct fix *f, uint64_t nr_sectors, uint32_t shift)
{
    f->cfg = rig_cfg(nr_sectors, shift, 4);
    f->dev = rig_dev(&f->cfg);
    ck_assert_ptr_nonnull(f->dev);
    rig_fill_base(f->dev, &f->cfg);
    f->ch = cons_chain_new(&f->dev->base, &f->cfg);
    ck_assert_ptr_nonnull(f->ch);
}

void fix_delta(struct fix *f, const uint64_t *grains, uint64_t n)
{
    struct cons_setup su = rig_setup(f->dev);
    ck_assert_int_eq(cons_chain_setup_delta(f->ch, &su, n, rig_pick, rig_fp, (void *)grains), 0);
}

void fix_free(struct fix *f)
{
    cons_chain_free(f->ch);
    fake_blk_free(f->dev);
}
