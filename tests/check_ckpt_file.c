/*
 * check_ckpt_file.c - Check suite "ckpt_file": the checkpoint file format
 * (ckpt_file.c): the header, the persistent maps of every layout and the
 * zero map, each round trip and every corruption the decoder must name,
 * locating a page, and the image check.  Images are built by hand on a
 * bare content store; the policies that write them are
 * check_ckpt_buffered.c and check_ckpt_baselines.c.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "base/vm_units.h"
#include "checkpoint/ckpt.h"
#include "checkpoint/ckpt_file.h"

/* ---- file format ---- */

static struct ckpt_header sample_header(void)
{
    return (struct ckpt_header){
        .magic = CKPT_MAGIC, .version = CKPT_FORMAT_VERSION, .layout = CKPT_LAYOUT_SBLOCK,
        .nr_pages = 38, .block_pages = 4, .sblock_blocks = 4, .compressed = 0,
        .grouping = CKPT_GROUP_GPA, .data_lba = 1, .maps_lba = 0, .maps_blocks = 0,
        .maps_len = 0, .maps_xxh = 0,
    };
}

/* An SBLOCK image of 38 pages, B = 4 (10 blocks, the last of 2 pages),
 * N = 4: storage blocks {3,1,0,2} {9,4,5,6} {7,8}, laid out from lba 1. */
static struct ckpt_image *sample_image(uint32_t grouping)
{
    struct ckpt_header h = sample_header();
    h.grouping = grouping;
    struct ckpt_image *img;
    ck_assert_int_eq(ckpt_image_new(&h, &img), 0);
    if (grouping == CKPT_GROUP_ABITS) {
        /* reversed page order */
        for (uint32_t i = 0; i < 38; i++) {
            img->page_order[i] = 37 - i;
            img->page_block[37 - i] = i / 4;
        }
    }
    static const uint32_t members[10] = { 3, 1, 0, 2, 9, 4, 5, 6, 7, 8 };
    static const uint32_t counts[3] = { 4, 4, 2 };
    uint64_t lba = 1;
    uint32_t m = 0;
    for (uint32_t s = 0; s < 3; s++) {
        uint32_t pages = 0;
        for (uint32_t j = 0; j < counts[s]; j++) {
            uint32_t b = members[m + j];
            img->members[m + j] = b;
            img->block_sblock[b] = s;
            img->block_slot[b] = j;
            pages += b == 9 ? 2 : 4;
        }
        img->sblocks[s] = (struct ckpt_sblock){ lba, pages, counts[s], m, pages * VM_PAGE_SIZE };
        lba += pages;
        m += counts[s];
    }
    img->nr_sblocks = 3;
    return img;
}

static void encode_into_header(struct ckpt_image *img, void **buf, size_t *len)
{
    ck_assert_int_eq(ckpt_maps_encode(img, buf, len), 0);
    img->hdr.maps_lba = 39;
    img->hdr.maps_len = *len;
    img->hdr.maps_blocks = (*len + 4095) / 4096;
    img->hdr.maps_xxh = vm_fp_bytes(*buf, *len);
}

/* expected() for ckpt_image_verify over an array of fingerprints. */
static void snap_expect(void *arg, const uint64_t *pages, uint64_t first, uint64_t n,
                        uint64_t *fps)
{
    for (uint64_t i = 0; i < n; i++)
        fps[i] = ((const uint64_t *)arg)[pages ? pages[i] : first + i];
}

START_TEST(test_ckpt_file_header_round_trips)
{
    struct ckpt_header h = sample_header(), g;
    h.maps_lba = 77;
    h.maps_len = 5000;
    h.maps_blocks = 2;
    h.maps_xxh = 0x1234;
    uint8_t buf[4096];
    size_t n = ckpt_header_encode(&h, buf, sizeof(buf));
    ck_assert_uint_gt(n, 0);
    ck_assert_int_eq(ckpt_header_decode(buf, n, &g, NULL), 0);
    ck_assert_int_eq(memcmp(&h, &g, sizeof(h)), 0);
    ck_assert_uint_eq(ckpt_header_encode(&h, buf, 10), 0);
}
END_TEST

