/*
 * sim_pagecache.c - the host's page cache in front of a disk (see
 * sim_pagecache.h).
 *
 * State: the dirty blocks by offset (sim_dirtymap.h) with the writeback
 * cursor and the time the file became dirty, a FIFO of writes waiting
 * for room, a FIFO of
 * accepted requests whose callbacks are due, and the flushes waiting for
 * writeback to drain.  One actor, the flusher, runs the callbacks and
 * issues writeback I/Os; device completions (in the disk's workers) free
 * room, accept waiting writes and wake it.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <simgrid/actor.h>
#include <xbt/log.h>

#include "base/vm_fpstore.h"
#include "base/vm_units.h"
#include "sim_dirtymap.h"
#include "sim_pagecache.h"
#include "sim_world.h"

XBT_LOG_NEW_DEFAULT_SUBCATEGORY(vmsim_pagecache, vmsim, "page cache");

/* A FIFO of pointers or records: a ring grown by doubling. */
struct ring {
    void *v;
    size_t elt, cap, head, len;
};

struct wb_io {                         /* one writeback I/O */
    struct port_blk_req req;
    struct sim_pagecache *pc;
};

struct flush_io {                      /* the disk flush behind a caller's */
    struct port_blk_req req;
    struct port_blk_req *orig;
    struct sim_pagecache *pc;
};

struct due {                           /* an accepted request, its callback due */
    struct port_blk_req *req;
    int rc;
    uint64_t at_ns;                    /* when its copy into the cache is done */
};

struct sim_pagecache {
    struct port_blk base;              /* first: the port */
    struct sim_disk *disk;
    struct port_blk *dev;
    struct sim_pagecache_cfg cfg;
    struct sim_pagecache_stats stats;
    uint64_t max_io_blocks;
    uint32_t max_inflight;

    uint64_t dirty_bytes;              /* accepted, not yet on the disk */
    struct sim_dirtymap *dm;           /* dirty blocks by offset */
    uint64_t wb_cursor;                /* writeback goes on from here (writeback_index) */
    uint64_t dirtied_ns;               /* when the file went from clean to dirty */
    struct ring waiting;               /* writes waiting for room */
    struct ring done;                  /* struct due, oldest first */
    struct ring flushes;               /* flushes waiting for writeback */
    uint32_t inflight;                 /* writeback I/Os at the disk */
    int wb_error;                      /* a writeback I/O failed: the next flush says so */
    uint64_t copy_free_ns;             /* when the writer's copying is done */

    struct sim_waitq *wake;            /* the flusher waits here */
    bool closing;
    int refs;                          /* the owner, the flusher, each I/O in flight */
    void (*notify)(void *arg);
    void *notify_arg;
};

/* ---- rings ---- */

static int ring_push(struct ring *r, const void *x)
{
    if (r->len == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        char *v = malloc(cap * r->elt);
        if (!v)
            return VM_ENOMEM;
        for (size_t i = 0; i < r->len; i++)
            memcpy(v + i * r->elt, (char *)r->v + ((r->head + i) % r->cap) * r->elt, r->elt);
        free(r->v);
        r->v = v;
        r->cap = cap;
        r->head = 0;
    }
    memcpy((char *)r->v + ((r->head + r->len) % r->cap) * r->elt, x, r->elt);
    r->len++;
    return 0;
}

static void *ring_at(const struct ring *r, size_t i)
{
    return (char *)r->v + ((r->head + i) % r->cap) * r->elt;
}

static void ring_pop(struct ring *r, void *out)
{
    memcpy(out, ring_at(r, 0), r->elt);
    r->head = (r->head + 1) % r->cap;
    r->len--;
}

/* ---- lifetime ---- */

static void pc_unref(struct sim_pagecache *pc)
{
    if (--pc->refs > 0)
        return;
    sim_dirtymap_free(pc->dm);
    free(pc->waiting.v);
    free(pc->done.v);
    free(pc->flushes.v);
    sim_waitq_free(pc->wake);
    free(pc);
}

/* ---- accepting writes ---- */

static uint64_t req_bytes(const struct port_blk_req *req)
{
    return (uint64_t)req->nr_blocks * VM_PAGE_SIZE;
}

