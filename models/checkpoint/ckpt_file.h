/*
 * ckpt_file.h - the checkpoint file: header, data layouts and the
 * persistent maps, shared by every save and restore policy.
 *
 * The file is the whole block device (4 KiB blocks, port_blk.h):
 *
 *   block 0          header: a packed metadata extent (1 block) holding
 *                    struct ckpt_header encoded little-endian, with an
 *                    xxh64 checksum over it
 *   blocks 1..       data, in one of three layouts
 *   maps extent      a packed metadata extent after the data (maps_lba),
 *                    nr blocks = ceil(maps_len / 4096), checksummed
 *
 * Zero pages (any layout): a page saved as a zero page (content
 * VM_FP_ZERO) has no data at all; the zero map in the maps extent lists
 * them (as runs of pages), and a restore makes them present as zero pages
 * without reading anything, as QEMU's mapped-ram leaves a zero page a
 * hole and its stream sends only its header.
 *
 * Layouts:
 *   FLAT    page p is plain block data_lba + p (stop-and-copy, lazy
 *           per-page: GPA order, like QEMU's mapped-ram); a zero page's
 *           block is a hole.  Maps only when it has zero pages (then the
 *           zero map alone), after the data.
 *   SBLOCK  storage blocks (buffered): each holds >= 1 blocks of
 *           block_pages pages, appended at a write cursor.  Uncompressed:
 *           a plain extent (its pages in member order, so one page can be
 *           read alone); compressed: a packed extent (nr_fps page
 *           fingerprints in member order, nr_blocks = ceil(bytes / 4096)).
 *           Maps (claim 4): block -> storage block, and storage block ->
 *           {lba, nr_blocks, compressed bytes, member blocks}; with A-bit
 *           grouping (claim 5) also the page order that defines blocks.
 *   STREAM  append-only stream of plain page records (iterative pre-copy,
 *           QEMU migrate-to-file): a page saved in several rounds appears
 *           several times; the map gives each page's latest copy, or none
 *           when its latest save found it zero (then it is in the zero map).
 * In SBLOCK, a zero page is in a block no storage block holds (a block of
 * zero pages only): a block is either stored whole or all zero.
 *
 * A file is valid only when the header is written last and acknowledged:
 * policies write data, then maps, then the header (after both are on the
 * device), so a crash or I/O error never leaves a header that points at
 * missing data.
 */
#ifndef CKPT_FILE_H
#define CKPT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/vm_err.h"
#include "base/vm_fpstore.h"

#define CKPT_MAGIC 0x504b434d49534d56ull   /* "VMSIMCKP" little-endian */
#define CKPT_FORMAT_VERSION 2                /* 2: zero map, maps in a FLAT image;
                                                 version 1 files read the same */
#define CKPT_HEADER_LBA 0
#define CKPT_DATA_LBA 1
#define CKPT_NO_SBLOCK UINT32_MAX

enum ckpt_layout { CKPT_LAYOUT_FLAT = 1, CKPT_LAYOUT_SBLOCK = 2, CKPT_LAYOUT_STREAM = 3 };

struct ckpt_header {
    uint64_t magic;
    uint32_t version;
    uint32_t layout;              /* enum ckpt_layout */
    uint64_t nr_pages;            /* guest pages in the image */
    uint32_t block_pages;         /* SBLOCK: B */
    uint32_t sblock_blocks;       /* SBLOCK: N (the last storage block may hold fewer) */
    uint32_t compressed;          /* SBLOCK: 1 if storage blocks are zstd-compressed */
    uint32_t grouping;            /* enum ckpt_grouping */
    uint64_t data_lba;
    uint64_t maps_lba;            /* 0 when the image has no maps (FLAT without zero pages) */
    uint64_t maps_blocks;
    uint64_t maps_len;            /* bytes */
    uint64_t maps_xxh;            /* checksum of the maps bytes */
};

/* A storage block (SBLOCK layout). */
struct ckpt_sblock {
    uint64_t lba;
    uint32_t nr_blocks;           /* device blocks it occupies */
    uint32_t nr_members;          /* blocks of pages it holds */
    uint32_t first_member;        /* index into ckpt_image.members */
    uint32_t bytes;               /* payload bytes on the device (compressed size) */
};

/* The maps, in memory.  Which arrays are set depends on the layout. */
struct ckpt_image {
    struct ckpt_header hdr;
    /* SBLOCK */
    uint64_t nr_blocks;           /* ceil(nr_pages / block_pages) */
    uint32_t *block_sblock;       /* block -> storage block index (map 1) */
    uint32_t *block_slot;         /* block -> position among its storage block's members */
    struct ckpt_sblock *sblocks;  /* map 2 */
    uint32_t nr_sblocks;
    uint32_t *members;            /* member block ids, grouped per storage block */
    uint32_t *page_order;         /* ABITS: block b = pages page_order[b*B .. b*B+B-1]; NULL = GPA */
    uint32_t *page_block;         /* ABITS: inverse (page -> block); NULL = GPA */
    /* STREAM */
    uint32_t *page_lba;           /* page -> lba of its latest copy (0 = none); a
                                     STREAM file is at most 2^32 blocks (16 TiB) */
    /* every layout */
    uint64_t *zero;               /* bitmap of nr_pages bits: pages saved as zero
                                     pages (no data); NULL = none */
};

