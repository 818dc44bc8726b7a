/*
 * cons_m_mirror.c - the mechanism, US10956041 ("online snapshot
 * consolidation using I/O mirroring", VMware; shipped in vSphere 6.0):
 *
 *   mirror              copy every grain allocated above the target into
 *                       the target in one pass while the VM runs; every
 *                       guest write is sent to the delta and to the target
 *                       and acknowledged when both are down (claim 1); a
 *                       write meeting a grain under copy waits for that
 *                       copy, and a copy waits for writes in flight on its
 *                       grains, so a copy never lands old data over a
 *                       mirrored write; then a stun re-points the VM at the
 *                       target and drops the delta.
 *   mirror-target-only  the variant where a write to a grain that the
 *                       delta still holds goes to the target only: the
 *                       grain is read through the chain, the write merged
 *                       into it, the whole grain written to the target and
 *                       the grain table entries of the deltas above the
 *                       target that hold it cleared (durably,
 *                       before the acknowledgement: otherwise after a crash
 *                       the delta's stale grain would hide the write), and
 *                       the grain is done - the copy never visits it.  The
 *                       deltas let go a layer at a time, the lowest first,
 *                       each once the one below is durable: until the top
 *                       one goes it hides the stale grains below it, so a
 *                       failed unmap (or a crash) leaves the guest's view
 *                       on its last acknowledged write.
 *
 *   mirror-selective    the prior art it is measured against: Storage
 *                       vMotion's mirror driver (ESX 5.0; Mashtizadeh et
 *                       al., "The Design and Evolution of Live Storage
 *                       Migration in VMware ESX", USENIX ATC 2011, and
 *                       VMware's patent by Mashtizadeh and Koundinya: a
 *                       write IO "is selectively mirrored on the target
 *                       data store depending on whether or not the write
 *                       IO is in a region ... that has already been
 *                       copied").  Same copier, same coordination; a
 *                       write goes to the delta, and to the target only
 *                       in its grains that are not still to be copied
 *                       (copied already, or held by no delta: nothing
 *                       would copy those); the copy takes the rest later.
 *                       The region is the grain, not ESX's copy offset
 *                       (a write ahead of the offset went to the source
 *                       only, whatever the source held): here a write to
 *                       a grain no delta holds is mirrored, since
 *                       leaving it would add the grain to the copy.
 *
 * The switch-over stun's fixed part defaults to 415 ms: Broadcom KB 417644
 * logs "vm was stunned for 414878 us" (and 437796 us) for a snapshot
 * consolidation on vSAN 8, whose consolidation is this method.
 *
 * Also here, test-only (hidden) breakages of the mirror, one per
 * invariant: no mirroring, no copy/write coordination, reads served from
 * the target, an acknowledgement before the delta's entry is cleared, and
 * the chain's metadata-order mutations.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_bitmap.h"
#include "base/vm_err.h"
#include "consolidation/cons_int.h"

#define COPY_PARAMS \
    { "chunk", VM_PARAM_SIZE, offsetof(struct cons_method_cfg, chunk_bytes), .min = 4096, \
      .max = 64 << 20, .def = "1MiB", .help = "largest copy operation" }, \
    CONS_DM_PARAMS

static const struct vm_param mirror_params[] = {
    COPY_PARAMS,
    { "stun_fixed", VM_PARAM_TIME, offsetof(struct cons_method_cfg, stun_fixed_ns), .min = 0,
      .max = 3600e9, .def = "415ms",
      .help = "fixed part of the switch-over stun (KB 417644: 414878 us)" },
    { NULL },
};

static void start(struct cons_engine *e)
{
    int top = cons_chain_nr_layers(e->ch) - 1;
    e->res.iterations++;
    cons_copy_begin(e, top, cons_grains_above(e, top), false);
}

static void switch_now(struct cons_engine *e)
{
    if (cons_copy_left(e) || e->copies) {
        /* a write that failed during the drain gave grains back to the
         * copy (cons_guest.c): copy them, then stun again */
        e->phase_state = 0;
        cons_unstun(e);
        cons_copy_kick(e);
        return;
    }
    cons_switch_over(e);
}

static void copy_idle(struct cons_engine *e)
{
    if (e->phase_state)
        return;
    e->phase_state = 1;
    cons_ready(e);
    cons_stun(e, switch_now);
}

static void mirror_write(struct cons_engine *e, struct cons_greq *r)
{
    if (cons_copy_busy(e, r->g0, r->g1)) {
        cons_guest_park(e, r);
        return;
    }
    cons_guest_sub_write(e, r, e->active);
    if (e->active != e->cfg.target) {
        cons_guest_sub_mirror(e, r, e->cfg.target, r->io.sector, r->io.nr);
        e->res.mirror_bytes += (uint64_t)r->io.nr * 4096;
    }
}

