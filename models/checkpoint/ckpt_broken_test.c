/*
 * ckpt_broken_test.c - deliberately broken policies (CKPT_F_HIDDEN, not
 * listed by `vmsim list`), so that a run can show that the simulator's
 * invariant checks catch a bug they are meant to catch
 * (tests/e2e/invariants.sh, tests/check_ckpt_sim_*.c).  Each one is a real
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
 *   buffered-corrupt-maps-test  buffered save whose checkpoint-file port
 *       flips one byte of the persistent maps on their way to the device,
 *       after the writer took the header's checksum of them: the image's
 *       maps do not decode, and the image check and every restore must
 *       say so with the decoder's reason.
 *
 * Not modelled: anything else; the policies count and cost what the real
 * ones do.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "checkpoint/ckpt.h"
#include "checkpoint/ckpt_file.h"

extern const struct ckpt_policy ckpt_buffered_policy;
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

static const char *lp_diag(const struct ckpt_restore *r)
{
    return ckpt_restore_sblock_policy.diag(lp_of(r)->inner);
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
    .diag = lp_diag,
    .destroy = lp_destroy,
};

/* ---- buffered-corrupt-maps-test ---------------------------------------- */

/* The save's state: the stacked file port and the real save. */
struct corrupt_maps {
    struct port_blk base;         /* first: the real policy's checkpoint file */
    struct port_blk *lower;       /* the world's checkpoint file */
    struct ckpt_save *inner;      /* the buffered save */
    bool corrupted;               /* the one corrupted write was submitted */
    struct port_blk_req req;      /* that write, carrying the corrupted copy */
    struct port_blk_req *outer;   /* the writer's request it stands for */
    uint8_t *copy;                /* the maps with one byte flipped */
};

static struct corrupt_maps *cm_of(const void *p) { return (struct corrupt_maps *)p; }

static void cm_done(struct port_blk_req *req, int rc)
{
    struct corrupt_maps *c = req->data;
    struct port_blk_req *o = c->outer;
    o->submit_ns = req->submit_ns;
    o->done_ns = req->done_ns;
    free(c->copy);                /* the device stored its own copy */
    c->copy = NULL;
    c->outer = NULL;
    o->cb(o, rc);
}

/* The maps are the one packed write of a metadata blob that is not the
 * header (data extents carry fingerprints, not bytes). */
static int cm_submit(struct port_blk *dev, struct port_blk_req *req)
{
    struct corrupt_maps *c = cm_of(dev);
    if (c->corrupted || req->op != PORT_BLK_WRITE || !req->packed || !req->bytes ||
        req->len == 0 || req->lba == CKPT_HEADER_LBA)
        return port_blk_submit(c->lower, req);
    c->copy = malloc(req->len);
    if (!c->copy)
        return VM_ENOMEM;
    memcpy(c->copy, req->bytes, req->len);
    c->copy[req->len / 2] ^= 0x20;        /* the bug: one flipped bit on the way */
    c->req = *req;
    c->req.bytes = c->copy;
    c->req.cb = cm_done;
    c->req.data = c;
    c->outer = req;
    int rc = port_blk_submit(c->lower, &c->req);
    if (rc < 0) {
        free(c->copy);
        c->copy = NULL;
        c->outer = NULL;
        return rc;
    }
    c->corrupted = true;
    return 0;
}

static uint64_t cm_nr_blocks(const struct port_blk *dev)
{
    return port_blk_nr_blocks(cm_of(dev)->lower);
}

static const struct port_blk_ops cm_blk_ops = {
    .version = PORT_BLK_VERSION,
    .name = "corrupt-maps-test",
    .submit = cm_submit,
    .nr_blocks = cm_nr_blocks,
};

static void cm_destroy(struct ckpt_save *s)
{
    struct corrupt_maps *c = cm_of(s);
    if (!c)
        return;
    if (c->inner)
        ckpt_buffered_policy.destroy(c->inner);
    free(c->copy);
    free(c);
}

static int cm_start(const struct ckpt_cfg *cfg, const struct ckpt_env *env,
                    struct ckpt_save **out, struct vm_diag *d)
{
    *out = NULL;
    if (!env || !env->file)
        return vm_diag_set(d, VM_EINVAL, "buffered-corrupt-maps-test: needs a checkpoint file");
    struct corrupt_maps *c = calloc(1, sizeof *c);
    if (!c)
        return vm_diag_set(d, VM_ENOMEM, "buffered-corrupt-maps-test: out of memory");
    c->base.ops = &cm_blk_ops;
    c->lower = env->file;
    struct ckpt_env stacked = *env;
    stacked.file = &c->base;
    int rc = ckpt_buffered_policy.start(cfg, &stacked, &c->inner, d);
    if (rc < 0) {
        cm_destroy((struct ckpt_save *)c);
        return rc;
    }
    *out = (struct ckpt_save *)c;
    return 0;
}

static int cm_fault(struct ckpt_save *s, uint64_t page, bool is_write)
{
    return ckpt_buffered_policy.fault(cm_of(s)->inner, page, is_write);
}

static int cm_step(struct ckpt_save *s)
{
    return ckpt_buffered_policy.step(cm_of(s)->inner);
}

static const struct ckpt_stats *cm_stats(const struct ckpt_save *s)
{
    return ckpt_buffered_policy.stats(cm_of(s)->inner);
}

/* buffered's parameters, the same keys and defaults into the same struct */
static const struct vm_param cm_params[] = {
    { "block_pages", VM_PARAM_U32, offsetof(struct ckpt_cfg, block_pages), .min = 1,
      .max = 4096, .def = "16", .help = "pages per block (B)" },
    { "sblock_blocks", VM_PARAM_U32, offsetof(struct ckpt_cfg, sblock_blocks), .min = 2,
      .max = 64, .def = "8", .help = "blocks per storage block (N)" },
    { "nr_buffers", VM_PARAM_U32, offsetof(struct ckpt_cfg, nr_buffers), .min = 1, .max = 1024,
      .def = "2", .help = "staging buffers of N blocks each" },
    { "compress", VM_PARAM_BOOL, offsetof(struct ckpt_cfg, compress), .def = "false",
      .help = "zstd-compress blocks before staging" },
    { "trace", VM_PARAM_ENUM, offsetof(struct ckpt_cfg, trace), .choices = "write|rw",
      .def = "write", .help = "trace writes only or reads and writes" },
    { "grouping", VM_PARAM_ENUM, offsetof(struct ckpt_cfg, grouping), .choices = "gpa|abits",
      .def = "gpa", .help = "blocks of contiguous pages, or grouped by accessed bits" },
    CKPT_PARAM_ZERO_PAGES,
    { NULL }
};

const struct ckpt_policy ckpt_buffered_corrupt_maps_test_policy = {
    .name = "buffered-corrupt-maps-test",
    .desc = "buffered, broken on purpose: one byte of the maps flips on its way to the file",
    .flags = CKPT_F_HIDDEN,
    .params = cm_params,
    .start = cm_start,
    .fault = cm_fault,
    .step = cm_step,
    .stats = cm_stats,
    .destroy = cm_destroy,
};