/* Mark req's blocks dirty; the bytes that were clean, or <0. */
static int64_t add_dirty(struct sim_pagecache *pc, const struct port_blk_req *req, uint64_t now)
{
    if (sim_dirtymap_count(pc->dm) == 0)
        pc->dirtied_ns = now;          /* as the inode's dirtied_when */
    uint32_t ios = req->lbas ? port_blk_req_ios(req) : 1;
    int64_t fresh = 0;
    for (uint32_t i = 0; i < ios; i++) {
        uint64_t lba = req->lbas ? req->lbas[i] : req->lba;
        uint64_t n = !req->lbas ? req->nr_blocks
                     : req->io_blocks ? req->io_blocks[i] : req->nr_blocks / ios;
        int64_t f = sim_dirtymap_mark(pc->dm, lba, n);
        if (f < 0)
            return VM_ENOMEM;
        fresh += f;
    }
    return fresh * (int64_t)VM_PAGE_SIZE;
}

/* Store req's content and make its blocks dirty; its callback is due. */
static int accept(struct sim_pagecache *pc, struct port_blk_req *req)
{
    struct vm_fpstore *store = sim_disk_store(pc->disk);
    int rc = vm_fpstore_req_fits(store, req) ? 0 : VM_ERANGE;
    if (rc == 0)
        rc = vm_fpstore_apply(store, req);
    int64_t fresh = 0;
    if (rc == 0) {
        fresh = add_dirty(pc, req, sim_now_ns());
        if (fresh < 0)
            rc = (int)fresh;
    }
    if (rc == 0) {
        pc->dirty_bytes += (uint64_t)fresh;
        if (pc->dirty_bytes > pc->stats.dirty_max_bytes)
            pc->stats.dirty_max_bytes = pc->dirty_bytes;
        pc->stats.accepted++;
    }
    uint64_t now = sim_now_ns();
    uint64_t start = pc->copy_free_ns > now ? pc->copy_free_ns : now;
    if (rc == 0)
        pc->copy_free_ns = start + (uint64_t)req->nr_blocks * pc->cfg.copy_ns_per_block;
    struct due due = { .req = req, .rc = rc, .at_ns = rc == 0 ? pc->copy_free_ns : now };
    return ring_push(&pc->done, &due);
}

static bool has_room(const struct sim_pagecache *pc, const struct port_blk_req *req)
{
    return pc->dirty_bytes == 0 || pc->dirty_bytes + req_bytes(req) <= pc->cfg.dirty_bytes;
}

/* Accept waiting writes, oldest first, while they fit. */
static void accept_waiting(struct sim_pagecache *pc)
{
    while (pc->waiting.len) {
        struct port_blk_req *req = *(struct port_blk_req **)ring_at(&pc->waiting, 0);
        if (!has_room(pc, req))
            break;
        ring_pop(&pc->waiting, &req);
        pc->stats.throttled_ns += sim_now_ns() - req->submit_ns;
        if (accept(pc, req) != 0)
            XBT_WARN("page cache: out of memory accepting a write");
    }
}

/* ---- writeback ---- */

static void wb_done(struct port_blk_req *req, int rc)
{
    struct wb_io *io = (struct wb_io *)req;
    struct sim_pagecache *pc = io->pc;
    if (rc != 0 && !pc->wb_error)
        pc->wb_error = rc;             /* as Linux: fdatasync() returns the EIO */
    pc->dirty_bytes -= req_bytes(req);
    pc->inflight--;
    free(io);
    if (!pc->closing) {
        accept_waiting(pc);
        sim_waitq_wake_all(pc->wake);
    }
    pc_unref(pc);
}

/* Should the flusher write back now? */
static bool wants_writeback(const struct sim_pagecache *pc, uint64_t now)
{
    if (!sim_dirtymap_count(pc->dm))
        return false;
    return pc->dirty_bytes >= pc->cfg.dirty_background_bytes || pc->waiting.len ||
           pc->flushes.len || now - pc->dirtied_ns >= pc->cfg.dirty_expire_ns;
}

/* Issue writeback I/Os: runs of contiguous dirty blocks in offset order
 * from the cursor, as write_cache_pages() does with range_cyclic. */
