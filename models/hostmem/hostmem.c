/*
 * hostmem.c - host memory with swap: a clock (second-chance) evictor over
 * the resident guest frames, swap slots taken in eviction order, a swap
 * cache, protection of prefetched frames not yet used, a cap on their
 * number, and reclaim by memcg or by kswapd between zone watermarks (see
 * hostmem.h; Linux's sizing arithmetic is in hostmem_linux.c).
 *
 * Sources: Linux mm/vmscan.c (reclaim of unreferenced pages, a second
 * chance for referenced ones), mm/swapfile.c scan_swap_map_slots() (the
 * next free slot going up from si->cluster_next, wrapping), mm/memory.c
 * do_swap_page() and mm/swap_state.c (a swapped-in page stays in the swap
 * cache, keeping its slot, until written), mm/vmscan.c inactive_is_low()
 * (the inactive list's share, which bounds the prefetched-unused frames),
 * mm/page_alloc.c (the watermarks an allocation checks) and mm/vmscan.c
 * balance_pgdat()/shrink_folio_list() (kswapd's batches, freed when their
 * write-back ends).
 *
 * kswapd's evictions leave holes in the ring: the last position's frame
 * moves into the hole (ring_remove), and later admissions append.
 *
 * The clock is a ring of the resident frames and one hand.  While memory
 * fills, a new frame is appended; once it is full, the new frame takes
 * the evicted frame's place in the ring, just behind the hand, so it is
 * the last the hand visits again (the classic CLOCK insertion).
 *
 * Each eviction is audited apart from the choice that made it: the
 * audit counts an eviction of a frame of the batch being admitted or of
 * a locked one, or of a prefetched-unused frame to make room for a
 * prefetch, as a violation.
 * The test-only mutation (hostmem_test_break_evictor) changes only the
 * choice, so the audit and hostmem_check() must catch it.
 */
#include "hostmem/hostmem.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"

#define NONE32 UINT32_MAX

enum {                           /* state[] bits */
    ST_RESIDENT = 1u << 0,
    ST_PREFETCHED = 1u << 1,     /* admitted as a prefetch, not used since */
    ST_BATCH = 1u << 2,          /* admitted by the admission in progress */
    ST_SEEN = 1u << 3,           /* admit()'s duplicate check, cleared at once */
    ST_LOCKED = 1u << 4,         /* under I/O: the caller's hostmem_lock() */
};
#define ST_PINNED (ST_BATCH | ST_LOCKED)                 /* no eviction may take it */
#define ST_PROTECTED (ST_PREFETCHED | ST_PINNED)         /* no prefetch may take it */

struct hostmem {
    struct port_backing base;    /* first: the port */
    uint64_t nr_frames, max_resident, nr_slots;
    hostmem_young_fn young;
    void *young_data;

    uint8_t *state;              /* per frame: ST_* */
    uint32_t *slot;              /* per frame: its slot, NONE32 */
    uint32_t *frame_of;          /* per slot: its frame, NONE32 when free */
    uint64_t *slot_used;         /* per slot: 1 = taken */
    uint32_t *ring;              /* the clock: resident frames, fill of them */
    uint32_t *pos_of;            /* per frame: its ring position while resident */
    uint64_t *open;              /* per ring position: its frame is unprotected */
    uint64_t *open_sum;          /* per word of open: it has a bit set */
    uint64_t fill, hand;
    uint64_t cursor;             /* where the next slot search starts */
    uint64_t nr_protected;       /* resident frames with ST_PROTECTED bits */
    uint64_t nr_pinned;          /* resident frames with ST_PINNED bits */
    uint64_t nr_prefetched;      /* resident frames with ST_PREFETCHED */
    uint64_t prefetch_cap;       /* most nr_prefetched: max_resident / (1 + ratio) */
    int reclaim;                 /* enum hostmem_reclaim */
    struct hostmem_wmarks wm;    /* all 0 under memcg */
    uint64_t nr_writeback;       /* frames evicted by kswapd, write-back not ended */
    uint64_t nr_owed;            /* free or under write-back frames kswapd took from
                                  * unused prefetches: demand's, never a prefetch's */
    bool broken;                 /* test-only mutation of the choice */
    struct hostmem_stats st;
};

