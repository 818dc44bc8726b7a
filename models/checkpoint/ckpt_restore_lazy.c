/*
 * ckpt_restore_lazy.c - lazy per-page restore: the VM runs as soon as the
 * maps are loaded and every access to a page not yet present reads just
 * that page (the "lazy" baseline of working-set restore, Zhang et al.,
 * VEE'11; post-copy / userfaultfd style demand paging).
 *
 * fault(page): VM_EAGAIN while a read covering the page is in flight;
 * otherwise one read of the page's own block (FLAT, STREAM and
 * uncompressed SBLOCK: 1 block at the lba ckpt_image_locate() gives) and
 * VM_EAGAIN; 0 once the page is present.  A compressed storage block is a
 * packed extent that can only be read whole: the fault reads the whole
 * extent but installs only the faulting page (and pages whose faults
 * arrived while that read was in flight); the rest stays absent, as a
 * per-page method leaves it, and is read again by its own faults.
 * With `background`, step() streams the remaining absent pages in page
 * order, io_pages per request (runs of consecutive blocks; whole extents
 * when compressed), io_depth in flight, skipping present pages; without
 * it step() returns WAIT until every page was faulted in.
 * DONE = every page present.
 * Not modelled: fault-handling CPU cost (the world charges it per fault).
 */
#include <stddef.h>

#include "checkpoint/ckpt_restore_common.h"

static const struct vm_param lazy_params[] = {
    { "io_pages", VM_PARAM_U32, offsetof(struct ckpt_restore_cfg, io_pages),
      .min = 1, .max = 65536, .def = "64",
      .help = "pages per background read request" },
    { "io_depth", VM_PARAM_U32, offsetof(struct ckpt_restore_cfg, io_depth),
      .min = 1, .max = 1024, .def = "1", .help = "background read requests in flight (1: fault reads get most of the disk)" },
    { "background", VM_PARAM_BOOL, offsetof(struct ckpt_restore_cfg, background),
      .def = "true", .help = "stream the pages not faulted in the background" },
    { NULL }
};

static int lazy_start(const struct ckpt_restore_cfg *cfg, const struct ckpt_env *env,
                      struct ckpt_restore **out, struct vm_diag *d)
{
    if (cfg->background && (cfg->io_pages < 1 || cfg->io_depth < 1))
        return vm_diag_set(d, VM_EINVAL, "'lazy' restore: io_pages and io_depth must be >= 1");
    return ckpt_restore_common_start("lazy", cfg, env, cfg->background ? cfg->io_depth : 0,
                                     CKPT_RESTORE_FAULT_SLOTS,
                                     cfg->background ? cfg->io_pages : 1, false, out, d);
}

static int lazy_step(struct ckpt_restore *r)
{
    int rc = ckpt_restore_common_load(r);
    if (rc != 0)
        return rc;
    if (r->cfg.background)
        (void)ckpt_restore_common_stream_pages(r, r->cfg.io_pages, r->cfg.io_depth);
    return ckpt_restore_common_status(r);
}

static int lazy_fault(struct ckpt_restore *r, uint64_t page)
{
    int rc = ckpt_restore_common_fault_begin(r, page, false);
    if (rc != VM_EAGAIN || r->phase != CKPT_RESTORE_READY)
        return rc;
    return ckpt_restore_common_fault_page(r, page);
}

static bool lazy_runnable(const struct ckpt_restore *r)
{
    return r->phase == CKPT_RESTORE_READY;
}

const struct ckpt_restore_policy ckpt_restore_lazy_policy = {
    .name = "lazy",
    .desc = "run the VM at once; each fault reads its own page, the rest streams behind",
    .flags = 0,
    .params = lazy_params,
    .start = lazy_start,
    .fault = lazy_fault,
    .step = lazy_step,
    .runnable = lazy_runnable,
    .stats = ckpt_restore_common_stats,
    .diag = ckpt_restore_common_diag,
    .destroy = ckpt_restore_common_destroy,
};
