/*
 * vm_fpstore.c - what a simulated block device holds, as fingerprints.
 *
 * Plain blocks: a two-level array, a top level of 32-bit leaf ids
 * (number + 1, 0 = none) naming leaves of 512 uint64_t fingerprints (2 MiB
 * of device; vm_fpstore_new_leaf() takes another power of two for devices
 * written at scattered places), each leaf allocated on its first write
 * (the shape of a page table, not a hash map: dense and cache friendly).
 * Leaves are carved in order out of arena chunks of 2 MiB (vm_bigmem:
 * huge pages where the system gives them), so a large image costs no
 * malloc and one page fault per chunk, taken by a thread that faults the
 * next chunk in while one fills (vm_bigmem_ahead); chunks go back only
 * with the store.  A 64 GiB image of 4 KiB blocks (16.7 M blocks) takes
 * 32768 leaves = 128 MiB; a hole of 2 MiB or more (a zero region of a
 * FLAT image) takes none, and the top level costs 4 bytes per 2 MiB of
 * device.
 * Sharing (vm_fpstore_share(), off by default): a leaf may be held by
 * several slots (a count per leaf); a whole-leaf write whose content
 * equals a leaf lately written or read whole (a table of them by first
 * fingerprint, each entry with 32 bits of that fingerprint so that a
 * write of other content is told apart without touching the leaf; a
 * candidate is checked in full) takes that leaf instead of a copy, a
 * write into a shared leaf copies it first, and a leaf no slot holds goes
 * on a free list for the next one.  A copy from one part of the device
 * to another, or the same data written to two places, then costs one
 * leaf: a consolidation's copied grains and mirrored writes.
 * Packed extents: a second two-level array of pointers indexed by the
 * extent's first block, with leaves of 2^16; each extent is one malloc
 * holding its fingerprints and bytes.  A third, per-block bitmap (leaves
 * of 2^16 bits, lazy too) marks blocks covered by a packed extent, so a
 * plain read can refuse a range that is not plain and a write can find
 * the extents it overlaps.
 * Invariant: packed extents never overlap; each covered bit belongs to
 * exactly one extent.  Every write replaces whatever it overlaps (a packed
 * extent partly overwritten is dropped whole: its payload is gone).
 * Not modelled: torn writes, device caches.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "vm_bigmem.h"
#include "vm_bitmap.h"
#include "vm_err.h"
#include "vm_fpstore.h"
#include "vm_prefetch.h"
#include "ports/port_blk.h"

#define LEAF_SHIFT  16                 /* packed extents and the covered bitmap */
#define LEAF_BLOCKS (1ull << LEAF_SHIFT)
#define LEAF_MASK   (LEAF_BLOCKS - 1)
#define PLAIN_SHIFT 9                  /* default plain leaf: 2 MiB of device */
#define ARENA_BYTES (2u << 20)         /* an arena chunk of plain leaves */
#define ARENA_SHIFT 18                 /* log2(ARENA_BYTES / 8): fingerprints per chunk */
#define SHARE_SHIFT 18                 /* leaves the sharing table remembers (2 MiB) */
#define REFS_MAX    UINT16_MAX

struct packed_ext {
    uint64_t nr_blocks;
    uint32_t nr_fps;
    uint32_t len;
    uint64_t data[];          /* nr_fps fingerprints, then len bytes */
};

struct vm_fpstore {
    uint64_t nr_blocks;
    uint64_t nr_leaves;            /* of LEAF_BLOCKS */
    unsigned pshift;               /* a plain leaf holds 2^pshift fingerprints */
    uint64_t pblocks, pmask;
    uint64_t arena_leaves;         /* plain leaves per arena chunk (a power of two) */
    unsigned arena_shift;          /* its log2 */
    uint64_t nr_plain;             /* of pblocks */
    uint32_t *plain;               /* [nr_plain] leaf ids (leaf number + 1), 0 = none */
    uint16_t *refs;                /* [cap_chunks * arena_leaves] slots holding each leaf */
    uint32_t free_id;              /* a leaf no slot holds (chained by its first word), 0 */
    uint64_t nr_free;
    uint64_t *share;               /* NULL, or tag << 32 | leaf id by first fingerprint */
    uint64_t **covered;            /* [nr_leaves] bitmap leaves or NULL */
    struct packed_ext ***packed;   /* [nr_leaves] extent-pointer leaves or NULL */
    size_t mem_bytes;
    /* the arena of plain leaves */
    void **chunks;                 /* [nr_chunks] of ARENA_BYTES */
    size_t nr_chunks, cap_chunks;
    uint32_t chunk_used;           /* leaves given out of the newest chunk */
    struct vm_bigmem_ahead *ahead; /* faults the next chunk in while one fills */
};