/* Where a page's saved copy is. */
struct ckpt_loc {
    bool zero;                    /* a zero page: no extent, nothing to read */
    uint64_t extent_lba;          /* start of the extent holding it */
    uint32_t extent_blocks;       /* its device blocks */
    bool packed;                  /* read the whole extent (compressed) */
    uint32_t index;               /* position of the page in the extent's fingerprints */
    uint64_t lba;                 /* plain: the page's own block (extent_lba + index) */
};

/* Header <-> bytes (4096-byte buffer).  decode: VM_ECORRUPT on a bad
 * magic, version or checksum, with a diag. */
size_t ckpt_header_encode(const struct ckpt_header *h, void *buf, size_t len);
int ckpt_header_decode(const void *buf, size_t len, struct ckpt_header *h, struct vm_diag *d);

/* Allocate an empty image for a header (arrays sized from it, block
 * entries set to CKPT_NO_SBLOCK).  VM_ENOMEM. */
int ckpt_image_new(const struct ckpt_header *h, struct ckpt_image **out);
void ckpt_image_free(struct ckpt_image *img);
/* Free the STREAM page -> lba map (the per-page and per-block arrays come
 * from vm_bigmem, so only the image frees them); page_lba is NULL after. */
void ckpt_image_drop_page_lba(struct ckpt_image *img);

/* The zero map: allocate it (all clear) unless there is one.  VM_ENOMEM. */
int ckpt_image_zero_map(struct ckpt_image *img);
static inline bool ckpt_image_is_zero(const struct ckpt_image *img, uint64_t page)
{
    return img->zero && (img->zero[page / 64] >> (page % 64) & 1);
}
/* Pages in the zero map. */
uint64_t ckpt_image_nr_zero(const struct ckpt_image *img);
/* Does the image need a maps extent?  Every layout but FLAT does; FLAT
 * only when it has zero pages. */
bool ckpt_image_has_maps(const struct ckpt_image *img);

/* Block of a page and the pages of a block (honours page_order). */
uint64_t ckpt_image_page_block(const struct ckpt_image *img, uint64_t page);
/* Fill pages[] with block b's pages; returns how many (< B for the last block). */
uint32_t ckpt_image_block_pages(const struct ckpt_image *img, uint64_t block, uint64_t *pages);

/* Maps <-> bytes.  encode allocates *buf (free()); decode checks the
 * checksum and every index against the header: VM_ECORRUPT with a diag.
 * encode_xxh also gives vm_fp_bytes(*buf, *len), the header's maps_xxh,
 * from the same pass that writes the trailer. */
int ckpt_maps_encode(const struct ckpt_image *img, void **buf, size_t *len);
int ckpt_maps_encode_xxh(const struct ckpt_image *img, void **buf, size_t *len, uint64_t *xxh);
int ckpt_maps_decode(struct ckpt_image *img, const void *buf, size_t len, struct vm_diag *d);

/* Where is page's copy?  A zero page: loc->zero and no extent.  VM_ENOENT
 * when the image does not hold it. */
int ckpt_image_locate(const struct ckpt_image *img, uint64_t page, struct ckpt_loc *loc);

/* Read header and maps straight from a device's content store (no I/O
 * timing): for the simulator's invariant checker.  VM_ENOENT when there
 * is no header, VM_ECORRUPT on a bad one. */
int ckpt_image_load_store(const struct vm_fpstore *st, struct ckpt_image **out,
                          struct vm_diag *d);

/* The content n >= 1 pages must have in the image, into fps[0..n): pages
 * pages[0..n) when pages is not NULL (a storage block's members, in
 * order: runs of consecutive pages that may lie anywhere), else pages
 * first .. first+n-1.  Asked for many pages at once, a source can look
 * up each run once and fetch the memory of all of them in parallel. */
typedef void (*ckpt_expect_fn)(void *arg, const uint64_t *pages, uint64_t first, uint64_t n,
                               uint64_t *fps);

/* Compare every page's saved fingerprint with its expected content (a
 * zero page's is VM_FP_ZERO).  Counts pages checked, mismatching and
 * missing; on no memory for its buffers, every page counts as missing. */
void ckpt_image_verify(const struct ckpt_image *img, const struct vm_fpstore *st,
                       ckpt_expect_fn expected, void *arg, uint64_t *checked,
                       uint64_t *mismatch, uint64_t *missing);

/*
 * The same check in nr_parts >= 1 shares that can run at once (on
 * threads: each part only reads the image and the store, and calls
 * expected() from its own thread, so expected() must be safe to call
 * concurrently): part k checks its share of the storage blocks and of
 * the zero pages (those in the k-th share of the page range), or of the
 * page chunks of the other layouts, into its own counts; finish() adds
 * them up as ckpt_image_verify() reports.
 */
struct ckpt_verify_counts {
    uint64_t mismatch, missing;
    uint64_t seen;                  /* pages this part found a place for */
    bool failed;                    /* no memory for its buffers */
};
void ckpt_image_verify_part(const struct ckpt_image *img, const struct vm_fpstore *st,
                            ckpt_expect_fn expected, void *arg, uint32_t part,
                            uint32_t nr_parts, struct ckpt_verify_counts *c);
void ckpt_image_verify_finish(const struct ckpt_image *img, const struct ckpt_verify_counts *parts,
                              uint32_t nr_parts, uint64_t *checked, uint64_t *mismatch,
                              uint64_t *missing);

#endif
