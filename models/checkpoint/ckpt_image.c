/*
 * ckpt_image.c - a checkpoint image in memory: the header and maps of one
 * checkpoint file (ckpt_file.h) with its zero pages, the blocks' pages,
 * where a page's saved content is on the device (locate), and the image
 * check the simulator's invariant checker runs (verify: every page's
 * saved content against what the memory held at the checkpoint).  The
 * encoding of the header and maps is in ckpt_file.c.
 *
 * Based on US9053064 claim 4 (block -> storage block and storage block ->
 * blocks maps) and claim 5 (blocks grouped by accessed bits: the page
 * order), and on QEMU's mapped-ram / migrate-to-file formats for the FLAT
 * and STREAM layouts.
 */
#include "checkpoint/ckpt_file.h"

#include <stdlib.h>
#include <string.h>

#include "base/vm_bigmem.h"
#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "base/vm_prefetch.h"
#include "base/vm_units.h"
#include "checkpoint/ckpt.h"
#include "checkpoint/ckpt_file_int.h"

/* ---- image ---- */

int ckpt_image_new(const struct ckpt_header *h, struct ckpt_image **out)
{
    *out = NULL;
    if (h->nr_pages == 0 || h->nr_pages > CKPT_FILE_MAX_NR_PAGES)
        return VM_EINVAL;
    if (h->layout == CKPT_LAYOUT_SBLOCK && (h->block_pages == 0 || h->sblock_blocks == 0))
        return VM_EINVAL;
    struct ckpt_image *img = calloc(1, sizeof(*img));
    if (!img)
        return VM_ENOMEM;
    img->hdr = *h;
    if (h->layout == CKPT_LAYOUT_SBLOCK) {
        img->nr_blocks = ckpt_div_up(h->nr_pages, h->block_pages);
        if (img->nr_blocks >= UINT32_MAX) {
            free(img);
            return VM_ERANGE;
        }
        uint64_t cap = ckpt_sblock_capacity(h, img->nr_blocks);
        /* per-block maps, written and read at random (faulted blocks):
         * huge pages (vm_bigmem) keep a 1 TiB guest's out of the TLB misses */
        img->block_sblock = vm_bigmem_alloc(img->nr_blocks * sizeof(uint32_t));
        img->block_slot = vm_bigmem_alloc(img->nr_blocks * sizeof(uint32_t));
        img->members = vm_bigmem_alloc(img->nr_blocks * sizeof(uint32_t));
        img->sblocks = calloc(cap, sizeof(struct ckpt_sblock));
        if (!img->block_sblock || !img->block_slot || !img->members || !img->sblocks)
            goto nomem;
        for (uint64_t b = 0; b < img->nr_blocks; b++) {
            img->block_sblock[b] = CKPT_NO_SBLOCK;
            img->block_slot[b] = CKPT_NO_SBLOCK;
        }
        if (h->grouping == CKPT_GROUP_ABITS) {
            if (h->nr_pages > UINT32_MAX)
                goto range;
            img->page_order = vm_bigmem_alloc(h->nr_pages * sizeof(uint32_t));
            img->page_block = vm_bigmem_alloc(h->nr_pages * sizeof(uint32_t));
            if (!img->page_order || !img->page_block)
                goto nomem;
            /* identity until the maps say otherwise */
            for (uint64_t p = 0; p < h->nr_pages; p++) {
                img->page_order[p] = (uint32_t)p;
                img->page_block[p] = (uint32_t)(p / h->block_pages);
            }
        }
    } else if (h->layout == CKPT_LAYOUT_STREAM) {
        img->page_lba = vm_bigmem_alloc(h->nr_pages * sizeof(uint32_t));
        if (!img->page_lba)
            goto nomem;
    }
    *out = img;
    return 0;
range:
    ckpt_image_free(img);
    return VM_ERANGE;
nomem:
    ckpt_image_free(img);
    return VM_ENOMEM;
}

