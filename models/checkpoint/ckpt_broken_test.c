/*
 * ckpt_broken_test.c - deliberately broken policies (CKPT_F_HIDDEN, not
 * listed by `vmsim list`), so that a run can show that the simulator's
 * invariant checks catch a bug they are meant to catch
 * (tests/e2e/invariants.sh, tests/check_ckpt_sim.c).  Each one is a real
 * policy run unchanged on top of a port stacked on the one it is given,
 * like QEMU's filter drivers; the stacked port injects the bug:
 *
 *   sblock-lazy-present-test  storage-block restore whose guest memory
 *       port drops the content of every page the guest has not faulted
 *       on: the policy installs whole storage blocks as usual, but only
 *       the faulting pages get their content; the others are made present
 *       (set_present) still holding whatever they held, as a restore that
 *       maps pages "to fill in later" and never does.  Guest accesses to
 *       them take no fault and see the wrong content.
 *
 * Not modelled: anything else; the policies count and cost what the real
 * ones do.
 */
#include <stddef.h>
#include <stdlib.h>

#include "base/vm_bitmap.h"
#include "checkpoint/ckpt.h"

extern const struct ckpt_restore_policy ckpt_restore_sblock_policy;

/* ---- sblock-lazy-present-test ------------------------------------------- */

/* The restore's state: the stacked memory port and the real restore.  The
 * world only ever holds it as an opaque struct ckpt_restore pointer. */
struct lazy_present {
    struct port_mem base;         /* first: the real policy's guest memory */
    struct port_mem *lower;       /* the world's guest memory */
    uint64_t nr_pages;
    uint64_t *faulted;            /* pages the guest faulted on: installed for real */
    struct ckpt_restore *inner;   /* the sblock restore */
};

static struct lazy_present *lp_of(const void *p) { return (struct lazy_present *)p; }

static uint64_t lp_nr_pages(const struct port_mem *pm) { return lp_of(pm)->nr_pages; }

static void lp_read(struct port_mem *pm, uint64_t first, uint32_t n, uint64_t *fps)
{
    port_mem_read(lp_of(pm)->lower, first, n, fps);
}

/* The bug: only pages the guest faulted on get their content. */
static void lp_write(struct port_mem *pm, uint64_t first, uint32_t n, const uint64_t *fps)
{
    struct lazy_present *lp = lp_of(pm);
    for (uint32_t i = 0; i < n; i++)
        if (vm_bitmap_test(lp->faulted, first + i))
            port_mem_write(lp->lower, first + i, 1, fps + i);
}

static void lp_set_trace(struct port_mem *pm, uint64_t first, uint64_t n,
                         enum port_mem_trace mode)
{
    port_mem_set_trace(lp_of(pm)->lower, first, n, mode);
}

static void lp_set_present(struct port_mem *pm, uint64_t first, uint64_t n, bool present)
{
    port_mem_set_present(lp_of(pm)->lower, first, n, present);
}

static bool lp_is_present(const struct port_mem *pm, uint64_t page)
{
    return port_mem_is_present(lp_of(pm)->lower, page);
}

static uint64_t lp_collect_dirty(struct port_mem *pm, uint64_t *into)
{
    return port_mem_collect_dirty(lp_of(pm)->lower, into);
}

static uint64_t lp_collect_accessed(struct port_mem *pm, uint64_t *into)
{
    return port_mem_collect_accessed(lp_of(pm)->lower, into);
}

static uint64_t lp_compress_size(const struct port_mem *pm, const uint64_t *pages, uint32_t n)
{
    return port_mem_compress_size(lp_of(pm)->lower, pages, n);
}

static const struct port_mem_ops lp_mem_ops = {
    .version = PORT_MEM_VERSION,
    .name = "lazy-present-test",
    .nr_pages = lp_nr_pages,
    .read = lp_read,
    .write = lp_write,
    .set_trace = lp_set_trace,
    .set_present = lp_set_present,
    .is_present = lp_is_present,
    .collect_dirty = lp_collect_dirty,
    .collect_accessed = lp_collect_accessed,
    .compress_size = lp_compress_size,
};

static void lp_destroy(struct ckpt_restore *r)
{
    struct lazy_present *lp = lp_of(r);
    if (!lp)
        return;
    if (lp->inner)
        ckpt_restore_sblock_policy.destroy(lp->inner);
    vm_bitmap_free(lp->faulted);
    free(lp);
}

/* sblock's parameters (its table is private to its file; these are the
 * same keys and defaults, into the same struct). */
static const struct vm_param lp_params[] = {
    { "install_all", VM_PARAM_BOOL, offsetof(struct ckpt_restore_cfg, install_all),
      .def = "true", .help = "install every block of a storage block read" },
    { "background", VM_PARAM_BOOL, offsetof(struct ckpt_restore_cfg, background),
      .def = "true", .help = "read the remaining storage blocks in the background" },
    { "io_depth", VM_PARAM_U32, offsetof(struct ckpt_restore_cfg, io_depth),
      .min = 1, .max = 1024, .def = "1", .help = "background read requests in flight" },
    { NULL }
};

static int lp_start(const struct ckpt_restore_cfg *cfg, const struct ckpt_env *env,
                    struct ckpt_restore **out, struct vm_diag *d)
{
    *out = NULL;
    if (!env || !env->mem)
        return vm_diag_set(d, VM_EINVAL, "'sblock-lazy-present-test' restore: needs guest memory");
    struct lazy_present *lp = calloc(1, sizeof *lp);
    if (!lp)
        return vm_diag_set(d, VM_ENOMEM, "'sblock-lazy-present-test' restore: out of memory");
    lp->base.ops = &lp_mem_ops;
    lp->lower = env->mem;
    lp->nr_pages = port_mem_nr_pages(env->mem);
    lp->faulted = vm_bitmap_new(lp->nr_pages ? lp->nr_pages : 1);
    if (!lp->faulted) {
        lp_destroy((struct ckpt_restore *)lp);
        return vm_diag_set(d, VM_ENOMEM, "'sblock-lazy-present-test' restore: out of memory");
    }
    struct ckpt_env stacked = *env;
    stacked.mem = &lp->base;
    int rc = ckpt_restore_sblock_policy.start(cfg, &stacked, &lp->inner, d);
    if (rc < 0) {
        lp_destroy((struct ckpt_restore *)lp);
        return rc;
    }
    *out = (struct ckpt_restore *)lp;
    return 0;
}

static int lp_fault(struct ckpt_restore *r, uint64_t page)
{
    struct lazy_present *lp = lp_of(r);
    if (page < lp->nr_pages)
        vm_bitmap_set(lp->faulted, page);
    return ckpt_restore_sblock_policy.fault(lp->inner, page);
}

static int lp_step(struct ckpt_restore *r)
{
    return ckpt_restore_sblock_policy.step(lp_of(r)->inner);
}

static bool lp_runnable(const struct ckpt_restore *r)
{
    return ckpt_restore_sblock_policy.runnable(lp_of(r)->inner);
}

static const struct ckpt_stats *lp_stats(const struct ckpt_restore *r)
{
    return ckpt_restore_sblock_policy.stats(lp_of(r)->inner);
}

const struct ckpt_restore_policy ckpt_restore_sblock_lazy_present_test_policy = {
    .name = "sblock-lazy-present-test",
    .desc = "sblock, broken on purpose: pages installed without a fault on them are made "
            "present without their content",
    .flags = CKPT_F_HIDDEN,
    .params = lp_params,
    .start = lp_start,
    .fault = lp_fault,
    .step = lp_step,
    .runnable = lp_runnable,
    .stats = lp_stats,
    .destroy = lp_destroy,
};