/* ---- the backing port ---- */

static const struct hostmem *hm_of(const struct port_backing *b)
{
    return (const struct hostmem *)b;
}

static uint64_t port_nr_frames(const struct port_backing *b)
{
    return hm_of(b)->nr_frames;
}

static uint64_t port_nr_slots(const struct port_backing *b)
{
    return hm_of(b)->nr_slots;
}

static bool port_is_resident(const struct port_backing *b, uint64_t frame)
{
    return hostmem_is_resident(hm_of(b), frame);
}

static uint64_t port_slot_of(const struct port_backing *b, uint64_t frame)
{
    return hostmem_slot_of(hm_of(b), frame);
}

static uint64_t port_frame_of(const struct port_backing *b, uint64_t slot)
{
    const struct hostmem *hm = hm_of(b);
    if (slot >= hm->nr_slots || hm->frame_of[slot] == NONE32)
        return HOSTMEM_NONE;
    return hm->frame_of[slot];
}

static uint64_t port_room(const struct port_backing *b)
{
    return hostmem_room((const struct hostmem *)b);
}

static const struct port_backing_ops backing_ops = {
    .version = PORT_BACKING_VERSION,
    .name = "hostmem",
    .nr_frames = port_nr_frames,
    .nr_slots = port_nr_slots,
    .is_resident = port_is_resident,
    .slot_of = port_slot_of,
    .frame_of = port_frame_of,
    .room = port_room,
};

/* ---- lifetime ---- */

int hostmem_new(const struct hostmem_cfg *cfg, hostmem_young_fn young, void *young_data,
                struct hostmem **out, struct vm_diag *d)
{
    *out = NULL;
    if (cfg == NULL || young == NULL)
        return vm_diag_set(d, VM_EINVAL, "host memory: no config or no referenced-bit callback");
    uint64_t nr_slots = cfg->nr_slots ? cfg->nr_slots : cfg->nr_frames;
    if (cfg->nr_frames == 0 || cfg->nr_frames > HOSTMEM_MAX_FRAMES)
        return vm_diag_set(d, VM_EINVAL, "host memory: 'nr_frames' must be 1..%llu, got %llu",
                           (unsigned long long)HOSTMEM_MAX_FRAMES,
                           (unsigned long long)cfg->nr_frames);
    if (cfg->max_resident == 0 || cfg->max_resident > cfg->nr_frames)
        return vm_diag_set(d, VM_EINVAL, "host memory: 'max_resident' must be 1..%llu (the "
                           "guest's frames), got %llu", (unsigned long long)cfg->nr_frames,
                           (unsigned long long)cfg->max_resident);
    if (nr_slots < cfg->nr_frames || nr_slots > HOSTMEM_MAX_FRAMES)
        return vm_diag_set(d, VM_EINVAL, "host memory: 'nr_slots' must be %llu..%llu (swap at "
                           "least the guest's size), got %llu",
                           (unsigned long long)cfg->nr_frames,
                           (unsigned long long)HOSTMEM_MAX_FRAMES, (unsigned long long)nr_slots);

