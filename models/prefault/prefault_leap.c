/*
 * prefault_leap.c - Leap's majority-trend prefetcher (Al Maruf and
 * Chowdhury, "Effectively Prefetching Remote Memory with Leap", USENIX
 * ATC'20, Algorithm 1), checked against its released kernel code
 * (github.com/SymbioticLab/Leap, mm/swap_state.c: log_swap_trend(),
 * find_trend(), swapin_nr_pages(), swapin_readahead()).
 *
 * History: a ring of the last `history` positions Leap saw and the delta
 * of each from the one before.  The code logs a position on every swap
 * cache lookup, hit or miss (lookup_swap_cache() calls
 * log_swap_trend(swp_offset(entry))), so both fault() and hit() log one
 * here: the world calls hit() on the first use of a page brought ahead,
 * the same event as a lookup that finds it in the swap cache.  Logging
 * faults alone would see a sequential scan, with prefetching working,
 * move by window + 1 and lose the trend each time the window changes.
 * Trend: Boyer-Moore majority vote over the most recent w deltas, w
 * starting at history / nsplit (the code: max_size / 4, so nsplit 4) and
 * doubling while w <= history; the candidate must be an actual majority
 * (more than w / 2).  Only logged deltas vote, and fewer than two are no
 * trend.  A majority delta of 0 is a trend with nothing to read (the
 * code reads the faulting offset again).
 * Window on a trend (PW, Algorithm 1 as we read the paper): with no
 * prefetch hits since the last fault 1 page, with h hits h + 1 rounded up
 * to a power of two; capped at win_max (PWmax); never below half the
 * previous PW.  PW positions along the majority delta are read.
 * No trend: the code falls back to Linux's cluster readahead
 * (swapin_readahead()'s "usual" path): the aligned cluster of
 * swapin_nr_pages() positions around the fault.  With Leap on, that
 * function skips Linux's adjacency test, so the cluster is the hits since
 * the last fault plus 2 rounded up to a power of two, at least 4, capped
 * at 2^page-cluster (here the largest power of two <= win_max; the
 * default 8 is the kernel's page-cluster 3) and never below half the
 * previous cluster.  It replaces the paper's speculative read along the
 * last trend.  Positions without content (a free slot, a frame never
 * touched) are skipped.
 *
 * Space: the released code tracks swap offsets, so "slot" (the default)
 * is the faithful choice for host swap; under post-copy the world maps
 * slot = frame.  "gpa" watches guest frames; "gva" the guest's virtual
 * pages through its page tables (a hit is logged at the virtual page the
 * policy brought the frame in for, remembered in a small direct-mapped
 * table; a frame whose entry was overwritten is not logged), reading only
 * the table frames f->tables allows.
 *
 * Defaults: nsplit 4 and the win_max cap of 2^page-cluster are read from
 * the code.  history 32 is ours: the code sizes the ring when it is set
 * up (init_swap_trend(size)) and the size its setup passes is not in our
 * sources.  Our background notes have only the paper's abstract; the
 * paper's own parameter values are not checked here.
 * Differences from the code, on purpose or not modelled: on a trend the
 * code reads swapin_nr_pages() - 1 positions (at least 3), not the
 * paper's PW; its ring starts zero-filled, so until real deltas outvote
 * the zeros it finds a trend of 0 and reads nothing (here only logged
 * deltas vote); slot 0 as the swap header; its initial hit count of 4;
 * Leap's lean data path, the eviction of prefetched pages from its
 * buffer, per-process isolation (one history per policy instance).
 */
#include <stdlib.h>

#include "prefault/prefault.h"

#define LEAP_MAX_HISTORY 256
#define LEAP_MAX_WIN 512
#define LEAP_GVA_MEMO 1024               /* remembered gfn -> gva page (power of two) */

enum leap_space { LEAP_SLOT = 0, LEAP_GPA = 1, LEAP_GVA = 2 };  /* "space" choices */

struct leap {
    struct prefault_state s;             /* first */
    int64_t delta[LEAP_MAX_HISTORY];     /* ring: each position minus the one before */
    uint32_t head, count;                /* next slot, deltas held */
    uint64_t last_pos;                   /* the last position logged */
    bool have_last;
    uint32_t hits;                       /* prefetch hits since the last fault */
    uint32_t last_pw;                    /* the previous trend window (PW) */
    uint32_t last_ra;                    /* the previous cluster (swapin_nr_pages) */
    uint64_t memo_gfn[LEAP_GVA_MEMO];    /* gva space: frame brought ahead, +1 (0 = empty) */
    uint64_t memo_page[LEAP_GVA_MEMO];   /* ... and the virtual page it was for */
    uint64_t cand[LEAP_MAX_WIN];
    struct guest_xlat xl[LEAP_MAX_WIN];
};

