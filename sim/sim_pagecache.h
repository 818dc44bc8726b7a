/*
 * sim_pagecache.h - the host's page cache in front of a simulated disk:
 * buffered (not O_DIRECT) writes to a file on the host, as QEMU and
 * libvirt make them by default.
 *
 * A write is accepted at once while the file's dirty data stays within
 * dirty_bytes: its content goes into the disk's store (a read sees it),
 * its blocks become dirty, and its callback runs once the write() has
 * copied it in: copy_ns_per_block per block, one write at a time (the
 * file's writer is one thread).  Over the limit the writer waits, as in Linux's
 * balance_dirty_pages(), until writeback makes room (a simplification:
 * Linux throttles progressively from halfway between the background and
 * the hard limit).  Writeback - the kernel's flusher - starts when the
 * dirty data reaches dirty_background_bytes, dirty_expire_ns after the
 * file became dirty (the inode's dirtied_when; then all of it), when a
 * writer waits, or on a flush (fdatasync); it
 * writes runs of contiguous dirty blocks in offset order from where it
 * stopped (write_cache_pages() with range_cyclic), as device I/Os of at
 * most writeback_io_bytes, with up to the disk's queue depth in
 * flight.  A flush completes once every dirty block is on the disk and
 * the disk's own flush has completed.
 *
 * Defaults: Linux's vm.dirty_ratio 20 and vm.dirty_background_ratio 10
 * (percent of available memory), vm.dirty_expire_centisecs 3000 (30 s),
 * vm.dirty_writeback_centisecs 500 (the flusher wakes every 5 s); the
 * caller turns ratios into bytes (sim_pagecache_cfg).  Writeback I/O size:
 * the block layer's max_sectors_kb, commonly 1280 KiB; 1 MiB here.
 * Source: Documentation/admin-guide/sysctl/vm.rst, mm/page-writeback.c.
 *
 * Reads pass through to the disk (a cold cache: the restore reads the
 * file from the device).  Not modelled: parallel writers (channels) each
 * copying on its own core, throttling that starts below the hard limit
 * (Linux pauses writers from halfway between the limits), readahead, and
 * the flusher's 5 s period (expiry acts at its deadline).  A block written
 * again while under writeback is dirty again and counted again.  Also: the
 * limits are a share of the host memory the guest leaves (Linux takes
 * them of its dirtyable memory: free and file-cache pages, so other
 * guests' memory would lower them; set dirty_bytes for such a host).
 *
 * Cost: one SimGrid activity per accepted write (its completion) and per
 * writeback I/O, never per block.
 */
#ifndef SIM_PAGECACHE_H
#define SIM_PAGECACHE_H

#include <stdint.h>

#include <simgrid/forward.h>

#include "base/vm_err.h"
#include "ports/port_blk.h"
#include "sim_disk.h"

struct sim_pagecache_cfg {
    uint64_t dirty_bytes;              /* writers wait above this (> 0) */
    uint64_t dirty_background_bytes;   /* writeback starts here (<= dirty_bytes) */
    uint64_t dirty_expire_ns;          /* dirty data older than this is written back */
    uint64_t writeback_io_bytes;       /* largest writeback I/O (>= 4 KiB) */
    uint64_t copy_ns_per_block;        /* CPU time of a write() per 4 KiB block copied
                                          into the cache (0: free) */
};

struct sim_pagecache_stats {
    uint64_t accepted;                 /* writes accepted */
    uint64_t throttled;                /* writes that had to wait for room */
    uint64_t throttled_ns;             /* their total wait */
    uint64_t dirty_max_bytes;          /* most dirty data at once */
    uint64_t writeback_ios;            /* device writes issued */
};

struct sim_pagecache;

/* A cache over disk (which must outlive it), its flusher an actor on
 * host.  NULL with d set on a bad cfg (VM_EINVAL) or VM_ENOMEM. */
struct sim_pagecache *sim_pagecache_new(struct sim_disk *disk, sg_host_t host,
                                        const struct sim_pagecache_cfg *cfg, struct vm_diag *d);
/* Stop the flusher; dirty data not yet written back is dropped (flush
 * first to keep it).  The memory goes once writeback I/Os in flight have
 * completed. */
void sim_pagecache_close(struct sim_pagecache *pc);

/* The file port: writes and flushes as above, reads passed through. */
struct port_blk *sim_pagecache_port(struct sim_pagecache *pc);
const struct sim_pagecache_stats *sim_pagecache_stats(const struct sim_pagecache *pc);
uint64_t sim_pagecache_dirty_bytes(const struct sim_pagecache *pc);

/* Change the copy cost of later writes (ns per 4 KiB block). */
void sim_pagecache_set_copy_cost(struct sim_pagecache *pc, uint64_t ns_per_block);

/* fn(arg) runs after every callback the cache makes (accepted writes,
 * flushes), as sim_disk_set_notify() does for the disk's. */
void sim_pagecache_set_notify(struct sim_pagecache *pc, void (*fn)(void *arg), void *arg);

#endif
