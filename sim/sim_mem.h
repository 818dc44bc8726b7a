/*
 * sim_mem.h - the guest memory model: guest-physical pages as lines of
 * per-page bits, the guest's x86-64 page tables (GVA page -> GPA page)
 * per guest process over its buddy allocator, and content as 64-bit
 * fingerprints.  Implements
 * port_mem for the mechanisms.
 *
 * Page state: every 64 consecutive pages share one 64-byte line (one
 * cache line) holding their bits - present, trace-write, trace-read,
 * accessed, dirty, checker-saved, own-content - and a pointer to the
 * fingerprints of those of them that have content of their own.  A guest
 * access reads and writes one line, whatever bits it needs (flat bitmaps
 * would cost a cache miss each on a large guest).  So the model holds 1
 * byte per guest page plus 8 bytes (and a little slack) per page with
 * content of its own.
 *
 * Guest page tables: the guest is a struct guest_vm (models/guest): real
 * x86-64 page tables, 4 levels or 5 (vm.paging_levels), one set per guest
 * process (address space, ASID), every table page a guest frame taken
 * from the guest's buddy allocator, aged by vm.aging (the fraction of
 * guest memory the guest's page cache holds at the start: a fresh guest
 * maps a GVA run to a GPA run, an aged one scatters it; sim_mem_frag()
 * measures it).  A trace page is a guest-virtual address >> 12; its first
 * touch faults it in as the guest kernel does (guest_as_fault_in: a frame
 * from the allocator, tables made on demand).  Canonical upper-half
 * addresses map (the vsyscall page); non-canonical ones are refused
 * (VM_EINVAL; a config's traces are checked before a run starts).  There
 * is no free(): a guest frame, once mapped, stays mapped.  Simulator
 * memory for the tables is proportional to the entries present
 * (guest_pt.h).  The replay's software TLB (sim_mem_translate_as) stands
 * in for the CPU's: without table reads it changes no result, only the
 * simulator's speed.
 *
 * Table reads (sim_mem_set_table_reads(), off by default): the guest's
 * table frames are guest memory like any page, so a walk reads them.  On
 * a software-TLB miss, translate answers SIM_MEM_XLAT_WALK instead of
 * walking: the caller takes the frames of the walk (sim_mem_walk_tables),
 * checks and applies each as a read (sim_mem_check / sim_mem_apply: an
 * absent or traced one is an exit on that frame, as the EPT violation of
 * a paging-structure access; the read sets its accessed bit, which the
 * host's clock ages, and the restore check compares its content), then
 * translates with sim_mem_translate_fill().  A TLB hit reads no table, as
 * on the CPU: whoever makes a table frame absent must flush the TLBs
 * (sim_mem_tlb_flush: KVM zaps the EPT entry and flushes the guest's
 * TLBs with INVEPT, which drops every cached translation of the VM).
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
#include "guest/guest_pt.h"
#include "ports/port_mem.h"
#include "sim_access.h"
#include "sim_exp.h"

/* The largest guest the model takes: 2^31 pages (8 TiB).  Page numbers
 * are 32-bit, and at this size the model's own state is 2 GiB of lines
 * plus 8 bytes per page the guest writes. */
#define SIM_MEM_MAX_BYTES (UINT64_C(1) << 43)
/* Entries of the replay's software TLB per address space (a power of 2). */
#define SIM_MEM_TLB_ENTRIES 512u

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

/* A software TLB entry: gva_page -> gpa_page.  flags: SIM_MEM_TLB_VALID,
 * SIM_MEM_TLB_DIRTY (the leaf's D bit is set: a write may use it). */
struct sim_mem_tlbe {
    uint64_t gva_page;
    uint32_t gpa_page;
    uint32_t flags;
};
enum { SIM_MEM_TLB_VALID = 1, SIM_MEM_TLB_DIRTY = 2 };

/* One guest process: its page tables and the vCPU's TLB for it. */
struct sim_mem_as {
    struct guest_as *as;
    struct sim_mem_tlbe tlb[SIM_MEM_TLB_ENTRIES];
};
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
    /* the guest: page tables and its allocator */
    struct guest_vm *guest;
    const uint64_t *pt_gen;          /* guest_vm_gen(guest): kept tables' generation */
    struct sim_mem_as *as;           /* nr_as address spaces */
    uint32_t nr_as;
    uint64_t mapped_pages;           /* GVA pages faulted in so far (all address spaces) */
    bool table_reads;                /* walks read the table frames (sim_mem_set_table_reads) */
};

enum sim_mem_fault { SIM_MEM_OK = 0, SIM_MEM_FAULT_TRACE = 1, SIM_MEM_FAULT_ABSENT = 2 };