START_TEST(test_ckpt_file_header_every_corrupt_byte_is_rejected)
{
    struct ckpt_header h = sample_header(), g;
    uint8_t buf[4096];
    size_t n = ckpt_header_encode(&h, buf, sizeof(buf));
    for (size_t i = 0; i < n; i++) {
        struct vm_diag d;
        vm_diag_clear(&d);
        buf[i] ^= 0x10;
        ck_assert_int_eq(ckpt_header_decode(buf, n, &g, &d), VM_ECORRUPT);
        ck_assert_int_eq(d.code, VM_ECORRUPT);
        ck_assert_ptr_nonnull(strstr(d.msg, "checkpoint header"));
        buf[i] ^= 0x10;
    }
    ck_assert_int_eq(ckpt_header_decode(buf, n - 1, &g, NULL), VM_ECORRUPT);
}
END_TEST

START_TEST(test_ckpt_file_header_bad_magic_version_layout_are_named)
{
    struct ckpt_header h = sample_header(), g;
    uint8_t buf[4096];
    struct vm_diag d;
    h.magic ^= 1;
    vm_diag_clear(&d);
    ck_assert_int_eq(ckpt_header_decode(buf, ckpt_header_encode(&h, buf, sizeof(buf)), &g, &d),
                     VM_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(d.msg, "'magic'"));
    h = sample_header();
    h.version = 99;
    vm_diag_clear(&d);
    ck_assert_int_eq(ckpt_header_decode(buf, ckpt_header_encode(&h, buf, sizeof(buf)), &g, &d),
                     VM_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(d.msg, "'version'"));
    h = sample_header();
    h.layout = 9;
    vm_diag_clear(&d);
    ck_assert_int_eq(ckpt_header_decode(buf, ckpt_header_encode(&h, buf, sizeof(buf)), &g, &d),
                     VM_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(d.msg, "'layout'"));
}
END_TEST

START_TEST(test_ckpt_file_sblock_maps_round_trip)
{
    uint32_t grouping = (uint32_t)_i;
    struct ckpt_image *img = sample_image(grouping);
    void *buf;
    size_t len;
    encode_into_header(img, &buf, &len);
    struct ckpt_image *back;
    ck_assert_int_eq(ckpt_image_new(&img->hdr, &back), 0);
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_msg(ckpt_maps_decode(back, buf, len, &d) == 0, "%s", d.msg);
    ck_assert_uint_eq(back->nr_sblocks, 3);
    ck_assert_int_eq(memcmp(back->sblocks, img->sblocks, 3 * sizeof(struct ckpt_sblock)), 0);
    ck_assert_int_eq(memcmp(back->members, img->members, 10 * sizeof(uint32_t)), 0);
    ck_assert_int_eq(memcmp(back->block_sblock, img->block_sblock, 10 * sizeof(uint32_t)), 0);
    ck_assert_int_eq(memcmp(back->block_slot, img->block_slot, 10 * sizeof(uint32_t)), 0);
    if (grouping == CKPT_GROUP_ABITS) {
        ck_assert_int_eq(memcmp(back->page_order, img->page_order, 38 * sizeof(uint32_t)), 0);
        ck_assert_int_eq(memcmp(back->page_block, img->page_block, 38 * sizeof(uint32_t)), 0);
    } else {
        ck_assert_ptr_null(back->page_order);
    }
    free(buf);
    ckpt_image_free(back);
    ckpt_image_free(img);
}
END_TEST