void ckpt_image_free(struct ckpt_image *img)
{
    if (!img)
        return;
    size_t per_block = img->nr_blocks * sizeof(uint32_t);
    size_t per_page = img->hdr.nr_pages * sizeof(uint32_t);
    vm_bigmem_free(img->block_sblock, per_block);
    vm_bigmem_free(img->block_slot, per_block);
    free(img->sblocks);
    vm_bigmem_free(img->members, per_block);
    vm_bigmem_free(img->page_order, per_page);
    vm_bigmem_free(img->page_block, per_page);
    ckpt_image_drop_page_lba(img);
    vm_bitmap_free(img->zero);
    free(img);
}

void ckpt_image_drop_page_lba(struct ckpt_image *img)
{
    vm_bigmem_free(img->page_lba, img->hdr.nr_pages * sizeof(uint32_t));
    img->page_lba = NULL;
}

int ckpt_image_zero_map(struct ckpt_image *img)
{
    if (!img->zero && !(img->zero = vm_bitmap_new(img->hdr.nr_pages)))
        return VM_ENOMEM;
    return 0;
}

uint64_t ckpt_image_nr_zero(const struct ckpt_image *img)
{
    return img->zero ? vm_bitmap_count(img->zero, img->hdr.nr_pages) : 0;
}

bool ckpt_image_has_maps(const struct ckpt_image *img)
{
    return img->hdr.layout != CKPT_LAYOUT_FLAT ||
           (img->zero && vm_bitmap_next_set(img->zero, img->hdr.nr_pages, 0) < img->hdr.nr_pages);
}

uint64_t ckpt_image_page_block(const struct ckpt_image *img, uint64_t page)
{
    if (img->page_block)
        return img->page_block[page];
    return page / ckpt_hdr_block_pages(&img->hdr);
}

uint32_t ckpt_image_block_pages(const struct ckpt_image *img, uint64_t block, uint64_t *pages)
{
    uint32_t bp = ckpt_hdr_block_pages(&img->hdr);
    uint64_t first = block * bp;
    if (first >= img->hdr.nr_pages)
        return 0;
    uint64_t n = img->hdr.nr_pages - first;
    if (n > bp)
        n = bp;
    for (uint64_t i = 0; i < n; i++)
        pages[i] = img->page_order ? img->page_order[first + i] : first + i;
    return (uint32_t)n;
}

/* ---- locate / verify ---- */

/* Position of page in block b. */
static uint32_t page_pos(const struct ckpt_image *img, uint64_t b, uint64_t page)
{
    uint32_t bp = img->hdr.block_pages;
    if (!img->page_order)
        return (uint32_t)(page - b * bp);
    uint64_t first = b * bp;
    uint32_t n = ckpt_image_block_len(img, b);
    for (uint32_t k = 0; k < n; k++)
        if (img->page_order[first + k] == page)
            return k;
    return 0;    /* cannot happen: page_block and page_order are inverses */
}

int ckpt_image_locate(const struct ckpt_image *img, uint64_t page, struct ckpt_loc *loc)
{
    const struct ckpt_header *h = &img->hdr;
    if (page >= h->nr_pages)
        return VM_ENOENT;
    memset(loc, 0, sizeof(*loc));
    if (ckpt_image_is_zero(img, page)) {
        loc->zero = true;
        return 0;
    }
    switch (h->layout) {
    case CKPT_LAYOUT_FLAT:
        loc->extent_lba = loc->lba = h->data_lba + page;
        loc->extent_blocks = 1;
        return 0;
    case CKPT_LAYOUT_STREAM:
        if (!img->page_lba[page])
            return VM_ENOENT;
        loc->extent_lba = loc->lba = img->page_lba[page];
        loc->extent_blocks = 1;
        return 0;
    case CKPT_LAYOUT_SBLOCK: {
        uint64_t b = ckpt_image_page_block(img, page);
        uint32_t si = img->block_sblock[b];
        if (si == CKPT_NO_SBLOCK)
            return VM_ENOENT;
        const struct ckpt_sblock *s = &img->sblocks[si];
        uint32_t slot = img->block_slot[b];
        /* members before this one hold B pages each, except the image's
         * last block, which may be short */
        uint64_t index = (uint64_t)slot * h->block_pages;
        uint64_t last = img->nr_blocks - 1;
        if (img->block_sblock[last] == si && img->block_slot[last] < slot)
            index -= h->block_pages - ckpt_image_block_len(img, last);
        index += page_pos(img, b, page);
        loc->extent_lba = s->lba;
        loc->extent_blocks = s->nr_blocks;
        loc->packed = h->compressed != 0;
        loc->index = (uint32_t)index;
        loc->lba = loc->packed ? s->lba : s->lba + index;
        return 0;
    }
    default:
        return VM_ENOENT;
    }
}