static uint64_t leaf_len(const struct vm_fpstore *st, uint64_t leaf)
{
    uint64_t first = leaf << LEAF_SHIFT;
    uint64_t left = st->nr_blocks - first;
    return left < LEAF_BLOCKS ? left : LEAF_BLOCKS;
}

static uint64_t plain_len(const struct vm_fpstore *st, uint64_t leaf)
{
    uint64_t left = st->nr_blocks - (leaf << st->pshift);
    return left < st->pblocks ? left : st->pblocks;
}

/* The fingerprints of plain leaf id (its number + 1). */
static uint64_t *leaf_at(const struct vm_fpstore *st, uint32_t id)
{
    uint64_t n = id - 1;
    return (uint64_t *)st->chunks[n >> st->arena_shift] + (n & (st->arena_leaves - 1)) * st->pblocks;
}

static size_t ext_size(uint32_t nr_fps, uint32_t len)
{
    return sizeof(struct packed_ext) + (size_t)nr_fps * sizeof(uint64_t) + len;
}

struct vm_fpstore *vm_fpstore_new(uint64_t nr_blocks)
{
    return vm_fpstore_new_leaf(nr_blocks, PLAIN_SHIFT);
}

struct vm_fpstore *vm_fpstore_new_leaf(uint64_t nr_blocks, unsigned leaf_shift)
{
    if (leaf_shift < 3 || leaf_shift > 15)
        return NULL;
    struct vm_fpstore *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->pshift = leaf_shift;
    st->pblocks = 1ull << leaf_shift;
    st->pmask = st->pblocks - 1;
    st->arena_shift = ARENA_SHIFT - leaf_shift;
    st->arena_leaves = 1ull << st->arena_shift;
    st->nr_blocks = nr_blocks;
    st->nr_leaves = (nr_blocks + LEAF_MASK) >> LEAF_SHIFT;
    st->nr_plain = (nr_blocks + st->pmask) >> st->pshift;
    size_t top = st->nr_leaves ? st->nr_leaves : 1;
    size_t top_plain = st->nr_plain ? st->nr_plain : 1;
    st->plain = calloc(top_plain, sizeof *st->plain);
    st->ahead = vm_bigmem_ahead_new(ARENA_BYTES);
    st->covered = calloc(top, sizeof *st->covered);
    st->packed = calloc(top, sizeof *st->packed);
    if (!st->plain || !st->covered || !st->packed || !st->ahead) {
        vm_fpstore_free(st);
        return NULL;
    }
    st->mem_bytes = sizeof *st + 2 * top * sizeof(void *) + top_plain * sizeof *st->plain;
    return st;
}

void vm_fpstore_free(struct vm_fpstore *st)
{
    if (!st)
        return;
    vm_bigmem_ahead_free(st->ahead);
    for (size_t i = 0; i < st->nr_chunks; i++)
        vm_bigmem_free(st->chunks[i], ARENA_BYTES);
    free(st->chunks);
    free(st->refs);
    free(st->share);
    for (uint64_t i = 0; i < st->nr_leaves; i++) {
        if (st->covered)
            free(st->covered[i]);
        if (st->packed && st->packed[i]) {
            uint64_t n = leaf_len(st, i);
            for (uint64_t j = 0; j < n; j++)
                free(st->packed[i][j]);
            free(st->packed[i]);
        }
    }
    free(st->plain);
    free(st->covered);
    free(st->packed);
    free(st);
}

uint64_t vm_fpstore_nr_blocks(const struct vm_fpstore *st)
{
    return st->nr_blocks;
}

size_t vm_fpstore_mem_bytes(const struct vm_fpstore *st)
{
    return st->mem_bytes;
}

