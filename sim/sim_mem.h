/*
 * sim_mem.h - the guest memory model: guest-physical pages as flat arrays
 * and bitmaps, a guest page table (GVA page -> GPA page) built by a guest
 * allocator model, and content as 64-bit fingerprints.  Implements
 * port_mem for the mechanisms.
 *
 * State per guest page (<= 16 bytes): fingerprint (8), page-table entry
 * (4, only for pages a trace maps), and bits: present, dirty, accessed,
 * trace-write, trace-read, checker-saved.  Each guest process (a trace
 * replayed by a vCPU) has its own page table; each is two-level
 * (18 + 18 bits of a 36-bit GVA page number), leaves allocated on first
 * touch; the allocator hands out GPA frames from a free list that is in
 * order on a fresh boot and shuffled in 2 MiB chunks for an aged guest
 * (vm.fragmentation = fraction of the list shuffled): each whole 2 MiB
 * chunk is aged with probability `fragmentation` (seeded); the aged
 * chunks are handed out in a seeded random order among themselves, and
 * the 512 pages of an aged chunk in a seeded scrambled order.  The list
 * is computed chunk by chunk (4 bytes per chunk), never stored per page.
 * There is no free(): a guest frame, once mapped, stays mapped.
 *
 * Content: a page's content class (zero, text, code, random) is fixed per
 * 2 MiB region, drawn with the vm.content fractions.  Every page of a
 * zero-class region starts as a zero page (VM_FP_ZERO), every other page
 * at vm_fp_page(seed, gpa, 0); each guest write gives a page a new
 * fingerprint from a global write sequence (never VM_FP_ZERO: the model's
 * guest does not write zeros).  compress_size() sums zstd sizes measured
 * on real sample pages of each region's class (sim_content.h).
 *
 * Checker: sim_mem_checker_arm() at a reference instant (the moment a
 * snapshot of memory must hold); from then on the first write to each
 * page logs its old fingerprint, so sim_mem_instant_fp() returns the
 * content every page had at the instant without copying all of memory.  The log costs 16 bytes per page written
 * (or installed) while armed; it is sorted once on the first query.
 *
 * port_mem.write (install) sets fingerprints only: present, dirty and
 * accessed bits are the caller's (set_present); an armed checker logs the
 * old content as for a guest write.
 *
 * Restore check: sim_mem_make_absent() gives every page the poison
 * fingerprint SIM_MEM_POISON_FP, so a page made present without an
 * install still holds it.  With an expected content (the image), every
 * page is compared with it once, whatever made it present: at the guest's
 * first access after make_absent (before a write changes it; an access to
 * a page still absent, let through by a buggy fault handler, compares the
 * poison), or, for present pages the guest never touched, in
 * sim_mem_restore_finish().  An install over a page already compared is
 * compared too (it changes what the guest sees next).  restore_checked
 * counts pages compared, restore_mismatch the contents that differed.
 */
#ifndef SIM_MEM_H
#define SIM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/vm_bitmap.h"
#include "base/vm_err.h"
#include "ports/port_mem.h"
#include "sim_exp.h"

/* The largest guest the model takes: 2^31 pages (8 TiB).  Page numbers
 * and page-table entries are 32-bit, and at this size the model's own
 * state is about 20 GiB (9 bytes per page plus the checker's log). */
#define SIM_MEM_MAX_BYTES (UINT64_C(1) << 43)
/* Guest-virtual page numbers the guest page table maps: below 2^36
 * (two 18-bit levels, a 48-bit address space). */
#define SIM_MEM_GVA_PAGE_LIMIT (UINT64_C(1) << 36)

/* What a page made absent holds until an install writes it: not a
 * content any page can have (vm_fp_page values are 64-bit hashes; a
 * collision has probability 2^-64 per page), and not 0 ("no data"). */
#define SIM_MEM_POISON_FP UINT64_C(0x4e4f53494f50ffff)

struct sim_mem_log { uint64_t page, fp; };

struct sim_mem {
    struct port_mem base;            /* first: a sim_mem is a port_mem */
    uint64_t nr_pages;
    uint64_t seed;
    uint64_t *fp;                    /* content per page */
    uint64_t *present;               /* bitmaps of nr_pages bits */
    uint64_t *dirty;
    uint64_t *accessed;
    uint64_t *trace_w;               /* writes exit to the fault handler */
    uint64_t *trace_r;               /* reads exit too */
    uint64_t write_seq;              /* global write counter (new contents) */
    uint64_t nr_traced;              /* pages with trace_w set (fast path skip) */
    bool all_present;                /* fast path: no absent page */
    uint64_t nr_present;             /* pages with the present bit (exact) */
    /* checker */
    bool ck_armed;
    uint64_t *ck_saved;              /* bitmap: old content logged */
    struct sim_mem_log *ck_log;
    size_t ck_len, ck_cap;
    bool ck_sorted;
    /* install check: expected content per page (NULL = off) */
    const uint64_t *expect_fp;
    uint64_t *rs_checked;            /* bitmap: page compared already */
    uint64_t restore_checked;        /* pages compared with expect_fp */
    uint64_t restore_mismatch;       /* contents found different from it */
    /* content classes: one byte per 2 MiB region */
    uint8_t *region_class;
    /* page table and allocator (private to sim_mem.c) */
    struct sim_mem_pt *pt;
    uint64_t mapped_pages;           /* GVA pages mapped so far */
};