static void write_back(struct sim_pagecache *pc)
{
    uint64_t now = sim_now_ns();
    while (pc->inflight < pc->max_inflight && wants_writeback(pc, now)) {
        struct wb_io *io = calloc(1, sizeof *io);   /* before any block is taken */
        if (!io) {
            XBT_WARN("page cache: out of memory for a writeback I/O");
            return;
        }
        uint64_t lba = 0;
        uint64_t n = sim_dirtymap_take(pc->dm, &pc->wb_cursor, pc->max_io_blocks, &lba);
        io->pc = pc;
        io->req = (struct port_blk_req){ .op = PORT_BLK_WRITE, .lba = lba,
                                         .nr_blocks = (uint32_t)n, .cb = wb_done };
        pc->refs++;
        pc->inflight++;
        pc->stats.writeback_ios++;
        int rc = sim_disk_submit_timing(pc->disk, &io->req);
        if (rc != 0) {                 /* the data is lost: the next flush says so */
            pc->refs--;
            pc->inflight--;
            pc->dirty_bytes -= n * VM_PAGE_SIZE;
            if (!pc->wb_error)
                pc->wb_error = rc;
            free(io);
        }
    }
}

static void complete_flush(struct sim_pagecache *pc, struct port_blk_req *orig, int rc)
{
    if (rc == 0 && pc->wb_error) {
        rc = pc->wb_error;
        pc->wb_error = 0;
    }
    orig->done_ns = sim_now_ns();
    orig->cb(orig, rc);
    if (pc->notify)
        pc->notify(pc->notify_arg);
}

/* A flush's own device flush completed: the caller's flush does. */
static void flush_done(struct port_blk_req *req, int rc)
{
    struct flush_io *f = (struct flush_io *)req;
    struct sim_pagecache *pc = f->pc;
    complete_flush(pc, f->orig, rc);
    free(f);
    pc_unref(pc);
}

/* Flushes whose data is all on the disk go to the disk's own flush. */
static void start_flushes(struct sim_pagecache *pc)
{
    if (pc->dirty_bytes != 0)
        return;
    while (pc->flushes.len) {
        struct port_blk_req *orig;
        ring_pop(&pc->flushes, &orig);
        struct flush_io *f = calloc(1, sizeof *f);
        int rc = VM_ENOMEM;
        if (f) {
            f->req = (struct port_blk_req){ .op = PORT_BLK_FLUSH, .cb = flush_done };
            f->orig = orig;
            f->pc = pc;
            pc->refs++;
            rc = port_blk_submit(pc->dev, &f->req);
            if (rc != 0)
                pc->refs--;
        }
        if (rc != 0) {
            free(f);
            complete_flush(pc, orig, rc);
        }
    }
}

/* Runs when the flusher returns, and when SimGrid kills it (a daemon). */
static void flusher_exit(int failed, void *arg)
{
    (void)failed;
    pc_unref(arg);
}

static void flusher_main(int argc, char **argv)
{
    struct sim_pagecache *pc = sg_actor_self_get_data();
    (void)argc;
    (void)argv;
    sg_actor_on_exit(flusher_exit, pc);
    while (!pc->closing) {
        uint64_t ticket = sim_waitq_ticket(pc->wake);  /* callbacks and I/Os let others run */
        /* callbacks of accepted writes, once copied in */
        while (pc->done.len && !pc->closing) {
            struct due *next = ring_at(&pc->done, 0);
            if (next->at_ns > sim_now_ns())
                break;
            struct due due;
            ring_pop(&pc->done, &due);
            due.req->done_ns = sim_now_ns();
            due.req->cb(due.req, due.rc);
            if (pc->notify)
                pc->notify(pc->notify_arg);
        }
        write_back(pc);
        start_flushes(pc);
        /* sleep until woken, the next copy is done, or the oldest dirty
         * data expires */
        uint64_t now = sim_now_ns(), at = UINT64_MAX;
        if (pc->done.len)
            at = ((struct due *)ring_at(&pc->done, 0))->at_ns;
        if (sim_dirtymap_count(pc->dm) && pc->inflight < pc->max_inflight) {
            uint64_t exp = pc->dirtied_ns + pc->cfg.dirty_expire_ns;
            if (exp < at)
                at = exp;
        }
        if (at == UINT64_MAX)
            sim_waitq_wait_ticket(pc->wake, ticket);
        else if (at > now)
            sim_waitq_wait_for_ticket(pc->wake, ticket, at - now);
    }
}

