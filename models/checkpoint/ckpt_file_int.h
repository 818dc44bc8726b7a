/*
 * ckpt_file_int.h - what the checkpoint file's two files share
 * (ckpt_file.c: the encoding; ckpt_image.c: the image in memory): the
 * largest image, block and storage-block arithmetic, the runs of zero
 * pages.  Private to models/checkpoint/.
 */
#ifndef CKPT_FILE_INT_H
#define CKPT_FILE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/vm_bitmap.h"
#include "checkpoint/ckpt_file.h"

#define CKPT_FILE_MAX_NR_PAGES (1ull << 40)   /* 4 PiB of guest memory */

static inline uint64_t ckpt_div_up(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

static inline uint32_t ckpt_hdr_block_pages(const struct ckpt_header *h)
{
    return h->layout == CKPT_LAYOUT_SBLOCK ? h->block_pages : 1;
}

/* Storage blocks an image can hold: all but the last hold exactly N. */
static inline uint64_t ckpt_sblock_capacity(const struct ckpt_header *h, uint64_t nr_blocks)
{
    return ckpt_div_up(nr_blocks, h->sblock_blocks ? h->sblock_blocks : 1);
}

/* Runs of zero pages: the next one at or after *from; false when none. */
static inline bool ckpt_image_next_zero_run(const struct ckpt_image *img, uint64_t *from,
                                            uint64_t *first, uint64_t *count)
{
    uint64_t n = img->hdr.nr_pages;
    if (!img->zero)
        return false;
    uint64_t a = vm_bitmap_next_set(img->zero, n, *from);
    if (a >= n)
        return false;
    uint64_t b = vm_bitmap_next_clear(img->zero, n, a);
    *first = a;
    *count = b - a;
    *from = b;
    return true;
}

/* Pages in block b without listing them. */
static inline uint32_t ckpt_image_block_len(const struct ckpt_image *img, uint64_t b)
{
    uint32_t bp = ckpt_hdr_block_pages(&img->hdr);
    uint64_t first = b * bp;
    uint64_t n = img->hdr.nr_pages - first;
    return n > bp ? bp : (uint32_t)n;
}

#endif
