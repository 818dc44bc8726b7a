/*
 * cons_chain.c - the disk chain's in-memory tables and its reads (see
 * cons_chain.h): per delta a grain directory of pointers to grain-table
 * arrays of uint32 file blocks (VMDK's GD -> GT; qcow2's L1 -> L2), the
 * table of grains being allocated with the operations waiting on them,
 * and reads that resolve each grain to the highest layer holding it and
 * move each run contiguous on the device as one I/O.
 * Allocation and group commit: cons_chain_write.c; the on-disk format and
 * recovery: cons_chain_open.c.
 */
#include "consolidation/cons_chain.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_err.h"
#include "consolidation/cons_chain_int.h"

/* ---- layers ----------------------------------------------------------- */

struct cons_layer *cons_layer_new(struct cons_chain *ch, uint32_t slot)
{
    struct cons_layer *ly = calloc(1, sizeof(*ly));
    if (!ly)
        return NULL;
    ly->slot = slot;
    ly->lba0 = cons_slot_lba(ch, slot);
    if (slot == 0) {
        ly->flat = true;
        return ly;
    }
    ly->gt = calloc(ch->nr_gts, sizeof(*ly->gt));
    ly->gt_pos = calloc(ch->nr_gts, sizeof(*ly->gt_pos));
    ly->gd_img = calloc(ch->nr_gts, sizeof(*ly->gd_img));
    ly->gd_need = calloc(ch->nr_gts, sizeof(*ly->gd_need));
    ly->gtc = calloc(ch->nr_gts, sizeof(*ly->gtc));
    ly->gdc = calloc(ch->gd_blocks, sizeof(*ly->gdc));
    bool ok = ly->gt && ly->gt_pos && ly->gd_img && ly->gd_need && ly->gtc && ly->gdc;
    for (uint32_t i = 0; ok && i < ch->gd_blocks; i++)
        ok = (ly->gdc[i] = cons_meta_new(ch, ly, true, i)) != NULL;
    if (!ok) {
        cons_layer_free(ch, ly);
        return NULL;
    }
    ly->next_free = ch->grains0;
    return ly;
}

void cons_layer_free(struct cons_chain *ch, struct cons_layer *ly)
{
    if (!ly)
        return;
    if (ly->gt)
        for (uint64_t t = 0; t < ch->nr_gts; t++)
            free(ly->gt[t]);
    if (ly->gtc)
        for (uint64_t t = 0; t < ch->nr_gts; t++)
            free(ly->gtc[t]);
    if (ly->gdc)
        for (uint32_t i = 0; i < ch->gd_blocks; i++)
            free(ly->gdc[i]);
    free(ly->gt);
    free(ly->gt_pos);
    free(ly->gd_img);
    free(ly->gd_need);
    free(ly->gtc);
    free(ly->gdc);
    if (ch)
        ch->nr_limbo -= ly->limbo[0].n + ly->limbo[1].n;
    free(ly->free_pos.v);
    free(ly->limbo[0].v);
    free(ly->limbo[1].v);
    free(ly);
}

int cons_layer_set(struct cons_layer *ly, uint64_t g, uint32_t pos)
{
    uint32_t **gt = &ly->gt[g / CONS_GT_ENTRIES];
    if (!*gt) {
        if (!pos)
            return 0;
        *gt = calloc(CONS_GT_ENTRIES, sizeof(**gt));
        if (!*gt)
            return VM_ENOMEM;
    }
    uint32_t *e = &(*gt)[g % CONS_GT_ENTRIES];
    ly->nr_alloc += (pos != 0) - (*e != 0);
    *e = pos;
    return 0;
}

/* GT t's block: the GTs have their place right after the GD, in order, as
 * VMware's sparse extents preallocate them, so the tables of a big disk
 * sit together and the grains after them. */
uint32_t cons_layer_reserve_gt(struct cons_chain *ch, struct cons_layer *ly, uint64_t t)
{
    if (ly->gt_pos[t])
        return ly->gt_pos[t];
    ly->gt_pos[t] = (uint32_t)(ch->data0 + t);
    ly->nr_gt_blocks++;
    return ly->gt_pos[t];
}