uint64_t vm_fpstore_blocks_used(const struct vm_fpstore *st, uint64_t *end)
{
    uint64_t n = 0, last = 0;
    /* a plain block holds data once written (fingerprints are never 0);
     * a block under a packed extent holds part of its payload, and its
     * plain entry is 0 (put_packed clears it): no block counts twice */
    for (uint64_t leaf = 0; leaf < st->nr_plain; leaf++) {
        if (!st->plain[leaf])
            continue;
        const uint64_t *fps = leaf_at(st, st->plain[leaf]);
        uint64_t len = plain_len(st, leaf), first = leaf << st->pshift;
        for (uint64_t i = 0; i < len; i++)
            if (fps[i]) {
                n++;
                last = first + i + 1;
            }
    }
    for (uint64_t leaf = 0; leaf < st->nr_leaves; leaf++) {
        if (!st->covered[leaf])
            continue;
        uint64_t len = leaf_len(st, leaf), first = leaf << LEAF_SHIFT;
        uint64_t c = vm_bitmap_count(st->covered[leaf], len);
        n += c;
        for (uint64_t i = len; c && i-- > 0;)
            if (vm_bitmap_test(st->covered[leaf], i)) {
                if (first + i + 1 > last)
                    last = first + i + 1;
                break;
            }
    }
    if (end)
        *end = last;
    return n;
}

static int check_range(const struct vm_fpstore *st, uint64_t lba, uint64_t n)
{
    if (lba > st->nr_blocks || n > st->nr_blocks - lba)
        return VM_ERANGE;
    return 0;
}

/* --- lazily allocated leaves ------------------------------------------- */

/* A new leaf carved out of the arena (zeroed, no slot holds it yet), or 0. */
static uint32_t carve_leaf(struct vm_fpstore *st)
{
    if (!st->nr_chunks || st->chunk_used == st->arena_leaves) {
        if ((uint64_t)(st->nr_chunks + 1) << st->arena_shift >= UINT32_MAX)
            return 0;                   /* leaf ids are 32 bits */
        if (st->nr_chunks == st->cap_chunks) {
            size_t cap = st->cap_chunks ? 2 * st->cap_chunks : 16;
            void **ch = realloc(st->chunks, cap * sizeof *ch);
            if (!ch)
                return 0;
            st->chunks = ch;
            uint16_t *refs = realloc(st->refs, (cap << st->arena_shift) * sizeof *refs);
            if (!refs)
                return 0;
            st->refs = refs;
            st->cap_chunks = cap;
        }
        void *c = vm_bigmem_ahead_take(st->ahead);
        if (!c)
            return 0;
        st->chunks[st->nr_chunks++] = c;
        st->chunk_used = 0;
    }
    uint64_t n = ((uint64_t)(st->nr_chunks - 1) << st->arena_shift) + st->chunk_used++;
    st->refs[n] = 0;
    return (uint32_t)(n + 1);
}

static void put_free(struct vm_fpstore *st, uint32_t id)
{
    leaf_at(st, id)[0] = st->free_id;
    st->free_id = id;
    st->nr_free++;
}

/* Make sure k more leaves can be had without failing (so a write that
 * needs them changes nothing when memory runs out). */
static int reserve_leaves(struct vm_fpstore *st, uint64_t k)
{
    while (st->nr_free + (st->nr_chunks ? st->arena_leaves - st->chunk_used : 0) < k) {
        uint32_t id = carve_leaf(st);
        if (!id)
            return VM_ENOMEM;
        put_free(st, id);
    }
    return 0;
}

/* A zeroed leaf held by one slot: a freed one, else a new one; 0 when out
 * of memory. */
static uint32_t new_leaf(struct vm_fpstore *st)
{
    uint32_t id = st->free_id;
    if (id) {
        uint64_t *fps = leaf_at(st, id);
        st->free_id = (uint32_t)fps[0];
        st->nr_free--;
        memset(fps, 0, st->pblocks * sizeof *fps);
    } else if (!(id = carve_leaf(st))) {
        return 0;
    }
    st->refs[id - 1] = 1;
    st->mem_bytes += st->pblocks * sizeof(uint64_t);
    return id;
}