/* ------------------------------------------------------------ selective */

/* The write goes to the delta whole; each run of its grains that is not
 * still to be copied (copied already, or held by no delta) goes to the
 * target too, the part in grains the copy will take does not. */
static void selective_write(struct cons_engine *e, struct cons_greq *r)
{
    if (cons_copy_busy(e, r->g0, r->g1)) {
        cons_guest_park(e, r);
        return;
    }
    cons_guest_sub_write(e, r, e->active);
    if (e->active == e->cfg.target)
        return;
    uint32_t gsh = cons_chain_cfg(e->ch)->grain_shift;
    uint64_t end = r->io.sector + r->io.nr;
    for (uint64_t g = r->g0; g <= r->g1;) {
        if (cons_copy_dirty(e, g)) {
            g++;
            continue;
        }
        uint64_t h = g;
        while (h + 1 <= r->g1 && !cons_copy_dirty(e, h + 1))
            h++;
        uint64_t s0 = g << gsh > r->io.sector ? g << gsh : r->io.sector;
        uint64_t s1 = (h + 1) << gsh < end ? (h + 1) << gsh : end;
        cons_guest_sub_mirror(e, r, e->cfg.target, s0, (uint32_t)(s1 - s0));
        e->res.mirror_bytes += (s1 - s0) * 4096;
        g = h + 1;
    }
}

/* ------------------------------------------------------------ target only */

static void tonly_written(void *arg, int rc);

/* The grains go back to the copier (they left its set for good). */
static void tonly_release(struct cons_engine *e, struct cons_greq *r)
{
    if (e->busy)
        for (uint64_t g = r->g0; g <= r->g1 && g < e->nr_grains; g++)
            vm_bitmap_clear(e->busy, g);
    e->copies--;
    e->merges--;
}

static void tonly_read(void *arg, int rc)
{
    struct cons_greq *r = arg;
    struct cons_engine *e = r->e;
    if (r->epoch != e->epoch) {
        cons_guest_sub_done(e, r, rc);
        return;
    }
    if (rc) {
        tonly_release(e, r);
        cons_guest_sub_done(e, r, rc);
        return;
    }
    uint32_t gs = cons_chain_grain_sectors(e->ch);
    uint64_t s0 = r->g0 * gs;
    memcpy(r->merge + (r->io.sector - s0), r->fps, sizeof *r->fps * r->io.nr);
    uint64_t end = (r->g1 + 1) * gs, nr = cons_chain_cfg(e->ch)->nr_sectors;
    uint32_t n = (uint32_t)((end > nr ? nr : end) - s0);
    e->res.mirror_bytes += (uint64_t)n * 4096;
    rc = cons_chain_write(e->ch, e->cfg.target, s0, n, r->merge, tonly_written, r);
    if (rc) {
        tonly_release(e, r);
        cons_guest_sub_done(e, r, rc);
    }
}

static void ignore_done(void *arg, int rc)
{
    (void)arg;
    (void)rc;
}

static void tonly_unmap_layer(struct cons_greq *r);
static void tonly_let_go(struct cons_engine *e, struct cons_greq *r);

/* The unmaps of one layer are down: on to the next layer, or the write
 * fails with the first error (the layers above still hold the grains). */
static void tonly_unmapped(void *arg, int rc)
{
    struct cons_greq *r = arg;
    struct cons_engine *e = r->e;
    if (rc && !r->unmap_rc)
        r->unmap_rc = rc;
    if (--r->unmap_pending)
        return;
    if (r->epoch != e->epoch || r->unmap_rc) {
        tonly_let_go(e, r);
        cons_guest_sub_done(e, r, r->epoch != e->epoch ? 0 : r->unmap_rc);
        return;
    }
    r->unmap_layer++;
    tonly_unmap_layer(r);
}

/* Does a delta above layer l hold one of r's grains (or allocate it)? */
static bool tonly_held_above(const struct cons_engine *e, const struct cons_greq *r, int l)
{
    for (int k = l + 1; k <= e->active; k++)
        for (uint64_t g = r->g0; g <= r->g1; g++)
            if (cons_chain_allocated(e->ch, k, g) || cons_chain_allocating(e->ch, k, g))
                return true;
    return false;
}

/* The grains go back to the copier and to the guest's other writes once
 * no delta above the target holds them in memory: a write merging them
 * before that would read a stale grain from a delta that has not let go
 * yet (the deltas let go one at a time). */