/* Compare fps[0..n) (0 = missing) with exp[0..n), the expected content
 * of pages[] (NULL: first, first+1, ...); a zero page's saved content is
 * VM_FP_ZERO, whatever its block holds. */
static void compare(const struct ckpt_image *img, const uint64_t *fps, const uint64_t *exp,
                    const uint64_t *pages, uint64_t first, uint64_t n, uint64_t *mismatch,
                    uint64_t *missing)
{
    for (uint64_t i = 0; i < n; i++) {
        uint64_t p = pages ? pages[i] : first + i;
        if (ckpt_image_is_zero(img, p))
            *mismatch += exp[i] != VM_FP_ZERO;
        else if (!fps[i])
            (*missing)++;
        else if (fps[i] != exp[i])
            (*mismatch)++;
    }
}

void ckpt_image_verify_part(const struct ckpt_image *img, const struct vm_fpstore *st,
                            ckpt_expect_fn expected, void *arg, uint32_t part,
                            uint32_t nr_parts, struct ckpt_verify_counts *c)
{
    const struct ckpt_header *h = &img->hdr;
    enum { CHUNK = 4096 };
    memset(c, 0, sizeof *c);
    if (h->layout != CKPT_LAYOUT_FLAT && h->layout != CKPT_LAYOUT_STREAM &&
        h->layout != CKPT_LAYOUT_SBLOCK)
        return;                     /* nothing seen: finish() counts all missing */
    /* SBLOCK: each storage block's extent is read once, so the buffers
     * hold the largest one; the other layouts go in chunks */
    uint64_t cap = CHUNK;
    if (h->layout == CKPT_LAYOUT_SBLOCK && (uint64_t)h->block_pages * h->sblock_blocks > cap)
        cap = (uint64_t)h->block_pages * h->sblock_blocks;
    uint64_t *fps = malloc(cap * sizeof(uint64_t));
    uint64_t *exp = malloc(cap * sizeof(uint64_t));
    uint64_t *pages = h->layout == CKPT_LAYOUT_SBLOCK ? malloc(cap * sizeof(uint64_t)) : NULL;
    if (!fps || !exp || (h->layout == CKPT_LAYOUT_SBLOCK && !pages)) {
        free(fps);
        free(exp);
        free(pages);
        c->failed = true;           /* cannot check: report nothing as saved */
        return;
    }

    if (h->layout == CKPT_LAYOUT_FLAT || h->layout == CKPT_LAYOUT_STREAM) {
        /* part k checks chunks k, k + nr_parts, ... */
        for (uint64_t p = (uint64_t)part * CHUNK; p < h->nr_pages; p += (uint64_t)nr_parts * CHUNK) {
            uint64_t n = h->nr_pages - p < CHUNK ? h->nr_pages - p : CHUNK;
            if (h->layout == CKPT_LAYOUT_FLAT) {
                if (vm_fpstore_get(st, h->data_lba + p, n, fps))
                    memset(fps, 0, n * sizeof(uint64_t));
            } else {
                for (uint64_t i = 0; i < n; i++) {
                    uint32_t lba = img->page_lba[p + i];
                    if (!lba || vm_fpstore_get(st, lba, 1, &fps[i]))
                        fps[i] = 0;
                }
            }
            expected(arg, NULL, p, n, exp);
            compare(img, fps, exp, NULL, p, n, &c->mismatch, &c->missing);
            c->seen += n;
        }
        free(fps);
        free(exp);
        return;
    }

    /* part k checks storage blocks [k n / P, (k+1) n / P); part 0 the zero runs */
    uint32_t from_sb = (uint32_t)((uint64_t)img->nr_sblocks * part / nr_parts);
    uint32_t to_sb = (uint32_t)((uint64_t)img->nr_sblocks * (part + 1) / nr_parts);
    for (uint32_t i = from_sb; i < to_sb; i++) {
        const struct ckpt_sblock *s = &img->sblocks[i];
        uint64_t n = 0;
        for (uint32_t j = 0; j < s->nr_members; j++) {
            uint64_t at = n;
            n += ckpt_image_block_pages(img, img->members[s->first_member + j], pages + n);
            /* members lie anywhere in the zero map: fetch their words in
             * parallel, not one miss after the other in compare() */
            if (img->zero && n > at)
                vm_prefetch(&img->zero[pages[at] / 64]);
        }
        int rc;
        if (h->compressed) {
            uint32_t got = 0;
            rc = vm_fpstore_get_packed(st, s->lba, fps, (uint32_t)n, &got, NULL, 0, NULL, NULL);
            if (!rc && got != n)
                rc = VM_ECORRUPT;
        } else {
            rc = vm_fpstore_get(st, s->lba, n, fps);
        }
        if (rc)
            memset(fps, 0, n * sizeof(uint64_t));
        expected(arg, pages, 0, n, exp);
        compare(img, fps, exp, pages, 0, n, &c->mismatch, &c->missing);
        c->seen += n;
    }
    /* zero pages are in no storage block (the decoder checks it): part k
     * checks those in pages [k N / P, (k+1) N / P), a run cut at the
     * bounds (on a mostly idle guest they are most of the pages, so one
     * part taking them all would leave the other waiting) */
    uint64_t zfrom = h->nr_pages * part / nr_parts, zto = h->nr_pages * (part + 1) / nr_parts;
    uint64_t from = zfrom, first, count;    /* the search starts at zfrom */
    while (from < zto && ckpt_image_next_zero_run(img, &from, &first, &count) && first < zto) {
        if (first + count > zto)
            count = zto - first;
        for (uint64_t p = first; p < first + count; p += CHUNK) {
            uint64_t n = first + count - p < CHUNK ? first + count - p : CHUNK;
            expected(arg, NULL, p, n, exp);
            compare(img, NULL, exp, NULL, p, n, &c->mismatch, &c->missing);
        }
        c->seen += count;
    }
    free(fps);
    free(exp);
    free(pages);
}

void ckpt_image_verify_finish(const struct ckpt_image *img, const struct ckpt_verify_counts *parts,
                              uint32_t nr_parts, uint64_t *checked, uint64_t *mismatch,
                              uint64_t *missing)
{
    uint64_t nr_pages = img->hdr.nr_pages, seen = 0;
    *checked = nr_pages;
    *mismatch = 0;
    *missing = 0;
    for (uint32_t k = 0; k < nr_parts; k++) {
        if (parts[k].failed) {
            *mismatch = 0;
            *missing = nr_pages;    /* a part could not check: report nothing as saved */
            return;
        }
        *mismatch += parts[k].mismatch;
        *missing += parts[k].missing;
        seen += parts[k].seen;
    }
    *missing += nr_pages > seen ? nr_pages - seen : 0;
}

void ckpt_image_verify(const struct ckpt_image *img, const struct vm_fpstore *st,
                       ckpt_expect_fn expected, void *arg, uint64_t *checked,
                       uint64_t *mismatch, uint64_t *missing)
{
    struct ckpt_verify_counts c;
    ckpt_image_verify_part(img, st, expected, arg, 0, 1, &c);
    ckpt_image_verify_finish(img, &c, 1, checked, mismatch, missing);
}
