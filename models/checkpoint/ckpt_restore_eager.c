/*
 * ckpt_restore_eager.c - eager restore: read the whole image, then let the
 * VM run (the "eager" baseline of working-set restore, Zhang et al.,
 * VEE'11; QEMU's incoming migration from a file behaves the same way).
 *
 * After the header and maps, step() reads the image in large sequential
 * requests, io_depth of them in flight, installing pages as reads
 * complete: FLAT and STREAM images in runs of io_pages consecutive blocks
 * taken in page order (a STREAM page's latest copy only; a run ends where
 * the next page's copy is not the next block), SBLOCK images one request
 * per storage block in file order.  The VM is runnable only once every
 * page is installed, so time-to-responsiveness equals the restore time.
 * Every page counts as prefetched (none is installed for a fault).
 * Not modelled: overlapping install CPU work with reads (the world
 * charges install and decompression time from the counts).
 */
#include <stddef.h>

#include "checkpoint/ckpt_restore_common.h"

static const struct vm_param eager_params[] = {
    { "io_pages", VM_PARAM_U32, offsetof(struct ckpt_restore_cfg, io_pages),
      .min = 1, .max = 65536, .def = "256",
      .help = "blocks per read request (flat and stream images)" },
    { "io_depth", VM_PARAM_U32, offsetof(struct ckpt_restore_cfg, io_depth),
      .min = 1, .max = 1024, .def = "8", .help = "read requests in flight" },
    { NULL }
};

static int eager_start(const struct ckpt_restore_cfg *cfg, const struct ckpt_env *env,
                       struct ckpt_restore **out, struct vm_diag *d)
{
    if (cfg->io_pages < 1 || cfg->io_depth < 1)
        return vm_diag_set(d, VM_EINVAL, "'eager' restore: io_pages and io_depth must be >= 1");
    return ckpt_restore_common_start("eager", cfg, env, cfg->io_depth, 0, cfg->io_pages,
                                     false, out, d);
}

static int eager_step(struct ckpt_restore *r)
{
    int rc = ckpt_restore_common_load(r);
    if (rc != 0)
        return rc;
    /* an error is kept in r and reported by status() once reads drain */
    if (r->img->hdr.layout == CKPT_LAYOUT_SBLOCK)
        (void)ckpt_restore_common_stream_sblocks(r, r->cfg.io_depth);
    else
        (void)ckpt_restore_common_stream_pages(r, r->cfg.io_pages, r->cfg.io_depth);
    return ckpt_restore_common_status(r);
}

/* The world never faults before runnable(); a page is present by then. */
static int eager_fault(struct ckpt_restore *r, uint64_t page)
{
    /* 0 when installed; VM_EAGAIN: the eager reads will bring it */
    return ckpt_restore_common_fault_begin(r, page, false);
}

static bool eager_runnable(const struct ckpt_restore *r)
{
    return ckpt_restore_common_complete(r);
}

const struct ckpt_restore_policy ckpt_restore_eager_policy = {
    .name = "eager",
    .desc = "read the whole image in large sequential requests, then run the VM",
    .flags = 0,
    .params = eager_params,
    .start = eager_start,
    .fault = eager_fault,
    .step = eager_step,
    .runnable = eager_runnable,
    .stats = ckpt_restore_common_stats,
    .diag = ckpt_restore_common_diag,
    .destroy = ckpt_restore_common_destroy,
};
