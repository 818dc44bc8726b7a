/*
 * cons_chain_grains.c - I/O on a list of whole grains as one request: the
 * copier's batches.  A consolidation copies the grains a delta holds,
 * which are scattered over the disk when the guest wrote at random; each
 * contiguous run of them is one device I/O (as QEMU's mirror issues one
 * operation per run of dirty clusters), or, given an I/O size, as many
 * I/Os of at most that size as it takes (the ESX data mover's 64 KiB
 * I/Os), and a batch of them goes to the port as one vectored request
 * (port_blk.h), so the device charges every I/O while the simulator pays
 * one request per batch.
 */
#include <stdlib.h>

#include "base/vm_err.h"
#include "consolidation/cons_chain_int.h"

struct gop {
    struct cons_chain *ch;
    cons_done_fn done;
    void *arg;
    uint32_t epoch;                 /* cons_io_begin()'s parity */
    uint64_t *lbas;
    uint32_t *io_blocks;
    struct port_blk_req req;
};

static void gop_complete(struct port_blk_req *req, int rc)
{
    struct gop *op = req->data;
    cons_done_fn done = op->done;
    void *arg = op->arg;
    cons_op_end(op->ch, op, op->epoch);
    done(arg, rc);
}

/* The device block grain g starts at in layer `top`'s view (or in layer
 * `top` itself when own); VM_EAGAIN while it is being allocated there. */
static int grain_lba(const struct cons_chain *ch, int top, bool own, uint64_t g, uint64_t *lba)
{
    for (int l = top; l > 0; l--) {
        const struct cons_layer *ly = ch->layers[l];
        if (ly->nr_inflight && cons_inflight_find(ch, ly->slot, g))
            return VM_EAGAIN;
        uint32_t e = cons_gt_entry(ly, g);
        if (e) {
            *lba = ly->lba0 + e;
            return 0;
        }
        if (own)
            return VM_ENOTSUP;
    }
    *lba = ch->layers[0]->lba0 + (g << ch->cfg.grain_shift);
    return 0;
}

/* The I/Os a list of grains makes so far: n of them, the last of `last`
 * sectors ending before device block `end` (UINT64_MAX: nothing may join
 * it). */
struct io_split {
    uint32_t n, last;
    uint64_t end;
};

/* Add the sectors [lba, lba + len) to the I/Os st counts (and, lbas not
 * NULL, to lbas/io_blocks[0..st->n)): extend the last I/O where they
 * follow it on the device and it stays within io_sec sectors (0: no
 * limit), else new I/Os of at most io_sec. */
static void split_ios(struct io_split *st, uint64_t lba, uint32_t len, uint32_t io_sec,
                      uint64_t *lbas, uint32_t *io_blocks)
{
    if (st->n && st->end == lba) {
        uint32_t room = io_sec ? (st->last < io_sec ? io_sec - st->last : 0) : len;
        uint32_t take = len < room ? len : room;
        if (lbas)
            io_blocks[st->n - 1] += take;
        st->last += take;
        lba += take;
        len -= take;
    }
    while (len) {
        uint32_t take = io_sec && len > io_sec ? io_sec : len;
        if (lbas) {
            lbas[st->n] = lba;
            io_blocks[st->n] = take;
        }
        st->n++;
        st->last = take;
        lba += take;
        len -= take;
    }
    st->end = lba;
}

static int grains_io(struct cons_chain *ch, enum port_blk_op what, int layer, bool own,
                     const uint64_t *g, uint32_t n, uint32_t io_sec, uint64_t *fps,
                     cons_done_fn done, void *arg)
{
    if (n == 0 || layer < 0 || layer >= ch->nr_layers)
        return VM_ERANGE;
    /* I/Os a grain can make at most */
    uint32_t per = io_sec && io_sec < ch->gsec ? (ch->gsec + io_sec - 1) / io_sec : 1;
    size_t max_ios = (size_t)n * per;
    struct gop *op = cons_op_alloc(ch, sizeof(*op) + max_ios * (sizeof(uint64_t) + sizeof(uint32_t)),
                                   NULL);
    if (!op)
        return VM_ENOMEM;
    *op = (struct gop){ .ch = ch, .done = done, .arg = arg };
    op->lbas = (uint64_t *)(op + 1);
    op->io_blocks = (uint32_t *)(op->lbas + max_ios);
    struct io_split st = { 0 };
    uint32_t blocks = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t lba, s = g[i] << ch->cfg.grain_shift;
        if (g[i] >= ch->nr_grains || (i && g[i] <= g[i - 1])) {
            cons_op_free(ch, op);
            return VM_ERANGE;
        }
        int rc = grain_lba(ch, layer, own, g[i], &lba);
        if (rc) {
            cons_op_free(ch, op);
            return rc;
        }
        uint32_t len = ch->gsec;
        if (s + len > ch->cfg.nr_sectors)
            len = (uint32_t)(ch->cfg.nr_sectors - s);
        split_ios(&st, lba, len, io_sec, op->lbas, op->io_blocks);
        blocks += len;
    }
    op->req = (struct port_blk_req){ .op = what, .lba = op->lbas[0], .nr_blocks = blocks,
                                     .fps = fps, .cb = gop_complete, .data = op };
    if (st.n > 1) {
        op->req.nr_ios = st.n;
        op->req.lbas = op->lbas;
        op->req.io_blocks = op->io_blocks;
    }
    op->epoch = cons_io_begin(ch);
    int rc = port_blk_submit(ch->dev, &op->req);
    if (rc < 0) {
        ch->io_count[op->epoch]--;
        cons_op_free(ch, op);
    }
    return rc < 0 ? rc : 0;
}

uint32_t cons_chain_read_runs(const struct cons_chain *ch, int top, const uint64_t *g, uint32_t n,
                              uint32_t io_sec)
{
    struct io_split st = { 0 };
    for (uint32_t i = 0; i < n; i++) {
        uint64_t lba = 0, s = g[i] << ch->cfg.grain_shift;
        uint32_t len = ch->gsec;
        if (g[i] < ch->nr_grains && s + len > ch->cfg.nr_sectors)
            len = (uint32_t)(ch->cfg.nr_sectors - s);   /* the disk's short last grain */
        /* one being allocated is read on its own */
        bool alone = g[i] >= ch->nr_grains || top < 0 || top >= ch->nr_layers ||
                     grain_lba(ch, top, false, g[i], &lba) != 0;
        if (alone)
            st.end = UINT64_MAX;
        split_ios(&st, lba, len, io_sec, NULL, NULL);
        if (alone)
            st.end = UINT64_MAX;
    }
    return st.n;
}

int cons_chain_read_grains(struct cons_chain *ch, int top, const uint64_t *g, uint32_t n,
                           uint32_t io_sec, uint64_t *fps, cons_done_fn done, void *arg)
{
    return grains_io(ch, PORT_BLK_READ, top, false, g, n, io_sec, fps, done, arg);
}

int cons_chain_write_grains(struct cons_chain *ch, int layer, const uint64_t *g, uint32_t n,
                            uint32_t io_sec, const uint64_t *fps, cons_done_fn done, void *arg)
{
    return grains_io(ch, PORT_BLK_WRITE, layer, true, g, n, io_sec, (uint64_t *)fps, done, arg);
}