/* A slot lets go of leaf id: the last one frees it. */
static void drop_leaf(struct vm_fpstore *st, uint32_t id)
{
    if (--st->refs[id - 1])
        return;
    st->mem_bytes -= st->pblocks * sizeof(uint64_t);
    put_free(st, id);
}

/* Slot `leaf` gets a leaf of its own to write into: a new one, or a copy
 * of the leaf it shares.  VM_ENOMEM (reserve_leaves() first to rule it
 * out). */
static int own_leaf(struct vm_fpstore *st, uint64_t leaf)
{
    uint32_t id = st->plain[leaf];
    if (id && st->refs[id - 1] == 1)
        return 0;
    uint32_t mine = new_leaf(st);
    if (!mine)
        return VM_ENOMEM;
    if (id) {
        memcpy(leaf_at(st, mine), leaf_at(st, id), st->pblocks * sizeof(uint64_t));
        drop_leaf(st, id);
    }
    st->plain[leaf] = mine;
    return 0;
}

/* --- sharing whole leaves of equal content ------------------------------ */

static size_t share_slot(uint64_t first_fp)
{
    return (size_t)((first_fp * 0x9e3779b97f4a7c15ull) >> (64 - SHARE_SHIFT));
}

/* A share entry: the low 32 bits of the leaf's first fingerprint (the
 * slot is taken from the high bits) and the leaf's id. */
static uint64_t share_entry(uint64_t first_fp, uint32_t id)
{
    return (uint64_t)(uint32_t)first_fp << 32 | id;
}

/* Remember leaf id (whole, just written or read) by its first fingerprint. */
static void share_note(const struct vm_fpstore *st, uint32_t id)
{
    uint64_t fp0 = leaf_at(st, id)[0];
    st->share[share_slot(fp0)] = share_entry(fp0, id);
}

/* Slot `leaf` takes a remembered leaf holding exactly fps[0, pblocks), if
 * there is one; false otherwise. */
static bool share_take(struct vm_fpstore *st, uint64_t leaf, const uint64_t *fps)
{
    uint64_t e = st->share[share_slot(fps[0])];
    uint32_t id = (uint32_t)e;
    if (!id || e >> 32 != (uint32_t)fps[0])
        return false;               /* none, or another first fingerprint */
    if (!st->refs[id - 1] || st->refs[id - 1] == REFS_MAX ||
        memcmp(leaf_at(st, id), fps, st->pblocks * sizeof *fps) != 0)
        return false;               /* freed, full, or rewritten since */
    uint32_t old = st->plain[leaf];
    if (old != id) {
        st->refs[id - 1]++;
        st->plain[leaf] = id;
        if (old)
            drop_leaf(st, old);
    }
    return true;
}

int vm_fpstore_share(struct vm_fpstore *st)
{
    if (!st->share) {
        st->share = calloc((size_t)1 << SHARE_SHIFT, sizeof *st->share);
        if (!st->share)
            return VM_ENOMEM;
        st->mem_bytes += ((size_t)1 << SHARE_SHIFT) * sizeof *st->share;
    }
    return 0;
}

static int need_cover_leaf(struct vm_fpstore *st, uint64_t leaf)
{
    if (st->covered[leaf])
        return 0;
    uint64_t n = leaf_len(st, leaf);
    st->covered[leaf] = vm_bitmap_new(n);
    if (!st->covered[leaf])
        return VM_ENOMEM;
    st->mem_bytes += VM_BITMAP_WORDS(n) * sizeof(uint64_t);
    return 0;
}

static int need_packed_leaf(struct vm_fpstore *st, uint64_t leaf)
{
    if (st->packed[leaf])
        return 0;
    uint64_t n = leaf_len(st, leaf);
    st->packed[leaf] = calloc(n, sizeof(struct packed_ext *));
    if (!st->packed[leaf])
        return VM_ENOMEM;
    st->mem_bytes += n * sizeof(struct packed_ext *);
    return 0;
}

/* --- the "covered by a packed extent" bitmap ---------------------------- */

static bool cover_test(const struct vm_fpstore *st, uint64_t b)
{
    const uint64_t *leaf = st->covered[b >> LEAF_SHIFT];
    return leaf && vm_bitmap_test(leaf, b & LEAF_MASK);
}

