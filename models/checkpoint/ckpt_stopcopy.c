/*
 * ckpt_stopcopy.c - stop-and-copy checkpoint (baseline B0): the VM stays
 * stunned while every page is written, in GPA order, io_pages contiguous
 * pages per request with io_depth requests in flight, to a FLAT file
 * (page p at block data_lba + p, like QEMU's mapped-ram); then the header.
 * The checkpoint instant is the stun, and nothing changes memory until the
 * save is done, so no tracing is needed.
 * Not modelled: device state (the world charges it at the stun).
 */
#include <stddef.h>
#include <stdlib.h>

#include "checkpoint/ckpt.h"
#include "checkpoint/ckpt_file.h"
#include "checkpoint/ckpt_writer.h"

struct stopcopy {
    struct ckpt_cfg cfg;
    struct ckpt_env env;
    struct ckpt_stats st;
    struct ckpt_writer w;
    struct ckpt_image *img;       /* FLAT: the header only */
    uint64_t nr_pages;
    uint64_t next_page;           /* first page not yet submitted */
};

static struct stopcopy *sc(struct ckpt_save *s) { return (struct stopcopy *)s; }

static void stopcopy_destroy(struct ckpt_save *s)
{
    struct stopcopy *c = sc(s);
    if (!c)
        return;
    ckpt_writer_fini(&c->w);
    ckpt_image_free(c->img);
    free(c);
}

static int stopcopy_start(const struct ckpt_cfg *cfg, const struct ckpt_env *env,
                          struct ckpt_save **out, struct vm_diag *d)
{
    *out = NULL;
    if (cfg->io_pages == 0 || cfg->io_depth == 0)
        return vm_diag_set(d, VM_EINVAL, "stopcopy: 'io_pages' and 'io_depth' must be >= 1");
    uint64_t nr_pages = port_mem_nr_pages(env->mem);
    if (nr_pages == 0)
        return vm_diag_set(d, VM_EINVAL, "stopcopy: guest memory has no pages");
    if (port_blk_nr_blocks(env->file) < CKPT_DATA_LBA + nr_pages)
        return vm_diag_set(d, VM_ENOSPC,
                           "stopcopy: checkpoint file of %llu blocks cannot hold %llu pages",
                           (unsigned long long)port_blk_nr_blocks(env->file),
                           (unsigned long long)nr_pages);
    struct stopcopy *c = calloc(1, sizeof(*c));
    if (!c)
        return vm_diag_set(d, VM_ENOMEM, "stopcopy: out of memory");
    c->cfg = *cfg;
    c->env = *env;
    c->nr_pages = nr_pages;
    ckpt_writer_init(&c->w, env, &c->st, NULL, c);
    c->w.cursor = CKPT_DATA_LBA + nr_pages;
    struct ckpt_header h = { .layout = CKPT_LAYOUT_FLAT, .nr_pages = nr_pages,
                             .data_lba = CKPT_DATA_LBA };
    if (ckpt_writer_add_pool(&c->w, 0, cfg->io_depth, cfg->io_pages) ||
        ckpt_image_new(&h, &c->img)) {
        stopcopy_destroy((struct ckpt_save *)c);
        return vm_diag_set(d, VM_ENOMEM, "stopcopy: out of memory");
    }
    *out = (struct ckpt_save *)c;
    return 0;
}

/* The VM is stunned for the whole save: nothing is traced. */
static int stopcopy_fault(struct ckpt_save *s, uint64_t page, bool is_write)
{
    return 0;
}

static int stopcopy_step(struct ckpt_save *s)
{
    struct stopcopy *c = sc(s);
    if (c->w.err)
        return ckpt_writer_step_failed(&c->w);
    if (c->next_page < c->nr_pages) {
        struct ckpt_wreq *r = ckpt_writer_get(&c->w, 0);
        if (!r)
            return CKPT_STEP_WAIT;
        uint64_t n = c->nr_pages - c->next_page;
        if (n > c->cfg.io_pages)
            n = c->cfg.io_pages;
        port_mem_read(c->env.mem, c->next_page, (uint32_t)n, r->fps);
        c->st.pages_copied_bg += n;
        uint64_t bytes = n * VM_PAGE_SIZE, lba = CKPT_DATA_LBA + c->next_page;
        ckpt_writer_stage(&c->w, (int64_t)bytes);
        c->next_page += n;              /* before the port call, which may let others run */
        int rc = ckpt_writer_submit(&c->w, r, lba, (uint32_t)n, 1, 0, 0, bytes, bytes);
        return rc < 0 ? ckpt_writer_step_failed(&c->w) : CKPT_STEP_MORE;
    }
    return ckpt_writer_finish(&c->w, c->img);
}

static const struct ckpt_stats *stopcopy_stats(const struct ckpt_save *s)
{
    return &((const struct stopcopy *)s)->st;
}

static const struct vm_param stopcopy_params[] = {
    { "io_pages", VM_PARAM_U32, offsetof(struct ckpt_cfg, io_pages), .min = 1, .max = 65536,
      .def = "256", .help = "contiguous pages per write request (256 = 1 MiB)" },
    { "io_depth", VM_PARAM_U32, offsetof(struct ckpt_cfg, io_depth), .min = 1, .max = 1024,
      .def = "4", .help = "write requests in flight" },
    CKPT_PARAM_CHANNELS,
    { NULL, 0, 0, .help = NULL },
};

const struct ckpt_policy ckpt_stopcopy_policy = {
    .name = "stopcopy",
    .desc = "stop-and-copy: VM stunned while all pages are written in GPA order",
    .flags = CKPT_F_STUN_ALL,
    .params = stopcopy_params,
    .start = stopcopy_start,
    .fault = stopcopy_fault,
    .step = stopcopy_step,
    .stats = stopcopy_stats,
    .destroy = stopcopy_destroy,
};
