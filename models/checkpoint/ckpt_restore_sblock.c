/*
 * ckpt_restore_sblock.c - storage-block restore (US9053065 claims 1-3;
 * Halite, USENIX ATC'13): a fault reads the whole storage block holding
 * the faulting page's block and installs that block, and with
 * install_all (claim 3) every other block in it, so pages saved together
 * (the same access-time locality that filled the staging buffer, or the
 * A-bit grouping of claim 5) come back together.
 *
 * runnable once the maps are loaded.  fault(page): look the block up in
 * map 1 (block -> storage block); VM_EAGAIN while that storage block's
 * read is in flight (concurrent faults share one read); otherwise one
 * request for the whole storage block (map 2: lba, device blocks) and
 * VM_EAGAIN; 0 once the page is present.  Blocks installed for no fault
 * of theirs count as prefetched; a compressed storage block counts all
 * its pages in decompress_out.  With `background` step() reads the
 * storage blocks still holding absent pages in file order, io_depth in
 * flight.  FLAT and STREAM images have no storage blocks: step() fails
 * with VM_ENOTSUP once the header shows the layout.
 * Not modelled: parallel install threads (claim 4) - install CPU time is
 * charged by the world from pages_installed.
 */
#include <stddef.h>

#include "checkpoint/ckpt_restore_common.h"

static const struct vm_param sblock_params[] = {
    { "install_all", VM_PARAM_BOOL, offsetof(struct ckpt_restore_cfg, install_all),
      .def = "true", .help = "install every block of a storage block read (claim 3)" },
    { "background", VM_PARAM_BOOL, offsetof(struct ckpt_restore_cfg, background),
      .def = "true", .help = "read the remaining storage blocks in the background" },
    { "io_depth", VM_PARAM_U32, offsetof(struct ckpt_restore_cfg, io_depth),
      .min = 1, .max = 1024, .def = "1", .help = "background read requests in flight (1: fault reads get most of the disk)" },
    { NULL }
};

static int sblock_start(const struct ckpt_restore_cfg *cfg, const struct ckpt_env *env,
                        struct ckpt_restore **out, struct vm_diag *d)
{
    if (cfg->background && cfg->io_depth < 1)
        return vm_diag_set(d, VM_EINVAL, "'sblock' restore: io_depth must be >= 1");
    return ckpt_restore_common_start("sblock", cfg, env, cfg->background ? cfg->io_depth : 0,
                                     CKPT_RESTORE_FAULT_SLOTS, 1, true, out, d);
}

static int sblock_step(struct ckpt_restore *r)
{
    int rc = ckpt_restore_common_load(r);
    if (rc != 0)
        return rc;
    if (r->cfg.background)
        (void)ckpt_restore_common_stream_sblocks(r, r->cfg.io_depth);
    return ckpt_restore_common_status(r);
}

static int sblock_fault(struct ckpt_restore *r, uint64_t page)
{
    int rc = ckpt_restore_common_fault_begin(r, page, true);
    if (rc != VM_EAGAIN || r->phase != CKPT_RESTORE_READY)
        return rc;
    return ckpt_restore_common_fault_sblock(r, page, r->cfg.install_all);
}

static bool sblock_runnable(const struct ckpt_restore *r)
{
    return r->phase == CKPT_RESTORE_READY;
}

const struct ckpt_restore_policy ckpt_restore_sblock_policy = {
    .name = "sblock",
    .desc = "a fault reads its whole storage block and installs its blocks (US9053065)",
    .flags = 0,
    .params = sblock_params,
    .start = sblock_start,
    .fault = sblock_fault,
    .step = sblock_step,
    .runnable = sblock_runnable,
    .stats = ckpt_restore_common_stats,
    .diag = ckpt_restore_common_diag,
    .destroy = ckpt_restore_common_destroy,
};