static int posv_push(struct cons_posv *pv, uint32_t pos)
{
    if (pv->n == pv->cap) {
        uint64_t cap = pv->cap ? pv->cap * 2 : 64;
        uint32_t *v = realloc(pv->v, cap * sizeof(*v));
        if (!v)
            return VM_ENOMEM;
        pv->v = v;
        pv->cap = cap;
    }
    pv->v[pv->n++] = pos;
    return 0;
}

/* The free places as a binary min-heap: the lowest goes first, as
 * qcow2's free_cluster_index does. */
static int heap_push(struct cons_posv *h, uint32_t pos)
{
    if (posv_push(h, pos))
        return VM_ENOMEM;
    for (uint64_t i = h->n - 1; i > 0;) {
        uint64_t up = (i - 1) / 2;
        if (h->v[up] <= h->v[i])
            break;
        uint32_t t = h->v[up];
        h->v[up] = h->v[i];
        h->v[i] = t;
        i = up;
    }
    return 0;
}

static uint32_t heap_pop(struct cons_posv *h)
{
    uint32_t top = h->v[0];
    h->v[0] = h->v[--h->n];
    for (uint64_t i = 0;;) {
        uint64_t l = 2 * i + 1, m = i;
        if (l < h->n && h->v[l] < h->v[m])
            m = l;
        if (l + 1 < h->n && h->v[l + 1] < h->v[m])
            m = l + 1;
        if (m == i)
            break;
        uint32_t t = h->v[m];
        h->v[m] = h->v[i];
        h->v[i] = t;
        i = m;
    }
    return top;
}

/* While the older epoch's I/O has ended, the places freed before the
 * current epoch become free and a new epoch starts. */
static void reuse_advance(struct cons_chain *ch)
{
    for (int i = 0; i < 2 && ch->nr_limbo && ch->io_count[(ch->io_epoch + 1) & 1] == 0; i++) {
        for (int l = 1; l < ch->nr_layers; l++) {
            struct cons_layer *ly = ch->layers[l];
            struct cons_posv *old = &ly->limbo[0];
            uint64_t k = 0;
            for (; k < old->n && heap_push(&ly->free_pos, old->v[k]) == 0; k++)
                ;
            ch->nr_limbo -= old->n;     /* what found no memory is leaked */
            old->n = 0;
            struct cons_posv t = ly->limbo[0];
            ly->limbo[0] = ly->limbo[1];
            ly->limbo[1] = t;
        }
        ch->io_epoch++;
    }
}

void cons_io_end(struct cons_chain *ch, uint32_t parity)
{
    ch->io_count[parity]--;
    if (ch->nr_limbo)
        reuse_advance(ch);
}

void cons_op_end(struct cons_chain *ch, void *op, uint32_t parity)
{
    cons_op_free(ch, op);
    cons_io_end(ch, parity);
}

int cons_layer_release_grain(struct cons_chain *ch, struct cons_layer *ly, uint32_t pos)
{
    if (posv_push(&ly->limbo[1], pos))
        return VM_ENOMEM;
    ch->nr_limbo++;
    reuse_advance(ch);
    return 0;
}

uint32_t cons_layer_reserve_grain(struct cons_chain *ch, struct cons_layer *ly)
{
    if (ly->free_pos.n)
        return heap_pop(&ly->free_pos);
    if (ly->next_free + ch->gsec > ch->cfg.slot_blocks)
        return 0;
    uint32_t pos = (uint32_t)ly->next_free;
    ly->next_free += ch->gsec;
    ly->nr_grains_appended++;
    return pos;
}

int cons_free_slot(const struct cons_chain *ch)
{
    uint64_t used = ch->slot_live | ch->slot_named | ch->slot_flying;
    for (uint32_t s = 1; s < ch->cfg.nr_slots; s++)
        if (!(used & (UINT64_C(1) << s)))
            return (int)s;
    return -1;
}

/* ---- operations in flight ------------------------------------------------ */

/* The size class of an operation of `total` bytes, header included, or
 * CONS_OP_CLASSES when it is too big to keep. */
static uint32_t op_class(size_t total)
{
    uint32_t c = 0;
    while (c < CONS_OP_CLASSES && ((size_t)128 << c) < total)
        c++;
    return c;
}

