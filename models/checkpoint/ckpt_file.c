/*
 * ckpt_file.c - the checkpoint file format's encoding: the header, the
 * persistent maps, and an image read back from a device's store (header
 * and maps decoded into a struct ckpt_image); see ckpt_file.h for the
 * layouts.  The in-memory image, page location and the image check used
 * by the simulator's invariant checker are in ckpt_image.c.
 *
 * Based on US9053064 claim 4 (block -> storage block and storage block ->
 * blocks maps, kept persistent in the file) and claim 5 (blocks grouped by
 * accessed bits: the page order is persisted with the maps), and on QEMU's
 * mapped-ram / migrate-to-file formats for the FLAT and STREAM layouts.
 *
 * Encoding: everything little-endian, fixed-width fields, an xxh64
 * (vm_fp_bytes) checksum at the end of each structure.  Decoding trusts
 * nothing: every count and index is checked against the header before it
 * is used, and a bad one is VM_ECORRUPT with a diag naming the field.
 *
 * Maps blob:
 *   u64 magic "CKPTMAPS", u32 layout, u32 flags, u64 nr_pages
 *   SBLOCK: u64 nr_blocks, u32 nr_sblocks, u32 nr_members,
 *           nr_sblocks x {u64 lba, u32 nr_blocks, u32 nr_members,
 *                         u32 first_member, u32 bytes},
 *           nr_members x u32 member block (map 2),
 *           nr_blocks x u32 block -> storage block (map 1),
 *           [flags & ORDER] nr_pages x u32 page order (A-bit grouping)
 *   STREAM: nr_pages x u32 page -> lba ([flags & LBA64]: u64)
 *   FLAT:   nothing of its own
 *   [flags & ZERO] u64 nr_runs, nr_runs x {u64 first page, u64 pages}: the
 *           zero pages as runs, ascending, disjoint (zero pages come in
 *           2 MiB regions: a few runs, not a bit per page)
 *   u64 checksum of all the bytes before it
 *
 * Not modelled: partial writes of the header block (the device's unit of
 * atomicity is a request).
 */
#include "checkpoint/ckpt_file.h"

#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_fp.h"
#include "base/vm_units.h"
#include "checkpoint/ckpt.h"
#include "checkpoint/ckpt_file_int.h"

#define HDR_BYTES 88u                         /* 13 fields + checksum */
#define MAPS_MAGIC 0x5350414d54504b43ull      /* "CKPTMAPS" little-endian */
#define MAPS_F_ORDER 0x1u
#define MAPS_F_LBA64 0x2u
#define MAPS_F_ZERO 0x4u
#define ZERO_RUN_BYTES 16u
#define SBLOCK_REC_BYTES 24u

/* ---- little-endian cursor ---- */

struct wcur { uint8_t *p; };
struct rcur { const uint8_t *p, *end; bool short_read; };

