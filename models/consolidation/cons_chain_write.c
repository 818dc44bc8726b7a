/*
 * cons_chain_write.c - writes into the disk chain (see cons_chain.h):
 * in place for grains a delta holds, else allocation in the order a
 * sparse format keeps (VMware's sparse extents, qcow2): fill the grain's
 * other sectors from the layers below (copy on write), write the whole
 * grain at the end of the file, then its GT block, then for a new GT the
 * GD block, and only then acknowledge.  GT and GD blocks are written
 * with group commit (struct cons_meta): one write in flight per block,
 * entries set meanwhile go out together in the next, so an older image
 * never lands after a newer one.  Whole grains a write allocates back to
 * back in the file go down as one data request, and their entries then
 * in one GT write (cons_chain_batch_begin), as qcow2 links the L2 entries of an
 * allocation at once; until 2026-12-01 (tenth session) the first grain's
 * entry went out alone and the others waited for a second write, which
 * doubled the table writes and their latency for writes of several
 * grains.  Also unmap and flush;
 * an unmapped grain's place is reused once its GT write is durable
 * (cons_chain_int.h).  Not modelled: reuse of the grains a crash leaked.
 *
 * A failed write (the device's error) fails the operation it served, and
 * what the tables hold in memory goes back to what the disk holds, so
 * nothing is later acknowledged on an entry no reopen would find: the
 * entry of an allocation whose GT (or GD) write failed is cleared and its
 * place leaked (the disk may name it), while the place of one that failed
 * before (a fill read, the data write) is reused; a GD entry a failed GD write
 * carried is set again by the table's next GT write (which then waits for
 * the GD again); a failed unmap's entry is restored.  This rollback is
 * the model's own rule: QEMU's qcow2 drops an allocation
 * (qcow2_alloc_cluster_abort() in block/qcow2-cluster.c, which frees the
 * clusters) only when its data write fails, before the L2 entry is
 * linked, and keeps a failed L2 write's entries dirty in its metadata
 * cache, written again at the next flush; a failed data write here
 * likewise leaves the entry unset.  A failed write lands nothing here
 * (the disk model's injected error); a real one may have landed, which
 * leaves the old content or the write's, as the checks accept.
 */
#include "consolidation/cons_chain.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_err.h"
#include "consolidation/cons_chain_int.h"

/* ---- metadata blocks with group commit --------------------------------- */

struct cons_meta *cons_meta_new(struct cons_chain *ch, struct cons_layer *ly, bool is_gd,
                                uint32_t index)
{
    size_t len = is_gd ? CONS_GD_LEN : CONS_GT_LEN;
    struct cons_meta *m = is_gd ? NULL : ch->meta_free;
    if (m) {                        /* every write fills the whole blob */
        ch->meta_free = m->fnext;
        ch->nr_meta_free--;
        memset(m, 0, sizeof(*m));
    } else if (!(m = calloc(1, sizeof(*m) + len))) {
        return NULL;
    }
    m->ch = ch;
    m->ly = ly;
    m->is_gd = is_gd;
    m->index = index;
    return m;
}

static void meta_start(struct cons_meta *m);

/* An idle GT committer goes: the next entry of its table makes a new one. */
static void meta_idle(struct cons_meta *m)
{
    m->ly->gtc[m->index] = NULL;
    cons_meta_put(m->ch, m);
}

