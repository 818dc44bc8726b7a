/*
 * ckpt_buffered.c - buffered lazy checkpointing, the mechanism of
 * US9053064B2 claims 1-6.
 *
 * Brief stun, then every page is traced (write-only, claim 3, or reads
 * and writes, claim 2) and the VM resumes.  Memory is cut into blocks of
 * B pages: B contiguous guest-physical pages, or (claim 5) B pages
 * grouped by the accessed bits harvested at the stun - the pages with the
 * A bit set, in GPA order, fill the first blocks, the rest follow.
 *
 * An access to a page whose block is not yet saved exits to fault(),
 * which copies the whole block (claim 1: "before that access proceeds")
 * into the filling staging buffer, optionally compressing it, untraces the
 * block's pages and only then lets the access proceed.  A buffer holds N
 * >= 2 blocks (so it is always >= 2 blocks, as the claim needs); when the
 * N-th block lands in it the buffer is written as ONE storage block of
 * the file (an extent of N*B blocks, or the compressed bytes as a packed
 * extent), appended at a cursor.  nr_buffers buffers let the guest and
 * the saver fill one while others are being written; when every buffer
 * is full and in flight, a fault answers VM_EAGAIN (the vCPU waits for a
 * write completion).  The background saver pushes the remaining blocks,
 * in block order, through the same path, flushes the last partial
 * buffer, then writes the persistent maps (claim 4: block -> storage
 * block, storage block -> blocks, and the page order for claim 5) and the
 * header last.
 *
 * Zero pages (zero_pages): before a block is staged its pages are tested
 * for zero content, in order, the test stopping at the first non-zero
 * page (as QEMU's buffer_is_zero stops at the first non-zero word).  A
 * block of zero pages only is not staged: its pages go into the zero map,
 * no storage block holds it, and a fault on it needs no staging space.  A
 * block with any non-zero page is staged whole, its zero pages with it:
 * the maps keep whole blocks per storage block (claim 4), the content
 * model puts zero pages in whole 2 MiB regions, so a block is almost
 * always all zero or not (only guest writes into a zero region mix them),
 * and with compression a zero page costs a few bytes anyway.  The test
 * costs a full scan per zero page it passes (zero_pages_fault/_bg).  A
 * saver waiting for staging space tests the blocks ahead meanwhile and
 * records the zero ones, so its scans overlap its writes.
 *
 * "buffered-unsafe-test" is the same code with one flag: on a write fault
 * it untraces the block and lets the write through WITHOUT copying it
 * first, leaving it to the saver.  It is deliberately wrong, so that the
 * simulator's image check can be shown to catch a broken policy.
 *
 * Not modelled: the CPU cost of copying and compressing (counted in
 * struct ckpt_stats, charged by the world from measured rates) and the
 * compressed bytes themselves (sizes come from port_mem_compress_size).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "checkpoint/ckpt.h"
#include "checkpoint/ckpt_file.h"
#include "checkpoint/ckpt_writer.h"

struct buffered {
    struct ckpt_cfg cfg;
    struct ckpt_env env;
    struct ckpt_stats st;
    struct ckpt_writer w;
    struct ckpt_image *img;       /* SBLOCK: maps filled as storage blocks are submitted */
    bool unsafe;                  /* buffered-unsafe-test */
    uint64_t nr_pages;
    uint64_t nr_blocks;
    uint32_t B, N;
    uint64_t buf_bytes;           /* staging memory of one buffer, N*B*4096 */
    uint64_t *copied;             /* per block: in a buffer or on the device */
    uint64_t next_block;          /* saver: every block below is copied */
    uint64_t ahead;               /* look_ahead(): every block below is tested */
    uint32_t members_used;        /* entries of img->members given out */
    /* the filling buffer (at most one at a time) */
    struct ckpt_wreq *fill;
    uint32_t saver_inflight;          /* storage blocks the saver submitted, in flight */
    uint32_t *fill_members;       /* N block ids */
    uint32_t fill_nr;             /* blocks in it */
    uint32_t fill_pages;          /* pages in it */
    uint64_t fill_zbytes;         /* compressed bytes in it */
    uint64_t *pages;              /* scratch: B page numbers */
    uint64_t *scan_fps;           /* zero_pages: B fingerprints of the block tested */
};