START_TEST(test_ckpt_file_stream_maps_round_trip)
{
    struct ckpt_header h = { .magic = CKPT_MAGIC, .version = 1, .layout = CKPT_LAYOUT_STREAM,
                             .nr_pages = 100, .data_lba = 1 };
    struct ckpt_image *img, *back;
    ck_assert_int_eq(ckpt_image_new(&h, &img), 0);
    for (uint64_t p = 0; p < 100; p++)
        img->page_lba[p] = p % 7 == 0 ? 0 : 1 + (p * 13) % 200;
    void *buf;
    size_t len;
    ck_assert_int_eq(ckpt_maps_encode(img, &buf, &len), 0);
    ck_assert_int_eq(ckpt_image_new(&h, &back), 0);
    ck_assert_int_eq(ckpt_maps_decode(back, buf, len, NULL), 0);
    ck_assert_int_eq(memcmp(back->page_lba, img->page_lba, 100 * sizeof(*img->page_lba)), 0);
    struct ckpt_loc loc;
    ck_assert_int_eq(ckpt_image_locate(back, 7, &loc), VM_ENOENT);
    ck_assert_int_eq(ckpt_image_locate(back, 8, &loc), 0);
    ck_assert_uint_eq(loc.lba, 1 + (8 * 13) % 200);
    ck_assert(!loc.packed);
    free(buf);
    ckpt_image_free(img);
    ckpt_image_free(back);
}
END_TEST

START_TEST(test_ckpt_file_maps_every_flipped_byte_is_corrupt)
{
    struct ckpt_image *img = sample_image(CKPT_GROUP_ABITS);
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(ckpt_maps_encode(img, (void **)&buf, &len), 0);
    for (size_t i = 0; i < len; i++) {
        struct ckpt_image *back;
        ck_assert_int_eq(ckpt_image_new(&img->hdr, &back), 0);
        buf[i] ^= 0x01;
        struct vm_diag d;
        vm_diag_clear(&d);
        ck_assert_int_eq(ckpt_maps_decode(back, buf, len, &d), VM_ECORRUPT);
        ck_assert_int_eq(d.code, VM_ECORRUPT);
        buf[i] ^= 0x01;
        ckpt_image_free(back);
    }
    free(buf);
    ckpt_image_free(img);
}
END_TEST

/* Patch a little-endian u32 in a maps blob and fix its checksum, so the
 * index checks (not the checksum) must catch it. */
static void patch32(uint8_t *buf, size_t len, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        buf[off + i] = (uint8_t)(v >> (8 * i));
    uint64_t x = vm_fp_bytes(buf, len - 8);
    for (int i = 0; i < 8; i++)
        buf[len - 8 + i] = (uint8_t)(x >> (8 * i));
}

/* Offsets in the SBLOCK maps blob (see ckpt_file.c). */
#define OFF_SB(i) (40 + 24 * (i))
#define OFF_MEMBERS (40 + 24 * 3)
#define OFF_BLOCK_SBLOCK (OFF_MEMBERS + 4 * 10)
#define OFF_ORDER (OFF_BLOCK_SBLOCK + 4 * 10)

START_TEST(test_ckpt_file_maps_bad_indexes_are_corrupt)
{
    static const struct { size_t off; uint32_t v; const char *what; } cases[] = {
        { OFF_MEMBERS + 4, 10, "out of range" },            /* member block 10 of 10 */
        { OFF_MEMBERS + 4, 3, "twice" },                    /* block 3 listed twice */
        { OFF_BLOCK_SBLOCK + 4 * 5, 7, "out of range" },    /* block 5 -> storage block 7 */
        { OFF_BLOCK_SBLOCK + 4 * 5, 2, "mapped to" },       /* block 5 -> wrong storage block */
        { OFF_SB(1) + 0, 3, "out of place" },               /* overlaps storage block 0 */
        { OFF_SB(1) + 16, 5, "first_member" },
        { OFF_SB(0) + 12, 3, "nr_members" },                /* not N, not the last */
        { OFF_SB(2) + 8, 9, "plain blocks" },               /* 9 blocks for 8 pages */
        { OFF_ORDER + 4 * 3, 37, "twice" },                 /* page 37 twice in the order */
        { OFF_ORDER + 4 * 3, 38, "out of range" },
        { 32, 4, "exceeds" },                               /* nr_sblocks 4 > 3 possible */
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct ckpt_image *img = sample_image(CKPT_GROUP_ABITS);
        uint8_t *buf;
        size_t len;
        ck_assert_int_eq(ckpt_maps_encode(img, (void **)&buf, &len), 0);
        patch32(buf, len, cases[c].off, cases[c].v);
        struct ckpt_image *back;
        ck_assert_int_eq(ckpt_image_new(&img->hdr, &back), 0);
        struct vm_diag d;
        vm_diag_clear(&d);
        ck_assert_int_eq(ckpt_maps_decode(back, buf, len, &d), VM_ECORRUPT);
        ck_assert_msg(strstr(d.msg, cases[c].what), "case %zu: '%s'", c, d.msg);
        free(buf);
        ckpt_image_free(back);
        ckpt_image_free(img);
    }
}
END_TEST