    struct hostmem *hm = calloc(1, sizeof(*hm));
    if (hm == NULL)
        return vm_diag_set(d, VM_ENOMEM, "host memory: out of memory");
    hm->base.ops = &backing_ops;
    hm->nr_frames = cfg->nr_frames;
    hm->max_resident = cfg->max_resident;
    hm->nr_slots = nr_slots;
    hm->young = young;
    hm->young_data = young_data;
    uint32_t ratio = cfg->inactive_ratio
        ? cfg->inactive_ratio
        : hostmem_inactive_ratio(cfg->max_resident * HOSTMEM_PAGE_BYTES);
    hm->prefetch_cap = cfg->max_resident / (1 + (uint64_t)ratio);
    hm->reclaim = cfg->reclaim;
    if (cfg->reclaim == HOSTMEM_RECLAIM_KSWAPD) {
        hostmem_wmarks_calc(cfg->max_resident, cfg->min_free_kbytes,
                            cfg->watermark_scale_factor, &hm->wm);
        if (hm->wm.high >= cfg->max_resident) {
            uint64_t high = hm->wm.high;
            free(hm);
            return vm_diag_set(d, VM_EINVAL, "host memory: kswapd's high watermark (%llu "
                               "pages) leaves nothing of the %llu pages of host memory: "
                               "lower min_free_kbytes or watermark_scale_factor",
                               (unsigned long long)high, (unsigned long long)cfg->max_resident);
        }
    } else if (cfg->reclaim != HOSTMEM_RECLAIM_MEMCG) {
        free(hm);
        return vm_diag_set(d, VM_EINVAL, "host memory: unknown reclaim %d", cfg->reclaim);
    }
    hm->state = calloc(hm->nr_frames, sizeof(*hm->state));
    hm->slot = malloc(hm->nr_frames * sizeof(*hm->slot));
    hm->frame_of = malloc(hm->nr_slots * sizeof(*hm->frame_of));
    hm->slot_used = vm_bitmap_new(hm->nr_slots);
    hm->ring = malloc(hm->max_resident * sizeof(*hm->ring));
    hm->pos_of = malloc(hm->nr_frames * sizeof(*hm->pos_of));
    hm->open = vm_bitmap_new(hm->max_resident);
    hm->open_sum = vm_bitmap_new(VM_BITMAP_WORDS(hm->max_resident));
    if (!hm->state || !hm->slot || !hm->frame_of || !hm->slot_used || !hm->ring ||
        !hm->pos_of || !hm->open || !hm->open_sum) {
        hostmem_free(hm);
        return vm_diag_set(d, VM_ENOMEM, "host memory: out of memory for %llu frames",
                           (unsigned long long)cfg->nr_frames);
    }
    memset(hm->slot, 0xff, hm->nr_frames * sizeof(*hm->slot));
    memset(hm->frame_of, 0xff, hm->nr_slots * sizeof(*hm->frame_of));
    *out = hm;
    return 0;
}

void hostmem_free(struct hostmem *hm)
{
    if (hm == NULL)
        return;
    free(hm->state);
    free(hm->slot);
    free(hm->frame_of);
    vm_bitmap_free(hm->slot_used);
    free(hm->ring);
    free(hm->pos_of);
    vm_bitmap_free(hm->open);
    vm_bitmap_free(hm->open_sum);
    free(hm);
}

struct port_backing *hostmem_backing(struct hostmem *hm)
{
    return &hm->base;
}

/* ---- state ---- */

bool hostmem_is_resident(const struct hostmem *hm, uint64_t frame)
{
    return frame < hm->nr_frames && (hm->state[frame] & ST_RESIDENT);
}

bool hostmem_is_prefetched(const struct hostmem *hm, uint64_t frame)
{
    return frame < hm->nr_frames && (hm->state[frame] & ST_PREFETCHED);
}

uint64_t hostmem_slot_of(const struct hostmem *hm, uint64_t frame)
{
    if (frame >= hm->nr_frames || hm->slot[frame] == NONE32)
        return HOSTMEM_NONE;
    return hm->slot[frame];
}

uint64_t hostmem_nr_resident(const struct hostmem *hm)
{
    return hm->fill;
}

const struct hostmem_stats *hostmem_stats(const struct hostmem *hm)
{
    return &hm->st;
}

void hostmem_test_break_evictor(struct hostmem *hm, bool broken)
{
    hm->broken = broken;
}

const struct hostmem_wmarks *hostmem_wmarks(const struct hostmem *hm)
{
    return &hm->wm;
}

uint64_t hostmem_nr_free(const struct hostmem *hm)
{
    return hm->max_resident - hm->fill - hm->nr_writeback;
}

uint64_t hostmem_nr_writeback(const struct hostmem *hm)
{
    return hm->nr_writeback;
}

uint64_t hostmem_nr_owed(const struct hostmem *hm)
{
    return hm->nr_owed;
}