/* First covered block in [from, end), or end. */
static uint64_t cover_next(const struct vm_fpstore *st, uint64_t from, uint64_t end)
{
    while (from < end) {
        uint64_t leaf = from >> LEAF_SHIFT;
        uint64_t leaf_first = leaf << LEAF_SHIFT;
        uint64_t leaf_end = leaf_first + leaf_len(st, leaf);
        if (leaf_end > end)
            leaf_end = end;
        if (st->covered[leaf]) {
            uint64_t bit = vm_bitmap_next_set(st->covered[leaf], leaf_end - leaf_first,
                                              from - leaf_first);
            if (bit < leaf_end - leaf_first)
                return leaf_first + bit;
        }
        from = leaf_end;
    }
    return end;
}

/* Set or clear [first, first+n); set needs the leaves to exist already. */
static void cover_update(struct vm_fpstore *st, uint64_t first, uint64_t n, bool set)
{
    uint64_t end = first + n;
    while (first < end) {
        uint64_t leaf = first >> LEAF_SHIFT;
        uint64_t leaf_end = (leaf + 1) << LEAF_SHIFT;
        uint64_t stop = leaf_end < end ? leaf_end : end;
        uint64_t *map = st->covered[leaf];
        assert(map || !set);   /* need_cover_leaf() ran for every set range */
        if (map) {
            if (set)
                vm_bitmap_set_range(map, first & LEAF_MASK, stop - first);
            else
                vm_bitmap_clear_range(map, first & LEAF_MASK, stop - first);
        }
        first = stop;
    }
}

/* --- packed extents ---------------------------------------------------- */

static struct packed_ext *ext_at(const struct vm_fpstore *st, uint64_t lba)
{
    struct packed_ext **leaf = st->packed[lba >> LEAF_SHIFT];
    return leaf ? leaf[lba & LEAF_MASK] : NULL;
}

static void drop_ext(struct vm_fpstore *st, uint64_t start)
{
    struct packed_ext **slot = &st->packed[start >> LEAF_SHIFT][start & LEAF_MASK];
    struct packed_ext *e = *slot;
    cover_update(st, start, e->nr_blocks, false);
    st->mem_bytes -= ext_size(e->nr_fps, e->len);
    free(e);
    *slot = NULL;
}

/* First block of the extent covering block b (its cover bit is set). */
static uint64_t ext_start_covering(const struct vm_fpstore *st, uint64_t b)
{
    for (;;) {
        if (ext_at(st, b))
            return b;
        assert(b > 0);         /* a covered block always has an extent at or before it */
        b--;
    }
}

/* Drop every packed extent that overlaps [lba, lba+n), n > 0. */
static void drop_overlapping(struct vm_fpstore *st, uint64_t lba, uint64_t n)
{
    uint64_t end = lba + n;
    if (cover_test(st, lba))
        drop_ext(st, ext_start_covering(st, lba));
    uint64_t b = lba;
    while ((b = cover_next(st, b, end)) < end) {
        struct packed_ext *e = ext_at(st, b);
        assert(e);             /* extents do not overlap: a covered run starts at one */
        uint64_t len = e->nr_blocks;
        drop_ext(st, b);
        b += len;
    }
}

/* --- public operations ------------------------------------------------- */