static void tonly_let_go(struct cons_engine *e, struct cons_greq *r)
{
    if (r->let_go || r->epoch != e->epoch)
        return;
    r->let_go = true;
    tonly_release(e, r);
    if (e->parked.n)
        cons_guest_unpark(e);
    cons_copy_kick(e);
}

/* Unmap the grains layer r->unmap_layer holds (layers holding none are
 * passed); past the active layer, the hold tonly_written() took goes. */
static void tonly_unmap_layer(struct cons_greq *r)
{
    struct cons_engine *e = r->e;
    for (; r->unmap_layer <= e->active; r->unmap_layer++) {
        r->unmap_pending = 1;
        struct cons_chain *ch = e->ch;
        cons_chain_batch_begin(ch);     /* the write's grains: one GT write a table */
        for (uint64_t g = r->g0; g <= r->g1; g++) {
            if (!cons_chain_allocated(ch, r->unmap_layer, g) &&
                !cons_chain_allocating(ch, r->unmap_layer, g))
                continue;
            r->unmap_pending++;
            int rc = cons_chain_unmap(ch, r->unmap_layer, g, tonly_unmapped, r);
            if (rc) {
                r->unmap_pending--;
                if (!r->unmap_rc)
                    r->unmap_rc = rc;
            }
        }
        cons_chain_batch_end(ch);
        if (!tonly_held_above(e, r, r->unmap_layer))
            tonly_let_go(e, r);
        if (r->unmap_pending > 1 || r->unmap_rc) {
            tonly_unmapped(r, 0);       /* the issuing reference */
            return;
        }
    }
    tonly_let_go(e, r);
    cons_guest_sub_done(e, r, 0);
}

static void tonly_written(void *arg, int rc)
{
    struct cons_greq *r = arg;
    struct cons_engine *e = r->e;
    if (r->epoch != e->epoch) {
        cons_guest_sub_done(e, r, rc);
        return;
    }
    if (rc) {
        tonly_release(e, r);
        cons_guest_sub_done(e, r, rc);
        return;
    }
    if (e->cfg.method->flags & CONS_F_EARLY_ACK) {
        struct cons_chain *ch = e->ch;
        cons_chain_batch_begin(ch);
        for (uint64_t g = r->g0; g <= r->g1; g++)
            for (int l = e->cfg.target + 1; l <= e->active; l++)
                if (cons_chain_allocated(ch, l, g) &&
                    cons_chain_unmap(ch, l, g, ignore_done, NULL))
                    cons_fail(e, VM_EIO, "unmap");
        cons_chain_batch_end(ch);
        tonly_let_go(e, r);
    } else {
        r->unmap_layer = e->cfg.target + 1;
        r->unmap_rc = 0;
        r->let_go = false;
        r->pending++;               /* held until the last layer let go */
        tonly_unmap_layer(r);
    }
    cons_guest_sub_done(e, r, 0);
}

static void tonly_write(struct cons_engine *e, struct cons_greq *r)
{
    if (cons_copy_busy(e, r->g0, r->g1)) {
        cons_guest_park(e, r);
        return;
    }
    /* a write issued before the job still allocating one of the grains
     * in a delta: mirrored, as the mechanism does (the delta's write waits
     * for that allocation, the copy takes the grain later); merged now,
     * the grain that allocation lands would hide the target's */
    for (uint64_t g = r->g0; g <= r->g1; g++)
        for (int l = e->cfg.target + 1; l <= e->active; l++)
            if (cons_chain_allocating(e->ch, l, g)) {
                mirror_write(e, r);
                return;
            }
    /* an earlier write's unmap of a grain still in flight (its entry is
     * clear in memory only): this write is acknowledged once that is down,
     * or the delta's grain - back after a crash, or put back by a failed
     * unmap - would hide it */
    for (uint64_t g = r->g0; g <= r->g1; g++)
        for (int l = e->cfg.target + 1; l <= e->active; l++)
            cons_guest_sub_unmap_wait(e, r, l, g);
    bool held = false;          /* a delta above the target hides the target's copy */
    for (uint64_t g = r->g0; g <= r->g1 && !held; g++)
        held = cons_chain_resolve(e->ch, e->active, g) > e->cfg.target;
    if (!held) {                /* the target's view is the disk's: write it there only */
        cons_guest_sub_write(e, r, e->cfg.target);
        return;
    }
    uint32_t gs = cons_chain_grain_sectors(e->ch);
    uint64_t s0 = r->g0 * gs, end = (r->g1 + 1) * gs, nr = cons_chain_cfg(e->ch)->nr_sectors;
    uint32_t n = (uint32_t)((end > nr ? nr : end) - s0);
    r->merge = malloc(sizeof *r->merge * n);
    if (!r->merge) {
        cons_fail(e, VM_ENOMEM, "merge buffer");
        return;
    }
    /* the grains are this write's until the delta lets go of them */
    for (uint64_t g = r->g0; g <= r->g1; g++) {
        cons_copy_unmark(e, g);
        if (e->busy && g < e->nr_grains)
            vm_bitmap_set(e->busy, g);
    }
    e->copies++;                /* the copier sees the grains busy (tonly_release) */
    e->merges++;
    r->let_go = false;
    r->to_target = true;        /* a failure gives the grains back to the copy set */
    r->pending++;
    int rc = cons_chain_read(e->ch, e->active, s0, n, r->merge, tonly_read, r);
    if (rc) {
        r->pending--;
        cons_fail(e, rc, "merge read");
    }
}

