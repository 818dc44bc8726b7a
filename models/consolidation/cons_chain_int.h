/*
 * cons_chain_int.h - the disk chain's insides, shared by cons_chain.c (the
 * in-memory tables, reads, the grains in flight), cons_chain_write.c
 * (allocation, group commit of GT and GD blocks, unmap), cons_chain_fmt.c
 * (the blobs, set-up) and cons_chain_open.c (the descriptor, snapshots,
 * recovery).  Not part of the contract: see cons_chain.h.
 *
 * On-disk blocks are packed extents of one block whose blob is the
 * block's bytes: little-endian fixed-width fields, a magic number first
 * and an xxhash (vm_fp_bytes) of everything before it last, so a torn,
 * stale-format or foreign block is told apart from a good one.  Table
 * blobs also name their slot and index, so a block of another file or of
 * another table is caught.  A GD block carries its 1024 entries (4 KiB)
 * plus that 24-byte frame: a real format would give up six entries; the
 * model keeps the round number.
 *
 * A delta file's grains sit at grain-aligned file blocks: the header and
 * GD are padded to a grain (data0), GT t has its block at data0 + t (all
 * GTs' places together, as VMware's sparse extents preallocate them), and
 * grains are appended from grains0, the first grain-aligned block after
 * them.  Recovery checks that every GD entry names its GT's place and
 * every GT entry a grain-aligned block at or after grains0.
 *
 * Grains an unmap frees are reused, lowest place first, before the file
 * grows (qcow2: update_refcount() lowers free_cluster_index to a cluster
 * whose refcount drops to 0 and alloc_clusters_noref() searches from
 * there; the refcount decrease depends on the L2 table's write,
 * qcow2_cache_set_dependency()).  A place is free only once the GT write
 * that clears its entry is durable (a crash before it reopens the entry,
 * so the place must still hold the grain) and every read or in-place
 * write issued before the unmap has ended (it may still touch the place:
 * the epochs below).  The free places are not on disk: a reopened chain
 * appends after the last grain its tables name and leaks the holes below
 * (as a crash leaks qcow2 clusters until `qemu-img check -r leaks`).
 */
#ifndef CONS_CHAIN_INT_H
#define CONS_CHAIN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consolidation/cons_chain.h"

#define CONS_HDR_MAGIC 0x52444843u   /* "CHDR" */
#define CONS_DESC_MAGIC 0x43534443u  /* "CDSC" */
#define CONS_GT_MAGIC 0x31544743u    /* "CGT1" */
#define CONS_GD_MAGIC 0x31444743u    /* "CGD1" */
#define CONS_FMT_VERSION 1u

/* Blob sizes (bytes) of each block kind. */
#define CONS_HDR_LEN 40u                                  /* 4 x u32, 2 x u64, sum */
#define CONS_TBL_HEAD 16u                                 /* magic, slot, index, count */
#define CONS_GT_LEN (CONS_TBL_HEAD + 4u * CONS_GT_ENTRIES + 8u)
#define CONS_GD_LEN (CONS_TBL_HEAD + 4u * CONS_GD_PER_BLOCK + 8u)
#define CONS_DESC_LEN (40u + 4u * CONS_MAX_LAYERS + 4u + CONS_JOB_MAX + 8u)
#define CONS_BLOB_MAX CONS_GD_LEN

/* The header of a delta file (block 0 of its slot). */
struct cons_hdr {
    uint32_t magic, version;
    uint32_t grain_shift;
    uint32_t slot;
    uint64_t nr_sectors;
    uint32_t gd_blocks;
};

/* The descriptor: the chain as the VM opens it. */
struct cons_desc {
    uint32_t magic, version;
    uint64_t generation;            /* +1 per descriptor write */
    uint64_t nr_sectors;
    uint32_t grain_shift;
    uint32_t nr_layers;             /* base included */
    uint32_t slots[CONS_MAX_LAYERS]; /* bottom-up; slots[0] == 0 (the base) */
    uint32_t job_len;
    uint8_t job[CONS_JOB_MAX];
};

/* Encoders write exactly the blob length; decoders return 0 or VM_EPARSE
 * with the reason in err[errlen]. */
