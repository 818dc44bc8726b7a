/*
 * ho_ds.c - the shared datastore: per virtual disk a lock record {owner,
 * generation, the daemons that can act for the disk} changed only by
 * compare-and-write (VMFS ATS: the array compares the on-disk record with
 * the expected one and writes the new one in a single atomic command),
 * the disk's data blocks behind a fencing check, and sanlock's delta
 * leases (one counter per host, bumped by each renewal).
 *
 * Costs: every operation is one 4 KiB I/O on the datastore's block device
 * (lock records at lba 0.., leases after them, data after those), so a
 * slow or faulty datastore slows or stalls every protocol step alike.
 * The record changes when the operation arrives (the array serializes
 * commands on one record: an ATS is atomic); the reply leaves when its
 * I/O completes.  A failed I/O sends no reply: the caller times out.
 *
 * The checker (ho_check.c) sees every accepted write and every record
 * update here, at the only place that knows what was accepted.
 */
#include <stdlib.h>
#include <string.h>

#include "handoff/ho_int.h"

struct ds_op {
    struct port_blk_req req;
    uint64_t fp;
    struct ho_cluster *c;
    struct ho_msg reply;
    uint32_t to;                 /* HO_NONE: no reply (the operator's clear) */
    uint32_t need;               /* messages charged to */
    bool leases;
};

int ho_ds_init(struct ho_cluster *c)
{
    uint32_t nd = c->cfg.nr_disks;
    c->ds = calloc(nd, sizeof *c->ds);
    c->lease_ts = calloc(c->cfg.nr_hosts, sizeof *c->lease_ts);
    c->lease_gen = calloc(c->cfg.nr_hosts, sizeof *c->lease_gen);
    if (!c->ds || !c->lease_ts || !c->lease_gen)
        return VM_ENOMEM;
    for (uint32_t h = 0; h < c->cfg.nr_hosts; h++)
        c->lease_gen[h] = 1;
    for (uint32_t d = 0; d < nd; d++) {
        struct ho_ds_disk *r = &c->ds[d];
        const struct ho_disk_cfg *dc = &c->disk_cfg[d];
        r->owner = dc->holder_host;
        r->gen = 1;
        r->owner_lgen = 1;
        memcpy(r->actors, dc->actors, sizeof r->actors);
        r->blk_gen = calloc(c->cfg.blocks_per_disk, sizeof *r->blk_gen);
        r->blk_host = calloc(c->cfg.blocks_per_disk, sizeof *r->blk_host);
        if (!r->blk_gen || !r->blk_host)
            return VM_ENOMEM;
    }
    c->ds_lba_leases = nd;
    c->ds_lba_data = nd + c->cfg.nr_hosts;
    return 0;
}

void ho_ds_free(struct ho_cluster *c)
{
    if (!c->ds)
        return;
    for (uint32_t d = 0; d < c->cfg.nr_disks; d++) {
        free(c->ds[d].blk_gen);
        free(c->ds[d].blk_host);
    }
    free(c->ds);
    free(c->lease_ts);
    free(c->lease_gen);
    c->ds = NULL;
}

static void op_done(struct port_blk_req *req, int rc)
{
    struct ds_op *op = req->data;
    struct ho_cluster *c = op->c;
    c->ds_inflight--;
    if (c->dead) {
        if (c->ds_inflight == 0)
            ho_cluster_free(c);
    } else if (rc == 0 && op->to != HO_NONE) {
        if (op->leases)
            op->reply.nr_leases = c->cfg.nr_hosts;
        ho_send(c, HO_NONE, op->to, &op->reply, op->leases ? c->lease_ts : NULL, op->need);
    }
    free(op);
}

/* Reply r to host `to` once one I/O at lba has completed. */
static void io_then_reply(struct ho_cluster *c, enum port_blk_op kind, uint64_t lba,
                          const struct ho_msg *r, uint32_t to, uint32_t need, bool leases)
{
    struct ds_op *op = calloc(1, sizeof *op);
    if (!op)
        return;
    op->c = c;
    op->reply = *r;
    op->to = to;
    op->need = need;
    op->leases = leases;
    op->fp = lba + 1;
    op->req = (struct port_blk_req){ .op = kind, .lba = lba, .nr_blocks = 1, .fps = &op->fp,
                                     .cb = op_done, .data = op };
    uint64_t nb = port_blk_nr_blocks(c->p.ds_dev);
    if (nb)
        op->req.lba = lba % nb;
    c->ds_inflight++;
    if (port_blk_submit(c->p.ds_dev, &op->req) < 0) {
        c->ds_inflight--;
        free(op);
    }
}

/* Make `owner` the record's owner at generation new_gen; actors keep
 * their order with the new owner first. */