static struct buffered *bf(struct ckpt_save *s) { return (struct buffered *)s; }

/* A storage block write completed (the writer recycles the buffer). */
static void buffer_done(void *owner, struct ckpt_wreq *r, int rc)
{
    struct buffered *b = owner;
    if (r->tag)
        b->saver_inflight--;
}

static void buffered_destroy(struct ckpt_save *s)
{
    struct buffered *b = bf(s);
    if (!b)
        return;
    ckpt_writer_fini(&b->w);
    ckpt_image_free(b->img);
    vm_bitmap_free(b->copied);
    free(b->fill_members);
    free(b->pages);
    free(b->scan_fps);
    free(b);
}

/* Claim 5: accessed pages first (GPA order), then the rest (GPA order). */
static int group_by_abits(struct buffered *b)
{
    uint64_t *acc = vm_bitmap_new(b->nr_pages);
    if (!acc)
        return VM_ENOMEM;
    port_mem_collect_accessed(b->env.mem, acc);
    uint32_t *order = b->img->page_order;
    uint64_t i = 0;
    for (uint64_t p = vm_bitmap_next_set(acc, b->nr_pages, 0); p < b->nr_pages;
         p = vm_bitmap_next_set(acc, b->nr_pages, p + 1))
        order[i++] = (uint32_t)p;
    for (uint64_t p = vm_bitmap_next_clear(acc, b->nr_pages, 0); p < b->nr_pages;
         p = vm_bitmap_next_clear(acc, b->nr_pages, p + 1))
        order[i++] = (uint32_t)p;
    for (i = 0; i < b->nr_pages; i++)
        b->img->page_block[order[i]] = (uint32_t)(i / b->B);
    vm_bitmap_free(acc);
    return 0;
}

