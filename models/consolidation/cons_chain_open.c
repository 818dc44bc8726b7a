/*
 * cons_chain_open.c - the disk chain's life on the device (see
 * cons_chain.h): serialized descriptor writes, snapshots (create_delta),
 * removal, and cons_chain_open(), which rebuilds the chain from the
 * device alone, as a VM opening its disk after a host crash does, and
 * checks every block and entry on the way.  The blobs: cons_chain_fmt.c.
 */
#include "consolidation/cons_chain.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_err.h"
#include "consolidation/cons_chain_int.h"

/* ---- the descriptor ---------------------------------------------------- */

static void desc_start(struct cons_chain *ch);

static void desc_done(struct port_blk_req *req, int rc)
{
    struct cons_chain *ch = req->data;
    ch->desc_inflight = false;
    if (rc == 0)
        ch->slot_named = ch->slot_flying;
    ch->slot_flying = 0;
    cons_wl_wake(&ch->desc_cur, rc);
    if (ch->desc_dirty)
        desc_start(ch);
}

static void desc_start(struct cons_chain *ch)
{
    struct cons_desc d;
    ch->slot_flying = cons_desc_fill(ch, &d);
    cons_fmt_put_desc(ch->desc_blob, &d);
    ch->desc_inflight = true;
    ch->desc_dirty = false;
    ch->desc_cur = ch->desc_next;
    ch->desc_next = (struct cons_wlist){ NULL, NULL };
    ch->desc_req = (struct port_blk_req){ .op = PORT_BLK_WRITE, .lba = ch->cfg.desc_lba,
                                          .nr_blocks = 1, .packed = 1, .bytes = ch->desc_blob,
                                          .len = CONS_DESC_LEN, .cb = desc_done, .data = ch };
    int rc = port_blk_submit(ch->dev, &ch->desc_req);
    if (rc < 0)
        desc_done(&ch->desc_req, rc);
}

struct dwait {
    struct cons_wait w;
    struct cons_chain *ch;
    cons_done_fn done;
    void *arg;
};

static void dwait_fn(struct cons_wait *w, int rc)
{
    struct dwait *d = (struct dwait *)w;
    cons_done_fn done = d->done;
    void *arg = d->arg;
    cons_op_free(d->ch, d);
    done(arg, rc);
}

int cons_chain_write_desc(struct cons_chain *ch, const void *job, uint32_t len,
                          cons_done_fn done, void *arg)
{
    if (len > CONS_JOB_MAX || (len && !job))
        return VM_EINVAL;
    struct dwait *d = cons_op_alloc(ch, sizeof(*d), NULL);
    if (!d)
        return VM_ENOMEM;
    *d = (struct dwait){ .w.fn = dwait_fn, .ch = ch, .done = done, .arg = arg };
    if (len)
        memcpy(ch->job, job, len);
    ch->job_len = len;
    cons_wl_push(&ch->desc_next, &d->w);
    ch->desc_dirty = true;          /* later wins: the next write takes the chain as it is then */
    if (!ch->desc_inflight)
        desc_start(ch);
    return 0;
}


/* ---- snapshots and removal -------------------------------------------- */

struct cop {
    struct cons_chain *ch;
    struct cons_layer *ly;
    uint32_t pending;
    int rc;
    cons_done_fn done;
    void *arg;
    struct port_blk_req req;
    uint8_t blob[CONS_HDR_LEN];
    struct cop_gw {
        struct cons_wait w;         /* first: the node is the cop_gw */
        struct cop *op;
    } gw[];                         /* one per GD block */
};

static void cop_put(struct cop *op, int rc)
{
    if (rc && !op->rc)
        op->rc = rc;
    if (--op->pending)
        return;
    cons_done_fn done = op->done;
    void *arg = op->arg;
    rc = op->rc;
    op->ly->nr_busy--;
    cons_op_free(op->ch, op);
    done(arg, rc);
}

static void cop_hdr_done(struct port_blk_req *req, int rc) { cop_put(req->data, rc); }

