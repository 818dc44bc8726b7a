/*
 * ckpt_lazypage.c - lazy copy-on-write checkpoint, page by page (baseline
 * B1 of US9053064's background): brief stun, every page write-traced, the
 * VM resumes.  A guest write to an unsaved page first copies that one page
 * into a bounce page and the access proceeds; the bounce pages are written
 * at their own GPA offsets, one 4 KiB I/O each, submitted together as a
 * vectored run (one io_submit of many iocbs) whenever a bounce buffer of
 * io_pages pages is full, and the last partial one when the saver is done.  A background saver walks the pages
 * in GPA order and writes each run of still-unsaved consecutive pages as
 * one request that stands for one device I/O per page (nr_ios = run
 * length): the per-page write pattern of the baseline, without one
 * simulator activity per page.  FLAT layout, no maps.
 * Zero pages (zero_pages): a write fault on a zero page records it in the
 * zero map and lets the write proceed without a bounce page; the saver
 * leaves the zero pages of what it reads out of its request.  They stay
 * holes in the file, and the zero map is the image's only map.
 * Not modelled: compression (the mechanism's variant has it).
 */
#include <stddef.h>
#include <stdlib.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "checkpoint/ckpt.h"
#include "checkpoint/ckpt_file.h"
#include "checkpoint/ckpt_writer.h"

enum { POOL_SAVER = 0, POOL_BOUNCE = 1 };

struct lazypage {
    struct ckpt_cfg cfg;
    struct ckpt_env env;
    struct ckpt_stats st;
    struct ckpt_writer w;
    struct ckpt_image *img;
    uint64_t nr_pages;
    uint64_t *pending;            /* pages whose content is not yet captured */
    uint64_t scan;                /* saver: every page below is captured */
    uint64_t *bounce_lbas;        /* io_pages target blocks per bounce buffer */
    uint64_t *saver_lbas;         /* io_pages target blocks per saver request */
    struct ckpt_wreq *fill;       /* bounce buffer the faults fill, or NULL */
    uint32_t fill_n;              /* pages in it */
};

static struct lazypage *lp(struct ckpt_save *s) { return (struct lazypage *)s; }

static void lazypage_destroy(struct ckpt_save *s)
{
    struct lazypage *l = lp(s);
    if (!l)
        return;
    ckpt_writer_fini(&l->w);
    ckpt_image_free(l->img);
    vm_bitmap_free(l->pending);
    free(l->bounce_lbas);
    free(l->saver_lbas);
    free(l);
}

static int lazypage_start(const struct ckpt_cfg *cfg, const struct ckpt_env *env,
                          struct ckpt_save **out, struct vm_diag *d)
{
    *out = NULL;
    if (cfg->io_pages == 0 || cfg->io_depth == 0)
        return vm_diag_set(d, VM_EINVAL, "lazypage: 'io_pages' and 'io_depth' must be >= 1");
    uint64_t nr_pages = port_mem_nr_pages(env->mem);
    if (nr_pages == 0)
        return vm_diag_set(d, VM_EINVAL, "lazypage: guest memory has no pages");
    if (port_blk_nr_blocks(env->file) < CKPT_DATA_LBA + nr_pages)
        return vm_diag_set(d, VM_ENOSPC,
                           "lazypage: checkpoint file of %llu blocks cannot hold %llu pages",
                           (unsigned long long)port_blk_nr_blocks(env->file),
                           (unsigned long long)nr_pages);
    struct lazypage *l = calloc(1, sizeof(*l));
    if (!l)
        return vm_diag_set(d, VM_ENOMEM, "lazypage: out of memory");
    l->cfg = *cfg;
    l->env = *env;
    l->nr_pages = nr_pages;
    ckpt_writer_init(&l->w, env, &l->st, NULL, l);
    l->w.cursor = CKPT_DATA_LBA + nr_pages;
    struct ckpt_header h = { .layout = CKPT_LAYOUT_FLAT, .nr_pages = nr_pages,
                             .data_lba = CKPT_DATA_LBA };
    l->pending = vm_bitmap_new(nr_pages);
    l->bounce_lbas = calloc((size_t)cfg->io_pages * cfg->io_depth, sizeof(uint64_t));
    l->saver_lbas = calloc((size_t)cfg->io_pages * cfg->io_depth, sizeof(uint64_t));
    if (!l->pending || !l->bounce_lbas || !l->saver_lbas ||
        ckpt_writer_add_pool(&l->w, POOL_SAVER, cfg->io_depth, cfg->io_pages) ||
        ckpt_writer_add_pool(&l->w, POOL_BOUNCE, cfg->io_depth, cfg->io_pages) ||
        ckpt_image_new(&h, &l->img) || (cfg->zero_pages && ckpt_image_zero_map(l->img))) {
        lazypage_destroy((struct ckpt_save *)l);
        return vm_diag_set(d, VM_ENOMEM, "lazypage: out of memory");
    }
    vm_bitmap_set_range(l->pending, 0, nr_pages);
    port_mem_set_trace(env->mem, 0, nr_pages, PORT_MEM_TRACE_WRITE);
    *out = (struct ckpt_save *)l;
    return 0;
}