/* A VM of vm->memory_bytes, every page present, untraced, fresh content,
 * one address space.  Loads the content samples (sim_content_init).
 * VM_EINVAL (size not a positive multiple of 4 KiB, bad fractions, aging
 * outside 0..1, paging levels not 4 or 5), VM_ERANGE (more than
 * SIM_MEM_MAX_BYTES), VM_ENOMEM, or the sample loader's VM_ENOENT / VM_EIO. */
int sim_mem_new(const struct sim_exp_vm *vm, uint64_t seed, struct sim_mem **out,
                struct vm_diag *d);
void sim_mem_free(struct sim_mem *m);

/* Guest processes with their own page tables (address spaces, ASIDs
 * 0..n-1) drawing frames from the one allocator; a new guest has one.
 * Grows only; VM_EINVAL for n outside 1..SIM_MEM_MAX_AS, VM_ENOSPC (no
 * guest frame for a top-level table), VM_ENOMEM. */
#define SIM_MEM_MAX_AS 1024u
int sim_mem_set_address_spaces(struct sim_mem *m, uint32_t n);

/* The guest (owned by m): its allocator and every address space's tables,
 * for mechanisms whose policies walk them.  Never NULL. */
struct guest_vm *sim_mem_guest(struct sim_mem *m);
/* Address space asid (owned by m), or NULL if asid is not set up.  A
 * caller that changes its tables (unmaps, clears A/D bits) must call
 * sim_mem_tlb_flush() after, as a guest kernel flushes the TLB. */
struct guest_as *sim_mem_as(struct sim_mem *m, uint32_t asid);
/* Drop asid's software TLB entries (every address space if asid is
 * UINT32_MAX). */
void sim_mem_tlb_flush(struct sim_mem *m, uint32_t asid);
/* Measured fragmentation: guest_pt_frag() summed over all address spaces
 * (f is overwritten). */
void sim_mem_frag(const struct sim_mem *m, struct guest_frag *f);

/*
 * The guest touches GVA page gva_page (an address >> 12, below 2^52) in
 * address space asid: its MMU translates it (A bits, D for a write), and
 * a page nothing maps is faulted in (guest_as_fault_in: a frame from the
 * allocator).  0 and *gpa_page; VM_EINVAL (asid not set up, or the
 * address not canonical for the paging mode), VM_ENOSPC (the guest has no
 * frame left), VM_ENOMEM.  A hit in the software TLB skips the walk:
 * results are the same (a write through an entry without D walks again).
 */
int sim_mem_translate_slow(struct sim_mem *m, uint32_t asid, uint64_t gva_page, bool is_write,
                           uint64_t *gpa_page);
/*
 * With table reads on, translate (slow or not) answers SIM_MEM_XLAT_WALK
 * (> 0) on a TLB miss and does nothing else: the caller reads the walk's
 * table frames (sim_mem_walk_tables), then calls sim_mem_translate_fill(),
 * which is the translation above (the guest's walk, the fault-in, the TLB
 * fill) whatever the mode.
 */
#define SIM_MEM_XLAT_WALK 1
int sim_mem_translate_fill(struct sim_mem *m, uint32_t asid, uint64_t gva_page, bool is_write,
                           uint64_t *gpa_page);
/* Make walks read table frames (on) or not (off, the default; the TLBs
 * are flushed either way). */
void sim_mem_set_table_reads(struct sim_mem *m, bool on);
/* The guest frames of the tables the walk of GVA page gva_page in asid
 * reads, top first, into gfns (room for GUEST_MAX_LEVELS): the root,
 * then each table an entry names, down to the leaf's table or to the
 * first absent entry.  Returns how many (0: asid not set up, or not
 * canonical). */
unsigned sim_mem_walk_tables(const struct sim_mem *m, uint32_t asid, uint64_t gva_page,
                             uint64_t *gfns);
/* The software TLB's answer for gva_page: true and *gpa_page on a hit
 * (for a write, only through an entry whose D bit is set). */
