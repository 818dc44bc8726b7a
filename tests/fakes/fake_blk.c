/*
 * fake_blk.c - queued, logged, fault-injecting block device for unit
 * tests (see fake_blk.h).  Not modelled: latency and bandwidth beyond the
 * optional fixed per-I/O and per-block clock advance.
 */
#include "fakes/fake_blk.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/vm_err.h"

static bool grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = n;
    return true;
}

/* Does the next request of this kind fail?  Returns its rc or 0. */
static int take_fault(struct fake_fail *f)
{
    if (f->mode == VM_FAULT_OFF)
        return 0;
    if (f->countdown > 0) {
        f->countdown--;
        return 0;
    }
    int rc = f->rc;
    if (f->mode == VM_FAULT_ONCE)
        f->mode = VM_FAULT_OFF;
    return rc;
}

static int fake_submit(struct port_blk *pdev, struct port_blk_req *req)
{
    struct fake_blk *dev = (struct fake_blk *)pdev;
    if (req->op != PORT_BLK_FLUSH && req->nr_blocks == 0)
        return VM_ERANGE;
    if (!vm_fpstore_req_fits(dev->store, req))
        return VM_ERANGE;
    if (!grow((void **)&dev->log, &dev->log_cap, dev->log_len + 1, sizeof(*dev->log)))
        return VM_ENOMEM;
    if (dev->q_head > 0 && dev->q_head == dev->q_len)
        dev->q_head = dev->q_len = 0;
    if (!grow((void **)&dev->q, &dev->q_cap, dev->q_len + 1, sizeof(*dev->q)))
        return VM_ENOMEM;
    int rc = 0;
    if (req->op == PORT_BLK_WRITE)
        rc = take_fault(&dev->fail_write);
    else if (req->op == PORT_BLK_READ)
        rc = take_fault(&dev->fail_read);
    dev->log[dev->log_len] = (struct fake_blk_logent){
        .op = req->op, .lba = req->lba, .nr_blocks = req->nr_blocks, .nr_ios = req->nr_ios,
        .packed = req->packed, .nr_fps = req->op == PORT_BLK_WRITE ? req->nr_fps : 0,
        .len = req->op == PORT_BLK_WRITE ? req->len : 0, .rc = 1,
    };
    dev->q[dev->q_len++] = (struct fake_blk_qent){ req, dev->log_first + dev->log_len, rc };
    dev->log_len++;
    dev->nr_submitted++;
    req->submit_ns = dev->clock ? dev->clock->now_ns : 0;
    return 0;
}

static uint64_t fake_nr_blocks(const struct port_blk *pdev)
{
    return ((const struct fake_blk *)pdev)->nr_blocks;
}

static const struct port_blk_ops fake_blk_ops = {
    .version = PORT_BLK_VERSION,
    .name = "fake",
    .submit = fake_submit,
    .nr_blocks = fake_nr_blocks,
};

struct fake_blk *fake_blk_new(uint64_t nr_blocks)
{
    struct fake_blk *dev = calloc(1, sizeof(*dev));
    if (!dev)
        return NULL;
    dev->base.ops = &fake_blk_ops;
    dev->nr_blocks = nr_blocks;
    dev->store = vm_fpstore_new(nr_blocks);
    if (!dev->store) {
        free(dev);
        return NULL;
    }
    return dev;
}

void fake_blk_free(struct fake_blk *dev)
{
    if (!dev)
        return;
    vm_fpstore_free(dev->store);
    free(dev->q);
    free(dev->log);
    free(dev);
}

static int apply(struct fake_blk *dev, struct port_blk_req *req)
{
    if (req->op == PORT_BLK_WRITE)
        dev->nr_write_ios += port_blk_req_ios(req);
    else if (req->op == PORT_BLK_READ)
        dev->nr_read_ios += port_blk_req_ios(req);
    return vm_fpstore_apply(dev->store, req);
}

static void complete(struct fake_blk *dev, struct fake_blk_qent e)
{
    struct port_blk_req *req = e.req;
    int rc = e.rc;
    if (dev->clock) {
        dev->clock->now_ns += dev->ns_per_io * port_blk_req_ios(req) +
                              dev->ns_per_block * req->nr_blocks;
        req->done_ns = dev->clock->now_ns;
    }
    if (rc)
        dev->nr_failed++;
    else
        rc = apply(dev, req);
    if (e.log_idx >= dev->log_first)    /* not cleared since */
        dev->log[e.log_idx - dev->log_first].rc = rc;
    dev->nr_completed++;
    req->cb(req, rc);
}

size_t fake_blk_run_one(struct fake_blk *dev)
{
    if (dev->q_head == dev->q_len)
        return 0;
    complete(dev, dev->q[dev->q_head++]);
    return 1;
}

size_t fake_blk_run_nth(struct fake_blk *dev, size_t i)
{
    if (i >= dev->q_len - dev->q_head)
        return 0;
    size_t at = dev->q_head + i;
    struct fake_blk_qent e = dev->q[at];
    memmove(&dev->q[at], &dev->q[at + 1], (dev->q_len - at - 1) * sizeof(dev->q[0]));
    dev->q_len--;
    complete(dev, e);
    return 1;
}

size_t fake_blk_crash(struct fake_blk *dev)
{
    size_t n = dev->q_len - dev->q_head;
    for (size_t i = dev->q_head; i < dev->q_len; i++)
        if (dev->q[i].log_idx >= dev->log_first)
            dev->log[dev->q[i].log_idx - dev->log_first].rc = FAKE_BLK_LOST;
    dev->q_head = dev->q_len = 0;
    return n;
}

size_t fake_blk_run(struct fake_blk *dev)
{
    size_t n = 0;
    while (fake_blk_run_one(dev))
        n++;
    return n;
}

size_t fake_blk_nr_queued(const struct fake_blk *dev) { return dev->q_len - dev->q_head; }

void fake_blk_fail_writes(struct fake_blk *dev, uint64_t k, enum vm_fault_mode mode, int rc)
{
    dev->fail_write = (struct fake_fail){ mode, k, rc };
    dev->nr_failed = 0;
}

void fake_blk_fail_reads(struct fake_blk *dev, uint64_t k, enum vm_fault_mode mode, int rc)
{
    dev->fail_read = (struct fake_fail){ mode, k, rc };
    dev->nr_failed = 0;
}

uint64_t fake_blk_nr_failed(const struct fake_blk *dev) { return dev->nr_failed; }

size_t fake_blk_log_len(const struct fake_blk *dev) { return dev->log_len; }

const struct fake_blk_logent *fake_blk_log_at(const struct fake_blk *dev, size_t i)
{
    return i < dev->log_len ? &dev->log[i] : NULL;
}

void fake_blk_log_clear(struct fake_blk *dev)
{
    dev->log_first += dev->log_len;
    dev->log_len = 0;
}

void fake_blk_set_timing(struct fake_blk *dev, struct fake_clock *clock, uint64_t ns_per_io,
                         uint64_t ns_per_block)
{
    dev->clock = clock;
    dev->ns_per_io = ns_per_io;
    dev->ns_per_block = ns_per_block;
}