static void meta_done(struct port_blk_req *req, int rc)
{
    struct cons_meta *m = req->data;
    struct cons_layer *ly = m->ly;
    /* this write's waiters, taken now: the GD write started below may
     * let other actors run first (a simcall), and a write they start on
     * this block makes its next batch the current one */
    struct cons_wlist waiters = m->cur;
    m->cur = (struct cons_wlist){ NULL, NULL };
    m->inflight = false;
    m->done++;
    if (m->is_gd && rc && m->ch->cfg.mutation != CONS_MUT_KEEP_FAILED) {
        /* the GD entries this write was to make durable are not: the
         * tables' next GT write sets them again (and waits for the GD) */
        struct cons_chain *ch = m->ch;
        uint64_t first = (uint64_t)m->index * CONS_GD_PER_BLOCK;
        for (uint64_t t = first; t < ch->nr_gts && t < first + CONS_GD_PER_BLOCK; t++)
            if (ly->gd_need[t] == m->started) {
                ly->gd_img[t] = 0;
                ly->gd_need[t] = 0;
            }
    }
    if (!m->is_gd && rc == 0 && ly->gd_img[m->index] == 0) {
        /* the GT block is durable: now the GD may point to it */
        uint64_t t = m->index;
        struct cons_meta *gd = ly->gdc[t / CONS_GD_PER_BLOCK];
        ly->gd_img[t] = ly->gt_pos[t];
        ly->gd_need[t] = gd->started + 1;
        gd->dirty = true;
        if (!gd->inflight)
            meta_start(gd);
    }
    /* the waiters' callbacks (and actors that run meanwhile) may start the
     * next write - one write in flight per block - and a write the port
     * refuses at once (a dead chain's) ends in a meta_done() nested in
     * this one, which must not free the block under it */
    m->waking++;
    cons_wl_wake(&waiters, rc);
    m->waking--;
    if (m->inflight || m->waking) {
        return;
    } else if (m->dirty || m->next.head) {
        meta_start(m);
    } else if (!m->is_gd && !m->inflight && !m->held) {
        meta_idle(m);
    }
}

static void meta_start(struct cons_meta *m)
{
    struct cons_layer *ly = m->ly;
    struct cons_chain *ch = m->ch;
    uint64_t lba;
    uint32_t len;
    if (m->is_gd) {
        uint64_t first = (uint64_t)m->index * CONS_GD_PER_BLOCK;
        uint64_t nv = ch->nr_gts - first < CONS_GD_PER_BLOCK ? ch->nr_gts - first
                                                               : CONS_GD_PER_BLOCK;
        cons_fmt_put_tbl(m->blob, CONS_GD_MAGIC, ly->slot, m->index, ly->gd_img + first,
                         (uint32_t)nv, CONS_GD_PER_BLOCK);
        lba = ly->lba0 + 1 + m->index;
        len = CONS_GD_LEN;
    } else {
        const uint32_t *ent = ly->gt[m->index];
        cons_fmt_put_tbl(m->blob, CONS_GT_MAGIC, ly->slot, m->index, ent, ent ? CONS_GT_ENTRIES : 0,
                         CONS_GT_ENTRIES);
        lba = ly->lba0 + ly->gt_pos[m->index];
        len = CONS_GT_LEN;
    }
    m->started++;
    m->inflight = true;
    m->dirty = false;
    m->cur = m->next;
    m->next = (struct cons_wlist){ NULL, NULL };
    m->req = (struct port_blk_req){ .op = PORT_BLK_WRITE, .lba = lba, .nr_blocks = 1, .packed = 1,
                                    .bytes = m->blob, .len = len, .cb = meta_done, .data = m };
    int rc = port_blk_submit(ch->dev, &m->req);
    if (rc < 0)
        meta_done(&m->req, rc);     /* the port refused it: fail this batch */
}

/* Start m's next write, or, while the chain holds, queue m for the
 * release (it has a waiter in next, so nothing frees it meanwhile). */
static void meta_kick(struct cons_meta *m)
{
    struct cons_chain *ch = m->ch;
    if (m->held)
        return;                     /* the release in progress starts it */
    if (!ch->meta_hold) {
        meta_start(m);
    } else {
        m->held = true;
        m->hnext = ch->held;
        ch->held = m;
    }
}

void cons_chain_batch_begin(struct cons_chain *ch)
{
    ch->meta_hold++;
}

void cons_chain_batch_end(struct cons_chain *ch)
{
    if (--ch->meta_hold)
        return;
    /* meta_start() may run callbacks (a write the port refuses at once
     * completes inside it) that set entries and kick blocks: a block not
     * on the list starts at once (hold is 0), one still on it is left to
     * this loop, and meta_done() frees no block on the list */
    struct cons_meta *m;
    while ((m = ch->held)) {
        ch->held = m->hnext;
        m->held = false;
        if (m->inflight || m->waking)
            continue;
        if (m->dirty || m->next.head) {
            meta_start(m);
        } else if (!m->is_gd) {     /* idle (not expected: it had a waiter) */
            meta_idle(m);
        }
    }
}