enum sim_mem_fault { SIM_MEM_OK = 0, SIM_MEM_FAULT_TRACE = 1, SIM_MEM_FAULT_ABSENT = 2 };

/* A VM of vm->memory_bytes, every page present, untraced, fresh content.
 * Loads the content samples (sim_content_init).  VM_EINVAL (size not a
 * positive multiple of 4 KiB, bad fractions), VM_ERANGE (more than
 * SIM_MEM_MAX_BYTES), VM_ENOMEM, or the sample loader's VM_ENOENT / VM_EIO. */
int sim_mem_new(const struct sim_exp_vm *vm, uint64_t seed, struct sim_mem **out,
                struct vm_diag *d);
void sim_mem_free(struct sim_mem *m);

/* Guest processes with their own page tables (address spaces, ASIDs
 * 0..n-1) drawing frames from the one allocator; a new guest has one.
 * Grows only; VM_EINVAL for n outside 1..SIM_MEM_MAX_AS, VM_ENOMEM. */
#define SIM_MEM_MAX_AS 1024u
int sim_mem_set_address_spaces(struct sim_mem *m, uint32_t n);

/* GVA page -> GPA page in address space asid, allocating a frame on first
 * touch; VM_ENOSPC when the guest has no free frame left, VM_ERANGE for a
 * GVA page number of 36 bits or more, VM_ENOMEM when a page-table leaf
 * cannot be allocated, VM_EINVAL for an asid not set up. */
int sim_mem_translate_as(struct sim_mem *m, uint32_t asid, uint64_t gva_page,
                         uint64_t *gpa_page);
static inline int sim_mem_translate(struct sim_mem *m, uint64_t gva_page, uint64_t *gpa_page)
{
    return sim_mem_translate_as(m, 0, gva_page, gpa_page);
}

/* Would this access exit to the world?  Does not change state. */
static inline int sim_mem_check(const struct sim_mem *m, uint64_t gpa, bool is_write)
{
    if (!m->all_present && !vm_bitmap_test(m->present, gpa))
        return SIM_MEM_FAULT_ABSENT;
    if (m->nr_traced &&
        (vm_bitmap_test(m->trace_r, gpa) || (is_write && vm_bitmap_test(m->trace_w, gpa))))
        return SIM_MEM_FAULT_TRACE;
    return SIM_MEM_OK;
}

/* Apply a guest access that sim_mem_check() allowed: accessed bit; for a
 * write also the dirty bit and a new fingerprint (logged for the checker).
 * During a restore check, the page's first access compares its content
 * with the expected one first. */
void sim_mem_write_page(struct sim_mem *m, uint64_t gpa);
void sim_mem_restore_check_page(struct sim_mem *m, uint64_t gpa);
static inline void sim_mem_apply(struct sim_mem *m, uint64_t gpa, bool is_write)
{
    if (m->expect_fp && !vm_bitmap_test(m->rs_checked, gpa))
        sim_mem_restore_check_page(m, gpa);
    vm_bitmap_set(m->accessed, gpa);
    if (is_write)
        sim_mem_write_page(m, gpa);
}

/* Mark every page not present and give it the poison fingerprint (a VM
 * about to be restored; the checker must be disarmed).  With expect
 * non-NULL (nr_pages fingerprints, kept until sim_mem_restore_finish),
 * start the restore check and zero its counters.  0, or VM_ENOMEM (the
 * pages are absent, the check is off). */
int sim_mem_make_absent(struct sim_mem *m, const uint64_t *expect);
/* End the restore check: compare every present page not compared yet,
 * then stop comparing (expect is no longer used).  The counters stay. */
void sim_mem_restore_finish(struct sim_mem *m);

/* Arm at the reference instant (re-arming starts a new instant). */
void sim_mem_checker_arm(struct sim_mem *m);
/* Stop logging and drop the log; sim_mem_instant_fp then returns current content. */
void sim_mem_checker_disarm(struct sim_mem *m);
/* Content of page at the armed instant (current content if never written
 * since); 0 ("no data", never a real fingerprint) if its old content
 * could not be logged for lack of memory, so the image check fails. */
uint64_t sim_mem_instant_fp(struct sim_mem *m, uint64_t page);

/* Content class of a page (enum sim_content_class). */
int sim_mem_class(const struct sim_mem *m, uint64_t page);

/* Simulator bytes held per guest page (for the memory report). */
size_t sim_mem_bytes(const struct sim_mem *m);

#endif