uint64_t hostmem_prefetch_cap(const struct hostmem *hm)
{
    return hm->prefetch_cap;
}

uint64_t hostmem_nr_prefetched(const struct hostmem *hm)
{
    return hm->nr_prefetched;
}

uint64_t hostmem_room(const struct hostmem *hm)
{
    uint64_t free = hostmem_nr_free(hm);
    uint64_t floor = hm->wm.min + hm->nr_owed;   /* what prefetches may not take */
    uint64_t room = (free > floor ? free - floor : 0) + hm->fill - hm->nr_protected;
    assert(hm->nr_prefetched <= hm->prefetch_cap && "admit() refuses prefetches past the cap");
    uint64_t capped = 1 + (hm->prefetch_cap - hm->nr_prefetched);
    return room < capped ? room : capped;
}

/* Ring position pos in the map of unprotected positions (and its summary
 * word's bit) or out of it. */
static void mark_open(struct hostmem *hm, uint64_t pos, bool open)
{
    if (open) {
        vm_bitmap_set(hm->open, pos);
        vm_bitmap_set(hm->open_sum, pos >> 6);
    } else {
        vm_bitmap_clear(hm->open, pos);
        if (hm->open[pos >> 6] == 0)
            vm_bitmap_clear(hm->open_sum, pos >> 6);
    }
}

/* Change a frame's bits, keeping the protected counts and the open map
 * (a resident frame's ring position must be in pos_of). */
static void set_state(struct hostmem *hm, uint64_t frame, uint8_t st)
{
    uint8_t old = hm->state[frame];
    bool was = (old & ST_RESIDENT) && (old & ST_PROTECTED);
    bool is = (st & ST_RESIDENT) && (st & ST_PROTECTED);
    hm->nr_protected += (uint64_t)is - (uint64_t)was;
    if (st & ST_RESIDENT) {
        mark_open(hm, hm->pos_of[frame], !is);
    }
    bool was_p = (old & ST_RESIDENT) && (old & ST_PINNED);
    bool is_p = (st & ST_RESIDENT) && (st & ST_PINNED);
    hm->nr_pinned += (uint64_t)is_p - (uint64_t)was_p;
    bool was_f = (old & ST_RESIDENT) && (old & ST_PREFETCHED);
    bool is_f = (st & ST_RESIDENT) && (st & ST_PREFETCHED);
    hm->nr_prefetched += (uint64_t)is_f - (uint64_t)was_f;
    hm->state[frame] = st;
}

/* ---- slots ---- */

/* The next free slot from the cursor going up, wrapping; swap is at least
 * the guest's size and each frame holds at most one slot, so one is free. */
static uint32_t slot_take(struct hostmem *hm, uint64_t frame)
{
    uint64_t s = vm_bitmap_next_clear(hm->slot_used, hm->nr_slots, hm->cursor);
    if (s >= hm->nr_slots)
        s = vm_bitmap_next_clear(hm->slot_used, hm->nr_slots, 0);
    assert(s < hm->nr_slots && "nr_slots >= nr_frames leaves a slot for every frame");
    vm_bitmap_set(hm->slot_used, s);
    hm->frame_of[s] = (uint32_t)frame;
    hm->slot[frame] = (uint32_t)s;
    hm->cursor = s + 1 < hm->nr_slots ? s + 1 : 0;
    return (uint32_t)s;
}

static void slot_release(struct hostmem *hm, uint64_t frame)
{
    uint32_t s = hm->slot[frame];
    vm_bitmap_clear(hm->slot_used, s);
    hm->frame_of[s] = NONE32;
    hm->slot[frame] = NONE32;
}

int hostmem_preload(struct hostmem *hm, uint64_t frame)
{
    if (frame >= hm->nr_frames || (hm->state[frame] & ST_RESIDENT) ||
        hm->slot[frame] != NONE32)
        return VM_EINVAL;
    slot_take(hm, frame);
    return 0;
}

/* ---- the clock ---- */

