/*
 * ckpt_rig.c - the checkpoint save suites' test rig (see ckpt_rig.h).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint/ckpt_file.h"
#include "ckpt_rig.h"

void rig_init(struct rig *r, const char *policy, uint64_t nr_pages, uint64_t dev_blocks)
{
    memset(r, 0, sizeof(*r));
    r->nr_pages = nr_pages;
    r->mem = fake_mem_new(nr_pages, 42);
    r->dev = fake_blk_new(dev_blocks);
    ck_assert_ptr_nonnull(r->mem);
    ck_assert_ptr_nonnull(r->dev);
    fake_clock_init(&r->clk, 0);
    fake_blk_set_timing(r->dev, &r->clk, 10000, 1000);
    r->env = (struct ckpt_env){ &r->mem->base, &r->dev->base, &r->clk.base };
    r->pol = ckpt_save_policy_find(policy);
    ck_assert_ptr_nonnull(r->pol);
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(vm_param_defaults(r->pol->params, &r->cfg, &d), 0);
    r->snap = malloc(nr_pages * sizeof(uint64_t));
    ck_assert_ptr_nonnull(r->snap);
}

void snapshot(struct rig *r)
{
    memcpy(r->snap, r->mem->fp, r->nr_pages * sizeof(uint64_t));
}

void rig_start(struct rig *r)
{
    struct vm_diag d;
    vm_diag_clear(&d);
    snapshot(r);
    int rc = r->pol->start(&r->cfg, &r->env, &r->s, &d);
    ck_assert_msg(rc == 0, "start: %s", d.msg);
}

void rig_fini(struct rig *r)
{
    if (r->s) {
        fake_blk_run(r->dev);     /* nothing may be in flight at destroy */
        r->pol->destroy(r->s);
    }
    fake_mem_free(r->mem);
    fake_blk_free(r->dev);
    free(r->snap);
}

const struct ckpt_stats *stats(struct rig *r) { return r->pol->stats(r->s); }

/* One guest access, trapping into the policy like the world does. */
int vcpu(struct rig *r, uint64_t page, bool is_write)
{
    for (int tries = 0; tries < 1000; tries++) {
        int rc = fake_mem_guest_access(r->mem, page, is_write);
        if (rc != VM_EBUSY)
            return rc;
        rc = r->pol->fault(r->s, page, is_write);
        if (rc == VM_EAGAIN) {
            ck_assert_msg(fake_blk_run_one(r->dev) == 1, "EAGAIN with nothing in flight");
            continue;
        }
        if (rc < 0)
            return rc;
    }
    ck_abort_msg("access to page %llu never proceeds", (unsigned long long)page);
    return VM_EBUSY;
}

/* One step of the background saver, as the world runs it. */
int step_once(struct rig *r)
{
    int rc = r->pol->step(r->s);
    if (fake_blk_nr_queued(r->dev) > r->max_queued)
        r->max_queued = fake_blk_nr_queued(r->dev);
    if (rc == CKPT_STEP_WAIT)
        ck_assert_msg(fake_blk_run_one(r->dev) == 1, "WAIT with nothing in flight");
    else if (rc == CKPT_STEP_STUN) {
        r->stuns++;
        if (r->pol->flags & CKPT_F_INSTANT_AT_STUN)
            snapshot(r);
    }
    return rc;
}

/* Run the saver to the end: 0 when DONE, else the error. */
int drive(struct rig *r)
{
    for (long i = 0; i < 10000000; i++) {
        int rc = step_once(r);
        if (rc == CKPT_STEP_DONE)
            return 0;
        if (rc < 0)
            return rc;
    }
    ck_abort_msg("save never finishes");
    return VM_EINVAL;
}

void snap_fp(void *arg, const uint64_t *pages, uint64_t first, uint64_t n, uint64_t *fps)
{
    for (uint64_t i = 0; i < n; i++)
        fps[i] = ((struct rig *)arg)->snap[pages ? pages[i] : first + i];
}

/* Check the image on the device against the snapshot. */
void verify(struct rig *r, uint64_t *mismatch, uint64_t *missing)
{
    struct ckpt_image *img = NULL;
    struct vm_diag d;
    vm_diag_clear(&d);
    int rc = ckpt_image_load_store(r->dev->store, &img, &d);
    ck_assert_msg(rc == 0, "load: %s", d.msg);
    uint64_t checked;
    ckpt_image_verify(img, r->dev->store, snap_fp, r, &checked, mismatch, missing);
    ck_assert_uint_eq(checked, r->nr_pages);
    /* the check in shares (as the simulator runs it on threads) counts
     * the same, whatever the split */
    for (uint32_t parts = 2; parts <= 3; parts++) {
        struct ckpt_verify_counts c[3];
        uint64_t pc, pm, px;
        for (uint32_t k = 0; k < parts; k++)
            ckpt_image_verify_part(img, r->dev->store, snap_fp, r, k, parts, &c[k]);
        ckpt_image_verify_finish(img, c, parts, &pc, &pm, &px);
        ck_assert_uint_eq(pc, checked);
        ck_assert_uint_eq(pm, *mismatch);
        ck_assert_uint_eq(px, *missing);
    }
    ckpt_image_free(img);
}

void assert_image_ok(struct rig *r)
{
    uint64_t mismatch, missing;
    verify(r, &mismatch, &missing);
    ck_assert_uint_eq(mismatch, 0);
    ck_assert_uint_eq(missing, 0);
}

bool has_header(struct rig *r)
{
    struct ckpt_image *img = NULL;
    int rc = ckpt_image_load_store(r->dev->store, &img, NULL);
    ckpt_image_free(img);
    return rc == 0;
}

/* Write requests in the log that carry page data (not lba 0, not maps). */
size_t nr_logged_writes(struct rig *r)
{
    size_t n = 0;
    for (size_t i = 0; i < fake_blk_log_len(r->dev); i++)
        n += fake_blk_log_at(r->dev, i)->op == PORT_BLK_WRITE;
    return n;
}

