/*
 * hostmem.h - host memory smaller than the guest: at most max_resident of
 * the guest's nr_frames frames are in host RAM, the others in slots of a
 * swap device.  The host reclaims with a clock (second-chance) evictor and
 * allocates swap slots in eviction order.  It implements the backing port
 * (models/ports/port_backing.h) that prefault policies read.
 *
 * Based on Linux:
 *   - the clock: mm/vmscan.c reclaims a page whose referenced ("young")
 *     bit is clear and gives a referenced one a second chance, clearing
 *     the bit (folio_referenced() -> ptep_clear_flush_young(), which for a
 *     guest is the EPT accessed bit, KVM's kvm_age_gfn()).  One hand over
 *     a ring of the resident frames stands for the active/inactive lists.
 *   - slots: mm/swapfile.c scan_swap_map_slots() hands out the next free
 *     slot going up from a cursor (wrapping), so pages evicted together
 *     sit in neighbouring slots and readahead of neighbouring slots
 *     (swap_cluster_readahead) finds them.  Per-CPU clusters are not
 *     modelled: there is one cursor.
 *   - the swap cache: a page read back from swap keeps its slot while it
 *     stays clean, so evicting it again writes nothing
 *     (mm/swap_state.c, add_to_swap_cache); a write frees the slot
 *     (mm/memory.c do_swap_page(): should_try_to_free_swap() on a write
 *     fault; here on every write the caller reports), and the next
 *     eviction writes the page to a new slot at the cursor.
 *
 * A frame is in one of three states: resident with no slot (dirty: its
 * only copy is in RAM; also a first-touched frame), resident with a slot
 * (clean, in the swap cache), or absent (with a slot: swapped out; with no
 * slot: never touched, a first touch reads nothing).  All frames start
 * absent and never touched; hostmem_preload() puts a frame in swap as a
 * host that swapped it out earlier would.
 *
 * Prefetch protection.  A frame admitted as a prefetch (not the faulting
 * one) is marked "prefetched, not yet used" until the caller reports its
 * first use (hostmem_use()).  While a batch is admitted, the evictor never
 * takes a frame of the same batch, and never takes a prefetched-unused
 * frame to make room for a prefetch: a prefetch may not push out what a
 * prefetch brought and the guest has not used yet.  The faulting frame
 * itself may evict an old unused prefetch (demand paging must proceed;
 * counted as prefetch_wasted).  hostmem_room() says how many prefetched
 * frames can be admitted without that, so the world trims a prefetch
 * rather than thrash.
 *
 * The prefetch cap.  Protection alone inverts LRU priority: unused
 * prefetches could fill memory while prefetch admissions evict the
 * guest's referenced working set.  Linux puts readahead folios
 * unreferenced on the inactive LRU, whose target size is bounded by
 * mm/vmscan.c inactive_is_low(): inactive:active = 1:inactive_ratio with
 * inactive_ratio = int_sqrt(10 * size in GiB), 1 below 1 GiB.  Here at
 * most prefetch_cap = max_resident / (1 + inactive_ratio) frames are
 * prefetched-unused at any time (the ratio from the host memory size,
 * max_resident * HOSTMEM_PAGE_BYTES, unless the config gives one); a
 * prefetch past the cap is refused (prefetch_capped), and hostmem_room()
 * counts the cap.  Linux applies the ratio to each LRU's own size; here
 * the whole host memory is one LRU.  Demand admissions are never capped.
 *
 * Costs are not charged here: hostmem_admit() reports which frames to
 * read from which slots, which frames were evicted, and which evictions
 * need a write to which slot; the world issues the I/O (grouped into
 * runs of neighbouring slots, hostmem_io_run()) and charges the time.
 *
 * I/O in flight.  The model changes state at once; the world's reads and
 * writes take time, and other vCPUs fault meanwhile.  A frame whose read
 * is still in flight must not be evicted: hostmem_lock() it right after
 * hostmem_admit() (no other actor runs in between) and hostmem_unlock()
 * it when the read completes, as Linux keeps a page locked under I/O and
 * reclaim passes it over.  An evicted frame's write may still be in
 * flight when the guest faults on it again: the world orders that read
 * of the slot after the write (Linux finds the page in the swap cache
 * under writeback).
 *
 * Memory: 9 bytes per frame (state, slot, ring position), 4 per slot
 * (frame), 4 bytes and 1 bit per resident frame (the clock ring, the map
 * of unprotected ring positions), 1 bit per slot (free map); nothing is
 * allocated after hostmem_new() (hostmem_check() takes a bitmap of the
 * frames while it runs).  Frame and slot numbers are below
 * 2^32 - 1 (16 TiB of 4 KiB pages).
 *
 * Reclaim: who makes room, and when (cfg.reclaim).
 *   memcg   (the default) max_resident is a hard limit, as a memory
 *           cgroup's memory.max: an admission that finds no free frame
 *           evicts one itself (mm/memcontrol.c try_charge() reclaims in
 *           the charging task) and its caller waits for the write-back of
 *           the dirty ones.  No frame is ever under write-back here: the
 *           evicted frame's place is the new frame's.  That wait on the
 *           evicted page is cgroup v1's (shrink_folio_list() waits on a
 *           folio under write-back when !writeback_throttling_sane());
 *           cgroup v2 and global direct reclaim start the write-back and
 *           go on reclaiming other pages, throttling the charger for at
 *           most HZ/10 (reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK)): not
 *           modelled.
 *   kswapd  max_resident is the host's RAM, with Linux's zone watermarks
 *           min < low < high (hostmem_wmarks_calc()).  An admission takes
 *           a free frame while more than min are free (the allocator's
 *           fast path checks low, its slow path min: mm/page_alloc.c
 *           get_page_from_freelist, __alloc_pages_slowpath), so it evicts
 *           nothing and its caller waits for no write; a frame taken with
 *           low or fewer free asks to wake kswapd (wake_kswapd in the
 *           admission: wakeup_kswapd()); with min or fewer free it
 *           reclaims directly, as under memcg (direct reclaim,
 *           __alloc_pages_direct_reclaim).  kswapd is the caller's actor:
 *           hostmem_kswapd() evicts a batch (SWAP_CLUSTER_MAX = 32 from
 *           the caller) by the clock; a clean frame is free at once, a
 *           dirty one gets its slot and is under write-back, neither
 *           resident nor free, until the caller's write of it ends
 *           (hostmem_writeback_end(); shrink_folio_list() starts
 *           pageout(), and Linux frees the folio on a later reclaim pass,
 *           folio_end_writeback() having moved it to the inactive list's
 *           tail, at once only on SWP_SYNCHRONOUS_IO devices: here it is
 *           free when the write ends).
 *           kswapd reclaims until free plus under write-back reaches high
 *           (mm/vmscan.c balance_pgdat() stops at the high watermark;
 *           counting the frames under write-back toward it is this
 *           model's, an under-approximation: pgdat_balanced() counts free
 *           pages only, so Linux's kswapd evicts and writes more, and
 *           throttles only on pages it finds under write-back).  kswapd
 *           never takes a pinned frame; it may take a prefetched-unused
 *           one (an unreferenced page on Linux's inactive list, reclaim's
 *           first choice; counted as prefetch_wasted), but the frame that
 *           frees is owed to demand: an admission's prefetches take a
 *           free frame only while more than min plus the owed ones are
 *           free, the faulting frame takes an owed one first
 *           (hostmem_nr_owed()).  So no prefetch ever gets the frame of
 *           an unused prefetch, directly or through kswapd; the audit
 *           counts a prefetch that took an owed frame as a violation.
 *           This rule, like the prefetch protection above, is the
 *           simulator's, not Linux's (swap readahead allocates from the
 *           shared free lists, and a page kswapd frees is anyone's): it
 *           keeps the invariant "a prefetch never evicts an unused
 *           prefetch" meaningful under kswapd, and it favours the
 *           readahead policies.
 *   Simplified from Linux: one zone and one node (one kswapd, no
 *   lowmem_reserve, no watermark boosting, no kcompactd), order-0 pages
 *   only, direct reclaim takes one frame per frame needed (Linux reclaims
 *   SWAP_CLUSTER_MAX and may lose them to others), kswapd's scan costs no
 *   time, gives up when every resident frame is pinned until the next
 *   wake (Linux counts kswapd_failures), and a frame under write-back is
 *   gone from the guest's view (Linux's swap cache would give it back on a
 *   fault; here the fault reads the slot after the write).
 *
 * Not modelled: the active/inactive split and its balancing (only its
 * bound on unused prefetches, above), memory
 * cgroups' own accounting, file pages, swap-cache trimming when swap fills
 * (vm_swap_full(); swap here is at least as large as the guest, so it
 * never fills), and the CPU time of reclaim itself.
 */