/* May the hand take this frame?  The one place the mutation acts. */
static bool may_take(const struct hostmem *hm, uint8_t st, bool for_prefetch)
{
    if (hm->broken)
        return true;
    if (st & ST_PINNED)
        return false;
    return !(for_prefetch && (st & ST_PREFETCHED));
}

/* Choose a victim; returns its ring position.  The caller checked that one
 * may be taken.  Two rounds suffice: the first clears the referenced bits
 * of the frames it passes; a callback that keeps reporting referenced
 * frames gets the first takeable frame after two rounds. */
static uint64_t clock_choose_open(struct hostmem *hm);

static uint64_t clock_choose(struct hostmem *hm, bool for_prefetch)
{
    if (for_prefetch && !hm->broken)
        return clock_choose_open(hm);
    uint64_t first_ok = UINT64_MAX;
    for (uint64_t step = 0; step < 2 * hm->fill + 1; step++) {
        uint64_t pos = hm->hand;
        hm->hand = pos + 1 < hm->fill ? pos + 1 : 0;
        uint32_t f = hm->ring[pos];
        if (!may_take(hm, hm->state[f], for_prefetch)) {
            hm->st.protected_skips++;
            continue;
        }
        if (first_ok == UINT64_MAX)
            first_ok = pos;
        if (hm->young(hm->young_data, f)) {
            hm->st.second_chances++;
            continue;
        }
        return pos;
    }
    assert(first_ok != UINT64_MAX && "caller checked that a frame may be taken");
    hm->hand = first_ok + 1 < hm->fill ? first_ok + 1 : 0;
    return first_ok;
}

/* The same choice for a prefetch, which may take only unprotected frames.
 * When most resident frames are unused prefetches (a policy of poor
 * accuracy fills memory with them until faults evict them), the few open
 * ones sit anywhere in the ring: the hand jumps to the next one through
 * the open map and its summary (a bit per 64 positions), a word test per
 * 4096 protected frames passed. */
static uint64_t open_from(const struct hostmem *hm, uint64_t from)
{
    if (from >= hm->fill)
        return hm->fill;
    uint64_t w = from >> 6;
    uint64_t bits = hm->open[w] & (~0ull << (from & 63));
    if (bits == 0) {
        uint64_t nr_words = VM_BITMAP_WORDS(hm->fill);
        w = vm_bitmap_next_set(hm->open_sum, nr_words, w + 1);
        if (w >= nr_words)
            return hm->fill;
        bits = hm->open[w];
    }
    uint64_t pos = (w << 6) + (uint64_t)__builtin_ctzll(bits);
    return pos < hm->fill ? pos : hm->fill;
}

static uint64_t next_open(const struct hostmem *hm, uint64_t from)
{
    uint64_t pos = open_from(hm, from);
    if (pos >= hm->fill)
        pos = open_from(hm, 0);
    assert(pos < hm->fill && "caller checked that an unprotected frame is resident");
    return pos;
}

static uint64_t clock_choose_open(struct hostmem *hm)
{
    uint64_t takeable = hm->fill - hm->nr_protected;
    uint64_t first = UINT64_MAX;
    for (uint64_t step = 0; step < 2 * takeable + 1; step++) {
        uint64_t pos = next_open(hm, hm->hand);
        hm->st.protected_skips += pos >= hm->hand ? pos - hm->hand : hm->fill - hm->hand + pos;
        hm->hand = pos + 1 < hm->fill ? pos + 1 : 0;
        if (first == UINT64_MAX)
            first = pos;
        if (hm->young(hm->young_data, hm->ring[pos])) {
            hm->st.second_chances++;
            continue;
        }
        return pos;
    }
    hm->hand = first + 1 < hm->fill ? first + 1 : 0;
    return first;
}

/* Evict the frame at ring position pos; record it in out. */
static void evict_at(struct hostmem *hm, uint64_t pos, bool for_prefetch,
                     struct hostmem_admission *out)
{
    uint32_t f = hm->ring[pos];
    uint8_t st = hm->state[f];

    /* the audit: independent of may_take() */
    if (st & ST_PINNED)
        hm->st.violations++;
    else if (for_prefetch && (st & ST_PREFETCHED))
        hm->st.violations++;
    if (st & ST_PREFETCHED)
        hm->st.prefetch_wasted++;

