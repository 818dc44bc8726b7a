/*
 * ckpt_bgsnap.c - lazy copy-on-write save as QEMU's background snapshot
 * does it (`migrate` with the background-snapshot capability, QEMU >= 6.0;
 * migration/ram.c: ram_write_tracking_start, poll_fault_page,
 * ram_save_release_protection).
 *
 * QEMU stops the VM, saves the device state, write-protects all of guest
 * RAM with userfaultfd and resumes the VM.  The migration thread then
 * walks RAM in order and puts every page into the migration stream (a
 * page record: its offset, then its 4 KiB), and removes the write
 * protection of what it has saved.  A guest write to a page not yet saved
 * faults; the fault is queued for the migration thread, which saves that
 * page first (get_queued_page) and removes its protection, and the write
 * proceeds.  The stream goes to a file through the page cache, which the
 * kernel writes back in large sequential I/Os; a write() into the stream
 * blocks when the page cache holds as much unwritten data as it allows
 * (balance_dirty_pages), and a fault waiting for the migration thread then
 * waits too.
 *
 * Here: brief stun, every page write-traced, the VM resumes.  A fault
 * copies its one page into the stream (page_copy, on the guest's fault
 * path) and the write proceeds; the background saver copies the runs of
 * unsaved pages in GPA order.  The stream is cut into writes of io_pages
 * pages appended at the file's cursor (STREAM layout: each page once, the
 * map gives its place), one sequential device I/O each, at most io_depth
 * of them in flight (the block layer's writeback throttling keeps the
 * queue short; the rest waits in the page cache).  At most `buffer` bytes
 * of stream may wait for the disk (the page cache's dirty limit for the
 * file); when it is full a fault answers VM_EAGAIN and waits for a write
 * to complete, as QEMU's would.  Completion counts until the stream,
 * the map and the header are on the disk (as after an fsync), like every
 * other save here.
 * What each saved page costs, as QEMU pays it (the world charges the
 * counts, sim_ckpt.h): QEMU's migration thread queues the page into its
 * stream (ram_save_host_page; qemu_put_buffer_async: the 4 KiB stays in
 * guest memory), then ram_save_release_protection() flushes the stream
 * (qemu_fflush: a writev() of the page's record into the page cache) and
 * un-protects the page (uffd_change_protection: UFFDIO_WRITEPROTECT, mode
 * 0, one 4 KiB host page per call).  So every page saved, zero or not,
 * counts one stream write() (stream_writes_bg / _fault) and, on the
 * saver's side, one un-protect (unprotects_bg); a fault's un-protect is
 * the one that wakes the faulting vCPU, part of the fault's round trip
 * (trace_fault), so it is not counted again.  The copy into the page
 * cache is counted as page_copy (the cold read of the guest page); the
 * write's figure adds the syscall and the page-cache page.
 * One thread serves the faults (CKPT_F_SERIAL_FAULTS): QEMU reads the
 * write faults from its userfaultfd in the migration thread only, one at a
 * time (migration/ram.c: ram_find_and_save_block -> get_queued_page ->
 * poll_fault_page, uffd_read_events of one event; the page is then saved
 * and un-protected by ram_save_host_page on that thread), so when several
 * vCPUs fault at once they wait for each other's page to be saved.  The
 * world charges a fault's service (its copy, write and un-protect) on one
 * queue for all vCPUs (sim_ckpt.c).  Not modelled: that the same thread
 * also saves the background pages (a fault waits for at most the page
 * being saved, a few us; the saver here pays for a whole run at once).
 * Zero pages (zero_pages): QEMU sends a zero page as its 8-byte header
 * only (save_zero_page); here a zero page, found by the saver or on a
 * write fault, goes into the image's zero map and not into the stream, so
 * a fault on it needs no room in the buffer and never waits.
 * Not modelled: the 8-byte page headers of QEMU's stream (0.2% of the
 * bytes; a zero page's header is in the maps here), multifd and
 * compression (QEMU refuses both with background-snapshot), the migration
 * thread's own wake-up latency.
 */
#include <stddef.h>
#include <stdlib.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "checkpoint/ckpt.h"
#include "checkpoint/ckpt_file.h"
#include "checkpoint/ckpt_writer.h"

