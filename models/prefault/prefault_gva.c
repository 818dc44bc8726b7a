/*
 * prefault_gva.c - prefault by guest-virtual locality, the mechanism of
 * US9086981 / US9454489 (claim 1: catch the fault on a guest-physical
 * page, identify the guest-virtual page that referenced it, identify
 * guest-virtual pages near it, translate each through the guest page
 * tables, bring in the faulting page and the nearby ones not in memory).
 *
 * "gva": a fixed window, of one of three shapes (the claims leave "near"
 * open): "sym" the k pages on each side, "fwd" the k pages after, "table"
 * every present entry of the last-level page table that maps the fault
 * (512 pages, 2 MiB: the table the walk has just read).  One walk down to
 * that table serves all its pages (guest_pt_xlat_range).
 * "gva-adaptive" (beyond the patent): a sym or fwd window that doubles
 * when at least half of the pages brought ahead at the previous fault
 * were used before this one, halves when none were, between win_min and
 * win_max.
 *
 * The faulting GVA comes from hardware at fault time (claim 1(i); VT-x
 * reports the guest linear address of an EPT violation) or from decoding
 * the faulting instruction (claim 1(ii), US9454489 claim 4), which sim/
 * charges per fault from stats.decodes.  A fault with no GVA (a device's
 * access, or the walk's read of a page-table frame) is served fault-only.
 * The translations read only the table frames f->tables allows (those in
 * host memory): a neighbour below a table that is not is skipped, not
 * waited for (the claims translate through the tables; reading one that
 * is swapped out or not yet pulled would stall the fault on a second
 * synchronous read, the opposite of what the window is for).
 */
#include <stdlib.h>

#include "prefault/prefault.h"

struct gva {
    struct prefault_state s;         /* first */
    uint32_t win;                    /* current window (adaptive) */
    uint32_t hits;                   /* since the last fault */
    uint32_t last_prefetched;        /* frames brought ahead at the last fault */
    struct guest_xlat xl[PREFAULT_MAX_PAGES];
};

static const struct vm_param gva_params[] = {
    { "shape", VM_PARAM_ENUM, offsetof(struct prefault_cfg, shape),
      .choices = "sym|fwd|table", .def = "sym",
      .help = "+-k pages, k pages ahead, or the whole last-level page table" },
    { "k", VM_PARAM_U32, offsetof(struct prefault_cfg, k), .min = 1, .max = 511,
      .def = "8", .help = "pages on each side (sym) or ahead (fwd)" },
    { "gva_source", VM_PARAM_ENUM, offsetof(struct prefault_cfg, gva_source),
      .choices = "hw|decode", .def = "hw",
      .help = "faulting GVA from hardware, or by decoding the instruction (costs CPU)" },
    { NULL }
};

static const struct vm_param gva_adaptive_params[] = {
    { "shape", VM_PARAM_ENUM, offsetof(struct prefault_cfg, shape), .choices = "sym|fwd",
      .def = "sym", .help = "+-window pages, or window pages ahead" },
    { "k", VM_PARAM_U32, offsetof(struct prefault_cfg, k), .min = 1, .max = 511,
      .def = "8", .help = "the first window, pages" },
    { "win_min", VM_PARAM_U32, offsetof(struct prefault_cfg, win_min), .min = 1, .max = 511,
      .def = "1", .help = "smallest window, pages" },
    { "win_max", VM_PARAM_U32, offsetof(struct prefault_cfg, win_max), .min = 1, .max = 511,
      .def = "64", .help = "largest window, pages" },
    { "gva_source", VM_PARAM_ENUM, offsetof(struct prefault_cfg, gva_source),
      .choices = "hw|decode", .def = "hw",
      .help = "faulting GVA from hardware, or by decoding the instruction (costs CPU)" },
    { NULL }
};

static int start_common(const struct prefault_policy *p, const struct prefault_cfg *cfg,
                        const struct prefault_env *env, struct prefault_state **out)
{
    struct gva *g = (struct gva *)prefault_state_new(sizeof *g, p, cfg, env);
    if (!g)
        return VM_ENOMEM;
    g->win = cfg->k;
    *out = &g->s;
    return 0;
}

static int gva_start(const struct prefault_cfg *cfg, const struct prefault_env *env,
                     struct prefault_state **out, struct vm_diag *d)
{
    if (cfg->shape != PREFAULT_SHAPE_TABLE && (cfg->k == 0 || cfg->k > 511))
        return vm_diag_set(d, VM_EINVAL, "'k' %u: expected integer 1..511", cfg->k);
    return start_common(&prefault_gva_policy, cfg, env, out);
}

