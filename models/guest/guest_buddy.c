/*
 * guest_buddy.c - binary buddy allocator over guest frames, with the page
 * cache of an aged guest (see guest_buddy.h for the model).
 *
 * Each order keeps a bitmap of its free blocks (bit b: frames
 * [b << order, (b + 1) << order) form a free block of that order) and a
 * summary bitmap with one bit per non-zero word, so that finding the next
 * free block costs two word scans instead of a walk over the whole map.
 * That keeps the allocator at about 2 bits per frame, where Linux's free
 * lists would cost 16 bytes per frame in struct page.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/vm_bitmap.h"
#include "base/vm_rand.h"
#include "guest/guest_buddy.h"

#define NR_ORDERS (GUEST_BUDDY_MAX_ORDER + 1)

struct order_map {
    uint64_t *bits;              /* one bit per block of this order */
    uint64_t *sum;               /* one bit per non-zero word of bits */
    uint64_t nr_blocks;          /* nr_frames >> order */
    uint64_t nr_free;            /* set bits */
};

struct guest_buddy {
    uint64_t nr_frames;
    uint64_t next;               /* frame after the previous allocation */
    uint64_t free_frames;
    struct order_map o[NR_ORDERS];
    uint32_t *lru;               /* cached frames, least recently used first */
    uint64_t nr_cached, lru_head;
    uint64_t reclaimed;
};

static void map_set(struct order_map *m, uint64_t b)
{
    vm_bitmap_set(m->bits, b);
    vm_bitmap_set(m->sum, b >> 6);
    m->nr_free++;
}

static void map_clear(struct order_map *m, uint64_t b)
{
    vm_bitmap_clear(m->bits, b);
    if (m->bits[b >> 6] == 0)
        vm_bitmap_clear(m->sum, b >> 6);
    m->nr_free--;
}

/* First set bit at or after `from`, wrapping to 0; the map is not empty. */
static uint64_t map_find(const struct order_map *m, uint64_t from)
{
    uint64_t nw = VM_BITMAP_WORDS(m->nr_blocks);
    if (from >= m->nr_blocks)
        from = 0;
    uint64_t w = from >> 6;
    uint64_t word = m->bits[w] & (~0ull << (from & 63));
    if (word)
        return (w << 6) + (uint64_t)__builtin_ctzll(word);
    uint64_t sw = vm_bitmap_next_set(m->sum, nw, w + 1);
    if (sw == nw)
        sw = vm_bitmap_next_set(m->sum, nw, 0);
    assert(sw < nw && "map_find() is only called on a map with a free block");
    return (sw << 6) + (uint64_t)__builtin_ctzll(m->bits[sw]);
}

static void free_block(struct guest_buddy *b, uint64_t frame, unsigned order)
{
    b->free_frames += 1ull << order;
    uint64_t blk = frame >> order;
    while (order < GUEST_BUDDY_MAX_ORDER) {
        struct order_map *m = &b->o[order];
        uint64_t buddy = blk ^ 1;
        if (buddy >= m->nr_blocks || !vm_bitmap_test(m->bits, buddy))
            break;
        map_clear(m, buddy);
        blk >>= 1;
        order++;
    }
    map_set(&b->o[order], blk);
}

/* Reclaim up to one batch of cached frames; false when the cache is empty. */
static bool reclaim(struct guest_buddy *b)
{
    if (b->lru_head == b->nr_cached)
        return false;
    for (int i = 0; i < GUEST_BUDDY_RECLAIM_BATCH && b->lru_head < b->nr_cached; i++) {
        free_block(b, b->lru[b->lru_head++], 0);
        b->reclaimed++;
    }
    if (b->lru_head == b->nr_cached) {   /* drained: give its memory back */
        free(b->lru);
        b->lru = NULL;
        b->nr_cached = b->lru_head = 0;
    }
    return true;
}

int guest_buddy_alloc(struct guest_buddy *b, unsigned order, uint64_t *frame)
{
    if (order > GUEST_BUDDY_MAX_ORDER)
        return VM_EINVAL;
    for (;;) {
        for (unsigned o = order; o < NR_ORDERS; o++) {
            struct order_map *m = &b->o[o];
            if (m->nr_free == 0)
                continue;
            uint64_t blk = map_find(m, b->next >> o);
            map_clear(m, blk);
            uint64_t f = blk << o;
            while (o > order) {          /* split: keep the lower half */
                o--;
                map_set(&b->o[o], (f >> o) + 1);
            }
            b->free_frames -= 1ull << order;
            b->next = f + (1ull << order);
            *frame = f;
            return 0;
        }
        if (!reclaim(b))
            return VM_ENOSPC;
    }
}

