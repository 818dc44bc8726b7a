/*
 * ckpt_stopcopy.c - stop-and-copy checkpoint (baseline B0): the VM stays
 * stunned while every page is written in GPA order, then the maps and the
 * header.  The checkpoint instant is the stun, and nothing changes memory
 * until the save is done, so no tracing is needed.  It is QEMU's
 * migrate-to-file of a paused VM (what `virsh save` does), in one of two
 * file layouts (parameter `layout`):
 *
 * "stream" (default): QEMU's legacy migration stream, what a save to a
 *   file uses unless the mapped-ram capability is on (libvirt writes a
 *   sparse file only for mapped-ram: qemuMigrationSrcToFile picks
 *   qemuMigrationSrcToSparseFile then, qemuMigrationSrcToLegacyFile
 *   otherwise).  One thread (the migration thread) appends the pages in
 *   order: a zero page is a header-only record (save_zero_page,
 *   migration/ram.c: the page header and one byte), a non-zero page its
 *   header and 4 KiB (save_normal_page), so the file is written in large
 *   sequential writes whatever the zero pages.  Here: the non-zero pages
 *   are packed into requests of io_pages pages (STREAM layout,
 *   ckpt_file.h), appended at the write cursor, io_depth in flight; the
 *   zero pages go into the zero map, and the page -> block map stands for
 *   the records' page headers (4 bytes a page here, 8 in QEMU's stream).
 *   A stream has one writer: QEMU runs multifd to a file only with
 *   mapped-ram (transport_supports_multi_channels(), migration.c: a file
 *   address supports several channels only when migrate_mapped_ram()), so
 *   channels > 1 is refused.
 *
 * "mapped-ram": QEMU's mapped-ram capability, page p at a fixed offset
 *   (FLAT layout, page p at block data_lba + p): io_pages contiguous pages
 *   per request; a chunk's zero pages go into the zero map and stay holes
 *   in the file, its non-zero runs go out as one vectored request, each
 *   run one device I/O at its own offset (file_write_ramblock_iov,
 *   migration/file.c, issues one pwritev per contiguous slice); a chunk of
 *   zero pages only writes nothing.  With channels (QEMU multifd-channels)
 *   each channel thread tests its own pages for zeros and issues its own
 *   synchronous pwritev, so C channels keep C writes in flight: the
 *   request pool holds max(io_depth, channels) requests.
 *
 * Not modelled: device state (the world charges it at the stun), QEMU's
 * section and block headers of the stream, the page cache between QEMU and
 * the disk (requests are the device's I/Os: QEMU's QEMUFile flushes the
 * stream in writev()s of at most 64 iovecs, and mapped-ram without
 * multifd issues one pwrite per page, qemu_put_buffer_at; the page cache
 * merges both into the large writes modelled here), O_DIRECT.
 */
#include <stddef.h>
#include <stdlib.h>

#include "base/vm_bigmem.h"
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
    struct ckpt_image *img;       /* the header, the zero map, STREAM's page map */
    uint64_t nr_pages;
    uint64_t next_page;           /* first page not yet read */
    /* mapped-ram */
    uint64_t *run_lbas;           /* zero_pages: io_pages per request, its runs' lbas */
    uint32_t *run_blocks;         /* ... and their lengths */
    /* stream */
    struct ckpt_wreq *open;       /* the request being filled, NULL when none */
    uint32_t open_n;              /* its pages so far */
    uint64_t *open_pages;         /* which pages (io_pages entries) */
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
    free(c->open_pages);
    free(c);
}

static int stopcopy_check(const struct ckpt_cfg *cfg, struct vm_diag *d)
{
    if (cfg->layout == CKPT_SC_STREAM && cfg->channels > 1)
        return vm_diag_set(d, VM_EINVAL, "stopcopy: 'channels' > 1 needs 'layout' "
                           "\"mapped-ram\" (QEMU writes a stream file with one thread; "
                           "multifd to a file needs mapped-ram)");
    return 0;
}

