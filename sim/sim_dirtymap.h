/*
 * sim_dirtymap.h - the dirty blocks of a file in the page cache, by
 * offset, as Linux keeps them (the page cache's xarray tagged
 * PAGECACHE_TAG_DIRTY): marking is idempotent, and writeback takes the
 * dirty blocks in offset order from a cursor, wrapping once
 * (write_cache_pages() with range_cyclic from mapping->writeback_index,
 * mm/page-writeback.c), as runs of contiguous blocks.
 *
 * A bitmap per 32768 blocks (128 MiB of file), allocated while it holds a
 * dirty block, and a summary bitmap of those chunks: a 4 TB device costs
 * 370 KiB of index whatever is dirty, plus 4 KiB per dirty chunk.
 */
#ifndef SIM_DIRTYMAP_H
#define SIM_DIRTYMAP_H

#include <stdint.h>

struct sim_dirtymap;

/* A map of nr_blocks blocks, all clean; NULL when out of memory. */
struct sim_dirtymap *sim_dirtymap_new(uint64_t nr_blocks);
void sim_dirtymap_free(struct sim_dirtymap *m);

/* Mark blocks [lba, lba + n) dirty (within nr_blocks); the number that
 * were clean, or -1 when out of memory (then nothing is marked). */
int64_t sim_dirtymap_mark(struct sim_dirtymap *m, uint64_t lba, uint64_t n);

/* Dirty blocks now. */
uint64_t sim_dirtymap_count(const struct sim_dirtymap *m);

/* Take the first run of dirty blocks at or after *cursor (wrapping to 0
 * once), at most max blocks, and make them clean: its first block in
 * *lba, its length returned (0: nothing dirty).  *cursor moves past it. */
uint64_t sim_dirtymap_take(struct sim_dirtymap *m, uint64_t *cursor, uint64_t max,
                           uint64_t *lba);

#endif
