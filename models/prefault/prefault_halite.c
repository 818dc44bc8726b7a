/*
 * prefault_halite.c - Halite's locality blocks (Zhang, Denniston,
 * Baskakov, Garthwaite, "Optimizing VM Checkpointing for Restore
 * Performance in VMware ESXi", USENIX ATC'13): predict not which pages a
 * restored VM will touch but which it will touch together; group those
 * into locality blocks stored together, and on each fault load the whole
 * block that holds the faulting page.
 *
 * Blocks, as we read the abstract (the paper's profiling details are not
 * in our sources): a record pass gives the order in which the guest first
 * touched its frames (env->ws, from a struct prefault_recorder); cutting
 * that sequence into consecutive runs of block_pages frames puts frames
 * touched close together in time into one block.  Frames the recording
 * never touched have no profile; they form blocks of guest-physical
 * neighbours (the block_pages-aligned group of frames, less the recorded
 * ones, which belong to their locality blocks), as a save lays out pages
 * it knows nothing about.
 * Fault: the faulting frame, then the absent frames of its block in block
 * order, flagged PREFAULT_ANS_CONTIGUOUS (Halite stores a block together:
 * one read).  Accuracy: stats.ws_fetched recorded frames came in ahead,
 * hit() counts stats.ws_hits of them used.
 *
 * block_pages: Halite's block size is not in our sources; the default 16
 * (64 KiB) is the buffered checkpoint's block (ckpt_buffered.c, the same
 * authors' patent family), inside the 4..64 pages (16..256 KiB) worth
 * sweeping.
 * Not modelled: compression of blocks, Halite's other restore
 * optimisations, the working-set prefetch of the same group's VEE'11
 * restore (reap is the prefetch baseline).
 */
#include <stdlib.h>

#include "prefault/prefault.h"

struct ws_pos {
    uint64_t gfn;
    uint64_t idx;                    /* position in the first-touch order */
};

struct halite {
    struct prefault_state s;         /* first */
    uint64_t *order;                 /* recorded frames, first touch first */
    uint64_t nr;
    struct ws_pos *by_gfn;           /* the same frames, gfn ascending */
};

static const struct vm_param halite_params[] = {
    { "block_pages", VM_PARAM_U32, offsetof(struct prefault_cfg, block_pages), .min = 1,
      .max = 512, .def = "16",
      .help = "frames per locality block (consecutive first touches of the record pass)" },
    { NULL }
};

static int cmp_pos(const void *a, const void *b)
{
    uint64_t x = ((const struct ws_pos *)a)->gfn, y = ((const struct ws_pos *)b)->gfn;
    return (x > y) - (x < y);
}

/* The frame's position in the first-touch order, or UINT64_MAX if unrecorded. */
static uint64_t ws_index(const struct halite *h, uint64_t gfn)
{
    if (!h->nr)
        return UINT64_MAX;
    struct ws_pos key = { gfn, 0 };
    const struct ws_pos *p = bsearch(&key, h->by_gfn, h->nr, sizeof *h->by_gfn, cmp_pos);
    return p ? p->idx : UINT64_MAX;
}

static void halite_destroy(struct prefault_state *s)
{
    if (!s)
        return;
    struct halite *h = (struct halite *)s;
    free(h->order);
    free(h->by_gfn);
    free(h);
}

static int halite_start(const struct prefault_cfg *cfg, const struct prefault_env *env,
                        struct prefault_state **out, struct vm_diag *d)
{
    if (cfg->block_pages == 0 || cfg->block_pages > 512)
        return vm_diag_set(d, VM_EINVAL, "'block_pages' %u: expected integer 1..512",
                           cfg->block_pages);
    uint64_t *order, nr;
    int rc = prefault_ws_copy("halite", env, &order, &nr, d);
    if (rc < 0)
        return rc;
    struct halite *h = (struct halite *)prefault_state_new(sizeof *h, &prefault_halite_policy,
                                                           cfg, env);
    if (!h) {
        free(order);
        return vm_diag_set(d, VM_ENOMEM, "'halite': out of memory");
    }
    h->order = order;
    h->nr = nr;
    if (nr) {
        h->by_gfn = malloc(nr * sizeof *h->by_gfn);
        if (!h->by_gfn) {
            halite_destroy(&h->s);
            return vm_diag_set(d, VM_ENOMEM, "'halite': out of memory");
        }
        for (uint64_t i = 0; i < nr; i++)
            h->by_gfn[i] = (struct ws_pos){ order[i], i };
        qsort(h->by_gfn, nr, sizeof *h->by_gfn, cmp_pos);
    }
    h->s.st.ws_pages = nr;
    *out = &h->s;
    return 0;
}

static uint32_t halite_fault(struct prefault_state *s, const struct prefault_fault *f,
                             uint64_t *out)
{
    struct halite *h = (struct halite *)s;
    uint64_t bp = s->cfg.block_pages;
    uint32_t n = prefault_answer_begin(s, f->gfn, out);
    s->answer_flags = PREFAULT_ANS_CONTIGUOUS;
    uint64_t idx = ws_index(h, f->gfn);
    if (idx != UINT64_MAX) {         /* its locality block */
        uint64_t first = idx - idx % bp;
        uint64_t end = first + bp < h->nr ? first + bp : h->nr;
        for (uint64_t i = first; i < end; i++) {
            uint32_t m = prefault_answer_add(s, h->order[i], out, n);
            s->st.ws_fetched += m - n;
            n = m;
        }
        return n;
    }
    /* Unprofiled: the aligned group of guest frames, less recorded ones. */
    uint64_t nr_frames = port_backing_nr_frames(s->env.backing);
    uint64_t first = f->gfn - f->gfn % bp;
    uint64_t end = first + bp < nr_frames ? first + bp : nr_frames;
    for (uint64_t g = first; g < end; g++)
        if (g != f->gfn && ws_index(h, g) == UINT64_MAX)
            n = prefault_answer_add(s, g, out, n);
    return n;
}

static void halite_hit(struct prefault_state *s, uint64_t gfn)
{
    s->st.hits++;
    if (ws_index((struct halite *)s, gfn) != UINT64_MAX)
        s->st.ws_hits++;
}

const struct prefault_policy prefault_halite_policy = {
    .name = "halite",
    .desc = "Halite (ATC'13): the locality block of the faulting page, blocks cut from "
            "the recorded first-touch order",
    .flags = PREFAULT_F_NEEDS_WS,
    .params = halite_params,
    .start = halite_start,
    .fault = halite_fault,
    .hit = halite_hit,
    .destroy = halite_destroy,
};
