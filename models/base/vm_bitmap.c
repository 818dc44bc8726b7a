/*
 * vm_bitmap.c - range and scan operations on flat uint64_t bitmaps.
 *
 * Based on the Linux bitmap_set/bitmap_clear/find_next_bit shape: partial
 * first and last words are masked, whole words in between are written or
 * scanned one at a time with __builtin_ctzll / __builtin_popcountll.
 */
#include <stdlib.h>

#include "vm_bitmap.h"

uint64_t *vm_bitmap_new(uint64_t nbits)
{
    uint64_t words = VM_BITMAP_WORDS(nbits);
    return calloc(words ? words : 1, sizeof(uint64_t));
}

void vm_bitmap_free(uint64_t *map)
{
    free(map);
}

/* Mask of bits [lo, hi) within one word, 0 <= lo < hi <= 64. */
static inline uint64_t word_mask(unsigned lo, unsigned hi)
{
    uint64_t upper = hi == 64 ? ~0ull : (1ull << hi) - 1;
    return upper & ~((1ull << lo) - 1);
}

void vm_bitmap_set_range(uint64_t *map, uint64_t first, uint64_t n)
{
    if (n == 0)
        return;
    uint64_t end = first + n;
    uint64_t w = first >> 6, wend = (end - 1) >> 6;
    if (w == wend) {
        map[w] |= word_mask(first & 63, (unsigned)((end - 1) & 63) + 1);
        return;
    }
    map[w] |= word_mask(first & 63, 64);
    for (w++; w < wend; w++)
        map[w] = ~0ull;
    map[wend] |= word_mask(0, (unsigned)((end - 1) & 63) + 1);
}

void vm_bitmap_clear_range(uint64_t *map, uint64_t first, uint64_t n)
{
    if (n == 0)
        return;
    uint64_t end = first + n;
    uint64_t w = first >> 6, wend = (end - 1) >> 6;
    if (w == wend) {
        map[w] &= ~word_mask(first & 63, (unsigned)((end - 1) & 63) + 1);
        return;
    }
    map[w] &= ~word_mask(first & 63, 64);
    for (w++; w < wend; w++)
        map[w] = 0;
    map[wend] &= ~word_mask(0, (unsigned)((end - 1) & 63) + 1);
}

uint64_t vm_bitmap_count_range(const uint64_t *map, uint64_t first, uint64_t n)
{
    if (n == 0)
        return 0;
    uint64_t end = first + n;
    uint64_t w = first >> 6, wend = (end - 1) >> 6;
    if (w == wend)
        return (uint64_t)__builtin_popcountll(
            map[w] & word_mask(first & 63, (unsigned)((end - 1) & 63) + 1));
    uint64_t c = (uint64_t)__builtin_popcountll(map[w] & word_mask(first & 63, 64));
    for (w++; w < wend; w++)
        c += (uint64_t)__builtin_popcountll(map[w]);
    c += (uint64_t)__builtin_popcountll(
        map[wend] & word_mask(0, (unsigned)((end - 1) & 63) + 1));
    return c;
}

uint64_t vm_bitmap_count(const uint64_t *map, uint64_t nbits)
{
    return vm_bitmap_count_range(map, 0, nbits);
}

uint64_t vm_bitmap_next_set(const uint64_t *map, uint64_t nbits, uint64_t from)
{
    if (from >= nbits)
        return nbits;
    uint64_t w = from >> 6, nwords = VM_BITMAP_WORDS(nbits);
    uint64_t word = map[w] & (~0ull << (from & 63));
    for (;;) {
        if (word) {
            uint64_t bit = (w << 6) + (uint64_t)__builtin_ctzll(word);
            return bit < nbits ? bit : nbits;
        }
        if (++w >= nwords)
            return nbits;
        word = map[w];
    }
}

uint64_t vm_bitmap_next_clear(const uint64_t *map, uint64_t nbits, uint64_t from)
{
    if (from >= nbits)
        return nbits;
    uint64_t w = from >> 6, nwords = VM_BITMAP_WORDS(nbits);
    uint64_t word = ~map[w] & (~0ull << (from & 63));
    for (;;) {
        if (word) {
            uint64_t bit = (w << 6) + (uint64_t)__builtin_ctzll(word);
            return bit < nbits ? bit : nbits;
        }
        if (++w >= nwords)
            return nbits;
        word = ~map[w];
    }
}
