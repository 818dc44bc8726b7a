/*
 * sim_mem.h - the guest memory model: guest-physical pages as lines of
 * per-page bits, a guest page table (GVA page -> GPA page) built by a
 * guest allocator model, and content as 64-bit fingerprints.  Implements
 * port_mem for the mechanisms.
 *
 * Page state: every 64 consecutive pages share one 64-byte line (one
 * cache line) holding their bits - present, trace-write, trace-read,
 * accessed, dirty, checker-saved, own-content - and a pointer to the
 * fingerprints of those of them that have content of their own.  A guest
 * access reads and writes one line, whatever bits it needs (flat bitmaps
 * would cost a cache miss each on a large guest).  So the model holds 1
 * byte per guest page plus 8 bytes (and a little slack) per page with
 * content of its own, plus a page-table entry (4 bytes) for each page a
 * trace maps.  Each guest process (a trace replayed by a vCPU) has its
 * own page table; each is two-level (18 + 18 bits of a 36-bit GVA page
 * number), leaves allocated on first touch; the allocator hands out GPA
 * frames from a free list that is in order on a fresh boot and shuffled
 * in 2 MiB chunks for an aged guest (vm.fragmentation = fraction of the
 * list shuffled): each whole 2 MiB chunk is aged with probability
 * `fragmentation` (seeded); the aged chunks are handed out in a seeded
 * random order among themselves, and the 512 pages of an aged chunk in a
 * seeded scrambled order.  The list is computed chunk by chunk (4 bytes
 * per chunk), never stored per page.  There is no free(): a guest frame,
 * once mapped, stays mapped.
 *
 * Content: a page's content class (zero, text, code, random) is fixed per
 * 2 MiB region, drawn with the vm.content fractions.  Every page of a
 * zero-class region starts as a zero page (VM_FP_ZERO), every other page
 * at vm_fp_page(seed, gpa, 0): its base content, computed when asked,
 * never stored.  A page gets content of its own (stored, 8 bytes) when
 * the guest writes it or a restore installs it: each guest write gives a
 * page a new fingerprint from a global write sequence (never VM_FP_ZERO:
 * the model's guest does not write zeros).  compress_size() sums zstd
 * sizes measured on real sample pages of each region's class
 * (sim_content.h).
 *
 * Checker: sim_mem_checker_arm() at a reference instant (the moment a
 * snapshot of memory must hold); from then on the first write to each
 * page marks it checker-saved and, when its old content was its own (not
 * its base content, which can be computed again), logs that content, so
 * sim_mem_instant_fp() returns the content every page had at the instant
 * without copying all of memory.  The log costs 16 bytes per page that
 * had content of its own at the instant and was written (or installed)
 * while armed; it is sorted once on the first query.
 *
 * port_mem.write (install) sets fingerprints only: present, dirty and
 * accessed bits are the caller's (set_present); an armed checker logs the
 * old content as for a guest write.
 *
 * Restore check: sim_mem_make_absent() drops all content of pages' own
 * and makes the base content of every page the poison fingerprint
 * SIM_MEM_POISON_FP, so a page made present without an install still
 * holds it.  With an expected content (the image), every page is compared
 * with it once, whatever made it present: at the guest's first access
 * after make_absent (before a write changes it; an access to a page still
 * absent, let through by a buggy fault handler, compares the poison), or,
 * for present pages the guest never touched, in sim_mem_restore_finish().
 * An install over a page already compared is compared too (it changes
 * what the guest sees next).  restore_checked counts pages compared,
 * restore_mismatch the contents that differed.
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
 * state is 2 GiB of lines plus 8 bytes per page the guest writes. */
#define SIM_MEM_MAX_BYTES (UINT64_C(1) << 43)
/* Guest-virtual page numbers the guest page table maps: below 2^36
 * (two 18-bit levels, a 48-bit address space). */
#define SIM_MEM_GVA_PAGE_LIMIT (UINT64_C(1) << 36)

/* What a page made absent holds until an install writes it: not a
 * content any page can have (vm_fp_page values are 64-bit hashes; a
 * collision has probability 2^-64 per page), and not 0 ("no data"). */
#define SIM_MEM_POISON_FP UINT64_C(0x4e4f53494f50ffff)