static void put32(struct wcur *c, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *c->p++ = (uint8_t)(v >> (8 * i));
}
static void put64(struct wcur *c, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        *c->p++ = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(struct rcur *c)
{
    if (c->end - c->p < 4) {
        c->short_read = true;
        c->p = c->end;
        return 0;
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)c->p[i] << (8 * i);
    c->p += 4;
    return v;
}
static uint64_t get64(struct rcur *c)
{
    if (c->end - c->p < 8) {
        c->short_read = true;
        c->p = c->end;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)c->p[i] << (8 * i);
    c->p += 8;
    return v;
}

/* ---- header ---- */

size_t ckpt_header_encode(const struct ckpt_header *h, void *buf, size_t len)
{
    if (len < HDR_BYTES)
        return 0;
    struct wcur c = { buf };
    put64(&c, h->magic);
    put32(&c, h->version);
    put32(&c, h->layout);
    put64(&c, h->nr_pages);
    put32(&c, h->block_pages);
    put32(&c, h->sblock_blocks);
    put32(&c, h->compressed);
    put32(&c, h->grouping);
    put64(&c, h->data_lba);
    put64(&c, h->maps_lba);
    put64(&c, h->maps_blocks);
    put64(&c, h->maps_len);
    put64(&c, h->maps_xxh);
    put64(&c, vm_fp_bytes(buf, HDR_BYTES - 8));
    return HDR_BYTES;
}

int ckpt_header_decode(const void *buf, size_t len, struct ckpt_header *h, struct vm_diag *d)
{
    if (len < HDR_BYTES)
        return vm_diag_set(d, VM_ECORRUPT, "checkpoint header: %zu bytes, expected %u", len,
                           HDR_BYTES);
    struct rcur c = { buf, (const uint8_t *)buf + HDR_BYTES, false };
    struct ckpt_header t;
    t.magic = get64(&c);
    t.version = get32(&c);
    t.layout = get32(&c);
    t.nr_pages = get64(&c);
    t.block_pages = get32(&c);
    t.sblock_blocks = get32(&c);
    t.compressed = get32(&c);
    t.grouping = get32(&c);
    t.data_lba = get64(&c);
    t.maps_lba = get64(&c);
    t.maps_blocks = get64(&c);
    t.maps_len = get64(&c);
    t.maps_xxh = get64(&c);
    uint64_t sum = get64(&c);

    if (t.magic != CKPT_MAGIC)
        return vm_diag_set(d, VM_ECORRUPT, "checkpoint header: bad 'magic' 0x%016llx",
                           (unsigned long long)t.magic);
    if (t.version < 1 || t.version > CKPT_FORMAT_VERSION)
        return vm_diag_set(d, VM_ECORRUPT, "checkpoint header: unsupported 'version' %u",
                           t.version);
    if (sum != vm_fp_bytes(buf, HDR_BYTES - 8))
        return vm_diag_set(d, VM_ECORRUPT, "checkpoint header: 'checksum' mismatch");
    if (t.layout < CKPT_LAYOUT_FLAT || t.layout > CKPT_LAYOUT_STREAM)
        return vm_diag_set(d, VM_ECORRUPT, "checkpoint header: bad 'layout' %u", t.layout);
    if (t.nr_pages == 0 || t.nr_pages > CKPT_FILE_MAX_NR_PAGES)
        return vm_diag_set(d, VM_ECORRUPT, "checkpoint header: bad 'nr_pages' %llu",
                           (unsigned long long)t.nr_pages);
    if (t.data_lba < CKPT_DATA_LBA)
        return vm_diag_set(d, VM_ECORRUPT, "checkpoint header: 'data_lba' %llu overlaps the header",
                           (unsigned long long)t.data_lba);
    if (t.layout == CKPT_LAYOUT_SBLOCK) {
        if (t.block_pages == 0 || t.block_pages > 1u << 20)
            return vm_diag_set(d, VM_ECORRUPT, "checkpoint header: bad 'block_pages' %u",
                               t.block_pages);
        if (t.sblock_blocks == 0 || t.sblock_blocks > 1u << 20)
            return vm_diag_set(d, VM_ECORRUPT, "checkpoint header: bad 'sblock_blocks' %u",
                               t.sblock_blocks);
        if (t.compressed > 1)
            return vm_diag_set(d, VM_ECORRUPT, "checkpoint header: bad 'compressed' %u",
                               t.compressed);
        if (t.grouping != CKPT_GROUP_GPA && t.grouping != CKPT_GROUP_ABITS)
            return vm_diag_set(d, VM_ECORRUPT, "checkpoint header: bad 'grouping' %u",
                               t.grouping);
        if (t.grouping == CKPT_GROUP_ABITS && t.nr_pages > UINT32_MAX)
            return vm_diag_set(d, VM_ECORRUPT,
                               "checkpoint header: 'nr_pages' too large for a page order");
    }
    /* every layout but FLAT has maps; a FLAT image has them only with zero
     * pages, after its data */
    if (t.layout != CKPT_LAYOUT_FLAT || t.maps_lba || t.maps_len || t.maps_blocks) {
        uint64_t data_end = t.layout == CKPT_LAYOUT_FLAT ? t.data_lba + t.nr_pages : t.data_lba;
        if (t.maps_lba < data_end || t.maps_len == 0 ||
            t.maps_blocks != ckpt_div_up(t.maps_len, VM_PAGE_SIZE))
            return vm_diag_set(d, VM_ECORRUPT,
                               "checkpoint header: bad maps extent (lba %llu, %llu blocks, %llu bytes)",
                               (unsigned long long)t.maps_lba, (unsigned long long)t.maps_blocks,
                               (unsigned long long)t.maps_len);
        if (t.maps_len > UINT32_MAX)
            return vm_diag_set(d, VM_ECORRUPT, "checkpoint header: 'maps_len' %llu too large",
                               (unsigned long long)t.maps_len);
    }
    *h = t;
    return 0;
}

/* ---- maps ---- */

int ckpt_maps_encode(const struct ckpt_image *img, void **buf, size_t *len)
{
    uint64_t xxh;
    return ckpt_maps_encode_xxh(img, buf, len, &xxh);
}

int ckpt_maps_encode_xxh(const struct ckpt_image *img, void **buf, size_t *len, uint64_t *xxh)
{
    const struct ckpt_header *h = &img->hdr;
    uint32_t flags = 0;
    size_t n = 8 + 4 + 4 + 8;
    uint32_t nr_members = 0;
    *buf = NULL;
    *len = 0;
    if (h->layout == CKPT_LAYOUT_SBLOCK) {
        for (uint32_t i = 0; i < img->nr_sblocks; i++)
            nr_members += img->sblocks[i].nr_members;
        if (img->page_order)
            flags |= MAPS_F_ORDER;
        n += 8 + 4 + 4 + (size_t)img->nr_sblocks * SBLOCK_REC_BYTES +
             (size_t)nr_members * 4 + (size_t)img->nr_blocks * 4;
        if (img->page_order)
            n += (size_t)h->nr_pages * 4;
    } else if (h->layout == CKPT_LAYOUT_STREAM) {
        n += (size_t)h->nr_pages * 4;
    }
    uint64_t nr_runs = 0, from = 0, first, count;
    while (ckpt_image_next_zero_run(img, &from, &first, &count))
        nr_runs++;
    if (nr_runs) {
        flags |= MAPS_F_ZERO;
        n += 8 + (size_t)nr_runs * ZERO_RUN_BYTES;
    }
    n += 8;
    uint8_t *b = malloc(n);
    if (!b)
        return VM_ENOMEM;
    struct wcur c = { b };
    put64(&c, MAPS_MAGIC);
    put32(&c, h->layout);
    put32(&c, flags);
    put64(&c, h->nr_pages);
    if (h->layout == CKPT_LAYOUT_SBLOCK) {
        put64(&c, img->nr_blocks);
        put32(&c, img->nr_sblocks);
        put32(&c, nr_members);
        for (uint32_t i = 0; i < img->nr_sblocks; i++) {
            const struct ckpt_sblock *s = &img->sblocks[i];
            put64(&c, s->lba);
            put32(&c, s->nr_blocks);
            put32(&c, s->nr_members);
            put32(&c, s->first_member);
            put32(&c, s->bytes);
        }
        for (uint32_t i = 0; i < nr_members; i++)
            put32(&c, img->members[i]);
        for (uint64_t i = 0; i < img->nr_blocks; i++)
            put32(&c, img->block_sblock[i]);
        if (img->page_order)
            for (uint64_t p = 0; p < h->nr_pages; p++)
                put32(&c, img->page_order[p]);
    } else if (h->layout == CKPT_LAYOUT_STREAM) {
        for (uint64_t p = 0; p < h->nr_pages; p++)
            put32(&c, img->page_lba[p]);
    }
    if (nr_runs) {
        put64(&c, nr_runs);
        for (from = 0; ckpt_image_next_zero_run(img, &from, &first, &count);) {
            put64(&c, first);
            put64(&c, count);
        }
    }
    /* the trailer, the body's hash (little-endian, as put64 writes), and
     * the whole buffer's hash for the header, in one pass */
    *xxh = vm_fp_bytes_seal(b, n);
    *buf = b;
    *len = n;
    return 0;
}

#define CORRUPT(...) vm_diag_set(d, VM_ECORRUPT, "checkpoint maps: " __VA_ARGS__)

static int decode_sblock(struct ckpt_image *img, struct rcur *c, uint32_t flags,
                         struct vm_diag *d)
{
    const struct ckpt_header *h = &img->hdr;
    uint64_t nr_blocks = get64(c);
    uint32_t nr_sblocks = get32(c);
    uint32_t nr_members = get32(c);
    if (c->short_read)
        return CORRUPT("truncated");
    if (nr_blocks != img->nr_blocks)
        return CORRUPT("'nr_blocks' %llu, header says %llu", (unsigned long long)nr_blocks,
                       (unsigned long long)img->nr_blocks);
    if (nr_sblocks > ckpt_sblock_capacity(h, img->nr_blocks))
        return CORRUPT("'nr_sblocks' %u exceeds %llu", nr_sblocks,
                       (unsigned long long)ckpt_sblock_capacity(h, img->nr_blocks));
    if (nr_members > img->nr_blocks)
        return CORRUPT("'nr_members' %u exceeds %llu blocks", nr_members,
                       (unsigned long long)img->nr_blocks);
    if ((size_t)(c->end - c->p) < (size_t)nr_sblocks * SBLOCK_REC_BYTES)
        return CORRUPT("truncated");

    uint64_t prev_end = h->data_lba;
    uint32_t next_member = 0;
    for (uint32_t i = 0; i < nr_sblocks; i++) {
        struct ckpt_sblock s;
        s.lba = get64(c);
        s.nr_blocks = get32(c);
        s.nr_members = get32(c);
        s.first_member = get32(c);
        s.bytes = get32(c);
        if (s.first_member != next_member)
            return CORRUPT("storage block %u: 'first_member' %u, expected %u", i, s.first_member,
                           next_member);
        if (s.nr_members == 0 || s.nr_members > h->sblock_blocks ||
            (i + 1 < nr_sblocks && s.nr_members != h->sblock_blocks))
            return CORRUPT("storage block %u: 'nr_members' %u (N = %u)", i, s.nr_members,
                           h->sblock_blocks);
        if ((uint64_t)next_member + s.nr_members > nr_members)
            return CORRUPT("storage block %u: members beyond 'nr_members' %u", i, nr_members);
        if (s.nr_blocks == 0 || s.lba < prev_end || s.lba + s.nr_blocks < s.lba ||
            (h->maps_lba && s.lba + s.nr_blocks > h->maps_lba))
            return CORRUPT("storage block %u: extent lba %llu + %u blocks out of place", i,
                           (unsigned long long)s.lba, s.nr_blocks);
        if (h->compressed) {
            if (s.bytes == 0 || s.nr_blocks != ckpt_div_up(s.bytes, VM_PAGE_SIZE))
                return CORRUPT("storage block %u: %u bytes in %u blocks", i, s.bytes,
                               s.nr_blocks);
        } else if ((uint64_t)s.bytes != (uint64_t)s.nr_blocks * VM_PAGE_SIZE) {
            return CORRUPT("storage block %u: %u bytes in %u plain blocks", i, s.bytes,
                           s.nr_blocks);
        }
        prev_end = s.lba + s.nr_blocks;
        next_member += s.nr_members;
        img->sblocks[i] = s;
    }
    if (next_member != nr_members)
        return CORRUPT("storage blocks hold %u members, 'nr_members' is %u", next_member,
                       nr_members);

    size_t need = (size_t)nr_members * 4 + (size_t)img->nr_blocks * 4 +
                  ((flags & MAPS_F_ORDER) ? (size_t)h->nr_pages * 4 : 0);
    if ((size_t)(c->end - c->p) < need)
        return CORRUPT("truncated");
    for (uint64_t b = 0; b < img->nr_blocks; b++)
        img->block_slot[b] = CKPT_NO_SBLOCK;
    for (uint32_t i = 0; i < nr_members; i++) {
        uint32_t m = get32(c);
        if (m >= img->nr_blocks)
            return CORRUPT("member %u: block %u out of range", i, m);
        img->members[i] = m;
    }
    for (uint64_t b = 0; b < img->nr_blocks; b++) {
        uint32_t s = get32(c);
        if (s != CKPT_NO_SBLOCK && s >= nr_sblocks)
            return CORRUPT("block %llu: storage block %u out of range", (unsigned long long)b, s);
        img->block_sblock[b] = s;
    }
    /* map 1 and map 2 must describe the same bijection */
    uint64_t mapped = 0;
    for (uint32_t i = 0; i < nr_sblocks; i++) {
        const struct ckpt_sblock *s = &img->sblocks[i];
        uint64_t pages = 0;
        for (uint32_t j = 0; j < s->nr_members; j++) {
            uint32_t m = img->members[s->first_member + j];
            if (img->block_sblock[m] != i)
                return CORRUPT("block %u: listed in storage block %u, mapped to %u", m, i,
                               img->block_sblock[m]);
            if (img->block_slot[m] != CKPT_NO_SBLOCK)
                return CORRUPT("block %u: listed twice", m);
            img->block_slot[m] = j;
            pages += ckpt_image_block_len(img, m);
        }
        if (!h->compressed && pages != s->nr_blocks)
            return CORRUPT("storage block %u: %u blocks for %llu pages", i, s->nr_blocks,
                           (unsigned long long)pages);
    }
    for (uint64_t b = 0; b < img->nr_blocks; b++)
        if (img->block_sblock[b] != CKPT_NO_SBLOCK)
            mapped++;
    if (mapped != nr_members)
        return CORRUPT("%llu blocks mapped, %u listed", (unsigned long long)mapped, nr_members);
    img->nr_sblocks = nr_sblocks;

    if (flags & MAPS_F_ORDER) {
        for (uint64_t p = 0; p < h->nr_pages; p++)
            img->page_block[p] = UINT32_MAX;
        for (uint64_t i = 0; i < h->nr_pages; i++) {
            uint32_t p = get32(c);
            if (p >= h->nr_pages)
                return CORRUPT("page order %llu: page %u out of range", (unsigned long long)i, p);
            if (img->page_block[p] != UINT32_MAX)
                return CORRUPT("page order: page %u listed twice", p);
            img->page_order[i] = p;
            img->page_block[p] = (uint32_t)(i / h->block_pages);
        }
    }
    return 0;
}

/*
 * The zero map: runs in order, inside the image, and each page holds no
 * data elsewhere (no stream copy; in SBLOCK, no storage block holds its
 * block).  Decoded after the layout's own maps, which it is checked against.
 */
static int decode_zero(struct ckpt_image *img, struct rcur *c, struct vm_diag *d)
{
    const struct ckpt_header *h = &img->hdr;
    uint64_t nr_runs = get64(c);
    if (c->short_read)
        return CORRUPT("zero map: truncated");
    if (nr_runs == 0 || nr_runs > (uint64_t)(c->end - c->p) / ZERO_RUN_BYTES)
        return CORRUPT("zero map: 'nr_runs' %llu for %zu bytes", (unsigned long long)nr_runs,
                       (size_t)(c->end - c->p));
    if (ckpt_image_zero_map(img))
        return vm_diag_set(d, VM_ENOMEM, "checkpoint maps: out of memory for the zero map");
    vm_bitmap_clear_range(img->zero, 0, h->nr_pages);
    uint64_t prev_end = 0;
    for (uint64_t i = 0; i < nr_runs; i++) {
        uint64_t first = get64(c), count = get64(c);
        if (count == 0 || first < prev_end || first > h->nr_pages ||
            count > h->nr_pages - first)
            return CORRUPT("zero map: run %llu (pages %llu + %llu) out of order or beyond %llu "
                           "pages", (unsigned long long)i, (unsigned long long)first,
                           (unsigned long long)count, (unsigned long long)h->nr_pages);
        for (uint64_t p = first; p < first + count; p++) {
            if (h->layout == CKPT_LAYOUT_STREAM && img->page_lba[p])
                return CORRUPT("zero map: page %llu is also at lba %u", (unsigned long long)p,
                               img->page_lba[p]);
            if (h->layout == CKPT_LAYOUT_SBLOCK) {
                uint64_t blk = ckpt_image_page_block(img, p);
                if (img->block_sblock[blk] != CKPT_NO_SBLOCK)
                    return CORRUPT("zero map: page %llu is also in block %llu of storage "
                                   "block %u", (unsigned long long)p, (unsigned long long)blk,
                                   img->block_sblock[blk]);
            }
        }
        vm_bitmap_set_range(img->zero, first, count);
        prev_end = first + count;
    }
    return 0;
}

int ckpt_maps_decode(struct ckpt_image *img, const void *buf, size_t len, struct vm_diag *d)
{
    const struct ckpt_header *h = &img->hdr;
    if (len < 8 + 4 + 4 + 8 + 8)
        return CORRUPT("%zu bytes is too short", len);
    if (h->maps_len && len != h->maps_len)
        return CORRUPT("%zu bytes, the header's 'maps_len' says %llu", len,
                       (unsigned long long)h->maps_len);
    uint64_t body, whole = vm_fp_bytes_prefix(buf, len, len - 8, &body);   /* one pass */
    if (h->maps_len && whole != h->maps_xxh)
        return CORRUPT("checksum mismatch with the header's 'maps_xxh'");
    struct rcur tail = { (const uint8_t *)buf + len - 8, (const uint8_t *)buf + len, false };
    if (body != get64(&tail))
        return CORRUPT("'checksum' mismatch");
    struct rcur c = { buf, (const uint8_t *)buf + len - 8, false };
    uint64_t magic = get64(&c);
    uint32_t layout = get32(&c);
    uint32_t flags = get32(&c);
    uint64_t nr_pages = get64(&c);
    if (magic != MAPS_MAGIC)
        return CORRUPT("bad 'magic'");
    if (layout != h->layout)
        return CORRUPT("'layout' %u, header says %u", layout, h->layout);
    if (nr_pages != h->nr_pages)
        return CORRUPT("'nr_pages' %llu, header says %llu", (unsigned long long)nr_pages,
                       (unsigned long long)h->nr_pages);
    if (flags & ~(MAPS_F_ORDER | MAPS_F_LBA64 | MAPS_F_ZERO))
        return CORRUPT("unknown 'flags' 0x%x", flags);
    if (layout == CKPT_LAYOUT_SBLOCK) {
        if (!!(flags & MAPS_F_ORDER) != (h->grouping == CKPT_GROUP_ABITS))
            return CORRUPT("page order %s but grouping is %u",
                           (flags & MAPS_F_ORDER) ? "present" : "absent", h->grouping);
        int rc = decode_sblock(img, &c, flags, d);
        if (rc)
            return rc;
    } else if (layout == CKPT_LAYOUT_STREAM) {
        size_t w = (flags & MAPS_F_LBA64) ? 8 : 4;
        if ((size_t)(c.end - c.p) < (size_t)nr_pages * w)
            return CORRUPT("truncated");
        for (uint64_t p = 0; p < nr_pages; p++) {
            uint64_t lba = w == 8 ? get64(&c) : get32(&c);
            if (lba && (lba < h->data_lba || (h->maps_lba && lba >= h->maps_lba)))
                return CORRUPT("page %llu: lba %llu outside the data", (unsigned long long)p,
                               (unsigned long long)lba);
            if (lba > UINT32_MAX)
                return CORRUPT("page %llu: lba %llu beyond 2^32 blocks", (unsigned long long)p,
                               (unsigned long long)lba);
            img->page_lba[p] = (uint32_t)lba;
        }
    }
    if (img->zero)
        vm_bitmap_clear_range(img->zero, 0, h->nr_pages);
    if (flags & MAPS_F_ZERO) {
        int rc = decode_zero(img, &c, d);
        if (rc)
            return rc;
    }
    if (c.p != c.end)
        return CORRUPT("%zu trailing bytes", (size_t)(c.end - c.p));
    return 0;
}

/* ---- load ---- */

int ckpt_image_load_store(const struct vm_fpstore *st, struct ckpt_image **out,
                          struct vm_diag *d)
{
    uint8_t hb[VM_PAGE_SIZE];
    uint32_t len = 0;
    *out = NULL;
    int rc = vm_fpstore_get_packed(st, CKPT_HEADER_LBA, NULL, 0, NULL, hb, sizeof(hb), &len,
                                   NULL);
    if (rc == VM_ENOENT)
        return vm_diag_set(d, VM_ENOENT, "checkpoint file has no header");
    if (rc)
        return vm_diag_set(d, rc, "checkpoint header: %s", vm_strerror(rc));
    struct ckpt_header h;
    rc = ckpt_header_decode(hb, len > sizeof(hb) ? sizeof(hb) : len, &h, d);
    if (rc)
        return rc;
    struct ckpt_image *img;
    rc = ckpt_image_new(&h, &img);
    if (rc)
        return vm_diag_set(d, rc, "checkpoint image: %s", vm_strerror(rc));
    if (h.maps_len) {
        /* decode straight from the device's copy: the maps of a large
         * image are tens of MiB, a second copy would set the peak */
        const void *mb = NULL;
        uint32_t mlen = 0;
        uint64_t mblocks = 0;
        rc = vm_fpstore_peek_packed(st, h.maps_lba, NULL, NULL, &mb, &mlen, &mblocks);
        if (rc)
            rc = vm_diag_set(d, VM_ECORRUPT, "checkpoint maps: no extent at lba %llu",
                             (unsigned long long)h.maps_lba);
        else if (mlen != h.maps_len || mblocks != h.maps_blocks)
            rc = CORRUPT("extent holds %u bytes in %llu blocks, header says %llu in %llu", mlen,
                         (unsigned long long)mblocks, (unsigned long long)h.maps_len,
                         (unsigned long long)h.maps_blocks);
        else
            rc = ckpt_maps_decode(img, mb, mlen, d);
        if (rc) {
            ckpt_image_free(img);
            return rc;
        }
    }
    *out = img;
    return 0;
}