void *cons_op_alloc(struct cons_chain *ch, size_t size, void (*drop)(void *op))
{
    struct cons_op *o;
    uint32_t c = op_class(sizeof(*o) + size);
    if (c < CONS_OP_CLASSES && ch->op_free[c]) {
        o = ch->op_free[c];
        ch->op_free[c] = o->next;
        ch->nr_op_free[c]--;
    } else if (!(o = malloc(c < CONS_OP_CLASSES ? (size_t)128 << c : sizeof(*o) + size))) {
        return NULL;
    }
    o->drop = drop;
    o->cls = c;
    o->prev = &ch->ops;
    o->next = ch->ops.next;
    ch->ops.next->prev = o;
    ch->ops.next = o;
    return o + 1;
}

void cons_op_free(struct cons_chain *ch, void *op)
{
    if (!op)
        return;
    struct cons_op *o = (struct cons_op *)op - 1;
    o->prev->next = o->next;
    o->next->prev = o->prev;
    uint32_t c = o->cls;
    if (c < CONS_OP_CLASSES && ch->nr_op_free[c] < CONS_OP_KEEP) {
        o->next = ch->op_free[c];
        ch->op_free[c] = o;
        ch->nr_op_free[c]++;
        return;
    }
    free(o);
}

/* An idle GT committer: kept for the next GT that gets busy. */
void cons_meta_put(struct cons_chain *ch, struct cons_meta *m)
{
    if (m->is_gd || ch->nr_meta_free >= CONS_META_KEEP) {
        free(m);
        return;
    }
    m->fnext = ch->meta_free;
    ch->meta_free = m;
    ch->nr_meta_free++;
}

/* ---- wait lists, the grains in flight -------------------------------- */

void cons_wl_push(struct cons_wlist *l, struct cons_wait *w)
{
    w->next = NULL;
    if (l->tail)
        l->tail->next = w;
    else
        l->head = w;
    l->tail = w;
}

void cons_wl_wake(struct cons_wlist *l, int rc)
{
    struct cons_wait *w = l->head;
    l->head = l->tail = NULL;
    while (w) {
        struct cons_wait *next = w->next;   /* fn may reuse w */
        w->fn(w, rc);
        w = next;
    }
}

struct cons_galloc *cons_inflight_find(const struct cons_chain *ch, uint32_t slot, uint64_t g)
{
    if (!ch->ht_count)
        return NULL;
    for (struct cons_galloc *ga = ch->ht[cons_ht_hash(slot, g) & ch->ht_mask]; ga; ga = ga->hnext)
        if (ga->g == g && ga->slot == slot)
            return ga;
    return NULL;
}

/* ---- the chain --------------------------------------------------------- */

uint64_t cons_delta_max_blocks(uint64_t nr_sectors, uint32_t grain_shift)
{
    uint64_t gsec = UINT64_C(1) << grain_shift;
    uint64_t grains = (nr_sectors + gsec - 1) >> grain_shift;
    uint64_t gts = (grains + CONS_GT_ENTRIES - 1) / CONS_GT_ENTRIES;
    uint64_t gd = (gts + CONS_GD_PER_BLOCK - 1) / CONS_GD_PER_BLOCK;
    uint64_t data0 = (1 + gd + gsec - 1) / gsec * gsec;
    return data0 + (gts + gsec - 1) / gsec * gsec + grains * gsec;
}