#ifndef HOSTMEM_H
#define HOSTMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "base/vm_err.h"
#include "ports/port_backing.h"

#define HOSTMEM_NONE PORT_BACKING_NONE     /* no slot / no frame */
#define HOSTMEM_MAX_BATCH 1024             /* most frames one admission takes */
#define HOSTMEM_MAX_FRAMES 0xfffffffeull   /* frame and slot numbers fit 32 bits */
#define HOSTMEM_PAGE_BYTES 4096u           /* a frame, for the host memory size */
#define HOSTMEM_KSWAPD_BATCH 32u           /* SWAP_CLUSTER_MAX (include/linux/swap.h) */
#define HOSTMEM_WMARK_SCALE_DEFAULT 10u    /* vm.watermark_scale_factor's default */
#define HOSTMEM_WMARK_SCALE_MAX 3000u      /* its sysctl's ceiling (mm/page_alloc.c) */

/* Who reclaims (see "Reclaim" above). */
enum hostmem_reclaim { HOSTMEM_RECLAIM_MEMCG = 0, HOSTMEM_RECLAIM_KSWAPD = 1 };

/* Zone watermarks in frames (mm/page_alloc.c, __setup_per_zone_wmarks):
 * fewer than low free wakes kswapd, it stops at high, min or fewer free
 * makes an allocation reclaim directly.  All 0 under memcg. */
