/*
 * sim_calib_anon.c - the cost of a page fault the kernel handles with no
 * I/O (sim_calib.h: anon_fault_ns): the CPU path a host swap-in takes
 * once its read is done (do_swap_page with the page in the swap cache),
 * or the host side of an EPT violation on a page already in host memory
 * (KVM's hva_to_pfn -> get_user_pages, then the mapping).
 *
 * Method "anon-first-write": the first write to each 4 KiB page of a
 * fresh MAP_PRIVATE | MAP_ANONYMOUS mapping (no MAP_POPULATE;
 * MADV_NOHUGEPAGE, so that one fault maps one page, not a huge page or
 * an mTHP), one byte per page, in address order, in samples of `batch`
 * pages; each sample minus the same loop over the same, now faulted,
 * pages (the loop's own cost and its TLB misses): what is left is the
 * kernel's do_anonymous_page - the exception, the VMA lookup, a page
 * allocation, its memcg charge, the PTE, the LRU insertion, and the
 * return.  Each mapping is new (its first fault in each 2 MiB also
 * allocates the page table, as a first touch does); mappings are
 * unmapped untimed.
 *
 * Not measured: the zeroing a fresh anonymous page needs is in the
 * figure, though a swap-in fills its page from the device instead
 * (clear_page: one cold 4 KiB write, less than page_install_ns); the
 * swap-cache lookup and swap-entry bookkeeping of do_swap_page; the VM
 * exit and EPT update a hypervisor adds; faults of several threads at
 * once (mmap lock and LRU lock contention).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "base/vm_units.h"
#include "sim_calib.h"

#define WARMUP_SAMPLES 2                 /* timed but dropped: code and TLB warm-up */

/* Write one byte of each of n pages from p; the time in ns. */
static uint64_t touch(unsigned char *p, uint32_t n, unsigned char val)
{
    uint64_t t0 = sim_calib_now_ns();
    for (uint32_t i = 0; i < n; i++)
        *(volatile unsigned char *)(p + (size_t)i * VM_PAGE_SIZE) = val;
    return sim_calib_now_ns() - t0;
}

int sim_calib_anon_fault(uint32_t nr_pages, uint32_t batch, uint32_t max_samples,
                         struct sim_calib_fig *fig, struct vm_diag *d)
{
    memset(fig, 0, sizeof *fig);
    if (batch == 0 || max_samples == 0 || nr_pages < batch)
        return vm_diag_set(d, VM_EINVAL, "anonymous faults: expected at least one sample "
                           "and a mapping of at least one sample's pages, got %u samples of "
                           "%u pages in %u", max_samples, batch, nr_pages);
    uint32_t per_map = nr_pages / batch;        /* samples per mapping */
    size_t len = (size_t)per_map * batch * VM_PAGE_SIZE;
    uint32_t n = max_samples + WARMUP_SAMPLES;
    double *v = malloc(sizeof *v * n);
    if (!v)
        return vm_diag_set(d, VM_ENOMEM, "out of memory for %u samples", n);
    int rc = 0;
    for (uint32_t s = 0; s < n && rc == 0;) {
        unsigned char *base = mmap(NULL, len, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED) {
            rc = vm_diag_set(d, VM_ENOMEM, "anonymous faults: cannot map %zu bytes: %s", len,
                             strerror(errno));
            break;
        }
#ifdef MADV_NOHUGEPAGE
        (void)madvise(base, len, MADV_NOHUGEPAGE);  /* advice: 4 KiB faults if it can */
#endif
        for (uint32_t k = 0; k < per_map && s < n; k++, s++) {
            unsigned char *p = base + (size_t)k * batch * VM_PAGE_SIZE;
            uint64_t first = touch(p, batch, 1);
            uint64_t again = touch(p, batch, 2);
            v[s] = ((double)first - (double)again) / batch;
        }
        munmap(base, len);
    }
    if (rc == 0)
        sim_calib_fig_from(v + WARMUP_SAMPLES, n - WARMUP_SAMPLES, fig);
    free(v);
    return rc;
}