    if (hm->slot[f] == NONE32) {
        uint32_t s = slot_take(hm, f);
        out->writes[out->nr_writes++] = (struct hostmem_io){ .frame = f, .slot = s };
        hm->st.writes++;
    } else {
        hm->st.clean_evictions++;
    }
    set_state(hm, f, 0);
    out->evicted[out->nr_evicted++] = f;
    hm->st.evictions++;
}

/* ---- admission ---- */

int hostmem_admit(struct hostmem *hm, const uint64_t *frames, uint32_t n,
                  struct hostmem_admission *out)
{
    out->nr_admitted = out->nr_reads = out->nr_evicted = out->nr_writes = 0;
    out->demand_evict = out->wake_kswapd = false;
    if (n == 0 || n > HOSTMEM_MAX_BATCH || frames == NULL)
        return VM_EINVAL;
    uint32_t bad = n;
    for (uint32_t i = 0; i < n && bad == n; i++) {
        uint64_t f = frames[i];
        if (f >= hm->nr_frames || (hm->state[f] & (ST_RESIDENT | ST_SEEN)))
            bad = i;
        else
            hm->state[f] |= ST_SEEN;
    }
    for (uint32_t i = 0; i < n && i < bad; i++)
        hm->state[frames[i]] &= (uint8_t)~ST_SEEN;
    if (bad != n)
        return VM_EINVAL;

    /* the faulting frame needs a place: free above min, or a frame no one
     * pinned (under memcg min is 0: any free frame) */
    if (hostmem_nr_free(hm) <= hm->wm.min && hm->fill == hm->nr_pinned && !hm->broken) {
        hm->st.busy++;
        return VM_EBUSY;
    }
    for (uint32_t i = 0; i < n; i++) {
        bool prefetch = i > 0;
        uint64_t f = frames[i];
        uint64_t pos;
        if (prefetch && hm->nr_prefetched >= hm->prefetch_cap) {
            /* the inactive list's share is full of unused prefetches: a
             * later frame of this batch would not fit either */
            hm->st.prefetch_capped += n - i;
            break;
        }
        uint64_t free = hostmem_nr_free(hm);
        if (hm->reclaim == HOSTMEM_RECLAIM_KSWAPD && free <= hm->wm.low)
            out->wake_kswapd = true;   /* the fast path's low check failed */
        /* a prefetch leaves the frames kswapd freed from unused prefetches
         * to demand (the one place besides may_take the mutation acts) */
        uint64_t floor = hm->wm.min + (prefetch && !hm->broken ? hm->nr_owed : 0);
        if (free > floor) {
            pos = hm->fill++;          /* a free frame, no reclaim */
            if (!prefetch && hm->nr_owed)
                hm->nr_owed--;         /* demand takes what it is owed first */
            else if (prefetch && free <= hm->wm.min + hm->nr_owed)
                hm->st.violations++;   /* the audit: a prefetch took an owed frame */
        } else {
            /* is there a frame the hand may take? */
            uint64_t takeable = prefetch ? hm->fill - hm->nr_protected
                                         : hm->fill - hm->nr_pinned;
            if (takeable == 0 && !hm->broken) {
                assert(prefetch && "checked above for the faulting frame");
                hm->st.prefetch_refused += n - i;
                break;
            }
            pos = clock_choose(hm, prefetch);
            evict_at(hm, pos, prefetch, out);
            out->demand_evict |= !prefetch;
            hm->st.direct_evictions++;
        }
        hm->ring[pos] = (uint32_t)f;
        hm->pos_of[f] = (uint32_t)pos;
        set_state(hm, f, (uint8_t)(ST_RESIDENT | ST_BATCH | (prefetch ? ST_PREFETCHED : 0)));
        if (hm->slot[f] != NONE32) {
            /* read back into the swap cache: it keeps its slot while clean */
            out->reads[out->nr_reads++] = (struct hostmem_io){ .frame = f, .slot = hm->slot[f] };
            hm->st.reads++;
        } else {
            hm->st.first_touch++;
        }
        hm->st.admitted++;
        if (prefetch)
            hm->st.prefetched++;
        else
            hm->st.demand++;
        out->nr_admitted++;
    }
    /* the batch is in: its frames lose the batch mark */
    for (uint32_t i = 0; i < out->nr_admitted; i++)
        set_state(hm, frames[i], (uint8_t)(hm->state[frames[i]] & ~ST_BATCH));
    hm->st.kswapd_wakes += out->wake_kswapd;
    return 0;
}

