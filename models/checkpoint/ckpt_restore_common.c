/*
 * ckpt_restore_common.c - loading, the read pool, page installation and
 * the background streamers shared by the eager, lazy and storage-block
 * restore policies (see ckpt_restore_common.h for the rules).
 *
 * Based on the restore side of US9053065 (a fault looks the page's block
 * up in the persistent maps and reads its storage block) and on the
 * eager / lazy baselines of working-set restore (Zhang et al., VEE'11).
 * Not modelled here: the CPU time of installing and decompressing pages
 * (counted in struct ckpt_stats; the world charges it), parallel install
 * threads (US9053065 claim 4).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "base/vm_units.h"
#include "checkpoint/ckpt_restore_common.h"

#define HEADER_BYTES VM_PAGE_SIZE

/* Keep the first error: the diag holds its message, r->err its code. */
static int fail(struct ckpt_restore *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct ckpt_restore *r, int code, const char *fmt, ...)
{
    if (r->err)
        return r->err;
    char msg[VM_DIAG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vm_diag_set(&r->diag, code, "'%s' restore: %s", r->policy, msg);
    r->err = code;
    return code;
}

/*
 * A read the device refused as not matching what is stored (no packed
 * extent where the maps put one: VM_ENOENT; a plain read over a packed
 * extent: VM_EINVAL) means the file is not what its header says.
 */
static int media_error(int rc)
{
    return rc == VM_ENOENT || rc == VM_EINVAL ? VM_ECORRUPT : rc;
}

static bool any_inflight(const struct ckpt_restore *r)
{
    return r->meta_busy || r->bg_inflight || r->fault_inflight;
}

uint32_t ckpt_restore_common_page_sblock(const struct ckpt_restore *r, uint64_t page)
{
    uint64_t block = ckpt_image_page_block(r->img, page);
    if (block >= r->img->nr_blocks)
        return CKPT_NO_SBLOCK;
    return r->img->block_sblock[block];
}

/* ---- loading ---------------------------------------------------------- */

static void meta_cb(struct port_blk_req *req, int rc)
{
    struct ckpt_restore *r = req->data;
    r->meta_busy = false;
    r->meta_ready = true;
    r->meta_rc = rc;
}

static int submit_meta(struct ckpt_restore *r, uint64_t lba, uint64_t nr_blocks, uint32_t len)
{
    memset(&r->meta_req, 0, sizeof r->meta_req);
    r->meta_req.op = PORT_BLK_READ;
    r->meta_req.lba = lba;
    r->meta_req.nr_blocks = (uint32_t)nr_blocks;
    r->meta_req.packed = 1;
    r->meta_req.bytes = r->meta_buf;
    r->meta_req.len = len;
    r->meta_req.cb = meta_cb;
    r->meta_req.data = r;
    r->meta_busy = true;
    r->meta_ready = false;
    int rc = port_blk_submit(r->env.file, &r->meta_req);
    if (rc < 0) {
        r->meta_busy = false;
        return rc;
    }
    r->stats.read_reqs++;
    r->stats.read_ios += port_blk_req_ios(&r->meta_req);
    r->stats.bytes_read += nr_blocks * VM_PAGE_SIZE;
    return 0;
}

int ckpt_restore_common_start(const char *policy, const struct ckpt_restore_cfg *cfg,
                              const struct ckpt_env *env, uint32_t bg_slots,
                              uint32_t fault_slots, uint32_t run_pages, bool sblock_only,
                              struct ckpt_restore **out, struct vm_diag *d)
{
    *out = NULL;
    if (!env || !env->mem || !env->file)
        return vm_diag_set(d, VM_EINVAL, "'%s' restore: needs guest memory and a file", policy);
    struct ckpt_restore *r = calloc(1, sizeof *r);
    if (!r)
        return vm_diag_set(d, VM_ENOMEM, "'%s' restore: out of memory", policy);
    r->policy = policy;
    r->cfg = *cfg;
    r->env = *env;
    r->sblock_only = sblock_only;
    r->nr_bg_slots = bg_slots;
    r->nr_reads = bg_slots + fault_slots;
    r->run_pages = run_pages ? run_pages : 1;
    r->phase = CKPT_RESTORE_LOAD_HEADER;
    r->meta_buf = calloc(1, HEADER_BYTES);
    if (!r->meta_buf) {
        free(r);
        return vm_diag_set(d, VM_ENOMEM, "'%s' restore: out of memory", policy);
    }
    int rc = submit_meta(r, CKPT_HEADER_LBA, 1, HEADER_BYTES);
    if (rc < 0) {
        free(r->meta_buf);
        free(r);
        return vm_diag_set(d, rc, "'%s' restore: header read not submitted: %s", policy,
                           vm_strerror(rc));
    }
    *out = r;
    return 0;
}

/* Per-layout checks of a loaded image and the storage-block tables. */
static int check_image(struct ckpt_restore *r)
{
    struct ckpt_image *img = r->img;
    const struct ckpt_header *h = &img->hdr;

    if (h->layout == CKPT_LAYOUT_FLAT) {
        uint64_t dev = port_blk_nr_blocks(r->env.file);
        if (h->data_lba + h->nr_pages > dev)
            return fail(r, VM_ECORRUPT, "flat image of %llu pages at lba %llu exceeds the "
                        "file's %llu blocks", (unsigned long long)h->nr_pages,
                        (unsigned long long)h->data_lba, (unsigned long long)dev);
        return 0;
    }
    if (h->layout == CKPT_LAYOUT_STREAM) {
        if (!img->page_lba)
            return fail(r, VM_ECORRUPT, "stream image has no page map");
        for (uint64_t p = 0; p < h->nr_pages; p++)
            if (img->page_lba[p] == 0 && !ckpt_image_is_zero(img, p))
                return fail(r, VM_ECORRUPT, "image holds no copy of page %llu",
                            (unsigned long long)p);
        return 0;
    }
    /* SBLOCK */
    if (!img->block_sblock || (img->nr_sblocks && (!img->sblocks || !img->members)))
        return fail(r, VM_ECORRUPT, "storage-block image has no maps");
    for (uint64_t b = 0; b < img->nr_blocks; b++) {
        if (img->block_sblock[b] < img->nr_sblocks)
            continue;
        /* in no storage block: a block of zero pages, or missing */
        uint32_t cnt = ckpt_image_block_pages(img, b, r->block_buf);
        for (uint32_t i = 0; i < cnt; i++)
            if (!ckpt_image_is_zero(img, r->block_buf[i]))
                return fail(r, VM_ECORRUPT, "image holds no copy of block %llu",
                            (unsigned long long)b);
    }
    r->sb_pages = calloc(img->nr_sblocks ? img->nr_sblocks : 1, sizeof *r->sb_pages);
    r->sb_left = calloc(img->nr_sblocks ? img->nr_sblocks : 1, sizeof *r->sb_left);
    r->sb_inflight = calloc(img->nr_sblocks ? img->nr_sblocks : 1, 1);
    if (!r->sb_pages || !r->sb_left || !r->sb_inflight)
        return fail(r, VM_ENOMEM, "out of memory");
    for (uint32_t s = 0; s < img->nr_sblocks; s++) {
        const struct ckpt_sblock *sb = &img->sblocks[s];
        uint64_t pages = 0;
        for (uint32_t j = 0; j < sb->nr_members; j++)
            pages += ckpt_image_block_pages(img, img->members[sb->first_member + j],
                                            r->block_buf);
        if (pages == 0 || pages > UINT32_MAX ||
            (!h->compressed && sb->nr_blocks != pages))
            return fail(r, VM_ECORRUPT, "storage block %u: %llu member pages in %u blocks",
                        s, (unsigned long long)pages, sb->nr_blocks);
        r->sb_pages[s] = (uint32_t)pages;
        r->sb_left[s] = (uint32_t)pages;
        if (pages > r->max_sb_pages)
            r->max_sb_pages = (uint32_t)pages;
    }
    return 0;
}

/*
 * The zero pages: present at once, with zero content, and nothing read.
 * A real restore maps fresh anonymous memory, zero already, so nothing is
 * charged (they count in zero_pages_installed, not pages_installed).
 */
static void install_zero_pages(struct ckpt_restore *r)
{
    enum { CHUNK = 512 };
    uint64_t zeros[CHUNK];
    uint64_t n = r->nr_pages, p = 0;
    if (!r->img->zero)
        return;
    for (uint32_t i = 0; i < CHUNK; i++)
        zeros[i] = VM_FP_ZERO;
    while ((p = vm_bitmap_next_set(r->img->zero, n, p)) < n) {
        uint64_t end = vm_bitmap_next_clear(r->img->zero, n, p);
        for (uint64_t q = p; q < end; q += CHUNK)
            port_mem_write(r->env.mem, q, (uint32_t)(end - q < CHUNK ? end - q : CHUNK), zeros);
        port_mem_set_present(r->env.mem, p, end - p, true);
        vm_bitmap_set_range(r->installed, p, end - p);
        r->nr_installed += end - p;
        r->stats.zero_pages_installed += end - p;
        p = end;
    }
}

/* Header and maps are in: allocate the page state and the read pool. */
static int finish_load(struct ckpt_restore *r)
{
    const struct ckpt_header *h = &r->img->hdr;
    r->nr_pages = h->nr_pages;
    r->packed = h->layout == CKPT_LAYOUT_SBLOCK && h->compressed;
    uint32_t bpages = h->layout == CKPT_LAYOUT_SBLOCK && h->block_pages ? h->block_pages : 1;
    r->block_buf = calloc(bpages, sizeof *r->block_buf);
    if (!r->block_buf)
        return fail(r, VM_ENOMEM, "out of memory");
    int rc = check_image(r);
    if (rc < 0)
        return rc;

    r->installed = vm_bitmap_new(r->nr_pages);
    r->faulted = vm_bitmap_new(r->nr_pages);
    r->wanted = vm_bitmap_new(r->nr_pages);
    r->inflight = vm_bitmap_new(r->nr_pages);
    if (!r->installed || !r->faulted || !r->wanted || !r->inflight)
        return fail(r, VM_ENOMEM, "out of memory");
    install_zero_pages(r);

    uint32_t cap = r->run_pages;
    if (r->max_sb_pages > cap)
        cap = r->max_sb_pages;
    if (r->nr_reads) {
        r->reads = calloc(r->nr_reads, sizeof *r->reads);
        if (!r->reads)
            return fail(r, VM_ENOMEM, "out of memory");
        for (uint32_t i = 0; i < r->nr_reads; i++) {
            r->reads[i].r = r;
            r->reads[i].background = i < r->nr_bg_slots;
            r->reads[i].cap = cap;
            r->reads[i].fps = calloc(cap, sizeof(uint64_t));
            if (!r->reads[i].fps)
                return fail(r, VM_ENOMEM, "out of memory");
        }
    }
    free(r->meta_buf);
    r->meta_buf = NULL;
    r->phase = CKPT_RESTORE_READY;
    return 0;
}

static int load_header(struct ckpt_restore *r)
{
    r->meta_ready = false;
    if (r->meta_rc < 0)
        return fail(r, media_error(r->meta_rc), "header read failed: %s",
                    vm_strerror(r->meta_rc));
    if (r->meta_req.len > HEADER_BYTES)
        return fail(r, VM_ECORRUPT, "header extent holds %u bytes, expected at most %u",
                    r->meta_req.len, HEADER_BYTES);
    struct ckpt_header h;
    struct vm_diag hd;
    vm_diag_clear(&hd);
    int rc = ckpt_header_decode(r->meta_buf, r->meta_req.len, &h, &hd);
    if (rc < 0)
        return fail(r, rc, "header: %s", hd.msg);
    if (h.layout != CKPT_LAYOUT_FLAT && h.layout != CKPT_LAYOUT_SBLOCK &&
        h.layout != CKPT_LAYOUT_STREAM)
        return fail(r, VM_ECORRUPT, "header: unknown layout %u", h.layout);
    if (h.layout == CKPT_LAYOUT_SBLOCK && h.block_pages == 0)
        return fail(r, VM_ECORRUPT, "header: storage-block image with 0 pages per block");
    if (r->sblock_only && h.layout != CKPT_LAYOUT_SBLOCK)
        return fail(r, VM_ENOTSUP, "needs a storage-block image, the file's layout is '%s'",
                    h.layout == CKPT_LAYOUT_FLAT ? "flat" : "stream");
    uint64_t mem_pages = port_mem_nr_pages(r->env.mem);
    if (h.nr_pages != mem_pages)
        return fail(r, VM_EINVAL, "image holds %llu pages, guest memory has %llu",
                    (unsigned long long)h.nr_pages, (unsigned long long)mem_pages);
    if (h.nr_pages > UINT32_MAX)
        return fail(r, VM_ENOTSUP, "image of %llu pages is too large",
                    (unsigned long long)h.nr_pages);
    rc = ckpt_image_new(&h, &r->img);
    if (rc < 0)
        return fail(r, rc, "out of memory for the maps");
    if (h.maps_len == 0)               /* a FLAT image without zero pages */
        return finish_load(r);

    if (h.maps_lba == 0 || h.maps_blocks == 0 || h.maps_len == 0 ||
        h.maps_len > h.maps_blocks * VM_PAGE_SIZE || h.maps_len > UINT32_MAX ||
        h.maps_blocks > UINT32_MAX)
        return fail(r, VM_ECORRUPT, "header: bad maps extent (lba %llu, %llu blocks, "
                    "%llu bytes)", (unsigned long long)h.maps_lba,
                    (unsigned long long)h.maps_blocks, (unsigned long long)h.maps_len);
    free(r->meta_buf);
    r->meta_buf = malloc(h.maps_len);
    if (!r->meta_buf)
        return fail(r, VM_ENOMEM, "out of memory for the maps");
    rc = submit_meta(r, h.maps_lba, h.maps_blocks, (uint32_t)h.maps_len);
    if (rc < 0)
        return fail(r, rc, "maps read not submitted: %s", vm_strerror(rc));
    r->phase = CKPT_RESTORE_LOAD_MAPS;
    return CKPT_STEP_WAIT;
}

static int load_maps(struct ckpt_restore *r)
{
    r->meta_ready = false;
    if (r->meta_rc < 0)
        return fail(r, media_error(r->meta_rc), "maps read failed: %s",
                    vm_strerror(r->meta_rc));
    if (r->meta_req.len != r->img->hdr.maps_len)
        return fail(r, VM_ECORRUPT, "maps extent holds %u bytes, the header says %llu",
                    r->meta_req.len, (unsigned long long)r->img->hdr.maps_len);
    struct vm_diag md;
    vm_diag_clear(&md);
    int rc = ckpt_maps_decode(r->img, r->meta_buf, r->meta_req.len, &md);
    if (rc < 0)
        return fail(r, rc, "maps: %s", md.msg);
    return finish_load(r);
}

int ckpt_restore_common_load(struct ckpt_restore *r)
{
    if (r->err)
        return any_inflight(r) ? CKPT_STEP_WAIT : r->err;
    int rc = 0;
    switch (r->phase) {
    case CKPT_RESTORE_READY:
        return 0;
    case CKPT_RESTORE_LOAD_HEADER:
        if (!r->meta_ready)
            return CKPT_STEP_WAIT;
        rc = load_header(r);
        break;
    case CKPT_RESTORE_LOAD_MAPS:
        if (!r->meta_ready)
            return CKPT_STEP_WAIT;
        rc = load_maps(r);
        break;
    }
    if (rc < 0)
        return any_inflight(r) ? CKPT_STEP_WAIT : rc;
    return rc;
}

/* ---- installing pages ---------------------------------------------------- */

static bool eligible(const struct ckpt_restore *r, uint64_t page, int mode)
{
    if (vm_bitmap_test(r->installed, page))
        return false;
    return mode == CKPT_RESTORE_INSTALL_ALL || vm_bitmap_test(r->wanted, page);
}

/*
 * Install the eligible pages among n pages whose fingerprints are fps[]:
 * page i is pages[i], or first + i when pages is NULL.  Consecutive
 * eligible pages go to guest memory as one run.  sb is the storage block
 * they come from, or CKPT_NO_SBLOCK to look it up (SBLOCK layout only).
 */
static int install_pages(struct ckpt_restore *r, const uint64_t *pages, uint64_t first,
                         uint32_t n, const uint64_t *fps, int mode, uint32_t sb)
{
    bool sblock = r->img->hdr.layout == CKPT_LAYOUT_SBLOCK;
    uint32_t i = 0;
    while (i < n) {
        uint64_t p0 = pages ? pages[i] : first + i;
        if (!eligible(r, p0, mode)) {
            i++;
            continue;
        }
        uint32_t j = i + 1;
        while (j < n) {
            uint64_t pj = pages ? pages[j] : first + j;
            if (pj != p0 + (j - i) || !eligible(r, pj, mode))
                break;
            j++;
        }
        for (uint32_t k = i; k < j; k++) {
            uint64_t p = p0 + (k - i);
            if (fps[k] == 0)
                return fail(r, VM_ECORRUPT, "page %llu reads as never written",
                            (unsigned long long)p);
            vm_bitmap_set(r->installed, p);
            if (vm_bitmap_test(r->wanted, p))
                vm_bitmap_clear(r->wanted, p);
            else
                r->stats.pages_prefetched++;
            if (sblock) {
                uint32_t s = sb != CKPT_NO_SBLOCK ? sb : ckpt_restore_common_page_sblock(r, p);
                r->sb_left[s]--;
            }
        }
        port_mem_write(r->env.mem, p0, j - i, fps + i);
        port_mem_set_present(r->env.mem, p0, j - i, true);
        r->nr_installed += j - i;
        r->stats.pages_installed += j - i;
        i = j;
    }
    return 0;
}

static int install_sblock(struct ckpt_restore_common_read *rd)
{
    struct ckpt_restore *r = rd->r;
    const struct ckpt_image *img = r->img;
    const struct ckpt_sblock *sb = &img->sblocks[rd->sb];
    if (r->packed) {
        if (rd->req.nr_fps != rd->nr_pages)
            return fail(r, VM_ECORRUPT, "storage block %u holds %u pages, the maps say %u",
                        rd->sb, rd->req.nr_fps, rd->nr_pages);
        /* one zstd frame per storage block: the whole frame is decompressed */
        r->stats.decompress_out += (uint64_t)rd->nr_pages * VM_PAGE_SIZE;
    }
    uint32_t off = 0;
    for (uint32_t j = 0; j < sb->nr_members; j++) {
        uint32_t cnt = ckpt_image_block_pages(img, img->members[sb->first_member + j],
                                              r->block_buf);
        int rc = install_pages(r, r->block_buf, 0, cnt, rd->fps + off, rd->install, rd->sb);
        if (rc < 0)
            return rc;
        off += cnt;
    }
    return 0;
}


/* A read slot is free again: its pages or storage block are no longer in
 * flight (on completion, or when the submit failed). */
static void release(struct ckpt_restore *r, struct ckpt_restore_common_read *rd)
{
    if (rd->kind == CKPT_RESTORE_READ_RUN)
        vm_bitmap_clear_range(r->inflight, rd->first_page, rd->nr_pages);
    else
        r->sb_inflight[rd->sb] = 0;
    rd->busy = false;
    if (rd->background)
        r->bg_inflight--;
    else
        r->fault_inflight--;
}

static void read_cb(struct port_blk_req *req, int rc)
{
    struct ckpt_restore_common_read *rd = req->data;
    struct ckpt_restore *r = rd->r;
    if (rc < 0)
        fail(r, media_error(rc), "read of lba %llu (%u blocks) failed: %s",
             (unsigned long long)req->lba, req->nr_blocks, vm_strerror(rc));
    else if (!r->err && rd->kind == CKPT_RESTORE_READ_RUN)
        install_pages(r, NULL, rd->first_page, rd->nr_pages, rd->fps, rd->install,
                      CKPT_NO_SBLOCK);
    else if (!r->err)
        install_sblock(rd);

    release(r, rd);
}

/* ---- submitting reads -------------------------------------------------- */

static struct ckpt_restore_common_read *get_slot(struct ckpt_restore *r, bool background)
{
    uint32_t lo = background ? 0 : r->nr_bg_slots;
    uint32_t hi = background ? r->nr_bg_slots : r->nr_reads;
    for (uint32_t i = lo; i < hi; i++)
        if (!r->reads[i].busy)
            return &r->reads[i];
    return NULL;
}

static int submit(struct ckpt_restore *r, struct ckpt_restore_common_read *rd)
{
    rd->busy = true;
    if (rd->background)
        r->bg_inflight++;
    else
        r->fault_inflight++;
    if (rd->kind == CKPT_RESTORE_READ_RUN)
        vm_bitmap_set_range(r->inflight, rd->first_page, rd->nr_pages);
    else
        r->sb_inflight[rd->sb] = 1;

    int rc = port_blk_submit(r->env.file, &rd->req);
    if (rc < 0) {
        release(r, rd);
        return fail(r, rc, "read of lba %llu (%u blocks) not submitted: %s",
                    (unsigned long long)rd->req.lba, rd->req.nr_blocks, vm_strerror(rc));
    }
    r->stats.read_reqs++;
    r->stats.read_ios += port_blk_req_ios(&rd->req);
    r->stats.bytes_read += (uint64_t)rd->req.nr_blocks * VM_PAGE_SIZE;
    return 0;
}

static void prep_req(struct ckpt_restore_common_read *rd, uint64_t lba, uint32_t nr_blocks)
{
    memset(&rd->req, 0, sizeof rd->req);
    rd->req.op = PORT_BLK_READ;
    rd->req.lba = lba;
    rd->req.nr_blocks = nr_blocks;
    rd->req.nr_ios = 1;
    rd->req.fps = rd->fps;
    rd->req.cb = read_cb;
    rd->req.data = rd;
}

static int submit_run(struct ckpt_restore *r, struct ckpt_restore_common_read *rd,
                      uint64_t first_page, uint32_t n, uint64_t lba, int install)
{
    if (n > rd->cap)
        return fail(r, VM_EINVAL, "run of %u pages exceeds the read buffer (%u)", n, rd->cap);
    prep_req(rd, lba, n);
    rd->kind = CKPT_RESTORE_READ_RUN;
    rd->install = install;
    rd->first_page = first_page;
    rd->nr_pages = n;
    rd->sb = CKPT_NO_SBLOCK;
    return submit(r, rd);
}

static int submit_sblock(struct ckpt_restore *r, struct ckpt_restore_common_read *rd,
                         uint32_t sb, int install)
{
    const struct ckpt_sblock *s = &r->img->sblocks[sb];
    prep_req(rd, s->lba, s->nr_blocks);
    if (r->packed) {
        rd->req.packed = 1;
        rd->req.nr_fps = rd->cap;
    }
    rd->kind = CKPT_RESTORE_READ_SBLOCK;
    rd->install = install;
    rd->first_page = 0;
    rd->nr_pages = r->sb_pages[sb];
    rd->sb = sb;
    return submit(r, rd);
}

static int locate(struct ckpt_restore *r, uint64_t page, struct ckpt_loc *loc)
{
    int rc = ckpt_image_locate(r->img, page, loc);
    if (rc < 0)
        return fail(r, VM_ECORRUPT, "image holds no copy of page %llu",
                    (unsigned long long)page);
    return 0;
}

/* A page a streamer may read now: absent and not covered by a read. */
static bool page_free(struct ckpt_restore *r, uint64_t page)
{
    if (vm_bitmap_test(r->installed, page) || vm_bitmap_test(r->inflight, page))
        return false;
    if (r->packed)
        return !r->sb_inflight[ckpt_restore_common_page_sblock(r, page)];
    return true;
}

int ckpt_restore_common_stream_pages(struct ckpt_restore *r, uint32_t io_pages, uint32_t depth)
{
    if (r->err)
        return r->err;
    if (io_pages > r->run_pages)
        io_pages = r->run_pages;
    if (depth > r->nr_bg_slots)
        depth = r->nr_bg_slots;
    uint64_t start = r->cursor_page, end = r->nr_pages, p = start;
    bool wrapped = false;
    while (r->bg_inflight < depth && r->nr_installed < r->nr_pages) {
        p = vm_bitmap_next_clear(r->installed, end, p);
        if (p >= end) {
            if (wrapped || start == 0)
                break;
            wrapped = true;
            end = start;
            p = 0;
            continue;
        }
        if (!page_free(r, p)) {
            p++;
            continue;
        }
        struct ckpt_restore_common_read *rd = get_slot(r, true);
        if (!rd)
            break;
        int rc;
        if (r->packed) {
            rc = submit_sblock(r, rd, ckpt_restore_common_page_sblock(r, p),
                               CKPT_RESTORE_INSTALL_ALL);
            p++;
        } else {
            struct ckpt_loc loc, next;
            rc = locate(r, p, &loc);
            if (rc < 0)
                return rc;
            uint32_t n = 1;
            while (n < io_pages && p + n < r->nr_pages && page_free(r, p + n)) {
                rc = locate(r, p + n, &next);
                if (rc < 0)
                    return rc;
                if (next.lba != loc.lba + n)
                    break;
                n++;
            }
            rc = submit_run(r, rd, p, n, loc.lba, CKPT_RESTORE_INSTALL_ALL);
            p += n;
        }
        if (rc < 0)
            return rc;
    }
    r->cursor_page = p < r->nr_pages ? p : 0;
    return 0;
}

int ckpt_restore_common_stream_sblocks(struct ckpt_restore *r, uint32_t depth)
{
    if (r->err)
        return r->err;
    uint32_t nr = r->img->nr_sblocks;
    if (depth > r->nr_bg_slots)
        depth = r->nr_bg_slots;
    uint32_t start = r->cursor_sb < nr ? r->cursor_sb : 0, s = start, end = nr;
    bool wrapped = false;
    while (r->bg_inflight < depth && r->nr_installed < r->nr_pages) {
        if (s >= end) {
            if (wrapped || start == 0)
                break;
            wrapped = true;
            end = start;
            s = 0;
            continue;
        }
        if (r->sb_left[s] == 0 || r->sb_inflight[s]) {
            s++;
            continue;
        }
        struct ckpt_restore_common_read *rd = get_slot(r, true);
        if (!rd)
            break;
        int rc = submit_sblock(r, rd, s, CKPT_RESTORE_INSTALL_ALL);
        if (rc < 0)
            return rc;
        s++;
    }
    r->cursor_sb = s < nr ? s : 0;
    return 0;
}

/* ---- faults ------------------------------------------------------------ */

int ckpt_restore_common_fault_begin(struct ckpt_restore *r, uint64_t page, bool block_wanted)
{
    if (r->err)
        return r->err;
    if (r->phase != CKPT_RESTORE_READY)
        return VM_EAGAIN;       /* a metadata read is in flight */
    if (page >= r->nr_pages)
        return fail(r, VM_EINVAL, "fault on page %llu beyond the image's %llu pages",
                    (unsigned long long)page, (unsigned long long)r->nr_pages);
    if (vm_bitmap_test(r->installed, page))
        return 0;
    if (!vm_bitmap_test_and_set(r->faulted, page))
        r->stats.restore_faults++;
    if (!block_wanted || r->img->hdr.layout != CKPT_LAYOUT_SBLOCK) {
        vm_bitmap_set(r->wanted, page);
        return VM_EAGAIN;
    }
    uint32_t cnt = ckpt_image_block_pages(r->img, ckpt_image_page_block(r->img, page),
                                          r->block_buf);
    for (uint32_t i = 0; i < cnt; i++)
        if (!vm_bitmap_test(r->installed, r->block_buf[i]))
            vm_bitmap_set(r->wanted, r->block_buf[i]);
    return VM_EAGAIN;
}

int ckpt_restore_common_fault_page(struct ckpt_restore *r, uint64_t page)
{
    if (r->packed) {
        uint32_t sb = ckpt_restore_common_page_sblock(r, page);
        if (r->sb_inflight[sb])
            return VM_EAGAIN;
        struct ckpt_restore_common_read *rd = get_slot(r, false);
        if (!rd)
            return VM_EAGAIN;
        int rc = submit_sblock(r, rd, sb, CKPT_RESTORE_INSTALL_WANTED);
        return rc < 0 ? rc : VM_EAGAIN;
    }
    if (vm_bitmap_test(r->inflight, page))
        return VM_EAGAIN;
    struct ckpt_restore_common_read *rd = get_slot(r, false);
    if (!rd)
        return VM_EAGAIN;
    struct ckpt_loc loc;
    int rc = locate(r, page, &loc);
    if (rc < 0)
        return rc;
    rc = submit_run(r, rd, page, 1, loc.lba, CKPT_RESTORE_INSTALL_WANTED);
    return rc < 0 ? rc : VM_EAGAIN;
}

int ckpt_restore_common_fault_sblock(struct ckpt_restore *r, uint64_t page, bool install_all)
{
    uint32_t sb = ckpt_restore_common_page_sblock(r, page);
    if (sb >= r->img->nr_sblocks)
        return fail(r, VM_ECORRUPT, "image holds no copy of page %llu",
                    (unsigned long long)page);
    if (r->sb_inflight[sb])
        return VM_EAGAIN;
    struct ckpt_restore_common_read *rd = get_slot(r, false);
    if (!rd)
        return VM_EAGAIN;
    int rc = submit_sblock(r, rd, sb, install_all ? CKPT_RESTORE_INSTALL_ALL
                                                  : CKPT_RESTORE_INSTALL_WANTED);
    return rc < 0 ? rc : VM_EAGAIN;
}

/* ---- status and teardown ----------------------------------------------- */

bool ckpt_restore_common_complete(const struct ckpt_restore *r)
{
    return r->phase == CKPT_RESTORE_READY && !r->err && r->nr_installed == r->nr_pages;
}

int ckpt_restore_common_status(struct ckpt_restore *r)
{
    if (r->err)
        return any_inflight(r) ? CKPT_STEP_WAIT : r->err;
    if (ckpt_restore_common_complete(r) && !any_inflight(r))
        return CKPT_STEP_DONE;
    return CKPT_STEP_WAIT;
}

const char *ckpt_restore_common_diag(const struct ckpt_restore *r)
{
    return r->diag.msg;
}

const struct ckpt_stats *ckpt_restore_common_stats(const struct ckpt_restore *r)
{
    /* derived, refreshed on every look rather than kept at each call site */
    struct ckpt_restore *m = (struct ckpt_restore *)r;
    m->stats.ios_inflight = r->bg_inflight + r->fault_inflight + (r->meta_busy ? 1u : 0u);
    return &r->stats;
}

void ckpt_restore_common_destroy(struct ckpt_restore *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; r->reads && i < r->nr_reads; i++)
        free(r->reads[i].fps);
    free(r->reads);
    free(r->block_buf);
    vm_bitmap_free(r->installed);
    vm_bitmap_free(r->faulted);
    vm_bitmap_free(r->wanted);
    vm_bitmap_free(r->inflight);
    free(r->sb_inflight);
    free(r->sb_left);
    free(r->sb_pages);
    ckpt_image_free(r->img);
    free(r->meta_buf);
    free(r);
}
