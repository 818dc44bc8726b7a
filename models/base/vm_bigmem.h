/*
 * vm_bigmem.h - large zeroed allocations for the simulator's flat arrays
 * (guest memory lines, device fingerprint leaves, content pools).
 *
 * A region is rounded up to whole 2 MiB and, on Linux, mapped anonymous
 * and advised for transparent huge pages (MADV_HUGEPAGE): a guest of 1 TiB
 * has arrays of hundreds of MiB that are touched at random, and with 4 KiB
 * pages every first touch is a page fault and every access a likely TLB
 * miss.  The pages come zeroed from the kernel and become resident when
 * first touched, as calloc's do.  Elsewhere it is an aligned calloc.
 *
 * Ownership: the caller frees with vm_bigmem_free() and the same size.
 */
#ifndef VM_BIGMEM_H
#define VM_BIGMEM_H

#include <stddef.h>

#define VM_BIGMEM_ALIGN ((size_t)2 << 20)     /* 2 MiB: a huge page */

/* bytes rounded up to whole VM_BIGMEM_ALIGN. */
size_t vm_bigmem_size(size_t bytes);
/* Zeroed memory of at least bytes bytes: from bytes >= VM_BIGMEM_ALIGN on,
 * VM_BIGMEM_ALIGN-aligned and vm_bigmem_size(bytes) long; below, a plain
 * calloc.  NULL when out of memory or bytes == 0. */
void *vm_bigmem_alloc(size_t bytes);
/* Free what vm_bigmem_alloc(bytes) returned (NULL is fine). */
void vm_bigmem_free(void *p, size_t bytes);

/*
 * Regions of one size handed out one after the other (an arena's
 * chunks), each faulted in ahead by a thread: the kernel zeroes a fresh
 * page at its first touch, which on a large run is seconds of the
 * filler's time (a 1 TiB image's 1.6 GiB of fingerprints); the thread
 * touches the next region while the caller fills the current one.  The
 * regions are what vm_bigmem_alloc(bytes) returns (zeroed, freed with
 * vm_bigmem_free), so a caller cannot tell them apart.  The thread starts
 * at the second take (a store that needs one region costs no thread)
 * and only allocates and touches memory.
 *
 * new: NULL when out of memory.  take: a region, or NULL when out of
 * memory; without a thread (none could be started) it allocates inline.
 * free: stops and joins the thread and frees the region it made ahead
 * (NULL is fine); the regions taken are the caller's.
 */
struct vm_bigmem_ahead;
struct vm_bigmem_ahead *vm_bigmem_ahead_new(size_t bytes);
void *vm_bigmem_ahead_take(struct vm_bigmem_ahead *a);
void vm_bigmem_ahead_free(struct vm_bigmem_ahead *a);

#endif