struct bgsnap {
    struct ckpt_cfg cfg;
    struct ckpt_env env;
    struct ckpt_stats st;
    struct ckpt_writer w;
    struct ckpt_image *img;       /* STREAM: page_lba is the map */
    uint64_t nr_pages;
    uint64_t *pending;            /* pages not yet in the stream */
    uint64_t scan;                /* saver: every page below is in the stream */
    uint64_t *chunk_pages;        /* io_pages page numbers per request */
    struct ckpt_wreq *fill;       /* the stream chunk being filled, or NULL */
    uint32_t fill_n;              /* pages in it */
    /* full chunks waiting for a write slot (io_depth), oldest first */
    struct ckpt_wreq **ready;
    uint32_t *ready_n;            /* pages of each */
    uint32_t ready_head, ready_len, nr_chunks;
};

static struct bgsnap *bg(struct ckpt_save *s) { return (struct bgsnap *)s; }

static void bgsnap_destroy(struct ckpt_save *s)
{
    struct bgsnap *b = bg(s);
    if (!b)
        return;
    ckpt_writer_fini(&b->w);
    ckpt_image_free(b->img);
    vm_bitmap_free(b->pending);
    free(b->chunk_pages);
    free(b->ready);
    free(b->ready_n);
    free(b);
}

static int bgsnap_start(const struct ckpt_cfg *cfg, const struct ckpt_env *env,
                        struct ckpt_save **out, struct vm_diag *d)
{
    *out = NULL;
    uint64_t chunk_bytes = (uint64_t)cfg->io_pages * VM_PAGE_SIZE;
    if (cfg->io_pages == 0 || cfg->io_depth == 0 || cfg->buffer_bytes < chunk_bytes)
        return vm_diag_set(d, VM_EINVAL, "bgsnap: 'io_pages' and 'io_depth' must be >= 1 and "
                           "'buffer' must hold at least one write of io_pages pages");
    uint64_t nr_chunks = cfg->buffer_bytes / chunk_bytes;
    if (nr_chunks > 65536)
        return vm_diag_set(d, VM_EINVAL, "bgsnap: 'buffer' holds %llu writes of io_pages pages "
                           "(at most 65536)", (unsigned long long)nr_chunks);
    uint64_t nr_pages = port_mem_nr_pages(env->mem);
    if (nr_pages == 0)
        return vm_diag_set(d, VM_EINVAL, "bgsnap: guest memory has no pages");
    struct bgsnap *b = calloc(1, sizeof(*b));
    if (!b)
        return vm_diag_set(d, VM_ENOMEM, "bgsnap: out of memory");
    b->cfg = *cfg;
    b->env = *env;
    b->nr_pages = nr_pages;
    ckpt_writer_init(&b->w, env, &b->st, NULL, b);
    struct ckpt_header h = { .layout = CKPT_LAYOUT_STREAM, .nr_pages = nr_pages,
                             .data_lba = CKPT_DATA_LBA };
    b->pending = vm_bitmap_new(nr_pages);
    b->chunk_pages = calloc(nr_chunks * cfg->io_pages, sizeof(uint64_t));
    b->nr_chunks = (uint32_t)nr_chunks;
    b->ready = calloc(nr_chunks, sizeof(*b->ready));
    b->ready_n = calloc(nr_chunks, sizeof(*b->ready_n));
    if (!b->pending || !b->chunk_pages || !b->ready || !b->ready_n ||
        ckpt_writer_add_pool(&b->w, 0, (uint32_t)nr_chunks, cfg->io_pages) ||
        ckpt_image_new(&h, &b->img) || (cfg->zero_pages && ckpt_image_zero_map(b->img))) {
        bgsnap_destroy((struct ckpt_save *)b);
        return vm_diag_set(d, VM_ENOMEM, "bgsnap: out of memory");
    }
    vm_bitmap_set_range(b->pending, 0, nr_pages);
    port_mem_set_trace(env->mem, 0, nr_pages, PORT_MEM_TRACE_WRITE);
    *out = (struct ckpt_save *)b;
    return 0;
}

/* Append chunk r of n pages to the stream: one sequential write. */
static int submit_chunk(struct bgsnap *b, struct ckpt_wreq *r, uint32_t n)
{
    const uint64_t *pages = b->chunk_pages + (size_t)r->id * b->cfg.io_pages;
    uint64_t lba;
    if (ckpt_writer_alloc(&b->w, n, &lba) || lba + n > UINT32_MAX) {
        ckpt_writer_put(&b->w, r);
        ckpt_writer_stage(&b->w, -(int64_t)b->cfg.io_pages * VM_PAGE_SIZE);
        if (!b->w.err)
            b->w.err = VM_ENOSPC;     /* the map holds 32-bit block numbers */
        return b->w.err;
    }
    for (uint32_t i = 0; i < n; i++)
        b->img->page_lba[pages[i]] = (uint32_t)(lba + i);
    return ckpt_writer_submit(&b->w, r, lba, n, 1, 0, 0, (uint64_t)n * VM_PAGE_SIZE,
                              (uint64_t)b->cfg.io_pages * VM_PAGE_SIZE);
}

