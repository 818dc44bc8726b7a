/*
 * disk_rig.c - what the simulated-disk suites share (disk_rig.h).
 */
#include <math.h>
#include <string.h>

#include "disk_rig.h"
#include "sim_world.h"

struct sim_waitq *wq;      /* every waiter of the test, woken on each completion */
static int in_submit;

static void io_cb(struct port_blk_req *req, int rc)
{
    struct io *io = (struct io *)req;
    io->rc = rc;
    io->done = 1;
    io->done_in_submit = in_submit;
    sim_waitq_wake_all(wq);
}

void io_prep(struct io *io, enum port_blk_op op, uint64_t lba, uint32_t nr_blocks,
             uint32_t nr_ios, uint64_t *fps)
{
    memset(io, 0, sizeof(*io));
    io->req.op = op;
    io->req.lba = lba;
    io->req.nr_blocks = nr_blocks;
    io->req.nr_ios = nr_ios;
    io->req.fps = fps;
    io->req.cb = io_cb;
}

int io_submit(struct port_blk *dev, struct io *io)
{
    in_submit = 1;
    int rc = port_blk_submit(dev, &io->req);
    in_submit = 0;
    return rc;
}

void io_wait(struct io *io)
{
    while (!io->done)
        sim_waitq_wait(wq);
}

/* Submit and wait; the request's completion code. */
int io_run(struct port_blk *dev, struct io *io)
{
    int rc = io_submit(dev, io);
    if (rc != 0)
        return rc;
    io_wait(io);
    return io->rc;
}

uint64_t latency_ns(const struct io *io)
{
    return io->req.done_ns - io->req.submit_ns;
}

uint64_t xfer_ns(uint64_t bytes, double bps)
{
    return (uint64_t)llround((double)bytes / bps * 1e9);
}

struct sim_disk *disk_a, *disk_b;
uint64_t t_start, t_end, t_mid;
int rc_a, rc_b;
uint64_t lat_a, lat_b, lat_c;