START_TEST(test_ckpt_file_maps_checked_against_header)
{
    struct ckpt_image *img = sample_image(CKPT_GROUP_GPA);
    void *buf;
    size_t len;
    encode_into_header(img, &buf, &len);
    struct ckpt_header h = img->hdr;
    struct ckpt_image *back;
    /* the header's maps checksum and length must match, and the reason
     * says which */
    struct vm_diag d;
    vm_diag_clear(&d);
    h.maps_xxh ^= 1;
    ck_assert_int_eq(ckpt_image_new(&h, &back), 0);
    ck_assert_int_eq(ckpt_maps_decode(back, buf, len, &d), VM_ECORRUPT);
    ck_assert_msg(strstr(d.msg, "checksum mismatch") && strstr(d.msg, "'maps_xxh'"), "%s", d.msg);
    ckpt_image_free(back);
    h = img->hdr;
    h.maps_len = len + 1;
    vm_diag_clear(&d);
    ck_assert_int_eq(ckpt_image_new(&h, &back), 0);
    ck_assert_int_eq(ckpt_maps_decode(back, buf, len, &d), VM_ECORRUPT);
    ck_assert_msg(strstr(d.msg, "'maps_len'"), "%s", d.msg);
    ckpt_image_free(back);
    /* storage blocks must lie before the maps */
    h = img->hdr;
    h.maps_lba = 20;
    ck_assert_int_eq(ckpt_image_new(&h, &back), 0);
    ck_assert_int_eq(ckpt_maps_decode(back, buf, len, NULL), VM_ECORRUPT);
    ckpt_image_free(back);
    /* a different page count */
    h = img->hdr;
    h.nr_pages = 40;
    h.maps_len = 0;
    ck_assert_int_eq(ckpt_image_new(&h, &back), 0);
    ck_assert_int_eq(ckpt_maps_decode(back, buf, len, NULL), VM_ECORRUPT);
    ckpt_image_free(back);
    free(buf);
    ckpt_image_free(img);
}
END_TEST

START_TEST(test_ckpt_file_locate_counts_short_last_block)
{
    struct ckpt_image *img = sample_image(CKPT_GROUP_GPA);
    struct ckpt_loc loc;
    /* storage block 1 = blocks {9 (2 pages), 4, 5, 6} at lba 1 + 16 */
    ck_assert_int_eq(ckpt_image_locate(img, 37, &loc), 0);      /* block 9, page 1 */
    ck_assert_uint_eq(loc.extent_lba, 17);
    ck_assert_uint_eq(loc.extent_blocks, 14);
    ck_assert_uint_eq(loc.index, 1);
    ck_assert_uint_eq(loc.lba, 18);
    ck_assert_int_eq(ckpt_image_locate(img, 17, &loc), 0);      /* block 4, page 1 */
    ck_assert_uint_eq(loc.index, 2 + 1);
    ck_assert_int_eq(ckpt_image_locate(img, 25, &loc), 0);      /* block 6, page 1 */
    ck_assert_uint_eq(loc.index, 2 + 4 + 4 + 1);
    ck_assert_int_eq(ckpt_image_locate(img, 0, &loc), 0);       /* block 0, slot 2 */
    ck_assert_uint_eq(loc.index, 8);
    ck_assert_uint_eq(loc.lba, 9);
    ck_assert_int_eq(ckpt_image_locate(img, 38, &loc), VM_ENOENT);
    uint64_t pages[4];
    ck_assert_uint_eq(ckpt_image_block_pages(img, 9, pages), 2);
    ck_assert_uint_eq(pages[1], 37);
    ck_assert_uint_eq(ckpt_image_page_block(img, 37), 9);
    img->block_sblock[4] = CKPT_NO_SBLOCK;
    ck_assert_int_eq(ckpt_image_locate(img, 17, &loc), VM_ENOENT);
    ckpt_image_free(img);
}
END_TEST