int vm_fpstore_put(struct vm_fpstore *st, uint64_t lba, uint64_t n,
                   const uint64_t *fps)
{
    int rc = check_range(st, lba, n);
    if (rc || n == 0)
        return rc;
    uint64_t end = lba + n;
    uint64_t first_leaf = lba >> st->pshift, last_leaf = (end - 1) >> st->pshift;
    /* A write over several leaves (a guest's 1 MiB is 16 of a 64 KiB
     * grain's) touches each one's count and sharing entry, scattered in
     * memory: asked for together here, their misses overlap instead of
     * coming one after the other below.  Hints only. */
    if (last_leaf > first_leaf && last_leaf - first_leaf < 64)
        for (uint64_t leaf = first_leaf; leaf <= last_leaf; leaf++) {
            uint32_t id = st->plain[leaf];
            if (id)
                vm_prefetch(&st->refs[id - 1]);
            uint64_t b = leaf << st->pshift;
            if (st->share && b >= lba && b + st->pblocks <= end)
                vm_prefetch(&st->share[share_slot(fps[b - lba])]);
        }
    /* Reserve first, so an ENOMEM leaves the content unchanged: a leaf
     * for every slot that has none of its own (a new one, or a copy of a
     * shared one); a slot that owns its leaf writes into it. */
    uint64_t need = 0;
    for (uint64_t leaf = first_leaf; leaf <= last_leaf; leaf++)
        need += !st->plain[leaf] || st->refs[st->plain[leaf] - 1] > 1;
    if (need && (rc = reserve_leaves(st, need)))
        return rc;
    drop_overlapping(st, lba, n);
    for (uint64_t b = lba; b < end;) {
        uint64_t leaf = b >> st->pshift;
        uint64_t stop = (leaf + 1) << st->pshift;
        if (stop > end)
            stop = end;
        bool whole = st->share && stop - b == st->pblocks;
        if (!whole || !share_take(st, leaf, fps + (b - lba))) {
            rc = own_leaf(st, leaf);
            assert(rc == 0);        /* reserved above */
            memcpy(leaf_at(st, st->plain[leaf]) + (b & st->pmask), fps + (b - lba),
                   (stop - b) * sizeof(uint64_t));
            if (whole)
                share_note(st, st->plain[leaf]);
        }
        b = stop;
    }
    return 0;
}

int vm_fpstore_peek(const struct vm_fpstore *st, uint64_t lba, uint64_t n, uint64_t *fps)
{
    int rc = check_range(st, lba, n);
    if (rc || n == 0)
        return rc;
    uint64_t end = lba + n;
    if (cover_next(st, lba, end) < end)
        return VM_EINVAL;      /* part of the range is a packed extent */
    for (uint64_t b = lba; b < end;) {
        uint64_t leaf = b >> st->pshift;
        uint64_t stop = (leaf + 1) << st->pshift;
        if (stop > end)
            stop = end;
        if (st->plain[leaf])
            memcpy(fps + (b - lba), leaf_at(st, st->plain[leaf]) + (b & st->pmask),
                   (stop - b) * sizeof(uint64_t));
        else
            memset(fps + (b - lba), 0, (stop - b) * sizeof(uint64_t));
        b = stop;
    }
    return 0;
}

int vm_fpstore_get(const struct vm_fpstore *st, uint64_t lba, uint64_t n,
                   uint64_t *fps)
{
    int rc = vm_fpstore_peek(st, lba, n, fps);
    if (rc || !st->share)
        return rc;
    /* each whole leaf read: a copy may write it elsewhere */
    for (uint64_t b = (lba + st->pmask) & ~st->pmask; b + st->pblocks <= lba + n;
         b += st->pblocks)
        if (st->plain[b >> st->pshift] && fps[b - lba])
            share_note(st, st->plain[b >> st->pshift]);
    return 0;
}