void cons_meta_request(struct cons_meta *m, struct cons_wait *w)
{
    m->dirty = true;
    cons_wl_push(&m->next, w);
    if (!m->inflight)
        meta_kick(m);
}

void cons_meta_wait_for(struct cons_meta *m, uint64_t gen, struct cons_wait *w)
{
    if (gen <= m->done) {
        w->fn(w, 0);
    } else if (m->inflight && gen == m->started) {
        cons_wl_push(&m->cur, w);
    } else {
        cons_wl_push(&m->next, w);
        if (!m->inflight)
            meta_kick(m);
    }
}

static struct cons_meta *gt_meta(struct cons_chain *ch, struct cons_layer *ly, uint64_t t)
{
    if (!ly->gtc[t])
        ly->gtc[t] = cons_meta_new(ch, ly, false, (uint32_t)t);
    return ly->gtc[t];
}

/* ---- write operations ---------------------------------------------------- */

struct cons_wop {
    struct cons_chain *ch;
    int layer;
    struct cons_layer *ly;
    uint64_t s, end, cur;
    const uint64_t *fps;
    cons_done_fn done;
    void *arg;
    uint32_t pending;               /* requests and allocations, +1 while scanning */
    uint32_t issued;
    uint32_t epoch;                 /* cons_io_begin()'s parity: in-place places found */
    int rc;
    struct cons_wait w;             /* waiting on a grain in flight */
    uint64_t run_lba, run_off;
    uint32_t run_len;
    /* in-place runs gathered into one vectored request: vlba/vlen[vstart..nv) */
    uint64_t *vlba;
    uint32_t *vlen;
    uint32_t vstart, nv;
    uint64_t voff;                  /* the first run's place in fps */
    struct cons_galloc *grp, *grp_last;     /* whole grains allocated back to back, unsent */
    uint32_t nr_reqs, cap;
    struct port_blk_req reqs[];
};

static void wop_put(struct cons_wop *op, int rc)
{
    if (rc && !op->rc)
        op->rc = rc;
    if (--op->pending)
        return;
    cons_done_fn done = op->done;
    void *arg = op->arg;
    rc = op->rc;
    cons_op_end(op->ch, op, op->epoch);
    done(arg, rc);
}

static void wop_req_done(struct port_blk_req *req, int rc) { wop_put(req->data, rc); }

/* Send the runs gathered since the last send as one request: plain for
 * one run, vectored (one device I/O per run, port_blk.h) for several. */
static void wop_send_runs(struct cons_wop *op)
{
    uint32_t n = op->nv - op->vstart;
    if (!n)
        return;
    struct port_blk_req *req = &op->reqs[op->nr_reqs++];
    uint32_t blocks = 0;
    for (uint32_t i = op->vstart; i < op->nv; i++)
        blocks += op->vlen[i];
    *req = (struct port_blk_req){ .op = PORT_BLK_WRITE, .lba = op->vlba[op->vstart],
                                  .nr_blocks = blocks,
                                  .fps = (uint64_t *)(op->fps + op->voff),
                                  .cb = wop_req_done, .data = op };
    if (n > 1) {
        req->nr_ios = n;
        req->lbas = op->vlba + op->vstart;
        req->io_blocks = op->vlen + op->vstart;
    }
    op->vstart = op->nv;
    op->pending++;
    op->issued++;
    int rc = port_blk_submit(op->ch->dev, req);
    if (rc < 0)
        wop_put(op, rc);
}

/* The current run is complete: add it to the request being gathered. */
static void wop_flush_run(struct cons_wop *op)
{
    if (!op->run_len)
        return;
    if (op->nv == op->vstart)
        op->voff = op->run_off;
    op->vlba[op->nv] = op->run_lba;
    op->vlen[op->nv] = op->run_len;
    op->nv++;
    op->run_len = 0;
}

/* ---- allocation of one grain --------------------------------------------- */

enum { GA_FILL, GA_DATA, GA_GT, GA_GD };

