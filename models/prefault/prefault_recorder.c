/*
 * prefault_recorder.c - the record pass's recorder: the guest frames a run
 * touched, each once, in the order of its first touch.  REAP's monitor
 * records the same thing (vHive memory/manager: every user fault of the
 * recording invocation appends its offset to the trace, and after a
 * resume every first touch of a page is a fault); Halite profiles the
 * same order to form its locality blocks.
 *
 * A bit per guest frame says whether it is recorded; the order is an
 * array that doubles as it grows.  Not modelled: the timestamps REAP
 * keeps per record (neither replay uses them).
 */
#include <stdlib.h>

#include "base/vm_bitmap.h"
#include "prefault/prefault.h"

struct prefault_recorder {
    uint64_t nr_frames;
    uint64_t *touched;               /* bitmap over guest frames */
    uint64_t *order;                 /* first touches, in order */
    uint64_t nr, cap;
};

int prefault_recorder_new(uint64_t nr_frames, struct prefault_recorder **out)
{
    struct prefault_recorder *r = calloc(1, sizeof *r);
    *out = NULL;
    if (!r)
        return VM_ENOMEM;
    r->nr_frames = nr_frames;
    r->touched = vm_bitmap_new(nr_frames ? nr_frames : 1);
    if (!r->touched) {
        free(r);
        return VM_ENOMEM;
    }
    *out = r;
    return 0;
}

int prefault_recorder_touch(struct prefault_recorder *r, uint64_t gfn)
{
    if (gfn >= r->nr_frames)
        return VM_ERANGE;
    if (vm_bitmap_test(r->touched, gfn))
        return 0;
    if (r->nr == r->cap) {
        uint64_t cap = r->cap ? 2 * r->cap : 1024;
        uint64_t *order = realloc(r->order, cap * sizeof *order);
        if (!order)
            return VM_ENOMEM;        /* not recorded: a later touch may retry */
        r->order = order;
        r->cap = cap;
    }
    vm_bitmap_set(r->touched, gfn);
    r->order[r->nr++] = gfn;
    return 0;
}

void prefault_recorder_ws(const struct prefault_recorder *r, struct prefault_ws *ws)
{
    ws->frames = r->order;
    ws->nr = r->nr;
}

void prefault_recorder_free(struct prefault_recorder *r)
{
    if (!r)
        return;
    vm_bitmap_free(r->touched);
    free(r->order);
    free(r);
}