struct cons_chain *cons_chain_new(struct port_blk *dev, const struct cons_chain_cfg *cfg)
{
    if (!dev || !cfg || cfg->grain_shift > 12 || cfg->nr_sectors == 0 || cfg->nr_slots < 1 ||
        cfg->nr_slots > 2 * CONS_MAX_LAYERS || cfg->slot_blocks > UINT32_MAX ||
        cfg->slot_blocks < cfg->nr_sectors ||
        (cfg->nr_slots > 1 &&
         cfg->slot_blocks < cons_delta_max_blocks(cfg->nr_sectors, cfg->grain_shift)))
        return NULL;
    uint64_t end = cfg->slot0_lba + cfg->nr_slots * cfg->slot_blocks;
    uint64_t dev_blocks = port_blk_nr_blocks(dev);
    if (end > dev_blocks || cfg->desc_lba >= dev_blocks ||
        (cfg->desc_lba >= cfg->slot0_lba && cfg->desc_lba < end))
        return NULL;
    struct cons_chain *ch = calloc(1, sizeof(*ch));
    if (!ch)
        return NULL;
    ch->dev = dev;
    ch->cfg = *cfg;
    ch->gsec = UINT32_C(1) << cfg->grain_shift;
    ch->nr_grains = (cfg->nr_sectors + ch->gsec - 1) >> cfg->grain_shift;
    ch->nr_gts = (ch->nr_grains + CONS_GT_ENTRIES - 1) / CONS_GT_ENTRIES;
    ch->gd_blocks = (uint32_t)((ch->nr_gts + CONS_GD_PER_BLOCK - 1) / CONS_GD_PER_BLOCK);
    ch->data0 = (1 + ch->gd_blocks + ch->gsec - 1) / ch->gsec * ch->gsec;
    ch->grains0 = ch->data0 + (ch->nr_gts + ch->gsec - 1) / ch->gsec * ch->gsec;
    ch->ops.prev = ch->ops.next = &ch->ops;
    ch->ht_mask = 63;
    ch->ht = calloc(ch->ht_mask + 1, sizeof(*ch->ht));
    ch->layers[0] = ch->ht ? cons_layer_new(ch, 0) : NULL;
    if (!ch->layers[0]) {
        cons_chain_free(ch);
        return NULL;
    }
    ch->nr_layers = 1;
    ch->slot_live = 1;
    return ch;
}

/* After a host crash: the device still completes what it was given, but
 * nothing new reaches it; the chain's operations wait forever (freed with
 * the chain, without callbacks). */
static int dead_submit(struct port_blk *dev, struct port_blk_req *req)
{
    (void)dev;
    (void)req;
    return 0;
}

static uint64_t dead_nr_blocks(const struct port_blk *dev)
{
    (void)dev;
    return 0;
}

static const struct port_blk_ops dead_ops = {
    .version = PORT_BLK_VERSION, .name = "dead", .submit = dead_submit,
    .nr_blocks = dead_nr_blocks,
};
static struct port_blk dead_port = { .ops = &dead_ops };

void cons_chain_kill(struct cons_chain *ch)
{
    if (ch)
        ch->dev = &dead_port;
}

void cons_chain_free(struct cons_chain *ch)
{
    if (!ch)
        return;
    if (ch->ops.next)               /* what a crash left waiting */
        while (ch->ops.next != &ch->ops) {
            struct cons_op *o = ch->ops.next;
            if (o->drop)
                o->drop(o + 1);
            cons_op_free(ch, o + 1);
        }
    for (int l = 0; l < ch->nr_layers; l++)
        cons_layer_free(ch, ch->layers[l]);
    if (ch->ht)
        for (uint64_t b = 0; b <= ch->ht_mask; b++)
            for (struct cons_galloc *ga = ch->ht[b], *n; ga; ga = n) {
                n = ga->hnext;
                free(ga);
            }
    for (struct cons_galloc *ga = ch->ga_free, *n; ga; ga = n) {
        n = ga->hnext;
        free(ga);
    }
    for (uint32_t c = 0; c < CONS_OP_CLASSES; c++)
        for (struct cons_op *o = ch->op_free[c], *n; o; o = n) {
            n = o->next;
            free(o);
        }
    for (struct cons_meta *m = ch->meta_free, *n; m; m = n) {
        n = m->fnext;
        free(m);
    }
    free(ch->ht);
    free(ch);
}

const struct cons_chain_cfg *cons_chain_cfg(const struct cons_chain *ch) { return &ch->cfg; }
int cons_chain_nr_layers(const struct cons_chain *ch) { return ch->nr_layers; }
uint64_t cons_chain_nr_grains(const struct cons_chain *ch) { return ch->nr_grains; }
uint32_t cons_chain_grain_sectors(const struct cons_chain *ch) { return ch->gsec; }
const char *cons_chain_error(const struct cons_chain *ch) { return ch->err; }

static bool layer_ok(const struct cons_chain *ch, int layer)
{
    return layer >= 0 && layer < ch->nr_layers;
}

bool cons_chain_allocated(const struct cons_chain *ch, int layer, uint64_t g)
{
    if (!layer_ok(ch, layer) || g >= ch->nr_grains)
        return false;
    return layer == 0 || cons_gt_entry(ch->layers[layer], g) != 0;
}