static void ga_finish(struct cons_galloc *ga, int rc)
{
    struct cons_chain *ch = ga->ch;
    /* failed: the entry goes back to what the disk names - nothing, or
     * the place an unmap that failed meanwhile left named; the grain is in
     * flight, so the entry is ours; our place is leaked */
    if (rc && ch->cfg.mutation != CONS_MUT_KEEP_FAILED) {
        uint32_t cur = cons_gt_entry(ga->ly, ga->g);
        if (cur == ga->pos || (cur == 0 && ga->restore))
            (void)cons_layer_set(ga->ly, ga->g, ga->restore);
        /* failed before any table named the place (a fill read, the data
         * write): no disk names it, it can be reused (as QEMU frees the
         * clusters of an allocation whose data write failed) */
        if (ga->stage < GA_GT && ch->cfg.mutation != CONS_MUT_GT_BEFORE_DATA)
            (void)cons_layer_release_grain(ch, ga->ly, ga->pos);
    }
    struct cons_galloc **pp = &ch->ht[cons_ht_hash(ga->slot, ga->g) & ch->ht_mask];
    while (*pp != ga)               /* it is in the table from ga_start on */
        pp = &(*pp)->hnext;
    *pp = ga->hnext;
    ch->ht_count--;
    ga->ly->nr_inflight--;
    ga->ly->nr_busy--;
    struct cons_wop *op = ga->op;
    struct cons_wlist waiters = ga->waiters;
    ga->hnext = ch->ga_free;
    ch->ga_free = ga;
    if (op)
        wop_put(op, rc);
    cons_wl_wake(&waiters, rc);
}

static void ga_fill(struct cons_galloc *ga);

static void ga_set_entry(struct cons_galloc *ga);

static void ga_after_data(struct cons_galloc *ga, int rc)
{
    if (rc) {
        ga_finish(ga, rc);
        return;
    }
    if (ga->ch->cfg.mutation == CONS_MUT_GT_BEFORE_DATA) {
        ga_finish(ga, 0);
        return;
    }
    if (ga->ch->cfg.mutation == CONS_MUT_ACK_BEFORE_GT && ga->op) {
        struct cons_wop *op = ga->op;
        ga->op = NULL;
        wop_put(op, 0);             /* deliberately early: the GT is not down yet */
    }
    ga_set_entry(ga);
}

/* The data write of a group (usually of one grain) is done: each grain
 * goes on alone. */
static void ga_data_done(struct port_blk_req *req, int rc)
{
    struct cons_chain *ch = ((struct cons_galloc *)req->data)->ch;
    /* the group's entries go out in one GT write (per GT), not the first
     * grain's alone and the rest in the next */
    cons_chain_batch_begin(ch);
    for (struct cons_galloc *ga = req->data, *next; ga; ga = next) {
        next = ga->follow;          /* ga may be freed by what follows */
        ga->follow = NULL;
        ga_after_data(ga, rc);
    }
    cons_chain_batch_end(ch);
}

static void ga_write_data(struct cons_galloc *ga)
{
    ga->stage = GA_DATA;
    ga->req = (struct port_blk_req){ .op = PORT_BLK_WRITE, .lba = ga->ly->lba0 + ga->pos,
                                     .nr_blocks = ga->ch->gsec * ga->nr_group, .fps = ga->data,
                                     .cb = ga_data_done, .data = ga };
    int rc = port_blk_submit(ga->ch->dev, &ga->req);
    if (rc < 0)
        ga_data_done(&ga->req, rc);
}

static void ga_fill_done(void *arg, int rc)
{
    struct cons_galloc *ga = arg;
    if (rc && !ga->rc)
        ga->rc = rc;
    if (--ga->pending)
        return;
    if (ga->rc)
        ga_finish(ga, ga->rc);
    else
        ga_write_data(ga);
}

