/*
 * sim_ckpt_cache.c - the checkpoint file's page cache settings: the
 * save section's cache keys (sim_ckpt.h) turned into the limits of
 * sim_pagecache.h, as Linux computes them (mm/page-writeback.c,
 * domain_dirty_limits): a ratio is a percentage of the memory available to
 * the page cache, here the host's RAM (its platform prop "memory") less
 * the guest's; a byte value, when set, replaces its ratio; a background
 * limit at or above the hard one is half of it.
 */
#include <stdio.h>

#include "base/vm_units.h"
#include "checkpoint/sim_ckpt.h"

int sim_ckpt_page_cache(const struct sim_ckpt_cfg *c, uint64_t host_memory,
                        struct sim_pagecache_cfg *out, char *why, size_t len)
{
    *out = (struct sim_pagecache_cfg){ .dirty_expire_ns = c->dirty_expire_ns,
                                       .writeback_io_bytes = c->writeback_io_bytes };
    if (c->cache == SIM_CKPT_CACHE_DIRECT)
        return 0;
    if (c->dirty_bytes && c->dirty_bytes < 2 * VM_PAGE_SIZE) {
        snprintf(why, len, "save.dirty_bytes: expected 0 (use dirty_ratio) or at least 8KiB "
                 "(two pages, as Linux's vm.dirty_bytes)");
        return VM_EINVAL;
    }
    uint64_t avail = 0;
    /* a ratio needs the host's memory; a background ratio alone does not
     * (Linux: a background limit at or over the hard one is half of it) */
    if (!c->dirty_bytes) {
        if (!host_memory) {
            snprintf(why, len, "the host has no 'memory' prop: the page cache's dirty_ratio "
                     "is a share of it (add <prop id=\"memory\" value=\"...\"/> to the host, "
                     "or set save.dirty_bytes)");
            return VM_EINVAL;
        }
        if (host_memory <= c->vm.memory_bytes) {
            char h[32], g[32];
            vm_units_fmt_size(host_memory, h, sizeof h);
            vm_units_fmt_size(c->vm.memory_bytes, g, sizeof g);
            snprintf(why, len, "the guest (%s) leaves none of the host's memory (%s) to the "
                     "page cache; set save.dirty_bytes, or save.cache \"direct\"", g, h);
            return VM_EINVAL;
        }
    }
    if (host_memory > c->vm.memory_bytes)
        avail = host_memory - c->vm.memory_bytes;
    out->dirty_bytes = c->dirty_bytes ? c->dirty_bytes : avail / 100 * c->dirty_ratio;
    out->dirty_background_bytes = c->dirty_background_bytes
                                  ? c->dirty_background_bytes
                                  : avail ? avail / 100 * c->dirty_background_ratio
                                          : out->dirty_bytes / 2;
    if (out->dirty_bytes < VM_PAGE_SIZE)
        out->dirty_bytes = VM_PAGE_SIZE;
    if (out->dirty_background_bytes >= out->dirty_bytes)
        out->dirty_background_bytes = out->dirty_bytes / 2;
    return 1;
}