struct hostmem_wmarks {
    uint64_t min, low, high;
};

/*
 * Read and clear the referenced bit of a resident frame; return the value
 * it had.  In the simulator this is the EPT accessed bit of the frame's
 * line in sim_mem; in tests a bitmap.  Called by the evictor only, for
 * resident frames, at most twice per resident frame per eviction.
 */
typedef bool (*hostmem_young_fn)(void *data, uint64_t frame);

struct hostmem_cfg {
    uint64_t nr_frames;          /* guest frames, 1..HOSTMEM_MAX_FRAMES */
    uint64_t max_resident;       /* most frames in host RAM, 1..nr_frames */
    uint64_t nr_slots;           /* swap slots; 0 = nr_frames; else >= nr_frames */
    uint32_t inactive_ratio;     /* inactive:active = 1:inactive_ratio, which caps
                                  * prefetched-unused frames at max_resident /
                                  * (1 + inactive_ratio); 0 = Linux's ratio for
                                  * max_resident * HOSTMEM_PAGE_BYTES of host
                                  * memory (hostmem_inactive_ratio()) */
    int reclaim;                 /* enum hostmem_reclaim; 0 = memcg */
    uint64_t min_free_kbytes;    /* kswapd: vm.min_free_kbytes; 0 = Linux's
                                  * default for max_resident frames
                                  * (hostmem_min_free_kbytes()) */
    uint32_t watermark_scale_factor; /* kswapd: 1..HOSTMEM_WMARK_SCALE_MAX;
                                  * 0 = Linux's default, 10 */
};