/* ---- the zero map ---- */

/* The sample SBLOCK image with block 8 all zero: storage block 2 holds
 * block 7 alone and no storage block holds block 8, whose pages (32..35,
 * or 5..2 in the reversed A-bit order) are in the zero map. */
static struct ckpt_image *sample_image_zero(uint32_t grouping)
{
    struct ckpt_image *img = sample_image(grouping);
    img->block_sblock[8] = CKPT_NO_SBLOCK;
    img->block_slot[8] = CKPT_NO_SBLOCK;
    img->sblocks[2].nr_members = 1;
    img->sblocks[2].nr_blocks = 4;
    img->sblocks[2].bytes = 4 * VM_PAGE_SIZE;
    ck_assert_int_eq(ckpt_image_zero_map(img), 0);
    uint64_t pages[4];
    ck_assert_uint_eq(ckpt_image_block_pages(img, 8, pages), 4);
    for (int i = 0; i < 4; i++)
        vm_bitmap_set(img->zero, pages[i]);
    return img;
}

/* Encode, decode into a fresh image of the same header: 0 or the error. */
static int maps_round_trip(struct ckpt_image *img, struct ckpt_image **back, struct vm_diag *d)
{
    void *buf;
    size_t len;
    ck_assert_int_eq(ckpt_maps_encode(img, &buf, &len), 0);
    ck_assert_int_eq(ckpt_image_new(&img->hdr, back), 0);
    int rc = ckpt_maps_decode(*back, buf, len, d);
    free(buf);
    return rc;
}

static void assert_same_zero_map(const struct ckpt_image *a, const struct ckpt_image *b)
{
    ck_assert_ptr_nonnull(b->zero);
    ck_assert_int_eq(memcmp(a->zero, b->zero, VM_BITMAP_WORDS(a->hdr.nr_pages) * 8), 0);
}