static int start_common(const struct ckpt_cfg *cfg, const struct ckpt_env *env, bool unsafe,
                        struct ckpt_save **out, struct vm_diag *d)
{
    const char *name = unsafe ? "buffered-unsafe-test" : "buffered";
    *out = NULL;
    if (cfg->block_pages < 1 || cfg->block_pages > 4096)
        return vm_diag_set(d, VM_EINVAL, "%s: 'block_pages' %u not in 1..4096", name,
                           cfg->block_pages);
    if (cfg->sblock_blocks < 2 || cfg->sblock_blocks > 64)
        return vm_diag_set(d, VM_EINVAL, "%s: 'sblock_blocks' %u not in 2..64", name,
                           cfg->sblock_blocks);
    if (cfg->nr_buffers < 1)
        return vm_diag_set(d, VM_EINVAL, "%s: 'nr_buffers' must be >= 1", name);
    if (cfg->trace != CKPT_TRACE_WRITE && cfg->trace != CKPT_TRACE_RW)
        return vm_diag_set(d, VM_EINVAL, "%s: bad 'trace' %d", name, cfg->trace);
    if (cfg->grouping != CKPT_GROUP_GPA && cfg->grouping != CKPT_GROUP_ABITS)
        return vm_diag_set(d, VM_EINVAL, "%s: bad 'grouping' %d", name, cfg->grouping);
    uint64_t nr_pages = port_mem_nr_pages(env->mem);
    if (nr_pages == 0)
        return vm_diag_set(d, VM_EINVAL, "%s: guest memory has no pages", name);
    if (!cfg->compress && port_blk_nr_blocks(env->file) < CKPT_DATA_LBA + nr_pages)
        return vm_diag_set(d, VM_ENOSPC, "%s: checkpoint file of %llu blocks cannot hold %llu pages",
                           name, (unsigned long long)port_blk_nr_blocks(env->file),
                           (unsigned long long)nr_pages);
    struct buffered *b = calloc(1, sizeof(*b));
    if (!b)
        return vm_diag_set(d, VM_ENOMEM, "%s: out of memory", name);
    b->cfg = *cfg;
    b->env = *env;
    b->unsafe = unsafe;
    b->nr_pages = nr_pages;
    b->B = cfg->block_pages;
    b->N = cfg->sblock_blocks;
    b->buf_bytes = (uint64_t)b->B * b->N * VM_PAGE_SIZE;
    ckpt_writer_init(&b->w, env, &b->st, buffer_done, b);
    struct ckpt_header h = {
        .layout = CKPT_LAYOUT_SBLOCK, .nr_pages = nr_pages, .block_pages = b->B,
        .sblock_blocks = b->N, .compressed = cfg->compress ? 1 : 0,
        .grouping = (uint32_t)cfg->grouping, .data_lba = CKPT_DATA_LBA,
    };
    int rc = ckpt_image_new(&h, &b->img);
    if (rc) {
        buffered_destroy((struct ckpt_save *)b);
        return vm_diag_set(d, rc, "%s: cannot map %llu pages: %s", name,
                           (unsigned long long)nr_pages, vm_strerror(rc));
    }
    b->nr_blocks = b->img->nr_blocks;
    b->copied = vm_bitmap_new(b->nr_blocks);
    b->fill_members = malloc(b->N * sizeof(uint32_t));
    b->pages = malloc(b->B * sizeof(uint64_t));
    if (cfg->zero_pages)
        b->scan_fps = malloc(b->B * sizeof(uint64_t));
    if (!b->copied || !b->fill_members || !b->pages ||
        (cfg->zero_pages && (!b->scan_fps || ckpt_image_zero_map(b->img))) ||
        ckpt_writer_add_pool(&b->w, 0, cfg->nr_buffers, b->B * b->N) ||
        (cfg->grouping == CKPT_GROUP_ABITS && group_by_abits(b))) {
        buffered_destroy((struct ckpt_save *)b);
        return vm_diag_set(d, VM_ENOMEM, "%s: out of memory", name);
    }
    port_mem_set_trace(env->mem, 0, nr_pages,
                       cfg->trace == CKPT_TRACE_RW ? PORT_MEM_TRACE_RW : PORT_MEM_TRACE_WRITE);
    *out = (struct ckpt_save *)b;
    return 0;
}

static int buffered_start(const struct ckpt_cfg *cfg, const struct ckpt_env *env,
                          struct ckpt_save **out, struct vm_diag *d)
{
    return start_common(cfg, env, false, out, d);
}

static int unsafe_start(const struct ckpt_cfg *cfg, const struct ckpt_env *env,
                        struct ckpt_save **out, struct vm_diag *d)
{
    return start_common(cfg, env, true, out, d);
}

/* Untrace (or, with read, copy into dst) block blk's pages, run by run. */
static uint32_t block_runs(struct buffered *b, uint64_t blk, uint64_t *dst)
{
    uint32_t n = ckpt_image_block_pages(b->img, blk, b->pages);
    for (uint32_t i = 0; i < n;) {
        uint32_t j = i + 1;
        while (j < n && b->pages[j] == b->pages[j - 1] + 1)
            j++;
        if (dst)
            port_mem_read(b->env.mem, b->pages[i], j - i, dst + i);
        port_mem_set_trace(b->env.mem, b->pages[i], j - i, PORT_MEM_TRACE_NONE);
        i = j;
    }
    return n;
}

/*
 * Test block blk for zero pages (zero_pages): read its pages into
 * b->scan_fps (b->pages gets their numbers), untraced or not; *zeros =
 * the zero pages before the first non-zero one, where a scan stops.
 * Returns the block's pages; *zeros == that count means all are zero.
 */
static uint32_t scan_block(struct buffered *b, uint64_t blk, uint32_t *zeros)
{
    uint32_t n = ckpt_image_block_pages(b->img, blk, b->pages);
    for (uint32_t i = 0; i < n;) {
        uint32_t j = i + 1;
        while (j < n && b->pages[j] == b->pages[j - 1] + 1)
            j++;
        port_mem_read(b->env.mem, b->pages[i], j - i, b->scan_fps + i);
        i = j;
    }
    uint32_t z = 0;
    while (z < n && b->scan_fps[z] == VM_FP_ZERO)
        z++;
    *zeros = z;
    return n;
}