/* One page to move: a frame and the slot it is read from or written to. */
struct hostmem_io {
    uint64_t frame;
    uint64_t slot;
};

/* What one admission did; the caller owns it (about 40 KiB: keep it off
 * small actor stacks). */
struct hostmem_admission {
    uint32_t nr_admitted;        /* frames[0..nr_admitted) are now resident */
    uint32_t nr_reads;           /* admitted frames whose content is in a slot */
    struct hostmem_io reads[HOSTMEM_MAX_BATCH];    /* in admission order */
    uint32_t nr_evicted;         /* frames made absent, in eviction order */
    uint64_t evicted[HOSTMEM_MAX_BATCH];
    uint32_t nr_writes;          /* evictions that must be written (no slot) */
    struct hostmem_io writes[HOSTMEM_MAX_BATCH];   /* in eviction order: slots
                                  * were taken from the cursor going up, so
                                  * mostly ascending and contiguous */
    bool demand_evict;           /* evicted[0] made room for the faulting frame
                                  * (the others for prefetches) */
    bool wake_kswapd;            /* kswapd: a frame was taken with low or fewer
                                  * free: the caller wakes its kswapd */
};

struct hostmem_stats {
    uint64_t admitted;           /* frames made resident */
    uint64_t demand;             /* of which faulting frames (frames[0]) */
    uint64_t prefetched;         /* of which prefetched frames */
    uint64_t first_touch;        /* admitted with no slot: nothing to read */
    uint64_t reads;              /* admitted from a slot */
    uint64_t evictions;          /* frames evicted */
    uint64_t writes;             /* evictions written to a new slot */
    uint64_t clean_evictions;    /* evictions of swap-cache frames: no write */
    uint64_t second_chances;     /* referenced frames passed over (bit cleared) */
    uint64_t protected_skips;    /* protected frames the hand passed over */
    uint64_t prefetch_hits;      /* hostmem_use() of a prefetched-unused frame */
    uint64_t prefetch_wasted;    /* prefetched frames evicted before any use */
    uint64_t prefetch_refused;   /* prefetched frames admit() refused (no room) */
    uint64_t prefetch_capped;    /* prefetched frames admit() refused at the cap */
    uint64_t slots_freed;        /* swap-cache slots freed by a write */
    uint64_t busy;               /* admissions refused: every frame pinned */
    uint64_t violations;         /* evictions that broke the protection rules */
    uint64_t direct_evictions;   /* evictions by admissions (memcg: all) */
    uint64_t kswapd_evictions;   /* evictions by hostmem_kswapd() */
    uint64_t kswapd_writes;      /* of which dirty: under write-back */
    uint64_t kswapd_wakes;       /* admissions that asked to wake kswapd */
};

struct hostmem;

/*
 * Create host memory for cfg; young(young_data, frame) reads and clears a
 * frame's referenced bit (young_data is the caller's, never touched).
 * 0, or VM_EINVAL (bad cfg, message in d) or VM_ENOMEM.  *out is the
 * caller's until hostmem_free().
 */
int hostmem_new(const struct hostmem_cfg *cfg, hostmem_young_fn young, void *young_data,
                struct hostmem **out, struct vm_diag *d);
void hostmem_free(struct hostmem *hm);

/* The backing port over this memory (valid until hostmem_free()). */
struct port_backing *hostmem_backing(struct hostmem *hm);

/*
 * Put an absent frame without a slot into swap, at the next free slot from
 * the cursor, as if the host had evicted it earlier (set up a run that
 * starts swapped out; preload in the order the pages left).  0, VM_EINVAL
 * for a frame out of range, resident, or already in swap.
 */
int hostmem_preload(struct hostmem *hm, uint64_t frame);

/*
 * Linux's inactive_ratio for an LRU of size_bytes (mm/vmscan.c
 * inactive_is_low()): int_sqrt(10 * whole GiB), or 1 below 1 GiB.
 * 512 MiB: 1; 4 GiB: 6; 64 GiB: 25.
 */
