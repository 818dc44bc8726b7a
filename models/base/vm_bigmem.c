/*
 * vm_bigmem.c - large zeroed allocations advised for huge pages (see
 * vm_bigmem.h).  Linux: mmap + madvise(MADV_HUGEPAGE), which the kernel
 * may ignore (THP "never"); the memory is correct either way.  Other
 * systems: aligned_alloc + memset.  Below 2 MiB, calloc everywhere: a
 * small array in a huge page would make its first touch zero 2 MiB.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm_bigmem.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

size_t vm_bigmem_size(size_t bytes)
{
    if (bytes > SIZE_MAX - VM_BIGMEM_ALIGN)
        return 0;
    return (bytes + VM_BIGMEM_ALIGN - 1) & ~(VM_BIGMEM_ALIGN - 1);
}

#if defined(__linux__)

void *vm_bigmem_alloc(size_t bytes)
{
    if (bytes == 0)
        return NULL;
    if (bytes < VM_BIGMEM_ALIGN)
        return calloc(1, bytes);        /* small: a huge page would be mostly waste */
    size_t size = vm_bigmem_size(bytes);
    if (!size)
        return NULL;
    /* map one huge page more, then trim, so the region starts on a
     * 2 MiB boundary (huge pages need aligned virtual addresses) */
    size_t span = size + VM_BIGMEM_ALIGN;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    uintptr_t a = ((uintptr_t)raw + VM_BIGMEM_ALIGN - 1) & ~(uintptr_t)(VM_BIGMEM_ALIGN - 1);
    char *p = (char *)a;
    if (p > raw)
        munmap(raw, (size_t)(p - raw));
    size_t tail = (size_t)(raw + span - (p + size));
    if (tail)
        munmap(p + size, tail);
#ifdef MADV_HUGEPAGE
    (void)madvise(p, size, MADV_HUGEPAGE);   /* a hint: refused is fine */
#endif
    return p;
}

void vm_bigmem_free(void *p, size_t bytes)
{
    if (p && bytes < VM_BIGMEM_ALIGN)
        free(p);
    else if (p)
        munmap(p, vm_bigmem_size(bytes));
}

#else

void *vm_bigmem_alloc(size_t bytes)
{
    size_t size = vm_bigmem_size(bytes);
    if (!size)
        return NULL;
    void *p = aligned_alloc(VM_BIGMEM_ALIGN, size);
    if (p)
        memset(p, 0, size);
    return p;
}

void vm_bigmem_free(void *p, size_t bytes)
{
    (void)bytes;
    free(p);
}

#endif