START_TEST(test_ckpt_file_zero_map_round_trips_in_every_layout)
{
    struct vm_diag d;
    struct ckpt_image *img, *back;
    struct ckpt_loc loc;
    /* SBLOCK, GPA and A-bit order: block 8's pages are zero pages */
    for (uint32_t g = CKPT_GROUP_GPA; g <= CKPT_GROUP_ABITS; g++) {
        img = sample_image_zero(g);
        vm_diag_clear(&d);
        ck_assert_msg(maps_round_trip(img, &back, &d) == 0, "%s", d.msg);
        assert_same_zero_map(img, back);
        ck_assert_uint_eq(ckpt_image_nr_zero(back), 4);
        uint64_t pages[4];
        ckpt_image_block_pages(back, 8, pages);
        ck_assert_int_eq(ckpt_image_locate(back, pages[2], &loc), 0);
        ck_assert(loc.zero);
        ck_assert_uint_eq(loc.extent_blocks, 0);
        ck_assert_int_eq(ckpt_image_block_pages(back, 7, pages), 4);
        ck_assert_int_eq(ckpt_image_locate(back, pages[0], &loc), 0);
        ck_assert(!loc.zero);
        ck_assert_uint_eq(loc.extent_lba, img->sblocks[2].lba);   /* block 7, alone */
        ckpt_image_free(back);
        ckpt_image_free(img);
    }
    /* STREAM: zero pages have no copy; the others keep theirs */
    struct ckpt_header h = { .magic = CKPT_MAGIC, .version = CKPT_FORMAT_VERSION,
                             .layout = CKPT_LAYOUT_STREAM, .nr_pages = 1000, .data_lba = 1 };
    ck_assert_int_eq(ckpt_image_new(&h, &img), 0);
    ck_assert_int_eq(ckpt_image_zero_map(img), 0);
    for (uint64_t p = 0; p < 1000; p++) {
        if (p / 100 % 3 == 1 || p == 999)
            vm_bitmap_set(img->zero, p);
        else
            img->page_lba[p] = (uint32_t)(1 + p);
    }
    ck_assert(ckpt_image_has_maps(img));
    vm_diag_clear(&d);
    ck_assert_msg(maps_round_trip(img, &back, &d) == 0, "%s", d.msg);
    assert_same_zero_map(img, back);
    ck_assert_int_eq(memcmp(back->page_lba, img->page_lba, 1000 * sizeof(uint32_t)), 0);
    ck_assert_int_eq(ckpt_image_locate(back, 150, &loc), 0);
    ck_assert(loc.zero);
    ck_assert_int_eq(ckpt_image_locate(back, 250, &loc), 0);
    ck_assert_uint_eq(loc.lba, 251);
    ckpt_image_free(back);
    ckpt_image_free(img);
    /* FLAT: maps only with zero pages; then the zero map alone, compact */
    h = (struct ckpt_header){ .magic = CKPT_MAGIC, .version = CKPT_FORMAT_VERSION,
                              .layout = CKPT_LAYOUT_FLAT, .nr_pages = 1 << 20, .data_lba = 1 };
    ck_assert_int_eq(ckpt_image_new(&h, &img), 0);
    ck_assert(!ckpt_image_has_maps(img));
    ck_assert_int_eq(ckpt_image_zero_map(img), 0);
    ck_assert(!ckpt_image_has_maps(img));             /* an empty zero map is none */
    vm_bitmap_set_range(img->zero, 512, 512 * 100);
    vm_bitmap_set_range(img->zero, (1 << 20) - 512, 512);
    ck_assert(ckpt_image_has_maps(img));
    void *buf;
    size_t len;
    ck_assert_int_eq(ckpt_maps_encode(img, &buf, &len), 0);
    ck_assert_uint_eq(len, 24 + 8 + 2 * 16 + 8);       /* two runs, whatever their length */
    ck_assert_int_eq(ckpt_image_new(&h, &back), 0);
    ck_assert_int_eq(ckpt_maps_decode(back, buf, len, NULL), 0);
    assert_same_zero_map(img, back);
    ck_assert_uint_eq(ckpt_image_nr_zero(back), 512 * 101);
    ck_assert_int_eq(ckpt_image_locate(back, 511, &loc), 0);
    ck_assert(!loc.zero);
    ck_assert_uint_eq(loc.lba, 512);
    ck_assert_int_eq(ckpt_image_locate(back, 512, &loc), 0);
    ck_assert(loc.zero);
    free(buf);
    ckpt_image_free(back);
    ckpt_image_free(img);
}
END_TEST

/* Patch a little-endian u64 in a maps blob and fix its checksum. */
static void patch64(uint8_t *buf, size_t len, size_t off, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        buf[off + i] = (uint8_t)(v >> (8 * i));
    uint64_t x = vm_fp_bytes(buf, len - 8);
    for (int i = 0; i < 8; i++)
        buf[len - 8 + i] = (uint8_t)(x >> (8 * i));
}