uint32_t hostmem_inactive_ratio(uint64_t size_bytes);

/*
 * vm.min_free_kbytes's default for lowmem_kbytes of memory
 * (mm/page_alloc.c calculate_min_free_kbytes()): int_sqrt(lowmem_kbytes
 * * 16), clamped to 128..262144.  4 MiB: 259; 64 MiB: 1024; 1 GiB: 4096.
 */
uint64_t hostmem_min_free_kbytes(uint64_t lowmem_kbytes);

/*
 * The watermarks of one zone of `managed` frames (mm/page_alloc.c
 * __setup_per_zone_wmarks()): min = min_free_kbytes / 4 (frames of 4 KiB;
 * 0: hostmem_min_free_kbytes(managed * 4)), gap = max(min / 4, managed *
 * scale_factor / 10000) (0: 10), low = min + gap, high = min + 2 * gap.
 * 1054 frames (4.1 MiB): 64, 80, 96; 9086 frames (35.5 MiB): 190, 237, 284.
 */
void hostmem_wmarks_calc(uint64_t managed, uint64_t min_free_kbytes, uint32_t scale_factor,
                         struct hostmem_wmarks *out);
const struct hostmem_wmarks *hostmem_wmarks(const struct hostmem *hm);

/* Free frames: max_resident minus resident minus under write-back (memcg:
 * never under write-back); frames under kswapd's write-back. */
uint64_t hostmem_nr_free(const struct hostmem *hm);
uint64_t hostmem_nr_writeback(const struct hostmem *hm);

/* Free or under write-back frames kswapd took from unused prefetches,
 * which only a faulting frame may take (0 under memcg). */
uint64_t hostmem_nr_owed(const struct hostmem *hm);

/*
 * kswapd's batch: evict up to max frames (at most HOSTMEM_MAX_BATCH; the
 * caller passes HOSTMEM_KSWAPD_BATCH) while free plus under write-back is
 * below high, by the clock, never a pinned frame (an unused prefetch's
 * frame is owed to demand, see "Reclaim").
 * out lists the evicted frames and the writes (nr_admitted 0); each
 * written frame stays under write-back until hostmem_writeback_end().
 * Returns the number evicted: 0 when balanced, when every resident frame
 * is pinned, or under memcg.
 */
uint32_t hostmem_kswapd(struct hostmem *hm, uint32_t max, struct hostmem_admission *out);

/* n frames' write-back ended: they are free.  0, or VM_EINVAL when fewer
 * than n are under write-back. */
int hostmem_writeback_end(struct hostmem *hm, uint64_t n);

/* The most prefetched-unused frames: max_resident / (1 + inactive_ratio),
 * fixed at hostmem_new(); and how many there are now (<= the cap). */
uint64_t hostmem_prefetch_cap(const struct hostmem *hm);
uint64_t hostmem_nr_prefetched(const struct hostmem *hm);

/*
 * How many frames an admission can take now, the faulting frame
 * included, without evicting a prefetched-unused frame or passing the
 * prefetch cap: the smaller of
 *   the free frames above min and the owed ones plus the resident
 *     frames not protected
 *     (prefetched-unused, locked) (memcg: max_resident minus the
 *     protected frames),
 *   1 + (prefetch_cap - prefetched-unused): the faulting frame always
 *     counts as admissible, and the prefetches may fill the cap.
 * So a batch of at most max(hostmem_room(), 1) frames is never trimmed by
 * hostmem_admit(): trim the prefetch to that before issuing its reads.
 */
uint64_t hostmem_room(const struct hostmem *hm);

