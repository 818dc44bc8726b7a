/*
 * guest_buddy.h - the guest kernel's physical page allocator: a binary
 * buddy allocator over guest frames (Linux mm/page_alloc.c in shape: free
 * blocks of 2^order frames, orders 0..GUEST_BUDDY_MAX_ORDER, a block is
 * split on allocation and merged with its buddy on free), plus a model of
 * how a guest ages.
 *
 * Placement.  A block is taken from the lowest order that has one, at the
 * first free block at or after the frame that follows the previous
 * allocation (wrapping).  On a freshly booted guest, whose memory is a few
 * large free blocks, consecutive allocations therefore get consecutive
 * frames, as splitting a large block does in Linux.
 *
 * Aging.  `aging` in [0, 1] is the fraction of guest memory that the page
 * cache holds when the workload starts: at creation those frames are
 * allocated and put on an LRU list in an order unrelated to their
 * addresses (a seeded permutation), as a guest's cache fills over time.
 * When no free block is left, the allocator reclaims the least recently
 * used cached frames in batches of GUEST_BUDDY_RECLAIM_BATCH (Linux
 * SWAP_CLUSTER_MAX) and allocates from them, so an aged guest hands out
 * scattered frames.  aging 0 is a fresh boot (all of memory in large free
 * blocks), aging 1 a guest whose whole memory is cache.  The result is
 * measured by guest_pt_frag() (mean length of runs contiguous in both
 * guest-virtual and guest-physical space), not assumed from the parameter.
 *
 * Not modelled: zones, migrate types, per-CPU lists, compaction, the
 * dirty/writeback state of reclaimed cache pages (reclaim costs nothing).
 *
 * Memory: about 2 bits of bitmap per frame, plus 4 bytes per cached frame
 * until the cache is reclaimed.  Frame numbers are below 2^32 (16 TiB).
 */
#ifndef GUEST_BUDDY_H
#define GUEST_BUDDY_H

#include <stdint.h>

#include "base/vm_err.h"

#define GUEST_BUDDY_MAX_ORDER 10        /* 4 MiB blocks, Linux MAX_PAGE_ORDER */
#define GUEST_BUDDY_RECLAIM_BATCH 32    /* frames reclaimed at a time */
#define GUEST_BUDDY_MAX_FRAMES (1ull << 32)

struct guest_buddy;

struct guest_buddy_stats {
    uint64_t nr_frames;           /* managed frames */
    uint64_t free_frames;         /* in free blocks */
    uint64_t cached_frames;       /* held by the page cache (reclaimable) */
    uint64_t reclaimed_frames;    /* taken back from the cache so far */
    uint64_t free_blocks[GUEST_BUDDY_MAX_ORDER + 1];  /* per order */
};

/*
 * A buddy allocator for nr_frames frames (1 .. GUEST_BUDDY_MAX_FRAMES),
 * aged by `aging` (0..1) with a permutation drawn from (seed, stream 0x6275).
 * 0, VM_EINVAL (bad size or aging, message in d) or VM_ENOMEM.
 * The allocator is the caller's; free it with guest_buddy_free_all().
 */
int guest_buddy_new(uint64_t nr_frames, double aging, uint64_t seed,
                    struct guest_buddy **out, struct vm_diag *d);
void guest_buddy_free_all(struct guest_buddy *b);

/*
 * Allocate a block of 2^order frames aligned to its size, reclaiming
 * cache if needed.  0 and *frame = its first frame; VM_EINVAL for an order
 * above GUEST_BUDDY_MAX_ORDER; VM_ENOSPC when neither free memory nor
 * cache can make such a block (the guest is out of memory).
 */
int guest_buddy_alloc(struct guest_buddy *b, unsigned order, uint64_t *frame);
/* Give back a block that guest_buddy_alloc() returned, with its order;
 * it merges with free buddies. */
void guest_buddy_free(struct guest_buddy *b, uint64_t frame, unsigned order);
/* Whether the frame lies in a free block (a test aid: O(orders)). */
int guest_buddy_is_free(const struct guest_buddy *b, uint64_t frame);

void guest_buddy_get_stats(const struct guest_buddy *b, struct guest_buddy_stats *st);

#endif
