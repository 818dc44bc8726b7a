/*
 * fake_mem.h - guest memory port for unit tests: flat arrays, no sharing.
 *
 * Page p starts present with content vm_fp_page(seed, p, 0), not dirty,
 * not accessed, not traced.  The test plays the vCPU with
 * fake_mem_guest_access(): it refuses (VM_EBUSY) an access that the real
 * hardware would trap - a traced page (a write to a WRITE- or RW-traced
 * page, a read to an RW-traced page) or a non-present page - so the test
 * must call the mechanism's fault handler first and retry; otherwise it
 * applies the access: the accessed bit is set, and a write also sets the
 * dirty bit and gives the page a new content vm_fp_page(seed, p, ++version).
 *
 * fake_mem_set_zero() makes pages zero pages (content VM_FP_ZERO), as a
 * guest writing zeros to them would: dirty and accessed bits are set, but
 * traces are not honoured (call it before a save starts, or on pages the
 * save no longer traces).  A later guest write gives a page an ordinary
 * content again.
 *
 * compress_size(pages, n) is deterministic from the pages' current
 * fingerprints: sum over the pages of fake_mem_page_zbytes(fp) =
 * 1024 + fp % 2048 bytes, so compression tests can compute expected sizes.
 *
 * Counters (nr_set_trace_calls ...) let tests check that a mechanism
 * works on ranges, not page by page.
 */
#ifndef FAKE_MEM_H
#define FAKE_MEM_H

#include <stdbool.h>
#include <stdint.h>

#include "ports/port_mem.h"

struct fake_mem {
    struct port_mem base;         /* first: &m->base is the port */
    uint64_t nr_pages;
    uint64_t seed;
    uint64_t *fp;                 /* current content of each page */
    uint32_t *version;            /* writes since boot, per page */
    uint8_t *trace;               /* enum port_mem_trace, per page */
    uint64_t *present;            /* bitmaps of nr_pages bits */
    uint64_t *dirty;
    uint64_t *accessed;
    /* counters */
    uint64_t nr_reads;            /* guest reads applied */
    uint64_t nr_writes;           /* guest writes applied */
    uint64_t nr_refused;          /* guest accesses refused (VM_EBUSY) */
    uint64_t nr_set_trace_calls;
    uint64_t nr_read_calls;       /* port read() calls */
    uint64_t pages_read;          /* pages copied out through read() */
};

/* nr_pages pages of content vm_fp_page(seed, page, 0); NULL on ENOMEM. */
struct fake_mem *fake_mem_new(uint64_t nr_pages, uint64_t seed);
void fake_mem_free(struct fake_mem *m);

/* The test's vCPU: 0 = applied; VM_EBUSY = would trap (traced for this
 * access, or not present): call the mechanism's fault handler and retry;
 * VM_EINVAL = page out of range. */
int fake_mem_guest_access(struct fake_mem *m, uint64_t page, bool is_write);

/* Pages [first, first + n) become zero pages (see above). */
void fake_mem_set_zero(struct fake_mem *m, uint64_t first, uint64_t n);

/* Current trace mode of a page. */
enum port_mem_trace fake_mem_trace_of(const struct fake_mem *m, uint64_t page);
/* Pages whose trace mode is not NONE. */
uint64_t fake_mem_nr_traced(const struct fake_mem *m);

/* Compressed size fake_mem charges one page of content fp. */
uint64_t fake_mem_page_zbytes(uint64_t fp);

#endif
