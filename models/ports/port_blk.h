/*
 * port_blk.h - the block device port (SQLite VFS / fio ioengine_ops shape).
 *
 * Device blocks are 4 KiB (VM_PAGE_SIZE).  Contents are fingerprints, not
 * bytes (see vm_fpstore.h): a plain request carries one fingerprint per
 * block; a packed request carries nr_fps page fingerprints compressed into
 * nr_blocks blocks and/or a metadata byte blob.
 *
 * A request may stand for a *run* of nr_ios equal device I/Os (nr_blocks /
 * nr_ios blocks each), issued together at the device's queue depth (like
 * one io_submit() of nr_ios iocbs): the device charges nr_ios operations
 * (latency, IOPS) and moves nr_blocks blocks.  The I/Os cover consecutive
 * blocks from lba, or, when lbas is set, I/O i starts at lbas[i] (a
 * vectored run; plain data only).  This is how per-page policies issue
 * millions of 4 KiB writes without one simulator activity each.  A
 * vectored run may also carry io_blocks: then I/O i moves io_blocks[i]
 * (>= 1) blocks at lbas[i], the lengths sum to nr_blocks, and fps holds
 * the I/Os' blocks one after the other (the non-zero runs of a chunk with
 * holes, each its own I/O).
 *
 * Requests belong to the caller and must stay valid until the callback.
 * The callback runs exactly once, never from inside submit(); a negative
 * return from submit() means the callback will not run.
 */
#ifndef PORT_BLK_H
#define PORT_BLK_H

#include <stdint.h>

#define PORT_BLK_VERSION 1

struct port_blk;
struct port_blk_req;
typedef void (*port_blk_cb)(struct port_blk_req *req, int rc);  /* 0 or VM_E* */

enum port_blk_op { PORT_BLK_READ, PORT_BLK_WRITE, PORT_BLK_FLUSH };

struct port_blk_req {
    enum port_blk_op op;
    uint64_t lba;           /* first device block */
    uint32_t nr_blocks;     /* device blocks moved (time and bytes) */
    uint32_t nr_ios;        /* equal device I/Os this request stands for; 0 = 1 */
    const uint64_t *lbas;   /* NULL, or nr_ios start blocks (a vectored run, plain only) */
    const uint32_t *io_blocks; /* NULL (equal I/Os), or with lbas nr_ios lengths summing
                               to nr_blocks */
    int packed;             /* 0: plain (fps[i] is block lba+i); 1: packed extent */
    uint64_t *fps;          /* WRITE: in; READ: out.  plain: nr_blocks entries */
    uint32_t nr_fps;        /* packed: fingerprints carried (READ: capacity in, count out) */
    void *bytes;            /* packed metadata blob (WRITE: in; READ: out), or NULL */
    uint32_t len;           /* bytes length (READ: capacity in, length out) */
    port_blk_cb cb;         /* called exactly once, never from inside submit() */
    void *data;             /* the caller's; the port never touches it */
    uint64_t submit_ns;     /* set by the port at submit (clock of the world) */
    uint64_t done_ns;       /* set by the port before cb */
};

struct port_blk_ops {
    int version;            /* PORT_BLK_VERSION */
    const char *name;       /* "sim", "fake" */
    int (*submit)(struct port_blk *dev, struct port_blk_req *req);  /* <0: cb won't run */
    uint64_t (*nr_blocks)(const struct port_blk *dev);
};

struct port_blk { const struct port_blk_ops *ops; };   /* implementations embed it first */

static inline int port_blk_submit(struct port_blk *dev, struct port_blk_req *req)
{
    return dev->ops->submit(dev, req);
}
static inline uint64_t port_blk_nr_blocks(const struct port_blk *dev)
{
    return dev->ops->nr_blocks(dev);
}
static inline uint32_t port_blk_req_ios(const struct port_blk_req *req)
{
    return req->nr_ios ? req->nr_ios : 1;
}

#endif