/* The sectors [a, b) of the grain come from the write; fill the rest. */
static void ga_fill(struct cons_galloc *ga)
{
    ga->stage = GA_FILL;
    if (ga->data != ga->buf) {      /* the write covers the whole grain */
        ga_write_data(ga);
        return;
    }
    struct cons_chain *ch = ga->ch;
    uint64_t g0 = ga->g << ch->cfg.grain_shift;
    uint32_t a = ga->fill_a, b = ga->fill_b;
    uint32_t gs = ch->gsec;
    if (g0 + gs > ch->cfg.nr_sectors)   /* the disk's last grain may be short */
        gs = (uint32_t)(ch->cfg.nr_sectors - g0);
    ga->pending = 1;
    if (a > 0) {
        ga->pending++;
        int rc = cons_read_start(ch, ga->layer - 1, g0, a, ga->buf, ga_fill_done, ga);
        if (rc < 0) {
            ga->pending--;
            ga->rc = rc;
        }
    }
    if (b < gs) {
        ga->pending++;
        int rc = cons_read_start(ch, ga->layer - 1, g0 + b, gs - b, ga->buf + b, ga_fill_done, ga);
        if (rc < 0) {
            ga->pending--;
            ga->rc = rc;
        }
    }
    ga_fill_done(ga, 0);
}

static void ga_meta_done(struct cons_wait *w, int rc)
{
    struct cons_galloc *ga = (struct cons_galloc *)((char *)w - offsetof(struct cons_galloc, w));
    if (rc) {
        ga_finish(ga, rc);
        return;
    }
    struct cons_layer *ly = ga->ly;
    uint64_t t = ga->g / CONS_GT_ENTRIES;
    if (ga->stage == GA_GT) {
        struct cons_meta *gd = ly->gdc[t / CONS_GD_PER_BLOCK];
        if (ly->gd_need[t] > gd->done) {
            ga->stage = GA_GD;
            cons_meta_wait_for(gd, ly->gd_need[t], &ga->w);
            return;
        }
    }
    if (ga->ch->cfg.mutation == CONS_MUT_GT_BEFORE_DATA)
        ga_fill(ga);                /* deliberately late: the tables already point here */
    else
        ga_finish(ga, 0);
}

static void ga_set_entry(struct cons_galloc *ga)
{
    struct cons_layer *ly = ga->ly;
    uint64_t t = ga->g / CONS_GT_ENTRIES;
    struct cons_meta *m = gt_meta(ga->ch, ly, t);
    int rc = m ? cons_layer_set(ly, ga->g, ga->pos) : VM_ENOMEM;
    if (rc) {
        ga_finish(ga, rc);
        return;
    }
    ga->stage = GA_GT;
    ga->w.fn = ga_meta_done;
    cons_meta_request(m, &ga->w);
}

static int ht_grow(struct cons_chain *ch)
{
    uint64_t nb = (ch->ht_mask + 1) * 2;
    struct cons_galloc **ht = calloc(nb, sizeof(*ht));
    if (!ht)
        return VM_ENOMEM;
    for (uint64_t b = 0; b <= ch->ht_mask; b++)
        for (struct cons_galloc *ga = ch->ht[b], *n; ga; ga = n) {
            n = ga->hnext;
            uint64_t h = cons_ht_hash(ga->slot, ga->g);
            ga->hnext = ht[h & (nb - 1)];
            ht[h & (nb - 1)] = ga;
        }
    free(ch->ht);
    ch->ht = ht;
    ch->ht_mask = nb - 1;
    return 0;
}

/* Start allocating grain g for op, which writes its sectors [a, b). */
#define GROUP_MAX 64u               /* grains in one grouped data write */

static void wop_send_group(struct cons_wop *op)
{
    struct cons_galloc *ld = op->grp;
    op->grp = op->grp_last = NULL;
    if (ld)
        ga_write_data(ld);
}