/* ---- the port ---- */

static int pc_submit(struct port_blk *dev, struct port_blk_req *req)
{
    struct sim_pagecache *pc = (struct sim_pagecache *)dev;
    int rc = sim_disk_check_req(req);
    if (rc)
        return rc;
    if (req->op == PORT_BLK_READ)
        return port_blk_submit(pc->dev, req);
    req->submit_ns = sim_now_ns();
    if (req->op == PORT_BLK_FLUSH) {
        rc = ring_push(&pc->flushes, &req);
    }
    else if (has_room(pc, req) && pc->waiting.len == 0)
        rc = accept(pc, req);
    else {
        pc->stats.throttled++;
        rc = ring_push(&pc->waiting, &req);
    }
    if (rc == 0)
        sim_waitq_wake_all(pc->wake);
    return rc;
}

static uint64_t pc_nr_blocks(const struct port_blk *dev)
{
    const struct sim_pagecache *pc = (const struct sim_pagecache *)dev;
    return port_blk_nr_blocks(pc->dev);
}

static const struct port_blk_ops pagecache_ops = {
    .version = PORT_BLK_VERSION,
    .name = "pagecache",
    .submit = pc_submit,
    .nr_blocks = pc_nr_blocks,
};

struct sim_pagecache *sim_pagecache_new(struct sim_disk *disk, sg_host_t host,
                                        const struct sim_pagecache_cfg *cfg, struct vm_diag *d)
{
    if (cfg->dirty_bytes == 0 || cfg->dirty_background_bytes > cfg->dirty_bytes ||
        cfg->writeback_io_bytes < VM_PAGE_SIZE) {
        vm_diag_set(d, VM_EINVAL, "page cache: expected 0 < dirty_background <= dirty limit "
                    "and writeback I/Os of at least 4 KiB");
        return NULL;
    }
    struct sim_pagecache *pc = calloc(1, sizeof *pc);
    if (!pc || !(pc->wake = sim_waitq_new())) {
        free(pc);
        vm_diag_set(d, VM_ENOMEM, "page cache: out of memory");
        return NULL;
    }
    pc->base.ops = &pagecache_ops;
    pc->disk = disk;
    pc->dev = sim_disk_port(disk);
    pc->cfg = *cfg;
    pc->max_io_blocks = cfg->writeback_io_bytes / VM_PAGE_SIZE;
    if (pc->max_io_blocks > UINT32_MAX)
        pc->max_io_blocks = UINT32_MAX;
    pc->max_inflight = sim_disk_props(disk)->qdepth;
    if (!(pc->dm = sim_dirtymap_new(port_blk_nr_blocks(pc->dev)))) {
        sim_waitq_free(pc->wake);
        free(pc);
        vm_diag_set(d, VM_ENOMEM, "page cache: out of memory");
        return NULL;
    }
    pc->waiting.elt = pc->flushes.elt = sizeof(struct port_blk_req *);
    pc->done.elt = sizeof(struct due);
    pc->refs = 2;                      /* the owner and the flusher */
    sg_actor_t a = sg_actor_init("flusher", host);
    sg_actor_set_data(a, pc);
    sg_actor_start(a, flusher_main, 0, NULL);
    sg_actor_daemonize(a);
    return pc;
}

void sim_pagecache_close(struct sim_pagecache *pc)
{
    if (!pc)
        return;
    pc->closing = true;
    sim_waitq_wake_all(pc->wake);
    pc_unref(pc);
}

struct port_blk *sim_pagecache_port(struct sim_pagecache *pc)
{
    return &pc->base;
}

const struct sim_pagecache_stats *sim_pagecache_stats(const struct sim_pagecache *pc)
{
    return &pc->stats;
}

uint64_t sim_pagecache_dirty_bytes(const struct sim_pagecache *pc)
{
    return pc->dirty_bytes;
}

void sim_pagecache_set_copy_cost(struct sim_pagecache *pc, uint64_t ns_per_block)
{
    pc->cfg.copy_ns_per_block = ns_per_block;
}

void sim_pagecache_set_notify(struct sim_pagecache *pc, void (*fn)(void *arg), void *arg)
{
    pc->notify = fn;
    pc->notify_arg = arg;
}
