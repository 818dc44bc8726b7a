/*
 * sim_dirtymap.c - dirty blocks of a file by offset (see sim_dirtymap.h).
 */
#include <stdbool.h>
#include <stdlib.h>

#include "base/vm_bitmap.h"
#include "sim_dirtymap.h"

#define CHUNK_SHIFT 15
#define CHUNK_BLOCKS (1ull << CHUNK_SHIFT)

struct sim_dirtymap {
    uint64_t nr_blocks, nr_chunks, dirty;
    uint64_t **chunk;                  /* a bitmap per chunk, NULL: clean */
    uint32_t *count;                   /* dirty blocks per chunk */
    uint64_t *summary;                 /* chunks with a dirty block */
};

struct sim_dirtymap *sim_dirtymap_new(uint64_t nr_blocks)
{
    struct sim_dirtymap *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->nr_blocks = nr_blocks;
    m->nr_chunks = (nr_blocks + CHUNK_BLOCKS - 1) >> CHUNK_SHIFT;
    m->chunk = calloc(m->nr_chunks ? m->nr_chunks : 1, sizeof *m->chunk);
    m->count = calloc(m->nr_chunks ? m->nr_chunks : 1, sizeof *m->count);
    m->summary = vm_bitmap_new(m->nr_chunks ? m->nr_chunks : 1);
    if (!m->chunk || !m->count || !m->summary) {
        sim_dirtymap_free(m);
        return NULL;
    }
    return m;
}

void sim_dirtymap_free(struct sim_dirtymap *m)
{
    if (!m)
        return;
    for (uint64_t c = 0; m->chunk && c < m->nr_chunks; c++)
        vm_bitmap_free(m->chunk[c]);
    free(m->chunk);
    free(m->count);
    vm_bitmap_free(m->summary);
    free(m);
}

uint64_t sim_dirtymap_count(const struct sim_dirtymap *m)
{
    return m->dirty;
}

int64_t sim_dirtymap_mark(struct sim_dirtymap *m, uint64_t lba, uint64_t n)
{
    if (lba >= m->nr_blocks || n > m->nr_blocks - lba)
        return -1;
    /* allocate first, so that a failure marks nothing */
    for (uint64_t c = lba >> CHUNK_SHIFT; n && c <= (lba + n - 1) >> CHUNK_SHIFT; c++)
        if (!m->chunk[c] && !(m->chunk[c] = vm_bitmap_new(CHUNK_BLOCKS)))
            return -1;
    int64_t fresh = 0;
    while (n) {
        uint64_t c = lba >> CHUNK_SHIFT, off = lba & (CHUNK_BLOCKS - 1);
        uint64_t k = CHUNK_BLOCKS - off < n ? CHUNK_BLOCKS - off : n;
        uint64_t was = vm_bitmap_count_range(m->chunk[c], off, k);
        vm_bitmap_set_range(m->chunk[c], off, k);
        m->count[c] += (uint32_t)(k - was);
        fresh += (int64_t)(k - was);
        vm_bitmap_set(m->summary, c);
        lba += k;
        n -= k;
    }
    m->dirty += (uint64_t)fresh;
    return fresh;
}

/* The first dirty block at or after b, or nr_blocks. */
static uint64_t next_dirty(const struct sim_dirtymap *m, uint64_t b)
{
    while (b < m->nr_blocks) {
        uint64_t c = vm_bitmap_next_set(m->summary, m->nr_chunks, b >> CHUNK_SHIFT);
        if (c >= m->nr_chunks)
            return m->nr_blocks;
        uint64_t from = c == b >> CHUNK_SHIFT ? b & (CHUNK_BLOCKS - 1) : 0;
        uint64_t off = vm_bitmap_next_set(m->chunk[c], CHUNK_BLOCKS, from);
        if (off < CHUNK_BLOCKS)
            return (c << CHUNK_SHIFT) + off;
        b = (c + 1) << CHUNK_SHIFT;
    }
    return m->nr_blocks;
}

static void clean(struct sim_dirtymap *m, uint64_t lba, uint64_t n)
{
    while (n) {
        uint64_t c = lba >> CHUNK_SHIFT, off = lba & (CHUNK_BLOCKS - 1);
        uint64_t k = CHUNK_BLOCKS - off < n ? CHUNK_BLOCKS - off : n;
        vm_bitmap_clear_range(m->chunk[c], off, k);
        m->count[c] -= (uint32_t)k;
        if (m->count[c] == 0) {        /* a clean chunk gives its bitmap back */
            vm_bitmap_free(m->chunk[c]);
            m->chunk[c] = NULL;
            vm_bitmap_clear(m->summary, c);
        }
        lba += k;
        n -= k;
    }
}

uint64_t sim_dirtymap_take(struct sim_dirtymap *m, uint64_t *cursor, uint64_t max,
                           uint64_t *lba)
{
    if (!m->dirty || !max)
        return 0;
    uint64_t b = next_dirty(m, *cursor < m->nr_blocks ? *cursor : 0);
    if (b >= m->nr_blocks)
        b = next_dirty(m, 0);          /* wrap once */
    uint64_t n = 0;
    while (n < max && b + n < m->nr_blocks) {
        uint64_t c = (b + n) >> CHUNK_SHIFT;
        if (!m->chunk[c] || !vm_bitmap_test(m->chunk[c], (b + n) & (CHUNK_BLOCKS - 1)))
            break;
        n++;
    }
    clean(m, b, n);
    m->dirty -= n;
    *lba = b;
    *cursor = b + n;
    return n;
}