static int ga_start(struct cons_wop *op, uint64_t g, uint32_t a, uint32_t b)
{
    struct cons_chain *ch = op->ch;
    struct cons_layer *ly = op->ly;
    if (ch->ht_count > ch->ht_mask && ht_grow(ch) < 0)
        return VM_ENOMEM;
    struct cons_galloc *ga = ch->ga_free;
    if (ga)
        ch->ga_free = ga->hnext;
    else if (!(ga = malloc(sizeof(*ga) + ch->gsec * sizeof(uint64_t))))
        return VM_ENOMEM;
    if (!cons_layer_reserve_gt(ch, ly, g / CONS_GT_ENTRIES)) {
        ga->hnext = ch->ga_free;
        ch->ga_free = ga;
        return VM_ENOSPC;
    }
    uint32_t pos = cons_layer_reserve_grain(ch, ly);
    if (!pos) {
        ga->hnext = ch->ga_free;
        ch->ga_free = ga;
        return VM_ENOSPC;
    }
    uint64_t g0 = g << ch->cfg.grain_shift;
    ga->ch = ch;
    ga->ly = ly;
    ga->layer = op->layer;
    ga->slot = ly->slot;
    ga->g = g;
    ga->pos = pos;
    ga->restore = 0;
    ga->pending = 0;
    ga->rc = 0;
    ga->op = op;
    ga->waiters = (struct cons_wlist){ NULL, NULL };
    ga->fill_a = a;
    ga->fill_b = b;
    ga->follow = NULL;
    ga->nr_group = 1;
    if (a == 0 && b == ch->gsec) {
        ga->data = (uint64_t *)(op->fps + (g0 - op->s));
    } else {
        ga->data = ga->buf;
        memset(ga->buf, 0, ch->gsec * sizeof(uint64_t));
        memcpy(ga->buf + a, op->fps + (g0 + a - op->s), (b - a) * sizeof(uint64_t));
    }
    uint64_t h = cons_ht_hash(ly->slot, g);
    ga->hnext = ch->ht[h & ch->ht_mask];
    ch->ht[h & ch->ht_mask] = ga;
    ch->ht_count++;
    ly->nr_inflight++;
    ly->nr_busy++;
    op->pending++;
    op->issued++;
    if (ch->cfg.mutation == CONS_MUT_GT_BEFORE_DATA) {
        ga_set_entry(ga);
    } else if (ga->data != ga->buf) {
        /* a whole grain: join the group if it lies right after it */
        struct cons_galloc *ld = op->grp;
        if (ld && ld->pos + ld->nr_group * ch->gsec == pos && ld->nr_group < GROUP_MAX) {
            ld->nr_group++;
            op->grp_last->follow = ga;
            op->grp_last = ga;
            ga->stage = GA_DATA;
        } else {
            wop_send_group(op);
            op->grp = op->grp_last = ga;
        }
    } else {
        ga_fill(ga);
    }
    return 0;
}

/* ---- the write's scan ------------------------------------------------------ */

/* Go on from op->cur; stops at a grain in flight (resumed when it lands). */
static void wop_scan(struct cons_wop *op)
{
    struct cons_chain *ch = op->ch;
    struct cons_layer *ly = op->ly;
    uint32_t shift = ch->cfg.grain_shift;
    while (op->cur < op->end) {
        uint64_t g = op->cur >> shift;
        uint64_t g0 = g << shift;
        uint64_t seg_end = g0 + ch->gsec < op->end ? g0 + ch->gsec : op->end;
        uint32_t len = (uint32_t)(seg_end - op->cur);
        struct cons_galloc *ga = ly->nr_inflight ? cons_inflight_find(ch, ly->slot, g) : NULL;
        if (ga) {
            wop_flush_run(op);
            wop_send_runs(op);
            wop_send_group(op);
            cons_wl_push(&ga->waiters, &op->w);
            return;
        }
        uint32_t e = cons_gt_entry(ly, g);
        if (e) {
            wop_send_group(op);
            uint64_t lba = ly->lba0 + e + (op->cur - g0);
            if (op->run_len && op->run_lba + op->run_len == lba) {
                op->run_len += len;
            } else {
                wop_flush_run(op);
                op->run_lba = lba;
                op->run_off = op->cur - op->s;
                op->run_len = len;
            }
        } else {
            wop_flush_run(op);
            wop_send_runs(op);
            int rc = ga_start(op, g, (uint32_t)(op->cur - g0), (uint32_t)(seg_end - g0));
            if (rc < 0 && !op->rc)
                op->rc = rc;
        }
        op->cur = seg_end;
    }
    wop_flush_run(op);
    wop_send_runs(op);
    wop_send_group(op);
    wop_put(op, 0);                 /* the scan's own reference */
}

static void wop_resume(struct cons_wait *w, int rc)
{
    (void)rc;   /* a failed allocation left the grain free: the scan allocates it */
    wop_scan((struct cons_wop *)((char *)w - offsetof(struct cons_wop, w)));
}