int vm_fpstore_put_packed(struct vm_fpstore *st, uint64_t lba,
                          uint64_t nr_blocks, const uint64_t *fps,
                          uint32_t nr_fps, const void *bytes, uint32_t len)
{
    int rc = check_range(st, lba, nr_blocks);
    if (rc)
        return rc;
    if (nr_blocks == 0 || (nr_fps && !fps) || (len && !bytes))
        return VM_EINVAL;
    uint64_t end = lba + nr_blocks;
    if ((rc = need_packed_leaf(st, lba >> LEAF_SHIFT)))
        return rc;
    /* the plain blocks under it are cleared: a shared leaf is copied first */
    uint64_t nr_shared = 0;
    for (uint64_t leaf = lba >> st->pshift; leaf <= (end - 1) >> st->pshift; leaf++)
        nr_shared += st->plain[leaf] && st->refs[st->plain[leaf] - 1] > 1;
    if (nr_shared && (rc = reserve_leaves(st, nr_shared)))
        return rc;
    for (uint64_t leaf = lba >> LEAF_SHIFT; leaf <= (end - 1) >> LEAF_SHIFT; leaf++)
        if ((rc = need_cover_leaf(st, leaf)))
            return rc;
    size_t size = ext_size(nr_fps, len);
    /* A rewrite of an extent of the same shape in place (a metadata
     * block written again) reuses its allocation: taken out as
     * drop_ext() would, without the free and the malloc. */
    struct packed_ext *e = ext_at(st, lba);
    if (e && e->nr_blocks == nr_blocks && ext_size(e->nr_fps, e->len) == size) {
        cover_update(st, lba, nr_blocks, false);
        st->mem_bytes -= size;
        st->packed[lba >> LEAF_SHIFT][lba & LEAF_MASK] = NULL;
    } else if (!(e = malloc(size))) {
        return VM_ENOMEM;
    }
    e->nr_blocks = nr_blocks;
    e->nr_fps = nr_fps;
    e->len = len;
    if (nr_fps)
        memcpy(e->data, fps, (size_t)nr_fps * sizeof(uint64_t));
    if (len)
        memcpy((unsigned char *)(e->data + nr_fps), bytes, len);

    drop_overlapping(st, lba, nr_blocks);
    for (uint64_t b = lba; b < end;) {
        uint64_t leaf = b >> st->pshift;
        uint64_t stop = (leaf + 1) << st->pshift;
        if (stop > end)
            stop = end;
        if (st->plain[leaf]) {
            rc = own_leaf(st, leaf);
            assert(rc == 0);        /* reserved above */
            memset(leaf_at(st, st->plain[leaf]) + (b & st->pmask), 0,
                   (stop - b) * sizeof(uint64_t));
        }
        b = stop;
    }
    st->packed[lba >> LEAF_SHIFT][lba & LEAF_MASK] = e;
    cover_update(st, lba, nr_blocks, true);
    st->mem_bytes += size;
    return 0;
}

int vm_fpstore_get_packed(const struct vm_fpstore *st, uint64_t lba,
                          uint64_t *fps, uint32_t max_fps, uint32_t *nr_fps,
                          void *bytes, uint32_t max_len, uint32_t *len,
                          uint64_t *nr_blocks)
{
    if (lba >= st->nr_blocks)
        return VM_ENOENT;
    const struct packed_ext *e = ext_at(st, lba);
    if (!e)
        return VM_ENOENT;
    if (fps && max_fps)
        memcpy(fps, e->data, (size_t)(max_fps < e->nr_fps ? max_fps : e->nr_fps)
                             * sizeof(uint64_t));
    if (bytes && max_len)
        memcpy(bytes, (const unsigned char *)(e->data + e->nr_fps),
               max_len < e->len ? max_len : e->len);
    if (nr_fps)
        *nr_fps = e->nr_fps;
    if (len)
        *len = e->len;
    if (nr_blocks)
        *nr_blocks = e->nr_blocks;
    return 0;
}

int vm_fpstore_peek_packed(const struct vm_fpstore *st, uint64_t lba,
                           const uint64_t **fps, uint32_t *nr_fps,
                           const void **bytes, uint32_t *len, uint64_t *nr_blocks)
{
    if (lba >= st->nr_blocks)
        return VM_ENOENT;
    const struct packed_ext *e = ext_at(st, lba);
    if (!e)
        return VM_ENOENT;
    if (fps)
        *fps = e->data;
    if (nr_fps)
        *nr_fps = e->nr_fps;
    if (bytes)
        *bytes = e->data + e->nr_fps;
    if (len)
        *len = e->len;
    if (nr_blocks)
        *nr_blocks = e->nr_blocks;
    return 0;
}

/* I/O i of a request: its first block (vectored runs carry one each). */
static uint64_t io_lba(const struct port_blk_req *req, uint32_t i, uint32_t per_io)
{
    return req->lbas ? req->lbas[i] : req->lba + (uint64_t)i * per_io;
}

/* I/O i's blocks: equal shares, or the vectored run's own lengths. */
static uint32_t io_len(const struct port_blk_req *req, uint32_t per_io, uint32_t i)
{
    return req->lbas && req->io_blocks ? req->io_blocks[i] : per_io;
}

