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
#include <pthread.h>
#include <stdbool.h>
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

/* ---- regions faulted in ahead ---- */

#if defined(__linux__)

struct vm_bigmem_ahead {
    size_t bytes;
    unsigned long takes;
    bool started;                       /* the thread runs */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    void *ready;                        /* made ahead, not taken yet */
    bool want;                          /* the taker asked for the next one */
    bool busy;                          /* the thread is making it */
    bool stop;
};

/* A fresh region, each of its pages written once so the kernel maps
 * (and zeroes) it now: one byte per 4 KiB page (a huge page is mapped
 * whole at its first). */
static void *make_touched(size_t bytes)
{
    char *p = vm_bigmem_alloc(bytes);
    if (p) {
        size_t size = bytes < VM_BIGMEM_ALIGN ? bytes : vm_bigmem_size(bytes);
        for (size_t off = 0; off < size; off += 4096)
            p[off] = 0;
    }
    return p;
}

static void *ahead_main(void *arg)
{
    struct vm_bigmem_ahead *a = arg;
    pthread_mutex_lock(&a->lock);
    for (;;) {
        while (!a->stop && !a->want)
            pthread_cond_wait(&a->cond, &a->lock);
        if (a->stop)
            break;
        a->want = false;
        a->busy = true;
        pthread_mutex_unlock(&a->lock);
        void *p = make_touched(a->bytes);   /* NULL: the taker allocates itself */
        pthread_mutex_lock(&a->lock);
        a->ready = p;
        a->busy = false;
        pthread_cond_broadcast(&a->cond);
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

static bool ahead_start(struct vm_bigmem_ahead *a)
{
    if (pthread_mutex_init(&a->lock, NULL))
        return false;
    if (pthread_cond_init(&a->cond, NULL)) {
        pthread_mutex_destroy(&a->lock);
        return false;
    }
    if (pthread_create(&a->thread, NULL, ahead_main, a)) {
        pthread_cond_destroy(&a->cond);
        pthread_mutex_destroy(&a->lock);
        return false;
    }
    return true;
}

struct vm_bigmem_ahead *vm_bigmem_ahead_new(size_t bytes)
{
    struct vm_bigmem_ahead *a = calloc(1, sizeof *a);
    if (a)
        a->bytes = bytes;
    return a;
}

void *vm_bigmem_ahead_take(struct vm_bigmem_ahead *a)
{
    if (++a->takes == 2)
        a->started = ahead_start(a);
    if (!a->started)
        return vm_bigmem_alloc(a->bytes);
    pthread_mutex_lock(&a->lock);
    while (!a->ready && (a->want || a->busy))
        pthread_cond_wait(&a->cond, &a->lock);
    void *p = a->ready;                 /* NULL at the first take with a thread */
    a->ready = NULL;
    a->want = true;                     /* make the next one while this one fills */
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
    return p ? p : vm_bigmem_alloc(a->bytes);
}

void vm_bigmem_ahead_free(struct vm_bigmem_ahead *a)
{
    if (!a)
        return;
    if (a->started) {
        pthread_mutex_lock(&a->lock);
        a->stop = true;
        pthread_cond_broadcast(&a->cond);
        pthread_mutex_unlock(&a->lock);
        pthread_join(a->thread, NULL);
        vm_bigmem_free(a->ready, a->bytes);
        pthread_cond_destroy(&a->cond);
        pthread_mutex_destroy(&a->lock);
    }
    free(a);
}

#else

struct vm_bigmem_ahead { size_t bytes; };

struct vm_bigmem_ahead *vm_bigmem_ahead_new(size_t bytes)
{
    struct vm_bigmem_ahead *a = calloc(1, sizeof *a);
    if (a)
        a->bytes = bytes;
    return a;
}

void *vm_bigmem_ahead_take(struct vm_bigmem_ahead *a)
{
    return vm_bigmem_alloc(a->bytes);
}

void vm_bigmem_ahead_free(struct vm_bigmem_ahead *a)
{
    free(a);
}

#endif