static const struct vm_param leap_params[] = {
    { "history", VM_PARAM_U32, offsetof(struct prefault_cfg, history), .min = 2,
      .max = LEAP_MAX_HISTORY, .def = "32", .help = "positions remembered (Hsize)" },
    { "nsplit", VM_PARAM_U32, offsetof(struct prefault_cfg, nsplit), .min = 1, .max = 64,
      .def = "4", .help = "the first trend window is history / nsplit deltas (code: 4)" },
    { "win_max", VM_PARAM_U32, offsetof(struct prefault_cfg, win_max), .min = 1,
      .max = LEAP_MAX_WIN, .def = "8",
      .help = "largest window, pages (PWmax; the code: 2^page-cluster)" },
    { "space", VM_PARAM_ENUM, offsetof(struct prefault_cfg, space),
      .choices = "slot|gpa|gva", .def = "slot",
      .help = "watch swap slots (the released code), guest frames or guest-virtual pages" },
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
    if (cfg->win_max == 0 || cfg->win_max > LEAP_MAX_WIN)
        return vm_diag_set(d, VM_EINVAL, "'win_max' %u: expected integer 1..%d",
                           cfg->win_max, LEAP_MAX_WIN);
    if (cfg->space < LEAP_SLOT || cfg->space > LEAP_GVA)
        return vm_diag_set(d, VM_EINVAL, "'space' %d: expected one of slot|gpa|gva",
                           cfg->space);
    struct leap *l = (struct leap *)prefault_state_new(sizeof *l, &prefault_leap_policy,
                                                       cfg, env);
    if (!l)
        return VM_ENOMEM;
    *out = &l->s;
    return 0;
}

/* log_swap_trend(): remember pos and its delta from the last position. */
static void log_pos(struct leap *l, uint64_t pos)
{
    if (l->have_last) {
        l->delta[l->head] = (int64_t)(pos - l->last_pos);
        l->head = (l->head + 1) % LEAP_MAX_HISTORY;
        if (l->count < LEAP_MAX_HISTORY)
            l->count++;
    }
    l->last_pos = pos;
    l->have_last = true;
}

/* The i-th most recent delta (0 = newest). */
static int64_t recent_delta(const struct leap *l, uint32_t i)
{
    return l->delta[(l->head + LEAP_MAX_HISTORY - 1 - i) % LEAP_MAX_HISTORY];
}

/* find_trend(): true and *trend when the recent deltas have a majority. */
static bool find_trend(const struct leap *l, uint32_t history, uint32_t nsplit,
                       int64_t *trend)
{
    uint32_t have = l->count < history ? l->count : history;
    uint32_t w = history / nsplit ? history / nsplit : 1;
    for (; w <= history; w *= 2) {
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
        if (win == have)
            return false;                    /* a larger window holds no more deltas */
    }
    return false;
}

/* The paper's PW from the hits since the last fault. */
static uint32_t trend_window(struct leap *l, uint32_t hits)
{
    uint32_t pw = 1;
    if (hits) {
        pw = 2;
        while (pw < hits + 1)
            pw <<= 1;
    }
    if (pw > l->s.cfg.win_max)
        pw = l->s.cfg.win_max;
    if (pw < l->last_pw / 2)
        pw = l->last_pw / 2;
    l->last_pw = pw;
    return pw;
}

/* The code's swapin_nr_pages() with Leap on: the fallback cluster, a
 * power of two (the cap is win_max rounded down to one). */
static uint32_t cluster_window(struct leap *l, uint32_t hits)
{
    uint32_t cap = 1;
    while (cap * 2 <= l->s.cfg.win_max)
        cap *= 2;
    uint32_t pages = 4;
    while (pages < hits + 2)
        pages <<= 1;
    if (pages > cap)
        pages = cap;
    if (pages < l->last_ra / 2)
        pages = l->last_ra / 2;
    l->last_ra = pages;
    return pages;
}

static uint32_t memo_slot(uint64_t gfn)
{
    return (uint32_t)((gfn * 0x9e3779b97f4a7c15ull) >> 40) & (LEAP_GVA_MEMO - 1);
}

/* Add frame g, brought ahead for virtual page `page` in gva space. */
static uint32_t add(struct leap *l, uint64_t g, uint64_t page, uint64_t *out, uint32_t n)
{
    uint32_t m = prefault_answer_add(&l->s, g, out, n);
    if (m > n && l->s.cfg.space == LEAP_GVA) {
        uint32_t h = memo_slot(g);
        l->memo_gfn[h] = g + 1;
        l->memo_page[h] = page;
    }
    return m;
}

/* Add the frames of the nc positions in l->cand (slot, frame or virtual
 * page, by space); positions with no frame behind them are skipped. */
static uint32_t add_positions(struct leap *l, const struct prefault_fault *f, uint32_t nc,
                              uint64_t *out, uint32_t n)
{
    struct prefault_state *s = &l->s;
    const struct port_backing *b = s->env.backing;
    if (s->cfg.space != LEAP_GVA) {
        for (uint32_t i = 0; i < nc; i++) {
            uint64_t g = l->cand[i];
            if (s->cfg.space == LEAP_SLOT)
                g = port_backing_frame_of(b, g);     /* a free slot: nothing */
            if (g != PORT_BACKING_NONE)
                n = add(l, g, 0, out, n);
        }
        return n;
    }
    struct guest_walk_cost c = { 0, 0 };
    for (uint32_t i = 0; i < nc; i++) {    /* a trend's pages may lie in many tables */
        struct guest_walk w;
        if (guest_pt_walk_rd(f->as, f->tables, l->cand[i] << GUEST_PAGE_SHIFT, &w, &c) == 0)
            n = add(l, w.gpa >> GUEST_PAGE_SHIFT, l->cand[i], out, n);
    }
    s->st.walks += c.walks;
    s->st.entries += c.entries;
    return n;
}