/* Write ready chunks while fewer than io_depth writes are in flight. */
static int flush_ready(struct bgsnap *b)
{
    while (b->ready_len && b->w.in_flight < b->cfg.io_depth) {
        struct ckpt_wreq *r = b->ready[b->ready_head];
        uint32_t n = b->ready_n[b->ready_head];
        b->ready_head = (b->ready_head + 1) % b->nr_chunks;
        b->ready_len--;
        int rc = submit_chunk(b, r, n);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The filling chunk is full (or the last one): queue it for writing. */
static int close_fill(struct bgsnap *b)
{
    uint32_t tail = (b->ready_head + b->ready_len) % b->nr_chunks;
    b->ready[tail] = b->fill;
    b->ready_n[tail] = b->fill_n;
    b->ready_len++;
    b->fill = NULL;
    b->fill_n = 0;
    return flush_ready(b);
}

/* A chunk to fill: the current one, or a free one (NULL: the buffer is
 * full).  The saver never takes the last free chunk: QEMU's migration
 * thread serves queued write faults before its next background page
 * (get_queued_page), so a fault finds room unless the guest alone has
 * filled the buffer. */
static struct ckpt_wreq *fill_chunk(struct bgsnap *b, bool for_saver)
{
    if (!b->fill && for_saver && b->w.pools[0].nr_reqs >= 2 && ckpt_writer_nr_free(&b->w, 0) < 2)
        return NULL;
    if (!b->fill) {
        b->fill = ckpt_writer_get(&b->w, 0);
        if (b->fill)
            ckpt_writer_stage(&b->w, (int64_t)b->cfg.io_pages * VM_PAGE_SIZE);
    }
    return b->fill;
}

/* Copy pages [p, p + k) into the filling chunk (room for them checked),
 * the saver's zero pages into the zero map instead.  Returns the pages
 * copied. */
static uint32_t append(struct bgsnap *b, uint64_t p, uint32_t k)
{
    struct ckpt_wreq *r = b->fill;
    uint64_t *pages = b->chunk_pages + (size_t)r->id * b->cfg.io_pages;
    uint64_t *fps = r->fps + b->fill_n;
    port_mem_read(b->env.mem, p, k, fps);
    uint32_t kept = 0;
    for (uint32_t i = 0; i < k; i++) {
        if (b->cfg.zero_pages && fps[i] == VM_FP_ZERO) {
            vm_bitmap_set(b->img->zero, p + i);
            b->st.zero_pages_bg++;
            continue;
        }
        fps[kept] = fps[i];
        pages[b->fill_n + kept++] = p + i;
    }
    b->fill_n += kept;
    vm_bitmap_clear_range(b->pending, p, k);
    port_mem_set_trace(b->env.mem, p, k, PORT_MEM_TRACE_NONE);
    return kept;
}

/* A write fault on a zero page: the zero map takes it, no stream room. */
static bool fault_zero_page(struct bgsnap *b, uint64_t page)
{
    uint64_t fp;
    if (!b->cfg.zero_pages)
        return false;
    port_mem_read(b->env.mem, page, 1, &fp);
    if (fp != VM_FP_ZERO)
        return false;
    vm_bitmap_set(b->img->zero, page);
    b->st.zero_pages_fault++;
    b->st.stream_writes_fault++;         /* its record: a header only, flushed all the same */
    vm_bitmap_clear(b->pending, page);
    port_mem_set_trace(b->env.mem, page, 1, PORT_MEM_TRACE_NONE);
    return true;
}

static int bgsnap_fault(struct ckpt_save *s, uint64_t page, bool is_write)
{
    struct bgsnap *b = bg(s);
    if (page >= b->nr_pages)
        return VM_EINVAL;
    if (ckpt_writer_failed(&b->w) || !vm_bitmap_test(b->pending, page)) {
        /* untraced after an error, or a stale trace: the write goes on */
        port_mem_set_trace(b->env.mem, page, 1, PORT_MEM_TRACE_NONE);
        b->st.faults++;
        return 0;
    }
    if (fault_zero_page(b, page)) {
        b->st.faults++;
        return 0;
    }
    if (!fill_chunk(b, false)) {
        b->st.fault_waits++;
        return VM_EAGAIN;
    }
    b->st.faults++;
    append(b, page, 1);
    b->st.pages_copied_fault++;
    b->st.stream_writes_fault++;
    if ((b->fill_n == b->cfg.io_pages ? close_fill(b) : flush_ready(b)) < 0)
        ckpt_writer_failed(&b->w);
    return 0;
}

static int bgsnap_step(struct ckpt_save *s)
{
    struct bgsnap *b = bg(s);
    if (b->w.err || flush_ready(b) < 0)
        return ckpt_writer_step_failed(&b->w);
    uint64_t p = vm_bitmap_next_set(b->pending, b->nr_pages, b->scan);
    if (p >= b->nr_pages) {
        b->scan = b->nr_pages;
        if (b->fill_n) {                 /* the last partial chunk */
            if (close_fill(b) < 0)
                return ckpt_writer_step_failed(&b->w);
            return CKPT_STEP_MORE;
        }
        if (b->ready_len)
            return CKPT_STEP_WAIT;       /* queued behind io_depth writes */
        if (b->fill) {                   /* taken, never filled */
            ckpt_writer_put(&b->w, b->fill);
            ckpt_writer_stage(&b->w, -(int64_t)b->cfg.io_pages * VM_PAGE_SIZE);
            b->fill = NULL;
        }
        int rc = ckpt_writer_finish(&b->w, b->img);
        if (b->w.meta != CKPT_WMETA_NONE && b->img->page_lba) {
            ckpt_image_drop_page_lba(b->img);   /* encoded for the file: drop the live copy */
        }
        return rc;
    }
    if (!fill_chunk(b, true))
        return CKPT_STEP_WAIT;
    /* the next runs of unsaved pages in GPA order, up to a full chunk or
     * a chunk's worth of pages looked at (zero pages take no room) */
    uint32_t copied = 0, scanned = 0;
    while (p < b->nr_pages && b->fill_n < b->cfg.io_pages && scanned < b->cfg.io_pages) {
        uint64_t lim = p + (b->cfg.io_pages - b->fill_n);
        uint64_t end = vm_bitmap_next_clear(b->pending, lim < b->nr_pages ? lim : b->nr_pages, p);
        copied += append(b, p, (uint32_t)(end - p));
        scanned += (uint32_t)(end - p);
        b->scan = end;
        p = vm_bitmap_next_set(b->pending, b->nr_pages, end);
    }
    b->st.pages_copied_bg += copied;
    /* every page saved, zero or not: its record flushed, then un-protected */
    b->st.stream_writes_bg += scanned;
    b->st.unprotects_bg += scanned;
    if (b->fill_n == b->cfg.io_pages && close_fill(b) < 0)
        return ckpt_writer_step_failed(&b->w);
    return CKPT_STEP_MORE;
}

static const struct ckpt_stats *bgsnap_stats(const struct ckpt_save *s)
{
    return &((const struct bgsnap *)s)->st;
}

static const struct vm_param bgsnap_params[] = {
    { "io_pages", VM_PARAM_U32, offsetof(struct ckpt_cfg, io_pages), .min = 1, .max = 65536,
      .def = "256", .help = "pages per stream write (256 = 1 MiB, a writeback I/O)" },
    { "io_depth", VM_PARAM_U32, offsetof(struct ckpt_cfg, io_depth), .min = 1, .max = 1024,
      .def = "4", .help = "stream writes in flight (writeback throttling keeps it short)" },
    { "buffer", VM_PARAM_SIZE, offsetof(struct ckpt_cfg, buffer_bytes), .min = 4096,
      .max = 1ull << 40, .def = "256MiB",
      .help = "stream data that may wait for the disk (the page cache's dirty limit)" },
    CKPT_PARAM_ZERO_PAGES,
    { NULL, 0, 0, .help = NULL },
};

const struct ckpt_policy ckpt_bgsnap_policy = {
    .name = "bgsnap",
    .desc = "lazy copy-on-write save as QEMU's background snapshot: a faulting page is "
            "copied into the stream, the stream is written in large sequential I/Os",
    .flags = CKPT_F_SERIAL_FAULTS | CKPT_F_CHARGES_WRITES,
    .params = bgsnap_params,
    .start = bgsnap_start,
    .fault = bgsnap_fault,
    .step = bgsnap_step,
    .stats = bgsnap_stats,
    .destroy = bgsnap_destroy,
};