int cons_chain_write(struct cons_chain *ch, int layer, uint64_t s, uint32_t n,
                     const uint64_t *fps, cons_done_fn done, void *arg)
{
    if (n == 0 || layer < 0 || layer >= ch->nr_layers || s >= ch->cfg.nr_sectors ||
        n > ch->cfg.nr_sectors - s)
        return VM_ERANGE;
    struct cons_layer *ly = ch->layers[layer];
    uint64_t grains = ((s + n - 1) >> ch->cfg.grain_shift) - (s >> ch->cfg.grain_shift) + 1;
    uint32_t cap = ly->flat ? 1 : (uint32_t)grains;
    size_t reqs = cap * sizeof(struct port_blk_req);
    struct cons_wop *op = cons_op_alloc(ch, sizeof(*op) + reqs + cap * (sizeof(uint64_t) +
                                                                       sizeof(uint32_t)), NULL);
    if (!op)
        return VM_ENOMEM;
    *op = (struct cons_wop){ .ch = ch, .layer = layer, .ly = ly, .s = s, .end = s + n, .cur = s,
                             .fps = fps, .done = done, .arg = arg, .pending = 1, .cap = cap };
    op->vlba = (uint64_t *)((char *)op->reqs + reqs);
    op->vlen = (uint32_t *)(op->vlba + cap);
    op->w.fn = wop_resume;
    op->epoch = cons_io_begin(ch);
    if (ly->flat) {                 /* the base: a plain write where the sectors are */
        op->run_lba = ly->lba0 + s;
        op->run_len = n;
        op->cur = op->end;
    }
    /* take an extra reference so that nothing finishes inside this call */
    op->pending++;
    wop_scan(op);
    if (op->issued == 0 && op->pending == 1) {
        int rc = op->rc ? op->rc : VM_EIO;
        cons_op_end(ch, op, op->epoch);
        return rc;
    }
    wop_put(op, 0);
    return 0;
}

/* ---- unmap, flush ------------------------------------------------------------ */

struct cons_uop {
    struct cons_chain *ch;
    struct cons_layer *ly;
    uint64_t g;
    uint32_t pos;                   /* the place the entry named, 0 = none */
    cons_done_fn done;
    void *arg;
    struct cons_wait w;
    struct cons_uop *next, **pprev; /* in ch->unmaps */
    struct cons_wlist waiters;      /* cons_chain_unmap_wait()'s */
};
#define uop cons_uop

/* A cons_chain_unmap_wait() node. */
struct uwait {
    struct cons_wait w;
    struct cons_chain *ch;
    cons_done_fn done;
    void *arg;
};

static void uwait_fn(struct cons_wait *w, int rc)
{
    struct uwait *u = (struct uwait *)w;
    cons_done_fn done = u->done;
    void *arg = u->arg;
    cons_op_free(u->ch, u);
    done(arg, rc);
}

int cons_chain_unmap_wait(struct cons_chain *ch, int layer, uint64_t g, cons_done_fn done,
                          void *arg)
{
    if (layer < 1 || layer >= ch->nr_layers)
        return 0;
    int n = 0;
    for (struct uop *u = ch->unmaps; u; u = u->next) {
        if (u->ly != ch->layers[layer] || u->g != g)
            continue;
        struct uwait *w = cons_op_alloc(ch, sizeof(*w), NULL);
        if (!w)
            return VM_ENOMEM;
        *w = (struct uwait){ .w.fn = uwait_fn, .ch = ch, .done = done, .arg = arg };
        cons_wl_push(&u->waiters, &w->w);
        n++;
    }
    return n;
}

static void uop_done(struct cons_wait *w, int rc)
{
    struct uop *u = (struct uop *)((char *)w - offsetof(struct uop, w));
    cons_done_fn done = u->done;
    void *arg = u->arg;
    struct cons_wlist waiters = u->waiters;
    *u->pprev = u->next;
    if (u->next)
        u->next->pprev = u->pprev;
    /* the cleared entry is durable: no reopen names the place again.  A
     * failed GT write leaves it named on disk: the entry comes back
     * unless a write allocated the grain anew meanwhile */
    if (rc == 0 && u->pos) {
        (void)cons_layer_release_grain(u->ch, u->ly, u->pos);
    } else if (rc && u->pos && u->ch->cfg.mutation != CONS_MUT_KEEP_FAILED &&
               !cons_gt_entry(u->ly, u->g)) {
        (void)cons_layer_set(u->ly, u->g, u->pos);
    } else if (rc && u->pos && u->ch->cfg.mutation != CONS_MUT_KEEP_FAILED) {
        /* a write allocates the grain anew: if it fails too, the entry
         * goes back to the place the disk still names */
        struct cons_galloc *ga = u->ly->nr_inflight ? cons_inflight_find(u->ch, u->ly->slot, u->g)
                                                    : NULL;
        if (ga)
            ga->restore = u->pos;
    }
    u->ly->nr_busy--;
    cons_op_free(u->ch, u);
    cons_wl_wake(&waiters, rc);
    done(arg, rc);
}

