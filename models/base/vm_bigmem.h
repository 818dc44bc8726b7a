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

#endif