static int stopcopy_start(const struct ckpt_cfg *cfg, const struct ckpt_env *env,
                          struct ckpt_save **out, struct vm_diag *d)
{
    *out = NULL;
    if (cfg->io_pages == 0 || cfg->io_depth == 0)
        return vm_diag_set(d, VM_EINVAL, "stopcopy: 'io_pages' and 'io_depth' must be >= 1");
    if (cfg->layout != CKPT_SC_STREAM && cfg->layout != CKPT_SC_MAPPED_RAM)
        return vm_diag_set(d, VM_EINVAL, "stopcopy: unknown layout %d", cfg->layout);
    int rc = stopcopy_check(cfg, d);
    if (rc < 0)
        return rc;
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
    bool stream = cfg->layout == CKPT_SC_STREAM;
    struct ckpt_header h = { .layout = stream ? CKPT_LAYOUT_STREAM : CKPT_LAYOUT_FLAT,
                             .nr_pages = nr_pages, .data_lba = CKPT_DATA_LBA };
    /* mapped-ram: each channel keeps its own write in flight */
    uint32_t nr_reqs = cfg->io_depth;
    if (!stream && cfg->channels > nr_reqs)
        nr_reqs = cfg->channels;
    bool ok = true;
    if (stream) {
        c->open_pages = malloc((size_t)cfg->io_pages * sizeof(uint64_t));
        ok = c->open_pages != NULL;
    } else {
        c->w.cursor = CKPT_DATA_LBA + nr_pages;      /* the maps go after the data */
        if (cfg->zero_pages) {
            c->run_lbas = calloc((size_t)nr_reqs * cfg->io_pages, sizeof(uint64_t));
            c->run_blocks = calloc((size_t)nr_reqs * cfg->io_pages, sizeof(uint32_t));
            ok = c->run_lbas && c->run_blocks;
        }
    }
    if (!ok || ckpt_writer_add_pool(&c->w, 0, nr_reqs, cfg->io_pages) ||
        ckpt_image_new(&h, &c->img) || (cfg->zero_pages && ckpt_image_zero_map(c->img))) {
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

/* ---- mapped-ram ---- */

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

static int step_mapped_ram(struct stopcopy *c)
{
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

/* ---- stream ---- */

/* Append the open request's pages at the cursor; the map points at them. */
static int submit_open(struct stopcopy *c)
{
    struct ckpt_wreq *r = c->open;
    uint32_t n = c->open_n;
    c->open = NULL;
    c->open_n = 0;
    if (n == 0) {
        ckpt_writer_put(&c->w, r);
        return CKPT_STEP_MORE;
    }
    uint64_t bytes = (uint64_t)n * VM_PAGE_SIZE, lba;
    if (ckpt_writer_alloc(&c->w, n, &lba) || lba + n > UINT32_MAX) {
        ckpt_writer_put(&c->w, r);
        ckpt_writer_stage(&c->w, -(int64_t)bytes);
        if (!c->w.err)
            c->w.err = VM_ENOSPC;       /* the map holds 32-bit block numbers */
        return ckpt_writer_step_failed(&c->w);
    }
    for (uint32_t i = 0; i < n; i++)
        c->img->page_lba[c->open_pages[i]] = (uint32_t)(lba + i);
    int rc = ckpt_writer_submit(&c->w, r, lba, n, 1, 0, 0, bytes, bytes);
    return rc < 0 ? ckpt_writer_step_failed(&c->w) : CKPT_STEP_MORE;
}

/*
 * Read the next pages into the open request (as many as it has room for),
 * keep the non-zero ones packed, and submit it once it is full or memory
 * is done: every request but the last carries io_pages pages, whatever the
 * zero pages between them.
 */
static int step_stream(struct stopcopy *c)
{
    if (!c->open) {
        c->open = ckpt_writer_get(&c->w, 0);
        if (!c->open)
            return CKPT_STEP_WAIT;
        c->open_n = 0;
    }
    struct ckpt_wreq *r = c->open;
    uint64_t first = c->next_page;
    uint32_t room = c->cfg.io_pages - c->open_n;
    uint32_t n = c->nr_pages - first < room ? (uint32_t)(c->nr_pages - first) : room;
    c->next_page += n;
    uint64_t *got = r->fps + c->open_n;
    port_mem_read(c->env.mem, first, n, got);
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (c->cfg.zero_pages && got[i] == VM_FP_ZERO) {
            vm_bitmap_set(c->img->zero, first + i);    /* a header-only record */
            c->st.zero_pages_bg++;
            continue;
        }
        got[kept] = got[i];                            /* kept <= i: packs in place */
        c->open_pages[c->open_n + kept++] = first + i;
    }
    c->open_n += kept;
    c->st.pages_copied_bg += kept;
    ckpt_writer_stage(&c->w, (int64_t)kept * VM_PAGE_SIZE);
    if (c->open_n == c->cfg.io_pages || c->next_page == c->nr_pages)
        return submit_open(c);
    return CKPT_STEP_MORE;
}

static int stopcopy_step(struct ckpt_save *s)
{
    struct stopcopy *c = sc(s);
    if (c->w.err)
        return ckpt_writer_step_failed(&c->w);
    if (c->next_page < c->nr_pages)
        return c->cfg.layout == CKPT_SC_STREAM ? step_stream(c) : step_mapped_ram(c);
    int rc = ckpt_writer_finish(&c->w, c->img);
    if (c->w.meta != CKPT_WMETA_NONE && c->img->page_lba) {
        /* the map is encoded for the file now: drop the live copy, which
         * would otherwise coexist with the encoding at the end of a large
         * save (as pre-copy does) */
        vm_bigmem_free(c->img->page_lba, c->img->hdr.nr_pages * sizeof(uint32_t));
        c->img->page_lba = NULL;
    }
    return rc;
}

static const struct ckpt_stats *stopcopy_stats(const struct ckpt_save *s)
{
    return &((const struct stopcopy *)s)->st;
}

static const struct vm_param stopcopy_params[] = {
    { "layout", VM_PARAM_ENUM, offsetof(struct ckpt_cfg, layout), .choices = "stream|mapped-ram",
      .def = "stream",
      .help = "QEMU's file format: the legacy stream (zero pages in the maps, the rest packed "
              "in large sequential writes; what a save uses by default) or mapped-ram (each "
              "page at its own offset, zero pages left as holes)" },
    { "io_pages", VM_PARAM_U32, offsetof(struct ckpt_cfg, io_pages), .min = 1, .max = 65536,
      .def = "256", .help = "pages per write request (256 = 1 MiB): packed non-zero pages "
                            "(stream) or a chunk of contiguous pages (mapped-ram)" },
    { "io_depth", VM_PARAM_U32, offsetof(struct ckpt_cfg, io_depth), .min = 1, .max = 1024,
      .def = "4", .help = "write requests in flight (mapped-ram: at least one per channel)" },
    { "channels", VM_PARAM_U32, offsetof(struct ckpt_cfg, channels), .min = 1, .max = 64,
      .def = "1", .help = "saver threads, at most the host's cores (QEMU multifd-channels: "
                          "mapped-ram only), each scanning for zeros and writing on its own" },
    CKPT_PARAM_ZERO_PAGES,
    { NULL, 0, 0, .help = NULL },
};

const struct ckpt_policy ckpt_stopcopy_policy = {
    .name = "stopcopy",
    .desc = "stop-and-copy (QEMU save of a paused VM): VM stunned while all pages are "
            "written in GPA order",
    .flags = CKPT_F_STUN_ALL,
    .params = stopcopy_params,
    .start = stopcopy_start,
    .fault = stopcopy_fault,
    .step = stopcopy_step,
    .stats = stopcopy_stats,
    .destroy = stopcopy_destroy,
    .check = stopcopy_check,
};