void cons_fmt_put_hdr(uint8_t *b, const struct cons_hdr *h);
int cons_fmt_get_hdr(const uint8_t *b, uint32_t len, struct cons_hdr *h, char *err,
                     size_t errlen);
void cons_fmt_put_desc(uint8_t *b, const struct cons_desc *d);
int cons_fmt_get_desc(const uint8_t *b, uint32_t len, struct cons_desc *d, char *err,
                      size_t errlen);
/* A table block (GT: n = CONS_GT_ENTRIES, GD: CONS_GD_PER_BLOCK); the
 * entries past nr_valid are written as 0. */
void cons_fmt_put_tbl(uint8_t *b, uint32_t magic, uint32_t slot, uint32_t index,
                      const uint32_t *ent, uint32_t nr_valid, uint32_t n);
int cons_fmt_get_tbl(const uint8_t *b, uint32_t len, uint32_t magic, uint32_t slot,
                     uint32_t index, uint32_t *ent, uint32_t n, char *err, size_t errlen);

/* Every operation in flight (a read, write, unmap, flush, descriptor
 * wait, snapshot, open) is allocated with cons_op_alloc(), so that
 * cons_chain_free() can drop those a crash left waiting forever.  drop
 * (may be NULL) frees what the operation owns besides itself. */
struct cons_op {
    struct cons_op *prev, *next;    /* the ring of operations in flight, or the free list */
    void (*drop)(void *op);
    uint32_t cls;                   /* size class (cons_chain.c), CONS_OP_CLASSES = none */
    max_align_t align[];            /* the operation follows, aligned */
};
/* Freed operations are kept for the next of their size class (sizes of
 * 2^(7 + class) bytes, up to 64 KiB), at most CONS_OP_KEEP per class:
 * a write, a read and a table write each take one, thousands a second. */
#define CONS_OP_CLASSES 10
#if defined(__SANITIZE_ADDRESS__)
#define CONS_OP_KEEP 0              /* let ASan see every use after free */
#else
#define CONS_OP_KEEP 256
#endif
void *cons_op_alloc(struct cons_chain *ch, size_t size, void (*drop)(void *op));
void cons_op_free(struct cons_chain *ch, void *op);
struct cons_meta;
void cons_meta_put(struct cons_chain *ch, struct cons_meta *m);

/* The descriptor of the chain as it is now, with the next generation;
 * returns the slots it names as a bit mask (cons_chain_fmt.c). */
uint64_t cons_desc_fill(struct cons_chain *ch, struct cons_desc *d);

/* A callback node: whoever waits on a grain, a table write or the
 * descriptor embeds one; fn runs once with the outcome. */
struct cons_wait {
    struct cons_wait *next;
    void (*fn)(struct cons_wait *w, int rc);
};
struct cons_wlist {
    struct cons_wait *head, *tail;
};

/* A metadata block with group commit: one write in flight; entries set
 * while it flies go out in the next.  Write number k (1-based) carries
 * every entry set before it started; a waiter that needs write k is
 * called once done >= k. */
struct cons_meta {
    struct cons_chain *ch;
    struct cons_layer *ly;
    bool is_gd;
    uint32_t index;                 /* GT number, or GD block number */
    bool inflight;
    bool dirty;                     /* entries set since the write in flight started */
    uint32_t waking;                /* meta_done()s waking its waiters: it stays */
    uint64_t started, done;         /* writes started / completed */
    struct cons_wlist cur, next;    /* waiting for the one in flight / the next */
    struct port_blk_req req;
    struct cons_meta *fnext;        /* the chain's free list of GT committers */
    bool held;                      /* on the chain's held list (cons_chain_batch_begin) */
    struct cons_meta *hnext;
    uint8_t blob[];                 /* the image in flight */
};
#if defined(__SANITIZE_ADDRESS__)
#define CONS_META_KEEP 0
#else
#define CONS_META_KEEP 256          /* idle GT committers kept for reuse */
#endif

/* A growable array of grain places (file blocks). */
struct cons_posv {
    uint32_t *v;
    uint64_t n, cap;
};