/* The bits of a line: word i of a line holds bit i of its 64 pages. */
enum sim_mem_bit {
    SIM_MEM_PRESENT = 0,
    SIM_MEM_TRACE_W,                 /* writes exit to the fault handler */
    SIM_MEM_TRACE_R,                 /* reads exit too */
    SIM_MEM_ACCESSED,
    SIM_MEM_DIRTY,
    SIM_MEM_CK_SAVED,                /* checker: first write since the instant seen */
    SIM_MEM_OWN,                     /* content of its own in fps[] */
    SIM_MEM_NR_BITS
};

/* 64 pages: line k holds pages 64k .. 64k+63, page p's bit is 1 << (p % 64). */
struct sim_mem_line {
    uint64_t w[SIM_MEM_NR_BITS];
    uint64_t *fps;                   /* popcount(w[SIM_MEM_OWN]) fingerprints in
                                        page order; storage is sim_mem's own */
};

struct sim_mem_log { uint64_t page, fp; };
struct sim_mem_fpool;                /* storage of own contents (sim_mem_content.c) */

struct sim_mem {
    struct port_mem base;            /* first: a sim_mem is a port_mem */
    uint64_t nr_pages;
    uint64_t seed;
    struct sim_mem_line *lines;      /* ceil(nr_pages / 64), 64-byte aligned */
    uint64_t nr_lines;
    struct sim_mem_fpool *fpool;
    bool base_poison;                /* base content is the poison (after make_absent) */
    uint64_t nr_own;                 /* pages with content of their own */
    uint64_t nr_lost_writes;         /* contents not stored for lack of memory */
    uint64_t write_seq;              /* global write counter (new contents) */
    uint64_t nr_traced;              /* pages with trace_w set (fast path skip) */
    bool all_present;                /* fast path: no absent page */
    uint64_t nr_present;             /* pages with the present bit (exact) */
    /* checker */
    bool ck_armed;
    bool ck_lost;                    /* a log entry could not be stored */
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

/* Bit `bit` (enum sim_mem_bit) of page p. */
static inline bool sim_mem_test(const struct sim_mem *m, enum sim_mem_bit bit, uint64_t p)
{
    return (m->lines[p >> 6].w[bit] >> (p & 63)) & 1;
}

/* Would this access exit to the world?  Does not change state. */
static inline int sim_mem_check(const struct sim_mem *m, uint64_t gpa, bool is_write)
{
    const struct sim_mem_line *l = &m->lines[gpa >> 6];
    uint64_t bit = 1ull << (gpa & 63);
    if (!m->all_present && !(l->w[SIM_MEM_PRESENT] & bit))
        return SIM_MEM_FAULT_ABSENT;
    if (m->nr_traced &&
        ((l->w[SIM_MEM_TRACE_R] & bit) || (is_write && (l->w[SIM_MEM_TRACE_W] & bit))))
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
    m->lines[gpa >> 6].w[SIM_MEM_ACCESSED] |= 1ull << (gpa & 63);
    if (is_write)
        sim_mem_write_page(m, gpa);
}

/* Current content of page p (its own, else its base content). */
uint64_t sim_mem_fp(const struct sim_mem *m, uint64_t p);

/* Pages present and not set in `exclude` (nr_pages bits; NULL: none). */
uint64_t sim_mem_count_present(const struct sim_mem *m, const uint64_t *exclude);

/* Mark every page not present and give it the poison fingerprint (a VM
 * about to be restored; the checker must be disarmed): contents of the
 * pages' own are dropped.  With expect
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
 * since); 0 ("no data", never a real fingerprint) for every page written
 * since once a log entry could not be stored for lack of memory, so the
 * image check fails. */
uint64_t sim_mem_instant_fp(struct sim_mem *m, uint64_t page);
/* The same for pages [first, first+n) into fps[0..n): a line is looked up
 * once for all of its pages and the log searched once per call, so a
 * check of all memory takes one pass over the lines. */
void sim_mem_instant_range(struct sim_mem *m, uint64_t first, uint64_t n, uint64_t *fps);
/* The same for pages[0..n) (any pages, best in runs of consecutive
 * ones): the lines of all of them are fetched at once, then each run is
 * answered as a range. */
void sim_mem_instant_pages(struct sim_mem *m, const uint64_t *pages, uint64_t n, uint64_t *fps);
/* Sort the log now (queries sort it at their first call otherwise):
 * until the memory changes again, the queries above then only read, and
 * may run on several threads at once. */
void sim_mem_checker_sort(struct sim_mem *m);

/* Content class of a page (enum sim_content_class). */
int sim_mem_class(const struct sim_mem *m, uint64_t page);

/* Simulator bytes the model holds (for the memory report). */
size_t sim_mem_bytes(const struct sim_mem *m);

#endif