static void cop_gd_done(struct cons_wait *w, int rc)
{
    cop_put(((struct cop_gw *)w)->op, rc);
}

int cons_chain_create_delta(struct cons_chain *ch, int *layer, cons_done_fn done, void *arg)
{
    if (ch->nr_layers >= CONS_MAX_LAYERS)
        return VM_ENOSPC;
    int slot = cons_free_slot(ch);
    if (slot < 0)
        return VM_ENOSPC;
    struct cons_layer *ly = cons_layer_new(ch, (uint32_t)slot);
    struct cop *op = cons_op_alloc(ch, sizeof(*op) + ch->gd_blocks * sizeof(struct cop_gw), NULL);
    if (!ly || !op) {
        cons_layer_free(ch, ly);
        cons_op_free(ch, op);
        return VM_ENOMEM;
    }
    *op = (struct cop){ .ch = ch, .ly = ly, .pending = 1 + ch->gd_blocks + 1, .done = done,
                        .arg = arg };
    ly->nr_busy++;
    *layer = ch->nr_layers;
    ch->layers[ch->nr_layers++] = ly;
    ch->slot_live |= UINT64_C(1) << slot;
    struct cons_hdr h = { .grain_shift = ch->cfg.grain_shift, .slot = ly->slot,
                          .nr_sectors = ch->cfg.nr_sectors, .gd_blocks = ch->gd_blocks };
    cons_fmt_put_hdr(op->blob, &h);
    op->req = (struct port_blk_req){ .op = PORT_BLK_WRITE, .lba = ly->lba0, .nr_blocks = 1,
                                     .packed = 1, .bytes = op->blob, .len = CONS_HDR_LEN,
                                     .cb = cop_hdr_done, .data = op };
    int rc = port_blk_submit(ch->dev, &op->req);
    if (rc < 0) {
        ch->nr_layers--;
        ch->slot_live &= ~(UINT64_C(1) << slot);
        cons_layer_free(ch, ly);
        cons_op_free(ch, op);
        return rc;
    }
    /* the empty GD goes through the GD committers, so a GD update made
     * before it is durable cannot be overtaken by the empty image */
    for (uint32_t i = 0; i < ch->gd_blocks; i++) {
        op->gw[i] = (struct cop_gw){ .w.fn = cop_gd_done, .op = op };
        cons_meta_request(ly->gdc[i], &op->gw[i].w);
    }
    cop_put(op, 0);
    return 0;
}

int cons_chain_remove(struct cons_chain *ch, int layer)
{
    if (layer < 1 || layer >= ch->nr_layers)
        return VM_EINVAL;
    struct cons_layer *ly = ch->layers[layer];
    if (ly->nr_busy || ly->nr_inflight)
        return VM_EBUSY;
    for (uint64_t t = 0; t < ch->nr_gts; t++)
        if (ly->gtc[t] && (ly->gtc[t]->inflight || ly->gtc[t]->next.head))
            return VM_EBUSY;
    for (uint32_t i = 0; i < ch->gd_blocks; i++)
        if (ly->gdc[i]->inflight)
            return VM_EBUSY;
    memmove(&ch->layers[layer], &ch->layers[layer + 1],
            (size_t)(ch->nr_layers - layer - 1) * sizeof(ch->layers[0]));
    ch->nr_layers--;
    ch->slot_live &= ~(UINT64_C(1) << ly->slot);
    cons_layer_free(ch, ly);
    return 0;
}

/* ---- recovery ------------------------------------------------------------
 * Three rounds of reads, each issued at once: the descriptor; every
 * delta's header and GD blocks; every GT block a GD names.  Everything is
 * checked before anything replaces the chain in memory. */

enum { OPEN_DESC, OPEN_GD, OPEN_GT };

struct oreq {
    struct port_blk_req req;
    struct oop *op;
    int layer;                      /* 0 for the descriptor */
    int kind;                       /* 0 header/descriptor, 1 GD, 2 GT */
    uint32_t index;
    int rc;
    uint8_t blob[CONS_BLOB_MAX];
};

