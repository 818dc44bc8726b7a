/*
 * prefault_leap.c - Leap's majority-trend prefetcher (Al Maruf and
 * Chowdhury, "Effectively Prefetching Remote Memory with Leap", USENIX
 * ATC'20, Algorithm 1), as we read the paper.
 *
 * History: the last `history` faults (Hsize) and the delta of each from
 * the one before.  Trend: Boyer-Moore majority vote over the most recent
 * w = history / nsplit deltas; if the candidate is not an actual
 * majority (more than w / 2), w doubles, up to the whole history; no
 * majority at any w means no trend (nor does a window of one delta).
 * Window (PW): with no prefetch hits since the last fault, 1 page if a
 * trend was found and none otherwise; with h hits, h + 1 rounded up to a
 * power of two; capped at win_max (PWmax); never below half the previous
 * window (shrinks smoothly, as Linux).
 * Prefetch: PW pages along the majority delta from the fault; without a
 * trend, along the last trend found (or +-1 following the last move), the
 * paper's speculative fallback.
 *
 * Space: Leap watches the addresses its own data path sees; under a
 * hypervisor that is the guest frame ("gpa", the default); "gva" runs it
 * on the guest's virtual addresses through the page tables.
 * Not modelled: Leap's lean data path, eviction of prefetched pages from
 * its cache, per-process isolation (one history per policy instance).
 */
#include <stdlib.h>

#include "prefault/prefault.h"

#define LEAP_MAX_HISTORY 256

struct leap {
    struct prefault_state s;         /* first */
    int64_t delta[LEAP_MAX_HISTORY]; /* ring: each fault's page minus the one before */
    uint32_t head, count;            /* next slot, deltas held */
    uint64_t last_page;              /* the previous fault's page */
    bool have_last;
    uint32_t hits;                   /* since the last fault */
    uint32_t last_pw;
    int64_t last_trend;              /* last majority delta found, 0 = none yet */
};

static const struct vm_param leap_params[] = {
    { "history", VM_PARAM_U32, offsetof(struct prefault_cfg, history), .min = 2,
      .max = LEAP_MAX_HISTORY, .def = "32", .help = "faults remembered (Hsize)" },
    { "nsplit", VM_PARAM_U32, offsetof(struct prefault_cfg, nsplit), .min = 1, .max = 64,
      .def = "8", .help = "the first trend window is history / nsplit faults" },
    { "win_max", VM_PARAM_U32, offsetof(struct prefault_cfg, win_max), .min = 1,
      .max = 512, .def = "8", .help = "largest prefetch window, pages (PWmax)" },
    { "space", VM_PARAM_ENUM, offsetof(struct prefault_cfg, space), .choices = "gpa|gva",
      .def = "gpa", .help = "watch guest frames (what a hypervisor sees) or guest-virtual pages" },
    { NULL }
};

static int leap_start(const struct prefault_cfg *cfg, const struct prefault_env *env,
                      struct prefault_state **out, struct vm_diag *d)
{
    if (cfg->history < 2 || cfg->history > LEAP_MAX_HISTORY)
        return vm_diag_set(d, VM_EINVAL, "'history' %u: expected integer 2..%d",
                           cfg->history, LEAP_MAX_HISTORY);
    if (cfg->nsplit == 0 || cfg->nsplit > cfg->history)
        return vm_diag_set(d, VM_EINVAL, "'nsplit' %u: expected integer 1..'history' (%u)",
                           cfg->nsplit, cfg->history);
    if (cfg->win_max == 0 || cfg->win_max > 512)
        return vm_diag_set(d, VM_EINVAL, "'win_max' %u: expected integer 1..512", cfg->win_max);
    struct leap *l = (struct leap *)prefault_state_new(sizeof *l, &prefault_leap_policy,
                                                       cfg, env);
    if (!l)
        return VM_ENOMEM;
    *out = &l->s;
    return 0;
}

/* The i-th most recent delta (0 = newest). */
static int64_t recent_delta(const struct leap *l, uint32_t i)
{
    return l->delta[(l->head + LEAP_MAX_HISTORY - 1 - i) % LEAP_MAX_HISTORY];
}

