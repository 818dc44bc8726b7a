/*
 * vm_bitmap.h - flat bitmaps of 64-bit words (the KVM dirty-log shape).
 *
 * A bitmap is a plain `uint64_t *` of VM_BITMAP_WORDS(nbits) words; the
 * inline accessors do no bounds checks (callers own the size).  Scans use
 * __builtin_ctzll so sparse maps are walked a word at a time.
 */
#ifndef VM_BITMAP_H
#define VM_BITMAP_H

#include <stdbool.h>
#include <stdint.h>

#define VM_BITMAP_WORDS(nbits) (((nbits) + 63) / 64)

/* calloc'ed bitmap of nbits zero bits; NULL when out of memory. */
uint64_t *vm_bitmap_new(uint64_t nbits);
void vm_bitmap_free(uint64_t *map);

static inline bool vm_bitmap_test(const uint64_t *map, uint64_t bit)
{
    return (map[bit >> 6] >> (bit & 63)) & 1;
}
static inline void vm_bitmap_set(uint64_t *map, uint64_t bit)
{
    map[bit >> 6] |= 1ull << (bit & 63);
}
static inline void vm_bitmap_clear(uint64_t *map, uint64_t bit)
{
    map[bit >> 6] &= ~(1ull << (bit & 63));
}
/* Set bit, return its previous value. */
static inline bool vm_bitmap_test_and_set(uint64_t *map, uint64_t bit)
{
    uint64_t m = 1ull << (bit & 63);
    bool old = (map[bit >> 6] & m) != 0;
    map[bit >> 6] |= m;
    return old;
}

/* Set / clear bits [first, first+n). */
void vm_bitmap_set_range(uint64_t *map, uint64_t first, uint64_t n);
void vm_bitmap_clear_range(uint64_t *map, uint64_t first, uint64_t n);
/* Number of set bits in [0, nbits). */
uint64_t vm_bitmap_count(const uint64_t *map, uint64_t nbits);
/* Number of set bits in [first, first+n). */
uint64_t vm_bitmap_count_range(const uint64_t *map, uint64_t first, uint64_t n);
/* First set bit >= from, or nbits if none. */
uint64_t vm_bitmap_next_set(const uint64_t *map, uint64_t nbits, uint64_t from);
/* First clear bit >= from, or nbits if none. */
uint64_t vm_bitmap_next_clear(const uint64_t *map, uint64_t nbits, uint64_t from);

#endif