static void set_owner(struct ho_cluster *c, uint32_t d, uint32_t owner, uint64_t new_gen)
{
    struct ho_ds_disk *r = &c->ds[d];
    ho_check_meta(c, d, r->gen, new_gen);
    if (owner != HO_NONE && r->actors[0] != owner) {
        uint32_t a[HO_MAX_ACTORS], n = 0;
        a[n++] = owner;
        for (int i = 0; i < HO_MAX_ACTORS && n < HO_MAX_ACTORS; i++)
            if (r->actors[i] != HO_NONE && r->actors[i] != owner)
                a[n++] = r->actors[i];
        while (n < HO_MAX_ACTORS)
            a[n++] = HO_NONE;
        memcpy(r->actors, a, sizeof a);
    }
    r->owner = owner;
    r->gen = new_gen;
    r->lreq = false;                    /* a request is for the lease version it saw */
    r->owner_lgen = owner != HO_NONE ? c->lease_gen[owner] : 0;
}

static uint32_t need_of(const struct ho_msg *m)
{
    return m->slot_kind == S_REQ ? m->slot : HO_NONE;
}

void ho_ds_handle(struct ho_cluster *c, const struct ho_msg *m)
{
    if (m->host >= c->cfg.nr_hosts)
        return;
    if (m->type != M_DS_RENEW && m->disk >= c->cfg.nr_disks)
        return;
    struct ho_ds_disk *r = m->type == M_DS_RENEW ? NULL : &c->ds[m->disk];
    struct ho_msg rep = { .disk = m->disk, .id = m->id, .slot_kind = m->slot_kind,
                          .slot = m->slot, .slot_seq = m->slot_seq };
    uint64_t rec_lba = m->disk;
    switch (m->type) {
    case M_DS_READ:
        rep.type = M_DS_META;
        rep.owner = r->owner;
        rep.gen = r->gen;
        memcpy(rep.actors, r->actors, sizeof rep.actors);
        rep.lgen = r->owner_lgen;
        rep.owner_ts = r->owner != HO_NONE ? c->lease_ts[r->owner] : 0;
        rep.cur_lgen = r->owner != HO_NONE ? c->lease_gen[r->owner] : 0;
        io_then_reply(c, PORT_BLK_READ, rec_lba, &rep, m->host, need_of(m), false);
        break;
    case M_DS_CAW:
        if (r->gen == m->gen) {
            set_owner(c, m->disk, m->owner, m->gen + 1);
            rep.type = M_DS_CAW_OK;
            rep.gen = r->gen;
            rep.owner = r->owner;
            io_then_reply(c, PORT_BLK_WRITE, rec_lba, &rep, m->host, need_of(m), false);
        } else {
            rep.type = M_DS_CAW_FAIL;
            rep.owner = r->owner;
            rep.gen = r->gen;
            io_then_reply(c, PORT_BLK_READ, rec_lba, &rep, m->host, need_of(m), false);
        }
        break;
    case M_DS_SET:                      /* a lock break: read-modify-write, no compare */
        /* a resend whose first copy landed writes the same record again:
         * no new owner, so not an update the checker should see (it would
         * count generation g + 1 given twice as a split) */
        if (!(r->owner == m->owner && r->gen == m->gen + 1))
            set_owner(c, m->disk, m->owner, m->gen + 1);
        rep.type = M_DS_CAW_OK;
        rep.gen = r->gen;
        rep.owner = r->owner;
        io_then_reply(c, PORT_BLK_WRITE, rec_lba, &rep, m->host, need_of(m), false);
        break;
    case M_DS_WRITE: {
        uint64_t lba = c->ds_lba_data + (uint64_t)m->disk * c->cfg.blocks_per_disk + m->block;
        if (c->fences && m->gen != r->gen) {
            c->st.stale_refused++;
            rep.type = M_DS_FENCED;
            rep.gen = r->gen;
            io_then_reply(c, PORT_BLK_READ, rec_lba, &rep, m->host, HO_NONE, false);
            break;
        }
        ho_check_write(c, m->disk, m->host, m->gen, m->block);
        rep.type = M_DS_ACK;
        io_then_reply(c, PORT_BLK_WRITE, lba, &rep, m->host, HO_NONE, false);
        break;
    }
    case M_DS_RENEW:
        if (m->reason)                  /* a restarted host rejoins the lockspace */
            c->lease_gen[m->host]++;
        c->lease_ts[m->host]++;
        rep.type = M_DS_LEASES;
        io_then_reply(c, PORT_BLK_WRITE, c->ds_lba_leases + m->host, &rep, m->host, HO_NONE,
                      true);
        break;
    case M_DS_LREQ:                     /* the request field of the lease */
        r->lreq = true;
        /* the requester's next renewal publishes it (sanlock sets the
         * owner's bit in its own delta lease); the owner sees it after */
        r->lreq_after = c->hosts[m->host].next_renew_ns;
        io_then_reply(c, PORT_BLK_WRITE, rec_lba, &rep, HO_NONE, HO_NONE, false);
        break;
    default:
        break;
    }
}

/* The record cleared (no owner), one write: an operator's unlock, or a
 * sanlock owner releasing a requested lease. */
void ho_ds_clear(struct ho_cluster *c, uint32_t disk)
{
    struct ho_ds_disk *r = &c->ds[disk];
    set_owner(c, disk, HO_NONE, r->gen + 1);
    struct ho_msg none = { 0 };
    io_then_reply(c, PORT_BLK_WRITE, disk, &none, HO_NONE, HO_NONE, false);
}
