/*
 * prefault_broken_test.c - deliberately broken prefault policies
 * (PREFAULT_F_HIDDEN: test-only, not listed), one per invariant the world
 * checks in every prefault run, so that a run can show the check catches
 * the bug it is meant to catch (as models/checkpoint/ckpt_broken_test.c
 * does for checkpointing).  Never use them for results.
 *
 *   broken-fetch-resident  demand paging that also answers the previous
 *       fault's frame, which the world has made resident by now (or, when
 *       that one is gone, the first resident frame above the fault),
 *       written straight into the answer past prefault_answer_add()'s
 *       filter.  Caught by "every fetched page was absent".
 *   broken-huge-window  brings in, with every fault, the next
 *       PREFAULT_MAX_PAGES - 1 absent guest frames above it (wrapping at
 *       the end of memory), far more than any access pattern uses, and
 *       ignores port_backing_room(), which every real policy keeps to.
 *       Its frames are absent and distinct; under memory pressure (host
 *       memory well under two windows) each prefetch must evict frames the
 *       previous one brought in and nobody used.  Caught by "a prefetch
 *       never evicts a page the same policy fetched and has not yet been
 *       used".
 *   broken-present-nofetch  demand paging whose every answer carries
 *       PREFAULT_ANS_TEST_NO_FETCH: the world is told to make the faulting
 *       frame present without reading it, as a handler that maps a page
 *       before filling it.  The plain interface (a list of frames to fetch)
 *       cannot say this, hence the test-only flag, which a world must
 *       honour for this check and real policies never set.  Caught by "a
 *       page is never used before it is resident with the right content".
 */
#include <stdlib.h>

#include "prefault/prefault.h"

/* How far broken-fetch-resident looks above the fault for a resident frame. */
#define BROKEN_RESIDENT_SCAN 4096
/* How many candidates broken-huge-window looks at per fault (bounds its
 * cost when most of memory is resident). */
#define BROKEN_HUGE_SCAN (64 * PREFAULT_MAX_PAGES)

static void broken_hit(struct prefault_state *s, uint64_t gfn)
{
    s->st.hits++;
}

static void broken_destroy(struct prefault_state *s)
{
    free(s);
}

/* ---- broken-fetch-resident ----------------------------------------------- */

struct fetch_resident {
    struct prefault_state s;         /* first */
    uint64_t prev;                   /* the previous fault's frame */
    bool have_prev;
};

static int fetch_resident_start(const struct prefault_cfg *cfg, const struct prefault_env *env,
                                struct prefault_state **out, struct vm_diag *d)
{
    *out = prefault_state_new(sizeof(struct fetch_resident),
                              &prefault_broken_fetch_resident_policy, cfg, env);
    return *out ? 0 : vm_diag_set(d, VM_ENOMEM, "'broken-fetch-resident': out of memory");
}

static uint32_t fetch_resident_fault(struct prefault_state *s, const struct prefault_fault *f,
                                     uint64_t *out)
{
    struct fetch_resident *fr = (struct fetch_resident *)s;
    const struct port_backing *b = s->env.backing;
    uint32_t n = prefault_answer_begin(s, f->gfn, out);
    uint64_t victim = UINT64_MAX;
    if (fr->have_prev && fr->prev != f->gfn && port_backing_is_resident(b, fr->prev)) {
        victim = fr->prev;
    } else {
        uint64_t nr = port_backing_nr_frames(b);
        for (uint64_t g = f->gfn + 1; g < nr && g <= f->gfn + BROKEN_RESIDENT_SCAN; g++)
            if (port_backing_is_resident(b, g)) {
                victim = g;
                break;
            }
    }
    fr->prev = f->gfn;
    fr->have_prev = true;
    if (victim != UINT64_MAX) {
        out[n++] = victim;           /* the bug: no residency check */
        s->st.prefetched++;
    }
    return n;
}

const struct prefault_policy prefault_broken_fetch_resident_policy = {
    .name = "broken-fetch-resident",
    .desc = "broken on purpose (test-only): also answers a frame that is already resident",
    .flags = PREFAULT_F_HIDDEN,
    .params = NULL,
    .start = fetch_resident_start,
    .fault = fetch_resident_fault,
    .hit = broken_hit,
    .destroy = broken_destroy,
};

/* ---- broken-huge-window ---------------------------------------------------- */

static int huge_window_start(const struct prefault_cfg *cfg, const struct prefault_env *env,
                             struct prefault_state **out, struct vm_diag *d)
{
    *out = prefault_state_new(sizeof **out, &prefault_broken_huge_window_policy, cfg, env);
    if (!*out)
        return vm_diag_set(d, VM_ENOMEM, "'broken-huge-window': out of memory");
    (*out)->st.window = PREFAULT_MAX_PAGES - 1;
    return 0;
}

static uint32_t huge_window_fault(struct prefault_state *s, const struct prefault_fault *f,
                                  uint64_t *out)
{
    const struct port_backing *b = s->env.backing;
    uint64_t nr = port_backing_nr_frames(b);
    uint32_t n = prefault_answer_begin(s, f->gfn, out);
    uint64_t g = f->gfn;
    for (uint64_t i = 1; i < nr && i <= BROKEN_HUGE_SCAN && n < PREFAULT_MAX_PAGES; i++) {
        if (++g == nr)
            g = 0;
        if (!port_backing_is_resident(b, g)) {   /* the bug: whatever the room */
            out[n++] = g;                        /* distinct: each frame once */
            s->st.prefetched++;
        }
    }
    return n;
}

const struct prefault_policy prefault_broken_huge_window_policy = {
    .name = "broken-huge-window",
    .desc = "broken on purpose (test-only): a window of PREFAULT_MAX_PAGES - 1 frames "
            "that evicts its own unused prefetch under pressure",
    .flags = PREFAULT_F_HIDDEN,
    .params = NULL,
    .start = huge_window_start,
    .fault = huge_window_fault,
    .hit = broken_hit,
    .destroy = broken_destroy,
};

/* ---- broken-present-nofetch ------------------------------------------------ */

static int present_nofetch_start(const struct prefault_cfg *cfg, const struct prefault_env *env,
                                 struct prefault_state **out, struct vm_diag *d)
{
    *out = prefault_state_new(sizeof **out, &prefault_broken_present_nofetch_policy, cfg, env);
    return *out ? 0 : vm_diag_set(d, VM_ENOMEM, "'broken-present-nofetch': out of memory");
}

static uint32_t present_nofetch_fault(struct prefault_state *s, const struct prefault_fault *f,
                                      uint64_t *out)
{
    uint32_t n = prefault_answer_begin(s, f->gfn, out);
    s->answer_flags = PREFAULT_ANS_TEST_NO_FETCH;   /* the bug: present, never read */
    return n;
}

const struct prefault_policy prefault_broken_present_nofetch_policy = {
    .name = "broken-present-nofetch",
    .desc = "broken on purpose (test-only): the faulting page is made present without "
            "its content",
    .flags = PREFAULT_F_HIDDEN,
    .params = NULL,
    .start = present_nofetch_start,
    .fault = present_nofetch_fault,
    .hit = broken_hit,
    .destroy = broken_destroy,
};