static void uop_go(struct uop *u)
{
    struct cons_layer *ly = u->ly;
    uint64_t t = u->g / CONS_GT_ENTRIES;
    struct cons_meta *m = cons_gt_entry(ly, u->g) ? gt_meta(u->ch, ly, t) : NULL;
    u->w.fn = uop_done;
    if (!m) {                       /* gone meanwhile, or no memory */
        ly->nr_busy++;
        uop_done(&u->w, cons_gt_entry(ly, u->g) ? VM_ENOMEM : VM_EINVAL);
        return;
    }
    u->pos = cons_gt_entry(ly, u->g);
    cons_layer_set(ly, u->g, 0);
    if (u->ch->cfg.mutation == CONS_MUT_REUSE_BEFORE_GT && u->pos) {
        /* deliberately early: a crash before the GT write reopens the
         * entry on a place another grain's data may have overwritten */
        (void)cons_layer_release_grain(u->ch, ly, u->pos);
        u->pos = 0;
    }
    ly->nr_busy++;
    cons_meta_request(m, &u->w);
}

static void uop_resume(struct cons_wait *w, int rc)
{
    (void)rc;
    uop_go((struct uop *)((char *)w - offsetof(struct uop, w)));
}

int cons_chain_unmap(struct cons_chain *ch, int layer, uint64_t g, cons_done_fn done, void *arg)
{
    if (layer < 1 || layer >= ch->nr_layers || g >= ch->nr_grains)
        return VM_EINVAL;
    struct cons_layer *ly = ch->layers[layer];
    struct cons_galloc *ga = ly->nr_inflight ? cons_inflight_find(ch, ly->slot, g) : NULL;
    if (!ga && !cons_gt_entry(ly, g))
        return VM_EINVAL;
    /* the GT's committer first, so that uop_go() cannot fail inside this call */
    if (!ga && !gt_meta(ch, ly, g / CONS_GT_ENTRIES))
        return VM_ENOMEM;
    struct uop *u = cons_op_alloc(ch, sizeof(*u), NULL);
    if (!u)
        return VM_ENOMEM;
    *u = (struct uop){ .ch = ch, .ly = ly, .g = g, .done = done, .arg = arg,
                       .next = ch->unmaps, .pprev = &ch->unmaps };
    if (ch->unmaps)
        ch->unmaps->pprev = &u->next;
    ch->unmaps = u;
    if (ga) {                       /* being allocated: unmap what it allocates */
        u->w.fn = uop_resume;
        cons_wl_push(&ga->waiters, &u->w);
        return 0;
    }
    uop_go(u);
    return 0;
}

struct fop {
    struct port_blk_req req;
    struct cons_chain *ch;
    cons_done_fn done;
    void *arg;
};

static void fop_done(struct port_blk_req *req, int rc)
{
    struct fop *f = req->data;
    cons_done_fn done = f->done;
    void *arg = f->arg;
    cons_op_free(f->ch, f);
    done(arg, rc);
}

int cons_chain_flush(struct cons_chain *ch, cons_done_fn done, void *arg)
{
    struct fop *f = cons_op_alloc(ch, sizeof(*f), NULL);
    if (!f)
        return VM_ENOMEM;
    *f = (struct fop){ .req = { .op = PORT_BLK_FLUSH, .cb = fop_done }, .ch = ch, .done = done,
                       .arg = arg };
    f->req.data = f;
    int rc = port_blk_submit(ch->dev, &f->req);
    if (rc < 0)
        cons_op_free(ch, f);
    return rc;
}