/* One layer.  The base (flat) uses only slot and lba0. */
struct cons_layer {
    uint32_t slot;
    uint64_t lba0;                  /* the slot's first device block */
    bool flat;
    uint32_t **gt;                  /* [nr_gts]: entry arrays, NULL = none yet */
    uint32_t *gt_pos;               /* [nr_gts]: the GT's file block, 0 = none reserved */
    uint32_t *gd_img;               /* [nr_gts]: GD entries as the next GD write carries */
    uint64_t *gd_need;              /* [nr_gts]: GD write number making gd_img durable */
    struct cons_meta **gtc;         /* [nr_gts]: GT committers, while busy */
    struct cons_meta **gdc;         /* [gd_blocks]: GD committers (made at creation) */
    uint64_t next_free;             /* next grain-aligned file block to append */
    struct cons_posv free_pos;      /* freed places ready for reuse: a min-heap */
    struct cons_posv limbo[2];      /* freed in the epoch before / in the current one */
    uint64_t nr_alloc;              /* GT entries != 0 */
    uint64_t nr_gt_blocks, nr_grains_appended;
    uint32_t nr_busy;               /* allocations and unmaps in flight */
    uint32_t nr_inflight;           /* grains of this layer in the in-flight table */
};

/* A grain being allocated (key: slot, grain): in the in-flight table
 * from its reservation until its data, GT and GD blocks are durable. */
struct cons_wop;
struct cons_galloc {
    struct cons_galloc *hnext;      /* hash chain, free list */
    struct cons_chain *ch;
    struct cons_layer *ly;
    int layer;                      /* its index when the allocation started */
    uint32_t slot;
    uint64_t g;
    uint32_t pos;                   /* the grain's file block */
    uint32_t restore;               /* on failure the entry goes back to this (a
                                     * place the disk names: a failed unmap's), or 0 */
    uint32_t pending;               /* fill reads, data write outstanding */
    int stage;                      /* what completes next (cons_chain_write.c) */
    int rc;
    struct cons_wop *op;            /* the write to acknowledge, NULL once acked */
    uint32_t fill_a, fill_b;        /* the sectors of the grain the write brings */
    struct cons_wlist waiters;      /* operations on this grain, waiting */
    struct cons_wait w;             /* our node on the GT / GD committers */
    struct port_blk_req req;        /* the data write (of the group's leader) */
    struct cons_galloc *follow;     /* next grain of a group written by one request */
    uint32_t nr_group;              /* leader: grains its data write carries */
    uint64_t *data;                 /* the grain's fps to write */
    uint64_t buf[];                 /* gsec fps: the filled grain of a partial write */
};

struct cons_chain {
    struct port_blk *dev;
    struct cons_chain_cfg cfg;
    uint32_t gsec;                  /* sectors per grain */
    uint64_t nr_grains, nr_gts;
    uint32_t gd_blocks;
    uint64_t data0;                 /* first grain-aligned block after header and GD: GT 0 */
    uint64_t grains0;               /* the first grain's block, after every GT's place */
    int nr_layers;
    struct cons_layer *layers[CONS_MAX_LAYERS];
    uint64_t slot_live;             /* slots of layers in memory */
    uint64_t slot_named;            /* slots named by the durable descriptor */
    uint64_t slot_flying;           /* slots named by the descriptor write in flight */
    /* grains in flight: chained hash */
    struct cons_galloc **ht;
    uint64_t ht_mask, ht_count;
    struct cons_op ops;             /* operations in flight: a ring through ops */
    struct cons_uop *unmaps;        /* unmaps in flight (cons_chain_write.c) */
    struct cons_galloc *ga_free;    /* free list of allocation nodes */
    struct cons_op *op_free[CONS_OP_CLASSES];   /* freed operations by size class */
    uint32_t nr_op_free[CONS_OP_CLASSES];
    /* Device I/O on grain places (reads, in-place writes, grain batches)
     * by the parity of the epoch it started in; freed places wait in
     * their layer's limbo until the I/O of their epoch has ended. */
    uint64_t io_epoch;
    uint64_t io_count[2];
    uint64_t nr_limbo;              /* places in every layer's limbo */
    struct cons_meta *meta_free;    /* idle GT committers (blob of CONS_GT_LEN) */
    uint32_t nr_meta_free;
    uint32_t meta_hold;             /* cons_chain_batch_begin() depth: table writes wait */
    struct cons_meta *held;         /* blocks with entries set meanwhile */
    /* descriptor writes */
    uint64_t generation;
    bool desc_inflight, desc_dirty;
    struct cons_wlist desc_cur, desc_next;
    uint8_t job[CONS_JOB_MAX];
    uint32_t job_len;
    struct port_blk_req desc_req;
    uint8_t desc_blob[CONS_DESC_LEN];
    char err[256];
};