/*
 * Admit a fetch batch: frames[0] is the faulting frame (demand), the
 * others prefetched, in the order the caller prefers them.  Each must be
 * a frame below nr_frames, absent, and not repeated; n is 1..
 * HOSTMEM_MAX_BATCH.  Frames are made resident in order, each evicting
 * one frame when no more than min frames are free (memcg: when memory is
 * full; clock, with the protection above); a
 * prefetched frame that would pass the prefetch cap is refused, and so
 * are the ones after it (counted in prefetch_capped); else a prefetched
 * frame that would need to evict a prefetched-unused frame is refused,
 * and so are the ones after it (counted in prefetch_refused).
 * out says what to read, what was evicted and what to write.
 * 0 (out->nr_admitted >= 1), VM_EINVAL (bad n or frames), or VM_EBUSY
 * (memory is full and every frame is locked: wait for an unlock and try
 * again); after an error nothing changed and out->nr_admitted = 0.
 */
int hostmem_admit(struct hostmem *hm, const uint64_t *frames, uint32_t n,
                  struct hostmem_admission *out);

/*
 * Pin a resident frame while its I/O is in flight: no eviction takes it
 * (and hostmem_room() does not count it).  0, or VM_EINVAL for a frame
 * out of range, not resident, or locked already.  hostmem_unlock(): 0,
 * or VM_EINVAL when the frame is not locked.
 */
int hostmem_lock(struct hostmem *hm, uint64_t frame);
int hostmem_unlock(struct hostmem *hm, uint64_t frame);

/*
 * The guest used a resident frame (the caller calls it at least on the
 * first access after admission; it is one byte test).  Returns true when
 * the frame was a prefetched-unused one: a prefetch hit, which the
 * caller reports to the policy.  Frames not resident: false.
 */
bool hostmem_use(struct hostmem *hm, uint64_t frame);

/*
 * The guest wrote a resident frame: it loses its swap-cache slot, if it
 * had one (the slot is freed), so its next eviction writes.  Also a use.
 * 0, or VM_EINVAL for a frame out of range or not resident.
 */
int hostmem_write(struct hostmem *hm, uint64_t frame);

/* Whether a faulting frame can be admitted now: memory has more than min
 * free frames (memcg: one) or a resident frame that is neither locked nor
 * in an admission.  When not, the fault waits for a read or a write-back
 * to complete. */
bool hostmem_can_admit(const struct hostmem *hm);

/* Frame state. */
bool hostmem_is_resident(const struct hostmem *hm, uint64_t frame);
bool hostmem_is_prefetched(const struct hostmem *hm, uint64_t frame);  /* and unused */
uint64_t hostmem_slot_of(const struct hostmem *hm, uint64_t frame);    /* HOSTMEM_NONE */
uint64_t hostmem_nr_resident(const struct hostmem *hm);
const struct hostmem_stats *hostmem_stats(const struct hostmem *hm);

/*
 * Check every invariant: resident count == ring fill, fill plus under
 * write-back <= max_resident (none under write-back under memcg),
 * each ring entry a distinct resident frame, slot_of and frame_of
 * inverse, the free-slot map matching them, the protected and
 * prefetched counts matching the marks, prefetched-unused <= the cap.  Returns the number of structural violations found
 * now plus the protection violations counted at eviction time (stats
 * violations).  O(nr_frames + nr_slots): for tests and end-of-run checks.
 */
uint64_t hostmem_check(const struct hostmem *hm);

/*
 * Test-only mutation: when broken, the evictor ignores prefetch and batch
 * protection, and a prefetch takes owed frames (not the prefetch cap,
 * which is not the evictor's choice),
 * so hostmem_check() must report violations.  Never set
 * outside tests of the checker.
 */
void hostmem_test_break_evictor(struct hostmem *hm, bool broken);

/*
 * Sort n I/Os by slot (in place).  Then hostmem_io_run(io, n, i) returns
 * how many I/Os from i on have consecutive slots: one device request
 * each run.
 */
void hostmem_io_sort(struct hostmem_io *io, uint32_t n);
uint32_t hostmem_io_run(const struct hostmem_io *io, uint32_t n, uint32_t i);

#endif