/* Leap's FindTrend: true and *trend when a majority delta exists. */
static bool find_trend(const struct leap *l, uint32_t history, uint32_t nsplit,
                       int64_t *trend)
{
    uint32_t have = l->count < history ? l->count : history;
    uint32_t w = history / nsplit;
    if (w < 1)
        w = 1;
    for (;; w *= 2) {
        uint32_t win = w < have ? w : have;
        int64_t cand = 0;
        uint32_t votes = 0;
        for (uint32_t i = 0; i < win; i++) {     /* Boyer-Moore vote */
            int64_t dl = recent_delta(l, i);
            if (votes == 0) {
                cand = dl;
                votes = 1;
            } else if (dl == cand) {
                votes++;
            } else {
                votes--;
            }
        }
        uint32_t real = 0;
        for (uint32_t i = 0; i < win; i++)
            real += recent_delta(l, i) == cand;
        if (win >= 2 && real > win / 2) {    /* one sample is no trend */
            *trend = cand;
            return true;
        }
        if (w >= have)
            return false;
    }
}

static uint32_t leap_fault(struct prefault_state *s, const struct prefault_fault *f,
                           uint64_t *out)
{
    struct leap *l = (struct leap *)s;
    bool gva = s->cfg.space == 1;
    uint32_t n = prefault_answer_begin(s, f->gfn, out);
    if (gva && (!f->gva_known || !f->as)) {
        s->st.no_gva++;
        return n;
    }
    uint64_t page = gva ? f->gva >> GUEST_PAGE_SHIFT : f->gfn;
    uint64_t prev = l->have_last ? l->last_page : page;
    if (l->have_last) {
        l->delta[l->head] = (int64_t)(page - prev);
        l->head = (l->head + 1) % LEAP_MAX_HISTORY;
        if (l->count < LEAP_MAX_HISTORY)
            l->count++;
    }
    l->last_page = page;
    l->have_last = true;

    int64_t trend = 0;
    bool has = l->count >= 2 && find_trend(l, s->cfg.history, s->cfg.nsplit, &trend) &&
               trend != 0;
    uint32_t hits = l->hits;
    l->hits = 0;
    uint32_t pw;
    if (hits == 0) {
        pw = has ? 1 : 0;
    } else {
        pw = 2;
        while (pw < hits + 1)
            pw <<= 1;
    }
    if (pw > s->cfg.win_max)
        pw = s->cfg.win_max;
    if (pw < l->last_pw / 2)
        pw = l->last_pw / 2;
    l->last_pw = pw;
    s->st.window = pw;
    if (pw == 0)
        return n;
    int64_t step;
    if (has) {
        step = trend;
        l->last_trend = trend;
    } else if (l->last_trend) {
        step = l->last_trend;
    } else {
        step = page >= prev ? 1 : -1;
    }
    uint64_t cand[512];
    uint32_t nc = 0;
    for (uint32_t i = 1; i <= pw; i++) {
        int64_t p = (int64_t)page + step * (int64_t)i;
        if (p < 0)
            break;
        cand[nc++] = (uint64_t)p;
    }
    if (!gva) {
        for (uint32_t i = 0; i < nc; i++)
            n = prefault_answer_add(s, cand[i], out, n);
        return n;
    }
    struct guest_walk_cost c = { 0, 0 };
    for (uint32_t i = 0; i < nc; i++) {    /* a trend's pages may lie in many tables */
        struct guest_walk w;
        if (guest_pt_walk(f->as, cand[i] << GUEST_PAGE_SHIFT, &w, &c) == 0)
            n = prefault_answer_add(s, w.gpa >> GUEST_PAGE_SHIFT, out, n);
    }
    s->st.walks += c.walks;
    s->st.entries += c.entries;
    return n;
}

static void leap_hit(struct prefault_state *s, uint64_t gfn)
{
    s->st.hits++;
    ((struct leap *)s)->hits++;
}

static void leap_destroy(struct prefault_state *s)
{
    free(s);
}

const struct prefault_policy prefault_leap_policy = {
    .name = "leap",
    .desc = "Leap (ATC'20): majority-vote trend over recent fault deltas, hit-sized window",
    .params = leap_params,
    .start = leap_start,
    .fault = leap_fault,
    .hit = leap_hit,
    .destroy = leap_destroy,
};
