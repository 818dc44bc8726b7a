/*
 * prefault_common.c - what every prefault policy shares: state
 * allocation, building a fault's answer (faulting frame first, then
 * absent frames that have content on the backing store, no duplicates), the registry's defaults and start,
 * Linux's readahead window heuristic, which three baselines use, and the
 * checked copy of a recorded working set that record-and-replay policies
 * start from.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "prefault/prefault.h"

struct prefault_state *prefault_state_new(size_t size, const struct prefault_policy *p,
                                          const struct prefault_cfg *cfg,
                                          const struct prefault_env *env)
{
    struct prefault_state *s = calloc(1, size);
    if (!s)
        return NULL;
    s->policy = p;
    s->cfg = *cfg;
    s->env = *env;
    return s;
}

/* true when gfn was not yet in this answer (and remembers it) */
static bool seen_insert(struct prefault_state *s, uint64_t gfn)
{
    const uint32_t mask = 2 * PREFAULT_MAX_PAGES - 1;
    uint32_t h = (uint32_t)((gfn * 0x9e3779b97f4a7c15ull) >> 40) & mask;
    for (;; h = (h + 1) & mask) {
        if (s->seen_epoch[h] != s->epoch) {
            s->seen_epoch[h] = s->epoch;
            s->seen_key[h] = gfn;
            return true;
        }
        if (s->seen_key[h] == gfn)
            return false;
    }
}

uint32_t prefault_answer_begin(struct prefault_state *s, uint64_t gfn, uint64_t *out)
{
    if (++s->epoch == 0) {           /* wrapped: forget every old tag */
        memset(s->seen_epoch, 0, sizeof s->seen_epoch);
        s->epoch = 1;
    }
    seen_insert(s, gfn);
    out[0] = gfn;
    s->st.faults++;
    s->answer_flags = 0;
    s->room = port_backing_room(s->env.backing);
    return 1;
}

uint32_t prefault_answer_add(struct prefault_state *s, uint64_t gfn, uint64_t *out, uint32_t n)
{
    const struct port_backing *b = s->env.backing;
    if (n >= PREFAULT_MAX_PAGES || gfn >= port_backing_nr_frames(b) ||
        port_backing_is_resident(b, gfn) || !seen_insert(s, gfn))
        return n;
    /* Nothing to read: a frame the guest never touched (or a zero page) has
     * no copy anywhere, and Linux skips such a neighbour too (a pte_none
     * entry in swap_vma_readahead(), a free slot in cluster readahead). */
    if (port_backing_slot_of(b, gfn) == PORT_BACKING_NONE) {
        s->st.no_content++;
        return n;
    }
    if (n >= s->room) {              /* room counts the faulting frame, out[0] */
        s->st.clipped++;
        return n;
    }
    out[n++] = gfn;
    s->st.prefetched++;
    return n;
}

uint32_t prefault_linux_ra_pages(uint64_t prev_offset, uint64_t offset, uint32_t hits,
                                 uint32_t max_pages, uint32_t prev_win)
{
    /* mm/swap_state.c __swapin_nr_pages() (Linux 4.14 .. 6.x): "+ 2" is
     * the kernel's own unexplained constant. */
    uint32_t pages = hits + 2;
    if (pages == 2) {
        /* No hits to judge by: read ahead only after an adjacent fault. */
        if (offset != prev_offset + 1 && offset != prev_offset - 1)
            pages = 1;
    } else {
        uint32_t roundup = 4;
        while (roundup < pages)
            roundup <<= 1;
        pages = roundup;
    }
    if (pages > max_pages)
        pages = max_pages;
    /* Don't shrink readahead too fast. */
    uint32_t last_ra = prev_win / 2;
    if (pages < last_ra)
        pages = last_ra;
    return pages;
}

int prefault_ws_copy(const char *policy, const struct prefault_env *env, uint64_t **frames,
                     uint64_t *nr, struct vm_diag *d)
{
    *frames = NULL;
    *nr = 0;
    const struct prefault_ws *ws = env->ws;
    if (!ws || (ws->nr && !ws->frames))
        return vm_diag_set(d, VM_EINVAL, "'%s': needs a recorded working set "
                           "(run a record pass first)", policy);
    if (ws->nr == 0)
        return 0;                    /* nothing recorded: the policy serves faults only */
    uint64_t nr_frames = port_backing_nr_frames(env->backing);
    for (uint64_t i = 0; i < ws->nr; i++)
        if (ws->frames[i] >= nr_frames)
            return vm_diag_set(d, VM_EINVAL, "'%s': recorded frame %" PRIu64 " (entry %"
                               PRIu64 ") beyond guest memory (%" PRIu64 " frames)",
                               policy, ws->frames[i], i, nr_frames);
    uint64_t *seen = vm_bitmap_new(nr_frames);
    uint64_t *copy = malloc(ws->nr * sizeof *copy);
    if (!seen || !copy) {
        vm_bitmap_free(seen);
        free(copy);
        return vm_diag_set(d, VM_ENOMEM, "'%s': out of memory for the working set", policy);
    }
    uint64_t n = 0;
    for (uint64_t i = 0; i < ws->nr; i++)
        if (!vm_bitmap_test_and_set(seen, ws->frames[i]))
            copy[n++] = ws->frames[i];    /* a later touch of a frame is no new touch */
    vm_bitmap_free(seen);
    *frames = copy;
    *nr = n;
    return 0;
}