struct oop {
    struct cons_chain *ch;
    void *job;
    uint32_t *job_len;
    cons_done_fn done;
    void *arg;
    int phase;
    uint32_t pending;
    int rc;
    struct cons_desc d;
    struct cons_layer *nl[CONS_MAX_LAYERS];
    uint8_t *units[CONS_MAX_LAYERS];    /* per grain-sized unit of a file: 0, 1 GT chunk, 2 grain */
    struct oreq *reqs;
    uint32_t nr_reqs;
};

static int open_fail(struct oop *op, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int open_fail(struct oop *op, int rc, const char *fmt, ...)
{
    if (op->rc)
        return op->rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(op->ch->err, sizeof(op->ch->err), fmt, ap);
    va_end(ap);
    op->rc = rc;
    return rc;
}

/* Free what an open owns besides itself (and the new layers unless taken). */
static void oop_drop(void *p)
{
    struct oop *op = p;
    free(op->reqs);
    op->reqs = NULL;
    for (int l = 0; l < CONS_MAX_LAYERS; l++) {
        free(op->units[l]);
        op->units[l] = NULL;
        cons_layer_free(op->ch, op->nl[l]);
        op->nl[l] = NULL;
    }
}

static void open_finish(struct oop *op)
{
    struct cons_chain *ch = op->ch;
    if (op->rc == 0) {
        for (int l = 0; l < ch->nr_layers; l++)
            cons_layer_free(ch, ch->layers[l]);
        ch->nr_layers = (int)op->d.nr_layers;
        ch->slot_live = 0;
        for (int l = 0; l < ch->nr_layers; l++) {
            ch->layers[l] = op->nl[l];
            ch->slot_live |= UINT64_C(1) << op->nl[l]->slot;
            op->nl[l] = NULL;       /* taken */
        }
        ch->slot_named = ch->slot_live;
        ch->generation = op->d.generation;
        memcpy(ch->job, op->d.job, op->d.job_len);
        ch->job_len = op->d.job_len;
        if (op->job)
            memcpy(op->job, op->d.job, op->d.job_len);
        if (op->job_len)
            *op->job_len = op->d.job_len;
        ch->err[0] = '\0';
    }
    oop_drop(op);
    cons_done_fn done = op->done;
    void *arg = op->arg;
    int rc = op->rc;
    cons_op_free(ch, op);
    done(arg, rc);
}

static void open_step(struct oop *op);

static void open_put(struct oop *op)
{
    if (--op->pending == 0)
        open_step(op);
}

static void oreq_done(struct port_blk_req *req, int rc)
{
    struct oreq *r = (struct oreq *)req;
    r->rc = rc;
    open_put(r->op);
}

/* Submit reqs[0..nr_reqs) (the caller filled in layer, kind, index and
 * lba); true when some are in flight: open_step() runs again when the
 * last completes. */
static bool open_issue(struct oop *op)
{
    op->pending = 1;
    for (uint32_t i = 0; i < op->nr_reqs; i++) {
        struct oreq *r = &op->reqs[i];
        r->op = op;
        r->req.op = PORT_BLK_READ;
        r->req.nr_blocks = 1;
        r->req.packed = 1;
        r->req.bytes = r->blob;
        r->req.len = sizeof(r->blob);
        r->req.cb = oreq_done;
        r->req.data = r;
        r->rc = port_blk_submit(op->ch->dev, &r->req);
        if (r->rc == 0)
            op->pending++;
    }
    return --op->pending > 0;
}

/* A read that found no metadata block there, or failed. */
static int oreq_check(struct oop *op, const struct oreq *r, const char *what)
{
    if (r->rc == VM_ENOENT || r->rc == VM_EINVAL)
        return open_fail(op, VM_EPARSE, "layer %d (slot %u): no %s at block %" PRIu64, r->layer,
                         op->nl[r->layer] ? op->nl[r->layer]->slot : 0, what, r->req.lba);
    if (r->rc)
        return open_fail(op, r->rc, "layer %d: reading the %s at block %" PRIu64 ": %s",
                         r->layer, what, r->req.lba, vm_strerror(r->rc));
    return 0;
}

static bool open_after_desc(struct oop *op)
{
    struct cons_chain *ch = op->ch;
    struct oreq *r = &op->reqs[0];
    char why[160];
    if (r->rc == VM_ENOENT || r->rc == VM_EINVAL) {
        open_fail(op, VM_EPARSE, "no descriptor at block %" PRIu64, ch->cfg.desc_lba);
        return false;
    }
    if (r->rc) {
        open_fail(op, r->rc, "reading the descriptor: %s", vm_strerror(r->rc));
        return false;
    }
    if (cons_fmt_get_desc(r->blob, r->req.len, &op->d, why, sizeof(why))) {
        open_fail(op, VM_EPARSE, "block %" PRIu64 ": %s", ch->cfg.desc_lba, why);
        return false;
    }
    struct cons_desc *d = &op->d;
    if (d->nr_sectors != ch->cfg.nr_sectors || d->grain_shift != ch->cfg.grain_shift) {
        open_fail(op, VM_EPARSE, "descriptor: a disk of %" PRIu64 " sectors, grain shift %u; "
                  "expected %" PRIu64 ", %u", d->nr_sectors, d->grain_shift,
                  ch->cfg.nr_sectors, ch->cfg.grain_shift);
        return false;
    }
    uint64_t seen = 0;
    for (uint32_t l = 0; l < d->nr_layers; l++) {
        uint32_t s = d->slots[l];
        if ((l == 0) != (s == 0) || s >= ch->cfg.nr_slots || (seen & (UINT64_C(1) << s))) {
            open_fail(op, VM_EPARSE, "descriptor: layer %u in slot %u (of %u slots)", l, s,
                      ch->cfg.nr_slots);
            return false;
        }
        seen |= UINT64_C(1) << s;
        if (!(op->nl[l] = cons_layer_new(ch, s))) {
            open_fail(op, VM_ENOMEM, "out of memory");
            return false;
        }
    }
    free(op->reqs);
    op->nr_reqs = (d->nr_layers - 1) * (1 + ch->gd_blocks);
    op->reqs = calloc(op->nr_reqs ? op->nr_reqs : 1, sizeof(*op->reqs));
    if (!op->reqs) {
        open_fail(op, VM_ENOMEM, "out of memory");
        return false;
    }
    uint32_t k = 0;
    for (uint32_t l = 1; l < d->nr_layers; l++)
        for (uint32_t i = 0; i <= ch->gd_blocks; i++, k++) {
            op->reqs[k].layer = (int)l;
            op->reqs[k].kind = i == 0 ? 0 : 1;
            op->reqs[k].index = i == 0 ? 0 : i - 1;
            op->reqs[k].req.lba = op->nl[l]->lba0 + i;
        }
    op->phase = OPEN_GD;
    return open_issue(op);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static bool open_after_gd(struct oop *op)
{
    struct cons_chain *ch = op->ch;
    uint64_t slot_blocks = ch->cfg.slot_blocks;
    /* grain-sized units of the file; the last may be short */
    uint64_t nr_units = (slot_blocks + ch->gsec - 1) >> ch->cfg.grain_shift;
    uint32_t ent[CONS_GD_PER_BLOCK];
    char why[160];
    uint64_t nr_gt = 0;
    for (uint32_t i = 0; i < op->nr_reqs && !op->rc; i++) {
        struct oreq *r = &op->reqs[i];
        struct cons_layer *ly = op->nl[r->layer];
        if (oreq_check(op, r, r->kind == 0 ? "header" : "GD block"))
            break;
        if (r->kind == 0) {
            struct cons_hdr h;
            if (cons_fmt_get_hdr(r->blob, r->req.len, &h, why, sizeof(why)))
                open_fail(op, VM_EPARSE, "layer %d (slot %u): %s", r->layer, ly->slot, why);
            else if (h.slot != ly->slot || h.grain_shift != ch->cfg.grain_shift ||
                     h.nr_sectors != ch->cfg.nr_sectors || h.gd_blocks != ch->gd_blocks)
                open_fail(op, VM_EPARSE, "layer %d (slot %u): header of slot %u, grain shift %u,"
                          " %" PRIu64 " sectors, %u GD blocks: not this chain's", r->layer,
                          ly->slot, h.slot, h.grain_shift, h.nr_sectors, h.gd_blocks);
            continue;
        }
        if (cons_fmt_get_tbl(r->blob, r->req.len, CONS_GD_MAGIC, ly->slot, r->index, ent,
                             CONS_GD_PER_BLOCK, why, sizeof(why))) {
            open_fail(op, VM_EPARSE, "layer %d (slot %u): %s", r->layer, ly->slot, why);
            break;
        }
        if (!op->units[r->layer] && !(op->units[r->layer] = calloc(nr_units, 1))) {
            open_fail(op, VM_ENOMEM, "out of memory");
            break;
        }
        uint64_t first = (uint64_t)r->index * CONS_GD_PER_BLOCK;
        for (uint32_t j = 0; j < CONS_GD_PER_BLOCK; j++) {
            uint32_t e = ent[j];
            if (!e)
                continue;
            if (first + j >= ch->nr_gts || e != ch->data0 + first + j) {
                open_fail(op, VM_EPARSE, "layer %d (slot %u): GD entry %" PRIu64 " -> block %u, "
                          "not its GT's place %" PRIu64, r->layer, ly->slot, first + j, e,
                          ch->data0 + first + j);
                break;
            }
            ly->gt_pos[first + j] = ly->gd_img[first + j] = e;
            ly->nr_gt_blocks++;
            op->units[r->layer][e >> ch->cfg.grain_shift] = 1;
            nr_gt++;
        }
    }
    if (op->rc)
        return false;
    /* no two GTs in one block */
    uint64_t *keys = malloc((nr_gt ? nr_gt : 1) * sizeof(*keys));
    struct oreq *reqs = calloc(nr_gt ? nr_gt : 1, sizeof(*reqs));
    if (!keys || !reqs) {
        free(keys);
        free(reqs);
        open_fail(op, VM_ENOMEM, "out of memory");
        return false;
    }
    uint64_t k = 0;
    for (uint32_t l = 1; l < op->d.nr_layers; l++)
        for (uint64_t t = 0; t < ch->nr_gts; t++) {
            if (!op->nl[l]->gt_pos[t])
                continue;
            keys[k] = (uint64_t)l << 40 | op->nl[l]->gt_pos[t];
            reqs[k] = (struct oreq){ .layer = (int)l, .kind = 2, .index = (uint32_t)t };
            reqs[k].req.lba = op->nl[l]->lba0 + op->nl[l]->gt_pos[t];
            k++;
        }
    qsort(keys, nr_gt, sizeof(*keys), cmp_u64);
    for (uint64_t i = 1; i < nr_gt; i++)
        if (keys[i] == keys[i - 1]) {
            open_fail(op, VM_EPARSE, "layer %u: two GD entries name GT block %u",
                      (unsigned)(keys[i] >> 40), (unsigned)(keys[i] & 0xffffffffu));
            break;
        }
    free(keys);
    free(op->reqs);
    op->reqs = reqs;
    op->nr_reqs = (uint32_t)nr_gt;
    if (op->rc)
        return false;
    op->phase = OPEN_GT;
    return open_issue(op);
}

static void open_after_gt(struct oop *op)
{
    struct cons_chain *ch = op->ch;
    uint32_t shift = ch->cfg.grain_shift, gsec = ch->gsec;
    uint32_t ent[CONS_GT_ENTRIES];
    char why[160];
    for (uint32_t i = 0; i < op->nr_reqs && !op->rc; i++) {
        struct oreq *r = &op->reqs[i];
        struct cons_layer *ly = op->nl[r->layer];
        uint8_t *units = op->units[r->layer];
        if (oreq_check(op, r, "GT block"))
            break;
        if (cons_fmt_get_tbl(r->blob, r->req.len, CONS_GT_MAGIC, ly->slot, r->index, ent,
                             CONS_GT_ENTRIES, why, sizeof(why))) {
            open_fail(op, VM_EPARSE, "layer %d (slot %u): %s", r->layer, ly->slot, why);
            break;
        }
        for (uint32_t j = 0; j < CONS_GT_ENTRIES; j++) {
            uint32_t e = ent[j];
            if (!e)
                continue;
            uint64_t g = (uint64_t)r->index * CONS_GT_ENTRIES + j;
            const char *bad = NULL;
            if (g >= ch->nr_grains)
                bad = "for a grain beyond the disk";
            else if (e < ch->grains0 || (uint64_t)e + gsec > ch->cfg.slot_blocks)
                bad = "outside the file's grains";
            else if (e & (gsec - 1))
                bad = "not grain-aligned";
            else if (units[e >> shift] == 1)
                bad = "on a GT block";
            else if (units[e >> shift] == 2)
                bad = "on a grain another entry names";
            if (bad) {
                open_fail(op, VM_EPARSE, "layer %d (slot %u): GT %u entry %u -> block %u %s",
                          r->layer, ly->slot, r->index, j, e, bad);
                break;
            }
            units[e >> shift] = 2;
            ly->nr_grains_appended++;
            if (cons_layer_set(ly, g, e)) {
                open_fail(op, VM_ENOMEM, "out of memory");
                break;
            }
        }
    }
    if (op->rc)
        return;
    /* append after everything the tables name; what a crash left beyond is garbage */
    for (uint32_t l = 1; l < op->d.nr_layers; l++) {
        struct cons_layer *ly = op->nl[l];
        uint64_t nr_units = (ch->cfg.slot_blocks + gsec - 1) >> shift;
        ly->next_free = ch->grains0;
        for (uint64_t u = nr_units; op->units[l] && u-- > 0;)
            if (op->units[l][u]) {
                ly->next_free = (u + 1) << shift;
                break;
            }
        if (ly->next_free < ch->grains0)
            ly->next_free = ch->grains0;
    }
}

static void open_step(struct oop *op)
{
    for (;;) {
        bool wait = false;
        switch (op->phase) {
        case OPEN_DESC:
            wait = open_after_desc(op);
            break;
        case OPEN_GD:
            wait = open_after_gd(op);
            break;
        default:
            open_after_gt(op);
            open_finish(op);
            return;
        }
        if (op->rc) {               /* nothing is in flight once a phase failed */
            open_finish(op);
            return;
        }
        if (wait)
            return;
    }
}

int cons_chain_open(struct cons_chain *ch, void *job, uint32_t *job_len,
                    cons_done_fn done, void *arg)
{
    for (int l = 1; l < ch->nr_layers; l++)
        if (ch->layers[l]->nr_busy || ch->layers[l]->nr_inflight)
            return VM_EBUSY;
    struct oop *op = cons_op_alloc(ch, sizeof(*op), oop_drop);
    struct oreq *r = calloc(1, sizeof(*r));
    if (!op || !r) {
        cons_op_free(ch, op);
        free(r);
        return VM_ENOMEM;
    }
    *op = (struct oop){ .ch = ch, .job = job, .job_len = job_len, .done = done, .arg = arg,
                        .phase = OPEN_DESC, .reqs = r, .nr_reqs = 1, .pending = 1 };
    r->op = op;
    r->req = (struct port_blk_req){ .op = PORT_BLK_READ, .lba = ch->cfg.desc_lba,
                                    .nr_blocks = 1, .packed = 1, .bytes = r->blob,
                                    .len = sizeof(r->blob), .cb = oreq_done, .data = r };
    int rc = port_blk_submit(ch->dev, &r->req);
    if (rc < 0) {
        free(r);
        cons_op_free(ch, op);
        return rc;
    }
    ch->err[0] = '\0';
    return 0;
}