/* ---- kswapd ---- */

/* Take ring position pos out of the ring (its frame was evicted and its
 * place is not reused): the last position's frame moves into it. */
static void ring_remove(struct hostmem *hm, uint64_t pos)
{
    uint64_t last = hm->fill - 1;
    if (pos != last) {
        uint32_t g = hm->ring[last];
        hm->ring[pos] = g;
        hm->pos_of[g] = (uint32_t)pos;
        mark_open(hm, pos, !(hm->state[g] & ST_PROTECTED));
    }
    mark_open(hm, last, false);
    hm->fill = last;
    if (hm->hand >= hm->fill)
        hm->hand = 0;
}

uint32_t hostmem_kswapd(struct hostmem *hm, uint32_t max, struct hostmem_admission *out)
{
    out->nr_admitted = out->nr_reads = out->nr_evicted = out->nr_writes = 0;
    out->demand_evict = out->wake_kswapd = false;
    if (hm->reclaim != HOSTMEM_RECLAIM_KSWAPD)
        return 0;
    if (max > HOSTMEM_MAX_BATCH)
        max = HOSTMEM_MAX_BATCH;
    while (out->nr_evicted < max && hostmem_nr_free(hm) + hm->nr_writeback < hm->wm.high &&
           hm->fill > 0 && (hm->fill > hm->nr_pinned || hm->broken)) {
        /* never a pinned frame; an unused prefetch is as reclaimable as
         * any unreferenced frame (Linux's inactive list), but the frame it
         * leaves is owed to demand (admit: no prefetch takes it) */
        uint64_t pos = clock_choose(hm, false);
        uint32_t w = out->nr_writes;
        hm->nr_owed += (hm->state[hm->ring[pos]] & ST_PREFETCHED) != 0;
        evict_at(hm, pos, false, out);
        ring_remove(hm, pos);
        hm->nr_writeback += out->nr_writes - w;   /* dirty: free when written */
        hm->st.kswapd_evictions++;
        hm->st.kswapd_writes += out->nr_writes - w;
    }
    return out->nr_evicted;
}

int hostmem_writeback_end(struct hostmem *hm, uint64_t n)
{
    if (n > hm->nr_writeback)
        return VM_EINVAL;
    hm->nr_writeback -= n;
    return 0;
}

int hostmem_lock(struct hostmem *hm, uint64_t frame)
{
    if (frame >= hm->nr_frames || !(hm->state[frame] & ST_RESIDENT) ||
        (hm->state[frame] & ST_LOCKED))
        return VM_EINVAL;
    set_state(hm, frame, (uint8_t)(hm->state[frame] | ST_LOCKED));
    return 0;
}

int hostmem_unlock(struct hostmem *hm, uint64_t frame)
{
    if (frame >= hm->nr_frames || !(hm->state[frame] & ST_LOCKED))
        return VM_EINVAL;
    set_state(hm, frame, (uint8_t)(hm->state[frame] & ~ST_LOCKED));
    return 0;
}

bool hostmem_use(struct hostmem *hm, uint64_t frame)
{
    if (frame >= hm->nr_frames)
        return false;
    uint8_t st = hm->state[frame];
    if ((st & (ST_RESIDENT | ST_PREFETCHED)) != (ST_RESIDENT | ST_PREFETCHED))
        return false;
    set_state(hm, frame, (uint8_t)(st & ~ST_PREFETCHED));
    hm->st.prefetch_hits++;
    return true;
}

