/*
 * ckpt_stopcopy.c - stop-and-copy checkpoint (baseline B0): the VM stays
 * stunned while every page is written, in GPA order, io_pages contiguous
 * pages per request with io_depth requests in flight, to a FLAT file
 * (page p at block data_lba + p, like QEMU's mapped-ram); then the header.
 * The checkpoint instant is the stun, and nothing changes memory until the
 * save is done, so no tracing is needed.
 * Zero pages (zero_pages): a chunk's zero pages go into the zero map and
 * stay holes in the file; its non-zero runs go out as one vectored request,
 * each run one device I/O at its own offset (QEMU's mapped-ram writes
 * only the non-zero pages of a block too); a chunk of zero pages only
 * writes nothing.
 * Not modelled: device state (the world charges it at the stun).
 */
#include <stddef.h>
#include <stdlib.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "checkpoint/ckpt.h"
#include "checkpoint/ckpt_file.h"
#include "checkpoint/ckpt_writer.h"

struct stopcopy {
    struct ckpt_cfg cfg;
    struct ckpt_env env;
    struct ckpt_stats st;
    struct ckpt_writer w;
    struct ckpt_image *img;       /* FLAT: the header, and the zero map */
    uint64_t nr_pages;
    uint64_t next_page;           /* first page not yet submitted */
    uint64_t *run_lbas;           /* zero_pages: io_pages per request, its runs' lbas */
    uint32_t *run_blocks;         /* ... and their lengths */
};

static struct stopcopy *sc(struct ckpt_save *s) { return (struct stopcopy *)s; }

static void stopcopy_destroy(struct ckpt_save *s)
{
    struct stopcopy *c = sc(s);
    if (!c)
        return;
    ckpt_writer_fini(&c->w);
    ckpt_image_free(c->img);
    free(c->run_lbas);
    free(c->run_blocks);
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
    if (cfg->zero_pages) {
        c->run_lbas = calloc((size_t)cfg->io_depth * cfg->io_pages, sizeof(uint64_t));
        c->run_blocks = calloc((size_t)cfg->io_depth * cfg->io_pages, sizeof(uint32_t));
    }
    if (ckpt_writer_add_pool(&c->w, 0, cfg->io_depth, cfg->io_pages) ||
        ckpt_image_new(&h, &c->img) ||
        (cfg->zero_pages && (!c->run_lbas || !c->run_blocks || ckpt_image_zero_map(c->img)))) {
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

/*
 * Drop the zero pages from r's n pages read from page `first` on: record
 * them in the zero map, pack the others at the front of r->fps and make
 * their runs the request's I/Os (r->lbas / r->io_blocks; NULL when one run
 * is left).  Returns the pages kept; *nr_ios their runs, *lba the first's.
 */
static uint32_t drop_zero_pages(struct stopcopy *c, struct ckpt_wreq *r, uint64_t first,
                                uint32_t n, uint32_t *nr_ios, uint64_t *lba)
{
    uint64_t *lbas = c->run_lbas + (size_t)r->id * c->cfg.io_pages;
    uint32_t *lens = c->run_blocks + (size_t)r->id * c->cfg.io_pages;
    uint32_t kept = 0, runs = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (r->fps[i] == VM_FP_ZERO) {
            vm_bitmap_set(c->img->zero, first + i);
            c->st.zero_pages_bg++;
            continue;
        }
        if (runs == 0 || lbas[runs - 1] + lens[runs - 1] != CKPT_DATA_LBA + first + i) {
            lbas[runs] = CKPT_DATA_LBA + first + i;
            lens[runs++] = 0;
        }
        lens[runs - 1]++;
        r->fps[kept++] = r->fps[i];
    }
    r->lbas = runs > 1 ? lbas : NULL;
    r->io_blocks = runs > 1 ? lens : NULL;
    *nr_ios = runs;
    *lba = lbas[0];
    return kept;
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
        uint64_t first = c->next_page;
        uint32_t n = c->nr_pages - first < c->cfg.io_pages ? (uint32_t)(c->nr_pages - first)
                                                           : c->cfg.io_pages;
        c->next_page += n;
        port_mem_read(c->env.mem, first, n, r->fps);
        uint64_t lba = CKPT_DATA_LBA + first;
        uint32_t nr_ios = 1;
        if (c->cfg.zero_pages && (n = drop_zero_pages(c, r, first, n, &nr_ios, &lba)) == 0) {
            ckpt_writer_put(&c->w, r);    /* zero pages only: nothing to write */
            return CKPT_STEP_MORE;
        }
        c->st.pages_copied_bg += n;
        uint64_t bytes = n * VM_PAGE_SIZE;
        ckpt_writer_stage(&c->w, (int64_t)bytes);
        int rc = ckpt_writer_submit(&c->w, r, lba, n, nr_ios, 0, 0, bytes, bytes);
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
    CKPT_PARAM_ZERO_PAGES,
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