START_TEST(test_ckpt_file_corrupt_zero_map_is_named)
{
    /* a FLAT image of 100 pages with zero runs [10, 20) and [50, 60):
     * nr_runs at 24, run i at 32 + 16 i */
    struct ckpt_header h = { .magic = CKPT_MAGIC, .version = CKPT_FORMAT_VERSION,
                             .layout = CKPT_LAYOUT_FLAT, .nr_pages = 100, .data_lba = 1 };
    static const struct { size_t off; uint64_t v; const char *what; } cases[] = {
        { 24, 3, "'nr_runs'" },                  /* more runs than bytes */
        { 24, 0, "'nr_runs'" },
        { 48, 15, "out of order" },              /* second run starts inside the first */
        { 48, 95, "beyond 100 pages" },          /* second run ends past the image */
        { 40, 0, "out of order" },               /* an empty run */
        { 32, UINT64_MAX, "beyond" },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct ckpt_image *img, *back;
        ck_assert_int_eq(ckpt_image_new(&h, &img), 0);
        ck_assert_int_eq(ckpt_image_zero_map(img), 0);
        vm_bitmap_set_range(img->zero, 10, 10);
        vm_bitmap_set_range(img->zero, 50, 10);
        uint8_t *buf;
        size_t len;
        ck_assert_int_eq(ckpt_maps_encode(img, (void **)&buf, &len), 0);
        ck_assert_uint_eq(len, 24 + 8 + 32 + 8);
        patch64(buf, len, cases[c].off, cases[c].v);
        ck_assert_int_eq(ckpt_image_new(&h, &back), 0);
        struct vm_diag d;
        vm_diag_clear(&d);
        ck_assert_int_eq(ckpt_maps_decode(back, buf, len, &d), VM_ECORRUPT);
        ck_assert_msg(strstr(d.msg, "zero map") && strstr(d.msg, cases[c].what),
                      "case %zu: '%s'", c, d.msg);
        free(buf);
        ckpt_image_free(back);
        ckpt_image_free(img);
    }
    /* a zero page must hold no data elsewhere: a stream copy ... */
    struct ckpt_header hs = h;
    hs.layout = CKPT_LAYOUT_STREAM;
    struct ckpt_image *img, *back;
    ck_assert_int_eq(ckpt_image_new(&hs, &img), 0);
    for (uint64_t p = 0; p < 100; p++)
        img->page_lba[p] = (uint32_t)(1 + p);
    ck_assert_int_eq(ckpt_image_zero_map(img), 0);
    vm_bitmap_set(img->zero, 42);
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(maps_round_trip(img, &back, &d), VM_ECORRUPT);
    ck_assert_msg(strstr(d.msg, "zero map: page 42 is also at lba 43"), "%s", d.msg);
    ckpt_image_free(back);
    ckpt_image_free(img);
    /* ... or a storage block */
    img = sample_image_zero(CKPT_GROUP_GPA);
    vm_bitmap_set(img->zero, 29);                      /* block 7, in storage block 2 */
    vm_diag_clear(&d);
    ck_assert_int_eq(maps_round_trip(img, &back, &d), VM_ECORRUPT);
    ck_assert_msg(strstr(d.msg, "zero map: page 29 is also in block 7 of storage block 2"),
                  "%s", d.msg);
    ckpt_image_free(back);
    ckpt_image_free(img);
}
END_TEST

/* A FLAT image whose zero pages are holes: the maps say what they hold. */
START_TEST(test_ckpt_file_verify_compares_zero_pages_with_the_zero_content)
{
    struct vm_fpstore *st = vm_fpstore_new(64);
    struct ckpt_header h = { .magic = CKPT_MAGIC, .version = CKPT_FORMAT_VERSION,
                             .layout = CKPT_LAYOUT_FLAT, .nr_pages = 40, .data_lba = 1 };
    struct ckpt_image *img;
    ck_assert_int_eq(ckpt_image_new(&h, &img), 0);
    ck_assert_int_eq(ckpt_image_zero_map(img), 0);
    vm_bitmap_set_range(img->zero, 8, 8);
    uint64_t expect[40];
    for (uint64_t p = 0; p < 40; p++) {
        expect[p] = p >= 8 && p < 16 ? VM_FP_ZERO : vm_fp_page(1, p, 0);
        if (!ckpt_image_is_zero(img, p))
            ck_assert_int_eq(vm_fpstore_put(st, 1 + p, 1, &expect[p]), 0);
    }
    /* maps after the data, then the header, as the writer lays them out */
    void *buf;
    size_t len;
    ck_assert_int_eq(ckpt_maps_encode(img, &buf, &len), 0);
    img->hdr.maps_lba = 41;
    img->hdr.maps_blocks = 1;
    img->hdr.maps_len = len;
    img->hdr.maps_xxh = vm_fp_bytes(buf, len);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 41, 1, NULL, 0, buf, (uint32_t)len), 0);
    uint8_t hb[4096];
    size_t hn = ckpt_header_encode(&img->hdr, hb, sizeof hb);
    ck_assert_int_eq(vm_fpstore_put_packed(st, 0, 1, NULL, 0, hb, (uint32_t)hn), 0);
    struct ckpt_image *back = NULL;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_msg(ckpt_image_load_store(st, &back, &d) == 0, "%s", d.msg);
    ck_assert_uint_eq(ckpt_image_nr_zero(back), 8);
    uint64_t checked, mismatch, missing;
    ckpt_image_verify(back, st, snap_expect, expect, &checked, &mismatch, &missing);
    ck_assert_uint_eq(checked, 40);
    ck_assert_uint_eq(mismatch, 0);
    ck_assert_uint_eq(missing, 0);
    /* a zero page that should have held data is a mismatch, not a hole */
    expect[9] = 77;
    ckpt_image_verify(back, st, snap_expect, expect, &checked, &mismatch, &missing);
    ck_assert_uint_eq(mismatch, 1);
    ck_assert_uint_eq(missing, 0);
    /* a FLAT header's maps must lie after its data */
    h = img->hdr;
    h.maps_lba = 30;
    hn = ckpt_header_encode(&h, hb, sizeof hb);
    struct ckpt_header g;
    ck_assert_int_eq(ckpt_header_decode(hb, hn, &g, NULL), VM_ECORRUPT);
    /* version 1 headers still read */
    h = img->hdr;
    h.version = 1;
    hn = ckpt_header_encode(&h, hb, sizeof hb);
    ck_assert_int_eq(ckpt_header_decode(hb, hn, &g, NULL), 0);
    free(buf);
    ckpt_image_free(back);
    ckpt_image_free(img);
    vm_fpstore_free(st);
}
END_TEST