bool cons_chain_allocating(const struct cons_chain *ch, int layer, uint64_t g)
{
    if (layer < 1 || !layer_ok(ch, layer) || g >= ch->nr_grains)
        return false;
    const struct cons_layer *ly = ch->layers[layer];
    return ly->nr_inflight && cons_inflight_find(ch, ly->slot, g) != NULL;
}

uint64_t cons_chain_nr_allocated(const struct cons_chain *ch, int layer)
{
    if (!layer_ok(ch, layer))
        return 0;
    return layer == 0 ? ch->nr_grains : ch->layers[layer]->nr_alloc;
}

/* OR into map[0 .. min(words, a GT's)) the bits of a GT's non-zero
 * entries, read two at a time: most pairs of a sparse delta are zero. */
static void mark_gt(const uint32_t *gt, uint64_t *map, uint64_t words)
{
    for (uint64_t j = 0; j < CONS_GT_ENTRIES / 64 && j < words; j++) {
        uint64_t bits = 0;
        for (unsigned b = 0; b < 64; b += 2) {
            uint64_t two;
            memcpy(&two, gt + j * 64 + b, sizeof two);
            if (two)
                bits |= (uint64_t)(gt[j * 64 + b] != 0) << b |
                        (uint64_t)(gt[j * 64 + b + 1] != 0) << (b + 1);
        }
        map[j] |= bits;
    }
}

void cons_chain_mark_allocated(const struct cons_chain *ch, int layer, uint64_t *map)
{
    uint64_t words = (ch->nr_grains + 63) / 64;
    if (!layer_ok(ch, layer))
        return;
    if (layer == 0) {
        memset(map, 0xff, words * sizeof *map);
    } else {
        const struct cons_layer *ly = ch->layers[layer];
        for (uint64_t t = 0; t < ch->nr_gts; t++)
            if (ly->gt[t])
                mark_gt(ly->gt[t], map + t * (CONS_GT_ENTRIES / 64),
                        words - t * (CONS_GT_ENTRIES / 64));
    }
    if (ch->nr_grains % 64)                     /* no bit past the disk */
        map[words - 1] &= (UINT64_C(1) << (ch->nr_grains % 64)) - 1;
}

int cons_chain_resolve(const struct cons_chain *ch, int top, uint64_t g)
{
    if (top >= ch->nr_layers)
        top = ch->nr_layers - 1;
    for (int l = top; l > 0; l--)
        if (cons_gt_entry(ch->layers[l], g))
            return l;
    return 0;
}

uint64_t cons_chain_map(const struct cons_chain *ch, int top, uint64_t s)
{
    uint64_t g = s >> ch->cfg.grain_shift;
    int l = cons_chain_resolve(ch, top, g);
    const struct cons_layer *ly = ch->layers[l];
    if (l == 0)
        return ly->lba0 + s;
    return ly->lba0 + cons_gt_entry(ly, g) + (s & (ch->gsec - 1));
}

uint64_t cons_chain_delta_bytes(const struct cons_chain *ch)
{
    uint64_t blocks = 0;
    for (int l = 1; l < ch->nr_layers; l++) {
        const struct cons_layer *ly = ch->layers[l];
        blocks += 1 + ch->gd_blocks + ly->nr_gt_blocks + ly->nr_grains_appended * ch->gsec;
    }
    return blocks * 4096;
}

/* ---- reads --------------------------------------------------------------
 * A read scans its grains in order and collects runs; a grain being
 * allocated in a layer the read would look at stops the scan until the
 * allocation is durable (then the scan goes on from that grain).  The
 * runs go out as one request: plain for one run, else a vectored run of
 * one I/O per run (port_blk.h), so a big fragmented read costs one
 * simulator request but as many device I/Os as a real driver issues. */
struct rop {
    struct cons_chain *ch;
    int top;
    uint64_t s, end, cur;
    uint64_t *fps;
    cons_done_fn done;
    void *arg;
    struct cons_wait w;
    uint32_t nr_runs, cap;
    uint32_t epoch;                 /* cons_io_begin()'s parity */
    uint64_t *lbas;
    uint32_t *io_blocks;
    struct port_blk_req req;
};

static void rop_complete(struct port_blk_req *req, int rc)
{
    struct rop *op = req->data;
    cons_done_fn done = op->done;
    void *arg = op->arg;
    cons_op_end(op->ch, op, op->epoch);
    done(arg, rc);
}