bool vm_fpstore_req_fits(const struct vm_fpstore *st, const struct port_blk_req *req)
{
    if (req->op == PORT_BLK_FLUSH)
        return true;
    uint32_t ios = req->lbas ? port_blk_req_ios(req) : 1;
    uint32_t per_io = req->nr_blocks / ios;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < ios; i++) {
        uint64_t lba = io_lba(req, i, per_io);
        uint32_t len = io_len(req, per_io, i);
        if (lba > st->nr_blocks || len > st->nr_blocks - lba)
            return false;
        sum += len;
    }
    /* a run of unequal I/Os must cover exactly its blocks */
    return !(req->lbas && req->io_blocks) || sum == req->nr_blocks;
}

/* Prefetch distances, in I/Os of a vectored run: the slot's leaf id is
 * fetched PF_FAR I/Os ahead, and PF_NEAR ahead (the id in cache by then)
 * its leaf's count and fingerprints, and the sharing entry a whole-leaf
 * write looks up.  The I/Os of a copy's run are grains scattered over the
 * device: without this each one waits for three or four cache misses in
 * turn.  Hints only: nothing the store does depends on them. */
#define PF_FAR  8
#define PF_NEAR 4

static void prefetch_far(const struct vm_fpstore *st, uint64_t lba)
{
    vm_prefetch(&st->plain[lba >> st->pshift]);
}

static void prefetch_near(const struct vm_fpstore *st, uint64_t lba, uint32_t len,
                          const uint64_t *fps, bool write)
{
    uint32_t id = st->plain[lba >> st->pshift];
    if (id) {
        vm_prefetch(&st->refs[id - 1]);
        vm_prefetch(leaf_at(st, id) + (lba & st->pmask));
    }
    if (write && st->share && len == st->pblocks && !(lba & st->pmask))
        vm_prefetch(&st->share[share_slot(fps[0])]);
}

/* Plain data, consecutive or vectored: one store call per I/O of a vectored
 * run, one for the whole range otherwise.  Every range is checked first so
 * a bad run writes nothing. */
static int apply_plain(struct vm_fpstore *st, struct port_blk_req *req)
{
    if (!vm_fpstore_req_fits(st, req))
        return VM_ERANGE;
    uint32_t ios = req->lbas ? port_blk_req_ios(req) : 1;
    uint32_t per_io = req->nr_blocks / ios;
    bool write = req->op == PORT_BLK_WRITE;
    uint64_t *fps = req->fps;
    uint64_t near_off = 0;              /* offset in fps of I/O i + PF_NEAR */
    for (uint32_t i = 0; i < PF_NEAR && i < ios; i++)
        near_off += io_len(req, per_io, i);
    for (uint32_t i = 0; i < ios; i++) {
        uint64_t lba = io_lba(req, i, per_io);
        uint32_t len = io_len(req, per_io, i);
        if (ios > 1) {
            if (i + PF_FAR < ios)
                prefetch_far(st, io_lba(req, i + PF_FAR, per_io));
            if (i + PF_NEAR < ios) {
                uint32_t nl = io_len(req, per_io, i + PF_NEAR);
                prefetch_near(st, io_lba(req, i + PF_NEAR, per_io), nl, req->fps + near_off,
                              write);
                near_off += nl;
            }
        }
        int rc = write ? vm_fpstore_put(st, lba, len, fps) : vm_fpstore_get(st, lba, len, fps);
        if (rc < 0)
            return rc;
        fps += len;
    }
    return 0;
}

int vm_fpstore_apply(struct vm_fpstore *st, struct port_blk_req *req)
{
    switch (req->op) {
    case PORT_BLK_WRITE:
        if (req->packed)
            return vm_fpstore_put_packed(st, req->lba, req->nr_blocks, req->fps, req->nr_fps,
                                         req->bytes, req->len);
        return apply_plain(st, req);
    case PORT_BLK_READ:
        if (req->packed) {
            uint32_t nr_fps = 0, len = 0;
            int rc = vm_fpstore_get_packed(st, req->lba, req->fps, req->fps ? req->nr_fps : 0,
                                           &nr_fps, req->bytes, req->bytes ? req->len : 0, &len,
                                           NULL);
            if (rc == 0) {
                /* the extent's true sizes: more than the capacity passed
                 * in means the copy was cut short */
                req->nr_fps = nr_fps;
                req->len = len;
            }
            return rc;
        }
        return apply_plain(st, req);
    case PORT_BLK_FLUSH:
        return 0;
    }
    return VM_EINVAL;
}