/* A block of zero pages (scan_block() said so): the zero map holds it,
 * nothing is staged, and its content is captured, so untrace it. */
static void zero_block(struct buffered *b, uint64_t blk, uint32_t n, bool in_fault)
{
    for (uint32_t i = 0; i < n; i++)
        vm_bitmap_set(b->img->zero, b->pages[i]);
    block_runs(b, blk, NULL);
    vm_bitmap_set(b->copied, blk);
    if (in_fault)
        b->st.zero_pages_fault += n;
    else
        b->st.zero_pages_bg += n;
}

/*
 * Take a buffer for filling (the one being filled, or a free one); false
 * when every buffer is in flight.  The background saver never uses the
 * last free buffer (when there are two or more): a guest fault must find
 * staging space without waiting behind the saver's own writes, or the
 * save would stall the guest it is meant to spare.
 */
static bool take_buffer(struct buffered *b, bool for_saver)
{
    /* each saver keeps one write of its own in flight, and goes on only if,
     * once it has filled and submitted the buffer it fills, a free buffer
     * is still left for the guest: the disk's bandwidth is shared between
     * writes in flight, so the guest's buffers get the larger share */
    uint32_t savers = b->cfg.channels ? b->cfg.channels : 1;
    if (for_saver && b->cfg.nr_buffers >= 2 &&
        (b->saver_inflight >= savers || ckpt_writer_nr_free(&b->w, 0) < (b->fill ? 1u : 2u)))
        return false;
    if (b->fill)
        return true;
    b->fill = ckpt_writer_get(&b->w, 0);
    if (!b->fill)
        return false;
    b->fill_nr = 0;
    b->fill_pages = 0;
    b->fill_zbytes = 0;
    ckpt_writer_stage(&b->w, (int64_t)b->buf_bytes);
    return true;
}

/* Write the filling buffer as one storage block; record both maps. */
static int submit_buffer(struct buffered *b, bool by_saver)
{
    struct ckpt_wreq *r = b->fill;
    r->tag = by_saver;
    struct ckpt_image *img = b->img;
    bool z = b->cfg.compress;
    uint64_t nb = z ? (b->fill_zbytes + VM_PAGE_SIZE - 1) / VM_PAGE_SIZE : b->fill_pages;
    uint64_t lba;
    b->fill = NULL;
    if (ckpt_writer_alloc(&b->w, nb, &lba)) {
        ckpt_writer_stage(&b->w, -(int64_t)b->buf_bytes);
        ckpt_writer_put(&b->w, r);
        return b->w.err;
    }
    uint32_t si = img->nr_sblocks++;
    img->sblocks[si] = (struct ckpt_sblock){
        .lba = lba, .nr_blocks = (uint32_t)nb, .nr_members = b->fill_nr,
        .first_member = b->members_used,
        .bytes = (uint32_t)(z ? b->fill_zbytes : (uint64_t)b->fill_pages * VM_PAGE_SIZE),
    };
    for (uint32_t j = 0; j < b->fill_nr; j++) {
        uint32_t m = b->fill_members[j];
        img->members[b->members_used + j] = m;
        img->block_sblock[m] = si;
        img->block_slot[m] = j;
    }
    b->members_used += b->fill_nr;
    int rc = ckpt_writer_submit(&b->w, r, lba, (uint32_t)nb, 1, z ? 1 : 0, b->fill_pages,
                                (uint64_t)b->fill_pages * VM_PAGE_SIZE, b->buf_bytes);
    if (rc == 0 && by_saver)
        b->saver_inflight++;
    return rc;
}

/*
 * Copy block blk into the filling buffer (there must be one), compress it
 * if asked, untrace it, and submit the buffer when it holds N blocks.
 * scanned: scan_block() has just read it, and passed `zeros` zero pages
 * (charged as scans; they are staged with the block).
 * Returns 1 if a storage block was submitted, 0 if not, <0 on error.
 */