static int gva_adaptive_start(const struct prefault_cfg *cfg, const struct prefault_env *env,
                              struct prefault_state **out, struct vm_diag *d)
{
    if (cfg->shape == PREFAULT_SHAPE_TABLE)
        return vm_diag_set(d, VM_EINVAL, "'shape' table: expected one of sym|fwd");
    if (cfg->win_min == 0 || cfg->win_min > cfg->win_max || cfg->win_max > 511)
        return vm_diag_set(d, VM_EINVAL, "'win_min' %u, 'win_max' %u: expected "
                           "1 <= win_min <= win_max <= 511", cfg->win_min, cfg->win_max);
    if (cfg->k < cfg->win_min || cfg->k > cfg->win_max)
        return vm_diag_set(d, VM_EINVAL, "'k' %u: expected the first window within "
                           "'win_min' .. 'win_max' (%u .. %u)", cfg->k, cfg->win_min,
                           cfg->win_max);
    int rc = start_common(&prefault_gva_adaptive_policy, cfg, env, out);
    if (rc == 0)
        (*out)->st.window = cfg->k;
    return rc;
}

/* Bring in the translated neighbours of f within a window of `win` pages. */
static uint32_t window_fault(struct gva *g, const struct prefault_fault *f, uint64_t *out,
                             uint32_t win)
{
    struct prefault_state *s = &g->s;
    uint32_t n = prefault_answer_begin(s, f->gfn, out);
    if (!f->gva_known || !f->as) {
        s->st.no_gva++;
        return n;
    }
    if (s->cfg.gva_source == PREFAULT_GVA_DECODE)
        s->st.decodes++;
    uint64_t page = f->gva & ~0xfffull;
    struct guest_walk_cost c = { 0, 0 };
    uint32_t got;
    if (s->cfg.shape == PREFAULT_SHAPE_TABLE) {
        int r = guest_pt_xlat_table_rd(f->as, f->tables, page, g->xl, &c);
        got = r > 0 ? (uint32_t)r : 0;
    } else if (s->cfg.shape == PREFAULT_SHAPE_FWD) {
        got = page + 4096 ? guest_pt_xlat_range_rd(f->as, f->tables, page + 4096, win, g->xl,
                                                   &c)
                          : 0;
    } else {
        uint64_t below = page >> GUEST_PAGE_SHIFT < win ? page >> GUEST_PAGE_SHIFT : win;
        got = guest_pt_xlat_range_rd(f->as, f->tables, page - (below << GUEST_PAGE_SHIFT),
                                     (uint32_t)below + 1 + win, g->xl, &c);
    }
    s->st.walks += c.walks;
    s->st.entries += c.entries;
    for (uint32_t i = 0; i < got; i++)
        if (g->xl[i].gva != page)
            n = prefault_answer_add(s, g->xl[i].gfn, out, n);
    return n;
}

static uint32_t gva_fault(struct prefault_state *s, const struct prefault_fault *f,
                          uint64_t *out)
{
    return window_fault((struct gva *)s, f, out, s->cfg.k);
}

static uint32_t gva_adaptive_fault(struct prefault_state *s, const struct prefault_fault *f,
                                   uint64_t *out)
{
    struct gva *g = (struct gva *)s;
    if (g->last_prefetched) {
        if (g->hits * 2 >= g->last_prefetched && g->win < s->cfg.win_max) {
            g->win = g->win * 2 < s->cfg.win_max ? g->win * 2 : s->cfg.win_max;
            s->st.grows++;
        } else if (g->hits == 0 && g->win > s->cfg.win_min) {
            g->win = g->win / 2 > s->cfg.win_min ? g->win / 2 : s->cfg.win_min;
            s->st.shrinks++;
        }
    }
    g->hits = 0;
    s->st.window = g->win;
    uint32_t n = window_fault(g, f, out, g->win);
    g->last_prefetched = n - 1;
    return n;
}

static void gva_hit(struct prefault_state *s, uint64_t gfn)
{
    s->st.hits++;
    ((struct gva *)s)->hits++;
}

static void gva_destroy(struct prefault_state *s)
{
    free(s);
}

const struct prefault_policy prefault_gva_policy = {
    .name = "gva",
    .desc = "guest-virtual neighbours through the guest page tables (US9086981): "
            "+-k, k ahead, or the whole last-level table",
    .params = gva_params,
    .start = gva_start,
    .fault = gva_fault,
    .hit = gva_hit,
    .destroy = gva_destroy,
};

const struct prefault_policy prefault_gva_adaptive_policy = {
    .name = "gva-adaptive",
    .desc = "guest-virtual window doubled on prefetch hits, halved on misses",
    .params = gva_adaptive_params,
    .start = gva_adaptive_start,
    .fault = gva_adaptive_fault,
    .hit = gva_hit,
    .destroy = gva_destroy,
};