int hostmem_write(struct hostmem *hm, uint64_t frame)
{
    if (frame >= hm->nr_frames || !(hm->state[frame] & ST_RESIDENT))
        return VM_EINVAL;
    if (hm->slot[frame] != NONE32) {
        slot_release(hm, frame);
        hm->st.slots_freed++;
    }
    return 0;
}

/* ---- checks ---- */

uint64_t hostmem_check(const struct hostmem *hm)
{
    uint64_t bad = 0, resident = 0, protected = 0, pinned = 0, batch = 0, with_slot = 0;
    uint64_t prefetched = 0;

    for (uint64_t f = 0; f < hm->nr_frames; f++) {
        uint8_t st = hm->state[f];
        if (st & ST_SEEN)
            bad++;
        if (st & ST_RESIDENT) {
            resident++;
            protected += (st & ST_PROTECTED) != 0;
            pinned += (st & ST_PINNED) != 0;
            batch += (st & ST_BATCH) != 0;
            prefetched += (st & ST_PREFETCHED) != 0;
        } else if (st & ST_PROTECTED) {
            bad++;                      /* marks only on resident frames */
        }
        if (hm->slot[f] != NONE32) {
            with_slot++;
            uint32_t s = hm->slot[f];
            if (s >= hm->nr_slots || hm->frame_of[s] != f || !vm_bitmap_test(hm->slot_used, s))
                bad++;
        }
    }
    bad += resident != hm->fill;
    bad += hm->fill + hm->nr_writeback > hm->max_resident;
    bad += hm->reclaim != HOSTMEM_RECLAIM_KSWAPD && hm->nr_writeback != 0;
    bad += hm->nr_owed > hm->max_resident - hm->fill;   /* owed frames are free or on their way */
    bad += protected != hm->nr_protected;
    bad += pinned != hm->nr_pinned;
    bad += batch != 0;                  /* no admission in progress */
    bad += prefetched != hm->nr_prefetched;
    bad += prefetched > hm->prefetch_cap;
    uint64_t used = vm_bitmap_count(hm->slot_used, hm->nr_slots);
    bad += used != with_slot;
    for (uint64_t s = 0; s < hm->nr_slots; s++) {
        uint32_t f = hm->frame_of[s];
        if (f != NONE32 && (f >= hm->nr_frames || hm->slot[f] != s))
            bad++;
        if ((f != NONE32) != vm_bitmap_test(hm->slot_used, s))
            bad++;
    }
    uint64_t *seen = vm_bitmap_new(hm->nr_frames);
    for (uint64_t i = 0; i < hm->fill; i++) {
        uint32_t f = hm->ring[i];
        if (f >= hm->nr_frames || !(hm->state[f] & ST_RESIDENT))
            bad++;
        else if (seen != NULL && vm_bitmap_test_and_set(seen, f))
            bad++;                      /* twice in the ring */
        else if (hm->pos_of[f] != i ||
                 vm_bitmap_test(hm->open, i) != !(hm->state[f] & ST_PROTECTED) ||
                 vm_bitmap_test(hm->open_sum, i >> 6) != (hm->open[i >> 6] != 0))
            bad++;                      /* position or open map stale */
    }
    vm_bitmap_free(seen);
    return bad + hm->st.violations;
}

/* ---- I/O runs ---- */

static int cmp_slot(const void *a, const void *b)
{
    uint64_t x = ((const struct hostmem_io *)a)->slot, y = ((const struct hostmem_io *)b)->slot;
    return x < y ? -1 : x > y;
}

void hostmem_io_sort(struct hostmem_io *io, uint32_t n)
{
    if (n > 1)
        qsort(io, n, sizeof(*io), cmp_slot);
}

uint32_t hostmem_io_run(const struct hostmem_io *io, uint32_t n, uint32_t i)
{
    if (i >= n)
        return 0;
    uint32_t j = i + 1;
    while (j < n && io[j].slot == io[j - 1].slot + 1)
        j++;
    return j - i;
}

bool hostmem_can_admit(const struct hostmem *hm)
{
    return hostmem_nr_free(hm) > hm->wm.min || hm->fill > hm->nr_pinned;
}