static int copy_block(struct buffered *b, uint64_t blk, bool in_fault, bool scanned,
                      uint32_t zeros)
{
    uint64_t *dst = b->fill->fps + b->fill_pages;
    uint32_t n;
    if (scanned) {
        n = block_runs(b, blk, NULL);
        memcpy(dst, b->scan_fps, (size_t)n * sizeof(uint64_t));
        if (in_fault)
            b->st.zero_pages_fault += zeros;
        else
            b->st.zero_pages_bg += zeros;
    } else {
        n = block_runs(b, blk, dst);
    }
    vm_bitmap_set(b->copied, blk);
    if (in_fault)
        b->st.pages_copied_fault += n;
    else
        b->st.pages_copied_bg += n;
    if (b->cfg.compress) {
        b->fill_zbytes += port_mem_compress_size(b->env.mem, b->pages, n);
        if (in_fault)
            b->st.compress_in_fault += (uint64_t)n * VM_PAGE_SIZE;
        else
            b->st.compress_in_bg += (uint64_t)n * VM_PAGE_SIZE;
    }
    b->fill_members[b->fill_nr++] = (uint32_t)blk;
    b->fill_pages += n;
    if (b->fill_nr < b->N)
        return 0;
    int rc = submit_buffer(b, !in_fault);
    return rc < 0 ? rc : 1;
}

static int buffered_fault(struct ckpt_save *s, uint64_t page, bool is_write)
{
    struct buffered *b = bf(s);
    if (page >= b->nr_pages)
        return VM_EINVAL;
    if (ckpt_writer_failed(&b->w)) {
        b->st.faults++;
        return 0;                     /* memory is untraced: the guest goes on */
    }
    uint64_t blk = ckpt_image_page_block(b->img, page);
    if (vm_bitmap_test(b->copied, blk)) {
        /* its content is already captured: a stale trace, drop it */
        block_runs(b, blk, NULL);
        b->st.faults++;
        return 0;
    }
    if (b->unsafe && is_write) {
        /* the deliberate bug: the write goes through before the copy */
        block_runs(b, blk, NULL);
        b->st.faults++;
        return 0;
    }
    uint32_t zeros = 0;
    if (b->cfg.zero_pages) {
        uint32_t n = scan_block(b, blk, &zeros);
        if (zeros == n) {              /* zero pages only: no staging space needed */
            zero_block(b, blk, n, true);
            b->st.faults++;
            return 0;
        }
    }
    if (!take_buffer(b, false)) {
        b->st.fault_waits++;
        return VM_EAGAIN;
    }
    b->st.faults++;
    if (copy_block(b, blk, true, b->cfg.zero_pages, zeros) < 0)
        ckpt_writer_failed(&b->w);
    return 0;
}

/*
 * No staging space for block blk yet: while it waits for its turn, the
 * saver tests the blocks after it and records those of zero pages only
 * (they need none), leaving the others for their turn.  A cursor that
 * only moves forward (b->ahead) keeps the whole look-ahead linear in
 * memory; a step records at most a storage block's worth (zero_blocks so
 * far) and tests at most 4 N blocks.  Without it an idle guest's zero
 * scans would wait behind the saver's one write in flight instead of
 * overlapping it.  Returns whether the step tested anything.
 */
static bool look_ahead(struct buffered *b, uint64_t blk, uint32_t zero_blocks)
{
    uint32_t tested = 0;
    uint64_t q = b->ahead > blk + 1 ? b->ahead : blk + 1;
    while (b->cfg.zero_pages && zero_blocks < b->N && tested < 4 * b->N) {
        q = vm_bitmap_next_clear(b->copied, b->nr_blocks, q);
        if (q >= b->nr_blocks)
            break;
        uint32_t zeros, n = scan_block(b, q, &zeros);
        tested++;
        if (zeros == n) {
            zero_block(b, q, n, false);
            zero_blocks++;
        }
        q++;
    }
    b->ahead = q;
    return zero_blocks > 0 || tested > 0;
}