/* The no-trend fallback: the aligned cluster of `pages` positions around pos. */
static uint32_t read_around(struct leap *l, const struct prefault_fault *f, uint64_t pos,
                            uint32_t pages, uint64_t *out, uint32_t n)
{
    struct prefault_state *s = &l->s;
    const struct port_backing *b = s->env.backing;
    uint64_t mask = (uint64_t)pages - 1;
    uint64_t start = pos & ~mask, end = pos | mask;
    if (s->cfg.space == LEAP_GVA) {
        struct guest_walk_cost c = { 0, 0 };
        uint32_t got = guest_pt_xlat_range_rd(f->as, f->tables, start << GUEST_PAGE_SHIFT,
                                              pages, l->xl, &c);
        s->st.walks += c.walks;
        s->st.entries += c.entries;
        for (uint32_t i = 0; i < got; i++)
            if (l->xl[i].gva >> GUEST_PAGE_SHIFT != pos)
                n = add(l, l->xl[i].gfn, l->xl[i].gva >> GUEST_PAGE_SHIFT, out, n);
        return n;
    }
    uint64_t nr = s->cfg.space == LEAP_SLOT ? port_backing_nr_slots(b)
                                            : port_backing_nr_frames(b);
    if (end >= nr)
        end = nr - 1;
    uint32_t nc = 0;
    for (uint64_t p = start; p <= end; p++)
        if (p != pos)
            l->cand[nc++] = p;
    return add_positions(l, f, nc, out, n);
}

/* Record a window change in the stats. */
static void set_window(struct prefault_state *s, uint32_t win)
{
    s->st.grows += win > s->st.window && s->st.window;
    s->st.shrinks += win < s->st.window;
    s->st.window = win;
}

static uint32_t leap_fault(struct prefault_state *s, const struct prefault_fault *f,
                           uint64_t *out)
{
    struct leap *l = (struct leap *)s;
    const struct port_backing *b = s->env.backing;
    uint32_t n = prefault_answer_begin(s, f->gfn, out);
    uint64_t pos;
    if (s->cfg.space == LEAP_GVA) {
        if (!f->gva_known || !f->as) {
            s->st.no_gva++;
            return n;
        }
        pos = f->gva >> GUEST_PAGE_SHIFT;
    } else if (s->cfg.space == LEAP_SLOT) {
        pos = port_backing_slot_of(b, f->gfn);
        if (pos == PORT_BACKING_NONE)
            return n;                    /* not a swap entry: no lookup, nothing near */
    } else {
        pos = f->gfn;
    }
    log_pos(l, pos);
    uint32_t hits = l->hits;
    l->hits = 0;
    int64_t trend = 0;
    bool has = find_trend(l, s->cfg.history, s->cfg.nsplit, &trend);
    uint32_t pw = trend_window(l, hits);     /* both kept up at every fault, as the code */
    uint32_t ra = cluster_window(l, hits);
    if (!has) {
        set_window(s, ra);
        return ra > 1 ? read_around(l, f, pos, ra, out, n) : n;
    }
    set_window(s, pw);
    uint32_t nc = 0;
    for (uint32_t i = 1; i <= pw && trend != 0; i++) {
        int64_t p = (int64_t)pos + trend * (int64_t)i;
        if (p < 0)
            break;
        l->cand[nc++] = (uint64_t)p;
    }
    return add_positions(l, f, nc, out, n);
}

static void leap_hit(struct prefault_state *s, uint64_t gfn)
{
    struct leap *l = (struct leap *)s;
    s->st.hits++;
    l->hits++;
    /* A swap-cache hit is a lookup too: log its position. */
    if (s->cfg.space == LEAP_GPA) {
        log_pos(l, gfn);
    } else if (s->cfg.space == LEAP_SLOT) {
        uint64_t slot = port_backing_slot_of(s->env.backing, gfn);
        if (slot != PORT_BACKING_NONE)
            log_pos(l, slot);
    } else {
        uint32_t h = memo_slot(gfn);
        if (l->memo_gfn[h] == gfn + 1)
            log_pos(l, l->memo_page[h]);
    }
}

static void leap_destroy(struct prefault_state *s)
{
    free(s);
}

const struct prefault_policy prefault_leap_policy = {
    .name = "leap",
    .desc = "Leap (ATC'20): majority-vote trend over recent swap-in deltas, hit-sized "
            "window, cluster read-around without a trend",
    .params = leap_params,
    .start = leap_start,
    .fault = leap_fault,
    .hit = leap_hit,
    .destroy = leap_destroy,
};