/* ------------------------------------------------------------ broken */

static void nomirror_write(struct cons_engine *e, struct cons_greq *r)
{
    cons_guest_sub_write(e, r, e->active);
}

static void race_write(struct cons_engine *e, struct cons_greq *r)
{
    cons_guest_sub_write(e, r, e->active);
    cons_guest_sub_write(e, r, e->cfg.target);
}

static int target_view(const struct cons_engine *e)
{
    return e->cfg.target;
}

const struct cons_method cons_m_mirror = {
    .name = "mirror",
    .desc = "US10956041: one copy pass, guest writes mirrored to delta and target (vSphere >= 6.0)",
    .params = mirror_params, .flags = CONS_F_MIRROR_CHECK,
    .start = start, .write = mirror_write, .copy_idle = copy_idle,
};

const struct cons_method cons_m_mirror_tonly = {
    .name = "mirror-target-only",
    .desc = "US10956041 variant: a write to a grain the delta holds goes to the target only",
    .params = mirror_params, .flags = CONS_F_MIRROR_CHECK,
    .start = start, .write = tonly_write, .copy_idle = copy_idle,
};

const struct cons_method cons_m_mirror_selective = {
    .name = "mirror-selective",
    .desc = "Storage vMotion's mirror (ESX 5.0): writes to grains not yet copied go to the delta only",
    .params = mirror_params, .flags = CONS_F_MIRROR_CHECK,
    .start = start, .write = selective_write, .copy_idle = copy_idle,
};

const struct cons_method cons_m_broken_nomirror = {
    .name = "broken-no-mirror", .desc = "test: guest writes go to the delta only",
    .params = mirror_params, .flags = CONS_F_HIDDEN | CONS_F_MIRROR_CHECK,
    .start = start, .write = nomirror_write, .copy_idle = copy_idle,
};

const struct cons_method cons_m_broken_race = {
    .name = "broken-copy-race", .desc = "test: no coordination of copies and mirrored writes",
    .params = mirror_params, .flags = CONS_F_HIDDEN,
    .start = start, .write = race_write, .copy_idle = copy_idle,
};

const struct cons_method cons_m_broken_read = {
    .name = "broken-read-target", .desc = "test: guest reads served from the target",
    .params = mirror_params, .flags = CONS_F_HIDDEN | CONS_F_MIRROR_CHECK,
    .start = start, .write = mirror_write, .copy_idle = copy_idle, .read_view = target_view,
};

const struct cons_method cons_m_broken_early_ack = {
    .name = "broken-target-only-early-ack",
    .desc = "test: target-only writes acknowledged before the delta lets go of the grain",
    .params = mirror_params, .flags = CONS_F_HIDDEN | CONS_F_MIRROR_CHECK | CONS_F_EARLY_ACK,
    .start = start, .write = tonly_write, .copy_idle = copy_idle,
};

const struct cons_method cons_m_broken_gt_order = {
    .name = "broken-gt-before-data",
    .desc = "test: the chain writes a grain table entry before the grain's data",
    .params = mirror_params, .flags = CONS_F_HIDDEN | CONS_F_MIRROR_CHECK,
    .start = start, .write = mirror_write, .copy_idle = copy_idle,
    .mutation = CONS_MUT_GT_BEFORE_DATA,
};

const struct cons_method cons_m_broken_ack_gt = {
    .name = "broken-ack-before-gt",
    .desc = "test: the chain acknowledges an allocating write before its grain table",
    .params = mirror_params, .flags = CONS_F_HIDDEN | CONS_F_MIRROR_CHECK,
    .start = start, .write = mirror_write, .copy_idle = copy_idle,
    .mutation = CONS_MUT_ACK_BEFORE_GT,
};