static int buffered_step(struct ckpt_save *s)
{
    struct buffered *b = bf(s);
    if (b->w.err)
        return ckpt_writer_step_failed(&b->w);
    uint32_t zero_blocks = 0;
    for (;;) {
        uint64_t blk = vm_bitmap_next_clear(b->copied, b->nr_blocks, b->next_block);
        b->next_block = blk;
        if (blk >= b->nr_blocks)
            break;
        uint32_t zeros = 0;
        if (b->cfg.zero_pages) {
            uint32_t n = scan_block(b, blk, &zeros);
            if (zeros == n) {
                /* no staging space needed; a step tests at most a storage
                 * block's worth of them, so each step's work stays bounded */
                zero_block(b, blk, n, false);
                if (++zero_blocks == b->N)
                    return CKPT_STEP_MORE;
                continue;
            }
        }
        if (!take_buffer(b, true))
            return look_ahead(b, blk, zero_blocks) ? CKPT_STEP_MORE : CKPT_STEP_WAIT;
        int rc = copy_block(b, blk, false, b->cfg.zero_pages, zeros);
        if (rc < 0)
            return ckpt_writer_step_failed(&b->w);
        if (rc > 0)
            return CKPT_STEP_MORE;
    }
    if (b->fill) {
        if (b->fill_nr == 0) {
            /* taken, never filled: give it back */
            ckpt_writer_stage(&b->w, -(int64_t)b->buf_bytes);
            ckpt_writer_put(&b->w, b->fill);
            b->fill = NULL;
        } else {
            if (submit_buffer(b, true) < 0)
                return ckpt_writer_step_failed(&b->w);
            return CKPT_STEP_MORE;
        }
    }
    return ckpt_writer_finish(&b->w, b->img);
}

static const struct ckpt_stats *buffered_stats(const struct ckpt_save *s)
{
    return &((const struct buffered *)s)->st;
}

static const struct vm_param buffered_params[] = {
    { "block_pages", VM_PARAM_U32, offsetof(struct ckpt_cfg, block_pages), .min = 1,
      .max = 4096, .def = "16", .help = "pages per block (B), copied together on a fault" },
    { "sblock_blocks", VM_PARAM_U32, offsetof(struct ckpt_cfg, sblock_blocks), .min = 2,
      .max = 64, .def = "8", .help = "blocks per storage block (N), written as one I/O" },
    { "nr_buffers", VM_PARAM_U32, offsetof(struct ckpt_cfg, nr_buffers), .min = 1, .max = 1024,
      .def = "2", .help = "staging buffers of N blocks each" },
    { "compress", VM_PARAM_BOOL, offsetof(struct ckpt_cfg, compress), .def = "false",
      .help = "zstd-compress blocks before staging" },
    { "trace", VM_PARAM_ENUM, offsetof(struct ckpt_cfg, trace), .choices = "write|rw",
      .def = "write", .help = "trace writes only (claim 3) or reads and writes (claim 2)" },
    { "grouping", VM_PARAM_ENUM, offsetof(struct ckpt_cfg, grouping), .choices = "gpa|abits",
      .def = "gpa", .help = "blocks of contiguous pages, or grouped by accessed bits (claim 5)" },
    CKPT_PARAM_CHANNELS,
    CKPT_PARAM_ZERO_PAGES,
    { NULL, 0, 0, .help = NULL },
};

const struct ckpt_policy ckpt_buffered_policy = {
    .name = "buffered",
    .desc = "buffered lazy checkpoint (US9053064): block copy on access, N blocks per write",
    .flags = 0,
    .params = buffered_params,
    .start = buffered_start,
    .fault = buffered_fault,
    .step = buffered_step,
    .stats = buffered_stats,
    .destroy = buffered_destroy,
};

const struct ckpt_policy ckpt_buffered_unsafe_test_policy = {
    .name = "buffered-unsafe-test",
    .desc = "buffered, broken on purpose: a write fault lets the write through before the copy",
    .flags = CKPT_F_HIDDEN,
    .params = buffered_params,
    .start = unsafe_start,
    .fault = buffered_fault,
    .step = buffered_step,
    .stats = buffered_stats,
    .destroy = buffered_destroy,
};