/* Write the bounce buffer the faults filled: one 4 KiB I/O per page. */
static int submit_fill(struct lazypage *l)
{
    struct ckpt_wreq *r = l->fill;
    uint32_t n = l->fill_n;
    l->fill = NULL;
    l->fill_n = 0;
    r->lbas = l->bounce_lbas + (size_t)r->id * l->cfg.io_pages;
    uint64_t bytes = (uint64_t)n * VM_PAGE_SIZE;
    return ckpt_writer_submit(&l->w, r, r->lbas[0], n, n, 0, 0, bytes,
                              (uint64_t)l->cfg.io_pages * VM_PAGE_SIZE);
}

static int lazypage_fault(struct ckpt_save *s, uint64_t page, bool is_write)
{
    struct lazypage *l = lp(s);
    if (page >= l->nr_pages)
        return VM_EINVAL;
    if (ckpt_writer_failed(&l->w)) {
        l->st.faults++;
        return 0;                     /* memory is untraced: the guest goes on */
    }
    if (!vm_bitmap_test(l->pending, page)) {
        /* already captured: a stale trace, drop it */
        port_mem_set_trace(l->env.mem, page, 1, PORT_MEM_TRACE_NONE);
        l->st.faults++;
        return 0;
    }
    if (l->cfg.zero_pages) {
        /* a zero page needs no bounce page: the zero map says it all */
        uint64_t fp;
        port_mem_read(l->env.mem, page, 1, &fp);
        if (fp == VM_FP_ZERO) {
            l->st.faults++;
            l->st.zero_pages_fault++;
            vm_bitmap_set(l->img->zero, page);
            vm_bitmap_clear(l->pending, page);
            port_mem_set_trace(l->env.mem, page, 1, PORT_MEM_TRACE_NONE);
            return 0;
        }
    }
    if (!l->fill) {
        l->fill = ckpt_writer_get(&l->w, POOL_BOUNCE);
        if (!l->fill) {
            l->st.fault_waits++;
            return VM_EAGAIN;
        }
        ckpt_writer_stage(&l->w, (int64_t)l->cfg.io_pages * VM_PAGE_SIZE);
    }
    l->st.faults++;
    struct ckpt_wreq *r = l->fill;
    port_mem_read(l->env.mem, page, 1, r->fps + l->fill_n);
    l->bounce_lbas[(size_t)r->id * l->cfg.io_pages + l->fill_n] = CKPT_DATA_LBA + page;
    l->fill_n++;
    vm_bitmap_clear(l->pending, page);
    port_mem_set_trace(l->env.mem, page, 1, PORT_MEM_TRACE_NONE);
    l->st.pages_copied_fault++;
    if (l->fill_n == l->cfg.io_pages && submit_fill(l) < 0)
        ckpt_writer_failed(&l->w);
    return 0;
}