/* Scan on from op->cur; false when it stopped to wait. */
static bool rop_scan(struct rop *op)
{
    struct cons_chain *ch = op->ch;
    uint32_t shift = ch->cfg.grain_shift;
    while (op->cur < op->end) {
        uint64_t g = op->cur >> shift;
        uint64_t gend = (g + 1) << shift;
        uint64_t seg_end = gend < op->end ? gend : op->end;
        int l = op->top;
        uint64_t lba = 0;
        for (; l > 0; l--) {
            struct cons_layer *ly = ch->layers[l];
            if (ly->nr_inflight) {
                struct cons_galloc *ga = cons_inflight_find(ch, ly->slot, g);
                if (ga) {
                    cons_wl_push(&ga->waiters, &op->w);
                    return false;
                }
            }
            uint32_t e = cons_gt_entry(ly, g);
            if (e) {
                lba = ly->lba0 + e + (op->cur & (ch->gsec - 1));
                break;
            }
        }
        if (l == 0)
            lba = ch->layers[0]->lba0 + op->cur;
        uint32_t len = (uint32_t)(seg_end - op->cur);
        uint32_t r = op->nr_runs;
        if (r && op->lbas[r - 1] + op->io_blocks[r - 1] == lba) {
            op->io_blocks[r - 1] += len;
        } else {
            op->lbas[r] = lba;
            op->io_blocks[r] = len;
            op->nr_runs++;
        }
        op->cur = seg_end;
    }
    return true;
}

static int rop_submit(struct rop *op)
{
    struct port_blk_req *req = &op->req;
    *req = (struct port_blk_req){
        .op = PORT_BLK_READ, .lba = op->lbas[0], .nr_blocks = (uint32_t)(op->end - op->s),
        .fps = op->fps, .cb = rop_complete, .data = op,
    };
    if (op->nr_runs > 1) {
        req->nr_ios = op->nr_runs;
        req->lbas = op->lbas;
        req->io_blocks = op->io_blocks;
    }
    return port_blk_submit(op->ch->dev, req);
}

static void rop_resume(struct cons_wait *w, int rc)
{
    (void)rc;   /* a failed allocation leaves the grain as it was: read on */
    struct rop *op = (struct rop *)((char *)w - offsetof(struct rop, w));
    if (op->top >= op->ch->nr_layers)     /* a layer above was removed meanwhile */
        op->top = op->ch->nr_layers - 1;
    if (!rop_scan(op))
        return;
    int src = rop_submit(op);
    if (src < 0) {
        cons_done_fn done = op->done;
        void *arg = op->arg;
        cons_op_end(op->ch, op, op->epoch);
        done(arg, src);
    }
}

int cons_read_start(struct cons_chain *ch, int top, uint64_t s, uint32_t n, uint64_t *fps,
                    cons_done_fn done, void *arg)
{
    if (n == 0 || top < 0 || top >= ch->nr_layers || s >= ch->cfg.nr_sectors ||
        n > ch->cfg.nr_sectors - s)
        return VM_ERANGE;
    uint64_t grains = ((s + n - 1) >> ch->cfg.grain_shift) - (s >> ch->cfg.grain_shift) + 1;
    struct rop *op = cons_op_alloc(ch, sizeof(*op) + grains * (sizeof(uint64_t) + sizeof(uint32_t)),
                                   NULL);
    if (!op)
        return VM_ENOMEM;
    *op = (struct rop){ .ch = ch, .top = top, .s = s, .end = s + n, .cur = s, .fps = fps,
                        .done = done, .arg = arg, .cap = (uint32_t)grains };
    op->w.fn = rop_resume;
    op->lbas = (uint64_t *)(op + 1);
    op->io_blocks = (uint32_t *)(op->lbas + grains);
    /* from here: the places the scan finds stay the grains' until it ends */
    op->epoch = cons_io_begin(ch);
    if (!rop_scan(op))
        return 0;
    int rc = rop_submit(op);
    if (rc < 0)
        cons_op_end(ch, op, op->epoch);
    return rc;
}

int cons_chain_read(struct cons_chain *ch, int top, uint64_t s, uint32_t n, uint64_t *fps,
                    cons_done_fn done, void *arg)
{
    return cons_read_start(ch, top, s, n, fps, done, arg);
}