/* cons_chain.c */
static inline uint64_t cons_slot_lba(const struct cons_chain *ch, uint32_t slot)
{
    return ch->cfg.slot0_lba + (uint64_t)slot * ch->cfg.slot_blocks;
}
static inline uint32_t cons_gt_entry(const struct cons_layer *ly, uint64_t g)
{
    const uint32_t *gt = ly->gt[g / CONS_GT_ENTRIES];
    return gt ? gt[g % CONS_GT_ENTRIES] : 0;
}
static inline uint64_t cons_ht_hash(uint32_t slot, uint64_t g)
{
    uint64_t h = (g ^ ((uint64_t)slot << 56)) * UINT64_C(0x9e3779b97f4a7c15);
    return h ^ (h >> 29);
}
struct cons_layer *cons_layer_new(struct cons_chain *ch, uint32_t slot);
void cons_layer_free(struct cons_chain *ch, struct cons_layer *ly);
/* Set GT entry g (allocating the entry array): 0 or VM_ENOMEM. */
int cons_layer_set(struct cons_layer *ly, uint64_t g, uint32_t pos);
/* Reserve a file block for GT t (from the current GT chunk) and a grain:
 * the block, or 0 when the slot is full. */
uint32_t cons_layer_reserve_gt(struct cons_chain *ch, struct cons_layer *ly, uint64_t t);
uint32_t cons_layer_reserve_grain(struct cons_chain *ch, struct cons_layer *ly);
/* Place pos of ly, whose unmap is durable, becomes free once the I/O
 * started so far has ended: 0 or VM_ENOMEM (then it is leaked). */
int cons_layer_release_grain(struct cons_chain *ch, struct cons_layer *ly, uint32_t pos);
/* Around every device request on grain places: begin returns the
 * epoch's parity to pass to end. */
static inline uint32_t cons_io_begin(struct cons_chain *ch)
{
    uint32_t p = (uint32_t)(ch->io_epoch & 1);
    ch->io_count[p]++;
    return p;
}
void cons_io_end(struct cons_chain *ch, uint32_t parity);
/* An operation over grain places is over: op back to the pool
 * (cons_op_free), then cons_io_end(parity) (parity read before the call,
 * so op->epoch may be passed). */
void cons_op_end(struct cons_chain *ch, void *op, uint32_t parity);
int cons_free_slot(const struct cons_chain *ch);    /* a slot, or -1 */
struct cons_galloc *cons_inflight_find(const struct cons_chain *ch, uint32_t slot, uint64_t g);
void cons_wl_push(struct cons_wlist *l, struct cons_wait *w);
/* Call every waiter of l (taken off first) with rc. */
void cons_wl_wake(struct cons_wlist *l, int rc);
/* Internal read as cons_chain_read, for the copy-on-write fill. */
int cons_read_start(struct cons_chain *ch, int top, uint64_t s, uint32_t n, uint64_t *fps,
                    cons_done_fn done, void *arg);

/* cons_chain_write.c */
struct cons_meta *cons_meta_new(struct cons_chain *ch, struct cons_layer *ly, bool is_gd,
                                uint32_t index);
/* Ask for the next write of m to carry what is set now; w->fn runs when
 * it is durable. */
void cons_meta_request(struct cons_meta *m, struct cons_wait *w);
/* w->fn runs once write number gen of m is durable (at once if it is). */
void cons_meta_wait_for(struct cons_meta *m, uint64_t gen, struct cons_wait *w);

#endif