static inline bool sim_mem_tlb_hit(const struct sim_mem *m, uint32_t asid, uint64_t gva_page,
                                   bool is_write, uint64_t *gpa_page)
{
    if (asid >= m->nr_as)
        return false;
    const struct sim_mem_tlbe *e = &m->as[asid].tlb[gva_page & (SIM_MEM_TLB_ENTRIES - 1)];
    uint32_t need = is_write ? SIM_MEM_TLB_DIRTY : SIM_MEM_TLB_VALID;
    if (e->gva_page != gva_page || !(e->flags & need))
        return false;
    *gpa_page = e->gpa_page;
    return true;
}
static inline int sim_mem_translate_as(struct sim_mem *m, uint32_t asid, uint64_t gva_page,
                                       bool is_write, uint64_t *gpa_page)
{
    if (sim_mem_tlb_hit(m, asid, gva_page, is_write, gpa_page))
        return 0;
    return sim_mem_translate_slow(m, asid, gva_page, is_write, gpa_page);
}
/*
 * Replay-loop prefetch for records of guest-virtual pages, a simulator
 * speed-up.  On a large guest a record's page-table entries and page line
 * are cache misses (hundreds of ns each on a virtualized host); taken one
 * record at a time they cost one miss after another.  A replay loop calls
 * sim_mem_prefetch_replay() before each record i of recs[0..n): every
 * SIM_MEM_PF_GROUP records it asks the CPU for one step of each record of
 * a group, pipelined over the groups ahead, so that a step's misses are
 * in flight together and its loads hit what the step before fetched:
 *   group g+4  the paging-structure cache entries of the records' regions
 *              (guest_pt_prefetch_pdc)
 *   group g+3  their PTEs, keeping each record's last-level table
 *              (struct guest_leaf; on a cache miss, from a walk)
 *   group g+2  the page lines (each record's PTE read through that table,
 *              without side effects: it is in by then)
 *   group g+1  for the writes, the line's array of own contents
 * and the access then takes its PTE through the table kept for it
 * (sim_mem_translate_replay(): one load instead of a walk, as a CPU's
 * paging-structure cache does).  Only the records the software TLB missed
 * at the first step take the later ones (a local trace, whose pages the
 * TLB mostly holds, costs one TLB lookup per record).  Nothing happens for
 * an asid not set up.  *pf is the loop's state, zeroed at first, for
 * one address space at a time (a call for another asid drops the tables
 * kept for the one before): pf->next = 0 for a new buffer of records,
 * whose first call is then at i = 0 and also takes the steps the groups
 * before it would have taken (later calls come every
 * SIM_MEM_PF_GROUP records; calls at other records only prefetch less
 * well).  Results are the same with or without it: the access through a
 * kept table changes what guest_as_fault_in() would (guest_pt.h).  (A
 * replay of guest-physical pages needs no walk: a line prefetched a few
 * records ahead, one record at a time, serves it better than groups,
 * measured on a 1 TiB save's replay.)
 */
#define SIM_MEM_PF_GROUP 32u              /* at most 32: a group's TLB misses are a mask */
_Static_assert(SIM_MEM_PF_GROUP <= 32, "a group's TLB misses are a 32-bit mask");
struct sim_mem_pf_leaf {                  /* a record's last-level table, for its access */
    uint64_t page;                        /* the record's guest-virtual page */
    struct guest_leaf ref;                /* ref.pt 0: none kept */
};
struct sim_mem_pf {
    size_t next;                          /* record at which the next steps are taken */
    uint32_t asid;                        /* the address space of the kept tables */
    uint32_t miss[4];                     /* the TLB misses of the groups in flight */
    uint32_t gpa[2][SIM_MEM_PF_GROUP];    /* pages the line step found (UINT32_MAX:
                                           * none); a guest has < 2^32 pages */
    struct sim_mem_pf_leaf leaf[4][SIM_MEM_PF_GROUP];   /* from the PTE step to the access */
};
void sim_mem_prefetch_groups(const struct sim_mem *m, uint32_t asid,
                             const struct sim_access *recs, size_t n, size_t i,
                             struct sim_mem_pf *pf);
static inline void sim_mem_prefetch_replay(const struct sim_mem *m, uint32_t asid,
                                           const struct sim_access *recs, size_t n, size_t i,
                                           struct sim_mem_pf *pf)
{
    if (i >= pf->next) {
        sim_mem_prefetch_groups(m, asid, recs, n, i, pf);
        pf->next = i + SIM_MEM_PF_GROUP;
    }
}
/*
 * sim_mem_translate_as() for record i of a replay loop that calls
 * sim_mem_prefetch_replay(): on a TLB miss the access goes through the
 * last-level table kept for record i (if any, current, and for this
 * page), else through sim_mem_translate_slow().  Same results and errors.
 * With table reads on (m->table_reads) no kept table is used, since it
 * would skip the walk's table frames: a miss answers SIM_MEM_XLAT_WALK,
 * as sim_mem_translate_as() does.
 */
int sim_mem_translate_kept(struct sim_mem *m, uint32_t asid, uint64_t gva_page, bool is_write,
                           uint64_t *gpa_page, const struct sim_mem_pf *pf, size_t i);
/* After a walk or an access through a kept table (A set, and D for a
 * write): asid's TLB entry for gva_page; a later write may use it only
 * once D is set. */
