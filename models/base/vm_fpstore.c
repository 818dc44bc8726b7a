/*
 * vm_fpstore.c - what a simulated block device holds, as fingerprints.
 *
 * Plain blocks: a two-level array, a top level of pointers to leaves of
 * 512 uint64_t fingerprints (2 MiB of device; vm_fpstore_new_leaf() takes
 * another power of two for devices written at scattered places), each
 * leaf allocated on its first write (the shape of a page table, not a hash map: dense and cache
 * friendly).  Leaves are carved in order out of arena chunks of 512
 * leaves (2 MiB, vm_bigmem: huge pages where the system gives them), so a
 * large image costs no malloc and one page fault per 512 leaves, taken
 * by a thread that faults the next chunk in while one fills
 * (vm_bigmem_ahead); they go back only with the store.  A 64 GiB image of 4 KiB blocks (16.7 M blocks) takes 32768
 * leaves = 128 MiB; a hole of 2 MiB or more (a zero region of a FLAT
 * image) takes none, and the top level costs 8 bytes per 2 MiB of device.
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
#include "ports/port_blk.h"

#define LEAF_SHIFT  16                 /* packed extents and the covered bitmap */
#define LEAF_BLOCKS (1ull << LEAF_SHIFT)
#define LEAF_MASK   (LEAF_BLOCKS - 1)
#define PLAIN_SHIFT 9                  /* default plain leaf: 2 MiB of device */
#define ARENA_BYTES (2u << 20)         /* an arena chunk of plain leaves */

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
    uint64_t arena_leaves;         /* plain leaves per arena chunk */
    uint64_t nr_plain;             /* of pblocks */
    uint64_t **plain;              /* [nr_plain] fingerprint leaves or NULL */
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
    st->arena_leaves = ARENA_BYTES / (st->pblocks * sizeof(uint64_t));
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
    st->mem_bytes = sizeof *st + (2 * top + top_plain) * sizeof(void *);
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
        const uint64_t *fps = st->plain[leaf];
        if (!fps)
            continue;
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

/* A zeroed leaf of st->pblocks fingerprints from the arena, or NULL. */
static uint64_t *arena_leaf(struct vm_fpstore *st)
{
    if (!st->nr_chunks || st->chunk_used == st->arena_leaves) {
        if (st->nr_chunks == st->cap_chunks) {
            size_t cap = st->cap_chunks ? 2 * st->cap_chunks : 16;
            void **ch = realloc(st->chunks, cap * sizeof *ch);
            if (!ch)
                return NULL;
            st->chunks = ch;
            st->cap_chunks = cap;
        }
        void *c = vm_bigmem_ahead_take(st->ahead);
        if (!c)
            return NULL;
        st->chunks[st->nr_chunks++] = c;
        st->chunk_used = 0;
    }
    uint64_t *leaf = (uint64_t *)st->chunks[st->nr_chunks - 1] + st->chunk_used * st->pblocks;
    st->chunk_used++;
    return leaf;
}

static int need_plain_leaf(struct vm_fpstore *st, uint64_t leaf)
{
    if (st->plain[leaf])
        return 0;
    uint64_t n = plain_len(st, leaf);
    st->plain[leaf] = arena_leaf(st);
    if (!st->plain[leaf])
        return VM_ENOMEM;
    st->mem_bytes += n * sizeof(uint64_t);
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
    /* Allocate first, so an ENOMEM leaves the content unchanged. */
    for (uint64_t leaf = lba >> st->pshift; leaf <= (end - 1) >> st->pshift; leaf++)
        if ((rc = need_plain_leaf(st, leaf)))
            return rc;
    drop_overlapping(st, lba, n);
    for (uint64_t b = lba; b < end;) {
        uint64_t leaf = b >> st->pshift;
        uint64_t stop = (leaf + 1) << st->pshift;
        if (stop > end)
            stop = end;
        memcpy(&st->plain[leaf][b & st->pmask], fps + (b - lba),
               (stop - b) * sizeof(uint64_t));
        b = stop;
    }
    return 0;
}

int vm_fpstore_get(const struct vm_fpstore *st, uint64_t lba, uint64_t n,
                   uint64_t *fps)
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
            memcpy(fps + (b - lba), &st->plain[leaf][b & st->pmask],
                   (stop - b) * sizeof(uint64_t));
        else
            memset(fps + (b - lba), 0, (stop - b) * sizeof(uint64_t));
        b = stop;
    }
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
    for (uint64_t leaf = lba >> LEAF_SHIFT; leaf <= (end - 1) >> LEAF_SHIFT; leaf++)
        if ((rc = need_cover_leaf(st, leaf)))
            return rc;
    size_t size = ext_size(nr_fps, len);
    struct packed_ext *e = malloc(size);
    if (!e)
        return VM_ENOMEM;
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
        if (st->plain[leaf])
            memset(&st->plain[leaf][b & st->pmask], 0, (stop - b) * sizeof(uint64_t));
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

/* Plain data, consecutive or vectored: one store call per I/O of a vectored
 * run, one for the whole range otherwise.  Every range is checked first so
 * a bad run writes nothing. */
static int apply_plain(struct vm_fpstore *st, struct port_blk_req *req)
{
    if (!vm_fpstore_req_fits(st, req))
        return VM_ERANGE;
    uint32_t ios = req->lbas ? port_blk_req_ios(req) : 1;
    uint32_t per_io = req->nr_blocks / ios;
    uint64_t *fps = req->fps;
    for (uint32_t i = 0; i < ios; i++) {
        uint64_t lba = io_lba(req, i, per_io);
        uint32_t len = io_len(req, per_io, i);
        int rc = req->op == PORT_BLK_WRITE ? vm_fpstore_put(st, lba, len, fps)
                                           : vm_fpstore_get(st, lba, len, fps);
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