static int lazypage_step(struct ckpt_save *s)
{
    struct lazypage *l = lp(s);
    if (l->w.err)
        return ckpt_writer_step_failed(&l->w);
    /* a partly filled bounce buffer goes out once the saver has nothing
     * left; until then it fills up (a full one is written at once), as a
     * COW page's content is safe in it whenever it is written */
    uint64_t p = vm_bitmap_next_set(l->pending, l->nr_pages, l->scan);
    if (l->fill_n && p >= l->nr_pages) {
        if (submit_fill(l) < 0)
            return ckpt_writer_step_failed(&l->w);
        return CKPT_STEP_MORE;
    }
    if (p < l->nr_pages) {
        struct ckpt_wreq *r = ckpt_writer_get(&l->w, POOL_SAVER);
        if (!r)
            return CKPT_STEP_WAIT;
        /* the next io_pages uncaptured pages in GPA order, skipping those
         * the faults took: one request, one device I/O per page; their
         * content is captured in the request now, so untrace them (zero
         * pages are captured by the zero map and left out) */
        uint64_t *lbas = l->saver_lbas + (size_t)r->id * l->cfg.io_pages;
        uint32_t n = 0, scanned = 0;
        while (p < l->nr_pages && scanned < l->cfg.io_pages) {
            uint64_t lim = p + (l->cfg.io_pages - scanned);
            uint64_t end = vm_bitmap_next_clear(l->pending, lim < l->nr_pages ? lim : l->nr_pages, p);
            uint32_t k = (uint32_t)(end - p);
            port_mem_read(l->env.mem, p, k, r->fps + n);
            vm_bitmap_clear_range(l->pending, p, k);
            port_mem_set_trace(l->env.mem, p, k, PORT_MEM_TRACE_NONE);
            uint32_t kept = 0;
            for (uint32_t i = 0; i < k; i++) {
                if (l->cfg.zero_pages && r->fps[n + i] == VM_FP_ZERO) {
                    vm_bitmap_set(l->img->zero, p + i);
                    l->st.zero_pages_bg++;
                    continue;
                }
                r->fps[n + kept] = r->fps[n + i];
                lbas[n + kept++] = CKPT_DATA_LBA + p + i;
            }
            n += kept;
            scanned += k;
            l->scan = end;
            p = vm_bitmap_next_set(l->pending, l->nr_pages, end);
        }
        if (n == 0) {                     /* zero pages only: nothing to write */
            ckpt_writer_put(&l->w, r);
            return CKPT_STEP_MORE;
        }
        /* lbas ascend: they are consecutive when they span n blocks */
        r->lbas = lbas[n - 1] - lbas[0] == n - 1 ? NULL : lbas;
        l->st.pages_copied_bg += n;
        uint64_t bytes = (uint64_t)n * VM_PAGE_SIZE;
        ckpt_writer_stage(&l->w, (int64_t)bytes);
        if (ckpt_writer_submit(&l->w, r, lbas[0], n, n, 0, 0, bytes, bytes) < 0)
            return ckpt_writer_step_failed(&l->w);
        return CKPT_STEP_MORE;
    }
    l->scan = l->nr_pages;
    return ckpt_writer_finish(&l->w, l->img);
}

static const struct ckpt_stats *lazypage_stats(const struct ckpt_save *s)
{
    return &((const struct lazypage *)s)->st;
}

static const struct vm_param lazypage_params[] = {
    { "io_pages", VM_PARAM_U32, offsetof(struct ckpt_cfg, io_pages), .min = 1, .max = 65536,
      .def = "64", .help = "pages per saver request (each page its own 4 KiB I/O)" },
    { "io_depth", VM_PARAM_U32, offsetof(struct ckpt_cfg, io_depth), .min = 1, .max = 1024,
      .def = "4", .help = "saver requests in flight; also the faults' bounce buffers of io_pages pages" },
    CKPT_PARAM_CHANNELS,
    CKPT_PARAM_ZERO_PAGES,
    { NULL, 0, 0, .help = NULL },
};

const struct ckpt_policy ckpt_lazypage_policy = {
    .name = "lazypage",
    .desc = "lazy copy-on-write save page by page: one 4 KiB write per page, GPA order",
    .flags = 0,
    .params = lazypage_params,
    .start = lazypage_start,
    .fault = lazypage_fault,
    .step = lazypage_step,
    .stats = lazypage_stats,
    .destroy = lazypage_destroy,
};