static inline void sim_mem_tlb_fill(struct sim_mem *m, uint32_t asid, uint64_t gva_page,
                                    bool is_write, uint64_t gfn)
{
    struct sim_mem_tlbe *e = &m->as[asid].tlb[gva_page & (SIM_MEM_TLB_ENTRIES - 1)];
    uint32_t dirty = is_write ? SIM_MEM_TLB_DIRTY : 0;
    if (!(e->gva_page == gva_page && (e->flags & SIM_MEM_TLB_VALID)))
        e->flags = 0;
    e->gva_page = gva_page;
    e->gpa_page = (uint32_t)gfn;
    e->flags |= SIM_MEM_TLB_VALID | dirty;
}
/* Record i's slot of kept tables in *pf. */
static inline const struct sim_mem_pf_leaf *sim_mem_pf_kept(const struct sim_mem_pf *pf, size_t i)
{
    return &pf->leaf[(i / SIM_MEM_PF_GROUP) & 3][i % SIM_MEM_PF_GROUP];
}
/* That slot if it may serve record i's access to gva_page in asid: kept
 * for this page and process, table reads off; else NULL. */
static inline const struct sim_mem_pf_leaf *sim_mem_pf_kept_for(const struct sim_mem *m,
                                                                const struct sim_mem_pf *pf,
                                                                uint32_t asid,
                                                                uint64_t gva_page, size_t i)
{
    const struct sim_mem_pf_leaf *k = sim_mem_pf_kept(pf, i);
    return asid < m->nr_as && pf->asid == asid && k->page == gva_page && !m->table_reads ? k
                                                                                         : NULL;
}
static inline int sim_mem_translate_replay(struct sim_mem *m, uint32_t asid, uint64_t gva_page,
                                           bool is_write, uint64_t *gpa_page,
                                           const struct sim_mem_pf *pf, size_t i)
{
    if (sim_mem_tlb_hit(m, asid, gva_page, is_write, gpa_page))
        return 0;
    /* the common case inline: a current table in full form, a present PTE */
    const struct sim_mem_pf_leaf *k = sim_mem_pf_kept_for(m, pf, asid, gva_page, i);
    uint64_t *pte, gfn;
    if (k && (pte = guest_leaf_pte(&k->ref, gva_page << 12, *m->pt_gen)) != NULL &&
        guest_pte_access(pte, is_write, &gfn) && gfn < m->nr_pages) {
        sim_mem_tlb_fill(m, asid, gva_page, is_write, gfn);
        *gpa_page = gfn;
        return 0;
    }
    return sim_mem_translate_kept(m, asid, gva_page, is_write, gpa_page, pf, i);
}
/* asid's (set up) TLB entry for gva_page, or NULL. */
static inline const struct sim_mem_tlbe *sim_mem_tlb_holds(const struct sim_mem *m, uint32_t asid,
                                                           uint64_t gva_page)
{
    const struct sim_mem_tlbe *e = &m->as[asid].tlb[gva_page & (SIM_MEM_TLB_ENTRIES - 1)];
    return e->gva_page == gva_page && e->flags ? e : NULL;
}

/* A read by process 0 (tests). */
static inline int sim_mem_translate(struct sim_mem *m, uint64_t gva_page, uint64_t *gpa_page)
{
    return sim_mem_translate_as(m, 0, gva_page, false, gpa_page);
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

/* Read and clear page p's accessed bit; returns the value it had.  This
 * is how a host's reclaim ages a guest page (the EPT accessed bit, KVM's
 * kvm_age_gfn()): a host-memory model's clock evictor calls it through
 * sim_mem_young(), a referenced-bit callback that takes the sim_mem as
 * its data. */
static inline bool sim_mem_test_clear_accessed(struct sim_mem *m, uint64_t p)
{
    uint64_t *w = &m->lines[p >> 6].w[SIM_MEM_ACCESSED];
    uint64_t bit = 1ull << (p & 63);
    bool was = (*w & bit) != 0;
    *w &= ~bit;
    return was;
}
static inline bool sim_mem_young(void *mem, uint64_t p)
{
    return sim_mem_test_clear_accessed(mem, p);
}

/* Current content of page p (its own, else its base content). */
uint64_t sim_mem_fp(const struct sim_mem *m, uint64_t p);

/* Pages present and not set in `exclude` (nr_pages bits; NULL: none). */
uint64_t sim_mem_count_present(const struct sim_mem *m, const uint64_t *exclude);

/* Mark every page not present and give it the poison fingerprint (a VM
 * about to be restored; the checker must be disarmed): contents of the
 * pages' own are dropped, the TLBs flushed (a restored VM starts with
 * empty TLBs).  With expect
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