void guest_buddy_free(struct guest_buddy *b, uint64_t frame, unsigned order)
{
    free_block(b, frame, order);
}

int guest_buddy_is_free(const struct guest_buddy *b, uint64_t frame)
{
    for (unsigned o = 0; o < NR_ORDERS; o++) {
        uint64_t blk = frame >> o;
        if (blk < b->o[o].nr_blocks && vm_bitmap_test(b->o[o].bits, blk))
            return 1;
    }
    return 0;
}

void guest_buddy_get_stats(const struct guest_buddy *b, struct guest_buddy_stats *st)
{
    st->nr_frames = b->nr_frames;
    st->free_frames = b->free_frames;
    st->cached_frames = b->nr_cached - b->lru_head;
    st->reclaimed_frames = b->reclaimed;
    for (unsigned o = 0; o < NR_ORDERS; o++)
        st->free_blocks[o] = b->o[o].nr_free;
}

void guest_buddy_free_all(struct guest_buddy *b)
{
    if (!b)
        return;
    for (unsigned o = 0; o < NR_ORDERS; o++) {
        free(b->o[o].bits);
        free(b->o[o].sum);
    }
    free(b->lru);
    free(b);
}

int guest_buddy_new(uint64_t nr_frames, double aging, uint64_t seed,
                    struct guest_buddy **out, struct vm_diag *d)
{
    *out = NULL;
    if (nr_frames == 0 || nr_frames > GUEST_BUDDY_MAX_FRAMES)
        return vm_diag_set(d, VM_EINVAL, "guest of %llu frames: expected 1 to 2^32 frames",
                           (unsigned long long)nr_frames);
    if (!(aging >= 0.0 && aging <= 1.0))
        return vm_diag_set(d, VM_EINVAL, "'aging' %g: expected a number in [0, 1]", aging);
    struct guest_buddy *b = calloc(1, sizeof *b);
    if (!b)
        return VM_ENOMEM;
    b->nr_frames = nr_frames;
    for (unsigned o = 0; o < NR_ORDERS; o++) {
        struct order_map *m = &b->o[o];
        m->nr_blocks = nr_frames >> o;
        m->bits = vm_bitmap_new(m->nr_blocks ? m->nr_blocks : 1);
        m->sum = vm_bitmap_new(VM_BITMAP_WORDS(m->nr_blocks) + 1);
        if (!m->bits || !m->sum) {
            guest_buddy_free_all(b);
            return VM_ENOMEM;
        }
    }
    if (aging == 0.0) {
        /* A fresh boot: memory in the largest aligned blocks that fit. */
        for (uint64_t f = 0; f < nr_frames;) {
            unsigned o = GUEST_BUDDY_MAX_ORDER;
            while (o > 0 && ((f & ((1ull << o) - 1)) || f + (1ull << o) > nr_frames))
                o--;
            map_set(&b->o[o], f >> o);
            b->free_frames += 1ull << o;
            f += 1ull << o;
        }
        *out = b;
        return 0;
    }
    /* Aged: each frame is cached with probability `aging`; the others are
     * freed in address order, merging as they go.  The LRU order of the
     * cached frames is a permutation unrelated to their addresses. */
    struct vm_rand r;
    vm_rand_init(&r, seed, 0x6275);
    uint64_t expect = (uint64_t)(aging * (double)nr_frames) + 64;
    b->lru = malloc((expect < nr_frames ? expect : nr_frames) * sizeof *b->lru);
    uint64_t cap = expect < nr_frames ? expect : nr_frames;
    if (!b->lru) {
        guest_buddy_free_all(b);
        return VM_ENOMEM;
    }
    for (uint64_t f = 0; f < nr_frames; f++) {
        if (vm_rand_double(&r) < aging) {
            if (b->nr_cached == cap) {
                uint64_t ncap = cap * 2 < nr_frames ? cap * 2 : nr_frames;
                uint32_t *n = realloc(b->lru, ncap * sizeof *n);
                if (!n) {
                    guest_buddy_free_all(b);
                    return VM_ENOMEM;
                }
                b->lru = n;
                cap = ncap;
            }
            b->lru[b->nr_cached++] = (uint32_t)f;
        } else {
            free_block(b, f, 0);
        }
    }
    for (uint64_t i = b->nr_cached; i > 1; i--) {   /* Fisher-Yates */
        uint64_t j = vm_rand_below(&r, i);
        uint32_t t = b->lru[i - 1];
        b->lru[i - 1] = b->lru[j];
        b->lru[j] = t;
    }
    if (b->nr_cached == 0) {
        free(b->lru);
        b->lru = NULL;
    }
    *out = b;
    return 0;
}