START_TEST(test_ckpt_file_load_store_without_header_is_enoent)
{
    struct vm_fpstore *st = vm_fpstore_new(16);
    struct ckpt_image *img = NULL;
    struct vm_diag d;
    vm_diag_clear(&d);
    ck_assert_int_eq(ckpt_image_load_store(st, &img, &d), VM_ENOENT);
    ck_assert_ptr_null(img);
    /* a header whose maps extent is absent is corrupt */
    struct ckpt_header h = sample_header();
    h.maps_lba = 10;
    h.maps_len = 100;
    h.maps_blocks = 1;
    uint8_t buf[4096];
    size_t n = ckpt_header_encode(&h, buf, sizeof(buf));
    ck_assert_int_eq(vm_fpstore_put_packed(st, 0, 1, NULL, 0, buf, (uint32_t)n), 0);
    ck_assert_int_eq(ckpt_image_load_store(st, &img, NULL), VM_ECORRUPT);
    vm_fpstore_free(st);
}
END_TEST

static Suite *ckpt_file_suite(void)
{
    Suite *s = suite_create("ckpt_file");
    TCase *tf = tcase_create("file");
    tcase_add_test(tf, test_ckpt_file_header_round_trips);
    tcase_add_test(tf, test_ckpt_file_header_every_corrupt_byte_is_rejected);
    tcase_add_test(tf, test_ckpt_file_header_bad_magic_version_layout_are_named);
    tcase_add_loop_test(tf, test_ckpt_file_sblock_maps_round_trip, 0, 2);
    tcase_add_test(tf, test_ckpt_file_stream_maps_round_trip);
    tcase_add_test(tf, test_ckpt_file_maps_every_flipped_byte_is_corrupt);
    tcase_add_test(tf, test_ckpt_file_maps_bad_indexes_are_corrupt);
    tcase_add_test(tf, test_ckpt_file_maps_checked_against_header);
    tcase_add_test(tf, test_ckpt_file_locate_counts_short_last_block);
    tcase_add_test(tf, test_ckpt_file_zero_map_round_trips_in_every_layout);
    tcase_add_test(tf, test_ckpt_file_corrupt_zero_map_is_named);
    tcase_add_test(tf, test_ckpt_file_verify_compares_zero_pages_with_the_zero_content);
    tcase_add_test(tf, test_ckpt_file_load_store_without_header_is_enoent);
    suite_add_tcase(s, tf);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ckpt_file_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
