/*
 * prefault_reap.c - REAP record-and-prefetch (Ustiugov et al., "Benchmarking,
 * Analysis, and Optimization of Serverless Function Snapshots", ASPLOS'21;
 * vHive's memory manager on Firecracker snapshots), as vHive does it.
 *
 * Record: the first invocation after the snapshot is served lazily, one
 * page per user fault, and every fault's guest-memory offset is appended
 * to a trace; the pages of the trace, sorted by offset and merged into
 * runs, are copied into a compact working-set (WS) file.  Here the world
 * runs that record pass (faultonly, with a struct prefault_recorder) and
 * passes the set in env->ws.
 * Replay: the WS file is read whole in one O_DIRECT read; on the first
 * user fault after the resume every WS page is installed at once
 * (UFFDIO_COPY of each run, then one wake); every later fault (a page the
 * recording did not touch) is served alone from the guest memory file.
 *
 * How that maps onto the policy interface: the first fault() answers the
 * faulting frame; the working set follows through bulk(), in the WS file's
 * order (guest frames ascending), PREFAULT_MAX_PAGES frames per call,
 * leaving out frames already resident and the faulting one, and flagged
 * PREFAULT_ANS_CONTIGUOUS: all of it is one sequential read of the WS
 * file (stats.ws_pages pages, resident ones included, as REAP reads the
 * whole file).  The faulting frame's answer is flagged too when the
 * working set holds it (REAP installs it from the file).  Later faults are
 * fault-only.  Accuracy: stats.ws_fetched frames came in ahead, hit()
 * counts stats.ws_hits of them used, the rest were never used.  A host
 * without room for the whole set (port_backing_room()) gets what fits, in
 * file order, and the rest is dropped (stats.clipped): REAP assumes the
 * VM's memory holds its working set.  No parameters: REAP has none.
 *
 * Not modelled: where the read overlaps the VMM's restore (vHive starts it
 * as the VM loads; the world decides when to charge it), vHive's
 * handling of a first fault outside the working set (it installs the set
 * and lets the vCPU fault again; here the answer serves it), the lazy
 * replay mode (the trace served one page per fault, a diagnostic).
 */
#include <stdlib.h>

#include "prefault/prefault.h"

struct reap {
    struct prefault_state s;         /* first */
    uint64_t *ws;                    /* the working set, frames ascending (WS file order) */
    uint64_t nr;
    bool replayed;                   /* the first fault has come */
    bool draining;                   /* bulk() continues the first fault */
    uint64_t cursor;                 /* next ws[] entry bulk() looks at */
    uint64_t first_gfn;              /* the first fault's frame (in its answer) */
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static bool ws_has(const struct reap *r, uint64_t gfn)
{
    return r->nr && bsearch(&gfn, r->ws, r->nr, sizeof *r->ws, cmp_u64) != NULL;
}

static int reap_start(const struct prefault_cfg *cfg, const struct prefault_env *env,
                      struct prefault_state **out, struct vm_diag *d)
{
    uint64_t *ws, nr;
    int rc = prefault_ws_copy("reap", env, &ws, &nr, d);
    if (rc < 0)
        return rc;
    struct reap *r = (struct reap *)prefault_state_new(sizeof *r, &prefault_reap_policy,
                                                       cfg, env);
    if (!r) {
        free(ws);
        return vm_diag_set(d, VM_ENOMEM, "'reap': out of memory");
    }
    if (nr)
        qsort(ws, nr, sizeof *ws, cmp_u64);  /* the WS file: runs by guest-memory offset */
    r->ws = ws;
    r->nr = nr;
    r->s.st.ws_pages = nr;
    *out = &r->s;
    return 0;
}

static uint32_t reap_fault(struct prefault_state *s, const struct prefault_fault *f,
                           uint64_t *out)
{
    struct reap *r = (struct reap *)s;
    uint32_t n = prefault_answer_begin(s, f->gfn, out);
    r->draining = false;             /* a set not drained by now is dropped */
    if (r->replayed)
        return n;                    /* outside the working set: served alone */
    r->replayed = true;
    if (r->nr == 0)
        return n;
    r->draining = true;
    r->cursor = 0;
    r->first_gfn = f->gfn;
    if (ws_has(r, f->gfn))
        s->answer_flags = PREFAULT_ANS_CONTIGUOUS;
    return n;
}

static uint32_t reap_bulk(struct prefault_state *s, uint64_t *out)
{
    struct reap *r = (struct reap *)s;
    const struct port_backing *b = s->env.backing;
    s->answer_flags = 0;
    if (!r->draining)
        return 0;
    uint64_t room = port_backing_room(b);
    uint32_t limit = room < PREFAULT_MAX_PAGES ? (uint32_t)room : PREFAULT_MAX_PAGES;
    uint32_t n = 0;
    while (r->cursor < r->nr && n < limit) {
        uint64_t g = r->ws[r->cursor++];
        if (g != r->first_gfn && !port_backing_is_resident(b, g))
            out[n++] = g;
    }
    if (n == limit && limit < PREFAULT_MAX_PAGES) {
        /* Out of room: the rest would evict what this read brought in. */
        for (; r->cursor < r->nr; r->cursor++) {
            uint64_t g = r->ws[r->cursor];
            s->st.clipped += g != r->first_gfn && !port_backing_is_resident(b, g);
        }
    }
    if (r->cursor == r->nr)
        r->draining = false;
    if (n)
        s->answer_flags = PREFAULT_ANS_CONTIGUOUS;
    s->st.prefetched += n;
    s->st.bulk_frames += n;
    s->st.ws_fetched += n;
    return n;
}

static void reap_hit(struct prefault_state *s, uint64_t gfn)
{
    s->st.hits++;
    s->st.ws_hits++;                 /* everything REAP brings ahead is from the set */
}

static void reap_destroy(struct prefault_state *s)
{
    if (!s)
        return;
    free(((struct reap *)s)->ws);
    free(s);
}

const struct prefault_policy prefault_reap_policy = {
    .name = "reap",
    .desc = "REAP (ASPLOS'21): the recorded working set in one read at the first fault, "
            "then fault-only",
    .flags = PREFAULT_F_NEEDS_WS,
    .params = NULL,
    .start = reap_start,
    .fault = reap_fault,
    .bulk = reap_bulk,
    .hit = reap_hit,
    .destroy = reap_destroy,
};
